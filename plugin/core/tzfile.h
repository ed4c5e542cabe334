/*
 * tzfile.h - IANA time zones read from the system's zone files (TZif,
 * RFC 8536), with the POSIX TZ rule of the file's footer for the years
 * after its last transition.
 *
 * Why not GLib or the C library: GLib 2.74 misreads footers with negative
 * daylight saving time (Europe/Dublin after 2037 comes out two hours
 * east), and localtime_r() can only read the zone named by the process's
 * TZ variable, which a threaded daemon cannot switch per call.
 *
 * Zones are loaded once and kept for the life of the process (there are a
 * few hundred at most); tz_get() is safe to call from any thread and the
 * zone it returns is never changed or freed.
 */
#ifndef CRIER_TZFILE_H
#define CRIER_TZFILE_H

#include <stdint.h>
#include <time.h>

#include "strbuf.h"

typedef struct tz_zone TZ_ZONE;

#define TZ_NEVER	INT64_MAX	/* no further change of offset */

/*
 * tz_get - the zone of an IANA name ("Europe/Paris") from $TZDIR or
 * /usr/share/zoneinfo, or NULL with why filled in: an invalid name, an
 * unknown zone, a file that is not a sound TZif file (or has leap seconds).
 */
const TZ_ZONE *tz_get(const char *name, STRBUF *why);

/* tz_offset - seconds east of UTC in force at instant t */
long    tz_offset(const TZ_ZONE *zone, time_t t);

/*
 * tz_next_change - the first instant after t where the UT offset changes
 * (a change of abbreviation or of DST alone is none), or TZ_NEVER.
 */
int64_t tz_next_change(const TZ_ZONE *zone, time_t t);

/*
 * tz_local_to_utc - the instant of a wall-clock time, given as seconds as
 * if it were UTC: of two (clocks set back), the earlier; of none (clocks
 * set forward), local less the offset before the change (RFC 5545 section
 * 3.3.5: 02:30 skipped in Paris is 03:30 CEST).
 */
time_t  tz_local_to_utc(const TZ_ZONE *zone, time_t local);

#endif
