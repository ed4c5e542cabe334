/*
 * html.c - escaping and the page frame (see html.h).
 *
 * html_text() escapes the five characters that matter in HTML text and in
 * quoted attributes (& < > " ') and drops the bytes no page should carry
 * (NUL and the C0 controls other than tab and line ends), so a value can
 * neither end an attribute nor open a tag, whatever its source.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "mem.h"

/* What html_hidden() writes for a CSRF token, up to its value. */
#define HTML_CSRF_FIELD	"<input type=\"hidden\" name=\"csrf\" value=\""

/* html_textn - len bytes of s, escaped */
void    html_textn(STRBUF *out, const char *s, size_t len)
{
    size_t  i, run = 0;

    for (i = 0; i < len; i++) {
	unsigned char ch = (unsigned char) s[i];
	const char *rep = ch == '&' ? "&amp;" : ch == '<' ? "&lt;" : ch == '>' ? "&gt;"
	    : ch == '"' ? "&quot;" : ch == '\'' ? "&#39;"
	    : (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') || ch == 0x7f ? "" : NULL;

	if (rep == NULL)
	    continue;
	sb_putn(out, s + run, i - run);
	sb_puts(out, rep);
	run = i + 1;
    }
    sb_putn(out, s + run, len - run);
}

/* html_text - s, escaped for text or a double-quoted attribute value */
void    html_text(STRBUF *out, const char *s)
{
    html_textn(out, s ? s : "", s ? strlen(s) : 0);
}

/*
 * html_url - s percent-encoded for a query string (RFC 3986 unreserved
 * kept); the bytes kept go out in runs (a panel page has hundreds of URLs)
 */
void    html_url(STRBUF *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *run = s;
    char    esc[3] = {'%', 0, 0};

    for (; s && *s; s++) {
	unsigned char ch = (unsigned char) *s;

	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
	    || strchr("-._~", ch))
	    continue;
	sb_putn(out, run, (size_t) (s - run));
	esc[1] = hex[ch >> 4], esc[2] = hex[ch & 15];
	sb_putn(out, esc, 3);
	run = s + 1;
    }
    if (s)
	sb_putn(out, run, (size_t) (s - run));
}

void    html_hidden(STRBUF *out, const char *name, const char *value)
{
    sb_puts(out, "<input type=\"hidden\" name=\"");
    html_text(out, name);
    sb_puts(out, "\" value=\"");
    html_text(out, value);
    sb_puts(out, "\">");
}

/*
 * html_button_form - a form of one button that POSTs name=value (and the
 * CSRF token) to action: how every change is asked for
 */
void    html_button_form(STRBUF *out, const char *action, const char *csrf,
			         const char *name, const char *value, const char *label,
			         const char *cls)
{
    sb_puts(out, "<form method=\"post\" class=\"inline\" action=\"");
    html_text(out, action);
    sb_puts(out, "\">");
    if (csrf)
	html_hidden(out, "csrf", csrf);
    if (name)
	html_hidden(out, name, value);
    sb_puts(out, "<button type=\"submit\"");
    if (cls) {
	sb_puts(out, " class=\"");
	html_text(out, cls);
	sb_putc(out, '"');
    }
    sb_putc(out, '>');
    html_text(out, label);
    sb_puts(out, "</button></form>");
}

/*
 * html_shared_make - rendered (its CSRF values empty) as sh, the places of
 * the token noted; rendered is taken. Every match of HTML_CSRF_FIELD is
 * one the code wrote: a value from elsewhere cannot hold a '"' unescaped.
 */
void    html_shared_make(HTML_SHARED *sh, STRBUF *rendered)
{
    static const char field[] = HTML_CSRF_FIELD "\"";
    const char *at, *end;
    size_t  cap = 0;

    memset(sh, 0, sizeof(*sh));
    sh->html = *rendered;
    memset(rendered, 0, sizeof(*rendered));
    if (sh->html.s == NULL)
	return;
    end = sh->html.s + sh->html.len;
    for (at = sh->html.s; (at = memmem(at, (size_t) (end - at), field, sizeof(field) - 1))
	 != NULL; at += sizeof(field) - 1) {
	if (sh->nholes == cap)
	    sh->holes = xrealloc(sh->holes, (cap = cap ? 2 * cap : 64) * sizeof(size_t));
	sh->holes[sh->nholes++] = (size_t) (at - sh->html.s) + sizeof(field) - 2;
    }
}

#define HTML_SHARED_TAIL	8192	/* room for what a page adds after sh */

/* html_shared_fill - sh with csrf in its places, added to out */
void    html_shared_fill(STRBUF *out, const HTML_SHARED *sh, const char *csrf)
{
    STRBUF  token = STRBUF_INIT;
    size_t  i, from = 0;

    html_text(&token, csrf);
    sb_reserve(out, sh->html.len + sh->nholes * token.len + HTML_SHARED_TAIL);
    for (i = 0; i < sh->nholes; i++) {
	sb_putn(out, sh->html.s + from, sh->holes[i] - from);
	sb_putn(out, token.s ? token.s : "", token.len);
	from = sh->holes[i];
    }
    sb_putn(out, sh->html.s ? sh->html.s + from : "", sh->html.len - from);
    sb_free(&token);
}

void    html_shared_free(HTML_SHARED *sh)
{
    sb_free(&sh->html);
    free(sh->holes);
    memset(sh, 0, sizeof(*sh));
}

/* html_page_begin - the document up to the page's own content */
void    html_page_begin(STRBUF *out, const HTML_FRAME *f)
{
    sb_puts(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	    "<title>");
    html_text(out, f->title);
    sb_puts(out, " - crier</title><link rel=\"stylesheet\" href=\"/static/panel.css\">"
	    "<script src=\"/static/panel.js\" defer></script></head>\n<body>"
	    "<header class=\"top\"><a class=\"brand\" href=\"/\">Notification settings</a>");
    if (f->user) {
	sb_puts(out, "<nav aria-label=\"Account\"><span class=\"who\">");
	html_text(out, f->user);
	sb_puts(out, "</span>");
	html_button_form(out, "/signout", f->csrf, NULL, NULL, "Sign out", "link");
	html_button_form(out, "/signout-all", f->csrf, NULL, NULL, "Sign out everywhere", "link");
	sb_puts(out, "</nav>");
    }
    sb_puts(out, "</header>\n<main id=\"main\">");
}

void    html_page_end(STRBUF *out)
{
    sb_puts(out, "</main></body></html>\n");
}
