/*
 * userfile.c - a user's file in rules.d/users/, written the one way.
 *
 * The settings crier writes come from one tree (userfile.h): the user
 * block, the custom notifications in name order (conditions in filter
 * order, values sorted), and the muted defaults in order. userfile_format()
 * writes a whole file from it, after the comment lines at the top of the
 * old one; change.c rather splices the tree into the old text
 * (userfile_splice.c), so that people's comments stay, and writes the
 * whole canonical file only when that cannot be done.
 *
 * The new file replaces the old atomically: written to a temporary file in
 * the same directory, flushed to disk, renamed over, and the directory
 * flushed too, so a crash leaves the old file or the new one, never half.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "userfile.h"

/* quoted - a libconfig string literal */
static void quoted(STRBUF *out, const char *s)
{
    sb_putc(out, '"');
    for (; *s; s++) {
	if (*s == '"' || *s == '\\')
	    sb_printf(out, "\\%c", *s);
	else if (*s == '\n')
	    sb_puts(out, "\\n");
	else if (*s == '\t')
	    sb_puts(out, "\\t");
	else if ((unsigned char) *s < 0x20 || *s == 0x7f)
	    sb_printf(out, "\\x%02x", (unsigned char) *s);
	else
	    sb_putc(out, *s);
    }
    sb_putc(out, '"');
}

static int str_ptr_cmp(const void *a, const void *b)
{
    return (strcmp(*(char *const *) a, *(char *const *) b));
}

static int cond_cmp(const void *a, const void *b)
{
    return (strcmp((*(const COND *const *) a)->filter, (*(const COND *const *) b)->filter));
}

static int notif_cmp(const void *a, const void *b)
{
    return (strcmp((*(const NOTIF *const *) a)->name, (*(const NOTIF *const *) b)->name));
}

/* kid - the next member of a node made with room for them (kids_room) */
static UF_NODE *kid(UF_NODE *p, const char *name, int type, const char *value)
{
    UF_NODE *k = &p->kids[p->nkids++];

    k->name = name;
    k->type = type;
    k->value = value;
    return (k);
}

static void kids_room(UF_NODE *p, size_t n)
{
    p->kids = xcalloc(n + 1, sizeof(UF_NODE));
}

/* strings - an array of strings, sorted when asked */
static void strings(UF_NODE *p, const char *name, const STRV *sv, int sort)
{
    UF_NODE *a = kid(p, name, CFGT_ARRAY, NULL);
    char  **v = xcalloc(sv->len + 1, sizeof(char *));
    size_t  i;

    if (sv->len)
	memcpy(v, sv->v, sv->len * sizeof(char *));
    if (sort)
	xsort(v, sv->len, sizeof(char *), str_ptr_cmp);
    kids_room(a, sv->len);
    for (i = 0; i < sv->len; i++)
	kid(a, NULL, CFGT_STRING, v[i]);
    free(v);
}

/* notif - one custom notification; was: its name in the old text */
static void notif(UF_NODE *custom, const NOTIF *n, const char *was)
{
    UF_NODE *g = kid(custom, n->name, CFGT_GROUP, NULL), *w;
    const COND **c = xcalloc(n->nconds + 1, sizeof(COND *));
    size_t  i;

    g->was = was;
    kids_room(g, 4);
    kid(g, "event", CFGT_STRING, n->event);
    w = kid(g, "where", CFGT_GROUP, NULL);
    kid(g, "frequency", CFGT_STRING, n->frequency);
    kid(g, "muted", CFGT_SCALAR, n->muted ? "true" : "false")->omit = 1;
    for (i = 0; i < n->nconds; i++)
	c[i] = &n->conds[i];
    xsort(c, n->nconds, sizeof(COND *), cond_cmp);
    kids_room(w, n->nconds);
    for (i = 0; i < n->nconds; i++)
	strings(w, c[i]->filter, &c[i]->values, 1);
    free(c);
}

/* user_block - the user group: kept as written in a splice, so only for format */
static void user_block(UF_NODE *root, const USER *u)
{
    UF_NODE *g = kid(root, "user", CFGT_GROUP, NULL);

    kids_room(g, 4);
    kid(g, "address", CFGT_STRING, u->address);
    kid(g, "profile", CFGT_STRING, u->profile);
    strings(g, "partners", &u->partners, 0);
    if (u->timezone)
	kid(g, "timezone", CFGT_STRING, u->timezone);
}

/*
 * userfile_tree - what u's file says, in the canonical order. Notification
 * now was called was in the old text (an edit renamed it), or both NULL.
 */
void    userfile_tree(const USER *u, const char *was, const char *now, UF_NODE *root)
{
    const NOTIF **n = xcalloc(u->ncustom + 1, sizeof(NOTIF *));
    UF_NODE *custom;
    size_t  i;

    memset(root, 0, sizeof(*root));
    root->type = CFGT_GROUP;
    root->blank = root->others = 1;
    kids_room(root, 3);
    user_block(root, u);
    custom = kid(root, "custom", CFGT_GROUP, NULL);
    custom->blank = custom->omit = 1;
    for (i = 0; i < u->ncustom; i++)
	n[i] = &u->custom[i];
    xsort(n, u->ncustom, sizeof(NOTIF *), notif_cmp);
    kids_room(custom, u->ncustom);
    for (i = 0; i < u->ncustom; i++)
	notif(custom, n[i], now && strcmp(n[i]->name, now) == 0 ? was : NULL);
    strings(root, "muted", &u->muted, 1);
    root->kids[root->nkids - 1].omit = 1;
    free(n);
}

void    userfile_tree_free(UF_NODE *w)
{
    size_t  i;

    for (i = 0; i < w->nkids; i++)
	userfile_tree_free(&w->kids[i]);
    free(w->kids);
    memset(w, 0, sizeof(*w));
}

/* userfile_omitted - a node not written: an empty group or array, a false flag */
int     userfile_omitted(const UF_NODE *w)
{
    return (w->omit && (w->type == CFGT_SCALAR ? strcmp(w->value, "false") == 0
			: w->nkids == 0));
}

static void indent(STRBUF *out, int depth)
{
    sb_printf(out, "%*s", 2 * depth, "");
}

/* emit_kids - the members of group w at depth, a blank line between them if asked */
static void emit_kids(const UF_NODE *w, int depth, STRBUF *out)
{
    size_t  i;
    int     any = 0;

    for (i = 0; i < w->nkids; i++)
	if (!userfile_omitted(&w->kids[i])) {
	    if (w->blank && any++)
		sb_putc(out, '\n');
	    userfile_emit_kid(&w->kids[i], depth, out);
	}
}

/* userfile_emit_value - a value in the canonical layout; a group's members at depth + 1 */
void    userfile_emit_value(const UF_NODE *w, int depth, STRBUF *out)
{
    size_t  i;

    if (w->type == CFGT_STRING)
	quoted(out, w->value);
    else if (w->type == CFGT_SCALAR)
	sb_puts(out, w->value);
    else if (w->type == CFGT_ARRAY) {
	sb_puts(out, w->nkids ? "[ " : "[");
	for (i = 0; i < w->nkids; i++) {
	    if (i)
		sb_puts(out, ", ");
	    userfile_emit_value(&w->kids[i], depth, out);
	}
	sb_puts(out, w->nkids ? " ]" : "]");
    } else {
	sb_puts(out, "{\n");
	emit_kids(w, depth + 1, out);
	indent(out, depth);
	sb_putc(out, '}');
    }
}

/* userfile_emit_kid - NAME = VALUE; on lines of its own, indented for depth */
void    userfile_emit_kid(const UF_NODE *w, int depth, STRBUF *out)
{
    indent(out, depth);
    sb_printf(out, "%s = ", w->name);
    userfile_emit_value(w, depth, out);
    sb_puts(out, ";\n");
}

/* userfile_format - the canonical text of a user's file, after header */
void    userfile_format(const USER *u, const char *header, STRBUF *out)
{
    UF_NODE root;

    if (header && *header)
	sb_printf(out, "%s\n", header);
    userfile_tree(u, NULL, NULL, &root);
    emit_kids(&root, 0, out);
    userfile_tree_free(&root);
}

/*
 * userfile_header - the comment lines (#, //) and blank lines at the top
 * of a text, without the blank lines that end them
 */
void    userfile_header(const char *text, STRBUF *header)
{
    const char *p, *nl;
    size_t  keep = 0;

    for (p = text; *p; p = nl + 1) {
	size_t  skip = strspn(p, " \t");

	if (p[skip] != '#' && strncmp(p + skip, "//", 2) != 0 && p[skip] != '\n')
	    break;
	if ((nl = strchr(p, '\n')) == NULL)
	    break;
	if (p[skip] != '\n')
	    keep = (size_t) (nl + 1 - text);
    }
    sb_putn(header, text, keep);
}

/* sync_dir - flush a directory, so that a rename in it is on disk */
static int sync_dir(const char *path)
{
    char   *copy = xstrdup(path);
    int     fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = -1;

    if (fd >= 0) {
	rc = fsync(fd);
	close(fd);
    }
    free(copy);
    return (rc);
}

/* userfile_write - replace path with text atomically; mode as before, or 0644 */
int     userfile_write(const char *path, const STRBUF *text, STRBUF *why)
{
    STRBUF  tmp = STRBUF_INIT;
    struct stat st;
    mode_t  mode = stat(path, &st) == 0 ? (st.st_mode & 0777) : 0644;
    char   *dcopy = xstrdup(path), *bcopy = xstrdup(path);
    int     fd, ok;

    sb_printf(&tmp, "%s/.%s.XXXXXX", dirname(dcopy), basename(bcopy));
    free(dcopy), free(bcopy);
    if ((fd = mkstemp(tmp.s)) < 0) {
	sb_printf(why, "cannot create a file next to %s: %s", path, strerror(errno));
	sb_free(&tmp);
	return (-1);
    }
    ok = write(fd, text->s, text->len) == (ssize_t) text->len && fchmod(fd, mode) == 0
	&& fsync(fd) == 0;
    if (close(fd) < 0 || !ok || rename(tmp.s, path) < 0 || sync_dir(path) < 0) {
	sb_printf(why, "cannot write %s: %s", path, strerror(errno));
	(void) unlink(tmp.s);
	sb_free(&tmp);
	return (-1);
    }
    sb_free(&tmp);
    return (0);
}
