/*
 * fuzz_event.c - libFuzzer target for the event parsers.
 *
 * Feeds arbitrary bytes to event_parse() (the field block) and to
 * event_parse_mail() (the whole message through GMime). Any crash, leak or
 * undefined behaviour is a bug; a parse error is a normal outcome. Built
 * and run briefly by tests/run.sh with clang -fsanitize=fuzzer.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "event.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    STRBUF  why = STRBUF_INIT;
    EVENT  *ev = NULL;

    if (event_parse((const char *) data, size, &ev, &why) == 0 && event_get(ev, "event") == NULL)
	__builtin_trap();		/* a parsed event always has its type */
    event_free(ev);
    sb_reset(&why);
    (void) event_parse_mail((const char *) data, size, &ev, &why);
    event_free(ev);
    sb_free(&why);
    return (0);
}
