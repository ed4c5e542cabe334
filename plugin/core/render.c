/*
 * render.c - compose a notification message (see render.h).
 */
#include "config.h"

#include <gmime/gmime.h>
#include <sodium.h>
#include <string.h>

#include "mem.h"
#include "render.h"
#include "strutil.h"

/* Fields with a place of their own in the message; the rest are listed. */
static const char *const render_special[] = {
    "event", "event_id", "partner", "title", "summary", "link", 0,
};

static int is_special(const char *key)
{
    const char *const *s;

    for (s = render_special; *s; s++)
	if (strcmp(*s, key) == 0)
	    return (1);
    return (0);
}

/* render_message_id - the same event, recipient and frequency give the same id */
void    render_message_id(const char *event_id, const char *recipient, const char *frequency,
			          const char *sender, STRBUF *out)
{
    unsigned char hash[12];
    char    hex[sizeof(hash) * 2 + 1];
    crypto_generichash_state st;
    const char *at = strrchr(sender, '@');
    char   *lower = str_lower(xstrdup(recipient));

    crypto_generichash_init(&st, NULL, 0, sizeof(hash));
    crypto_generichash_update(&st, (const unsigned char *) event_id, strlen(event_id) + 1);
    crypto_generichash_update(&st, (const unsigned char *) lower, strlen(lower) + 1);
    crypto_generichash_update(&st, (const unsigned char *) frequency, strlen(frequency) + 1);
    crypto_generichash_final(&st, hash, sizeof(hash));
    sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
    sb_printf(out, "crier.%s@%s", hex, at ? at + 1 : "localhost");
    free(lower);
}

/* render_list_id - RFC 2919 list id of a notification: a dot-atom */
static void render_list_id(const char *notif, const char *sender, STRBUF *out)
{
    const char *at = strrchr(sender, '@');
    const char *p;

    sb_putc(out, '<');
    for (p = notif; *p; p++) {
	char    c = *p;

	if (c >= 'A' && c <= 'Z')
	    c = (char) (c - 'A' + 'a');
	sb_putc(out, (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : c == '/' ? '.' : '-');
    }
    sb_printf(out, ".notifications.%s>", at ? at + 1 : "localhost");
}

static void render_mute_link(const RENDER_IN *in, const RENDER_NOTIF *n, STRBUF *out)
{
    sb_printf(out, "mailto:%s?subject=mute%%20%s", in->request_address, n->mute_token);
}

/* render_body - the event for a person, then why it came and how to stop it */
static void render_body(const RENDER_IN *in, STRBUF *b)
{
    const char *title = event_get(in->ev, "title");
    const char *v;
    size_t  i;

    sb_printf(b, "%s%s%s\n\n", in->event_title, title ? ": " : "", title ? title : "");
    sb_printf(b, "%-14s %s\n", "Partner:", in->ev->partner);
    for (i = 0; i < in->ev->nfields; i++) {
	const EVENT_FIELD *f = &in->ev->fields[i];

	if (!is_special(f->key)) {
	    STRBUF  label = STRBUF_INIT;

	    sb_printf(&label, "%s:", f->name);
	    sb_printf(b, "%-14s %s\n", label.s, f->value);
	    sb_free(&label);
	}
    }
    if ((v = event_get(in->ev, "summary")) != NULL)
	sb_printf(b, "\n%s\n", v);
    if ((v = event_get(in->ev, "link")) != NULL)
	sb_printf(b, "\n%s\n", v);
    sb_printf(b, "\n-- \nYou receive this because of %s notification%s:\n",
	      in->nnotifs == 1 ? "this" : "these", in->nnotifs == 1 ? "" : "s");
    for (i = 0; i < in->nnotifs; i++) {
	const RENDER_NOTIF *n = &in->notifs[i];
	STRBUF  link = STRBUF_INIT;

	render_mute_link(in, n, &link);
	sb_printf(b, "\n* %s (%s, %s)\n  %s where %s\n  To mute it: %s\n", n->id,
		  n->kind == 'd' ? "default" : "custom", n->frequency, in->event_title,
		  n->where, sb_str(&link));
	sb_free(&link);
    }
    sb_printf(b, "\nEvent-Id: %s\n", in->ev->id);
}

/*
 * set_raw - a header whose value must reach the reader as it is (a URL in
 * angle brackets): GMime would otherwise RFC 2047-encode a long one. The
 * caller guarantees printable ASCII without CR or LF.
 */
static void set_raw(GMimeObject *m, const char *name, const char *value)
{
    GMimeHeader *h;
    STRBUF  raw = STRBUF_INIT;

    g_mime_object_set_header(m, name, value, NULL);
    h = g_mime_header_list_get_header(g_mime_object_get_header_list(m), name);
    sb_printf(&raw, " %s\n", value);
    if (h)
	g_mime_header_set_raw_value(h, raw.s);
    sb_free(&raw);
}

/* render_headers - the headers besides From, To, Subject, Date, Message-ID */
static void render_headers(GMimeObject *m, const RENDER_IN *in)
{
    STRBUF  sb = STRBUF_INIT;
    size_t  i;

    g_mime_object_set_header(m, "Auto-Submitted", "auto-generated", NULL);
    g_mime_object_set_header(m, "Precedence", "bulk", NULL);
    render_list_id(in->notifs[0].id, in->sender, &sb);
    set_raw(m, "List-Id", sb.s);
    sb_reset(&sb);
    sb_putc(&sb, '<');
    render_mute_link(in, &in->notifs[0], &sb);
    sb_putc(&sb, '>');
    set_raw(m, "List-Unsubscribe", sb.s);
    g_mime_object_set_header(m, "X-Crier-Event", in->ev->id, NULL);
    sb_reset(&sb);
    for (i = 0; i < in->nnotifs; i++)
	sb_printf(&sb, "%s%s", i ? ", " : "", in->notifs[i].id);
    g_mime_object_set_header(m, "X-Crier-Notification", sb.s, NULL);
    sb_free(&sb);
}

/* render_subject - "Redelivery Requested: The Long Night S01E03 (Juice Post)" */
static void render_subject(const RENDER_IN *in, STRBUF *sb)
{
    const char *title = event_get(in->ev, "title");

    sb_printf(sb, "%s%s%s (%s)", in->event_title, title ? ": " : "", title ? title : "",
	      in->ev->partner);
}

/* render_text_part - UTF-8 as it is (set_text would pick Latin-1 when it can) */
static GMimeTextPart *render_text_part(const STRBUF *text)
{
    GMimeTextPart *body = g_mime_text_part_new_with_subtype("plain");
    GMimeStream *st = g_mime_stream_mem_new_with_buffer(text->s, text->len);
    GMimeDataWrapper *dw = g_mime_data_wrapper_new_with_stream(st, GMIME_CONTENT_ENCODING_DEFAULT);

    g_mime_part_set_content(GMIME_PART(body), dw);
    g_mime_text_part_set_charset(body, "utf-8");
    g_object_unref(dw);
    g_object_unref(st);
    return (body);
}

int     render_notification(const RENDER_IN *in, STRBUF *out, STRBUF *why)
{
    GMimeMessage *m;
    GMimeTextPart *body;
    GMimeFormatOptions *fmt;
    GDateTime *date;
    STRBUF  text = STRBUF_INIT, subject = STRBUF_INIT;
    char   *s;

    if (in->nnotifs == 0) {
	sb_puts(why, "no notification to render");
	return (-1);
    }
    g_mime_init();
    m = g_mime_message_new(TRUE);
    g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_FROM, "crier", in->sender);
    g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_TO, NULL, in->recipient);
    render_subject(in, &subject);
    g_mime_message_set_subject(m, subject.s, "utf-8");
    date = g_date_time_new_from_unix_utc((gint64) in->date);
    g_mime_message_set_date(m, date);
    g_date_time_unref(date);
    g_mime_message_set_message_id(m, in->message_id);
    render_headers(GMIME_OBJECT(m), in);
    render_body(in, &text);
    body = render_text_part(&text);
    g_mime_part_set_content_encoding(GMIME_PART(body), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    g_mime_message_set_mime_part(m, GMIME_OBJECT(body));
    g_object_unref(body);
    fmt = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fmt, GMIME_NEWLINE_FORMAT_DOS);
    s = g_mime_object_to_string(GMIME_OBJECT(m), fmt);
    sb_puts(out, s);
    g_free(s);
    g_mime_format_options_free(fmt);
    g_object_unref(m);
    sb_free(&text);
    sb_free(&subject);
    return (0);
}
