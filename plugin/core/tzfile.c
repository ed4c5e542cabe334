/*
 * tzfile.c - IANA time zones from the system's TZif files (see tzfile.h).
 *
 * A zone keeps the instants at which its UT offset changes (the file's
 * transitions, less those that keep the offset: only the offset matters
 * here) and the POSIX TZ rule of the file's footer, which takes over after
 * the last transition. The rule is worked out year by year on the instant
 * reduced modulo 400 Gregorian years: the calendar, weekdays included,
 * repeats with that period, so any 64-bit time has an answer.
 *
 * Before the first transition time type 0 applies (RFC 8536); without a
 * footer the offset of the last transition stays. A file without
 * transitions is its footer (or time type 0) at all times.
 *
 * The file is untrusted bytes: every count is checked against its size
 * before anything is read, and a file that does not add up is refused.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "tzfile.h"

#define TZ_DEFAULT_DIR	"/usr/share/zoneinfo"
#define TZ_MAX_FILE	(1024 * 1024)	/* the largest zone is under 4 KB */
#define TZ_MAX_NAME	255
#define TZ_MIN_UTOFF	(-89999)	/* RFC 8536 section 3.2 */
#define TZ_MAX_UTOFF	93599
#define TZ_HEAD_SIZE	44
#define TZ_DAY		86400
#define TZ_CYCLE	((int64_t) 146097 * TZ_DAY)	/* 400 Gregorian years */
#define TZ_WINDOW	(27 * 3600)	/* more than any UT offset */
#define TZ_BUCKETS	128

/* A rule of the footer: when daylight saving time starts or ends. */
typedef struct tz_rule {
    int     kind;			/* 'J' (1-365, no Feb 29), 'D' (0-365), 'M' */
    int     day;			/* J, D: the day; M: weekday, Sunday 0 */
    int     week;			/* M: 1-5, 5 the last of the month */
    int     month;			/* M: 1-12 */
    long    secs;			/* local time of day, -167h..167h */
} TZ_RULE;

struct tz_zone {
    struct tz_zone *next;		/* hash chain */
    char   *name;
    int64_t *at;			/* instants where the offset changes */
    long   *off;			/* offset from at[i] on */
    size_t  count;
    long    off0;			/* before at[0]: time type 0 */
    int     has_last;			/* the file has transitions */
    int64_t last;			/* the last one; the rule applies after it */
    long    std_off;			/* the rule: standard time, east-positive */
					/* (no footer: the last offset) */
    long    dst_off;			/* daylight saving time, east-positive */
    int     has_dst;
    TZ_RULE dst_start;			/* given in standard time */
    TZ_RULE dst_end;			/* given in daylight saving time */
};

/* A change of the rule's offset. */
typedef struct tz_event {
    int64_t at;				/* instant, on the reduced time line */
    long    off;			/* offset from then on */
    int     seq;			/* order of the rules, for ties */
} TZ_EVENT;

/* A TZif header (RFC 8536 section 3.1). */
typedef struct tz_head {
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
    size_t  size;			/* bytes of the data block after it */
} TZ_HEAD;

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;
static TZ_ZONE *tz_table[TZ_BUCKETS];

 /*
  * Arithmetic on the time line.
  */

/* tz_add - a + b, saturated at the ends of int64_t */
static int64_t tz_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
	return (INT64_MAX);
    if (b < 0 && a < INT64_MIN - b)
	return (INT64_MIN);
    return (a + b);
}

/* tz_cycle - t modulo 400 Gregorian years: an instant of 1970..2370 */
static int64_t tz_cycle(int64_t t)
{
    int64_t r = t % TZ_CYCLE;

    return (r < 0 ? r + TZ_CYCLE : r);
}

static int tz_leap(int64_t y)
{
    return (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
}

/* tz_year_start - days from 1970-01-01 to January 1 of year y (y >= 1) */
static int64_t tz_year_start(int64_t y)
{
    int64_t p = y - 1;

    return (365 * p + p / 4 - p / 100 + p / 400 - 719162);
}

/* tz_year - the year of an instant of 1970..2370 */
static int64_t tz_year(int64_t t)
{
    int64_t days = t / TZ_DAY, y = 1970 + days / 366;

    while (tz_year_start(y + 1) <= days)
	y++;
    return (y);
}

/* tz_rule_when - the local time (seconds as if UTC) when r fires in year y */
static int64_t tz_rule_when(const TZ_RULE *r, int64_t y)
{
    static const int before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    static const int length[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t day = tz_year_start(y);
    int     leap = tz_leap(y), weekday, mday, mlen;

    switch (r->kind) {
    case 'J':
	day += r->day - 1 + (leap && r->day >= 60);
	break;
    case 'D':
	day += r->day;
	break;
    default:
	day += before[r->month - 1] + (leap && r->month > 2);
	weekday = (int) (((day + 4) % 7 + 7) % 7);	/* 1970-01-01: Thursday */
	mday = (r->day - weekday + 7) % 7 + (r->week - 1) * 7;
	mlen = length[r->month - 1] + (leap && r->month == 2);
	if (mday >= mlen)
	    mday -= 7;
	day += mday;
	break;
    }
    return (day * TZ_DAY + r->secs);
}

 /*
  * The footer's rule, on instants reduced by tz_cycle().
  */

/*
 * tz_rule_events - the rule's changes in the years y..y+n-1, in time
 * order. Of changes at one instant only the last counts: a DST that lasts
 * all year ends and starts again at the same instant, which is no change.
 */
static int tz_rule_events(const TZ_ZONE *z, int64_t y, int n, TZ_EVENT *ev)
{
    TZ_EVENT e;
    int     count = 0, i, j;

    for (i = 0; i < n; i++) {
	ev[count].at = tz_rule_when(&z->dst_start, y + i) - z->std_off;
	ev[count].off = z->dst_off;
	ev[count].seq = count;
	count++;
	ev[count].at = tz_rule_when(&z->dst_end, y + i) - z->dst_off;
	ev[count].off = z->std_off;
	ev[count].seq = count;
	count++;
    }
    for (i = 1; i < count; i++) {
	e = ev[i];
	for (j = i; j > 0 && (ev[j - 1].at > e.at
			      || (ev[j - 1].at == e.at && ev[j - 1].seq > e.seq)); j--)
	    ev[j] = ev[j - 1];
	ev[j] = e;
    }
    for (i = j = 0; i < count; i++) {
	if (j > 0 && ev[j - 1].at == ev[i].at)
	    ev[j - 1] = ev[i];
	else
	    ev[j++] = ev[i];
    }
    return (j);
}

/* tz_rule_offset - the rule's offset at instant t */
static long tz_rule_offset(const TZ_ZONE *z, int64_t t)
{
    TZ_EVENT ev[8];
    int64_t r = tz_cycle(t);
    long    off = z->std_off;
    int     n, i;

    if (!z->has_dst)
	return (z->std_off);
    n = tz_rule_events(z, tz_year(r) - 2, 4, ev);
    for (i = 0; i < n && ev[i].at <= r; i++)
	off = ev[i].off;
    return (off);
}

/*
 * tz_rule_next - the rule's first change of offset after t, where the
 * offset is cur, or TZ_NEVER. The rule repeats every year, so a change,
 * if any, comes within the next few years. The changes of a year fall
 * within 8 days of it (a day 365 in a year of 365 days, a time of 167
 * hours, an offset), so those of the years computed are complete, a tie
 * with a later year included, until 8 days before the year after them.
 */
static int64_t tz_rule_next(const TZ_ZONE *z, int64_t t, long cur)
{
    TZ_EVENT ev[12];
    int64_t r = tz_cycle(t), y = tz_year(r), end;
    int     n, i;

    if (!z->has_dst)
	return (TZ_NEVER);
    n = tz_rule_events(z, y - 1, 6, ev);
    end = (tz_year_start(y + 5) - 8) * TZ_DAY;
    for (i = 0; i < n && ev[i].at < end; i++)
	if (ev[i].at > r && ev[i].off != cur)
	    return (tz_add(t, ev[i].at - r));
    return (TZ_NEVER);
}

 /*
  * Queries.
  */

/* tz_after - the number of changes at or before t */
static size_t tz_after(const TZ_ZONE *z, int64_t t)
{
    size_t  lo = 0, hi = z->count, mid;

    while (lo < hi) {
	mid = lo + (hi - lo) / 2;
	if (z->at[mid] <= t)
	    lo = mid + 1;
	else
	    hi = mid;
    }
    return (lo);
}

long    tz_offset(const TZ_ZONE *z, time_t t)
{
    size_t  i;

    if (!z->has_last || t > z->last)
	return (tz_rule_offset(z, t));
    i = tz_after(z, t);
    return (i ? z->off[i - 1] : z->off0);
}

/*
 * tz_next_change - after the table's last change the offset holds until
 * the file's last transition, then the footer's rule takes over (in a
 * consistent file with the same offset, else that is a change too).
 */
int64_t tz_next_change(const TZ_ZONE *z, time_t t)
{
    size_t  i;
    long    cur;

    if (!z->has_last || t > z->last)
	return (tz_rule_next(z, t, tz_rule_offset(z, t)));
    if ((i = tz_after(z, t)) < z->count)
	return (z->at[i]);
    cur = i ? z->off[i - 1] : z->off0;
    if (z->last == INT64_MAX)
	return (TZ_NEVER);
    if (tz_rule_offset(z, z->last + 1) != cur)
	return (z->last + 1);
    return (tz_rule_next(z, z->last, cur));
}

/*
 * tz_local_to_utc - walk the offsets in force over a window wider than any
 * offset on either side of local: each gives one candidate, valid when it
 * falls where that offset is in force; the first valid one wins (clocks
 * set back: the earlier instant). With none, local is skipped by a change
 * forward and takes the offset from before it (RFC 5545 section 3.3.5).
 */
time_t  tz_local_to_utc(const TZ_ZONE *z, time_t local)
{
    int64_t start = tz_add(local, -TZ_WINDOW), end = tz_add(local, TZ_WINDOW);
    int64_t next, u, gap = 0;
    long    off = tz_offset(z, start), after;
    int     in_gap = 0;

    for (;;) {
	next = tz_next_change(z, start);
	u = tz_add(local, -off);
	if (u >= start && u < next)
	    return (u);
	if (next > end)
	    break;
	after = tz_offset(z, next);
	if (!in_gap && after > off && local >= tz_add(next, off)
	    && local < tz_add(next, after)) {
	    in_gap = 1;
	    gap = u;
	}
	start = next;
	off = after;
    }
    return (in_gap ? gap : tz_add(local, -tz_offset(z, local)));
}

 /*
  * The footer: a POSIX TZ string, with the extensions of RFC 8536.
  */

/* tz_number - an unsigned decimal of at most three digits up to max, or -1 */
static int tz_number(const char **sp, int max)
{
    const char *s = *sp;
    int     n = 0;

    while (*s >= '0' && *s <= '9' && s - *sp < 4)
	n = n * 10 + *s++ - '0';
    if (s == *sp || s - *sp > 3 || n > max)
	return (-1);
    *sp = s;
    return (n);
}

/* tz_hms - [+-]hh[:mm[:ss]] as seconds, with at most max_hours */
static int tz_hms(const char **sp, int max_hours, long *secs)
{
    const char *s = *sp;
    int     sign = 1, h, m = 0, x = 0;

    if (*s == '+' || *s == '-')
	sign = *s++ == '-' ? -1 : 1;
    if ((h = tz_number(&s, max_hours)) < 0)
	return (-1);
    if (*s == ':') {
	s++;
	if ((m = tz_number(&s, 59)) < 0)
	    return (-1);
	if (*s == ':') {
	    s++;
	    if ((x = tz_number(&s, 59)) < 0)
		return (-1);
	}
    }
    *secs = sign * (h * 3600L + m * 60L + x);
    *sp = s;
    return (0);
}

static int tz_alpha(int c)
{
    return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'));
}

static int tz_alnum(int c)
{
    return (tz_alpha(c) || (c >= '0' && c <= '9'));
}

/* tz_abbr - skip an abbreviation: three letters or more, or <...> */
static int tz_abbr(const char **sp)
{
    const char *s = *sp, *start;

    if (*s == '<') {
	for (start = ++s; tz_alnum(*s) || *s == '+' || *s == '-'; s++)
	     /* void */ ;
	if (*s != '>' || s - start < 3)
	    return (-1);
	*sp = s + 1;
    } else {
	for (start = s; tz_alpha(*s); s++)
	     /* void */ ;
	if (s - start < 3)
	    return (-1);
	*sp = s;
    }
    return (0);
}

/* tz_rule - Jn, n or Mm.w.d, then /time (default 02:00; RFC 8536: +-167h) */
static int tz_rule(const char **sp, TZ_RULE *r)
{
    const char *s = *sp;

    r->week = r->month = 0;
    r->secs = 7200;
    if (*s == 'J') {
	s++;
	r->kind = 'J';
	if ((r->day = tz_number(&s, 365)) < 1)
	    return (-1);
    } else if (*s == 'M') {
	s++;
	r->kind = 'M';
	if ((r->month = tz_number(&s, 12)) < 1 || *s++ != '.'
	    || (r->week = tz_number(&s, 5)) < 1 || *s++ != '.'
	    || (r->day = tz_number(&s, 6)) < 0)
	    return (-1);
    } else {
	r->kind = 'D';
	if ((r->day = tz_number(&s, 365)) < 0)
	    return (-1);
    }
    if (*s == '/') {
	s++;
	if (tz_hms(&s, 167, &r->secs) < 0)
	    return (-1);
    }
    *sp = s;
    return (0);
}

/*
 * tz_posix - std offset [dst [offset] ,start[/time],end[/time]]. POSIX
 * offsets count west, ours east. A zone with DST must give its rules:
 * zic always writes them, and the default is implementation-defined.
 */
static int tz_posix(TZ_ZONE *z, const char *s)
{
    long    off;

    if (tz_abbr(&s) < 0 || tz_hms(&s, 24, &off) < 0)
	return (-1);
    z->std_off = -off;
    z->has_dst = 0;
    if (*s == 0)
	return (0);
    if (tz_abbr(&s) < 0)
	return (-1);
    z->dst_off = z->std_off + 3600;
    if (*s != ',' && *s != 0) {
	if (tz_hms(&s, 24, &off) < 0)
	    return (-1);
	z->dst_off = -off;
    }
    if (*s++ != ',' || tz_rule(&s, &z->dst_start) < 0
	|| *s++ != ',' || tz_rule(&s, &z->dst_end) < 0 || *s != 0)
	return (-1);
    z->has_dst = 1;
    return (0);
}

 /*
  * The TZif file (RFC 8536).
  */

static int tz_error(STRBUF *why, const char *name, const char *fmt,...)
	    __attribute__((format(printf, 3, 4)));

/* tz_quote - a name for a message: at most 64 bytes, printable */
static void tz_quote(STRBUF *why, const char *name)
{
    size_t  i;

    sb_putc(why, '"');
    for (i = 0; name[i] && i < 64; i++)
	sb_putc(why, name[i] > ' ' && name[i] < 127 ? name[i] : '?');
    sb_puts(why, name[i] ? "...\"" : "\"");
}

/* tz_error - time zone "name": why; returns -1 */
static int tz_error(STRBUF *why, const char *name, const char *fmt,...)
{
    va_list ap;

    sb_puts(why, "time zone ");
    tz_quote(why, name);
    sb_puts(why, ": ");
    va_start(ap, fmt);
    sb_vprintf(why, fmt, ap);
    va_end(ap);
    return (-1);
}

static uint32_t tz_be32(const unsigned char *p)
{
    return ((uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3]);
}

static int64_t tz_s32(const unsigned char *p)
{
    uint32_t u = tz_be32(p);

    return (u > INT32_MAX ? (int64_t) u - 4294967296 : (int64_t) u);
}

static int64_t tz_s64(const unsigned char *p)
{
    uint64_t u = (uint64_t) tz_be32(p) << 32 | tz_be32(p + 4);

    return (u > INT64_MAX ? -(int64_t) ~u - 1 : (int64_t) u);
}

/*
 * tz_head - the header at data[pos] and the size of its data block (with
 * tsize-byte times), checked against the len bytes of the file.
 */
static int tz_head(const char *name, const unsigned char *data, size_t len, size_t pos,
		           size_t tsize, TZ_HEAD *h, STRBUF *why)
{
    const unsigned char *p = data + pos;
    uint32_t *count[6] = {&h->isutcnt, &h->isstdcnt, &h->leapcnt,
    &h->timecnt, &h->typecnt, &h->charcnt};
    int     i;

    if (len - pos < TZ_HEAD_SIZE || memcmp(p, "TZif", 4) != 0)
	return (tz_error(why, name, tsize == 8 ? "truncated (no 64-bit header)"
			 : "truncated header"));
    for (i = 0; i < 6; i++)
	if ((*count[i] = tz_be32(p + 20 + 4 * i)) > len)
	    return (tz_error(why, name, "count %lu exceeds the file size (%lu bytes)",
			     (unsigned long) *count[i], (unsigned long) len));
    if (h->leapcnt)
	return (tz_error(why, name, "has leap second records (a right/ zone), "
			 "which are not supported"));
    if (h->typecnt == 0)
	return (tz_error(why, name, "no local time type"));
    if ((h->isutcnt && h->isutcnt != h->typecnt) || (h->isstdcnt && h->isstdcnt != h->typecnt))
	return (tz_error(why, name, "UT/standard indicator counts do not match the types"));
    h->size = h->timecnt * (tsize + 1) + h->typecnt * 6 + h->charcnt
	+ h->isstdcnt + h->isutcnt;
    if (h->size > len - pos - TZ_HEAD_SIZE)
	return (tz_error(why, name, "truncated (%lu bytes, the data needs %lu)",
			 (unsigned long) len, (unsigned long) (pos + TZ_HEAD_SIZE + h->size)));
    return (0);
}

/*
 * tz_block - the transitions of a data block, as changes of offset; the
 * rule after the last is, until a footer says otherwise, its offset.
 */
static int tz_block(const char *name, TZ_ZONE *z, const TZ_HEAD *h, const unsigned char *p,
		            size_t tsize, STRBUF *why)
{
    const unsigned char *idx = p + h->timecnt * tsize, *types = idx + h->timecnt;
    int64_t t, prev_t = 0, utoff;
    long    prev;
    uint32_t i;

    for (i = 0; i < h->typecnt; i++) {
	utoff = tz_s32(types + 6 * i);
	if (utoff < TZ_MIN_UTOFF || utoff > TZ_MAX_UTOFF)
	    return (tz_error(why, name, "local time type %lu: UT offset %ld out of range",
			     (unsigned long) i, (long) utoff));
    }
    z->at = xmalloc(h->timecnt * sizeof(*z->at));
    z->off = xmalloc(h->timecnt * sizeof(*z->off));
    prev = z->off0 = (long) tz_s32(types);
    for (i = 0; i < h->timecnt; i++) {
	t = tsize == 8 ? tz_s64(p + 8 * i) : tz_s32(p + 4 * i);
	if (i > 0 && t <= prev_t)
	    return (tz_error(why, name, "transition %lu is not after the one before",
			     (unsigned long) i));
	if (idx[i] >= h->typecnt)
	    return (tz_error(why, name, "transition %lu: no local time type %u",
			     (unsigned long) i, idx[i]));
	if ((long) tz_s32(types + 6 * idx[i]) != prev) {
	    prev = (long) tz_s32(types + 6 * idx[i]);
	    z->at[z->count] = t;
	    z->off[z->count++] = prev;
	}
	prev_t = t;
    }
    z->has_last = h->timecnt > 0;
    z->last = prev_t;
    z->std_off = prev;
    z->has_dst = 0;
    return (0);
}

/* tz_footer - the TZ string between newlines after the 64-bit data */
static int tz_footer(const char *name, TZ_ZONE *z, const unsigned char *p, size_t left,
		             STRBUF *why)
{
    const unsigned char *end;
    char   *tz;
    size_t  i, len;
    int     rc = 0;

    if (left == 0 || p[0] != '\n' || (end = memchr(p + 1, '\n', left - 1)) == NULL)
	return (tz_error(why, name, "truncated (no footer)"));
    if ((len = (size_t) (end - p - 1)) == 0)
	return (0);
    for (i = 1; i <= len; i++)
	if (p[i] < ' ' || p[i] > '~')
	    return (tz_error(why, name, "the footer is not a TZ string"));
    tz = xstrndup((const char *) p + 1, len);
    if (tz_posix(z, tz) < 0)
	rc = tz_error(why, name, "bad TZ string \"%.64s\" in the footer", tz);
    free(tz);
    return (rc);
}

/* tz_parse - the zone of a TZif file (any version), data from 64-bit times when present */
static int tz_parse(const char *name, TZ_ZONE *z, const unsigned char *data, size_t len,
		            STRBUF *why)
{
    TZ_HEAD h;
    size_t  pos;

    if (len < 5 || memcmp(data, "TZif", 4) != 0)
	return (tz_error(why, name, "not a TZif file"));
    if (data[4] != 0 && data[4] < '2')
	return (tz_error(why, name, "unknown TZif version 0x%02x", data[4]));
    if (tz_head(name, data, len, 0, 4, &h, why) < 0)
	return (-1);
    if (data[4] == 0)
	return (tz_block(name, z, &h, data + TZ_HEAD_SIZE, 4, why));
    pos = TZ_HEAD_SIZE + h.size;		/* skip the 32-bit data */
    if (tz_head(name, data, len, pos, 8, &h, why) < 0
	|| tz_block(name, z, &h, data + pos + TZ_HEAD_SIZE, 8, why) < 0)
	return (-1);
    pos += TZ_HEAD_SIZE + h.size;
    return (tz_footer(name, z, data + pos, len - pos, why));
}

 /*
  * Loading and the process-wide table.
  */

/* tz_name_ok - [A-Za-z0-9/_+-.], at most 255 bytes, no "..", no leading '/' or '.' */
static int tz_name_ok(const char *name)
{
    size_t  len = strlen(name), i;

    if (len == 0 || len > TZ_MAX_NAME || name[0] == '/' || name[0] == '.'
	|| strstr(name, "..") != NULL)
	return (0);
    for (i = 0; i < len; i++)
	if (!tz_alnum(name[i]) && strchr("/_+-.", name[i]) == NULL)
	    return (0);
    return (1);
}

/* tz_read - at most max + 1 bytes of an open file; -1 with errno */
static ssize_t tz_read(int fd, unsigned char *buf, size_t max)
{
    size_t  len = 0;
    ssize_t n;

    while (len <= max) {
	if ((n = read(fd, buf + len, max + 1 - len)) < 0 && errno == EINTR)
	    continue;
	if (n < 0)
	    return (-1);
	if (n == 0)
	    break;
	len += (size_t) n;
    }
    return ((ssize_t) len);
}

static void tz_free(TZ_ZONE *z)
{
    free(z->at);
    free(z->off);
    free(z->name);
    free(z);
}

/* tz_load - read and check the zone file of name under $TZDIR or the default */
static TZ_ZONE *tz_load(const char *name, STRBUF *why)
{
    const char *dir = secure_getenv("TZDIR");
    STRBUF  path = STRBUF_INIT;
    unsigned char *data = NULL;
    TZ_ZONE *z = NULL;
    struct stat st;
    ssize_t len = -1;
    int     fd;

    sb_printf(&path, "%s/%s", dir && *dir ? dir : TZ_DEFAULT_DIR, name);
    if ((fd = open(path.s, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {	/* a FIFO: no wait */
	if (errno == ENOENT || errno == ENOTDIR)
	    sb_printf(why, "unknown time zone \"%s\"", name);
	else
	    tz_error(why, name, "%s: %s", path.s, strerror(errno));
    } else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
	tz_error(why, name, "%s is not a zone file", path.s);
    } else {
	data = xmalloc(TZ_MAX_FILE + 1);
	if ((len = tz_read(fd, data, TZ_MAX_FILE)) < 0)
	    tz_error(why, name, "%s: %s", path.s, strerror(errno));
	else if (len > TZ_MAX_FILE)
	    tz_error(why, name, "%s is larger than %d bytes", path.s, TZ_MAX_FILE);
	else {
	    z = xcalloc(1, sizeof(*z));
	    if (tz_parse(name, z, data, (size_t) len, why) < 0) {
		tz_free(z);
		z = NULL;
	    } else
		z->name = xstrdup(name);
	}
    }
    if (fd >= 0)
	close(fd);
    free(data);
    sb_free(&path);
    return (z);
}

static unsigned tz_hash(const char *name)
{
    unsigned h = 2166136261u;

    while (*name)
	h = (h ^ (unsigned char) *name++) * 16777619u;
    return (h % TZ_BUCKETS);
}

/* tz_find - the loaded zone of name, or NULL; the caller holds tz_lock */
static TZ_ZONE *tz_find(const char *name)
{
    TZ_ZONE *z;

    for (z = tz_table[tz_hash(name)]; z; z = z->next)
	if (strcmp(z->name, name) == 0)
	    return (z);
    return (NULL);
}

/*
 * tz_get - a zone from the table, else loaded outside the lock (another
 * thread loading the same zone meanwhile wins, and ours is dropped).
 * Failures are not kept: a zone installed later is found.
 */
const TZ_ZONE *tz_get(const char *name, STRBUF *why)
{
    TZ_ZONE *z, *fresh;
    unsigned h;

    if (!tz_name_ok(name)) {
	sb_puts(why, "invalid time zone name ");
	tz_quote(why, name);
	return (NULL);
    }
    pthread_mutex_lock(&tz_lock);
    z = tz_find(name);
    pthread_mutex_unlock(&tz_lock);
    if (z != NULL || (fresh = tz_load(name, why)) == NULL)
	return (z);
    pthread_mutex_lock(&tz_lock);
    if ((z = tz_find(name)) == NULL) {
	h = tz_hash(name);
	fresh->next = tz_table[h];
	tz_table[h] = z = fresh;
	fresh = NULL;
    }
    pthread_mutex_unlock(&tz_lock);
    if (fresh)
	tz_free(fresh);
    return (z);
}
