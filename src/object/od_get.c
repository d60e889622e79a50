/*
 * od_get.c - the download pipeline: an object's fragments sent in order,
 * each only after all of it arrived and checked out, with one fragment of
 * read-ahead. Each fragment is fetched from a replica chosen at random
 * (reads spread over the group) and fails over to the next one: resuming
 * where a failed transfer stopped, or from the start after a CRC32C
 * mismatch. So a damaged or lost replica costs a retry, never wrong or
 * short data, as long as one replica is sound.
 *
 * Two slots: the head fragment, whose bytes go to the reply once verified,
 * and the next one, fetched meanwhile. The next-but-one starts when the
 * head's bytes have mostly left (the reply is not congested), so a request
 * holds about two fragments whatever the object size. A fragment read
 * whole is checked against its CRC32C here; a part of one (a Range) is
 * checked by the data server (X-Arkor-Verify), since only it has the whole
 * needle. Ranges no fragment covers (sparse objects) read as zeros.
 * Small fragments read whole are kept in memory (od_fcache.h) and later
 * read from there: a FileID's bytes never change.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "common/cksum.h"
#include "common/http_client.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/util.h"
#include "object/od.h"

struct od_gslot {
	struct oreq		*o;
	struct ark_http_creq	*r;
	json_t			*f;		/* borrowed from o->obj; NULL:
						 * a hole */
	size_t			 fi;		/* its index in the list */
	uint64_t		 from;		/* first object offset wanted */
	uint64_t		 pos;		/* next object offset to receive */
	uint64_t		 end;		/* last object offset wanted */
	size_t			 first;		/* replica tried first */
	size_t			 tries;
	uint32_t		 crc;
	int			 whole;		/* whole fragment: CRC checked */
	int			 bad;		/* this response's body is ignored */
	int			 done;		/* all of it in buf, verified */
	int			 failed;	/* no replica could serve it */
	int			 zero;		/* a hole: zeros, no fragment */
	struct evbuffer		*buf;		/* received */
};

static void	od_get_pump(struct oreq *o);
static void	gslot_fetch(struct od_gslot *s);

static void
od_get_abort(struct oreq *o, const char *why)
{
	ark_log_warnx("GET %s/%s aborted: %s", o->r.bucket, o->r.key, why);
	/* A short body on a response with a Content-Length: the server
	 * closes the connection and the client sees the truncation. */
	if (!o->dead)
		ark_http_reply_end(o->req);
	od_get_cancel(o);
	od_get_free(o);
}

/* The first fragment failed before anything was sent: an error instead
 * of the success prepared. */
static void
od_get_refuse(struct oreq *o)
{
	ark_log_warnx("GET %s/%s: no replica could serve its first fragment",
	    o->r.bucket, o->r.key);
	od_get_cancel(o);
	od_get_free(o);
	ark_http_resp_headers_clear(o->req);
	o->replied = 0;
	od_error(o, S3_ERR_SERVICE_UNAVAILABLE,
	    "no replica of the object's data could be read; try again");
}

static void
gslot_free(struct od_gslot *s)
{
	if (s == NULL)
		return;
	evbuffer_free(s->buf);
	free(s);
}

/* Cancels the fetches in flight (the client went). */
void
od_get_cancel(struct oreq *o)
{
	for (size_t i = 0; i < 2; i++) {
		struct od_gslot *s = o->gslot[i];

		if (s != NULL && s->r != NULL) {
			ark_http_creq_cancel(s->r);
			s->r = NULL;
			od_oreq_unref(o);
		}
	}
}

void
od_get_free(struct oreq *o)
{
	for (size_t i = 0; i < 2; i++) {
		gslot_free(o->gslot[i]);
		o->gslot[i] = NULL;
	}
}

/* Fragment cache lookups, for /metrics: [0] misses, [1] hits. */
static struct ark_metric	*od_get_m[2];

void
od_get_init(void)
{
	od_get_m[0] = ark_metric_counter("arkor_objectd_fcache_misses_total",
	    "small fragments read from a data server, then kept", NULL, 0);
	od_get_m[1] = ark_metric_counter("arkor_objectd_fcache_hits_total",
	    "small fragments read from the fragment cache", NULL, 0);
}

static void
od_get_count(int hit)
{
	ark_metric_inc(od_get_m[hit], 0);
}

/* Holes (sparse objects: ranges no fragment covers, e.g. a file
 * truncated larger through arkorfs) read as zeros, sent by reference
 * from one static page, at most OD_GET_ZERO_MAX bytes per slot. */
#define OD_GET_ZERO_PAGE	(64u << 10)
#define OD_GET_ZERO_MAX		(1u << 20)
static const char od_get_zeros[OD_GET_ZERO_PAGE];

/* A slot for the object's bytes from offset pos (<= o->gend) on: the
 * part of [pos, o->gend] that the first fragment from index fi on holds,
 * or, when no fragment holds pos, zeros up to the next fragment (a hole,
 * done at once). NULL when pos is past the range. */
static struct od_gslot *
gslot_new(struct oreq *o, size_t fi, uint64_t pos)
{
	json_t *frags = json_object_get(o->obj, "fragments");
	json_t *f;
	struct od_gslot *s;
	uint64_t off = 0, len = 0, hend, n;
	size_t nurls;

	if (pos > o->gend)
		return NULL;
	for (;; fi++) {
		if ((f = json_array_get(frags, fi)) == NULL)
			break;
		off = (uint64_t)od_jint(f, "offset");
		len = (uint64_t)od_jint(f, "length");
		if (len > 0 && off + len > pos)
			break;
	}
	s = ark_xcalloc(1, sizeof(*s));
	s->o = o;
	s->fi = fi;
	s->from = pos;
	s->pos = pos;
	if ((s->buf = evbuffer_new()) == NULL)
		ark_fatal("evbuffer_new");
	if (f == NULL || off > pos) {
		hend = f == NULL ? o->gend : ARK_MIN(o->gend, off - 1);
		s->end = ARK_MIN(hend, pos + OD_GET_ZERO_MAX - 1);
		for (; s->pos <= s->end; s->pos += n) {
			n = ARK_MIN(s->end + 1 - s->pos, OD_GET_ZERO_PAGE);
			if (evbuffer_add_reference(s->buf, od_get_zeros,
			    (size_t)n, NULL, NULL) != 0)
				ark_fatal("evbuffer_add_reference");
		}
		s->zero = 1;
		s->done = 1;
		return s;
	}
	s->f = f;
	s->end = ARK_MIN(o->gend, off + len - 1);
	s->whole = s->from == off && s->end == off + len - 1;
	if (od_fcache_fits(od_conf.fcache, len)) {
		if (od_fcache_get(od_conf.fcache, od_jstr(f, "fid"), len,
		    s->from - off, s->end + 1 - s->from, s->buf)) {
			od_get_count(1);
			s->pos = s->end + 1;
			s->done = 1;
			return s;
		}
		od_get_count(0);
	}
	nurls = json_array_size(json_object_get(f, "urls"));
	s->first = nurls > 1 ? ark_random_u32() % nurls : 0;
	return s;
}

/* Starts fetching what follows the head, if the range goes on. */
static void
od_get_ahead(struct oreq *o)
{
	struct od_gslot *h = o->gslot[0];

	o->gslot[1] = gslot_new(o, h->zero ? h->fi : h->fi + 1, h->end + 1);
	if (o->gslot[1] != NULL)
		gslot_fetch(o->gslot[1]);
}

static void
gfetch_head(struct ark_http_creq *r, void *arg)
{
	struct od_gslot *s = arg;
	int st = ark_http_creq_status(r);

	if (st != 200 && st != 206)
		s->bad = 1;	/* bad replica: skip its body */
}

static void
gfetch_body(struct ark_http_creq *r, const void *d, size_t n, void *arg)
{
	struct od_gslot *s = arg;
	struct oreq *o = s->o;

	if (o->dead || s->bad)
		return;
	if (s->pos + n > s->end + 1)
		n = (size_t)(s->end + 1 - s->pos);
	if (n == 0)
		return;
	if (s->whole)
		s->crc = ark_crc32c(s->crc, d, n);
	if (evbuffer_add(s->buf, d, n) != 0)
		ark_fatal("evbuffer_add");
	s->pos += n;
}

static void
gfetch_done(struct ark_http_creq *r, enum ark_err err, void *arg)
{
	struct od_gslot *s = arg;
	struct oreq *o = s->o;
	size_t nurls;

	(void)r;
	s->r = NULL;
	if (o->dead) {
		od_oreq_unref(o);
		return;
	}
	nurls = json_array_size(json_object_get(s->f, "urls"));
	if (err == ARK_OK && !s->bad && s->pos > s->end) {
		if (!s->whole || s->crc == (uint32_t)od_jint(s->f, "crc32c")) {
			s->done = 1;
			if (s->whole)
				od_fcache_put(od_conf.fcache,
				    od_jstr(s->f, "fid"), s->buf);
		} else {
			ark_log_error("fragment %s: CRC32C mismatch from replica "
			    "%zu of %zu", od_jstr(s->f, "fid"),
			    (s->first + s->tries) % ARK_MAX(nurls, 1) + 1,
			    nurls);
			evbuffer_drain(s->buf, evbuffer_get_length(s->buf));
			s->pos = s->from;
			s->crc = 0;
			s->tries++;
			gslot_fetch(s);	/* the next replica, or failed */
		}
	} else {
		ark_log_warnx("fragment %s: replica failed (%s)",
		    od_jstr(s->f, "fid"), err != ARK_OK ? ark_strerror(err) :
		    "status");
		s->tries++;
		gslot_fetch(s);		/* resumes at pos, or failed */
	}
	od_get_pump(o);
	od_oreq_unref(o);
}

/* Starts (or restarts at s->pos) the fetch at the next replica to try. */
static void
gslot_fetch(struct od_gslot *s)
{
	static const struct ark_http_creq_cbs cbs = { gfetch_head, gfetch_body,
	    NULL, gfetch_done };
	struct oreq *o = s->o;
	json_t *urls = json_object_get(s->f, "urls");
	size_t nurls = json_array_size(urls);
	uint64_t off = (uint64_t)od_jint(s->f, "offset");
	uint64_t len = (uint64_t)od_jint(s->f, "length");
	struct ark_http_creq *r = NULL;
	const char *u;
	char rng[64], *url;

	if (s->done)
		return;			/* a hole, or from the cache */
	for (; s->tries < nurls; s->tries++) {
		u = json_string_value(json_array_get(urls,
		    (s->first + s->tries) % nurls));
		url = ark_xasprintf("%s/%s", u != NULL ? u : "",
		    od_jstr(s->f, "fid"));
		if (ark_http_creq_new_url(od_cli, "GET", url, &r) != ARK_OK) {
			free(url);
			continue;
		}
		free(url);
		ark_http_creq_set_header(r, "X-Arkor-Token",
		    od_jstr(s->f, "token"));
		if (s->pos != off || s->end != off + len - 1) {
			snprintf(rng, sizeof(rng), "bytes=%" PRIu64 "-%" PRIu64,
			    s->pos - off, s->end - off);
			ark_http_creq_set_header(r, "Range", rng);
			/* Only the data server can check part of a needle. */
			ark_http_creq_set_header(r, "X-Arkor-Verify", "1");
		}
		ark_http_creq_set_cbs(r, &cbs, s);
		o->refs++;
		s->r = r;
		s->bad = 0;
		if (ark_http_creq_start(r) == ARK_OK)
			return;
		ark_http_creq_cancel(r);
		s->r = NULL;
		o->refs--;
	}
	s->failed = 1;
}

/* Passes the head's bytes to the reply once it is complete, then moves on
 * to the next fragment when the reply has room, keeping one fetched ahead. */
static void
od_get_pump(struct oreq *o)
{
	struct od_gslot *h;

	while (!o->dead && (h = o->gslot[0]) != NULL) {
		if (h->failed && !o->gstarted) {
			od_get_refuse(o);
			return;
		}
		if (h->failed) {
			od_get_abort(o, "no replica could serve a fragment");
			return;
		}
		if (!h->done)
			return;		/* its fetch comes back */
		if (!o->gstarted) {
			o->gstarted = 1;
			ark_http_reply_start(o->req, o->gstatus,
			    (int64_t)(o->gend - o->gstart + 1));
		}
		if (ark_http_reply_congested(o->req))
			return;		/* the drain callback comes back */
		(void)ark_http_reply_add_buffer(o->req, h->buf);
		if (ark_http_reply_congested(o->req))
			return;
		/* The head is out: the next one takes its place. */
		gslot_free(h);
		o->gslot[0] = o->gslot[1];
		o->gslot[1] = NULL;
		if (o->gslot[0] == NULL) {
			ark_http_reply_end(o->req);
			return;
		}
		od_get_ahead(o);
	}
}

static void
get_drain(struct ark_http_req *req, void *arg)
{
	(void)req;
	od_get_pump(arg);
}

void
od_get_stream(struct oreq *o, int status, uint64_t start, uint64_t end)
{
	o->gstart = start;
	o->gend = end;
	o->gstatus = status;
	ark_http_reply_on_drain(o->req, get_drain, o);
	o->gslot[0] = gslot_new(o, 0, start);
	gslot_fetch(o->gslot[0]);
	od_get_ahead(o);
	od_get_pump(o);
}
