/*
 * test_util.c - err (every code named), log (line format, escaping,
 * errno, request id, levels, reopen) and util (hex, sizes, dates,
 * randomness, allocation helpers).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"

static void
test_err(void **state)
{
	(void)state;
	for (int e = 0; e < ARK_ERR_MAX; e++) {
		assert_non_null(ark_strerror(e));
		assert_true(strlen(ark_strerror(e)) > 0);
		assert_int_equal(strncmp(ark_errname(e), "ARK_", 4), 0);
		for (int f = 0; f < e; f++)
			assert_string_not_equal(ark_errname(e), ark_errname(f));
	}
	assert_string_equal(ark_errname(ARK_OK), "ARK_OK");
	assert_string_equal(ark_errname(ARK_ETOOBIG), "ARK_ETOOBIG");
	assert_string_equal(ark_strerror(ARK_ERR_MAX), "unknown error");
	assert_string_equal(ark_errname((enum ark_err)-1), "ARK_E?");
}

static char *
read_all(const char *path)
{
	FILE	*f = fopen(path, "r");
	char	*buf = ark_xcalloc(1, 65536);
	size_t	 n;

	assert_non_null(f);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
test_log(void **state)
{
	char	 tmpl[] = "/tmp/arkor-test-log.XXXXXX";
	int	 fd = mkstemp(tmpl);
	char	*s, *want;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	ark_log_init("/usr/sbin/arkor-test", ARK_LOG_INFO);
	assert_int_equal(ark_log_open(tmpl), 0);
	ark_log_info("hello %d", 42);
	ark_log_debug("not shown %d", 1);
	ark_log_set_reqid("req-7");
	errno = ENOENT;
	ark_log_warn("open %s", "x");
	assert_int_equal(errno, ENOENT);	/* preserved */
	ark_log_set_reqid(NULL);
	ark_log_warnx("line\nbreak\ttab");
	ark_log_set_level(ARK_LOG_DEBUG);
	assert_int_equal(ark_log_get_level(), ARK_LOG_DEBUG);
	ark_log_debug("dbg");
	ark_log_set_level(ARK_LOG_ERROR);
	ark_log_warnx("suppressed");
	ark_log_error("err");
	s = read_all(tmpl);
	want = ark_xasprintf(" arkor-test[%ld] INFO hello 42\n", (long)getpid());
	assert_non_null(strstr(s, want));
	free(want);
	want = ark_xasprintf(" arkor-test[%ld] WARN req=req-7 open x: %s\n",
	    (long)getpid(), strerror(ENOENT));
	assert_non_null(strstr(s, want));
	free(want);
	assert_non_null(strstr(s, " WARN line\\x0abreak\\x09tab\n"));
	assert_non_null(strstr(s, " DEBUG dbg\n"));
	assert_non_null(strstr(s, " ERROR err\n"));
	assert_null(strstr(s, "not shown"));
	assert_null(strstr(s, "suppressed"));
	/* One event = one line, each starting with an ISO timestamp. */
	{
		int lines = 0;
		for (char *p = s; *p; p++)
			lines += *p == '\n';
		assert_int_equal(lines, 5);
		assert_true(s[4] == '-' && s[10] == 'T' && s[23] == 'Z');
	}
	free(s);
	/* Reopen (rotation): the old name keeps its lines, the new gets new. */
	{
		char *rot = ark_xasprintf("%s.1", tmpl);

		assert_int_equal(rename(tmpl, rot), 0);
		assert_int_equal(ark_log_open(tmpl), 0);
		ark_log_error("after rotate");
		s = read_all(tmpl);
		assert_non_null(strstr(s, "after rotate"));
		free(s);
		s = read_all(rot);
		assert_null(strstr(s, "after rotate"));
		free(s);
		unlink(rot);
		free(rot);
	}
	/* Very long messages are cut, still one line. */
	{
		char big[5000];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		ark_log_error("%s", big);
		s = read_all(tmpl);
		assert_int_equal(s[strlen(s) - 1], '\n');
		assert_non_null(strchr(s, '\n'));
		free(s);
	}
	assert_int_equal(ark_log_open(NULL), 0);
	assert_int_equal(ark_log_open("/nonexistent/dir/log"), -1);
	unlink(tmpl);
	assert_int_equal(ark_log_level_parse("debug"), ARK_LOG_DEBUG);
	assert_int_equal(ark_log_level_parse("WARNING"), ARK_LOG_WARN);
	assert_int_equal(ark_log_level_parse("Error"), ARK_LOG_ERROR);
	assert_int_equal(ark_log_level_parse("loud"), -1);
}

/* FNV-1a 64 reference values (the FNV authors' test suite). */
static void
test_fnv1a(void **state)
{
	(void)state;
	assert_true(ark_fnv1a(ARK_FNV_INIT, "") == ARK_FNV_INIT);
	assert_true(ark_fnv1a(ARK_FNV_INIT, "a") == 0xaf63dc4c8601ec8cull);
	assert_true(ark_fnv1a(ARK_FNV_INIT, "foobar") ==
	    0x85944171f73967e8ull);
	/* chained calls hash the concatenation */
	assert_true(ark_fnv1a(ark_fnv1a(ARK_FNV_INIT, "foo"), "bar") ==
	    0x85944171f73967e8ull);
}

static void
test_hex(void **state)
{
	unsigned char	in[] = { 0x00, 0x01, 0xab, 0xff }, out[4];
	char		hex[9];

	(void)state;
	ark_hex_encode(in, 4, hex);
	assert_string_equal(hex, "0001abff");
	assert_int_equal(ark_hex_decode("0001ABff", 8, out, 4), ARK_OK);
	assert_memory_equal(in, out, 4);
	assert_int_equal(ark_hex_decode("0001abf", 7, out, 4), ARK_EINVAL);
	assert_int_equal(ark_hex_decode("0001abfg", 8, out, 4), ARK_EINVAL);
	assert_int_equal(ark_hex_decode("", 0, out, 0), ARK_OK);
	ark_hex_encode(in, 0, hex);
	assert_string_equal(hex, "");
}

static void
test_parse_size(void **state)
{
	static const struct { const char *s; uint64_t v; } ok[] = {
		{ "0", 0 }, { "1024", 1024 }, { "512k", 512 << 10 },
		{ "8M", 8 << 20 }, { "8MiB", 8 << 20 }, { "8mb", 8 << 20 },
		{ "4GiB", 4ull << 30 }, { "1T", 1ull << 40 }, { "7b", 7 },
		{ "3 KiB", 3 << 10 }, { "16777215TiB", 16777215ull << 40 },
	};
	static const char *const bad[] = { "", "k", "-1", "+1", " 1", "1.5M",
	    "8X", "8MiBs", "0x10", "16777216TiB", "99999999999999999999",
	    "1 ", "1k ", };
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < ARK_ARRAY_SIZE(ok); i++) {
		assert_int_equal(ark_parse_size(ok[i].s, &v), ARK_OK);
		assert_true(v == ok[i].v);
	}
	for (size_t i = 0; i < ARK_ARRAY_SIZE(bad); i++)
		assert_int_equal(ark_parse_size(bad[i], &v), ARK_EINVAL);
	assert_int_equal(ark_parse_size(NULL, &v), ARK_EINVAL);
}

static void
test_misc(void **state)
{
	char		 date[40], *s;
	unsigned char	 r1[32], r2[32];
	uint64_t	 t0, t1;

	(void)state;
	ark_http_date(784111777, date, sizeof(date));
	assert_string_equal(date, "Sun, 06 Nov 1994 08:49:37 GMT");
	ark_http_date(0, date, sizeof(date));
	assert_string_equal(date, "Thu, 01 Jan 1970 00:00:00 GMT");
	assert_int_equal(ark_random_bytes(r1, sizeof(r1)), ARK_OK);
	assert_int_equal(ark_random_bytes(r2, sizeof(r2)), ARK_OK);
	assert_memory_not_equal(r1, r2, sizeof(r1));
	assert_true(ark_random_u64() != ark_random_u64() ||
	    ark_random_u64() != ark_random_u64());
	(void)ark_random_u32();
	s = ark_xasprintf("%s-%d", "a", 5);
	assert_string_equal(s, "a-5");
	free(s);
	s = ark_xstrndup("abcdef", 3);
	assert_string_equal(s, "abc");
	free(s);
	s = ark_xrealloc(ark_xmalloc(0), 10);
	free(s);
	free(ark_xcalloc(0, 0));
	t0 = ark_mono_ns();
	t1 = ark_mono_ns();
	assert_true(t1 >= t0);
	assert_true(ark_now_ms() / 1000 - ark_now_s() <= 1);
	assert_true(ark_now_s() > 1700000000);
	assert_int_equal(ARK_MIN(3, 4), 3);
	assert_int_equal(ARK_MAX(3, 4), 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err),
		cmocka_unit_test(test_log),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_fnv1a),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_misc),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
