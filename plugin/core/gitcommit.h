/*
 * gitcommit.h - record one change of rules.d in git, when rules.d is in a
 * git work tree whose repository asks for it (git config crier.commit
 * true: the mail host's, see contrib/hooks/post-receive).
 *
 * change.c calls it for every change, whoever makes it and however
 * (crierctl, a mail, any later channel), so that the operators get each
 * change people make as a commit of its own: the person as author, crier
 * as committer. A failure never undoes or refuses the change.
 */
#ifndef CRIER_GITCOMMIT_H
#define CRIER_GITCOMMIT_H

#include "strbuf.h"

int     gitcommit(const char *file, const char *author, const char *message,
		          STRBUF *commit, STRBUF *why);

#endif
