/*
 * http_client.c - asynchronous HTTP/1.1 client on one libevent event_base.
 *
 * Objects: a client owns hosts (one per host, port, tls), a host owns its
 * connections (idle ones in an MRU list) and a queue of requests waiting
 * for a connection slot. A request owns its response parser, so the head
 * stays readable in on_done after its connection went back to the pool.
 *
 * Invariants: a busy connection has exactly one request and the request
 * points back at it; an idle connection has none and reads only to notice
 * that the peer closed it. User callbacks never run from inside an API
 * call: work that would call back is deferred to the request's `kick`
 * event. A cancel from inside a user callback only marks the request; the
 * code that made the call sees the mark when the callback returns and tears
 * the request down there, so nothing is freed under its caller.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/uio.h>

#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/http_client.h"
#include "common/http_rparse.h"
#include "common/log.h"
#include "common/util.h"

#define ARK_HTTP_CLIENT_IO_MAX	(256 * 1024)
#define CLIENT_MAGIC	0x48434c49u	/* "HCLI" */
#define CONN_MAGIC	0x48434f4eu	/* "HCON" */
#define REQ_MAGIC	0x48524551u	/* "HREQ" */

#define KICK_DRAIN	0x01u	/* call on_drain */
#define KICK_READ	0x02u	/* parse buffered input (after resume) */
#define KICK_FAIL	0x04u	/* finish with fail_err */

enum req_state {
	RS_NEW = 0,		/* being built */
	RS_QUEUED,		/* waiting for a connection */
	RS_CONNECTING,		/* has a connection that is connecting */
	RS_ACTIVE,		/* head written, exchange in progress */
	RS_DONE,		/* finished; on_done running */
};

enum body_mode {
	BM_NONE = 0,
	BM_BUFFER,
	BM_STREAM,
};

enum body_phase {
	BP_HOLD = 0,		/* not on the wire yet (or waiting for 100) */
	BP_SEND,		/* streaming; caller writes */
	BP_SENT,		/* the whole body is in the output buffer */
};

struct host;
struct conn;

struct req_hdr {
	char	*name;
	char	*value;
};

struct ark_http_creq {
	uint32_t	 magic;
	struct ark_http_client *cl;
	struct host	*h;
	struct conn	*conn;
	enum req_state	 state;
	TAILQ_ENTRY(ark_http_creq) qlink;	/* host wait queue */
	TAILQ_ENTRY(ark_http_creq) clink;	/* client: started ones */

	char		*method;
	char		*host;
	uint16_t	 port;
	int		 tls;
	char		*target;
	int		 head_method;
	int		 idempotent;
	struct req_hdr	*hdrs;
	size_t		 nhdrs;

	enum body_mode	 bm;
	struct evbuffer	*body;		/* BM_BUFFER, kept for a retry */
	struct evbuffer	*pending;	/* BM_STREAM, framed, not on a conn */
	int64_t		 stream_len;	/* -1: chunked */
	uint64_t	 stream_written;
	int		 ended;
	int		 expect;
	enum body_phase	 phase;
	int		 body_started;	/* body bytes went to a connection */
	int		 got_continue;	/* a 100 arrived while holding */

	struct ark_http_rparse *rp;
	uint64_t	 rx_bytes;	/* response bytes on this connection */
	int		 reused;
	int		 retried;
	int		 want_fresh;
	int		 paused;
	int		 canceled;
	int		 in_cb;
	int		 started;	/* on the client's reqs list */

	unsigned	 connect_ms;
	unsigned	 total_ms;
	unsigned	 io_ms;
	uint64_t	 t_deadline;	/* 0: none; monotonic ms */
	uint64_t	 t_connect;
	uint64_t	 t_expect;
	uint64_t	 t_activity;
	struct event	*timer;
	struct event	*kick;
	unsigned	 kick_what;
	enum ark_err	 fail_err;

	struct ark_http_creq_cbs cbs;
	void		*arg;
};

struct conn {
	uint32_t	 magic;
	struct host	*h;
	struct bufferevent *bev;
	struct ark_http_creq *req;
	TAILQ_ENTRY(conn) all_link;
	TAILQ_ENTRY(conn) idle_link;
	int		 idle;
	int		 connected;
	int		 eof;		/* peer closed (or reset) */
	int		 err;		/* it was a reset or TLS error */
	unsigned	 nreq;		/* requests started on it */
};

struct host {
	struct ark_http_client *cl;
	TAILQ_ENTRY(host) link;
	char		*name;
	uint16_t	 port;
	int		 tls;
	TAILQ_HEAD(conn_tqh, conn) all;
	struct conn_tqh	 idle;		/* most recently used first */
	TAILQ_HEAD(, ark_http_creq) waitq;
	unsigned	 nconns;
	unsigned	 nidle;
};

struct ark_http_client {
	uint32_t	 magic;
	struct event_base *base;
	struct ark_http_client_opts o;
	char		*ca_file;
	SSL_CTX		*ssl_ctx;
	int		 own_ssl_ctx;
	struct evdns_base *dns;
	int		 own_dns;
	TAILQ_HEAD(, host) hosts;
	TAILQ_HEAD(, ark_http_creq) reqs;	/* started, not done */
	unsigned	 nidle;
	unsigned	 nopen;
	int		 freeing;
	struct ark_http_client_stats st;
};

static void	conn_readcb(struct bufferevent *, void *);
static void	conn_writecb(struct bufferevent *, void *);
static void	conn_eventcb(struct bufferevent *, short, void *);
static void	req_timer_arm(struct ark_http_creq *);
static void	req_finish(struct ark_http_creq *, enum ark_err);
static void	req_abort(struct ark_http_creq *);
static int	req_process_input(struct ark_http_creq *);
static void	host_dispatch(struct host *);

static uint64_t
now_ms(void)
{
	return ark_mono_ns() / 1000000u;
}

/* ---- options ------------------------------------------------------------ */

void
ark_http_client_opts_default(struct ark_http_client_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->connect_timeout_ms = 5000;
	o->request_timeout_ms = 0;
	o->io_timeout_ms = 30000;
	o->expect_timeout_ms = 1000;
	o->idle_timeout_ms = 30000;
	o->max_idle_per_host = 8;
	o->max_idle_total = 256;
	o->max_conns_per_host = 64;
	o->max_header_bytes = 64 * 1024;
	o->max_headers = 100;
	o->stream_low_water = 256 * 1024;
	o->stream_high_water = 1024 * 1024;
}

/* ---- client ------------------------------------------------------------- */

struct event_base *
ark_http_base_new(void)
{
	struct event_config *cfg;
	struct event_base *base;

	if ((cfg = event_config_new()) == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/* One readv of at most `room` bytes into the reserved end of `in`. */
static ssize_t
bev_readv(struct evbuffer *in, int fd, size_t room)
{
	struct evbuffer_iovec	 v[4];
	size_t			 left;
	ssize_t			 got;
	int			 i, n;

	if ((n = evbuffer_reserve_space(in, (ev_ssize_t)room, v, 4)) <= 0)
		return 0;
	for (i = 0, left = room; i < n; i++) {
		if (v[i].iov_len > left)
			v[i].iov_len = left;
		left -= v[i].iov_len;
	}
	do
		got = readv(fd, (struct iovec *)v, n);
	while (got < 0 && errno == EINTR);
	if (got <= 0) {
		evbuffer_commit_space(in, v, 0);
		return got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ?
		    0 : -1;
	}
	for (i = 0, left = (size_t)got; i < n; i++) {
		if (v[i].iov_len > left)
			v[i].iov_len = left;
		left -= v[i].iov_len;
	}
	evbuffer_commit_space(in, v, n);
	return got;
}

ssize_t
ark_bev_fill(struct bufferevent *bev, size_t room)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	ssize_t		 got;
	int		 fd = bufferevent_getfd(bev);

	if (fd < 0 || room == 0)
		return 0;
	/* A socket bufferevent keeps the end of its input frozen except
	 * while it reads; so do we. */
	evbuffer_unfreeze(in, 0);
	got = bev_readv(in, fd, room);
	evbuffer_freeze(in, 0);
	return got;
}

enum ark_err
ark_http_client_new(struct event_base *base,
    const struct ark_http_client_opts *opts, struct ark_http_client **out)
{
	struct ark_http_client *c;

	*out = NULL;
	if (base == NULL)
		return ARK_EINVAL;
	c = ark_xcalloc(1, sizeof(*c));
	c->magic = CLIENT_MAGIC;
	c->base = base;
	if (opts != NULL)
		c->o = *opts;
	else
		ark_http_client_opts_default(&c->o);
	if (c->o.max_conns_per_host == 0)
		c->o.max_conns_per_host = 1;
	if (c->o.max_headers == 0)
		c->o.max_headers = 1;
	if (c->o.stream_high_water == 0)
		c->o.stream_high_water = 1;
	if (c->o.stream_low_water >= c->o.stream_high_water)
		c->o.stream_low_water = c->o.stream_high_water / 2;
	if (c->o.ca_file != NULL)
		c->ca_file = ark_xstrdup(c->o.ca_file);
	c->o.ca_file = NULL;
	c->ssl_ctx = c->o.ssl_ctx;
	c->dns = c->o.dns;
	TAILQ_INIT(&c->hosts);
	TAILQ_INIT(&c->reqs);
	*out = c;
	return ARK_OK;
}

void
ark_http_client_stats(const struct ark_http_client *c,
    struct ark_http_client_stats *st)
{
	ARK_CHECK(c, CLIENT_MAGIC);
	*st = c->st;
	st->idle = c->nidle;
	st->open = c->nopen;
}

static void
log_ssl_errors(const char *what, struct bufferevent *bev)
{
	unsigned long e;
	char buf[256];

	while ((e = bufferevent_get_openssl_error(bev)) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		ark_log_warnx("http client: %s: TLS: %s", what, buf);
	}
}

static enum ark_err
client_ssl_ctx(struct ark_http_client *c)
{
	SSL_CTX *ctx;

	if (c->ssl_ctx != NULL)
		return ARK_OK;
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		ark_log_warnx("http client: SSL_CTX_new failed");
		return ARK_ENOMEM;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (c->o.tls_no_verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	} else {
		if (c->ca_file != NULL) {
			if (SSL_CTX_load_verify_locations(ctx, c->ca_file,
			    NULL) != 1) {
				ark_log_warnx("http client: cannot load CA "
				    "file %s", c->ca_file);
				SSL_CTX_free(ctx);
				return ARK_EINVAL;
			}
		} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
			ark_log_warnx("http client: no system CA store");
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	c->ssl_ctx = ctx;
	c->own_ssl_ctx = 1;
	return ARK_OK;
}

static int
host_is_numeric(const char *name)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, name, buf) == 1 ||
	    inet_pton(AF_INET6, name, buf) == 1;
}

static struct host *
host_get(struct ark_http_client *c, const char *name, uint16_t port, int tls)
{
	struct host *h;

	TAILQ_FOREACH(h, &c->hosts, link)
		if (h->port == port && h->tls == tls &&
		    strcasecmp(h->name, name) == 0)
			return h;
	h = ark_xcalloc(1, sizeof(*h));
	h->cl = c;
	h->name = ark_xstrdup(name);
	h->port = port;
	h->tls = tls;
	TAILQ_INIT(&h->all);
	TAILQ_INIT(&h->idle);
	TAILQ_INIT(&h->waitq);
	TAILQ_INSERT_TAIL(&c->hosts, h, link);
	return h;
}

/* ---- connections -------------------------------------------------------- */

static void
conn_outbuf_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct conn *cn = arg;

	/* Sending progress keeps the inactivity timer quiet. */
	if (info->n_deleted > 0 && cn->req != NULL)
		cn->req->t_activity = now_ms();
}

static struct conn *
conn_new(struct host *h, enum ark_err *errp)
{
	struct ark_http_client *c = h->cl;
	struct bufferevent *bev;
	struct conn *cn;
	enum ark_err e;
	int opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;

	if (h->tls) {
		SSL *ssl;

		if ((e = client_ssl_ctx(c)) != ARK_OK) {
			*errp = e;
			return NULL;
		}
		if ((ssl = SSL_new(c->ssl_ctx)) == NULL) {
			*errp = ARK_ENOMEM;
			return NULL;
		}
		if (!host_is_numeric(h->name))
			SSL_set_tlsext_host_name(ssl, h->name);
		if (!c->o.tls_no_verify) {
			X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);

			X509_VERIFY_PARAM_set_hostflags(vp,
			    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			if (host_is_numeric(h->name))
				X509_VERIFY_PARAM_set1_ip_asc(vp, h->name);
			else
				X509_VERIFY_PARAM_set1_host(vp, h->name, 0);
		}
		bev = bufferevent_openssl_socket_new(c->base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, opts);
		if (bev == NULL) {
			SSL_free(ssl);
			*errp = ARK_ENOMEM;
			return NULL;
		}
	} else if ((bev = bufferevent_socket_new(c->base, -1, opts)) ==
	    NULL) {
		*errp = ARK_ENOMEM;
		return NULL;
	}
	if (c->dns == NULL && !host_is_numeric(h->name)) {
		/* NULL from evdns_base_new leaves libevent on blocking
		 * getaddrinfo, which still works. */
		c->dns = evdns_base_new(c->base,
		    EVDNS_BASE_INITIALIZE_NAMESERVERS |
		    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
		c->own_dns = c->dns != NULL;
	}
	cn = ark_xcalloc(1, sizeof(*cn));
	cn->magic = CONN_MAGIC;
	cn->h = h;
	cn->bev = bev;
	bufferevent_setcb(bev, conn_readcb, conn_writecb, conn_eventcb, cn);
	bufferevent_setwatermark(bev, EV_WRITE, c->o.stream_low_water, 0);
	/* libevent moves 16 KiB per write(2) by default: bodies of
	 * megabytes would cost thousands of system calls each (reads are
	 * capped at 4 KiB anyway; conn_readcb tops them up). */
	bufferevent_set_max_single_read(bev, ARK_HTTP_CLIENT_IO_MAX);
	bufferevent_set_max_single_write(bev, ARK_HTTP_CLIENT_IO_MAX);
	evbuffer_add_cb(bufferevent_get_output(bev), conn_outbuf_cb, cn);
	TAILQ_INSERT_TAIL(&h->all, cn, all_link);
	h->nconns++;
	c->nopen++;
	c->st.connects++;
	if (bufferevent_socket_connect_hostname(bev, c->dns, AF_UNSPEC,
	    h->name, h->port) != 0) {
		/* Error callbacks were not scheduled: report through the
		 * caller, which owns the request. */
		ark_log_debug("%s: connect %s:%u failed at once", __func__,
		    h->name, h->port);
		cn->eof = cn->err = 1;
	}
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return cn;
}

static void
conn_free(struct conn *cn)
{
	struct host *h = cn->h;

	ARK_CHECK(cn, CONN_MAGIC);
	if (cn->idle) {
		TAILQ_REMOVE(&h->idle, cn, idle_link);
		h->nidle--;
		h->cl->nidle--;
	}
	TAILQ_REMOVE(&h->all, cn, all_link);
	h->nconns--;
	h->cl->nopen--;
	if (cn->req != NULL)
		cn->req->conn = NULL;
	bufferevent_free(cn->bev);
	cn->magic = 0;
	free(cn);
}

/* Puts a connection whose response completed back in the pool, or closes
 * it when the pool is full. */
static void
conn_make_idle(struct conn *cn)
{
	struct host *h = cn->h;
	struct ark_http_client *c = h->cl;
	struct timeval tv;

	cn->req = NULL;
	if (h->nidle >= c->o.max_idle_per_host ||
	    c->nidle >= c->o.max_idle_total || c->freeing) {
		conn_free(cn);
		return;
	}
	cn->idle = 1;
	TAILQ_INSERT_HEAD(&h->idle, cn, idle_link);
	h->nidle++;
	c->nidle++;
	if (c->o.idle_timeout_ms > 0) {
		tv.tv_sec = c->o.idle_timeout_ms / 1000;
		tv.tv_usec = (c->o.idle_timeout_ms % 1000) * 1000;
		bufferevent_set_timeouts(cn->bev, &tv, NULL);
	}
	bufferevent_enable(cn->bev, EV_READ);
}

static void
conn_take_idle(struct conn *cn)
{
	struct host *h = cn->h;

	TAILQ_REMOVE(&h->idle, cn, idle_link);
	h->nidle--;
	h->cl->nidle--;
	cn->idle = 0;
	bufferevent_set_timeouts(cn->bev, NULL, NULL);
}

/* ---- requests: building ------------------------------------------------- */

static int
is_tchar(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || (ch != 0 && strchr("!#$%&'*+-.^_`|~",
	    ch) != NULL);
}

static int
is_token(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!is_tchar((unsigned char)*s))
			return 0;
	return 1;
}

static int
is_field_value(const char *s)
{
	for (; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return 0;
	return 1;
}

/* Host names, IPv4 and (bracket-less) IPv6 literals: nothing that could
 * break the Host header. */
static int
is_host(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("-._~:%", *s) != NULL))
			return 0;
	return n > 0 && n <= 255;
}

static int
is_target(const char *s)
{
	if (s == NULL || (*s != '/' && strcmp(s, "*") != 0))
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static void
req_timer_cb(evutil_socket_t fd, short what, void *arg);
static void
req_kick_cb(evutil_socket_t fd, short what, void *arg);

enum ark_err
ark_http_creq_new(struct ark_http_client *c, const char *method,
    const char *host, uint16_t port, int tls, const char *target,
    struct ark_http_creq **out)
{
	struct ark_http_creq *r;
	static const char *const idem[] = {
		"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE",
	};
	size_t i;

	*out = NULL;
	ARK_CHECK(c, CLIENT_MAGIC);
	if (!is_token(method) || host == NULL || !is_host(host) ||
	    port == 0 || !is_target(target))
		return ARK_EINVAL;
	r = ark_xcalloc(1, sizeof(*r));
	r->magic = REQ_MAGIC;
	r->cl = c;
	r->method = ark_xstrdup(method);
	r->host = ark_xstrdup(host);
	r->port = port;
	r->tls = tls != 0;
	r->target = ark_xstrdup(target);
	r->head_method = strcmp(method, "HEAD") == 0;
	for (i = 0; i < ARK_ARRAY_SIZE(idem); i++)
		if (strcmp(method, idem[i]) == 0)
			r->idempotent = 1;
	r->connect_ms = c->o.connect_timeout_ms;
	r->total_ms = c->o.request_timeout_ms;
	r->io_ms = c->o.io_timeout_ms;
	r->stream_len = -1;
	r->timer = evtimer_new(c->base, req_timer_cb, r);
	r->kick = event_new(c->base, -1, 0, req_kick_cb, r);
	if (r->timer == NULL || r->kick == NULL)
		ark_fatalx("%s: event_new failed", __func__);
	*out = r;
	return ARK_OK;
}

enum ark_err
ark_http_creq_new_url(struct ark_http_client *c, const char *method,
    const char *url, struct ark_http_creq **out)
{
	struct ark_url u;
	enum ark_err e;

	*out = NULL;
	if ((e = ark_url_parse(url, &u, NULL)) != ARK_OK)
		return e;
	e = ark_http_creq_new(c, method, u.host, u.port, u.tls, u.target, out);
	ark_url_free(&u);
	return e;
}

static int
hdr_reserved(const char *name)
{
	return strcasecmp(name, "Content-Length") == 0 ||
	    strcasecmp(name, "Transfer-Encoding") == 0 ||
	    strcasecmp(name, "Expect") == 0 ||
	    strcasecmp(name, "Connection") == 0;
}

enum ark_err
ark_http_creq_add_header(struct ark_http_creq *r, const char *name,
    const char *value)
{
	ARK_CHECK(r, REQ_MAGIC);
	if (r->state != RS_NEW || !is_token(name) || value == NULL ||
	    !is_field_value(value) || hdr_reserved(name))
		return ARK_EINVAL;
	if (r->nhdrs >= 256)
		return ARK_ETOOBIG;
	r->hdrs = ark_xrealloc(r->hdrs, (r->nhdrs + 1) * sizeof(*r->hdrs));
	r->hdrs[r->nhdrs].name = ark_xstrdup(name);
	r->hdrs[r->nhdrs].value = ark_xstrdup(value);
	r->nhdrs++;
	return ARK_OK;
}

enum ark_err
ark_http_creq_set_header(struct ark_http_creq *r, const char *name,
    const char *value)
{
	size_t i, j;

	ARK_CHECK(r, REQ_MAGIC);
	if (r->state != RS_NEW || !is_token(name) || value == NULL ||
	    !is_field_value(value) || hdr_reserved(name))
		return ARK_EINVAL;
	for (i = j = 0; i < r->nhdrs; i++) {
		if (strcasecmp(r->hdrs[i].name, name) == 0) {
			free(r->hdrs[i].name);
			free(r->hdrs[i].value);
			continue;
		}
		r->hdrs[j++] = r->hdrs[i];
	}
	r->nhdrs = j;
	return ark_http_creq_add_header(r, name, value);
}

static const char *
req_header(const struct ark_http_creq *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nhdrs; i++)
		if (strcasecmp(r->hdrs[i].name, name) == 0)
			return r->hdrs[i].value;
	return NULL;
}

enum ark_err
ark_http_creq_body_copy(struct ark_http_creq *r, const void *data, size_t len)
{
	ARK_CHECK(r, REQ_MAGIC);
	if (r->state != RS_NEW || r->bm != BM_NONE || (data == NULL && len))
		return ARK_EINVAL;
	if ((r->body = evbuffer_new()) == NULL)
		return ARK_ENOMEM;
	if (evbuffer_add(r->body, data, len) != 0) {
		evbuffer_free(r->body);
		r->body = NULL;
		return ARK_ENOMEM;
	}
	r->bm = BM_BUFFER;
	return ARK_OK;
}

enum ark_err
ark_http_creq_body_buffer(struct ark_http_creq *r, struct evbuffer *buf)
{
	ARK_CHECK(r, REQ_MAGIC);
	if (r->state != RS_NEW || r->bm != BM_NONE || buf == NULL)
		return ARK_EINVAL;
	if ((r->body = evbuffer_new()) == NULL)
		return ARK_ENOMEM;
	if (evbuffer_add_buffer(r->body, buf) != 0) {
		evbuffer_free(r->body);
		r->body = NULL;
		return ARK_ENOMEM;
	}
	r->bm = BM_BUFFER;
	return ARK_OK;
}

enum ark_err
ark_http_creq_body_stream(struct ark_http_creq *r, int64_t len)
{
	ARK_CHECK(r, REQ_MAGIC);
	if (r->state != RS_NEW || r->bm != BM_NONE)
		return ARK_EINVAL;
	if ((r->pending = evbuffer_new()) == NULL)
		return ARK_ENOMEM;
	r->bm = BM_STREAM;
	r->stream_len = len < 0 ? -1 : len;
	return ARK_OK;
}

enum ark_err
ark_http_creq_expect_continue(struct ark_http_creq *r)
{
	ARK_CHECK(r, REQ_MAGIC);
	if (r->state != RS_NEW)
		return ARK_EINVAL;
	r->expect = 1;
	return ARK_OK;
}

void
ark_http_creq_set_timeouts(struct ark_http_creq *r, int connect_ms,
    int total_ms, int io_ms)
{
	ARK_CHECK(r, REQ_MAGIC);
	if (connect_ms >= 0)
		r->connect_ms = (unsigned)connect_ms;
	if (total_ms >= 0)
		r->total_ms = (unsigned)total_ms;
	if (io_ms >= 0)
		r->io_ms = (unsigned)io_ms;
}

void
ark_http_creq_set_cbs(struct ark_http_creq *r,
    const struct ark_http_creq_cbs *cbs, void *arg)
{
	ARK_CHECK(r, REQ_MAGIC);
	memset(&r->cbs, 0, sizeof(r->cbs));
	if (cbs != NULL)
		r->cbs = *cbs;
	r->arg = arg;
}

/* ---- requests: user callbacks ------------------------------------------- */

/* Each returns 0 when the callback canceled the request: the caller then
 * tears it down with req_abort() and touches nothing else. */
static int
req_call_drain(struct ark_http_creq *r)
{
	if (r->cbs.on_drain == NULL)
		return 1;
	r->in_cb++;
	r->cbs.on_drain(r, r->arg);
	r->in_cb--;
	return !r->canceled;
}

static enum ark_err
rp_on_head(void *arg, struct ark_http_rparse *p)
{
	struct ark_http_creq *r = arg;
	int st = ark_http_rparse_status(p);

	if (ark_http_rparse_interim(p)) {
		/* The body goes out when this feed returns. */
		if (st == 100 && r->phase == BP_HOLD && r->expect)
			r->got_continue = 1;
		return ARK_OK;
	}
	if (r->cbs.on_head == NULL)
		return ARK_OK;
	r->in_cb++;
	r->cbs.on_head(r, r->arg);
	r->in_cb--;
	return r->canceled ? ARK_ECANCELED : ARK_OK;
}

static enum ark_err
rp_on_body(void *arg, const char *data, size_t len)
{
	struct ark_http_creq *r = arg;

	if (r->cbs.on_body != NULL) {
		r->in_cb++;
		r->cbs.on_body(r, data, len, r->arg);
		r->in_cb--;
		if (r->canceled)
			return ARK_ECANCELED;
	}
	return r->paused ? ARK_EAGAIN : ARK_OK;
}

static const struct ark_http_rparse_cbs req_rp_cbs = {
	.on_head = rp_on_head,
	.on_body = rp_on_body,
};

/* ---- requests: sending -------------------------------------------------- */

static void
req_kick(struct ark_http_creq *r, unsigned what)
{
	r->kick_what |= what;
	event_active(r->kick, 0, 1);
}

/* Moves the body (or what the caller wrote so far) to the connection. */
static void
req_body_go(struct ark_http_creq *r)
{
	struct evbuffer *out = bufferevent_get_output(r->conn->bev);

	r->t_expect = 0;
	switch (r->bm) {
	case BM_NONE:
		r->phase = BP_SENT;
		break;
	case BM_BUFFER:
		if (evbuffer_get_length(r->body) > 0) {
			/* By reference: r->body stays intact for a retry. */
			if (evbuffer_add_buffer_reference(out, r->body) != 0 &&
			    evbuffer_add(out, evbuffer_pullup(r->body, -1),
			    evbuffer_get_length(r->body)) != 0) {
				r->fail_err = ARK_ENOMEM;
				req_kick(r, KICK_FAIL);
				return;
			}
			r->body_started = 1;
		}
		r->phase = BP_SENT;
		break;
	case BM_STREAM:
		if (evbuffer_get_length(r->pending) > 0) {
			evbuffer_add_buffer(out, r->pending);
			r->body_started = 1;
		}
		if (r->ended) {
			r->phase = BP_SENT;
		} else {
			r->phase = BP_SEND;
			req_kick(r, KICK_DRAIN);
		}
		break;
	}
}

static void
host_header(const struct ark_http_creq *r, char *buf, size_t len)
{
	int v6 = strchr(r->host, ':') != NULL;
	int dflt = r->port == (r->tls ? 443 : 80);

	if (dflt)
		snprintf(buf, len, "%s%s%s", v6 ? "[" : "", r->host,
		    v6 ? "]" : "");
	else
		snprintf(buf, len, "%s%s%s:%u", v6 ? "[" : "", r->host,
		    v6 ? "]" : "", r->port);
}

static void
req_send_head(struct ark_http_creq *r)
{
	struct conn *cn = r->conn;
	struct evbuffer *out = bufferevent_get_output(cn->bev);
	char hh[300];
	size_t i;
	int has_body = r->bm != BM_NONE;

	cn->nreq++;
	r->reused = cn->nreq > 1;
	if (r->reused)
		r->cl->st.reuses++;
	r->state = RS_ACTIVE;
	r->rx_bytes = 0;
	r->t_activity = now_ms();
	if (r->rp == NULL)
		r->rp = ark_http_rparse_new(r->cl->o.max_header_bytes,
		    r->cl->o.max_headers, &req_rp_cbs, r);
	ark_http_rparse_reset(r->rp, r->head_method);

	evbuffer_add_printf(out, "%s %s HTTP/1.1\r\n", r->method, r->target);
	if (req_header(r, "Host") == NULL) {
		host_header(r, hh, sizeof(hh));
		evbuffer_add_printf(out, "Host: %s\r\n", hh);
	}
	if (req_header(r, "User-Agent") == NULL)
		evbuffer_add_printf(out, "User-Agent: arkor/%s\r\n",
		    PACKAGE_VERSION);
	for (i = 0; i < r->nhdrs; i++)
		evbuffer_add_printf(out, "%s: %s\r\n", r->hdrs[i].name,
		    r->hdrs[i].value);
	if (r->bm == BM_BUFFER)
		evbuffer_add_printf(out, "Content-Length: %zu\r\n",
		    evbuffer_get_length(r->body));
	else if (r->bm == BM_STREAM && r->stream_len >= 0)
		evbuffer_add_printf(out, "Content-Length: %lld\r\n",
		    (long long)r->stream_len);
	else if (r->bm == BM_STREAM)
		evbuffer_add_printf(out, "Transfer-Encoding: chunked\r\n");
	else if (strcmp(r->method, "POST") == 0 ||
	    strcmp(r->method, "PUT") == 0 || strcmp(r->method, "PATCH") == 0)
		evbuffer_add_printf(out, "Content-Length: 0\r\n");
	if (has_body && r->expect)
		evbuffer_add_printf(out, "Expect: 100-continue\r\n");
	evbuffer_add(out, "\r\n", 2);

	r->phase = BP_HOLD;
	r->got_continue = 0;
	if (has_body && r->expect)
		r->t_expect = now_ms() + (r->cl->o.expect_timeout_ms ?
		    r->cl->o.expect_timeout_ms : 1);
	else
		req_body_go(r);
	req_timer_arm(r);
}

/* Gives the request its connection; sends at once when it is connected. */
static void
req_attach(struct ark_http_creq *r, struct conn *cn)
{
	r->conn = cn;
	cn->req = r;
	if (cn->connected) {
		req_send_head(r);
		return;
	}
	r->state = RS_CONNECTING;
	r->t_connect = r->connect_ms ? now_ms() + r->connect_ms : 0;
	req_timer_arm(r);
	if (cn->eof) {
		r->fail_err = ARK_ECONN;
		req_kick(r, KICK_FAIL);
	}
}

/* Hands out idle or new connections to queued requests of host h. */
static void
host_dispatch(struct host *h)
{
	struct ark_http_client *c = h->cl;
	struct ark_http_creq *r;
	struct conn *cn;
	enum ark_err e;

	if (c->freeing)
		return;
	while ((r = TAILQ_FIRST(&h->waitq)) != NULL) {
		cn = NULL;
		if (!r->want_fresh && (cn = TAILQ_FIRST(&h->idle)) != NULL) {
			conn_take_idle(cn);
		} else {
			if (h->nconns >= c->o.max_conns_per_host &&
			    (cn = TAILQ_LAST(&h->idle, conn_tqh)) != NULL)
				conn_free(cn);	/* make room: oldest idle */
			if (h->nconns >= c->o.max_conns_per_host)
				break;
			if ((cn = conn_new(h, &e)) == NULL) {
				TAILQ_REMOVE(&h->waitq, r, qlink);
				r->state = RS_CONNECTING;
				r->fail_err = e;
				req_kick(r, KICK_FAIL);
				continue;
			}
		}
		TAILQ_REMOVE(&h->waitq, r, qlink);
		req_attach(r, cn);
	}
}

enum ark_err
ark_http_creq_start(struct ark_http_creq *r)
{
	struct ark_http_client *c;

	ARK_CHECK(r, REQ_MAGIC);
	c = r->cl;
	if (r->state != RS_NEW || c->freeing)
		return ARK_EINVAL;
	if (r->expect && r->bm == BM_NONE)
		return ARK_EINVAL;
	r->h = host_get(c, r->host, r->port, r->tls);
	r->t_deadline = r->total_ms ? now_ms() + r->total_ms : 0;
	r->state = RS_QUEUED;
	TAILQ_INSERT_TAIL(&r->h->waitq, r, qlink);
	TAILQ_INSERT_TAIL(&c->reqs, r, clink);
	r->started = 1;
	req_timer_arm(r);
	host_dispatch(r->h);
	return ARK_OK;
}

/* ---- requests: streamed body -------------------------------------------- */

static enum ark_err
req_stream_add(struct ark_http_creq *r, const void *data, size_t len,
    struct evbuffer *src)
{
	struct evbuffer *dst;
	char frame[24];

	ARK_CHECK(r, REQ_MAGIC);
	if (r->bm != BM_STREAM || r->ended || r->state == RS_DONE)
		return ARK_EINVAL;
	if (src != NULL)
		len = evbuffer_get_length(src);
	if (r->stream_len >= 0 &&
	    (uint64_t)r->stream_len - r->stream_written < len)
		return ARK_EINVAL;
	if (len == 0)
		return ARK_OK;
	if (r->phase == BP_SEND && r->conn != NULL) {
		dst = bufferevent_get_output(r->conn->bev);
		r->body_started = 1;
	} else {
		dst = r->pending;
	}
	if (r->stream_len < 0) {
		snprintf(frame, sizeof(frame), "%zx\r\n", len);
		if (evbuffer_add(dst, frame, strlen(frame)) != 0)
			return ARK_ENOMEM;
	}
	if (src != NULL) {
		if (evbuffer_add_buffer(dst, src) != 0)
			return ARK_ENOMEM;
	} else if (evbuffer_add(dst, data, len) != 0) {
		return ARK_ENOMEM;
	}
	if (r->stream_len < 0 && evbuffer_add(dst, "\r\n", 2) != 0)
		return ARK_ENOMEM;
	r->stream_written += len;
	return ARK_OK;
}

enum ark_err
ark_http_creq_write(struct ark_http_creq *r, const void *data, size_t len)
{
	if (data == NULL && len > 0)
		return ARK_EINVAL;
	return req_stream_add(r, data, len, NULL);
}

enum ark_err
ark_http_creq_write_buffer(struct ark_http_creq *r, struct evbuffer *buf)
{
	if (buf == NULL)
		return ARK_EINVAL;
	return req_stream_add(r, NULL, 0, buf);
}

enum ark_err
ark_http_creq_end(struct ark_http_creq *r)
{
	struct evbuffer *dst;

	ARK_CHECK(r, REQ_MAGIC);
	if (r->bm != BM_STREAM || r->ended || r->state == RS_DONE)
		return ARK_EINVAL;
	if (r->stream_len >= 0 && r->stream_written != (uint64_t)r->stream_len)
		return ARK_EINVAL;
	dst = r->phase == BP_SEND && r->conn != NULL ?
	    bufferevent_get_output(r->conn->bev) : r->pending;
	if (r->stream_len < 0 && evbuffer_add(dst, "0\r\n\r\n", 5) != 0)
		return ARK_ENOMEM;
	r->ended = 1;
	if (r->phase == BP_SEND)
		r->phase = BP_SENT;
	return ARK_OK;
}

size_t
ark_http_creq_pending(const struct ark_http_creq *r)
{
	size_t n = 0;

	ARK_CHECK(r, REQ_MAGIC);
	if (r->pending != NULL)
		n += evbuffer_get_length(r->pending);
	if (r->conn != NULL && r->state == RS_ACTIVE)
		n += evbuffer_get_length(bufferevent_get_output(r->conn->bev));
	return n;
}

int
ark_http_creq_writable(const struct ark_http_creq *r)
{
	ARK_CHECK(r, REQ_MAGIC);
	return r->bm == BM_STREAM && r->phase == BP_SEND && !r->ended &&
	    r->state == RS_ACTIVE &&
	    ark_http_creq_pending(r) < r->cl->o.stream_high_water;
}

/* ---- requests: response flow control ------------------------------------ */

void
ark_http_creq_pause(struct ark_http_creq *r)
{
	ARK_CHECK(r, REQ_MAGIC);
	if (r->paused)
		return;
	r->paused = 1;
	if (r->conn != NULL)
		bufferevent_disable(r->conn->bev, EV_READ);
}

void
ark_http_creq_resume(struct ark_http_creq *r)
{
	ARK_CHECK(r, REQ_MAGIC);
	if (!r->paused)
		return;
	r->paused = 0;
	r->t_activity = now_ms();
	if (r->conn != NULL) {
		bufferevent_enable(r->conn->bev, EV_READ);
		req_kick(r, KICK_READ);
	}
}

/* ---- requests: accessors ------------------------------------------------ */

int
ark_http_creq_status(const struct ark_http_creq *r)
{
	ARK_CHECK(r, REQ_MAGIC);
	if (r->rp == NULL || ark_http_rparse_state(r->rp) == ARK_RP_HEAD)
		return 0;
	return ark_http_rparse_status(r->rp);
}

const struct ark_http_resp_hdrs *
ark_http_creq_resp_hdrs(const struct ark_http_creq *r)
{
	ARK_CHECK(r, REQ_MAGIC);
	if (r->rp == NULL || ark_http_rparse_state(r->rp) == ARK_RP_HEAD)
		return NULL;
	return ark_http_rparse_hdrs(r->rp);
}

const char *
ark_http_creq_resp_header(const struct ark_http_creq *r, const char *name)
{
	return ark_http_resp_hdrs_get(ark_http_creq_resp_hdrs(r), name);
}

int64_t
ark_http_creq_resp_content_length(const struct ark_http_creq *r)
{
	ARK_CHECK(r, REQ_MAGIC);
	if (r->rp == NULL || ark_http_rparse_state(r->rp) == ARK_RP_HEAD)
		return -1;
	return ark_http_rparse_content_length(r->rp);
}

int
ark_http_creq_reused(const struct ark_http_creq *r)
{
	ARK_CHECK(r, REQ_MAGIC);
	return r->reused;
}

/* ---- requests: completion ----------------------------------------------- */

static void
req_destroy(struct ark_http_creq *r)
{
	size_t i;

	if (r->started)
		TAILQ_REMOVE(&r->cl->reqs, r, clink);
	event_free(r->timer);
	event_free(r->kick);
	for (i = 0; i < r->nhdrs; i++) {
		free(r->hdrs[i].name);
		free(r->hdrs[i].value);
	}
	free(r->hdrs);
	if (r->body != NULL)
		evbuffer_free(r->body);
	if (r->pending != NULL)
		evbuffer_free(r->pending);
	ark_http_rparse_free(r->rp);
	free(r->method);
	free(r->host);
	free(r->target);
	r->magic = 0;
	free(r);
}

/* Tears down without callbacks: cancel, client free. */
static void
req_abort(struct ark_http_creq *r)
{
	struct host *h = r->h;
	struct conn *cn = r->conn;

	if (r->state == RS_QUEUED)
		TAILQ_REMOVE(&h->waitq, r, qlink);
	if (cn != NULL) {
		cn->req = NULL;
		r->conn = NULL;
		conn_free(cn);
	}
	r->state = RS_DONE;
	req_destroy(r);
	if (h != NULL)
		host_dispatch(h);
}

static void
req_finish(struct ark_http_creq *r, enum ark_err err)
{
	struct host *h = r->h;
	struct conn *cn = r->conn;
	int reuse = 0;

	if (cn != NULL) {
		struct evbuffer *in = bufferevent_get_input(cn->bev);
		struct evbuffer *out = bufferevent_get_output(cn->bev);

		reuse = err == ARK_OK && !cn->eof && r->phase == BP_SENT &&
		    ark_http_rparse_keep_alive(r->rp) &&
		    evbuffer_get_length(in) == 0 &&
		    evbuffer_get_length(out) == 0;
		cn->req = NULL;
		r->conn = NULL;
		if (reuse)
			conn_make_idle(cn);
		else
			conn_free(cn);
	}
	if (r->state == RS_QUEUED)
		TAILQ_REMOVE(&h->waitq, r, qlink);
	r->state = RS_DONE;
	evtimer_del(r->timer);
	event_del(r->kick);
	if (err != ARK_OK)
		ark_log_debug("%s: %s %s:%u%s: %s", __func__, r->method,
		    r->host, r->port, r->target, ark_errname(err));
	/* Free the slot first so on_done may start the next request on
	 * this very connection. */
	host_dispatch(h);
	if (r->cbs.on_done != NULL) {
		r->in_cb++;
		r->cbs.on_done(r, err, r->arg);
		r->in_cb--;
	}
	req_destroy(r);
}

static int
req_retryable(const struct ark_http_creq *r)
{
	if (r->retried || !r->reused || r->rx_bytes > 0 || r->canceled)
		return 0;
	if (r->bm == BM_STREAM && r->body_started)
		return 0;	/* those bytes are gone */
	return r->idempotent || !r->body_started;
}

/* A pooled connection turned out dead before any response byte: send the
 * request again, once, on a connection opened for it. */
static void
req_retry(struct ark_http_creq *r)
{
	struct conn *cn = r->conn;

	ark_log_debug("%s: %s %s:%u%s: stale pooled connection, retrying",
	    __func__, r->method, r->host, r->port, r->target);
	cn->req = NULL;
	r->conn = NULL;
	conn_free(cn);
	r->cl->st.retries++;
	r->retried = 1;
	r->want_fresh = 1;
	r->phase = BP_HOLD;
	r->t_expect = 0;
	r->kick_what &= ~(unsigned)(KICK_DRAIN | KICK_READ);
	r->state = RS_QUEUED;
	TAILQ_INSERT_HEAD(&r->h->waitq, r, qlink);
	host_dispatch(r->h);
}

/* The connection is gone (EOF, reset) and all its input was parsed. */
static void
req_conn_lost(struct ark_http_creq *r)
{
	struct conn *cn = r->conn;
	enum ark_err e;

	if (r->state == RS_CONNECTING) {
		req_finish(r, ARK_ECONN);
		return;
	}
	if (cn->err)
		e = ark_http_rparse_state(r->rp) == ARK_RP_DONE ? ARK_OK :
		    ARK_ECONN;
	else
		e = ark_http_rparse_eof(r->rp);
	if (e == ARK_OK) {
		req_finish(r, ARK_OK);
		return;
	}
	if (req_retryable(r)) {
		req_retry(r);
		return;
	}
	req_finish(r, e);
}

/* Parses what the connection has buffered, as far as the caller lets us.
 * Returns 0 when r no longer exists (or was handed to a retry). */
static int
req_process_input(struct ark_http_creq *r)
{
	struct conn *cn = r->conn;
	struct evbuffer *in;
	struct evbuffer_iovec v;
	enum ark_err e;
	size_t used;

	if (cn == NULL || r->state != RS_ACTIVE)
		return 1;
	in = bufferevent_get_input(cn->bev);
	while (!r->paused && ark_http_rparse_state(r->rp) != ARK_RP_DONE &&
	    evbuffer_peek(in, -1, NULL, &v, 1) > 0) {
		e = ark_http_rparse_feed(r->rp, v.iov_base, v.iov_len, &used);
		if (r->canceled) {
			req_abort(r);
			return 0;
		}
		r->rx_bytes += used;
		evbuffer_drain(in, used);
		if (e == ARK_EAGAIN)
			break;
		if (e != ARK_OK) {
			if (e == ARK_EPROTO || e == ARK_ETOOBIG)
				ark_log_debug("%s: %s:%u: bad response: %s",
				    __func__, r->host, r->port,
				    ark_errname(e));
			req_finish(r, e);
			return 0;
		}
		if (r->got_continue) {
			r->got_continue = 0;
			if (r->phase == BP_HOLD)
				req_body_go(r);
		}
		if (used == 0)
			break;
	}
	if (ark_http_rparse_state(r->rp) == ARK_RP_DONE) {
		/* A final status before the held body: the server does not
		 * want it, and the connection cannot carry on. */
		if (r->phase == BP_HOLD && r->bm != BM_NONE)
			cn->eof = 1;
		req_finish(r, ARK_OK);
		return 0;
	}
	if (cn->eof && !r->paused && evbuffer_get_length(in) == 0) {
		req_conn_lost(r);
		return 0;
	}
	return 1;
}

/* ---- events ------------------------------------------------------------- */

static void
conn_readcb(struct bufferevent *bev, void *arg)
{
	struct conn *cn = arg;
	struct ark_http_creq *r;

	ARK_CHECK(cn, CONN_MAGIC);
	if (cn->idle || cn->req == NULL) {
		/* Bytes on an idle connection: the peer is confused. */
		struct host *h = cn->h;

		conn_free(cn);
		host_dispatch(h);
		return;
	}
	r = cn->req;
	r->t_activity = now_ms();
	if (!cn->h->tls && !r->paused &&
	    evbuffer_get_length(bufferevent_get_input(bev)) >=
	    ARK_BEV_READ_CAP)
		(void)ark_bev_fill(bev, ARK_HTTP_CLIENT_IO_MAX);
	req_process_input(r);
}

static void
conn_writecb(struct bufferevent *bev, void *arg)
{
	struct conn *cn = arg;
	struct ark_http_creq *r = cn->req;

	ARK_CHECK(cn, CONN_MAGIC);
	if (r == NULL || r->state != RS_ACTIVE || r->phase != BP_SEND ||
	    r->ended)
		return;
	if (!req_call_drain(r))
		req_abort(r);
}

static void
conn_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *cn = arg;
	struct ark_http_creq *r = cn->req;
	struct host *h = cn->h;

	ARK_CHECK(cn, CONN_MAGIC);
	if (what & BEV_EVENT_CONNECTED) {
		cn->connected = 1;
		if (r != NULL && r->state == RS_CONNECTING)
			req_send_head(r);
		return;
	}
	if (cn->idle || r == NULL) {
		/* Closed or timed out while pooled. */
		conn_free(cn);
		host_dispatch(h);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		int se = EVUTIL_SOCKET_ERROR();
		int dnse = bufferevent_socket_get_dns_error(bev);

		cn->err = 1;
		if (dnse != 0)
			ark_log_warnx("http client: %s: %s", h->name,
			    evutil_gai_strerror(dnse));
		else if (!cn->connected)
			ark_log_debug("%s: connect %s:%u: %s", __func__,
			    h->name, h->port, evutil_socket_error_to_string(se));
		if (h->tls)
			log_ssl_errors(h->name, bev);
	}
	cn->eof = 1;
	if (what & BEV_EVENT_TIMEOUT) {
		req_finish(r, ARK_ETIMEDOUT);
		return;
	}
	if (r->state == RS_CONNECTING) {
		req_finish(r, ARK_ECONN);
		return;
	}
	req_process_input(r);
}

/* Is the request stalled on the peer (as opposed to on our caller)? */
static int
req_waiting_on_peer(const struct ark_http_creq *r)
{
	if (r->state == RS_CONNECTING)
		return 1;
	if (r->state != RS_ACTIVE || r->conn == NULL)
		return 0;
	if (evbuffer_get_length(bufferevent_get_output(r->conn->bev)) > 0)
		return 1;
	if (r->paused)
		return 0;
	return r->phase != BP_SEND;	/* all sent or held: the peer's turn */
}

static void
req_timer_arm(struct ark_http_creq *r)
{
	uint64_t next = 0, now = now_ms(), t;
	struct timeval tv;

#define CONSIDER(x) do { if ((x) != 0 && (next == 0 || (x) < next)) \
	next = (x); } while (0)
	CONSIDER(r->t_deadline);
	if (r->state == RS_CONNECTING)
		CONSIDER(r->t_connect);
	if (r->state == RS_ACTIVE) {
		CONSIDER(r->t_expect);
		if (r->io_ms > 0)
			CONSIDER(r->t_activity + r->io_ms);
	}
#undef CONSIDER
	if (next == 0) {
		evtimer_del(r->timer);
		return;
	}
	t = next > now ? next - now : 0;
	tv.tv_sec = (time_t)(t / 1000);
	tv.tv_usec = (suseconds_t)((t % 1000) * 1000);
	evtimer_add(r->timer, &tv);
}

static void
req_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ark_http_creq *r = arg;
	uint64_t now = now_ms();

	ARK_CHECK(r, REQ_MAGIC);
	if (r->state == RS_DONE)
		return;
	if (r->t_deadline != 0 && now >= r->t_deadline) {
		req_finish(r, ARK_ETIMEDOUT);
		return;
	}
	if (r->state == RS_CONNECTING && r->t_connect != 0 &&
	    now >= r->t_connect) {
		ark_log_debug("%s: connect %s:%u timed out", __func__,
		    r->host, r->port);
		req_finish(r, ARK_ETIMEDOUT);
		return;
	}
	if (r->state == RS_ACTIVE && r->t_expect != 0 && now >= r->t_expect &&
	    r->phase == BP_HOLD) {
		/* No 100 Continue in time: send the body anyway. */
		req_body_go(r);
	}
	if (r->state == RS_ACTIVE && r->io_ms > 0) {
		if (!req_waiting_on_peer(r))
			r->t_activity = now;
		else if (now >= r->t_activity + r->io_ms) {
			ark_log_debug("%s: %s:%u: no progress for %u ms",
			    __func__, r->host, r->port, r->io_ms);
			req_finish(r, ARK_ETIMEDOUT);
			return;
		}
	}
	req_timer_arm(r);
}

static void
req_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ark_http_creq *r = arg;
	unsigned k = r->kick_what;

	ARK_CHECK(r, REQ_MAGIC);
	r->kick_what = 0;
	if (r->state == RS_DONE)
		return;
	if (k & KICK_FAIL) {
		req_finish(r, r->fail_err);
		return;
	}
	if ((k & KICK_READ) && r->state == RS_ACTIVE && !r->paused) {
		if (!req_process_input(r))
			return;
	}
	if ((k & KICK_DRAIN) && r->state == RS_ACTIVE && r->phase == BP_SEND &&
	    !r->ended && ark_http_creq_writable(r)) {
		if (!req_call_drain(r))
			req_abort(r);
	}
}

/* ---- cancel and free ---------------------------------------------------- */

void
ark_http_creq_cancel(struct ark_http_creq *r)
{
	if (r == NULL)
		return;
	ARK_CHECK(r, REQ_MAGIC);
	if (r->in_cb > 0) {
		r->canceled = 1;	/* torn down when the callback returns */
		return;
	}
	if (r->state == RS_DONE)
		return;
	req_abort(r);
}

void
ark_http_client_free(struct ark_http_client *c)
{
	struct host *h;
	struct ark_http_creq *r;
	struct conn *cn;

	if (c == NULL)
		return;
	ARK_CHECK(c, CLIENT_MAGIC);
	c->freeing = 1;
	while ((r = TAILQ_FIRST(&c->reqs)) != NULL)
		req_abort(r);
	while ((h = TAILQ_FIRST(&c->hosts)) != NULL) {
		while ((cn = TAILQ_FIRST(&h->all)) != NULL)
			conn_free(cn);
		TAILQ_REMOVE(&c->hosts, h, link);
		free(h->name);
		free(h);
	}
	if (c->own_dns)
		evdns_base_free(c->dns, 0);
	if (c->own_ssl_ctx)
		SSL_CTX_free(c->ssl_ctx);
	free(c->ca_file);
	c->magic = 0;
	free(c);
}
