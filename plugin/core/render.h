/*
 * render.h - the mail crier writes: one notification message.
 *
 * Pure: everything the message shows comes in RENDER_IN (the caller signs
 * tokens, picks the Message-ID and the date), so a golden file pins the
 * output. GMime composes the message: RFC 2047 for non-ASCII headers,
 * quoted-printable UTF-8 for the body, CRLF line ends for SMTP.
 */
#ifndef CRIER_RENDER_H
#define CRIER_RENDER_H

#include <stddef.h>
#include <time.h>

#include "event.h"
#include "strbuf.h"

typedef struct render_notif {
    const char *id;			/* PROFILE/NAME or NAME */
    int     kind;			/* 'd' default, 'c' custom */
    const char *frequency;
    const char *where;			/* the conditions, for people */
    const char *mute_token;		/* signed, mutes exactly this one */
} RENDER_NOTIF;

/*
 * The panel's links (web_base_url set): one-click List-Unsubscribe
 * (RFC 8058) and "Manage your notifications"; all NULL: none.
 */
typedef struct render_web {
    const char *base_url;		/* web_base_url, ending in '/' */
    const char *manage_token;		/* the recipient's signed manage token */
} RENDER_WEB;

typedef struct render_in {
    const EVENT *ev;
    const char *event_title;		/* from the catalog */
    const char *recipient;
    const char *sender;			/* From: */
    const char *request_address;	/* where mute links point */
    const char *message_id;		/* without <> */
    time_t  date;
    const RENDER_NOTIF *notifs;
    size_t  nnotifs;
    RENDER_WEB web;
} RENDER_IN;

/* One item of a digest: an event, and the notification that put it there. */
typedef struct render_item {
    const EVENT *ev;
    const char *event_title;
    const char *notif;
} RENDER_ITEM;

typedef struct render_digest {
    const char *recipient;
    const char *sender;
    const char *request_address;
    const char *message_id;
    time_t  date;
    const char *frequency;		/* name, for X-Crier-Digest */
    const char *freq_title;		/* "Daily" */
    const char *period;			/* "30 Nov", the recipient's local date */
    const RENDER_ITEM *items;		/* by event type, notification, arrival */
    size_t  nitems;
    size_t  more;			/* items left for the next message */
    const RENDER_NOTIF *notifs;		/* every notification concerned */
    size_t  nnotifs;
    RENDER_WEB web;
    const char *digest_token;		/* several notifications and the panel on: signed,
					 * mutes all of the frequency (one: its mute token) */
} RENDER_DIGEST;

/* An answer of self-service to a person's mail (RFC 3834 auto-replied). */
typedef struct render_reply {
    const char *recipient;
    const char *sender;
    const char *subject;
    const char *message_id;		/* without <> */
    const char *in_reply_to;		/* the request's Message-ID with <>, or NULL */
    time_t  date;
    const STRBUF *text;
} RENDER_REPLY;

int     render_notification(const RENDER_IN *in, STRBUF *out, STRBUF *why);
void    render_reply(const RENDER_REPLY *in, STRBUF *out);
void    render_digest_item(const RENDER_ITEM *it, STRBUF *out);
int     render_digest(const RENDER_DIGEST *in, STRBUF *out, STRBUF *why);
void    render_message_id(const char *event_id, const char *recipient, const char *frequency,
			          const char *sender, STRBUF *out);

#endif
