/*
 * fuzz_s3_sigv4.c - libFuzzer target: an arbitrary request as lines
 * "METHOD\nPATH\nQUERY\nName: value\n..." through everything that reads
 * a request before the body: s3_sigv4_verify (V4 header and presigned,
 * V2), s3_req_classify (path and virtual-hosted), listing parameters,
 * Range, conditionals, copy source, checksum declarations.
 * Invariants: no crash, leak or UB (ASan/UBSan); every result is a known
 * S3 code; a success carries well-formed output (a 64-hex seed signature
 * for V4, a NUL-terminated bucket and key within their limits); whatever
 * s3_sigv4_sign / s3_sigv4_presign sign for the fuzzed method, path and
 * query verifies.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object/s3_checksum.h"
#include "object/s3_req.h"
#include "object/s3_sigv4.h"
#include "object/s3_uri.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXH	32

static enum ark_err
f_secret(void *arg, const char *akid, char *secret, size_t cap)
{
	(void)arg;
	if (strcmp(akid, "AKIAIOSFODNN7EXAMPLE") != 0)
		return ARK_ENOENT;
	snprintf(secret, cap, "%s", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
	return ARK_OK;
}

static void
f_check(enum s3_code sc)
{
	if ((unsigned)sc >= S3_ERR_CODE_MAX)
		abort();
}

/* Sign-then-verify round trips on the fuzzed method, path and query. */
static void
f_roundtrip(const struct s3_sigv4_cfg *cfg, const struct s3_view *fv)
{
	static const char *const auth_params[] = { "X-Amz-Algorithm",
	    "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
	    "X-Amz-SignedHeaders", "X-Amz-Signature", "AWSAccessKeyId" };
	const char *kv[] = { "Host", "h", "x-amz-date", "20130524T000000Z",
	    "x-amz-content-sha256", "UNSIGNED-PAYLOAD", "Authorization", NULL,
	    NULL };
	static char authz[1024], q[20000];
	struct s3_view v;
	struct s3_auth a;

	for (size_t i = 0; i < sizeof(auth_params) / sizeof(auth_params[0]);
	    i++)
		if (s3_uri_query_has(fv->query, auth_params[i]))
			return;
	s3_view_init_kv(&v, fv->method, fv->path, fv->query, kv);
	if (s3_sigv4_sign(&v, "AKIAIOSFODNN7EXAMPLE",
	    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1",
	    "20130524T000000Z", "host;x-amz-content-sha256;x-amz-date",
	    "UNSIGNED-PAYLOAD", authz, sizeof(authz)) == ARK_OK) {
		kv[7] = authz;
		if (s3_sigv4_verify(cfg, &v, 1369353600, &a) != S3_OK)
			abort();
		kv[6] = NULL;
	}
	if (s3_sigv4_presign(&v, "AKIAIOSFODNN7EXAMPLE",
	    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1",
	    "20130524T000000Z", 60, q, sizeof(q)) == ARK_OK) {
		kv[2] = NULL;
		v.query = q;
		if (s3_sigv4_verify(cfg, &v, 1369353600, &a) != S3_OK)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct s3_sigv4_cfg cfg4 = { .region = NULL,
	    .allow_v2 = 1, .require_signed_amz = 1, .secret = f_secret };
	static const struct s3_req_cfg rcfg = { .domain = "s3.example.com" };
	char *buf, *line[3 + 2 * MAXH], *p;
	const char *kv[2 * MAXH + 1];
	size_t nl = 0, nkv = 0;
	struct s3_view v;
	struct s3_auth a;
	struct s3_req *r;
	struct s3_list_params *lp;
	struct s3_range rg;
	struct s3_cksum_req cr;
	char b[S3_BUCKET_MAX + 1], k[S3_KEY_MAX + 1], ver[S3_VERSION_ID_MAX];
	enum s3_code sc;

	if (size > 16384 || (buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (p = buf; nl < 3 + MAXH; ) {
		char *nlp = strchr(p, '\n');

		line[nl++] = p;
		if (nlp == NULL)
			break;
		*nlp = '\0';
		p = nlp + 1;
	}
	while (nl < 3)
		line[nl++] = (char *)"";
	for (size_t i = 3; i < nl && nkv < 2 * MAXH; i++) {
		char *colon = strchr(line[i], ':');

		if (colon == NULL)
			continue;
		*colon = '\0';
		kv[nkv++] = line[i];
		kv[nkv++] = colon + 1 + (colon[1] == ' ');
	}
	kv[nkv] = NULL;
	s3_view_init_kv(&v, line[0], line[1], line[2][0] ? line[2] : NULL, kv);

	r = malloc(sizeof(*r));
	lp = malloc(sizeof(*lp));
	if (r == NULL || lp == NULL)
		goto out;
	sc = s3_req_classify(&rcfg, &v, r);
	f_check(sc);
	if (sc == S3_OK) {
		if (strlen(r->bucket) > S3_BUCKET_MAX ||
		    r->keylen > S3_KEY_MAX || (unsigned)r->op >= S3_OP_MAX)
			abort();
		if (r->vhost)
			v.host_bucket = r->bucket;
		f_check(s3_req_list_params(r->op, v.query, lp));
	}
	sc = s3_sigv4_verify(&cfg4, &v, 1369353600, &a);
	f_check(sc);
	if (sc == S3_OK && (a.kind == S3_AUTH_V4_HEADER ||
	    a.kind == S3_AUTH_V4_QUERY) && strlen(a.signature) != 64)
		abort();
	s3_sigv4_wipe(&a);
	f_roundtrip(&cfg4, &v);
	sc = s3_req_range(s3_view_header(&v, "range"), 1000, &rg);
	f_check(sc);
	if (rg.set && (rg.start > rg.end || rg.end >= 1000))
		abort();
	f_check(s3_req_conditions(&v, "e1", 784111777, 1));
	f_check(s3_req_conditions(&v, NULL, 0, 0));
	if (s3_view_header(&v, "x-amz-copy-source") != NULL)
		f_check(s3_req_copy_source(s3_view_header(&v,
		    "x-amz-copy-source"), b, k, ver));
	f_check(s3_cksum_parse_request(&v, &cr));
out:
	free(r);
	free(lp);
	free(buf);
	return 0;
}
