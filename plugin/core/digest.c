/*
 * digest.c - when a recipient's digest is due (see digest.h).
 */
#include "config.h"

#include <stdlib.h>

#include "digest.h"
#include "mem.h"
#include "schedule.h"

/* digest_zone - the recipient's time zone, or the configured default */
const char *digest_zone(RULESDB *rdb, MDB_txn *txn, const char *default_tz, const char *recipient)
{
    STRBUF  why = STRBUF_INIT;
    RDB_USER u;
    const char *tz = default_tz;

    if (rulesdb_get_user(rdb, txn, recipient, &u, &why) == 0 && *u.timezone)
	tz = u.timezone;		/* valid: rules_check() saw to it */
    sb_free(&why);
    return (tz);
}

/*
 * digest_due - the due time of a digest whose oldest item arrived at
 * after. Returns DIGEST_OK, DIGEST_NO_USER or DIGEST_NO_SCHEDULE (both
 * due at once; the latter with why), or -1 with why when the rules
 * cannot be read.
 */
int     digest_due(RULESDB *rdb, MDB_txn *txn, const char *default_tz, const char *recipient,
		           const char *frequency, time_t after, time_t *due, STRBUF *why)
{
    const char *title, *rrule = "";
    unsigned pos;
    RDB_USER u;
    int     rc;

    *due = after;
    if ((rc = rulesdb_get_user(rdb, txn, recipient, &u, why)) != 0)
	return (rc < 0 ? -1 : DIGEST_NO_USER);
    if ((rc = rulesdb_get_freq(rdb, txn, frequency, &title, &rrule, &pos, why)) < 0)
	return (-1);
    if (rc > 0 || *rrule == 0)
	return (DIGEST_OK);
    if (sched_next(rrule, *u.timezone ? u.timezone : default_tz, after, due, why) < 0) {
	*due = after;
	return (DIGEST_NO_SCHEDULE);
    }
    return (DIGEST_OK);
}

#define REPLAN_PAGE	1000		/* digests per read transaction */
#define REPLAN_COMMIT	20000		/* new due times per write transaction */

/* A page of pending digests, copied out of the read transaction. */
typedef struct page {
    SDB_GROUP v[REPLAN_PAGE];
    size_t  len;
} PAGE;

static int page_add(const SDB_GROUP *g, void *ctx)
{
    PAGE   *pg = ctx;

    pg->v[pg->len].recipient = xstrdup(g->recipient);
    pg->v[pg->len].frequency = xstrdup(g->frequency);
    pg->v[pg->len++].due = g->due;
    return (pg->len == REPLAN_PAGE);
}

static int oldest_item(const SDB_ITEM *it, void *ctx)
{
    *(uint64_t *) ctx = it->arrived;
    return (1);				/* items are in arrival order */
}

/* replan_page - new due times for one page; the changed ones are moved to its front */
static int replan_page(RULESDB *rdb, STATEDB *sdb, const char *default_tz, PAGE *pg,
		               size_t *nchanged, DIGEST_REPLAN *st, STRBUF *why)
{
    STRBUF  sched = STRBUF_INIT;
    MDB_txn *rtxn = NULL, *stxn = NULL;
    uint64_t oldest;
    time_t  due;
    size_t  i;
    int     rc = 0;
    SDB_GROUP t;

    *nchanged = 0;
    if (rulesdb_read(rdb, &rtxn, why) < 0 || statedb_read(sdb, &stxn, why) < 0)
	rc = -1;
    for (i = 0; rc >= 0 && i < pg->len; i++) {
	oldest = 0;
	if ((rc = statedb_items_each(sdb, stxn, pg->v[i].recipient, pg->v[i].frequency,
				     oldest_item, &oldest, why)) < 0
	    || (rc = digest_due(rdb, rtxn, default_tz, pg->v[i].recipient, pg->v[i].frequency,
				(time_t) oldest, &due, &sched)) < 0)
	    break;
	if (rc == DIGEST_NO_SCHEDULE && st->at_once++ == 0)
	    sb_printf(&st->first_why, "to=<%s> frequency=%s: %s", pg->v[i].recipient,
		      pg->v[i].frequency, sched.s);
	sb_reset(&sched);
	if ((uint64_t) due == pg->v[i].due)
	    continue;
	t = pg->v[*nchanged], pg->v[*nchanged] = pg->v[i], pg->v[i] = t;
	pg->v[(*nchanged)++].due = (uint64_t) due;
    }
    if (rc < 0 && sched.len)
	sb_puts(why, sched.s);
    if (rtxn)
	rulesdb_end(rdb, rtxn);
    if (stxn)
	statedb_end(sdb, stxn);
    sb_free(&sched);
    return (rc < 0 ? -1 : 0);
}

/* Changed due times waiting for their write transaction. */
typedef struct moves {
    SDB_GROUP *v;
    size_t  len;
    size_t  cap;
} MOVES;

static void moves_forget(MOVES *mv)
{
    size_t  i;

    for (i = 0; i < mv->len; i++) {
	free((void *) mv->v[i].recipient);
	free((void *) mv->v[i].frequency);
    }
    mv->len = 0;
}

/* moves_flush - write the waiting due times in one transaction, then forget them */
static int moves_flush(STATEDB *sdb, MOVES *mv, DIGEST_REPLAN *st, STRBUF *why)
{
    int     rc = mv->len ? statedb_reschedule(sdb, mv->v, mv->len, why) : 0;

    st->moved += rc == 0 ? mv->len : 0;
    moves_forget(mv);
    return (rc);
}

/* page_done - the page's changed digests join the moves; the rest is freed */
static void page_done(PAGE *pg, size_t nchanged, MOVES *mv)
{
    size_t  i;

    for (i = 0; i < pg->len; i++) {
	if (i < nchanged) {
	    if (mv->len == mv->cap)
		mv->v = xrealloc(mv->v, (mv->cap = mv->cap ? 2 * mv->cap : 1024)
				 * sizeof(SDB_GROUP));
	    mv->v[mv->len++] = pg->v[i];
	    continue;
	}
	free((void *) pg->v[i].recipient);
	free((void *) pg->v[i].frequency);
    }
}

/*
 * digest_replan - every pending digest's due time again, under the rules
 * in service now (they changed). A page of digests is read at a time (one
 * short read transaction of each store), and the new due times are
 * written REPLAN_COMMIT at a time: a move rewrites scattered pages of the
 * due index, so few large commits are what makes 10^6 digests take
 * seconds. Returns 0 or -1 with why (what was written stays written; the
 * next replan finishes the job).
 */
int     digest_replan(RULESDB *rdb, STATEDB *sdb, const char *default_tz, DIGEST_REPLAN *st,
		              STRBUF *why)
{
    PAGE   *pg = xcalloc(1, sizeof(PAGE));
    MOVES   mv = {NULL, 0, 0};
    char   *last_r = NULL, *last_f = NULL;
    MDB_txn *txn;
    size_t  n = 0;
    int     rc;

    do {
	pg->len = 0;
	if ((rc = statedb_read(sdb, &txn, why)) < 0)
	    break;
	rc = last_r ? statedb_groups_after(sdb, txn, last_r, last_f, page_add, pg, why)
	    : statedb_groups_each(sdb, txn, 0, page_add, pg, why);
	statedb_end(sdb, txn);
	free(last_r), free(last_f);
	last_r = last_f = NULL;
	if (pg->len) {				/* where the next page starts */
	    last_r = xstrdup(pg->v[pg->len - 1].recipient);
	    last_f = xstrdup(pg->v[pg->len - 1].frequency);
	}
	if (rc == 0)
	    rc = replan_page(rdb, sdb, default_tz, pg, &n, st, why);
	page_done(pg, rc == 0 ? n : 0, &mv);
	st->digests += pg->len;
	if (rc == 0 && mv.len >= REPLAN_COMMIT)
	    rc = moves_flush(sdb, &mv, st, why);
    } while (rc == 0 && pg->len == REPLAN_PAGE);
    if (rc == 0)
	rc = moves_flush(sdb, &mv, st, why);
    moves_forget(&mv);
    free(mv.v);
    free(last_r), free(last_f);
    free(pg);
    return (rc);
}
