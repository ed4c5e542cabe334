/*
 * bench-sched.c - time digest scheduling: sched_next() per call, and
 * digest_replan() over a million pending digests after a reload.
 *
 * bench-sched -s STATE_DIR [-n DIGESTS] [-c CALLS] [-r SEED]
 *
 * Part 1 times sched_next() call by call for the shipped frequencies
 * (rules.d/00-frequencies.conf) and three harder rules, in 30 zones, at
 * random instants of 2026-2036 (fixed seed), after a warm-up pass over
 * every (rule, zone) pair so that the zone and parsed-rule caches are
 * warm, as they are in crierd. The rules are interleaved, as a replan
 * interleaves a recipient's frequencies. It also times sched_rrule_check(),
 * the 400-year walk that crierctl check and compile do per frequency.
 *
 * Part 2 builds, in STATE_DIR (made empty by the caller), a rules.lmdb
 * with the shipped frequencies and ceil(DIGESTS / 3) users spread over the
 * same zones, and a state.lmdb where each user has an hourly, a daily and
 * a weekly digest pending (one item each, due as digest_due() says). Then
 * it times digest_replan() with the rules unchanged (nothing may move) and
 * again after the daily RRULE moved from 09:00 to 10:00 (every daily
 * digest must move). Building the stores is timed too, apart.
 *
 * Any failed call, or a replan that moves other than it must, is reported
 * and makes the exit status 1. Output is the tables of both parts, the
 * targets and whether they were met, and the peak RSS.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "mem.h"
#include "pack.h"
#include "rulesdb.h"
#include "schedule.h"
#include "statedb.h"
#include "strbuf.h"

#define T_2026		1767225600	/* 2026-01-01T00:00:00Z */
#define T_2037		2114380800	/* 2037-01-01T00:00:00Z */
#define ARRIVED_BASE	1773662400	/* 2026-03-16T12:00:00Z: items arrive */
#define ARRIVED_SPAN	(14 * 86400)	/* within two weeks of it (DST changes) */
#define WARM_PER_PAIR	4		/* warm-up calls per (rule, zone) */
#define CHECK_CALLS	20		/* sched_rrule_check() calls per rule */
#define ITEMS_PER_EVENT	1000		/* digest items per statedb_accept() */
#define SCHED_TARGET_US	20.0		/* median, shipped frequencies */
#define REPLAN_TARGET_S	30.0		/* for 10^6 digests */
#define DEFAULT_TZ	"UTC"

typedef struct bench_rule {
    const char *name;
    const char *rrule;
    int     shipped;
} BENCH_RULE;

static const BENCH_RULE rules[] = {
    {"hourly", "FREQ=HOURLY;BYMINUTE=0", 1},
    {"daily", "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", 1},
    {"weekly", "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0", 1},
    {"monthly-last-wd", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;BYHOUR=17;BYMINUTE=0", 0},
    {"quarter-hour", "FREQ=MINUTELY;INTERVAL=15", 0},
    {"feb-29", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=9", 0},
};

#define NRULES	(sizeof(rules) / sizeof(rules[0]))

#define DAILY_NEW	"FREQ=DAILY;BYHOUR=10;BYMINUTE=0"

/* Zones with odd offsets, half-hour DST, negative DST, DST in the south. */
static const char *zones[] = {
    "UTC", "Europe/Berlin", "Europe/London", "Europe/Dublin", "Europe/Moscow",
    "Europe/Istanbul", "Africa/Casablanca", "Africa/Cairo", "Africa/Johannesburg",
    "Asia/Kolkata", "Asia/Kathmandu", "Asia/Tehran", "Asia/Shanghai", "Asia/Tokyo",
    "Asia/Jerusalem", "Australia/Sydney", "Australia/Adelaide", "Australia/Lord_Howe",
    "Pacific/Auckland", "Pacific/Chatham", "Pacific/Apia", "Pacific/Kiritimati",
    "America/New_York", "America/Chicago", "America/Los_Angeles", "America/Sao_Paulo",
    "America/Santiago", "America/St_Johns", "America/Havana", "Antarctica/Troll",
};

#define NZONES	(sizeof(zones) / sizeof(zones[0]))

/* The shipped frequencies, as compile writes them (position = order in rules.d). */
static const struct {
    const char *name;
    const char *title;
    const char *rrule;
} freqs[] = {
    {"immediately", "Immediately", ""},
    {"hourly", "Hourly", "FREQ=HOURLY;BYMINUTE=0"},
    {"daily", "Daily", "FREQ=DAILY;BYHOUR=9;BYMINUTE=0"},
    {"weekly", "Weekly", "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0"},
};

#define NFREQS	(sizeof(freqs) / sizeof(freqs[0]))

/* The digest frequencies each user has pending. */
static const char *pending[] = {"hourly", "daily", "weekly"};

#define NPENDING (sizeof(pending) / sizeof(pending[0]))

static int failed;			/* a check failed: exit 1 at the end */

static void fatal(const char *what, const char *detail)
{
    fprintf(stderr, "bench-sched: %s: %s\n", what, detail);
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec);
}

static double secs_since(uint64_t t0)
{
    return ((double) (now_ns() - t0) / 1e9);
}

/* rnd - splitmix64: the same sequence for the same seed everywhere */
static uint64_t rnd(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (z ^ (z >> 31));
}

static uint64_t rnd_below(uint64_t *state, uint64_t n)
{
    return (rnd(state) % n);
}

static int ns_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return ((x > y) - (x < y));
}

/* pct - the p-th percentile of n sorted values, in microseconds */
static double pct(const uint64_t *v, size_t n, int p)
{
    size_t  i = (n * (size_t) p) / 100;

    return ((double) v[i < n ? i : n - 1] / 1e3);
}

/* next_or_die - one sched_next(), checked */
static time_t next_or_die(const BENCH_RULE *r, const char *tz, time_t after)
{
    STRBUF  why = STRBUF_INIT;
    time_t  next;

    if (sched_next(r->rrule, tz, after, &next, &why) < 0) {
	fprintf(stderr, "bench-sched: sched_next %s in %s after %lld: %s\n", r->rrule, tz,
		(long long) after, sb_str(&why));
	exit(1);
    }
    if (next <= after) {
	fprintf(stderr, "bench-sched: sched_next %s in %s after %lld: %lld is not after it\n",
		r->rrule, tz, (long long) after, (long long) next);
	exit(1);
    }
    sb_free(&why);
    return (next);
}

/* bench_next - part 1: sched_next() latency per rule; returns 1 when the target is met */
static int bench_next(size_t calls, uint64_t seed)
{
    uint64_t *ns[NRULES], t0, rs = seed;
    size_t  i, r, z, n[NRULES];
    double  worst = 0, med;
    time_t  after;
    int     k;

    for (r = 0; r < NRULES; r++)		/* warm-up: every zone, every rule */
	for (z = 0; z < NZONES; z++)
	    for (k = 0; k < WARM_PER_PAIR; k++)
		(void) next_or_die(&rules[r], zones[z],
				   (time_t) (T_2026 + rnd_below(&rs, T_2037 - T_2026)));
    for (r = 0; r < NRULES; r++) {
	ns[r] = xcalloc(calls + 1, sizeof(uint64_t));
	n[r] = 0;
    }
    for (i = 0; i < calls * NRULES; i++) {	/* rules interleaved, zones at random */
	r = i % NRULES;
	z = rnd_below(&rs, NZONES);
	after = (time_t) (T_2026 + rnd_below(&rs, T_2037 - T_2026));
	t0 = now_ns();
	(void) next_or_die(&rules[r], zones[z], after);
	ns[r][n[r]++] = now_ns() - t0;
    }
    printf("sched_next: %zu calls per rule, %zu zones, after at random in 2026-2036"
	   " (seed %llu), caches warm\n", calls, NZONES, (unsigned long long) seed);
    printf("  %-16s %-66s %8s %9s %8s %8s\n", "rule", "rrule", "calls", "median_us",
	   "p90_us", "p99_us");
    for (r = 0; r < NRULES; r++) {
	qsort(ns[r], n[r], sizeof(uint64_t), ns_cmp);
	med = pct(ns[r], n[r], 50);
	if (rules[r].shipped && med > worst)
	    worst = med;
	printf("  %-16s %-66s %8zu %9.2f %8.2f %8.2f\n", rules[r].name, rules[r].rrule, n[r],
	       med, pct(ns[r], n[r], 90), pct(ns[r], n[r], 99));
	free(ns[r]);
    }
    printf("  target: median <= %.0f us for the shipped frequencies: %s (worst %.2f us)\n",
	   SCHED_TARGET_US, worst <= SCHED_TARGET_US ? "met" : "NOT MET", worst);
    return (worst <= SCHED_TARGET_US);
}

/* bench_check - sched_rrule_check() per rule, median of CHECK_CALLS */
static void bench_check(void)
{
    STRBUF  why = STRBUF_INIT;
    uint64_t ns[CHECK_CALLS], t0;
    size_t  r;
    int     i;

    printf("\nsched_rrule_check: median of %d calls per rule\n", CHECK_CALLS);
    printf("  %-16s %10s %10s\n", "rule", "median_ms", "max_ms");
    for (r = 0; r < NRULES; r++) {
	for (i = 0; i < CHECK_CALLS; i++) {
	    t0 = now_ns();
	    if (sched_rrule_check(rules[r].rrule, &why) < 0)
		fatal(rules[r].rrule, sb_str(&why));
	    ns[i] = now_ns() - t0;
	}
	qsort(ns, CHECK_CALLS, sizeof(uint64_t), ns_cmp);
	printf("  %-16s %10.2f %10.2f%s\n", rules[r].name, (double) ns[CHECK_CALLS / 2] / 1e6,
	       (double) ns[CHECK_CALLS - 1] / 1e6, rules[r].shipped ? "" : "  (not shipped)");
    }
    sb_free(&why);
}

static void user_address(char *buf, size_t len, size_t i)
{
    snprintf(buf, len, "u%07zu@bench.test", i + 1);
}

/* build_rules - rules.lmdb as a compile of the shipped frequencies and nusers users writes it */
static void build_rules(RULESDB *rdb, size_t nusers)
{
    STRBUF  why = STRBUF_INIT, file = STRBUF_INIT;
    char    addr[64];
    char   *partners[] = {"Acme", NULL};
    uint64_t generation;
    MDB_txn *txn;
    RDB_USER u;
    RDB_META m;
    size_t  i;

    if (rulesdb_write_begin(rdb, &txn, &generation, &why) < 0)
	fatal("rules.lmdb: write", sb_str(&why));
    for (i = 0; i < NFREQS; i++)
	if (rulesdb_put_freq(rdb, txn, freqs[i].name, freqs[i].title, freqs[i].rrule,
			     (unsigned) i, &why) != 0)
	    fatal("rules.lmdb: frequency", sb_str(&why));
    for (i = 0; i < nusers; i++) {		/* in key order: the store appends */
	user_address(addr, sizeof(addr), i);
	sb_reset(&file);
	sb_printf(&file, "users/%03zu/%s.conf", i / 1000, addr);
	memset(&u, 0, sizeof(u));
	u.address = addr;
	u.profile = "bench";
	u.timezone = zones[i % NZONES];
	u.file = file.s;
	u.line = 1;
	u.first = 0;
	u.count = 0;
	u.npartners = 1;
	u.partners = partners;
	if (rulesdb_put_user(rdb, txn, &u, &why) != 0)
	    fatal("rules.lmdb: user", sb_str(&why));
    }
    memset(&m, 0, sizeof(m));
    m.generation = generation + 1;
    m.compiled = (uint64_t) time(NULL);
    m.users = nusers;
    m.rules_dir = "bench";
    m.digest = "";
    m.catalog = "";
    if (rulesdb_put_meta(rdb, txn, &m, &why) != 0 || rulesdb_commit(rdb, txn, &why) < 0)
	fatal("rules.lmdb: commit", sb_str(&why));
    sb_free(&why);
    sb_free(&file);
}

/*
 * build_state - ndigests pending digests: users in order, hourly, daily,
 * weekly each, ITEMS_PER_EVENT items per accepted event. Each item's due
 * time is what digest_due() says, as intake does.
 */
static void build_state(RULESDB *rdb, STATEDB *sdb, size_t ndigests, uint64_t seed)
{
    STRBUF  why = STRBUF_INIT, rec = STRBUF_INIT, eid = STRBUF_INIT;
    SDB_ITEM *items = xcalloc(ITEMS_PER_EVENT, sizeof(SDB_ITEM));
    char  (*addrs)[32] = xcalloc(ITEMS_PER_EVENT, 32);
    char   *notifs[] = {"bench/digest", NULL};
    uint64_t rs = seed ^ 0x5eedULL;
    MDB_txn *rtxn;
    size_t  d = 0, i, n, nevents = 0;
    time_t  due;
    int     dup, rc;

    while (d < ndigests) {
	if (rulesdb_read(rdb, &rtxn, &why) < 0)
	    fatal("rules.lmdb: read", sb_str(&why));
	for (n = 0; n < ITEMS_PER_EVENT && d < ndigests; n++, d++) {
	    SDB_ITEM *it = &items[n];

	    user_address(addrs[n], sizeof(addrs[n]), d / NPENDING);
	    memset(it, 0, sizeof(*it));
	    it->recipient = addrs[n];
	    it->frequency = pending[d % NPENDING];
	    it->nnotifs = 1;
	    it->notifs = notifs;
	    it->arrived = ARRIVED_BASE + rnd_below(&rs, ARRIVED_SPAN);
	    if ((rc = digest_due(rdb, rtxn, DEFAULT_TZ, it->recipient, it->frequency,
				 (time_t) it->arrived, &due, &why)) != DIGEST_OK) {
		fprintf(stderr, "bench-sched: digest_due to=<%s> frequency=%s: %d: %s\n",
			it->recipient, it->frequency, rc, sb_str(&why));
		exit(1);
	    }
	    it->due = (uint64_t) due;
	}
	rulesdb_end(rdb, rtxn);
	sb_reset(&eid);
	sb_printf(&eid, "bench-%08zu@bench.test", ++nevents);
	sb_reset(&rec);
	pack_str(&rec, "bench_event");
	pack_str(&rec, "Acme");
	pack_u64(&rec, (uint64_t) ARRIVED_BASE);
	for (i = 0; i < n; i++)
	    items[i].event_id = eid.s;
	if (statedb_accept(sdb, eid.s, &rec, NULL, 0, items, n, &dup, &why) < 0)
	    fatal("state.lmdb: accept", sb_str(&why));
	if (dup)
	    fatal(eid.s, "accepted before");
    }
    free(items);
    free(addrs);
    sb_free(&why), sb_free(&rec), sb_free(&eid);
}

/* set_daily - the daily frequency gets another RRULE, in place (a reload that changes it) */
static void set_daily(RULESDB *rdb, const char *rrule)
{
    STRBUF  why = STRBUF_INIT;
    const char *title, *old;
    MDB_txn *txn;
    RDB_META m;
    unsigned pos;
    char   *keep;
    int     rc;

    if ((rc = rulesdb_update_begin(rdb, &txn, &m, &why)) != 0)
	fatal("rules.lmdb: update", rc > 0 ? "nothing compiled" : sb_str(&why));
    if ((rc = rulesdb_get_freq(rdb, txn, "daily", &title, &old, &pos, &why)) != 0)
	fatal("rules.lmdb: daily", rc > 0 ? "no such frequency" : sb_str(&why));
    keep = xstrdup(title);			/* LMDB's copy moves at the first write */
    if (rulesdb_put_freq(rdb, txn, "daily", keep, rrule, pos, &why) != 0
	|| rulesdb_commit(rdb, txn, &why) < 0)
	fatal("rules.lmdb: daily", sb_str(&why));
    free(keep);
    sb_free(&why);
}

/* replan - one timed digest_replan(); checks what it did against want_moved */
static double replan(RULESDB *rdb, STATEDB *sdb, const char *label, size_t ndigests,
		             size_t want_moved)
{
    DIGEST_REPLAN st = {0, 0, 0, STRBUF_INIT};
    STRBUF  why = STRBUF_INIT;
    uint64_t t0 = now_ns();
    double  secs;

    if (digest_replan(rdb, sdb, DEFAULT_TZ, &st, &why) < 0)
	fatal("digest_replan", sb_str(&why));
    secs = secs_since(t0);
    printf("  %-24s %9zu %9zu %8zu %9.2f %14.0f\n", label, st.digests, st.moved, st.at_once,
	   secs, (double) st.digests / secs);
    if (st.digests != ndigests || st.moved != want_moved || st.at_once != 0) {
	printf("  FAILED: %s: want digests=%zu moved=%zu at_once=0%s%s\n", label, ndigests,
	       want_moved, st.at_once ? "; first at once: " : "", sb_str(&st.first_why));
	failed = 1;
    }
    sb_free(&st.first_why);
    sb_free(&why);
    return (secs);
}

static double file_mb(const char *dir, const char *name)
{
    STRBUF  path = STRBUF_INIT;
    struct stat sb;
    double  mb;

    sb_printf(&path, "%s/%s", dir, name);
    mb = stat(path.s, &sb) == 0 ? (double) sb.st_size / 1048576.0 : 0;
    sb_free(&path);
    return (mb);
}

/* bench_replan - part 2; returns 1 when the target is met */
static int bench_replan(const char *state_dir, size_t ndigests, uint64_t seed)
{
    STRBUF  why = STRBUF_INIT;
    size_t  nusers = (ndigests + NPENDING - 1) / NPENDING;
    RULESDB *rdb;
    STATEDB *sdb;
    double  t_rules, t_state, secs, target;
    uint64_t t0;

    ndigests = nusers * NPENDING;
    printf("\ndigest_replan: %zu pending digests (%zu users x hourly, daily, weekly;"
	   " %zu zones)\n", ndigests, nusers, NZONES);
    t0 = now_ns();
    if (rulesdb_open(state_dir, 1, &rdb, &why) < 0)
	fatal("rules.lmdb", sb_str(&why));
    build_rules(rdb, nusers);
    t_rules = secs_since(t0);
    t0 = now_ns();
    if (statedb_open(state_dir, &sdb, &why) < 0)
	fatal("state.lmdb", sb_str(&why));
    build_state(rdb, sdb, ndigests, seed);
    t_state = secs_since(t0);
    printf("  built (not part of the target): rules.lmdb %.2f s (%.0f MB),"
	   " state.lmdb %.2f s (%.0f MB)\n", t_rules, file_mb(state_dir, RULESDB_FILE),
	   t_state, file_mb(state_dir, STATEDB_FILE));
    printf("  %-24s %9s %9s %8s %9s %14s\n", "run", "digests", "moved", "at_once",
	   "seconds", "digests_per_s");
    secs = replan(rdb, sdb, "rules unchanged", ndigests, 0);
    set_daily(rdb, DAILY_NEW);
    secs = replan(rdb, sdb, "daily 09:00 -> 10:00", ndigests, nusers);
    target = REPLAN_TARGET_S * (double) ndigests / 1e6;
    printf("  target: under %.0f s for 10^6 digests (%.1f s for %zu): %s\n",
	   REPLAN_TARGET_S, target, ndigests, secs < target ? "met" : "NOT MET");
    statedb_close(sdb);
    rulesdb_close(rdb);
    sb_free(&why);
    return (secs < target);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench-sched -s STATE_DIR [-n DIGESTS] [-c CALLS] [-r SEED]\n");
    exit(2);
}

int     main(int argc, char **argv)
{
    const char *state = NULL;
    struct rusage ru;
    size_t  ndigests = 1000000, calls = 20000;
    uint64_t seed = 1;
    int     ch;

    while ((ch = getopt(argc, argv, "s:n:c:r:")) != -1) {
	switch (ch) {
	case 's':
	    state = optarg;
	    break;
	case 'n':
	    ndigests = strtoul(optarg, NULL, 10);
	    break;
	case 'c':
	    calls = strtoul(optarg, NULL, 10);
	    break;
	case 'r':
	    seed = strtoull(optarg, NULL, 10);
	    break;
	default:
	    usage();
	}
    }
    if (state == NULL || optind != argc || ndigests == 0 || calls == 0)
	usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    (void) bench_next(calls, seed);
    bench_check();
    (void) bench_replan(state, ndigests, seed);
    getrusage(RUSAGE_SELF, &ru);
    printf("\npeak RSS: %.1f MB\n", (double) ru.ru_maxrss / 1024.0);
    return (failed);
}
