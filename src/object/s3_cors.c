/*
 * s3_cors.c - CORS rules: checks, evaluation and response headers (see
 * s3_cors.h).
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/util.h"
#include "object/s3_cors.h"

#define CORS_HDR_MAX	8192	/* a joined response header value */

static const char *const cors_methods[] = { "GET", "PUT", "POST", "DELETE",
    "HEAD" };

enum ark_err
s3_cors_list_add(struct s3_cors_list *l, const char *s, size_t n)
{
	char **nv, *c;

	if ((c = malloc(n + 1)) == NULL)
		return ARK_ENOMEM;
	if ((nv = realloc(l->v, (l->n + 1) * sizeof(*nv))) == NULL) {
		free(c);
		return ARK_ENOMEM;
	}
	memcpy(c, s, n);
	c[n] = '\0';
	l->v = nv;
	l->v[l->n++] = c;
	return ARK_OK;
}

static void
list_free(struct s3_cors_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
s3_cors_rule_init(struct s3_cors_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->max_age = -1;
}

void
s3_cors_rule_free(struct s3_cors_rule *r)
{
	free(r->id);
	list_free(&r->origins);
	list_free(&r->methods);
	list_free(&r->headers);
	list_free(&r->expose);
	s3_cors_rule_init(r);
}

void
s3_cors_free(struct s3_cors *c)
{
	for (size_t i = 0; i < c->nrules; i++)
		s3_cors_rule_free(&c->rules[i]);
	free(c->rules);
	c->rules = NULL;
	c->nrules = 0;
}

static int
one_wildcard(const struct s3_cors_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *star = strchr(l->v[i], '*');

		if (star != NULL && strchr(star + 1, '*') != NULL)
			return 0;
	}
	return 1;
}

static enum s3_code
rule_check(const struct s3_cors_rule *r)
{
	size_t i, k;

	if (r->origins.n == 0 || r->methods.n == 0 ||
	    (r->id != NULL && strlen(r->id) > S3_CORS_ID_MAX))
		return S3_ERR_MALFORMED_XML;
	for (i = 0; i < r->methods.n; i++) {
		for (k = 0; k < ARK_ARRAY_SIZE(cors_methods); k++)
			if (strcmp(r->methods.v[i], cors_methods[k]) == 0)
				break;
		if (k == ARK_ARRAY_SIZE(cors_methods))
			return S3_ERR_INVALID_REQUEST;
	}
	if (!one_wildcard(&r->origins) || !one_wildcard(&r->headers))
		return S3_ERR_INVALID_REQUEST;
	return S3_OK;
}

enum s3_code
s3_cors_add_rule(struct s3_cors *c, struct s3_cors_rule *r)
{
	struct s3_cors_rule *nr;
	enum s3_code sc;

	if ((sc = rule_check(r)) == S3_OK && c->nrules == S3_CORS_MAX_RULES)
		sc = S3_ERR_MALFORMED_XML;
	if (sc == S3_OK && (nr = realloc(c->rules, (c->nrules + 1) *
	    sizeof(*nr))) == NULL)
		sc = S3_ERR_INTERNAL;
	if (sc != S3_OK) {
		s3_cors_rule_free(r);
		return sc;
	}
	c->rules = nr;
	c->rules[c->nrules++] = *r;
	s3_cors_rule_init(r);
	return S3_OK;
}

/* s[0..n) against a pattern with at most one '*'. */
static int
wild_match(const char *pat, const char *s, size_t n, int icase)
{
	const char *star = strchr(pat, '*');
	size_t pre, suf;

	if (star == NULL)
		return strlen(pat) == n && (icase ? strncasecmp(pat, s, n) :
		    strncmp(pat, s, n)) == 0;
	pre = (size_t)(star - pat);
	suf = strlen(star + 1);
	if (n < pre + suf)
		return 0;
	if (icase)
		return strncasecmp(pat, s, pre) == 0 &&
		    strncasecmp(star + 1, s + n - suf, suf) == 0;
	return strncmp(pat, s, pre) == 0 &&
	    strncmp(star + 1, s + n - suf, suf) == 0;
}

static int
list_match(const struct s3_cors_list *l, const char *s, size_t n, int icase)
{
	for (size_t i = 0; i < l->n; i++)
		if (wild_match(l->v[i], s, n, icase))
			return 1;
	return 0;
}

/* The next name of a comma-separated header list, trimmed; 0 at the
 * end. */
static int
next_name(const char **cur, const char **name, size_t *n)
{
	const char *p = *cur;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			return 0;
		*name = p;
		while (*p != '\0' && *p != ',')
			p++;
		*n = (size_t)(p - *name);
		while (*n > 0 && ((*name)[*n - 1] == ' ' ||
		    (*name)[*n - 1] == '\t'))
			(*n)--;
		*cur = p;
		if (*n > 0)
			return 1;
	}
}

static int
rule_allows(const struct s3_cors_rule *r, const char *origin,
    const char *method, const char *req_headers)
{
	const char *cur = req_headers, *name;
	size_t n;

	if (!list_match(&r->origins, origin, strlen(origin), 0) ||
	    !list_match(&r->methods, method, strlen(method), 0))
		return 0;
	if (cur != NULL)
		while (next_name(&cur, &name, &n))
			if (!list_match(&r->headers, name, n, 1))
				return 0;
	return 1;
}

const struct s3_cors_rule *
s3_cors_match(const struct s3_cors *c, const char *origin,
    const char *method, const char *req_headers)
{
	for (size_t i = 0; i < c->nrules; i++)
		if (rule_allows(&c->rules[i], origin, method, req_headers))
			return &c->rules[i];
	return NULL;
}

static void
join_emit(const struct s3_cors_list *l, const char *name,
    void (*emit)(void *, const char *, const char *), void *arg)
{
	struct ark_buf b;

	if (l->n == 0)
		return;
	ark_buf_init(&b, CORS_HDR_MAX);
	for (size_t i = 0; i < l->n; i++)
		if (ark_buf_printf(&b, "%s%s", i > 0 ? ", " : "", l->v[i]) !=
		    ARK_OK)
			break;
	emit(arg, name, ark_buf_str(&b));
	ark_buf_free(&b);
}

void
s3_cors_headers(const struct s3_cors_rule *r, const char *origin,
    const char *req_headers, void (*emit)(void *, const char *,
    const char *), void *arg)
{
	const char *cur = req_headers, *name;
	struct ark_buf b;
	char age[24];
	size_t n;
	int any = 0;

	/* When the first origin of the rule that matches is "*", S3
	 * answers "*" and no credentials (browsers refuse credentials
	 * with "*"). */
	for (size_t i = 0; i < r->origins.n; i++)
		if (wild_match(r->origins.v[i], origin, strlen(origin), 0)) {
			any = strcmp(r->origins.v[i], "*") == 0;
			break;
		}
	emit(arg, "Access-Control-Allow-Origin", any ? "*" : origin);
	join_emit(&r->methods, "Access-Control-Allow-Methods", emit, arg);
	if (!any)
		emit(arg, "Access-Control-Allow-Credentials", "true");
	join_emit(&r->expose, "Access-Control-Expose-Headers", emit, arg);
	if (r->max_age >= 0) {
		snprintf(age, sizeof(age), "%" PRId64, r->max_age);
		emit(arg, "Access-Control-Max-Age", age);
	}
	if (cur != NULL && next_name(&cur, &name, &n)) {
		ark_buf_init(&b, CORS_HDR_MAX);
		cur = req_headers;
		while (next_name(&cur, &name, &n)) {
			if (ark_buf_len(&b) > 0 &&
			    ark_buf_append_str(&b, ", ") != ARK_OK)
				break;
			for (size_t i = 0; i < n; i++)
				if (ark_buf_append_byte(&b, (unsigned char)
				    tolower((unsigned char)name[i])) != ARK_OK)
					break;
		}
		emit(arg, "Access-Control-Allow-Headers", ark_buf_str(&b));
		ark_buf_free(&b);
	}
	emit(arg, "Vary", "Origin, Access-Control-Request-Headers, "
	    "Access-Control-Request-Method");
}
