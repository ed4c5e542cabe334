/*
 * rules.h - the rules.d model: catalog, frequencies, profiles, users and
 * their notifications, as read from libconfig files.
 *
 * rules_load() reads a rules directory (every *.conf below it, in name
 * order) into a RULES value and reports syntax and shape errors;
 * rules_check() then checks what refers to what (event types, filters,
 * frequencies, profiles, zones, mutes) and refuses duplicates. Nothing here
 * touches LMDB: compile.c turns a checked RULES into the compiled store.
 */
#ifndef CRIER_RULES_H
#define CRIER_RULES_H

#include <stddef.h>

#include "diag.h"
#include "strv.h"

/* A condition: the event's field FILTER must hold one of VALUES. */
typedef struct cond {
    char   *filter;
    STRV    values;
    int     line;			/* of the condition; 0: not from a file */
} COND;

#define NOTIF_DEFAULT	'd'		/* from a profile */
#define NOTIF_CUSTOM	'c'		/* from a user's file */

typedef struct notif {
    char   *name;			/* NAME within its owner */
    char   *id;				/* PROFILE/NAME or NAME */
    int     kind;			/* NOTIF_DEFAULT or NOTIF_CUSTOM */
    char   *event;			/* event type name */
    COND   *conds;			/* "where" */
    size_t  nconds;
    char   *frequency;
    int     muted;			/* muted = true in the definition */
    const char *file;			/* where it is defined */
    int     line;
    int     event_line;			/* of each setting; 0: not from a file */
    int     where_line;
    int     frequency_line;
} NOTIF;

typedef struct freq {
    char   *name;
    char   *title;
    char   *rrule;			/* NULL: immediately */
    const char *file;
    int     line;
    int     rrule_line;			/* of the rrule setting */
} FREQ;

/* A filter an event type offers; no values means free text. */
typedef struct filter {
    char   *name;
    STRV    values;
} FILTER;

typedef struct evtype {
    char   *name;
    char   *title;
    FILTER *filters;
    size_t  nfilters;
    STRV    freqs;			/* frequencies offered */
    const char *file;
    int     line;
    int     freqs_line;			/* of the frequencies setting */
    int    *freq_lines;			/* of each of its entries, or NULL */
} EVTYPE;

typedef struct profile {
    char   *name;
    char   *title;
    NOTIF  *defaults;
    size_t  ndefaults;
    const char *file;
    int     line;
} PROFILE;

typedef struct user {
    char   *address;
    char   *profile;
    STRV    partners;			/* "*": every partner */
    char   *timezone;			/* NULL: the configured default */
    NOTIF  *custom;
    size_t  ncustom;
    STRV    muted;			/* ids of muted defaults */
    int    *muted_lines;		/* line of each muted entry */
    const char *file;
    int     line;
    int     address_line;		/* of each setting; 0: absent */
    int     profile_line;
    int     partners_line;
    int    *partner_lines;		/* of each partner, or NULL */
    int     timezone_line;
} USER;

typedef struct rules {
    FREQ   *freqs;
    size_t  nfreqs;
    EVTYPE *evtypes;
    size_t  nevtypes;
    PROFILE *profiles;
    size_t  nprofiles;
    USER   *users;
    size_t  nusers;
    STRV    files;			/* every file read, owns file names */
    char    digest[65];			/* SHA-256 of the files, names and texts */
    char    catalog[65];		/* ... of the files outside users/ */
} RULES;

RULES  *rules_load(const char *dir, DIAG *diag);
RULES  *rules_load_user(const char *dir, const char *user_file, DIAG *diag);
RULES  *rules_load_text(const char *path, const char *text, DIAG *diag);
int     rules_check(RULES *rules, DIAG *diag);
void    rules_free(RULES *rules);
void    rules_notif_free(NOTIF *n);
void    rules_conds_free(COND *conds, size_t n);

const FREQ *rules_freq(const RULES *rules, const char *name);
const EVTYPE *rules_evtype(const RULES *rules, const char *name);
const FILTER *rules_filter(const EVTYPE *et, const char *name);
const PROFILE *rules_profile(const RULES *rules, const char *name);
const USER *rules_user(const RULES *rules, const char *address);
const NOTIF *rules_default(const RULES *rules, const char *id);
size_t  rules_count_notifs(const RULES *rules);
char   *rules_notif_key(const NOTIF *n);

#endif
