/*
 * pages.h - what the panel's pages share: the process's context, one
 * request as a page sees it, and each page module's entry points.
 *
 *   web.c         the process: stores, key, signals; routing
 *   signin.c      the address form, sign-in links, sessions begun and ended
 *   panel.c       the list: Default and Custom by frequency, search;
 *                 mute, unmute, delete
 *   pending.c     the person's digests: next one, items waiting
 *   form.c        create, edit and clone
 *   preview.c     on the form: how often it would have notified
 *   unsubscribe.c RFC 8058 one-click unsubscribe
 *   person.c      the person's rules: catalog, profile, own notifications
 *   apply.c       every change, through change.c, compiled at once, logged
 */
#ifndef CRIER_PAGES_H
#define CRIER_PAGES_H

#include <pthread.h>
#include <sys/types.h>

#include "change.h"
#include "conf.h"
#include "dirwatch.h"
#include "html.h"
#include "http.h"
#include "policy.h"
#include "rules.h"
#include "rulesdb.h"
#include "session.h"
#include "statedb.h"
#include "token.h"

/* Token ages of the panel (token.h has the actions). */
#define WEB_SIGNIN_MAX_AGE	(15 * 60)
#define WEB_MANAGE_MAX_AGE	(60 * 86400)
#define WEB_MUTE_MAX_AGE	(60 * 86400)	/* as self-service's mute links */
#define WEB_SIGNIN_PER_ADDRESS	3		/* links a minute, and then */
#define WEB_SIGNIN_PER_CLIENT	10		/* requests a minute from one client */

typedef struct web {
    const CONF *conf;
    TOKEN_KEY key;
    STRBUF  base_url;			/* ends with '/' */
    RULESDB *rdb;			/* writable: a change compiles its user */
    STATEDB *sdb;			/* outbox, used tokens, digests */
    SESSIONS *sessions;
    DIRWATCH *rules_watch;		/* rules.d, for person.c: changed since? */
    pthread_mutex_t lock;		/* guards the throttles and token use */
    THROTTLE *per_address;
    THROTTLE *per_client;
    pid_t   supervisor;
    struct web_mailer *mailer;		/* writes sign-in links: signin.c */
} WEB;
typedef struct web_mailer WEB_MAILER;

/* One request, as a page sees it. */
typedef struct page {
    WEB    *web;
    const HTTP_REQ *req;
    HTTP_RESP *resp;
    SESSION s;
    int     signed_in;
    const char *cookie;			/* the session's cookie value */
} PAGE;

/* person.c: a person's rules, as change.c reads them */
typedef struct person {
    RULES  *rules;
    const USER *user;
    const PROFILE *profile;
    STRBUF  file;			/* the user's file, as compiled */
    struct person_kept *kept;		/* person.c's entry the rules are kept in */
} PERSON;

typedef struct entry {
    const NOTIF *n;
    int     muted;			/* ENTRY_* */
} ENTRY;

#define ENTRY_ACTIVE	0
#define ENTRY_MUTED	1		/* by the person: they can unmute it */
#define ENTRY_MUTED_DEF	2		/* a default muted for everyone of the profile */

DIRWATCH *person_watch(const char *rules_dir);
int     person_load(WEB *w, const char *address, PERSON *p, STRBUF *why);
void    person_free(PERSON *p);
size_t  person_entries(const PERSON *p, ENTRY **out);
int     person_find(const PERSON *p, const char *id, ENTRY *e);
void    person_filter_title(const char *name, STRBUF *out);
void    person_where(const PERSON *p, const NOTIF *n, STRBUF *html);
const HTML_SHARED *person_page(const PERSON *p);
void    person_keep_page(const PERSON *p, HTML_SHARED *page);

/* web.c */
void    page_begin(PAGE *pg, const char *title);
void    page_end(PAGE *pg);
void    page_error(PAGE *pg, int status, const char *title, const char *text);
int     page_csrf(PAGE *pg);
const char *web_field(const PAGE *pg, const char *name);

/* signin.c */
void    signin_form(PAGE *pg);
int     signin_start(WEB *w, STRBUF *why);
void    signin_stop(WEB *w);
void    signin_request(PAGE *pg);
void    signin_link(PAGE *pg, const char *token);
void    signin_out(PAGE *pg, int everywhere);
#define WEB_TOKEN_BAD	(-1)		/* not ours, altered, another kind: 400 */
#define WEB_TOKEN_GONE	(-2)		/* expired, or used: 410 */
#define WEB_TOKEN_LATER	(-3)		/* cannot be checked now: 503 */
int     web_token_status(int rc);
int     web_token_use(WEB *w, const char *token, int want, long max_age, STRBUF *user,
		              STRBUF *notif, STRBUF *why);
int     web_token_mark(WEB *w, const char *token, STRBUF *why);

/* panel.c */
void    panel_list(PAGE *pg);
void    panel_delete_confirm(PAGE *pg);
void    panel_change(PAGE *pg, int verb);

/* pending.c */
void    pending_show(PAGE *pg, const PERSON *p, const ENTRY *e, size_t n, STRBUF *b);

/* form.c */
#define FORM_CREATE	CHANGE_CREATE
#define FORM_EDIT	CHANGE_EDIT
#define FORM_CLONE	CHANGE_CLONE
void    form_show(PAGE *pg, int mode);
void    form_save(PAGE *pg);

/* preview.c */
void    preview_show(PAGE *pg, const PERSON *p, const char *event, const COND *conds,
		             size_t n, STRBUF *b);

/* unsubscribe.c */
void    unsubscribe(PAGE *pg, const char *token);

/* apply.c */
int     web_apply(WEB *w, const char *user, CHANGE *c, STRBUF *id, STRBUF *why);
void    web_reason(const WEB *w, const char *why, STRBUF *out);

#endif
