/*
 * od_s3_copy.c - CopyObject and UploadPartCopy.
 *
 * CopyObject is a metadata operation: the registry's object/copy makes
 * the destination a new version sharing the source's fragments. The
 * source is read first (object/get) for the x-amz-copy-source-if-*
 * conditions and the answer's ETag.
 *
 * UploadPartCopy reuses every source fragment that lies wholly inside
 * the copied range (offsets shifted). A fragment cut by the range's ends
 * (at most two) is fetched whole from a replica, checked against its
 * CRC32C, and the needed slice is written as a new fragment through the
 * upload pipeline (od_put.c): memory stays within two fragments.
 */
#include "config.h"

#include <inttypes.h>
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
#include "object/od_s3.h"

#define CP_MAX_SLICES	2

struct cp_slice {
	json_t		*frag;		/* source fragment (borrowed from src) */
	uint64_t	 foff;		/* first byte wanted, in the fragment */
	uint64_t	 len;
	uint64_t	 dst;		/* offset in the part */
	unsigned char	*buf;		/* the whole fragment once fetched */
	size_t		 got;
	size_t		 replica;
	uint32_t	 crc;
	int		 ok;
};

struct cp {
	char		 sb[S3_BUCKET_MAX + 1];
	char		 sk[S3_KEY_MAX + 1];
	json_t		*src;		/* source object */
	uint64_t	 a, size;	/* part copy: first byte, length */
	json_t		*plan;		/* reused fragments, shifted */
	struct cp_slice	 sl[CP_MAX_SLICES];
	size_t		 nsl, si;
	char		 etag[72];
};

static void
cp_free(void *arg)
{
	struct cp *c = arg;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nsl; i++)
		free(c->sl[i].buf);
	json_decref(c->plan);
	json_decref(c->src);
	free(c);
}

static const char *
hdr(struct oreq *o, const char *name)
{
	return s3_view_header(&o->v, name);
}

/* ---- CopyObject ----------------------------------------------------------- */

static void
copy_done(struct oreq *o, int status, json_t *j)
{
	struct cp *c = o->ext;
	struct ark_buf out;
	struct s3_xmlw w;

	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_KEY);
		return;
	}
	ark_buf_init(&out, 1 << 16);
	s3_xmlw_init(&w, &out);
	s3_xmlw_start_ns(&w, "CopyObjectResult");
	s3_xmlw_elem_time(&w, "LastModified", ark_now_s());
	s3_xmlw_elemf(&w, "ETag", "\"%s\"", od_jstr(c->src, "etag"));
	s3_xmlw_end(&w);
	if (!o->dead)
		ark_http_resp_header(o->req, "x-amz-copy-source-version-id",
		    "null");
	od_xml_finish(o, &w, &out);
}

static void
copy_object(struct oreq *o, struct cp *c)
{
	const char *md = hdr(o, "x-amz-metadata-directive");
	const char *td = hdr(o, "x-amz-tagging-directive");
	int replace = 0, retag = 0;
	json_t *b, *tags = NULL;
	enum s3_code sc;

	if (md != NULL && strcmp(md, "REPLACE") == 0)
		replace = 1;
	else if (md != NULL && strcmp(md, "COPY") != 0) {
		od_error(o, S3_ERR_INVALID_ARGUMENT,
		    "Unknown metadata directive.");
		return;
	}
	if ((replace && (sc = od_user_meta_check(&o->v)) != S3_OK) ||
	    (sc = od_storage_class_check(&o->v)) != S3_OK) {
		od_error(o, sc, NULL);
		return;
	}
	if (td != NULL && strcmp(td, "REPLACE") == 0)
		retag = 1;
	else if (td != NULL && strcmp(td, "COPY") != 0) {
		od_error(o, S3_ERR_INVALID_ARGUMENT,
		    "Unknown tagging directive.");
		return;
	}
	if (!replace && !retag && strcmp(c->sb, o->r.bucket) == 0 &&
	    strcmp(c->sk, o->r.key) == 0) {
		od_error(o, S3_ERR_INVALID_REQUEST, "This copy request is "
		    "illegal because it is trying to copy an object to itself "
		    "without changing the object's metadata, storage class, "
		    "website redirect location or encryption attributes.");
		return;
	}
	if (retag) {
		if ((sc = od_s3_tagging_header(o, &tags)) != S3_OK) {
			od_error(o, sc, NULL);
			return;
		}
		if (tags == NULL)
			tags = json_object();
	}
	b = json_pack("{s:s, s:s, s:s, s:s, s:I}", "src_bucket", c->sb,
	    "src_key", c->sk, "bucket", o->r.bucket, "key", o->r.key,
	    "mtime_ms", (json_int_t)ark_now_ms());
	if (replace) {
		const char *ct = hdr(o, "content-type");

		json_object_set_new(b, "content_type", json_string(ct != NULL ?
		    ct : "binary/octet-stream"));
		json_object_set_new(b, "user_meta", od_user_meta(&o->v));
		json_object_set_new(b, "headers", od_s3_stored_headers(&o->v));
	}
	if (tags != NULL)
		json_object_set_new(b, "tags", tags);
	od_s3_if_version(o, b);
	od_reg_call(o, "object/copy", b, 0, copy_done);
}

/* ---- UploadPartCopy ------------------------------------------------------- */

static void
part_done(struct oreq *o, int status, json_t *j)
{
	struct cp *c = o->ext;
	struct ark_buf out;
	struct s3_xmlw w;

	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_UPLOAD);
		return;
	}
	ark_buf_init(&out, 1 << 16);
	s3_xmlw_init(&w, &out);
	s3_xmlw_start_ns(&w, "CopyPartResult");
	s3_xmlw_elem_time(&w, "LastModified", ark_now_s());
	s3_xmlw_elemf(&w, "ETag", "\"%s\"", c->etag);
	s3_xmlw_end(&w);
	od_xml_finish(o, &w, &out);
}

static void
part_commit_frags(struct oreq *o, json_t *frags)
{
	struct cp *c = o->ext;

	od_reg_call(o, "multipart/part", json_pack("{s:s, s:i, s:I, s:s, s:o}",
	    "upload_id", o->r.upload_id, "number", (int)o->r.part_number,
	    "size", (json_int_t)c->size, "etag", c->etag, "fragments", frags),
	    0, part_done);
}

static int
frag_cmp(const void *x, const void *y)
{
	int64_t a = od_jint(*(json_t *const *)x, "offset");
	int64_t b = od_jint(*(json_t *const *)y, "offset");

	return a < b ? -1 : a > b;
}

/* The upload pipeline stored the slices (their bytes back to back, maybe
 * cut into several fragments): map them to their places in the part. */
static void
part_commit(struct oreq *o)
{
	struct cp *c = o->ext;
	json_t *all = json_array(), **v, *e;
	struct frag *f;
	uint64_t vstart = 0;
	size_t k = 0, i, n;

	for (f = o->frags; f != NULL; f = f->lnext) {
		while (k < c->nsl && f->offset >= vstart + c->sl[k].len) {
			vstart += c->sl[k].len;
			k++;
		}
		if (k == c->nsl) {
			json_decref(all);
			od_error(o, S3_ERR_INTERNAL, NULL);
			return;
		}
		json_array_append_new(all, json_pack("{s:s, s:I, s:I, s:I}",
		    "fid", f->fid, "offset", (json_int_t)(c->sl[k].dst +
		    f->offset - vstart), "length", (json_int_t)f->len,
		    "crc32c", (json_int_t)f->crc));
	}
	json_array_extend(all, c->plan);
	n = json_array_size(all);
	v = ark_xcalloc(n + 1, sizeof(*v));
	json_array_foreach(all, i, e)
		v[i] = json_incref(e);
	qsort(v, n, sizeof(*v), frag_cmp);
	json_array_clear(all);
	for (i = 0; i < n; i++)
		json_array_append_new(all, v[i]);
	free(v);
	part_commit_frags(o, all);
}

/* Every slice fetched: write them as new fragments, then commit. */
static void
slices_write(struct oreq *o)
{
	struct cp *c = o->ext;
	uint64_t total = 0;
	enum s3_code sc;
	size_t i;

	for (i = 0; i < c->nsl; i++)
		total += c->sl[i].len;
	if (s3_cksum_new(S3_CKSUM_BIT(S3_CKSUM_MD5), &o->ck) != ARK_OK) {
		od_error(o, S3_ERR_INTERNAL, NULL);
		return;
	}
	o->declared = (int64_t)total;
	o->body_done = 1;
	o->commit = part_commit;
	for (i = 0; i < c->nsl; i++) {
		if ((sc = od_put_data(o, c->sl[i].buf + c->sl[i].foff,
		    (size_t)c->sl[i].len)) != S3_OK) {
			od_put_fail(o, sc, NULL);
			return;
		}
		od_put_seal(o);
		free(c->sl[i].buf);
		c->sl[i].buf = NULL;
	}
	od_put_finish(o);
}

static void	slice_fetch(struct oreq *o);

static void
sf_head(struct ark_http_creq *r, void *arg)
{
	struct oreq *o = arg;
	struct cp *c = o->ext;

	c->sl[c->si].ok = ark_http_creq_status(r) == 200;
}

static void
sf_body(struct ark_http_creq *r, const void *d, size_t n, void *arg)
{
	struct oreq *o = arg;
	struct cp *c = o->ext;
	struct cp_slice *s = &c->sl[c->si];
	size_t flen = (size_t)od_jint(s->frag, "length");

	(void)r;
	if (!s->ok || s->got + n > flen) {
		s->ok = 0;
		return;
	}
	memcpy(s->buf + s->got, d, n);
	s->got += n;
}

static void
sf_done(struct ark_http_creq *r, enum ark_err err, void *arg)
{
	struct oreq *o = arg;
	struct cp *c = o->ext;
	struct cp_slice *s;
	size_t flen;

	(void)r;
	o->gcreq = NULL;
	if (o->dead) {
		od_oreq_unref(o);
		return;
	}
	s = &c->sl[c->si];
	flen = (size_t)od_jint(s->frag, "length");
	if (err == ARK_OK && s->ok && s->got == flen &&
	    ark_crc32c(0, s->buf, flen) == (uint32_t)od_jint(s->frag,
	    "crc32c"))
		c->si++;
	else {
		ark_log_warnx("copy: fragment %s: replica %zu failed (%s)",
		    od_jstr(s->frag, "fid"), s->replica, err != ARK_OK ?
		    ark_strerror(err) : "status, length or CRC32C");
		s->replica++;
	}
	slice_fetch(o);
	od_oreq_unref(o);
}

/* Fetches the next slice's whole fragment from its next replica. */
static void
slice_fetch(struct oreq *o)
{
	static const struct ark_http_creq_cbs cbs = { sf_head, sf_body, NULL,
	    sf_done };
	struct cp *c = o->ext;
	struct ark_http_creq *r = NULL;
	struct cp_slice *s;
	json_t *urls;
	const char *u;
	char *url;

	for (;;) {
		if (c->si == c->nsl) {
			slices_write(o);
			return;
		}
		s = &c->sl[c->si];
		urls = json_object_get(s->frag, "urls");
		if (s->replica >= json_array_size(urls)) {
			ark_log_warnx("copy: no replica could serve fragment %s",
			    od_jstr(s->frag, "fid"));
			od_error(o, S3_ERR_SLOW_DOWN, "source unreadable");
			return;
		}
		if (s->buf == NULL)
			s->buf = ark_xmalloc((size_t)od_jint(s->frag,
			    "length") + 1);
		s->got = 0;
		s->ok = 0;
		u = json_string_value(json_array_get(urls, s->replica));
		url = ark_xasprintf("%s/%s", u != NULL ? u : "",
		    od_jstr(s->frag, "fid"));
		if (ark_http_creq_new_url(od_cli, "GET", url, &r) != ARK_OK) {
			free(url);
			s->replica++;
			continue;
		}
		free(url);
		ark_http_creq_set_header(r, "X-Arkor-Token", od_jstr(s->frag,
		    "token"));
		ark_http_creq_set_cbs(r, &cbs, o);
		o->refs++;
		o->gcreq = r;		/* cancelled if the client goes */
		if (ark_http_creq_start(r) == ARK_OK)
			return;
		ark_http_creq_cancel(r);
		o->gcreq = NULL;
		o->refs--;
		s->replica++;
	}
}

/* "bytes=a-b" of x-amz-copy-source-range: both given, a <= b < size. */
static enum s3_code
copy_range(const char *h, uint64_t size, uint64_t *a, uint64_t *b)
{
	unsigned long long x, y;
	int n = 0;

	if (strncmp(h, "bytes=", 6) != 0 || sscanf(h + 6, "%llu-%llu%n", &x,
	    &y, &n) != 2 || h[6 + n] != '\0' || x > y)
		return S3_ERR_INVALID_ARGUMENT;
	if (y >= size)
		return S3_ERR_INVALID_RANGE;
	*a = x;
	*b = y;
	return S3_OK;
}

static void
copy_part(struct oreq *o, struct cp *c)
{
	const char *rh = hdr(o, "x-amz-copy-source-range");
	const char *setag = od_jstr(c->src, "etag");
	uint64_t ssize = (uint64_t)od_jint(c->src, "size"), a = 0, b;
	json_t *frags = json_object_get(c->src, "fragments"), *f;
	enum s3_code sc;
	size_t i;

	if (rh != NULL) {
		if ((sc = copy_range(rh, ssize, &a, &b)) != S3_OK) {
			od_error(o, sc, NULL);
			return;
		}
	} else
		b = ssize - 1;		/* wraps for an empty source */
	if ((ssize > 0 ? b - a + 1 : 0) > (uint64_t)OD_S3_MAX_OBJECT) {
		od_error(o, S3_ERR_INVALID_REQUEST, "The specified copy source "
		    "is larger than the maximum allowable size for a copy "
		    "source: 5368709120");
		return;
	}
	c->a = a;
	c->size = ssize == 0 ? 0 : b - a + 1;
	/* A whole single-part source keeps its MD5 ETag; otherwise the
	 * part's ETag names the source and range (no byte is re-read). */
	if (rh == NULL && strchr(setag, '-') == NULL && strlen(setag) == 32)
		snprintf(c->etag, sizeof(c->etag), "%s", setag);
	else {
		unsigned char md[16];
		char *s = ark_xasprintf("%s:%" PRIu64 ":%" PRIu64, setag, a,
		    c->size);

		ark_hash(ARK_HASH_MD5, s, strlen(s), md);
		ark_hex_encode(md, 16, c->etag);
		free(s);
	}
	c->plan = json_array();
	json_array_foreach(frags, i, f) {
		uint64_t off = (uint64_t)od_jint(f, "offset");
		uint64_t len = (uint64_t)od_jint(f, "length");
		uint64_t s, e;

		if (c->size == 0 || len == 0 || off + len <= a || off > b)
			continue;
		s = ARK_MAX(off, a);
		e = ARK_MIN(off + len - 1, b);
		if (s == off && e == off + len - 1) {
			json_array_append_new(c->plan, json_pack(
			    "{s:s, s:I, s:I, s:I}", "fid", od_jstr(f, "fid"),
			    "offset", (json_int_t)(off - a), "length",
			    (json_int_t)len, "crc32c", (json_int_t)od_jint(f,
			    "crc32c")));
			continue;
		}
		if (c->nsl == CP_MAX_SLICES) {
			od_error(o, S3_ERR_INTERNAL, NULL);
			return;
		}
		c->sl[c->nsl].frag = f;
		c->sl[c->nsl].foff = s - off;
		c->sl[c->nsl].len = e - s + 1;
		c->sl[c->nsl].dst = s - a;
		c->nsl++;
	}
	if (c->nsl == 0) {
		json_t *p = json_incref(c->plan);

		part_commit_frags(o, p);
		return;
	}
	slice_fetch(o);
}

/* ---- both ----------------------------------------------------------------- */

static void
src_done(struct oreq *o, int status, json_t *j)
{
	struct cp *c = o->ext;
	enum s3_code sc;

	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_KEY);
		return;
	}
	c->src = json_incref(j);
	sc = s3_req_conditions_h(hdr(o, "x-amz-copy-source-if-match"),
	    hdr(o, "x-amz-copy-source-if-unmodified-since"),
	    hdr(o, "x-amz-copy-source-if-none-match"),
	    hdr(o, "x-amz-copy-source-if-modified-since"), od_jstr(j, "etag"),
	    od_jint(j, "mtime_ms") / 1000, S3_COND_COPY);
	if (sc != S3_OK) {
		od_error(o, sc, NULL);
		return;
	}
	if (o->r.op == S3_OP_UPLOAD_PART_COPY)
		copy_part(o, c);
	else
		copy_object(o, c);
}

static void
src_get(struct oreq *o)
{
	struct cp *c = o->ext;

	od_reg_call(o, "object/get", json_pack("{s:s, s:s, s:b}", "bucket",
	    c->sb, "key", c->sk, "tokens", o->r.op ==
	    S3_OP_UPLOAD_PART_COPY), 0, src_done);
}

/* UploadPartCopy: as UploadPart, the upload must be this key's before
 * anything is read or written. */
static void
upload_done(struct oreq *o, int status, json_t *j)
{
	enum s3_cksum_alg alg;
	int full;

	if (od_s3_upload_check(o, status, j, &alg, &full) == 0)
		src_get(o);
}

void
od_s3_copy(struct oreq *o)
{
	char version[S3_VERSION_ID_MAX];
	struct cp *c;
	enum s3_code sc;

	c = ark_xcalloc(1, sizeof(*c));
	o->ext = c;
	o->ext_free = cp_free;
	if ((sc = s3_req_copy_source(hdr(o, "x-amz-copy-source"), c->sb, c->sk,
	    version)) != S3_OK) {
		od_error(o, sc, NULL);
		return;
	}
	if (od_s3_other_version(version)) {
		od_error(o, S3_ERR_NO_SUCH_VERSION, NULL);
		return;
	}
	if (o->r.op == S3_OP_UPLOAD_PART_COPY) {
		od_reg_call(o, "multipart/get", json_pack("{s:s}", "upload_id",
		    o->r.upload_id), 0, upload_done);
		return;
	}
	/* the destination's If-Match / If-None-Match: * (conditional
	 * write), then the source and its x-amz-copy-source-if-* */
	od_s3_write_cond(o, src_get);
}
