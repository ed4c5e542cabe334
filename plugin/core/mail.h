/*
 * mail.h - reading a whole message with GMime: the one place crier parses
 * RFC 5322 and MIME, for event mail and for mail to the request address.
 */
#ifndef CRIER_MAIL_H
#define CRIER_MAIL_H

#include <gmime/gmime.h>
#include <stddef.h>

GMimeMessage *mail_parse(const char *msg, size_t len);
char   *mail_first_text(GMimeMessage *m);

#endif
