/*
 * cmd_view.c - crierctl list and search: notifications as users see them.
 *
 * Both read the compiled rules. list shows one user's view grouped by
 * frequency (in the order rules.d defines the frequencies); search filters
 * every view (or one user's) by any field.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crierctl.h"
#include "mem.h"
#include "strutil.h"
#include "strv.h"

typedef struct query {
    const char *user;
    const char *event;
    const char *frequency;
    const char *profile;
    const char *text;
    int     kind;			/* 0, 'd' or 'c' */
    int     muted;			/* -1 any, 0 active, 1 muted */
    char  **where;			/* K=V, NULL-ended */
    size_t  nwhere;
    STRV    titled;			/* event types whose title holds text */
} QUERY;

typedef struct viewlist {
    RDB_VIEW *v;
    size_t  len;
    size_t  cap;
} VIEWLIST;

static int viewlist_add(const RDB_VIEW *v, void *ctx)
{
    VIEWLIST *vl = ctx;

    if (vl->len == vl->cap) {
	vl->cap = vl->cap ? vl->cap * 2 : 16;
	vl->v = xrealloc(vl->v, vl->cap * sizeof(RDB_VIEW));
    }
    vl->v[vl->len++] = *v;
    return (0);
}

/* user_views - the views of one user, in their order */
static int user_views(CTL *ctl, RULESDB *rdb, MDB_txn *txn, const char *user, VIEWLIST *vl)
{
    STRBUF  why = STRBUF_INIT;
    RDB_USER u;
    RDB_VIEW v;
    uint32_t i;
    int     rc;

    if ((rc = rulesdb_get_user(rdb, txn, user, &u, &why)) != 0) {
	rc = rc > 0 ? ctl_refuse(ctl, "no user '%s' in the compiled rules", user)
	    : ctl_refuse(ctl, "%s", sb_str(&why));
	sb_free(&why);
	return (rc);
    }
    for (i = 0; i < u.count; i++) {
	if (rulesdb_get_view(rdb, txn, u.first + i, &v, &why) != 0) {
	    rc = ctl_refuse(ctl, "%s", why.len ? sb_str(&why) : "view missing: recompile");
	    sb_free(&why);
	    return (rc);
	}
	viewlist_add(&v, vl);
    }
    return (CTL_OK);
}

/* freq_pos - where the frequency stands in rules.d, for ordering groups */
static unsigned freq_pos(RULESDB *rdb, MDB_txn *txn, const char *freq, const char **title)
{
    STRBUF  why = STRBUF_INIT;
    const char *rrule;
    unsigned pos = ~0U;

    *title = freq;
    (void) rulesdb_get_freq(rdb, txn, freq, title, &rrule, &pos, &why);
    sb_free(&why);
    return (pos);
}

typedef struct grouped {
    const RDB_VIEW *v;
    unsigned pos;
    size_t  order;
    const char *title;
} GROUPED;

static int grouped_cmp(const void *a, const void *b)
{
    const GROUPED *x = a, *y = b;

    if (x->pos != y->pos)
	return (x->pos < y->pos ? -1 : 1);
    return ((x->order > y->order) - (x->order < y->order));
}

/* group_views - the views sorted by frequency position, stable */
static GROUPED *group_views(RULESDB *rdb, MDB_txn *txn, const VIEWLIST *vl)
{
    GROUPED *g = xcalloc(vl->len + 1, sizeof(GROUPED));
    size_t  i;

    for (i = 0; i < vl->len; i++) {
	g[i].v = &vl->v[i];
	g[i].order = i;
	g[i].pos = freq_pos(rdb, txn, vl->v[i].frequency, &g[i].title);
    }
    xsort(g, vl->len, sizeof(GROUPED), grouped_cmp);
    return (g);
}

static json_t *user_json(RULESDB *rdb, MDB_txn *txn, const char *address)
{
    STRBUF  why = STRBUF_INIT;
    json_t *o = json_object(), *parts = json_array();
    RDB_USER u;
    size_t  i;

    if (rulesdb_get_user(rdb, txn, address, &u, &why) == 0) {
	json_object_set_new(o, "user", json_string(u.address));
	json_object_set_new(o, "profile", json_string(u.profile));
	for (i = 0; i < u.npartners; i++)
	    json_array_append_new(parts, json_string(unpack_str(&u.partbuf)));
	json_object_set_new(o, "partners", parts);
	json_object_set_new(o, "timezone", *u.timezone ? json_string(u.timezone) : json_null());
    }
    sb_free(&why);
    return (o);
}

static void list_json(RULESDB *rdb, MDB_txn *txn, const char *user, GROUPED *g, size_t n)
{
    json_t *doc = user_json(rdb, txn, user), *groups = json_array(), *cur = NULL;
    size_t  i;

    for (i = 0; i < n; i++) {
	if (i == 0 || strcmp(g[i].v->frequency, g[i - 1].v->frequency) != 0) {
	    json_t *grp = json_object();

	    json_object_set_new(grp, "frequency", json_string(g[i].v->frequency));
	    json_object_set_new(grp, "title", json_string(g[i].title));
	    cur = json_array();
	    json_object_set_new(grp, "notifications", cur);
	    json_array_append_new(groups, grp);
	}
	json_array_append_new(cur, out_view_json(g[i].v, NULL));
    }
    json_object_set_new(doc, "groups", groups);
    ctl_print_json(doc);
}

/* list_text - grouped by frequency; the notification named mark gets a '*' */
static void list_text(const char *user, GROUPED *g, size_t n, const char *mark)
{
    size_t  i;

    printf("%s: %zu notification%s\n", user, n, n == 1 ? "" : "s");
    for (i = 0; i < n; i++) {
	if (i == 0 || strcmp(g[i].v->frequency, g[i - 1].v->frequency) != 0)
	    printf("\n%s (%s)\n", g[i].title, g[i].v->frequency);
	printf(mark && strcmp(g[i].v->notif, mark) == 0 ? "* " : "  ");
	out_view_text(g[i].v, 0);
    }
}

int     cmd_list(CTL *ctl, int argc, char **argv)
{
    static const struct option longopts[] = {
	{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
    int     c, json = 0;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
	if (c != 'j')
	    return (ctl_usage(ctl, "usage: list USER [--json]"));
	json = 1;
    }
    if (argc - optind != 1)
	return (ctl_usage(ctl, "usage: list USER [--json]"));
    return (ctl_list(ctl, argv[optind], json, NULL));
}

/* ctl_list - a user's notifications, grouped by frequency, mark marked */
int     ctl_list(CTL *ctl, const char *user, int json, const char *mark)
{
    VIEWLIST vl = {NULL, 0, 0};
    RULESDB *rdb;
    MDB_txn *txn;
    GROUPED *g;
    int     rc;

    if (ctl_open_rules(ctl, &rdb, &txn) < 0)
	return (CTL_REFUSED);
    if ((rc = user_views(ctl, rdb, txn, user, &vl)) == CTL_OK) {
	g = group_views(rdb, txn, &vl);
	if (json)
	    list_json(rdb, txn, user, g, vl.len);
	else
	    list_text(user, g, vl.len, mark);
	free(g);
    }
    free(vl.v);
    ctl_close_rules(rdb, txn);
    return (rc);
}

/* view_has_value - the view's condition on filter accepts every value in vals */
static int view_has_value(const RDB_VIEW *v, const char *filter, const char *vals)
{
    UNPACK  u = v->condbuf;
    const char *f;
    size_t  i, j, n;

    for (i = 0; i < v->nconds && rulesdb_cond_next(&u, &f, &n) == 0; i++) {
	STRV    have = STRV_INIT;
	char   *list = xstrdup(vals), *tok, *save = NULL;
	int     ok = 1;

	for (j = 0; j < n; j++)
	    strv_add(&have, unpack_str(&u));
	if (strcmp(f, filter) == 0)
	    for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (strv_find_case(&have, str_trim(tok)) < 0)
		    ok = 0;
	free(list);
	strv_free(&have);
	if (strcmp(f, filter) == 0)
	    return (ok);
    }
    return (0);
}

/* view_has_text - free text in the names and values of a view */
static int view_has_text(const QUERY *q, const RDB_VIEW *v, const char *text)
{
    UNPACK  u = v->condbuf;
    const char *f;
    size_t  i, j, n;

    if (str_casestr(v->notif, text) || str_casestr(v->event, text)
	|| strv_find_case(&q->titled, v->event) >= 0
	|| str_casestr(v->user, text) || str_casestr(v->profile, text))
	return (1);
    for (i = 0; i < v->nconds && rulesdb_cond_next(&u, &f, &n) == 0; i++)
	for (j = 0; j < n; j++)
	    if (str_casestr(unpack_str(&u), text))
		return (1);
    return (0);
}

static int query_holds(const QUERY *q, const RDB_VIEW *v)
{
    size_t  i;

    if ((q->user && str_casecmp(q->user, v->user) != 0)
	|| (q->event && strcmp(q->event, v->event) != 0)
	|| (q->frequency && str_casecmp(q->frequency, v->frequency) != 0)
	|| (q->profile && str_casecmp(q->profile, v->profile) != 0)
	|| (q->kind && q->kind != v->kind)
	|| (q->muted >= 0 && q->muted != (v->muted != RDB_ACTIVE))
	|| (q->text && !view_has_text(q, v, q->text)))
	return (0);
    for (i = 0; i < q->nwhere; i++) {
	char   *eq = strchr(q->where[i], '=');
	char   *key = xstrndup(q->where[i], (size_t) (eq - q->where[i]));
	char   *filter = str_field_name(str_trim(key));
	int     ok = view_has_value(v, filter, eq + 1);

	free(key);
	free(filter);
	if (!ok)
	    return (0);
    }
    return (1);
}

/* titled_each - note the event types whose title holds the free text */
static int titled_each(const RDB_EVTYPE *et, void *ctx)
{
    QUERY  *q = ctx;

    if (str_casestr(et->title, q->text))
	strv_add(&q->titled, et->name);
    return (0);
}

typedef struct search_ctx {
    const QUERY *q;
    VIEWLIST *out;
} SEARCH_CTX;

static int search_each(const RDB_VIEW *v, void *ctx)
{
    SEARCH_CTX *sc = ctx;

    return (query_holds(sc->q, v) ? viewlist_add(v, sc->out) : 0);
}

/* search_options - the query; returns CTL_OK or a usage status */
static int search_options(CTL *ctl, int argc, char **argv, QUERY *q, int *json)
{
    static const struct option longopts[] = {
	{"json", no_argument, NULL, 'j'}, {"user", required_argument, NULL, 'u'},
	{"event", required_argument, NULL, 'e'}, {"where", required_argument, NULL, 'w'},
	{"frequency", required_argument, NULL, 'f'}, {"kind", required_argument, NULL, 'k'},
	{"muted", no_argument, NULL, 'm'}, {"active", no_argument, NULL, 'a'},
	{"profile", required_argument, NULL, 'p'}, {NULL, 0, NULL, 0}};
    int     c;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
	switch (c) {
	case 'j': *json = 1; break;
	case 'u': q->user = optarg; break;
	case 'e': q->event = optarg; break;
	case 'f': q->frequency = optarg; break;
	case 'p': q->profile = optarg; break;
	case 'm':
	case 'a':
	    if (q->muted >= 0)
		return (ctl_usage(ctl, "--muted and --active exclude each other"));
	    q->muted = c == 'm';
	    break;
	case 'k':
	    if (strcmp(optarg, "default") && strcmp(optarg, "custom"))
		return (ctl_usage(ctl, "--kind takes default or custom"));
	    q->kind = optarg[0];
	    break;
	case 'w':
	    if (strchr(optarg, '=') == NULL || strchr(optarg, '=')[1] == 0)
		return (ctl_usage(ctl, "--where takes FILTER=VALUE[,VALUE...]"));
	    q->where = xrealloc(q->where, (q->nwhere + 2) * sizeof(char *));
	    q->where[q->nwhere++] = optarg;
	    break;
	default:
	    return (ctl_usage(ctl, "unknown option or missing value: %s", argv[optind - 1]));
	}
    }
    if (argc - optind > 1)
	return (ctl_usage(ctl, "takes at most one free-text argument"));
    q->text = optind < argc ? argv[optind] : NULL;
    return (CTL_OK);
}

static void search_print(const VIEWLIST *vl, int json)
{
    size_t  i;

    if (json) {
	json_t *doc = json_object(), *arr = json_array();

	for (i = 0; i < vl->len; i++)
	    json_array_append_new(arr, out_view_json(&vl->v[i], NULL));
	json_object_set_new(doc, "count", json_integer((json_int_t) vl->len));
	json_object_set_new(doc, "results", arr);
	ctl_print_json(doc);
	return;
    }
    for (i = 0; i < vl->len; i++)
	out_view_text(&vl->v[i], 1);
    printf("%zu notification%s found\n", vl->len, vl->len == 1 ? "" : "s");
}

int     cmd_search(CTL *ctl, int argc, char **argv)
{
    QUERY   q;
    VIEWLIST all = {NULL, 0, 0}, found = {NULL, 0, 0};
    SEARCH_CTX sc = {&q, &found};
    STRBUF  why = STRBUF_INIT;
    char   *event = NULL;
    RULESDB *rdb;
    MDB_txn *txn;
    size_t  i;
    int     json = 0, rc;

    memset(&q, 0, sizeof(q));
    q.muted = -1;
    if ((rc = search_options(ctl, argc, argv, &q, &json)) != CTL_OK)
	goto done;
    if (q.event)
	q.event = event = str_field_name(q.event);
    if (ctl_open_rules(ctl, &rdb, &txn) < 0) {
	rc = CTL_REFUSED;
	goto done;
    }
    if (q.text && rulesdb_evtypes_each(rdb, txn, titled_each, &q, &why) < 0)
	rc = ctl_refuse(ctl, "%s", sb_str(&why));
    if (rc == CTL_OK && q.user && (rc = user_views(ctl, rdb, txn, q.user, &all)) == CTL_OK)
	for (i = 0; i < all.len; i++)
	    (void) search_each(&all.v[i], &sc);
    if (rc == CTL_OK && !q.user && rulesdb_views_each(rdb, txn, search_each, &sc, &why) < 0)
	rc = ctl_refuse(ctl, "%s", sb_str(&why));
    if (rc == CTL_OK)
	search_print(&found, json);
    ctl_close_rules(rdb, txn);
done:
    free(all.v);
    free(found.v);
    free(q.where);
    strv_free(&q.titled);
    free(event);
    sb_free(&why);
    return (rc);
}
