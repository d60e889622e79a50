/*
 * s3_xmlw.c - streaming XML writer with sticky errors (see s3_xmlw.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "object/s3_uri.h"
#include "object/s3_xmlw.h"

static void
xmlw_put(struct s3_xmlw *w, const char *s)
{
	if (w->err == ARK_OK)
		w->err = ark_buf_append_str(w->b, s);
}

void
s3_xmlw_init_fragment(struct s3_xmlw *w, struct ark_buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
	w->err = ARK_OK;
}

void
s3_xmlw_init(struct s3_xmlw *w, struct ark_buf *b)
{
	s3_xmlw_init_fragment(w, b);
	xmlw_put(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
}

enum ark_err
s3_xmlw_escape(struct ark_buf *b, const char *s, size_t n)
{
	size_t start = ark_buf_len(b);
	size_t run = 0;
	enum ark_err rc = ARK_OK;

	/* Copy runs of plain bytes in one append. */
	for (size_t i = 0; i < n && rc == ARK_OK; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *ent = NULL;
		char num[8];

		switch (c) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&apos;"; break;
		default:
			if (c < 0x20 || c == 0x7f) {
				snprintf(num, sizeof(num), "&#x%X;", c);
				ent = num;
			}
			break;
		}
		if (ent == NULL)
			continue;
		if (i > run)
			rc = ark_buf_append(b, s + run, i - run);
		if (rc == ARK_OK)
			rc = ark_buf_append_str(b, ent);
		run = i + 1;
	}
	if (rc == ARK_OK && n > run)
		rc = ark_buf_append(b, s + run, n - run);
	if (rc != ARK_OK)
		ark_buf_truncate(b, start);
	return rc;
}

static void
xmlw_open(struct s3_xmlw *w, const char *name, int ns)
{
	if (w->err != ARK_OK)
		return;
	if (w->depth >= S3_XMLW_MAXDEPTH) {
		w->err = ARK_EINVAL;
		return;
	}
	w->err = ark_buf_printf(w->b, ns ? "<%s xmlns=\"" S3_XMLNS "\">" :
	    "<%s>", name);
	if (w->err == ARK_OK)
		w->stack[w->depth++] = name;
}

void
s3_xmlw_start(struct s3_xmlw *w, const char *name)
{
	xmlw_open(w, name, 0);
}

void
s3_xmlw_start_ns(struct s3_xmlw *w, const char *name)
{
	xmlw_open(w, name, 1);
}

void
s3_xmlw_start_attr(struct s3_xmlw *w, const char *name, const char *attr,
    const char *value)
{
	size_t len;

	if (w->err != ARK_OK)
		return;
	if (w->depth >= S3_XMLW_MAXDEPTH) {
		w->err = ARK_EINVAL;
		return;
	}
	len = ark_buf_len(w->b);
	w->err = ark_buf_printf(w->b, "<%s %s=\"", name, attr);
	if (w->err == ARK_OK)
		w->err = s3_xmlw_escape(w->b, value, strlen(value));
	if (w->err == ARK_OK)
		w->err = ark_buf_append_str(w->b, "\">");
	if (w->err == ARK_OK)
		w->stack[w->depth++] = name;
	else
		ark_buf_truncate(w->b, len);
}

void
s3_xmlw_text(struct s3_xmlw *w, const char *s, size_t n)
{
	if (w->err == ARK_OK && n > 0)
		w->err = s3_xmlw_escape(w->b, s, n);
}

void
s3_xmlw_end(struct s3_xmlw *w)
{
	if (w->err != ARK_OK)
		return;
	if (w->depth == 0) {
		w->err = ARK_EINVAL;
		return;
	}
	w->depth--;
	w->err = ark_buf_printf(w->b, "</%s>", w->stack[w->depth]);
}

void
s3_xmlw_elem(struct s3_xmlw *w, const char *name, const char *text)
{
	s3_xmlw_start(w, name);
	if (text != NULL)
		s3_xmlw_text(w, text, strlen(text));
	s3_xmlw_end(w);
}

void
s3_xmlw_elemf(struct s3_xmlw *w, const char *name, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	if (w->err != ARK_OK)
		return;
	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		w->err = ARK_ETOOBIG;
		return;
	}
	s3_xmlw_start(w, name);
	s3_xmlw_text(w, tmp, (size_t)n);
	s3_xmlw_end(w);
}

void
s3_xmlw_elem_key(struct s3_xmlw *w, const char *name, const char *key,
    size_t len, int url)
{
	s3_xmlw_start(w, name);
	if (w->err == ARK_OK && len > 0)
		w->err = url ? s3_uri_encode(w->b, key, len, 1) :
		    s3_xmlw_escape(w->b, key, len);
	s3_xmlw_end(w);
}

void
s3_xmlw_elem_u64(struct s3_xmlw *w, const char *name, uint64_t v)
{
	s3_xmlw_elemf(w, name, "%llu", (unsigned long long)v);
}

void
s3_xmlw_elem_bool(struct s3_xmlw *w, const char *name, int v)
{
	s3_xmlw_elem(w, name, v ? "true" : "false");
}

void
s3_xmlw_elem_time(struct s3_xmlw *w, const char *name, int64_t epoch_s)
{
	struct tm tm;
	time_t t = (time_t)epoch_s;
	char tmp[40];

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S.000Z", &tm) == 0) {
		if (w->err == ARK_OK)
			w->err = ARK_EINVAL;
		return;
	}
	s3_xmlw_elem(w, name, tmp);
}

enum ark_err
s3_xmlw_finish(struct s3_xmlw *w)
{
	if (w->err == ARK_OK && w->depth != 0)
		w->err = ARK_EINVAL;
	return w->err;
}
