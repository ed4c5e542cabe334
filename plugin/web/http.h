/*
 * http.h - the panel's HTTP server: libmicrohttpd behind a small interface.
 *
 * http_listen() binds a socket in libmilter's syntax (inet:PORT@ADDR,
 * inet6:PORT@ADDR, unix:/path), for the caller to do while it may still
 * bind anything; http_start() serves it with a pool of threads. Each
 * request comes to one handler whole: the method, the path, the client's
 * address and, for a POST, its form fields (urlencoded or multipart),
 * already decoded; the handler fills a response. Every response carries
 * the security headers; limits on connections, time and size are set
 * here, so a slow or greedy client is cut off without holding up others.
 * Nothing here knows about crier's pages.
 */
#ifndef CRIER_HTTP_H
#define CRIER_HTTP_H

#include <stddef.h>

#include "strbuf.h"
#include "strv.h"

typedef struct http HTTP;

typedef struct http_limits {
    unsigned threads;			/* serving threads */
    unsigned connections;		/* open at once, in all */
    unsigned per_client;		/* ... from one address */
    unsigned timeout;			/* seconds a connection may idle */
    size_t  memory;			/* bytes per connection (headers, buffers) */
    size_t  body;			/* bytes of a POST body */
} HTTP_LIMITS;

#define HTTP_LIMITS_DEFAULT { 2, 1000, 250, 10, 32 * 1024, 16 * 1024 }

typedef struct http_req {
    const char *method;			/* GET (HEAD too), POST */
    const char *path;			/* decoded, without the query */
    const char *client;			/* the peer, "local", or the proxy's X-Forwarded-For */
    STRV    form;			/* POST fields: name, value, name, value, ... */
    void   *conn;			/* libmicrohttpd's, for the lookups below */
} HTTP_REQ;

typedef struct http_resp {
    int     status;			/* 200 unless set */
    const char *type;			/* Content-Type; NULL: HTML */
    STRBUF  body;
    STRV    headers;			/* name, value, ... */
    int     cacheable;			/* 1: a static file; else Cache-Control: no-store */
} HTTP_RESP;

int     http_listen(const char *spec, int *fd, STRBUF *why);
void    http_unlink(const char *spec);
typedef void (*HTTP_HANDLER) (const HTTP_REQ *req, HTTP_RESP *resp, void *ctx);
HTTP   *http_start(int fd, const HTTP_LIMITS *lim, HTTP_HANDLER fn, void *ctx, STRBUF *why);
void    http_stop(HTTP *h);

const char *http_arg(const HTTP_REQ *req, const char *name);
const char *http_cookie(const HTTP_REQ *req, const char *name);
const char *http_header(const HTTP_REQ *req, const char *name);
const char *http_field(const HTTP_REQ *req, const char *name);
size_t  http_fields(const HTTP_REQ *req, const char *name, STRV *out);

void    http_add_header(HTTP_RESP *resp, const char *name, const char *value);
void    http_redirect(HTTP_RESP *resp, const char *location);

#endif
