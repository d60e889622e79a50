/*
 * od_lfs_xfer.c - the basic transfer adapter's hrefs:
 *   PUT  .../info/lfs/objects/<oid>  the object's bytes, streamed through
 *        od_put_stream into replicated fragments while SHA-256 (and MD5
 *        for the S3 ETag) is computed; committed as the S3 object only
 *        when the size and the SHA-256 match the oid, else 422 and no
 *        metadata (the written needles are orphans the data servers
 *        reclaim, as for any failed upload);
 *   GET  .../info/lfs/objects/<oid>  streamed back by od_get_stream (one
 *        Range allowed, for resumed downloads);
 *   POST .../info/lfs/verify         {"oid", "size"}: 200 when stored
 *        with that size and a verified SHA-256.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/cksum.h"
#include "common/http_server.h"
#include "common/log.h"
#include "common/util.h"
#include "object/od.h"
#include "object/od_lfs.h"
#include "object/s3_checksum.h"
#include "object/s3_req.h"


/* ---- upload ------------------------------------------------------------- */

static void
put_done(struct oreq *o, int status, json_t *j)
{
	struct lfs_req *lr = o->ext;

	if (status != 200) {
		lfs_reg_fail(o, status, j, "object commit");
		return;
	}
	ark_log_info("req %s: LFS stored %s/%s (%" PRIu64 " bytes)", o->reqid,
	    lr->p.bucket, lr->key, lr->size);
	lfs_reply(o, 200, NULL);
}

/* Every fragment is on all its replicas: commit only matching bytes. */
static void
put_commit(struct oreq *o)
{
	struct lfs_req *lr = o->ext;
	unsigned char sha[S3_CKSUM_MAXLEN], want[32];
	char hex[65], md5[33], b64[S3_CKSUM_B64_MAX];
	json_t *frags = json_array();
	struct frag *f;

	if (s3_cksum_raw(o->ck, S3_CKSUM_SHA256, sha) != 32 ||
	    s3_cksum_hex(o->ck, S3_CKSUM_MD5, md5) != ARK_OK ||
	    s3_cksum_b64(o->ck, S3_CKSUM_SHA256, b64) != ARK_OK ||
	    ark_hex_decode(lr->oid, LFS_OID_LEN, want, sizeof(want)) !=
	    ARK_OK) {
		json_decref(frags);
		lfs_error(o, 500, "checksum state lost");
		return;
	}
	if (memcmp(sha, want, 32) != 0) {
		json_decref(frags);
		ark_hex_encode(sha, 32, hex);
		lfs_error(o, 422, "content does not match the oid: the %"
		    PRIu64 " bytes received have SHA-256 %s; nothing stored",
		    o->total, hex);
		return;
	}
	for (f = o->frags; f != NULL; f = f->lnext)
		json_array_append_new(frags, json_pack("{s:s, s:I, s:I, s:I}",
		    "fid", f->fid, "offset", (json_int_t)f->offset, "length",
		    (json_int_t)f->len, "crc32c", (json_int_t)f->crc));
	od_reg_call(o, "object/put", json_pack("{s:s, s:s, s:I, s:s, s:s, "
	    "s:{s:s}, s:o}", "bucket", lr->p.bucket, "key", lr->key, "size",
	    (json_int_t)o->total, "etag", md5, "content_type",
	    "application/octet-stream", "checksums", "sha256", b64,
	    "fragments", frags), 0, put_done);
}

void
lfs_xfer_put(struct oreq *o)
{
	struct lfs_req *lr = o->ext;
	int64_t cl = ark_http_req_content_length(o->req);
	int chunked = ark_http_req_is_chunked(o->req);

	snprintf(lr->oid, sizeof(lr->oid), "%s", lr->p.oid);
	lfs_object_key(&lr->p, lr->oid, lr->key, sizeof(lr->key));
	snprintf(o->r.key, sizeof(o->r.key), "%s", lr->key);
	if (lr->token)
		lr->size = lr->token_size;
	else if (!chunked && cl >= 0)
		lr->size = (uint64_t)cl;
	else {
		lfs_error(o, 411, "Content-Length required");
		return;
	}
	if (!chunked && (cl < 0 || (uint64_t)cl != lr->size)) {
		lfs_error(o, 422, "size mismatch: the body has %lld bytes, "
		    "the object %" PRIu64, (long long)cl, lr->size);
		return;
	}
	if (lr->size / od_conf.fragment_size >= LFS_FRAGS_MAX) {
		lfs_error(o, 413, "object too large for this server's "
		    "fragment size");
		return;
	}
	if (chunked && ark_http_req_set_max_body(o->req, lr->size) !=
	    ARK_OK) {
		lfs_error(o, 422, "size mismatch");
		return;
	}
	if (s3_cksum_new(S3_CKSUM_BIT(S3_CKSUM_SHA256) |
	    S3_CKSUM_BIT(S3_CKSUM_MD5), &o->ck) != ARK_OK) {
		lfs_error(o, 500, "cannot start the checksums");
		return;
	}
	o->declared = (int64_t)lr->size;
	o->commit = put_commit;
	od_put_stream(o);
}

/* ---- download ----------------------------------------------------------- */

static void
get_done(struct oreq *o, int status, json_t *j)
{
	struct lfs_req *lr = o->ext;
	const char *head = ark_http_req_method(o->req);
	struct s3_range rg;
	uint64_t size, len;
	char buf[96];

	if (status == 404) {
		lfs_error(o, 404, "object %s not found", lr->oid);
		return;
	}
	if (status != 200) {
		lfs_reg_fail(o, status, j, "object lookup");
		return;
	}
	size = (uint64_t)od_jint(j, "size");
	if (lr->token && size != lr->token_size) {
		lfs_error(o, 404, "object %s not stored with size %" PRIu64,
		    lr->oid, lr->token_size);
		return;
	}
	if (s3_req_range(ark_http_req_header(o->req, "range"), size, &rg) !=
	    S3_OK) {
		snprintf(buf, sizeof(buf), "bytes */%" PRIu64, size);
		ark_http_resp_header(o->req, "Content-Range", buf);
		lfs_error(o, 416, "range not satisfiable");
		return;
	}
	if (!rg.set) {
		rg.start = 0;
		rg.end = size - 1;	/* wraps for 0: nothing to send */
	}
	len = size == 0 ? 0 : rg.end - rg.start + 1;
	o->obj = json_incref(j);
	ark_http_resp_header(o->req, "Content-Type", "application/octet-stream");
	ark_http_resp_header(o->req, "Accept-Ranges", "bytes");
	if (rg.set) {
		snprintf(buf, sizeof(buf), "bytes %" PRIu64 "-%" PRIu64 "/%"
		    PRIu64, rg.start, rg.end, size);
		ark_http_resp_header(o->req, "Content-Range", buf);
	}
	o->replied = 1;
	if (strcmp(head, "HEAD") == 0 || len == 0) {
		ark_http_reply_start(o->req, rg.set ? 206 : 200, (int64_t)len);
		ark_http_reply_end(o->req);
		return;
	}
	od_get_stream(o, rg.set ? 206 : 200, rg.start, rg.end);
}

void
lfs_xfer_get(struct oreq *o)
{
	struct lfs_req *lr = o->ext;

	snprintf(lr->oid, sizeof(lr->oid), "%s", lr->p.oid);
	lfs_object_key(&lr->p, lr->oid, lr->key, sizeof(lr->key));
	snprintf(o->r.key, sizeof(o->r.key), "%s", lr->key);
	od_reg_call(o, "object/get", json_pack("{s:s, s:s, s:b}", "bucket",
	    lr->p.bucket, "key", lr->key, "tokens", 1), 0, get_done);
}

/* ---- verify ------------------------------------------------------------- */

static void
verify_done(struct oreq *o, int status, json_t *j)
{
	struct lfs_req *lr = o->ext;
	unsigned char raw[32];
	char b64[ARK_BASE64_LEN(32) + 1];
	const char *have;

	if (status == 404) {
		lfs_error(o, 404, "object %s not found", lr->oid);
		return;
	}
	if (status != 200) {
		lfs_reg_fail(o, status, j, "object lookup");
		return;
	}
	have = json_string_value(json_object_get(json_object_get(j,
	    "checksums"), "sha256"));
	(void)ark_hex_decode(lr->oid, LFS_OID_LEN, raw, sizeof(raw));
	ark_base64_encode(raw, sizeof(raw), b64, 0);
	if ((uint64_t)od_jint(j, "size") != lr->size || have == NULL ||
	    strcmp(have, b64) != 0) {
		lfs_error(o, 422, "object %s is not stored with size %" PRIu64
		    " and a verified SHA-256", lr->oid, lr->size);
		return;
	}
	lfs_reply(o, 200, json_object());
}

static void
verify_body(struct oreq *o, json_t *in)
{
	struct lfs_req *lr = o->ext;
	const char *oid = json_string_value(json_object_get(in, "oid"));
	json_t *js = json_object_get(in, "size");
	enum ark_err rc;

	if (oid == NULL || !lfs_oid_valid(oid) || !json_is_integer(js) ||
	    json_integer_value(js) < 0) {
		lfs_error(o, 422, "verify needs {\"oid\": <sha256 hex>, "
		    "\"size\": <bytes>}");
		return;
	}
	snprintf(lr->oid, sizeof(lr->oid), "%s", oid);
	lr->size = (uint64_t)json_integer_value(js);
	if (lr->token && (rc = lfs_token_check(&od_secret, ARK_TOKEN_READ,
	    &lr->p, lr->oid, lr->size, lr->token_str, ark_now_s())) !=
	    ARK_OK) {
		lfs_error(o, 401, "transfer token %s", rc == ARK_EEXPIRED ?
		    "expired" : "not valid for this object");
		return;
	}
	lfs_object_key(&lr->p, lr->oid, lr->key, sizeof(lr->key));
	od_reg_call(o, "object/get", json_pack("{s:s, s:s}", "bucket",
	    lr->p.bucket, "key", lr->key), 0, verify_done);
}

void
lfs_xfer_verify(struct oreq *o)
{
	lfs_read_json(o, 64u << 10, verify_body);
}
