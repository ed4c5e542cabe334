/*
 * dirwatch.h - a number that changes whenever anything in a directory
 * tree may have changed (inotify), so that a reader can skip re-reading
 * what it read at the same number.
 *
 * dirwatch_epoch() is 0 when the watch cannot tell (no inotify, too many
 * directories, a symbolic link in the tree): the caller then checks the
 * files themselves, as it would without a watch. A change is seen by the
 * first call after the system call that made it has returned: inotify
 * queues its event before that call returns.
 */
#ifndef CRIER_DIRWATCH_H
#define CRIER_DIRWATCH_H

typedef struct dirwatch DIRWATCH;

DIRWATCH *dirwatch_open(const char *dir, int depth);
unsigned long dirwatch_epoch(DIRWATCH *w);
void    dirwatch_close(DIRWATCH *w);

#endif
