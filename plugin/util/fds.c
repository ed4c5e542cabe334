/*
 * fds.c - close what a process was handed and does not use.
 *
 * A daemon started by root inherits every open descriptor of whatever
 * started it (a shell's, an init system's, a package script's), and a
 * child it forks inherits its parent's: a listening socket of the milter
 * in the web panel's process, a file of the administrator's shell in a
 * process that runs as the service user. crierd closes them at start,
 * and the panel's process closes all of the supervisor's but the few it
 * is given. Standard input, output and error
 * stay (reopened on /dev/null when closed), so that no file crierd opens
 * later becomes one of them by chance.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "fds.h"

/*
 * fds_close_except - close every descriptor above stderr but the n in
 * keep (ascending): close_range(2) on the gaps (Linux 5.9), else one by
 * one from /proc/self/fd; 0, or -1 with errno
 */
int     fds_close_except(const int *keep, int n)
{
    unsigned lo = 3;
    struct dirent *de;
    DIR    *dir;
    int     i, fd;

    for (i = 0; i < n; i++) {
	if (keep[i] < (int) lo)
	    continue;
	if (keep[i] > (int) lo && close_range(lo, (unsigned) keep[i] - 1, 0) < 0)
	    break;
	lo = (unsigned) keep[i] + 1;
    }
    if (i == n && close_range(lo, ~0U, 0) == 0)
	return (0);
    if ((dir = opendir("/proc/self/fd")) == NULL)
	return (-1);
    while ((de = readdir(dir)) != NULL) {
	if ((fd = atoi(de->d_name)) <= 2 || fd == dirfd(dir))
	    continue;
	for (i = 0; i < n && keep[i] != fd; i++)
	     /* void */ ;
	if (i == n)
	    close(fd);
    }
    closedir(dir);
    return (0);
}

/* fds_std_open - stdin, stdout and stderr open, on /dev/null where closed; 0, or -1 */
int     fds_std_open(void)
{
    int     fd;

    while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
	 /* void */ ;
    if (fd < 0)
	return (-1);
    close(fd);
    return (0);
}
