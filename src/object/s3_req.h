/*
 * s3_req.h - S3 request classification and the request-level rules that
 * need no storage: which operation a (method, path, query, headers)
 * names, bucket and key (path-style or virtual-hosted-style with a
 * configured domain), bucket name and key validity, query parameters,
 * x-amz-copy-source, canned ACL headers, Range, and conditional headers
 * (RFC 7232 precedence) against an object's ETag and Last-Modified.
 *
 * Only the sub-resources listed in s3_req.c select an operation; other
 * query parameters are ignored (SDKs add e.g. x-id=PutObject). A
 * bucket's tagging and cors are stored (Get/Put/Delete); bucket
 * configurations Arkor never stores (versioning, policy, lifecycle,
 * ...: s3_bucket_confs) are read as "not configured" and deleted as a
 * no-op; other known but unsupported sub-resources, and setting any of
 * those configurations, classify as S3_OP_NOT_IMPLEMENTED. OPTIONS on a
 * bucket or object is a CORS preflight. Everything here is thread-safe.
 */
#ifndef ARKOR_OBJECT_S3_REQ_H
#define ARKOR_OBJECT_S3_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "object/s3_error.h"
#include "object/s3_view.h"
#include "object/s3_xml.h"		/* enum s3_acl */

#define S3_BUCKET_MAX		63
#define S3_KEY_MAX		1024	/* bytes of UTF-8 */
#define S3_TOKEN_MAX		1368	/* base64url of S3_KEY_MAX bytes */
#define S3_UPLOAD_ID_MAX	256
#define S3_VERSION_ID_MAX	256
#define S3_MAX_PART_NUMBER	10000

enum s3_op {
	S3_OP_NOT_IMPLEMENTED = 0,
	S3_OP_LIST_BUCKETS,
	S3_OP_CREATE_BUCKET,
	S3_OP_DELETE_BUCKET,
	S3_OP_HEAD_BUCKET,
	S3_OP_GET_BUCKET_LOCATION,
	S3_OP_GET_BUCKET_ACL,
	S3_OP_PUT_BUCKET_ACL,
	S3_OP_GET_BUCKET_CONFIG,	/* s3_req.conf: never configured */
	S3_OP_DELETE_BUCKET_CONFIG,	/* s3_req.conf: nothing to delete */
	S3_OP_GET_BUCKET_TAGGING,
	S3_OP_PUT_BUCKET_TAGGING,
	S3_OP_DELETE_BUCKET_TAGGING,
	S3_OP_GET_BUCKET_CORS,
	S3_OP_PUT_BUCKET_CORS,
	S3_OP_DELETE_BUCKET_CORS,
	S3_OP_PREFLIGHT,		/* OPTIONS /<bucket>[/<key>] */
	S3_OP_LIST_OBJECTS,
	S3_OP_LIST_OBJECTS_V2,
	S3_OP_LIST_OBJECT_VERSIONS,
	S3_OP_LIST_MULTIPART_UPLOADS,
	S3_OP_DELETE_OBJECTS,
	S3_OP_PUT_OBJECT,
	S3_OP_COPY_OBJECT,
	S3_OP_GET_OBJECT,
	S3_OP_HEAD_OBJECT,
	S3_OP_DELETE_OBJECT,
	S3_OP_CREATE_MULTIPART_UPLOAD,
	S3_OP_UPLOAD_PART,
	S3_OP_UPLOAD_PART_COPY,
	S3_OP_COMPLETE_MULTIPART_UPLOAD,
	S3_OP_ABORT_MULTIPART_UPLOAD,
	S3_OP_LIST_PARTS,
	S3_OP_GET_OBJECT_TAGGING,
	S3_OP_PUT_OBJECT_TAGGING,
	S3_OP_DELETE_OBJECT_TAGGING,
	S3_OP_GET_OBJECT_ATTRIBUTES,
	S3_OP_GET_OBJECT_ACL,
	S3_OP_PUT_OBJECT_ACL,
	S3_OP_POST_OBJECT,		/* browser form upload */
	S3_OP_MAX
};

/* "ListObjectsV2", ...; "NotImplemented" for S3_OP_NOT_IMPLEMENTED and
 * out-of-range values. */
const char	*s3_op_name(enum s3_op op);

struct s3_req_cfg {
	/* Virtual-hosted style: a Host of "<bucket>.<domain>[:port]" names
	 * the bucket. NULL or "": path style only. */
	const char	*domain;
};

/* A bucket configuration sub-resource Arkor never stores: GET answers
 * an empty document (root element `empty`) or the 404 `missing`. */
struct s3_bucket_conf {
	const char	*subres;	/* "policy" */
	const char	*empty;		/* root element, or NULL */
	enum s3_code	 missing;	/* when empty is NULL */
	int		 deletable;	/* DELETE ?subres exists in S3 */
	const char	*child[2];	/* one element in empty, or NULLs */
};

struct s3_req {				/* plain value, ~1.6 KiB */
	enum s3_op	 op;
	const struct s3_bucket_conf *conf;	/* *_BUCKET_CONFIG; static */
	int		 vhost;			/* bucket came from Host */
	char		 bucket[S3_BUCKET_MAX + 1];	/* "" for ListBuckets */
	char		 key[S3_KEY_MAX + 1];	/* decoded; "" for buckets */
	size_t		 keylen;
	char		 upload_id[S3_UPLOAD_ID_MAX];	/* "" when absent */
	char		 version_id[S3_VERSION_ID_MAX];	/* "" when absent */
	unsigned	 part_number;		/* 0 when absent */
};

/* Classifies the request. S3_OK with out->op set (possibly
 * S3_OP_NOT_IMPLEMENTED: answer NotImplemented). Errors:
 * S3_ERR_INVALID_URI (path not starting with '/', bad %-escape),
 * S3_ERR_INVALID_BUCKET_NAME, S3_ERR_KEY_TOO_LONG,
 * S3_ERR_INVALID_OBJECT_NAME (key not UTF-8 or with a NUL),
 * S3_ERR_METHOD_NOT_ALLOWED (e.g. PUT on the service),
 * S3_ERR_INVALID_ARGUMENT (partNumber out of 1..10000, list-type other
 * than 2, uploadId/partNumber too long or missing their pair). */
enum s3_code	 s3_req_classify(const struct s3_req_cfg *cfg,
		    const struct s3_view *v, struct s3_req *out);

/* S3 bucket naming rules: 3-63 characters of a-z 0-9 . -, starting and
 * ending with a letter or digit, no "..", not an IPv4 address, no
 * "xn--"/"sthree-" prefix, no "-s3alias"/"--ol-s3"/"--x-s3" suffix. */
int		 s3_req_bucket_valid(const char *name);
/* Key rules: 1..1024 bytes of valid UTF-8 without NUL; S3_OK or the
 * errors above. */
enum s3_code	 s3_req_key_check(const char *key, size_t len);

/* Unsigned decimal parameter `name` of query: absent -> *out = def;
 * not a number or outside [min, max] -> S3_ERR_INVALID_ARGUMENT. */
enum s3_code	 s3_req_query_uint(const char *query, const char *name,
		    uint64_t min, uint64_t max, uint64_t def, uint64_t *out);

/* The listing parameters of ListObjects (v1 and v2), ListObjectVersions
 * and ListMultipartUploads, decoded. max_keys is capped at 1000 as S3
 * does; after is marker / start-after / key-marker, token is
 * continuation-token / version-id-marker / upload-id-marker. */
struct s3_list_params {
	char		 prefix[S3_KEY_MAX + 1];
	char		 delimiter[S3_KEY_MAX + 1];
	char		 after[S3_KEY_MAX + 1];
	/* ListObjectsV2's tokens are base64url of a key (od_s3.c) */
	char		 token[S3_TOKEN_MAX + 1];
	int		 has_token;
	unsigned	 max_keys;		/* 0..1000, default 1000 */
	int		 encoding_url;		/* encoding-type=url */
	int		 fetch_owner;
};
/* Fills *out for op (one of the listing operations). Errors:
 * S3_ERR_INVALID_ARGUMENT (encoding-type other than url, bad max-keys,
 * a value too long, bad escape). */
enum s3_code	 s3_req_list_params(enum s3_op op, const char *query,
		    struct s3_list_params *out);

/* x-amz-copy-source: "[/]bucket/key[?versionId=v]", percent-encoded.
 * version (cap S3_VERSION_ID_MAX) "" when absent. Errors:
 * S3_ERR_INVALID_ARGUMENT (no key, bad escape), or the bucket/key
 * errors. */
enum s3_code	 s3_req_copy_source(const char *value,
		    char bucket[S3_BUCKET_MAX + 1], char key[S3_KEY_MAX + 1],
		    char version[S3_VERSION_ID_MAX]);

/* x-amz-acl: private, public-read; bucket-owner-read and
 * bucket-owner-full-control are private (one owner per bucket in
 * Arkor); public-read-write, authenticated-read, aws-exec-read:
 * S3_ERR_NOT_IMPLEMENTED; anything else S3_ERR_INVALID_ARGUMENT. */
enum s3_code	 s3_req_canned_acl(const char *value, enum s3_acl *out);

/* ---- Range ---- */
struct s3_range {
	int		 set;		/* 0: send the whole object (200) */
	uint64_t	 start;		/* inclusive */
	uint64_t	 end;		/* inclusive */
};

/* Range header `h` (may be NULL) against an object of `size` bytes:
 * "bytes=a-b" (b clamped to size-1), "bytes=a-", "bytes=-n" (the last n,
 * or all). A syntactically invalid header or one with several ranges is
 * ignored (set 0), as S3 does. S3_ERR_INVALID_RANGE (416) when the range
 * is unsatisfiable: a >= size, or "-0". */
enum s3_code	 s3_req_range(const char *h, uint64_t size,
		    struct s3_range *out);

/* ---- Conditional requests ---- */
/* Evaluates If-Match, If-Unmodified-Since, If-None-Match and
 * If-Modified-Since in RFC 7232 section 6 order against the current
 * object (etag without quotes, last_modified epoch seconds); etag NULL
 * means there is no current object. read is 1 for GET/HEAD (a failed
 * If-None-Match or If-Modified-Since then gives S3_ERR_NOT_MODIFIED
 * instead of S3_ERR_PRECONDITION_FAILED; If-Modified-Since applies only
 * to reads). Unparsable dates are ignored. */
enum s3_code	 s3_req_conditions(const struct s3_view *v, const char *etag,
		    int64_t last_modified, int read);
/* 1 when the If-Match/If-None-Match list `h` matches etag ("*" matches
 * any existing object; W/ prefixes and quotes are ignored). */
int		 s3_req_etag_match(const char *h, const char *etag);

enum s3_cond_mode {
	S3_COND_READ,		/* GET/HEAD: 304 for a "not modified" */
	S3_COND_WRITE,		/* PUT: If-Modified-Since ignored, else 412 */
	S3_COND_COPY,		/* x-amz-copy-source-if-*: every failure 412 */
};
/* The same evaluation over explicit header values (each may be NULL),
 * e.g. the x-amz-copy-source-if-* headers of CopyObject. */
enum s3_code	 s3_req_conditions_h(const char *if_match,
		    const char *if_unmodified_since, const char *if_none_match,
		    const char *if_modified_since, const char *etag,
		    int64_t last_modified, enum s3_cond_mode mode);

#endif /* ARKOR_OBJECT_S3_REQ_H */
