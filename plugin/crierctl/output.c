/*
 * output.c - how crierctl shows notifications and opens what it reads.
 *
 * list, search and explain print the same things (a notification in a
 * user's view) the same way, in text for people and in JSON for scripts.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "crierctl.h"
#include "pack.h"

int     ctl_open_rules(CTL *ctl, RULESDB **rdb, MDB_txn **txn)
{
    STRBUF  why = STRBUF_INIT;
    int     rc;

    *txn = NULL;
    if ((rc = rulesdb_open(ctl->conf.state_dir, 0, rdb, &why)) == 0
	&& (rc = rulesdb_read(*rdb, txn, &why)) < 0)
	rulesdb_close(*rdb);
    if (rc < 0)
	ctl_refuse(ctl, "%s", sb_str(&why));
    sb_free(&why);
    return (rc);
}

void    ctl_close_rules(RULESDB *rdb, MDB_txn *txn)
{
    if (txn)
	rulesdb_end(rdb, txn);
    rulesdb_close(rdb);
}

/* ctl_print_json - one document on stdout, then free it */
int     ctl_print_json(json_t *doc)
{
    int     rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    fputc('\n', stdout);
    json_decref(doc);
    return (rc == 0 ? CTL_OK : CTL_REFUSED);
}

const char *out_muted(int muted)
{
    switch (muted) {
    case RDB_MUTED_USER:
	return ("muted");
    case RDB_MUTED_DEF:
	return ("muted by definition");
    default:
	return ("active");
    }
}

/* out_where_json - conditions as { "filter": [ values ] } */
static json_t *out_where_json(const RDB_VIEW *v)
{
    json_t *where = json_object();
    UNPACK  u = v->condbuf;
    const char *filter;
    size_t  i, j, n;

    for (i = 0; i < v->nconds && rulesdb_cond_next(&u, &filter, &n) == 0; i++) {
	json_t *vals = json_array();

	for (j = 0; j < n; j++)
	    json_array_append_new(vals, json_string(unpack_str(&u)));
	json_object_set_new(where, filter, vals);
    }
    return (where);
}

json_t *out_view_json(const RDB_VIEW *v, const char *event_title)
{
    json_t *o = json_object();

    json_object_set_new(o, "user", json_string(v->user));
    json_object_set_new(o, "notification", json_string(v->notif));
    json_object_set_new(o, "kind", json_string(v->kind == 'd' ? "default" : "custom"));
    json_object_set_new(o, "profile", json_string(v->profile));
    json_object_set_new(o, "event", json_string(v->event));
    if (event_title)
	json_object_set_new(o, "event_title", json_string(event_title));
    json_object_set_new(o, "where", out_where_json(v));
    json_object_set_new(o, "frequency", json_string(v->frequency));
    json_object_set_new(o, "muted", json_boolean(v->muted != RDB_ACTIVE));
    json_object_set_new(o, "state", json_string(out_muted(v->muted)));
    json_object_set_new(o, "file", json_string(v->file));
    json_object_set_new(o, "line", json_integer(v->line));
    return (o);
}

/* out_view_text - one line: [kind] id  event where ...  (state) */
void    out_view_text(const RDB_VIEW *v, int with_user)
{
    STRBUF  where = STRBUF_INIT;

    if (with_user)
	printf("%s  ", v->user);
    rulesdb_view_where(v, &where);
    printf("[%s] %s  %s  %s  where %s", v->kind == 'd' ? "default" : "custom ", v->notif,
	   v->event, v->frequency, sb_str(&where));
    sb_free(&where);
    if (v->muted != RDB_ACTIVE)		/* a custom's definition is the user's own */
	printf("  (%s)", v->kind == 'c' ? "muted" : out_muted(v->muted));
    putchar('\n');
}
