/*
 * web.h - the notification settings panel, as crierd starts it.
 *
 * The panel runs in a process of its own, as the service user, so that a
 * fault in it never stops the milter. Its parent binds the socket while
 * it may (web_listen), drops privileges, forks, and the child calls
 * web_main(), which serves until SIGTERM or SIGINT. The pages themselves
 * are in pages.h.
 */
#ifndef CRIER_WEB_H
#define CRIER_WEB_H

#include <sys/types.h>

#include "conf.h"
#include "strbuf.h"

typedef struct web_opts {
    const char *listen;			/* web_listen: libmilter socket syntax */
    const char *base_url;		/* web_base_url: the public URL of the panel */
    int     fd;				/* the bound socket, or -1: web_main binds */
    pid_t   supervisor;		/* asked (SIGHUP) for a whole compile; 0: done here */
} WEB_OPTS;

int     web_listen(const char *spec, int *fd, STRBUF *why);
int     web_main(const CONF *conf, const WEB_OPTS *opts);

#endif
