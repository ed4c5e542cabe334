/*
 * listen.h - a listening socket named in libmilter's syntax.
 *
 * crierd's policy service and the web panel take their sockets as
 * unix:/path (or local:/path), inet:PORT@ADDR or inet6:PORT@ADDR, like
 * the milter socket libmilter binds itself. listen_open() binds and
 * listens, for the caller to do while it may still bind anything (as
 * root, before privileges go); what it serves is none of its business.
 * A socket file left by a killed process is replaced, one that somebody
 * still answers on is not; the socket file's group and mode are those the
 * caller set up for the bind (effective group, umask). Errors name the
 * configuration key they are about (what), like crier.conf's others.
 */
#ifndef CRIER_LISTEN_H
#define CRIER_LISTEN_H

#include "strbuf.h"

int     listen_open(const char *spec, const char *what, STRBUF *why);
const char *listen_path(const char *spec);
void    listen_unlink(const char *spec);

#endif
