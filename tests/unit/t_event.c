/*
 * t_event.c - the event parser: golden files and edge cases.
 *
 * Each mail under tests/events (good) and tests/events/bad is parsed and
 * printed; the output must equal the .ref file beside it (CRIER_REGEN=1
 * rewrites the .ref files, for review in git, and fails). Edge cases of the field
 * block (folding, CRLF, limits, injection attempts) are checked inline.
 */
#include "config.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "mem.h"
#include "strv.h"
#include "tap.h"

static void describe(const char *mail, size_t len, STRBUF *out)
{
    STRBUF  why = STRBUF_INIT;
    EVENT  *ev;
    size_t  i;

    if (event_parse_mail(mail, len, &ev, &why) < 0) {
	sb_printf(out, "error: %s\n", sb_str(&why));
	sb_free(&why);
	return;
    }
    sb_printf(out, "type=%s id=%s partner=%s\n", ev->type, ev->id, ev->partner);
    for (i = 0; i < ev->nfields; i++)
	sb_printf(out, "%s (%s): %s\n", ev->fields[i].key, ev->fields[i].name, ev->fields[i].value);
    event_free(ev);
}

static void golden(const char *path)
{
    STRBUF  mail = STRBUF_INIT, got = STRBUF_INIT, want = STRBUF_INIT, ref = STRBUF_INIT;

    sb_putn(&ref, path, strlen(path) - 4);
    sb_puts(&ref, ".ref");
    CHECK(sb_read_file(&mail, path, 0) == 0, "cannot read %s", path);
    describe(sb_str(&mail), mail.len, &got);
    if (!tap_regen(ref.s, sb_str(&got), got.len)) {
	CHECK(sb_read_file(&want, ref.s, 0) == 0, "cannot read %s", ref.s);
	CHECK(strcmp(sb_str(&got), sb_str(&want)) == 0, "%s:\n--- got\n%s--- want\n%s", path,
	      sb_str(&got), sb_str(&want));
    }
    sb_free(&mail), sb_free(&got), sb_free(&want), sb_free(&ref);
}

static void golden_dir(const char *dir)
{
    STRV    names = STRV_INIT;
    struct dirent *de;
    DIR    *dp = opendir(dir);
    size_t  i;

    CHECK(dp != NULL, "cannot open %s", dir);
    while (dp && (de = readdir(dp)) != NULL) {
	size_t  n = strlen(de->d_name);

	if (n > 4 && strcmp(de->d_name + n - 4, ".eml") == 0) {
	    STRBUF  p = STRBUF_INIT;

	    sb_printf(&p, "%s/%s", dir, de->d_name);
	    strv_take(&names, sb_steal(&p));
	}
    }
    if (dp)
	closedir(dp);
    strv_sort(&names);
    CHECK(names.len >= 5, "%s holds only %zu mails", dir, names.len);
    for (i = 0; i < names.len; i++)
	golden(names.v[i]);
    strv_free(&names);
}

/* parses - event_parse on a literal: 0 and the event, or -1 and the reason */
static int parses(const char *text, EVENT **ev, STRBUF *why)
{
    sb_reset(why);
    return (event_parse(text, strlen(text), ev, why));
}

#define BASE "Event: qc-failed\r\nEvent-Id: e1\r\nPartner: Juice Post\r\n"

static void edge_cases(void)
{
    STRBUF  why = STRBUF_INIT;
    EVENT  *ev = NULL;
    STRBUF  big = STRBUF_INIT;
    int     i;

    CHECK(parses("\n\n" BASE "Summary: one\r\n  two\r\n\r\nignored: text\n", &ev, &why) == 0,
	  "%s", sb_str(&why));
    CHECK(ev && strcmp(event_get(ev, "summary"), "one  two") == 0, "folding");
    CHECK(ev && strcmp(ev->type, "qc_failed") == 0, "type normalised");
    CHECK(ev && event_get(ev, "ignored") == NULL, "the block ends at a blank line");
    event_free(ev);
    CHECK(parses(BASE "Title: a\rBcc: x@y\n", &ev, &why) < 0, "bare CR accepted");
    CHECK(parses(BASE "Title: \x1b[31m\n", &ev, &why) < 0, "control character accepted");
    CHECK(parses(BASE "Title: \xc3\x28\n", &ev, &why) < 0, "bad UTF-8 accepted");
    CHECK(parses(BASE "Title: \xc0\xaf\n", &ev, &why) < 0, "overlong UTF-8 accepted");
    CHECK(parses(BASE "partner: Other\n", &ev, &why) < 0
	  && strstr(why.s, "twice"), "duplicate field: %s", sb_str(&why));
    CHECK(parses("Event: x\nPartner: p\n", &ev, &why) < 0
	  && strstr(why.s, "Event-Id"), "missing Event-Id: %s", sb_str(&why));
    CHECK(parses("Event: x\nEvent-Id: a b\nPartner: p\n", &ev, &why) < 0, "space in Event-Id");
    CHECK(parses("Event: x\nEvent-Id: <a@b>\nPartner: p\n", &ev, &why) < 0, "<> in Event-Id");
    CHECK(parses(" continued\n" BASE, &ev, &why) < 0, "leading continuation");
    CHECK(parses(BASE "no colon here\n", &ev, &why) < 0
	  && strstr(why.s, "line 4"), "line number: %s", sb_str(&why));
    CHECK(parses("", &ev, &why) < 0, "empty text");
    for (i = 0; i <= EVENT_MAX_FIELDS; i++)
	sb_printf(&big, "X-F%d: v\n", i);
    CHECK(parses(big.s, &ev, &why) < 0 && strstr(why.s, "more than"), "too many fields");
    sb_reset(&big);
    sb_puts(&big, BASE "Summary: ");
    for (i = 0; i < EVENT_MAX_VALUE + 1; i++)
	sb_putc(&big, 'a');
    CHECK(parses(big.s, &ev, &why) < 0 && strstr(why.s, "longer"), "value too long");
    sb_free(&big);
    sb_free(&why);
}

int     main(void)
{
    const char *srcdir = getenv("srcdir") ? getenv("srcdir") : ".";
    STRBUF  dir = STRBUF_INIT;

    edge_cases();
    sb_printf(&dir, "%s/tests/events", srcdir);
    golden_dir(dir.s);
    sb_puts(&dir, "/bad");
    golden_dir(dir.s);
    sb_free(&dir);
    return (tap_done("t_event"));
}
