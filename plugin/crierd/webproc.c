/*
 * webproc.c - the notification settings panel's process, as crierd's
 * supervisor keeps it (the panel itself is plugin/web/).
 *
 * The supervisor binds web_listen as root with the other sockets and
 * keeps it open for good; the panel runs in a child of its own, as the
 * service user, so that a fault in it never stops the milter. A panel
 * that dies is started again on the same socket (connections wait in its
 * backlog meanwhile), after a pause that doubles from 1 to 60 seconds
 * while it keeps dying and starts at 1 again after a minute of service.
 * At a reload the panel is started anew when what it was started with
 * changed (the web_ settings, the stores, the addresses, the token key),
 * and otherwise only told (SIGHUP); a new web_listen is bound as the
 * service user, when it can be, or waits for the next start of crierd.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crierd.h"
#include "fds.h"
#include "listen.h"
#include "log.h"
#include "mem.h"
#include "privs.h"
#include "web.h"

#define WEBPROC_PAUSE_MAX	60	/* seconds between starts, at most */
#define WEBPROC_STEADY		60	/* seconds of service that end the backoff */
#define WEBPROC_GROUP		"www-data"	/* a reverse proxy's group, on Debian */

static struct webproc {
    int     fd;				/* the bound web_listen, or -1 */
    char   *spec;			/* ... as it was bound */
    pid_t   pid;			/* the panel's process, or 0 */
    time_t  started;
    time_t  due;			/* a start is due then, or 0 */
    unsigned pause;			/* seconds before the next start after a death */
    int     restart;			/* stopped for a start anew at once */
} wp = {.fd = -1, .pause = 1};

/* webproc_group - the unix socket's group: www-data where there is one */
static gid_t webproc_group(void)
{
    struct group *gr = getgrnam(WEBPROC_GROUP);

    return (gr ? gr->gr_gid : (gid_t) -1);
}

/* webproc_bind - bind spec; the socket's file, if any, for the group of a proxy */
static int webproc_bind(const char *spec, const PRIV_OWNER *own, STRBUF *why)
{
    PRIV_OWNER proxy = *own;
    PRIV_BIND save;
    int     fd, rc;

    proxy.gid_postfix = webproc_group();
    priv_bind_begin(&proxy, &save);
    rc = web_listen(spec, &fd, why);
    priv_bind_end(&save);
    if (rc < 0)
	return (-1);
    socket_give(spec, proxy.gid_postfix);
    if (wp.fd >= 0)
	close(wp.fd);
    if (wp.spec && listen_path(wp.spec) && strcmp(wp.spec, spec) != 0)
	(void) unlink(listen_path(wp.spec));	/* the socket of before, if we may */
    wp.fd = fd;
    free(wp.spec);
    wp.spec = xstrdup(spec);
    return (0);
}

/*
 * webproc_listen - at the start, as root: bind web_listen, if set (a unix
 * socket root:www-data 0660, or 0666 without that group); 0, or -1 with why
 */
int     webproc_listen(const CONF *cf, const PRIV_OWNER *own, STRBUF *why)
{
    if (*cf->web_listen == 0)
	return (0);
    return (webproc_bind(cf->web_listen, own, why));
}

/* webproc_close - a child that is not the panel keeps no copy of its socket */
void    webproc_close(void)
{
    if (wp.fd >= 0)
	close(wp.fd);
    wp.fd = -1;
}

/*
 * webproc_child - the panel's process: serve until SIGTERM; never returns.
 * It keeps stdin, stdout, stderr, its socket and the state lock (which
 * every process of crierd holds until it ends), nothing else of the
 * supervisor's: not the milter's and the policy service's listening
 * sockets (libmilter's has no accessor: hence all but a few), nor the
 * worker's pipe; it opens its stores, key and syslog itself.
 */
static void webproc_child(const LIVE *lv, int lock, pid_t supervisor,
			          void (*forget) (void))
{
    WEB_OPTS opts = {wp.spec, lv->conf.web_base_url, wp.fd, supervisor};
    int     keep[2] = {wp.fd < lock ? wp.fd : lock, wp.fd < lock ? lock : wp.fd};
    int     rc, err;

    prctl(PR_SET_PDEATHSIG, SIGTERM);		/* the supervisor died: stop too */
    if (getppid() != supervisor)
	_exit(1);
    (void) prctl(PR_SET_NAME, "crierd-web");	/* for ps and pgrep */
    if (forget)
	forget();
    log_close();
    rc = fds_close_except(keep, 2);
    err = errno;
    log_reopen();
    if (rc < 0)
	msg_warn("web: the panel keeps descriptors of the supervisor's: /proc/self/fd: %s",
		 strerror(err));
    _exit(web_main(&lv->conf, &opts));
}

/*
 * webproc_start - start the panel when it is on, none runs and none is
 * due later; the child keeps lock (the state lock, or -1); forget closes
 * there what only the supervisor keeps
 */
void    webproc_start(const LIVE *lv, int lock, void (*forget) (void))
{
    pid_t   self = getpid(), pid;

    if (wp.fd < 0 || wp.pid > 0 || (wp.due && time(NULL) < wp.due))
	return;
    wp.due = 0;
    if ((pid = fork()) == 0)
	webproc_child(lv, lock, self, forget);
    if (pid < 0) {
	msg_error("web: cannot fork the panel's process: %s; trying again in %u s",
		  strerror(errno), wp.pause);
	wp.due = time(NULL) + wp.pause;
	return;
    }
    wp.pid = pid;
    wp.started = time(NULL);
    msg_info("web: panel process %ld serves %s", (long) pid, wp.spec);
}

/*
 * webproc_reaped - pid has ended: 1 when it was the panel's (a start is
 * then due, unless crierd stops), 0 when not
 */
int     webproc_reaped(pid_t pid, int status, int stopping)
{
    STRBUF  how = STRBUF_INIT;

    if (wp.pid <= 0 || pid != wp.pid)
	return (0);
    wp.pid = 0;
    if (stopping)
	return (1);
    if (wp.restart) {				/* a reload stopped it */
	wp.restart = 0;
	wp.pause = 1;
	return (1);
    }
    if (time(NULL) - wp.started >= WEBPROC_STEADY)
	wp.pause = 1;
    proc_status(&how, status);
    msg_error("web: panel process %ld %s; starting another in %u s", (long) pid, how.s,
	      wp.pause);
    wp.due = time(NULL) + wp.pause;
    wp.pause = wp.pause * 2 > WEBPROC_PAUSE_MAX ? WEBPROC_PAUSE_MAX : wp.pause * 2;
    sb_free(&how);
    return (1);
}

/* webproc_wait - seconds until a start of the panel is due, or -1: none */
int     webproc_wait(void)
{
    time_t  now = time(NULL);

    if (wp.fd < 0 || wp.pid > 0 || wp.due == 0)
	return (-1);
    return (wp.due > now ? (int) (wp.due - now) : 0);
}

/* webproc_running - the panel's process has not been reaped yet */
int     webproc_running(void)
{
    return (wp.pid > 0);
}

/* webproc_stop - crierd stops: so does the panel */
void    webproc_stop(void)
{
    if (wp.pid > 0)
	kill(wp.pid, SIGTERM);
    wp.due = 0;
}

/* same - the setting is the same in both */
static int same(const char *a, const char *b)
{
    return (strcmp(a, b) == 0);
}

/* webproc_changed - what the panel was started with differs in fresh */
int     webproc_changed(const LIVE *old, const LIVE *fresh)
{
    const CONF *a = &old->conf, *b = &fresh->conf;

    return (!same(a->web_listen, b->web_listen) || !same(a->web_base_url, b->web_base_url)
	    || !same(a->rules_dir, b->rules_dir) || !same(a->state_dir, b->state_dir)
	    || !same(a->sender_address, b->sender_address)
	    || !same(a->request_address, b->request_address)
	    || !same(a->token_key_file, b->token_key_file) || old->key.len != fresh->key.len
	    || sodium_memcmp(old->key.bytes, fresh->key.bytes, old->key.len) != 0);
}

/* webproc_rebind - a new web_listen, as the service user: 0, or -1 (logged) */
static int webproc_rebind(const CONF *cf)
{
    STRBUF  why = STRBUF_INIT;
    PRIV_OWNER own = {getuid(), getgid(), (gid_t) -1, 0};
    int     rc = 0;

    if (*cf->web_listen == 0) {
	msg_info("web: web_listen is empty now: the panel stops");
	webproc_stop();
	webproc_close();
	if (listen_path(wp.spec) && unlink(listen_path(wp.spec)) < 0 && errno != ENOENT)
	    msg_warn("web: %s: %s", listen_path(wp.spec), strerror(errno));
	return (-1);
    }
    if (listen_path(cf->web_listen) && geteuid() != 0) {
	msg_warn("web: web_listen %s: a unix socket is bound by root only (root:www-data, "
		 "mode 0660; the service user's would be its own, 0666): %s%s until crierd "
		 "is started again", cf->web_listen, wp.fd >= 0 ? "the panel stays on "
		 : "no panel", wp.fd >= 0 ? wp.spec : "");
	return (wp.fd >= 0 ? 0 : -1);
    }
    if (webproc_bind(cf->web_listen, &own, &why) < 0) {
	msg_error("web: web_listen %s: %s as the service user; %s until crierd is started "
		  "again", cf->web_listen, why.s, wp.fd >= 0 ? "the panel stays on the socket "
		  "it has" : "no panel");
	rc = wp.fd >= 0 ? 0 : -1;
    }
    sb_free(&why);
    return (rc);
}

/*
 * webproc_reload - the new settings are in service (lv): a panel started
 * with other settings stops, and starts anew when it is reaped; another
 * is told by SIGHUP
 */
void    webproc_reload(const LIVE *lv, int changed)
{
    if (*lv->conf.web_listen == 0 && wp.fd < 0)
	return;
    if (wp.spec == NULL || !same(lv->conf.web_listen, wp.spec))
	if (webproc_rebind(&lv->conf) < 0)
	    return;
    if (wp.pid > 0 && changed) {
	msg_info("web: the panel's settings changed: starting it anew");
	wp.restart = 1;
	kill(wp.pid, SIGTERM);
    } else if (wp.pid > 0)
	kill(wp.pid, SIGHUP);
    wp.due = 0;
}

/* webproc_unlink - the supervisor's last word: remove a unix socket */
void    webproc_unlink(void)
{
    if (wp.spec && listen_path(wp.spec))
	(void) unlink(listen_path(wp.spec));
}
