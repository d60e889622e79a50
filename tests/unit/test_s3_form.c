/*
 * test_s3_form.c - the multipart/form-data parser: a form with fields, a
 * file holding delimiter look-alikes and bare CRs, parts after the file
 * and an epilogue, fed split at every byte (two pieces) and one byte at
 * a time, each giving the same fields and file bytes; stopping at the
 * file and going on with the rest; an empty file; a form without a
 * file; truncation in the file and elsewhere; the 20 KiB limit before
 * the file; malformed parts; Content-Type boundary parsing.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "object/s3_form.h"

#define CT	"multipart/form-data; boundary=XyZ-bound'ary"
#define B	"--XyZ-bound'ary"

struct got {
	char	 fields[4096];	/* "name=value\n"... */
	size_t	 flen;
	char	 file[4096];
	size_t	 filelen;
	char	 filename[256];
	char	 ctype[128];
	int	 starts;
	int	 stop;		/* file_start answers S3_FORM_STOP */
};

static enum s3_code
t_field(void *arg, const char *name, const char *value, size_t n)
{
	struct got *g = arg;

	assert_int_equal(value[n], '\0');
	g->flen += (size_t)snprintf(g->fields + g->flen, sizeof(g->fields) -
	    g->flen, "%s=%.*s\n", name, (int)n, value);
	return S3_OK;
}

static int
t_file_start(void *arg, const char *filename, const char *ctype)
{
	struct got *g = arg;

	g->starts++;
	snprintf(g->filename, sizeof(g->filename), "%s", filename);
	snprintf(g->ctype, sizeof(g->ctype), "%s", ctype);
	return g->stop ? S3_FORM_STOP : 0;
}

static enum s3_code
t_file_data(void *arg, const void *p, size_t n)
{
	struct got *g = arg;

	assert_true(n > 0);
	assert_true(g->filelen + n <= sizeof(g->file));
	memcpy(g->file + g->filelen, p, n);
	g->filelen += n;
	return S3_OK;
}

static const struct s3_form_cbs cbs = { t_field, t_file_start, t_file_data };

/* Feeds body in pieces of at most `step` bytes, with the first piece
 * `first` bytes long; handles stops. The result of finish. */
static enum s3_code
run(const char *body, size_t len, size_t first, size_t step, struct got *g)
{
	struct s3_form *f;
	enum s3_code sc;
	size_t off = 0, n, used;

	assert_int_equal(s3_form_new(CT, &cbs, g, &f), S3_OK);
	while (off < len) {
		n = off == 0 && first > 0 ? first : step;
		if (n > len - off)
			n = len - off;
		sc = s3_form_feed(f, body + off, n, &used);
		if (sc != S3_OK) {
			s3_form_free(f);
			return sc;
		}
		assert_true(used <= n);
		if (used < n)		/* stopped at the file */
			assert_true(g->stop && g->starts == 1);
		if (g->stop && g->starts == 1)
			g->stop = 0;
		off += used;
	}
	sc = s3_form_finish(f);
	if (sc == S3_OK)
		assert_int_equal(s3_form_has_file(f), g->starts > 0);
	s3_form_free(f);
	return sc;
}

static const char file_bytes[] =
    "line one\r\n--XyZ-bound'ar\r\r\n-\r\n--XyZ\r\n\r\n-" B "x\r";
#define FILE_LEN	(sizeof(file_bytes) - 1)

static char *
form(size_t *len)
{
	static char buf[2048];
	int n;

	n = snprintf(buf, sizeof(buf),
	    "preamble to ignore\r\n"
	    B "\r\n"
	    "Content-Disposition: form-data; name=\"key\"\r\n\r\n"
	    "user/${filename}\r\n"
	    B "  \r\n"
	    "content-disposition: form-data; name=\"x-amz-meta-empty\"\r\n"
	    "\r\n"
	    "\r\n"
	    B "\r\n"
	    "Content-Disposition: form-data; name=\"Content-Type\"\r\n\r\n"
	    "text/plain\r\n"
	    B "\r\n"
	    "Content-Disposition: form-data; name=\"file\"; "
	    "filename=\"a \\\"q\\\".txt\"\r\n"
	    "Content-Type: application/x-thing\r\n\r\n");
	memcpy(buf + n, file_bytes, FILE_LEN);
	n += (int)FILE_LEN;
	n += snprintf(buf + n, sizeof(buf) - (size_t)n,
	    "\r\n" B "\r\n"
	    "Content-Disposition: form-data; name=\"after\"\r\n\r\n"
	    "ignored\r\n" B "--\r\nepilogue");
	*len = (size_t)n;
	return buf;
}

static void
check_form(const struct got *g)
{
	assert_string_equal(g->fields, "key=user/${filename}\n"
	    "x-amz-meta-empty=\nContent-Type=text/plain\n");
	assert_int_equal(g->starts, 1);
	assert_string_equal(g->filename, "a \"q\".txt");
	assert_string_equal(g->ctype, "application/x-thing");
	assert_int_equal(g->filelen, FILE_LEN);
	assert_memory_equal(g->file, file_bytes, FILE_LEN);
}

static void
test_every_split(void **state)
{
	size_t len, i;
	char *body = form(&len);
	struct got g;

	(void)state;
	for (i = 0; i <= len; i++) {
		memset(&g, 0, sizeof(g));
		assert_int_equal(run(body, len, i, len, &g), S3_OK);
		check_form(&g);
	}
	memset(&g, 0, sizeof(g));
	assert_int_equal(run(body, len, 0, 1, &g), S3_OK);
	check_form(&g);
}

static void
test_stop_at_file(void **state)
{
	size_t len, i;
	char *body = form(&len);
	struct got g;

	(void)state;
	for (i = 1; i <= len; i += 7) {
		memset(&g, 0, sizeof(g));
		g.stop = 1;
		assert_int_equal(run(body, len, 0, i, &g), S3_OK);
		assert_int_equal(g.stop, 0);
		check_form(&g);
	}
}

static void
test_empty_file_no_file(void **state)
{
	static const char empty[] =
	    B "\r\nContent-Disposition: form-data; name=\"FILE\"\r\n\r\n"
	    "\r\n" B "--";
	static const char nofile[] =
	    B "\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n"
	    B "--\r\n";
	struct got g;

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(run(empty, sizeof(empty) - 1, 0, 3, &g), S3_OK);
	assert_int_equal(g.starts, 1);
	assert_int_equal(g.filelen, 0);
	assert_string_equal(g.filename, "");
	memset(&g, 0, sizeof(g));
	assert_int_equal(run(nofile, sizeof(nofile) - 1, 0, 5, &g), S3_OK);
	assert_int_equal(g.starts, 0);
	assert_string_equal(g.fields, "key=k\n");
}

static void
test_truncated(void **state)
{
	size_t len, i, cut;
	char *body = form(&len);
	const char *file = strstr(body, "line one");
	const char *after = strstr(body, "\r\n" B "\r\nContent-Disposition: "
	    "form-data; name=\"after\"");
	struct got g;

	(void)state;
	assert_non_null(file);
	assert_non_null(after);
	for (i = 0; i < len; i++) {
		memset(&g, 0, sizeof(g));
		cut = i;
		if (body + cut >= file && body + cut < after + 2 + strlen(B))
			assert_int_equal(run(body, cut, 0, 13, &g),
			    S3_ERR_INCOMPLETE_BODY);
		else if (body + cut < file)
			assert_int_equal(run(body, cut, 0, 13, &g),
			    S3_ERR_MALFORMED_POST);
		else
			assert_int_equal(run(body, cut, 0, 13, &g), S3_OK);
	}
}

static void
test_pre_limit(void **state)
{
	size_t n = S3_FORM_MAX_PRE + 200, len;
	char *body = malloc(n + 512), *p;
	struct got g;

	(void)state;
	p = body + sprintf(body, B "\r\nContent-Disposition: form-data; "
	    "name=\"big\"\r\n\r\n");
	memset(p, 'v', n);
	p += n;
	p += sprintf(p, "\r\n" B "--");
	len = (size_t)(p - body);
	memset(&g, 0, sizeof(g));
	assert_int_equal(run(body, len, 0, 4096, &g),
	    S3_ERR_MAX_POST_PRE_DATA);
	/* just under the limit: accepted */
	p = body + sprintf(body, B "\r\nContent-Disposition: form-data; "
	    "name=\"big\"\r\n\r\n");
	n = S3_FORM_MAX_PRE - (size_t)(p - body) - strlen("\r\n" B "--");
	memset(p, 'v', n);
	p += n;
	p += sprintf(p, "\r\n" B "--");
	len = (size_t)(p - body);
	assert_int_equal(len, S3_FORM_MAX_PRE);
	memset(&g, 0, sizeof(g));
	assert_int_equal(run(body, len, 0, 1000, &g), S3_OK);
	free(body);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
	    B "\r\nContent-Disposition: form-data\r\n\r\nv\r\n" B "--",
	    B "\r\nNo colon here\r\n\r\nv\r\n" B "--",
	    B "x\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n" B
	    "--",
	    B "\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n" B
	    "--",
	    B "\nContent-Disposition: form-data; name=a\n\nv\r\n" B "--",
	    "no delimiter at all",
	    NULL };
	struct got g;

	(void)state;
	for (size_t i = 0; bad[i] != NULL; i++) {
		memset(&g, 0, sizeof(g));
		assert_int_equal(run(bad[i], strlen(bad[i]), 0, 5, &g),
		    S3_ERR_MALFORMED_POST);
	}
}

static void
test_boundary(void **state)
{
	char b[S3_FORM_BOUNDARY_MAX + 1];
	struct s3_form *f;

	(void)state;
	assert_int_equal(s3_form_boundary("multipart/form-data; boundary=abc",
	    b), 0);
	assert_string_equal(b, "abc");
	assert_int_equal(s3_form_boundary("Multipart/Form-Data;charset=utf-8;"
	    " BOUNDARY=\"a b:c\"", b), 0);
	assert_string_equal(b, "a b:c");
	assert_int_equal(s3_form_boundary("multipart/form-data; boundary="
	    "------------------------d74496d66958873e; x=y", b), 0);
	assert_string_equal(b, "------------------------d74496d66958873e");
	assert_int_equal(s3_form_boundary("multipart/mixed; boundary=a", b),
	    -1);
	assert_int_equal(s3_form_boundary("multipart/form-data", b), -1);
	assert_int_equal(s3_form_boundary("multipart/form-datax; boundary=a",
	    b), -1);
	assert_int_equal(s3_form_boundary("multipart/form-data; boundary=\"a"
	    "\"x", b), 0);
	assert_int_equal(s3_form_boundary("multipart/form-data; boundary=a\r",
	    b), -1);
	assert_int_equal(s3_form_boundary("multipart/form-data; boundary=\"ab "
	    "\"", b), -1);
	assert_int_equal(s3_form_boundary("multipart/form-data; boundary="
	    "01234567890123456789012345678901234567890123456789012345678901234"
	    "567890", b), -1);
	assert_int_equal(s3_form_new("text/plain", &cbs, NULL, &f),
	    S3_ERR_MALFORMED_POST);
	assert_null(f);
}

static enum s3_code
t_file_fail(void *arg, const void *p, size_t n)
{
	(void)arg;
	(void)p;
	(void)n;
	return S3_ERR_ENTITY_TOO_LARGE;
}

static void
test_callback_error(void **state)
{
	static const struct s3_form_cbs fcbs = { t_field, t_file_start,
	    t_file_fail };
	size_t len;
	char *body = form(&len);
	struct s3_form *f;
	struct got g;

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(s3_form_new(CT, &fcbs, &g, &f), S3_OK);
	assert_int_equal(s3_form_feed(f, body, len, NULL),
	    S3_ERR_ENTITY_TOO_LARGE);
	assert_int_equal(s3_form_feed(f, "x", 1, NULL),
	    S3_ERR_ENTITY_TOO_LARGE);
	assert_int_equal(s3_form_finish(f), S3_ERR_ENTITY_TOO_LARGE);
	s3_form_free(f);
	s3_form_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_stop_at_file),
		cmocka_unit_test(test_empty_file_no_file),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_pre_limit),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_boundary),
		cmocka_unit_test(test_callback_error),
	};

	return cmocka_run_group_tests_name("s3_form", tests, NULL, NULL);
}
