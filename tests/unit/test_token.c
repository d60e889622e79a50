/*
 * test_token.c - token round trip, tampering, expiry, malformed text, and
 * the cluster secret file (creation, permissions, formats).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/cksum.h"
#include "common/token.h"
#include "common/util.h"

#define FID	"3,01637037d6a1b2c3d4"
#define NOW	1700000000

static struct ark_secret secret;

static int
setup(void **state)
{
	char	*dir = ark_xstrdup("/tmp/arkor-test-token.XXXXXX");

	if (mkdtemp(dir) == NULL)
		return -1;
	*state = dir;
	ark_log_init("test_token", ARK_LOG_ERROR);
	return ark_secret_set(&secret, "0123456789abcdef0123456789abcdef",
	    32) == ARK_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	char *cmd = ark_xasprintf("rm -rf '%s'", (char *)*state);
	int rc = system(cmd);

	free(cmd);
	free(*state);
	return rc == 0 ? 0 : -1;
}

static void
test_roundtrip(void **state)
{
	char tok[ARK_TOKEN_MAXLEN];

	(void)state;
	assert_int_equal(ark_token_mint(&secret, ARK_TOKEN_READ, FID, NOW + 60,
	    tok, sizeof(tok)), ARK_OK);
	assert_int_equal(strlen(tok), 10 + 1 + 43);
	assert_int_equal(strncmp(tok, "1700000060.", 11), 0);
	assert_null(strpbrk(tok, "+/= %&"));
	assert_int_equal(ark_token_verify(&secret, ARK_TOKEN_READ, FID, tok, NOW),
	    ARK_OK);
	/* Valid up to and including the expiry second. */
	assert_int_equal(ark_token_verify(&secret, ARK_TOKEN_READ, FID, tok,
	    NOW + 60), ARK_OK);
	/* Deterministic. */
	{
		char again[ARK_TOKEN_MAXLEN];
		assert_int_equal(ark_token_mint(&secret, ARK_TOKEN_READ, FID,
		    NOW + 60, again, sizeof(again)), ARK_OK);
		assert_string_equal(tok, again);
	}
	for (int op = ARK_TOKEN_READ; op <= ARK_TOKEN_ADMIN; op++) {
		assert_int_equal(ark_token_mint(&secret, op, FID, 0, tok,
		    sizeof(tok)), ARK_OK);
		assert_int_equal(ark_token_verify(&secret, op, FID, tok, 0),
		    ARK_OK);
		assert_non_null(ark_token_op_name(op));
	}
	assert_int_equal(ark_token_mint(&secret, ARK_TOKEN_READ, FID, INT64_MAX,
	    tok, sizeof(tok)), ARK_OK);
	assert_int_equal(ark_token_verify(&secret, ARK_TOKEN_READ, FID, tok,
	    NOW), ARK_OK);
}

/* The token text computed independently with one-shot HMAC(). */
static void
reference_token(const struct ark_secret *s, const char *op, const char *fid,
    long long expiry, char *out)
{
	unsigned char	msg[512], mac[32];
	unsigned int	maclen = 0;
	int		n;

	n = snprintf((char *)msg, sizeof(msg), "arkor-token-v1%c%s%c%lld%c%s",
	    0, op, 0, expiry, 0, fid);
	assert_non_null(HMAC(EVP_sha256(), s->key, (int)s->len, msg,
	    (size_t)n, mac, &maclen));
	n = snprintf(out, ARK_TOKEN_MAXLEN, "%lld.", expiry);
	ark_base64_encode(mac, sizeof(mac), out + n, 1);
}

struct cache_arg {
	const struct ark_secret	*a, *b;
	int			 bad;
};

static void *
cache_thread(void *p)
{
	struct cache_arg	*ca = p;
	char			 tok[ARK_TOKEN_MAXLEN], ref[ARK_TOKEN_MAXLEN];
	char			 fid[32];

	for (int i = 0; i < 200; i++) {
		const struct ark_secret *s = (i % 3 == 0) ? ca->b : ca->a;

		snprintf(fid, sizeof(fid), "7,%x%08x", i + 1, 0x1234);
		if (ark_token_mint(s, ARK_TOKEN_WRITE, fid, NOW + i, tok,
		    sizeof(tok)) != ARK_OK)
			ca->bad++;
		reference_token(s, "write", fid, NOW + i, ref);
		if (strcmp(tok, ref) != 0 || ark_token_verify(s,
		    ARK_TOKEN_WRITE, fid, tok, NOW) != ARK_OK ||
		    ark_token_verify(s == ca->a ? ca->b : ca->a,
		    ARK_TOKEN_WRITE, fid, tok, NOW) != ARK_EPERM)
			ca->bad++;
	}
	return NULL;
}

/* The per-thread keyed HMAC context: secrets alternating on one thread
 * and several threads at once give the one-shot HMAC's answer, and a
 * secret changed in place (same address) is noticed. */
static void
test_mac_cache(void **state)
{
	struct ark_secret	 other, moved;
	struct cache_arg	 ca = { &secret, &other, 0 };
	pthread_t		 th[4];
	char			 tok[ARK_TOKEN_MAXLEN], ref[ARK_TOKEN_MAXLEN];

	(void)state;
	assert_int_equal(ark_secret_set(&other,
	    "fedcba9876543210fedcba9876543210xx", 34), ARK_OK);
	cache_thread(&ca);
	assert_int_equal(ca.bad, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, cache_thread,
		    &ca), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(ca.bad, 0);

	moved = secret;
	assert_int_equal(ark_token_mint(&moved, ARK_TOKEN_READ, FID, NOW, tok,
	    sizeof(tok)), ARK_OK);
	moved.key[0] ^= 1;
	reference_token(&moved, "read", FID, NOW, ref);
	assert_int_equal(ark_token_verify(&moved, ARK_TOKEN_READ, FID, tok,
	    NOW), ARK_EPERM);
	assert_int_equal(ark_token_mint(&moved, ARK_TOKEN_READ, FID, NOW, tok,
	    sizeof(tok)), ARK_OK);
	assert_string_equal(tok, ref);
}

static void
test_tampered(void **state)
{
	char			tok[ARK_TOKEN_MAXLEN], bad[ARK_TOKEN_MAXLEN];
	struct ark_secret	other;

	(void)state;
	assert_int_equal(ark_token_mint(&secret, ARK_TOKEN_READ, FID, NOW + 60,
	    tok, sizeof(tok)), ARK_OK);
	/* Other op, other fid, other secret. */
	assert_int_equal(ark_token_verify(&secret, ARK_TOKEN_WRITE, FID, tok,
	    NOW), ARK_EPERM);
	assert_int_equal(ark_token_verify(&secret, ARK_TOKEN_DELETE, FID, tok,
	    NOW), ARK_EPERM);
	assert_int_equal(ark_token_verify(&secret, ARK_TOKEN_READ,
	    "3,01637037d6a1b2c3d5", tok, NOW), ARK_EPERM);
	assert_int_equal(ark_token_verify(&secret, ARK_TOKEN_READ, "", tok,
	    NOW), ARK_EPERM);
	assert_int_equal(ark_secret_set(&other,
	    "0123456789abcdef0123456789abcdeX", 32), ARK_OK);
	assert_int_equal(ark_token_verify(&other, ARK_TOKEN_READ, FID, tok,
	    NOW), ARK_EPERM);
	/* Expiry pushed forward. */
	strcpy(bad, tok);
	bad[9] = '9';
	assert_int_equal(ark_token_verify(&secret, ARK_TOKEN_READ, FID, bad,
	    NOW), ARK_EPERM);
	/* Every MAC character flipped in turn. */
	for (size_t i = 11; i < strlen(tok); i++) {
		strcpy(bad, tok);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		enum ark_err rc = ark_token_verify(&secret, ARK_TOKEN_READ, FID,
		    bad, NOW);
		/* The last char carries 4 padding bits: may be non-canonical. */
		assert_true(rc == ARK_EPERM || (i == strlen(tok) - 1 &&
		    rc == ARK_EPROTO));
	}
}

static void
test_expired(void **state)
{
	char tok[ARK_TOKEN_MAXLEN];

	(void)state;
	assert_int_equal(ark_token_mint(&secret, ARK_TOKEN_WRITE, FID, NOW - 1,
	    tok, sizeof(tok)), ARK_OK);
	assert_int_equal(ark_token_verify(&secret, ARK_TOKEN_WRITE, FID, tok,
	    NOW), ARK_EEXPIRED);
	/* A forged expired token is a MAC failure, not "expired". */
	assert_int_equal(ark_token_verify(&secret, ARK_TOKEN_READ, FID, tok,
	    NOW), ARK_EPERM);
}

static void
test_malformed(void **state)
{
	char		 tok[ARK_TOKEN_MAXLEN], bad[128];
	const char	*mac;

	(void)state;
	assert_int_equal(ark_token_mint(&secret, ARK_TOKEN_READ, FID, NOW + 60,
	    tok, sizeof(tok)), ARK_OK);
	mac = strchr(tok, '.') + 1;
	static const char *const junk[] = { "", ".", "123", "123.",
	    "abc.def", "1700000060.", "-1.x", " 1.x", "1700000060.!!!" };
	for (size_t i = 0; i < ARK_ARRAY_SIZE(junk); i++)
		assert_int_equal(ark_token_verify(&secret, ARK_TOKEN_READ, FID,
		    junk[i], NOW), ARK_EPROTO);
	assert_int_equal(ark_token_verify(&secret, ARK_TOKEN_READ, FID, NULL,
	    NOW), ARK_EPROTO);
	/* Non-canonical expiry spellings. */
	snprintf(bad, sizeof(bad), "01700000060.%s", mac);
	assert_int_equal(ark_token_verify(&secret, ARK_TOKEN_READ, FID, bad,
	    NOW), ARK_EPROTO);
	snprintf(bad, sizeof(bad), "+1700000060.%s", mac);
	assert_int_equal(ark_token_verify(&secret, ARK_TOKEN_READ, FID, bad,
	    NOW), ARK_EPROTO);
	snprintf(bad, sizeof(bad), "99999999999999999999.%s", mac);
	assert_int_equal(ark_token_verify(&secret, ARK_TOKEN_READ, FID, bad,
	    NOW), ARK_EPROTO);
	/* MAC truncated, extended, padded. */
	snprintf(bad, sizeof(bad), "%.*s", (int)strlen(tok) - 1, tok);
	assert_int_equal(ark_token_verify(&secret, ARK_TOKEN_READ, FID, bad,
	    NOW), ARK_EPROTO);
	snprintf(bad, sizeof(bad), "%sA", tok);
	assert_int_equal(ark_token_verify(&secret, ARK_TOKEN_READ, FID, bad,
	    NOW), ARK_EPROTO);
	snprintf(bad, sizeof(bad), "%s=", tok);
	assert_int_equal(ark_token_verify(&secret, ARK_TOKEN_READ, FID, bad,
	    NOW), ARK_EPROTO);
	/* Bad arguments to mint. */
	assert_int_equal(ark_token_mint(&secret, ARK_TOKEN_READ, FID, -1, tok,
	    sizeof(tok)), ARK_EINVAL);
	assert_int_equal(ark_token_mint(&secret, ARK_TOKEN_READ, FID, 1, tok,
	    10), ARK_EINVAL);
	assert_int_equal(ark_token_mint(&secret, (enum ark_token_op)99, FID, 1,
	    tok, sizeof(tok)), ARK_EINVAL);
}

static void
write_file(const char *path, const char *data, size_t n, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void
test_secret_create(void **state)
{
	struct ark_secret	s1, s2;
	struct stat		st;
	char			*path = ark_xasprintf("%s/secret", (char *)*state);
	char			buf[100];
	FILE			*f;

	assert_int_equal(ark_secret_load(path, &s1), ARK_ENOENT);
	assert_int_equal(ark_secret_create(path, &s1), ARK_OK);
	assert_int_equal(s1.len, 32);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 65);
	f = fopen(path, "r");
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_int_equal(strlen(buf), 65);
	assert_int_equal(buf[64], '\n');
	/* Never replaced. */
	assert_int_equal(ark_secret_create(path, &s2), ARK_EEXIST);
	assert_int_equal(ark_secret_load(path, &s2), ARK_OK);
	assert_int_equal(s2.len, 32);
	assert_memory_equal(s1.key, s2.key, 32);
	assert_int_equal(ark_secret_load_or_create(path, &s2), ARK_OK);
	assert_memory_equal(s1.key, s2.key, 32);
	/* No temp files left behind. */
	{
		char *cmd = ark_xasprintf("test $(ls -A '%s' | wc -l) -eq 1",
		    (char *)*state);
		assert_int_equal(system(cmd), 0);
		free(cmd);
	}
	unlink(path);
	assert_int_equal(ark_secret_load_or_create(path, &s2), ARK_OK);
	assert_memory_not_equal(s1.key, s2.key, 32);
	ark_secret_wipe(&s2);
	assert_int_equal(s2.len, 0);
	free(path);
}

static void
test_secret_perms_and_formats(void **state)
{
	struct ark_secret	 s;
	char			*path = ark_xasprintf("%s/s2", (char *)*state);
	static const char	 hex64[] = "000102030405060708090a0b0c0d0e0f"
	    "101112131415161718191A1B1C1D1E1F\n";
	static const char	 raw40[] = "raw-secret-material-of-forty-bytes-long!";

	/* Too open: group or other bits set. */
	static const mode_t bad[] = { 0644, 0640, 0604, 0660, 0606, 0610 };
	for (size_t i = 0; i < ARK_ARRAY_SIZE(bad); i++) {
		write_file(path, hex64, sizeof(hex64) - 1, bad[i]);
		assert_int_equal(ark_secret_load(path, &s), ARK_EPERM);
	}
	/* 0600 and 0400 are fine; hex with upper case and newline. */
	write_file(path, hex64, sizeof(hex64) - 1, 0400);
	assert_int_equal(ark_secret_load(path, &s), ARK_OK);
	assert_int_equal(s.len, 32);
	for (int i = 0; i < 32; i++)
		assert_int_equal(s.key[i], i);
	chmod(path, 0600);
	/* Raw bytes. */
	write_file(path, raw40, 40, 0600);
	assert_int_equal(ark_secret_load(path, &s), ARK_OK);
	assert_int_equal(s.len, 40);
	assert_memory_equal(s.key, raw40, 40);
	/* Too short: raw and hex. */
	write_file(path, raw40, 31, 0600);
	assert_int_equal(ark_secret_load(path, &s), ARK_EINVAL);
	write_file(path, "abcdef\n", 7, 0600);
	assert_int_equal(ark_secret_load(path, &s), ARK_EINVAL);
	write_file(path, "", 0, 0600);
	assert_int_equal(ark_secret_load(path, &s), ARK_EINVAL);
	/* Too long. */
	{
		char big[600];
		memset(big, 'x', sizeof(big));
		write_file(path, big, sizeof(big), 0600);
		assert_int_equal(ark_secret_load(path, &s), ARK_EINVAL);
	}
	/* Not a regular file. */
	assert_int_equal(ark_secret_load((char *)*state, &s), ARK_EPERM);
	/* Tokens from a loaded secret verify with the same key set by hand. */
	{
		struct ark_secret	byhand;
		unsigned char		k[32];
		char			tok[ARK_TOKEN_MAXLEN];

		write_file(path, hex64, sizeof(hex64) - 1, 0600);
		assert_int_equal(ark_secret_load(path, &s), ARK_OK);
		for (int i = 0; i < 32; i++)
			k[i] = (unsigned char)i;
		assert_int_equal(ark_secret_set(&byhand, k, 32), ARK_OK);
		assert_int_equal(ark_token_mint(&s, ARK_TOKEN_DELETE, FID, NOW,
		    tok, sizeof(tok)), ARK_OK);
		assert_int_equal(ark_token_verify(&byhand, ARK_TOKEN_DELETE,
		    FID, tok, NOW), ARK_OK);
		assert_int_equal(ark_secret_set(&byhand, k, 31), ARK_EINVAL);
	}
	unlink(path);
	free(path);
}

/* Arkor-HMAC request signature against a vector made with Python's
 * hmac/hashlib/base64 (the formula of docs/specs/Internal.md). */
static void
test_reqsig(void **state)
{
	static const char body[] = "{\"bucket\":\"b\"}";
	char sig[ARK_REQSIG_LEN], auth[ARK_REQSIG_AUTH_MAX];

	(void)state;
	ark_reqsig("sekrit-key", "POST", "/v1/bucket/get", 1767225600, body,
	    strlen(body), sig);
	assert_string_equal(sig, "Ic-zccTi9b8Ft_XZwV7zx4hS1RdB3KrMJJIUtdtGShg");
	ark_reqsig("sekrit-kez", "POST", "/v1/bucket/get", 1767225600, body,
	    strlen(body), sig);
	assert_string_not_equal(sig,
	    "Ic-zccTi9b8Ft_XZwV7zx4hS1RdB3KrMJJIUtdtGShg");
	ark_reqsig_auth("AKID", "sekrit-key", "/v1/bucket/get", body,
	    strlen(body), auth, sizeof(auth));
	assert_int_equal(strncmp(auth, "Arkor-HMAC AKID:", 16), 0);
	assert_int_equal(strlen(strrchr(auth, ':') + 1), 43);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_mac_cache),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_reqsig),
		cmocka_unit_test(test_secret_create),
		cmocka_unit_test(test_secret_perms_and_formats),
	};

	return cmocka_run_group_tests_name("token", tests, setup, teardown);
}
