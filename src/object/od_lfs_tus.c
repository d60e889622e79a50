/*
 * od_lfs_tus.c - resumable uploads with the tus.io transfer adapter of
 * git lfs (lfs.tustransfers = true), the subset it speaks: HEAD on the
 * upload href answers Upload-Offset, PATCH from that offset sends the
 * rest (docs/specs/LFS.md).
 *
 * A PATCH streams through od_put_stream like a basic upload. Its bytes
 * also feed a SHA-256 whose state is kept at every fragment boundary.
 * If the client goes away, the request's last reference (lfs_tus_end)
 * records the whole fragments already on all their replicas as the
 * "partial" object <repo>/lfs/partial/<oid>, its size the resume offset,
 * with the SHA-256 state of exactly those bytes in its user metadata. The
 * next PATCH continues hash and fragment list from there, and the object
 * is committed, fragments of all sessions in order, only if the SHA-256
 * of the whole equals the oid. Resume granularity is one fragment.
 *
 * OpenSSL 3 has no way to export an EVP digest state, so this uses the
 * SHA256_CTX interface (deprecated in 3.0, still provided).
 */
#include "config.h"

#define OPENSSL_API_COMPAT 10101	/* SHA256_CTX: see above */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "common/cksum.h"
#include "common/log.h"
#include "common/util.h"
#include "object/od.h"
#include "object/od_lfs.h"
#include "object/s3_checksum.h"

#define TUS_VERSION	"1.0.0"
#define TUS_STATE_META	"lfs-sha256-state"

struct lfs_tus {
	SHA256_CTX	 sha;
	uint64_t	 start;		/* where this session starts */
	uint64_t	 seen;		/* session bytes hashed */
	json_t		*prev;		/* fragments of earlier sessions */
	uint32_t	(*snap)[8];	/* state after k whole fragments */
	size_t		 nsnap, capsnap;
	int		 streaming;	/* body flowing: save on loss */
	int		 committed;	/* nothing to save any more */
};

/* ---- state ---------------------------------------------------------------- */

static void
state_hex(const uint32_t h[8], char out[65])
{
	size_t i;

	for (i = 0; i < 8; i++)
		snprintf(out + 8 * i, 9, "%08" PRIx32, h[i]);
}

static int
state_parse(const char *s, uint32_t h[8])
{
	char w[9];
	size_t i, k;

	if (s == NULL || strlen(s) != 64)
		return 0;
	for (i = 0; i < 8; i++) {
		for (k = 0; k < 8; k++) {
			char c = s[8 * i + k];

			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
				return 0;
			w[k] = c;
		}
		w[8] = '\0';
		h[i] = (uint32_t)strtoul(w, NULL, 16);
	}
	return 1;
}

/* Continues a SHA-256 after `len` bytes (a multiple of 64) whose chaining
 * value is h. */
static void
sha_resume(SHA256_CTX *c, const uint32_t h[8], uint64_t len)
{
	size_t i;

	SHA256_Init(c);
	if (len == 0)
		return;
	for (i = 0; i < 8; i++)
		c->h[i] = h[i];
	c->Nl = (SHA_LONG)((len << 3) & 0xffffffffu);
	c->Nh = (SHA_LONG)(len >> 29);
	c->num = 0;
}

static void
tus_free(struct lfs_tus *t)
{
	if (t == NULL)
		return;
	json_decref(t->prev);
	free(t->snap);
	OPENSSL_cleanse(&t->sha, sizeof(t->sha));
	free(t);
}

/* Body bytes of the session, in order: hash them, and keep the state at
 * each fragment boundary (where the hash has no partial block). */
static void
tus_tap(struct oreq *o, const void *p, size_t n)
{
	struct lfs_tus *t = ((struct lfs_req *)o->ext)->tus_state;
	const unsigned char *d = p;
	uint64_t fs = od_conf.fragment_size, take;

	while (n > 0) {
		take = fs - t->seen % fs;
		if (take > n)
			take = n;
		SHA256_Update(&t->sha, d, (size_t)take);
		t->seen += take;
		d += take;
		n -= (size_t)take;
		if (t->seen % fs == 0) {
			if (t->nsnap == t->capsnap) {
				t->capsnap = t->capsnap ? 2 * t->capsnap : 64;
				t->snap = ark_xrealloc(t->snap, t->capsnap *
				    sizeof(*t->snap));
			}
			memcpy(t->snap[t->nsnap++], t->sha.h, sizeof(t->sha.h));
		}
	}
}

/* Earlier sessions' fragments, then this session's first `count` (all
 * when count is (size_t)-1) shifted by its start. */
static json_t *
frag_list(struct oreq *o, struct lfs_tus *t, size_t count)
{
	json_t *a = t->prev != NULL ? json_deep_copy(t->prev) : json_array();
	struct frag *f;
	size_t i = 0;

	for (f = o->frags; f != NULL && i < count; f = f->lnext, i++)
		json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I}",
		    "fid", f->fid, "offset", (json_int_t)(t->start + f->offset),
		    "length", (json_int_t)f->len, "crc32c",
		    (json_int_t)f->crc));
	return a;
}

static void
detached_done(struct oreq *o, int status, json_t *j)
{
	(void)o;
	(void)status;
	(void)j;
}

/* The request's last reference, nothing committed: keep the prefix of
 * whole fragments stored on all replicas as the partial object. */
static void
tus_save(struct oreq *o, struct lfs_req *lr, struct lfs_tus *t)
{
	uint64_t fs = od_conf.fragment_size;
	char hex[65], key[LFS_KEY_MAX];
	struct oreq *d;
	struct frag *f;
	size_t k = 0;
	json_t *body;

	for (f = o->frags; f != NULL; f = f->lnext) {
		if (!f->done || f->failed || f->len != fs ||
		    f->offset != k * fs || k >= t->nsnap)
			break;
		k++;
	}
	if (k == 0 || od_cli == NULL)
		return;
	state_hex(t->snap[k - 1], hex);
	lfs_partial_key(&lr->p, lr->oid, key, sizeof(key));
	body = json_pack("{s:s, s:s, s:I, s:s, s:{s:s}, s:o}", "bucket",
	    lr->p.bucket, "key", key, "size", (json_int_t)(t->start + k * fs),
	    "content_type", "application/x-arkor-lfs-partial", "user_meta",
	    TUS_STATE_META, hex, "fragments", frag_list(o, t, k));
	ark_log_info("req %s: LFS tus upload of %s interrupted: %" PRIu64
	    " of %" PRIu64 " bytes kept for resuming", o->reqid, lr->oid,
	    t->start + k * fs, lr->size);
	/* The request is gone: a context of its own, already dead, makes
	 * the registry call and is freed with its answer. */
	d = ark_xcalloc(1, sizeof(*d));
	d->refs = 1;
	d->dead = 1;
	snprintf(d->reqid, sizeof(d->reqid), "%s", o->reqid);
	od_reg_call(d, "object/put", body, 1, detached_done);
	od_oreq_unref(d);
}

void
lfs_tus_end(struct oreq *o, struct lfs_req *lr)
{
	struct lfs_tus *t = lr->tus_state;

	if (t == NULL)
		return;
	if (t->streaming && !t->committed)
		tus_save(o, lr, t);
	tus_free(t);
	lr->tus_state = NULL;
}

/* ---- HEAD: where to resume ----------------------------------------------- */

static uint64_t
partial_offset(const json_t *j, const struct lfs_req *lr, uint32_t h[8])
{
	uint64_t size = (uint64_t)od_jint(j, "size");
	uint32_t dummy[8];

	if (h == NULL)
		h = dummy;
	if (size == 0 || size >= lr->size || size % 64 != 0 ||
	    !state_parse(json_string_value(json_object_get(json_object_get(j,
	    "user_meta"), TUS_STATE_META)), h))
		return 0;
	return size;
}

static void
tus_headers(struct oreq *o, uint64_t offset)
{
	struct lfs_req *lr = o->ext;
	char n[24];

	ark_http_resp_header(o->req, "Tus-Resumable", TUS_VERSION);
	snprintf(n, sizeof(n), "%" PRIu64, offset);
	ark_http_resp_header(o->req, "Upload-Offset", n);
	snprintf(n, sizeof(n), "%" PRIu64, lr->size);
	ark_http_resp_header(o->req, "Upload-Length", n);
	ark_http_resp_header(o->req, "Cache-Control", "no-store");
}

static void
head_done(struct oreq *o, int status, json_t *j)
{
	struct lfs_req *lr = o->ext;
	uint64_t off = 0;

	if (status == 200)
		off = partial_offset(j, lr, NULL);
	else if (status != 404) {
		lfs_reg_fail(o, status, j, "upload state");
		return;
	}
	if (o->dead || o->replied)
		return;
	tus_headers(o, off);
	lfs_reply(o, 200, NULL);
}

static int
tus_size(struct oreq *o)
{
	struct lfs_req *lr = o->ext;
	const char *ul = ark_http_req_header(o->req, "upload-offset");
	int64_t cl = ark_http_req_content_length(o->req);

	snprintf(lr->oid, sizeof(lr->oid), "%s", lr->p.oid);
	lfs_object_key(&lr->p, lr->oid, lr->key, sizeof(lr->key));
	snprintf(o->r.key, sizeof(o->r.key), "%s", lr->key);
	if (lr->token) {
		lr->size = lr->token_size;
		return 1;
	}
	if (ul == NULL || cl < 0) {
		lfs_error(o, 411, "tus with HTTP Basic needs Upload-Offset and "
		    "Content-Length");
		return 0;
	}
	lr->size = strtoull(ul, NULL, 10) + (uint64_t)cl;
	return 1;
}

void
lfs_tus_head(struct oreq *o)
{
	struct lfs_req *lr = o->ext;
	char key[LFS_KEY_MAX];

	snprintf(lr->oid, sizeof(lr->oid), "%s", lr->p.oid);
	if (!lr->token) {
		lfs_error(o, 401, "the tus offset needs the upload href's "
		    "transfer token");
		return;
	}
	lr->size = lr->token_size;
	lfs_partial_key(&lr->p, lr->oid, key, sizeof(key));
	od_reg_call(o, "object/get", json_pack("{s:s, s:s}", "bucket",
	    lr->p.bucket, "key", key), 0, head_done);
}

/* ---- PATCH: the rest of the bytes ------------------------------------------ */

static void
del_done(struct oreq *o, int status, json_t *j)
{
	struct lfs_req *lr = o->ext;

	(void)j;
	if (status != 200 && status != 404)
		ark_log_warnx("req %s: LFS tus: partial object of %s not "
		    "deleted (registry status %d)", o->reqid, lr->oid, status);
	if (o->dead || o->replied)
		return;
	tus_headers(o, lr->size);
	lfs_reply(o, 204, NULL);
}

static void
delete_partial(struct oreq *o, od_reg_cb cb)
{
	struct lfs_req *lr = o->ext;
	char key[LFS_KEY_MAX];

	lfs_partial_key(&lr->p, lr->oid, key, sizeof(key));
	od_reg_call(o, "object/delete", json_pack("{s:s, s:s}", "bucket",
	    lr->p.bucket, "key", key), 0, cb);
}

static void
put_done(struct oreq *o, int status, json_t *j)
{
	struct lfs_req *lr = o->ext;

	if (status != 200) {
		lfs_reg_fail(o, status, j, "object commit");
		return;
	}
	ark_log_info("req %s: LFS stored %s/%s (%" PRIu64 " bytes, tus from "
	    "%" PRIu64 ")", o->reqid, lr->p.bucket, lr->key, lr->size,
	    lr->tus_state->start);
	delete_partial(o, del_done);
}

static void
bad_done(struct oreq *o, int status, json_t *j)
{
	struct lfs_req *lr = o->ext;

	(void)status;
	(void)j;
	lfs_error(o, 422, "content does not match the oid %s: nothing "
	    "stored, the upload starts again from 0", lr->oid);
}

static void
tus_commit(struct oreq *o)
{
	struct lfs_req *lr = o->ext;
	struct lfs_tus *t = lr->tus_state;
	unsigned char sha[32], want[32], raw[32];
	char md5[33], etag[40], b64[ARK_BASE64_LEN(32) + 1];
	SHA256_CTX c = t->sha;

	t->committed = 1;
	SHA256_Final(sha, &c);
	OPENSSL_cleanse(&c, sizeof(c));
	if (ark_hex_decode(lr->oid, LFS_OID_LEN, want, sizeof(want)) !=
	    ARK_OK || memcmp(sha, want, 32) != 0) {
		/* Earlier sessions may be to blame: drop them too. */
		delete_partial(o, bad_done);
		return;
	}
	memcpy(raw, sha, 32);
	ark_base64_encode(raw, 32, b64, 0);
	/* The MD5 ETag exists only for an upload in one session. */
	if (t->start == 0 && s3_cksum_hex(o->ck, S3_CKSUM_MD5, md5) == ARK_OK)
		snprintf(etag, sizeof(etag), "%s", md5);
	else
		snprintf(etag, sizeof(etag), "%.32s-2", lr->oid);
	od_reg_call(o, "object/put", json_pack("{s:s, s:s, s:I, s:s, s:s, "
	    "s:{s:s}, s:o}", "bucket", lr->p.bucket, "key", lr->key, "size",
	    (json_int_t)lr->size, "etag", etag, "content_type",
	    "application/octet-stream", "checksums", "sha256", b64,
	    "fragments", frag_list(o, t, (size_t)-1)), 0, put_done);
}

static void
patch_state(struct oreq *o, int status, json_t *j)
{
	struct lfs_req *lr = o->ext;
	struct lfs_tus *t;
	const char *uo = ark_http_req_header(o->req, "upload-offset");
	int64_t cl = ark_http_req_content_length(o->req);
	uint64_t off = 0, want;
	uint32_t h[8];

	if (status == 200)
		off = partial_offset(j, lr, h);
	else if (status != 404) {
		lfs_reg_fail(o, status, j, "upload state");
		return;
	}
	want = uo != NULL ? strtoull(uo, NULL, 10) : 0;
	if (uo == NULL || want != off) {
		tus_headers(o, off);
		lfs_error(o, 409, "Upload-Offset %s does not match the stored "
		    "offset %" PRIu64, uo != NULL ? uo : "(none)", off);
		return;
	}
	if (ark_http_req_is_chunked(o->req) || cl < 0 ||
	    (uint64_t)cl != lr->size - off) {
		lfs_error(o, 422, "size mismatch: PATCH from %" PRIu64 " needs "
		    "Content-Length %" PRIu64, off, lr->size - off);
		return;
	}
	t = ark_xcalloc(1, sizeof(*t));
	lr->tus_state = t;
	t->start = off;
	if (off > 0) {
		t->prev = json_incref(json_object_get(j, "fragments"));
		sha_resume(&t->sha, h, off);
	} else
		SHA256_Init(&t->sha);
	if (s3_cksum_new(S3_CKSUM_BIT(S3_CKSUM_MD5), &o->ck) != ARK_OK) {
		lfs_error(o, 500, "cannot start the checksums");
		return;
	}
	ark_log_info("req %s: LFS tus upload of %s (%" PRIu64 " bytes) from "
	    "offset %" PRIu64, o->reqid, lr->oid, lr->size, off);
	t->streaming = 1;
	o->declared = (int64_t)(lr->size - off);
	o->tap = tus_tap;
	o->commit = tus_commit;
	od_put_stream(o);
}

void
lfs_tus_patch(struct oreq *o)
{
	struct lfs_req *lr = o->ext;
	char key[LFS_KEY_MAX];

	if (!tus_size(o))
		return;
	if (lr->size / od_conf.fragment_size >= LFS_FRAGS_MAX) {
		lfs_error(o, 413, "object too large for this server's "
		    "fragment size");
		return;
	}
	lfs_partial_key(&lr->p, lr->oid, key, sizeof(key));
	od_reg_call(o, "object/get", json_pack("{s:s, s:s}", "bucket",
	    lr->p.bucket, "key", key), 0, patch_state);
}
