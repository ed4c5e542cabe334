/*
 * cmd_rules.c - crierctl check, compile and reload: rules.d in, problems or
 * a compiled set out, and the running crierd told.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
 * proc_program - the program pid runs: /proc/PID/exe where it can be read
 * (root, or the owner of a dumpable process), else its name from
 * /proc/PID/comm (crierd's process, after it dropped privileges, is not
 * dumpable). -1 when the process is gone.
 */
static int proc_program(long pid, char *buf, size_t size)
{
    char    path[64];
    ssize_t n;
    FILE   *fp;

    snprintf(path, sizeof(path), "/proc/%ld/exe", pid);
    if ((n = readlink(path, buf, size - 1)) > 0) {
	buf[n] = 0;
	if ((size_t) n > 10 && strcmp(buf + n - 10, " (deleted)") == 0)
	    buf[n - 10] = 0;			/* crierd upgraded under it */
	return (0);
    }
    snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
    if ((fp = fopen(path, "r")) == NULL)
	return (-1);
    if (fgets(buf, (int) size, fp) == NULL)
	*buf = 0;
    fclose(fp);
    buf[strcspn(buf, "\n")] = 0;
    return (0);
}

/*
 * proc_conf - the configuration file pid's command line names (-c FILE,
 * -cFILE, or -fc FILE as getopt takes it; the default without), made
 * absolute against its working directory. Allocated; NULL if unreadable.
 */
static char *proc_conf(long pid)
{
    char    path[64], *file = NULL, *arg, *c, *abs = NULL;
    STRBUF  cmd = STRBUF_INIT;

    snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
    if (sb_read_file(&cmd, path, 65536) < 0 || cmd.len == 0) {
	sb_free(&cmd);
	return (NULL);
    }
    sb_putc(&cmd, 0);
    for (arg = cmd.s + strlen(cmd.s) + 1; file == NULL && arg < cmd.s + cmd.len;
	 arg += strlen(arg) + 1) {
	if (strcmp(arg, "--") == 0 || arg[0] != '-' || arg[1] == '-')
	    continue;
	if ((c = strchr(arg, 'c')) != NULL)
	    file = c[1] ? c + 1 : arg + strlen(arg) + 1;
    }
    if (file == NULL || file >= cmd.s + cmd.len)
	file = CONF_DEFAULT_FILE;
    if (*file == '/')
	abs = strdup(file);
    else if (asprintf(&abs, "/proc/%ld/cwd/%s", pid, file) < 0)
	abs = NULL;
    sb_free(&cmd);
    return (abs);
}

/*
 * is_crierd - pid is a crierd whose configuration names this pid_file:
 * the pid file is the service user's to write, and what it says must not
 * get a SIGHUP (which ends most programs) unless it is that crierd.
 * 0, or -1 with why.
 */
static int is_crierd(CTL *ctl, long pid, STRBUF *why)
{
    char    prog[PATH_MAX], *file;
    const char *base;
    CONF    cf;
    STRBUF  err = STRBUF_INIT;
    struct stat mine, its;
    int     rc = -1;

    if (proc_program(pid, prog, sizeof(prog)) < 0) {
	sb_printf(why, "crierd is not running (pid %ld in %s is gone)", pid, ctl->conf.pid_file);
	return (-1);
    }
    base = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
    if (strcmp(base, "crierd") != 0) {
	sb_printf(why, "pid %ld in %s is not crierd (it runs %s): no signal sent; is crierd "
		  "running? remove the stale pid file", pid, ctl->conf.pid_file, prog);
	return (-1);
    }
    if ((file = proc_conf(pid)) == NULL) {
	sb_printf(why, "pid %ld in %s: cannot read its command line", pid, ctl->conf.pid_file);
	return (-1);
    }
    conf_defaults(&cf);
    if (conf_load(&cf, file, 1, &err) == 0 && stat(cf.pid_file, &its) == 0
	&& stat(ctl->conf.pid_file, &mine) == 0 && its.st_dev == mine.st_dev
	&& its.st_ino == mine.st_ino)
	rc = 0;
    else
	sb_printf(why, "pid %ld in %s is a crierd of another configuration (%s%s%s): "
		  "no signal sent", pid, ctl->conf.pid_file, file, err.len ? ": " : "",
		  err.len ? err.s : "");
    conf_free(&cf);
    sb_free(&err);
    free(file);
    return (rc);
}

/*
 * ctl_reload - SIGHUP to the crierd in pid_file (only when it is that
 * crierd, is_crierd): it re-reads, recompiles, swaps. With optional, a
 * crierd that is not running is no error.
 */
int     ctl_reload(CTL *ctl, int optional)
{
    FILE   *fp;
    long    pid = 0;
    STRBUF  why = STRBUF_INIT;
    int     rc;

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
    if (is_crierd(ctl, pid, &why) < 0) {
	rc = ctl_refuse(ctl, "%s", why.s);
	sb_free(&why);
	return (rc);
    }
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
