/*
 * log.h - the daemon's one way to say things: syslog, facility mail.
 *
 * Lines about a message start with the Postfix queue id (or NOQUEUE) and
 * carry key=value details, as Postfix's own lines do, so that an
 * administrator can grep one id across Postfix and crierd. In the
 * foreground, lines go to stderr as well.
 *
 * msg_debug() lines are for an administrator chasing one decision: code
 * that must format or look up something for them asks log_enabled() first.
 */
#ifndef CRIER_LOG_H
#define CRIER_LOG_H

#define LOG_LVL_DEBUG	0
#define LOG_LVL_INFO	1
#define LOG_LVL_WARNING	2
#define LOG_LVL_ERROR	3

void    log_init(const char *ident, int to_stderr);
void    log_close(void);
void    log_reopen(void);
int     log_level_parse(const char *name);
void    log_set_level(int level);
int     log_enabled(int level);
void    msg_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void    msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void    msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void    msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
