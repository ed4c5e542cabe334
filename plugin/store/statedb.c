/*
 * statedb.c - what crierd keeps (see statedb.h).
 */
#include "config.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "mem.h"
#include "pack.h"
#include "statedb.h"
#include "store.h"
#include "strutil.h"

enum { SDB_META, SDB_EVENTS, SDB_OUTBOX, SDB_DIGESTS, SDB_REQUESTS, SDB_DEAD, SDB_DGROUPS,
SDB_DUE, SDB_TOKENS, SDB_SENT, SDB_BOUNCES, SDB_COUNT };

static const STORE_TABLE sdb_tables[SDB_COUNT] = {
    {"meta", 0},
    {"events", 0},
    {"outbox", 0},
    {"digests", 0},
    {"requests", 0},
    {"dead", 0},
    {"dgroups", 0},
    {"due", 0},
    {"tokens", 0},
    {"sent", 0},
    {"bounces", 0},
};

struct statedb {
    STORE  *st;
    MDB_dbi dbi[SDB_COUNT];
};

static int statedb_open_mode(const char *state_dir, int writable, STATEDB **out, STRBUF *why)
{
    STATEDB *sdb = xcalloc(1, sizeof(STATEDB));
    STRBUF  path = STRBUF_INIT;
    int     rc;

    sb_printf(&path, "%s/%s", state_dir, STATEDB_FILE);
    rc = writable ? store_mkdir(state_dir, why) : 0;
    if (rc == 0)
	rc = store_open(path.s, writable ? 0 : STORE_RDONLY, &sdb->st, why);
    if (rc == 0)
	rc = store_tables(sdb->st, writable, sdb_tables, SDB_COUNT, sdb->dbi, why);
    sb_free(&path);
    if (rc < 0) {
	statedb_close(sdb);
	sdb = NULL;
    }
    *out = sdb;
    return (rc);
}

int     statedb_open(const char *state_dir, STATEDB **out, STRBUF *why)
{
    return (statedb_open_mode(state_dir, 1, out, why));
}

/* statedb_open_ro - for crierctl: read what crierd keeps, change nothing */
int     statedb_open_ro(const char *state_dir, STATEDB **out, STRBUF *why)
{
    return (statedb_open_mode(state_dir, 0, out, why));
}

void    statedb_close(STATEDB *sdb)
{
    if (sdb == NULL)
	return;
    store_close(sdb->st);
    free(sdb);
}

int     statedb_read(STATEDB *sdb, MDB_txn **txn, STRBUF *why)
{
    return (store_begin(sdb->st, 1, txn, why));
}

/* statedb_end - the end of a statedb_read() transaction */
void    statedb_end(STATEDB *sdb, MDB_txn *txn)
{
    store_abort(sdb->st, txn);
}

static void seq_key(unsigned char key[8], uint64_t seq)
{
    int     i;

    for (i = 7; i >= 0; i--, seq >>= 8)
	key[i] = (unsigned char) (seq & 0xff);
}

static uint64_t seq_of(const void *key)
{
    const unsigned char *k = key;
    uint64_t seq = 0;
    int     i;

    for (i = 0; i < 8; i++)
	seq = (seq << 8) | k[i];
    return (seq);
}

/* next_seq - take n sequence numbers inside the write transaction */
static int next_seq(STATEDB *sdb, MDB_txn *txn, uint64_t n, uint64_t *first, STRBUF *why)
{
    unsigned char buf[8];
    MDB_val v;
    int     rc = store_get(sdb->st, txn, sdb->dbi[SDB_META], "meta", "seq", 3, &v, why);

    if (rc < 0)
	return (rc);
    *first = (rc == 0 && v.mv_size == 8) ? seq_of(v.mv_data) : 1;
    seq_key(buf, *first + n);
    return (store_put(sdb->st, txn, sdb->dbi[SDB_META], "meta", "seq", 3, buf, 8, 0, why));
}

/*
 * pack_out - an outbox (or dead) entry. What follows the message came
 * later: records without it have no queue time, reply or death time.
 */
static void pack_out(STRBUF *v, const SDB_OUT *o)
{
    pack_str(v, o->recipient);
    pack_str(v, o->message_id);
    pack_u64(v, o->attempts);
    pack_u64(v, o->next_try);
    pack_u64(v, o->msglen);
    sb_putn(v, o->msg, o->msglen);
    pack_u64(v, o->queued ? o->queued : (uint64_t) clock_now());
    pack_str(v, o->reply ? o->reply : "");
    pack_u64(v, o->died);
    pack_u64(v, o->flags);
}

/* put_out_in - one entry under seq, in the outbox, the dead or the sent table (db) */
static int put_out_in(STATEDB *sdb, MDB_txn *txn, int db, uint64_t seq, const SDB_OUT *o,
		              STRBUF *why)
{
    unsigned char key[8];
    STRBUF  v = STRBUF_INIT;
    int     rc;

    seq_key(key, seq);
    pack_out(&v, o);
    rc = store_put(sdb->st, txn, sdb->dbi[db], sdb_tables[db].name, key, 8, v.s, v.len, 0, why);
    sb_free(&v);
    return (rc);
}

static int put_out(STATEDB *sdb, MDB_txn *txn, uint64_t seq, const SDB_OUT *o, STRBUF *why)
{
    return (put_out_in(sdb, txn, SDB_OUTBOX, seq, o, why));
}

/* group_key - lower-cased recipient NUL frequency: one digest */
static void group_key(STRBUF *k, const char *recipient, const char *frequency)
{
    sb_reset(k);
    sb_puts(k, recipient);
    str_lower(k->s);
    sb_putc(k, 0);
    sb_puts(k, frequency);
}

/* due_key - the due time, then the group: the schedule in time order */
static void due_key(STRBUF *k, uint64_t due, const STRBUF *group)
{
    unsigned char t[8];

    seq_key(t, due);
    sb_reset(k);
    sb_putn(k, t, 8);
    sb_putn(k, group->s, group->len);
}

/* put_group - a digest's entry and place in the schedule, when it has none */
static int put_group(STATEDB *sdb, MDB_txn *txn, const SDB_ITEM *it, const STRBUF *gk,
		             STRBUF *why)
{
    STRBUF  v = STRBUF_INIT, dk = STRBUF_INIT;
    MDB_val old;
    int     rc = store_get(sdb->st, txn, sdb->dbi[SDB_DGROUPS], "dgroups", gk->s, gk->len, &old,
			   why);

    if (rc != STORE_NOTFOUND)
	return (rc);			/* scheduled already, or an error */
    pack_u64(&v, it->due);
    pack_str(&v, it->recipient);
    pack_str(&v, it->frequency);
    due_key(&dk, it->due, gk);
    rc = store_put(sdb->st, txn, sdb->dbi[SDB_DGROUPS], "dgroups", gk->s, gk->len, v.s, v.len,
		   0, why);
    if (rc == 0)
	rc = store_put(sdb->st, txn, sdb->dbi[SDB_DUE], "due", dk.s, dk.len, "", 0, 0, why);
    sb_free(&v);
    sb_free(&dk);
    return (rc);
}

/* put_item - one digest item, keyed to sort by recipient, frequency, arrival */
static int put_item(STATEDB *sdb, MDB_txn *txn, uint64_t seq, const SDB_ITEM *it, STRBUF *why)
{
    STRBUF  gk = STRBUF_INIT, k = STRBUF_INIT, v = STRBUF_INIT;
    unsigned char sk[8];
    size_t  i;
    int     rc;

    group_key(&gk, it->recipient, it->frequency);
    sb_putn(&k, gk.s, gk.len);
    sb_putc(&k, 0);
    seq_key(sk, seq);
    sb_putn(&k, sk, 8);
    pack_str(&v, it->recipient);
    pack_str(&v, it->frequency);
    pack_str(&v, it->event_id);
    pack_u64(&v, it->arrived);
    pack_u64(&v, it->nnotifs);
    for (i = 0; i < it->nnotifs; i++)
	pack_str(&v, it->notifs[i]);
    if ((rc = store_put(sdb->st, txn, sdb->dbi[SDB_DIGESTS], "digests", k.s, k.len, v.s, v.len,
			0, why)) == 0)
	rc = put_group(sdb, txn, it, &gk, why);
    sb_free(&gk);
    sb_free(&k);
    sb_free(&v);
    return (rc);
}

/*
 * statedb_accept - the event, its outbox messages and digest items, in one
 * durable transaction; nothing at all when the Event-Id is known (*dup).
 */
typedef struct accept {
    STATEDB *sdb;
    const char *event_id;
    const STRBUF *event_rec;
    const SDB_OUT *out;
    size_t  nout;
    const SDB_ITEM *items;
    size_t  nitems;
} ACCEPT;

static int accept_work(MDB_txn *txn, void *ctx, STRBUF *why)
{
    ACCEPT *a = ctx;
    STATEDB *sdb = a->sdb;
    MDB_val v;
    uint64_t seq = 0;
    size_t  i, idlen = strlen(a->event_id);
    int     rc = store_get(sdb->st, txn, sdb->dbi[SDB_EVENTS], "events", a->event_id, idlen,
			   &v, why);

    if (rc == STORE_OK)
	return (SDB_KNOWN);
    if (rc == STORE_NOTFOUND)
	rc = store_put(sdb->st, txn, sdb->dbi[SDB_EVENTS], "events", a->event_id, idlen,
		       a->event_rec->s, a->event_rec->len, 0, why);
    if (rc == 0)
	rc = next_seq(sdb, txn, a->nout + a->nitems, &seq, why);
    for (i = 0; rc == 0 && i < a->nout; i++)
	rc = put_out(sdb, txn, seq++, &a->out[i], why);
    for (i = 0; rc == 0 && i < a->nitems; i++)
	rc = put_item(sdb, txn, seq++, &a->items[i], why);
    return (rc);
}

int     statedb_accept(STATEDB *sdb, const char *event_id, const STRBUF *event_rec,
		               const SDB_OUT *out, size_t nout, const SDB_ITEM *items,
		               size_t nitems, int *dup, STRBUF *why)
{
    ACCEPT  a = {sdb, event_id, event_rec, out, nout, items, nitems};
    int     rc = store_write(sdb->st, accept_work, &a, why);

    *dup = rc == SDB_KNOWN;
    return (rc < 0 ? -1 : 0);
}

/* statedb_known - SDB_KNOWN when an event with this Event-Id was accepted, SDB_NEW, or -1 */
int     statedb_known(STATEDB *sdb, const char *event_id, STRBUF *why)
{
    MDB_txn *txn;
    MDB_val v;
    int     rc;

    if (store_begin(sdb->st, 1, &txn, why) < 0)
	return (-1);
    rc = store_get(sdb->st, txn, sdb->dbi[SDB_EVENTS], "events", event_id, strlen(event_id),
		   &v, why);
    store_abort(sdb->st, txn);
    return (rc < 0 ? -1 : rc == STORE_OK ? SDB_KNOWN : SDB_NEW);
}

/*
 * statedb_request - keep a mail to the request address, with its envelope
 * sender ("" for a bounce), until self-service has answered it
 */
typedef struct request {
    STATEDB *sdb;
    const STRBUF *rec;
} REQUEST;

static int request_work(MDB_txn *txn, void *ctx, STRBUF *why)
{
    REQUEST *r = ctx;
    unsigned char key[8];
    uint64_t seq;
    int     rc = next_seq(r->sdb, txn, 1, &seq, why);

    seq_key(key, seq);
    if (rc == 0)
	rc = store_put(r->sdb->st, txn, r->sdb->dbi[SDB_REQUESTS], "requests", key, 8,
		       r->rec->s, r->rec->len, 0, why);
    return (rc);
}

int     statedb_request(STATEDB *sdb, const char *qid, const char *sender, const char *msg,
			        size_t len, STRBUF *why)
{
    STRBUF  v = STRBUF_INIT;
    REQUEST r = {sdb, &v};
    int     rc;

    pack_u64(&v, (uint64_t) time(NULL));
    pack_str(&v, qid);
    pack_str(&v, sender);
    pack_u64(&v, len);
    sb_putn(&v, msg, len);
    rc = store_write(sdb->st, request_work, &r, why);
    sb_free(&v);
    return (rc < 0 ? -1 : 0);
}

/*
 * statedb_request_next - the oldest request: 0, SDB_NONE when there is
 * none, SDB_DAMAGED when it does not decode (out->seq says which), -1
 */
int     statedb_request_next(STATEDB *sdb, MDB_txn *txn, SDB_REQ *out, STRBUF *why)
{
    MDB_cursor *c;
    MDB_val k, v;
    UNPACK  u;
    uint64_t len;
    int     rc;

    if ((rc = mdb_cursor_open(txn, sdb->dbi[SDB_REQUESTS], &c)) != 0)
	return (store_fail(sdb->st, rc, "requests", why));
    rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
    mdb_cursor_close(c);
    if (rc == MDB_NOTFOUND)
	return (SDB_NONE);
    if (rc != 0)
	return (store_fail(sdb->st, rc, "requests", why));
    unpack_init(&u, v.mv_data, v.mv_size);
    out->received = unpack_u64(&u);
    out->qid = unpack_str(&u);
    out->sender = unpack_str(&u);
    len = unpack_u64(&u);
    if (k.mv_size != 8)
	return (store_fail(sdb->st, MDB_CORRUPTED, "requests", why));
    out->seq = seq_of(k.mv_data);
    if (u.bad || len != (uint64_t) (u.end - u.p)) {
	sb_printf(why, "%s: damaged request entry %llu", store_path(sdb->st),
		  (unsigned long long) out->seq);
	return (SDB_DAMAGED);
    }
    out->msg = (const char *) u.p;
    out->msglen = (size_t) len;
    return (0);
}

static int decode_item(const MDB_val *k, const MDB_val *v, SDB_ITEM *it);

/* referenced - the Event-Ids that digest items still need */
static int referenced(STATEDB *sdb, MDB_txn *txn, GHashTable *ids, STRBUF *why)
{
    MDB_cursor *c;
    MDB_val k, v;
    SDB_ITEM it;
    int     rc;

    if ((rc = mdb_cursor_open(txn, sdb->dbi[SDB_DIGESTS], &c)) != 0)
	return (store_fail(sdb->st, rc, "digests", why));
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	 rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
	if (decode_item(&k, &v, &it) == 0)
	    g_hash_table_add(ids, xstrdup(it.event_id));
    mdb_cursor_close(c);
    return (rc == MDB_NOTFOUND ? 0 : store_fail(sdb->st, rc, "digests", why));
}

/*
 * statedb_events_prune - forget events received before a time that no
 * digest item needs (a later mail with the same Event-Id is then a new
 * event); the number forgotten, or -1. At most EVENTS_PRUNE_BATCH go in
 * one transaction, so that intake never waits long behind it.
 */
#define EVENTS_PRUNE_BATCH	1000

typedef struct prune {
    STATEDB *sdb;
    uint64_t before;
    uint64_t now;
    GHashTable *ids;
    STRBUF  from;			/* events: where this batch starts */
    STRBUF  next;			/* ... and the next one, once committed */
    long    batch;			/* gone in this transaction */
} PRUNE;

static int events_prune_work(MDB_txn *txn, void *ctx, STRBUF *why)
{
    PRUNE  *p = ctx;
    STATEDB *sdb = p->sdb;
    MDB_cursor *c;
    MDB_val k, v;
    UNPACK  u;
    int     rc;

    p->batch = 0;
    g_hash_table_remove_all(p->ids);
    if ((rc = referenced(sdb, txn, p->ids, why)) != 0)
	return (rc);
    if ((rc = mdb_cursor_open(txn, sdb->dbi[SDB_EVENTS], &c)) != 0)
	return (store_fail(sdb->st, rc, "events", why));
    k.mv_data = p->from.s, k.mv_size = p->from.len;
    for (rc = mdb_cursor_get(c, &k, &v, p->from.len ? MDB_SET_RANGE : MDB_FIRST);
	 rc == 0 && p->batch < EVENTS_PRUNE_BATCH; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
	char   *id = xstrndup(k.mv_data, k.mv_size);

	unpack_init(&u, v.mv_data, v.mv_size);
	if (unpack_u64(&u) < p->before && !u.bad && !g_hash_table_contains(p->ids, id)
	    && (rc = mdb_cursor_del(c, 0)) == 0)
	    p->batch++;
	free(id);
	if (rc != 0)
	    break;
    }
    if (rc == 0) {				/* the next batch starts here */
	sb_reset(&p->next);
	sb_putn(&p->next, k.mv_data, k.mv_size);
    }
    mdb_cursor_close(c);
    return (rc == MDB_NOTFOUND || rc == 0 ? 0 : store_fail(sdb->st, rc, "events", why));
}

long    statedb_events_prune(STATEDB *sdb, uint64_t before, STRBUF *why)
{
    PRUNE   p = {sdb, before, 0, NULL, STRBUF_INIT, STRBUF_INIT, 0};
    long    n = 0;

    p.ids = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
    do {
	if (store_write(sdb->st, events_prune_work, &p, why) < 0) {
	    n = -1;
	    break;
	}
	n += p.batch;
	sb_reset(&p.from);
	sb_putn(&p.from, p.next.s, p.next.len);
    } while (p.batch == EVENTS_PRUNE_BATCH);
    g_hash_table_destroy(p.ids);
    sb_free(&p.from);
    sb_free(&p.next);
    return (n);
}

/* What a walk's function says of a record: go on, delete it and go on, stop. */
#define WALK_NEXT	0
#define WALK_DELETE	1
#define WALK_STOP	2

typedef int (*WALK_FN) (const MDB_val *k, const MDB_val *v, void *ctx);

/* walk - every record of table db in key order, as fn says (WALK_*) */
static int walk(STATEDB *sdb, MDB_txn *txn, int db, WALK_FN fn, void *ctx, STRBUF *why)
{
    MDB_cursor *c;
    MDB_val k, v;
    int     rc, say = WALK_NEXT;

    if ((rc = mdb_cursor_open(txn, sdb->dbi[db], &c)) != 0)
	return (store_fail(sdb->st, rc, sdb_tables[db].name, why));
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && say != WALK_STOP;
	 rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
	if ((say = fn(&k, &v, ctx)) == WALK_DELETE && (rc = mdb_cursor_del(c, 0)) != 0)
	    break;
    mdb_cursor_close(c);
    return (rc == 0 || rc == MDB_NOTFOUND ? STORE_OK
	    : store_fail(sdb->st, rc, sdb_tables[db].name, why));
}

typedef struct events_walk {
    SDB_EVENT_FN fn;
    void   *ctx;
} EVENTS_WALK;

static int each_event(const MDB_val *k, const MDB_val *v, void *ctx)
{
    EVENTS_WALK *ew = ctx;

    return (ew->fn(k->mv_data, k->mv_size, v->mv_data, v->mv_size, ew->ctx) ? WALK_STOP
	    : WALK_NEXT);
}

/*
 * statedb_events_each - the events kept (event_retention), in Event-Id
 * order, each record as event_pack() made it, until fn returns non-zero
 */
int     statedb_events_each(STATEDB *sdb, MDB_txn *txn, SDB_EVENT_FN fn, void *ctx,
			            STRBUF *why)
{
    EVENTS_WALK ew = {fn, ctx};

    return (walk(sdb, txn, SDB_EVENTS, each_event, &ew, why));
}

/*
 * statedb_tokens_prune - forget tokens used before a time (they have
 * expired since); the number forgotten, or -1
 */
static int token_old(const MDB_val *k, const MDB_val *v, void *ctx)
{
    PRUNE  *p = ctx;

    (void) k;
    if (v->mv_size != 8 || seq_of(v->mv_data) >= p->before)
	return (WALK_NEXT);
    p->batch++;
    return (WALK_DELETE);
}

static int tokens_prune_work(MDB_txn *txn, void *ctx, STRBUF *why)
{
    PRUNE  *p = ctx;

    p->batch = 0;
    return (walk(p->sdb, txn, SDB_TOKENS, token_old, p, why));
}

long    statedb_tokens_prune(STATEDB *sdb, uint64_t before, STRBUF *why)
{
    PRUNE   p = {sdb, before, 0, NULL, STRBUF_INIT, STRBUF_INIT, 0};

    return (store_write(sdb->st, tokens_prune_work, &p, why) < 0 ? -1 : p.batch);
}

/* statedb_token_used - the token (its signature) was used before: 1, 0, or -1 */
int     statedb_token_used(STATEDB *sdb, MDB_txn *txn, const char *mac, STRBUF *why)
{
    MDB_val v;
    int     rc = store_get(sdb->st, txn, sdb->dbi[SDB_TOKENS], "tokens", mac, strlen(mac), &v,
			   why);

    return (rc < 0 ? -1 : rc == STORE_OK);
}

/*
 * statedb_request_done - a request answered, in one transaction: gone from
 * the requests, its reply (if any) in the outbox, its token (if any) used
 */
typedef struct done {
    STATEDB *sdb;
    uint64_t seq;
    const SDB_OUT *reply;
    const char *mac;
    uint64_t now;
} DONE;

static int request_done_work(MDB_txn *txn, void *ctx, STRBUF *why)
{
    DONE   *d = ctx;
    STATEDB *sdb = d->sdb;
    unsigned char key[8], when[8];
    uint64_t out;
    int     rc;

    seq_key(key, d->seq);
    if ((rc = store_del(sdb->st, txn, sdb->dbi[SDB_REQUESTS], "requests", key, 8, why))
	== STORE_NOTFOUND)
	rc = 0;
    if (rc == 0 && d->reply && (rc = next_seq(sdb, txn, 1, &out, why)) == 0)
	rc = put_out(sdb, txn, out, d->reply, why);
    seq_key(when, d->now);
    if (rc == 0 && d->mac)
	rc = store_put(sdb->st, txn, sdb->dbi[SDB_TOKENS], "tokens", d->mac, strlen(d->mac),
		       when, 8, 0, why);
    return (rc);
}

int     statedb_request_done(STATEDB *sdb, uint64_t seq, const SDB_OUT *reply,
			             const char *mac, uint64_t now, STRBUF *why)
{
    DONE    d = {sdb, seq, reply, mac, now};

    return (store_write(sdb->st, request_done_work, &d, why) < 0 ? -1 : 0);
}

typedef struct put {
    STATEDB *sdb;
    const SDB_OUT *out;
    uint64_t seq;
} PUT;

static int outbox_put_work(MDB_txn *txn, void *ctx, STRBUF *why)
{
    PUT    *p = ctx;
    int     rc = next_seq(p->sdb, txn, 1, &p->seq, why);

    return (rc == 0 ? put_out(p->sdb, txn, p->seq, p->out, why) : rc);
}

/*
 * statedb_outbox_put - one message into the outbox, for crierd's senders
 * (a mail of the panel's); its sequence number in *seq, or -1 with why
 */
int     statedb_outbox_put(STATEDB *sdb, const SDB_OUT *out, uint64_t *seq, STRBUF *why)
{
    PUT     p = {sdb, out, 0};

    if (store_write(sdb->st, outbox_put_work, &p, why) < 0)
	return (-1);
    if (seq)
	*seq = p.seq;
    return (0);
}

/* decode_out - an outbox or dead entry; -1 when it is damaged */
static int decode_out(const MDB_val *k, const MDB_val *v, SDB_OUT *o)
{
    UNPACK  u;
    uint64_t len;

    memset(o, 0, sizeof(*o));
    o->reply = "";
    if (k->mv_size != 8)
	return (-1);
    o->seq = seq_of(k->mv_data);
    unpack_init(&u, v->mv_data, v->mv_size);
    o->recipient = unpack_str(&u);
    o->message_id = unpack_str(&u);
    o->attempts = (unsigned) unpack_u64(&u);
    o->next_try = unpack_u64(&u);
    len = unpack_u64(&u);
    if (u.bad || len > (uint64_t) (u.end - u.p))
	return (-1);
    o->msg = (const char *) u.p;
    o->msglen = (size_t) len;
    u.p += len;
    if (u.p < u.end) {				/* see pack_out() */
	o->queued = unpack_u64(&u);
	o->reply = unpack_str(&u);
	o->died = unpack_u64(&u);
    }
    if (u.p < u.end)
	o->flags = (unsigned) unpack_u64(&u);
    return (u.bad ? -1 : 0);
}

/* next_in - the first entry of the outbox, dead or sent table (db) at or after seq from */
static int next_in(STATEDB *sdb, MDB_txn *txn, int db, uint64_t from, SDB_OUT *out,
		           STRBUF *why)
{
    unsigned char key[8];
    MDB_cursor *c;
    MDB_val k, v;
    int     rc;

    seq_key(key, from);
    if ((rc = mdb_cursor_open(txn, sdb->dbi[db], &c)) != 0)
	return (store_fail(sdb->st, rc, sdb_tables[db].name, why));
    k.mv_data = key;
    k.mv_size = 8;
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    mdb_cursor_close(c);
    if (rc == MDB_NOTFOUND)
	return (SDB_NONE);
    if (rc != 0)
	return (store_fail(sdb->st, rc, sdb_tables[db].name, why));
    if (decode_out(&k, &v, out) < 0) {
	sb_printf(why, "%s: damaged %s entry %llu", store_path(sdb->st), sdb_tables[db].name,
		  (unsigned long long) seq_of(k.mv_data));
	return (-1);
    }
    return (SDB_OK);
}

/* statedb_outbox_next - the first entry at or after seq from: 0, SDB_NONE, -1 */
int     statedb_outbox_next(STATEDB *sdb, MDB_txn *txn, uint64_t from, SDB_OUT *out,
			            STRBUF *why)
{
    return (next_in(sdb, txn, SDB_OUTBOX, from, out, why));
}

/* statedb_dead_next - the first dead entry at or after seq from: 0, SDB_NONE, -1 */
int     statedb_dead_next(STATEDB *sdb, MDB_txn *txn, uint64_t from, SDB_OUT *out,
			          STRBUF *why)
{
    return (next_in(sdb, txn, SDB_DEAD, from, out, why));
}

/* A change to some entries of the outbox and the dead table, in one transaction. */
typedef struct move {
    STATEDB *sdb;
    const uint64_t *seqs;
    size_t  n;
    const SDB_OUT *o;			/* defer: the entry as it is now; done: n */
    const char *reply;			/* to_dead: Postfix's last answer */
    uint64_t now;
    long    done;			/* entries found and changed */
} MOVE;

/* outbox_sent_work - entries out of the outbox, their records into sent */
static int outbox_sent_work(MDB_txn *txn, void *ctx, STRBUF *why)
{
    MOVE   *m = ctx;
    unsigned char key[8];
    SDB_OUT rec;
    size_t  i;
    int     rc = 0;

    for (i = 0; i < m->n && rc >= 0; i++) {
	seq_key(key, m->o[i].seq);
	rc = store_del(m->sdb->st, txn, m->sdb->dbi[SDB_OUTBOX], "outbox", key, 8, why);
	if (rc == STORE_OK) {
	    rec = m->o[i];
	    rec.flags |= SDB_OUT_HEADERS;
	    rc = put_out_in(m->sdb, txn, SDB_SENT, rec.seq, &rec, why);
	}
    }
    return (rc < 0 ? rc : 0);
}

/*
 * statedb_outbox_done - Postfix took them: out of the outbox, several in
 * one commit (one fsync), since a crash before it only resends, with the
 * same Message-IDs. What a bounce needs of each (sent[i]: seq, recipient,
 * Message-ID, the X-Crier headers as msg, Postfix's reply, the time sent
 * as died) stays in the sent table.
 */
int     statedb_outbox_done(STATEDB *sdb, const SDB_OUT *sent, size_t n, STRBUF *why)
{
    MOVE    m = {sdb, NULL, n, sent, NULL, 0, 0};

    return (n == 0 || store_write(sdb->st, outbox_sent_work, &m, why) >= 0 ? 0 : -1);
}

/*
 * move_one - one entry from one table to the other, with its reply and
 * times set as the move wants; STORE_NOTFOUND when it is not there
 */
static int move_entry(MOVE *m, MDB_txn *txn, int to_dead, uint64_t seq, STRBUF *why)
{
    STATEDB *sdb = m->sdb;
    unsigned char key[8];
    MDB_val k = {8, key}, v;
    SDB_OUT o;
    STRBUF  copy = STRBUF_INIT;
    int     rc, from = to_dead ? SDB_OUTBOX : SDB_DEAD;

    seq_key(key, seq);
    if ((rc = store_get(sdb->st, txn, sdb->dbi[from], sdb_tables[from].name, key, 8, &v, why))
	!= STORE_OK)
	return (rc);
    if (decode_out(&k, &v, &o) < 0) {
	sb_printf(why, "%s: damaged %s entry %llu", store_path(sdb->st), sdb_tables[from].name,
		  (unsigned long long) seq);
	return (STORE_ERROR);
    }
    if (!to_dead && (o.flags & SDB_OUT_HEADERS))
	return (SDB_BOUNCED);			/* (no text to send) */
    if (to_dead) {				/* after one more attempt */
	o.attempts++;
	o.reply = m->reply ? m->reply : o.reply;
	o.died = m->now;
    } else {					/* a fresh start: a new lifetime */
	o.attempts = 0, o.next_try = 0, o.queued = m->now, o.died = 0, o.reply = "";
    }
    pack_out(&copy, &o);			/* LMDB's copy moves at the first write */
    rc = store_put(sdb->st, txn, sdb->dbi[to_dead ? SDB_DEAD : SDB_OUTBOX], to_dead ? "dead"
		   : "outbox", key, 8, copy.s, copy.len, 0, why);
    if (rc == STORE_OK)
	rc = store_del(sdb->st, txn, sdb->dbi[from], sdb_tables[from].name, key, 8, why);
    sb_free(&copy);
    return (rc);
}

static int to_dead_work(MDB_txn *txn, void *ctx, STRBUF *why)
{
    MOVE   *m = ctx;
    int     rc = move_entry(m, txn, 1, m->seqs[0], why);

    return (rc == STORE_NOTFOUND ? SDB_NONE : rc);
}

/*
 * statedb_outbox_dead - Postfix refused it for good, or it waited longer
 * than it may: out of the outbox into the dead table, with Postfix's
 * reply and the time; SDB_NONE when it is no longer in the outbox
 */
int     statedb_outbox_dead(STATEDB *sdb, uint64_t seq, const char *reply, uint64_t now,
			            STRBUF *why)
{
    MOVE    m = {sdb, &seq, 1, NULL, reply, now, 0};
    int     rc = store_write(sdb->st, to_dead_work, &m, why);

    return (rc < 0 ? -1 : rc);
}

static int defer_work(MDB_txn *txn, void *ctx, STRBUF *why)
{
    MOVE   *m = ctx;

    return (put_out(m->sdb, txn, m->o->seq, m->o, why));
}

/*
 * statedb_outbox_defer - note an attempt, Postfix's reply and when to try
 * again (the queue time, when the entry had none, becomes now)
 */
int     statedb_outbox_defer(STATEDB *sdb, const SDB_OUT *o, STRBUF *why)
{
    MOVE    m = {sdb, NULL, 0, o, NULL, 0, 0};

    return (store_write(sdb->st, defer_work, &m, why) < 0 ? -1 : 0);
}

/* dead_one - one dead entry back into the outbox (resend), or gone */
static int dead_one(MOVE *m, MDB_txn *txn, int resend, uint64_t seq, STRBUF *why)
{
    unsigned char key[8];

    if (resend)
	return (move_entry(m, txn, 0, seq, why));
    seq_key(key, seq);
    return (store_del(m->sdb->st, txn, m->sdb->dbi[SDB_DEAD], "dead", key, 8, why));
}

/* dead_work - resend or drop the dead entries m->seqs, or every one (m->n == 0) */
static int dead_work(MDB_txn *txn, MOVE *m, int resend, STRBUF *why)
{
    SDB_OUT o;
    uint64_t from = 0;
    size_t  i;
    int     rc = STORE_OK;

    m->done = 0;
    for (i = 0; i < m->n && rc == STORE_OK; i++)
	if ((rc = dead_one(m, txn, resend, m->seqs[i], why)) == STORE_OK)
	    m->done++;
    if (m->n)
	return (rc == STORE_NOTFOUND ? SDB_NONE : rc);
    while ((rc = next_in(m->sdb, txn, SDB_DEAD, from, &o, why)) == SDB_OK) {
	from = o.seq + 1;
	if ((rc = dead_one(m, txn, resend, o.seq, why)) == SDB_BOUNCED)
	    continue;				/* a bounce stays, to be dropped */
	if (rc != STORE_OK)
	    return (rc < 0 ? rc : STORE_ERROR);
	m->done++;
    }
    return (rc == SDB_NONE ? STORE_OK : rc);
}

static int dead_resend_work(MDB_txn *txn, void *ctx, STRBUF *why)
{
    return (dead_work(txn, ctx, 1, why));
}

static int dead_drop_work(MDB_txn *txn, void *ctx, STRBUF *why)
{
    return (dead_work(txn, ctx, 0, why));
}

/*
 * statedb_dead_resend - a dead entry (seq; 0: every one) back into the
 * outbox under its number, as if new: SDB_OK with the count in *n,
 * SDB_NONE when there is no such entry, SDB_BOUNCED when it bounced
 * (only its headers are kept; every one skips those), -1
 */
int     statedb_dead_resend(STATEDB *sdb, uint64_t seq, uint64_t now, size_t *n, STRBUF *why)
{
    MOVE    m = {sdb, &seq, seq != 0, NULL, NULL, now, 0};
    int     rc = store_write(sdb->st, dead_resend_work, &m, why);

    *n = rc == SDB_OK ? (size_t) m.done : 0;
    return (rc < 0 ? -1 : rc);
}

/* statedb_dead_drop - forget a dead entry (seq; 0: every one); as statedb_dead_resend */
int     statedb_dead_drop(STATEDB *sdb, uint64_t seq, size_t *n, STRBUF *why)
{
    MOVE    m = {sdb, &seq, seq != 0, NULL, NULL, 0, 0};
    int     rc = store_write(sdb->st, dead_drop_work, &m, why);

    *n = rc == SDB_OK ? (size_t) m.done : 0;
    return (rc < 0 ? -1 : rc);
}

static int decode_addr(const MDB_val *v, SDB_ADDR *a);

/*
 * sent_old - a sent record older than p->before (or damaged) goes. The
 * table is in outbox order, which is nearly the order of sending: the
 * walk stops at the first young record (one that waited long in the
 * outbox holds the younger ones back, for at most outbox_max_age), and
 * after SENT_PRUNE_BATCH, so that intake never waits long behind it.
 */
#define SENT_PRUNE_BATCH	1000

static int sent_old(const MDB_val *k, const MDB_val *v, void *ctx)
{
    PRUNE  *p = ctx;
    SDB_OUT o;

    if (p->batch == SENT_PRUNE_BATCH || (decode_out(k, v, &o) == 0 && o.died >= p->before))
	return (WALK_STOP);
    p->batch++;
    return (WALK_DELETE);
}

static int sent_prune_work(MDB_txn *txn, void *ctx, STRBUF *why)
{
    PRUNE  *p = ctx;

    p->batch = 0;
    return (walk(p->sdb, txn, SDB_SENT, sent_old, p, why));
}

/* count_old - the count of an address that has not bounced since p->before, unless suppressed */
static int count_old(const MDB_val *k, const MDB_val *v, void *ctx)
{
    PRUNE  *p = ctx;
    SDB_ADDR a;

    (void) k;
    return (decode_addr(v, &a) == 0 && !a.suppressed && a.last < p->before
	    ? WALK_DELETE : WALK_NEXT);
}

/*
 * dead_prune_work - dead entries that died before p->before go; those of
 * older versions, without a death time, get p->now. Old bounce counts go
 * too (count_old).
 */
static int dead_prune_work(MDB_txn *txn, void *ctx, STRBUF *why)
{
    PRUNE  *p = ctx;
    unsigned char key[8];
    uint64_t from = 0;
    SDB_OUT o;
    int     rc;

    p->batch = 0;
    if ((rc = walk(p->sdb, txn, SDB_BOUNCES, count_old, p, why)) != STORE_OK)
	return (rc);
    while ((rc = next_in(p->sdb, txn, SDB_DEAD, from, &o, why)) == SDB_OK) {
	from = o.seq + 1;
	seq_key(key, o.seq);
	if (o.died == 0) {
	    o.died = p->now;
	    rc = put_out_in(p->sdb, txn, SDB_DEAD, o.seq, &o, why);
	} else if (o.died < p->before
		   && (rc = store_del(p->sdb->st, txn, p->sdb->dbi[SDB_DEAD], "dead", key, 8,
				      why)) == STORE_OK)
	    p->batch++;
	if (rc != STORE_OK)
	    return (rc < 0 ? rc : STORE_ERROR);
    }
    return (rc == SDB_NONE ? STORE_OK : rc);
}

/*
 * statedb_dead_prune - forget dead entries and sent records older than a
 * time; the number of dead entries, or -1
 */
long    statedb_dead_prune(STATEDB *sdb, uint64_t before, uint64_t now, STRBUF *why)
{
    PRUNE   p = {sdb, before, now, NULL, STRBUF_INIT, STRBUF_INIT, 0};
    long    n;

    if (store_write(sdb->st, dead_prune_work, &p, why) < 0)
	return (-1);
    n = p.batch;
    do {
	if (store_write(sdb->st, sent_prune_work, &p, why) < 0)
	    return (-1);
    } while (p.batch == SENT_PRUNE_BATCH);
    return (n);
}

/* A bounce, or a change to the bounces table, in one transaction. */
typedef struct bwork {
    STATEDB *sdb;
    SDB_BOUNCE *b;
    const char *address;		/* unsuppress: one, or NULL for all */
    long    done;
} BWORK;

/* addr_key - an address's key in bounces: lower-cased */
static void addr_key(STRBUF *k, const char *address)
{
    sb_reset(k);
    sb_puts(k, address);
    str_lower(k->s);
}

static void pack_addr(STRBUF *v, const SDB_ADDR *a)
{
    pack_str(v, a->address);
    pack_u64(v, a->count);
    pack_u64(v, a->last);
    pack_u64(v, (uint64_t) a->suppressed);
    pack_str(v, a->reply ? a->reply : "");
}

static int decode_addr(const MDB_val *v, SDB_ADDR *a)
{
    UNPACK  u;

    unpack_init(&u, v->mv_data, v->mv_size);
    a->address = unpack_str(&u);
    a->count = (unsigned) unpack_u64(&u);
    a->last = unpack_u64(&u);
    a->suppressed = unpack_u64(&u) != 0;
    a->reply = unpack_str(&u);
    return (u.bad ? -1 : 0);
}

/*
 * count_bounce - what one DSN does to its address's count: a hard bounce
 * adds one (after a fresh start when the last one is older than the
 * window) and suppresses at the limit; a success clears it all
 */
static int count_bounce(STATEDB *sdb, MDB_txn *txn, const char *address, SDB_BOUNCE *b,
			        STRBUF *why)
{
    STRBUF  k = STRBUF_INIT, v = STRBUF_INIT;
    SDB_ADDR a = {address, 0, 0, 0, ""}, was;
    MDB_val old;
    int     rc;

    addr_key(&k, address);
    rc = store_get(sdb->st, txn, sdb->dbi[SDB_BOUNCES], "bounces", k.s, k.len, &old, why);
    if (rc == STORE_OK && decode_addr(&old, &was) == 0)
	a.count = was.count, a.last = was.last, a.suppressed = was.suppressed;
    if (rc == STORE_OK && b->kind == SDB_BOUNCE_OK)
	rc = store_del(sdb->st, txn, sdb->dbi[SDB_BOUNCES], "bounces", k.s, k.len, why);
    else if (rc >= 0 && b->kind == SDB_BOUNCE_HARD) {
	if (!a.suppressed && a.last + b->window < b->now)
	    a.count = 0;			/* quiet long enough: delivered */
	a.address = address, a.count++, a.last = b->now, a.reply = b->reply;
	if (!a.suppressed && b->limit && a.count >= b->limit)
	    a.suppressed = b->newly = 1;
	pack_addr(&v, &a);
	rc = store_put(sdb->st, txn, sdb->dbi[SDB_BOUNCES], "bounces", k.s, k.len, v.s, v.len,
		       0, why);
    } else
	rc = rc == STORE_NOTFOUND ? STORE_OK : rc;
    b->count = b->kind == SDB_BOUNCE_OK ? 0 : a.count;
    b->suppressed = b->kind == SDB_BOUNCE_OK ? 0 : a.suppressed;
    sb_free(&k), sb_free(&v);
    return (rc);
}

/*
 * bounce_work - a failed notification from sent to dead, with the DSN's
 * status and diagnostic; then its address's count
 */
static int bounce_work(MDB_txn *txn, void *ctx, STRBUF *why)
{
    BWORK  *m = ctx;
    SDB_BOUNCE *b = m->b;
    unsigned char key[8];
    MDB_val k = {8, key}, v;
    STRBUF  copy = STRBUF_INIT;
    SDB_OUT o;
    char   *address;
    int     rc;

    seq_key(key, b->seq);
    if ((rc = store_get(m->sdb->st, txn, m->sdb->dbi[SDB_SENT], "sent", key, 8, &v, why)))
	return (rc);
    if (decode_out(&k, &v, &o) < 0) {
	sb_printf(why, "%s: damaged sent entry %llu", store_path(m->sdb->st),
		  (unsigned long long) b->seq);
	return (STORE_ERROR);
    }
    address = xstrdup(o.recipient);
    o.reply = b->reply, o.died = b->now, o.flags |= SDB_OUT_HEADERS;
    pack_out(&copy, &o);			/* (before the first write) */
    if (b->kind != SDB_BOUNCE_OK
	&& (rc = store_put(m->sdb->st, txn, m->sdb->dbi[SDB_DEAD], "dead", key, 8, copy.s,
			   copy.len, 0, why)) == STORE_OK)
	rc = store_del(m->sdb->st, txn, m->sdb->dbi[SDB_SENT], "sent", key, 8, why);
    if (rc == STORE_OK)
	rc = count_bounce(m->sdb, txn, address, b, why);
    free(address);
    sb_free(&copy);
    return (rc);
}

/*
 * statedb_bounce - a DSN about sent notification b->seq: failed ones move
 * to the dead table, and the address's count changes (see count_bounce);
 * b says what it is now. SDB_OK, SDB_NONE when no such notification was
 * sent (or it was forgotten, or bounced before), -1.
 */
int     statedb_bounce(STATEDB *sdb, SDB_BOUNCE *b, STRBUF *why)
{
    BWORK   m = {sdb, b, NULL, 0};
    int     rc = store_write(sdb->st, bounce_work, &m, why);

    return (rc < 0 ? -1 : rc);
}

/* statedb_sent_get - a sent notification's record: SDB_OK, SDB_NONE, -1 */
int     statedb_sent_get(STATEDB *sdb, MDB_txn *txn, uint64_t seq, SDB_OUT *out, STRBUF *why)
{
    unsigned char key[8];
    MDB_val k = {8, key}, v;
    int     rc;

    seq_key(key, seq);
    if ((rc = store_get(sdb->st, txn, sdb->dbi[SDB_SENT], "sent", key, 8, &v, why)))
	return (rc);
    if (decode_out(&k, &v, out) < 0) {
	sb_printf(why, "%s: damaged sent entry %llu", store_path(sdb->st),
		  (unsigned long long) seq);
	return (-1);
    }
    return (SDB_OK);
}

/* statedb_suppressed - 1 when crier no longer mails address (*count: why), else 0 */
int     statedb_suppressed(STATEDB *sdb, MDB_txn *txn, const char *address, unsigned *count)
{
    STRBUF  k = STRBUF_INIT, why = STRBUF_INIT;
    MDB_val v;
    SDB_ADDR a;
    int     hit;

    addr_key(&k, address);
    hit = store_get(sdb->st, txn, sdb->dbi[SDB_BOUNCES], "bounces", k.s, k.len, &v, &why)
	== STORE_OK && decode_addr(&v, &a) == 0 && a.suppressed;
    *count = hit ? a.count : 0;
    sb_free(&k), sb_free(&why);
    return (hit);
}

/* An SDB_ADDR_FN and its context, for walk(). */
typedef struct each_addr {
    SDB_ADDR_FN fn;
    void   *ctx;
} EACH_ADDR;

static int each_addr(const MDB_val *k, const MDB_val *v, void *ctx)
{
    EACH_ADDR *e = ctx;
    SDB_ADDR a;

    (void) k;
    return (decode_addr(v, &a) == 0 && e->fn(&a, e->ctx) != 0 ? WALK_STOP : WALK_NEXT);
}

/* statedb_bounces_each - every address that bounced, in key order, until fn says stop */
int     statedb_bounces_each(STATEDB *sdb, MDB_txn *txn, SDB_ADDR_FN fn, void *ctx,
			             STRBUF *why)
{
    EACH_ADDR e = {fn, ctx};

    return (walk(sdb, txn, SDB_BOUNCES, each_addr, &e, why));
}

static int count_any(const MDB_val *k, const MDB_val *v, void *ctx)
{
    (void) k, (void) v;
    ((BWORK *) ctx)->done++;
    return (WALK_DELETE);
}

/* unsuppress_work - one address's count gone, or (NULL) every one */
static int unsuppress_work(MDB_txn *txn, void *ctx, STRBUF *why)
{
    BWORK  *m = ctx;
    STRBUF  k = STRBUF_INIT;
    int     rc;

    m->done = 0;
    if (m->address == NULL)
	return (walk(m->sdb, txn, SDB_BOUNCES, count_any, m, why));
    addr_key(&k, m->address);
    rc = store_del(m->sdb->st, txn, m->sdb->dbi[SDB_BOUNCES], "bounces", k.s, k.len, why);
    m->done = rc == STORE_OK;
    sb_free(&k);
    return (rc == STORE_NOTFOUND ? SDB_NONE : rc);
}

/*
 * statedb_unsuppress - crier mails address again, its count starts anew
 * (NULL: every address): SDB_OK with the count in *n, SDB_NONE, -1
 */
int     statedb_unsuppress(STATEDB *sdb, const char *address, size_t *n, STRBUF *why)
{
    BWORK   m = {sdb, NULL, address, 0};
    int     rc = store_write(sdb->st, unsuppress_work, &m, why);

    *n = rc == SDB_OK ? (size_t) m.done : 0;
    return (rc < 0 ? -1 : rc);
}

/* statedb_count - entries in a table, by name */
int     statedb_count(STATEDB *sdb, const char *table, size_t *n, STRBUF *why)
{
    MDB_txn *txn;
    MDB_stat ms;
    int     i, rc;

    for (i = 0; i < SDB_COUNT && strcmp(sdb_tables[i].name, table) != 0; i++)
	 /* void */ ;
    if (i == SDB_COUNT) {
	sb_printf(why, "no table '%s'", table);
	return (-1);
    }
    if (store_begin(sdb->st, 1, &txn, why) < 0)
	return (-1);
    rc = mdb_stat(txn, sdb->dbi[i], &ms);
    store_abort(sdb->st, txn);
    *n = rc == 0 ? ms.ms_entries : 0;
    return (rc ? store_fail(sdb->st, rc, table, why) : 0);
}

/* statedb_get_event - an accepted event's record (see event_pack()): 0, 1 absent, -1 */
int     statedb_get_event(STATEDB *sdb, MDB_txn *txn, const char *event_id, const void **rec,
			          size_t *len, STRBUF *why)
{
    MDB_val v;
    int     rc = store_get(sdb->st, txn, sdb->dbi[SDB_EVENTS], "events", event_id,
			   strlen(event_id), &v, why);

    if (rc == 0) {
	*rec = v.mv_data;
	*len = v.mv_size;
    }
    return (rc);
}

static int decode_group(const MDB_val *v, SDB_GROUP *g)
{
    UNPACK  u;

    unpack_init(&u, v->mv_data, v->mv_size);
    g->due = unpack_u64(&u);
    g->recipient = unpack_str(&u);
    g->frequency = unpack_str(&u);
    return (u.bad ? -1 : 0);
}

/* group_of_due - the dgroups record a due-index key points at */
static int group_of_due(STATEDB *sdb, MDB_txn *txn, const MDB_val *k, MDB_val *v)
{
    MDB_val gk;

    if (k->mv_size <= 8)
	return (MDB_CORRUPTED);
    gk.mv_data = (char *) k->mv_data + 8;
    gk.mv_size = k->mv_size - 8;
    return (mdb_get(txn, sdb->dbi[SDB_DGROUPS], &gk, v));
}

/*
 * groups_walk - the pending digests from cursor position op (MDB_NEXT: the
 * first; MDB_SET_RANGE with *k: the first at or after it), by recipient
 * or (by_due) in the order they fall due. Stops when fn returns non-zero.
 */
static int groups_walk(STATEDB *sdb, MDB_txn *txn, int by_due, MDB_cursor_op op, MDB_val *k,
		               SDB_GROUP_FN fn, void *ctx, STRBUF *why)
{
    MDB_cursor *c;
    MDB_val v;
    SDB_GROUP g;
    int     rc, db = by_due ? SDB_DUE : SDB_DGROUPS;

    if ((rc = mdb_cursor_open(txn, sdb->dbi[db], &c)) != 0)
	return (store_fail(sdb->st, rc, sdb_tables[db].name, why));
    for (; (rc = mdb_cursor_get(c, k, &v, op)) == 0; op = MDB_NEXT) {
	if (by_due && (rc = group_of_due(sdb, txn, k, &v)) != 0)
	    break;
	if (decode_group(&v, &g) < 0) {
	    rc = MDB_CORRUPTED;
	    break;
	}
	if (fn(&g, ctx) != 0)
	    break;
    }
    mdb_cursor_close(c);
    return (rc == 0 || rc == MDB_NOTFOUND ? 0 : store_fail(sdb->st, rc, "dgroups", why));
}

/* statedb_groups_each - every pending digest (see groups_walk) */
int     statedb_groups_each(STATEDB *sdb, MDB_txn *txn, int by_due, SDB_GROUP_FN fn,
			            void *ctx, STRBUF *why)
{
    MDB_val k = {0, NULL};

    return (groups_walk(sdb, txn, by_due, MDB_NEXT, &k, fn, ctx, why));
}

/*
 * statedb_groups_after - the pending digests by recipient, from the one
 * after (recipient, frequency): a long walk in pages, each in its own
 * read transaction, so that no reader pins old pages for long.
 */
int     statedb_groups_after(STATEDB *sdb, MDB_txn *txn, const char *recipient,
			             const char *frequency, SDB_GROUP_FN fn, void *ctx, STRBUF *why)
{
    STRBUF  gk = STRBUF_INIT;
    MDB_val k;
    int     rc;

    group_key(&gk, recipient, frequency);
    sb_putc(&gk, 0);				/* the first key after it */
    k.mv_data = gk.s;
    k.mv_size = gk.len;
    rc = groups_walk(sdb, txn, 0, MDB_SET_RANGE, &k, fn, ctx, why);
    sb_free(&gk);
    return (rc);
}

static int decode_item(const MDB_val *k, const MDB_val *v, SDB_ITEM *it)
{
    UNPACK  u;

    memset(it, 0, sizeof(*it));
    if (k->mv_size < 9)
	return (-1);
    it->seq = seq_of((const char *) k->mv_data + k->mv_size - 8);
    unpack_init(&u, v->mv_data, v->mv_size);
    it->recipient = unpack_str(&u);
    it->frequency = unpack_str(&u);
    it->event_id = unpack_str(&u);
    it->arrived = unpack_u64(&u);
    it->nnotifs = unpack_u64(&u);
    it->notifbuf = u;
    return (u.bad ? -1 : 0);
}

/* statedb_items_each - the items of one digest, oldest first */
int     statedb_items_each(STATEDB *sdb, MDB_txn *txn, const char *recipient,
			           const char *frequency, SDB_ITEM_FN fn, void *ctx, STRBUF *why)
{
    STRBUF  prefix = STRBUF_INIT;
    MDB_cursor *c;
    MDB_val k, v;
    SDB_ITEM it;
    int     rc;

    group_key(&prefix, recipient, frequency);
    sb_putc(&prefix, 0);
    if ((rc = mdb_cursor_open(txn, sdb->dbi[SDB_DIGESTS], &c)) != 0) {
	sb_free(&prefix);
	return (store_fail(sdb->st, rc, "digests", why));
    }
    k.mv_data = prefix.s;
    k.mv_size = prefix.len;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	 rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
	if (k.mv_size != prefix.len + 8 || memcmp(k.mv_data, prefix.s, prefix.len) != 0)
	    break;
	if (decode_item(&k, &v, &it) < 0) {
	    rc = MDB_CORRUPTED;
	    break;
	}
	if (fn(&it, ctx) != 0)
	    break;
    }
    mdb_cursor_close(c);
    sb_free(&prefix);
    return (rc == 0 || rc == MDB_NOTFOUND ? 0 : store_fail(sdb->st, rc, "digests", why));
}

/* set_due - move a digest in the schedule (due 0: take it out) */
static int set_due(STATEDB *sdb, MDB_txn *txn, const STRBUF *gk, const char *recipient,
		           const char *frequency, uint64_t due, STRBUF *why)
{
    STRBUF  dk = STRBUF_INIT, v = STRBUF_INIT;
    MDB_val old;
    SDB_GROUP g;
    int     rc = 0;

    if (store_get(sdb->st, txn, sdb->dbi[SDB_DGROUPS], "dgroups", gk->s, gk->len, &old, why)
	== STORE_OK && decode_group(&old, &g) == 0) {
	due_key(&dk, g.due, gk);
	rc = store_del(sdb->st, txn, sdb->dbi[SDB_DUE], "due", dk.s, dk.len, why);
	rc = rc == STORE_NOTFOUND ? 0 : rc;
    }
    if (rc < 0)
	 /* the error stands */ ;
    else if (due == 0) {
	rc = store_del(sdb->st, txn, sdb->dbi[SDB_DGROUPS], "dgroups", gk->s, gk->len, why);
	rc = rc == STORE_NOTFOUND ? 0 : rc;
    } else {
	pack_u64(&v, due);
	pack_str(&v, recipient);
	pack_str(&v, frequency);
	due_key(&dk, due, gk);
	rc = store_put(sdb->st, txn, sdb->dbi[SDB_DGROUPS], "dgroups", gk->s, gk->len, v.s,
		       v.len, 0, why);
	if (rc == 0)
	    rc = store_put(sdb->st, txn, sdb->dbi[SDB_DUE], "due", dk.s, dk.len, "", 0, 0, why);
    }
    sb_free(&dk);
    sb_free(&v);
    return (rc);
}

typedef struct resched {
    STATEDB *sdb;
    const SDB_GROUP *v;
    const SDB_MOVE *moves;
    size_t  n;
} RESCHED;

static int reschedule_work(MDB_txn *txn, void *ctx, STRBUF *why)
{
    RESCHED *r = ctx;
    STRBUF  gk = STRBUF_INIT;
    size_t  i;
    int     rc = 0;

    for (i = 0; rc == 0 && i < r->n; i++) {
	group_key(&gk, r->v[i].recipient, r->v[i].frequency);
	rc = set_due(r->sdb, txn, &gk, r->v[i].recipient, r->v[i].frequency, r->v[i].due, why);
    }
    sb_free(&gk);
    return (rc);
}

/* statedb_reschedule - new due times of digests (rules or zones changed), in one transaction */
int     statedb_reschedule(STATEDB *sdb, const SDB_GROUP *v, size_t n, STRBUF *why)
{
    RESCHED r = {sdb, v, NULL, n};

    return (store_write(sdb->st, reschedule_work, &r, why) < 0 ? -1 : 0);
}

/* group_empty - no item left for this digest */
static int group_empty(STATEDB *sdb, MDB_txn *txn, const STRBUF *gk)
{
    MDB_cursor *c;
    MDB_val k, v;
    int     rc, empty = 1;

    if (mdb_cursor_open(txn, sdb->dbi[SDB_DIGESTS], &c) != 0)
	return (0);
    k.mv_data = gk->s;
    k.mv_size = gk->len;
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && k.mv_size == gk->len + 9 && memcmp(k.mv_data, gk->s, gk->len) == 0
	&& ((const char *) k.mv_data)[gk->len] == 0)
	empty = 0;
    mdb_cursor_close(c);
    return (empty);
}

/* move_one - one digest's part of statedb_digest_moves() */
static int move_one(STATEDB *sdb, MDB_txn *txn, const SDB_MOVE *mv, STRBUF *why)
{
    STRBUF  gk = STRBUF_INIT, k = STRBUF_INIT;
    unsigned char sk[8];
    uint64_t seq;
    size_t  i;
    int     rc;

    group_key(&gk, mv->recipient, mv->frequency);
    rc = mv->out ? next_seq(sdb, txn, 1, &seq, why) : 0;
    if (rc == 0 && mv->out)
	rc = put_out(sdb, txn, seq, mv->out, why);
    for (i = 0; rc == 0 && i < mv->n; i++) {
	sb_reset(&k);
	sb_putn(&k, gk.s, gk.len);
	sb_putc(&k, 0);
	seq_key(sk, mv->seqs[i]);
	sb_putn(&k, sk, 8);
	if ((rc = store_del(sdb->st, txn, sdb->dbi[SDB_DIGESTS], "digests", k.s, k.len, why))
	    == STORE_NOTFOUND) {
	    sb_printf(why, "%s: digests: item %llu is gone", store_path(sdb->st),
		      (unsigned long long) mv->seqs[i]);
	    rc = STORE_ERROR;
	}
    }
    if (rc == 0 && group_empty(sdb, txn, &gk))
	rc = set_due(sdb, txn, &gk, mv->recipient, mv->frequency, 0, why);
    sb_free(&gk);
    sb_free(&k);
    return (rc);
}

/*
 * statedb_digest_moves - in one transaction (one fsync for many digests):
 * each rendered digest into the outbox, its items out of the digest, and
 * the digest out of the schedule when nothing is left. Nothing is lost or
 * sent twice across a crash here. A move without a message only drops.
 */
static int digest_moves_work(MDB_txn *txn, void *ctx, STRBUF *why)
{
    RESCHED *r = ctx;
    size_t  i;
    int     rc = 0;

    for (i = 0; rc == 0 && i < r->n; i++)
	rc = move_one(r->sdb, txn, &r->moves[i], why);
    return (rc);
}

int     statedb_digest_moves(STATEDB *sdb, const SDB_MOVE *moves, size_t n, STRBUF *why)
{
    RESCHED r = {sdb, NULL, moves, n};

    if (n == 0)
	return (0);
    return (store_write(sdb->st, digest_moves_work, &r, why) < 0 ? -1 : 0);
}
