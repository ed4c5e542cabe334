/*
 * strbuf.c - growable, always NUL-terminated byte strings (see strbuf.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "strbuf.h"

/*
 * sb_reserve - room for len more bytes plus the terminating NUL, so that
 * a builder that knows its size copies its bytes once, not at each doubling
 */
void    sb_reserve(STRBUF *sb, size_t len)
{
    size_t  want = sb->len + len + 1;

    if (want <= sb->cap)
	return;
    if (sb->cap == 0)
	sb->cap = 64;
    while (sb->cap < want)
	sb->cap *= 2;
    sb->s = xrealloc(sb->s, sb->cap);
}

void    sb_reset(STRBUF *sb)
{
    sb->len = 0;
    if (sb->s)
	sb->s[0] = 0;
}

void    sb_free(STRBUF *sb)
{
    free(sb->s);
    sb->s = NULL;
    sb->len = sb->cap = 0;
}

void    sb_putn(STRBUF *sb, const void *data, size_t len)
{
    sb_reserve(sb, len);
    if (len)
	memcpy(sb->s + sb->len, data, len);
    sb->len += len;
    sb->s[sb->len] = 0;
}

void    sb_puts(STRBUF *sb, const char *s)
{
    sb_putn(sb, s, strlen(s));
}

void    sb_putc(STRBUF *sb, int ch)
{
    char    c = (char) ch;

    sb_putn(sb, &c, 1);
}

void    sb_vprintf(STRBUF *sb, const char *fmt, va_list ap)
{
    va_list ap2;
    int     n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
	return;
    sb_reserve(sb, (size_t) n);
    vsnprintf(sb->s + sb->len, (size_t) n + 1, fmt, ap);
    sb->len += (size_t) n;
}

void    sb_printf(STRBUF *sb, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    sb_vprintf(sb, fmt, ap);
    va_end(ap);
}

/* sb_str - the contents, "" for a buffer never written */
const char *sb_str(STRBUF *sb)
{
    return (sb->s ? sb->s : "");
}

/* sb_steal - hand the contents to the caller and leave the buffer empty */
char   *sb_steal(STRBUF *sb)
{
    char   *s = sb->s ? sb->s : xstrdup("");

    sb->s = NULL;
    sb->len = sb->cap = 0;
    return (s);
}

/*
 * sb_read_file - append a whole file ("-": standard input). Returns 0, -1
 * with errno when it cannot be read, or 1 when it holds more than max
 * bytes (max 0: no limit).
 */
int     sb_read_file(STRBUF *sb, const char *path, size_t max)
{
    FILE   *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    size_t  start = sb->len, n;
    char    buf[65536];
    int     rc = 0, err;

    if (fp == NULL)
	return (-1);
    while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
	sb_putn(sb, buf, n);
	if (max && sb->len - start > max) {
	    rc = 1;
	    break;
	}
    }
    if (rc == 0 && ferror(fp))
	rc = -1;
    err = errno;
    if (fp != stdin)
	fclose(fp);
    errno = err;
    return (rc);
}
