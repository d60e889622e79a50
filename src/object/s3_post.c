/*
 * s3_post.c - POST Object form fields, authentication and policy.
 *
 * The fields are a jansson object keyed by lower-case name (insertion
 * order kept). The policy is base64 JSON {"expiration": ISO 8601,
 * "conditions": [...]}; each condition is an object {"name": "value"}
 * (exact match), ["eq" | "starts-with", "$name", "value"] or
 * ["content-length-range", min, max]. "bucket" is matched against the
 * URL's bucket and "key" against the final key (${filename} replaced),
 * as MinIO does; every other field by its value, "" when absent.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common/cksum.h"
#include "object/s3_post.h"
#include "object/s3_time.h"

#define S3_POST_FIELD_NAME_MAX	256
#define SIGV4_ALGO		"AWS4-HMAC-SHA256"

struct s3_post {
	json_t		*fields;	/* {lower-case name: value} */
};

enum s3_code
s3_post_new(struct s3_post **out)
{
	struct s3_post *p;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->fields = json_object()) == NULL) {
		free(p);
		return S3_ERR_INTERNAL;
	}
	*out = p;
	return S3_OK;
}

void
s3_post_free(struct s3_post *p)
{
	if (p == NULL)
		return;
	json_decref(p->fields);
	free(p);
}

static int
post_lower(const char *name, char out[S3_POST_FIELD_NAME_MAX])
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++) {
		if (i + 1 == S3_POST_FIELD_NAME_MAX)
			return -1;
		out[i] = (char)tolower((unsigned char)name[i]);
	}
	out[i] = '\0';
	return 0;
}

enum s3_code
s3_post_add(struct s3_post *p, const char *name, const char *value, size_t n)
{
	char lc[S3_POST_FIELD_NAME_MAX];
	json_t *v;

	if (post_lower(name, lc) != 0 || memchr(value, '\0', n) != NULL ||
	    json_object_get(p->fields, lc) != NULL)
		return S3_ERR_INVALID_ARGUMENT;
	if ((v = json_stringn_nocheck(value, n)) == NULL ||
	    json_object_set_new(p->fields, lc, v) != 0)
		return S3_ERR_INTERNAL;
	return S3_OK;
}

const char *
s3_post_get(const struct s3_post *p, const char *name)
{
	char lc[S3_POST_FIELD_NAME_MAX];

	if (post_lower(name, lc) != 0)
		return NULL;
	return json_string_value(json_object_get(p->fields, lc));
}

int
s3_post_at(const struct s3_post *p, size_t i, const char **name,
    const char **value)
{
	const char *k;
	json_t *v;
	size_t n = 0;

	json_object_foreach(p->fields, k, v) {
		if (n++ == i) {
			*name = k;
			*value = json_string_value(v);
			return 0;
		}
	}
	return -1;
}

void
s3_post_akid(const struct s3_post *p, char *out, size_t cap)
{
	const char *c = s3_post_get(p, "x-amz-credential");
	size_t n;

	out[0] = '\0';
	if (c != NULL) {
		n = strcspn(c, "/");
		if (n < cap)
			snprintf(out, cap, "%.*s", (int)n, c);
	} else if ((c = s3_post_get(p, "AWSAccessKeyId")) != NULL &&
	    strlen(c) < cap)
		snprintf(out, cap, "%s", c);
}

/* AWS's words for a missing field. */
static enum s3_code
post_missing(const char *field, char *msg, size_t cap)
{
	snprintf(msg, cap, "Bucket POST must contain a field named '%s'.  If "
	    "it is specified, please check the order of the fields.", field);
	return S3_ERR_INVALID_ARGUMENT;
}

enum s3_code
s3_post_auth(const struct s3_post *p, const struct s3_sigv4_cfg *cfg,
    struct s3_auth *out, char *msg, size_t cap)
{
	static const char *const v4[] = { "x-amz-algorithm",
	    "x-amz-credential", "x-amz-date", "x-amz-signature", "policy",
	    NULL };
	const char *policy = s3_post_get(p, "policy");
	const char *akid = s3_post_get(p, "AWSAccessKeyId");
	const char *sig = s3_post_get(p, "signature");
	int is_v4 = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	msg[0] = '\0';
	for (i = 0; v4[i] != NULL && !is_v4; i++)
		is_v4 = i < 4 && s3_post_get(p, v4[i]) != NULL;
	if (is_v4) {
		for (i = 0; v4[i] != NULL; i++)
			if (s3_post_get(p, v4[i]) == NULL)
				return post_missing(v4[i], msg, cap);
		if (strcmp(s3_post_get(p, "x-amz-algorithm"), SIGV4_ALGO) !=
		    0) {
			snprintf(msg, cap, "Only AWS4-HMAC-SHA256 is supported "
			    "as x-amz-algorithm");
			return S3_ERR_INVALID_ARGUMENT;
		}
		return s3_sigv4_verify_post(cfg, s3_post_get(p,
		    "x-amz-credential"), s3_post_get(p, "x-amz-date"), policy,
		    s3_post_get(p, "x-amz-signature"), out);
	}
	if (akid == NULL && sig == NULL && policy == NULL) {
		out->kind = S3_AUTH_ANONYMOUS;
		return S3_OK;
	}
	if (akid == NULL)
		return post_missing("AWSAccessKeyId", msg, cap);
	if (policy == NULL)
		return post_missing("policy", msg, cap);
	if (sig == NULL)
		return post_missing("signature", msg, cap);
	return s3_sigv4_verify_post_v2(cfg, akid, policy, sig, out);
}

enum s3_code
s3_post_key(const struct s3_post *p, const char *filename, char *out,
    size_t cap, char *msg, size_t msgcap)
{
	static const char var[] = "${filename}";
	const char *k = s3_post_get(p, "key"), *at;
	size_t n = 0, take, flen = strlen(filename);

	if (k == NULL || *k == '\0')
		return post_missing("key", msg, msgcap);
	while (*k != '\0') {
		at = strstr(k, var);
		take = at != NULL ? (size_t)(at - k) : strlen(k);
		if (n + take >= cap)
			return S3_ERR_KEY_TOO_LONG;
		memcpy(out + n, k, take);
		n += take;
		k += take;
		if (at == NULL)
			break;
		if (n + flen >= cap)
			return S3_ERR_KEY_TOO_LONG;
		memcpy(out + n, filename, flen);
		n += flen;
		k += sizeof(var) - 1;
	}
	out[n] = '\0';
	return S3_OK;
}

/* ISO 8601 "2007-12-01T12:00:00.000Z" (fraction optional) to epoch s. */
static int
post_time(const char *s, int64_t *out)
{
	unsigned y, mo, d, h, mi, sec;
	int n = 0;

	if (sscanf(s, "%4u-%2u-%2uT%2u:%2u:%2u%n", &y, &mo, &d, &h, &mi, &sec,
	    &n) != 6 || n != 19 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || sec > 59)
		return -1;
	s += n;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++)
			;
	if (strcmp(s, "Z") != 0)
		return -1;
	*out = s3_time_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

struct post_ctx {
	const struct s3_post *p;
	const char	*bucket, *key;
	json_t		*covered;	/* {lower-case name: true} */
	struct s3_post_range *range;
	char		*msg;
	size_t		 cap;
};

/* The value a condition on field `name` (lower-case) is checked against. */
static const char *
post_value(const struct post_ctx *c, const char *name)
{
	const char *v;

	if (strcmp(name, "bucket") == 0)
		return c->bucket;
	if (strcmp(name, "key") == 0)
		return c->key;
	v = s3_post_get(c->p, name);
	return v != NULL ? v : "";
}

static enum s3_code
post_invalid(struct post_ctx *c, const char *why)
{
	snprintf(c->msg, c->cap, "Invalid Policy: %s", why);
	return S3_ERR_INVALID_POLICY;
}

/* One eq / starts-with condition on field name ("$" already gone). */
static enum s3_code
post_match(struct post_ctx *c, const char *op, const char *name,
    const char *want)
{
	char lc[S3_POST_FIELD_NAME_MAX];
	const char *have;
	int ok;

	if (post_lower(name, lc) != 0)
		return post_invalid(c, "Invalid 'condition' field name.");
	have = post_value(c, lc);
	if (strcasecmp(op, "eq") == 0)
		ok = strcmp(have, want) == 0;
	else
		ok = strncmp(have, want, strlen(want)) == 0;
	json_object_set_new(c->covered, lc, json_true());
	if (ok)
		return S3_OK;
	snprintf(c->msg, c->cap, "Invalid according to Policy: Policy "
	    "Condition failed: [\"%s\", \"$%s\", \"%s\"]", op, name, want);
	return S3_ERR_ACCESS_DENIED;
}

static int
post_uint(const json_t *j, uint64_t *out)
{
	const char *s;
	char *end;

	if (json_is_integer(j) && json_integer_value(j) >= 0) {
		*out = (uint64_t)json_integer_value(j);
		return 0;
	}
	if ((s = json_string_value(j)) == NULL || !isdigit((unsigned char)*s))
		return -1;
	*out = strtoull(s, &end, 10);
	return *end == '\0' ? 0 : -1;
}

static enum s3_code
post_condition(struct post_ctx *c, const json_t *cond)
{
	const char *k, *op, *name;
	json_t *v;
	enum s3_code sc;

	if (json_is_object(cond)) {
		json_object_foreach((json_t *)cond, k, v) {
			if (!json_is_string(v))
				return post_invalid(c, "Invalid 'condition' "
				    "value.");
			if ((sc = post_match(c, "eq", k, json_string_value(v)))
			    != S3_OK)
				return sc;
		}
		return S3_OK;
	}
	if (!json_is_array(cond) || json_array_size(cond) != 3 ||
	    (op = json_string_value(json_array_get(cond, 0))) == NULL)
		return post_invalid(c, "Invalid 'condition' format.");
	if (strcasecmp(op, "content-length-range") == 0) {
		if (post_uint(json_array_get(cond, 1), &c->range->min) != 0 ||
		    post_uint(json_array_get(cond, 2), &c->range->max) != 0)
			return post_invalid(c, "Invalid 'content-length-range' "
			    "value.");
		c->range->set = 1;
		return S3_OK;
	}
	if (strcasecmp(op, "eq") != 0 && strcasecmp(op, "starts-with") != 0)
		return post_invalid(c, "Invalid 'condition' operation.");
	name = json_string_value(json_array_get(cond, 1));
	v = json_array_get(cond, 2);
	if (name == NULL || name[0] != '$' || !json_is_string(v))
		return post_invalid(c, "Invalid 'condition' format.");
	return post_match(c, op, name + 1, json_string_value(v));
}

/* Fields no condition has to name. */
static int
post_exempt(const char *name, enum s3_auth_kind kind)
{
	return strcmp(name, "x-amz-signature") == 0 ||
	    strcmp(name, "policy") == 0 || strcmp(name, "file") == 0 ||
	    strncmp(name, "x-ignore-", 9) == 0 || (kind == S3_AUTH_V2_POST &&
	    (strcmp(name, "awsaccesskeyid") == 0 ||
	    strcmp(name, "signature") == 0));
}

enum s3_code
s3_post_policy(const struct s3_post *p, enum s3_auth_kind kind,
    const char *bucket, const char *key, int64_t now,
    struct s3_post_range *range, char *msg, size_t cap)
{
	const char *b64 = s3_post_get(p, "policy"), *exp, *name;
	struct post_ctx c = { p, bucket, key, NULL, range, msg, cap };
	json_t *doc = NULL, *conds, *e;
	unsigned char *raw;
	size_t rawlen, i;
	int64_t t;
	enum s3_code sc = S3_OK;

	memset(range, 0, sizeof(*range));
	msg[0] = '\0';
	if (b64 == NULL)
		return post_invalid(&c, "Policy missing.");
	raw = malloc(strlen(b64) / 4 * 3 + 3);
	if (raw == NULL)
		return S3_ERR_INTERNAL;
	if (ark_base64_decode(b64, strlen(b64), raw, strlen(b64) / 4 * 3 + 3,
	    &rawlen, 0) == ARK_OK)
		doc = json_loadb((const char *)raw, rawlen, 0, NULL);
	free(raw);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return post_invalid(&c, "Invalid JSON.");
	}
	exp = json_string_value(json_object_get(doc, "expiration"));
	conds = json_object_get(doc, "conditions");
	if (exp == NULL)
		sc = post_invalid(&c, "Policy missing expiration.");
	else if (post_time(exp, &t) != 0)
		sc = post_invalid(&c, "Invalid 'expiration' value.");
	else if (!json_is_array(conds))
		sc = post_invalid(&c, "Policy missing conditions.");
	else if (now > t) {
		snprintf(msg, cap, "Invalid according to Policy: Policy "
		    "expired.");
		sc = S3_ERR_ACCESS_DENIED;
	}
	if (sc == S3_OK && (c.covered = json_object()) == NULL)
		sc = S3_ERR_INTERNAL;
	json_array_foreach(conds, i, e) {
		if (sc != S3_OK)
			break;
		sc = post_condition(&c, e);
	}
	for (i = 0; sc == S3_OK && s3_post_at(p, i, &name, &exp) == 0; i++) {
		if (post_exempt(name, kind) ||
		    json_object_get(c.covered, name) != NULL)
			continue;
		snprintf(msg, cap, "Invalid according to Policy: Extra input "
		    "fields: %s", name);
		sc = S3_ERR_ACCESS_DENIED;
	}
	json_decref(c.covered);
	json_decref(doc);
	return sc;
}
