/*
 * od_lfs_lock.c - the Git LFS locking API over the registry's locks
 * (lock/create, lock/list, lock/delete in the namespace "<bucket>/<repo>",
 * so they survive restarts):
 *   POST .../locks                {"path"}       201 {"lock"}, 409 if held
 *   GET  .../locks?path=&id=&cursor=&limit=&refspec=
 *   POST .../locks/verify         {"cursor", "limit"}  {"ours", "theirs"}
 *   POST .../locks/<id>/unlock    {"force"}      403 for another's lock
 *                                                without force, and force
 *                                                needs the bucket owner
 *                                                or an admin
 * Locks are repository-wide: "ref"/"refspec" are accepted and ignored.
 * The lock owner is the Arkor user name of the access key.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "common/util.h"
#include "object/od.h"
#include "object/od_lfs.h"
#include "object/s3_uri.h"

#define LFS_LOCK_PATH_MAX	4096
#define LFS_LOCK_LIMIT_MAX	10000

/* The registry's {"id", "path", "owner", "locked_ms"} as Git LFS's
 * {"id", "path", "locked_at", "owner": {"name"}}. */
static json_t *
lock_conv(const json_t *l)
{
	char at[32];

	lfs_rfc3339(od_jint(l, "locked_ms"), at, sizeof(at));
	return json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", od_jstr(l, "id"),
	    "path", od_jstr(l, "path"), "locked_at", at, "owner", "name",
	    od_jstr(l, "owner"));
}

static json_t *
ns_body(struct oreq *o)
{
	struct lfs_req *lr = o->ext;
	char ns[LFS_REPO_MAX + 80];

	lfs_namespace(&lr->p, ns, sizeof(ns));
	return json_pack("{s:s}", "namespace", ns);
}

/* ---- create --------------------------------------------------------------- */

static void
create_done(struct oreq *o, int status, json_t *j)
{
	json_t *l = json_object_get(j, "lock");

	if (status == 409 && json_is_object(l)) {
		char msg[160];

		snprintf(msg, sizeof(msg), "already locked by %s",
		    od_jstr(l, "owner"));
		lfs_reply(o, 409, json_pack("{s:o, s:s, s:s}", "lock",
		    lock_conv(l), "message", msg, "request_id", o->reqid));
		return;
	}
	if (status != 200 || !json_is_object(l)) {
		lfs_reg_fail(o, status, j, "lock");
		return;
	}
	lfs_reply(o, 201, json_pack("{s:o}", "lock", lock_conv(l)));
}

static void
create_body(struct oreq *o, json_t *in)
{
	const char *path = json_string_value(json_object_get(in, "path"));
	json_t *b;

	if (path == NULL || path[0] == '\0' ||
	    strlen(path) > LFS_LOCK_PATH_MAX) {
		lfs_error(o, 422, "path must be a non-empty string of at most "
		    "%d bytes", LFS_LOCK_PATH_MAX);
		return;
	}
	b = ns_body(o);
	json_object_set_new(b, "path", json_string(path));
	json_object_set_new(b, "owner", json_string(o->key.user));
	od_reg_call(o, "lock/create", b, 1, create_done);
}

void
lfs_lock_create(struct oreq *o)
{
	lfs_read_json(o, 64u << 10, create_body);
}

/* ---- list ------------------------------------------------------------------ */

static void
list_done(struct oreq *o, int status, json_t *j)
{
	json_t *arr = json_array(), *l, *out;
	const char *next = od_jstr(j, "next_cursor");
	size_t i;

	if (status != 200) {
		json_decref(arr);
		lfs_reg_fail(o, status, j, "locks");
		return;
	}
	json_array_foreach(json_object_get(j, "locks"), i, l)
		json_array_append_new(arr, lock_conv(l));
	out = json_pack("{s:o}", "locks", arr);
	if (next[0] != '\0')
		json_object_set_new(out, "next_cursor", json_string(next));
	lfs_reply(o, 200, out);
}

/* Query parameter `name` decoded as a form value ('+' is a space, as Go's
 * url.Values sends it) into out; 0 absent, 1 found, -1 bad. */
static int
query_param(const char *query, const char *name, char *out, size_t cap)
{
	struct s3_uri_param p;
	const char *cur = query;
	char raw[3 * LFS_LOCK_PATH_MAX + 1];
	size_t i, n;

	while (s3_uri_query_next(&cur, &p)) {
		if (p.keylen != strlen(name) || memcmp(p.key, name,
		    p.keylen) != 0)
			continue;
		if (p.vallen >= sizeof(raw))
			return -1;
		for (i = 0; i < p.vallen; i++)
			raw[i] = p.val[i] == '+' ? ' ' : p.val[i];
		/* a decoded NUL would cut the value short: refuse it */
		return s3_uri_decode_to(raw, p.vallen, out, cap, &n) ==
		    ARK_OK && strlen(out) == n ? 1 : -1;
	}
	return 0;
}

/* "limit" of a query or body: 1..10000; 0 when absent, -1 invalid. */
static int
limit_value(const char *s)
{
	char *end;
	long v;

	if (s == NULL || s[0] == '\0')
		return 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 1 || v > LFS_LOCK_LIMIT_MAX)
		return -1;
	return (int)v;
}

void
lfs_lock_list(struct oreq *o)
{
	const char *q = ark_http_req_query(o->req);
	char id[LFS_LOCK_ID_MAX + 1], cursor[LFS_LOCK_ID_MAX + 1], lim[16];
	char *pbuf;
	json_t *b = ns_body(o);
	int limit, rp, ri, rc, rl;

	pbuf = ark_xmalloc(LFS_LOCK_PATH_MAX + 1);
	rp = query_param(q, "path", pbuf, LFS_LOCK_PATH_MAX + 1);
	ri = query_param(q, "id", id, sizeof(id));
	rc = query_param(q, "cursor", cursor, sizeof(cursor));
	rl = query_param(q, "limit", lim, sizeof(lim));
	limit = rl == 1 ? limit_value(lim) : 0;
	if (rp < 0 || ri < 0 || rc < 0 || rl < 0 || limit < 0) {
		free(pbuf);
		json_decref(b);
		lfs_error(o, 422, "invalid query: path, id, cursor, limit "
		    "(1..%d) or refspec", LFS_LOCK_LIMIT_MAX);
		return;
	}
	if (rp == 1 && pbuf[0] != '\0')
		json_object_set_new(b, "path", json_string(pbuf));
	if (ri == 1 && id[0] != '\0')
		json_object_set_new(b, "id", json_string(id));
	if (rc == 1 && cursor[0] != '\0')
		json_object_set_new(b, "cursor", json_string(cursor));
	if (limit > 0)
		json_object_set_new(b, "limit", json_integer(limit));
	free(pbuf);
	od_reg_call(o, "lock/list", b, 1, list_done);
}

/* ---- verify ---------------------------------------------------------------- */

static void
verify_done(struct oreq *o, int status, json_t *j)
{
	json_t *ours = json_array(), *theirs = json_array(), *l, *out;
	const char *next = od_jstr(j, "next_cursor");
	size_t i;

	if (status != 200) {
		json_decref(ours);
		json_decref(theirs);
		lfs_reg_fail(o, status, j, "locks");
		return;
	}
	json_array_foreach(json_object_get(j, "locks"), i, l)
		json_array_append_new(strcmp(od_jstr(l, "owner"),
		    o->key.user) == 0 ? ours : theirs, lock_conv(l));
	out = json_pack("{s:o, s:o}", "ours", ours, "theirs", theirs);
	if (next[0] != '\0')
		json_object_set_new(out, "next_cursor", json_string(next));
	lfs_reply(o, 200, out);
}

static void
verify_body(struct oreq *o, json_t *in)
{
	json_t *b, *jl = json_object_get(in, "limit");
	const char *cursor = json_string_value(json_object_get(in, "cursor"));

	if (jl != NULL && !json_is_null(jl) && (!json_is_integer(jl) ||
	    json_integer_value(jl) < 1 || json_integer_value(jl) >
	    LFS_LOCK_LIMIT_MAX)) {
		lfs_error(o, 422, "limit must be 1..%d", LFS_LOCK_LIMIT_MAX);
		return;
	}
	if (cursor != NULL && strlen(cursor) > LFS_LOCK_ID_MAX) {
		lfs_error(o, 422, "invalid cursor");
		return;
	}
	b = ns_body(o);
	if (cursor != NULL && cursor[0] != '\0')
		json_object_set_new(b, "cursor", json_string(cursor));
	if (json_is_integer(jl))
		json_object_set_new(b, "limit", json_integer(
		    json_integer_value(jl)));
	od_reg_call(o, "lock/list", b, 1, verify_done);
}

void
lfs_lock_verify(struct oreq *o)
{
	lfs_read_json(o, 64u << 10, verify_body);
}

/* ---- unlock ---------------------------------------------------------------- */

static void
unlock_done(struct oreq *o, int status, json_t *j)
{
	struct lfs_req *lr = o->ext;
	json_t *l = json_object_get(j, "lock");

	if (status == 403) {
		lfs_error(o, 403, "lock %s is held by another user: unlock "
		    "with --force (bucket owner or admin only)",
		    lr->p.lock_id);
		return;
	}
	if (status == 404) {
		lfs_error(o, 404, "no lock %s", lr->p.lock_id);
		return;
	}
	if (status != 200 || !json_is_object(l)) {
		lfs_reg_fail(o, status, j, "unlock");
		return;
	}
	lfs_reply(o, 200, json_pack("{s:o}", "lock", lock_conv(l)));
}

static void
unlock_body(struct oreq *o, json_t *in)
{
	struct lfs_req *lr = o->ext;
	int force = json_is_true(json_object_get(in, "force"));
	json_t *b;

	if (force && !lr->can_force) {
		lfs_error(o, 403, "force unlock needs the bucket owner (%s) or "
		    "an admin", lr->owner);
		return;
	}
	b = ns_body(o);
	json_object_set_new(b, "id", json_string(lr->p.lock_id));
	json_object_set_new(b, "owner", json_string(o->key.user));
	json_object_set_new(b, "force", json_boolean(force));
	od_reg_call(o, "lock/delete", b, 1, unlock_done);
}

void
lfs_lock_unlock(struct oreq *o)
{
	lfs_read_json(o, 64u << 10, unlock_body);
}
