/*
 * diag.c - collected diagnostics (see diag.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>

#include "diag.h"
#include "mem.h"
#include "strbuf.h"

struct diag {
    char  **lines;			/* formatted, in order of arrival */
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
    for (i = 0; i < d->count; i++)
	free(d->lines[i]);
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
	d->lines = xrealloc(d->lines, d->cap * sizeof(char *));
    }
    d->lines[d->count++] = sb_steal(&sb);
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

void    diag_print(const DIAG *d, FILE *fp)
{
    size_t  i;

    for (i = 0; i < d->count; i++)
	fprintf(fp, "%s\n", d->lines[i]);
}

/* diag_first - the first line recorded, for callers that show one reason */
const char *diag_first(const DIAG *d)
{
    return (d->count ? d->lines[0] : "");
}
