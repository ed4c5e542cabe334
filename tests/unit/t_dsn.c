/*
 * t_dsn.c - the DSN reader: each tests/unit/dsn/NAME.eml read by
 * dsn_parse() and written out field by field must equal NAME.ref (a
 * Postfix bounce(8) report, a remote one in base64 with three
 * recipients, a malformed one, a truncated one, mail that is no report);
 * then which recipient's group a bounce uses, and the bounds.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsn.h"
#include "tap.h"

/* dash - "-" for a value the report did not give (no trailing blanks) */
static const char *dash(const char *v)
{
    return (*v ? v : "-");
}

/* dump - a report as text, for the golden files */
static void dump(const DSN *d, STRBUF *out)
{
    size_t  i;

    sb_printf(out, "reporting-mta: %s\n", dash(d->reporting_mta));
    for (i = 0; i < d->nrcpts; i++) {
	const DSN_RCPT *r = &d->rcpts[i];

	sb_printf(out, "recipient %zu:\n  final-recipient: %s\n  original-recipient: %s\n"
		  "  action: %s\n  status: %s\n  diagnostic: %s\n  remote-mta: %s\n"
		  "  failed: %d hard: %d success: %d\n", i + 1, dash(r->final_recipient),
		  dash(r->original_recipient), dash(r->action), dash(r->status),
		  dash(r->diagnostic), dash(r->remote_mta), dsn_failed(r), dsn_hard(r),
		  dsn_success(r));
    }
}

static int read_file(const char *path, STRBUF *out)
{
    sb_reset(out);
    return (sb_read_file(out, path, 1 << 20));
}

/* golden - one NAME.eml against NAME.ref */
static void golden(const char *dir, const char *name)
{
    STRBUF  path = STRBUF_INIT, msg = STRBUF_INIT, out = STRBUF_INIT, want = STRBUF_INIT;
    STRBUF  why = STRBUF_INIT;
    DSN    *d;

    sb_printf(&path, "%s/%s.eml", dir, name);
    CHECK(read_file(path.s, &msg) == 0, "cannot read %s", path.s);
    if (dsn_parse(sb_str(&msg), msg.len, &d, &why) == 0)
	dump(d, &out);
    else
	sb_printf(&out, "error: %s\n", why.s);
    dsn_free(d);
    sb_reset(&path);
    sb_printf(&path, "%s/%s.ref", dir, name);
    if (!tap_regen(path.s, sb_str(&out), out.len)) {
	CHECK(read_file(path.s, &want) == 0, "cannot read %s", path.s);
	CHECK(strcmp(sb_str(&out), sb_str(&want)) == 0, "%s differs:\n%s", path.s, out.s);
    }
    sb_free(&path), sb_free(&msg), sb_free(&out), sb_free(&want), sb_free(&why);
}

/* parse_file - a fixture's report, which must parse */
static DSN *parse_file(const char *dir, const char *name)
{
    STRBUF  path = STRBUF_INIT, msg = STRBUF_INIT, why = STRBUF_INIT;
    DSN    *d = NULL;

    sb_printf(&path, "%s/%s.eml", dir, name);
    if (read_file(path.s, &msg) == 0)
	CHECK(dsn_parse(msg.s, msg.len, &d, &why) == 0, "%s: %s", name, sb_str(&why));
    sb_free(&path), sb_free(&msg), sb_free(&why);
    return (d);
}

/* picks - the group a bounce about a recipient uses */
static void picks(const char *dir)
{
    DSN    *d = parse_file(dir, "multi");
    const DSN_RCPT *r;

    if (d == NULL)
	return;
    r = dsn_pick(d, "BOB@partner.example");
    CHECK(r && strcmp(r->final_recipient, "bob@partner.example") == 0, "by final");
    r = dsn_pick(d, "list@partner.example");
    CHECK(r && strcmp(r->final_recipient, "bob@partner.example") == 0, "by original");
    r = dsn_pick(d, "carol@partner.example");
    CHECK(r && !dsn_failed(r) && strcmp(r->action, "delayed") == 0, "a delay");
    r = dsn_pick(d, "dave@partner.example");
    CHECK(r && dsn_success(r) && !dsn_hard(r), "a success");
    r = dsn_pick(d, "nobody@partner.example");
    CHECK(r && dsn_hard(r) && strcmp(r->status, "5.2.2") == 0, "the first failure");
    dsn_free(d);
}

/* bounds - many groups, long values, no recipient, NUL bytes */
static void bounds(void)
{
    STRBUF  text = STRBUF_INIT, why = STRBUF_INIT;
    DSN    *d;
    int     i;

    sb_puts(&text, "Reporting-MTA: dns; big.example\n\n");
    for (i = 0; i < DSN_MAX_RCPTS + 50; i++)
	sb_printf(&text, "Final-Recipient: rfc822; r%d@x\nAction: failed\nStatus: 5.1.1\n\n", i);
    CHECK(dsn_parse_status(text.s, text.len, &d, &why) == 0 && d->nrcpts == DSN_MAX_RCPTS,
	  "groups: %zu", d ? d->nrcpts : 0);
    dsn_free(d);
    sb_reset(&text);
    sb_puts(&text, "Final-Recipient: rfc822; a@x\nDiagnostic-Code: smtp; ");
    for (i = 0; i < 3000; i++)
	sb_puts(&text, "xy");
    sb_puts(&text, "\n");
    for (i = 0; i < 3000; i++)
	sb_puts(&text, " more\n");
    CHECK(dsn_parse_status(text.s, text.len, &d, &why) == 0
	  && strlen(d->rcpts[0].diagnostic) <= DSN_MAX_VALUE, "a long value");
    dsn_free(d);
    CHECK(dsn_parse_status("", 0, &d, &why) < 0 && d == NULL, "empty");
    CHECK(dsn_parse_status("Final-Recipient: rfc822; a@x\0\nStatus: 5.1.1\n", 44, &d, &why)
	  == 0 && d->nrcpts == 1 && strcmp(d->rcpts[0].status, "5.1.1") == 0, "a NUL byte");
    dsn_free(d);
    sb_free(&text), sb_free(&why);
}

int     main(void)
{
    static const char *const names[] = {"postfix", "multi", "malformed", "truncated",
    "norecipient", "plain", 0};
    const char *srcdir = getenv("srcdir") ? getenv("srcdir") : ".";
    STRBUF  dir = STRBUF_INIT;
    const char *const *n;

    sb_printf(&dir, "%s/tests/unit/dsn", srcdir);
    for (n = names; *n; n++)
	golden(dir.s, *n);
    picks(dir.s);
    bounds();
    sb_free(&dir);
    return (tap_done("t_dsn"));
}
