/*
 * person.c - one person's rules, read as change.c reads them: the
 * catalog (every file of rules.d outside users/) and the person's own
 * file, so the panel shows what a change is made on; the cost follows the
 * catalog, not the number of users. They are not checked here: a check
 * proves every RRULE and costs tens of milliseconds, and what is in
 * rules.d was checked when it was compiled; a change is checked whole by
 * change.c (and refused, saying why, if rules.d has errors).
 *
 * Parsing those files is most of what a panel page costs, so the last
 * PERSON_CACHE people's rules are kept, each with a stamp of what it was
 * read from: every entry of the catalog's directories and the person's
 * file, by device, inode, size and modification time. A page uses the
 * kept rules only when rules.d still says the same. Taking the stamp is
 * a dozen system calls, so it is taken only when the watch of rules.d
 * (dirwatch.c: inotify) saw something happen there since the kept rules
 * were last found the same, or cannot tell. So an edit, a new file or a
 * change made anywhere shows at once. Kept rules are never changed: an entry replaced while a page
 * still reads it is freed by the last one to let go of it.
 *
 * The list page rendered from kept rules is kept with them (panel.c:
 * the plain list, without a search, its CSRF tokens left out), set once
 * and then never changed, so it is as fresh as the rules it was made of
 * and goes with them.
 */
#include "config.h"

#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "html.h"
#include "log.h"
#include "mem.h"
#include "pages.h"
#include "strutil.h"

#define PERSON_CACHE	64		/* people whose rules are kept */
#define PERSON_DEPTH	16		/* directories deeper are not read (rules_load.c) */

/* What rules.d was when rules were read from it. */
typedef struct stamp {
    unsigned long epoch;		/* the catalog watch's; 0: not known */
    STRBUF  catalog;			/* stamp_dir() of rules_dir */
    STRBUF  file;			/* stamp_file() of the person's file */
} STAMP;

typedef struct person_kept {
    char   *address;
    STAMP   stamp;			/* when it was read (epoch: last seen the same) */
    RULES  *rules;
    int     refs;			/* pages reading it, + 1 while in a slot */
    int     has_page;			/* page is set (and no longer changes) */
    HTML_SHARED page;			/* the list page made of rules */
} KEPT;

static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static KEPT *kept_slot[PERSON_CACHE];	/* by the address's hash */

/* stamp_file - one path's identity and version, added to stamp */
static void stamp_file(STRBUF *stamp, const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0)
	sb_printf(stamp, "%s -\n", path);
    else
	sb_printf(stamp, "%s %lu %lu %lld %lld.%ld\n", path, (unsigned long) st.st_dev,
		  (unsigned long) st.st_ino, (long long) st.st_size,
		  (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

/* stamp_dir - dir and every entry below it but users/, in the order readdir gives */
static void stamp_dir(STRBUF *stamp, const char *dir, const char *users, int depth)
{
    STRBUF  path = STRBUF_INIT;
    struct dirent *de;
    DIR    *dp;

    stamp_file(stamp, dir);
    if (depth > PERSON_DEPTH || (dp = opendir(dir)) == NULL)
	return;
    while ((de = readdir(dp)) != NULL) {
	if (de->d_name[0] == '.')
	    continue;
	sb_reset(&path);
	sb_printf(&path, "%s/%s", dir, de->d_name);
	if (strcmp(path.s, users) == 0)
	    continue;
	if (de->d_type == DT_DIR || de->d_type == DT_LNK || de->d_type == DT_UNKNOWN)
	    stamp_dir(stamp, path.s, users, depth + 1);	/* a file: opendir fails */
	else
	    stamp_file(stamp, path.s);
    }
    closedir(dp);
    sb_free(&path);
}

/* stamp_catalog - what rules_load_user() reads outside users/, as it is now */
static void stamp_catalog(STRBUF *stamp, const char *dir)
{
    STRBUF  users = STRBUF_INIT;

    sb_printf(&users, "%s/users", dir);
    stamp_dir(stamp, dir, users.s, 0);
    sb_free(&users);
}

/* person_watch - the watch of rules_dir that spares kept_get() its stamps */
DIRWATCH *person_watch(const char *rules_dir)
{
    return (dirwatch_open(rules_dir, PERSON_DEPTH));
}

static int sb_same(const STRBUF *a, const STRBUF *b)
{
    return (a->len == b->len && memcmp(a->s, b->s, a->len) == 0);
}

static KEPT **kept_where(const char *address)
{
    uint32_t h = 2166136261u;
    const unsigned char *s;

    for (s = (const unsigned char *) address; *s; s++)
	h = (h ^ *s) * 16777619u;
    return (&kept_slot[h % PERSON_CACHE]);
}

/* kept_drop - one holder less; the last one frees it. kept_lock is held. */
static void kept_drop(KEPT *k)
{
    if (--k->refs > 0)
	return;
    rules_free(k->rules);
    html_shared_free(&k->page);
    sb_free(&k->stamp.catalog);
    sb_free(&k->stamp.file);
    free(k->address);
    free(k);
}

/* kept_release - one reader of k less */
static void kept_release(KEPT *k)
{
    pthread_mutex_lock(&kept_lock);
    kept_drop(k);
    pthread_mutex_unlock(&kept_lock);
}

/* kept_hold - the kept entry of address, held; *seen: known the same at epoch */
static KEPT *kept_hold(const char *address, unsigned long epoch, int *seen)
{
    KEPT   *k;

    pthread_mutex_lock(&kept_lock);
    if ((k = *kept_where(address)) != NULL && strcmp(k->address, address) == 0)
	k->refs++;
    else
	k = NULL;
    *seen = k && epoch && k->stamp.epoch == epoch;
    pthread_mutex_unlock(&kept_lock);
    return (k);
}

/*
 * kept_get - the kept entry of address if rules.d still says what it was
 * read from: nothing happened in rules.d since it was last found the
 * same (its watch's epoch), or its stamp is the same. Else NULL, and *now
 * the stamp of rules.d, taken before the caller reads it, so that a
 * change made meanwhile shows next time.
 */
static KEPT *kept_get(WEB *w, const char *address, const char *file, STAMP *now)
{
    KEPT   *k;
    int     seen;

    now->epoch = dirwatch_epoch(w->rules_watch);
    if ((k = kept_hold(address, now->epoch, &seen)) != NULL && seen)
	return (k);
    stamp_file(&now->file, file);
    stamp_catalog(&now->catalog, w->conf->rules_dir);
    if (k && sb_same(&k->stamp.file, &now->file) && sb_same(&k->stamp.catalog, &now->catalog)) {
	pthread_mutex_lock(&kept_lock);
	k->stamp.epoch = now->epoch;		/* the same at this epoch */
	pthread_mutex_unlock(&kept_lock);
	return (k);
    }
    if (k)
	kept_release(k);
    return (NULL);
}

/* kept_put - keep r, just read from what *st says, held by the caller too */
static KEPT *kept_put(const char *address, STAMP *st, RULES *r)
{
    KEPT   *k = xcalloc(1, sizeof(KEPT)), **slot;

    k->address = xstrdup(address);
    k->stamp = *st;				/* taken: the caller's is left empty */
    memset(st, 0, sizeof(*st));
    k->rules = r;
    k->refs = 2;
    pthread_mutex_lock(&kept_lock);
    slot = kept_where(address);
    if (*slot)
	kept_drop(*slot);
    *slot = k;
    pthread_mutex_unlock(&kept_lock);
    return (k);
}

/* person_load - the person's rules; -1 with why (for the log) when unusable */
int     person_load(WEB *w, const char *address, PERSON *p, STRBUF *why)
{
    STAMP   stamp = {0, STRBUF_INIT, STRBUF_INIT};
    DIAG   *d = diag_create();
    const char *file;

    memset(p, 0, sizeof(*p));
    file = change_user_file(w->rdb, w->conf->rules_dir, address, &p->file);
    if (file && (p->kept = kept_get(w, address, file, &stamp)) != NULL)
	p->rules = p->kept->rules;
    if (p->rules == NULL) {
	p->rules = file ? rules_load_user(w->conf->rules_dir, file, d)
	    : rules_load(w->conf->rules_dir, d);
	if (file && diag_errors(d) == 0)
	    p->kept = kept_put(address, &stamp, p->rules);
    }
    if (diag_errors(d) > 0)
	sb_printf(why, "%s: %s", w->conf->rules_dir, diag_first(d));
    else if ((p->user = rules_user(p->rules, address)) == NULL)
	sb_printf(why, "no user %s in %s", address, w->conf->rules_dir);
    else
	p->profile = rules_profile(p->rules, p->user->profile);
    diag_free(d);
    sb_free(&stamp.catalog);
    sb_free(&stamp.file);
    if (p->user == NULL) {
	person_free(p);
	return (-1);
    }
    return (0);
}

void    person_free(PERSON *p)
{
    if (p->kept)
	kept_release(p->kept);
    else if (p->rules)
	rules_free(p->rules);
    sb_free(&p->file);
    memset(p, 0, sizeof(*p));
}

/* person_page - the list page kept with the person's rules, or NULL */
const HTML_SHARED *person_page(const PERSON *p)
{
    const HTML_SHARED *page = NULL;

    if (p->kept == NULL)
	return (NULL);
    pthread_mutex_lock(&kept_lock);
    if (p->kept->has_page)
	page = &p->kept->page;
    pthread_mutex_unlock(&kept_lock);
    return (page);
}

/*
 * person_keep_page - keep page, made of p's rules, with them: taken (page
 * left empty) when they are kept and have none yet; else left to the caller
 */
void    person_keep_page(const PERSON *p, HTML_SHARED *page)
{
    if (p->kept == NULL)
	return;
    pthread_mutex_lock(&kept_lock);
    if (!p->kept->has_page) {
	p->kept->page = *page;
	p->kept->has_page = 1;
	memset(page, 0, sizeof(*page));
    }
    pthread_mutex_unlock(&kept_lock);
}

/* default_muted - ENTRY_MUTED_DEF in its definition, ENTRY_MUTED by the person */
static int default_muted(const PERSON *p, const NOTIF *n)
{
    return (n->muted ? ENTRY_MUTED_DEF : strv_find_case(&p->user->muted, n->id) >= 0
	    ? ENTRY_MUTED : ENTRY_ACTIVE);
}

/* person_entries - defaults, then custom notifications; the caller frees *out */
size_t  person_entries(const PERSON *p, ENTRY **out)
{
    size_t  nd = p->profile ? p->profile->ndefaults : 0, i, n = 0;
    ENTRY  *e = xcalloc(nd + p->user->ncustom + 1, sizeof(ENTRY));

    for (i = 0; i < nd; i++, n++) {
	e[n].n = &p->profile->defaults[i];
	e[n].muted = default_muted(p, e[n].n);
    }
    for (i = 0; i < p->user->ncustom; i++, n++) {
	e[n].n = &p->user->custom[i];
	e[n].muted = e[n].n->muted ? ENTRY_MUTED : ENTRY_ACTIVE;
    }
    *out = e;
    return (n);
}

/* person_find - the person's notification id (PROFILE/NAME or NAME): 0, or -1 */
int     person_find(const PERSON *p, const char *id, ENTRY *e)
{
    ENTRY  *all;
    size_t  n = person_entries(p, &all), i;
    int     rc = -1;

    for (i = 0; i < n && rc < 0; i++)
	if (id && strcmp(all[i].n->id, id) == 0) {
	    *e = all[i];
	    rc = 0;
	}
    free(all);
    return (rc);
}

/* person_filter_title - "content_type" as people read it: "Content Type" */
void    person_filter_title(const char *name, STRBUF *out)
{
    int     start = 1;

    for (; *name; name++) {
	int     ch = *name == '_' ? ' ' : *name;

	sb_putc(out, start && ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
	start = ch == ' ';
    }
}

/* person_where - a notification's conditions, as escaped HTML */
void    person_where(const PERSON *p, const NOTIF *n, STRBUF *html)
{
    STRBUF  t = STRBUF_INIT;
    size_t  i, j;

    (void) p;
    for (i = 0; i < n->nconds; i++) {
	sb_puts(html, i ? "; " : "");
	sb_reset(&t);
	person_filter_title(n->conds[i].filter, &t);
	sb_puts(html, "<span class=\"cond\">");
	html_text(html, t.s);
	sb_puts(html, "</span> = ");
	for (j = 0; j < n->conds[i].values.len; j++) {
	    sb_puts(html, j ? ", " : "");
	    html_text(html, n->conds[i].values.v[j]);
	}
    }
    sb_free(&t);
}
