/*
 * form.c - create, edit and clone: the form and its POST.
 *
 * As the reference product: "Notify me when" (the catalog's event types
 * by title), then "Where" (each filter the type offers: its values to
 * tick, or a text field for free text; at least one condition), then
 * "Frequency" (what the type offers). Without JavaScript, choosing the
 * type is a step of its own (a GET form); with it, panel.js fetches the
 * rest of the form for the type chosen (?fragment=1) and puts it in place.
 *
 * A POST is checked here only for what people need said next to the form
 * (no condition, a value or a frequency not offered); change.c then checks
 * everything as crierctl's changes are checked, and its refusals (a
 * duplicate: "already exists as 'X'") are shown the same way, with the
 * person's input kept. After a save, the list shows the entry highlighted.
 * The form shows how often it would have notified (preview.c); its
 * Preview button posts the form to show that without saving.
 *
 * The error, #form-error, is the form's one live region (role="alert"):
 * the fields it concerns carry aria-invalid and aria-describedby pointing
 * to it, and #rest, which panel.js replaces, is none (the new part of the
 * form is not read out whole; panel.js says in a word what changed).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "pages.h"
#include "strutil.h"

/* What the form's error concerns: those fields are marked invalid. */
enum form_bad {
    BAD_NONE,				/* no one field (a refusal of change.c) */
    BAD_TYPE,				/* "Notify me when" */
    BAD_WHERE,				/* every condition */
    BAD_FILTER,				/* the condition on bad_filter */
    BAD_FREQUENCY,
    BAD_NAME,
};

#define FORM_ERROR_ID	"form-error"

/* What the form holds: from a notification, a type step, or a POST. */
typedef struct form {
    int     mode;			/* FORM_CREATE, FORM_EDIT, FORM_CLONE */
    const char *src;			/* edit, clone: the notification's id */
    const char *event;
    const char *frequency;
    const char *name;			/* create, clone: the new name, or "" */
    COND   *conds;			/* owned */
    size_t  nconds;
    STRBUF  error;
    enum form_bad bad;			/* what the error concerns */
    const char *bad_filter;		/* BAD_FILTER: that filter's name */
} FORM;

static const char *const mode_path[] = {"", "/new", "/edit", "/clone"};
static const char *const mode_word[] = {"", "create", "edit", "clone"};

static void form_free(FORM *f)
{
    rules_conds_free(f->conds, f->nconds);
    sb_free(&f->error);
}

static COND *cond_add(FORM *f, const char *filter)
{
    COND   *c;

    f->conds = xrealloc(f->conds, (f->nconds + 1) * sizeof(COND));
    c = &f->conds[f->nconds++];
    memset(c, 0, sizeof(*c));
    c->filter = xstrdup(filter);
    return (c);
}

static const COND *cond_of(const FORM *f, const char *filter)
{
    size_t  i;

    for (i = 0; i < f->nconds; i++)
	if (strcmp(f->conds[i].filter, filter) == 0)
	    return (&f->conds[i]);
    return (NULL);
}

/*
 * form_invalid - in a field's tag: aria-invalid and aria-describedby when
 * the form's error concerns it (bad, and for BAD_FILTER the filter named)
 */
static void form_invalid(STRBUF *b, const FORM *f, enum form_bad bad, const char *filter)
{
    if (f->error.len == 0 || f->bad == BAD_NONE)
	return;
    if (f->bad == BAD_FILTER && (filter == NULL || strcmp(f->bad_filter, filter) != 0))
	return;
    if (f->bad == bad || (bad == BAD_FILTER && f->bad == BAD_WHERE))
	sb_puts(b, " aria-invalid=\"true\" aria-describedby=\"" FORM_ERROR_ID "\"");
}

/* form_from_notif - start from a notification: the conditions the type offers */
static void form_from_notif(FORM *f, const NOTIF *n, const EVTYPE *et)
{
    size_t  i, j;

    f->frequency = n->frequency;
    for (i = 0; i < n->nconds; i++) {
	COND   *c;

	if (et && rules_filter(et, n->conds[i].filter) == NULL)
	    continue;
	c = cond_add(f, n->conds[i].filter);
	for (j = 0; j < n->conds[i].values.len; j++)
	    strv_add(&c->values, n->conds[i].values.v[j]);
    }
}

/* split_text - a free-text field: values separated by commas */
static void split_text(const char *text, STRV *out)
{
    char   *copy = xstrdup(text), *v, *save = NULL;

    for (v = strtok_r(copy, ",", &save); v; v = strtok_r(NULL, ",", &save))
	if (*str_trim(v))
	    strv_add(out, str_trim(v));
    free(copy);
}

/* add_value - one posted value (or a text field's values) to the filter's condition */
static void add_value(FORM *f, const char *filter, int text, const char *val)
{
    STRV    vals = STRV_INIT;
    COND   *c;
    size_t  i;

    if (text)
	split_text(val, &vals);
    else if (*val)
	strv_add(&vals, val);
    if (vals.len && (c = (COND *) cond_of(f, filter)) == NULL)
	c = cond_add(f, filter);
    for (i = 0; i < vals.len; i++)
	strv_add(&c->values, vals.v[i]);
    strv_free(&vals);
}

/*
 * form_from_post - the conditions posted: w.FILTER (ticked values) and
 * t.FILTER (free text); a filter the type does not offer is an error
 */
static void form_from_post(PAGE *pg, const EVTYPE *et, FORM *f)
{
    const STRV *fields = &pg->req->form;
    size_t  i;

    for (i = 0; i + 1 < fields->len; i += 2) {
	const char *k = fields->v[i];

	if (strncmp(k, "w.", 2) != 0 && strncmp(k, "t.", 2) != 0)
	    continue;
	if (rules_filter(et, k + 2) == NULL) {
	    if (f->error.len == 0)
		sb_printf(&f->error, "'%s' is not a condition this event type offers.", k + 2);
	    continue;
	}
	add_value(f, k + 2, k[0] == 't', fields->v[i + 1]);
    }
}

/* form_check - what people are told next to the form; 0 when nothing */
static int form_check(const EVTYPE *et, FORM *f)
{
    size_t  i, j;

    if (f->error.len)
	return (-1);
    if (f->nconds == 0) {
	sb_puts(&f->error, "Choose at least one condition under Where.");
	f->bad = BAD_WHERE;
    }
    for (i = 0; i < f->nconds && f->error.len == 0; i++) {
	const FILTER *flt = rules_filter(et, f->conds[i].filter);

	for (j = 0; flt->values.len && j < f->conds[i].values.len; j++)
	    if (strv_find_case(&flt->values, f->conds[i].values.v[j]) < 0) {
		sb_printf(&f->error, "'%s' is not a value this event type offers for ",
			  f->conds[i].values.v[j]);
		person_filter_title(f->conds[i].filter, &f->error);
		sb_putc(&f->error, '.');
		f->bad = BAD_FILTER;
		f->bad_filter = f->conds[i].filter;
		break;
	    }
    }
    if (f->error.len == 0 && (f->frequency == NULL || strv_find_case(&et->freqs,
								    f->frequency) < 0)) {
	sb_puts(&f->error, "Choose one of the frequencies this event type offers.");
	f->bad = BAD_FREQUENCY;
    }
    return (f->error.len ? -1 : 0);
}

/* type_step - "Notify me when": a GET form of its own */
static void type_step(const PERSON *p, const FORM *f, STRBUF *b)
{
    const RULES *r = p->rules;
    size_t  i;

    sb_puts(b, "<form method=\"get\" action=\"");
    sb_puts(b, mode_path[f->mode]);
    sb_puts(b, "\" id=\"type-form\" class=\"step\">");
    if (f->src)
	html_hidden(b, "n", f->src);
    sb_puts(b, "<label for=\"type\">Notify me when</label><select id=\"type\" name=\"event\"");
    form_invalid(b, f, BAD_TYPE, NULL);
    sb_puts(b, "><option value=\"\">Choose an event type</option>");
    for (i = 0; i < r->nevtypes; i++) {
	sb_puts(b, "<option value=\"");
	html_text(b, r->evtypes[i].name);
	sb_puts(b, f->event && strcmp(f->event, r->evtypes[i].name) == 0 ? "\" selected>"
		: "\">");
	html_text(b, r->evtypes[i].title ? r->evtypes[i].title : r->evtypes[i].name);
	sb_puts(b, "</option>");
    }
    sb_puts(b, "</select><button type=\"submit\" id=\"type-next\">Next</button></form>");
}

/* filter_field - one filter: its values to tick, or a text field */
static void filter_field(const FILTER *flt, const FORM *f, STRBUF *b)
{
    const COND *c = cond_of(f, flt->name);
    STRBUF  title = STRBUF_INIT;
    size_t  i;

    person_filter_title(flt->name, &title);
    if (flt->values.len == 0) {
	sb_puts(b, "<div class=\"filter\"><label for=\"t-");
	html_text(b, flt->name);
	sb_puts(b, "\">");
	html_text(b, title.s);
	sb_puts(b, "</label><input type=\"text\" id=\"t-");
	html_text(b, flt->name);
	sb_puts(b, "\" name=\"t.");
	html_text(b, flt->name);
	sb_puts(b, "\" value=\"");
	for (i = 0; c && i < c->values.len; i++) {
	    sb_puts(b, i ? ", " : "");
	    html_text(b, c->values.v[i]);
	}
	sb_putc(b, '"');
	form_invalid(b, f, BAD_FILTER, flt->name);
	sb_puts(b, "><p class=\"hint\">Any text; several values separated by commas.</p>"
		"</div>");
    } else {
	sb_puts(b, "<fieldset class=\"filter\"><legend>");
	html_text(b, title.s);
	sb_puts(b, "</legend>");
	for (i = 0; i < flt->values.len; i++) {
	    sb_puts(b, "<label class=\"check\"><input type=\"checkbox\" name=\"w.");
	    html_text(b, flt->name);
	    sb_puts(b, "\" value=\"");
	    html_text(b, flt->values.v[i]);
	    sb_puts(b, c && strv_find_case(&c->values, flt->values.v[i]) >= 0 ? "\" checked"
		    : "\"");
	    form_invalid(b, f, BAD_FILTER, flt->name);
	    sb_puts(b, "> ");
	    html_text(b, flt->values.v[i]);
	    sb_puts(b, "</label>");
	}
	sb_puts(b, "</fieldset>");
    }
    sb_free(&title);
}

/* frequency_field - the frequencies the type offers, as radio buttons */
static void frequency_field(const PERSON *p, const EVTYPE *et, const FORM *f, STRBUF *b)
{
    const FREQ *fr;
    size_t  i;

    sb_puts(b, "<fieldset class=\"frequency\"><legend>Frequency</legend>");
    for (i = 0; i < et->freqs.len; i++) {
	fr = rules_freq(p->rules, et->freqs.v[i]);
	sb_puts(b, "<label class=\"check\"><input type=\"radio\" name=\"frequency\" value=\"");
	html_text(b, et->freqs.v[i]);
	sb_puts(b, f->frequency && strcmp(f->frequency, et->freqs.v[i]) == 0 ? "\" checked"
		: "\"");
	form_invalid(b, f, BAD_FREQUENCY, NULL);
	sb_puts(b, "> ");
	html_text(b, fr && fr->title ? fr->title : et->freqs.v[i]);
	sb_puts(b, "</label>");
    }
    sb_puts(b, "</fieldset>");
}

/* rest - Where, Frequency, the name and Save: the part that follows the type */
static void rest(PAGE *pg, const PERSON *p, const FORM *f, STRBUF *b)
{
    const EVTYPE *et = f->event ? rules_evtype(p->rules, f->event) : NULL;
    size_t  i;

    sb_puts(b, "<div id=\"rest\">");
    if (f->error.len) {
	sb_puts(b, "<p class=\"error\" role=\"alert\" id=\"" FORM_ERROR_ID "\">");
	html_text(b, f->error.s);
	sb_puts(b, "</p>");
    }
    if (et == NULL) {
	sb_puts(b, "<p class=\"hint\">Choose an event type, then what to be notified of and "
		"how often.</p></div>");
	return;
    }
    sb_puts(b, "<form method=\"post\" action=\"/save\" id=\"save-form\">");
    html_hidden(b, "csrf", pg->s.csrf.s);
    html_hidden(b, "mode", mode_word[f->mode]);
    if (f->src)
	html_hidden(b, "src", f->src);
    html_hidden(b, "event", f->event);
    sb_puts(b, "<fieldset class=\"where\"><legend>Where</legend><p class=\"hint\">At least "
	    "one condition; an event must meet all of them.</p>");
    for (i = 0; i < et->nfilters; i++)
	filter_field(&et->filters[i], f, b);
    sb_puts(b, "</fieldset>");
    frequency_field(p, et, f, b);
    if (f->mode != FORM_EDIT) {
	sb_puts(b, "<div class=\"filter\"><label for=\"name\">Name (optional)</label>"
		"<input type=\"text\" id=\"name\" name=\"name\" maxlength=\"64\" value=\"");
	html_text(b, f->name);
	sb_putc(b, '"');
	form_invalid(b, f, BAD_NAME, NULL);
	sb_puts(b, "><p class=\"hint\">Letters, digits, _ and -. Left empty, a name is made "
		"from your choices.</p></div>");
    }
    preview_show(pg, p, f->event, f->conds, f->nconds, b);
    sb_puts(b, "<div class=\"actions\"><button type=\"submit\" class=\"primary\">Save</button>"
	    "<button type=\"submit\" name=\"preview\" value=\"1\">Preview</button>"
	    "<a class=\"button\" href=\"/\">Cancel</a></div></form></div>");
}

/* render - the whole form page, or only its rest (?fragment=1, for panel.js) */
static void render(PAGE *pg, const PERSON *p, const FORM *f)
{
    STRBUF *b = &pg->resp->body, title = STRBUF_INIT;
    const char *frag = http_arg(pg->req, "fragment");

    if (frag && strcmp(pg->req->method, "GET") == 0) {
	rest(pg, p, f, b);
	return;
    }
    sb_puts(&title, f->mode == FORM_CREATE ? "Create notification" : f->mode == FORM_EDIT
	    ? "Edit notification" : "Clone notification");
    page_begin(pg, title.s);
    sb_puts(b, "<h1>");
    html_text(b, title.s);
    sb_puts(b, "</h1>");
    if (f->src) {
	sb_puts(b, "<p>");
	sb_puts(b, f->mode == FORM_EDIT ? "Changing " : "A new notification, copied from ");
	sb_puts(b, "<strong>");
	html_text(b, f->src);
	sb_puts(b, "</strong>.</p>");
    }
    type_step(p, f, b);
    rest(pg, p, f, b);
    page_end(pg);
    sb_free(&title);
}

/* form_show - GET /new, /edit?n=ID, /clone?n=ID (with ?event=TYPE: that type) */
void    form_show(PAGE *pg, int mode)
{
    STRBUF  why = STRBUF_INIT;
    const char *event = http_arg(pg->req, "event");
    const EVTYPE *et;
    PERSON  p;
    ENTRY   e;
    FORM    f;

    memset(&f, 0, sizeof(f));
    f.mode = mode;
    f.src = mode == FORM_CREATE ? NULL : http_arg(pg->req, "n");
    if (person_load(pg->web, pg->s.user.s, &p, &why) < 0) {
	msg_error("web: user=<%s>: %s", pg->s.user.s, why.s);
	page_error(pg, 503, "Not available", "Please try again later.");
    } else if (mode != FORM_CREATE && (f.src == NULL || person_find(&p, f.src, &e) < 0))
	page_error(pg, 404, "Not found", "You have no such notification.");
    else if (mode == FORM_EDIT && e.n->kind != NOTIF_CUSTOM)
	page_error(pg, 409, "Not editable", "This is a default of your profile: defaults "
		   "cannot be edited. Clone it and change the clone.");
    else {
	f.event = event && *event ? event : f.src ? e.n->event : NULL;
	et = f.event ? rules_evtype(p.rules, f.event) : NULL;
	if (f.src)
	    form_from_notif(&f, e.n, et);
	if (f.src && mode == FORM_CLONE)
	    f.name = "";
	render(pg, &p, &f);
    }
    form_free(&f);
    person_free(&p);
    sb_free(&why);
}

/* to_change - the form as a change of change.c */
static void to_change(const FORM *f, const ENTRY *src, CHANGE *c)
{
    size_t  i;

    memset(c, 0, sizeof(*c));
    c->verb = f->mode;
    c->name = f->src;
    c->new_name = f->name && *f->name && f->mode != FORM_EDIT ? f->name : NULL;
    c->event = f->event;
    c->frequency = f->frequency;
    c->where = xcalloc(f->nconds + 1, sizeof(COND));
    for (i = 0; i < f->nconds; i++) {
	size_t  j;

	c->where[i].filter = xstrdup(f->conds[i].filter);
	for (j = 0; j < f->conds[i].values.len; j++)
	    strv_add(&c->where[i].values, f->conds[i].values.v[j]);
    }
    c->nwhere = f->nconds;
    for (i = 0; src && i < src->n->nconds; i++)	/* what the form no longer has */
	if (cond_of(f, src->n->conds[i].filter) == NULL)
	    strv_add(&c->unwhere, src->n->conds[i].filter);
}

/*
 * name_refused - change.c refused the name typed in the form (not a name,
 * or one taken), in its words ("'x' is not a name", "named 'x'"), rather
 * than the notification itself
 */
static int name_refused(const FORM *f)
{
    STRBUF  bad = STRBUF_INIT, taken = STRBUF_INIT;
    int     rc;

    if (f->mode == FORM_EDIT || f->name == NULL || *f->name == 0)
	return (0);
    sb_printf(&bad, "'%s' is not a name", f->name);
    sb_printf(&taken, "named '%s'", f->name);
    rc = strstr(f->error.s, bad.s) != NULL || strstr(f->error.s, taken.s) != NULL;
    sb_free(&bad), sb_free(&taken);
    return (rc);
}

/* save - the checked form through change.c: 0, or -1 with f->error */
static int save(PAGE *pg, const PERSON *p, FORM *f, STRBUF *id)
{
    const EVTYPE *et = rules_evtype(p->rules, f->event);
    ENTRY   src;
    CHANGE  c;
    int     rc;

    if (form_check(et, f) < 0)
	return (-1);
    to_change(f, f->src && person_find(p, f->src, &src) == 0 ? &src : NULL, &c);
    rc = web_apply(pg->web, pg->s.user.s, &c, id, &f->error);
    if (rc < 0 && name_refused(f))
	f->bad = BAD_NAME;
    change_free(&c);
    return (rc);
}

/* form_mode - the mode word of a POST */
static int form_mode(const char *word)
{
    int     m;

    for (m = FORM_CREATE; word && m <= FORM_CLONE; m++)
	if (strcmp(word, mode_word[m]) == 0)
	    return (m);
    return (0);
}

/*
 * form_save - POST /save: saved and back to the list, or the form again
 * with why; with "preview", the form again with how often it would notify
 */
void    form_save(PAGE *pg)
{
    STRBUF  why = STRBUF_INIT, id = STRBUF_INIT, to = STRBUF_INIT;
    const EVTYPE *et;
    PERSON  p;
    FORM    f;

    memset(&f, 0, sizeof(f));
    f.mode = form_mode(web_field(pg, "mode"));
    f.src = f.mode == FORM_CREATE ? NULL : web_field(pg, "src");
    f.event = web_field(pg, "event");
    f.frequency = web_field(pg, "frequency");
    f.name = web_field(pg, "name");
    if (f.mode == 0 || (f.mode != FORM_CREATE && f.src == NULL))
	page_error(pg, 400, "Not saved", "The form is incomplete; nothing was changed.");
    else if (person_load(pg->web, pg->s.user.s, &p, &why) < 0) {
	msg_error("web: user=<%s>: %s", pg->s.user.s, why.s);
	page_error(pg, 503, "Not available", "Please try again later.");
    } else {
	if ((et = f.event ? rules_evtype(p.rules, f.event) : NULL) == NULL) {
	    sb_puts(&f.error, "Choose what to be notified of.");
	    f.bad = BAD_TYPE;
	} else
	    form_from_post(pg, et, &f);
	if (et && web_field(pg, "preview") != NULL)
	    render(pg, &p, &f);			/* the form again, with its preview */
	else if (et && save(pg, &p, &f, &id) == 0) {
	    sb_puts(&to, "/?did=saved&n=");
	    html_url(&to, id.s);
	    sb_puts(&to, "#n-");
	    html_url(&to, id.s);
	    http_redirect(pg->resp, to.s);
	} else {
	    pg->resp->status = 422;
	    render(pg, &p, &f);
	}
	person_free(&p);
    }
    form_free(&f);
    sb_free(&why), sb_free(&id), sb_free(&to);
}
