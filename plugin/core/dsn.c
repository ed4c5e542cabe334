/*
 * dsn.c - read a delivery status notification (see dsn.h).
 *
 * The report is a sequence of field groups separated by blank lines
 * (RFC 3464 section 2.1): the per-message fields, then one group per
 * recipient. Reports seen in the wild drop the blank lines, repeat
 * fields or fold them oddly, so the reader is lenient where it costs
 * nothing: a per-recipient field that its group already has starts the
 * next group, unknown fields are skipped, a group without a recipient
 * address is dropped. It never trusts a length it did not count.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dsn.h"
#include "mail.h"
#include "mem.h"
#include "strutil.h"

/* The per-recipient fields crier reads, and where each goes. */
static const struct dsn_field {
    const char *name;
    size_t  offset;
} dsn_fields[] = {
    {"Final-Recipient", offsetof(DSN_RCPT, final_recipient)},
    {"Original-Recipient", offsetof(DSN_RCPT, original_recipient)},
    {"Action", offsetof(DSN_RCPT, action)},
    {"Status", offsetof(DSN_RCPT, status)},
    {"Diagnostic-Code", offsetof(DSN_RCPT, diagnostic)},
    {"Remote-MTA", offsetof(DSN_RCPT, remote_mta)},
    {NULL, 0},
};

#define RCPT_SLOT(r, f) ((char **) ((char *) (r) + (f)->offset))

/* The reader's state: the report so far, the group and field being read. */
typedef struct reader {
    DSN    *d;
    DSN_RCPT *cur;			/* the recipient group, or NULL */
    int     in_message;			/* still in the per-message group */
    STRBUF  name;			/* the field being read */
    STRBUF  value;
} READER;

/* clean - unfolded value: control characters to spaces, trimmed, bounded */
static char *clean(const char *v)
{
    char   *s = xstrndup(v, strlen(v) > DSN_MAX_VALUE ? DSN_MAX_VALUE : strlen(v));
    char   *p;

    for (p = s; *p; p++)
	if ((unsigned char) *p < ' ' || *p == 0x7f)
	    *p = ' ';
    p = xstrdup(str_trim(s));
    free(s);
    return (p);
}

/* untyped - "type; value" without the type (address, MTA and diagnostic types) */
static char *untyped(const char *v)
{
    const char *semi = strchr(v, ';');
    char   *s = clean(semi ? semi + 1 : v);
    size_t  n = strlen(s);

    if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
	memmove(s, s + 1, n - 2);
	s[n - 2] = 0;
    }
    return (s);
}

/* first_word - v cleaned, up to its first blank or comment; lower-cased */
static char *first_word(const char *v)
{
    char   *s = clean(v);

    s[strcspn(s, " \t(")] = 0;
    return (str_lower(s));
}

/* status_code - "5.1.1" when v starts with an RFC 3463 code, else "" */
static char *status_code(const char *v)
{
    char   *s = first_word(v);
    size_t  a, b;

    if (s[0] && strchr("245", s[0]) && s[1] == '.'
	&& (a = strspn(s + 2, "0123456789")) >= 1 && a <= 3 && s[2 + a] == '.'
	&& (b = strspn(s + 3 + a, "0123456789")) >= 1 && b <= 3 && s[3 + a + b] == 0)
	return (s);
    *s = 0;
    return (s);
}

/* rcpt_field - a per-recipient field crier reads; NULL when name is not one */
static const struct dsn_field *rcpt_field(const char *name)
{
    const struct dsn_field *f;

    for (f = dsn_fields; f->name; f++)
	if (str_casecmp(f->name, name) == 0)
	    return (f);
    return (NULL);
}

/* new_group - the next recipient's group, unless there are enough */
static DSN_RCPT *new_group(DSN *d)
{
    DSN_RCPT *r;

    if (d->nrcpts == DSN_MAX_RCPTS)
	return (NULL);
    d->rcpts = xrealloc(d->rcpts, (d->nrcpts + 1) * sizeof(DSN_RCPT));
    r = &d->rcpts[d->nrcpts++];
    memset(r, 0, sizeof(*r));
    return (r);
}

/* field_done - the field just read, into its group */
static void field_done(READER *rd)
{
    const struct dsn_field *f;

    if (rd->name.len == 0)
	return;
    if ((f = rcpt_field(rd->name.s)) == NULL) {
	if (rd->in_message && str_casecmp(rd->name.s, "Reporting-MTA") == 0
	    && rd->d->reporting_mta == NULL)
	    rd->d->reporting_mta = untyped(rd->value.s);
    } else {
	rd->in_message = 0;
	if (rd->cur == NULL || *RCPT_SLOT(rd->cur, f))
	    rd->cur = new_group(rd->d);	/* a repeated field: the next group */
	if (rd->cur)
	    *RCPT_SLOT(rd->cur, f) = f->offset == offsetof(DSN_RCPT, status)
		? status_code(rd->value.s) : f->offset == offsetof(DSN_RCPT, action)
		? first_word(rd->value.s) : untyped(rd->value.s);
    }
    sb_reset(&rd->name);
    sb_reset(&rd->value);
}

/* read_line - one line of the report: a field, its continuation, or a blank */
static void read_line(READER *rd, const char *p, size_t len)
{
    size_t  n;

    if (len && p[len - 1] == '\r')
	len--;
    if (strspn(p, " \t") >= len) {		/* blank: the group ends */
	field_done(rd);
	rd->cur = NULL;
	rd->in_message = 0;
    } else if (p[0] == ' ' || p[0] == '\t') {
	if (rd->name.len && rd->value.len < DSN_MAX_VALUE)
	    sb_putn(&rd->value, p, len);	/* unfold: drop the line break */
    } else {
	field_done(rd);
	if ((n = strcspn(p, ":")) < len && n > 0 && n < 64) {
	    sb_putn(&rd->name, p, n);
	    sb_putn(&rd->value, p + n + 1, len - n - 1 > DSN_MAX_VALUE ? DSN_MAX_VALUE
		    : len - n - 1);
	}
    }
}

/* fill - "" for what the report did not say; drop groups without an address */
static void fill(DSN *d)
{
    const struct dsn_field *f;
    size_t  i, kept = 0;

    if (d->reporting_mta == NULL)
	d->reporting_mta = xstrdup("");
    for (i = 0; i < d->nrcpts; i++) {
	for (f = dsn_fields; f->name; f++)
	    if (*RCPT_SLOT(&d->rcpts[i], f) == NULL)
		*RCPT_SLOT(&d->rcpts[i], f) = xstrdup("");
	if (*d->rcpts[i].final_recipient || *d->rcpts[i].original_recipient)
	    d->rcpts[kept++] = d->rcpts[i];
	else
	    for (f = dsn_fields; f->name; f++)
		free(*RCPT_SLOT(&d->rcpts[i], f));
    }
    d->nrcpts = kept;
}

/*
 * dsn_parse_status - the body of a message/delivery-status part (at most
 * DSN_MAX_TEXT bytes of it are read): 0, or -1 with the reason when it
 * names no recipient
 */
int     dsn_parse_status(const char *text, size_t len, DSN **out, STRBUF *why)
{
    READER  rd = {xcalloc(1, sizeof(DSN)), NULL, 1, STRBUF_INIT, STRBUF_INIT};
    const char *p = text, *end = text + (len > DSN_MAX_TEXT ? DSN_MAX_TEXT : len), *nl;
    char   *line;

    for (; p < end; p = nl ? nl + 1 : end) {
	nl = memchr(p, '\n', (size_t) (end - p));
	line = xstrndup(p, (size_t) ((nl ? nl : end) - p));	/* (no NUL inside) */
	read_line(&rd, line, strlen(line));
	free(line);
    }
    field_done(&rd);
    sb_free(&rd.name);
    sb_free(&rd.value);
    fill(rd.d);
    if (rd.d->nrcpts == 0) {
	sb_puts(why, "the delivery status names no recipient");
	dsn_free(rd.d);
	rd.d = NULL;
    }
    *out = rd.d;
    return (rd.d ? 0 : -1);
}

/* is_report - a delivery-status part (RFC 3464, or RFC 6533's UTF-8 form) */
static int is_report(GMimeObject *obj)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);

    return (GMIME_IS_PART(obj) && ct
	    && (g_mime_content_type_is_type(ct, "message", "delivery-status")
		|| g_mime_content_type_is_type(ct, "message", "global-delivery-status")));
}

/* find_report - depth-first, never into a returned message (message/rfc822) */
static GMimePart *find_report(GMimeObject *obj, int depth)
{
    GMimePart *found = NULL;
    int     i, n;

    if (is_report(obj))
	return (GMIME_PART(obj));
    if (!GMIME_IS_MULTIPART(obj) || depth > 8)
	return (NULL);
    n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
    for (i = 0; i < n && found == NULL; i++)
	found = find_report(g_mime_multipart_get_part(GMIME_MULTIPART(obj), i), depth + 1);
    return (found);
}

/* dsn_parse - the report in a whole message: 0, or -1 with the reason */
int     dsn_parse(const char *msg, size_t len, DSN **out, STRBUF *why)
{
    GMimeMessage *m = mail_parse(msg, len);
    GMimeObject *body = m ? g_mime_message_get_mime_part(m) : NULL;
    GMimePart *report = body ? find_report(body, 0) : NULL;
    GMimeDataWrapper *content = report ? g_mime_part_get_content(report) : NULL;
    GMimeStream *text;
    GByteArray *bytes;
    int     rc = -1;

    *out = NULL;
    if (content == NULL)
	sb_puts(why, "no message/delivery-status part: not an RFC 3464 report");
    else {
	text = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(content, text);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(text));
	rc = dsn_parse_status((const char *) bytes->data, bytes->len, out, why);
	g_object_unref(text);
    }
    if (m)
	g_object_unref(m);
    return (rc);
}

/* same - an address of the report is rcpt, ASCII case aside */
static int same(const char *addr, const char *rcpt)
{
    return (*addr && str_casecmp(addr, rcpt) == 0);
}

/*
 * dsn_pick - the group about recipient (by its original, then its final
 * address), else the first that failed, else the first; NULL when none
 */
const DSN_RCPT *dsn_pick(const DSN *d, const char *recipient)
{
    size_t  i;

    for (i = 0; i < d->nrcpts; i++)
	if (same(d->rcpts[i].original_recipient, recipient)
	    || same(d->rcpts[i].final_recipient, recipient))
	    return (&d->rcpts[i]);
    for (i = 0; i < d->nrcpts; i++)
	if (dsn_failed(&d->rcpts[i]))
	    return (&d->rcpts[i]);
    return (d->nrcpts ? &d->rcpts[0] : NULL);
}

/* dsn_failed - the mail did not reach this recipient, and never will */
int     dsn_failed(const DSN_RCPT *r)
{
    return (strcmp(r->action, "failed") == 0);
}

/* dsn_hard - failed for good: a permanent (5.x.x) status */
int     dsn_hard(const DSN_RCPT *r)
{
    return (dsn_failed(r) && r->status[0] == '5');
}

/* dsn_success - delivered, or handed on to where no DSN comes from */
int     dsn_success(const DSN_RCPT *r)
{
    return (strcmp(r->action, "delivered") == 0 || strcmp(r->action, "relayed") == 0
	    || strcmp(r->action, "expanded") == 0);
}

void    dsn_free(DSN *d)
{
    const struct dsn_field *f;
    size_t  i;

    if (d == NULL)
	return;
    for (i = 0; i < d->nrcpts; i++)
	for (f = dsn_fields; f->name; f++)
	    free(*RCPT_SLOT(&d->rcpts[i], f));
    free(d->rcpts);
    free(d->reporting_mta);
    free(d);
}
