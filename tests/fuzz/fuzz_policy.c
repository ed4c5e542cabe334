/*
 * fuzz_policy.c - libFuzzer target for the policy request reader and the
 * decisions behind it.
 *
 * Reads the input as crierd's policy service reads a connection: request
 * after request until the bytes run out or are refused, and decides each
 * one against a fixed configuration with a rate limit. Any crash, leak or
 * undefined behaviour is a bug; a refusal is a normal outcome. Built and
 * run briefly by tests/run.sh with clang -fsanitize=fuzzer.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy_fixture.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static POLICY *policy;

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *buf = malloc(size + 1);
    STRBUF  why = STRBUF_INIT, action = STRBUF_INIT, reason = STRBUF_INIT;
    THROTTLE *t = throttle_create();
    POLICY_REQ req;
    size_t  off = 0, used;
    int     v;

    if (policy == NULL)
	policy = fixture_policy(5);
    memcpy(buf, data, size);
    while (policy_parse(buf + off, size - off, &req, &used, &why) == POLICY_READY) {
	if (used == 0 || used > size - off)
	    __builtin_trap();		/* progress, within the buffer */
	off += used;
	v = policy_decide(policy, t, &req, (double) off, &action, &reason);
	if (v != POLICY_DUNNO && (action.len == 0 || strchr(action.s, '\n')))
	    __builtin_trap();		/* one action line, never more */
	sb_reset(&action), sb_reset(&reason);
    }
    throttle_free(t);
    free(buf);
    sb_free(&why), sb_free(&action), sb_free(&reason);
    return (0);
}
