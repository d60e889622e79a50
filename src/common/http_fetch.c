/*
 * http_fetch.c - blocking HTTP calls for arkorctl and arkorfs, built on the
 * async client: each calling thread lazily gets its own event_base and
 * client (so keep-alive connections are reused across calls on a thread)
 * and runs the loop until its one request is done. Nothing is shared
 * between threads except the options set by ark_http_fetch_configure().
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/http_client.h"
#include "common/log.h"
#include "common/util.h"

#define FETCH_DEFAULT_MAX_BODY	(16u * 1024 * 1024)
#define FETCH_DEFAULT_TIMEOUT	60000u
#define FETCH_READ_CHUNK	(64u * 1024)

struct fetch_tls {
	struct event_base *base;
	struct ark_http_client *cl;
};

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static pthread_key_t fetch_key;
static pthread_mutex_t fetch_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ark_http_client_opts fetch_opts;
static char *fetch_ca_file;
static int fetch_opts_set;
static _Thread_local struct fetch_tls *fetch_mine;

static void
fetch_tls_free(void *arg)
{
	struct fetch_tls *t = arg;

	if (t == NULL)
		return;
	ark_http_client_free(t->cl);
	event_base_free(t->base);
	free(t);
}

static void
fetch_key_init(void)
{
	if (pthread_key_create(&fetch_key, fetch_tls_free) != 0)
		ark_fatalx("%s: pthread_key_create failed", __func__);
}

void
ark_http_fetch_configure(const struct ark_http_client_opts *o)
{
	pthread_mutex_lock(&fetch_mu);
	free(fetch_ca_file);
	fetch_ca_file = NULL;
	fetch_opts_set = o != NULL;
	if (o != NULL) {
		fetch_opts = *o;
		if (o->ca_file != NULL)
			fetch_ca_file = ark_xstrdup(o->ca_file);
		fetch_opts.ca_file = fetch_ca_file;
	}
	pthread_mutex_unlock(&fetch_mu);
}

static enum ark_err
fetch_tls_get(struct fetch_tls **out)
{
	struct ark_http_client_opts o;
	struct fetch_tls *t;
	enum ark_err e;

	if (fetch_mine != NULL) {
		*out = fetch_mine;
		return ARK_OK;
	}
	pthread_once(&fetch_once, fetch_key_init);
	t = ark_xcalloc(1, sizeof(*t));
	if ((t->base = ark_http_base_new()) == NULL) {
		free(t);
		return ARK_ENOMEM;
	}
	pthread_mutex_lock(&fetch_mu);
	if (fetch_opts_set)
		o = fetch_opts;
	else
		ark_http_client_opts_default(&o);
	e = ark_http_client_new(t->base, &o, &t->cl);	/* copies ca_file */
	pthread_mutex_unlock(&fetch_mu);
	if (e != ARK_OK) {
		event_base_free(t->base);
		free(t);
		return e;
	}
	pthread_setspecific(fetch_key, t);
	fetch_mine = t;
	*out = t;
	return ARK_OK;
}

void
ark_http_fetch_thread_cleanup(void)
{
	struct fetch_tls *t = fetch_mine;

	if (t == NULL)
		return;
	fetch_mine = NULL;
	pthread_setspecific(fetch_key, NULL);
	fetch_tls_free(t);
}

void
ark_http_fetch_thread_stats(struct ark_http_client_stats *st)
{
	if (fetch_mine == NULL) {
		memset(st, 0, sizeof(*st));
		return;
	}
	ark_http_client_stats(fetch_mine->cl, st);
}

/* ---- one call ----------------------------------------------------------- */

struct fetch_ctx {
	const struct ark_http_fetch_req *in;
	struct ark_http_fetch_resp *out;
	struct evbuffer	*body;
	size_t		 max_body;
	char		*rbuf;
	int		 done;
	enum ark_err	 err;
};

static void
fetch_stop(struct fetch_ctx *f, struct ark_http_creq *r, enum ark_err e)
{
	f->err = e;
	f->done = 1;
	ark_http_creq_cancel(r);
}

static void
fetch_on_head(struct ark_http_creq *r, void *arg)
{
	struct fetch_ctx *f = arg;

	f->out->status = ark_http_creq_status(r);
	ark_http_resp_hdrs_free(f->out->hdrs);
	f->out->hdrs = ark_http_resp_hdrs_dup(ark_http_creq_resp_hdrs(r));
}

static void
fetch_on_body(struct ark_http_creq *r, const void *data, size_t len,
    void *arg)
{
	struct fetch_ctx *f = arg;
	enum ark_err e;

	if (f->in->body_sink != NULL) {
		if ((e = f->in->body_sink(f->in->body_sink_arg, data, len)) !=
		    ARK_OK)
			fetch_stop(f, r, e);
		return;
	}
	if (evbuffer_get_length(f->body) + len > f->max_body) {
		fetch_stop(f, r, ARK_ETOOBIG);
		return;
	}
	if (evbuffer_add(f->body, data, len) != 0)
		fetch_stop(f, r, ARK_ENOMEM);
}

static void
fetch_on_drain(struct ark_http_creq *r, void *arg)
{
	struct fetch_ctx *f = arg;
	enum ark_err e;
	size_t got;

	while (ark_http_creq_writable(r)) {
		got = 0;
		e = f->in->body_read(f->in->body_read_arg, f->rbuf,
		    FETCH_READ_CHUNK, &got);
		if (e != ARK_OK) {
			fetch_stop(f, r, e);
			return;
		}
		if (got == 0) {
			if ((e = ark_http_creq_end(r)) != ARK_OK)
				fetch_stop(f, r, e);
			return;
		}
		if ((e = ark_http_creq_write(r, f->rbuf, got)) != ARK_OK) {
			fetch_stop(f, r, e);
			return;
		}
	}
}

static void
fetch_on_done(struct ark_http_creq *r, enum ark_err err, void *arg)
{
	struct fetch_ctx *f = arg;

	f->err = err;
	f->done = 1;
}

static enum ark_err
fetch_build(struct ark_http_client *cl, const struct ark_http_fetch_req *in,
    struct fetch_ctx *f, struct ark_http_creq **out)
{
	static const struct ark_http_creq_cbs cbs = {
		.on_head = fetch_on_head,
		.on_body = fetch_on_body,
		.on_drain = fetch_on_drain,
		.on_done = fetch_on_done,
	};
	const char *method = in->method != NULL ? in->method : "GET";
	struct ark_http_creq *r;
	struct evbuffer *b;
	enum ark_err e;
	size_t i;

	if (in->url != NULL)
		e = ark_http_creq_new_url(cl, method, in->url, &r);
	else
		e = ark_http_creq_new(cl, method, in->host, in->port, in->tls,
		    in->target != NULL ? in->target : "/", &r);
	if (e != ARK_OK)
		return e;
	for (i = 0; i < in->nheaders; i++)
		if ((e = ark_http_creq_add_header(r, in->headers[i].name,
		    in->headers[i].value)) != ARK_OK)
			goto fail;
	if (in->body_read != NULL) {
		if (in->body != NULL) {
			e = ARK_EINVAL;
			goto fail;
		}
		if ((e = ark_http_creq_body_stream(r, in->body_stream_len)) !=
		    ARK_OK)
			goto fail;
		f->rbuf = ark_xmalloc(FETCH_READ_CHUNK);
	} else if (in->body != NULL) {
		/* The caller's buffer outlives the call: no copy. */
		if ((b = evbuffer_new()) == NULL) {
			e = ARK_ENOMEM;
			goto fail;
		}
		if (evbuffer_add_reference(b, in->body, in->body_len, NULL,
		    NULL) != 0) {
			evbuffer_free(b);
			e = ARK_ENOMEM;
			goto fail;
		}
		e = ark_http_creq_body_buffer(r, b);
		evbuffer_free(b);
		if (e != ARK_OK)
			goto fail;
	}
	if (in->expect_continue && (e = ark_http_creq_expect_continue(r)) !=
	    ARK_OK)
		goto fail;
	ark_http_creq_set_timeouts(r, -1, (int)(in->timeout_ms ?
	    in->timeout_ms : FETCH_DEFAULT_TIMEOUT), -1);
	ark_http_creq_set_cbs(r, &cbs, f);
	*out = r;
	return ARK_OK;
fail:
	ark_http_creq_cancel(r);
	return e;
}

/* Moves f's buffered body to its response. */
static enum ark_err
fetch_take_body(struct fetch_ctx *f)
{
	size_t n;

	if (f->in->body_sink != NULL)
		return ARK_OK;
	n = evbuffer_get_length(f->body);
	if ((f->out->body = malloc(n + 1)) == NULL)
		return ARK_ENOMEM;
	evbuffer_remove(f->body, f->out->body, n);
	f->out->body[n] = '\0';
	f->out->body_len = n;
	return ARK_OK;
}

enum ark_err
ark_http_fetch_many(const struct ark_http_fetch_req *in,
    struct ark_http_fetch_resp *out, enum ark_err *errs, size_t n)
{
	struct fetch_tls	 *t;
	struct fetch_ctx	 *f;
	struct ark_http_creq	**r;
	enum ark_err		  e;
	size_t			  i, left = 0;
	int			  rv;

	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		errs[i] = ARK_EINVAL;
	}
	if (in == NULL || n == 0)
		return ARK_EINVAL;
	if ((e = fetch_tls_get(&t)) != ARK_OK) {
		for (i = 0; i < n; i++)
			errs[i] = e;
		return e;
	}
	/* The loop runs only during calls: let pooled connections notice
	 * what their peers did meanwhile (closed them after the keep-alive
	 * timeout, or died). Sent on such a connection, a POST would fail
	 * and could not be retried (the peer may have acted on it). */
	(void)event_base_loop(t->base, EVLOOP_NONBLOCK);
	f = ark_xcalloc(n, sizeof(*f));
	r = ark_xcalloc(n, sizeof(*r));
	for (i = 0; i < n; i++) {
		f[i].in = &in[i];
		f[i].out = &out[i];
		f[i].max_body = in[i].max_body ? in[i].max_body :
		    FETCH_DEFAULT_MAX_BODY;
		f[i].done = 1;
		if ((f[i].body = evbuffer_new()) == NULL) {
			errs[i] = ARK_ENOMEM;
			continue;
		}
		if ((errs[i] = fetch_build(t->cl, &in[i], &f[i], &r[i])) !=
		    ARK_OK)
			continue;
		if ((errs[i] = ark_http_creq_start(r[i])) != ARK_OK) {
			ark_http_creq_cancel(r[i]);
			continue;
		}
		f[i].done = 0;
		left++;
	}
	while (left > 0) {
		rv = event_base_loop(t->base, EVLOOP_ONCE);
		for (i = 0, left = 0; i < n; i++)
			left += !f[i].done;
		if (rv != 0 && left > 0) {
			/* -1: loop error; 1: nothing left to wait for, which
			 * a live request cannot cause. */
			ark_log_warnx("http fetch: event loop stopped (%d)", rv);
			for (i = 0; i < n; i++)
				if (!f[i].done) {
					ark_http_creq_cancel(r[i]);
					f[i].done = 1;
					f[i].err = ARK_EIO;
				}
			left = 0;
		}
	}
	for (i = 0; i < n; i++) {
		if (r[i] != NULL && errs[i] == ARK_OK &&
		    (errs[i] = f[i].err) == ARK_OK)
			errs[i] = fetch_take_body(&f[i]);
		if (errs[i] != ARK_OK)
			ark_http_fetch_resp_free(&out[i]);
		if (f[i].body != NULL)
			evbuffer_free(f[i].body);
		free(f[i].rbuf);
	}
	free(f);
	free(r);
	return ARK_OK;
}

enum ark_err
ark_http_fetch(const struct ark_http_fetch_req *in,
    struct ark_http_fetch_resp *out)
{
	enum ark_err e, err;

	if ((e = ark_http_fetch_many(in, out, &err, 1)) != ARK_OK)
		return e;
	return err;
}

void
ark_http_fetch_resp_free(struct ark_http_fetch_resp *r)
{
	if (r == NULL)
		return;
	ark_http_resp_hdrs_free(r->hdrs);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

enum ark_err
ark_http_fd_read(void *arg, void *buf, size_t cap, size_t *got)
{
	int fd = *(int *)arg;
	ssize_t n;

	do
		n = read(fd, buf, cap);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		ark_log_warn("http fetch: read body");
		return ARK_EIO;
	}
	*got = (size_t)n;
	return ARK_OK;
}

enum ark_err
ark_http_fd_write(void *arg, const void *data, size_t len)
{
	int fd = *(int *)arg;
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ark_log_warn("http fetch: write body");
			return ARK_EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return ARK_OK;
}
