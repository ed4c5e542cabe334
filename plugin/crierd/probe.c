/*
 * probe.c - what crierd's service user must be able to read and write,
 * checked as that user before anything is bound or written.
 *
 * probe_run() forks a child that drops privileges as the worker will
 * (priv_drop), opens what crierd reads (crier.conf, the token key) and
 * looks at the directories it writes, as that user, then runs the caller's
 * next step (crierd -n checks rules.d; the start compiles it). The child
 * sends what it finds over a pipe, a line each: a level letter (I, W, E)
 * and the text. The parent hands information and warnings to the caller
 * (PROBE_OUT) and returns the error. So a file only root can read fails
 * crierd -n and the start at the terminal, before the fork, with the fix
 * that keeps what is there: chown the key, never make a new one.
 *
 * Called while crierd has one thread; the child only exits.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crierd.h"
#include "listen.h"
#include "log.h"
#include "mem.h"
#include "probe.h"

struct probe {
    int     fd;				/* the pipe to the parent */
    STRBUF  who;			/* "crier (uid 101)" */
};

/* probe_write - all of data to fd; a reader that is gone is not an error */
void    probe_write(int fd, const char *data, size_t len)
{
    ssize_t n;

    while (len > 0) {
	if ((n = write(fd, data, len)) < 0 && errno == EINTR)
	    continue;
	if (n <= 0)
	    return;
	data += n;
	len -= (size_t) n;
    }
}

/* probe_read - everything from fd until the end of file */
void    probe_read(int fd, STRBUF *sb)
{
    char    buf[4096];
    ssize_t n;

    while ((n = read(fd, buf, sizeof(buf))) != 0) {
	if (n < 0 && errno == EINTR)
	    continue;
	if (n < 0)
	    return;
	sb_putn(sb, buf, (size_t) n);
    }
}

/* probe_say - in the child: one line for the parent */
void    probe_say(PROBE *pb, int level, const char *fmt, ...)
{
    STRBUF  line = STRBUF_INIT;
    va_list ap;
    char   *p;

    sb_putc(&line, level >= LOG_LVL_ERROR ? 'E' : level == LOG_LVL_WARNING ? 'W' : 'I');
    va_start(ap, fmt);
    sb_vprintf(&line, fmt, ap);
    va_end(ap);
    for (p = line.s; *p; p++)
	if (*p == '\n')
	    *p = ' ';
    sb_putc(&line, '\n');
    probe_write(pb->fd, line.s, line.len);
    sb_free(&line);
}

/* closed_above - the first directory above path that this user may not search (allocated) */
static char *closed_above(const char *path)
{
    char   *dir = xstrdup(path), *slash;

    for (slash = strchr(dir + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
	*slash = 0;
	if (access(dir, X_OK) < 0)
	    return (dir);
	*slash = '/';
    }
    free(dir);
    return (NULL);
}

/*
 * readable - open path for reading as the service user; when that fails,
 * say whether the file or a directory above it is closed, and the fix.
 */
static int readable(PROBE *pb, const char *what, const char *path, const char *fix)
{
    int     fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    char   *dir;

    if (fd >= 0) {
	close(fd);
	return (0);
    }
    if (errno != EACCES)
	probe_say(pb, LOG_LVL_ERROR, "%s %s: %s (as the service user %s)", what, path,
		  strerror(errno), pb->who.s);
    else if ((dir = closed_above(path)) != NULL) {
	probe_say(pb, LOG_LVL_ERROR, "%s %s: the service user %s cannot reach it: it may not "
		  "enter %s (chmod o+x %s)", what, path, pb->who.s, dir, dir);
	free(dir);
    } else
	probe_say(pb, LOG_LVL_ERROR, "%s %s: the service user %s cannot read it: %s", what,
		  path, pb->who.s, fix);
    return (-1);
}

/* files_read - crier.conf and the token key, then the whole configuration, as a reload reads them */
static int files_read(PROBE *pb, const PROBE_SPEC *sp)
{
    const char *key = sp->conf->token_key_file;
    struct group *gr = getgrgid(getgid());
    STRBUF  fix = STRBUF_INIT, why = STRBUF_INIT;
    LIVE   *lv;
    int     rc = 0;

    if (gr != NULL)
	sb_printf(&fix, "chgrp %s %s; chmod g+r %s", gr->gr_name, sp->conf_file, sp->conf_file);
    else
	sb_printf(&fix, "chgrp %ld %s; chmod g+r %s", (long) getgid(), sp->conf_file,
		  sp->conf_file);
    rc = readable(pb, "configuration file", sp->conf_file, fix.s);
    sb_reset(&fix);
    sb_printf(&fix, "chown %s %s (keep its mode 0600; a new key would make every link "
	      "already mailed invalid)", sp->user, key);
    if (rc == 0)
	rc = readable(pb, "token_key_file", key, fix.s);
    if (rc == 0 && (lv = live_load(sp->conf_file, 1, &why)) == NULL) {
	probe_say(pb, LOG_LVL_ERROR, "%s (read as the service user %s)", why.s, pb->who.s);
	rc = -1;
    } else if (rc == 0)
	live_free(lv);
    sb_free(&fix);
    sb_free(&why);
    return (rc);
}

#define PROBE_DIRS	4		/* the pid file, the milter, policy and web sockets */

/*
 * dir_warn - the directories crierd makes files in (the pid file, unix
 * sockets) and removes them from when it stops; one warning each
 */
static void dir_warn(PROBE *pb, const PROBE_SPEC *sp, const char *const *paths, int n)
{
    char   *dirs[PROBE_DIRS] = {0};
    int     i, j;

    for (i = 0; i < n && i < PROBE_DIRS; i++) {
	if (paths[i] == NULL)
	    continue;
	dirs[i] = dir_of(paths[i]);
	for (j = 0; j < i; j++)
	    if (dirs[j] != NULL && strcmp(dirs[j], dirs[i]) == 0)
		break;
	if (j == i && access(dirs[i], W_OK | X_OK) < 0 && !(sp->own->dry && errno == ENOENT))
	    probe_say(pb, LOG_LVL_WARNING, "%s: not writable by the service user %s: what "
		      "crierd makes there stays when it stops", dirs[i], pb->who.s);
    }
    for (i = 0; i < PROBE_DIRS; i++)
	free(dirs[i]);
}

/*
 * dirs_written - state_dir, which crierd cannot work without; rules.d/users
 * (self-service), the pid file's and the sockets' directories (the panel's
 * too, whose socket a reload may bind anew as the service user): warnings.
 */
static int dirs_written(PROBE *pb, const PROBE_SPEC *sp)
{
    const CONF *cf = sp->conf;
    const char *paths[PROBE_DIRS] = {cf->pid_file, listen_path(cf->milter_socket),
    listen_path(cf->policy_socket), listen_path(cf->web_listen)};
    STRBUF  users = STRBUF_INIT;

    if (!sp->state_fresh && access(cf->state_dir, W_OK | X_OK) < 0) {
	probe_say(pb, LOG_LVL_ERROR, "state_dir %s: not writable by the service user %s: "
		  "chown %s %s", cf->state_dir, pb->who.s, sp->user, cf->state_dir);
	return (-1);
    }
    sb_printf(&users, "%s/users", cf->rules_dir);
    if (access(users.s, W_OK) < 0)
	probe_say(pb, LOG_LVL_WARNING, "%s: not writable by the service user %s: mail "
		  "self-service cannot change settings (chown -R %s %s)", users.s, pb->who.s,
		  sp->user, users.s);
    sb_free(&users);
    dir_warn(pb, sp, paths, PROBE_DIRS);
    return (0);
}

/* probe_child - the child's whole life: drop, check, the next step; its exit status */
static int probe_child(PROBE *pb, const PROBE_SPEC *sp, PROBE_FN then, void *ctx)
{
    STRBUF  why = STRBUF_INIT;

    if (priv_drop(sp->own, &why) < 0) {
	probe_say(pb, LOG_LVL_ERROR, "%s", why.s);
	return (1);
    }
    sb_printf(&pb->who, "%s (uid %ld)", sp->user, (long) getuid());
    if (files_read(pb, sp) < 0 || dirs_written(pb, sp) < 0)
	return (1);
    return (then != NULL && then(pb, sp, ctx) < 0 ? 1 : 0);
}

/* probe_lines - the child's lines: I and W to out, the first E to why */
static void probe_lines(char *text, PROBE_OUT out, void *out_ctx, STRBUF *why)
{
    char   *line, *next;

    for (line = text; *line; line = next) {
	if ((next = strchr(line, '\n')) == NULL)
	    next = line + strlen(line);
	else
	    *next++ = 0;
	if (*line == 'E' && why->len == 0)
	    sb_puts(why, line + 1);
	else if (*line == 'W' || *line == 'I')
	    out(*line == 'W' ? LOG_LVL_WARNING : LOG_LVL_INFO, line + 1, out_ctx);
    }
}

/*
 * probe_run - the checks, and then (when not NULL) the next step, as the
 * service user in a child; 0, or -1 with why.
 */
int     probe_run(const PROBE_SPEC *spec, PROBE_FN then, void *ctx, PROBE_OUT out,
		          void *out_ctx, STRBUF *why)
{
    STRBUF  text = STRBUF_INIT;
    PROBE   pb = {.who = STRBUF_INIT};
    int     fd[2], status = 0;
    pid_t   pid;

    fflush(NULL);
    if (pipe2(fd, O_CLOEXEC) < 0) {
	sb_printf(why, "cannot make a pipe: %s", strerror(errno));
	return (-1);
    }
    if ((pid = fork()) < 0) {
	sb_printf(why, "cannot start the check as the service user: %s", strerror(errno));
	close(fd[0]), close(fd[1]);
	return (-1);
    }
    if (pid == 0) {
	close(fd[0]);
	pb.fd = fd[1];
	_exit(probe_child(&pb, spec, then, ctx));
    }
    close(fd[1]);
    probe_read(fd[0], &text);
    close(fd[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
	 /* void */ ;
    if (text.len > 0)
	probe_lines(text.s, out, out_ctx, why);
    sb_free(&text);
    if (status != 0 && why->len == 0) {
	sb_puts(why, "the check as the service user failed: it ");
	proc_status(why, status);
    }
    return (status == 0 && why->len == 0 ? 0 : -1);
}
