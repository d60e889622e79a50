/*
 * s3_error.h - the S3 error codes the protocol layer decides, their HTTP
 * statuses and default messages, and the XML error body.
 *
 * Every s3_* module of the protocol layer returns an enum s3_code: S3_OK
 * (0) or one row of the table in s3_error.c. Several enum values may share
 * one wire code with different messages (S3_ERR_REQUEST_EXPIRED is
 * "AccessDenied" / "Request has expired"). This is the one mapping table
 * from protocol decisions to HTTP; s3_code_from_ark() maps enum ark_err.
 * Everything here is thread-safe (static tables, no state).
 */
#ifndef ARKOR_OBJECT_S3_ERROR_H
#define ARKOR_OBJECT_S3_ERROR_H

#include "common/buf.h"
#include "common/err.h"

enum s3_code {
	S3_OK = 0,
	S3_ERR_ACCESS_DENIED,
	S3_ERR_REQUEST_EXPIRED,		/* AccessDenied: presigned URL expired */
	S3_ERR_UNSIGNED_HEADERS,	/* AccessDenied: x-amz-* not signed */
	S3_ERR_AUTH_HEADER_MALFORMED,	/* AuthorizationHeaderMalformed */
	S3_ERR_AUTH_QUERY_ERROR,	/* AuthorizationQueryParametersError */
	S3_ERR_BAD_DIGEST,
	S3_ERR_BAD_CHECKSUM,		/* BadDigest for x-amz-checksum-* */
	S3_ERR_BUCKET_ALREADY_EXISTS,
	S3_ERR_BUCKET_ALREADY_OWNED,
	S3_ERR_BUCKET_NOT_EMPTY,
	S3_ERR_ENTITY_TOO_LARGE,
	S3_ERR_ENTITY_TOO_SMALL,
	S3_ERR_EXPIRED_TOKEN,
	S3_ERR_INCOMPLETE_BODY,
	S3_ERR_INTERNAL,
	S3_ERR_INVALID_ACCESS_KEY_ID,
	S3_ERR_INVALID_ARGUMENT,
	S3_ERR_INVALID_BUCKET_NAME,
	S3_ERR_INVALID_DIGEST,
	S3_ERR_INVALID_CHECKSUM,	/* InvalidRequest: malformed checksum */
	S3_ERR_INVALID_OBJECT_NAME,	/* InvalidArgument: key not UTF-8 */
	S3_ERR_KEY_TOO_LONG,
	S3_ERR_INVALID_PART,
	S3_ERR_INVALID_PART_ORDER,
	S3_ERR_INVALID_RANGE,
	S3_ERR_INVALID_REQUEST,
	S3_ERR_INVALID_STORAGE_CLASS,
	S3_ERR_INVALID_TAG,
	S3_ERR_INVALID_URI,
	S3_ERR_INVALID_LOCATION,	/* InvalidLocationConstraint */
	S3_ERR_MALFORMED_XML,
	S3_ERR_MALFORMED_ACL,		/* MalformedACLError */
	S3_ERR_METADATA_TOO_LARGE,
	S3_ERR_METHOD_NOT_ALLOWED,
	S3_ERR_MISSING_CONTENT_LENGTH,
	S3_ERR_MISSING_REQUEST_BODY,
	S3_ERR_MISSING_SECURITY_HEADER,
	S3_ERR_NO_SUCH_BUCKET,
	S3_ERR_NO_SUCH_KEY,
	S3_ERR_NO_SUCH_UPLOAD,
	S3_ERR_NO_SUCH_VERSION,
	S3_ERR_NO_SUCH_TAG_SET,
	S3_ERR_NOT_IMPLEMENTED,
	S3_ERR_NOT_MODIFIED,		/* 304, sent without a body */
	S3_ERR_PRECONDITION_FAILED,
	S3_ERR_REQUEST_TIMEOUT,
	S3_ERR_REQUEST_TIME_TOO_SKEWED,
	S3_ERR_SERVICE_UNAVAILABLE,
	S3_ERR_SIGNATURE_DOES_NOT_MATCH,
	S3_ERR_SLOW_DOWN,
	S3_ERR_TOO_MANY_BUCKETS,
	S3_ERR_CONTENT_SHA256_MISMATCH,	/* XAmzContentSHA256Mismatch */
	S3_ERR_INVALID_PART_NUMBER,	/* 416: partNumber past the parts */
	/* 404s of bucket configurations Arkor never stores */
	S3_ERR_NO_SUCH_BUCKET_POLICY,
	S3_ERR_NO_SUCH_CORS,
	S3_ERR_NO_SUCH_LIFECYCLE,
	S3_ERR_NO_SUCH_ENCRYPTION,
	S3_ERR_NO_SUCH_WEBSITE,
	S3_ERR_NO_SUCH_REPLICATION,
	S3_ERR_NO_SUCH_OBJECT_LOCK,
	S3_ERR_NO_SUCH_OWNERSHIP,
	S3_ERR_NO_SUCH_PUBLIC_ACCESS_BLOCK,
	/* POST Object (browser form uploads) */
	S3_ERR_MALFORMED_POST,		/* MalformedPOSTRequest */
	S3_ERR_MAX_POST_PRE_DATA,	/* MaxPostPreDataLengthExceededError */
	S3_ERR_INVALID_POLICY,		/* InvalidPolicyDocument */
	/* CORS preflight (OPTIONS) */
	S3_ERR_CORS_FORBIDDEN,		/* 403 AccessForbidden: no rule */
	S3_ERR_BAD_REQUEST,		/* 400 BadRequest: headers missing */
	S3_ERR_CODE_MAX
};

/* Wire code ("NoSuchKey"), HTTP status (404) and default message; never
 * NULL. An out-of-range value answers as S3_ERR_INTERNAL. S3_OK answers
 * "OK", 200, "". */
const char	*s3_code_name(enum s3_code c);
int		 s3_code_status(enum s3_code c);
const char	*s3_code_message(enum s3_code c);
/* 1 when the response carries no body (304, and HEAD requests, which the
 * caller knows about). */
int		 s3_code_no_body(enum s3_code c);

/* The S3 code for an internal error: ENOMEM/EIO/... -> InternalError,
 * ETOOBIG -> EntityTooLarge, EAGAIN/ENOSPC -> SlowDown, ETIMEDOUT ->
 * RequestTimeout, EPROTO/EINVAL -> InvalidRequest, EPERM -> AccessDenied,
 * ENOENT -> NoSuchKey, ECANCELED -> ServiceUnavailable. */
enum s3_code	 s3_code_from_ark(enum ark_err e);

/* Appends the XML error document
 *   <?xml ...?><Error><Code/><Message/><Resource/><RequestId/><HostId/>
 *   </Error>
 * to `out`, escaping every field. message NULL uses the default;
 * resource, request_id and host_id may be NULL (element omitted).
 * Errors: ARK_ETOOBIG / ARK_ENOMEM from the buffer (contents then
 * unspecified past the original length). */
enum ark_err	 s3_error_xml(struct ark_buf *out, enum s3_code c,
		    const char *message, const char *resource,
		    const char *request_id, const char *host_id);

#endif /* ARKOR_OBJECT_S3_ERROR_H */
