/*
 * schedule.h - when a digest is due: a rule of crier's RRULE subset
 * (rrule.h) expanded in a recipient's IANA time zone (tzfile.h).
 *
 * A rule is expanded in floating local time, and each local occurrence is
 * turned into an instant with the zone's own offsets. As RFC 5545 section
 * 3.3.5 says, a local time that occurs twice is the first of the two
 * instants, and one that does not occur (clocks set forward) is read with
 * the offset in force before the gap, so a daily 02:30 comes at 03:30 that
 * day and at 02:30 again the next.
 *
 * Zones and parsed rules are cached (zones for the process, rules per
 * thread), so sched_next() costs a few microseconds; every call does
 * bounded work and any rule, even one that never occurs, gets an answer
 * or an error, never a crash.
 */
#ifndef CRIER_SCHEDULE_H
#define CRIER_SCHEDULE_H

#include <time.h>

#include "strbuf.h"

int     sched_zone_valid(const char *tzid);
int     sched_rrule_check(const char *rrule, STRBUF *why);
int     sched_next(const char *rrule, const char *tzid, time_t after, time_t *next,
		           STRBUF *why);
long    sched_offset(const char *tzid, time_t t);
time_t  sched_local_to_utc(const char *tzid, time_t local);

#endif
