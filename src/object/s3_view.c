/*
 * s3_view.c - header lookups through a struct s3_view, and the
 * name/value array adapter used by tests and fuzzers.
 */
#include "config.h"

#include <stdint.h>
#include <strings.h>

#include "common/http_server.h"
#include "object/s3_view.h"

const char *
s3_view_header(const struct s3_view *v, const char *name)
{
	if (v->header == NULL)
		return NULL;
	return v->header(v->arg, name);
}

static const char *
view_kv_header(void *arg, const char *name)
{
	const char *const *kv = arg;

	for (size_t i = 0; kv[i] != NULL && kv[i + 1] != NULL; i += 2)
		if (strcasecmp(kv[i], name) == 0)
			return kv[i + 1];
	return NULL;
}

static int
view_kv_header_at(void *arg, size_t idx, const char **name,
    const char **value)
{
	const char *const *kv = arg;

	for (size_t i = 0; kv[i] != NULL && kv[i + 1] != NULL; i += 2)
		if (i / 2 == idx) {
			*name = kv[i];
			*value = kv[i + 1];
			return 0;
		}
	return -1;
}

void
s3_view_init_kv(struct s3_view *v, const char *method, const char *path,
    const char *query, const char *const *kv)
{
	v->method = method;
	v->path = path;
	v->query = query;
	v->host_bucket = NULL;
	v->header = view_kv_header;
	v->header_at = view_kv_header_at;
	/* The callbacks only read through it. */
	v->arg = (void *)(uintptr_t)kv;
}

static const char *
view_http_header(void *arg, const char *name)
{
	return ark_http_req_header(arg, name);
}

static int
view_http_header_at(void *arg, size_t i, const char **name,
    const char **value)
{
	return ark_http_req_header_at(arg, i, name, value) == ARK_OK ? 0 : -1;
}

void
s3_view_init_http(struct s3_view *v, const struct ark_http_req *req)
{
	v->method = ark_http_req_method(req);
	v->path = ark_http_req_path(req);
	v->query = ark_http_req_query(req);
	v->host_bucket = NULL;
	v->header = view_http_header;
	v->header_at = view_http_header_at;
	/* The accessors take a const request; the cast only fits the
	 * generic callback argument. */
	v->arg = (void *)(uintptr_t)req;
}
