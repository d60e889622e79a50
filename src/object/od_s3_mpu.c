/*
 * od_s3_mpu.c - the multipart operations beyond upload and abort:
 * ListParts (multipart/parts, paged here), ListMultipartUploads
 * (multipart/list; a delimiter rolls keys up within the page), and the
 * checks CompleteMultipartUpload makes before multipart/complete: every
 * listed part exists, and all but the last are at least 5 MiB.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/util.h"
#include "object/od.h"
#include "object/od_s3.h"
#include "object/s3_uri.h"

/* ---- ListParts -------------------------------------------------------------- */

static void
parts_done(struct oreq *o, int status, json_t *j)
{
	json_t *parts, *p;
	struct ark_buf out;
	struct s3_xmlw w;
	uint64_t marker, max;
	unsigned last = 0, n = 0;
	int trunc = 0;
	size_t i;

	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_UPLOAD);
		return;
	}
	if (strcmp(od_jstr(j, "bucket"), o->r.bucket) != 0 ||
	    strcmp(od_jstr(j, "key"), o->r.key) != 0) {
		od_error(o, S3_ERR_NO_SUCH_UPLOAD, NULL);
		return;
	}
	if (s3_req_query_uint(o->v.query, "part-number-marker", 0, 10000, 0,
	    &marker) != S3_OK || s3_req_query_uint(o->v.query, "max-parts", 0,
	    UINT32_MAX, 1000, &max) != S3_OK) {
		od_error(o, S3_ERR_INVALID_ARGUMENT, NULL);
		return;
	}
	if (max > 1000)
		max = 1000;
	ark_buf_init(&out, 16u << 20);
	s3_xmlw_init(&w, &out);
	s3_xmlw_start_ns(&w, "ListPartsResult");
	s3_xmlw_elem(&w, "Bucket", o->r.bucket);
	s3_xmlw_elem(&w, "Key", o->r.key);
	s3_xmlw_elem(&w, "UploadId", o->r.upload_id);
	s3_xmlw_start(&w, "Initiator");
	od_s3_owner(&w, o->key.user);
	s3_xmlw_end(&w);
	s3_xmlw_start(&w, "Owner");
	od_s3_owner(&w, o->key.user);
	s3_xmlw_end(&w);
	s3_xmlw_elem(&w, "StorageClass", "STANDARD");
	s3_xmlw_elem_u64(&w, "PartNumberMarker", marker);
	parts = json_object_get(j, "parts");
	json_array_foreach(parts, i, p) {
		unsigned num = (unsigned)od_jint(p, "number");

		if (num <= marker)
			continue;
		if (n == max) {
			trunc = 1;
			break;
		}
		s3_xmlw_start(&w, "Part");
		s3_xmlw_elem_u64(&w, "PartNumber", num);
		s3_xmlw_elem_time(&w, "LastModified",
		    od_jint(p, "created_ms") / 1000);
		s3_xmlw_elemf(&w, "ETag", "\"%s\"", od_jstr(p, "etag"));
		s3_xmlw_elem_u64(&w, "Size", (uint64_t)od_jint(p, "size"));
		s3_xmlw_end(&w);
		last = num;
		n++;
	}
	s3_xmlw_elem_u64(&w, "NextPartNumberMarker", last);
	s3_xmlw_elem_u64(&w, "MaxParts", max);
	s3_xmlw_elem_bool(&w, "IsTruncated", trunc);
	s3_xmlw_end(&w);
	od_xml_finish(o, &w, &out);
}

void
od_s3_list_parts(struct oreq *o)
{
	od_reg_call(o, "multipart/parts", json_pack("{s:s}", "upload_id",
	    o->r.upload_id), 0, parts_done);
}

/* ---- ListMultipartUploads ------------------------------------------------------ */

static void
uploads_done(struct oreq *o, int status, json_t *j)
{
	struct s3_list_params lp;
	json_t *ups, *u, *prefixes;
	struct ark_buf out;
	struct s3_xmlw w;
	const char *last_key = NULL, *last_id = NULL, *k;
	int trunc;
	size_t i, plen, dlen;

	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	if (s3_req_list_params(o->r.op, o->v.query, &lp) != S3_OK)
		memset(&lp, 0, sizeof(lp));
	plen = strlen(lp.prefix);
	dlen = strlen(lp.delimiter);
	ups = json_object_get(j, "uploads");
	trunc = json_is_true(json_object_get(j, "truncated"));
	prefixes = json_array();
	ark_buf_init(&out, 64u << 20);
	s3_xmlw_init(&w, &out);
	s3_xmlw_start_ns(&w, "ListMultipartUploadsResult");
	s3_xmlw_elem(&w, "Bucket", o->r.bucket);
	s3_xmlw_elem_key(&w, "KeyMarker", lp.after, strlen(lp.after),
	    lp.encoding_url);
	s3_xmlw_elem(&w, "UploadIdMarker", lp.has_token ? lp.token : "");
	json_array_foreach(ups, i, u) {
		last_key = od_jstr(u, "key");
		last_id = od_jstr(u, "upload_id");
	}
	if (trunc && last_key != NULL) {
		s3_xmlw_elem_key(&w, "NextKeyMarker", last_key,
		    strlen(last_key), lp.encoding_url);
		s3_xmlw_elem(&w, "NextUploadIdMarker", last_id);
	}
	if (lp.encoding_url)
		s3_xmlw_elem(&w, "EncodingType", "url");
	if (lp.delimiter[0] != '\0')
		s3_xmlw_elem_key(&w, "Delimiter", lp.delimiter, dlen,
		    lp.encoding_url);
	s3_xmlw_elem_key(&w, "Prefix", lp.prefix, plen, lp.encoding_url);
	s3_xmlw_elem_u64(&w, "MaxUploads", lp.max_keys);
	s3_xmlw_elem_bool(&w, "IsTruncated", trunc);
	json_array_foreach(ups, i, u) {
		const char *d;

		k = od_jstr(u, "key");
		if (dlen > 0 && strlen(k) >= plen &&
		    (d = strstr(k + plen, lp.delimiter)) != NULL) {
			size_t n = (size_t)(d - k) + dlen, m;
			json_t *cp = json_stringn(k, n);

			m = json_array_size(prefixes);
			if (m == 0 || !json_equal(json_array_get(prefixes,
			    m - 1), cp))
				json_array_append(prefixes, cp);
			json_decref(cp);
			continue;
		}
		s3_xmlw_start(&w, "Upload");
		s3_xmlw_elem_key(&w, "Key", k, strlen(k), lp.encoding_url);
		s3_xmlw_elem(&w, "UploadId", od_jstr(u, "upload_id"));
		s3_xmlw_start(&w, "Initiator");
		od_s3_owner(&w, o->key.user);
		s3_xmlw_end(&w);
		s3_xmlw_start(&w, "Owner");
		od_s3_owner(&w, o->key.user);
		s3_xmlw_end(&w);
		s3_xmlw_elem(&w, "StorageClass", "STANDARD");
		s3_xmlw_elem_time(&w, "Initiated",
		    od_jint(u, "created_ms") / 1000);
		s3_xmlw_end(&w);
	}
	json_array_foreach(prefixes, i, u) {
		k = json_string_value(u);
		s3_xmlw_start(&w, "CommonPrefixes");
		s3_xmlw_elem_key(&w, "Prefix", k, strlen(k), lp.encoding_url);
		s3_xmlw_end(&w);
	}
	json_decref(prefixes);
	s3_xmlw_end(&w);
	od_xml_finish(o, &w, &out);
}

void
od_s3_list_uploads(struct oreq *o)
{
	struct s3_list_params lp;
	enum s3_code sc;
	json_t *b;

	if ((sc = s3_req_list_params(o->r.op, o->v.query, &lp)) != S3_OK) {
		od_error(o, sc, NULL);
		return;
	}
	if (lp.max_keys == 0) {
		json_t *j = json_pack("{s:[], s:b}", "uploads", "truncated", 0);

		uploads_done(o, 200, j);
		json_decref(j);
		return;
	}
	b = json_pack("{s:s, s:i}", "bucket", o->r.bucket, "max_uploads",
	    (int)lp.max_keys);
	if (lp.prefix[0] != '\0')
		json_object_set_new(b, "prefix", json_string(lp.prefix));
	if (lp.after[0] != '\0') {
		json_object_set_new(b, "key_marker", json_string(lp.after));
		if (lp.has_token && lp.token[0] != '\0')
			json_object_set_new(b, "upload_id_marker",
			    json_string(lp.token));
	}
	od_reg_call(o, "multipart/list", b, 0, uploads_done);
}

/* ---- CompleteMultipartUpload checks ------------------------------------------- */

struct cmpl {
	json_t	*body;		/* for multipart/complete */
	char	 etag[S3_CKSUM_COMPOSITE_MAX + 24];
};

static void
cmpl_free(void *arg)
{
	struct cmpl *c = arg;

	if (c != NULL)
		json_decref(c->body);
	free(c);
}

static void
complete_done(struct oreq *o, int status, json_t *j)
{
	struct cmpl *c = o->ext;
	struct ark_buf out;
	struct s3_xmlw w;

	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_UPLOAD);
		return;
	}
	ark_buf_init(&out, 1 << 16);
	s3_xmlw_init(&w, &out);
	s3_xmlw_start_ns(&w, "CompleteMultipartUploadResult");
	s3_xmlw_elemf(&w, "Location", "/%s/%s", o->r.bucket, o->r.key);
	s3_xmlw_elem(&w, "Bucket", o->r.bucket);
	s3_xmlw_elem(&w, "Key", o->r.key);
	s3_xmlw_elemf(&w, "ETag", "\"%s\"", c->etag);
	s3_xmlw_end(&w);
	od_xml_finish(o, &w, &out);
}

static void
complete_parts_done(struct oreq *o, int status, json_t *j)
{
	struct cmpl *c = o->ext;
	json_t *have = json_object_get(j, "parts"), *want, *p, *h;
	size_t i, k = 0, n;
	int small;

	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_UPLOAD);
		return;
	}
	if (strcmp(od_jstr(j, "bucket"), o->r.bucket) != 0 ||
	    strcmp(od_jstr(j, "key"), o->r.key) != 0) {
		od_error(o, S3_ERR_NO_SUCH_UPLOAD, NULL);
		return;
	}
	want = json_object_get(c->body, "parts");
	n = json_array_size(want);
	/* Both lists ascend by number: a merge pass finds every part
	 * (InvalidPart before EntityTooSmall, whichever part comes first). */
	small = 0;
	json_array_foreach(want, i, p) {
		int64_t num = od_jint(p, "number");

		while ((h = json_array_get(have, k)) != NULL &&
		    od_jint(h, "number") < num)
			k++;
		if (h == NULL || od_jint(h, "number") != num ||
		    strcmp(od_jstr(h, "etag"), od_jstr(p, "etag")) != 0) {
			od_error(o, S3_ERR_INVALID_PART, NULL);
			return;
		}
		if (i + 1 < n && (uint64_t)od_jint(h, "size") < OD_S3_MIN_PART)
			small = 1;
	}
	if (small) {
		od_error(o, S3_ERR_ENTITY_TOO_SMALL, NULL);
		return;
	}
	od_reg_call(o, "multipart/complete", json_incref(c->body), 0,
	    complete_done);
}

void
od_s3_complete(struct oreq *o, json_t *body, const char *etag)
{
	struct cmpl *c = ark_xcalloc(1, sizeof(*c));

	c->body = body;
	snprintf(c->etag, sizeof(c->etag), "%s", etag);
	o->ext = c;
	o->ext_free = cmpl_free;
	od_reg_call(o, "multipart/parts", json_pack("{s:s}", "upload_id",
	    o->r.upload_id), 0, complete_parts_done);
}
