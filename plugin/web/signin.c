/*
 * signin.c - signing in by mail, and out.
 *
 * GET / without a session shows an address field. Its POST always gets
 * the same answer, so the page tells nobody who receives notifications;
 * only an address in rules.d gets a link, through the outbox, as every
 * notification does. Requests are limited per address and per client.
 * The link is written by a thread of its own (the mailer) after the
 * answer went out: rendering it and committing it to the outbox (an LMDB
 * commit, an fsync) cost a millisecond only an address in rules.d paid,
 * and the answer's time told who receives notifications.
 *
 * A link (/s/TOKEN) is a signed token (token.c) for its user: one that
 * the sign-in mail carries works once within 15 minutes; the "Manage your
 * notifications" link in a notification's footer works for 60 days. A
 * GET of either only shows a "Sign in as ..." button (mail scanners fetch
 * links); its POST begins the session. Used tokens are kept where
 * self-service keeps its own (statedb's tokens), until they expire.
 */
#include "config.h"

#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "log.h"
#include "mem.h"
#include "pages.h"
#include "render.h"
#include "strutil.h"

#define SIGNIN_ADDRESS_MAX	254

static const char signin_answer[] = "If this address receives notifications, a sign-in link "
"is on its way to it. The link works once, within 15 minutes.";

/* address_form - the one field to ask for a link with */
static void address_form(STRBUF *b)
{
    sb_puts(b, "<form method=\"post\" action=\"/signin\" class=\"signin\">"
	    "<label for=\"address\">Your email address</label>"
	    "<input type=\"email\" id=\"address\" name=\"address\" autocomplete=\"email\" "
	    "required maxlength=\"254\">"
	    "<button type=\"submit\">Send me a sign-in link</button></form>");
}

/* signin_form - GET / without a session */
void    signin_form(PAGE *pg)
{
    STRBUF *b = &pg->resp->body;
    const char *out = http_arg(pg->req, "out");

    page_begin(pg, "Sign in");
    sb_puts(b, "<h1>Sign in</h1>");
    if (out)
	sb_puts(b, "<p class=\"notice\" role=\"status\">You are signed out.</p>");
    sb_puts(b, "<p>Manage the email notifications you receive. Enter your address and "
	    "we will mail you a link to sign in with.</p>");
    address_form(b);
    page_end(pg);
}

/* registered - the address as rules.d writes it: 1, or 0 when not a user */
static int registered(WEB *w, const char *address, STRBUF *out)
{
    STRBUF  why = STRBUF_INIT;
    MDB_txn *txn;
    RDB_USER u;
    int     rc = 0;

    if (rulesdb_read(w->rdb, &txn, &why) == 0) {
	if (rulesdb_get_user(w->rdb, txn, address, &u, &why) == 0) {
	    sb_reset(out);
	    sb_puts(out, u.address);
	    rc = 1;
	}
	rulesdb_end(w->rdb, txn);
    }
    sb_free(&why);
    return (rc);
}

/*
 * outbox_put - a message into the outbox, for crierd's senders; the
 * supervisor, told by SIGUSR1, wakes them, so it goes out at once
 */
static int outbox_put(WEB *w, const char *rcpt, const char *msg_id, const STRBUF *msg,
		              STRBUF *why)
{
    SDB_OUT out;

    memset(&out, 0, sizeof(out));
    out.recipient = rcpt;
    out.message_id = msg_id;
    out.msg = msg->s;
    out.msglen = msg->len;
    if (statedb_outbox_put(w->sdb, &out, NULL, why) < 0)
	return (-1);
    if (w->supervisor > 0)
	(void) kill(w->supervisor, SIGUSR1);
    return (0);
}

/* mail_link - the sign-in mail to a registered address */
static void mail_link(WEB *w, const char *address)
{
    STRBUF  token = STRBUF_INIT, text = STRBUF_INIT, id = STRBUF_INIT, msg = STRBUF_INIT;
    STRBUF  key = STRBUF_INIT, why = STRBUF_INIT, hex = STRBUF_INIT;
    RENDER_REPLY r;
    time_t  now = clock_now();
    unsigned char nonce[9];
    size_t  i;

    randombytes_buf(nonce, sizeof(nonce));	/* each link its own, even in one second */
    for (i = 0; i < sizeof(nonce); i++)
	sb_printf(&hex, "%02x", nonce[i]);
    token_make(&w->key, TOKEN_SIGNIN, address, hex.s, now, &token);
    sb_free(&hex);
    sb_printf(&text, "Someone, probably you, asked to sign in to your notification\n"
	      "settings. This link signs you in; it works once, within 15 minutes:\n\n"
	      "  %ss/%s\n\nIf you did not ask, ignore this mail: nothing changes.\n",
	      w->base_url.s, token.s);
    sb_printf(&key, "signin-%s", strrchr(token.s, '.') + 1);
    render_message_id(key.s, address, "signin", w->conf->sender_address, &id);
    memset(&r, 0, sizeof(r));
    r.recipient = address;
    r.sender = w->conf->sender_address;
    r.subject = "Sign in to your notification settings";
    r.message_id = id.s;
    r.date = now;
    r.text = &text;
    render_reply(&r, &msg);
    if (outbox_put(w, address, id.s, &msg, &why) < 0)
	msg_error("web: sign-in link for %s not queued: %s", address, why.s);
    else
	msg_info("web: user=<%s> sign-in link queued", address);
    sb_free(&token), sb_free(&text), sb_free(&id), sb_free(&msg), sb_free(&key);
    sb_free(&why);
}

/* The mailer: addresses whose link is still to be written. */
struct web_mailer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t more;
    STRV    queue;
    int     stop;
};

#define MAILER_QUEUE	64		/* links waiting; more are dropped (logged) */

/* mailer_main - write each link that waits; at a stop, what waits, then end */
static void *mailer_main(void *arg)
{
    WEB    *w = arg;
    WEB_MAILER *m = w->mailer;
    STRV    batch;
    size_t  i;

    pthread_mutex_lock(&m->lock);
    for (;;) {
	while (m->queue.len == 0 && !m->stop)
	    pthread_cond_wait(&m->more, &m->lock);
	if (m->queue.len == 0)
	    break;
	batch = m->queue;
	memset(&m->queue, 0, sizeof(m->queue));
	pthread_mutex_unlock(&m->lock);
	for (i = 0; i < batch.len; i++)
	    mail_link(w, batch.v[i]);
	strv_free(&batch);
	pthread_mutex_lock(&m->lock);
    }
    pthread_mutex_unlock(&m->lock);
    return (NULL);
}

/* mailer_queue - address's link, for the mailer to write */
static void mailer_queue(WEB *w, const char *address)
{
    WEB_MAILER *m = w->mailer;
    int     room;

    pthread_mutex_lock(&m->lock);
    if ((room = m->queue.len < MAILER_QUEUE) != 0) {
	strv_add(&m->queue, address);
	pthread_cond_signal(&m->more);
    }
    pthread_mutex_unlock(&m->lock);
    if (!room)
	msg_error("web: user=<%s> sign-in link not queued: %d links wait to be written",
		  address, MAILER_QUEUE);
}

/* signin_start - the mailer's thread; -1 with why */
int     signin_start(WEB *w, STRBUF *why)
{
    WEB_MAILER *m = xcalloc(1, sizeof(WEB_MAILER));

    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->more, NULL);
    w->mailer = m;
    if (pthread_create(&m->thread, NULL, mailer_main, w) != 0) {
	sb_puts(why, "cannot start the thread that mails sign-in links");
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->more);
	free(m);
	w->mailer = NULL;
	return (-1);
    }
    return (0);
}

/* signin_stop - the mailer writes what waits and ends */
void    signin_stop(WEB *w)
{
    WEB_MAILER *m = w->mailer;

    if (m == NULL)
	return;
    pthread_mutex_lock(&m->lock);
    m->stop = 1;
    pthread_cond_signal(&m->more);
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->thread, NULL);
    strv_free(&m->queue);
    pthread_mutex_destroy(&m->lock);
    pthread_cond_destroy(&m->more);
    free(m);
    w->mailer = NULL;
}

/*
 * within_limits - a link for address asked from client, within both
 * limits. The address counts without case, as rules.d looks it up (each
 * spelling its own bucket would mail the same person again and again);
 * an IPv6 client by its prefix, as the policy service counts submitters.
 */
static int within_limits(WEB *w, const char *address, const char *client)
{
    STRBUF  akey = STRBUF_INIT, ckey = STRBUF_INIT;
    double  now = (double) clock_now();
    int     ok;

    sb_puts(&akey, address);
    str_lower(akey.s);
    throttle_client_key(client, (int) w->conf->submit_rate_limit_ipv6_prefix, &ckey);
    pthread_mutex_lock(&w->lock);
    ok = throttle_take(w->per_client, ckey.s, WEB_SIGNIN_PER_CLIENT, now);
    if (ok)
	ok = throttle_take(w->per_address, akey.s, WEB_SIGNIN_PER_ADDRESS, now) ? 1 : -1;
    pthread_mutex_unlock(&w->lock);
    sb_free(&akey), sb_free(&ckey);
    if (ok <= 0)
	msg_warn("web: client=%s: sign-in for <%s>: more than %d a minute %s; no link", client,
		 address, ok ? WEB_SIGNIN_PER_ADDRESS : WEB_SIGNIN_PER_CLIENT,
		 ok ? "for the address" : "from the client");
    return (ok > 0);
}

/* signin_request - POST /signin: the same answer, whoever asks */
void    signin_request(PAGE *pg)
{
    STRBUF *b = &pg->resp->body, address = STRBUF_INIT, canon = STRBUF_INIT;
    const char *given = web_field(pg, "address");

    if (given && strlen(given) <= SIGNIN_ADDRESS_MAX) {
	sb_puts(&address, given);
	str_trim(address.s);
	address.len = strlen(address.s);
    }
    if (address.len && strchr(address.s, '@') && str_utf8_valid(address.s, address.len)
	&& !str_has_ctl(address.s) && within_limits(pg->web, address.s, pg->req->client)
	&& registered(pg->web, address.s, &canon))
	mailer_queue(pg->web, canon.s);
    page_begin(pg, "Check your mail");
    sb_puts(b, "<h1>Check your mail</h1><p class=\"notice\" role=\"status\">");
    html_text(b, signin_answer);
    sb_puts(b, "</p><p>Nothing came? Ask again:</p>");
    address_form(b);
    page_end(pg);
    sb_free(&address), sb_free(&canon);
}

/*
 * web_token_use - a token of the panel, checked: its signature, the action
 * wanted, its age, and (but for manage links) that it was not used. 0
 * with its user and notification, or WEB_TOKEN_* with why, for people.
 */
int     web_token_use(WEB *w, const char *token, int want, long max_age, STRBUF *user,
		              STRBUF *notif, STRBUF *why)
{
    STRBUF  err = STRBUF_INIT;
    MDB_txn *txn;
    time_t  issued;
    int     action, used = -1;

    if (token_check(&w->key, token, &action, user, notif, &issued, &err) < 0
	|| action != want) {
	sb_puts(why, "This link is not valid.");
	sb_free(&err);
	return (WEB_TOKEN_BAD);
    }
    if (clock_now() - issued > max_age || issued > clock_now() + 300) {
	sb_puts(why, "This link has expired.");
	return (WEB_TOKEN_GONE);
    }
    if (want == TOKEN_MANAGE)
	return (0);
    if (statedb_read(w->sdb, &txn, &err) == 0) {
	used = statedb_token_used(w->sdb, txn, strrchr(token, '.') + 1, &err);
	statedb_end(w->sdb, txn);
    }
    if (used < 0)
	msg_error("web: tokens: %s", err.s);
    sb_free(&err);
    if (used != 0)
	sb_puts(why, used > 0 ? "This link was used before." : "This link cannot be checked "
		"now; please try again later.");
    return (used == 0 ? 0 : used > 0 ? WEB_TOKEN_GONE : WEB_TOKEN_LATER);
}

/* web_token_status - the HTTP status of a refused token */
int     web_token_status(int rc)
{
    return (rc == WEB_TOKEN_GONE ? 410 : rc == WEB_TOKEN_LATER ? 503 : 400);
}

/* web_token_mark - the token is used: it will not work again */
int     web_token_mark(WEB *w, const char *token, STRBUF *why)
{
    return (statedb_request_done(w->sdb, 0, NULL, strrchr(token, '.') + 1,
				 (uint64_t) clock_now(), why));
}

/* link_check - a sign-in or manage link: 0 with its user, or WEB_TOKEN_* with why */
static int link_check(WEB *w, const char *token, STRBUF *user, STRBUF *why)
{
    STRBUF  notif = STRBUF_INIT, canon = STRBUF_INIT;
    int     rc, manage = strncmp(token, "v1.p.", 5) == 0;

    rc = web_token_use(w, token, manage ? TOKEN_MANAGE : TOKEN_SIGNIN,
		       manage ? WEB_MANAGE_MAX_AGE : WEB_SIGNIN_MAX_AGE, user, &notif, why);
    if (rc == 0 && !registered(w, user->s, &canon)) {
	sb_puts(why, "This address no longer receives notifications.");
	rc = WEB_TOKEN_GONE;
    }
    sb_free(&notif), sb_free(&canon);
    return (rc);
}

/* begin_session - the token's session; its cookie; back to the list */
static void begin_session(PAGE *pg, const char *token, const char *user)
{
    WEB    *w = pg->web;
    STRBUF  cookie = STRBUF_INIT, header = STRBUF_INIT, why = STRBUF_INIT;

    if (strncmp(token, "v1.s.", 5) == 0 && web_token_mark(w, token, &why) < 0) {
	msg_error("web: tokens: %s", why.s);
	page_error(pg, 503, "Not signed in", "Signing in is not possible just now; please try "
		   "again in a minute.");
    } else if (session_create(w->sessions, user, clock_now(), &cookie, &why) < 0) {
	msg_error("web: sessions: %s", why.s);
	page_error(pg, 503, "Not signed in", "Signing in is not possible just now; please try "
		   "again in a minute.");
    } else {
	msg_info("web: user=<%s> client=%s signed in", user, pg->req->client);
	session_cookie(cookie.s, SESSION_IDLE, &header);
	http_add_header(pg->resp, "Set-Cookie", header.s);
	http_redirect(pg->resp, "/");
    }
    sb_free(&cookie), sb_free(&header), sb_free(&why);
}

/*
 * from_elsewhere - a POST another site's page made: the browser says so
 * (Sec-Fetch-Site), or its Origin is not web_base_url's. An Origin of
 * "null" is the panel's own page: its Referrer-Policy (no-referrer) makes
 * the browser send that on every POST.
 */
static int from_elsewhere(const PAGE *pg)
{
    const char *site = http_header(pg->req, "Sec-Fetch-Site");
    const char *origin = http_header(pg->req, "Origin");
    const char *base = pg->web->base_url.s, *host = strstr(base, "://");
    size_t  len = host ? strcspn(host + 3, "/") + (size_t) (host + 3 - base) : 0;

    if (site && (strcmp(site, "cross-site") == 0 || strcmp(site, "same-site") == 0))
	return (1);
    return (origin && strcmp(origin, "null") != 0
	    && (strlen(origin) != len || strncasecmp(origin, base, len) != 0));
}

/*
 * signin_link - /s/TOKEN: GET shows a button, POST signs in. A POST from
 * another site's page is refused: it would sign the browser in as
 * whoever the link is for, a login CSRF with someone's own manage link.
 */
void    signin_link(PAGE *pg, const char *token)
{
    STRBUF *b = &pg->resp->body, user = STRBUF_INIT, why = STRBUF_INIT;
    int     rc, ok;

    if (strcmp(pg->req->method, "POST") == 0 && from_elsewhere(pg)) {
	msg_warn("web: client=%s: a sign-in POST from another site's page (Origin %s, "
		 "Sec-Fetch-Site %s); refused", pg->req->client,
		 http_header(pg->req, "Origin") ? http_header(pg->req, "Origin") : "none",
		 http_header(pg->req, "Sec-Fetch-Site") ? http_header(pg->req, "Sec-Fetch-Site")
		 : "none");
	page_error(pg, 403, "Not signed in", "This sign-in came from another site. Open the "
		   "link in your mail again and press Sign in there.");
	return;
    }
    pthread_mutex_lock(&pg->web->lock);	/* once means once, across threads */
    ok = (rc = link_check(pg->web, token, &user, &why)) == 0;
    if (ok && strcmp(pg->req->method, "POST") == 0) {
	begin_session(pg, token, user.s);
	pthread_mutex_unlock(&pg->web->lock);
	sb_free(&user), sb_free(&why);
	return;
    }
    pthread_mutex_unlock(&pg->web->lock);
    page_begin(pg, "Sign in");
    sb_puts(b, "<h1>Sign in</h1>");
    if (ok) {
	sb_puts(b, "<p>This link signs you in to your notification settings.</p>"
		"<form method=\"post\" action=\"/s/");
	html_text(b, token);
	sb_puts(b, "\"><button type=\"submit\">Sign in as ");
	html_text(b, user.s);
	sb_puts(b, "</button></form>");
    } else {
	pg->resp->status = web_token_status(rc);
	sb_puts(b, "<p class=\"error\" role=\"alert\">");
	html_text(b, why.s);
	sb_puts(b, "</p><p>Ask for a new link:</p>");
	address_form(b);
    }
    page_end(pg);
    sb_free(&user), sb_free(&why);
}

/* signin_out - POST /signout, /signout-all: the session (or every one) ends */
void    signin_out(PAGE *pg, int everywhere)
{
    STRBUF  why = STRBUF_INIT, header = STRBUF_INIT;
    long    n = everywhere ? session_end_all(pg->web->sessions, pg->s.user.s, &why)
	: session_end(pg->web->sessions, pg->cookie, &why);

    if (n < 0)
	msg_error("web: sessions: %s", why.s);
    else
	msg_info("web: user=<%s> signed out%s", pg->s.user.s, everywhere ? " everywhere" : "");
    session_cookie("", 0, &header);
    http_add_header(pg->resp, "Set-Cookie", header.s);
    http_redirect(pg->resp, "/?out=1");
    sb_free(&why), sb_free(&header);
}
