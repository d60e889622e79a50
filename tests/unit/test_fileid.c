/*
 * test_fileid.c - FileID text: round trips at the limits, and every
 * non-canonical spelling refused.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/fileid.h"

static void
roundtrip(uint32_t g, uint64_t k, uint32_t c, const char *want)
{
	struct ark_fid	f = { g, k, c }, p;
	char		buf[ARK_FID_MAXLEN];
	size_t		n;

	n = ark_fid_format(&f, buf, sizeof(buf));
	assert_int_equal(n, strlen(want));
	assert_string_equal(buf, want);
	assert_int_equal(ark_fid_parse_str(buf, &p), ARK_OK);
	assert_int_equal(p.group, g);
	assert_true(p.key == k);
	assert_int_equal(p.cookie, c);
}

static void
test_roundtrip(void **state)
{
	(void)state;
	roundtrip(3, 0x1637037d6, 0xa1b2c3d4, "3,1637037d6a1b2c3d4");
	roundtrip(0, 0, 0, "0,000000000");
	roundtrip(1, 1, 1, "1,100000001");
	roundtrip(UINT32_MAX, UINT64_MAX, UINT32_MAX,
	    "4294967295,ffffffffffffffffffffffff");
	assert_int_equal(strlen("4294967295,ffffffffffffffffffffffff") + 1,
	    ARK_FID_MAXLEN);
}

static void
test_reject(void **state)
{
	static const char *bad[] = {
		"", ",", "3", "3,", "3,12345678",	/* no key digit */
		"03,1637037d6a1b2c3d4",			/* group leading 0 */
		"3,01637037d6a1b2c3d4",			/* key leading 0 */
		"3,1637037D6a1b2c3d4",			/* upper case */
		"4294967296,100000001",			/* group overflow */
		"3,1ffffffffffffffff00000000",		/* key > 16 digits */
		"-3,100000001", "+3,100000001", " 3,100000001",
		"3,100000001 ", "3;100000001", "3,10000000g",
		"3,100000001,", "a,100000001",
		"4294967295,ffffffffffffffffffffffff0",	/* too long */
	};
	struct ark_fid	f = { 7, 7, 7 };
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ark_fid_parse_str(bad[i], &f) != ARK_EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(f.group, 7);
	}
	assert_int_equal(ark_fid_parse_str(NULL, &f), ARK_EINVAL);
	/* length-bounded parse ignores what follows */
	assert_int_equal(ark_fid_parse("5,abc12345678xyz", 13, &f), ARK_OK);
	assert_int_equal(f.group, 5);
	assert_true(f.key == 0xabc);
	assert_int_equal(f.cookie, 0x12345678);
}

static void
test_short_buffer(void **state)
{
	struct ark_fid	f = { 12, 0xabc, 1 };
	char		buf[8];

	(void)state;
	assert_int_equal(ark_fid_format(&f, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_reject),
		cmocka_unit_test(test_short_buffer),
	};

	return cmocka_run_group_tests_name("fileid", tests, NULL, NULL);
}
