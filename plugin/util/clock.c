/*
 * clock.c - the time crier runs on (see clock.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

static time_t clock_skew;		/* CRIER_NOW minus the real time at start */

/* days_from_civil - days since 1970-01-01 of a proleptic Gregorian date */
static long days_from_civil(long y, unsigned m, unsigned d)
{
    long    era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned) (y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (era * 146097 + (long) doe - 719468);
}

/*
 * clock_parse_rfc3339 - YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) to
 * seconds since the epoch; -1 when it is not that.
 */
int     clock_parse_rfc3339(const char *s, time_t *t)
{
    int     y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
    const char *p;
    long    off = 0;

    if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6
	|| n != 19 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
	return (-1);
    p = s + n;
    if (*p == '.')
	for (p++; *p >= '0' && *p <= '9'; p++)
	     /* fraction ignored */ ;
    if (*p == 'Z' || *p == 'z')
	p++;
    else if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2
	     && strlen(p) == 6) {
	off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
	p += 6;
    } else
	return (-1);
    if (*p)
	return (-1);
    *t = (time_t) (days_from_civil(y, (unsigned) mo, (unsigned) d) * 86400L + h * 3600L
		   + mi * 60L + sec - off);
    return (0);
}

/* clock_init - read CRIER_NOW once, at start */
int     clock_init(STRBUF *why)
{
    const char *now = getenv("CRIER_NOW");
    time_t  t;

    if (now == NULL || *now == 0)
	return (0);
    if (clock_parse_rfc3339(now, &t) < 0) {
	sb_printf(why, "CRIER_NOW=\"%s\" is not an RFC 3339 instant "
		  "(e.g. 2027-03-14T08:59:50-07:00)", now);
	return (-1);
    }
    clock_skew = t - time(NULL);
    return (0);
}

time_t  clock_now(void)
{
    return (time(NULL) + clock_skew);
}

/* clock_format - RFC 3339 with the given UTC offset in seconds */
void    clock_format(time_t t, long offset, STRBUF *out)
{
    time_t  local = t + offset;
    struct tm tm;
    long    a = offset < 0 ? -offset : offset;

    gmtime_r(&local, &tm);
    sb_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
	      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (offset == 0)
	sb_putc(out, 'Z');
    else
	sb_printf(out, "%c%02ld:%02ld", offset < 0 ? '-' : '+', a / 3600, (a % 3600) / 60);
}
