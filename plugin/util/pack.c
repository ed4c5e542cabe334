/*
 * pack.c - the byte layout of records kept in LMDB (see pack.h).
 */
#include "config.h"

#include <string.h>

#include "pack.h"

void    pack_u64(STRBUF *sb, uint64_t v)
{
    unsigned char buf[10];
    size_t  n = 0;

    do {
	buf[n] = v & 0x7f;
	v >>= 7;
	if (v)
	    buf[n] |= 0x80;
	n++;
    } while (v);
    sb_putn(sb, buf, n);
}

void    pack_str(STRBUF *sb, const char *s)
{
    size_t  len = strlen(s);

    pack_u64(sb, len);
    sb_putn(sb, s, len + 1);
}

void    unpack_init(UNPACK *u, const void *data, size_t len)
{
    u->p = data;
    u->end = u->p + len;
    u->bad = 0;
}

uint64_t unpack_u64(UNPACK *u)
{
    uint64_t v = 0;
    int     shift = 0;

    while (!u->bad) {
	if (u->p >= u->end || shift > 63) {
	    u->bad = 1;
	    break;
	}
	v |= (uint64_t) (*u->p & 0x7f) << shift;
	shift += 7;
	if ((*u->p++ & 0x80) == 0)
	    return (v);
    }
    return (0);
}

/* unpack_str - a string in place; "" (and the bad flag) when damaged */
const char *unpack_str(UNPACK *u)
{
    uint64_t len = unpack_u64(u);
    const char *s;

    if (u->bad || len >= (uint64_t) (u->end - u->p) || u->p[len] != 0) {
	u->bad = 1;
	return ("");
    }
    s = (const char *) u->p;
    u->p += len + 1;
    return (s);
}

void    unpack_skip_strs(UNPACK *u, uint64_t n)
{
    while (n-- > 0 && !u->bad)
	(void) unpack_str(u);
}
