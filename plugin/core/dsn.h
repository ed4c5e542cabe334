/*
 * dsn.h - delivery status notifications (RFC 3464), the bounces crier gets.
 *
 * dsn_parse() finds the message/delivery-status part of a whole message
 * (in a multipart/report, RFC 6522, or anywhere in its MIME tree but in a
 * returned message) through GMime, which undoes any transfer encoding, and
 * reads it with dsn_parse_status(): the per-message fields, then one group
 * of fields per recipient. Pure: no store, no log. Bounded: at most
 * DSN_MAX_TEXT bytes of the report, DSN_MAX_RCPTS recipients and
 * DSN_MAX_VALUE bytes per value; control characters become spaces, so a
 * value is safe in a log line and a table.
 */
#ifndef CRIER_DSN_H
#define CRIER_DSN_H

#include <stddef.h>

#include "strbuf.h"

#define DSN_MAX_TEXT	65536		/* bytes of the delivery-status part */
#define DSN_MAX_RCPTS	100
#define DSN_MAX_VALUE	1000		/* bytes of one value, unfolded */

/* One recipient's group; every string is "" when the report lacks it. */
typedef struct dsn_rcpt {
    char   *final_recipient;		/* the address, without "rfc822;" */
    char   *original_recipient;
    char   *action;			/* lower case: failed, delayed, delivered, ... */
    char   *status;			/* "5.1.1"; "" when missing or malformed */
    char   *diagnostic;			/* Diagnostic-Code without its type */
    char   *remote_mta;			/* without "dns;" */
} DSN_RCPT;

typedef struct dsn {
    char   *reporting_mta;		/* without "dns;" */
    DSN_RCPT *rcpts;
    size_t  nrcpts;
} DSN;

int     dsn_parse(const char *msg, size_t len, DSN **out, STRBUF *why);
int     dsn_parse_status(const char *text, size_t len, DSN **out, STRBUF *why);
const DSN_RCPT *dsn_pick(const DSN *d, const char *recipient);
int     dsn_failed(const DSN_RCPT *r);
int     dsn_hard(const DSN_RCPT *r);
int     dsn_success(const DSN_RCPT *r);
void    dsn_free(DSN *d);

#endif
