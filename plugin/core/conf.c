/*
 * conf.c - crier.conf, the main configuration (see conf.h).
 */
#include "config.h"

#include <errno.h>
#include <libconfig.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "mem.h"
#include "policy.h"
#include "schedule.h"
#include "strutil.h"

#define CONF_STR	0
#define CONF_INT	1			/* a number at least 1 */
#define CONF_COUNT	2			/* a number at least 0 */
#define CONF_LIST	3			/* an array of strings, empty by default */

/* The configuration table: name, type, default, where it goes. */
static const struct conf_key {
    const char *name;
    int     type;
    const char *def;
    size_t  offset;
} conf_keys[] = {
    {"rules_dir", CONF_STR, CRIER_CONFDIR "/rules.d", offsetof(CONF, rules_dir)},
    {"state_dir", CONF_STR, CRIER_STATEDIR, offsetof(CONF, state_dir)},
    {"default_timezone", CONF_STR, "UTC", offsetof(CONF, default_timezone)},
    {"milter_socket", CONF_STR, "unix:" CRIER_RUNDIR "/milter", offsetof(CONF, milter_socket)},
    {"policy_socket", CONF_STR, "unix:" CRIER_RUNDIR "/policy", offsetof(CONF, policy_socket)},
    {"events_address", CONF_STR, "events@localhost", offsetof(CONF, events_address)},
    {"request_address", CONF_STR, "crier-request@localhost", offsetof(CONF, request_address)},
    {"sender_address", CONF_STR, "crier@localhost", offsetof(CONF, sender_address)},
    {"archive_address", CONF_STR, "", offsetof(CONF, archive_address)},
    {"token_key_file", CONF_STR, CRIER_CONFDIR "/token.key", offsetof(CONF, token_key_file)},
    {"reinject", CONF_STR, "smtp:127.0.0.1:10026", offsetof(CONF, reinject)},
    {"user", CONF_STR, "crier", offsetof(CONF, user)},
    {"pid_file", CONF_STR, CRIER_RUNDIR "/crierd.pid", offsetof(CONF, pid_file)},
    {"log_level", CONF_STR, "info", offsetof(CONF, log_level)},
    {"max_event_size", CONF_INT, "1048576", offsetof(CONF, max_event_size)},
    {"digest_max_size", CONF_INT, "65536", offsetof(CONF, digest_max_size)},
    {"outbox_workers", CONF_INT, "4", offsetof(CONF, outbox_workers)},
    {"event_retention", CONF_INT, "30", offsetof(CONF, event_retention)},
    {"outbox_max_age", CONF_INT, "5", offsetof(CONF, outbox_max_age)},
    {"submit_networks", CONF_LIST, NULL, offsetof(CONF, submit_networks)},
    {"submit_sasl_users", CONF_LIST, NULL, offsetof(CONF, submit_sasl_users)},
    {"submit_senders", CONF_LIST, NULL, offsetof(CONF, submit_senders)},
    {"submit_local_users", CONF_LIST, NULL, offsetof(CONF, submit_local_users)},
    {"submit_rate_limit", CONF_COUNT, "600", offsetof(CONF, submit_rate_limit)},
    {"submit_rate_limit_ipv6_prefix", CONF_INT, "64", offsetof(CONF, submit_rate_limit_ipv6_prefix)},
    {"crier_domain", CONF_STR, "", offsetof(CONF, crier_domain)},
    {"recipient_delimiter", CONF_STR, "+", offsetof(CONF, recipient_delimiter)},
    {"bounce_limit", CONF_COUNT, "5", offsetof(CONF, bounce_limit)},
    {"bounce_window", CONF_INT, "14", offsetof(CONF, bounce_window)},
    {"web_listen", CONF_STR, "", offsetof(CONF, web_listen)},
    {"web_base_url", CONF_STR, "", offsetof(CONF, web_base_url)},
    {NULL, 0, NULL, 0},
};

#define CONF_SLOT(cf, k) ((char **) ((char *) (cf) + (k)->offset))
#define CONF_INTP(cf, k) ((long *) ((char *) (cf) + (k)->offset))
#define CONF_LISTP(cf, k) ((STRV *) ((char *) (cf) + (k)->offset))

void    conf_set(char **slot, const char *value)
{
    free(*slot);
    *slot = value ? xstrdup(value) : NULL;
}

void    conf_defaults(CONF *cf)
{
    const struct conf_key *k;

    memset(cf, 0, sizeof(*cf));
    for (k = conf_keys; k->name; k++)
	if (k->type == CONF_INT || k->type == CONF_COUNT)
	    *CONF_INTP(cf, k) = atol(k->def);
	else if (k->type == CONF_STR)
	    conf_set(CONF_SLOT(cf, k), k->def);
}

/* conf_list - an array of strings, replacing the list in cf */
static int conf_list(STRV *sv, const char *path, const config_setting_t *s, STRBUF *why)
{
    const char *v;
    int     i;

    if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST) {
	sb_printf(why, "%s:%d: '%s' must be an array of strings, as [\"a\", \"b\"]", path,
		  (int) config_setting_source_line(s), config_setting_name(s));
	return (-1);
    }
    strv_free(sv);
    for (i = 0; i < config_setting_length(s); i++) {
	if ((v = config_setting_get_string_elem(s, i)) == NULL) {
	    sb_printf(why, "%s:%d: '%s' must hold strings only", path,
		      (int) config_setting_source_line(s), config_setting_name(s));
	    return (-1);
	}
	strv_add(sv, v);
    }
    return (0);
}

/* conf_setting - one top-level setting against the table */
static int conf_setting(CONF *cf, const char *path, const config_setting_t *s, STRBUF *why)
{
    const char *name = config_setting_name(s);
    const struct conf_key *k;
    const char *v;

    for (k = conf_keys; k->name; k++)
	if (strcmp(k->name, name) == 0)
	    break;
    if (k->name == NULL) {
	sb_printf(why, "%s:%d: unknown setting '%s'", path,
		  (int) config_setting_source_line(s), name);
	return (-1);
    }
    if (k->type == CONF_LIST)
	return (conf_list(CONF_LISTP(cf, k), path, s, why));
    if (k->type == CONF_INT || k->type == CONF_COUNT) {
	if (config_setting_type(s) != CONFIG_TYPE_INT
	    || config_setting_get_int(s) < (k->type == CONF_INT ? 1 : 0)) {
	    sb_printf(why, "%s:%d: '%s' must be a %s number", path,
		      (int) config_setting_source_line(s), name,
		      k->type == CONF_INT ? "positive" : "non-negative");
	    return (-1);
	}
	*CONF_INTP(cf, k) = config_setting_get_int(s);
	return (0);
    }
    if ((v = config_setting_get_string(s)) == NULL) {
	sb_printf(why, "%s:%d: '%s' must be a string", path,
		  (int) config_setting_source_line(s), name);
	return (-1);
    }
    conf_set(CONF_SLOT(cf, k), v);
    return (0);
}

/* conf_base_url - web_base_url ends in '/', so that links are BASE + "u/TOKEN" */
static void conf_base_url(CONF *cf)
{
    size_t  len = strlen(cf->web_base_url);
    char   *s;

    if (len == 0 || cf->web_base_url[len - 1] == '/')
	return;
    s = xmalloc(len + 2);
    memcpy(s, cf->web_base_url, len);
    strcpy(s + len, "/");
    free(cf->web_base_url);
    cf->web_base_url = s;
}

/*
 * conf_load - read path over the values already in cf. A missing file is
 * an error only when must_exist (an explicit -c).
 */
int     conf_load(CONF *cf, const char *path, int must_exist, STRBUF *why)
{
    config_t c;
    config_setting_t *root;
    int     i, rc = 0;

    if (!must_exist && access(path, F_OK) < 0 && errno == ENOENT)
	return (0);
    config_init(&c);
    if (config_read_file(&c, path) == CONFIG_FALSE) {
	if (config_error_type(&c) == CONFIG_ERR_FILE_IO)
	    sb_printf(why, "%s: cannot read: %s", path, strerror(errno));
	else
	    sb_printf(why, "%s:%d: syntax error: %s", path, config_error_line(&c),
		      config_error_text(&c));
	config_destroy(&c);
	return (-1);
    }
    root = config_root_setting(&c);
    for (i = 0; rc == 0 && i < config_setting_length(root); i++)
	rc = conf_setting(cf, path, config_setting_get_elem(root, i), why);
    config_destroy(&c);
    conf_base_url(cf);
    return (rc);
}

void    conf_free(CONF *cf)
{
    const struct conf_key *k;

    for (k = conf_keys; k->name; k++)
	if (k->type == CONF_STR)
	    conf_set(CONF_SLOT(cf, k), NULL);
	else if (k->type == CONF_LIST)
	    strv_free(CONF_LISTP(cf, k));
}

#define CONF_SUN_PATH	sizeof(((struct sockaddr_un *) 0)->sun_path)

/*
 * conf_socket_ok - libmilter's socket syntax, which crierd uses for all
 * of its sockets: unix:/path (or local:/path) short enough to bind,
 * inet:port@host, inet6:port@host; 0, or -1 with why (name is the key,
 * hint what it takes)
 */
int     conf_socket_ok(const char *name, const char *spec, const char *hint, STRBUF *why)
{
    const char *path = strncmp(spec, "unix:/", 6) == 0 || strncmp(spec, "local:/", 7) == 0
    ? strchr(spec, ':') + 1 : NULL;

    if ((path == NULL && strncmp(spec, "inet:", 5) != 0 && strncmp(spec, "inet6:", 6) != 0)
	|| strpbrk(spec, " \t\r\n") != NULL) {
	sb_printf(why, "%s \"%s\": use %s", name, spec, hint);
	return (-1);
    }
    if (path && strlen(path) >= CONF_SUN_PATH) {
	sb_printf(why, "%s \"%s\": the path is %zu bytes long; a unix socket's can be %zu "
		  "at most", name, spec, strlen(path), CONF_SUN_PATH - 1);
	return (-1);
    }
    return (0);
}

/* conf_address_ok - local@domain without white space, or empty when optional */
static int conf_address_ok(const char *a, int optional)
{
    const char *at = strrchr(a, '@');

    if (*a == 0)
	return (optional);
    return (at && at != a && at[1] && strpbrk(a, " \t\r\n<>\"") == NULL);
}

/* conf_hostport_ok - HOST:PORT with a port from 1 to 65535 */
static int conf_hostport_ok(const char *hp)
{
    const char *colon = strrchr(hp, ':');
    char   *end;
    long    port;

    if (colon == NULL || colon == hp)
	return (0);
    port = strtol(colon + 1, &end, 10);
    return (*end == 0 && colon[1] && port > 0 && port < 65536);
}

/* conf_policy_ok - the submit_* lists make a policy (networks parse, senders have @) */
static int conf_policy_ok(const CONF *cf, STRBUF *why)
{
    POLICY *p = policy_create(cf, why);

    policy_free(p);
    return (p ? 0 : -1);
}

/*
 * conf_web_ok - the panel: web_listen in libmilter's syntax, and with it
 * (or alone) a web_base_url that is an http(s) URL with a host and
 * nothing that would break a header or a link (no query, fragment, space)
 */
static int conf_web_ok(const CONF *cf, STRBUF *why)
{
    const char *u = cf->web_base_url, *host, *p;

    for (p = u; *p > 0x20 && *p < 0x7f; p++)	/* printable ASCII: a header as it is */
	 /* void */ ;
    if (*cf->web_listen == 0 && *u == 0)
	return (0);
    if (*cf->web_listen && conf_socket_ok("web_listen", cf->web_listen,
				   "inet:PORT@ADDRESS or unix:/path, or \"\" for no panel", why) < 0)
	return (-1);
    if (*u == 0) {
	sb_printf(why, "web_listen \"%s\" is set, so web_base_url is required: the panel's "
		  "public URL, as \"https://notify.example.com/\"", cf->web_listen);
	return (-1);
    }
    host = strncmp(u, "https://", 8) == 0 ? u + 8 : strncmp(u, "http://", 7) == 0 ? u + 7 : 0;
    if (host == NULL || *host == 0 || *host == '/' || *p != 0
	|| strpbrk(u, " <>\"'?#\\") != NULL) {
	sb_printf(why, "web_base_url \"%s\": use the panel's public URL, as "
		  "\"https://notify.example.com/\" (http or https, no query or fragment)", u);
	return (-1);
    }
    return (0);
}

/*
 * conf_check - what crierd needs beyond syntax: addresses that are
 * addresses, a known log level, a reinject method it can use.
 */
int     conf_check(const CONF *cf, STRBUF *why)
{
    static const char *const levels[] = {"debug", "info", "warning", "error", 0};
    const char *const *l;

    if (!*cf->rules_dir || !*cf->state_dir || !*cf->pid_file || !*cf->user) {
	sb_puts(why, "rules_dir, state_dir, pid_file and user must not be empty");
	return (-1);
    }
    if (cf->outbox_workers > 32) {
	sb_printf(why, "outbox_workers = %ld: at most 32", cf->outbox_workers);
	return (-1);
    }
    if (!sched_zone_valid(cf->default_timezone)) {
	sb_printf(why, "default_timezone \"%s\" is not a time zone this system knows "
		  "(an IANA name such as \"Europe/Berlin\", or \"UTC\")", cf->default_timezone);
	return (-1);
    }
    if (!conf_address_ok(cf->events_address, 0) || !conf_address_ok(cf->request_address, 0)
	|| !conf_address_ok(cf->sender_address, 0) || !conf_address_ok(cf->archive_address, 1)) {
	sb_puts(why, "events_address, request_address and sender_address must be "
		"local@domain (archive_address too, when set)");
	return (-1);
    }
    for (l = levels; *l && strcmp(*l, cf->log_level) != 0; l++)
	 /* void */ ;
    if (*l == NULL) {
	sb_printf(why, "log_level \"%s\": use debug, info, warning or error", cf->log_level);
	return (-1);
    }
    if ((strncmp(cf->reinject, "smtp:", 5) != 0 || !conf_hostport_ok(cf->reinject + 5))
	&& (strncmp(cf->reinject, "sendmail:", 9) != 0 || cf->reinject[9] != '/')) {
	sb_printf(why, "reinject \"%s\": use smtp:HOST:PORT or sendmail:/PATH", cf->reinject);
	return (-1);
    }
    if (conf_socket_ok("milter_socket", cf->milter_socket, "unix:/path or inet:port@host",
		       why) < 0)
	return (-1);
    if (*cf->policy_socket && conf_socket_ok("policy_socket", cf->policy_socket,
		   "unix:/path or inet:port@host, or \"\" for no policy service", why) < 0)
	return (-1);
    if (cf->submit_rate_limit_ipv6_prefix > 128) {
	sb_printf(why, "submit_rate_limit_ipv6_prefix = %ld: a prefix length from 1 to 128",
		  cf->submit_rate_limit_ipv6_prefix);
	return (-1);
    }
    if (*cf->recipient_delimiter == 0 || str_has_ctl(cf->recipient_delimiter)
	|| strchr(cf->recipient_delimiter, '@')) {
	sb_puts(why, "recipient_delimiter must be the characters of Postfix's "
		"recipient_delimiter, as \"+\" or \"+-\"");
	return (-1);
    }
    if (strcspn(cf->sender_address, cf->recipient_delimiter)
	< (size_t) (strrchr(cf->sender_address, '@') - cf->sender_address)) {
	sb_printf(why, "sender_address \"%s\": its local part holds a character of "
		  "recipient_delimiter \"%s\" (bounces come back to it with an extension)",
		  cf->sender_address, cf->recipient_delimiter);
	return (-1);
    }
    if (*cf->crier_domain && (strchr(cf->crier_domain, '@') || strpbrk(cf->crier_domain, " \t"))) {
	sb_printf(why, "crier_domain \"%s\": a domain name, as \"crier.example.com\"",
		  cf->crier_domain);
	return (-1);
    }
    if (conf_web_ok(cf, why) < 0)
	return (-1);
    return (conf_policy_ok(cf, why));
}
