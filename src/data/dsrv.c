/*
 * dsrv.c - the HTTP routes of arkor-datad (docs/specs/DataServer.md).
 *
 * Invariants:
 * - Every ark_http_* call is made on the request's worker thread. Store
 *   durability callbacks (sync thread) and job results (job threads) are
 *   posted to the worker's dsrv_loop queue and handled there.
 * - A request's state (struct dsrv_rq) lives until both its finish
 *   callback ran (rq->req == NULL) and no op is in flight (!op_busy); both
 *   are only changed on the worker thread, so no atomics are needed.
 * - A PUT body goes straight into store_wr_write() (a pwrite into the
 *   page cache) as it arrives: memory per upload is one socket buffer, and
 *   TCP flow control is the back-pressure. A PUT is answered only once
 *   its ticket is durable per the sync policy.
 */
#include "config.h"

#include <sys/eventfd.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/cksum.h"
#include "common/fileid.h"
#include "common/json.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/token.h"
#include "common/util.h"
#include "data/dsrv.h"
#include "data/store.h"

#define DSRV_MAGIC		0x44535256u	/* "DSRV" */
#define DSRV_RQ_MAGIC		0x44535251u
#define DSRV_LOOP_MAGIC		0x4453524cu
#define DSRV_MAX_THREADS	256
#define DSRV_LIST_MAX		10000		/* records per /resync/list */
#define DSRV_CORRUPT_SHOWN	100		/* entries listed in /status */
#define DSRV_FINI_WAIT_S	60		/* bound on pending ops at stop */
#define DSRV_WILLNEED_MAX	(16u << 20)	/* read-ahead asked per GET */

struct dsrv_loop;
struct dsrv_rq;

/* One piece of work handed off the worker thread and back. */
struct dsrv_op {
	struct dsrv_op		*next;
	struct dsrv_loop	*loop;
	void			(*run)(struct dsrv_rq *r);	/* job thread */
	void			(*done)(struct dsrv_rq *r);	/* worker */
	enum ark_err		 rc;
	int			 inline_done;
};

struct dsrv_loop {
	uint32_t		 magic;
	struct dsrv		*d;
	struct event_base	*base;
	struct event		*ev;
	int			 efd;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond;
	struct dsrv_op		*head, **tail;
	unsigned		 pending;	/* handed out, not yet done */
};

struct dsrv {
	uint32_t		 magic;
	struct store		*st;
	const struct ark_secret	*secret;
	char			*server_id;
	char			*sync_name;
	uint64_t		 verify_max;
	_Atomic int64_t		 group;
	/* job pool */
	pthread_mutex_t		 jmtx;
	pthread_cond_t		 jcond;
	struct dsrv_op		*jhead, **jtail;
	int			 jstop;
	pthread_t		*jthreads;
	unsigned		 njobs;
	/* maintenance figures */
	_Atomic uint64_t	 scrub_passes, scrub_checked, scrub_bad;
	_Atomic uint64_t	 compactions;
	int64_t			 start_s;
};

enum dsrv_kind {
	DSRV_PUT,
	DSRV_DELETE,
	DSRV_IMPORT,
	DSRV_COMPACT,
	DSRV_SCRUB,
};

struct dsrv_rq {
	uint32_t		 magic;
	struct dsrv		*d;
	struct ark_http_req	*req;		/* NULL after finish */
	enum dsrv_kind		 kind;
	struct dsrv_op		 op;
	int			 op_busy;
	int			 replied;
	char			 fid[64];
	struct ark_fid		 f;
	/* PUT */
	struct store_wr		*w;
	int			 existed;
	uint32_t		 crc;
	uint64_t		 size;
	/* import */
	struct store_import	*im;
	enum ark_err		 body_err;
	uint64_t		 applied;
	/* admin */
	int			 has_chunk;
	uint32_t		 chunk;
	uint64_t		 n1, n2, n3;
};

static _Thread_local struct dsrv_loop *dsrv_cur;

static struct ark_metric *m_requests;	/* {op} */
static struct ark_metric *m_bytes_in, *m_bytes_out;
static struct ark_metric *m_needles, *m_disk_used, *m_fs_free;
static struct ark_metric *m_readonly, *m_corrupt, *m_dead, *m_syncs;

static const char *const dsrv_op_names[] = { "put", "get", "head",
    "delete", "admin", "resync", NULL };
enum { OP_PUT, OP_GET, OP_HEAD, OP_DELETE, OP_ADMIN, OP_RESYNC };

/* ---- small helpers ---------------------------------------------------- */

static void
dsrv_reply_msg(struct ark_http_req *req, int status, const char *msg)
{
	json_t	*o;
	char	*s;

	o = json_pack("{s:i,s:s}", "status", status, "error", msg);
	s = o != NULL ? ark_json_dump(o, NULL) : NULL;
	json_decref(o);
	if (s == NULL) {
		ark_http_reply_error(req, status);
		return;
	}
	ark_http_reply_simple(req, status, "application/json", s, strlen(s));
	free(s);
}

static void
dsrv_reply_json(struct ark_http_req *req, int status, json_t *o)
{
	char *s = o != NULL ? ark_json_dump(o, NULL) : NULL;

	json_decref(o);
	if (s == NULL) {
		ark_http_reply_error(req, 500);
		return;
	}
	ark_http_reply_simple(req, status, "application/json", s, strlen(s));
	free(s);
}

/* Store error -> HTTP status, the one mapping of this boundary. */
static int
dsrv_err_status(enum ark_err rc)
{
	switch (rc) {
	case ARK_OK:		return 200;
	case ARK_ENOENT:	return 404;
	case ARK_EEXIST:	return 409;
	case ARK_ECORRUPT:	return 400;	/* upload CRC mismatch */
	case ARK_ETOOBIG:	return 413;
	case ARK_EINVAL:
	case ARK_EPROTO:	return 400;
	case ARK_ENOSPC:	return 507;
	case ARK_EAGAIN:	return 503;
	default:		return 500;
	}
}

static void
dsrv_reply_err(struct ark_http_req *req, enum ark_err rc)
{
	int status = dsrv_err_status(rc);
	const char *msg = ark_strerror(rc);

	if (rc == ARK_ENOSPC)
		msg = "read-only: out of space";
	else if (rc == ARK_EEXIST)
		msg = "conflicting content for this FileID";
	if (status == 503)
		ark_http_resp_header(req, "Retry-After", "1");
	dsrv_reply_msg(req, status, msg);
}

/* Value of query parameter `name` in q (not decoded) into out:
 * 1 found, 0 absent, -1 too long. */
static int
dsrv_query_get(const char *q, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);

	while (q != NULL && *q != '\0') {
		const char *amp = strchr(q, '&');
		size_t len = amp != NULL ? (size_t)(amp - q) : strlen(q);

		if (len > nl && strncmp(q, name, nl) == 0 && q[nl] == '=') {
			size_t vl = len - nl - 1;

			if (vl >= outlen)
				return -1;
			memcpy(out, q + nl + 1, vl);
			out[vl] = '\0';
			return 1;
		}
		q = amp != NULL ? amp + 1 : NULL;
	}
	return 0;
}

static int
dsrv_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 1;
}

/* Query number `name`: absent leaves *out, returns 1; bad returns 0. */
static int
dsrv_query_u64(struct ark_http_req *req, const char *name, uint64_t *out,
    int *present)
{
	char v[32];
	int rc = dsrv_query_get(ark_http_req_query(req), name, v, sizeof(v));

	if (present != NULL)
		*present = rc != 0;
	if (rc == 0)
		return 1;
	return rc > 0 && dsrv_parse_u64(v, out);
}

/* Token from X-Arkor-Token or ?token=. 0: answered 403. */
static int
dsrv_check_token(struct dsrv *d, struct ark_http_req *req,
    enum ark_token_op op, const char *fid)
{
	const char *t = ark_http_req_header(req, "X-Arkor-Token");
	char qt[ARK_TOKEN_MAXLEN + 8];
	enum ark_err rc;

	if (t == NULL && dsrv_query_get(ark_http_req_query(req), "token", qt,
	    sizeof(qt)) > 0)
		t = qt;
	if (t == NULL) {
		dsrv_reply_msg(req, 403, "missing token");
		return 0;
	}
	rc = ark_token_verify(d->secret, op, fid, t, ark_now_s());
	if (rc == ARK_OK)
		return 1;
	dsrv_reply_msg(req, 403, rc == ARK_EEXPIRED ? "token expired" :
	    "invalid token");
	return 0;
}

/* ---- per-worker queue and job pool ------------------------------------ */

static void
dsrv_loop_post(struct dsrv_op *op)
{
	struct dsrv_loop *l = op->loop;
	uint64_t one = 1;
	ssize_t n;

	op->next = NULL;
	pthread_mutex_lock(&l->mtx);
	*l->tail = op;
	l->tail = &op->next;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->mtx);
	do
		n = write(l->efd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
}

static void
dsrv_rq_free(struct dsrv_rq *r)
{
	ARK_CHECK(r, DSRV_RQ_MAGIC);
	store_wr_abort(r->w);
	r->magic = 0;
	free(r);
}

/* Runs finished ops on the worker thread. */
static void
dsrv_loop_run(struct dsrv_loop *l)
{
	struct dsrv_op *list, *op;

	pthread_mutex_lock(&l->mtx);
	list = l->head;
	l->head = NULL;
	l->tail = &l->head;
	pthread_mutex_unlock(&l->mtx);
	while ((op = list) != NULL) {
		struct dsrv_rq *r = (struct dsrv_rq *)(void *)((char *)op -
		    offsetof(struct dsrv_rq, op));

		list = op->next;
		ARK_CHECK(r, DSRV_RQ_MAGIC);
		r->op_busy = 0;
		if (r->req != NULL) {
			ark_log_set_reqid(ark_http_req_id(r->req));
			r->op.done(r);
			ark_log_set_reqid(NULL);
		}
		if (r->req == NULL && !r->op_busy)
			dsrv_rq_free(r);
		pthread_mutex_lock(&l->mtx);
		l->pending--;
		pthread_mutex_unlock(&l->mtx);
	}
}

static void
dsrv_loop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dsrv_loop *l = arg;
	uint64_t v;

	(void)what;
	while (read(fd, &v, sizeof(v)) > 0)
		;
	dsrv_loop_run(l);
}

/* Marks an op as leaving the worker (before handing it off). */
static void
dsrv_op_begin(struct dsrv_rq *r, void (*run)(struct dsrv_rq *),
    void (*done)(struct dsrv_rq *))
{
	struct dsrv_loop *l = dsrv_cur;

	ARK_CHECK(l, DSRV_LOOP_MAGIC);
	r->op.loop = l;
	r->op.run = run;
	r->op.done = done;
	r->op.rc = ARK_OK;
	r->op.inline_done = 0;
	r->op_busy = 1;
	pthread_mutex_lock(&l->mtx);
	l->pending++;
	pthread_mutex_unlock(&l->mtx);
}

static void
dsrv_job_submit(struct dsrv_rq *r, void (*run)(struct dsrv_rq *),
    void (*done)(struct dsrv_rq *))
{
	struct dsrv *d = r->d;

	dsrv_op_begin(r, run, done);
	r->op.next = NULL;
	pthread_mutex_lock(&d->jmtx);
	*d->jtail = &r->op;
	d->jtail = &r->op.next;
	pthread_cond_signal(&d->jcond);
	pthread_mutex_unlock(&d->jmtx);
}

static void *
dsrv_job_main(void *arg)
{
	struct dsrv *d = arg;
	struct dsrv_op *op;

	pthread_mutex_lock(&d->jmtx);
	for (;;) {
		while (d->jhead == NULL && !d->jstop)
			pthread_cond_wait(&d->jcond, &d->jmtx);
		if ((op = d->jhead) == NULL)
			break;
		d->jhead = op->next;
		if (d->jhead == NULL)
			d->jtail = &d->jhead;
		pthread_mutex_unlock(&d->jmtx);
		op->run((struct dsrv_rq *)(void *)((char *)op -
		    offsetof(struct dsrv_rq, op)));
		dsrv_loop_post(op);
		pthread_mutex_lock(&d->jmtx);
	}
	pthread_mutex_unlock(&d->jmtx);
	return NULL;
}

void
dsrv_thread_init(struct event_base *base, unsigned idx, void *arg)
{
	struct dsrv *d = arg;
	struct dsrv_loop *l = ark_xcalloc(1, sizeof(*l));

	(void)idx;
	l->magic = DSRV_LOOP_MAGIC;
	l->d = d;
	l->base = base;
	l->head = NULL;
	l->tail = &l->head;
	pthread_mutex_init(&l->mtx, NULL);
	pthread_cond_init(&l->cond, NULL);
	if ((l->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		ark_fatal("dsrv: eventfd");
	l->ev = event_new(base, l->efd, EV_READ | EV_PERSIST, dsrv_loop_cb,
	    l);
	if (l->ev == NULL || event_add(l->ev, NULL) != 0)
		ark_fatalx("dsrv: event_new");
	dsrv_cur = l;
}

void
dsrv_thread_fini(struct event_base *base, unsigned idx, void *arg)
{
	struct dsrv_loop *l = dsrv_cur;
	int waited = 0;

	(void)base;
	(void)idx;
	(void)arg;
	if (l == NULL)
		return;
	ARK_CHECK(l, DSRV_LOOP_MAGIC);
	/* Aborted requests may still have a sync callback or a job out:
	 * their state is freed when it comes back. */
	pthread_mutex_lock(&l->mtx);
	while (l->pending > 0 && waited < DSRV_FINI_WAIT_S) {
		if (l->head == NULL) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			if (pthread_cond_timedwait(&l->cond, &l->mtx, &ts) ==
			    ETIMEDOUT)
				waited++;
			continue;
		}
		pthread_mutex_unlock(&l->mtx);
		dsrv_loop_run(l);
		pthread_mutex_lock(&l->mtx);
	}
	if (l->pending > 0)
		ark_log_warnx("dsrv: %u operations still pending at stop",
		    l->pending);
	pthread_mutex_unlock(&l->mtx);
	if (l->pending > 0)
		return;			/* leak rather than free under them */
	event_free(l->ev);
	close(l->efd);
	pthread_mutex_destroy(&l->mtx);
	pthread_cond_destroy(&l->cond);
	l->magic = 0;
	free(l);
	dsrv_cur = NULL;
}

/* ---- request state ----------------------------------------------------- */

static void
dsrv_rq_finish(struct ark_http_req *req, enum ark_err why, void *arg);

static struct dsrv_rq *
dsrv_rq_new(struct dsrv *d, struct ark_http_req *req, enum dsrv_kind kind)
{
	struct dsrv_rq *r = ark_xcalloc(1, sizeof(*r));

	r->magic = DSRV_RQ_MAGIC;
	r->d = d;
	r->req = req;
	r->kind = kind;
	ark_http_req_on_finish(req, dsrv_rq_finish, r);
	return r;
}

static void
dsrv_import_abort_run(struct dsrv_rq *r)
{
	(void)store_import_end(r->im, NULL);
	r->im = NULL;
}

static void
dsrv_noop_done(struct dsrv_rq *r)
{
	(void)r;
}

static void
dsrv_rq_finish(struct ark_http_req *req, enum ark_err why, void *arg)
{
	struct dsrv_rq *r = arg;

	(void)req;
	ARK_CHECK(r, DSRV_RQ_MAGIC);
	if (why != ARK_OK)
		ark_log_debug("%s: %s aborted: %s", __func__, r->fid,
		    ark_strerror(why));
	r->req = NULL;
	if (r->w != NULL) {
		/* Client gone mid-body: nothing becomes visible. */
		store_wr_abort(r->w);
		r->w = NULL;
	}
	if (r->im != NULL && !r->op_busy)
		dsrv_job_submit(r, dsrv_import_abort_run, dsrv_noop_done);
	if (!r->op_busy)
		dsrv_rq_free(r);
}

/* ---- PUT --------------------------------------------------------------- */

static void
dsrv_put_fail(struct dsrv_rq *r, enum ark_err rc)
{
	store_wr_abort(r->w);
	r->w = NULL;
	r->replied = 1;
	if (rc == ARK_ECORRUPT)
		dsrv_reply_msg(r->req, 400, "X-Arkor-Crc32c mismatch");
	else
		dsrv_reply_err(r->req, rc);
}

static void
dsrv_put_reply(struct dsrv_rq *r)
{
	char crc[16];
	json_t *o;

	if (r->op.rc != ARK_OK) {
		/* fdatasync failed: not acknowledged, store is read-only */
		dsrv_reply_msg(r->req, 500, "sync failed");
		return;
	}
	snprintf(crc, sizeof(crc), "%08" PRIx32, r->crc);
	ark_http_resp_header(r->req, "X-Arkor-Crc32c", crc);
	o = json_pack("{s:s,s:I,s:s}", "fid", r->fid, "size",
	    (json_int_t)r->size, "crc32c", crc);
	ark_metric_add(m_bytes_in, 0, r->size);
	dsrv_reply_json(r->req, r->existed ? 200 : 201, o);
}

static void
dsrv_put_durable(void *arg, enum ark_err rc)
{
	struct dsrv_rq *r = arg;

	r->op.rc = rc;
	if (dsrv_cur == r->op.loop) {
		r->op.inline_done = 1;	/* called before store_notify returned */
		return;
	}
	dsrv_loop_post(&r->op);
}

static void
dsrv_put_data(struct ark_http_req *req, const void *data, size_t len,
    void *arg)
{
	struct dsrv_rq *r = arg;
	enum ark_err rc;

	(void)req;
	if (r->w == NULL)
		return;
	if ((rc = store_wr_write(r->w, data, len)) != ARK_OK)
		dsrv_put_fail(r, rc);
}

static void
dsrv_put_end(struct ark_http_req *req, void *arg)
{
	struct dsrv_rq *r = arg;
	struct store_ticket t;
	enum ark_err rc;

	(void)req;
	if (r->w == NULL)
		return;
	r->crc = store_wr_crc(r->w);	/* the store checksums as it writes */
	rc = store_wr_finish(r->w, &t);
	r->w = NULL;
	if (rc != ARK_OK) {
		r->w = NULL;
		dsrv_put_fail(r, rc);
		return;
	}
	dsrv_op_begin(r, NULL, dsrv_put_reply);
	store_notify(r->d->st, &t, dsrv_put_durable, r);
	if (r->op.inline_done) {
		r->op_busy = 0;
		pthread_mutex_lock(&r->op.loop->mtx);
		r->op.loop->pending--;
		pthread_mutex_unlock(&r->op.loop->mtx);
		dsrv_put_reply(r);
	}
}

static void
dsrv_route_put(struct dsrv *d, struct ark_http_req *req, const char *fid,
    const struct ark_fid *f)
{
	struct store_loc loc;
	struct dsrv_rq *r;
	struct store_wr *w;
	const char *hc;
	uint32_t expect = 0;
	int64_t len;
	int existed;
	enum ark_err rc;

	if (!dsrv_check_token(d, req, ARK_TOKEN_WRITE, fid))
		return;
	if (ark_http_req_header(req, "Content-Length") == NULL ||
	    (len = ark_http_req_content_length(req)) < 0) {
		dsrv_reply_msg(req, 411, "Content-Length required");
		return;
	}
	if ((hc = ark_http_req_header(req, "X-Arkor-Crc32c")) != NULL) {
		unsigned char b[4];

		if (strlen(hc) != 8 || ark_hex_decode(hc, 8, b, 4) != ARK_OK) {
			dsrv_reply_msg(req, 400, "bad X-Arkor-Crc32c (8 hex "
			    "digits)");
			return;
		}
		expect = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		    (uint32_t)b[2] << 8 | b[3];
	}
	existed = store_get(d->st, f->key, f->cookie, &loc) == ARK_OK;
	if (existed)
		store_loc_release(&loc);
	if ((rc = store_wr_begin(d->st, f->key, f->cookie, (uint64_t)len,
	    hc != NULL ? &expect : NULL, &w)) != ARK_OK) {
		dsrv_reply_err(req, rc);
		return;
	}
	r = dsrv_rq_new(d, req, DSRV_PUT);
	snprintf(r->fid, sizeof(r->fid), "%s", fid);
	r->f = *f;
	r->w = w;
	r->size = (uint64_t)len;
	r->existed = existed;
	ark_http_req_on_body(req, dsrv_put_data, dsrv_put_end, r);
}

/* ---- GET / HEAD -------------------------------------------------------- */

/* Parses one "bytes=" range against size. 1: range set; 0: no (or an
 * ignorable) Range header, serve everything; -1: unsatisfiable. */
static int
dsrv_parse_range(const char *h, uint64_t size, uint64_t *start,
    uint64_t *len)
{
	uint64_t a = 0, b = 0;
	const char *p, *dash;
	char tmp[32];
	size_t n;

	if (h == NULL || strncmp(h, "bytes=", 6) != 0)
		return 0;
	p = h + 6;
	while (*p == ' ')
		p++;
	if (strchr(p, ',') != NULL || (dash = strchr(p, '-')) == NULL)
		return 0;		/* multi-range or junk: ignored */
	n = (size_t)(dash - p);
	if (n >= sizeof(tmp))
		return 0;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	if (n == 0) {			/* suffix: -N */
		if (!dsrv_parse_u64(dash + 1, &b))
			return 0;
		if (b == 0 || size == 0)
			return -1;
		if (b > size)
			b = size;
		*start = size - b;
		*len = b;
		return 1;
	}
	if (!dsrv_parse_u64(tmp, &a))
		return 0;
	if (dash[1] == '\0')
		b = UINT64_MAX;
	else if (!dsrv_parse_u64(dash + 1, &b) || b < a)
		return 0;
	if (a >= size)
		return -1;
	if (b >= size)
		b = size - 1;
	*start = a;
	*len = b - a + 1;
	return 1;
}

/* A stored needle that could not be read or failed its CRC: logged,
 * answered 500, loc released. */
static void
dsrv_reply_read_err(struct ark_http_req *req, const char *fid,
    struct store_loc *loc, enum ark_err rc)
{
	ark_log_warnx("GET %s: %s (chunk %" PRIu32 " offset %" PRIu64 ")",
	    fid, ark_strerror(rc), loc->chunk_id, loc->rec_offset);
	store_loc_release(loc);
	dsrv_reply_msg(req, 500, rc == ARK_ECORRUPT ?
	    "stored needle is corrupt" : ark_strerror(rc));
}

static void
dsrv_route_get(struct dsrv *d, struct ark_http_req *req, const char *fid,
    const struct ark_fid *f, int head)
{
	struct store_loc loc;
	uint64_t start = 0, len;
	char v[96];
	int rr, status = 200;
	enum ark_err rc;

	if (!dsrv_check_token(d, req, ARK_TOKEN_READ, fid))
		return;
	if ((rc = store_get(d->st, f->key, f->cookie, &loc)) != ARK_OK) {
		dsrv_reply_err(req, rc);
		return;
	}
	len = loc.size;
	rr = dsrv_parse_range(ark_http_req_header(req, "Range"), loc.size,
	    &start, &len);
	snprintf(v, sizeof(v), "%08" PRIx32, loc.crc);
	ark_http_resp_header(req, "X-Arkor-Crc32c", v);
	snprintf(v, sizeof(v), "%" PRIu64, loc.size);
	ark_http_resp_header(req, "X-Arkor-Size", v);
	snprintf(v, sizeof(v), "\"%08" PRIx32 "\"", loc.crc);
	ark_http_resp_header(req, "ETag", v);
	ark_http_resp_header(req, "Accept-Ranges", "bytes");
	if (rr < 0) {
		snprintf(v, sizeof(v), "bytes */%" PRIu64, loc.size);
		ark_http_resp_header(req, "Content-Range", v);
		store_loc_release(&loc);
		dsrv_reply_msg(req, 416, "range not satisfiable");
		return;
	}
	if (rr > 0) {
		status = 206;
		snprintf(v, sizeof(v), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
		    start, start + len - 1, loc.size);
		ark_http_resp_header(req, "Content-Range", v);
	}
	ark_http_resp_header(req, "Content-Type", "application/octet-stream");
	if (head) {
		store_loc_release(&loc);
		ark_http_reply_start(req, status, (int64_t)len);
		ark_http_reply_end(req);
		return;
	}
	if (loc.size > d->verify_max && rr > 0 &&
	    ark_http_req_header(req, "X-Arkor-Verify") != NULL &&
	    (rc = store_loc_verify(&loc)) != ARK_OK) {
		/* A range asked to be verified: its reader cannot check the
		 * needle's CRC on part of it. */
		dsrv_reply_read_err(req, fid, &loc, rc);
		return;
	}
	if (loc.size <= d->verify_max) {
		/* Small needle: verify the whole CRC before a byte leaves. */
		unsigned char *buf = malloc(loc.size ? loc.size : 1);

		if (buf == NULL) {
			store_loc_release(&loc);
			ark_http_reply_error(req, 503);
			return;
		}
		rc = store_loc_read(&loc, buf, loc.size);
		if (rc != ARK_OK) {
			free(buf);
			dsrv_reply_read_err(req, fid, &loc, rc);
			return;
		}
		store_loc_release(&loc);
		ark_http_reply_start(req, status, (int64_t)len);
		ark_http_reply_write(req, buf + start, (size_t)len);
		free(buf);
	} else {
		/* Large: sendfile; the client checks X-Arkor-Crc32c. The dup'd
		 * fd keeps the file alive across a compaction. */
		int fd = dup(loc.fd);

		if (fd < 0) {
			ark_log_warn("GET %s: dup", fid);
			store_loc_release(&loc);
			ark_http_reply_error(req, 503);
			return;
		}
		ark_http_reply_start(req, status, (int64_t)len);
		/* Ask for the bytes at once: the disk gets the whole range
		 * queued instead of sendfile's read-ahead window by window
		 * (cold 1 GiB reads through arkorfs, 8 MiB fragments: 675 ->
		 * 807 MB/s, 6 alternating runs). */
		if (len > 0) {
			(void)posix_fadvise(fd, (off_t)(loc.offset + start),
			    (off_t)ARK_MIN(len, DSRV_WILLNEED_MAX),
			    POSIX_FADV_WILLNEED);
			(void)ark_http_reply_add_file(req, fd,
			    (off_t)(loc.offset + start), (off_t)len);
		} else
			close(fd);
		store_loc_release(&loc);
	}
	ark_metric_add(m_bytes_out, 0, len);
	ark_http_reply_end(req);
}

/* ---- DELETE ------------------------------------------------------------ */

static void
dsrv_delete_run(struct dsrv_rq *r)
{
	r->op.rc = store_delete(r->d->st, r->f.key, r->f.cookie);
}

static void
dsrv_delete_done(struct dsrv_rq *r)
{
	if (r->op.rc == ARK_OK) {
		ark_http_reply_start(r->req, 204, 0);
		ark_http_reply_end(r->req);
	} else
		dsrv_reply_err(r->req, r->op.rc);
}

static void
dsrv_route_delete(struct dsrv *d, struct ark_http_req *req, const char *fid,
    const struct ark_fid *f)
{
	struct dsrv_rq *r;

	if (!dsrv_check_token(d, req, ARK_TOKEN_DELETE, fid))
		return;
	r = dsrv_rq_new(d, req, DSRV_DELETE);
	snprintf(r->fid, sizeof(r->fid), "%s", fid);
	r->f = *f;
	dsrv_job_submit(r, dsrv_delete_run, dsrv_delete_done);
}

/* ---- /status ------------------------------------------------------------ */

static json_t *
dsrv_status_json(struct dsrv *d)
{
	struct store_corrupt cl[DSRV_CORRUPT_SHOWN];
	struct store_stats s;
	json_t *o, *arr;
	size_t n, i;
	int64_t g = dsrv_group(d);

	store_stats(d->st, &s);
	n = store_corrupt_list(d->st, cl, ARK_ARRAY_SIZE(cl));
	arr = json_array();
	for (i = 0; i < ARK_MIN(n, ARK_ARRAY_SIZE(cl)); i++) {
		char k[24];

		snprintf(k, sizeof(k), "%" PRIx64, cl[i].key);
		json_array_append_new(arr, json_pack("{s:s,s:I,s:I}", "key", k,
		    "chunk", (json_int_t)cl[i].chunk_id, "offset",
		    (json_int_t)cl[i].offset));
	}
	o = json_pack("{s:s,s:s,s:o,s:b,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
	    "s:o,s:I,s:f,s:I,s:I,s:I,s:I}",
	    "id", d->server_id, "version", PACKAGE_VERSION,
	    "group", g >= 0 ? json_integer(g) : json_null(),
	    "readonly", s.readonly, "sync", d->sync_name,
	    "fs_free", (json_int_t)s.fs_free,
	    "disk_used", (json_int_t)s.disk_used,
	    "chunks", (json_int_t)s.chunks,
	    "needles", (json_int_t)s.needles,
	    "live_bytes", (json_int_t)s.live_bytes,
	    "dead_bytes", (json_int_t)s.dead_bytes,
	    "corrupt", (json_int_t)s.corrupt,
	    "corrupt_list", arr,
	    "index_bytes", (json_int_t)s.index_bytes,
	    "index_bytes_per_needle", s.index_bytes_per_needle,
	    "syncs", (json_int_t)s.syncs,
	    "commits", (json_int_t)s.commit_seq,
	    "sync_avg_us", (json_int_t)(s.sync_avg_ns / 1000),
	    "uptime_s", (json_int_t)(ark_now_s() - d->start_s));
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "scrub", json_pack("{s:I,s:I,s:I}",
	    "passes", (json_int_t)atomic_load(&d->scrub_passes),
	    "checked", (json_int_t)atomic_load(&d->scrub_checked),
	    "bad", (json_int_t)atomic_load(&d->scrub_bad)));
	json_object_set_new(o, "compactions",
	    json_integer((json_int_t)atomic_load(&d->compactions)));
	return o;
}

/* ---- admin -------------------------------------------------------------- */

static void
dsrv_compact_run(struct dsrv_rq *r)
{
	unsigned n = 0;

	if (r->has_chunk) {
		r->op.rc = store_compact(r->d->st, r->chunk, 0);
		n = r->op.rc == ARK_OK;
	} else
		r->op.rc = store_compact_auto(r->d->st, &n);
	r->n1 = n;
	if (n > 0)
		dsrv_note_compact(r->d, n);
}

static void
dsrv_compact_done(struct dsrv_rq *r)
{
	if (r->op.rc != ARK_OK) {
		dsrv_reply_err(r->req, r->op.rc);
		return;
	}
	dsrv_reply_json(r->req, 200, json_pack("{s:I}", "compacted",
	    (json_int_t)r->n1));
}

static void
dsrv_scrub_run(struct dsrv_rq *r)
{
	uint32_t ids[4096];
	size_t n, i;

	n = store_chunk_ids(r->d->st, ids, ARK_ARRAY_SIZE(ids));
	r->n1 = r->n2 = r->n3 = 0;
	for (i = 0; i < ARK_MIN(n, ARK_ARRAY_SIZE(ids)); i++) {
		uint64_t checked = 0, bad = 0;
		enum ark_err rc;

		if (r->has_chunk && ids[i] != r->chunk)
			continue;
		rc = store_scrub_chunk(r->d->st, ids[i], 0, &checked, &bad);
		if (rc != ARK_OK && rc != ARK_ENOENT) {
			r->op.rc = rc;
			break;
		}
		r->n1++;
		r->n2 += checked;
		r->n3 += bad;
	}
	dsrv_note_scrub(r->d, r->n2, r->n3);
}

static void
dsrv_scrub_done(struct dsrv_rq *r)
{
	struct store_stats s;

	if (r->op.rc != ARK_OK) {
		dsrv_reply_err(r->req, r->op.rc);
		return;
	}
	store_stats(r->d->st, &s);
	dsrv_reply_json(r->req, 200, json_pack("{s:I,s:I,s:I,s:I}", "chunks",
	    (json_int_t)r->n1, "checked", (json_int_t)r->n2, "bad",
	    (json_int_t)r->n3, "corrupt", (json_int_t)s.corrupt));
}

static int
dsrv_chunk_exists(struct dsrv *d, uint32_t id)
{
	uint32_t ids[4096];
	size_t n, i;

	n = store_chunk_ids(d->st, ids, ARK_ARRAY_SIZE(ids));
	for (i = 0; i < ARK_MIN(n, ARK_ARRAY_SIZE(ids)); i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

static void
dsrv_route_admin(struct dsrv *d, struct ark_http_req *req, const char *path)
{
	struct dsrv_rq *r;
	uint64_t chunk = 0;
	int has = 0;

	if (!dsrv_check_token(d, req, ARK_TOKEN_ADMIN, DSRV_ADMIN_SCOPE))
		return;
	if (strcmp(ark_http_req_method(req), "POST") != 0) {
		ark_http_resp_header(req, "Allow", "POST");
		dsrv_reply_msg(req, 405, "use POST");
		return;
	}
	if (!dsrv_query_u64(req, "chunk", &chunk, &has) || chunk > UINT32_MAX) {
		dsrv_reply_msg(req, 400, "bad chunk");
		return;
	}
	if (has && !dsrv_chunk_exists(d, (uint32_t)chunk)) {
		dsrv_reply_msg(req, 404, "no such chunk");
		return;
	}
	if (strcmp(path, "/admin/compact") == 0) {
		r = dsrv_rq_new(d, req, DSRV_COMPACT);
		r->has_chunk = has;
		r->chunk = (uint32_t)chunk;
		dsrv_job_submit(r, dsrv_compact_run, dsrv_compact_done);
	} else if (strcmp(path, "/admin/scrub") == 0) {
		r = dsrv_rq_new(d, req, DSRV_SCRUB);
		r->has_chunk = has;
		r->chunk = (uint32_t)chunk;
		dsrv_job_submit(r, dsrv_scrub_run, dsrv_scrub_done);
	} else
		dsrv_reply_msg(req, 404, "no such admin endpoint");
}

/* ---- resync ------------------------------------------------------------- */

static void
dsrv_resync_chunks(struct dsrv *d, struct ark_http_req *req)
{
	uint32_t ids[4096];
	size_t n, i;
	json_t *arr = json_array();

	n = store_chunk_ids(d->st, ids, ARK_ARRAY_SIZE(ids));
	for (i = 0; i < ARK_MIN(n, ARK_ARRAY_SIZE(ids)); i++)
		json_array_append_new(arr, json_integer(ids[i]));
	dsrv_reply_json(req, 200, json_pack("{s:o}", "chunks", arr));
}

static void
dsrv_resync_list(struct dsrv *d, struct ark_http_req *req)
{
	struct store_rec_info *recs;
	uint64_t chunk = 0, from = 0, max = 1000, next = 0;
	size_t n = 0, i;
	int has = 0;
	enum ark_err rc;
	json_t *arr;

	if (!dsrv_query_u64(req, "chunk", &chunk, &has) || !has ||
	    chunk > UINT32_MAX || !dsrv_query_u64(req, "from", &from, NULL) ||
	    !dsrv_query_u64(req, "max", &max, NULL) || max == 0) {
		dsrv_reply_msg(req, 400, "need chunk=N [from=OFF] [max=M]");
		return;
	}
	if (!dsrv_chunk_exists(d, (uint32_t)chunk)) {
		dsrv_reply_msg(req, 404, "no such chunk");
		return;
	}
	max = ARK_MIN(max, (uint64_t)DSRV_LIST_MAX);
	if ((recs = calloc((size_t)max, sizeof(*recs))) == NULL) {
		ark_http_reply_error(req, 503);
		return;
	}
	rc = store_list(d->st, (uint32_t)chunk, from, recs, (size_t)max, &n,
	    &next);
	if (rc != ARK_OK) {
		free(recs);
		dsrv_reply_err(req, rc);
		return;
	}
	arr = json_array();
	for (i = 0; i < n; i++) {
		char k[24], c[16], crc[16];

		snprintf(k, sizeof(k), "%" PRIx64, recs[i].key);
		snprintf(c, sizeof(c), "%08" PRIx32, recs[i].cookie);
		snprintf(crc, sizeof(crc), "%08" PRIx32, recs[i].crc);
		json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:s,s:I,"
		    "s:b}", "key", k, "cookie", c, "size",
		    (json_int_t)recs[i].size, "crc32c", crc, "offset",
		    (json_int_t)recs[i].offset, "tombstone",
		    recs[i].tombstone));
	}
	free(recs);
	dsrv_reply_json(req, 200, json_pack("{s:I,s:I,s:o}", "chunk",
	    (json_int_t)chunk, "next", (json_int_t)next, "records", arr));
}

static void
dsrv_resync_raw(struct dsrv *d, struct ark_http_req *req)
{
	struct store_loc range;
	uint64_t chunk = 0, from = 0, maxb = 8 << 20, next = 0;
	char v[32];
	int has = 0, fd;
	enum ark_err rc;

	if (!dsrv_query_u64(req, "chunk", &chunk, &has) || !has ||
	    chunk > UINT32_MAX || !dsrv_query_u64(req, "from", &from, NULL) ||
	    !dsrv_query_u64(req, "max_bytes", &maxb, NULL) || maxb == 0) {
		dsrv_reply_msg(req, 400,
		    "need chunk=N [from=OFF] [max_bytes=B]");
		return;
	}
	if (!dsrv_chunk_exists(d, (uint32_t)chunk)) {
		dsrv_reply_msg(req, 404, "no such chunk");
		return;
	}
	rc = store_raw_range(d->st, (uint32_t)chunk, from, maxb, &range,
	    &next);
	if (rc == ARK_ENOENT) {
		snprintf(v, sizeof(v), "%" PRIu64, from);
		ark_http_resp_header(req, "X-Arkor-Next", v);
		ark_http_reply_start(req, 204, 0);
		ark_http_reply_end(req);
		return;
	}
	if (rc != ARK_OK) {
		dsrv_reply_err(req, rc);
		return;
	}
	if ((fd = dup(range.fd)) < 0) {
		store_loc_release(&range);
		ark_http_reply_error(req, 503);
		return;
	}
	snprintf(v, sizeof(v), "%" PRIu64, next);
	ark_http_resp_header(req, "X-Arkor-Next", v);
	ark_http_resp_header(req, "Content-Type", "application/octet-stream");
	ark_http_reply_start(req, 200, (int64_t)range.size);
	(void)ark_http_reply_add_file(req, fd, (off_t)range.offset,
	    (off_t)range.size);
	store_loc_release(&range);
	ark_http_reply_end(req);
}

static void
dsrv_import_data(struct ark_http_req *req, const void *data, size_t len,
    void *arg)
{
	struct dsrv_rq *r = arg;

	(void)req;
	if (r->body_err == ARK_OK)
		r->body_err = store_import_feed(r->im, data, len);
}

static void
dsrv_import_end_run(struct dsrv_rq *r)
{
	r->op.rc = store_import_end(r->im, &r->applied);
	r->im = NULL;
	if (r->body_err != ARK_OK)
		r->op.rc = r->body_err;
}

static void
dsrv_import_done(struct dsrv_rq *r)
{
	if (r->op.rc != ARK_OK) {
		dsrv_reply_err(r->req, r->op.rc);
		return;
	}
	dsrv_reply_json(r->req, 200, json_pack("{s:I}", "applied",
	    (json_int_t)r->applied));
}

static void
dsrv_import_end(struct ark_http_req *req, void *arg)
{
	(void)req;
	dsrv_job_submit(arg, dsrv_import_end_run, dsrv_import_done);
}

static void
dsrv_resync_import(struct dsrv *d, struct ark_http_req *req)
{
	struct store_import *im;
	struct dsrv_rq *r;
	enum ark_err rc;

	if ((rc = store_import_begin(d->st, &im)) != ARK_OK) {
		dsrv_reply_err(req, rc);
		return;
	}
	r = dsrv_rq_new(d, req, DSRV_IMPORT);
	r->im = im;
	ark_http_req_on_body(req, dsrv_import_data, dsrv_import_end, r);
}

static void
dsrv_route_resync(struct dsrv *d, struct ark_http_req *req, const char *path)
{
	const char *m = ark_http_req_method(req);
	int get = strcmp(m, "GET") == 0;

	if (!dsrv_check_token(d, req, ARK_TOKEN_ADMIN, DSRV_ADMIN_SCOPE))
		return;
	if (get && strcmp(path, "/resync/chunks") == 0)
		dsrv_resync_chunks(d, req);
	else if (get && strcmp(path, "/resync/list") == 0)
		dsrv_resync_list(d, req);
	else if (get && strcmp(path, "/resync/raw") == 0)
		dsrv_resync_raw(d, req);
	else if (strcmp(m, "POST") == 0 &&
	    strcmp(path, "/resync/import") == 0)
		dsrv_resync_import(d, req);
	else
		dsrv_reply_msg(req, 404, "no such resync endpoint");
}

/* ---- dispatch ----------------------------------------------------------- */

void
dsrv_handler(struct ark_http_req *req, void *arg)
{
	struct dsrv *d = arg;
	const char *path = ark_http_req_path(req);
	const char *m = ark_http_req_method(req);
	struct ark_fid f;
	char fid[64];
	size_t i, o;
	int64_t g;

	ARK_CHECK(d, DSRV_MAGIC);
	if (strcmp(path, "/status") == 0) {
		if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0) {
			ark_http_resp_header(req, "Allow", "GET, HEAD");
			dsrv_reply_msg(req, 405, "use GET");
			return;
		}
		dsrv_reply_json(req, 200, dsrv_status_json(d));
		return;
	}
	if (strncmp(path, "/admin/", 7) == 0) {
		ark_metric_inc(m_requests, OP_ADMIN);
		dsrv_route_admin(d, req, path);
		return;
	}
	if (strncmp(path, "/resync/", 8) == 0) {
		ark_metric_inc(m_requests, OP_RESYNC);
		dsrv_route_resync(d, req, path);
		return;
	}
	/* "/<fid>", with ',' possibly sent as %2C */
	for (i = 1, o = 0; path[i] != '\0' && o < sizeof(fid) - 1; i++) {
		if (path[i] == '%' && (path[i + 1] == '2') &&
		    (path[i + 2] == 'C' || path[i + 2] == 'c')) {
			fid[o++] = ',';
			i += 2;
		} else
			fid[o++] = path[i];
	}
	fid[o] = '\0';
	if (path[i] != '\0' || ark_fid_parse(fid, o, &f) != ARK_OK) {
		dsrv_reply_msg(req, path[1] == '\0' || strchr(fid, ',') ==
		    NULL ? 404 : 400, strchr(fid, ',') == NULL ?
		    "not found" : "bad FileID");
		return;
	}
	if ((g = dsrv_group(d)) >= 0 && (uint32_t)g != f.group) {
		dsrv_reply_msg(req, 404, "FileID of another group");
		return;
	}
	if (strcmp(m, "PUT") == 0) {
		ark_metric_inc(m_requests, OP_PUT);
		dsrv_route_put(d, req, fid, &f);
	} else if (strcmp(m, "GET") == 0) {
		ark_metric_inc(m_requests, OP_GET);
		dsrv_route_get(d, req, fid, &f, 0);
	} else if (strcmp(m, "HEAD") == 0) {
		ark_metric_inc(m_requests, OP_HEAD);
		dsrv_route_get(d, req, fid, &f, 1);
	} else if (strcmp(m, "DELETE") == 0) {
		ark_metric_inc(m_requests, OP_DELETE);
		dsrv_route_delete(d, req, fid, &f);
	} else {
		ark_http_resp_header(req, "Allow", "GET, HEAD, PUT, DELETE");
		dsrv_reply_msg(req, 405, "method not allowed");
	}
}

/* ---- life cycle --------------------------------------------------------- */

static void
dsrv_metrics_register(void)
{
	static const struct ark_metric_label op = { "op", dsrv_op_names };

	m_requests = ark_metric_counter("arkor_datad_requests_total",
	    "Data server requests by operation", &op, 1);
	m_bytes_in = ark_metric_counter("arkor_datad_put_bytes_total",
	    "Needle bytes acknowledged by PUT", NULL, 0);
	m_bytes_out = ark_metric_counter("arkor_datad_get_bytes_total",
	    "Needle bytes queued by GET", NULL, 0);
	m_needles = ark_metric_gauge("arkor_datad_needles",
	    "Needles in the index", NULL, 0);
	m_disk_used = ark_metric_gauge("arkor_datad_disk_used_bytes",
	    "Bytes of chunk files", NULL, 0);
	m_fs_free = ark_metric_gauge("arkor_datad_fs_free_bytes",
	    "Bytes available on the data file system", NULL, 0);
	m_dead = ark_metric_gauge("arkor_datad_dead_bytes",
	    "Bytes of chunk files no needle uses", NULL, 0);
	m_readonly = ark_metric_gauge("arkor_datad_readonly",
	    "1 when the store refuses writes", NULL, 0);
	m_corrupt = ark_metric_gauge("arkor_datad_corrupt_needles",
	    "Corrupt records found by reads and scrubs", NULL, 0);
	m_syncs = ark_metric_gauge("arkor_datad_syncs",
	    "fdatasync calls on chunk files", NULL, 0);
}

void
dsrv_update_gauges(struct dsrv *d)
{
	struct store_stats s;

	store_stats(d->st, &s);
	ark_metric_set(m_needles, 0, (int64_t)s.needles);
	ark_metric_set(m_disk_used, 0, (int64_t)s.disk_used);
	ark_metric_set(m_fs_free, 0, (int64_t)s.fs_free);
	ark_metric_set(m_dead, 0, (int64_t)s.dead_bytes);
	ark_metric_set(m_readonly, 0, s.readonly);
	ark_metric_set(m_corrupt, 0, (int64_t)s.corrupt);
	ark_metric_set(m_syncs, 0, (int64_t)s.syncs);
}

enum ark_err
dsrv_new(const struct dsrv_opts *o, struct dsrv **out)
{
	struct dsrv *d = ark_xcalloc(1, sizeof(*d));
	unsigned i;

	d->magic = DSRV_MAGIC;
	d->st = o->st;
	d->secret = o->secret;
	d->server_id = ark_xstrdup(o->server_id != NULL ? o->server_id : "");
	d->sync_name = ark_xstrdup(o->sync_name != NULL ? o->sync_name : "");
	d->verify_max = o->verify_max;
	atomic_store(&d->group, o->group);
	d->start_s = ark_now_s();
	pthread_mutex_init(&d->jmtx, NULL);
	pthread_cond_init(&d->jcond, NULL);
	d->jtail = &d->jhead;
	d->njobs = o->jobs > 0 ? o->jobs : 2;
	d->jthreads = ark_xcalloc(d->njobs, sizeof(*d->jthreads));
	for (i = 0; i < d->njobs; i++)
		if (pthread_create(&d->jthreads[i], NULL, dsrv_job_main, d)
		    != 0)
			ark_fatalx("dsrv: cannot start job thread");
	dsrv_metrics_register();
	dsrv_update_gauges(d);
	*out = d;
	return ARK_OK;
}

void
dsrv_free(struct dsrv *d)
{
	unsigned i;

	if (d == NULL)
		return;
	ARK_CHECK(d, DSRV_MAGIC);
	pthread_mutex_lock(&d->jmtx);
	d->jstop = 1;
	pthread_cond_broadcast(&d->jcond);
	pthread_mutex_unlock(&d->jmtx);
	for (i = 0; i < d->njobs; i++)
		pthread_join(d->jthreads[i], NULL);
	free(d->jthreads);
	pthread_mutex_destroy(&d->jmtx);
	pthread_cond_destroy(&d->jcond);
	free(d->server_id);
	free(d->sync_name);
	d->magic = 0;
	free(d);
}

int
dsrv_health(struct ark_buf *b, void *arg)
{
	struct dsrv *d = arg;
	struct store_stats s;
	int64_t g = dsrv_group(d);

	store_stats(d->st, &s);
	if (g >= 0)
		(void)ark_buf_printf(b, "\"readonly\":%s,\"group\":%" PRId64,
		    s.readonly ? "true" : "false", g);
	else
		(void)ark_buf_printf(b, "\"readonly\":%s,\"group\":null",
		    s.readonly ? "true" : "false");
	return 0;
}

void
dsrv_set_group(struct dsrv *d, int64_t group)
{
	atomic_store(&d->group, group);
}

int64_t
dsrv_group(const struct dsrv *d)
{
	return atomic_load(&((struct dsrv *)(uintptr_t)d)->group);
}

void
dsrv_note_scrub(struct dsrv *d, uint64_t checked, uint64_t bad)
{
	atomic_fetch_add(&d->scrub_passes, 1);
	atomic_fetch_add(&d->scrub_checked, checked);
	atomic_fetch_add(&d->scrub_bad, bad);
}

void
dsrv_note_compact(struct dsrv *d, unsigned n)
{
	atomic_fetch_add(&d->compactions, n);
}
