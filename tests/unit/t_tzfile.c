/*
 * t_tzfile.c - tzfile.c against a second, independent reading of the same
 * zone files: glibc's localtime_r() under TZ=":name".
 *
 * Every TZif file under $TZDIR or /usr/share/zoneinfo is compared, except
 * the posix/ and right/ subtrees and symlinks, which repeat files of the
 * tree ("Eire" is checked by name): the offset at 00:00Z and 12:00Z of
 * every day of 2000-2060 (which also shows that glibc sees no change
 * between two that tz_next_change() reports), and at t-1, t, t+1 of each
 * change it reports; tz_local_to_utc() at quarter hours from 3 hours
 * before to 3 hours after the local time of each change, against a brute
 * force over glibc's offsets (sampled every SEG_STEP seconds, changes then
 * found to the second: no offset of those years lasts less); sparser,
 * 1850-1999 and 2061-2200. Then each footer of the tree and some made-up
 * ones alone, 2020-2040: written to TZif files in a temporary $TZDIR with
 * one transition, in 1900, so that glibc too applies the rule. Named
 * cases, refused names and damaged files close.
 *
 * TZFILE_ZONES="Europe/Dublin Pacific/Apia" compares only the zones named
 * and their footers (e.g. for a run under valgrind). TZFILE_JOBS=n runs n
 * comparisons at a time in child processes (default 2; 0: all in this
 * process, e.g. for valgrind without --trace-children).
 *
 * Where glibc 2.36 departs from RFC 8536, not compared with it, but with
 * the values the data means:
 * - glibc applies a rule one UTC year at a time, so DST that runs from one
 *   year into the next is lost there: in "<-03>3<-02>,0/0,J365/25" (DST
 *   all year, tzfile(5)) it has -03 for the first 3 hours of each year.
 *   The made-up rules keep their changes inside the year.
 * - glibc ignores the footer of a file without transitions (RFC 8536: the
 *   footer then governs all time). The tree's files without transitions
 *   (UTC, Etc/...) have footers that agree with their one time type.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "strbuf.h"
#include "strv.h"
#include "tap.h"
#include "tzfile.h"

#define HOUR		3600
#define DAY		86400
#define MAX_SHOWN	20
#define MAX_SEGS	64
#define SEG_STEP	1800		/* no offset of 2000-2060 lasts less */
#define T1850		(-3786825600LL)
#define T1900		(-2208988800LL)
#define T2000		946684800LL
#define T2020		1577836800LL
#define T2041		2240611200LL
#define T2061		2924985600LL
#define T2201		7343164800LL

static const char *zone_name;		/* the zone compared, for messages */
static long compared;			/* comparisons with glibc */
static long differ;			/* of them, how many differ */
static char tmpdir[] = "/tmp/t_tzfile.XXXXXX";

/* fmt - an instant as RFC 3339, "Z" for UTC, none for a local time */
static const char *fmt(int64_t t, const char *zone)
{
    static char buf[4][48];
    static int n;
    char   *b = buf[n++ % 4];
    time_t  tt = (time_t) t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL)
	snprintf(b, sizeof(buf[0]), "%lld", (long long) t);
    else
	snprintf(b, sizeof(buf[0]), "%04d-%02d-%02dT%02d:%02d:%02d%s", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, zone);
    return (b);
}

/* iso - "YYYY-MM-DDTHH:MM" as seconds, as if UTC */
static int64_t iso(const char *s)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%d-%d-%dT%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	       &tm.tm_hour, &tm.tm_min) != 5)
	abort();
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (timegm(&tm));
}

/* glibc - the offset glibc has at t in the zone of TZ */
static long glibc(int64_t t)
{
    time_t  tt = (time_t) t;
    struct tm tm;

    if (localtime_r(&tt, &tm) == NULL)
	return (LONG_MIN);
    return (tm.tm_gmtoff);
}

static void glibc_zone(const char *name)
{
    STRBUF  tz = STRBUF_INIT;

    sb_printf(&tz, ":%s", name);
    setenv("TZ", tz.s, 1);
    tzset();
    sb_free(&tz);
}

/* same - one comparison with glibc; the first MAX_SHOWN differences are shown */
static void same(const char *what, int64_t at, int64_t ours, int64_t theirs, int instants)
{
    compared++;
    tap_checked++;
    if (ours == theirs)
	return;
    tap_failed++;
    if (++differ > MAX_SHOWN)
	return;
    if (instants)
	fprintf(stderr, "%s: %s %s: tzfile %s, from glibc %s\n", zone_name, what, fmt(at, ""),
		fmt(ours, "Z"), fmt(theirs, "Z"));
    else
	fprintf(stderr, "%s: %s at %s: tzfile %lld, glibc %lld\n", zone_name, what,
		fmt(at, "Z"), (long long) ours, (long long) theirs);
}

 /*
  * The brute force for local times: glibc's offsets around a change.
  */

typedef struct seg {
    int64_t at;				/* from this instant */
    long    off;			/* this offset */
} SEG;

/* glibc_segs - glibc's offsets over [from, to], changes found to the second */
static int glibc_segs(int64_t from, int64_t to, SEG *seg)
{
    int64_t t, lo, hi, mid;
    int     n = 1;

    seg[0].at = from;
    seg[0].off = glibc(from);
    for (t = from + SEG_STEP; t <= to && n < MAX_SEGS; t += SEG_STEP) {
	if (glibc(t) == seg[n - 1].off)
	    continue;
	for (lo = t - SEG_STEP, hi = t; hi - lo > 1; /* void */ ) {
	    mid = lo + (hi - lo) / 2;
	    *(glibc(mid) == seg[n - 1].off ? &lo : &hi) = mid;
	}
	seg[n].at = hi;
	seg[n++].off = glibc(hi);
    }
    return (n);
}

/*
 * brute - the instant of a local time: of u = local - o for each offset o
 * glibc has nearby, the earliest with that offset at u; with none, local is
 * in the gap of a change forward and takes the offset from before it.
 */
static int64_t brute(const SEG *seg, int n, int64_t local)
{
    int64_t best = INT64_MAX;
    int     i, j;

    for (i = 0; i < n; i++) {
	for (j = 0; j < i && seg[j].off != seg[i].off; j++)
	     /* void */ ;
	if (j == i && glibc(local - seg[i].off) == seg[i].off && local - seg[i].off < best)
	    best = local - seg[i].off;
    }
    if (best != INT64_MAX)
	return (best);
    for (i = 1; i < n; i++)
	if (seg[i].off > seg[i - 1].off && local >= seg[i].at + seg[i - 1].off
	    && local < seg[i].at + seg[i].off)
	    return (local - seg[i - 1].off);
    return (INT64_MIN);
}

/* compare_local - local times at quarter hours within 3 hours of change c */
static void compare_local(const TZ_ZONE *z, int64_t c)
{
    SEG     seg[MAX_SEGS];
    int64_t local0 = c + glibc(c - 1), local;
    int     n = glibc_segs(local0 - 30 * HOUR, local0 + 30 * HOUR, seg), k;

    for (k = -12; k <= 12; k++) {
	local = local0 + k * 900;
	same("local", local, tz_local_to_utc(z, local), brute(seg, n, local), 1);
    }
}

 /*
  * Comparing a zone.
  */

/*
 * compare_offsets - samples from..to by step, against glibc and against
 * the offset of the segment between changes tz_next_change() reports.
 */
static void compare_offsets(const TZ_ZONE *z, int64_t from, int64_t to, int64_t step)
{
    int64_t t, end = tz_next_change(z, from);
    long    off = tz_offset(z, from), ours;

    for (t = from; t < to; t += step) {
	while (t >= end) {
	    off = tz_offset(z, end);
	    end = tz_next_change(z, end);
	}
	ours = tz_offset(z, t);
	same("offset", t, ours, glibc(t), 0);
	CHECK(ours == off, "%s: offset %ld at %s but %ld from the change before",
	      zone_name, ours, fmt(t, "Z"), off);
    }
}

/* compare_changes - each change reported in (from, to]; local times too */
static void compare_changes(const TZ_ZONE *z, int64_t from, int64_t to, int local)
{
    int64_t c, prev = from;

    for (c = tz_next_change(z, from); c <= to; prev = c, c = tz_next_change(z, c)) {
	if (c <= prev) {
	    CHECK(c > prev, "%s: change %s after %s", zone_name, fmt(c, "Z"), fmt(prev, "Z"));
	    break;
	}
	CHECK(tz_offset(z, c - 1) != tz_offset(z, c), "%s: no change at %s", zone_name,
	      fmt(c, "Z"));
	same("offset before change", c - 1, tz_offset(z, c - 1), glibc(c - 1), 0);
	same("offset at change", c, tz_offset(z, c), glibc(c), 0);
	same("offset after change", c + 1, tz_offset(z, c + 1), glibc(c + 1), 0);
	if (local)
	    compare_local(z, c);
    }
}

/*
 * compare_zone - one zone against glibc: from..to fully, and with history,
 * 1850-1999 and 2061-2200 sparser
 */
static int compare_zone(const char *name, const char *label, int64_t from, int64_t to,
			        int history)
{
    STRBUF  why = STRBUF_INIT;
    const TZ_ZONE *z = tz_get(name, &why);

    CHECK(z != NULL, "%s", sb_str(&why));
    sb_free(&why);
    if (z == NULL)
	return (0);
    zone_name = label;
    glibc_zone(name);
    compare_offsets(z, from, to, 12 * HOUR);
    compare_changes(z, from, to, 1);
    if (history) {
	compare_offsets(z, T1850, T2000, 5 * DAY + 3607);
	compare_changes(z, T1850, T2000, 0);
	compare_offsets(z, T2061, T2201, 15 * DAY + 3607);
	compare_changes(z, T2061, T2201, 0);
    }
    return (1);
}

 /*
  * The comparisons run in child processes, a few at a time: glibc keeps
  * each zone abbreviation it meets in a list that it searches on every
  * call in the years of a footer, and hundreds of zones make it long.
  */

typedef struct job {
    char   *name;				/* of the zone file */
    char   *label;				/* for messages */
    int64_t from, to;				/* compared fully */
    int     history;			/* and 1850-2200 sparser */
} JOB;

typedef struct jobs {
    JOB    *v;
    size_t  len;
} JOBS;

typedef struct tally {
    long    checked, failed, compared, differ;
    int     zones;
} TALLY;

#define MAX_JOBS	16

static void job_add(JOBS *jobs, const char *name, const char *label, int64_t from,
		            int64_t to, int history)
{
    JOB    *j;

    jobs->v = xrealloc(jobs->v, (jobs->len + 1) * sizeof(*jobs->v));
    j = jobs->v + jobs->len++;
    j->name = xstrdup(name);
    j->label = xstrdup(label);
    j->from = from;
    j->to = to;
    j->history = history;
}

static void jobs_free(JOBS *jobs)
{
    size_t  i;

    for (i = 0; i < jobs->len; i++) {
	free(jobs->v[i].name);
	free(jobs->v[i].label);
    }
    free(jobs->v);
    jobs->v = NULL;
    jobs->len = 0;
}

/*
 * job_run - one comparison in a child process, its tally written to fd.
 * The child starts with the parent's count of differences, so that the
 * first MAX_SHOWN are shown (about: two children may show at once).
 */
static void job_run(const JOB *j, int fd)
{
    TALLY   t;
    long    before = differ;

    t.zones = compare_zone(j->name, j->label, j->from, j->to, j->history);
    t.checked = tap_checked;
    t.failed = tap_failed;
    t.compared = compared;
    t.differ = differ - before;
    _exit(write(fd, &t, sizeof(t)) == (ssize_t) sizeof(t) ? 0 : 1);
}

/* job_start - fork a child for job j; the read end of its pipe, or -1 */
static pid_t job_start(const JOB *j, int *fd)
{
    int     p[2];
    pid_t   pid;

    if (pipe(p) < 0)
	return (-1);
    fflush(NULL);
    if ((pid = fork()) == 0) {
	close(p[0]);
	tap_checked = tap_failed = 0;
	compared = 0;
	job_run(j, p[1]);
    }
    close(p[1]);
    if (pid < 0)
	close(p[0]);
    *fd = p[0];
    return (pid);
}

/* job_end - add the tally of a finished child */
static int job_end(const JOB *j, int fd, int status)
{
    TALLY   t;
    int     ok = read(fd, &t, sizeof(t)) == (ssize_t) sizeof(t)
    && WIFEXITED(status) && WEXITSTATUS(status) == 0;

    close(fd);
    CHECK(ok, "%s: the comparison's process failed (status 0x%x)", j->label, status);
    if (!ok)
	return (0);
    tap_checked += t.checked;
    tap_failed += t.failed;
    compared += t.compared;
    differ += t.differ;
    return (t.zones);
}

/* jobs_run - all jobs, TZFILE_JOBS (default 2) at a time; 0: in this process */
static int jobs_run(const JOBS *jobs)
{
    const char *env = getenv("TZFILE_JOBS");
    int     max = env ? atoi(env) : 2, running = 0, done = 0, fd[MAX_JOBS], slot, status;
    pid_t   pid[MAX_JOBS] = {0}, p;
    size_t  next = 0, which[MAX_JOBS];

    if (max > MAX_JOBS)
	max = MAX_JOBS;
    for (; max <= 0 && next < jobs->len; next++)
	done += compare_zone(jobs->v[next].name, jobs->v[next].label, jobs->v[next].from,
			     jobs->v[next].to, jobs->v[next].history);
    while (next < jobs->len || running > 0) {
	for (slot = 0; slot < max && next < jobs->len; slot++) {
	    if (pid[slot] > 0)
		continue;
	    which[slot] = next;
	    if ((pid[slot] = job_start(&jobs->v[next++], &fd[slot])) < 0) {
		perror("fork");
		exit(1);
	    }
	    running++;
	}
	if ((p = waitpid(-1, &status, 0)) < 0) {
	    perror("waitpid");
	    exit(1);
	}
	for (slot = 0; slot < max && pid[slot] != p; slot++)
	     /* void */ ;
	if (slot == max)
	    continue;
	done += job_end(&jobs->v[which[slot]], fd[slot], status);
	pid[slot] = 0;
	running--;
    }
    return (done);
}

 /*
  * The zones of the tree.
  */

/* is_tzif - a regular file that starts with the TZif magic */
static int is_tzif(const char *path)
{
    char    magic[4];
    int     fd = open(path, O_RDONLY | O_CLOEXEC), ok;

    if (fd < 0)
	return (0);
    ok = read(fd, magic, 4) == 4 && memcmp(magic, "TZif", 4) == 0;
    close(fd);
    return (ok);
}

/* walk - the names of the TZif files under dir/sub */
static void walk(const char *dir, const char *sub, STRV *names)
{
    STRBUF  path = STRBUF_INIT, name = STRBUF_INIT;
    struct dirent *d;
    struct stat st;
    DIR    *dp;

    sb_printf(&path, "%s/%s", dir, sub);
    if ((dp = opendir(path.s)) == NULL)
	return;
    while ((d = readdir(dp)) != NULL) {
	if (d->d_name[0] == '.' || (!*sub && (!strcmp(d->d_name, "posix")
					     || !strcmp(d->d_name, "right"))))
	    continue;
	sb_reset(&path);
	sb_reset(&name);
	sb_printf(&name, "%s%s%s", sub, *sub ? "/" : "", d->d_name);
	sb_printf(&path, "%s/%s", dir, name.s);
	if (lstat(path.s, &st) < 0)
	    continue;
	if (S_ISDIR(st.st_mode))
	    walk(dir, name.s, names);
	else if (S_ISREG(st.st_mode) && is_tzif(path.s))
	    strv_add(names, name.s);
    }
    closedir(dp);
    sb_free(&path);
    sb_free(&name);
}

/* zone_names - TZFILE_ZONES, else every zone of the tree */
static void zone_names(const char *dir, STRV *names)
{
    const char *env = getenv("TZFILE_ZONES");
    char   *copy, *tok, *save;

    if (env == NULL || *env == 0) {
	walk(dir, "", names);
	strv_sort(names);
	return;
    }
    copy = xstrdup(env);
    for (tok = strtok_r(copy, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save))
	strv_add(names, tok);
    free(copy);
}

/* footer - the TZ string at the end of a TZif file, added once to footers */
static void footer(const char *dir, const char *name, STRV *footers)
{
    STRBUF  path = STRBUF_INIT, data = STRBUF_INIT;
    char   *end, *start;
    size_t  i;

    sb_printf(&path, "%s/%s", dir, name);
    if (sb_read_file(&data, path.s, 1 << 20) == 0 && data.len > 2
	&& data.s[data.len - 1] == '\n') {
	data.s[data.len - 1] = 0;
	end = data.s + data.len - 1;
	for (start = end; start > data.s && start[-1] != '\n'; start--)
	     /* void */ ;
	for (i = 0; start < end && i < footers->len && strcmp(footers->v[i], start); i++)
	     /* void */ ;
	if (start < end && i == footers->len)
	    strv_add(footers, start);
    }
    sb_free(&path);
    sb_free(&data);
}

 /*
  * Made-up zone files, in the temporary $TZDIR.
  */

static void put32(STRBUF *f, uint32_t v)
{
    unsigned char b[4] = {v >> 24, v >> 16, v >> 8, v};

    sb_putn(f, b, 4);
}

static void put64(STRBUF *f, int64_t v)
{
    put32(f, (uint32_t) ((uint64_t) v >> 32));
    put32(f, (uint32_t) v);
}

/* head - a TZif header */
static void head(STRBUF *f, int version, uint32_t leaps, uint32_t times, uint32_t types)
{
    static const char zeros[15];

    sb_putn(f, "TZif", 4);
    sb_putc(f, version);
    sb_putn(f, zeros, 15);
    put32(f, 0);
    put32(f, 0);
    put32(f, leaps);
    put32(f, times);
    put32(f, types);
    put32(f, 4);
}

/*
 * tzif - a TZif file: version 0 (1) or '2'.., n transitions at[] to types
 * idx[] of the offsets utoff[], leap records, a footer (version 2 on).
 */
static void tzif(STRBUF *f, int version, const int64_t *at, const unsigned char *idx, int n,
		         const long *utoff, int types, int leaps, const char *tz)
{
    int     i, tsize = version ? 8 : 4;

    sb_reset(f);
    if (version) {				/* an empty 32-bit block */
	head(f, version, 0, 0, 1);
	sb_putn(f, "\0\0\0\0\0\0UTC", 10);
    }
    head(f, version, leaps, n, types);
    for (i = 0; i < n; i++) {
	if (tsize == 8)
	    put64(f, at[i]);
	else
	    put32(f, (uint32_t) at[i]);
    }
    sb_putn(f, idx, n);
    for (i = 0; i < types; i++) {
	put32(f, (uint32_t) utoff[i]);
	sb_putn(f, "\0", 2);
    }
    sb_putn(f, "ABC", 4);
    for (i = 0; i < leaps; i++) {			/* 1972-06-30T23:59:60Z */
	if (tsize == 8)
	    put64(f, 78796800);
	else
	    put32(f, 78796800);
	put32(f, 1);
    }
    if (version)
	sb_printf(f, "\n%s\n", tz);
}

/* put_file - write a file of the temporary $TZDIR */
static void put_file(const char *name, const void *data, size_t len)
{
    STRBUF  path = STRBUF_INIT;
    char   *slash;
    FILE   *fp;

    sb_printf(&path, "%s/%s", tmpdir, name);
    if ((slash = strrchr(path.s, '/')) != NULL) {
	*slash = 0;
	mkdir(path.s, 0700);
	*slash = '/';
    }
    if ((fp = fopen(path.s, "wb")) == NULL || fwrite(data, 1, len, fp) != len
	|| fclose(fp) != 0) {
	perror(path.s);
	exit(1);
    }
    sb_free(&path);
}

/* rule_zone - a file of one transition in 1900 and footer tz */
static void rule_zone(const char *name, const char *tz)
{
    static const int64_t at[1] = {T1900};
    static const unsigned char idx[1] = {1};
    static const long utoff[2] = {0, 0};
    STRBUF  f = STRBUF_INIT;

    tzif(&f, '2', at, idx, 1, utoff, 2, 0, tz);
    put_file(name, f.s, f.len);
    sb_free(&f);
}

/* refused - tz_get must refuse name, with a message naming it that holds want */
static void refused(const char *name, const char *want)
{
    STRBUF  why = STRBUF_INIT;
    const TZ_ZONE *z = tz_get(name, &why);

    CHECK(z == NULL, "tz_get(\"%s\") accepted", name);
    CHECK(strstr(sb_str(&why), want) != NULL, "tz_get(\"%s\"): \"%s\" lacks \"%s\"", name,
	  sb_str(&why), want);
    sb_free(&why);
}

 /*
  * The footer's rule alone, against glibc and against what it means.
  */

static const char *made_up[] = {
    "XXX3YYY,J60/167,J300/-167",		/* RFC 8536 times, default DST */
    "<+0330>-3:30<+0430>,J79/24,J263/24",	/* Iran until 2022 */
    "CCC5DDD4:30,M3.2.0/2:30:15,M11.1.0/1:15",	/* seconds */
    "<+05>-5<+06>,59,340",			/* zero-based days: Feb 29 */
    "<-02>2<-01>,M2.5.0/-1,M10.5.6/25",		/* last week of February */
    "EEE+5FFF+3,M3.2.0,M11.1.0",		/* explicit signs, 2 h DST */
    "GGG-1HHH0,M10.5.0,M3.5.0/1",		/* negative DST */
    "<+14>-14<+15>-15,M9.5.0,M4.1.0/3",		/* far east */
    "<-11>11<-10>,J1/12,J365/12",		/* DST nearly all year */
    "<-12>12",					/* no DST */
};

/* rule_jobs - each footer of the tree and the made-up ones, as zone files */
static void rule_jobs(const STRV *footers, JOBS *jobs)
{
    STRBUF  name = STRBUF_INIT, label = STRBUF_INIT;
    size_t  i, n = footers->len + sizeof(made_up) / sizeof(made_up[0]);
    const char *tz;

    for (i = 0; i < n; i++) {
	tz = i < footers->len ? footers->v[i] : made_up[i - footers->len];
	sb_reset(&name);
	sb_reset(&label);
	sb_printf(&name, "F/%zu", i);
	sb_printf(&label, "footer \"%s\"", tz);
	rule_zone(name.s, tz);
	job_add(jobs, name.s, label.s, T2020, T2041, 0);
    }
    sb_free(&name);
    sb_free(&label);
}

/* get - a zone that must load */
static const TZ_ZONE *get(const char *name)
{
    STRBUF  why = STRBUF_INIT;
    const TZ_ZONE *z = tz_get(name, &why);

    CHECK(z != NULL, "%s", sb_str(&why));
    sb_free(&why);
    return (z);
}

/* all_year - DST all year (tzfile(5)), in a file without transitions */
static void all_year(void)
{
    static const long utoff[1] = {-10800};
    STRBUF  f = STRBUF_INIT;
    const TZ_ZONE *z;
    int64_t t;
    int     bad = 0;

    tzif(&f, '2', NULL, NULL, 0, utoff, 1, 0, "<-03>3<-02>,0/0,J365/25");
    put_file("A/all-year", f.s, f.len);
    if ((z = get("A/all-year")) != NULL) {
	for (t = iso("1999-12-30T00:00"); t < T2061; t += 7 * DAY + 1799)
	    bad += tz_offset(z, t) != -7200 || tz_next_change(z, t) != TZ_NEVER;
	for (t = iso("2024-12-31T20:00"); t < iso("2025-01-01T06:00"); t += 60)
	    bad += tz_offset(z, t) != -7200 || tz_next_change(z, t) != TZ_NEVER;
	CHECK(bad == 0, "<-03>3<-02>,0/0,J365/25: %d instants not -02:00", bad);
	CHECK(tz_local_to_utc(z, iso("2025-01-01T00:00")) == iso("2025-01-01T02:00"),
	      "all-year DST local time");
    }
    rule_zone("A/est", "EST5EDT,0/0,J365/25");
    if ((z = get("A/est")) != NULL) {
	CHECK(tz_offset(z, iso("2030-01-01T04:30")) == -4 * HOUR, "EST5EDT all year at new year");
	CHECK(tz_next_change(z, T2000) == TZ_NEVER, "EST5EDT all year changes");
    }
    sb_free(&f);
}

/*
 * tables - files of version 1, transitions that keep the offset, a footer
 * that disagrees with the last transition, a footer without transitions
 * (it then governs all time).
 */
static void tables(void)
{
    static const int64_t at[3] = {T2000, T2000 + 400 * DAY, T2000 + 800 * DAY};
    static const unsigned char idx[3] = {1, 2, 0};
    static const long utoff[3] = {0, 3600, 3600};
    STRBUF  f = STRBUF_INIT;
    const TZ_ZONE *z;

    tzif(&f, 0, at, idx, 3, utoff, 3, 0, NULL);
    put_file("S/v1", f.s, f.len);
    if ((z = get("S/v1")) != NULL) {
	CHECK(tz_offset(z, T2000 - 1) == 0 && tz_offset(z, T2000) == 3600, "v1 offsets");
	CHECK(tz_offset(z, at[2]) == 0 && tz_offset(z, T2061) == 0, "v1 after the last");
	CHECK(tz_next_change(z, T1900) == T2000, "v1 first change");
	CHECK(tz_next_change(z, T2000) == at[2], "a transition that keeps the offset is a change");
	CHECK(tz_next_change(z, at[2]) == TZ_NEVER, "v1 change after the last");
    }
    tzif(&f, '3', at, idx, 3, utoff, 3, 0, "<+01>-1");
    put_file("S/footer-differs", f.s, f.len);
    if ((z = get("S/footer-differs")) != NULL) {
	CHECK(tz_offset(z, at[2]) == 0 && tz_offset(z, at[2] + 1) == 3600, "footer after last");
	CHECK(tz_next_change(z, T2000 + 1) == at[2], "last change of the table");
	CHECK(tz_next_change(z, at[2]) == at[2] + 1, "footer takes over: %s",
	      fmt(tz_next_change(z, at[2]), "Z"));
	CHECK(tz_next_change(z, at[2] + 1) == TZ_NEVER, "footer without DST");
    }
    tzif(&f, '2', NULL, NULL, 0, utoff, 1, 0, "CET-1CEST,M3.5.0,M10.5.0/3");
    put_file("S/footer-only", f.s, f.len);
    if ((z = get("S/footer-only")) != NULL) {
	CHECK(tz_offset(z, iso("1800-07-01T00:00")) == 7200, "footer before 1900");
	CHECK(tz_offset(z, iso("2030-01-01T00:00")) == 3600, "footer in 2030");
	CHECK(tz_next_change(z, iso("1800-07-01T00:00")) == iso("1800-10-26T01:00"),
	      "footer change in 1800: %s", fmt(tz_next_change(z, iso("1800-07-01T00:00")), "Z"));
    }
    sb_free(&f);
}

 /*
  * Files and names tz_get() must refuse.
  */

/* cuts - every truncation of a real zone file is refused, the whole is not */
static void cuts(const char *dir)
{
    STRBUF  path = STRBUF_INIT, data = STRBUF_INIT, why = STRBUF_INIT;
    size_t  len;
    int     accepted = 0;

    sb_printf(&path, "%s/Europe/Paris", dir);
    if (sb_read_file(&data, path.s, 1 << 20) != 0) {
	CHECK(0, "%s: %s", path.s, strerror(errno));
	return;
    }
    for (len = 0; len < data.len; len++) {
	put_file("D/cut", data.s, len);
	accepted += tz_get("D/cut", &why) != NULL;
    }
    CHECK(accepted == 0, "%d truncated copies of Europe/Paris accepted", accepted);
    refused("D/cut", "time zone \"D/cut\": truncated");
    put_file("D/whole", data.s, data.len);
    CHECK(get("D/whole") != NULL, "the whole copy");
    data.s[35] = (char) 0xff;			/* the 32-bit timecnt: 255 */
    put_file("D/timecnt", data.s, data.len);
    refused("D/timecnt", "truncated (no 64-bit header)");
    data.s[32] = (char) 0xff;			/* 0xff0000ff */
    put_file("D/timecnt", data.s, data.len);
    refused("D/timecnt", "count 4278190335 exceeds the file size");
    sb_free(&path);
    sb_free(&data);
    sb_free(&why);
}

/*
 * mutants - copies of a real zone file with a few bytes changed: each is
 * refused or, when accepted, answers sanely (changes move forward and
 * change the offset; run under valgrind or ASan for reads out of bounds).
 */
static void mutants(const char *dir)
{
    STRBUF  path = STRBUF_INIT, data = STRBUF_INIT, why = STRBUF_INIT, copy = STRBUF_INIT;
    uint32_t seed = 2463534242u;
    int64_t t, c;
    const TZ_ZONE *z;
    int     i, k, bad = 0, loaded = 0;

    sb_printf(&path, "%s/America/Sao_Paulo", dir);
    if (sb_read_file(&data, path.s, 1 << 20) != 0 || data.len < 64)
	return;
    for (i = 0; i < 600; i++) {
	sb_reset(&copy);
	sb_putn(&copy, data.s, data.len);
	for (k = 0; k < 1 + i % 3; k++) {
	    seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
	    copy.s[seed % copy.len] ^= (char) (1 << (seed >> 29));
	}
	sb_reset(&path);
	sb_printf(&path, "M/%d", i);
	put_file(path.s, copy.s, copy.len);
	if ((z = tz_get(path.s, &why)) == NULL)
	    continue;
	loaded++;
	for (t = T1900, k = 0; k < 50 && (c = tz_next_change(z, t)) != TZ_NEVER; t = c, k++)
	    bad += c <= t || tz_offset(z, c - 1) == tz_offset(z, c)
		|| tz_local_to_utc(z, c + tz_offset(z, c)) > c;
    }
    CHECK(bad == 0, "%d bad answers from %d mutants accepted", bad, loaded);
    CHECK(loaded > 100, "only %d of 600 mutants accepted", loaded);
    sb_free(&path);
    sb_free(&data);
    sb_free(&why);
    sb_free(&copy);
}

/* refused_file - the first len bytes of f as zone name, which tz_get() refuses */
static void refused_file(const char *name, const STRBUF *f, size_t len, const char *want)
{
    put_file(name, f->s, len);
    refused(name, want);
}

/* broken - made-up files, each wrong in one way */
static void broken(void)
{
    static const int64_t at[2] = {T2000, T1900};
    static const unsigned char idx[2] = {1, 0}, far[1] = {5};
    static const long utoff[2] = {0, 3600}, wide[1] = {100000};
    static const struct {
	const char *footer;
	const char *why;
    }       bad[] = {
	{"garbage", "bad TZ string \"garbage\""},
	{"EST5EDT", "bad TZ string"},		/* DST without rules */
	{"EST5EDT,M3.2.0", "bad TZ string"},
	{"EST5EDT,M13.1.0,M11.1.0", "bad TZ string"},
	{"EST5EDT,M3.2.0/168,M11.1.0", "bad TZ string"},
	{"EST25", "bad TZ string"},
	{"<+1>-1", "bad TZ string"},
	{"EST\001", "not a TZ string"},
    };
    STRBUF  f = STRBUF_INIT;
    size_t  i;

    tzif(&f, '2', at, idx, 1, utoff, 2, 1, "");
    refused_file("B/leap", &f, f.len, "leap second");
    tzif(&f, '2', at, idx, 2, utoff, 2, 0, "");
    refused_file("B/order", &f, f.len, "transition 1 is not after");
    tzif(&f, '2', at, far, 1, utoff, 2, 0, "");
    refused_file("B/type", &f, f.len, "no local time type 5");
    tzif(&f, '2', NULL, NULL, 0, utoff, 0, 0, "");
    refused_file("B/notype", &f, f.len, "no local time type");
    tzif(&f, '2', NULL, NULL, 0, wide, 1, 0, "");
    refused_file("B/wide", &f, f.len, "UT offset 100000 out of range");
    tzif(&f, '2', NULL, NULL, 0, utoff, 1, 0, "UTC0");
    refused_file("B/nofooter", &f, f.len - 1, "truncated (no footer)");
    f.s[4] = '1';
    refused_file("B/version", &f, f.len, "unknown TZif version");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	tzif(&f, '2', NULL, NULL, 0, utoff, 1, 0, bad[i].footer);
	refused_file("B/footer", &f, f.len, bad[i].why);
    }
    sb_reset(&f);
    sb_putn(&f, "TZif2", 5);
    while (f.len <= 1024 * 1024)
	sb_putc(&f, 0);
    refused_file("B/large", &f, f.len, "larger than");
    refused("B", "not a zone file");
    sb_free(&f);
}

/* names - refused before any file is opened, or not found */
static void names(const char *dir)
{
    char    longname[300];
    STRBUF  right = STRBUF_INIT;

    refused("Mars/Base", "unknown time zone \"Mars/Base\"");
    refused("../etc/passwd", "invalid time zone name");
    refused("/etc/passwd", "invalid time zone name");
    refused("", "invalid time zone name");
    refused("Europe/../Europe/Paris", "invalid time zone name");
    refused("./UTC", "invalid time zone name");
    refused("Europe/Paris\n", "invalid time zone name");
    refused("Europe/Par is", "invalid time zone name");
    memset(longname, 'a', 256);
    longname[256] = 0;
    refused(longname, "invalid time zone name");
    refused("zone.tab", "time zone \"zone.tab\": not a TZif file");
    refused("Europe", "not a zone file");
    sb_printf(&right, "%s/right/Europe/Paris", dir);
    if (access(right.s, R_OK) == 0)
	refused("right/Europe/Paris", "leap second");
    sb_free(&right);
    CHECK(get("Etc/GMT+5") != NULL && tz_offset(get("Etc/GMT+5"), T2000) == -5 * HOUR,
	  "Etc/GMT+5");
}

 /*
  * Named cases.
  */

static void offset_is(const char *zone, const char *utc, long want)
{
    const TZ_ZONE *z = get(zone);

    CHECK(z && tz_offset(z, iso(utc)) == want, "%s at %sZ: %ld, not %ld", zone, utc,
	  z ? tz_offset(z, iso(utc)) : 0, want);
}

static void local_is(const char *zone, const char *local, const char *utc)
{
    const TZ_ZONE *z = get(zone);
    int64_t got = z ? tz_local_to_utc(z, iso(local)) : 0;

    CHECK(got == iso(utc), "%s: local %s gives %s, not %sZ", zone, local, fmt(got, "Z"), utc);
}

/* named - cases with known answers, from the IANA data's comments */
static void named(void)
{
    const TZ_ZONE *z;

    offset_is("Europe/Dublin", "2040-01-10T09:00", 0);
    offset_is("Europe/Dublin", "2040-07-10T09:00", 3600);
    offset_is("Eire", "2040-07-10T09:00", 3600);
    local_is("Pacific/Auckland", "2027-09-26T02:30", "2027-09-25T14:30");
    local_is("Pacific/Auckland", "2027-04-04T02:30", "2027-04-03T13:30");
    local_is("Pacific/Chatham", "2027-09-26T02:30", "2027-09-25T13:45");
    local_is("Pacific/Chatham", "2027-04-04T02:30", "2027-04-03T12:45");
    local_is("Pacific/Chatham", "2027-04-04T03:00", "2027-04-03T13:15");
    local_is("Europe/Paris", "2027-03-28T02:30", "2027-03-28T01:30");
    local_is("Europe/Paris", "2027-10-31T02:30", "2027-10-31T00:30");
    local_is("Pacific/Apia", "2011-12-30T09:00", "2011-12-30T19:00");
    local_is("Pacific/Apia", "2011-12-31T09:00", "2011-12-30T19:00");
    offset_is("Pacific/Apia", "2011-12-30T09:59", -10 * HOUR);
    offset_is("Pacific/Apia", "2011-12-30T10:00", 14 * HOUR);
    offset_is("Antarctica/Troll", "2030-07-01T12:00", 2 * HOUR);
    offset_is("Antarctica/Troll", "2030-01-01T12:00", 0);
    offset_is("Pacific/Chatham", "2030-07-01T12:00", 12 * HOUR + 45 * 60);
    offset_is("Pacific/Chatham", "2030-01-01T12:00", 13 * HOUR + 45 * 60);
    offset_is("Pacific/Kiritimati", "2030-01-01T12:00", 14 * HOUR);
    offset_is("Europe/Paris", "1890-01-01T00:00", 561);	/* LMT +0:09:21 */
    offset_is("Europe/Paris", "1000-01-01T00:00", 561);	/* before the first: type 0 */
    offset_is("Europe/Paris", "9999-01-01T00:00", 3600);
    offset_is("Europe/Paris", "9999-07-01T00:00", 7200);
    offset_is("America/Sao_Paulo", "2030-01-01T00:00", -3 * HOUR);
    if ((z = get("Europe/Paris")) != NULL) {
	CHECK(z == get("Europe/Paris"), "a zone is loaded once");
	CHECK(tz_next_change(z, iso("9999-01-01T00:00")) == iso("9999-03-28T01:00"),
	      "Paris in 9999: %s", fmt(tz_next_change(z, iso("9999-01-01T00:00")), "Z"));
	CHECK(tz_next_change(z, INT64_MAX) == TZ_NEVER, "change after the end of time");
	CHECK(tz_offset(z, INT64_MAX) + tz_offset(z, INT64_MIN) != 0, "the ends of time");
	CHECK(tz_local_to_utc(z, INT64_MIN) < 0 && tz_local_to_utc(z, INT64_MAX) > 0, "ends");
    }
    if ((z = get("UTC")) != NULL)
	CHECK(tz_next_change(z, INT64_MIN) == TZ_NEVER && tz_offset(z, 0) == 0, "UTC");
}

typedef struct getter_arg {
    int     start;				/* where in zones[] to begin */
    const TZ_ZONE *got[6];			/* by index of zones[] */
} GETTER_ARG;

/* getter - tz_get() from a thread, the zones in its own order */
static void *getter(void *arg)
{
    static const char *zones[6] = {"Asia/Tokyo", "America/New_York", "Africa/Cairo",
    "Australia/Sydney", "Europe/Berlin", "America/Sao_Paulo"};
    GETTER_ARG *a = arg;
    STRBUF  why = STRBUF_INIT;
    int     i, j;

    for (i = 0; i < 6; i++) {
	j = (a->start + i) % 6;
	a->got[j] = tz_get(zones[j], &why);
    }
    sb_free(&why);
    return (NULL);
}

/* threads - zones loaded by racing threads are the same zones */
static void threads(void)
{
    GETTER_ARG arg[4];
    pthread_t tid[4];
    int     i, j;

    for (i = 0; i < 4; i++) {
	arg[i].start = i;
	if (pthread_create(&tid[i], NULL, getter, &arg[i]) != 0)
	    abort();
    }
    for (i = 0; i < 4; i++)
	pthread_join(tid[i], NULL);
    for (i = 0; i < 4; i++)
	for (j = 0; j < 6; j++)
	    CHECK(arg[i].got[j] != NULL && arg[i].got[j] == arg[0].got[j], "thread %d zone %d",
		  i, j);
}

/* rm_tree - remove the temporary $TZDIR (files one directory down) */
static void rm_tree(const char *dir, int depth)
{
    STRBUF  path = STRBUF_INIT;
    struct dirent *d;
    DIR    *dp;

    if ((dp = opendir(dir)) != NULL) {
	while ((d = readdir(dp)) != NULL) {
	    if (d->d_name[0] == '.')
		continue;
	    sb_reset(&path);
	    sb_printf(&path, "%s/%s", dir, d->d_name);
	    if (depth == 0 || unlink(path.s) < 0)
		rm_tree(path.s, depth + 1);
	}
	closedir(dp);
    }
    rmdir(dir);
    sb_free(&path);
}

int     main(void)
{
    const char *env = getenv("TZDIR");
    char   *dir = xstrdup(env && *env ? env : "/usr/share/zoneinfo");
    STRV    zones = STRV_INIT, footers = STRV_INIT;
    JOBS    jobs = {NULL, 0};
    int     nzones, nrules;
    size_t  i;

    threads();
    named();
    names(dir);
    zone_names(dir, &zones);
    for (i = 0; i < zones.len; i++) {
	job_add(&jobs, zones.v[i], zones.v[i], T2000, T2061, 1);
	footer(dir, zones.v[i], &footers);
    }
    nzones = jobs_run(&jobs);
    jobs_free(&jobs);
    if (mkdtemp(tmpdir) == NULL) {
	perror(tmpdir);
	return (1);
    }
    setenv("TZDIR", tmpdir, 1);
    rule_jobs(&footers, &jobs);
    nrules = jobs_run(&jobs);
    jobs_free(&jobs);
    all_year();
    tables();
    cuts(dir);
    mutants(dir);
    broken();
    rm_tree(tmpdir, 0);
    printf("t_tzfile: %d zones and %d footer rules, %ld comparisons with glibc, %ld differ\n",
	   nzones, nrules, compared, differ);
    strv_free(&zones);
    strv_free(&footers);
    free(dir);
    return (tap_done("t_tzfile"));
}
