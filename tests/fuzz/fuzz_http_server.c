/*
 * fuzz_http_server.c - libFuzzer target: arbitrary bytes as a client's
 * input to one server connection (parser, limits, body decoding,
 * pipelining, early replies, discard, abort) over a bufferevent pair.
 * Invariants: no crash or leak (ASan/UBSan), the server's output is a
 * sequence of well-formed HTTP/1.1 responses with valid statuses, and the
 * connection and request objects are all released.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <http_parser.h>

#include "common/http_server.h"
#include "common/http_server_int.h"
#include "common/log.h"
#include "common/util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fctx {
	struct ark_http_req	*req;
	struct event		*ev;
	uint64_t		 n;
};

static void
f_finish(struct ark_http_req *req, enum ark_err why, void *arg)
{
	struct fctx *f = arg;

	if (f->ev != NULL)
		event_free(f->ev);
	free(f);
}

static void
f_echo_data(struct ark_http_req *req, const void *d, size_t len, void *arg)
{
	ark_http_reply_write(req, d, len);
	if (ark_http_reply_congested(req))
		ark_http_req_pause(req);
}

static void
f_drain(struct ark_http_req *req, void *arg)
{
	ark_http_req_resume(req);
}

static void
f_count(struct ark_http_req *req, const void *d, size_t len, void *arg)
{
	struct fctx *f = arg;

	f->n += len;
}

static void
f_end_echo(struct ark_http_req *req, void *arg)
{
	ark_http_reply_end(req);
}

static void
f_end_simple(struct ark_http_req *req, void *arg)
{
	ark_http_reply_simple(req, 200, "text/plain", "ok\n", 3);
}

static void
f_async(evutil_socket_t fd, short what, void *arg)
{
	struct fctx *f = arg;

	ark_http_reply_start(f->req, 202, -1);
	ark_http_reply_write(f->req, "async", 5);
	ark_http_reply_end(f->req);
}

static void
f_handler(struct ark_http_req *req, void *arg)
{
	const char	*p = ark_http_req_path(req);
	struct fctx	*f = ark_xcalloc(1, sizeof(*f));
	struct timeval	 tv = { 0, 0 };

	f->req = req;
	ark_http_req_on_finish(req, f_finish, f);
	(void)ark_http_req_header(req, "host");
	switch (p[0] == '/' ? p[1] : 0) {
	case 'e':
		ark_http_req_on_body(req, f_echo_data, f_end_echo, f);
		ark_http_reply_on_drain(req, f_drain, f);
		ark_http_reply_start(req, 200, -1);
		break;
	case 'r':
		ark_http_reply_error(req, 403);
		break;
	case 'a':
		f->ev = evtimer_new(ark_http_req_base(req), f_async, f);
		evtimer_add(f->ev, &tv);
		break;
	case 'l':
		if (ark_http_req_set_max_body(req, 10) != ARK_OK) {
			ark_http_reply_error(req, 413);
			break;
		}
		/* FALLTHROUGH */
	default:
		ark_http_req_on_body(req, f_count, f_end_simple, f);
		break;
	}
}

struct rcheck {
	bool	 bad_status;
	bool	 in_headers;
};

static int
rc_headers_complete(http_parser *p)
{
	struct rcheck *rc = p->data;

	if (p->status_code < 100 || p->status_code > 599)
		rc->bad_status = true;
	return 0;
}

static const http_parser_settings rc_settings = {
	.on_headers_complete = rc_headers_complete,
};

static void
run(struct event_base *base, int iters)
{
	int i;

	for (i = 0; i < iters; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool			 inited;
	struct ark_http_server_opts	 o;
	struct ark_http_server		*srv;
	struct event_base		*base;
	struct bufferevent		*pair[2];
	struct evbuffer			*out;
	struct rcheck			 rc = { false, false };
	http_parser			 p;
	size_t				 split, olen, n;
	unsigned char			*resp;

	if (!inited) {
		ark_log_init("fuzz_http_server", ARK_LOG_ERROR);
		inited = true;
	}
	memset(&o, 0, sizeof(o));
	o.max_header_bytes = 4096;
	o.max_headers = 16;
	o.max_url = 512;
	o.discard_max = 1024;
	o.in_buffer = 4096;
	o.out_low_wm = 1024;
	o.out_high_wm = 4096;
	o.handler = f_handler;
	if (ark_http_server_new_detached(&o, &srv) != ARK_OK)
		abort();
	base = event_base_new();
	if (bufferevent_pair_new(base, BEV_OPT_DEFER_CALLBACKS, pair) != 0)
		abort();
	if (ark_http_server_attach_bev(srv, base, pair[0]) != ARK_OK)
		abort();
	bufferevent_enable(pair[1], EV_READ | EV_WRITE);

	/* two writes, split where the first byte says */
	split = size > 0 ? data[0] % (size + 1) : 0;
	bufferevent_write(pair[1], data, split);
	run(base, 16);
	bufferevent_write(pair[1], data + split, size - split);
	run(base, 64);

	/* what the server answered so far must be valid HTTP */
	out = bufferevent_get_input(pair[1]);
	olen = evbuffer_get_length(out);
	resp = evbuffer_pullup(out, -1);
	if (olen > 0) {
		if (olen < 12 || memcmp(resp, "HTTP/1.1 ", 9) != 0)
			abort();
		/* HEAD responses have headers of a body they do not carry:
		 * only the first one is checked then */
		http_parser_init(&p, HTTP_RESPONSE);
		p.data = &rc;
		n = http_parser_execute(&p, &rc_settings, (const char *)resp,
		    olen);
		if (rc.bad_status)
			abort();
		if (n != olen && HTTP_PARSER_ERRNO(&p) != HPE_OK &&
		    memmem(data, size, "HEAD", 4) == NULL &&
		    memmem(data, size, "head", 4) == NULL)
			abort();
	}

	/* client goes away; then tear everything down */
	bufferevent_free(pair[1]);
	run(base, 16);
	ark_http_server_free(srv);
	run(base, 4);
	event_base_free(base);
	return 0;
}
