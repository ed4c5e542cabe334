/*
 * schedule.c - iCalendar recurrences in IANA time zones (see schedule.h).
 */
#include "config.h"

#include <libical/ical.h>
#include <string.h>

#include "schedule.h"

/*
 * sched_init - use the system zoneinfo (/usr/share/zoneinfo). libical's
 * built-in zone data is incomplete on Debian (Europe/Paris is missing).
 */
void    sched_init(void)
{
    static int done;

    if (done++)
	return;
    icaltimezone_set_builtin_tzdata(0);
}

/* sched_zone_valid - true when tzid names a zone the system knows */
int     sched_zone_valid(const char *tzid)
{
    sched_init();
    if (strcmp(tzid, "UTC") == 0)
	return (1);
    if (strchr(tzid, '.') != NULL || tzid[0] == '/')
	return (0);
    return (icaltimezone_get_builtin_timezone(tzid) != NULL);
}

/*
 * sched_rrule_check - a digest frequency must parse, recur forever (no COUNT
 * or UNTIL: a digest that stops would strand what it collects) and not be
 * finer than a minute.
 */
int     sched_rrule_check(const char *rrule, STRBUF *why)
{
    struct icalrecurrencetype rt;

    icalerror_clear_errno();
    rt = icalrecurrencetype_from_string(rrule);
    if (rt.freq == ICAL_NO_RECURRENCE || icalerrno != ICAL_NO_ERROR) {
	sb_printf(why, "invalid RRULE \"%s\" (RFC 5545 section 3.3.10, e.g. "
		  "\"FREQ=DAILY;BYHOUR=9;BYMINUTE=0\")", rrule);
	icalerror_clear_errno();
	return (-1);
    }
    if (rt.count != 0 || !icaltime_is_null_time(rt.until)) {
	sb_printf(why, "RRULE \"%s\" ends (COUNT or UNTIL): a digest frequency must recur forever",
		  rrule);
	return (-1);
    }
    if (rt.freq == ICAL_SECONDLY_RECURRENCE) {
	sb_printf(why, "RRULE \"%s\": FREQ=SECONDLY is too fine for a digest", rrule);
	return (-1);
    }
    return (0);
}
