/*
 * web-load.c - a closed-loop HTTP/1.1 load generator for tests/bench/web.sh.
 *
 * web-load [-c CONNS] [-d SECONDS] [-w WARMUP] [-b COOKIE] [-k CSRF]
 *	    ADDR PORT get PATH
 * web-load [-c CONNS] [-d SECONDS] [-w WARMUP] -b COOKIE -k CSRF
 *	    ADDR PORT toggle NAME...
 *
 * CONNS threads, each with one keep-alive connection to ADDR:PORT (IPv4),
 * send a request as soon as the last one is answered: WARMUP seconds
 * (default 1) not counted, then SECONDS (default 5) counted. COOKIE goes
 * in a Cookie header as __Host-crier=COOKIE.
 *   get     GET PATH, answered 200.
 *   toggle  connection i POSTs /mute name=NAME[i mod n] with the CSRF
 *	     token, then /unmute of the same, and so on, each answered 303.
 *	     Each POST counts as one request.
 * Prints one line: requests=N per_second=R p50_ms= p99_ms= max_ms=
 * errors=E (an answer of another status, or a connection lost)
 * bytes=B (the mean size of an answer's body). Latency is from the first
 * byte of the request written to the last byte of its answer read.
 *
 * Standalone: no crier library needed.
 */
#define _GNU_SOURCE			/* strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RBUF	(1024 * 1024)		/* the largest answer read */

typedef struct conn {
    int     id;
    int     fd;
    char   *rbuf;
    double *lat;			/* latencies counted, ms */
    size_t  nlat, cap;
    long    errors;
    long long bytes;
} CONN;

static struct sockaddr_in addr;
static const char *mode, *path, *cookie, *csrf;
static char **names;
static int nnames;
static double t_start, t_count, t_end;	/* monotonic seconds */

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((double) ts.tv_sec + (double) ts.tv_nsec / 1e9);
}

static int dial(void)
{
    int     fd = socket(AF_INET, SOCK_STREAM, 0), on = 1;

    if (fd < 0 || connect(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0) {
	perror("web-load: connect");
	exit(1);
    }
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    return (fd);
}

static int write_all(int fd, const char *s, size_t len)
{
    ssize_t n;

    while (len > 0) {
	if ((n = write(fd, s, len)) < 0 && errno == EINTR)
	    continue;
	if (n <= 0)
	    return (-1);
	s += n, len -= (size_t) n;
    }
    return (0);
}

/*
 * answer - read one answer: its status, or -1 when the connection is
 * lost; *body its body's length, *closing when it says Connection: close
 */
static int answer(CONN *c, size_t *body, int *closing)
{
    size_t  have = 0, need = 0;
    char   *end = NULL, *p;
    ssize_t n;
    int     status;

    for (;;) {
	if (end && have >= need)
	    break;
	if (have >= RBUF - 1)
	    return (-1);
	if ((n = read(c->fd, c->rbuf + have, RBUF - 1 - have)) < 0 && errno == EINTR)
	    continue;
	if (n <= 0)
	    return (-1);
	have += (size_t) n;
	c->rbuf[have] = 0;
	if (end == NULL && (end = strstr(c->rbuf, "\r\n\r\n")) != NULL) {
	    *end = 0;
	    p = strcasestr(c->rbuf, "\r\nContent-Length:");
	    *body = p ? strtoul(p + 17, NULL, 10) : 0;
	    *closing = strcasestr(c->rbuf, "\r\nConnection: close") != NULL;
	    need = (size_t) (end - c->rbuf) + 4 + *body;
	}
    }
    if (sscanf(c->rbuf, "HTTP/1.%*d %d", &status) != 1)
	return (-1);
    return (status);
}

/* request - the next request of connection c (its seq-th) into out */
static int request(const CONN *c, long seq, char *out, size_t len, int *want)
{
    char    form[1024];
    const char *verb;

    if (strcmp(mode, "get") == 0) {
	*want = 200;
	return (snprintf(out, len, "GET %s HTTP/1.1\r\nHost: bench\r\n%s%s%s"
			 "Accept: text/html\r\n\r\n", path, cookie ? "Cookie: __Host-crier=" : "",
			 cookie ? cookie : "", cookie ? "\r\n" : ""));
    }
    *want = 303;
    verb = seq % 2 == 0 ? "/mute" : "/unmute";
    snprintf(form, sizeof(form), "csrf=%s&name=%s", csrf, names[c->id % nnames]);
    return (snprintf(out, len, "POST %s HTTP/1.1\r\nHost: bench\r\n"
		     "Cookie: __Host-crier=%s\r\n"
		     "Content-Type: application/x-www-form-urlencoded\r\n"
		     "Content-Length: %zu\r\n\r\n%s", verb, cookie, strlen(form), form));
}

static void record(CONN *c, double ms)
{
    if (c->nlat == c->cap) {
	c->cap = c->cap ? 2 * c->cap : 4096;
	if ((c->lat = realloc(c->lat, c->cap * sizeof(double))) == NULL) {
	    perror("web-load");
	    exit(1);
	}
    }
    c->lat[c->nlat++] = ms;
}

static void *run(void *arg)
{
    CONN   *c = arg;
    char    req[4096];
    long    seq = 0;
    double  t0, t1;
    size_t  body = 0;
    int     len, want, status, closing = 0;

    c->fd = dial();
    while ((t0 = now()) < t_end) {
	len = request(c, seq++, req, sizeof(req), &want);
	if (write_all(c->fd, req, (size_t) len) < 0
	    || (status = answer(c, &body, &closing)) < 0) {
	    c->errors++;
	    closing = 1;
	} else if (t0 >= t_count) {
	    t1 = now();
	    if (t1 <= t_end)
		record(c, (t1 - t0) * 1000.0);
	    c->errors += status != want;
	    c->bytes += (long long) body;
	}
	if (closing) {
	    close(c->fd);
	    c->fd = dial();
	    closing = 0;
	}
    }
    if (seq % 2 == 1 && names) {	/* a mute last: its unmute, not counted */
	len = request(c, seq, req, sizeof(req), &want);
	if (write_all(c->fd, req, (size_t) len) < 0 || answer(c, &body, &closing) != want)
	    c->errors++;
    }
    close(c->fd);
    return (NULL);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return ((x > y) - (x < y));
}

static int usage(void)
{
    fprintf(stderr, "usage: web-load [-c CONNS] [-d SECONDS] [-w WARMUP] [-b COOKIE] "
	    "[-k CSRF] ADDR PORT get PATH | toggle NAME...\n");
    return (2);
}

/* report - the line of figures, from every connection's latencies */
static void report(CONN *cs, int nconn, double secs)
{
    size_t  n = 0, i;
    long    errors = 0;
    long long bytes = 0;
    double *all;
    int     k;

    for (k = 0; k < nconn; k++)
	n += cs[k].nlat;
    if ((all = malloc((n + 1) * sizeof(double))) == NULL)
	exit(1);
    for (n = 0, k = 0; k < nconn; k++) {
	for (i = 0; i < cs[k].nlat; i++)
	    all[n++] = cs[k].lat[i];
	errors += cs[k].errors;
	bytes += cs[k].bytes;
    }
    qsort(all, n, sizeof(double), cmp);
    printf("requests=%zu per_second=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%ld "
	   "bytes=%lld\n", n, n / secs, n ? all[n / 2] : 0, n ? all[(size_t) (n * 0.99)] : 0,
	   n ? all[n - 1] : 0, errors, n ? bytes / (long long) n : 0);
    free(all);
}

int     main(int argc, char **argv)
{
    double  secs = 5, warm = 1;
    int     ch, nconn = 1, k;
    pthread_t *ts;
    CONN   *cs;

    while ((ch = getopt(argc, argv, "c:d:w:b:k:")) != -1) {
	if (ch == 'c')
	    nconn = atoi(optarg);
	else if (ch == 'd')
	    secs = atof(optarg);
	else if (ch == 'w')
	    warm = atof(optarg);
	else if (ch == 'b')
	    cookie = optarg;
	else if (ch == 'k')
	    csrf = optarg;
	else
	    return (usage());
    }
    argv += optind, argc -= optind;
    if (argc < 4 || nconn < 1 || secs <= 0)
	return (usage());
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short) atoi(argv[1]));
    if (inet_pton(AF_INET, argv[0], &addr.sin_addr) != 1)
	return (usage());
    mode = argv[2];
    if (strcmp(mode, "get") == 0 && argc == 4)
	path = argv[3];
    else if (strcmp(mode, "toggle") == 0 && cookie && csrf)
	names = argv + 3, nnames = argc - 3;
    else
	return (usage());
    cs = calloc((size_t) nconn, sizeof(CONN));
    ts = calloc((size_t) nconn, sizeof(pthread_t));
    t_start = now();
    t_count = t_start + warm;
    t_end = t_count + secs;
    for (k = 0; k < nconn; k++) {
	cs[k].id = k;
	if ((cs[k].rbuf = malloc(RBUF)) == NULL)
	    return (1);
	pthread_create(&ts[k], NULL, run, &cs[k]);
    }
    for (k = 0; k < nconn; k++)
	pthread_join(ts[k], NULL);
    report(cs, nconn, secs);
    return (0);
}
