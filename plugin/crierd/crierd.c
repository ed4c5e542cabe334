/*
 * crierd.c - the daemon: process setup, the supervisor, the worker.
 *
 * crierd [-c FILE] [-f] [-n]
 *
 * Start-up follows a fixed order: close every descriptor it was handed
 * but stdin, stdout and stderr (fds.c), read the configuration, open the log,
 * prepare the directories and take the state lock (as root), check what
 * the service user must read and write and compile rules.d (as that user,
 * in a short-lived child: probe.c), bind the sockets, write the pid file,
 * drop to the service user, and start the worker, which opens LMDB and
 * serves. Until the worker serves, a process stays behind as root (the
 * parent, or with -f a child): it exits 0 when the worker says it serves,
 * or removes what the start made and exits 1 with the reason on the
 * terminal. Every failure of the start is an exit status 1 with the
 * reason on standard error.
 *
 * The process in the pid file is the supervisor. It owns SIGHUP (reload:
 * read and check crier.conf, compile rules.d; on any error the running
 * configuration and rules stay and the log says why; then a line on a
 * pipe tells the worker to take the new configuration, and which rules
 * are in service) and SIGTERM (the worker finishes the messages in flight,
 * then both exit). The worker is a child: libmilter's threads, a thread
 * that reads the supervisor's pipe, and the service threads (service.c):
 * the outbox lanes, the digest runner, self-service and the policy
 * service. A SIGHUP that reaches the worker goes on to the supervisor.
 * If the worker dies, the supervisor starts another on the same sockets.
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <gmime/gmime.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "change.h"
#include "clock.h"
#include "compile.h"
#include "crierd.h"
#include "fds.h"
#include "listen.h"
#include "log.h"
#include "mem.h"
#include "privs.h"
#include "probe.h"
#include "rules.h"
#include "schedule.h"
#include "service.h"

#define LOCK_FILE	"crierd.lock"

/* What the start has under way, until the worker serves. */
static struct start {
    int     report;			/* to the process that waits (root), or -1 */
    int     lock;			/* the state lock */
    PRIV_LEFT left;			/* sockets and pid file this start made */
} st = {.report = -1, .lock = -1};

static pid_t supervisor_pid;		/* in the worker: where SIGHUP goes */
static int worker_ctl = -1;		/* in the supervisor: the worker's pipe */

static void usage(FILE *fp)
{
    fprintf(fp, "usage: crierd [-c FILE] [-f] [-n]\n\n"
	    "  -c FILE    configuration file (default %s)\n"
	    "  -f         stay in the foreground, log to stderr as well\n"
	    "  -n         check the configuration and rules.d, then exit\n"
	    "  --help     this text\n  --version  the version\n\nSee crierd(8), crier.conf(5).\n",
	    CONF_DEFAULT_FILE);
}

/*
 * crash_point - a testing aid: with CRIER_CRASH_AT=NAME in the environment,
 * crierd dies here as if killed -9 (worker and supervisor), so that tests
 * can show what a crash at exactly this point does.
 */
void    crash_point(const char *name)
{
    const char *at = getenv("CRIER_CRASH_AT");

    if (at == NULL || strcmp(at, name) != 0)
	return;
    msg_warn("CRIER_CRASH_AT=%s: crierd dies here, as if killed", name);
    kill(getppid(), SIGKILL);
    raise(SIGKILL);
}

/*
 * socket_give - right after the bind of a unix socket of crierd's. The
 * socket was made with the group postfix and mode 0660 (so that Postfix's
 * smtpd, whose primary group that is, can connect and other local users
 * cannot), or 0666 without that group, by priv_bind_begin; nothing is
 * changed by path afterwards, where another user could have put a link.
 * This only says when what is there is not a socket.
 */
void    socket_give(const char *spec, gid_t group)
{
    const char *path = listen_path(spec);
    struct stat sb;

    (void) group;
    if (path == NULL)
	return;
    if (lstat(path, &sb) < 0 || !S_ISSOCK(sb.st_mode))
	msg_warn("%s: not the socket crierd bound: see who else writes in its directory", path);
}

/* proc_status - how a child ended, from its wait status: "exited with status 1" */
void    proc_status(STRBUF *sb, int status)
{
    if (WIFEXITED(status))
	sb_printf(sb, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
	sb_printf(sb, "was killed by signal %d (%s)%s", WTERMSIG(status),
		  strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
    else
	sb_printf(sb, "ended with wait status %#x", (unsigned) status);
}

/*
 * rules_build - check rules.d and compile it: 0 with what was done in
 * done and the generation now in service, or -1 with why not. A shared
 * lock on rules.d/users/ keeps changes out from the read to the commit
 * (see change_lock).
 */
static int rules_build(const CONF *cf, STRBUF *done, uint64_t *gen, STRBUF *why)
{
    int     lock = change_lock(cf->rules_dir, 0, why);
    DIAG   *d = diag_create();
    RULES  *r;
    COMPILE_STATS cs;
    int     rc = -1;

    if (lock == -1) {
	msg_warn("rules: %s; compiling without the lock", why->s);
	sb_reset(why);
    }
    r = rules_load(cf->rules_dir, d);
    (void) rules_check(r, d);
    if (diag_errors(d) > 0)
	sb_printf(why, "%s: %d error%s: %s", cf->rules_dir, diag_errors(d),
		  diag_errors(d) == 1 ? "" : "s", diag_first(d));
    else if (compile_rules(r, cf->rules_dir, cf->state_dir, &cs, why) == 0) {
	sb_printf(done, "%s %s: generation %llu, %zu users, %zu notifications", cf->rules_dir,
		  cs.unchanged ? "unchanged" : "compiled", (unsigned long long) cs.generation,
		  cs.users, cs.notifs);
	*gen = cs.generation;
	rc = 0;
    }
    rules_free(r);
    diag_free(d);
    if (lock >= 0)
	close(lock);
    return (rc);
}

/* rules_generation - the generation of the rules in service; -1 with why when none */
static int rules_generation(const char *state_dir, uint64_t *gen, STRBUF *why)
{
    RULESDB *rdb;
    MDB_txn *txn;
    RDB_META meta;
    int     rc;

    if (rulesdb_open(state_dir, 0, &rdb, why) < 0)
	return (-1);
    if ((rc = rulesdb_read(rdb, &txn, why)) == 0) {
	if ((rc = rulesdb_get_meta(rdb, txn, &meta, why)) == 0)
	    *gen = meta.generation;
	else if (rc == RDB_NONE)
	    sb_puts(why, "nothing was compiled yet");
	rulesdb_end(rdb, txn);
    }
    rulesdb_close(rdb);
    return (rc == 0 ? 0 : -1);
}

/* dir_of - the directory of a path (allocated) */
char   *dir_of(const char *path)
{
    char   *copy = xstrdup(path);
    char   *d = xstrdup(dirname(copy));

    free(copy);
    return (d);
}

typedef struct ident {
    PRIV_OWNER own;			/* uid, gid, and the sockets' group */
    char    name[64];			/* the service user's name */
} IDENT;

/* ident_get - the service user: the one in crier.conf when crierd starts as root */
static int ident_get(const CONF *cf, IDENT *id, STRBUF *why)
{
    struct passwd *pw;
    struct group *gr;

    memset(id, 0, sizeof(*id));
    id->own.uid = getuid();
    id->own.gid = getgid();
    id->own.gid_postfix = (gid_t) -1;
    if ((gr = getgrnam("postfix")) != NULL)
	id->own.gid_postfix = gr->gr_gid;
    if (getuid() != 0) {
	if ((pw = getpwuid(getuid())) != NULL)
	    snprintf(id->name, sizeof(id->name), "%s", pw->pw_name);
	else
	    snprintf(id->name, sizeof(id->name), "%ld", (long) getuid());
	return (0);
    }
    if ((pw = getpwnam(cf->user)) == NULL) {
	sb_printf(why, "user \"%s\" does not exist: create it (useradd --system %s) "
		  "or set user in crier.conf", cf->user, cf->user);
	return (-1);
    }
    id->own.uid = pw->pw_uid;
    id->own.gid = pw->pw_gid;
    snprintf(id->name, sizeof(id->name), "%s", pw->pw_name);
    return (0);
}

/*
 * own_state - the state directory, and the stores in it, belong to the
 * service user: root's (systemd's StateDirectory= resets them to root at
 * each start; a crierctl compile as root makes root's) are given to it,
 * never through a link (privs.c). The lock file is take_lock's. 1 when
 * the directory was made or given, 0 when it is used as it is, -1.
 */
static int own_state(const CONF *cf, const IDENT *id, STRBUF *why)
{
    static const char *const files[] = {"rules.lmdb", "rules.lmdb-lock", "state.lmdb",
    "state.lmdb-lock", 0};
    int     fresh = priv_state_dir(cf->state_dir, &id->own, why);

    if (fresh < 0)
	return (-1);
    if (id->own.dry && access(cf->state_dir, F_OK) < 0)
	return (fresh);				/* crierd -n: it will be made */
    return (priv_state_files(cf->state_dir, files, &id->own, why) < 0 ? -1 : fresh);
}

/*
 * prepare_dirs - pid file and socket directories, and the state directory:
 * made when missing and then given to the service user; one that exists
 * is left as it is (priv_dir). As own_state says: 1, 0 or -1.
 */
static int prepare_dirs(const CONF *cf, const IDENT *id, STRBUF *why)
{
    const char *socks[3] = {cf->milter_socket, cf->policy_socket, cf->web_listen};
    char   *dir = dir_of(cf->pid_file);
    int     i, rc = priv_dir(dir, 0755, &id->own, why);

    free(dir);
    for (i = 0; rc >= 0 && i < 3; i++)
	if (listen_path(socks[i]) != NULL) {
	    dir = dir_of(listen_path(socks[i]));
	    rc = priv_dir(dir, 0755, &id->own, why);
	    free(dir);
	}
    return (rc < 0 ? -1 : own_state(cf, id, why));
}

/*
 * take_lock - one crierd per state directory. flock() locks die with their
 * holders, so a killed crierd never blocks its own restart. The file is
 * the service user's; it is opened as privs.c says (no link, one plain
 * file). Every process of crierd holds it, the one waiting for the start
 * too.
 */
static int take_lock(const CONF *cf, const IDENT *id, STRBUF *why)
{
    int     fd = priv_lock(cf->state_dir, LOCK_FILE, &id->own, why);

    if (fd < 0)
	return (-1);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
	if (errno == EWOULDBLOCK)
	    sb_printf(why, "another crierd is running on state_dir %s", cf->state_dir);
	else
	    sb_printf(why, "cannot lock %s/%s: %s", cf->state_dir, LOCK_FILE, strerror(errno));
	close(fd);
	return (-1);
    }
    return (fd);
}

/*
 * listen_all - bind milter_socket, policy_socket and web_listen; their
 * files are made with the right group and mode (priv_bind_begin; the
 * panel's for a reverse proxy, webproc.c), never changed by path, and
 * removed again if the start fails (st.left).
 */
static int listen_all(const CONF *cf, const IDENT *id, STRBUF *why)
{
    PRIV_BIND save;
    int     rc;

    priv_bind_begin(&id->own, &save);
    rc = milter_setup(cf, id->own.gid_postfix, why);
    if (rc == 0 && listen_path(cf->milter_socket) != NULL)
	priv_left_add(&st.left, listen_path(cf->milter_socket), S_IFSOCK);
    if (rc == 0)
	rc = policyd_listen(cf, id->own.gid_postfix, why);
    if (rc == 0 && listen_path(cf->policy_socket) != NULL)
	priv_left_add(&st.left, listen_path(cf->policy_socket), S_IFSOCK);
    priv_bind_end(&save);
    if (rc == 0 && *cf->web_listen && (rc = webproc_listen(cf, &id->own, why)) == 0
	&& listen_path(cf->web_listen) != NULL)
	priv_left_add(&st.left, listen_path(cf->web_listen), S_IFSOCK);
    return (rc);
}

/*
 * start_tell - the last word over a start pipe: that the worker serves
 * (why NULL), or why the start failed; the pipe is closed.
 */
static void start_tell(int *fd, const char *why)
{
    if (*fd < 0)
	return;
    if (why == NULL)
	probe_write(*fd, "0", 1);
    else {
	probe_write(*fd, "1", 1);
	probe_write(*fd, why, strlen(why));
    }
    close(*fd);
    *fd = -1;
}

/* start_hear - the other end: 0 when it serves, -1 with why (empty: no word came) */
static int start_hear(int fd, STRBUF *why)
{
    STRBUF  text = STRBUF_INIT;
    char    c;
    ssize_t n;

    while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
	 /* void */ ;
    if (n == 1 && c == '0')
	return (0);
    probe_read(fd, &text);
    if (n == 1 && text.len > 0)
	sb_puts(why, text.s);
    sb_free(&text);
    return (-1);
}

/*
 * watch - the process that stays root until the worker serves: 0 then;
 * otherwise what the start made goes (the supervisor, no longer root,
 * may not have been able to remove it), the reason goes to the terminal
 * (without -f; with -f crierd has said it there itself), and 1.
 */
static int watch(int fd, int fg)
{
    STRBUF  why = STRBUF_INIT;

    if (fg) {
	signal(SIGINT, SIG_IGN);		/* ^C is for crierd itself */
	signal(SIGHUP, SIG_IGN);
    }
    if (start_hear(fd, &why) == 0)
	return (0);
    priv_left_remove(&st.left);
    if (!fg)
	fprintf(stderr, "crierd: %s\n", why.len ? why.s
		: "the start failed before crierd served (see the mail log)");
    return (1);
}

/* detach - the daemon leaves the terminal */
static void detach(void)
{
    int     fd;

    setsid();
    if ((fd = open("/dev/null", O_RDWR)) >= 0) {
	dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
	if (fd > 2)
	    close(fd);
    }
}

/*
 * watch_start - from here on the start may fail as the service user or
 * away from the terminal: one process stays behind as root and watches
 * (watch). Without -f that is the parent, as with many daemons, and its
 * exit status is the start's; with -f it is a child.
 */
static int watch_start(int fg, STRBUF *why)
{
    int     fd[2];
    pid_t   pid;

    if (pipe2(fd, O_CLOEXEC) < 0) {
	sb_printf(why, "cannot make a pipe: %s", strerror(errno));
	return (-1);
    }
    fflush(NULL);
    if ((pid = fork()) < 0) {
	sb_printf(why, "cannot fork: %s", strerror(errno));
	close(fd[0]), close(fd[1]);
	return (-1);
    }
    if ((pid == 0) == (fg != 0)) {
	close(fd[1]);
	_exit(watch(fd[0], fg));
    }
    close(fd[0]);
    st.report = fd[1];
    if (!fg)
	detach();
    return (0);
}

/* say_start - information and warnings from the check as the service user */
static void say_start(int level, const char *text, void *ctx)
{
    int     fg = *(int *) ctx;

    if (level == LOG_LVL_WARNING)
	msg_warn("%s", text);
    else
	msg_info("%s", text);
    if (level == LOG_LVL_WARNING && !fg)
	fprintf(stderr, "crierd: warning: %s\n", text);
}

/* say_check - crierd -n: the warnings, on the terminal */
static void say_check(int level, const char *text, void *ctx)
{
    (void) ctx;
    if (level == LOG_LVL_WARNING)
	fprintf(stderr, "crierd: warning: %s\n", text);
}

/*
 * rules_first - the start, as the service user: compile rules.d. When it
 * cannot be, the rules compiled before serve (a warning); without any,
 * the start fails.
 */
static int rules_first(PROBE *pb, const PROBE_SPEC *sp, void *ctx)
{
    STRBUF  done = STRBUF_INIT, why = STRBUF_INIT, none = STRBUF_INIT;
    uint64_t gen;
    int     rc = 0;

    (void) ctx;
    if (rules_build(sp->conf, &done, &gen, &why) == 0)
	probe_say(pb, LOG_LVL_INFO, "rules: %s", done.s);
    else if (rules_generation(sp->conf->state_dir, &gen, &none) == 0)
	probe_say(pb, LOG_LVL_WARNING, "rules: %s; serving the rules compiled before, "
		  "generation %llu", why.s, (unsigned long long) gen);
    else {
	probe_say(pb, LOG_LVL_ERROR, "rules: %s; and there are no rules compiled before "
		  "to serve (%s)", why.s, none.s);
	rc = -1;
    }
    sb_free(&done);
    sb_free(&why);
    sb_free(&none);
    return (rc);
}

/* rules_checked - crierd -n, as the service user: rules.d as crierctl check reads it */
static int rules_checked(PROBE *pb, const PROBE_SPEC *sp, void *ctx)
{
    DIAG   *d = diag_create();
    RULES  *r = rules_load(sp->conf->rules_dir, d);
    int     errors;

    (void) ctx;
    (void) rules_check(r, d);
    diag_print(d, stderr);
    if ((errors = diag_errors(d)) > 0)
	probe_say(pb, LOG_LVL_ERROR, "rules_dir %s: %d error%s (above), read as the service "
		  "user", sp->conf->rules_dir, errors, errors == 1 ? "" : "s");
    rules_free(r);
    diag_free(d);
    return (errors ? -1 : 0);
}

/* probe_spec - what the check as the service user needs to know */
static void probe_spec(PROBE_SPEC *sp, const CONF *cf, const IDENT *id, int fresh)
{
    memset(sp, 0, sizeof(*sp));
    sp->conf = cf;
    sp->conf_file = crierd.conf_file;
    sp->own = &id->own;
    sp->user = id->name;
    sp->state_fresh = fresh;
}

/* hup_forward - a SIGHUP in the worker is the supervisor's (async-signal-safe) */
static void hup_forward(int sig)
{
    int     saved = errno;

    (void) sig;
    if (getppid() == supervisor_pid)
	(void) kill(supervisor_pid, SIGHUP);
    errno = saved;
}

/*
 * worker_signals - a SIGHUP sent to every crierd process (pkill -HUP
 * crierd, systemctl kill -s HUP) reaches the worker too, where libmilter's
 * signal thread would take it to mean "stop". The worker's main thread
 * takes it and hands it to the supervisor: every other thread of ours
 * blocks it (service_thread), the main thread never does (not even in the
 * handler: SA_NODEFER), and libmilter's signal thread does not wait for
 * it (milter.c, sigwait). SIGTERM and SIGINT stay blocked here: they are
 * libmilter's, for the stop.
 */
static void worker_signals(void)
{
    struct sigaction sa;
    sigset_t set;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = hup_forward;
    sa.sa_flags = SA_RESTART | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

/*
 * reload_take - a line from the supervisor: it has checked crier.conf and
 * compiled what it could; the line says which rules are in service (after
 * I, or W when rules.d was not compiled). Take crier.conf and say what is
 * in service now.
 */
static void reload_take(const char *line)
{
    STRBUF  why = STRBUF_INIT;
    LIVE   *fresh = live_load(crierd.conf_file, 1, &why);

    if (fresh == NULL)
	msg_error("reload: %s; keeping the running configuration", why.s);
    else {
	live_settle(fresh);
	live_swap(fresh);
	if (*line == 'W')
	    msg_warn("reload: configuration %s in service, %s", crierd.conf_file, line + 1);
	else
	    msg_info("reload: configuration %s in service, %s", crierd.conf_file, line + 1);
    }
    sb_free(&why);
}

/*
 * reload_main - the worker's thread that reads the supervisor's pipe: a
 * line a reload, or "O": the outbox has new mail (from the panel)
 */
static void *reload_main(void *arg)
{
    int     fd = *(int *) arg;
    STRBUF  line = STRBUF_INIT;
    ssize_t n;
    char    c;

    while ((n = read(fd, &c, 1)) != 0) {
	if (n < 0 && errno == EINTR)
	    continue;
	if (n < 0)
	    break;
	if (c != '\n')
	    sb_putc(&line, c);
	else if (line.len > 0) {
	    if (strcmp(line.s, "O") == 0)
		outbox_wake();			/* the panel queued a mail */
	    else
		reload_take(line.s);
	    sb_reset(&line);
	}
    }
    sb_free(&line);
    return (NULL);				/* the supervisor is gone */
}

/* milter_main - libmilter, in a thread of its own (see worker_signals) */
static void *milter_main(void *arg)
{
    *(int *) arg = milter_run();
    return (NULL);
}

/*
 * worker_start - the stores, then the threads; the first worker says so to
 * the supervisor (ready), which waits for it; -1 with why
 */
static int worker_start(int *ctl, pthread_t *milter, int *milter_rc, STRBUF *why)
{
    LIVE   *lv = crierd.live;		/* only until the reload thread runs */
    unsigned lanes = (unsigned) lv->conf.outbox_workers;
    pthread_t reloader;

    if (statedb_open(lv->conf.state_dir, &crierd.sdb, why) < 0
	|| rulesdb_open(lv->conf.state_dir, 1, &crierd.rdb, why) < 0)
	return (-1);
    lv = NULL;
    /* the reload thread last: what it wakes must be there (a line waits in the pipe) */
    if (outbox_start(lanes) != 0 || digests_start(&crierd) != 0 || policyd_start() != 0
	|| selfservice_start(&crierd) != 0 || service_thread(&reloader, reload_main, ctl) != 0) {
	sb_puts(why, "cannot start the outbox, digest, policy and self-service threads");
	return (-1);
    }
    if (service_thread(milter, milter_main, milter_rc) != 0) {
	sb_puts(why, "cannot start the milter thread");
	return (-1);
    }
    return (0);
}

/* worker - open the stores, start the threads, serve until SIGTERM */
static int worker(int ctl, int ready)
{
    static int ctl_fd;
    STRBUF  why = STRBUF_INIT, sock = STRBUF_INIT;
    pthread_t milter;
    int     rc = 0;

    ctl_fd = ctl;
    worker_signals();
    g_mime_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    sb_puts(&sock, crierd.live->conf.milter_socket);
    if (worker_start(&ctl_fd, &milter, &rc, &why) < 0) {
	if (ready >= 0)
	    start_tell(&ready, why.s);		/* the supervisor says it */
	else
	    msg_error("worker: %s", why.s);
	return (1);
    }
    msg_info("worker: serving milter_socket %s", sock.s);
    start_tell(&ready, NULL);
    pthread_join(milter, NULL);
    policyd_stop();
    milter_drain(30);
    selfservice_stop();
    digests_stop();
    outbox_stop();
    msg_info("worker: stopped");
    statedb_close(crierd.sdb);
    rulesdb_close(crierd.rdb);
    sb_free(&why);
    sb_free(&sock);
    return (rc ? 1 : 0);
}

/*
 * spawn_worker - fork the worker; ready: where the first one says that it
 * serves, or -1. The supervisor keeps the write end of the worker's pipe
 * (worker_ctl). The pid, or -1 with why.
 */
static pid_t spawn_worker(int ready, STRBUF *why)
{
    pid_t   self = getpid(), pid;
    int     ctl[2];

    if (pipe2(ctl, O_CLOEXEC) < 0) {
	sb_printf(why, "cannot make the worker's pipe: %s", strerror(errno));
	return (-1);
    }
    if ((pid = fork()) == 0) {
	prctl(PR_SET_PDEATHSIG, SIGTERM);	/* the supervisor died: stop too */
	if (getppid() != self)
	    _exit(1);
	supervisor_pid = self;
	close(ctl[1]);
	if (st.report >= 0)
	    close(st.report);
	priv_left_forget(&st.left);
	webproc_close();
	_exit(worker(ctl[0], ready));
    }
    close(ctl[0]);
    if (pid < 0) {
	sb_printf(why, "cannot fork the worker: %s", strerror(errno));
	close(ctl[1]);
	return (-1);
    }
    (void) fcntl(ctl[1], F_SETFL, O_NONBLOCK);
    worker_ctl = ctl[1];
    return (pid);
}

/* worker_tell - a line for the worker's reload thread */
static void worker_tell(const STRBUF *line)
{
    if (worker_ctl < 0)
	return;
    if (write(worker_ctl, line->s, line->len) != (ssize_t) line->len)
	msg_error("reload: the worker cannot be told (%s); it keeps its configuration",
		  strerror(errno));
}

/*
 * supervise_reload - SIGHUP: check the new configuration and compile
 * rules.d, then tell the worker to take the configuration, and which rules
 * are in service: the new ones, or the ones before and why; and the panel
 * (webproc_reload).
 */
static void supervise_reload(void)
{
    STRBUF  why = STRBUF_INIT, done = STRBUF_INIT, line = STRBUF_INIT, old = STRBUF_INIT;
    LIVE   *fresh = live_load(crierd.conf_file, 1, &why);
    uint64_t gen;
    int     changed;

    if (fresh == NULL) {
	msg_error("reload: %s; keeping the running configuration and rules", why.s);
	sb_free(&why);
	return;
    }
    live_settle(fresh);
    if (rules_build(&fresh->conf, &done, &gen, &why) == 0) {
	msg_info("rules: %s", done.s);
	sb_printf(&line, "Irules generation %llu\n", (unsigned long long) gen);
    } else {
	msg_error("rules: %s; the rules in service are unchanged", why.s);
	if (rules_generation(fresh->conf.state_dir, &gen, &old) == 0)
	    sb_printf(&line, "Wrules generation %llu kept", (unsigned long long) gen);
	else
	    sb_printf(&line, "Wthe rules compiled before kept (%s)", old.s);
	sb_printf(&line, " (rules.d not compiled: %s)\n", why.s);
    }
    changed = webproc_changed(crierd.live, fresh);
    live_swap(fresh);
    worker_tell(&line);
    webproc_reload(crierd.live, changed);
    sb_free(&why);
    sb_free(&done);
    sb_free(&line);
    sb_free(&old);
}

/*
 * socket_gone - libmilter in a worker that SIGTERM or SIGINT reached
 * alone removes its unix socket on the way out, where it may; a new worker
 * could not be reached.
 */
static int socket_gone(void)
{
    const char *path = listen_path(crierd.live->conf.milter_socket);
    struct stat sb;

    return (path != NULL && stat(path, &sb) < 0 && errno == ENOENT);
}

/*
 * worker_ended - the worker is gone (not at a stop): another starts on the
 * same sockets a second later, unless the milter socket went with it. The
 * supervisor, no longer root, could not make it again as it was (owner,
 * group, mode): crierd stops, for its service manager to start it again.
 * -1: stop.
 */
static int worker_ended(pid_t pid, int status)
{
    STRBUF  how = STRBUF_INIT;
    int     rc = 0;

    proc_status(&how, status);
    if (socket_gone()) {
	msg_error("worker %ld %s, and the milter socket %s is gone: crierd stops (start it "
		  "again, as root, to make the socket anew)", (long) pid, how.s,
		  listen_path(crierd.live->conf.milter_socket));
	rc = -1;
    } else {
	msg_error("worker %ld %s; starting another", (long) pid, how.s);
	sleep(1);
    }
    sb_free(&how);
    return (rc);
}

/* first_worker - start the worker and wait until it serves; its pid, or -1 with why */
static pid_t first_worker(STRBUF *why)
{
    int     fd[2], status = 0;
    pid_t   pid;

    if (pipe2(fd, O_CLOEXEC) < 0) {
	sb_printf(why, "cannot make a pipe: %s", strerror(errno));
	return (-1);
    }
    pid = spawn_worker(fd[1], why);
    close(fd[1]);
    if (pid > 0 && start_hear(fd[0], why) == 0) {
	close(fd[0]);
	return (pid);
    }
    close(fd[0]);
    if (pid > 0) {
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
	     /* void */ ;
	if (why->len == 0) {
	    sb_puts(why, "the worker ");
	    proc_status(why, status);
	    sb_puts(why, " before it served");
	}
    }
    return (-1);
}

/* worker_wake - the panel queued a mail: the worker's outbox looks at once */
static void worker_wake(void)
{
    if (worker_ctl >= 0 && write(worker_ctl, "O\n", 2) != 2 && errno != EAGAIN)
	msg_warn("the worker's outbox cannot be woken (%s); it looks within 30 s",
		 strerror(errno));
}

/* web_forget - in the panel's process: what only the supervisor keeps */
static void web_forget(void)
{
    if (worker_ctl >= 0)
	close(worker_ctl);
    worker_ctl = -1;
}

/* supervise_signal - one signal to the supervisor; 1 when it is the stop */
static int supervise_signal(int sig, pid_t pid)
{
    if (sig == SIGHUP) {
	msg_info("SIGHUP: reloading");
	supervise_reload();
    } else if (sig == SIGUSR1)
	worker_wake();
    else if (sig == SIGTERM || sig == SIGINT) {
	msg_info("stopping");
	if (pid > 0)
	    kill(pid, SIGTERM);
	webproc_stop();
	return (1);
    }
    return (0);
}

/* next_signal - the next signal, or 0 when a start of the panel falls due first */
static int next_signal(sigset_t *set)
{
    struct timespec ts = {0, 0};
    int     sig, wait = webproc_wait();

    if (wait < 0)
	return ((sig = sigwaitinfo(set, NULL)) > 0 ? sig : 0);	/* not sigwait: milter.c */
    ts.tv_sec = wait;
    return ((sig = sigtimedwait(set, NULL, &ts)) > 0 ? sig : 0);
}

/*
 * supervise - wait for signals; restart a worker or a panel that dies
 * (each told apart by its pid); 0 at a stop, 1
 */
static int supervise(sigset_t *set, pid_t pid)
{
    STRBUF  why = STRBUF_INIT;
    pid_t   dead;
    int     sig, status, stopping = 0;

    for (;;) {
	if (pid <= 0 && !stopping && (pid = spawn_worker(-1, &why)) < 0) {
	    msg_error("%s", why.s);
	    sb_reset(&why);
	}
	if (!stopping)
	    webproc_start(crierd.live, st.lock, web_forget);
	if ((sig = next_signal(set)) != 0 && supervise_signal(sig, pid))
	    stopping = 1;
	while ((dead = waitpid(-1, &status, WNOHANG)) > 0) {
	    if (webproc_reaped(dead, status, stopping) || dead != pid)
		continue;			/* the panel; the start's watcher, with -f */
	    pid = 0;
	    close(worker_ctl);
	    worker_ctl = -1;
	    if (!stopping && worker_ended(dead, status) < 0) {
		webproc_stop();
		return (1);
	    }
	}
	if (stopping && pid <= 0 && !webproc_running())
	    return (0);
    }
}

/*
 * check_only - crierd -n: the configuration and the token key, the
 * directories as a start would prepare them, then, as the service user,
 * what it reads and writes, and rules.d. Nothing is made, bound or
 * compiled.
 */
static int check_only(const LIVE *lv)
{
    const CONF *cf = &lv->conf;
    STRBUF  why = STRBUF_INIT;
    PROBE_SPEC sp;
    IDENT   id;
    int     fresh;

    if (ident_get(cf, &id, &why) == 0) {
	id.own.dry = 1;
	if ((fresh = prepare_dirs(cf, &id, &why)) >= 0) {
	    probe_spec(&sp, cf, &id, fresh);
	    (void) probe_run(&sp, rules_checked, NULL, say_check, NULL, &why);
	}
    }
    if (why.len > 0) {
	fprintf(stderr, "crierd: %s\n", why.s);
	sb_free(&why);
	return (1);
    }
    printf("crierd: %s and %s: ok\n", crierd.conf_file, cf->rules_dir);
    return (0);
}

/* options - returns the action: 0 serve, 1 check, or -1 exit with *status */
static int options(int argc, char **argv, int *fg, int *status)
{
    static const struct option longopts[] = {
	{"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}};
    int     c, check = 0;

    crierd.conf_file = CONF_DEFAULT_FILE;
    while ((c = getopt_long(argc, argv, "c:fnhV", longopts, NULL)) != -1) {
	switch (c) {
	case 'c': crierd.conf_file = optarg; break;
	case 'f': *fg = 1; break;
	case 'n': check = 1; break;
	case 'h': usage(stdout); *status = 0; return (-1);
	case 'V': printf("crierd (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
	    *status = 0; return (-1);
	default: usage(stderr); *status = 2; return (-1);
	}
    }
    if (optind < argc) {
	usage(stderr);
	*status = 2;
	return (-1);
    }
    return (check);
}

/*
 * start - everything before the worker, in the order of the file's top
 * comment; -1 with why
 */
static int start(int fg, sigset_t *set, STRBUF *why)
{
    const CONF *cf = &crierd.live->conf;
    PROBE_SPEC sp;
    IDENT   id;
    int     fresh;

    log_init("crierd", fg);
    log_set_level(log_level_parse(cf->log_level));
    if (ident_get(cf, &id, why) < 0 || (fresh = prepare_dirs(cf, &id, why)) < 0
	|| (st.lock = take_lock(cf, &id, why)) < 0)
	return (-1);
    probe_spec(&sp, cf, &id, fresh);
    if (probe_run(&sp, rules_first, NULL, say_start, &fg, why) < 0
	|| listen_all(cf, &id, why) < 0)
	return (-1);
    priv_left_add(&st.left, cf->pid_file, S_IFREG);
    if (watch_start(fg, why) < 0)
	return (-1);
    sigprocmask(SIG_BLOCK, set, NULL);
    if (priv_pid(cf->pid_file, &id.own, why) < 0 || priv_drop(&id.own, why) < 0)
	return (-1);
    msg_info("started: milter_socket=%s policy_socket=%s web_listen=%s state_dir=%s",
	     cf->milter_socket, *cf->policy_socket ? cf->policy_socket : "(none)",
	     *cf->web_listen ? cf->web_listen : "(none)", cf->state_dir);
    return (0);
}

/*
 * start_failed - say why (to the log, and to the terminal while crierd is
 * on it), remove what the start made, and tell the process that waits.
 */
static void start_failed(const STRBUF *why, int fg)
{
    msg_error("%s", why->s);
    priv_left_remove(&st.left);
    if (st.report >= 0)
	start_tell(&st.report, why->s);
    else if (!fg)
	fprintf(stderr, "crierd: %s\n", why->s);
}

int     main(int argc, char **argv)
{
    STRBUF  why = STRBUF_INIT;
    sigset_t set;
    int     fg = 0, status = 0, action;
    pid_t   pid = -1;

    if (fds_std_open() < 0)			/* before anything is opened */
	return (1);
    (void) fds_close_except(NULL, 0);		/* nothing inherited: fds.c */
    if ((action = options(argc, argv, &fg, &status)) < 0)
	return (status);
    signal(SIGPIPE, SIG_IGN);
    if (clock_init(&why) < 0
	|| (crierd.live = live_load(crierd.conf_file, 1, &why)) == NULL) {
	fprintf(stderr, "crierd: %s\n", why.s);
	sb_free(&why);
	return (1);
    }
    if (action == 1)
	return (check_only(crierd.live));
    sigemptyset(&set);
    sigaddset(&set, SIGHUP), sigaddset(&set, SIGTERM), sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD), sigaddset(&set, SIGUSR1);
    if (start(fg, &set, &why) < 0 || (pid = first_worker(&why)) < 0) {
	start_failed(&why, fg);
	sb_free(&why);
	return (1);
    }
    start_tell(&st.report, NULL);
    priv_left_forget(&st.left);
    status = supervise(&set, pid);
    policyd_unlink();
    webproc_unlink();
    unlink(crierd.live->conf.pid_file);
    return (status);
}
