/*
 * test_s3_torture.c - allocation failure injection over the protocol
 * layer (curl's torture mode): malloc, calloc and realloc are wrapped at
 * link time (-Wl,--wrap=...) so the n-th allocation made by libarks3 and
 * libarkcommon fails. For every n, each operation must either give its
 * normal result or S3_ERR_INTERNAL / ARK_ENOMEM, never another error
 * (an allocation failure must not read as a bad signature or bad XML),
 * and leak nothing (ASan builds). Allocations inside OpenSSL and expat
 * are not wrapped.
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

#include "object/s3_checksum.h"
#include "object/s3_chunked.h"
#include "object/s3_error.h"
#include "object/s3_req.h"
#include "object/s3_sigv4.h"
#include "object/s3_xml.h"

void	*__real_malloc(size_t);
void	*__real_calloc(size_t, size_t);
void	*__real_realloc(void *, size_t);
void	*__wrap_malloc(size_t);
void	*__wrap_calloc(size_t, size_t);
void	*__wrap_realloc(void *, size_t);

static int fail_at = -1;	/* -1: never; n: fail the n-th allocation */
static int failed;

static int
t_fail(void)
{
	if (fail_at >= 0 && fail_at-- == 0) {
		failed = 1;
		return 1;
	}
	return 0;
}

void *
__wrap_malloc(size_t n)
{
	return t_fail() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t a, size_t b)
{
	return t_fail() ? NULL : __real_calloc(a, b);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return t_fail() ? NULL : __real_realloc(p, n);
}

#define AKID	"AKIAIOSFODNN7EXAMPLE"
#define SECRET	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EMPTY_SHA \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define T0	1369353600

static enum ark_err
t_secret(void *arg, const char *akid, char *secret, size_t cap)
{
	(void)arg;
	(void)akid;
	snprintf(secret, cap, "%s", SECRET);
	return ARK_OK;
}

/* One run of every operation; returns 1 when an injected failure was
 * hit (so the caller tries the next n). */
static int
t_round(int n)
{
	static const struct s3_sigv4_cfg cfg = { .allow_v2 = 1,
	    .secret = t_secret };
	const char *kv[] = { "Host", "examplebucket.s3.amazonaws.com",
	    "Authorization", "AWS4-HMAC-SHA256 Credential=" AKID
	    "/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;"
	    "x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd"
	    "35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
	    "Range", "bytes=0-9", "x-amz-content-sha256", EMPTY_SHA,
	    "x-amz-date", "20130524T000000Z", NULL };
	const char *kvl[] = { "Host", "examplebucket.s3.amazonaws.com",
	    "Authorization", "AWS4-HMAC-SHA256 Credential=" AKID
	    "/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;"
	    "x-amz-content-sha256;x-amz-date, Signature="
	    "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
	    "x-amz-date", "20130524T000000Z",
	    "x-amz-content-sha256", EMPTY_SHA, NULL };
	static const char xml_c[] = "<CompleteMultipartUpload><Part><PartNumber>"
	    "1</PartNumber><ETag>a</ETag></Part><Part><PartNumber>2"
	    "</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>";
	static const char xml_d[] = "<Delete><Object><Key>k1</Key><VersionId>v"
	    "</VersionId></Object><Object><Key>k2</Key></Object></Delete>";
	static const char xml_cors[] = "<CORSConfiguration><CORSRule><ID>r"
	    "</ID><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET"
	    "</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag"
	    "</ExposeHeader></CORSRule></CORSConfiguration>";
	static const char xml_t[] = "<Tagging><TagSet><Tag><Key>a</Key><Value>b"
	    "</Value></Tag></TagSet></Tagging>";
	static const char body[] = "5\r\nhello\r\n6\r\n world\r\n0\r\n"
	    "x-amz-checksum-crc32c:yZRlqg==\r\n\r\n";
	struct s3_view v;
	struct s3_auth a;
	struct s3_xml_complete xc;
	struct s3_xml_delete xd;
	struct s3_xml_tagging xt;
	struct s3_cors xcors;
	struct s3_chunked *ch;
	struct s3_cksum *ck;
	struct ark_buf b;
	char q[1024];
	enum s3_code sc;
	enum ark_err rc;

	failed = 0;
	fail_at = n;

	s3_view_init_kv(&v, "GET", "/test.txt", NULL, kv);
	sc = s3_sigv4_verify(&cfg, &v, T0, &a);
	assert_true(sc == S3_OK || sc == S3_ERR_INTERNAL);
	s3_view_init_kv(&v, "GET", "/", "max-keys=2&prefix=J", kvl);
	sc = s3_sigv4_verify(&cfg, &v, T0, &a);
	assert_true(sc == S3_OK || sc == S3_ERR_INTERNAL);
	s3_view_init_kv(&v, "GET", "/test.txt", NULL, kvl);
	rc = s3_sigv4_presign(&v, AKID, SECRET, "us-east-1",
	    "20130524T000000Z", 60, q, sizeof(q));
	assert_true(rc == ARK_OK || rc == ARK_ENOMEM || rc == ARK_EINVAL);

	sc = s3_xml_parse_complete(xml_c, strlen(xml_c), &xc);
	assert_true(sc == S3_OK || sc == S3_ERR_INTERNAL);
	s3_xml_complete_free(&xc);
	sc = s3_xml_parse_delete(xml_d, strlen(xml_d), &xd);
	assert_true(sc == S3_OK || sc == S3_ERR_INTERNAL);
	s3_xml_delete_free(&xd);
	sc = s3_xml_parse_tagging(xml_t, strlen(xml_t), S3_XML_MAX_TAGS, &xt);
	assert_true(sc == S3_OK || sc == S3_ERR_INTERNAL);
	s3_xml_tagging_free(&xt);
	sc = s3_xml_parse_cors(xml_cors, strlen(xml_cors), &xcors);
	assert_true(sc == S3_OK || sc == S3_ERR_INTERNAL);
	s3_cors_free(&xcors);

	memset(&a, 0, sizeof(a));
	a.payload = S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER;
	if (s3_chunked_new(&a, 11, NULL, NULL, &ch) == S3_OK) {
		sc = s3_chunked_feed(ch, body, strlen(body));
		if (sc == S3_OK)
			sc = s3_chunked_finish(ch);
		assert_true(sc == S3_OK || sc == S3_ERR_INTERNAL);
		s3_chunked_free(ch);
	}
	if (s3_cksum_new(0xffu, &ck) == ARK_OK) {
		rc = s3_cksum_update(ck, "hello", 5);
		if (rc == ARK_OK)
			rc = s3_cksum_final(ck);
		assert_true(rc == ARK_OK || rc == ARK_ENOMEM || rc == ARK_EIO);
		s3_cksum_free(ck);
	}
	ark_buf_init(&b, 4096);
	rc = s3_error_xml(&b, S3_ERR_NO_SUCH_KEY, NULL, "/b/k", "id", "host");
	assert_true(rc == ARK_OK || rc == ARK_ENOMEM);
	ark_buf_free(&b);

	fail_at = -1;
	return failed;
}

static void
test_torture(void **state)
{
	int n;

	(void)state;
	for (n = 0; n < 10000 && t_round(n); n++)
		;
	assert_true(n > 10);		/* the wrap is in effect */
	assert_true(n < 10000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_torture),
	};

	return cmocka_run_group_tests_name("s3_torture", tests, NULL, NULL);
}
