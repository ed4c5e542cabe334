/*
 * conf.h - crier.conf, the main configuration (libconfig syntax).
 *
 * One table holds every key with its type and default (conf.c); an unknown
 * key or a wrong type is an error with file and line. crierd and crierctl
 * read the same file; crier.conf(5) documents each key.
 */
#ifndef CRIER_CONF_H
#define CRIER_CONF_H

#include "strbuf.h"
#include "strv.h"

typedef struct conf {
    char   *rules_dir;			/* rules.d */
    char   *state_dir;			/* LMDB files */
    char   *default_timezone;		/* for users without one */
    char   *milter_socket;		/* libmilter syntax: unix:/path, inet:port@host */
    char   *policy_socket;
    char   *events_address;		/* where the portal sends events */
    char   *request_address;		/* self-service commands */
    char   *sender_address;		/* From: of notifications */
    char   *archive_address;		/* optional copy of each event mail */
    char   *token_key_file;		/* HMAC key for signed tokens */
    char   *reinject;			/* smtp:HOST:PORT or sendmail:PATH */
    char   *user;			/* to run as */
    char   *pid_file;
    char   *log_level;			/* debug, info, warning, error */
    long    max_event_size;		/* bytes of an event mail */
    long    digest_max_size;		/* bytes of a digest's text */
    long    outbox_workers;		/* parallel senders back to Postfix */
    long    event_retention;		/* days an accepted event is kept */
    long    outbox_max_age;		/* days a deferred notification is retried */
    STRV    submit_networks;		/* policy: who may submit events */
    STRV    submit_sasl_users;
    STRV    submit_senders;
    STRV    submit_local_users;		/* logins that may submit by sendmail */
    long    submit_rate_limit;		/* events per minute per submitter; 0: none */
    long    submit_rate_limit_ipv6_prefix;	/* an IPv6 client is its /N */
    char   *crier_domain;		/* a domain crier owns whole, or "" */
    char   *recipient_delimiter;	/* Postfix's, for address extensions */
    long    bounce_limit;		/* hard bounces in a row before crier stops */
    long    bounce_window;		/* days; a later bounce starts a new count */
    char   *web_listen;			/* the panel's socket (libmilter syntax), or "" */
    char   *web_base_url;		/* the panel's public URL, ending in '/', or "" */
} CONF;

#define CONF_DEFAULT_FILE	CRIER_CONFDIR "/crier.conf"

void    conf_defaults(CONF *cf);
int     conf_load(CONF *cf, const char *path, int must_exist, STRBUF *why);
int     conf_check(const CONF *cf, STRBUF *why);
void    conf_set(char **slot, const char *value);
void    conf_free(CONF *cf);
int     conf_socket_ok(const char *name, const char *spec, const char *hint, STRBUF *why);

#endif
