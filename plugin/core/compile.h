/*
 * compile.h - turn a checked rules.d model into the compiled rules store.
 *
 * A change to one user (crierctl's verbs, self-service) compiles that user
 * alone into the set in service (compile_user_file), in time that does
 * not grow with rules.d; its digest is then unknown, so the next whole
 * compile writes everything again.
 *
 * The whole set is written in one LMDB transaction (see rulesdb.h), so a
 * reader sees the old set or the new one, never a mix; a failed compile
 * leaves the old set in service. When rules.d is byte for byte what the set
 * in service came from, nothing is written and the generation stays.
 */
#ifndef CRIER_COMPILE_H
#define CRIER_COMPILE_H

#include <stdint.h>

#include "rules.h"
#include "rulesdb.h"
#include "strbuf.h"

#define COMPILE_OK	0
#define COMPILE_WHOLE	1		/* compile_user_*: a whole compile is needed */

typedef struct compile_stats {
    uint64_t generation;		/* of the new set */
    size_t  notifs;			/* definitions in rules.d */
    size_t  views;			/* (user, notification) pairs */
    size_t  index;			/* index entries */
    size_t  users;
    size_t  evtypes;
    size_t  freqs;
    size_t  profiles;
    int     unchanged;			/* same files as the set in service */
} COMPILE_STATS;

int     compile_rules(const RULES *rules, const char *rules_dir, const char *state_dir,
		              COMPILE_STATS *stats, STRBUF *why);
int     compile_user_rules(RULESDB *rdb, const RULES *rules, const char *address,
			           COMPILE_STATS *stats, STRBUF *why);
int     compile_user_file(RULESDB *rdb, const char *rules_dir, const char *user_file,
			          const char *address, COMPILE_STATS *stats, STRBUF *why);

#endif
