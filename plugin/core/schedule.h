/*
 * schedule.h - scheduling: iCalendar recurrences (RRULE) in IANA time zones.
 *
 * A rule is expanded by libical in floating local time, and each local
 * occurrence is turned into an instant by this module, from the zone's own
 * offsets (GLib's GTimeZone, the system zoneinfo): libical 3.0.16 gets
 * daylight-saving edges wrong (gap times after the gap, repeated times at
 * the second instant: reproduced on Debian 12). As RFC 5545 section 3.3.5
 * says, a local time that occurs twice is the first of the two instants,
 * and one that does not occur (spring forward) is read with the offset
 * before the gap, so 02:30 becomes 03:30 that day and is 02:30 again the
 * next. sched_init() must run before any thread starts.
 */
#ifndef CRIER_SCHEDULE_H
#define CRIER_SCHEDULE_H

#include <time.h>

#include "strbuf.h"

void    sched_init(void);
int     sched_zone_valid(const char *tzid);
int     sched_rrule_check(const char *rrule, STRBUF *why);
int     sched_next(const char *rrule, const char *tzid, time_t after, time_t *next,
		           STRBUF *why);
long    sched_offset(const char *tzid, time_t t);
time_t  sched_local_to_utc(const char *tzid, time_t local);

#endif
