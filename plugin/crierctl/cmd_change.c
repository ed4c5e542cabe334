/*
 * cmd_change.c - crierctl create, edit, clone, mute, unmute and delete.
 *
 * Each verb is one change (change.c): it rewrites the user's file in
 * rules.d/users/ or refuses and writes nothing. Then (unless --no-reload)
 * that user alone is compiled into the set crierd serves, which crierd
 * reads from its next message on: nothing else to reload. When the
 * catalog changed since the last compile, all of rules.d is compiled.
 * Last, the user's list is shown with the notification changed marked.
 */
#include "config.h"

#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "change.h"
#include "compile.h"
#include "crierctl.h"

/* The options and how many arguments each verb takes (USER, or USER NAME). */
static const struct verb_shape {
    int     verb;
    int     nargs;
    int     edits;			/* takes --event, --where, ... */
    const char *usage;
} shapes[] = {
    {CHANGE_CREATE, 1, 1, "create USER --event E --where K=V[,V...]... --frequency F "
    "[--name N] [--no-reload]"},
    {CHANGE_EDIT, 2, 1, "edit USER NAME [--event E] [--where K=V[,V...]]... [--unwhere K]... "
    "[--frequency F] [--no-reload]"},
    {CHANGE_CLONE, 2, 1, "clone USER NAME [--name N] [--event E] [--where K=V[,V...]]... "
    "[--unwhere K]... [--frequency F] [--no-reload]"},
    {CHANGE_MUTE, 2, 0, "mute USER NAME [--no-reload]"},
    {CHANGE_UNMUTE, 2, 0, "unmute USER NAME [--no-reload]"},
    {CHANGE_DELETE, 2, 0, "delete USER NAME [--no-reload]"},
    {0, 0, 0, NULL},
};

/* change_options - the verb's options and arguments into c; CTL_OK or a usage error */
static int change_options(CTL *ctl, const struct verb_shape *sh, int argc, char **argv,
			          CHANGE *c, int *reload)
{
    static const struct option longopts[] = {
	{"event", required_argument, NULL, 'e'}, {"where", required_argument, NULL, 'w'},
	{"unwhere", required_argument, NULL, 'u'}, {"frequency", required_argument, NULL, 'f'},
	{"name", required_argument, NULL, 'n'}, {"no-reload", no_argument, NULL, 'R'},
	{NULL, 0, NULL, 0}};
    STRBUF  why = STRBUF_INIT;
    int     o;

    while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
	if (o == 'R')
	    *reload = 0;
	else if (!sh->edits || o == '?' || (o == 'n' && sh->verb == CHANGE_EDIT))
	    return (ctl_usage(ctl, "usage: %s", sh->usage));
	else if (o == 'e')
	    c->event = optarg;
	else if (o == 'f')
	    c->frequency = optarg;
	else if (o == 'n')
	    c->new_name = optarg;
	else if (o == 'u')
	    strv_add(&c->unwhere, optarg);
	else if (change_where_arg(c, optarg, &why) < 0) {
	    o = ctl_usage(ctl, "%s", why.s);
	    sb_free(&why);
	    return (o);
	}
    }
    if (argc - optind != sh->nargs)
	return (ctl_usage(ctl, "usage: %s", sh->usage));
    c->user = argv[optind];
    c->name = sh->nargs > 1 ? argv[optind + 1] : NULL;
    return (CTL_OK);
}

/* user_file - the change's hint: where the compiled set says the user is */
static const char *user_file(CTL *ctl, const char *address, STRBUF *file)
{
    STRBUF  why = STRBUF_INIT;
    RULESDB *rdb;

    if (rulesdb_open(ctl->conf.state_dir, 0, &rdb, &why) == 0) {
	(void) change_user_file(rdb, ctl->conf.rules_dir, address, file);
	rulesdb_close(rdb);
    }
    sb_free(&why);
    return (file->len ? file->s : NULL);
}

/*
 * operator - who runs crierctl, as an address for the git commit of the
 * change: the login (the one sudo was called from), at this host
 */
static void operator(STRBUF *who)
{
    const char *login = getenv("SUDO_USER");
    struct passwd *pw = login ? NULL : getpwuid(getuid());
    char    host[256] = "localhost";

    (void) gethostname(host, sizeof(host) - 1);
    sb_printf(who, "%s@%s", login ? login : pw ? pw->pw_name : "crierctl", host);
}

/* compile_user - the changed user into the set in service; all of rules.d if need be */
static int compile_user(CTL *ctl, const char *address, const char *file)
{
    STRBUF  why = STRBUF_INIT;
    COMPILE_STATS st;
    RULESDB *rdb;
    int     rc = -1;

    if (rulesdb_open(ctl->conf.state_dir, 1, &rdb, &why) == 0) {
	rc = compile_user_file(rdb, ctl->conf.rules_dir, file, address, &st, &why);
	rulesdb_close(rdb);
    }
    if (rc == 0)
	printf("%s/%s: generation %llu: %s compiled anew (%zu views in all); crierd serves it from "
	       "its next message\n", ctl->conf.state_dir, RULESDB_FILE,
	       (unsigned long long) st.generation, address, st.views);
    if (rc == 0)
	rc = CTL_OK;
    else if (rc == 1)
	rc = ctl_compile(ctl, 0);		/* the change holds the lock */
    else
	rc = ctl_refuse(ctl, "%s; the rules in service are unchanged", sb_str(&why));
    sb_free(&why);
    return (rc);
}

/* show_done - what the change wrote, where it was committed, what went amiss */
static void show_done(const CHANGE_DONE *done, int verb)
{
    printf("%s: %s %s", done->file, verb == CHANGE_DELETE ? "deleted" : "saved", done->id);
    if (done->was)
	printf(" (renamed from %s: a name made from the settings follows them)", done->was);
    putchar('\n');
    if (done->commit)
	printf("git: committed %s\n", done->commit);
    if (done->warning)
	fprintf(stderr, "crierctl: warning: %s\n", done->warning);
}

/* change_verb - parse, change, compile, show */
static int change_verb(CTL *ctl, int verb, int argc, char **argv)
{
    const struct verb_shape *sh;
    CHANGE  c;
    CHANGE_DONE done;
    STRBUF  why = STRBUF_INIT;
    STRBUF  hint = STRBUF_INIT;
    STRBUF  who = STRBUF_INIT;
    int     rc, reload = 1;

    memset(&c, 0, sizeof(c));
    for (sh = shapes; sh->verb != verb; sh++)
	 /* void */ ;
    c.verb = verb;
    if ((rc = change_options(ctl, sh, argc, argv, &c, &reload)) != CTL_OK) {
	change_free(&c);
	return (rc);
    }
    c.user_file = user_file(ctl, c.user, &hint);
    operator(&who);
    c.author = who.s;
    c.channel = "crierctl";
    if (change_apply(ctl->conf.rules_dir, &c, &done, &why) < 0) {
	rc = ctl_refuse(ctl, "%s", why.s);
    } else if (done.unchanged) {
	printf("%s: '%s' is already %s; nothing changed\n", c.user, done.id,
	       verb == CHANGE_MUTE ? "muted" : "active");
    } else {
	show_done(&done, verb);
	if (!reload)
	    printf("not compiled (--no-reload): the change takes effect at the next compile\n");
	else if ((rc = compile_user(ctl, c.user, done.file)) == CTL_OK) {
	    putchar('\n');
	    rc = ctl_list(ctl, c.user, 0, verb == CHANGE_DELETE ? NULL : done.id);
	}
    }
    change_done_free(&done);
    change_free(&c);
    sb_free(&why);
    sb_free(&hint);
    sb_free(&who);
    return (rc);
}

int     cmd_create(CTL *ctl, int argc, char **argv)
{
    return (change_verb(ctl, CHANGE_CREATE, argc, argv));
}

int     cmd_edit(CTL *ctl, int argc, char **argv)
{
    return (change_verb(ctl, CHANGE_EDIT, argc, argv));
}

int     cmd_clone(CTL *ctl, int argc, char **argv)
{
    return (change_verb(ctl, CHANGE_CLONE, argc, argv));
}

int     cmd_mute(CTL *ctl, int argc, char **argv)
{
    return (change_verb(ctl, CHANGE_MUTE, argc, argv));
}

int     cmd_unmute(CTL *ctl, int argc, char **argv)
{
    return (change_verb(ctl, CHANGE_UNMUTE, argc, argv));
}

int     cmd_delete(CTL *ctl, int argc, char **argv)
{
    return (change_verb(ctl, CHANGE_DELETE, argc, argv));
}
