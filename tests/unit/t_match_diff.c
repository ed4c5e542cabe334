/*
 * t_match_diff.c - differential test of the indexed matcher.
 *
 * Random rule sets (small catalogs, so that notifications collide often:
 * shared partners, "*" users, mutes, values in any case) are checked,
 * compiled into a temporary store, and matched against random events. The
 * indexed matcher must give exactly the deliveries of a brute-force
 * reference written here straight from the definition in crier-rules(5);
 * with MATCH_EXPLAIN, every view of the event type must be accounted for
 * once, as a delivery or with a reason; with MATCH_EXPLAIN_FEW too, but
 * for the views of other partners past MATCH_FEW. Every event must parse
 * and be compared, and the deliveries in all must be many: a run that
 * compares nothing fails.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compile.h"
#include "match.h"
#include "mem.h"
#include "rules.h"
#include "strutil.h"
#include "tap.h"

#define SEEDS		25		/* rule sets */
#define EVENTS_PER_SEED	300		/* events matched against each */
#define MIN_DELIVERIES	10000		/* in all (16634 today): not empty comparisons */

static unsigned long long rnd_state;
static const char *const gen_file = "generated.conf";
static unsigned long compared;		/* events matched both ways */
static unsigned long delivered;		/* deliveries the reference found */
static unsigned long cut;		/* MATCH_EXPLAIN_FEW left others out */

static unsigned rnd(unsigned n)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return ((unsigned) (rnd_state % n));
}

/* any_case - s with each letter in a random case */
static char *any_case(const char *s)
{
    char   *r = xstrdup(s), *p;

    for (p = r; *p; p++)
	if (rnd(2))
	    *p = (char) ((*p >= 'a' && *p <= 'z') ? *p - 32 : (*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
    return (r);
}

static void make_catalog(RULES *r)
{
    static const char *const vals[] = {"Alpha", "Beta", "Gamma"};
    size_t  i, j, k;

    r->nfreqs = 2;
    r->freqs = xcalloc(2, sizeof(FREQ));
    r->freqs[0].name = xstrdup("immediately");
    r->freqs[1].name = xstrdup("daily");
    r->freqs[1].rrule = xstrdup("FREQ=DAILY;BYHOUR=9;BYMINUTE=0");
    r->nevtypes = 3;
    r->evtypes = xcalloc(3, sizeof(EVTYPE));
    for (i = 0; i < 3; i++) {
	EVTYPE *et = &r->evtypes[i];
	char    name[16];

	snprintf(name, sizeof(name), "e%zu", i);
	et->name = xstrdup(name);
	et->title = xstrdup(name);
	et->file = gen_file;
	et->nfilters = 3;
	et->filters = xcalloc(3, sizeof(FILTER));
	for (j = 0; j < 3; j++) {
	    snprintf(name, sizeof(name), "f%zu", j);
	    et->filters[j].name = xstrdup(name);
	    for (k = 0; j < 2 && k < 3; k++)	/* f2 is free text */
		strv_add(&et->filters[j].values, vals[k]);
	}
	strv_add(&et->freqs, "immediately");
	strv_add(&et->freqs, "daily");
    }
}

/* random_notif - 1 to 3 conditions on distinct filters */
static void random_notif(NOTIF *n, const char *name, const char *owner, int kind)
{
    static const char *const vals[] = {"alpha", "beta", "gamma"};
    static const char *const free_vals[] = {"x", "y", "z"};
    size_t  i, k, want = 1 + rnd(3);
    unsigned used = 0;
    char    id[64];

    n->name = xstrdup(name);
    snprintf(id, sizeof(id), "%s%s%s", owner ? owner : "", owner ? "/" : "", name);
    n->id = xstrdup(id);
    n->kind = kind;
    n->event = xstrdup(rnd(3) == 0 ? "e0" : rnd(2) ? "e1" : "e2");
    n->frequency = xstrdup(rnd(2) ? "immediately" : "daily");
    n->muted = rnd(10) == 0;
    n->file = gen_file;
    n->conds = xcalloc(3, sizeof(COND));
    while (n->nconds < want) {
	unsigned f = rnd(3);
	COND   *c;
	char    fname[8];

	if (used & (1u << f))
	    continue;
	used |= 1u << f;
	c = &n->conds[n->nconds++];
	snprintf(fname, sizeof(fname), "f%u", f);
	c->filter = xstrdup(fname);
	for (i = 0, k = 1 + rnd(2); i < k; i++)
	    strv_take(&c->values, any_case(f < 2 ? vals[rnd(3)] : free_vals[rnd(3)]));
    }
}

/* add_unique - append a random notification unless the view already has it */
static void add_unique(NOTIF **arr, size_t *n, STRV *keys, const char *name,
		               const char *owner, int kind)
{
    NOTIF   tmp;
    char   *key;

    memset(&tmp, 0, sizeof(tmp));
    random_notif(&tmp, name, owner, kind);
    key = rules_notif_key(&tmp);
    if (strv_find_case(keys, key) >= 0) {
	size_t  i;

	for (i = 0; i < tmp.nconds; i++) {
	    free(tmp.conds[i].filter);
	    strv_free(&tmp.conds[i].values);
	}
	free(tmp.conds), free(tmp.name), free(tmp.id), free(tmp.event), free(tmp.frequency);
	free(key);
	return;
    }
    strv_take(keys, key);
    *arr = xrealloc(*arr, (*n + 1) * sizeof(NOTIF));
    (*arr)[(*n)++] = tmp;
}

static void make_profiles(RULES *r, STRV *pkeys)
{
    size_t  i, j;
    char    name[16];

    r->nprofiles = 2;
    r->profiles = xcalloc(2, sizeof(PROFILE));
    for (i = 0; i < 2; i++) {
	PROFILE *p = &r->profiles[i];

	snprintf(name, sizeof(name), "p%zu", i);
	p->name = xstrdup(name);
	p->title = xstrdup(name);
	p->file = gen_file;
	for (j = 0; j < 4; j++) {
	    snprintf(name, sizeof(name), "d%zu", j);
	    add_unique(&p->defaults, &p->ndefaults, &pkeys[i], name, p->name, NOTIF_DEFAULT);
	}
    }
}

static void make_user(RULES *r, USER *u, size_t i, const STRV *pkeys)
{
    static const char *const partners[] = {"North", "South", "East", "West"};
    const PROFILE *p = &r->profiles[rnd(2)];
    STRV    keys = STRV_INIT;
    size_t  j, n;
    char    buf[64];

    snprintf(buf, sizeof(buf), "u%02zu@example.org", i);
    u->address = xstrdup(buf);
    u->profile = xstrdup(p->name);
    u->timezone = xstrdup("Europe/Berlin");
    u->file = gen_file;
    if (rnd(8) == 0)
	strv_add(&u->partners, "*");
    for (j = 0, n = 1 + rnd(2); u->partners.len == 0 && j < n; j++)
	strv_take(&u->partners, any_case(partners[rnd(4)]));
    for (j = 0; j < pkeys[p == &r->profiles[0] ? 0 : 1].len; j++)
	strv_add(&keys, pkeys[p == &r->profiles[0] ? 0 : 1].v[j]);
    for (j = 0, n = rnd(6); j < n; j++) {
	snprintf(buf, sizeof(buf), "c%zu", j);
	add_unique(&u->custom, &u->ncustom, &keys, buf, NULL, NOTIF_CUSTOM);
    }
    u->muted_lines = xcalloc(p->ndefaults + 1, sizeof(int));
    for (j = 0; j < p->ndefaults; j++)
	if (rnd(4) == 0)
	    strv_add(&u->muted, p->defaults[j].id);
    strv_free(&keys);
}

static RULES *make_rules(void)
{
    RULES  *r = xcalloc(1, sizeof(RULES));
    STRV    pkeys[2] = {STRV_INIT, STRV_INIT};
    size_t  i;

    make_catalog(r);
    make_profiles(r, pkeys);
    r->nusers = 40;
    r->users = xcalloc(r->nusers, sizeof(USER));
    for (i = 0; i < r->nusers; i++)
	make_user(r, &r->users[i], i, pkeys);
    strv_free(&pkeys[0]);
    strv_free(&pkeys[1]);
    return (r);
}

/* brute_holds - the definition, read straight from crier-rules(5) */
static int brute_holds(const USER *u, const NOTIF *n, const EVENT *ev)
{
    size_t  i, j;
    int     partner = 0;

    if (strcmp(n->event, ev->type) != 0)
	return (0);
    for (i = 0; i < u->partners.len; i++)
	if (strcmp(u->partners.v[i], "*") == 0 || str_casecmp(u->partners.v[i], ev->partner) == 0)
	    partner = 1;
    if (!partner || n->muted || strv_find_case(&u->muted, n->id) >= 0)
	return (0);
    for (i = 0; i < n->nconds; i++) {
	const char *have = event_get(ev, n->conds[i].filter);
	int     ok = 0;

	for (j = 0; have && j < n->conds[i].values.len; j++)
	    if (str_casecmp(have, n->conds[i].values.v[j]) == 0)
		ok = 1;
	if (!ok)
	    return (0);
    }
    return (1);
}

static void brute_add(STRV *out, const USER *u, const NOTIF *n, const EVENT *ev, size_t *seen)
{
    char    line[256];

    if (strcmp(n->event, ev->type) == 0)
	(*seen)++;
    if (!brute_holds(u, n, ev))
	return;
    snprintf(line, sizeof(line), "%s %s %s", u->address, n->id, n->frequency);
    strv_add(out, line);
}

/* brute - every view of every user; *seen counts views of the event type */
static void brute(const RULES *r, const EVENT *ev, STRV *out, size_t *seen)
{
    size_t  i, j;

    *seen = 0;
    for (i = 0; i < r->nusers; i++) {
	const USER *u = &r->users[i];
	const PROFILE *p = rules_profile(r, u->profile);

	for (j = 0; j < p->ndefaults; j++)
	    brute_add(out, u, &p->defaults[j], ev, seen);
	for (j = 0; j < u->ncustom; j++)
	    brute_add(out, u, &u->custom[j], ev, seen);
    }
    strv_sort(out);
}

static void hits_strv(const MATCH *m, STRV *out)
{
    size_t  i;
    char    line[256];

    for (i = 0; i < m->nhits; i++) {
	snprintf(line, sizeof(line), "%s %s %s", m->hits[i].recipient, m->hits[i].notification,
		 m->hits[i].frequency);
	strv_add(out, line);
    }
    strv_sort(out);
}

static EVENT *random_event(unsigned k)
{
    static const char *const partners[] = {"north", "SOUTH", "East", "west", "Nowhere"};
    static const char *const vals[] = {"alpha", "BETA", "Gamma", "delta", "x", "y", "Z"};
    STRBUF  text = STRBUF_INIT, why = STRBUF_INIT;
    EVENT  *ev = NULL;

    sb_printf(&text, "Event: E%u\nEvent-Id: ev-%u\nPartner: %s\n", rnd(3), k, partners[rnd(5)]);
    if (rnd(4))
	sb_printf(&text, "F0: %s\n", vals[rnd(4)]);
    if (rnd(4))
	sb_printf(&text, "f1: %s\n", vals[rnd(4)]);
    if (rnd(4))
	sb_printf(&text, "F2: %s\n", vals[4 + rnd(3)]);
    CHECK(event_parse(text.s, text.len, &ev, &why) == 0, "event %u does not parse: %s",
	  k, sb_str(&why));
    sb_free(&text);
    sb_free(&why);
    return (ev);
}

static int same(const STRV *a, const STRV *b)
{
    size_t  i;

    if (a->len != b->len)
	return (0);
    for (i = 0; i < a->len; i++)
	if (strcmp(a->v[i], b->v[i]) != 0)
	    return (0);
    return (1);
}

/* others - how many exclusions are for another partner */
static size_t others(const MATCH *m)
{
    size_t  i, n = 0;

    for (i = 0; i < m->nexcluded; i++)
	n += strncmp(m->excluded[i].reason, "other partner:", 14) == 0;
    return (n);
}

/*
 * check_few - MATCH_EXPLAIN_FEW: the deliveries and the candidates'
 * reasons of the full explanation, and at most MATCH_FEW others (all of
 * them unless it says it cut)
 */
static void check_few(RULESDB *rdb, MDB_txn *txn, const EVENT *ev, const MATCH *mx,
		              const STRV *deliveries)
{
    STRV    got = STRV_INIT;
    STRBUF  why = STRBUF_INIT;
    MATCH  *mf = NULL;

    CHECK(match_event(rdb, txn, ev, MATCH_EXPLAIN | MATCH_EXPLAIN_FEW, &mf, &why) == MATCH_OK,
	  "%s", sb_str(&why));
    if (mf) {
	hits_strv(mf, &got);
	CHECK(same(deliveries, &got), "event %s: explain few changes the deliveries", ev->id);
	CHECK(mf->nexcluded - others(mf) == mx->nexcluded - others(mx), "event %s: explain "
	      "few gives other reasons for the candidates", ev->id);
	CHECK(others(mf) <= MATCH_FEW && (mf->others_cut || others(mf) == others(mx)),
	      "event %s: %zu others of %zu, cut %d", ev->id, others(mf), others(mx),
	      mf->others_cut);
	cut += mf->others_cut;
    }
    match_free(mf);
    strv_free(&got);
    sb_free(&why);
}

/* one_event - indexed against brute force, plain and explained */
static void one_event(const RULES *r, RULESDB *rdb, MDB_txn *txn, const EVENT *ev)
{
    STRV    want = STRV_INIT, got = STRV_INIT, got2 = STRV_INIT;
    STRBUF  why = STRBUF_INIT;
    MATCH  *m = NULL, *mx = NULL;
    size_t  seen, i;

    brute(r, ev, &want, &seen);
    CHECK(match_event(rdb, txn, ev, 0, &m, &why) == MATCH_OK, "%s", sb_str(&why));
    CHECK(match_event(rdb, txn, ev, MATCH_EXPLAIN, &mx, &why) == MATCH_OK, "%s", sb_str(&why));
    if (m && mx) {
	hits_strv(m, &got);
	hits_strv(mx, &got2);
	CHECK(same(&want, &got), "event %s: brute %zu deliveries, indexed %zu", ev->id,
	      want.len, got.len);
	CHECK(same(&got, &got2), "event %s: explain changes the deliveries", ev->id);
	compared++;
	delivered += want.len;
	CHECK(mx->nhits + mx->nexcluded == seen, "event %s: %zu views of the type, "
	      "explain accounts for %zu", ev->id, seen, mx->nhits + mx->nexcluded);
	for (i = 0; i < mx->nexcluded; i++)
	    CHECK(mx->excluded[i].reason && *mx->excluded[i].reason, "no reason");
	check_few(rdb, txn, ev, mx, &got);
    }
    match_free(m);
    match_free(mx);
    strv_free(&want);
    strv_free(&got);
    strv_free(&got2);
    sb_free(&why);
}

static void one_seed(unsigned seed, const char *state)
{
    RULES  *r;
    DIAG   *d = diag_create();
    COMPILE_STATS st;
    STRBUF  why = STRBUF_INIT;
    RULESDB *rdb = NULL;
    MDB_txn *txn = NULL;
    unsigned k;

    rnd_state = 0x9e3779b97f4a7c15ULL * (seed + 1);
    r = make_rules();
    CHECK(rules_check(r, d) == 0, "seed %u: generated rules do not check: %s", seed,
	  diag_first(d));
    CHECK(compile_rules(r, "generated", state, &st, &why) == 0, "%s", sb_str(&why));
    CHECK(rulesdb_open(state, 0, &rdb, &why) == 0, "%s", sb_str(&why));
    CHECK(rdb && rulesdb_read(rdb, &txn, &why) == 0, "%s", sb_str(&why));
    for (k = 0; txn && k < EVENTS_PER_SEED; k++) {
	EVENT  *ev = random_event(k);

	if (ev)
	    one_event(r, rdb, txn, ev);
	event_free(ev);
    }
    if (txn)
	rulesdb_end(rdb, txn);
    rulesdb_close(rdb);
    rules_free(r);
    diag_free(d);
    sb_free(&why);
}

int     main(void)
{
    char    state[] = "/tmp/t_match_diff.XXXXXX";
    char    cmd[128];
    unsigned seed;

    if (mkdtemp(state) == NULL)
	return (99);
    for (seed = 0; seed < SEEDS; seed++)
	one_seed(seed, state);
    CHECK(compared == SEEDS * EVENTS_PER_SEED, "only %lu of %d events compared", compared,
	  SEEDS * EVENTS_PER_SEED);
    CHECK(delivered >= MIN_DELIVERIES, "only %lu deliveries in all: the rule sets or events "
	  "match too little to compare", delivered);
    CHECK(cut > 0, "MATCH_EXPLAIN_FEW never left others out: its limit is not tested");
    printf("t_match_diff: %lu events compared, %lu deliveries, %lu explanations cut at %d "
	   "others\n", compared, delivered, cut, MATCH_FEW);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
    if (system(cmd) != 0)
	fprintf(stderr, "cannot remove %s\n", state);
    return (tap_done("t_match_diff"));
}
