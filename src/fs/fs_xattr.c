/*
 * fs_xattr.c - "user." extended attributes kept in S3 user metadata (the
 * encodings are described in fs_xattr.h). Pure JSON editing: the FUSE
 * operations in arkorfs.c load and store the map.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include <jansson.h>

#include "common/cksum.h"
#include "common/json.h"
#include "common/util.h"
#include "fs/fs_xattr.h"

#define FSX_PREFIX	"user."
#define FSX_PREFIX_LEN	5
#define FSX_NAME_MAX	255	/* XATTR_NAME_MAX, prefix included */
#define FSX_EW_HEAD	"=?UTF-8?B?"
#define FSX_EW_TAIL	"?="

static int
fsx_plain_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("-_.!#$&'*+^`|~", c) != NULL);
}

static int
fsx_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;		/* upper case would not map back */
}

/* The user_meta key of attribute `name`; caller frees. -ENOTSUP outside
 * "user.", -EINVAL for an empty attribute name. */
static int
fsx_key(const char *name, char **out)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	char *k, *q;

	*out = NULL;
	if (strncmp(name, FSX_PREFIX, FSX_PREFIX_LEN) != 0)
		return -ENOTSUP;
	name += FSX_PREFIX_LEN;
	if (*name == '\0')
		return -EINVAL;
	q = k = ark_xmalloc(strlen(name) * 3 + 1);
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (fsx_plain_byte(*p))
			*q++ = (char)*p;
		else {
			*q++ = '%';
			*q++ = hex[*p >> 4];
			*q++ = hex[*p & 15];
		}
	}
	*q = '\0';
	*out = k;
	return 0;
}

/* "user." + the attribute name of user_meta key `key`, or NULL when it
 * has none (bad escape, NUL byte, longer than XATTR_NAME_MAX). */
static char *
fsx_name(const char *key)
{
	size_t	 n = strlen(key);
	char	*name = ark_xmalloc(FSX_PREFIX_LEN + n + 1), *q;

	memcpy(name, FSX_PREFIX, FSX_PREFIX_LEN);
	q = name + FSX_PREFIX_LEN;
	for (; *key != '\0'; key++) {
		if (*key == '%') {
			int hi = fsx_hexval(key[1]), lo;

			lo = hi < 0 ? -1 : fsx_hexval(key[2]);
			if (lo < 0 || (hi == 0 && lo == 0))
				goto bad;
			*q++ = (char)(hi << 4 | lo);
			key += 2;
		} else if (fsx_plain_byte((unsigned char)*key))
			*q++ = *key;
		else
			goto bad;
	}
	*q = '\0';
	if (q == name + FSX_PREFIX_LEN || (size_t)(q - name) > FSX_NAME_MAX)
		goto bad;
	return name;
bad:
	free(name);
	return NULL;
}

/* The stored text of a value; caller frees. */
static char *
fsx_value_enc(const char *v, size_t len)
{
	size_t	 i;
	int	 plain = len == 0 || (v[0] != ' ' && v[len - 1] != ' ' &&
		    !(len >= 2 && v[0] == '=' && v[1] == '?'));
	char	*s;

	for (i = 0; plain && i < len; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			plain = 0;
	if (plain)
		return ark_xstrndup(v, len);
	s = ark_xmalloc(sizeof(FSX_EW_HEAD) + ARK_BASE64_LEN(len) +
	    sizeof(FSX_EW_TAIL));
	memcpy(s, FSX_EW_HEAD, sizeof(FSX_EW_HEAD) - 1);
	i = sizeof(FSX_EW_HEAD) - 1;
	i += ark_base64_encode(v, len, s + i, 0);
	memcpy(s + i, FSX_EW_TAIL, sizeof(FSX_EW_TAIL));
	return s;
}

/* Decodes stored text s into *out (caller frees) and *len: an encoded
 * word "=?charset?B?...?=" gives its bytes, anything else is itself. */
static void
fsx_value_dec(const char *s, char **out, size_t *len)
{
	size_t	 n = strlen(s);
	const char *q;

	if (n > 6 && s[0] == '=' && s[1] == '?' && s[n - 2] == '?' &&
	    s[n - 1] == '=' && (q = strchr(s + 2, '?')) != NULL &&
	    q + 3 <= s + n - 2 && (q[1] == 'B' || q[1] == 'b') &&
	    q[2] == '?') {
		const char *b = q + 3;
		size_t bl = (size_t)(s + n - 2 - b);
		char *buf = ark_xmalloc(bl + 1);

		if (ark_base64_decode(b, bl, buf, bl + 1, len, 0) == ARK_OK) {
			*out = buf;
			return;
		}
		free(buf);
	}
	*out = ark_xstrdup(s);
	*len = n;
}

/* Bytes of meta as the registry counts them (compact JSON). */
static size_t
fsx_meta_size(const json_t *meta)
{
	size_t	 len = 0;
	char	*s = ark_json_dump(meta, &len);

	free(s);
	return s != NULL ? len : (size_t)-1;
}

int
fsx_set(json_t *meta, const char *name, const char *value, size_t len,
    int flags)
{
	json_t	*old, *one;
	char	*key, *v;
	int	 rc;

	if ((rc = fsx_key(name, &key)) != 0)
		return rc;
	old = json_object_get(meta, key);
	if ((flags & XATTR_CREATE) && old != NULL) {
		rc = -EEXIST;
		goto out;
	}
	if ((flags & XATTR_REPLACE) && old == NULL) {
		rc = -ENODATA;
		goto out;
	}
	v = fsx_value_enc(value, len);
	one = json_pack("{s:s}", key, v);
	if (one == NULL || fsx_meta_size(one) > FSX_META_MAX) {
		json_decref(one);
		free(v);
		rc = -E2BIG;
		goto out;
	}
	json_incref(old);		/* to put it back */
	json_object_set_new(meta, key, json_string(v));
	free(v);
	json_decref(one);
	if (fsx_meta_size(meta) > FSX_META_MAX) {
		if (old != NULL)
			json_object_set(meta, key, old);
		else
			json_object_del(meta, key);
		rc = -ENOSPC;
	}
	json_decref(old);
out:
	free(key);
	return rc;
}

int
fsx_remove(json_t *meta, const char *name)
{
	char	*key;
	int	 rc;

	if ((rc = fsx_key(name, &key)) != 0)
		return rc;
	if (json_object_del(meta, key) != 0)
		rc = -ENODATA;
	free(key);
	return rc;
}

int
fsx_get(const json_t *meta, const char *name, char *buf, size_t size)
{
	const char	*s;
	char		*key, *v;
	size_t		 len;
	int		 rc;

	if ((rc = fsx_key(name, &key)) != 0)
		return rc;
	s = json_string_value(json_object_get(meta, key));
	free(key);
	if (s == NULL)
		return -ENODATA;
	fsx_value_dec(s, &v, &len);
	if (size == 0)
		rc = (int)len;
	else if (len > size)
		rc = -ERANGE;
	else {
		memcpy(buf, v, len);
		rc = (int)len;
	}
	free(v);
	return rc;
}

int
fsx_list(const json_t *meta, char *buf, size_t size)
{
	const char	*key;
	json_t		*v;
	size_t		 total = 0;

	json_object_foreach((json_t *)meta, key, v) {
		char	*name;
		size_t	 n;

		if (!json_is_string(v) || (name = fsx_name(key)) == NULL)
			continue;
		n = strlen(name) + 1;
		if (size != 0) {
			if (total + n > size) {
				free(name);
				return -ERANGE;
			}
			memcpy(buf + total, name, n);
		}
		total += n;
		free(name);
	}
	return (int)total;
}
