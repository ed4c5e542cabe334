/*
 * crierd.c - the daemon: process setup, the supervisor, the worker.
 *
 * crierd [-c FILE] [-f] [-n]
 *
 * Start-up follows a fixed order: read the configuration, open the log,
 * bind the milter socket, write the pid file, take the state lock, drop to
 * the service user, compile rules.d, and only then open LMDB and serve.
 *
 * The process in the pid file is the supervisor. It owns SIGHUP (reload:
 * read and check crier.conf, compile rules.d; on any error the running
 * configuration and rules stay and the log says why; then SIGUSR1 tells
 * the worker to take the new configuration) and SIGTERM (the worker
 * finishes the messages in flight, then both exit). The worker is a child:
 * libmilter's threads, a thread waiting for SIGUSR1, and the service
 * threads (service.c): the outbox lanes, the digest runner, self-service
 * and the policy service.
 * If the worker dies, the supervisor starts another on the same socket.
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
#include "log.h"
#include "mem.h"
#include "privs.h"
#include "rules.h"
#include "schedule.h"

#define LOCK_FILE	"crierd.lock"

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
    const char *path = strchr(spec, ':') + 1;
    struct stat st;

    (void) group;
    if (strncmp(spec, "unix:", 5) != 0 && strncmp(spec, "local:", 6) != 0)
	return;
    if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
	msg_warn("%s: not the socket crierd bound: see who else writes in its directory", path);
}

/*
 * rules_build - check rules.d and compile it; every problem to the log.
 * A shared lock on rules.d/users/ keeps changes out from the read to the
 * commit (see change_lock).
 */
static int rules_build(const CONF *cf)
{
    STRBUF  why = STRBUF_INIT;
    int     lock = change_lock(cf->rules_dir, 0, &why);
    DIAG   *d = diag_create();
    RULES  *r = rules_load(cf->rules_dir, d);
    COMPILE_STATS st;
    int     rc = -1;

    if (lock == -1) {
	msg_warn("rules: %s; compiling without the lock", why.s);
	sb_reset(&why);
    }
    (void) rules_check(r, d);
    if (diag_errors(d) == 0 && compile_rules(r, cf->rules_dir, cf->state_dir, &st, &why) == 0) {
	msg_info("rules: %s %s: generation %llu, %zu users, %zu notifications", cf->rules_dir,
		 st.unchanged ? "unchanged" : "compiled", (unsigned long long) st.generation,
		 st.users, st.notifs);
	rc = 0;
    } else if (diag_errors(d) == 0)
	msg_error("rules: %s; the rules in service are unchanged", why.s);
    else
	msg_error("rules: %s: %d error%s; the rules in service are unchanged: %s",
		  cf->rules_dir, diag_errors(d), diag_errors(d) == 1 ? "" : "s", diag_first(d));
    rules_free(r);
    diag_free(d);
    sb_free(&why);
    if (lock >= 0)
	close(lock);
    return (rc);
}

/* dir_of - the directory of a path (allocated) */
static char *dir_of(const char *path)
{
    char   *copy = xstrdup(path);
    char   *d = xstrdup(dirname(copy));

    free(copy);
    return (d);
}

typedef struct ident {
    int     drop;			/* running as root: become uid/gid */
    PRIV_OWNER own;			/* uid, gid, and the sockets' group */
} IDENT;

/* ident_get - the service user, when crierd starts as root */
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
    if (getuid() != 0)
	return (0);
    if ((pw = getpwnam(cf->user)) == NULL) {
	sb_printf(why, "user \"%s\" does not exist: create it (useradd --system %s) "
		  "or set user in crier.conf", cf->user, cf->user);
	return (-1);
    }
    id->own.uid = pw->pw_uid;
    id->own.gid = pw->pw_gid;
    id->drop = pw->pw_uid != 0;
    return (0);
}

/*
 * own_state - the state directory, and the stores in it, belong to the
 * service user: root's (systemd's StateDirectory= resets them to root at
 * each start; a crierctl compile as root makes root's) are given to it,
 * never through a link (privs.c). The lock file is take_lock's.
 */
static int own_state(const CONF *cf, const IDENT *id, STRBUF *why)
{
    static const char *const files[] = {"rules.lmdb", "rules.lmdb-lock", "state.lmdb",
    "state.lmdb-lock", 0};

    if (priv_state_dir(cf->state_dir, &id->own, why) < 0)
	return (-1);
    return (priv_state_files(cf->state_dir, files, &id->own, why));
}

/* sock_path - the path of a unix socket spec, or NULL */
static const char *sock_path(const char *spec)
{
    if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0)
	return (strchr(spec, ':') + 1);
    return (NULL);
}

/*
 * prepare_dirs - pid file and socket directories, and the state directory:
 * made when missing and then given to the service user; one that exists
 * is left as it is (priv_dir).
 */
static int prepare_dirs(const CONF *cf, const IDENT *id, STRBUF *why)
{
    const char *socks[2] = {cf->milter_socket, cf->policy_socket};
    char   *piddir = dir_of(cf->pid_file), *sockdir;
    int     i, rc = priv_dir(piddir, 0755, &id->own, why);

    for (i = 0; rc == 0 && i < 2; i++)
	if (sock_path(socks[i]) != NULL) {
	    sockdir = dir_of(sock_path(socks[i]));
	    rc = priv_dir(sockdir, 0755, &id->own, why);
	    free(sockdir);
	}
    if (rc == 0)
	rc = own_state(cf, id, why);
    free(piddir);
    return (rc);
}

static int drop_privileges(const IDENT *id, STRBUF *why)
{
    if (!id->drop)
	return (0);
    if (setgroups(0, NULL) < 0 || setgid(id->own.gid) < 0 || setuid(id->own.uid) < 0) {
	sb_printf(why, "cannot drop privileges: %s", strerror(errno));
	return (-1);
    }
    return (0);
}

/*
 * take_lock - one crierd per state directory. flock() locks die with their
 * holders, so a killed crierd never blocks its own restart. The file is
 * the service user's, so that a restart as that user takes it anew; it is
 * opened as privs.c says (no link, one plain file).
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
    return (fd);			/* close-on-exec: a re-exec takes it anew */
}

/*
 * write_pid - the supervisor's pid, in a file the service user may
 * rewrite; made anew by root, never written through a link (priv_pid).
 */
static int write_pid(const char *path, const IDENT *id, STRBUF *why)
{
    return (priv_pid(path, &id->own, why));
}

/*
 * listen_all - bind milter_socket and policy_socket; their files are made
 * with the right group and mode (priv_bind_begin), never changed by path.
 */
static int listen_all(const CONF *cf, const IDENT *id, STRBUF *why)
{
    PRIV_BIND save;
    int     rc;

    priv_bind_begin(&id->own, &save);
    rc = milter_setup(cf, id->own.gid_postfix, why);
    if (rc == 0)
	rc = policyd_listen(cf, id->own.gid_postfix, why);
    priv_bind_end(&save);
    return (rc);
}

/*
 * writable_as_user - as the service user: state_dir must be its to write
 * (root gives it only what it made itself); sockets' and pid file's
 * directories it cannot write are only a warning (a restart in place and
 * the clean-up at exit need them).
 */
static int writable_as_user(const CONF *cf, STRBUF *why)
{
    const char *paths[3] = {cf->pid_file, sock_path(cf->milter_socket),
    sock_path(cf->policy_socket)};
    char   *dir;
    int     i;

    if (access(cf->state_dir, W_OK | X_OK) < 0) {
	sb_printf(why, "state_dir %s: not writable by the service user (uid %ld): "
		  "chown %ld %s", cf->state_dir, (long) getuid(), (long) getuid(), cf->state_dir);
	return (-1);
    }
    for (i = 0; i < 3; i++) {
	if (paths[i] == NULL)
	    continue;
	dir = dir_of(paths[i]);
	if (access(dir, W_OK | X_OK) < 0)
	    msg_warn("%s: not writable by the service user (uid %ld): a restart in place "
		     "cannot make %s anew, and it stays at exit", dir, (long) getuid(), paths[i]);
	free(dir);
    }
    return (0);
}

/*
 * readable_as_user - what a reload will read (crier.conf, the key), read
 * now as the service user, so that a file only root can read fails the
 * start instead of every reload.
 */
static int readable_as_user(STRBUF *why)
{
    LIVE   *lv = live_load(crierd.conf_file, 0, why);
    STRBUF  users = STRBUF_INIT;

    if (lv == NULL) {
	sb_printf(why, " (as the service user, uid %ld: check owners and modes)", (long) getuid());
	return (-1);
    }
    sb_printf(&users, "%s/users", lv->conf.rules_dir);
    if (access(users.s, W_OK) < 0)		/* self-service writes users' files there */
	msg_warn("%s: not writable by the service user (uid %ld): mail self-service cannot "
		 "change settings (chown -R %s %s)", users.s, (long) getuid(), lv->conf.user,
		 users.s);
    sb_free(&users);
    live_free(lv);
    return (0);
}

static void daemonize(void)
{
    pid_t   pid = fork();
    int     fd;

    if (pid < 0) {
	perror("crierd: fork");
	exit(1);
    }
    if (pid > 0)
	_exit(0);
    setsid();
    if ((fd = open("/dev/null", O_RDWR)) >= 0) {
	dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
	if (fd > 2)
	    close(fd);
    }
}

/* reload_main - the worker's SIGUSR1: take the configuration the supervisor checked */
static void *reload_main(void *arg)
{
    sigset_t set;
    int     sig;

    (void) arg;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    while (sigwait(&set, &sig) == 0) {
	STRBUF  why = STRBUF_INIT;
	LIVE   *fresh = live_load(crierd.conf_file, 1, &why);

	if (fresh == NULL)
	    msg_error("reload: %s; keeping the running configuration", why.s);
	else {
	    live_settle(fresh);
	    live_swap(fresh);
	    msg_info("reload: configuration %s in service", crierd.conf_file);
	}
	sb_free(&why);
    }
    return (NULL);
}

/* worker - open the stores, start the threads, serve until SIGTERM */
static int worker(void)
{
    STRBUF  why = STRBUF_INIT, sock = STRBUF_INIT;
    LIVE   *lv = crierd.live;		/* only until the reload thread runs */
    unsigned lanes = (unsigned) lv->conf.outbox_workers;
    pthread_t reloader;
    sigset_t set;
    int     rc;

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    g_mime_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (statedb_open(lv->conf.state_dir, &crierd.sdb, &why) < 0
	|| rulesdb_open(lv->conf.state_dir, 1, &crierd.rdb, &why) < 0) {
	msg_error("worker: %s", why.s);
	return (1);
    }
    sb_puts(&sock, lv->conf.milter_socket);
    lv = NULL;
    pthread_create(&reloader, NULL, reload_main, NULL);
    if (outbox_start(lanes) != 0 || digests_start(&crierd) != 0 || policyd_start() != 0
	|| selfservice_start(&crierd) != 0) {
	msg_error("worker: cannot start the outbox, digest, policy and self-service threads");
	return (1);
    }
    msg_info("worker: serving milter_socket %s", sock.s);
    rc = milter_run();
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

static pid_t spawn_worker(void)
{
    pid_t   pid = fork();

    if (pid == 0) {
	prctl(PR_SET_PDEATHSIG, SIGTERM);	/* the supervisor died: stop too */
	if (getppid() == 1)
	    _exit(1);
	_exit(worker());
    }
    if (pid < 0)
	msg_error("cannot fork the worker: %s", strerror(errno));
    return (pid);
}

/* supervise_reload - SIGHUP: check the new configuration, compile, tell the worker */
static void supervise_reload(pid_t pid)
{
    STRBUF  why = STRBUF_INIT;
    LIVE   *fresh = live_load(crierd.conf_file, 1, &why);

    if (fresh == NULL) {
	msg_error("reload: %s; keeping the running configuration and rules", why.s);
	sb_free(&why);
	return;
    }
    live_settle(fresh);
    (void) rules_build(&fresh->conf);
    live_swap(fresh);
    if (pid > 0)
	kill(pid, SIGUSR1);
    sb_free(&why);
}

/*
 * socket_gone - a worker stopped by a stray SIGHUP (libmilter's "stop")
 * removes its unix socket on the way out; another worker could not be
 * reached.
 */
static int socket_gone(void)
{
    const char *sock = crierd.live->conf.milter_socket;
    struct stat st;

    return (strncmp(sock, "unix:", 5) == 0 && stat(sock + 5, &st) < 0 && errno == ENOENT);
}

/*
 * restart_self - start crierd from scratch in this process (same pid, so
 * the pid file and a service manager stay right), in the foreground, as
 * the service user it already is.
 */
static void restart_self(void)
{
    int     argc = 0, i;
    char  **argv;

    while (crierd.argv[argc])
	argc++;
    argv = xcalloc((size_t) argc + 2, sizeof(char *));
    for (i = 0; i < argc; i++)
	argv[i] = crierd.argv[i];
    argv[argc] = "-f";
    msg_warn("the milter socket is gone; crierd restarts");
    execv("/proc/self/exe", argv);
    msg_error("cannot restart: %s", strerror(errno));
    exit(1);
}

/* supervise - wait for signals; restart a worker that dies */
static int supervise(sigset_t *set)
{
    pid_t   pid = 0, dead;
    int     sig, status, stopping = 0;

    for (;;) {
	if (pid <= 0 && !stopping)
	    pid = spawn_worker();
	if (sigwait(set, &sig) != 0)
	    continue;
	if (sig == SIGHUP) {
	    msg_info("SIGHUP: reloading");
	    supervise_reload(pid);
	} else if (sig == SIGTERM || sig == SIGINT) {
	    msg_info("stopping");
	    stopping = 1;
	    if (pid > 0)
		kill(pid, SIGTERM);
	}
	while ((dead = waitpid(-1, &status, WNOHANG)) > 0)
	    if (dead == pid) {
		pid = 0;
		if (!stopping) {
		    msg_error("worker %ld exited (status %d); starting another", (long) dead,
			      WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
		    sleep(1);
		    if (socket_gone())
			restart_self();
		}
	    }
	if (stopping && pid <= 0)
	    return (0);
    }
}

/* check_only - crierd -n: the configuration, the key and rules.d */
static int check_only(const LIVE *lv)
{
    DIAG   *d = diag_create();
    RULES  *r = rules_load(lv->conf.rules_dir, d);
    int     errors;

    (void) rules_check(r, d);
    diag_print(d, stderr);
    errors = diag_errors(d);
    if (errors == 0)
	printf("crierd: %s and %s: ok\n", crierd.conf_file, lv->conf.rules_dir);
    rules_free(r);
    diag_free(d);
    return (errors ? 1 : 0);
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

/* start - everything before serving, in STYLE.md's order; -1 with why */
static int start(int fg, sigset_t *set, STRBUF *why)
{
    const CONF *cf = &crierd.live->conf;
    IDENT   id;

    log_init("crierd", fg);
    log_set_level(log_level_parse(cf->log_level));
    if (ident_get(cf, &id, why) < 0 || prepare_dirs(cf, &id, why) < 0
	|| take_lock(cf, &id, why) < 0 || listen_all(cf, &id, why) < 0)
	return (-1);
    if (!fg)
	daemonize();
    sigprocmask(SIG_BLOCK, set, NULL);
    if (write_pid(cf->pid_file, &id, why) < 0 || drop_privileges(&id, why) < 0
	|| readable_as_user(why) < 0 || writable_as_user(cf, why) < 0)
	return (-1);
    if (rules_build(cf) < 0) {
	RULESDB *rdb;

	if (rulesdb_open(cf->state_dir, 0, &rdb, why) < 0)
	    return (-1);
	rulesdb_close(rdb);
	msg_warn("serving the rules compiled before");
    }
    msg_info("started: milter_socket=%s policy_socket=%s state_dir=%s", cf->milter_socket,
	     *cf->policy_socket ? cf->policy_socket : "(none)", cf->state_dir);
    return (0);
}

int     main(int argc, char **argv)
{
    STRBUF  why = STRBUF_INIT;
    sigset_t set;
    int     fg = 0, status = 0, action;

    if ((action = options(argc, argv, &fg, &status)) < 0)
	return (status);
    crierd.argv = argv;
    signal(SIGPIPE, SIG_IGN);
    if (clock_init(&why) < 0) {
	fprintf(stderr, "crierd: %s\n", why.s);
	return (1);
    }
    if ((crierd.live = live_load(crierd.conf_file, 0, &why)) == NULL) {
	fprintf(stderr, "crierd: %s\n", why.s);
	sb_free(&why);
	return (1);
    }
    if (action == 1)
	return (check_only(crierd.live));
    sigemptyset(&set);
    sigaddset(&set, SIGHUP), sigaddset(&set, SIGTERM), sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD), sigaddset(&set, SIGUSR1);
    if (start(fg, &set, &why) < 0) {
	msg_error("%s", why.s);
	if (fg == 0)
	    fprintf(stderr, "crierd: %s\n", why.s);
	sb_free(&why);
	return (1);
    }
    status = supervise(&set);
    policyd_unlink();
    unlink(crierd.live->conf.pid_file);
    return (status);
}
