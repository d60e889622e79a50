/*
 * err.h - the error codes every Arkor module returns.
 * ARK_OK is 0; each code has one fixed message (ark_strerror). Mapping to
 * HTTP statuses, S3 codes or errno is done once per boundary, not here.
 */
#ifndef ARKOR_COMMON_ERR_H
#define ARKOR_COMMON_ERR_H

enum ark_err {
	ARK_OK = 0,
	ARK_ENOMEM,		/* allocation failed */
	ARK_EIO,		/* I/O or system call failed (see errno/log) */
	ARK_ENOENT,		/* no such item */
	ARK_EEXIST,		/* already exists */
	ARK_ECORRUPT,		/* checksum or format mismatch */
	ARK_ETOOBIG,		/* input exceeds a configured limit */
	ARK_EPROTO,		/* malformed protocol input */
	ARK_EINVAL,		/* invalid argument or value */
	ARK_EPERM,		/* not authorised / bad token */
	ARK_ETIMEDOUT,		/* deadline passed */
	ARK_ECONN,		/* connection refused, reset or closed */
	ARK_ENOSPC,		/* out of space or quota */
	ARK_EAGAIN,		/* try again later (busy, read-only, paused) */
	ARK_EEXPIRED,		/* token or signature expired */
	ARK_ECANCELED,		/* operation canceled (shutdown, abort) */
	ARK_ERR_MAX
};

/* Returns a static, human-readable message; never NULL. */
const char	*ark_strerror(enum ark_err e);
/* Returns the symbolic name ("ARK_ENOENT"); never NULL. */
const char	*ark_errname(enum ark_err e);

#endif /* ARKOR_COMMON_ERR_H */
