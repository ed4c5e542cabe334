/*
 * apply.c - every change the panel makes: through change.c, as crierctl's
 * and self-service's (the same checks, the canonical file, the lock), then
 * the person compiled anew into the set in service, so the change holds
 * from the next event on. One log line per change. The user of a change
 * is always the session's: nothing in a request can name another.
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "compile.h"
#include "log.h"
#include "mem.h"
#include "pages.h"

/*
 * compile_person - the changed file into the set in service; when only a
 * whole compile will do (the catalog changed since), crierd's supervisor
 * is asked for one, as self-service asks
 */
static void compile_person(WEB *w, const char *user, const char *file)
{
    STRBUF  why = STRBUF_INIT;
    COMPILE_STATS st;
    int     rc = compile_user_file(w->rdb, w->conf->rules_dir, file, user, &st, &why);

    if (rc == COMPILE_OK)
	msg_info("web: rules: %s compiled anew: generation %llu", user,
		 (unsigned long long) st.generation);
    else if (rc < 0)
	msg_error("web: rules: %s", why.s);
    if (rc != COMPILE_OK && w->supervisor > 0)
	(void) kill(w->supervisor, SIGHUP);
    else if (rc != COMPILE_OK)
	msg_warn("web: rules: %s changed; a whole compile is needed (crierctl compile)", user);
    sb_free(&why);
}

/*
 * web_reason - a refusal of change.c for people: the same words, without
 * the FILE:LINE of rules.d that only the operators need
 */
void    web_reason(const WEB *w, const char *why, STRBUF *out)
{
    const char *dir = w->conf->rules_dir, *p = why, *q;
    size_t  dlen = strlen(dir);

    while (*p) {
	if (strncmp(p, dir, dlen) == 0 && (q = strchr(p + dlen, ':')) != NULL) {
	    for (q++; *q >= '0' && *q <= '9'; q++)	/* "FILE:LINE" or "FILE" */
		 /* void */ ;
	    if (*q == ':')
		q++;
	    if (*q == ' ')			/* "FILE:LINE: " leads a line */
		q++;
	    if (out->len >= 2 && strcmp(out->s + out->len - 2, " (") == 0 && *q == ')') {
		out->len -= 2, out->s[out->len] = 0;	/* " (FILE:LINE)" */
		q++;
	    }
	    p = q;
	    continue;
	}
	sb_putc(out, *p++);
    }
}

/*
 * web_apply - one change for user (the session's, or the one a signed link
 * names): 0 with what it touched in id, or -1 with why, worded for people
 */
int     web_apply(WEB *w, const char *user, CHANGE *c, STRBUF *id, STRBUF *why)
{
    STRBUF  hint = STRBUF_INIT, raw = STRBUF_INIT;
    CHANGE_DONE done;
    int     rc;

    c->user = user;
    c->author = NULL;				/* the person, as for mail */
    c->channel = "web";
    c->user_file = change_user_file(w->rdb, w->conf->rules_dir, c->user, &hint);
    if ((rc = change_apply(w->conf->rules_dir, c, &done, &raw)) < 0) {
	web_reason(w, raw.s ? raw.s : "refused", why);
	msg_info("web: user=<%s> %s %s refused: %s", c->user, change_verb_name(c->verb),
		 c->name ? c->name : c->event ? c->event : "", raw.s ? raw.s : "");
    } else {
	msg_info("web: user=<%s> %s notification=%s%s via=web", c->user,
		 change_verb_name(c->verb), done.id, done.unchanged ? " (already so)" : "");
	if (!done.unchanged)
	    compile_person(w, c->user, done.file);
	sb_reset(id);
	sb_puts(id, done.id);
    }
    change_done_free(&done);
    sb_free(&hint), sb_free(&raw);
    return (rc < 0 ? -1 : 0);
}
