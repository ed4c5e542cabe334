/*
 * statedb.h - what crierd keeps: events, the outbox, digest items, requests.
 *
 * STATE_DIR/state.lmdb, written by crierd only. An accepted event and
 * everything it causes are committed in one transaction before Postfix
 * hears 250, so a crash loses nothing that was accepted; an Event-Id seen
 * before causes nothing new.
 *
 * Databases:
 *   meta      "seq" -> the next sequence number
 *   events    Event-Id -> received time, queue id, the event's fields (kept
 *             event_retention days, and while a digest item needs it)
 *   outbox    seq (8 bytes, big-endian) -> a rendered notification, ready
 *             for Postfix, with its attempts and next try
 *   digests   lower-cased recipient NUL frequency NUL seq -> an item for
 *             that recipient's next digest
 *   dgroups   lower-cased recipient NUL frequency -> when its digest is due
 *   due       due time (8 bytes, big-endian) lower-cased recipient NUL
 *             frequency -> nothing: the digests in the order they fall due
 *   requests  seq -> a mail to the request address, kept for self-service
 *   tokens    a used self-service token's signature -> when it was used
 *   dead      seq -> an outbox entry Postfix refused for good, or deferred
 *             for longer than outbox_max_age, or for a suppressed address,
 *             with Postfix's last reply and when it died; or a sent
 *             notification that bounced, with only its headers and the
 *             DSN's status and diagnostic (kept event_retention days)
 *   sent      seq -> a notification Postfix took: its recipient, Message-ID,
 *             X-Crier headers, Postfix's reply and when (kept
 *             event_retention days), so that a bounce finds it
 *   bounces   lower-cased address -> hard bounces in a row, the last one's
 *             time and DSN, and whether crier stopped mailing it
 *
 * The outbox and dead entries carry when they were queued (an outbox
 * entry older than outbox_max_age goes dead at its next deferral) and
 * Postfix's last reply; entries of older versions have neither.
 *
 * Transactions begun here end with statedb_end() (see store.h).
 */
#ifndef CRIER_STATEDB_H
#define CRIER_STATEDB_H

#include <lmdb.h>
#include <stdint.h>

#include "store.h"
#include "strbuf.h"

#define STATEDB_FILE	"state.lmdb"

/* What the functions return besides 0 (SDB_OK) and -1 (an error, in why). */
#define SDB_OK		STORE_OK
#define SDB_NONE	STORE_NOTFOUND	/* no such entry, or nothing left */
#define SDB_DAMAGED	2		/* an entry that does not decode */
#define SDB_BOUNCED	3		/* a bounced dead entry: only headers kept */
#define SDB_NEW		0		/* statedb_known: never accepted */
#define SDB_KNOWN	1		/* ... accepted before */

typedef struct statedb STATEDB;

typedef struct sdb_out {
    uint64_t seq;			/* reading */
    const char *recipient;
    const char *message_id;
    const char *msg;			/* the whole message, CRLF */
    size_t  msglen;
    unsigned attempts;
    uint64_t next_try;			/* time_t; 0: at once */
    uint64_t queued;			/* time_t it was queued; writing: 0 now */
    const char *reply;			/* Postfix's last reply ("" none; NULL) */
    uint64_t died;			/* dead: time_t it went there; sent: sent */
    unsigned flags;			/* SDB_OUT_HEADERS */
} SDB_OUT;

#define SDB_OUT_HEADERS	1		/* msg is the headers only (sent, bounced) */

/* What a bounce says of one sent notification (statedb_bounce). */
typedef struct sdb_bounce {
    uint64_t seq;
    int     kind;			/* SDB_BOUNCE_* */
    const char *reply;			/* for the dead table: status, diagnostic */
    uint64_t now;
    uint64_t window;			/* seconds; a bounce after more starts anew */
    unsigned limit;			/* bounce_limit; 0: never suppress */
    /* Set by statedb_bounce: */
    unsigned count;			/* hard bounces in a row, now */
    int     suppressed;			/* 1: crier no longer mails the address */
    int     newly;			/* 1: suppressed by this bounce */
} SDB_BOUNCE;

#define SDB_BOUNCE_HARD	1		/* failed, 5.x.x: dead, and counted */
#define SDB_BOUNCE_SOFT	2		/* failed otherwise: dead, not counted */
#define SDB_BOUNCE_OK	3		/* delivered: the count starts anew */

/* An address that bounced (the bounces table). */
typedef struct sdb_addr {
    const char *address;
    unsigned count;
    uint64_t last;			/* time_t of the last hard bounce */
    int     suppressed;
    const char *reply;			/* the last bounce's status and diagnostic */
} SDB_ADDR;

typedef int (*SDB_ADDR_FN) (const SDB_ADDR *a, void *ctx);

typedef struct sdb_item {
    uint64_t seq;			/* reading */
    const char *recipient;
    const char *frequency;
    const char *event_id;
    uint64_t arrived;			/* time_t */
    uint64_t due;			/* writing: when a new digest would be due */
    size_t  nnotifs;
    char  *const *notifs;		/* writing */
    UNPACK  notifbuf;			/* reading: nnotifs strings */
} SDB_ITEM;

/* A digest: one recipient and frequency, its due time and item count. */
typedef struct sdb_group {
    const char *recipient;
    const char *frequency;
    uint64_t due;
} SDB_GROUP;

/* A mail to the request address, as the milter kept it. */
typedef struct sdb_req {
    uint64_t seq;
    uint64_t received;			/* time_t */
    const char *qid;
    const char *sender;			/* envelope; "" for a bounce */
    const char *msg;
    size_t  msglen;
} SDB_REQ;

typedef int (*SDB_GROUP_FN) (const SDB_GROUP *g, void *ctx);
typedef int (*SDB_ITEM_FN) (const SDB_ITEM *it, void *ctx);

int     statedb_open(const char *state_dir, STATEDB **out, STRBUF *why);
int     statedb_open_ro(const char *state_dir, STATEDB **out, STRBUF *why);
void    statedb_close(STATEDB *sdb);
int     statedb_read(STATEDB *sdb, MDB_txn **txn, STRBUF *why);
void    statedb_end(STATEDB *sdb, MDB_txn *txn);

int     statedb_accept(STATEDB *sdb, const char *event_id, const STRBUF *event_rec,
		               const SDB_OUT *out, size_t nout, const SDB_ITEM *items,
		               size_t nitems, int *dup, STRBUF *why);
int     statedb_known(STATEDB *sdb, const char *event_id, STRBUF *why);
int     statedb_request(STATEDB *sdb, const char *qid, const char *sender, const char *msg,
			        size_t len, STRBUF *why);
int     statedb_request_next(STATEDB *sdb, MDB_txn *txn, SDB_REQ *out, STRBUF *why);
int     statedb_token_used(STATEDB *sdb, MDB_txn *txn, const char *mac, STRBUF *why);
int     statedb_request_done(STATEDB *sdb, uint64_t seq, const SDB_OUT *reply,
			             const char *mac, uint64_t now, STRBUF *why);
long    statedb_tokens_prune(STATEDB *sdb, uint64_t before, STRBUF *why);
long    statedb_events_prune(STATEDB *sdb, uint64_t before, STRBUF *why);

int     statedb_outbox_put(STATEDB *sdb, const SDB_OUT *out, uint64_t *seq, STRBUF *why);
int     statedb_outbox_next(STATEDB *sdb, MDB_txn *txn, uint64_t from, SDB_OUT *out,
			            STRBUF *why);
int     statedb_outbox_done(STATEDB *sdb, const SDB_OUT *sent, size_t n, STRBUF *why);
int     statedb_outbox_defer(STATEDB *sdb, const SDB_OUT *o, STRBUF *why);
int     statedb_outbox_dead(STATEDB *sdb, uint64_t seq, const char *reply, uint64_t now,
			            STRBUF *why);
int     statedb_dead_next(STATEDB *sdb, MDB_txn *txn, uint64_t from, SDB_OUT *out,
			          STRBUF *why);
int     statedb_dead_resend(STATEDB *sdb, uint64_t seq, uint64_t now, size_t *n, STRBUF *why);
int     statedb_dead_drop(STATEDB *sdb, uint64_t seq, size_t *n, STRBUF *why);
long    statedb_dead_prune(STATEDB *sdb, uint64_t before, uint64_t now, STRBUF *why);
int     statedb_sent_get(STATEDB *sdb, MDB_txn *txn, uint64_t seq, SDB_OUT *out, STRBUF *why);
int     statedb_bounce(STATEDB *sdb, SDB_BOUNCE *b, STRBUF *why);
int     statedb_suppressed(STATEDB *sdb, MDB_txn *txn, const char *address, unsigned *count);
int     statedb_bounces_each(STATEDB *sdb, MDB_txn *txn, SDB_ADDR_FN fn, void *ctx,
			             STRBUF *why);
int     statedb_unsuppress(STATEDB *sdb, const char *address, size_t *n, STRBUF *why);
int     statedb_count(STATEDB *sdb, const char *table, size_t *n, STRBUF *why);

typedef int (*SDB_EVENT_FN) (const char *id, size_t idlen, const void *rec, size_t len,
			             void *ctx);
int     statedb_events_each(STATEDB *sdb, MDB_txn *txn, SDB_EVENT_FN fn, void *ctx,
			            STRBUF *why);
int     statedb_get_event(STATEDB *sdb, MDB_txn *txn, const char *event_id, const void **rec,
			          size_t *len, STRBUF *why);
int     statedb_groups_each(STATEDB *sdb, MDB_txn *txn, int by_due, SDB_GROUP_FN fn,
			            void *ctx, STRBUF *why);
int     statedb_items_each(STATEDB *sdb, MDB_txn *txn, const char *recipient,
			           const char *frequency, SDB_ITEM_FN fn, void *ctx, STRBUF *why);
int     statedb_groups_after(STATEDB *sdb, MDB_txn *txn, const char *recipient,
			             const char *frequency, SDB_GROUP_FN fn, void *ctx, STRBUF *why);
int     statedb_reschedule(STATEDB *sdb, const SDB_GROUP *v, size_t n, STRBUF *why);
/* One digest leaving the schedule: its message (NULL: dropped) and items. */
typedef struct sdb_move {
    const char *recipient;
    const char *frequency;
    const uint64_t *seqs;
    size_t  n;
    const SDB_OUT *out;
} SDB_MOVE;

int     statedb_digest_moves(STATEDB *sdb, const SDB_MOVE *moves, size_t n, STRBUF *why);

#endif
