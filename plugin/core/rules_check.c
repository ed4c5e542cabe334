/*
 * rules_check.c - check what rules.d refers to, and refuse duplicates.
 *
 * After rules_load() has read every file, this module checks the references
 * between them (a notification's event type, filters, values and frequency
 * against the catalog; a user's profile, zone and mutes), that names are
 * defined once, and that no user's view (profile defaults plus custom
 * notifications) holds the same notification twice. Every problem goes to
 * the DIAG as FILE:LINE; checking goes on after an error.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "rules.h"
#include "schedule.h"
#include "strbuf.h"
#include "strutil.h"

const FREQ *rules_freq(const RULES *r, const char *name)
{
    size_t  i;

    for (i = 0; i < r->nfreqs; i++)
	if (strcmp(r->freqs[i].name, name) == 0)
	    return (&r->freqs[i]);
    return (NULL);
}

const EVTYPE *rules_evtype(const RULES *r, const char *name)
{
    size_t  i;

    for (i = 0; i < r->nevtypes; i++)
	if (strcmp(r->evtypes[i].name, name) == 0)
	    return (&r->evtypes[i]);
    return (NULL);
}

const FILTER *rules_filter(const EVTYPE *et, const char *name)
{
    size_t  i;

    for (i = 0; i < et->nfilters; i++)
	if (strcmp(et->filters[i].name, name) == 0)
	    return (&et->filters[i]);
    return (NULL);
}

const PROFILE *rules_profile(const RULES *r, const char *name)
{
    size_t  i;

    for (i = 0; i < r->nprofiles; i++)
	if (strcmp(r->profiles[i].name, name) == 0)
	    return (&r->profiles[i]);
    return (NULL);
}

/* rules_default - a default notification by its id, PROFILE/NAME */
const NOTIF *rules_default(const RULES *r, const char *id)
{
    const char *slash = strchr(id, '/');
    size_t  i;
    const PROFILE *p;
    STRBUF  name = STRBUF_INIT;

    if (slash == NULL)
	return (NULL);
    sb_putn(&name, id, (size_t) (slash - id));
    p = rules_profile(r, name.s);
    sb_free(&name);
    for (i = 0; p && i < p->ndefaults; i++)
	if (strcmp(p->defaults[i].id, id) == 0)
	    return (&p->defaults[i]);
    return (NULL);
}

static int user_cmp(const void *a, const void *b)
{
    const USER *ua = a, *ub = b;

    return (str_casecmp(ua->address ? ua->address : "", ub->address ? ub->address : ""));
}

/* rules_user - a user by address (ASCII case-insensitive); after rules_check */
const USER *rules_user(const RULES *r, const char *address)
{
    USER    key;

    memset(&key, 0, sizeof(key));
    key.address = (char *) address;
    return (bsearch(&key, r->users, r->nusers, sizeof(USER), user_cmp));
}

size_t  rules_count_notifs(const RULES *r)
{
    size_t  i, n = 0;

    for (i = 0; i < r->nprofiles; i++)
	n += r->profiles[i].ndefaults;
    for (i = 0; i < r->nusers; i++)
	n += r->users[i].ncustom;
    return (n);
}

/*
 * at - the line of the setting at fault, or of its group when the setting
 * has none (absent, or made by a change rather than read from a file)
 */
static int at(int line, int group_line)
{
    return (line > 0 ? line : group_line);
}

/* at_elem - the line of entry i of an array, from a list that may be NULL */
static int at_elem(const int *lines, size_t i, int array_line)
{
    return (lines ? at(lines[i], array_line) : array_line);
}

/* offered - "a, b, c": what the catalog offers, for error messages */
static const char *offered(STRBUF *sb, const STRV *sv)
{
    size_t  i;

    sb_reset(sb);
    for (i = 0; i < sv->len; i++)
	sb_printf(sb, "%s%s", i ? ", " : "", sv->v[i]);
    return (sv->len ? sb_str(sb) : "nothing");
}

/* check_cond - one condition of a notification against its event type */
static void check_cond(const EVTYPE *et, const NOTIF *n, const COND *c, DIAG *d)
{
    const FILTER *f = rules_filter(et, c->filter);
    STRBUF  sb = STRBUF_INIT;
    int     line = at(c->line, at(n->where_line, n->line));
    size_t  i;

    if (f == NULL) {
	STRV    names = STRV_INIT;

	for (i = 0; i < et->nfilters; i++)
	    strv_add(&names, et->filters[i].name);
	diag_error(d, n->file, line, "notification '%s': event type '%s' has no filter '%s' "
		   "(it offers: %s)", n->id, et->name, c->filter, offered(&sb, &names));
	strv_free(&names);
    } else if (c->values.len == 0)
	diag_error(d, n->file, line, "notification '%s': condition '%s' accepts no value",
		   n->id, c->filter);
    for (i = 0; f && f->values.len && i < c->values.len; i++)
	if (strv_find_case(&f->values, c->values.v[i]) < 0)
	    diag_error(d, n->file, line, "notification '%s': '%s' is not a value of "
		       "filter '%s' (it offers: %s)", n->id, c->values.v[i], c->filter,
		       offered(&sb, &f->values));
    sb_free(&sb);
}

/* check_notif - a notification's event type, conditions and frequency */
static void check_notif(const RULES *r, const NOTIF *n, DIAG *d)
{
    const EVTYPE *et;
    STRBUF  sb = STRBUF_INIT;
    int     fline = at(n->frequency_line, n->line);
    size_t  i;

    if (n->event == NULL || n->frequency == NULL)
	return;				/* reported by the loader */
    if ((et = rules_evtype(r, n->event)) == NULL) {
	STRV    names = STRV_INIT;

	for (i = 0; i < r->nevtypes; i++)
	    if (strv_find_case(&names, r->evtypes[i].name) < 0)
		strv_add(&names, r->evtypes[i].name);
	diag_error(d, n->file, at(n->event_line, n->line), "notification '%s': unknown "
		   "event type '%s' (the catalog offers: %s)", n->id, n->event,
		   offered(&sb, &names));
	strv_free(&names);
	sb_free(&sb);
	return;
    }
    if (n->nconds == 0)
	diag_error(d, n->file, at(n->where_line, n->line), "notification '%s' has no "
		   "condition: 'where' needs at least one", n->id);
    for (i = 0; i < n->nconds; i++)
	check_cond(et, n, &n->conds[i], d);
    if (rules_freq(r, n->frequency) == NULL)
	diag_error(d, n->file, fline, "notification '%s': unknown frequency '%s'",
		   n->id, n->frequency);
    else if (strv_find_case(&et->freqs, n->frequency) < 0)
	diag_error(d, n->file, fline, "notification '%s': event type '%s' does not offer "
		   "frequency '%s' (it offers: %s)", n->id, et->name, n->frequency,
		   offered(&sb, &et->freqs));
    sb_free(&sb);
}

/*
 * rules_notif_key - what makes two notifications the same: event type,
 * frequency and conditions, with filters and values sorted and values
 * lower-cased (order and case do not matter). Allocated.
 */
char   *rules_notif_key(const NOTIF *n)
{
    STRBUF  sb = STRBUF_INIT;
    STRV    conds = STRV_INIT;
    size_t  i, j;

    for (i = 0; i < n->nconds; i++) {
	STRV    vals = STRV_INIT;
	STRBUF  c = STRBUF_INIT;

	for (j = 0; j < n->conds[i].values.len; j++)
	    strv_take(&vals, str_lower(xstrdup(n->conds[i].values.v[j])));
	strv_sort(&vals);
	sb_printf(&c, "%s=", n->conds[i].filter);
	for (j = 0; j < vals.len; j++)
	    if (j == 0 || strcmp(vals.v[j], vals.v[j - 1]) != 0)
		sb_printf(&c, "%s\037", vals.v[j]);
	strv_take(&conds, sb_steal(&c));
	strv_free(&vals);
    }
    strv_sort(&conds);
    sb_printf(&sb, "%s\036%s", n->event ? n->event : "", n->frequency ? n->frequency : "");
    for (i = 0; i < conds.len; i++)
	sb_printf(&sb, "\036%s", conds.v[i]);
    strv_free(&conds);
    return (sb_steal(&sb));
}

typedef struct keyed {
    char   *key;
    const NOTIF *n;
    size_t  order;			/* position in the view, to keep reports stable */
} KEYED;

static int keyed_cmp(const void *a, const void *b)
{
    const KEYED *ka = a, *kb = b;
    int     c = strcmp(ka->key, kb->key);

    return (c ? c : (ka->order > kb->order) - (ka->order < kb->order));
}

/*
 * check_dups - report notifications of one view that are the same as an
 * earlier one. With "from", only notifications at or after that position
 * are reported (a user's check does not repeat its profile's findings).
 */
static void check_dups(const NOTIF *const *view, size_t n, size_t from, DIAG *d)
{
    KEYED  *k = xcalloc(n, sizeof(KEYED));
    size_t  i;

    for (i = 0; i < n; i++) {
	k[i].key = rules_notif_key(view[i]);
	k[i].n = view[i];
	k[i].order = i;
    }
    xsort(k, n, sizeof(KEYED), keyed_cmp);
    for (i = 1; i < n; i++)
	if (strcmp(k[i].key, k[i - 1].key) == 0 && k[i].order >= from) {
	    size_t  first = i - 1;

	    while (first > 0 && strcmp(k[first - 1].key, k[i].key) == 0)
		first--;
	    diag_error(d, k[i].n->file, k[i].n->line, "notification '%s' already exists as "
		       "'%s' (%s:%d): same event type, conditions and frequency",
		       k[i].n->id, k[first].n->id, k[first].n->file, k[first].n->line);
	}
    for (i = 0; i < n; i++)
	free(k[i].key);
    free(k);
}

/* check_unique - names of frequencies, event types and profiles are defined once */
#define CHECK_UNIQUE(arr, n, what, d) do { \
	size_t _i, _j; \
	for (_i = 1; _i < (n); _i++) \
	    for (_j = 0; _j < _i; _j++) \
		if (strcmp((arr)[_i].name, (arr)[_j].name) == 0) { \
		    diag_error((d), (arr)[_i].file, (arr)[_i].line, \
			"%s '%s' is defined twice (first at %s:%d)", (what), \
			(arr)[_i].name, (arr)[_j].file, (arr)[_j].line); \
		    break; \
		} \
    } while (0)

static void check_catalog(const RULES *r, DIAG *d)
{
    STRBUF  why = STRBUF_INIT;
    size_t  i, j;

    CHECK_UNIQUE(r->freqs, r->nfreqs, "frequency", d);
    CHECK_UNIQUE(r->evtypes, r->nevtypes, "event type", d);
    CHECK_UNIQUE(r->profiles, r->nprofiles, "profile", d);
    for (i = 0; i < r->nfreqs; i++) {
	sb_reset(&why);
	if (r->freqs[i].rrule && sched_rrule_check(r->freqs[i].rrule, &why) < 0)
	    diag_error(d, r->freqs[i].file, r->freqs[i].rrule_line, "frequency '%s': %s",
		       r->freqs[i].name, sb_str(&why));
    }
    for (i = 0; i < r->nevtypes; i++) {
	const EVTYPE *et = &r->evtypes[i];
	int     line = at(et->freqs_line, et->line);

	if (et->freqs.len == 0)
	    diag_error(d, et->file, line, "event type '%s' offers no frequency", et->name);
	for (j = 0; j < et->freqs.len; j++)
	    if (rules_freq(r, et->freqs.v[j]) == NULL)
		diag_error(d, et->file, at_elem(et->freq_lines, j, line), "event type '%s' "
			   "offers unknown frequency '%s'", et->name, et->freqs.v[j]);
    }
    sb_free(&why);
}

static void check_profiles(const RULES *r, DIAG *d)
{
    size_t  i, j;

    for (i = 0; i < r->nprofiles; i++) {
	const PROFILE *p = &r->profiles[i];
	const NOTIF **view = xcalloc(p->ndefaults + 1, sizeof(NOTIF *));

	for (j = 0; j < p->ndefaults; j++) {
	    check_notif(r, &p->defaults[j], d);
	    view[j] = &p->defaults[j];
	}
	check_dups(view, p->ndefaults, 0, d);
	free(view);
    }
}

/* address_valid - local@domain, printable, no white space or brackets */
static int address_valid(const char *a)
{
    const char *at = strrchr(a, '@');
    const char *p;

    if (at == NULL || at == a || at[1] == 0 || strlen(a) > 254)
	return (0);
    for (p = a; *p; p++)
	if ((unsigned char) *p <= ' ' || *p == 0x7f || strchr("<>()[],;\\\"", *p))
	    return (0);
    return (1);
}

static void check_user_mutes(const RULES *r, const USER *u, DIAG *d)
{
    size_t  i;

    for (i = 0; i < u->muted.len; i++) {
	const char *id = u->muted.v[i];
	const NOTIF *n = rules_default(r, id);
	int     line = at_elem(u->muted_lines, i, u->line);

	if (n == NULL)
	    diag_error(d, u->file, line, "user '%s' mutes '%s', which is not a "
		       "default notification (write PROFILE/NAME)", u->address, id);
	else if (strncmp(id, u->profile, strlen(u->profile)) != 0
		 || id[strlen(u->profile)] != '/')
	    diag_error(d, u->file, line, "user '%s' mutes '%s', which is not a "
		       "default of their profile '%s'", u->address, id, u->profile);
    }
}

/* check_user_view - custom notifications, and duplicates in the whole view */
static void check_user_view(const RULES *r, const USER *u, const PROFILE *p, DIAG *d)
{
    size_t  nd = p ? p->ndefaults : 0;
    const NOTIF **view = xcalloc(nd + u->ncustom + 1, sizeof(NOTIF *));
    size_t  i;

    for (i = 0; i < nd; i++)
	view[i] = &p->defaults[i];
    for (i = 0; i < u->ncustom; i++) {
	check_notif(r, &u->custom[i], d);
	view[nd + i] = &u->custom[i];
    }
    check_dups(view, nd + u->ncustom, nd, d);
    free(view);
}

static void check_user(const RULES *r, const USER *u, DIAG *d)
{
    const PROFILE *p = NULL;
    size_t  i;

    if (u->address == NULL || u->profile == NULL)
	return;				/* reported by the loader */
    if (!address_valid(u->address))
	diag_error(d, u->file, at(u->address_line, u->line), "user address '%s' is not "
		   "local@domain", u->address);
    if ((p = rules_profile(r, u->profile)) == NULL)
	diag_error(d, u->file, at(u->profile_line, u->line), "user '%s': unknown profile "
		   "'%s'", u->address, u->profile);
    if (u->partners.len == 0)
	diag_error(d, u->file, at(u->partners_line, u->line), "user '%s' belongs to no "
		   "partner: list them in 'partners', or \"*\" for every partner", u->address);
    for (i = 0; i < u->partners.len; i++)
	if (u->partners.v[i][0] == 0 || str_has_ctl(u->partners.v[i]))
	    diag_error(d, u->file, at_elem(u->partner_lines, i, at(u->partners_line, u->line)),
		       "user '%s': partner names must be non-empty printable text", u->address);
    if (u->timezone == NULL)
	diag_warning(d, u->file, u->line, "user '%s' has no 'timezone': digests use the "
		     "default time zone", u->address);
    else if (!sched_zone_valid(u->timezone))
	diag_error(d, u->file, at(u->timezone_line, u->line), "user '%s': unknown time zone "
		   "'%s' (an IANA name such as \"Europe/Berlin\")", u->address, u->timezone);
    check_user_view(r, u, p, d);
    if (p)
	check_user_mutes(r, u, d);
}

/* check_users - each user, then addresses defined twice; sorts r->users */
static void check_users(RULES *r, DIAG *d)
{
    KEYED  *k = xcalloc(r->nusers + 1, sizeof(KEYED));
    size_t  i;

    for (i = 0; i < r->nusers; i++) {
	check_user(r, &r->users[i], d);
	k[i].key = str_lower(xstrdup(r->users[i].address ? r->users[i].address : ""));
	k[i].order = i;
    }
    xsort(k, r->nusers, sizeof(KEYED), keyed_cmp);
    for (i = 1; i < r->nusers; i++)
	if (k[i].key[0] && strcmp(k[i].key, k[i - 1].key) == 0) {
	    const USER *u = &r->users[k[i].order], *first = &r->users[k[i - 1].order];

	    diag_error(d, u->file, at(u->address_line, u->line), "user '%s' is defined twice "
		       "(first at %s:%d)", u->address, first->file,
		       at(first->address_line, first->line));
	}
    for (i = 0; i < r->nusers; i++)
	free(k[i].key);
    free(k);
    xsort(r->users, r->nusers, sizeof(USER), user_cmp);
}

/* rules_check - returns 0 when rules.d has no error (warnings allowed) */
int     rules_check(RULES *r, DIAG *d)
{
    check_catalog(r, d);
    check_profiles(r, d);
    check_users(r, d);
    return (diag_errors(d) ? -1 : 0);
}
