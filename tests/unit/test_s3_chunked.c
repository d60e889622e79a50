/*
 * test_s3_chunked.c - the aws-chunked decoder on the AWS streaming-upload
 * example (66560 bytes of 'a' in a 65536 and a 1024 byte chunk, seed
 * signature 4f232c43..., chunk signatures ad80c730..., 0055627c...,
 * b6c6ea8a...) fed in every split size from 1 to 2048 bytes and a set of
 * larger ones; a signed-trailer body whose signatures were computed
 * independently (python hmac, the documented algorithm); the unsigned
 * trailer variant; tampering, truncation, oversized and bad lines.
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
#include "object/s3_chunked.h"
#include "object/s3_sigv4.h"

#define AKID	"AKIAIOSFODNN7EXAMPLE"
#define SECRET	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define T0	1369353600
#define SIG1	"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
#define SIG2	"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
#define SIG3	"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
/* python: signed trailer example ("hello world", crc32c trailer) */
#define TSIG1	"658a49ee7b49af44c11311d3461346a5688fb3ce5daa61dd95377587f0149255"
#define TSIG2	"1172018d76cd25eb7956fc92d1935d976024a1d96841533ea7b72efe5e8d7463"
#define TSIGT	"b6b860481e7a17a1b23ae6aa3b24152089b1aec92c351bcfc64524c243e1820c"

static enum ark_err
t_secret(void *arg, const char *akid, char *secret, size_t cap)
{
	(void)arg;
	if (strcmp(akid, AKID) != 0)
		return ARK_ENOENT;
	snprintf(secret, cap, "%s", SECRET);
	return ARK_OK;
}

/* The seed request of the AWS example, verified for real. */
static void
seed_auth(struct s3_auth *a, enum s3_payload kind)
{
	static const struct s3_sigv4_cfg cfg = { .region = "us-east-1",
	    .secret = t_secret };
	const char *kv[] = { "Host", "s3.amazonaws.com",
	    "x-amz-date", "20130524T000000Z",
	    "x-amz-storage-class", "REDUCED_REDUNDANCY",
	    "Authorization", "AWS4-HMAC-SHA256 Credential=" AKID
	    "/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;"
	    "content-length;host;x-amz-content-sha256;x-amz-date;"
	    "x-amz-decoded-content-length;x-amz-storage-class,Signature="
	    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
	    "x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
	    "Content-Encoding", "aws-chunked",
	    "x-amz-decoded-content-length", "66560",
	    "Content-Length", "66824", NULL };
	struct s3_view v;

	s3_view_init_kv(&v, "PUT", "/examplebucket/chunkObject.txt", NULL, kv);
	assert_int_equal(s3_sigv4_verify(&cfg, &v, T0, a), S3_OK);
	/* the trailer variants chain from the same seed in these tests */
	a->payload = kind;
}

struct sink {
	uint64_t	n;
	int		bad;
	unsigned char	last;
};

static enum s3_code
t_data(void *arg, const void *p, size_t n)
{
	struct sink *s = arg;
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 'a' && b[i] != s->last)
			s->bad = 1;
	s->n += n;
	return S3_OK;
}

static char *
example_body(size_t *len)
{
	struct ark_buf b;
	char *out;

	ark_buf_init(&b, 1 << 20);
	assert_int_equal(ark_buf_printf(&b, "10000;chunk-signature=" SIG1
	    "\r\n"), ARK_OK);
	for (int i = 0; i < 65536; i++)
		assert_int_equal(ark_buf_append_byte(&b, 'a'), ARK_OK);
	assert_int_equal(ark_buf_printf(&b, "\r\n400;chunk-signature=" SIG2
	    "\r\n"), ARK_OK);
	for (int i = 0; i < 1024; i++)
		assert_int_equal(ark_buf_append_byte(&b, 'a'), ARK_OK);
	assert_int_equal(ark_buf_printf(&b, "\r\n0;chunk-signature=" SIG3
	    "\r\n\r\n"), ARK_OK);
	out = ark_buf_steal(&b, len);
	assert_non_null(out);
	return out;
}

/* Feeds body in pieces of `split`; returns the first error or finish. */
static enum s3_code
run(const struct s3_auth *a, int64_t dlen, const char *body, size_t len,
    size_t split, struct sink *s, struct s3_chunked **keep)
{
	struct s3_chunked *c;
	enum s3_code sc = S3_OK;

	memset(s, 0, sizeof(*s));
	s->last = 'a';
	assert_int_equal(s3_chunked_new(a, dlen, t_data, s, &c), S3_OK);
	for (size_t off = 0; off < len && sc == S3_OK; off += split)
		sc = s3_chunked_feed(c, body + off,
		    len - off < split ? len - off : split);
	if (sc == S3_OK)
		sc = s3_chunked_finish(c);
	if (keep != NULL)
		*keep = c;
	else
		s3_chunked_free(c);
	return sc;
}

static void
test_example_all_splits(void **state)
{
	static const size_t big[] = { 1000, 1023, 4096, 8191, 65535, 65536,
	    65537, 65624, 66000, 66823, 66824, 1 << 20 };
	struct s3_auth a;
	struct sink s;
	size_t len;
	char *body = example_body(&len);

	(void)state;
	assert_int_equal(len, 66824);
	seed_auth(&a, S3_PAYLOAD_STREAMING_SIGNED);
	for (size_t split = 1; split <= 2048; split++) {
		assert_int_equal(run(&a, 66560, body, len, split, &s, NULL),
		    S3_OK);
		assert_int_equal(s.n, 66560);
		assert_false(s.bad);
	}
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++)
		assert_int_equal(run(&a, 66560, body, len, big[i], &s, NULL),
		    S3_OK);
	/* unknown decoded length is not checked */
	assert_int_equal(run(&a, -1, body, len, 777, &s, NULL), S3_OK);
	free(body);
}

static void
test_example_tampered(void **state)
{
	struct s3_auth a;
	struct sink s;
	size_t len;
	char *body = example_body(&len);

	(void)state;
	seed_auth(&a, S3_PAYLOAD_STREAMING_SIGNED);
	/* one data byte of the first chunk */
	body[100] = 'b';
	assert_int_equal(run(&a, 66560, body, len, 4096, &s, NULL),
	    S3_ERR_SIGNATURE_DOES_NOT_MATCH);
	body[100] = 'a';
	/* a byte of the second chunk (first chunk verifies) */
	body[66000] = 'b';
	assert_int_equal(run(&a, 66560, body, len, 3, &s, NULL),
	    S3_ERR_SIGNATURE_DOES_NOT_MATCH);
	body[66000] = 'a';
	/* the final chunk's signature */
	{
		char keep = body[len - 10];

		body[len - 10] = keep == '0' ? '1' : '0';
		assert_int_equal(run(&a, 66560, body, len, 64, &s, NULL),
		    S3_ERR_SIGNATURE_DOES_NOT_MATCH);
		body[len - 10] = keep;
	}
	/* another key: wrong chain from the start */
	a.signing_key[0] ^= 1;
	assert_int_equal(run(&a, 66560, body, len, 64, &s, NULL),
	    S3_ERR_SIGNATURE_DOES_NOT_MATCH);
	a.signing_key[0] ^= 1;
	/* chunks swapped in order cannot verify: skip chunk 1 entirely */
	assert_int_equal(run(&a, 66560, body + 65626, len - 65626, 64, &s,
	    NULL), S3_ERR_SIGNATURE_DOES_NOT_MATCH);
	/* decoded length mismatch both ways */
	assert_int_equal(run(&a, 66561, body, len, 512, &s, NULL),
	    S3_ERR_INCOMPLETE_BODY);
	assert_int_equal(run(&a, 66559, body, len, 512, &s, NULL),
	    S3_ERR_INCOMPLETE_BODY);
	/* truncated anywhere: finish says incomplete */
	for (size_t cut = 0; cut < len; cut += 997)
		assert_int_equal(run(&a, 66560, body, cut, 256, &s, NULL),
		    S3_ERR_INCOMPLETE_BODY);
	assert_int_equal(run(&a, 66560, body, len - 1, 256, &s, NULL),
	    S3_ERR_INCOMPLETE_BODY);
	free(body);
	/* bytes after the end */
	body = example_body(&len);
	{
		char *more = malloc(len + 1);

		assert_non_null(more);
		memcpy(more, body, len);
		more[len] = 'x';
		assert_int_equal(run(&a, 66560, more, len + 1, 100, &s, NULL),
		    S3_ERR_INCOMPLETE_BODY);
		free(more);
	}
	free(body);
}

static void
test_bad_framing(void **state)
{
	static const char *const bad[] = {
		"zz;chunk-signature=" SIG1 "\r\n",
		";chunk-signature=" SIG1 "\r\n",
		"10000;chunk-signature=" SIG1 "\n",
		"10000;chunk-signature=" SIG1 "\rx\n",
		"10000;chunk-sig=" SIG1 "\r\n",
		"10000;chunk-signature=ad80\r\n",
		"10000;chunk-signature=" SIG1 "00\r\n",
		"10000000000000000;chunk-signature=" SIG1 "\r\n",
		"ffffffffffff;chunk-signature=" SIG1 "\r\n",
		"10000\r\n",
		"1;chunk-signature=" SIG1 "\r\naXY",
		"1;chunk-sign\0ture=" SIG1 "\r\n",
	};
	char longline[2000];
	struct s3_auth a;
	struct sink s;

	(void)state;
	seed_auth(&a, S3_PAYLOAD_STREAMING_SIGNED);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = strlen(bad[i]);

		if (i == sizeof(bad) / sizeof(bad[0]) - 1)
			n = 20;
		assert_int_equal(run(&a, -1, bad[i], n, 7, &s, NULL),
		    S3_ERR_INCOMPLETE_BODY);
	}
	/* oversized chunk-size line: refused before the cap is passed */
	memset(longline, '0', sizeof(longline));
	assert_int_equal(run(&a, -1, longline, sizeof(longline), 100, &s,
	    NULL), S3_ERR_INCOMPLETE_BODY);
	memset(longline, ';', sizeof(longline));
	longline[0] = '1';
	assert_int_equal(run(&a, -1, longline, sizeof(longline), 100, &s,
	    NULL), S3_ERR_INCOMPLETE_BODY);
	/* chunk larger than the declared decoded length */
	assert_int_equal(run(&a, 10, "10000;chunk-signature=" SIG1 "\r\n",
	    88, 88, &s, NULL), S3_ERR_INCOMPLETE_BODY);
	/* a kind that is not streaming */
	{
		struct s3_chunked *c;

		a.payload = S3_PAYLOAD_UNSIGNED;
		assert_int_equal(s3_chunked_new(&a, -1, t_data, &s, &c),
		    S3_ERR_INVALID_ARGUMENT);
	}
}

static const char trailer_body[] =
	"b;chunk-signature=" TSIG1 "\r\nhello world\r\n"
	"0;chunk-signature=" TSIG2 "\r\n"
	"x-amz-checksum-crc32c:yZRlqg==\r\n"
	"x-amz-trailer-signature:" TSIGT "\r\n\r\n";

static void
test_signed_trailer(void **state)
{
	struct s3_auth a;
	struct sink s;
	struct s3_chunked *c;
	char *body = strdup(trailer_body);
	size_t len = strlen(trailer_body);
	const char *n, *v;

	(void)state;
	assert_non_null(body);
	seed_auth(&a, S3_PAYLOAD_STREAMING_SIGNED_TRAILER);
	for (size_t split = 1; split <= len; split++) {
		assert_int_equal(run(&a, 11, body, len, split, &s, &c), S3_OK);
		assert_int_equal(s.n, 11);
		assert_true(s3_chunked_done(c));
		assert_string_equal(s3_chunked_trailer(c,
		    "X-Amz-Checksum-Crc32c"), "yZRlqg==");
		assert_null(s3_chunked_trailer(c, "x-amz-trailer-signature"));
		assert_int_equal(s3_chunked_trailer_count(c), 1);
		assert_int_equal(s3_chunked_trailer_at(c, 0, &n, &v), 0);
		assert_string_equal(n, "x-amz-checksum-crc32c");
		assert_int_equal(s3_chunked_trailer_at(c, 1, &n, &v), -1);
		assert_int_equal(s3_chunked_decoded_bytes(c), 11);
		s3_chunked_free(c);
	}
	/* tampered trailer value */
	body[strstr(body, "yZRl") - body] = 'z';
	assert_int_equal(run(&a, 11, body, len, 5, &s, NULL),
	    S3_ERR_SIGNATURE_DOES_NOT_MATCH);
	free(body);
	/* missing trailer signature */
	{
		static const char nosig[] =
		    "b;chunk-signature=" TSIG1 "\r\nhello world\r\n"
		    "0;chunk-signature=" TSIG2 "\r\n"
		    "x-amz-checksum-crc32c:yZRlqg==\r\n\r\n";

		assert_int_equal(run(&a, 11, nosig, strlen(nosig), 9, &s,
		    NULL), S3_ERR_SIGNATURE_DOES_NOT_MATCH);
	}
	/* trailers where none may come */
	a.payload = S3_PAYLOAD_STREAMING_SIGNED;
	assert_int_equal(run(&a, 11, trailer_body, len, 9, &s, NULL),
	    S3_ERR_INVALID_REQUEST);
}

static void
test_unsigned_trailer(void **state)
{
	static const char body[] =
	    "5\r\nhello\r\n6\r\n world\r\n0\r\n"
	    "x-amz-checksum-crc32c:yZRlqg==\r\n\r\n";
	static const char noext[] = "b;x=y\r\nhello world\r\n0\r\n\r\n";
	struct s3_auth a;
	struct sink s;
	struct s3_chunked *c;
	size_t len = strlen(body);

	(void)state;
	memset(&a, 0, sizeof(a));
	a.payload = S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER;
	for (size_t split = 1; split <= len; split++) {
		assert_int_equal(run(&a, 11, body, len, split, &s, &c), S3_OK);
		assert_int_equal(s.n, 11);
		assert_string_equal(s3_chunked_trailer(c,
		    "x-amz-checksum-crc32c"), "yZRlqg==");
		s3_chunked_free(c);
	}
	assert_int_equal(run(&a, 11, noext, strlen(noext), 3, &s, NULL),
	    S3_OK);
	/* a signature trailer in the unsigned variant is refused */
	{
		static const char ts[] = "0\r\nx-amz-trailer-signature:" TSIGT
		    "\r\n\r\n";

		assert_int_equal(run(&a, 0, ts, strlen(ts), 3, &s, NULL),
		    S3_ERR_INVALID_REQUEST);
	}
	/* malformed trailer line, too many trailers */
	assert_int_equal(run(&a, 0, "0\r\nnocolon\r\n\r\n", 14, 3, &s, NULL),
	    S3_ERR_INVALID_REQUEST);
	{
		char many[1024];
		size_t n = 0;

		n += (size_t)snprintf(many + n, sizeof(many) - n, "0\r\n");
		for (int i = 0; i <= S3_CHUNKED_TRAILERS_MAX; i++)
			n += (size_t)snprintf(many + n, sizeof(many) - n,
			    "x-amz-t%d:v\r\n", i);
		n += (size_t)snprintf(many + n, sizeof(many) - n, "\r\n");
		assert_int_equal(run(&a, 0, many, n, 10, &s, NULL),
		    S3_ERR_INVALID_REQUEST);
	}
}

static enum s3_code
t_refuse(void *arg, const void *p, size_t n)
{
	(void)arg;
	(void)p;
	(void)n;
	return S3_ERR_BAD_CHECKSUM;
}

static void
test_callback_error_sticky(void **state)
{
	struct s3_auth a;
	struct s3_chunked *c;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.payload = S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER;
	assert_int_equal(s3_chunked_new(&a, -1, t_refuse, NULL, &c), S3_OK);
	assert_int_equal(s3_chunked_feed(c, "5\r\nhel", 6),
	    S3_ERR_BAD_CHECKSUM);
	assert_int_equal(s3_chunked_feed(c, "lo\r\n", 4), S3_ERR_BAD_CHECKSUM);
	assert_int_equal(s3_chunked_finish(c), S3_ERR_BAD_CHECKSUM);
	s3_chunked_free(c);
	s3_chunked_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_all_splits),
		cmocka_unit_test(test_example_tampered),
		cmocka_unit_test(test_bad_framing),
		cmocka_unit_test(test_signed_trailer),
		cmocka_unit_test(test_unsigned_trailer),
		cmocka_unit_test(test_callback_error_sticky),
	};

	return cmocka_run_group_tests_name("s3_chunked", tests, NULL, NULL);
}
