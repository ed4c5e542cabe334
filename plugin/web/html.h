/*
 * html.h - the panel's HTML: escaping and the page frame.
 *
 * html_text() is the one function that puts user or rules data into a
 * page: every byte of a value from rules.d, an event, a form or a URL
 * goes through it, in text and in double-quoted attribute values alike.
 * Markup the code writes itself is appended with sb_puts(). html_url()
 * percent-encodes a value for a query string (its output then needs no
 * escaping). html_page_begin()/html_page_end() write the frame every page
 * shares: the stylesheet, the script, the header with the signed-in
 * address and the sign-out buttons.
 *
 * HTML_SHARED is a page rendered once for every session of a person: it
 * is rendered with an empty CSRF token, html_shared_make() notes where
 * each token goes, and html_shared_fill() writes it out with a session's.
 */
#ifndef CRIER_HTML_H
#define CRIER_HTML_H

#include "strbuf.h"

void    html_text(STRBUF *out, const char *s);
void    html_textn(STRBUF *out, const char *s, size_t len);
void    html_url(STRBUF *out, const char *s);

/* What the frame shows: the title, and who is signed in (NULL: nobody). */
typedef struct html_frame {
    const char *title;
    const char *user;			/* signed-in address, or NULL */
    const char *csrf;			/* the session's CSRF token, with user */
} HTML_FRAME;

void    html_page_begin(STRBUF *out, const HTML_FRAME *f);
void    html_page_end(STRBUF *out);
void    html_hidden(STRBUF *out, const char *name, const char *value);
void    html_button_form(STRBUF *out, const char *action, const char *csrf,
			         const char *name, const char *value, const char *label,
			         const char *cls);

typedef struct html_shared {
    STRBUF  html;			/* every CSRF field's value empty */
    size_t *holes;			/* offsets in html where the token goes */
    size_t  nholes;
} HTML_SHARED;

#define HTML_SHARED_INIT { STRBUF_INIT, NULL, 0 }

void    html_shared_make(HTML_SHARED *sh, STRBUF *rendered);
void    html_shared_fill(STRBUF *out, const HTML_SHARED *sh, const char *csrf);
void    html_shared_free(HTML_SHARED *sh);

#endif
