/*
 * s3_uri.c - percent-encoding and raw query iteration (see s3_uri.h).
 */
#include "config.h"

#include <string.h>

#include "common/util.h"
#include "object/s3_uri.h"

static int
uri_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

static int
uri_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum ark_err
s3_uri_encode(struct ark_buf *out, const char *s, size_t n, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t start = ark_buf_len(out);
	size_t run = 0;
	enum ark_err rc = ARK_OK;

	for (size_t i = 0; i < n && rc == ARK_OK; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[3];

		if (uri_unreserved(c) || (keep_slash && c == '/'))
			continue;
		if (i > run)
			rc = ark_buf_append(out, s + run, i - run);
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		if (rc == ARK_OK)
			rc = ark_buf_append(out, esc, 3);
		run = i + 1;
	}
	if (rc == ARK_OK && n > run)
		rc = ark_buf_append(out, s + run, n - run);
	if (rc != ARK_OK)
		ark_buf_truncate(out, start);
	return rc;
}

/* Decodes into `out` (cap bytes, no NUL); returns the length, or -1 on a
 * bad escape, -2 when it does not fit. */
static long
uri_decode_raw(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;
			hi = uri_hexval((unsigned char)s[i + 1]);
			lo = uri_hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (o >= cap)
			return -2;
		out[o++] = (char)c;
	}
	return (long)o;
}

enum ark_err
s3_uri_decode_to(const char *s, size_t n, char *out, size_t cap,
    size_t *outlen)
{
	long r;

	if (cap == 0)
		return ARK_ETOOBIG;
	r = uri_decode_raw(s, n, out, cap - 1);
	if (r == -1)
		return ARK_EINVAL;
	if (r < 0)
		return ARK_ETOOBIG;
	out[r] = '\0';
	if (outlen != NULL)
		*outlen = (size_t)r;
	return ARK_OK;
}

enum ark_err
s3_uri_decode(struct ark_buf *out, const char *s, size_t n)
{
	size_t start = ark_buf_len(out);
	size_t run = 0;
	enum ark_err rc = ARK_OK;

	for (size_t i = 0; i < n && rc == ARK_OK; i++) {
		char c;
		long r;

		if (s[i] != '%')
			continue;
		r = uri_decode_raw(s + i, ARK_MIN(n - i, 3), &c, 1);
		if (r != 1) {
			rc = ARK_EINVAL;
			break;
		}
		if (i > run)
			rc = ark_buf_append(out, s + run, i - run);
		if (rc == ARK_OK)
			rc = ark_buf_append(out, &c, 1);
		i += 2;
		run = i + 1;
	}
	if (rc == ARK_OK && n > run)
		rc = ark_buf_append(out, s + run, n - run);
	if (rc != ARK_OK)
		ark_buf_truncate(out, start);
	return rc;
}

int
s3_uri_query_next(const char **cur, struct s3_uri_param *p)
{
	const char *s = *cur;

	if (s == NULL)
		return 0;
	for (;;) {
		const char *amp, *eq;
		size_t len;

		if (*s == '\0') {
			*cur = s;
			return 0;
		}
		amp = strchr(s, '&');
		len = amp != NULL ? (size_t)(amp - s) : strlen(s);
		if (len == 0) {
			s++;
			continue;
		}
		eq = memchr(s, '=', len);
		p->key = s;
		if (eq != NULL) {
			p->keylen = (size_t)(eq - s);
			p->val = eq + 1;
			p->vallen = len - p->keylen - 1;
			p->has_eq = 1;
		} else {
			p->keylen = len;
			p->val = s + len;
			p->vallen = 0;
			p->has_eq = 0;
		}
		*cur = amp != NULL ? amp + 1 : s + len;
		return 1;
	}
}

/* 1 when the decoded p->key equals name. */
static int
uri_key_is(const struct s3_uri_param *p, const char *name)
{
	char key[128];
	size_t klen;

	if (p->keylen >= 3 * sizeof(key))
		return 0;
	if (s3_uri_decode_to(p->key, p->keylen, key, sizeof(key),
	    &klen) != ARK_OK)
		return 0;
	return klen == strlen(name) && memcmp(key, name, klen) == 0;
}

enum ark_err
s3_uri_query_get(const char *query, const char *name, char *out,
    size_t cap)
{
	struct s3_uri_param p;
	const char *cur = query;

	while (s3_uri_query_next(&cur, &p))
		if (uri_key_is(&p, name))
			return s3_uri_decode_to(p.val, p.vallen, out, cap,
			    NULL);
	return ARK_ENOENT;
}

int
s3_uri_query_has(const char *query, const char *name)
{
	struct s3_uri_param p;
	const char *cur = query;

	while (s3_uri_query_next(&cur, &p))
		if (uri_key_is(&p, name))
			return 1;
	return 0;
}
