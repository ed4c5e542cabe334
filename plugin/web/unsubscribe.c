/*
 * unsubscribe.c - RFC 8058 one-click unsubscribe: /u/TOKEN.
 *
 * TOKEN is the signed mute token of one notification, the one its mail's
 * mailto: link carries, under the same rules: once, within 60 days (the
 * used ones are kept where self-service keeps its own). A POST whose body
 * holds List-Unsubscribe=One-Click mutes exactly that notification, with
 * no cookie and no sign-in, and answers 200. A GET (a mail scanner, or a
 * person who clicked) shows what the link would do and a Mute button that
 * makes that POST; it changes nothing.
 */
#include "config.h"

#include <string.h>

#include "log.h"
#include "pages.h"

/* mute - the token's notification, muted for the token's user */
static int mute(WEB *w, const char *token, const char *user, const char *notif, STRBUF *why)
{
    STRBUF  id = STRBUF_INIT, err = STRBUF_INIT;
    CHANGE  c;
    int     rc;

    memset(&c, 0, sizeof(c));
    c.verb = CHANGE_MUTE;
    c.name = notif;
    if ((rc = web_apply(w, user, &c, &id, why)) == 0 && web_token_mark(w, token, &err) < 0)
	msg_error("web: tokens: %s", err.s);	/* muted all the same */
    sb_free(&id), sb_free(&err);
    return (rc);
}

/* show - what the link does, and the button */
static void show(PAGE *pg, const char *token, const char *user, const char *notif)
{
    STRBUF *b = &pg->resp->body;

    sb_puts(b, "<p>Stop the notification <strong>");
    html_text(b, notif);
    sb_puts(b, "</strong> for ");
    html_text(b, user);
    sb_puts(b, "? You can turn it on again from your notification settings.</p>"
	    "<form method=\"post\" action=\"/u/");
    html_text(b, token);
    sb_puts(b, "\">");
    html_hidden(b, "List-Unsubscribe", "One-Click");
    sb_puts(b, "<button type=\"submit\">Mute</button></form>");
}

/* unsubscribe - /u/TOKEN, GET or POST */
void    unsubscribe(PAGE *pg, const char *token)
{
    WEB    *w = pg->web;
    STRBUF *b = &pg->resp->body, user = STRBUF_INIT, notif = STRBUF_INIT, why = STRBUF_INIT;
    const char *one = web_field(pg, "List-Unsubscribe");
    int     post = strcmp(pg->req->method, "POST") == 0, ok, rc;

    pthread_mutex_lock(&w->lock);		/* once means once, across threads */
    rc = web_token_use(w, token, TOKEN_MUTE, WEB_MUTE_MAX_AGE, &user, &notif, &why);
    ok = rc == 0;
    if (ok && post && (one == NULL || strcmp(one, "One-Click") != 0)) {
	sb_puts(&why, "Send List-Unsubscribe=One-Click to mute (RFC 8058).");
	pg->resp->status = 400;
	ok = 0;
    } else if (ok && post && mute(w, token, user.s, notif.s, &why) < 0) {
	pg->resp->status = 409;
	ok = 0;
    } else if (!ok)
	pg->resp->status = web_token_status(rc);
    pthread_mutex_unlock(&w->lock);
    page_begin(pg, "Unsubscribe");
    sb_puts(b, "<h1>Unsubscribe</h1>");
    if (ok && post) {
	sb_puts(b, "<p class=\"notice\" role=\"status\">");
	html_text(b, notif.s);
	sb_puts(b, " is muted. Sign in to your notification settings to turn it on again.</p>");
    } else if (ok)
	show(pg, token, user.s, notif.s);
    else {
	sb_puts(b, "<p class=\"error\" role=\"alert\">");
	html_text(b, why.s);
	sb_puts(b, " Nothing was changed.</p>");
    }
    sb_puts(b, "<p><a href=\"/\">Your notification settings</a></p>");
    page_end(pg);
    sb_free(&user), sb_free(&notif), sb_free(&why);
}
