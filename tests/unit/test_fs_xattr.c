/*
 * test_fs_xattr.c - arkorfs's xattrs as S3 user metadata: the name and
 * value encodings (natural names and values stored as they are, others
 * percent-encoded / RFC 2047 words, all byte-exact), members an S3 client
 * set, the flags, the size budget (E2BIG, ENOSPC) and short buffers.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <cmocka.h>

#include <jansson.h>

#include "fs/fs_xattr.h"
#include "registry/meta.h"		/* META_JSON_MAX */

/* arkorfs checks the budget the registry enforces. */
_Static_assert(FSX_META_MAX == META_JSON_MAX, "user_meta budget");

/* The stored text of member key, or NULL. */
static const char *
stored(const json_t *m, const char *key)
{
	return json_string_value(json_object_get(m, key));
}

static void
test_natural(void **state)
{
	json_t	*m = json_object();
	char	 buf[64];

	(void)state;
	assert_int_equal(fsx_set(m, "user.color", "red", 3, 0), 0);
	/* What S3 returns as x-amz-meta-color: red. */
	assert_string_equal(stored(m, "color"), "red");
	assert_int_equal(fsx_get(m, "user.color", NULL, 0), 3);
	assert_int_equal(fsx_get(m, "user.color", buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "red", 3);
	assert_int_equal(fsx_get(m, "user.color", buf, 2), -ERANGE);
	assert_int_equal(fsx_list(m, NULL, 0), 11);
	assert_int_equal(fsx_list(m, buf, sizeof(buf)), 11);
	assert_memory_equal(buf, "user.color", 11);
	assert_int_equal(fsx_list(m, buf, 10), -ERANGE);
	json_decref(m);
}

static void
test_encoded(void **state)
{
	static const struct {
		const char	*name, *key;
		const char	*value;
		size_t		 len;
		const char	*text;	/* stored text; NULL: the value */
	} c[] = {
		{ "user.Name", "%4eame", "x", 1, NULL },
		{ "user.a b/%", "a%20b%2f%25", "", 0, NULL },
		{ "user.\xc3\xbc", "%c3%bc", " pad", 4, "=?UTF-8?B?IHBhZA==?=" },
		{ "user.eq", "eq", "=?x?B?eA==?=", 12,
		  "=?UTF-8?B?PT94P0I/ZUE9PT89?=" },
		{ "user.bin", "bin", "\0\x01\xff", 3, "=?UTF-8?B?AAH/?=" },
		{ "user.tab", "tab", "a\tb", 3, "=?UTF-8?B?YQli?=" },
	};
	json_t	*m = json_object();
	char	 buf[64], list[256];
	size_t	 i, off = 0;
	int	 n;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_int_equal(fsx_set(m, c[i].name, c[i].value, c[i].len,
		    0), 0);
		assert_non_null(stored(m, c[i].key));
		if (c[i].text != NULL)
			assert_string_equal(stored(m, c[i].key), c[i].text);
		else
			assert_string_equal(stored(m, c[i].key), c[i].value);
		assert_int_equal(fsx_get(m, c[i].name, buf, sizeof(buf)),
		    (int)c[i].len);
		assert_memory_equal(buf, c[i].value, c[i].len);
	}
	n = fsx_list(m, list, sizeof(list));
	assert_true(n > 0);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_string_equal(list + off, c[i].name);
		off += strlen(c[i].name) + 1;
	}
	assert_int_equal((size_t)n, off);
	json_decref(m);
}

static void
test_s3_members(void **state)
{
	json_t	*m;
	char	 buf[64];
	int	 n;

	(void)state;
	/* An S3 client's: a plain value, an encoded word (as S3 sends
	 * non-ASCII), keys with no attribute name, a non-string. */
	m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "author", "alice",
	    "city", "=?UTF-8?B?WsO8cmljaA==?=", "bad%zz", "x", "nul%00", "x",
	    "upper%4E", "x", "num", 1);
	assert_non_null(m);
	assert_int_equal(fsx_get(m, "user.city", buf, sizeof(buf)), 7);
	assert_memory_equal(buf, "Z\xc3\xbcrich", 7);
	n = fsx_list(m, buf, sizeof(buf));
	assert_int_equal(n, (int)sizeof("user.author") + (int)sizeof(
	    "user.city"));
	json_decref(m);
}

static void
test_flags_and_errors(void **state)
{
	json_t	*m = json_object();
	char	 buf[8];

	(void)state;
	assert_int_equal(fsx_set(m, "security.x", "1", 1, 0), -ENOTSUP);
	assert_int_equal(fsx_set(m, "trusted.x", "1", 1, 0), -ENOTSUP);
	assert_int_equal(fsx_get(m, "system.posix_acl_access", buf, 8),
	    -ENOTSUP);
	assert_int_equal(fsx_remove(m, "security.x"), -ENOTSUP);
	assert_int_equal(fsx_set(m, "user.", "1", 1, 0), -EINVAL);
	assert_int_equal(fsx_set(m, "user.k", "1", 1, XATTR_REPLACE),
	    -ENODATA);
	assert_int_equal(fsx_set(m, "user.k", "1", 1, XATTR_CREATE), 0);
	assert_int_equal(fsx_set(m, "user.k", "2", 1, XATTR_CREATE),
	    -EEXIST);
	assert_int_equal(fsx_set(m, "user.k", "3", 1, XATTR_REPLACE), 0);
	assert_string_equal(stored(m, "k"), "3");
	assert_int_equal(fsx_get(m, "user.none", buf, 8), -ENODATA);
	assert_int_equal(fsx_get(NULL, "user.k", buf, 8), -ENODATA);
	assert_int_equal(fsx_list(NULL, buf, 8), 0);
	assert_int_equal(fsx_remove(m, "user.none"), -ENODATA);
	assert_int_equal(fsx_remove(m, "user.k"), 0);
	assert_int_equal(json_object_size(m), 0);
	json_decref(m);
}

static void
test_budget(void **state)
{
	json_t	*m = json_object();
	char	*v = malloc(FSX_META_MAX);

	(void)state;
	memset(v, 'v', FSX_META_MAX);
	/* {"big":"..."} never fits: E2BIG. */
	assert_int_equal(fsx_set(m, "user.big", v, FSX_META_MAX - 8, 0),
	    -E2BIG);
	/* Exactly the budget fits: {"k":"<8184 v>"} is 8192 bytes. */
	assert_int_equal(fsx_set(m, "user.k", v, FSX_META_MAX - 8, 0), 0);
	assert_int_equal(fsx_set(m, "user.k", v, FSX_META_MAX - 7, 0),
	    -E2BIG);
	assert_int_equal(fsx_remove(m, "user.k"), 0);
	assert_int_equal(fsx_set(m, "user.a", v, 3000, 0), 0);
	assert_int_equal(fsx_set(m, "user.b", v, 3000, 0), 0);
	assert_int_equal(fsx_set(m, "user.c", v, 3000, 0), -ENOSPC);
	assert_null(json_object_get(m, "c"));	/* unchanged */
	/* A replacement that no longer fits keeps the old value. */
	assert_int_equal(fsx_set(m, "user.b", v, 6000, 0), -ENOSPC);
	assert_int_equal(fsx_get(m, "user.b", NULL, 0), 3000);
	json_decref(m);
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_natural),
		cmocka_unit_test(test_encoded),
		cmocka_unit_test(test_s3_members),
		cmocka_unit_test(test_flags_and_errors),
		cmocka_unit_test(test_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
