/*
 * t_token.c - signed tokens: a token checks under its key and no other;
 * any change to any part is refused; the key file's rules hold.
 */
#include "config.h"

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

int     main(void)
{
    roundtrip();
    key_file();
    return (tap_done("t_token"));
}
