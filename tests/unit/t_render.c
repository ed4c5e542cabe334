/*
 * t_render.c - the notification message: golden files for what a person
 * reads (the .ref files in tests/render; CRIER_REGEN=1 rewrites them, and
 * the run fails for review), and the rules no event can break: one header
 * per line, non-ASCII only RFC 2047-encoded, the same Message-ID for the
 * same event, recipient and frequency.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "tap.h"

static const char *const events[] = {
    /* plain, two notifications */
    "Event: redelivery-requested\nEvent-Id: 7f3c2a9e\nPartner: Juice Post\n"
	"Title: The Long Night S01E03\nContent-Type: Branded\nSource-Type: Video & Audio\n"
	"Summary: QC rejected the video: audio out of sync.\nLink: https://portal.example/r/1\n",
    /* non-ASCII title, and an attempt to smuggle a header through a value */
    "Event: qc-failed\nEvent-Id: b2\nPartner: Northlight\nTitle: Caf\xc3\xa9 Society =?utf-8?q?x?=\n"
	"Summary: Bcc: victim@example.org\n  Subject: forged\n",
};

/* check_headers - CRLF everywhere, ASCII only, one Subject, no smuggled header */
static void check_headers(const char *msg)
{
    const char *p, *end = strstr(msg, "\r\n\r\n");
    int     subjects = 0;

    CHECK(end != NULL, "no end of headers");
    for (p = msg; *p; p++) {
	CHECK((unsigned char) *p < 0x80, "non-ASCII byte at %ld", (long) (p - msg));
	if (*p == '\n')
	    CHECK(p > msg && p[-1] == '\r', "bare LF at %ld", (long) (p - msg));
    }
    for (p = msg; end && p < end; p = strstr(p, "\r\n") + 2) {
	CHECK(strncmp(p, "Bcc:", 4) != 0 && strncmp(p, "Subject: forged", 15) != 0,
	      "smuggled header: %.40s", p);
	if (strncmp(p, "Subject:", 8) == 0)
	    subjects++;
    }
    CHECK(subjects == 1, "%d Subject headers", subjects);
}

/* render_one - event k as a notification, against tests/render/NAME.ref; web: the panel's links */
static void render_one(int k, const char *name, size_t nnotifs, int web)
{
    static const RENDER_NOTIF notifs[] = {
	{"content_partner/all_redeliveries", 'd', "immediately", "source_type = Video & Audio",
	"v1.m.TOKEN1"},
	{"german_redeliveries", 'c', "immediately", "language = de", "v1.m.TOKEN2"},
    };
    STRBUF  out = STRBUF_INIT, why = STRBUF_INIT, mid = STRBUF_INIT;
    STRBUF  ref = STRBUF_INIT, want = STRBUF_INIT;
    const char *srcdir = getenv("srcdir") ? getenv("srcdir") : ".";
    RENDER_IN in;
    EVENT  *ev;
    FILE   *fp;
    char    buf[4096];
    size_t  n;

    CHECK(event_parse(events[k], strlen(events[k]), &ev, &why) == 0, "%s", sb_str(&why));
    render_message_id(ev->id, "Ana@JuicePost.example", "immediately", "crier@crier.test", &mid);
    memset(&in, 0, sizeof(in));
    in.ev = ev;
    in.event_title = k == 0 ? "Redelivery Requested" : "QC Failed";
    in.recipient = "ana@juicepost.example";
    in.sender = "crier@crier.test";
    in.request_address = "crier-request@crier.test";
    in.message_id = mid.s;
    in.date = 1796040000;
    in.notifs = notifs;
    in.nnotifs = nnotifs;
    if (web) {
	in.web.base_url = "https://notify.crier.test/";
	in.web.manage_token = "v1.p.MANAGE";
    }
    CHECK(render_notification(&in, &out, &why) == 0, "%s", sb_str(&why));
    sb_printf(&ref, "%s/tests/render/%s.ref", srcdir, name);
    if (!tap_regen(ref.s, sb_str(&out), out.len)) {
	CHECK((fp = fopen(ref.s, "rb")) != NULL, "cannot read %s", ref.s);
	while (fp && (n = fread(buf, 1, sizeof(buf), fp)) > 0)
	    sb_putn(&want, buf, n);
	if (fp)
	    fclose(fp);
	CHECK(strcmp(sb_str(&out), sb_str(&want)) == 0, "%s differs:\n%s", ref.s, sb_str(&out));
    }
    check_headers(out.s);
    CHECK((strstr(out.s, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n") != NULL) == web,
	  "%s: List-Unsubscribe-Post %s", name, web ? "missing" : "without web_base_url");
    CHECK(!web || strstr(out.s, "List-Unsubscribe: <https://notify.crier.test/u/v1.m.TOKEN1>, "
			 "<mailto:crier-request@crier.test?subject=mute%20v1.m.TOKEN1>\r\n"),
	  "%s: List-Unsubscribe without the one-click link first", name);
    event_free(ev);
    sb_free(&out), sb_free(&why), sb_free(&mid), sb_free(&ref), sb_free(&want);
}

/*
 * digest_web - a digest of one notification, with and without the panel:
 * the one-click link, List-Unsubscribe-Post and the manage link come and
 * go together with web_base_url
 */
static void digest_web(int web)
{
    static const RENDER_NOTIF n = {"content_partner/new_requests_daily", 'd', "daily",
    "priority = Rush", "v1.m.TOKEN3"};
    STRBUF  out = STRBUF_INIT, why = STRBUF_INIT;
    RENDER_DIGEST d;
    RENDER_ITEM it;
    EVENT  *ev;

    CHECK(event_parse(events[0], strlen(events[0]), &ev, &why) == 0, "%s", sb_str(&why));
    memset(&d, 0, sizeof(d));
    it.ev = ev, it.event_title = "Redelivery Requested", it.notif = n.id;
    d.recipient = "ana@juicepost.example", d.sender = "crier@crier.test";
    d.request_address = "crier-request@crier.test", d.message_id = "digest.1@crier.test";
    d.date = 1796040000, d.frequency = "daily", d.freq_title = "Daily", d.period = "30 Nov";
    d.items = &it, d.nitems = 1, d.notifs = &n, d.nnotifs = 1;
    if (web)
	d.web.base_url = "https://notify.crier.test/", d.web.manage_token = "v1.p.MANAGE";
    CHECK(render_digest(&d, &out, &why) == 0, "%s", sb_str(&why));
    CHECK((strstr(sb_str(&out), "List-Unsubscribe: <https://notify.crier.test/u/v1.m.TOKEN3>, "
		  "<mailto:") != NULL) == web, "digest: one-click link %s", web ? "missing"
	  : "without web_base_url");
    CHECK((strstr(sb_str(&out), "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
	   != NULL) == web, "digest: List-Unsubscribe-Post");
    CHECK((strstr(sb_str(&out), "Manage your notifications: https://notify.crier.test/s/"
		  "v1.p.MANAGE") != NULL) == web, "digest: manage link");
    check_headers(sb_str(&out));
    event_free(ev);
    sb_free(&out), sb_free(&why);
}

/*
 * digest_several - a digest of two notifications: with the panel, the
 * one-click link of the whole digest (its digest token, no mailto: as no
 * mail command mutes a digest) and List-Unsubscribe-Post; without, neither
 */
static void digest_several(int web)
{
    static const RENDER_NOTIF n[] = {
	{"content_partner/new_requests_daily", 'd', "daily", "priority = Rush", "v1.m.TOKEN3"},
	{"qc_failed_daily", 'c', "daily", "partner = Northlight", "v1.m.TOKEN4"},
    };
    STRBUF  out = STRBUF_INIT, why = STRBUF_INIT;
    RENDER_DIGEST d;
    RENDER_ITEM it[2];
    EVENT  *ev;

    CHECK(event_parse(events[0], strlen(events[0]), &ev, &why) == 0, "%s", sb_str(&why));
    memset(&d, 0, sizeof(d));
    it[0].ev = ev, it[0].event_title = "Redelivery Requested", it[0].notif = n[0].id;
    it[1] = it[0], it[1].notif = n[1].id;
    d.recipient = "ana@juicepost.example", d.sender = "crier@crier.test";
    d.request_address = "crier-request@crier.test", d.message_id = "digest.2@crier.test";
    d.date = 1796040000, d.frequency = "daily", d.freq_title = "Daily", d.period = "30 Nov";
    d.items = it, d.nitems = 2, d.notifs = n, d.nnotifs = 2;
    if (web) {
	d.web.base_url = "https://notify.crier.test/", d.web.manage_token = "v1.p.MANAGE";
	d.digest_token = "v1.d.DIGEST";
    }
    CHECK(render_digest(&d, &out, &why) == 0, "%s", sb_str(&why));
    CHECK((strstr(sb_str(&out), "\r\nList-Unsubscribe: <https://notify.crier.test/u/v1.d.DIGEST>"
		  "\r\n") != NULL) == web, "digest of two: one-click link %s", web ? "missing"
	  : "without web_base_url");
    CHECK(web || strstr(sb_str(&out), "List-Unsubscribe:") == NULL,
	  "digest of two: List-Unsubscribe without web_base_url");
    CHECK((strstr(sb_str(&out), "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
	   != NULL) == web, "digest of two: List-Unsubscribe-Post");
    CHECK(strstr(sb_str(&out), "List-Id: <digest.") != NULL, "digest of two: List-Id");
    check_headers(sb_str(&out));
    event_free(ev);
    sb_free(&out), sb_free(&why);
}

int     main(void)
{
    STRBUF  a = STRBUF_INIT, b = STRBUF_INIT, c = STRBUF_INIT;

    render_one(0, "two-notifications", 2, 0);
    render_one(1, "non-ascii", 1, 0);
    render_one(0, "web-links", 2, 1);
    digest_web(0);
    digest_web(1);
    digest_several(0);
    digest_several(1);
    render_message_id("e1", "Ana@Example.org", "daily", "crier@crier.test", &a);
    render_message_id("e1", "ana@example.org", "daily", "crier@crier.test", &b);
    render_message_id("e1", "ana@example.org", "weekly", "crier@crier.test", &c);
    CHECK(strcmp(a.s, b.s) == 0, "Message-ID depends on the recipient's case");
    CHECK(strcmp(b.s, c.s) != 0, "Message-ID ignores the frequency");
    CHECK(strstr(a.s, "@crier.test") != NULL, "Message-ID domain: %s", a.s);
    sb_free(&a), sb_free(&b), sb_free(&c);
    return (tap_done("t_render"));
}
