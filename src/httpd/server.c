/* SPDX-License-Identifier: MIT */
/*
 * httpd/server: the listening socket, libmicrohttpd's daemon, the checks every
 * request passes and the routing to the endpoints.
 *
 * DOC: the checks, in order (each answers at once and ends the request)
 * 1. method: GET and HEAD; POST only to /api/playground with --playground (405);
 * 2. rate: a token bucket per client address, `rate` a second (429);
 * 3. Host: this server's own name (a loopback name or the bound address, with
 *    the port), against DNS rebinding; any Host when bound to a wildcard
 *    address, where the token does that job (421);
 * 4. Origin, when sent: the Host's own origin (403), so no other site's page
 *    drives the API from the user's browser;
 * 5. token, when required (bound off loopback, or the playground on): ?token=,
 *    "Authorization: Bearer", or the cookie set when the URL with it was
 *    opened (401).
 * Threads: one per connection (an SSE stream blocks its own), limits on
 * connections in all and per address, request headers in a bounded buffer.
 */
#include "httpd.h"
#include "server.h"
#include "http-parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shared/macro.h"

#define CONN_LIMIT    256
#define CONN_PER_ADDR 128 /* SSE fan-out: a page per tab, a bench's 50 clients */
#define CONN_MEMORY   (64 << 10)
#define CONN_IDLE_S   60 /* SSE streams send a comment every 15 s */
#define CSP_API	      "default-src 'none'; frame-ancestors 'none'; sandbox"
#define CSP_UI                                                                         \
	"default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " \
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

extern char **environ;

const char *http_arg(const struct http_req *q, const char *name)
{
	return dl_mhd.MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result queue_csp(struct MHD_Connection *c, unsigned status, struct MHD_Response *r,
				 const char *csp)
{
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	(void)dl_mhd.MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	(void)dl_mhd.MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	(void)dl_mhd.MHD_add_response_header(r, "Cache-Control", "no-store");
	(void)dl_mhd.MHD_add_response_header(r, "Content-Security-Policy", csp);
	ret = dl_mhd.MHD_queue_response(c, status, r);
	dl_mhd.MHD_destroy_response(r);
	return ret;
}

enum MHD_Result http_queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r)
{
	return queue_csp(c, status, r, CSP_API);
}

static struct MHD_Response *buffer_response(const char *type, const char *body, size_t len)
{
	struct MHD_Response *r =
		dl_mhd.MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);

	if (r)
		(void)dl_mhd.MHD_add_response_header(r, "Content-Type", type);
	return r;
}

enum MHD_Result http_reply(struct MHD_Connection *c, unsigned status, const char *type,
			   const char *body, size_t len)
{
	return http_queue(c, status, buffer_response(type, body, len));
}

enum MHD_Result http_reply_json(struct MHD_Connection *c, unsigned status, const char *json)
{
	return http_reply(c, status, "application/json", json, strlen(json));
}

enum MHD_Result http_reply_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
	char msg[1024];
	enum MHD_Result ret;
	struct jw w;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_str(&w, "error", msg);
	jw_obj_close(&w);
	ret = http_reply_json(c, status, jw_get(&w) ? jw_get(&w) : "{}");
	jw_free(&w);
	return ret;
}

static unsigned errno_status(int code)
{
	switch (code) {
	case ENOENT:
	case ENOTDIR:
	case ECONNREFUSED:
	case ESRCH:
		return MHD_HTTP_NOT_FOUND;
	case EACCES:
	case EPERM:
	case EXDEV:
	case ELOOP:
		return MHD_HTTP_FORBIDDEN;
	case EINVAL:
		return MHD_HTTP_BAD_REQUEST;
	case EFBIG:
	case EMSGSIZE:
		return MHD_HTTP_CONTENT_TOO_LARGE;
	case EBUSY:
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	default:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

enum MHD_Result http_reply_err(struct MHD_Connection *c, const nslab_error *err)
{
	return http_reply_error(c, errno_status(err->code), "%s", err->msg);
}

/* ---- the checks (DOC above) ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t addr_key(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		dl_mhd.MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	const unsigned char *p = NULL;
	uint64_t h = 1469598103934665603ull; /* FNV-1a over the address, not the port */
	size_t n = 0;

	if (sa && sa->sa_family == AF_INET) {
		p = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
		n = 4;
	} else if (sa && sa->sa_family == AF_INET6) {
		p = (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
		n = 16;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h | 1;
}

/* Addresses that hash alike share a bucket: a collision makes a limit stricter, never looser. */
static bool rate_ok(struct httpd *h, struct MHD_Connection *c)
{
	uint64_t key = addr_key(c);
	struct http_bucket *b = &h->buckets[key % HTTP_BUCKETS];
	double t = now_s(), cap = 2.0 * h->rate;
	bool ok;

	pthread_mutex_lock(&h->mu);
	if (b->key != key) {
		b->key = key;
		b->tokens = cap;
		b->at = t;
	}
	b->tokens += (t - b->at) * h->rate;
	b->tokens = b->tokens > cap ? cap : b->tokens;
	b->at = t;
	ok = b->tokens >= 1.0;
	if (ok)
		b->tokens -= 1.0;
	pthread_mutex_unlock(&h->mu);
	return ok;
}

static bool host_ok(const struct httpd *h, const char *host)
{
	static const char *const loopback[] = { "localhost", "127.0.0.1", "[::1]" };
	char name[256];
	unsigned port;

	if (!host || !http_split_host(host, name, sizeof(name), &port))
		return false;
	if (h->any_host)
		return true;
	if (port != h->port)
		return false;
	if (strcasecmp(name, h->host) == 0)
		return true;
	for (size_t i = 0; h->loopback && i < ARRAY_SIZE(loopback); i++)
		if (strcasecmp(name, loopback[i]) == 0)
			return true;
	return false;
}

static bool token_eq(const char *a, const char *b)
{
	unsigned char diff = 0;
	size_t n = strlen(b);

	if (!a || strlen(a) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

static bool token_ok(const struct httpd *h, struct MHD_Connection *c, bool *ret_from_url)
{
	const char *auth = dl_mhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");

	*ret_from_url = false;
	if (!h->need_token)
		return true;
	if (token_eq(dl_mhd.MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token"),
		     h->token)) {
		*ret_from_url = true;
		return true;
	}
	if (auth && strncasecmp(auth, "Bearer ", 7) == 0 && token_eq(auth + 7, h->token))
		return true;
	return token_eq(dl_mhd.MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "nslab_token"),
			h->token);
}

/* ---- routing ---- */

static enum MHD_Result api_info(struct http_req *q)
{
	struct jw w;
	enum MHD_Result ret;

	jw_init(&w);
	jw_obj_open(&w, NULL);
	jw_str(&w, "server", "nslab serve");
	jw_bool(&w, "playground", q->h->playground);
	jw_bool(&w, "token", q->h->need_token);
	jw_bool(&w, "ui", q->h->ui_fd >= 0);
	jw_obj_close(&w);
	ret = jw_get(&w) ? http_reply_json(q->c, 200, jw_get(&w))
			 : http_reply_error(q->c, 500, "out of memory");
	jw_free(&w);
	return ret;
}

static const struct route {
	const char *path;
	enum MHD_Result (*fn)(struct http_req *q);
	bool post;
} routes[] = {
	{ "/api/info", api_info, false },	    { "/api/runs", api_runs, false },
	{ "/api/state", api_state, false },	    { "/api/events", api_events, false },
	{ "/api/logs", api_logs, false },	    { "/api/log", api_log, false },
	{ "/api/file", api_file, false },	    { "/api/results", api_results, false },
	{ "/api/link", api_link, false },	    { "/api/playground", api_playground, true },
	{ "/api/conntrack", api_conntrack, false },
};

static const char *mime_of(const char *path)
{
	static const char *const types[][2] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript" },
		{ ".css", "text/css" },
		{ ".svg", "image/svg+xml" },
		{ ".json", "application/json" },
		{ ".png", "image/png" },
		{ ".woff2", "font/woff2" },
		{ ".map", "application/json" },
	};
	size_t n = strlen(path);

	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		size_t k = strlen(types[i][0]);

		if (n > k && strcmp(path + n - k, types[i][0]) == 0)
			return types[i][1];
	}
	return "application/octet-stream";
}

static const char ui_missing[] =
	"<!doctype html><meta charset=utf-8><title>nslab serve</title>"
	"<h1>nslab serve</h1><p>The web UI is not built. Build it with <code>make ui</code> "
	"(needs node and npm), or point <code>nslab serve --ui DIR</code> at a built one.</p>"
	"<p>The JSON API works without it: <a href=\"/api/runs\">/api/runs</a>.</p>\n";

/* The token from the URL becomes a cookie, so that the page's own requests carry it. */
static enum MHD_Result queue_ui(struct http_req *q, unsigned status, struct MHD_Response *r,
				bool set_cookie)
{
	char cookie[128];

	if (r && set_cookie) {
		snprintf(cookie, sizeof(cookie),
			 "nslab_token=%s; HttpOnly; SameSite=Strict; Path=/", q->h->token);
		(void)dl_mhd.MHD_add_response_header(r, "Set-Cookie", cookie);
	}
	return queue_csp(q->c, status, r, CSP_UI);
}

static enum MHD_Result serve_ui(struct http_req *q, bool set_cookie)
{
	const char *path = strcmp(q->path, "/") == 0 ? "index.html" : q->path + 1;
	struct MHD_Response *r;
	nslab_error err = { 0 };
	struct stat st;
	int fd;

	if (q->h->ui_fd < 0) {
		r = buffer_response("text/html; charset=utf-8", ui_missing, sizeof(ui_missing) - 1);
		return queue_ui(q, strcmp(q->path, "/") == 0 ? 200 : 404, r, set_cookie);
	}
	fd = open_beneath(q->h->ui_fd, path, O_RDONLY, &err);
	if (fd < 0)
		return http_reply_err(q->c, &err);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return http_reply_error(q->c, 404, "'%s': not a file", path);
	}
	r = dl_mhd.MHD_create_response_from_fd((size_t)st.st_size, fd); /* takes fd */
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	(void)dl_mhd.MHD_add_response_header(r, "Content-Type", mime_of(path));
	return queue_ui(q, 200, r, set_cookie);
}

static const struct route *find_route(const char *path)
{
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++)
		if (strcmp(routes[i].path, path) == 0)
			return &routes[i];
	return NULL;
}

/* The checks of the DOC, in order; returns a status to refuse with, or 0. */
static unsigned check_request(struct httpd *h, struct MHD_Connection *c, const char *url,
			      const char *method, const struct route *rt, bool *ret_cookie,
			      const char **ret_why)
{
	const char *host = dl_mhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	const char *origin = dl_mhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	bool post = strcmp(method, "POST") == 0;

	if (!(strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
	      (post && rt && rt->post && h->playground)))
		return *ret_why = "read-only server: GET and HEAD only (POST /api/playground with "
				  "--playground)",
		       405;
	if (rt && rt->post && !post)
		return *ret_why = "POST a suite to /api/playground", 405;
	if (!rate_ok(h, c))
		return *ret_why = "too many requests from this address; slow down", 429;
	if (!host_ok(h, host))
		return *ret_why = "Host is not this server's name (DNS rebinding?)", 421;
	if (!http_origin_ok(origin, host))
		return *ret_why = "foreign Origin: requests from another site's pages are refused",
		       403;
	if (!token_ok(h, c, ret_cookie))
		return *ret_why = "missing or wrong token: open the URL nslab serve printed", 401;
	(void)url;
	return 0;
}

/* A request that passed the checks: its body so far (POST), and what the checks found. */
struct upload {
	char *buf;
	size_t len;
	bool too_big;
	bool cookie; /* the token came in the URL: set it as a cookie */
};

static enum MHD_Result take_upload(struct upload *u, const char *data, size_t *size)
{
	if (!u->too_big && u->len + *size <= HTTP_BODY_MAX) {
		char *b = realloc(u->buf, u->len + *size + 1);

		if (!b)
			return MHD_NO;
		memcpy(b + u->len, data, *size);
		u->buf = b;
		u->len += *size;
		u->buf[u->len] = '\0';
	} else {
		u->too_big = true;
	}
	*size = 0;
	return MHD_YES;
}

static enum MHD_Result dispatch(struct http_req *q, const struct route *rt, bool cookie)
{
	if (rt)
		return rt->fn(q);
	if (strncmp(q->path, "/api/", 5) == 0 || strcmp(q->path, "/api") == 0)
		return http_reply_error(q->c, 404, "'%s': no such endpoint", q->path);
	return serve_ui(q, cookie);
}

/*
 * First call: the checks; a refusal is answered at once (and the connection
 * closed). A request that passes is answered on a later call, once the whole
 * request (a POST's body) is read: an answer before that would make
 * libmicrohttpd close the connection instead of keeping it alive.
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_size, void **con_cls)
{
	struct httpd *h = cls;
	const struct route *rt = find_route(url);
	struct http_req q = { .h = h, .c = c, .path = url };
	struct upload *u = *con_cls;
	const char *why = NULL;
	bool cookie = false;
	unsigned status;

	(void)version;
	if (u) {
		if (*upload_size)
			return take_upload(u, upload_data, upload_size);
		if (u->too_big)
			return http_reply_error(c, 413, "request body larger than %d bytes",
						HTTP_BODY_MAX);
		q.body = u->buf ? u->buf : "";
		q.body_len = u->len;
		return dispatch(&q, rt, u->cookie);
	}
	status = check_request(h, c, url, method, rt, &cookie, &why);
	if (status)
		return http_reply_error(c, status, "%s", why);
	u = calloc(1, sizeof(*u));
	if (!u)
		return MHD_NO;
	u->cookie = cookie;
	*con_cls = u;
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct upload *u = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (u) {
		free(u->buf);
		free(u);
		*con_cls = NULL;
	}
}

/* ---- start and stop ---- */

/* "ADDR:PORT", "[ADDR6]:PORT": the address to bind, and how a Host header names it. */
static int parse_bind(const char *spec, struct sockaddr_storage *ss, socklen_t *ret_len,
		      struct httpd *h, nslab_error *err)
{
	char name[sizeof(h->host)], addr[sizeof(h->host)];
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	unsigned port;

	if (!http_split_host(spec, name, sizeof(name), &port) || !strchr(spec, ':'))
		return nslab_err_setx(err, EINVAL,
				      "--bind '%s': expected ADDR:PORT ([ADDR]:PORT "
				      "for IPv6), e.g. 127.0.0.1:7421",
				      spec);
	memset(ss, 0, sizeof(*ss));
	snprintf(addr, sizeof(addr), "%.*s",
		 name[0] == '[' ? (int)strlen(name) - 2 : (int)strlen(name),
		 name[0] == '[' ? name + 1 : name);
	if (name[0] != '[' && inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*ret_len = sizeof(*in4);
		h->any_host = in4->sin_addr.s_addr == htonl(INADDR_ANY);
		h->loopback = (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
	} else if (name[0] == '[' && inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*ret_len = sizeof(*in6);
		h->any_host = IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr);
		h->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	} else {
		return nslab_err_setx(err, EINVAL,
				      "--bind '%s': '%s' is not an IP address "
				      "(IPv6 in brackets)",
				      spec, name);
	}
	snprintf(h->host, sizeof(h->host), "%s", name);
	return 0;
}

static int listen_on(const char *spec, struct httpd *h, int *ret_fd, nslab_error *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	_cleanup_close_ int fd = -1;
	int one = 1, r = parse_bind(spec, &ss, &len, h, err);

	if (r < 0)
		return r;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return nslab_err_set(err, errno, "--bind '%s': socket", spec);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		return nslab_err_set(err, errno, "--bind '%s'", spec);
	if (listen(fd, 64) < 0)
		return nslab_err_set(err, errno, "--bind '%s': listen", spec);
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return nslab_err_set(err, errno, "--bind '%s': getsockname", spec);
	h->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						: ((struct sockaddr_in6 *)&ss)->sin6_port);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int make_token(struct httpd *h, nslab_error *err)
{
	unsigned char raw[HTTP_TOKEN_HEX / 2];

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return nslab_err_set(err, errno ? errno : EIO, "getrandom");
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(h->token + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

static int open_roots(struct httpd *h, const struct httpd_config *cfg, nslab_error *err)
{
	h->roots = calloc(cfg->n_dirs, sizeof(*h->roots));
	if (!h->roots)
		return nslab_err_set(err, ENOMEM, "serve");
	for (size_t i = 0; i < cfg->n_dirs; i++) {
		int fd = open(cfg->dirs[i], O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0)
			return nslab_err_set(err, errno, "'%s'", cfg->dirs[i]);
		h->roots[h->n_roots].fd = fd;
		h->roots[h->n_roots++].path = realpath(cfg->dirs[i], NULL);
		if (!h->roots[h->n_roots - 1].path)
			return nslab_err_set(err, errno, "'%s'", cfg->dirs[i]);
	}
	if (cfg->ui_dir) {
		h->ui_fd = open(cfg->ui_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (h->ui_fd >= 0 && faccessat(h->ui_fd, "index.html", R_OK, 0) < 0)
			h->ui_fd = close_fd(h->ui_fd);
	}
	return 0;
}

static void httpd_free(struct httpd *h)
{
	for (size_t i = 0; i < h->n_roots; i++) {
		(void)close_fd(h->roots[i].fd);
		free(h->roots[i].path);
	}
	free(h->roots);
	(void)close_fd(h->ui_fd);
	(void)close_fd(h->stop_fd);
	pthread_mutex_destroy(&h->mu);
	pthread_mutex_destroy(&h->play_mu);
}

static struct MHD_Daemon *start_daemon(struct httpd *h, int lfd)
{
	unsigned flags =
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;

	return dl_mhd.MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
				       MHD_OPTION_LISTEN_SOCKET, lfd, MHD_OPTION_CONNECTION_LIMIT,
				       (unsigned)CONN_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				       (unsigned)CONN_PER_ADDR, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
				       (size_t)CONN_MEMORY, MHD_OPTION_CONNECTION_TIMEOUT,
				       (unsigned)CONN_IDLE_S, MHD_OPTION_NOTIFY_COMPLETED,
				       on_completed, NULL, MHD_OPTION_END);
}

/* Start the user's browser; its exit is reaped by the signal loop. Return: its pid, or 0. */
static pid_t open_browser(const char *url)
{
	char *argv[] = { (char *)"xdg-open", (char *)url, NULL };
	pid_t pid;
	int r = posix_spawnp(&pid, "xdg-open", NULL, NULL, argv, environ);

	if (r)
		fprintf(stderr, "nslab serve: --open: xdg-open: %s, ignoring\n",
			strerrordesc_np(r));
	return r ? 0 : pid;
}

/* Only the browser's starter is reaped here: the playground waits for its own children. */
static void wait_signal(const sigset_t *set, pid_t browser)
{
	for (;;) {
		int sig = sigwaitinfo(set, NULL);

		if (sig == SIGCHLD) {
			if (browser > 0 && waitpid(browser, NULL, WNOHANG) == browser)
				browser = 0;
			continue;
		}
		if (sig > 0)
			return;
	}
}

static void print_url(const struct httpd *h, const struct httpd_config *cfg)
{
	printf("http://%s:%u/%s%s\n", h->any_host ? "127.0.0.1" : h->host, h->port,
	       h->need_token ? "?token=" : "", h->need_token ? h->token : "");
	fflush(stdout);
	for (size_t i = 0; i < h->n_roots; i++)
		fprintf(stderr, "nslab serve: serving %s\n", h->roots[i].path);
	if (cfg->playground)
		fprintf(stderr, "nslab serve: playground on (POST /api/playground)\n");
}

static int serve(struct httpd *h, const struct httpd_config *cfg, int lfd, nslab_error *err)
{
	struct MHD_Daemon *d;
	sigset_t set, old;
	char url[128];
	pid_t browser;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &old); /* before the threads start: they inherit it */
	d = start_daemon(h, lfd);
	if (!d) {
		(void)close(lfd);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return nslab_err_setx(err, EIO, "libmicrohttpd could not start on port %u",
				      h->port);
	}
	print_url(h, cfg);
	snprintf(url, sizeof(url), "http://%s:%u/%s%s", h->any_host ? "127.0.0.1" : h->host,
		 h->port, h->need_token ? "?token=" : "", h->need_token ? h->token : "");
	browser = cfg->open ? open_browser(url) : 0;
	sigdelset(&set, SIGPIPE);
	wait_signal(&set, browser);
	(void)eventfd_write(h->stop_fd, 1); /* SSE streams end, so their threads can be joined */
	dl_mhd.MHD_stop_daemon(d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

int httpd_run(const struct httpd_config *cfg, nslab_error *err)
{
	struct httpd h = { .ui_fd = -1, .stop_fd = -1, .rate = cfg->rate };
	int lfd = -1, r;

	pthread_mutex_init(&h.mu, NULL);
	pthread_mutex_init(&h.play_mu, NULL);
	h.playground = cfg->playground;
	r = dl_mhd_load(err);
	if (r >= 0)
		r = open_roots(&h, cfg, err);
	if (r >= 0)
		r = listen_on(cfg->bind, &h, &lfd, err);
	if (r >= 0) {
		h.need_token = !h.loopback || cfg->playground;
		r = make_token(&h, err);
	}
	if (r >= 0) {
		h.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (h.stop_fd < 0)
			r = nslab_err_set(err, errno, "eventfd");
	}
	if (r >= 0)
		r = serve(&h, cfg, lfd, err); /* the daemon owns lfd from here */
	else
		(void)close_fd(lfd);
	httpd_free(&h);
	return r;
}
