/*
 * http_server.c - streaming HTTP/1.1 server: workers, connections, requests.
 *
 * Each worker thread owns an event_base, a SO_REUSEPORT listener and its
 * connections; nothing is shared between workers but atomic counters.
 * A connection handles one request at a time (state machine in
 * conn_step()); the parser is paused at the end of every header section
 * and message so that pipelined input waits in the bufferevent's input
 * buffer (bounded by the read high watermark). Handler callbacks only set
 * flags and queue output; every state change and every free happens at the
 * top of a libevent callback (conn_enter/conn_leave), never underneath a
 * handler callback.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <http_parser.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/http_client.h"
#include "common/http_server.h"
#include "common/http_server_int.h"
#include "common/log.h"
#include "common/tls.h"
#include "common/util.h"

#define SRV_MAGIC	0x41485356u	/* "AHSV" */
#define CONN_MAGIC	0x4148434eu	/* "AHCN" */
#define REQ_MAGIC	0x41485251u	/* "AHRQ" */

#define LINGER_MS		2000
#define LINGER_MAX_BYTES	(4u << 20)
#define FILE_PIECE		(256u * 1024)
#define REQID_HEADER		"X-Arkor-Request-Id"

struct hdr {
	uint32_t	 name;		/* offsets into req->sb */
	uint32_t	 value;		/* UINT32_MAX: empty value */
};

struct worker {
	struct ark_http_server	*srv;
	unsigned		 idx;
	struct event_base	*base;
	int			 lfd;
	struct evconnlistener	*listener;
	int			 stop_pipe[2];
	struct event		*stop_ev;
	struct event		*grace_ev;
	pthread_t		 thread;
	bool			 running;
	bool			 stopping;
	bool			 detached;
	LIST_HEAD(, conn)	 conns;
	unsigned		 nconns;
	int64_t			 date_s;
	char			 date[40];
};

struct ark_http_server {
	uint32_t			 magic;
	struct ark_http_server_opts	 o;
	char				*host;
	char				*cert;
	char				*key;
	uint16_t			 port;
	unsigned			 nworkers;
	struct worker			*workers;
	struct worker			*detached;
	SSL_CTX				*ssl_ctx;
	bool				 started;
	bool				 joined;
	atomic_bool			 stop_requested;
	_Atomic uint64_t		 st_requests;
	_Atomic uint64_t		 st_class[6];
	_Atomic uint64_t		 st_in;
	_Atomic uint64_t		 st_out;
	_Atomic uint64_t		 st_conns;
	_Atomic uint64_t		 st_active;
};

enum conn_state {
	CS_IDLE,		/* between requests, idle timer */
	CS_HEADERS,		/* reading a header section, header timer */
	CS_REQUEST,		/* handler owns a request */
	CS_CLOSING,		/* flushing a last response */
	CS_LINGER,		/* write side shut, draining input */
	CS_DEAD,		/* freed on the way out of the callback */
};

static const char *const conn_state_names[] = {
	"idle", "headers", "request", "closing", "linger", "dead",
};

struct conn {
	uint32_t		 magic;
	struct worker		*w;
	struct ark_http_server	*srv;
	struct bufferevent	*bev;
	int			 fd;		/* -1: not a socket */
	bool			 tls;
	enum conn_state		 state;
	http_parser		 parser;
	struct ark_http_req	*req;
	struct event		*timer;		/* header / idle / linger */
	struct event		*defer;		/* runs conn_step soon */
	int			 depth;
	bool			 hdrs_ready;	/* parser paused after headers */
	bool			 peer_eof;
	bool			 rd_timeout;	/* read timeout armed */
	bool			 close_after;	/* stop() seen */
	int			 err_status;	/* set by parser callbacks */
	uint64_t		 hdr_bytes;
	uint64_t		 linger_bytes;
	char			 peer[64];
	LIST_ENTRY(conn)	 link;
};

struct ark_http_req {
	uint32_t		 magic;
	struct conn		*c;
	char			 id[17];
	/* strings: url, then header names and values, NUL-separated */
	char			*sb;
	size_t			 sblen, sbcap;
	struct hdr		*hdrs;
	unsigned		 nhdrs, hcap;
	bool			 in_value;
	bool			 in_trailers;
	bool			 have_url;
	const char		*method;
	char			*path;		/* owned copies */
	char			*query;
	int			 version;
	int64_t			 clen;
	bool			 chunked;
	bool			 expect100;
	bool			 keepalive;
	bool			 head;
	bool			 handled;	/* handler invoked */
	/* body */
	ark_http_body_cb	 on_data;
	ark_http_req_cb		 on_end;
	void			*body_arg;
	bool			 want_body;
	bool			 paused;
	bool			 body_done;
	bool			 end_sent;	/* on_end delivered */
	bool			 discard;	/* body dropped after reply */
	bool			 abandon;	/* body left unread: close */
	bool			 cont_sent;
	uint64_t		 max_body;
	uint64_t		 body_bytes;
	ark_http_finish_cb	 on_finish;
	void			*finish_arg;
	ark_http_req_cb		 on_drain;
	void			*drain_arg;
	/* response */
	struct evbuffer		*rhdrs;
	int			 status;
	int64_t			 resp_clen;
	uint64_t		 resp_body;
	bool			 started;
	bool			 ended;
	bool			 chunked_out;
	bool			 nobody;
	bool			 close_conn;
	/* file range fed by pread (TLS or non-socket) */
	int			 ffd;
	off_t			 foff, flen;
	struct evbuffer		*tail;
	uint64_t		 bytes_in;
	uint64_t		 bytes_out;
	uint64_t		 t0_ns;
};

static void	conn_step(struct conn *);
static void	conn_schedule(struct conn *);
static void	conn_abort(struct conn *, enum ark_err);
static void	conn_close_graceful(struct conn *);
static void	conn_error_reply(struct conn *, int status, enum ark_err why);
static void	conn_enter(struct conn *);
static void	conn_leave(struct conn *);
static void	worker_maybe_exit(struct worker *);

/* ---- helpers ---- */

const char *
ark_http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	default: return "Unknown";
	}
}

static void
ms_to_tv(unsigned ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

static const char *
worker_date(struct worker *w)
{
	int64_t now = ark_now_s();

	if (now != w->date_s) {
		w->date_s = now;
		ark_http_date(now, w->date, sizeof(w->date));
	}
	return w->date;
}

static void
conn_set_state(struct conn *c, enum conn_state next)
{
	ark_log_debug("%s: conn %s: %s -> %s", __func__, c->peer,
	    conn_state_names[c->state], conn_state_names[next]);
	c->state = next;
}

static struct evbuffer *
conn_out(struct conn *c)
{
	return bufferevent_get_output(c->bev);
}

static struct evbuffer *
conn_in(struct conn *c)
{
	return bufferevent_get_input(c->bev);
}

static void
stat_add(_Atomic uint64_t *a, uint64_t n)
{
	atomic_fetch_add_explicit(a, n, memory_order_relaxed);
}

/* ---- request objects ---- */

static struct ark_http_req *
req_new(struct conn *c)
{
	struct ark_http_req *r = ark_xcalloc(1, sizeof(*r));
	uint64_t id = ark_random_u64();

	r->magic = REQ_MAGIC;
	r->c = c;
	ark_hex_encode(&id, sizeof(id), r->id);
	r->clen = 0;
	r->resp_clen = -1;
	r->ffd = -1;
	r->max_body = UINT64_MAX;
	r->t0_ns = ark_mono_ns();
	r->method = "-";
	return r;
}

static void
req_free(struct ark_http_req *r)
{
	if (r == NULL)
		return;
	if (r->ffd >= 0)
		close(r->ffd);
	if (r->rhdrs != NULL)
		evbuffer_free(r->rhdrs);
	if (r->tail != NULL)
		evbuffer_free(r->tail);
	free(r->sb);
	free(r->hdrs);
	free(r->path);
	free(r->query);
	r->magic = 0;
	free(r);
}

/* Appends raw bytes to the request's string store; false when the
 * request's header budget is exhausted (caller maps to 431/414). */
static bool
req_sb_append(struct ark_http_req *r, const char *p, size_t n)
{
	if (r->sblen + n + 1 > r->sbcap) {
		size_t cap = r->sbcap ? r->sbcap : 512;

		while (cap < r->sblen + n + 1)
			cap *= 2;
		r->sb = ark_xrealloc(r->sb, cap);
		r->sbcap = cap;
	}
	memcpy(r->sb + r->sblen, p, n);
	r->sblen += n;
	return true;
}

static void
req_sb_sep(struct ark_http_req *r)
{
	req_sb_append(r, "", 1);
}

static const char *
req_str(const struct ark_http_req *r, uint32_t off)
{
	return off == UINT32_MAX ? "" : r->sb + off;
}

static void
req_set_log(const struct ark_http_req *r)
{
	ark_log_set_reqid(r != NULL ? r->id : NULL);
}

/* Ends the request for the handler: access log, counters, finish callback,
 * free. Top level only (never inside a handler callback). */
static void
req_finish(struct conn *c, enum ark_err why)
{
	struct ark_http_req	*r = c->req;
	struct ark_http_server	*srv = c->srv;
	double			 ms;

	if (r == NULL)
		return;
	c->req = NULL;
	ms = (double)(ark_mono_ns() - r->t0_ns) / 1e6;
	req_set_log(r);
	if (r->started || why != ARK_OK || r->handled) {
		stat_add(&srv->st_requests, 1);
		stat_add(&srv->st_class[r->started ? (r->status / 100) % 6 : 0],
		    1);
		if (why == ARK_OK)
			ark_log_msg(srv->o.quiet_requests && r->status < 500 &&
			    r->status != 401 && r->status != 403 ?
			    ARK_LOG_DEBUG : ARK_LOG_INFO, 0, "%s %.256s %d in=%"
			    PRIu64 " out=%" PRIu64 " ms=%.3f peer=%s", r->method,
			    r->path != NULL ? r->path : "-", r->status,
			    r->bytes_in, r->bytes_out, ms, c->peer);
		else
			ark_log_info("%s %.256s %d in=%" PRIu64 " out=%" PRIu64
			    " ms=%.3f peer=%s aborted: %s", r->method,
			    r->path != NULL ? r->path : "-",
			    r->started ? r->status : 0, r->bytes_in,
			    r->bytes_out, ms, c->peer, ark_strerror(why));
	}
	if (r->on_finish != NULL)
		r->on_finish(r, why, r->finish_arg);
	ark_log_set_reqid(NULL);
	req_free(r);
}

/* ---- parser callbacks (run inside http_parser_execute) ---- */

static int
cb_message_begin(http_parser *p)
{
	struct conn *c = p->data;

	if (c->req == NULL)
		c->req = req_new(c);
	c->hdr_bytes = 0;
	return 0;
}

static int
hdr_budget(struct conn *c, size_t n)
{
	c->hdr_bytes += n;
	if (c->hdr_bytes > c->srv->o.max_header_bytes) {
		c->err_status = 431;
		return -1;
	}
	return 0;
}

static int
cb_url(http_parser *p, const char *at, size_t len)
{
	struct conn		*c = p->data;
	struct ark_http_req	*r = c->req;

	if (r == NULL) {		/* cannot happen: be safe */
		c->err_status = 400;
		return -1;
	}

	r->have_url = true;
	if (r->sblen + len > c->srv->o.max_url) {
		c->err_status = 414;
		return -1;
	}
	if (hdr_budget(c, len) != 0)
		return -1;
	req_sb_append(r, at, len);
	return 0;
}

static int
cb_header_field(http_parser *p, const char *at, size_t len)
{
	struct conn		*c = p->data;
	struct ark_http_req	*r = c->req;

	if (r == NULL) {		/* cannot happen: be safe */
		c->err_status = 400;
		return -1;
	}

	if (r->in_trailers)		/* chunked trailers: counted, dropped */
		return hdr_budget(c, len + 2);
	if (r->nhdrs == 0 || r->in_value) {
		if (r->nhdrs >= c->srv->o.max_headers) {
			c->err_status = 431;
			return -1;
		}
		if (r->nhdrs == r->hcap) {
			r->hcap = r->hcap ? r->hcap * 2 : 16;
			r->hdrs = ark_xrealloc(r->hdrs,
			    r->hcap * sizeof(*r->hdrs));
		}
		req_sb_sep(r);
		r->hdrs[r->nhdrs].name = (uint32_t)r->sblen;
		r->hdrs[r->nhdrs].value = UINT32_MAX;
		r->nhdrs++;
		r->in_value = false;
		if (hdr_budget(c, 4) != 0)	/* ": " and CRLF */
			return -1;
	}
	if (hdr_budget(c, len) != 0)
		return -1;
	req_sb_append(r, at, len);
	return 0;
}

static int
cb_header_value(http_parser *p, const char *at, size_t len)
{
	struct conn		*c = p->data;
	struct ark_http_req	*r = c->req;

	if (r == NULL) {		/* cannot happen: be safe */
		c->err_status = 400;
		return -1;
	}

	if (r->in_trailers)
		return hdr_budget(c, len + 2);
	if (r->nhdrs == 0)
		return -1;
	if (!r->in_value) {
		req_sb_sep(r);
		r->hdrs[r->nhdrs - 1].value = (uint32_t)r->sblen;
		r->in_value = true;
	}
	if (hdr_budget(c, len) != 0)
		return -1;
	req_sb_append(r, at, len);
	return 0;
}

static bool
token_is(const char *v, const char *tok)
{
	size_t n = strlen(tok);

	while (*v == ' ' || *v == '\t')
		v++;
	if (strncasecmp(v, tok, n) != 0)
		return false;
	v += n;
	while (*v == ' ' || *v == '\t')
		v++;
	return *v == '\0';
}

/* Splits the request target into path and query. */
static int
req_split_url(struct ark_http_req *r, const char *url)
{
	struct http_parser_url	 u;
	const char		*q;

	if (url[0] == '/') {
		if ((q = strchr(url, '?')) != NULL) {
			r->path = ark_xstrndup(url, (size_t)(q - url));
			r->query = ark_xstrdup(q + 1);
		} else
			r->path = ark_xstrdup(url);
		return 0;
	}
	if (strcmp(url, "*") == 0) {
		r->path = ark_xstrdup(url);
		return 0;
	}
	http_parser_url_init(&u);
	if (http_parser_parse_url(url, strlen(url), 0, &u) != 0)
		return -1;
	if (u.field_set & (1 << UF_PATH))
		r->path = ark_xstrndup(url + u.field_data[UF_PATH].off,
		    u.field_data[UF_PATH].len);
	else
		r->path = ark_xstrdup("/");
	if (u.field_set & (1 << UF_QUERY))
		r->query = ark_xstrndup(url + u.field_data[UF_QUERY].off,
		    u.field_data[UF_QUERY].len);
	return 0;
}

static int
cb_headers_complete(http_parser *p)
{
	struct conn		*c = p->data;
	struct ark_http_req	*r = c->req;
	const char		*te = NULL, *cl = NULL, *expect = NULL;
	unsigned		 i, nte = 0;

	if (r == NULL) {		/* cannot happen: be safe */
		c->err_status = 400;
		return -1;
	}

	req_sb_sep(r);
	/* handler-visible strings point into r->sb: it never grows again */
	r->in_trailers = true;
	r->method = http_method_str((enum http_method)p->method);
	r->version = p->http_major * 10 + p->http_minor;
	if (p->http_major != 1 || p->http_minor > 1) {
		c->err_status = 505;
		return -1;
	}
	if (!r->have_url || req_split_url(r, r->sb) != 0) {
		c->err_status = 400;
		return -1;
	}
	for (i = 0; i < r->nhdrs; i++) {
		const char *n = r->sb + r->hdrs[i].name;
		const char *v = req_str(r, r->hdrs[i].value);

		/* RFC 7230 3.2.4: no whitespace before the colon; the
		 * parser tolerates it, and a framing header seen one way
		 * by us and another by the parser is a smuggling vector */
		if (strpbrk(n, " \t") != NULL) {
			c->err_status = 400;
			return -1;
		}
		if (strcasecmp(n, "transfer-encoding") == 0) {
			te = v;
			nte++;
		} else if (strcasecmp(n, "content-length") == 0) {
			if (cl != NULL && strcmp(cl, v) != 0) {
				c->err_status = 400;
				return -1;
			}
			cl = v;
		} else if (strcasecmp(n, "expect") == 0)
			expect = v;
	}
	if (te != NULL && cl != NULL) {
		c->err_status = 400;		/* smuggling defence */
		return -1;
	}
	if (te != NULL && (nte > 1 || !token_is(te, "chunked"))) {
		c->err_status = 501;
		return -1;
	}
	if (p->method == HTTP_CONNECT) {
		c->err_status = 501;
		return -1;
	}
	/* framing comes from the parser, which reads the body; our view
	 * of the headers must agree with it */
	r->chunked = (p->flags & F_CHUNKED) != 0;
	if (r->chunked != (te != NULL) ||
	    (cl != NULL) != (p->content_length != ULLONG_MAX)) {
		c->err_status = 400;
		return -1;
	}
	if (cl != NULL) {
		if (p->content_length > INT64_MAX) {
			c->err_status = 400;
			return -1;
		}
		r->clen = (int64_t)p->content_length;
	} else
		r->clen = r->chunked ? -1 : 0;
	if (p->upgrade && (r->chunked || r->clen > 0)) {
		c->err_status = 501;
		return -1;
	}
	if (expect != NULL) {
		if (!token_is(expect, "100-continue")) {
			c->err_status = 417;
			return -1;
		}
		r->expect100 = r->version == 11 &&
		    (r->chunked || r->clen > 0);
	}
	r->keepalive = http_should_keep_alive(p) && !p->upgrade;
	r->head = p->method == HTTP_HEAD;
	r->body_done = !r->chunked && r->clen == 0;
	c->hdrs_ready = true;
	http_parser_pause(p, 1);
	return 0;
}

static int
cb_body(http_parser *p, const char *at, size_t len)
{
	struct conn		*c = p->data;
	struct ark_http_req	*r = c->req;

	if (r == NULL) {		/* cannot happen: be safe */
		c->err_status = 400;
		return -1;
	}

	if (r->body_bytes + len > r->max_body) {
		c->err_status = 413;
		return -1;
	}
	r->body_bytes += len;
	if (r->discard) {
		if (r->body_bytes > c->srv->o.discard_max) {
			r->discard = false;
			r->abandon = true;
			http_parser_pause(p, 1);
		}
		return 0;
	}
	if (r->on_data != NULL) {
		req_set_log(r);
		r->on_data(r, at, len, r->body_arg);
		ark_log_set_reqid(NULL);
	}
	if (r->paused || r->abandon)
		http_parser_pause(p, 1);
	return 0;
}

static int
cb_message_complete(http_parser *p)
{
	struct conn *c = p->data;

	if (c->req != NULL)
		c->req->body_done = true;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings parser_settings = {
	.on_message_begin = cb_message_begin,
	.on_url = cb_url,
	.on_header_field = cb_header_field,
	.on_header_value = cb_header_value,
	.on_headers_complete = cb_headers_complete,
	.on_body = cb_body,
	.on_message_complete = cb_message_complete,
};

static int
status_for_errno(enum http_errno e)
{
	switch (e) {
	case HPE_HEADER_OVERFLOW:
		return 431;
	case HPE_INVALID_TRANSFER_ENCODING:
		return 501;
	case HPE_INVALID_VERSION:
		return 505;
	default:
		return 400;
	}
}

/* Feeds buffered input to the parser until it pauses, fails or runs dry.
 * Returns -1 on a parse error (c->err_status then holds the status). */
static int
conn_parse(struct conn *c)
{
	struct evbuffer		*in = conn_in(c);
	struct evbuffer_iovec	 v;
	size_t			 n;
	enum http_errno		 e;

	if (HTTP_PARSER_ERRNO(&c->parser) == HPE_PAUSED)
		http_parser_pause(&c->parser, 0);
	while (evbuffer_get_length(in) > 0) {
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
			break;
		n = http_parser_execute(&c->parser, &parser_settings,
		    v.iov_base, v.iov_len);
		e = HTTP_PARSER_ERRNO(&c->parser);
		evbuffer_drain(in, n);
		stat_add(&c->srv->st_in, n);
		if (c->req != NULL)
			c->req->bytes_in += n;
		if (e == HPE_PAUSED)
			return 0;
		if (e != HPE_OK) {
			if (c->err_status == 0)
				c->err_status = status_for_errno(e);
			ark_log_debug("%s: %s: parse error %s -> %d", __func__,
			    c->peer, http_errno_name(e), c->err_status);
			return -1;
		}
		if (n < v.iov_len) {
			c->err_status = 400;
			return -1;
		}
	}
	return 0;
}

/* ---- response plumbing ---- */

static struct evbuffer *
req_out(struct ark_http_req *r)
{
	return r->ffd >= 0 ? r->tail : conn_out(r->c);
}

static void
req_count_out(struct ark_http_req *r, size_t n)
{
	r->bytes_out += n;
	stat_add(&r->c->srv->st_out, n);
}

/* Pulls the next piece of a pread-fed file range into the output. */
static void
req_feed_file(struct ark_http_req *r)
{
	struct conn		*c = r->c;
	struct evbuffer		*out = conn_out(c);
	struct evbuffer_iovec	 v;
	size_t			 want;
	ssize_t			 n;

	while (r->ffd >= 0 && evbuffer_get_length(out) < c->srv->o.out_low_wm) {
		if (r->flen == 0) {
			close(r->ffd);
			r->ffd = -1;
			evbuffer_add_buffer(out, r->tail);
			if (r->ended)
				bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
			break;
		}
		want = (size_t)ARK_MIN((off_t)FILE_PIECE, r->flen);
		if (r->chunked_out) {
			evbuffer_add_printf(out, "%zx\r\n", want);
		}
		if (evbuffer_reserve_space(out, (ev_ssize_t)want, &v, 1) < 1) {
			conn_abort(c, ARK_ENOMEM);
			return;
		}
		do
			n = pread(r->ffd, v.iov_base, want, r->foff);
		while (n < 0 && errno == EINTR);
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			ark_log_warn("%s: pread", __func__);
			conn_abort(c, ARK_EIO);
			return;
		}
		v.iov_len = (size_t)n;
		evbuffer_commit_space(out, &v, 1);
		if (r->chunked_out) {
			if ((size_t)n != want) {
				/* short read: the chunk header is already
				 * out, so the framing is lost */
				ark_log_warnx("%s: short read", __func__);
				conn_abort(c, ARK_EIO);
				return;
			}
			evbuffer_add(out, "\r\n", 2);
		}
		r->foff += n;
		r->flen -= n;
	}
}

static enum ark_err
req_body_check(struct ark_http_req *r, size_t len, bool *drop)
{
	ARK_CHECK(r, REQ_MAGIC);
	*drop = false;
	if (r->c->req != r || r->c->state == CS_DEAD)
		return ARK_ECONN;		/* inside its finish callback */
	if (!r->started || r->ended)
		return ARK_EPROTO;
	if (r->resp_clen >= 0 &&
	    r->resp_body + len > (uint64_t)r->resp_clen) {
		ark_log_warnx("response body exceeds Content-Length %" PRId64,
		    r->resp_clen);
		return ARK_EINVAL;
	}
	r->resp_body += len;
	if (r->nobody || len == 0)
		*drop = true;
	return ARK_OK;
}

/* ---- public request API ---- */

const char *
ark_http_req_method(const struct ark_http_req *r)
{
	return r->method;
}

const char *
ark_http_req_url(const struct ark_http_req *r)
{
	return r->sb;
}

const char *
ark_http_req_path(const struct ark_http_req *r)
{
	return r->path;
}

const char *
ark_http_req_query(const struct ark_http_req *r)
{
	return r->query;
}

const char *
ark_http_req_header(const struct ark_http_req *r, const char *name)
{
	unsigned i;

	for (i = 0; i < r->nhdrs; i++)
		if (strcasecmp(r->sb + r->hdrs[i].name, name) == 0)
			return req_str(r, r->hdrs[i].value);
	return NULL;
}

size_t
ark_http_req_header_count(const struct ark_http_req *r)
{
	return r->nhdrs;
}

enum ark_err
ark_http_req_header_at(const struct ark_http_req *r, size_t i,
    const char **name, const char **value)
{
	if (i >= r->nhdrs)
		return ARK_ENOENT;
	*name = r->sb + r->hdrs[i].name;
	*value = req_str(r, r->hdrs[i].value);
	return ARK_OK;
}

int64_t
ark_http_req_content_length(const struct ark_http_req *r)
{
	return r->clen;
}

int
ark_http_req_is_chunked(const struct ark_http_req *r)
{
	return r->chunked;
}

int
ark_http_req_has_body(const struct ark_http_req *r)
{
	return r->chunked || r->clen > 0;
}

int
ark_http_req_version(const struct ark_http_req *r)
{
	return r->version;
}

const char *
ark_http_req_id(const struct ark_http_req *r)
{
	return r->id;
}

const char *
ark_http_req_peer(const struct ark_http_req *r)
{
	return r->c->peer;
}

int
ark_http_req_is_tls(const struct ark_http_req *r)
{
	return r->c->tls;
}

struct event_base *
ark_http_req_base(const struct ark_http_req *r)
{
	return r->c->w->base;
}

uint64_t
ark_http_req_body_bytes(const struct ark_http_req *r)
{
	return r->body_bytes;
}

static void
req_send_continue(struct ark_http_req *r)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

	if (r->expect100 && !r->cont_sent && !r->started && !r->body_done) {
		evbuffer_add(conn_out(r->c), cont, sizeof(cont) - 1);
		req_count_out(r, sizeof(cont) - 1);
		r->cont_sent = true;
	}
}

void
ark_http_req_on_body(struct ark_http_req *r, ark_http_body_cb on_data,
    ark_http_req_cb on_end, void *arg)
{
	ARK_CHECK(r, REQ_MAGIC);
	r->on_data = on_data;
	r->on_end = on_end;
	r->body_arg = arg;
	if (!r->want_body) {
		r->want_body = true;
		req_send_continue(r);
		conn_schedule(r->c);
	}
}

void
ark_http_req_on_finish(struct ark_http_req *r, ark_http_finish_cb cb,
    void *arg)
{
	ARK_CHECK(r, REQ_MAGIC);
	r->on_finish = cb;
	r->finish_arg = arg;
}

void
ark_http_req_pause(struct ark_http_req *r)
{
	ARK_CHECK(r, REQ_MAGIC);
	r->paused = true;
}

void
ark_http_req_resume(struct ark_http_req *r)
{
	ARK_CHECK(r, REQ_MAGIC);
	if (r->paused) {
		r->paused = false;
		conn_schedule(r->c);
	}
}

enum ark_err
ark_http_req_set_max_body(struct ark_http_req *r, uint64_t max)
{
	ARK_CHECK(r, REQ_MAGIC);
	r->max_body = max;
	if (r->clen > 0 && (uint64_t)r->clen > max)
		return ARK_ETOOBIG;
	return ARK_OK;
}

/* ---- public response API ---- */

static bool
hdr_text_ok(const char *s, bool is_name)
{
	const unsigned char *p;

	if (is_name && *s == '\0')
		return false;
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n')
			return false;
		if (is_name && (*p <= ' ' || *p == ':' || *p >= 0x7f))
			return false;
	}
	return true;
}

enum ark_err
ark_http_resp_header(struct ark_http_req *r, const char *name,
    const char *value)
{
	ARK_CHECK(r, REQ_MAGIC);
	if (r->started)
		return ARK_EPROTO;
	if (!hdr_text_ok(name, true) || !hdr_text_ok(value, false))
		return ARK_EINVAL;
	if (r->rhdrs == NULL)
		r->rhdrs = evbuffer_new();
	evbuffer_add_printf(r->rhdrs, "%s: %s\r\n", name, value);
	return ARK_OK;
}

void
ark_http_resp_headers_clear(struct ark_http_req *r)
{
	ARK_CHECK(r, REQ_MAGIC);
	if (!r->started && r->rhdrs != NULL)
		evbuffer_drain(r->rhdrs, evbuffer_get_length(r->rhdrs));
}

enum ark_err
ark_http_reply_start(struct ark_http_req *r, int status, int64_t clen)
{
	struct conn	*c;
	struct evbuffer	*out;
	size_t		 before;

	ARK_CHECK(r, REQ_MAGIC);
	c = r->c;
	if (c->req != r || c->state == CS_DEAD)
		return ARK_ECONN;
	if (r->started)
		return ARK_EPROTO;
	if (status < 200 || status > 999)
		return ARK_EINVAL;
	out = conn_out(c);
	before = evbuffer_get_length(out);
	r->started = true;
	r->status = status;
	r->nobody = r->head || status == 204 || status == 304;
	r->close_conn = !r->keepalive || c->close_after || c->w->stopping ||
	    c->peer_eof;
	/* The client waits for 100 before sending a body nobody asked for:
	 * its connection state is unknowable, close after the answer. */
	if (r->expect100 && !r->cont_sent && !r->body_done && !r->want_body)
		r->close_conn = true;
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\n"
	    REQID_HEADER ": %s\r\n", status, ark_http_reason(status),
	    worker_date(c->w), r->id);
	if (r->rhdrs != NULL)
		evbuffer_add_buffer(out, r->rhdrs);
	if (status == 204 || status == 304)
		;
	else if (clen >= 0) {
		r->resp_clen = clen;
		evbuffer_add_printf(out, "Content-Length: %" PRId64 "\r\n",
		    clen);
	} else if (r->version >= 11) {
		r->chunked_out = true;
		evbuffer_add_printf(out, "Transfer-Encoding: chunked\r\n");
	} else if (!r->nobody)
		r->close_conn = true;		/* close-delimited */
	if (r->nobody)
		r->chunked_out = false;
	if (r->close_conn)
		evbuffer_add_printf(out, "Connection: close\r\n");
	else if (r->version == 10)
		evbuffer_add_printf(out, "Connection: keep-alive\r\n");
	evbuffer_add(out, "\r\n", 2);
	req_count_out(r, evbuffer_get_length(out) - before);
	bufferevent_setwatermark(c->bev, EV_WRITE, c->srv->o.out_low_wm, 0);
	return ARK_OK;
}

enum ark_err
ark_http_reply_write(struct ark_http_req *r, const void *data, size_t len)
{
	struct evbuffer	*out;
	enum ark_err	 rc;
	bool		 drop;

	if ((rc = req_body_check(r, len, &drop)) != ARK_OK || drop)
		return rc;
	out = req_out(r);
	if (r->chunked_out) {
		char h[24];
		int n = snprintf(h, sizeof(h), "%zx\r\n", len);

		evbuffer_add(out, h, (size_t)n);
		req_count_out(r, (size_t)n + 2);
	}
	if (evbuffer_add(out, data, len) != 0)
		return ARK_ENOMEM;
	if (r->chunked_out)
		evbuffer_add(out, "\r\n", 2);
	req_count_out(r, len);
	return ARK_OK;
}

enum ark_err
ark_http_reply_add_buffer(struct ark_http_req *r, struct evbuffer *buf)
{
	struct evbuffer	*out;
	size_t		 len = evbuffer_get_length(buf);
	enum ark_err	 rc;
	bool		 drop;

	if ((rc = req_body_check(r, len, &drop)) != ARK_OK)
		return rc;
	if (drop) {
		evbuffer_drain(buf, len);
		return ARK_OK;
	}
	out = req_out(r);
	if (r->chunked_out) {
		int n = evbuffer_add_printf(out, "%zx\r\n", len);

		req_count_out(r, (size_t)(n > 0 ? n : 0) + 2);
	}
	if (evbuffer_add_buffer(out, buf) != 0)
		return ARK_ENOMEM;
	if (r->chunked_out)
		evbuffer_add(out, "\r\n", 2);
	req_count_out(r, len);
	return ARK_OK;
}

enum ark_err
ark_http_reply_add_file(struct ark_http_req *r, int fd, off_t off,
    off_t len)
{
	struct evbuffer_file_segment	*seg;
	struct evbuffer			*out;
	struct conn			*c;
	enum ark_err			 rc;
	bool				 drop;

	if (off < 0 || len < 0) {
		close(fd);
		return ARK_EINVAL;
	}
	if (r->ffd >= 0) {
		close(fd);
		return ARK_EAGAIN;
	}
	if ((rc = req_body_check(r, (size_t)len, &drop)) != ARK_OK || drop) {
		close(fd);
		return rc;
	}
	c = r->c;
	req_count_out(r, (size_t)len);
	if (c->tls || c->fd < 0) {
		r->ffd = fd;
		r->foff = off;
		r->flen = len;
		if (r->tail == NULL)
			r->tail = evbuffer_new();
		req_feed_file(r);
		return ARK_OK;
	}
	out = conn_out(c);
	seg = evbuffer_file_segment_new(fd, off, len, EVBUF_FS_CLOSE_ON_FREE);
	if (seg == NULL) {
		close(fd);
		return ARK_EIO;
	}
	if (r->chunked_out)
		evbuffer_add_printf(out, "%jx\r\n", (intmax_t)len);
	/* the segment is referenced from `out` now, offsets are relative
	 * to the segment */
	if (evbuffer_add_file_segment(out, seg, 0, len) != 0) {
		evbuffer_file_segment_free(seg);
		return ARK_EIO;
	}
	evbuffer_file_segment_free(seg);
	if (r->chunked_out)
		evbuffer_add(out, "\r\n", 2);
	return ARK_OK;
}

void
ark_http_reply_on_drain(struct ark_http_req *r, ark_http_req_cb cb,
    void *arg)
{
	ARK_CHECK(r, REQ_MAGIC);
	r->on_drain = cb;
	r->drain_arg = arg;
}

size_t
ark_http_reply_pending(const struct ark_http_req *r)
{
	size_t n = evbuffer_get_length(conn_out(r->c));

	if (r->ffd >= 0)
		n += (size_t)r->flen + evbuffer_get_length(r->tail);
	return n;
}

int
ark_http_reply_congested(const struct ark_http_req *r)
{
	return ark_http_reply_pending(r) > r->c->srv->o.out_high_wm;
}

enum ark_err
ark_http_reply_end(struct ark_http_req *r)
{
	struct conn *c;

	ARK_CHECK(r, REQ_MAGIC);
	c = r->c;
	if (c->req != r || c->state == CS_DEAD)
		return ARK_ECONN;
	if (!r->started || r->ended)
		return ARK_EPROTO;
	r->ended = true;
	if (r->chunked_out) {
		evbuffer_add(req_out(r), "0\r\n\r\n", 5);
		req_count_out(r, 5);
	}
	if (!r->nobody && r->resp_clen >= 0 &&
	    r->resp_body != (uint64_t)r->resp_clen) {
		ark_log_warnx("response body %" PRIu64 " bytes, declared %"
		    PRId64 ": closing", r->resp_body, r->resp_clen);
		r->close_conn = true;
	}
	if (!r->body_done && !r->discard && !r->abandon) {
		uint64_t left = r->chunked ? UINT64_MAX :
		    (uint64_t)r->clen - r->body_bytes;

		if ((r->expect100 && !r->cont_sent) ||
		    left > c->srv->o.discard_max)
			r->abandon = true;
		else
			r->discard = true;
	}
	if (r->abandon)
		r->close_conn = true;
	if (r->ffd < 0)
		bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	conn_schedule(c);
	return ARK_OK;
}

enum ark_err
ark_http_reply_simple(struct ark_http_req *r, int status, const char *ctype,
    const void *body, size_t len)
{
	enum ark_err rc;

	if (ctype != NULL &&
	    (rc = ark_http_resp_header(r, "Content-Type", ctype)) != ARK_OK)
		return rc;
	if ((rc = ark_http_reply_start(r, status, (int64_t)len)) != ARK_OK)
		return rc;
	if (len > 0 && (rc = ark_http_reply_write(r, body, len)) != ARK_OK)
		return rc;
	return ark_http_reply_end(r);
}

enum ark_err
ark_http_reply_error(struct ark_http_req *r, int status)
{
	char body[96];
	int n = snprintf(body, sizeof(body), "%d %s\n", status,
	    ark_http_reason(status));

	return ark_http_reply_simple(r, status, "text/plain; charset=utf-8",
	    body, (size_t)n);
}

/* ---- connection state machine ---- */

static void
conn_schedule(struct conn *c)
{
	if (c != NULL && c->state != CS_DEAD)
		event_active(c->defer, EV_TIMEOUT, 0);
}

static void
conn_timer(struct conn *c, unsigned ms)
{
	struct timeval tv;

	if (ms == 0) {
		event_del(c->timer);
		return;
	}
	ms_to_tv(ms, &tv);
	event_add(c->timer, &tv);
}

static void
conn_read_timeout(struct conn *c, bool on)
{
	struct timeval rd, wr;

	c->rd_timeout = on;
	ms_to_tv(c->srv->o.io_timeout_ms, &rd);
	ms_to_tv(c->srv->o.io_timeout_ms, &wr);
	bufferevent_set_timeouts(c->bev, on ? &rd : NULL, &wr);
}

static void
conn_free(struct conn *c)
{
	struct worker *w = c->w;

	ARK_CHECK(c, CONN_MAGIC);
	LIST_REMOVE(c, link);
	w->nconns--;
	atomic_fetch_sub_explicit(&c->srv->st_active, 1, memory_order_relaxed);
	req_free(c->req);
	bufferevent_free(c->bev);
	event_free(c->timer);
	event_free(c->defer);
	c->magic = 0;
	free(c);
	worker_maybe_exit(w);
}

static void
conn_enter(struct conn *c)
{
	ARK_CHECK(c, CONN_MAGIC);
	c->depth++;
}

static void
conn_leave(struct conn *c)
{
	if (--c->depth == 0 && c->state == CS_DEAD)
		conn_free(c);
}

/* Drops the connection now; the request (if any) is aborted with `why`. */
static void
conn_abort(struct conn *c, enum ark_err why)
{
	if (c->state == CS_DEAD)
		return;
	req_finish(c, why);
	conn_set_state(c, CS_DEAD);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	event_del(c->timer);
	event_del(c->defer);
	/* freed by conn_leave() at the top of the callback stack */
	if (c->depth == 0)
		conn_free(c);
}

/* Flushes what is queued, then shuts the write side and drains input
 * briefly so that the peer reads the last response before any RST. */
static void
conn_close_graceful(struct conn *c)
{
	if (c->state == CS_DEAD)
		return;
	req_finish(c, ARK_OK);
	conn_set_state(c, CS_CLOSING);
	conn_read_timeout(c, false);
	conn_timer(c, LINGER_MS + c->srv->o.io_timeout_ms);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	conn_schedule(c);
}

/* A server-side error status for a request the handler does not answer
 * (or no longer can): reply if nothing was sent yet, then close. */
static void
conn_error_reply(struct conn *c, int status, enum ark_err why)
{
	struct ark_http_req	*r;
	char			 body[96];
	int			 n;

	if (c->req == NULL)
		c->req = req_new(c);
	r = c->req;
	if (r->started) {
		conn_abort(c, why);
		return;
	}
	ark_log_debug("%s: %s: %d", __func__, c->peer, status);
	n = snprintf(body, sizeof(body), "%d %s\n", status,
	    ark_http_reason(status));
	r->keepalive = false;
	r->expect100 = false;
	r->head = false;
	if (r->rhdrs != NULL)
		evbuffer_drain(r->rhdrs, evbuffer_get_length(r->rhdrs));
	ark_http_resp_header(r, "Content-Type", "text/plain; charset=utf-8");
	ark_http_reply_start(r, status, n);
	ark_http_reply_write(r, body, (size_t)n);
	r->ended = true;
	r->abandon = true;
	if (r->handled && why != ARK_OK) {
		/* the handler hears about it through its finish callback */
		req_finish(c, why);
	}
	conn_close_graceful(c);
}

/* Called once a header section is complete. */
static void
conn_dispatch(struct conn *c)
{
	struct ark_http_req *r = c->req;

	conn_timer(c, 0);
	conn_set_state(c, CS_REQUEST);
	/* A body-less request: consume the header's last byte now so that
	 * the message is complete before the handler runs. */
	if (r->body_done && conn_parse(c) != 0) {
		conn_error_reply(c, c->err_status ? c->err_status : 400,
		    ARK_EPROTO);
		return;
	}
	r->body_done = r->body_done || (!r->chunked && r->clen == 0);
	r->handled = true;
	req_set_log(r);
	c->srv->o.handler(r, c->srv->o.handler_arg);
	ark_log_set_reqid(NULL);
}

/* Next request on a kept-alive connection. */
static void
conn_next(struct conn *c)
{
	req_finish(c, ARK_OK);
	if (c->close_after || c->w->stopping || c->peer_eof) {
		conn_close_graceful(c);
		return;
	}
	conn_set_state(c, CS_IDLE);
	conn_read_timeout(c, false);
	conn_timer(c, c->srv->o.idle_timeout_ms);
	bufferevent_enable(c->bev, EV_READ);
}

static void
conn_step_request(struct conn *c, bool *again)
{
	struct ark_http_req	*r = c->req;
	struct evbuffer		*in = conn_in(c);
	size_t			 before;
	bool			 want;

	*again = false;
	want = !r->body_done && !r->abandon &&
	    (r->discard || (r->want_body && !r->paused));
	if (want != c->rd_timeout) {
		conn_read_timeout(c, want);
		c->rd_timeout = want;
	}
	if (want && evbuffer_get_length(in) > 0) {
		before = evbuffer_get_length(in);
		if (conn_parse(c) != 0) {
			conn_error_reply(c, c->err_status,
			    c->err_status == 413 ? ARK_ETOOBIG : ARK_EPROTO);
			return;
		}
		if (c->state != CS_REQUEST)
			return;
		if (evbuffer_get_length(in) != before || r->body_done)
			*again = true;
	}
	if (r->body_done && r->want_body && !r->end_sent && !r->discard &&
	    !r->abandon) {
		r->end_sent = true;
		if (r->on_end != NULL) {
			req_set_log(r);
			r->on_end(r, r->body_arg);
			ark_log_set_reqid(NULL);
		}
		*again = true;
		return;
	}
	if (r->ended && (r->body_done || r->abandon) && r->ffd < 0 &&
	    evbuffer_get_length(conn_out(c)) == 0) {
		if (r->close_conn)
			conn_close_graceful(c);
		else
			conn_next(c);
		*again = true;
		return;
	}
	if (c->peer_eof && !r->body_done && !r->abandon &&
	    evbuffer_get_length(in) == 0) {
		conn_abort(c, ARK_ECONN);
		return;
	}
}

static void
conn_step(struct conn *c)
{
	bool again = true;
	int guard;

	for (guard = 0; again && guard < 10000; guard++) {
		again = false;
		switch (c->state) {
		case CS_IDLE:
			if (evbuffer_get_length(conn_in(c)) == 0) {
				if (c->peer_eof || c->close_after ||
				    c->w->stopping)
					conn_abort(c, ARK_OK);
				return;
			}
			conn_set_state(c, CS_HEADERS);
			conn_timer(c, c->srv->o.header_timeout_ms);
			again = true;
			break;
		case CS_HEADERS:
			if (conn_parse(c) != 0) {
				conn_error_reply(c, c->err_status, ARK_EPROTO);
				break;
			}
			if (c->hdrs_ready) {
				c->hdrs_ready = false;
				conn_dispatch(c);
				again = true;
			} else if (c->peer_eof)
				conn_abort(c, ARK_ECONN);
			break;
		case CS_REQUEST:
			conn_step_request(c, &again);
			break;
		case CS_CLOSING:
			if (evbuffer_get_length(conn_out(c)) == 0) {
				if (c->fd < 0 || c->tls || c->peer_eof) {
					conn_abort(c, ARK_OK);
					break;
				}
				shutdown(c->fd, SHUT_WR);
				conn_set_state(c, CS_LINGER);
				conn_timer(c, LINGER_MS);
				bufferevent_enable(c->bev, EV_READ);
				again = true;
			}
			break;
		case CS_LINGER:
			c->linger_bytes += evbuffer_get_length(conn_in(c));
			evbuffer_drain(conn_in(c), evbuffer_get_length(conn_in(c)));
			if (c->peer_eof || c->linger_bytes > LINGER_MAX_BYTES)
				conn_abort(c, ARK_OK);
			break;
		case CS_DEAD:
			return;
		}
	}
}

/* ---- libevent callbacks ---- */

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;
	size_t		 len;

	conn_enter(c);
	len = evbuffer_get_length(conn_in(c));
	if (!c->tls && len >= ARK_BEV_READ_CAP && len < c->srv->o.in_buffer &&
	    (bufferevent_get_enabled(bev) & EV_READ))
		(void)ark_bev_fill(bev, c->srv->o.in_buffer - len);
	conn_step(c);
	conn_leave(c);
}

static void
on_write(struct bufferevent *bev, void *arg)
{
	struct conn		*c = arg;
	struct ark_http_req	*r;

	conn_enter(c);
	r = c->req;
	if (c->state == CS_REQUEST && r != NULL) {
		if (r->ffd >= 0)
			req_feed_file(r);
		if (c->state == CS_REQUEST && r->started && !r->ended &&
		    r->ffd < 0 && r->on_drain != NULL &&
		    evbuffer_get_length(conn_out(c)) <= c->srv->o.out_low_wm) {
			req_set_log(r);
			r->on_drain(r, r->drain_arg);
			ark_log_set_reqid(NULL);
		}
	}
	if (c->state != CS_DEAD)
		conn_step(c);
	conn_leave(c);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	conn_enter(c);
	if (what & BEV_EVENT_EOF) {
		c->peer_eof = true;
		conn_step(c);
	} else if (what & BEV_EVENT_TIMEOUT) {
		ark_log_debug("%s: %s: %s timeout", __func__, c->peer,
		    (what & BEV_EVENT_READING) ? "read" : "write");
		conn_abort(c, ARK_ETIMEDOUT);
	} else if (what & BEV_EVENT_ERROR) {
		if (c->tls)
			while (ERR_peek_error() != 0)
				ERR_get_error();
		conn_abort(c, ARK_ECONN);
	}
	conn_leave(c);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	conn_enter(c);
	switch (c->state) {
	case CS_HEADERS:
		ark_log_info("%s: header timeout, closing", c->peer);
		conn_abort(c, ARK_ETIMEDOUT);
		break;
	case CS_IDLE:
	case CS_CLOSING:
	case CS_LINGER:
		conn_abort(c, ARK_OK);
		break;
	default:
		break;
	}
	conn_leave(c);
}

static void
on_defer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	conn_enter(c);
	conn_step(c);
	conn_leave(c);
}

static struct conn *
conn_new(struct worker *w, struct bufferevent *bev, int fd, bool tls,
    const struct sockaddr *sa)
{
	struct ark_http_server	*srv = w->srv;
	struct conn		*c = ark_xcalloc(1, sizeof(*c));
	char			 host[INET6_ADDRSTRLEN] = "?";
	int			 port = 0;

	c->magic = CONN_MAGIC;
	c->w = w;
	c->srv = srv;
	c->bev = bev;
	c->fd = fd;
	c->tls = tls;
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	}
	snprintf(c->peer, sizeof(c->peer), "%s:%d", host, port);
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	c->timer = evtimer_new(w->base, on_timer, c);
	c->defer = event_new(w->base, -1, 0, on_defer, c);
	bufferevent_setcb(bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(bev, EV_READ, 0, srv->o.in_buffer);
	bufferevent_set_max_single_read(bev, srv->o.in_buffer);
	bufferevent_set_max_single_write(bev, srv->o.out_low_wm);
	LIST_INSERT_HEAD(&w->conns, c, link);
	w->nconns++;
	stat_add(&srv->st_conns, 1);
	stat_add(&srv->st_active, 1);
	c->state = CS_IDLE;
	conn_read_timeout(c, false);
	conn_timer(c, srv->o.idle_timeout_ms);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return c;
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct worker		*w = arg;
	struct bufferevent	*bev;
	int			 one = 1;
	int			 opts = BEV_OPT_CLOSE_ON_FREE |
				    BEV_OPT_DEFER_CALLBACKS;

	if (w->stopping) {
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (w->srv->ssl_ctx != NULL) {
		SSL *ssl = SSL_new(w->srv->ssl_ctx);

		if (ssl == NULL) {
			ark_tls_log_errors("SSL_new");
			close(fd);
			return;
		}
		bev = bufferevent_openssl_socket_new(w->base, fd, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, opts);
		if (bev != NULL)
			bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
		else
			SSL_free(ssl);
	} else
		bev = bufferevent_socket_new(w->base, fd, opts);
	if (bev == NULL) {
		ark_log_warnx("%s: cannot create bufferevent", __func__);
		close(fd);
		return;
	}
	conn_new(w, bev, fd, w->srv->ssl_ctx != NULL, sa);
}

static void
on_accept_error(struct evconnlistener *l, void *arg)
{
	ark_log_warn("accept");
}

/* ---- workers ---- */

static void
worker_maybe_exit(struct worker *w)
{
	if (w->stopping && w->nconns == 0 && !w->detached)
		event_base_loopexit(w->base, NULL);
}

static void
on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	struct conn	*c;

	ark_log_info("shutdown grace period over: aborting %u connection(s)",
	    w->nconns);
	while ((c = LIST_FIRST(&w->conns)) != NULL) {
		conn_enter(c);
		conn_abort(c, ARK_ECANCELED);
		conn_leave(c);
	}
	event_base_loopexit(w->base, NULL);
}

static void
worker_begin_stop(struct worker *w)
{
	struct conn	*c, *next;
	struct timeval	 tv;

	if (w->stopping)
		return;
	w->stopping = true;
	if (w->listener != NULL) {
		evconnlistener_free(w->listener);
		w->listener = NULL;
		w->lfd = -1;
	}
	for (c = LIST_FIRST(&w->conns); c != NULL; c = next) {
		next = LIST_NEXT(c, link);
		c->close_after = true;
		conn_enter(c);
		if (c->state == CS_IDLE &&
		    evbuffer_get_length(conn_in(c)) == 0)
			conn_abort(c, ARK_OK);
		conn_leave(c);
	}
	ms_to_tv(w->srv->o.grace_ms, &tv);
	w->grace_ev = evtimer_new(w->base, on_grace, w);
	evtimer_add(w->grace_ev, &tv);
	worker_maybe_exit(w);
}

static void
on_stop_pipe(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	char		 buf[16];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	worker_begin_stop(w);
}

static void *
worker_main(void *arg)
{
	struct worker		*w = arg;
	struct ark_http_server	*srv = w->srv;

	if (srv->o.thread_init != NULL)
		srv->o.thread_init(w->base, w->idx, srv->o.thread_arg);
	event_base_dispatch(w->base);
	if (srv->o.thread_fini != NULL)
		srv->o.thread_fini(w->base, w->idx, srv->o.thread_arg);
	return NULL;
}

static int
listen_socket(const char *host, uint16_t port, uint16_t *bound)
{
	struct addrinfo		 hints, *ai = NULL;
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	char			 pbuf[8];
	int			 fd = -1, one = 1, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	snprintf(pbuf, sizeof(pbuf), "%u", port);
	if ((e = getaddrinfo(host, pbuf, &hints, &ai)) != 0) {
		ark_log_warnx("listen address %s: %s", host, gai_strerror(e));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0) {
		ark_log_warn("socket");
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
		ark_log_warn("SO_REUSEPORT");
		goto fail;
	}
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		ark_log_warn("bind %s:%u", host, port);
		goto fail;
	}
	if (listen(fd, 1024) != 0) {
		ark_log_warn("listen");
		goto fail;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		ark_log_warn("getsockname");
		goto fail;
	}
	*bound = ss.ss_family == AF_INET6 ?
	    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
	    ntohs(((struct sockaddr_in *)&ss)->sin_port);
	freeaddrinfo(ai);
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return -1;
}

static void
opts_defaults(struct ark_http_server *srv,
    const struct ark_http_server_opts *in)
{
	struct ark_http_server_opts *o = &srv->o;
	long n;

	*o = *in;
	srv->host = ark_xstrdup(in->host != NULL ? in->host : "127.0.0.1");
	o->host = srv->host;
	if (o->threads == 0) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		o->threads = n > 0 ? (unsigned)n : 1;
	}
	if (o->max_header_bytes == 0)
		o->max_header_bytes = 64 * 1024;
	if (o->max_headers == 0)
		o->max_headers = 128;
	if (o->max_url == 0)
		o->max_url = 16 * 1024;
	if (o->header_timeout_ms == 0)
		o->header_timeout_ms = 10000;
	if (o->idle_timeout_ms == 0)
		o->idle_timeout_ms = 60000;
	if (o->io_timeout_ms == 0)
		o->io_timeout_ms = 60000;
	if (o->grace_ms == 0)
		o->grace_ms = 10000;
	if (o->in_buffer == 0)
		o->in_buffer = 256 * 1024;
	if (o->out_low_wm == 0)
		o->out_low_wm = 256 * 1024;
	if (o->out_high_wm == 0)
		o->out_high_wm = 1024 * 1024;
	if (o->out_high_wm < o->out_low_wm)
		o->out_high_wm = o->out_low_wm;
	if (o->discard_max == 0)
		o->discard_max = 1024 * 1024;
	srv->cert = in->tls_cert_file ? ark_xstrdup(in->tls_cert_file) : NULL;
	srv->key = in->tls_key_file ? ark_xstrdup(in->tls_key_file) : NULL;
	o->tls_cert_file = srv->cert;
	o->tls_key_file = srv->key;
}

static struct ark_http_server *
server_alloc(const struct ark_http_server_opts *opts)
{
	struct ark_http_server *srv = ark_xcalloc(1, sizeof(*srv));

	srv->magic = SRV_MAGIC;
	opts_defaults(srv, opts);
	return srv;
}

static void
worker_free(struct worker *w)
{
	struct conn *c;

	while ((c = LIST_FIRST(&w->conns)) != NULL) {
		conn_enter(c);
		conn_abort(c, ARK_ECANCELED);
		conn_leave(c);
	}
	if (w->listener != NULL)
		evconnlistener_free(w->listener);
	else if (w->lfd >= 0)
		close(w->lfd);
	if (w->stop_ev != NULL)
		event_free(w->stop_ev);
	if (w->grace_ev != NULL)
		event_free(w->grace_ev);
	if (w->stop_pipe[0] >= 0)
		close(w->stop_pipe[0]);
	if (w->stop_pipe[1] >= 0)
		close(w->stop_pipe[1]);
	if (w->base != NULL && !w->detached)
		event_base_free(w->base);
}

enum ark_err
ark_http_server_new(const struct ark_http_server_opts *opts,
    struct ark_http_server **out)
{
	struct ark_http_server	*srv;
	enum ark_err		 rc = ARK_OK;
	unsigned		 i;
	uint16_t		 port;

	*out = NULL;
	if (opts == NULL || opts->handler == NULL)
		return ARK_EINVAL;
	if ((opts->tls_cert_file == NULL) != (opts->tls_key_file == NULL)) {
		ark_log_warnx("TLS needs both a certificate and a key file");
		return ARK_EINVAL;
	}
	srv = server_alloc(opts);
	if (srv->cert != NULL &&
	    (rc = ark_tls_server_ctx_new(srv->cert, srv->key,
	    &srv->ssl_ctx)) != ARK_OK)
		goto fail;
	srv->workers = ark_xcalloc(srv->o.threads, sizeof(*srv->workers));
	port = srv->o.port;
	for (i = 0; i < srv->o.threads; i++) {
		struct worker *w = &srv->workers[i];

		w->srv = srv;
		w->idx = i;
		w->lfd = -1;
		w->stop_pipe[0] = w->stop_pipe[1] = -1;
		LIST_INIT(&w->conns);
		srv->nworkers++;
		if ((w->base = ark_http_base_new()) == NULL) {
			rc = ARK_ENOMEM;
			goto fail;
		}
		if ((w->lfd = listen_socket(srv->host, port, &port)) < 0) {
			rc = ARK_EIO;
			goto fail;
		}
		if (pipe2(w->stop_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
			ark_log_warn("pipe2");
			rc = ARK_EIO;
			goto fail;
		}
		w->stop_ev = event_new(w->base, w->stop_pipe[0],
		    EV_READ | EV_PERSIST, on_stop_pipe, w);
		event_add(w->stop_ev, NULL);
		w->listener = evconnlistener_new(w->base, on_accept, w,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, w->lfd);
		if (w->listener == NULL) {
			rc = ARK_EIO;
			goto fail;
		}
		evconnlistener_set_error_cb(w->listener, on_accept_error);
	}
	srv->port = port;
	*out = srv;
	return ARK_OK;
fail:
	ark_http_server_free(srv);
	return rc;
}

enum ark_err
ark_http_server_new_detached(const struct ark_http_server_opts *opts,
    struct ark_http_server **out)
{
	*out = NULL;
	if (opts == NULL || opts->handler == NULL)
		return ARK_EINVAL;
	*out = server_alloc(opts);
	return ARK_OK;
}

enum ark_err
ark_http_server_attach_bev(struct ark_http_server *srv,
    struct event_base *base, struct bufferevent *bev)
{
	struct worker *w;

	ARK_CHECK(srv, SRV_MAGIC);
	if (srv->detached == NULL) {
		w = srv->detached = ark_xcalloc(1, sizeof(*w));
		w->srv = srv;
		w->base = base;
		w->lfd = -1;
		w->stop_pipe[0] = w->stop_pipe[1] = -1;
		w->detached = true;
		LIST_INIT(&w->conns);
	}
	w = srv->detached;
	if (w->base != base)
		return ARK_EINVAL;
	conn_new(w, bev, -1, false, NULL);
	return ARK_OK;
}

enum ark_err
ark_http_server_start(struct ark_http_server *srv)
{
	unsigned i;
	int e;

	ARK_CHECK(srv, SRV_MAGIC);
	if (srv->started)
		return ARK_EINVAL;
	srv->started = true;
	for (i = 0; i < srv->nworkers; i++) {
		struct worker *w = &srv->workers[i];

		if ((e = pthread_create(&w->thread, NULL, worker_main, w))
		    != 0) {
			errno = e;
			ark_log_warn("pthread_create");
			ark_http_server_stop(srv);
			return ARK_EIO;
		}
		w->running = true;
	}
	ark_log_info("http: listening on %s:%u (%u thread%s%s)", srv->host,
	    srv->port, srv->nworkers, srv->nworkers == 1 ? "" : "s",
	    srv->ssl_ctx != NULL ? ", TLS" : "");
	return ARK_OK;
}

uint16_t
ark_http_server_port(const struct ark_http_server *srv)
{
	return srv->port;
}

void
ark_http_server_stop(struct ark_http_server *srv)
{
	unsigned i;
	ssize_t n;

	if (srv == NULL)
		return;
	atomic_store(&srv->stop_requested, true);
	for (i = 0; i < srv->nworkers; i++)
		if (srv->workers[i].stop_pipe[1] >= 0)
			n = write(srv->workers[i].stop_pipe[1], "s", 1);
	(void)n;
}

void
ark_http_server_wait(struct ark_http_server *srv)
{
	unsigned i;

	ARK_CHECK(srv, SRV_MAGIC);
	for (i = 0; i < srv->nworkers; i++)
		if (srv->workers[i].running) {
			pthread_join(srv->workers[i].thread, NULL);
			srv->workers[i].running = false;
		}
}

void
ark_http_server_free(struct ark_http_server *srv)
{
	unsigned i;

	if (srv == NULL)
		return;
	ARK_CHECK(srv, SRV_MAGIC);
	ark_http_server_stop(srv);
	ark_http_server_wait(srv);
	for (i = 0; i < srv->nworkers; i++)
		worker_free(&srv->workers[i]);
	if (srv->detached != NULL) {
		worker_free(srv->detached);
		free(srv->detached);
	}
	free(srv->workers);
	if (srv->ssl_ctx != NULL)
		SSL_CTX_free(srv->ssl_ctx);
	free(srv->host);
	free(srv->cert);
	free(srv->key);
	srv->magic = 0;
	free(srv);
}

void
ark_http_server_stats(const struct ark_http_server *srv,
    struct ark_http_server_stats *out)
{
	unsigned i;

	memset(out, 0, sizeof(*out));
	out->requests = atomic_load(&srv->st_requests);
	for (i = 0; i < 6; i++)
		out->status_class[i] = atomic_load(&srv->st_class[i]);
	out->bytes_in = atomic_load(&srv->st_in);
	out->bytes_out = atomic_load(&srv->st_out);
	out->conns_total = atomic_load(&srv->st_conns);
	out->conns_active = atomic_load(&srv->st_active);
}
