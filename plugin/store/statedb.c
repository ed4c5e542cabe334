/*
 * statedb.c - what crierd keeps (see statedb.h).
 */
#include "config.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem.h"
#include "pack.h"
#include "statedb.h"
#include "store.h"
#include "strutil.h"

enum { SDB_META, SDB_EVENTS, SDB_OUTBOX, SDB_DIGESTS, SDB_REQUESTS, SDB_DEAD, SDB_DGROUPS,
SDB_DUE, SDB_TOKENS, SDB_COUNT };

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
	return (-1);
    *first = (rc == 0 && v.mv_size == 8) ? seq_of(v.mv_data) : 1;
    seq_key(buf, *first + n);
    return (store_put(sdb->st, txn, sdb->dbi[SDB_META], "meta", "seq", 3, buf, 8, 0, why)
	    ? -1 : 0);
}

static void pack_out(STRBUF *v, const SDB_OUT *o)
{
    pack_str(v, o->recipient);
    pack_str(v, o->message_id);
    pack_u64(v, o->attempts);
    pack_u64(v, o->next_try);
    pack_u64(v, o->msglen);
    sb_putn(v, o->msg, o->msglen);
}

/* put_out - one outbox entry under seq */
static int put_out(STATEDB *sdb, MDB_txn *txn, uint64_t seq, const SDB_OUT *o, STRBUF *why)
{
    unsigned char key[8];
    STRBUF  v = STRBUF_INIT;
    int     rc;

    seq_key(key, seq);
    pack_out(&v, o);
    rc = store_put(sdb->st, txn, sdb->dbi[SDB_OUTBOX], "outbox", key, 8, v.s, v.len, 0, why);
    sb_free(&v);
    return (rc ? -1 : 0);
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

    if (rc <= 0)
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
    return (rc ? -1 : 0);
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
    rc = store_put(sdb->st, txn, sdb->dbi[SDB_DIGESTS], "digests", k.s, k.len, v.s, v.len, 0,
		   why) ? -1 : put_group(sdb, txn, it, &gk, why);
    sb_free(&gk);
    sb_free(&k);
    sb_free(&v);
    return (rc);
}

/* write_end - commit, or abort after an error; -1 on either failure */
static int write_end(STATEDB *sdb, MDB_txn *txn, int rc, STRBUF *why)
{
    if (rc != 0) {
	mdb_txn_abort(txn);
	return (-1);
    }
    return (store_commit(sdb->st, txn, why));
}

/*
 * statedb_accept - the event, its outbox messages and digest items, in one
 * durable transaction; nothing at all when the Event-Id is known (*dup).
 */
int     statedb_accept(STATEDB *sdb, const char *event_id, const STRBUF *event_rec,
		               const SDB_OUT *out, size_t nout, const SDB_ITEM *items,
		               size_t nitems, int *dup, STRBUF *why)
{
    MDB_txn *txn;
    MDB_val v;
    uint64_t seq = 0;
    size_t  i;
    int     rc;

    *dup = 0;
    if (store_begin(sdb->st, 0, &txn, why) < 0)
	return (-1);
    rc = store_get(sdb->st, txn, sdb->dbi[SDB_EVENTS], "events", event_id, strlen(event_id),
		   &v, why);
    if (rc == 0) {
	*dup = 1;
	mdb_txn_abort(txn);
	return (0);
    }
    rc = rc < 0 ? -1 : store_put(sdb->st, txn, sdb->dbi[SDB_EVENTS], "events", event_id,
				 strlen(event_id), event_rec->s, event_rec->len, 0, why);
    if (rc == 0)
	rc = next_seq(sdb, txn, nout + nitems, &seq, why);
    for (i = 0; rc == 0 && i < nout; i++)
	rc = put_out(sdb, txn, seq++, &out[i], why);
    for (i = 0; rc == 0 && i < nitems; i++)
	rc = put_item(sdb, txn, seq++, &items[i], why);
    return (write_end(sdb, txn, rc, why));
}

/* statedb_known - 1 when an event with this Event-Id was accepted, 0 if not, -1 */
int     statedb_known(STATEDB *sdb, const char *event_id, STRBUF *why)
{
    MDB_txn *txn;
    MDB_val v;
    int     rc;

    if (store_begin(sdb->st, 1, &txn, why) < 0)
	return (-1);
    rc = store_get(sdb->st, txn, sdb->dbi[SDB_EVENTS], "events", event_id, strlen(event_id),
		   &v, why);
    mdb_txn_abort(txn);
    return (rc < 0 ? -1 : rc == 0);
}

/*
 * statedb_request - keep a mail to the request address, with its envelope
 * sender ("" for a bounce), until self-service has answered it
 */
int     statedb_request(STATEDB *sdb, const char *qid, const char *sender, const char *msg,
			        size_t len, STRBUF *why)
{
    STRBUF  v = STRBUF_INIT;
    unsigned char key[8];
    MDB_txn *txn;
    uint64_t seq;
    int     rc;

    if (store_begin(sdb->st, 0, &txn, why) < 0)
	return (-1);
    pack_u64(&v, (uint64_t) time(NULL));
    pack_str(&v, qid);
    pack_str(&v, sender);
    pack_u64(&v, len);
    sb_putn(&v, msg, len);
    rc = next_seq(sdb, txn, 1, &seq, why);
    seq_key(key, seq);
    if (rc == 0)
	rc = store_put(sdb->st, txn, sdb->dbi[SDB_REQUESTS], "requests", key, 8, v.s, v.len, 0,
		       why) ? -1 : 0;
    sb_free(&v);
    return (write_end(sdb, txn, rc, why));
}

/*
 * statedb_request_next - the oldest request: 0, 1 when there is none, 2
 * when it is damaged (out->seq says which), -1
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
	return (1);
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
	return (2);
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

long    statedb_events_prune(STATEDB *sdb, uint64_t before, STRBUF *why)
{
    GHashTable *ids = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
    STRBUF  from = STRBUF_INIT;
    MDB_txn *txn;
    MDB_cursor *c;
    MDB_val k, v;
    UNPACK  u;
    long    n = 0, batch;
    int     rc = 0;

    do {
	batch = 0;
	if (store_begin(sdb->st, 0, &txn, why) < 0) {
	    n = -1;
	    break;
	}
	g_hash_table_remove_all(ids);
	if ((rc = referenced(sdb, txn, ids, why)) == 0
	    && (rc = mdb_cursor_open(txn, sdb->dbi[SDB_EVENTS], &c)) == 0) {
	    k.mv_data = from.s, k.mv_size = from.len;
	    for (rc = mdb_cursor_get(c, &k, &v, from.len ? MDB_SET_RANGE : MDB_FIRST);
		 rc == 0 && batch < EVENTS_PRUNE_BATCH; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		char   *id = xstrndup(k.mv_data, k.mv_size);

		unpack_init(&u, v.mv_data, v.mv_size);
		if (unpack_u64(&u) < before && !u.bad && !g_hash_table_contains(ids, id)
		    && (rc = mdb_cursor_del(c, 0)) == 0)
		    batch++;
		sb_reset(&from);
		sb_putn(&from, k.mv_data, k.mv_size);
		free(id);
		if (rc != 0)
		    break;
	    }
	    mdb_cursor_close(c);
	    rc = rc == MDB_NOTFOUND || rc == 0 ? 0 : store_fail(sdb->st, rc, "events", why);
	} else if (rc > 0)
	    rc = store_fail(sdb->st, rc, "events", why);
	if (write_end(sdb, txn, rc, why) < 0) {
	    n = -1;
	    break;
	}
	n += batch;
    } while (batch == EVENTS_PRUNE_BATCH);
    g_hash_table_destroy(ids);
    sb_free(&from);
    return (n);
}

/*
 * statedb_tokens_prune - forget tokens used before a time (they have
 * expired since); the number forgotten, or -1
 */
long    statedb_tokens_prune(STATEDB *sdb, uint64_t before, STRBUF *why)
{
    MDB_txn *txn;
    MDB_cursor *c;
    MDB_val k, v;
    long    n = 0;
    int     rc;

    if (store_begin(sdb->st, 0, &txn, why) < 0)
	return (-1);
    if ((rc = mdb_cursor_open(txn, sdb->dbi[SDB_TOKENS], &c)) != 0)
	return (write_end(sdb, txn, store_fail(sdb->st, rc, "tokens", why), why));
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	 rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
	if (v.mv_size == 8 && seq_of(v.mv_data) < before) {
	    if ((rc = mdb_cursor_del(c, 0)) != 0)
		break;
	    n++;
	}
    mdb_cursor_close(c);
    rc = rc == MDB_NOTFOUND ? 0 : store_fail(sdb->st, rc, "tokens", why);
    return (write_end(sdb, txn, rc, why) < 0 ? -1 : n);
}

/* statedb_token_used - the token (its signature) was used before: 1, 0, or -1 */
int     statedb_token_used(STATEDB *sdb, MDB_txn *txn, const char *mac, STRBUF *why)
{
    MDB_val v;
    int     rc = store_get(sdb->st, txn, sdb->dbi[SDB_TOKENS], "tokens", mac, strlen(mac), &v,
			   why);

    return (rc < 0 ? -1 : rc == 0);
}

/*
 * statedb_request_done - a request answered, in one transaction: gone from
 * the requests, its reply (if any) in the outbox, its token (if any) used
 */
int     statedb_request_done(STATEDB *sdb, uint64_t seq, const SDB_OUT *reply,
			             const char *mac, uint64_t now, STRBUF *why)
{
    unsigned char key[8], when[8];
    MDB_txn *txn;
    MDB_val k = {8, key};
    uint64_t out;
    int     rc;

    if (store_begin(sdb->st, 0, &txn, why) < 0)
	return (-1);
    seq_key(key, seq);
    if ((rc = mdb_del(txn, sdb->dbi[SDB_REQUESTS], &k, NULL)) != 0 && rc != MDB_NOTFOUND)
	rc = store_fail(sdb->st, rc, "requests", why);
    else
	rc = 0;
    if (rc == 0 && reply && (rc = next_seq(sdb, txn, 1, &out, why)) == 0)
	rc = put_out(sdb, txn, out, reply, why);
    seq_key(when, now);
    if (rc == 0 && mac)
	rc = store_put(sdb->st, txn, sdb->dbi[SDB_TOKENS], "tokens", mac, strlen(mac), when, 8,
		       0, why) ? -1 : 0;
    return (write_end(sdb, txn, rc, why));
}

static int decode_out(const MDB_val *k, const MDB_val *v, SDB_OUT *o)
{
    UNPACK  u;
    uint64_t len;

    memset(o, 0, sizeof(*o));
    if (k->mv_size != 8)
	return (-1);
    o->seq = seq_of(k->mv_data);
    unpack_init(&u, v->mv_data, v->mv_size);
    o->recipient = unpack_str(&u);
    o->message_id = unpack_str(&u);
    o->attempts = (unsigned) unpack_u64(&u);
    o->next_try = unpack_u64(&u);
    len = unpack_u64(&u);
    if (u.bad || len != (uint64_t) (u.end - u.p))
	return (-1);
    o->msg = (const char *) u.p;
    o->msglen = (size_t) len;
    return (0);
}

/* statedb_outbox_next - the first entry at or after seq from: 0, 1 none, -1 */
int     statedb_outbox_next(STATEDB *sdb, MDB_txn *txn, uint64_t from, SDB_OUT *out,
			            STRBUF *why)
{
    unsigned char key[8];
    MDB_cursor *c;
    MDB_val k, v;
    int     rc;

    seq_key(key, from);
    if ((rc = mdb_cursor_open(txn, sdb->dbi[SDB_OUTBOX], &c)) != 0)
	return (store_fail(sdb->st, rc, "outbox", why));
    k.mv_data = key;
    k.mv_size = 8;
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    mdb_cursor_close(c);
    if (rc == MDB_NOTFOUND)
	return (1);
    if (rc != 0)
	return (store_fail(sdb->st, rc, "outbox", why));
    if (decode_out(&k, &v, out) < 0) {
	sb_printf(why, "%s: damaged outbox entry", store_path(sdb->st));
	return (-1);
    }
    return (0);
}

/* outbox_remove - entries out of the outbox, in one transaction; to_dead keeps copies */
static int outbox_remove(STATEDB *sdb, const uint64_t *seqs, size_t n, int to_dead,
			         STRBUF *why)
{
    unsigned char key[8];
    MDB_txn *txn;
    MDB_val k, v;
    size_t  i;
    int     rc = 0;

    if (store_begin(sdb->st, 0, &txn, why) < 0)
	return (-1);
    for (i = 0; i < n && (rc == 0 || rc == MDB_NOTFOUND); i++) {
	seq_key(key, seqs[i]);
	k.mv_data = key;
	k.mv_size = 8;
	rc = 0;
	if (to_dead && (rc = mdb_get(txn, sdb->dbi[SDB_OUTBOX], &k, &v)) == 0)
	    rc = mdb_put(txn, sdb->dbi[SDB_DEAD], &k, &v, 0);
	if (rc == 0)
	    rc = mdb_del(txn, sdb->dbi[SDB_OUTBOX], &k, NULL);
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
	store_fail(sdb->st, rc, to_dead ? "dead" : "outbox", why);
    return (write_end(sdb, txn, rc == MDB_NOTFOUND ? 0 : rc, why));
}

/*
 * statedb_outbox_done - Postfix took them: forget them, several in one
 * commit (one fsync), since a crash before it only resends, with the same
 * Message-IDs.
 */
int     statedb_outbox_done(STATEDB *sdb, const uint64_t *seqs, size_t n, STRBUF *why)
{
    return (n ? outbox_remove(sdb, seqs, n, 0, why) : 0);
}

/* statedb_outbox_dead - Postfix refused it for good: keep it aside, visible */
int     statedb_outbox_dead(STATEDB *sdb, uint64_t seq, STRBUF *why)
{
    return (outbox_remove(sdb, &seq, 1, 1, why));
}

/* statedb_outbox_defer - note an attempt and when to try again */
int     statedb_outbox_defer(STATEDB *sdb, const SDB_OUT *o, STRBUF *why)
{
    MDB_txn *txn;
    int     rc;

    if (store_begin(sdb->st, 0, &txn, why) < 0)
	return (-1);
    rc = put_out(sdb, txn, o->seq, o, why);
    return (write_end(sdb, txn, rc, why));
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
    mdb_txn_abort(txn);
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
    MDB_val old, kv;
    SDB_GROUP g;
    int     rc = 0;

    kv.mv_data = gk->s;
    kv.mv_size = gk->len;
    if (mdb_get(txn, sdb->dbi[SDB_DGROUPS], &kv, &old) == 0 && decode_group(&old, &g) == 0) {
	due_key(&dk, g.due, gk);
	kv.mv_data = dk.s;
	kv.mv_size = dk.len;
	(void) mdb_del(txn, sdb->dbi[SDB_DUE], &kv, NULL);
    }
    if (due == 0) {
	kv.mv_data = gk->s;
	kv.mv_size = gk->len;
	rc = mdb_del(txn, sdb->dbi[SDB_DGROUPS], &kv, NULL);
	rc = rc == MDB_NOTFOUND ? 0 : rc;
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
    return (rc ? -1 : 0);
}

/* statedb_reschedule - new due times of digests (rules or zones changed), in one transaction */
int     statedb_reschedule(STATEDB *sdb, const SDB_GROUP *v, size_t n, STRBUF *why)
{
    STRBUF  gk = STRBUF_INIT;
    MDB_txn *txn;
    size_t  i;
    int     rc = 0;

    if (store_begin(sdb->st, 0, &txn, why) < 0)
	return (-1);
    for (i = 0; rc == 0 && i < n; i++) {
	group_key(&gk, v[i].recipient, v[i].frequency);
	rc = set_due(sdb, txn, &gk, v[i].recipient, v[i].frequency, v[i].due, why);
    }
    sb_free(&gk);
    return (write_end(sdb, txn, rc, why));
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
    MDB_val kv;
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
	kv.mv_data = k.s;
	kv.mv_size = k.len;
	if ((rc = mdb_del(txn, sdb->dbi[SDB_DIGESTS], &kv, NULL)) != 0)
	    store_fail(sdb->st, rc, "digests", why);
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
int     statedb_digest_moves(STATEDB *sdb, const SDB_MOVE *moves, size_t n, STRBUF *why)
{
    MDB_txn *txn;
    size_t  i;
    int     rc = 0;

    if (n == 0)
	return (0);
    if (store_begin(sdb->st, 0, &txn, why) < 0)
	return (-1);
    for (i = 0; rc == 0 && i < n; i++)
	rc = move_one(sdb, txn, &moves[i], why);
    return (write_end(sdb, txn, rc, why));
}
