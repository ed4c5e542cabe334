/*
 * service.c - the loop every worker thread of crierd runs (see service.h).
 *
 * The outbox lanes, the digest runner and the self-service thread wait on
 * the service's condition variable between turns (CLOCK_MONOTONIC, so that
 * a change of the system time moves no wait). The policy thread waits in
 * epoll_wait on its sockets instead, where no condition variable reaches:
 * it asks for a wake descriptor (SERVICE_WAKE_FD, an eventfd written at
 * each wake and at the stop) and puts it in its epoll set.
 *
 * Every thread of the worker but its main thread is started by
 * service_thread(), and takes none of the signals an administrator sends:
 * SIGTERM and SIGINT are libmilter's, SIGHUP the main thread's (crierd.c).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "service.h"

/* service_wait - until woken, stopped, or secs have passed; svc->lock held */
static void service_wait(SERVICE *svc, int secs)
{
    struct timespec until;

    if (secs == SERVICE_NOW)
	return;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += secs;
    while (!svc->woken && !atomic_load(&svc->stopping)) {
	if (secs == SERVICE_FOREVER)
	    pthread_cond_wait(&svc->cond, &svc->lock);
	else if (pthread_cond_timedwait(&svc->cond, &svc->lock, &until) == ETIMEDOUT)
	    break;
    }
}

/* service_main - turns until stopped; a wake during a turn makes another at once */
static void *service_main(void *arg)
{
    SERVICE *svc = arg;
    int     secs;

    pthread_mutex_lock(&svc->lock);
    while (!atomic_load(&svc->stopping)) {
	svc->woken = 0;
	pthread_mutex_unlock(&svc->lock);
	secs = svc->turn(svc, svc->ctx);
	pthread_mutex_lock(&svc->lock);
	service_wait(svc, secs);
    }
    pthread_mutex_unlock(&svc->lock);
    return (NULL);
}

/*
 * service_thread - pthread_create, with SIGHUP, SIGTERM and SIGINT
 * blocked in the new thread from its first instruction, whatever the
 * caller's mask; 0 or an error number
 */
int     service_thread(pthread_t *thread, void *(*fn) (void *), void *arg)
{
    pthread_attr_t attr;
    sigset_t mask;
    int     err;

    pthread_sigmask(SIG_BLOCK, NULL, &mask);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    if ((err = pthread_attr_init(&attr)) != 0)
	return (err);
    if ((err = pthread_attr_setsigmask_np(&attr, &mask)) == 0)
	err = pthread_create(thread, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    return (err);
}

/* service_start - the thread, running its first turn at once; -1 and errno */
int     service_start(SERVICE *svc, const char *name, SERVICE_TURN turn, void *ctx, int flags)
{
    pthread_condattr_t attr;
    int     err;

    memset(svc, 0, sizeof(*svc));
    svc->name = name;
    svc->turn = turn;
    svc->ctx = ctx;
    svc->wake_fd = -1;
    atomic_init(&svc->stopping, 0);
    pthread_mutex_init(&svc->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&svc->cond, &attr);
    pthread_condattr_destroy(&attr);
    if ((flags & SERVICE_WAKE_FD)
	&& (svc->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
	return (-1);
    if ((err = service_thread(&svc->thread, service_main, svc)) != 0) {
	errno = err;
	return (-1);
    }
    svc->started = 1;
    return (0);
}

/* service_wake - another turn as soon as the one running (if any) ends */
void    service_wake(SERVICE *svc)
{
    uint64_t one = 1;

    pthread_mutex_lock(&svc->lock);
    svc->woken = 1;
    pthread_cond_signal(&svc->cond);
    if (svc->wake_fd >= 0 && write(svc->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
	msg_error("%s: cannot wake the thread: %s", svc->name, strerror(errno));
    pthread_mutex_unlock(&svc->lock);
}

/* service_stopping - for a long turn: end it, the service stops */
int     service_stopping(SERVICE *svc)
{
    return (atomic_load(&svc->stopping));
}

/* service_wake_fd - SERVICE_WAKE_FD's descriptor: readable after a wake */
int     service_wake_fd(SERVICE *svc)
{
    return (svc->wake_fd);
}

/* service_wake_drain - the wake descriptor not readable again until the next wake */
void    service_wake_drain(SERVICE *svc)
{
    uint64_t n;

    pthread_mutex_lock(&svc->lock);
    if (svc->wake_fd >= 0 && read(svc->wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
	msg_error("%s: wake descriptor: %s", svc->name, strerror(errno));
    pthread_mutex_unlock(&svc->lock);
}

/* service_stop - no more turns: wait for the one running, join the thread */
void    service_stop(SERVICE *svc)
{
    if (!svc->started)
	return;
    pthread_mutex_lock(&svc->lock);
    atomic_store(&svc->stopping, 1);
    pthread_mutex_unlock(&svc->lock);
    service_wake(svc);
    pthread_join(svc->thread, NULL);
    svc->started = 0;
    pthread_mutex_lock(&svc->lock);	/* a late wake writes to no descriptor */
    if (svc->wake_fd >= 0)
	close(svc->wake_fd);
    svc->wake_fd = -1;
    pthread_mutex_unlock(&svc->lock);
}
