/*
 * conf.h - crier.conf, the main configuration (libconfig syntax).
 *
 * One table holds every key with its type and default (conf.c); an unknown
 * key or a wrong type is an error with file and line. crierd and crierctl
 * read the same file.
 */
#ifndef CRIER_CONF_H
#define CRIER_CONF_H

#include "strbuf.h"

typedef struct conf {
    char   *rules_dir;			/* rules.d */
    char   *state_dir;			/* LMDB files */
    char   *default_timezone;		/* for users without one */
} CONF;

#define CONF_DEFAULT_FILE	CRIER_CONFDIR "/crier.conf"

void    conf_defaults(CONF *cf);
int     conf_load(CONF *cf, const char *path, int must_exist, STRBUF *why);
void    conf_set(char **slot, const char *value);
void    conf_free(CONF *cf);

#endif
