/*
 * diag.c - collected diagnostics (see diag.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "mem.h"
#include "strbuf.h"

typedef struct diag_line {
    char   *text;			/* formatted */
    char   *file;			/* for sorting */
    int     line;
    size_t  seq;			/* order of arrival, to keep ties stable */
    int     warning;
} DIAG_LINE;

struct diag {
    DIAG_LINE *lines;
    size_t  count;
    size_t  cap;
    int     errors;
    int     warnings;
};

DIAG   *diag_create(void)
{
    return (xcalloc(1, sizeof(DIAG)));
}

void    diag_free(DIAG *d)
{
    size_t  i;

    if (d == NULL)
	return;
    for (i = 0; i < d->count; i++) {
	free(d->lines[i].text);
	free(d->lines[i].file);
    }
    free(d->lines);
    free(d);
}

static void diag_add(DIAG *d, const char *file, int line, const char *kind,
		             const char *fmt, va_list ap)
{
    STRBUF  sb = STRBUF_INIT;

    if (file && line > 0)
	sb_printf(&sb, "%s:%d: ", file, line);
    else if (file)
	sb_printf(&sb, "%s: ", file);
    sb_puts(&sb, kind);
    sb_vprintf(&sb, fmt, ap);
    if (d->count == d->cap) {
	d->cap = d->cap ? d->cap * 2 : 16;
	d->lines = xrealloc(d->lines, d->cap * sizeof(DIAG_LINE));
    }
    d->lines[d->count].text = sb_steal(&sb);
    d->lines[d->count].file = xstrdup(file ? file : "");
    d->lines[d->count].line = line;
    d->lines[d->count].seq = d->count;
    d->lines[d->count].warning = *kind != 0;
    d->count++;
}

void    diag_error(DIAG *d, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    diag_add(d, file, line, "", fmt, ap);
    va_end(ap);
    d->errors++;
}

void    diag_warning(DIAG *d, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    diag_add(d, file, line, "warning: ", fmt, ap);
    va_end(ap);
    d->warnings++;
}

int     diag_errors(const DIAG *d)
{
    return (d->errors);
}

int     diag_warnings(const DIAG *d)
{
    return (d->warnings);
}

static int line_cmp(const void *a, const void *b)
{
    const DIAG_LINE *x = a, *y = b;
    int     c = strcmp(x->file, y->file);

    if (c == 0)
	c = (x->line > y->line) - (x->line < y->line);
    return (c ? c : (x->seq > y->seq) - (x->seq < y->seq));
}

static void print_lines(DIAG *d, FILE *fp, int warnings)
{
    size_t  i;

    xsort(d->lines, d->count, sizeof(DIAG_LINE), line_cmp);
    for (i = 0; i < d->count; i++)
	if (warnings || !d->lines[i].warning)
	    fprintf(fp, "%s\n", d->lines[i].text);
}

/* diag_print - every line, sorted by file and line, so a reader can go down a file */
void    diag_print(DIAG *d, FILE *fp)
{
    print_lines(d, fp, 1);
}

/* diag_print_errors - the errors alone, in the same order */
void    diag_print_errors(DIAG *d, FILE *fp)
{
    print_lines(d, fp, 0);
}

/* diag_first - the first line recorded, for callers that show one reason */
const char *diag_first(const DIAG *d)
{
    return (d->count ? d->lines[0].text : "");
}
