/*
 * web-floor.c - the floor of tests/bench/web.sh: libmicrohttpd answering
 * a fixed page, with the threading and limits plugin/web/http.c starts it
 * with (HTTP_LIMITS_DEFAULT), and nothing else.
 *
 * web-floor PORT FILE
 *	serve 127.0.0.1:PORT until SIGTERM: a GET gets FILE's bytes (200),
 *	a POST has its body read and gets 303 See Other to /, each with the
 *	headers http.c puts on every answer. The panel's page saved to FILE
 *	makes the answers the same size as the panel's.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *page;
static size_t page_len;

static void headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(r, "Content-Security-Policy",
			    "default-src 'self'; frame-ancestors 'none'");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Cache-Control", "no-store");
}

/* on_request - GET: the page; POST: read the body, then 303 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				          const char *method, const char *version,
				          const char *upload, size_t *upload_size, void **con_cls)
{
    static int first;
    struct MHD_Response *r;
    enum MHD_Result rc;
    int     post = strcmp(method, "POST") == 0;

    (void) cls, (void) url, (void) version, (void) upload;
    if (*con_cls == NULL) {
	*con_cls = &first;
	return (MHD_YES);
    }
    if (*upload_size) {
	*upload_size = 0;
	return (MHD_YES);
    }
    r = MHD_create_response_from_buffer(post ? 0 : page_len, post ? "" : page,
					MHD_RESPMEM_PERSISTENT);
    headers(r);
    if (post)
	MHD_add_response_header(r, "Location", "/?did=muted");
    rc = MHD_queue_response(conn, post ? 303 : 200, r);
    MHD_destroy_response(r);
    return (rc);
}

int     main(int argc, char **argv)
{
    struct sockaddr_in sin;
    struct MHD_Daemon *d;
    sigset_t set;
    FILE   *fp;
    long    len;
    int     sig;

    if (argc != 3 || (fp = fopen(argv[2], "r")) == NULL) {
	fprintf(stderr, "usage: web-floor PORT FILE\n");
	return (2);
    }
    fseek(fp, 0, SEEK_END);
    len = ftell(fp);
    rewind(fp);
    page = malloc((size_t) len + 1);
    page_len = fread(page, 1, (size_t) len, fp);
    fclose(fp);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short) atoi(argv[1]));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM), sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
			 0, NULL, NULL, on_request, NULL,
			 MHD_OPTION_SOCK_ADDR, &sin,
			 MHD_OPTION_THREAD_POOL_SIZE, 2,
			 MHD_OPTION_CONNECTION_LIMIT, 1000,
			 MHD_OPTION_PER_IP_CONNECTION_LIMIT, 250,
			 MHD_OPTION_CONNECTION_TIMEOUT, 10,
			 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 32 * 1024,
			 MHD_OPTION_END);
    if (d == NULL) {
	fprintf(stderr, "web-floor: cannot serve 127.0.0.1:%s\n", argv[1]);
	return (1);
    }
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    return (0);
}
