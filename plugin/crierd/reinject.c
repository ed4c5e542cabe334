/*
 * reinject.c - hand a message back to Postfix.
 *
 * smtp:HOST:PORT speaks SMTP (through libcurl, which knows dot-stuffing,
 * multi-line replies and timeouts) to a loopback smtpd whose master.cf
 * entry skips milters, so crier's own mail never comes back to it;
 * sendmail:PATH runs Postfix's sendmail(1). The verdict tells the outbox
 * whether to forget the message, try again later, or put it aside; the
 * reply is Postfix's own last one, as its smtp(8) logs it ("250 2.0.0 Ok:
 * queued as 4F9D8...", or "550 5.1.1 <x@y>: Recipient address rejected:
 * ... (in reply to RCPT TO command)"), read from libcurl's protocol trace.
 * The envelope sender is given per message (a bounce address of its own).
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "crierd.h"
#include "mem.h"
#include "strutil.h"

struct reinject {
    char   *url;			/* smtp://host:port/helo-name */
    char   *path;			/* sendmail */
    CURL   *curl;
};

#define REPLY_MAX	1000		/* bytes of a reply kept */

/* Postfix's replies in one session, as libcurl's trace shows them. */
typedef struct replies {
    STRBUF  cur;			/* the reply being read (multi-line) */
    STRBUF  last;			/* the last whole one */
    char    cmd[16];			/* the command the next reply answers */
    char    last_cmd[16];		/* ... and the last whole one answered */
} REPLIES;

typedef struct upload {
    const char *p;
    size_t  left;
} UPLOAD;

static size_t upload_read(char *buf, size_t size, size_t n, void *ctx)
{
    UPLOAD *up = ctx;
    size_t  len = size * n < up->left ? size * n : up->left;

    memcpy(buf, up->p, len);
    up->p += len;
    up->left -= len;
    return (len);
}

/* reinject_open - a method for messages; HELO names the domain of sender */
REINJECT *reinject_open(const char *method, const char *sender, STRBUF *why)
{
    REINJECT *ri = xcalloc(1, sizeof(REINJECT));
    STRBUF  url = STRBUF_INIT;
    const char *at = strrchr(sender, '@');

    if (strncmp(method, "sendmail:", 9) == 0) {
	ri->path = xstrdup(method + 9);
	return (ri);
    }
    if (strncmp(method, "smtp:", 5) != 0 || strchr(method + 5, ':') == NULL) {
	sb_printf(why, "reinject \"%s\": use smtp:HOST:PORT or sendmail:PATH", method);
	reinject_close(ri);
	return (NULL);
    }
    sb_printf(&url, "smtp://%s/%s", method + 5, at ? at + 1 : "localhost");
    ri->url = sb_steal(&url);
    if ((ri->curl = curl_easy_init()) == NULL) {
	sb_puts(why, "libcurl cannot start");
	reinject_close(ri);
	return (NULL);
    }
    return (ri);
}

void    reinject_close(REINJECT *ri)
{
    if (ri == NULL)
	return;
    if (ri->curl)
	curl_easy_cleanup(ri->curl);
    free(ri->url);
    free(ri->path);
    free(ri);
}

/* note_command - a command went out: what the next reply answers */
static void note_command(REPLIES *r, const char *data, size_t size)
{
    static const char *const verbs[] = {"MAIL FROM", "RCPT TO", "DATA", "EHLO", "HELO",
    "QUIT", "RSET", "NOOP", 0};
    const char *const *v;

    for (v = verbs; *v; v++)
	if (size >= strlen(*v) && str_ncasecmp(data, *v, strlen(*v)) == 0) {
	    snprintf(r->cmd, sizeof(r->cmd), "%s", *v);
	    return;
	}
}

/*
 * note_reply - one line of a reply came in: "250-..." goes on, "250 ..."
 * ends it; the lines are joined with a space, as Postfix logs them.
 * A 354 after DATA means the next reply answers the end of the data.
 */
static void note_reply(REPLIES *r, const char *line, size_t len)
{
    size_t  i;

    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
	len--;
    if (len < 3 || strcmp(r->cmd, "QUIT") == 0)
	return;
    if (r->cur.len)
	sb_putc(&r->cur, ' ');
    for (i = 0; i < len && r->cur.len < REPLY_MAX; i++)
	sb_putc(&r->cur, (unsigned char) line[i] < ' ' || line[i] == 0x7f ? ' ' : line[i]);
    if (len > 3 && line[3] == '-')
	return;
    sb_reset(&r->last);
    sb_puts(&r->last, sb_str(&r->cur));
    sb_reset(&r->cur);
    snprintf(r->last_cmd, sizeof(r->last_cmd), "%s", r->cmd);
    if (strncmp(line, "354", 3) == 0)
	snprintf(r->cmd, sizeof(r->cmd), "end of DATA");
}

/* smtp_trace - libcurl's protocol trace: commands out, replies in, line by line */
static int smtp_trace(CURL *h, curl_infotype type, char *data, size_t size, void *ctx)
{
    const char *nl;

    (void) h;
    if (type == CURLINFO_HEADER_OUT)
	note_command(ctx, data, size);
    else if (type == CURLINFO_HEADER_IN)
	for (; size > 0; size -= (size_t) (nl - data), data = (char *) nl) {
	    nl = memchr(data, '\n', size);
	    nl = nl ? nl + 1 : data + size;
	    note_reply(ctx, data, (size_t) (nl - data));
	}
    return (0);
}

/* smtp_verdict - what the outbox does, and what it says (Postfix's reply) */
static int smtp_verdict(REINJECT *ri, CURLcode rc, long code, REPLIES *r, STRBUF *reply)
{
    if (rc == CURLE_OK) {
	sb_puts(reply, r->last.len ? r->last.s : "250 (no reply text)");
	return (REINJECT_OK);
    }
    if (code == 0 || r->last.len == 0)
	sb_printf(reply, "%s: %s (SMTP reply %ld)", ri->url, curl_easy_strerror(rc), code);
    else
	sb_printf(reply, "%s (in reply to %s%s)", r->last.s,
		  *r->last_cmd ? r->last_cmd : "the greeting",
		  *r->last_cmd && strcmp(r->last_cmd, "end of DATA") ? " command" : "");
    if (code == 0)
	return (REINJECT_DOWN);
    return (code >= 500 && code < 600 ? REINJECT_PERM : REINJECT_TEMP);
}

/* smtp_send - one message, one recipient, on a connection libcurl keeps */
static int smtp_send(REINJECT *ri, const char *sender, const char *rcpt, const char *msg,
		             size_t len, STRBUF *reply)
{
    struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
    UPLOAD  up = {msg, len};
    STRBUF  from = STRBUF_INIT;
    REPLIES r = {STRBUF_INIT, STRBUF_INIT, "", ""};
    long    code = 0;
    CURLcode rc;
    int     verdict;

    sb_printf(&from, "<%s>", sender);
    curl_easy_reset(ri->curl);
    curl_easy_setopt(ri->curl, CURLOPT_VERBOSE, 1L);	/* (the trace needs it) */
    curl_easy_setopt(ri->curl, CURLOPT_DEBUGFUNCTION, smtp_trace);
    curl_easy_setopt(ri->curl, CURLOPT_DEBUGDATA, &r);
    curl_easy_setopt(ri->curl, CURLOPT_URL, ri->url);
    curl_easy_setopt(ri->curl, CURLOPT_MAIL_FROM, from.s);
    curl_easy_setopt(ri->curl, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(ri->curl, CURLOPT_READFUNCTION, upload_read);
    curl_easy_setopt(ri->curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(ri->curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(ri->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t) len);
    curl_easy_setopt(ri->curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(ri->curl, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(ri->curl, CURLOPT_NOSIGNAL, 1L);
    rc = curl_easy_perform(ri->curl);
    curl_easy_getinfo(ri->curl, CURLINFO_RESPONSE_CODE, &code);
    verdict = smtp_verdict(ri, rc, code, &r, reply);
    curl_easy_setopt(ri->curl, CURLOPT_DEBUGDATA, NULL);	/* (r goes now) */
    curl_easy_setopt(ri->curl, CURLOPT_VERBOSE, 0L);
    curl_slist_free_all(rcpts);
    sb_free(&from);
    sb_free(&r.cur);
    sb_free(&r.last);
    return (verdict);
}

/* write_lf - the message with LF line ends (sendmail(1) wants them), in chunks */
static int write_lf(int fd, const char *msg, size_t len)
{
    char    buf[8192];
    size_t  i, n = 0;

    for (i = 0; i < len; i++) {
	if (msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n')
	    continue;
	buf[n++] = msg[i];
	if (n == sizeof(buf) || i + 1 == len) {
	    if (write(fd, buf, n) != (ssize_t) n)
		return (-1);
	    n = 0;
	}
    }
    return (0);
}

/*
 * sendmail_send - sendmail -i -f SENDER -- RCPT, the message on its stdin.
 * The pipe is close-on-exec, so that a sendmail started by another outbox
 * thread never holds this one's write end (each would wait for the other).
 */
static int sendmail_send(REINJECT *ri, const char *sender, const char *rcpt, const char *msg,
			         size_t len, STRBUF *why)
{
    int     fd[2], status = 0;
    pid_t   pid, got;

    if (pipe2(fd, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
	sb_printf(why, "cannot run %s: %s", ri->path, strerror(errno));
	return (REINJECT_DOWN);
    }
    if (pid == 0) {
	dup2(fd[0], 0);			/* (dup2 clears close-on-exec on 0) */
	execl(ri->path, "sendmail", "-i", "-f", sender, "--", rcpt, (char *) 0);
	_exit(EX_TEMPFAIL);
    }
    close(fd[0]);
    (void) write_lf(fd[1], msg, len);
    close(fd[1]);
    while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
	 /* void */ ;
    if (got < 0) {
	sb_printf(why, "%s: cannot wait for it: %s", ri->path, strerror(errno));
	return (REINJECT_TEMP);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
	sb_printf(why, "%s exited with status %d", ri->path,
		  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return (WIFEXITED(status) && (WEXITSTATUS(status) == EX_NOUSER
				      || WEXITSTATUS(status) == EX_DATAERR)
		? REINJECT_PERM : REINJECT_TEMP);
    }
    return (REINJECT_OK);
}

/*
 * reinject_send - one message from sender to rcpt: a REINJECT_* verdict,
 * and Postfix's reply (or what went wrong) in reply; "" when sendmail(1)
 * took it, which says nothing
 */
int     reinject_send(REINJECT *ri, const char *sender, const char *rcpt, const char *msg,
		              size_t len, STRBUF *reply)
{
    return (ri->path ? sendmail_send(ri, sender, rcpt, msg, len, reply)
	    : smtp_send(ri, sender, rcpt, msg, len, reply));
}
