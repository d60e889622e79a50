/*
 * od_s3_attr.c - the S3 operations about an object's or bucket's
 * attributes rather than its bytes: ListObjectVersions (buckets are
 * never versioned: every object is its only version, "null"), the bucket
 * configurations never stored (versioning, policy, lifecycle, ...: read
 * as absent), GetObjectAttributes, object tagging (object/setattr
 * "tags"), bucket tagging (bucket/config "tags") and the canned ACLs (a
 * bucket's acl; objects have their bucket's).
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

/* ---- ListObjectVersions, bucket configurations ------------------------------ */

void
od_s3_versions_done(struct oreq *o, int status, json_t *j)
{
	struct s3_list_params lp;
	json_t *keys, *prefixes, *e;
	struct ark_buf out;
	struct s3_xmlw w;
	struct od_row row;
	const char *last = NULL, *k;
	int trunc;
	size_t i;

	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	if (s3_req_list_params(o->r.op, o->v.query, &lp) != S3_OK)
		memset(&lp, 0, sizeof(lp));
	keys = json_object_get(j, "rows");
	prefixes = json_object_get(j, "prefixes");
	trunc = json_is_true(json_object_get(j, "truncated"));
	json_array_foreach(keys, i, e) {
		od_list_row(e, &row);
		if (last == NULL || strcmp(row.key, last) > 0)
			last = row.key;
	}
	json_array_foreach(prefixes, i, e)
		if ((k = json_string_value(e)) != NULL &&
		    (last == NULL || strcmp(k, last) > 0))
			last = k;
	ark_buf_init(&out, 256u << 20);
	s3_xmlw_init(&w, &out);
	s3_xmlw_start_ns(&w, "ListVersionsResult");
	s3_xmlw_elem(&w, "Name", o->r.bucket);
	s3_xmlw_elem_key(&w, "Prefix", lp.prefix, strlen(lp.prefix),
	    lp.encoding_url);
	s3_xmlw_elem_key(&w, "KeyMarker", lp.after, strlen(lp.after),
	    lp.encoding_url);
	s3_xmlw_elem(&w, "VersionIdMarker", lp.has_token ? lp.token : "");
	if (trunc && last != NULL) {
		s3_xmlw_elem_key(&w, "NextKeyMarker", last, strlen(last),
		    lp.encoding_url);
		s3_xmlw_elem(&w, "NextVersionIdMarker", "null");
	}
	s3_xmlw_elem_u64(&w, "MaxKeys", lp.max_keys);
	if (lp.delimiter[0] != '\0')
		s3_xmlw_elem_key(&w, "Delimiter", lp.delimiter,
		    strlen(lp.delimiter), lp.encoding_url);
	if (lp.encoding_url)
		s3_xmlw_elem(&w, "EncodingType", "url");
	s3_xmlw_elem_bool(&w, "IsTruncated", trunc);
	json_array_foreach(keys, i, e) {
		od_list_row(e, &row);
		k = row.key;
		s3_xmlw_start(&w, "Version");
		s3_xmlw_elem_key(&w, "Key", k, strlen(k), lp.encoding_url);
		s3_xmlw_elem(&w, "VersionId", "null");
		s3_xmlw_elem_bool(&w, "IsLatest", 1);
		s3_xmlw_elem_time(&w, "LastModified", row.mtime_ms / 1000);
		s3_xmlw_elemf(&w, "ETag", "\"%s\"", row.etag);
		s3_xmlw_elem_u64(&w, "Size", row.size);
		s3_xmlw_elem(&w, "StorageClass", "STANDARD");
		s3_xmlw_start(&w, "Owner");
		od_s3_owner(&w, o->key.user);
		s3_xmlw_end(&w);
		s3_xmlw_end(&w);
	}
	json_array_foreach(prefixes, i, e) {
		if ((k = json_string_value(e)) == NULL)
			continue;
		s3_xmlw_start(&w, "CommonPrefixes");
		s3_xmlw_elem_key(&w, "Prefix", k, strlen(k), lp.encoding_url);
		s3_xmlw_end(&w);
	}
	s3_xmlw_end(&w);
	od_xml_finish(o, &w, &out);
}

/* The bucket exists and the caller may see it: answer the configuration
 * Arkor never stores (s3_req.h). */
static void
bucket_config_done(struct oreq *o, int status, json_t *j)
{
	const struct s3_bucket_conf *c = o->r.conf;
	struct ark_buf out;
	struct s3_xmlw w;

	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	if (o->r.op == S3_OP_DELETE_BUCKET_CONFIG) {
		od_empty_reply(o, 204);
		return;
	}
	if (c->empty == NULL) {
		od_error(o, c->missing, NULL);
		return;
	}
	ark_buf_init(&out, 4096);
	s3_xmlw_init(&w, &out);
	s3_xmlw_start_ns(&w, c->empty);
	if (c->child[0] != NULL)
		s3_xmlw_elem(&w, c->child[0], c->child[1]);
	s3_xmlw_end(&w);
	od_xml_finish(o, &w, &out);
}

void
od_s3_bucket_config(struct oreq *o)
{
	od_reg_call(o, "bucket/get", json_pack("{s:s}", "bucket", o->r.bucket),
	    0, bucket_config_done);
}

/* ---- GetObjectAttributes --------------------------------------------------- */

enum {
	ATTR_ETAG = 1, ATTR_CHECKSUM = 2, ATTR_PARTS = 4, ATTR_CLASS = 8,
	ATTR_SIZE = 16
};

static int
attr_mask(const char *h)
{
	static const struct { const char *name; int bit; } names[] = {
		{ "ETag", ATTR_ETAG }, { "Checksum", ATTR_CHECKSUM },
		{ "ObjectParts", ATTR_PARTS }, { "StorageClass", ATTR_CLASS },
		{ "ObjectSize", ATTR_SIZE },
	};
	char buf[256], *t, *save = NULL;
	int m = 0;
	size_t i;

	snprintf(buf, sizeof(buf), "%s", h);
	for (t = strtok_r(buf, ", ", &save); t != NULL;
	    t = strtok_r(NULL, ", ", &save)) {
		for (i = 0; i < ARK_ARRAY_SIZE(names); i++)
			if (strcasecmp(t, names[i].name) == 0)
				break;
		if (i == ARK_ARRAY_SIZE(names))
			return -1;
		m |= names[i].bit;
	}
	return m;
}

static void
attributes_done(struct oreq *o, int status, json_t *j)
{
	const char *mp = s3_view_header(&o->v, "x-amz-max-parts");
	const char *pm = s3_view_header(&o->v, "x-amz-part-number-marker");
	json_t *parts = json_object_get(j, "parts"), *ck, *p;
	uint64_t max = mp != NULL ? strtoull(mp, NULL, 10) : 1000;
	uint64_t marker = pm != NULL ? strtoull(pm, NULL, 10) : 0, n = 0;
	uint64_t last = 0;
	int m = attr_mask(s3_view_header(&o->v, "x-amz-object-attributes"));
	struct ark_buf out;
	struct s3_xmlw w;
	char date[64];
	size_t i;

	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_KEY);
		return;
	}
	if (max > 1000)
		max = 1000;
	ark_buf_init(&out, 4u << 20);
	s3_xmlw_init(&w, &out);
	s3_xmlw_start_ns(&w, "GetObjectAttributesResponse");
	if (m & ATTR_ETAG)
		s3_xmlw_elem(&w, "ETag", od_jstr(j, "etag"));
	ck = json_object_get(j, "checksums");
	if ((m & ATTR_CHECKSUM) && json_object_size(ck) > 0) {
		const char *k, *v = NULL;
		json_t *e;

		json_object_foreach(ck, k, e)
			if (json_is_string(e))
				v = json_string_value(e);
		s3_xmlw_start(&w, "Checksum");
		od_s3_checksum_elems(&w, ck);
		if (v != NULL)
			s3_xmlw_elem(&w, "ChecksumType", strchr(v, '-') !=
			    NULL ? "COMPOSITE" : "FULL_OBJECT");
		s3_xmlw_end(&w);
	}
	if ((m & ATTR_PARTS) && json_array_size(parts) > 0) {
		int trunc = 0;

		s3_xmlw_start(&w, "ObjectParts");
		s3_xmlw_elem_u64(&w, "PartsCount", json_array_size(parts));
		s3_xmlw_elem_u64(&w, "PartNumberMarker", marker);
		json_array_foreach(parts, i, p) {
			uint64_t num = (uint64_t)od_jint(p, "number");

			if (num <= marker)
				continue;
			if (n == max) {
				trunc = 1;
				break;
			}
			s3_xmlw_start(&w, "Part");
			s3_xmlw_elem_u64(&w, "PartNumber", num);
			s3_xmlw_elem_u64(&w, "Size",
			    (uint64_t)od_jint(p, "size"));
			od_s3_checksum_elems(&w, json_object_get(p,
			    "checksums"));
			s3_xmlw_end(&w);
			last = num;
			n++;
		}
		s3_xmlw_elem_u64(&w, "NextPartNumberMarker", last);
		s3_xmlw_elem_u64(&w, "MaxParts", max);
		s3_xmlw_elem_bool(&w, "IsTruncated", trunc);
		s3_xmlw_end(&w);
	}
	if (m & ATTR_CLASS)
		s3_xmlw_elem(&w, "StorageClass", "STANDARD");
	if (m & ATTR_SIZE)
		s3_xmlw_elem_u64(&w, "ObjectSize",
		    (uint64_t)od_jint(j, "size"));
	s3_xmlw_end(&w);
	if (!o->dead) {
		ark_http_date(od_jint(j, "mtime_ms") / 1000, date, sizeof(date));
		ark_http_resp_header(o->req, "Last-Modified", date);
	}
	od_xml_finish(o, &w, &out);
}

void
od_s3_attributes(struct oreq *o)
{
	const char *h = s3_view_header(&o->v, "x-amz-object-attributes");

	if (h == NULL || attr_mask(h) <= 0) {
		od_error(o, S3_ERR_INVALID_ARGUMENT, "x-amz-object-attributes "
		    "must list ETag, Checksum, ObjectParts, StorageClass or "
		    "ObjectSize");
		return;
	}
	od_reg_call(o, "object/get", json_pack("{s:s, s:s}", "bucket",
	    o->r.bucket, "key", o->r.key), 0, attributes_done);
}

/* ---- object and bucket tagging ----------------------------------------------- */

static int
tagging_bucket(const struct oreq *o)
{
	return o->r.op == S3_OP_GET_BUCKET_TAGGING ||
	    o->r.op == S3_OP_PUT_BUCKET_TAGGING ||
	    o->r.op == S3_OP_DELETE_BUCKET_TAGGING;
}

static void
tagging_get_done(struct oreq *o, int status, json_t *j)
{
	json_t *tags = json_object_get(j, "tags"), *v;
	struct ark_buf out;
	struct s3_xmlw w;
	const char *k;

	if (status != 200) {
		od_reg_fail(o, status, j, tagging_bucket(o) ?
		    S3_ERR_NO_SUCH_BUCKET : S3_ERR_NO_SUCH_KEY);
		return;
	}
	if (tagging_bucket(o) && json_object_size(tags) == 0) {
		od_error(o, S3_ERR_NO_SUCH_TAG_SET, NULL);
		return;
	}
	ark_buf_init(&out, 1 << 16);
	s3_xmlw_init(&w, &out);
	s3_xmlw_start_ns(&w, "Tagging");
	s3_xmlw_start(&w, "TagSet");
	json_object_foreach(tags, k, v) {
		s3_xmlw_start(&w, "Tag");
		s3_xmlw_elem(&w, "Key", k);
		s3_xmlw_elem(&w, "Value", json_string_value(v));
		s3_xmlw_end(&w);
	}
	s3_xmlw_end(&w);
	s3_xmlw_end(&w);
	od_xml_finish(o, &w, &out);
}

static void
tagging_set_done(struct oreq *o, int status, json_t *j)
{
	if (status != 200) {
		od_reg_fail(o, status, j, tagging_bucket(o) ?
		    S3_ERR_NO_SUCH_BUCKET : S3_ERR_NO_SUCH_KEY);
		return;
	}
	od_empty_reply(o, o->r.op == S3_OP_DELETE_OBJECT_TAGGING ||
	    o->r.op == S3_OP_DELETE_BUCKET_TAGGING ? 204 : 200);
}

static void
tagging_set(struct oreq *o, json_t *tags)
{
	if (tagging_bucket(o))
		od_reg_call(o, "bucket/config", json_pack("{s:s, s:o}",
		    "bucket", o->r.bucket, "tags", tags), 0, tagging_set_done);
	else
		od_reg_call(o, "object/setattr", json_pack("{s:s, s:s, s:o}",
		    "bucket", o->r.bucket, "key", o->r.key, "tags", tags), 0,
		    tagging_set_done);
}

static void
tagging_parsed(struct oreq *o)
{
	struct s3_xml_tagging t;
	enum s3_code sc;
	json_t *tags;
	size_t i;

	if ((sc = s3_xml_parse_tagging(ark_buf_str(&o->body),
	    ark_buf_len(&o->body), tagging_bucket(o) ?
	    S3_XML_MAX_BUCKET_TAGS : S3_XML_MAX_TAGS, &t)) != S3_OK) {
		od_put_fail(o, sc, NULL);
		return;
	}
	tags = json_object();
	for (i = 0; i < t.ntags; i++)
		json_object_set_new(tags, t.tags[i].key,
		    json_string(t.tags[i].value));
	s3_xml_tagging_free(&t);
	tagging_set(o, tags);
}

void
od_s3_tagging(struct oreq *o)
{
	switch (o->r.op) {
	case S3_OP_GET_OBJECT_TAGGING:
		od_reg_call(o, "object/get", json_pack("{s:s, s:s}", "bucket",
		    o->r.bucket, "key", o->r.key), 0, tagging_get_done);
		return;
	case S3_OP_PUT_OBJECT_TAGGING:
		od_s3_read_body(o, S3_XML_MAX_SMALL, tagging_parsed);
		return;
	default:
		tagging_set(o, json_object());		/* {} clears */
	}
}

void
od_s3_bucket_tagging(struct oreq *o)
{
	switch (o->r.op) {
	case S3_OP_GET_BUCKET_TAGGING:
		od_reg_call(o, "bucket/get", json_pack("{s:s}", "bucket",
		    o->r.bucket), 0, tagging_get_done);
		return;
	case S3_OP_PUT_BUCKET_TAGGING:
		od_s3_read_body(o, S3_XML_MAX_SMALL, tagging_parsed);
		return;
	default:
		tagging_set(o, json_object());		/* {} removes */
	}
}

/* ---- ACLs ------------------------------------------------------------------ */

#define XSI_CANON	"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type"
#define ALL_USERS	"http://acs.amazonaws.com/groups/global/AllUsers"

static void
acl_doc(struct oreq *o, const json_t *bucket)
{
	const char *owner = od_jstr(bucket, "owner");
	struct ark_buf out;
	struct s3_xmlw w;

	ark_buf_init(&out, 1 << 16);
	s3_xmlw_init(&w, &out);
	s3_xmlw_start_ns(&w, "AccessControlPolicy");
	s3_xmlw_start(&w, "Owner");
	od_s3_owner(&w, owner);
	s3_xmlw_end(&w);
	s3_xmlw_start(&w, "AccessControlList");
	s3_xmlw_start(&w, "Grant");
	s3_xmlw_start_attr(&w, "Grantee", XSI_CANON, "CanonicalUser");
	od_s3_owner(&w, owner);
	s3_xmlw_end(&w);
	s3_xmlw_elem(&w, "Permission", "FULL_CONTROL");
	s3_xmlw_end(&w);
	if (strcmp(od_jstr(bucket, "acl"), "public-read") == 0) {
		s3_xmlw_start(&w, "Grant");
		s3_xmlw_start_attr(&w, "Grantee", XSI_CANON, "Group");
		s3_xmlw_elem(&w, "URI", ALL_USERS);
		s3_xmlw_end(&w);
		s3_xmlw_elem(&w, "Permission", "READ");
		s3_xmlw_end(&w);
	}
	s3_xmlw_end(&w);
	s3_xmlw_end(&w);
	od_xml_finish(o, &w, &out);
}

static void
acl_bucket_done(struct oreq *o, int status, json_t *j)
{
	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	acl_doc(o, j);
}

static void
acl_object_done(struct oreq *o, int status, json_t *j)
{
	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_KEY);
		return;
	}
	od_reg_call(o, "bucket/get", json_pack("{s:s}", "bucket", o->r.bucket),
	    0, acl_bucket_done);
}

static void
acl_set_done(struct oreq *o, int status, json_t *j)
{
	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	od_empty_reply(o, 200);
}

static void
acl_set(struct oreq *o, enum s3_acl a)
{
	od_reg_call(o, "bucket/acl", json_pack("{s:s, s:s}", "bucket",
	    o->r.bucket, "acl", a == S3_ACL_PUBLIC_READ ? "public-read" :
	    "private"), 0, acl_set_done);
}

static void
acl_parsed(struct oreq *o)
{
	enum s3_acl a;
	enum s3_code sc;

	if ((sc = s3_xml_parse_acl(ark_buf_str(&o->body),
	    ark_buf_len(&o->body), &a, NULL, 0)) != S3_OK) {
		od_put_fail(o, sc, NULL);
		return;
	}
	acl_set(o, a);
}

void
od_s3_acl(struct oreq *o)
{
	const char *h = s3_view_header(&o->v, "x-amz-acl");
	enum s3_acl a;
	enum s3_code sc;

	switch (o->r.op) {
	case S3_OP_GET_BUCKET_ACL:
		od_reg_call(o, "bucket/get", json_pack("{s:s}", "bucket",
		    o->r.bucket), 0, acl_bucket_done);
		return;
	case S3_OP_GET_OBJECT_ACL:
		od_reg_call(o, "object/get", json_pack("{s:s, s:s}", "bucket",
		    o->r.bucket, "key", o->r.key), 0, acl_object_done);
		return;
	case S3_OP_PUT_BUCKET_ACL:
		if (h == NULL) {
			od_s3_read_body(o, S3_XML_MAX_SMALL, acl_parsed);
			return;
		}
		if ((sc = s3_req_canned_acl(h, &a)) != S3_OK) {
			od_error(o, sc, NULL);
			return;
		}
		acl_set(o, a);
		return;
	default:
		od_error(o, S3_ERR_NOT_IMPLEMENTED, "objects have their "
		    "bucket's ACL");
	}
}
