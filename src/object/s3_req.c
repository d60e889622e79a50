/*
 * s3_req.c - request classification, names, Range and conditionals
 * (see s3_req.h).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "object/s3_req.h"
#include "object/s3_time.h"
#include "object/s3_uri.h"

static const char *const s3_op_names[S3_OP_MAX] = {
	[S3_OP_NOT_IMPLEMENTED] = "NotImplemented",
	[S3_OP_LIST_BUCKETS] = "ListBuckets",
	[S3_OP_CREATE_BUCKET] = "CreateBucket",
	[S3_OP_DELETE_BUCKET] = "DeleteBucket",
	[S3_OP_HEAD_BUCKET] = "HeadBucket",
	[S3_OP_GET_BUCKET_LOCATION] = "GetBucketLocation",
	[S3_OP_GET_BUCKET_ACL] = "GetBucketAcl",
	[S3_OP_PUT_BUCKET_ACL] = "PutBucketAcl",
	[S3_OP_GET_BUCKET_CONFIG] = "GetBucketConfiguration",
	[S3_OP_DELETE_BUCKET_CONFIG] = "DeleteBucketConfiguration",
	[S3_OP_GET_BUCKET_TAGGING] = "GetBucketTagging",
	[S3_OP_PUT_BUCKET_TAGGING] = "PutBucketTagging",
	[S3_OP_DELETE_BUCKET_TAGGING] = "DeleteBucketTagging",
	[S3_OP_GET_BUCKET_CORS] = "GetBucketCors",
	[S3_OP_PUT_BUCKET_CORS] = "PutBucketCors",
	[S3_OP_DELETE_BUCKET_CORS] = "DeleteBucketCors",
	[S3_OP_PREFLIGHT] = "PreflightRequest",
	[S3_OP_LIST_OBJECTS] = "ListObjects",
	[S3_OP_LIST_OBJECTS_V2] = "ListObjectsV2",
	[S3_OP_LIST_OBJECT_VERSIONS] = "ListObjectVersions",
	[S3_OP_LIST_MULTIPART_UPLOADS] = "ListMultipartUploads",
	[S3_OP_DELETE_OBJECTS] = "DeleteObjects",
	[S3_OP_PUT_OBJECT] = "PutObject",
	[S3_OP_COPY_OBJECT] = "CopyObject",
	[S3_OP_GET_OBJECT] = "GetObject",
	[S3_OP_HEAD_OBJECT] = "HeadObject",
	[S3_OP_DELETE_OBJECT] = "DeleteObject",
	[S3_OP_CREATE_MULTIPART_UPLOAD] = "CreateMultipartUpload",
	[S3_OP_UPLOAD_PART] = "UploadPart",
	[S3_OP_UPLOAD_PART_COPY] = "UploadPartCopy",
	[S3_OP_COMPLETE_MULTIPART_UPLOAD] = "CompleteMultipartUpload",
	[S3_OP_ABORT_MULTIPART_UPLOAD] = "AbortMultipartUpload",
	[S3_OP_LIST_PARTS] = "ListParts",
	[S3_OP_GET_OBJECT_TAGGING] = "GetObjectTagging",
	[S3_OP_PUT_OBJECT_TAGGING] = "PutObjectTagging",
	[S3_OP_DELETE_OBJECT_TAGGING] = "DeleteObjectTagging",
	[S3_OP_GET_OBJECT_ATTRIBUTES] = "GetObjectAttributes",
	[S3_OP_GET_OBJECT_ACL] = "GetObjectAcl",
	[S3_OP_PUT_OBJECT_ACL] = "PutObjectAcl",
	[S3_OP_POST_OBJECT] = "PostObject",
};

const char *
s3_op_name(enum s3_op op)
{
	if ((unsigned)op >= S3_OP_MAX || s3_op_names[op] == NULL)
		return s3_op_names[S3_OP_NOT_IMPLEMENTED];
	return s3_op_names[op];
}

/* Bucket configurations never stored: what reading one answers. AWS
 * returns these 404 codes for a bucket that has none (S3 API reference,
 * Get* operations), and empty documents for the always-present ones. */
static const struct s3_bucket_conf s3_bucket_confs[] = {
	{ "accelerate", "AccelerateConfiguration", S3_OK, 0, { NULL } },
	{ "encryption", NULL, S3_ERR_NO_SUCH_ENCRYPTION, 1, { NULL } },
	{ "lifecycle", NULL, S3_ERR_NO_SUCH_LIFECYCLE, 1, { NULL } },
	{ "logging", "BucketLoggingStatus", S3_OK, 0, { NULL } },
	{ "notification", "NotificationConfiguration", S3_OK, 0, { NULL } },
	{ "object-lock", NULL, S3_ERR_NO_SUCH_OBJECT_LOCK, 0, { NULL } },
	{ "ownershipControls", NULL, S3_ERR_NO_SUCH_OWNERSHIP, 1, { NULL } },
	{ "policy", NULL, S3_ERR_NO_SUCH_BUCKET_POLICY, 1, { NULL } },
	{ "policyStatus", NULL, S3_ERR_NO_SUCH_BUCKET_POLICY, 0, { NULL } },
	{ "publicAccessBlock", NULL, S3_ERR_NO_SUCH_PUBLIC_ACCESS_BLOCK, 1, { NULL } },
	{ "replication", NULL, S3_ERR_NO_SUCH_REPLICATION, 1, { NULL } },
	{ "requestPayment", "RequestPaymentConfiguration", S3_OK, 0,
	    { "Payer", "BucketOwner" } },
	{ "versioning", "VersioningConfiguration", S3_OK, 0, { NULL } },
	{ "website", NULL, S3_ERR_NO_SUCH_WEBSITE, 1, { NULL } },
};

/* Sub-resources S3 defines that Arkor does not serve otherwise: their
 * presence makes the request NotImplemented rather than a plain
 * object/bucket operation (a PUT ?policy must never store an object
 * named by the path). */
static const char *const s3_unsupported_subres[] = {
	"accelerate", "analytics", "cors", "encryption",
	"intelligent-tiering", "inventory", "legal-hold", "lifecycle",
	"logging", "metadataConfiguration", "metrics", "notification",
	"object-lock", "ownershipControls", "policy", "policyStatus",
	"publicAccessBlock", "replication", "requestPayment", "restore",
	"retention", "select", "session", "torrent", "versioning", "website",
};

static int
req_has(const struct s3_view *v, const char *name)
{
	return s3_uri_query_has(v->query, name);
}

static const struct s3_bucket_conf *
req_bucket_conf(const struct s3_view *v)
{
	for (size_t i = 0; i < ARK_ARRAY_SIZE(s3_bucket_confs); i++)
		if (req_has(v, s3_bucket_confs[i].subres))
			return &s3_bucket_confs[i];
	return NULL;
}

static int
req_unsupported(const struct s3_view *v)
{
	for (size_t i = 0; i < ARK_ARRAY_SIZE(s3_unsupported_subres); i++)
		if (req_has(v, s3_unsupported_subres[i]))
			return 1;
	return 0;
}

int
s3_req_bucket_valid(const char *name)
{
	size_t len = strlen(name);
	int dots = 0, all_digits_dots = 1;

	if (len < 3 || len > S3_BUCKET_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-'))
			return 0;
		if (c == '.')
			dots++;
		if (c != '.' && !(c >= '0' && c <= '9'))
			all_digits_dots = 0;
	}
	if (!isalnum((unsigned char)name[0]) ||
	    !isalnum((unsigned char)name[len - 1]))
		return 0;
	if (strstr(name, "..") != NULL)
		return 0;
	if (all_digits_dots && dots == 3)
		return 0;		/* formatted as an IPv4 address */
	if (strncmp(name, "xn--", 4) == 0 || strncmp(name, "sthree-", 7) == 0)
		return 0;
	if ((len >= 8 && strcmp(name + len - 8, "-s3alias") == 0) ||
	    (len >= 7 && strcmp(name + len - 7, "--ol-s3") == 0) ||
	    (len >= 6 && strcmp(name + len - 6, "--x-s3") == 0))
		return 0;
	return 1;
}

enum s3_code
s3_req_key_check(const char *key, size_t len)
{
	if (len > S3_KEY_MAX)
		return S3_ERR_KEY_TOO_LONG;
	if (len == 0 || memchr(key, '\0', len) != NULL ||
	    !s3_xml_utf8_valid(key, len, NULL))
		return S3_ERR_INVALID_OBJECT_NAME;
	return S3_OK;
}

/* Bucket from a virtual-hosted Host, lower-cased into out; 0 if none. */
static int
req_host_bucket(const struct s3_req_cfg *cfg, const char *host, char *out,
    size_t cap)
{
	size_t hlen, dlen, blen;
	const char *colon;

	if (cfg == NULL || cfg->domain == NULL || cfg->domain[0] == '\0' ||
	    host == NULL)
		return 0;
	/* Strip the port (no IPv6 literal can be "<bucket>.<domain>"). */
	colon = strrchr(host, ':');
	hlen = colon != NULL && host[0] != '[' ? (size_t)(colon - host) :
	    strlen(host);
	if (hlen > 0 && host[hlen - 1] == '.')
		hlen--;			/* absolute FQDN */
	dlen = strlen(cfg->domain);
	if (hlen <= dlen + 1 || host[hlen - dlen - 1] != '.' ||
	    strncasecmp(host + hlen - dlen, cfg->domain, dlen) != 0)
		return 0;
	blen = hlen - dlen - 1;
	if (blen >= cap)
		blen = cap - 1;		/* too long: fails the name check */
	for (size_t i = 0; i < blen; i++)
		out[i] = (char)tolower((unsigned char)host[i]);
	out[blen] = '\0';
	return 1;
}

static enum s3_code
req_get(const char *query, const char *name, char *out, size_t cap)
{
	enum ark_err rc = s3_uri_query_get(query, name, out, cap);

	if (rc == ARK_ENOENT) {
		out[0] = '\0';
		return S3_OK;
	}
	return rc == ARK_OK ? S3_OK : S3_ERR_INVALID_ARGUMENT;
}

enum s3_code
s3_req_query_uint(const char *query, const char *name, uint64_t min,
    uint64_t max, uint64_t def, uint64_t *out)
{
	char v[32];
	uint64_t n = 0;

	if (s3_uri_query_get(query, name, v, sizeof(v)) == ARK_ENOENT) {
		*out = def;
		return S3_OK;
	}
	if (s3_uri_query_get(query, name, v, sizeof(v)) != ARK_OK ||
	    v[0] == '\0')
		return S3_ERR_INVALID_ARGUMENT;
	for (const char *p = v; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p) || n > UINT64_MAX / 10 - 9)
			return S3_ERR_INVALID_ARGUMENT;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (n < min || n > max)
		return S3_ERR_INVALID_ARGUMENT;
	*out = n;
	return S3_OK;
}

/* A browser form upload: Content-Type multipart/form-data. */
static int
req_form(const struct s3_view *v)
{
	const char *ct = s3_view_header(v, "content-type");

	if (ct == NULL)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return strncasecmp(ct, "multipart/form-data", 19) == 0;
}

/* GET, PUT and DELETE of a stored bucket configuration: get, get + 1
 * and get + 2 in enum s3_op. */
static enum s3_op
req_stored_conf(const char *m, enum s3_op get)
{
	if (strcmp(m, "GET") == 0)
		return get;
	if (strcmp(m, "PUT") == 0)
		return get + 1;
	if (strcmp(m, "DELETE") == 0)
		return get + 2;
	return S3_OP_NOT_IMPLEMENTED;
}

static enum s3_code
req_bucket_op(const struct s3_view *v, const char *m, struct s3_req *out)
{
	const struct s3_bucket_conf *conf = req_bucket_conf(v);
	char lt[8];

	if (strcmp(m, "HEAD") == 0)
		out->op = S3_OP_HEAD_BUCKET;
	else if (req_has(v, "tagging"))
		out->op = req_stored_conf(m, S3_OP_GET_BUCKET_TAGGING);
	else if (req_has(v, "cors"))
		out->op = req_stored_conf(m, S3_OP_GET_BUCKET_CORS);
	else if (conf != NULL && (strcmp(m, "GET") == 0 ||
	    (strcmp(m, "DELETE") == 0 && conf->deletable))) {
		out->op = m[0] == 'G' ? S3_OP_GET_BUCKET_CONFIG :
		    S3_OP_DELETE_BUCKET_CONFIG;
		out->conf = conf;
	} else if (req_unsupported(v))
		out->op = S3_OP_NOT_IMPLEMENTED;
	else if (strcmp(m, "GET") == 0) {
		if (req_has(v, "location"))
			out->op = S3_OP_GET_BUCKET_LOCATION;
		else if (req_has(v, "acl"))
			out->op = S3_OP_GET_BUCKET_ACL;
		else if (req_has(v, "versions"))
			out->op = S3_OP_LIST_OBJECT_VERSIONS;
		else if (req_has(v, "uploads"))
			out->op = S3_OP_LIST_MULTIPART_UPLOADS;
		else if (req_has(v, "attributes"))
			out->op = S3_OP_NOT_IMPLEMENTED;
		else if (req_has(v, "list-type")) {
			if (s3_uri_query_get(v->query, "list-type", lt,
			    sizeof(lt)) != ARK_OK || strcmp(lt, "2") != 0)
				return S3_ERR_INVALID_ARGUMENT;
			out->op = S3_OP_LIST_OBJECTS_V2;
		} else
			out->op = S3_OP_LIST_OBJECTS;
	} else if (strcmp(m, "PUT") == 0) {
		if (req_has(v, "acl"))
			out->op = S3_OP_PUT_BUCKET_ACL;
		else
			out->op = S3_OP_CREATE_BUCKET;
	} else if (strcmp(m, "DELETE") == 0)
		out->op = S3_OP_DELETE_BUCKET;
	else if (strcmp(m, "POST") == 0) {
		if (req_has(v, "delete"))
			out->op = S3_OP_DELETE_OBJECTS;
		else if (req_form(v))
			out->op = S3_OP_POST_OBJECT;
		else
			out->op = S3_OP_NOT_IMPLEMENTED;
	} else
		out->op = S3_OP_NOT_IMPLEMENTED;
	return S3_OK;
}

static enum s3_code
req_object_op(const struct s3_view *v, const char *m, struct s3_req *out)
{
	int upload = req_has(v, "uploadId");
	int copy = s3_view_header(v, "x-amz-copy-source") != NULL;

	if (strcmp(m, "HEAD") == 0)
		out->op = S3_OP_HEAD_OBJECT;
	else if (req_unsupported(v))
		out->op = S3_OP_NOT_IMPLEMENTED;
	else if (strcmp(m, "GET") == 0) {
		if (upload)
			out->op = S3_OP_LIST_PARTS;
		else if (req_has(v, "tagging"))
			out->op = S3_OP_GET_OBJECT_TAGGING;
		else if (req_has(v, "attributes"))
			out->op = S3_OP_GET_OBJECT_ATTRIBUTES;
		else if (req_has(v, "acl"))
			out->op = S3_OP_GET_OBJECT_ACL;
		else
			out->op = S3_OP_GET_OBJECT;
	} else if (strcmp(m, "PUT") == 0) {
		if (upload || req_has(v, "partNumber")) {
			if (!upload || out->part_number == 0)
				return S3_ERR_INVALID_ARGUMENT;
			out->op = copy ? S3_OP_UPLOAD_PART_COPY :
			    S3_OP_UPLOAD_PART;
		} else if (req_has(v, "tagging"))
			out->op = S3_OP_PUT_OBJECT_TAGGING;
		else if (req_has(v, "acl"))
			out->op = S3_OP_PUT_OBJECT_ACL;
		else
			out->op = copy ? S3_OP_COPY_OBJECT : S3_OP_PUT_OBJECT;
	} else if (strcmp(m, "DELETE") == 0) {
		if (upload)
			out->op = S3_OP_ABORT_MULTIPART_UPLOAD;
		else if (req_has(v, "tagging"))
			out->op = S3_OP_DELETE_OBJECT_TAGGING;
		else
			out->op = S3_OP_DELETE_OBJECT;
	} else if (strcmp(m, "POST") == 0) {
		if (req_has(v, "uploads"))
			out->op = S3_OP_CREATE_MULTIPART_UPLOAD;
		else if (upload)
			out->op = S3_OP_COMPLETE_MULTIPART_UPLOAD;
		else
			out->op = S3_OP_NOT_IMPLEMENTED;
	} else
		out->op = S3_OP_NOT_IMPLEMENTED;
	return S3_OK;
}

enum s3_code
s3_req_classify(const struct s3_req_cfg *cfg, const struct s3_view *v,
    struct s3_req *out)
{
	const char *path = v->path, *rest;
	uint64_t pn;
	enum s3_code sc;

	memset(out, 0, sizeof(*out));
	if (v->method == NULL || path == NULL || path[0] != '/')
		return S3_ERR_INVALID_URI;
	path++;
	if (req_host_bucket(cfg, s3_view_header(v, "host"), out->bucket,
	    sizeof(out->bucket))) {
		out->vhost = 1;
		rest = path;
	} else {
		size_t blen = strcspn(path, "/");

		if (blen > 3 * S3_BUCKET_MAX)
			return S3_ERR_INVALID_BUCKET_NAME;
		if (s3_uri_decode_to(path, blen, out->bucket,
		    sizeof(out->bucket), NULL) != ARK_OK)
			return S3_ERR_INVALID_BUCKET_NAME;
		rest = path[blen] == '/' ? path + blen + 1 : path + blen;
	}
	if (out->bucket[0] == '\0') {
		if (*rest != '\0')
			return S3_ERR_INVALID_BUCKET_NAME;
		if (strcmp(v->method, "GET") != 0 &&
		    strcmp(v->method, "HEAD") != 0)
			return S3_ERR_METHOD_NOT_ALLOWED;
		out->op = S3_OP_LIST_BUCKETS;
		return S3_OK;
	}
	if (!s3_req_bucket_valid(out->bucket))
		return S3_ERR_INVALID_BUCKET_NAME;
	if (*rest != '\0') {
		enum ark_err rc = s3_uri_decode_to(rest, strlen(rest), out->key,
		    sizeof(out->key), &out->keylen);

		if (rc == ARK_ETOOBIG)
			return S3_ERR_KEY_TOO_LONG;
		if (rc != ARK_OK)
			return S3_ERR_INVALID_URI;
		if ((sc = s3_req_key_check(out->key, out->keylen)) != S3_OK)
			return sc;
	}
	if (req_get(v->query, "uploadId", out->upload_id,
	    sizeof(out->upload_id)) != S3_OK ||
	    req_get(v->query, "versionId", out->version_id,
	    sizeof(out->version_id)) != S3_OK)
		return S3_ERR_INVALID_ARGUMENT;
	if ((sc = s3_req_query_uint(v->query, "partNumber", 1,
	    S3_MAX_PART_NUMBER, 0, &pn)) != S3_OK)
		return sc;
	out->part_number = (unsigned)pn;
	if (strcmp(v->method, "OPTIONS") == 0) {
		out->op = S3_OP_PREFLIGHT;
		return S3_OK;
	}
	if (out->keylen == 0)
		return req_bucket_op(v, v->method, out);
	return req_object_op(v, v->method, out);
}

enum s3_code
s3_req_list_params(enum s3_op op, const char *query,
    struct s3_list_params *out)
{
	const char *after, *token;
	char enc[16];
	uint64_t mk;
	enum s3_code sc;

	memset(out, 0, sizeof(*out));
	switch (op) {
	case S3_OP_LIST_OBJECTS_V2:
		after = "start-after";
		token = "continuation-token";
		break;
	case S3_OP_LIST_OBJECT_VERSIONS:
		after = "key-marker";
		token = "version-id-marker";
		break;
	case S3_OP_LIST_MULTIPART_UPLOADS:
		after = "key-marker";
		token = "upload-id-marker";
		break;
	default:
		after = "marker";
		token = NULL;
		break;
	}
	if ((sc = req_get(query, "prefix", out->prefix,
	    sizeof(out->prefix))) != S3_OK ||
	    (sc = req_get(query, "delimiter", out->delimiter,
	    sizeof(out->delimiter))) != S3_OK ||
	    (sc = req_get(query, after, out->after, sizeof(out->after))) !=
	    S3_OK)
		return sc;
	if (token != NULL && s3_uri_query_has(query, token)) {
		out->has_token = 1;
		if ((sc = req_get(query, token, out->token,
		    sizeof(out->token))) != S3_OK)
			return sc;
	}
	if ((sc = s3_req_query_uint(query, op == S3_OP_LIST_MULTIPART_UPLOADS ?
	    "max-uploads" : "max-keys", 0, UINT64_MAX / 16, 1000, &mk)) !=
	    S3_OK)
		return sc;
	out->max_keys = mk > 1000 ? 1000 : (unsigned)mk;
	if ((sc = req_get(query, "encoding-type", enc, sizeof(enc))) != S3_OK)
		return sc;
	if (enc[0] != '\0') {
		if (strcmp(enc, "url") != 0)
			return S3_ERR_INVALID_ARGUMENT;
		out->encoding_url = 1;
	}
	if (s3_uri_query_has(query, "fetch-owner")) {
		if ((sc = req_get(query, "fetch-owner", enc, sizeof(enc))) !=
		    S3_OK)
			return sc;
		out->fetch_owner = strcmp(enc, "true") == 0;
	}
	return S3_OK;
}

enum s3_code
s3_req_copy_source(const char *value, char bucket[S3_BUCKET_MAX + 1],
    char key[S3_KEY_MAX + 1], char version[S3_VERSION_ID_MAX])
{
	const char *p = value, *q, *slash;
	size_t klen;
	enum ark_err rc;
	enum s3_code sc;

	version[0] = '\0';
	if (*p == '/')
		p++;
	q = strchr(p, '?');
	slash = strchr(p, '/');
	if (slash == NULL || (q != NULL && slash > q))
		return S3_ERR_INVALID_ARGUMENT;
	if (s3_uri_decode_to(p, (size_t)(slash - p), bucket,
	    S3_BUCKET_MAX + 1, NULL) != ARK_OK || !s3_req_bucket_valid(bucket))
		return S3_ERR_INVALID_BUCKET_NAME;
	p = slash + 1;
	rc = s3_uri_decode_to(p, q != NULL ? (size_t)(q - p) : strlen(p), key,
	    S3_KEY_MAX + 1, &klen);
	if (rc == ARK_ETOOBIG)
		return S3_ERR_KEY_TOO_LONG;
	if (rc != ARK_OK)
		return S3_ERR_INVALID_ARGUMENT;
	if (klen == 0)
		return S3_ERR_INVALID_ARGUMENT;
	if ((sc = s3_req_key_check(key, klen)) != S3_OK)
		return sc;
	if (q != NULL) {
		rc = s3_uri_query_get(q + 1, "versionId", version,
		    S3_VERSION_ID_MAX);
		if (rc != ARK_OK && rc != ARK_ENOENT)
			return S3_ERR_INVALID_ARGUMENT;
		if (rc == ARK_ENOENT)
			version[0] = '\0';
	}
	return S3_OK;
}

enum s3_code
s3_req_canned_acl(const char *value, enum s3_acl *out)
{
	static const char *const unsupported[] = { "public-read-write",
	    "authenticated-read", "aws-exec-read", "log-delivery-write" };

	if (strcmp(value, "private") == 0 ||
	    strcmp(value, "bucket-owner-read") == 0 ||
	    strcmp(value, "bucket-owner-full-control") == 0) {
		*out = S3_ACL_PRIVATE;
		return S3_OK;
	}
	if (strcmp(value, "public-read") == 0) {
		*out = S3_ACL_PUBLIC_READ;
		return S3_OK;
	}
	for (size_t i = 0; i < ARK_ARRAY_SIZE(unsupported); i++)
		if (strcmp(value, unsupported[i]) == 0)
			return S3_ERR_NOT_IMPLEMENTED;
	return S3_ERR_INVALID_ARGUMENT;
}

/* ---- Range ---- */

/* Parses decimal digits at *p (advanced); -1 when none or overflow. */
static int
req_u64(const char **p, uint64_t *out)
{
	uint64_t n = 0;
	const char *s = *p;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*out = n;
	return 0;
}

enum s3_code
s3_req_range(const char *h, uint64_t size, struct s3_range *out)
{
	const char *p;
	uint64_t a, b;

	memset(out, 0, sizeof(*out));
	if (h == NULL)
		return S3_OK;
	p = h;
	while (*p == ' ')
		p++;
	if (strncasecmp(p, "bytes=", 6) != 0)
		return S3_OK;
	p += 6;
	while (*p == ' ')
		p++;
	if (strchr(p, ',') != NULL)
		return S3_OK;		/* multiple ranges: whole object */
	if (*p == '-') {
		p++;
		if (req_u64(&p, &b) != 0)
			return S3_OK;
		while (*p == ' ')
			p++;
		if (*p != '\0')
			return S3_OK;
		if (b == 0 || size == 0)
			return S3_ERR_INVALID_RANGE;
		out->set = 1;
		out->start = b >= size ? 0 : size - b;
		out->end = size - 1;
		return S3_OK;
	}
	if (req_u64(&p, &a) != 0 || *p++ != '-')
		return S3_OK;
	if (*p == '\0' || *p == ' ') {
		b = UINT64_MAX;
	} else if (req_u64(&p, &b) != 0 || b < a)
		return S3_OK;
	while (*p == ' ')
		p++;
	if (*p != '\0')
		return S3_OK;
	if (a >= size)
		return S3_ERR_INVALID_RANGE;
	out->set = 1;
	out->start = a;
	out->end = b >= size ? size - 1 : b;
	return S3_OK;
}

/* ---- Conditionals ---- */

int
s3_req_etag_match(const char *h, const char *etag)
{
	const char *p = h;
	size_t elen;

	if (etag == NULL)
		return 0;
	elen = strlen(etag);
	while (*p != '\0') {
		const char *s;
		size_t len;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		s = p;
		len = strcspn(p, ",");
		p += len;
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len == 1 && *s == '*')
			return 1;
		if (len >= 2 && s[0] == 'W' && s[1] == '/') {
			s += 2;
			len -= 2;
		}
		if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
			s++;
			len -= 2;
		}
		if (len == elen && memcmp(s, etag, len) == 0)
			return 1;
	}
	return 0;
}

enum s3_code
s3_req_conditions(const struct s3_view *v, const char *etag,
    int64_t last_modified, int read)
{
	return s3_req_conditions_h(s3_view_header(v, "if-match"),
	    s3_view_header(v, "if-unmodified-since"),
	    s3_view_header(v, "if-none-match"),
	    s3_view_header(v, "if-modified-since"), etag, last_modified,
	    read ? S3_COND_READ : S3_COND_WRITE);
}

enum s3_code
s3_req_conditions_h(const char *im, const char *ius, const char *inm,
    const char *ims, const char *etag, int64_t last_modified,
    enum s3_cond_mode mode)
{
	int64_t t;

	/* 1. If-Match, else 2. If-Unmodified-Since */
	if (im != NULL) {
		if (!s3_req_etag_match(im, etag))
			return S3_ERR_PRECONDITION_FAILED;
	} else if (ius != NULL && etag != NULL &&
	    s3_time_parse_http(ius, &t) == ARK_OK && last_modified > t)
		return S3_ERR_PRECONDITION_FAILED;
	/* 3. If-None-Match, else 4. If-Modified-Since (not for writes) */
	if (inm != NULL) {
		if (s3_req_etag_match(inm, etag))
			return mode == S3_COND_READ ? S3_ERR_NOT_MODIFIED :
			    S3_ERR_PRECONDITION_FAILED;
	} else if (mode != S3_COND_WRITE && ims != NULL && etag != NULL &&
	    s3_time_parse_http(ims, &t) == ARK_OK && last_modified <= t)
		return mode == S3_COND_READ ? S3_ERR_NOT_MODIFIED :
		    S3_ERR_PRECONDITION_FAILED;
	return S3_OK;
}
