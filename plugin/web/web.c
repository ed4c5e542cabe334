/*
 * web.c - the panel's process: open what it needs, serve, stop on a
 * signal; and the router that gives each request to its page.
 *
 * Every page that shows or changes a person's settings needs a session;
 * every POST of a session carries its CSRF token. Without a session, only
 * the sign-in pages, the static files and the one-click unsubscribe links
 * answer. Sessions that are over are forgotten hourly.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "assets.h"
#include "clock.h"
#include "log.h"
#include "mem.h"
#include "pages.h"
#include "web.h"

#define WEB_PRUNE_EVERY	3600		/* seconds between forgetting old sessions */

/* page_begin - the frame of a page; the session's user and sign-out, if any */
void    page_begin(PAGE *pg, const char *title)
{
    HTML_FRAME f = {title, pg->signed_in ? pg->s.user.s : NULL,
    pg->signed_in ? pg->s.csrf.s : NULL};

    html_page_begin(&pg->resp->body, &f);
}

void    page_end(PAGE *pg)
{
    html_page_end(&pg->resp->body);
}

/* page_error - a whole page that says what went wrong, and a way back */
void    page_error(PAGE *pg, int status, const char *title, const char *text)
{
    STRBUF *b = &pg->resp->body;

    sb_reset(b);
    pg->resp->status = status;
    page_begin(pg, title);
    sb_puts(b, "<h1>");
    html_text(b, title);
    sb_puts(b, "</h1><p class=\"error\" role=\"alert\">");
    html_text(b, text);
    sb_puts(b, "</p><p><a href=\"/\">Back to your notifications</a></p>");
    page_end(pg);
}

const char *web_field(const PAGE *pg, const char *name)
{
    return (http_field(pg->req, name));
}

/* page_csrf - a POST of the session carries its token: 0, or -1 with a 403 page */
int     page_csrf(PAGE *pg)
{
    if (session_csrf_ok(&pg->s, web_field(pg, "csrf")))
	return (0);
    msg_warn("web: user=<%s> client=%s: POST %s without the session's CSRF token; refused",
	     pg->s.user.s, pg->req->client, pg->req->path);
    page_error(pg, 403, "Not changed", "This form is out of date or did not come from this "
	       "site. Nothing was changed; please try again from the page.");
    return (-1);
}

/* serve_static - the stylesheet and the script */
static int serve_static(PAGE *pg)
{
    const char *p = pg->req->path;

    if (strcmp(p, "/static/panel.css") == 0) {
	pg->resp->type = "text/css; charset=utf-8";
	sb_puts(&pg->resp->body, asset_panel_css);
    } else if (strcmp(p, "/static/panel.js") == 0) {
	pg->resp->type = "text/javascript; charset=utf-8";
	sb_puts(&pg->resp->body, asset_panel_js);
    } else
	return (0);
    pg->resp->cacheable = 1;
    return (1);
}

/* find_session - the request's session, if it has a live one */
static void find_session(PAGE *pg)
{
    STRBUF  why = STRBUF_INIT, cookie = STRBUF_INIT;
    int     rc;

    pg->cookie = http_cookie(pg->req, SESSION_COOKIE);
    if (pg->cookie == NULL)
	return;
    rc = session_find(pg->web->sessions, pg->cookie, clock_now(), &pg->s, &why);
    if (rc < 0)
	msg_error("web: sessions: %s", why.s);
    pg->signed_in = rc == SESSION_OK;
    if (pg->signed_in && pg->s.touched) {	/* 12 hours from now, in the browser too */
	session_cookie(pg->cookie, SESSION_IDLE, &cookie);
	http_add_header(pg->resp, "Set-Cookie", cookie.s);
    }
    sb_free(&why), sb_free(&cookie);
}

/* route_session - the pages of a signed-in person */
static void route_session(PAGE *pg, int post)
{
    const char *p = pg->req->path;

    if (post && page_csrf(pg) < 0)
	return;
    if (!post && strcmp(p, "/") == 0)
	panel_list(pg);
    else if (!post && strcmp(p, "/new") == 0)
	form_show(pg, FORM_CREATE);
    else if (!post && strcmp(p, "/edit") == 0)
	form_show(pg, FORM_EDIT);
    else if (!post && strcmp(p, "/clone") == 0)
	form_show(pg, FORM_CLONE);
    else if (!post && strcmp(p, "/delete") == 0)
	panel_delete_confirm(pg);
    else if (post && strcmp(p, "/save") == 0)
	form_save(pg);
    else if (post && strcmp(p, "/mute") == 0)
	panel_change(pg, CHANGE_MUTE);
    else if (post && strcmp(p, "/unmute") == 0)
	panel_change(pg, CHANGE_UNMUTE);
    else if (post && strcmp(p, "/delete") == 0)
	panel_change(pg, CHANGE_DELETE);
    else if (post && strcmp(p, "/signout") == 0)
	signin_out(pg, 0);
    else if (post && strcmp(p, "/signout-all") == 0)
	signin_out(pg, 1);
    else
	page_error(pg, 404, "Not found", "There is no such page here.");
}

/* route - one request to its page */
static void route(const HTTP_REQ *req, HTTP_RESP *resp, void *ctx)
{
    PAGE    pg;
    const char *p = req->path;
    int     post = strcmp(req->method, "POST") == 0;

    memset(&pg, 0, sizeof(pg));
    pg.web = ctx;
    pg.req = req;
    pg.resp = resp;
    if (!post && serve_static(&pg))
	return;
    if (strncmp(p, "/u/", 3) == 0)
	unsubscribe(&pg, p + 3);
    else if (strncmp(p, "/s/", 3) == 0)
	signin_link(&pg, p + 3);
    else {
	find_session(&pg);
	if (post && strcmp(p, "/signin") == 0)
	    signin_request(&pg);
	else if (pg.signed_in)
	    route_session(&pg, post);
	else if (!post && strcmp(p, "/") == 0)
	    signin_form(&pg);
	else if (!post)
	    http_redirect(resp, "/");
	else
	    page_error(&pg, 403, "Signed out", "Your session has ended: sign in again. "
		       "Nothing was changed.");
    }
    session_free(&pg.s);
}

/* web_listen - bind web_listen's socket (before privileges go) */
int     web_listen(const char *spec, int *fd, STRBUF *why)
{
    return (http_listen(spec, fd, why));
}

/* web_open - the key, the stores, the throttles; -1 with why */
static int web_open(WEB *w, const CONF *conf, const WEB_OPTS *opts, STRBUF *why)
{
    memset(w, 0, sizeof(*w));
    w->conf = conf;
    w->supervisor = opts->supervisor;
    sb_puts(&w->base_url, opts->base_url ? opts->base_url : conf->web_base_url);
    if (w->base_url.len == 0 || w->base_url.s[w->base_url.len - 1] != '/')
	sb_putc(&w->base_url, '/');
    pthread_mutex_init(&w->lock, NULL);
    w->per_address = throttle_create();
    w->per_client = throttle_create();
    w->rules_watch = person_watch(conf->rules_dir);
    if (token_key_load(conf->token_key_file, &w->key, why) < 0
	|| rulesdb_open(conf->state_dir, 1, &w->rdb, why) < 0
	|| statedb_open(conf->state_dir, &w->sdb, why) < 0
	|| sessions_open(conf->state_dir, &w->sessions, why) < 0
	|| signin_start(w, why) < 0)
	return (-1);
    return (0);
}

static void web_close(WEB *w)
{
    signin_stop(w);				/* before the stores it writes to */
    sessions_close(w->sessions);
    dirwatch_close(w->rules_watch);
    if (w->sdb)
	statedb_close(w->sdb);
    if (w->rdb)
	rulesdb_close(w->rdb);
    throttle_free(w->per_address);
    throttle_free(w->per_client);
    pthread_mutex_destroy(&w->lock);
    sb_free(&w->base_url);
    sodium_memzero(&w->key, sizeof(w->key));
}

/* prune - forget sessions that are over */
static void prune(WEB *w)
{
    STRBUF  why = STRBUF_INIT;
    long    n = sessions_prune(w->sessions, clock_now(), &why);

    if (n < 0)
	msg_error("web: sessions: %s", why.s);
    else if (n > 0)
	msg_info("web: forgot %ld sessions idle for more than %d hours", n, SESSION_IDLE / 3600);
    sb_free(&why);
}

/* wait_stop - until SIGTERM or SIGINT; hourly chores meanwhile */
static void wait_stop(WEB *w, const sigset_t *set)
{
    struct timespec ts = {WEB_PRUNE_EVERY, 0};
    int     sig;

    for (;;) {
	prune(w);
	sig = sigtimedwait(set, NULL, &ts);
	if (sig == SIGTERM || sig == SIGINT)
	    break;
	if (sig == SIGHUP)
	    msg_info("web: SIGHUP: the panel reads rules.d at each request; crierd starts "
		     "it anew when its settings change");
	if (sig < 0 && errno != EAGAIN && errno != EINTR)
	    break;
    }
}

/*
 * web_main - serve the panel until SIGTERM or SIGINT; 0, or 1 when it
 * could not start (the reason in the log). Runs as the service user.
 */
int     web_main(const CONF *conf, const WEB_OPTS *opts)
{
    HTTP_LIMITS lim = HTTP_LIMITS_DEFAULT;
    STRBUF  why = STRBUF_INIT;
    sigset_t set;
    HTTP   *h = NULL;
    WEB     w;
    int     fd = opts->fd, rc = 1, bound = 0;
    const char *listen = opts->listen ? opts->listen : conf->web_listen;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM), sigaddset(&set, SIGINT), sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);	/* the serving threads inherit it */
    signal(SIGPIPE, SIG_IGN);
    if (web_open(&w, conf, opts, &why) == 0
	&& (fd >= 0 || (bound = http_listen(listen, &fd, &why) == 0))
	&& (h = http_start(fd, &lim, route, &w, &why)) != NULL) {
	msg_info("web: serving %s on %s", w.base_url.s, listen);
	wait_stop(&w, &set);
	http_stop(h);
	msg_info("web: stopped");
	rc = 0;
    } else
	msg_error("web: %s", why.s);
    if (fd >= 0)
	close(fd);
    if (bound)					/* ours only: never another's */
	http_unlink(listen);
    web_close(&w);
    sb_free(&why);
    return (rc);
}
