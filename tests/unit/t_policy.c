/*
 * t_policy.c - the policy service's pure parts: the request reader fed in
 * every split, the decisions for each kind of recipient and submitter,
 * the token bucket stepped through time, and the buckets of IPv6 clients
 * (one per /64 by default) and IPv4-mapped ones (their IPv4 address's).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "mem.h"
#include "policy.h"
#include "policy_fixture.h"
#include "tap.h"

static const char two[] =
    "request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.1\n"
    "sender=a@b.example\nrecipient=events@crier.test\nfuture=1\n\n"
    "request=smtpd_access_policy\nrecipient=x@y.example\n\n";

/* every split of two requests gives them whole, at the same offsets */
static void test_splits(void)
{
    size_t  cut, len = strlen(two);

    for (cut = 0; cut <= len; cut++) {
	char   *buf = xstrdup(two);
	STRBUF  why = STRBUF_INIT;
	POLICY_REQ req;
	size_t  used = 0;
	int     rc = policy_parse(buf, cut, &req, &used, &why);
	size_t  first = strchr(two, '\n') ? (size_t) (strstr(two, "\n\n") - two) + 2 : 0;

	if (cut < first)
	    CHECK(rc == POLICY_MORE, "cut %zu: %d %s", cut, rc, sb_str(&why));
	else {
	    CHECK(rc == POLICY_READY && used == first, "cut %zu: %d used %zu", cut, rc, used);
	    CHECK(req.recipient && strcmp(req.recipient, "events@crier.test") == 0, "rcpt");
	    CHECK(req.client_address && strcmp(req.client_address, "192.0.2.1") == 0, "client");
	    CHECK(req.sasl_username == NULL, "absent is NULL");
	}
	free(buf);
	sb_free(&why);
    }
}

/* bad - input that is not the protocol is refused with a reason */
static void bad(const char *input, size_t len, const char *reason)
{
    char   *buf = xmalloc(len + 1);
    STRBUF  why = STRBUF_INIT;
    POLICY_REQ req;
    size_t  used;

    memcpy(buf, input, len);
    CHECK(policy_parse(buf, len, &req, &used, &why) == POLICY_BAD, "%s accepted", reason);
    CHECK(strstr(sb_str(&why), reason) != NULL, "'%s' for '%s'", sb_str(&why), reason);
    free(buf);
    sb_free(&why);
}

static void test_bad(void)
{
    char    big[POLICY_REQUEST_MAX + 10];
    size_t  i;

    bad("no equals\n\n", 11, "not name=value");
    bad("=value\n\n", 8, "not name=value");
    bad("a=1\0x\n\n", 7, "NUL byte");
    bad("recipient=a\nrecipient=b\n\n", 26, "given twice");
    bad("\n", 1, "empty request");
    memset(big, 'a', sizeof(big));
    bad(big, POLICY_LINE_MAX + 1, "line longer");
    for (i = 0; i < 10 * (POLICY_ATTRS_MAX + 1); i += 10)
	memcpy(big + i, "abc=12345\n", 10);
    big[i] = '\n';
    bad(big, i + 1, "more than");
    memset(big, 'a', sizeof(big));
    for (i = 0; i + 2000 <= sizeof(big); i += 2000)
	big[i + 1] = '=', big[i + 1999] = '\n';
    bad(big, POLICY_REQUEST_MAX, "request longer");
}

/* decide - the verdict for a request made of these attributes */
static int decide(const POLICY *p, THROTTLE *t, double now, const char *client,
		          const char *sasl, const char *sender, const char *rcpt)
{
    POLICY_REQ req = {.request = "smtpd_access_policy", .protocol_state = "RCPT",
	.client_address = client, .sasl_username = sasl, .sender = sender, .recipient = rcpt};
    STRBUF  action = STRBUF_INIT, reason = STRBUF_INIT;
    int     v = policy_decide(p, t, &req, now, &action, &reason);

    if (v == POLICY_REFUSE)
	CHECK(strncmp(action.s, "REJECT 5.", 9) == 0, "%s", action.s);
    if (v == POLICY_THROTTLE)
	CHECK(strncmp(action.s, "DEFER 4.7.1 ", 12) == 0, "%s", action.s);
    sb_free(&action);
    sb_free(&reason);
    return (v);
}

static void test_decisions(void)
{
    POLICY *p = fixture_policy(0);
    THROTTLE *t = throttle_create();
    const char *ev = "events@crier.test";

    CHECK(decide(p, t, 0, "10.1.2.3", "", "", ev) == POLICY_DUNNO, "network");
    CHECK(decide(p, t, 0, "::ffff:10.1.2.3", "", "", ev) == POLICY_DUNNO, "mapped");
    CHECK(decide(p, t, 0, "2001:db8:1::1", "", "", ev) == POLICY_DUNNO, "v6 network");
    CHECK(decide(p, t, 0, "11.1.2.3", "", "", ev) == POLICY_REFUSE, "outside");
    CHECK(decide(p, t, 0, "11.1.2.3", "Portal", "", ev) == POLICY_DUNNO, "sasl");
    CHECK(decide(p, t, 0, "11.1.2.3", "", "bot@feeds.example", ev) == POLICY_DUNNO, "@domain");
    CHECK(decide(p, t, 0, "11.1.2.3", "", "bot@x.feeds.example", ev) == POLICY_REFUSE, "subdomain");
    CHECK(decide(p, t, 0, "11.1.2.3", "", "", "x@example.com") == POLICY_DUNNO, "other");
    CHECK(decide(p, t, 0, "11.1.2.3", "", "", "events+x@crier.test") == POLICY_REFUSE, "ext");
    CHECK(decide(p, t, 0, "11.1.2.3", "", "", "crier+b1.7.x@crier.test") == POLICY_DUNNO,
	  "a bounce address");
    CHECK(decide(p, t, 0, "11.1.2.3", "", "", "eventsx@crier.test") == POLICY_REFUSE, "domain");
    CHECK(decide(p, t, 0, "11.1.2.3", "", "", "Postmaster@crier.test") == POLICY_DUNNO,
	  "postmaster in crier_domain");
    CHECK(decide(p, t, 0, "11.1.2.3", "", "", "crier-request@CRIER.test") == POLICY_DUNNO,
	  "request address");
    CHECK(decide(p, t, 0, "11.1.2.3", "", "", "events@crier.test.example") == POLICY_DUNNO,
	  "a longer domain");
    CHECK(decide(p, t, 0, NULL, NULL, NULL, ev) == POLICY_REFUSE, "nothing known");
    CHECK(decide(p, t, 0, NULL, NULL, NULL, NULL) == POLICY_DUNNO, "no recipient");
    CHECK(throttle_size(t) == 0, "rate 0 keeps no buckets");
    throttle_free(t);
    policy_free(p);
}

static void test_throttle(void)
{
    POLICY *p = fixture_policy(6);
    THROTTLE *t = throttle_create();
    const char *ev = "events@crier.test";
    int     i, passed = 0;

    for (i = 0; i < 10; i++)
	passed += decide(p, t, 100.0, "10.0.0.1", "", "", ev) == POLICY_DUNNO;
    CHECK(passed == 6, "a burst of the capacity passes: %d", passed);
    CHECK(decide(p, t, 100.0, "10.0.0.2", "", "", ev) == POLICY_DUNNO, "own bucket");
    for (i = 0, passed = 0; i < 10; i++)
	passed += decide(p, t, 100.0, "10.0.0.1", i % 2 ? "portal" : "PORTAL", "", ev) == POLICY_DUNNO;
    CHECK(passed == 6, "one bucket for a login in any case: %d", passed);
    CHECK(decide(p, t, 109.9, "10.0.0.1", "", "", ev) == POLICY_THROTTLE, "not yet");
    CHECK(decide(p, t, 110.0, "10.0.0.1", "", "", ev) == POLICY_DUNNO, "one per 10 s");
    CHECK(decide(p, t, 110.0, "10.0.0.1", "", "", ev) == POLICY_THROTTLE, "and only one");
    CHECK(decide(p, t, 50.0, "10.0.0.1", "", "", ev) == POLICY_THROTTLE, "time going back");
    for (i = 0; i < 2000; i++) {
	char    a[32];

	snprintf(a, sizeof(a), "10.9.%d.%d", i / 256, i % 256);
	throttle_take(t, a, 6, 200.0);
    }
    CHECK(throttle_size(t) >= 2000, "2000 submitters");
    throttle_take(t, "late", 6, 400.0);
    CHECK(throttle_size(t) < 10, "full buckets are swept: %zu left", throttle_size(t));
    throttle_free(t);
    policy_free(p);
}

/*
 * test_prefix - addresses rotated inside one IPv6 prefix share a bucket;
 * other prefixes have their own; ::ffff:a.b.c.d is a.b.c.d
 */
static void test_prefix(void)
{
    static const char *const one64[] = {"2001:db8:1:2::1", "2001:db8:1:2::2",
	"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:DB8:1:2:a:b:c:d", "2001:db8:1:2:1::",
    "2001:0db8:0001:0002::99"};
    const char *ev = "events@crier.test";
    POLICY *p = fixture_policy(2);
    THROTTLE *t = throttle_create();
    CONF    cf;
    STRBUF  why = STRBUF_INIT;
    int     i, v[6];

    for (i = 0; i < 6; i++)
	v[i] = decide(p, t, 0, one64[i], "", "", ev);
    CHECK(v[0] == POLICY_DUNNO && v[1] == POLICY_DUNNO, "the first 2 of a /64 pass");
    for (i = 2; i < 6; i++)
	CHECK(v[i] == POLICY_THROTTLE, "address %d of the same /64 (%s) deferred", i, one64[i]);
    for (i = 0; i < 4; i++) {
	char    a[64];

	snprintf(a, sizeof(a), "2001:db8:1:%x::1", 3 + i);
	CHECK(decide(p, t, 0, a, "", "", ev) == POLICY_DUNNO, "%s: its /64's own bucket", a);
	CHECK(decide(p, t, 0, a, "", "", ev) == POLICY_DUNNO, "%s: twice", a);
	CHECK(decide(p, t, 0, a, "", "", ev) == POLICY_THROTTLE, "%s: not three times", a);
    }
    CHECK(decide(p, t, 0, "10.0.2.1", "", "", ev) == POLICY_DUNNO, "IPv4");
    CHECK(decide(p, t, 0, "::ffff:10.0.2.1", "", "", ev) == POLICY_DUNNO, "mapped, same bucket");
    CHECK(decide(p, t, 0, "::FFFF:10.0.2.1", "", "", ev) == POLICY_THROTTLE,
	  "::ffff:10.0.2.1 shares the bucket of 10.0.2.1");
    CHECK(decide(p, t, 0, "10.0.2.2", "", "", ev) == POLICY_DUNNO, "the next IPv4 address");
    throttle_free(t);
    policy_free(p);

    conf_defaults(&cf);				/* a /128: each address alone */
    CHECK(cf.submit_rate_limit_ipv6_prefix == 64, "the default prefix is 64");
    conf_set(&cf.events_address, ev);
    strv_add(&cf.submit_networks, "2001:db8::/32");
    cf.submit_rate_limit = 1;
    cf.submit_rate_limit_ipv6_prefix = 128;
    p = policy_create(&cf, &why);
    t = throttle_create();
    CHECK(decide(p, t, 0, "2001:db8::1", "", "", ev) == POLICY_DUNNO, "/128: one");
    CHECK(decide(p, t, 0, "2001:db8::2", "", "", ev) == POLICY_DUNNO, "/128: another");
    CHECK(decide(p, t, 0, "2001:db8::1", "", "", ev) == POLICY_THROTTLE, "/128: one again");
    throttle_free(t);
    policy_free(p);
    cf.submit_rate_limit_ipv6_prefix = 129;
    CHECK(conf_check(&cf, &why) < 0 && strstr(sb_str(&why), "ipv6_prefix"), "129 refused: %s",
	  sb_str(&why));
    conf_free(&cf);
    sb_free(&why);
}

static void test_bad_conf(void)
{
    CONF    cf;
    STRBUF  why = STRBUF_INIT;

    conf_defaults(&cf);
    strv_add(&cf.submit_networks, "10.0.0.1/8");
    CHECK(policy_create(&cf, &why) == NULL, "host bits set");
    CHECK(strstr(sb_str(&why), "10.0.0.1/8") != NULL, "%s", sb_str(&why));
    strv_free(&cf.submit_networks);
    sb_reset(&why);
    strv_add(&cf.submit_senders, "portal");
    CHECK(policy_create(&cf, &why) == NULL, "a sender without @");
    conf_free(&cf);
    sb_free(&why);
}

int     main(void)
{
    test_splits();
    test_bad();
    test_decisions();
    test_throttle();
    test_prefix();
    test_bad_conf();
    return (tap_done("t_policy"));
}
