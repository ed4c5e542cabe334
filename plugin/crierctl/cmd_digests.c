/*
 * cmd_digests.c - crierctl digests: what is pending in each recipient's
 * digests, and when each goes out, in the recipient's zone and in UTC.
 * The table is printed once every row is known, so that each column is as
 * wide as its widest cell and the headers stand over their columns.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "crierctl.h"
#include "digest.h"
#include "schedule.h"
#include "statedb.h"
#include "strutil.h"

typedef struct pending {
    CTL    *ctl;
    STATEDB *sdb;
    RULESDB *rdb;
    MDB_txn *stxn;
    MDB_txn *rtxn;
    const char *user;
    json_t *list;			/* --json */
    STRV    cells;			/* or the table, DIGESTS_COLS a row */
    size_t  shown;
} PENDING;

#define DIGESTS_COLS	5

static const char *const digests_head[DIGESTS_COLS] = {"RECIPIENT", "FREQUENCY", "ITEMS",
"NEXT SEND (RECIPIENT'S ZONE)", "NEXT SEND (UTC)"};

/* print_table - the cells in columns; ITEMS (column 2) is right-aligned */
static void print_table(const STRV *cells)
{
    size_t  w[DIGESTS_COLS] = {0}, i;

    for (i = 0; i < cells->len; i++)
	if (strlen(cells->v[i]) > w[i % DIGESTS_COLS])
	    w[i % DIGESTS_COLS] = strlen(cells->v[i]);
    for (i = 0; i < cells->len; i++) {
	size_t  col = i % DIGESTS_COLS;

	if (col == DIGESTS_COLS - 1)
	    printf("%s\n", cells->v[i]);
	else
	    printf(col == 2 ? "%*s  " : "%-*s  ", (int) w[col], cells->v[i]);
    }
}

static int count_item(const SDB_ITEM *it, void *ctx)
{
    (void) it;
    ++*(size_t *) ctx;
    return (0);
}

/* show_group - one pending digest, as a line or a JSON object */
static int show_group(const SDB_GROUP *g, void *ctx)
{
    PENDING *p = ctx;
    STRBUF  why = STRBUF_INIT, local = STRBUF_INIT, utc = STRBUF_INIT, items = STRBUF_INIT;
    const char *tz;
    size_t  n = 0;

    if (p->user && str_casecmp(p->user, g->recipient) != 0)
	return (0);
    (void) statedb_items_each(p->sdb, p->stxn, g->recipient, g->frequency, count_item, &n, &why);
    tz = p->rtxn ? digest_zone(p->rdb, p->rtxn, p->ctl->conf.default_timezone, g->recipient)
	: p->ctl->conf.default_timezone;
    clock_format((time_t) g->due, sched_offset(tz, (time_t) g->due), &local);
    clock_format((time_t) g->due, 0, &utc);
    if (p->list) {
	json_t *o = json_object();

	json_object_set_new(o, "recipient", json_string(g->recipient));
	json_object_set_new(o, "frequency", json_string(g->frequency));
	json_object_set_new(o, "items", json_integer((json_int_t) n));
	json_object_set_new(o, "timezone", json_string(tz));
	json_object_set_new(o, "next_send", json_string(local.s));
	json_object_set_new(o, "next_send_utc", json_string(utc.s));
	json_array_append_new(p->list, o);
    } else {
	strv_add(&p->cells, g->recipient);
	strv_add(&p->cells, g->frequency);
	sb_printf(&items, "%zu", n);
	strv_add(&p->cells, items.s);
	sb_printf(&local, " (%s)", tz);
	strv_add(&p->cells, local.s);
	strv_add(&p->cells, utc.s);
    }
    p->shown++;
    sb_free(&why), sb_free(&local), sb_free(&utc), sb_free(&items);
    return (0);
}

static int digests_options(CTL *ctl, int argc, char **argv, int *json, const char **user)
{
    static const struct option longopts[] = {
	{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
    int     c;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
	if (c != 'j')
	    return (ctl_usage(ctl, "usage: digests [USER] [--json]"));
	*json = 1;
    }
    if (argc - optind > 1)
	return (ctl_usage(ctl, "usage: digests [USER] [--json]"));
    *user = optind < argc ? argv[optind] : NULL;
    return (CTL_OK);
}

int     cmd_digests(CTL *ctl, int argc, char **argv)
{
    STRBUF  why = STRBUF_INIT;
    PENDING p;
    int     json = 0, rc;

    memset(&p, 0, sizeof(p));
    p.ctl = ctl;
    if ((rc = digests_options(ctl, argc, argv, &json, &p.user)) != CTL_OK)
	return (rc);
    if (statedb_open_ro(ctl->conf.state_dir, &p.sdb, &why) < 0 || statedb_read(p.sdb, &p.stxn,
									   &why) < 0) {
	rc = ctl_refuse(ctl, "no pending digests to show: %s", sb_str(&why));
	statedb_close(p.sdb);
	sb_free(&why);
	return (rc);
    }
    if (rulesdb_open(ctl->conf.state_dir, 0, &p.rdb, &why) < 0
	|| rulesdb_read(p.rdb, &p.rtxn, &why) < 0)
	p.rtxn = NULL;			/* no rules: the default zone is shown */
    p.list = json ? json_array() : NULL;
    for (rc = 0; !json && rc < DIGESTS_COLS; rc++)
	strv_add(&p.cells, digests_head[rc]);
    rc = statedb_groups_each(p.sdb, p.stxn, 1, show_group, &p, &why) < 0
	? ctl_refuse(ctl, "%s", sb_str(&why)) : CTL_OK;
    if (!json && rc == CTL_OK)
	print_table(&p.cells);
    strv_free(&p.cells);
    if (json && rc == CTL_OK) {
	json_t *doc = json_object();

	json_object_set_new(doc, "digests", p.list);
	ctl_print_json(doc);
    } else if (p.list)
	json_decref(p.list);
    statedb_end(p.sdb, p.stxn);
    if (p.rtxn)
	rulesdb_end(p.rdb, p.rtxn);
    rulesdb_close(p.rdb);
    statedb_close(p.sdb);
    sb_free(&why);
    return (rc);
}
