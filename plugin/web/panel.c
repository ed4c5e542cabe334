/*
 * panel.c - the list of a person's notifications, and the changes made
 * from it (mute, unmute, delete).
 *
 * As the reference product: the person's address, profile, partners and
 * time zone at the top; a Default and a Custom section, each grouped by
 * frequency in the catalog's order; each entry with its event type's
 * title, its conditions, its frequency, whether it is muted, and a menu
 * of buttons (defaults offer no Edit or Delete). Search goes by event
 * type and by any word of a title, a condition, a frequency or a name,
 * and keeps the grouping. Below, the person's digests (pending.c).
 *
 * The list is rendered with its CSRF tokens left out and filled in with
 * the session's (html.h): the plain list, without a search or a change
 * to show, is kept with the person's rules (person.c) and made anew only
 * when they change. The digests below it change with time and with the
 * items waiting, and are made for every page.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "digest.h"
#include "log.h"
#include "mem.h"
#include "pages.h"
#include "schedule.h"
#include "strutil.h"

/* What the list shows: the person, the search, the entry to highlight. */
typedef struct view {
    PAGE   *pg;
    PERSON  p;
    ENTRY  *e;
    size_t  n;
    const char *q;			/* words to search for, or NULL */
    const char *event;			/* event type to show, or NULL */
    const char *mark;			/* the entry just changed */
    const char *csrf;			/* in every form: "", for html_shared_fill */
    size_t  shown;
} VIEW;

static const char *freq_title(const RULES *r, const char *name)
{
    const FREQ *f = rules_freq(r, name);

    return (f && f->title ? f->title : name);
}

static const char *event_title(const RULES *r, const char *name)
{
    const EVTYPE *et = rules_evtype(r, name);

    return (et && et->title ? et->title : name);
}

/* haystack - every word the search looks at, for one entry */
static void haystack(const VIEW *v, const ENTRY *e, STRBUF *h)
{
    const NOTIF *n = e->n;
    size_t  i, j;

    sb_printf(h, "%s %s %s %s %s %s %s", n->id, n->event, event_title(v->p.rules, n->event),
	      n->frequency, freq_title(v->p.rules, n->frequency), e->muted ? "muted" : "active",
	      n->kind == NOTIF_DEFAULT ? "default" : "custom");
    for (i = 0; i < n->nconds; i++) {
	sb_printf(h, " %s", n->conds[i].filter);
	person_filter_title(n->conds[i].filter, h);
	for (j = 0; j < n->conds[i].values.len; j++)
	    sb_printf(h, " %s", n->conds[i].values.v[j]);
    }
}

/* matches - the entry holds every word of the search, and its event type */
static int matches(const VIEW *v, const ENTRY *e)
{
    STRBUF  h = STRBUF_INIT;
    char   *words, *w, *save = NULL;
    int     ok = 1;

    if (v->event && *v->event && strcmp(e->n->event, v->event) != 0)
	return (0);
    if (v->q == NULL || *v->q == 0)
	return (1);
    haystack(v, e, &h);
    words = xstrdup(v->q);
    for (w = strtok_r(words, " \t", &save); w && ok; w = strtok_r(NULL, " \t", &save))
	ok = str_casestr(h.s, w);
    free(words);
    sb_free(&h);
    return (ok);
}

/* entry_menu - the buttons of one entry: what it offers, and no more */
static void entry_menu(VIEW *v, const ENTRY *e, STRBUF *b)
{
    const char *csrf = v->csrf, *id = e->n->id;

    sb_puts(b, "<details class=\"menu\"><summary>Actions<span class=\"sr\"> for ");
    html_text(b, id);
    sb_puts(b, "</span></summary><div class=\"menu-items\">");
    if (e->muted != ENTRY_MUTED_DEF)
	html_button_form(b, e->muted ? "/unmute" : "/mute", csrf, "name", id,
			 e->muted ? "Unmute" : "Mute", NULL);
    sb_puts(b, "<a class=\"button\" href=\"/clone?n=");
    html_url(b, id);
    sb_puts(b, "\">Clone</a>");
    if (e->n->kind == NOTIF_CUSTOM) {
	sb_puts(b, "<a class=\"button\" href=\"/edit?n=");
	html_url(b, id);
	sb_puts(b, "\">Edit</a><a class=\"button danger\" href=\"/delete?n=");
	html_url(b, id);
	sb_puts(b, "\">Delete</a>");
    }
    sb_puts(b, "</div></details>");
}

/* entry - one notification of the list */
static void entry(VIEW *v, const ENTRY *e, STRBUF *b)
{
    const NOTIF *n = e->n;
    int     mark = v->mark && strcmp(v->mark, n->id) == 0;

    sb_printf(b, "<li class=\"notif%s%s\" id=\"n-", e->muted ? " muted" : "",
	      mark ? " saved" : "");
    html_url(b, n->id);
    sb_puts(b, "\"><div class=\"what\"><strong>");
    html_text(b, event_title(v->p.rules, n->event));
    sb_puts(b, "</strong>");
    if (e->muted)
	sb_printf(b, " <span class=\"badge\">%s</span>", e->muted == ENTRY_MUTED_DEF
		  ? "Muted for your whole profile" : "Muted");
    sb_puts(b, "</div><div class=\"where\"><span class=\"label\">Where</span> ");
    person_where(&v->p, n, b);
    sb_puts(b, "</div><div class=\"freq\"><span class=\"label\">Frequency</span> ");
    html_text(b, freq_title(v->p.rules, n->frequency));
    sb_puts(b, "</div><div class=\"name\">");
    html_text(b, n->id);
    sb_puts(b, "</div>");
    entry_menu(v, e, b);
    sb_puts(b, "</li>");
    v->shown++;
}

/* section - Default or Custom, grouped by frequency in the catalog's order */
static void section(VIEW *v, int kind, STRBUF *b)
{
    const RULES *r = v->p.rules;
    size_t  f, i, before = v->shown;
    int     open;

    sb_printf(b, "<section class=\"kind\" aria-labelledby=\"h-%c\"><h2 id=\"h-%c\">%s "
	      "notifications</h2>", kind, kind, kind == NOTIF_DEFAULT ? "Default" : "Custom");
    for (f = 0; f < r->nfreqs; f++) {
	for (i = 0, open = 0; i < v->n; i++) {
	    if (v->e[i].n->kind != kind || strcmp(v->e[i].n->frequency, r->freqs[f].name) != 0
		|| !matches(v, &v->e[i]))
		continue;
	    if (!open++) {
		sb_puts(b, "<h3>");
		html_text(b, freq_title(r, r->freqs[f].name));
		sb_puts(b, "</h3><ul class=\"notifs\">");
	    }
	    entry(v, &v->e[i], b);
	}
	if (open)
	    sb_puts(b, "</ul>");
    }
    if (v->shown == before)
	sb_printf(b, "<p class=\"empty\">%s</p>", (v->q && *v->q) || (v->event && *v->event)
		  ? "None matches the search." : kind == NOTIF_CUSTOM
		  ? "You have no custom notifications yet." : "Your profile has no defaults.");
    sb_puts(b, "</section>");
}

/* header - who the person is, as rules.d says */
static void header(VIEW *v, STRBUF *b)
{
    const USER *u = v->p.user;
    size_t  i;

    sb_puts(b, "<h1>Your notifications</h1><dl class=\"person\"><dt>Address</dt><dd>");
    html_text(b, u->address);
    sb_puts(b, "</dd><dt>Profile</dt><dd>");
    html_text(b, v->p.profile && v->p.profile->title ? v->p.profile->title : u->profile);
    sb_puts(b, "</dd><dt>Partners</dt><dd>");
    for (i = 0; i < u->partners.len; i++) {
	sb_puts(b, i ? ", " : "");
	html_text(b, strcmp(u->partners.v[i], "*") == 0 ? "All partners" : u->partners.v[i]);
    }
    sb_puts(b, "</dd><dt>Time zone</dt><dd>");
    html_text(b, u->timezone ? u->timezone : v->pg->web->conf->default_timezone);
    sb_puts(b, "</dd></dl>");
}

/* done_message - what the last change did, from the redirect after it */
static void done_message(VIEW *v, STRBUF *b)
{
    static const char *const did[][2] = {{"saved", "Saved"}, {"muted", "Muted"},
    {"unmuted", "Unmuted"}, {"deleted", "Deleted"}, {NULL, NULL}};
    const char *what = http_arg(v->pg->req, "did");
    int     i;

    if (what == NULL || v->mark == NULL)
	return;
    for (i = 0; did[i][0] && strcmp(did[i][0], what) != 0; i++)
	 /* void */ ;
    if (did[i][0] == NULL)
	return;
    sb_printf(b, "<p class=\"notice\" role=\"status\">%s '", did[i][1]);
    html_text(b, v->mark);
    sb_puts(b, "'</p>");
}

/* search_form - by event type (as the reference) and by any word */
static void search_form(VIEW *v, STRBUF *b)
{
    const RULES *r = v->p.rules;
    size_t  i;

    sb_puts(b, "<form method=\"get\" action=\"/\" class=\"search\" role=\"search\">"
	    "<label for=\"q\">Search</label><input type=\"search\" id=\"q\" name=\"q\" value=\"");
    html_text(b, v->q);
    sb_puts(b, "\"><label for=\"event\">Event type</label><select id=\"event\" name=\"event\">"
	    "<option value=\"\">All event types</option>");
    for (i = 0; i < r->nevtypes; i++) {
	sb_puts(b, "<option value=\"");
	html_text(b, r->evtypes[i].name);
	sb_puts(b, v->event && strcmp(v->event, r->evtypes[i].name) == 0 ? "\" selected>" : "\">");
	html_text(b, r->evtypes[i].title ? r->evtypes[i].title : r->evtypes[i].name);
	sb_puts(b, "</option>");
    }
    sb_puts(b, "</select><button type=\"submit\">Search</button>");
    if ((v->q && *v->q) || (v->event && *v->event))
	sb_puts(b, "<a href=\"/\">Clear</a>");
    sb_puts(b, "</form><p><a class=\"button primary\" href=\"/new\">Create notification</a></p>");
}

/* list - the list up to the digests, its CSRF tokens left out */
static void list(VIEW *v, HTML_SHARED *sh)
{
    HTML_FRAME f = {"Your notifications", v->pg->s.user.s, v->csrf};
    STRBUF  b = STRBUF_INIT;

    html_page_begin(&b, &f);
    header(v, &b);
    done_message(v, &b);
    search_form(v, &b);
    section(v, NOTIF_DEFAULT, &b);
    section(v, NOTIF_CUSTOM, &b);
    html_shared_make(sh, &b);
}

/* panel_list - GET /: the whole list, or what the search keeps */
void    panel_list(PAGE *pg)
{
    STRBUF *b = &pg->resp->body, why = STRBUF_INIT;
    HTML_SHARED made = HTML_SHARED_INIT;
    const HTML_SHARED *kept = NULL;
    VIEW    v;
    int     plain;

    memset(&v, 0, sizeof(v));
    v.pg = pg;
    v.q = http_arg(pg->req, "q");
    v.event = http_arg(pg->req, "event");
    v.mark = http_arg(pg->req, "n");
    v.csrf = "";
    plain = (v.q == NULL || *v.q == 0) && (v.event == NULL || *v.event == 0) && v.mark == NULL;
    if (person_load(pg->web, pg->s.user.s, &v.p, &why) < 0) {
	msg_error("web: user=<%s>: %s", pg->s.user.s, why.s);
	page_error(pg, 503, "Not available", "Your notifications cannot be shown just now; "
		   "the postmaster has been told. Please try again later.");
	sb_free(&why);
	return;
    }
    v.n = person_entries(&v.p, &v.e);
    if (!plain || (kept = person_page(&v.p)) == NULL) {
	list(&v, &made);
	kept = &made;
    }
    html_shared_fill(b, kept, pg->s.csrf.s);
    pending_show(pg, &v.p, v.e, v.n, b);
    page_end(pg);
    if (plain && kept == &made)
	person_keep_page(&v.p, &made);
    html_shared_free(&made);
    free(v.e);
    person_free(&v.p);
    sb_free(&why);
}

/* panel_delete_confirm - GET /delete?n=ID: asks; only the POST deletes */
void    panel_delete_confirm(PAGE *pg)
{
    STRBUF *b = &pg->resp->body, why = STRBUF_INIT;
    const char *id = http_arg(pg->req, "n");
    PERSON  p;
    ENTRY   e;

    if (person_load(pg->web, pg->s.user.s, &p, &why) < 0) {
	msg_error("web: user=<%s>: %s", pg->s.user.s, why.s);
	page_error(pg, 503, "Not available", "Please try again later.");
    } else if (person_find(&p, id, &e) < 0)
	page_error(pg, 404, "Not found", "You have no such notification.");
    else if (e.n->kind != NOTIF_CUSTOM)
	page_error(pg, 409, "Not deleted", "This is a default of your profile: defaults "
		   "cannot be deleted. Mute it, or clone it and change the clone.");
    else {
	page_begin(pg, "Delete notification");
	sb_puts(b, "<h1>Delete notification</h1><p>Delete <strong>");
	html_text(b, id);
	sb_puts(b, "</strong> (");
	html_text(b, event_title(p.rules, e.n->event));
	sb_puts(b, ", ");
	html_text(b, freq_title(p.rules, e.n->frequency));
	sb_puts(b, ")? This cannot be undone.</p><div class=\"actions\">");
	html_button_form(b, "/delete", pg->s.csrf.s, "name", id, "Delete", "danger");
	sb_puts(b, "<a class=\"button\" href=\"/\">Cancel</a></div>");
	page_end(pg);
    }
    person_free(&p);
    sb_free(&why);
}

/* panel_change - POST /mute, /unmute, /delete: the change, then the list */
void    panel_change(PAGE *pg, int verb)
{
    STRBUF  id = STRBUF_INIT, why = STRBUF_INIT, to = STRBUF_INIT;
    const char *name = web_field(pg, "name");
    CHANGE  c;

    memset(&c, 0, sizeof(c));
    c.verb = verb;
    c.name = name ? name : "";
    if (web_apply(pg->web, pg->s.user.s, &c, &id, &why) < 0)
	page_error(pg, 409, "Not changed", why.s);
    else {
	sb_printf(&to, "/?did=%s&n=", verb == CHANGE_MUTE ? "muted" : verb == CHANGE_UNMUTE
		  ? "unmuted" : "deleted");
	html_url(&to, id.s);
	if (verb != CHANGE_DELETE) {
	    sb_puts(&to, "#n-");
	    html_url(&to, id.s);
	}
	http_redirect(pg->resp, to.s);
    }
    change_free(&c);
    sb_free(&id), sb_free(&why), sb_free(&to);
}
