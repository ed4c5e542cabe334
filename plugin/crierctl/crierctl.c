/*
 * crierctl.c - the crier command line: global options and verb dispatch.
 *
 * crierctl [-c FILE] [-r DIR] [-s DIR] VERB [ARGUMENTS] [OPTIONS]
 *
 * -r and -s override the configuration file's rules_dir and state_dir, so
 * that scripts and tests need no configuration file. Each verb parses its
 * own options (before or after its arguments) and lives in a cmd_*.c file.
 */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "crierctl.h"
#include "schedule.h"

static const struct verb {
    const char *name;
    CTL_VERB fn;
    const char *args;
    const char *help;
} verbs[] = {
    {"check", cmd_check, "", "validate rules.d and print every problem"},
    {"compile", cmd_compile, "", "check, then compile rules.d into the state directory"},
    {"reload", cmd_reload, "", "tell the running crierd to reload (SIGHUP)"},
    {"list", cmd_list, "USER [--json]", "a user's notifications, grouped by frequency"},
    {"search", cmd_search, "[TEXT] [--user U] [--event E] [--where K=V] [--frequency F]\n"
	"\t\t[--kind default|custom] [--muted|--active] [--profile P] [--json]",
    "find notifications by any field"},
    {"explain", cmd_explain, "FILE|- [--json]", "who would get this event mail, and why not"},
    {"digests", cmd_digests, "[USER] [--json]", "pending digests and when each goes out"},
    {"dead", cmd_dead, "[--json] | dead resend ID|--all | dead drop ID|--all\n"
	"\t\t| dead unsuppress ADDRESS|--all",
    "notifications Postfix refused, deferred too long or that bounced; bounced addresses"},
    {"create", cmd_create, "USER --event E --where K=V[,V...]... --frequency F [--name N]",
    "add a custom notification"},
    {"edit", cmd_edit, "USER NAME [--event E] [--where K=V[,V...]]... [--unwhere K]...\n"
	"\t\t[--frequency F]", "change a custom notification"},
    {"clone", cmd_clone, "USER NAME [--name N] [changes as for edit]",
    "copy a default or custom notification into a new custom one"},
    {"mute", cmd_mute, "USER NAME", "stop a notification without deleting it"},
    {"unmute", cmd_unmute, "USER NAME", "start a muted notification again"},
    {"delete", cmd_delete, "USER NAME", "remove a custom notification"},
    {NULL, NULL, NULL, NULL},
};

static void usage(FILE *fp)
{
    const struct verb *v;

    fprintf(fp, "usage: crierctl [-c FILE] [-r DIR] [-s DIR] VERB [ARGUMENTS] [OPTIONS]\n\n"
	    "  -c FILE  configuration file (default %s)\n"
	    "  -r DIR   rules directory (overrides rules_dir)\n"
	    "  -s DIR   state directory (overrides state_dir)\n\nverbs:\n",
	    CONF_DEFAULT_FILE);
    for (v = verbs; v->name; v++)
	fprintf(fp, "  %s%s%s\n\t\t%s\n", v->name, *v->args ? " " : "", v->args, v->help);
    fprintf(fp, "\nThe verbs that change rules.d (create ... delete) change the user's file\n"
	    "(its comments kept; committed too where git config crier.commit is true),\n"
	    "then compile that user into the set crierd serves (in service from its next\n"
	    "message); with --no-reload nothing is compiled.\n"
	    "\nExit status: 0 done, 1 refused or invalid input, 2 usage error.\n"
	    "See crierctl(8) and crier-rules(5).\n");
}

/* ctl_refuse - one line on stderr, exit status 1 */
int     ctl_refuse(CTL *ctl, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "crierctl: %s%s", ctl->verb ? ctl->verb : "", ctl->verb ? ": " : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return (CTL_REFUSED);
}

/* ctl_usage - a usage error, exit status 2 */
int     ctl_usage(CTL *ctl, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "crierctl: %s%s", ctl->verb ? ctl->verb : "", ctl->verb ? ": " : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (crierctl --help for usage)\n");
    return (CTL_USAGE);
}

/* global_options - -c, -r, -s, --help, --version; returns the verb's index */
static int global_options(CTL *ctl, int argc, char **argv, int *status)
{
    static const struct option longopts[] = {
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
    };
    const char *cfile = NULL, *rdir = NULL, *sdir = NULL;
    STRBUF  why = STRBUF_INIT;
    int     c;

    while ((c = getopt_long(argc, argv, "+c:r:s:hV", longopts, NULL)) != -1) {
	switch (c) {
	case 'c': cfile = optarg; break;
	case 'r': rdir = optarg; break;
	case 's': sdir = optarg; break;
	case 'h': usage(stdout); *status = CTL_OK; return (-1);
	case 'V': printf("crierctl (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
	    *status = CTL_OK; return (-1);
	default: usage(stderr); *status = CTL_USAGE; return (-1);
	}
    }
    if (conf_load(&ctl->conf, cfile ? cfile : CONF_DEFAULT_FILE, cfile != NULL, &why) < 0
	|| conf_check(&ctl->conf, &why) < 0) {
	*status = ctl_refuse(ctl, "%s", sb_str(&why));
	sb_free(&why);
	return (-1);
    }
    if (rdir)
	conf_set(&ctl->conf.rules_dir, rdir);
    if (sdir)
	conf_set(&ctl->conf.state_dir, sdir);
    return (optind);
}

int     main(int argc, char **argv)
{
    CTL     ctl;
    const struct verb *v;
    int     at, status = CTL_OK;

    memset(&ctl, 0, sizeof(ctl));
    conf_defaults(&ctl.conf);
    {
	STRBUF  why = STRBUF_INIT;

	if (clock_init(&why) < 0) {
	    fprintf(stderr, "crierctl: %s\n", why.s);
	    sb_free(&why);
	    return (CTL_USAGE);
	}
    }
    if ((at = global_options(&ctl, argc, argv, &status)) < 0)
	goto done;
    if (at >= argc) {
	usage(stderr);
	status = CTL_USAGE;
	goto done;
    }
    for (v = verbs; v->name && strcmp(v->name, argv[at]) != 0; v++)
	 /* void */ ;
    if (v->name == NULL) {
	status = ctl_usage(&ctl, "unknown verb '%s'", argv[at]);
	goto done;
    }
    ctl.verb = v->name;
    opterr = 0;				/* verbs report bad options in one line */
    optind = 0;			/* GNU getopt: start afresh for the verb */
    status = v->fn(&ctl, argc - at, argv + at);
done:
    conf_free(&ctl.conf);
    return (status);
}
