/*
 * od_put.c - the upload pipeline: a request body cut into fragments,
 * each written to every replica of an assigned group with a bounded
 * window in flight, retried under a new FileID on failure; when all are
 * stored, the front end's commit hook records the object.
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "common/cksum.h"
#include "common/http_client.h"
#include "common/log.h"
#include "common/util.h"
#include "object/od.h"
#include "object/s3_checksum.h"
#include "object/s3_chunked.h"
#include "object/s3_sigv4.h"

#define OD_PUT_ATTEMPTS		3	/* fragment writes, each a new FID */
#define OD_PUT_MAX_SKIPS	64	/* assignments passed over in a row */
#define OD_MAX_REPLICAS		8

/* ---- PutObject ------------------------------------------------------------------ */

static void
frag_ref_cleanup(const void *data, size_t len, void *arg)
{
	struct frag *f = arg;

	(void)data;
	(void)len;
	/* Once every replica acknowledged, the bytes are not needed any
	 * more: only the fragment's metadata stays until the commit. */
	if (--f->erefs == 0 && f->done) {
		free(f->data);
		f->data = NULL;
	}
	od_frag_unref(f);
}

/* A replica of `group` failed: until the registry notices (heartbeat
 * timeout), it still assigns FileIDs there, so retries and the following
 * fragments of this request avoid it. */
static void
put_bad_group(struct oreq *o, int64_t group)
{
	unsigned i;

	for (i = 0; i < o->nbad_groups; i++)
		if (o->bad_groups[i] == group)
			return;
	if (o->nbad_groups < ARK_ARRAY_SIZE(o->bad_groups))
		o->bad_groups[o->nbad_groups++] = group;
}

/* Drops spare assignments in groups that failed for this request (no
 * bytes were written under those FileIDs: nothing to collect). At most
 * OD_PUT_MAX_SKIPS in a row, so that a cluster whose only writable group
 * is failing ends in SlowDown instead of spinning on `assign`. */
static void
put_skip_bad(struct oreq *o)
{
	json_t *as;
	int64_t g;
	unsigned i;
	int bad;

	while (o->nbad_groups > 0 && o->skipped < OD_PUT_MAX_SKIPS &&
	    (as = json_array_get(o->assigned, 0)) != NULL) {
		g = od_jint(as, "group");
		for (bad = 0, i = 0; i < o->nbad_groups && !bad; i++)
			bad = o->bad_groups[i] == g;
		if (!bad)
			return;
		json_array_remove(o->assigned, 0);
		o->skipped++;
	}
}

struct rput {
	struct oreq	*o;
	struct frag	*f;
	int		 ok;
};

void
od_put_fail(struct oreq *o, enum s3_code sc, const char *msg)
{
	if (o->err == S3_OK)
		o->err = sc;
	od_error(o, sc, msg);
}

static void
rput_head(struct ark_http_creq *r, void *arg)
{
	struct rput *rp = arg;
	int st = ark_http_creq_status(r);

	rp->ok = st == 200 || st == 201;
}

static void
rput_done(struct ark_http_creq *r, enum ark_err err, void *arg)
{
	struct rput *rp = arg;
	struct oreq *o = rp->o;
	struct frag *f = rp->f;

	(void)r;
	if (err != ARK_OK || !rp->ok) {
		ark_log_warnx("fragment %s: replica write failed (%s)", f->fid,
		    err != ARK_OK ? ark_strerror(err) : "status");
		f->failed = 1;
	}
	free(rp);
	if (--f->pending == 0) {
		o->inflight--;
		if (f->failed)
			put_bad_group(o, f->group);
		if (f->failed && ++f->attempts < OD_PUT_ATTEMPTS) {
			/* Write it again under a new FileID, likely in
			 * another group; the old needle is an orphan. */
			f->failed = 0;
			f->fid[0] = '\0';
			f->qnext = o->queued;
			o->queued = f;
			f->refs++;
			od_pool_flush();	/* its group may be gone */
		} else if (f->failed)
			od_put_fail(o, S3_ERR_SLOW_DOWN, "fragment write failed");
		else {
			f->done = 1;
			if (f->erefs == 0) {
				free(f->data);
				f->data = NULL;
			}
		}
		if (!o->dead)
			od_put_pump(o);
	}
	od_frag_unref(f);
	od_oreq_unref(o);
}

/* Sends f to every replica of the next spare assignment. */
static int
frag_dispatch(struct oreq *o, struct frag *f)
{
	static const struct ark_http_creq_cbs cbs = { rput_head, NULL, NULL,
	    rput_done };
	json_t *as, *urls, *u;
	const char *tok;
	char crc[16], *url;
	size_t i, n;

	if (json_array_size(o->assigned) == 0)
		return 0;
	as = json_incref(json_array_get(o->assigned, 0));
	json_array_remove(o->assigned, 0);
	snprintf(f->fid, sizeof(f->fid), "%s", od_jstr(as, "fid"));
	f->group = od_jint(as, "group");
	tok = od_jstr(as, "token");
	urls = json_object_get(as, "urls");
	n = json_array_size(urls);
	snprintf(crc, sizeof(crc), "%08" PRIx32, f->crc);
	o->inflight++;
	f->pending = 1;			/* held while starting */
	json_array_foreach(urls, i, u) {
		struct ark_http_creq *r = NULL;
		struct evbuffer *eb;
		struct rput *rp;

		if (i >= OD_MAX_REPLICAS)
			break;
		url = ark_xasprintf("%s/%s", json_string_value(u) != NULL ?
		    json_string_value(u) : "", f->fid);
		if (ark_http_creq_new_url(od_cli, "PUT", url, &r) != ARK_OK) {
			free(url);
			f->failed = 1;
			continue;
		}
		free(url);
		eb = evbuffer_new();
		f->refs++;
		f->erefs++;
		if (eb == NULL || (f->len > 0 && evbuffer_add_reference(eb,
		    f->data, f->len, frag_ref_cleanup, f) != 0)) {
			f->refs--;
			f->erefs--;
			if (eb != NULL)
				evbuffer_free(eb);
			ark_http_creq_cancel(r);
			f->failed = 1;
			continue;
		}
		if (f->len == 0) {
			f->refs--;
			f->erefs--;
		}
		ark_http_creq_set_header(r, "X-Arkor-Token", tok);
		ark_http_creq_set_header(r, "X-Arkor-Crc32c", crc);
		ark_http_creq_body_buffer(r, eb);
		evbuffer_free(eb);
		rp = ark_xcalloc(1, sizeof(*rp));
		rp->o = o;
		rp->f = f;
		ark_http_creq_set_cbs(r, &cbs, rp);
		f->refs++;
		o->refs++;
		f->pending++;
		if (ark_http_creq_start(r) != ARK_OK) {
			ark_http_creq_cancel(r);
			free(rp);
			f->refs--;
			o->refs--;
			f->pending--;
			f->failed = 1;
		}
	}
	if (n == 0)
		f->failed = 1;
	json_decref(as);
	/* Drop the start hold; with no replica started this completes the
	 * fragment as failed through the same path. */
	if (--f->pending == 0) {
		struct rput *rp = ark_xcalloc(1, sizeof(*rp));

		f->pending = 1;
		f->refs++;
		o->refs++;
		rp->o = o;
		rp->f = f;
		rp->ok = 0;
		rput_done(NULL, ARK_EIO, rp);
	}
	return 1;
}

static void
assign_done(struct oreq *o, int status, json_t *j)
{
	json_t *arr = json_object_get(j, "assignments"), *e;
	size_t i;

	o->assigning = 0;
	if (status != 200) {
		if (status == 503)
			od_put_fail(o, S3_ERR_SLOW_DOWN, "no writable group");
		else {
			if (o->err == S3_OK)
				o->err = S3_ERR_INTERNAL;
			od_reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		}
		return;
	}
	if (o->assigned == NULL)
		o->assigned = json_array();
	json_array_foreach(arr, i, e) {
		if (i == o->assign_want)
			break;
		json_array_append(o->assigned, e);
	}
	od_pool_put(arr, o->assign_want, od_jint(j, "expires"));
	od_put_pump(o);
}

/* Gets up to `want` assignments: from the thread's pool at once (returns
 * 1), else with an assign call (returns 0; assign_done pumps). */
static int
od_assign(struct oreq *o, unsigned want)
{
	if (o->assigning || o->err != S3_OK)
		return 0;
	if (want == 0)
		want = 1;
	if (want > od_conf.window)
		want = od_conf.window;
	if (od_pool_take(o, want) > 0)
		return 1;
	o->assigning = 1;
	o->assign_want = want;
	od_reg_call(o, "assign", json_pack("{s:i, s:I}", "count", (int)(want +
	    od_pool_extra(o)), "size", (json_int_t)od_conf.fragment_size), 0,
	    assign_done);
	return 0;
}

static unsigned
put_frags_left(const struct oreq *o)
{
	uint64_t left;

	if (o->declared < 0)
		return 1;
	left = (uint64_t)o->declared > o->total ? (uint64_t)o->declared -
	    o->total : 0;
	left = (left + od_conf.fragment_size - 1) / od_conf.fragment_size;
	return left > 0 ? (unsigned)ARK_MIN(left, 64) : 1;
}

void
od_put_pump(struct oreq *o)
{
	struct frag *f;

	if (o->dead || o->replied)
		return;
	while (o->queued != NULL && o->inflight < od_conf.window) {
		f = o->queued;
		put_skip_bad(o);
		if (json_array_size(o->assigned) == 0 &&
		    !od_assign(o, put_frags_left(o)))
			break;
		o->queued = f->qnext;
		f->qnext = NULL;
		o->skipped = 0;
		(void)frag_dispatch(o, f);
		od_frag_unref(f);			/* the queue's reference */
		if (o->dead || o->replied)
			return;
	}
	if (o->queued == NULL && o->paused && !o->body_done) {
		o->paused = 0;
		ark_http_req_resume(o->req);
	}
	if (o->body_done && o->queued == NULL && o->cur == NULL &&
	    o->inflight == 0 && o->err == S3_OK)
		o->commit(o);
}

/* Sealed fragment: keep it in the object's list, queue it for writing;
 * pause the client while fragments wait for the window. */
static void
frag_seal(struct oreq *o, struct frag *f)
{
	struct frag **qp;

	f->crc = ark_crc32c(0, f->data, f->len);
	if (o->frags_tail != NULL)
		o->frags_tail->lnext = f;
	else
		o->frags = f;
	o->frags_tail = f;		/* the list owns the first reference */
	f->refs++;			/* the queue's reference */
	for (qp = &o->queued; *qp != NULL; qp = &(*qp)->qnext)
		;
	*qp = f;
	if (!o->paused && !o->body_done) {
		o->paused = 1;
		ark_http_req_pause(o->req);
	}
}

enum s3_code
od_put_data(void *arg, const void *p, size_t n)
{
	struct oreq *o = arg;
	const unsigned char *d = p;
	struct frag *f;
	size_t take;

	if (o->err != S3_OK)
		return o->err;
	if (s3_cksum_update(o->ck, p, n) != ARK_OK)
		return S3_ERR_INTERNAL;
	if (o->tap != NULL)
		o->tap(o, p, n);
	while (n > 0) {
		if ((f = o->cur) == NULL) {
			size_t cap = (size_t)od_conf.fragment_size;

			if (o->declared >= 0 && (uint64_t)o->declared >
			    o->total && (uint64_t)o->declared - o->total < cap)
				cap = (size_t)((uint64_t)o->declared - o->total);
			f = ark_xcalloc(1, sizeof(*f));
			f->o = o;
			f->refs = 1;
			f->offset = o->total;
			f->data = ark_xmalloc(cap > 0 ? cap : 1);
			o->cur = f;
			f->cap = cap > 0 ? cap : 1;
		}
		take = ARK_MIN(n, f->cap - f->len);
		if (take == 0) {
			/* Longer than declared: grow to a whole fragment. */
			f->data = ark_xrealloc(f->data, od_conf.fragment_size);
			f->cap = (size_t)od_conf.fragment_size;
			take = ARK_MIN(n, f->cap - f->len);
			if (take == 0)
				return S3_ERR_INTERNAL;
		}
		memcpy(f->data + f->len, d, take);
		f->len += take;
		o->total += take;
		d += take;
		n -= take;
		if (f->len == od_conf.fragment_size) {
			o->cur = NULL;
			frag_seal(o, f);
		}
	}
	return S3_OK;
}

static void
put_body(struct ark_http_req *req, const void *d, size_t len, void *arg)
{
	struct oreq *o = arg;
	enum s3_code sc;

	(void)req;
	if (o->err != S3_OK)
		return;
	sc = o->ch != NULL ? s3_chunked_feed(o->ch, d, len) :
	    od_put_data(o, d, len);
	if (sc != S3_OK) {
		od_put_fail(o, sc, NULL);
		return;
	}
	od_put_pump(o);
}

static void
put_end(struct ark_http_req *req, void *arg)
{
	struct oreq *o = arg;
	enum s3_code sc = S3_OK;
	unsigned char sha[32];

	(void)req;
	if (o->err != S3_OK)
		return;
	if (o->ch != NULL) {
		sc = s3_chunked_finish(o->ch);
		if (sc == S3_OK && o->ckr.in_trailer)
			sc = s3_cksum_set_trailer(&o->ckr, s3_chunked_trailer(
			    o->ch, s3_cksum_header(o->ckr.alg)));
	}
	if (sc == S3_OK && s3_cksum_final(o->ck) != ARK_OK)
		sc = S3_ERR_INTERNAL;
	if (sc == S3_OK)
		sc = s3_cksum_verify(&o->ckr, o->ck);
	if (sc == S3_OK && o->a.payload == S3_PAYLOAD_SHA256) {
		if (s3_cksum_raw(o->ck, S3_CKSUM_SHA256, sha) != 32)
			sc = S3_ERR_INTERNAL;
		else
			sc = s3_sigv4_check_payload(&o->a, sha);
	}
	if (sc == S3_OK && o->declared >= 0 && o->total != (uint64_t)o->declared)
		sc = S3_ERR_INCOMPLETE_BODY;
	if (sc != S3_OK) {
		od_put_fail(o, sc, NULL);
		return;
	}
	if (o->cur != NULL) {
		struct frag *f = o->cur;

		o->cur = NULL;
		frag_seal(o, f);
	}
	o->body_done = 1;
	od_put_pump(o);
}


json_t *
od_put_fragments(const struct oreq *o)
{
	json_t *frags = json_array();
	const struct frag *f;

	for (f = o->frags; f != NULL; f = f->lnext)
		json_array_append_new(frags, json_pack("{s:s, s:I, s:I, s:I}",
		    "fid", f->fid, "offset", (json_int_t)f->offset, "length",
		    (json_int_t)f->len, "crc32c", (json_int_t)f->crc));
	return frags;
}

/* Bodies fed by the front end itself (copies): seals the fragment being
 * filled, so that the next bytes start a new one. */
void
od_put_seal(struct oreq *o)
{
	struct frag *f = o->cur;

	if (f != NULL) {
		o->cur = NULL;
		frag_seal(o, f);
	}
}

/* The front end fed the whole body: seal, then write and commit. */
void
od_put_finish(struct oreq *o)
{
	od_put_seal(o);
	o->body_done = 1;
	od_put_pump(o);
}

void
od_put_stream(struct oreq *o)
{
	if (o->declared != 0)
		(void)od_assign(o, put_frags_left(o));
	ark_http_req_on_body(o->req, put_body, put_end, o);
}
