/*
 * session.h - who is signed in to the panel: sessions kept in LMDB.
 *
 * A session is a random 256-bit id, the value of the cookie __Host-crier;
 * the store (STATE_DIR/web.lmdb, the web process's own) keys it by its
 * BLAKE2b hash, so a copy of the store gives no session away. Each holds
 * its user, when it began and was last seen, and its CSRF token, which
 * every POST of the session must carry. A session idle for SESSION_IDLE
 * is over. Kept on disk, sessions outlive a restart of the web process;
 * "sign out" ends one, "sign out everywhere" every session of the user
 * (a second table indexes them by user).
 */
#ifndef CRIER_SESSION_H
#define CRIER_SESSION_H

#include <time.h>

#include "strbuf.h"

#define SESSION_COOKIE	"__Host-crier"
#define SESSION_IDLE	(12 * 3600)	/* seconds without a request */
#define SESSION_TOUCH	60		/* seconds between updates of "last seen" */
#define SESSION_FILE	"web.lmdb"

#define SESSION_OK	0
#define SESSION_NONE	1		/* no such session, or it is over */

typedef struct sessions SESSIONS;

typedef struct session {
    STRBUF  user;
    STRBUF  csrf;
    time_t  created;
    time_t  seen;
    int     touched;			/* seen was moved on: send the cookie again */
} SESSION;

#define SESSION_INIT { STRBUF_INIT, STRBUF_INIT, 0, 0, 0 }

int     sessions_open(const char *state_dir, SESSIONS **out, STRBUF *why);
void    sessions_close(SESSIONS *ss);
int     session_create(SESSIONS *ss, const char *user, time_t now, STRBUF *cookie,
			           STRBUF *why);
int     session_find(SESSIONS *ss, const char *cookie, time_t now, SESSION *s, STRBUF *why);
int     session_csrf_ok(const SESSION *s, const char *given);
int     session_end(SESSIONS *ss, const char *cookie, STRBUF *why);
long    session_end_all(SESSIONS *ss, const char *user, STRBUF *why);
long    sessions_prune(SESSIONS *ss, time_t now, STRBUF *why);
void    session_free(SESSION *s);
void    session_cookie(const char *value, long max_age, STRBUF *out);

#endif
