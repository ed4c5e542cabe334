/*
 * live.c - the settings in service, and their swap on reload.
 *
 * A reload builds a whole new LIVE (configuration and token key), checks
 * it, and only then swaps it in under the write lock; a callback in flight
 * holds the read lock and keeps the settings it started with. A bad file
 * never replaces good settings.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "crierd.h"
#include "log.h"
#include "mem.h"

CRIERD  crierd = {
    .lock = PTHREAD_RWLOCK_INITIALIZER,
};

/* live_load - read, check and complete a configuration; NULL and why on error */
LIVE   *live_load(const char *conf_file, int must_exist, STRBUF *why)
{
    LIVE   *lv = xcalloc(1, sizeof(LIVE));

    lv->serial = 1;
    conf_defaults(&lv->conf);
    if (conf_load(&lv->conf, conf_file, must_exist, why) < 0
	|| conf_check(&lv->conf, why) < 0
	|| token_key_load(lv->conf.token_key_file, &lv->key, why) < 0
	|| (lv->policy = policy_create(&lv->conf, why)) == NULL) {
	live_free(lv);
	return (NULL);
    }
    return (lv);
}

void    live_free(LIVE *lv)
{
    if (lv == NULL)
	return;
    conf_free(&lv->conf);
    policy_free(lv->policy);
    free(lv);
}

/* live_hold - the settings in service, read-locked until live_release() */
LIVE   *live_hold(void)
{
    pthread_rwlock_rdlock(&crierd.lock);
    return (crierd.live);
}

void    live_release(void)
{
    pthread_rwlock_unlock(&crierd.lock);
}

/* live_swap - put fresh settings in service and free the old ones */
void    live_swap(LIVE *fresh)
{
    LIVE   *old;

    pthread_rwlock_wrlock(&crierd.lock);
    old = crierd.live;
    fresh->serial = old ? old->serial + 1 : 1;
    crierd.live = fresh;
    pthread_rwlock_unlock(&crierd.lock);
    log_set_level(log_level_parse(fresh->conf.log_level));
    live_free(old);
}

/*
 * live_settle - what cannot change without a restart (sockets, state,
 * identity) keeps its running value in a fresh configuration, and the log
 * says so.
 */
void    live_settle(LIVE *fresh)
{
    static const struct {
	const char *name;
	size_t  offset;
    } fixed[] = {
	{"state_dir", offsetof(CONF, state_dir)},
	{"milter_socket", offsetof(CONF, milter_socket)},
	{"policy_socket", offsetof(CONF, policy_socket)},
	{"pid_file", offsetof(CONF, pid_file)},
	{"user", offsetof(CONF, user)},
    };
    LIVE   *old = live_hold();
    size_t  i;

    for (i = 0; old && i < sizeof(fixed) / sizeof(fixed[0]); i++) {
	char  **now = (char **) ((char *) &old->conf + fixed[i].offset);
	char  **new = (char **) ((char *) &fresh->conf + fixed[i].offset);

	if (strcmp(*now, *new) != 0) {
	    msg_warn("reload: %s changes only when crierd restarts; keeping %s", fixed[i].name,
		     *now);
	    conf_set(new, *now);
	}
    }
    live_release();
}

/*
 * live_web - the panel's links for a mail to recipient (render.h), when
 * web_base_url is set: its manage token, signed now, goes in token
 */
void    live_web(const LIVE *lv, const char *recipient, RENDER_WEB *web, STRBUF *token)
{
    memset(web, 0, sizeof(*web));
    if (*lv->conf.web_base_url == 0)
	return;
    token_make(&lv->key, TOKEN_MANAGE, recipient, "", clock_now(), token);
    web->base_url = lv->conf.web_base_url;
    web->manage_token = token->s;
}
