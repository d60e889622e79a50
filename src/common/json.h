/*
 * json.h - strict helpers over jansson for the internal HTTP APIs:
 * size-limited parsing with line/column errors, typed field extraction
 * that names the field and the expected type, unknown-field rejection,
 * compact dumping.
 *
 * Each error fills a struct ark_json_err (may be NULL) with one message
 * suitable for an HTTP 400 body; nothing is logged here (the caller
 * decides). Thread-safe: jansson values are not shared between threads
 * by these helpers. Borrowed pointers (strings, arrays) live as long as
 * the json_t they came from.
 */
#ifndef ARKOR_COMMON_JSON_H
#define ARKOR_COMMON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"

struct ark_json_err {
	char	msg[256];
};

/* Field presence for the getters below. */
#define ARK_JSON_OPTIONAL	0
#define ARK_JSON_REQUIRED	1

/* Parses `len` bytes of `body` (need not be NUL-terminated). Rejects
 * bodies over `max` bytes (ARK_ETOOBIG), invalid JSON, duplicate keys and
 * trailing garbage (ARK_EPROTO, message with line and column). On ARK_OK
 * the caller owns *out (json_decref). */
enum ark_err	 ark_json_parse(const void *body, size_t len, size_t max,
		    json_t **out, struct ark_json_err *e);
/* Same, and the top level must be an object (ARK_EINVAL otherwise). */
enum ark_err	 ark_json_parse_object(const void *body, size_t len,
		    size_t max, json_t **out, struct ark_json_err *e);

/*
 * Field getters on object `o`. A missing field is ARK_ENOENT when
 * `required`, otherwise ARK_OK with *out untouched (so preset a default).
 * A present field of the wrong type (null included) or out of bounds is
 * ARK_EINVAL with a message naming the field and what was expected.
 */
/* String of at most `maxlen` bytes (0 = no limit; a longer one is
 * ARK_ETOOBIG); *out is borrowed. */
enum ark_err	 ark_json_get_str(const json_t *o, const char *field,
		    int required, size_t maxlen, const char **out,
		    struct ark_json_err *e);
/* Integer in [min, max]; reals such as 1.0 are rejected. */
enum ark_err	 ark_json_get_int(const json_t *o, const char *field,
		    int required, int64_t min, int64_t max, int64_t *out,
		    struct ark_json_err *e);
enum ark_err	 ark_json_get_bool(const json_t *o, const char *field,
		    int required, bool *out, struct ark_json_err *e);
/* Array of at most `maxlen` elements (0 = no limit); *out is borrowed. */
enum ark_err	 ark_json_get_array(const json_t *o, const char *field,
		    int required, size_t maxlen, json_t **out,
		    struct ark_json_err *e);
enum ark_err	 ark_json_get_object(const json_t *o, const char *field,
		    int required, json_t **out, struct ark_json_err *e);

/* ARK_EINVAL naming the first key of `o` not in `allowed` (a NULL-
 * terminated list); ARK_EINVAL too if `o` is not an object. */
enum ark_err	 ark_json_check_keys(const json_t *o,
		    const char *const allowed[], struct ark_json_err *e);

/* Compact encoding (no spaces, keys in insertion order) of any value.
 * Caller owns the result (free()); NULL on ENOMEM. *lenp may be NULL. */
char		*ark_json_dump(const json_t *v, size_t *lenp);
/* Appends the compact encoding to `b`; ARK_ETOOBIG/ARK_ENOMEM from the
 * buffer (contents then unspecified past the old length: truncate). */
enum ark_err	 ark_json_dump_buf(const json_t *v, struct ark_buf *b);

#endif /* ARKOR_COMMON_JSON_H */
