/*
 * clock.h - the time crier runs on: the system's, or one a test sets.
 *
 * With CRIER_NOW set (an RFC 3339 instant, e.g. 2027-03-14T08:59:50-07:00)
 * when a program starts, its clock starts at that instant and runs on from
 * it in real time. A testing aid: digests due at 09:00 can be checked
 * without waiting for 9 a.m.
 */
#ifndef CRIER_CLOCK_H
#define CRIER_CLOCK_H

#include <time.h>

#include "strbuf.h"

int     clock_init(STRBUF *why);
time_t  clock_now(void);
int     clock_parse_rfc3339(const char *s, time_t *t);
void    clock_format(time_t t, long offset, STRBUF *out);

#endif
