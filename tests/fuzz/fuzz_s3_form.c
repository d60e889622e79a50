/*
 * fuzz_s3_form.c - libFuzzer target: an arbitrary POST Object body (the
 * boundary is "XyZ"), fed to the multipart/form-data parser in pieces
 * whose sizes the first input byte picks, with the parser stopped where
 * the file begins and fed again from there, as objectd does. Every field
 * goes into an s3_post form whose policy is then checked (base64 JSON
 * parsing, conditions, ${filename}).
 * Invariants: no crash, leak or UB; a field value is NUL-terminated at
 * its length; the file's bytes never outnumber the input's; used never
 * exceeds the piece.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object/s3_form.h"
#include "object/s3_post.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	struct s3_post	*post;
	size_t		 file_bytes;
	char		 filename[256];
	int		 stopped;
};

static enum s3_code
fz_field(void *arg, const char *name, const char *value, size_t n)
{
	struct fz *z = arg;

	if (value[n] != '\0' || strlen(name) > S3_FORM_MAX_PRE)
		abort();
	(void)s3_post_add(z->post, name, value, n);
	return S3_OK;
}

static int
fz_file_start(void *arg, const char *filename, const char *ctype)
{
	struct fz *z = arg;

	(void)ctype;
	snprintf(z->filename, sizeof(z->filename), "%s", filename);
	if (!z->stopped) {
		z->stopped = 1;
		return S3_FORM_STOP;
	}
	return 0;
}

static enum s3_code
fz_file_data(void *arg, const void *p, size_t n)
{
	struct fz *z = arg;

	(void)p;
	z->file_bytes += n;
	return S3_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct s3_form_cbs cbs = { fz_field, fz_file_start,
	    fz_file_data };
	struct fz z;
	struct s3_form *f = NULL;
	struct s3_post_range range;
	size_t piece, off, used, n;
	int zero = 0;
	char key[1100], msg[512];
	enum s3_code sc = S3_OK;

	if (size < 1)
		return 0;
	piece = (size_t)data[0] % 64 + 1;
	data++;
	size--;
	memset(&z, 0, sizeof(z));
	if (s3_post_new(&z.post) != S3_OK)
		return 0;
	if (s3_form_new("multipart/form-data; boundary=XyZ", &cbs, &z, &f) !=
	    S3_OK) {
		s3_post_free(z.post);
		return 0;
	}
	for (off = 0; off < size && sc == S3_OK; off += used) {
		n = size - off < piece ? size - off : piece;
		used = 0;
		sc = s3_form_feed(f, data + off, n, &used);
		if (used > n)
			abort();
		if (sc == S3_OK && used == 0 && zero++ > 0)
			abort();	/* no progress twice: a stop is once */
	}
	if (sc == S3_OK)
		(void)s3_form_finish(f);
	if (z.file_bytes > size)
		abort();
	if (s3_post_key(z.post, z.filename, key, sizeof(key), msg,
	    sizeof(msg)) == S3_OK) {
		if (strlen(key) >= sizeof(key))
			abort();
		(void)s3_post_policy(z.post, S3_AUTH_V4_HEADER, "bkt", key,
		    1767225600, &range, msg, sizeof(msg));
		if (strlen(msg) >= sizeof(msg))
			abort();
	}
	s3_form_free(f);
	s3_post_free(z.post);
	return 0;
}
