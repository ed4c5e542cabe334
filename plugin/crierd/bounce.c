/*
 * bounce.c - bounces back to crierd: a signed envelope sender out, DSNs in.
 *
 * Each notification leaves with an envelope sender of its own,
 * sender_address with an extension after recipient_delimiter:
 * crier+b1.ID.MAC@example.com (ID its outbox number, MAC its signature,
 * token.c). What Postfix took is remembered in the sent table (the
 * recipient, Message-ID and X-Crier headers, kept event_retention days).
 * A bounce to such an address comes back through the crier-in listener
 * to the milter, which hands it here: the id must be one crierd signed
 * for a notification it sent, the DSN is read (dsn.c), and a failure
 * moves that notification to the dead table with the DSN's status and
 * diagnostic. bounce_limit hard (5.x.x) bounces in a row, none more than
 * bounce_window days after the one before, stop crier mailing the address
 * (the outbox puts its notifications in the dead table) until a success
 * DSN or crierctl dead unsuppress. Whatever arrives (no id, a forged or
 * forgotten one, no DSN) is logged and then discarded, never answered.
 */
#include "config.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "crierd.h"
#include "dsn.h"
#include "log.h"
#include "mail.h"
#include "mem.h"
#include "strutil.h"

/* bounce_from_set - what the outbox needs to sign senders, copied from lv */
void    bounce_from_set(BOUNCE_FROM *bf, const LIVE *lv)
{
    const char *addr = lv->conf.sender_address, *at = strrchr(addr, '@');

    bf->local = xstrndup(addr, at ? (size_t) (at - addr) : strlen(addr));
    bf->domain = xstrdup(at ? at + 1 : "localhost");
    bf->delim = lv->conf.recipient_delimiter[0];
    bf->key = lv->key;
}

void    bounce_from_free(BOUNCE_FROM *bf)
{
    free(bf->local);
    free(bf->domain);
    sodium_memzero(&bf->key, sizeof(bf->key));
}

/* bounce_sender - the envelope sender of outbox entry seq, to rcpt */
void    bounce_sender(const BOUNCE_FROM *bf, uint64_t seq, const char *rcpt, STRBUF *out)
{
    sb_reset(out);
    sb_printf(out, "%s%c", bf->local, bf->delim);
    token_bounce_make(&bf->key, seq, rcpt, out);
    sb_printf(out, "@%s", bf->domain);
}

/*
 * bounce_keep - what a bounce will need of a message Postfix took (rec,
 * pointing into buf): recipient, Message-ID, its X-Crier headers (for
 * crierctl dead), Postfix's reply and the time
 */
void    bounce_keep(const SDB_OUT *o, const char *reply, uint64_t now, STRBUF *buf,
		            SDB_OUT *rec)
{
    static const char *const names[] = {"X-Crier-Notification", "X-Crier-Event",
    "X-Crier-Digest", 0};
    const char *const *n;
    STRBUF  v = STRBUF_INIT;
    size_t  mid, msg, rep;

    sb_reset(buf);
    sb_puts(buf, o->recipient);
    sb_putc(buf, 0);
    mid = buf->len;
    sb_puts(buf, o->message_id);
    sb_putc(buf, 0);
    msg = buf->len;
    for (n = names; *n; n++) {
	mail_header_value(o->msg, o->msglen, *n, &v);
	if (v.len)
	    sb_printf(buf, "%s: %s\r\n", *n, v.s);
    }
    sb_puts(buf, "\r\n");
    sb_putc(buf, 0);
    rep = buf->len;
    sb_puts(buf, reply);
    *rec = *o;
    rec->recipient = buf->s;
    rec->message_id = buf->s + mid;
    rec->msg = buf->s + msg;
    rec->msglen = rep - 1 - msg;
    rec->reply = buf->s + rep;
    rec->died = now;
    sb_free(&v);
}

/*
 * bounce_rcpt - a recipient that is sender_address with an extension: 1
 * and the extension (the bounce id, if it is one) in ext, else 0
 */
int     bounce_rcpt(const CONF *cf, const char *rcpt, STRBUF *ext)
{
    const char *at = strrchr(cf->sender_address, '@'), *rat = strrchr(rcpt, '@');
    size_t  llen;

    if (at == NULL || rat == NULL || str_casecmp(at, rat) != 0)
	return (0);
    llen = (size_t) (at - cf->sender_address);
    if ((size_t) (rat - rcpt) <= llen + 1 || str_ncasecmp(rcpt, cf->sender_address, llen) != 0
	|| strchr(cf->recipient_delimiter, rcpt[llen]) == NULL)
	return (0);
    sb_reset(ext);
    sb_putn(ext, rcpt + llen + 1, (size_t) (rat - rcpt) - llen - 1);
    return (1);
}

/* A bounce id, as the milter got it, and what it names. */
typedef struct named {
    const char *qid;
    const char *rcpt;			/* the bounce address */
    uint64_t seq;
    STRBUF  recipient;			/* whom the notification went to */
    STRBUF  message_id;
} NAMED;

/*
 * bounce_find - the sent notification an id names, when crierd signed it
 * for that notification's recipient: 0; 1 logged and to be discarded; -1
 */
static int bounce_find(NAMED *n, const char *id, STRBUF *why)
{
    MDB_txn *txn;
    SDB_OUT o;
    LIVE   *lv;
    int     rc, ok;

    if (token_bounce_id(id, &n->seq) < 0) {
	msg_warn("%s: bounce: to=<%s>: not a crier bounce id; discarded", n->qid, n->rcpt);
	return (1);
    }
    if (statedb_read(crierd.sdb, &txn, why) < 0)
	return (-1);
    if ((rc = statedb_sent_get(crierd.sdb, txn, n->seq, &o, why)) == SDB_OK) {
	sb_puts(&n->recipient, o.recipient);
	sb_puts(&n->message_id, o.message_id);
    }
    statedb_end(crierd.sdb, txn);
    if (rc == SDB_NONE)
	msg_warn("%s: bounce: to=<%s> id=%llu: crierd sent no such notification (or forgot "
		 "it after event_retention days, or it bounced before); discarded", n->qid,
		 n->rcpt, (unsigned long long) n->seq);
    if (rc != SDB_OK)
	return (rc == SDB_NONE ? 1 : -1);
    lv = live_hold();
    ok = token_bounce_check(&lv->key, id, n->recipient.s) == 0;
    live_release();
    if (!ok)
	msg_warn("%s: bounce: to=<%s> id=%llu: the signature does not match (forged, or "
		 "signed with another token_key_file); discarded", n->qid, n->rcpt,
		 (unsigned long long) n->seq);
    return (ok ? 0 : 1);
}

/* bounce_reply - for the dead table: "bounced 5.1.1 by MTA: diagnostic" */
static void bounce_reply(const DSN *d, const DSN_RCPT *r, STRBUF *out)
{
    sb_printf(out, "%s %s", dsn_failed(r) ? "bounced" : *r->action ? r->action : "reported",
	      *r->status ? r->status : "(no status)");
    if (*d->reporting_mta)
	sb_printf(out, " by %s", d->reporting_mta);
    if (*r->diagnostic)
	sb_printf(out, ": %s", r->diagnostic);
}

/* bounce_kind - what a recipient's DSN means for its notification, or 0 (nothing) */
static int bounce_kind(const DSN_RCPT *r)
{
    return (dsn_hard(r) ? SDB_BOUNCE_HARD : dsn_failed(r) ? SDB_BOUNCE_SOFT
	    : dsn_success(r) ? SDB_BOUNCE_OK : 0);
}

/* bounce_log - one line for the DSN, one more when the address is suppressed now */
static void bounce_log(const NAMED *n, const DSN_RCPT *r, const SDB_BOUNCE *b)
{
    STRBUF  what = STRBUF_INIT;

    if (b->kind == SDB_BOUNCE_HARD)
	sb_printf(&what, "dead; hard bounce %u in a row%s", b->count,
		  b->suppressed ? ", address suppressed" : "");
    else
	sb_puts(&what, b->kind == SDB_BOUNCE_SOFT ? "dead" : b->kind == SDB_BOUNCE_OK
		? "delivered; bounce count cleared" : "noted");
    msg_info("%s: bounce: to=<%s> id=%llu message-id=<%s> dsn=%s action=%s (%s): %s", n->qid,
	     n->recipient.s, (unsigned long long) n->seq, n->message_id.s,
	     *r->status ? r->status : "-", *r->action ? r->action : "-", b->reply, what.s);
    if (b->newly)
	msg_warn("%s: bounce: to=<%s>: suppressed after %u hard bounces in a row "
		 "(bounce_limit = %u): crier no longer mails it; to mail it again: crierctl "
		 "dead unsuppress %s", n->qid, n->recipient.s, b->count, b->limit,
		 n->recipient.s);
    sb_free(&what);
}

/* bounce_apply - the DSN's word on the notification n names: 0, or -1 (in why) */
static int bounce_apply(const NAMED *n, const DSN *d, STRBUF *why)
{
    const DSN_RCPT *r = dsn_pick(d, n->recipient.s);
    STRBUF  reply = STRBUF_INIT;
    SDB_BOUNCE b;
    LIVE   *lv = live_hold();
    int     rc = 0;

    memset(&b, 0, sizeof(b));
    b.seq = n->seq;
    b.kind = bounce_kind(r);
    b.now = (uint64_t) clock_now();
    b.window = (uint64_t) lv->conf.bounce_window * 86400;
    b.limit = (unsigned) lv->conf.bounce_limit;
    live_release();
    bounce_reply(d, r, &reply);
    b.reply = reply.s;
    if (b.kind && (rc = statedb_bounce(crierd.sdb, &b, why)) == SDB_NONE)
	msg_warn("%s: bounce: to=<%s> id=%llu: the notification bounced before, or was "
		 "forgotten; discarded", n->qid, n->rcpt, (unsigned long long) n->seq);
    if (rc == 0)
	bounce_log(n, r, &b);
    sb_free(&reply);
    return (rc < 0 ? -1 : 0);
}

/* bounce_one - one bounce address of a mail: 0 (logged), or -1 (in why) */
static int bounce_one(const char *qid, const char *rcpt, const char *id, const char *msg,
		              size_t len, STRBUF *why)
{
    NAMED   n = {qid, rcpt, 0, STRBUF_INIT, STRBUF_INIT};
    STRBUF  bad = STRBUF_INIT;
    DSN    *d = NULL;
    int     rc = bounce_find(&n, id, why);

    if (rc == 0 && dsn_parse(msg, len, &d, &bad) < 0)
	msg_warn("%s: bounce: to=<%s> id=%llu message-id=<%s>: could not read DSN (%s); "
		 "discarded", qid, n.recipient.s, (unsigned long long) n.seq, n.message_id.s,
		 bad.s);
    else if (rc == 0)
	rc = bounce_apply(&n, d, why);
    dsn_free(d);
    sb_free(&n.recipient), sb_free(&n.message_id), sb_free(&bad);
    return (rc < 0 ? -1 : 0);
}

/*
 * bounce_take - a mail to bounce addresses (rcpts, each with its id in
 * ids): INTAKE_OK when each was read and logged, whatever it said, so
 * that it is discarded; INTAKE_DEFER (reply) when the store cannot take
 * it now, so that Postfix tries again
 */
int     bounce_take(const char *qid, const STRV *rcpts, const STRV *ids, const char *msg,
		            size_t len, STRBUF *reply)
{
    STRBUF  why = STRBUF_INIT;
    size_t  i;
    int     rc = 0;

    for (i = 0; i < rcpts->len && rc == 0; i++)
	rc = bounce_one(qid, rcpts->v[i], ids->v[i], msg, len, &why);
    if (rc < 0) {
	msg_error("%s: bounce: %s", qid, why.s);
	sb_puts(reply, "4.3.0 crier cannot record the bounce now; try again later");
    }
    sb_free(&why);
    return (rc < 0 ? INTAKE_DEFER : INTAKE_OK);
}
