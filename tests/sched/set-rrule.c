/*
 * set-rrule.c - plant a frequency's RRULE in a compiled rules.lmdb,
 * bypassing crierctl check: what a rules.lmdb written by an older crier,
 * or by hand, may hold. Tests use it to show that crierd survives rules
 * that check refuses.
 *
 * Usage: set-rrule STATE_DIR FREQUENCY RRULE
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rulesdb.h"

int     main(int argc, char **argv)
{
    STRBUF  why = STRBUF_INIT;
    RULESDB *rdb;
    MDB_txn *txn;
    RDB_META meta;
    const char *title, *rrule;
    char   *keep;
    unsigned pos;
    int     rc;

    if (argc != 4) {
	fprintf(stderr, "usage: set-rrule STATE_DIR FREQUENCY RRULE\n");
	return (2);
    }
    if (rulesdb_open(argv[1], 1, &rdb, &why) < 0 || rulesdb_update_begin(rdb, &txn, &meta, &why))
	goto fail;
    if ((rc = rulesdb_get_freq(rdb, txn, argv[2], &title, &rrule, &pos, &why)) != 0) {
	if (rc > 0)
	    sb_printf(&why, "no frequency %s", argv[2]);
	goto fail;
    }
    keep = strdup(title);			/* LMDB's copy moves at the first write */
    rc = rulesdb_put_freq(rdb, txn, argv[2], keep, argv[3], pos, &why);
    free(keep);
    if (rc != 0 || rulesdb_commit(rdb, txn, &why) < 0)
	goto fail;
    rulesdb_close(rdb);
    return (0);
fail:
    fprintf(stderr, "set-rrule: %s\n", why.s);
    return (1);
}
