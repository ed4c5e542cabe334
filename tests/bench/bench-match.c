/*
 * bench-match.c - time the matcher on a compiled rules store.
 *
 * bench-match -s STATE_DIR -e EVENTS_DIR [-p PASSES] [-1]
 *
 * Loads every *.eml in EVENTS_DIR into memory and parses each once, then
 * times match_event() per event over PASSES passes (after one untimed
 * warm-up pass). By default each call is what crierd does per event: a new
 * read transaction, the match, freeing the result, ending the transaction;
 * -1 reuses one read transaction for every call. Prints one line:
 *
 *   match n=... events=... median_us=... p99_us=... per_s=...
 *	avg_deliveries=... avg_candidates=...
 *
 * avg_candidates counts the index entries under the event's (type,
 * partner) and (type, "*"): what the cost should follow.
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "match.h"
#include "mem.h"
#include "rulesdb.h"
#include "strbuf.h"
#include "strv.h"

typedef struct bench {
    RULESDB *rdb;
    EVENT **evs;
    size_t  nevs;
    int     one_txn;
    MDB_txn *txn;			/* with one_txn */
    uint64_t *ns;			/* one latency per timed call */
    size_t  nns;
    uint64_t deliveries;
} BENCH;

static void fatal(const char *what, const char *detail)
{
    fprintf(stderr, "bench-match: %s: %s\n", what, detail);
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec);
}

/* slurp - a whole file, allocated */
static char *slurp(const char *path, size_t *len)
{
    STRBUF  sb = STRBUF_INIT;
    char    buf[8192];
    FILE   *fp = fopen(path, "r");
    size_t  n;

    if (fp == NULL)
	fatal(path, "cannot open");
    while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
	sb_putn(&sb, buf, n);
    if (ferror(fp))
	fatal(path, "cannot read");
    fclose(fp);
    *len = sb.len;
    return (sb_steal(&sb));
}

/* load_events - read and parse every *.eml of dir, in name order */
static void load_events(BENCH *b, const char *dir)
{
    STRV    names = STRV_INIT;
    struct dirent *de;
    DIR    *dp;
    size_t  i, len, nlen;

    if ((dp = opendir(dir)) == NULL)
	fatal(dir, "cannot open the events directory");
    while ((de = readdir(dp)) != NULL)
	if ((nlen = strlen(de->d_name)) > 4 && strcmp(de->d_name + nlen - 4, ".eml") == 0)
	    strv_add(&names, de->d_name);
    closedir(dp);
    strv_sort(&names);
    b->evs = xcalloc(names.len + 1, sizeof(EVENT *));
    for (i = 0; i < names.len; i++) {
	STRBUF  path = STRBUF_INIT, why = STRBUF_INIT;
	char   *msg;

	sb_printf(&path, "%s/%s", dir, names.v[i]);
	msg = slurp(sb_str(&path), &len);
	if (event_parse_mail(msg, len, &b->evs[b->nevs], &why) < 0)
	    fatal(sb_str(&path), sb_str(&why));
	b->nevs++;
	free(msg);
	sb_free(&path);
	sb_free(&why);
    }
    strv_free(&names);
    if (b->nevs == 0)
	fatal(dir, "no *.eml files");
}

static int count_id(const RDB_VIEW *view, void *ctx)
{
    (void) view;
    ++*(size_t *) ctx;
    return (0);
}

/* candidates - index entries under the events' (type, partner) and (type, "*") */
static double candidates(BENCH *b)
{
    STRBUF  why = STRBUF_INIT;
    MDB_txn *txn;
    size_t  i, n = 0;

    if (rulesdb_read(b->rdb, &txn, &why) < 0)
	fatal("read transaction", sb_str(&why));
    for (i = 0; i < b->nevs; i++)
	if (rulesdb_index_each(b->rdb, txn, b->evs[i]->type, b->evs[i]->partner,
			       count_id, &n, &why) < 0
	    || rulesdb_index_each(b->rdb, txn, b->evs[i]->type, "*", count_id, &n, &why) < 0)
	    fatal("index", sb_str(&why));
    rulesdb_end(b->rdb, txn);
    sb_free(&why);
    return ((double) n / (double) b->nevs);
}

/* match_one - one timed call; returns nanoseconds */
static uint64_t match_one(BENCH *b, const EVENT *ev)
{
    STRBUF  why = STRBUF_INIT;
    MDB_txn *txn = b->txn;
    MATCH  *m;
    uint64_t t0 = now_ns(), t1;

    if (!b->one_txn && rulesdb_read(b->rdb, &txn, &why) < 0)
	fatal("read transaction", sb_str(&why));
    if (match_event(b->rdb, txn, ev, 0, &m, &why) != MATCH_OK)
	fatal(ev->id, sb_str(&why));
    b->deliveries += m->nhits;
    match_free(m);
    if (!b->one_txn)
	rulesdb_end(b->rdb, txn);
    t1 = now_ns();
    sb_free(&why);
    return (t1 - t0);
}

static int ns_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return ((x > y) - (x < y));
}

/* run - one warm-up pass, then passes timed calls over every event */
static double run(BENCH *b, int passes)
{
    uint64_t start;
    size_t  i;
    int     p;

    for (i = 0; i < b->nevs; i++)
	(void) match_one(b, b->evs[i]);
    b->deliveries = 0;
    b->ns = xcalloc((size_t) passes * b->nevs, sizeof(uint64_t));
    start = now_ns();
    for (p = 0; p < passes; p++)
	for (i = 0; i < b->nevs; i++)
	    b->ns[b->nns++] = match_one(b, b->evs[i]);
    return ((double) (now_ns() - start) / 1e9);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench-match -s STATE_DIR -e EVENTS_DIR [-p PASSES] [-1]\n");
    exit(2);
}

int     main(int argc, char **argv)
{
    const char *state = NULL, *events = NULL;
    STRBUF  why = STRBUF_INIT;
    BENCH   b;
    double  secs, cands;
    int     ch, passes = 10;
    size_t  i;

    memset(&b, 0, sizeof(b));
    while ((ch = getopt(argc, argv, "s:e:p:1")) != -1) {
	switch (ch) {
	case 's':
	    state = optarg;
	    break;
	case 'e':
	    events = optarg;
	    break;
	case 'p':
	    passes = atoi(optarg);
	    break;
	case '1':
	    b.one_txn = 1;
	    break;
	default:
	    usage();
	}
    }
    if (state == NULL || events == NULL || passes < 1 || optind != argc)
	usage();
    if (rulesdb_open(state, 0, &b.rdb, &why) < 0)
	fatal(state, sb_str(&why));
    load_events(&b, events);
    cands = candidates(&b);
    if (b.one_txn && rulesdb_read(b.rdb, &b.txn, &why) < 0)
	fatal("read transaction", sb_str(&why));
    secs = run(&b, passes);
    qsort(b.ns, b.nns, sizeof(uint64_t), ns_cmp);
    printf("match n=%zu events=%zu txn=%s median_us=%.2f p99_us=%.2f per_s=%.0f "
	   "avg_deliveries=%.2f avg_candidates=%.1f\n", b.nns, b.nevs,
	   b.one_txn ? "shared" : "per_event", b.ns[b.nns / 2] / 1e3,
	   b.ns[(b.nns * 99) / 100] / 1e3, (double) b.nns / secs,
	   (double) b.deliveries / (double) b.nns, cands);
    if (b.one_txn)
	rulesdb_end(b.rdb, b.txn);
    for (i = 0; i < b.nevs; i++)
	event_free(b.evs[i]);
    free(b.evs);
    free(b.ns);
    rulesdb_close(b.rdb);
    sb_free(&why);
    return (0);
}
