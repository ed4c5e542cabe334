/*
 * policy_request.c - read Postfix policy requests from a byte stream.
 *
 * A request is name=value lines ended by an empty line. The bytes come as
 * the socket gives them: a request may be split anywhere, several may come
 * in one read. policy_parse() looks for one whole request at the start of
 * the buffer, and only when it has one does it cut the lines in place (the
 * values point into the caller's buffer). Anything that is not the
 * protocol (a line without '=', a NUL byte, a line or request past the
 * limits in policy.h) is an error: the caller closes the connection.
 */
#include "config.h"

#include <string.h>

#include "policy.h"

/*
 * request_end - the length of the first whole request in buf (through its
 * empty line), 0 when it is not all there yet, -1 when it never can be.
 */
static long request_end(const char *buf, size_t len, STRBUF *why)
{
    size_t  start = 0, n;
    const char *nl;

    while (start < len) {
	nl = memchr(buf + start, '\n', len - start);
	n = nl ? (size_t) (nl - (buf + start)) : len - start;
	if (n > POLICY_LINE_MAX) {
	    sb_printf(why, "request line longer than %d bytes", POLICY_LINE_MAX);
	    return (-1);
	}
	if (nl == NULL)
	    break;
	if (n == 0 || (n == 1 && buf[start] == '\r'))
	    return ((long) (start + n + 1));
	start += n + 1;
    }
    if (len >= POLICY_REQUEST_MAX) {
	sb_printf(why, "request longer than %d bytes", POLICY_REQUEST_MAX);
	return (-1);
    }
    return (0);
}

/* attr_slot - where a known attribute goes, or NULL for one crier ignores */
static const char **attr_slot(POLICY_REQ *req, const char *name)
{
    static const struct {
	const char *name;
	size_t  offset;
    } known[] = {
	{"request", offsetof(POLICY_REQ, request)},
	{"protocol_state", offsetof(POLICY_REQ, protocol_state)},
	{"client_address", offsetof(POLICY_REQ, client_address)},
	{"client_name", offsetof(POLICY_REQ, client_name)},
	{"sasl_username", offsetof(POLICY_REQ, sasl_username)},
	{"sender", offsetof(POLICY_REQ, sender)},
	{"recipient", offsetof(POLICY_REQ, recipient)},
	{"queue_id", offsetof(POLICY_REQ, queue_id)},
    };
    size_t  i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
	if (strcmp(known[i].name, name) == 0)
	    return ((const char **) ((char *) req + known[i].offset));
    return (NULL);
}

/* parse_line - one name=value line, NUL-terminated in place */
static int parse_line(char *line, size_t n, POLICY_REQ *req, STRBUF *why)
{
    char   *eq;
    const char **slot;

    if (n > 0 && line[n - 1] == '\r')
	n--;
    line[n] = 0;
    if (memchr(line, 0, n) != NULL) {
	sb_puts(why, "NUL byte in a request line");
	return (-1);
    }
    if ((eq = strchr(line, '=')) == NULL || eq == line) {
	sb_puts(why, "request line is not name=value");
	return (-1);
    }
    *eq = 0;
    if ((slot = attr_slot(req, line)) == NULL)
	return (0);
    if (*slot != NULL) {
	sb_printf(why, "attribute %s given twice", line);
	return (-1);
    }
    *slot = eq + 1;
    return (0);
}

/*
 * policy_parse - the first request in buf[0..len): POLICY_READY with *req
 * filled and *used set to the bytes it took, POLICY_MORE, or POLICY_BAD
 * with why.
 */
int     policy_parse(char *buf, size_t len, POLICY_REQ *req, size_t *used, STRBUF *why)
{
    long    end = request_end(buf, len, why);
    size_t  start = 0, n, attrs = 0;
    char   *nl;

    if (end <= 0)
	return (end < 0 ? POLICY_BAD : POLICY_MORE);
    memset(req, 0, sizeof(*req));
    while ((nl = memchr(buf + start, '\n', (size_t) end - start)) != NULL) {
	n = (size_t) (nl - (buf + start));
	if (n == 0 || (n == 1 && buf[start] == '\r'))
	    break;
	if (++attrs > POLICY_ATTRS_MAX) {
	    sb_printf(why, "more than %d attributes in a request", POLICY_ATTRS_MAX);
	    return (POLICY_BAD);
	}
	if (parse_line(buf + start, n, req, why) < 0)
	    return (POLICY_BAD);
	start += n + 1;
    }
    if (attrs == 0) {
	sb_puts(why, "empty request");
	return (POLICY_BAD);
    }
    *used = (size_t) end;
    return (POLICY_READY);
}
