/*
 * s3_form.c - streaming multipart/form-data parser.
 *
 * The body is scanned for the delimiter "\r\n--<boundary>" with a count
 * of delimiter bytes matched so far, which survives between pieces: a
 * boundary split anywhere is found without buffering input. RFC 2046
 * boundaries hold no CR, so after a mismatch a new delimiter can only
 * start at a CR: the matched prefix is data, emitted from the delimiter
 * itself, and the scan goes on at the byte that did not match. The
 * body's first delimiter may come without its CRLF: the scan starts as
 * if one had been seen.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "object/s3_form.h"

#define S3_FORM_LINE_MAX	2048	/* one part header line */

enum form_state {
	FORM_PREAMBLE,		/* before the first delimiter: discarded */
	FORM_TAIL,		/* after a delimiter: "--" or CRLF */
	FORM_HEADERS,		/* part header lines */
	FORM_FIELD,		/* a field's value */
	FORM_FILE,		/* the file's data */
	FORM_EPILOGUE,		/* after the file: ignored */
	FORM_DONE,		/* after the closing delimiter: ignored */
};

enum form_tail {
	TAIL_START,
	TAIL_DASH,		/* one '-' */
	TAIL_PAD,		/* linear white space before CRLF */
	TAIL_CR,
};

struct s3_form {
	const struct s3_form_cbs *cbs;
	void		*arg;
	enum form_state	 st;
	enum form_tail	 tail;
	enum s3_code	 err;
	char		 delim[4 + S3_FORM_BOUNDARY_MAX + 1];
	size_t		 dlen;
	size_t		 m;		/* delimiter bytes matched */
	size_t		 pre;		/* bytes before the file's data */
	int		 has_file;
	/* the current part */
	char		 name[256];
	char		 filename[1024];
	char		 ctype[256];
	char		 line[S3_FORM_LINE_MAX];
	size_t		 linelen;
	char		*val;		/* S3_FORM_MAX_PRE + 1 bytes */
	size_t		 vlen;
};

static int
form_bchar(int c)
{
	return isalnum(c) || strchr("'()+_,-./:=? ", c) != NULL;
}

int
s3_form_boundary(const char *ctype, char out[S3_FORM_BOUNDARY_MAX + 1])
{
	static const char type[] = "multipart/form-data";
	const char *p = ctype, *a;
	size_t alen, n;

	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, type, sizeof(type) - 1) != 0)
		return -1;
	p += sizeof(type) - 1;
	if (*p != ';' && *p != ' ' && *p != '\t' && *p != '\0')
		return -1;
	for (;;) {
		while (*p == ';' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return -1;
		a = p;
		while (*p != '\0' && *p != '=' && *p != ';')
			p++;
		alen = (size_t)(p - a);
		while (alen > 0 && (a[alen - 1] == ' ' || a[alen - 1] == '\t'))
			alen--;
		if (*p != '=')
			continue;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		n = 0;
		if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (n == S3_FORM_BOUNDARY_MAX)
					return -1;
				out[n++] = *p;
			}
			if (*p != '"')
				return -1;
			p++;
		} else
			for (; *p != '\0' && *p != ';' && *p != ' ' &&
			    *p != '\t'; p++) {
				if (n == S3_FORM_BOUNDARY_MAX)
					return -1;
				out[n++] = *p;
			}
		out[n] = '\0';
		if (alen != 8 || strncasecmp(a, "boundary", 8) != 0)
			continue;
		if (n == 0 || out[n - 1] == ' ')
			return -1;
		for (size_t i = 0; i < n; i++)
			if (!form_bchar((unsigned char)out[i]))
				return -1;
		return 0;
	}
}

enum s3_code
s3_form_new(const char *ctype, const struct s3_form_cbs *cbs, void *arg,
    struct s3_form **out)
{
	char b[S3_FORM_BOUNDARY_MAX + 1];
	struct s3_form *f;

	*out = NULL;
	if (ctype == NULL || s3_form_boundary(ctype, b) != 0)
		return S3_ERR_MALFORMED_POST;
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->val = malloc(S3_FORM_MAX_PRE + 1)) == NULL) {
		free(f);
		return S3_ERR_INTERNAL;
	}
	f->cbs = cbs;
	f->arg = arg;
	f->dlen = (size_t)snprintf(f->delim, sizeof(f->delim), "\r\n--%s", b);
	f->st = FORM_PREAMBLE;
	f->m = 2;			/* the body may start with "--" */
	*out = f;
	return S3_OK;
}

void
s3_form_free(struct s3_form *f)
{
	if (f == NULL)
		return;
	free(f->val);
	free(f);
}

int
s3_form_has_file(const struct s3_form *f)
{
	return f->has_file;
}

/* Data of the current part: dropped, kept as the field's value, or
 * handed over as the file's. */
static enum s3_code
form_emit(struct s3_form *f, const void *p, size_t n)
{
	if (n == 0)
		return S3_OK;
	switch (f->st) {
	case FORM_FIELD:
		/* (cannot overflow: a value is shorter than f->pre) */
		if (f->vlen + n > S3_FORM_MAX_PRE)
			return S3_ERR_MAX_POST_PRE_DATA;
		memcpy(f->val + f->vlen, p, n);
		f->vlen += n;
		return S3_OK;
	case FORM_FILE:
		return f->cbs->file_data(f->arg, p, n);
	default:
		return S3_OK;
	}
}

/* Scans d[0..n) for the delimiter, emitting the data before it.
 * *took: bytes consumed (through the delimiter when *found). */
static enum s3_code
form_scan(struct s3_form *f, const unsigned char *d, size_t n, size_t *took,
    int *found)
{
	const unsigned char *r;
	size_t i = 0, run = 0;		/* data not yet emitted: [run, i) */
	enum s3_code sc;

	*found = 0;
	while (i < n) {
		if (f->m == 0) {
			if ((r = memchr(d + i, '\r', n - i)) == NULL) {
				i = n;
				break;
			}
			i = (size_t)(r - d);
			if ((sc = form_emit(f, d + run, i - run)) != S3_OK)
				return sc;
			f->m = 1;
			run = ++i;
			continue;
		}
		if (d[i] == (unsigned char)f->delim[f->m]) {
			run = ++i;
			if (++f->m == f->dlen) {
				f->m = 0;
				*found = 1;
				*took = i;
				return S3_OK;
			}
			continue;
		}
		/* Not the delimiter: what matched of it was data. */
		if ((sc = form_emit(f, f->delim, f->m)) != S3_OK)
			return sc;
		f->m = 0;
		run = i;
	}
	*took = i;
	return form_emit(f, d + run, i - run);
}

/* Copies a parameter value (quoted-string with backslash escapes, or a
 * token) from *pp into out; -1 when too long or unterminated. */
static int
form_param_value(const char **pp, char *out, size_t cap)
{
	const char *p = *pp;
	size_t n = 0;

	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (*p == '\0' || n + 1 >= cap)
				return -1;
			out[n++] = *p;
		}
		p++;
	} else
		for (; *p != '\0' && *p != ';' && *p != ' ' && *p != '\t';
		    p++) {
			if (n + 1 >= cap)
				return -1;
			out[n++] = *p;
		}
	out[n] = '\0';
	*pp = p;
	return 0;
}

/* Content-Disposition: form-data; name="..."; filename="..." */
static enum s3_code
form_disposition(struct s3_form *f, const char *v)
{
	char scratch[S3_FORM_LINE_MAX];
	const char *a;
	size_t alen;
	char *dst;
	size_t cap;

	while (*v != '\0' && *v != ';')
		v++;
	while (*v != '\0') {
		while (*v == ';' || *v == ' ' || *v == '\t')
			v++;
		if (*v == '\0')
			break;
		a = v;
		while (*v != '\0' && *v != '=' && *v != ';' && *v != ' ')
			v++;
		alen = (size_t)(v - a);
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v != '=')
			continue;
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
		dst = scratch;
		cap = sizeof(scratch);
		if (alen == 4 && strncasecmp(a, "name", 4) == 0) {
			dst = f->name;
			cap = sizeof(f->name);
		} else if (alen == 8 && strncasecmp(a, "filename", 8) == 0) {
			dst = f->filename;
			cap = sizeof(f->filename);
		}
		if (form_param_value(&v, dst, cap) != 0)
			return S3_ERR_MALFORMED_POST;
	}
	return S3_OK;
}

/* One part header line (without its CRLF). */
static enum s3_code
form_header(struct s3_form *f, char *line)
{
	char *colon = strchr(line, ':'), *v;

	if (colon == NULL || colon == line)
		return S3_ERR_MALFORMED_POST;
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	if (strcasecmp(line, "Content-Disposition") == 0)
		return form_disposition(f, v);
	if (strcasecmp(line, "Content-Type") == 0) {
		if (strlen(v) >= sizeof(f->ctype))
			return S3_ERR_MALFORMED_POST;
		strcpy(f->ctype, v);
	}
	return S3_OK;
}

/* The empty line ending a part's headers: the part's data follows.
 * Returns S3_FORM_STOP, 0 or an enum s3_code. */
static int
form_part_begin(struct s3_form *f)
{
	if (f->name[0] == '\0')
		return S3_ERR_MALFORMED_POST;
	if (strcasecmp(f->name, "file") != 0) {
		f->st = FORM_FIELD;
		f->vlen = 0;
		return 0;
	}
	f->st = FORM_FILE;
	f->has_file = 1;
	return f->cbs->file_start(f->arg, f->filename, f->ctype);
}

/* One byte after a delimiter. */
static enum s3_code
form_tail(struct s3_form *f, int c)
{
	switch (f->tail) {
	case TAIL_START:
		if (c == '-')
			f->tail = TAIL_DASH;
		else if (c == '\r')
			f->tail = TAIL_CR;
		else if (c == ' ' || c == '\t')
			f->tail = TAIL_PAD;
		else
			return S3_ERR_MALFORMED_POST;
		return S3_OK;
	case TAIL_DASH:
		if (c != '-')
			return S3_ERR_MALFORMED_POST;
		f->st = FORM_DONE;
		return S3_OK;
	case TAIL_PAD:
		if (c == '\r')
			f->tail = TAIL_CR;
		else if (c != ' ' && c != '\t')
			return S3_ERR_MALFORMED_POST;
		return S3_OK;
	case TAIL_CR:
		if (c != '\n')
			return S3_ERR_MALFORMED_POST;
		f->st = FORM_HEADERS;
		f->linelen = 0;
		f->name[0] = f->filename[0] = f->ctype[0] = '\0';
		return S3_OK;
	}
	return S3_ERR_MALFORMED_POST;
}

/* One byte of the part headers; *stop set when the file begins and
 * file_start asked to stop. */
static enum s3_code
form_header_byte(struct s3_form *f, int c, int *stop)
{
	int rc;

	if (c != '\n') {
		if (f->linelen + 1 >= sizeof(f->line))
			return S3_ERR_MALFORMED_POST;
		f->line[f->linelen++] = (char)c;
		return S3_OK;
	}
	if (f->linelen == 0 || f->line[f->linelen - 1] != '\r')
		return S3_ERR_MALFORMED_POST;
	f->line[--f->linelen] = '\0';
	if (f->linelen > 0) {
		f->linelen = 0;
		return form_header(f, f->line);
	}
	if ((rc = form_part_begin(f)) == S3_FORM_STOP)
		*stop = 1;
	else if (rc != 0)
		return (enum s3_code)rc;
	return S3_OK;
}

enum s3_code
s3_form_feed(struct s3_form *f, const void *p, size_t n, size_t *used)
{
	const unsigned char *d = p;
	size_t i = 0, k, room;
	enum s3_code sc = S3_OK;
	int found, stop = 0;

	if (used != NULL)
		*used = 0;
	if (f->err != S3_OK)
		return f->err;
	while (i < n && sc == S3_OK && !stop) {
		switch (f->st) {
		case FORM_EPILOGUE:
		case FORM_DONE:
			i = n;
			break;
		case FORM_FILE:
			sc = form_scan(f, d + i, n - i, &k, &found);
			i += k;
			if (sc == S3_OK && found)
				f->st = FORM_EPILOGUE;
			break;
		case FORM_PREAMBLE:
		case FORM_FIELD:
			/* scan no further than the limit allows */
			room = S3_FORM_MAX_PRE - f->pre + 1;
			sc = form_scan(f, d + i, ARK_MIN(n - i, room), &k,
			    &found);
			i += k;
			f->pre += k;
			if (sc != S3_OK || f->pre > S3_FORM_MAX_PRE)
				break;
			if (found && f->st == FORM_FIELD) {
				f->val[f->vlen] = '\0';
				sc = f->cbs->field(f->arg, f->name, f->val,
				    f->vlen);
			}
			if (found) {
				f->st = FORM_TAIL;
				f->tail = TAIL_START;
			}
			break;
		case FORM_TAIL:
			f->pre++;
			sc = form_tail(f, d[i++]);
			break;
		case FORM_HEADERS:
			f->pre++;
			sc = form_header_byte(f, d[i++], &stop);
			break;
		}
		if (sc == S3_OK && f->st != FORM_FILE && f->st != FORM_EPILOGUE &&
		    f->st != FORM_DONE && f->pre > S3_FORM_MAX_PRE)
			sc = S3_ERR_MAX_POST_PRE_DATA;
	}
	if (sc != S3_OK) {
		f->err = sc;
		return sc;
	}
	if (used != NULL)
		*used = i;
	return S3_OK;
}

enum s3_code
s3_form_finish(struct s3_form *f)
{
	if (f->err != S3_OK)
		return f->err;
	switch (f->st) {
	case FORM_EPILOGUE:
	case FORM_DONE:
		return S3_OK;
	case FORM_FILE:
		return f->err = S3_ERR_INCOMPLETE_BODY;
	default:
		return f->err = S3_ERR_MALFORMED_POST;
	}
}
