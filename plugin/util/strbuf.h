/*
 * strbuf.h - growable, always NUL-terminated byte strings.
 *
 * The one string builder of the project (Postfix calls its own VSTRING):
 * rendering, packing of LMDB records and diagnostics all append here.
 */
#ifndef CRIER_STRBUF_H
#define CRIER_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct strbuf {
    char   *s;				/* contents, NUL-terminated */
    size_t  len;			/* bytes used, without the NUL */
    size_t  cap;			/* bytes allocated */
} STRBUF;

#define STRBUF_INIT { NULL, 0, 0 }

void    sb_reset(STRBUF *sb);
void    sb_free(STRBUF *sb);
void    sb_reserve(STRBUF *sb, size_t len);
void    sb_putn(STRBUF *sb, const void *data, size_t len);
void    sb_puts(STRBUF *sb, const char *s);
void    sb_putc(STRBUF *sb, int ch);
void    sb_printf(STRBUF *sb, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void    sb_vprintf(STRBUF *sb, const char *fmt, va_list ap);
const char *sb_str(STRBUF *sb);
int     sb_read_file(STRBUF *sb, const char *path, size_t max);
char   *sb_steal(STRBUF *sb);

#endif
