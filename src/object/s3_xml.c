/*
 * s3_xml.c - request body parsers on expat (see s3_xml.h).
 *
 * One small driver (xml_run) feeds the body to an expat parser created
 * with namespace processing, keeps the stack of open local names and the
 * text of the current element, and calls a per-document end handler with
 * the element's path and text. Handlers record into the output and stop
 * the parser with the first S3 error.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "common/buf.h"
#include "common/util.h"
#include "object/s3_xml.h"

#define XML_MAXDEPTH	16
#define XML_NAMEMAX	64
#define XML_XSI_TYPE	"http://www.w3.org/2001/XMLSchema-instance|type"

struct xml_ctx {
	XML_Parser	 p;
	int		 depth;
	char		 stack[XML_MAXDEPTH][XML_NAMEMAX];
	struct ark_buf	 text;
	enum s3_code	 err;
	enum s3_code	 malformed;	/* MalformedXML or MalformedACLError */
	const char	*root;
	/* start: the element is on the stack; atts as expat gives them */
	void		 (*on_start)(struct xml_ctx *x, const XML_Char **atts);
	/* end: the element is still on the stack */
	void		 (*on_end)(struct xml_ctx *x, const char *text,
			    size_t len);
	void		*out;
};

static void
xml_fail(struct xml_ctx *x, enum s3_code e)
{
	if (x->err == S3_OK)
		x->err = e;
	XML_StopParser(x->p, XML_FALSE);
}

/* 1 when the open elements are exactly the NULL-terminated names. */
static int
xml_is(const struct xml_ctx *x, ...)
{
	va_list ap;
	const char *n;
	int i = 0, ok = 1;

	va_start(ap, x);
	while ((n = va_arg(ap, const char *)) != NULL) {
		if (i >= x->depth || strcmp(x->stack[i], n) != 0)
			ok = 0;
		i++;
	}
	va_end(ap);
	return ok && i == x->depth;
}

static const char *
xml_local(const XML_Char *name)
{
	const char *bar = strrchr(name, '|');

	return bar != NULL ? bar + 1 : name;
}

static void XMLCALL
xml_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct xml_ctx *x = ud;
	const char *local = xml_local(name);

	if (x->err != S3_OK)
		return;
	if (x->depth == XML_MAXDEPTH || strlen(local) >= XML_NAMEMAX) {
		xml_fail(x, x->malformed);
		return;
	}
	if (x->depth == 0 && strcmp(local, x->root) != 0) {
		xml_fail(x, x->malformed);
		return;
	}
	strcpy(x->stack[x->depth++], local);
	ark_buf_reset(&x->text);
	if (x->on_start != NULL)
		x->on_start(x, atts);
}

static void XMLCALL
xml_end(void *ud, const XML_Char *name)
{
	struct xml_ctx *x = ud;

	(void)name;
	if (x->err != S3_OK || x->depth == 0)
		return;
	x->on_end(x, ark_buf_str(&x->text), ark_buf_len(&x->text));
	x->depth--;
	ark_buf_reset(&x->text);
}

static void XMLCALL
xml_chars(void *ud, const XML_Char *s, int len)
{
	struct xml_ctx *x = ud;

	enum ark_err rc;

	if (x->err != S3_OK)
		return;
	if ((rc = ark_buf_append(&x->text, s, (size_t)len)) != ARK_OK)
		xml_fail(x, rc == ARK_ENOMEM ? S3_ERR_INTERNAL : x->malformed);
}

static void XMLCALL
xml_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal;
	xml_fail(ud, ((struct xml_ctx *)ud)->malformed);
}

static enum s3_code
xml_run(struct xml_ctx *x, const char *body, size_t len, size_t max)
{
	enum s3_code sc;

	if (len == 0 || len > max || len > INT32_MAX)
		return x->malformed;
	ark_buf_init(&x->text, S3_XML_TEXT_MAX);
	if ((x->p = XML_ParserCreateNS("UTF-8", '|')) == NULL)
		return S3_ERR_INTERNAL;
	XML_SetUserData(x->p, x);
	XML_SetElementHandler(x->p, xml_start, xml_end);
	XML_SetCharacterDataHandler(x->p, xml_chars);
	XML_SetStartDoctypeDeclHandler(x->p, xml_doctype);
	if (XML_Parse(x->p, body, (int)len, XML_TRUE) == XML_STATUS_ERROR &&
	    x->err == S3_OK)
		x->err = x->malformed;
	sc = x->err;
	XML_ParserFree(x->p);
	ark_buf_free(&x->text);
	return sc;
}

static void
xml_init(struct xml_ctx *x, const char *root, void *out,
    void (*on_end)(struct xml_ctx *, const char *, size_t))
{
	memset(x, 0, sizeof(*x));
	x->root = root;
	x->out = out;
	x->on_end = on_end;
	x->malformed = S3_ERR_MALFORMED_XML;
}

/* Copies text (trimmed of XML whitespace) into out[cap]; -1 if too long. */
static int
xml_copy_trim(char *out, size_t cap, const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= cap)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

int
s3_xml_utf8_valid(const char *str, size_t n, size_t *chars)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t count = 0;

	for (size_t i = 0; i < n; count++) {
		unsigned c = s[i];
		size_t len;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else
			return 0;
		if (i + len > n)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	if (chars != NULL)
		*chars = count;
	return 1;
}

/* ---- CompleteMultipartUpload ---- */

struct complete_st {
	struct s3_xml_complete	*out;
	size_t			 cap;
	struct s3_xml_part	 cur;
	int			 has_num, has_etag;
};

static int
xml_cksum_elem(const char *name)
{
	static const struct {
		const char		*elem;
		enum s3_cksum_alg	 alg;
	} m[] = {
		{ "ChecksumCRC32", S3_CKSUM_CRC32 },
		{ "ChecksumCRC32C", S3_CKSUM_CRC32C },
		{ "ChecksumCRC64NVME", S3_CKSUM_CRC64NVME },
		{ "ChecksumSHA1", S3_CKSUM_SHA1 },
		{ "ChecksumSHA256", S3_CKSUM_SHA256 },
	};

	for (size_t i = 0; i < ARK_ARRAY_SIZE(m); i++)
		if (strcmp(name, m[i].elem) == 0)
			return (int)m[i].alg;
	return -1;
}

static void
complete_end(struct xml_ctx *x, const char *t, size_t n)
{
	struct complete_st *st = x->out;
	struct s3_xml_complete *c = st->out;
	const char *leaf = x->stack[x->depth - 1];
	int alg;

	if (xml_is(x, "CompleteMultipartUpload", "Part", "PartNumber", NULL)) {
		char num[16];
		unsigned long v = 0;

		if (xml_copy_trim(num, sizeof(num), t, n) || num[0] == '\0') {
			xml_fail(x, S3_ERR_MALFORMED_XML);
			return;
		}
		for (const char *p = num; *p != '\0'; p++) {
			if (!isdigit((unsigned char)*p) || v > S3_XML_MAX_PARTS) {
				xml_fail(x, S3_ERR_MALFORMED_XML);
				return;
			}
			v = v * 10 + (unsigned long)(*p - '0');
		}
		if (v < 1 || v > S3_XML_MAX_PARTS) {
			xml_fail(x, S3_ERR_INVALID_ARGUMENT);
			return;
		}
		st->cur.part_number = (unsigned)v;
		st->has_num = 1;
	} else if (xml_is(x, "CompleteMultipartUpload", "Part", "ETag",
	    NULL)) {
		char *e = st->cur.etag;
		size_t len;

		if (xml_copy_trim(e, sizeof(st->cur.etag), t, n)) {
			xml_fail(x, S3_ERR_INVALID_PART);
			return;
		}
		len = strlen(e);
		if (len >= 2 && e[0] == '"' && e[len - 1] == '"') {
			memmove(e, e + 1, len - 2);
			e[len - 2] = '\0';
		}
		st->has_etag = 1;
	} else if (x->depth == 3 && strcmp(x->stack[1], "Part") == 0 &&
	    (alg = xml_cksum_elem(leaf)) >= 0) {
		if (xml_copy_trim(st->cur.cksum, sizeof(st->cur.cksum), t, n)) {
			xml_fail(x, S3_ERR_INVALID_CHECKSUM);
			return;
		}
		st->cur.cksum_alg = (enum s3_cksum_alg)alg;
	} else if (xml_is(x, "CompleteMultipartUpload", "Part", NULL)) {
		if (!st->has_num || !st->has_etag) {
			xml_fail(x, S3_ERR_MALFORMED_XML);
			return;
		}
		if (c->nparts > 0 &&
		    c->parts[c->nparts - 1].part_number >= st->cur.part_number) {
			xml_fail(x, S3_ERR_INVALID_PART_ORDER);
			return;
		}
		if (c->nparts == S3_XML_MAX_PARTS) {
			xml_fail(x, S3_ERR_MALFORMED_XML);
			return;
		}
		if (c->nparts == st->cap) {
			size_t ncap = st->cap == 0 ? 16 : st->cap * 2;
			struct s3_xml_part *np = realloc(c->parts,
			    ncap * sizeof(*np));

			if (np == NULL) {
				xml_fail(x, S3_ERR_INTERNAL);
				return;
			}
			c->parts = np;
			st->cap = ncap;
		}
		c->parts[c->nparts++] = st->cur;
		memset(&st->cur, 0, sizeof(st->cur));
		st->has_num = st->has_etag = 0;
	}
}

enum s3_code
s3_xml_parse_complete(const char *body, size_t len,
    struct s3_xml_complete *out)
{
	struct complete_st st;
	struct xml_ctx x;
	enum s3_code sc;

	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	st.out = out;
	xml_init(&x, "CompleteMultipartUpload", &st, complete_end);
	sc = xml_run(&x, body, len, S3_XML_MAX_COMPLETE);
	if (sc == S3_OK && out->nparts == 0)
		sc = S3_ERR_MALFORMED_XML;
	if (sc != S3_OK)
		s3_xml_complete_free(out);
	return sc;
}

void
s3_xml_complete_free(struct s3_xml_complete *c)
{
	free(c->parts);
	c->parts = NULL;
	c->nparts = 0;
}

/* ---- Delete ---- */

struct delete_st {
	struct s3_xml_delete	*out;
	size_t			 cap;
	char			*key;
	char			*vid;
	char			*etag;
};

static char *
xml_strndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static void
delete_end(struct xml_ctx *x, const char *t, size_t n)
{
	struct delete_st *st = x->out;
	struct s3_xml_delete *d = st->out;

	if (xml_is(x, "Delete", "Object", "Key", NULL)) {
		/* Keys are taken verbatim: spaces are significant. */
		free(st->key);
		if ((st->key = xml_strndup(t, n)) == NULL)
			xml_fail(x, S3_ERR_INTERNAL);
	} else if (xml_is(x, "Delete", "Object", "VersionId", NULL)) {
		free(st->vid);
		if ((st->vid = xml_strndup(t, n)) == NULL)
			xml_fail(x, S3_ERR_INTERNAL);
	} else if (xml_is(x, "Delete", "Object", "ETag", NULL)) {
		free(st->etag);
		if ((st->etag = xml_strndup(t, n)) == NULL)
			xml_fail(x, S3_ERR_INTERNAL);
	} else if (xml_is(x, "Delete", "Object", NULL)) {
		if (st->key == NULL || d->nobjs == S3_XML_MAX_DELETE_KEYS) {
			xml_fail(x, S3_ERR_MALFORMED_XML);
			return;
		}
		if (d->nobjs == st->cap) {
			size_t ncap = st->cap == 0 ? 16 : st->cap * 2;
			struct s3_xml_delete_obj *no = realloc(d->objs,
			    ncap * sizeof(*no));

			if (no == NULL) {
				xml_fail(x, S3_ERR_INTERNAL);
				return;
			}
			d->objs = no;
			st->cap = ncap;
		}
		d->objs[d->nobjs].key = st->key;
		d->objs[d->nobjs].version_id = st->vid;
		d->objs[d->nobjs].etag = st->etag;
		d->nobjs++;
		st->key = st->vid = st->etag = NULL;
	} else if (xml_is(x, "Delete", "Quiet", NULL)) {
		char v[8];

		if (xml_copy_trim(v, sizeof(v), t, n) ||
		    (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)) {
			xml_fail(x, S3_ERR_MALFORMED_XML);
			return;
		}
		d->quiet = strcmp(v, "true") == 0;
	}
}

enum s3_code
s3_xml_parse_delete(const char *body, size_t len, struct s3_xml_delete *out)
{
	struct delete_st st;
	struct xml_ctx x;
	enum s3_code sc;

	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	st.out = out;
	xml_init(&x, "Delete", &st, delete_end);
	sc = xml_run(&x, body, len, S3_XML_MAX_DELETE);
	free(st.key);
	free(st.vid);
	free(st.etag);
	if (sc == S3_OK && out->nobjs == 0)
		sc = S3_ERR_MALFORMED_XML;
	if (sc != S3_OK)
		s3_xml_delete_free(out);
	return sc;
}

void
s3_xml_delete_free(struct s3_xml_delete *d)
{
	for (size_t i = 0; i < d->nobjs; i++) {
		free(d->objs[i].key);
		free(d->objs[i].version_id);
		free(d->objs[i].etag);
	}
	free(d->objs);
	d->objs = NULL;
	d->nobjs = 0;
}

/* ---- CreateBucketConfiguration ---- */

struct cbc_st {
	char	*loc;
	size_t	 cap;
};

static void
cbc_end(struct xml_ctx *x, const char *t, size_t n)
{
	struct cbc_st *st = x->out;

	if (xml_is(x, "CreateBucketConfiguration", "LocationConstraint",
	    NULL) && xml_copy_trim(st->loc, st->cap, t, n))
		xml_fail(x, S3_ERR_INVALID_LOCATION);
}

enum s3_code
s3_xml_parse_create_bucket(const char *body, size_t len, char *loc,
    size_t cap)
{
	struct cbc_st st = { loc, cap };
	struct xml_ctx x;

	if (cap == 0)
		return S3_ERR_INTERNAL;
	loc[0] = '\0';
	if (len == 0)
		return S3_OK;
	xml_init(&x, "CreateBucketConfiguration", &st, cbc_end);
	return xml_run(&x, body, len, S3_XML_MAX_SMALL);
}

/* ---- Tagging ---- */

struct tagging_st {
	struct s3_xml_tagging	*out;
	size_t			 max;
	struct s3_xml_tag	 cur;
	int			 has_key, has_value;
};

static void
tagging_end(struct xml_ctx *x, const char *t, size_t n)
{
	struct tagging_st *st = x->out;
	struct s3_xml_tagging *tg = st->out;
	struct s3_xml_tag *nt;
	size_t chars;

	if (xml_is(x, "Tagging", "TagSet", "Tag", "Key", NULL)) {
		if (!s3_xml_utf8_valid(t, n, &chars) || chars == 0 ||
		    chars > S3_XML_TAG_KEY_CHARS ||
		    n >= sizeof(st->cur.key) ||
		    (n >= 4 && strncmp(t, "aws:", 4) == 0)) {
			xml_fail(x, S3_ERR_INVALID_TAG);
			return;
		}
		memcpy(st->cur.key, t, n);
		st->cur.key[n] = '\0';
		st->has_key = 1;
	} else if (xml_is(x, "Tagging", "TagSet", "Tag", "Value", NULL)) {
		if (!s3_xml_utf8_valid(t, n, &chars) ||
		    chars > S3_XML_TAG_VALUE_CHARS ||
		    n >= sizeof(st->cur.value)) {
			xml_fail(x, S3_ERR_INVALID_TAG);
			return;
		}
		memcpy(st->cur.value, t, n);
		st->cur.value[n] = '\0';
		st->has_value = 1;
	} else if (xml_is(x, "Tagging", "TagSet", "Tag", NULL)) {
		if (!st->has_key || !st->has_value) {
			xml_fail(x, S3_ERR_MALFORMED_XML);
			return;
		}
		if (tg->ntags == st->max) {
			xml_fail(x, S3_ERR_INVALID_TAG);
			return;
		}
		for (size_t i = 0; i < tg->ntags; i++)
			if (strcmp(tg->tags[i].key, st->cur.key) == 0) {
				xml_fail(x, S3_ERR_INVALID_TAG);
				return;
			}
		if ((nt = realloc(tg->tags, (tg->ntags + 1) *
		    sizeof(*nt))) == NULL) {
			xml_fail(x, S3_ERR_INTERNAL);
			return;
		}
		tg->tags = nt;
		tg->tags[tg->ntags++] = st->cur;
		memset(&st->cur, 0, sizeof(st->cur));
		st->has_key = st->has_value = 0;
	}
}

enum s3_code
s3_xml_parse_tagging(const char *body, size_t len, size_t max,
    struct s3_xml_tagging *out)
{
	struct tagging_st *st;
	struct xml_ctx x;
	enum s3_code sc;

	memset(out, 0, sizeof(*out));
	/* The current tag is 1.5 KiB: keep it off small worker stacks. */
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return S3_ERR_INTERNAL;
	st->out = out;
	st->max = max;
	xml_init(&x, "Tagging", st, tagging_end);
	sc = xml_run(&x, body, len, S3_XML_MAX_SMALL);
	free(st);
	if (sc != S3_OK)
		s3_xml_tagging_free(out);
	return sc;
}

void
s3_xml_tagging_free(struct s3_xml_tagging *t)
{
	free(t->tags);
	t->tags = NULL;
	t->ntags = 0;
}

/* ---- CORSConfiguration ---- */

struct cors_st {
	struct s3_cors		*out;
	struct s3_cors_rule	 cur;
};

static void
cors_list(struct xml_ctx *x, struct s3_cors_list *l, const char *t,
    size_t n)
{
	while (n > 0 && isspace((unsigned char)*t)) {
		t++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)t[n - 1]))
		n--;
	if (n == 0 || memchr(t, '\0', n) != NULL)
		xml_fail(x, S3_ERR_MALFORMED_XML);
	else if (s3_cors_list_add(l, t, n) != ARK_OK)
		xml_fail(x, S3_ERR_INTERNAL);
}

static void
cors_end(struct xml_ctx *x, const char *t, size_t n)
{
	struct cors_st *st = x->out;
	struct s3_cors_rule *r = &st->cur;
	char age[24], *end;
	enum s3_code sc;

	if (x->depth == 3 && xml_is(x, "CORSConfiguration", "CORSRule",
	    x->stack[2], NULL)) {
		const char *e = x->stack[2];

		if (strcmp(e, "AllowedOrigin") == 0)
			cors_list(x, &r->origins, t, n);
		else if (strcmp(e, "AllowedMethod") == 0)
			cors_list(x, &r->methods, t, n);
		else if (strcmp(e, "AllowedHeader") == 0)
			cors_list(x, &r->headers, t, n);
		else if (strcmp(e, "ExposeHeader") == 0)
			cors_list(x, &r->expose, t, n);
		else if (strcmp(e, "ID") == 0) {
			free(r->id);
			if ((r->id = xml_strndup(t, n)) == NULL)
				xml_fail(x, S3_ERR_INTERNAL);
		} else if (strcmp(e, "MaxAgeSeconds") == 0) {
			if (xml_copy_trim(age, sizeof(age), t, n) ||
			    !isdigit((unsigned char)age[0]) ||
			    (r->max_age = strtoll(age, &end, 10)) < 0 ||
			    *end != '\0')
				xml_fail(x, S3_ERR_MALFORMED_XML);
		}
	} else if (xml_is(x, "CORSConfiguration", "CORSRule", NULL)) {
		if ((sc = s3_cors_add_rule(st->out, r)) != S3_OK)
			xml_fail(x, sc);
	}
}

enum s3_code
s3_xml_parse_cors(const char *body, size_t len, struct s3_cors *out)
{
	struct cors_st st;
	struct xml_ctx x;
	enum s3_code sc;

	memset(out, 0, sizeof(*out));
	st.out = out;
	s3_cors_rule_init(&st.cur);
	xml_init(&x, "CORSConfiguration", &st, cors_end);
	sc = xml_run(&x, body, len, S3_XML_MAX_SMALL);
	s3_cors_rule_free(&st.cur);
	if (sc == S3_OK && out->nrules == 0)
		sc = S3_ERR_MALFORMED_XML;
	if (sc != S3_OK)
		s3_cors_free(out);
	return sc;
}

/* ---- AccessControlPolicy ---- */

#define ACL_ALL_USERS	"http://acs.amazonaws.com/groups/global/AllUsers"

struct acl_st {
	char	*owner;
	size_t	 cap;
	char	 type[32];	/* xsi:type of the Grantee */
	char	 uri[128];
	char	 perm[32];
	int	 has_id;
	int	 owner_full;
	int	 public_read;
	int	 ngrants;
};

static void
acl_start(struct xml_ctx *x, const XML_Char **atts)
{
	struct acl_st *st = x->out;

	if (xml_is(x, "AccessControlPolicy", "AccessControlList", "Grant",
	    NULL)) {
		st->type[0] = st->uri[0] = st->perm[0] = '\0';
		st->has_id = 0;
		return;
	}
	if (!xml_is(x, "AccessControlPolicy", "AccessControlList", "Grant",
	    "Grantee", NULL))
		return;
	for (size_t i = 0; atts[i] != NULL && atts[i + 1] != NULL; i += 2)
		if (strcmp(atts[i], XML_XSI_TYPE) == 0 &&
		    xml_copy_trim(st->type, sizeof(st->type), atts[i + 1],
		    strlen(atts[i + 1])))
			xml_fail(x, S3_ERR_MALFORMED_ACL);
}

static void
acl_end(struct xml_ctx *x, const char *t, size_t n)
{
	struct acl_st *st = x->out;

	if (xml_is(x, "AccessControlPolicy", "Owner", "ID", NULL)) {
		if (st->owner != NULL &&
		    xml_copy_trim(st->owner, st->cap, t, n))
			xml_fail(x, S3_ERR_MALFORMED_ACL);
	} else if (xml_is(x, "AccessControlPolicy", "AccessControlList",
	    "Grant", "Grantee", "URI", NULL)) {
		if (xml_copy_trim(st->uri, sizeof(st->uri), t, n))
			xml_fail(x, S3_ERR_NOT_IMPLEMENTED);
	} else if (xml_is(x, "AccessControlPolicy", "AccessControlList",
	    "Grant", "Grantee", "ID", NULL)) {
		st->has_id = 1;
	} else if (xml_is(x, "AccessControlPolicy", "AccessControlList",
	    "Grant", "Permission", NULL)) {
		if (xml_copy_trim(st->perm, sizeof(st->perm), t, n))
			xml_fail(x, S3_ERR_MALFORMED_ACL);
	} else if (xml_is(x, "AccessControlPolicy", "AccessControlList",
	    "Grant", NULL)) {
		int user = strcmp(st->type, "CanonicalUser") == 0 ||
		    (st->type[0] == '\0' && st->has_id);
		int group = strcmp(st->type, "Group") == 0 ||
		    (st->type[0] == '\0' && st->uri[0] != '\0');

		st->ngrants++;
		if (st->perm[0] == '\0' || (!user && !group)) {
			xml_fail(x, S3_ERR_MALFORMED_ACL);
			return;
		}
		if (user && strcmp(st->perm, "FULL_CONTROL") == 0)
			st->owner_full = 1;
		else if (group && strcmp(st->uri, ACL_ALL_USERS) == 0 &&
		    strcmp(st->perm, "READ") == 0)
			st->public_read = 1;
		else
			xml_fail(x, S3_ERR_NOT_IMPLEMENTED);
	}
}

enum s3_code
s3_xml_parse_acl(const char *body, size_t len, enum s3_acl *out,
    char *owner_id, size_t cap)
{
	struct acl_st st;
	struct xml_ctx x;
	enum s3_code sc;

	memset(&st, 0, sizeof(st));
	st.owner = cap > 0 ? owner_id : NULL;
	st.cap = cap;
	if (st.owner != NULL)
		st.owner[0] = '\0';
	xml_init(&x, "AccessControlPolicy", &st, acl_end);
	x.on_start = acl_start;
	x.malformed = S3_ERR_MALFORMED_ACL;
	sc = xml_run(&x, body, len, S3_XML_MAX_SMALL);
	if (sc != S3_OK)
		return sc;
	/* Without the owner's FULL_CONTROL the owner would lock itself
	 * out, which the canned ACLs cannot express. */
	if (!st.owner_full)
		return S3_ERR_NOT_IMPLEMENTED;
	*out = st.public_read ? S3_ACL_PUBLIC_READ : S3_ACL_PRIVATE;
	return S3_OK;
}
