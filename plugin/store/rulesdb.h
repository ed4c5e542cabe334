/*
 * rulesdb.h - the compiled rules in LMDB: schema, writing, reading.
 *
 * The compiled rules live in their own LMDB file (STATE_DIR/rules.lmdb), so
 * that compiling a million rules never holds the write lock of the store
 * where events are kept. A compile replaces everything in one write
 * transaction: readers see the whole old set or the whole new set.
 *
 * Databases:
 *   meta     "meta" -> generation, compile time, counts
 *   freqs    frequency name -> title, rrule ("" for immediately), position
 *   catalog  event type name -> title, frequencies, filters and values
 *   users    lower-cased address -> profile, zone, partners, its views
 *   views    uint32 id -> one notification in one user's view
 *   index    event type NUL lower-cased partner ("*": all) NUL id (4 bytes,
 *            big-endian) -> the same view record
 *
 * A "view" is one (user, notification) pair, defaults expanded per user.
 * The index holds a copy of each view under its event type and each partner
 * of its user, so the candidates for an event are one contiguous key range:
 * matching reads a few adjacent pages, and its cost follows the number of
 * candidates, not the size of rules.d. The views table serves list and
 * search, which go by user.
 *
 * Transactions begun here end with rulesdb_commit() or rulesdb_end(), never
 * mdb_txn_abort() (see store.h). The functions return RDB_OK, RDB_NONE
 * (absent), or a negative STORE_* code with a message in why: writes may
 * return STORE_MAP_FULL, for the caller to abort, rulesdb_grow() and
 * write again.
 */
#ifndef CRIER_RULESDB_H
#define CRIER_RULESDB_H

#include <lmdb.h>
#include <stdint.h>

#include "pack.h"
#include "store.h"
#include "strbuf.h"

#define RULESDB_FILE	"rules.lmdb"

#define RDB_OK		STORE_OK
#define RDB_NONE	STORE_NOTFOUND	/* no such record; nothing compiled yet */

#define RDB_ACTIVE	0		/* muted states of a view */
#define RDB_MUTED_DEF	1		/* muted = true in its definition */
#define RDB_MUTED_USER	2		/* in the user's muted list */

typedef struct rdb_cond {
    const char *filter;
    char  *const *values;
    size_t  nvalues;
} RDB_COND;

typedef struct rdb_view {
    uint32_t id;
    const char *user;			/* address as written */
    const char *profile;
    const char *notif;			/* PROFILE/NAME or NAME */
    int     kind;			/* 'd' default, 'c' custom */
    const char *event;
    const char *frequency;
    int     muted;			/* RDB_ACTIVE, RDB_MUTED_* */
    const char *file;
    unsigned line;
    size_t  nconds;
    const RDB_COND *conds;		/* writing */
    UNPACK  condbuf;			/* reading: see rulesdb_cond_next() */
} RDB_VIEW;

typedef struct rdb_user {
    const char *address;
    const char *profile;
    const char *timezone;		/* "" when unset */
    const char *file;
    unsigned line;
    uint32_t first;			/* views first .. first + count - 1 */
    uint32_t count;
    size_t  npartners;
    char  *const *partners;		/* writing */
    UNPACK  partbuf;			/* reading: npartners strings */
} RDB_USER;

typedef struct rdb_evtype {
    const char *name;
    const char *title;
    size_t  nfreqs;
    char  *const *freqs;		/* writing */
    size_t  nfilters;
    const RDB_COND *filters;		/* writing: name and allowed values */
    UNPACK  rest;			/* reading: freqs, then filters */
} RDB_EVTYPE;

typedef struct rdb_meta {
    uint64_t generation;
    uint64_t compiled;			/* time_t */
    uint64_t notifs;			/* definitions in rules.d */
    uint64_t views;
    uint64_t users;
    uint64_t evtypes;
    const char *rules_dir;
    const char *digest;			/* of the rules.d it came from; "" after
					 * a change in place */
    const char *catalog;		/* of its files outside users/ */
} RDB_META;

typedef struct rulesdb RULESDB;

int     rulesdb_open(const char *state_dir, int writable, RULESDB **out, STRBUF *why);
void    rulesdb_close(RULESDB *rdb);
int     rulesdb_read(RULESDB *rdb, MDB_txn **txn, STRBUF *why);
void    rulesdb_end(RULESDB *rdb, MDB_txn *txn);

int     rulesdb_write_begin(RULESDB *rdb, MDB_txn **txn, uint64_t *generation,
			            STRBUF *why);
int     rulesdb_put_freq(RULESDB *, MDB_txn *, const char *name, const char *title,
			         const char *rrule, unsigned pos, STRBUF *why);
int     rulesdb_put_evtype(RULESDB *, MDB_txn *, const RDB_EVTYPE *, STRBUF *why);
int     rulesdb_put_user(RULESDB *, MDB_txn *, const RDB_USER *, STRBUF *why);
void    rulesdb_pack_view(STRBUF *out, const RDB_VIEW *view);
int     rulesdb_put_view(RULESDB *, MDB_txn *, uint32_t id, const STRBUF *packed,
			         STRBUF *why);
int     rulesdb_put_index(RULESDB *, MDB_txn *, const char *key, size_t keylen,
			          const char *packed, size_t packedlen, STRBUF *why);
int     rulesdb_put_meta(RULESDB *, MDB_txn *, const RDB_META *, STRBUF *why);
int     rulesdb_commit(RULESDB *, MDB_txn *, STRBUF *why);
int     rulesdb_update_begin(RULESDB *, MDB_txn **txn, RDB_META *meta, STRBUF *why);
int     rulesdb_del_user(RULESDB *, MDB_txn *, const char *address, uint32_t *views,
			         STRBUF *why);
int     rulesdb_next_view(RULESDB *, MDB_txn *, uint32_t *id, STRBUF *why);
int     rulesdb_grow(RULESDB *, STRBUF *why);

void    rulesdb_index_key(STRBUF *key, const char *event, const char *partner,
			          uint32_t id);

int     rulesdb_get_meta(RULESDB *, MDB_txn *, RDB_META *, STRBUF *why);
int     rulesdb_get_freq(RULESDB *, MDB_txn *, const char *name, const char **title,
			         const char **rrule, unsigned *pos, STRBUF *why);
int     rulesdb_get_evtype(RULESDB *, MDB_txn *, const char *name, RDB_EVTYPE *, STRBUF *why);
int     rulesdb_get_user(RULESDB *, MDB_txn *, const char *address, RDB_USER *, STRBUF *why);
int     rulesdb_get_view(RULESDB *, MDB_txn *, uint32_t id, RDB_VIEW *, STRBUF *why);
int     rulesdb_view_read(const STRBUF *packed, RDB_VIEW *view);
int     rulesdb_cond_next(UNPACK *u, const char **filter, size_t *nvalues);
void    rulesdb_view_where(const RDB_VIEW *v, STRBUF *out);

typedef int (*RDB_VIEW_FN) (const RDB_VIEW *view, void *ctx);
typedef int (*RDB_EVTYPE_FN) (const RDB_EVTYPE *et, void *ctx);

int     rulesdb_index_each(RULESDB *, MDB_txn *, const char *event, const char *partner,
			           RDB_VIEW_FN fn, void *ctx, STRBUF *why);
int     rulesdb_views_each(RULESDB *, MDB_txn *, RDB_VIEW_FN fn, void *ctx, STRBUF *why);
int     rulesdb_evtypes_each(RULESDB *, MDB_txn *, RDB_EVTYPE_FN fn, void *ctx, STRBUF *why);

#endif
