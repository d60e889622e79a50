/*
 * od_lfs_url.c - the Git LFS endpoint grammar, object keys and lock
 * namespaces, transfer tokens, and the small encodings the API needs
 * (RFC 3339 times, HTTP Basic credentials). Pure functions: no I/O, no
 * state, unit-tested in tests/unit/test_od_lfs.c.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "common/cksum.h"
#include "common/log.h"
#include "common/token.h"
#include "common/util.h"
#include "object/od_lfs.h"
#include "object/s3_req.h"

static int
seg_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Checks "seg(/seg)*" of n bytes: no empty, "." or ".." segment. */
static int
repo_valid(const char *s, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '/') {
			if (!seg_char((unsigned char)s[i]))
				return 0;
			continue;
		}
		if (i == start || (i - start == 1 && s[start] == '.') ||
		    (i - start == 2 && s[start] == '.' && s[start + 1] == '.'))
			return 0;
		start = i + 1;
	}
	return 1;
}

int
lfs_oid_valid(const char *s)
{
	size_t i;

	for (i = 0; i < LFS_OID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return 0;
	return s[LFS_OID_LEN] == '\0';
}

#define PFAIL(m) do {							\
	*why = (m);							\
	return ARK_EINVAL;						\
} while (0)

enum ark_err
lfs_path_parse(const char *path, struct lfs_path *out, const char **why)
{
	static const char marker[] = "/info/lfs";
	const char *b, *be, *m, *rest;
	const char *dummy;
	size_t bn, rn;

	if (why == NULL)
		why = &dummy;
	memset(out, 0, sizeof(*out));
	if (strncmp(path, "/lfs/", 5) != 0)
		PFAIL("not under /lfs/");
	b = path + 5;
	if ((be = strchr(b, '/')) == NULL)
		PFAIL("no /info/lfs after the bucket");
	bn = (size_t)(be - b);
	if (bn >= sizeof(out->bucket))
		PFAIL("bucket name too long");
	memcpy(out->bucket, b, bn);
	out->bucket[bn] = '\0';
	if (!s3_req_bucket_valid(out->bucket))
		PFAIL("invalid bucket name");
	/* The repository: everything up to the first "/info/lfs" that ends
	 * the path or is followed by '/'. */
	for (m = be; (m = strstr(m, marker)) != NULL; m++)
		if (m[sizeof(marker) - 1] == '\0' ||
		    m[sizeof(marker) - 1] == '/')
			break;
	if (m == NULL)
		PFAIL("no /info/lfs in the path");
	rn = m > be ? (size_t)(m - be - 1) : 0;
	if (rn > 0) {
		const char *r = be + 1;

		if (rn > 4 && memcmp(r + rn - 4, ".git", 4) == 0)
			rn -= 4;
		if (rn > LFS_REPO_MAX)
			PFAIL("repository path too long");
		if (!repo_valid(r, rn))
			PFAIL("invalid repository path (segments of "
			    "A-Z a-z 0-9 . _ -)");
		memcpy(out->repo, r, rn);
		out->repo[rn] = '\0';
	}
	out->base_len = (size_t)(m - path) + sizeof(marker) - 1;
	rest = m + sizeof(marker) - 1;
	if (*rest == '/')
		rest++;
	if (strcmp(rest, "objects/batch") == 0)
		out->ep = LFS_EP_BATCH;
	else if (strncmp(rest, "objects/", 8) == 0) {
		if (!lfs_oid_valid(rest + 8))
			PFAIL("invalid object id");
		memcpy(out->oid, rest + 8, LFS_OID_LEN + 1);
		out->ep = LFS_EP_OBJECT;
	} else if (strcmp(rest, "verify") == 0)
		out->ep = LFS_EP_VERIFY;
	else if (strcmp(rest, "locks") == 0)
		out->ep = LFS_EP_LOCKS;
	else if (strcmp(rest, "locks/verify") == 0)
		out->ep = LFS_EP_LOCKS_VERIFY;
	else if (strncmp(rest, "locks/", 6) == 0) {
		const char *id = rest + 6, *e = strchr(id, '/');
		size_t n, i;

		if (e == NULL || strcmp(e, "/unlock") != 0)
			PFAIL("unknown locks endpoint");
		n = (size_t)(e - id);
		if (n == 0 || n > LFS_LOCK_ID_MAX)
			PFAIL("invalid lock id");
		for (i = 0; i < n; i++)
			if (!seg_char((unsigned char)id[i]) || id[i] == '.')
				PFAIL("invalid lock id");
		memcpy(out->lock_id, id, n);
		out->lock_id[n] = '\0';
		out->ep = LFS_EP_UNLOCK;
	} else
		PFAIL("unknown Git LFS endpoint");
	return ARK_OK;
}

void
lfs_object_key(const struct lfs_path *p, const char *oid, char *out,
    size_t cap)
{
	snprintf(out, cap, "%s%slfs/objects/%.2s/%.2s/%s", p->repo,
	    p->repo[0] != '\0' ? "/" : "", oid, oid + 2, oid);
}

void
lfs_partial_key(const struct lfs_path *p, const char *oid, char *out,
    size_t cap)
{
	snprintf(out, cap, "%s%slfs/partial/%s", p->repo,
	    p->repo[0] != '\0' ? "/" : "", oid);
}

void
lfs_namespace(const struct lfs_path *p, char *out, size_t cap)
{
	snprintf(out, cap, "%s%s%s", p->bucket, p->repo[0] != '\0' ? "/" :
	    "", p->repo);
}

/* The token's subject: what it is bound to, hashed to a fixed length
 * (ark_token_mint takes at most 256 bytes), in a name space of its own
 * ("lfs1-..." is never a FileID, so a data server refuses it). */
static void
token_subject(const struct lfs_path *p, const char *oid, uint64_t size,
    char *out, size_t cap)
{
	unsigned char h[ARK_HASH_MAXLEN];
	char b64[ARK_BASE64_LEN(32) + 1], num[24];
	const char *parts[5];
	struct ark_hash *hc = NULL;
	size_t i;

	snprintf(num, sizeof(num), "%" PRIu64, size);
	parts[0] = "arkor-lfs-v1";
	parts[1] = p->bucket;
	parts[2] = p->repo;
	parts[3] = oid;
	parts[4] = num;
	memset(h, 0, sizeof(h));
	/* Each part with its NUL, so no two tuples hash the same text. */
	if (ark_hash_new(ARK_HASH_SHA256, &hc) != ARK_OK)
		ark_fatalx("%s: cannot start SHA-256", __func__);
	for (i = 0; i < ARK_ARRAY_SIZE(parts); i++)
		(void)ark_hash_update(hc, parts[i], strlen(parts[i]) + 1);
	if (ark_hash_final(hc, h) != ARK_OK)
		ark_fatalx("%s: SHA-256 failed", __func__);
	ark_hash_free(hc);
	ark_base64_encode(h, 32, b64, 1);
	snprintf(out, cap, "lfs1-%s", b64);
}

enum ark_err
lfs_token_header(const struct ark_secret *s, enum ark_token_op op,
    const struct lfs_path *p, const char *oid, uint64_t size,
    int64_t expiry, char *out, size_t cap)
{
	char subj[64], tok[ARK_TOKEN_MAXLEN];
	enum ark_err rc;
	int n;

	token_subject(p, oid, size, subj, sizeof(subj));
	if ((rc = ark_token_mint(s, op, subj, expiry, tok, sizeof(tok))) !=
	    ARK_OK)
		return rc;
	n = snprintf(out, cap, "Arkor-LFS %" PRIu64 " %s", size, tok);
	return n > 0 && (size_t)n < cap ? ARK_OK : ARK_ETOOBIG;
}

enum ark_err
lfs_token_parse(const char *h, uint64_t *size, const char **token)
{
	const char *p;
	char *end;
	unsigned long long v;

	if (h == NULL || strncmp(h, "Arkor-LFS ", 10) != 0)
		return ARK_EPROTO;
	p = h + 10;
	if (*p < '0' || *p > '9')
		return ARK_EPROTO;
	v = strtoull(p, &end, 10);
	if (*end != ' ' || end - p > 20 || v > INT64_MAX)
		return ARK_EPROTO;
	while (*end == ' ')
		end++;
	if (*end == '\0' || strlen(end) >= ARK_TOKEN_MAXLEN)
		return ARK_EPROTO;
	*size = v;
	*token = end;
	return ARK_OK;
}

enum ark_err
lfs_token_check(const struct ark_secret *s, enum ark_token_op op,
    const struct lfs_path *p, const char *oid, uint64_t size,
    const char *token, int64_t now)
{
	char subj[64];

	token_subject(p, oid, size, subj, sizeof(subj));
	return ark_token_verify(s, op, subj, token, now);
}

void
lfs_rfc3339(int64_t ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, cap, "1970-01-01T00:00:00Z");
}

enum ark_err
lfs_basic_parse(const char *h, char *id, size_t idcap, char *secret,
    size_t seccap)
{
	char dec[512];
	size_t n, in;
	const char *c;
	enum ark_err rc;

	if (h == NULL || strncasecmp(h, "Basic ", 6) != 0)
		return ARK_EPROTO;
	h += 6;
	while (*h == ' ')
		h++;
	in = strlen(h);
	while (in > 0 && h[in - 1] == ' ')
		in--;
	if ((rc = ark_base64_decode(h, in, dec, sizeof(dec) - 1, &n, 0)) !=
	    ARK_OK)
		return rc == ARK_ETOOBIG ? ARK_ETOOBIG : ARK_EPROTO;
	dec[n] = '\0';
	if (memchr(dec, '\0', n) != NULL || (c = strchr(dec, ':')) == NULL)
		rc = ARK_EPROTO;
	else if ((size_t)(c - dec) >= idcap || strlen(c + 1) >= seccap)
		rc = ARK_ETOOBIG;
	else {
		memcpy(id, dec, (size_t)(c - dec));
		id[c - dec] = '\0';
		snprintf(secret, seccap, "%s", c + 1);
	}
	OPENSSL_cleanse(dec, sizeof(dec));
	return rc;
}
