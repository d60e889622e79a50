/*
 * test_od_lfs.c - the Git LFS endpoint grammar (od_lfs_url.c): paths,
 * repository rules, object keys and lock namespaces, transfer tokens
 * (bound to operation, repository, oid, size and expiry), RFC 3339 times
 * and HTTP Basic credentials.
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

#include "common/token.h"
#include "object/od_lfs.h"

#define OID "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

static void
test_paths(void **state)
{
	struct lfs_path p;
	const char *why = NULL;

	(void)state;
	assert_int_equal(lfs_path_parse("/lfs/games/team/game.git/info/lfs/"
	    "objects/batch", &p, &why), ARK_OK);
	assert_string_equal(p.bucket, "games");
	assert_string_equal(p.repo, "team/game");
	assert_int_equal(p.ep, LFS_EP_BATCH);
	assert_int_equal(p.base_len, strlen("/lfs/games/team/game.git/info/lfs"));

	assert_int_equal(lfs_path_parse("/lfs/games/a/b/c/info/lfs/objects/"
	    OID, &p, &why), ARK_OK);
	assert_string_equal(p.repo, "a/b/c");
	assert_int_equal(p.ep, LFS_EP_OBJECT);
	assert_string_equal(p.oid, OID);

	assert_int_equal(lfs_path_parse("/lfs/games/info/lfs/locks", &p, &why),
	    ARK_OK);
	assert_string_equal(p.repo, "");
	assert_int_equal(p.ep, LFS_EP_LOCKS);
	assert_int_equal(lfs_path_parse("/lfs/games/r/info/lfs/locks/verify",
	    &p, &why), ARK_OK);
	assert_int_equal(p.ep, LFS_EP_LOCKS_VERIFY);
	assert_int_equal(lfs_path_parse("/lfs/games/r/info/lfs/locks/"
	    "abc123/unlock", &p, &why), ARK_OK);
	assert_int_equal(p.ep, LFS_EP_UNLOCK);
	assert_string_equal(p.lock_id, "abc123");
	assert_int_equal(lfs_path_parse("/lfs/games/r/info/lfs/verify", &p,
	    &why), ARK_OK);
	assert_int_equal(p.ep, LFS_EP_VERIFY);
	/* "info/lfs" inside a segment name is not the marker */
	assert_int_equal(lfs_path_parse("/lfs/games/x/info/lfsy/info/lfs/"
	    "locks", &p, &why), ARK_OK);
	assert_string_equal(p.repo, "x/info/lfsy");

	/* refused */
	assert_int_equal(lfs_path_parse("/s3/games/r/info/lfs/locks", &p,
	    &why), ARK_EINVAL);
	assert_int_equal(lfs_path_parse("/lfs/Games/r/info/lfs/locks", &p,
	    &why), ARK_EINVAL);
	assert_int_equal(lfs_path_parse("/lfs/games/../x/info/lfs/locks", &p,
	    &why), ARK_EINVAL);
	assert_int_equal(lfs_path_parse("/lfs/games/a//b/info/lfs/locks", &p,
	    &why), ARK_EINVAL);
	assert_int_equal(lfs_path_parse("/lfs/games/a%20b/info/lfs/locks", &p,
	    &why), ARK_EINVAL);
	assert_int_equal(lfs_path_parse("/lfs/games/r/info/lfs/objects/"
	    "ABCD", &p, &why), ARK_EINVAL);
	assert_int_equal(lfs_path_parse("/lfs/games/r/info/lfs/objects/"
	    OID "0", &p, &why), ARK_EINVAL);
	assert_int_equal(lfs_path_parse("/lfs/games/r/info/lfs/nothing", &p,
	    &why), ARK_EINVAL);
	assert_int_equal(lfs_path_parse("/lfs/games/r/info/lfs/locks/a.b/"
	    "unlock", &p, &why), ARK_EINVAL);
	assert_int_equal(lfs_path_parse("/lfs/games/r/info/lfs", &p, &why),
	    ARK_EINVAL);
	assert_non_null(why);
}

static void
test_keys(void **state)
{
	struct lfs_path p;
	char k[LFS_KEY_MAX], ns[LFS_REPO_MAX + 80];

	(void)state;
	assert_int_equal(lfs_path_parse("/lfs/games/team/game/info/lfs/locks",
	    &p, NULL), ARK_OK);
	lfs_object_key(&p, OID, k, sizeof(k));
	assert_string_equal(k, "team/game/lfs/objects/2c/f2/" OID);
	lfs_namespace(&p, ns, sizeof(ns));
	assert_string_equal(ns, "games/team/game");
	assert_int_equal(lfs_path_parse("/lfs/games/info/lfs/locks", &p, NULL),
	    ARK_OK);
	lfs_object_key(&p, OID, k, sizeof(k));
	assert_string_equal(k, "lfs/objects/2c/f2/" OID);
	lfs_namespace(&p, ns, sizeof(ns));
	assert_string_equal(ns, "games");
	assert_true(lfs_oid_valid(OID));
	assert_false(lfs_oid_valid("2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1"
	    "FA7425E73043362938B9824"));
	assert_false(lfs_oid_valid("abc"));
}

static void
test_tokens(void **state)
{
	struct ark_secret s, s2;
	struct lfs_path p, q;
	char h[LFS_AUTH_MAX];
	const char *tok;
	uint64_t size;

	(void)state;
	assert_int_equal(ark_secret_set(&s, "0123456789abcdef0123456789abcdef",
	    32), ARK_OK);
	assert_int_equal(ark_secret_set(&s2, "x123456789abcdef0123456789abcdef",
	    32), ARK_OK);
	assert_int_equal(lfs_path_parse("/lfs/games/r/info/lfs/locks", &p,
	    NULL), ARK_OK);
	assert_int_equal(lfs_path_parse("/lfs/games/other/info/lfs/locks", &q,
	    NULL), ARK_OK);
	assert_int_equal(lfs_token_header(&s, ARK_TOKEN_WRITE, &p, OID, 5,
	    1000, h, sizeof(h)), ARK_OK);
	assert_int_equal(strncmp(h, "Arkor-LFS 5 ", 12), 0);
	assert_int_equal(lfs_token_parse(h, &size, &tok), ARK_OK);
	assert_int_equal(size, 5);
	assert_int_equal(lfs_token_check(&s, ARK_TOKEN_WRITE, &p, OID, 5, tok,
	    999), ARK_OK);
	assert_int_equal(lfs_token_check(&s, ARK_TOKEN_WRITE, &p, OID, 5, tok,
	    1001), ARK_EEXPIRED);
	assert_int_equal(lfs_token_check(&s, ARK_TOKEN_READ, &p, OID, 5, tok,
	    999), ARK_EPERM);
	assert_int_equal(lfs_token_check(&s, ARK_TOKEN_WRITE, &p, OID, 6, tok,
	    999), ARK_EPERM);
	assert_int_equal(lfs_token_check(&s, ARK_TOKEN_WRITE, &q, OID, 5, tok,
	    999), ARK_EPERM);
	assert_int_equal(lfs_token_check(&s2, ARK_TOKEN_WRITE, &p, OID, 5, tok,
	    999), ARK_EPERM);
	assert_int_equal(lfs_token_parse("Arkor-LFS x tok", &size, &tok),
	    ARK_EPROTO);
	assert_int_equal(lfs_token_parse("Arkor-LFS 5", &size, &tok),
	    ARK_EPROTO);
	assert_int_equal(lfs_token_parse("Basic abc", &size, &tok),
	    ARK_EPROTO);
	assert_int_equal(lfs_token_parse("Arkor-LFS 99999999999999999999 t",
	    &size, &tok), ARK_EPROTO);
	ark_secret_wipe(&s);
	ark_secret_wipe(&s2);
}

static void
test_encodings(void **state)
{
	char t[32], id[32], sec[64];

	(void)state;
	lfs_rfc3339(1767225600123, t, sizeof(t));
	assert_string_equal(t, "2026-01-01T00:00:00Z");
	/* "AKID:se:cret" */
	assert_int_equal(lfs_basic_parse("Basic QUtJRDpzZTpjcmV0", id,
	    sizeof(id), sec, sizeof(sec)), ARK_OK);
	assert_string_equal(id, "AKID");
	assert_string_equal(sec, "se:cret");
	assert_int_equal(lfs_basic_parse("basic  QUtJRDpzZTpjcmV0 ", id,
	    sizeof(id), sec, sizeof(sec)), ARK_OK);
	/* "nocolon" */
	assert_int_equal(lfs_basic_parse("Basic bm9jb2xvbg==", id, sizeof(id),
	    sec, sizeof(sec)), ARK_EPROTO);
	assert_int_equal(lfs_basic_parse("Basic !!!", id, sizeof(id), sec,
	    sizeof(sec)), ARK_EPROTO);
	assert_int_equal(lfs_basic_parse("Bearer x", id, sizeof(id), sec,
	    sizeof(sec)), ARK_EPROTO);
	assert_int_equal(lfs_basic_parse("Basic QUtJRDpzZTpjcmV0", id, 4, sec,
	    sizeof(sec)), ARK_ETOOBIG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_encodings),
	};

	return cmocka_run_group_tests_name("od_lfs", tests, NULL, NULL);
}
