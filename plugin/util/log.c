/*
 * log.c - syslog, facility mail (see log.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

/* Set by a reload while every thread logs: an atomic, read relaxed (a line
 * logged at the old level during the swap is fine). */
static atomic_int log_level = LOG_LVL_INFO;

/* What log_init was given, for log_reopen. */
static const char *log_ident = "crierd";
static int log_option = LOG_PID | LOG_NDELAY;

void    log_init(const char *ident, int to_stderr)
{
    log_ident = ident;
    log_option = LOG_PID | LOG_NDELAY | (to_stderr ? LOG_PERROR : 0);
    openlog(log_ident, log_option, LOG_MAIL);
}

/*
 * log_close, log_reopen - around a child's closing of the descriptors it
 * inherited, syslog's socket among them: let it go first (so that syslog
 * never writes to a number that is reused), then connect again as
 * log_init did.
 */
void    log_close(void)
{
    closelog();
}

void    log_reopen(void)
{
    openlog(log_ident, log_option, LOG_MAIL);
}

/* log_level_parse - debug, info, warning, error; -1 for anything else */
int     log_level_parse(const char *name)
{
    static const char *const names[] = {"debug", "info", "warning", "error"};
    int     i;

    for (i = 0; i < 4; i++)
	if (strcmp(names[i], name) == 0)
	    return (i);
    return (-1);
}

void    log_set_level(int level)
{
    atomic_store_explicit(&log_level, level, memory_order_relaxed);
}

/*
 * log_enabled - a line at this level would be logged. Callers ask before
 * they build what only a debug line shows, so that it costs nothing at
 * the levels above.
 */
int     log_enabled(int level)
{
    return (level >= atomic_load_explicit(&log_level, memory_order_relaxed));
}

/* log_v - one line; a control character in it (a newline from a mail) becomes '?' */
static void log_v(int level, int prio, const char *tag, const char *fmt, va_list ap)
{
    char    buf[2048], *p;

    if (!log_enabled(level))
	return;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    for (p = buf; *p; p++)
	if ((unsigned char) *p < 0x20 || *p == 0x7f)
	    *p = '?';
    syslog(prio, "%s%s", tag, buf);
}

#define LOG_FN(name, level, prio, tag) \
    void name(const char *fmt, ...) \
    { \
	va_list ap; \
	va_start(ap, fmt); \
	log_v(level, prio, tag, fmt, ap); \
	va_end(ap); \
    }

LOG_FN(msg_debug, LOG_LVL_DEBUG, LOG_DEBUG, "")
LOG_FN(msg_info, LOG_LVL_INFO, LOG_INFO, "")
LOG_FN(msg_warn, LOG_LVL_WARNING, LOG_WARNING, "warning: ")
LOG_FN(msg_error, LOG_LVL_ERROR, LOG_ERR, "error: ")
