/*
 * schedule.c - iCalendar recurrences in IANA time zones (see schedule.h).
 */
#include "config.h"

#include <glib.h>
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

/* sched_zone - GLib's zone for an IANA name (GLib caches them), or NULL */
static GTimeZone *sched_zone(const char *tzid)
{
    if (strchr(tzid, '.') != NULL || tzid[0] == '/' || tzid[0] == 0)
	return (NULL);
    return (g_time_zone_new_identifier(tzid));
}

/* sched_zone_valid - true when tzid names a zone the system knows */
int     sched_zone_valid(const char *tzid)
{
    GTimeZone *tz = sched_zone(tzid);

    if (tz)
	g_time_zone_unref(tz);
    return (tz != NULL);
}

/* zone_offset - seconds east of UTC at instant t */
static long zone_offset(GTimeZone *tz, time_t t)
{
    return (g_time_zone_get_offset(tz, g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL,
								  (gint64) t)));
}

/* sched_offset - seconds east of UTC at instant t in tzid (0 for an unknown zone) */
long    sched_offset(const char *tzid, time_t t)
{
    GTimeZone *tz = sched_zone(tzid);
    long    off = tz ? zone_offset(tz, t) : 0;

    if (tz)
	g_time_zone_unref(tz);
    return (off);
}

/*
 * local_to_utc - the instant of a local wall-clock time (given as seconds
 * as if it were UTC). The offsets in force half a day before and after
 * bracket any change; a time valid under both is the first instant, one
 * valid under neither falls in a gap and takes the offset from before it.
 */
static time_t local_to_utc(GTimeZone *tz, time_t local)
{
    long    before = zone_offset(tz, local - 43200), after = zone_offset(tz, local + 43200);
    time_t  ua = local - before, ub = local - after;
    int     va = ua + zone_offset(tz, ua) == local, vb = ub + zone_offset(tz, ub) == local;

    if (va && vb)
	return (ua < ub ? ua : ub);
    if (vb)
	return (ub);
    return (ua);			/* valid, or in the gap: the offset before */
}

time_t  sched_local_to_utc(const char *tzid, time_t local)
{
    GTimeZone *tz = sched_zone(tzid);
    time_t  t = tz ? local_to_utc(tz, local) : local;

    if (tz)
	g_time_zone_unref(tz);
    return (t);
}

#define SCHED_ANCHOR	946857600	/* 2000-01-03T00:00:00, a Monday, floating */
#define SCHED_MAX_STEPS	100000

/*
 * sched_next - the first occurrence of rrule in tzid strictly after the
 * instant after. The rule is anchored on a fixed Monday midnight, so an
 * INTERVAL keeps its phase whenever this is asked; expansion starts two
 * days before the local time of after, which covers any gap shift.
 */
int     sched_next(const char *rrule, const char *tzid, time_t after, time_t *next, STRBUF *why)
{
    GTimeZone *tz = sched_zone(tzid);
    struct icalrecurrencetype rt = icalrecurrencetype_from_string(rrule);
    icalrecur_iterator *it;
    struct icaltimetype occ;
    int     steps, rc = -1;

    if (tz == NULL || rt.freq == ICAL_NO_RECURRENCE) {
	sb_printf(why, tz ? "invalid RRULE \"%s\"" : "unknown time zone \"%s\"",
		  tz ? rrule : tzid);
	if (tz)
	    g_time_zone_unref(tz);
	return (-1);
    }
    it = icalrecur_iterator_new(rt, icaltime_from_timet_with_zone(SCHED_ANCHOR, 0, NULL));
    icalrecur_iterator_set_start(it, icaltime_from_timet_with_zone(
		      after + zone_offset(tz, after) - 2 * 86400, 0, NULL));
    for (steps = 0; it && steps < SCHED_MAX_STEPS; steps++) {
	occ = icalrecur_iterator_next(it);
	if (icaltime_is_null_time(occ))
	    break;
	if ((*next = local_to_utc(tz, icaltime_as_timet(occ))) > after) {
	    rc = 0;
	    break;
	}
    }
    if (rc < 0)
	sb_printf(why, "RRULE \"%s\" has no occurrence after this time", rrule);
    if (it)
	icalrecur_iterator_free(it);
    g_time_zone_unref(tz);
    return (rc);
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
