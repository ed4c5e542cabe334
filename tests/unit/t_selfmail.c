/*
 * t_selfmail.c - reading mail to the request address: commands from the
 * Subject (Re: and tags taken off) or the first lines of the text (quoted
 * lines and the signature left out), and the mail that must get no answer
 * (RFC 3834: bounces, auto-submitted, list traffic, crier's own).
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

int     main(void)
{
    test_commands();
    test_no_answer();
    return (tap_done("t_selfmail"));
}
