/*
 * test_http_server.c - the HTTP server over real loopback sockets.
 * One server (2 worker threads, short header timeout) runs for the whole
 * group; each test drives it with raw sockets that carry receive timeouts,
 * so a server bug fails a test instead of hanging it. Responses are parsed
 * with libhttp-parser in response mode.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <http_parser.h>

#include "common/http_server.h"
#include "common/log.h"
#include "common/util.h"

static struct ark_http_server	*srv;
static uint16_t			 port;

/* ---- server side: test routes ---- */

struct body_ctx {
	struct ark_http_req	*req;
	char			*buf;
	size_t			 len, cap;
	struct event		*ev;
};

static void
body_ctx_free(struct ark_http_req *req, enum ark_err why, void *arg)
{
	struct body_ctx *b = arg;

	if (b->ev != NULL)
		event_free(b->ev);
	free(b->buf);
	free(b);
}

static void
on_data(struct ark_http_req *req, const void *data, size_t len, void *arg)
{
	struct body_ctx *b = arg;

	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		b->buf = ark_xrealloc(b->buf, b->cap);
	}
	memcpy(b->buf + b->len, data, len);
	b->len += len;
}

static void
on_end(struct ark_http_req *req, void *arg)
{
	struct body_ctx *b = arg;
	char *s = ark_xasprintf("%s %s q=%s x=%s cl=%lld ch=%d len=%zu body=%.*s",
	    ark_http_req_method(req), ark_http_req_path(req),
	    ark_http_req_query(req) ? ark_http_req_query(req) : "-",
	    ark_http_req_header(req, "x-test") ? ark_http_req_header(req,
	    "x-test") : "-", (long long)ark_http_req_content_length(req),
	    ark_http_req_is_chunked(req), b->len, (int)ARK_MIN(b->len, 64),
	    b->buf ? b->buf : "");

	ark_http_reply_simple(req, 200, "text/plain", s, strlen(s));
	free(s);
}

static void
on_async_timer(evutil_socket_t fd, short what, void *arg)
{
	struct body_ctx *b = arg;

	ark_http_reply_simple(b->req, 200, NULL, "late", 4);
}

static void
handler(struct ark_http_req *req, void *arg)
{
	const char	*path = ark_http_req_path(req);
	struct body_ctx	*b;

	if (strcmp(path, "/hello") == 0) {
		ark_http_resp_header(req, "X-Hello", "yes");
		ark_http_reply_simple(req, 200, "text/plain", "hello", 5);
	} else if (strcmp(path, "/chunked") == 0) {
		ark_http_reply_start(req, 200, -1);
		ark_http_reply_write(req, "abc", 3);
		ark_http_reply_write(req, "", 0);
		ark_http_reply_write(req, "defg", 4);
		ark_http_reply_end(req);
	} else if (strcmp(path, "/reject") == 0) {
		ark_http_reply_error(req, 403);
	} else if (strcmp(path, "/file") == 0) {
		const char	*q = ark_http_req_query(req);
		struct stat	 st;
		int		 fd;

		if (q == NULL || strncmp(q, "path=", 5) != 0 ||
		    (fd = open(q + 5, O_RDONLY)) < 0) {
			ark_http_reply_error(req, 404);
			return;
		}
		fstat(fd, &st);
		ark_http_reply_start(req, 200, st.st_size);
		ark_http_reply_add_file(req, fd, 0, st.st_size);
		ark_http_reply_end(req);
	} else if (strcmp(path, "/async") == 0) {
		struct timeval tv = { 0, 50000 };

		b = ark_xcalloc(1, sizeof(*b));
		b->req = req;
		ark_http_req_on_finish(req, body_ctx_free, b);
		b->ev = evtimer_new(ark_http_req_base(req), on_async_timer, b);
		evtimer_add(b->ev, &tv);
	} else {
		/* echo the request description and body */
		b = ark_xcalloc(1, sizeof(*b));
		b->req = req;
		ark_http_req_on_finish(req, body_ctx_free, b);
		if (strcmp(path, "/limit") == 0 &&
		    ark_http_req_set_max_body(req, 100) != ARK_OK) {
			ark_http_reply_error(req, 413);
			return;
		}
		ark_http_req_on_body(req, on_data, on_end, b);
	}
}

static int
group_setup(void **state)
{
	struct ark_http_server_opts o;

	memset(&o, 0, sizeof(o));
	o.host = "127.0.0.1";
	o.threads = 2;
	o.header_timeout_ms = 600;
	o.idle_timeout_ms = 5000;
	o.io_timeout_ms = 5000;
	o.grace_ms = 1000;
	o.handler = handler;
	if (ark_http_server_new(&o, &srv) != ARK_OK)
		return -1;
	port = ark_http_server_port(srv);
	if (port == 0 || ark_http_server_start(srv) != ARK_OK)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	struct ark_http_server_stats st;

	ark_http_server_stats(srv, &st);
	assert_true(st.requests > 10);
	assert_true(st.status_class[2] > 5);
	assert_true(st.status_class[4] > 3);
	ark_http_server_free(srv);
	return 0;
}

/* ---- client side ---- */

struct resp {
	int	 status;
	char	 hdrs[8192];
	size_t	 hlen;
	char	*body;
	size_t	 blen;
	bool	 done;
	bool	 keepalive;
};

struct cli {
	int		 fd;
	http_parser	 p;
	char		 buf[65536];
	size_t		 off, len;
	bool		 head;
	bool		 eof;
	struct resp	*r;
};

static int
rs_hfield(http_parser *p, const char *at, size_t n)
{
	struct cli *c = p->data;
	struct resp *r = c->r;

	if (r->hlen + n + 4 < sizeof(r->hdrs)) {
		memcpy(r->hdrs + r->hlen, at, n);
		r->hlen += n;
	}
	return 0;
}

static int
rs_hfield_start(http_parser *p, const char *at, size_t n)
{
	return rs_hfield(p, at, n);
}

static int
rs_hvalue(http_parser *p, const char *at, size_t n)
{
	struct cli *c = p->data;
	struct resp *r = c->r;

	if (r->hlen + n + 4 < sizeof(r->hdrs)) {
		r->hdrs[r->hlen++] = ':';
		memcpy(r->hdrs + r->hlen, at, n);
		r->hlen += n;
		r->hdrs[r->hlen++] = '\n';
		r->hdrs[r->hlen] = '\0';
	}
	return 0;
}

static int
rs_headers_complete(http_parser *p)
{
	struct cli *c = p->data;

	c->r->status = p->status_code;
	return (c->head && p->status_code >= 200) ? 1 : 0;
}

static int
rs_body(http_parser *p, const char *at, size_t n)
{
	struct cli *c = p->data;
	struct resp *r = c->r;

	r->body = ark_xrealloc(r->body, r->blen + n + 1);
	memcpy(r->body + r->blen, at, n);
	r->blen += n;
	r->body[r->blen] = '\0';
	return 0;
}

static int
rs_complete(http_parser *p)
{
	struct cli *c = p->data;

	c->r->done = true;
	c->r->keepalive = http_should_keep_alive(p);
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings rs_settings = {
	.on_header_field = rs_hfield_start,
	.on_header_value = rs_hvalue,
	.on_headers_complete = rs_headers_complete,
	.on_body = rs_body,
	.on_message_complete = rs_complete,
};

static int
cli_connect(struct cli *c)
{
	struct sockaddr_in	 sin;
	struct timeval		 tv = { 5, 0 };
	int			 one = 1;

	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(c->fd >= 0);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	http_parser_init(&c->p, HTTP_RESPONSE);
	c->p.data = c;
	return c->fd;
}

static void
cli_close(struct cli *c)
{
	close(c->fd);
	c->fd = -1;
}

static void
cli_send(struct cli *c, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;		/* the server may have closed */
		p += n;
		len -= (size_t)n;
	}
}

static void
cli_sends(struct cli *c, const char *s)
{
	cli_send(c, s, strlen(s));
}

static void
resp_clear(struct resp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* Reads one response; -1 on timeout, error or EOF before its end. */
static int
cli_read(struct cli *c, struct resp *r, bool head)
{
	size_t n;
	ssize_t got;

	memset(r, 0, sizeof(*r));
	c->r = r;
	c->head = head;
	for (;;) {
		if (c->len > c->off) {
			if (HTTP_PARSER_ERRNO(&c->p) == HPE_PAUSED)
				http_parser_pause(&c->p, 0);
			n = http_parser_execute(&c->p, &rs_settings,
			    c->buf + c->off, c->len - c->off);
			c->off += n;
			if (r->done)
				return 0;
			if (HTTP_PARSER_ERRNO(&c->p) != HPE_OK)
				return -1;
		}
		if (c->eof)
			return -1;
		c->off = c->len = 0;
		got = recv(c->fd, c->buf, sizeof(c->buf), 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			c->eof = true;
			if (HTTP_PARSER_ERRNO(&c->p) == HPE_PAUSED)
				http_parser_pause(&c->p, 0);
			http_parser_execute(&c->p, &rs_settings, NULL, 0);
			return r->done ? 0 : -1;
		}
		c->len = (size_t)got;
	}
}

/* True when the server closed the connection (EOF or reset) in time. */
static bool
cli_closed(struct cli *c)
{
	char	b[4096];
	ssize_t	n;

	if (c->len > c->off)
		return false;
	for (;;) {
		n = recv(c->fd, b, sizeof(b), 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;	/* timeout: still open */
	}
}

static bool
has_header(const struct resp *r, const char *line)
{
	return strstr(r->hdrs, line) != NULL;
}

/* ---- tests ---- */

static void
test_simple_get(void **state)
{
	struct cli c;
	struct resp r;

	cli_connect(&c);
	cli_sends(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(cli_read(&c, &r, false), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.blen, 5);
	assert_memory_equal(r.body, "hello", 5);
	assert_true(has_header(&r, "X-Hello:yes"));
	assert_true(has_header(&r, "X-Arkor-Request-Id:"));
	assert_true(has_header(&r, "Date:"));
	assert_true(r.keepalive);
	resp_clear(&r);
	cli_close(&c);
}

static void
test_split_every_byte(void **state)
{
	static const char req[] = "POST /desc?a=1&b=2 HTTP/1.1\r\n"
	    "Host: example\r\nX-Test: split\r\nContent-Length: 11\r\n\r\n"
	    "hello world";
	static const char want[] = "POST /desc q=a=1&b=2 x=split cl=11 ch=0 "
	    "len=11 body=hello world";
	const size_t len = sizeof(req) - 1;
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	struct cli c;
	struct resp r;
	size_t i;

	cli_connect(&c);
	for (i = 1; i < len; i++) {
		cli_send(&c, req, i);
		nanosleep(&ts, NULL);
		cli_send(&c, req + i, len - i);
		assert_int_equal(cli_read(&c, &r, false), 0);
		assert_int_equal(r.status, 200);
		if (r.blen != sizeof(want) - 1 ||
		    memcmp(r.body, want, r.blen) != 0)
			fail_msg("split at %zu: got '%s'", i, r.body);
		resp_clear(&r);
	}
	cli_close(&c);
}

static void
test_pipelined(void **state)
{
	struct cli c;
	struct resp r;
	int i;

	cli_connect(&c);
	cli_sends(&c, "GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
	    "POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
	    "GET /three HTTP/1.1\r\nHost: x\r\n\r\n");
	for (i = 0; i < 3; i++) {
		assert_int_equal(cli_read(&c, &r, false), 0);
		assert_int_equal(r.status, 200);
		if (i == 0)
			assert_non_null(strstr(r.body, "GET /one "));
		if (i == 1)
			assert_non_null(strstr(r.body, "POST /two q=- x=- cl=3 "
			    "ch=0 len=3 body=abc"));
		if (i == 2)
			assert_non_null(strstr(r.body, "GET /three "));
		resp_clear(&r);
	}
	cli_close(&c);
}

static void
test_chunked_request(void **state)
{
	struct cli c;
	struct resp r;

	cli_connect(&c);
	cli_sends(&c, "PUT /up HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: t\r\n\r\n");
	assert_int_equal(cli_read(&c, &r, false), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "cl=-1 ch=1 len=11 body=hello world"));
	resp_clear(&r);
	/* the connection is still in sync */
	cli_sends(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(cli_read(&c, &r, false), 0);
	assert_int_equal(r.status, 200);
	resp_clear(&r);
	cli_close(&c);
}

static void
test_chunked_response(void **state)
{
	struct cli c;
	struct resp r;

	cli_connect(&c);
	cli_sends(&c, "GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(cli_read(&c, &r, false), 0);
	assert_int_equal(r.status, 200);
	assert_true(has_header(&r, "Transfer-Encoding:chunked"));
	assert_int_equal(r.blen, 7);
	assert_memory_equal(r.body, "abcdefg", 7);
	assert_true(r.keepalive);
	resp_clear(&r);
	cli_close(&c);

	/* HTTP/1.0: close-delimited */
	cli_connect(&c);
	cli_sends(&c, "GET /chunked HTTP/1.0\r\n\r\n");
	assert_int_equal(cli_read(&c, &r, false), 0);
	assert_int_equal(r.status, 200);
	assert_false(has_header(&r, "Transfer-Encoding"));
	assert_true(has_header(&r, "Connection:close"));
	assert_memory_equal(r.body, "abcdefg", 7);
	resp_clear(&r);
	cli_close(&c);
}

static void
test_expect_continue(void **state)
{
	struct cli c;
	struct resp r;

	/* accepted: 100 first, then the body, then the answer */
	cli_connect(&c);
	cli_sends(&c, "PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
	    "Expect: 100-continue\r\n\r\n");
	assert_int_equal(cli_read(&c, &r, false), 0);
	assert_int_equal(r.status, 100);
	resp_clear(&r);
	cli_sends(&c, "data");
	assert_int_equal(cli_read(&c, &r, false), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "len=4 body=data"));
	resp_clear(&r);
	cli_close(&c);

	/* rejected: no 100, a final answer, then the connection closes */
	cli_connect(&c);
	cli_sends(&c, "PUT /reject HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 100000000\r\nExpect: 100-continue\r\n\r\n");
	assert_int_equal(cli_read(&c, &r, false), 0);
	assert_int_equal(r.status, 403);
	assert_true(has_header(&r, "Connection:close"));
	resp_clear(&r);
	assert_true(cli_closed(&c));
	cli_close(&c);

	/* rejected without Expect and a small body: body discarded,
	 * connection kept and in sync */
	cli_connect(&c);
	cli_sends(&c, "PUT /reject HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 5\r\n\r\nabcde"
	    "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(cli_read(&c, &r, false), 0);
	assert_int_equal(r.status, 403);
	resp_clear(&r);
	assert_int_equal(cli_read(&c, &r, false), 0);
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.body, "hello", 5);
	resp_clear(&r);
	cli_close(&c);
}

static void
expect_error_and_close(const char *req, size_t len, int status)
{
	struct cli c;
	struct resp r;

	cli_connect(&c);
	cli_send(&c, req, len);
	assert_int_equal(cli_read(&c, &r, false), 0);
	assert_int_equal(r.status, status);
	assert_true(has_header(&r, "Connection:close"));
	resp_clear(&r);
	assert_true(cli_closed(&c));
	cli_close(&c);
}

static void
test_big_headers(void **state)
{
	size_t	 n = 70 * 1024;
	char	*req = ark_xmalloc(n + 128);
	int	 len;

	len = snprintf(req, 128, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(req + len, 'a', n);
	len += (int)n;
	memcpy(req + len, "\r\n\r\n", 4);
	expect_error_and_close(req, (size_t)len + 4, 431);
	free(req);
}

static void
test_many_headers(void **state)
{
	char	*req = ark_xmalloc(200 * 16 + 64);
	size_t	 len = 0;
	int	 i;

	len += (size_t)sprintf(req, "GET / HTTP/1.1\r\n");
	for (i = 0; i < 200; i++)
		len += (size_t)sprintf(req + len, "X-H%d: v\r\n", i);
	len += (size_t)sprintf(req + len, "\r\n");
	expect_error_and_close(req, len, 431);
	free(req);
}

static void
test_long_url(void **state)
{
	size_t	 n = 20 * 1024;
	char	*req = ark_xmalloc(n + 128);
	size_t	 len = 0;

	memcpy(req, "GET /", 5);
	len = 5;
	memset(req + len, 'u', n);
	len += n;
	len += (size_t)sprintf(req + len, " HTTP/1.1\r\nHost: x\r\n\r\n");
	expect_error_and_close(req, len, 414);
	free(req);
}

static void
test_malformed(void **state)
{
	static const char bad1[] = "GARBAGE\r\n\r\n";
	static const char bad2[] = "GET / HTTP/1.1\r\nBad Header\r\n\r\n";
	static const char bad3[] = "GET / HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 12x\r\n\r\n";
	static const char cl_te[] = "POST / HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\n\r\n";
	static const char te_gzip[] = "POST / HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: gzip\r\n\r\n";
	static const char cl_cl[] = "POST / HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef";
	static const char bad_chunk[] = "POST / HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\nzz\r\n";

	expect_error_and_close(bad1, sizeof(bad1) - 1, 400);
	expect_error_and_close(bad2, sizeof(bad2) - 1, 400);
	expect_error_and_close(bad3, sizeof(bad3) - 1, 400);
	expect_error_and_close(cl_te, sizeof(cl_te) - 1, 400);
	expect_error_and_close(te_gzip, sizeof(te_gzip) - 1, 501);
	expect_error_and_close(cl_cl, sizeof(cl_cl) - 1, 400);
	expect_error_and_close(bad_chunk, sizeof(bad_chunk) - 1, 400);
}

static void
test_slowloris(void **state)
{
	static const char hdr[] = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa";
	struct timespec ts = { 0, 100 * 1000 * 1000 }, t0, t1;
	struct cli c;
	size_t i;
	double secs;

	cli_connect(&c);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < sizeof(hdr) - 1; i++) {
		cli_send(&c, hdr + i, 1);
		nanosleep(&ts, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 2)
			break;
	}
	assert_true(cli_closed(&c));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(secs < 4.0);
	cli_close(&c);
}

static void
test_keepalive(void **state)
{
	struct ark_http_server_stats s0, s1;
	struct cli c;
	struct resp r;
	int i;

	ark_http_server_stats(srv, &s0);
	cli_connect(&c);
	for (i = 0; i < 5; i++) {
		cli_sends(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
		assert_int_equal(cli_read(&c, &r, false), 0);
		assert_int_equal(r.status, 200);
		resp_clear(&r);
	}
	/* HTTP/1.0 with keep-alive */
	cli_sends(&c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	assert_int_equal(cli_read(&c, &r, false), 0);
	assert_true(has_header(&r, "Connection:keep-alive"));
	resp_clear(&r);
	/* Connection: close is honoured */
	cli_sends(&c, "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n");
	assert_int_equal(cli_read(&c, &r, false), 0);
	assert_true(has_header(&r, "Connection:close"));
	resp_clear(&r);
	assert_true(cli_closed(&c));
	cli_close(&c);
	ark_http_server_stats(srv, &s1);
	assert_int_equal(s1.conns_total - s0.conns_total, 1);
	assert_true(s1.requests - s0.requests >= 7);
}

static void
test_head(void **state)
{
	struct cli c;
	struct resp r;

	cli_connect(&c);
	cli_sends(&c, "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(cli_read(&c, &r, true), 0);
	assert_int_equal(r.status, 200);
	assert_true(has_header(&r, "Content-Length:5"));
	assert_int_equal(r.blen, 0);
	resp_clear(&r);
	cli_sends(&c, "HEAD /chunked HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(cli_read(&c, &r, true), 0);
	assert_int_equal(r.blen, 0);
	resp_clear(&r);
	/* no stray body bytes: the next response parses cleanly */
	cli_sends(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(cli_read(&c, &r, false), 0);
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.body, "hello", 5);
	resp_clear(&r);
	cli_close(&c);
}

static void
test_sendfile(void **state)
{
	char		 path[] = "/tmp/test_http_server.XXXXXX";
	size_t		 n = 3 * 1024 * 1024 + 17, i;
	unsigned char	*data = ark_xmalloc(n);
	char		 req[256];
	struct cli	 c;
	struct resp	 r;
	int		 fd;

	for (i = 0; i < n; i++)
		data[i] = (unsigned char)((i * 2654435761u) >> 13);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
	cli_connect(&c);
	snprintf(req, sizeof(req), "GET /file?path=%s HTTP/1.1\r\nHost: x\r\n\r\n",
	    path);
	cli_sends(&c, req);
	assert_int_equal(cli_read(&c, &r, false), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.blen, n);
	assert_memory_equal(r.body, data, n);
	resp_clear(&r);
	/* and again on the same connection */
	cli_sends(&c, req);
	assert_int_equal(cli_read(&c, &r, false), 0);
	assert_int_equal(r.blen, n);
	resp_clear(&r);
	cli_close(&c);
	unlink(path);
	free(data);
}

static void
test_async_and_limit(void **state)
{
	struct cli c;
	struct resp r;
	char body[300];

	cli_connect(&c);
	cli_sends(&c, "GET /async HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(cli_read(&c, &r, false), 0);
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.body, "late", 4);
	resp_clear(&r);
	cli_close(&c);

	/* declared length over the limit: the handler answers 413 */
	cli_connect(&c);
	cli_sends(&c, "PUT /limit HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 100000000\r\n\r\n");
	assert_int_equal(cli_read(&c, &r, false), 0);
	assert_int_equal(r.status, 413);
	resp_clear(&r);
	assert_true(cli_closed(&c));
	cli_close(&c);

	/* a chunked body growing past it: automatic 413 */
	memset(body, 'z', sizeof(body));
	cli_connect(&c);
	cli_sends(&c, "PUT /limit HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n12c\r\n");
	cli_send(&c, body, sizeof(body));
	cli_sends(&c, "\r\n0\r\n\r\n");
	assert_int_equal(cli_read(&c, &r, false), 0);
	assert_int_equal(r.status, 413);
	resp_clear(&r);
	assert_true(cli_closed(&c));
	cli_close(&c);

	/* abort while the handler waits: the finish callback frees */
	cli_connect(&c);
	cli_sends(&c, "GET /async HTTP/1.1\r\nHost: x\r\n\r\n");
	cli_close(&c);
}

static void
test_stop_inflight(void **state)
{
	struct ark_http_server_opts	 o;
	struct ark_http_server		*s2;
	struct timespec			 ts = { 0, 20 * 1000 * 1000 }, t0, t1;
	uint16_t			 saved = port;
	struct cli			 a, b;
	struct resp			 r;

	memset(&o, 0, sizeof(o));
	o.threads = 1;
	o.grace_ms = 3000;
	o.handler = handler;
	assert_int_equal(ark_http_server_new(&o, &s2), ARK_OK);
	assert_int_equal(ark_http_server_start(s2), ARK_OK);
	port = ark_http_server_port(s2);
	cli_connect(&a);
	cli_connect(&b);
	cli_sends(&a, "GET /async HTTP/1.1\r\nHost: x\r\n\r\n");
	nanosleep(&ts, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ark_http_server_stop(s2);
	/* the in-flight request completes, with Connection: close */
	assert_int_equal(cli_read(&a, &r, false), 0);
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.body, "late", 4);
	assert_true(has_header(&r, "Connection:close"));
	resp_clear(&r);
	assert_true(cli_closed(&a));
	/* the idle one is closed */
	assert_true(cli_closed(&b));
	/* (a lingering close waits for the client's FIN) */
	cli_close(&a);
	cli_close(&b);
	ark_http_server_free(s2);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	port = saved;
}

static void
test_timeouts(void **state)
{
	struct ark_http_server_opts	 o;
	struct ark_http_server		*s3;
	struct ark_http_server_stats	 st;
	struct timespec			 t0, t1;
	uint16_t			 saved = port;
	struct cli			 c;
	struct resp			 r;

	memset(&o, 0, sizeof(o));
	o.threads = 1;
	o.idle_timeout_ms = 200;
	o.io_timeout_ms = 300;
	o.handler = handler;
	assert_int_equal(ark_http_server_new(&o, &s3), ARK_OK);
	assert_int_equal(ark_http_server_start(s3), ARK_OK);
	port = ark_http_server_port(s3);

	/* idle keep-alive connection closed after idle_timeout_ms */
	cli_connect(&c);
	cli_sends(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(cli_read(&c, &r, false), 0);
	resp_clear(&r);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_true(cli_closed(&c));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	cli_close(&c);

	/* a body that stalls: cut off after io_timeout_ms, request aborted */
	cli_connect(&c);
	cli_sends(&c, "PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n"
	    "\r\nab");
	assert_true(cli_closed(&c));
	cli_close(&c);
	ark_http_server_stats(s3, &st);
	assert_int_equal(st.status_class[0], 1);	/* the aborted one */
	ark_http_server_free(s3);
	port = saved;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_get),
		cmocka_unit_test(test_split_every_byte),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_chunked_request),
		cmocka_unit_test(test_chunked_response),
		cmocka_unit_test(test_expect_continue),
		cmocka_unit_test(test_big_headers),
		cmocka_unit_test(test_many_headers),
		cmocka_unit_test(test_long_url),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_slowloris),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_sendfile),
		cmocka_unit_test(test_async_and_limit),
		cmocka_unit_test(test_stop_inflight),
		cmocka_unit_test(test_timeouts),
	};

	ark_log_init("test_http_server", ARK_LOG_WARN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
