/*
 * cmd_rules.c - crierctl check, compile and reload: rules.d in, problems or
 * a compiled set out, and the running crierd told.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "change.h"
#include "compile.h"
#include "crierctl.h"
#include "rules.h"

/* no_options - the verbs of this file take no option and no argument */
static int no_options(CTL *ctl, int argc, char **argv)
{
    static const struct option longopts[] = {{NULL, 0, NULL, 0}};

    if (getopt_long(argc, argv, "", longopts, NULL) != -1)
	return (ctl_usage(ctl, "takes no option"));
    if (optind < argc)
	return (ctl_usage(ctl, "takes no argument"));
    return (CTL_OK);
}

/* load_checked - load and check rules.d, printing every problem */
static RULES *load_checked(CTL *ctl)
{
    DIAG   *d = diag_create();
    RULES  *r = rules_load(ctl->conf.rules_dir, d);

    (void) rules_check(r, d);		/* also after load errors: report everything */
    diag_print(d, stderr);
    if (diag_errors(d)) {
	ctl_refuse(ctl, "%s: %d error%s, %d warning%s", ctl->conf.rules_dir, diag_errors(d),
		   diag_errors(d) == 1 ? "" : "s", diag_warnings(d),
		   diag_warnings(d) == 1 ? "" : "s");
	rules_free(r);
	r = NULL;
    }
    diag_free(d);
    return (r);
}

int     cmd_check(CTL *ctl, int argc, char **argv)
{
    RULES  *r;
    int     rc;

    if ((rc = no_options(ctl, argc, argv)) != CTL_OK)
	return (rc);
    if ((r = load_checked(ctl)) == NULL)
	return (CTL_REFUSED);
    printf("%s: ok: %zu files, %zu frequencies, %zu event types, %zu profiles, "
	   "%zu users, %zu notifications\n", ctl->conf.rules_dir, r->files.len, r->nfreqs,
	   r->nevtypes, r->nprofiles, r->nusers, rules_count_notifs(r));
    rules_free(r);
    return (CTL_OK);
}

/*
 * ctl_compile - check and compile rules.d, and say what came of it; with
 * lock, under a shared lock on rules.d/users/ (see change_lock), unless
 * the caller holds it already
 */
int     ctl_compile(CTL *ctl, int lock)
{
    COMPILE_STATS st;
    STRBUF  why = STRBUF_INIT;
    RULES  *r;
    int     rc = CTL_OK, fd = lock ? change_lock(ctl->conf.rules_dir, 0, &why) : -2;

    if (fd == -1) {
	rc = ctl_refuse(ctl, "%s", why.s);
	sb_free(&why);
	return (rc);
    }
    if ((r = load_checked(ctl)) == NULL) {
	if (fd >= 0)
	    close(fd);
	return (ctl_refuse(ctl, "nothing compiled; the rules in service are unchanged"));
    }
    if (compile_rules(r, ctl->conf.rules_dir, ctl->conf.state_dir, &st, &why) < 0)
	rc = ctl_refuse(ctl, "%s; the rules in service are unchanged", sb_str(&why));
    else if (st.unchanged)
	printf("%s/%s: generation %llu unchanged: rules.d is what it was compiled from "
	       "(%zu users, %zu notifications)\n", ctl->conf.state_dir, RULESDB_FILE,
	       (unsigned long long) st.generation, st.users, st.notifs);
    else
	printf("%s/%s: generation %llu: %zu frequencies, %zu event types, %zu profiles, "
	       "%zu users, %zu notifications, %zu views, %zu index entries\n",
	       ctl->conf.state_dir, RULESDB_FILE, (unsigned long long) st.generation, st.freqs,
	       st.evtypes, st.profiles, st.users, st.notifs, st.views, st.index);
    if (fd >= 0)
	close(fd);
    sb_free(&why);
    rules_free(r);
    return (rc);
}

int     cmd_compile(CTL *ctl, int argc, char **argv)
{
    int     rc;

    if ((rc = no_options(ctl, argc, argv)) != CTL_OK)
	return (rc);
    return (ctl_compile(ctl, 1));
}

/*
 * ctl_reload - SIGHUP to the crierd in pid_file: it re-reads, recompiles,
 * swaps. With optional, a crierd that is not running is no error.
 */
int     ctl_reload(CTL *ctl, int optional)
{
    FILE   *fp;
    long    pid = 0;

    if ((fp = fopen(ctl->conf.pid_file, "r")) == NULL) {
	if (optional && errno == ENOENT) {
	    printf("crierd is not running (no %s): the change takes effect when it starts\n",
		   ctl->conf.pid_file);
	    return (CTL_OK);
	}
	return (ctl_refuse(ctl, "crierd is not running (%s: %s)", ctl->conf.pid_file,
			   strerror(errno)));
    }
    if (fscanf(fp, "%ld", &pid) != 1 || pid <= 1) {
	fclose(fp);
	return (ctl_refuse(ctl, "%s does not hold a process id", ctl->conf.pid_file));
    }
    fclose(fp);
    if (kill((pid_t) pid, SIGHUP) < 0)
	return (ctl_refuse(ctl, "cannot signal crierd (pid %ld): %s", pid, strerror(errno)));
    printf("crierd (pid %ld) reloads: it re-reads its configuration and compiles its "
	   "rules.d; the mail log says how it went\n", pid);
    return (CTL_OK);
}

int     cmd_reload(CTL *ctl, int argc, char **argv)
{
    int     rc;

    if ((rc = no_options(ctl, argc, argv)) != CTL_OK)
	return (rc);
    return (ctl_reload(ctl, 0));
}
