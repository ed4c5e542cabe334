/*
 * digest.h - when a recipient's digest is due.
 *
 * A digest collects the items of one recipient and one frequency; it is due
 * at the first occurrence of the frequency's RRULE, in the recipient's time
 * zone (or default_timezone), after its oldest item arrived. Computed from
 * the rules in service, so a recompiled rules.d that changes a frequency or
 * a zone reschedules what is pending. A frequency that is gone (or lost its
 * RRULE) makes the digest due at once; a recipient who is gone too (the
 * digest runner then drops the items, and says so).
 */
#ifndef CRIER_DIGEST_H
#define CRIER_DIGEST_H

#include <lmdb.h>
#include <time.h>

#include "conf.h"
#include "rulesdb.h"
#include "statedb.h"
#include "strbuf.h"

#define DIGEST_OK	0
#define DIGEST_NO_USER	1		/* the recipient left rules.d */
#define DIGEST_NO_SCHEDULE 2		/* the rule gives no time: due at once, why says why */

int     digest_due(RULESDB *rdb, MDB_txn *txn, const char *default_tz, const char *recipient,
		           const char *frequency, time_t after, time_t *due, STRBUF *why);
const char *digest_zone(RULESDB *rdb, MDB_txn *txn, const char *default_tz,
			        const char *recipient);

/* What digest_replan() did. */
typedef struct digest_replan_stats {
    size_t  digests;			/* pending digests looked at */
    size_t  moved;			/* whose due time changed */
    size_t  at_once;			/* due at once: their rule gives no time */
    STRBUF  first_why;			/* why, for the first of those */
} DIGEST_REPLAN;

int     digest_replan(RULESDB *rdb, STATEDB *sdb, const char *default_tz, DIGEST_REPLAN *st,
		              STRBUF *why);

#endif
