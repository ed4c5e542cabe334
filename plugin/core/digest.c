/*
 * digest.c - when a recipient's digest is due (see digest.h).
 */
#include "config.h"

#include "digest.h"
#include "schedule.h"

/* digest_zone - the recipient's time zone, or the configured default */
const char *digest_zone(RULESDB *rdb, MDB_txn *txn, const CONF *cf, const char *recipient)
{
    STRBUF  why = STRBUF_INIT;
    RDB_USER u;
    const char *tz = cf->default_timezone;

    if (rulesdb_get_user(rdb, txn, recipient, &u, &why) == 0 && *u.timezone)
	tz = u.timezone;		/* valid: rules_check() saw to it */
    sb_free(&why);
    return (tz);
}

/*
 * digest_due - the due time of a digest whose oldest item arrived at
 * after. Returns DIGEST_OK, DIGEST_NO_USER (due at once), or -1 with why.
 */
int     digest_due(RULESDB *rdb, MDB_txn *txn, const CONF *cf, const char *recipient,
		           const char *frequency, time_t after, time_t *due, STRBUF *why)
{
    const char *title, *rrule = "";
    unsigned pos;
    RDB_USER u;
    int     rc;

    *due = after;
    if ((rc = rulesdb_get_user(rdb, txn, recipient, &u, why)) != 0)
	return (rc < 0 ? -1 : DIGEST_NO_USER);
    if ((rc = rulesdb_get_freq(rdb, txn, frequency, &title, &rrule, &pos, why)) < 0)
	return (-1);
    if (rc > 0 || *rrule == 0)
	return (DIGEST_OK);
    return (sched_next(rrule, *u.timezone ? u.timezone : cf->default_timezone, after, due, why)
	    < 0 ? -1 : DIGEST_OK);
}
