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
#include <strings.h>

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
			trunc = max > 0;	/* 0: an empty page, as max-keys */
			break;
		}
		s3_xmlw_start(&w, "Part");
		s3_xmlw_elem_u64(&w, "PartNumber", num);
		s3_xmlw_elem_time(&w, "LastModified",
		    od_jint(p, "created_ms") / 1000);
		s3_xmlw_elemf(&w, "ETag", "\"%s\"", od_jstr(p, "etag"));
		s3_xmlw_elem_u64(&w, "Size", (uint64_t)od_jint(p, "size"));
		od_s3_checksum_elems(&w, json_object_get(p, "checksums"));
		s3_xmlw_end(&w);
		last = num;
		n++;
	}
	s3_xmlw_elem_u64(&w, "NextPartNumberMarker", last);
	s3_xmlw_elem_u64(&w, "MaxParts", max);
	s3_xmlw_elem_bool(&w, "IsTruncated", trunc);
	if (json_is_string(json_object_get(j, "checksum_algorithm"))) {
		s3_xmlw_elem(&w, "ChecksumAlgorithm", od_jstr(j,
		    "checksum_algorithm"));
		s3_xmlw_elem(&w, "ChecksumType", od_jstr(j, "checksum_type"));
	}
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
	struct s3_xml_complete	 x;		/* the request's parts */
	char			 etag[S3_CKSUM_COMPOSITE_MAX + 24];
	enum s3_cksum_alg	 alg;		/* the object's checksum */
	const char		*type;		/* COMPOSITE, FULL_OBJECT */
	char			 value[S3_CKSUM_COMPOSITE_MAX + 24];
};

static void
cmpl_free(void *arg)
{
	struct cmpl *c = arg;

	if (c != NULL)
		s3_xml_complete_free(&c->x);
	free(c);
}

static void
complete_done(struct oreq *o, int status, json_t *j)
{
	struct cmpl *c = o->ext;
	struct ark_buf out;
	struct s3_xmlw w;
	char name[32];

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
	if (c->value[0] != '\0') {
		snprintf(name, sizeof(name), "Checksum%s",
		    s3_cksum_name(c->alg));
		s3_xmlw_elem(&w, name, c->value);
		s3_xmlw_elem(&w, "ChecksumType", c->type);
	}
	s3_xmlw_end(&w);
	od_xml_finish(o, &w, &out);
}

/* The object's checksum from the parts' values of c->alg (each part in
 * `have` order matching c->x): the checksum of the concatenated raw
 * values, "-<n>" (COMPOSITE), or the parts' CRCs combined (FULL_OBJECT).
 * Leaves c->value "" when a part has no value (UploadPartCopy parts). */
static enum s3_code
complete_checksum(struct cmpl *c, json_t *const *hp)
{
	struct s3_cksum *ck = NULL;
	uint64_t acc = 0, crc;
	const char *v;
	size_t i;
	int full = strcmp(c->type, "FULL_OBJECT") == 0;

	for (i = 0; i < c->x.nparts; i++)
		if (json_string_value(json_object_get(json_object_get(hp[i],
		    "checksums"), s3_cksum_key(c->alg))) == NULL)
			return S3_OK;
	if (!full && s3_cksum_new(S3_CKSUM_BIT(c->alg), &ck) != ARK_OK)
		return S3_ERR_INTERNAL;
	for (i = 0; i < c->x.nparts; i++) {
		v = od_jstr(json_object_get(hp[i], "checksums"),
		    s3_cksum_key(c->alg));
		if (!full) {
			if (s3_cksum_composite_add(ck, c->alg, v) != ARK_OK)
				goto bad;
		} else if (s3_cksum_crc_from_b64(c->alg, v, &crc) != ARK_OK)
			goto bad;
		else
			acc = i == 0 ? crc : s3_cksum_crc_combine(c->alg, acc,
			    crc, (uint64_t)od_jint(hp[i], "size"));
	}
	if (full)
		return s3_cksum_crc_to_b64(c->alg, acc, c->value) == ARK_OK ?
		    S3_OK : S3_ERR_INTERNAL;
	if (s3_cksum_final(ck) != ARK_OK || s3_cksum_composite_str(ck, c->alg,
	    (unsigned)c->x.nparts, c->value, sizeof(c->value)) != ARK_OK)
		goto bad;
	s3_cksum_free(ck);
	return S3_OK;
bad:
	s3_cksum_free(ck);
	c->value[0] = '\0';
	return S3_ERR_INTERNAL;
}

/* An object checksum the request states (x-amz-checksum-<alg>, with or
 * without the "-<n>" of a composite; x-amz-checksum-type) must be the
 * upload's: InvalidRequest for another algorithm or type, BadDigest for
 * another value. */
static enum s3_code
complete_expected(struct oreq *o, const struct cmpl *c)
{
	const char *t = s3_view_header(&o->v, "x-amz-checksum-type");
	const char *v, *dash;
	int a;

	if (t != NULL && (c->alg == S3_CKSUM_NONE || strcasecmp(t,
	    c->type) != 0))
		return S3_ERR_INVALID_REQUEST;
	for (a = S3_CKSUM_CRC32; a <= S3_CKSUM_SHA256; a++) {
		if ((v = s3_view_header(&o->v, s3_cksum_header(
		    (enum s3_cksum_alg)a))) == NULL)
			continue;
		if ((enum s3_cksum_alg)a != c->alg)
			return S3_ERR_INVALID_REQUEST;
		if (c->value[0] == '\0')
			continue;	/* nothing to compare with */
		dash = strchr(c->value, '-');
		if (strcmp(v, c->value) != 0 && (dash == NULL ||
		    strlen(v) != (size_t)(dash - c->value) ||
		    strncmp(v, c->value, strlen(v)) != 0))
			return S3_ERR_BAD_DIGEST;
	}
	return S3_OK;
}

static void
complete_parts_done(struct oreq *o, int status, json_t *j)
{
	struct cmpl *c = o->ext;
	json_t *have = json_object_get(j, "parts"), *h, *body, *parts, **hp;
	const struct s3_xml_part *p;
	const char *sv;
	size_t i, k = 0, n = c->x.nparts;
	unsigned missing = 0;
	enum s3_code sc;
	int small = 0, a, full;
	char msg[200];

	if (od_s3_upload_check(o, status, j, &c->alg, &full) != 0)
		return;
	if (c->alg != S3_CKSUM_NONE)
		c->type = full ? "FULL_OBJECT" : "COMPOSITE";
	/* Both lists ascend by number: a merge pass finds every part
	 * (InvalidPart before a missing checksum before EntityTooSmall,
	 * whichever part comes first). */
	hp = ark_xcalloc(n + 1, sizeof(*hp));
	for (i = 0; i < n; i++) {
		p = &c->x.parts[i];
		while ((h = json_array_get(have, k)) != NULL &&
		    (uint64_t)od_jint(h, "number") < p->part_number)
			k++;
		if (h == NULL || (uint64_t)od_jint(h, "number") !=
		    p->part_number || strcmp(od_jstr(h, "etag"), p->etag) != 0)
			goto invalid_part;
		a = p->cksum_alg != S3_CKSUM_NONE ? (int)p->cksum_alg :
		    (int)c->alg;
		sv = a == S3_CKSUM_NONE ? NULL : json_string_value(
		    json_object_get(json_object_get(h, "checksums"),
		    s3_cksum_key((enum s3_cksum_alg)a)));
		if (p->cksum_alg != S3_CKSUM_NONE && (sv == NULL ||
		    strcmp(sv, p->cksum) != 0))
			goto invalid_part;
		if (p->cksum_alg == S3_CKSUM_NONE && c->alg != S3_CKSUM_NONE &&
		    strcmp(c->type, "COMPOSITE") == 0 && sv != NULL &&
		    missing == 0)
			missing = p->part_number;
		if (i + 1 < n && (uint64_t)od_jint(h, "size") < OD_S3_MIN_PART)
			small = 1;
		hp[i] = h;
	}
	if (missing != 0) {
		free(hp);
		snprintf(msg, sizeof(msg), "The upload was created using a %s "
		    "checksum. The complete request must include the checksum "
		    "for each part. It was missing for part %u in the request.",
		    s3_cksum_key(c->alg), missing);
		od_error(o, S3_ERR_INVALID_REQUEST, msg);
		return;
	}
	if (small) {
		free(hp);
		od_error(o, S3_ERR_ENTITY_TOO_SMALL, NULL);
		return;
	}
	sc = c->alg != S3_CKSUM_NONE ? complete_checksum(c, hp) : S3_OK;
	free(hp);
	if (sc == S3_OK)
		sc = complete_expected(o, c);
	if (sc != S3_OK) {
		od_error(o, sc, NULL);
		return;
	}
	parts = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(parts, json_pack("{s:i, s:s}", "number",
		    (int)c->x.parts[i].part_number, "etag",
		    c->x.parts[i].etag));
	body = json_pack("{s:s, s:s, s:o}", "upload_id", o->r.upload_id,
	    "etag", c->etag, "parts", parts);
	if (c->value[0] != '\0')
		json_object_set_new(body, "checksums", json_pack("{s:s}",
		    s3_cksum_key(c->alg), c->value));
	od_s3_if_version(o, body);
	od_reg_call(o, "multipart/complete", body, 0, complete_done);
	return;
invalid_part:
	free(hp);
	od_error(o, S3_ERR_INVALID_PART, NULL);
}

static void
complete_parts_get(struct oreq *o)
{
	od_reg_call(o, "multipart/parts", json_pack("{s:s}", "upload_id",
	    o->r.upload_id), 0, complete_parts_done);
}

/* If-Match / If-None-Match: * are checked first (od_s3_write_cond) and
 * again by multipart/complete's if_version. */
void
od_s3_complete(struct oreq *o, struct s3_xml_complete *x, const char *etag)
{
	struct cmpl *c = ark_xcalloc(1, sizeof(*c));

	c->x = *x;
	memset(x, 0, sizeof(*x));
	snprintf(c->etag, sizeof(c->etag), "%s", etag);
	o->ext = c;
	o->ext_free = cmpl_free;
	od_s3_write_cond(o, complete_parts_get);
}

int
od_s3_upload_check(struct oreq *o, int status, json_t *j,
    enum s3_cksum_alg *alg, int *full)
{
	int a;

	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_UPLOAD);
		return -1;
	}
	if (strcmp(od_jstr(j, "bucket"), o->r.bucket) != 0 ||
	    strcmp(od_jstr(j, "key"), o->r.key) != 0) {
		od_error(o, S3_ERR_NO_SUCH_UPLOAD, NULL);
		return -1;
	}
	*alg = S3_CKSUM_NONE;
	*full = 0;
	if ((a = s3_cksum_parse_alg(od_jstr(j, "checksum_algorithm"))) > 0) {
		*alg = (enum s3_cksum_alg)a;
		*full = strcmp(od_jstr(j, "checksum_type"), "FULL_OBJECT") == 0;
	}
	return 0;
}
