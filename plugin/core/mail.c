/*
 * mail.c - a whole message through GMime (see mail.h).
 *
 * GMime parses the message (RFC 5322, MIME), finds the first text/plain
 * part (the whole body when the message is not MIME), undoes its transfer
 * encoding and converts its charset to UTF-8. Hand-written MIME decoding is
 * where mail software grows CVEs; crier keeps none.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include "mail.h"
#include "strutil.h"

static void mail_init_once(void)
{
    g_mime_init();
}

/* mail_init - GMime once per process, whichever thread parses first */
static void mail_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    (void) pthread_once(&once, mail_init_once);
}

/* first_text - depth-first search for the first text/plain leaf */
static GMimeTextPart *first_text(GMimeObject *obj)
{
    int     i, n;

    if (GMIME_IS_MESSAGE_PART(obj)) {
	GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));

	return (m ? first_text(g_mime_message_get_mime_part(m)) : NULL);
    }
    if (GMIME_IS_MULTIPART(obj)) {
	n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
	for (i = 0; i < n; i++) {
	    GMimeTextPart *t = first_text(g_mime_multipart_get_part(GMIME_MULTIPART(obj), i));

	    if (t)
		return (t);
	}
	return (NULL);
    }
    if (GMIME_IS_TEXT_PART(obj)
	&& g_mime_content_type_is_type(g_mime_object_get_content_type(obj), "text", "plain"))
	return (GMIME_TEXT_PART(obj));
    return (NULL);
}

/* mail_parse - the message, or NULL; g_object_unref() it */
GMimeMessage *mail_parse(const char *msg, size_t len)
{
    GMimeStream *stream;
    GMimeParser *parser;
    GMimeMessage *m;

    mail_init();
    stream = g_mime_stream_mem_new_with_buffer(msg, len);
    parser = g_mime_parser_new_with_stream(stream);
    m = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    g_object_unref(stream);
    return (m);
}

/* mail_first_text - the first text/plain part in UTF-8, or NULL; g_free() it */
char   *mail_first_text(GMimeMessage *m)
{
    GMimeObject *body = m ? g_mime_message_get_mime_part(m) : NULL;
    GMimeTextPart *text = body ? first_text(body) : NULL;

    return (text ? g_mime_text_part_get_text(text) : NULL);
}

/*
 * mail_header_value - an unfolded header of a message (CRLF or LF), or "":
 * for the headers crier wrote itself, without GMime
 */
void    mail_header_value(const char *msg, size_t len, const char *name, STRBUF *out)
{
    const char *p = msg, *end = msg + len, *eol;
    size_t  n = strlen(name);

    sb_reset(out);
    for (; p < end && *p != '\r' && *p != '\n'; p = eol) {
	for (eol = p; eol < end && *eol != '\n'; eol++)
	     /* void */ ;
	eol += eol < end;
	if ((size_t) (eol - p) <= n || str_ncasecmp(p, name, n) != 0 || p[n] != ':')
	    continue;
	for (p += n + 1;;) {			/* this line, then continuations */
	    for (; p < eol && (*p == ' ' || *p == '\t') && out->len == 0; p++)
		 /* void */ ;
	    for (; p < eol && *p != '\r' && *p != '\n'; p++)
		sb_putc(out, *p);
	    if (eol >= end || (*eol != ' ' && *eol != '\t'))
		return;
	    for (p = eol; eol < end && *eol != '\n'; eol++)
		 /* void */ ;
	    eol += eol < end;
	}
    }
}
