/*
 * fuzz_s3_chunked.c - libFuzzer target: arbitrary aws-chunked bodies in
 * fuzzer-chosen splits. Byte 0 picks the variant (signed, signed with
 * trailer, unsigned with trailer) and whether the decoded length is
 * declared, byte 1 seeds the split sizes; the rest is the body, decoded
 * with the key and seed signature of the AWS streaming example.
 * Invariants: no crash, leak or UB; the result, the decoded bytes (count
 * and CRC32C) and the trailers do not depend on how the body is split;
 * never more decoded bytes than body bytes; finish succeeds only when
 * done.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cksum.h"
#include "object/s3_chunked.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct f_out {
	uint64_t	n;
	uint32_t	crc;
};

static enum s3_code
f_data(void *arg, const void *p, size_t n)
{
	struct f_out *o = arg;

	if (n == 0)
		abort();		/* never called empty */
	o->n += n;
	o->crc = ark_crc32c(o->crc, p, n);
	return S3_OK;
}

static enum s3_code
f_run(const struct s3_auth *a, int64_t dlen, const uint8_t *body,
    size_t len, unsigned seed, struct f_out *o, char *tr, size_t trcap)
{
	struct s3_chunked *c;
	enum s3_code sc = S3_OK;
	size_t off = 0;

	memset(o, 0, sizeof(*o));
	if (s3_chunked_new(a, dlen, f_data, o, &c) != S3_OK)
		abort();
	while (off < len && sc == S3_OK) {
		size_t n = seed == 0 ? len - off :
		    1 + (seed * (off + 7)) % 97;

		if (n > len - off)
			n = len - off;
		sc = s3_chunked_feed(c, body + off, n);
		off += n;
	}
	if (sc == S3_OK)
		sc = s3_chunked_finish(c);
	if (sc == S3_OK && !s3_chunked_done(c))
		abort();
	if (s3_chunked_decoded_bytes(c) != o->n || o->n > len)
		abort();
	tr[0] = '\0';
	if (sc == S3_OK) {
		const char *v = s3_chunked_trailer(c, "x-amz-checksum-crc32c");

		if (v != NULL && strlen(v) < trcap)
			strcpy(tr, v);
	}
	s3_chunked_free(c);
	return sc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum s3_payload kinds[3] = { S3_PAYLOAD_STREAMING_SIGNED,
	    S3_PAYLOAD_STREAMING_SIGNED_TRAILER,
	    S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER };
	struct s3_auth a;
	struct f_out o1, o2;
	char t1[S3_CHUNKED_LINE_MAX], t2[S3_CHUNKED_LINE_MAX];
	enum s3_code r1, r2;
	int64_t dlen;

	if (size < 2)
		return 0;
	memset(&a, 0, sizeof(a));
	a.payload = kinds[data[0] % 3];
	dlen = (data[0] & 0x80) ? -1 : (int64_t)((data[0] >> 2) & 0x1f) * 97;
	strcpy(a.amz_date, "20130524T000000Z");
	strcpy(a.scope, "20130524/us-east-1/s3/aws4_request");
	strcpy(a.signature,
	    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
	if (s3_sigv4_signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	    "20130524", "us-east-1", a.signing_key) != ARK_OK)
		abort();
	r1 = f_run(&a, dlen, data + 2, size - 2, 0, &o1, t1, sizeof(t1));
	r2 = f_run(&a, dlen, data + 2, size - 2, (unsigned)data[1] + 1, &o2,
	    t2, sizeof(t2));
	if ((unsigned)r1 >= S3_ERR_CODE_MAX || r1 != r2 ||
	    strcmp(t1, t2) != 0)
		abort();
	/* On success all data was delivered the same way; on error the
	 * split may stop earlier or later only inside the failing chunk. */
	if (r1 == S3_OK && (o1.n != o2.n || o1.crc != o2.crc))
		abort();
	return 0;
}
