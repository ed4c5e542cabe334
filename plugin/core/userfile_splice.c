/*
 * userfile_splice.c - change a user's file only where its settings change.
 *
 * The old text is read for where each setting is (cfgtext.c) and compared
 * with the tree of what the file must say (userfile.c): a value that
 * differs is replaced, a setting or array element that is gone is cut out,
 * a new one is written in the canonical layout at its place in the
 * canonical order, and a renamed notification gets its new name where it
 * stands. Every other byte stays, so people's comments stay, by these
 * rules:
 *
 *   - The comment lines directly above a setting (no blank line between)
 *     are its own: they go when it goes, and stay with it when it changes.
 *     A setting added gets none (a clone is a new notification).
 *   - Every other comment stays where it is; so does a custom group or a
 *     muted list left empty when comments hold it (above it or inside it).
 *
 * The result is a list of edits on the old text, applied in one pass; edits
 * that would overlap are refused (-1), and the caller writes the whole
 * canonical file instead.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "strutil.h"
#include "userfile.h"

typedef struct edit {
    size_t  at;				/* replace text[at, end) ... */
    size_t  end;
    char   *text;			/* ... with this (NULL: cut) */
    size_t  seq;			/* order of the edits at one place */
} EDIT;

typedef struct splice {
    const char *s;
    size_t  len;
    EDIT   *e;
    size_t  n;
} SPLICE;

static void edit(SPLICE *sp, size_t at, size_t end, STRBUF *text)
{
    EDIT   *e;

    sp->e = xrealloc(sp->e, (sp->n + 1) * sizeof(EDIT));
    e = &sp->e[sp->n];
    e->at = at;
    e->end = end;
    e->text = text ? sb_steal(text) : NULL;
    e->seq = sp->n++;
}

static void insert(SPLICE *sp, size_t at, STRBUF *text)
{
    edit(sp, at, at, text);
}

static size_t line_start(const SPLICE *sp, size_t pos)
{
    while (pos > 0 && sp->s[pos - 1] != '\n')
	pos--;
    return (pos);
}

/* line_end - after the newline that ends pos's line (the end of the text if none) */
static size_t line_end(const SPLICE *sp, size_t pos)
{
    const char *nl = memchr(sp->s + pos, '\n', sp->len - pos);

    return (nl ? (size_t) (nl - sp->s) + 1 : sp->len);
}

static size_t spaces_after(const SPLICE *sp, size_t pos)
{
    while (pos < sp->len && (sp->s[pos] == ' ' || sp->s[pos] == '\t'))
	pos++;
    return (pos);
}

/* blank_from - the line that starts at pos is empty or white space */
static int blank_from(const SPLICE *sp, size_t pos)
{
    pos = spaces_after(sp, pos);
    return (pos < sp->len && (sp->s[pos] == '\n' || sp->s[pos] == '\r'));
}

static int begins_line(const SPLICE *sp, const CFGT_NODE *t)
{
    return (spaces_after(sp, line_start(sp, t->start)) == t->start);
}

/* ends_line - after t, only white space and perhaps a # or // comment on its line */
static int ends_line(const SPLICE *sp, const CFGT_NODE *t)
{
    size_t  p = spaces_after(sp, t->end);

    return (p >= sp->len || sp->s[p] == '\n' || sp->s[p] == '\r' || sp->s[p] == '#'
	    || (sp->s[p] == '/' && p + 1 < sp->len && sp->s[p + 1] == '/'));
}

/* comments_above - the start of the comment lines directly above t's line */
static size_t comments_above(const SPLICE *sp, const CFGT_NODE *t)
{
    size_t  ls = line_start(sp, t->start), prev, p;

    while (ls > 0) {
	prev = line_start(sp, ls - 1);
	p = spaces_after(sp, prev);
	if (sp->s[p] != '#' && strncmp(sp->s + p, "//", 2) != 0)
	    break;
	ls = prev;
    }
    return (ls);
}

/* extent - t with its own comments and lines, or t alone when it shares its line */
static void extent(const SPLICE *sp, const CFGT_NODE *t, size_t *from, size_t *to)
{
    if (begins_line(sp, t) && ends_line(sp, t)) {
	*from = comments_above(sp, t);
	*to = line_end(sp, t->end);
    } else {
	*from = t->start;
	*to = spaces_after(sp, t->end);
    }
}

/* drop - cut t out; in a group whose members have blank lines between, one of those too */
static void drop(SPLICE *sp, const CFGT_NODE *t, int blank)
{
    size_t  from, to;

    extent(sp, t, &from, &to);
    if (blank && begins_line(sp, t) && ends_line(sp, t)) {
	if (from > 0 && blank_from(sp, line_start(sp, from - 1)))
	    from = line_start(sp, from - 1);
	else if (blank_from(sp, to))
	    to = line_end(sp, to);
    }
    edit(sp, from, to, NULL);
}

/* has_comment - a comment in text[from, to), which holds no strings */
static int has_comment(const SPLICE *sp, size_t from, size_t to)
{
    for (; from < to; from++)
	if (sp->s[from] == '#' || sp->s[from] == '/')
	    return (1);
    return (0);
}

/* held - comments above t, or inside it outside its members' own */
static int held(const SPLICE *sp, const CFGT_NODE *t)
{
    size_t  i, p = t->vstart + 1, from, to;

    if (comments_above(sp, t) < line_start(sp, t->start))
	return (1);
    for (i = 0; i < t->nkids; i++) {
	extent(sp, &t->kids[i], &from, &to);
	if (has_comment(sp, p, from))
	    return (1);
	p = to;
    }
    return (has_comment(sp, p, t->vend - 1));
}

static int same_value(const CFGT_NODE *t, const UF_NODE *w)
{
    return (t->type == w->type && t->value
	    && (w->type == CFGT_STRING ? strcmp(t->value, w->value) == 0
		: str_casecmp(t->value, w->value) == 0));
}

static void replace_value(SPLICE *sp, const CFGT_NODE *t, const UF_NODE *w, int depth)
{
    STRBUF  v = STRBUF_INIT;

    userfile_emit_value(w, depth, &v);
    edit(sp, t->vstart, t->vend, &v);
}

static void merge_group(SPLICE *sp, const CFGT_NODE *t, const UF_NODE *w, int depth);

/*
 * merge_array - the elements of t made those of w: the ones gone cut out,
 * new ones added before the first kept one that sorts after them (or after
 * the last kept one); no element kept: the array written anew.
 */
static void merge_array(SPLICE *sp, const CFGT_NODE *t, const UF_NODE *w, int depth)
{
    size_t *at = xcalloc(w->nkids + 1, sizeof(size_t)), i, j, last = 0;
    char   *used = xcalloc(t->nkids + 1, 1);
    STRBUF  v = STRBUF_INIT;

    for (j = 0; j < w->nkids; j++)
	for (i = 0; i < t->nkids && !at[j]; i++)
	    if (!used[i] && same_value(&t->kids[i], &w->kids[j]))
		used[i] = 1, at[j] = i + 1, last = last > i + 1 ? last : i + 1;
    if (last == 0 && w->nkids > 0)
	replace_value(sp, t, w, depth);
    for (i = 0; i < t->nkids && (last || w->nkids == 0); i++)
	if (!used[i])
	    drop(sp, &t->kids[i], 0);
    if (last && last < t->nkids && t->kids[last - 1].end > t->kids[last - 1].vend)
	edit(sp, t->kids[last - 1].vend, t->kids[last - 1].end, NULL);	/* its ',' */
    for (j = 0; j < w->nkids && last; j++) {
	if (at[j])
	    continue;
	for (i = j + 1; i < w->nkids && !at[i]; i++)
	     /* the next kept element */ ;
	if (i < w->nkids)
	    userfile_emit_value(&w->kids[j], depth, &v), sb_puts(&v, ", ");
	else
	    sb_puts(&v, ", "), userfile_emit_value(&w->kids[j], depth, &v);
	insert(sp, i < w->nkids ? t->kids[at[i] - 1].start : t->kids[last - 1].vend, &v);
    }
    free(at), free(used);
}

/* merge_kid - text member t made what w says; blank: its group's layout */
static void merge_kid(SPLICE *sp, const CFGT_NODE *t, const UF_NODE *w, int depth, int blank)
{
    STRBUF  name = STRBUF_INIT;

    if (userfile_omitted(w)) {		/* a false flag, an emptied group or array */
	if (w->type == CFGT_SCALAR ? !same_value(t, w) : t->type != w->type || !held(sp, t))
	    drop(sp, t, blank);
	else if (w->type == CFGT_GROUP)
	    merge_group(sp, t, w, depth + 1);
	else if (w->type == CFGT_ARRAY)
	    merge_array(sp, t, w, depth);
	return;
    }
    if (w->was && strcmp(t->name, w->name) != 0) {
	sb_puts(&name, w->name);
	edit(sp, t->start, t->start + strlen(t->name), &name);
    }
    if (t->type != w->type || (w->type != CFGT_GROUP && w->type != CFGT_ARRAY
			       && !same_value(t, w)))
	replace_value(sp, t, w, depth);
    else if (w->type == CFGT_GROUP)
	merge_group(sp, t, w, depth + 1);
    else if (w->type == CFGT_ARRAY)
	merge_array(sp, t, w, depth);
}

/*
 * insert_kid - member j of w, which the text lacks: after the member before
 * it in the canonical order that the text has, else before the next such,
 * else as the last of group t.
 */
static void insert_kid(SPLICE *sp, const CFGT_NODE *t, const UF_NODE *w, size_t j,
		               const size_t *at, int depth)
{
    STRBUF  v = STRBUF_INIT;
    const CFGT_NODE *k;
    size_t  i, pos;

    for (i = j; i > 0 && !at[i - 1]; i--)
	 /* the member before */ ;
    if (i > 0 && ends_line(sp, k = &t->kids[at[i - 1] - 1])) {
	pos = line_end(sp, k->end);
	sb_puts(&v, pos == sp->len && sp->s[pos - 1] != '\n' ? "\n" : "");
	sb_puts(&v, w->blank ? "\n" : "");
	userfile_emit_kid(&w->kids[j], depth, &v);
    } else if (i > 0) {
	pos = k->end;
	sb_putc(&v, '\n');
	userfile_emit_kid(&w->kids[j], depth, &v);
	v.s[--v.len] = 0;
    } else {
	for (i = j + 1; i < w->nkids && !at[i]; i++)
	     /* the member after */ ;
	k = i < w->nkids ? &t->kids[at[i] - 1] : NULL;
	pos = k ? comments_above(sp, k) : line_start(sp, t->vend - 1);
	if ((k && !begins_line(sp, k)) || (!k && spaces_after(sp, pos) != t->vend - 1))
	    pos = k ? k->start : t->vend - 1, sb_putc(&v, '\n');
	userfile_emit_kid(&w->kids[j], depth, &v);
	if (k && w->blank)
	    sb_putc(&v, '\n');
    }
    insert(sp, pos, &v);
}

/* merge_group - the members of t made those of w (depth: theirs) */
static void merge_group(SPLICE *sp, const CFGT_NODE *t, const UF_NODE *w, int depth)
{
    size_t *at = xcalloc(w->nkids + 1, sizeof(size_t)), i, j;
    char   *used = xcalloc(t->nkids + 1, 1);

    for (j = 0; j < w->nkids; j++)
	for (i = 0; i < t->nkids && !at[j]; i++)
	    if (!used[i] && strcmp(t->kids[i].name, w->kids[j].was ? w->kids[j].was
				   : w->kids[j].name) == 0)
		used[i] = 1, at[j] = i + 1;
    for (i = 0; i < t->nkids; i++)
	if (!used[i] && !w->others)
	    drop(sp, &t->kids[i], w->blank);
    for (j = 0; j < w->nkids; j++)
	if (at[j])
	    merge_kid(sp, &t->kids[at[j] - 1], &w->kids[j], depth, w->blank);
	else if (!userfile_omitted(&w->kids[j]))
	    insert_kid(sp, t, w, j, at, depth);
    free(at), free(used);
}

static int edit_cmp(const void *a, const void *b)
{
    const EDIT *x = a, *y = b;

    if (x->at != y->at)
	return (x->at < y->at ? -1 : 1);
    if ((x->end > x->at) != (y->end > y->at))
	return (x->end > x->at ? 1 : -1);	/* an insertion before a cut there */
    return (x->seq < y->seq ? -1 : x->seq > y->seq);
}

/* apply - the edits on the text, into out; -1 when two overlap (cuts may) */
static int apply(SPLICE *sp, STRBUF *out)
{
    size_t  pos = 0, i;

    xsort(sp->e, sp->n, sizeof(EDIT), edit_cmp);
    for (i = 0; i < sp->n; i++) {
	EDIT   *e = &sp->e[i];

	if (e->at < pos && e->text)
	    return (-1);
	if (e->at >= pos) {
	    sb_putn(out, sp->s + pos, e->at - pos);
	    if (e->text)
		sb_puts(out, e->text);
	}
	pos = e->end > pos ? e->end : pos;
    }
    sb_putn(out, sp->s + pos, sp->len - pos);
    return (0);
}

/*
 * userfile_splice - the text (len bytes, NUL-terminated) changed to say
 * what root says, into out; -1 with why when that cannot be done here.
 */
int     userfile_splice(const char *text, size_t len, const UF_NODE *root, STRBUF *out,
			        STRBUF *why)
{
    SPLICE  sp = {text, len, NULL, 0};
    CFGT_NODE t;
    size_t  i;
    int     rc = -1;

    if (cfgtext_parse(text, len, &t, why) < 0)
	return (-1);
    merge_group(&sp, &t, root, 0);
    if ((rc = apply(&sp, out)) < 0)
	sb_puts(why, "changes that overlap");
    for (i = 0; i < sp.n; i++)
	free(sp.e[i].text);
    free(sp.e);
    cfgtext_free(&t);
    return (rc);
}
