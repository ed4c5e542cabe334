/*
 * diag.h - collected diagnostics, "FILE:LINE: message".
 *
 * Checking rules.d reports every problem, not just the first: checkers add
 * errors and warnings here and the caller prints them in one go. A DIAG
 * never stops the caller; it only counts.
 */
#ifndef CRIER_DIAG_H
#define CRIER_DIAG_H

#include <stdio.h>

typedef struct diag DIAG;

DIAG   *diag_create(void);
void    diag_free(DIAG *d);
void    diag_error(DIAG *d, const char *file, int line, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
void    diag_warning(DIAG *d, const char *file, int line, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
int     diag_errors(const DIAG *d);
int     diag_warnings(const DIAG *d);
void    diag_print(DIAG *d, FILE *fp);
void    diag_print_errors(DIAG *d, FILE *fp);
const char *diag_first(const DIAG *d);

#endif
