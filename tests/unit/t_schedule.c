/*
 * t_schedule.c - digest schedules across daylight saving, in zones with
 * whole-hour and half-hour offsets, both changes of a year, zones at
 * UTC+12 and more, a skipped day, negative DST after 2037 (expected
 * instants computed independently, with python-dateutil and zoneinfo);
 * RRULE intervals keep their phase; a rule that never occurs is an
 * error, not a crash or a hang; CRIER_NOW parsing.
 */
#include "config.h"

#include <string.h>

#include "clock.h"
#include "schedule.h"
#include "tap.h"

#define DAILY_0900 "FREQ=DAILY;BYHOUR=9;BYMINUTE=0"
#define DAILY_0230 "FREQ=DAILY;BYHOUR=2;BYMINUTE=30"
#define DAILY_0130 "FREQ=DAILY;BYHOUR=1;BYMINUTE=30"

static const struct {
    const char *zone;
    const char *rrule;
    const char *after;			/* RFC 3339 */
    const char *want;			/* the next occurrence, UTC */
    const char *why;
} cases[] = {
    /* Europe/Berlin: spring forward 2027-03-28, fall back 2027-10-31 */
    {"Europe/Berlin", DAILY_0900, "2027-03-27T12:00:00Z", "2027-03-28T07:00:00Z", "09:00 CEST"},
    {"Europe/Berlin", DAILY_0900, "2027-03-26T12:00:00Z", "2027-03-27T08:00:00Z", "09:00 CET"},
    {"Europe/Berlin", DAILY_0230, "2027-03-27T12:00:00Z", "2027-03-28T01:30:00Z", "gap: 03:30"},
    {"Europe/Berlin", DAILY_0230, "2027-03-28T01:30:00Z", "2027-03-29T00:30:00Z", "02:30 again"},
    {"Europe/Berlin", DAILY_0230, "2027-10-30T12:00:00Z", "2027-10-31T00:30:00Z", "overlap: first"},
    {"Europe/Berlin", DAILY_0230, "2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z", "sent once"},
    {"Europe/Berlin", DAILY_0900, "2027-10-30T12:00:00Z", "2027-10-31T08:00:00Z", "09:00 CET"},
    {"Europe/Berlin", "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0", "2027-03-24T12:00:00Z",
    "2027-03-29T07:00:00Z", "weekly after the change"},
    {"Europe/Berlin", "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0", "2027-03-20T12:00:00Z",
    "2027-03-22T08:00:00Z", "weekly before the change"},
    /* America/Los_Angeles: 2027-03-14 and 2027-11-07 */
    {"America/Los_Angeles", DAILY_0900, "2027-03-13T12:00:00Z", "2027-03-13T17:00:00Z", "PST"},
    {"America/Los_Angeles", DAILY_0900, "2027-03-13T17:00:00Z", "2027-03-14T16:00:00Z", "PDT"},
    {"America/Los_Angeles", DAILY_0230, "2027-03-14T08:00:00Z", "2027-03-14T10:30:00Z", "gap"},
    {"America/Los_Angeles", DAILY_0230, "2027-03-14T10:30:00Z", "2027-03-15T09:30:00Z", "again"},
    {"America/Los_Angeles", DAILY_0130, "2027-11-07T01:00:00Z", "2027-11-07T08:30:00Z", "first"},
    {"America/Los_Angeles", DAILY_0130, "2027-11-07T08:30:00Z", "2027-11-08T09:30:00Z", "once"},
    {"America/Los_Angeles", DAILY_0900, "2027-11-07T10:00:00Z", "2027-11-07T17:00:00Z", "PST"},
    /* America/St_Johns, -03:30/-02:30: 2027-03-14 and 2027-11-07 */
    {"America/St_Johns", DAILY_0900, "2027-03-13T00:00:00Z", "2027-03-13T12:30:00Z", "NST"},
    {"America/St_Johns", DAILY_0900, "2027-03-13T12:30:00Z", "2027-03-14T11:30:00Z", "NDT"},
    {"America/St_Johns", DAILY_0230, "2027-03-14T00:00:00Z", "2027-03-14T06:00:00Z", "gap"},
    {"America/St_Johns", DAILY_0130, "2027-11-07T00:00:00Z", "2027-11-07T04:00:00Z", "first"},
    {"America/St_Johns", DAILY_0900, "2027-11-07T05:00:00Z", "2027-11-07T12:30:00Z", "NST"},
    /* Australia/Adelaide, +09:30/+10:30: back 2027-04-04, forward 2027-10-03 */
    {"Australia/Adelaide", DAILY_0900, "2027-04-02T12:00:00Z", "2027-04-02T22:30:00Z", "ACDT"},
    {"Australia/Adelaide", DAILY_0900, "2027-04-02T22:30:00Z", "2027-04-03T23:30:00Z", "ACST"},
    {"Australia/Adelaide", DAILY_0230, "2027-04-03T12:00:00Z", "2027-04-03T16:00:00Z", "first"},
    {"Australia/Adelaide", DAILY_0230, "2027-10-02T12:00:00Z", "2027-10-02T17:00:00Z", "gap"},
    {"Australia/Adelaide", DAILY_0900, "2027-10-02T12:00:00Z", "2027-10-02T22:30:00Z", "ACDT"},
    {"UTC", "FREQ=HOURLY;BYMINUTE=0", "2027-01-01T10:00:00Z", "2027-01-01T11:00:00Z", "hourly"},
    /* issue 9, item 4: zones at UTC+12 and more on a change day */
    {"Pacific/Auckland", DAILY_0230, "2027-09-25T12:00:00Z", "2027-09-25T14:30:00Z",
    "gap: 03:30+13:00"},
    {"Pacific/Auckland", DAILY_0230, "2027-04-03T12:00:00Z", "2027-04-03T13:30:00Z",
    "repeated: the first 02:30, +13:00"},
    {"Pacific/Auckland", "FREQ=DAILY;BYHOUR=2;BYMINUTE=0", "2027-09-25T13:10:00Z",
    "2027-09-25T14:00:00Z", "no day skipped"},
    {"Pacific/Chatham", DAILY_0230, "2027-09-25T12:00:00Z", "2027-09-25T13:45:00Z",
    "02:30 exists on the change day"},
    {"Pacific/Apia", "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "2011-12-29T20:00:00Z",
    "2011-12-30T19:00:00Z", "the skipped day: offset before it"},
    {"Pacific/Apia", "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "2011-12-30T19:00:00Z",
    "2011-12-31T19:00:00Z", "the day after, +14:00"},
    /* item 5: a zone-file footer with negative DST, after 2037 */
    {"Europe/Dublin", DAILY_0900, "2040-01-10T00:00:00Z", "2040-01-10T09:00:00Z", "GMT"},
    {"Europe/Dublin", DAILY_0900, "2040-07-10T00:00:00Z", "2040-07-10T08:00:00Z", "IST"},
    {"Antarctica/Troll", DAILY_0900, "2027-07-01T00:00:00Z", "2027-07-01T07:00:00Z",
    "2-hour DST"},
    /* item 6: phases */
    {"UTC", "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU;BYHOUR=9;BYMINUTE=0", "2027-01-01T00:00:00Z",
    "2027-01-03T09:00:00Z", "the anchor's fortnight, WKST=MO"},
    {"UTC", "FREQ=HOURLY;INTERVAL=6;BYMINUTE=0", "2027-01-01T13:00:00Z",
    "2027-01-01T18:00:00Z", "every 6 hours from midnight"},
    {"UTC", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;BYHOUR=17;BYMINUTE=0",
    "2027-01-01T00:00:00Z", "2027-01-29T17:00:00Z", "last working day"},
    {"UTC", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=9;BYMINUTE=0", "2027-01-01T00:00:00Z",
    "2028-02-29T09:00:00Z", "leap day"},
    {"Asia/Kathmandu", "FREQ=MINUTELY;INTERVAL=15", "2027-01-01T00:01:00Z",
    "2027-01-01T00:15:00Z", "quarter hours, +05:45"},
};

static void table(void)
{
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	STRBUF  why = STRBUF_INIT, got = STRBUF_INIT;
	time_t  after, want, next = 0;

	CHECK(clock_parse_rfc3339(cases[i].after, &after) == 0, "parse %s", cases[i].after);
	CHECK(clock_parse_rfc3339(cases[i].want, &want) == 0, "parse %s", cases[i].want);
	CHECK(sched_next(cases[i].rrule, cases[i].zone, after, &next, &why) == 0, "%s", why.s);
	clock_format(next, 0, &got);
	CHECK(next == want, "%s %s after %s (%s): got %s, want %s", cases[i].zone, cases[i].rrule,
	      cases[i].after, cases[i].why, got.s, cases[i].want);
	sb_free(&why);
	sb_free(&got);
    }
}

/* interval_phase - every other Monday stays on the same Mondays, asked any day */
static void interval_phase(void)
{
    const char *rule = "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;BYHOUR=9;BYMINUTE=0";
    STRBUF  why = STRBUF_INIT;
    time_t  t0, a = 0, b = 0, c = 0;

    clock_parse_rfc3339("2027-06-01T00:00:00Z", &t0);
    CHECK(sched_next(rule, "UTC", t0, &a, &why) == 0, "%s", why.s);
    CHECK(sched_next(rule, "UTC", a, &b, &why) == 0, "%s", why.s);
    CHECK(b - a == 14 * 86400, "interval 2 weeks: %ld s", (long) (b - a));
    CHECK(sched_next(rule, "UTC", a + 7 * 86400, &c, &why) == 0 && c == b,
	  "asked a week later: phase lost");
    CHECK(((a / 86400) - 10959) % 14 == 0, "not on the anchor's fortnight");	/* 2000-01-03 */
    sb_free(&why);
}

static void errors(void)
{
    STRBUF  why = STRBUF_INIT;
    time_t  t;

    CHECK(sched_next(DAILY_0900, "Mars/Base", 0, &t, &why) < 0 && strstr(why.s, "time zone"),
	  "unknown zone");
    CHECK(sched_next("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "UTC", 0, &t, &why) < 0
	  && strstr(why.s, "BYMONTHDAY=30 never occurs with BYMONTH=2"), "never: %s", why.s);
    sb_reset(&why);
    CHECK(sched_next("FREQ=DAILY;INTERVAL=7;BYDAY=TU", "UTC", 1800000000, &t, &why) < 0
	  && strstr(why.s, "never occurs: INTERVAL=7 and BYDAY=TU"), "never: %s", why.s);
    sb_reset(&why);
    CHECK(sched_next("FREQ=WEEKLY;BYDAY=1MO", "UTC", 0, &t, &why) < 0
	  && strstr(why.s, "BYDAY=1MO needs FREQ=MONTHLY or YEARLY"), "misread: %s", why.s);
    CHECK(!sched_zone_valid("Europe/Berlinn") && sched_zone_valid("Asia/Kolkata")
	  && sched_zone_valid("UTC") && !sched_zone_valid("../etc/passwd"), "zone names");
    CHECK(clock_parse_rfc3339("2027-03-14T08:59:50-07:00", &t) == 0 && t == 1805039990,
	  "offset form: %ld", (long) t);
    CHECK(clock_parse_rfc3339("2027-03-14 08:59", &t) < 0, "partial instant accepted");
    sb_free(&why);
}

int     main(void)
{
    table();
    interval_phase();
    errors();
    return (tap_done("t_schedule"));
}
