/*
 * web.h - the notification settings panel, as crierd starts it.
 *
 * The panel runs in a process of its own, as the service user, so that a
 * fault in it never stops the milter. crierd's supervisor binds the
 * socket while it may (web_listen), drops privileges, forks, and the
 * child calls web_main(), which serves until SIGTERM or SIGINT
 * (plugin/crierd/webproc.c). The pages themselves are in pages.h.
 */
#ifndef CRIER_WEB_H
#define CRIER_WEB_H

#include <sys/types.h>

#include "conf.h"
#include "strbuf.h"

typedef struct web_opts {
    const char *listen;			/* the socket, as bound; NULL: web_listen */
    const char *base_url;		/* NULL: web_base_url */
    int     fd;				/* the bound socket, or -1: web_main binds */
    pid_t   supervisor;		/* asked for a whole compile (SIGHUP) and to
					 * wake the outbox (SIGUSR1); 0: none */
} WEB_OPTS;

int     web_listen(const char *spec, int *fd, STRBUF *why);
int     web_main(const CONF *conf, const WEB_OPTS *opts);

#endif
