/*
 * test_s3_cors.c - CORS rule evaluation and response headers: origin
 * wildcards, methods, requested headers (case-insensitive, wildcards),
 * first match wins, "*" origins without credentials.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "object/s3_cors.h"
#include "object/s3_xml.h"

static const char conf[] =
    "<CORSConfiguration>"
    "<CORSRule><ID>one</ID><AllowedOrigin>https://*.example.com"
    "</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT"
    "</AllowedMethod><AllowedHeader>x-amz-*</AllowedHeader><AllowedHeader>"
    "Content-Type</AllowedHeader><ExposeHeader>ETag</ExposeHeader>"
    "<ExposeHeader>x-amz-request-id</ExposeHeader><MaxAgeSeconds>600"
    "</MaxAgeSeconds></CORSRule>"
    "<CORSRule><ID>two</ID><AllowedOrigin>*</AllowedOrigin>"
    "<AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>"
    "</CORSRule></CORSConfiguration>";

struct hdrs {
	char	buf[4096];
	size_t	n;
};

static void
collect(void *arg, const char *name, const char *value)
{
	struct hdrs *h = arg;

	h->n += (size_t)snprintf(h->buf + h->n, sizeof(h->buf) - h->n,
	    "%s: %s\n", name, value);
}

static void
test_match(void **state)
{
	struct s3_cors c;
	const struct s3_cors_rule *r;

	(void)state;
	assert_int_equal(s3_xml_parse_cors(conf, strlen(conf), &c), S3_OK);
	r = s3_cors_match(&c, "https://app.example.com", "PUT", NULL);
	assert_non_null(r);
	assert_string_equal(r->id, "one");
	/* headers: prefix wildcard, case-insensitive, all must match */
	r = s3_cors_match(&c, "https://app.example.com", "PUT",
	    "X-Amz-Date, content-type");
	assert_non_null(r);
	assert_string_equal(r->id, "one");
	assert_null(s3_cors_match(&c, "https://app.example.com", "PUT",
	    "x-amz-date,authorization"));
	/* the second rule takes other origins, only GET and HEAD, no
	 * request headers */
	r = s3_cors_match(&c, "http://other.org", "GET", NULL);
	assert_non_null(r);
	assert_string_equal(r->id, "two");
	r = s3_cors_match(&c, "https://app.example.com", "HEAD", "");
	assert_string_equal(r->id, "two");
	assert_null(s3_cors_match(&c, "http://other.org", "PUT", NULL));
	assert_null(s3_cors_match(&c, "http://other.org", "GET", "x-a"));
	/* origins are case-sensitive; the wildcard needs its suffix */
	r = s3_cors_match(&c, "HTTPS://app.example.com", "PUT", NULL);
	assert_null(r);
	assert_null(s3_cors_match(&c, "https://example.com.evil", "PUT",
	    NULL));
	s3_cors_free(&c);
}

static void
test_headers(void **state)
{
	struct s3_cors c;
	struct hdrs h;

	(void)state;
	assert_int_equal(s3_xml_parse_cors(conf, strlen(conf), &c), S3_OK);
	memset(&h, 0, sizeof(h));
	s3_cors_headers(&c.rules[0], "https://a.example.com",
	    "X-Amz-Date , Content-Type", collect, &h);
	assert_string_equal(h.buf,
	    "Access-Control-Allow-Origin: https://a.example.com\n"
	    "Access-Control-Allow-Methods: GET, PUT\n"
	    "Access-Control-Allow-Credentials: true\n"
	    "Access-Control-Expose-Headers: ETag, x-amz-request-id\n"
	    "Access-Control-Max-Age: 600\n"
	    "Access-Control-Allow-Headers: x-amz-date, content-type\n"
	    "Vary: Origin, Access-Control-Request-Headers, "
	    "Access-Control-Request-Method\n");
	memset(&h, 0, sizeof(h));
	s3_cors_headers(&c.rules[1], "http://o.org", NULL, collect, &h);
	assert_string_equal(h.buf,
	    "Access-Control-Allow-Origin: *\n"
	    "Access-Control-Allow-Methods: GET, HEAD\n"
	    "Vary: Origin, Access-Control-Request-Headers, "
	    "Access-Control-Request-Method\n");
	s3_cors_free(&c);
}

static void
test_rules(void **state)
{
	struct s3_cors c;
	struct s3_cors_rule r;

	(void)state;
	memset(&c, 0, sizeof(c));
	s3_cors_rule_init(&r);
	assert_int_equal(s3_cors_add_rule(&c, &r), S3_ERR_MALFORMED_XML);
	assert_int_equal(s3_cors_list_add(&r.origins, "*", 1), ARK_OK);
	assert_int_equal(s3_cors_list_add(&r.methods, "DELETE", 6), ARK_OK);
	assert_int_equal(s3_cors_add_rule(&c, &r), S3_OK);
	assert_int_equal(r.origins.n, 0);
	assert_int_equal(c.nrules, 1);
	assert_int_equal(s3_cors_list_add(&r.origins, "*", 1), ARK_OK);
	assert_int_equal(s3_cors_list_add(&r.methods, "get", 3), ARK_OK);
	assert_int_equal(s3_cors_add_rule(&c, &r), S3_ERR_INVALID_REQUEST);
	assert_int_equal(r.methods.n, 0);
	assert_int_equal(c.nrules, 1);
	s3_cors_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
