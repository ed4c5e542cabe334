/*
 * dirwatch.c - tell readers of a directory tree whether it may have
 * changed since they last read it, with one system call.
 *
 * The web panel keeps each person's parsed rules with a stamp of the
 * files they came from (device, inode, size, time of every entry of the
 * catalog's directories and of the person's file). Taking that stamp
 * costs a dozen system calls a page, more than the page's own work. An
 * inotify watch on every directory of the tree turns "did anything
 * change" into one non-blocking read: no event, the same epoch, and what
 * was read at that epoch is still what is there.
 *
 * The watch errs on the side of "changed": any event at all moves the
 * epoch. It goes blind (epoch 0: the caller stamps as before) when it
 * cannot be sure: no inotify, more than DIRWATCH_MAX directories, a
 * symbolic link in the tree (its target may change unseen), a failed
 * read. A blind watch tries again after DIRWATCH_RETRY seconds. A new
 * directory, a lost event queue and the tree itself moved or removed make
 * it watch the tree anew (new files do not: a busy users/ of 10^5 files
 * is read whole only then); the parent directory is watched for the
 * top's name, so that a rules.d replaced by a rename or a symbolic link
 * pointed elsewhere is seen too.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dirwatch.h"
#include "log.h"
#include "mem.h"
#include "strbuf.h"
#include "strv.h"

#define DIRWATCH_MAX	1024		/* directories watched, at most */
#define DIRWATCH_RETRY	5		/* seconds a blind watch waits */

/* What a directory's watch reports: anything about its entries or itself. */
#define DIR_EVENTS	(IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE \
			 | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF)
#define NEW_NAME	(IN_CREATE | IN_MOVED_TO)

struct dirwatch {
    pthread_mutex_t lock;
    char   *dir;
    char   *parent;			/* dir's parent, watched for dir's name */
    char   *base;			/* dir's name in parent */
    int     depth;			/* deepest directory read (dir is 0) */
    int     fd;				/* the inotify instance; -1: blind */
    int     parent_wd;
    int     top_wd;
    STRV    paths;			/* each watched directory, by its wd */
    unsigned long epoch;		/* 1 and up */
    time_t  retry;			/* blind: when to try again (monotonic) */
    STRBUF  why;			/* why it went blind, as last logged */
};

static time_t mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ts.tv_sec);
}

/* watch_one - watch the directory path; its wd, or -1 with why */
static int watch_one(DIRWATCH *w, const char *path, int depth, STRBUF *why)
{
    int     wd;

    if (w->paths.len > DIRWATCH_MAX) {
	sb_printf(why, "more than %d directories", DIRWATCH_MAX);
	return (-1);
    }
    if ((wd = inotify_add_watch(w->fd, path, DIR_EVENTS | IN_ONLYDIR
				| (depth ? IN_DONT_FOLLOW : 0))) < 0) {
	sb_printf(why, "%s: %s", path, strerror(errno));
	return (-1);
    }
    if (wd > 4 * DIRWATCH_MAX) {
	sb_printf(why, "%s: watch descriptor %d", path, wd);
	return (-1);
    }
    while (w->paths.len <= (size_t) wd)
	strv_add(&w->paths, "");
    free(w->paths.v[wd]);
    w->paths.v[wd] = xstrdup(path);
    return (wd);
}

/* watch_tree - watch path and the directories below it; -1 with why: go blind */
static int watch_tree(DIRWATCH *w, const char *path, int depth, STRBUF *why)
{
    STRBUF  child = STRBUF_INIT;
    struct dirent *de;
    struct stat st;
    DIR    *dp;
    int     rc = 0, wd;

    if ((wd = watch_one(w, path, depth, why)) < 0)
	return (-1);
    if (depth == 0)
	w->top_wd = wd;
    if (depth > w->depth)
	return (0);				/* the reader looks no deeper */
    if ((dp = opendir(path)) == NULL) {
	sb_printf(why, "%s: %s", path, strerror(errno));
	return (-1);
    }
    while (rc == 0 && (de = readdir(dp)) != NULL) {
	if (de->d_name[0] == '.')
	    continue;				/* never read: rules_load.c */
	sb_reset(&child);
	sb_printf(&child, "%s/%s", path, de->d_name);
	if (de->d_type == DT_UNKNOWN)
	    de->d_type = lstat(child.s, &st) < 0 ? DT_LNK	/* gone: look again */
		: S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : DT_REG;
	if (de->d_type == DT_LNK) {
	    sb_printf(why, "%s is a symbolic link", child.s);
	    rc = -1;
	} else if (de->d_type == DT_DIR)
	    rc = watch_tree(w, child.s, depth + 1, why);
    }
    closedir(dp);
    sb_free(&child);
    return (rc);
}

/*
 * rewatch - a new inotify instance on the whole tree; blind when it
 * fails, which is logged once for each reason (the readers are slower)
 */
static void rewatch(DIRWATCH *w)
{
    STRBUF  why = STRBUF_INIT;

    if (w->fd >= 0)
	close(w->fd);
    strv_free(&w->paths);
    if ((w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
	sb_printf(&why, "inotify: %s", strerror(errno));
    else if ((w->parent_wd = inotify_add_watch(w->fd, w->parent, IN_CREATE | IN_DELETE
				       | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR)) < 0)
	sb_printf(&why, "%s: %s", w->parent, strerror(errno));
    else if (watch_tree(w, w->dir, 0, &why) == 0 && w->why.len) {
	msg_info("%s is watched again", w->dir);
	sb_reset(&w->why);
    }
    if (why.len && w->fd >= 0) {
	close(w->fd);
	w->fd = -1;
    }
    if (w->fd < 0) {
	w->retry = mono_now() + DIRWATCH_RETRY;
	if (w->why.len == 0 || strcmp(w->why.s, why.s) != 0)
	    msg_info("%s cannot be watched (%s): its readers look at its files each time",
		     w->dir, why.s);
	sb_reset(&w->why);
	sb_puts(&w->why, why.s);
    }
    sb_free(&why);
    w->epoch++;					/* whatever happened in between */
}

/* new_link - a new name in a watched directory is a symbolic link (or cannot be told) */
static int new_link(const DIRWATCH *w, const struct inotify_event *e)
{
    STRBUF  path = STRBUF_INIT;
    struct stat st;
    int     link;

    if (e->wd < 0 || (size_t) e->wd >= w->paths.len || e->len == 0)
	return (1);
    sb_printf(&path, "%s/%s", w->paths.v[e->wd], e->name);
    link = lstat(path.s, &st) == 0 && S_ISLNK(st.st_mode);
    sb_free(&path);
    return (link);				/* gone again: nothing to watch */
}

/* rewatch_after - after e, the tree must be watched anew */
static int rewatch_after(const DIRWATCH *w, const struct inotify_event *e)
{
    if (e->wd == w->parent_wd)			/* the top's name in its parent */
	return (1);
    if (e->mask & (IN_Q_OVERFLOW | IN_UNMOUNT))
	return (1);
    if ((e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB)) && e->wd == w->top_wd
	&& e->len == 0)				/* the top itself: replaced, moved? */
	return (1);
    if (e->mask & NEW_NAME)			/* a directory, or a link: blind */
	return ((e->mask & IN_ISDIR) || (e->name[0] != '.' && new_link(w, e)));
    return (0);
}

/* drain - read every queued event; the epoch moves if there was any */
static void drain(DIRWATCH *w)
{
    char    buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    const struct inotify_event *e;
    ssize_t n, off;
    int     changed = 0, again = 0;

    while ((n = read(w->fd, buf, sizeof(buf))) != 0) {
	if (n < 0 && errno == EINTR)
	    continue;
	if (n < 0) {
	    again |= errno != EAGAIN;		/* EAGAIN: nothing more queued */
	    break;
	}
	for (off = 0; off < n; off += (ssize_t) (sizeof(*e) + e->len)) {
	    e = (const struct inotify_event *) (buf + off);
	    if (e->wd == w->parent_wd && e->wd >= 0
		&& (e->len == 0 || strcmp(e->name, w->base) != 0))
		continue;			/* a neighbour of the tree */
	    changed = 1;
	    again |= !again && rewatch_after(w, e);
	}
    }
    if (again)
	rewatch(w);
    else if (changed)
	w->epoch++;
}

/* dirwatch_open - watch dir and its directories, down to depth levels below it */
DIRWATCH *dirwatch_open(const char *dir, int depth)
{
    DIRWATCH *w = xcalloc(1, sizeof(DIRWATCH));
    char   *copy;

    pthread_mutex_init(&w->lock, NULL);
    w->dir = xstrdup(dir);
    w->depth = depth;
    copy = xstrdup(dir);
    w->parent = xstrdup(dirname(copy));
    free(copy);
    copy = xstrdup(dir);
    w->base = xstrdup(basename(copy));
    free(copy);
    w->fd = -1;
    rewatch(w);
    return (w);
}

/* dirwatch_epoch - the tree's epoch now; 0 when the watch cannot tell */
unsigned long dirwatch_epoch(DIRWATCH *w)
{
    unsigned long epoch;

    if (w == NULL)
	return (0);
    pthread_mutex_lock(&w->lock);
    if (w->fd >= 0)
	drain(w);
    else if (mono_now() >= w->retry)
	rewatch(w);
    epoch = w->fd >= 0 ? w->epoch : 0;
    pthread_mutex_unlock(&w->lock);
    return (epoch);
}

void    dirwatch_close(DIRWATCH *w)
{
    if (w == NULL)
	return;
    if (w->fd >= 0)
	close(w->fd);
    pthread_mutex_destroy(&w->lock);
    free(w->dir);
    strv_free(&w->paths);
    sb_free(&w->why);
    free(w->parent);
    free(w->base);
    free(w);
}
