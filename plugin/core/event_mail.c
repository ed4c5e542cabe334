/*
 * event_mail.c - find an event's field block in a whole message.
 *
 * GMime parses the message (RFC 5322, MIME), finds the first text/plain
 * part (the whole body when the message is not MIME), undoes its transfer
 * encoding and converts its charset to UTF-8. Hand-written MIME decoding is
 * where mail software grows CVEs; this module keeps none.
 */
#include "config.h"

#include <gmime/gmime.h>
#include <string.h>

#include "event.h"

/* mail_init - GMime once per process */
static void mail_init(void)
{
    static int done;

    if (!done++)
	g_mime_init();
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

int     event_parse_mail(const char *msg, size_t len, EVENT **ev, STRBUF *why)
{
    GMimeStream *stream;
    GMimeParser *parser;
    GMimeMessage *m;
    GMimeObject *body;
    GMimeTextPart *text;
    char   *content;
    int     rc = -1;

    mail_init();
    *ev = NULL;
    stream = g_mime_stream_mem_new_with_buffer(msg, len);
    parser = g_mime_parser_new_with_stream(stream);
    m = g_mime_parser_construct_message(parser, NULL);
    if (m == NULL || (body = g_mime_message_get_mime_part(m)) == NULL)
	sb_puts(why, "the event mail has no body");
    else if ((text = first_text(body)) == NULL)
	sb_puts(why, "the event mail has no text/plain part");
    else if ((content = g_mime_text_part_get_text(text)) == NULL)
	sb_puts(why, "the event's text part cannot be decoded to UTF-8");
    else {
	rc = event_parse(content, strlen(content), ev, why);
	g_free(content);
    }
    if (m)
	g_object_unref(m);
    g_object_unref(parser);
    g_object_unref(stream);
    return (rc);
}
