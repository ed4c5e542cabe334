/*
 * policy.c - the decisions of crier's policy service, made at RCPT time.
 *
 *   events address        only allowed submitters (submit_networks,
 *                         submit_sasl_users, submit_senders: any one
 *                         admits; a local submission only by its user
 *                         in submit_local_users), each within
 *                         submit_rate_limit;
 *                         others REJECT 5.7.1, the too fast DEFER 4.7.1
 *                         (an IPv6 client counts by its prefix, of
 *                         submit_rate_limit_ipv6_prefix bits)
 *   request address       anybody: its commands carry signed tokens
 *   sender address        anybody, with an extension too: bounces come
 *                         back to it (crierd checks their signed ids)
 *   crier's local parts   with an extension (recipient_delimiter), and any
 *                         other address in crier_domain but postmaster:
 *                         REJECT 5.1.1
 *   everything else       DUNNO, at the cost of a few string compares
 *
 * A POLICY is built from crier.conf once per (re)load, so that a request
 * only compares: networks are parsed by GIO's GInetAddressMask, and the
 * addresses are split into local part and domain.
 */
#include "config.h"

#include <arpa/inet.h>
#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "policy.h"
#include "strutil.h"
#include "strv.h"

typedef struct addr {
    char   *local;
    char   *domain;
} ADDR;

struct policy {
    GPtrArray *networks;		/* GInetAddressMask */
    STRV    sasl_users;
    STRV    senders;			/* user@domain or @domain */
    STRV    local_users;		/* logins that may use sendmail */
    long    rate;			/* events a minute; 0: no limit */
    int     v6prefix;			/* bits of an IPv6 client's bucket */
    ADDR    own[3];			/* events, request, sender */
    char   *crier_domain;		/* "" when crier owns no domain */
    char   *delimiters;
};

/* Where a recipient belongs. */
#define RCPT_OTHER	(-1)
#define RCPT_EVENTS	0		/* the index in own[] */
#define RCPT_REQUEST	1
#define RCPT_SENDER	2
#define RCPT_UNKNOWN	3		/* crier's, but no address it serves */

static void addr_split(ADDR *a, const char *address)
{
    const char *at = strrchr(address, '@');

    a->local = xstrndup(address, at ? (size_t) (at - address) : strlen(address));
    a->domain = xstrdup(at ? at + 1 : "");
}

/* add_networks - submit_networks, each a CIDR block or one address */
static int add_networks(POLICY *p, const STRV *list, STRBUF *why)
{
    GInetAddressMask *mask;
    GError *err = NULL;
    size_t  i;

    for (i = 0; i < list->len; i++) {
	if ((mask = g_inet_address_mask_new_from_string(list->v[i], &err)) == NULL) {
	    sb_printf(why, "submit_networks: \"%s\": %s (use 192.0.2.0/24, 2001:db8::/32 "
		      "or one address)", list->v[i], err->message);
	    g_error_free(err);
	    return (-1);
	}
	g_ptr_array_add(p->networks, mask);
    }
    return (0);
}

/* add_senders - submit_senders, each user@domain or @domain */
static int add_senders(POLICY *p, const STRV *list, STRBUF *why)
{
    size_t  i;

    for (i = 0; i < list->len; i++) {
	if (strchr(list->v[i], '@') == NULL || str_has_ctl(list->v[i])) {
	    sb_printf(why, "submit_senders: \"%s\": use user@domain, or @domain for a "
		      "whole domain", list->v[i]);
	    return (-1);
	}
	strv_add(&p->senders, list->v[i]);
    }
    return (0);
}

/* policy_create - the decisions of a configuration; NULL and why when it is wrong */
POLICY *policy_create(const CONF *cf, STRBUF *why)
{
    POLICY *p = xcalloc(1, sizeof(POLICY));
    size_t  i;

    p->networks = g_ptr_array_new_with_free_func(g_object_unref);
    addr_split(&p->own[RCPT_EVENTS], cf->events_address);
    addr_split(&p->own[RCPT_REQUEST], cf->request_address);
    addr_split(&p->own[RCPT_SENDER], cf->sender_address);
    p->crier_domain = xstrdup(cf->crier_domain);
    p->delimiters = xstrdup(cf->recipient_delimiter);
    p->rate = cf->submit_rate_limit;
    p->v6prefix = (int) cf->submit_rate_limit_ipv6_prefix;
    for (i = 0; i < cf->submit_sasl_users.len; i++)
	strv_add(&p->sasl_users, cf->submit_sasl_users.v[i]);
    for (i = 0; i < cf->submit_local_users.len; i++)
	strv_add(&p->local_users, cf->submit_local_users.v[i]);
    if (add_networks(p, &cf->submit_networks, why) < 0
	|| add_senders(p, &cf->submit_senders, why) < 0) {
	policy_free(p);
	return (NULL);
    }
    return (p);
}

void    policy_free(POLICY *p)
{
    int     i;

    if (p == NULL)
	return;
    g_ptr_array_free(p->networks, TRUE);
    strv_free(&p->sasl_users);
    strv_free(&p->senders);
    strv_free(&p->local_users);
    for (i = 0; i < 3; i++)
	free(p->own[i].local), free(p->own[i].domain);
    free(p->crier_domain);
    free(p->delimiters);
    free(p);
}

int     policy_nobody_submits(const POLICY *p)
{
    return (p->networks->len == 0 && p->sasl_users.len == 0 && p->senders.len == 0
	    && p->local_users.len == 0);
}

/* policy_describe - one line for the log: what the service enforces */
void    policy_describe(const POLICY *p, STRBUF *out)
{
    sb_printf(out, "%u submit_networks, %zu submit_sasl_users, %zu submit_senders, ",
	      p->networks->len, p->sasl_users.len, p->senders.len);
    if (p->local_users.len)
	sb_printf(out, "%zu submit_local_users, ", p->local_users.len);
    if (p->rate > 0)
	sb_printf(out, "submit_rate_limit %ld a minute (IPv6 by /%d)", p->rate, p->v6prefix);
    else
	sb_puts(out, "no submit_rate_limit");
    if (*p->crier_domain)
	sb_printf(out, ", crier_domain %s", p->crier_domain);
}

/* part_eq - s[0..n) is t, ASCII case aside */
static int part_eq(const char *s, size_t n, const char *t)
{
    return (strlen(t) == n && str_ncasecmp(s, t, n) == 0);
}

/* classify - which of crier's addresses rcpt is, if any */
static int classify(const POLICY *p, const char *rcpt)
{
    const char *at = strrchr(rcpt, '@');
    size_t  llen, i, n;

    if (at == NULL)
	return (RCPT_OTHER);
    llen = (size_t) (at - rcpt);
    for (i = 0; i < 3; i++) {
	if (str_casecmp(at + 1, p->own[i].domain) != 0)
	    continue;
	if (part_eq(rcpt, llen, p->own[i].local))
	    return ((int) i);
	n = strlen(p->own[i].local);
	if (llen > n && str_ncasecmp(rcpt, p->own[i].local, n) == 0
	    && strchr(p->delimiters, rcpt[n]) != NULL)	/* bounces, or nothing of crier's */
	    return (i == RCPT_SENDER ? RCPT_SENDER : RCPT_UNKNOWN);
    }
    if (*p->crier_domain && str_casecmp(at + 1, p->crier_domain) == 0
	&& !part_eq(rcpt, llen, "postmaster"))	/* RFC 5321 4.5.1 */
	return (RCPT_UNKNOWN);
    return (RCPT_OTHER);
}

/* in_networks - the client address is in submit_networks (IPv4-mapped IPv6 as IPv4) */
static int in_networks(const POLICY *p, const char *client)
{
    GInetAddress *a;
    guint   i;
    int     hit = 0;

    if (client == NULL || p->networks->len == 0)
	return (0);
    if (str_ncasecmp(client, "::ffff:", 7) == 0 && strchr(client, '.'))
	client += 7;
    if ((a = g_inet_address_new_from_string(client)) == NULL)
	return (0);
    for (i = 0; i < p->networks->len && !hit; i++)
	hit = g_inet_address_mask_matches(g_ptr_array_index(p->networks, i), a);
    g_object_unref(a);
    return (hit);
}

/* sender_listed - the envelope sender is in submit_senders, or its @domain is */
static int sender_listed(const POLICY *p, const char *sender)
{
    const char *at;
    size_t  i;

    if (sender == NULL || (at = strrchr(sender, '@')) == NULL)
	return (0);
    for (i = 0; i < p->senders.len; i++)
	if (str_casecmp(p->senders.v[i], p->senders.v[i][0] == '@' ? at : sender) == 0)
	    return (1);
    return (0);
}

/* login_listed - a local user in submit_local_users (logins keep their case) */
static int login_listed(const POLICY *p, const char *login)
{
    size_t  i;

    for (i = 0; i < p->local_users.len; i++)
	if (strcmp(p->local_users.v[i], login) == 0)
	    return (1);
    return (0);
}

/* admitted_by - the submit_* list that admits a remote submitter, or NULL */
static const char *admitted_by(const POLICY *p, const POLICY_WHO *who)
{
    if (who->client_address == NULL || *who->client_address == 0)
	return (NULL);
    if (in_networks(p, who->client_address))
	return ("submit_networks");
    if (who->sasl_username && *who->sasl_username
	&& strv_find_case(&p->sasl_users, who->sasl_username) >= 0)
	return ("submit_sasl_users");
    if (sender_listed(p, who->sender))
	return ("submit_senders");
    return (NULL);
}

/* submitter - policy_submitter, and the submit_* list that admits (*rule) */
static int submitter(const POLICY *p, const POLICY_WHO *who, STRBUF *refusal,
		             const char **rule)
{
    if (who->local_user) {
	*rule = "submit_local_users";
	if (login_listed(p, who->local_user))
	    return (POLICY_DUNNO);
	sb_printf(refusal, "5.7.1 local user %s is not allowed to submit events", who->local_user);
	return (POLICY_REFUSE);
    }
    if ((*rule = admitted_by(p, who)) != NULL)
	return (POLICY_DUNNO);
    sb_puts(refusal, who->client_address && *who->client_address
	    ? "5.7.1 client is not allowed to submit events"
	    : "5.7.1 a local submission whose user is unknown cannot submit events");
    return (POLICY_REFUSE);
}

/*
 * policy_submitter - the one decision on who may submit events, for the
 * policy service and the milter alike: POLICY_DUNNO when one of the
 * submit_* lists admits the submitter, else POLICY_REFUSE and the reply
 * ("5.7.1 ..."). A local submission passes by its user alone: its sender
 * is whatever sendmail -f says, and its "client" is Postfix's stand-in
 * 127.0.0.1. root is a user like any other.
 */
int     policy_submitter(const POLICY *p, const POLICY_WHO *who, STRBUF *refusal)
{
    const char *rule;

    return (submitter(p, who, refusal, &rule));
}

/*
 * policy_decide - the answer to one request: POLICY_DUNNO, or a refusal
 * with the action for Postfix (without "action="). reason is for the log:
 * why a refusal, and why a DUNNO about one of crier's addresses (which
 * submit_* list admitted); empty when the request is none of crier's
 * business. now is monotonic seconds, for the rate limit.
 */
int     policy_decide(const POLICY *p, THROTTLE *t, const POLICY_REQ *req, double now,
		              STRBUF *action, STRBUF *reason)
{
    STRBUF  key = STRBUF_INIT;
    POLICY_WHO who;
    const char *rule;
    int     kind, ok;

    if (req->recipient == NULL || *req->recipient == 0
	|| (req->protocol_state && strcmp(req->protocol_state, "RCPT") != 0))
	return (POLICY_DUNNO);
    if ((kind = classify(p, req->recipient)) == RCPT_UNKNOWN) {
	sb_puts(action, "REJECT 5.1.1 no such crier address");
	sb_puts(reason, "unknown crier address");
	return (POLICY_REFUSE);
    }
    if (kind == RCPT_REQUEST || kind == RCPT_SENDER)
	sb_puts(reason, kind == RCPT_REQUEST ? "the request address: anybody may write"
		: "crier's sender address (bounces come back here): anybody may write");
    if (kind != RCPT_EVENTS)
	return (POLICY_DUNNO);
    who.client_address = req->client_address;
    who.sasl_username = req->sasl_username;
    who.sender = req->sender;
    who.local_user = NULL;		/* smtpd's requests have a client */
    sb_puts(action, "REJECT ");
    if (submitter(p, &who, action, &rule) == POLICY_REFUSE) {
	sb_puts(reason, "not an allowed submitter (not in submit_networks, submit_sasl_users "
		"or submit_senders)");
	return (POLICY_REFUSE);
    }
    sb_reset(action);
    if (req->sasl_username && *req->sasl_username) {
	sb_printf(&key, "sasl:%s", req->sasl_username);
	str_lower(key.s);		/* logins match without case: one bucket */
    } else
	throttle_client_key(req->client_address, p->v6prefix, &key);
    ok = throttle_take(t, key.s, p->rate, now);
    sb_free(&key);
    if (ok) {				/* no formatting: this is the busy path */
	sb_puts(reason, "admitted by ");
	sb_puts(reason, rule);
	sb_puts(reason, p->rate > 0 ? ", within submit_rate_limit" : ", no submit_rate_limit");
	return (POLICY_DUNNO);
    }
    sb_printf(action, "DEFER 4.7.1 too many events from this submitter (at most %ld a "
	      "minute); try again later", p->rate);
    sb_printf(reason, "over submit_rate_limit %ld", p->rate);
    return (POLICY_THROTTLE);
}
