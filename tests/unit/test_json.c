/*
 * test_json.c - parsing limits and errors, strict field extraction,
 * unknown fields, compact dumps.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/json.h"

static json_t *
parse_ok(const char *s)
{
	struct ark_json_err	 e;
	json_t			*v = NULL;

	assert_int_equal(ark_json_parse_object(s, strlen(s), 4096, &v, &e),
	    ARK_OK);
	return v;
}

static void
test_parse_errors(void **state)
{
	struct ark_json_err	 e;
	json_t			*v = NULL;
	const char		*s;

	(void)state;
	s = "{\"a\": 1,\n \"b\": }";
	assert_int_equal(ark_json_parse(s, strlen(s), 4096, &v, &e), ARK_EPROTO);
	assert_non_null(strstr(e.msg, "line 2"));
	assert_non_null(strstr(e.msg, "column"));
	assert_null(v);

	s = "{\"a\": 1} trailing";
	assert_int_equal(ark_json_parse(s, strlen(s), 4096, &v, &e), ARK_EPROTO);
	s = "{\"a\": 1, \"a\": 2}";
	assert_int_equal(ark_json_parse(s, strlen(s), 4096, &v, &e), ARK_EPROTO);
	assert_non_null(strstr(e.msg, "duplicate"));
	assert_int_equal(ark_json_parse("", 0, 4096, &v, &e), ARK_EPROTO);
	assert_non_null(strstr(e.msg, "empty"));
	s = "{\"a\": \"\\u0000\"}";
	assert_int_equal(ark_json_parse(s, strlen(s), 4096, &v, &e), ARK_EPROTO);
	/* Not NUL-terminated: only len bytes are read. */
	assert_int_equal(ark_json_parse("[1]xxxx", 3, 4096, &v, &e), ARK_OK);
	json_decref(v);

	/* Oversize. */
	s = "{\"a\": \"0123456789\"}";
	assert_int_equal(ark_json_parse(s, strlen(s), 10, &v, &e), ARK_ETOOBIG);
	assert_non_null(strstr(e.msg, "limit is 10"));
	assert_int_equal(ark_json_parse(s, strlen(s), strlen(s), &v, &e), ARK_OK);
	json_decref(v);

	/* Top level must be an object. */
	assert_int_equal(ark_json_parse_object("[1]", 3, 100, &v, &e),
	    ARK_EINVAL);
	assert_string_equal(e.msg, "expected a JSON object, got array");
	/* Deep nesting is an error, not a stack overflow. */
	{
		size_t	 n = 100000;
		char	*deep = malloc(n);

		assert_non_null(deep);
		memset(deep, '[', n);
		assert_int_equal(ark_json_parse(deep, n, n, &v, &e), ARK_EPROTO);
		assert_non_null(strstr(e.msg, "depth"));
		free(deep);
	}
	/* NULL error struct is allowed. */
	assert_int_equal(ark_json_parse("{", 1, 100, &v, NULL), ARK_EPROTO);
}

static void
test_get_fields(void **state)
{
	json_t			*o, *a = NULL, *sub = NULL;
	struct ark_json_err	 e;
	const char		*str = NULL;
	int64_t			 n = 0;
	bool			 b = false;

	(void)state;
	o = parse_ok("{\"name\":\"bucket\",\"size\":42,\"neg\":-5,"
	    "\"flag\":true,\"list\":[1,2,3],\"obj\":{\"x\":1},\"nul\":null,"
	    "\"real\":1.0,\"big\":9223372036854775807}");
	assert_int_equal(ark_json_get_str(o, "name", ARK_JSON_REQUIRED, 64,
	    &str, &e), ARK_OK);
	assert_string_equal(str, "bucket");
	assert_int_equal(ark_json_get_int(o, "size", ARK_JSON_REQUIRED, 0, 100,
	    &n, &e), ARK_OK);
	assert_int_equal(n, 42);
	assert_int_equal(ark_json_get_int(o, "neg", ARK_JSON_REQUIRED,
	    INT64_MIN, 0, &n, &e), ARK_OK);
	assert_int_equal(n, -5);
	assert_int_equal(ark_json_get_int(o, "big", ARK_JSON_REQUIRED,
	    INT64_MIN, INT64_MAX, &n, &e), ARK_OK);
	assert_true(n == INT64_MAX);
	assert_int_equal(ark_json_get_bool(o, "flag", ARK_JSON_REQUIRED, &b, &e),
	    ARK_OK);
	assert_true(b);
	assert_int_equal(ark_json_get_array(o, "list", ARK_JSON_REQUIRED, 3, &a,
	    &e), ARK_OK);
	assert_int_equal(json_array_size(a), 3);
	assert_int_equal(ark_json_get_object(o, "obj", ARK_JSON_REQUIRED, &sub,
	    &e), ARK_OK);
	assert_int_equal(ark_json_get_int(sub, "x", ARK_JSON_REQUIRED, 0, 1, &n,
	    &e), ARK_OK);
	assert_int_equal(n, 1);

	/* Optional and missing: OK, output untouched. */
	str = "default";
	assert_int_equal(ark_json_get_str(o, "absent", ARK_JSON_OPTIONAL, 0,
	    &str, &e), ARK_OK);
	assert_string_equal(str, "default");
	n = 7;
	assert_int_equal(ark_json_get_int(o, "absent", ARK_JSON_OPTIONAL, 0, 9,
	    &n, &e), ARK_OK);
	assert_int_equal(n, 7);
	assert_int_equal(ark_json_get_bool(o, "absent", ARK_JSON_OPTIONAL, &b,
	    &e), ARK_OK);
	assert_int_equal(ark_json_get_array(o, "absent", ARK_JSON_OPTIONAL, 0,
	    &a, &e), ARK_OK);
	assert_int_equal(ark_json_get_object(o, "absent", ARK_JSON_OPTIONAL,
	    &sub, &e), ARK_OK);

	/* Missing required. */
	assert_int_equal(ark_json_get_str(o, "absent", ARK_JSON_REQUIRED, 0,
	    &str, &e), ARK_ENOENT);
	assert_string_equal(e.msg, "missing required field \"absent\"");
	assert_int_equal(ark_json_get_int(o, "absent", ARK_JSON_REQUIRED, 0, 1,
	    &n, &e), ARK_ENOENT);
	assert_int_equal(ark_json_get_bool(o, "absent", ARK_JSON_REQUIRED, &b,
	    &e), ARK_ENOENT);
	assert_int_equal(ark_json_get_array(o, "absent", ARK_JSON_REQUIRED, 0,
	    &a, &e), ARK_ENOENT);
	assert_int_equal(ark_json_get_object(o, "absent", ARK_JSON_REQUIRED,
	    &sub, &e), ARK_ENOENT);
	json_decref(o);
}

static void
test_wrong_types(void **state)
{
	json_t			*o, *a;
	struct ark_json_err	 e;
	const char		*str;
	int64_t			 n;
	bool			 b;

	(void)state;
	o = parse_ok("{\"name\":\"bucket\",\"size\":42,\"flag\":true,"
	    "\"list\":[],\"obj\":{},\"nul\":null,\"real\":1.0}");
	assert_int_equal(ark_json_get_str(o, "size", 1, 0, &str, &e),
	    ARK_EINVAL);
	assert_string_equal(e.msg, "field \"size\": expected string, got integer");
	assert_int_equal(ark_json_get_int(o, "name", 1, 0, 9, &n, &e),
	    ARK_EINVAL);
	assert_string_equal(e.msg, "field \"name\": expected integer, got string");
	assert_int_equal(ark_json_get_int(o, "real", 1, 0, 9, &n, &e),
	    ARK_EINVAL);
	assert_string_equal(e.msg, "field \"real\": expected integer, got number");
	assert_int_equal(ark_json_get_bool(o, "size", 1, &b, &e), ARK_EINVAL);
	assert_string_equal(e.msg, "field \"size\": expected boolean, got integer");
	assert_int_equal(ark_json_get_array(o, "obj", 1, 0, &a, &e),
	    ARK_EINVAL);
	assert_string_equal(e.msg, "field \"obj\": expected array, got object");
	assert_int_equal(ark_json_get_object(o, "list", 1, &a, &e),
	    ARK_EINVAL);
	assert_string_equal(e.msg, "field \"list\": expected object, got array");
	/* null is a wrong type even for optional fields. */
	assert_int_equal(ark_json_get_str(o, "nul", 0, 0, &str, &e),
	    ARK_EINVAL);
	assert_string_equal(e.msg, "field \"nul\": expected string, got null");
	assert_int_equal(ark_json_get_bool(o, "flag", 1, &b, &e), ARK_OK);
	/* The enclosing value must be an object. */
	assert_int_equal(ark_json_get_str(json_object_get(o, "list"), "x", 1, 0,
	    &str, &e), ARK_EINVAL);
	json_decref(o);
}

static void
test_bounds(void **state)
{
	json_t			*o, *a;
	struct ark_json_err	 e;
	const char		*str;
	int64_t			 n;

	(void)state;
	o = parse_ok("{\"s\":\"abcdef\",\"n\":10,\"m\":-1,\"l\":[1,2,3,4]}");
	assert_int_equal(ark_json_get_str(o, "s", 1, 6, &str, &e), ARK_OK);
	assert_int_equal(ark_json_get_str(o, "s", 1, 5, &str, &e), ARK_ETOOBIG);
	assert_string_equal(e.msg, "field \"s\": string of 6 bytes is longer "
	    "than the limit of 5");
	assert_int_equal(ark_json_get_int(o, "n", 1, 0, 10, &n, &e), ARK_OK);
	assert_int_equal(ark_json_get_int(o, "n", 1, 0, 9, &n, &e), ARK_EINVAL);
	assert_string_equal(e.msg, "field \"n\": 10 is out of range [0, 9]");
	assert_int_equal(ark_json_get_int(o, "m", 1, 0, 9, &n, &e), ARK_EINVAL);
	assert_int_equal(ark_json_get_array(o, "l", 1, 4, &a, &e), ARK_OK);
	assert_int_equal(ark_json_get_array(o, "l", 1, 3, &a, &e), ARK_EINVAL);
	assert_non_null(strstr(e.msg, "\"l\""));
	json_decref(o);
}

static void
test_unknown_fields(void **state)
{
	static const char *const allowed[] = { "bucket", "key", "size", NULL };
	static const char *const none[] = { NULL };
	struct ark_json_err	 e;
	json_t			*o;

	(void)state;
	o = parse_ok("{\"bucket\":\"b\",\"key\":\"k\"}");
	assert_int_equal(ark_json_check_keys(o, allowed, &e), ARK_OK);
	assert_int_equal(ark_json_check_keys(o, none, &e), ARK_EINVAL);
	json_decref(o);
	o = parse_ok("{\"bucket\":\"b\",\"kye\":\"k\"}");
	assert_int_equal(ark_json_check_keys(o, allowed, &e), ARK_EINVAL);
	assert_string_equal(e.msg, "unknown field \"kye\"");
	json_decref(o);
	o = parse_ok("{}");
	assert_int_equal(ark_json_check_keys(o, none, &e), ARK_OK);
	json_decref(o);
	o = json_array();
	assert_int_equal(ark_json_check_keys(o, allowed, &e), ARK_EINVAL);
	json_decref(o);
}

static void
test_dump(void **state)
{
	struct ark_buf	 b;
	json_t		*o;
	char		*s;
	size_t		 len;

	(void)state;
	o = json_pack("{s:s, s:i, s:[b,n], s:{}}", "z", "last\"q", "a", 1,
	    "arr", 1, "obj");
	assert_non_null(o);
	s = ark_json_dump(o, &len);
	assert_non_null(s);
	assert_string_equal(s,
	    "{\"z\":\"last\\\"q\",\"a\":1,\"arr\":[true,null],\"obj\":{}}");
	assert_int_equal(len, strlen(s));
	ark_buf_init(&b, 1024);
	assert_int_equal(ark_buf_append_str(&b, "x"), ARK_OK);
	assert_int_equal(ark_json_dump_buf(o, &b), ARK_OK);
	assert_int_equal(strcmp(ark_buf_str(&b) + 1, s), 0);
	ark_buf_free(&b);
	ark_buf_init(&b, 10);
	assert_int_equal(ark_json_dump_buf(o, &b), ARK_ETOOBIG);
	ark_buf_free(&b);
	free(s);
	json_decref(o);
	/* Non-object values too. */
	o = json_integer(5);
	s = ark_json_dump(o, NULL);
	assert_string_equal(s, "5");
	free(s);
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_get_fields),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_dump),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
