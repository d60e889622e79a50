/*
 * test_s3_http.c - the protocol layer behind the real HTTP server
 * (common/http_server) through s3_view_init_http(): a minimal endpoint
 * classifies, authenticates and, for aws-chunked uploads, decodes the
 * streamed body, answering S3 XML errors. Driven over loopback with the
 * official AWS examples (virtual-hosted GET with Range, presigned GET,
 * the 66560-byte chunked upload) and tampered variants.
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

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/http_server.h"
#include "common/util.h"
#include "object/s3_chunked.h"
#include "object/s3_req.h"
#include "object/s3_sigv4.h"

#define AKID	"AKIAIOSFODNN7EXAMPLE"
#define SECRET	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EMPTY_SHA \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define T0	1369353600

static struct ark_http_server *srv;
static uint16_t port;

static enum ark_err
t_secret(void *arg, const char *akid, char *secret, size_t cap)
{
	(void)arg;
	if (strcmp(akid, AKID) != 0)
		return ARK_ENOENT;
	snprintf(secret, cap, "%s", SECRET);
	return ARK_OK;
}

static const struct s3_sigv4_cfg scfg = { .region = "us-east-1",
    .secret = t_secret };
static const struct s3_req_cfg rcfg = { .domain = "s3.amazonaws.com" };

static void
reply_code(struct ark_http_req *req, enum s3_code sc)
{
	struct ark_buf b;

	ark_buf_init(&b, 4096);
	if (s3_error_xml(&b, sc, NULL, ark_http_req_path(req), "test", NULL) !=
	    ARK_OK)
		ark_fatalx("error body");
	ark_http_reply_simple(req, s3_code_status(sc), "application/xml",
	    ark_buf_str(&b), ark_buf_len(&b));
	ark_buf_free(&b);
}

struct put_ctx {
	struct s3_chunked	*ch;
	enum s3_code		 err;
	uint64_t		 n;
};

static enum s3_code
put_data(void *arg, const void *p, size_t n)
{
	struct put_ctx *pc = arg;

	(void)p;
	pc->n += n;
	return S3_OK;
}

static void
put_body(struct ark_http_req *req, const void *d, size_t len, void *arg)
{
	struct put_ctx *pc = arg;

	(void)req;
	if (pc->err == S3_OK)
		pc->err = s3_chunked_feed(pc->ch, d, len);
}

static void
put_end(struct ark_http_req *req, void *arg)
{
	struct put_ctx *pc = arg;
	char body[64];

	if (pc->err == S3_OK)
		pc->err = s3_chunked_finish(pc->ch);
	if (pc->err != S3_OK) {
		reply_code(req, pc->err);
		return;
	}
	snprintf(body, sizeof(body), "decoded=%llu",
	    (unsigned long long)pc->n);
	ark_http_reply_simple(req, 200, "text/plain", body, strlen(body));
}

static void
put_finish(struct ark_http_req *req, enum ark_err why, void *arg)
{
	struct put_ctx *pc = arg;

	(void)req;
	(void)why;
	s3_chunked_free(pc->ch);
	free(pc);
}

static void
handler(struct ark_http_req *req, void *arg)
{
	struct s3_view v;
	struct s3_req r;
	struct s3_auth a;
	enum s3_code sc;
	char body[2048];

	(void)arg;
	s3_view_init_http(&v, req);
	if ((sc = s3_req_classify(&rcfg, &v, &r)) != S3_OK) {
		reply_code(req, sc);
		return;
	}
	if (r.vhost)
		v.host_bucket = r.bucket;
	if ((sc = s3_sigv4_verify(&scfg, &v, T0, &a)) != S3_OK) {
		reply_code(req, sc);
		return;
	}
	if (a.payload == S3_PAYLOAD_STREAMING_SIGNED) {
		const char *dl = s3_view_header(&v,
		    "x-amz-decoded-content-length");
		struct put_ctx *pc = ark_xcalloc(1, sizeof(*pc));

		if (s3_chunked_new(&a, dl != NULL ? strtoll(dl, NULL, 10) : -1,
		    put_data, pc, &pc->ch) != S3_OK)
			ark_fatalx("s3_chunked_new");
		ark_http_req_on_finish(req, put_finish, pc);
		ark_http_req_on_body(req, put_body, put_end, pc);
		s3_sigv4_wipe(&a);
		return;
	}
	snprintf(body, sizeof(body), "op=%s bucket=%s key=%s akid=%s kind=%d",
	    s3_op_name(r.op), r.bucket, r.key, a.access_key, (int)a.kind);
	s3_sigv4_wipe(&a);
	ark_http_reply_simple(req, 200, "text/plain", body, strlen(body));
}

static int
group_setup(void **state)
{
	struct ark_http_server_opts o;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.host = "127.0.0.1";
	o.threads = 1;
	o.handler = handler;
	if (ark_http_server_new(&o, &srv) != ARK_OK)
		return -1;
	port = ark_http_server_port(srv);
	return port != 0 && ark_http_server_start(srv) == ARK_OK ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	ark_http_server_free(srv);
	return 0;
}

/* Sends req (len bytes), reads to EOF; returns the status and copies the
 * body into out. */
static int
exchange(const void *req, size_t len, char *out, size_t cap)
{
	struct sockaddr_in sin;
	struct timeval tv = { 10, 0 };
	struct ark_buf in;
	const char *p = req, *hdr_end;
	int fd, status = -1;
	char buf[8192];
	ssize_t n;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	while (len > 0 && (n = send(fd, p, len, MSG_NOSIGNAL)) > 0) {
		p += n;
		len -= (size_t)n;
	}
	ark_buf_init(&in, 1 << 20);
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		assert_int_equal(ark_buf_append(&in, buf, (size_t)n), ARK_OK);
	close(fd);
	if (sscanf(ark_buf_str(&in), "HTTP/1.1 %d", &status) != 1)
		status = -1;
	hdr_end = strstr(ark_buf_str(&in), "\r\n\r\n");
	snprintf(out, cap, "%s", hdr_end != NULL ? hdr_end + 4 : "");
	ark_buf_free(&in);
	return status;
}

static void
test_get_vhost(void **state)
{
	static const char get[] =
	    "GET /test.txt HTTP/1.1\r\n"
	    "Host: examplebucket.s3.amazonaws.com\r\n"
	    "Authorization: AWS4-HMAC-SHA256 Credential=" AKID
	    "/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;"
	    "x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35"
	    "b5d6ed310bd44f0170aba48dd91039c6036bdb41\r\n"
	    "Range: bytes=0-9\r\n"
	    "x-amz-content-sha256: " EMPTY_SHA "\r\n"
	    "x-amz-date: 20130524T000000Z\r\n"
	    "Connection: close\r\n\r\n";
	char body[4096], *tampered;

	(void)state;
	assert_int_equal(exchange(get, strlen(get), body, sizeof(body)), 200);
	assert_string_equal(body, "op=GetObject bucket=examplebucket "
	    "key=test.txt akid=" AKID " kind=1");
	tampered = strdup(get);
	assert_non_null(tampered);
	*strstr(tampered, "bytes=0-9") = 'B';
	assert_int_equal(exchange(tampered, strlen(tampered), body,
	    sizeof(body)), 403);
	assert_non_null(strstr(body, "<Code>SignatureDoesNotMatch</Code>"));
	free(tampered);
}

static void
test_presigned_and_errors(void **state)
{
	static const char get[] =
	    "GET /test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
	    AKID "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="
	    "20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&"
	    "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d"
	    "157751f604d404 HTTP/1.1\r\n"
	    "Host: examplebucket.s3.amazonaws.com\r\n"
	    "Connection: close\r\n\r\n";
	static const char anon[] = "GET /bkt/k HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n";
	static const char badname[] = "GET /Bad_Bucket/k HTTP/1.1\r\n"
	    "Host: localhost\r\nConnection: close\r\n\r\n";
	char body[4096];

	(void)state;
	assert_int_equal(exchange(get, strlen(get), body, sizeof(body)), 200);
	assert_string_equal(body, "op=GetObject bucket=examplebucket "
	    "key=test.txt akid=" AKID " kind=2");
	assert_int_equal(exchange(anon, strlen(anon), body, sizeof(body)), 200);
	assert_string_equal(body, "op=GetObject bucket=bkt key=k akid= kind=0");
	assert_int_equal(exchange(badname, strlen(badname), body,
	    sizeof(body)), 400);
	assert_non_null(strstr(body, "<Code>InvalidBucketName</Code>"));
	assert_non_null(strstr(body, "<Resource>/Bad_Bucket/k</Resource>"));
}

#define SIG1	"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
#define SIG2	"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
#define SIG3	"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"

static void
test_chunked_upload(void **state)
{
	struct ark_buf b;
	char body[4096];
	char *req;
	size_t len, data_at;

	(void)state;
	ark_buf_init(&b, 1 << 20);
	assert_int_equal(ark_buf_append_str(&b,
	    "PUT /examplebucket/chunkObject.txt HTTP/1.1\r\n"
	    "Host: s3.amazonaws.com\r\n"
	    "x-amz-date: 20130524T000000Z\r\n"
	    "x-amz-storage-class: REDUCED_REDUNDANCY\r\n"
	    "Authorization: AWS4-HMAC-SHA256 Credential=" AKID "/20130524/"
	    "us-east-1/s3/aws4_request,SignedHeaders=content-encoding;"
	    "content-length;host;x-amz-content-sha256;x-amz-date;"
	    "x-amz-decoded-content-length;x-amz-storage-class,Signature="
	    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
	    "\r\n"
	    "x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD\r\n"
	    "Content-Encoding: aws-chunked\r\n"
	    "x-amz-decoded-content-length: 66560\r\n"
	    "Content-Length: 66824\r\n"
	    "Connection: close\r\n\r\n"
	    "10000;chunk-signature=" SIG1 "\r\n"), ARK_OK);
	data_at = ark_buf_len(&b);
	for (int i = 0; i < 65536; i++)
		assert_int_equal(ark_buf_append_byte(&b, 'a'), ARK_OK);
	assert_int_equal(ark_buf_append_str(&b,
	    "\r\n400;chunk-signature=" SIG2 "\r\n"), ARK_OK);
	for (int i = 0; i < 1024; i++)
		assert_int_equal(ark_buf_append_byte(&b, 'a'), ARK_OK);
	assert_int_equal(ark_buf_append_str(&b,
	    "\r\n0;chunk-signature=" SIG3 "\r\n\r\n"), ARK_OK);
	req = ark_buf_steal(&b, &len);
	assert_non_null(req);
	assert_int_equal(exchange(req, len, body, sizeof(body)), 200);
	assert_string_equal(body, "decoded=66560");
	req[data_at + 30000] = 'b';
	assert_int_equal(exchange(req, len, body, sizeof(body)), 403);
	assert_non_null(strstr(body, "<Code>SignatureDoesNotMatch</Code>"));
	free(req);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_vhost),
		cmocka_unit_test(test_presigned_and_errors),
		cmocka_unit_test(test_chunked_upload),
	};

	return cmocka_run_group_tests_name("s3_http", tests, group_setup,
	    group_teardown);
}
