/*
 * token.h - signed self-service tokens.
 *
 * A token names an action (mute, ...), a user and a notification, and the
 * time it was issued, signed with HMAC-SHA-256 under the key file of
 * crier.conf (libsodium). A From: line proves nothing; a valid token proves
 * that crier itself wrote that link for that user. Tokens are printable
 * ASCII without spaces, safe in a mailto: link and a Subject.
 */
#ifndef CRIER_TOKEN_H
#define CRIER_TOKEN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "strbuf.h"

#define TOKEN_KEY_MIN	32		/* bytes */
#define TOKEN_KEY_MAX	1024

#define TOKEN_MUTE	'm'
#define TOKEN_UNMUTE	'u'
#define TOKEN_SIGNIN	's'		/* the panel's link mailed on request: once, 15 minutes */
#define TOKEN_MANAGE	'p'		/* "Manage your notifications" in mail: 60 days */
#define TOKEN_DIGEST	'd'		/* one-click off for a digest: NOTIF is its frequency */

typedef struct token_key {
    unsigned char bytes[TOKEN_KEY_MAX];
    size_t  len;
} TOKEN_KEY;

int     token_key_load(const char *path, TOKEN_KEY *key, STRBUF *why);
void    token_make(const TOKEN_KEY *key, int action, const char *user, const char *notif,
		           time_t issued, STRBUF *out);
int     token_check(const TOKEN_KEY *key, const char *token, int *action, STRBUF *user,
		            STRBUF *notif, time_t *issued, STRBUF *why);

/*
 * Bounce ids: the address extension of a notification's envelope sender,
 * "b1.ID.MAC" (ID the outbox number, MAC 10 bytes of HMAC-SHA-256 over
 * the ID and the lower-cased recipient, in hex: one case, as some mail
 * systems fold local parts). Checking needs the recipient, which crierd
 * keeps for each notification it sent.
 */
#define TOKEN_BOUNCE_MAX	48	/* bytes of a bounce id, at most */
void    token_bounce_make(const TOKEN_KEY *key, uint64_t id, const char *rcpt, STRBUF *out);
int     token_bounce_id(const char *token, uint64_t *id);
int     token_bounce_check(const TOKEN_KEY *key, const char *token, const char *rcpt);

#endif
