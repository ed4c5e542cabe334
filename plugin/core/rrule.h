/*
 * rrule.h - the digest schedule language: a narrow subset of the RFC 5545
 * recurrence rule (RRULE), parsed strictly, checked, and expanded in
 * floating local time.
 *
 * A digest schedule needs little of RFC 5545, and every part accepted here
 * is expanded by this module exactly as the RFC says (crier-rules(5) lists
 * the subset; tests/sched/diff.py compares it with python-dateutil). Parts
 * outside the subset are refused with a message that names them, never
 * half-understood. Times are "local seconds": a wall-clock time written as
 * seconds since 1970-01-01T00:00 as if it were UTC; schedule.c turns them
 * into instants in a zone.
 *
 * DTSTART is fixed: Monday 2000-01-03 at 00:00:00 local time. It supplies
 * what a rule leaves out and the phase of INTERVAL.
 */
#ifndef CRIER_RRULE_H
#define CRIER_RRULE_H

#include <stdint.h>

#include "strbuf.h"

#define RR_MAX_TEXT	512		/* longest rule accepted */
#define RR_MAX_LIST	64		/* values in one BYxxx list */

/* Parts of a rule, for what was given and for messages. */
typedef enum {
    RR_FREQ, RR_INTERVAL, RR_BYSECOND, RR_BYMINUTE, RR_BYHOUR, RR_BYDAY,
    RR_BYMONTHDAY, RR_BYMONTH, RR_BYSETPOS, RR_WKST, RR_NPARTS
} RR_PART;

/* Frequencies, finest first. */
typedef enum {
    RR_MINUTELY, RR_HOURLY, RR_DAILY, RR_WEEKLY, RR_MONTHLY, RR_YEARLY
} RR_FREQ_T;

/* A parsed rule, with the defaults of DTSTART filled in. Read by rrule.c only. */
typedef struct rrule {
    RR_FREQ_T freq;
    int     interval;
    int     wkst;			/* 0 = Monday .. 6 = Sunday */
    int     second;			/* the one BYSECOND value, or 0 */
    uint64_t tod[23];			/* minutes of the day that occur (1440 bits) */
    int     ntod;			/* how many */
    uint16_t months;			/* bits 1..12; 0: any month */
    uint32_t mday_pos;			/* BYMONTHDAY bits 1..31 */
    uint32_t mday_neg;			/* bit n: BYMONTHDAY=-n */
    uint8_t wdays;			/* BYDAY without ordinal, bit 0 = Monday */
    int     nnth;			/* BYDAY with ordinal */
    struct {
	signed char n;
	signed char wd;
    }       nth[RR_MAX_LIST];
    int     nsetpos;
    short   setpos[RR_MAX_LIST];
    unsigned given;			/* bit (1 << RR_PART) per part written */
    unsigned short span[RR_NPARTS][2];	/* where each part is in the text */
} RRULE;

int     rrule_parse(const char *text, RRULE *rule, STRBUF *why);
int     rrule_check(const char *text, STRBUF *why);
int     rrule_next_local(const RRULE *rule, int64_t from, int64_t *occ);

#endif
