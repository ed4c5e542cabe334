/*
 * crierctl.h - what the crierctl verbs share.
 *
 * Each verb is a function taking the parsed global settings and its own
 * arguments, returning the exit status: CTL_OK, CTL_REFUSED (a refused
 * request or invalid input, with one line on stderr) or CTL_USAGE.
 */
#ifndef CRIER_CRIERCTL_H
#define CRIER_CRIERCTL_H

#include <jansson.h>

#include "conf.h"
#include "rulesdb.h"

#define CTL_OK		0
#define CTL_REFUSED	1
#define CTL_USAGE	2

typedef struct ctl {
    CONF    conf;
    const char *verb;
} CTL;

typedef int (*CTL_VERB) (CTL *ctl, int argc, char **argv);

/* the verbs, by group */
int     cmd_check(CTL *, int, char **);
int     cmd_compile(CTL *, int, char **);
int     cmd_reload(CTL *, int, char **);
int     cmd_list(CTL *, int, char **);
int     cmd_search(CTL *, int, char **);
int     cmd_explain(CTL *, int, char **);
int     cmd_digests(CTL *, int, char **);
int     cmd_dead(CTL *, int, char **);
int     cmd_create(CTL *, int, char **);
int     cmd_edit(CTL *, int, char **);
int     cmd_clone(CTL *, int, char **);
int     cmd_mute(CTL *, int, char **);
int     cmd_unmute(CTL *, int, char **);
int     cmd_delete(CTL *, int, char **);

/* shared helpers (crierctl.c, output.c) */
int     ctl_refuse(CTL *ctl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int     ctl_usage(CTL *ctl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int     ctl_open_rules(CTL *ctl, RULESDB **rdb, MDB_txn **txn);
void    ctl_close_rules(RULESDB *rdb, MDB_txn *txn);
int     ctl_print_json(json_t *doc);
int     ctl_compile(CTL *ctl, int lock);
int     ctl_reload(CTL *ctl, int optional);
int     ctl_list(CTL *ctl, const char *user, int json, const char *mark);

json_t *out_view_json(const RDB_VIEW *v, const char *event_title);
void    out_view_text(const RDB_VIEW *v, int with_user);
const char *out_muted(int muted);

#endif
