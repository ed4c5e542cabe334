/*
 * store.h - LMDB environments: open, transactions, named databases.
 *
 * One place knows LMDB's traps: the map size is set large
 * and grown on MDB_MAP_FULL, stale reader slots left by killed processes
 * are cleared at open and on MDB_READERS_FULL, and every failure becomes a
 * message naming the file. Schemas live in their own modules (rulesdb.c).
 */
#ifndef CRIER_STORE_H
#define CRIER_STORE_H

#include <lmdb.h>

#include "strbuf.h"

typedef struct store STORE;

#define STORE_RDONLY	(1<<0)		/* open an existing store, read only */

int     store_open(const char *path, int flags, STORE **out, STRBUF *why);
void    store_close(STORE *st);
const char *store_path(const STORE *st);
int     store_begin(STORE *st, int rdonly, MDB_txn **txn, STRBUF *why);
int     store_commit(STORE *st, MDB_txn *txn, STRBUF *why);
int     store_dbi(STORE *st, MDB_txn *txn, const char *name, unsigned flags,
		          MDB_dbi *dbi, STRBUF *why);
int     store_fail(STORE *st, int rc, const char *what, STRBUF *why);
int     store_grow(STORE *st, STRBUF *why);

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
int     store_mkdir(const char *dir, STRBUF *why);

#endif
