/*
 * ark-token.c - test tool: prints a data-server access token.
 *
 *   ark-token SECRET_FILE OP FID [TTL]
 *
 * OP is read, write, delete or admin; FID the FileID (or "*" for admin);
 * TTL seconds from now (default 3600; negative: already expired).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/token.h"
#include "common/util.h"

int
main(int argc, char **argv)
{
	struct ark_secret s;
	enum ark_token_op op;
	char tok[ARK_TOKEN_MAXLEN];
	long long ttl = 3600;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: ark-token SECRET_FILE OP FID [TTL]\n");
		return 2;
	}
	ark_log_init("ark-token", ARK_LOG_WARN);
	if (strcmp(argv[2], "read") == 0)
		op = ARK_TOKEN_READ;
	else if (strcmp(argv[2], "write") == 0)
		op = ARK_TOKEN_WRITE;
	else if (strcmp(argv[2], "delete") == 0)
		op = ARK_TOKEN_DELETE;
	else if (strcmp(argv[2], "admin") == 0)
		op = ARK_TOKEN_ADMIN;
	else {
		fprintf(stderr, "ark-token: unknown op %s\n", argv[2]);
		return 2;
	}
	if (argc == 5)
		ttl = strtoll(argv[4], NULL, 10);
	if (ark_secret_load(argv[1], &s) != ARK_OK)
		return 1;
	if (ark_token_mint(&s, op, argv[3], ark_now_s() + ttl, tok,
	    sizeof(tok)) != ARK_OK) {
		fprintf(stderr, "ark-token: cannot mint\n");
		return 1;
	}
	ark_secret_wipe(&s);
	printf("%s\n", tok);
	return 0;
}
