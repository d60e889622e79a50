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

#include <openssl/core_names.h>
#include <openssl/crypto.h>
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

/* The digests fetched once: EVP_md5() and the like are looked up in the
 * provider again on every one-shot call (locks and a hash lookup). */
static EVP_MD		*hash_mds[3];
static pthread_once_t	 hash_once = PTHREAD_ONCE_INIT;

static void
hash_fetch(void)
{
	hash_mds[ARK_HASH_MD5] = EVP_MD_fetch(NULL, "MD5", NULL);
	hash_mds[ARK_HASH_SHA1] = EVP_MD_fetch(NULL, "SHA1", NULL);
	hash_mds[ARK_HASH_SHA256] = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *
hash_md(enum ark_hash_alg alg)
{
	pthread_once(&hash_once, hash_fetch);
	switch (alg) {
	case ARK_HASH_MD5:
		return hash_mds[alg] != NULL ? hash_mds[alg] : EVP_md5();
	case ARK_HASH_SHA1:
		return hash_mds[alg] != NULL ? hash_mds[alg] : EVP_sha1();
	case ARK_HASH_SHA256:
		return hash_mds[alg] != NULL ? hash_mds[alg] : EVP_sha256();
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

/* ---- HMAC-SHA256 ------------------------------------------------------- */

/*
 * One MAC context per thread, re-keyed only when the key changes: the
 * one-shot HMAC() fetches the MAC and digest and allocates a context on
 * every call. Freed when the thread exits.
 */
struct hmac_tls {
	EVP_MAC_CTX	*ctx;
	size_t		 keylen;		/* 0: keyed with none kept */
	unsigned char	 key[128];
};

static pthread_key_t	hmac_key;
static pthread_once_t	hmac_once = PTHREAD_ONCE_INIT;
static int		hmac_key_ok;

static void
hmac_tls_free(void *p)
{
	struct hmac_tls *t = p;

	EVP_MAC_CTX_free(t->ctx);
	OPENSSL_cleanse(t, sizeof(*t));
	free(t);
}

static void
hmac_key_init(void)
{
	hmac_key_ok = pthread_key_create(&hmac_key, hmac_tls_free) == 0;
}

/* The calling thread's context, or NULL. */
static struct hmac_tls *
hmac_tls(void)
{
	struct hmac_tls	*t;
	EVP_MAC		*mac;
	OSSL_PARAM	 params[2];

	pthread_once(&hmac_once, hmac_key_init);
	if (!hmac_key_ok)
		return NULL;
	if ((t = pthread_getspecific(hmac_key)) != NULL)
		return t;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) != NULL) {
		t->ctx = EVP_MAC_CTX_new(mac);
		EVP_MAC_free(mac);
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (t->ctx == NULL || !EVP_MAC_CTX_set_params(t->ctx, params) ||
	    pthread_setspecific(hmac_key, t) != 0) {
		hmac_tls_free(t);
		return NULL;
	}
	return t;
}

enum ark_err
ark_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
    unsigned char out[32])
{
	struct hmac_tls	*t = hmac_tls();
	size_t		 outlen = 0;
	int		 ok;

	if (t == NULL)
		return ARK_ENOMEM;
	if (keylen > 0 && keylen == t->keylen &&
	    CRYPTO_memcmp(t->key, key, keylen) == 0)
		ok = EVP_MAC_init(t->ctx, NULL, 0, NULL);
	else {
		t->keylen = 0;
		ok = EVP_MAC_init(t->ctx, key, keylen, NULL);
		if (ok && keylen > 0 && keylen <= sizeof(t->key)) {
			memcpy(t->key, key, keylen);
			t->keylen = keylen;
		}
	}
	if (!ok || !EVP_MAC_update(t->ctx, msg, n) ||
	    !EVP_MAC_final(t->ctx, out, &outlen, 32) || outlen != 32)
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
