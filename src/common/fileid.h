/*
 * fileid.h - FileIDs: the name of one needle, `<group>,<key hex><cookie hex>`
 * (docs/specs/FileID.md). Pure functions with no state, shared by the
 * registry (which allocates them), the data server (which stores key and
 * cookie) and the object server and arkorfs (which pass them around).
 *
 * The text form is canonical: one FileID has exactly one spelling, so a
 * FileID string may be compared, hashed and signed (token.h) as bytes.
 * Thread-safe.
 */
#ifndef ARKOR_COMMON_FILEID_H
#define ARKOR_COMMON_FILEID_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* "4294967295," + 16 key digits + 8 cookie digits + NUL */
#define ARK_FID_MAXLEN	36

struct ark_fid {			/* plain value, safe to copy */
	uint32_t	group;		/* data group id */
	uint64_t	key;		/* unique in the cluster */
	uint32_t	cookie;		/* random; checked by the data server */
};

/* Parses exactly `len` bytes of `s` (need not be NUL-terminated) into
 * *out. Only the canonical form is accepted: ARK_EINVAL for anything else
 * (leading zeros, upper case, missing parts, overflow, len over
 * ARK_FID_MAXLEN - 1); *out is then untouched. */
enum ark_err	 ark_fid_parse(const char *s, size_t len, struct ark_fid *out);
/* Same on a NUL-terminated string. */
enum ark_err	 ark_fid_parse_str(const char *s, struct ark_fid *out);
/* Writes the canonical text and a NUL into out (outlen >= ARK_FID_MAXLEN
 * always suffices) and returns its length; returns 0 and writes "" if
 * outlen is too small (outlen > 0). */
size_t		 ark_fid_format(const struct ark_fid *f, char *out,
		    size_t outlen);

#endif /* ARKOR_COMMON_FILEID_H */
