/*
 * fds.h - the descriptors a process starts with: only those it means to
 * keep.
 */
#ifndef CRIER_FDS_H
#define CRIER_FDS_H

int     fds_close_except(const int *keep, int n);
int     fds_std_open(void);

#endif
