/*
 * tls.c - OpenSSL server context: certificate chain, key, protocol floor.
 */
#include "config.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/log.h"
#include "common/tls.h"

void
ark_tls_log_errors(const char *what)
{
	unsigned long	 e;
	char		 buf[256];
	int		 any = 0;

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		ark_log_warnx("%s: %s", what, buf);
		any = 1;
	}
	if (!any)
		ark_log_warnx("%s: failed", what);
}

enum ark_err
ark_tls_server_ctx_new(const char *cert_file, const char *key_file,
    SSL_CTX **out)
{
	SSL_CTX	*ctx;

	*out = NULL;
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		ark_tls_log_errors("SSL_CTX_new");
		return ARK_ENOMEM;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		ark_tls_log_errors(cert_file);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		ark_tls_log_errors(key_file);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ark_tls_log_errors("key does not match certificate");
		goto fail;
	}
	*out = ctx;
	return ARK_OK;
fail:
	SSL_CTX_free(ctx);
	return ARK_EINVAL;
}
