/*
 * compile.c - write a checked RULES into the compiled rules store.
 *
 * Each user's view (profile defaults, then custom notifications) becomes a
 * run of numbered views, and a copy of each view is indexed under its event
 * type and every partner of its user. Index entries are sorted before they
 * are written so that LMDB can append instead of searching: a million rules
 * compile in seconds. The caller must have run rules_check() without error.
 */
#include "config.h"

#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile.h"
#include "mem.h"
#include "rulesdb.h"
#include "strutil.h"

#define COMPILE_TRIES	40		/* growth stops sooner, at the largest map */

typedef struct ientry {
    char   *key;			/* event NUL partner NUL id */
    size_t  len;
    uint32_t id;			/* its packed view is packed[id - 1] */
} IENTRY;

typedef struct compiler {
    const RULES *r;
    RULESDB *rdb;
    MDB_txn *txn;
    IENTRY *idx;
    size_t  nidx;
    size_t  capidx;
    STRBUF *packed;			/* packed views, by id - base */
    size_t  cappacked;
    uint32_t base;			/* the first id written */
    uint32_t next_id;
    STRBUF *why;
} COMPILER;

/* ientry_cmp - LMDB's key order: memcmp, then the shorter first */
static int ientry_cmp(const void *a, const void *b)
{
    const IENTRY *x = a, *y = b;
    size_t  n = x->len < y->len ? x->len : y->len;
    int     c = memcmp(x->key, y->key, n);

    return (c ? c : (x->len > y->len) - (x->len < y->len));
}

static void index_add(COMPILER *cc, const char *event, const char *partner, uint32_t id)
{
    STRBUF  key = STRBUF_INIT;
    IENTRY *e;

    if (cc->nidx == cc->capidx) {
	cc->capidx = cc->capidx ? cc->capidx * 2 : 1024;
	cc->idx = xrealloc(cc->idx, cc->capidx * sizeof(IENTRY));
    }
    rulesdb_index_key(&key, event, partner, id);
    e = &cc->idx[cc->nidx++];
    e->len = key.len;
    e->id = id;
    e->key = sb_steal(&key);
}

/* view_muted - the muted state of notification n in user u's view */
static int view_muted(const USER *u, const NOTIF *n)
{
    if (n->kind == NOTIF_DEFAULT && strv_find_case(&u->muted, n->id) >= 0)
	return (RDB_MUTED_USER);
    return (n->muted ? RDB_MUTED_DEF : RDB_ACTIVE);
}

/* compile_view - one notification of one user: the view and its index entries */
static int compile_view(COMPILER *cc, const USER *u, const NOTIF *n)
{
    RDB_COND conds[64], *cp = n->nconds <= 64 ? conds : xcalloc(n->nconds, sizeof(RDB_COND));
    RDB_VIEW v;
    STRBUF *packed;
    size_t  i;
    int     rc;

    for (i = 0; i < n->nconds; i++) {
	cp[i].filter = n->conds[i].filter;
	cp[i].values = n->conds[i].values.v;
	cp[i].nvalues = n->conds[i].values.len;
    }
    memset(&v, 0, sizeof(v));
    v.id = cc->next_id++;
    v.user = u->address;
    v.profile = u->profile;
    v.notif = n->id;
    v.kind = n->kind;
    v.event = n->event;
    v.frequency = n->frequency;
    v.muted = view_muted(u, n);
    v.file = n->file;
    v.line = (unsigned) n->line;
    v.nconds = n->nconds;
    v.conds = cp;
    if (v.id - cc->base >= cc->cappacked) {
	cc->cappacked = cc->cappacked ? cc->cappacked * 2 : 1024;
	cc->packed = xrealloc(cc->packed, cc->cappacked * sizeof(STRBUF));
    }
    packed = &cc->packed[v.id - cc->base];
    memset(packed, 0, sizeof(*packed));
    rulesdb_pack_view(packed, &v);
    rc = rulesdb_put_view(cc->rdb, cc->txn, v.id, packed, cc->why);
    for (i = 0; rc == 0 && i < u->partners.len; i++)
	if (strv_find_case(&u->partners, u->partners.v[i]) == (int) i)
	    index_add(cc, n->event, u->partners.v[i], v.id);
    if (cp != conds)
	free(cp);
    return (rc);
}

/* compile_user - a user and its views: RDB_OK, or the store's code (STORE_MAP_FULL: grow) */
static int compile_user(COMPILER *cc, const USER *u)
{
    const PROFILE *p = rules_profile(cc->r, u->profile);
    RDB_USER ru;
    size_t  i;
    int     rc;

    memset(&ru, 0, sizeof(ru));
    ru.address = u->address;
    ru.profile = u->profile;
    ru.timezone = u->timezone;
    ru.file = u->file;
    ru.line = (unsigned) u->line;
    ru.first = cc->next_id;
    ru.count = (uint32_t) (p->ndefaults + u->ncustom);
    ru.npartners = u->partners.len;
    ru.partners = u->partners.v;
    if ((rc = rulesdb_put_user(cc->rdb, cc->txn, &ru, cc->why)) != RDB_OK)
	return (rc);
    for (i = 0; i < p->ndefaults; i++)
	if ((rc = compile_view(cc, u, &p->defaults[i])) != RDB_OK)
	    return (rc);
    for (i = 0; i < u->ncustom; i++)
	if ((rc = compile_view(cc, u, &u->custom[i])) != RDB_OK)
	    return (rc);
    return (RDB_OK);
}

static int compile_catalog(COMPILER *cc)
{
    const RULES *r = cc->r;
    size_t  i, j;
    int     rc = 0;

    for (i = 0; rc == 0 && i < r->nfreqs; i++)
	rc = rulesdb_put_freq(cc->rdb, cc->txn, r->freqs[i].name, r->freqs[i].title,
			      r->freqs[i].rrule, (unsigned) i, cc->why);
    for (i = 0; rc == 0 && i < r->nevtypes; i++) {
	const EVTYPE *et = &r->evtypes[i];
	RDB_COND *f = xcalloc(et->nfilters + 1, sizeof(RDB_COND));
	RDB_EVTYPE re;

	for (j = 0; j < et->nfilters; j++) {
	    f[j].filter = et->filters[j].name;
	    f[j].values = et->filters[j].values.v;
	    f[j].nvalues = et->filters[j].values.len;
	}
	memset(&re, 0, sizeof(re));
	re.name = et->name;
	re.title = et->title;
	re.freqs = et->freqs.v;
	re.nfreqs = et->freqs.len;
	re.filters = f;
	re.nfilters = et->nfilters;
	rc = rulesdb_put_evtype(cc->rdb, cc->txn, &re, cc->why);
	free(f);
    }
    return (rc);
}

static int compile_index(COMPILER *cc)
{
    size_t  i;
    int     rc = 0;

    xsort(cc->idx, cc->nidx, sizeof(IENTRY), ientry_cmp);
    for (i = 0; rc == 0 && i < cc->nidx; i++) {
	const STRBUF *val = &cc->packed[cc->idx[i].id - cc->base];

	rc = rulesdb_put_index(cc->rdb, cc->txn, cc->idx[i].key, cc->idx[i].len,
			       val->s, val->len, cc->why);
    }
    return (rc);
}

static void compile_reset(COMPILER *cc)
{
    size_t  i;

    for (i = 0; i < cc->nidx; i++)
	free(cc->idx[i].key);
    free(cc->idx);
    cc->idx = NULL;
    cc->nidx = cc->capidx = 0;
    for (i = cc->base; i < cc->next_id; i++)
	sb_free(&cc->packed[i - cc->base]);
    free(cc->packed);
    cc->packed = NULL;
    cc->cappacked = 0;
    cc->base = cc->next_id = 1;
}

/* compile_once - the whole set in one transaction; a STORE_* code on failure */
static int compile_once(COMPILER *cc, const char *rules_dir, COMPILE_STATS *st)
{
    RDB_META meta;
    size_t  i;
    int     rc;

    compile_reset(cc);
    if ((rc = rulesdb_write_begin(cc->rdb, &cc->txn, &st->generation, cc->why)) < 0)
	return (rc);
    rc = compile_catalog(cc);
    for (i = 0; rc == 0 && i < cc->r->nusers; i++)
	rc = compile_user(cc, &cc->r->users[i]);
    if (rc == 0)
	rc = compile_index(cc);
    memset(&meta, 0, sizeof(meta));
    meta.generation = ++st->generation;
    meta.compiled = (uint64_t) time(NULL);
    meta.notifs = st->notifs = rules_count_notifs(cc->r);
    meta.views = st->views = cc->next_id - 1;
    meta.users = st->users = cc->r->nusers;
    meta.evtypes = st->evtypes = cc->r->nevtypes;
    meta.rules_dir = rules_dir;
    meta.digest = cc->r->digest;
    meta.catalog = cc->r->catalog;
    st->index = cc->nidx;
    st->freqs = cc->r->nfreqs;
    st->profiles = cc->r->nprofiles;
    if (rc == 0)
	rc = rulesdb_put_meta(cc->rdb, cc->txn, &meta, cc->why);
    if (rc != 0) {
	rulesdb_end(cc->rdb, cc->txn);
	return (rc);
    }
    return (rulesdb_commit(cc->rdb, cc->txn, cc->why));
}

/* compile_same - the set in service came from these very files */
static int compile_same(COMPILER *cc, COMPILE_STATS *st)
{
    STRBUF  why = STRBUF_INIT;
    MDB_txn *txn;
    RDB_META m;
    int     same = 0;

    if (rulesdb_read(cc->rdb, &txn, &why) == 0) {
	if (cc->r->digest[0] && rulesdb_get_meta(cc->rdb, txn, &m, &why) == 0 && m.generation
	    && strcmp(m.digest, cc->r->digest) == 0) {
	    same = 1;
	    st->generation = m.generation;
	    st->notifs = m.notifs, st->views = m.views, st->users = m.users;
	    st->evtypes = m.evtypes, st->freqs = cc->r->nfreqs, st->profiles = cc->r->nprofiles;
	    st->unchanged = 1;
	}
	rulesdb_end(cc->rdb, txn);
    }
    sb_free(&why);
    return (same);
}

/*
 * compile_rules - replace the compiled set in STATE_DIR with rules. On a
 * full map the transaction is dropped, the map doubled, and the set written
 * again, until it fits or the map is at its largest.
 */
int     compile_rules(const RULES *rules, const char *rules_dir, const char *state_dir,
		              COMPILE_STATS *stats, STRBUF *why)
{
    COMPILER cc;
    int     rc, tries;

    memset(&cc, 0, sizeof(cc));
    memset(stats, 0, sizeof(*stats));
    cc.r = rules;
    cc.why = why;
    cc.base = cc.next_id = 1;
    if (rulesdb_open(state_dir, 1, &cc.rdb, why) < 0)
	return (-1);
    for (tries = compile_same(&cc, stats) ? COMPILE_TRIES : 0, rc = 0; tries < COMPILE_TRIES;
	 tries++) {
	STRBUF  err = STRBUF_INIT;

	cc.why = &err;
	rc = compile_once(&cc, rules_dir, stats);
	if (rc == STORE_MAP_FULL && (sb_puts(&err, "; "), rulesdb_grow(cc.rdb, &err)) == 0) {
	    sb_free(&err);
	    continue;
	}
	if (rc != 0)
	    sb_puts(why, sb_str(&err));
	sb_free(&err);
	break;
    }
    compile_reset(&cc);
    rulesdb_close(cc.rdb);
    return (rc ? -1 : 0);
}

/*
 * user_once - one user's views replaced in place: the old views and index
 * entries out, the new ones in under fresh ids, the counts adjusted, all
 * in one transaction. COMPILE_WHOLE when the set in service was compiled
 * from another catalog (or never): only a whole compile will do. Else
 * RDB_OK or a STORE_* code (STORE_MAP_FULL: grow and try again).
 */
static int user_once(COMPILER *cc, const USER *u, COMPILE_STATS *st)
{
    RDB_META meta;
    RDB_USER old;
    uint32_t gone = 0, first, old_customs = 0;
    char   *keep_dir, *keep_cat;
    int     rc, existed;

    if ((rc = rulesdb_update_begin(cc->rdb, &cc->txn, &meta, cc->why)) != RDB_OK)
	return (rc == RDB_NONE ? COMPILE_WHOLE : rc);
    if (*meta.catalog == 0 || strcmp(meta.catalog, cc->r->catalog) != 0) {
	rulesdb_end(cc->rdb, cc->txn);
	return (COMPILE_WHOLE);
    }
    meta.rules_dir = keep_dir = xstrdup(meta.rules_dir);	/* LMDB's copies move */
    meta.catalog = keep_cat = xstrdup(meta.catalog);	/* ... at the first write */
    if ((rc = rulesdb_get_user(cc->rdb, cc->txn, u->address, &old, cc->why)) == 0) {
	const PROFILE *p = rules_profile(cc->r, old.profile);

	old_customs = old.count - (p ? (uint32_t) p->ndefaults : 0);
	if (strcmp(old.file, u->file) != 0) {
	    sb_printf(cc->why, "user '%s' is also defined in %s", u->address, old.file);
	    rc = STORE_ERROR;
	}
    }
    existed = rc == RDB_OK;
    if (rc >= 0)
	rc = rulesdb_del_user(cc->rdb, cc->txn, u->address, &gone, cc->why);
    if (rc == 0 && (rc = rulesdb_next_view(cc->rdb, cc->txn, &first, cc->why)) == 0) {
	cc->base = cc->next_id = first;
	rc = compile_user(cc, u);
    }
    if (rc == 0)
	rc = compile_index(cc);
    meta.generation = st->generation = meta.generation + 1;
    meta.compiled = (uint64_t) time(NULL);
    meta.views = st->views = meta.views - gone + (cc->next_id - cc->base);
    meta.notifs = st->notifs = meta.notifs - old_customs + u->ncustom;
    meta.users = st->users = meta.users + !existed;
    meta.digest = "";			/* no longer the digest of any rules.d */
    st->evtypes = meta.evtypes, st->index = cc->nidx;
    if (rc == 0)
	rc = rulesdb_put_meta(cc->rdb, cc->txn, &meta, cc->why);
    free(keep_dir), free(keep_cat);
    if (rc != 0) {
	rulesdb_end(cc->rdb, cc->txn);
	return (rc);
    }
    return (rulesdb_commit(cc->rdb, cc->txn, cc->why));
}

/*
 * compile_user_rules - one user compiled anew into the set in service:
 * what a change to one user needs, in time that does not grow with the
 * other users. rules holds the catalog and that user (rules_load_user),
 * checked. Returns COMPILE_OK, COMPILE_WHOLE when a whole compile is
 * needed (the catalog changed since the set in service was compiled), -1
 * with why. A full map grows (see compile_rules).
 */
int     compile_user_rules(RULESDB *rdb, const RULES *rules, const char *address,
			           COMPILE_STATS *stats, STRBUF *why)
{
    const USER *u = rules_user(rules, address);
    COMPILER cc;
    int     rc, tries;

    memset(stats, 0, sizeof(*stats));
    if (u == NULL) {
	sb_printf(why, "no user %s in the rules read", address);
	return (-1);
    }
    memset(&cc, 0, sizeof(cc));
    cc.r = rules;
    cc.rdb = rdb;
    for (tries = 0, rc = 0; tries < COMPILE_TRIES; tries++) {
	STRBUF  err = STRBUF_INIT;

	cc.why = &err;
	compile_reset(&cc);
	rc = user_once(&cc, u, stats);
	if (rc == STORE_MAP_FULL && (sb_puts(&err, "; "), rulesdb_grow(rdb, &err)) == 0) {
	    sb_free(&err);
	    continue;
	}
	if (rc < 0)
	    sb_puts(why, sb_str(&err));
	sb_free(&err);
	break;
    }
    compile_reset(&cc);
    return (rc == COMPILE_OK || rc == COMPILE_WHOLE ? rc : -1);
}

/*
 * compile_user_file - read the catalog and one user's file from rules_dir,
 * check them, and compile that user into the set in service (see
 * compile_user_rules for the return values).
 */
int     compile_user_file(RULESDB *rdb, const char *rules_dir, const char *user_file,
			          const char *address, COMPILE_STATS *stats, STRBUF *why)
{
    DIAG   *d = diag_create();
    RULES  *r = rules_load_user(rules_dir, user_file, d);
    int     rc = -1;

    if (rules_check(r, d) < 0)
	sb_printf(why, "%s: %s", rules_dir, diag_first(d));
    else
	rc = compile_user_rules(rdb, r, address, stats, why);
    rules_free(r);
    diag_free(d);
    return (rc);
}
