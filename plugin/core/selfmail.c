/*
 * selfmail.c - a person's mail to the request address, read (see
 * selfmail.h). Nothing here trusts the mail: the From: address only says
 * whom to answer (and crierd answers a registered address only), and a
 * command that changes settings needs a signed token.
 */
#include "config.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "mail.h"
#include "mem.h"
#include "selfmail.h"
#include "strbuf.h"
#include "strutil.h"

static const struct {
    const char *word;
    int     verb;
} self_verbs[] = {
    {"help", SELF_HELP}, {"list", SELF_LIST}, {"search", SELF_SEARCH},
    {"mute", SELF_MUTE}, {"unmute", SELF_UNMUTE}, {"confirm", SELF_CONFIRM},
    {NULL, 0},
};

int     selfmail_is_token(const char *arg)
{
    return (strncmp(arg, "v1.", 3) == 0);
}

/* header_has - a header's value is one of the words (case aside) */
static int header_is(GMimeMessage *m, const char *name, const char *const *words)
{
    const char *v = g_mime_object_get_header(GMIME_OBJECT(m), name);
    STRBUF  sb = STRBUF_INIT;
    int     hit = 0;

    if (v == NULL)
	return (0);
    sb_puts(&sb, v);
    str_trim(sb.s);
    for (; *words && !hit; words++)
	hit = str_casecmp(sb.s, *words) == 0;
    sb_free(&sb);
    return (hit);
}

/*
 * no_answer - RFC 3834 section 2 and common sense: the reason this mail
 * must get no answer (and do nothing), or NULL
 */
static const char *no_answer(GMimeMessage *m, const char *envelope, const char *from,
			             const char *own)
{
    static const char *const precedence[] = {"bulk", "list", "junk", NULL};
    static const char *const no[] = {"no", NULL};
    const char *at = strchr(envelope, '@');
    size_t  llen = at ? (size_t) (at - envelope) : strlen(envelope);

    if (*envelope == 0)
	return ("a bounce (empty envelope sender)");
    if (str_ncasecmp(envelope, "mailer-daemon", llen) == 0 && llen == 13)
	return ("from MAILER-DAEMON");
    if (str_ncasecmp(envelope, "owner-", 6) == 0
	|| (llen > 8 && str_ncasecmp(envelope + llen - 8, "-request", 8) == 0))
	return ("from a mailing list's address");
    if (g_mime_object_get_header(GMIME_OBJECT(m), "Auto-Submitted") && !header_is(m,
						       "Auto-Submitted", no))
	return ("auto-submitted mail");
    if (header_is(m, "Precedence", precedence))
	return ("bulk or list mail (Precedence)");
    if (g_mime_object_get_header(GMIME_OBJECT(m), "List-Id")
	|| g_mime_object_get_header(GMIME_OBJECT(m), "List-Post"))
	return ("list traffic");
    if (from == NULL)
	return ("no From: address");
    if (str_casecmp(from, own) == 0)
	return ("crier's own mail");
    return (NULL);
}

/* first_from - the first mailbox of From:, or NULL */
static char *first_from(GMimeMessage *m)
{
    InternetAddressList *l = g_mime_message_get_from(m);
    int     i;

    for (i = 0; l && i < internet_address_list_length(l); i++) {
	InternetAddress *a = internet_address_list_get_address(l, i);

	if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
	    const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));

	    return (addr && *addr && !str_has_ctl(addr) ? xstrdup(addr) : NULL);
	}
    }
    return (NULL);
}

/* safe_id - the Message-ID as <...> if it is plain printable ASCII, else NULL */
static char *safe_id(GMimeMessage *m)
{
    const char *id = g_mime_message_get_message_id(m);
    STRBUF  sb = STRBUF_INIT;
    const char *p;

    if (id == NULL || strlen(id) > 200)
	return (NULL);
    for (p = id; *p; p++)
	if (*p <= ' ' || *p >= 0x7f || *p == '<' || *p == '>')
	    return (NULL);
    sb_printf(&sb, "<%s>", id);
    return (sb_steal(&sb));
}

/* command - one line as a command; 0 when it is none */
static int command(SELF_MAIL *sm, char *line)
{
    char   *word = str_trim(line), *arg;
    size_t  i;

    arg = word + strcspn(word, " \t");
    if (*arg)
	*arg++ = 0;
    for (i = 0; self_verbs[i].word; i++)
	if (str_casecmp(word, self_verbs[i].word) == 0)
	    break;
    if (self_verbs[i].word == NULL || sm->ncmds == SELF_MAX_CMDS)
	return (0);
    sm->cmds[sm->ncmds].verb = self_verbs[i].verb;
    sm->cmds[sm->ncmds++].arg = xstrdup(str_trim(arg));
    return (1);
}

/* subject_command - the Subject without Re:, Fwd:, AW:, [tags], as a command */
static int subject_command(SELF_MAIL *sm, GMimeMessage *m)
{
    const char *subj = g_mime_message_get_subject(m);
    STRBUF  sb = STRBUF_INIT;
    char   *p;
    int     rc, again = 1;

    if (subj == NULL)
	return (0);
    sb_puts(&sb, subj);
    for (p = str_trim(sb.s); again;) {
	again = 0;
	if (str_ncasecmp(p, "re:", 3) == 0 || str_ncasecmp(p, "aw:", 3) == 0)
	    p = str_trim(p + 3), again = 1;
	else if (str_ncasecmp(p, "fwd:", 4) == 0)
	    p = str_trim(p + 4), again = 1;
	else if (*p == '[' && strchr(p, ']'))
	    p = str_trim(strchr(p, ']') + 1), again = 1;
    }
    rc = command(sm, p);
    sb_free(&sb);
    return (rc);
}

/*
 * body_commands - the first lines of the text: blank and quoted lines
 * skipped, ended by the signature or by the first line that is no command
 */
static void body_commands(SELF_MAIL *sm, char *text)
{
    char   *line, *save = NULL;

    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
	line[strcspn(line, "\r")] = 0;
	if (strcmp(line, "-- ") == 0 || strcmp(line, "--") == 0)
	    break;
	if (*str_trim(line) == 0 || *line == '>')
	    continue;
	if (!command(sm, line)) {
	    sm->unknown = 1;
	    break;
	}
    }
}

/* selfmail_parse - read the mail; out->ignore says when it must be left alone */
void    selfmail_parse(const char *msg, size_t len, const char *envelope_sender,
		               const char *own_address, SELF_MAIL *out)
{
    GMimeMessage *m = mail_parse(msg, len);
    char   *text;

    memset(out, 0, sizeof(*out));
    if (m == NULL) {
	out->ignore = "not a mail message";
	return;
    }
    out->from = first_from(m);
    out->message_id = safe_id(m);
    out->ignore = no_answer(m, envelope_sender, out->from, own_address);
    if (out->ignore == NULL && !subject_command(out, m) && (text = mail_first_text(m))) {
	body_commands(out, text);
	g_free(text);
    }
    g_object_unref(m);
}

void    selfmail_free(SELF_MAIL *sm)
{
    size_t  i;

    for (i = 0; i < sm->ncmds; i++)
	free(sm->cmds[i].arg);
    free(sm->from);
    free(sm->message_id);
    memset(sm, 0, sizeof(*sm));
}

/*
 * selfmail_quote - a piece of the request to repeat in an answer: at most
 * SELF_QUOTE_MAX characters, "..." when there were more, letters, digits,
 * punctuation and spaces only (a control character, other white space, a
 * format character such as a bidi override, or bytes that are not UTF-8
 * each become one '?')
 */
void    selfmail_quote(const char *text, STRBUF *out)
{
    const char *p = text ? text : "", *end = p + strlen(p);
    gunichar c;
    int     n;

    for (n = 0; *p; n++) {
	if (n == SELF_QUOTE_MAX) {
	    sb_puts(out, "...");
	    return;
	}
	c = g_utf8_get_char_validated(p, end - p);
	if (c == (gunichar) - 1 || c == (gunichar) - 2) {
	    sb_putc(out, '?');
	    p++;
	    continue;
	}
	if (c == ' ' || (c > ' ' && c < 0x7f) || (c >= 0xa0 && (g_unichar_isalnum(c)
						      || g_unichar_ispunct(c))))
	    sb_putn(out, p, (size_t) (g_utf8_next_char(p) - p));
	else
	    sb_putc(out, '?');
	p = g_utf8_next_char(p);
    }
}

/*
 * selfmail_describe - the commands of a mail, for the log: each verb and
 * its argument as selfmail_quote() repeats it, a token as "TOKEN" (what
 * it proves stays out of the log)
 */
void    selfmail_describe(const SELF_MAIL *sm, STRBUF *out)
{
    size_t  i, v;

    for (i = 0; i < sm->ncmds; i++) {
	for (v = 0; self_verbs[v].word && self_verbs[v].verb != sm->cmds[i].verb; v++)
	     /* void */ ;
	sb_printf(out, "%s%s", i ? "; " : "", self_verbs[v].word ? self_verbs[v].word : "?");
	if (*sm->cmds[i].arg == 0)
	    continue;
	sb_putc(out, ' ');
	if (selfmail_is_token(sm->cmds[i].arg))
	    sb_puts(out, "TOKEN");
	else
	    selfmail_quote(sm->cmds[i].arg, out);
    }
    if (sm->ncmds == 0)
	sb_puts(out, "none");
    if (sm->unknown)
	sb_puts(out, " (and a line that is no command)");
}

/*
 * The day's answers: address -> how many, and whether one said "could not
 * understand". Only registered addresses are answered, so the table stays
 * as small as the users; it starts empty each day (UTC).
 */
typedef struct quota_entry {
    long    answers;
    int     puzzled;
} QUOTA_ENTRY;

struct self_quota {
    GHashTable *today;			/* lower-case address (owned) -> QUOTA_ENTRY */
    time_t  day;			/* now / 86400 of the table */
};

SELF_QUOTA *selfquota_create(void)
{
    SELF_QUOTA *q = xcalloc(1, sizeof(SELF_QUOTA));

    q->today = g_hash_table_new_full(g_str_hash, g_str_equal, free, free);
    return (q);
}

void    selfquota_free(SELF_QUOTA *q)
{
    if (q == NULL)
	return;
    g_hash_table_destroy(q->today);
    free(q);
}

/*
 * selfquota_take - may address have one more answer today (puzzled: one
 * that says the mail was not understood)? When it may, it is counted.
 */
int     selfquota_take(SELF_QUOTA *q, const char *address, int puzzled, long per_day,
		               time_t now)
{
    char   *key = xstrdup(address);
    QUOTA_ENTRY *e;

    if (now / 86400 != q->day) {
	g_hash_table_remove_all(q->today);
	q->day = now / 86400;
    }
    str_lower(key);
    if ((e = g_hash_table_lookup(q->today, key)) == NULL) {
	e = xcalloc(1, sizeof(QUOTA_ENTRY));
	g_hash_table_insert(q->today, key, e);
    } else
	free(key);
    if (e->answers >= per_day)
	return (SELF_QUOTA_DAY);
    if (puzzled && e->puzzled)
	return (SELF_QUOTA_PUZZLED);
    e->answers++;
    e->puzzled |= puzzled != 0;
    return (SELF_QUOTA_OK);
}
