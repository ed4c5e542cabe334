/*
 * selfmail.h - what a person's mail to the request address asks.
 *
 * selfmail_parse() reads the mail (GMime): who it is from, whether it may
 * be answered at all (RFC 3834: never bounces, auto-submitted mail, list
 * traffic or crier's own mail), and its commands: the Subject when it is
 * one ("Re:" and the like taken off), else the first lines of the first
 * text part, quoted lines and the signature left out. Pure; crierd's
 * selfservice.c carries the commands out.
 *
 * selfmail_quote() is the most of a request an answer may repeat, and a
 * SELF_QUOTA counts the answers each address got today (UTC), so that a
 * forged From: cannot make crier mail anybody much, nor its own words.
 */
#ifndef CRIER_SELFMAIL_H
#define CRIER_SELFMAIL_H

#include <stddef.h>
#include <time.h>

#include "strbuf.h"

#define SELF_HELP	1
#define SELF_LIST	2
#define SELF_SEARCH	3
#define SELF_MUTE	4		/* NAME (asks to confirm) or TOKEN */
#define SELF_UNMUTE	5
#define SELF_CONFIRM	6		/* TOKEN */

#define SELF_MAX_CMDS	10

typedef struct self_cmd {
    int     verb;
    char   *arg;			/* "" when none */
} SELF_CMD;

typedef struct self_mail {
    char   *from;			/* From: address, or NULL */
    char   *message_id;		/* <...>, safe to repeat in a header, or NULL */
    const char *ignore;			/* why it gets no answer and no action, or NULL */
    SELF_CMD cmds[SELF_MAX_CMDS];
    size_t  ncmds;
    int     unknown;			/* a line that was no command */
} SELF_MAIL;

void    selfmail_parse(const char *msg, size_t len, const char *envelope_sender,
		               const char *own_address, SELF_MAIL *out);
void    selfmail_free(SELF_MAIL *sm);
int     selfmail_is_token(const char *arg);
void    selfmail_describe(const SELF_MAIL *sm, STRBUF *out);

#define SELF_QUOTE_MAX	40		/* characters of a request an answer repeats */
void    selfmail_quote(const char *text, STRBUF *out);

typedef struct self_quota SELF_QUOTA;

#define SELF_QUOTA_OK		0	/* answer, and it is counted */
#define SELF_QUOTA_DAY		1	/* the address had all its answers today */
#define SELF_QUOTA_PUZZLED	2	/* ... its "could not understand" today */
SELF_QUOTA *selfquota_create(void);
int     selfquota_take(SELF_QUOTA *q, const char *address, int puzzled, long per_day,
		               time_t now);
void    selfquota_free(SELF_QUOTA *q);

#endif
