/*
 * match.c - who hears about an event (see match.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "mem.h"
#include "strutil.h"

typedef struct ids {
    uint32_t *v;
    size_t  len;
    size_t  cap;
} IDS;

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

static int ids_add(uint32_t id, void *ctx)
{
    IDS    *ids = ctx;

    if (ids->len == ids->cap) {
	ids->cap = ids->cap ? ids->cap * 2 : 64;
	ids->v = xrealloc(ids->v, ids->cap * sizeof(uint32_t));
    }
    ids->v[ids->len++] = id;
    return (0);
}

static int id_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

    return ((x > y) - (x < y));
}

/* ids_sort_unique - sort and drop repeats (a view indexed under two partners) */
static void ids_sort_unique(IDS *ids)
{
    size_t  i, n = 0;

    if (ids->len > 1)
	qsort(ids->v, ids->len, sizeof(uint32_t), id_cmp);
    for (i = 0; i < ids->len; i++)
	if (n == 0 || ids->v[i] != ids->v[n - 1])
	    ids->v[n++] = ids->v[i];
    ids->len = n;
}

static int ids_has(const IDS *ids, uint32_t id)
{
    return (ids->len && bsearch(&id, ids->v, ids->len, sizeof(uint32_t), id_cmp) != NULL);
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
static int consider(MATCHER *mm, uint32_t id)
{
    STRBUF  reason = STRBUF_INIT;
    int     explain = mm->flags & MATCH_EXPLAIN;
    RDB_VIEW v;
    int     rc;

    if ((rc = rulesdb_get_view(mm->rdb, mm->txn, id, &v, mm->why)) != 0) {
	if (rc > 0)
	    sb_printf(mm->why, "index names view %u, which does not exist", id);
	return (-1);
    }
    if (v.muted != RDB_ACTIVE) {
	if (explain)
	    add_hit(mm, &v, v.muted == RDB_MUTED_USER ? "muted by the user"
		    : "muted in its definition");
	return (0);
    }
    rc = cond_holds(&v, mm->ev, explain ? &reason : NULL);
    if (rc < 0)
	sb_printf(mm->why, "damaged view %u: run 'crierctl compile'", id);
    else if (rc > 0)
	add_hit(mm, &v, NULL);
    else if (explain)
	add_hit(mm, &v, sb_str(&reason));
    sb_free(&reason);
    return (rc < 0 ? -1 : 0);
}

/* other_partner - explain a view of this event type whose user is elsewhere */
static int other_partner(MATCHER *mm, uint32_t id)
{
    STRBUF  reason = STRBUF_INIT;
    RDB_VIEW v;
    RDB_USER u;
    size_t  i;

    if (rulesdb_get_view(mm->rdb, mm->txn, id, &v, mm->why) != 0
	|| rulesdb_get_user(mm->rdb, mm->txn, v.user, &u, mm->why) != 0)
	return (-1);
    sb_printf(&reason, "other partner: the event is for \"%s\"; the user belongs to ",
	      mm->ev->partner);
    for (i = 0; i < u.npartners; i++)
	sb_printf(&reason, "%s\"%s\"", i ? ", " : "", unpack_str(&u.partbuf));
    add_hit(mm, &v, sb_str(&reason));
    sb_free(&reason);
    return (0);
}

typedef struct other_ctx {
    MATCHER *mm;
    const IDS *seen;
    IDS     done;
} OTHER_CTX;

static int other_each(uint32_t id, void *ctx)
{
    OTHER_CTX *oc = ctx;

    if (ids_has(oc->seen, id))
	return (0);
    ids_add(id, &oc->done);
    return (0);
}

/* explain_others - every view of the event type not among the candidates */
static int explain_others(MATCHER *mm, const IDS *seen)
{
    OTHER_CTX oc;
    size_t  i;
    int     rc;

    memset(&oc, 0, sizeof(oc));
    oc.mm = mm;
    oc.seen = seen;
    rc = rulesdb_index_each(mm->rdb, mm->txn, mm->ev->type, NULL, other_each, &oc, mm->why);
    ids_sort_unique(&oc.done);
    for (i = 0; rc == 0 && i < oc.done.len; i++)
	rc = other_partner(mm, oc.done.v[i]);
    free(oc.done.v);
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
static int candidates(MATCHER *mm, IDS *ids)
{
    if (rulesdb_index_each(mm->rdb, mm->txn, mm->ev->type, mm->ev->partner, ids_add, ids,
			   mm->why) < 0
	|| rulesdb_index_each(mm->rdb, mm->txn, mm->ev->type, "*", ids_add, ids, mm->why) < 0)
	return (-1);
    ids_sort_unique(ids);
    return (0);
}

int     match_event(RULESDB *rdb, MDB_txn *txn, const EVENT *ev, int flags,
		            MATCH **out, STRBUF *why)
{
    MATCHER mm;
    RDB_EVTYPE et;
    IDS     ids = {NULL, 0, 0};
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
    rc = candidates(&mm, &ids);
    for (i = 0; rc == 0 && i < ids.len; i++)
	rc = consider(&mm, ids.v[i]);
    if (rc == 0 && (flags & MATCH_EXPLAIN))
	rc = explain_others(&mm, &ids);
    free(ids.v);
    if (rc < 0) {
	match_free(mm.m);
	return (MATCH_ERROR);
    }
    if (mm.m->nhits > 1)
	qsort(mm.m->hits, mm.m->nhits, sizeof(MATCH_HIT), hit_cmp);
    if (mm.m->nexcluded > 1)
	qsort(mm.m->excluded, mm.m->nexcluded, sizeof(MATCH_HIT), hit_cmp);
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
