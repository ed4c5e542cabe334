/*
 * rulesdb.c - the compiled rules in LMDB (see rulesdb.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#include "mem.h"
#include "rulesdb.h"
#include "store.h"
#include "strutil.h"
#include "strv.h"

enum { DB_META, DB_FREQS, DB_CATALOG, DB_USERS, DB_VIEWS, DB_INDEX, DB_COUNT };

static const STORE_TABLE rdb_tables[DB_COUNT] = {
    {"meta", 0},
    {"freqs", 0},
    {"catalog", 0},
    {"users", 0},
    {"views", MDB_INTEGERKEY},
    {"index", 0},
};

struct rulesdb {
    STORE  *st;
    MDB_dbi dbi[DB_COUNT];
    unsigned append;			/* MDB_APPEND in a whole compile, else 0 */
};

int     rulesdb_open(const char *state_dir, int writable, RULESDB **out, STRBUF *why)
{
    RULESDB *rdb = xcalloc(1, sizeof(RULESDB));
    STRBUF  path = STRBUF_INIT;
    STRBUF  err = STRBUF_INIT;
    int     rc;

    sb_printf(&path, "%s/%s", state_dir, RULESDB_FILE);
    if (writable && store_mkdir(state_dir, &err) < 0)
	rc = -1;
    else
	rc = store_open(path.s, writable ? 0 : STORE_RDONLY, &rdb->st, &err);
    if (rc == 0)
	rc = store_tables(rdb->st, writable, rdb_tables, DB_COUNT, rdb->dbi, &err);
    if (rc < 0) {
	if (!writable)
	    sb_printf(why, "no usable compiled rules (%s): run 'crierctl compile'", sb_str(&err));
	else
	    sb_puts(why, sb_str(&err));
	rulesdb_close(rdb);
	rdb = NULL;
    }
    sb_free(&path);
    sb_free(&err);
    *out = rdb;
    return (rc);
}

void    rulesdb_close(RULESDB *rdb)
{
    if (rdb == NULL)
	return;
    store_close(rdb->st);
    free(rdb);
}

int     rulesdb_read(RULESDB *rdb, MDB_txn **txn, STRBUF *why)
{
    return (store_begin(rdb->st, 1, txn, why));
}

/* rulesdb_end - the end of a rulesdb_read() transaction, or of one not to commit */
void    rulesdb_end(RULESDB *rdb, MDB_txn *txn)
{
    store_abort(rdb->st, txn);
}

/* rulesdb_grow - a bigger map, after a write failed with STORE_MAP_FULL */
int     rulesdb_grow(RULESDB *rdb, STRBUF *why)
{
    return (store_grow(rdb->st, 0, why));
}

/*
 * rulesdb_write_begin - a write transaction with every table emptied; the
 * generation of the set it replaces (0 for none) goes to *generation.
 */
int     rulesdb_write_begin(RULESDB *rdb, MDB_txn **txn, uint64_t *generation, STRBUF *why)
{
    RDB_META old;
    int     i, rc;

    if (store_begin(rdb->st, 0, txn, why) < 0)
	return (-1);
    if (rulesdb_get_meta(rdb, *txn, &old, why) < 0) {
	store_abort(rdb->st, *txn);
	return (-1);
    }
    *generation = old.generation;
    rdb->append = MDB_APPEND;		/* everything is written in key order */
    for (i = 0; i < DB_COUNT; i++)
	if ((rc = mdb_drop(*txn, rdb->dbi[i], 0)) != 0) {
	    rc = store_fail(rdb->st, rc, "cannot empty the rules", why);
	    store_abort(rdb->st, *txn);
	    return (rc);
	}
    return (RDB_OK);
}

/*
 * rulesdb_update_begin - a write transaction that changes the set in
 * place (one user's views), with the meta of the set in service;
 * RDB_NONE (and no transaction) when nothing was compiled yet
 */
int     rulesdb_update_begin(RULESDB *rdb, MDB_txn **txn, RDB_META *meta, STRBUF *why)
{
    int     rc;

    if (store_begin(rdb->st, 0, txn, why) < 0)
	return (-1);
    rdb->append = 0;
    if ((rc = rulesdb_get_meta(rdb, *txn, meta, why)) != 0)
	store_abort(rdb->st, *txn);
    return (rc);
}

/* rulesdb_del - one record of a table; an absent one is no error */
static int rdb_del(RULESDB *rdb, MDB_txn *txn, int db, const void *key, size_t klen,
		           STRBUF *why)
{
    int     rc = store_del(rdb->st, txn, rdb->dbi[db], rdb_tables[db].name, key, klen, why);

    return (rc == STORE_NOTFOUND ? STORE_OK : rc);
}

/*
 * rulesdb_del_user - a user, its views and their index entries. What LMDB
 * returns is valid only until the next change in the transaction, so the
 * partners and each view's event type are copied before anything goes.
 */
int     rulesdb_del_user(RULESDB *rdb, MDB_txn *txn, const char *address, uint32_t *views,
			         STRBUF *why)
{
    STRBUF  key = STRBUF_INIT, event = STRBUF_INIT;
    STRV    partners = STRV_INIT;
    RDB_USER u;
    RDB_VIEW v;
    uint32_t i, first, count;
    size_t  p;
    int     rc = rulesdb_get_user(rdb, txn, address, &u, why);
    char   *lower = str_lower(xstrdup(address));

    *views = 0;
    if (rc != 0) {
	free(lower);
	return (rc < 0 ? rc : 0);
    }
    first = u.first, count = u.count;
    for (p = 0; p < u.npartners; p++)
	strv_add(&partners, unpack_str(&u.partbuf));
    for (i = 0, rc = 0; rc == 0 && i < count; i++) {
	uint32_t id = first + i;

	if ((rc = rulesdb_get_view(rdb, txn, id, &v, why)) != 0) {
	    rc = rc == RDB_NONE ? 0 : rc;
	    continue;
	}
	sb_reset(&event);
	sb_puts(&event, v.event);
	for (p = 0; rc == 0 && p < partners.len; p++) {
	    rulesdb_index_key(&key, event.s, partners.v[p], id);
	    rc = rdb_del(rdb, txn, DB_INDEX, key.s, key.len, why);
	}
	if (rc == 0 && (rc = rdb_del(rdb, txn, DB_VIEWS, &id, sizeof(id), why)) == 0)
	    (*views)++;
    }
    if (rc == 0)
	rc = rdb_del(rdb, txn, DB_USERS, lower, strlen(lower), why);
    free(lower);
    strv_free(&partners);
    sb_free(&key), sb_free(&event);
    return (rc);
}

/* rulesdb_next_view - the id after the last view */
int     rulesdb_next_view(RULESDB *rdb, MDB_txn *txn, uint32_t *id, STRBUF *why)
{
    MDB_cursor *c;
    MDB_val k, v;
    int     rc;

    if ((rc = mdb_cursor_open(txn, rdb->dbi[DB_VIEWS], &c)) != 0)
	return (store_fail(rdb->st, rc, "views", why));
    rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
    mdb_cursor_close(c);
    if (rc != 0 && rc != MDB_NOTFOUND)
	return (store_fail(rdb->st, rc, "views", why));
    *id = 1;
    if (rc == 0) {				/* LMDB keys are not aligned */
	memcpy(id, k.mv_data, sizeof(uint32_t));
	++*id;
    }
    return (0);
}

int     rulesdb_commit(RULESDB *rdb, MDB_txn *txn, STRBUF *why)
{
    return (store_commit(rdb->st, txn, why));
}

/* rdb_put - one record: RDB_OK, or an error code (STORE_MAP_FULL: grow), described */
static int rdb_put(RULESDB *rdb, MDB_txn *txn, int db, const void *key, size_t klen,
		           const STRBUF *val, unsigned flags, STRBUF *why)
{
    return (store_put(rdb->st, txn, rdb->dbi[db], rdb_tables[db].name, key, klen, val->s,
		      val->len, flags, why));
}

/* rdb_get - one record: RDB_OK, RDB_NONE, or an error code */
static int rdb_get(RULESDB *rdb, MDB_txn *txn, int db, const void *key, size_t klen,
		           UNPACK *u, STRBUF *why)
{
    MDB_val v;
    int     rc = store_get(rdb->st, txn, rdb->dbi[db], rdb_tables[db].name, key, klen, &v, why);

    if (rc == 0)
	unpack_init(u, v.mv_data, v.mv_size);
    return (rc);
}

static void pack_strs(STRBUF *sb, char *const *v, size_t n)
{
    size_t  i;

    pack_u64(sb, n);
    for (i = 0; i < n; i++)
	pack_str(sb, v[i]);
}

static void pack_conds(STRBUF *sb, const RDB_COND *c, size_t n)
{
    size_t  i;

    pack_u64(sb, n);
    for (i = 0; i < n; i++) {
	pack_str(sb, c[i].filter);
	pack_strs(sb, c[i].values, c[i].nvalues);
    }
}

/* rdb_damaged - the one message for a record that does not decode */
static int rdb_damaged(RULESDB *rdb, const char *table, STRBUF *why)
{
    sb_printf(why, "%s: damaged record in '%s': run 'crierctl compile'",
	      store_path(rdb->st), table);
    return (-1);
}

int     rulesdb_put_freq(RULESDB *rdb, MDB_txn *txn, const char *name, const char *title,
			         const char *rrule, unsigned pos, STRBUF *why)
{
    STRBUF  v = STRBUF_INIT;
    int     rc;

    pack_str(&v, title ? title : name);
    pack_str(&v, rrule ? rrule : "");
    pack_u64(&v, pos);
    rc = rdb_put(rdb, txn, DB_FREQS, name, strlen(name), &v, 0, why);
    sb_free(&v);
    return (rc);
}

int     rulesdb_get_freq(RULESDB *rdb, MDB_txn *txn, const char *name, const char **title,
			         const char **rrule, unsigned *pos, STRBUF *why)
{
    UNPACK  u;
    int     rc = rdb_get(rdb, txn, DB_FREQS, name, strlen(name), &u, why);

    if (rc != 0)
	return (rc);
    *title = unpack_str(&u);
    *rrule = unpack_str(&u);
    *pos = (unsigned) unpack_u64(&u);
    return (u.bad ? rdb_damaged(rdb, "freqs", why) : 0);
}

int     rulesdb_put_evtype(RULESDB *rdb, MDB_txn *txn, const RDB_EVTYPE *et, STRBUF *why)
{
    STRBUF  v = STRBUF_INIT;
    int     rc;

    pack_str(&v, et->title);
    pack_strs(&v, et->freqs, et->nfreqs);
    pack_conds(&v, et->filters, et->nfilters);
    rc = rdb_put(rdb, txn, DB_CATALOG, et->name, strlen(et->name), &v, 0, why);
    sb_free(&v);
    return (rc);
}

/* rdb_evtype_decode - title and counts; rest is left at the frequencies */
static int rdb_evtype_decode(const char *name, UNPACK *u, RDB_EVTYPE *et)
{
    memset(et, 0, sizeof(*et));
    et->name = name;
    et->title = unpack_str(u);
    et->rest = *u;
    et->nfreqs = unpack_u64(&et->rest);
    et->rest = *u;
    return (u->bad ? -1 : 0);
}

int     rulesdb_get_evtype(RULESDB *rdb, MDB_txn *txn, const char *name, RDB_EVTYPE *et,
			           STRBUF *why)
{
    UNPACK  u;
    int     rc = rdb_get(rdb, txn, DB_CATALOG, name, strlen(name), &u, why);

    if (rc != 0)
	return (rc);
    return (rdb_evtype_decode(name, &u, et) < 0 ? rdb_damaged(rdb, "catalog", why) : 0);
}

int     rulesdb_put_user(RULESDB *rdb, MDB_txn *txn, const RDB_USER *user, STRBUF *why)
{
    STRBUF  v = STRBUF_INIT;
    char   *key = str_lower(xstrdup(user->address));
    int     rc;

    pack_str(&v, user->address);
    pack_str(&v, user->profile);
    pack_str(&v, user->timezone ? user->timezone : "");
    pack_str(&v, user->file);
    pack_u64(&v, user->line);
    pack_u64(&v, user->first);
    pack_u64(&v, user->count);
    pack_strs(&v, user->partners, user->npartners);
    rc = rdb_put(rdb, txn, DB_USERS, key, strlen(key), &v, rdb->append, why);
    free(key);
    sb_free(&v);
    return (rc);
}

int     rulesdb_get_user(RULESDB *rdb, MDB_txn *txn, const char *address, RDB_USER *user,
			         STRBUF *why)
{
    char   *key = str_lower(xstrdup(address));
    UNPACK  u;
    int     rc = rdb_get(rdb, txn, DB_USERS, key, strlen(key), &u, why);

    free(key);
    if (rc != 0)
	return (rc);
    memset(user, 0, sizeof(*user));
    user->address = unpack_str(&u);
    user->profile = unpack_str(&u);
    user->timezone = unpack_str(&u);
    user->file = unpack_str(&u);
    user->line = (unsigned) unpack_u64(&u);
    user->first = (uint32_t) unpack_u64(&u);
    user->count = (uint32_t) unpack_u64(&u);
    user->npartners = unpack_u64(&u);
    user->partbuf = u;
    return (u.bad ? rdb_damaged(rdb, "users", why) : 0);
}

void    rulesdb_pack_view(STRBUF *v, const RDB_VIEW *view)
{
    sb_reset(v);
    pack_str(v, view->user);
    pack_str(v, view->profile);
    pack_str(v, view->notif);
    pack_u64(v, (uint64_t) view->kind);
    pack_str(v, view->event);
    pack_str(v, view->frequency);
    pack_u64(v, (uint64_t) view->muted);
    pack_str(v, view->file);
    pack_u64(v, view->line);
    pack_conds(v, view->conds, view->nconds);
}

/* rulesdb_put_view - ids must come in increasing order */
int     rulesdb_put_view(RULESDB *rdb, MDB_txn *txn, uint32_t id, const STRBUF *packed,
			         STRBUF *why)
{
    return (rdb_put(rdb, txn, DB_VIEWS, &id, sizeof(id), packed, rdb->append, why));
}

static int rdb_view_decode(uint32_t id, UNPACK *u, RDB_VIEW *view)
{
    memset(view, 0, sizeof(*view));
    view->id = id;
    view->user = unpack_str(u);
    view->profile = unpack_str(u);
    view->notif = unpack_str(u);
    view->kind = (int) unpack_u64(u);
    view->event = unpack_str(u);
    view->frequency = unpack_str(u);
    view->muted = (int) unpack_u64(u);
    view->file = unpack_str(u);
    view->line = (unsigned) unpack_u64(u);
    view->nconds = unpack_u64(u);
    view->condbuf = *u;
    return (u->bad ? -1 : 0);
}

/*
 * rulesdb_view_read - a view packed by rulesdb_pack_view() in its reading
 * form, as the matcher takes it (a notification not compiled, for a
 * preview); it points into packed. -1 when damaged.
 */
int     rulesdb_view_read(const STRBUF *packed, RDB_VIEW *view)
{
    UNPACK  u;

    unpack_init(&u, packed->s, packed->len);
    return (rdb_view_decode(0, &u, view));
}

int     rulesdb_get_view(RULESDB *rdb, MDB_txn *txn, uint32_t id, RDB_VIEW *view,
			         STRBUF *why)
{
    UNPACK  u;
    int     rc = rdb_get(rdb, txn, DB_VIEWS, &id, sizeof(id), &u, why);

    if (rc != 0)
	return (rc);
    return (rdb_view_decode(id, &u, view) < 0 ? rdb_damaged(rdb, "views", why) : 0);
}

/*
 * rulesdb_cond_next - the next condition (or filter) of a packed list: its
 * name and value count; the values follow in u, read them with unpack_str().
 * Returns 0, or -1 when the record is damaged.
 */
int     rulesdb_cond_next(UNPACK *u, const char **filter, size_t *nvalues)
{
    *filter = unpack_str(u);
    *nvalues = unpack_u64(u);
    return (u->bad ? -1 : 0);
}

/*
 * rulesdb_index_key - event type NUL lower-cased partner ("*": every
 * partner) NUL, then the view id big-endian (so that keys sort by id within
 * a partner) unless id is 0, which gives the prefix of all its views.
 */
void    rulesdb_index_key(STRBUF *key, const char *event, const char *partner, uint32_t id)
{
    unsigned char be[4];
    size_t  at;

    sb_reset(key);
    sb_puts(key, event);
    sb_putc(key, 0);
    at = key->len;
    sb_puts(key, partner);
    str_lower(key->s + at);
    if (*partner)
	sb_putc(key, 0);
    if (id) {
	be[0] = (unsigned char) (id >> 24);
	be[1] = (unsigned char) (id >> 16);
	be[2] = (unsigned char) (id >> 8);
	be[3] = (unsigned char) id;
	sb_putn(key, be, 4);
    }
}

/* rulesdb_put_index - keys must come in LMDB order (sorted by the compiler) */
int     rulesdb_put_index(RULESDB *rdb, MDB_txn *txn, const char *key, size_t keylen,
			          const char *packed, size_t packedlen, STRBUF *why)
{
    return (store_put(rdb->st, txn, rdb->dbi[DB_INDEX], "index", key, keylen, packed,
		      packedlen, rdb->append, why));
}

int     rulesdb_put_meta(RULESDB *rdb, MDB_txn *txn, const RDB_META *m, STRBUF *why)
{
    STRBUF  v = STRBUF_INIT;
    int     rc;

    pack_u64(&v, m->generation);
    pack_u64(&v, m->compiled);
    pack_u64(&v, m->notifs);
    pack_u64(&v, m->views);
    pack_u64(&v, m->users);
    pack_u64(&v, m->evtypes);
    pack_str(&v, m->rules_dir ? m->rules_dir : "");
    pack_str(&v, m->digest ? m->digest : "");
    pack_str(&v, m->catalog ? m->catalog : "");
    rc = rdb_put(rdb, txn, DB_META, "meta", 4, &v, 0, why);
    sb_free(&v);
    return (rc);
}

/* rulesdb_get_meta - RDB_NONE when nothing was ever compiled */
int     rulesdb_get_meta(RULESDB *rdb, MDB_txn *txn, RDB_META *m, STRBUF *why)
{
    UNPACK  u;
    int     rc = rdb_get(rdb, txn, DB_META, "meta", 4, &u, why);

    memset(m, 0, sizeof(*m));
    if (rc != 0)
	return (rc);
    m->generation = unpack_u64(&u);
    m->compiled = unpack_u64(&u);
    m->notifs = unpack_u64(&u);
    m->views = unpack_u64(&u);
    m->users = unpack_u64(&u);
    m->evtypes = unpack_u64(&u);
    m->rules_dir = unpack_str(&u);
    m->digest = u.p < u.end ? unpack_str(&u) : "";	/* older sets have none */
    m->catalog = u.p < u.end ? unpack_str(&u) : "";
    return (u.bad ? rdb_damaged(rdb, "meta", why) : 0);
}

/* rdb_index_view - the view id at the end of an index key, and its record */
static int rdb_index_view(const MDB_val *k, const MDB_val *v, RDB_VIEW *view)
{
    const unsigned char *be = (const unsigned char *) k->mv_data + k->mv_size - 4;
    uint32_t id;
    UNPACK  u;

    if (k->mv_size < 4)
	return (-1);
    id = ((uint32_t) be[0] << 24) | ((uint32_t) be[1] << 16) | ((uint32_t) be[2] << 8) | be[3];
    unpack_init(&u, v->mv_data, v->mv_size);
    return (rdb_view_decode(id, &u, view));
}

/*
 * rulesdb_index_each - the views indexed under (event, partner), or with
 * partner NULL under the event type and every partner, in key order. The
 * views point into the transaction's pages. Stops when fn returns non-zero.
 */
int     rulesdb_index_each(RULESDB *rdb, MDB_txn *txn, const char *event, const char *partner,
			           RDB_VIEW_FN fn, void *ctx, STRBUF *why)
{
    STRBUF  prefix = STRBUF_INIT;
    MDB_cursor *c;
    MDB_val k, v;
    RDB_VIEW view;
    int     rc;

    rulesdb_index_key(&prefix, event, partner ? partner : "", 0);
    if ((rc = mdb_cursor_open(txn, rdb->dbi[DB_INDEX], &c)) != 0) {
	sb_free(&prefix);
	return (store_fail(rdb->st, rc, "index", why));
    }
    k.mv_data = prefix.s;
    k.mv_size = prefix.len;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	 rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
	if (k.mv_size < prefix.len || memcmp(k.mv_data, prefix.s, prefix.len) != 0)
	    break;
	if (rdb_index_view(&k, &v, &view) < 0) {
	    rc = MDB_CORRUPTED;
	    break;
	}
	if (fn(&view, ctx) != 0) {
	    rc = -1;
	    break;
	}
    }
    mdb_cursor_close(c);
    sb_free(&prefix);
    if (rc == MDB_NOTFOUND || rc == 0 || rc == -1)
	return (rc == -1 ? -1 : 0);
    if (rc == MDB_CORRUPTED)
	return (rdb_damaged(rdb, "index", why));
    return (store_fail(rdb->st, rc, "index", why));
}

/* rdb_scan - call decode+fn for each record of a table */
static int rdb_scan(RULESDB *rdb, MDB_txn *txn, int db, int (*each) (MDB_val *, MDB_val *, void *),
		            void *ctx, STRBUF *why)
{
    MDB_cursor *c;
    MDB_val k, v;
    int     rc;

    if ((rc = mdb_cursor_open(txn, rdb->dbi[db], &c)) != 0)
	return (store_fail(rdb->st, rc, rdb_tables[db].name, why));
    while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0)
	if ((rc = each(&k, &v, ctx)) != 0)
	    break;
    mdb_cursor_close(c);
    if (rc == MDB_NOTFOUND || rc == 0)
	return (0);
    if (rc == MDB_CORRUPTED)
	return (rdb_damaged(rdb, rdb_tables[db].name, why));
    return (rc < 0 ? -1 : store_fail(rdb->st, rc, rdb_tables[db].name, why));
}

typedef struct {
    void   *fn;
    void   *ctx;
} RDB_SCAN;

static int rdb_each_view(MDB_val *k, MDB_val *v, void *ctx)
{
    RDB_SCAN *s = ctx;
    RDB_VIEW view;
    UNPACK  u;
    uint32_t id;

    if (k->mv_size != sizeof(id))
	return (MDB_CORRUPTED);
    memcpy(&id, k->mv_data, sizeof(id));
    unpack_init(&u, v->mv_data, v->mv_size);
    if (rdb_view_decode(id, &u, &view) < 0)
	return (MDB_CORRUPTED);
    return (((RDB_VIEW_FN) s->fn) (&view, s->ctx) ? -1 : 0);
}

static int rdb_each_evtype(MDB_val *k, MDB_val *v, void *ctx)
{
    RDB_SCAN *s = ctx;
    RDB_EVTYPE et;
    UNPACK  u;
    char   *name = xstrndup(k->mv_data, k->mv_size);
    int     rc;

    unpack_init(&u, v->mv_data, v->mv_size);
    if (rdb_evtype_decode(name, &u, &et) < 0)
	rc = MDB_CORRUPTED;
    else
	rc = ((RDB_EVTYPE_FN) s->fn) (&et, s->ctx) ? -1 : 0;
    free(name);
    return (rc);
}

int     rulesdb_views_each(RULESDB *rdb, MDB_txn *txn, RDB_VIEW_FN fn, void *ctx, STRBUF *why)
{
    RDB_SCAN s = {(void *) fn, ctx};

    return (rdb_scan(rdb, txn, DB_VIEWS, rdb_each_view, &s, why));
}

int     rulesdb_evtypes_each(RULESDB *rdb, MDB_txn *txn, RDB_EVTYPE_FN fn, void *ctx,
			             STRBUF *why)
{
    RDB_SCAN s = {(void *) fn, ctx};

    return (rdb_scan(rdb, txn, DB_CATALOG, rdb_each_evtype, &s, why));
}

/* rulesdb_view_where - a view's conditions for people: "a = x, y; b = z" */
void    rulesdb_view_where(const RDB_VIEW *v, STRBUF *out)
{
    UNPACK  u = v->condbuf;
    const char *filter;
    size_t  i, j, n;

    for (i = 0; i < v->nconds && rulesdb_cond_next(&u, &filter, &n) == 0; i++) {
	sb_printf(out, "%s%s =", i ? "; " : "", filter);
	for (j = 0; j < n; j++)
	    sb_printf(out, "%s %s", j ? "," : "", unpack_str(&u));
    }
}
