/*
 * event.c - parse the "Name: value" field block of an event (see event.h).
 *
 * The block follows RFC 5322 header syntax: a field name of printable
 * ASCII without ':', a colon, a value; lines that start with white space
 * continue the previous value. Blank lines before the block are skipped and
 * the block ends at the first blank line after it. Values must be UTF-8
 * without control characters, so nothing from an event can add or break a
 * header in the mail crier writes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "mem.h"
#include "pack.h"
#include "strutil.h"

typedef struct line {
    const char *p;
    size_t  len;
} LINE;

/* next_line - split off one line (LF or CRLF); 0 at the end of the text */
static int next_line(const char **at, const char *end, LINE *ln)
{
    const char *nl;

    if (*at >= end)
	return (0);
    nl = memchr(*at, '\n', (size_t) (end - *at));
    ln->p = *at;
    ln->len = (nl ? nl : end) - *at;
    *at = nl ? nl + 1 : end;
    if (ln->len && ln->p[ln->len - 1] == '\r')
	ln->len--;
    return (1);
}

static int is_name_char(unsigned char c)
{
    return (c > ' ' && c < 0x7f && c != ':');
}

/* add_field - start a new field from "Name: value" */
static int add_field(EVENT *ev, const LINE *ln, int lineno, STRBUF *val, STRBUF *why)
{
    size_t  n = 0;
    EVENT_FIELD *f;

    while (n < ln->len && is_name_char((unsigned char) ln->p[n]))
	n++;
    if (n == 0 || n == ln->len || ln->p[n] != ':') {
	sb_printf(why, "line %d of the event is not a 'Name: value' field", lineno);
	return (-1);
    }
    if (ev->nfields == EVENT_MAX_FIELDS) {
	sb_printf(why, "the event has more than %d fields", EVENT_MAX_FIELDS);
	return (-1);
    }
    f = &ev->fields[ev->nfields++];
    f->name = xstrndup(ln->p, n);
    f->key = str_field_name(f->name);
    sb_reset(val);
    sb_putn(val, ln->p + n + 1, ln->len - n - 1);
    return (0);
}

/* end_field - check and store the value collected for the last field */
static int end_field(EVENT *ev, STRBUF *val, STRBUF *why)
{
    EVENT_FIELD *f = &ev->fields[ev->nfields - 1];
    size_t  i;

    if (!str_utf8_valid(val->s, val->len) || str_has_ctl(sb_str(val))) {
	sb_printf(why, "field '%s' is not UTF-8 text without control characters", f->name);
	return (-1);
    }
    f->value = xstrdup(str_trim(val->s));
    if (strlen(f->value) > EVENT_MAX_VALUE) {
	sb_printf(why, "field '%s' is longer than %d bytes", f->name, EVENT_MAX_VALUE);
	return (-1);
    }
    for (i = 0; i + 1 < ev->nfields; i++)
	if (strcmp(ev->fields[i].key, f->key) == 0) {
	    sb_printf(why, "field '%s' appears twice", f->name);
	    return (-1);
	}
    return (0);
}

/* parse_block - the field block, into ev->fields */
static int parse_block(EVENT *ev, const char *text, size_t len, STRBUF *why)
{
    const char *at = text, *end = text + len;
    STRBUF  val = STRBUF_INIT;
    LINE    ln;
    int     lineno = 0, rc = 0;

    while (rc == 0 && next_line(&at, end, &ln)) {
	lineno++;
	if (ln.len == 0 && ev->nfields == 0)
	    continue;			/* blank lines before the block */
	if (ln.len == 0)
	    break;			/* the end of the block */
	if (ln.p[0] == ' ' || ln.p[0] == '\t') {
	    if (ev->nfields == 0) {
		sb_printf(why, "line %d of the event continues no field", lineno);
		rc = -1;
	    } else {
		sb_putn(&val, ln.p, ln.len);	/* unfold: drop the CRLF only */
	    }
	    continue;
	}
	if (ev->nfields && (rc = end_field(ev, &val, why)) < 0)
	    break;
	rc = add_field(ev, &ln, lineno, &val, why);
    }
    if (rc == 0 && ev->nfields)
	rc = end_field(ev, &val, why);
    sb_free(&val);
    return (rc);
}

/* event_get - the value of the field whose rules.d name is key, or NULL */
const char *event_get(const EVENT *ev, const char *key)
{
    size_t  i;

    for (i = 0; i < ev->nfields; i++)
	if (strcmp(ev->fields[i].key, key) == 0)
	    return (ev->fields[i].value);
    return (NULL);
}

/* require - a field every event needs, non-empty */
static const char *require(const EVENT *ev, const char *key, const char *name, STRBUF *why)
{
    const char *v = event_get(ev, key);

    if (v == NULL || *v == 0) {
	sb_printf(why, "the event has no %s field", name);
	return (NULL);
    }
    return (v);
}

/* check_id - Event-Id becomes part of Message-IDs: printable ASCII, no space */
static int check_id(const char *id, STRBUF *why)
{
    const char *p;

    if (strlen(id) > EVENT_MAX_ID) {
	sb_printf(why, "Event-Id is longer than %d characters", EVENT_MAX_ID);
	return (-1);
    }
    for (p = id; *p; p++)
	if (*p <= ' ' || *p >= 0x7f || strchr("<>\"\\", *p)) {
	    sb_puts(why, "Event-Id must be printable ASCII without spaces, quotes or <>");
	    return (-1);
	}
    return (0);
}

/* check_required - Event, Event-Id and Partner; sets the shortcuts */
static int check_required(EVENT *ev, STRBUF *why)
{
    size_t  i;

    if (ev->nfields == 0) {
	sb_puts(why, "the event has no 'Name: value' fields");
	return (-1);
    }
    if ((ev->type = require(ev, "event", "Event", why)) == NULL
	|| (ev->id = require(ev, "event_id", "Event-Id", why)) == NULL
	|| (ev->partner = require(ev, "partner", "Partner", why)) == NULL)
	return (-1);
    if (check_id(ev->id, why) < 0)
	return (-1);
    for (i = 0; i < ev->nfields; i++)
	if (strcmp(ev->fields[i].key, "event") == 0) {
	    char   *type = str_field_name(ev->fields[i].value);

	    free(ev->fields[i].value);
	    ev->fields[i].value = type;
	    ev->type = type;
	}
    return (0);
}

int     event_parse(const char *text, size_t len, EVENT **out, STRBUF *why)
{
    EVENT  *ev = xcalloc(1, sizeof(EVENT));

    ev->fields = xcalloc(EVENT_MAX_FIELDS, sizeof(EVENT_FIELD));
    if (parse_block(ev, text, len, why) < 0 || check_required(ev, why) < 0) {
	event_free(ev);
	*out = NULL;
	return (-1);
    }
    *out = ev;
    return (0);
}

void    event_free(EVENT *ev)
{
    size_t  i;

    if (ev == NULL)
	return;
    for (i = 0; i < ev->nfields; i++) {
	free(ev->fields[i].name);
	free(ev->fields[i].key);
	free(ev->fields[i].value);
    }
    free(ev->fields);
    free(ev);
}

/* event_pack - the record kept for an accepted event: when, queue id, fields */
void    event_pack(const EVENT *ev, const char *qid, long received, STRBUF *out)
{
    size_t  i;

    pack_u64(out, (uint64_t) received);
    pack_str(out, qid ? qid : "");
    pack_u64(out, ev->nfields);
    for (i = 0; i < ev->nfields; i++) {
	pack_str(out, ev->fields[i].name);
	pack_str(out, ev->fields[i].value);
    }
}

/* event_unpack - an event back from its record (see event_pack()); NULL if damaged */
EVENT  *event_unpack(const void *rec, size_t len, long *received)
{
    EVENT  *ev = xcalloc(1, sizeof(EVENT));
    UNPACK  u;
    uint64_t n, i;

    unpack_init(&u, rec, len);
    *received = (long) unpack_u64(&u);
    (void) unpack_str(&u);		/* the queue id */
    n = unpack_u64(&u);
    ev->fields = xcalloc(n < EVENT_MAX_FIELDS ? EVENT_MAX_FIELDS : n, sizeof(EVENT_FIELD));
    for (i = 0; i < n && !u.bad; i++) {
	EVENT_FIELD *f = &ev->fields[ev->nfields++];

	f->name = xstrdup(unpack_str(&u));
	f->key = str_field_name(f->name);
	f->value = xstrdup(unpack_str(&u));
    }
    ev->type = event_get(ev, "event");
    ev->id = event_get(ev, "event_id");
    ev->partner = event_get(ev, "partner");
    if (u.bad || !ev->type || !ev->id || !ev->partner) {
	event_free(ev);
	return (NULL);
    }
    return (ev);
}
