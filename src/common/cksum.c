/*
 * cksum.c - CRC32C with an SSE4.2 path and a slicing-by-8 fallback, CRC32
 * (slicing-by-8), OpenSSL EVP digests behind an opaque struct, base64.
 *
 * The slicing tables are built once (pthread_once) at first use. The CPU
 * check is cached in an atomic int; a racing first call just computes it
 * twice.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/cksum.h"
#include "common/log.h"

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define CKSUM_HAVE_SSE42	1
#endif

#define POLY_CRC32C	0x82f63b78u	/* reflected Castagnoli */
#define POLY_CRC32	0xedb88320u	/* reflected IEEE 802.3 */

static uint32_t		crc32c_tab[8][256];
static uint32_t		crc32_tab[8][256];
static pthread_once_t	tab_once = PTHREAD_ONCE_INIT;

static void
tab_fill(uint32_t tab[8][256], uint32_t poly)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
		tab[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			tab[t][i] = (tab[t - 1][i] >> 8) ^
			    tab[0][tab[t - 1][i] & 0xff];
}

static void
tab_init(void)
{
	tab_fill(crc32c_tab, POLY_CRC32C);
	tab_fill(crc32_tab, POLY_CRC32);
}

/* Slicing-by-8 over a reflected CRC; crc is the raw (inverted) state. */
static uint32_t
crc_slice8(const uint32_t tab[8][256], uint32_t crc, const unsigned char *p,
    size_t len)
{
	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		crc = tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
		len--;
	}
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (len >= 8) {
		uint32_t lo, hi;

		memcpy(&lo, p, 4);
		memcpy(&hi, p + 4, 4);
		lo ^= crc;
		crc = tab[7][lo & 0xff] ^ tab[6][(lo >> 8) & 0xff] ^
		    tab[5][(lo >> 16) & 0xff] ^ tab[4][lo >> 24] ^
		    tab[3][hi & 0xff] ^ tab[2][(hi >> 8) & 0xff] ^
		    tab[1][(hi >> 16) & 0xff] ^ tab[0][hi >> 24];
		p += 8;
		len -= 8;
	}
#endif
	while (len > 0) {
		crc = tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
		len--;
	}
	return crc;
}

uint32_t
ark_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&tab_once, tab_init);
	return ~crc_slice8(crc32c_tab, ~crc, buf, len);
}

uint32_t
ark_crc32(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&tab_once, tab_init);
	return ~crc_slice8(crc32_tab, ~crc, buf, len);
}

#ifdef CKSUM_HAVE_SSE42
__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t crc, const unsigned char *p, size_t len)
{
	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		crc = _mm_crc32_u8(crc, *p++);
		len--;
	}
#ifdef __x86_64__
	{
		uint64_t c64 = crc;

		while (len >= 8) {
			uint64_t v;

			memcpy(&v, p, 8);
			c64 = _mm_crc32_u64(c64, v);
			p += 8;
			len -= 8;
		}
		crc = (uint32_t)c64;
	}
#endif
	while (len >= 4) {
		uint32_t v;

		memcpy(&v, p, 4);
		crc = _mm_crc32_u32(crc, v);
		p += 4;
		len -= 4;
	}
	while (len > 0) {
		crc = _mm_crc32_u8(crc, *p++);
		len--;
	}
	return crc;
}
#endif

int
ark_crc32c_hw_available(void)
{
#ifdef CKSUM_HAVE_SSE42
	static atomic_int cached = -1;
	int v = atomic_load_explicit(&cached, memory_order_relaxed);

	if (v < 0) {
		__builtin_cpu_init();
		v = __builtin_cpu_supports("sse4.2") ? 1 : 0;
		atomic_store_explicit(&cached, v, memory_order_relaxed);
	}
	return v;
#else
	return 0;
#endif
}

uint32_t
ark_crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
#ifdef CKSUM_HAVE_SSE42
	return ~crc32c_sse42(~crc, buf, len);
#else
	ark_fatalx("%s: no hardware CRC32C on this platform", __func__);
#endif
}

uint32_t
ark_crc32c(uint32_t crc, const void *buf, size_t len)
{
	if (ark_crc32c_hw_available())
		return ark_crc32c_hw(crc, buf, len);
	return ark_crc32c_sw(crc, buf, len);
}

void
ark_crc_base64(uint32_t crc, char out[9])
{
	unsigned char be[4] = {
		(unsigned char)(crc >> 24), (unsigned char)(crc >> 16),
		(unsigned char)(crc >> 8), (unsigned char)crc
	};

	ark_base64_encode(be, 4, out, 0);
}

/* ---- digests --------------------------------------------------------- */

struct ark_hash {
	EVP_MD_CTX		*ctx;
	const EVP_MD		*md;
	enum ark_hash_alg	 alg;
};

static const EVP_MD *
hash_md(enum ark_hash_alg alg)
{
	switch (alg) {
	case ARK_HASH_MD5:
		return EVP_md5();
	case ARK_HASH_SHA1:
		return EVP_sha1();
	case ARK_HASH_SHA256:
		return EVP_sha256();
	}
	return NULL;
}

size_t
ark_hash_len(enum ark_hash_alg alg)
{
	switch (alg) {
	case ARK_HASH_MD5:
		return 16;
	case ARK_HASH_SHA1:
		return 20;
	case ARK_HASH_SHA256:
		return 32;
	}
	return 0;
}

enum ark_err
ark_hash_new(enum ark_hash_alg alg, struct ark_hash **out)
{
	struct ark_hash *h;

	if (hash_md(alg) == NULL)
		return ARK_EINVAL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return ARK_ENOMEM;
	h->alg = alg;
	h->md = hash_md(alg);
	if ((h->ctx = EVP_MD_CTX_new()) == NULL) {
		free(h);
		return ARK_ENOMEM;
	}
	if (EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1) {
		ark_hash_free(h);
		return ARK_EINVAL;
	}
	*out = h;
	return ARK_OK;
}

enum ark_err
ark_hash_update(struct ark_hash *h, const void *p, size_t n)
{
	if (n > 0 && EVP_DigestUpdate(h->ctx, p, n) != 1)
		return ARK_EINVAL;
	return ARK_OK;
}

enum ark_err
ark_hash_final(struct ark_hash *h, unsigned char *out)
{
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(h->ctx, out, &n) != 1 ||
	    n != ark_hash_len(h->alg))
		return ARK_EINVAL;
	if (EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1)
		return ARK_EINVAL;
	return ARK_OK;
}

void
ark_hash_free(struct ark_hash *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

enum ark_err
ark_hash(enum ark_hash_alg alg, const void *p, size_t n, unsigned char *out)
{
	const EVP_MD	*md = hash_md(alg);
	unsigned int	 len = 0;

	if (md == NULL)
		return ARK_EINVAL;
	if (EVP_Digest(p, n, out, &len, md, NULL) != 1)
		return ARK_ENOMEM;
	return ARK_OK;
}

/* ---- base64 ------------------------------------------------------------ */

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
ark_base64_encode(const void *in, size_t n, char *out, int url)
{
	const unsigned char	*p = in;
	const char		*a = url ? b64_url : b64_std;
	size_t			 o = 0, i;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
		    p[i + 2];
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		if (!url) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		if (!url)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int
b64_val(int c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

enum ark_err
ark_base64_decode(const char *in, size_t inlen, void *out, size_t outcap,
    size_t *outlen, int url)
{
	unsigned char	*o = out;
	size_t		 n = 0, pad = 0, i, data;
	uint32_t	 acc = 0;
	int		 bits = 0;

	if (url) {
		if (inlen % 4 == 1)
			return ARK_EINVAL;
	} else {
		if (inlen % 4 != 0)
			return ARK_EINVAL;
		while (pad < 2 && pad < inlen && in[inlen - 1 - pad] == '=')
			pad++;
	}
	data = inlen - pad;
	if (data * 6 / 8 > outcap)
		return ARK_ETOOBIG;
	for (i = 0; i < data; i++) {
		int v = b64_val((unsigned char)in[i], url);
		if (v < 0)
			return ARK_EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[n++] = (unsigned char)(acc >> bits);
		}
	}
	/* Leftover bits must be zero padding (canonical encoding). */
	if (bits >= 6 || (acc & ((1u << bits) - 1)) != 0)
		return ARK_EINVAL;
	*outlen = n;
	return ARK_OK;
}
