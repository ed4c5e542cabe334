/*
 * token.c - signed self-service tokens and bounce ids (see token.h).
 *
 * Layout: v1.ACTION.USER.NOTIF.ISSUED.MAC, where USER and NOTIF are
 * base64url, ISSUED is decimal seconds and MAC the first 16 bytes of
 * HMAC-SHA-256 over every other field, base64url. A bounce id,
 * b1.ID.MAC, is signed with the same key and HMAC. MAC comparisons are
 * constant-time.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "strutil.h"
#include "token.h"

#define TOKEN_MAC_LEN	16
#define TOKEN_BOUNCE_MAC	10		/* bytes; 20 hex digits */

/*
 * token_key_load - the key file: at least TOKEN_KEY_MIN bytes, used as
 * they are, readable by its owner only (a key others can read signs
 * anybody's mute).
 */
int     token_key_load(const char *path, TOKEN_KEY *key, STRBUF *why)
{
    struct stat st;
    ssize_t n;
    int     fd;

    if (sodium_init() < 0) {
	sb_puts(why, "libsodium cannot initialise");
	return (-1);
    }
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW)) < 0 || fstat(fd, &st) < 0) {
	sb_printf(why, "token_key_file %s: %s (create one with: head -c 32 /dev/urandom >%s; "
		  "chmod 600 %s)", path, strerror(errno), path, path);
	if (fd >= 0)
	    close(fd);
	return (-1);
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
	sb_printf(why, "token_key_file %s: group or others can read it: chmod 600 %s", path, path);
	close(fd);
	return (-1);
    }
    n = read(fd, key->bytes, sizeof(key->bytes));
    close(fd);
    if (n < TOKEN_KEY_MIN) {
	sb_printf(why, "token_key_file %s: holds %zd bytes, needs at least %d random bytes",
		  path, n < 0 ? (ssize_t) 0 : n, TOKEN_KEY_MIN);
	return (-1);
    }
    key->len = (size_t) n;
    return (0);
}

static void b64(STRBUF *out, const void *data, size_t len)
{
    size_t  cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char   *buf = xmalloc(cap);

    sodium_bin2base64(buf, cap, data, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sb_puts(out, buf);
    free(buf);
}

static int unb64(STRBUF *out, const char *s, size_t len)
{
    unsigned char *buf = xmalloc(len + 1);
    size_t  n;
    int     rc;

    rc = sodium_base642bin(buf, len + 1, s, len, NULL, &n, NULL,
			   sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (rc == 0)
	sb_putn(out, buf, n);
    free(buf);
    return (rc);
}

/* token_mac - the MAC of the signed part, "v1.A.USER.NOTIF.ISSUED" */
static void token_mac(const TOKEN_KEY *key, const char *signed_part, size_t len,
		              unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
    crypto_auth_hmacsha256_state st;

    crypto_auth_hmacsha256_init(&st, key->bytes, key->len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *) signed_part, len);
    crypto_auth_hmacsha256_final(&st, mac);
}

void    token_make(const TOKEN_KEY *key, int action, const char *user, const char *notif,
		           time_t issued, STRBUF *out)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    size_t  start = out->len;

    sb_printf(out, "v1.%c.", action);
    b64(out, user, strlen(user));
    sb_putc(out, '.');
    b64(out, notif, strlen(notif));
    sb_printf(out, ".%lld.", (long long) issued);
    token_mac(key, out->s + start, out->len - start - 1, mac);
    b64(out, mac, TOKEN_MAC_LEN);
}

/* token_split - the six dot-separated fields, or -1 */
static int token_split(const char *token, const char *f[6], size_t flen[6])
{
    const char *p = token, *dot;
    int     i;

    for (i = 0; i < 6; i++) {
	dot = strchr(p, '.');
	if ((dot == NULL) != (i == 5))
	    return (-1);
	f[i] = p;
	flen[i] = dot ? (size_t) (dot - p) : strlen(p);
	p = dot ? dot + 1 : p;
    }
    return (0);
}

int     token_check(const TOKEN_KEY *key, const char *token, int *action, STRBUF *user,
		            STRBUF *notif, time_t *issued, STRBUF *why)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    STRBUF  given = STRBUF_INIT;
    const char *f[6];
    size_t  flen[6];
    int     ok;

    if (strlen(token) > 1024 || token_split(token, f, flen) < 0 || strncmp(f[0], "v1", 2) != 0
	|| flen[0] != 2 || flen[1] != 1) {
	sb_puts(why, "not a crier token");
	return (-1);
    }
    token_mac(key, token, (size_t) (f[5] - token - 1), mac);
    ok = unb64(&given, f[5], flen[5]) == 0 && given.len == TOKEN_MAC_LEN
	&& sodium_memcmp(given.s, mac, TOKEN_MAC_LEN) == 0;
    sb_free(&given);
    if (!ok) {
	sb_puts(why, "the token's signature does not match");
	return (-1);
    }
    sb_reset(user);
    sb_reset(notif);
    if (unb64(user, f[2], flen[2]) < 0 || unb64(notif, f[3], flen[3]) < 0) {
	sb_puts(why, "the token is damaged");
	return (-1);
    }
    *action = f[1][0];
    *issued = (time_t) strtoll(f[4], NULL, 10);
    return (0);
}

/* bounce_mac - the MAC of "b1.ID." followed by the lower-cased recipient */
static void bounce_mac(const TOKEN_KEY *key, uint64_t id, const char *rcpt,
		               unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
    STRBUF  sb = STRBUF_INIT;
    size_t  at;

    sb_printf(&sb, "b1.%llu.", (unsigned long long) id);
    at = sb.len;
    sb_puts(&sb, rcpt);
    str_lower(sb.s + at);
    token_mac(key, sb.s, sb.len, mac);
    sb_free(&sb);
}

/* token_bounce_make - the bounce id of outbox entry id, sent to rcpt */
void    token_bounce_make(const TOKEN_KEY *key, uint64_t id, const char *rcpt, STRBUF *out)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char    hex[2 * TOKEN_BOUNCE_MAC + 1];

    bounce_mac(key, id, rcpt, mac);
    sodium_bin2hex(hex, sizeof(hex), mac, TOKEN_BOUNCE_MAC);
    sb_printf(out, "b1.%llu.%s", (unsigned long long) id, hex);
}

/* token_bounce_id - the id a bounce id names (not yet checked), or -1 */
int     token_bounce_id(const char *token, uint64_t *id)
{
    size_t  n;

    if (str_ncasecmp(token, "b1.", 3) != 0 || strlen(token) > TOKEN_BOUNCE_MAX)
	return (-1);
    token += 3;
    if ((n = strspn(token, "0123456789")) == 0 || n > 19 || token[n] != '.'
	|| strlen(token + n + 1) != 2 * TOKEN_BOUNCE_MAC
	|| strspn(token + n + 1, "0123456789abcdefABCDEF") != 2 * TOKEN_BOUNCE_MAC)
	return (-1);
    *id = strtoull(token, NULL, 10);
    return (*id ? 0 : -1);
}

/* token_bounce_check - 0 when the id was signed for rcpt, else -1 */
int     token_bounce_check(const TOKEN_KEY *key, const char *token, const char *rcpt)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES], given[TOKEN_BOUNCE_MAC];
    uint64_t id;
    size_t  n;

    if (token_bounce_id(token, &id) < 0
	|| sodium_hex2bin(given, sizeof(given), strrchr(token, '.') + 1, 2 * TOKEN_BOUNCE_MAC,
			  NULL, &n, NULL) != 0 || n != TOKEN_BOUNCE_MAC)
	return (-1);
    bounce_mac(key, id, rcpt, mac);
    return (sodium_memcmp(given, mac, TOKEN_BOUNCE_MAC) == 0 ? 0 : -1);
}
