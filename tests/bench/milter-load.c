/*
 * milter-load.c - SMTP load for tests/bench/milter.sh: like smtp-source,
 * but every message can be different.
 *
 * milter-load [-s SESSIONS] [-m COUNT] [-f FROM] [-t TO] [-l LENGTH]
 *             [-F TEMPLATE] [-P PREFIX] [-M HELO] [-b ADDR] HOST:PORT
 *
 * -b ADDR connects from that local IPv4 address (127.0.0.2, say: another
 * client to Postfix's smtpd_milter_maps than 127.0.0.1).
 *
 * SESSIONS threads share COUNT messages. Like smtp-source without -d, each
 * message is one SMTP session: connect, banner, HELO, MAIL, RCPT, DATA,
 * the message, ".", QUIT, close; no pipelining. The whole DATA payload,
 * final dot included, goes out in one write (and TCP_NODELAY is set), so
 * the client adds no Nagle/delayed-ACK stall of its own.
 *
 * With -F, the message is the TEMPLATE file (LF or CRLF lines; sent with
 * CRLF and dot-stuffed) in which every "@N@" becomes PREFIX followed by the
 * message number (0 .. COUNT-1): that is how each event gets its own
 * Event-Id. Without -F, the message is a From/To/Date/Message-ID header and
 * LENGTH bytes of body text, about what smtp-source -l LENGTH sends.
 *
 * A message whose reply is not 2xx/3xx where expected counts as failed (the
 * first few are reported on stderr); the run goes on. At the end, one line
 * on stdout: "sent=N failed=N seconds=S". Exit 0 when nothing failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static const char *opt_from = "load@bench.test";
static const char *opt_to = "someone@partner.test";
static const char *opt_helo = "load.bench.test";
static const char *opt_prefix = "";
static const char *opt_bind;		/* source address, or NULL */
static long opt_count = 1, opt_sessions = 1, opt_length = 2048;
static char *tmpl;			/* CRLF, dot-stuffed, or NULL */
static struct sockaddr_in server;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long next_msg, nsent, nfailed;

typedef struct conn {
    int     fd;
    char    buf[8192];
    size_t  len;
} CONN;

static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("milter-load: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static void report(long n, const char *fmt, ...)
{
    va_list ap;
    long    f;

    pthread_mutex_lock(&lock);
    f = ++nfailed;
    pthread_mutex_unlock(&lock);
    if (f > 5)
	return;
    va_start(ap, fmt);
    fprintf(stderr, "milter-load: message %ld: ", n);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
	ssize_t w = write(fd, p, len);

	if (w < 0 && errno == EINTR)
	    continue;
	if (w <= 0)
	    return (-1);
	p += w;
	len -= (size_t) w;
    }
    return (0);
}

/* reply - read one (possibly multi-line) reply; its code, or -1 */
static int reply(CONN *c, char *last, size_t lastsz)
{
    for (;;) {
	char   *nl = memchr(c->buf, '\n', c->len);

	if (nl) {
	    size_t  ll = (size_t) (nl - c->buf) + 1;
	    int     done = ll >= 4 && c->buf[3] != '-';
	    int     code = atoi(c->buf);

	    snprintf(last, lastsz, "%.*s", (int) (ll > 2 ? ll - 2 : 0), c->buf);
	    memmove(c->buf, c->buf + ll, c->len - ll);
	    c->len -= ll;
	    if (done)
		return (code);
	    continue;
	}
	if (c->len == sizeof(c->buf))
	    return (-1);
	{
	    ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);

	    if (r < 0 && errno == EINTR)
		continue;
	    if (r <= 0)
		return (-1);
	    c->len += (size_t) r;
	}
    }
}

/* cmd - send a command line (or raw data), expect a reply of class want */
static int cmd(CONN *c, long n, const char *what, const char *data, size_t len, int want)
{
    char    last[512];
    int     code;

    if (data && write_all(c->fd, data, len) < 0) {
	report(n, "%s: write: %s", what, strerror(errno));
	return (-1);
    }
    if ((code = reply(c, last, sizeof(last))) < 0) {
	report(n, "%s: connection lost", what);
	return (-1);
    }
    if (code / 100 != want) {
	report(n, "%s: %s", what, last);
	return (-1);
    }
    return (0);
}

/* payload - the message text for number n, CRLF, stuffed, ending in ".\r\n" */
static char *payload(long n, size_t *lenp)
{
    char    id[128], *out, *o;
    size_t  cap;
    const char *p;

    snprintf(id, sizeof(id), "%s%ld", opt_prefix, n);
    if (tmpl) {
	size_t  hits = 0;

	for (p = tmpl; (p = strstr(p, "@N@")) != NULL; p += 3)
	    hits++;
	cap = strlen(tmpl) + hits * strlen(id) + 8;
	o = out = malloc(cap);
	for (p = tmpl; *p;) {
	    if (strncmp(p, "@N@", 3) == 0) {
		o += sprintf(o, "%s", id);
		p += 3;
	    } else
		*o++ = *p++;
	}
    } else {
	char    date[64];
	time_t  now = time(NULL);
	long    i;

	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", gmtime(&now));
	cap = (size_t) opt_length + 1024;
	o = out = malloc(cap);
	o += sprintf(o, "From: <%s>\r\nTo: <%s>\r\nDate: %s\r\nMessage-ID: <%s.%ld@%s>\r\n"
		     "Subject: bench %s\r\n\r\n", opt_from, opt_to, date, id, (long) getpid(),
		     opt_helo, id);
	for (i = 0; i < opt_length; i += 50)	/* 48 characters and CRLF */
	    o += sprintf(o, "%-48.48s\r\n", "La de da de da 1. La de da de da 2. La de da de");
    }
    o += sprintf(o, ".\r\n");
    *lenp = (size_t) (o - out);
    return (out);
}

static void one_message(long n)
{
    CONN    c;
    char    line[1024];
    size_t  len;
    char   *msg;
    int     one = 1;

    memset(&c, 0, sizeof(c));
    if ((c.fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
	die("socket: %s", strerror(errno));
    (void) setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (opt_bind) {
	struct sockaddr_in src;

	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	if (inet_pton(AF_INET, opt_bind, &src.sin_addr) != 1
	    || bind(c.fd, (struct sockaddr *) &src, sizeof(src)) < 0)
	    die("bind %s: %s", opt_bind, strerror(errno));
    }
    if (connect(c.fd, (struct sockaddr *) &server, sizeof(server)) < 0) {
	report(n, "connect: %s", strerror(errno));
	close(c.fd);
	return;
    }
    msg = payload(n, &len);
#define CMD(what, want) (snprintf(line, sizeof(line), "%s\r\n", what), \
			 cmd(&c, n, what, line, strlen(line), want))
    if (cmd(&c, n, "banner", NULL, 0, 2) == 0) {
	char    helo[300], from[300], to[300];

	snprintf(helo, sizeof(helo), "HELO %s", opt_helo);
	snprintf(from, sizeof(from), "MAIL FROM:<%s>", opt_from);
	snprintf(to, sizeof(to), "RCPT TO:<%s>", opt_to);
	if (CMD(helo, 2) == 0 && CMD(from, 2) == 0 && CMD(to, 2) == 0 && CMD("DATA", 3) == 0
	    && cmd(&c, n, "end of data", msg, len, 2) == 0) {
	    pthread_mutex_lock(&lock);
	    nsent++;
	    pthread_mutex_unlock(&lock);
	    (void) CMD("QUIT", 2);
	}
    }
    free(msg);
    close(c.fd);
}

static void *session(void *arg)
{
    (void) arg;
    for (;;) {
	long    n;

	pthread_mutex_lock(&lock);
	n = next_msg < opt_count ? next_msg++ : -1;
	pthread_mutex_unlock(&lock);
	if (n < 0)
	    return (NULL);
	one_message(n);
    }
}

/* load_template - read the file; CRLF line ends, leading dots doubled */
static char *load_template(const char *path)
{
    FILE   *fp = fopen(path, "r");
    char   *out = NULL, *line = NULL;
    size_t  olen = 0, cap = 0;
    ssize_t n;

    if (fp == NULL)
	die("%s: %s", path, strerror(errno));
    while ((n = getline(&line, &cap, fp)) >= 0) {
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
	    line[--n] = 0;
	out = realloc(out, olen + (size_t) n + 4);
	if (line[0] == '.')
	    out[olen++] = '.';
	memcpy(out + olen, line, (size_t) n);
	olen += (size_t) n;
	out[olen++] = '\r';
	out[olen++] = '\n';
    }
    free(line);
    fclose(fp);
    if (out == NULL)
	die("%s is empty", path);
    out[olen] = 0;
    return (out);
}

int     main(int argc, char **argv)
{
    struct timespec t0, t1;
    pthread_t *th;
    char   *host, *port;
    int     ch;
    long    i;

    while ((ch = getopt(argc, argv, "s:m:f:t:l:F:P:M:b:")) != -1) {
	switch (ch) {
	case 's': opt_sessions = atol(optarg); break;
	case 'm': opt_count = atol(optarg); break;
	case 'f': opt_from = optarg; break;
	case 't': opt_to = optarg; break;
	case 'l': opt_length = atol(optarg); break;
	case 'F': tmpl = load_template(optarg); break;
	case 'P': opt_prefix = optarg; break;
	case 'M': opt_helo = optarg; break;
	case 'b': opt_bind = optarg; break;
	default:
	    fprintf(stderr, "usage: milter-load [-s SESSIONS] [-m COUNT] [-f FROM] [-t TO] "
		    "[-l LENGTH] [-F TEMPLATE] [-P PREFIX] [-M HELO] [-b ADDR] HOST:PORT\n");
	    return (2);
	}
    }
    if (optind != argc - 1 || opt_sessions < 1 || opt_count < 0)
	die("usage: milter-load [options] HOST:PORT");
    host = strdup(argv[optind]);
    if ((port = strrchr(host, ':')) == NULL)
	die("%s: want HOST:PORT", host);
    *port++ = 0;
    memset(&server, 0, sizeof(server));
    server.sin_family = AF_INET;
    server.sin_port = htons((unsigned short) atoi(port));
    if (inet_pton(AF_INET, host, &server.sin_addr) != 1)
	die("%s: want an IPv4 address", host);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    th = calloc((size_t) opt_sessions, sizeof(pthread_t));
    for (i = 0; i < opt_sessions; i++)
	if (pthread_create(&th[i], NULL, session, NULL) != 0)
	    die("pthread_create failed");
    for (i = 0; i < opt_sessions; i++)
	pthread_join(th[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("sent=%ld failed=%ld seconds=%.3f\n", nsent, nfailed,
	   (double) (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    return (nfailed ? 1 : 0);
}
