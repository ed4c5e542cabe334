/*
 * cmd_dead.c - crierctl dead: the notifications Postfix refused for good,
 * or deferred for longer than outbox_max_age, or that bounced, and the
 * addresses crier stopped mailing after bounce_limit bounces.
 *
 *   crierctl dead [--json]              list them, with Postfix's last reply
 *                                       or the DSN, then the addresses
 *   crierctl dead resend ID|--all       back into the outbox, as if new (not
 *                                       a bounced one: only its headers stay)
 *   crierctl dead drop ID|--all         forget them
 *   crierctl dead unsuppress ADDRESS|--all   mail an address again
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
#include "mail.h"
#include "statedb.h"

#define DEAD_USAGE	"usage: dead [--json] | dead resend ID|--all | dead drop ID|--all | " \
	"dead unsuppress ADDRESS|--all"

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

    mail_header_value(o->msg, o->msglen, "X-Crier-Notification", &notif);
    mail_header_value(o->msg, o->msglen, "X-Crier-Event", &event);
    if (event.len == 0)
	mail_header_value(o->msg, o->msglen, "X-Crier-Digest", &event);
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

/* The addresses that bounced, as they are shown. */
typedef struct addrs {
    const CONF *conf;
    json_t *list;			/* JSON, or NULL for text */
    size_t  n;
} ADDRS;

/* show_addr - one address that bounced, as a line (a title first) or a JSON object */
static int show_addr(const SDB_ADDR *a, void *ctx)
{
    ADDRS  *as = ctx;
    json_t *list = as->list;
    STRBUF  last = STRBUF_INIT;

    if (list == NULL && as->n++ == 0)
	printf("\nAddresses that bounced (bounce_limit = %ld, bounce_window = %ld days; "
	       "crier no longer mails those suppressed):\n%-32s %-7s %-10s %-20s %s\n",
	       as->conf->bounce_limit, as->conf->bounce_window, "ADDRESS", "BOUNCES", "STATE",
	       "LAST BOUNCE (UTC)", "LAST DSN");
    when(a->last, &last);
    if (list) {
	json_t *j = json_object();

	json_object_set_new(j, "address", json_string(a->address));
	json_object_set_new(j, "bounces", json_integer((json_int_t) a->count));
	json_object_set_new(j, "suppressed", json_boolean(a->suppressed));
	json_object_set_new(j, "last_bounce", json_string(last.s));
	json_object_set_new(j, "last_dsn", json_string(a->reply));
	json_array_append_new(list, j);
    } else
	printf("%-32s %-7u %-10s %-20s %s\n", a->address, a->count,
	       a->suppressed ? "suppressed" : "mailed", last.s, a->reply);
    sb_free(&last);
    return (0);
}

/* dead_list - every dead entry, oldest first, then the addresses that bounced */
static int dead_list(CTL *ctl, int json)
{
    STRBUF  why = STRBUF_INIT;
    STATEDB *sdb;
    MDB_txn *txn;
    SDB_OUT o;
    json_t *list = json ? json_array() : NULL, *addrs = json ? json_array() : NULL;
    uint64_t from = 0;
    int     rc;

    if (statedb_open_ro(ctl->conf.state_dir, &sdb, &why) < 0 || statedb_read(sdb, &txn, &why) < 0) {
	rc = ctl_refuse(ctl, "no dead notifications to show: %s", sb_str(&why));
	statedb_close(sdb);
	json_decref(list), json_decref(addrs);
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
    if (rc >= 0) {
	ADDRS   as = {&ctl->conf, addrs, 0};

	rc = statedb_bounces_each(sdb, txn, show_addr, &as, &why);
    }
    statedb_end(sdb, txn);
    statedb_close(sdb);
    rc = rc < 0 ? ctl_refuse(ctl, "%s", sb_str(&why)) : CTL_OK;
    if (json && rc == CTL_OK) {
	json_t *doc = json_object();

	json_object_set_new(doc, "dead", list);
	json_object_set_new(doc, "addresses", addrs);
	ctl_print_json(doc);
    } else
	json_decref(list), json_decref(addrs);
    sb_free(&why);
    return (rc);
}

/* DEAD_* - what a change does */
#define DEAD_RESEND	0
#define DEAD_DROP	1
#define DEAD_UNSUPPRESS	2

/* dead_open - the store crierd keeps, for writing; never a new one */
static int dead_open(CTL *ctl, STATEDB **sdb, STRBUF *why)
{
    STRBUF  path = STRBUF_INIT;
    struct stat sb;
    int     rc;

    *sdb = NULL;
    sb_printf(&path, "%s/%s", ctl->conf.state_dir, STATEDB_FILE);
    if ((rc = stat(path.s, &sb)) < 0)	/* never create a store crierd would not own */
	sb_printf(why, "%s: no such store", path.s);
    else
	rc = statedb_open(ctl->conf.state_dir, sdb, why);
    sb_free(&path);
    return (rc);
}

/* dead_said - what a change did */
static void dead_said(int what, size_t n)
{
    if (what == DEAD_UNSUPPRESS)
	printf("%zu address%s cleared: crier mails %s again, and counts bounces anew\n", n,
	       n == 1 ? "" : "es", n == 1 ? "it" : "them");
    else
	printf("%zu dead notification%s %s\n", n, n == 1 ? "" : "s", what == DEAD_RESEND
	       ? "back in the outbox: crierd sends them at its next pass" : "dropped");
}

/* dead_change - resend or drop one entry (seq) or all (0); unsuppress one address or all */
static int dead_change(CTL *ctl, int what, uint64_t seq, const char *address)
{
    STRBUF  why = STRBUF_INIT;
    STATEDB *sdb;
    size_t  n = 0;
    int     rc;

    if ((rc = dead_open(ctl, &sdb, &why)) == 0)
	rc = what == DEAD_RESEND ? statedb_dead_resend(sdb, seq, (uint64_t) clock_now(), &n, &why)
	    : what == DEAD_DROP ? statedb_dead_drop(sdb, seq, &n, &why)
	    : statedb_unsuppress(sdb, address, &n, &why);
    statedb_close(sdb);
    if (rc < 0)
	rc = ctl_refuse(ctl, "%s", sb_str(&why));
    else if (rc == SDB_NONE && what == DEAD_UNSUPPRESS)
	rc = ctl_refuse(ctl, "%s has not bounced (crierctl dead lists those that did)", address);
    else if (rc == SDB_NONE)
	rc = ctl_refuse(ctl, "no dead notification %llu", (unsigned long long) seq);
    else if (rc == SDB_BOUNCED)
	rc = ctl_refuse(ctl, "dead notification %llu bounced: crier kept only its headers, so "
			"it cannot be resent (drop it)", (unsigned long long) seq);
    else {
	dead_said(what, n);
	rc = CTL_OK;
    }
    sb_free(&why);
    return (rc);
}

int     cmd_dead(CTL *ctl, int argc, char **argv)
{
    static const struct option longopts[] = {
	{"json", no_argument, NULL, 'j'}, {"all", no_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
    static const char *const verbs[] = {"resend", "drop", "unsuppress", 0};
    int     c, json = 0, all = 0, what;
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
    for (what = 0; optind < argc && verbs[what] && strcmp(argv[optind], verbs[what]); what++)
	 /* void */ ;
    if (json || optind == argc || verbs[what] == NULL)
	return (ctl_usage(ctl, DEAD_USAGE));
    optind++;
    if (all == (optind < argc) || argc - optind > 1)
	return (ctl_usage(ctl, DEAD_USAGE));
    if (what == DEAD_UNSUPPRESS)
	return (dead_change(ctl, what, 0, all ? NULL : argv[optind]));
    if (!all && ((seq = strtoull(argv[optind], &end, 10)) == 0 || *end))
	return (ctl_usage(ctl, "'%s' is not a dead notification's ID", argv[optind]));
    return (dead_change(ctl, what, (uint64_t) seq, NULL));
}
