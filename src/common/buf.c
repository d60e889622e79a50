/*
 * buf.c - capped growable buffer. Growth doubles up to the cap (plus one
 * byte for the NUL), so appending n bytes costs amortised O(n) and the
 * allocation never exceeds cap + 1 bytes.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

#define BUF_MIN_ALLOC	32

void
ark_buf_init(struct ark_buf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

/* Makes room for `n` more bytes plus the NUL; contents unchanged on error. */
static enum ark_err
buf_reserve(struct ark_buf *b, size_t n)
{
	size_t	 need, nalloc;
	char	*p;

	if (n > b->cap - b->len)
		return ARK_ETOOBIG;
	need = b->len + n + 1;
	if (need <= b->alloc)
		return ARK_OK;
	nalloc = b->alloc ? b->alloc : BUF_MIN_ALLOC;
	while (nalloc < need) {
		if (nalloc > SIZE_MAX / 2) {
			nalloc = need;
			break;
		}
		nalloc *= 2;
	}
	if (b->cap < SIZE_MAX && nalloc > b->cap + 1)
		nalloc = b->cap + 1;
	if ((p = realloc(b->data, nalloc)) == NULL)
		return ARK_ENOMEM;
	b->data = p;
	b->alloc = nalloc;
	return ARK_OK;
}

enum ark_err
ark_buf_append(struct ark_buf *b, const void *p, size_t n)
{
	enum ark_err rc;

	if ((rc = buf_reserve(b, n)) != ARK_OK)
		return rc;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return ARK_OK;
}

enum ark_err
ark_buf_append_str(struct ark_buf *b, const char *s)
{
	return ark_buf_append(b, s, strlen(s));
}

enum ark_err
ark_buf_append_byte(struct ark_buf *b, unsigned char c)
{
	return ark_buf_append(b, &c, 1);
}

enum ark_err
ark_buf_vprintf(struct ark_buf *b, const char *fmt, va_list ap)
{
	va_list		 aq;
	enum ark_err	 rc;
	int		 n;

	/* First try in the space we have; grow once if it did not fit. */
	va_copy(aq, ap);
	if (b->alloc > b->len + 1)
		n = vsnprintf(b->data + b->len, b->alloc - b->len, fmt, aq);
	else {
		char c;
		n = vsnprintf(&c, 1, fmt, aq);
	}
	va_end(aq);
	if (n < 0)
		goto restore;
	if ((size_t)n < b->alloc - b->len && b->data != NULL &&
	    (size_t)n <= b->cap - b->len) {
		b->len += (size_t)n;
		return ARK_OK;
	}
	if ((rc = buf_reserve(b, (size_t)n)) != ARK_OK) {
		if (b->data != NULL)
			b->data[b->len] = '\0';
		return rc;
	}
	va_copy(aq, ap);
	n = vsnprintf(b->data + b->len, b->alloc - b->len, fmt, aq);
	va_end(aq);
	if (n < 0)
		goto restore;
	b->len += (size_t)n;
	return ARK_OK;
restore:
	if (b->data != NULL)
		b->data[b->len] = '\0';
	return ARK_EINVAL;
}

enum ark_err
ark_buf_printf(struct ark_buf *b, const char *fmt, ...)
{
	va_list		 ap;
	enum ark_err	 rc;

	va_start(ap, fmt);
	rc = ark_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

const char *
ark_buf_str(const struct ark_buf *b)
{
	return b->data != NULL ? b->data : "";
}

size_t
ark_buf_len(const struct ark_buf *b)
{
	return b->len;
}

size_t
ark_buf_cap(const struct ark_buf *b)
{
	return b->cap;
}

void
ark_buf_truncate(struct ark_buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

void
ark_buf_reset(struct ark_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
ark_buf_free(struct ark_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
}

char *
ark_buf_steal(struct ark_buf *b, size_t *lenp)
{
	char *p = b->data;

	if (p == NULL && (p = calloc(1, 1)) == NULL)
		return NULL;
	if (lenp != NULL)
		*lenp = b->len;
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}
