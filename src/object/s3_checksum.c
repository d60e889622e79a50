/*
 * s3_checksum.c - checksum algorithms by name, CRC64/NVME, the
 * multi-algorithm streaming context and request checksum declarations
 * (see s3_checksum.h).
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "common/cksum.h"
#include "common/util.h"
#include "object/s3_checksum.h"

static const struct {
	const char	*name;
	const char	*header;
	size_t		 len;
} s3_algs[S3_CKSUM_ALG_MAX] = {
	[S3_CKSUM_NONE] = { NULL, NULL, 0 },
	[S3_CKSUM_CRC32] = { "CRC32", "x-amz-checksum-crc32", 4 },
	[S3_CKSUM_CRC32C] = { "CRC32C", "x-amz-checksum-crc32c", 4 },
	[S3_CKSUM_CRC64NVME] = { "CRC64NVME", "x-amz-checksum-crc64nvme", 8 },
	[S3_CKSUM_SHA1] = { "SHA1", "x-amz-checksum-sha1", 20 },
	[S3_CKSUM_SHA256] = { "SHA256", "x-amz-checksum-sha256", 32 },
	[S3_CKSUM_MD5] = { "MD5", NULL, 16 },
};

const char *
s3_cksum_name(enum s3_cksum_alg a)
{
	return (unsigned)a < S3_CKSUM_ALG_MAX ? s3_algs[a].name : NULL;
}

const char *
s3_cksum_header(enum s3_cksum_alg a)
{
	return (unsigned)a < S3_CKSUM_ALG_MAX ? s3_algs[a].header : NULL;
}

const char *
s3_cksum_key(enum s3_cksum_alg a)
{
	const char *h = s3_cksum_header(a);

	return h != NULL ? h + strlen("x-amz-checksum-") : NULL;
}

size_t
s3_cksum_len(enum s3_cksum_alg a)
{
	return (unsigned)a < S3_CKSUM_ALG_MAX ? s3_algs[a].len : 0;
}

int
s3_cksum_parse_alg(const char *name)
{
	for (int a = S3_CKSUM_CRC32; a <= S3_CKSUM_SHA256; a++)
		if (strcasecmp(name, s3_algs[a].name) == 0)
			return a;
	return -1;
}

/* ---- CRC-64/NVME ---- */

#define CRC64NVME_REFLECTED	0x9A6C9329AC4BC9B5ull	/* 0xAD93...59 */

static uint64_t crc64_table[8][256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

static void
crc64_init(void)
{
	for (unsigned i = 0; i < 256; i++) {
		uint64_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ ((c & 1) ? CRC64NVME_REFLECTED : 0);
		crc64_table[0][i] = c;
	}
	for (unsigned i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc64_table[t][i] = (crc64_table[t - 1][i] >> 8) ^
			    crc64_table[0][crc64_table[t - 1][i] & 0xff];
}

uint64_t
s3_crc64nvme(uint64_t crc, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	uint64_t c = ~crc;

	pthread_once(&crc64_once, crc64_init);
	/* slicing-by-8 */
	while (n >= 8) {
		uint64_t w = (uint64_t)p[0] | (uint64_t)p[1] << 8 |
		    (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
		    (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
		    (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;

		c ^= w;
		c = crc64_table[7][c & 0xff] ^
		    crc64_table[6][(c >> 8) & 0xff] ^
		    crc64_table[5][(c >> 16) & 0xff] ^
		    crc64_table[4][(c >> 24) & 0xff] ^
		    crc64_table[3][(c >> 32) & 0xff] ^
		    crc64_table[2][(c >> 40) & 0xff] ^
		    crc64_table[1][(c >> 48) & 0xff] ^
		    crc64_table[0][c >> 56];
		p += 8;
		n -= 8;
	}
	while (n-- > 0)
		c = crc64_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

/* ---- CRC combination (zlib's crc32_combine, any reflected CRC) ---- */

/* a * b modulo the reflected polynomial `poly` of width `w` bits. */
static uint64_t
crc_multmodp(uint64_t a, uint64_t b, uint64_t poly, int w)
{
	uint64_t m = (uint64_t)1 << (w - 1), p = 0;

	while (m != 0) {
		if (a & m)
			p ^= b;
		m >>= 1;
		b = (b & 1) ? (b >> 1) ^ poly : b >> 1;
	}
	return p;
}

uint64_t
s3_cksum_crc_combine(enum s3_cksum_alg a, uint64_t crc_a, uint64_t crc_b,
    uint64_t len_b)
{
	uint64_t poly, sq, p, n = len_b;
	int w;

	switch (a) {
	case S3_CKSUM_CRC32:
		poly = 0xEDB88320u;
		w = 32;
		break;
	case S3_CKSUM_CRC32C:
		poly = 0x82F63B78u;
		w = 32;
		break;
	case S3_CKSUM_CRC64NVME:
		poly = CRC64NVME_REFLECTED;
		w = 64;
		break;
	default:
		return 0;
	}
	/* p = x^(8 * len_b) mod P, by squaring: sq runs through x^(2^k),
	 * starting at x^8 (k = 3) since lengths count bytes. */
	sq = (uint64_t)1 << (w - 2);		/* x^1 */
	for (int k = 0; k < 3; k++)
		sq = crc_multmodp(sq, sq, poly, w);
	p = (uint64_t)1 << (w - 1);		/* x^0 */
	while (n != 0) {
		if (n & 1)
			p = crc_multmodp(sq, p, poly, w);
		sq = crc_multmodp(sq, sq, poly, w);
		n >>= 1;
	}
	return crc_multmodp(p, crc_a, poly, w) ^ crc_b;
}

static int
cksum_is_crc(enum s3_cksum_alg a)
{
	return a == S3_CKSUM_CRC32 || a == S3_CKSUM_CRC32C ||
	    a == S3_CKSUM_CRC64NVME;
}

enum ark_err
s3_cksum_crc_from_b64(enum s3_cksum_alg a, const char *b64, uint64_t *crc)
{
	unsigned char raw[S3_CKSUM_MAXLEN];
	size_t got, i;

	if (!cksum_is_crc(a) || ark_base64_decode(b64, strlen(b64), raw,
	    sizeof(raw), &got, 0) != ARK_OK || got != s3_cksum_len(a))
		return ARK_EINVAL;
	for (*crc = 0, i = 0; i < got; i++)
		*crc = *crc << 8 | raw[i];
	return ARK_OK;
}

static void	cksum_be(unsigned char *out, uint64_t v, int bytes);

enum ark_err
s3_cksum_crc_to_b64(enum s3_cksum_alg a, uint64_t crc, char *out)
{
	unsigned char raw[8];
	size_t len = s3_cksum_len(a);

	if (!cksum_is_crc(a))
		return ARK_EINVAL;
	cksum_be(raw, crc, (int)len);
	ark_base64_encode(raw, len, out, 0);
	return ARK_OK;
}

/* ---- streaming context ---- */

struct s3_cksum {
	unsigned	 mask;
	int		 final;
	uint32_t	 crc32;
	uint32_t	 crc32c;
	uint64_t	 crc64;
	struct ark_hash	*h[S3_CKSUM_ALG_MAX];	/* SHA1, SHA256, MD5 */
	unsigned char	 val[S3_CKSUM_ALG_MAX][S3_CKSUM_MAXLEN];
};

static int
cksum_hash_alg(enum s3_cksum_alg a, enum ark_hash_alg *h)
{
	switch (a) {
	case S3_CKSUM_SHA1:
		*h = ARK_HASH_SHA1;
		return 1;
	case S3_CKSUM_SHA256:
		*h = ARK_HASH_SHA256;
		return 1;
	case S3_CKSUM_MD5:
		*h = ARK_HASH_MD5;
		return 1;
	default:
		return 0;
	}
}

void
s3_cksum_free(struct s3_cksum *c)
{
	if (c == NULL)
		return;
	for (int a = 0; a < S3_CKSUM_ALG_MAX; a++)
		ark_hash_free(c->h[a]);
	free(c);
}

enum ark_err
s3_cksum_new(unsigned mask, struct s3_cksum **out)
{
	struct s3_cksum *c = calloc(1, sizeof(*c));
	enum ark_err rc;

	if (c == NULL)
		return ARK_ENOMEM;
	c->mask = mask & ((1u << S3_CKSUM_ALG_MAX) - 1) &
	    ~S3_CKSUM_BIT(S3_CKSUM_NONE);
	for (int a = 0; a < S3_CKSUM_ALG_MAX; a++) {
		enum ark_hash_alg h;

		if (!(c->mask & S3_CKSUM_BIT(a)) || !cksum_hash_alg(a, &h))
			continue;
		if ((rc = ark_hash_new(h, &c->h[a])) != ARK_OK) {
			s3_cksum_free(c);
			return rc;
		}
	}
	*out = c;
	return ARK_OK;
}

enum ark_err
s3_cksum_update(struct s3_cksum *c, const void *p, size_t n)
{
	enum ark_err rc;

	if (c->final)
		return ARK_EINVAL;
	if (c->mask & S3_CKSUM_BIT(S3_CKSUM_CRC32))
		c->crc32 = ark_crc32(c->crc32, p, n);
	if (c->mask & S3_CKSUM_BIT(S3_CKSUM_CRC32C))
		c->crc32c = ark_crc32c(c->crc32c, p, n);
	if (c->mask & S3_CKSUM_BIT(S3_CKSUM_CRC64NVME))
		c->crc64 = s3_crc64nvme(c->crc64, p, n);
	for (int a = 0; a < S3_CKSUM_ALG_MAX; a++)
		if (c->h[a] != NULL &&
		    (rc = ark_hash_update(c->h[a], p, n)) != ARK_OK)
			return rc;
	return ARK_OK;
}

static void
cksum_be(unsigned char *out, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--) {
		out[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

enum ark_err
s3_cksum_final(struct s3_cksum *c)
{
	enum ark_err rc;

	if (c->final)
		return ARK_OK;
	cksum_be(c->val[S3_CKSUM_CRC32], c->crc32, 4);
	cksum_be(c->val[S3_CKSUM_CRC32C], c->crc32c, 4);
	cksum_be(c->val[S3_CKSUM_CRC64NVME], c->crc64, 8);
	for (int a = 0; a < S3_CKSUM_ALG_MAX; a++)
		if (c->h[a] != NULL &&
		    (rc = ark_hash_final(c->h[a], c->val[a])) != ARK_OK)
			return rc;
	c->final = 1;
	return ARK_OK;
}

size_t
s3_cksum_raw(const struct s3_cksum *c, enum s3_cksum_alg a,
    unsigned char *out)
{
	size_t len = s3_cksum_len(a);

	if (!c->final || len == 0 || !(c->mask & S3_CKSUM_BIT(a)))
		return 0;
	memcpy(out, c->val[a], len);
	return len;
}

enum ark_err
s3_cksum_b64(const struct s3_cksum *c, enum s3_cksum_alg a, char *out)
{
	unsigned char raw[S3_CKSUM_MAXLEN];
	size_t len = s3_cksum_raw(c, a, raw);

	if (len == 0)
		return ARK_ENOENT;
	ark_base64_encode(raw, len, out, 0);
	return ARK_OK;
}

enum ark_err
s3_cksum_hex(const struct s3_cksum *c, enum s3_cksum_alg a, char *out)
{
	unsigned char raw[S3_CKSUM_MAXLEN];
	size_t len = s3_cksum_raw(c, a, raw);

	if (len == 0)
		return ARK_ENOENT;
	ark_hex_encode(raw, len, out);
	return ARK_OK;
}

/* ---- request declarations ---- */

/* Strict base64 of exactly s3_cksum_len(a) bytes. */
static int
cksum_decode(enum s3_cksum_alg a, const char *b64, unsigned char *out)
{
	size_t got;

	if (b64 == NULL)
		return -1;
	if (ark_base64_decode(b64, strlen(b64), out, S3_CKSUM_MAXLEN, &got,
	    0) != ARK_OK || got != s3_cksum_len(a))
		return -1;
	return 0;
}

enum s3_code
s3_cksum_parse_request(const struct s3_view *v, struct s3_cksum_req *out)
{
	const char *md5 = s3_view_header(v, "content-md5");
	const char *sdk = s3_view_header(v, "x-amz-sdk-checksum-algorithm");
	const char *trailer = s3_view_header(v, "x-amz-trailer");
	int sdk_alg = S3_CKSUM_NONE;

	memset(out, 0, sizeof(*out));
	if (md5 != NULL) {
		size_t got;

		if (ark_base64_decode(md5, strlen(md5), out->md5,
		    sizeof(out->md5), &got, 0) != ARK_OK || got != 16)
			return S3_ERR_INVALID_DIGEST;
		out->has_md5 = 1;
	}
	for (int a = S3_CKSUM_CRC32; a <= S3_CKSUM_SHA256; a++) {
		const char *val = s3_view_header(v, s3_algs[a].header);

		if (val == NULL)
			continue;
		if (out->alg != S3_CKSUM_NONE)
			return S3_ERR_INVALID_REQUEST;
		out->alg = (enum s3_cksum_alg)a;
		if (cksum_decode(out->alg, val, out->value))
			return S3_ERR_INVALID_CHECKSUM;
		out->has_value = 1;
	}
	if (trailer != NULL) {
		int found = 0;

		for (int a = S3_CKSUM_CRC32; a <= S3_CKSUM_SHA256; a++)
			if (strcasecmp(trailer, s3_algs[a].header) == 0) {
				if (out->alg != S3_CKSUM_NONE)
					return S3_ERR_INVALID_REQUEST;
				out->alg = (enum s3_cksum_alg)a;
				out->in_trailer = 1;
				found = 1;
			}
		if (!found)
			return S3_ERR_INVALID_REQUEST;
	}
	if (sdk != NULL) {
		if ((sdk_alg = s3_cksum_parse_alg(sdk)) < 0)
			return S3_ERR_INVALID_REQUEST;
		if (out->alg != (enum s3_cksum_alg)sdk_alg)
			return S3_ERR_INVALID_REQUEST;
	}
	return S3_OK;
}

enum s3_code
s3_cksum_set_trailer(struct s3_cksum_req *r, const char *b64)
{
	if (!r->in_trailer || cksum_decode(r->alg, b64, r->value))
		return S3_ERR_INVALID_CHECKSUM;
	r->has_value = 1;
	return S3_OK;
}

unsigned
s3_cksum_req_mask(const struct s3_cksum_req *r)
{
	return S3_CKSUM_BIT(S3_CKSUM_MD5) |
	    (r->alg != S3_CKSUM_NONE ? S3_CKSUM_BIT(r->alg) : 0);
}

enum s3_code
s3_cksum_verify(const struct s3_cksum_req *r, const struct s3_cksum *c)
{
	unsigned char raw[S3_CKSUM_MAXLEN];

	if (r->has_md5) {
		if (s3_cksum_raw(c, S3_CKSUM_MD5, raw) != 16)
			return S3_ERR_INTERNAL;
		if (CRYPTO_memcmp(raw, r->md5, 16) != 0)
			return S3_ERR_BAD_DIGEST;
	}
	if (r->alg != S3_CKSUM_NONE) {
		size_t len = s3_cksum_len(r->alg);

		if (!r->has_value)
			return S3_ERR_INVALID_CHECKSUM;
		if (s3_cksum_raw(c, r->alg, raw) != len)
			return S3_ERR_INTERNAL;
		if (CRYPTO_memcmp(raw, r->value, len) != 0)
			return S3_ERR_BAD_CHECKSUM;
	}
	return S3_OK;
}

enum s3_code
s3_cksum_parse_mpu(const struct s3_view *v, enum s3_cksum_alg *alg,
    int *full_object)
{
	const char *an = s3_view_header(v, "x-amz-checksum-algorithm");
	const char *tn = s3_view_header(v, "x-amz-checksum-type");
	int a;

	*alg = S3_CKSUM_NONE;
	*full_object = 0;
	if (an == NULL)
		return tn == NULL ? S3_OK : S3_ERR_INVALID_REQUEST;
	if ((a = s3_cksum_parse_alg(an)) < 0)
		return S3_ERR_INVALID_REQUEST;
	*alg = (enum s3_cksum_alg)a;
	if (tn == NULL)
		*full_object = a == S3_CKSUM_CRC64NVME;
	else if (strcasecmp(tn, "FULL_OBJECT") == 0)
		*full_object = 1;
	else if (strcasecmp(tn, "COMPOSITE") != 0)
		return S3_ERR_INVALID_REQUEST;
	if (*full_object && (a == S3_CKSUM_SHA1 || a == S3_CKSUM_SHA256))
		return S3_ERR_INVALID_REQUEST;
	if (!*full_object && a == S3_CKSUM_CRC64NVME)
		return S3_ERR_INVALID_REQUEST;
	return S3_OK;
}

/* ---- composite ---- */

enum ark_err
s3_cksum_composite_add(struct s3_cksum *c, enum s3_cksum_alg a,
    const char *part)
{
	unsigned char raw[S3_CKSUM_MAXLEN];
	size_t n = strlen(part), len = s3_cksum_len(a);

	if (len == 0)
		return ARK_EINVAL;
	if (n >= 2 && part[0] == '"' && part[n - 1] == '"') {
		part++;
		n -= 2;
	}
	if (a == S3_CKSUM_MD5) {
		if (n != 32 || ark_hex_decode(part, n, raw, 16) != ARK_OK)
			return ARK_EINVAL;
	} else {
		size_t got;

		if (ark_base64_decode(part, n, raw, sizeof(raw), &got, 0) !=
		    ARK_OK || got != len)
			return ARK_EINVAL;
	}
	return s3_cksum_update(c, raw, len);
}

enum ark_err
s3_cksum_composite_str(const struct s3_cksum *c, enum s3_cksum_alg a,
    unsigned nparts, char *out, size_t cap)
{
	char v[2 * S3_CKSUM_MAXLEN + 1];
	enum ark_err rc;
	int n;

	rc = a == S3_CKSUM_MD5 ? s3_cksum_hex(c, a, v) : s3_cksum_b64(c, a, v);
	if (rc != ARK_OK)
		return rc;
	n = snprintf(out, cap, "%s-%u", v, nparts);
	if (n < 0 || (size_t)n >= cap)
		return ARK_ETOOBIG;
	return ARK_OK;
}

enum ark_err
s3_cksum_composite_split(const char *s, char *out, size_t cap,
    unsigned *nparts)
{
	const char *dash = strrchr(s, '-');
	size_t vlen = dash != NULL ? (size_t)(dash - s) : strlen(s);

	*nparts = 0;
	if (dash != NULL) {
		unsigned long v = 0;
		const char *p = dash + 1;

		if (*p == '\0' || *p == '0')
			return ARK_EINVAL;
		for (; *p != '\0'; p++) {
			if (!isdigit((unsigned char)*p) || v > 100000)
				return ARK_EINVAL;
			v = v * 10 + (unsigned long)(*p - '0');
		}
		if (v > 100000)
			return ARK_EINVAL;
		*nparts = (unsigned)v;
	}
	if (vlen == 0)
		return ARK_EINVAL;
	if (vlen >= cap)
		return ARK_ETOOBIG;
	memcpy(out, s, vlen);
	out[vlen] = '\0';
	return ARK_OK;
}
