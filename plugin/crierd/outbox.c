/*
 * outbox.c - send what the milter accepted, in order, until Postfix takes it.
 *
 * outbox_workers threads walk the outbox in sequence order, each taking the
 * recipients of its lane (so one recipient's mail keeps its order), and
 * hand each message to Postfix (reinject.c) on a connection of their own,
 * from an envelope sender of its own that brings its bounces back
 * (bounce.c). A message leaves the store only after Postfix
 * accepted it, up to OUTBOX_BATCH of them per commit; a crash between
 * Postfix's 250 and that commit sends them again with the same
 * Message-IDs, which receivers can recognise. When Postfix
 * cannot be reached, everything waits, with a backoff that doubles up to
 * an hour, and goes on in order when it is back. A recipient Postfix defers
 * waits alone, for up to outbox_max_age days; what it refuses for good, or
 * defers longer, goes to the "dead" table (crierctl dead) and the log, as
 * does mail for an address that bounced bounce_limit times in a row. The
 * log says what Postfix said: "status=sent (250 2.0.0 Ok: queued as ...)".
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "crierd.h"
#include "log.h"
#include "mem.h"
#include "service.h"
#include "strv.h"

#define OUTBOX_IDLE	30		/* seconds between passes when idle */
#define OUTBOX_BATCH	32		/* sent messages forgotten per commit */
#define OUTBOX_BACKOFF_MAX 3600

#define OUTBOX_MAX_WORKERS 32

/* A sender: its lane of the outbox (recipients hash to lanes, so each
 * recipient's mail keeps its order), its thread, its own backoff. */
typedef struct worker {
    SERVICE svc;			/* the lane's thread (service.c) */
    unsigned lane;
    unsigned down;			/* tries in a row Postfix was down */
    time_t  down_until;			/* not before then, or 0 */
} WORKER;

static WORKER outbox_workers[OUTBOX_MAX_WORKERS];
static unsigned outbox_lanes;

/* lane_of - FNV-1a of the lower-cased recipient, modulo the lanes */
static unsigned lane_of(const char *rcpt)
{
    uint32_t h = 2166136261u;

    for (; *rcpt; rcpt++)
	h = (h ^ (unsigned char) (*rcpt >= 'A' && *rcpt <= 'Z' ? *rcpt + 32 : *rcpt)) * 16777619u;
    return (h % outbox_lanes);
}

static unsigned backoff(unsigned attempts)
{
    unsigned s = 10;

    while (attempts-- > 1 && s < OUTBOX_BACKOFF_MAX)
	s *= 2;
    return (s < OUTBOX_BACKOFF_MAX ? s : OUTBOX_BACKOFF_MAX);
}

/*
 * take - a copy of this lane's next entry at or after seq, outside any
 * transaction; *suppressed: the bounces that stopped crier mailing its
 * recipient, or 0
 */
static int take(unsigned lane, uint64_t from, SDB_OUT *o, unsigned *suppressed, STRBUF *copy,
		        STRBUF *why)
{
    MDB_txn *txn;
    int     rc;

    if (statedb_read(crierd.sdb, &txn, why) < 0)
	return (-1);
    while ((rc = statedb_outbox_next(crierd.sdb, txn, from, o, why)) == 0
	   && lane_of(o->recipient) != lane)
	from = o->seq + 1;
    if (rc == 0) {
	sb_reset(copy);
	sb_puts(copy, o->recipient);
	sb_putc(copy, 0);
	sb_puts(copy, o->message_id);
	sb_putc(copy, 0);
	sb_putn(copy, o->msg, o->msglen);
	o->recipient = copy->s;
	o->message_id = copy->s + strlen(copy->s) + 1;
	o->msg = o->message_id + strlen(o->message_id) + 1;
	o->reply = "";			/* (LMDB's copy ends with the transaction) */
	(void) statedb_suppressed(crierd.sdb, txn, o->recipient, suppressed);
    }
    statedb_end(crierd.sdb, txn);
    return (rc);
}

/* SENT - messages Postfix took, to forget in one commit, and what a bounce needs */
typedef struct sent {
    SDB_OUT rec[OUTBOX_BATCH];
    STRBUF  buf[OUTBOX_BATCH];		/* what each rec points into */
    size_t  n;
} SENT;

static void forget(SENT *sent, STRBUF *why)
{
    if (statedb_outbox_done(crierd.sdb, sent->rec, sent->n, why) < 0)
	msg_error("outbox: %zu sent messages not removed (they will go again, same "
		  "Message-IDs): %s", sent->n, why->s);
    sent->n = 0;
}

static void sent_free(SENT *sent)
{
    size_t  i;

    for (i = 0; i < OUTBOX_BATCH; i++)
	sb_free(&sent->buf[i]);
}

/* max_age - outbox_max_age in seconds */
static uint64_t max_age(void)
{
    LIVE   *lv = live_hold();
    uint64_t secs = (uint64_t) lv->conf.outbox_max_age * 86400;

    live_release();
    return (secs);
}

/*
 * bury - into the dead table, with Postfix's reply, for crierctl dead to
 * show, resend or drop (and pruning after event_retention)
 */
static void bury(const SDB_OUT *o, const char *status, const char *reply, STRBUF *why)
{
    if (statedb_outbox_dead(crierd.sdb, o->seq, reply, (uint64_t) clock_now(), why) < 0)
	return;
    msg_error("outbox: to=<%s> message-id=<%s> id=%llu attempts=%u status=dead (%s): %s",
	      o->recipient, o->message_id, (unsigned long long) o->seq, o->attempts, status,
	      reply);
}

/* settle - record what Postfix said about one entry */
static void settle(SDB_OUT *o, int verdict, const char *reason, SENT *sent, STRBUF *why)
{
    uint64_t now = (uint64_t) clock_now();

    if (verdict == REINJECT_OK) {
	msg_info("outbox: to=<%s> message-id=<%s> id=%llu status=sent%s%s%s", o->recipient,
		 o->message_id, (unsigned long long) o->seq, *reason ? " (" : "", reason,
		 *reason ? ")" : "");
	bounce_keep(o, reason, now, &sent->buf[sent->n], &sent->rec[sent->n]);
	sent->n++;
	if (sent->n == OUTBOX_BATCH)
	    forget(sent, why);
    } else if (++o->attempts && verdict == REINJECT_PERM) {
	bury(o, "refused", reason, why);
    } else if (o->queued && now >= o->queued + max_age()) {
	bury(o, "deferred longer than outbox_max_age", reason, why);
    } else {
	o->next_try = now + backoff(o->attempts);
	o->reply = reason;
	msg_warn("outbox: to=<%s> message-id=<%s> status=deferred attempts=%u: %s",
		 o->recipient, o->message_id, o->attempts, reason);
	(void) statedb_outbox_defer(crierd.sdb, o, why);
    }
}

/* suppress - an entry for an address crier no longer mails: to the dead table */
static void suppress(const SDB_OUT *o, unsigned bounces, STRBUF *why)
{
    STRBUF  text = STRBUF_INIT;

    sb_printf(&text, "not sent: suppressed after %u bounces (bounce_limit); to mail this "
	      "address again: crierctl dead unsuppress %s", bounces, o->recipient);
    bury(o, "suppressed", text.s, why);
    sb_free(&text);
}

/* pass - send what is due in this lane, in order; the seconds until the next pass */
static unsigned pass(SERVICE *svc, REINJECT *ri, const BOUNCE_FROM *bf, unsigned lane,
		             unsigned *down)
{
    STRBUF  copy = STRBUF_INIT, why = STRBUF_INIT, reason = STRBUF_INIT, from_addr = STRBUF_INIT;
    SENT    sent;
    STRV    held = STRV_INIT;		/* recipients with an earlier entry waiting */
    uint64_t from = 0;
    unsigned wait = OUTBOX_IDLE, bounces = 0;
    time_t  now = clock_now();		/* (next_try is on crierd's clock) */
    SDB_OUT o;
    int     verdict;

    memset(&sent, 0, sizeof(sent));
    while (!service_stopping(svc) && take(lane, from, &o, &bounces, &copy, &why) == 0) {
	from = o.seq + 1;
	if (strv_find_case(&held, o.recipient) >= 0)
	    continue;			/* behind an earlier one: keep the order */
	if (o.next_try > (uint64_t) now) {
	    if (o.next_try - (uint64_t) now < wait)
		wait = (unsigned) (o.next_try - (uint64_t) now);
	    strv_add(&held, o.recipient);
	    continue;
	}
	if (bounces) {
	    suppress(&o, bounces, &why);
	    continue;
	}
	sb_reset(&reason);
	bounce_sender(bf, o.seq, o.recipient, &from_addr);
	verdict = reinject_send(ri, from_addr.s, o.recipient, o.msg, o.msglen, &reason);
	if (verdict == REINJECT_DOWN) {
	    wait = backoff(++*down);
	    msg_warn("outbox: Postfix cannot be reached (%s); next try in %us", reason.s, wait);
	    break;
	}
	*down = 0;
	if (verdict == REINJECT_OK)
	    crash_point("outbox-sent");
	if (verdict == REINJECT_TEMP)
	    strv_add(&held, o.recipient);
	settle(&o, verdict, sb_str(&reason), &sent, &why);
    }
    strv_free(&held);
    forget(&sent, &why);
    sent_free(&sent);
    if (why.len)
	msg_error("outbox: %s", why.s);
    sb_free(&copy);
    sb_free(&why);
    sb_free(&reason);
    sb_free(&from_addr);
    return (wait);
}

/* outbox_turn - one lane's pass, unless Postfix is down; the seconds to the next */
static int outbox_turn(SERVICE *svc, void *ctx)
{
    WORKER *w = ctx;
    STRBUF  why = STRBUF_INIT;
    time_t  now = time(NULL);
    REINJECT *ri;
    BOUNCE_FROM bf;
    unsigned wait;
    LIVE   *lv;

    if (now < w->down_until)		/* while Postfix is down, events only queue */
	return ((int) (w->down_until - now));
    lv = live_hold();
    ri = reinject_open(lv->conf.reinject, lv->conf.sender_address, &why);
    bounce_from_set(&bf, lv);
    live_release();
    wait = ri ? pass(svc, ri, &bf, w->lane, &w->down) : OUTBOX_IDLE;
    bounce_from_free(&bf);
    if (ri == NULL)
	msg_error("outbox: %s", why.s);
    reinject_close(ri);
    w->down_until = w->down ? time(NULL) + wait : 0;
    sb_free(&why);
    return ((int) wait);
}

/* outbox_wake - new mail in the outbox: every lane looks (unless Postfix is down) */
void    outbox_wake(void)
{
    unsigned i;

    for (i = 0; i < outbox_lanes; i++)
	service_wake(&outbox_workers[i].svc);
}

/* outbox_start - one sender per lane (outbox_workers; fixed until restart) */
int     outbox_start(unsigned lanes)
{
    unsigned i;

    outbox_lanes = lanes < 1 ? 1 : lanes > OUTBOX_MAX_WORKERS ? OUTBOX_MAX_WORKERS : lanes;
    for (i = 0; i < outbox_lanes; i++) {
	outbox_workers[i].lane = i;
	if (service_start(&outbox_workers[i].svc, "outbox", outbox_turn, &outbox_workers[i], 0))
	    return (-1);
    }
    return (0);
}

/* outbox_stop - every lane ends its pass and its thread */
void    outbox_stop(void)
{
    unsigned i;

    for (i = 0; i < outbox_lanes; i++)
	service_stop(&outbox_workers[i].svc);
}
