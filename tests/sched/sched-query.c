/*
 * sched-query.c - answer schedule queries on stdin, one line each, for the
 * comparison with an independent RFC 5545 implementation (diff.py).
 *
 * Input lines are "RRULE<TAB>ZONE<TAB>AFTER" (AFTER a decimal time_t), or
 * "CHECK<TAB>RRULE". Output is one line per input line: the decimal time_t
 * of sched_next(), "OK" for an accepted rule, or "ERR <reason>". Output is
 * fully buffered: the whole batch goes through one pipe, so this is what
 * keeps several hundred thousand queries quick.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"
#include "strbuf.h"

/* put_reason - "ERR <reason>", with any line break flattened */
static void put_reason(STRBUF *why)
{
    const char *cp;

    fputs("ERR ", stdout);
    for (cp = sb_str(why); *cp; cp++)
	putchar(*cp == '\n' || *cp == '\r' ? ' ' : *cp);
    if (*sb_str(why) == 0)
	fputs("(no reason given)", stdout);
    putchar('\n');
}

/* query - one input line, without its newline */
static void query(char *line, STRBUF *why)
{
    char   *rrule = line, *zone, *arg, *end;
    long long after;
    time_t  next = 0;

    sb_reset(why);
    if ((zone = strchr(rrule, '\t')) == NULL) {
	printf("ERR sched-query: malformed input line\n");
	return;
    }
    *zone++ = 0;
    if (strcmp(rrule, "CHECK") == 0) {
	if (sched_rrule_check(zone, why) == 0)
	    printf("OK\n");
	else
	    put_reason(why);
	return;
    }
    if ((arg = strchr(zone, '\t')) == NULL) {
	printf("ERR sched-query: malformed input line\n");
	return;
    }
    *arg++ = 0;
    errno = 0;
    after = strtoll(arg, &end, 10);
    if (errno != 0 || end == arg || *end != 0) {
	printf("ERR sched-query: bad time \"%s\"\n", arg);
	return;
    }
    if (sched_next(rrule, zone, (time_t) after, &next, why) == 0)
	printf("%lld\n", (long long) next);
    else
	put_reason(why);
}

int     main(void)
{
    STRBUF  why = STRBUF_INIT;
    char   *line = NULL;
    size_t  size = 0;
    ssize_t len;

    while ((len = getline(&line, &size, stdin)) >= 0) {
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
	    line[--len] = 0;
	query(line, &why);
    }
    free(line);
    sb_free(&why);
    if (fflush(stdout) != 0 || ferror(stdout)) {
	perror("sched-query: write");
	return (1);
    }
    return (0);
}
