/*
 * tls.h - OpenSSL server context set-up shared by the HTTP server.
 * The context is created once (any thread) and then only read; OpenSSL
 * >= 1.1 makes SSL_new() on a shared SSL_CTX thread-safe.
 */
#ifndef ARKOR_COMMON_TLS_H
#define ARKOR_COMMON_TLS_H

#include <openssl/ssl.h>

#include "common/err.h"

/* Loads a PEM certificate chain and private key into a new TLS >= 1.2
 * server context. On ARK_OK the caller owns *out (SSL_CTX_free). Logs the
 * OpenSSL reason once on failure (ARK_EINVAL bad files, ARK_ENOMEM). */
enum ark_err	 ark_tls_server_ctx_new(const char *cert_file,
		    const char *key_file, SSL_CTX **out);
/* Logs and clears the thread's OpenSSL error queue with a prefix. */
void		 ark_tls_log_errors(const char *what);

#endif /* ARKOR_COMMON_TLS_H */
