/*
 * change.c - one change to one user's notifications (see change.h).
 *
 * The rules of the reference product hold here, for crierctl and mail
 * alike: defaults (PROFILE/NAME) can be muted, unmuted and cloned, never
 * edited or deleted; custom notifications can be all of these; nothing may
 * become the same as another notification of the user's view; the catalog
 * decides what event types, filters, values and frequencies exist. The
 * last two are rules_check()'s, run on the changed set exactly as
 * "crierctl check" runs it, so a change can never write what check would
 * refuse.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "change.h"
#include "gitcommit.h"
#include "log.h"
#include "mem.h"
#include "strutil.h"
#include "userfile.h"

#define NAME_MAX_LEN	64

const char *change_verb_name(int verb)
{
    static const char *const names[] = {"?", "create", "edit", "clone", "mute", "unmute",
    "delete"};

    return (verb >= CHANGE_CREATE && verb <= CHANGE_DELETE ? names[verb] : names[0]);
}

/* change_where_arg - K=V[,V...] from the command line, into c->where */
int     change_where_arg(CHANGE *c, const char *arg, STRBUF *why)
{
    const char *eq = strchr(arg, '=');
    COND   *w;
    char   *vals, *v, *save = NULL;

    if (eq == NULL || eq == arg || eq[1] == 0) {
	sb_printf(why, "--where %s: write FILTER=VALUE[,VALUE...]", arg);
	return (-1);
    }
    c->where = xrealloc(c->where, (c->nwhere + 1) * sizeof(COND));
    w = &c->where[c->nwhere++];
    memset(w, 0, sizeof(*w));
    w->filter = xstrndup(arg, (size_t) (eq - arg));
    vals = xstrdup(eq + 1);
    for (v = strtok_r(vals, ",", &save); v; v = strtok_r(NULL, ",", &save))
	if (*str_trim(v))
	    strv_add(&w->values, str_trim(v));
    free(vals);
    if (w->values.len == 0) {
	sb_printf(why, "--where %s: no value", arg);
	return (-1);
    }
    return (0);
}

void    change_free(CHANGE *c)
{
    rules_conds_free(c->where, c->nwhere);
    strv_free(&c->unwhere);
}

/* change_done_free - what the change returned, and its lock */
void    change_done_free(CHANGE_DONE *done)
{
    free(done->id);
    free(done->file);
    free(done->was);
    free(done->warning);
    free(done->commit);
    if (done->lock >= 0)
	close(done->lock);
    memset(done, 0, sizeof(*done));
    done->lock = -1;
}

static NOTIF *find_custom(USER *u, const char *name)
{
    size_t  i;

    for (i = 0; i < u->ncustom; i++)
	if (strcmp(u->custom[i].name, name) == 0)
	    return (&u->custom[i]);
    return (NULL);
}

/* cond_set - replace (or add) the condition on one filter */
static void cond_set(NOTIF *n, const COND *w)
{
    COND   *c = NULL;
    size_t  i;

    for (i = 0; i < n->nconds && c == NULL; i++)
	if (strcmp(n->conds[i].filter, w->filter) == 0)
	    c = &n->conds[i];
    if (c == NULL) {
	n->conds = xrealloc(n->conds, (n->nconds + 1) * sizeof(COND));
	c = &n->conds[n->nconds++];
	c->filter = xstrdup(w->filter);
	c->line = 0;			/* not from the file */
    } else
	strv_free(&c->values);
    memset(&c->values, 0, sizeof(c->values));
    for (i = 0; i < w->values.len; i++)
	strv_add(&c->values, w->values.v[i]);
}

/* cond_drop - remove the condition on one filter; -1 when there is none */
static int cond_drop(NOTIF *n, const char *filter)
{
    size_t  i;

    for (i = 0; i < n->nconds; i++)
	if (strcmp(n->conds[i].filter, filter) == 0) {
	    free(n->conds[i].filter);
	    strv_free(&n->conds[i].values);
	    memmove(&n->conds[i], &n->conds[i + 1], (n->nconds - i - 1) * sizeof(COND));
	    n->nconds--;
	    return (0);
	}
    return (-1);
}

/* modify - the event, frequency and conditions the change gives */
static int modify(NOTIF *n, const CHANGE *c, STRBUF *why)
{
    size_t  i;

    if (c->event) {
	free(n->event);
	n->event = xstrdup(c->event);
    }
    if (c->frequency) {
	free(n->frequency);
	n->frequency = xstrdup(c->frequency);
    }
    for (i = 0; i < c->nwhere; i++)
	cond_set(n, &c->where[i]);
    for (i = 0; i < c->unwhere.len; i++)
	if (cond_drop(n, c->unwhere.v[i]) < 0) {
	    sb_printf(why, "'%s' has no condition on '%s' to remove", n->id, c->unwhere.v[i]);
	    return (-1);
	}
    return (0);
}

/* notif_copy - a custom copy of src named name */
static void notif_copy(NOTIF *dst, const NOTIF *src, const char *name, const char *file)
{
    size_t  i;

    memset(dst, 0, sizeof(*dst));
    dst->name = xstrdup(name);
    dst->id = xstrdup(name);
    dst->kind = NOTIF_CUSTOM;
    dst->event = xstrdup(src->event);
    dst->frequency = xstrdup(src->frequency);
    dst->file = file;
    for (i = 0; i < src->nconds; i++)
	cond_set(dst, &src->conds[i]);
}

/* name_ok - a libconfig setting name crier-rules(5) allows, and short */
static int name_ok(const char *s)
{
    size_t  n = strlen(s);

    return (n > 0 && n <= NAME_MAX_LEN && strspn(s, "abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ") >= 1
	    && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n);
}

/*
 * derive_base - a name from the settings as the file shows them: event
 * type, the first value of each condition (filters and values in order),
 * frequency: redelivery_requested_de_daily. From rules_notif_key(), so
 * that it follows what makes a notification what it is.
 */
static void derive_base(const NOTIF *n, STRBUF *base)
{
    char   *key = rules_notif_key(n), *freq = strchr(key, '\036') + 1, *c;
    const char *v;
    size_t  i, len;

    sb_putn(base, key, (size_t) (freq - 1 - key));
    for (c = strchr(freq, '\036'); c; c = strchr(c + 1, '\036')) {
	v = strchr(c, '=') + 1;			/* FILTER=V1\037V2\037 */
	sb_putc(base, '_');
	sb_putn(base, v, strcspn(v, "\036\037"));
    }
    sb_putc(base, '_');
    sb_putn(base, freq, strcspn(freq, "\036"));
    str_lower(base->s);
    for (i = 0, len = 0; i < base->len; i++) {
	int     ch = base->s[i];

	if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')))
	    ch = '_';
	if (ch != '_' || len == 0 || base->s[len - 1] != '_')
	    base->s[len++] = (char) ch;	/* runs of _ become one */
    }
    base->len = len > NAME_MAX_LEN - 4 ? NAME_MAX_LEN - 4 : len;
    base->s[base->len] = 0;
    free(key);
}

/* derive_name - derive_base() made unique among u's other customs with _2, _3, ... */
static void derive_name(USER *u, const NOTIF *n, STRBUF *out)
{
    STRBUF  base = STRBUF_INIT;
    const NOTIF *taken;
    int     k;

    derive_base(n, &base);
    for (k = 1; k == 1 || ((taken = find_custom(u, out->s)) != NULL && taken != n); k++) {
	sb_reset(out);
	sb_puts(out, base.s);
	if (k > 1)
	    sb_printf(out, "_%d", k);
    }
    sb_free(&base);
}

/* name_derived - n's name is the one derive_name() would have given it */
static int name_derived(const NOTIF *n)
{
    STRBUF  base = STRBUF_INIT;
    const char *rest;
    int     yes;

    derive_base(n, &base);
    rest = strncmp(n->name, base.s, base.len) == 0 ? n->name + base.len : NULL;
    yes = rest && (*rest == 0 || (rest[0] == '_' && rest[1] && strspn(rest + 1, "0123456789")
				  == strlen(rest + 1)));
    sb_free(&base);
    return (yes);
}

static NOTIF *custom_add(USER *u)
{
    u->custom = xrealloc(u->custom, (u->ncustom + 1) * sizeof(NOTIF));
    memset(&u->custom[u->ncustom], 0, sizeof(NOTIF));
    return (&u->custom[u->ncustom++]);
}

/* own_default - the default of the user's profile called id, or NULL */
static const NOTIF *own_default(const RULES *r, const USER *u, const char *id)
{
    const NOTIF *n = rules_default(r, id);
    size_t  plen = strlen(u->profile);

    return (n && strncmp(id, u->profile, plen) == 0 && id[plen] == '/' ? n : NULL);
}

/* add_custom - create and clone: a new custom notification from proto */
static int add_custom(USER *u, const NOTIF *proto, const CHANGE *c, char **id, STRBUF *why)
{
    STRBUF  name = STRBUF_INIT;
    NOTIF   tmp, *n;

    notif_copy(&tmp, proto, "new", u->file);
    if (modify(&tmp, c, why) < 0) {
	rules_notif_free(&tmp);
	return (-1);
    }
    if (c->new_name)
	sb_puts(&name, c->new_name);
    else
	derive_name(u, &tmp, &name);
    if (!name_ok(name.s) || find_custom(u, name.s)) {
	sb_printf(why, find_custom(u, name.s) ? "%s already has a custom notification named "
		  "'%s'" : "%s: '%s' is not a name (a letter, then letters, digits, _ or -; "
		  "at most 64)", u->address, name.s);
	rules_notif_free(&tmp);
	sb_free(&name);
	return (-1);
    }
    n = custom_add(u);
    notif_copy(n, &tmp, name.s, u->file);
    rules_notif_free(&tmp);
    *id = sb_steal(&name);
    return (0);
}

/* set_muted - mute or unmute a default or a custom notification */
static int set_muted(const RULES *r, USER *u, const char *name, int on, int *unchanged,
		             STRBUF *why)
{
    NOTIF  *n = find_custom(u, name);
    const NOTIF *def;
    int     at;

    if (n) {
	*unchanged = n->muted == on;
	n->muted = on;
	return (0);
    }
    if ((def = own_default(r, u, name)) == NULL) {
	sb_printf(why, "%s has no notification '%s' (crierctl list %s)", u->address, name,
		  u->address);
	return (-1);
    }
    if (def->muted) {			/* muted = true in the profile */
	if (!on) {
	    sb_printf(why, "'%s' is muted in the definition of profile %s, for everyone: it "
		      "cannot be unmuted for one user; clone it instead", name, u->profile);
	    return (-1);
	}
	*unchanged = 1;
	return (0);
    }
    at = strv_find_case(&u->muted, name);
    *unchanged = (at >= 0) == on;
    if (on && at < 0) {
	strv_add(&u->muted, name);
	u->muted_lines = xrealloc(u->muted_lines, (u->muted.len + 1) * sizeof(int));
	u->muted_lines[u->muted.len - 1] = 0;
    } else if (!on && at >= 0) {
	free(u->muted.v[at]);
	memmove(&u->muted.v[at], &u->muted.v[at + 1], (u->muted.len - (size_t) at) * sizeof(char *));
	memmove(&u->muted_lines[at], &u->muted_lines[at + 1],
		(u->muted.len - (size_t) at - 1) * sizeof(int));
	u->muted.len--;
    }
    return (0);
}

/* no_default_change - defaults are the profile's: refuse edit and delete */
static int no_default_change(const RULES *r, const USER *u, const CHANGE *c, STRBUF *why)
{
    if (own_default(r, u, c->name) == NULL)
	return (0);
    sb_printf(why, "'%s' is a default of profile %s: defaults cannot be %s; %s", c->name,
	      u->profile, c->verb == CHANGE_EDIT ? "edited" : "deleted",
	      c->verb == CHANGE_EDIT ? "clone it (crierctl clone USER NAME ...) and edit the "
	      "clone" : "mute it (crierctl mute USER NAME), or clone it and change the clone");
    return (-1);
}

/*
 * edit_custom - edit n; a name that derive_name() made follows the new
 * settings (*was: the old one), a name someone chose stays
 */
static int edit_custom(USER *u, NOTIF *n, const CHANGE *c, char **id, char **was, STRBUF *why)
{
    STRBUF  name = STRBUF_INIT;
    int     derived = name_derived(n);

    if (!c->event && !c->frequency && !c->nwhere && !c->unwhere.len) {
	sb_puts(why, "edit needs something to change: --event, --frequency, --where "
		"or --unwhere");
	return (-1);
    }
    if (modify(n, c, why) < 0)
	return (-1);
    if (derived) {
	derive_name(u, n, &name);
	if (strcmp(name.s, n->name) != 0) {
	    *was = n->name;
	    n->name = sb_steal(&name);
	    free(n->id);
	    n->id = xstrdup(n->name);
	}
	sb_free(&name);
    }
    *id = xstrdup(n->name);
    return (0);
}

/*
 * apply_verb - the change on the user in memory; *id names what it touched,
 * *was its name before when an edit renamed it
 */
static int apply_verb(const RULES *r, USER *u, const CHANGE *c, char **id, char **was,
		              int *unchanged, STRBUF *why)
{
    NOTIF   proto, *n;
    const NOTIF *src;
    size_t  i;

    memset(&proto, 0, sizeof(proto));
    switch (c->verb) {
    case CHANGE_CREATE:
	if (!c->event || !c->frequency || c->nwhere == 0) {
	    sb_puts(why, "create needs --event, --frequency and at least one --where");
	    return (-1);
	}
	proto.event = (char *) c->event;
	proto.frequency = (char *) c->frequency;
	return (add_custom(u, &proto, c, id, why));
    case CHANGE_CLONE:
	if ((src = find_custom(u, c->name)) == NULL && (src = own_default(r, u, c->name)) == NULL)
	    break;
	return (add_custom(u, src, c, id, why));
    case CHANGE_MUTE:
    case CHANGE_UNMUTE:
	*id = xstrdup(c->name);
	return (set_muted(r, u, c->name, c->verb == CHANGE_MUTE, unchanged, why));
    case CHANGE_EDIT:
    case CHANGE_DELETE:
	if (no_default_change(r, u, c, why) < 0)
	    return (-1);
	if ((n = find_custom(u, c->name)) == NULL)
	    break;
	if (c->verb == CHANGE_EDIT)
	    return (edit_custom(u, n, c, id, was, why));
	*id = xstrdup(n->name);
	i = (size_t) (n - u->custom);
	rules_notif_free(n);
	memmove(n, n + 1, (u->ncustom - i - 1) * sizeof(NOTIF));
	u->ncustom--;
	return (0);
    }
    sb_printf(why, "%s has no notification '%s' (crierctl list %s)", u->address, c->name,
	      u->address);
    return (-1);
}

/* diag_text - every error of a check, one per line */
static void diag_text(DIAG *d, STRBUF *why)
{
    char   *buf = NULL;
    size_t  len = 0;
    FILE   *fp = open_memstream(&buf, &len);

    if (fp == NULL)
	return;
    diag_print_errors(d, fp);
    fclose(fp);
    while (len && buf[len - 1] == '\n')
	len--;
    sb_putn(why, buf, len);
    free(buf);
}

/*
 * change_lock - a lock on rules.d/users/ itself: exclusive for a change
 * (from its read of the files to the commit of its compile), shared for a
 * whole compile (from its read to its commit), so that no compile serves
 * files older than one already in service. Returns the descriptor to
 * close, -1 with why, or -2 when there is no users/ directory to lock.
 */
int     change_lock(const char *rules_dir, int exclusive, STRBUF *why)
{
    STRBUF  dir = STRBUF_INIT;
    int     fd;

    sb_printf(&dir, "%s/users", rules_dir);
    fd = open(dir.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
	fd = -2;
    else if (fd < 0 || flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
	sb_printf(why, "cannot lock %s: %s", dir.s, strerror(errno));
	if (fd >= 0)
	    close(fd);
	fd = -1;
    }
    sb_free(&dir);
    return (fd);
}

/* says_same - text holds what u says, read back as crier-rules(5) reads it */
static int says_same(const USER *u, const char *text, STRBUF *why)
{
    DIAG   *d = diag_create();
    RULES  *back = rules_load_text(u->file, text, d);
    STRBUF  want = STRBUF_INIT, got = STRBUF_INIT;
    int     same;

    userfile_format(u, NULL, &want);
    if (diag_errors(d) == 0 && back->nusers == 1)
	userfile_format(&back->users[0], NULL, &got);
    same = strcmp(sb_str(&want), sb_str(&got)) == 0;
    if (!same)
	sb_puts(why, diag_errors(d) ? "it would not read back" : "it would say something else");
    rules_free(back);
    diag_free(d);
    sb_free(&want), sb_free(&got);
    return (same);
}

/*
 * write_user - the user's file with the change: the old text changed only
 * where the settings changed (userfile_splice.c), or, when that cannot be
 * done, written whole in the canonical layout after its top comments
 * (done->warning says so)
 */
static int write_user(const RULES *r, const char *address, CHANGE_DONE *done, STRBUF *why)
{
    const USER *u = rules_user(r, address);
    STRBUF  old = STRBUF_INIT, text = STRBUF_INIT, how = STRBUF_INIT, header = STRBUF_INIT;
    UF_NODE tree;
    int     rc = -1;

    if (sb_read_file(&old, u->file, 1 << 24) < 0) {
	sb_printf(why, "cannot read %s: %s", u->file, strerror(errno));
	sb_free(&old);
	return (-1);
    }
    userfile_tree(u, done->was, done->id, &tree);
    if (userfile_splice(sb_str(&old), old.len, &tree, &text, &how) < 0
	|| !says_same(u, sb_str(&text), &how)) {
	sb_reset(&text);
	userfile_header(sb_str(&old), &header);
	userfile_format(u, sb_str(&header), &text);
	sb_reset(&header);
	sb_printf(&header, "%s: written whole, comments below its top not kept (%s)", u->file,
		  how.s);
	done->warning = sb_steal(&header);
    }
    rc = userfile_write(u->file, &text, why);
    userfile_tree_free(&tree);
    sb_free(&old), sb_free(&text), sb_free(&how), sb_free(&header);
    return (rc);
}

/*
 * commit - the change as a git commit, when the user's file is in a work
 * tree that asks for it (gitcommit.c); a failure is a warning, the change
 * stands. In crierd's log (and crierctl's syslog) either way.
 */
static void commit(const CHANGE *c, CHANGE_DONE *done)
{
    STRBUF  msg = STRBUF_INIT, what = STRBUF_INIT, why = STRBUF_INIT;
    const char *by = c->author ? c->author : c->user;

    sb_printf(&msg, "%s: %s %s%s%s", c->user, change_verb_name(c->verb),
	      done->was ? done->was : done->id, done->was ? ", now " : "",
	      done->was ? done->id : "");
    if (c->channel)
	sb_printf(&msg, " (%s)", c->channel);
    if (gitcommit(done->file, by, msg.s, &what, &why) > 0) {
	msg_info("rules: %s: committed %s, author %s", msg.s, what.s, by);
	done->commit = sb_steal(&what);
    } else if (why.len) {
	msg_warn("rules: %s: not committed to git: %s", msg.s, why.s);
	sb_reset(&what);
	sb_printf(&what, "not committed to git (the change is made): %s", why.s);
	if (done->warning)
	    sb_printf(&what, "; %s", done->warning);
	free(done->warning);
	done->warning = sb_steal(&what);
    }
    sb_free(&msg), sb_free(&what), sb_free(&why);
}

/*
 * change_user_file - where the compiled set says the user is, when that is
 * in rules_dir/users/ (then a change reads only that file of users/):
 * the path in file, or NULL
 */
const char *change_user_file(RULESDB *rdb, const char *rules_dir, const char *address,
			             STRBUF *file)
{
    STRBUF  why = STRBUF_INIT, users = STRBUF_INIT;
    MDB_txn *txn;
    RDB_USER u;

    sb_reset(file);
    sb_printf(&users, "%s/users/", rules_dir);
    if (rulesdb_read(rdb, &txn, &why) == 0) {
	if (rulesdb_get_user(rdb, txn, address, &u, &why) == 0
	    && strncmp(u.file, users.s, users.len) == 0)
	    sb_puts(file, u.file);
	rulesdb_end(rdb, txn);
    }
    sb_free(&why), sb_free(&users);
    return (file->len ? file->s : NULL);
}

/* in_users_dir - the user's file is in rules.d/users/, where changes may write */
static int in_users_dir(const char *rules_dir, const USER *u)
{
    size_t  n = strlen(rules_dir);

    return (strncmp(u->file, rules_dir, n) == 0 && strncmp(u->file + n, "/users/", 7) == 0);
}

/*
 * change_apply - make the change in rules_dir, or refuse it with why and
 * write nothing; under git, commit it too (a failure is done->warning).
 * On success the lock on rules.d/users/ stays in done->lock until
 * change_done_free(), so that the caller compiles what it wrote before
 * any other change or compile reads the files. rules.d must be free of
 * errors to begin with (with a user_file hint: the catalog and that file,
 * so that a change costs the same with ten users or a million
 * notifications).
 */
int     change_apply(const char *rules_dir, const CHANGE *c, CHANGE_DONE *done, STRBUF *why)
{
    DIAG   *d = diag_create();
    int     lock = change_lock(rules_dir, 1, why), rc = -1;
    RULES  *r = lock < 0 ? NULL : c->user_file ? rules_load_user(rules_dir, c->user_file, d)
    : rules_load(rules_dir, d);
    USER   *u;

    memset(done, 0, sizeof(*done));
    done->lock = -1;
    if (r == NULL) {
	if (lock == -2)
	    sb_printf(why, "%s has no users/ directory", rules_dir);
	goto out;
    }
    if (rules_check(r, d) < 0) {
	sb_printf(why, "%s has errors; fix them first (crierctl check):\n", rules_dir);
	diag_text(d, why);
    } else if ((u = (USER *) rules_user(r, c->user)) == NULL)
	sb_printf(why, "no user %s in %s (add a file for them in %s/users/)", c->user,
		  rules_dir, rules_dir);
    else if (!in_users_dir(rules_dir, u))
	sb_printf(why, "%s is defined in %s; crierctl changes only files in %s/users/",
		  u->address, u->file, rules_dir);
    else if (apply_verb(r, u, c, &done->id, &done->was, &done->unchanged, why) == 0) {
	done->file = xstrdup(u->file);
	diag_free(d);
	d = diag_create();
	if (rules_check(r, d) < 0)
	    diag_text(d, why);
	else
	    rc = done->unchanged ? 0 : write_user(r, c->user, done, why);
	if (rc == 0 && !done->unchanged)
	    commit(c, done);
    }
  out:
    if (rc < 0)
	change_done_free(done);
    else
	done->lock = lock, lock = -1;	/* held until the caller's compile is done */
    rules_free(r);
    diag_free(d);
    if (lock >= 0)
	close(lock);
    return (rc);
}
