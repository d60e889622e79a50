/*
 * od_lfs_batch.c - POST .../info/lfs/objects/batch: for each object, one
 * registry object/get of its key decides the answer. A download gets an
 * href if the object is stored with the pointer's size (the client checks
 * the SHA-256 itself), else a 404 error; an upload gets upload and verify
 * hrefs unless the object is stored with its size and a SHA-256 that the
 * server verified (content addressed: the same oid is stored once per
 * repository). Hrefs carry transfer tokens (od_lfs_url.c).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/cksum.h"
#include "common/log.h"
#include "common/util.h"
#include "object/od.h"
#include "object/od_lfs.h"

#define LFS_BATCH_BODY_MAX	(4u << 20)
#define LFS_BATCH_OBJECTS_MAX	1000

static void	batch_next(struct oreq *o);

static json_t *
action(struct oreq *o, enum ark_token_op op, const char *suffix,
    const char *oid, uint64_t size)
{
	struct lfs_req *lr = o->ext;
	char hdr[LFS_AUTH_MAX], at[32];
	int64_t exp = ark_now_s() + LFS_TOKEN_TTL_S;
	json_t *a;
	char *href;

	if (lfs_token_header(&od_secret, op, &lr->p, oid, size, exp, hdr,
	    sizeof(hdr)) != ARK_OK)
		return NULL;
	href = lfs_href(o, suffix);
	lfs_rfc3339(exp * 1000, at, sizeof(at));
	a = json_pack("{s:s, s:{s:s}, s:i, s:s}", "href", href, "header",
	    "Authorization", hdr, "expires_in", LFS_TOKEN_TTL_S,
	    "expires_at", at);
	free(href);
	return a;
}

static json_t *
obj_error(const char *oid, json_int_t size, int code, const char *msg)
{
	return json_pack("{s:s, s:I, s:{s:i, s:s}}", "oid", oid, "size",
	    size, "error", "code", code, "message", msg);
}

/* The entry for a stored (stored=1) or missing object. */
static json_t *
obj_entry(struct oreq *o, const char *oid, uint64_t size, int stored,
    int verified)
{
	struct lfs_req *lr = o->ext;
	json_t *e, *acts;
	char suffix[LFS_OID_LEN + 16];

	if (!lr->upload && !stored)
		return obj_error(oid, (json_int_t)size, 404,
		    "Object does not exist");
	e = json_pack("{s:s, s:I, s:b}", "oid", oid, "size", (json_int_t)size,
	    "authenticated", 1);
	if (lr->upload && verified)
		return e;		/* already here: no actions */
	snprintf(suffix, sizeof(suffix), "/objects/%s", oid);
	acts = json_object();
	if (lr->upload) {
		json_object_set_new(acts, "upload", action(o, ARK_TOKEN_WRITE,
		    suffix, oid, size));
		json_object_set_new(acts, "verify", action(o, ARK_TOKEN_READ,
		    "/verify", oid, size));
	} else
		json_object_set_new(acts, "download", action(o,
		    ARK_TOKEN_READ, suffix, oid, size));
	json_object_set_new(e, "actions", acts);
	return e;
}

/* 1 when the stored object's SHA-256 (S3 form, verified on upload) is
 * the oid's. */
static int
sha_matches(const json_t *obj, const char *oid)
{
	unsigned char raw[32];
	char b64[ARK_BASE64_LEN(32) + 1];
	const char *have = json_string_value(json_object_get(json_object_get(
	    obj, "checksums"), "sha256"));

	if (have == NULL || ark_hex_decode(oid, LFS_OID_LEN, raw,
	    sizeof(raw)) != ARK_OK)
		return 0;
	ark_base64_encode(raw, sizeof(raw), b64, 0);
	return strcmp(have, b64) == 0;
}

static void
obj_done(struct oreq *o, int status, json_t *j)
{
	struct lfs_req *lr = o->ext;
	json_t *e = json_array_get(lr->objs, lr->bi);
	const char *oid = json_string_value(json_object_get(e, "oid"));
	uint64_t size = (uint64_t)json_integer_value(json_object_get(e,
	    "size"));
	int stored;

	if (status == 200) {
		stored = (uint64_t)od_jint(j, "size") == size;
		if (!stored && !lr->upload)
			json_array_append_new(lr->out, obj_error(oid,
			    (json_int_t)size, 422, "Object stored with another "
			    "size"));
		else
			json_array_append_new(lr->out, obj_entry(o, oid, size,
			    stored, stored && sha_matches(j, oid)));
	} else if (status == 404)
		json_array_append_new(lr->out, obj_entry(o, oid, size, 0, 0));
	else {
		lfs_reg_fail(o, status, j, "object lookup");
		return;
	}
	lr->bi++;
	batch_next(o);
}

static void
batch_next(struct oreq *o)
{
	struct lfs_req *lr = o->ext;
	char key[LFS_KEY_MAX];
	json_t *e, *jo, *js;
	const char *oid;
	json_int_t size;

	for (; lr->bi < json_array_size(lr->objs); lr->bi++) {
		e = json_array_get(lr->objs, lr->bi);
		jo = json_object_get(e, "oid");
		js = json_object_get(e, "size");
		oid = json_string_value(jo);
		size = json_integer_value(js);
		if (oid == NULL || !lfs_oid_valid(oid)) {
			json_array_append_new(lr->out, obj_error(oid != NULL ?
			    oid : "", json_is_integer(js) ? size : 0, 422,
			    "Invalid oid: 64 lower-case hex digits of SHA-256 "
			    "expected"));
			continue;
		}
		if (!json_is_integer(js) || size < 0) {
			json_array_append_new(lr->out, obj_error(oid, 0, 422,
			    "Invalid size: an integer >= 0 expected"));
			continue;
		}
		if ((uint64_t)size / od_conf.fragment_size >= LFS_FRAGS_MAX) {
			json_array_append_new(lr->out, obj_error(oid, size, 422,
			    "Object too large for this server's fragment "
			    "size"));
			continue;
		}
		lfs_object_key(&lr->p, oid, key, sizeof(key));
		od_reg_call(o, "object/get", json_pack("{s:s, s:s}", "bucket",
		    lr->p.bucket, "key", key), 0, obj_done);
		return;
	}
	lfs_reply(o, 200, json_pack("{s:s, s:O, s:s}", "transfer", lr->tus ?
	    "tus" : "basic",
	    "objects", lr->out, "hash_algo", "sha256"));
}

static void
batch_body(struct oreq *o, json_t *in)
{
	struct lfs_req *lr = o->ext;
	const char *op = json_string_value(json_object_get(in, "operation"));
	const char *algo = json_string_value(json_object_get(in, "hash_algo"));
	json_t *tr = json_object_get(in, "transfers"), *t;
	size_t i;
	int basic = tr == NULL || json_is_null(tr);

	if (op == NULL || (strcmp(op, "download") != 0 &&
	    strcmp(op, "upload") != 0)) {
		lfs_error(o, 422, "operation must be \"download\" or "
		    "\"upload\"");
		return;
	}
	lr->upload = strcmp(op, "upload") == 0;
	if (json_object_get(in, "hash_algo") != NULL && (algo == NULL ||
	    strcmp(algo, "sha256") != 0)) {
		lfs_error(o, 409, "hash algorithm %s not supported: sha256 only",
		    algo != NULL ? algo : "(not a string)");
		return;
	}
	if (!basic && !json_is_array(tr)) {
		lfs_error(o, 422, "transfers must be an array of strings");
		return;
	}
	json_array_foreach(tr, i, t) {
		if (!json_is_string(t))
			continue;
		if (strcmp(json_string_value(t), "basic") == 0)
			basic = 1;
		/* resumable uploads; states are kept at fragment
		 * boundaries, which must end SHA-256 blocks */
		else if (strcmp(json_string_value(t), "tus") == 0 &&
		    lr->upload && od_conf.fragment_size % 64 == 0)
			lr->tus = 1;
	}
	if (!basic && !lr->tus) {
		lfs_error(o, 422, "no supported transfer adapter: this server "
		    "speaks \"basic\"");
		return;
	}
	lr->objs = json_object_get(in, "objects");
	if (!json_is_array(lr->objs)) {
		lfs_error(o, 422, "objects must be an array");
		return;
	}
	if (json_array_size(lr->objs) > LFS_BATCH_OBJECTS_MAX) {
		lfs_error(o, 413, "at most %d objects per batch",
		    LFS_BATCH_OBJECTS_MAX);
		return;
	}
	if (lr->upload && !lr->can_write) {
		if (lr->readonly)
			lfs_error(o, 403, "access key %s is read-only",
			    o->key.id);
		else
			lfs_error(o, 403, "user %s may not write to bucket "
			    "%s (owned by %s)", o->key.user, lr->p.bucket,
			    lr->owner);
		return;
	}
	lr->out = json_array();
	lr->bi = 0;
	batch_next(o);
}

void
lfs_batch(struct oreq *o)
{
	const char *acc = ark_http_req_header(o->req, "accept");

	if (acc != NULL && acc[0] != '\0' && strstr(acc, "git-lfs+json") ==
	    NULL && strstr(acc, "application/json") == NULL &&
	    strstr(acc, "*/*") == NULL) {
		lfs_error(o, 406, "Accept must allow " LFS_MEDIA_TYPE);
		return;
	}
	lfs_read_json(o, LFS_BATCH_BODY_MAX, batch_body);
}
