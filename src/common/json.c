/*
 * json.c - strict JSON helpers over jansson. Field messages say which field
 * and what type was expected, so API clients can fix their request without
 * reading our source.
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"

static void json_seterr(struct ark_json_err *e, const char *fmt, ...)
    ARK_PRINTF(2, 3);

static void
json_seterr(struct ark_json_err *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

static const char *
json_typename(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "?";
}

enum ark_err
ark_json_parse(const void *body, size_t len, size_t max, json_t **out,
    struct ark_json_err *e)
{
	json_error_t	 jerr;
	json_t		*v;

	if (len > max) {
		json_seterr(e, "request body is %zu bytes, the limit is %zu",
		    len, max);
		return ARK_ETOOBIG;
	}
	if (len == 0) {
		json_seterr(e, "empty body, expected JSON");
		return ARK_EPROTO;
	}
	v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (v == NULL) {
		if (json_error_code(&jerr) == json_error_out_of_memory) {
			json_seterr(e, "out of memory parsing JSON");
			return ARK_ENOMEM;
		}
		json_seterr(e, "invalid JSON at line %d, column %d: %s",
		    jerr.line, jerr.column, jerr.text);
		return ARK_EPROTO;
	}
	*out = v;
	return ARK_OK;
}

enum ark_err
ark_json_parse_object(const void *body, size_t len, size_t max,
    json_t **out, struct ark_json_err *e)
{
	enum ark_err	 rc;
	json_t		*v;

	if ((rc = ark_json_parse(body, len, max, &v, e)) != ARK_OK)
		return rc;
	if (!json_is_object(v)) {
		json_seterr(e, "expected a JSON object, got %s",
		    json_typename(v));
		json_decref(v);
		return ARK_EINVAL;
	}
	*out = v;
	return ARK_OK;
}

/* Looks `field` up; ARK_OK with *vp NULL when optional and absent. */
static enum ark_err
json_field(const json_t *o, const char *field, int required, json_t **vp,
    struct ark_json_err *e)
{
	*vp = NULL;
	if (!json_is_object(o)) {
		json_seterr(e, "field \"%s\": the enclosing value is not an "
		    "object", field);
		return ARK_EINVAL;
	}
	*vp = json_object_get(o, field);
	if (*vp == NULL && required) {
		json_seterr(e, "missing required field \"%s\"", field);
		return ARK_ENOENT;
	}
	return ARK_OK;
}

static enum ark_err
json_wrongtype(const json_t *v, const char *field, const char *expected,
    struct ark_json_err *e)
{
	json_seterr(e, "field \"%s\": expected %s, got %s", field, expected,
	    json_typename(v));
	return ARK_EINVAL;
}

enum ark_err
ark_json_get_str(const json_t *o, const char *field, int required,
    size_t maxlen, const char **out, struct ark_json_err *e)
{
	enum ark_err	 rc;
	json_t		*v;

	if ((rc = json_field(o, field, required, &v, e)) != ARK_OK || v == NULL)
		return rc;
	if (!json_is_string(v))
		return json_wrongtype(v, field, "string", e);
	if (maxlen > 0 && json_string_length(v) > maxlen) {
		json_seterr(e, "field \"%s\": string of %zu bytes is longer "
		    "than the limit of %zu", field, json_string_length(v),
		    maxlen);
		return ARK_ETOOBIG;
	}
	*out = json_string_value(v);
	return ARK_OK;
}

enum ark_err
ark_json_get_int(const json_t *o, const char *field, int required,
    int64_t min, int64_t max, int64_t *out, struct ark_json_err *e)
{
	enum ark_err	 rc;
	json_t		*v;
	int64_t		 n;

	if ((rc = json_field(o, field, required, &v, e)) != ARK_OK || v == NULL)
		return rc;
	if (!json_is_integer(v))
		return json_wrongtype(v, field, "integer", e);
	n = (int64_t)json_integer_value(v);
	if (n < min || n > max) {
		json_seterr(e, "field \"%s\": %" PRId64 " is out of range "
		    "[%" PRId64 ", %" PRId64 "]", field, n, min, max);
		return ARK_EINVAL;
	}
	*out = n;
	return ARK_OK;
}

enum ark_err
ark_json_get_bool(const json_t *o, const char *field, int required,
    bool *out, struct ark_json_err *e)
{
	enum ark_err	 rc;
	json_t		*v;

	if ((rc = json_field(o, field, required, &v, e)) != ARK_OK || v == NULL)
		return rc;
	if (!json_is_boolean(v))
		return json_wrongtype(v, field, "boolean", e);
	*out = json_is_true(v);
	return ARK_OK;
}

enum ark_err
ark_json_get_array(const json_t *o, const char *field, int required,
    size_t maxlen, json_t **out, struct ark_json_err *e)
{
	enum ark_err	 rc;
	json_t		*v;

	if ((rc = json_field(o, field, required, &v, e)) != ARK_OK || v == NULL)
		return rc;
	if (!json_is_array(v))
		return json_wrongtype(v, field, "array", e);
	if (maxlen > 0 && json_array_size(v) > maxlen) {
		json_seterr(e, "field \"%s\": array of %zu elements is longer "
		    "than the limit of %zu", field, json_array_size(v), maxlen);
		return ARK_EINVAL;
	}
	*out = v;
	return ARK_OK;
}

enum ark_err
ark_json_get_object(const json_t *o, const char *field, int required,
    json_t **out, struct ark_json_err *e)
{
	enum ark_err	 rc;
	json_t		*v;

	if ((rc = json_field(o, field, required, &v, e)) != ARK_OK || v == NULL)
		return rc;
	if (!json_is_object(v))
		return json_wrongtype(v, field, "object", e);
	*out = v;
	return ARK_OK;
}

enum ark_err
ark_json_check_keys(const json_t *o, const char *const allowed[],
    struct ark_json_err *e)
{
	const char	*key;
	json_t		*v;

	if (!json_is_object(o)) {
		json_seterr(e, "expected a JSON object, got %s",
		    json_typename(o));
		return ARK_EINVAL;
	}
	/* json_object_foreach takes a non-const object but does not modify. */
	json_object_foreach((json_t *)(uintptr_t)o, key, v) {
		size_t i;

		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			json_seterr(e, "unknown field \"%s\"", key);
			return ARK_EINVAL;
		}
	}
	return ARK_OK;
}

#define JSON_DUMP_FLAGS	(JSON_COMPACT | JSON_ENCODE_ANY)

char *
ark_json_dump(const json_t *v, size_t *lenp)
{
	char *s = json_dumps(v, JSON_DUMP_FLAGS);

	if (s != NULL && lenp != NULL)
		*lenp = strlen(s);
	return s;
}

struct dump_ctx {
	struct ark_buf	*b;
	enum ark_err	 rc;
};

static int
json_dump_cb(const char *p, size_t n, void *arg)
{
	struct dump_ctx *d = arg;

	if ((d->rc = ark_buf_append(d->b, p, n)) != ARK_OK)
		return -1;
	return 0;
}

enum ark_err
ark_json_dump_buf(const json_t *v, struct ark_buf *b)
{
	struct dump_ctx d = { b, ARK_OK };

	if (json_dump_callback(v, json_dump_cb, &d, JSON_DUMP_FLAGS) != 0)
		return d.rc != ARK_OK ? d.rc : ARK_ENOMEM;
	return ARK_OK;
}
