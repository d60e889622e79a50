/*
 * od_cors.c - CORS in arkor-objectd: PutBucketCors, GetBucketCors and
 * DeleteBucketCors over the registry's bucket/config and bucket/get
 * (the rules stored as JSON, {"rules": [...]}), the OPTIONS preflight,
 * and the CORS headers of actual requests carrying an Origin.
 *
 * Only requests with an Origin header (and preflights) look at a
 * bucket's rules. They come from a per-process cache of parsed
 * configurations, OD_CORS_TTL_S seconds per bucket, filled by one
 * bucket/get as the service on a miss: a change made through another
 * objectd takes effect here within that time (this process forgets its
 * entry at once when it stores or deletes a configuration).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "common/util.h"
#include "object/od.h"
#include "object/od_s3.h"
#include "object/s3_cors.h"

#define OD_CORS_TTL_S		5
#define OD_CORS_CACHE		64	/* buckets remembered */

struct cors_ent {
	char		 bucket[S3_BUCKET_MAX + 1];
	int64_t		 expires;	/* 0: free */
	int		 exists;	/* the bucket exists */
	struct s3_cors	 conf;		/* no rules: no configuration */
};

static pthread_mutex_t	 cors_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct cors_ent	 cors_cache[OD_CORS_CACHE];
static unsigned		 cors_next;

/* ---- JSON form --------------------------------------------------------- */

static json_t *
list_json(const struct s3_cors_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

static json_t *
cors_to_json(const struct s3_cors *c)
{
	json_t *rules = json_array(), *r;

	for (size_t i = 0; i < c->nrules; i++) {
		const struct s3_cors_rule *cr = &c->rules[i];

		r = json_pack("{s:o, s:o, s:o, s:o}", "origins",
		    list_json(&cr->origins), "methods", list_json(&cr->methods),
		    "headers", list_json(&cr->headers), "expose",
		    list_json(&cr->expose));
		if (cr->id != NULL)
			json_object_set_new(r, "id", json_string(cr->id));
		if (cr->max_age >= 0)
			json_object_set_new(r, "max_age",
			    json_integer(cr->max_age));
		json_array_append_new(rules, r);
	}
	return json_pack("{s:o}", "rules", rules);
}

static int
list_from_json(const json_t *a, struct s3_cors_list *l)
{
	const char *s;
	json_t *e;
	size_t i;

	json_array_foreach(a, i, e)
		if ((s = json_string_value(e)) == NULL ||
		    s3_cors_list_add(l, s, strlen(s)) != ARK_OK)
			return -1;
	return 0;
}

/* The stored rules j (borrowed, may be NULL) into *out; an unreadable
 * configuration is logged and read as none. */
static void
cors_from_json(const char *bucket, const json_t *j, struct s3_cors *out)
{
	struct s3_cors_rule r;
	const char *id;
	json_t *e;
	size_t i;

	memset(out, 0, sizeof(*out));
	json_array_foreach(json_object_get(j, "rules"), i, e) {
		s3_cors_rule_init(&r);
		id = json_string_value(json_object_get(e, "id"));
		if (id != NULL)
			r.id = ark_xstrdup(id);
		if (json_is_integer(json_object_get(e, "max_age")))
			r.max_age = json_integer_value(json_object_get(e,
			    "max_age"));
		if (list_from_json(json_object_get(e, "origins"),
		    &r.origins) || list_from_json(json_object_get(e,
		    "methods"), &r.methods) || list_from_json(
		    json_object_get(e, "headers"), &r.headers) ||
		    list_from_json(json_object_get(e, "expose"), &r.expose) ||
		    s3_cors_add_rule(out, &r) != S3_OK) {
			s3_cors_rule_free(&r);
			s3_cors_free(out);
			ark_log_warnx("bucket %s: stored CORS configuration "
			    "unreadable, ignored", bucket);
			return;
		}
	}
}

/* ---- cache --------------------------------------------------------------- */

static void
emit_json(void *arg, const char *name, const char *value)
{
	json_object_set_new(arg, name, json_string(value));
}

/* o->cors_hdrs gets the headers of e's rule matching origin and method
 * (and a preflight's requested headers); cors_mtx held. */
static void
do_cors_match(struct oreq *o, const struct cors_ent *e, const char *origin,
    const char *method, const char *acrh)
{
	const struct s3_cors_rule *r;

	if ((r = s3_cors_match(&e->conf, origin, method, acrh)) == NULL)
		return;
	json_decref(o->cors_hdrs);
	o->cors_hdrs = json_object();
	s3_cors_headers(r, origin, acrh, emit_json, o->cors_hdrs);
}

/* Evaluates the cached configuration of o's bucket (do_cors_match): 1
 * when the bucket was cached (*exists set), 0 when not. */
static int
cors_eval(struct oreq *o, const char *origin, const char *method,
    const char *acrh, int *exists)
{
	int64_t now = ark_now_s();
	int found = 0;
	unsigned i;

	pthread_mutex_lock(&cors_mtx);
	for (i = 0; i < OD_CORS_CACHE; i++) {
		struct cors_ent *e = &cors_cache[i];

		if (e->expires <= now || strcmp(e->bucket, o->r.bucket) != 0)
			continue;
		found = 1;
		*exists = e->exists;
		do_cors_match(o, e, origin, method, acrh);
		break;
	}
	pthread_mutex_unlock(&cors_mtx);
	return found;
}

/* Caches bucket/get's answer (status 200 or 404) for o's bucket and
 * evaluates it as cors_eval does; 1 when the bucket exists. */
static int
cors_store(struct oreq *o, int status, json_t *j, const char *origin,
    const char *method, const char *acrh)
{
	struct cors_ent *e = NULL;
	struct s3_cors c;
	unsigned i;

	cors_from_json(o->r.bucket, json_object_get(j, "cors"), &c);
	pthread_mutex_lock(&cors_mtx);
	for (i = 0; i < OD_CORS_CACHE && e == NULL; i++)
		if (strcmp(cors_cache[i].bucket, o->r.bucket) == 0)
			e = &cors_cache[i];
	if (e == NULL)
		e = &cors_cache[cors_next++ % OD_CORS_CACHE];
	s3_cors_free(&e->conf);
	snprintf(e->bucket, sizeof(e->bucket), "%s", o->r.bucket);
	e->exists = status == 200;
	e->conf = c;
	e->expires = ark_now_s() + OD_CORS_TTL_S;
	do_cors_match(o, e, origin, method, acrh);
	pthread_mutex_unlock(&cors_mtx);
	return status == 200;
}

static void
cors_forget(const char *bucket)
{
	pthread_mutex_lock(&cors_mtx);
	for (unsigned i = 0; i < OD_CORS_CACHE; i++)
		if (strcmp(cors_cache[i].bucket, bucket) == 0)
			cors_cache[i].expires = 0;
	pthread_mutex_unlock(&cors_mtx);
}

/* ---- actual requests ----------------------------------------------------- */

/* Any other answer leaves the request without CORS headers (and the
 * cache without the bucket). */
static void
actual_done(struct oreq *o, int status, json_t *j)
{
	if (status == 200 || status == 404)
		cors_store(o, status, j, s3_view_header(&o->v, "origin"),
		    o->v.method, NULL);
	o->cors_next(o);
}

void
od_cors_actual(struct oreq *o, void (*next)(struct oreq *o))
{
	int exists;

	if (cors_eval(o, s3_view_header(&o->v, "origin"), o->v.method, NULL,
	    &exists)) {
		next(o);
		return;
	}
	o->cors_next = next;
	od_reg_call(o, "bucket/get", json_pack("{s:s}", "bucket",
	    o->r.bucket), 1, actual_done);
}

/* ---- preflight ------------------------------------------------------------ */

static void
preflight_reply(struct oreq *o, int exists)
{
	if (!exists)
		od_error(o, S3_ERR_NO_SUCH_BUCKET, NULL);
	else if (o->cors_hdrs == NULL)
		od_error(o, S3_ERR_CORS_FORBIDDEN, NULL);
	else
		od_empty_reply(o, 200);
}

static const char *
preflight_acrh(struct oreq *o)
{
	const char *h = s3_view_header(&o->v,
	    "access-control-request-headers");

	return h != NULL ? h : "";
}

static void
preflight_done(struct oreq *o, int status, json_t *j)
{
	if (status != 200 && status != 404) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	preflight_reply(o, cors_store(o, status, j, s3_view_header(&o->v,
	    "origin"), s3_view_header(&o->v, "access-control-request-method"),
	    preflight_acrh(o)));
}

void
od_cors_preflight(struct oreq *o)
{
	int exists;

	if (s3_view_header(&o->v, "origin") == NULL) {
		od_error(o, S3_ERR_BAD_REQUEST, NULL);
		return;
	}
	if (s3_view_header(&o->v, "access-control-request-method") == NULL) {
		od_error(o, S3_ERR_BAD_REQUEST, "Invalid "
		    "Access-Control-Request-Method: null");
		return;
	}
	if (cors_eval(o, s3_view_header(&o->v, "origin"),
	    s3_view_header(&o->v, "access-control-request-method"),
	    preflight_acrh(o), &exists)) {
		preflight_reply(o, exists);
		return;
	}
	od_reg_call(o, "bucket/get", json_pack("{s:s}", "bucket",
	    o->r.bucket), 1, preflight_done);
}

/* ---- Get/Put/DeleteBucketCors --------------------------------------------- */

static void
xml_list(struct s3_xmlw *w, const char *name, const json_t *a)
{
	json_t *e;
	size_t i;

	json_array_foreach(a, i, e)
		if (json_is_string(e))
			s3_xmlw_elem(w, name, json_string_value(e));
}

static void
get_done(struct oreq *o, int status, json_t *j)
{
	json_t *rules = json_object_get(json_object_get(j, "cors"), "rules");
	json_t *r, *age;
	struct ark_buf out;
	struct s3_xmlw w;
	size_t i;

	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	if (json_array_size(rules) == 0) {
		od_error(o, S3_ERR_NO_SUCH_CORS, NULL);
		return;
	}
	ark_buf_init(&out, 1u << 20);
	s3_xmlw_init(&w, &out);
	s3_xmlw_start_ns(&w, "CORSConfiguration");
	json_array_foreach(rules, i, r) {
		s3_xmlw_start(&w, "CORSRule");
		if (json_is_string(json_object_get(r, "id")))
			s3_xmlw_elem(&w, "ID", od_jstr(r, "id"));
		xml_list(&w, "AllowedHeader", json_object_get(r, "headers"));
		xml_list(&w, "AllowedMethod", json_object_get(r, "methods"));
		xml_list(&w, "AllowedOrigin", json_object_get(r, "origins"));
		xml_list(&w, "ExposeHeader", json_object_get(r, "expose"));
		if (json_is_integer(age = json_object_get(r, "max_age")))
			s3_xmlw_elem_u64(&w, "MaxAgeSeconds",
			    (uint64_t)json_integer_value(age));
		s3_xmlw_end(&w);
	}
	s3_xmlw_end(&w);
	od_xml_finish(o, &w, &out);
}

static void
set_done(struct oreq *o, int status, json_t *j)
{
	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	cors_forget(o->r.bucket);
	od_empty_reply(o, o->r.op == S3_OP_DELETE_BUCKET_CORS ? 204 : 200);
}

static void
set_call(struct oreq *o, json_t *cors)
{
	od_reg_call(o, "bucket/config", json_pack("{s:s, s:o}", "bucket",
	    o->r.bucket, "cors", cors), 0, set_done);
}

static void
put_parsed(struct oreq *o)
{
	struct s3_cors c;
	enum s3_code sc;

	if ((sc = s3_xml_parse_cors(ark_buf_str(&o->body),
	    ark_buf_len(&o->body), &c)) != S3_OK) {
		od_put_fail(o, sc, sc == S3_ERR_INVALID_REQUEST ? "CORS rule: "
		    "AllowedMethod must be GET, PUT, POST, DELETE or HEAD; "
		    "AllowedOrigin and AllowedHeader can have at most one "
		    "wildcard" : NULL);
		return;
	}
	set_call(o, cors_to_json(&c));
	s3_cors_free(&c);
}

void
od_s3_cors(struct oreq *o)
{
	switch (o->r.op) {
	case S3_OP_GET_BUCKET_CORS:
		od_reg_call(o, "bucket/get", json_pack("{s:s}", "bucket",
		    o->r.bucket), 0, get_done);
		return;
	case S3_OP_PUT_BUCKET_CORS:
		od_s3_read_body(o, S3_XML_MAX_SMALL, put_parsed);
		return;
	default:
		set_call(o, json_object());		/* {} removes */
	}
}
