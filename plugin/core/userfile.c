/*
 * userfile.c - a user's file in rules.d/users/, written the one way.
 *
 * crierctl and crierd's self-service rewrite a user's file whole, in a
 * canonical layout: the comment lines at the top of the old file, then
 * the user block, the custom notifications in name order (conditions in
 * filter order, values sorted), and the muted defaults in order. The same
 * settings always give the same bytes, so a change is a small git diff.
 * Comments below the top of the file are not kept (crier-rules(5) says so).
 *
 * The new file replaces the old atomically: written to a temporary file in
 * the same directory, flushed to disk, renamed over, and the directory
 * flushed too, so a crash leaves the old file or the new one, never half.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "change.h"
#include "mem.h"

/* quoted - a libconfig string literal */
static void quoted(STRBUF *out, const char *s)
{
    sb_putc(out, '"');
    for (; *s; s++) {
	if (*s == '"' || *s == '\\')
	    sb_printf(out, "\\%c", *s);
	else if (*s == '\n')
	    sb_puts(out, "\\n");
	else if (*s == '\t')
	    sb_puts(out, "\\t");
	else if ((unsigned char) *s < 0x20 || *s == 0x7f)
	    sb_printf(out, "\\x%02x", (unsigned char) *s);
	else
	    sb_putc(out, *s);
    }
    sb_putc(out, '"');
}

static int str_ptr_cmp(const void *a, const void *b)
{
    return (strcmp(*(char *const *) a, *(char *const *) b));
}

/* string_array - [ "a", "b" ], sorted when asked */
static void string_array(STRBUF *out, const STRV *sv, int sort)
{
    char  **v = xcalloc(sv->len + 1, sizeof(char *));
    size_t  i;

    memcpy(v, sv->v, sv->len * sizeof(char *));
    if (sort)
	xsort(v, sv->len, sizeof(char *), str_ptr_cmp);
    sb_puts(out, "[ ");
    for (i = 0; i < sv->len; i++) {
	if (i)
	    sb_puts(out, ", ");
	quoted(out, v[i]);
    }
    sb_puts(out, sv->len ? " ]" : "]");
    free(v);
}

static int cond_cmp(const void *a, const void *b)
{
    return (strcmp((*(const COND *const *) a)->filter, (*(const COND *const *) b)->filter));
}

static int notif_cmp(const void *a, const void *b)
{
    return (strcmp((*(const NOTIF *const *) a)->name, (*(const NOTIF *const *) b)->name));
}

/* notif_format - one custom notification, indented in the custom group */
static void notif_format(const NOTIF *n, STRBUF *out)
{
    const COND **c = xcalloc(n->nconds + 1, sizeof(COND *));
    size_t  i;

    for (i = 0; i < n->nconds; i++)
	c[i] = &n->conds[i];
    xsort(c, n->nconds, sizeof(COND *), cond_cmp);
    sb_printf(out, "  %s = {\n    event = ", n->name);
    quoted(out, n->event);
    sb_puts(out, ";\n    where = {\n");
    for (i = 0; i < n->nconds; i++) {
	sb_printf(out, "      %s = ", c[i]->filter);
	string_array(out, &c[i]->values, 1);
	sb_puts(out, ";\n");
    }
    sb_puts(out, "    };\n    frequency = ");
    quoted(out, n->frequency);
    sb_puts(out, n->muted ? ";\n    muted = true;\n  };\n" : ";\n  };\n");
    free(c);
}

/* userfile_format - the canonical text of a user's file */
void    userfile_format(const USER *u, const char *header, STRBUF *out)
{
    const NOTIF **n = xcalloc(u->ncustom + 1, sizeof(NOTIF *));
    size_t  i;

    if (header && *header)
	sb_printf(out, "%s\n", header);
    sb_puts(out, "user = {\n  address = ");
    quoted(out, u->address);
    sb_puts(out, ";\n  profile = ");
    quoted(out, u->profile);
    sb_puts(out, ";\n  partners = ");
    string_array(out, &u->partners, 0);
    if (u->timezone) {
	sb_puts(out, ";\n  timezone = ");
	quoted(out, u->timezone);
    }
    sb_puts(out, ";\n};\n");
    for (i = 0; i < u->ncustom; i++)
	n[i] = &u->custom[i];
    xsort(n, u->ncustom, sizeof(NOTIF *), notif_cmp);
    for (i = 0; i < u->ncustom; i++) {
	sb_puts(out, i ? "\n" : "\ncustom = {\n");
	notif_format(n[i], out);
    }
    if (u->ncustom)
	sb_puts(out, "};\n");
    if (u->muted.len) {
	sb_puts(out, "\nmuted = ");
	string_array(out, &u->muted, 1);
	sb_puts(out, ";\n");
    }
    free(n);
}

/*
 * userfile_header - the comment lines (#, //) and blank lines at the top
 * of a file, without the blank lines that end them; empty for no file.
 */
int     userfile_header(const char *path, STRBUF *header, STRBUF *why)
{
    STRBUF  text = STRBUF_INIT;
    const char *p, *nl;
    size_t  keep = 0;

    if (sb_read_file(&text, path, 1 << 24) < 0) {
	if (errno == ENOENT)
	    return (0);
	sb_printf(why, "cannot read %s: %s", path, strerror(errno));
	return (-1);
    }
    for (p = sb_str(&text); *p; p = nl + 1) {
	size_t  skip = strspn(p, " \t");

	if (p[skip] != '#' && strncmp(p + skip, "//", 2) != 0 && p[skip] != '\n')
	    break;
	if ((nl = strchr(p, '\n')) == NULL)
	    break;
	if (p[skip] != '\n')
	    keep = (size_t) (nl + 1 - text.s);
    }
    sb_putn(header, text.s, keep);
    sb_free(&text);
    return (0);
}

/* sync_dir - flush a directory, so that a rename in it is on disk */
static int sync_dir(const char *path)
{
    char   *copy = xstrdup(path);
    int     fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = -1;

    if (fd >= 0) {
	rc = fsync(fd);
	close(fd);
    }
    free(copy);
    return (rc);
}

/* userfile_write - replace path with text atomically; mode as before, or 0644 */
int     userfile_write(const char *path, const STRBUF *text, STRBUF *why)
{
    STRBUF  tmp = STRBUF_INIT;
    struct stat st;
    mode_t  mode = stat(path, &st) == 0 ? (st.st_mode & 0777) : 0644;
    char   *dcopy = xstrdup(path), *bcopy = xstrdup(path);
    int     fd, ok;

    sb_printf(&tmp, "%s/.%s.XXXXXX", dirname(dcopy), basename(bcopy));
    free(dcopy), free(bcopy);
    if ((fd = mkstemp(tmp.s)) < 0) {
	sb_printf(why, "cannot create a file next to %s: %s", path, strerror(errno));
	sb_free(&tmp);
	return (-1);
    }
    ok = write(fd, text->s, text->len) == (ssize_t) text->len && fchmod(fd, mode) == 0
	&& fsync(fd) == 0;
    if (close(fd) < 0 || !ok || rename(tmp.s, path) < 0 || sync_dir(path) < 0) {
	sb_printf(why, "cannot write %s: %s", path, strerror(errno));
	(void) unlink(tmp.s);
	sb_free(&tmp);
	return (-1);
    }
    sb_free(&tmp);
    return (0);
}
