/*
 * unsubscribe.c - RFC 8058 one-click unsubscribe: /u/TOKEN.
 *
 * TOKEN is the signed mute token of one notification, the one its mail's
 * mailto: link carries, or the digest token of a digest that covers
 * several notifications (it names the person and the frequency), under
 * the same rules: once, within 60 days (the used ones are kept where
 * self-service keeps its own). A POST whose body holds
 * List-Unsubscribe=One-Click mutes exactly that notification, or every
 * notification of the person with that frequency that is not muted yet,
 * each one a change of its own through web_apply(); with no cookie and no
 * sign-in; and answers 200. A GET (a mail scanner, or a person who
 * clicked) shows what the link would do and a Mute button that makes
 * that POST; it changes nothing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pages.h"
#include "strv.h"

/* What a token mutes. */
typedef struct unsub {
    const char *token;
    int     digest;			/* a digest token: notif is a frequency */
    STRBUF  user;
    STRBUF  notif;
    STRBUF  freq_title;			/* a digest's: "Daily" */
    STRV    ids;			/* the notifications to mute */
    size_t  muted;			/* of them, by this request */
    STRBUF  list;			/* a digest's: each as an HTML <li> */
} UNSUB;

/* digest_targets - the person's notifications of the frequency, not muted yet */
static int digest_targets(WEB *w, UNSUB *u, STRBUF *why)
{
    STRBUF  err = STRBUF_INIT;
    const FREQ *f;
    ENTRY  *e;
    PERSON  p;
    size_t  n, i;

    if (person_load(w, u->user.s, &p, &err) < 0) {
	msg_warn("web: unsubscribe: %s", err.s);
	sb_free(&err);
	sb_puts(why, "This address no longer receives notifications.");
	return (WEB_TOKEN_GONE);
    }
    f = rules_freq(p.rules, u->notif.s);
    sb_puts(&u->freq_title, f && f->title ? f->title : u->notif.s);
    n = person_entries(&p, &e);
    for (i = 0; i < n; i++) {
	if (e[i].muted != ENTRY_ACTIVE || strcmp(e[i].n->frequency, u->notif.s) != 0)
	    continue;
	strv_add(&u->ids, e[i].n->id);
	sb_puts(&u->list, "<li><strong>");
	html_text(&u->list, e[i].n->id);
	sb_puts(&u->list, "</strong>: ");
	person_where(&p, e[i].n, &u->list);
	sb_puts(&u->list, "</li>");
    }
    free(e);
    person_free(&p);
    return (0);
}

/* check - the token, and what it mutes: 0, or WEB_TOKEN_* with why */
static int check(WEB *w, UNSUB *u, STRBUF *why)
{
    int     rc;

    u->digest = strncmp(u->token, "v1.d.", 5) == 0;
    rc = web_token_use(w, u->token, u->digest ? TOKEN_DIGEST : TOKEN_MUTE, WEB_MUTE_MAX_AGE,
		       &u->user, &u->notif, why);
    if (rc == 0 && u->digest)
	return (digest_targets(w, u, why));
    if (rc == 0)
	strv_add(&u->ids, u->notif.s);
    return (rc);
}

/* mute - each notification the token names, muted for its user: 0, or -1 with why */
static int mute(WEB *w, UNSUB *u, STRBUF *why)
{
    STRBUF  id = STRBUF_INIT, err = STRBUF_INIT;
    CHANGE  c;
    size_t  i;
    int     rc = 0;

    for (i = 0; i < u->ids.len; i++) {
	memset(&c, 0, sizeof(c));
	c.verb = CHANGE_MUTE;
	c.name = u->ids.v[i];
	if (web_apply(w, u->user.s, &c, &id, &err) == 0)
	    u->muted++;
	else {
	    sb_printf(why, "%s%s: %s", rc ? " " : "", u->ids.v[i], err.s);
	    sb_reset(&err);
	    rc = -1;
	}
    }
    if (rc == 0 && web_token_mark(w, u->token, &err) < 0)
	msg_error("web: tokens: %s", err.s);	/* muted all the same */
    sb_free(&id), sb_free(&err);
    return (rc);
}

/* show - what the link does, and the button */
static void show(PAGE *pg, const UNSUB *u)
{
    STRBUF *b = &pg->resp->body;

    if (u->digest && u->ids.len == 0) {
	sb_puts(b, "<p>Every notification of the ");
	html_text(b, u->freq_title.s);
	sb_puts(b, " digest of ");
	html_text(b, u->user.s);
	sb_puts(b, " is muted already.</p>");
	return;
    }
    sb_puts(b, "<p>Stop ");
    if (u->digest) {
	sb_puts(b, "the <strong>");
	html_text(b, u->freq_title.s);
	sb_puts(b, "</strong> digest");
    } else {
	sb_puts(b, "the notification <strong>");
	html_text(b, u->notif.s);
	sb_puts(b, "</strong>");
    }
    sb_puts(b, " for ");
    html_text(b, u->user.s);
    sb_puts(b, u->digest ? "? These notifications will be muted:</p><ul>" : "?");
    if (u->digest)
	sb_printf(b, "%s</ul><p>", u->list.s);
    sb_printf(b, " You can turn %s on again from your notification settings.</p>"
	      "<form method=\"post\" action=\"/u/", u->digest ? "them" : "it");
    html_text(b, u->token);
    sb_puts(b, "\">");
    html_hidden(b, "List-Unsubscribe", "One-Click");
    sb_puts(b, "<button type=\"submit\">Mute</button></form>");
}

/* done - what the POST muted */
static void done(PAGE *pg, const UNSUB *u)
{
    STRBUF *b = &pg->resp->body;
    size_t  i;

    sb_puts(b, "<p class=\"notice\" role=\"status\">");
    if (u->ids.len == 0)
	sb_puts(b, "Nothing was left to mute.");
    for (i = 0; i < u->ids.len; i++) {
	html_text(b, u->ids.v[i]);
	sb_puts(b, i + 1 < u->ids.len ? ", " : u->ids.len == 1 ? " is muted." : " are muted.");
    }
    sb_printf(b, " Sign in to your notification settings to turn %s on again.</p>",
	      u->ids.len == 1 ? "it" : "them");
}

/* unsubscribe - /u/TOKEN, GET or POST */
void    unsubscribe(PAGE *pg, const char *token)
{
    WEB    *w = pg->web;
    STRBUF *b = &pg->resp->body, why = STRBUF_INIT;
    const char *one = web_field(pg, "List-Unsubscribe");
    int     post = strcmp(pg->req->method, "POST") == 0, ok, rc;
    UNSUB   u = {.token = token};

    pthread_mutex_lock(&w->lock);		/* once means once, across threads */
    rc = check(w, &u, &why);
    ok = rc == 0;
    if (ok && post && (one == NULL || strcmp(one, "One-Click") != 0)) {
	sb_puts(&why, "Send List-Unsubscribe=One-Click to mute (RFC 8058).");
	pg->resp->status = 400;
	ok = 0;
    } else if (ok && post && mute(w, &u, &why) < 0) {
	pg->resp->status = 409;
	ok = 0;
    } else if (!ok)
	pg->resp->status = web_token_status(rc);
    pthread_mutex_unlock(&w->lock);
    page_begin(pg, "Unsubscribe");
    sb_puts(b, "<h1>Unsubscribe</h1>");
    if (ok && post)
	done(pg, &u);
    else if (ok)
	show(pg, &u);
    else {
	sb_puts(b, "<p class=\"error\" role=\"alert\">");
	html_text(b, why.s);
	sb_puts(b, u.muted ? " The others are muted.</p>" : " Nothing was changed.</p>");
    }
    sb_puts(b, "<p><a href=\"/\">Your notification settings</a></p>");
    page_end(pg);
    sb_free(&u.user), sb_free(&u.notif), sb_free(&u.freq_title), sb_free(&u.list);
    strv_free(&u.ids);
    sb_free(&why);
}
