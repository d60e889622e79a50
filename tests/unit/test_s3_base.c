/*
 * test_s3_base.c - the small shared pieces of the S3 protocol layer:
 * the error table and XML error body, the XML writer's escaping and
 * nesting, percent-encoding and raw query access, time parsing.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "object/s3_error.h"
#include "object/s3_time.h"
#include "object/s3_uri.h"
#include "object/s3_xmlw.h"

static void
test_error_table(void **state)
{
	struct ark_buf b;

	(void)state;
	for (int c = 0; c < S3_ERR_CODE_MAX; c++) {
		assert_non_null(s3_code_name(c));
		assert_true(s3_code_status(c) >= 200 &&
		    s3_code_status(c) < 600);
		assert_non_null(s3_code_message(c));
	}
	assert_string_equal(s3_code_name(S3_ERR_NO_SUCH_BUCKET),
	    "NoSuchBucket");
	assert_int_equal(s3_code_status(S3_ERR_NO_SUCH_KEY), 404);
	assert_int_equal(s3_code_status(S3_ERR_BUCKET_NOT_EMPTY), 409);
	assert_int_equal(s3_code_status(S3_ERR_INVALID_RANGE), 416);
	assert_string_equal(s3_code_name(S3_ERR_INVALID_PART_NUMBER),
	    "InvalidPartNumber");
	assert_int_equal(s3_code_status(S3_ERR_INVALID_PART_NUMBER), 416);
	assert_int_equal(s3_code_status(S3_ERR_PRECONDITION_FAILED), 412);
	assert_int_equal(s3_code_status(S3_ERR_NOT_MODIFIED), 304);
	assert_true(s3_code_no_body(S3_ERR_NOT_MODIFIED));
	assert_int_equal(s3_code_status(S3_ERR_MISSING_CONTENT_LENGTH), 411);
	assert_int_equal(s3_code_status(S3_ERR_SLOW_DOWN), 503);
	assert_int_equal(s3_code_status(S3_ERR_NOT_IMPLEMENTED), 501);
	assert_int_equal(s3_code_status(S3_ERR_METHOD_NOT_ALLOWED), 405);
	assert_string_equal(s3_code_name(S3_ERR_REQUEST_EXPIRED),
	    "AccessDenied");
	assert_string_equal(s3_code_message(S3_ERR_REQUEST_EXPIRED),
	    "Request has expired");
	assert_string_equal(s3_code_name(S3_ERR_CODE_MAX + 5),
	    "InternalError");
	assert_int_equal(s3_code_from_ark(ARK_EAGAIN), S3_ERR_SLOW_DOWN);
	assert_int_equal(s3_code_from_ark(ARK_ENOMEM), S3_ERR_INTERNAL);
	assert_int_equal(s3_code_from_ark(ARK_OK), S3_OK);

	ark_buf_init(&b, 4096);
	assert_int_equal(s3_error_xml(&b, S3_ERR_NO_SUCH_KEY, NULL,
	    "/b/a&b<c>", "4442587FB7D0A2F9", NULL), ARK_OK);
	assert_string_equal(ark_buf_str(&b),
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Error><Code>NoSuchKey</Code><Message>The specified key does not"
	    " exist.</Message><Resource>/b/a&amp;b&lt;c&gt;</Resource>"
	    "<RequestId>4442587FB7D0A2F9</RequestId></Error>");
	ark_buf_free(&b);
	ark_buf_init(&b, 64);
	assert_int_equal(s3_error_xml(&b, S3_ERR_NO_SUCH_KEY, NULL, NULL,
	    NULL, NULL), ARK_ETOOBIG);
	ark_buf_free(&b);
}

static void
test_xmlw(void **state)
{
	struct ark_buf b;
	struct s3_xmlw w;
	const char ctl[] = { 'a', 0x01, '\t', '\n', '\r', 0x1f, 0x7f, 'z' };

	(void)state;
	ark_buf_init(&b, 4096);
	s3_xmlw_init_fragment(&w, &b);
	s3_xmlw_start_ns(&w, "R");
	s3_xmlw_elem(&w, "K", "&<>\"'");
	s3_xmlw_start(&w, "C");
	s3_xmlw_text(&w, ctl, sizeof(ctl));
	s3_xmlw_end(&w);
	s3_xmlw_elem_u64(&w, "N", 18446744073709551615ull);
	s3_xmlw_elem_bool(&w, "T", 1);
	s3_xmlw_elem_time(&w, "D", 1255369830);
	s3_xmlw_elem(&w, "E", NULL);
	s3_xmlw_elem(&w, "U", "caf\xc3\xa9");
	s3_xmlw_end(&w);
	assert_int_equal(s3_xmlw_finish(&w), ARK_OK);
	assert_string_equal(ark_buf_str(&b),
	    "<R xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	    "<K>&amp;&lt;&gt;&quot;&apos;</K>"
	    "<C>a&#x1;&#x9;&#xA;&#xD;&#x1F;&#x7F;z</C>"
	    "<N>18446744073709551615</N><T>true</T>"
	    "<D>2009-10-12T17:50:30.000Z</D><E></E><U>caf\xc3\xa9</U></R>");
	/* an attribute, escaped */
	ark_buf_reset(&b);
	s3_xmlw_init_fragment(&w, &b);
	s3_xmlw_start_attr(&w, "G", "xsi:type", "a\"<b");
	s3_xmlw_elem(&w, "ID", "o");
	s3_xmlw_end(&w);
	assert_int_equal(s3_xmlw_finish(&w), ARK_OK);
	assert_string_equal(ark_buf_str(&b),
	    "<G xsi:type=\"a&quot;&lt;b\"><ID>o</ID></G>");
	/* unbalanced */
	ark_buf_reset(&b);
	s3_xmlw_init_fragment(&w, &b);
	s3_xmlw_start(&w, "A");
	assert_int_equal(s3_xmlw_finish(&w), ARK_EINVAL);
	s3_xmlw_init_fragment(&w, &b);
	s3_xmlw_end(&w);
	assert_int_equal(s3_xmlw_finish(&w), ARK_EINVAL);
	/* too deep */
	s3_xmlw_init_fragment(&w, &b);
	for (int i = 0; i < S3_XMLW_MAXDEPTH + 1; i++)
		s3_xmlw_start(&w, "d");
	assert_int_equal(s3_xmlw_finish(&w), ARK_EINVAL);
	ark_buf_free(&b);
	/* sticky buffer error */
	ark_buf_init(&b, 10);
	s3_xmlw_init(&w, &b);
	s3_xmlw_elem(&w, "A", "x");
	assert_int_equal(s3_xmlw_finish(&w), ARK_ETOOBIG);
	ark_buf_free(&b);
}

/* A ListObjectsV2 page as the object server will write it. */
static void
test_xmlw_list_v2(void **state)
{
	static const char key[] = "a b/&\x01\xc3\xa9";
	struct ark_buf b;
	struct s3_xmlw w;

	(void)state;
	for (int url = 0; url <= 1; url++) {
		ark_buf_init(&b, 4096);
		s3_xmlw_init(&w, &b);
		s3_xmlw_start_ns(&w, "ListBucketResult");
		s3_xmlw_elem(&w, "Name", "bkt");
		s3_xmlw_elem_key(&w, "Prefix", "", 0, url);
		s3_xmlw_elem_u64(&w, "KeyCount", 1);
		s3_xmlw_elem_u64(&w, "MaxKeys", 1000);
		if (url)
			s3_xmlw_elem(&w, "EncodingType", "url");
		s3_xmlw_elem_bool(&w, "IsTruncated", 0);
		s3_xmlw_start(&w, "Contents");
		s3_xmlw_elem_key(&w, "Key", key, sizeof(key) - 1, url);
		s3_xmlw_elem_time(&w, "LastModified", 1255369830);
		s3_xmlw_elem(&w, "ETag", "\"fba9dede5f27731c9771645a39863328\"");
		s3_xmlw_elem_u64(&w, "Size", 434234);
		s3_xmlw_elem(&w, "StorageClass", "STANDARD");
		s3_xmlw_end(&w);
		s3_xmlw_end(&w);
		assert_int_equal(s3_xmlw_finish(&w), ARK_OK);
		assert_non_null(strstr(ark_buf_str(&b), url ?
		    "<Key>a%20b/%26%01%C3%A9</Key>" :
		    "<Key>a b/&amp;&#x1;\xc3\xa9</Key>"));
		assert_non_null(strstr(ark_buf_str(&b),
		    "<ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>"));
		assert_non_null(strstr(ark_buf_str(&b), "<Prefix></Prefix>"));
		ark_buf_free(&b);
	}
}

static void
test_uri(void **state)
{
	struct ark_buf b;
	char out[16];
	size_t n;

	(void)state;
	ark_buf_init(&b, 1024);
	assert_int_equal(s3_uri_encode(&b, "a b/c~d+e%\xff", 11, 1), ARK_OK);
	assert_string_equal(ark_buf_str(&b), "a%20b/c~d%2Be%25%FF");
	ark_buf_reset(&b);
	assert_int_equal(s3_uri_encode(&b, "a/b", 3, 0), ARK_OK);
	assert_string_equal(ark_buf_str(&b), "a%2Fb");
	ark_buf_reset(&b);
	assert_int_equal(s3_uri_decode(&b, "a%20b+%2fc%41", 13), ARK_OK);
	assert_string_equal(ark_buf_str(&b), "a b+/cA");
	ark_buf_reset(&b);
	assert_int_equal(s3_uri_decode(&b, "a%2", 3), ARK_EINVAL);
	assert_int_equal(s3_uri_decode(&b, "a%g0", 4), ARK_EINVAL);
	assert_int_equal(s3_uri_decode(&b, "%", 1), ARK_EINVAL);
	assert_int_equal(ark_buf_len(&b), 0);
	ark_buf_free(&b);
	assert_int_equal(s3_uri_decode_to("%00x", 4, out, sizeof(out), &n),
	    ARK_OK);
	assert_int_equal(n, 2);
	assert_int_equal(s3_uri_decode_to("0123456789abcdef", 16, out,
	    sizeof(out), &n), ARK_ETOOBIG);

	assert_int_equal(s3_uri_query_get("a=1&prefix=x%2Fy&&uploads", "prefix",
	    out, sizeof(out)), ARK_OK);
	assert_string_equal(out, "x/y");
	assert_int_equal(s3_uri_query_get("a=1&uploads", "uploads", out,
	    sizeof(out)), ARK_OK);
	assert_string_equal(out, "");
	assert_int_equal(s3_uri_query_get("a=1", "b", out, sizeof(out)),
	    ARK_ENOENT);
	assert_int_equal(s3_uri_query_get(NULL, "b", out, sizeof(out)),
	    ARK_ENOENT);
	assert_int_equal(s3_uri_query_get("b=%zz", "b", out, sizeof(out)),
	    ARK_EINVAL);
	assert_true(s3_uri_query_has("x&list%2Dtype=2", "list-type"));
	assert_false(s3_uri_query_has("x&list-typ=2", "list-type"));
}

static void
test_time(void **state)
{
	int64_t t;
	char iso[17];

	(void)state;
	assert_int_equal(s3_time_parse_iso8601("20130524T000000Z", &t), ARK_OK);
	assert_int_equal(t, 1369353600);
	s3_time_format_iso8601(t, iso);
	assert_string_equal(iso, "20130524T000000Z");
	assert_int_equal(s3_time_parse_iso8601("20130230T000000Z", &t),
	    ARK_EINVAL);
	assert_int_equal(s3_time_parse_iso8601("20130524T240000Z", &t),
	    ARK_EINVAL);
	assert_int_equal(s3_time_parse_iso8601("20130524T000000", &t),
	    ARK_EINVAL);
	assert_int_equal(s3_time_parse_iso8601("2013052aT000000Z", &t),
	    ARK_EINVAL);
	assert_int_equal(s3_time_parse_iso8601("20000229T235959Z", &t),
	    ARK_OK);
	assert_int_equal(t, 951868799);
	assert_int_equal(s3_time_parse_http("Sun, 06 Nov 1994 08:49:37 GMT",
	    &t), ARK_OK);
	assert_int_equal(t, 784111777);
	assert_int_equal(s3_time_parse_http(
	    "Sunday, 06-Nov-94 08:49:37 GMT", &t), ARK_OK);
	assert_int_equal(t, 784111777);
	assert_int_equal(s3_time_parse_http("Sun Nov  6 08:49:37 1994", &t),
	    ARK_OK);
	assert_int_equal(t, 784111777);
	assert_int_equal(s3_time_parse_http("Tue, 27 Mar 2007 19:36:42 +0000",
	    &t), ARK_OK);
	assert_int_equal(t, 1175024202);
	assert_int_equal(s3_time_parse_http("Sun, 06 Nov 1994 08:49:37 UTC",
	    &t), ARK_EINVAL);
	assert_int_equal(s3_time_parse_http("Sun, 06 Foo 1994 08:49:37 GMT",
	    &t), ARK_EINVAL);
	assert_int_equal(s3_time_parse_http("Sun, 31 Nov 1994 08:49:37 GMT",
	    &t), ARK_EINVAL);
	assert_int_equal(s3_time_parse_http("", &t), ARK_EINVAL);
	assert_int_equal(s3_time_parse_http("1994-11-06", &t), ARK_EINVAL);
	assert_int_equal(s3_time_days(1970, 1, 1), 0);
	assert_int_equal(s3_time_days(1969, 12, 31), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_table),
		cmocka_unit_test(test_xmlw),
		cmocka_unit_test(test_xmlw_list_v2),
		cmocka_unit_test(test_uri),
		cmocka_unit_test(test_time),
	};

	return cmocka_run_group_tests_name("s3_base", tests, NULL, NULL);
}
