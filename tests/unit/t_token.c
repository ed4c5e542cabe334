/*
 * t_token.c - signed tokens: a token checks under its key and no other;
 * any change to any part is refused; the key file's rules hold.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "token.h"

static void fill(TOKEN_KEY *k, unsigned char seed)
{
    size_t  i;

    k->len = 32;
    for (i = 0; i < k->len; i++)
	k->bytes[i] = (unsigned char) (seed + i * 7);
}

static void roundtrip(void)
{
    TOKEN_KEY k, other;
    STRBUF  tok = STRBUF_INIT, user = STRBUF_INIT, notif = STRBUF_INIT, why = STRBUF_INIT;
    time_t  issued;
    int     action;
    size_t  i;

    fill(&k, 1);
    fill(&other, 2);
    token_make(&k, TOKEN_MUTE, "ana@juicepost.example", "content_partner/qc", 1796000000, &tok);
    CHECK(strspn(tok.s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
	  == tok.len, "token has characters unsafe in a mailto: link: %s", tok.s);
    CHECK(token_check(&k, tok.s, &action, &user, &notif, &issued, &why) == 0, "%s", why.s);
    CHECK(action == TOKEN_MUTE && issued == 1796000000, "fields");
    CHECK(strcmp(sb_str(&user), "ana@juicepost.example") == 0, "user %s", sb_str(&user));
    CHECK(strcmp(sb_str(&notif), "content_partner/qc") == 0, "notif %s", sb_str(&notif));
    CHECK(token_check(&other, tok.s, &action, &user, &notif, &issued, &why) < 0, "other key");
    for (i = 0; i < tok.len; i++) {	/* every single-character change is caught */
	char   *t = strdup(tok.s);

	t[i] = t[i] == 'A' ? 'B' : 'A';
	CHECK(token_check(&k, t, &action, &user, &notif, &issued, &why) < 0,
	      "altered at %zu accepted: %s", i, t);
	free(t);
    }
    tok.s[3] = TOKEN_DIGEST;		/* a mute token is no digest token */
    CHECK(token_check(&k, tok.s, &action, &user, &notif, &issued, &why) < 0, "kind changed");
    sb_reset(&tok);
    token_make(&k, TOKEN_DIGEST, "ana@juicepost.example", "daily", 1796000000, &tok);
    CHECK(token_check(&k, tok.s, &action, &user, &notif, &issued, &why) == 0
	  && action == TOKEN_DIGEST && strcmp(sb_str(&notif), "daily") == 0, "digest token");
    CHECK(token_check(&k, "v1.m.x.y", &action, &user, &notif, &issued, &why) < 0, "short");
    CHECK(token_check(&k, "", &action, &user, &notif, &issued, &why) < 0, "empty");
    sb_free(&tok), sb_free(&user), sb_free(&notif), sb_free(&why);
}

static void key_file(void)
{
    char    path[] = "/tmp/t_token.XXXXXX";
    int     fd = mkstemp(path);
    TOKEN_KEY k;
    STRBUF  why = STRBUF_INIT;

    CHECK(fd >= 0, "mkstemp");
    CHECK(write(fd, "0123456789abcdef0123456789abcde", 31) == 31, "write");
    fchmod(fd, 0600);
    CHECK(token_key_load(path, &k, &why) < 0 && strstr(why.s, "at least 32"), "short key");
    CHECK(write(fd, "f", 1) == 1, "write");
    sb_reset(&why);
    CHECK(token_key_load(path, &k, &why) == 0 && k.len == 32, "%s", sb_str(&why));
    fchmod(fd, 0640);
    sb_reset(&why);
    CHECK(token_key_load(path, &k, &why) < 0 && strstr(why.s, "chmod 600"), "group-readable");
    close(fd);
    unlink(path);
    sb_reset(&why);
    CHECK(token_key_load(path, &k, &why) < 0 && strstr(why.s, "head -c 32"), "missing");
    sb_free(&why);
}

/*
 * bounce_ids - a bounce id checks for its recipient (any case: mail
 * systems may fold local parts) under its key, and for no other
 * recipient, key, or altered character
 */
static void bounce_ids(void)
{
    TOKEN_KEY k, other;
    STRBUF  tok = STRBUF_INIT;
    uint64_t id = 0;
    size_t  i;

    fill(&k, 1);
    fill(&other, 2);
    token_bounce_make(&k, 4242, "Ana@JuicePost.example", &tok);
    CHECK(strncmp(tok.s, "b1.4242.", 8) == 0 && tok.len == 28, "layout: %s", tok.s);
    CHECK(token_bounce_id(tok.s, &id) == 0 && id == 4242, "id %llu", (unsigned long long) id);
    CHECK(token_bounce_check(&k, tok.s, "ana@juicepost.example") == 0, "recipient's case");
    for (i = 8; i < tok.len; i++)
	tok.s[i] = (char) toupper((unsigned char) tok.s[i]);
    CHECK(token_bounce_check(&k, tok.s, "ana@juicepost.example") == 0, "upper-case id");
    CHECK(token_bounce_check(&k, tok.s, "bob@juicepost.example") < 0, "other recipient");
    CHECK(token_bounce_check(&other, tok.s, "ana@juicepost.example") < 0, "other key");
    for (i = 0; i < tok.len; i++) {
	char   *t = strdup(tok.s);

	t[i] = t[i] == '1' ? '2' : '1';
	CHECK(token_bounce_check(&k, t, "ana@juicepost.example") < 0, "altered at %zu: %s", i, t);
	free(t);
    }
    CHECK(token_bounce_id("b1.0.00112233445566778899", &id) < 0, "id 0");
    CHECK(token_bounce_id("b1.12.0011223344556677889", &id) < 0, "short MAC");
    CHECK(token_bounce_id("b1.12.0011223344556677889g", &id) < 0, "not hex");
    CHECK(token_bounce_id("hello", &id) < 0 && token_bounce_id("b1..", &id) < 0, "junk");
    sb_free(&tok);
}

int     main(void)
{
    roundtrip();
    key_file();
    bounce_ids();
    return (tap_done("t_token"));
}
