/*
 * strutil.c - locale-independent string helpers (see strutil.h).
 */
#include "config.h"

#include <string.h>

#include "mem.h"
#include "strutil.h"

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

int     str_ncasecmp(const char *a, const char *b, size_t n)
{
    for (; n > 0; a++, b++, n--) {
	int     d = lower((unsigned char) *a) - lower((unsigned char) *b);

	if (d != 0 || *a == 0)
	    return (d);
    }
    return (0);
}

int     str_casecmp(const char *a, const char *b)
{
    return (str_ncasecmp(a, b, (size_t) -1));
}

/* str_lower - ASCII lower-case in place; returns its argument */
char   *str_lower(char *s)
{
    char   *p;

    for (p = s; *p; p++)
	*p = (char) lower((unsigned char) *p);
    return (s);
}

/*
 * str_field_name - the rules.d name of a mail field: lower case, with '-'
 * turned into '_' ("Source-Type" is the filter "source_type"). The result is
 * allocated.
 */
char   *str_field_name(const char *name)
{
    char   *s = str_lower(xstrdup(name));
    char   *p;

    for (p = s; *p; p++)
	if (*p == '-')
	    *p = '_';
    return (s);
}

/* str_trim - strip leading and trailing white space in place */
char   *str_trim(char *s)
{
    char   *end;

    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
	s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'
		       || end[-1] == '\r' || end[-1] == '\n'))
	*--end = 0;
    return (s);
}

/* str_has_ctl - true when s holds an ASCII control character (or DEL) */
int     str_has_ctl(const char *s)
{
    for (; *s; s++)
	if ((unsigned char) *s < 0x20 || *s == 0x7f)
	    return (1);
    return (0);
}

/*
 * str_utf8_valid - true when s[0..len) is well-formed UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF) without NUL bytes.
 */
int     str_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *) s;
    const unsigned char *end = p + len;

    while (p < end) {
	unsigned c = *p++;
	unsigned need, min, cp;

	if (c == 0)
	    return (0);
	if (c < 0x80)
	    continue;
	if (c >= 0xc2 && c <= 0xdf)
	    need = 1, min = 0x80, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
	    need = 2, min = 0x800, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
	    need = 3, min = 0x10000, cp = c & 0x07;
	else
	    return (0);
	if ((size_t) (end - p) < need)
	    return (0);
	while (need-- > 0) {
	    if ((*p & 0xc0) != 0x80)
		return (0);
	    cp = (cp << 6) | (*p++ & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
	    return (0);
    }
    return (1);
}

/* str_casestr - ASCII case-insensitive substring test */
int     str_casestr(const char *hay, const char *needle)
{
    size_t  n = strlen(needle);

    for (; *hay; hay++)
	if (str_ncasecmp(hay, needle, n) == 0)
	    return (1);
    return (n == 0);
}
