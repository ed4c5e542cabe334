/*
 * strutil.h - locale-independent string helpers.
 *
 * Mail and rule names are compared ASCII case-insensitively whatever the
 * locale says; these helpers never consult the C library's locale tables.
 */
#ifndef CRIER_STRUTIL_H
#define CRIER_STRUTIL_H

#include <stddef.h>

int     str_casecmp(const char *a, const char *b);
int     str_ncasecmp(const char *a, const char *b, size_t n);
char   *str_lower(char *s);
char   *str_field_name(const char *name);
char   *str_trim(char *s);
int     str_utf8_valid(const char *s, size_t len);
int     str_has_ctl(const char *s);
int     str_casestr(const char *hay, const char *needle);

#endif
