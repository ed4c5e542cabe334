/*
 * intake.c - an event mail in, durable deliveries out.
 *
 * Parse the event, match it against the compiled rules, render each
 * immediate notification and note each digest item, then commit the event
 * and all of it in one transaction. The verdict says what Postfix should
 * answer: 250 (stored, or a known Event-Id), 5xx with what is wrong with
 * the event, or 4xx when it cannot be stored now. This module knows
 * nothing of libmilter.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "crierd.h"
#include "digest.h"
#include "log.h"
#include "match.h"
#include "mem.h"
#include "render.h"
#include "strutil.h"

typedef struct batch {
    SDB_OUT *out;
    size_t  nout;
    SDB_ITEM *items;
    size_t  nitems;
    STRBUF *bufs;			/* messages and ids, owned */
    size_t  nbufs;
} BATCH;

/* is_crier - crier's own addresses never receive notifications (no loops) */
static int is_crier(const CONF *cf, const char *addr)
{
    return (str_casecmp(addr, cf->events_address) == 0
	    || str_casecmp(addr, cf->request_address) == 0
	    || str_casecmp(addr, cf->sender_address) == 0);
}

static STRBUF *batch_buf(BATCH *b, size_t cap)
{
    if (b->nbufs == 0)
	b->bufs = xcalloc(cap, sizeof(STRBUF));
    return (&b->bufs[b->nbufs++]);
}

static void batch_free(BATCH *b)
{
    size_t  i;

    for (i = 0; i < b->nbufs; i++)
	sb_free(&b->bufs[i]);
    for (i = 0; i < b->nitems; i++)
	free((void *) b->items[i].notifs);
    free(b->bufs);
    free(b->out);
    free(b->items);
}

/* group_notifs - render input for the notifications of one group */
static int group_notifs(const LIVE *lv, MDB_txn *txn, const MATCH_HIT *h, size_t n,
			        RENDER_NOTIF *rn, STRBUF *bufs, STRBUF *why)
{
    RDB_VIEW v;
    size_t  i;

    for (i = 0; i < n; i++) {
	if (rulesdb_get_view(crierd.rdb, txn, h[i].view, &v, why) != 0)
	    return (-1);
	rulesdb_view_where(&v, &bufs[2 * i]);
	token_make(&lv->key, TOKEN_MUTE, h[i].recipient, h[i].notification, clock_now(),
		   &bufs[2 * i + 1]);
	rn[i].id = h[i].notification;
	rn[i].kind = h[i].kind;
	rn[i].frequency = h[i].frequency;
	rn[i].where = bufs[2 * i].s;
	rn[i].mute_token = bufs[2 * i + 1].s;
    }
    return (0);
}

/* render_group - one immediate notification message for one recipient */
static int render_group(const LIVE *lv, MDB_txn *txn, const EVENT *ev, const MATCH *m,
			        size_t from, size_t to, BATCH *b, STRBUF *why)
{
    size_t  n = to - from, i;
    RENDER_NOTIF *rn = xcalloc(n, sizeof(RENDER_NOTIF));
    STRBUF *tmp = xcalloc(2 * n, sizeof(STRBUF));
    STRBUF *msg = batch_buf(b, 2 * m->nhits), *mid = batch_buf(b, 2 * m->nhits);
    STRBUF  manage = STRBUF_INIT;
    RENDER_IN in;
    int     rc;

    rc = group_notifs(lv, txn, &m->hits[from], n, rn, tmp, why);
    render_message_id(ev->id, m->hits[from].recipient, m->hits[from].frequency,
		      lv->conf.sender_address, mid);
    memset(&in, 0, sizeof(in));
    in.ev = ev;
    in.event_title = m->title;
    in.recipient = m->hits[from].recipient;
    in.sender = lv->conf.sender_address;
    in.request_address = lv->conf.request_address;
    in.message_id = mid->s;
    in.date = clock_now();
    in.notifs = rn;
    in.nnotifs = n;
    live_web(lv, in.recipient, &in.web, &manage);
    if (rc == 0 && (rc = render_notification(&in, msg, why)) == 0) {
	SDB_OUT *o = &b->out[b->nout++];

	o->recipient = m->hits[from].recipient;
	o->message_id = mid->s;
	o->msg = msg->s;
	o->msglen = msg->len;
    }
    for (i = 0; i < 2 * n; i++)
	sb_free(&tmp[i]);
    free(tmp);
    free(rn);
    sb_free(&manage);
    return (rc);
}

/*
 * digest_group - one digest item for one recipient and frequency. A
 * schedule that gives no time makes the digest due at once (logged), so
 * the event and its other recipients go on.
 */
static int digest_group(const LIVE *lv, MDB_txn *txn, const EVENT *ev, const MATCH *m,
			        size_t from, size_t to, BATCH *b, const char *qid, STRBUF *why)
{
    SDB_ITEM *it = &b->items[b->nitems++];
    char  **ids = xcalloc(to - from + 1, sizeof(char *));
    STRBUF  sched = STRBUF_INIT;
    time_t  due;
    size_t  i;
    int     rc;

    for (i = from; i < to; i++)
	ids[i - from] = m->hits[i].notification;
    it->recipient = m->hits[from].recipient;
    it->frequency = m->hits[from].frequency;
    it->event_id = ev->id;
    it->notifs = ids;
    it->nnotifs = to - from;
    it->arrived = (uint64_t) clock_now();
    rc = digest_due(crierd.rdb, txn, lv->conf.default_timezone, it->recipient, it->frequency,
		    (time_t) it->arrived, &due, &sched);
    if (rc < 0)
	sb_puts(why, sched.s);
    else if (rc == DIGEST_NO_SCHEDULE)
	msg_warn("%s: event=%s to=<%s> frequency=%s: %s: the digest is due at once", qid,
		 ev->id, it->recipient, it->frequency, sched.s);
    sb_free(&sched);
    it->due = (uint64_t) due;
    return (rc < 0 ? -1 : 0);
}

/* is_immediate - a frequency without an RRULE sends at once */
static int is_immediate(MDB_txn *txn, const char *freq)
{
    STRBUF  why = STRBUF_INIT;
    const char *title, *rrule = "";
    unsigned pos;

    (void) rulesdb_get_freq(crierd.rdb, txn, freq, &title, &rrule, &pos, &why);
    sb_free(&why);
    return (*rrule == 0);
}

/*
 * log_group - debug: each notification of a delivered group, immediate
 * (digest NULL) or collected as that digest item
 */
static void log_group(const char *qid, const EVENT *ev, const MATCH *m, size_t from,
		              size_t to, const SDB_ITEM *digest)
{
    STRBUF  how = STRBUF_INIT;
    size_t  i;

    if (!log_enabled(LOG_LVL_DEBUG))
	return;
    if (digest == NULL)
	sb_puts(&how, "immediate");
    else {
	sb_puts(&how, "digest due=");
	clock_format((time_t) digest->due, 0, &how);
    }
    for (i = from; i < to; i++)
	msg_debug("%s: event=%s to=<%s> notification=%s kind=%s frequency=%s delivery=%s", qid,
		  ev->id, m->hits[i].recipient, m->hits[i].notification,
		  match_kind_name(m->hits[i].kind), m->hits[i].frequency, how.s);
    sb_free(&how);
}

/*
 * log_match - debug: the match in numbers, and why each notification of
 * the event type that does not deliver does not (the reasons of crierctl
 * explain, from the matcher; of other partners, the first MATCH_FEW)
 */
static void log_match(const char *qid, const EVENT *ev, const MATCH *m)
{
    const MATCH_HIT *h;
    size_t  i;

    msg_debug("%s: event=%s type=%s partner=\"%s\" candidates=%zu deliveries=%zu skipped=%zu%s",
	      qid, ev->id, ev->type, ev->partner, m->ncandidates, m->nhits, m->nexcluded,
	      m->others_cut ? " (and more of other partners: crierctl explain lists them)"
	      : m->nhits + m->nexcluded ? "" : ": no notification is for this event type");
    for (i = 0; i < m->nexcluded; i++) {
	h = &m->excluded[i];
	msg_debug("%s: event=%s to=<%s> notification=%s kind=%s frequency=%s skipped: %s", qid,
		  ev->id, h->recipient, h->notification, match_kind_name(h->kind), h->frequency,
		  h->reason);
    }
}

/*
 * match - the event against the rules in service; at log_level debug with
 * the reasons of the candidates and of a few others (MATCH_EXPLAIN_FEW),
 * logged
 */
static int match(MDB_txn *txn, const EVENT *ev, const char *qid, MATCH **m, STRBUF *why)
{
    int     debug = log_enabled(LOG_LVL_DEBUG);
    int     rc = match_event(crierd.rdb, txn, ev, debug ? MATCH_EXPLAIN | MATCH_EXPLAIN_FEW : 0,
				 m, why);

    if (rc == MATCH_OK && debug)
	log_match(qid, ev, *m);
    return (rc);
}

/* build - every message and digest item an event causes */
static int build(const LIVE *lv, MDB_txn *txn, const EVENT *ev, const MATCH *m, BATCH *b,
		         const char *qid, STRBUF *why)
{
    size_t  i, end;

    b->out = xcalloc(m->nhits + 1, sizeof(SDB_OUT));
    b->items = xcalloc(m->nhits + 1, sizeof(SDB_ITEM));
    for (i = 0; i < m->nhits; i = end) {
	end = match_group_end(m, i);
	if (is_crier(&lv->conf, m->hits[i].recipient))
	    msg_warn("%s: event=%s recipient=%s: crier's own address, skipped", qid, ev->id,
		     m->hits[i].recipient);
	else if (!is_immediate(txn, m->hits[i].frequency)) {
	    if (digest_group(lv, txn, ev, m, i, end, b, qid, why) < 0)
		return (-1);
	    log_group(qid, ev, m, i, end, &b->items[b->nitems - 1]);
	} else if (render_group(lv, txn, ev, m, i, end, b, why) < 0)
	    return (-1);
	else
	    log_group(qid, ev, m, i, end, NULL);
    }
    return (0);
}

/*
 * known - an Event-Id accepted before is answered 250 before any matching,
 * whatever the rules say now. Returns a verdict, or -1 for a new event.
 */
static int known(const EVENT *ev, const char *qid, STRBUF *reply)
{
    STRBUF  why = STRBUF_INIT;
    int     rc = statedb_known(crierd.sdb, ev->id, &why);

    if (rc > 0) {
	sb_printf(reply, "event %s was already accepted", ev->id);
	msg_info("%s: event=%s type=%s partner=\"%s\" duplicate notifications=0 digest_items=0",
		 qid, ev->id, ev->type, ev->partner);
    } else if (rc < 0)
	sb_printf(reply, "4.3.0 crier cannot read its store now: %s", sb_str(&why));
    sb_free(&why);
    return (rc > 0 ? INTAKE_OK : rc < 0 ? INTAKE_DEFER : -1);
}

/* commit - the event with all it causes, or a 4.3.0 reply */
static int commit(const EVENT *ev, const char *qid, const BATCH *b, STRBUF *reply)
{
    STRBUF  why = STRBUF_INIT, rec = STRBUF_INIT;
    int     dup = 0, rc;

    event_pack(ev, qid, (long) clock_now(), &rec);
    rc = statedb_accept(crierd.sdb, ev->id, &rec, b->out, b->nout, b->items, b->nitems, &dup,
			&why);
    if (rc < 0)
	sb_printf(reply, "4.3.0 crier cannot store the event now: %s", sb_str(&why));
    else {
	sb_printf(reply, "event %s %s", ev->id, dup ? "was already accepted" : "accepted");
	msg_info("%s: event=%s type=%s partner=\"%s\" %s notifications=%zu digest_items=%zu",
		 qid, ev->id, ev->type, ev->partner, dup ? "duplicate" : "accepted",
		 dup ? 0 : b->nout, dup ? 0 : b->nitems);
    }
    sb_free(&why);
    sb_free(&rec);
    return (rc < 0 ? INTAKE_DEFER : INTAKE_OK);
}

/* store_event - match, build and commit; the verdict for Postfix */
static int store_event(const EVENT *ev, const char *qid, STRBUF *reply)
{
    STRBUF  why = STRBUF_INIT;
    LIVE   *lv;
    BATCH   b;
    MATCH  *m = NULL;
    MDB_txn *txn = NULL;
    int     rc, verdict = INTAKE_DEFER;

    if ((verdict = known(ev, qid, reply)) >= 0)
	return (verdict);
    verdict = INTAKE_DEFER;
    memset(&b, 0, sizeof(b));
    lv = live_hold();
    if (rulesdb_read(crierd.rdb, &txn, &why) < 0)
	sb_printf(reply, "4.3.0 crier cannot read its rules now: %s", sb_str(&why));
    else if ((rc = match(txn, ev, qid, &m, &why)) == MATCH_BAD_EVENT) {
	sb_printf(reply, "5.6.0 event refused: %s", sb_str(&why));
	verdict = INTAKE_REFUSE;
    } else if (rc != MATCH_OK || build(lv, txn, ev, m, &b, qid, &why) < 0)
	sb_printf(reply, "4.3.0 crier cannot match the event now: %s", sb_str(&why));
    else
	verdict = commit(ev, qid, &b, reply);
    if (txn)
	rulesdb_end(crierd.rdb, txn);
    live_release();
    batch_free(&b);
    match_free(m);
    sb_free(&why);
    return (verdict);
}

int     intake_event(const char *qid, const char *msg, size_t len, STRBUF *reply)
{
    STRBUF  why = STRBUF_INIT;
    EVENT  *ev;
    int     verdict;

    if (event_parse_mail(msg, len, &ev, &why) < 0) {
	sb_printf(reply, "5.6.0 event refused: %s", sb_str(&why));
	msg_info("%s: event refused: %s", qid, sb_str(&why));
	sb_free(&why);
	return (INTAKE_REFUSE);
    }
    verdict = store_event(ev, qid, reply);
    if (verdict != INTAKE_OK)
	msg_warn("%s: event=%s %s: %s", qid, ev->id,
		 verdict == INTAKE_REFUSE ? "refused" : "deferred", sb_str(reply));
    else
	outbox_wake();
    event_free(ev);
    sb_free(&why);
    return (verdict);
}

/* intake_request - keep a mail to the request address for self-service */
int     intake_request(const char *qid, const char *sender, const char *msg, size_t len,
			           STRBUF *reply)
{
    STRBUF  why = STRBUF_INIT;
    int     rc = statedb_request(crierd.sdb, qid, sender, msg, len, &why);

    if (rc < 0)
	sb_printf(reply, "4.3.0 crier cannot store the request now: %s", sb_str(&why));
    else {
	msg_info("%s: request stored from=<%s> size=%zu", qid, sender, len);
	selfservice_wake();
    }
    sb_free(&why);
    return (rc < 0 ? INTAKE_DEFER : INTAKE_OK);
}
