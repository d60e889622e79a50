/*
 * s3_chunked.c - the aws-chunked state machine (see s3_chunked.h).
 * States: LINE (chunk header), DATA, DATA_CR/DATA_LF (CRLF after data),
 * TRAILER (lines until the empty one), DONE; an error is sticky.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/cksum.h"
#include "common/util.h"
#include "object/s3_chunked.h"

#define CHUNKED_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define CHUNKED_MAX_SIZE	((uint64_t)1 << 40)	/* one chunk, sanity */
#define S3_CHUNKED_MAGIC	0x53334348u		/* "S3CH" */

enum chunked_state {
	CH_LINE,
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TRAILER,
	CH_DONE,
	CH_ERROR,
};

struct chunked_trailer {
	char	name[64];
	char	value[S3_CHUNKED_LINE_MAX];
};

struct s3_chunked {
	uint32_t		 magic;		/* S3_CHUNKED_MAGIC */
	enum chunked_state	 state;
	enum s3_code		 err;
	int			 signed_chunks;
	int			 trailer_expected;
	int			 trailer_signed;
	struct s3_auth		 auth;		/* key, date, scope */
	char			 prev_sig[65];
	char			 chunk_sig[65];	/* of the current chunk */
	struct ark_hash		*hash;
	uint64_t		 remain;	/* of the current chunk */
	int			 last;		/* saw the 0-size chunk */
	int64_t			 decoded_len;
	uint64_t		 decoded;
	char			 line[S3_CHUNKED_LINE_MAX];
	size_t			 linelen;
	struct chunked_trailer	 tr[S3_CHUNKED_TRAILERS_MAX];
	size_t			 ntr;
	int			 have_trailer_sig;
	s3_chunked_data_fn	 data;
	void			*arg;
};

enum s3_code
s3_chunked_new(const struct s3_auth *auth, int64_t decoded_len,
    s3_chunked_data_fn data, void *arg, struct s3_chunked **out)
{
	struct s3_chunked *c;

	if (auth->payload != S3_PAYLOAD_STREAMING_SIGNED &&
	    auth->payload != S3_PAYLOAD_STREAMING_SIGNED_TRAILER &&
	    auth->payload != S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER)
		return S3_ERR_INVALID_ARGUMENT;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return S3_ERR_INTERNAL;
	c->signed_chunks = auth->payload != S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER;
	c->trailer_expected = auth->payload != S3_PAYLOAD_STREAMING_SIGNED;
	c->trailer_signed = auth->payload == S3_PAYLOAD_STREAMING_SIGNED_TRAILER;
	if (c->signed_chunks) {
		if (ark_hash_new(ARK_HASH_SHA256, &c->hash) != ARK_OK) {
			free(c);
			return S3_ERR_INTERNAL;
		}
		c->auth = *auth;
		memcpy(c->prev_sig, auth->signature, sizeof(c->prev_sig));
	}
	c->decoded_len = decoded_len;
	c->data = data;
	c->arg = arg;
	c->state = CH_LINE;
	c->magic = S3_CHUNKED_MAGIC;
	*out = c;
	return S3_OK;
}

void
s3_chunked_free(struct s3_chunked *c)
{
	if (c == NULL)
		return;
	ARK_CHECK(c, S3_CHUNKED_MAGIC);
	ark_hash_free(c->hash);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

static enum s3_code
chunked_fail(struct s3_chunked *c, enum s3_code e)
{
	c->state = CH_ERROR;
	c->err = e;
	return e;
}

/* Signs "<algo>\n<date>\n<scope>\n<prev>\n<rest>" and compares with sig,
 * then makes sig the previous signature. */
static enum s3_code
chunked_check_sig(struct s3_chunked *c, const char *algo, const char *rest,
    const char *sig)
{
	struct ark_buf sts;
	char want[65];
	enum ark_err rc;

	ark_buf_init(&sts, 1024);
	rc = ark_buf_printf(&sts, "%s\n%s\n%s\n%s\n%s", algo,
	    c->auth.amz_date, c->auth.scope, c->prev_sig, rest);
	if (rc == ARK_OK)
		rc = s3_sigv4_hmac_hex(c->auth.signing_key, ark_buf_str(&sts),
		    ark_buf_len(&sts), want);
	ark_buf_free(&sts);
	if (rc != ARK_OK)
		return S3_ERR_INTERNAL;
	if (CRYPTO_memcmp(want, sig, 64) != 0)
		return S3_ERR_SIGNATURE_DOES_NOT_MATCH;
	memcpy(c->prev_sig, want, sizeof(want));
	return S3_OK;
}

/* The chunk just ended (all its data seen): verify its signature. */
static enum s3_code
chunked_end_chunk(struct s3_chunked *c)
{
	unsigned char h[32];
	char rest[64 + 1 + 64 + 1];

	if (!c->signed_chunks)
		return S3_OK;
	if (ark_hash_final(c->hash, h) != ARK_OK)
		return S3_ERR_INTERNAL;
	memcpy(rest, CHUNKED_EMPTY_SHA256 "\n", 65);
	ark_hex_encode(h, 32, rest + 65);
	return chunked_check_sig(c, "AWS4-HMAC-SHA256-PAYLOAD", rest,
	    c->chunk_sig);
}

static int
chunked_hexval(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* A complete chunk header line (CRLF stripped). */
static enum s3_code
chunked_header_line(struct s3_chunked *c)
{
	const char *p = c->line;
	uint64_t size = 0;
	int digits = 0, v;

	while ((v = chunked_hexval((unsigned char)*p)) >= 0) {
		if (++digits > 16 || size > CHUNKED_MAX_SIZE)
			return S3_ERR_INCOMPLETE_BODY;
		size = size << 4 | (unsigned)v;
		p++;
	}
	if (digits == 0 || size > CHUNKED_MAX_SIZE)
		return S3_ERR_INCOMPLETE_BODY;
	if (c->signed_chunks) {
		static const char ext[] = ";chunk-signature=";

		if (strncmp(p, ext, sizeof(ext) - 1) != 0)
			return S3_ERR_INCOMPLETE_BODY;
		p += sizeof(ext) - 1;
		if (strlen(p) != 64)
			return S3_ERR_INCOMPLETE_BODY;
		for (int i = 0; i < 64; i++) {
			if (chunked_hexval((unsigned char)p[i]) < 0)
				return S3_ERR_INCOMPLETE_BODY;
			c->chunk_sig[i] = (char)tolower((unsigned char)p[i]);
		}
		c->chunk_sig[64] = '\0';
	} else if (*p != '\0' && *p != ';')
		return S3_ERR_INCOMPLETE_BODY;
	if (c->decoded_len >= 0 &&
	    size > (uint64_t)c->decoded_len - c->decoded)
		return S3_ERR_INCOMPLETE_BODY;
	c->remain = size;
	if (size > 0) {
		c->state = CH_DATA;
		return S3_OK;
	}
	/* The final, empty chunk. */
	c->last = 1;
	{
		enum s3_code sc = chunked_end_chunk(c);

		if (sc != S3_OK)
			return sc;
	}
	c->state = CH_TRAILER;
	return S3_OK;
}

/* A trailer line (CRLF stripped); the empty line ends the body. */
static enum s3_code
chunked_trailer_line(struct s3_chunked *c)
{
	const char *colon, *val;
	size_t nlen, vlen;

	if (c->linelen == 0) {
		if (c->trailer_signed && !c->have_trailer_sig)
			return S3_ERR_SIGNATURE_DOES_NOT_MATCH;
		if (c->decoded_len >= 0 &&
		    c->decoded != (uint64_t)c->decoded_len)
			return S3_ERR_INCOMPLETE_BODY;
		c->state = CH_DONE;
		return S3_OK;
	}
	if (!c->trailer_expected || c->have_trailer_sig)
		return S3_ERR_INVALID_REQUEST;
	colon = strchr(c->line, ':');
	if (colon == NULL || colon == c->line)
		return S3_ERR_INVALID_REQUEST;
	nlen = (size_t)(colon - c->line);
	val = colon + 1;
	while (*val == ' ' || *val == '\t')
		val++;
	vlen = strlen(val);
	while (vlen > 0 && (val[vlen - 1] == ' ' || val[vlen - 1] == '\t'))
		vlen--;
	if (nlen == 23 && strncasecmp(c->line, "x-amz-trailer-signature",
	    23) == 0) {
		struct ark_buf canon;
		unsigned char h[32];
		char hex[65], sig[65];
		enum ark_err rc = ARK_OK;
		enum s3_code sc;

		if (!c->trailer_signed || vlen != 64)
			return S3_ERR_INVALID_REQUEST;
		for (int i = 0; i < 64; i++)
			sig[i] = (char)tolower((unsigned char)val[i]);
		sig[64] = '\0';
		ark_buf_init(&canon, S3_CHUNKED_TRAILERS_MAX *
		    (S3_CHUNKED_LINE_MAX + 2));
		for (size_t i = 0; i < c->ntr && rc == ARK_OK; i++)
			rc = ark_buf_printf(&canon, "%s:%s\n", c->tr[i].name,
			    c->tr[i].value);
		if (rc == ARK_OK)
			rc = ark_hash(ARK_HASH_SHA256, ark_buf_str(&canon),
			    ark_buf_len(&canon), h);
		ark_buf_free(&canon);
		if (rc != ARK_OK)
			return S3_ERR_INTERNAL;
		ark_hex_encode(h, 32, hex);
		if ((sc = chunked_check_sig(c, "AWS4-HMAC-SHA256-TRAILER", hex,
		    sig)) != S3_OK)
			return sc;
		c->have_trailer_sig = 1;
		return S3_OK;
	}
	if (c->ntr == S3_CHUNKED_TRAILERS_MAX ||
	    nlen >= sizeof(c->tr[0].name))
		return S3_ERR_INVALID_REQUEST;
	for (size_t i = 0; i < nlen; i++)
		c->tr[c->ntr].name[i] =
		    (char)tolower((unsigned char)c->line[i]);
	c->tr[c->ntr].name[nlen] = '\0';
	memcpy(c->tr[c->ntr].value, val, vlen);
	c->tr[c->ntr].value[vlen] = '\0';
	c->ntr++;
	return S3_OK;
}

/* Accumulates a CRLF-terminated line; returns 1 when complete. */
static int
chunked_line_byte(struct s3_chunked *c, unsigned char ch, enum s3_code *sc)
{
	if (ch == '\n') {
		if (c->linelen == 0 || c->line[c->linelen - 1] != '\r') {
			*sc = S3_ERR_INCOMPLETE_BODY;
			return 0;
		}
		c->line[--c->linelen] = '\0';
		return 1;
	}
	if (ch == '\0' || c->linelen + 1 >= sizeof(c->line) ||
	    (c->linelen > 0 && c->line[c->linelen - 1] == '\r')) {
		*sc = S3_ERR_INCOMPLETE_BODY;
		return 0;
	}
	c->line[c->linelen++] = (char)ch;
	return 0;
}

enum s3_code
s3_chunked_feed(struct s3_chunked *c, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	size_t i = 0;
	enum s3_code sc = S3_OK;

	ARK_CHECK(c, S3_CHUNKED_MAGIC);
	if (c->state == CH_ERROR)
		return c->err;
	while (i < n) {
		switch (c->state) {
		case CH_LINE:
		case CH_TRAILER:
			if (!chunked_line_byte(c, p[i++], &sc)) {
				if (sc != S3_OK)
					return chunked_fail(c, sc);
				break;
			}
			sc = c->state == CH_LINE ? chunked_header_line(c) :
			    chunked_trailer_line(c);
			c->linelen = 0;
			if (sc != S3_OK)
				return chunked_fail(c, sc);
			break;
		case CH_DATA: {
			size_t take = (size_t)ARK_MIN((uint64_t)(n - i),
			    c->remain);

			if (c->signed_chunks &&
			    ark_hash_update(c->hash, p + i, take) != ARK_OK)
				return chunked_fail(c, S3_ERR_INTERNAL);
			if (c->data != NULL &&
			    (sc = c->data(c->arg, p + i, take)) != S3_OK)
				return chunked_fail(c, sc);
			c->decoded += take;
			c->remain -= take;
			i += take;
			if (c->remain == 0)
				c->state = CH_DATA_CR;
			break;
		}
		case CH_DATA_CR:
			if (p[i++] != '\r')
				return chunked_fail(c, S3_ERR_INCOMPLETE_BODY);
			c->state = CH_DATA_LF;
			break;
		case CH_DATA_LF:
			if (p[i++] != '\n')
				return chunked_fail(c, S3_ERR_INCOMPLETE_BODY);
			if ((sc = chunked_end_chunk(c)) != S3_OK)
				return chunked_fail(c, sc);
			c->state = CH_LINE;
			break;
		case CH_DONE:
			return chunked_fail(c, S3_ERR_INCOMPLETE_BODY);
		case CH_ERROR:
			return c->err;
		}
	}
	return S3_OK;
}

enum s3_code
s3_chunked_finish(struct s3_chunked *c)
{
	ARK_CHECK(c, S3_CHUNKED_MAGIC);
	if (c->state == CH_ERROR)
		return c->err;
	if (c->state != CH_DONE)
		return chunked_fail(c, S3_ERR_INCOMPLETE_BODY);
	return S3_OK;
}

int
s3_chunked_done(const struct s3_chunked *c)
{
	return c->state == CH_DONE;
}

uint64_t
s3_chunked_decoded_bytes(const struct s3_chunked *c)
{
	return c->decoded;
}

const char *
s3_chunked_trailer(const struct s3_chunked *c, const char *name)
{
	for (size_t i = 0; i < c->ntr; i++)
		if (strcasecmp(c->tr[i].name, name) == 0)
			return c->tr[i].value;
	return NULL;
}

size_t
s3_chunked_trailer_count(const struct s3_chunked *c)
{
	return c->ntr;
}

int
s3_chunked_trailer_at(const struct s3_chunked *c, size_t i,
    const char **name, const char **value)
{
	if (i >= c->ntr)
		return -1;
	*name = c->tr[i].name;
	*value = c->tr[i].value;
	return 0;
}
