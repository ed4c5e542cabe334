/*
 * cmd_dead.c - crierctl dead: the notifications Postfix refused for good,
 * or deferred for longer than outbox_max_age, and what to do with them.
 *
 *   crierctl dead [--json]          list them, with Postfix's last reply
 *   crierctl dead resend ID|--all   back into the outbox, as if new
 *   crierctl dead drop ID|--all     forget them
 *
 * The changes write state.lmdb next to a running crierd (LMDB serialises
 * the writers); crierd sends a resent notification at its next outbox
 * pass. Entries older than event_retention days go by themselves.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "crierctl.h"
#include "statedb.h"

#define DEAD_USAGE	"usage: dead [--json] | dead resend ID|--all | dead drop ID|--all"

/* header_value - an unfolded header of a CRLF message, or "" */
static void header_value(const char *msg, size_t len, const char *name, STRBUF *out)
{
    const char *p = msg, *end = msg + len, *eol;
    size_t  n = strlen(name);

    sb_reset(out);
    for (; p < end && *p != '\r' && *p != '\n'; p = eol) {
	for (eol = p; eol < end && *eol != '\n'; eol++)
	     /* void */ ;
	eol += eol < end;
	if ((size_t) (eol - p) <= n || strncasecmp(p, name, n) != 0 || p[n] != ':')
	    continue;
	for (p += n + 1;;) {			/* this line, then continuations */
	    for (; p < eol && (*p == ' ' || *p == '\t') && out->len == 0; p++)
		 /* void */ ;
	    for (; p < eol && *p != '\r' && *p != '\n'; p++)
		sb_putc(out, *p);
	    if (eol >= end || (*eol != ' ' && *eol != '\t'))
		return;
	    for (p = eol; eol < end && *eol != '\n'; eol++)
		 /* void */ ;
	    eol += eol < end;
	}
    }
}

static void when(uint64_t t, STRBUF *out)
{
    sb_reset(out);
    if (t)
	clock_format((time_t) t, 0, out);
    else
	sb_puts(out, "-");
}

/* show - one dead entry, as a line or a JSON object */
static void show(const SDB_OUT *o, json_t *list)
{
    STRBUF  notif = STRBUF_INIT, event = STRBUF_INIT, died = STRBUF_INIT, queued = STRBUF_INIT;

    header_value(o->msg, o->msglen, "X-Crier-Notification", &notif);
    header_value(o->msg, o->msglen, "X-Crier-Event", &event);
    if (event.len == 0)
	header_value(o->msg, o->msglen, "X-Crier-Digest", &event);
    when(o->died, &died);
    when(o->queued, &queued);
    if (list) {
	json_t *j = json_object();

	json_object_set_new(j, "id", json_integer((json_int_t) o->seq));
	json_object_set_new(j, "recipient", json_string(o->recipient));
	json_object_set_new(j, "notification", json_string(notif.s ? notif.s : ""));
	json_object_set_new(j, "event", json_string(event.s ? event.s : ""));
	json_object_set_new(j, "message_id", json_string(o->message_id));
	json_object_set_new(j, "attempts", json_integer((json_int_t) o->attempts));
	json_object_set_new(j, "queued", json_string(queued.s));
	json_object_set_new(j, "died", json_string(died.s));
	json_object_set_new(j, "reply", json_string(o->reply));
	json_array_append_new(list, j);
    } else
	printf("%-6llu %-32s %-36s %-24s %-20s %s\n", (unsigned long long) o->seq, o->recipient,
	       notif.len ? notif.s : "-", event.len ? event.s : "-", died.s,
	       *o->reply ? o->reply : "-");
    sb_free(&notif), sb_free(&event), sb_free(&died), sb_free(&queued);
}

/* dead_list - every dead entry, oldest first */
static int dead_list(CTL *ctl, int json)
{
    STRBUF  why = STRBUF_INIT;
    STATEDB *sdb;
    MDB_txn *txn;
    SDB_OUT o;
    json_t *list = json ? json_array() : NULL;
    uint64_t from = 0;
    int     rc;

    if (statedb_open_ro(ctl->conf.state_dir, &sdb, &why) < 0 || statedb_read(sdb, &txn, &why) < 0) {
	rc = ctl_refuse(ctl, "no dead notifications to show: %s", sb_str(&why));
	statedb_close(sdb);
	json_decref(list);
	sb_free(&why);
	return (rc);
    }
    if (!json)
	printf("%-6s %-32s %-36s %-24s %-20s %s\n", "ID", "RECIPIENT", "NOTIFICATION", "EVENT",
	       "DIED (UTC)", "LAST REPLY");
    while ((rc = statedb_dead_next(sdb, txn, from, &o, &why)) == SDB_OK) {
	from = o.seq + 1;
	show(&o, list);
    }
    statedb_end(sdb, txn);
    statedb_close(sdb);
    rc = rc < 0 ? ctl_refuse(ctl, "%s", sb_str(&why)) : CTL_OK;
    if (json && rc == CTL_OK) {
	json_t *doc = json_object();

	json_object_set_new(doc, "dead", list);
	ctl_print_json(doc);
    } else
	json_decref(list);
    sb_free(&why);
    return (rc);
}

/* dead_change - resend or drop one entry (seq) or all (0) */
static int dead_change(CTL *ctl, int resend, uint64_t seq)
{
    STRBUF  why = STRBUF_INIT, path = STRBUF_INIT;
    STATEDB *sdb = NULL;
    struct stat sb;
    size_t  n = 0;
    int     rc;

    sb_printf(&path, "%s/%s", ctl->conf.state_dir, STATEDB_FILE);
    if (stat(path.s, &sb) < 0)		/* never create a store crierd would not own */
	sb_printf(&why, "%s: no such store", path.s), rc = -1;
    else if ((rc = statedb_open(ctl->conf.state_dir, &sdb, &why)) == 0)
	rc = resend ? statedb_dead_resend(sdb, seq, (uint64_t) clock_now(), &n, &why)
	    : statedb_dead_drop(sdb, seq, &n, &why);
    statedb_close(sdb);
    if (rc < 0)
	rc = ctl_refuse(ctl, "%s", sb_str(&why));
    else if (rc == SDB_NONE)
	rc = ctl_refuse(ctl, "no dead notification %llu", (unsigned long long) seq);
    else {
	printf("%zu dead notification%s %s\n", n, n == 1 ? "" : "s",
	       resend ? "back in the outbox: crierd sends them at its next pass" : "dropped");
	rc = CTL_OK;
    }
    sb_free(&why), sb_free(&path);
    return (rc);
}

int     cmd_dead(CTL *ctl, int argc, char **argv)
{
    static const struct option longopts[] = {
	{"json", no_argument, NULL, 'j'}, {"all", no_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
    int     c, json = 0, all = 0, resend;
    unsigned long long seq = 0;
    char   *end;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
	if (c == 'j')
	    json = 1;
	else if (c == 'a')
	    all = 1;
	else
	    return (ctl_usage(ctl, DEAD_USAGE));
    }
    if (optind == argc && !all)
	return (dead_list(ctl, json));
    if (json || optind == argc || (strcmp(argv[optind], "resend") != 0
				   && strcmp(argv[optind], "drop") != 0))
	return (ctl_usage(ctl, DEAD_USAGE));
    resend = strcmp(argv[optind++], "resend") == 0;
    if (all == (optind < argc) || argc - optind > 1)
	return (ctl_usage(ctl, DEAD_USAGE));
    if (!all && ((seq = strtoull(argv[optind], &end, 10)) == 0 || *end))
	return (ctl_usage(ctl, "'%s' is not a dead notification's ID", argv[optind]));
    return (dead_change(ctl, resend, (uint64_t) seq));
}
