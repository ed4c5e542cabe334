/*
 * pending.c - the person's digests, on the list page: for each digest
 * frequency they use or have items waiting in, when the next digest goes
 * out in their time zone and how many items wait. The due time is
 * digest.c's, as crierd's digest runner and "crierctl digests" compute it.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "clock.h"
#include "digest.h"
#include "log.h"
#include "pages.h"
#include "schedule.h"

/* What waits in one digest. */
typedef struct waiting {
    size_t  items;
    uint64_t oldest;
} WAITING;

static int count_item(const SDB_ITEM *it, void *ctx)
{
    WAITING *w = ctx;

    if (w->items++ == 0 || it->arrived < w->oldest)
	w->oldest = it->arrived;
    return (0);
}

/* local_time - an instant as the person reads it: "Mon 30 Nov 2026, 09:00" */
static void local_time(time_t t, const char *tz, STRBUF *out)
{
    time_t  local = t + sched_offset(tz, t);
    struct tm tm;
    char    buf[64];

    gmtime_r(&local, &tm);
    strftime(buf, sizeof(buf), "%a %d %b %Y, %H:%M", &tm);
    sb_puts(out, buf);
}

/* uses - the person has an active notification of this frequency */
static int uses(const ENTRY *e, size_t n, const char *freq)
{
    size_t  i;

    for (i = 0; i < n; i++)
	if (!e[i].muted && strcmp(e[i].n->frequency, freq) == 0)
	    return (1);
    return (0);
}

/* row - one digest: its frequency, next time, items waiting */
static void row(PAGE *pg, const PERSON *p, const FREQ *f, const WAITING *wt, MDB_txn *rtxn,
		        STRBUF *b)
{
    WEB    *w = pg->web;
    STRBUF  why = STRBUF_INIT, when = STRBUF_INIT;
    const char *tz = p->user->timezone ? p->user->timezone : w->conf->default_timezone;
    time_t  due = 0;
    int     rc = -1;

    if (wt->items && rtxn)
	rc = digest_due(w->rdb, rtxn, w->conf->default_timezone, p->user->address, f->name,
			(time_t) wt->oldest, &due, &why);
    else if (!wt->items)
	rc = sched_next(f->rrule, tz, clock_now(), &due, &why) < 0 ? -1 : 0;
    if (rc < 0)
	sb_puts(&when, "not known");
    else
	local_time(due, tz, &when);
    sb_puts(b, "<tr><th scope=\"row\">");
    html_text(b, f->title ? f->title : f->name);
    sb_puts(b, "</th><td>");
    html_text(b, when.s);
    sb_printf(b, "</td><td>%zu</td></tr>", wt->items);
    sb_free(&why), sb_free(&when);
}

/* pending_show - the table of the person's digests, or nothing */
void    pending_show(PAGE *pg, const PERSON *p, const ENTRY *e, size_t n, STRBUF *b)
{
    WEB    *w = pg->web;
    STRBUF  why = STRBUF_INIT;
    MDB_txn *stxn = NULL, *rtxn = NULL;
    WAITING wt;
    size_t  i, rows = 0;

    if (statedb_read(w->sdb, &stxn, &why) < 0)
	stxn = NULL;
    if (rulesdb_read(w->rdb, &rtxn, &why) < 0)
	rtxn = NULL;
    for (i = 0; i < p->rules->nfreqs; i++) {
	const FREQ *f = &p->rules->freqs[i];

	memset(&wt, 0, sizeof(wt));
	if (f->rrule == NULL)
	    continue;
	if (stxn)
	    (void) statedb_items_each(w->sdb, stxn, p->user->address, f->name, count_item, &wt,
				      &why);
	if (!wt.items && !uses(e, n, f->name))
	    continue;
	if (rows++ == 0)
	    sb_puts(b, "<section aria-labelledby=\"h-digests\"><h2 id=\"h-digests\">Your "
		    "digests</h2><table class=\"digests\"><thead><tr><th scope=\"col\">"
		    "Frequency</th><th scope=\"col\">Next digest (your time)</th>"
		    "<th scope=\"col\">Items waiting</th></tr></thead><tbody>");
	row(pg, p, f, &wt, rtxn, b);
    }
    if (rows)
	sb_puts(b, "</tbody></table></section>");
    if (stxn)
	statedb_end(w->sdb, stxn);
    if (rtxn)
	rulesdb_end(w->rdb, rtxn);
    sb_free(&why);
}
