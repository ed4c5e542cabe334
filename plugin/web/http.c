/*
 * http.c - libmicrohttpd behind the small interface of http.h.
 *
 * libmicrohttpd does the protocol: request parsing, chunked bodies,
 * keep-alive, and the form decoding of its post processor. It runs a pool
 * of threads, each with its own epoll set on the one listening socket, so
 * a request being answered never waits for a slow client's bytes, and a
 * connection idle for the timeout is closed. A body larger than the limit
 * gets 413 at once, from its Content-Length when it has one. The socket
 * is bound by listen.c; a request from a reverse proxy (a peer on the
 * unix socket or the loopback) is said to come from the client its
 * X-Forwarded-For names.
 */
#include "config.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "http.h"
#include "listen.h"
#include "log.h"
#include "mem.h"

#define HTTP_MAX_FIELDS	256		/* form fields in one request */
#define HTTP_DRAIN_MAX	4		/* a refused body is read to 4 times the limit */

struct http {
    struct MHD_Daemon *d;
    HTTP_HANDLER fn;
    void   *ctx;
    HTTP_LIMITS lim;
};

/* What one request gathers before it is answered. */
typedef struct req_state {
    HTTP_REQ req;
    char   *method;
    char   *path;
    char    client[INET6_ADDRSTRLEN];
    struct MHD_PostProcessor *pp;
    size_t  body;			/* bytes received */
    int     refused;			/* a refusal queued at the first call */
    int     refuse;			/* 413 or 400: to answer once the body is read */
} REQ_STATE;

/*
 * http_listen - bind spec (libmilter syntax, listen.c); the socket in *fd.
 * A unix socket's group and mode are the caller's to set up (crierd's
 * webproc_bind: the proxy's group).
 */
int     http_listen(const char *spec, int *fd, STRBUF *why)
{
    *fd = listen_open(spec, "web_listen", why);
    return (*fd < 0 ? -1 : 0);
}

/* http_unlink - the last word of a server on a unix socket */
void    http_unlink(const char *spec)
{
    listen_unlink(spec);
}

const char *http_arg(const HTTP_REQ *req, const char *name)
{
    return (MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name));
}

const char *http_cookie(const HTTP_REQ *req, const char *name)
{
    return (MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name));
}

const char *http_header(const HTTP_REQ *req, const char *name)
{
    return (MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name));
}

/* http_field - the first value of a form field, or NULL */
const char *http_field(const HTTP_REQ *req, const char *name)
{
    size_t  i;

    for (i = 0; i + 1 < req->form.len; i += 2)
	if (strcmp(req->form.v[i], name) == 0)
	    return (req->form.v[i + 1]);
    return (NULL);
}

/* http_fields - every value of a form field, added to out; how many */
size_t  http_fields(const HTTP_REQ *req, const char *name, STRV *out)
{
    size_t  i, n = 0;

    for (i = 0; i + 1 < req->form.len; i += 2)
	if (strcmp(req->form.v[i], name) == 0) {
	    strv_add(out, req->form.v[i + 1]);
	    n++;
	}
    return (n);
}

void    http_add_header(HTTP_RESP *resp, const char *name, const char *value)
{
    strv_add(&resp->headers, name);
    strv_add(&resp->headers, value);
}

/* http_redirect - 303 See Other: after a POST, the browser GETs location */
void    http_redirect(HTTP_RESP *resp, const char *location)
{
    resp->status = 303;
    http_add_header(resp, "Location", location);
}

/*
 * field_cb - one piece of a form field from the post processor: a value
 * comes in pieces (off > 0 continues the last one)
 */
static enum MHD_Result field_cb(void *cls, enum MHD_ValueKind kind, const char *key,
				        const char *filename, const char *content_type,
				        const char *encoding, const char *data, uint64_t off,
				        size_t size)
{
    REQ_STATE *rs = cls;
    STRV   *f = &rs->req.form;
    char   *joined;
    size_t  had;

    (void) kind, (void) filename, (void) content_type, (void) encoding;
    if (off == 0 || f->len == 0) {
	if (f->len >= 2 * HTTP_MAX_FIELDS)
	    return (MHD_NO);
	strv_add(f, key);
	strv_take(f, xstrndup(data ? data : "", size));
	return (MHD_YES);
    }
    had = strlen(f->v[f->len - 1]);
    joined = xmalloc(had + size + 1);
    memcpy(joined, f->v[f->len - 1], had);
    memcpy(joined + had, data, size);
    joined[had + size] = 0;
    free(f->v[f->len - 1]);
    f->v[f->len - 1] = joined;
    return (MHD_YES);
}

/* security_headers - what every response says, whatever the page */
static void security_headers(struct MHD_Response *r, int cacheable)
{
    MHD_add_response_header(r, "Content-Security-Policy",
			    "default-src 'self'; frame-ancestors 'none'");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Cache-Control", cacheable ? "public, max-age=3600"
			    : "no-store");
}

/*
 * respond - the response, with its headers; MHD_NO closes the connection.
 * The body is handed over, not copied (a panel page is tens of KB).
 */
static enum MHD_Result respond(struct MHD_Connection *conn, HTTP_RESP *resp)
{
    struct MHD_Response *r;
    enum MHD_Result rc;
    size_t  i, len = resp->body.len;
    char   *body = sb_steal(&resp->body);

    if ((r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)) == NULL) {
	free(body);
	return (MHD_NO);
    }
    MHD_add_response_header(r, "Content-Type", resp->type ? resp->type
			    : "text/html; charset=utf-8");
    security_headers(r, resp->cacheable);
    for (i = 0; i + 1 < resp->headers.len; i += 2)
	MHD_add_response_header(r, resp->headers.v[i], resp->headers.v[i + 1]);
    rc = MHD_queue_response(conn, (unsigned) (resp->status ? resp->status : 200), r);
    MHD_destroy_response(r);
    return (rc);
}

/* refuse - a short plain-text error page */
static enum MHD_Result refuse(struct MHD_Connection *conn, int status, const char *text)
{
    HTTP_RESP resp;
    enum MHD_Result rc;

    memset(&resp, 0, sizeof(resp));
    resp.status = status;
    resp.type = "text/plain; charset=utf-8";
    sb_puts(&resp.body, text);
    rc = respond(conn, &resp);
    sb_free(&resp.body);
    return (rc);
}

/*
 * forwarded_for - the address a reverse proxy put last in X-Forwarded-For
 * (the one it saw; what comes before it, the client may have written),
 * in canonical form in out; 0, or -1 when there is no such address
 */
static int forwarded_for(struct MHD_Connection *conn, char *out, size_t len)
{
    const char *xff = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For");
    const char *last;
    char    addr[INET6_ADDRSTRLEN];
    unsigned char bin[sizeof(struct in6_addr)];
    size_t  n;
    int     af;

    if (xff == NULL)
	return (-1);
    last = strrchr(xff, ',') ? strrchr(xff, ',') + 1 : xff;
    last += strspn(last, " \t");
    n = strcspn(last, " \t");
    if (n == 0 || n >= sizeof(addr))
	return (-1);
    memcpy(addr, last, n);
    addr[n] = 0;
    af = strchr(addr, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(af, addr, bin) != 1 || inet_ntop(af, bin, out, (socklen_t) len) == NULL)
	return (-1);
    return (0);
}

/* from_proxy - the peer is on the unix socket or the loopback: the proxy */
static int from_proxy(const struct sockaddr *sa)
{
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *) sa;

    if (sa == NULL || sa->sa_family == AF_UNIX)
	return (1);
    if (sa->sa_family == AF_INET)
	return ((ntohl(((const struct sockaddr_in *) sa)->sin_addr.s_addr) >> 24) == 127);
    return (sa->sa_family == AF_INET6 && (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr)
					  || (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)
					      && s6->sin6_addr.s6_addr[12] == 127)));
}

/*
 * client_of - the peer's address as text; "local" on a unix socket. From
 * a reverse proxy in front (contrib/nginx, contrib/apache: on the unix
 * socket or the loopback), the address it puts in X-Forwarded-For, so
 * that the limits per client count people, not the proxy.
 */
static void client_of(struct MHD_Connection *conn, char *out, size_t len)
{
    const union MHD_ConnectionInfo *ci;
    const struct sockaddr *sa = NULL;

    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci)
	sa = ci->client_addr;
    if (from_proxy(sa) && forwarded_for(conn, out, len) == 0)
	return;
    snprintf(out, len, "local");
    if (sa && sa->sa_family == AF_INET)
	inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, out, (socklen_t) len);
    else if (sa && sa->sa_family == AF_INET6)
	inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, out,
		  (socklen_t) len);
}

/* begin - the first call for a request: its state, and what can be refused at once */
static enum MHD_Result begin(HTTP *h, struct MHD_Connection *conn, const char *url,
			             const char *method, void **con_cls)
{
    REQ_STATE *rs = xcalloc(1, sizeof(REQ_STATE));
    const char *len = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						  MHD_HTTP_HEADER_CONTENT_LENGTH);

    *con_cls = rs;
    rs->method = xstrdup(strcmp(method, "HEAD") == 0 ? "GET" : method);
    rs->path = xstrdup(url);
    client_of(conn, rs->client, sizeof(rs->client));
    rs->req.method = rs->method;
    rs->req.path = rs->path;
    rs->req.client = rs->client;
    rs->req.conn = conn;
    if (strcmp(rs->method, "GET") != 0 && strcmp(rs->method, "POST") != 0) {
	rs->refused = 1;
	return (refuse(conn, 405, "Only GET and POST are served here.\n"));
    }
    if (strcmp(rs->method, "POST") != 0)
	return (MHD_YES);
    if (len && strtoull(len, NULL, 10) > h->lim.body) {
	rs->refused = 1;
	return (refuse(conn, 413, "The request is too large.\n"));
    }
    if ((rs->pp = MHD_create_post_processor(conn, 4096, field_cb, rs)) == NULL
	&& MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type") != NULL) {
	rs->refused = 1;
	return (refuse(conn, 415, "Send a form (application/x-www-form-urlencoded).\n"));
    }
    return (MHD_YES);
}

/*
 * take_body - a piece of the body: counted, and given to the form reader
 * until it is refused; the refusal waits for the end of the body
 * (libmicrohttpd 0.9.75 cannot queue an answer in the middle of an
 * upload), unless the client goes on sending far past the limit
 */
static enum MHD_Result take_body(HTTP *h, REQ_STATE *rs, const char *upload, size_t *size)
{
    rs->body += *size;
    if (!rs->refuse && rs->body > h->lim.body)
	rs->refuse = 413;
    else if (!rs->refuse && rs->pp && MHD_post_process(rs->pp, upload, *size) != MHD_YES)
	rs->refuse = 400;
    *size = 0;
    return (rs->refuse && rs->body > HTTP_DRAIN_MAX * h->lim.body ? MHD_NO : MHD_YES);
}

/* on_request - libmicrohttpd's access handler: gather, then answer once */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				          const char *method, const char *version,
				          const char *upload, size_t *upload_size, void **con_cls)
{
    HTTP   *h = cls;
    REQ_STATE *rs = *con_cls;
    HTTP_RESP resp;
    enum MHD_Result rc;

    (void) version;
    if (rs == NULL)
	return (begin(h, conn, url, method, con_cls));
    if (rs->refused) {				/* answered: the rest is not read */
	*upload_size = 0;
	return (MHD_YES);
    }
    if (*upload_size)
	return (take_body(h, rs, upload, upload_size));
    if (rs->refuse) {
	rs->refused = 1;
	return (refuse(conn, rs->refuse, rs->refuse == 413 ? "The request is too large.\n"
		       : "The form could not be read.\n"));
    }
    memset(&resp, 0, sizeof(resp));
    h->fn(&rs->req, &resp, h->ctx);
    rc = respond(conn, &resp);
    sb_free(&resp.body);
    strv_free(&resp.headers);
    return (rc);
}

/* on_done - the request is over: forget its state */
static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
		            enum MHD_RequestTerminationCode toe)
{
    REQ_STATE *rs = *con_cls;

    (void) cls, (void) conn, (void) toe;
    if (rs == NULL)
	return;
    if (rs->pp)
	MHD_destroy_post_processor(rs->pp);
    strv_free(&rs->req.form);
    free(rs->method);
    free(rs->path);
    free(rs);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    STRBUF  sb = STRBUF_INIT;

    (void) cls;
    sb_vprintf(&sb, fmt, ap);
    while (sb.len && sb.s[sb.len - 1] == '\n')
	sb.s[--sb.len] = 0;
    msg_warn("web: http: %s", sb.s);
    sb_free(&sb);
}

/* fd_room - connections the descriptor limit leaves room for */
static unsigned fd_room(unsigned want)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
	&& rl.rlim_cur < (rlim_t) want + 64)
	return (rl.rlim_cur > 128 ? (unsigned) rl.rlim_cur - 64 : 64);
    return (want);
}

/* http_start - serve fd with lim's limits; each request to fn */
HTTP   *http_start(int fd, const HTTP_LIMITS *lim, HTTP_HANDLER fn, void *ctx, STRBUF *why)
{
    HTTP   *h = xcalloc(1, sizeof(HTTP));

    h->fn = fn;
    h->ctx = ctx;
    h->lim = *lim;
    h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL
			    | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, h,
			    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
			    MHD_OPTION_LISTEN_SOCKET, fd,
			    MHD_OPTION_THREAD_POOL_SIZE, lim->threads,
			    MHD_OPTION_CONNECTION_LIMIT, fd_room(lim->connections),
			    MHD_OPTION_PER_IP_CONNECTION_LIMIT, lim->per_client,
			    MHD_OPTION_CONNECTION_TIMEOUT, lim->timeout,
			    MHD_OPTION_CONNECTION_MEMORY_LIMIT, lim->memory,
			    MHD_OPTION_NOTIFY_COMPLETED, on_done, h,
			    MHD_OPTION_END);
    if (h->d == NULL) {
	sb_puts(why, "libmicrohttpd could not start on the web_listen socket");
	free(h);
	return (NULL);
    }
    return (h);
}

/*
 * http_stop - no new requests; those under way are finished or cut. The
 * listening socket is let go first (quiesced), so that the stop does not
 * shut it down: it may be shared with a process that serves it next
 * (crierd's supervisor keeps it for the panel started after this one).
 */
void    http_stop(HTTP *h)
{
    if (h == NULL)
	return;
    (void) MHD_quiesce_daemon(h->d);
    MHD_stop_daemon(h->d);
    free(h);
}
