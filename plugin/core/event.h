/*
 * event.h - events: the "Name: value" block of an event mail.
 *
 * event_parse() reads the field block (pure, no MIME: the fuzz target);
 * event_parse_mail() finds the block in a whole RFC 5322 message (first
 * text/plain part, any transfer encoding and charset, through GMime) and
 * then calls event_parse(). Both check what every event needs (Event,
 * Event-Id, Partner) and say exactly what is wrong; whether the event type
 * exists is for the matcher, which knows the catalog.
 */
#ifndef CRIER_EVENT_H
#define CRIER_EVENT_H

#include <stddef.h>

#include "strbuf.h"

#define EVENT_MAX_FIELDS	64
#define EVENT_MAX_VALUE		4000	/* bytes, after unfolding */
#define EVENT_MAX_ID		200

typedef struct event_field {
    char   *name;			/* as written, e.g. Source-Type */
    char   *key;			/* rules.d name, e.g. source_type */
    char   *value;			/* UTF-8, unfolded, trimmed */
} EVENT_FIELD;

typedef struct event {
    const char *type;			/* rules.d event type (key form) */
    const char *id;			/* Event-Id */
    const char *partner;		/* Partner */
    EVENT_FIELD *fields;
    size_t  nfields;
} EVENT;

int     event_parse(const char *text, size_t len, EVENT **ev, STRBUF *why);
int     event_parse_mail(const char *msg, size_t len, EVENT **ev, STRBUF *why);
const char *event_get(const EVENT *ev, const char *key);
void    event_free(EVENT *ev);
void    event_pack(const EVENT *ev, const char *qid, long received, STRBUF *out);
EVENT  *event_unpack(const void *rec, size_t len, long *received);

#endif
