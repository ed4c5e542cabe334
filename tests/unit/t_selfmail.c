/*
 * t_selfmail.c - reading mail to the request address: commands from the
 * Subject (Re: and tags taken off) or the first lines of the text (quoted
 * lines and the signature left out), and the mail that must get no answer
 * (RFC 3834: bounces, auto-submitted, list traffic, crier's own); what an
 * answer may quote of a request (cut, sanitised), and the day's answers
 * per address (a cap, one "could not understand"), on the given clock.
 */
#include "config.h"

#include <string.h>

#include "selfmail.h"
#include "tap.h"

#define OWN "crier@crier.test"

static void parse(const char *msg, const char *envelope, SELF_MAIL *sm)
{
    selfmail_parse(msg, strlen(msg), envelope, OWN, sm);
}

static void test_commands(void)
{
    SELF_MAIL sm;

    parse("From: Ana <ana@juicepost.example>\nSubject: Re: [ext] AW: mute v1.m.a.b.1.c\n"
	  "Message-ID: <x@y>\n\nignored\n", "ana@juicepost.example", &sm);
    CHECK(sm.ignore == NULL, "%s", sm.ignore);
    CHECK(sm.from && strcmp(sm.from, "ana@juicepost.example") == 0, "from %s", sm.from);
    CHECK(sm.message_id && strcmp(sm.message_id, "<x@y>") == 0, "id %s", sm.message_id);
    CHECK(sm.ncmds == 1 && sm.cmds[0].verb == SELF_MUTE, "subject command");
    CHECK(sm.ncmds == 1 && strcmp(sm.cmds[0].arg, "v1.m.a.b.1.c") == 0, "arg");
    CHECK(selfmail_is_token(sm.cmds[0].arg), "a token");
    selfmail_free(&sm);

    parse("From: ana@juicepost.example\nSubject: please\n\n\nLIST\n> mute quoted\n"
	  "search  QC  \nunmute x/y\n-- \nmute signature\n", "ana@juicepost.example", &sm);
    CHECK(sm.ncmds == 3, "three body commands: %zu", sm.ncmds);
    CHECK(sm.ncmds == 3 && sm.cmds[0].verb == SELF_LIST && sm.cmds[1].verb == SELF_SEARCH
	  && strcmp(sm.cmds[1].arg, "QC") == 0 && sm.cmds[2].verb == SELF_UNMUTE, "verbs");
    CHECK(!sm.unknown, "all known");
    selfmail_free(&sm);

    parse("From: ana@juicepost.example\nSubject: hello\n\nHi, can you stop these?\nmute x\n",
	  "ana@juicepost.example", &sm);
    CHECK(sm.ncmds == 0 && sm.unknown, "prose first: no command, help is due");
    selfmail_free(&sm);
}

static void test_no_answer(void)
{
    static const struct {
	const char *msg;
	const char *envelope;
	const char *why;
    } cases[] = {
	{"From: a@b.example\nSubject: list\n\n", "", "bounce"},
	{"From: a@b.example\nSubject: list\n\n", "MAILER-DAEMON@b.example", "MAILER-DAEMON"},
	{"From: a@b.example\nSubject: list\n\n", "owner-list@b.example", "mailing list"},
	{"From: a@b.example\nSubject: list\n\n", "list-request@b.example", "mailing list"},
	{"From: a@b.example\nAuto-Submitted: auto-replied\nSubject: list\n\n", "a@b.example",
	"auto-submitted"},
	{"From: a@b.example\nPrecedence: Bulk\nSubject: list\n\n", "a@b.example", "Precedence"},
	{"From: a@b.example\nList-Id: <x.y>\nSubject: list\n\n", "a@b.example", "list traffic"},
	{"From: crier@CRIER.test\nSubject: list\n\n", "a@b.example", "own"},
	{"Subject: list\n\n", "a@b.example", "no From"},
    };
    SELF_MAIL sm;
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	parse(cases[i].msg, cases[i].envelope, &sm);
	CHECK(sm.ignore && strstr(sm.ignore, cases[i].why), "case %zu: %s", i,
	      sm.ignore ? sm.ignore : "(answered)");
	CHECK(sm.ncmds == 0, "case %zu: ignored mail has no commands", i);
	selfmail_free(&sm);
    }
    parse("From: a@b.example\nAuto-Submitted: no\nSubject: list\n\n", "a@b.example", &sm);
    CHECK(sm.ignore == NULL && sm.ncmds == 1, "Auto-Submitted: no is a person");
    selfmail_free(&sm);
    parse("From: a@b.example\nMessage-ID: <a\tb@c>\nSubject: help\n\n", "a@b.example", &sm);
    CHECK(sm.message_id == NULL, "an odd Message-ID is not repeated");
    selfmail_free(&sm);
}

/* quoted - what an answer repeats of text */
static int quoted(const char *text, const char *want)
{
    STRBUF  sb = STRBUF_INIT;
    int     same;

    selfmail_quote(text, &sb);
    same = strcmp(sb_str(&sb), want) == 0;
    if (!same)
	fprintf(stderr, "quote of '%s': '%s', expected '%s'\n", text, sb_str(&sb), want);
    sb_free(&sb);
    return (same);
}

static void test_quote(void)
{
    STRBUF  sb = STRBUF_INIT;
    const char *p;
    size_t  n = 0;

    CHECK(quoted("qc_failed", "qc_failed"), "short text as it is");
    CHECK(quoted("", ""), "empty");
    CHECK(quoted(NULL, ""), "none");
    CHECK(quoted("0123456789012345678901234567890123456789", "0123456789012345678901234567890123456789"),
	  "40 characters whole");
    CHECK(quoted("01234567890123456789012345678901234567890", "0123456789012345678901234567890123456789..."),
	  "41 cut and marked");
    CHECK(quoted("a\tb\033[31mc\rd\x7f", "a?b?[31mc?d?"), "control characters");
    CHECK(quoted("M\xc3\xbcller \xe2\x80\xae" "evil", "M\xc3\xbcller ?evil"), "letters kept, bidi not");
    CHECK(quoted("\xff\xfe ok \xc3", "?? ok ?"), "bytes that are not UTF-8");
    CHECK(quoted("\xc2\x85x", "?x"), "a C1 control");
    /* a mail-bomb's payload, in the shape of a search */
    selfmail_quote("Your account is suspended: visit https://evil.example/reset?id=1234567890 now\n"
		   "and enter your password", &sb);
    for (p = sb_str(&sb); *p; p++)
	n += (*p & 0xc0) != 0x80;
    CHECK(n == SELF_QUOTE_MAX + 3 && strcmp(sb.s + sb.len - 3, "...") == 0, "cut: '%s'", sb.s);
    CHECK(strchr(sb.s, '\n') == NULL && strstr(sb.s, "password") == NULL, "no more: '%s'", sb.s);
    sb_free(&sb);
}

static void test_quota(void)
{
    SELF_QUOTA *q = selfquota_create();
    time_t  day = 1750000000 - 1750000000 % 86400;	/* midnight UTC */
    int     i, ok = 0;

    for (i = 0; i < 60; i++)
	ok += selfquota_take(q, "ana@juicepost.example", 0, 50, day + 60 * i) == SELF_QUOTA_OK;
    CHECK(ok == 50, "50 answers a day: %d", ok);
    CHECK(selfquota_take(q, "ANA@juicepost.example", 0, 50, day + 86399) == SELF_QUOTA_DAY,
	  "the address in any case, to the last second of the day");
    CHECK(selfquota_take(q, "marco@juicepost.example", 0, 50, day + 3600) == SELF_QUOTA_OK,
	  "another address has its own");
    CHECK(selfquota_take(q, "ana@juicepost.example", 0, 50, day + 86400) == SELF_QUOTA_OK,
	  "the next day, again");

    CHECK(selfquota_take(q, "marco@juicepost.example", 1, 50, day + 3700) == SELF_QUOTA_OK,
	  "one 'could not understand'");
    CHECK(selfquota_take(q, "marco@juicepost.example", 1, 50, day + 3800) == SELF_QUOTA_PUZZLED,
	  "no second one that day");
    CHECK(selfquota_take(q, "Marco@juicepost.example", 1, 50, day + 86000) == SELF_QUOTA_PUZZLED,
	  "nor later that day");
    CHECK(selfquota_take(q, "marco@juicepost.example", 0, 50, day + 3900) == SELF_QUOTA_OK,
	  "other answers go on");
    CHECK(selfquota_take(q, "ana@juicepost.example", 1, 50, day + 86401) == SELF_QUOTA_OK,
	  "somebody else's 'could not understand'");
    CHECK(selfquota_take(q, "marco@juicepost.example", 1, 50, day + 86400 + 5) == SELF_QUOTA_OK,
	  "the next day, one again");
    selfquota_free(q);
}

int     main(void)
{
    test_commands();
    test_no_answer();
    test_quote();
    test_quota();
    return (tap_done("t_selfmail"));
}
