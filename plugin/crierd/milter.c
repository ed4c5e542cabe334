/*
 * milter.c - the libmilter callbacks: which mail is crier's, and what to
 * answer for it.
 *
 * Mail to nobody of crier's is let go at DATA, the earliest point where
 * all recipients are known, and costs nothing more. The events address
 * is checked at RCPT with the policy service's own decision
 * (policy_submitter), whatever path the mail took; a local submission,
 * whose user Postfix tells only in its first header, at end of message.
 * Mail to the events or
 * request address is collected (headers and body, up to max_event_size)
 * and handed to intake.c at end of message; its verdict becomes the SMTP
 * reply. A bounce, mail to sender_address with an extension (the bounce
 * id of a notification), is collected the same way, but never refused:
 * bounce.c reads what fits in max_event_size. Once consumed, crier's
 * recipients are removed: the mail is discarded when nobody else was
 * addressed (or copied to archive_address, for an event).
 */
#include "config.h"

#include <libmilter/mfapi.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crierd.h"
#include "log.h"
#include "mem.h"
#include "strutil.h"
#include "strv.h"

/* The macros of the submitter decision, asked for at RCPT. */
#define SUBMITTER_MACROS "i {client_addr} {client_name} {client_port} {auth_authen} " \
	"{mail_addr} {daemon_name}"

typedef struct mctx {
    char    qid[64];
    char   *sender;			/* envelope, known at DATA; "" for <> */
    int     events;			/* recipients: the events address */
    int     requests;			/* the request address */
    int     others;			/* anybody else */
    STRV    ours;			/* crier's recipients, as given */
    STRV    bounces;			/* bounce addresses, without <> */
    STRV    bounce_ids;			/* ... and their extensions */
    STRBUF  msg;			/* headers and body */
    int     too_big;
    int     local;			/* a local submission to the events address */
    unsigned long noreply;		/* SMFIP_NR_* that Postfix agreed to */
} MCTX;

/* mctx_get - the message's state; a new one starts clean, as NOQUEUE */
static MCTX *mctx_get(SMFICTX *ctx)
{
    MCTX   *m = smfi_getpriv(ctx);

    if (m == NULL) {
	m = xcalloc(1, sizeof(MCTX));
	snprintf(m->qid, sizeof(m->qid), "NOQUEUE");
	smfi_setpriv(ctx, m);
    }
    return (m);
}

/* mctx_reset - ready for the next message of the session */
static void mctx_reset(MCTX *m)
{
    unsigned long noreply = m->noreply;

    strv_free(&m->ours);
    strv_free(&m->bounces);
    strv_free(&m->bounce_ids);
    sb_free(&m->msg);
    free(m->sender);
    memset(m, 0, sizeof(*m));
    snprintf(m->qid, sizeof(m->qid), "NOQUEUE");
    m->noreply = noreply;
}

/* go_on - "continue", said the way this session agreed for this step */
static sfsistat go_on(const MCTX *m, unsigned long step)
{
    return ((m->noreply & step) ? SMFIS_NOREPLY : SMFIS_CONTINUE);
}

/* bare - an envelope address without <> */
static char *bare(const char *addr)
{
    size_t  len = strlen(addr);

    if (len >= 2 && addr[0] == '<' && addr[len - 1] == '>')
	return (xstrndup(addr + 1, len - 2));
    return (xstrdup(addr));
}

/*
 * mlt_negotiate - crierd needs only the recipients, DATA and, for its own
 * mail, the content: Postfix is asked to skip the rest and not to wait for
 * replies crierd would only answer with "continue". Each step it saves is
 * a round trip per SMTP session. RCPT is answered: that is where an event
 * from a submitter crier does not allow is refused. Without CONNECT and
 * MAIL, what the decision needs (client, login, envelope sender, and the
 * service for the log) is asked for at RCPT; the sender, which
 * self-service needs to never answer a bounce, at DATA too.
 */
static sfsistat mlt_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			              unsigned long f2, unsigned long f3, unsigned long *pf0,
			              unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    unsigned long want = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NOUNKNOWN
    | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY;

    (void) f2, (void) f3;
    *pf0 = (SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_SETSYMLIST) & f0;
    *pf1 = want & f1;
    *pf2 = *pf3 = 0;
    if (*pf0 & SMFIF_SETSYMLIST) {
	(void) smfi_setsymlist(ctx, SMFIM_ENVRCPT, SUBMITTER_MACROS);
	(void) smfi_setsymlist(ctx, SMFIM_DATA, "i {mail_addr}");
    }
    mctx_get(ctx)->noreply = *pf1 & (SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY);
    return (SMFIS_CONTINUE);
}

/* macro - a macro's value, "" when Postfix did not send it */
static const char *macro(SMFICTX *ctx, const char *name)
{
    const char *v = smfi_getsymval(ctx, (char *) name);

    return (v ? v : "");
}

/*
 * is_local - the client Postfix makes up for mail that came by sendmail
 * and pickup (cleanup's milter emulation): localhost, 127.0.0.1, port 0.
 * smtpd always has a real port; only an XCLIENT client, which Postfix
 * trusts by smtpd_authorized_xclient_hosts, can claim port 0.
 */
static int is_local(SMFICTX *ctx)
{
    return (strcmp(macro(ctx, "{client_port}"), "0") == 0
	    && strcmp(macro(ctx, "{client_addr}"), "127.0.0.1") == 0
	    && strcmp(macro(ctx, "{client_name}"), "localhost") == 0);
}

/* log_refusal - who was refused, and on which Postfix service */
static void log_refusal(SMFICTX *ctx, const MCTX *m, const POLICY_WHO *who, const char *text)
{
    STRBUF  client = STRBUF_INIT;

    if (who->local_user || !who->client_address)
	sb_printf(&client, "local user=%s", who->local_user ? who->local_user : "(unknown)");
    else
	sb_printf(&client, "%s[%s]", macro(ctx, "{client_name}"), who->client_address);
    msg_info("%s: event refused: client=%s sasl_username=%s from=<%s> daemon=%s: %s", m->qid,
	     client.s, who->sasl_username ? who->sasl_username : "",
	     who->sender ? who->sender : "", macro(ctx, "{daemon_name}"), text);
    sb_free(&client);
}

static sfsistat reply(SMFICTX *, int, const char *);

/*
 * submitter_ok - the policy service's decision on this submitter; a
 * refusal is answered 550 5.7.1 and logged
 */
static int submitter_ok(SMFICTX *ctx, MCTX *m, const POLICY_WHO *who)
{
    STRBUF  text = STRBUF_INIT;
    LIVE   *lv = live_hold();
    int     ok = policy_submitter(lv->policy, who, &text) == POLICY_DUNNO;

    live_release();
    if (!ok) {
	log_refusal(ctx, m, who, text.s);
	(void) reply(ctx, INTAKE_REFUSE, text.s);
    }
    sb_free(&text);
    return (ok);
}

/*
 * event_rcpt - the events address as a recipient: refused at once when
 * smtpd's client may not submit; a local submission is decided at DATA
 */
static sfsistat event_rcpt(SMFICTX *ctx, MCTX *m, const char *rcpt)
{
    POLICY_WHO who;
    char   *sender;
    int     ok;

    if (*macro(ctx, "i"))		/* once smtpd has a queue file */
	snprintf(m->qid, sizeof(m->qid), "%s", macro(ctx, "i"));
    if (is_local(ctx)) {
	m->local = 1;
	m->events++, strv_add(&m->ours, rcpt);
	return (SMFIS_CONTINUE);
    }
    memset(&who, 0, sizeof(who));
    sender = bare(macro(ctx, "{mail_addr}"));
    who.client_address = macro(ctx, "{client_addr}");
    who.sasl_username = macro(ctx, "{auth_authen}");
    who.sender = sender;
    ok = submitter_ok(ctx, m, &who);
    free(sender);
    if (!ok)
	return (SMFIS_REJECT);
    m->events++, strv_add(&m->ours, rcpt);
    return (SMFIS_CONTINUE);
}

static sfsistat mlt_envrcpt(SMFICTX *ctx, char **argv)
{
    MCTX   *m = mctx_get(ctx);
    char   *rcpt = bare(argv[0]);
    STRBUF  ext = STRBUF_INIT;
    LIVE   *lv = live_hold();
    int     events = str_casecmp(rcpt, lv->conf.events_address) == 0;

    if (events) {
	live_release();
	free(rcpt);
	return (event_rcpt(ctx, m, argv[0]));
    } else if (str_casecmp(rcpt, lv->conf.request_address) == 0)
	m->requests++, strv_add(&m->ours, argv[0]);
    else if (bounce_rcpt(&lv->conf, rcpt, &ext)) {
	strv_add(&m->ours, argv[0]);
	strv_add(&m->bounces, rcpt);
	strv_add(&m->bounce_ids, sb_str(&ext));
    } else
	m->others++;
    live_release();
    free(rcpt);
    sb_free(&ext);
    return (SMFIS_CONTINUE);
}

/*
 * local_ok - a local submission to the events address, at DATA: Postfix
 * takes no refusal of its emulated RCPT, and there is no client waiting
 * (a refusal becomes a bounce). Its user is the local part of its
 * envelope sender, which local_login_sender_maps ties to the login of
 * whoever ran sendmail (main.cf.snippet).
 */
static int local_ok(SMFICTX *ctx, MCTX *m)
{
    POLICY_WHO who;
    char   *user = xstrndup(m->sender, strcspn(m->sender, "@"));
    int     ok;

    memset(&who, 0, sizeof(who));
    who.local_user = *user && strcmp(m->sender, SELF_SENDER_UNKNOWN) != 0 ? user : NULL;
    who.sender = m->sender;
    ok = submitter_ok(ctx, m, &who);
    free(user);
    return (ok);
}

/* mlt_data - all recipients known: mail that is not crier's goes its way */
static sfsistat mlt_data(SMFICTX *ctx)
{
    MCTX   *m = mctx_get(ctx);
    const char *qid = smfi_getsymval(ctx, "i");

    if (qid)				/* smtpd knows it from DATA on */
	snprintf(m->qid, sizeof(m->qid), "%s", qid);
    if (m->events == 0 && m->requests == 0 && m->bounces.len == 0) {
	mctx_reset(m);
	return (SMFIS_ACCEPT);
    }
    m->sender = bare(smfi_getsymval(ctx, "{mail_addr}") ? smfi_getsymval(ctx, "{mail_addr}")
		     : SELF_SENDER_UNKNOWN);
    if (m->local && !local_ok(ctx, m)) {
	mctx_reset(m);
	return (SMFIS_REJECT);
    }
    return (SMFIS_CONTINUE);
}

static void collect(SMFICTX *ctx, MCTX *m, const void *data, size_t len)
{
    LIVE   *lv;

    if (m->too_big)
	return;
    lv = live_hold();
    if (m->msg.len + len > (size_t) lv->conf.max_event_size)
	m->too_big = 1;
    else
	sb_putn(&m->msg, data, len);
    live_release();
    (void) ctx;
}

static sfsistat mlt_header(SMFICTX *ctx, char *name, char *value)
{
    MCTX   *m = mctx_get(ctx);

    collect(ctx, m, name, strlen(name));
    collect(ctx, m, ": ", 2);
    collect(ctx, m, value, strlen(value));
    collect(ctx, m, "\r\n", 2);
    return (go_on(m, SMFIP_NR_HDR));
}

static sfsistat mlt_eoh(SMFICTX *ctx)
{
    MCTX   *m = mctx_get(ctx);

    collect(ctx, m, "\r\n", 2);
    return (go_on(m, SMFIP_NR_EOH));
}

static sfsistat mlt_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    MCTX   *m = mctx_get(ctx);

    collect(ctx, m, chunk, len);
    return (go_on(m, SMFIP_NR_BODY));
}

/*
 * reply - turn a verdict's "X.Y.Z text" into the SMTP reply. libmilter
 * wants printable text with '%' doubled; anything else becomes a space.
 */
static sfsistat reply(SMFICTX *ctx, int verdict, const char *text)
{
    STRBUF  msg = STRBUF_INIT;
    char    xcode[16];
    const char *p = text;
    size_t  n = strcspn(text, " ");

    snprintf(xcode, sizeof(xcode), "%.*s", (int) (n < sizeof(xcode) ? n : 0), text);
    for (p = text + n + (text[n] == ' '); *p; p++) {
	if (*p == '%')
	    sb_puts(&msg, "%%");
	else
	    sb_putc(&msg, (unsigned char) *p < ' ' || *p == 0x7f ? ' ' : *p);
    }
    smfi_setreply(ctx, verdict == INTAKE_REFUSE ? "550" : "451", xcode, msg.s);
    sb_free(&msg);
    return (verdict == INTAKE_REFUSE ? SMFIS_REJECT : SMFIS_TEMPFAIL);
}

/* consumed - crier has what it needs: drop its recipients, or the message */
static sfsistat consumed(SMFICTX *ctx, MCTX *m)
{
    LIVE   *lv = live_hold();
    int     archive = m->events && *lv->conf.archive_address;
    size_t  i;

    if (archive)
	smfi_addrcpt(ctx, lv->conf.archive_address);
    live_release();
    if (m->others == 0 && !archive)
	return (SMFIS_DISCARD);
    for (i = 0; i < m->ours.len; i++)
	smfi_delrcpt(ctx, m->ours.v[i]);
    return (SMFIS_ACCEPT);
}

/* Messages between end of data and their reply: the worker waits for them. */
static pthread_mutex_t inflight_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t inflight_done = PTHREAD_COND_INITIALIZER;
static int inflight;

static void inflight_add(int delta)
{
    pthread_mutex_lock(&inflight_lock);
    inflight += delta;
    if (inflight == 0)
	pthread_cond_broadcast(&inflight_done);
    pthread_mutex_unlock(&inflight_lock);
}

/*
 * milter_drain - after smfi_main() returns (SIGTERM), libmilter's session
 * threads may still be storing an event: wait for them (up to secs) before
 * the stores close, so that what is in flight is finished, not cut.
 */
void    milter_drain(int secs)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += secs;
    pthread_mutex_lock(&inflight_lock);
    while (inflight > 0 && pthread_cond_timedwait(&inflight_done, &inflight_lock, &until) == 0)
	 /* void */ ;
    if (inflight > 0)
	msg_warn("worker: %d messages still in flight after %ds", inflight, secs);
    pthread_mutex_unlock(&inflight_lock);
}

/* mlt_eom_work - the verdict on crier's mail, and what becomes of it */
static sfsistat mlt_eom_work(SMFICTX *ctx)
{
    MCTX   *m = mctx_get(ctx);
    STRBUF  text = STRBUF_INIT;
    int     verdict = INTAKE_OK;
    sfsistat rc;

    if (m->too_big && (m->events || m->requests)) {
	LIVE   *lv = live_hold();

	sb_printf(&text, "5.3.4 the mail is larger than crier accepts (max_event_size = %ld bytes)",
		  lv->conf.max_event_size);
	live_release();
	verdict = INTAKE_REFUSE;
	msg_info("%s: refused: %s", m->qid, text.s);
    }
    if (verdict == INTAKE_OK && m->events)
	verdict = intake_event(m->qid, sb_str(&m->msg), m->msg.len, &text);
    if (verdict == INTAKE_OK && m->requests) {
	sb_reset(&text);
	verdict = intake_request(m->qid, m->sender ? m->sender : "", sb_str(&m->msg),
				 m->msg.len, &text);
    }
    if (verdict == INTAKE_OK && m->bounces.len) {
	sb_reset(&text);
	verdict = bounce_take(m->qid, &m->bounces, &m->bounce_ids, sb_str(&m->msg), m->msg.len,
			      &text);
    }
    rc = verdict == INTAKE_OK ? consumed(ctx, m) : reply(ctx, verdict, text.s);
    sb_free(&text);
    mctx_reset(m);
    return (rc);
}

static sfsistat mlt_eom(SMFICTX *ctx)
{
    sfsistat rc;

    inflight_add(1);
    rc = mlt_eom_work(ctx);
    inflight_add(-1);
    return (rc);
}

static sfsistat mlt_abort(SMFICTX *ctx)
{
    mctx_reset(mctx_get(ctx));
    return (SMFIS_CONTINUE);		/* (abort gets no reply anyway) */
}

static sfsistat mlt_close(SMFICTX *ctx)
{
    MCTX   *m = smfi_getpriv(ctx);

    if (m) {
	mctx_reset(m);
	free(m);
	smfi_setpriv(ctx, NULL);
    }
    return (SMFIS_CONTINUE);
}

static struct smfiDesc milter_desc = {
    .xxfi_name = "crierd",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDRCPT | SMFIF_DELRCPT,
    .xxfi_envrcpt = mlt_envrcpt,
    .xxfi_header = mlt_header,
    .xxfi_eoh = mlt_eoh,
    .xxfi_body = mlt_body,
    .xxfi_eom = mlt_eom,
    .xxfi_abort = mlt_abort,
    .xxfi_close = mlt_close,
    .xxfi_data = mlt_data,
    .xxfi_negotiate = mlt_negotiate,
};

/*
 * milter_setup - register and bind, as root, before privileges go. A stale
 * socket left by a killed crierd is replaced; the socket is given to
 * Postfix (socket_give).
 */
int     milter_setup(const CONF *conf, gid_t group, STRBUF *why)
{
    const char *sock = conf->milter_socket;

    if (smfi_register(milter_desc) == MI_FAILURE || smfi_setconn((char *) sock) == MI_FAILURE
	|| smfi_opensocket(1) == MI_FAILURE) {
	sb_printf(why, "cannot listen on milter_socket %s (does its directory exist?)", sock);
	return (-1);
    }
    socket_give(sock, group);
    return (0);
}

int     milter_run(void)
{
    return (smfi_main() == MI_SUCCESS ? 0 : -1);
}

/*
 * sigwait - the sigwait(3) libmilter's signal thread calls, in the worker
 * only (smfi_main starts that thread; the supervisor, which waits with
 * sigwaitinfo and sigtimedwait, never does). That thread waits for SIGHUP,
 * SIGTERM and SIGINT and stops the milter on any of them. In crierd SIGHUP
 * means "reload": the worker's main thread hands it to the supervisor
 * (crierd.c, worker_signals). Linux gives a signal sent to the process to
 * any thread that is waiting for it when the main thread still has the
 * previous one pending (a burst of pkill -HUP), so libmilter's thread must
 * not wait for SIGHUP at all: this definition, which libmilter's call
 * resolves to (the executable's symbols come first, and a sanitizer's
 * interceptor is weak), waits for the same set without SIGHUP.
 */
int     sigwait(const sigset_t *set, int *sig)
{
    sigset_t without_hup = *set;
    int     got;

    sigdelset(&without_hup, SIGHUP);
    do
	got = sigwaitinfo(&without_hup, NULL);
    while (got < 0 && errno == EINTR);
    if (got < 0)
	return (errno);
    *sig = got;
    return (0);
}
