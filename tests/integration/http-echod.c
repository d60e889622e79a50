/*
 * http-echod.c - test server on the Arkor HTTP server library.
 *
 *   http-echod --listen 127.0.0.1:0 --port-file FILE [--threads N]
 *              [--tls-cert F --tls-key F] [--log-level L]
 *
 * Routes: PUT|POST /sink (count + SHA-256 of the streamed body, JSON),
 * PUT|POST /echo (body streamed back chunked, with back-pressure),
 * GET /bytes?n=N (N deterministic pseudo-random bytes), GET /file?path=P
 * (sendfile), GET /small (4 KiB), GET /stats (server counters, JSON).
 * GET /health and /metrics come from common/svc.
 * SIGTERM/SIGINT stop the server gracefully and exit 0.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/evp.h>

#include "common/http_server.h"
#include "common/svc.h"
#include "common/log.h"
#include "common/util.h"

static char small_body[4096];
static struct ark_http_server *server;

static int
method_is(struct ark_http_req *req, const char *a, const char *b)
{
	const char *m = ark_http_req_method(req);

	return strcmp(m, a) == 0 || (b != NULL && strcmp(m, b) == 0);
}

/* ---- /sink ---- */

struct sink {
	EVP_MD_CTX	*md;
	uint64_t	 bytes;
};

static void
sink_finish(struct ark_http_req *req, enum ark_err why, void *arg)
{
	struct sink *s = arg;

	EVP_MD_CTX_free(s->md);
	free(s);
}

static void
sink_data(struct ark_http_req *req, const void *data, size_t len, void *arg)
{
	struct sink *s = arg;

	EVP_DigestUpdate(s->md, data, len);
	s->bytes += len;
}

static void
sink_end(struct ark_http_req *req, void *arg)
{
	struct sink	*s = arg;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		 hex[2 * EVP_MAX_MD_SIZE + 1];
	char		*json;

	EVP_DigestFinal_ex(s->md, md, &mdlen);
	ark_hex_encode(md, mdlen, hex);
	json = ark_xasprintf("{\"bytes\":%" PRIu64 ",\"sha256\":\"%s\"}\n",
	    s->bytes, hex);
	ark_http_reply_simple(req, 200, "application/json", json,
	    strlen(json));
	free(json);
}

static void
route_sink(struct ark_http_req *req)
{
	struct sink *s = ark_xcalloc(1, sizeof(*s));

	s->md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(s->md, EVP_sha256(), NULL);
	ark_http_req_on_finish(req, sink_finish, s);
	ark_http_req_on_body(req, sink_data, sink_end, s);
}

/* ---- /echo ---- */

static void
echo_data(struct ark_http_req *req, const void *data, size_t len, void *arg)
{
	ark_http_reply_write(req, data, len);
	if (ark_http_reply_congested(req))
		ark_http_req_pause(req);
}

static void
echo_drain(struct ark_http_req *req, void *arg)
{
	ark_http_req_resume(req);
}

static void
echo_end(struct ark_http_req *req, void *arg)
{
	ark_http_reply_end(req);
}

static void
route_echo(struct ark_http_req *req)
{
	const char *ct = ark_http_req_header(req, "content-type");

	/* body callbacks first, so that "100 Continue" precedes the reply */
	ark_http_req_on_body(req, echo_data, echo_end, NULL);
	if (ct != NULL)
		ark_http_resp_header(req, "Content-Type", ct);
	ark_http_reply_on_drain(req, echo_drain, NULL);
	ark_http_reply_start(req, 200, -1);
}

/* ---- /bytes ---- */

struct gen {
	uint64_t	 left;
	uint64_t	 x;
};

static void
gen_finish(struct ark_http_req *req, enum ark_err why, void *arg)
{
	free(arg);
}

static void
gen_fill(struct ark_http_req *req, void *arg)
{
	struct gen	*g = arg;
	uint64_t	 buf[8192];
	size_t		 i, n;

	while (g->left > 0 && !ark_http_reply_congested(req)) {
		for (i = 0; i < ARK_ARRAY_SIZE(buf); i++) {
			/* xorshift64*: cheap and deterministic */
			g->x ^= g->x >> 12;
			g->x ^= g->x << 25;
			g->x ^= g->x >> 27;
			buf[i] = g->x * 2685821657736338717ULL;
		}
		n = (size_t)ARK_MIN((uint64_t)sizeof(buf), g->left);
		ark_http_reply_write(req, buf, n);
		g->left -= n;
	}
	if (g->left == 0)
		ark_http_reply_end(req);
}

static void
route_bytes(struct ark_http_req *req)
{
	const char	*q = ark_http_req_query(req);
	struct gen	*g;
	uint64_t	 n;

	if (q == NULL || strncmp(q, "n=", 2) != 0 ||
	    ark_parse_size(q + 2, &n) != ARK_OK) {
		ark_http_reply_error(req, 400);
		return;
	}
	if (strcmp(ark_http_req_method(req), "HEAD") == 0) {
		ark_http_reply_start(req, 200, (int64_t)n);
		ark_http_reply_end(req);
		return;
	}
	g = ark_xcalloc(1, sizeof(*g));
	g->left = n;
	g->x = 0x9e3779b97f4a7c15ULL;
	ark_http_req_on_finish(req, gen_finish, g);
	ark_http_resp_header(req, "Content-Type", "application/octet-stream");
	ark_http_reply_on_drain(req, gen_fill, g);
	ark_http_reply_start(req, 200, (int64_t)n);
	gen_fill(req, g);
}

/* ---- /file, /small, /stats ---- */

static void
route_file(struct ark_http_req *req)
{
	const char	*q = ark_http_req_query(req);
	struct stat	 st;
	int		 fd;

	if (q == NULL || strncmp(q, "path=", 5) != 0) {
		ark_http_reply_error(req, 400);
		return;
	}
	if ((fd = open(q + 5, O_RDONLY | O_CLOEXEC)) < 0) {
		ark_http_reply_error(req, 404);
		return;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		ark_http_reply_error(req, 404);
		return;
	}
	ark_http_resp_header(req, "Content-Type", "application/octet-stream");
	ark_http_reply_start(req, 200, st.st_size);
	if (ark_http_reply_add_file(req, fd, 0, st.st_size) != ARK_OK)
		ark_log_warnx("add_file failed");
	ark_http_reply_end(req);
}

static void
route_stats(struct ark_http_req *req)
{
	struct ark_http_server_stats	 s;
	char				*json;

	ark_http_server_stats(server, &s);
	json = ark_xasprintf("{\"requests\":%" PRIu64 ",\"2xx\":%" PRIu64
	    ",\"4xx\":%" PRIu64 ",\"5xx\":%" PRIu64 ",\"bytes_in\":%" PRIu64
	    ",\"bytes_out\":%" PRIu64 ",\"conns_total\":%" PRIu64
	    ",\"conns_active\":%" PRIu64 "}\n", s.requests, s.status_class[2],
	    s.status_class[4], s.status_class[5], s.bytes_in, s.bytes_out,
	    s.conns_total, s.conns_active);
	ark_http_reply_simple(req, 200, "application/json", json,
	    strlen(json));
	free(json);
}

static void
handler(struct ark_http_req *req, void *arg)
{
	const char *path = ark_http_req_path(req);

	if (strcmp(path, "/sink") == 0 && method_is(req, "PUT", "POST"))
		route_sink(req);
	else if (strcmp(path, "/echo") == 0 && method_is(req, "PUT", "POST"))
		route_echo(req);
	else if (strcmp(path, "/bytes") == 0 && method_is(req, "GET", "HEAD"))
		route_bytes(req);
	else if (strcmp(path, "/file") == 0 && method_is(req, "GET", "HEAD"))
		route_file(req);
	else if (strcmp(path, "/small") == 0 && method_is(req, "GET", "HEAD"))
		ark_http_reply_simple(req, 200, "application/octet-stream",
		    small_body, sizeof(small_body));
	else if (strcmp(path, "/stats") == 0)
		route_stats(req);
	else
		ark_http_reply_error(req, 404);
}

static enum ark_err
on_started(struct ark_http_server *srv, void *arg)
{
	server = srv;
	return ARK_OK;
}

static void
usage(void)
{
	fprintf(stderr, "usage: http-echod --listen HOST:PORT --port-file FILE "
	    "[--threads N] [--tls-cert F --tls-key F] [--log-level L]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct ark_svc_opts	 o;
	const char		*listen_addr = "127.0.0.1:0";
	size_t			 i;
	int			 lvl = ARK_LOG_INFO;

	memset(&o, 0, sizeof(o));
	for (i = 1; i < (size_t)argc; i++) {
		const char *a = argv[i];

		if (i + 1 >= (size_t)argc)
			usage();
		if (strcmp(a, "--listen") == 0)
			listen_addr = argv[++i];
		else if (strcmp(a, "--port-file") == 0)
			o.port_file = argv[++i];
		else if (strcmp(a, "--threads") == 0)
			o.http.threads = (unsigned)atoi(argv[++i]);
		else if (strcmp(a, "--tls-cert") == 0)
			o.http.tls_cert_file = argv[++i];
		else if (strcmp(a, "--tls-key") == 0)
			o.http.tls_key_file = argv[++i];
		else if (strcmp(a, "--log-level") == 0) {
			if ((lvl = ark_log_level_parse(argv[++i])) < 0)
				usage();
		} else
			usage();
	}
	ark_log_init("http-echod", (enum ark_log_level)lvl);
	ark_log_hook_libevent();
	for (i = 0; i < sizeof(small_body); i++)
		small_body[i] = (char)('a' + i % 26);

	o.program = "http-echod";
	o.listen = listen_addr;
	o.handler = handler;
	o.started = on_started;
	return ark_svc_run(&o) == ARK_OK ? 0 : 1;
}
