/*
 * change.h - changes to one user's notifications: create, edit, clone,
 * mute, unmute, delete.
 *
 * crierctl's verbs, crierd's mail self-service and any other way in make
 * the same changes through change_apply(): read rules.d, change the user
 * in memory, check the whole set as "crierctl check" would, and only then
 * write the user's own file in rules.d/users/ (userfile.h), atomically,
 * changing only what changes (people's comments stay), and commit it when
 * rules.d is under git on the mail host (gitcommit.h). Changes are
 * serialized by a lock on rules.d/users/, held until the caller has
 * compiled the change; whole compiles take it shared (change_lock).
 */
#ifndef CRIER_CHANGE_H
#define CRIER_CHANGE_H

#include "rules.h"
#include "rulesdb.h"
#include "strbuf.h"
#include "strv.h"

#define CHANGE_CREATE	1
#define CHANGE_EDIT	2
#define CHANGE_CLONE	3
#define CHANGE_MUTE	4
#define CHANGE_UNMUTE	5
#define CHANGE_DELETE	6

typedef struct change {
    int     verb;
    const char *user;			/* address */
    const char *name;			/* the notification acted on: NAME or PROFILE/NAME */
    const char *new_name;		/* create and clone: --name */
    const char *event;			/* --event */
    const char *frequency;		/* --frequency */
    COND   *where;			/* --where K=V,...: replaces the condition on K */
    size_t  nwhere;
    STRV    unwhere;			/* --unwhere K */
    const char *user_file;		/* where the user is, as compiled, or NULL:
					 * read only that one of rules.d/users/ */
    const char *author;			/* who asks, an address; NULL: the user */
    const char *channel;		/* how: "crierctl", "mail", ... (for git) */
} CHANGE;

/* What a change did, for the caller to show. */
typedef struct change_done {
    char   *id;				/* the notification saved, muted, ... */
    char   *was;			/* its name before, when an edit renamed it */
    char   *file;			/* the user's file */
    char   *warning;			/* done, but not quite as it should be */
    char   *commit;			/* what git(1) recorded of it, or NULL */
    int     unchanged;			/* already so: nothing written */
    int     lock;			/* rules.d/users/ locked until freed, or -1 */
} CHANGE_DONE;

const char *change_verb_name(int verb);
int     change_where_arg(CHANGE *c, const char *arg, STRBUF *why);
void    change_free(CHANGE *c);
int     change_apply(const char *rules_dir, const CHANGE *c, CHANGE_DONE *done, STRBUF *why);
void    change_done_free(CHANGE_DONE *done);
int     change_lock(const char *rules_dir, int exclusive, STRBUF *why);
const char *change_user_file(RULESDB *rdb, const char *rules_dir, const char *address,
			             STRBUF *file);

#endif
