/*
 * mem.h - allocation that never returns NULL.
 *
 * As in Postfix's mymalloc(), running out of memory is not an error a caller
 * can handle meaningfully: these wrappers print one line and abort.
 */
#ifndef CRIER_MEM_H
#define CRIER_MEM_H

#include <stddef.h>

void *xmalloc(size_t len);
void *xcalloc(size_t n, size_t len);
void *xrealloc(void *ptr, size_t len);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t len);
void  xsort(void *base, size_t n, size_t size, int (*cmp) (const void *, const void *));

#endif
