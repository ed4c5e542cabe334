/*
 * userfile.h - a user's file in rules.d/users/, as crier writes it.
 *
 * A user's settings become a tree of what the file must say (UF_NODE), in
 * the canonical order: the user block, the custom notifications by name
 * (conditions by filter, values sorted), the muted defaults sorted. From
 * the tree, userfile_emit() writes the canonical text (the same settings
 * always give the same bytes), and userfile_splice() changes an existing
 * text only where it says something else, so that what people wrote
 * (comments, their layout) stays. userfile_write() replaces the file
 * atomically.
 */
#ifndef CRIER_USERFILE_H
#define CRIER_USERFILE_H

#include "cfgtext.h"
#include "rules.h"
#include "strbuf.h"

typedef struct uf_node {
    const char *name;			/* NULL: an element of an array */
    const char *was;			/* renamed: its name in the old text */
    int     type;			/* CFGT_* */
    const char *value;			/* a string, or a scalar as written */
    int     omit;			/* not written when empty (a group, an
					 * array) or when value is "false" */
    int     blank;			/* a blank line between its members */
    int     others;			/* members the tree does not name stay */
    struct uf_node *kids;
    size_t  nkids;
} UF_NODE;

void    userfile_tree(const USER *u, const char *was, const char *now, UF_NODE *root);
void    userfile_tree_free(UF_NODE *root);
int     userfile_omitted(const UF_NODE *w);
void    userfile_emit_value(const UF_NODE *w, int depth, STRBUF *out);
void    userfile_emit_kid(const UF_NODE *w, int depth, STRBUF *out);
void    userfile_format(const USER *u, const char *header, STRBUF *out);
void    userfile_header(const char *text, STRBUF *header);
int     userfile_write(const char *path, const STRBUF *text, STRBUF *why);

/* userfile_splice.c */
int     userfile_splice(const char *text, size_t len, const UF_NODE *root, STRBUF *out,
			        STRBUF *why);

#endif
