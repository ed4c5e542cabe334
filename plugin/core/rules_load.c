/*
 * rules_load.c - read rules.d into the RULES model.
 *
 * Every *.conf file below the rules directory is parsed with libconfig, in
 * name order, recursing into subdirectories (hidden files are skipped, so
 * editors' and crierctl's temporary files never count). This module checks
 * the shape of each file (known keys, right types) and reports problems as
 * FILE:LINE into a DIAG; what refers to what is rules_check()'s job, once
 * every file is in.
 */
#include "config.h"

#include <dirent.h>
#include <glib.h>
#include <stdio.h>
#include <errno.h>
#include <libconfig.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mem.h"
#include "rules.h"
#include "strbuf.h"

#define RULES_MAX_DEPTH	16

typedef struct loader {
    RULES  *r;
    DIAG   *d;
    const char *file;			/* the file being read */
    const char *text;			/* ... and its text */
    GChecksum *sum;			/* of every file's name and text */
    GChecksum *catsum;			/* ... of those outside users/ */
    STRBUF  users;			/* DIR/users, where user files live */
    const char *only;			/* read just this one of them, or all */
} LOADER;

/* grow - make room for one more element of an array of structs */
#define GROW(arr, n) \
    ((arr) = xrealloc((arr), ((n) + 1) * sizeof(*(arr))), \
     memset(&(arr)[(n)], 0, sizeof(*(arr))), &(arr)[(n)++])

static int line_of(const config_setting_t *s)
{
    return (s ? (int) config_setting_source_line(s) : 0);
}

/* check_keys - report members of group s that are not in the NULL-ended list */
static void check_keys(LOADER *ld, const config_setting_t *s, const char *what,
		               const char *const *known)
{
    int     i, n = config_setting_length(s);

    for (i = 0; i < n; i++) {
	const config_setting_t *m = config_setting_get_elem(s, i);
	const char *name = config_setting_name(m);
	const char *const *k;

	for (k = known; *k; k++)
	    if (strcmp(*k, name) == 0)
		break;
	if (*k == NULL)
	    diag_error(ld->d, ld->file, line_of(m),
		       "unknown setting '%s' in %s", name, what);
    }
}

/* get_str - the string member KEY of group s; reports a wrong type */
static char *get_str(LOADER *ld, const config_setting_t *s, const char *key,
		             const char *what, int required)
{
    config_setting_t *m = config_setting_get_member(s, key);
    const char *v;

    if (m == NULL) {
	if (required)
	    diag_error(ld->d, ld->file, line_of(s), "%s has no '%s'", what, key);
	return (NULL);
    }
    if ((v = config_setting_get_string(m)) == NULL) {
	diag_error(ld->d, ld->file, line_of(m),
		   "'%s' of %s must be a string", key, what);
	return (NULL);
    }
    if (*v == 0 && required) {
	diag_error(ld->d, ld->file, line_of(m), "'%s' of %s is empty", key, what);
	return (NULL);
    }
    return (xstrdup(v));
}

/* holds - the n bytes at s hold the string lit */
static int holds(const char *s, size_t n, const char *lit)
{
    size_t  i, len = strlen(lit);

    for (i = 0; i + len <= n; i++)
	if (memcmp(s + i, lit, len) == 0)
	    return (1);
    return (0);
}

/*
 * last_line - libconfig dates an array's last string by the token after it,
 * the closing bracket, which may be lines below. The line of string v is
 * the last, from line up to lo (the line of the entry or setting before
 * it), that holds it as written; line when v is not found there.
 */
static int last_line(const LOADER *ld, int line, int lo, const char *v)
{
    STRBUF  lit = STRBUF_INIT;
    const char *s = ld->text, *nl;
    int     k, found = line;

    if (s == NULL || line <= lo || strpbrk(v, "\"\\\n") != NULL)
	return (line);
    sb_printf(&lit, "\"%s\"", v);
    for (k = 1; k < line && (nl = strchr(s, '\n')) != NULL; k++)
	s = nl + 1;
    for (k = k == line ? k : 0; k > 0 && k >= lo; k--) {
	nl = strchr(s, '\n');
	if (holds(s, nl ? (size_t) (nl - s) : strlen(s), lit.s)) {
	    found = k;
	    break;
	}
	if (s == ld->text)
	    break;
	for (s--; s > ld->text && s[-1] != '\n'; s--)
	     /* to the start of the line before */ ;
    }
    sb_free(&lit);
    return (found);
}

/*
 * get_strv - an array of strings; returns -1 (after a report) if it is
 * not. With lines, *lines gets the line of each string kept (allocated).
 */
static int get_strv(LOADER *ld, const config_setting_t *m, const char *what,
		            STRV *out, int **lines)
{
    int     i, n;

    if (!config_setting_is_array(m)) {
	diag_error(ld->d, ld->file, line_of(m),
		   "%s must be an array of strings: [ \"a\", \"b\" ]", what);
	return (-1);
    }
    n = config_setting_length(m);
    if (lines)
	*lines = xcalloc((size_t) n + 1, sizeof(int));
    for (i = 0; i < n; i++) {
	const config_setting_t *e = config_setting_get_elem(m, (unsigned) i);
	const char *v = config_setting_get_string_elem(m, i);

	if (v == NULL) {
	    diag_error(ld->d, ld->file, line_of(e) ? line_of(e) : line_of(m),
		       "%s must hold strings only", what);
	    return (-1);
	}
	if (lines)
	    (*lines)[out->len] = i < n - 1 ? line_of(e)
		: last_line(ld, line_of(e), i ? (*lines)[i - 1] : line_of(m), v);
	strv_add(out, v);
    }
    return (0);
}

/* member_line - the line of member KEY of group s; 0 when there is none */
static int member_line(const config_setting_t *s, const char *key)
{
    return (line_of(config_setting_get_member(s, key)));
}

/* get_group - member KEY of s as a group, NULL (reported if present) if not */
static config_setting_t *get_group(LOADER *ld, const config_setting_t *s,
				           const char *key, const char *what)
{
    config_setting_t *m = config_setting_get_member(s, key);

    if (m != NULL && !config_setting_is_group(m)) {
	diag_error(ld->d, ld->file, line_of(m),
		   "'%s' of %s must be a group: { ... }", key, what);
	return (NULL);
    }
    return (m);
}

/* load_where - the conditions of a notification */
static void load_where(LOADER *ld, config_setting_t *w, NOTIF *n, const char *what)
{
    int     i, len = config_setting_length(w);

    n->conds = xcalloc((size_t) len, sizeof(COND));
    for (i = 0; i < len; i++) {
	config_setting_t *m = config_setting_get_elem(w, i);
	COND   *c = &n->conds[n->nconds];
	STRBUF  sb = STRBUF_INIT;

	sb_printf(&sb, "condition '%s' of %s", config_setting_name(m), what);
	if (get_strv(ld, m, sb_str(&sb), &c->values, NULL) == 0) {
	    c->filter = xstrdup(config_setting_name(m));
	    c->line = line_of(m);
	    n->nconds++;
	}
	sb_free(&sb);
    }
}

/* load_notif - one notification: event, where, frequency, muted */
static void load_notif(LOADER *ld, config_setting_t *s, NOTIF *n,
		               const char *owner, int kind)
{
    static const char *const keys[] = {"event", "where", "frequency", "muted", 0};
    STRBUF  what = STRBUF_INIT;
    config_setting_t *w;
    int     muted = 0;

    n->name = xstrdup(config_setting_name(s));
    n->kind = kind;
    if (owner) {
	STRBUF  id = STRBUF_INIT;

	sb_printf(&id, "%s/%s", owner, n->name);
	n->id = sb_steal(&id);
    } else
	n->id = xstrdup(n->name);
    n->file = ld->file;
    n->line = line_of(s);
    sb_printf(&what, "notification '%s'", n->id);
    if (!config_setting_is_group(s)) {
	diag_error(ld->d, ld->file, n->line, "%s must be a group: { ... }", sb_str(&what));
	sb_free(&what);
	return;
    }
    check_keys(ld, s, sb_str(&what), keys);
    n->event = get_str(ld, s, "event", sb_str(&what), 1);
    n->event_line = member_line(s, "event");
    n->frequency = get_str(ld, s, "frequency", sb_str(&what), 1);
    n->frequency_line = member_line(s, "frequency");
    n->where_line = member_line(s, "where");
    if ((w = get_group(ld, s, "where", sb_str(&what))) != NULL)
	load_where(ld, w, n, sb_str(&what));
    if (config_setting_lookup_bool(s, "muted", &muted) == CONFIG_FALSE
	&& config_setting_get_member(s, "muted") != NULL)
	diag_error(ld->d, ld->file, member_line(s, "muted"),
		   "'muted' of %s must be true or false", sb_str(&what));
    n->muted = muted;
    sb_free(&what);
}

/* load_notifs - a group of notifications (a profile's defaults, a user's custom) */
static NOTIF *load_notifs(LOADER *ld, config_setting_t *g, const char *owner,
			          int kind, size_t *count)
{
    int     i, len = config_setting_length(g);
    NOTIF  *arr = xcalloc((size_t) len, sizeof(NOTIF));

    for (i = 0; i < len; i++)
	load_notif(ld, config_setting_get_elem(g, i), &arr[i], owner, kind);
    *count = (size_t) len;
    return (arr);
}

static void load_frequency(LOADER *ld, config_setting_t *s)
{
    static const char *const keys[] = {"title", "rrule", 0};
    FREQ   *f = GROW(ld->r->freqs, ld->r->nfreqs);
    STRBUF  what = STRBUF_INIT;

    f->name = xstrdup(config_setting_name(s));
    f->file = ld->file;
    f->line = line_of(s);
    sb_printf(&what, "frequency '%s'", f->name);
    if (!config_setting_is_group(s))
	diag_error(ld->d, ld->file, f->line, "%s must be a group: { ... }", sb_str(&what));
    else {
	check_keys(ld, s, sb_str(&what), keys);
	f->title = get_str(ld, s, "title", sb_str(&what), 0);
	f->rrule = get_str(ld, s, "rrule", sb_str(&what), 0);
	f->rrule_line = line_of(config_setting_get_member(s, "rrule"));
    }
    sb_free(&what);
}

/* load_filters - the filters an event type offers */
static void load_filters(LOADER *ld, config_setting_t *g, EVTYPE *et)
{
    int     i, len = config_setting_length(g);

    et->filters = xcalloc((size_t) len, sizeof(FILTER));
    for (i = 0; i < len; i++) {
	config_setting_t *m = config_setting_get_elem(g, i);
	FILTER *f = &et->filters[et->nfilters];
	STRBUF  what = STRBUF_INIT;

	sb_printf(&what, "filter '%s' of event type '%s'", config_setting_name(m), et->name);
	if (get_strv(ld, m, sb_str(&what), &f->values, NULL) == 0) {
	    f->name = xstrdup(config_setting_name(m));
	    et->nfilters++;
	}
	sb_free(&what);
    }
}

static void load_event_type(LOADER *ld, config_setting_t *s)
{
    static const char *const keys[] = {"title", "filters", "frequencies", 0};
    EVTYPE *et = GROW(ld->r->evtypes, ld->r->nevtypes);
    config_setting_t *m;
    STRBUF  what = STRBUF_INIT;

    et->name = xstrdup(config_setting_name(s));
    et->file = ld->file;
    et->line = line_of(s);
    sb_printf(&what, "event type '%s'", et->name);
    if (!config_setting_is_group(s)) {
	diag_error(ld->d, ld->file, et->line, "%s must be a group: { ... }", sb_str(&what));
	sb_free(&what);
	return;
    }
    check_keys(ld, s, sb_str(&what), keys);
    et->title = get_str(ld, s, "title", sb_str(&what), 1);
    if ((m = get_group(ld, s, "filters", sb_str(&what))) != NULL)
	load_filters(ld, m, et);
    else if (config_setting_get_member(s, "filters") == NULL)
	diag_error(ld->d, ld->file, et->line, "%s has no 'filters'", sb_str(&what));
    if ((m = config_setting_get_member(s, "frequencies")) == NULL)
	diag_error(ld->d, ld->file, et->line, "%s has no 'frequencies'", sb_str(&what));
    else {
	et->freqs_line = line_of(m);
	sb_printf(&what, ": frequencies");
	(void) get_strv(ld, m, sb_str(&what), &et->freqs, &et->freq_lines);
    }
    sb_free(&what);
}

static void load_profile(LOADER *ld, config_setting_t *s)
{
    static const char *const keys[] = {"title", "defaults", 0};
    PROFILE *p = GROW(ld->r->profiles, ld->r->nprofiles);
    config_setting_t *m;
    STRBUF  what = STRBUF_INIT;

    p->name = xstrdup(config_setting_name(s));
    p->file = ld->file;
    p->line = line_of(s);
    sb_printf(&what, "profile '%s'", p->name);
    if (!config_setting_is_group(s)) {
	diag_error(ld->d, ld->file, p->line, "%s must be a group: { ... }", sb_str(&what));
	sb_free(&what);
	return;
    }
    check_keys(ld, s, sb_str(&what), keys);
    p->title = get_str(ld, s, "title", sb_str(&what), 1);
    if ((m = get_group(ld, s, "defaults", sb_str(&what))) != NULL)
	p->defaults = load_notifs(ld, m, p->name, NOTIF_DEFAULT, &p->ndefaults);
    sb_free(&what);
}

/* load_each - call fn for each member of group KEY of the file's root */
static void load_each(LOADER *ld, config_setting_t *root, const char *key,
		              void (*fn) (LOADER *, config_setting_t *))
{
    config_setting_t *g = get_group(ld, root, key, "the file");
    int     i;

    if (g == NULL)
	return;
    for (i = 0; i < config_setting_length(g); i++)
	fn(ld, config_setting_get_elem(g, i));
}

/* load_user - the user, custom and muted settings of one user file */
static void load_user(LOADER *ld, config_setting_t *root)
{
    static const char *const keys[] = {"address", "profile", "partners", "timezone", 0};
    config_setting_t *s = get_group(ld, root, "user", "the file");
    config_setting_t *m;
    USER   *u;

    if (s == NULL) {
	if ((m = config_setting_get_member(root, "custom")) != NULL
	    || (m = config_setting_get_member(root, "muted")) != NULL)
	    diag_error(ld->d, ld->file, line_of(m),
		       "'custom' and 'muted' need a 'user' in the same file");
	return;
    }
    u = GROW(ld->r->users, ld->r->nusers);
    u->file = ld->file;
    u->line = line_of(s);
    check_keys(ld, s, "'user'", keys);
    u->address = get_str(ld, s, "address", "'user'", 1);
    u->address_line = member_line(s, "address");
    u->profile = get_str(ld, s, "profile", "'user'", 1);
    u->profile_line = member_line(s, "profile");
    u->timezone = get_str(ld, s, "timezone", "'user'", 0);
    u->timezone_line = member_line(s, "timezone");
    if ((m = config_setting_get_member(s, "partners")) == NULL)
	diag_error(ld->d, ld->file, u->line, "'user' has no 'partners'");
    else {
	u->partners_line = line_of(m);
	(void) get_strv(ld, m, "'partners' of 'user'", &u->partners, &u->partner_lines);
    }
    if ((m = get_group(ld, root, "custom", "the file")) != NULL)
	u->custom = load_notifs(ld, m, NULL, NOTIF_CUSTOM, &u->ncustom);
    if ((m = config_setting_get_member(root, "muted")) != NULL)
	(void) get_strv(ld, m, "'muted'", &u->muted, &u->muted_lines);
}

static void load_root(LOADER *ld, config_setting_t *root)
{
    static const char *const keys[] = {"frequencies", "event_types", "profiles",
    "user", "custom", "muted", 0};

    check_keys(ld, root, "the file", keys);
    load_each(ld, root, "frequencies", load_frequency);
    load_each(ld, root, "event_types", load_event_type);
    load_each(ld, root, "profiles", load_profile);
    load_user(ld, root);
}

/* under - path is dir or below it */
static int under(const char *path, const char *dir)
{
    size_t  n = strlen(dir);

    return (strncmp(path, dir, n) == 0 && (path[n] == 0 || path[n] == '/'));
}

/* wanted - with only one user file to read, skip the rest of users/ */
static int wanted(const LOADER *ld, const char *path, int is_dir)
{
    if (ld->only == NULL || !under(path, ld->users.s))
	return (1);
    return (is_dir ? under(ld->only, path) : strcmp(path, ld->only) == 0);
}

/* load_text - the settings of ld->text, the text of ld->file */
static void load_text(LOADER *ld)
{
    config_t cf;

    config_init(&cf);
    if (config_read_string(&cf, ld->text) == CONFIG_FALSE)
	diag_error(ld->d, ld->file, config_error_line(&cf), "syntax error: %s",
		   config_error_text(&cf));
    else
	load_root(ld, config_root_setting(&cf));
    config_destroy(&cf);
}

static void load_file(LOADER *ld, const char *path)
{
    STRBUF  text = STRBUF_INIT;

    strv_add(&ld->r->files, path);
    ld->file = ld->r->files.v[ld->r->files.len - 1];
    if (sb_read_file(&text, path, 0) < 0) {
	diag_error(ld->d, ld->file, 0, "cannot read: %s", strerror(errno));
	sb_free(&text);
	return;
    }
    ld->text = sb_str(&text);
    g_checksum_update(ld->sum, (const guchar *) path, (gssize) strlen(path) + 1);
    g_checksum_update(ld->sum, (const guchar *) sb_str(&text), (gssize) text.len + 1);
    if (!under(path, ld->users.s)) {
	g_checksum_update(ld->catsum, (const guchar *) path, (gssize) strlen(path) + 1);
	g_checksum_update(ld->catsum, (const guchar *) sb_str(&text), (gssize) text.len + 1);
    }
    load_text(ld);
    ld->text = NULL;
    sb_free(&text);
}

static int is_conf(const char *name)
{
    size_t  len = strlen(name);

    return (len > 5 && strcmp(name + len - 5, ".conf") == 0);
}

/*
 * load_only - users/ when only one user's file is wanted: that file,
 * without listing users/ and its directories (10^5 files at 10^6
 * notifications, read and sorted at every change and panel page)
 */
static void load_only(LOADER *ld)
{
    struct stat st;

    if (stat(ld->only, &st) == 0 && S_ISREG(st.st_mode) && is_conf(ld->only))
	load_file(ld, ld->only);
}

/* load_dir - every *.conf below dir, entries in strcmp order */
static void load_dir(LOADER *ld, const char *dir, int depth)
{
    STRV    names = STRV_INIT;
    struct dirent *de;
    DIR    *dp;
    size_t  i;

    if ((dp = opendir(dir)) == NULL) {
	diag_error(ld->d, dir, 0, "cannot open rules directory: %s", strerror(errno));
	return;
    }
    while ((de = readdir(dp)) != NULL)
	if (de->d_name[0] != '.')
	    strv_add(&names, de->d_name);
    closedir(dp);
    strv_sort(&names);
    for (i = 0; i < names.len; i++) {
	STRBUF  path = STRBUF_INIT;
	struct stat st;

	sb_printf(&path, "%s/%s", dir, names.v[i]);
	if (ld->only && strcmp(path.s, ld->users.s) == 0 && under(ld->only, path.s))
	    load_only(ld);			/* users/: one file, nothing listed */
	else if (stat(path.s, &st) < 0)
	    diag_error(ld->d, path.s, 0, "cannot stat: %s", strerror(errno));
	else if (S_ISDIR(st.st_mode) && depth >= RULES_MAX_DEPTH)
	    diag_error(ld->d, path.s, 0, "directories nested too deep");
	else if (S_ISDIR(st.st_mode)) {
	    if (wanted(ld, path.s, 1))
		load_dir(ld, path.s, depth + 1);
	} else if (S_ISREG(st.st_mode) && is_conf(names.v[i]) && wanted(ld, path.s, 0))
	    load_file(ld, path.s);
	sb_free(&path);
    }
    strv_free(&names);
}

/* load - the whole rules directory, or its catalog and one user file */
static RULES *load(const char *dir, const char *only, DIAG *diag)
{
    LOADER  ld;

    memset(&ld, 0, sizeof(ld));
    ld.r = xcalloc(1, sizeof(RULES));
    ld.d = diag;
    ld.sum = g_checksum_new(G_CHECKSUM_SHA256);
    ld.catsum = g_checksum_new(G_CHECKSUM_SHA256);
    ld.only = only;
    sb_printf(&ld.users, "%s/users", dir);
    load_dir(&ld, dir, 0);
    snprintf(ld.r->digest, sizeof(ld.r->digest), "%s", g_checksum_get_string(ld.sum));
    snprintf(ld.r->catalog, sizeof(ld.r->catalog), "%s", g_checksum_get_string(ld.catsum));
    g_checksum_free(ld.sum);
    g_checksum_free(ld.catsum);
    sb_free(&ld.users);
    if (ld.r->files.len == 0 && diag_errors(diag) == 0)
	diag_error(diag, dir, 0, "no *.conf files in the rules directory");
    return (ld.r);
}

/*
 * rules_load - read the rules directory. Always returns a model (possibly
 * partial); the caller looks at diag_errors() to know whether it is usable.
 */
RULES  *rules_load(const char *dir, DIAG *diag)
{
    return (load(dir, NULL, diag));
}

/*
 * rules_load_user - the catalog (every file outside DIR/users/) and one
 * user's file in DIR/users/: what a change to that user needs, read in
 * time that does not grow with the other users. Its digest covers only
 * these files; its catalog digest is the same as a whole load's.
 */
RULES  *rules_load_user(const char *dir, const char *user_file, DIAG *diag)
{
    return (load(dir, user_file, diag));
}

/*
 * rules_load_text - one file's text, as if read from path, alone: what a
 * change reads back of a file it is about to write. Its digests are empty.
 */
RULES  *rules_load_text(const char *path, const char *text, DIAG *diag)
{
    LOADER  ld;

    memset(&ld, 0, sizeof(ld));
    ld.r = xcalloc(1, sizeof(RULES));
    ld.d = diag;
    strv_add(&ld.r->files, path);
    ld.file = ld.r->files.v[0];
    ld.text = text;
    load_text(&ld);
    return (ld.r);
}

/* rules_conds_free - an array of conditions and what they own */
void    rules_conds_free(COND *conds, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
	free(conds[i].filter);
	strv_free(&conds[i].values);
    }
    free(conds);
}

/* rules_notif_free - what a notification owns (not the NOTIF itself) */
void    rules_notif_free(NOTIF *n)
{
    rules_conds_free(n->conds, n->nconds);
    free(n->name);
    free(n->id);
    free(n->event);
    free(n->frequency);
}

static void notifs_free(NOTIF *arr, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++)
	rules_notif_free(&arr[i]);
    free(arr);
}

static void evtype_free(EVTYPE *et)
{
    size_t  i;

    for (i = 0; i < et->nfilters; i++) {
	free(et->filters[i].name);
	strv_free(&et->filters[i].values);
    }
    free(et->filters);
    strv_free(&et->freqs);
    free(et->freq_lines);
    free(et->name);
    free(et->title);
}

void    rules_free(RULES *r)
{
    size_t  i;

    if (r == NULL)
	return;
    for (i = 0; i < r->nfreqs; i++) {
	free(r->freqs[i].name);
	free(r->freqs[i].title);
	free(r->freqs[i].rrule);
    }
    for (i = 0; i < r->nevtypes; i++)
	evtype_free(&r->evtypes[i]);
    for (i = 0; i < r->nprofiles; i++) {
	notifs_free(r->profiles[i].defaults, r->profiles[i].ndefaults);
	free(r->profiles[i].name);
	free(r->profiles[i].title);
    }
    for (i = 0; i < r->nusers; i++) {
	USER   *u = &r->users[i];

	notifs_free(u->custom, u->ncustom);
	strv_free(&u->partners);
	free(u->partner_lines);
	strv_free(&u->muted);
	free(u->muted_lines);
	free(u->address);
	free(u->profile);
	free(u->timezone);
    }
    free(r->freqs);
    free(r->evtypes);
    free(r->profiles);
    free(r->users);
    strv_free(&r->files);
    free(r);
}
