/*
 * person.c - one person's rules, read as change.c reads them: the
 * catalog (every file of rules.d outside users/) and the person's own
 * file, so the panel shows what a change is made on; the cost follows the
 * catalog, not the number of users. They are not checked here: a check
 * proves every RRULE and costs tens of milliseconds, and what is in
 * rules.d was checked when it was compiled; a change is checked whole by
 * change.c (and refused, saying why, if rules.d has errors).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "log.h"
#include "mem.h"
#include "pages.h"
#include "strutil.h"

/* person_load - the person's rules; -1 with why (for the log) when unusable */
int     person_load(WEB *w, const char *address, PERSON *p, STRBUF *why)
{
    DIAG   *d = diag_create();
    const char *file;

    memset(p, 0, sizeof(*p));
    file = change_user_file(w->rdb, w->conf->rules_dir, address, &p->file);
    p->rules = file ? rules_load_user(w->conf->rules_dir, file, d)
	: rules_load(w->conf->rules_dir, d);
    if (diag_errors(d) > 0)
	sb_printf(why, "%s: %s", w->conf->rules_dir, diag_first(d));
    else if ((p->user = rules_user(p->rules, address)) == NULL)
	sb_printf(why, "no user %s in %s", address, w->conf->rules_dir);
    else
	p->profile = rules_profile(p->rules, p->user->profile);
    diag_free(d);
    if (p->user == NULL) {
	person_free(p);
	return (-1);
    }
    return (0);
}

void    person_free(PERSON *p)
{
    if (p->rules)
	rules_free(p->rules);
    sb_free(&p->file);
    memset(p, 0, sizeof(*p));
}

/* default_muted - ENTRY_MUTED_DEF in its definition, ENTRY_MUTED by the person */
static int default_muted(const PERSON *p, const NOTIF *n)
{
    return (n->muted ? ENTRY_MUTED_DEF : strv_find_case(&p->user->muted, n->id) >= 0
	    ? ENTRY_MUTED : ENTRY_ACTIVE);
}

/* person_entries - defaults, then custom notifications; the caller frees *out */
size_t  person_entries(const PERSON *p, ENTRY **out)
{
    size_t  nd = p->profile ? p->profile->ndefaults : 0, i, n = 0;
    ENTRY  *e = xcalloc(nd + p->user->ncustom + 1, sizeof(ENTRY));

    for (i = 0; i < nd; i++, n++) {
	e[n].n = &p->profile->defaults[i];
	e[n].muted = default_muted(p, e[n].n);
    }
    for (i = 0; i < p->user->ncustom; i++, n++) {
	e[n].n = &p->user->custom[i];
	e[n].muted = e[n].n->muted ? ENTRY_MUTED : ENTRY_ACTIVE;
    }
    *out = e;
    return (n);
}

/* person_find - the person's notification id (PROFILE/NAME or NAME): 0, or -1 */
int     person_find(const PERSON *p, const char *id, ENTRY *e)
{
    ENTRY  *all;
    size_t  n = person_entries(p, &all), i;
    int     rc = -1;

    for (i = 0; i < n && rc < 0; i++)
	if (id && strcmp(all[i].n->id, id) == 0) {
	    *e = all[i];
	    rc = 0;
	}
    free(all);
    return (rc);
}

/* person_filter_title - "content_type" as people read it: "Content Type" */
void    person_filter_title(const char *name, STRBUF *out)
{
    int     start = 1;

    for (; *name; name++) {
	int     ch = *name == '_' ? ' ' : *name;

	sb_putc(out, start && ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
	start = ch == ' ';
    }
}

/* person_where - a notification's conditions, as escaped HTML */
void    person_where(const PERSON *p, const NOTIF *n, STRBUF *html)
{
    STRBUF  t = STRBUF_INIT;
    size_t  i, j;

    (void) p;
    for (i = 0; i < n->nconds; i++) {
	sb_puts(html, i ? "; " : "");
	sb_reset(&t);
	person_filter_title(n->conds[i].filter, &t);
	sb_puts(html, "<span class=\"cond\">");
	html_text(html, t.s);
	sb_puts(html, "</span> = ");
	for (j = 0; j < n->conds[i].values.len; j++) {
	    sb_puts(html, j ? ", " : "");
	    html_text(html, n->conds[i].values.v[j]);
	}
    }
    sb_free(&t);
}
