/*
 * mem.c - allocation that never returns NULL (see mem.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

static void mem_fail(size_t len)
{
    fprintf(stderr, "crier: fatal: out of memory allocating %zu bytes\n", len);
    abort();
}

void *xmalloc(size_t len)
{
    void *p = malloc(len ? len : 1);

    if (p == NULL)
	mem_fail(len);
    return (p);
}

void *xcalloc(size_t n, size_t len)
{
    void *p = calloc(n ? n : 1, len ? len : 1);

    if (p == NULL)
	mem_fail(n * len);
    return (p);
}

void *xrealloc(void *ptr, size_t len)
{
    void *p = realloc(ptr, len ? len : 1);

    if (p == NULL)
	mem_fail(len);
    return (p);
}

char *xstrndup(const char *s, size_t len)
{
    char *p = xmalloc(len + 1);

    memcpy(p, s, len);
    p[len] = 0;
    return (p);
}

char *xstrdup(const char *s)
{
    return (xstrndup(s, strlen(s)));
}

/* xsort - qsort(), for arrays that may be empty and NULL */
void    xsort(void *base, size_t n, size_t size, int (*cmp) (const void *, const void *))
{
    if (n > 1)
	qsort(base, n, size, cmp);
}
