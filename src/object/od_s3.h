/*
 * od_s3.h - the S3 front end's own files share these: od_s3.c (dispatch,
 * buckets, listing, Put/Get/Delete, multipart), od_s3_copy.c (CopyObject,
 * UploadPartCopy), od_s3_mpu.c (ListParts, ListMultipartUploads, the
 * part size rule), od_s3_attr.c (versions, attributes, tagging, ACLs),
 * od_s3_post.c (POST Object form uploads),
 * od_cors.c (bucket CORS configurations, preflights, CORS headers).
 * Everything runs on the request's worker thread (see od.h).
 */
#ifndef ARKOR_OBJECT_OD_S3_H
#define ARKOR_OBJECT_OD_S3_H

#include <stdint.h>

#include <jansson.h>

#include "object/od.h"

#define OD_S3_MIN_PART		((uint64_t)5 << 20)	/* but the last */
#define OD_S3_MAX_OBJECT	((int64_t)5 << 30)	/* one PutObject */

/* ---- od_s3_copy.c ---- */
/* CopyObject and UploadPartCopy (x-amz-copy-source set). */
void		 od_s3_copy(struct oreq *o);

/* ---- od_s3_mpu.c ---- */
void		 od_s3_list_parts(struct oreq *o);
void		 od_s3_list_uploads(struct oreq *o);
/* CompleteMultipartUpload after its body parsed into *c (taken over: *c
 * is zeroed): checks the parts against multipart/parts (InvalidPart for
 * a missing part or another ETag or checksum, InvalidRequest for a
 * COMPOSITE upload's part listed without its checksum, EntityTooSmall
 * below 5 MiB but the last), makes the object's checksum from the
 * parts' (composite or full-object, as the upload declared) and calls
 * multipart/complete; the reply names etag. */
void		 od_s3_complete(struct oreq *o, struct s3_xml_complete *c,
		    const char *etag);

/* ---- od_s3_attr.c ---- */
/* The registry's list answer as ListVersionsResult. */
void		 od_s3_versions_done(struct oreq *o, int status, json_t *j);
void		 od_s3_bucket_config(struct oreq *o);
void		 od_s3_attributes(struct oreq *o);
void		 od_s3_tagging(struct oreq *o);
/* Get/Put/DeleteBucketTagging over bucket/get and bucket/config. */
void		 od_s3_bucket_tagging(struct oreq *o);
void		 od_s3_acl(struct oreq *o);

/* ---- od_s3_post.c ---- */
/* POST Object (browser form upload): reads the form, authenticates it
 * from its fields, checks its policy and stores its file. */
void		 od_s3_post(struct oreq *o);

/* ---- od_cors.c ---- */
/* Get/Put/DeleteBucketCors. */
void		 od_s3_cors(struct oreq *o);
/* OPTIONS /<bucket>[/<key>], unauthenticated: 200 with the matching
 * rule's headers, 403 AccessForbidden without one, 404 NoSuchBucket,
 * 400 BadRequest without Origin or Access-Control-Request-Method. */
void		 od_cors_preflight(struct oreq *o);
/* For a request carrying Origin: sets o->cors_hdrs from the bucket's
 * rules (cached, else one bucket/get as the service), then runs next. */
void		 od_cors_actual(struct oreq *o, void (*next)(struct oreq *o));

/* ---- od_s3.c: helpers for the others ---- */
/* The SigV4/V2 verifier's configuration (static). */
const struct s3_sigv4_cfg *od_s3_sigv4_cfg(void);
/* The stored response headers of a PUT / CreateMultipartUpload / copy
 * with REPLACE / POST form (v: the request's headers or the form's
 * fields): Cache-Control, Content-Disposition, Content-Encoding
 * (without aws-chunked), Content-Language, Expires, as {canonical name:
 * value}; caller owns. */
json_t		*od_s3_stored_headers(const struct s3_view *v);
/* x-amz-tagging (URL query form) as {key: value} in *out (caller owns;
 * NULL when the header is absent). S3_ERR_INVALID_TAG on bad tags. */
enum s3_code	 od_s3_tagging_header(struct oreq *o, json_t **out);
/* Reads a small request body (XML) into o->body up to max bytes,
 * verifies Content-MD5 / x-amz-checksum-* / the signed SHA-256, then
 * calls done (errors are answered here). Uses o->commit. */
/* A key/get answer for o->akid: caches the key (o->have_key, o->key
 * when it exists) and returns 0 to go on authenticating (an unknown key
 * is refused there), or -1 after answering a registry failure. */
int		 od_s3_key_answer(struct oreq *o, int status, json_t *j);
/* A multipart/get answer for this request's upload: 0 with the declared
 * checksum algorithm (S3_CKSUM_NONE if none) and type, or -1 after
 * answering NoSuchUpload (unknown, or another bucket/key's upload). */
int		 od_s3_upload_check(struct oreq *o, int status, json_t *j,
		    enum s3_cksum_alg *alg, int *full);
void		 od_s3_read_body(struct oreq *o, size_t max,
		    void (*done)(struct oreq *o));
/* Conditional writes of o->r.key (PutObject, CopyObject,
 * CompleteMultipartUpload, DeleteObject): If-None-Match "*" lets only a
 * new key be written (o->if_version 0); If-Match only the version whose
 * ETag matched, read by an object/get first (else 412 PreconditionFailed,
 * 404 NoSuchKey without object). The registry checks o->if_version again
 * when it writes, so test and write are one atomic step. Sets
 * o->if_version (-1: no condition) and runs next, or answers an error
 * (another If-None-Match: NotImplemented). */
void		 od_s3_write_cond(struct oreq *o, void (*next)(struct oreq *o));
/* Adds o->if_version to a registry write's body when there is one. */
void		 od_s3_if_version(const struct oreq *o, json_t *body);
/* 1 when a versionId (NULL or "" when absent) names a version other
 * than "null", the only one of an object: buckets are never versioned. */
int		 od_s3_other_version(const char *v);
/* Owner ID / DisplayName element for listings. */
void		 od_s3_owner(struct s3_xmlw *w, const char *user);
/* Appends an x-amz-checksum-<alg> header per value of a stored
 * checksums object (borrowed, may be NULL) with x-amz-checksum-type:
 * `type`, or when NULL COMPOSITE for "<value>-<n>" values, else
 * FULL_OBJECT. */
void		 od_s3_checksum_headers(struct oreq *o, const json_t *cks,
		    const char *type);
/* Writes ChecksumCRC32, ... elements for a stored checksums object. */
void		 od_s3_checksum_elems(struct s3_xmlw *w, const json_t *cks);

#endif /* ARKOR_OBJECT_OD_S3_H */
