/*
 * probe.h - crierd's checks as its service user, made in a short-lived
 * child before anything is bound or written (probe.c).
 */
#ifndef CRIER_PROBE_H
#define CRIER_PROBE_H

#include <stddef.h>

#include "conf.h"
#include "privs.h"
#include "strbuf.h"

typedef struct probe PROBE;

/* What the child checks, and for whom. */
typedef struct probe_spec {
    const CONF *conf;
    const char *conf_file;
    const PRIV_OWNER *own;		/* own->dry: crierd -n */
    const char *user;			/* the service user's name, for hints */
    int     state_fresh;		/* state_dir is (or will be) made or given */
} PROBE_SPEC;

/* The next step, as the service user; -1 after probe_say(LOG_LVL_ERROR, ...). */
typedef int (*PROBE_FN) (PROBE *pb, const PROBE_SPEC *spec, void *ctx);

/* A line of information or a warning from the child, for the caller to show. */
typedef void (*PROBE_OUT) (int level, const char *text, void *ctx);

int     probe_run(const PROBE_SPEC *spec, PROBE_FN then, void *ctx, PROBE_OUT out,
		          void *out_ctx, STRBUF *why);
void    probe_say(PROBE *pb, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The pipes of crierd's start-up. */
void    probe_write(int fd, const char *data, size_t len);
void    probe_read(int fd, STRBUF *sb);

#endif
