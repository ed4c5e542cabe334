/*
 * pack.h - the byte layout of records kept in LMDB.
 *
 * A record is a sequence of unsigned integers (LEB128 varints) and strings
 * (varint length, bytes, NUL). Strings keep their NUL in the record so that a
 * reader can use them in place, inside the read transaction, without a copy.
 * The reader checks every length against the record's end: a damaged record
 * sets a flag instead of reading out of bounds.
 */
#ifndef CRIER_PACK_H
#define CRIER_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

typedef struct unpack {
    const unsigned char *p;		/* next byte to read */
    const unsigned char *end;		/* one past the record */
    int     bad;			/* set once the record is found damaged */
} UNPACK;

void    pack_u64(STRBUF *sb, uint64_t v);
void    pack_str(STRBUF *sb, const char *s);

void    unpack_init(UNPACK *u, const void *data, size_t len);
uint64_t unpack_u64(UNPACK *u);
const char *unpack_str(UNPACK *u);
void    unpack_skip_strs(UNPACK *u, uint64_t n);

#endif
