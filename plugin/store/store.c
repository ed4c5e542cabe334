/*
 * store.c - LMDB environments (see store.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mem.h"
#include "store.h"

#define STORE_MAPSIZE	((size_t) 1 << 34)	/* 16 GiB of address space, not of disk */
#define STORE_MAXREADERS 1024
#define STORE_MAXDBS	32

struct store {
    MDB_env *env;
    char   *path;
    int     flags;
};

/* store_fail - describe an LMDB error about this store; returns -1 */
int     store_fail(STORE *st, int rc, const char *what, STRBUF *why)
{
    sb_printf(why, "%s: %s: %s", st->path, what, mdb_strerror(rc));
    return (-1);
}

/* store_map_size - start from what the file already holds, never below the default */
static size_t store_map_size(const char *path)
{
    struct stat sb;
    size_t  size = STORE_MAPSIZE;

    if (stat(path, &sb) == 0)
	while (size < (size_t) sb.st_size * 2)
	    size *= 2;
    return (size);
}

int     store_open(const char *path, int flags, STORE **out, STRBUF *why)
{
    STORE  *st = xcalloc(1, sizeof(STORE));
    unsigned eflags = MDB_NOSUBDIR | MDB_NOTLS;
    int     rc, dead;

    st->path = xstrdup(path);
    st->flags = flags;
    if (flags & STORE_RDONLY)
	eflags |= MDB_RDONLY;
    if ((rc = mdb_env_create(&st->env)) != 0
	|| (rc = mdb_env_set_maxreaders(st->env, STORE_MAXREADERS)) != 0
	|| (rc = mdb_env_set_maxdbs(st->env, STORE_MAXDBS)) != 0
	|| (rc = mdb_env_set_mapsize(st->env, store_map_size(path))) != 0
	|| (rc = mdb_env_open(st->env, path, eflags, 0640)) != 0) {
	if (rc == ENOENT && (flags & STORE_RDONLY))
	    sb_printf(why, "%s: no such store", path);
	else
	    store_fail(st, rc, "cannot open", why);
	store_close(st);
	return (-1);
    }
    (void) mdb_reader_check(st->env, &dead);
    *out = st;
    return (0);
}

void    store_close(STORE *st)
{
    if (st == NULL)
	return;
    if (st->env)
	mdb_env_close(st->env);
    free(st->path);
    free(st);
}

const char *store_path(const STORE *st)
{
    return (st->path);
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

    for (tries = 0; tries < 3; tries++) {
	rc = mdb_txn_begin(st->env, NULL, flags, txn);
	if (rc == MDB_READERS_FULL)
	    (void) mdb_reader_check(st->env, &dead);
	else if (rc == MDB_MAP_RESIZED)
	    (void) mdb_env_set_mapsize(st->env, 0);
	else
	    break;
    }
    return (rc ? store_fail(st, rc, "cannot begin a transaction", why) : 0);
}

int     store_commit(STORE *st, MDB_txn *txn, STRBUF *why)
{
    int     rc = mdb_txn_commit(txn);

    return (rc ? store_fail(st, rc, "cannot commit", why) : 0);
}

/* store_grow - double the map size; no transaction may be open */
int     store_grow(STORE *st, STRBUF *why)
{
    MDB_envinfo info;
    int     rc;

    mdb_env_info(st->env, &info);
    if ((rc = mdb_env_set_mapsize(st->env, info.me_mapsize * 2)) != 0)
	return (store_fail(st, rc, "cannot grow the map", why));
    return (0);
}

int     store_dbi(STORE *st, MDB_txn *txn, const char *name, unsigned flags,
		          MDB_dbi *dbi, STRBUF *why)
{
    int     rc = mdb_dbi_open(txn, name, flags, dbi);
    STRBUF  what = STRBUF_INIT;

    if (rc == 0)
	return (0);
    sb_printf(&what, "cannot open database '%s'", name);
    store_fail(st, rc, what.s, why);
    sb_free(&what);
    return (-1);
}

/* store_tables - open every table of a schema in one transaction */
int     store_tables(STORE *st, int writable, const STORE_TABLE *tables, int n,
		             MDB_dbi *dbi, STRBUF *why)
{
    MDB_txn *txn;
    int     i;

    if (store_begin(st, !writable, &txn, why) < 0)
	return (-1);
    for (i = 0; i < n; i++)
	if (store_dbi(st, txn, tables[i].name, tables[i].flags | (writable ? MDB_CREATE : 0),
		      &dbi[i], why) < 0) {
	    mdb_txn_abort(txn);
	    return (-1);
	}
    return (store_commit(st, txn, why));	/* an abort would close the handles */
}

/* store_put - one record; returns the LMDB code (0 or an error, described) */
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
	store_fail(st, rc, table, why);
    return (rc);
}

/* store_get - one record: 0 found, 1 absent, -1 error (described) */
int     store_get(STORE *st, MDB_txn *txn, MDB_dbi dbi, const char *table, const void *key,
		          size_t klen, MDB_val *val, STRBUF *why)
{
    MDB_val k;
    int     rc;

    k.mv_data = (void *) key;
    k.mv_size = klen;
    if ((rc = mdb_get(txn, dbi, &k, val)) == MDB_NOTFOUND)
	return (1);
    return (rc ? store_fail(st, rc, table, why) : 0);
}

/* store_mkdir - the state directory, created (not its parents) when missing */
int     store_mkdir(const char *dir, STRBUF *why)
{
    if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
	sb_printf(why, "%s: cannot create the state directory: %s", dir, strerror(errno));
	return (-1);
    }
    return (0);
}
