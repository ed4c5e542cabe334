/*
 * policy_fixture.h - the policy configuration that the unit test and the
 * fuzz target share: crier at crier.test, two networks, a SASL login, a
 * sender domain, and a rate limit given by the caller.
 */
#ifndef CRIER_POLICY_FIXTURE_H
#define CRIER_POLICY_FIXTURE_H

#include <stdlib.h>

#include "conf.h"
#include "policy.h"

static POLICY *fixture_policy(long rate)
{
    CONF    cf;
    STRBUF  why = STRBUF_INIT;
    POLICY *p;

    conf_defaults(&cf);
    conf_set(&cf.events_address, "events@crier.test");
    conf_set(&cf.request_address, "crier-request@crier.test");
    conf_set(&cf.sender_address, "crier@crier.test");
    conf_set(&cf.crier_domain, "crier.test");
    strv_add(&cf.submit_networks, "10.0.0.0/8");
    strv_add(&cf.submit_networks, "2001:db8::/32");
    strv_add(&cf.submit_sasl_users, "portal");
    strv_add(&cf.submit_senders, "@feeds.example");
    cf.submit_rate_limit = rate;
    if ((p = policy_create(&cf, &why)) == NULL)
	abort();
    conf_free(&cf);
    sb_free(&why);
    return (p);
}

#endif
