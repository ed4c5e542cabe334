/*
 * t_dirwatch.c - the directory watch the panel uses to skip stamping the
 * catalog: in a scratch tree, every kind of change a reader must see
 * moves the epoch (a file written, touched, added, removed or renamed, a
 * new directory and a file in it, the tree renamed away and back), a
 * change under the skipped directory does not, and the watch says "I
 * cannot tell" (0) with the tree gone, a symbolic link in the tree or
 * more directories than it watches.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirwatch.h"
#include "strbuf.h"
#include "tap.h"

static char top[64];			/* the scratch directory */
static char tree[96];			/* top/rules.d, the watched tree */
static char users[128];			/* tree/users */

/* at - tree/rel, in one of two buffers (rename takes two) */
static const char *at(const char *rel)
{
    static char path[2][256];
    static int which;

    which = !which;
    snprintf(path[which], sizeof(path[which]), "%s/%s", tree, rel);
    return (path[which]);
}

static void put(const char *rel, const char *text)
{
    FILE   *fp = fopen(at(rel), "a");

    if (fp == NULL || fputs(text, fp) < 0 || fclose(fp) != 0)
	fprintf(stderr, "cannot write %s\n", at(rel)), exit(2);
}

/* moved - what happened moved the epoch (and it is not 0) */
static int moved(DIRWATCH *w, unsigned long *last)
{
    unsigned long now = dirwatch_epoch(w);
    int     m = now != 0 && now != *last;

    *last = now;
    return (m);
}

/* changes - each change a reader must see; the watch, opened anew once */
static DIRWATCH *changes(DIRWATCH *w)
{
    unsigned long e = dirwatch_epoch(w);
    char    away[128];

    CHECK(e != 0, "a plain tree can be watched");
    CHECK(dirwatch_epoch(w) == e, "nothing happened, the same epoch");
    put("10-types.conf", "x = 1;\n");
    CHECK(moved(w, &e), "a file written");
    CHECK(dirwatch_epoch(w) == e, "read once, the event is spent");
    CHECK(utimensat(AT_FDCWD, at("10-types.conf"), NULL, 0) == 0 && moved(w, &e), "touched");
    put("30-new.conf", "");
    CHECK(moved(w, &e), "a file added");
    CHECK(rename(at("30-new.conf"), at("31-new.conf")) == 0 && moved(w, &e), "renamed");
    CHECK(unlink(at("31-new.conf")) == 0 && moved(w, &e), "removed");
    CHECK(mkdir(at("sub"), 0755) == 0 && moved(w, &e), "a directory added");
    put("sub/a.conf", "y = 2;\n");
    CHECK(moved(w, &e), "a file written in the new directory");
    put("users/ana.conf", "z = 3;\n");
    CHECK(moved(w, &e), "a person's file");
    CHECK(mkdir(at("users/x"), 0755) == 0 && moved(w, &e), "a directory in users/");
    put("users/x/bo.conf", "z = 4;\n");
    CHECK(moved(w, &e), "a file in it");
    fclose(fopen(at("users/x/bo.conf"), "r"));
    CHECK(dirwatch_epoch(w) == e, "a file read: the same epoch");
    CHECK(symlink("../ana.conf", at("users/x/cy.conf")) == 0 && dirwatch_epoch(w) == 0,
	  "a symbolic link made: cannot tell");
    CHECK(unlink(at("users/x/cy.conf")) == 0, "unlink");
    dirwatch_close(w);
    w = dirwatch_open(tree, 16);
    e = dirwatch_epoch(w);
    snprintf(away, sizeof(away), "%s/away", top);
    CHECK(rename(tree, away) == 0 && dirwatch_epoch(w) == 0, "the tree renamed away: "
	  "cannot tell");
    CHECK(rename(away, tree) == 0 && dirwatch_epoch(w) == 0, "back: blind until it tries "
	  "again, seconds later");
    return (w);
}

static void blind(DIRWATCH *w)
{
    STRBUF  dir = STRBUF_INIT;
    unsigned long e;
    int     i;

    CHECK(symlink("10-types.conf", at("sub/link.conf")) == 0, "symlink");
    dirwatch_close(w);
    w = dirwatch_open(tree, 16);
    CHECK(dirwatch_epoch(w) == 0, "a symbolic link in the tree: cannot tell");
    CHECK(unlink(at("sub/link.conf")) == 0, "unlink");
    dirwatch_close(w);
    w = dirwatch_open(tree, 16);
    CHECK((e = dirwatch_epoch(w)) != 0, "without the link, watched again");
    for (i = 0; i < 1100; i++) {
	sb_reset(&dir);
	sb_printf(&dir, "many%04d", i);
	mkdir(at(dir.s), 0755);
    }
    dirwatch_close(w);
    w = dirwatch_open(tree, 16);
    CHECK(dirwatch_epoch(w) == 0, "more directories than it watches: cannot tell");
    dirwatch_close(w);
    sb_free(&dir);
}

int     main(void)
{
    DIRWATCH *w;
    STRBUF  cmd = STRBUF_INIT;

    snprintf(top, sizeof(top), "/tmp/t_dirwatch.XXXXXX");
    if (mkdtemp(top) == NULL)
	return (2);
    snprintf(tree, sizeof(tree), "%s/rules.d", top);
    snprintf(users, sizeof(users), "%s/users", tree);
    if (mkdir(tree, 0755) < 0 || mkdir(users, 0755) < 0)
	return (2);
    put("10-types.conf", "");
    w = dirwatch_open(tree, 16);
    w = changes(w);
    blind(w);
    CHECK(dirwatch_epoch(NULL) == 0, "no watch: cannot tell");
    sb_printf(&cmd, "rm -rf '%s'", top);
    CHECK(system(cmd.s) == 0, "clean up %s", top);
    sb_free(&cmd);
    return (tap_done("t_dirwatch"));
}
