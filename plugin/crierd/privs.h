/*
 * privs.h - crierd's start-up steps as root, safe against its service
 * user (privs.c).
 */
#ifndef CRIER_PRIVS_H
#define CRIER_PRIVS_H

#include <sys/types.h>

#include "strbuf.h"

/* Who gets what root creates: the service user, and Postfix's group. */
typedef struct priv_owner {
    uid_t   uid;
    gid_t   gid;
    gid_t   gid_postfix;		/* the sockets' group, or -1 */
    int     dry;			/* crierd -n: check, make and give nothing */
} PRIV_OWNER;

/*
 * What a start has made in directories (sockets, the pid file), to be
 * removed when the start fails: each by its directory, opened as root
 * when the file was made, and its name.
 */
#define PRIV_LEFT_MAX	4
typedef struct priv_left {
    int     count;
    struct {
	int     dir;			/* O_DIRECTORY descriptor */
	char   *name;
	mode_t  type;			/* S_IFSOCK or S_IFREG */
    }       file[PRIV_LEFT_MAX];
} PRIV_LEFT;

/* Saved around a bind(): umask and effective group. */
typedef struct priv_bind {
    mode_t  umask;
    gid_t   egid;
    int     changed;
} PRIV_BIND;

int     priv_dir(const char *path, mode_t mode, const PRIV_OWNER *own, STRBUF *why);
int     priv_state_dir(const char *path, const PRIV_OWNER *own, STRBUF *why);
int     priv_state_files(const char *dir, const char *const *names, const PRIV_OWNER *own,
			         STRBUF *why);
int     priv_lock(const char *dir, const char *name, const PRIV_OWNER *own, STRBUF *why);
int     priv_pid(const char *path, const PRIV_OWNER *own, STRBUF *why);
void    priv_bind_begin(const PRIV_OWNER *own, PRIV_BIND *save);
void    priv_bind_end(const PRIV_BIND *save);
int     priv_drop(const PRIV_OWNER *own, STRBUF *why);
void    priv_left_add(PRIV_LEFT *left, const char *path, mode_t type);
void    priv_left_remove(PRIV_LEFT *left);
void    priv_left_forget(PRIV_LEFT *left);

#endif
