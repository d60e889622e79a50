/*
 * s3_post.h - POST Object (browser form uploads): the form's fields, its
 * authentication (SigV4 x-amz-* fields or SigV2 AWSAccessKeyId /
 * signature, both over the base64 policy) and the policy document's
 * checks (expiration, conditions, fields no condition names), as AWS
 * decides them. Field names are case-insensitive (kept lower-case);
 * condition values are compared exactly. One form per request and
 * thread; nothing is logged here.
 */
#ifndef ARKOR_OBJECT_S3_POST_H
#define ARKOR_OBJECT_S3_POST_H

#include <stddef.h>
#include <stdint.h>

#include "object/s3_error.h"
#include "object/s3_sigv4.h"

struct s3_post;				/* opaque */

/* The content-length-range condition; set 0 when the policy has none. */
struct s3_post_range {
	int		 set;
	uint64_t	 min, max;
};

/* An empty form; the caller owns *out (s3_post_free). S3_ERR_INTERNAL on
 * ENOMEM. */
enum s3_code	 s3_post_new(struct s3_post **out);
void		 s3_post_free(struct s3_post *p);	/* NULL is a no-op */
/* Adds field name = value (n bytes, copied). A repeated name or a value
 * holding a NUL: S3_ERR_INVALID_ARGUMENT. */
enum s3_code	 s3_post_add(struct s3_post *p, const char *name,
		    const char *value, size_t n);
/* Value of field `name` (any case), borrowed until free; NULL if absent. */
const char	*s3_post_get(const struct s3_post *p, const char *name);
/* i-th field in arrival order, lower-case name: 0, or -1 past the end. */
int		 s3_post_at(const struct s3_post *p, size_t i,
		    const char **name, const char **value);
/* The access key id the form names (x-amz-credential up to its first
 * '/', else AWSAccessKeyId) into out; "" when none. */
void		 s3_post_akid(const struct s3_post *p, char *out, size_t cap);

/* Authenticates the form. S3_OK with out->kind S3_AUTH_ANONYMOUS when it
 * carries neither credentials nor a policy. Errors: those of
 * s3_sigv4_verify_post(_v2); S3_ERR_INVALID_ARGUMENT with *msg (cap
 * bytes) naming a missing field (x-amz-algorithm, -credential, -date,
 * -signature, policy, AWSAccessKeyId, signature) or another algorithm. */
enum s3_code	 s3_post_auth(const struct s3_post *p,
		    const struct s3_sigv4_cfg *cfg, struct s3_auth *out,
		    char *msg, size_t cap);

/* The object's key: the key field with each "${filename}" replaced by
 * filename, into out (cap bytes). S3_ERR_INVALID_ARGUMENT (with *msg)
 * when the form has no key; S3_ERR_KEY_TOO_LONG. */
enum s3_code	 s3_post_key(const struct s3_post *p, const char *filename,
		    char *out, size_t cap, char *msg, size_t msgcap);

/* Checks the policy of an authenticated form (kind: its auth) for an
 * upload to bucket/key at `now` (epoch s). S3_OK fills *range.
 * Errors, *msg (cap bytes) saying why as AWS does:
 *   S3_ERR_INVALID_POLICY - not base64 JSON, no expiration or
 *     conditions, a malformed condition;
 *   S3_ERR_ACCESS_DENIED - "Invalid according to Policy: Policy
 *     expired.", "... Policy Condition failed: [...]", "... Extra input
 *     fields: <name>". */
enum s3_code	 s3_post_policy(const struct s3_post *p,
		    enum s3_auth_kind kind, const char *bucket,
		    const char *key, int64_t now, struct s3_post_range *range,
		    char *msg, size_t cap);

#endif /* ARKOR_OBJECT_S3_POST_H */
