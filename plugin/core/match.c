/*
 * match.c - who hears about an event (see match.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "mem.h"
#include "strutil.h"

/* A list of views, pointing into the read transaction's pages. */
typedef struct views {
    RDB_VIEW *v;
    size_t  len;
    size_t  cap;
} VIEWS;

typedef struct matcher {
    RULESDB *rdb;
    MDB_txn *txn;
    const EVENT *ev;
    int     flags;
    MATCH  *m;
    size_t  caphits;
    size_t  capexcl;
    STRBUF *why;
} MATCHER;

static int views_add(const RDB_VIEW *view, void *ctx)
{
    VIEWS  *vs = ctx;

    if (vs->len == vs->cap) {
	vs->cap = vs->cap ? vs->cap * 2 : 64;
	vs->v = xrealloc(vs->v, vs->cap * sizeof(RDB_VIEW));
    }
    vs->v[vs->len++] = *view;
    return (0);
}

static int view_cmp(const void *a, const void *b)
{
    uint32_t x = ((const RDB_VIEW *) a)->id, y = ((const RDB_VIEW *) b)->id;

    return ((x > y) - (x < y));
}

/* views_sort_unique - by id, without repeats (a user of "*" and a partner) */
static void views_sort_unique(VIEWS *vs)
{
    size_t  i, n = 0;

    if (vs->len > 1)
	xsort(vs->v, vs->len, sizeof(RDB_VIEW), view_cmp);
    for (i = 0; i < vs->len; i++)
	if (n == 0 || vs->v[i].id != vs->v[n - 1].id)
	    vs->v[n++] = vs->v[i];
    vs->len = n;
}

static int views_has(const VIEWS *vs, uint32_t id)
{
    RDB_VIEW key;

    key.id = id;
    return (vs->len && bsearch(&key, vs->v, vs->len, sizeof(RDB_VIEW), view_cmp) != NULL);
}

/*
 * cond_holds - 1 when every condition of the view holds for the event, 0
 * when one does not (reason says which, when asked), -1 on a damaged record.
 */
static int cond_holds(const RDB_VIEW *v, const EVENT *ev, STRBUF *reason)
{
    UNPACK  u = v->condbuf;
    size_t  i, j, nvals;
    const char *filter;

    for (i = 0; i < v->nconds; i++) {
	const char *have, *val;
	int     ok = 0;

	if (rulesdb_cond_next(&u, &filter, &nvals) < 0)
	    return (-1);
	have = event_get(ev, filter);
	if (reason)
	    sb_reset(reason);
	for (j = 0; j < nvals; j++) {
	    val = unpack_str(&u);
	    if (have && str_casecmp(have, val) == 0)
		ok = 1;
	    if (reason)
		sb_printf(reason, "%s%s", j ? ", " : "", val);
	}
	if (u.bad)
	    return (-1);
	if (!ok) {
	    if (reason) {
		char   *want = sb_steal(reason);

		sb_printf(reason, have ? "filter mismatch: %s is \"%s\", wants %s"
			  : "filter mismatch: the event has no %s%s (wants %s)",
			  filter, have ? have : "", want);
		free(want);
	    }
	    return (0);
	}
    }
    return (1);
}

/* add_hit - a delivery (reason NULL) or an exclusion */
static void add_hit(MATCHER *mm, const RDB_VIEW *v, const char *reason)
{
    MATCH_HIT **arr = reason ? &mm->m->excluded : &mm->m->hits;
    size_t *n = reason ? &mm->m->nexcluded : &mm->m->nhits;
    size_t *cap = reason ? &mm->capexcl : &mm->caphits;
    MATCH_HIT *h;

    if (*n == *cap) {
	*cap = *cap ? *cap * 2 : 16;
	*arr = xrealloc(*arr, *cap * sizeof(MATCH_HIT));
    }
    h = &(*arr)[(*n)++];
    h->view = v->id;
    h->recipient = xstrdup(v->user);
    h->notification = xstrdup(v->notif);
    h->kind = v->kind;
    h->frequency = xstrdup(v->frequency);
    h->reason = reason ? xstrdup(reason) : NULL;
}

/* consider - one candidate view: deliver it or say why not */
static int consider(MATCHER *mm, const RDB_VIEW *v)
{
    STRBUF  reason = STRBUF_INIT;
    int     explain = mm->flags & MATCH_EXPLAIN;
    int     rc;

    if (v->muted != RDB_ACTIVE) {
	if (explain)
	    add_hit(mm, v, v->muted == RDB_MUTED_USER ? "muted by the user"
		    : "muted in its definition");
	return (0);
    }
    rc = cond_holds(v, mm->ev, explain ? &reason : NULL);
    if (rc < 0)
	sb_printf(mm->why, "damaged view %u: run 'crierctl compile'", v->id);
    else if (rc > 0)
	add_hit(mm, v, NULL);
    else if (explain)
	add_hit(mm, v, sb_str(&reason));
    sb_free(&reason);
    return (rc < 0 ? -1 : 0);
}

/*
 * match_view - whether view v delivers ev to a user of the given partners
 * ("*": every one), as match_event decides for its candidates: the event
 * type and a partner of the user, not muted, every condition. 1 or 0, or
 * -1 for a damaged view. For one view alone (the panel's preview).
 */
int     match_view(const RDB_VIEW *v, char *const *partners, size_t npartners,
		           const EVENT *ev)
{
    size_t  i;

    if (v->muted != RDB_ACTIVE || strcmp(v->event, ev->type) != 0)
	return (0);
    for (i = 0; i < npartners; i++)
	if (strcmp(partners[i], "*") == 0 || str_casecmp(partners[i], ev->partner) == 0)
	    return (cond_holds(v, ev, NULL));
    return (0);
}

/* other_partner - explain a view of this event type whose user is elsewhere */
static int other_partner(MATCHER *mm, const RDB_VIEW *v)
{
    STRBUF  reason = STRBUF_INIT;
    RDB_USER u;
    size_t  i;

    if (rulesdb_get_user(mm->rdb, mm->txn, v->user, &u, mm->why) != 0)
	return (-1);
    sb_printf(&reason, "other partner: the event is for \"%s\"; the user belongs to ",
	      mm->ev->partner);
    for (i = 0; i < u.npartners; i++)
	sb_printf(&reason, "%s\"%s\"", i ? ", " : "", unpack_str(&u.partbuf));
    add_hit(mm, v, sb_str(&reason));
    sb_free(&reason);
    return (0);
}

/* The views of the event type that are not candidates, up to a limit. */
typedef struct others {
    VIEWS   v;
    const VIEWS *seen;			/* the candidates */
    size_t  limit;
    int     cut;			/* stopped at the limit */
} OTHERS;

static int others_add(const RDB_VIEW *view, void *ctx)
{
    OTHERS *o = ctx;

    if (views_has(o->seen, view->id))
	return (0);
    if (o->v.len == o->limit) {
	o->cut = 1;
	return (1);
    }
    return (views_add(view, &o->v));
}

/*
 * explain_others - every view of the event type not among the candidates,
 * or with MATCH_EXPLAIN_FEW the first MATCH_FEW found (m->others_cut says
 * when there may be more), so that the cost stays near the candidates'
 */
static int explain_others(MATCHER *mm, const VIEWS *seen)
{
    OTHERS  o = {{NULL, 0, 0}, seen, (mm->flags & MATCH_EXPLAIN_FEW) ? MATCH_FEW : SIZE_MAX, 0};
    size_t  i;
    int     rc;

    rc = rulesdb_index_each(mm->rdb, mm->txn, mm->ev->type, NULL, others_add, &o, mm->why);
    if (o.cut)				/* a stop, not a failure */
	rc = 0, mm->m->others_cut = 1;
    views_sort_unique(&o.v);
    for (i = 0; rc == 0 && i < o.v.len; i++)
	rc = other_partner(mm, &o.v.v[i]);
    free(o.v.v);
    return (rc);
}

static int list_evtype(const RDB_EVTYPE *et, void *ctx)
{
    STRBUF *sb = ctx;

    sb_printf(sb, "%s%s", sb->len ? ", " : "", et->name);
    return (0);
}

/* unknown_type - the reason for an event type the catalog lacks */
static int unknown_type(MATCHER *mm)
{
    STRBUF  names = STRBUF_INIT;

    if (rulesdb_evtypes_each(mm->rdb, mm->txn, list_evtype, &names, mm->why) < 0) {
	sb_free(&names);
	return (MATCH_ERROR);
    }
    sb_printf(mm->why, "unknown event type \"%s\" (the catalog offers: %s)",
	      mm->ev->type, sb_str(&names));
    sb_free(&names);
    return (MATCH_BAD_EVENT);
}

static int hit_cmp(const void *a, const void *b)
{
    const MATCH_HIT *x = a, *y = b;
    int     c = str_casecmp(x->recipient, y->recipient);

    if (c == 0)
	c = strcmp(x->frequency, y->frequency);
    return (c ? c : strcmp(x->notification, y->notification));
}

/* candidates - the views under (type, partner) and (type, "*"), sorted, unique */
static int candidates(MATCHER *mm, VIEWS *vs)
{
    if (rulesdb_index_each(mm->rdb, mm->txn, mm->ev->type, mm->ev->partner, views_add, vs,
			   mm->why) < 0
	|| rulesdb_index_each(mm->rdb, mm->txn, mm->ev->type, "*", views_add, vs, mm->why) < 0)
	return (-1);
    views_sort_unique(vs);
    return (0);
}

int     match_event(RULESDB *rdb, MDB_txn *txn, const EVENT *ev, int flags,
		            MATCH **out, STRBUF *why)
{
    MATCHER mm;
    RDB_EVTYPE et;
    VIEWS   cand = {NULL, 0, 0};
    size_t  i;
    int     rc;

    memset(&mm, 0, sizeof(mm));
    mm.rdb = rdb;
    mm.txn = txn;
    mm.ev = ev;
    mm.flags = flags;
    mm.why = why;
    *out = NULL;
    if ((rc = rulesdb_get_evtype(rdb, txn, ev->type, &et, why)) != 0)
	return (rc < 0 ? MATCH_ERROR : unknown_type(&mm));
    mm.m = xcalloc(1, sizeof(MATCH));
    mm.m->title = xstrdup(et.title);
    rc = candidates(&mm, &cand);
    mm.m->ncandidates = cand.len;
    for (i = 0; rc == 0 && i < cand.len; i++)
	rc = consider(&mm, &cand.v[i]);
    if (rc == 0 && (flags & MATCH_EXPLAIN))
	rc = explain_others(&mm, &cand);
    free(cand.v);
    if (rc < 0) {
	match_free(mm.m);
	return (MATCH_ERROR);
    }
    if (mm.m->nhits > 1)
	xsort(mm.m->hits, mm.m->nhits, sizeof(MATCH_HIT), hit_cmp);
    if (mm.m->nexcluded > 1)
	xsort(mm.m->excluded, mm.m->nexcluded, sizeof(MATCH_HIT), hit_cmp);
    *out = mm.m;
    return (MATCH_OK);
}

/*
 * match_group_end - deliveries come grouped: one message per recipient and
 * frequency, listing every notification that matched. Returns the index
 * past the group that starts at start.
 */
size_t  match_group_end(const MATCH *m, size_t start)
{
    size_t  i = start + 1;

    while (i < m->nhits && str_casecmp(m->hits[i].recipient, m->hits[start].recipient) == 0
	   && strcmp(m->hits[i].frequency, m->hits[start].frequency) == 0)
	i++;
    return (i);
}

/* match_kind_name - "default" or "custom", as explain and the log say it */
const char *match_kind_name(int kind)
{
    return (kind == 'd' ? "default" : "custom");
}

static void hits_free(MATCH_HIT *h, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
	free(h[i].recipient);
	free(h[i].notification);
	free(h[i].frequency);
	free(h[i].reason);
    }
    free(h);
}

void    match_free(MATCH *m)
{
    if (m == NULL)
	return;
    hits_free(m->hits, m->nhits);
    hits_free(m->excluded, m->nexcluded);
    free(m->title);
    free(m);
}
