/*
 * od_s3_post.c - POST Object: browser form uploads (POST /<bucket>,
 * multipart/form-data).
 *
 * The body goes through s3_form: the fields before the file are kept
 * (s3_post); where the file's data begins the parser stops, the client
 * is paused and the rest of that piece kept, while the form is
 * authenticated (its access key fetched from the registry when not
 * cached) and its policy checked. Only then does the file stream into
 * the upload pipeline (od_put.c) exactly as a PutObject body, with the
 * form's fields standing for the request headers (Content-Type,
 * x-amz-meta-*, stored headers, Content-MD5 and x-amz-checksum-*; the
 * tagging field is a Tagging XML document).
 * content-length-range is enforced while streaming. Nothing is
 * committed unless the whole form arrived and every check passed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "object/od.h"
#include "object/od_s3.h"
#include "object/s3_checksum.h"
#include "object/s3_form.h"
#include "object/s3_post.h"
#include "object/s3_uri.h"
#include "object/s3_xml.h"
#include "object/s3_xmlw.h"

#define POST_REST_MAX		(16u << 20)	/* one body piece, kept */
#define POST_FIELDS_MAX		256		/* form fields */

enum post_phase {
	POST_FIELDS,		/* fields before the file */
	POST_AUTH,		/* client paused: key, signature, policy */
	POST_FILE,		/* the file streams into fragments */
};

struct postx {				/* o->ext */
	struct s3_form	*form;
	struct s3_post	*post;
	enum post_phase	 phase;
	int		 end_seen;	/* body ended during POST_AUTH */
	struct ark_buf	 rest;		/* body after the file's start */
	char		 filename[1024];
	char		 file_ctype[256];
	struct s3_post_range range;
	json_t		*tags;		/* the tagging field's, or NULL */
	/* the form's fields as a header view */
	const char	*kv[2 * POST_FIELDS_MAX + 1];
	struct s3_view	 fv;
};

static void
postx_free(void *arg)
{
	struct postx *px = arg;

	s3_form_free(px->form);
	s3_post_free(px->post);
	ark_buf_free(&px->rest);
	json_decref(px->tags);
	free(px);
}

/* ---- s3_form callbacks ----------------------------------------------------- */

static enum s3_code
post_field(void *arg, const char *name, const char *value, size_t n)
{
	struct oreq *o = arg;
	struct postx *px = o->ext;
	const char *k, *v;

	if (s3_post_at(px->post, POST_FIELDS_MAX - 1, &k, &v) == 0)
		return S3_ERR_MAX_POST_PRE_DATA;
	return s3_post_add(px->post, name, value, n);
}

static int
post_file_start(void *arg, const char *filename, const char *ctype)
{
	struct oreq *o = arg;
	struct postx *px = o->ext;

	snprintf(px->filename, sizeof(px->filename), "%s", filename);
	snprintf(px->file_ctype, sizeof(px->file_ctype), "%s", ctype);
	return S3_FORM_STOP;
}

static enum s3_code
post_file_data(void *arg, const void *p, size_t n)
{
	struct oreq *o = arg;
	struct postx *px = o->ext;

	if (o->total + n > (uint64_t)OD_S3_MAX_OBJECT ||
	    (px->range.set && o->total + n > px->range.max))
		return S3_ERR_ENTITY_TOO_LARGE;
	return od_put_data(o, p, n);
}

static const struct s3_form_cbs post_cbs = { post_field, post_file_start,
    post_file_data };

/* ---- the reply ------------------------------------------------------------------ */

/* URL of the object, as AWS's Location: scheme://host/bucket/key. */
static void
post_location(struct oreq *o, struct ark_buf *b)
{
	const char *host = ark_http_req_header(o->req, "host");

	if (ark_buf_printf(b, "%s://%s/", ark_http_req_is_tls(o->req) ?
	    "https" : "http", host != NULL ? host : "localhost") != ARK_OK ||
	    (!o->r.vhost && (s3_uri_encode(b, o->r.bucket,
	    strlen(o->r.bucket), 0) != ARK_OK ||
	    ark_buf_append(b, "/", 1) != ARK_OK)) ||
	    s3_uri_encode(b, o->r.key, o->r.keylen, 1) != ARK_OK)
		ark_buf_reset(b);
}

/* success_action_redirect: 303 to the URL with bucket, key and etag. */
static void
post_redirect(struct oreq *o, const char *url, const char *etag)
{
	struct ark_buf b;

	ark_buf_init(&b, 8192);
	if (ark_buf_printf(&b, "%s%s", url, strchr(url, '?') != NULL ? "&" :
	    "?") != ARK_OK || ark_buf_printf(&b, "bucket=") != ARK_OK ||
	    s3_uri_encode(&b, o->r.bucket, strlen(o->r.bucket), 0) != ARK_OK ||
	    ark_buf_printf(&b, "&key=") != ARK_OK ||
	    s3_uri_encode(&b, o->r.key, o->r.keylen, 0) != ARK_OK ||
	    ark_buf_printf(&b, "&etag=") != ARK_OK ||
	    s3_uri_encode(&b, etag, strlen(etag), 0) != ARK_OK ||
	    ark_http_resp_header(o->req, "Location", ark_buf_str(&b)) !=
	    ARK_OK) {
		ark_buf_free(&b);
		od_error(o, S3_ERR_INVALID_ARGUMENT,
		    "success_action_redirect is not a usable URL");
		return;
	}
	ark_buf_free(&b);
	od_empty_reply(o, 303);
}

static void
post_done(struct oreq *o, int status, json_t *j)
{
	struct postx *px = o->ext;
	const char *redir, *st;
	char etag[40], hex[33];
	struct ark_buf loc, out;
	struct s3_xmlw w;

	if (status != 200) {
		od_reg_fail(o, status, j, S3_ERR_NO_SUCH_BUCKET);
		return;
	}
	if (o->dead || o->replied)
		return;
	if (s3_cksum_hex(o->ck, S3_CKSUM_MD5, hex) != ARK_OK)
		hex[0] = '\0';
	snprintf(etag, sizeof(etag), "\"%s\"", hex);
	ark_http_resp_header(o->req, "ETag", etag);
	redir = s3_post_get(px->post, "success_action_redirect");
	if (redir == NULL)
		redir = s3_post_get(px->post, "redirect");
	if (redir != NULL && redir[0] != '\0') {
		post_redirect(o, redir, etag);
		return;
	}
	ark_buf_init(&loc, 8192);
	post_location(o, &loc);
	ark_http_resp_header(o->req, "Location", ark_buf_str(&loc));
	st = s3_post_get(px->post, "success_action_status");
	if (st != NULL && strcmp(st, "201") == 0) {
		ark_buf_init(&out, 16384);
		s3_xmlw_init(&w, &out);
		s3_xmlw_start(&w, "PostResponse");
		s3_xmlw_elem(&w, "Location", ark_buf_str(&loc));
		s3_xmlw_elem(&w, "Bucket", o->r.bucket);
		s3_xmlw_elem(&w, "Key", o->r.key);
		s3_xmlw_elem(&w, "ETag", etag);
		s3_xmlw_end(&w);
		ark_buf_free(&loc);
		if (s3_xmlw_finish(&w) != ARK_OK)
			od_error(o, S3_ERR_INTERNAL, NULL);
		else
			od_xml_reply(o, 201, &out);
		ark_buf_free(&out);
		return;
	}
	ark_buf_free(&loc);
	od_empty_reply(o, st != NULL && strcmp(st, "200") == 0 ? 200 : 204);
}

static void
post_commit(struct oreq *o)
{
	struct postx *px = o->ext;
	const char *store = NULL;
	char hex[33], b64[S3_CKSUM_B64_MAX];
	json_t *b;

	if (s3_cksum_hex(o->ck, S3_CKSUM_MD5, hex) != ARK_OK)
		hex[0] = '\0';
	b = json_pack("{s:s, s:s, s:I, s:s, s:s, s:O, s:o, s:o}", "bucket",
	    o->r.bucket, "key", o->r.key, "size", (json_int_t)o->total,
	    "etag", hex, "content_type", o->ctype, "user_meta", o->meta,
	    "fragments", od_put_fragments(o), "headers",
	    od_s3_stored_headers(&px->fv));
	if (px->tags != NULL)
		json_object_set(b, "tags", px->tags);
	if (o->ckr.alg != S3_CKSUM_NONE &&
	    s3_cksum_b64(o->ck, o->ckr.alg, b64) == ARK_OK) {
		store = s3_cksum_key(o->ckr.alg);
		json_object_set_new(b, "checksums", json_pack("{s:s}", store,
		    b64));
	}
	od_reg_call(o, "object/put", b, 0, post_done);
}

/* ---- the end of the body ----------------------------------------------------- */

static void
post_finish(struct oreq *o)
{
	struct postx *px = o->ext;
	enum s3_code sc;

	if ((sc = s3_form_finish(px->form)) == S3_OK && px->range.set &&
	    o->total < px->range.min)
		sc = S3_ERR_ENTITY_TOO_SMALL;
	if (sc == S3_OK && s3_cksum_final(o->ck) != ARK_OK)
		sc = S3_ERR_INTERNAL;
	if (sc == S3_OK)
		sc = s3_cksum_verify(&o->ckr, o->ck);
	if (sc != S3_OK) {
		od_put_fail(o, sc, NULL);
		return;
	}
	od_put_finish(o);
}

/* ---- authentication and policy ---------------------------------------------- */

/* The tagging field: an XML Tagging document, as PutObjectTagging's. */
static enum s3_code
post_tags(struct postx *px)
{
	const char *x = s3_post_get(px->post, "tagging");
	struct s3_xml_tagging t;
	enum s3_code sc;
	size_t i;

	if (x == NULL)
		return S3_OK;
	if ((sc = s3_xml_parse_tagging(x, strlen(x), S3_XML_MAX_TAGS, &t)) !=
	    S3_OK)
		return sc;
	px->tags = json_object();
	for (i = 0; i < t.ntags; i++)
		json_object_set_new(px->tags, t.tags[i].key,
		    json_string(t.tags[i].value));
	s3_xml_tagging_free(&t);
	return S3_OK;
}

/* The form's fields as a header view, so that the PutObject helpers
 * read them as they read request headers. */
static void
post_view(struct oreq *o, struct postx *px)
{
	const char *n, *v;
	size_t i, k = 0;

	for (i = 0; s3_post_at(px->post, i, &n, &v) == 0; i++) {
		px->kv[k++] = n;
		px->kv[k++] = v;
	}
	px->kv[k] = NULL;
	s3_view_init_kv(&px->fv, o->v.method, o->v.path, o->v.query, px->kv);
}

static void
post_authed(struct oreq *o)
{
	struct postx *px = o->ext;
	const char *acl, *ct;
	char msg[512];
	enum s3_acl a;
	enum s3_code sc;

	sc = s3_post_auth(px->post, od_s3_sigv4_cfg(), &o->a, msg,
	    sizeof(msg));
	if (sc == S3_OK && o->a.kind == S3_AUTH_ANONYMOUS) {
		sc = S3_ERR_ACCESS_DENIED;
		snprintf(msg, sizeof(msg), "Anonymous POST needs a bucket "
		    "anyone may write, which Arkor does not have");
	}
	if (sc == S3_OK && !o->have_key)
		sc = S3_ERR_INVALID_ACCESS_KEY_ID;
	if (sc == S3_OK && (sc = s3_post_key(px->post, px->filename, o->r.key,
	    sizeof(o->r.key), msg, sizeof(msg))) == S3_OK) {
		o->r.keylen = strlen(o->r.key);
		sc = s3_req_key_check(o->r.key, o->r.keylen);
	}
	if (sc == S3_OK)
		sc = s3_post_policy(px->post, o->a.kind, o->r.bucket, o->r.key,
		    ark_now_s(), &px->range, msg, sizeof(msg));
	if (sc == S3_OK && (acl = s3_post_get(px->post, "acl")) != NULL)
		sc = s3_req_canned_acl(acl, &a);
	if (sc == S3_OK)
		sc = post_tags(px);
	post_view(o, px);
	if (sc == S3_OK)
		sc = od_user_meta_check(&px->fv);
	if (sc == S3_OK)
		sc = od_storage_class_check(&px->fv);
	if (sc == S3_OK)
		sc = s3_cksum_parse_request(&px->fv, &o->ckr);
	if (sc == S3_OK && s3_cksum_new(s3_cksum_req_mask(&o->ckr), &o->ck) !=
	    ARK_OK)
		sc = S3_ERR_INTERNAL;
	if (sc != S3_OK) {
		ark_log_info("req %s: POST form to %s refused: %s %s", o->reqid,
		    o->r.bucket, s3_code_name(sc), msg);
		od_put_fail(o, sc, msg[0] != '\0' ? msg : NULL);
		return;
	}
	ct = s3_post_get(px->post, "Content-Type");
	if (ct == NULL)
		ct = px->file_ctype[0] != '\0' ? px->file_ctype :
		    "binary/octet-stream";
	o->ctype = ark_xstrdup(ct);
	o->meta = od_user_meta(&px->fv);
	o->declared = -1;
	o->commit = post_commit;
	px->phase = POST_FILE;
	if ((sc = s3_form_feed(px->form, ark_buf_str(&px->rest),
	    ark_buf_len(&px->rest), NULL)) != S3_OK) {
		od_put_fail(o, sc, NULL);
		return;
	}
	ark_buf_reset(&px->rest);
	if (px->end_seen)
		post_finish(o);
	else
		od_put_pump(o);		/* resumes the client */
}

static void
post_key_done(struct oreq *o, int status, json_t *j)
{
	if (od_s3_key_answer(o, status, j) == 0)
		post_authed(o);
}

/* The file begins: the fields are all known. */
static void
post_auth_start(struct oreq *o)
{
	struct postx *px = o->ext;

	s3_post_akid(px->post, o->akid, sizeof(o->akid));
	if (o->akid[0] == '\0' || (o->have_key = od_key_lookup(o->akid,
	    &o->key))) {
		post_authed(o);
		return;
	}
	od_reg_call(o, "key/get", json_pack("{s:s}", "key_id", o->akid), 1,
	    post_key_done);
}

/* ---- body callbacks ------------------------------------------------------------ */

static void
post_body(struct ark_http_req *req, const void *d, size_t len, void *arg)
{
	struct oreq *o = arg;
	struct postx *px = o->ext;
	enum s3_code sc = S3_OK;
	size_t used;

	(void)req;
	if (o->err != S3_OK || o->replied)
		return;
	switch (px->phase) {
	case POST_FIELDS:
		if ((sc = s3_form_feed(px->form, d, len, &used)) != S3_OK ||
		    !s3_form_has_file(px->form))
			break;
		if (ark_buf_append(&px->rest, (const char *)d + used,
		    len - used) != ARK_OK) {
			sc = S3_ERR_INTERNAL;
			break;
		}
		px->phase = POST_AUTH;
		o->paused = 1;
		ark_http_req_pause(o->req);
		post_auth_start(o);
		return;
	case POST_AUTH:
		if (ark_buf_append(&px->rest, d, len) != ARK_OK)
			sc = S3_ERR_INTERNAL;
		break;
	case POST_FILE:
		if ((sc = s3_form_feed(px->form, d, len, NULL)) == S3_OK)
			od_put_pump(o);
		break;
	}
	if (sc != S3_OK)
		od_put_fail(o, sc, NULL);
}

static void
post_end(struct ark_http_req *req, void *arg)
{
	struct oreq *o = arg;
	struct postx *px = o->ext;
	enum s3_code sc;

	(void)req;
	if (o->err != S3_OK || o->replied)
		return;
	switch (px->phase) {
	case POST_FIELDS:
		if ((sc = s3_form_finish(px->form)) != S3_OK)
			od_put_fail(o, sc, NULL);
		else
			od_put_fail(o, S3_ERR_INVALID_ARGUMENT, "POST requires "
			    "exactly one file upload per request.");
		return;
	case POST_AUTH:
		px->end_seen = 1;
		return;
	case POST_FILE:
		post_finish(o);
		return;
	}
}

void
od_s3_post(struct oreq *o)
{
	struct postx *px = ark_xcalloc(1, sizeof(*px));
	enum s3_code sc;

	o->ext = px;
	o->ext_free = postx_free;
	ark_buf_init(&px->rest, POST_REST_MAX);
	if ((sc = s3_form_new(s3_view_header(&o->v, "content-type"),
	    &post_cbs, o, &px->form)) != S3_OK ||
	    (sc = s3_post_new(&px->post)) != S3_OK) {
		od_error(o, sc, NULL);
		return;
	}
	if (ark_http_req_set_max_body(o->req, (uint64_t)OD_S3_MAX_OBJECT +
	    (1u << 20)) != ARK_OK) {
		od_error(o, S3_ERR_ENTITY_TOO_LARGE, NULL);
		return;
	}
	ark_http_req_on_body(o->req, post_body, post_end, o);
}
