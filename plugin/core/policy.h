/*
 * policy.h - the SMTP access policy service: what Postfix asks, and what
 * crier answers.
 *
 * Postfix's smtpd sends name=value lines ended by an empty line and waits
 * for one "action=..." line and an empty line, on a connection it keeps
 * and reuses (SMTPD_POLICY_README). policy_request.c reads such requests
 * from a byte stream; policy.c decides; throttle.c keeps the token buckets
 * of the rate limit. All three are pure: the socket is crierd/policyd.c.
 */
#ifndef CRIER_POLICY_H
#define CRIER_POLICY_H

#include <stddef.h>

#include "conf.h"
#include "strbuf.h"

/* Limits of the reader: far above what Postfix sends (under 1 KiB). */
#define POLICY_LINE_MAX		4096
#define POLICY_REQUEST_MAX	16384
#define POLICY_ATTRS_MAX	128

/* The attributes crier uses; the others are read and ignored. */
typedef struct policy_req {
    const char *request;		/* smtpd_access_policy */
    const char *protocol_state;		/* RCPT, DATA, ... */
    const char *client_address;
    const char *client_name;
    const char *sasl_username;
    const char *sender;
    const char *recipient;
    const char *queue_id;
} POLICY_REQ;

/* policy_request.c */
#define POLICY_MORE	0		/* no whole request yet: read on */
#define POLICY_READY	1		/* one request in *req */
#define POLICY_BAD	(-1)		/* not the protocol: close the connection */
int     policy_parse(char *buf, size_t len, POLICY_REQ *req, size_t *used, STRBUF *why);

/* throttle.c: a token bucket per submitter */
typedef struct throttle THROTTLE;
THROTTLE *throttle_create(void);
int     throttle_take(THROTTLE *t, const char *key, long per_minute, double now);
size_t  throttle_size(const THROTTLE *t);
void    throttle_client_key(const char *client, int v6prefix, STRBUF *key);
void    throttle_free(THROTTLE *t);

/* policy.c */
typedef struct policy POLICY;
POLICY *policy_create(const CONF *cf, STRBUF *why);
void    policy_free(POLICY *p);
void    policy_describe(const POLICY *p, STRBUF *out);
int     policy_nobody_submits(const POLICY *p);

/*
 * Who submitted a message, as Postfix tells it: the policy service from
 * its request, the milter from its macros. A local submission (sendmail,
 * pickup) has no client address, and passes only by its local user.
 */
typedef struct policy_who {
    const char *client_address;		/* NULL or "" for a local submission */
    const char *sasl_username;
    const char *sender;			/* envelope */
    const char *local_user;		/* the login of a local submission */
} POLICY_WHO;
int     policy_submitter(const POLICY *p, const POLICY_WHO *who, STRBUF *refusal);

#define POLICY_DUNNO	0		/* not crier's business, or allowed */
#define POLICY_REFUSE	1		/* REJECT: not allowed, or no such address */
#define POLICY_THROTTLE	2		/* DEFER: over the rate limit */
int     policy_decide(const POLICY *p, THROTTLE *t, const POLICY_REQ *req, double now,
		              STRBUF *action, STRBUF *reason);

#endif
