/*
 * s3_error.c - the table of S3 error codes: wire name, HTTP status and
 * the default message (AWS's wording where it has one), and the XML error
 * body. Indexed by enum s3_code, checked complete at compile time.
 */
#include "config.h"

#include <stddef.h>

#include "common/util.h"
#include "object/s3_error.h"
#include "object/s3_xmlw.h"

struct s3_code_row {
	const char	*name;
	int		 status;
	const char	*message;
};

static const struct s3_code_row s3_codes[] = {
	[S3_OK] = { "OK", 200, "" },
	[S3_ERR_ACCESS_DENIED] = { "AccessDenied", 403, "Access Denied" },
	[S3_ERR_REQUEST_EXPIRED] = { "AccessDenied", 403,
	    "Request has expired" },
	[S3_ERR_UNSIGNED_HEADERS] = { "AccessDenied", 403,
	    "There were headers present in the request which were not "
	    "signed" },
	[S3_ERR_AUTH_HEADER_MALFORMED] = { "AuthorizationHeaderMalformed",
	    400, "The authorization header is malformed." },
	[S3_ERR_AUTH_QUERY_ERROR] = { "AuthorizationQueryParametersError",
	    400, "Query-string authentication parameters are malformed." },
	[S3_ERR_BAD_DIGEST] = { "BadDigest", 400,
	    "The Content-MD5 you specified did not match what we received." },
	[S3_ERR_BAD_CHECKSUM] = { "BadDigest", 400,
	    "The checksum you specified did not match the calculated "
	    "checksum." },
	[S3_ERR_BUCKET_ALREADY_EXISTS] = { "BucketAlreadyExists", 409,
	    "The requested bucket name is not available. The bucket "
	    "namespace is shared by all users of the system. Please select "
	    "a different name and try again." },
	[S3_ERR_BUCKET_ALREADY_OWNED] = { "BucketAlreadyOwnedByYou", 409,
	    "Your previous request to create the named bucket succeeded and "
	    "you already own it." },
	[S3_ERR_BUCKET_NOT_EMPTY] = { "BucketNotEmpty", 409,
	    "The bucket you tried to delete is not empty" },
	[S3_ERR_ENTITY_TOO_LARGE] = { "EntityTooLarge", 400,
	    "Your proposed upload exceeds the maximum allowed size" },
	[S3_ERR_ENTITY_TOO_SMALL] = { "EntityTooSmall", 400,
	    "Your proposed upload is smaller than the minimum allowed "
	    "object size." },
	[S3_ERR_EXPIRED_TOKEN] = { "ExpiredToken", 400,
	    "The provided token has expired." },
	[S3_ERR_INCOMPLETE_BODY] = { "IncompleteBody", 400,
	    "You did not provide the number of bytes specified by the "
	    "Content-Length HTTP header." },
	[S3_ERR_INTERNAL] = { "InternalError", 500,
	    "We encountered an internal error. Please try again." },
	[S3_ERR_INVALID_ACCESS_KEY_ID] = { "InvalidAccessKeyId", 403,
	    "The AWS Access Key Id you provided does not exist in our "
	    "records." },
	[S3_ERR_INVALID_ARGUMENT] = { "InvalidArgument", 400,
	    "Invalid Argument" },
	[S3_ERR_INVALID_BUCKET_NAME] = { "InvalidBucketName", 400,
	    "The specified bucket is not valid." },
	[S3_ERR_INVALID_DIGEST] = { "InvalidDigest", 400,
	    "The Content-MD5 you specified is not valid." },
	[S3_ERR_INVALID_CHECKSUM] = { "InvalidRequest", 400,
	    "Value for x-amz-checksum header is invalid." },
	[S3_ERR_INVALID_OBJECT_NAME] = { "InvalidArgument", 400,
	    "Object key is not valid UTF-8 or contains a NUL byte." },
	[S3_ERR_KEY_TOO_LONG] = { "KeyTooLongError", 400,
	    "Your key is too long" },
	[S3_ERR_INVALID_PART] = { "InvalidPart", 400,
	    "One or more of the specified parts could not be found. The "
	    "part may not have been uploaded, or the specified entity tag "
	    "may not match the part's entity tag." },
	[S3_ERR_INVALID_PART_ORDER] = { "InvalidPartOrder", 400,
	    "The list of parts was not in ascending order. The parts list "
	    "must be specified in order by part number." },
	[S3_ERR_INVALID_RANGE] = { "InvalidRange", 416,
	    "The requested range is not satisfiable" },
	[S3_ERR_INVALID_REQUEST] = { "InvalidRequest", 400,
	    "Invalid Request" },
	[S3_ERR_INVALID_STORAGE_CLASS] = { "InvalidStorageClass", 400,
	    "The storage class you specified is not valid" },
	[S3_ERR_INVALID_TAG] = { "InvalidTag", 400,
	    "The tag provided was not a valid tag." },
	[S3_ERR_INVALID_URI] = { "InvalidURI", 400,
	    "Couldn't parse the specified URI." },
	[S3_ERR_INVALID_LOCATION] = { "InvalidLocationConstraint", 400,
	    "The specified location constraint is not valid." },
	[S3_ERR_MALFORMED_XML] = { "MalformedXML", 400,
	    "The XML you provided was not well-formed or did not validate "
	    "against our published schema" },
	[S3_ERR_MALFORMED_ACL] = { "MalformedACLError", 400,
	    "The XML you provided was not well-formed or did not validate "
	    "against our published schema" },
	[S3_ERR_METADATA_TOO_LARGE] = { "MetadataTooLarge", 400,
	    "Your metadata headers exceed the maximum allowed metadata "
	    "size." },
	[S3_ERR_METHOD_NOT_ALLOWED] = { "MethodNotAllowed", 405,
	    "The specified method is not allowed against this resource." },
	[S3_ERR_MISSING_CONTENT_LENGTH] = { "MissingContentLength", 411,
	    "You must provide the Content-Length HTTP header." },
	[S3_ERR_MISSING_REQUEST_BODY] = { "MissingRequestBodyError", 400,
	    "Request Body is empty" },
	[S3_ERR_MISSING_SECURITY_HEADER] = { "MissingSecurityHeader", 400,
	    "Your request was missing a required header" },
	[S3_ERR_NO_SUCH_BUCKET] = { "NoSuchBucket", 404,
	    "The specified bucket does not exist" },
	[S3_ERR_NO_SUCH_KEY] = { "NoSuchKey", 404,
	    "The specified key does not exist." },
	[S3_ERR_NO_SUCH_UPLOAD] = { "NoSuchUpload", 404,
	    "The specified upload does not exist. The upload ID may be "
	    "invalid, or the upload may have been aborted or completed." },
	[S3_ERR_NO_SUCH_VERSION] = { "NoSuchVersion", 404,
	    "The specified version does not exist." },
	[S3_ERR_NO_SUCH_TAG_SET] = { "NoSuchTagSet", 404,
	    "The TagSet does not exist" },
	[S3_ERR_NOT_IMPLEMENTED] = { "NotImplemented", 501,
	    "A header you provided implies functionality that is not "
	    "implemented" },
	[S3_ERR_NOT_MODIFIED] = { "NotModified", 304, "Not Modified" },
	[S3_ERR_PRECONDITION_FAILED] = { "PreconditionFailed", 412,
	    "At least one of the pre-conditions you specified did not hold" },
	[S3_ERR_REQUEST_TIMEOUT] = { "RequestTimeout", 400,
	    "Your socket connection to the server was not read from or "
	    "written to within the timeout period." },
	[S3_ERR_REQUEST_TIME_TOO_SKEWED] = { "RequestTimeTooSkewed", 403,
	    "The difference between the request time and the current time "
	    "is too large." },
	[S3_ERR_SERVICE_UNAVAILABLE] = { "ServiceUnavailable", 503,
	    "Please reduce your request rate." },
	[S3_ERR_SIGNATURE_DOES_NOT_MATCH] = { "SignatureDoesNotMatch", 403,
	    "The request signature we calculated does not match the "
	    "signature you provided. Check your key and signing method." },
	[S3_ERR_SLOW_DOWN] = { "SlowDown", 503,
	    "Please reduce your request rate." },
	[S3_ERR_TOO_MANY_BUCKETS] = { "TooManyBuckets", 400,
	    "You have attempted to create more buckets than allowed" },
	[S3_ERR_CONTENT_SHA256_MISMATCH] = { "XAmzContentSHA256Mismatch",
	    400, "The provided 'x-amz-content-sha256' header does not match "
	    "what was computed." },
	[S3_ERR_INVALID_PART_NUMBER] = { "InvalidPartNumber", 416,
	    "The requested partnumber is not satisfiable" },
	[S3_ERR_NO_SUCH_BUCKET_POLICY] = { "NoSuchBucketPolicy", 404,
	    "The bucket policy does not exist" },
	[S3_ERR_NO_SUCH_CORS] = { "NoSuchCORSConfiguration", 404,
	    "The CORS configuration does not exist" },
	[S3_ERR_NO_SUCH_LIFECYCLE] = { "NoSuchLifecycleConfiguration", 404,
	    "The lifecycle configuration does not exist" },
	[S3_ERR_NO_SUCH_ENCRYPTION] = {
	    "ServerSideEncryptionConfigurationNotFoundError", 404,
	    "The server side encryption configuration was not found" },
	[S3_ERR_NO_SUCH_WEBSITE] = { "NoSuchWebsiteConfiguration", 404,
	    "The specified bucket does not have a website configuration" },
	[S3_ERR_NO_SUCH_REPLICATION] = {
	    "ReplicationConfigurationNotFoundError", 404,
	    "The replication configuration was not found" },
	[S3_ERR_NO_SUCH_OBJECT_LOCK] = {
	    "ObjectLockConfigurationNotFoundError", 404,
	    "Object Lock configuration does not exist for this bucket" },
	[S3_ERR_NO_SUCH_OWNERSHIP] = { "OwnershipControlsNotFoundError",
	    404, "The bucket ownership controls were not found" },
	[S3_ERR_NO_SUCH_PUBLIC_ACCESS_BLOCK] = {
	    "NoSuchPublicAccessBlockConfiguration", 404,
	    "The public access block configuration was not found" },
	[S3_ERR_MALFORMED_POST] = { "MalformedPOSTRequest", 400,
	    "The body of your POST request is not well-formed "
	    "multipart/form-data." },
	[S3_ERR_MAX_POST_PRE_DATA] = { "MaxPostPreDataLengthExceededError",
	    400, "Your POST request fields preceding the upload file were "
	    "too large." },
	[S3_ERR_INVALID_POLICY] = { "InvalidPolicyDocument", 400,
	    "The content of the form does not meet the conditions specified "
	    "in the policy document." },
	/* AWS's wording, "evalution" included */
	[S3_ERR_CORS_FORBIDDEN] = { "AccessForbidden", 403,
	    "CORSResponse: This CORS request is not allowed. This is usually "
	    "because the evalution of Origin, request method / "
	    "Access-Control-Request-Method or Access-Control-Request-Headers "
	    "are not whitelisted by the resource's CORS spec." },
	[S3_ERR_BAD_REQUEST] = { "BadRequest", 400,
	    "Insufficient information. Origin request header needed." },
};

_Static_assert(ARK_ARRAY_SIZE(s3_codes) == S3_ERR_CODE_MAX,
    "s3_codes[] must have one row per enum s3_code");

static const struct s3_code_row *
s3_code_row(enum s3_code c)
{
	if ((unsigned)c >= S3_ERR_CODE_MAX || s3_codes[c].name == NULL)
		return &s3_codes[S3_ERR_INTERNAL];
	return &s3_codes[c];
}

const char *
s3_code_name(enum s3_code c)
{
	return s3_code_row(c)->name;
}

int
s3_code_status(enum s3_code c)
{
	return s3_code_row(c)->status;
}

const char *
s3_code_message(enum s3_code c)
{
	return s3_code_row(c)->message;
}

int
s3_code_no_body(enum s3_code c)
{
	return c == S3_ERR_NOT_MODIFIED;
}

enum s3_code
s3_code_from_ark(enum ark_err e)
{
	switch (e) {
	case ARK_OK:
		return S3_OK;
	case ARK_ENOENT:
		return S3_ERR_NO_SUCH_KEY;
	case ARK_ETOOBIG:
		return S3_ERR_ENTITY_TOO_LARGE;
	case ARK_EPROTO:
	case ARK_EINVAL:
		return S3_ERR_INVALID_REQUEST;
	case ARK_EPERM:
		return S3_ERR_ACCESS_DENIED;
	case ARK_ETIMEDOUT:
		return S3_ERR_REQUEST_TIMEOUT;
	case ARK_EAGAIN:
	case ARK_ENOSPC:
		return S3_ERR_SLOW_DOWN;
	case ARK_EEXPIRED:
		return S3_ERR_REQUEST_EXPIRED;
	case ARK_ECANCELED:
		return S3_ERR_SERVICE_UNAVAILABLE;
	case ARK_ECORRUPT:
		return S3_ERR_BAD_DIGEST;
	case ARK_EEXIST:
	case ARK_ENOMEM:
	case ARK_EIO:
	case ARK_ECONN:
	default:
		return S3_ERR_INTERNAL;
	}
}

enum ark_err
s3_error_xml(struct ark_buf *out, enum s3_code c, const char *message,
    const char *resource, const char *request_id, const char *host_id)
{
	struct s3_xmlw w;

	s3_xmlw_init(&w, out);
	s3_xmlw_start(&w, "Error");
	s3_xmlw_elem(&w, "Code", s3_code_name(c));
	s3_xmlw_elem(&w, "Message",
	    message != NULL ? message : s3_code_message(c));
	if (resource != NULL)
		s3_xmlw_elem(&w, "Resource", resource);
	if (request_id != NULL)
		s3_xmlw_elem(&w, "RequestId", request_id);
	if (host_id != NULL)
		s3_xmlw_elem(&w, "HostId", host_id);
	s3_xmlw_end(&w);
	return s3_xmlw_finish(&w);
}
