/*
 * s3_sigv4.h - S3 request authentication: AWS Signature Version 4 in the
 * Authorization header and in presigned query strings, and Signature
 * Version 2 (header "AWS AKID:sig" and query AWSAccessKeyId/Expires/
 * Signature) for older tools.
 *
 * The verifier sees the request through a struct s3_view (no server
 * needed), asks the caller for the secret of an access key id, and checks
 * against `now` (epoch seconds) so tests are deterministic. It computes
 * the canonical request exactly as AWS does for S3: each path segment is
 * decoded and URI-encoded once (S3 does not double-encode), the query is
 * sorted by encoded key then value, header values are trimmed with inner
 * runs of spaces collapsed, repeated headers joined with ','.
 *
 * Region: cfg->region NULL or "" accepts any region in the credential
 * scope (one-region clusters answer for every region name, as MinIO with
 * no region set); otherwise a different region is
 * AuthorizationHeaderMalformed / AuthorizationQueryParametersError.
 *
 * The result (struct s3_auth) carries the signing key and the seed
 * signature so s3_chunked can continue the chain of an aws-chunked body;
 * wipe it with s3_sigv4_wipe() when done. Thread-safe: no shared state
 * (each thread remembers its last few signing keys, found by secret, day
 * and region, so a busy key pays the four-HMAC derivation once a day).
 */
#ifndef ARKOR_OBJECT_S3_SIGV4_H
#define ARKOR_OBJECT_S3_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "object/s3_error.h"
#include "object/s3_view.h"

#define S3_SIGV4_MAX_SKEW	900		/* seconds, as AWS */
#define S3_SIGV4_MAX_EXPIRES	604800		/* presigned: 7 days */
#define S3_SIGV4_AKID_MAX	128		/* with the NUL */
#define S3_SIGV4_SECRET_MAX	128		/* with the NUL */

struct s3_sigv4_cfg {
	const char	*region;	/* NULL or "": any region */
	int64_t		 max_skew_s;	/* 0: S3_SIGV4_MAX_SKEW */
	int		 allow_v2;	/* accept Signature Version 2 */
	/* Header auth only: refuse x-amz-* request headers that are not in
	 * SignedHeaders (AccessDenied), as AWS; needs view->header_at. */
	int		 require_signed_amz;
	/* Secret of access key `akid` as a NUL-terminated string in
	 * secret[0..cap). ARK_ENOENT: unknown key (InvalidAccessKeyId);
	 * any other error: InternalError. Called on the caller's thread. */
	enum ark_err	 (*secret)(void *arg, const char *akid, char *secret,
			    size_t cap);
	void		*secret_arg;
};

enum s3_auth_kind {
	S3_AUTH_ANONYMOUS = 0,		/* no credentials at all */
	S3_AUTH_V4_HEADER,
	S3_AUTH_V4_QUERY,
	S3_AUTH_V2_HEADER,
	S3_AUTH_V2_QUERY,
	S3_AUTH_V4_POST,		/* POST Object form fields */
	S3_AUTH_V2_POST,
};

/* What x-amz-content-sha256 declared about the body. */
enum s3_payload {
	S3_PAYLOAD_NONE = 0,		/* anonymous or V2: nothing declared */
	S3_PAYLOAD_SHA256,		/* hex digest in payload_sha256 */
	S3_PAYLOAD_UNSIGNED,		/* UNSIGNED-PAYLOAD (and presigned) */
	S3_PAYLOAD_STREAMING_SIGNED,	/* STREAMING-AWS4-HMAC-SHA256-PAYLOAD */
	S3_PAYLOAD_STREAMING_SIGNED_TRAILER,	/* ...-PAYLOAD-TRAILER */
	S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER,	/* STREAMING-UNSIGNED-
						 * PAYLOAD-TRAILER */
};

struct s3_auth {			/* plain value; wipe, don't leak */
	enum s3_auth_kind kind;
	enum s3_payload	 payload;
	char		 access_key[S3_SIGV4_AKID_MAX];
	char		 region[64];		/* V4 scope region */
	char		 amz_date[17];		/* V4 "YYYYMMDDTHHMMSSZ" */
	char		 scope[128];	/* "20130524/us-east-1/s3/aws4_request" */
	unsigned char	 payload_sha256[32];	/* S3_PAYLOAD_SHA256 */
	unsigned char	 signing_key[32];	/* V4 kSigning */
	char		 signature[65];		/* V4 seed signature, hex */
	int64_t		 request_time;		/* epoch s of the signed date */
	int64_t		 expires_at;		/* presigned: last valid second */
};

/* Authenticates the request in `v` at time `now`. S3_OK with
 * out->kind == S3_AUTH_ANONYMOUS when the request carries no credentials
 * (the caller decides whether the bucket is public-read, else
 * AccessDenied). Other results (out unspecified):
 *   S3_ERR_AUTH_HEADER_MALFORMED, S3_ERR_AUTH_QUERY_ERROR - unparsable
 *     credentials, wrong service/terminator/region, scope date != date;
 *   S3_ERR_INVALID_ARGUMENT - both header and query credentials, an
 *     unsupported Authorization type or x-amz-content-sha256 value,
 *     V2 when cfg->allow_v2 is 0;
 *   S3_ERR_INVALID_REQUEST - header auth without x-amz-content-sha256;
 *   S3_ERR_ACCESS_DENIED - no usable Date / x-amz-date;
 *   S3_ERR_UNSIGNED_HEADERS - see require_signed_amz;
 *   S3_ERR_REQUEST_TIME_TOO_SKEWED - more than max_skew from now (also a
 *     presigned URL dated in the future);
 *   S3_ERR_REQUEST_EXPIRED - presigned URL (V4 or V2) past its expiry;
 *   S3_ERR_INVALID_ACCESS_KEY_ID, S3_ERR_SIGNATURE_DOES_NOT_MATCH;
 *   S3_ERR_INVALID_URI - a bad %-escape in the path or query;
 *   S3_ERR_INTERNAL - allocation or secret lookup failure. */
enum s3_code	 s3_sigv4_verify(const struct s3_sigv4_cfg *cfg,
		    const struct s3_view *v, int64_t now,
		    struct s3_auth *out);

/* POST Object (browser form) signatures, over the base64 text of the
 * form's policy as sent. V4: credential "AKID/YYYYMMDD/region/s3/
 * aws4_request", amz_date "YYYYMMDDTHHMMSSZ" of the credential's day,
 * signature the hex HMAC-SHA256(kSigning, policy); V2: signature the
 * base64 HMAC-SHA1(secret, policy) (cfg->allow_v2). The policy's
 * expiration, not the date, bounds its use: no clock skew check. On
 * S3_OK *out has kind S3_AUTH_V4_POST / S3_AUTH_V2_POST, the access key
 * (and for V4 region, date, scope and signing key). Errors:
 * S3_ERR_INVALID_ARGUMENT (malformed fields, V2 switched off),
 * S3_ERR_INVALID_ACCESS_KEY_ID, S3_ERR_SIGNATURE_DOES_NOT_MATCH,
 * S3_ERR_INTERNAL. */
enum s3_code	 s3_sigv4_verify_post(const struct s3_sigv4_cfg *cfg,
		    const char *credential, const char *amz_date,
		    const char *policy, const char *signature,
		    struct s3_auth *out);
enum s3_code	 s3_sigv4_verify_post_v2(const struct s3_sigv4_cfg *cfg,
		    const char *akid, const char *policy, const char *signature,
		    struct s3_auth *out);

/* After the body has been read: S3_ERR_CONTENT_SHA256_MISMATCH when the
 * request declared a hex SHA-256 that differs from `sha256`; S3_OK
 * otherwise (unsigned and streaming payloads are checked elsewhere). */
enum s3_code	 s3_sigv4_check_payload(const struct s3_auth *a,
		    const unsigned char sha256[32]);

/* Hex HMAC-SHA256(key, msg) into out (65 bytes with the NUL). */
enum ark_err	 s3_sigv4_hmac_hex(const unsigned char key[32],
		    const void *msg, size_t n, char out[65]);
/* kSigning for secret/date8/region/"s3". */
enum ark_err	 s3_sigv4_signing_key(const char *secret, const char *date8,
		    const char *region, unsigned char out[32]);

/* Classifies an x-amz-content-sha256 value; -1 when invalid. For a hex
 * digest (64 hex digits, either case) *digest gets the bytes. */
int		 s3_sigv4_payload_kind(const char *v, unsigned char digest[32]);

/* ---- signing (clients: bench load generator, tests, tools) ---- */

/* Writes the SigV4 Authorization header value for the request in v into
 * out (cap bytes): the headers named in signed_headers (lower-case,
 * ';'-separated, sorted, including host) are read from v, amz_date is
 * the x-amz-date value the request carries, payload the
 * x-amz-content-sha256 value. ARK_ETOOBIG when out is too small,
 * ARK_EINVAL on a malformed argument, ARK_ENOMEM. */
enum ark_err	 s3_sigv4_sign(const struct s3_view *v, const char *akid,
		    const char *secret, const char *region,
		    const char *amz_date, const char *signed_headers,
		    const char *payload, char *out, size_t cap);
/* Presigns a request signed on the host header only: writes into out the
 * query to send, `query` (may be NULL) followed by the X-Amz-* parameters
 * and X-Amz-Signature. v supplies method, path and the host header. */
enum ark_err	 s3_sigv4_presign(const struct s3_view *v, const char *akid,
		    const char *secret, const char *region,
		    const char *amz_date, unsigned expires, char *out,
		    size_t cap);

/* Clears the key material in *a (OPENSSL_cleanse). */
void		 s3_sigv4_wipe(struct s3_auth *a);

#endif /* ARKOR_OBJECT_S3_SIGV4_H */
