/*
 * fuzz_http_client.c - arbitrary bytes as a server's response, fed to the
 * client's response parser (http_rparse) twice: in one piece, and in small
 * pieces with a pause after every body callback. Both runs must agree on
 * the outcome, status and body bytes; a complete response must carry
 * exactly Content-Length body bytes; the parser never consumes past the
 * end of the final response.
 *
 * Input: byte 0 = flags (bit 0: HEAD request, bit 1: EOF at the end),
 * byte 1 = piece size seed, then the response bytes.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/http_client.h"
#include "common/http_rparse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	int		 pause;
	uint64_t	 body;
	uint64_t	 hash;
	int		 heads;
	int		 final_status;
};

static enum ark_err
f_head(void *arg, struct ark_http_rparse *p)
{
	struct run *r = arg;
	int st = ark_http_rparse_status(p);

	if (st < 100 || st > 999)
		abort();
	if (!ark_http_rparse_interim(p)) {
		r->heads++;
		r->final_status = st;
	}
	return ARK_OK;
}

static enum ark_err
f_body(void *arg, const char *d, size_t n)
{
	struct run *r = arg;
	size_t i;

	if (n == 0)
		abort();
	for (i = 0; i < n; i++)
		r->hash = (r->hash ^ (unsigned char)d[i]) * 0x100000001b3ULL;
	r->body += n;
	return r->pause ? ARK_EAGAIN : ARK_OK;
}

static const struct ark_http_rparse_cbs f_cbs = { f_head, f_body };

static enum ark_err
run_once(const uint8_t *d, size_t n, int head, int eof, size_t piece,
    struct run *r, size_t *consumed)
{
	struct ark_http_rparse *p;
	enum ark_err e = ARK_OK;
	size_t off = 0, len, used;
	unsigned guard = 0;

	memset(r, 0, sizeof(*r));
	r->hash = 0xcbf29ce484222325ULL;
	r->pause = piece != 0;
	p = ark_http_rparse_new(4096, 20, &f_cbs, r);
	ark_http_rparse_reset(p, head);
	while (off < n && ark_http_rparse_state(p) != ARK_RP_DONE) {
		len = piece ? piece : n - off;
		if (len > n - off)
			len = n - off;
		e = ark_http_rparse_feed(p, (const char *)d + off, len, &used);
		if (used > len)
			abort();
		off += used;
		if (e == ARK_EAGAIN) {
			e = ARK_OK;
			if (++guard > 4 * n + 16)
				abort();	/* no progress */
			continue;
		}
		if (e != ARK_OK)
			break;
		if (used == 0 && ark_http_rparse_state(p) != ARK_RP_DONE)
			abort();
	}
	if (e == ARK_OK && eof && ark_http_rparse_state(p) != ARK_RP_DONE)
		e = ark_http_rparse_eof(p);
	if (e == ARK_OK && ark_http_rparse_state(p) == ARK_RP_DONE) {
		int64_t cl = ark_http_rparse_content_length(p);
		int st = ark_http_rparse_status(p);

		if (r->heads != 1 || st < 200)
			abort();
		if (head || st == 204 || st == 304) {
			if (r->body != 0)
				abort();
		} else if (cl >= 0 && r->body != (uint64_t)cl) {
			abort();
		}
		if (ark_http_rparse_body_bytes(p) != r->body)
			abort();
	}
	if (e == ARK_OK && ark_http_rparse_state(p) != ARK_RP_DONE)
		e = ARK_EAGAIN;		/* incomplete */
	*consumed = off;
	ark_http_rparse_free(p);
	return e;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run a, b;
	enum ark_err ea, eb;
	size_t ca, cb, piece;
	int head, eof;

	if (size < 2)
		return 0;
	head = data[0] & 1;
	eof = (data[0] >> 1) & 1;
	piece = (size_t)(data[1] % 7) + 1;
	data += 2;
	size -= 2;
	ea = run_once(data, size, head, eof, 0, &a, &ca);
	eb = run_once(data, size, head, eof, piece, &b, &cb);
	/* Which limit or grammar rule trips first, and how much body came
	 * before it, may depend on where pieces end; that is all. */
	if ((ea == ARK_OK || ea == ARK_EAGAIN) != (eb == ARK_OK ||
	    eb == ARK_EAGAIN))
		abort();
	if (ea != ARK_OK && ea != ARK_EAGAIN)
		return 0;
	if (ea != eb || a.body != b.body || a.hash != b.hash ||
	    a.final_status != b.final_status)
		abort();
	if (ea == ARK_OK && ca != cb)
		abort();
	return 0;
}
