/*
 * preview.c - on the form, before saving: how often the notification
 * being made would have notified its person, from the events crier kept
 * (event_retention days): "In the last 30 days this would have notified
 * you N times", and the titles of the latest few.
 *
 * The notification is packed as the compiler packs a view and put to the
 * matcher's own test (match_view), with the person's partners, so that
 * the preview and the mail never disagree. The work is bounded: at most
 * PREVIEW_SCAN_MAX events are read, and a count that stopped there says
 * "at least".
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "event.h"
#include "log.h"
#include "match.h"
#include "mem.h"
#include "pages.h"

#define PREVIEW_SCAN_MAX	10000	/* events read, at most */
#define PREVIEW_TITLES		3	/* the latest events shown */

typedef struct preview {
    RDB_VIEW view;
    const STRV *partners;
    long    since;			/* received at or after this */
    size_t  scanned;
    size_t  hits;
    int     capped;
    struct {
	long    when;
	char   *title;
    }       last[PREVIEW_TITLES];	/* the latest first */
} PREVIEW;

/* keep - a matching event among the latest few, newest first */
static void keep(PREVIEW *pv, long when, const EVENT *ev)
{
    const char *title = event_get(ev, "title");
    int     i, at = PREVIEW_TITLES;

    for (i = PREVIEW_TITLES - 1; i >= 0; i--)
	if (pv->last[i].title == NULL || pv->last[i].when < when)
	    at = i;
    if (at == PREVIEW_TITLES)
	return;
    free(pv->last[PREVIEW_TITLES - 1].title);
    memmove(&pv->last[at + 1], &pv->last[at], (PREVIEW_TITLES - 1 - at) * sizeof(pv->last[0]));
    pv->last[at].when = when;
    pv->last[at].title = xstrdup(title ? title : ev->id);
}

/* one - an event kept: read it, and count it when the notification would deliver it */
static int one(const char *id, size_t idlen, const void *rec, size_t len, void *ctx)
{
    PREVIEW *pv = ctx;
    EVENT  *ev;
    long    received;

    (void) id, (void) idlen;
    if (pv->scanned >= PREVIEW_SCAN_MAX) {
	pv->capped = 1;
	return (1);
    }
    pv->scanned++;
    if ((ev = event_unpack(rec, len, &received)) == NULL)
	return (0);
    if (received >= pv->since
	&& match_view(&pv->view, pv->partners->v, pv->partners->len, ev) > 0) {
	pv->hits++;
	keep(pv, received, ev);
    }
    event_free(ev);
    return (0);
}

/* as_view - the notification of the form, packed and read back as the matcher takes it */
static int as_view(const PERSON *p, const char *event, const COND *conds, size_t n,
		           STRBUF *packed, RDB_VIEW *v)
{
    RDB_COND *rc = xcalloc(n + 1, sizeof(RDB_COND));
    RDB_VIEW w;
    size_t  i;
    int     ok;

    for (i = 0; i < n; i++) {
	rc[i].filter = conds[i].filter;
	rc[i].values = conds[i].values.v;
	rc[i].nvalues = conds[i].values.len;
    }
    memset(&w, 0, sizeof(w));
    w.user = p->user->address, w.profile = p->user->profile, w.notif = "(preview)";
    w.kind = NOTIF_CUSTOM, w.event = event, w.frequency = "", w.muted = RDB_ACTIVE;
    w.file = "", w.conds = rc, w.nconds = n;
    rulesdb_pack_view(packed, &w);
    ok = rulesdb_view_read(packed, v);
    free(rc);
    return (ok);
}

/* count - the events kept that it would have delivered; -1 with why */
static int count(WEB *w, PREVIEW *pv, STRBUF *why)
{
    MDB_txn *txn;
    int     rc;

    if (statedb_read(w->sdb, &txn, why) < 0)
	return (-1);
    rc = statedb_events_each(w->sdb, txn, one, pv, why);
    statedb_end(w->sdb, txn);
    return (rc < 0 ? -1 : 0);
}

/* say - the preview's paragraph and list */
static void say(const PREVIEW *pv, long days, STRBUF *b)
{
    int     i;

    sb_printf(b, "<p>In the last %ld days this would have notified you %s%zu time%s.",
	      days, pv->capped ? "at least " : "", pv->hits, pv->hits == 1 ? "" : "s");
    if (pv->capped)
	sb_printf(b, " (Only %d of the events kept were read.)", PREVIEW_SCAN_MAX);
    sb_puts(b, "</p>");
    if (pv->last[0].title == NULL)
	return;
    sb_puts(b, "<p>The latest:</p><ul>");
    for (i = 0; i < PREVIEW_TITLES && pv->last[i].title; i++) {
	sb_puts(b, "<li>");
	html_text(b, pv->last[i].title);
	sb_puts(b, "</li>");
    }
    sb_puts(b, "</ul>");
}

/*
 * preview_show - the preview of a notification of event with those
 * conditions for the person, into b (HTML); a hint when there is no
 * condition yet
 */
void    preview_show(PAGE *pg, const PERSON *p, const char *event, const COND *conds,
		             size_t n, STRBUF *b)
{
    STRBUF  packed = STRBUF_INIT, why = STRBUF_INIT;
    long    days = pg->web->conf->event_retention;
    PREVIEW pv;
    int     i;

    sb_puts(b, "<section class=\"preview\" id=\"preview\" aria-live=\"polite\">"
	    "<h2>How often</h2>");
    memset(&pv, 0, sizeof(pv));
    pv.partners = &p->user->partners;
    pv.since = (long) clock_now() - days * 86400;
    if (n == 0)
	sb_puts(b, "<p class=\"hint\">Choose conditions, then Preview: you will see how "
		"often this would have notified you.</p>");
    else if (as_view(p, event, conds, n, &packed, &pv.view) < 0 || count(pg->web, &pv,
									   &why) < 0) {
	msg_error("web: user=<%s>: preview: %s", pg->s.user.s, why.len ? why.s : "damaged");
	sb_puts(b, "<p class=\"hint\">No preview just now.</p>");
    } else
	say(&pv, days, b);
    sb_puts(b, "</section>");
    for (i = 0; i < PREVIEW_TITLES; i++)
	free(pv.last[i].title);
    sb_free(&packed), sb_free(&why);
}
