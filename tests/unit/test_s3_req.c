/*
 * test_s3_req.c - operation classification (path and virtual-hosted
 * style), bucket/key rules, query helpers, listing parameters,
 * x-amz-copy-source, canned ACLs, Range and conditional headers.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "object/s3_req.h"

static const struct s3_req_cfg cfg = { .domain = "s3.example.com" };

static enum s3_code
classify(const char *m, const char *path, const char *query,
    const char *host, const char *copy, struct s3_req *r)
{
	const char *kv[] = { "Host", host, "x-amz-copy-source", copy, NULL };
	struct s3_view v;

	if (copy == NULL)
		kv[2] = NULL;
	s3_view_init_kv(&v, m, path, query, kv);
	return s3_req_classify(&cfg, &v, r);
}

static enum s3_op
op(const char *m, const char *path, const char *query)
{
	struct s3_req r;
	enum s3_code sc = classify(m, path, query, "s3.example.com", NULL, &r);

	assert_int_equal(sc, S3_OK);
	return r.op;
}

static enum s3_op
op_copy(const char *m, const char *path, const char *query)
{
	struct s3_req r;
	enum s3_code sc = classify(m, path, query, "localhost:7480",
	    "/src/k", &r);

	assert_int_equal(sc, S3_OK);
	return r.op;
}

static void
test_ops(void **state)
{
	(void)state;
	assert_int_equal(op("GET", "/", NULL), S3_OP_LIST_BUCKETS);
	assert_int_equal(op("PUT", "/bkt", NULL), S3_OP_CREATE_BUCKET);
	assert_int_equal(op("PUT", "/bkt/", NULL), S3_OP_CREATE_BUCKET);
	assert_int_equal(op("DELETE", "/bkt", NULL), S3_OP_DELETE_BUCKET);
	assert_int_equal(op("HEAD", "/bkt", NULL), S3_OP_HEAD_BUCKET);
	assert_int_equal(op("GET", "/bkt", "location"),
	    S3_OP_GET_BUCKET_LOCATION);
	assert_int_equal(op("GET", "/bkt", "acl"), S3_OP_GET_BUCKET_ACL);
	assert_int_equal(op("PUT", "/bkt", "acl"), S3_OP_PUT_BUCKET_ACL);
	assert_int_equal(op("GET", "/bkt", NULL), S3_OP_LIST_OBJECTS);
	assert_int_equal(op("GET", "/bkt", "prefix=a&x-id=ListObjects"),
	    S3_OP_LIST_OBJECTS);
	assert_int_equal(op("GET", "/bkt", "list-type=2&prefix=a"),
	    S3_OP_LIST_OBJECTS_V2);
	assert_int_equal(op("GET", "/bkt", "versions"),
	    S3_OP_LIST_OBJECT_VERSIONS);
	assert_int_equal(op("GET", "/bkt", "uploads"),
	    S3_OP_LIST_MULTIPART_UPLOADS);
	assert_int_equal(op("POST", "/bkt", "delete"), S3_OP_DELETE_OBJECTS);
	assert_int_equal(op("PUT", "/bkt/k", "x-id=PutObject"),
	    S3_OP_PUT_OBJECT);
	assert_int_equal(op_copy("PUT", "/bkt/k", NULL), S3_OP_COPY_OBJECT);
	assert_int_equal(op("GET", "/bkt/k", "partNumber=2"), S3_OP_GET_OBJECT);
	assert_int_equal(op("HEAD", "/bkt/k", NULL), S3_OP_HEAD_OBJECT);
	assert_int_equal(op("DELETE", "/bkt/k", "versionId=null"),
	    S3_OP_DELETE_OBJECT);
	assert_int_equal(op("POST", "/bkt/k", "uploads"),
	    S3_OP_CREATE_MULTIPART_UPLOAD);
	assert_int_equal(op("PUT", "/bkt/k", "partNumber=1&uploadId=u1"),
	    S3_OP_UPLOAD_PART);
	assert_int_equal(op_copy("PUT", "/bkt/k", "partNumber=1&uploadId=u1"),
	    S3_OP_UPLOAD_PART_COPY);
	assert_int_equal(op("POST", "/bkt/k", "uploadId=u1"),
	    S3_OP_COMPLETE_MULTIPART_UPLOAD);
	assert_int_equal(op("DELETE", "/bkt/k", "uploadId=u1"),
	    S3_OP_ABORT_MULTIPART_UPLOAD);
	assert_int_equal(op("GET", "/bkt/k", "uploadId=u1"), S3_OP_LIST_PARTS);
	assert_int_equal(op("GET", "/bkt/k", "tagging"),
	    S3_OP_GET_OBJECT_TAGGING);
	assert_int_equal(op("PUT", "/bkt/k", "tagging"),
	    S3_OP_PUT_OBJECT_TAGGING);
	assert_int_equal(op("DELETE", "/bkt/k", "tagging"),
	    S3_OP_DELETE_OBJECT_TAGGING);
	assert_int_equal(op("GET", "/bkt/k", "attributes"),
	    S3_OP_GET_OBJECT_ATTRIBUTES);
	assert_int_equal(op("GET", "/bkt/k", "acl"), S3_OP_GET_OBJECT_ACL);
	assert_int_equal(op("PUT", "/bkt/k", "acl"), S3_OP_PUT_OBJECT_ACL);
	/* known but unsupported */
	assert_int_equal(op("PUT", "/bkt", "versioning"),
	    S3_OP_NOT_IMPLEMENTED);
	/* configurations never stored: read as absent, deleted as no-op */
	assert_int_equal(op("GET", "/bkt", "versioning"),
	    S3_OP_GET_BUCKET_CONFIG);
	assert_int_equal(op("GET", "/bkt", "policy"), S3_OP_GET_BUCKET_CONFIG);
	assert_int_equal(op("DELETE", "/bkt", "website"),
	    S3_OP_DELETE_BUCKET_CONFIG);
	/* stored: tagging and cors */
	assert_int_equal(op("GET", "/bkt", "tagging"), S3_OP_GET_BUCKET_TAGGING);
	assert_int_equal(op("PUT", "/bkt", "tagging"), S3_OP_PUT_BUCKET_TAGGING);
	assert_int_equal(op("DELETE", "/bkt", "tagging"),
	    S3_OP_DELETE_BUCKET_TAGGING);
	assert_int_equal(op("POST", "/bkt", "tagging"), S3_OP_NOT_IMPLEMENTED);
	assert_int_equal(op("GET", "/bkt", "cors"), S3_OP_GET_BUCKET_CORS);
	assert_int_equal(op("PUT", "/bkt", "cors"), S3_OP_PUT_BUCKET_CORS);
	assert_int_equal(op("DELETE", "/bkt", "cors"), S3_OP_DELETE_BUCKET_CORS);
	assert_int_equal(op("PUT", "/bkt/k", "cors"), S3_OP_NOT_IMPLEMENTED);
	assert_int_equal(op("DELETE", "/bkt", "versioning"),
	    S3_OP_NOT_IMPLEMENTED);
	assert_int_equal(op("PUT", "/bkt", "policy"), S3_OP_NOT_IMPLEMENTED);
	assert_int_equal(op("GET", "/bkt", "analytics"), S3_OP_NOT_IMPLEMENTED);
	assert_int_equal(op("PUT", "/bkt/k", "retention"),
	    S3_OP_NOT_IMPLEMENTED);
	assert_int_equal(op("POST", "/bkt/k", "restore"),
	    S3_OP_NOT_IMPLEMENTED);
	assert_int_equal(op("POST", "/bkt", NULL), S3_OP_NOT_IMPLEMENTED);
	/* CORS preflight on a bucket or an object, whatever the query */
	assert_int_equal(op("OPTIONS", "/bkt/k", NULL), S3_OP_PREFLIGHT);
	assert_int_equal(op("OPTIONS", "/bkt", "uploads"), S3_OP_PREFLIGHT);
	assert_int_equal(op("PATCH", "/bkt", NULL), S3_OP_NOT_IMPLEMENTED);
	assert_string_equal(s3_op_name(S3_OP_LIST_OBJECTS_V2),
	    "ListObjectsV2");
	assert_string_equal(s3_op_name(S3_OP_MAX), "NotImplemented");
}

static void
test_names_and_errors(void **state)
{
	struct s3_req r;
	char longkey[1100];

	(void)state;
	assert_int_equal(classify("GET", "/bkt/a%20b/c%2Fd+e", "versionId=v%31",
	    "localhost", NULL, &r), S3_OK);
	assert_string_equal(r.bucket, "bkt");
	assert_string_equal(r.key, "a b/c/d+e");
	assert_string_equal(r.version_id, "v1");
	assert_false(r.vhost);
	/* virtual-hosted */
	assert_int_equal(classify("GET", "/photos/x.jpg", NULL,
	    "My.Bucket.S3.Example.com:7480", NULL, &r), S3_OK);
	assert_true(r.vhost);
	assert_string_equal(r.bucket, "my.bucket");
	assert_string_equal(r.key, "photos/x.jpg");
	assert_int_equal(r.op, S3_OP_GET_OBJECT);
	assert_int_equal(classify("GET", "/", "list-type=2", "bk1.s3.example.com",
	    NULL, &r), S3_OK);
	assert_int_equal(r.op, S3_OP_LIST_OBJECTS_V2);
	assert_string_equal(r.bucket, "bk1");
	/* the domain itself and other hosts are path style */
	assert_int_equal(classify("GET", "/bk1/k", NULL, "s3.example.com.", NULL,
	    &r), S3_OK);
	assert_false(r.vhost);
	assert_string_equal(r.bucket, "bk1");
	assert_int_equal(classify("GET", "/bk1/k", NULL, "xs3.example.com", NULL,
	    &r), S3_OK);
	assert_false(r.vhost);
	/* errors */
	assert_int_equal(classify("GET", "bkt/k", NULL, "h", NULL, &r),
	    S3_ERR_INVALID_URI);
	assert_int_equal(classify("GET", "/Bkt/k", NULL, "h", NULL, &r),
	    S3_ERR_INVALID_BUCKET_NAME);
	assert_int_equal(classify("GET", "//k", NULL, "h", NULL, &r),
	    S3_ERR_INVALID_BUCKET_NAME);
	assert_int_equal(classify("GET", "/bkt/a%zz", NULL, "h", NULL, &r),
	    S3_ERR_INVALID_URI);
	assert_int_equal(classify("GET", "/bkt/a%00b", NULL, "h", NULL, &r),
	    S3_ERR_INVALID_OBJECT_NAME);
	assert_int_equal(classify("GET", "/bkt/a%C3", NULL, "h", NULL, &r),
	    S3_ERR_INVALID_OBJECT_NAME);
	assert_int_equal(classify("PUT", "/", NULL, "h", NULL, &r),
	    S3_ERR_METHOD_NOT_ALLOWED);
	assert_int_equal(classify("GET", "/bkt", "list-type=1", "h", NULL, &r),
	    S3_ERR_INVALID_ARGUMENT);
	assert_int_equal(classify("PUT", "/bkt/k", "partNumber=0&uploadId=u",
	    "h", NULL, &r), S3_ERR_INVALID_ARGUMENT);
	assert_int_equal(classify("PUT", "/bkt/k", "partNumber=10001&uploadId=u",
	    "h", NULL, &r), S3_ERR_INVALID_ARGUMENT);
	assert_int_equal(classify("PUT", "/bkt/k", "partNumber=1", "h", NULL,
	    &r), S3_ERR_INVALID_ARGUMENT);
	assert_int_equal(classify("PUT", "/bkt/k", "uploadId=u", "h", NULL,
	    &r), S3_ERR_INVALID_ARGUMENT);
	/* 1024-byte key fine, 1025 too long */
	memcpy(longkey, "/bkt/", 5);
	memset(longkey + 5, 'k', 1024);
	longkey[5 + 1024] = '\0';
	assert_int_equal(classify("GET", longkey, NULL, "h", NULL, &r), S3_OK);
	assert_int_equal(r.keylen, 1024);
	longkey[5 + 1024] = 'k';
	longkey[5 + 1025] = '\0';
	assert_int_equal(classify("GET", longkey, NULL, "h", NULL, &r),
	    S3_ERR_KEY_TOO_LONG);
}

static void
test_bucket_rules(void **state)
{
	static const char *const good[] = { "abc", "my-bucket", "my.bucket.1",
	    "1bucket", "a1b", "192.168.5.4a", "xn-abc", "bucket-s3alia" };
	static const char *const bad[] = { "ab", "", "ABC", "-abc", "abc-",
	    ".abc", "abc.", "a..b", "192.168.5.4", "xn--abc", "abc-s3alias",
	    "sthree-x", "abc--ol-s3", "ab_c", "a b",
	    "a123456789012345678901234567890123456789012345678901234567890123" };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(s3_req_bucket_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(s3_req_bucket_valid(bad[i]));
	assert_int_equal(s3_req_key_check("a", 1), S3_OK);
	assert_int_equal(s3_req_key_check("", 0), S3_ERR_INVALID_OBJECT_NAME);
}

static void
test_query_and_lists(void **state)
{
	struct s3_list_params *lp = malloc(sizeof(*lp));
	uint64_t n;

	(void)state;
	assert_non_null(lp);
	assert_int_equal(s3_req_query_uint("max-parts=5", "max-parts", 0, 1000,
	    1000, &n), S3_OK);
	assert_int_equal(n, 5);
	assert_int_equal(s3_req_query_uint("x=1", "max-parts", 0, 1000, 1000,
	    &n), S3_OK);
	assert_int_equal(n, 1000);
	assert_int_equal(s3_req_query_uint("max-parts=-1", "max-parts", 0,
	    1000, 1000, &n), S3_ERR_INVALID_ARGUMENT);
	assert_int_equal(s3_req_query_uint("max-parts=", "max-parts", 0,
	    1000, 1000, &n), S3_ERR_INVALID_ARGUMENT);
	assert_int_equal(s3_req_query_uint("max-parts=99999999999999999999999",
	    "max-parts", 0, 1000, 1000, &n), S3_ERR_INVALID_ARGUMENT);

	assert_int_equal(s3_req_list_params(S3_OP_LIST_OBJECTS_V2,
	    "list-type=2&prefix=photos%2F&delimiter=%2F&start-after=a"
	    "&continuation-token=tok&max-keys=5000&encoding-type=url"
	    "&fetch-owner=true", lp), S3_OK);
	assert_string_equal(lp->prefix, "photos/");
	assert_string_equal(lp->delimiter, "/");
	assert_string_equal(lp->after, "a");
	assert_true(lp->has_token);
	assert_string_equal(lp->token, "tok");
	assert_int_equal(lp->max_keys, 1000);
	assert_true(lp->encoding_url);
	assert_true(lp->fetch_owner);
	assert_int_equal(s3_req_list_params(S3_OP_LIST_OBJECTS,
	    "marker=m&max-keys=2", lp), S3_OK);
	assert_string_equal(lp->after, "m");
	assert_int_equal(lp->max_keys, 2);
	assert_false(lp->has_token);
	assert_int_equal(s3_req_list_params(S3_OP_LIST_OBJECT_VERSIONS,
	    "versions&key-marker=k&version-id-marker=null", lp), S3_OK);
	assert_string_equal(lp->after, "k");
	assert_string_equal(lp->token, "null");
	assert_int_equal(s3_req_list_params(S3_OP_LIST_MULTIPART_UPLOADS,
	    "uploads&max-uploads=3&upload-id-marker=u", lp), S3_OK);
	assert_int_equal(lp->max_keys, 3);
	assert_string_equal(lp->token, "u");
	assert_int_equal(s3_req_list_params(S3_OP_LIST_OBJECTS,
	    "encoding-type=base64", lp), S3_ERR_INVALID_ARGUMENT);
	assert_int_equal(s3_req_list_params(S3_OP_LIST_OBJECTS,
	    "max-keys=abc", lp), S3_ERR_INVALID_ARGUMENT);
	assert_int_equal(s3_req_list_params(S3_OP_LIST_OBJECTS,
	    "prefix=%4", lp), S3_ERR_INVALID_ARGUMENT);
	assert_int_equal(s3_req_list_params(S3_OP_LIST_OBJECTS, NULL, lp),
	    S3_OK);
	assert_int_equal(lp->max_keys, 1000);
	free(lp);
}

static void
test_copy_source_acl(void **state)
{
	char b[S3_BUCKET_MAX + 1], k[S3_KEY_MAX + 1], v[S3_VERSION_ID_MAX];
	enum s3_acl acl;

	(void)state;
	assert_int_equal(s3_req_copy_source("/src/a%20b/c?versionId=v1", b, k,
	    v), S3_OK);
	assert_string_equal(b, "src");
	assert_string_equal(k, "a b/c");
	assert_string_equal(v, "v1");
	assert_int_equal(s3_req_copy_source("src/k", b, k, v), S3_OK);
	assert_string_equal(v, "");
	assert_int_equal(s3_req_copy_source("src", b, k, v),
	    S3_ERR_INVALID_ARGUMENT);
	assert_int_equal(s3_req_copy_source("/src/", b, k, v),
	    S3_ERR_INVALID_ARGUMENT);
	assert_int_equal(s3_req_copy_source("/SRC/k", b, k, v),
	    S3_ERR_INVALID_BUCKET_NAME);
	assert_int_equal(s3_req_copy_source("/src/k%zz", b, k, v),
	    S3_ERR_INVALID_ARGUMENT);
	assert_int_equal(s3_req_canned_acl("private", &acl), S3_OK);
	assert_int_equal(acl, S3_ACL_PRIVATE);
	assert_int_equal(s3_req_canned_acl("public-read", &acl), S3_OK);
	assert_int_equal(acl, S3_ACL_PUBLIC_READ);
	assert_int_equal(s3_req_canned_acl("bucket-owner-full-control", &acl),
	    S3_OK);
	assert_int_equal(s3_req_canned_acl("public-read-write", &acl),
	    S3_ERR_NOT_IMPLEMENTED);
	assert_int_equal(s3_req_canned_acl("bogus", &acl),
	    S3_ERR_INVALID_ARGUMENT);
}

static void
test_range(void **state)
{
	struct s3_range r;

	(void)state;
	assert_int_equal(s3_req_range(NULL, 100, &r), S3_OK);
	assert_false(r.set);
	assert_int_equal(s3_req_range("bytes=0-9", 100, &r), S3_OK);
	assert_true(r.set);
	assert_int_equal(r.start, 0);
	assert_int_equal(r.end, 9);
	assert_int_equal(s3_req_range("bytes=90-200", 100, &r), S3_OK);
	assert_int_equal(r.end, 99);
	assert_int_equal(s3_req_range("bytes=50-", 100, &r), S3_OK);
	assert_int_equal(r.start, 50);
	assert_int_equal(r.end, 99);
	assert_int_equal(s3_req_range("bytes=-10", 100, &r), S3_OK);
	assert_int_equal(r.start, 90);
	assert_int_equal(r.end, 99);
	assert_int_equal(s3_req_range("bytes=-1000", 100, &r), S3_OK);
	assert_int_equal(r.start, 0);
	assert_int_equal(s3_req_range("bytes=99-99", 100, &r), S3_OK);
	assert_int_equal(r.start, 99);
	/* unsatisfiable */
	assert_int_equal(s3_req_range("bytes=100-", 100, &r),
	    S3_ERR_INVALID_RANGE);
	assert_int_equal(s3_req_range("bytes=100-200", 100, &r),
	    S3_ERR_INVALID_RANGE);
	assert_int_equal(s3_req_range("bytes=-0", 100, &r),
	    S3_ERR_INVALID_RANGE);
	assert_int_equal(s3_req_range("bytes=0-", 0, &r),
	    S3_ERR_INVALID_RANGE);
	assert_int_equal(s3_req_range("bytes=-5", 0, &r),
	    S3_ERR_INVALID_RANGE);
	/* ignored: syntax, units, several ranges */
	assert_int_equal(s3_req_range("bytes=9-0", 100, &r), S3_OK);
	assert_false(r.set);
	assert_int_equal(s3_req_range("items=0-9", 100, &r), S3_OK);
	assert_false(r.set);
	assert_int_equal(s3_req_range("bytes=0-1,5-6", 100, &r), S3_OK);
	assert_false(r.set);
	assert_int_equal(s3_req_range("bytes=a-b", 100, &r), S3_OK);
	assert_false(r.set);
	assert_int_equal(s3_req_range("bytes=1-2x", 100, &r), S3_OK);
	assert_false(r.set);
	assert_int_equal(s3_req_range("bytes=--1", 100, &r), S3_OK);
	assert_false(r.set);
	assert_int_equal(s3_req_range("bytes=99999999999999999999999-", 100,
	    &r), S3_OK);
	assert_false(r.set);
}

static enum s3_code
cond(const char *im, const char *inm, const char *ims, const char *ius,
    const char *etag, int read)
{
	const char *kv[10];
	size_t n = 0;
	struct s3_view v;

	if (im != NULL) {
		kv[n++] = "If-Match";
		kv[n++] = im;
	}
	if (inm != NULL) {
		kv[n++] = "If-None-Match";
		kv[n++] = inm;
	}
	if (ims != NULL) {
		kv[n++] = "If-Modified-Since";
		kv[n++] = ims;
	}
	if (ius != NULL) {
		kv[n++] = "If-Unmodified-Since";
		kv[n++] = ius;
	}
	kv[n] = NULL;
	s3_view_init_kv(&v, "GET", "/b/k", NULL, kv);
	/* Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT */
	return s3_req_conditions(&v, etag, 784111777, read);
}

#define BEFORE	"Sat, 05 Nov 1994 08:49:37 GMT"
#define SAME	"Sun, 06 Nov 1994 08:49:37 GMT"
#define AFTER	"Mon, 07 Nov 1994 08:49:37 GMT"

static void
test_conditions(void **state)
{
	(void)state;
	assert_int_equal(cond(NULL, NULL, NULL, NULL, "e1", 1), S3_OK);
	/* If-Match */
	assert_int_equal(cond("\"e1\"", NULL, NULL, NULL, "e1", 1), S3_OK);
	assert_int_equal(cond("\"x\", \"e1\"", NULL, NULL, NULL, "e1", 1),
	    S3_OK);
	assert_int_equal(cond("*", NULL, NULL, NULL, "e1", 1), S3_OK);
	assert_int_equal(cond("\"x\"", NULL, NULL, NULL, "e1", 1),
	    S3_ERR_PRECONDITION_FAILED);
	assert_int_equal(cond("*", NULL, NULL, NULL, NULL, 0),
	    S3_ERR_PRECONDITION_FAILED);
	/* If-Unmodified-Since, and ignored when If-Match is present */
	assert_int_equal(cond(NULL, NULL, NULL, BEFORE, "e1", 1),
	    S3_ERR_PRECONDITION_FAILED);
	assert_int_equal(cond(NULL, NULL, NULL, SAME, "e1", 1), S3_OK);
	assert_int_equal(cond("e1", NULL, NULL, BEFORE, "e1", 1), S3_OK);
	assert_int_equal(cond(NULL, NULL, NULL, "garbage", "e1", 1), S3_OK);
	/* If-None-Match */
	assert_int_equal(cond(NULL, "\"e1\"", NULL, NULL, "e1", 1),
	    S3_ERR_NOT_MODIFIED);
	assert_int_equal(cond(NULL, "W/\"e1\"", NULL, NULL, "e1", 1),
	    S3_ERR_NOT_MODIFIED);
	assert_int_equal(cond(NULL, "\"e1\"", NULL, NULL, "e1", 0),
	    S3_ERR_PRECONDITION_FAILED);
	assert_int_equal(cond(NULL, "\"e2\"", NULL, NULL, "e1", 1), S3_OK);
	/* conditional PUT: If-None-Match: * */
	assert_int_equal(cond(NULL, "*", NULL, NULL, NULL, 0), S3_OK);
	assert_int_equal(cond(NULL, "*", NULL, NULL, "e1", 0),
	    S3_ERR_PRECONDITION_FAILED);
	/* If-Modified-Since, ignored when If-None-Match is present */
	assert_int_equal(cond(NULL, NULL, SAME, NULL, "e1", 1),
	    S3_ERR_NOT_MODIFIED);
	assert_int_equal(cond(NULL, NULL, AFTER, NULL, "e1", 1),
	    S3_ERR_NOT_MODIFIED);
	assert_int_equal(cond(NULL, NULL, BEFORE, NULL, "e1", 1), S3_OK);
	assert_int_equal(cond(NULL, NULL, SAME, NULL, "e1", 0), S3_OK);
	assert_int_equal(cond(NULL, "\"e2\"", SAME, NULL, "e1", 1), S3_OK);
	/* AWS: If-Match true + If-Unmodified-Since false -> 200;
	 * If-None-Match false + If-Modified-Since true -> 304 */
	assert_int_equal(cond("\"e1\"", NULL, NULL, BEFORE, "e1", 1), S3_OK);
	assert_int_equal(cond(NULL, "\"e1\"", BEFORE, NULL, "e1", 1),
	    S3_ERR_NOT_MODIFIED);
	/* both failing kinds: 412 wins */
	assert_int_equal(cond("\"x\"", "\"e1\"", NULL, NULL, "e1", 1),
	    S3_ERR_PRECONDITION_FAILED);
	/* x-amz-copy-source-if-*: every failure is 412, If-Modified-Since
	 * applies; conditional PUT ignores If-Modified-Since */
	assert_int_equal(s3_req_conditions_h(NULL, NULL, "\"e1\"", NULL,
	    "e1", 784111777, S3_COND_COPY), S3_ERR_PRECONDITION_FAILED);
	assert_int_equal(s3_req_conditions_h(NULL, NULL, NULL, SAME, "e1",
	    784111777, S3_COND_COPY), S3_ERR_PRECONDITION_FAILED);
	assert_int_equal(s3_req_conditions_h(NULL, NULL, NULL, BEFORE, "e1",
	    784111777, S3_COND_COPY), S3_OK);
	assert_int_equal(s3_req_conditions_h("e1", AFTER, NULL, BEFORE, "e1",
	    784111777, S3_COND_COPY), S3_OK);
	assert_int_equal(s3_req_conditions_h(NULL, BEFORE, NULL, NULL, "e1",
	    784111777, S3_COND_COPY), S3_ERR_PRECONDITION_FAILED);
	assert_int_equal(s3_req_conditions_h(NULL, NULL, NULL, SAME, "e1",
	    784111777, S3_COND_WRITE), S3_OK);
	assert_int_equal(s3_req_conditions_h(NULL, NULL, NULL, SAME, "e1",
	    784111777, S3_COND_READ), S3_ERR_NOT_MODIFIED);
	assert_false(s3_req_etag_match("", "e1"));
	assert_false(s3_req_etag_match("\"e1\"", NULL));
	assert_true(s3_req_etag_match(" , e1 ,", "e1"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops),
		cmocka_unit_test(test_names_and_errors),
		cmocka_unit_test(test_bucket_rules),
		cmocka_unit_test(test_query_and_lists),
		cmocka_unit_test(test_copy_source_acl),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_conditions),
	};

	return cmocka_run_group_tests_name("s3_req", tests, NULL, NULL);
}
