/*
 * crierd.h - what the parts of the daemon share.
 *
 * crierd runs as two processes: a supervisor that owns the pid file and
 * the signals an administrator sends (SIGHUP reloads, SIGTERM stops), and
 * a worker that serves the milter and sends the outbox; with web_listen,
 * a third, the notification settings panel (webproc.c). libmilter takes
 * SIGHUP to mean "stop", so the worker hands any SIGHUP on to the
 * supervisor, which rebuilds and validates, then tells the worker over a
 * pipe.
 */
#ifndef CRIER_CRIERD_H
#define CRIER_CRIERD_H

#include <pthread.h>
#include <sys/types.h>

#include "conf.h"
#include "policy.h"
#include "render.h"
#include "rulesdb.h"
#include "statedb.h"
#include "strbuf.h"
#include "token.h"

/* The settings in service; swapped whole on reload, under the lock. */
typedef struct live {
    CONF    conf;
    TOKEN_KEY key;
    POLICY *policy;			/* the policy service's decisions */
    unsigned long serial;		/* 1, and one more at each swap */
} LIVE;

typedef struct crierd {
    pthread_rwlock_t lock;		/* guards live */
    LIVE   *live;
    const char *conf_file;
    STATEDB *sdb;			/* the worker's, opened after the fork */
    RULESDB *rdb;
} CRIERD;

extern CRIERD crierd;

/* live.c */
LIVE   *live_load(const char *conf_file, int must_exist, STRBUF *why);
void    live_free(LIVE *live);
LIVE   *live_hold(void);
void    live_release(void);
void    live_swap(LIVE *fresh);
void    live_settle(LIVE *fresh);
void    live_web(const LIVE *lv, const char *recipient, RENDER_WEB *web, STRBUF *token);

/* milter.c */
int     milter_setup(const CONF *conf, gid_t group, STRBUF *why);
int     milter_run(void);
void    milter_drain(int secs);

/* policyd.c */
int     policyd_listen(const CONF *conf, gid_t group, STRBUF *why);
int     policyd_start(void);
void    policyd_stop(void);
void    policyd_unlink(void);

/* intake.c */
#define INTAKE_OK	0
#define INTAKE_REFUSE	1		/* 5xx: the event cannot be used */
#define INTAKE_DEFER	2		/* 4xx: try again later */
int     intake_event(const char *qid, const char *msg, size_t len, STRBUF *reply);
int     intake_request(const char *qid, const char *sender, const char *msg, size_t len,
			           STRBUF *reply);

/* selfservice.c; an envelope sender Postfix did not tell (no {mail_addr}) */
#define SELF_SENDER_UNKNOWN	"?"
int     selfservice_start(CRIERD *cd);
void    selfservice_stop(void);
void    selfservice_wake(void);

/* outbox.c */
int     outbox_start(unsigned lanes);
void    outbox_stop(void);
void    outbox_wake(void);

/* bounce.c: signed envelope senders out, bounces in */
typedef struct bounce_from {
    char   *local;			/* sender_address's local part */
    char   *domain;
    char    delim;			/* the first of recipient_delimiter */
    TOKEN_KEY key;
} BOUNCE_FROM;
void    bounce_from_set(BOUNCE_FROM *bf, const LIVE *lv);
void    bounce_from_free(BOUNCE_FROM *bf);
void    bounce_sender(const BOUNCE_FROM *bf, uint64_t seq, const char *rcpt, STRBUF *out);
void    bounce_keep(const SDB_OUT *o, const char *reply, uint64_t now, STRBUF *buf,
		            SDB_OUT *rec);
int     bounce_rcpt(const CONF *cf, const char *rcpt, STRBUF *ext);
int     bounce_take(const char *qid, const STRV *rcpts, const STRV *ids, const char *msg,
		            size_t len, STRBUF *reply);

/* digests.c */
int     digests_start(CRIERD *cd);
void    digests_stop(void);

/* webproc.c: the panel's process, under the supervisor */
struct priv_owner;
int     webproc_listen(const CONF *cf, const struct priv_owner *own, STRBUF *why);
void    webproc_close(void);
void    webproc_start(const LIVE *lv, int lock, void (*forget) (void));
int     webproc_reaped(pid_t pid, int status, int stopping);
int     webproc_wait(void);
int     webproc_running(void);
void    webproc_stop(void);
int     webproc_changed(const LIVE *old, const LIVE *fresh);
void    webproc_reload(const LIVE *lv, int changed);
void    webproc_unlink(void);

/* crierd.c */
void    crash_point(const char *name);
void    socket_give(const char *spec, gid_t group);
char   *dir_of(const char *path);
void    proc_status(STRBUF *sb, int status);

/* reinject.c */
#define REINJECT_OK	0
#define REINJECT_TEMP	1
#define REINJECT_PERM	2		/* refused for good */
#define REINJECT_DOWN	3		/* Postfix cannot be reached */
typedef struct reinject REINJECT;
REINJECT *reinject_open(const char *method, const char *sender, STRBUF *why);
int     reinject_send(REINJECT *ri, const char *sender, const char *rcpt, const char *msg,
		              size_t len, STRBUF *reply);
void    reinject_close(REINJECT *ri);

#endif
