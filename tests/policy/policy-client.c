/*
 * policy-client.c - a Postfix policy client for crier's tests and benchmark.
 *
 * policy-client [-m] [-s BYTES] [-d MS] SOCKET < REQUESTS
 *	Sends the requests (name=value lines, each ended by an empty line)
 *	as they are, BYTES at a time with MS milliseconds between pieces,
 *	then prints each answer's action line, one per request, or
 *	"closed" when crierd closes the connection, or "timeout" after 5 s;
 *	with -m, then "ms=" and the milliseconds from connecting to the
 *	last answer.
 *
 * policy-client -b [-c CONNS] [-t SECONDS] [-r RATE] SOCKET < REQUEST
 *	Benchmark: CONNS connections ask REQUEST (one request) again and
 *	again for SECONDS, one request at a time each, as Postfix's smtpd
 *	does. Without RATE each asks again as soon as it has its answer
 *	(throughput); with RATE the connections together ask RATE times a
 *	second on a fixed schedule, and each latency counts from when the
 *	request was due, so that a stall is not hidden. Prints requests per
 *	second and latency percentiles; exits 1 if any answer is not DUNNO.
 *
 * policy-client -w CONNS [-d MS] [-t SECONDS] SOCKET < REQUEST
 *	Slow clients: CONNS connections each send the next byte of REQUEST
 *	every MS milliseconds (1000 by default; the connections staggered),
 *	never a whole request, for SECONDS (60 by default); one that crierd
 *	closes connects again when its next byte is due. Prints "ready"
 *	once all are connected, and at the end how many were closed.
 *
 * policy-client -S PATH
 *	The benchmark's floor: a policy server on the unix socket PATH that
 *	answers DUNNO to every request, without looking at it, from one
 *	epoll thread. What crierd costs is its figures next to these.
 *
 * SOCKET is unix:/path (or a plain /path) or inet:port@host.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((double) ts.tv_sec + (double) ts.tv_nsec / 1e9);
}

static void die(const char *what)
{
    perror(what);
    exit(2);
}

/* dial - a connected socket to SOCKET */
static int dial(const char *spec)
{
    int     fd, one = 1;

    if (strncmp(spec, "inet:", 5) == 0) {
	char    port[16], *host;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;

	snprintf(port, sizeof(port), "%.*s", (int) strcspn(spec + 5, "@"), spec + 5);
	host = strchr(spec, '@') ? strchr(spec, '@') + 1 : "127.0.0.1";
	if (getaddrinfo(host, port, &hints, &ai) != 0)
	    die("getaddrinfo");
	if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) < 0
	    || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
	    die(spec);
	(void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	freeaddrinfo(ai);
    } else {
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	const char *path = strncmp(spec, "unix:", 5) == 0 ? spec + 5 : spec;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0
	    || connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0)
	    die(path);
    }
    return (fd);
}

static size_t read_all(FILE *fp, char **out)
{
    size_t  len = 0, cap = 65536, n;
    char   *buf = malloc(cap);

    while (buf && (n = fread(buf + len, 1, cap - len, fp)) > 0)
	if ((len += n) == cap)
	    buf = realloc(buf, cap *= 2);
    if (buf == NULL)
	die("malloc");
    *out = buf;
    return (len);
}

/*
 * requests_in - how many requests the input holds: the answers to wait
 * for (at least one, so that garbage waits to be refused)
 */
static int requests_in(const char *s, size_t len)
{
    int     n = 0, inside = 0;
    size_t  i, start = 0;

    for (i = 0; i < len; i++) {
	if (s[i] != '\n')
	    continue;
	if (i - start > (s[i - (i > 0)] == '\r' ? 1u : 0u))
	    inside = 1;
	else if (inside)
	    n++, inside = 0;
	start = i + 1;
    }
    return (n ? n : 1);
}

/* converse - the plain mode: send in pieces, print the answers */
static int converse(const char *spec, size_t piece, int delay_ms, int timed)
{
    char   *req, buf[8192], *nl;
    size_t  len = read_all(stdin, &req), off = 0, have = 0;
    double  t0 = now_mono();
    int     fd = dial(spec), want = requests_in(req, len), got = 0, rc = 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    ssize_t n;

    while (off < len && rc == 0) {
	size_t  k = piece && piece < len - off ? piece : len - off;

	if (write(fd, req + off, k) != (ssize_t) k)
	    rc = printf("closed\n");
	off += k;
	if (delay_ms && off < len)
	    usleep((useconds_t) delay_ms * 1000);
    }
    while (got < want && rc == 0) {
	if (poll(&pfd, 1, 5000) <= 0) {
	    printf("timeout\n");
	    rc = 1;
	} else if ((n = read(fd, buf + have, sizeof(buf) - 1 - have)) <= 0) {
	    rc = printf("closed\n");
	} else {
	    have += (size_t) n;
	    buf[have] = 0;
	}
	while (rc == 0 && (nl = strstr(buf, "\n\n")) != NULL) {
	    printf("%.*s\n", (int) (nl - buf), buf);
	    got++;
	    have -= (size_t) (nl + 2 - buf);
	    memmove(buf, nl + 2, have + 1);
	}
    }
    if (timed)
	printf("ms=%.3f\n", (now_mono() - t0) * 1000);
    close(fd);
    free(req);
    return (rc == 1);
}

/* slow - the slow clients' mode; see the top of the file */
static int slow(const char *spec, int nconn, int delay_ms, double secs)
{
    char   *req;
    size_t  len = read_all(stdin, &req);
    double  t0 = now_mono(), gap = (delay_ms > 0 ? delay_ms : 1000) / 1000.0, now;
    double *due = calloc((size_t) nconn, sizeof(double));
    size_t *sent = calloc((size_t) nconn, sizeof(size_t));
    int    *fd = calloc((size_t) nconn, sizeof(int)), i;
    long    closed = 0, bytes = 0;

    if (due == NULL || sent == NULL || fd == NULL || len < 2)
	die("setup");
    for (i = 0; i < nconn; i++) {
	fd[i] = dial(spec);
	due[i] = t0 + gap * i / nconn;
    }
    printf("ready\n");
    fflush(stdout);
    while ((now = now_mono()) < t0 + secs) {
	for (i = 0; i < nconn; i++) {
	    if (due[i] > now)
		continue;
	    due[i] += gap;
	    if (write(fd[i], req + sent[i] % (len - 1), 1) == 1) {
		sent[i]++, bytes++;
		continue;
	    }
	    close(fd[i]);			/* closed by crierd: again */
	    closed++;
	    fd[i] = dial(spec);
	    sent[i] = write(fd[i], req, 1) == 1;
	    bytes += (long) sent[i];
	}
	usleep(10000);
    }
    printf("slow: connections=%d seconds=%.1f bytes=%ld closed=%ld\n", nconn, secs, bytes,
	   closed);
    free(req), free(due), free(sent), free(fd);
    return (0);
}

typedef struct client {
    int     fd;
    double  due;			/* when the next request is due */
    double  asked;			/* when the one in flight was due */
    int     waiting;
    size_t  have;
    char    buf[512];
} CLIENT;

static int cmp_double(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return ((x > y) - (x < y));
}

/* answer - read what came for c; 1 when its answer is whole */
static int answer(CLIENT *c, int *bad)
{
    ssize_t n = read(c->fd, c->buf + c->have, sizeof(c->buf) - 1 - c->have);

    if (n <= 0) {
	fprintf(stderr, "policy-client: the server closed a connection\n");
	exit(1);
    }
    c->have += (size_t) n;
    c->buf[c->have] = 0;
    if (strstr(c->buf, "\n\n") == NULL)
	return (0);
    if (strcmp(c->buf, "action=DUNNO\n\n") != 0)
	(*bad)++;
    c->have = 0;
    return (1);
}

/* bench - the benchmark mode; see the top of the file */
static int bench(const char *spec, int nconn, double secs, double rate)
{
    char   *req;
    size_t  len = read_all(stdin, &req), nlat = 0, maxlat = 1 << 16;
    double *lat = malloc(maxlat * sizeof(double)), t0, end, now, gap;
    CLIENT *cl = calloc((size_t) nconn, sizeof(CLIENT));
    struct epoll_event ev, evs[256];
    struct timespec wait, zero = {0, 0};
    int     ep = epoll_create1(0), i, n, bad = 0;

    if (lat == NULL || cl == NULL || ep < 0)
	die("setup");
    gap = rate > 0 ? nconn / rate : 0;
    t0 = now_mono();
    end = t0 + secs;
    for (i = 0; i < nconn; i++) {
	cl[i].fd = dial(spec);
	cl[i].due = t0 + (rate > 0 ? gap * i / nconn : 0);
	ev.events = EPOLLIN;
	ev.data.ptr = &cl[i];
	epoll_ctl(ep, EPOLL_CTL_ADD, cl[i].fd, &ev);
    }
    while ((now = now_mono()) < end) {
	double  next = end;

	for (i = 0; i < nconn; i++) {
	    if (!cl[i].waiting && cl[i].due <= now) {
		if (write(cl[i].fd, req, len) != (ssize_t) len)
		    die("write");
		cl[i].asked = rate > 0 ? cl[i].due : now;
		cl[i].waiting = 1;
	    }
	    if (!cl[i].waiting && cl[i].due < next)
		next = cl[i].due;
	}
	/* sleep until the next request is due or an answer comes */
	wait.tv_sec = (time_t) (next - now);
	wait.tv_nsec = (long) ((next - now - (double) wait.tv_sec) * 1e9);
	n = epoll_pwait2(ep, evs, 256, next > now ? &wait : &zero, NULL);
	now = now_mono();
	for (i = 0; i < n; i++) {
	    CLIENT *c = evs[i].data.ptr;

	    if (!answer(c, &bad))
		continue;
	    if (nlat == maxlat && (lat = realloc(lat, (maxlat *= 2) * sizeof(double))) == NULL)
		die("realloc");
	    lat[nlat++] = now - c->asked;
	    c->waiting = 0;
	    c->due = rate > 0 ? c->due + gap : now;
	}
    }
    qsort(lat, nlat, sizeof(double), cmp_double);
    printf("connections=%d rate=%s seconds=%.1f answers=%zu per_second=%.0f "
	   "p50_ms=%.3f p99_ms=%.3f max_ms=%.3f not_dunno=%d\n", nconn,
	   rate > 0 ? "fixed" : "max", secs, nlat, nlat / secs,
	   nlat ? lat[nlat / 2] * 1000 : 0, nlat ? lat[nlat * 99 / 100] * 1000 : 0,
	   nlat ? lat[nlat - 1] * 1000 : 0, bad);
    for (i = 0; i < nconn; i++)
	close(cl[i].fd);
    close(ep);
    free(cl), free(lat), free(req);
    return (bad ? 1 : 0);
}

/* floor - serve DUNNO on a unix socket until killed; see the top of the file */
static int floor_serve(const char *path) __attribute__((noreturn));
static int floor_serve(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct epoll_event ev, evs[64];
    int     lfd = socket(AF_UNIX, SOCK_STREAM, 0), ep = epoll_create1(0), i, n, k;
    char    buf[16384];
    ssize_t got;

    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    unlink(path);
    if (lfd < 0 || ep < 0 || bind(lfd, (struct sockaddr *) &sun, sizeof(sun)) < 0
	|| listen(lfd, 128) < 0)
	die(path);
    ev.events = EPOLLIN;
    ev.data.fd = lfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    for (;;) {
	n = epoll_wait(ep, evs, 64, -1);
	for (i = 0; i < n; i++) {
	    if (evs[i].data.fd == lfd) {
		ev.data.fd = accept(lfd, NULL, NULL);
		epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
		continue;
	    }
	    if ((got = read(evs[i].data.fd, buf, sizeof(buf))) <= 0) {
		close(evs[i].data.fd);
		continue;
	    }
	    for (k = 0; k + 1 < got; k++)	/* one answer per empty line */
		if (buf[k] == '\n' && buf[k + 1] == '\n'
		    && write(evs[i].data.fd, "action=DUNNO\n\n", 14) != 14)
		    break;
	}
    }
}

int     main(int argc, char **argv)
{
    int     c, benchmark = 0, nconn = 1, delay = 0, slowly = 0, timed = 0;
    double  secs = -1, rate = 0;
    size_t  piece = 0;

    signal(SIGPIPE, SIG_IGN);			/* a closed connection is an answer */
    while ((c = getopt(argc, argv, "bc:t:r:s:d:S:w:m")) != -1) {
	switch (c) {
	case 'S': return (floor_serve(optarg));
	case 'b': benchmark = 1; break;
	case 'w': slowly = 1; nconn = atoi(optarg); break;
	case 'm': timed = 1; break;
	case 'c': nconn = atoi(optarg); break;
	case 't': secs = atof(optarg); break;
	case 'r': rate = atof(optarg); break;
	case 's': piece = (size_t) atol(optarg); break;
	case 'd': delay = atoi(optarg); break;
	default: return (2);
	}
    }
    if (optind + 1 != argc || nconn < 1) {
	fprintf(stderr, "usage: policy-client [-m] [-s BYTES] [-d MS] SOCKET < REQUESTS\n"
		"       policy-client -b [-c CONNS] [-t SECONDS] [-r RATE] SOCKET < REQUEST\n"
		"       policy-client -w CONNS [-d MS] [-t SECONDS] SOCKET < REQUEST\n"
		"       policy-client -S PATH\n");
	return (2);
    }
    if (slowly)
	return (slow(argv[optind], nconn, delay, secs < 0 ? 60 : secs));
    return (benchmark ? bench(argv[optind], nconn, secs < 0 ? 5 : secs, rate)
	    : converse(argv[optind], piece, delay, timed));
}
