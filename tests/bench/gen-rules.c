/*
 * gen-rules.c - write a synthetic rules.d (and event mails) for benchmarks.
 *
 * gen-rules -n N -s SEED -o DIR [-e EVENTS_DIR -k K]
 *
 * Writes about N notification definitions into DIR: the example catalog
 * (00-frequencies.conf, 10-event-types.conf), three profiles with their
 * defaults (20-profiles.conf), about N/10 users with about ten custom
 * notifications each under DIR/users/NNN/uNNNNNN.conf, one partner per
 * twenty users (so the candidates per event type and partner stay the same
 * as N grows), and twenty studio users of every partner (users/studio/).
 * Every notification passes crierctl check: known values and frequencies,
 * 1-3 conditions, no duplicate in any user's view. With -e, also K event
 * mails for the matcher. Output depends on N and SEED only.
 *
 * Standalone: no crier library needed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_VALS	8
#define MAX_CONDS	3
#define MAX_FILTERS	6
#define MAX_FREQS	4
#define STUDIO_USERS	20
#define USERS_PER_PARTNER 20
#define FILES_PER_DIR	1000
#define KEY_LEN		1024

/* The catalog: the example rules.d's event types, values and frequencies. */
static const char *const CONTENT[] = {"Branded", "Unbranded", "Trailer", "Featurette", 0};
static const char *const SOURCE[] = {"Video", "Audio", "Video & Audio", "Subtitles",
"Artwork", 0};
static const char *const PRIORITY[] = {"Standard", "Rush", 0};
static const char *const REASON[] = {"QC Failure", "Wrong Asset", "Missing Asset",
"Spec Change", 0};
static const char *const STAGE[] = {"Ingest", "Automated", "Manual", "Final", 0};
static const char *const SEVERITY[] = {"Minor", "Major", "Critical", 0};
static const char *const DIRECTION[] = {"Earlier", "Later", 0};
static const char *const RISK[] = {"Due Soon", "Overdue", "Blocked", 0};

/* Free-text filters: values that notifications and events draw from. */
static const char *const LANGS[] = {"en", "de", "fr", "es", "it", "ja", "pt", "ko", 0};
static const char *const FPARTNERS[] = {"Reelworks", "Dubhouse", "Subtitle Factory",
"Pixel Forge", "Harbour Sound", 0};

typedef struct gfilter {
    const char *name;
    const char *const *values;
    int     free_text;
} GFILTER;

typedef struct gevtype {
    const char *name;
    const char *title;
    GFILTER filters[MAX_FILTERS];	/* name NULL ends */
    const char *freqs[MAX_FREQS];	/* NULL ends */
} GEVTYPE;

#define F_CONTENT	{"content_type", CONTENT, 0}
#define F_SOURCE	{"source_type", SOURCE, 0}
#define F_PRIORITY	{"priority", PRIORITY, 0}
#define F_LANG		{"language", LANGS, 1}
#define F_FPARTNER	{"fulfillment_partner", FPARTNERS, 1}

static const GEVTYPE EVTYPES[] = {
    {"source_request_created", "Source Request Created",
	{F_CONTENT, F_SOURCE, F_LANG, F_PRIORITY}, {"immediately", "daily", "weekly"}},
    {"source_request_assigned", "Source Request Assigned",
	{F_SOURCE, F_FPARTNER, F_PRIORITY}, {"immediately", "hourly", "daily"}},
    {"redelivery_requested", "Redelivery Requested",
	{F_CONTENT, F_SOURCE, F_LANG, F_PRIORITY, {"redelivery_reason", REASON, 0}},
    {"immediately", "hourly", "daily"}},
    {"qc_failed", "QC Failed",
	{F_CONTENT, F_SOURCE, F_LANG, {"qc_stage", STAGE, 0}, {"severity", SEVERITY, 0}},
    {"immediately", "hourly", "daily"}},
    {"source_delivered", "Source Delivered",
	{F_CONTENT, F_SOURCE, F_LANG, F_FPARTNER}, {"immediately", "daily", "weekly"}},
    {"source_processed", "Source Processed",
	{F_CONTENT, F_SOURCE}, {"daily", "weekly"}},
    {"source_request_cancelled", "Source Request Cancelled",
	{F_CONTENT, F_SOURCE, F_PRIORITY}, {"immediately", "daily"}},
    {"due_date_changed", "Due Date Changed",
	{F_CONTENT, F_SOURCE, F_PRIORITY, {"direction", DIRECTION, 0}},
    {"immediately", "daily", "weekly"}},
    {"source_request_at_risk", "Source Request At Risk",
	{F_SOURCE, F_PRIORITY, {"risk_reason", RISK, 0}}, {"immediately", "hourly"}},
};

#define NEVTYPES (sizeof(EVTYPES) / sizeof(EVTYPES[0]))

/* A notification as written: conditions hold pointers into the catalog. */
typedef struct gcond {
    const char *filter;
    const char *values[MAX_VALS];
    size_t  nvalues;
} GCOND;

typedef struct gnotif {
    const char *name;
    const char *event;
    GCOND   conds[MAX_CONDS];
    size_t  nconds;
    const char *freq;
    int     muted;
} GNOTIF;

typedef struct gprofile {
    const char *name;
    const char *title;
    GNOTIF  defaults[8];
    size_t  ndefaults;
} GPROFILE;

#define ALL_SOURCES {"source_type", {"Video", "Audio", "Video & Audio", "Subtitles", \
	"Artwork"}, 5}
#define ALL_PRIORITIES {"priority", {"Standard", "Rush"}, 2}

static const GPROFILE PROFILES[] = {
    {"content_partner", "Content Partner", {
	    {"all_redeliveries", "redelivery_requested", {ALL_SOURCES}, 1, "immediately", 0},
	    {"qc_failures", "qc_failed", {{"severity", {"Major", "Critical"}, 2}}, 1,
	    "immediately", 0},
	    {"new_requests_daily", "source_request_created", {ALL_PRIORITIES}, 1, "daily", 0},
	    {"due_dates", "due_date_changed", {{"direction", {"Earlier"}, 1}}, 1,
	    "immediately", 0},
	    {"cancellations", "source_request_cancelled", {ALL_PRIORITIES}, 1, "daily", 0},
	    {"at_risk_rush", "source_request_at_risk", {{"priority", {"Rush"}, 1}}, 1,
	    "immediately", 0},
	    {"delivered_weekly", "source_delivered", {ALL_SOURCES}, 1, "weekly", 1},
    }, 7},
    {"fulfillment_partner", "Fulfillment Partner", {
	    {"assignments", "source_request_assigned", {ALL_PRIORITIES}, 1, "immediately", 0},
	    {"redeliveries", "redelivery_requested", {{"redelivery_reason",
	    {"QC Failure", "Wrong Asset", "Missing Asset"}, 3}}, 1, "immediately", 0},
	    {"qc_failures", "qc_failed", {{"qc_stage", {"Ingest", "Automated", "Manual"}, 3}},
	    1, "immediately", 0},
	    {"at_risk", "source_request_at_risk", {ALL_PRIORITIES}, 1, "hourly", 0},
	    {"cancellations", "source_request_cancelled", {ALL_PRIORITIES}, 1,
	    "immediately", 0},
	    {"due_dates_daily", "due_date_changed", {{"direction", {"Earlier", "Later"}, 2}},
	    1, "daily", 0},
    }, 6},
    {"studio_user", "Studio User", {
	    {"rush_requests", "source_request_created", {{"priority", {"Rush"}, 1}}, 1,
	    "immediately", 0},
	    {"requests_weekly", "source_request_created", {ALL_PRIORITIES}, 1, "weekly", 0},
	    {"critical_qc", "qc_failed", {{"severity", {"Critical"}, 1}}, 1, "immediately", 0},
	    {"at_risk", "source_request_at_risk", {ALL_PRIORITIES}, 1, "immediately", 0},
	    {"redeliveries_daily", "redelivery_requested", {{"content_type",
	    {"Branded", "Unbranded", "Trailer", "Featurette"}, 4}}, 1, "daily", 0},
	    {"processed_weekly", "source_processed", {ALL_SOURCES}, 1, "weekly", 0},
    }, 6},
};

enum { P_CONTENT, P_FULFILL, P_STUDIO };

static const char *const ZONES[] = {"Europe/Berlin", "Europe/London", "America/New_York",
    "America/Los_Angeles", "America/Sao_Paulo", "Asia/Kolkata", "Asia/Tokyo",
"Australia/Sydney", "UTC", 0};

static const char *const PARTNER_BASE[] = {"Juice Post", "Northlight Media", "Cafe Films",
    "Reelworks Studio", "Harbour Lights", "Bluefin Pictures", "Kite Audio",
"Marble Arch Media", 0};

static const char *const TITLES[] = {"The Long Night S01E03", "Harbour Lights",
    "Brueckenjahre Ep. 2", "Quiet Water", "Red Meridian", "Paper Moons S02E07", 0};

typedef uint64_t RNG;

/* rng_next - splitmix64: the same numbers on every platform */
static uint64_t rng_next(RNG *r)
{
    uint64_t z = (*r += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (z ^ (z >> 31));
}

/* rng_for - an independent stream for item i of kind, so output is stable */
static RNG rng_for(uint64_t seed, uint64_t kind, uint64_t i)
{
    RNG     r = seed ^ (kind << 56) ^ (i * 0xd1b54a32d192ed03ULL);

    (void) rng_next(&r);
    return (r);
}

static size_t pick(RNG *r, size_t n)
{
    return ((size_t) (rng_next(r) % n));
}

static size_t count_strs(const char *const *v)
{
    size_t  n = 0;

    while (v[n])
	n++;
    return (n);
}

static size_t count_filters(const GEVTYPE *et)
{
    size_t  n = 0;

    while (n < MAX_FILTERS && et->filters[n].name)
	n++;
    return (n);
}

static void die(const char *what, const char *path)
{
    fprintf(stderr, "gen-rules: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

/* make_dir - mkdir, fine if it exists */
static void make_dir(const char *path)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
	die("cannot create", path);
}

static FILE *open_out(const char *path)
{
    FILE   *fp = fopen(path, "w");

    if (fp == NULL)
	die("cannot create", path);
    return (fp);
}

static void close_out(FILE *fp, const char *path)
{
    if (ferror(fp) || fclose(fp) != 0)
	die("cannot write", path);
}

static void write_strs(FILE *fp, const char *const *v, size_t n)
{
    size_t  i;

    fputs("[", fp);
    for (i = 0; i < n; i++)
	fprintf(fp, "%s \"%s\"", i ? "," : "", v[i]);
    fputs(" ]", fp);
}

static void write_frequencies(const char *dir)
{
    char    path[4096];
    FILE   *fp;

    snprintf(path, sizeof(path), "%s/00-frequencies.conf", dir);
    fp = open_out(path);
    fputs("# 00-frequencies.conf - generated by gen-rules: the example frequencies.\n\n"
	  "frequencies = {\n"
	  "  immediately = {\n    title = \"Immediately\";\n  };\n"
	  "  hourly = {\n    title = \"Hourly\";\n    rrule = \"FREQ=HOURLY;BYMINUTE=0\";\n  };\n"
	  "  daily = {\n    title = \"Daily\";\n"
	  "    rrule = \"FREQ=DAILY;BYHOUR=9;BYMINUTE=0\";\n  };\n"
	  "  weekly = {\n    title = \"Weekly\";\n"
	  "    rrule = \"FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0\";\n  };\n"
	  "};\n", fp);
    close_out(fp, path);
}

static void write_evtypes(const char *dir)
{
    char    path[4096];
    FILE   *fp;
    size_t  i, j;

    snprintf(path, sizeof(path), "%s/10-event-types.conf", dir);
    fp = open_out(path);
    fputs("# 10-event-types.conf - generated by gen-rules: the example catalog.\n\n"
	  "event_types = {\n", fp);
    for (i = 0; i < NEVTYPES; i++) {
	const GEVTYPE *et = &EVTYPES[i];

	fprintf(fp, "  %s = {\n    title = \"%s\";\n    filters = {\n", et->name, et->title);
	for (j = 0; j < count_filters(et); j++) {
	    const GFILTER *f = &et->filters[j];

	    fprintf(fp, "      %s = ", f->name);
	    write_strs(fp, f->values, f->free_text ? 0 : count_strs(f->values));
	    fputs(";\n", fp);
	}
	fputs("    };\n    frequencies = ", fp);
	write_strs(fp, et->freqs, count_strs(et->freqs));
	fputs(";\n  };\n", fp);
    }
    fputs("};\n", fp);
    close_out(fp, path);
}

/* write_notif - one notification, at the indentation of a group member */
static void write_notif(FILE *fp, const GNOTIF *n, const char *indent)
{
    size_t  i;

    fprintf(fp, "%s%s = {\n%s  event = \"%s\";\n%s  where = {\n",
	    indent, n->name, indent, n->event, indent);
    for (i = 0; i < n->nconds; i++) {
	fprintf(fp, "%s    %s = ", indent, n->conds[i].filter);
	write_strs(fp, n->conds[i].values, n->conds[i].nvalues);
	fputs(";\n", fp);
    }
    fprintf(fp, "%s  };\n%s  frequency = \"%s\";\n", indent, indent, n->freq);
    if (n->muted)
	fprintf(fp, "%s  muted = true;\n", indent);
    fprintf(fp, "%s};\n", indent);
}

static void write_profiles(const char *dir)
{
    char    path[4096];
    FILE   *fp;
    size_t  i, j;

    snprintf(path, sizeof(path), "%s/20-profiles.conf", dir);
    fp = open_out(path);
    fputs("# 20-profiles.conf - generated by gen-rules: the example profiles.\n\n"
	  "profiles = {\n", fp);
    for (i = 0; i < sizeof(PROFILES) / sizeof(PROFILES[0]); i++) {
	fprintf(fp, "  %s = {\n    title = \"%s\";\n    defaults = {\n",
		PROFILES[i].name, PROFILES[i].title);
	for (j = 0; j < PROFILES[i].ndefaults; j++)
	    write_notif(fp, &PROFILES[i].defaults[j], "      ");
	fputs("    };\n  };\n", fp);
    }
    fputs("};\n", fp);
    close_out(fp, path);
}

static int str_cmp(const void *a, const void *b)
{
    return (strcmp(*(char *const *) a, *(char *const *) b));
}

/*
 * notif_key - what crierctl check calls "the same notification": event
 * type, frequency and conditions, filters and values sorted, values
 * lower-cased. Written into key (KEY_LEN bytes).
 */
static void notif_key(const GNOTIF *n, char *key)
{
    char    conds[MAX_CONDS][KEY_LEN / MAX_CONDS], *cp[MAX_CONDS];
    char    vals[MAX_VALS][64], *vp[MAX_VALS];
    size_t  i, j, k;

    for (i = 0; i < n->nconds; i++) {
	for (j = 0; j < n->conds[i].nvalues; j++) {
	    snprintf(vals[j], sizeof(vals[j]), "%s", n->conds[i].values[j]);
	    for (k = 0; vals[j][k]; k++)
		vals[j][k] = (char) (vals[j][k] >= 'A' && vals[j][k] <= 'Z'
				     ? vals[j][k] + 32 : vals[j][k]);
	    vp[j] = vals[j];
	}
	qsort(vp, n->conds[i].nvalues, sizeof(char *), str_cmp);
	k = (size_t) snprintf(conds[i], sizeof(conds[i]), "%s=", n->conds[i].filter);
	for (j = 0; j < n->conds[i].nvalues && k < sizeof(conds[i]); j++)
	    k += (size_t) snprintf(conds[i] + k, sizeof(conds[i]) - k, "%s\037", vp[j]);
	cp[i] = conds[i];
    }
    qsort(cp, n->nconds, sizeof(char *), str_cmp);
    k = (size_t) snprintf(key, KEY_LEN, "%s\036%s", n->event, n->freq);
    for (i = 0; i < n->nconds && k < KEY_LEN; i++)
	k += (size_t) snprintf(key + k, KEY_LEN - k, "\036%s", cp[i]);
}

/* shuffle_head - the first m of n indexes, in random order, without repeats */
static void shuffle_head(RNG *r, size_t *idx, size_t n, size_t m)
{
    size_t  i, j, t;

    for (i = 0; i < n; i++)
	idx[i] = i;
    for (i = 0; i < m && i < n; i++) {
	j = i + pick(r, n - i);
	t = idx[i];
	idx[i] = idx[j];
	idx[j] = t;
    }
}

/* random_cond - a condition on filter f: 1-3 allowed values (1-2 for free text) */
static void random_cond(RNG *r, const GFILTER *f, GCOND *c)
{
    size_t  n = count_strs(f->values), idx[MAX_VALS], i;
    size_t  most = f->free_text ? 2 : (n > 3 ? 3 : n);

    c->filter = f->name;
    c->nvalues = 1 + pick(r, most);
    shuffle_head(r, idx, n, c->nvalues);
    for (i = 0; i < c->nvalues; i++)
	c->values[i] = f->values[idx[i]];
}

/* random_notif - a custom notification: 1-3 conditions (50/35/15 %) */
static void random_notif(RNG *r, GNOTIF *n)
{
    const GEVTYPE *et = &EVTYPES[pick(r, NEVTYPES)];
    size_t  nf = count_filters(et), idx[MAX_FILTERS], i, roll = pick(r, 100);

    n->event = et->name;
    n->nconds = roll < 50 ? 1 : roll < 85 ? 2 : 3;
    if (n->nconds > nf)
	n->nconds = nf;
    shuffle_head(r, idx, nf, n->nconds);
    for (i = 0; i < n->nconds; i++)
	random_cond(r, &et->filters[idx[i]], &n->conds[i]);
    n->freq = et->freqs[pick(r, count_strs(et->freqs))];
    n->muted = pick(r, 100) < 5;
}

typedef struct keyset {
    char    (*keys)[KEY_LEN];
    size_t  len;
    size_t  cap;
} KEYSET;

/* keyset_add - add key unless present; 1 when added */
static int keyset_add(KEYSET *ks, const char *key)
{
    size_t  i;

    for (i = 0; i < ks->len; i++)
	if (strcmp(ks->keys[i], key) == 0)
	    return (0);
    if (ks->len == ks->cap) {
	ks->cap = ks->cap ? ks->cap * 2 : 32;
	if ((ks->keys = realloc(ks->keys, ks->cap * KEY_LEN)) == NULL) {
	    perror("gen-rules");
	    exit(1);
	}
    }
    memcpy(ks->keys[ks->len++], key, KEY_LEN);
    return (1);
}

/* seed_profile - a user's view starts with the defaults of the profile */
static void seed_profile(KEYSET *ks, const GPROFILE *p)
{
    char    key[KEY_LEN];
    size_t  i;

    ks->len = 0;
    for (i = 0; i < p->ndefaults; i++) {
	notif_key(&p->defaults[i], key);
	(void) keyset_add(ks, key);
    }
}

typedef struct gen {
    uint64_t seed;
    const char *dir;
    size_t  users;			/* regular users */
    size_t  partners;
    size_t  notifs;			/* definitions written */
    KEYSET  view;			/* of the user being written */
    char  **partner_names;
} GEN;

/* write_customs - count custom notifications, none the same as another */
static void write_customs(GEN *g, RNG *r, FILE *fp, size_t count)
{
    char    key[KEY_LEN], name[64];
    GNOTIF  n;
    size_t  i, tries;

    fputs("\ncustom = {\n", fp);
    for (i = 0; i < count; i++) {
	for (tries = 0; tries < 100; tries++) {
	    memset(&n, 0, sizeof(n));
	    random_notif(r, &n);
	    notif_key(&n, key);
	    if (keyset_add(&g->view, key))
		break;
	}
	if (tries == 100)
	    continue;			/* skip rather than write a duplicate */
	snprintf(name, sizeof(name), "c%02zu_%s", i + 1, n.event);
	n.name = name;
	write_notif(fp, &n, "  ");
	g->notifs++;
    }
    fputs("};\n", fp);
}

/* write_user - one user file: user, custom notifications, maybe a mute */
static void write_user(GEN *g, RNG *r, const char *path, const char *address,
		               int prof, const char *const *partners, size_t npartners)
{
    const GPROFILE *p = &PROFILES[prof];
    FILE   *fp = open_out(path);

    fprintf(fp, "# generated by gen-rules (seed %llu)\n\nuser = {\n  address = \"%s\";\n"
	    "  profile = \"%s\";\n  partners = ", (unsigned long long) g->seed, address,
	    p->name);
    write_strs(fp, partners, npartners);
    fprintf(fp, ";\n  timezone = \"%s\";\n};\n", ZONES[pick(r, count_strs(ZONES))]);
    seed_profile(&g->view, p);
    write_customs(g, r, fp, 8 + pick(r, 5));
    if (pick(r, 100) < 10)
	fprintf(fp, "\nmuted = [ \"%s/%s\" ];\n", p->name,
		p->defaults[pick(r, p->ndefaults)].name);
    close_out(fp, path);
}

/* partner_profile - every third partner is a fulfillment partner */
static int partner_profile(size_t partner)
{
    return (partner % 3 == 2 ? P_FULFILL : P_CONTENT);
}

/* write_users - regular users, FILES_PER_DIR per directory, then studio users */
static void write_users(GEN *g)
{
    char    path[4096], address[128];
    const char *parts[2];
    size_t  i, p;

    snprintf(path, sizeof(path), "%s/users", g->dir);
    make_dir(path);
    for (i = 0; i < g->users; i++) {
	RNG     r = rng_for(g->seed, 1, i);

	if (i % FILES_PER_DIR == 0) {
	    snprintf(path, sizeof(path), "%s/users/%03zu", g->dir, i / FILES_PER_DIR);
	    make_dir(path);
	}
	snprintf(path, sizeof(path), "%s/users/%03zu/u%06zu.conf", g->dir,
		 i / FILES_PER_DIR, i);
	p = i % g->partners;
	snprintf(address, sizeof(address), "u%06zu@partner%05zu.example", i, p);
	parts[0] = g->partner_names[p];
	parts[1] = g->partner_names[(p + 1) % g->partners];
	write_user(g, &r, path, address, partner_profile(p), parts,
		   g->partners > 1 && pick(&r, 100) < 10 ? 2 : 1);
    }
    snprintf(path, sizeof(path), "%s/users/studio", g->dir);
    make_dir(path);
    for (i = 0; i < STUDIO_USERS; i++) {
	RNG     r = rng_for(g->seed, 2, i);

	parts[0] = "*";
	snprintf(path, sizeof(path), "%s/users/studio/studio%02zu.conf", g->dir, i);
	snprintf(address, sizeof(address), "studio%02zu@studio.example", i);
	write_user(g, &r, path, address, P_STUDIO, parts, 1);
    }
}

/* field_name - a filter's mail field name: source_type -> Source-Type */
static void field_name(const char *filter, char *out, size_t len)
{
    size_t  i;
    int     start = 1;

    for (i = 0; filter[i] && i + 1 < len; i++) {
	out[i] = filter[i] == '_' ? '-' : filter[i];
	if (start && out[i] >= 'a' && out[i] <= 'z')
	    out[i] = (char) (out[i] - 'a' + 'A');
	start = filter[i] == '_';
    }
    out[i] = 0;
}

/* write_event_body - the field block: required fields, then filter fields */
static void write_event_body(GEN *g, RNG *r, FILE *fp, size_t k, const GEVTYPE *et)
{
    char    name[64];
    size_t  i;

    for (i = 0; et->name[i] && i + 1 < sizeof(name); i++)
	name[i] = et->name[i] == '_' ? '-' : et->name[i];	/* the portal's spelling */
    name[i] = 0;
    fprintf(fp, "Event: %s\nEvent-Id: bench-%llu-%06zu\nPartner: %s\n"
	    "Occurred: 2026-12-01T10:15:00Z\nTitle: %s\n", name,
	    (unsigned long long) g->seed, k, g->partner_names[pick(r, g->partners)],
	    TITLES[pick(r, count_strs(TITLES))]);
    for (i = 0; i < count_filters(et); i++) {
	const GFILTER *f = &et->filters[i];

	if (pick(r, 100) >= 90)
	    continue;			/* now and then a field is missing */
	field_name(f->name, name, sizeof(name));
	fprintf(fp, "%s: %s\n", name, f->values[pick(r, count_strs(f->values))]);
    }
    fprintf(fp, "Summary: Synthetic event %zu for the matcher benchmark.\n"
	    "Link: https://portal.example/requests/SR-%06zu\n", k, k);
}

/* write_event - one event mail: RFC 5322 header, text/plain field block */
static void write_event(GEN *g, const char *dir, size_t k)
{
    RNG     r = rng_for(g->seed, 3, k);
    const GEVTYPE *et = &EVTYPES[pick(&r, NEVTYPES)];
    time_t  when = 1795000000 + (time_t) k * 60;
    char    path[4096], date[64];
    FILE   *fp;

    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", gmtime(&when));
    snprintf(path, sizeof(path), "%s/e%06zu.eml", dir, k);
    fp = open_out(path);
    fprintf(fp, "From: Partner Portal <portal@studio.example>\nTo: events@crier.example\n"
	    "Subject: %s (bench %zu)\nDate: %s\n"
	    "Message-ID: <bench-%llu-%06zu@portal.example>\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n",
	    et->title, k, date, (unsigned long long) g->seed, k);
    write_event_body(g, &r, fp, k, et);
    close_out(fp, path);
}

/* name_partners - "Juice Post 1", "Northlight Media 1", ... */
static void name_partners(GEN *g)
{
    size_t  i, nbase = count_strs(PARTNER_BASE);
    char    name[128];

    g->partner_names = calloc(g->partners, sizeof(char *));
    for (i = 0; g->partner_names && i < g->partners; i++) {
	snprintf(name, sizeof(name), "%s %zu", PARTNER_BASE[i % nbase], i / nbase + 1);
	if ((g->partner_names[i] = strdup(name)) == NULL)
	    break;
    }
    if (g->partner_names == NULL || i < g->partners) {
	perror("gen-rules");
	exit(1);
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: gen-rules -n N -s SEED -o DIR [-e EVENTS_DIR [-k K]]\n");
    exit(2);
}

int     main(int argc, char **argv)
{
    const char *edir = NULL;
    size_t  n = 0, k = 1000, i, ndefaults = 0;
    GEN     g;
    int     ch;

    memset(&g, 0, sizeof(g));
    while ((ch = getopt(argc, argv, "n:s:o:e:k:")) != -1) {
	switch (ch) {
	case 'n':
	    n = strtoul(optarg, NULL, 10);
	    break;
	case 's':
	    g.seed = strtoull(optarg, NULL, 10);
	    break;
	case 'o':
	    g.dir = optarg;
	    break;
	case 'e':
	    edir = optarg;
	    break;
	case 'k':
	    k = strtoul(optarg, NULL, 10);
	    break;
	default:
	    usage();
	}
    }
    if (n == 0 || g.dir == NULL || optind != argc)
	usage();
    /* about ten definitions per user; the studio users are on top */
    g.users = n / 10 > STUDIO_USERS ? n / 10 - STUDIO_USERS : 1;
    g.partners = g.users / USERS_PER_PARTNER ? g.users / USERS_PER_PARTNER : 1;
    name_partners(&g);
    make_dir(g.dir);
    write_frequencies(g.dir);
    write_evtypes(g.dir);
    write_profiles(g.dir);
    write_users(&g);
    for (i = 0; i < sizeof(PROFILES) / sizeof(PROFILES[0]); i++)
	ndefaults += PROFILES[i].ndefaults;
    if (edir) {
	make_dir(edir);
	for (i = 0; i < k; i++)
	    write_event(&g, edir, i);
    }
    printf("users=%zu partners=%zu notifications=%zu events=%zu\n",
	   g.users + STUDIO_USERS, g.partners, g.notifs + ndefaults, edir ? k : 0);
    return (0);
}
