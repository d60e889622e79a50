/*
 * token.h - data-server access tokens and the cluster secret.
 *
 * A token grants one operation on one FileID until an expiry time:
 *     text = <expiry unix seconds> "." <base64url(HMAC-SHA256(secret, msg))>
 *     msg  = "arkor-token-v1" NUL <op name> NUL <expiry decimal> NUL <fid>
 * e.g. "1767225600.Zx3...Q" (at most ARK_TOKEN_MAXLEN bytes with the NUL),
 * usable as an HTTP header value or query parameter without escaping.
 *
 * The cluster secret lives in a file of mode 0600 or stricter: 64+ hex
 * digits (what ark_secret_create writes) or 32+ raw bytes.
 *
 * All functions are thread-safe; a struct ark_secret is read-only after
 * loading and may be shared between threads.
 */
#ifndef ARKOR_COMMON_TOKEN_H
#define ARKOR_COMMON_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

enum ark_token_op {
	ARK_TOKEN_READ,
	ARK_TOKEN_WRITE,
	ARK_TOKEN_DELETE,
	ARK_TOKEN_ADMIN,
};

/* The FileID field of an admin token that a service (data server, object
 * server, arkorctl) presents to the registry as
 * "Authorization: Arkor-Service <token>" (docs/specs/Internal.md). */
#define ARK_SERVICE_SUBJECT	"arkor-service"

#define ARK_SECRET_MINLEN	32	/* bytes of key material */
#define ARK_SECRET_MAXLEN	256
#define ARK_TOKEN_MAXLEN	72	/* 20 digits + '.' + 43 + NUL, rounded */

struct ark_secret {			/* key bytes; wipe with ark_secret_wipe */
	unsigned char	key[ARK_SECRET_MAXLEN];
	size_t		len;
};

/* "read", "write", "delete", "admin"; NULL for an unknown value. */
const char	*ark_token_op_name(enum ark_token_op op);

/* Loads the secret file at `path`. Refuses (ARK_EPERM, logged with the
 * chmod fix) a file readable or writable by group or others, or that is
 * not a regular file; ARK_ENOENT if missing; ARK_EINVAL if shorter than
 * ARK_SECRET_MINLEN bytes or longer than ARK_SECRET_MAXLEN; ARK_EIO. */
enum ark_err	 ark_secret_load(const char *path, struct ark_secret *s);
/* Creates a new secret file atomically: 32 random bytes written as 64 hex
 * digits and a newline, mode 0600, linked into place only when complete.
 * ARK_EEXIST if `path` exists (never overwrites). Fills *s. */
enum ark_err	 ark_secret_create(const char *path, struct ark_secret *s);
/* Loads `path`, creating it first if it does not exist. */
enum ark_err	 ark_secret_load_or_create(const char *path,
		    struct ark_secret *s);
/* Sets the key from memory (tests, arkorctl); ARK_EINVAL if too short or
 * too long. */
enum ark_err	 ark_secret_set(struct ark_secret *s, const void *key,
		    size_t len);
void		 ark_secret_wipe(struct ark_secret *s);

/* Writes the token for (op, fid, expiry) into out (>= ARK_TOKEN_MAXLEN).
 * ARK_EINVAL on a bad op, negative expiry, a fid over 256 bytes or a
 * short buffer. */
enum ark_err	 ark_token_mint(const struct ark_secret *s,
		    enum ark_token_op op, const char *fid, int64_t expiry,
		    char *out, size_t outlen);
/* Checks `token` for (op, fid) at time `now` (unix seconds):
 * ARK_EPROTO if malformed, ARK_EPERM if the MAC does not match (wrong
 * secret, op, fid or a tampered expiry), ARK_EEXPIRED if expiry < now.
 * The MAC is compared in constant time and checked before the expiry.
 * ARK_EINVAL for a bad op or fid as in ark_token_mint. */
enum ark_err	 ark_token_verify(const struct ark_secret *s,
		    enum ark_token_op op, const char *fid, const char *token,
		    int64_t now);

/*
 * Arkor-HMAC request signatures, how users (arkorctl, arkorfs, the object
 * server on a user's behalf) sign registry calls without sending their
 * secret (docs/specs/Internal.md):
 *     sig = base64url(HMAC-SHA256(secret, "arkor-req-v1\n" method "\n"
 *           path "\n" seconds "\n" hex(SHA-256(body)))), no padding
 *     Authorization: Arkor-HMAC <key id>:<seconds>:<sig>
 */
#define ARK_REQSIG_LEN		44	/* 43 chars + NUL */
#define ARK_REQSIG_AUTH_MAX	(ARK_REQSIG_LEN + 160)	/* whole header */

/* The signature of (method, path, ts, body) with `secret` into out. */
void		 ark_reqsig(const char *secret, const char *method,
		    const char *path, int64_t ts, const void *body, size_t len,
		    char out[ARK_REQSIG_LEN]);
/* The Authorization value for POST `path` with `body`, signed now. */
void		 ark_reqsig_auth(const char *key_id, const char *secret,
		    const char *path, const void *body, size_t len, char *out,
		    size_t cap);

#endif /* ARKOR_COMMON_TOKEN_H */
