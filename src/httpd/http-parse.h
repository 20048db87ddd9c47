/* SPDX-License-Identifier: MIT */
/*
 * httpd/http-parse: the server's parsers of request text, pure (no I/O, no
 * libmicrohttpd), so that they are unit-tested and fuzzed (fuzz-http).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* path is relative, with no empty, "." or ".." component (checked before the kernel does). */
bool http_path_ok(const char *path);
/* Split a Host header ("name:port", "[v6]:port", "name": port 80) into name (len bytes) and port. */
bool http_split_host(const char *host, char *name, size_t len, unsigned *ret_port);
/* An Origin header, when sent, must be http:// + the Host header: the page is the server's own. */
bool http_origin_ok(const char *origin, const char *host);
/* The "seq" of one line of events.jsonl (len bytes, not NUL-terminated); 0 if it has none. */
uint64_t http_event_seq(const char *line, size_t len);
