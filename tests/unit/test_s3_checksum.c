/*
 * test_s3_checksum.c - CRC64/NVME check value and streaming, the
 * multi-algorithm context against known values of "hello world"
 * (python zlib/hashlib), request header parsing (Content-MD5,
 * x-amz-checksum-*, x-amz-sdk-checksum-algorithm, x-amz-trailer),
 * verification results, composite multipart forms.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/cksum.h"
#include "common/util.h"
#include "object/s3_checksum.h"

#define HW	"hello world"

static void
test_crc64(void **state)
{
	unsigned char buf[1000];
	uint64_t one, inc = 0;

	(void)state;
	assert_true(s3_crc64nvme(0, "123456789", 9) == 0xAE8B14860A799888ull);
	assert_true(s3_crc64nvme(0, "", 0) == 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	one = s3_crc64nvme(0, buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i += 13)
		inc = s3_crc64nvme(inc, buf + i,
		    sizeof(buf) - i < 13 ? sizeof(buf) - i : 13);
	assert_true(one == inc);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(s3_cksum_name(S3_CKSUM_CRC64NVME), "CRC64NVME");
	assert_string_equal(s3_cksum_header(S3_CKSUM_CRC32C),
	    "x-amz-checksum-crc32c");
	assert_null(s3_cksum_header(S3_CKSUM_MD5));
	assert_string_equal(s3_cksum_key(S3_CKSUM_SHA256), "sha256");
	assert_null(s3_cksum_key(S3_CKSUM_MD5));
	assert_null(s3_cksum_name(S3_CKSUM_NONE));
	assert_null(s3_cksum_name(S3_CKSUM_ALG_MAX));
	assert_int_equal(s3_cksum_parse_alg("crc32c"), S3_CKSUM_CRC32C);
	assert_int_equal(s3_cksum_parse_alg("SHA256"), S3_CKSUM_SHA256);
	assert_int_equal(s3_cksum_parse_alg("MD5"), -1);
	assert_int_equal(s3_cksum_parse_alg("crc16"), -1);
	assert_int_equal(s3_cksum_len(S3_CKSUM_SHA1), 20);
}

static void
test_context(void **state)
{
	struct s3_cksum *c;
	char b64[S3_CKSUM_B64_MAX], hex[65];
	unsigned char raw[S3_CKSUM_MAXLEN];

	(void)state;
	assert_int_equal(s3_cksum_new(0xffffffffu, &c), ARK_OK);
	assert_int_equal(s3_cksum_update(c, "hello", 5), ARK_OK);
	assert_int_equal(s3_cksum_update(c, "", 0), ARK_OK);
	assert_int_equal(s3_cksum_update(c, " world", 6), ARK_OK);
	assert_int_equal(s3_cksum_b64(c, S3_CKSUM_CRC32, b64), ARK_ENOENT);
	assert_int_equal(s3_cksum_final(c), ARK_OK);
	assert_int_equal(s3_cksum_update(c, "x", 1), ARK_EINVAL);
	assert_int_equal(s3_cksum_b64(c, S3_CKSUM_CRC32, b64), ARK_OK);
	assert_string_equal(b64, "DUoRhQ==");
	assert_int_equal(s3_cksum_b64(c, S3_CKSUM_CRC32C, b64), ARK_OK);
	assert_string_equal(b64, "yZRlqg==");
	assert_int_equal(s3_cksum_b64(c, S3_CKSUM_CRC64NVME, b64), ARK_OK);
	assert_string_equal(b64, "jSnVw/bqjr4=");
	assert_int_equal(s3_cksum_b64(c, S3_CKSUM_SHA1, b64), ARK_OK);
	assert_string_equal(b64, "Kq5sNclPz7QV2+lfQIuc6R7oRu0=");
	assert_int_equal(s3_cksum_b64(c, S3_CKSUM_SHA256, b64), ARK_OK);
	assert_string_equal(b64, "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=");
	assert_int_equal(s3_cksum_b64(c, S3_CKSUM_MD5, b64), ARK_OK);
	assert_string_equal(b64, "XrY7u+Ae7tCTyyK7j1rNww==");
	assert_int_equal(s3_cksum_hex(c, S3_CKSUM_MD5, hex), ARK_OK);
	assert_string_equal(hex, "5eb63bbbe01eeed093cb22bb8f5acdc3");
	assert_int_equal(s3_cksum_raw(c, S3_CKSUM_NONE, raw), 0);
	s3_cksum_free(c);
	/* only what was asked */
	assert_int_equal(s3_cksum_new(S3_CKSUM_BIT(S3_CKSUM_CRC32C), &c),
	    ARK_OK);
	assert_int_equal(s3_cksum_final(c), ARK_OK);
	assert_int_equal(s3_cksum_b64(c, S3_CKSUM_SHA256, b64), ARK_ENOENT);
	assert_int_equal(s3_cksum_b64(c, S3_CKSUM_CRC32C, b64), ARK_OK);
	assert_string_equal(b64, "AAAAAA==");
	s3_cksum_free(c);
	s3_cksum_free(NULL);
}

static enum s3_code
parse(const char *const *kv, struct s3_cksum_req *r)
{
	struct s3_view v;

	s3_view_init_kv(&v, "PUT", "/b/k", NULL, kv);
	return s3_cksum_parse_request(&v, r);
}

/* Runs "hello world" through a context for r and verifies. */
static enum s3_code
check(const struct s3_cksum_req *r)
{
	struct s3_cksum *c;
	enum s3_code sc;

	assert_int_equal(s3_cksum_new(s3_cksum_req_mask(r), &c), ARK_OK);
	assert_int_equal(s3_cksum_update(c, HW, 11), ARK_OK);
	assert_int_equal(s3_cksum_final(c), ARK_OK);
	sc = s3_cksum_verify(r, c);
	s3_cksum_free(c);
	return sc;
}

static void
test_request(void **state)
{
	struct s3_cksum_req r;

	(void)state;
	{
		const char *kv[] = { "Content-MD5", "XrY7u+Ae7tCTyyK7j1rNww==",
		    "x-amz-checksum-crc32c", "yZRlqg==",
		    "x-amz-sdk-checksum-algorithm", "CRC32C", NULL };

		assert_int_equal(parse(kv, &r), S3_OK);
		assert_true(r.has_md5);
		assert_int_equal(r.alg, S3_CKSUM_CRC32C);
		assert_int_equal(check(&r), S3_OK);
	}
	{
		const char *kv[] = { "Content-MD5", "XrY7u+Ae7tCTyyK7j1rNwx==",
		    NULL };

		assert_int_equal(parse(kv, &r), S3_ERR_INVALID_DIGEST);
	}
	{
		const char *kv[] = { "Content-MD5", "XrY7u+Ae7tCTyyK7j1rNww",
		    NULL };

		assert_int_equal(parse(kv, &r), S3_ERR_INVALID_DIGEST);
	}
	{
		const char *kv[] = { "Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA==",
		    NULL };

		assert_int_equal(parse(kv, &r), S3_OK);
		assert_int_equal(check(&r), S3_ERR_BAD_DIGEST);
	}
	{
		const char *kv[] = { "x-amz-checksum-sha256",
		    "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=", NULL };

		assert_int_equal(parse(kv, &r), S3_OK);
		assert_int_equal(check(&r), S3_OK);
	}
	{
		const char *kv[] = { "x-amz-checksum-crc64nvme", "jSnVw/bqjr4=",
		    NULL };

		assert_int_equal(parse(kv, &r), S3_OK);
		assert_int_equal(check(&r), S3_OK);
	}
	{
		const char *kv[] = { "x-amz-checksum-sha1",
		    "Kq5sNclPz7QV2+lfQIuc6R7oRu1=", NULL };

		assert_int_equal(parse(kv, &r), S3_ERR_INVALID_CHECKSUM);
	}
	{
		const char *kv[] = { "x-amz-checksum-crc32", "DUoRhA==", NULL };

		assert_int_equal(parse(kv, &r), S3_OK);
		assert_int_equal(check(&r), S3_ERR_BAD_CHECKSUM);
	}
	{
		const char *kv[] = { "x-amz-checksum-crc32", "DUoRhQ==",
		    "x-amz-checksum-crc32c", "yZRlqg==", NULL };

		assert_int_equal(parse(kv, &r), S3_ERR_INVALID_REQUEST);
	}
	{
		const char *kv[] = { "x-amz-checksum-crc32", "DUoRhQ==",
		    "x-amz-sdk-checksum-algorithm", "SHA256", NULL };

		assert_int_equal(parse(kv, &r), S3_ERR_INVALID_REQUEST);
	}
	{
		const char *kv[] = { "x-amz-sdk-checksum-algorithm", "CRC32",
		    NULL };

		assert_int_equal(parse(kv, &r), S3_ERR_INVALID_REQUEST);
	}
	{
		const char *kv[] = { "x-amz-sdk-checksum-algorithm", "XXH3",
		    NULL };

		assert_int_equal(parse(kv, &r), S3_ERR_INVALID_REQUEST);
	}
	/* trailer: declared in headers, value from s3_chunked */
	{
		const char *kv[] = { "x-amz-trailer", "x-amz-checksum-crc32c",
		    "x-amz-sdk-checksum-algorithm", "CRC32C", NULL };

		assert_int_equal(parse(kv, &r), S3_OK);
		assert_true(r.in_trailer);
		assert_int_equal(check(&r), S3_ERR_INVALID_CHECKSUM);
		assert_int_equal(s3_cksum_set_trailer(&r, NULL),
		    S3_ERR_INVALID_CHECKSUM);
		assert_int_equal(s3_cksum_set_trailer(&r, "yZRl"),
		    S3_ERR_INVALID_CHECKSUM);
		assert_int_equal(s3_cksum_set_trailer(&r, "yZRlqg=="), S3_OK);
		assert_int_equal(check(&r), S3_OK);
		assert_int_equal(s3_cksum_set_trailer(&r, "AAAAAA=="), S3_OK);
		assert_int_equal(check(&r), S3_ERR_BAD_CHECKSUM);
	}
	{
		const char *kv[] = { "x-amz-trailer", "x-amz-meta-foo", NULL };

		assert_int_equal(parse(kv, &r), S3_ERR_INVALID_REQUEST);
	}
	{
		const char *kv[] = { NULL };

		assert_int_equal(parse(kv, &r), S3_OK);
		assert_int_equal(r.alg, S3_CKSUM_NONE);
		assert_int_equal(check(&r), S3_OK);
		assert_int_equal(s3_cksum_set_trailer(&r, "yZRlqg=="),
		    S3_ERR_INVALID_CHECKSUM);
	}
}

static void
test_composite(void **state)
{
	struct s3_cksum *c;
	char out[S3_CKSUM_COMPOSITE_MAX + 20], v[64];
	unsigned n;

	(void)state;
	/* ETag of a 2-part upload: md5 of the two raw md5s, "-2" */
	assert_int_equal(s3_cksum_new(S3_CKSUM_BIT(S3_CKSUM_MD5), &c), ARK_OK);
	assert_int_equal(s3_cksum_composite_add(c, S3_CKSUM_MD5,
	    "\"5eb63bbbe01eeed093cb22bb8f5acdc3\""), ARK_OK);
	assert_int_equal(s3_cksum_composite_add(c, S3_CKSUM_MD5,
	    "5eb63bbbe01eeed093cb22bb8f5acdc3"), ARK_OK);
	assert_int_equal(s3_cksum_composite_add(c, S3_CKSUM_MD5, "5eb6"),
	    ARK_EINVAL);
	assert_int_equal(s3_cksum_final(c), ARK_OK);
	assert_int_equal(s3_cksum_composite_str(c, S3_CKSUM_MD5, 2, out,
	    sizeof(out)), ARK_OK);
	/* python: hashlib.md5(bytes.fromhex(m) * 2).hexdigest(); the CRC32C
	 * composite likewise from the raw part values */
	assert_string_equal(out, "f057f37734d5fb132a69d44a61780026-2");
	s3_cksum_free(c);
	/* CRC32C composite of two parts */
	assert_int_equal(s3_cksum_new(S3_CKSUM_BIT(S3_CKSUM_CRC32C), &c),
	    ARK_OK);
	assert_int_equal(s3_cksum_composite_add(c, S3_CKSUM_CRC32C,
	    "yZRlqg=="), ARK_OK);
	assert_int_equal(s3_cksum_composite_add(c, S3_CKSUM_CRC32C,
	    "DUoRhQ=="), ARK_OK);
	assert_int_equal(s3_cksum_composite_add(c, S3_CKSUM_CRC32C,
	    "DUoRhQ"), ARK_EINVAL);
	assert_int_equal(s3_cksum_final(c), ARK_OK);
	assert_int_equal(s3_cksum_composite_str(c, S3_CKSUM_CRC32C, 2, out,
	    sizeof(out)), ARK_OK);
	assert_string_equal(out, "CJlQRg==-2");
	assert_int_equal(s3_cksum_composite_str(c, S3_CKSUM_CRC32C, 2, out,
	    5), ARK_ETOOBIG);
	s3_cksum_free(c);
	/* split */
	assert_int_equal(s3_cksum_composite_split("abc=-12", v, sizeof(v), &n),
	    ARK_OK);
	assert_string_equal(v, "abc=");
	assert_int_equal(n, 12);
	assert_int_equal(s3_cksum_composite_split("abc=", v, sizeof(v), &n),
	    ARK_OK);
	assert_int_equal(n, 0);
	assert_int_equal(s3_cksum_composite_split("abc-", v, sizeof(v), &n),
	    ARK_EINVAL);
	assert_int_equal(s3_cksum_composite_split("abc-01", v, sizeof(v), &n),
	    ARK_EINVAL);
	assert_int_equal(s3_cksum_composite_split("abc-1x", v, sizeof(v), &n),
	    ARK_EINVAL);
	assert_int_equal(s3_cksum_composite_split("-3", v, sizeof(v), &n),
	    ARK_EINVAL);
	assert_int_equal(s3_cksum_composite_split("abcdef-3", v, 4, &n),
	    ARK_ETOOBIG);
}

static void
test_crc_combine(void **state)
{
	unsigned char buf[3000];

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 131 + (i >> 3));
	for (size_t cut = 0; cut <= sizeof(buf); cut += 37) {
		size_t lb = sizeof(buf) - cut;

		assert_int_equal(s3_cksum_crc_combine(S3_CKSUM_CRC32,
		    ark_crc32(0, buf, cut), ark_crc32(0, buf + cut, lb), lb),
		    ark_crc32(0, buf, sizeof(buf)));
		assert_int_equal(s3_cksum_crc_combine(S3_CKSUM_CRC32C,
		    ark_crc32c(0, buf, cut), ark_crc32c(0, buf + cut, lb), lb),
		    ark_crc32c(0, buf, sizeof(buf)));
		assert_true(s3_cksum_crc_combine(S3_CKSUM_CRC64NVME,
		    s3_crc64nvme(0, buf, cut), s3_crc64nvme(0, buf + cut, lb),
		    lb) == s3_crc64nvme(0, buf, sizeof(buf)));
	}
	/* "hello" + " world" */
	assert_int_equal(s3_cksum_crc_combine(S3_CKSUM_CRC32C,
	    ark_crc32c(0, "hello", 5), ark_crc32c(0, " world", 6), 6),
	    0xc99465aau);
	assert_int_equal(s3_cksum_crc_combine(S3_CKSUM_SHA1, 1, 2, 3), 0);
}

/* A FULL_OBJECT multipart checksum as objectd makes it: the parts' S3
 * values decoded, combined with the part lengths, encoded again. */
static void
test_crc_b64(void **state)
{
	static const enum s3_cksum_alg algs[] = { S3_CKSUM_CRC32,
	    S3_CKSUM_CRC32C, S3_CKSUM_CRC64NVME };
	static const size_t cuts[] = { 0, 1000, 1001, 2500, 3000 };
	unsigned char buf[3000];
	char b64[S3_CKSUM_B64_MAX], want[S3_CKSUM_B64_MAX];
	uint64_t crc, acc = 0, part;
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + (i >> 5));
	for (k = 0; k < ARK_ARRAY_SIZE(algs); k++) {
		enum s3_cksum_alg a = algs[k];
		struct s3_cksum *c;

		assert_int_equal(s3_cksum_new(S3_CKSUM_BIT(a), &c), ARK_OK);
		assert_int_equal(s3_cksum_update(c, buf, sizeof(buf)), ARK_OK);
		assert_int_equal(s3_cksum_final(c), ARK_OK);
		assert_int_equal(s3_cksum_b64(c, a, want), ARK_OK);
		s3_cksum_free(c);
		for (i = 0; i + 1 < ARK_ARRAY_SIZE(cuts); i++) {
			size_t len = cuts[i + 1] - cuts[i];

			part = a == S3_CKSUM_CRC32 ? ark_crc32(0, buf + cuts[i],
			    len) : a == S3_CKSUM_CRC32C ? ark_crc32c(0,
			    buf + cuts[i], len) : s3_crc64nvme(0, buf + cuts[i],
			    len);
			assert_int_equal(s3_cksum_crc_to_b64(a, part, b64),
			    ARK_OK);
			assert_int_equal(s3_cksum_crc_from_b64(a, b64, &crc),
			    ARK_OK);
			assert_true(crc == part);
			acc = i == 0 ? crc : s3_cksum_crc_combine(a, acc, crc,
			    len);
		}
		assert_int_equal(s3_cksum_crc_to_b64(a, acc, b64), ARK_OK);
		assert_string_equal(b64, want);
	}
	/* zlib.crc32(b"hello") = 0x3610a686 */
	assert_int_equal(s3_cksum_crc_to_b64(S3_CKSUM_CRC32, 0x3610a686u, b64),
	    ARK_OK);
	assert_string_equal(b64, "NhCmhg==");
	assert_int_equal(s3_cksum_crc_from_b64(S3_CKSUM_CRC32, "NhCmhg=",
	    &crc), ARK_EINVAL);
	assert_int_equal(s3_cksum_crc_from_b64(S3_CKSUM_CRC64NVME, "NhCmhg==",
	    &crc), ARK_EINVAL);
	assert_int_equal(s3_cksum_crc_from_b64(S3_CKSUM_SHA1, "NhCmhg==",
	    &crc), ARK_EINVAL);
	assert_int_equal(s3_cksum_crc_to_b64(S3_CKSUM_SHA256, 1, b64),
	    ARK_EINVAL);
}

static enum s3_code
mpu(const char *alg, const char *type, enum s3_cksum_alg *a, int *full)
{
	const char *kv[5] = { NULL };
	size_t n = 0;
	struct s3_view v;

	if (alg != NULL) {
		kv[n++] = "x-amz-checksum-algorithm";
		kv[n++] = alg;
	}
	if (type != NULL) {
		kv[n++] = "x-amz-checksum-type";
		kv[n++] = type;
	}
	s3_view_init_kv(&v, "POST", "/b/k", "uploads", kv);
	return s3_cksum_parse_mpu(&v, a, full);
}

static void
test_mpu_headers(void **state)
{
	enum s3_cksum_alg a;
	int full;

	(void)state;
	assert_int_equal(mpu(NULL, NULL, &a, &full), S3_OK);
	assert_int_equal(a, S3_CKSUM_NONE);
	assert_int_equal(mpu("CRC32", NULL, &a, &full), S3_OK);
	assert_int_equal(a, S3_CKSUM_CRC32);
	assert_false(full);
	assert_int_equal(mpu("crc64nvme", NULL, &a, &full), S3_OK);
	assert_true(full);
	assert_int_equal(mpu("CRC32C", "FULL_OBJECT", &a, &full), S3_OK);
	assert_true(full);
	assert_int_equal(mpu("SHA256", "COMPOSITE", &a, &full), S3_OK);
	assert_false(full);
	assert_int_equal(mpu("SHA256", "FULL_OBJECT", &a, &full),
	    S3_ERR_INVALID_REQUEST);
	assert_int_equal(mpu("CRC64NVME", "COMPOSITE", &a, &full),
	    S3_ERR_INVALID_REQUEST);
	assert_int_equal(mpu("CRC32", "PARTIAL", &a, &full),
	    S3_ERR_INVALID_REQUEST);
	assert_int_equal(mpu("MD5", NULL, &a, &full), S3_ERR_INVALID_REQUEST);
	assert_int_equal(mpu(NULL, "COMPOSITE", &a, &full),
	    S3_ERR_INVALID_REQUEST);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc64),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_context),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_composite),
		cmocka_unit_test(test_crc_combine),
		cmocka_unit_test(test_crc_b64),
		cmocka_unit_test(test_mpu_headers),
	};

	return cmocka_run_group_tests_name("s3_checksum", tests, NULL, NULL);
}
