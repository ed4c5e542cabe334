/*
 * digests.c - the digest runner: collected items out, one digest per
 * recipient and frequency, when its RRULE says.
 *
 * Once a second (and whenever the rules change generation, which may move
 * due times) the runner takes the digests that are due, renders each with
 * as many items as fit in digest_max_size, and in one transaction puts the
 * message in the outbox and takes its items out of the digest. The outbox
 * sends it like any notification. Items left over stay due and go in a
 * follow-up message at once; nothing is dropped silently.
 *
 * The runner also forgets old events when it has nothing to send (see
 * forget_events).
 *
 * Decided, documented in crierd(8): items stay in the digest they were
 * collected for even if the notification is muted or changed later (the
 * event matched while it was active); a frequency that is gone sends its
 * digest at once; a recipient who is gone from rules.d gets nothing, and
 * the log says how many items were dropped.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "crierd.h"
#include "digest.h"
#include "log.h"
#include "mem.h"
#include "render.h"
#include "schedule.h"
#include "service.h"
#include "strutil.h"
#include "strv.h"

#define DIGEST_TICK	1		/* seconds between looks at the schedule */
#define DIGEST_BATCH	256		/* digests taken per look */

static SERVICE digests_svc;
static const char digest_sending[] = "due: sending";	/* in the debug log */

/* The runner's own state: the daemon, and the rules generation it planned for. */
typedef struct runner {
    CRIERD *cd;
    uint64_t gen;
} RUNNER;

static RUNNER runner;

/* A digest that is due, copied out of the read transaction. */
typedef struct due {
    char   *recipient;
    char   *frequency;
} DUE;

typedef struct due_list {
    DUE    *v;
    size_t  len;
    time_t  now;
    time_t  next;			/* the first due time after now */
} DUE_LIST;

static int collect_due(const SDB_GROUP *g, void *ctx)
{
    DUE_LIST *dl = ctx;

    if ((time_t) g->due > dl->now) {
	dl->next = (time_t) g->due;
	return (1);			/* the schedule is in time order */
    }
    dl->v[dl->len].recipient = xstrdup(g->recipient);
    dl->v[dl->len].frequency = xstrdup(g->frequency);
    return (++dl->len == DIGEST_BATCH);
}

/* An item of the digest being built, with its event. */
typedef struct item {
    uint64_t seq;
    EVENT  *ev;
    char   *title;			/* the event type's */
    char   *notif;			/* the first notification that matched */
    STRV    notifs;			/* all of them */
} ITEM;

typedef struct build {
    MDB_txn *rtxn;			/* rules */
    MDB_txn *stxn;			/* state */
    ITEM   *items;
    size_t  nitems;
    size_t  cap;
    size_t  size;			/* rendered text so far */
    size_t  limit;			/* digest_max_size */
    size_t  more;			/* items that did not fit */
    uint64_t oldest;			/* arrival of the first item */
    uint64_t *lost;			/* items whose event record is gone */
    size_t  nlost;
    int     failed;			/* a read failed: decide nothing */
    STRBUF *why;
} BUILD;

/* A digest ready to leave the schedule, committed with others in one go. */
typedef struct prepared {
    SDB_MOVE mv;
    SDB_OUT out;
    char   *recipient;
    char   *frequency;
    uint64_t *seqs;
    STRBUF  msg;
    STRBUF  mid;
    size_t  more;
} PREPARED;

static void prepared_free(PREPARED *p)
{
    free(p->recipient);
    free(p->frequency);
    free(p->seqs);
    sb_free(&p->msg);
    sb_free(&p->mid);
    memset(p, 0, sizeof(*p));
}

/* prepared_init - the move of a digest's items (out NULL: only dropped) */
static void prepared_init(PREPARED *p, const DUE *d, const BUILD *b)
{
    size_t  i;

    memset(p, 0, sizeof(*p));
    p->recipient = xstrdup(d->recipient);
    p->frequency = xstrdup(d->frequency);
    p->seqs = xcalloc(b->nitems + b->nlost + 1, sizeof(uint64_t));
    for (i = 0; i < b->nitems; i++)
	p->seqs[i] = b->items[i].seq;
    for (i = 0; i < b->nlost; i++)	/* after the rendered ones: see prepare_digest */
	p->seqs[b->nitems + i] = b->lost[i];
    p->more = b->more;
    p->mv.recipient = p->recipient;
    p->mv.frequency = p->frequency;
    p->mv.seqs = p->seqs;
    p->mv.n = b->nitems + b->nlost;
}

static void item_free(ITEM *it)
{
    event_free(it->ev);
    free(it->title);
    free(it->notif);
    strv_free(&it->notifs);
}

/* item_add - the next item (oldest first) if it still fits, else count it */
static int item_add(const SDB_ITEM *si, void *ctx)
{
    BUILD  *b = ctx;
    STRBUF  text = STRBUF_INIT;
    RDB_EVTYPE et;
    RENDER_ITEM ri;
    UNPACK  u = si->notifbuf;
    const void *rec;
    size_t  len, i;
    long    received;
    int     rc;
    ITEM    it;

    if (b->nitems == 0 && b->more == 0)
	b->oldest = si->arrived;
    if (b->size > b->limit) {
	b->more++;
	return (0);
    }
    memset(&it, 0, sizeof(it));
    it.seq = si->seq;
    if ((rc = statedb_get_event(crierd.sdb, b->stxn, si->event_id, &rec, &len, b->why)) < 0) {
	b->failed = 1;			/* the store failed: nothing is decided */
	return (1);
    }
    if (rc > 0 || (it.ev = event_unpack(rec, len, &received)) == NULL) {
	msg_error("digest: to=<%s> event=%s: the event's record is missing or damaged; "
		  "the item is removed", si->recipient, si->event_id);
	b->lost = xrealloc(b->lost, (b->nlost + 1) * sizeof(uint64_t));
	b->lost[b->nlost++] = si->seq;
	return (0);
    }
    it.title = xstrdup(rulesdb_get_evtype(crierd.rdb, b->rtxn, it.ev->type, &et, b->why) == 0
		       ? et.title : it.ev->type);
    for (i = 0; i < si->nnotifs; i++)
	strv_add(&it.notifs, unpack_str(&u));
    it.notif = xstrdup(it.notifs.len ? it.notifs.v[0] : "?");
    ri.ev = it.ev, ri.event_title = it.title, ri.notif = it.notif;
    render_digest_item(&ri, &text);
    if (b->nitems > 0 && b->size + text.len > b->limit) {
	b->size = b->limit + 1;		/* full: the rest is counted, not read */
	b->more++;
	item_free(&it);
    } else {
	if (b->nitems == b->cap)
	    b->items = xrealloc(b->items, (b->cap = b->cap ? b->cap * 2 : 16) * sizeof(ITEM));
	b->items[b->nitems++] = it;
	b->size += text.len;
    }
    sb_free(&text);
    return (0);
}

static int item_cmp(const void *a, const void *b)
{
    const ITEM *x = a, *y = b;
    int     c = strcmp(x->title, y->title);

    if (c == 0)
	c = strcmp(x->notif, y->notif);
    return (c ? c : (x->seq > y->seq) - (x->seq < y->seq));
}

/* notif_info - what the footer says of one notification of the recipient */
static void notif_info(const LIVE *lv, BUILD *b, const char *recipient, const char *id,
		               const char *frequency, RENDER_NOTIF *rn, STRBUF *bufs)
{
    RDB_USER u;
    RDB_VIEW v;
    uint32_t i;

    rn->id = id;
    rn->kind = strchr(id, '/') ? 'd' : 'c';
    rn->frequency = frequency;
    sb_puts(&bufs[0], "(no longer in rules.d)");
    if (rulesdb_get_user(crierd.rdb, b->rtxn, recipient, &u, b->why) == 0)
	for (i = 0; i < u.count; i++)
	    if (rulesdb_get_view(crierd.rdb, b->rtxn, u.first + i, &v, b->why) == 0
		&& strcmp(v.notif, id) == 0) {
		sb_reset(&bufs[0]);
		rulesdb_view_where(&v, &bufs[0]);
		break;
	    }
    token_make(&lv->key, TOKEN_MUTE, recipient, id, clock_now(), &bufs[1]);
    rn->where = bufs[0].s;
    rn->mute_token = bufs[1].s;
}

/* period - "30 Nov": the recipient's local date of the digest */
static void period(const char *tz, time_t t, char *buf, size_t len)
{
    time_t  local = t + sched_offset(tz, t);
    struct tm tm;

    gmtime_r(&local, &tm);
    strftime(buf, len, "%d %b", &tm);
}

/* digest_notifs - every notification of the items, for the footer */
static RENDER_NOTIF *digest_notifs(const LIVE *lv, BUILD *b, const DUE *d, STRV *ids,
				           STRBUF **bufs)
{
    RENDER_NOTIF *rn;
    size_t  i, j;

    for (i = 0; i < b->nitems; i++)
	for (j = 0; j < b->items[i].notifs.len; j++)
	    if (strv_find_case(ids, b->items[i].notifs.v[j]) < 0)
		strv_add(ids, b->items[i].notifs.v[j]);
    strv_sort(ids);
    rn = xcalloc(ids->len + 1, sizeof(RENDER_NOTIF));
    *bufs = xcalloc(2 * ids->len + 1, sizeof(STRBUF));
    for (i = 0; i < ids->len; i++)
	notif_info(lv, b, d->recipient, ids->v[i], d->frequency, &rn[i], &(*bufs)[2 * i]);
    return (rn);
}

/*
 * digest_links - the panel's links of a digest, when web_base_url is set:
 * the manage token, and for several notifications the one-click token of
 * the whole frequency (one notification keeps its own mute token)
 */
static void digest_links(const LIVE *lv, const DUE *d, RENDER_DIGEST *rd, STRBUF *manage,
			         STRBUF *whole)
{
    live_web(lv, d->recipient, &rd->web, manage);
    if (rd->web.base_url == NULL || rd->nnotifs < 2)
	return;
    token_make(&lv->key, TOKEN_DIGEST, d->recipient, d->frequency, clock_now(), whole);
    rd->digest_token = whole->s;
}

/* prepare_digest - render what was built, ready to go to the outbox */
static int prepare_digest(const LIVE *lv, BUILD *b, const DUE *d, time_t due, PREPARED *p)
{
    STRV    ids = STRV_INIT;
    STRBUF *bufs, first = STRBUF_INIT, manage = STRBUF_INIT, whole = STRBUF_INIT;
    RENDER_NOTIF *rn;
    RENDER_ITEM *ri = xcalloc(b->nitems + 1, sizeof(RENDER_ITEM));
    const char *title = d->frequency, *rrule;
    uint64_t low = UINT64_MAX;
    char    day[32];
    unsigned pos;
    RENDER_DIGEST rd;
    size_t  i;
    int     rc;

    xsort(b->items, b->nitems, sizeof(ITEM), item_cmp);
    rn = digest_notifs(lv, b, d, &ids, &bufs);
    prepared_init(p, d, b);
    for (i = 0; i < b->nitems; i++) {
	ri[i].ev = b->items[i].ev, ri[i].event_title = b->items[i].title;
	ri[i].notif = b->items[i].notif;
	low = p->seqs[i] < low ? p->seqs[i] : low;
    }
    (void) rulesdb_get_freq(crierd.rdb, b->rtxn, d->frequency, &title, &rrule, &pos, b->why);
    period(digest_zone(crierd.rdb, b->rtxn, lv->conf.default_timezone, d->recipient), due, day, sizeof(day));
    sb_printf(&first, "digest.%llu", (unsigned long long) low);
    render_message_id(first.s, d->recipient, d->frequency, lv->conf.sender_address, &p->mid);
    memset(&rd, 0, sizeof(rd));
    rd.recipient = d->recipient, rd.sender = lv->conf.sender_address;
    rd.request_address = lv->conf.request_address, rd.message_id = p->mid.s;
    rd.date = clock_now(), rd.frequency = d->frequency, rd.freq_title = title;
    rd.period = day, rd.items = ri, rd.nitems = b->nitems, rd.more = b->more;
    rd.notifs = rn, rd.nnotifs = ids.len;
    digest_links(lv, d, &rd, &manage, &whole);
    if ((rc = render_digest(&rd, &p->msg, b->why)) == 0) {
	p->out.recipient = p->recipient, p->out.message_id = p->mid.s;
	p->out.msg = p->msg.s, p->out.msglen = p->msg.len;
	p->mv.out = &p->out;
    }
    for (i = 0; i < 2 * ids.len; i++)
	sb_free(&bufs[i]);
    free(bufs), free(rn), free(ri);
    strv_free(&ids);
    sb_free(&first), sb_free(&manage), sb_free(&whole);
    return (rc);
}

static void build_free(BUILD *b)
{
    size_t  i;

    for (i = 0; i < b->nitems; i++)
	item_free(&b->items[i]);
    free(b->items);
    free(b->lost);
    if (b->rtxn)
	rulesdb_end(crierd.rdb, b->rtxn);
    if (b->stxn)
	statedb_end(crierd.sdb, b->stxn);
}

/* reschedule - one digest's new due time (0: it has nothing left) */
static int reschedule(const DUE *d, time_t due, STRBUF *why)
{
    SDB_GROUP g = {d->recipient, d->frequency, (uint64_t) due};

    return (statedb_reschedule(crierd.sdb, &g, 1, why));
}

/*
 * log_digest - debug: what became of a digest that was due, and each item
 * it sends
 */
static void log_digest(const DUE *d, const BUILD *b, time_t due, const char *what)
{
    STRBUF  when = STRBUF_INIT;
    size_t  i;

    if (!log_enabled(LOG_LVL_DEBUG))
	return;
    clock_format(due, 0, &when);
    msg_debug("digest: to=<%s> frequency=%s items=%zu more=%zu removed=%zu due=%s: %s",
	      d->recipient, d->frequency, b->nitems, b->more, b->nlost, when.s, what);
    for (i = 0; what == digest_sending && i < b->nitems; i++)
	msg_debug("digest: to=<%s> frequency=%s event=%s type=%s notification=%s: in the digest",
		  d->recipient, d->frequency, b->items[i].ev->id, b->items[i].ev->type,
		  b->items[i].notif);
    sb_free(&when);
}

/*
 * digest_one - one digest that was due: prepared to leave (returns 1:
 * rendered, or, for a recipient gone from rules.d, dropped), or
 * rescheduled (0), or -1 after logging why not.
 */
static int digest_one(const LIVE *lv, const DUE *d, time_t now, PREPARED *p)
{
    STRBUF  why = STRBUF_INIT;
    BUILD   b;
    time_t  due = now;
    const char *what = NULL;
    int     rc = -1;

    memset(&b, 0, sizeof(b));
    b.why = &why;
    b.limit = (size_t) lv->conf.digest_max_size;
    if (rulesdb_read(crierd.rdb, &b.rtxn, &why) == 0 && statedb_read(crierd.sdb, &b.stxn, &why) == 0
	&& statedb_items_each(crierd.sdb, b.stxn, d->recipient, d->frequency, item_add, &b,
			      &why) == 0 && !b.failed)
	rc = digest_due(crierd.rdb, b.rtxn, lv->conf.default_timezone, d->recipient, d->frequency,
			(time_t) b.oldest, &due, &why);
    if (rc == DIGEST_NO_SCHEDULE) {
	msg_warn("digest: to=<%s> frequency=%s: %s: sent at once", d->recipient, d->frequency,
		 why.s);
	rc = DIGEST_OK;
    }
    if (b.nitems == 0 && b.more == 0 && b.nlost > 0 && rc >= 0)
	prepared_init(p, d, &b), rc = 1, what = "nothing to send, damaged items removed";
    else if (b.nitems == 0 && b.more == 0 && rc >= 0)
	rc = reschedule(d, 0, &why), what = "no items: off the schedule";
    else if (rc == DIGEST_NO_USER)
	prepared_init(p, d, &b), rc = 1, what = "the recipient is gone from rules.d: skipped";
    else if (rc == DIGEST_OK && due > now)
	rc = reschedule(d, due, &why), what = "not due yet: rescheduled";
    else if (rc == DIGEST_OK)
	rc = prepare_digest(lv, &b, d, due, p) == 0 ? 1 : -1, what = digest_sending;
    if (rc >= 0 && what)
	log_digest(d, &b, due, what);
    if (rc < 0) {
	msg_error("digest: to=<%s> frequency=%s: %s", d->recipient, d->frequency, why.s);
	prepared_free(p);
    }
    build_free(&b);
    sb_free(&why);
    return (rc);
}

/* commit - the prepared digests leave the schedule together */
static void commit(PREPARED *p, size_t n)
{
    STRBUF  why = STRBUF_INIT;
    SDB_MOVE *mv = xcalloc(n + 1, sizeof(SDB_MOVE));
    size_t  i;

    for (i = 0; i < n; i++)
	mv[i] = p[i].mv;
    if (statedb_digest_moves(crierd.sdb, mv, n, &why) < 0)
	msg_error("digest: %zu digests stay pending: %s", n, why.s);
    else
	for (i = 0; i < n; i++)
	    if (p[i].mv.out)
		msg_info("digest: to=<%s> frequency=%s items=%zu more=%zu message-id=<%s> "
			 "status=queued", p[i].recipient, p[i].frequency, p[i].mv.n, p[i].more,
			 p[i].mid.s);
	    else
		msg_warn("digest: to=<%s> frequency=%s items=%zu dropped: the recipient is no "
			 "longer in rules.d", p[i].recipient, p[i].frequency, p[i].mv.n);
    free(mv);
    sb_free(&why);
    if (n) {
	crash_point("digest-moved");
	outbox_wake();
    }
}

/*
 * reschedule_all - new rules: every pending digest's due time again
 * (digest_replan), with one log line for them all.
 */
static void reschedule_all(void)
{
    STRBUF  why = STRBUF_INIT;
    DIGEST_REPLAN st = {0, 0, 0, STRBUF_INIT};
    struct timespec t0, t1;
    char   *tz;
    LIVE   *lv = live_hold();
    int     rc;

    tz = xstrdup(lv->conf.default_timezone);
    live_release();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = digest_replan(crierd.rdb, crierd.sdb, tz, &st, &why);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (st.moved || rc < 0)
	msg_info("digest: replanned %zu pending digests for the rules in service: %zu "
		 "rescheduled in %.1f s", st.digests, st.moved,
		 (double) (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    if (rc < 0)
	msg_error("digest: replanning stopped: %s", why.s);
    if (st.at_once)
	msg_warn("digest: %zu digests are due at once, their rule gives no time; the "
		 "first: %s", st.at_once, st.first_why.s);
    sb_free(&st.first_why);
    sb_free(&why);
    free(tz);
}

/* log_due - debug: how many digests are due now, and when the next one is */
static void log_due(const DUE_LIST *dl)
{
    STRBUF  now = STRBUF_INIT, next = STRBUF_INIT;

    if (dl->len == 0 || !log_enabled(LOG_LVL_DEBUG))
	return;
    clock_format(dl->now, 0, &now);
    if (dl->len == DIGEST_BATCH)
	sb_puts(&next, "a full batch: more are due");
    else if (dl->next) {
	sb_puts(&next, "the next is due ");
	clock_format(dl->next, 0, &next);
    } else
	sb_puts(&next, "no other digest pending");
    msg_debug("digest: %zu digest%s due at %s; %s", dl->len, dl->len == 1 ? "" : "s", now.s,
	      next.s);
    sb_free(&now);
    sb_free(&next);
}

/* run_due - every digest due by now; 1 when there may be more right away */
static int run_due(void)
{
    STRBUF  why = STRBUF_INIT;
    PREPARED *p = xcalloc(DIGEST_BATCH, sizeof(PREPARED));
    DUE_LIST dl;
    MDB_txn *txn;
    LIVE   *lv;
    size_t  i, n = 0;

    memset(&dl, 0, sizeof(dl));
    dl.v = xcalloc(DIGEST_BATCH, sizeof(DUE));
    dl.now = clock_now();
    if (statedb_read(crierd.sdb, &txn, &why) == 0) {
	if (statedb_groups_each(crierd.sdb, txn, 1, collect_due, &dl, &why) < 0)
	    msg_error("digest: %s", why.s);
	statedb_end(crierd.sdb, txn);
    }
    log_due(&dl);
    for (i = 0; i < dl.len; i++) {		/* the lock per digest: reloads wait little */
	lv = live_hold();
	if (digest_one(lv, &dl.v[i], dl.now, &p[n]) > 0)
	    n++;
	live_release();
	free(dl.v[i].recipient);
	free(dl.v[i].frequency);
    }
    commit(p, n);
    for (i = 0; i < n; i++)
	prepared_free(&p[i]);
    free(p);
    free(dl.v);
    sb_free(&why);
    return (n > 0 && dl.len == DIGEST_BATCH);	/* a full batch that moved: more at once */
}

/* generation - of the compiled rules in service (0 when unreadable) */
static uint64_t generation(RULESDB *rdb)
{
    STRBUF  why = STRBUF_INIT;
    MDB_txn *txn;
    RDB_META meta;

    memset(&meta, 0, sizeof(meta));
    if (rulesdb_read(rdb, &txn, &why) == 0) {
	(void) rulesdb_get_meta(rdb, txn, &meta, &why);
	rulesdb_end(rdb, txn);
    }
    sb_free(&why);
    return (meta.generation);
}

/*
 * forget_events - when the runner is idle, at start and then hourly (by
 * crierd's clock): accepted events older than event_retention days, that
 * no pending digest item needs, go. Until then a repeated Event-Id is
 * recognised and causes nothing new. Dead notifications go after as long.
 */
static void forget_events(void)
{
    static time_t last;
    STRBUF  why = STRBUF_INIT;
    time_t  now = clock_now();
    LIVE   *lv;
    long    days, n;

    if (last && now - last < 3600)
	return;
    last = now;
    lv = live_hold();
    days = lv->conf.event_retention;
    live_release();
    if ((n = statedb_events_prune(crierd.sdb, (uint64_t) (now - days * 86400), &why)) < 0)
	msg_error("events: %s", why.s);
    else if (n > 0)
	msg_info("events: forgot %ld events older than %ld days (event_retention)", n, days);
    sb_reset(&why);
    if ((n = statedb_dead_prune(crierd.sdb, (uint64_t) (now - days * 86400), (uint64_t) now,
				&why)) < 0)
	msg_error("outbox: %s", why.s);
    else if (n > 0)
	msg_info("outbox: forgot %ld dead notifications older than %ld days (event_retention)",
		 n, days);
    sb_free(&why);
}

/*
 * digests_turn - replan when the rules changed generation (at start too:
 * rules.d may have changed while crierd was down), then what is due; at
 * once again after a full batch, else in DIGEST_TICK
 */
static int digests_turn(SERVICE *svc, void *ctx)
{
    RUNNER *r = ctx;
    uint64_t now_gen;

    (void) svc;
    if ((now_gen = generation(r->cd->rdb)) != r->gen) {
	reschedule_all();
	r->gen = now_gen;
    }
    if (run_due())
	return (SERVICE_NOW);
    forget_events();
    return (DIGEST_TICK);
}

/* digests_start - the runner's thread, on the worker's stores */
int     digests_start(CRIERD *cd)
{
    runner.cd = cd;
    runner.gen = 0;
    return (service_start(&digests_svc, "digest", digests_turn, &runner, 0));
}

/* digests_stop - the runner ends its turn and its thread */
void    digests_stop(void)
{
    service_stop(&digests_svc);
}
