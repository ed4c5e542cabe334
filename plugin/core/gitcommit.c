/*
 * gitcommit.c - one change of a user's file as one git commit (gitcommit.h).
 *
 * git(1) rather than libgit2: it is what the operators and the hooks use,
 * so the repository's format, configuration and safe.directory rules are
 * the same for all; a change by a person is rare, so a few processes per
 * change cost nothing; and crier needs no library for something it may
 * never be asked to do. git runs without a shell (fork and execve), with an
 * environment of its own (nothing of the caller's GIT_DIR and the like),
 * as the owner of the repository (crierctl may run as root: nothing in
 * .git must become root's, or crierd, its owner, could not commit next
 * time), for GIT_TIMEOUT seconds at most.
 *
 * Nothing is done unless the repository says "git config crier.commit
 * true": an operator's own clone, where crierctl prepares changes for
 * review, is left to its operator.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gitcommit.h"
#include "mem.h"
#include "strv.h"

#define GIT_TIMEOUT	30			/* seconds for one git command */
#define GIT_OUTPUT_MAX	65536			/* bytes of its output kept */

typedef struct git {
    char   *path;			/* the git program */
    char   *top;			/* the work tree */
    char   *file;			/* the file, its real path */
    const char *rel;			/* ... in the work tree */
    uid_t   uid;			/* to run as, when root: the repository's owner */
    gid_t   gid;
    int     switch_user;
    STRV    env;
} GIT;

/* find_git - git's path on PATH, resolved before any fork */
static char *find_git(const char *path)
{
    char   *copy = xstrdup(path), *dir, *save = NULL, *found = NULL;
    STRBUF  p = STRBUF_INIT;

    for (dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
	sb_reset(&p);
	sb_printf(&p, "%s/git", *dir ? dir : ".");
	if (access(p.s, X_OK) == 0)
	    found = xstrdup(p.s);
    }
    free(copy);
    sb_free(&p);
    return (found);
}

/*
 * find_top - the work tree that holds file (a .git beside a directory
 * above it), who owns that .git, and file's path in the work tree
 */
static int find_top(const char *file, GIT *g, struct stat *owner)
{
    char    real[PATH_MAX], *slash;
    STRBUF  dotgit = STRBUF_INIT;
    size_t  len;

    if (realpath(file, real) == NULL)
	return (0);
    g->file = xstrdup(real);
    while (g->top == NULL && (slash = strrchr(real, '/')) != NULL) {
	*slash = 0;				/* "" for the root */
	sb_reset(&dotgit);
	sb_printf(&dotgit, "%s/.git", real);
	if (lstat(dotgit.s, owner) == 0)
	    g->top = xstrdup(*real ? real : "/");
    }
    sb_free(&dotgit);
    if (g->top == NULL)
	return (0);
    len = strlen(g->top);
    g->rel = g->file + len + (g->file[len] == '/');
    return (1);
}

static void env_add(GIT *g, const char *name, const char *value)
{
    STRBUF  e = STRBUF_INIT;

    sb_printf(&e, "%s=%s", name, value);
    strv_take(&g->env, sb_steal(&e));
}

/* git_setup - where and as whom git runs, and its environment; 0: no work tree */
static int git_setup(const char *file, const char *author, GIT *g, STRBUF *why)
{
    char    host[256] = "localhost", pwbuf[4096];
    const char *path = getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin";
    struct passwd pwd, *pw = NULL;
    struct stat st;
    STRBUF  me = STRBUF_INIT;

    if (!find_top(file, g, &st))
	return (0);
    if ((g->path = find_git(path)) == NULL) {
	sb_printf(why, "%s is a git work tree, but there is no git on PATH (%s)", g->top, path);
	return (-1);
    }
    g->switch_user = geteuid() == 0 && st.st_uid != 0;
    g->uid = g->switch_user ? st.st_uid : geteuid();
    g->gid = g->switch_user ? st.st_gid : getegid();
    (void) getpwuid_r(g->uid, &pwd, pwbuf, sizeof(pwbuf), &pw);	/* crierd has threads */
    (void) gethostname(host, sizeof(host) - 1);
    sb_printf(&me, "%s@%s", pw ? pw->pw_name : "crier", host);
    env_add(g, "PATH", path);
    env_add(g, "HOME", pw ? pw->pw_dir : "/");
    env_add(g, "LC_ALL", "C");
    env_add(g, "GIT_AUTHOR_NAME", author);
    env_add(g, "GIT_AUTHOR_EMAIL", author);
    env_add(g, "GIT_COMMITTER_NAME", "crier");
    env_add(g, "GIT_COMMITTER_EMAIL", me.s);
    sb_free(&me);
    return (1);
}

static void git_free(GIT *g)
{
    free(g->path);
    free(g->top);
    free(g->file);
    strv_free(&g->env);
}

/* child - in the forked child: only calls that are safe after a fork */
static void child(const GIT *g, char **argv, int out)
{
    int     null = open("/dev/null", O_RDONLY);

    if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
	_exit(127);
    if (g->switch_user && (setgroups(1, &g->gid) < 0 || setgid(g->gid) < 0
			   || setuid(g->uid) < 0))
	_exit(126);
    execve(g->path, argv, g->env.v);
    _exit(127);
}

/* collect - the child's output until it closes it or the time is up; 0 or -1 */
static int collect(int fd, STRBUF *out)
{
    time_t  end = time(NULL) + GIT_TIMEOUT;
    struct pollfd p = {fd, POLLIN, 0};
    char    buf[4096];
    ssize_t n;

    for (;;) {
	if (time(NULL) >= end)
	    return (-1);
	if (poll(&p, 1, 1000) < 0 && errno != EINTR)
	    return (-1);
	if (!(p.revents & (POLLIN | POLLHUP)))
	    continue;
	if ((n = read(fd, buf, sizeof(buf))) < 0 && errno == EINTR)
	    continue;
	if (n <= 0)
	    return (0);
	if (out->len < GIT_OUTPUT_MAX)
	    sb_putn(out, buf, (size_t) n);
    }
}

/*
 * run - git -C TOP -c safe.directory=TOP ... ARGS...; its exit status (-1:
 * it did not run to the end), its output (stdout and stderr) in out. No
 * automatic gc: a process left behind would hold the pipe open.
 */
static int run(const GIT *g, const char *const *args, STRBUF *out)
{
    STRV    argv = STRV_INIT;
    STRBUF  safe = STRBUF_INIT;
    const char *verb = args[0];
    int     fd[2], status = -1, timely;
    pid_t   pid;

    sb_printf(&safe, "safe.directory=%s", g->top);
    strv_add(&argv, "git"), strv_add(&argv, "-C"), strv_add(&argv, g->top);
    strv_add(&argv, "-c"), strv_add(&argv, safe.s);
    strv_add(&argv, "-c"), strv_add(&argv, "gc.auto=0");	/* nothing left running */
    strv_add(&argv, "-c"), strv_add(&argv, "maintenance.auto=false");
    for (; *args; args++)
	strv_add(&argv, *args);
    sb_reset(out);
    if (pipe2(fd, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
	sb_printf(out, "cannot run git: %s", strerror(errno));
	strv_free(&argv), sb_free(&safe);
	return (-1);
    }
    if (pid == 0)
	child(g, argv.v, fd[1]);
    close(fd[1]);
    if ((timely = collect(fd[0], out)) < 0)
	kill(pid, SIGKILL);
    close(fd[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
	 /* void */ ;
    if (timely < 0)
	sb_printf(out, "%sgit %s: no answer in %d seconds", out->len ? "\n" : "", verb,
		  GIT_TIMEOUT);
    strv_free(&argv), sb_free(&safe);
    return (timely < 0 || !WIFEXITED(status) ? -1 : WEXITSTATUS(status));
}

/* reason - git's "fatal:" or "error:" line, else its last line: for a log */
static const char *reason(STRBUF *out)
{
    char   *p, *nl;

    while (out->len && out->s[out->len - 1] == '\n')
	out->s[--out->len] = 0;
    if (out->s == NULL)
	return ("");
    for (p = out->s; p; p = (nl = strchr(p, '\n')) ? nl + 1 : NULL)
	if (strncmp(p, "fatal: ", 7) == 0 || strncmp(p, "error: ", 7) == 0) {
	    if ((nl = strchr(p, '\n')) != NULL)
		*nl = 0;
	    return (p);
	}
    return ((p = strrchr(out->s, '\n')) ? p + 1 : out->s);
}

/* record - git add FILE, git commit -- FILE; 1 committed, 0 nothing to commit */
static int record(const GIT *g, const char *file, const char *message, STRBUF *commit,
		          STRBUF *why)
{
    const char *add[] = {"add", "--", file, NULL};
    const char *ci[] = {"commit", "--no-verify", "--no-gpg-sign", "-m", message, "--", file,
    NULL};
    const char *same[] = {"diff", "--quiet", "HEAD", "--", file, NULL};
    STRBUF  out = STRBUF_INIT, ignored = STRBUF_INIT;
    int     rc = -1;
    const char *line, *end;

    if (run(g, add, &out) != 0)
	sb_printf(why, "git add %s: %s", file, reason(&out));
    else if (run(g, ci, &out) == 0) {
	line = strncmp(out.s, "[", 1) == 0 ? out.s : strstr(out.s, "\n[");
	line = line ? line + (*line == '\n') + 1 : "]";	/* [main 1a2b3c4] message */
	end = strchr(line, ']');
	sb_printf(commit, "%.*s in %s", end ? (int) (end - line) : 0, line, g->top);
	rc = 1;
    } else if (run(g, same, &ignored) == 0)
	rc = 0;
    else
	sb_printf(why, "git commit %s: %s", file, reason(&out));
    sb_free(&out), sb_free(&ignored);
    return (rc);
}

/*
 * gitcommit - commit file (just written) with message, by author (an
 * address). 1: committed, commit says what ("main 1a2b3c4 in /etc/crier");
 * 0: not in a work tree that asks for it, or nothing to commit; -1: why.
 */
int     gitcommit(const char *file, const char *author, const char *message,
		          STRBUF *commit, STRBUF *why)
{
    const char *asked[] = {"config", "--bool", "--get", "crier.commit", NULL};
    STRBUF  out = STRBUF_INIT;
    GIT     g;
    int     rc;

    memset(&g, 0, sizeof(g));
    if ((rc = git_setup(file, author, &g, why)) > 0) {
	rc = run(&g, asked, &out);		/* 1: not set */
	if (rc == 0 && strcmp(out.s, "true\n") == 0)
	    rc = record(&g, g.rel, message, commit, why);
	else if (rc == 0 || rc == 1)
	    rc = 0;
	else {
	    sb_printf(why, "git config crier.commit in %s: %s", g.top, reason(&out));
	    rc = -1;
	}
    }
    git_free(&g);
    sb_free(&out);
    return (rc);
}
