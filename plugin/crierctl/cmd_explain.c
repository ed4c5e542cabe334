/*
 * cmd_explain.c - crierctl explain: who would get an event mail, through
 * which notification and at which frequency, and why everybody else with
 * a notification for that event type would not.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "crierctl.h"
#include "match.h"
#include "mem.h"

#define EXPLAIN_MAX_MAIL (64 * 1024 * 1024)

static json_t *hits_json(const MATCH_HIT *h, size_t n, int with_reason)
{
    json_t *arr = json_array();
    size_t  i;

    for (i = 0; i < n; i++) {
	json_t *o = json_object();

	json_object_set_new(o, "recipient", json_string(h[i].recipient));
	json_object_set_new(o, "notification", json_string(h[i].notification));
	json_object_set_new(o, "kind", json_string(match_kind_name(h[i].kind)));
	json_object_set_new(o, "frequency", json_string(h[i].frequency));
	if (with_reason)
	    json_object_set_new(o, "reason", json_string(h[i].reason));
	json_array_append_new(arr, o);
    }
    return (arr);
}

static void explain_json(const EVENT *ev, const MATCH *m)
{
    json_t *doc = json_object(), *e = json_object(), *fields = json_object();
    size_t  i;

    json_object_set_new(e, "type", json_string(ev->type));
    json_object_set_new(e, "title", json_string(m->title));
    json_object_set_new(e, "id", json_string(ev->id));
    json_object_set_new(e, "partner", json_string(ev->partner));
    for (i = 0; i < ev->nfields; i++)
	json_object_set_new(fields, ev->fields[i].key, json_string(ev->fields[i].value));
    json_object_set_new(e, "fields", fields);
    json_object_set_new(doc, "event", e);
    json_object_set_new(doc, "deliveries", hits_json(m->hits, m->nhits, 0));
    json_object_set_new(doc, "excluded", hits_json(m->excluded, m->nexcluded, 1));
    ctl_print_json(doc);
}

static void explain_text(const EVENT *ev, const MATCH *m)
{
    size_t  i, end, msgs = 0;

    for (i = 0; i < m->nhits; i = match_group_end(m, i))
	msgs++;
    printf("event %s (%s), Event-Id %s, partner \"%s\"\n", ev->type, m->title, ev->id,
	   ev->partner);
    printf("\ndelivered: %zu message%s\n", msgs, msgs == 1 ? "" : "s");
    for (i = 0; i < m->nhits; i = end) {
	size_t  j;

	end = match_group_end(m, i);
	printf("  %s  %s  ", m->hits[i].recipient, m->hits[i].frequency);
	for (j = i; j < end; j++)
	    printf("%s%s (%s)", j > i ? ", " : "", m->hits[j].notification,
		   match_kind_name(m->hits[j].kind));
	putchar('\n');
    }
    printf("\nnot delivered: %zu\n", m->nexcluded);
    for (i = 0; i < m->nexcluded; i++)
	printf("  %s  %s: %s\n", m->excluded[i].recipient, m->excluded[i].notification,
	       m->excluded[i].reason);
}

int     cmd_explain(CTL *ctl, int argc, char **argv)
{
    static const struct option longopts[] = {
	{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
    STRBUF  mail = STRBUF_INIT, why = STRBUF_INIT;
    EVENT  *ev = NULL;
    MATCH  *m = NULL;
    RULESDB *rdb;
    MDB_txn *txn;
    int     c, json = 0, rc;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
	if (c != 'j')
	    return (ctl_usage(ctl, "usage: explain FILE|- [--json]"));
	json = 1;
    }
    if (argc - optind != 1)
	return (ctl_usage(ctl, "usage: explain FILE|- [--json]"));
    if ((rc = sb_read_file(&mail, argv[optind], EXPLAIN_MAX_MAIL)) != 0) {
	rc = rc < 0 ? ctl_refuse(ctl, "%s: %s", argv[optind], strerror(errno))
	    : ctl_refuse(ctl, "%s: larger than %d bytes", argv[optind], EXPLAIN_MAX_MAIL);
	goto done;
    }
    if (event_parse_mail(mail.s ? mail.s : "", mail.len, &ev, &why) < 0) {
	rc = ctl_refuse(ctl, "%s: invalid event: %s", argv[optind], sb_str(&why));
	goto done;
    }
    if (ctl_open_rules(ctl, &rdb, &txn) < 0) {
	rc = CTL_REFUSED;
	goto done;
    }
    if ((rc = match_event(rdb, txn, ev, MATCH_EXPLAIN, &m, &why)) == MATCH_BAD_EVENT)
	rc = ctl_refuse(ctl, "%s: invalid event: %s", argv[optind], sb_str(&why));
    else if (rc != MATCH_OK)
	rc = ctl_refuse(ctl, "%s", sb_str(&why));
    else if (json)
	explain_json(ev, m);
    else
	explain_text(ev, m);
    ctl_close_rules(rdb, txn);
done:
    match_free(m);
    event_free(ev);
    sb_free(&mail);
    sb_free(&why);
    return (rc);
}
