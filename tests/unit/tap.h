/*
 * tap.h - the little assertion kit of crier's unit tests.
 *
 * CHECK() counts and reports a failed expectation without stopping, so a
 * run shows every failure; tap_done() turns the count into the exit status
 * automake's test driver reads (0 pass, 1 fail).
 */
#ifndef CRIER_TAP_H
#define CRIER_TAP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/*
 * tap_regen - with CRIER_REGEN in the environment, write the golden file
 * path anew and count a failure that says so: a regeneration is reviewed
 * (git diff), never a pass. Returns 1 then (the caller compares nothing),
 * 0 in a normal run.
 */
static inline int tap_regen(const char *path, const char *text, size_t len)
{
    FILE   *fp;

    if (getenv("CRIER_REGEN") == NULL)
	return (0);
    tap_checked++;
    tap_failed++;
    if ((fp = fopen(path, "wb")) == NULL)
	fprintf(stderr, "CRIER_REGEN: cannot write %s: %s\n", path, strerror(errno));
    else if (fwrite(text, 1, len, fp) != len || fclose(fp) != 0)
	fprintf(stderr, "CRIER_REGEN: cannot write %s\n", path);
    else
	fprintf(stderr, "regenerated %s: review with git diff (a CRIER_REGEN run never "
		"passes)\n", path);
    return (1);
}

static inline int tap_done(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, tap_checked, tap_failed);
    return (tap_failed ? 1 : 0);
}

#endif
