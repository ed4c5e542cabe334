/*
 * match.h - who hears about an event: the indexed matcher.
 *
 * match_event() reads only the views indexed under the event's type and
 * partner (and under "*", for users of every partner), so its cost follows
 * the number of candidates, not the size of rules.d. A view delivers when
 * it is not muted and every condition holds: the event's field is present
 * and equal, ASCII case-insensitively, to one of the accepted values.
 *
 * With MATCH_EXPLAIN it also says why every other notification of that
 * event type does not deliver (muted, filter mismatch, other partner); that
 * scan is not bounded by the candidates and is meant for crierctl explain.
 * MATCH_EXPLAIN_FEW bounds it: the reasons of the candidates, and of at
 * most MATCH_FEW notifications of other partners (crierd's debug log,
 * which so shares crierctl explain's reasons at a cost near the match's).
 */
#ifndef CRIER_MATCH_H
#define CRIER_MATCH_H

#include <lmdb.h>
#include <stdint.h>

#include "event.h"
#include "rulesdb.h"
#include "strbuf.h"

#define MATCH_EXPLAIN	(1<<0)
#define MATCH_EXPLAIN_FEW	(1<<1)	/* with MATCH_EXPLAIN */
#define MATCH_FEW	10

#define MATCH_OK	0
#define MATCH_BAD_EVENT	1		/* the event does not fit the catalog */
#define MATCH_ERROR	(-1)		/* the store failed: try again later */

typedef struct match_hit {
    uint32_t view;
    char   *recipient;
    char   *notification;		/* PROFILE/NAME or NAME */
    int     kind;			/* 'd' default, 'c' custom */
    char   *frequency;
    char   *reason;			/* excluded only: why */
} MATCH_HIT;

typedef struct match {
    char   *title;			/* the event type's title */
    size_t  ncandidates;		/* views under (type, partner) and (type, "*") */
    MATCH_HIT *hits;			/* deliveries, by recipient, frequency, id */
    size_t  nhits;
    MATCH_HIT *excluded;		/* MATCH_EXPLAIN: the others */
    size_t  nexcluded;
    int     others_cut;			/* MATCH_EXPLAIN_FEW left some out */
} MATCH;

int     match_event(RULESDB *rdb, MDB_txn *txn, const EVENT *ev, int flags,
		            MATCH **out, STRBUF *why);
int     match_view(const RDB_VIEW *v, char *const *partners, size_t npartners,
		           const EVENT *ev);
void    match_free(MATCH *m);
size_t  match_group_end(const MATCH *m, size_t start);
const char *match_kind_name(int kind);

#endif
