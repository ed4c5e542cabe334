/*
 * store.h - LMDB environments: open, transactions, named databases.
 *
 * One place knows LMDB's traps: the map size is set large and grown on
 * MDB_MAP_FULL (doubling, up to a maximum), stale reader slots left by
 * killed processes are cleared at open and on MDB_READERS_FULL, and every
 * failure becomes a message naming the file. Schemas live in their own
 * modules (rulesdb.c, statedb.c).
 *
 * LMDB allows mdb_env_set_mapsize() only while the process holds no
 * transaction. Every transaction begun here counts as active until
 * store_commit() or store_abort() (never mdb_txn_abort() directly); a
 * resize (growth, or adopting a map grown by another process) waits,
 * bounded, for the count to fall to zero while new transactions wait for
 * it. A thread that holds a transaction of the store cannot resize it: the
 * next transaction begun by a thread that holds none does.
 *
 * LMDB codes end here: the functions return the STORE_* codes below.
 * With CRIER_MAP_SIZE (and CRIER_MAP_MAX) in the environment, a test sets
 * the initial (and the largest) map size, in bytes or with k, m, g.
 */
#ifndef CRIER_STORE_H
#define CRIER_STORE_H

#include <lmdb.h>

#include "strbuf.h"

typedef struct store STORE;

#define STORE_OK	0
#define STORE_NOTFOUND	1		/* no such record, or nothing left */
#define STORE_ERROR	(-1)		/* described in why */
#define STORE_MAP_FULL	(-2)		/* the map is full (described): grow, retry */

#define STORE_RDONLY	(1<<0)		/* open an existing store, read only */

int     store_open(const char *path, int flags, STORE **out, STRBUF *why);
void    store_close(STORE *st);
const char *store_path(const STORE *st);
int     store_begin(STORE *st, int rdonly, MDB_txn **txn, STRBUF *why);
int     store_commit(STORE *st, MDB_txn *txn, STRBUF *why);
void    store_abort(STORE *st, MDB_txn *txn);
int     store_dbi(STORE *st, MDB_txn *txn, const char *name, unsigned flags,
		          MDB_dbi *dbi, STRBUF *why);
int     store_fail(STORE *st, int rc, const char *what, STRBUF *why);
int     store_grow(STORE *st, size_t seen, STRBUF *why);
size_t  store_mapsize(STORE *st);

/*
 * A write transaction's work: STORE_OK commits, a positive code aborts
 * and is returned, a negative one aborts as an error. store_write() runs
 * it again, in a fresh transaction, after growing a full map.
 */
typedef int (*STORE_WORK) (MDB_txn *txn, void *ctx, STRBUF *why);
int     store_write(STORE *st, STORE_WORK work, void *ctx, STRBUF *why);

/* A schema's tables: opened (and created when writable) in one go. */
typedef struct store_table {
    const char *name;
    unsigned flags;			/* MDB_INTEGERKEY, ... */
} STORE_TABLE;

int     store_tables(STORE *st, int writable, const STORE_TABLE *tables, int n,
			     MDB_dbi *dbi, STRBUF *why);
int     store_put(STORE *st, MDB_txn *txn, MDB_dbi dbi, const char *table, const void *key,
		          size_t klen, const void *val, size_t vlen, unsigned flags, STRBUF *why);
int     store_get(STORE *st, MDB_txn *txn, MDB_dbi dbi, const char *table, const void *key,
		          size_t klen, MDB_val *val, STRBUF *why);
int     store_del(STORE *st, MDB_txn *txn, MDB_dbi dbi, const char *table, const void *key,
		          size_t klen, STRBUF *why);
int     store_mkdir(const char *dir, STRBUF *why);

#endif
