/*
 * t_web.c - the panel's pure parts: html_text() escapes every byte that
 * could end a value or open a tag, html_url() encodes a query value;
 * sessions: made, found, idle too long, signed out, signed out
 * everywhere, kept across a reopen; CSRF tokens compared whole.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "html.h"
#include "session.h"
#include "tap.h"

static void escaping(void)
{
    STRBUF  b = STRBUF_INIT;
    int     ch;

    html_text(&b, "<script>alert(1)</script>");
    CHECK(strcmp(b.s, "&lt;script&gt;alert(1)&lt;/script&gt;") == 0, "got %s", b.s);
    sb_reset(&b);
    html_text(&b, "a\"b'c&d");
    CHECK(strcmp(b.s, "a&quot;b&#39;c&amp;d") == 0, "got %s", b.s);
    sb_reset(&b);
    html_textn(&b, "x\0y\x01z\x7f\tq", 9);
    CHECK(strcmp(b.s, "xyz\tq") == 0, "controls: got %s", b.s);
    sb_reset(&b);
    html_text(&b, "Video & Audio \xc3\xa9");
    CHECK(strcmp(b.s, "Video &amp; Audio \xc3\xa9") == 0, "utf-8 kept: %s", b.s);
    sb_reset(&b);
    html_text(&b, NULL);
    CHECK(b.len == 0, "NULL is empty");
    for (ch = 1; ch < 256; ch++) {		/* no byte gets through raw that matters */
	char    in[2] = {(char) ch, 0};

	sb_reset(&b);
	html_text(&b, in);
	CHECK(strpbrk(b.s, "<>\"'") == NULL
	      && (strchr("&<>\"'", ch) || strchr(b.s, '&') == NULL), "byte %d gave %s", ch, b.s);
    }
    sb_reset(&b);
    html_url(&b, "content_partner/x y&z=\"<");
    CHECK(strcmp(b.s, "content_partner%2Fx%20y%26z%3D%22%3C") == 0, "url: %s", b.s);
    sb_free(&b);
}

static void sessions(const char *dir)
{
    STRBUF  why = STRBUF_INIT, c1 = STRBUF_INIT, c2 = STRBUF_INIT, c3 = STRBUF_INIT;
    SESSION s = SESSION_INIT;
    SESSIONS *ss;
    time_t  t = 1800000000;

    CHECK(sessions_open(dir, &ss, &why) == 0, "open: %s", why.s);
    CHECK(session_create(ss, "Ana@JuicePost.example", t, &c1, &why) == 0, "%s", why.s);
    CHECK(session_create(ss, "ana@juicepost.example", t, &c2, &why) == 0, "%s", why.s);
    CHECK(session_create(ss, "tom@cafe.example", t, &c3, &why) == 0, "%s", why.s);
    CHECK(strcmp(c1.s, c2.s) != 0 && c1.len == 43, "cookie %s", c1.s);
    CHECK(session_find(ss, c1.s, t + 10, &s, &why) == SESSION_OK, "found");
    CHECK(strcmp(s.user.s, "Ana@JuicePost.example") == 0, "user %s", s.user.s);
    CHECK(session_csrf_ok(&s, s.csrf.s), "own csrf");
    CHECK(!session_csrf_ok(&s, NULL) && !session_csrf_ok(&s, ""), "no csrf");
    {
	STRBUF  bad = STRBUF_INIT;

	sb_puts(&bad, s.csrf.s);
	bad.s[0] ^= 1;
	CHECK(!session_csrf_ok(&s, bad.s), "altered csrf");
	sb_putc(&bad, 'x');
	CHECK(!session_csrf_ok(&s, bad.s), "longer csrf");
	sb_free(&bad);
    }
    CHECK(session_find(ss, "nonsense", t, &s, &why) == SESSION_NONE, "not a cookie");
    {
	char    keep = c3.s[5];

	c3.s[5] = keep == 'A' ? 'B' : 'A';
	CHECK(session_find(ss, c3.s, t, &s, &why) == SESSION_NONE, "altered cookie");
	c3.s[5] = keep;
    }

    /* idle: touched within the hour, gone after 12 hours without a request */
    CHECK(session_find(ss, c3.s, t + 3600, &s, &why) == SESSION_OK && s.touched, "touched");
    CHECK(session_find(ss, c3.s, t + 3600 + SESSION_IDLE - 5, &s, &why) == SESSION_OK,
	  "still there");
    CHECK(session_find(ss, c3.s, t + 3600 + 2 * SESSION_IDLE, &s, &why) == SESSION_NONE,
	  "idle too long");

    /* a restart keeps them */
    sessions_close(ss);
    CHECK(sessions_open(dir, &ss, &why) == 0, "reopen: %s", why.s);
    CHECK(session_find(ss, c2.s, t + 20, &s, &why) == SESSION_OK, "kept across reopen");

    /* sign out one, then everywhere (any case of the address) */
    CHECK(session_end(ss, c2.s, &why) == 0, "end");
    CHECK(session_find(ss, c2.s, t + 30, &s, &why) == SESSION_NONE, "ended");
    CHECK(session_find(ss, c1.s, t + 30, &s, &why) == SESSION_OK, "the other stays");
    CHECK(session_create(ss, "ana@juicepost.example", t, &c2, &why) == 0, "%s", why.s);
    CHECK(session_end_all(ss, "ANA@juicepost.example", &why) == 2, "ended everywhere");
    CHECK(session_find(ss, c1.s, t + 40, &s, &why) == SESSION_NONE, "c1 ended");
    CHECK(session_find(ss, c2.s, t + 40, &s, &why) == SESSION_NONE, "c2 ended");

    /* prune */
    CHECK(session_create(ss, "tom@cafe.example", t, &c3, &why) == 0, "%s", why.s);
    CHECK(sessions_prune(ss, t + 100, &why) == 0, "nothing over yet");
    CHECK(sessions_prune(ss, t + SESSION_IDLE + 100, &why) == 1, "one over");
    sb_reset(&c1);
    session_cookie("abc", SESSION_IDLE, &c1);
    CHECK(strcmp(c1.s, "__Host-crier=abc; HttpOnly; Secure; Path=/; SameSite=Lax; "
		 "Max-Age=43200") == 0, "cookie header %s", c1.s);
    session_free(&s);
    sessions_close(ss);
    sb_free(&why), sb_free(&c1), sb_free(&c2), sb_free(&c3);
}

int     main(void)
{
    char    dir[] = "/tmp/crier-test.t_web.XXXXXX";
    char    cmd[128];

    escaping();
    if (mkdtemp(dir) == NULL) {
	perror("mkdtemp");
	return (1);
    }
    sessions(dir);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
	fprintf(stderr, "could not remove %s\n", dir);
    return (tap_done("t_web"));
}
