/*
 * od_get.c - the download pipeline: an object's fragments streamed in
 * order from one replica each, failing over to the next replica, with
 * CRC32C checked on whole fragments and back-pressure from the client.
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common/cksum.h"
#include "common/http_client.h"
#include "common/log.h"
#include "common/util.h"
#include "object/od.h"

static void	od_get_next(struct oreq *o);

/* ---- GetObject / HeadObject ---------------------------------------------------- */

static void
od_get_abort(struct oreq *o, const char *why)
{
	ark_log_warnx("GET %s/%s aborted: %s", o->r.bucket, o->r.key, why);
	/* A short body on a response with a Content-Length: the server
	 * closes the connection and the client sees the truncation. */
	if (!o->dead)
		ark_http_reply_end(o->req);
}

static void
get_drain(struct ark_http_req *req, void *arg)
{
	struct oreq *o = arg;

	(void)req;
	if (o->gwait_drain && o->gcreq != NULL) {
		o->gwait_drain = 0;
		ark_http_creq_resume(o->gcreq);
	}
}

static json_t *
get_frag(struct oreq *o)
{
	return json_array_get(json_object_get(o->obj, "fragments"), o->gi);
}

static void
gfetch_head(struct ark_http_creq *r, void *arg)
{
	struct oreq *o = arg;
	int st = ark_http_creq_status(r);

	if (st != 200 && st != 206)
		o->gwait_drain = -1;	/* bad replica: skip its body */
}

static void
gfetch_body(struct ark_http_creq *r, const void *d, size_t n, void *arg)
{
	struct oreq *o = arg;
	json_t *f = get_frag(o);
	uint64_t end = ARK_MIN(o->gend, (uint64_t)od_jint(f, "offset") +
	    (uint64_t)od_jint(f, "length") - 1);

	if (o->dead || o->gwait_drain < 0)
		return;
	if (o->gstart + n > end + 1)
		n = (size_t)(end + 1 - o->gstart);
	if (o->gwhole)
		o->gcrc = ark_crc32c(o->gcrc, d, n);
	ark_http_reply_write(o->req, d, n);
	o->gstart += n;
	o->gsent += n;
	if (ark_http_reply_congested(o->req)) {
		o->gwait_drain = 1;
		ark_http_creq_pause(r);
	}
}

static void
gfetch_done(struct ark_http_creq *r, enum ark_err err, void *arg)
{
	struct oreq *o = arg;
	json_t *f;
	uint64_t fend;

	(void)r;
	o->gcreq = NULL;
	if (o->dead) {
		od_oreq_unref(o);
		return;
	}
	f = get_frag(o);
	fend = (uint64_t)od_jint(f, "offset") + (uint64_t)od_jint(f, "length") - 1;
	if (err == ARK_OK && o->gwait_drain >= 0 &&
	    o->gstart > ARK_MIN(o->gend, fend)) {
		if (o->gwhole && o->gcrc != (uint32_t)od_jint(f, "crc32c")) {
			ark_log_error("fragment %s: CRC32C mismatch",
			    od_jstr(f, "fid"));
			od_get_abort(o, "CRC mismatch");
			od_oreq_unref(o);
			return;
		}
		o->gi++;
		o->greplica = 0;
		o->gsent = 0;
	} else {
		ark_log_warnx("fragment %s: replica %zu failed (%s)",
		    od_jstr(f, "fid"), o->greplica, err != ARK_OK ?
		    ark_strerror(err) : "status");
		o->greplica++;
	}
	o->gwait_drain = 0;
	od_get_next(o);
	od_oreq_unref(o);
}

static void
od_get_next(struct oreq *o)
{
	static const struct ark_http_creq_cbs cbs = { gfetch_head, gfetch_body,
	    NULL, gfetch_done };
	json_t *frags = json_object_get(o->obj, "fragments"), *f, *urls;
	struct ark_http_creq *r = NULL;
	uint64_t off, len, fs, fe;
	char rng[64], *url;
	const char *u;

	for (;;) {
		if (o->gstart > o->gend || o->gi >= json_array_size(frags)) {
			if (o->gstart <= o->gend)
				od_get_abort(o, "fragments end early");
			else
				ark_http_reply_end(o->req);
			return;
		}
		f = json_array_get(frags, o->gi);
		off = (uint64_t)od_jint(f, "offset");
		len = (uint64_t)od_jint(f, "length");
		if (off + len <= o->gstart) {
			o->gi++;
			continue;
		}
		break;
	}
	if (off > o->gstart) {
		od_get_abort(o, "hole in the fragment list");
		return;
	}
	urls = json_object_get(f, "urls");
	if (o->greplica >= json_array_size(urls)) {
		od_get_abort(o, "no replica could serve a fragment");
		return;
	}
	u = json_string_value(json_array_get(urls, o->greplica));
	fs = o->gstart - off;
	fe = ARK_MIN(o->gend, off + len - 1) - off;
	if (o->gsent == 0) {
		o->gwhole = fs == 0 && fe == len - 1;
		o->gcrc = 0;
	}
	url = ark_xasprintf("%s/%s", u != NULL ? u : "", od_jstr(f, "fid"));
	if (ark_http_creq_new_url(od_cli, "GET", url, &r) != ARK_OK) {
		free(url);
		o->greplica++;
		od_get_next(o);
		return;
	}
	free(url);
	ark_http_creq_set_header(r, "X-Arkor-Token", od_jstr(f, "token"));
	if (!(fs == 0 && fe == len - 1)) {
		snprintf(rng, sizeof(rng), "bytes=%" PRIu64 "-%" PRIu64, fs,
		    fe);
		ark_http_creq_set_header(r, "Range", rng);
	}
	ark_http_creq_set_cbs(r, &cbs, o);
	o->refs++;
	o->gcreq = r;
	o->gwait_drain = 0;
	if (ark_http_creq_start(r) != ARK_OK) {
		ark_http_creq_cancel(r);
		o->gcreq = NULL;
		o->refs--;
		o->greplica++;
		od_get_next(o);
	}
}


void
od_get_stream(struct oreq *o, uint64_t start, uint64_t end)
{
	o->gstart = start;
	o->gend = end;
	o->gi = 0;
	ark_http_reply_on_drain(o->req, get_drain, o);
	od_get_next(o);
}
