/*
 * conf.c - crier.conf, the main configuration (see conf.h).
 */
#include "config.h"

#include <errno.h>
#include <libconfig.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "mem.h"

/* The configuration table: name, default, where it goes. */
static const struct conf_key {
    const char *name;
    const char *def;
    size_t  offset;
} conf_keys[] = {
    {"rules_dir", CRIER_CONFDIR "/rules.d", offsetof(CONF, rules_dir)},
    {"state_dir", CRIER_STATEDIR, offsetof(CONF, state_dir)},
    {"default_timezone", "UTC", offsetof(CONF, default_timezone)},
    {NULL, NULL, 0},
};

#define CONF_SLOT(cf, k) ((char **) ((char *) (cf) + (k)->offset))

void    conf_set(char **slot, const char *value)
{
    free(*slot);
    *slot = value ? xstrdup(value) : NULL;
}

void    conf_defaults(CONF *cf)
{
    const struct conf_key *k;

    memset(cf, 0, sizeof(*cf));
    for (k = conf_keys; k->name; k++)
	conf_set(CONF_SLOT(cf, k), k->def);
}

/* conf_setting - one top-level setting against the table */
static int conf_setting(CONF *cf, const char *path, const config_setting_t *s, STRBUF *why)
{
    const char *name = config_setting_name(s);
    const struct conf_key *k;
    const char *v;

    for (k = conf_keys; k->name; k++)
	if (strcmp(k->name, name) == 0)
	    break;
    if (k->name == NULL) {
	sb_printf(why, "%s:%d: unknown setting '%s'", path,
		  (int) config_setting_source_line(s), name);
	return (-1);
    }
    if ((v = config_setting_get_string(s)) == NULL || *v == 0) {
	sb_printf(why, "%s:%d: '%s' must be a non-empty string", path,
		  (int) config_setting_source_line(s), name);
	return (-1);
    }
    conf_set(CONF_SLOT(cf, k), v);
    return (0);
}

/*
 * conf_load - read path over the values already in cf. A missing file is
 * an error only when must_exist (an explicit -c).
 */
int     conf_load(CONF *cf, const char *path, int must_exist, STRBUF *why)
{
    config_t c;
    config_setting_t *root;
    int     i, rc = 0;

    if (!must_exist && access(path, F_OK) < 0 && errno == ENOENT)
	return (0);
    config_init(&c);
    if (config_read_file(&c, path) == CONFIG_FALSE) {
	if (config_error_type(&c) == CONFIG_ERR_FILE_IO)
	    sb_printf(why, "%s: cannot read: %s", path, strerror(errno));
	else
	    sb_printf(why, "%s:%d: syntax error: %s", path, config_error_line(&c),
		      config_error_text(&c));
	config_destroy(&c);
	return (-1);
    }
    root = config_root_setting(&c);
    for (i = 0; rc == 0 && i < config_setting_length(root); i++)
	rc = conf_setting(cf, path, config_setting_get_elem(root, i), why);
    config_destroy(&c);
    return (rc);
}

void    conf_free(CONF *cf)
{
    const struct conf_key *k;

    for (k = conf_keys; k->name; k++)
	conf_set(CONF_SLOT(cf, k), NULL);
}
