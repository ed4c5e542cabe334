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

static void render_mute_link(const char *request_address, const RENDER_NOTIF *n, STRBUF *out)
{
    sb_printf(out, "mailto:%s?subject=mute%%20%s", request_address, n->mute_token);
}

/* web_on - the panel's links go into this mail */
static int web_on(const RENDER_WEB *web)
{
    return (web && web->base_url && *web->base_url && web->manage_token);
}

/*
 * render_footer - why the mail came, how to mute each notification, and
 * where to manage them all when the panel is on
 */
static void render_footer(const char *request_address, const RENDER_WEB *web,
			          const char *what, const RENDER_NOTIF *notifs, size_t n,
			          STRBUF *b)
{
    size_t  i;

    sb_printf(b, "\n-- \nYou receive this because of %s notification%s:\n",
	      n == 1 ? "this" : "these", n == 1 ? "" : "s");
    for (i = 0; i < n; i++) {
	STRBUF  link = STRBUF_INIT;

	render_mute_link(request_address, &notifs[i], &link);
	sb_printf(b, "\n* %s (%s, %s)\n  %s%swhere %s\n  To mute it: %s\n", notifs[i].id,
		  notifs[i].kind == 'd' ? "default" : "custom", notifs[i].frequency,
		  what ? what : "", what ? " " : "", notifs[i].where, sb_str(&link));
	sb_free(&link);
    }
    if (web_on(web))
	sb_printf(b, "\nManage your notifications: %ss/%s\n", web->base_url,
		  web->manage_token);
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
    render_footer(in->request_address, &in->web, in->event_title, in->notifs, in->nnotifs,
		  b);
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

/* What every crier message carries, notification or digest. */
typedef struct compose {
    const char *recipient;
    const char *sender;
    const char *request_address;
    const char *message_id;
    time_t  date;
    const char *subject;
    const char *event_id;		/* X-Crier-Event, or NULL */
    const char *digest;			/* X-Crier-Digest, or NULL */
    const RENDER_NOTIF *notifs;		/* the first gives List-Id, and */
    size_t  nnotifs;			/* List-Unsubscribe when it is alone */
    int     unsub_first;		/* ... or when the caller says so */
    const char *digest_token;		/* else one-click for the whole digest, or NULL */
    const char *in_reply_to;		/* a reply: this instead of the list headers */
    const RENDER_WEB *web;		/* the panel's links, or NULL */
    const STRBUF *text;
} COMPOSE;

/* compose_set - what every message fills in the same way */
static void compose_set(COMPOSE *c, const char *recipient, const char *sender,
			        const char *request_address, const char *message_id, time_t date,
			        const RENDER_NOTIF *notifs, size_t nnotifs)
{
    memset(c, 0, sizeof(*c));
    c->recipient = recipient;
    c->sender = sender;
    c->request_address = request_address;
    c->message_id = message_id;
    c->date = date;
    c->notifs = notifs;
    c->nnotifs = nnotifs;
}

/* compose_headers - the headers besides From, To, Subject, Date, Message-ID */
static void compose_headers(GMimeObject *m, const COMPOSE *c)
{
    STRBUF  sb = STRBUF_INIT;
    size_t  i;

    g_mime_object_set_header(m, "Auto-Submitted", "auto-generated", NULL);
    g_mime_object_set_header(m, "Precedence", "bulk", NULL);
    render_list_id(c->nnotifs == 1 || c->unsub_first ? c->notifs[0].id : "digest", c->sender,
		   &sb);
    set_raw(m, "List-Id", sb.s);
    if (c->nnotifs == 1 || c->unsub_first) {
	sb_reset(&sb);
	if (web_on(c->web))			/* RFC 8058: the https link first */
	    sb_printf(&sb, "<%su/%s>, ", c->web->base_url, c->notifs[0].mute_token);
	sb_putc(&sb, '<');
	render_mute_link(c->request_address, &c->notifs[0], &sb);
	sb_putc(&sb, '>');
	set_raw(m, "List-Unsubscribe", sb.s);
	if (web_on(c->web))
	    g_mime_object_set_header(m, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click",
				     NULL);
    } else if (web_on(c->web) && c->digest_token) {	/* no mail command does this one */
	sb_reset(&sb);
	sb_printf(&sb, "<%su/%s>", c->web->base_url, c->digest_token);
	set_raw(m, "List-Unsubscribe", sb.s);
	g_mime_object_set_header(m, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click", NULL);
    }
    if (c->event_id)
	g_mime_object_set_header(m, "X-Crier-Event", c->event_id, NULL);
    if (c->digest)
	g_mime_object_set_header(m, "X-Crier-Digest", c->digest, NULL);
    sb_reset(&sb);
    for (i = 0; i < c->nnotifs; i++)
	sb_printf(&sb, "%s%s", i ? ", " : "", c->notifs[i].id);
    g_mime_object_set_header(m, "X-Crier-Notification", sb.s, NULL);
    sb_free(&sb);
}

/* render_text_part - UTF-8 as it is (set_text would pick Latin-1 when it can) */
static GMimeTextPart *render_text_part(const STRBUF *text)
{
    GMimeTextPart *body = g_mime_text_part_new_with_subtype("plain");
    GMimeStream *st = g_mime_stream_mem_new_with_buffer(text->s, text->len);
    GMimeDataWrapper *dw = g_mime_data_wrapper_new_with_stream(st, GMIME_CONTENT_ENCODING_DEFAULT);

    g_mime_part_set_content(GMIME_PART(body), dw);
    g_mime_text_part_set_charset(body, "utf-8");
    g_mime_part_set_content_encoding(GMIME_PART(body), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    g_object_unref(dw);
    g_object_unref(st);
    return (body);
}

static int printable_ascii(const char *s)
{
    for (; *s; s++)
	if (*s < 0x20 || *s > 0x7e)
	    return (0);
    return (1);
}

/* compose - the whole message, CRLF line ends, for SMTP */
static void compose(const COMPOSE *c, STRBUF *out)
{
    GMimeMessage *m;
    GMimeTextPart *body;
    GMimeFormatOptions *fmt;
    GDateTime *date;
    char   *s;

    g_mime_init();
    m = g_mime_message_new(TRUE);
    g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_FROM, "crier", c->sender);
    g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_TO, NULL, c->recipient);
    g_mime_message_set_subject(m, c->subject, "utf-8");
    date = g_date_time_new_from_unix_utc((gint64) c->date);
    g_mime_message_set_date(m, date);
    g_date_time_unref(date);
    g_mime_message_set_message_id(m, c->message_id);
    if (c->in_reply_to == NULL)
	compose_headers(GMIME_OBJECT(m), c);
    else {				/* RFC 3834: an answer, never answered */
	if (printable_ascii(c->subject))	/* a token stays one word */
	    set_raw(GMIME_OBJECT(m), "Subject", c->subject);
	g_mime_object_set_header(GMIME_OBJECT(m), "Auto-Submitted", "auto-replied", NULL);
	if (*c->in_reply_to) {
	    set_raw(GMIME_OBJECT(m), "In-Reply-To", c->in_reply_to);
	    set_raw(GMIME_OBJECT(m), "References", c->in_reply_to);
	}
    }
    body = render_text_part(c->text);
    g_mime_message_set_mime_part(m, GMIME_OBJECT(body));
    g_object_unref(body);
    fmt = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fmt, GMIME_NEWLINE_FORMAT_DOS);
    s = g_mime_object_to_string(GMIME_OBJECT(m), fmt);
    sb_puts(out, s);
    g_free(s);
    g_mime_format_options_free(fmt);
    g_object_unref(m);
}

int     render_notification(const RENDER_IN *in, STRBUF *out, STRBUF *why)
{
    STRBUF  text = STRBUF_INIT, subject = STRBUF_INIT;
    const char *title = event_get(in->ev, "title");
    COMPOSE c;

    if (in->nnotifs == 0) {
	sb_puts(why, "no notification to render");
	return (-1);
    }
    sb_printf(&subject, "%s%s%s (%s)", in->event_title, title ? ": " : "", title ? title : "",
	      in->ev->partner);
    render_body(in, &text);
    compose_set(&c, in->recipient, in->sender, in->request_address, in->message_id, in->date,
		in->notifs, in->nnotifs);
    c.subject = subject.s;
    c.event_id = in->ev->id;
    c.web = &in->web;
    c.unsub_first = 1;			/* several: the first in List-Unsubscribe */
    c.text = &text;
    compose(&c, out);
    sb_free(&text);
    sb_free(&subject);
    return (0);
}

/* render_reply - self-service's answer; in_reply_to NULL means none */
void    render_reply(const RENDER_REPLY *in, STRBUF *out)
{
    COMPOSE c;

    compose_set(&c, in->recipient, in->sender, NULL, in->message_id, in->date, NULL, 0);
    c.subject = in->subject;
    c.in_reply_to = in->in_reply_to ? in->in_reply_to : "";
    c.text = in->text;
    compose(&c, out);
}

/* render_digest_item - one event in a digest: its key fields and link */
void    render_digest_item(const RENDER_ITEM *it, STRBUF *b)
{
    const char *title = event_get(it->ev, "title");
    const char *summary = event_get(it->ev, "summary");
    const char *link = event_get(it->ev, "link");
    const char *when = event_get(it->ev, "occurred");

    sb_printf(b, "  - %s (%s)%s%s\n", title ? title : it->ev->id, it->ev->partner,
	      when ? ", " : "", when ? when : "");
    if (summary)
	sb_printf(b, "    %s\n", summary);
    if (link)
	sb_printf(b, "    %s\n", link);
}

/* digest_subject - "Daily digest, 30 Nov: 12 events: 5 Redelivery Requested, 7 QC Failed" */
static void digest_subject(const RENDER_DIGEST *in, STRBUF *sb)
{
    size_t  i, j, n;

    sb_printf(sb, "%s digest, %s: %zu event%s:", in->freq_title, in->period, in->nitems,
	      in->nitems == 1 ? "" : "s");
    for (i = 0; i < in->nitems; i = j) {
	for (j = i, n = 0; j < in->nitems
	     && strcmp(in->items[j].event_title, in->items[i].event_title) == 0; j++)
	    n++;
	sb_printf(sb, "%s %zu %s", i ? "," : "", n, in->items[i].event_title);
    }
}

/* digest_body - grouped by event type and, inside, by notification */
static void digest_body(const RENDER_DIGEST *in, STRBUF *b)
{
    size_t  i;

    for (i = 0; i < in->nitems; i++) {
	const RENDER_ITEM *it = &in->items[i], *prev = i ? &in->items[i - 1] : NULL;

	if (prev == NULL || strcmp(prev->event_title, it->event_title) != 0)
	    sb_printf(b, "%s%s\n", i ? "\n" : "", it->event_title);
	if (prev == NULL || strcmp(prev->event_title, it->event_title) != 0
	    || strcmp(prev->notif, it->notif) != 0)
	    sb_printf(b, "\n  through %s:\n", it->notif);
	render_digest_item(it, b);
    }
    if (in->more)
	sb_printf(b, "\n%zu more item%s did not fit in this message; %s in the next one, "
		  "sent right after it.\n", in->more, in->more == 1 ? "" : "s",
		  in->more == 1 ? "it follows" : "they follow");
    render_footer(in->request_address, &in->web, NULL, in->notifs, in->nnotifs, b);
}

int     render_digest(const RENDER_DIGEST *in, STRBUF *out, STRBUF *why)
{
    STRBUF  text = STRBUF_INIT, subject = STRBUF_INIT;
    COMPOSE c;

    if (in->nitems == 0 || in->nnotifs == 0) {
	sb_puts(why, "an empty digest is not sent");
	return (-1);
    }
    digest_subject(in, &subject);
    digest_body(in, &text);
    compose_set(&c, in->recipient, in->sender, in->request_address, in->message_id, in->date,
		in->notifs, in->nnotifs);
    c.subject = subject.s;
    c.digest = in->frequency;
    c.web = &in->web;
    c.digest_token = in->digest_token;
    c.text = &text;
    compose(&c, out);
    sb_free(&text);
    sb_free(&subject);
    return (0);
}
