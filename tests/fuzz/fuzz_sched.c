/*
 * fuzz_sched.c - libFuzzer target for digest schedules: the RRULE check
 * and sched_next() over any rule, zone name and instant.
 *
 * The input is three lines: a zone name, a time_t, a rule. Beyond crashes,
 * leaks and undefined behaviour, it traps on a broken promise: a rule that
 * sched_rrule_check() accepts, in a zone that exists, must have a next
 * occurrence, strictly after the instant and at most 11 years later. Built
 * and run briefly by tests/fuzz/run.sh with clang -fsanitize=fuzzer.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *buf = malloc(size + 1), *zone, *when, *rule;
    STRBUF  why = STRBUF_INIT;
    long long after;
    time_t  next;
    int     ok;

    memcpy(buf, data, size);
    buf[size] = 0;
    zone = buf;
    if ((when = strchr(zone, '\n')) == NULL || (rule = strchr(++when, '\n')) == NULL) {
	free(buf);
	return (0);
    }
    when[-1] = 0;
    *rule++ = 0;
    after = strtoll(when, NULL, 10) % 253402300799LL;	/* before the year 10000 */
    ok = sched_rrule_check(rule, &why) == 0 && sched_zone_valid(zone);
    sb_reset(&why);
    if (sched_next(rule, zone, (time_t) after, &next, &why) == 0) {
	if ((long long) next <= after)
	    __builtin_trap();
    } else if (ok && after > 946684800 && after < 253086652800LL) {
	__builtin_trap();			/* accepted, 2000..9990, yet no answer */
    }
    if (ok && (long long) next - after > 11LL * 366 * 86400 && after > 946684800)
	__builtin_trap();
    sb_free(&why);
    free(buf);
    return (0);
}
