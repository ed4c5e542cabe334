/*
 * strv.c - a growable array of owned strings (see strv.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "strutil.h"
#include "strv.h"

/* strv_take - append s, which the array now owns */
void    strv_take(STRV *sv, char *s)
{
    if (sv->len + 1 >= sv->cap) {
	sv->cap = sv->cap ? sv->cap * 2 : 4;
	sv->v = xrealloc(sv->v, sv->cap * sizeof(char *));
    }
    sv->v[sv->len++] = s;
    sv->v[sv->len] = NULL;
}

void    strv_add(STRV *sv, const char *s)
{
    strv_take(sv, xstrdup(s));
}

void    strv_free(STRV *sv)
{
    size_t  i;

    for (i = 0; i < sv->len; i++)
	free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->len = sv->cap = 0;
}

/* strv_find_case - index of s (ASCII case-insensitive), or -1 */
int     strv_find_case(const STRV *sv, const char *s)
{
    size_t  i;

    for (i = 0; i < sv->len; i++)
	if (str_casecmp(sv->v[i], s) == 0)
	    return ((int) i);
    return (-1);
}

static int strv_cmp(const void *a, const void *b)
{
    return (strcmp(*(char *const *) a, *(char *const *) b));
}

void    strv_sort(STRV *sv)
{
    xsort(sv->v, sv->len, sizeof(char *), strv_cmp);
}
