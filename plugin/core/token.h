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
#include <time.h>

#include "strbuf.h"

#define TOKEN_KEY_MIN	32		/* bytes */
#define TOKEN_KEY_MAX	1024

#define TOKEN_MUTE	'm'
#define TOKEN_UNMUTE	'u'

typedef struct token_key {
    unsigned char bytes[TOKEN_KEY_MAX];
    size_t  len;
} TOKEN_KEY;

int     token_key_load(const char *path, TOKEN_KEY *key, STRBUF *why);
void    token_make(const TOKEN_KEY *key, int action, const char *user, const char *notif,
		           time_t issued, STRBUF *out);
int     token_check(const TOKEN_KEY *key, const char *token, int *action, STRBUF *user,
		            STRBUF *notif, time_t *issued, STRBUF *why);

#endif
