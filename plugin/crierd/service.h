/*
 * service.h - a worker thread that serves in turns (see service.c).
 *
 * In the spirit of Postfix's trigger_server: the thread calls its turn
 * function, which does what is due and says how long to wait until its
 * next turn; a wake (new work) cuts the wait short, and a wake that comes
 * during a turn is not lost: another turn follows at once. A stop ends
 * the loop between turns (a long turn may ask service_stopping() to end
 * sooner) and joins the thread.
 *
 * A SERVICE lives as long as the process: a wake after the stop, from a
 * milter thread that is still finishing, changes nothing and is harmless.
 */
#ifndef CRIER_SERVICE_H
#define CRIER_SERVICE_H

#include <pthread.h>
#include <stdatomic.h>

#define SERVICE_NOW	0		/* turn: the next turn at once */
#define SERVICE_FOREVER	(-1)		/* turn: only when woken (or stopped) */

#define SERVICE_WAKE_FD	(1<<0)		/* service_start: a descriptor to poll on */

typedef struct service SERVICE;

/* One turn: seconds until the next one, SERVICE_NOW or SERVICE_FOREVER. */
typedef int (*SERVICE_TURN) (SERVICE *svc, void *ctx);

struct service {
    const char *name;			/* for the log */
    SERVICE_TURN turn;
    void   *ctx;			/* the turn's own argument */
    pthread_t thread;
    pthread_mutex_t lock;		/* guards woken, wake_fd, and the wait */
    pthread_cond_t cond;
    int     woken;			/* a wake since the last turn began */
    int     wake_fd;			/* SERVICE_WAKE_FD: an eventfd, or -1 */
    atomic_int stopping;		/* set once, under lock, by service_stop */
    int     started;
};

int     service_thread(pthread_t *thread, void *(*fn) (void *), void *arg);
int     service_start(SERVICE *svc, const char *name, SERVICE_TURN turn, void *ctx, int flags);
void    service_wake(SERVICE *svc);
int     service_stopping(SERVICE *svc);
int     service_wake_fd(SERVICE *svc);
void    service_wake_drain(SERVICE *svc);
void    service_stop(SERVICE *svc);

#endif
