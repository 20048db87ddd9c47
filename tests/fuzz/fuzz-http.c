/* SPDX-License-Identifier: MIT */
/*
 * fuzz-http: nslab serve's parsers of request text (src/httpd/http-parse.c):
 * a path, a Host header, an Origin against it, a line of events.jsonl. Input:
 * the bytes, cut at the first NUL for the string parsers.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "http-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	char name[256];
	unsigned port;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)http_path_ok(s);
	if (http_split_host(s, name, sizeof(name), &port) &&
	    (strlen(name) >= sizeof(name) || port > 65535))
		abort();
	(void)http_origin_ok(s, "127.0.0.1:7421");
	(void)http_event_seq((const char *)data, size);
	free(s);
	return 0;
}
