/*
 * test_cksum.c - CRC32C/CRC32 vectors, hardware vs software agreement on
 * every length 0..1024 at every alignment, streaming == one-shot, digest
 * vectors, base64 round trips and strictness.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/cksum.h"
#include "common/util.h"

static void
test_crc_vectors(void **state)
{
	static const unsigned char zeros[32];
	unsigned char ones[32], inc[32];

	(void)state;
	memset(ones, 0xff, sizeof(ones));
	for (int i = 0; i < 32; i++)
		inc[i] = (unsigned char)i;
	assert_int_equal(ark_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(ark_crc32c_sw(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(ark_crc32(0, "123456789", 9), 0xCBF43926u);
	assert_int_equal(ark_crc32c(0, "", 0), 0);
	assert_int_equal(ark_crc32(0, "", 0), 0);
	/* RFC 3720 B.4 iSCSI test vectors. */
	assert_int_equal(ark_crc32c_sw(0, zeros, 32), 0x8A9136AAu);
	assert_int_equal(ark_crc32c_sw(0, ones, 32), 0x62A8AB43u);
	assert_int_equal(ark_crc32c_sw(0, inc, 32), 0x46DD794Eu);
	assert_int_equal(ark_crc32(0, "The quick brown fox jumps over the lazy dog",
	    43), 0x414FA339u);
	if (ark_crc32c_hw_available()) {
		assert_int_equal(ark_crc32c_hw(0, "123456789", 9), 0xE3069283u);
		assert_int_equal(ark_crc32c_hw(0, zeros, 32), 0x8A9136AAu);
		assert_int_equal(ark_crc32c_hw(0, ones, 32), 0x62A8AB43u);
		assert_int_equal(ark_crc32c_hw(0, inc, 32), 0x46DD794Eu);
	}
}

static void
test_crc_hw_sw_agree(void **state)
{
	unsigned char *buf = malloc(1024 + 16);

	(void)state;
	assert_non_null(buf);
	assert_int_equal(ark_random_bytes(buf, 1024 + 16), ARK_OK);
	if (!ark_crc32c_hw_available())
		skip();
	for (size_t align = 0; align < 16; align++)
		for (size_t len = 0; len <= 1024; len++) {
			uint32_t seed = (uint32_t)(len * 2654435761u);
			assert_int_equal(ark_crc32c_hw(0, buf + align, len),
			    ark_crc32c_sw(0, buf + align, len));
			assert_int_equal(ark_crc32c_hw(seed, buf + align, len),
			    ark_crc32c_sw(seed, buf + align, len));
		}
	free(buf);
}

static void
test_crc_streaming(void **state)
{
	unsigned char buf[3000];

	(void)state;
	assert_int_equal(ark_random_bytes(buf, sizeof(buf)), ARK_OK);
	uint32_t c_one = ark_crc32c(0, buf, sizeof(buf));
	uint32_t s_one = ark_crc32c_sw(0, buf, sizeof(buf));
	uint32_t i_one = ark_crc32(0, buf, sizeof(buf));

	assert_int_equal(c_one, s_one);
	for (size_t cut = 0; cut <= sizeof(buf); cut += 37) {
		assert_int_equal(ark_crc32c(ark_crc32c(0, buf, cut), buf + cut,
		    sizeof(buf) - cut), c_one);
		assert_int_equal(ark_crc32c_sw(ark_crc32c_sw(0, buf, cut),
		    buf + cut, sizeof(buf) - cut), c_one);
		assert_int_equal(ark_crc32(ark_crc32(0, buf, cut), buf + cut,
		    sizeof(buf) - cut), i_one);
	}
	/* Byte at a time. */
	uint32_t c = 0, i = 0;
	for (size_t k = 0; k < sizeof(buf); k++) {
		c = ark_crc32c(c, buf + k, 1);
		i = ark_crc32(i, buf + k, 1);
	}
	assert_int_equal(c, c_one);
	assert_int_equal(i, i_one);
}

static void
test_crc_base64(void **state)
{
	char out[9];

	(void)state;
	/* S3 form: base64 of big-endian bytes. CRC32("123456789") = cbf43926. */
	ark_crc_base64(0xCBF43926u, out);
	assert_string_equal(out, "y/Q5Jg==");
	ark_crc_base64(0, out);
	assert_string_equal(out, "AAAAAA==");
}

static void
hexdigest(enum ark_hash_alg alg, const void *p, size_t n, char *hex)
{
	unsigned char d[ARK_HASH_MAXLEN];

	assert_int_equal(ark_hash(alg, p, n, d), ARK_OK);
	ark_hex_encode(d, ark_hash_len(alg), hex);
}

static void
test_digest_vectors(void **state)
{
	char hex[2 * ARK_HASH_MAXLEN + 1];

	(void)state;
	hexdigest(ARK_HASH_MD5, "", 0, hex);
	assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
	hexdigest(ARK_HASH_MD5, "abc", 3, hex);
	assert_string_equal(hex, "900150983cd24fb0d6963f7d28e17f72");
	hexdigest(ARK_HASH_SHA1, "abc", 3, hex);
	assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
	hexdigest(ARK_HASH_SHA256, "", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	hexdigest(ARK_HASH_SHA256, "abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(ark_hash_len(ARK_HASH_MD5), 16);
	assert_int_equal(ark_hash_len(ARK_HASH_SHA1), 20);
	assert_int_equal(ark_hash_len(ARK_HASH_SHA256), 32);
}

static void
test_digest_streaming(void **state)
{
	static const char msg[] =
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const struct {
		enum ark_hash_alg alg;
		const char *hex;
	} v[] = {
		{ ARK_HASH_MD5, "8215ef0796a20bcaaae116d3876c664a" },
		{ ARK_HASH_SHA1, "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
		{ ARK_HASH_SHA256, "248d6a61d20638b8e5c026930c3e6039"
		    "a33ce45964ff2167f6ecedd419db06c1" },
	};
	unsigned char	d[ARK_HASH_MAXLEN];
	char		hex[2 * ARK_HASH_MAXLEN + 1];

	(void)state;
	for (size_t i = 0; i < ARK_ARRAY_SIZE(v); i++) {
		struct ark_hash *h;

		assert_int_equal(ark_hash_new(v[i].alg, &h), ARK_OK);
		for (int round = 0; round < 2; round++) {
			/* Feed in uneven pieces; final() restarts the context. */
			for (size_t k = 0; k < sizeof(msg) - 1; k += 7)
				assert_int_equal(ark_hash_update(h, msg + k,
				    ARK_MIN(7, sizeof(msg) - 1 - k)), ARK_OK);
			assert_int_equal(ark_hash_update(h, "", 0), ARK_OK);
			assert_int_equal(ark_hash_final(h, d), ARK_OK);
			ark_hex_encode(d, ark_hash_len(v[i].alg), hex);
			assert_string_equal(hex, v[i].hex);
		}
		ark_hash_free(h);
	}
	ark_hash_free(NULL);
	/* A million 'a's, SHA-256 (FIPS 180-2 vector), streamed. */
	{
		struct ark_hash	*h;
		char		 a[1000];

		memset(a, 'a', sizeof(a));
		assert_int_equal(ark_hash_new(ARK_HASH_SHA256, &h), ARK_OK);
		for (int k = 0; k < 1000; k++)
			assert_int_equal(ark_hash_update(h, a, sizeof(a)), ARK_OK);
		assert_int_equal(ark_hash_final(h, d), ARK_OK);
		ark_hex_encode(d, 32, hex);
		assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67"
		    "f1809a48a497200e046d39ccc7112cd0");
		ark_hash_free(h);
	}
}

static void
test_base64(void **state)
{
	static const struct { const char *in, *std, *url; } v[] = {
		{ "", "", "" },
		{ "f", "Zg==", "Zg" },
		{ "fo", "Zm8=", "Zm8" },
		{ "foo", "Zm9v", "Zm9v" },
		{ "foob", "Zm9vYg==", "Zm9vYg" },
		{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
		{ "\xfb\xff", "+/8=", "-_8" },
	};
	char		out[64];
	unsigned char	dec[64];
	size_t		n;

	(void)state;
	for (size_t i = 0; i < ARK_ARRAY_SIZE(v); i++) {
		size_t len = strlen(v[i].in);

		assert_int_equal(ark_base64_encode(v[i].in, len, out, 0),
		    strlen(v[i].std));
		assert_string_equal(out, v[i].std);
		assert_int_equal(ark_base64_encode(v[i].in, len, out, 1),
		    strlen(v[i].url));
		assert_string_equal(out, v[i].url);
		assert_int_equal(ark_base64_decode(v[i].std, strlen(v[i].std),
		    dec, sizeof(dec), &n, 0), ARK_OK);
		assert_int_equal(n, len);
		assert_memory_equal(dec, v[i].in, len);
		assert_int_equal(ark_base64_decode(v[i].url, strlen(v[i].url),
		    dec, sizeof(dec), &n, 1), ARK_OK);
		assert_int_equal(n, len);
		assert_memory_equal(dec, v[i].in, len);
	}
	/* Strictness. */
	static const char *const bad_std[] = { "Zg", "Zg=", "Z===", "Zh==",
	    "Zm9v!A==", "Zm8=Zm8=", "-_8=", "Zm 9v", "=Zm9" };
	for (size_t i = 0; i < ARK_ARRAY_SIZE(bad_std); i++)
		assert_int_equal(ark_base64_decode(bad_std[i],
		    strlen(bad_std[i]), dec, sizeof(dec), &n, 0), ARK_EINVAL);
	static const char *const bad_url[] = { "Z", "Zg==", "+/8", "Zh" };
	for (size_t i = 0; i < ARK_ARRAY_SIZE(bad_url); i++)
		assert_int_equal(ark_base64_decode(bad_url[i],
		    strlen(bad_url[i]), dec, sizeof(dec), &n, 1), ARK_EINVAL);
	assert_int_equal(ark_base64_decode("Zm9vYmFy", 8, dec, 5, &n, 0),
	    ARK_ETOOBIG);
	assert_int_equal(ark_base64_decode("Zm9vYmFy", 8, dec, 6, &n, 0),
	    ARK_OK);
}

static void
test_base64_random(void **state)
{
	unsigned char	in[300], dec[300];
	char		out[ARK_BASE64_LEN(300) + 1];
	size_t		n;

	(void)state;
	assert_int_equal(ark_random_bytes(in, sizeof(in)), ARK_OK);
	for (size_t len = 0; len <= sizeof(in); len++)
		for (int url = 0; url <= 1; url++) {
			size_t e = ark_base64_encode(in, len, out, url);
			assert_true(e <= ARK_BASE64_LEN(len));
			assert_int_equal(ark_base64_decode(out, e, dec,
			    sizeof(dec), &n, url), ARK_OK);
			assert_int_equal(n, len);
			assert_memory_equal(dec, in, len);
		}
}

/* RFC 4231 test cases 1, 2 and 6 (a 131-byte key, longer than the
 * per-thread context remembers), in an order that changes the key
 * between calls and repeats one. */
static void
test_hmac_sha256(void **state)
{
	static const char *const want[] = {
		"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
	};
	unsigned char k1[20], k3[131], mac[32];
	const char *m[] = { "Hi There", "what do ya want for nothing?",
	    "Test Using Larger Than Block-Size Key - Hash Key First" };
	const void *keys[] = { k1, "Jefe", k3 };
	size_t klen[] = { sizeof(k1), 4, sizeof(k3) };
	static const int order[] = { 0, 1, 0, 2, 2, 1, 0 };
	char hex[65];

	(void)state;
	memset(k1, 0x0b, sizeof(k1));
	memset(k3, 0xaa, sizeof(k3));
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		int t = order[i];

		assert_int_equal(ark_hmac_sha256(keys[t], klen[t], m[t],
		    strlen(m[t]), mac), ARK_OK);
		ark_hex_encode(mac, sizeof(mac), hex);
		assert_string_equal(hex, want[t]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc_vectors),
		cmocka_unit_test(test_crc_hw_sw_agree),
		cmocka_unit_test(test_crc_streaming),
		cmocka_unit_test(test_crc_base64),
		cmocka_unit_test(test_digest_vectors),
		cmocka_unit_test(test_digest_streaming),
		cmocka_unit_test(test_hmac_sha256),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_base64_random),
	};

	return cmocka_run_group_tests_name("cksum", tests, NULL, NULL);
}
