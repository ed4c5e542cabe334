/*
 * schedule.c - digest schedules in IANA time zones (see schedule.h).
 *
 * Turning local occurrences into instants is monotone except across a gap
 * (clocks set forward): a local time inside the gap is read with the
 * offset before it and lands just after the change, later than the first
 * local times after the gap. So sched_next() takes the first occurrence
 * that falls after the asked instant, then also the first one after each
 * nearby gap, and answers the earliest of them.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "rrule.h"
#include "schedule.h"
#include "tzfile.h"

#define DAY		86400
#define NEAR		(2 * DAY)	/* any change that can matter is this close */
#define MAX_SCAN	4096		/* occurrences looked at before the first after */
#define RULE_CACHE	64		/* parsed rules kept per thread */

/* A thread's parsed rules, by the hash of their text. */
typedef struct cached_rule {
    char    text[RR_MAX_TEXT + 1];
    RRULE   rule;
    int     ok;
    int     proved;			/* sched_rrule_check passed it */
} CACHED_RULE;

static __thread CACHED_RULE rule_cache[RULE_CACHE];

/* rule_slot - where text's rule is, or would go, in this thread's cache */
static CACHED_RULE *rule_slot(const char *text)
{
    uint32_t h = 2166136261u;
    const unsigned char *s;

    for (s = (const unsigned char *) text; *s; s++)
	h = (h ^ *s) * 16777619u;
    return (&rule_cache[h % RULE_CACHE]);
}

/* rule_get - a parsed rule from this thread's cache, parsed on a miss */
static const RRULE *rule_get(const char *text, STRBUF *why)
{
    CACHED_RULE *c = rule_slot(text);

    if (c->ok && strcmp(c->text, text) == 0)
	return (&c->rule);
    c->proved = 0;
    if ((c->ok = rrule_parse(text, &c->rule, why) == 0) == 0)
	return (NULL);				/* failures are not cached */
    strcpy(c->text, text);			/* rrule_parse checked its length */
    return (&c->rule);
}

int     sched_zone_valid(const char *tzid)
{
    STRBUF  why = STRBUF_INIT;
    const TZ_ZONE *z = tz_get(tzid, &why);

    sb_free(&why);
    return (z != NULL);
}

/* sched_offset - seconds east of UTC at instant t in tzid (0 for an unknown zone) */
long    sched_offset(const char *tzid, time_t t)
{
    STRBUF  why = STRBUF_INIT;
    const TZ_ZONE *z = tz_get(tzid, &why);

    sb_free(&why);
    return (z ? tz_offset(z, t) : 0);
}

/* sched_local_to_utc - the instant of a local time in tzid (the DST policy above) */
time_t  sched_local_to_utc(const char *tzid, time_t local)
{
    STRBUF  why = STRBUF_INIT;
    const TZ_ZONE *z = tz_get(tzid, &why);

    sb_free(&why);
    return (z ? tz_local_to_utc(z, local) : local);
}

/* lowest_offset - the lowest offset in force within NEAR of instant t */
static long lowest_offset(const TZ_ZONE *z, time_t t)
{
    long    low = tz_offset(z, t - NEAR), o;
    int64_t c = t - NEAR;

    while ((c = tz_next_change(z, c)) <= (int64_t) t + NEAR)
	if ((o = tz_offset(z, c)) < low)
	    low = o;
    return (low);
}

/* first_after - the first occurrence from local time from on whose instant is after after */
static int first_after(const RRULE *r, const TZ_ZONE *z, int64_t from, time_t after,
		               int64_t *local, time_t *when)
{
    int     n;

    for (n = 0; n < MAX_SCAN; n++, from = *local + 1) {
	if (rrule_next_local(r, from, local) < 0)
	    return (-1);
	if ((*when = tz_local_to_utc(z, *local)) > after)
	    return (0);
    }
    return (-1);
}

/*
 * next_instant - the earliest instant after after: the first occurrence
 * found in local order, or the first after the end of a gap before it.
 */
static int next_instant(const RRULE *r, const TZ_ZONE *z, time_t after, time_t *next)
{
    int64_t local, local2, c;
    time_t  when, when2;
    long    before, past;

    if (first_after(r, z, (int64_t) after + lowest_offset(z, after) + 1, after,
		    &local, &when) < 0)
	return (-1);
    *next = when;
    for (c = (int64_t) when - NEAR; (c = tz_next_change(z, c)) < (int64_t) *next;) {
	before = tz_offset(z, c - 1);
	past = tz_offset(z, c);
	if (past > before && c + past > local		/* a gap ends after local */
	    && first_after(r, z, c + past, after, &local2, &when2) == 0 && when2 < *next)
	    *next = when2;
    }
    return (0);
}

/*
 * sched_next - the first occurrence of rrule in tzid strictly after the
 * instant after. Returns 0, or -1 with why: an unknown zone, a rule
 * outside the subset, or (only for a rule that rrule_check() refuses) no
 * occurrence in the next 11 years.
 */
int     sched_next(const char *rrule, const char *tzid, time_t after, time_t *next, STRBUF *why)
{
    const TZ_ZONE *z;
    const RRULE *r;

    if ((z = tz_get(tzid, why)) == NULL)
	return (-1);
    if ((r = rule_get(rrule, why)) == NULL) {
	sb_printf(why, " (RRULE \"%s\")", rrule);
	return (-1);
    }
    if (next_instant(r, z, after, next) < 0) {
	if (rrule_check(rrule, why) == 0)	/* it says why, as crierctl check does */
	    sb_puts(why, "no occurrence in the 11 years after this time");
	sb_printf(why, " (RRULE \"%s\")", rrule);
	return (-1);
    }
    return (0);
}

/*
 * sched_rrule_check - a digest frequency must be in crier's subset and
 * keep occurring (rrule_check); the message names the part at fault. The
 * proof walks centuries (tens of ms) and depends on the text alone, so a
 * rule proved once is not proved again by this thread: every change of
 * the panel and of self-service checks the whole catalog twice.
 */
int     sched_rrule_check(const char *rrule, STRBUF *why)
{
    STRBUF  msg = STRBUF_INIT;
    CACHED_RULE *c = rule_slot(rrule);
    int     rc;

    if (c->ok && c->proved && strcmp(c->text, rrule) == 0)
	return (0);
    if ((rc = rrule_check(rrule, &msg)) < 0)
	sb_printf(why, "RRULE \"%s\": %s", rrule, msg.s);
    else if (rule_get(rrule, &msg) != NULL)
	c->proved = 1;
    sb_free(&msg);
    return (rc);
}

