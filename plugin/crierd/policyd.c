/*
 * policyd.c - the policy service's socket: Postfix's smtpd connects to
 * policy_socket (check_policy_service) and asks at each RCPT.
 *
 * The supervisor binds the socket as root, before privileges go, and the
 * worker serves it from one thread: an epoll loop over non-blocking
 * connections. A decision takes microseconds and never waits on a disk or
 * a lock held long, so one thread keeps up with every smtpd of a busy
 * Postfix, and one slow or broken client cannot hold up the others:
 *
 *   - requests may come split across reads or several in one read; each
 *     whole request gets its answer in order;
 *   - a client that sends what is not the protocol (policy_request.c) is
 *     logged and disconnected;
 *   - a client that stops reading its answers is not read from until it
 *     does (its answers wait in its own buffer);
 *   - a request not completed within POLICYD_READ_TIMEOUT (Postfix's
 *     smtpd_policy_service_timeout) and a connection idle longer than
 *     POLICYD_IDLE_TIMEOUT (above Postfix's smtpd_policy_service_max_ttl,
 *     so that Postfix, which knows when it will ask again, closes first)
 *     are closed;
 *   - a connection that asks nothing within POLICYD_FIRST_TIMEOUT is
 *     closed (Postfix asks as soon as it connects), so idle connections
 *     cannot hold the slots;
 *   - past POLICYD_MAX_CONNS connections, new ones are closed at once;
 *     out of file descriptors, crierd stops accepting for a second
 *     instead of spinning on a listener that stays readable.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "crierd.h"
#include "log.h"
#include "mem.h"

#define POLICYD_MAX_CONNS	1024
#define POLICYD_READ_TIMEOUT	100.0	/* seconds for one request */
#define POLICYD_IDLE_TIMEOUT	1100.0	/* seconds between requests */
#define POLICYD_FIRST_TIMEOUT	30.0	/* seconds to the first request */
#define POLICYD_OUT_MAX		65536	/* unread answers: stop reading */

typedef struct pconn {
    int     fd;
    int     slot;
    char    in[POLICY_REQUEST_MAX];
    size_t  inlen;
    STRBUF  out;			/* answers not yet written */
    size_t  outoff;
    double  last;			/* when the client last made progress */
    uint32_t armed;			/* the epoll events asked for */
    int     asked;			/* it sent a request */
} PCONN;

static int listen_fd = -1;
static char *listen_path;		/* a unix socket's, to remove at exit */
static int epfd = -1, stopfd = -1;
static pthread_t thread;
static PCONN *conns[POLICYD_MAX_CONNS];
static THROTTLE *throttle;
static int listen_tag, stop_tag;	/* epoll tags of the two special fds */
static int listen_paused;		/* out of descriptors: not accepting */

static double now_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((double) ts.tv_sec + (double) ts.tv_nsec / 1e9);
}

/*
 * listen_unix - bind path. A socket file left by a killed crierd is
 * replaced; one that somebody still answers on is not.
 */
static int listen_unix(const char *path, STRBUF *why)
{
    struct sockaddr_un sun;
    struct stat st;
    int     fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
	sb_printf(why, "policy_socket path %s is too long", path);
	return (-1);
    }
    strcpy(sun.sun_path, path);
    if (lstat(path, &st) == 0) {
	if (!S_ISSOCK(st.st_mode)) {
	    sb_printf(why, "policy_socket %s exists and is not a socket", path);
	    return (-1);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *) &sun, sizeof(sun)) == 0) {
	    close(fd);
	    sb_printf(why, "policy_socket %s: another process is serving it", path);
	    return (-1);
	}
	if (fd >= 0)
	    close(fd);
	(void) unlink(path);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0
	|| listen(fd, SOMAXCONN) < 0) {
	sb_printf(why, "cannot listen on policy_socket unix:%s: %s", path, strerror(errno));
	if (fd >= 0)
	    close(fd);
	return (-1);
    }
    listen_path = xstrdup(path);
    return (fd);
}

/* listen_inet - bind inet:port@host or inet6:port@host (no host: every address) */
static int listen_inet(const char *spec, int family, STRBUF *why)
{
    char   *port = xstrdup(strchr(spec, ':') + 1);
    char   *host = strchr(port, '@');
    struct addrinfo hints, *ai = NULL;
    int     fd = -1, on = 1, err;

    if (host)
	*host++ = 0;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((err = getaddrinfo(host, port, &hints, &ai)) != 0) {
	sb_printf(why, "policy_socket %s: %s", spec, gai_strerror(err));
	free(port);
	return (-1);
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0
	|| bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
	sb_printf(why, "cannot listen on policy_socket %s: %s", spec, strerror(errno));
	if (fd >= 0)
	    close(fd);
	fd = -1;
    }
    freeaddrinfo(ai);
    free(port);
    return (fd);
}

/*
 * policyd_listen - bind policy_socket (as root, before privileges go) and
 * give it to Postfix; an empty policy_socket means no policy service.
 */
int     policyd_listen(const CONF *conf, gid_t group, STRBUF *why)
{
    const char *spec = conf->policy_socket;

    if (*spec == 0)
	return (0);
    if (strncmp(spec, "inet:", 5) == 0 || strncmp(spec, "inet6:", 6) == 0)
	listen_fd = listen_inet(spec, spec[4] == '6' ? AF_INET6 : AF_INET, why);
    else
	listen_fd = listen_unix(strchr(spec, ':') + 1, why);
    if (listen_fd < 0)
	return (-1);
    socket_give(spec, group);
    return (0);
}

/* policyd_unlink - the supervisor's last word: remove a unix socket */
void    policyd_unlink(void)
{
    if (listen_path)
	(void) unlink(listen_path);
}

static void conn_close(PCONN *c)
{
    conns[c->slot] = NULL;
    close(c->fd);			/* also leaves the epoll set */
    sb_free(&c->out);
    free(c);
}

/* accept_all - every pending connection, while there is room */
static void accept_all(double now)
{
    static double warned;
    struct epoll_event ev = {.events = EPOLLIN};
    PCONN  *c;
    int     fd, slot, one = 1;

    while ((fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0
	   || errno == EINTR || errno == ECONNABORTED) {
	if (fd < 0)
	    continue;
	for (slot = 0; slot < POLICYD_MAX_CONNS && conns[slot]; slot++)
	     /* void */ ;
	if (slot == POLICYD_MAX_CONNS) {
	    if (now - warned > 60)
		msg_warn("policy: %d connections already; refusing more", POLICYD_MAX_CONNS);
	    warned = now;
	    close(fd);
	    continue;
	}
	(void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = xcalloc(1, sizeof(PCONN));
	c->fd = fd;
	c->slot = slot;
	c->last = now;
	c->armed = EPOLLIN;
	conns[slot] = c;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
	    msg_error("policy: epoll: %s", strerror(errno));
	    conn_close(c);
	}
    }
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
	msg_warn("policy: cannot accept: %s; pausing for a second", strerror(errno));
	(void) epoll_ctl(epfd, EPOLL_CTL_DEL, listen_fd, NULL);
	listen_paused = 1;
    }
}

/* printable - a value from the request, fit for a log line */
static const char *printable(STRBUF *sb, const char *v)
{
    sb_reset(sb);
    for (; v && *v && sb->len < 256; v++)
	sb_putc(sb, ((unsigned char) *v < 0x20 || *v == 0x7f) ? '?' : *v);
    return (sb_str(sb));
}

/* log_refusal - every answer but DUNNO, with who asked for what */
static void log_refusal(const POLICY_REQ *req, int verdict, const char *reason)
{
    STRBUF  v[6] = {STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT,
    STRBUF_INIT};
    int     i;

    msg_info("%s: policy %s: client=%s[%s]%s%s from=<%s> to=<%s>: %s",
	     req->queue_id && *req->queue_id ? printable(&v[0], req->queue_id) : "NOQUEUE",
	     verdict == POLICY_THROTTLE ? "defer" : "reject",
	     printable(&v[1], req->client_name ? req->client_name : "unknown"),
	     printable(&v[2], req->client_address ? req->client_address : "unknown"),
	     req->sasl_username && *req->sasl_username ? " sasl_username=" : "",
	     printable(&v[3], req->sasl_username), printable(&v[4], req->sender),
	     printable(&v[5], req->recipient), reason);
    for (i = 0; i < 6; i++)
	sb_free(&v[i]);
}

/* serve - answer every whole request in c->in; -1 to close the connection */
static int serve(PCONN *c, double now)
{
    static STRBUF action, reason, why;
    POLICY_REQ req;
    size_t  off = 0, used;
    int     rc, verdict;
    LIVE   *lv = live_hold();

    while ((rc = policy_parse(c->in + off, c->inlen - off, &req, &used, &why)) == POLICY_READY) {
	off += used;
	c->asked = 1;
	sb_reset(&action), sb_reset(&reason);
	verdict = policy_decide(lv->policy, throttle, &req, now, &action, &reason);
	if (verdict == POLICY_DUNNO) {
	    sb_putn(&c->out, "action=DUNNO\n\n", 14);
	    continue;
	}
	sb_printf(&c->out, "action=%s\n\n", action.s);
	log_refusal(&req, verdict, reason.s);
    }
    live_release();
    if (rc == POLICY_BAD) {
	msg_warn("policy: %s; closing the connection", why.s);
	sb_reset(&why);
	return (-1);
    }
    memmove(c->in, c->in + off, c->inlen - off);
    c->inlen -= off;
    return (0);
}

/*
 * flush - write what answers we can; then wait for reads, or for room to
 * write, or (answers piling up unread) for room to write only
 */
static int flush(PCONN *c, double now)
{
    struct epoll_event ev = {.data.ptr = c};
    ssize_t n;

    while (c->outoff < c->out.len) {
	n = write(c->fd, c->out.s + c->outoff, c->out.len - c->outoff);
	if (n < 0 && errno == EINTR)
	    continue;
	if (n < 0 && errno == EAGAIN)
	    break;
	if (n < 0)
	    return (-1);
	c->outoff += (size_t) n;
	c->last = now;
    }
    if (c->outoff == c->out.len) {
	c->outoff = 0;
	sb_reset(&c->out);
    }
    ev.events = c->out.len - c->outoff >= POLICYD_OUT_MAX ? EPOLLOUT
	: c->outoff < c->out.len ? EPOLLIN | EPOLLOUT : EPOLLIN;
    if (ev.events == c->armed)
	return (0);
    c->armed = ev.events;
    return (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev));
}

/*
 * conn_ready - read and answer what came; close on end, error or garbage.
 * A read that did not fill the buffer took all there was (epoll is level
 * triggered and says when more comes), which saves a read per request.
 */
static void conn_ready(PCONN *c, uint32_t events, double now)
{
    size_t  room = 0;
    ssize_t n;

    if (events & EPOLLERR) {
	conn_close(c);
	return;
    }
    while ((events & (EPOLLIN | EPOLLHUP)) && c->out.len - c->outoff < POLICYD_OUT_MAX) {
	room = sizeof(c->in) - c->inlen;
	n = read(c->fd, c->in + c->inlen, room);
	if (n < 0 && errno == EINTR)
	    continue;
	if (n < 0 && errno == EAGAIN)
	    break;
	if (n <= 0) {
	    if (c->inlen)
		msg_warn("policy: connection ended inside a request");
	    conn_close(c);
	    return;
	}
	c->inlen += (size_t) n;
	c->last = now;
	if (serve(c, now) < 0) {
	    conn_close(c);
	    return;
	}
	if ((size_t) n < room)
	    break;
    }
    if (flush(c, now) < 0)
	conn_close(c);
}

/* sweep - close connections past their time limits; accept again after a pause */
static void sweep(double now)
{
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &listen_tag};
    int     i;

    if (listen_paused && epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &lev) == 0)
	listen_paused = 0;
    for (i = 0; i < POLICYD_MAX_CONNS; i++) {
	PCONN  *c = conns[i];
	int     busy = c && (c->inlen > 0 || c->outoff < c->out.len);
	double  limit = busy ? POLICYD_READ_TIMEOUT
	: c && !c->asked ? POLICYD_FIRST_TIMEOUT : POLICYD_IDLE_TIMEOUT;

	if (c == NULL || now - c->last < limit)
	    continue;
	if (busy)
	    msg_warn("policy: no progress on a request for %.0f s; closing the connection",
		     POLICYD_READ_TIMEOUT);
	conn_close(c);
    }
}

/* announce - say at start and after each reload what the service enforces */
static void announce(unsigned long *serial)
{
    LIVE   *lv = live_hold();
    STRBUF  sb = STRBUF_INIT;

    if (lv->serial != *serial) {
	*serial = lv->serial;
	policy_describe(lv->policy, &sb);
	msg_info("policy: serving policy_socket %s: %s", lv->conf.policy_socket, sb.s);
	if (policy_nobody_submits(lv->policy))
	    msg_warn("policy: submit_networks, submit_sasl_users and submit_senders are "
		     "all empty: nobody may submit events");
    }
    live_release();
    sb_free(&sb);
}

static void *policyd_main(void *arg)
{
    struct epoll_event evs[64];
    double  now, swept = now_mono();
    unsigned long serial = 0;
    int     i, n, stop = 0;

    (void) arg;
    while (!stop) {
	announce(&serial);
	n = epoll_wait(epfd, evs, 64, 1000);
	now = now_mono();
	for (i = 0; i < n; i++) {
	    if (evs[i].data.ptr == &stop_tag)
		stop = 1;
	    else if (evs[i].data.ptr == &listen_tag)
		accept_all(now);
	    else
		conn_ready(evs[i].data.ptr, evs[i].events, now);
	}
	if (now - swept >= 1.0) {
	    sweep(now);
	    swept = now;
	}
    }
    return (NULL);
}

/* policyd_start - the worker's policy thread, when there is a policy_socket */
int     policyd_start(void)
{
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &listen_tag};
    struct epoll_event sev = {.events = EPOLLIN, .data.ptr = &stop_tag};

    if (listen_fd < 0)
	return (0);
    throttle = throttle_create();
    if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0
	|| (stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0
	|| epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &lev) < 0
	|| epoll_ctl(epfd, EPOLL_CTL_ADD, stopfd, &sev) < 0
	|| pthread_create(&thread, NULL, policyd_main, NULL) != 0) {
	msg_error("policy: cannot start: %s", strerror(errno));
	return (-1);
    }
    return (0);
}

/* policyd_stop - end the thread and every connection */
void    policyd_stop(void)
{
    uint64_t one = 1;
    int     i;

    if (epfd < 0)
	return;
    if (write(stopfd, &one, sizeof(one)) < 0)
	msg_error("policy: cannot stop: %s", strerror(errno));
    pthread_join(thread, NULL);
    for (i = 0; i < POLICYD_MAX_CONNS; i++)
	if (conns[i])
	    conn_close(conns[i]);
    close(epfd), close(stopfd);
    epfd = stopfd = -1;
    throttle_free(throttle);
}
