/*
 * selfmail.h - what a person's mail to the request address asks.
 *
 * selfmail_parse() reads the mail (GMime): who it is from, whether it may
 * be answered at all (RFC 3834: never bounces, auto-submitted mail, list
 * traffic or crier's own mail), and its commands: the Subject when it is
 * one ("Re:" and the like taken off), else the first lines of the first
 * text part, quoted lines and the signature left out. Pure; crierd's
 * selfservice.c carries the commands out.
 */
#ifndef CRIER_SELFMAIL_H
#define CRIER_SELFMAIL_H

#include <stddef.h>

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

#endif
