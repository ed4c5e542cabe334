/*
 * mail.h - reading a whole message with GMime: the one place crier parses
 * RFC 5322 and MIME, for event mail, mail to the request address and
 * bounces; and a header of a message crier wrote, read without GMime.
 */
#ifndef CRIER_MAIL_H
#define CRIER_MAIL_H

#include <gmime/gmime.h>
#include <stddef.h>

#include "strbuf.h"

GMimeMessage *mail_parse(const char *msg, size_t len);
char   *mail_first_text(GMimeMessage *m);
void    mail_header_value(const char *msg, size_t len, const char *name, STRBUF *out);

#endif
