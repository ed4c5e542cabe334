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
 *   - every time limit counts from a fixed instant, never from the last
 *     byte, so that a client that sends a byte now and then cannot keep
 *     a connection: a request must be whole within POLICYD_READ_TIMEOUT
 *     (Postfix's smtpd_policy_service_timeout) of its first byte, and
 *     waiting answers be read within as long of the first one waiting; a
 *     connection must have sent a whole request within
 *     POLICYD_FIRST_TIMEOUT of being accepted (Postfix asks as soon as it
 *     connects); one idle longer than POLICYD_IDLE_TIMEOUT (above
 *     Postfix's smtpd_policy_service_max_ttl, so that Postfix, which
 *     knows when it will ask again, closes first) is closed;
 *   - a new connection is always served (make_room): one peer (the uid
 *     of a unix socket's client, SO_PEERCRED; the address of an inet
 *     socket's) holds at most POLICYD_PEER_MAX of the POLICYD_MAX_CONNS
 *     slots, and when its peer has that many, or every slot is taken, a
 *     connection of that peer, or of the peer with the most, gives way:
 *     the one that deserves its slot least (rank);
 *   - out of file descriptors, crierd stops accepting for a second
 *     instead of spinning on a listener that stays readable.
 *
 * CRIER_POLICY_TIMEOUTS="FIRST READ" (seconds) shortens the first two
 * limits for tests.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crierd.h"
#include "listen.h"
#include "log.h"
#include "mem.h"
#include "service.h"

#define POLICYD_MAX_CONNS	1024
#define POLICYD_PEER_MAX	512	/* connections of one peer */
#define POLICYD_GRACE		1.0	/* seconds a new connection is spared */
#define POLICYD_READ_TIMEOUT	100.0	/* seconds for one request */
#define POLICYD_IDLE_TIMEOUT	1100.0	/* seconds between requests */
#define POLICYD_FIRST_TIMEOUT	30.0	/* seconds to the first request */
#define POLICYD_OUT_MAX		65536	/* unread answers: stop reading */

typedef struct pconn {
    int     fd;
    int     slot;
    char    peer[INET6_ADDRSTRLEN + 8];	/* "uid N", or the client address */
    char    in[POLICY_REQUEST_MAX];
    size_t  inlen;
    STRBUF  out;			/* answers not yet written */
    size_t  outoff;
    double  since;			/* accepted */
    double  last;			/* when the client last made progress */
    double  in_since;			/* the first byte of the request in in[], or 0 */
    double  out_since;			/* answers have waited in out since, or 0 */
    uint32_t armed;			/* the epoll events asked for */
    int     asked;			/* it sent a request */
} PCONN;

static int listen_fd = -1;
static char *listen_spec;		/* a unix socket's, to remove at exit */
static int epfd = -1;
static SERVICE policyd_svc;		/* the thread (service.c) */
static PCONN *conns[POLICYD_MAX_CONNS];
static int nconns;
static GHashTable *peers;		/* peer (owned) -> its connections, as a pointer */
static double t_first = POLICYD_FIRST_TIMEOUT, t_read = POLICYD_READ_TIMEOUT;
static THROTTLE *throttle;
static int listen_tag, wake_tag;	/* epoll tags of the two special fds */
static int listen_paused;		/* out of descriptors: not accepting */

static double now_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((double) ts.tv_sec + (double) ts.tv_nsec / 1e9);
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
    if ((listen_fd = listen_open(spec, "policy_socket", why)) < 0)
	return (-1);
    if (listen_path(spec))
	listen_spec = xstrdup(spec);
    socket_give(spec, group);
    return (0);
}

/* policyd_unlink - the supervisor's last word: remove a unix socket */
void    policyd_unlink(void)
{
    if (listen_spec)
	listen_unlink(listen_spec);
}

static int peer_count(const char *peer)
{
    return (GPOINTER_TO_INT(g_hash_table_lookup(peers, peer)));
}

static void peer_add(const char *peer, int delta)
{
    int     n = peer_count(peer) + delta;

    if (n > 0)
	g_hash_table_replace(peers, xstrdup(peer), GINT_TO_POINTER(n));
    else
	g_hash_table_remove(peers, peer);
}

static void conn_close(PCONN *c)
{
    conns[c->slot] = NULL;
    nconns--;
    peer_add(c->peer, -1);
    close(c->fd);			/* also leaves the epoll set */
    sb_free(&c->out);
    free(c);
}

/* peer_of - who is at the other end: a unix socket's uid, an inet socket's address */
static void peer_of(int fd, const struct sockaddr_storage *ss, char *out, size_t len)
{
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *) ss;
    const struct sockaddr_in *s4 = (const struct sockaddr_in *) ss;
    struct ucred cred;
    socklen_t clen = sizeof(cred);
    struct in_addr a4;

    if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
	memcpy(&a4, s6->sin6_addr.s6_addr + 12, 4);
	inet_ntop(AF_INET, &a4, out, (socklen_t) len);
    } else if (ss->ss_family == AF_INET6)
	inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t) len);
    else if (ss->ss_family == AF_INET)
	inet_ntop(AF_INET, &s4->sin_addr, out, (socklen_t) len);
    else if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
	snprintf(out, len, "uid %u", (unsigned) cred.uid);
    else
	snprintf(out, len, "uid ?");
}

/*
 * rank - how little c deserves its slot, lowest first to give way: a
 * request or answers pending (Postfix writes a request at once and reads
 * its answer at once), then a connection that asked nothing within
 * POLICYD_GRACE, then an idle one, then a new one; the longest waiting
 * first within each
 */
static double rank(const PCONN *c, double now)
{
    double  pending = c->in_since && c->out_since ? MIN(c->in_since, c->out_since)
    : c->in_since ? c->in_since : c->out_since;

    if (pending)
	return (pending);
    if (!c->asked && now - c->since >= POLICYD_GRACE)
	return (1e12 + c->since);
    if (c->asked)
	return (2e12 + c->last);
    return (3e12 + c->since);
}

/* biggest_peer - the peer with the most connections */
static const char *biggest_peer(void)
{
    GHashTableIter it;
    gpointer key, value;
    const char *big = NULL;
    int     most = 0;

    g_hash_table_iter_init(&it, peers);
    while (g_hash_table_iter_next(&it, &key, &value))
	if (GPOINTER_TO_INT(value) > most)
	    most = GPOINTER_TO_INT(value), big = key;
    return (big);
}

/*
 * make_room - a slot for a new connection of peer: when the peer has
 * POLICYD_PEER_MAX connections, one of its own gives way; when every
 * slot is taken, one of the peer with the most; the lowest rank of them.
 * A warning says so once a minute, or at once for another peer or the
 * other reason (a full table after the cap of the same peer, which the
 * peer with the most may well be).
 */
static void make_room(const char *peer, double now)
{
    static double warned = -1e9;
    static long closed;
    static char last[INET6_ADDRSTRLEN + 8];
    static int last_full = -1;
    const char *from = NULL;
    PCONN  *worst = NULL;
    int     i, full = 0;

    if (peer_count(peer) >= POLICYD_PEER_MAX)
	from = peer;
    else if (nconns >= POLICYD_MAX_CONNS)
	from = biggest_peer(), full = 1;
    if (from == NULL)
	return;
    for (i = 0; i < POLICYD_MAX_CONNS; i++)
	if (conns[i] && strcmp(conns[i]->peer, from) == 0
	    && (worst == NULL || rank(conns[i], now) < rank(worst, now)))
	    worst = conns[i];
    if (worst == NULL)
	return;
    closed++;
    if (now - warned >= 60 || strcmp(last, from) != 0 || full != last_full) {
	snprintf(last, sizeof(last), "%s", from);
	last_full = full;
	msg_warn("policy: %s has %d connections%s; closing the one that has waited longest "
		 "(%ld such closings since the last warning)", from, peer_count(from),
		 full ? ", the most, and every slot is taken" : ", the most one client may have",
		 closed);
	warned = now;
	closed = 0;
    }
    conn_close(worst);
}

/* conn_open - a slot for an accepted connection (make_room left one) */
static void conn_open(int fd, const char *peer, double now)
{
    struct epoll_event ev = {.events = EPOLLIN};
    PCONN  *c;
    int     slot, one = 1;

    for (slot = 0; slot < POLICYD_MAX_CONNS && conns[slot]; slot++)
	 /* void */ ;
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c = xcalloc(1, sizeof(PCONN));
    c->fd = fd;
    c->slot = slot;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    c->since = c->last = now;
    c->armed = EPOLLIN;
    conns[slot] = c;
    nconns++;
    peer_add(peer, 1);
    ev.data.ptr = c;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
	msg_error("policy: epoll: %s", strerror(errno));
	conn_close(c);
    }
}

/* accept_all - every pending connection, each with a slot (make_room) */
static void accept_all(double now)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    char    peer[INET6_ADDRSTRLEN + 8];
    int     fd;

    while ((sslen = sizeof(ss), fd = accept4(listen_fd, (struct sockaddr *) &ss, &sslen,
					     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0
	   || errno == EINTR || errno == ECONNABORTED) {
	if (fd < 0)
	    continue;
	peer_of(fd, &ss, peer, sizeof(peer));
	make_room(peer, now);
	conn_open(fd, peer, now);
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

/*
 * log_decision - an answer, with who asked for what, why, and what Postfix
 * was told: a refusal at level info, a DUNNO at debug (callers ask
 * log_enabled() first: this formats)
 */
static void log_decision(const POLICY_REQ *req, int verdict, const char *action,
			         const char *reason)
{
    STRBUF  v[6] = {STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT,
    STRBUF_INIT};
    void    (*say) (const char *,...) = verdict == POLICY_DUNNO ? msg_debug : msg_info;
    int     i;

    say("%s: policy %s: client=%s[%s]%s%s from=<%s> to=<%s>: %s; action=%s",
	req->queue_id && *req->queue_id ? printable(&v[0], req->queue_id) : "NOQUEUE",
	verdict == POLICY_THROTTLE ? "defer" : verdict == POLICY_REFUSE ? "reject" : "dunno",
	printable(&v[1], req->client_name ? req->client_name : "unknown"),
	printable(&v[2], req->client_address ? req->client_address : "unknown"),
	req->sasl_username && *req->sasl_username ? " sasl_username=" : "",
	printable(&v[3], req->sasl_username), printable(&v[4], req->sender),
	printable(&v[5], req->recipient), reason, action);
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
	    if (log_enabled(LOG_LVL_DEBUG))
		log_decision(&req, verdict, "DUNNO", reason.len ? reason.s
			     : "not crier's business");
	    continue;
	}
	sb_printf(&c->out, "action=%s\n\n", action.s);
	log_decision(&req, verdict, action.s, reason.s);
    }
    live_release();
    if (rc == POLICY_BAD) {
	msg_warn("policy: %s; closing the connection", why.s);
	sb_reset(&why);
	return (-1);
    }
    memmove(c->in, c->in + off, c->inlen - off);
    c->inlen -= off;
    if (off > 0)			/* what is left began with this read */
	c->in_since = c->inlen ? now : 0;
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
	c->out_since = 0;
	sb_reset(&c->out);
    } else if (c->out_since == 0)
	c->out_since = now;
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
	if (c->in_since == 0)
	    c->in_since = now;
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

/*
 * expired - why c is past a time limit, into why ("" to close it without
 * a word), or 0 when it is within them all
 */
static int expired(const PCONN *c, double now, STRBUF *why)
{
    if (c->in_since && now - c->in_since >= t_read)
	sb_printf(why, "a request not whole %.0f s after its first byte", t_read);
    else if (c->out_since && now - c->out_since >= t_read)
	sb_printf(why, "answers not read for %.0f s", t_read);
    else if (!c->asked && now - c->since >= t_first && c->inlen)
	sb_printf(why, "no whole request %.0f s after connecting", t_first);
    else if (!c->asked && now - c->since >= t_first)
	return (1);				/* it never asked */
    else if (c->asked && !c->inlen && !c->out_since && now - c->last >= POLICYD_IDLE_TIMEOUT)
	return (1);				/* idle */
    else
	return (0);
    return (1);
}

/*
 * sweep - close connections past their time limits (a warning for those
 * inside a request, one a sweep); accept again after a pause
 */
static void sweep(double now)
{
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &listen_tag};
    STRBUF  why = STRBUF_INIT, first = STRBUF_INIT;
    int     i, slow = 0;

    if (listen_paused && epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &lev) == 0)
	listen_paused = 0;
    for (i = 0; i < POLICYD_MAX_CONNS; i++) {
	PCONN  *c = conns[i];

	sb_reset(&why);
	if (c == NULL || !expired(c, now, &why))
	    continue;
	if (why.len && slow++ == 0)
	    sb_printf(&first, "%s: %s", c->peer, why.s);
	conn_close(c);
    }
    if (slow == 1)
	msg_warn("policy: %s; closing the connection", first.s);
    else if (slow > 1)
	msg_warn("policy: %s; closing the connection, and %d more as slow", first.s, slow - 1);
    sb_free(&why), sb_free(&first);
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

/* What the policy thread keeps from one turn to the next. */
typedef struct pturn {
    unsigned long serial;		/* of the settings announced */
    double  swept;			/* the last sweep */
    int     waking;			/* the wake descriptor is in the epoll set */
} PTURN;

static PTURN pturn;

/*
 * policyd_turn - one epoll_wait, a second at most, and what it brought,
 * new connections last (making room for one closes another, whose event
 * may be later in the same batch); the time limits once a second. The thread waits in epoll_wait, not in
 * the service's condition variable: a wake (the stop) comes as the
 * service's wake descriptor, which this puts in the epoll set.
 */
static int policyd_turn(SERVICE *svc, void *ctx)
{
    struct epoll_event evs[64], wev = {.events = EPOLLIN, .data.ptr = &wake_tag};
    PTURN  *t = ctx;
    double  now;
    int     i, n, accepting = 0;

    if (!t->waking && epoll_ctl(epfd, EPOLL_CTL_ADD, service_wake_fd(svc), &wev) < 0)
	msg_error("policy: epoll: %s; a stop waits for the next second", strerror(errno));
    t->waking = 1;
    announce(&t->serial);
    n = epoll_wait(epfd, evs, 64, 1000);
    now = now_mono();
    for (i = 0; i < n; i++) {
	if (evs[i].data.ptr == &wake_tag)
	    service_wake_drain(svc);
	else if (evs[i].data.ptr == &listen_tag)
	    accepting = 1;
	else
	    conn_ready(evs[i].data.ptr, evs[i].events, now);
    }
    if (accepting)			/* last: make_room may close a connection of evs */
	accept_all(now);
    if (now - t->swept >= 1.0) {
	sweep(now);
	t->swept = now;
    }
    return (SERVICE_NOW);
}

/*
 * room_for_fds - enough file descriptors for every slot and the rest of
 * the worker: the soft limit raised toward the hard one (systemd's soft
 * default of 1024 would run out first; libmilter uses poll, not select)
 */
static void room_for_fds(void)
{
    struct rlimit rl;
    rlim_t  want = POLICYD_MAX_CONNS + 1024;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
	return;
    rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < want)
	msg_warn("policy: only %lu file descriptors (RLIMIT_NOFILE): fewer than %d "
		 "connections may be served", (unsigned long) rl.rlim_cur, POLICYD_MAX_CONNS);
}

/* test_timeouts - CRIER_POLICY_TIMEOUTS="FIRST READ", a testing aid */
static void test_timeouts(void)
{
    const char *env = getenv("CRIER_POLICY_TIMEOUTS");
    double  first, each;

    if (env == NULL || sscanf(env, "%lf %lf", &first, &each) != 2 || first <= 0 || each <= 0)
	return;
    t_first = first, t_read = each;
    msg_warn("policy: CRIER_POLICY_TIMEOUTS: %.1f s to the first request, %.1f s for each",
	     first, each);
}

/* policyd_start - the worker's policy thread, when there is a policy_socket */
int     policyd_start(void)
{
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &listen_tag};

    if (listen_fd < 0)
	return (0);
    room_for_fds();
    test_timeouts();
    peers = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
    throttle = throttle_create();
    pturn.serial = 0;
    pturn.swept = now_mono();
    if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0
	|| epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &lev) < 0
	|| service_start(&policyd_svc, "policy", policyd_turn, &pturn, SERVICE_WAKE_FD) < 0) {
	msg_error("policy: cannot start: %s", strerror(errno));
	return (-1);
    }
    return (0);
}

/* policyd_stop - end the thread and every connection */
void    policyd_stop(void)
{
    int     i;

    if (epfd < 0)
	return;
    service_stop(&policyd_svc);
    for (i = 0; i < POLICYD_MAX_CONNS; i++)
	if (conns[i])
	    conn_close(conns[i]);
    close(epfd);
    epfd = -1;
    throttle_free(throttle);
    g_hash_table_destroy(peers);
}
