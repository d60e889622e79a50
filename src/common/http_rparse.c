/*
 * http_rparse.c - response parser for the HTTP client over libhttp-parser.
 *
 * libhttp-parser does the wire grammar (status line, headers, chunked
 * framing, Content-Length conflicts); this file adds what it leaves to the
 * caller: head limits that we pick (its own 80 KiB limit is process-wide),
 * storage of the header list, no body for HEAD/1xx/204/304, stopping right
 * after the final response so surplus bytes stay with the connection, and
 * pausing on the caller's request. Pausing uses http_parser_pause(); the
 * byte count it returns may leave the last body byte unconsumed, which the
 * parser then skips on the next call, so callers always re-feed from *used.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "common/http_client.h"
#include "common/http_rparse.h"
#include "common/util.h"

struct hdr_ent {
	size_t	 name;		/* offsets into buf, NUL-terminated */
	size_t	 value;
};

struct ark_http_resp_hdrs {
	char		*buf;
	size_t		 len;
	size_t		 cap;
	struct hdr_ent	*ent;
	size_t		 n;
	size_t		 nalloc;
};

struct ark_http_rparse {
	http_parser	 hp;
	struct ark_http_rparse_cbs cbs;
	void		*arg;
	size_t		 max_bytes;
	unsigned	 max_headers;

	struct ark_http_resp_hdrs h;
	size_t		 head_bytes;	/* counted against max_bytes */
	unsigned	 nfields;	/* header lines seen, trailers too */
	int		 in_value;	/* last header callback was a value */
	int		 in_trailers;	/* after the head of a chunked body */

	int		 head_req;
	int		 status;
	int		 interim;
	int64_t		 clen;
	int		 keep_alive;
	uint64_t	 body_bytes;
	enum ark_http_rparse_state st;
	enum ark_err	 cb_err;	/* why a callback stopped the parser */
};

/* ---- header list -------------------------------------------------------- */

static enum ark_err
hdrs_append(struct ark_http_resp_hdrs *h, const char *p, size_t n)
{
	if (h->len + n + 1 > h->cap) {
		size_t ncap = h->cap ? h->cap : 512;
		char *nb;

		while (ncap < h->len + n + 1)
			ncap *= 2;
		if ((nb = realloc(h->buf, ncap)) == NULL)
			return ARK_ENOMEM;
		h->buf = nb;
		h->cap = ncap;
	}
	memcpy(h->buf + h->len, p, n);
	h->len += n;
	return ARK_OK;
}

static enum ark_err
hdrs_new_entry(struct ark_http_resp_hdrs *h)
{
	if (h->n == h->nalloc) {
		size_t na = h->nalloc ? h->nalloc * 2 : 16;
		struct hdr_ent *ne;

		if ((ne = realloc(h->ent, na * sizeof(*ne))) == NULL)
			return ARK_ENOMEM;
		h->ent = ne;
		h->nalloc = na;
	}
	h->ent[h->n].name = h->len;
	h->ent[h->n].value = h->len;
	h->n++;
	return ARK_OK;
}

static void
hdrs_clear(struct ark_http_resp_hdrs *h)
{
	h->len = 0;
	h->n = 0;
}

const char *
ark_http_resp_hdrs_get(const struct ark_http_resp_hdrs *h, const char *name)
{
	size_t i;

	if (h == NULL)
		return NULL;
	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->buf + h->ent[i].name, name) == 0)
			return h->buf + h->ent[i].value;
	return NULL;
}

size_t
ark_http_resp_hdrs_count(const struct ark_http_resp_hdrs *h)
{
	return h == NULL ? 0 : h->n;
}

enum ark_err
ark_http_resp_hdrs_nth(const struct ark_http_resp_hdrs *h, size_t i,
    const char **name, const char **value)
{
	if (h == NULL || i >= h->n)
		return ARK_ENOENT;
	*name = h->buf + h->ent[i].name;
	*value = h->buf + h->ent[i].value;
	return ARK_OK;
}

void
ark_http_resp_hdrs_free(struct ark_http_resp_hdrs *h)
{
	if (h == NULL)
		return;
	free(h->buf);
	free(h->ent);
	free(h);
}

/* ---- http_parser callbacks ---------------------------------------------- */

static int
rp_fail(struct ark_http_rparse *p, enum ark_err e)
{
	p->cb_err = e;
	return -1;
}

static int
rp_count(struct ark_http_rparse *p, size_t n)
{
	p->head_bytes += n;
	if (p->head_bytes > p->max_bytes)
		return rp_fail(p, ARK_ETOOBIG);
	return 0;
}

static int
rp_on_message_begin(http_parser *hp)
{
	struct ark_http_rparse *p = hp->data;

	hdrs_clear(&p->h);
	p->head_bytes = 0;
	p->nfields = 0;
	p->in_value = 0;
	p->in_trailers = 0;
	p->status = 0;
	p->interim = 0;
	p->clen = -1;
	return 0;
}

static int
rp_on_status(http_parser *hp, const char *at, size_t len)
{
	return rp_count(hp->data, len);
}

static int
rp_on_header_field(http_parser *hp, const char *at, size_t len)
{
	struct ark_http_rparse *p = hp->data;
	enum ark_err e;

	if (rp_count(p, len) != 0)
		return -1;
	if (p->nfields == 0 || p->in_value) {
		/* A new header line: 4 bytes for ": " and CRLF. */
		if (rp_count(p, 4) != 0)
			return -1;
		if (++p->nfields > p->max_headers)
			return rp_fail(p, ARK_ETOOBIG);
		p->in_value = 0;
		if (p->in_trailers)
			return 0;
		if (p->h.n > 0 && (e = hdrs_append(&p->h, "", 1)) != ARK_OK)
			return rp_fail(p, e);
		if ((e = hdrs_new_entry(&p->h)) != ARK_OK)
			return rp_fail(p, e);
	}
	if (p->in_trailers)
		return 0;
	if ((e = hdrs_append(&p->h, at, len)) != ARK_OK)
		return rp_fail(p, e);
	return 0;
}

static int
rp_on_header_value(http_parser *hp, const char *at, size_t len)
{
	struct ark_http_rparse *p = hp->data;
	enum ark_err e;

	if (rp_count(p, len) != 0)
		return -1;
	if (p->in_trailers) {
		p->in_value = 1;
		return 0;
	}
	if (!p->in_value) {
		/* End the name; the value starts after its NUL. */
		if ((e = hdrs_append(&p->h, "", 1)) != ARK_OK)
			return rp_fail(p, e);
		p->h.ent[p->h.n - 1].value = p->h.len;
		p->in_value = 1;
	}
	if ((e = hdrs_append(&p->h, at, len)) != ARK_OK)
		return rp_fail(p, e);
	return 0;
}

/* Closes the last header (a field may have come without a value) and trims
 * trailing whitespace from values. */
static enum ark_err
rp_finish_hdrs(struct ark_http_rparse *p)
{
	struct ark_http_resp_hdrs *h = &p->h;
	enum ark_err e;
	size_t i;

	if (h->n == 0)
		return ARK_OK;
	if (!p->in_value) {
		if ((e = hdrs_append(h, "", 1)) != ARK_OK)
			return e;
		h->ent[h->n - 1].value = h->len;
	}
	if ((e = hdrs_append(h, "", 1)) != ARK_OK)
		return e;
	for (i = 0; i < h->n; i++) {
		char *v = h->buf + h->ent[i].value;
		size_t n = strlen(v);

		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			v[--n] = '\0';
	}
	return ARK_OK;
}

static int
rp_on_headers_complete(http_parser *hp)
{
	struct ark_http_rparse *p = hp->data;
	enum ark_err e;

	if ((e = rp_finish_hdrs(p)) != ARK_OK)
		return rp_fail(p, e);
	p->in_value = 0;
	p->in_trailers = 1;	/* any later header lines are trailers */
	p->nfields = 0;
	p->head_bytes = 0;
	p->status = hp->status_code;
	if (p->status < 100 || p->status == 101 || hp->upgrade)
		return rp_fail(p, ARK_EPROTO);	/* we never ask to upgrade */
	if ((hp->flags & F_CHUNKED) || hp->uses_transfer_encoding ||
	    hp->content_length == ULLONG_MAX ||
	    hp->content_length > (uint64_t)INT64_MAX)
		p->clen = -1;
	else
		p->clen = (int64_t)hp->content_length;
	p->interim = p->status < 200;
	if (!p->interim)
		p->st = ARK_RP_BODY;
	if (p->cbs.on_head != NULL && (e = p->cbs.on_head(p->arg, p)) != ARK_OK)
		return rp_fail(p, e);
	if (p->interim || p->head_req || p->status == 204 || p->status == 304)
		return 1;	/* no body, whatever the headers say */
	return 0;
}

static int
rp_on_body(http_parser *hp, const char *at, size_t len)
{
	struct ark_http_rparse *p = hp->data;
	enum ark_err e;

	p->body_bytes += len;
	if (p->cbs.on_body == NULL)
		return 0;
	e = p->cbs.on_body(p->arg, at, len);
	if (e == ARK_EAGAIN) {
		http_parser_pause(hp, 1);
		return 0;
	}
	if (e != ARK_OK)
		return rp_fail(p, e);
	return 0;
}

static int
rp_on_message_complete(http_parser *hp)
{
	struct ark_http_rparse *p = hp->data;

	if (p->interim) {
		/* 1xx: the final response follows on the same stream. */
		p->interim = 0;
		p->status = 0;
		return 0;
	}
	p->st = ARK_RP_DONE;
	p->keep_alive = http_should_keep_alive(hp) && !hp->upgrade;
	http_parser_pause(hp, 1);	/* leave what follows unconsumed */
	return 0;
}

static const http_parser_settings rp_settings = {
	.on_message_begin = rp_on_message_begin,
	.on_status = rp_on_status,
	.on_header_field = rp_on_header_field,
	.on_header_value = rp_on_header_value,
	.on_headers_complete = rp_on_headers_complete,
	.on_body = rp_on_body,
	.on_message_complete = rp_on_message_complete,
};

/* ---- API ---------------------------------------------------------------- */

struct ark_http_rparse *
ark_http_rparse_new(size_t max_header_bytes, unsigned max_headers,
    const struct ark_http_rparse_cbs *cbs, void *arg)
{
	struct ark_http_rparse *p = ark_xcalloc(1, sizeof(*p));

	p->max_bytes = max_header_bytes;
	p->max_headers = max_headers;
	if (cbs != NULL)
		p->cbs = *cbs;
	p->arg = arg;
	ark_http_rparse_reset(p, 0);
	return p;
}

void
ark_http_rparse_free(struct ark_http_rparse *p)
{
	if (p == NULL)
		return;
	free(p->h.buf);
	free(p->h.ent);
	free(p);
}

void
ark_http_rparse_reset(struct ark_http_rparse *p, int head)
{
	http_parser_init(&p->hp, HTTP_RESPONSE);
	p->hp.data = p;
	hdrs_clear(&p->h);
	p->head_bytes = 0;
	p->nfields = 0;
	p->in_value = 0;
	p->in_trailers = 0;
	p->head_req = head;
	p->status = 0;
	p->interim = 0;
	p->clen = -1;
	p->keep_alive = 0;
	p->body_bytes = 0;
	p->st = ARK_RP_HEAD;
	p->cb_err = ARK_OK;
}

enum ark_err
ark_http_rparse_feed(struct ark_http_rparse *p, const char *data, size_t len,
    size_t *used)
{
	enum http_errno he;
	size_t n;

	*used = 0;
	if (p->st == ARK_RP_DONE || len == 0)
		return ARK_OK;	/* len 0 would mean EOF to http_parser */
	p->cb_err = ARK_OK;
	n = http_parser_execute(&p->hp, &rp_settings, data, len);
	*used = n;
	he = HTTP_PARSER_ERRNO(&p->hp);
	if (he == HPE_PAUSED) {
		http_parser_pause(&p->hp, 0);
		return p->st == ARK_RP_DONE ? ARK_OK : ARK_EAGAIN;
	}
	if (he != HPE_OK) {
		if (p->cb_err != ARK_OK)
			return p->cb_err;
		if (he == HPE_HEADER_OVERFLOW)
			return ARK_ETOOBIG;
		return ARK_EPROTO;
	}
	if (p->hp.upgrade)
		return ARK_EPROTO;
	return ARK_OK;
}

enum ark_err
ark_http_rparse_eof(struct ark_http_rparse *p)
{
	if (p->st == ARK_RP_DONE)
		return ARK_OK;
	if (p->st != ARK_RP_BODY)
		return ARK_ECONN;	/* no final head at all */
	p->cb_err = ARK_OK;
	(void)http_parser_execute(&p->hp, &rp_settings, NULL, 0);
	if (HTTP_PARSER_ERRNO(&p->hp) == HPE_PAUSED)
		http_parser_pause(&p->hp, 0);
	/* Only a close-delimited body is completed by EOF; Content-Length
	 * and chunked bodies that end here are truncated. */
	if (p->st == ARK_RP_DONE) {
		p->keep_alive = 0;
		return ARK_OK;
	}
	return ARK_ECONN;
}

enum ark_http_rparse_state
ark_http_rparse_state(const struct ark_http_rparse *p)
{
	return p->st;
}

int
ark_http_rparse_status(const struct ark_http_rparse *p)
{
	return p->status;
}

int
ark_http_rparse_interim(const struct ark_http_rparse *p)
{
	return p->interim;
}

int64_t
ark_http_rparse_content_length(const struct ark_http_rparse *p)
{
	return p->clen;
}

int
ark_http_rparse_keep_alive(const struct ark_http_rparse *p)
{
	return p->st == ARK_RP_DONE && p->keep_alive;
}

uint64_t
ark_http_rparse_body_bytes(const struct ark_http_rparse *p)
{
	return p->body_bytes;
}

const struct ark_http_resp_hdrs *
ark_http_rparse_hdrs(const struct ark_http_rparse *p)
{
	return &p->h;
}

struct ark_http_resp_hdrs *
ark_http_resp_hdrs_dup(const struct ark_http_resp_hdrs *h)
{
	struct ark_http_resp_hdrs *d = ark_xcalloc(1, sizeof(*d));

	if (h == NULL)
		return d;
	if (h->len > 0) {
		d->buf = ark_xmalloc(h->len);
		memcpy(d->buf, h->buf, h->len);
		d->len = d->cap = h->len;
	}
	if (h->n > 0) {
		d->ent = ark_xmalloc(h->n * sizeof(*d->ent));
		memcpy(d->ent, h->ent, h->n * sizeof(*d->ent));
		d->n = d->nalloc = h->n;
	}
	return d;
}
