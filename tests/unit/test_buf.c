/*
 * test_buf.c - ark_buf: growth, cap, printf, failure injection.
 * realloc is wrapped at link time (-Wl,--wrap=realloc) so a test can make
 * the n-th allocation fail.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"

void	*__real_realloc(void *, size_t);
void	*__wrap_realloc(void *, size_t);

static int fail_after = -1;	/* -1: never fail; n: fail the n-th call */

void *
__wrap_realloc(void *p, size_t n)
{
	if (fail_after >= 0 && fail_after-- == 0)
		return NULL;
	return __real_realloc(p, n);
}

static void
test_empty(void **state)
{
	struct ark_buf b;

	(void)state;
	ark_buf_init(&b, 16);
	assert_string_equal(ark_buf_str(&b), "");
	assert_int_equal(ark_buf_len(&b), 0);
	assert_int_equal(ark_buf_cap(&b), 16);
	ark_buf_reset(&b);
	ark_buf_free(&b);
	ark_buf_free(&b);
}

static void
test_append_grow(void **state)
{
	struct ark_buf	b;
	char		expect[1001];

	(void)state;
	ark_buf_init(&b, 1000);
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(ark_buf_append_byte(&b, (unsigned char)('a' + i % 26)),
		    ARK_OK);
		expect[i] = (char)('a' + i % 26);
	}
	expect[1000] = '\0';
	assert_int_equal(ark_buf_len(&b), 1000);
	assert_string_equal(ark_buf_str(&b), expect);
	/* Exactly at the cap: one more byte is too big, contents intact. */
	assert_int_equal(ark_buf_append_byte(&b, 'x'), ARK_ETOOBIG);
	assert_int_equal(ark_buf_append(&b, "", 0), ARK_OK);
	assert_int_equal(ark_buf_len(&b), 1000);
	assert_string_equal(ark_buf_str(&b), expect);
	ark_buf_free(&b);
}

static void
test_cap_exact(void **state)
{
	struct ark_buf b;

	(void)state;
	ark_buf_init(&b, 5);
	assert_int_equal(ark_buf_append_str(&b, "abc"), ARK_OK);
	assert_int_equal(ark_buf_append_str(&b, "def"), ARK_ETOOBIG);
	assert_string_equal(ark_buf_str(&b), "abc");
	assert_int_equal(ark_buf_append_str(&b, "de"), ARK_OK);
	assert_string_equal(ark_buf_str(&b), "abcde");
	assert_int_equal(ark_buf_append(&b, "z", SIZE_MAX), ARK_ETOOBIG);
	ark_buf_truncate(&b, 2);
	assert_string_equal(ark_buf_str(&b), "ab");
	ark_buf_truncate(&b, 10);
	assert_string_equal(ark_buf_str(&b), "ab");
	ark_buf_reset(&b);
	assert_string_equal(ark_buf_str(&b), "");
	assert_int_equal(ark_buf_append_str(&b, "12345"), ARK_OK);
	ark_buf_free(&b);
}

static void
test_printf(void **state)
{
	struct ark_buf b;

	(void)state;
	ark_buf_init(&b, 64);
	assert_int_equal(ark_buf_printf(&b, "%s=%d", "x", 42), ARK_OK);
	assert_int_equal(ark_buf_printf(&b, ";%s", ""), ARK_OK);
	assert_string_equal(ark_buf_str(&b), "x=42;");
	/* Long output that needs growth in one call. */
	assert_int_equal(ark_buf_printf(&b, "%40s", "y"), ARK_OK);
	assert_int_equal(ark_buf_len(&b), 45);
	/* Too big: nothing appended, still NUL-terminated at the old end. */
	assert_int_equal(ark_buf_printf(&b, "%40s", "z"), ARK_ETOOBIG);
	assert_int_equal(ark_buf_len(&b), 45);
	assert_int_equal(strlen(ark_buf_str(&b)), 45);
	assert_int_equal(ark_buf_printf(&b, "%19s", "w"), ARK_OK);
	assert_int_equal(ark_buf_len(&b), 64);
	assert_int_equal(ark_buf_printf(&b, "%s", "!"), ARK_ETOOBIG);
	assert_int_equal(ark_buf_printf(&b, "%s", ""), ARK_OK);
	ark_buf_free(&b);
}

static void
test_printf_fits_in_place(void **state)
{
	struct ark_buf b;

	(void)state;
	ark_buf_init(&b, 1 << 20);
	assert_int_equal(ark_buf_append_str(&b, "a"), ARK_OK);
	/* Fits in the existing allocation: no realloc at all. */
	fail_after = 0;
	assert_int_equal(ark_buf_printf(&b, "%d", 7), ARK_OK);
	fail_after = -1;
	assert_string_equal(ark_buf_str(&b), "a7");
	ark_buf_free(&b);
}

static void
test_enomem(void **state)
{
	struct ark_buf	b;
	char		big[300];

	(void)state;
	memset(big, 'q', sizeof(big));
	ark_buf_init(&b, 4096);
	fail_after = 0;
	assert_int_equal(ark_buf_append_str(&b, "hello"), ARK_ENOMEM);
	assert_string_equal(ark_buf_str(&b), "");
	assert_int_equal(ark_buf_append_str(&b, "hello"), ARK_OK);
	fail_after = 0;
	assert_int_equal(ark_buf_append(&b, big, sizeof(big)), ARK_ENOMEM);
	assert_string_equal(ark_buf_str(&b), "hello");
	fail_after = 0;
	assert_int_equal(ark_buf_printf(&b, "%300s", "p"), ARK_ENOMEM);
	assert_string_equal(ark_buf_str(&b), "hello");
	fail_after = -1;
	assert_int_equal(ark_buf_printf(&b, "%300s", "p"), ARK_OK);
	assert_int_equal(ark_buf_len(&b), 305);
	ark_buf_free(&b);
}

/* Torture: fail each allocation in turn; the result is either complete
 * or an error with the previous contents intact. */
static void
test_torture(void **state)
{
	(void)state;
	for (int n = 0; n < 20; n++) {
		struct ark_buf	b;
		size_t		ok = 0;

		ark_buf_init(&b, 100000);
		fail_after = n;
		for (int i = 0; i < 2000; i++) {
			enum ark_err rc = ark_buf_printf(&b, "%d,", i % 10);
			if (rc == ARK_OK)
				ok += 2;
			else
				assert_int_equal(rc, ARK_ENOMEM);
			assert_int_equal(ark_buf_len(&b), ok);
		}
		fail_after = -1;
		ark_buf_free(&b);
	}
}

static void
test_steal(void **state)
{
	struct ark_buf	b;
	char		*p;
	size_t		len;

	(void)state;
	ark_buf_init(&b, 32);
	p = ark_buf_steal(&b, &len);
	assert_non_null(p);
	assert_string_equal(p, "");
	assert_int_equal(len, 0);
	free(p);
	assert_int_equal(ark_buf_append_str(&b, "owned"), ARK_OK);
	p = ark_buf_steal(&b, &len);
	assert_string_equal(p, "owned");
	assert_int_equal(len, 5);
	assert_string_equal(ark_buf_str(&b), "");
	free(p);
	ark_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_append_grow),
		cmocka_unit_test(test_cap_exact),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_printf_fits_in_place),
		cmocka_unit_test(test_enomem),
		cmocka_unit_test(test_torture),
		cmocka_unit_test(test_steal),
	};

	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
