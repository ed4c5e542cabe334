/*
 * privs.c - what crierd does as root before privileges go, done so that
 * its service user cannot steer it.
 *
 * The directories of the pid file, the sockets and the state may be the
 * service user's to write, and so may what is in them. There root follows
 * no symbolic link that another user made, uses nothing of crier's that is
 * not a plain file with one link, and gives the service user (fchown, on
 * the descriptor) only what it created in this start, and what nobody but
 * root could have made: a state directory placed where only root writes
 * (as systemd's StateDirectory= leaves it), and root's own files in the
 * state directory (as a crierctl compile run as root leaves them). It
 * never changes the owner or mode of anything by path. Anything else
 * stops the start with the path and what to do.
 *
 * With PRIV_OWNER.dry (crierd -n) the same checks run and nothing is
 * made, given or removed. The file ends with the drop to the service
 * user, and with the clean-up of what a failed start made.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "privs.h"

#define AS_ROOT()	(geteuid() == 0)

/*
 * look - lstat path, following a symbolic link only when root owns it or
 * crierd does not run as root. 1: it exists (st filled), 0: it does not,
 * -1: a link crierd will not follow, or another error (why says).
 */
static int look(const char *path, struct stat *st, STRBUF *why)
{
    if (lstat(path, st) < 0) {
	if (errno == ENOENT)
	    return (0);
	sb_printf(why, "cannot look at %s: %s", path, strerror(errno));
	return (-1);
    }
    if (!S_ISLNK(st->st_mode))
	return (1);
    if (st->st_uid != 0 && AS_ROOT()) {
	sb_printf(why, "%s is a symbolic link owned by uid %ld: crierd, as root, follows no "
		  "link another user made; remove it, or name the real path in crier.conf",
		  path, (long) st->st_uid);
	return (-1);
    }
    if (stat(path, st) < 0) {
	sb_printf(why, "%s is a symbolic link to nothing (%s): remove it", path, strerror(errno));
	return (-1);
    }
    return (1);
}

/* open_failed - why an open of one of crier's files failed */
static int open_failed(const char *path, STRBUF *why)
{
    if (errno == ELOOP)
	sb_printf(why, "%s is a symbolic link: crierd, as root, follows none there; "
		  "remove it (crierd makes the file itself)", path);
    else
	sb_printf(why, "cannot open %s: %s", path, strerror(errno));
    return (-1);
}

/*
 * give_dir - path, just made by this process (expect NULL) or found
 * belonging to root (expect: the inode found), goes to the service user.
 * It is opened without following a link and checked before the fchown,
 * so that a directory swapped in meanwhile is not given away.
 */
static int give_dir(const char *path, const struct stat *expect, const PRIV_OWNER *own,
		            STRBUF *why)
{
    int     fd;
    struct stat st;
    int     rc = 0;

    if (own->dry)
	return (0);
    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0 || st.st_uid != geteuid()
	|| (expect && (st.st_dev != expect->st_dev || st.st_ino != expect->st_ino))) {
	sb_printf(why, "%s changed while crierd prepared it: see who else writes in its "
		  "parent directory", path);
	rc = -1;
    } else if (AS_ROOT() && st.st_uid != own->uid && fchown(fd, own->uid, own->gid) < 0) {
	sb_printf(why, "cannot give %s to uid %ld: %s", path, (long) own->uid, strerror(errno));
	rc = -1;
    }
    if (fd >= 0)
	close(fd);
    return (rc);
}

/* parent_ok - dry run of a mkdir: the parent of path is a directory */
static int parent_ok(const char *path)
{
    char   *copy = xstrdup(path);
    struct stat st;
    int     rc = 0;

    if (stat(dirname(copy), &st) < 0)
	rc = -1;
    else if (!S_ISDIR(st.st_mode)) {
	errno = ENOTDIR;
	rc = -1;
    }
    free(copy);
    return (rc);
}

/*
 * make_new - mkdir, then give the new directory to the service user; 1
 * (the service user's now), or -1 with why
 */
static int make_new(const char *path, mode_t mode, const PRIV_OWNER *own, STRBUF *why)
{
    if (own->dry ? parent_ok(path) < 0 : mkdir(path, mode) < 0) {
	sb_printf(why, "cannot create %s: %s", path, strerror(errno));
	return (-1);
    }
    return (give_dir(path, NULL, own, why) < 0 ? -1 : 1);
}

/*
 * priv_dir - a directory crierd works in: made when missing (and then
 * given to the service user: 1), used as it is when it exists (0).
 */
int     priv_dir(const char *path, mode_t mode, const PRIV_OWNER *own, STRBUF *why)
{
    struct stat st;
    int     rc = look(path, &st, why);

    if (rc < 0)
	return (-1);
    if (rc == 0)
	return (make_new(path, mode, own, why));
    if (!S_ISDIR(st.st_mode)) {
	sb_printf(why, "%s exists and is not a directory: move it out of the way", path);
	return (-1);
    }
    return (0);
}

/* root_writes_only - st belongs to root and nobody else may write in it */
static int root_writes_only(const struct stat *st)
{
    return (S_ISDIR(st->st_mode) && st->st_uid == 0 && (st->st_mode & S_IWOTH) == 0
	    && ((st->st_mode & S_IWGRP) == 0 || st->st_gid == 0));
}

/*
 * root_only - the real path of path (allocated) when it and every
 * directory above it are root's alone: nobody but root can have put there
 * what it names. NULL otherwise.
 */
static char *root_only(const char *path)
{
    char   *real = realpath(path, NULL), *dir, *slash;
    struct stat st;
    int     ok = 1;

    if (real == NULL)
	return (NULL);
    dir = xstrdup(real);
    for (;;) {
	if (lstat(dir, &st) < 0 || !root_writes_only(&st)) {
	    ok = 0;
	    break;
	}
	if ((slash = strrchr(dir, '/')) == NULL || strcmp(dir, "/") == 0)
	    break;
	slash[slash == dir ? 1 : 0] = 0;
    }
    free(dir);
    if (!ok) {
	free(real);
	real = NULL;
    }
    return (real);
}

/*
 * priv_state_dir - state_dir, as priv_dir (mode 0750); one that belongs
 * to root is given to the service user when nobody but root could have put
 * it there (systemd's StateDirectory= of a unit without User= leaves it
 * so at each start). 1 when it was made or given, 0 when it is used as
 * it is: whether the service user can work in it is checked as that user.
 */
int     priv_state_dir(const char *path, const PRIV_OWNER *own, STRBUF *why)
{
    struct stat st;
    char   *real;
    int     rc = look(path, &st, why);

    if (rc <= 0)
	return (rc == 0 ? make_new(path, 0750, own, why) : -1);
    if (!S_ISDIR(st.st_mode)) {
	sb_printf(why, "state_dir %s exists and is not a directory: move it out of the way", path);
	return (-1);
    }
    if (!AS_ROOT() || st.st_uid == own->uid || st.st_uid != 0 || (real = root_only(path)) == NULL)
	return (0);
    rc = give_dir(real, &st, own, why) < 0 ? -1 : 1;
    if (rc == 1 && !own->dry)
	msg_info("state_dir %s: given to uid %ld (it was root's, in directories only root "
		 "writes)", path, (long) own->uid);
    free(real);
    return (rc);
}

/*
 * give_file - fd, open on path, is one of crier's files where the service
 * user may write: it must be a plain file with one link. Root's goes to
 * the service user (nobody else can have made it so); another user's
 * stops the start.
 */
static int give_file(int fd, const char *path, const PRIV_OWNER *own, STRBUF *why)
{
    struct stat st;

    if (fstat(fd, &st) < 0) {
	sb_printf(why, "cannot stat %s: %s", path, strerror(errno));
	return (-1);
    }
    if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
	sb_printf(why, "%s is not a plain file with one link: crierd, as root, does not use "
		  "it; move it out of the way", path);
	return (-1);
    }
    if (st.st_uid == own->uid || !AS_ROOT())
	return (0);
    if (own->dry && st.st_uid == 0)
	return (0);
    if (st.st_uid != 0) {
	sb_printf(why, "%s belongs to uid %ld, neither root nor crierd's user (uid %ld): "
		  "chown %ld %s", path, (long) st.st_uid, (long) own->uid, (long) own->uid, path);
	return (-1);
    }
    if (fchown(fd, own->uid, own->gid) < 0) {
	sb_printf(why, "cannot give %s to uid %ld: %s", path, (long) own->uid, strerror(errno));
	return (-1);
    }
    return (0);
}

/*
 * priv_state_files - the files named in dir (state_dir) that exist go to
 * the service user, each opened relative to dir without following a link
 * (give_file); those of another user, links and the like stop the start.
 */
int     priv_state_files(const char *dir, const char *const *names, const PRIV_OWNER *own,
			         STRBUF *why)
{
    int     dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd, rc = 0;
    STRBUF  path = STRBUF_INIT;

    if (dfd < 0) {
	sb_printf(why, "cannot open state_dir %s: %s", dir, strerror(errno));
	return (-1);
    }
    for (; rc == 0 && *names; names++) {
	sb_reset(&path);
	sb_printf(&path, "%s/%s", dir, *names);
	fd = openat(dfd, *names, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
	    rc = errno == ENOENT ? 0 : open_failed(path.s, why);
	else {
	    rc = give_file(fd, path.s, own, why);
	    close(fd);
	}
    }
    sb_free(&path);
    close(dfd);
    return (rc);
}

/*
 * priv_lock - open (or create, mode 0600) name in dir for the state lock:
 * never through a link, a plain file with one link, the service user's.
 * The descriptor, or -1 with why.
 */
int     priv_lock(const char *dir, const char *name, const PRIV_OWNER *own, STRBUF *why)
{
    STRBUF  path = STRBUF_INIT;
    int     fd;

    sb_printf(&path, "%s/%s", dir, name);
    fd = open(path.s, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
	fd = open(path.s, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
	(void) open_failed(path.s, why);
    else if (give_file(fd, path.s, own, why) < 0) {
	close(fd);
	fd = -1;
    }
    sb_free(&path);
    return (fd);
}

/*
 * pid_open - as root, the old pid file (a plain file with one link, or
 * the start stops) is removed and a new one made, never through a link;
 * crierd started as another user rewrites the one there.
 */
static int pid_open(const char *path, STRBUF *why)
{
    struct stat st;
    int     fd;

    if (!AS_ROOT()) {
	if ((fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0)
	    return (open_failed(path, why));
	if (ftruncate(fd, 0) < 0) {
	    close(fd);
	    return (open_failed(path, why));
	}
	return (fd);
    }
    if (lstat(path, &st) == 0 && (!S_ISREG(st.st_mode) || st.st_nlink != 1)) {
	sb_printf(why, "pid_file %s is %s: crierd, as root, writes no pid through it; "
		  "remove it", path, S_ISLNK(st.st_mode) ? "a symbolic link"
		  : "not a plain file with one link");
	return (-1);
    }
    if (unlink(path) < 0 && errno != ENOENT) {
	sb_printf(why, "cannot remove the old pid_file %s: %s", path, strerror(errno));
	return (-1);
    }
    if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0) {
	if (errno == EEXIST)
	    sb_printf(why, "pid_file %s came back while crierd replaced it: see who else "
		      "writes in its directory", path);
	else
	    (void) open_failed(path, why);
	return (-1);
    }
    return (fd);
}

/*
 * priv_pid - write this process's pid to path; a file root made goes to
 * the service user, whose process it names.
 */
int     priv_pid(const char *path, const PRIV_OWNER *own, STRBUF *why)
{
    int     fd = pid_open(path, why), rc = 0;

    if (fd < 0)
	return (-1);
    if (dprintf(fd, "%ld\n", (long) getpid()) < 0) {
	sb_printf(why, "cannot write pid_file %s: %s", path, strerror(errno));
	rc = -1;
    } else if (AS_ROOT() && own->uid != 0 && fchown(fd, own->uid, own->gid) < 0) {
	sb_printf(why, "cannot give pid_file %s to uid %ld: %s", path, (long) own->uid,
		  strerror(errno));
	rc = -1;
    }
    if (close(fd) < 0 && rc == 0) {
	sb_printf(why, "cannot write pid_file %s: %s", path, strerror(errno));
	rc = -1;
    }
    return (rc);
}

/*
 * priv_bind_begin - how the unix sockets bound until priv_bind_end are
 * made: Linux gives the new socket file the effective group and mode 0777
 * less the umask. With the group postfix as the effective group (as root,
 * or when it is the user's own), mode 0660; otherwise 0666. So nothing
 * is changed by path after the bind.
 */
void    priv_bind_begin(const PRIV_OWNER *own, PRIV_BIND *save)
{
    save->egid = getegid();
    save->changed = 0;
    save->umask = umask(0111);
    if (own->gid_postfix == (gid_t) -1)
	return;
    if (save->egid != own->gid_postfix && AS_ROOT()) {
	if (setegid(own->gid_postfix) == 0)
	    save->changed = 1;
	else
	    msg_warn("cannot take the group postfix for the sockets: %s", strerror(errno));
    }
    if (getegid() == own->gid_postfix)
	(void) umask(0117);
}

/* priv_bind_end - back to the umask and group of before priv_bind_begin */
void    priv_bind_end(const PRIV_BIND *save)
{
    if (save->changed && setegid(save->egid) < 0)
	msg_error("cannot return to group %ld: %s", (long) save->egid, strerror(errno));
    (void) umask(save->umask);
}

/*
 * priv_drop - as root, become the service user and its primary group,
 * with no supplementary groups; nothing to do for a crierd started as
 * another user, or whose service user is root.
 */
int     priv_drop(const PRIV_OWNER *own, STRBUF *why)
{
    if (!AS_ROOT() || own->uid == 0)
	return (0);
    if (setgroups(0, NULL) < 0 || setgid(own->gid) < 0 || setuid(own->uid) < 0) {
	sb_printf(why, "cannot drop privileges: %s", strerror(errno));
	return (-1);
    }
    return (0);
}

/*
 * priv_left_add - path was just made by this start (a socket bound, the
 * pid file about to be written): note its directory, opened now, and its
 * name, so that a failed start removes it (priv_left_remove).
 */
void    priv_left_add(PRIV_LEFT *left, const char *path, mode_t type)
{
    char   *copy = xstrdup(path), *base = xstrdup(basename(copy));
    int     fd;

    strcpy(copy, path);
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0 || left->count == PRIV_LEFT_MAX) {
	if (fd >= 0)
	    close(fd);
	free(base);
	return;
    }
    left->file[left->count].dir = fd;
    left->file[left->count].name = base;
    left->file[left->count].type = type;
    left->count++;
}

/*
 * priv_left_remove - the start failed: remove what it made, each name
 * only while it is still a file of its type (never what a link points
 * to). As the service user, a directory it cannot write keeps its file;
 * root, waiting for the start (crierd.c), removes it then.
 */
void    priv_left_remove(PRIV_LEFT *left)
{
    struct stat st;
    int     i;

    for (i = 0; i < left->count; i++)
	if (fstatat(left->file[i].dir, left->file[i].name, &st, AT_SYMLINK_NOFOLLOW) == 0
	    && (st.st_mode & S_IFMT) == left->file[i].type)
	    (void) unlinkat(left->file[i].dir, left->file[i].name, 0);
}

/* priv_left_forget - the start is over: nothing to remove any more */
void    priv_left_forget(PRIV_LEFT *left)
{
    int     i;

    for (i = 0; i < left->count; i++) {
	close(left->file[i].dir);
	free(left->file[i].name);
    }
    left->count = 0;
}
