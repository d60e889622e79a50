/*
 * fs_xattr.h - arkorfs's extended attributes as S3 user metadata. Only the
 * "user." namespace is stored; each attribute is one member of the
 * object's `user_meta` JSON object (what S3 returns as x-amz-meta-*):
 *
 *   name:  "user." + N  <->  key N, percent-encoded: bytes outside
 *          [a-z0-9] and "-_.!#$&'*+^`|~" become "%xx" (lower-case hex),
 *          so the key is a lower-case HTTP token that survives S3
 *          (which lower-cases metadata names) and maps back exactly.
 *   value: stored as is when every byte is printable ASCII, without
 *          leading or trailing blanks and not starting with "=?" (a safe
 *          HTTP header value); otherwise as the RFC 2047 encoded word
 *          "=?UTF-8?B?<base64>?=", the form S3 itself uses for non-ASCII
 *          metadata. Values round-trip byte for byte.
 *
 * The registry bounds user_meta to FSX_META_MAX bytes of compact JSON;
 * every attribute of a file shares that budget.
 *
 * These functions only edit JSON; callers own the locking and I/O.
 */
#ifndef ARKOR_FS_FS_XATTR_H
#define ARKOR_FS_FS_XATTR_H

#include <stddef.h>

#include <jansson.h>

#define FSX_META_MAX	8192	/* the registry's user_meta limit */

/* setxattr into `meta` (an object, edited in place): name is the full
 * attribute name, value[0..len) borrowed, flags XATTR_CREATE/REPLACE.
 * 0; -ENOTSUP outside "user."; -EINVAL for "user." alone; -EEXIST /
 * -ENODATA for the flags; -E2BIG when the attribute alone exceeds the
 * budget, -ENOSPC when it does not fit with the others. On error meta is
 * unchanged. */
int		 fsx_set(json_t *meta, const char *name, const char *value,
		    size_t len, int flags);
/* removexattr: 0, -ENOTSUP, -ENODATA. */
int		 fsx_remove(json_t *meta, const char *name);
/* getxattr (meta may be NULL: none): the value's length when size is 0,
 * else copies it into buf and returns its length; -ERANGE when size is
 * too small, -ENODATA, -ENOTSUP. */
int		 fsx_get(const json_t *meta, const char *name, char *buf,
		    size_t size);
/* listxattr: the "user.<name>\0" list's length when size is 0, else
 * copies it; -ERANGE when too small. Members that are not strings or
 * have no attribute name (bad escapes, NUL, too long) are skipped. */
int		 fsx_list(const json_t *meta, char *buf, size_t size);

#endif /* ARKOR_FS_FS_XATTR_H */
