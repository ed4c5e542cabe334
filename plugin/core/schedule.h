/*
 * schedule.h - scheduling: iCalendar recurrences (RRULE) in IANA time zones.
 *
 * Zones come from the system's zoneinfo through libical. sched_init() must
 * run before any thread starts (libical's zone loading is not thread-safe).
 * For now this module validates what rules.d names; the digest scheduler
 * builds on it.
 */
#ifndef CRIER_SCHEDULE_H
#define CRIER_SCHEDULE_H

#include "strbuf.h"

void    sched_init(void);
int     sched_zone_valid(const char *tzid);
int     sched_rrule_check(const char *rrule, STRBUF *why);

#endif
