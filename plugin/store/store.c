/*
 * store.c - LMDB environments (see store.h).
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "store.h"

#define STORE_MAPSIZE	((size_t) 1 << 34)	/* 16 GiB of address space, not of disk */
#define STORE_MAPSIZE_MAX ((size_t) 1 << 40)	/* growth stops here */
#define STORE_MAPSIZE_MIN ((size_t) 1 << 16)
#define STORE_MAXREADERS 1024
#define STORE_MAXDBS	32
#define STORE_RESIZE_WAIT 10			/* seconds a resize waits for readers */

struct store {
    MDB_env *env;
    char   *path;
    int     flags;
    size_t  max;			/* the map never grows past this */
    pthread_mutex_t lock;		/* guards what follows */
    pthread_cond_t idle;		/* active fell to 0, or a resize ended */
    size_t  mapsize;			/* as last set */
    unsigned active;			/* transactions open in this process */
    int     resizing;			/* a resize waits for, or holds, the map */
    int     want_grow;			/* full, but the thread could not grow it */
};

/*
 * What this thread holds, per store: a thread that holds a transaction
 * may begin another while a resize waits (or it would wait for itself),
 * and may not resize.
 */
#define STORE_MINE	8
static __thread struct {
    const STORE *st;
    unsigned n;
} store_mine[STORE_MINE];

static unsigned *mine(const STORE *st)
{
    static __thread unsigned spare;
    int     i, free_slot = -1;

    for (i = 0; i < STORE_MINE; i++) {
	if (store_mine[i].st == st)
	    return (&store_mine[i].n);
	if (free_slot < 0 && store_mine[i].n == 0)
	    free_slot = i;
    }
    if (free_slot < 0)
	return (&spare);		/* untracked: the resize wait is bounded */
    store_mine[free_slot].st = st;
    return (&store_mine[free_slot].n);
}

/* enter - one more transaction, unless a resize holds the map */
static void enter(STORE *st)
{
    unsigned *n = mine(st);

    pthread_mutex_lock(&st->lock);
    while (st->resizing && *n == 0)
	pthread_cond_wait(&st->idle, &st->lock);
    st->active++;
    pthread_mutex_unlock(&st->lock);
    ++*n;
}

static void leave(STORE *st)
{
    unsigned *n = mine(st);

    if (*n > 0)
	--*n;
    pthread_mutex_lock(&st->lock);
    if (--st->active == 0)
	pthread_cond_broadcast(&st->idle);
    pthread_mutex_unlock(&st->lock);
}

/* store_fail - describe an LMDB error about this store; returns its STORE_* code */
int     store_fail(STORE *st, int rc, const char *what, STRBUF *why)
{
    sb_printf(why, "%s: %s: %s", st->path, what, mdb_strerror(rc));
    return (rc == MDB_MAP_FULL ? STORE_MAP_FULL : STORE_ERROR);
}

/* env_size - a size from the environment (bytes, or with k, m, g); 0 when unset */
static int env_size(const char *name, size_t *size, STRBUF *why)
{
    const char *s = getenv(name);
    char   *end;
    unsigned long long n;

    *size = 0;
    if (s == NULL || *s == 0)
	return (0);
    n = strtoull(s, &end, 10);
    switch (*end) {
    case 'g': case 'G': n <<= 10;	/* FALLTHROUGH */
    case 'm': case 'M': n <<= 10;	/* FALLTHROUGH */
    case 'k': case 'K': n <<= 10; end++; break;
    }
    if (*end || n < STORE_MAPSIZE_MIN) {
	sb_printf(why, "%s=\"%s\": not a map size of at least %zu bytes", name, s,
		  STORE_MAPSIZE_MIN);
	return (-1);
    }
    *size = (size_t) (n + 4095) / 4096 * 4096;
    return (0);
}

/*
 * store_map_size - start from what the file already holds, never below the
 * default. A size a test sets (CRIER_MAP_SIZE) is taken as it is: LMDB
 * raises it to what the file holds, so the first write may find it full.
 */
static int store_map_size(STORE *st, size_t *size, STRBUF *why)
{
    struct stat sb;
    size_t  max;

    if (env_size("CRIER_MAP_SIZE", size, why) < 0 || env_size("CRIER_MAP_MAX", &max, why) < 0)
	return (-1);
    st->max = max ? max : STORE_MAPSIZE_MAX;
    if (*size == 0 && (*size = STORE_MAPSIZE) > 0 && stat(st->path, &sb) == 0)
	while (*size < (size_t) sb.st_size * 2)
	    *size *= 2;
    if (st->max < *size)
	st->max = *size;
    return (0);
}

/* env_mapsize - the map size LMDB uses (it rounds up to what the file holds) */
static size_t env_mapsize(STORE *st)
{
    MDB_envinfo info;

    mdb_env_info(st->env, &info);
    return (info.me_mapsize);
}

/* What as_owner() changed, for as_root() to put back. */
typedef struct owner_save {
    int     active;
    gid_t   egid;
    int     ngroups;
    gid_t  *groups;
} OWNER_SAVE;

/*
 * as_owner - root opening a store in a directory another user owns (as
 * crierctl run as root on crierd's state_dir) opens it as that user: LMDB
 * opens its two files by name and follows links, and that user could have
 * put one there to a file of root's, which root would then truncate. The
 * files it makes are that user's too, as crierd's own. Nothing to do for
 * anyone else. 0, or -1 with why.
 */
static int as_owner(const char *path, OWNER_SAVE *save, STRBUF *why)
{
    char   *copy = xstrdup(path);
    struct stat st;
    int     rc = stat(dirname(copy), &st);

    free(copy);
    memset(save, 0, sizeof(*save));
    if (geteuid() != 0 || rc < 0 || st.st_uid == 0)
	return (0);
    save->egid = getegid();
    if ((save->ngroups = getgroups(0, NULL)) > 0) {
	save->groups = xcalloc((size_t) save->ngroups, sizeof(gid_t));
	save->ngroups = getgroups(save->ngroups, save->groups);
    }
    if (setgroups(0, NULL) < 0 || setegid(st.st_gid) < 0 || seteuid(st.st_uid) < 0) {
	sb_printf(why, "%s: cannot open it as its directory's owner (uid %ld): %s", path,
		  (long) st.st_uid, strerror(errno));
	save->active = 1;
	return (-1);
    }
    save->active = 1;
    return (0);
}

/* as_root - root again, with its groups, after as_owner */
static void as_root(OWNER_SAVE *save)
{
    if (!save->active)
	return;
    if (seteuid(0) < 0 || setegid(save->egid) < 0
	|| setgroups((size_t) (save->ngroups > 0 ? save->ngroups : 0), save->groups) < 0) {
	msg_error("store: cannot become root again: %s", strerror(errno));
	abort();				/* cannot be: the saved user is root */
    }
    free(save->groups);
    memset(save, 0, sizeof(*save));
}

int     store_open(const char *path, int flags, STORE **out, STRBUF *why)
{
    STORE  *st = xcalloc(1, sizeof(STORE));
    unsigned eflags = MDB_NOSUBDIR | MDB_NOTLS;
    OWNER_SAVE owner;
    int     rc, dead;

    st->path = xstrdup(path);
    st->flags = flags;
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->idle, NULL);
    if (flags & STORE_RDONLY)
	eflags |= MDB_RDONLY;
    if (store_map_size(st, &st->mapsize, why) < 0) {
	store_close(st);
	return (STORE_ERROR);
    }
    if (as_owner(path, &owner, why) < 0) {
	as_root(&owner);
	store_close(st);
	return (STORE_ERROR);
    }
    if ((rc = mdb_env_create(&st->env)) != 0
	|| (rc = mdb_env_set_maxreaders(st->env, STORE_MAXREADERS)) != 0
	|| (rc = mdb_env_set_maxdbs(st->env, STORE_MAXDBS)) != 0
	|| (rc = mdb_env_set_mapsize(st->env, st->mapsize)) != 0
	|| (rc = mdb_env_open(st->env, path, eflags, 0640)) != 0) {
	as_root(&owner);
	if (rc == ENOENT && (flags & STORE_RDONLY))
	    sb_printf(why, "%s: no such store", path);
	else
	    store_fail(st, rc, "cannot open", why);
	store_close(st);
	return (STORE_ERROR);
    }
    as_root(&owner);
    (void) mdb_reader_check(st->env, &dead);
    if ((st->mapsize = env_mapsize(st)) > st->max)
	st->max = st->mapsize;
    *out = st;
    return (STORE_OK);
}

void    store_close(STORE *st)
{
    if (st == NULL)
	return;
    if (st->env)
	mdb_env_close(st->env);
    pthread_mutex_destroy(&st->lock);
    pthread_cond_destroy(&st->idle);
    free(st->path);
    free(st);
}

const char *store_path(const STORE *st)
{
    return (st->path);
}

/* store_mapsize - the map size in service */
size_t  store_mapsize(STORE *st)
{
    size_t  size;

    pthread_mutex_lock(&st->lock);
    size = st->mapsize;
    pthread_mutex_unlock(&st->lock);
    return (size);
}

/*
 * resize_hold - wait (bounded) until no transaction of the process is
 * open, and keep new ones out; then the map may move. Returns with the
 * lock held, or -1 (lock released) when that cannot be had.
 */
static int resize_hold(STORE *st, STRBUF *why)
{
    struct timespec until;
    int     rc = 0;

    if (*mine(st) > 0) {
	sb_printf(why, "%s: the map cannot be resized by a thread that holds a transaction",
		  st->path);
	return (-1);
    }
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += STORE_RESIZE_WAIT;
    pthread_mutex_lock(&st->lock);
    while (st->resizing && rc == 0)		/* one resize at a time */
	rc = pthread_cond_timedwait(&st->idle, &st->lock, &until);
    if (rc == 0) {
	st->resizing = 1;
	while (st->active > 0 && rc == 0)
	    rc = pthread_cond_timedwait(&st->idle, &st->lock, &until);
	if (rc != 0) {
	    st->resizing = 0;
	    pthread_cond_broadcast(&st->idle);
	}
    }
    if (rc != 0) {
	pthread_mutex_unlock(&st->lock);
	sb_printf(why, "%s: the map cannot be resized now: transactions stay open", st->path);
	return (-1);
    }
    return (0);
}

static void resize_release(STORE *st)
{
    st->resizing = 0;
    pthread_cond_broadcast(&st->idle);
    pthread_mutex_unlock(&st->lock);
}

/* adopt - take the map size another process set (MDB_MAP_RESIZED) */
static int adopt(STORE *st, STRBUF *why)
{
    size_t  size = 0;
    int     rc;

    if (resize_hold(st, why) < 0)
	return (STORE_ERROR);
    if ((rc = mdb_env_set_mapsize(st->env, 0)) == 0)
	size = st->mapsize = env_mapsize(st);
    resize_release(st);
    if (rc != 0)
	return (store_fail(st, rc, "cannot adopt the grown map", why));
    msg_info("%s: map size %zu adopted (grown by another process)", st->path, size);
    return (STORE_OK);
}

/*
 * store_grow - double the map size (up to the maximum) once no transaction
 * of the process is open. seen is the size the caller found full (0: the
 * current one); when another thread grew it since, that is enough.
 */
int     store_grow(STORE *st, size_t seen, STRBUF *why)
{
    size_t  size;
    int     rc = 0;

    if (resize_hold(st, why) < 0) {
	pthread_mutex_lock(&st->lock);
	st->want_grow = 1;			/* the next thread free to do so will */
	pthread_mutex_unlock(&st->lock);
	return (STORE_ERROR);
    }
    if (seen == 0)
	seen = st->mapsize;
    size = seen >= st->max / 2 ? st->max : seen * 2;
    if (st->mapsize > seen) {
	 /* another thread grew it already */ ;
    } else if (size <= st->mapsize) {
	sb_printf(why, "%s: the map is full at its largest size (%zu bytes)", st->path, st->max);
	rc = -1;
    } else if ((rc = mdb_env_set_mapsize(st->env, size)) != 0) {
	store_fail(st, rc, "cannot grow the map", why);
    } else {
	st->mapsize = env_mapsize(st);
	msg_info("%s: map grown to %zu bytes", st->path, st->mapsize);
    }
    st->want_grow = 0;
    resize_release(st);
    return (rc ? STORE_ERROR : STORE_OK);
}

/* pending_growth - a growth a busy thread had to leave, done now if this one may */
static void pending_growth(STORE *st)
{
    STRBUF  why = STRBUF_INIT;
    int     want;

    pthread_mutex_lock(&st->lock);
    want = st->want_grow && !st->resizing;
    pthread_mutex_unlock(&st->lock);
    if (want && *mine(st) == 0 && store_grow(st, 0, &why) < 0)
	msg_warn("%s", why.s);
    sb_free(&why);
}

/*
 * store_begin - start a transaction. A full reader table is usually stale
 * slots of killed processes: clear them and try once more. A map grown by
 * another process is adopted.
 */
int     store_begin(STORE *st, int rdonly, MDB_txn **txn, STRBUF *why)
{
    unsigned flags = rdonly ? MDB_RDONLY : 0;
    int     rc, dead, tries;

    if (!rdonly)
	pending_growth(st);
    for (tries = 0; tries < 3; tries++) {
	enter(st);
	if ((rc = mdb_txn_begin(st->env, NULL, flags, txn)) == 0)
	    return (STORE_OK);
	leave(st);
	if (rc == MDB_READERS_FULL)
	    (void) mdb_reader_check(st->env, &dead);
	else if (rc != MDB_MAP_RESIZED)
	    break;
	else if (adopt(st, why) < 0)
	    return (STORE_ERROR);
    }
    return (store_fail(st, rc, "cannot begin a transaction", why));
}

int     store_commit(STORE *st, MDB_txn *txn, STRBUF *why)
{
    int     rc = mdb_txn_commit(txn);

    leave(st);
    return (rc ? store_fail(st, rc, "cannot commit", why) : STORE_OK);
}

/* store_abort - end a transaction (read, or write with nothing to keep) */
void    store_abort(STORE *st, MDB_txn *txn)
{
    if (txn == NULL)
	return;
    mdb_txn_abort(txn);
    leave(st);
}

/*
 * store_write - work in a write transaction, committed when it says so;
 * on a full map, the map grows and the work starts again in a fresh
 * transaction, until it fits or the map is at its largest.
 */
int     store_write(STORE *st, STORE_WORK work, void *ctx, STRBUF *why)
{
    STRBUF  err = STRBUF_INIT;
    MDB_txn *txn;
    size_t  seen;
    int     rc;

    for (;;) {
	sb_reset(&err);
	seen = store_mapsize(st);
	if ((rc = store_begin(st, 0, &txn, &err)) < 0)
	    break;
	if ((rc = work(txn, ctx, &err)) == STORE_OK)
	    rc = store_commit(st, txn, &err);
	else
	    store_abort(st, txn);
	if (rc != STORE_MAP_FULL)
	    break;
	sb_puts(&err, "; ");
	if (store_grow(st, seen, &err) < 0)
	    break;
    }
    if (rc < 0)
	sb_puts(why, sb_str(&err));
    sb_free(&err);
    return (rc);
}

int     store_dbi(STORE *st, MDB_txn *txn, const char *name, unsigned flags,
		          MDB_dbi *dbi, STRBUF *why)
{
    int     rc = mdb_dbi_open(txn, name, flags, dbi);
    STRBUF  what = STRBUF_INIT;

    if (rc == 0)
	return (STORE_OK);
    sb_printf(&what, "cannot open database '%s'", name);
    rc = store_fail(st, rc, what.s, why);
    sb_free(&what);
    return (rc);
}

typedef struct tables {
    STORE  *st;
    const STORE_TABLE *tables;
    int     n;
    MDB_dbi *dbi;
    unsigned create;
} TABLES;

static int open_tables(MDB_txn *txn, void *ctx, STRBUF *why)
{
    TABLES *t = ctx;
    int     i, rc = STORE_OK;

    for (i = 0; rc == STORE_OK && i < t->n; i++)
	rc = store_dbi(t->st, txn, t->tables[i].name, t->tables[i].flags | t->create,
		       &t->dbi[i], why);
    return (rc);
}

/* store_tables - open every table of a schema in one transaction, kept by its commit */
int     store_tables(STORE *st, int writable, const STORE_TABLE *tables, int n,
		             MDB_dbi *dbi, STRBUF *why)
{
    TABLES  t = {st, tables, n, dbi, writable ? MDB_CREATE : 0};
    MDB_txn *txn;
    int     rc;

    if (writable)
	return (store_write(st, open_tables, &t, why) < 0 ? STORE_ERROR : STORE_OK);
    if (store_begin(st, 1, &txn, why) < 0)
	return (STORE_ERROR);
    if ((rc = open_tables(txn, &t, why)) != STORE_OK) {
	store_abort(st, txn);
	return (STORE_ERROR);
    }
    return (store_commit(st, txn, why));	/* an abort would close the handles */
}

/* store_put - one record: STORE_OK, or an error code (described) */
int     store_put(STORE *st, MDB_txn *txn, MDB_dbi dbi, const char *table, const void *key,
		          size_t klen, const void *val, size_t vlen, unsigned flags, STRBUF *why)
{
    MDB_val k, v;
    int     rc;

    k.mv_data = (void *) key;
    k.mv_size = klen;
    v.mv_data = (void *) val;
    v.mv_size = vlen;
    if ((rc = mdb_put(txn, dbi, &k, &v, flags)) != 0)
	return (store_fail(st, rc, table, why));
    return (STORE_OK);
}

/* store_get - one record: STORE_OK, STORE_NOTFOUND, or an error code (described) */
int     store_get(STORE *st, MDB_txn *txn, MDB_dbi dbi, const char *table, const void *key,
		          size_t klen, MDB_val *val, STRBUF *why)
{
    MDB_val k;
    int     rc;

    k.mv_data = (void *) key;
    k.mv_size = klen;
    if ((rc = mdb_get(txn, dbi, &k, val)) == MDB_NOTFOUND)
	return (STORE_NOTFOUND);
    return (rc ? store_fail(st, rc, table, why) : STORE_OK);
}

/* store_del - one record gone: STORE_OK, STORE_NOTFOUND, or an error code */
int     store_del(STORE *st, MDB_txn *txn, MDB_dbi dbi, const char *table, const void *key,
		          size_t klen, STRBUF *why)
{
    MDB_val k;
    int     rc;

    k.mv_data = (void *) key;
    k.mv_size = klen;
    if ((rc = mdb_del(txn, dbi, &k, NULL)) == MDB_NOTFOUND)
	return (STORE_NOTFOUND);
    return (rc ? store_fail(st, rc, table, why) : STORE_OK);
}

/* store_mkdir - the state directory, created (not its parents) when missing */
int     store_mkdir(const char *dir, STRBUF *why)
{
    if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
	sb_printf(why, "%s: cannot create the state directory: %s", dir, strerror(errno));
	return (STORE_ERROR);
    }
    return (STORE_OK);
}
