/*
 * rrule.c - parse, check and expand crier's RRULE subset (see rrule.h).
 *
 * Expansion works on periods counted from DTSTART (a day, a week from
 * WKST, a month or a year, every INTERVAL-th one): the days of a period
 * that pass the BYxxx filters, crossed with the times of day, reduced by
 * BYSETPOS. Filters and defaults follow RFC 5545 section 3.3.10 (the
 * "expand" and "limit" table) for the parts the subset has. The calendar
 * is proleptic Gregorian, on day numbers since 1970-01-01.
 *
 * rrule_check() also proves that a rule keeps occurring: the Gregorian
 * calendar repeats every 400 years (146097 days, a whole number of weeks),
 * so the days of a rule repeat after the least common multiple of that
 * cycle and its INTERVAL; one such super-cycle is walked, one period at a
 * time, and the longest stretch without an occurrence must stay within 10
 * years.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rrule.h"

#define DAY		86400
#define ANCHOR_DAY	10959		/* 2000-01-03, a Monday: DTSTART */
#define MAX_DAY		2932896		/* 9999-12-31 */
#define HORIZON_DAYS	4018		/* rrule_next_local looks 11 years ahead */
#define GAP_DAYS	3653		/* 10 years: the longest silence allowed */
#define CYCLE_DAYS	146097		/* 400 Gregorian years */

static const char *const part_names[RR_NPARTS] = {
    "FREQ", "INTERVAL", "BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY", "BYMONTHDAY",
    "BYMONTH", "BYSETPOS", "WKST",
};
static const char *const freq_names[] = {
    "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY",
};
static const char *const wd_names[7] = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"};

/* Parts of RFC 5545 and RFC 7529 that the subset leaves out, and why. */
static const struct {
    const char *name;
    const char *why;
} refused[] = {
    {"COUNT", ": a digest schedule must recur forever (a digest that stops would strand "
     "what it collects)"},
    {"UNTIL", ": a digest schedule must recur forever (a digest that stops would strand "
     "what it collects)"},
    {"BYYEARDAY", " is not supported in digest schedules (use BYMONTH, BYMONTHDAY, BYDAY)"},
    {"BYWEEKNO", " is not supported in digest schedules (use BYMONTH, BYMONTHDAY, BYDAY)"},
    {"RSCALE", " is not supported: digest schedules use the Gregorian calendar"},
    {"SKIP", " is not supported (BYMONTHDAY=-1 is the last day of every month)"},
};

/* Calendar arithmetic on day numbers (days since 1970-01-01). */

static int64_t fdiv(int64_t a, int64_t b)
{
    return (a >= 0 ? a / b : -((-a + b - 1) / b));
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
}

static int days_in_month(int64_t y, int m)
{
    static const int dim[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return (m == 2 && is_leap(y) ? 29 : dim[m]);
}

/* day_number - the day number of a Gregorian date (era arithmetic: 400-year cycles) */
static int64_t day_number(int64_t y, int m, int d)
{
    int64_t era, yoe, doy;

    y -= m <= 2;
    era = fdiv(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    return (era * CYCLE_DAYS + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468);
}

/* civil_date - the inverse of day_number */
static void civil_date(int64_t day, int64_t *y, int *m, int *d)
{
    int64_t z = day + 719468, era = fdiv(z, CYCLE_DAYS), doe = z - era * CYCLE_DAYS;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;

    *d = (int) (doy - (153 * mp + 2) / 5 + 1);
    *m = (int) (mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* weekday - 0 for Monday .. 6 for Sunday (1970-01-01 was a Thursday) */
static int weekday(int64_t day)
{
    return ((int) (((day + 3) % 7 + 7) % 7));
}

/* Parsing. */

typedef struct parser {
    const char *text;			/* the whole rule, for spans */
    RRULE  *r;
    STRBUF *why;
    uint32_t hours;			/* BYHOUR */
    uint64_t minutes;			/* BYMINUTE */
} PARSER;

/* bad - a message about one value of one part; returns -1 */
static int bad(PARSER *ps, RR_PART part, const char *item, size_t len, const char *fmt,...)
{
    va_list ap;

    sb_printf(ps->why, "%s=%.*s ", part_names[part], (int) len, item);
    va_start(ap, fmt);
    sb_vprintf(ps->why, fmt, ap);
    va_end(ap);
    return (-1);
}

/* parse_int - a signed decimal of at most 6 digits filling the item */
static int parse_int(const char *s, size_t len, int *val)
{
    size_t  i = (len > 0 && (*s == '+' || *s == '-'));
    int     v = 0;

    if (i == len || len - i > 6)
	return (-1);
    for (; i < len; i++) {
	if (!isdigit((unsigned char) s[i]))
	    return (-1);
	v = v * 10 + s[i] - '0';
    }
    *val = *s == '-' ? -v : v;
    return (0);
}

/* parse_weekday - MO..SU, any case */
static int parse_weekday(const char *s, size_t len)
{
    int     i;

    for (i = 0; len == 2 && i < 7; i++)
	if (strncasecmp(s, wd_names[i], 2) == 0)
	    return (i);
    return (-1);
}

/* one_number - one integer item of part in [lo, hi] (0 excluded when signed) */
static int one_number(PARSER *ps, RR_PART part, const char *s, size_t len, int lo, int hi,
		              int *val)
{
    if (parse_int(s, len, val) < 0)
	return (bad(ps, part, s, len, "is not a number"));
    if (*val < lo || *val > hi || (lo < 0 && *val == 0))
	return (lo < 0 ? bad(ps, part, s, len, "is out of range (%d to -1, 1 to %d)", lo, hi)
		: bad(ps, part, s, len, "is out of range (%d to %d)", lo, hi));
    return (0);
}

/* add_byday - one BYDAY item: [+|-][n]WD */
static int add_byday(PARSER *ps, const char *s, size_t len)
{
    RRULE  *r = ps->r;
    int     wd = len >= 2 ? parse_weekday(s + len - 2, 2) : -1, n = 0, i;

    if (wd < 0 || (len > 2 && one_number(ps, RR_BYDAY, s, len - 2, -53, 53, &n) < 0))
	return (wd < 0 ? bad(ps, RR_BYDAY, s, len, "is not a weekday (MO..SU, with an "
			     "optional ordinal as in 1MO or -1FR)") : -1);
    if (n == 0) {
	r->wdays |= 1u << wd;
	return (0);
    }
    for (i = 0; i < r->nnth; i++)
	if (r->nth[i].n == n && r->nth[i].wd == wd)
	    return (0);
    r->nth[r->nnth].n = (signed char) n;
    r->nth[r->nnth++].wd = (signed char) wd;
    return (0);
}

/* add_item - one item of a list part */
static int add_item(PARSER *ps, RR_PART part, const char *s, size_t len)
{
    RRULE  *r = ps->r;
    int     v, i;

    switch (part) {
    case RR_BYDAY:
	return (add_byday(ps, s, len));
    case RR_BYSECOND:
	if (parse_int(s, len, &v) == 0 && v == 60)
	    return (bad(ps, part, s, len, "(a leap second) is not supported"));
	return (one_number(ps, part, s, len, 0, 59, &r->second));
    case RR_BYMINUTE:
    case RR_BYHOUR:
	if (one_number(ps, part, s, len, 0, part == RR_BYHOUR ? 23 : 59, &v) < 0)
	    return (-1);
	if (part == RR_BYHOUR)
	    ps->hours |= 1u << v;
	else
	    ps->minutes |= 1ull << v;
	return (0);
    case RR_BYMONTHDAY:
	if (one_number(ps, part, s, len, -31, 31, &v) < 0)
	    return (-1);
	*(v > 0 ? &r->mday_pos : &r->mday_neg) |= 1u << abs(v);
	return (0);
    case RR_BYMONTH:
	if (one_number(ps, part, s, len, 1, 12, &v) < 0)
	    return (-1);
	r->months |= 1u << v;
	return (0);
    case RR_BYSETPOS:
	if (one_number(ps, part, s, len, -366, 366, &v) < 0)
	    return (-1);
	for (i = 0; i < r->nsetpos && r->setpos[i] != v; i++)
	     /* void */ ;
	if (i == r->nsetpos)
	    r->setpos[r->nsetpos++] = (short) v;
	return (0);
    default:
	return (-1);
    }
}

/* parse_single - FREQ, INTERVAL and WKST take one value */
static int parse_single(PARSER *ps, RR_PART part, const char *s, size_t len)
{
    RRULE  *r = ps->r;
    int     i;

    if (part == RR_INTERVAL)
	return (*s == '+' || *s == '-' ? bad(ps, part, s, len, "is not a positive number")
		: one_number(ps, part, s, len, 1, 100000, &r->interval));
    if (part == RR_WKST)
	return ((r->wkst = parse_weekday(s, len)) < 0 ?
		bad(ps, part, s, len, "is not a weekday (MO..SU)") : 0);
    for (i = 0; i <= RR_YEARLY; i++)
	if (strlen(freq_names[i]) == len && strncasecmp(s, freq_names[i], len) == 0) {
	    r->freq = (RR_FREQ_T) i;
	    return (0);
	}
    if (len == 8 && strncasecmp(s, "SECONDLY", 8) == 0)
	return (bad(ps, part, s, len, "is too fine for a digest (the finest is MINUTELY)"));
    return (bad(ps, part, s, len, "is not a frequency (MINUTELY, HOURLY, DAILY, WEEKLY, "
		"MONTHLY or YEARLY)"));
}

/* parse_value - the value of one part: a single value or a list */
static int parse_value(PARSER *ps, RR_PART part, const char *s, size_t len)
{
    const char *end = s + len, *comma;
    int     n = 0;

    if (part == RR_FREQ || part == RR_INTERVAL || part == RR_WKST)
	return (parse_single(ps, part, s, len));
    if (part == RR_BYSECOND && memchr(s, ',', len))
	return (bad(ps, part, s, len, "lists several seconds: a digest schedule takes one"));
    for (; s <= end; s = comma + 1, n++) {
	if ((comma = memchr(s, ',', (size_t) (end - s))) == NULL)
	    comma = end;
	if (n == RR_MAX_LIST)
	    return (bad(ps, part, "...", 3, "lists more than %d values", RR_MAX_LIST));
	if (comma == s)
	    return (bad(ps, part, s, 0, "has an empty value"));
	if (add_item(ps, part, s, (size_t) (comma - s)) < 0)
	    return (-1);
    }
    return (0);
}

/* parse_part - NAME=VALUE */
static int parse_part(PARSER *ps, const char *s, size_t len)
{
    const char *eq = memchr(s, '=', len);
    size_t  nlen = eq ? (size_t) (eq - s) : len, i;

    if (eq == NULL || eq + 1 == s + len) {
	sb_printf(ps->why, "\"%.*s\" is not NAME=VALUE", (int) len, s);
	return (-1);
    }
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
	if (strlen(refused[i].name) == nlen && strncasecmp(s, refused[i].name, nlen) == 0) {
	    sb_printf(ps->why, "%.*s%s", (int) nlen, s, refused[i].why);
	    return (-1);
	}
    for (i = 0; i < RR_NPARTS; i++)
	if (strlen(part_names[i]) == nlen && strncasecmp(s, part_names[i], nlen) == 0)
	    break;
    if (i == RR_NPARTS) {
	sb_printf(ps->why, "%.*s is not a part of RFC 5545 recurrence rules", (int) nlen, s);
	return (-1);
    }
    if (ps->r->given & (1u << i)) {
	sb_printf(ps->why, "%s is given twice", part_names[i]);
	return (-1);
    }
    ps->r->given |= 1u << i;
    ps->r->span[i][0] = (unsigned short) (s - ps->text);
    ps->r->span[i][1] = (unsigned short) len;
    return (parse_value(ps, (RR_PART) i, eq + 1, len - nlen - 1));
}

/* part_text - a part as written, for messages */
static void part_text(const char *text, const RRULE *r, RR_PART part, STRBUF *out)
{
    sb_putn(out, text + r->span[part][0], r->span[part][1]);
}

/* given - true when the rule wrote part */
static int given(const RRULE *r, RR_PART part)
{
    return ((r->given & (1u << part)) != 0);
}

/* check_byday - ordinals only where RFC 5545 gives them a meaning, and in range */
static int check_byday(PARSER *ps)
{
    RRULE  *r = ps->r;
    int     i, max = r->freq == RR_YEARLY && !given(r, RR_BYMONTH) ? 53 : 5;
    char    item[8];

    if (r->nnth && r->wdays) {
	part_text(ps->text, r, RR_BYDAY, ps->why);
	sb_puts(ps->why, " mixes weekdays with and without an ordinal, which implementations "
		"read differently: write two frequencies");
	return (-1);
    }
    for (i = 0; i < r->nnth; i++) {
	snprintf(item, sizeof(item), "%d%s", r->nth[i].n, wd_names[(int) r->nth[i].wd]);
	if (r->freq != RR_MONTHLY && r->freq != RR_YEARLY)
	    return (bad(ps, RR_BYDAY, item, strlen(item), "needs FREQ=MONTHLY or YEARLY"));
	if (abs(r->nth[i].n) > max)
	    return (bad(ps, RR_BYDAY, item, strlen(item), "never occurs: a %s has at most "
			"%d of any weekday", max == 5 ? "month" : "year", max));
    }
    return (0);
}

/* check_monthdays - every BYMONTHDAY value occurs in some month the rule allows */
static int check_monthdays(PARSER *ps)
{
    RRULE  *r = ps->r;
    int     m, v, longest = 0;
    char    item[8];
    STRBUF  months = STRBUF_INIT;

    for (m = 1; m <= 12; m++)
	if ((r->months == 0 || (r->months & (1u << m))) && days_in_month(2000, m) > longest)
	    longest = days_in_month(2000, m);
    for (v = -31; v <= 31; v++)
	if (v != 0 && abs(v) > longest && ((v > 0 ? r->mday_pos : r->mday_neg) & (1u << abs(v))))
	    break;
    if (v > 31)
	return (0);
    snprintf(item, sizeof(item), "%d", v);
    part_text(ps->text, r, RR_BYMONTH, &months);
    bad(ps, RR_BYMONTHDAY, item, strlen(item), "never occurs with %s", months.s);
    sb_free(&months);
    return (-1);
}

/* check_parts - what the RFC or the subset forbids in combination */
static int check_parts(PARSER *ps)
{
    RRULE  *r = ps->r;
    int     per_day = r->freq == RR_MINUTELY ? 1440 : 24;

    if (!given(r, RR_FREQ))
	return (sb_printf(ps->why, "FREQ is missing (e.g. FREQ=DAILY;BYHOUR=9;BYMINUTE=0)"), -1);
    if (r->freq <= RR_HOURLY && per_day % r->interval != 0) {
	sb_printf(ps->why, "INTERVAL=%d with FREQ=%s must divide %d, so that every day has "
		  "the same times (list the times with FREQ=DAILY;BYHOUR=...;BYMINUTE=...)",
		  r->interval, freq_names[r->freq], per_day);
	return (-1);
    }
    if (r->freq == RR_WEEKLY && given(r, RR_BYMONTHDAY))
	return (sb_printf(ps->why, "BYMONTHDAY is not allowed with FREQ=WEEKLY (RFC 5545)"), -1);
    if (given(r, RR_BYSETPOS) && (r->given & ~((1u << RR_FREQ) | (1u << RR_INTERVAL)
		   | (1u << RR_WKST) | (1u << RR_BYSETPOS))) == 0)
	return (sb_printf(ps->why, "BYSETPOS needs another BYxxx part (RFC 5545)"), -1);
    if (given(r, RR_BYSETPOS) && r->freq < RR_DAILY)
	return (sb_printf(ps->why, "BYSETPOS needs FREQ=DAILY or longer in a digest schedule"),
		-1);
    if (check_byday(ps) < 0 || check_monthdays(ps) < 0)
	return (-1);
    return (0);
}

/* fill_times - the minutes of the day that occur: BYHOUR x BYMINUTE, or DTSTART's */
static int fill_times(PARSER *ps)
{
    RRULE  *r = ps->r;
    uint32_t hours = given(r, RR_BYHOUR) ? ps->hours : r->freq <= RR_HOURLY ? 0xffffff : 1;
    uint64_t minutes = given(r, RR_BYMINUTE) ? ps->minutes :
	r->freq == RR_MINUTELY ? (1ull << 60) - 1 : 1;
    int     h, m, t;

    for (h = 0; h < 24; h++)
	for (m = 0; m < 60; m++) {
	    t = h * 60 + m;
	    if (!(hours & (1u << h)) || !(minutes & (1ull << m))
		|| (r->freq == RR_MINUTELY && t % r->interval != 0)
		|| (r->freq == RR_HOURLY && h % r->interval != 0))
		continue;
	    r->tod[t / 64] |= 1ull << (t % 64);
	    r->ntod++;
	}
    if (r->ntod == 0)
	sb_printf(ps->why, "BYHOUR and BYMINUTE leave no time of day on the steps of "
		  "FREQ=%s;INTERVAL=%d", freq_names[r->freq], r->interval);
    return (r->ntod ? 0 : -1);
}

/* fill_defaults - what DTSTART (Monday 2000-01-03 00:00:00) gives a rule */
static void fill_defaults(RRULE *r)
{
    int     days = given(r, RR_BYDAY) || given(r, RR_BYMONTHDAY);

    if (r->freq == RR_WEEKLY && !given(r, RR_BYDAY))
	r->wdays = 1;				/* Monday */
    if ((r->freq == RR_MONTHLY || r->freq == RR_YEARLY) && !days)
	r->mday_pos = 1u << 3;
    if (r->freq == RR_YEARLY && !days && !given(r, RR_BYMONTH))
	r->months = 1u << 1;
}

/*
 * rrule_parse - a rule of the subset, strictly: every part known, given
 * once, every value in range and meaningful with the others. Returns 0,
 * or -1 with why (which names the part at fault).
 */
int     rrule_parse(const char *text, RRULE *r, STRBUF *why)
{
    PARSER  ps = {text, r, why, 0, 0};
    const char *s, *semi;
    size_t  len = strlen(text);

    memset(r, 0, sizeof(*r));
    r->interval = 1;
    if (len > RR_MAX_TEXT) {
	sb_printf(why, "longer than %d bytes", RR_MAX_TEXT);
	return (-1);
    }
    if (strncasecmp(text, "RRULE:", 6) == 0) {
	sb_printf(why, "write the rule without the \"RRULE:\" prefix");
	return (-1);
    }
    for (s = text; s <= text + len; s = semi + 1) {
	if ((semi = strchr(s, ';')) == NULL)
	    semi = text + len;
	if (semi == s) {
	    sb_printf(why, "an empty part (\";\" at offset %zu)", (size_t) (s - text));
	    return (-1);
	}
	if (parse_part(&ps, s, (size_t) (semi - s)) < 0)
	    return (-1);
    }
    if (check_parts(&ps) < 0 || fill_times(&ps) < 0)
	return (-1);
    fill_defaults(r);
    return (0);
}

/* Expansion. */

/* day_ok - day (a y-m-d) passes BYMONTH, BYMONTHDAY and BYDAY */
static int day_ok(const RRULE *r, int64_t day, int64_t y, int m, int d)
{
    int     dim = days_in_month(y, m), wd = weekday(day), pos = d, len = dim, i;

    if (r->months && !(r->months & (1u << m)))
	return (0);
    if ((r->mday_pos | r->mday_neg) && !(r->mday_pos & (1u << d))
	&& !(r->mday_neg & (1u << (dim - d + 1))))
	return (0);
    if ((r->wdays == 0 && r->nnth == 0) || (r->wdays & (1u << wd)))
	return (1);
    if (r->freq == RR_YEARLY && r->months == 0) {	/* ordinals count in the year */
	pos = (int) (day - day_number(y, 1, 1)) + 1;
	len = is_leap(y) ? 366 : 365;
    }
    for (i = 0; i < r->nnth; i++)
	if (r->nth[i].wd == wd
	    && (r->nth[i].n == (pos - 1) / 7 + 1 || r->nth[i].n == -((len - pos) / 7 + 1)))
	    return (1);
    return (0);
}

static int day_ok_n(const RRULE *r, int64_t day)
{
    int64_t y;
    int     m, d;

    civil_date(day, &y, &m, &d);
    return (day_ok(r, day, y, m, d));
}

/* tod_first - the first time of day (seconds) at or after t0, or -1 */
static int tod_first(const RRULE *r, int t0)
{
    int     min = t0 / 60, w;
    uint64_t bits;

    if (t0 % 60 > r->second)
	min++;
    for (w = min / 64; min < 1440 && w < 23; w++, min = w * 64) {
	bits = r->tod[w] >> (min % 64);
	if (bits)
	    return ((min + __builtin_ctzll(bits)) * 60 + r->second);
    }
    return (-1);
}

/* tod_at - the time of day (seconds) of the j-th minute that occurs */
static int tod_at(const RRULE *r, int j)
{
    uint64_t bits;
    int     w;

    for (w = 0; w < 23; w++) {
	if (j >= __builtin_popcountll(r->tod[w])) {
	    j -= __builtin_popcountll(r->tod[w]);
	    continue;
	}
	for (bits = r->tod[w]; j > 0; j--)
	    bits &= bits - 1;
	return ((w * 64 + __builtin_ctzll(bits)) * 60 + r->second);
    }
    return (0);
}

/* step - periods advance by INTERVAL; a day of a sub-daily rule by one */
static int step(const RRULE *r)
{
    return (r->freq <= RR_HOURLY ? 1 : r->interval);
}

/* first_week_day - the first day of DTSTART's week (weeks start on WKST) */
static int64_t first_week_day(const RRULE *r)
{
    return (ANCHOR_DAY - (weekday(ANCHOR_DAY) - r->wkst + 7) % 7);
}

/* period_of - the period (counted from DTSTART's, 0) that holds day */
static int64_t period_of(const RRULE *r, int64_t day)
{
    int64_t y;
    int     m, d;

    if (r->freq <= RR_DAILY)
	return (day - ANCHOR_DAY);
    if (r->freq == RR_WEEKLY)
	return (fdiv(day - first_week_day(r), 7));
    civil_date(day, &y, &m, &d);
    return (r->freq == RR_MONTHLY ? (y - 2000) * 12 + m - 1 : y - 2000);
}

/* period_days - the first day of period p and its number of days */
static int64_t period_days(const RRULE *r, int64_t p, int *ndays)
{
    int64_t y;
    int     m;

    *ndays = r->freq <= RR_DAILY ? 1 : 7;
    if (r->freq <= RR_DAILY)
	return (ANCHOR_DAY + p);
    if (r->freq == RR_WEEKLY)
	return (first_week_day(r) + 7 * p);
    y = 2000 + fdiv(p, r->freq == RR_MONTHLY ? 12 : 1);
    m = r->freq == RR_MONTHLY ? (int) (p - fdiv(p, 12) * 12) + 1 : 1;
    *ndays = r->freq == RR_MONTHLY ? days_in_month(y, m) : is_leap(y) ? 366 : 365;
    return (day_number(y, m, 1));
}

/*
 * set_members - BYSETPOS: the members of a period's set (the days that pass
 * the filters crossed with the times of day, in order) that it selects.
 * Returns how many were written to occ (at most RR_MAX_LIST).
 */
static int set_members(const RRULE *r, int64_t first, int ndays, int64_t *occ)
{
    int64_t days[366];
    int     nd = 0, i, n, idx, k = 0;

    for (i = 0; i < ndays; i++)
	if (day_ok_n(r, first + i))
	    days[nd++] = first + i;
    n = nd * r->ntod;
    for (i = 0; i < r->nsetpos; i++) {
	idx = r->setpos[i] > 0 ? r->setpos[i] - 1 : n + r->setpos[i];
	if (idx >= 0 && idx < n)
	    occ[k++] = days[idx / r->ntod] * DAY + tod_at(r, idx % r->ntod);
    }
    return (k);
}

/* set_pick - the earliest selected member at or after from (and DTSTART) */
static int set_pick(const RRULE *r, int64_t first, int ndays, int64_t from, int64_t *occ)
{
    int64_t m[RR_MAX_LIST], best = INT64_MAX;
    int     i, n = set_members(r, first, ndays, m);

    for (i = 0; i < n; i++)
	if (m[i] >= from && m[i] >= (int64_t) ANCHOR_DAY * DAY && m[i] < best)
	    best = m[i];
    *occ = best;
    return (best != INT64_MAX);
}

/* period_first - the first occurrence in a period at or after from */
static int period_first(const RRULE *r, int64_t first, int ndays, int64_t from, int64_t *occ)
{
    int64_t fday = fdiv(from, DAY), day = first > fday ? first : fday;
    int     t;

    if (r->nsetpos)
	return (set_pick(r, first, ndays, from, occ));
    for (; day < first + ndays; day++) {
	if (!day_ok_n(r, day)
	    || (t = tod_first(r, day == fday ? (int) (from - day * DAY) : 0)) < 0)
	    continue;
	*occ = day * DAY + t;
	return (1);
    }
    return (0);
}

/*
 * rrule_next_local - the first occurrence at or after the local time from.
 * Looks at most 11 years ahead (rrule_check allows no longer silence), so
 * the work is bounded whatever the rule. Returns 0, or -1 when none.
 */
int     rrule_next_local(const RRULE *r, int64_t from, int64_t *occ)
{
    int64_t day = fdiv(from, DAY), p, first;
    int     n = step(r), ndays;

    if (day < ANCHOR_DAY)
	from = (int64_t) (day = ANCHOR_DAY) * DAY;
    if (day > MAX_DAY)
	return (-1);
    p = period_of(r, day);
    p = (p + n - 1) / n * n;			/* p >= 0 from here */
    for (;; p += n) {
	first = period_days(r, p, &ndays);
	if (first > day + HORIZON_DAYS)
	    return (-1);
	if (period_first(r, first, ndays, from, occ))
	    return (0);
    }
}

/* Proof that a rule keeps occurring. */

typedef struct gap {
    int64_t last;			/* the day of the occurrence before the gap */
    int64_t next;			/* the day of the one after it */
} GAP;

/* period_span - the first and last day with an occurrence in period p */
static int period_span(const RRULE *r, int64_t p, int64_t *lo, int64_t *hi)
{
    int64_t first, m[RR_MAX_LIST];
    int     ndays, i, n;

    first = period_days(r, p, &ndays);
    if (r->nsetpos) {
	if ((n = set_members(r, first, ndays, m)) == 0)
	    return (0);
	for (*lo = *hi = m[0], i = 1; i < n; i++) {
	    *lo = m[i] < *lo ? m[i] : *lo;
	    *hi = m[i] > *hi ? m[i] : *hi;
	}
	*lo = fdiv(*lo, DAY), *hi = fdiv(*hi, DAY);
	return (1);
    }
    for (i = 0; i < ndays && !day_ok_n(r, first + i); i++)
	 /* void */ ;
    if (i == ndays)
	return (0);
    *lo = first + i;
    for (i = ndays - 1; !day_ok_n(r, first + i); i--)
	 /* void */ ;
    *hi = first + i;
    return (1);
}

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
	int64_t t = a % b;

	a = b, b = t;
    }
    return (a);
}

/*
 * longest_gap - walk one super-cycle of the rule (where its days repeat)
 * and find a stretch longer than GAP_DAYS without an occurrence. Returns 0
 * when there is none, 1 with the stretch, 2 when the rule never occurs.
 */
static int longest_gap(const RRULE *r, GAP *gap)
{
    static const int64_t cycle[] = {CYCLE_DAYS, CYCLE_DAYS, CYCLE_DAYS, CYCLE_DAYS / 7, 4800, 400};
    int64_t n = step(r), units = cycle[r->freq] / gcd64(cycle[r->freq], n) * n;
    int64_t p, lo, hi, first = -1, last = -1, span;
    int     ndays;

    for (p = 0; p < units; p += n) {
	if (!period_span(r, p, &lo, &hi))
	    continue;
	if (last >= 0 && lo - last > GAP_DAYS) {
	    gap->last = last, gap->next = lo;
	    return (1);
	}
	if (first < 0)
	    first = lo;
	last = hi;
    }
    if (first < 0)
	return (2);
    span = period_days(r, units, &ndays) - period_days(r, 0, &ndays);
    if (first + span - last > GAP_DAYS) {
	gap->last = last, gap->next = first + span;
	return (1);
    }
    return (0);
}

/* without_part - the rule's text with one part taken out */
static void without_part(const char *text, const RRULE *r, RR_PART part, STRBUF *out)
{
    size_t  at = r->span[part][0], len = r->span[part][1];

    sb_putn(out, text, at ? at - 1 : 0);	/* drop the part and a ';' beside it */
    sb_puts(out, text + at + len + (at ? 0 : 1));
}

/* culprits - the parts without which the rule would keep occurring, as "A, B and C" */
static void culprits(const char *text, const RRULE *r, STRBUF *out)
{
    STRBUF  other = STRBUF_INIT, junk = STRBUF_INIT;
    RR_PART found[RR_NPARTS];
    RRULE   r2;
    GAP     g;
    int     part, n = 0, i;

    for (part = RR_INTERVAL; part < RR_NPARTS; part++) {
	if (!given(r, (RR_PART) part))
	    continue;
	sb_reset(&other);
	without_part(text, r, (RR_PART) part, &other);
	if (rrule_parse(other.s, &r2, &junk) == 0 && longest_gap(&r2, &g) == 0)
	    found[n++] = (RR_PART) part;
    }
    for (i = 0; i < n; i++) {
	sb_puts(out, i == 0 ? ": " : i == n - 1 ? " and " : ", ");
	part_text(text, r, found[i], out);
    }
    sb_free(&other);
    sb_free(&junk);
}

/* day_text - a day number as YYYY-MM-DD, for messages */
static void day_text(int64_t day, STRBUF *out)
{
    int64_t y;
    int     m, d;

    civil_date(day, &y, &m, &d);
    sb_printf(out, "%04lld-%02d-%02d", (long long) y, m, d);
}

/*
 * rrule_check - rrule_parse, and the proof that the rule never falls
 * silent for more than 10 years, from any start. The message names the
 * parts that silence it.
 */
int     rrule_check(const char *text, STRBUF *why)
{
    RRULE   r;
    GAP     g;
    int     rc;

    if (rrule_parse(text, &r, why) < 0)
	return (-1);
    if ((rc = longest_gap(&r, &g)) == 0)
	return (0);
    if (rc == 2) {
	sb_puts(why, "never occurs");
    } else {
	sb_printf(why, "leaves %lld years without an occurrence (none after ",
		  (long long) ((g.next - g.last) / 365));
	day_text(g.last, why);
	sb_puts(why, " until ");
	day_text(g.next, why);
	sb_puts(why, ")");
    }
    culprits(text, &r, why);
    return (-1);
}
