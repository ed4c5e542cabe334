/*
 * event_mail.c - find an event's field block in a whole message: the
 * first text/plain part, as mail.c finds and decodes it.
 */
#include "config.h"

#include <string.h>

#include "event.h"
#include "mail.h"

int     event_parse_mail(const char *msg, size_t len, EVENT **ev, STRBUF *why)
{
    GMimeMessage *m = mail_parse(msg, len);
    char   *content;
    int     rc = -1;

    *ev = NULL;
    if (m == NULL || g_mime_message_get_mime_part(m) == NULL)
	sb_puts(why, "the event mail has no body");
    else if ((content = mail_first_text(m)) == NULL)
	sb_puts(why, "the event mail has no text/plain part");
    else {
	rc = event_parse(content, strlen(content), ev, why);
	g_free(content);
    }
    if (m)
	g_object_unref(m);
    return (rc);
}
