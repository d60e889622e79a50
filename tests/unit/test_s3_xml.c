/*
 * test_s3_xml.c - request body parsers: CompleteMultipartUpload (order,
 * limits, checksums, quotes), Delete (quiet, versions, 1000-key limit,
 * entities), CreateBucketConfiguration, Tagging limits, canned-ACL
 * policies, hostile XML (DOCTYPE/entity expansion, depth, huge text,
 * wrong root, truncation), and UTF-8 validation.
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

#include "common/buf.h"
#include "object/s3_xml.h"

#define NS " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

static enum s3_code
complete(const char *s, struct s3_xml_complete *c)
{
	return s3_xml_parse_complete(s, strlen(s), c);
}

static void
test_complete(void **state)
{
	struct s3_xml_complete c;

	(void)state;
	assert_int_equal(complete("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<CompleteMultipartUpload" NS ">\n"
	    " <Part><PartNumber>1</PartNumber>"
	    "<ETag>\"a54357aff0632cce46d942af68356b38\"</ETag></Part>\n"
	    " <Part><ETag>&quot;0c78aef83f66abc1fa1e8477f296d394&quot;</ETag>"
	    "<PartNumber> 2 </PartNumber>"
	    "<ChecksumCRC32C>yZRlqg==</ChecksumCRC32C></Part>\n"
	    " <Part><PartNumber>10000</PartNumber><ETag>x</ETag></Part>"
	    "</CompleteMultipartUpload>", &c), S3_OK);
	assert_int_equal(c.nparts, 3);
	assert_int_equal(c.parts[0].part_number, 1);
	assert_string_equal(c.parts[0].etag,
	    "a54357aff0632cce46d942af68356b38");
	assert_int_equal(c.parts[0].cksum_alg, S3_CKSUM_NONE);
	assert_int_equal(c.parts[1].part_number, 2);
	assert_string_equal(c.parts[1].etag,
	    "0c78aef83f66abc1fa1e8477f296d394");
	assert_int_equal(c.parts[1].cksum_alg, S3_CKSUM_CRC32C);
	assert_string_equal(c.parts[1].cksum, "yZRlqg==");
	assert_int_equal(c.parts[2].part_number, 10000);
	s3_xml_complete_free(&c);
	s3_xml_complete_free(&c);

	/* order */
	assert_int_equal(complete("<CompleteMultipartUpload><Part><PartNumber>"
	    "2</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1"
	    "</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>", &c),
	    S3_ERR_INVALID_PART_ORDER);
	assert_null(c.parts);
	assert_int_equal(complete("<CompleteMultipartUpload><Part><PartNumber>"
	    "2</PartNumber><ETag>a</ETag></Part><Part><PartNumber>2"
	    "</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>", &c),
	    S3_ERR_INVALID_PART_ORDER);
	/* malformed parts */
	assert_int_equal(complete("<CompleteMultipartUpload><Part><PartNumber>"
	    "1</PartNumber></Part></CompleteMultipartUpload>", &c),
	    S3_ERR_MALFORMED_XML);
	assert_int_equal(complete("<CompleteMultipartUpload><Part><PartNumber>"
	    "x</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
	    &c), S3_ERR_MALFORMED_XML);
	assert_int_equal(complete("<CompleteMultipartUpload><Part><PartNumber>"
	    "0</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
	    &c), S3_ERR_INVALID_ARGUMENT);
	assert_int_equal(complete("<CompleteMultipartUpload><Part><PartNumber>"
	    "10001</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
	    &c), S3_ERR_INVALID_ARGUMENT);
	assert_int_equal(complete("<CompleteMultipartUpload>"
	    "</CompleteMultipartUpload>", &c), S3_ERR_MALFORMED_XML);
	assert_int_equal(complete("<Complete><Part><PartNumber>1</PartNumber>"
	    "<ETag>a</ETag></Part></Complete>", &c), S3_ERR_MALFORMED_XML);
	assert_int_equal(complete("<CompleteMultipartUpload><Part><PartNumber>"
	    "1</PartNumber><ETag>a</ETag></Part>", &c), S3_ERR_MALFORMED_XML);
	assert_int_equal(complete("", &c), S3_ERR_MALFORMED_XML);
	assert_int_equal(complete("not xml", &c), S3_ERR_MALFORMED_XML);
}

static void
test_complete_many(void **state)
{
	struct ark_buf b;
	struct s3_xml_complete c;

	(void)state;
	ark_buf_init(&b, S3_XML_MAX_COMPLETE);
	assert_int_equal(ark_buf_append_str(&b, "<CompleteMultipartUpload>"),
	    ARK_OK);
	for (int i = 1; i <= 10000; i++)
		assert_int_equal(ark_buf_printf(&b, "<Part><PartNumber>%d"
		    "</PartNumber><ETag>\"%032x\"</ETag></Part>", i, i), ARK_OK);
	assert_int_equal(ark_buf_append_str(&b, "</CompleteMultipartUpload>"),
	    ARK_OK);
	assert_int_equal(s3_xml_parse_complete(ark_buf_str(&b), ark_buf_len(&b),
	    &c), S3_OK);
	assert_int_equal(c.nparts, 10000);
	assert_int_equal(c.parts[9999].part_number, 10000);
	s3_xml_complete_free(&c);
	ark_buf_free(&b);
}

static void
test_hostile(void **state)
{
	static const char laughs[] =
	    "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
	    "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
	    "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"
	    "<ETag>&lol2;</ETag></Part></CompleteMultipartUpload>";
	static const char ext[] =
	    "<?xml version=\"1.0\"?><!DOCTYPE x SYSTEM \"file:///etc/passwd\">"
	    "<Delete><Object><Key>k</Key></Object></Delete>";
	struct s3_xml_complete c;
	struct s3_xml_delete d;
	struct ark_buf b;

	(void)state;
	assert_int_equal(complete(laughs, &c), S3_ERR_MALFORMED_XML);
	assert_int_equal(s3_xml_parse_delete(ext, strlen(ext), &d),
	    S3_ERR_MALFORMED_XML);
	/* undefined entity */
	assert_int_equal(complete("<CompleteMultipartUpload><Part><PartNumber>"
	    "1</PartNumber><ETag>&foo;</ETag></Part></CompleteMultipartUpload>",
	    &c), S3_ERR_MALFORMED_XML);
	/* deep nesting */
	ark_buf_init(&b, 1 << 16);
	assert_int_equal(ark_buf_append_str(&b, "<Delete>"), ARK_OK);
	for (int i = 0; i < 40; i++)
		assert_int_equal(ark_buf_append_str(&b, "<a>"), ARK_OK);
	assert_int_equal(s3_xml_parse_delete(ark_buf_str(&b), ark_buf_len(&b),
	    &d), S3_ERR_MALFORMED_XML);
	/* huge text */
	ark_buf_reset(&b);
	assert_int_equal(ark_buf_append_str(&b, "<Delete><Object><Key>"),
	    ARK_OK);
	for (int i = 0; i < S3_XML_TEXT_MAX + 1; i++)
		assert_int_equal(ark_buf_append_byte(&b, 'k'), ARK_OK);
	assert_int_equal(ark_buf_append_str(&b, "</Key></Object></Delete>"),
	    ARK_OK);
	assert_int_equal(s3_xml_parse_delete(ark_buf_str(&b), ark_buf_len(&b),
	    &d), S3_ERR_MALFORMED_XML);
	ark_buf_free(&b);
	/* over the size limit */
	assert_int_equal(s3_xml_parse_complete("<a/>",
	    (size_t)S3_XML_MAX_COMPLETE + 1, &c), S3_ERR_MALFORMED_XML);
}

static void
test_delete(void **state)
{
	static const char body[] =
	    "<Delete" NS "><Quiet>true</Quiet>"
	    "<Object><Key>a &amp; b &lt;c&gt;</Key></Object>"
	    "<Object><Key> sp </Key><VersionId>null</VersionId></Object>"
	    "<Object><Key></Key><ETag>\"0a\"</ETag></Object>"
	    "<Object><Key>caf\xc3\xa9/\xe2\x82\xac</Key></Object>"
	    "</Delete>";
	struct s3_xml_delete d;
	struct ark_buf b;

	(void)state;
	assert_int_equal(s3_xml_parse_delete(body, strlen(body), &d), S3_OK);
	assert_int_equal(d.nobjs, 4);
	assert_true(d.quiet);
	assert_string_equal(d.objs[0].key, "a & b <c>");
	assert_null(d.objs[0].version_id);
	assert_null(d.objs[0].etag);
	assert_string_equal(d.objs[1].key, " sp ");
	assert_string_equal(d.objs[1].version_id, "null");
	assert_null(d.objs[1].etag);
	assert_string_equal(d.objs[2].key, "");
	assert_string_equal(d.objs[2].etag, "\"0a\"");
	assert_string_equal(d.objs[3].key, "caf\xc3\xa9/\xe2\x82\xac");
	s3_xml_delete_free(&d);

	{
		static const char q[] = "<Delete><Quiet>yes</Quiet>"
		    "<Object><Key>a</Key></Object></Delete>";
		static const char nokey[] = "<Delete><Object><VersionId>1"
		    "</VersionId></Object></Delete>";

		assert_int_equal(s3_xml_parse_delete(q, strlen(q), &d),
		    S3_ERR_MALFORMED_XML);
		assert_int_equal(s3_xml_parse_delete(nokey, strlen(nokey), &d),
		    S3_ERR_MALFORMED_XML);
	}
	assert_int_equal(s3_xml_parse_delete("<Delete></Delete>", 17, &d),
	    S3_ERR_MALFORMED_XML);
	/* 1000 keys fine, 1001 not */
	ark_buf_init(&b, S3_XML_MAX_DELETE);
	assert_int_equal(ark_buf_append_str(&b, "<Delete>"), ARK_OK);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(ark_buf_printf(&b,
		    "<Object><Key>k%d</Key></Object>", i), ARK_OK);
	assert_int_equal(ark_buf_append_str(&b, "</Delete>"), ARK_OK);
	assert_int_equal(s3_xml_parse_delete(ark_buf_str(&b), ark_buf_len(&b),
	    &d), S3_OK);
	assert_int_equal(d.nobjs, 1000);
	assert_false(d.quiet);
	s3_xml_delete_free(&d);
	ark_buf_truncate(&b, ark_buf_len(&b) - 9);
	assert_int_equal(ark_buf_append_str(&b,
	    "<Object><Key>x</Key></Object></Delete>"), ARK_OK);
	assert_int_equal(s3_xml_parse_delete(ark_buf_str(&b), ark_buf_len(&b),
	    &d), S3_ERR_MALFORMED_XML);
	assert_null(d.objs);
	ark_buf_free(&b);
}

static void
test_create_bucket(void **state)
{
	static const char body[] = "<CreateBucketConfiguration" NS ">"
	    "<LocationConstraint>eu-west-1</LocationConstraint>"
	    "</CreateBucketConfiguration>";
	char loc[16];

	(void)state;
	assert_int_equal(s3_xml_parse_create_bucket(body, strlen(body), loc,
	    sizeof(loc)), S3_OK);
	assert_string_equal(loc, "eu-west-1");
	assert_int_equal(s3_xml_parse_create_bucket("", 0, loc, sizeof(loc)),
	    S3_OK);
	assert_string_equal(loc, "");
	assert_int_equal(s3_xml_parse_create_bucket(body, strlen(body), loc,
	    4), S3_ERR_INVALID_LOCATION);
	assert_int_equal(s3_xml_parse_create_bucket("<CreateBucketConfiguration"
	    "/>", 28, loc, sizeof(loc)), S3_OK);
	assert_string_equal(loc, "");
	assert_int_equal(s3_xml_parse_create_bucket("<Foo/>", 6, loc,
	    sizeof(loc)), S3_ERR_MALFORMED_XML);
}

static enum s3_code
tagging(const char *s, struct s3_xml_tagging *t)
{
	s3_xml_tagging_free(t);
	return s3_xml_parse_tagging(s, strlen(s), S3_XML_MAX_TAGS, t);
}

static void
test_tagging(void **state)
{
	struct s3_xml_tagging t = { NULL, 0 };
	char buf[4096];
	int n;

	(void)state;
	assert_int_equal(tagging("<Tagging><TagSet><Tag><Key>env</Key><Value>"
	    "prod</Value></Tag><Tag><Key>e\xc3\xa9</Key><Value></Value></Tag>"
	    "</TagSet></Tagging>", &t), S3_OK);
	assert_int_equal(t.ntags, 2);
	assert_string_equal(t.tags[0].key, "env");
	assert_string_equal(t.tags[0].value, "prod");
	assert_string_equal(t.tags[1].value, "");
	/* 11 tags */
	n = snprintf(buf, sizeof(buf), "<Tagging><TagSet>");
	for (int i = 0; i < 11; i++)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n,
		    "<Tag><Key>k%d</Key><Value>v</Value></Tag>", i);
	snprintf(buf + n, sizeof(buf) - (size_t)n, "</TagSet></Tagging>");
	assert_int_equal(tagging(buf, &t), S3_ERR_INVALID_TAG);
	/* duplicate, aws:, empty key, bad UTF-8 */
	assert_int_equal(tagging("<Tagging><TagSet><Tag><Key>a</Key><Value>1"
	    "</Value></Tag><Tag><Key>a</Key><Value>2</Value></Tag></TagSet>"
	    "</Tagging>", &t), S3_ERR_INVALID_TAG);
	assert_int_equal(tagging("<Tagging><TagSet><Tag><Key>aws:x</Key>"
	    "<Value>1</Value></Tag></TagSet></Tagging>", &t),
	    S3_ERR_INVALID_TAG);
	assert_int_equal(tagging("<Tagging><TagSet><Tag><Key></Key>"
	    "<Value>1</Value></Tag></TagSet></Tagging>", &t),
	    S3_ERR_INVALID_TAG);
	assert_int_equal(tagging("<Tagging><TagSet><Tag><Key>a</Key></Tag>"
	    "</TagSet></Tagging>", &t), S3_ERR_MALFORMED_XML);
	/* 128-character key of 2-byte characters passes, 129 does not */
	for (int chars = 128; chars <= 129; chars++) {
		n = snprintf(buf, sizeof(buf), "<Tagging><TagSet><Tag><Key>");
		for (int i = 0; i < chars; i++)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n,
			    "\xc3\xa9");
		snprintf(buf + n, sizeof(buf) - (size_t)n,
		    "</Key><Value>v</Value></Tag></TagSet></Tagging>");
		assert_int_equal(tagging(buf, &t),
		    chars == 128 ? S3_OK : S3_ERR_INVALID_TAG);
	}
	for (int chars = 256; chars <= 257; chars++) {
		n = snprintf(buf, sizeof(buf), "<Tagging><TagSet><Tag><Key>k"
		    "</Key><Value>");
		for (int i = 0; i < chars; i++)
			buf[n++] = 'v';
		snprintf(buf + n, sizeof(buf) - (size_t)n,
		    "</Value></Tag></TagSet></Tagging>");
		assert_int_equal(tagging(buf, &t),
		    chars == 256 ? S3_OK : S3_ERR_INVALID_TAG);
	}
	s3_xml_tagging_free(&t);
}

/* A bucket takes 50 tags, not 51. */
static void
test_bucket_tagging(void **state)
{
	struct s3_xml_tagging t;
	char buf[8192];
	int n;

	(void)state;
	for (int ntags = 50; ntags <= 51; ntags++) {
		n = snprintf(buf, sizeof(buf), "<Tagging><TagSet>");
		for (int i = 0; i < ntags; i++)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n,
			    "<Tag><Key>k%d</Key><Value>v</Value></Tag>", i);
		snprintf(buf + n, sizeof(buf) - (size_t)n,
		    "</TagSet></Tagging>");
		assert_int_equal(s3_xml_parse_tagging(buf, strlen(buf),
		    S3_XML_MAX_BUCKET_TAGS, &t), ntags == 50 ? S3_OK :
		    S3_ERR_INVALID_TAG);
		assert_int_equal(t.ntags, ntags == 50 ? 50 : 0);
		if (ntags == 50)
			assert_string_equal(t.tags[49].key, "k49");
		s3_xml_tagging_free(&t);
	}
}

static enum s3_code
cors(const char *s, struct s3_cors *c)
{
	return s3_xml_parse_cors(s, strlen(s), c);
}

static void
test_cors(void **state)
{
	struct s3_cors c;
	char buf[32768];
	int n;

	(void)state;
	assert_int_equal(cors("<CORSConfiguration xmlns=\"http://s3.amazonaws"
	    ".com/doc/2006-03-01/\"><CORSRule><ID>r1</ID>"
	    "<AllowedOrigin>https://*.example.com</AllowedOrigin>"
	    "<AllowedOrigin>http://x</AllowedOrigin>"
	    "<AllowedMethod>GET</AllowedMethod><AllowedMethod> PUT "
	    "</AllowedMethod><AllowedHeader>*</AllowedHeader>"
	    "<ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000"
	    "</MaxAgeSeconds></CORSRule><CORSRule><AllowedOrigin>*"
	    "</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod></CORSRule>"
	    "</CORSConfiguration>", &c), S3_OK);
	assert_int_equal(c.nrules, 2);
	assert_string_equal(c.rules[0].id, "r1");
	assert_int_equal(c.rules[0].origins.n, 2);
	assert_string_equal(c.rules[0].origins.v[0], "https://*.example.com");
	assert_string_equal(c.rules[0].methods.v[1], "PUT");
	assert_string_equal(c.rules[0].headers.v[0], "*");
	assert_string_equal(c.rules[0].expose.v[0], "ETag");
	assert_int_equal(c.rules[0].max_age, 3000);
	assert_null(c.rules[1].id);
	assert_int_equal(c.rules[1].max_age, -1);
	assert_int_equal(c.rules[1].headers.n, 0);
	s3_cors_free(&c);
	assert_int_equal(c.nrules, 0);
	/* methods S3 does not know, several wildcards */
	assert_int_equal(cors("<CORSConfiguration><CORSRule><AllowedOrigin>*"
	    "</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule>"
	    "</CORSConfiguration>", &c), S3_ERR_INVALID_REQUEST);
	assert_int_equal(cors("<CORSConfiguration><CORSRule><AllowedOrigin>"
	    "http://*.*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
	    "</CORSRule></CORSConfiguration>", &c), S3_ERR_INVALID_REQUEST);
	assert_int_equal(cors("<CORSConfiguration><CORSRule><AllowedOrigin>*"
	    "</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>"
	    "*a*</AllowedHeader></CORSRule></CORSConfiguration>", &c),
	    S3_ERR_INVALID_REQUEST);
	/* malformed: no rule, no origin, no method, bad max age, not XML,
	 * another root */
	assert_int_equal(cors("<CORSConfiguration/>", &c),
	    S3_ERR_MALFORMED_XML);
	assert_int_equal(cors("<CORSConfiguration><CORSRule><AllowedMethod>GET"
	    "</AllowedMethod></CORSRule></CORSConfiguration>", &c),
	    S3_ERR_MALFORMED_XML);
	assert_int_equal(cors("<CORSConfiguration><CORSRule><AllowedOrigin>*"
	    "</AllowedOrigin></CORSRule></CORSConfiguration>", &c),
	    S3_ERR_MALFORMED_XML);
	assert_int_equal(cors("<CORSConfiguration><CORSRule><AllowedOrigin>*"
	    "</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>"
	    "-1</MaxAgeSeconds></CORSRule></CORSConfiguration>", &c),
	    S3_ERR_MALFORMED_XML);
	assert_int_equal(cors("<CORSConfiguration><CORSRule>", &c),
	    S3_ERR_MALFORMED_XML);
	assert_int_equal(cors("<Tagging/>", &c), S3_ERR_MALFORMED_XML);
	/* 100 rules pass, 101 do not */
	for (int rules = 100; rules <= 101; rules++) {
		n = snprintf(buf, sizeof(buf), "<CORSConfiguration>");
		for (int i = 0; i < rules; i++)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n,
			    "<CORSRule><AllowedOrigin>http://h%d</AllowedOrigin>"
			    "<AllowedMethod>GET</AllowedMethod></CORSRule>", i);
		snprintf(buf + n, sizeof(buf) - (size_t)n,
		    "</CORSConfiguration>");
		assert_int_equal(cors(buf, &c), rules == 100 ? S3_OK :
		    S3_ERR_MALFORMED_XML);
		assert_int_equal(c.nrules, rules == 100 ? 100 : 0);
		s3_cors_free(&c);
	}
}

static void
test_acl(void **state)
{
	static const char priv[] =
	    "<AccessControlPolicy" NS "><Owner><ID>owner1</ID></Owner>"
	    "<AccessControlList><Grant><Grantee xmlns:xsi=\"http://www.w3.org/"
	    "2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"><ID>owner1"
	    "</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>"
	    "</AccessControlList></AccessControlPolicy>";
	static const char pub[] =
	    "<AccessControlPolicy><Owner><ID>o</ID></Owner>"
	    "<AccessControlList><Grant><Grantee xmlns:xsi=\"http://www.w3.org/"
	    "2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"><ID>o"
	    "</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>"
	    "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-"
	    "instance\" xsi:type=\"Group\"><URI>http://acs.amazonaws.com/groups"
	    "/global/AllUsers</URI></Grantee><Permission>READ</Permission>"
	    "</Grant></AccessControlList></AccessControlPolicy>";
	static const char write[] =
	    "<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>o"
	    "</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>"
	    "<Grant><Grantee><URI>http://acs.amazonaws.com/groups/global/"
	    "AllUsers</URI></Grantee><Permission>WRITE</Permission></Grant>"
	    "</AccessControlList></AccessControlPolicy>";
	static const char bad[] =
	    "<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>o"
	    "</ID></Grantee></Grant></AccessControlList></AccessControlPolicy>";
	enum s3_acl acl;
	char owner[32];

	(void)state;
	assert_int_equal(s3_xml_parse_acl(priv, strlen(priv), &acl, owner,
	    sizeof(owner)), S3_OK);
	assert_int_equal(acl, S3_ACL_PRIVATE);
	assert_string_equal(owner, "owner1");
	assert_int_equal(s3_xml_parse_acl(pub, strlen(pub), &acl, NULL, 0),
	    S3_OK);
	assert_int_equal(acl, S3_ACL_PUBLIC_READ);
	assert_int_equal(s3_xml_parse_acl(write, strlen(write), &acl, NULL, 0),
	    S3_ERR_NOT_IMPLEMENTED);
	assert_int_equal(s3_xml_parse_acl(bad, strlen(bad), &acl, NULL, 0),
	    S3_ERR_MALFORMED_ACL);
	assert_int_equal(s3_xml_parse_acl("<x/>", 4, &acl, NULL, 0),
	    S3_ERR_MALFORMED_ACL);
}

static void
test_utf8(void **state)
{
	size_t n;

	(void)state;
	assert_true(s3_xml_utf8_valid("abc", 3, &n));
	assert_int_equal(n, 3);
	assert_true(s3_xml_utf8_valid("\xf0\x9f\x98\x80", 4, &n));
	assert_int_equal(n, 1);
	assert_false(s3_xml_utf8_valid("\xc0\xaf", 2, NULL));	/* overlong */
	assert_false(s3_xml_utf8_valid("\xe0\x80\xaf", 3, NULL));
	assert_false(s3_xml_utf8_valid("\xed\xa0\x80", 3, NULL)); /* surrogate */
	assert_false(s3_xml_utf8_valid("\xf4\x90\x80\x80", 4, NULL));
	assert_false(s3_xml_utf8_valid("\xc3", 1, NULL));
	assert_false(s3_xml_utf8_valid("\xff", 1, NULL));
	assert_true(s3_xml_utf8_valid("", 0, &n));
	assert_int_equal(n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete),
		cmocka_unit_test(test_complete_many),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_create_bucket),
		cmocka_unit_test(test_tagging),
		cmocka_unit_test(test_bucket_tagging),
		cmocka_unit_test(test_cors),
		cmocka_unit_test(test_acl),
		cmocka_unit_test(test_utf8),
	};

	return cmocka_run_group_tests_name("s3_xml", tests, NULL, NULL);
}
