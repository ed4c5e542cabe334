/*
 * listen.c - bind and listen on a socket named in libmilter's syntax.
 *
 * One place for what the policy service and the web panel both do with
 * their socket: parse the spec, bind it, listen. The socket is
 * non-blocking and close-on-exec; serving it is the caller's job.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"
#include "mem.h"

/* listen_path - the path of a unix socket spec (unix:/ or local:/), or NULL */
const char *listen_path(const char *spec)
{
    if (strncmp(spec, "unix:/", 6) == 0 || strncmp(spec, "local:/", 7) == 0)
	return (strchr(spec, ':') + 1);
    return (NULL);
}

/* listen_unlink - the last word of a server on a unix socket: remove it */
void    listen_unlink(const char *spec)
{
    const char *path = listen_path(spec);

    if (path)
	(void) unlink(path);
}

/* stale_gone - no socket file at sun's path, or one nobody answers on (removed) */
static int stale_gone(const struct sockaddr_un *sun, const char *what, STRBUF *why)
{
    struct stat st;
    int     fd;

    if (lstat(sun->sun_path, &st) < 0)
	return (0);
    if (!S_ISSOCK(st.st_mode)) {
	sb_printf(why, "%s %s exists and is not a socket", what, sun->sun_path);
	return (-1);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (const struct sockaddr *) sun, sizeof(*sun)) == 0) {
	close(fd);
	sb_printf(why, "%s %s: another process is serving it", what, sun->sun_path);
	return (-1);
    }
    if (fd >= 0)
	close(fd);
    (void) unlink(sun->sun_path);
    return (0);
}

/*
 * listen_unix - bind path. The socket file's group and mode are the
 * caller's effective group and umask at the bind (crierd's
 * priv_bind_begin): Linux ignores fchmod on a socket, and a chmod by
 * path could follow a link somebody put there.
 */
static int listen_unix(const char *path, const char *what, STRBUF *why)
{
    struct sockaddr_un sun;
    int     fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
	sb_printf(why, "%s path %s is too long", what, path);
	return (-1);
    }
    strcpy(sun.sun_path, path);
    if (stale_gone(&sun, what, why) < 0)
	return (-1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0
	|| listen(fd, SOMAXCONN) < 0) {
	sb_printf(why, "cannot listen on %s unix:%s: %s", what, path, strerror(errno));
	if (fd >= 0)
	    close(fd);
	return (-1);
    }
    return (fd);
}

/* listen_inet - bind inet:port@host or inet6:port@host (no host: every address) */
static int listen_inet(const char *spec, const char *what, int family, STRBUF *why)
{
    char   *port = xstrdup(strchr(spec, ':') + 1);
    char   *host = strchr(port, '@');
    struct addrinfo hints, *ai = NULL;
    int     fd = -1, on = 1, err;

    if (host)
	*host++ = 0;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((err = getaddrinfo(host, port, &hints, &ai)) != 0) {
	sb_printf(why, "%s %s: %s", what, spec, gai_strerror(err));
	free(port);
	return (-1);
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0
	|| bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
	sb_printf(why, "cannot listen on %s %s: %s", what, spec, strerror(errno));
	if (fd >= 0)
	    close(fd);
	fd = -1;
    }
    freeaddrinfo(ai);
    free(port);
    return (fd);
}

/*
 * listen_open - bind spec and listen: the socket, or -1 with why. what is
 * the configuration key spec came from, for the messages.
 */
int     listen_open(const char *spec, const char *what, STRBUF *why)
{
    const char *path = listen_path(spec);

    if (path)
	return (listen_unix(path, what, why));
    if (strncmp(spec, "inet:", 5) == 0)
	return (listen_inet(spec, what, AF_INET, why));
    if (strncmp(spec, "inet6:", 6) == 0)
	return (listen_inet(spec, what, AF_INET6, why));
    sb_printf(why, "%s \"%s\": use unix:/path or inet:port@host", what, spec);
    return (-1);
}
