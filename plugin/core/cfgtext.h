/*
 * cfgtext.h - where each setting of a libconfig text is, byte by byte.
 *
 * libconfig reads a file into values and forgets its comments and layout;
 * it knows the line of a setting's name, not where the setting ends. A
 * change that must leave everything else of a file as people wrote it
 * (userfile.c) needs both ends of each setting and of its value, so this
 * scanner reads the text again for them. It reads only text that libconfig
 * has accepted already, and refuses (-1) what it does not follow rather
 * than guess: the caller then writes the file whole.
 */
#ifndef CRIER_CFGTEXT_H
#define CRIER_CFGTEXT_H

#include <stddef.h>

#include "strbuf.h"

#define CFGT_SCALAR	1		/* a number or a boolean, as written */
#define CFGT_STRING	2		/* "..." (adjacent strings joined), decoded */
#define CFGT_GROUP	3		/* { settings } */
#define CFGT_ARRAY	4		/* [ values ] or ( values ) */

typedef struct cfgt_node {
    char   *name;			/* NULL: an element of an array */
    int     type;
    char   *value;			/* scalar or decoded string; else NULL */
    size_t  start;			/* the name, or an element's value */
    size_t  vstart;			/* the value: first byte ... */
    size_t  vend;			/* ... and after its last ('}', ']' included) */
    size_t  end;			/* after the ';' or ',' that ends it, or vend */
    struct cfgt_node *kids;		/* group: settings; array: elements */
    size_t  nkids;
} CFGT_NODE;

int     cfgtext_parse(const char *text, size_t len, CFGT_NODE *root, STRBUF *why);
void    cfgtext_free(CFGT_NODE *root);

#endif
