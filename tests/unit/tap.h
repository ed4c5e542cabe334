/*
 * tap.h - the little assertion kit of crier's unit tests.
 *
 * CHECK() counts and reports a failed expectation without stopping, so a
 * run shows every failure; tap_done() turns the count into the exit status
 * automake's test driver reads (0 pass, 1 fail).
 */
#ifndef CRIER_TAP_H
#define CRIER_TAP_H

#include <stdio.h>

static int tap_failed;
static int tap_checked;

#define CHECK(cond, ...) do { \
	tap_checked++; \
	if (!(cond)) { \
	    tap_failed++; \
	    fprintf(stderr, "%s:%d: FAIL: %s: ", __FILE__, __LINE__, #cond); \
	    fprintf(stderr, __VA_ARGS__); \
	    fputc('\n', stderr); \
	} \
    } while (0)

static inline int tap_done(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, tap_checked, tap_failed);
    return (tap_failed ? 1 : 0);
}

#endif
