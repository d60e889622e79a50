/*
 * od_s3.c - the S3 front end of arkor-objectd: classifies a request,
 * authenticates it (SigV4/V2 with secrets from the registry's key/get),
 * and runs the operation over the registry and the fragment pipelines.
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

#include "common/buf.h"
#include "common/cksum.h"
#include "common/log.h"
#include "common/util.h"
#include "object/od.h"
#include "object/od_s3.h"
#include "object/s3_checksum.h"
#include "object/s3_chunked.h"
#include "object/s3_error.h"
#include "object/s3_req.h"
#include "object/s3_sigv4.h"
#include "object/s3_uri.h"
#include "object/s3_view.h"
#include "object/s3_xml.h"
#include "object/s3_xmlw.h"

static struct s3_req_cfg	 od_rcfg;
static struct s3_sigv4_cfg	 od_scfg;

static void	put_commit(struct oreq *o);

struct putx {			/* PutObject's and UploadPart's o->ext */
	/* UploadPart: the checksum its upload declared (NONE: none) */
	enum s3_cksum_alg mpu_alg;
	int		 mpu_full;	/* FULL_OBJECT, else COMPOSITE */
	/* The x-amz-checksum-* stored and returned: the request's, or
	 * the one computed here for a FULL_OBJECT upload's part that
	 * came without */
	enum s3_cksum_alg store;
};

/* ---- helpers shared with od_s3_*.c ----------------------------------------- */

/* The response headers S3 stores with an object, by their canonical
 * spelling. */
static const char *const od_stored_names[] = { "Cache-Control",
    "Content-Disposition", "Content-Encoding", "Content-Language",
    "Expires", NULL };

/* Content-Encoding without aws-chunked, which describes the request
 * body only; "" when nothing else is left. */
static void
content_encoding(const char *v, char *out, size_t cap)
{
	char buf[256], *tok, *save = NULL;
	size_t n = 0;

	out[0] = '\0';
	snprintf(buf, sizeof(buf), "%s", v);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (*tok == '\0' || strcasecmp(tok, "aws-chunked") == 0)
			continue;
		n += (size_t)snprintf(out + n, cap - n, "%s%s", n > 0 ? "," :
		    "", tok);
		if (n >= cap - 1)
			break;
	}
}

json_t *
od_s3_stored_headers(const struct s3_view *v)
{
	json_t *h = json_object();
	const char *val;
	char ce[256];
	size_t i;

	for (i = 0; od_stored_names[i] != NULL; i++) {
		if ((val = s3_view_header(v, od_stored_names[i])) == NULL)
			continue;
		if (strcmp(od_stored_names[i], "Content-Encoding") == 0) {
			content_encoding(val, ce, sizeof(ce));
			val = ce[0] != '\0' ? ce : NULL;
		}
		if (val != NULL)
			json_object_set_new(h, od_stored_names[i],
			    json_string(val));
	}
	return h;
}

enum s3_code
od_s3_tagging_header(struct oreq *o, json_t **out)
{
	const char *h = s3_view_header(&o->v, "x-amz-tagging"), *cur;
	struct s3_uri_param p;
	char k[S3_XML_TAG_KEY_CHARS * 4 + 1], v[S3_XML_TAG_VALUE_CHARS * 4 + 1];
	size_t kn, vn, kc, vc;
	json_t *t;

	*out = NULL;
	if (h == NULL)
		return S3_OK;
	t = json_object();
	cur = h;
	while (s3_uri_query_next(&cur, &p)) {
		if (s3_uri_decode_to(p.key, p.keylen, k, sizeof(k), &kn) !=
		    ARK_OK || s3_uri_decode_to(p.val, p.vallen, v, sizeof(v),
		    &vn) != ARK_OK || kn == 0 || !s3_xml_utf8_valid(k, kn, &kc)
		    || !s3_xml_utf8_valid(v, vn, &vc) ||
		    kc > S3_XML_TAG_KEY_CHARS || vc > S3_XML_TAG_VALUE_CHARS ||
		    strlen(k) != kn || strlen(v) != vn ||
		    strncmp(k, "aws:", 4) == 0 ||
		    json_object_get(t, k) != NULL ||
		    json_object_size(t) == S3_XML_MAX_TAGS) {
			json_decref(t);
			return S3_ERR_INVALID_TAG;
		}
		json_object_set_new(t, k, json_string(v));
	}
	*out = t;
	return S3_OK;
}

static void
write_match_done(struct oreq *o, int status, json_t *j)
{
	if (status == 404 && strncmp(od_jstr(j, "message"), "bucket", 6) != 0) {
		od_error(o, S3_ERR_NO_SUCH_KEY, NULL);
		return;
	}
	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_KEY);
		return;
	}
	if (!s3_req_etag_match(s3_view_header(&o->v, "if-match"),
	    od_jstr(j, "etag"))) {
		od_error(o, S3_ERR_PRECONDITION_FAILED, NULL);
		return;
	}
	o->if_version = od_jint(j, "version");
	o->cond_next(o);
}

void
od_s3_write_cond(struct oreq *o, void (*next)(struct oreq *o))
{
	const char *inm = s3_view_header(&o->v, "if-none-match");

	if (inm != NULL) {
		if (strcmp(inm, "*") != 0) {
			od_error(o, S3_ERR_NOT_IMPLEMENTED,
			    "If-None-Match on writes takes only *");
			return;
		}
		o->if_version = 0;
	} else if (s3_view_header(&o->v, "if-match") != NULL) {
		o->cond_next = next;
		od_reg_call(o, "object/get", json_pack("{s:s, s:s}", "bucket",
		    o->r.bucket, "key", o->r.key), 0, write_match_done);
		return;
	}
	next(o);
}

void
od_s3_if_version(const struct oreq *o, json_t *body)
{
	if (o->if_version >= 0)
		json_object_set_new(body, "if_version",
		    json_integer(o->if_version));
}

int
od_s3_other_version(const char *v)
{
	return v != NULL && v[0] != '\0' && strcmp(v, "null") != 0;
}

void
od_s3_owner(struct s3_xmlw *w, const char *user)
{
	s3_xmlw_elem(w, "ID", user);
	s3_xmlw_elem(w, "DisplayName", user);
}

void
od_s3_checksum_headers(struct oreq *o, const json_t *cks, const char *type)
{
	const char *v;
	int a;

	for (a = S3_CKSUM_CRC32; a <= S3_CKSUM_SHA256; a++) {
		if ((v = json_string_value(json_object_get(cks, s3_cksum_key(
		    (enum s3_cksum_alg)a)))) == NULL)
			continue;
		ark_http_resp_header(o->req, s3_cksum_header(
		    (enum s3_cksum_alg)a), v);
		ark_http_resp_header(o->req, "x-amz-checksum-type",
		    type != NULL ? type : strchr(v, '-') != NULL ?
		    "COMPOSITE" : "FULL_OBJECT");
	}
}

void
od_s3_checksum_elems(struct s3_xmlw *w, const json_t *cks)
{
	const char *v;
	char name[32];
	int a;

	for (a = S3_CKSUM_CRC32; a <= S3_CKSUM_SHA256; a++) {
		if ((v = json_string_value(json_object_get(cks, s3_cksum_key(
		    (enum s3_cksum_alg)a)))) == NULL)
			continue;
		snprintf(name, sizeof(name), "Checksum%s", s3_cksum_name(
		    (enum s3_cksum_alg)a));
		s3_xmlw_elem(w, name, v);
	}
}

/* ---- buckets --------------------------------------------------------------- */

static void
list_buckets_done(struct oreq *o, int status, json_t *j)
{
	json_t *arr, *b;
	struct ark_buf out;
	struct s3_xmlw w;
	size_t i;

	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	ark_buf_init(&out, 64u << 20);
	s3_xmlw_init(&w, &out);
	s3_xmlw_start_ns(&w, "ListAllMyBucketsResult");
	s3_xmlw_start(&w, "Owner");
	s3_xmlw_elem(&w, "ID", o->key.user);
	s3_xmlw_elem(&w, "DisplayName", o->key.user);
	s3_xmlw_end(&w);
	s3_xmlw_start(&w, "Buckets");
	arr = json_object_get(j, "buckets");
	json_array_foreach(arr, i, b) {
		s3_xmlw_start(&w, "Bucket");
		s3_xmlw_elem(&w, "Name", od_jstr(b, "name"));
		s3_xmlw_elem_time(&w, "CreationDate",
		    od_jint(b, "created_ms") / 1000);
		s3_xmlw_end(&w);
	}
	s3_xmlw_end(&w);
	s3_xmlw_end(&w);
	od_xml_finish(o, &w, &out);
}

static void
bucket_simple_done(struct oreq *o, int status, json_t *j)
{
	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	switch (o->r.op) {
	case S3_OP_CREATE_BUCKET:
		if (!o->dead) {
			char *loc = ark_xasprintf("/%s", o->r.bucket);

			ark_http_resp_header(o->req, "Location", loc);
			free(loc);
		}
		od_empty_reply(o, 200);
		break;
	case S3_OP_DELETE_BUCKET:
		od_empty_reply(o, 204);
		break;
	case S3_OP_HEAD_BUCKET:
		if (!o->dead)
			ark_http_resp_header(o->req, "x-amz-bucket-region",
			    od_conf.region[0] != '\0' ? od_conf.region : "us-east-1");
		od_empty_reply(o, 200);
		break;
	case S3_OP_GET_BUCKET_LOCATION: {
		struct ark_buf out;
		struct s3_xmlw w;

		ark_buf_init(&out, 4096);
		s3_xmlw_init(&w, &out);
		s3_xmlw_start_ns(&w, "LocationConstraint");
		if (strcmp(od_conf.region, "us-east-1") != 0)
			s3_xmlw_text(&w, od_conf.region, strlen(od_conf.region));
		s3_xmlw_end(&w);
		od_xml_finish(o, &w, &out);
		break;
	}
	default:
		od_error(o, S3_ERR_INTERNAL, NULL);
	}
}

static void
od_bucket_op(struct oreq *o)
{
	json_t *b = json_pack("{s:s}", "bucket", o->r.bucket);

	switch (o->r.op) {
	case S3_OP_CREATE_BUCKET: {
		const char *acl = s3_view_header(&o->v, "x-amz-acl");
		enum s3_acl a = S3_ACL_PRIVATE;
		enum s3_code sc;

		if (acl != NULL && (sc = s3_req_canned_acl(acl, &a)) != S3_OK) {
			json_decref(b);
			od_error(o, sc, NULL);
			return;
		}
		json_object_set_new(b, "acl", json_string(a ==
		    S3_ACL_PUBLIC_READ ? "public-read" : "private"));
		od_reg_call(o, "bucket/create", b, 0, bucket_simple_done);
		return;
	}
	case S3_OP_DELETE_BUCKET:
		od_reg_call(o, "bucket/delete", b, 0, bucket_simple_done);
		return;
	default:
		od_reg_call(o, "bucket/get", b, 0, bucket_simple_done);
		return;
	}
}

/* ---- listing ---------------------------------------------------------------- */

static void
list_done(struct oreq *o, int status, json_t *j)
{
	struct s3_list_params lp;
	json_t *keys, *prefixes, *e;
	struct ark_buf out;
	struct s3_xmlw w;
	int v2 = o->r.op == S3_OP_LIST_OBJECTS_V2, trunc;
	const char *last = NULL;
	size_t i, nk, np;

	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	if (s3_req_list_params(o->r.op, o->v.query, &lp) != S3_OK)
		memset(&lp, 0, sizeof(lp));
	keys = json_object_get(j, "rows");
	prefixes = json_object_get(j, "prefixes");
	trunc = json_is_true(json_object_get(j, "truncated"));
	nk = json_array_size(keys);
	np = json_array_size(prefixes);
	ark_buf_init(&out, 256u << 20);
	s3_xmlw_init(&w, &out);
	s3_xmlw_start_ns(&w, "ListBucketResult");
	s3_xmlw_elem(&w, "Name", o->r.bucket);
	s3_xmlw_elem_key(&w, "Prefix", lp.prefix, strlen(lp.prefix),
	    lp.encoding_url);
	if (lp.delimiter[0] != '\0')
		s3_xmlw_elem_key(&w, "Delimiter", lp.delimiter,
		    strlen(lp.delimiter), lp.encoding_url);
	s3_xmlw_elem_u64(&w, "MaxKeys", lp.max_keys);
	if (lp.encoding_url)
		s3_xmlw_elem(&w, "EncodingType", "url");
	s3_xmlw_elem_bool(&w, "IsTruncated", trunc);
	if (v2) {
		s3_xmlw_elem_u64(&w, "KeyCount", nk + np);
		if (lp.has_token)
			s3_xmlw_elem(&w, "ContinuationToken", lp.token);
		if (lp.after[0] != '\0')
			s3_xmlw_elem_key(&w, "StartAfter", lp.after,
			    strlen(lp.after), lp.encoding_url);
		if (trunc) {
			/* opaque to clients, and XML-safe whatever the key */
			const char *nt = od_jstr(j, "next_token");
			char tok[S3_TOKEN_MAX + 1];

			ark_base64_encode(nt, strnlen(nt, S3_KEY_MAX), tok, 1);
			s3_xmlw_elem(&w, "NextContinuationToken", tok);
		}
	} else
		s3_xmlw_elem_key(&w, "Marker", lp.after, strlen(lp.after),
		    lp.encoding_url);
	json_array_foreach(keys, i, e) {
		struct od_row row;
		const char *k;

		od_list_row(e, &row);
		k = row.key;
		s3_xmlw_start(&w, "Contents");
		s3_xmlw_elem_key(&w, "Key", k, strlen(k), lp.encoding_url);
		s3_xmlw_elem_time(&w, "LastModified", row.mtime_ms / 1000);
		s3_xmlw_elemf(&w, "ETag", "\"%s\"", row.etag);
		s3_xmlw_elem_u64(&w, "Size", row.size);
		s3_xmlw_elem(&w, "StorageClass", "STANDARD");
		if (!v2 || lp.fetch_owner) {
			s3_xmlw_start(&w, "Owner");
			s3_xmlw_elem(&w, "ID", o->key.user);
			s3_xmlw_elem(&w, "DisplayName", o->key.user);
			s3_xmlw_end(&w);
		}
		s3_xmlw_end(&w);
		if (last == NULL || strcmp(k, last) > 0)
			last = k;
	}
	json_array_foreach(prefixes, i, e) {
		const char *k = json_string_value(e);

		if (k == NULL)
			continue;
		s3_xmlw_start(&w, "CommonPrefixes");
		s3_xmlw_elem_key(&w, "Prefix", k, strlen(k), lp.encoding_url);
		s3_xmlw_end(&w);
		if (last == NULL || strcmp(k, last) > 0)
			last = k;
	}
	if (!v2 && trunc && last != NULL)
		s3_xmlw_elem_key(&w, "NextMarker", last, strlen(last),
		    lp.encoding_url);
	s3_xmlw_end(&w);
	od_xml_finish(o, &w, &out);
}

static void
od_list(struct oreq *o)
{
	struct s3_list_params lp;
	enum s3_code sc;
	od_reg_cb cb = o->r.op == S3_OP_LIST_OBJECT_VERSIONS ?
	    od_s3_versions_done : list_done;
	json_t *b;

	if ((sc = s3_req_list_params(o->r.op, o->v.query, &lp)) != S3_OK) {
		od_error(o, sc, NULL);
		return;
	}
	if (o->r.op == S3_OP_LIST_OBJECT_VERSIONS && lp.has_token &&
	    lp.after[0] == '\0') {
		od_error(o, S3_ERR_INVALID_ARGUMENT, "A version-id marker "
		    "cannot be specified without a key marker.");
		return;
	}
	if (lp.max_keys == 0) {
		/* S3 answers an empty, untruncated page. */
		json_t *j = json_pack("{s:[], s:[], s:b}", "rows", "prefixes",
		    "truncated", 0);

		cb(o, 200, j);
		json_decref(j);
		return;
	}
	b = json_pack("{s:s, s:i, s:b}", "bucket", o->r.bucket, "max_keys",
	    (json_int_t)lp.max_keys, "rows", 1);
	if (lp.prefix[0] != '\0')
		json_object_set_new(b, "prefix", json_string(lp.prefix));
	if (lp.delimiter[0] != '\0')
		json_object_set_new(b, "delimiter", json_string(lp.delimiter));
	if (lp.after[0] != '\0')
		json_object_set_new(b, "start_after", json_string(lp.after));
	/* (ListObjectVersions' version-id-marker is no registry token) */
	if (o->r.op == S3_OP_LIST_OBJECTS_V2 && lp.has_token &&
	    lp.token[0] != '\0') {
		char key[S3_KEY_MAX + 1];
		json_t *t = NULL;
		size_t n;

		if (ark_base64_decode(lp.token, strlen(lp.token), key,
		    S3_KEY_MAX, &n, 1) == ARK_OK && n > 0 &&
		    memchr(key, '\0', n) == NULL) {
			key[n] = '\0';
			t = json_string(key);	/* NULL: not UTF-8 */
		}
		if (t == NULL) {
			json_decref(b);
			od_error(o, S3_ERR_INVALID_ARGUMENT, "The continuation "
			    "token provided is incorrect");
			return;
		}
		json_object_set_new(b, "token", t);
	}
	od_reg_call(o, "list", b, 0, cb);
}

/* ---- DeleteObject ------------------------------------------------------------ */

/* An object/delete answer that leaves nothing to do: the key deleted or
 * missing, or, for another version (delete_body), kept by if_version 0. */
static int
delete_ok(const char *version, int status, json_t *j)
{
	return status == 200 || (status == 404 && strncmp(od_jstr(j,
	    "message"), "bucket", 6) != 0) || (status == 412 &&
	    od_s3_other_version(version));
}

/* The object/delete of a key, only of version if_version when >= 0
 * (If-Match). AWS deletes only the version named, and an unversioned
 * bucket has none but "null": another deletes nothing. if_version 0
 * (the key must not exist) makes sure of that, while the registry still
 * checks the bucket and the caller's right to write. */
static json_t *
delete_body(struct oreq *o, const char *key, const char *version,
    int64_t if_version)
{
	json_t *b = json_pack("{s:s, s:s}", "bucket", o->r.bucket, "key", key);

	if (od_s3_other_version(version))
		if_version = 0;
	if (if_version >= 0)
		json_object_set_new(b, "if_version", json_integer(if_version));
	return b;
}

static void
delete_done(struct oreq *o, int status, json_t *j)
{
	if (!delete_ok(o->r.version_id, status, j)) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	od_empty_reply(o, 204);
}

static void
delete_go(struct oreq *o)
{
	od_reg_call(o, "object/delete", delete_body(o, o->r.key,
	    o->r.version_id, o->if_version), 0, delete_done);
}

/* DeleteObject: If-Match as a conditional write, on the current object
 * only (another version deletes nothing whatever its conditions). */
static void
od_delete(struct oreq *o)
{
	if (od_s3_other_version(o->r.version_id))
		delete_go(o);
	else
		od_s3_write_cond(o, delete_go);
}


static void
commit_done(struct oreq *o, int status, json_t *j)
{
	struct putx *px = o->ext;
	char etag[40], hex[33], b64[S3_CKSUM_B64_MAX];

	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	if (o->dead || o->replied)
		return;
	if (s3_cksum_hex(o->ck, S3_CKSUM_MD5, hex) == ARK_OK) {
		snprintf(etag, sizeof(etag), "\"%s\"", hex);
		ark_http_resp_header(o->req, "ETag", etag);
	}
	if (px->store != S3_CKSUM_NONE &&
	    s3_cksum_b64(o->ck, px->store, b64) == ARK_OK)
		ark_http_resp_header(o->req, s3_cksum_header(px->store), b64);
	od_empty_reply(o, 200);
}

static void
put_commit(struct oreq *o)
{
	struct putx *px = o->ext;
	json_t *b, *frags = od_put_fragments(o), *cks = NULL;
	char hex[33], b64[S3_CKSUM_B64_MAX];

	if (s3_cksum_hex(o->ck, S3_CKSUM_MD5, hex) != ARK_OK)
		hex[0] = '\0';
	b = json_pack("{s:s, s:s, s:I, s:s, s:s, s:O, s:o}", "bucket",
	    o->r.bucket, "key", o->r.key, "size", (json_int_t)o->total,
	    "etag", hex, "content_type", o->ctype, "user_meta", o->meta,
	    "fragments", frags);
	if (px->store != S3_CKSUM_NONE &&
	    s3_cksum_b64(o->ck, px->store, b64) == ARK_OK)
		cks = json_pack("{s:s}", s3_cksum_key(px->store), b64);
	if (o->r.op == S3_OP_PUT_OBJECT) {
		json_t *tags = NULL;

		json_object_set_new(b, "headers", od_s3_stored_headers(&o->v));
		if (od_s3_tagging_header(o, &tags) == S3_OK && tags != NULL)
			json_object_set_new(b, "tags", tags);
		od_s3_if_version(o, b);
	}
	if (o->r.op == S3_OP_UPLOAD_PART) {
		json_t *pb = json_pack("{s:s, s:i, s:I, s:s, s:O}",
		    "upload_id", o->r.upload_id, "number",
		    (int)o->r.part_number, "size", (json_int_t)o->total,
		    "etag", hex, "fragments", json_object_get(b, "fragments"));

		json_decref(b);
		if (cks != NULL)
			json_object_set_new(pb, "checksums", cks);
		od_reg_call(o, "multipart/part", pb, 0, commit_done);
		return;
	}
	if (cks != NULL)
		json_object_set_new(b, "checksums", cks);
	od_reg_call(o, "object/put", b, 0, commit_done);
}

static void	od_put_body(struct oreq *o);

/* UploadPart: the upload's declared checksum (and whether it is this
 * key's upload) comes first, so that the part is checked against it. */
static void
part_upload_done(struct oreq *o, int status, json_t *j)
{
	struct putx *px = o->ext;

	if (od_s3_upload_check(o, status, j, &px->mpu_alg, &px->mpu_full) == 0)
		od_put_body(o);
}

/* Which checksum an UploadPart stores (px->store), as AWS decides: the
 * upload's algorithm or none; a FULL_OBJECT upload's part without one
 * gets it computed here, a COMPOSITE upload's part must carry it. */
static enum s3_code
part_cksum(struct oreq *o, struct putx *px, char *msg, size_t cap)
{
	if (px->mpu_alg == S3_CKSUM_NONE || o->ckr.alg == px->mpu_alg)
		return S3_OK;
	if (o->ckr.alg == S3_CKSUM_NONE && px->mpu_full) {
		px->store = px->mpu_alg;
		return S3_OK;
	}
	snprintf(msg, cap, "Checksum Type mismatch occurred, expected "
	    "checksum Type: %s, actual checksum Type: %s",
	    s3_cksum_key(px->mpu_alg), o->ckr.alg == S3_CKSUM_NONE ? "null" :
	    s3_cksum_key(o->ckr.alg));
	return S3_ERR_INVALID_REQUEST;
}

static void
od_put_start(struct oreq *o)
{
	struct putx *px;
	json_t *tags = NULL;
	enum s3_code sc;

	px = ark_xcalloc(1, sizeof(*px));
	o->ext = px;
	o->ext_free = free;
	if (o->r.op == S3_OP_UPLOAD_PART) {
		od_reg_call(o, "multipart/get", json_pack("{s:s}", "upload_id",
		    o->r.upload_id), 0, part_upload_done);
		return;
	}
	if (o->r.op == S3_OP_PUT_OBJECT) {
		if ((sc = od_s3_tagging_header(o, &tags)) != S3_OK) {
			od_error(o, sc, NULL);
			return;
		}
		json_decref(tags);
		od_s3_write_cond(o, od_put_body);
		return;
	}
	od_put_body(o);
}

static void
od_put_body(struct oreq *o)
{
	struct putx *px = o->ext;
	const char *ct, *dl;
	enum s3_code sc;
	unsigned mask;
	char msg[160];
	int streaming = o->a.payload == S3_PAYLOAD_STREAMING_SIGNED ||
	    o->a.payload == S3_PAYLOAD_STREAMING_SIGNED_TRAILER ||
	    o->a.payload == S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER;

	if ((sc = s3_cksum_parse_request(&o->v, &o->ckr)) != S3_OK) {
		od_error(o, sc, NULL);
		return;
	}
	px->store = o->ckr.alg;
	if ((sc = part_cksum(o, px, msg, sizeof(msg))) != S3_OK) {
		od_error(o, sc, msg);
		return;
	}
	mask = s3_cksum_req_mask(&o->ckr) | (px->store != S3_CKSUM_NONE ?
	    S3_CKSUM_BIT(px->store) : 0);
	if (o->a.payload == S3_PAYLOAD_SHA256)
		mask |= S3_CKSUM_BIT(S3_CKSUM_SHA256);
	if (s3_cksum_new(mask, &o->ck) != ARK_OK) {
		od_error(o, S3_ERR_INTERNAL, NULL);
		return;
	}
	o->declared = ark_http_req_content_length(o->req);
	if (ark_http_req_is_chunked(o->req))
		o->declared = -1;
	else if (ark_http_req_header(o->req, "content-length") == NULL) {
		/* neither a length nor chunks: S3 wants the length */
		od_error(o, S3_ERR_MISSING_CONTENT_LENGTH, NULL);
		return;
	}
	if (streaming) {
		dl = s3_view_header(&o->v, "x-amz-decoded-content-length");
		o->declared = dl != NULL ? strtoll(dl, NULL, 10) : -1;
		if (o->declared < -1)
			o->declared = -1;
		if ((sc = s3_chunked_new(&o->a, o->declared, od_put_data, o,
		    &o->ch)) != S3_OK) {
			od_error(o, sc, NULL);
			return;
		}
	}
	if (o->declared > OD_S3_MAX_OBJECT) {
		od_error(o, S3_ERR_ENTITY_TOO_LARGE, NULL);
		return;
	}
	if (o->r.op == S3_OP_PUT_OBJECT &&
	    ((sc = od_user_meta_check(&o->v)) != S3_OK ||
	    (sc = od_storage_class_check(&o->v)) != S3_OK)) {
		od_error(o, sc, NULL);
		return;
	}
	ct = s3_view_header(&o->v, "content-type");
	o->ctype = ark_xstrdup(ct != NULL ? ct : "binary/octet-stream");
	o->meta = od_user_meta(&o->v);
	o->commit = put_commit;
	od_put_stream(o);
}


/* GET/HEAD with partNumber: the part's byte range of a multipart object
 * (x-amz-mp-parts-count), or the whole object as part 1 of others. */
static enum s3_code
get_part_range(struct oreq *o, const json_t *j, uint64_t size,
    struct s3_range *rg)
{
	json_t *parts = json_object_get(j, "parts"), *p;
	uint64_t off = 0;
	size_t i, n = json_array_size(parts);
	char buf[24];

	if (s3_view_header(&o->v, "range") != NULL)
		return S3_ERR_INVALID_REQUEST;
	if (n == 0) {
		if (o->r.part_number != 1)
			return S3_ERR_INVALID_PART_NUMBER;
		rg->set = size > 0;
		rg->start = 0;
		rg->end = size - 1;
		return S3_OK;
	}
	if (o->r.part_number > n)
		return S3_ERR_INVALID_PART_NUMBER;
	json_array_foreach(parts, i, p) {
		uint64_t psz = (uint64_t)od_jint(p, "size");

		if (i + 1 == o->r.part_number) {
			rg->set = psz > 0;
			rg->start = off;
			rg->end = off + psz - 1;
			break;
		}
		off += psz;
	}
	snprintf(buf, sizeof(buf), "%zu", n);
	ark_http_resp_header(o->req, "x-amz-mp-parts-count", buf);
	return S3_OK;
}

static const char *const get_override_names[] = { "Content-Type",
    "Cache-Control", "Content-Disposition", "Content-Encoding",
    "Content-Language", "Expires", NULL };

/* The response-* query parameter of names[i], lower-case, into q. */
static void
get_override_param(size_t i, char q[40])
{
	size_t k;

	snprintf(q, 40, "response-%s", get_override_names[i]);
	for (k = 0; q[k] != '\0'; k++)
		q[k] = (char)tolower((unsigned char)q[k]);
}

/* 1 when the query asks to override a response header. */
static int
get_overrides(const struct oreq *o)
{
	char q[40];
	size_t i;

	for (i = 0; get_override_names[i] != NULL; i++) {
		get_override_param(i, q);
		if (s3_uri_query_has(o->v.query, q))
			return 1;
	}
	return 0;
}

/* Stored headers, each overridable on GET by its response-* query
 * parameter (signed requests only: S3 refuses them on anonymous ones). */
static void
get_headers(struct oreq *o, const json_t *j)
{
	const char *const *names = get_override_names;
	json_t *hs = json_object_get(j, "headers");
	const char *v, *ct = od_jstr(j, "content_type");
	char q[40], val[1024];
	size_t i;

	for (i = 0; names[i] != NULL; i++) {
		get_override_param(i, q);
		if (o->have_key && s3_uri_query_get(o->v.query, q, val,
		    sizeof(val)) == ARK_OK)
			v = val;
		else if (i == 0)
			v = ct[0] != '\0' ? ct : "binary/octet-stream";
		else
			v = json_string_value(json_object_get(hs, names[i]));
		if (v != NULL)
			ark_http_resp_header(o->req, names[i], v);
	}
}

/* x-amz-checksum-mode: ENABLED. A whole object (part 1 of a single-part
 * one included) has its stored checksum; a part of a multipart object
 * its own when the object's is COMPOSITE (a checksum of the parts'),
 * as S3 answers; a range nothing. */
static void
get_checksum_headers(struct oreq *o, const json_t *j, const struct s3_range *rg)
{
	json_t *cks = json_object_get(j, "checksums"), *parts, *p;
	const char *k, *v;
	json_t *e;

	parts = json_object_get(j, "parts");
	if (!rg->set || (o->r.part_number > 0 && json_array_size(parts) == 0)) {
		od_s3_checksum_headers(o, cks, NULL);
		return;
	}
	if (o->r.part_number == 0)
		return;
	json_object_foreach(cks, k, e)
		if ((v = json_string_value(e)) != NULL && strchr(v, '-') != NULL &&
		    (p = json_array_get(parts, o->r.part_number - 1)) != NULL) {
			od_s3_checksum_headers(o, json_object_get(p, "checksums"),
			    "COMPOSITE");
			return;
		}
}

static void
get_done(struct oreq *o, int status, json_t *j)
{
	const char *etag, *key, *cm;
	json_t *meta, *v;
	struct s3_range rg;
	enum s3_code sc;
	uint64_t size, len;
	int64_t mtime;
	char buf[128];
	int head = o->r.op == S3_OP_HEAD_OBJECT;

	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_KEY);
		return;
	}
	if (o->dead)
		return;
	o->obj = json_incref(j);
	etag = od_jstr(j, "etag");
	size = (uint64_t)od_jint(j, "size");
	mtime = od_jint(j, "mtime_ms") / 1000;
	if ((sc = s3_req_conditions(&o->v, etag, mtime, 1)) != S3_OK) {
		if (sc == S3_ERR_NOT_MODIFIED) {
			snprintf(buf, sizeof(buf), "\"%s\"", etag);
			ark_http_resp_header(o->req, "ETag", buf);
		}
		od_error(o, sc, NULL);
		return;
	}
	if (o->r.part_number > 0) {
		memset(&rg, 0, sizeof(rg));
		if ((sc = get_part_range(o, j, size, &rg)) != S3_OK) {
			od_error(o, sc, NULL);
			return;
		}
	} else if ((sc = s3_req_range(s3_view_header(&o->v, "range"), size,
	    &rg)) != S3_OK) {
		snprintf(buf, sizeof(buf), "bytes */%" PRIu64, size);
		ark_http_resp_header(o->req, "Content-Range", buf);
		od_error(o, sc, NULL);
		return;
	}
	if (!rg.set) {
		rg.start = 0;
		rg.end = size - 1;	/* wraps for 0: nothing to send */
	}
	len = size == 0 ? 0 : rg.end - rg.start + 1;
	od_headers_common(o);
	snprintf(buf, sizeof(buf), "\"%s\"", etag);
	ark_http_resp_header(o->req, "ETag", buf);
	ark_http_date(mtime, buf, sizeof(buf));
	ark_http_resp_header(o->req, "Last-Modified", buf);
	get_headers(o, j);
	ark_http_resp_header(o->req, "Accept-Ranges", "bytes");
	if (rg.set) {
		snprintf(buf, sizeof(buf), "bytes %" PRIu64 "-%" PRIu64 "/%"
		    PRIu64, rg.start, rg.end, size);
		ark_http_resp_header(o->req, "Content-Range", buf);
	}
	cm = s3_view_header(&o->v, "x-amz-checksum-mode");
	if (cm != NULL && strcasecmp(cm, "ENABLED") == 0)
		get_checksum_headers(o, j, &rg);
	if (json_object_size(json_object_get(j, "tags")) > 0) {
		snprintf(buf, sizeof(buf), "%zu", json_object_size(
		    json_object_get(j, "tags")));
		ark_http_resp_header(o->req, "x-amz-tagging-count", buf);
	}
	meta = json_object_get(j, "user_meta");
	json_object_foreach(meta, key, v) {
		char name[300];

		if (!json_is_string(v))
			continue;
		snprintf(name, sizeof(name), "x-amz-meta-%s", key);
		ark_http_resp_header(o->req, name, json_string_value(v));
	}
	o->replied = 1;
	if (head || len == 0) {
		ark_http_reply_start(o->req, rg.set ? 206 : 200, (int64_t)len);
		ark_http_reply_end(o->req);
		return;
	}
	od_get_stream(o, rg.set ? 206 : 200, rg.start, rg.end);
}


/* ---- DeleteObjects ------------------------------------------------------------ */

static void	delm_next(struct oreq *o);

/* An entry's result from a registry answer that deleted nothing. */
static enum s3_code
delm_code(const struct s3_xml_delete_obj *d, int status, json_t *j)
{
	if (delete_ok(d->version_id, status, j))
		return S3_OK;
	switch (status) {
	case 404:
		return S3_ERR_NO_SUCH_BUCKET;
	case 401:
	case 403:
		return S3_ERR_ACCESS_DENIED;
	case 412:
		return S3_ERR_PRECONDITION_FAILED;
	default:
		return S3_ERR_INTERNAL;
	}
}

static void
delm_result(struct oreq *o, enum s3_code sc)
{
	o->dres[o->di++] = (int)sc;
	delm_next(o);
}

/* A missing bucket fails the whole request (S3: 404 NoSuchBucket). */
static int
delm_no_bucket(struct oreq *o, int status, json_t *j)
{
	if (status != 404 || strncmp(od_jstr(j, "message"), "bucket", 6) != 0)
		return 0;
	od_error(o, S3_ERR_NO_SUCH_BUCKET, NULL);
	return 1;
}

static void
delm_done(struct oreq *o, int status, json_t *j)
{
	if (!delm_no_bucket(o, status, j))
		delm_result(o, delm_code(&o->dl.objs[o->di], status, j));
}

/* An entry with an <ETag>: deleted only in the version whose ETag
 * matched, as DeleteObject with If-Match. */
static void
delm_match_done(struct oreq *o, int status, json_t *j)
{
	const struct s3_xml_delete_obj *d = &o->dl.objs[o->di];

	if (delm_no_bucket(o, status, j))
		return;
	if (status == 404)
		delm_result(o, S3_ERR_NO_SUCH_KEY);
	else if (status != 200)
		delm_result(o, delm_code(d, status, j));
	else if (!s3_req_etag_match(d->etag, od_jstr(j, "etag")))
		delm_result(o, S3_ERR_PRECONDITION_FAILED);
	else
		od_reg_call(o, "object/delete", delete_body(o, d->key,
		    d->version_id, od_jint(j, "version")), 0, delm_done);
}

static void
delm_next(struct oreq *o)
{
	const struct s3_xml_delete_obj *d;
	struct ark_buf out;
	struct s3_xmlw w;
	size_t i;

	if (o->di < o->dl.nobjs) {
		enum s3_code sc;

		d = &o->dl.objs[o->di];
		if ((sc = s3_req_key_check(d->key, strlen(d->key))) != S3_OK)
			delm_result(o, sc);	/* no registry could take it */
		else if (d->etag != NULL && !od_s3_other_version(d->version_id))
			od_reg_call(o, "object/get", json_pack("{s:s, s:s}",
			    "bucket", o->r.bucket, "key", d->key), 0,
			    delm_match_done);
		else
			od_reg_call(o, "object/delete", delete_body(o, d->key,
			    d->version_id, -1), 0, delm_done);
		return;
	}
	ark_buf_init(&out, 16u << 20);
	s3_xmlw_init(&w, &out);
	s3_xmlw_start_ns(&w, "DeleteResult");
	for (i = 0; i < o->dl.nobjs; i++) {
		const char *k = o->dl.objs[i].key;

		if (o->dres[i] == 0) {
			if (o->dl.quiet)
				continue;
			s3_xmlw_start(&w, "Deleted");
			s3_xmlw_elem(&w, "Key", k);
			if (o->dl.objs[i].version_id != NULL)
				s3_xmlw_elem(&w, "VersionId",
				    o->dl.objs[i].version_id);
			s3_xmlw_end(&w);
			continue;
		}
		s3_xmlw_start(&w, "Error");
		s3_xmlw_elem(&w, "Key", k);
		s3_xmlw_elem(&w, "Code", s3_code_name(o->dres[i]));
		s3_xmlw_elem(&w, "Message", s3_code_message(o->dres[i]));
		s3_xmlw_end(&w);
	}
	s3_xmlw_end(&w);
	od_xml_finish(o, &w, &out);
}

static void
xbody_data(struct ark_http_req *req, const void *d, size_t len, void *arg)
{
	struct oreq *o = arg;

	(void)req;
	if (o->err == S3_OK && (ark_buf_append(&o->body, d, len) != ARK_OK ||
	    s3_cksum_update(o->ck, d, len) != ARK_OK))
		od_put_fail(o, S3_ERR_MALFORMED_XML, "body too large");
}

static void
xbody_end(struct ark_http_req *req, void *arg)
{
	struct oreq *o = arg;
	enum s3_code sc = S3_OK;
	unsigned char sha[32];

	(void)req;
	if (o->err != S3_OK)
		return;
	if (s3_cksum_final(o->ck) != ARK_OK)
		sc = S3_ERR_INTERNAL;
	if (sc == S3_OK)
		sc = s3_cksum_verify(&o->ckr, o->ck);
	if (sc == S3_OK && o->a.payload == S3_PAYLOAD_SHA256) {
		if (s3_cksum_raw(o->ck, S3_CKSUM_SHA256, sha) != 32)
			sc = S3_ERR_INTERNAL;
		else
			sc = s3_sigv4_check_payload(&o->a, sha);
	}
	if (sc != S3_OK) {
		od_put_fail(o, sc, NULL);
		return;
	}
	o->commit(o);
}

void
od_s3_read_body(struct oreq *o, size_t max, void (*done)(struct oreq *o))
{
	enum s3_code sc;
	unsigned mask;

	if (o->a.payload != S3_PAYLOAD_SHA256 &&
	    o->a.payload != S3_PAYLOAD_UNSIGNED &&
	    o->a.payload != S3_PAYLOAD_NONE) {
		od_error(o, S3_ERR_NOT_IMPLEMENTED, "aws-chunked XML body");
		return;
	}
	if ((sc = s3_cksum_parse_request(&o->v, &o->ckr)) != S3_OK) {
		od_error(o, sc, NULL);
		return;
	}
	mask = s3_cksum_req_mask(&o->ckr) | S3_CKSUM_BIT(S3_CKSUM_SHA256);
	if (s3_cksum_new(mask, &o->ck) != ARK_OK) {
		od_error(o, S3_ERR_INTERNAL, NULL);
		return;
	}
	if (ark_http_req_set_max_body(o->req, max) != ARK_OK) {
		od_error(o, S3_ERR_MALFORMED_XML, "body too large");
		return;
	}
	ark_buf_init(&o->body, max);
	o->commit = done;
	ark_http_req_on_body(o->req, xbody_data, xbody_end, o);
}

static void
delm_parsed(struct oreq *o)
{
	enum s3_code sc;

	if ((sc = s3_xml_parse_delete(ark_buf_str(&o->body),
	    ark_buf_len(&o->body), &o->dl)) != S3_OK) {
		od_put_fail(o, sc, NULL);
		return;
	}
	o->dres = ark_xcalloc(o->dl.nobjs + 1, sizeof(*o->dres));
	o->di = 0;
	delm_next(o);
}

/* DeleteObjects: the XML body (Content-MD5 or x-amz-checksum-* verified
 * when sent), then one object/delete per key, in order. */
static void
od_delete_multi(struct oreq *o)
{
	od_s3_read_body(o, S3_XML_MAX_DELETE, delm_parsed);
}

/* ---- multipart uploads ------------------------------------------------------ */

static void
mpu_create_done(struct oreq *o, int status, json_t *j)
{
	struct ark_buf out;
	struct s3_xmlw w;
	enum s3_cksum_alg alg;
	int full;

	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	/* parsed before the call: S3_OK */
	if (s3_cksum_parse_mpu(&o->v, &alg, &full) == S3_OK &&
	    alg != S3_CKSUM_NONE) {
		ark_http_resp_header(o->req, "x-amz-checksum-algorithm",
		    s3_cksum_name(alg));
		ark_http_resp_header(o->req, "x-amz-checksum-type", full ?
		    "FULL_OBJECT" : "COMPOSITE");
	}
	ark_buf_init(&out, 1 << 16);
	s3_xmlw_init(&w, &out);
	s3_xmlw_start_ns(&w, "InitiateMultipartUploadResult");
	s3_xmlw_elem(&w, "Bucket", o->r.bucket);
	s3_xmlw_elem(&w, "Key", o->r.key);
	s3_xmlw_elem(&w, "UploadId", od_jstr(j, "upload_id"));
	s3_xmlw_end(&w);
	od_xml_finish(o, &w, &out);
}

static void
mpu_body(struct ark_http_req *req, const void *d, size_t len, void *arg)
{
	struct oreq *o = arg;

	(void)req;
	if (o->err == S3_OK && ark_buf_append(&o->body, d, len) != ARK_OK)
		od_put_fail(o, S3_ERR_MALFORMED_XML, "body too large");
}

/* CompleteMultipartUpload: the S3 ETag is the MD5 of the parts' binary
 * MD5s, "-<n>"; od_s3_complete checks the parts and their checksums, the
 * registry the parts and their ETags again. */
static void
mpu_end(struct ark_http_req *req, void *arg)
{
	struct oreq *o = arg;
	struct s3_xml_complete c;
	struct s3_cksum *ck = NULL;
	char etag[S3_CKSUM_COMPOSITE_MAX + 24];
	enum s3_code sc;
	size_t i;

	(void)req;
	if (o->err != S3_OK)
		return;
	/* x-amz-checksum-* of this request name the object's checksum, so
	 * only a signed payload hash speaks about the XML body itself */
	if (o->a.payload == S3_PAYLOAD_SHA256) {
		unsigned char sha[32];

		if (ark_hash(ARK_HASH_SHA256, ark_buf_str(&o->body),
		    ark_buf_len(&o->body), sha) != ARK_OK)
			sc = S3_ERR_INTERNAL;
		else
			sc = s3_sigv4_check_payload(&o->a, sha);
		if (sc != S3_OK) {
			od_put_fail(o, sc, NULL);
			return;
		}
	}
	memset(&c, 0, sizeof(c));
	if ((sc = s3_xml_parse_complete(ark_buf_str(&o->body),
	    ark_buf_len(&o->body), &c)) != S3_OK) {
		s3_xml_complete_free(&c);
		od_put_fail(o, sc, NULL);
		return;
	}
	if (s3_cksum_new(S3_CKSUM_BIT(S3_CKSUM_MD5), &ck) != ARK_OK) {
		s3_xml_complete_free(&c);
		od_put_fail(o, S3_ERR_INTERNAL, NULL);
		return;
	}
	for (i = 0; i < c.nparts; i++)
		if (s3_cksum_composite_add(ck, S3_CKSUM_MD5,
		    c.parts[i].etag) != ARK_OK)
			sc = S3_ERR_INVALID_PART;
	if (sc == S3_OK && (s3_cksum_final(ck) != ARK_OK ||
	    s3_cksum_composite_str(ck, S3_CKSUM_MD5, (unsigned)c.nparts, etag,
	    sizeof(etag)) != ARK_OK))
		sc = S3_ERR_INTERNAL;
	s3_cksum_free(ck);
	if (sc != S3_OK) {
		s3_xml_complete_free(&c);
		od_put_fail(o, sc, NULL);
		return;
	}
	od_s3_complete(o, &c, etag);
}

static void
mpu_abort_done(struct oreq *o, int status, json_t *j)
{
	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_UPLOAD);
		return;
	}
	od_empty_reply(o, 204);
}

static void
od_mpu(struct oreq *o)
{
	const char *ct = s3_view_header(&o->v, "content-type");
	enum s3_cksum_alg alg;
	enum s3_code sc;
	json_t *b;
	int full;

	switch (o->r.op) {
	case S3_OP_CREATE_MULTIPART_UPLOAD:
		if (s3_view_header(&o->v, "x-amz-tagging") != NULL) {
			od_error(o, S3_ERR_NOT_IMPLEMENTED,
			    "x-amz-tagging on CreateMultipartUpload");
			return;
		}
		if ((sc = od_user_meta_check(&o->v)) != S3_OK ||
		    (sc = od_storage_class_check(&o->v)) != S3_OK) {
			od_error(o, sc, NULL);
			return;
		}
		if ((sc = s3_cksum_parse_mpu(&o->v, &alg, &full)) != S3_OK) {
			od_error(o, sc, "x-amz-checksum-algorithm and "
			    "x-amz-checksum-type: CRC32 or CRC32C COMPOSITE or "
			    "FULL_OBJECT, SHA1 or SHA256 COMPOSITE, CRC64NVME "
			    "FULL_OBJECT");
			return;
		}
		b = json_pack("{s:s, s:s, s:s, s:o, s:o}", "bucket", o->r.bucket,
		    "key", o->r.key, "content_type", ct != NULL ? ct :
		    "binary/octet-stream", "user_meta", od_user_meta(&o->v),
		    "headers", od_s3_stored_headers(&o->v));
		if (alg != S3_CKSUM_NONE) {
			json_object_set_new(b, "checksum_algorithm",
			    json_string(s3_cksum_name(alg)));
			json_object_set_new(b, "checksum_type", json_string(full ?
			    "FULL_OBJECT" : "COMPOSITE"));
		}
		od_reg_call(o, "multipart/create", b, 0, mpu_create_done);
		return;
	case S3_OP_COMPLETE_MULTIPART_UPLOAD:
		if (ark_http_req_set_max_body(o->req, S3_XML_MAX_COMPLETE) !=
		    ARK_OK) {
			od_error(o, S3_ERR_MALFORMED_XML, "body too large");
			return;
		}
		ark_buf_init(&o->body, S3_XML_MAX_COMPLETE);
		ark_http_req_on_body(o->req, mpu_body, mpu_end, o);
		return;
	case S3_OP_ABORT_MULTIPART_UPLOAD:
		od_reg_call(o, "multipart/abort", json_pack("{s:s, s:s, s:s}",
		    "upload_id", o->r.upload_id, "bucket", o->r.bucket, "key",
		    o->r.key), 0, mpu_abort_done);
		return;
	default:
		od_error(o, S3_ERR_NOT_IMPLEMENTED, s3_op_name(o->r.op));
	}
}


/* ---- dispatch -------------------------------------------------------------------- */

/* Reads and tagging of a version other than "null" (od_s3_other_version)
 * name nothing: NoSuchVersion, answered here. 1 when answered. */
static int
od_version_missing(struct oreq *o)
{
	if (!od_s3_other_version(o->r.version_id))
		return 0;
	switch (o->r.op) {
	case S3_OP_GET_OBJECT:
	case S3_OP_HEAD_OBJECT:
	case S3_OP_GET_OBJECT_ATTRIBUTES:
	case S3_OP_GET_OBJECT_TAGGING:
	case S3_OP_PUT_OBJECT_TAGGING:
	case S3_OP_DELETE_OBJECT_TAGGING:
	case S3_OP_GET_OBJECT_ACL:
		od_error(o, S3_ERR_NO_SUCH_VERSION, NULL);
		return 1;
	default:
		return 0;
	}
}

static void
od_dispatch(struct oreq *o)
{
	if (od_version_missing(o))
		return;
	switch (o->r.op) {
	case S3_OP_LIST_BUCKETS:
		od_reg_call(o, "bucket/list", json_pack("{s:s}", "owner",
		    o->key.user), 0, list_buckets_done);
		return;
	case S3_OP_CREATE_BUCKET:
	case S3_OP_DELETE_BUCKET:
	case S3_OP_HEAD_BUCKET:
	case S3_OP_GET_BUCKET_LOCATION:
		od_bucket_op(o);
		return;
	case S3_OP_LIST_OBJECTS:
	case S3_OP_LIST_OBJECTS_V2:
	case S3_OP_LIST_OBJECT_VERSIONS:
		od_list(o);
		return;
	case S3_OP_GET_BUCKET_CONFIG:
	case S3_OP_DELETE_BUCKET_CONFIG:
		od_s3_bucket_config(o);
		return;
	case S3_OP_GET_BUCKET_TAGGING:
	case S3_OP_PUT_BUCKET_TAGGING:
	case S3_OP_DELETE_BUCKET_TAGGING:
		od_s3_bucket_tagging(o);
		return;
	case S3_OP_GET_BUCKET_CORS:
	case S3_OP_PUT_BUCKET_CORS:
	case S3_OP_DELETE_BUCKET_CORS:
		od_s3_cors(o);
		return;
	case S3_OP_GET_OBJECT_ATTRIBUTES:
		od_s3_attributes(o);
		return;
	case S3_OP_GET_OBJECT_TAGGING:
	case S3_OP_PUT_OBJECT_TAGGING:
	case S3_OP_DELETE_OBJECT_TAGGING:
		od_s3_tagging(o);
		return;
	case S3_OP_GET_BUCKET_ACL:
	case S3_OP_PUT_BUCKET_ACL:
	case S3_OP_GET_OBJECT_ACL:
	case S3_OP_PUT_OBJECT_ACL:
		od_s3_acl(o);
		return;
	case S3_OP_PUT_OBJECT:
	case S3_OP_UPLOAD_PART:
		od_put_start(o);
		return;
	case S3_OP_CREATE_MULTIPART_UPLOAD:
	case S3_OP_COMPLETE_MULTIPART_UPLOAD:
	case S3_OP_ABORT_MULTIPART_UPLOAD:
		od_mpu(o);
		return;
	case S3_OP_COPY_OBJECT:
	case S3_OP_UPLOAD_PART_COPY:
		od_s3_copy(o);
		return;
	case S3_OP_LIST_PARTS:
		od_s3_list_parts(o);
		return;
	case S3_OP_LIST_MULTIPART_UPLOADS:
		od_s3_list_uploads(o);
		return;
	case S3_OP_GET_OBJECT:
	case S3_OP_HEAD_OBJECT:
		if (!o->have_key && get_overrides(o)) {
			od_error(o, S3_ERR_INVALID_REQUEST, "Request specific "
			    "response headers cannot be used for anonymous GET "
			    "requests.");
			return;
		}
		od_reg_call(o, "object/get", json_pack("{s:s, s:s, s:b}", "bucket",
		    o->r.bucket, "key", o->r.key, "tokens", o->r.op ==
		    S3_OP_GET_OBJECT), 0, get_done);
		return;
	case S3_OP_DELETE_OBJECTS:
		od_delete_multi(o);
		return;
	case S3_OP_DELETE_OBJECT:
		od_delete(o);
		return;
	default:
		od_error(o, S3_ERR_NOT_IMPLEMENTED, s3_op_name(o->r.op));
	}
}

/* Anonymous requests: reads of public-read buckets only. The registry
 * calls then go as the service, and listings name the bucket's owner. */
static void
anon_bucket_done(struct oreq *o, int status, json_t *j)
{
	if (status == 404) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	if (status != 200 || strcmp(od_jstr(j, "acl"), "public-read") != 0) {
		od_error(o, S3_ERR_ACCESS_DENIED, NULL);
		return;
	}
	snprintf(o->key.user, sizeof(o->key.user), "%s", od_jstr(j, "owner"));
	od_dispatch(o);
}

static void
od_anon(struct oreq *o)
{
	switch (o->r.op) {
	case S3_OP_GET_OBJECT:
	case S3_OP_HEAD_OBJECT:
	case S3_OP_HEAD_BUCKET:
	case S3_OP_LIST_OBJECTS:
	case S3_OP_LIST_OBJECTS_V2:
	case S3_OP_LIST_OBJECT_VERSIONS:
		od_reg_call(o, "bucket/get", json_pack("{s:s}", "bucket",
		    o->r.bucket), 1, anon_bucket_done);
		return;
	default:
		od_error(o, S3_ERR_ACCESS_DENIED, NULL);
	}
}

static void
od_auth(struct oreq *o)
{
	enum s3_code sc;

	sc = s3_sigv4_verify(&od_scfg, &o->v, ark_now_s(), &o->a);
	if (sc != S3_OK) {
		od_error(o, sc, NULL);
		return;
	}
	if (o->a.kind == S3_AUTH_ANONYMOUS) {
		od_anon(o);
		return;
	}
	if (!o->have_key) {
		od_error(o, S3_ERR_ACCESS_DENIED, NULL);
		return;
	}
	od_dispatch(o);
}

int
od_s3_key_answer(struct oreq *o, int status, json_t *j)
{
	if (status == 200 && od_jstr(j, "secret")[0] != '\0') {
		od_key_store(o->akid, od_jstr(j, "secret"), od_jstr(j, "user"));
		od_key_set_writer(o->akid, !json_is_true(json_object_get(j,
		    "readonly")));
		o->have_key = od_key_lookup(o->akid, &o->key);
	} else if (status != 404 && status != 200) {
		od_reg_fail(o, status == 401 || status == 403 ? 500 : status, j,
		    S3_ERR_INVALID_ACCESS_KEY_ID);
		return -1;
	}
	return 0;
}

static void
key_done(struct oreq *o, int status, json_t *j)
{
	if (od_s3_key_answer(o, status, j) == 0)
		od_auth(o);
}

/* Looks the access key up (cached, else key/get) and authenticates; a
 * POST Object authenticates from its form instead. */
static void
od_start(struct oreq *o)
{
	if (o->r.op == S3_OP_POST_OBJECT) {	/* credentials in the form */
		od_s3_post(o);
		return;
	}
	od_akid(&o->v, o->akid, sizeof(o->akid));
	if (o->akid[0] == '\0' || (o->have_key = od_key_lookup(o->akid,
	    &o->key))) {
		od_auth(o);
		return;
	}
	od_reg_call(o, "key/get", json_pack("{s:s}", "key_id", o->akid), 1,
	    key_done);
}

void
od_s3_handler(struct ark_http_req *req, void *arg)
{
	struct oreq *o;
	enum s3_code sc;

	(void)arg;
	o = od_oreq_new(req);
	s3_view_init_http(&o->v, req);
	if ((sc = s3_req_classify(&od_rcfg, &o->v, &o->r)) != S3_OK) {
		od_error(o, sc, NULL);
		return;
	}
	if (o->r.vhost)
		o->v.host_bucket = o->r.bucket;
	if (o->r.op == S3_OP_PREFLIGHT) {
		od_cors_preflight(o);	/* unauthenticated, as on AWS */
		return;
	}
	/* only cross-origin requests pay for the bucket's CORS rules */
	if (o->r.bucket[0] != '\0' && s3_view_header(&o->v, "origin") !=
	    NULL) {
		od_cors_actual(o, od_start);
		return;
	}
	od_start(o);
}


const struct s3_sigv4_cfg *
od_s3_sigv4_cfg(void)
{
	return &od_scfg;
}

void
od_s3_configure(const char *domain, const char *region)
{
	od_rcfg.domain = domain;
	od_scfg.region = region;
	od_scfg.allow_v2 = 1;
	od_scfg.secret = od_secret_cb;
}
