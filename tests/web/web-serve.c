/*
 * web-serve.c - the notification settings panel without crierd's
 * supervisor, for the tests: web_main() on a crier.conf.
 *
 *   web-serve -c CONF [-r RULES_DIR] [-s STATE_DIR]
 *	serve the panel on CONF's web_listen until SIGTERM; links in mail
 *	point at its web_base_url. Nothing sends the outbox here.
 *   web-serve -c CONF -T ACTION USER NOTIF [ISSUED]
 *	print a token signed with the configured token_key_file: s (sign
 *	in), p (manage), m (mute), u (unmute); ISSUED in seconds since the
 *	epoch, default now. The tests mint old and odd tokens with it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "log.h"
#include "token.h"
#include "web.h"

static int usage(void)
{
    fprintf(stderr, "usage: web-serve -c CONF [-r RULES] [-s STATE]\n"
	    "       web-serve -c CONF -T ACTION USER NOTIF [ISSUED]\n");
    return (2);
}

/* mint - print a token of the configured key */
static int mint(const CONF *cf, char **argv, int argc)
{
    STRBUF  why = STRBUF_INIT, tok = STRBUF_INIT;
    TOKEN_KEY key;

    if (argc < 3 || argc > 4 || strlen(argv[0]) != 1)
	return (usage());
    if (token_key_load(cf->token_key_file, &key, &why) < 0) {
	fprintf(stderr, "web-serve: %s\n", why.s);
	return (1);
    }
    token_make(&key, argv[0][0], argv[1], argv[2],
	       argc == 4 ? (time_t) strtoll(argv[3], NULL, 10) : clock_now(), &tok);
    printf("%s\n", tok.s);
    sb_free(&tok);
    return (0);
}

int     main(int argc, char **argv)
{
    STRBUF  why = STRBUF_INIT;
    WEB_OPTS opts = {NULL, NULL, -1, 0};
    const char *cfile = NULL, *rdir = NULL, *sdir = NULL;
    CONF    cf;
    int     c, rc, token = 0;

    while ((c = getopt(argc, argv, "c:r:s:T")) != -1) {
	if (c == 'c')
	    cfile = optarg;
	else if (c == 'r')
	    rdir = optarg;
	else if (c == 's')
	    sdir = optarg;
	else if (c == 'T')
	    token = 1;
	else
	    return (usage());
    }
    conf_defaults(&cf);
    if (cfile == NULL || conf_load(&cf, cfile, 1, &why) < 0 || clock_init(&why) < 0) {
	fprintf(stderr, "web-serve: %s\n", why.len ? why.s : "-c CONF is required");
	return (1);
    }
    if (rdir)
	conf_set(&cf.rules_dir, rdir);
    if (sdir)
	conf_set(&cf.state_dir, sdir);
    if (token)
	rc = mint(&cf, argv + optind, argc - optind);
    else if (argc != optind)
	rc = usage();
    else if (conf_check(&cf, &why) < 0 || *cf.web_listen == 0) {
	fprintf(stderr, "web-serve: %s\n", why.len ? why.s : "CONF has no web_listen");
	rc = 1;
    } else {
	log_init("web-serve", 1);
	rc = web_main(&cf, &opts);
    }
    conf_free(&cf);
    sb_free(&why);
    return (rc);
}
