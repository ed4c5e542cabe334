/*
 * cfgtext.c - the byte ranges of a libconfig text's settings (cfgtext.h).
 *
 * A small recursive-descent reader of libconfig 1.5's grammar: settings
 * NAME = VALUE or NAME : VALUE, each ended by ';', ',' or nothing; groups,
 * arrays and lists; strings with escapes, adjacent strings joined; numbers
 * and booleans kept as written; # and // comments to the end of the line,
 * C comments. @include is refused: nothing crier writes uses it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cfgtext.h"
#include "mem.h"

#define CFGT_MAX_DEPTH	32

typedef struct scan {
    const char *s;
    size_t  len;
    size_t  pos;
    STRBUF *why;
} SCAN;

/* fail - what is wrong, and on which line */
static int fail(SCAN *sc, const char *what)
{
    size_t  i, line = 1;

    for (i = 0; i < sc->pos && i < sc->len; i++)
	line += sc->s[i] == '\n';
    sb_printf(sc->why, "line %zu: %s", line, what);
    return (-1);
}

/* skip - white space and comments */
static void skip(SCAN *sc)
{
    const char *s = sc->s;

    while (sc->pos < sc->len) {
	if (strchr(" \t\r\n\f\v", s[sc->pos]))
	    sc->pos++;
	else if (s[sc->pos] == '#' || (s[sc->pos] == '/' && s[sc->pos + 1] == '/'))
	    while (sc->pos < sc->len && s[sc->pos] != '\n')
		sc->pos++;
	else if (s[sc->pos] == '/' && s[sc->pos + 1] == '*') {
	    const char *e = strstr(s + sc->pos + 2, "*/");

	    sc->pos = e ? (size_t) (e + 2 - s) : sc->len;
	} else
	    break;
    }
}

static CFGT_NODE *kid_add(CFGT_NODE *n)
{
    n->kids = xrealloc(n->kids, (n->nkids + 1) * sizeof(CFGT_NODE));
    memset(&n->kids[n->nkids], 0, sizeof(CFGT_NODE));
    return (&n->kids[n->nkids++]);
}

/* string_body - one "..." at pos, decoded onto out */
static int string_body(SCAN *sc, STRBUF *out)
{
    static const char esc[] = "\\\\\"\"f\fn\nr\rt\t";
    const char *s = sc->s, *e;

    for (sc->pos++; sc->pos < sc->len && s[sc->pos] != '"'; sc->pos++) {
	if (s[sc->pos] != '\\') {
	    sb_putc(out, s[sc->pos]);
	} else if (s[sc->pos + 1] == 'x' && sc->pos + 3 < sc->len) {
	    char    hex[3] = {s[sc->pos + 2], s[sc->pos + 3], 0};

	    sb_putc(out, (int) strtol(hex, NULL, 16));
	    sc->pos += 3;
	} else if (s[sc->pos + 1] && (e = strchr(esc, s[sc->pos + 1])) != NULL
		   && (e - esc) % 2 == 0) {
	    sb_putc(out, e[1]);
	    sc->pos++;
	} else
	    return (fail(sc, "unknown escape in a string"));
    }
    if (sc->pos >= sc->len)
	return (fail(sc, "string not closed"));
    sc->pos++;
    return (0);
}

/* string - "a" "b" ... as one value; vend after the last quote */
static int string(SCAN *sc, CFGT_NODE *n)
{
    STRBUF  v = STRBUF_INIT;
    size_t  after;

    n->type = CFGT_STRING;
    do {
	if (string_body(sc, &v) < 0) {
	    sb_free(&v);
	    return (-1);
	}
	n->vend = after = sc->pos;
	skip(sc);
    } while (sc->pos < sc->len && sc->s[sc->pos] == '"');
    sc->pos = after;
    sb_putc(&v, 0);			/* an empty string is "", not NULL */
    v.len--;
    n->value = sb_steal(&v);
    return (0);
}

static int value(SCAN *sc, CFGT_NODE *n, int depth);

/* terminator - a ';' or ',' after n's value, if any, into n->end */
static void terminator(SCAN *sc, CFGT_NODE *n)
{
    size_t  save = sc->pos;

    n->end = n->vend;
    skip(sc);
    if (sc->pos < sc->len && (sc->s[sc->pos] == ';' || sc->s[sc->pos] == ','))
	n->end = ++sc->pos;
    else
	sc->pos = save;
}

/* settings - NAME = VALUE ... up to close (or the end of the text when 0) */
static int settings(SCAN *sc, CFGT_NODE *g, int close, int depth)
{
    static const char first[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ*";
    static const char rest[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "0123456789_-*";
    const char *s = sc->s;
    CFGT_NODE *k;
    size_t  n;

    for (skip(sc); sc->pos < sc->len && s[sc->pos] != close; skip(sc)) {
	if (strspn(s + sc->pos, first) == 0)
	    return (fail(sc, "a setting's name expected"));
	k = kid_add(g);
	k->start = sc->pos;
	n = strspn(s + sc->pos, rest);
	k->name = xstrndup(s + sc->pos, n);
	sc->pos += n;
	skip(sc);
	if (sc->pos >= sc->len || (s[sc->pos] != '=' && s[sc->pos] != ':'))
	    return (fail(sc, "'=' expected"));
	sc->pos++;
	skip(sc);
	if (value(sc, k, depth + 1) < 0)
	    return (-1);
	terminator(sc, k);
    }
    return (close && sc->pos >= sc->len ? fail(sc, "group not closed") : 0);
}

/* elements - VALUE, VALUE ... up to close */
static int elements(SCAN *sc, CFGT_NODE *a, int close, int depth)
{
    CFGT_NODE *k;

    for (skip(sc); sc->pos < sc->len && sc->s[sc->pos] != close; skip(sc)) {
	k = kid_add(a);
	k->start = sc->pos;
	if (value(sc, k, depth + 1) < 0)
	    return (-1);
	terminator(sc, k);
	if (k->end == k->vend && (skip(sc), sc->pos < sc->len && sc->s[sc->pos] != close))
	    return (fail(sc, "',' expected"));
    }
    return (sc->pos >= sc->len ? fail(sc, "array not closed") : 0);
}

/* value - a value at sc->pos, into n */
static int value(SCAN *sc, CFGT_NODE *n, int depth)
{
    int     c = sc->pos < sc->len ? sc->s[sc->pos] : 0, rc;
    size_t  len;

    n->vstart = sc->pos;
    if (depth > CFGT_MAX_DEPTH)
	return (fail(sc, "nested too deep"));
    if (c == '"')
	return (string(sc, n));
    if (c == '{' || c == '[' || c == '(') {
	n->type = c == '{' ? CFGT_GROUP : CFGT_ARRAY;
	sc->pos++;
	rc = c == '{' ? settings(sc, n, '}', depth) : elements(sc, n, c == '[' ? ']' : ')', depth);
	if (rc == 0)
	    n->vend = ++sc->pos;
	return (rc);
    }
    len = strcspn(sc->s + sc->pos, " \t\r\n\f\v;,]})#/\"");
    if (len == 0)
	return (fail(sc, "a value expected"));
    n->type = CFGT_SCALAR;
    n->value = xstrndup(sc->s + sc->pos, len);
    n->vend = sc->pos += len;
    return (0);
}

/*
 * cfgtext_parse - the settings of text (len bytes, NUL-terminated) as the
 * kids of root; -1 with why for what the scanner does not follow.
 */
int     cfgtext_parse(const char *text, size_t len, CFGT_NODE *root, STRBUF *why)
{
    SCAN    sc = {text, len, 0, why};

    memset(root, 0, sizeof(*root));
    root->type = CFGT_GROUP;
    root->vend = root->end = len;
    if (settings(&sc, root, 0, 0) < 0) {
	cfgtext_free(root);
	return (-1);
    }
    return (0);
}

void    cfgtext_free(CFGT_NODE *n)
{
    size_t  i;

    for (i = 0; i < n->nkids; i++)
	cfgtext_free(&n->kids[i]);
    free(n->kids);
    free(n->name);
    free(n->value);
    memset(n, 0, sizeof(*n));
}
