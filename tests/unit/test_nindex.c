/*
 * test_nindex.c - the needle index: basic operations, a randomized
 * comparison against a plain array over a small key space (exercises Robin
 * Hood displacement and backward-shift deletion), and 1 million keys with
 * growth, lookups, deletions, reserve and the memory per entry.
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

#include "data/nindex.h"

static void
test_basic(void **state)
{
	struct nindex *ix;
	uint64_t v, old;

	(void)state;
	assert_int_equal(nindex_new(0, &ix), ARK_OK);
	assert_int_equal(nindex_count(ix), 0);
	assert_false(nindex_get(ix, 1, &v));
	assert_int_equal(nindex_put(ix, 1, 0, NULL), ARK_EINVAL);
	assert_int_equal(nindex_put(ix, 0, 10, &old), ARK_OK);
	assert_int_equal(old, 0);
	assert_int_equal(nindex_put(ix, UINT64_MAX, 11, NULL), ARK_OK);
	assert_int_equal(nindex_put(ix, 0, 12, &old), ARK_OK);
	assert_int_equal(old, 10);
	assert_int_equal(nindex_count(ix), 2);
	assert_true(nindex_get(ix, 0, &v));
	assert_int_equal(v, 12);
	assert_true(nindex_get(ix, UINT64_MAX, &v));
	assert_int_equal(v, 11);
	assert_true(nindex_del(ix, 0, &old));
	assert_int_equal(old, 12);
	assert_false(nindex_del(ix, 0, NULL));
	assert_false(nindex_get(ix, 0, NULL));
	assert_int_equal(nindex_count(ix), 1);
	nindex_free(ix);
	nindex_free(NULL);
}

static void
test_random_vs_array(void **state)
{
	enum { NKEYS = 2048, OPS = 200000 };
	static uint64_t ref[NKEYS];
	struct nindex *ix;
	uint64_t x = 88172645463325252ULL, v;
	size_t count = 0;

	(void)state;
	memset(ref, 0, sizeof(ref));
	assert_int_equal(nindex_new(0, &ix), ARK_OK);
	for (int i = 0; i < OPS; i++) {
		uint64_t k;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = x % NKEYS;
		switch ((x >> 32) % 3) {
		case 0:
		case 1:
			if (ref[k] == 0)
				count++;
			ref[k] = (x >> 8) | 1;
			assert_int_equal(nindex_put(ix, k * 0x10001, ref[k],
			    NULL), ARK_OK);
			break;
		default:
			assert_int_equal(nindex_del(ix, k * 0x10001, NULL),
			    ref[k] != 0);
			if (ref[k] != 0)
				count--;
			ref[k] = 0;
			break;
		}
		if (i % 10007 == 0)
			for (uint64_t j = 0; j < NKEYS; j++) {
				int f = nindex_get(ix, j * 0x10001, &v);

				assert_int_equal(f, ref[j] != 0);
				if (f)
					assert_int_equal(v, ref[j]);
			}
	}
	assert_int_equal(nindex_count(ix), count);
	nindex_free(ix);
}

static void
test_million(void **state)
{
	enum { N = 1000000 };
	struct nindex *ix;
	uint64_t v;
	size_t cap0;
	double bpe;

	(void)state;
	assert_int_equal(nindex_new(0, &ix), ARK_OK);
	cap0 = nindex_capacity(ix);
	for (uint64_t k = 1; k <= N; k++)
		assert_int_equal(nindex_put(ix, k * 7919, k, NULL), ARK_OK);
	assert_int_equal(nindex_count(ix), N);
	assert_true(nindex_capacity(ix) > cap0);	/* it resized */
	bpe = (double)nindex_mem_bytes(ix) / N;
	printf("# nindex: %d keys, capacity %zu, %zu bytes, %.2f bytes/key\n",
	    N, nindex_capacity(ix), nindex_mem_bytes(ix), bpe);
	assert_true(bpe <= 24.0);
	for (uint64_t k = 1; k <= N; k++) {
		assert_true(nindex_get(ix, k * 7919, &v));
		assert_int_equal(v, k);
	}
	assert_false(nindex_get(ix, 7918, NULL));
	for (uint64_t k = 1; k <= N; k += 2)
		assert_true(nindex_del(ix, k * 7919, NULL));
	assert_int_equal(nindex_count(ix), N / 2);
	for (uint64_t k = 1; k <= N; k++)
		assert_int_equal(nindex_get(ix, k * 7919, NULL), k % 2 == 0);
	nindex_free(ix);

	/* Presized: no growth, and still within the budget. */
	assert_int_equal(nindex_new(N, &ix), ARK_OK);
	cap0 = nindex_capacity(ix);
	for (uint64_t k = 1; k <= N; k++)
		assert_int_equal(nindex_put(ix, k, k, NULL), ARK_OK);
	assert_int_equal(nindex_capacity(ix), cap0);
	assert_true((double)nindex_mem_bytes(ix) / N <= 24.0);
	nindex_free(ix);

	/* Reserve on a populated table keeps every entry. */
	assert_int_equal(nindex_new(0, &ix), ARK_OK);
	for (uint64_t k = 1; k <= 1000; k++)
		assert_int_equal(nindex_put(ix, k, k, NULL), ARK_OK);
	assert_int_equal(nindex_reserve(ix, N), ARK_OK);
	cap0 = nindex_capacity(ix);
	assert_true(cap0 >= N);
	assert_int_equal(nindex_reserve(ix, 10), ARK_OK);
	assert_int_equal(nindex_capacity(ix), cap0);
	for (uint64_t k = 1; k <= 1000; k++) {
		assert_true(nindex_get(ix, k, &v));
		assert_int_equal(v, k);
	}
	nindex_free(ix);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_random_vs_array),
		cmocka_unit_test(test_million),
	};

	return cmocka_run_group_tests_name("nindex", tests, NULL, NULL);
}
