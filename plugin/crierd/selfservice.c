/*
 * selfservice.c - answering mail to the request address.
 *
 * The milter stores each such mail durably (intake.c); this thread takes
 * them oldest first, reads them (selfmail.c), carries out their commands
 * and answers. The answer goes to the outbox in the same transaction that
 * removes the request and marks its token used, so a crash repeats at
 * most a change that is already made (a mute of a muted notification
 * changes nothing) and never loses or doubles an answer.
 *
 *   mute TOKEN, unmute TOKEN, confirm TOKEN
 *		a signed token (the List-Unsubscribe link of a notification,
 *		or a confirmation crier sent) is the proof: it is carried out
 *		for the user it names, once, within SELF_TOKEN_MAX_AGE, and
 *		the answer says how to undo it
 *   mute NAME, unmute NAME
 *		From: proves nothing: the answer, sent to the registered
 *		address, asks to confirm with a signed token
 *   help, list, search TEXT
 *		answered to the registered address of the From: user only
 *
 * An address gets at most SELF_ANSWERS_PER_MINUTE answers a minute (a
 * token bucket, as for the policy service) and SELF_ANSWERS_PER_DAY a day
 * (UTC), of which one only may say that its mail was not understood; an
 * answer repeats at most SELF_QUOTE_MAX sanitised characters of the mail.
 * So mail with a forged From: can neither bury a user in answers nor make
 * crier carry its words. The counts live in memory: a restart of the
 * worker starts them afresh.
 *
 * Changes go through change.c, as crierctl's do, and the user is compiled
 * anew into the set in service at once (compile.c); when only a whole
 * compile will do, a SIGHUP asks the supervisor for one. Mail that must
 * not be answered (RFC 3834) changes nothing either; mail from strangers
 * gets no answer.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "change.h"
#include "clock.h"
#include "compile.h"
#include "crierd.h"
#include "log.h"
#include "mem.h"
#include "render.h"
#include "selfmail.h"
#include "service.h"
#include "strutil.h"

#define SELF_TOKEN_MAX_AGE	(60 * 86400)	/* seconds a link stays good */
#define SELF_POLL		5		/* seconds between looks without a wake */
#define SELF_ANSWERS_PER_MINUTE	10		/* to one address, in a burst and then */
#define SELF_ANSWERS_PER_DAY	50		/* to one address, UTC day */

/* What one request makes: the answer, to whom, and what it used or changed. */
typedef struct answer {
    STRBUF  text;
    STRBUF  subject;
    STRBUF  to;				/* a registered address, or empty: no answer */
    STRBUF  mac;			/* the token used, or empty */
    int     changed;			/* rules.d/users changed, not compiled */
    int     puzzled;			/* help for a line not understood ... */
    size_t  help_at;			/* ... starts here in text */
    const char *qid;			/* of the request, for the log */
} ANSWER;

static SERVICE self_svc;		/* the thread (service.c) */
static THROTTLE *answers;		/* answers per address: no mail bomb by forged From: */
static SELF_QUOTA *quota;		/* ... and per day */

/* selfservice_wake - a request was stored: answer it now, not at the next poll */
void    selfservice_wake(void)
{
    service_wake(&self_svc);
}

/* registered - the address as rules.d writes it, or 0 when not a user */
static int registered(const char *address, STRBUF *out)
{
    STRBUF  why = STRBUF_INIT;
    MDB_txn *txn;
    RDB_USER u;
    int     rc = 0;

    if (address && rulesdb_read(crierd.rdb, &txn, &why) == 0) {
	if (rulesdb_get_user(crierd.rdb, txn, address, &u, &why) == 0) {
	    sb_reset(out);
	    sb_puts(out, u.address);
	    rc = 1;
	}
	rulesdb_end(crierd.rdb, txn);
    }
    sb_free(&why);
    return (rc);
}

/*
 * views - the user's notifications, one line each, those holding text
 * (any, when NULL); returns how many, or -1 when name is given and found
 * (then only that one is looked for)
 */
static int views(const char *user, const char *text, const char *name, STRBUF *out)
{
    STRBUF  why = STRBUF_INIT, line = STRBUF_INIT, where = STRBUF_INIT;
    MDB_txn *txn;
    RDB_USER u;
    RDB_VIEW v;
    uint32_t i;
    int     n = 0;

    if (rulesdb_read(crierd.rdb, &txn, &why) < 0)
	return (0);
    for (i = 0; rulesdb_get_user(crierd.rdb, txn, user, &u, &why) == 0 && i < u.count; i++) {
	if (rulesdb_get_view(crierd.rdb, txn, u.first + i, &v, &why) != 0)
	    break;
	if (name && strcmp(v.notif, name) == 0) {
	    n = -1;
	    break;
	}
	sb_reset(&line), sb_reset(&where);
	rulesdb_view_where(&v, &where);
	sb_printf(&line, "  %s: %s, %s, where %s%s\n", v.notif, v.event, v.frequency, where.s,
		  v.muted != RDB_ACTIVE ? " (muted)" : "");
	if (!name && (text == NULL || str_casestr(line.s, text)))
	    sb_puts(out, line.s), n++;
    }
    rulesdb_end(crierd.rdb, txn);
    sb_free(&why), sb_free(&line), sb_free(&where);
    return (n);
}

static void help(ANSWER *a, const char *request_address)
{
    sb_printf(&a->text, "Write one command a line, at the top of a mail to\n%s, or as its "
	      "subject:\n\n  help             this text\n  list             your "
	      "notifications\n  search TEXT      those that mention TEXT\n  mute NAME        "
	      "stop one (you will be asked to confirm)\n  unmute NAME      start it again "
	      "(likewise)\n\nEvery notification also carries a link that mutes it at\nonce.\n",
	      request_address);
}

/* ask_confirm - mute NAME / unmute NAME: a signed token to confirm with */
static void ask_confirm(const LIVE *lv, ANSWER *a, const char *user, int mute, const char *name)
{
    STRBUF  token = STRBUF_INIT;

    if (views(user, NULL, name, &a->text) != -1) {
	msg_debug("%s: request user=<%s>: %smute: no such notification", a->qid, user,
		  mute ? "" : "un");
	sb_puts(&a->text, "You have no notification called '");
	selfmail_quote(name, &a->text);
	sb_puts(&a->text, "' (send \"list\").\n");
	return;
    }
    msg_debug("%s: request user=<%s>: %smute %s: confirmation asked", a->qid, user,
	      mute ? "" : "un", name);
    token_make(&lv->key, mute ? TOKEN_MUTE : TOKEN_UNMUTE, user, name, clock_now(), &token);
    sb_printf(&a->text, "To %s '%s', answer this mail without\nchanging its subject, or send "
	      "a mail to\n%s with this subject:\n\n  confirm %s\n\n", mute ? "mute" : "unmute",
	      name, lv->conf.request_address, token.s);
    if (a->subject.len == 0)
	sb_printf(&a->subject, "confirm %s", token.s);
    sb_free(&token);
}

/* compile_change - the changed user into the set in service, or ask for a whole compile */
static void compile_change(const LIVE *lv, ANSWER *a, const char *address, const char *file)
{
    STRBUF  why = STRBUF_INIT;
    COMPILE_STATS st;
    int     rc = compile_user_file(crierd.rdb, lv->conf.rules_dir, file, address, &st, &why);

    if (rc == 0)
	msg_info("selfservice: rules: %s compiled anew: generation %llu", address,
		 (unsigned long long) st.generation);
    else {
	if (rc < 0)
	    msg_error("selfservice: rules: %s", why.s);
	a->changed = 1;				/* a SIGHUP: the supervisor compiles */
    }
    sb_free(&why);
}

/* use_token - carry out a signed token once; the answer tells how it went */
static void use_token(const LIVE *lv, ANSWER *a, const char *token)
{
    STRBUF  user = STRBUF_INIT, notif = STRBUF_INIT, why = STRBUF_INIT, undo = STRBUF_INIT;
    STRBUF  file = STRBUF_INIT;
    CHANGE  c;
    CHANGE_DONE done;
    MDB_txn *txn;
    time_t  issued;
    const char *refused;
    int     action, used = -1;

    if (token_check(&lv->key, token, &action, &user, &notif, &issued, &why) < 0
	|| (action != TOKEN_MUTE && action != TOKEN_UNMUTE)) {
	msg_debug("%s: request: link refused: not valid (%s)", a->qid,
		  why.len ? why.s : "unknown action");
	sb_printf(&a->text, "This link is not valid (%s); nothing was changed.\n",
		  why.len ? why.s : "unknown action");
	goto out;
    }
    if (statedb_read(crierd.sdb, &txn, &why) == 0) {
	used = statedb_token_used(crierd.sdb, txn, strrchr(token, '.') + 1, &why);
	statedb_end(crierd.sdb, txn);
    }
    sb_reset(&a->to);			/* crier signed it: its user hears of it */
    registered(user.s, &a->to);
    refused = used > 0 ? "was used before" : used < 0 ? "cannot be checked now, try again later"
	: clock_now() - issued > SELF_TOKEN_MAX_AGE ? "has expired" : NULL;
    msg_debug("%s: request user=<%s>: link to %s %s: %s", a->qid, user.s,
	      action == TOKEN_MUTE ? "mute" : "unmute", notif.s, refused ? refused : "valid");
    if (refused) {
	sb_printf(&a->text, "This link %s; nothing was changed.\n", refused);
	goto out;
    }
    memset(&c, 0, sizeof(c));
    c.verb = action == TOKEN_MUTE ? CHANGE_MUTE : CHANGE_UNMUTE;
    c.user = user.s;
    c.name = notif.s;
    c.channel = "mail";
    c.user_file = change_user_file(crierd.rdb, lv->conf.rules_dir, user.s, &file);
    if (change_apply(lv->conf.rules_dir, &c, &done, &why) < 0) {
	msg_warn("selfservice: %s %s for %s: %s", change_verb_name(c.verb), c.name, c.user, why.s);
	sb_printf(&a->text, "'%s' could not be %sd; nothing was changed.\nThe postmaster "
		  "can see why in the mail log.\n", notif.s, change_verb_name(c.verb));
	goto out;
    }
    msg_info("selfservice: %s %s for %s%s", change_verb_name(c.verb), c.name, c.user,
	     done.unchanged ? " (already so)" : "");
    if (!done.unchanged)
	compile_change(lv, a, c.user, done.file);
    sb_puts(&a->mac, strrchr(token, '.') + 1);
    token_make(&lv->key, action == TOKEN_MUTE ? TOKEN_UNMUTE : TOKEN_MUTE, user.s, notif.s,
	       clock_now(), &undo);
    sb_printf(&a->text, "'%s' is %s.\n\nTo undo this, answer this mail without changing its "
	      "subject, or\nsend a mail to %s with this subject:\n\n  confirm %s\n", notif.s,
	      action == TOKEN_MUTE ? "muted" : "active again", lv->conf.request_address, undo.s);
    sb_reset(&a->subject);
    sb_printf(&a->subject, "confirm %s", undo.s);
    change_done_free(&done);
  out:
    sb_free(&user), sb_free(&notif), sb_free(&why), sb_free(&undo), sb_free(&file);
}

/*
 * commands - the mail's commands, into the answer. A mail with a token is
 * about that token alone: the answer goes to the user the token names
 * (when it is crier's), and nothing else of the mail is done, so that a
 * forged From: next to somebody's link gets nobody's list or confirmation.
 * Without a token, a->to is the sender's registered address, or empty
 * (a stranger: nothing is answered).
 */
static void commands(const LIVE *lv, const SELF_MAIL *sm, ANSWER *a)
{
    const char *user;
    size_t  i;

    for (i = 0; i < sm->ncmds; i++)
	if (selfmail_is_token(sm->cmds[i].arg) && sm->cmds[i].verb != SELF_SEARCH) {
	    use_token(lv, a, sm->cmds[i].arg);
	    return;
	}
    if (a->to.len == 0)
	return;
    user = a->to.s;			/* not changed from here on */
    for (i = 0; i < sm->ncmds; i++) {
	const SELF_CMD *c = &sm->cmds[i];

	if (c->verb == SELF_CONFIRM)
	    continue;
	else if (c->verb == SELF_LIST && views(user, NULL, NULL, &a->text) == 0)
	    sb_puts(&a->text, "You have no notifications.\n");
	else if (c->verb == SELF_SEARCH && views(user, c->arg, NULL, &a->text) == 0) {
	    sb_puts(&a->text, "None of your notifications mentions '");
	    selfmail_quote(c->arg, &a->text);
	    sb_puts(&a->text, "'.\n");
	}
	else if ((c->verb == SELF_MUTE || c->verb == SELF_UNMUTE) && *c->arg)
	    ask_confirm(lv, a, user, c->verb == SELF_MUTE, c->arg);
	else if (c->verb == SELF_HELP || c->verb == SELF_MUTE || c->verb == SELF_UNMUTE)
	    help(a, lv->conf.request_address);
	sb_putc(&a->text, '\n');
    }
    if (sm->ncmds == 0 || sm->unknown) {
	a->puzzled = 1;
	a->help_at = a->text.len;
	help(a, lv->conf.request_address);
    }
}

/*
 * within_quota - the answer within its address's limits: so many a minute
 * and a day, and one "could not understand" a day (a later one loses its
 * help, or the whole answer when nothing in the mail was understood).
 * Empties a->to when nothing may go.
 */
static void within_quota(const SELF_MAIL *sm, ANSWER *a, const char *qid, const char *sender)
{
    time_t  now = clock_now();
    int     q;

    if (a->to.len == 0)
	return;
    if (!throttle_take(answers, a->to.s, SELF_ANSWERS_PER_MINUTE, (double) now)) {
	msg_warn("%s: request from=<%s>: more than %d answers a minute to %s; no answer",
		 qid, sender, SELF_ANSWERS_PER_MINUTE, a->to.s);
	sb_reset(&a->to);
	return;
    }
    q = selfquota_take(quota, a->to.s, a->puzzled, SELF_ANSWERS_PER_DAY, now);
    if (q == SELF_QUOTA_PUZZLED && sm->ncmds > 0) {
	a->text.len = a->help_at;		/* the commands' answers only */
	a->text.s[a->help_at] = 0;
	if (strspn(a->text.s, "\n") < a->text.len)
	    q = selfquota_take(quota, a->to.s, 0, SELF_ANSWERS_PER_DAY, now);
    }
    if (q == SELF_QUOTA_DAY)
	msg_warn("%s: request from=<%s>: %d answers to %s today already; no answer", qid,
		 sender, SELF_ANSWERS_PER_DAY, a->to.s);
    else if (q == SELF_QUOTA_PUZZLED)
	msg_info("%s: request from=<%s>: %s was told today that a mail was not understood; "
		 "no answer", qid, sender, a->to.s);
    if (q != SELF_QUOTA_OK)
	sb_reset(&a->to);
}

/* answer_queue - the answer as a message, and the request done, in one commit */
static int answer_queue(const LIVE *lv, const SDB_REQ *rq, const SELF_MAIL *sm, ANSWER *a,
			        STRBUF *why)
{
    STRBUF  id = STRBUF_INIT, msg = STRBUF_INIT, key = STRBUF_INIT;
    RENDER_REPLY r;
    SDB_OUT out;
    int     rc;

    memset(&out, 0, sizeof(out));
    if (a->to.len) {
	sb_printf(&key, "request-%llu", (unsigned long long) rq->seq);
	render_message_id(key.s, a->to.s, "reply", lv->conf.sender_address, &id);
	memset(&r, 0, sizeof(r));
	r.recipient = a->to.s;
	r.sender = lv->conf.sender_address;
	r.subject = a->subject.len ? a->subject.s : "Your notifications";
	r.message_id = id.s;
	r.in_reply_to = sm->message_id;
	r.date = clock_now();
	r.text = &a->text;
	render_reply(&r, &msg);
	out.recipient = a->to.s;
	out.message_id = id.s;
	out.msg = msg.s;
	out.msglen = msg.len;
    }
    rc = statedb_request_done(crierd.sdb, rq->seq, a->to.len ? &out : NULL,
			      a->mac.len ? a->mac.s : NULL, (uint64_t) clock_now(), why);
    sb_free(&id), sb_free(&msg), sb_free(&key);
    return (rc);
}

/* log_request - debug: a request as read: its commands, and whose it is */
static void log_request(const SELF_MAIL *sm, const ANSWER *a, const char *sender)
{
    STRBUF  cmds = STRBUF_INIT;

    if (!log_enabled(LOG_LVL_DEBUG))
	return;
    selfmail_describe(sm, &cmds);
    msg_debug("%s: request from=<%s> header_from=<%s> user=<%s> commands: %s", a->qid, sender,
	      sm->from ? sm->from : "", a->to.len ? a->to.s : "", cmds.s);
    sb_free(&cmds);
}

/* serve_one - the oldest request: 0 done, 1 none left, -1 cannot now */
static int serve_one(void)
{
    STRBUF  why = STRBUF_INIT, msg = STRBUF_INIT, sender = STRBUF_INIT, qid = STRBUF_INIT;
    ANSWER  a;
    SELF_MAIL sm;
    SDB_REQ rq;
    MDB_txn *txn;
    LIVE   *lv;
    int     rc;

    if (statedb_read(crierd.sdb, &txn, &why) < 0)
	return (-1);
    if ((rc = statedb_request_next(crierd.sdb, txn, &rq, &why)) == 0) {
	sb_putn(&msg, rq.msg, rq.msglen);
	sb_puts(&sender, rq.sender);
	sb_puts(&qid, rq.qid);
    }
    statedb_end(crierd.sdb, txn);
    if (rc == SDB_DAMAGED) {			/* unreadable: out of the way of the rest */
	msg_error("selfservice: %s; dropped", why.s);
	sb_reset(&why);
	rc = statedb_request_done(crierd.sdb, rq.seq, NULL, NULL, (uint64_t) clock_now(),
				  &why) < 0 ? -1 : 0;
	if (rc == 0) {
	    sb_free(&why), sb_free(&msg), sb_free(&sender), sb_free(&qid);
	    return (0);
	}
    }
    if (rc != 0) {
	if (rc < 0)
	    msg_error("selfservice: %s", why.s);
	sb_free(&why), sb_free(&msg), sb_free(&sender), sb_free(&qid);
	return (rc);
    }
    memset(&a, 0, sizeof(a));
    a.qid = qid.s;
    lv = live_hold();
    selfmail_parse(msg.s, msg.len, sender.s, lv->conf.sender_address, &sm);
    if (sm.ignore)
	msg_info("%s: request from=<%s> left unanswered: %s", qid.s, sender.s, sm.ignore);
    else {
	if (!registered(sm.from, &a.to))
	    msg_info("%s: request from=<%s>: %s is not a user; only its links count", qid.s,
		     sender.s, sm.from);
	log_request(&sm, &a, sender.s);
	commands(lv, &sm, &a);
    }
    within_quota(&sm, &a, qid.s, sender.s);
    if ((rc = answer_queue(lv, &rq, &sm, &a, &why)) < 0)
	msg_error("%s: selfservice: %s; the request stays", qid.s, why.s);
    else if (a.to.len)
	msg_info("%s: request answered to=<%s>", qid.s, a.to.s);
    live_release();
    if (a.changed)
	kill(getppid(), SIGHUP);		/* the supervisor compiles and reloads */
    outbox_wake();
    selfmail_free(&sm);
    sb_free(&a.text), sb_free(&a.subject), sb_free(&a.to), sb_free(&a.mac);
    sb_free(&why), sb_free(&msg), sb_free(&sender), sb_free(&qid);
    return (rc < 0 ? -1 : 0);
}

/* prune - now and then, forget used tokens that have expired since */
static void prune(STATEDB *sdb)
{
    static time_t last;
    STRBUF  why = STRBUF_INIT;
    time_t  now = clock_now();
    long    n;

    if (last && now - last < 3600)
	return;
    last = now;
    if ((n = statedb_tokens_prune(sdb, (uint64_t) (now - SELF_TOKEN_MAX_AGE), &why)) < 0)
	msg_error("selfservice: %s", why.s);
    else if (n > 0)
	msg_info("selfservice: forgot %ld used tokens, expired since", n);
    sb_free(&why);
}

/* selfservice_turn - every request stored, oldest first; then wait for a wake */
static int selfservice_turn(SERVICE *svc, void *ctx)
{
    CRIERD *cd = ctx;

    prune(cd->sdb);
    while (!service_stopping(svc) && serve_one() == 0)
	 /* void */ ;
    return (SELF_POLL);
}

/* selfservice_start - the thread, with fresh limits on answers */
int     selfservice_start(CRIERD *cd)
{
    answers = throttle_create();
    quota = selfquota_create();
    return (service_start(&self_svc, "selfservice", selfservice_turn, cd, 0));
}

/* selfservice_stop - the request in hand is finished, then the thread ends */
void    selfservice_stop(void)
{
    service_stop(&self_svc);
    throttle_free(answers);
    selfquota_free(quota);
}
