/*
 * throttle.c - the rate limit of event submitters: a token bucket each.
 *
 * A submitter (a SASL login, or else a client address: throttle_client_key,
 * an IPv6 client's by its prefix) has a bucket that holds at most
 * per_minute tokens and refills at per_minute a minute; each event takes
 * one, and an empty bucket means "slow down" (4.7.1). A new
 * submitter starts full, so a burst up to the limit passes at once. Time
 * is given by the caller (seconds on a monotonic clock), which keeps this
 * module pure and lets unit tests step time.
 *
 * Buckets that have refilled to full are the same as no bucket, so they
 * are dropped now and then: memory follows the submitters of the last
 * minute, not all submitters ever seen.
 */
#include "config.h"

#include <arpa/inet.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "policy.h"

#define THROTTLE_SWEEP_SIZE	1024	/* sweep when the table is this big */
#define THROTTLE_SWEEP_EVERY	60.0	/* ... and this many seconds passed */

typedef struct bucket {
    double  tokens;
    double  when;			/* of the last refill */
    long    per_minute;			/* the limit it was filled for */
} BUCKET;

struct throttle {
    GHashTable *buckets;		/* key (owned) -> BUCKET (owned) */
    double  swept;
};

THROTTLE *throttle_create(void)
{
    THROTTLE *t = xcalloc(1, sizeof(THROTTLE));

    t->buckets = g_hash_table_new_full(g_str_hash, g_str_equal, free, free);
    return (t);
}

void    throttle_free(THROTTLE *t)
{
    if (t == NULL)
	return;
    g_hash_table_destroy(t->buckets);
    free(t);
}

size_t  throttle_size(const THROTTLE *t)
{
    return (g_hash_table_size(t->buckets));
}

/* refill - the tokens earned since the last look, never above the limit */
static void refill(BUCKET *b, long per_minute, double now)
{
    if (now > b->when)
	b->tokens += (now - b->when) * (double) per_minute / 60.0;
    if (b->tokens > (double) per_minute)
	b->tokens = (double) per_minute;
    b->when = now > b->when ? now : b->when;
    b->per_minute = per_minute;
}

static gboolean bucket_full(gpointer key, gpointer value, gpointer now)
{
    BUCKET *b = value;

    (void) key;
    refill(b, b->per_minute, *(double *) now);
    return (b->tokens >= (double) b->per_minute);
}

/*
 * throttle_take - one token from key's bucket: 1 when there was one, 0
 * when the submitter is over the limit. per_minute 0 means no limit.
 */
int     throttle_take(THROTTLE *t, const char *key, long per_minute, double now)
{
    BUCKET *b;

    if (per_minute <= 0)
	return (1);
    if (g_hash_table_size(t->buckets) >= THROTTLE_SWEEP_SIZE
	&& now - t->swept >= THROTTLE_SWEEP_EVERY) {
	g_hash_table_foreach_remove(t->buckets, bucket_full, &now);
	t->swept = now;
    }
    if ((b = g_hash_table_lookup(t->buckets, key)) == NULL) {
	b = xcalloc(1, sizeof(BUCKET));
	b->tokens = (double) per_minute;
	b->when = now;
	g_hash_table_insert(t->buckets, xstrdup(key), b);
    }
    refill(b, per_minute, now);
    if (b->tokens < 1.0)
	return (0);
    b->tokens -= 1.0;
    return (1);
}

/*
 * throttle_client_key - the bucket of a client address: an IPv4 address
 * alone (IPv4-mapped IPv6 too), an IPv6 address by its first v6prefix
 * bits, so that a client cannot escape a limit by rotating through the
 * addresses of its own /64; anything else as it is. The policy service's
 * submit_rate_limit and the panel's sign-in limit both count so.
 */
void    throttle_client_key(const char *client, int v6prefix, STRBUF *key)
{
    char    text[INET6_ADDRSTRLEN];
    struct in6_addr a6;
    struct in_addr a4;
    int     i, bits;

    if (client == NULL)
	client = "";
    if (inet_pton(AF_INET, client, &a4) == 1) {
	sb_printf(key, "addr:%s", inet_ntop(AF_INET, &a4, text, sizeof(text)));
	return;
    }
    if (inet_pton(AF_INET6, client, &a6) != 1) {
	sb_printf(key, "addr:%s", client);
	return;
    }
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
	memcpy(&a4, a6.s6_addr + 12, 4);
	sb_printf(key, "addr:%s", inet_ntop(AF_INET, &a4, text, sizeof(text)));
	return;
    }
    for (i = 0; i < 16; i++) {
	bits = v6prefix - 8 * i;
	a6.s6_addr[i] &= bits >= 8 ? 0xff : bits <= 0 ? 0 : (0xff << (8 - bits)) & 0xff;
    }
    sb_printf(key, "addr:%s/%d", inet_ntop(AF_INET6, &a6, text, sizeof(text)), v6prefix);
}
