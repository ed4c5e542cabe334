/*
 * fuzz_dsn.c - libFuzzer target for the DSN reader.
 *
 * Feeds arbitrary bytes to dsn_parse_status() (a delivery-status body)
 * and to dsn_parse() (a whole bounce through GMime), then asks every
 * question crierd asks of a report. Any crash, leak or undefined
 * behaviour is a bug; a refused report is a normal outcome. Every value
 * must be bounded and free of control characters.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dsn.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* clean - a value crierd may log as it is */
static void clean(const char *v)
{
    const char *p;

    if (strlen(v) > DSN_MAX_VALUE)
	__builtin_trap();
    for (p = v; *p; p++)
	if ((unsigned char) *p < ' ' || *p == 0x7f)
	    __builtin_trap();
}

static void ask(const DSN *d)
{
    const DSN_RCPT *r;
    size_t  i;

    if (d == NULL)
	return;
    if (d->nrcpts == 0 || d->nrcpts > DSN_MAX_RCPTS || (r = dsn_pick(d, "a@b")) == NULL)
	__builtin_trap();
    (void) dsn_hard(r), (void) dsn_success(r);
    clean(d->reporting_mta);
    for (i = 0; i < d->nrcpts; i++) {
	clean(d->rcpts[i].final_recipient), clean(d->rcpts[i].original_recipient);
	clean(d->rcpts[i].action), clean(d->rcpts[i].status);
	clean(d->rcpts[i].diagnostic), clean(d->rcpts[i].remote_mta);
    }
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    STRBUF  why = STRBUF_INIT;
    DSN    *d = NULL;

    (void) dsn_parse_status((const char *) data, size, &d, &why);
    ask(d);
    dsn_free(d);
    (void) dsn_parse((const char *) data, size, &d, &why);
    ask(d);
    dsn_free(d);
    sb_free(&why);
    return (0);
}
