/* SPDX-License-Identifier: MIT */
/* httpd/http-parse: request text checked before anything is looked up (http-parse.h). */
#include "http-parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PATH_MAX_LEN 1024

bool http_path_ok(const char *path)
{
	const char *p = path;

	if (!*path || *path == '/' || strlen(path) > PATH_MAX_LEN)
		return false;
	if (strcmp(path, ".") == 0)
		return true;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/')
			p++;
		if (!*p && p[-1] == '/')
			return false;
	}
	return !strchr(path, '\\');
}

/* Split "name:port", "[v6]:port" or "name" (port 80) into the name and the port. */
bool http_split_host(const char *host, char *name, size_t len, unsigned *ret_port)
{
	const char *colon, *end = host + strlen(host);
	char *stop;
	unsigned long port = 80;

	if (*host == '[') {
		const char *rb = strchr(host, ']');

		if (!rb)
			return false;
		colon = rb[1] == ':' ? rb + 1 : NULL;
		end = rb + 1;
		if (rb[1] && !colon)
			return false;
	} else {
		colon = strrchr(host, ':');
		end = colon ? colon : end;
	}
	if (colon) {
		if (colon[1] < '0' || colon[1] > '9')
			return false; /* strtoul() would take blanks and signs */
		errno = 0;
		port = strtoul(colon + 1, &stop, 10);
		if (errno || stop == colon + 1 || *stop || port > 65535)
			return false;
	}
	if ((size_t)(end - host) >= len || end == host)
		return false;
	memcpy(name, host, (size_t)(end - host));
	name[end - host] = '\0';
	*ret_port = (unsigned)port;
	return true;
}

/* The browser's Origin, if it sent one, must be this page's own: http:// + Host. */
bool http_origin_ok(const char *origin, const char *host)
{
	if (!origin)
		return true;
	return strncmp(origin, "http://", 7) == 0 && host && strcasecmp(origin + 7, host) == 0;
}

uint64_t http_event_seq(const char *line, size_t len)
{
	const char *p = memmem(line, len, "\"seq\":", 6);
	uint64_t seq = 0;

	/* by hand: strtoull() would read past the line, which is not NUL-terminated */
	for (p = p ? p + 6 : NULL; p && p < line + len && *p >= '0' && *p <= '9'; p++) {
		if (seq > (UINT64_MAX - 9) / 10)
			return 0;
		seq = seq * 10 + (uint64_t)(*p - '0');
	}
	return seq;
}
