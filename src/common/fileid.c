/*
 * fileid.c - strict parser and formatter of FileID text (FileID.md).
 * The cookie is always the last 8 hex digits; everything between the comma
 * and the cookie is the key, written without leading zeros ("0" for 0).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/fileid.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;			/* upper case is not canonical */
}

enum ark_err
ark_fid_parse(const char *s, size_t len, struct ark_fid *out)
{
	struct ark_fid	 f;
	size_t		 i, comma, nkey;
	uint64_t	 g = 0;
	int		 v;

	if (s == NULL || len == 0 || len > ARK_FID_MAXLEN - 1)
		return ARK_EINVAL;
	for (comma = 0; comma < len && s[comma] != ','; comma++) {
		if (s[comma] < '0' || s[comma] > '9')
			return ARK_EINVAL;
		g = g * 10 + (uint64_t)(s[comma] - '0');
		if (g > UINT32_MAX)
			return ARK_EINVAL;
	}
	if (comma == 0 || comma == len || comma > 10)
		return ARK_EINVAL;
	if (s[0] == '0' && comma > 1)
		return ARK_EINVAL;
	f.group = (uint32_t)g;
	if (len - comma - 1 < 9)
		return ARK_EINVAL;
	nkey = len - comma - 1 - 8;
	if (nkey > 16)
		return ARK_EINVAL;
	if (nkey > 1 && s[comma + 1] == '0')
		return ARK_EINVAL;
	f.key = 0;
	for (i = comma + 1; i < comma + 1 + nkey; i++) {
		if ((v = hexval(s[i])) < 0)
			return ARK_EINVAL;
		f.key = (f.key << 4) | (uint64_t)v;
	}
	f.cookie = 0;
	for (; i < len; i++) {
		if ((v = hexval(s[i])) < 0)
			return ARK_EINVAL;
		f.cookie = (f.cookie << 4) | (uint32_t)v;
	}
	*out = f;
	return ARK_OK;
}

enum ark_err
ark_fid_parse_str(const char *s, struct ark_fid *out)
{
	if (s == NULL)
		return ARK_EINVAL;
	return ark_fid_parse(s, strnlen(s, ARK_FID_MAXLEN), out);
}

size_t
ark_fid_format(const struct ark_fid *f, char *out, size_t outlen)
{
	int n;

	n = snprintf(out, outlen, "%" PRIu32 ",%" PRIx64 "%08" PRIx32,
	    f->group, f->key, f->cookie);
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			out[0] = '\0';
		return 0;
	}
	return (size_t)n;
}
