/*
 * fuzz_selfmail.c - libFuzzer target for reading mail to the request
 * address (selfmail.c): any bytes as the message, with an envelope sender
 * and without. Any crash, leak or undefined behaviour is a bug; mail left
 * unanswered is a normal outcome. Built and run briefly by tests/run.sh.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "selfmail.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SELF_MAIL sm;
    size_t  i;

    selfmail_parse((const char *) data, size, "ana@juicepost.example", "crier@crier.test", &sm);
    if (sm.ignore && sm.ncmds)
	__builtin_trap();		/* ignored mail carries no command */
    for (i = 0; i < sm.ncmds; i++)
	if (sm.cmds[i].arg == NULL || strchr(sm.cmds[i].arg, '\n'))
	    __builtin_trap();		/* one line each */
    if (sm.message_id && strpbrk(sm.message_id, " \t\r\n"))
	__builtin_trap();		/* safe to repeat in a header */
    selfmail_free(&sm);
    selfmail_parse((const char *) data, size, "", "crier@crier.test", &sm);
    if (sm.ignore == NULL)
	__builtin_trap();		/* a bounce is never answered */
    selfmail_free(&sm);
    return (0);
}
