/*
 * strv.h - a growable array of owned strings.
 */
#ifndef CRIER_STRV_H
#define CRIER_STRV_H

#include <stddef.h>

typedef struct strv {
    char  **v;				/* NULL-terminated when len > 0 */
    size_t  len;
    size_t  cap;
} STRV;

#define STRV_INIT { NULL, 0, 0 }

void    strv_add(STRV *sv, const char *s);
void    strv_take(STRV *sv, char *s);
void    strv_free(STRV *sv);
int     strv_find_case(const STRV *sv, const char *s);
void    strv_sort(STRV *sv);

#endif
