/*
 * session.c - panel sessions in STATE_DIR/web.lmdb (see session.h).
 *
 * Tables:
 *   sessions  BLAKE2b-256 of the id -> user, created, seen, CSRF token
 *   byuser    lower-cased user NUL hash -> nothing: a user's sessions
 *
 * Why a table and not signed stateless cookies: "sign out" must end that
 * one session on the server (a stolen cookie must stop working), the CSRF
 * token must belong to one session, and 12 hours idle needs "last seen",
 * which a cookie could only carry by being signed anew at each request.
 */
#include "config.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "pack.h"
#include "session.h"
#include "store.h"
#include "strutil.h"

#define SESSION_ID_BYTES	32
#define SESSION_CSRF_BYTES	24
#define SESSION_HASH		32

enum { SS_SESSIONS, SS_BYUSER, SS_COUNT };

static const STORE_TABLE ss_tables[SS_COUNT] = {
    {"sessions", 0},
    {"byuser", 0},
};

struct sessions {
    STORE  *st;
    MDB_dbi dbi[SS_COUNT];
};

int     sessions_open(const char *state_dir, SESSIONS **out, STRBUF *why)
{
    SESSIONS *ss = xcalloc(1, sizeof(SESSIONS));
    STRBUF  path = STRBUF_INIT;
    int     rc;

    *out = NULL;
    if (sodium_init() < 0) {
	sb_puts(why, "libsodium cannot initialise");
	free(ss);
	return (-1);
    }
    sb_printf(&path, "%s/%s", state_dir, SESSION_FILE);
    rc = store_mkdir(state_dir, why);
    if (rc == 0)
	rc = store_open(path.s, 0, &ss->st, why);
    if (rc == 0)
	rc = store_tables(ss->st, 1, ss_tables, SS_COUNT, ss->dbi, why);
    sb_free(&path);
    if (rc < 0) {
	sessions_close(ss);
	return (-1);
    }
    *out = ss;
    return (0);
}

void    sessions_close(SESSIONS *ss)
{
    if (ss == NULL)
	return;
    store_close(ss->st);
    free(ss);
}

void    session_free(SESSION *s)
{
    sb_free(&s->user);
    sb_free(&s->csrf);
}

static void b64(STRBUF *out, const unsigned char *data, size_t len)
{
    char    buf[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];

    sodium_bin2base64(buf, sizeof(buf), data, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sb_puts(out, buf);
}

/* id_hash - the key of a cookie value: -1 when it is not one of ours */
static int id_hash(const char *cookie, unsigned char hash[SESSION_HASH])
{
    unsigned char id[SESSION_ID_BYTES];
    size_t  n;

    if (cookie == NULL || strlen(cookie) > 64
	|| sodium_base642bin(id, sizeof(id), cookie, strlen(cookie), NULL, &n, NULL,
			     sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0
	|| n != SESSION_ID_BYTES)
	return (-1);
    crypto_generichash(hash, SESSION_HASH, id, sizeof(id), NULL, 0);
    return (0);
}

/* user_key - byuser's key: lower-cased user, NUL, hash */
static void user_key(STRBUF *k, const char *user, const unsigned char hash[SESSION_HASH])
{
    size_t  at = k->len;

    sb_puts(k, user);
    str_lower(k->s + at);
    sb_putc(k, 0);
    if (hash)
	sb_putn(k, hash, SESSION_HASH);
}

/* A session record to write, with its keys. */
typedef struct put {
    SESSIONS *ss;
    unsigned char hash[SESSION_HASH];
    STRBUF  rec;
    STRBUF  ukey;
} PUT;

static int put_work(MDB_txn *txn, void *ctx, STRBUF *why)
{
    PUT    *p = ctx;
    int     rc = store_put(p->ss->st, txn, p->ss->dbi[SS_SESSIONS], "sessions", p->hash,
			   SESSION_HASH, p->rec.s, p->rec.len, 0, why);

    if (rc == 0 && p->ukey.len)
	rc = store_put(p->ss->st, txn, p->ss->dbi[SS_BYUSER], "byuser", p->ukey.s, p->ukey.len,
		       "", 0, 0, why);
    return (rc);
}

static void pack_session(STRBUF *rec, const char *user, time_t created, time_t seen,
			         const char *csrf)
{
    pack_str(rec, user);
    pack_u64(rec, (uint64_t) created);
    pack_u64(rec, (uint64_t) seen);
    pack_str(rec, csrf);
}

/* session_create - a new session for user; the cookie's value in cookie */
int     session_create(SESSIONS *ss, const char *user, time_t now, STRBUF *cookie,
			           STRBUF *why)
{
    unsigned char id[SESSION_ID_BYTES], csrf[SESSION_CSRF_BYTES];
    STRBUF  csrf_text = STRBUF_INIT;
    PUT     p = {ss, {0}, STRBUF_INIT, STRBUF_INIT};
    int     rc;

    randombytes_buf(id, sizeof(id));
    randombytes_buf(csrf, sizeof(csrf));
    sb_reset(cookie);
    b64(cookie, id, sizeof(id));
    b64(&csrf_text, csrf, sizeof(csrf));
    (void) id_hash(cookie->s, p.hash);
    pack_session(&p.rec, user, now, now, csrf_text.s);
    user_key(&p.ukey, user, p.hash);
    rc = store_write(ss->st, put_work, &p, why);
    sb_free(&p.rec), sb_free(&p.ukey), sb_free(&csrf_text);
    return (rc < 0 ? -1 : 0);
}

/* read_session - the record under hash into s: SESSION_OK, SESSION_NONE or -1 */
static int read_session(SESSIONS *ss, const unsigned char *hash, SESSION *s, STRBUF *why)
{
    MDB_txn *txn;
    MDB_val v;
    UNPACK  u;
    const char *user, *csrf;
    int     rc;

    if (store_begin(ss->st, 1, &txn, why) < 0)
	return (-1);
    rc = store_get(ss->st, txn, ss->dbi[SS_SESSIONS], "sessions", hash, SESSION_HASH, &v, why);
    if (rc == STORE_OK) {
	unpack_init(&u, v.mv_data, v.mv_size);
	user = unpack_str(&u);
	s->created = (time_t) unpack_u64(&u);
	s->seen = (time_t) unpack_u64(&u);
	csrf = unpack_str(&u);
	if (u.bad)
	    rc = SESSION_NONE;
	else {
	    sb_reset(&s->user), sb_puts(&s->user, user);
	    sb_reset(&s->csrf), sb_puts(&s->csrf, csrf);
	}
    }
    store_abort(ss->st, txn);
    return (rc < 0 ? -1 : rc == STORE_OK ? SESSION_OK : SESSION_NONE);
}

/*
 * session_find - the session of a cookie value, when it is not over;
 * moves "last seen" on (at most once a SESSION_TOUCH)
 */
int     session_find(SESSIONS *ss, const char *cookie, time_t now, SESSION *s, STRBUF *why)
{
    PUT     p = {ss, {0}, STRBUF_INIT, STRBUF_INIT};
    int     rc;

    s->touched = 0;
    if (id_hash(cookie, p.hash) < 0)
	return (SESSION_NONE);
    if ((rc = read_session(ss, p.hash, s, why)) != SESSION_OK)
	return (rc);
    if (now - s->seen > SESSION_IDLE || now < s->created - 300) {
	(void) session_end(ss, cookie, why);
	return (SESSION_NONE);
    }
    if (now - s->seen >= SESSION_TOUCH) {
	s->seen = now;
	pack_session(&p.rec, s->user.s, s->created, now, s->csrf.s);
	if (store_write(ss->st, put_work, &p, why) == 0)
	    s->touched = 1;
	sb_free(&p.rec);
    }
    return (SESSION_OK);
}

/* session_csrf_ok - the form's token is the session's (constant time) */
int     session_csrf_ok(const SESSION *s, const char *given)
{
    return (given && s->csrf.len > 0 && strlen(given) == s->csrf.len
	    && sodium_memcmp(given, s->csrf.s, s->csrf.len) == 0);
}

/* What a deletion needs: the session's hash, or a user's prefix in byuser. */
typedef struct del {
    SESSIONS *ss;
    const unsigned char *hash;
    STRBUF  prefix;
    time_t  now;			/* prune: sessions over by then */
    long    n;
} DEL;

static int del_one(MDB_txn *txn, void *ctx, STRBUF *why)
{
    DEL    *d = ctx;
    STRBUF  uk = STRBUF_INIT;
    MDB_val v;
    UNPACK  u;
    int     rc = store_get(d->ss->st, txn, d->ss->dbi[SS_SESSIONS], "sessions", d->hash,
			   SESSION_HASH, &v, why);

    if (rc != STORE_OK)
	return (rc < 0 ? rc : 0);
    unpack_init(&u, v.mv_data, v.mv_size);
    user_key(&uk, unpack_str(&u), d->hash);
    rc = store_del(d->ss->st, txn, d->ss->dbi[SS_SESSIONS], "sessions", d->hash,
		   SESSION_HASH, why);
    if (rc >= 0 && !u.bad)
	rc = store_del(d->ss->st, txn, d->ss->dbi[SS_BYUSER], "byuser", uk.s, uk.len, why);
    sb_free(&uk);
    d->n += rc >= 0;
    return (rc < 0 ? rc : 0);
}

/* session_end - sign out: the session of this cookie is over */
int     session_end(SESSIONS *ss, const char *cookie, STRBUF *why)
{
    unsigned char hash[SESSION_HASH];
    DEL     d = {ss, hash, STRBUF_INIT, 0, 0};

    if (id_hash(cookie, hash) < 0)
	return (0);
    return (store_write(ss->st, del_one, &d, why) < 0 ? -1 : 0);
}

/* del_user - every session under d->prefix in byuser */
static int del_user(MDB_txn *txn, void *ctx, STRBUF *why)
{
    DEL    *d = ctx;
    MDB_cursor *c;
    MDB_val k, v;
    int     rc;

    d->n = 0;
    if ((rc = mdb_cursor_open(txn, d->ss->dbi[SS_BYUSER], &c)) != 0)
	return (store_fail(d->ss->st, rc, "byuser", why));
    k.mv_data = d->prefix.s, k.mv_size = d->prefix.len;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	 rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
	if (k.mv_size != d->prefix.len + SESSION_HASH
	    || memcmp(k.mv_data, d->prefix.s, d->prefix.len) != 0)
	    break;
	if ((rc = store_del(d->ss->st, txn, d->ss->dbi[SS_SESSIONS], "sessions",
			    (char *) k.mv_data + d->prefix.len, SESSION_HASH, why)) < 0
	    || (rc = mdb_cursor_del(c, 0)) != 0)
	    break;
	d->n++;
    }
    mdb_cursor_close(c);
    return (rc == 0 || rc == MDB_NOTFOUND ? 0 : rc < 0 ? rc
	    : store_fail(d->ss->st, rc, "byuser", why));
}

/* session_end_all - sign out everywhere: how many sessions of user ended, or -1 */
long    session_end_all(SESSIONS *ss, const char *user, STRBUF *why)
{
    DEL     d = {ss, NULL, STRBUF_INIT, 0, 0};
    int     rc;

    user_key(&d.prefix, user, NULL);
    rc = store_write(ss->st, del_user, &d, why);
    sb_free(&d.prefix);
    return (rc < 0 ? -1 : d.n);
}

/* prune_work - sessions idle too long, and their byuser entries */
static int prune_work(MDB_txn *txn, void *ctx, STRBUF *why)
{
    DEL    *d = ctx;
    MDB_cursor *c;
    MDB_val k, v;
    UNPACK  u;
    STRBUF  uk = STRBUF_INIT;
    int     rc;

    d->n = 0;
    if ((rc = mdb_cursor_open(txn, d->ss->dbi[SS_SESSIONS], &c)) != 0)
	return (store_fail(d->ss->st, rc, "sessions", why));
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	 rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
	const char *user;

	unpack_init(&u, v.mv_data, v.mv_size);
	user = unpack_str(&u);
	(void) unpack_u64(&u);
	if (!u.bad && d->now - (time_t) unpack_u64(&u) <= SESSION_IDLE)
	    continue;
	sb_reset(&uk);
	if (!u.bad && k.mv_size == SESSION_HASH) {
	    user_key(&uk, user, k.mv_data);
	    (void) store_del(d->ss->st, txn, d->ss->dbi[SS_BYUSER], "byuser", uk.s, uk.len, why);
	}
	if ((rc = mdb_cursor_del(c, 0)) != 0)
	    break;
	d->n++;
    }
    mdb_cursor_close(c);
    sb_free(&uk);
    return (rc == 0 || rc == MDB_NOTFOUND ? 0 : store_fail(d->ss->st, rc, "sessions", why));
}

/* sessions_prune - forget sessions that are over; how many, or -1 */
long    sessions_prune(SESSIONS *ss, time_t now, STRBUF *why)
{
    DEL     d = {ss, NULL, STRBUF_INIT, now, 0};

    return (store_write(ss->st, prune_work, &d, why) < 0 ? -1 : d.n);
}

/* session_cookie - the Set-Cookie value; max_age 0 ends the cookie */
void    session_cookie(const char *value, long max_age, STRBUF *out)
{
    sb_printf(out, "%s=%s; HttpOnly; Secure; Path=/; SameSite=Lax; Max-Age=%ld", SESSION_COOKIE,
	      value, max_age);
}
