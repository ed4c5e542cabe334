/*
 * reinject.c - hand a message back to Postfix.
 *
 * smtp:HOST:PORT speaks SMTP (through libcurl, which knows dot-stuffing,
 * multi-line replies and timeouts) to a loopback smtpd whose master.cf
 * entry skips milters, so crier's own mail never comes back to it;
 * sendmail:PATH runs Postfix's sendmail(1). The verdict tells the outbox
 * whether to forget the message, try again later, or put it aside.
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

struct reinject {
    char   *url;			/* smtp://host:port/helo-name */
    char   *path;			/* sendmail */
    char   *sender;
    CURL   *curl;
};

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

REINJECT *reinject_open(const char *method, const char *sender, STRBUF *why)
{
    REINJECT *ri = xcalloc(1, sizeof(REINJECT));
    STRBUF  url = STRBUF_INIT;
    const char *at = strrchr(sender, '@');

    ri->sender = xstrdup(sender);
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
    free(ri->sender);
    free(ri);
}

/* smtp_send - one message, one recipient, on a connection libcurl keeps */
static int smtp_send(REINJECT *ri, const char *rcpt, const char *msg, size_t len, STRBUF *why)
{
    struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
    UPLOAD  up = {msg, len};
    STRBUF  from = STRBUF_INIT;
    long    code = 0;
    CURLcode rc;

    sb_printf(&from, "<%s>", ri->sender);
    curl_easy_reset(ri->curl);
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
    curl_slist_free_all(rcpts);
    sb_free(&from);
    if (rc == CURLE_OK)
	return (REINJECT_OK);
    sb_printf(why, "%s: %s (SMTP reply %ld)", ri->url, curl_easy_strerror(rc), code);
    if (code == 0)
	return (REINJECT_DOWN);
    return (code >= 500 && code < 600 ? REINJECT_PERM : REINJECT_TEMP);
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
static int sendmail_send(REINJECT *ri, const char *rcpt, const char *msg, size_t len,
			         STRBUF *why)
{
    int     fd[2], status = 0;
    pid_t   pid, got;

    if (pipe2(fd, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
	sb_printf(why, "cannot run %s: %s", ri->path, strerror(errno));
	return (REINJECT_DOWN);
    }
    if (pid == 0) {
	dup2(fd[0], 0);			/* (dup2 clears close-on-exec on 0) */
	execl(ri->path, "sendmail", "-i", "-f", ri->sender, "--", rcpt, (char *) 0);
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

int     reinject_send(REINJECT *ri, const char *rcpt, const char *msg, size_t len, STRBUF *why)
{
    return (ri->path ? sendmail_send(ri, rcpt, msg, len, why)
	    : smtp_send(ri, rcpt, msg, len, why));
}
