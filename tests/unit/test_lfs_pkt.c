/*
 * test_lfs_pkt.c - the pure-SSH Git LFS framing (src/lfs/lfs_pkt.c):
 * pkt-line parsing (data, flush, delim, partial input, bad headers),
 * headers and text packets, arguments, oids, sizes, the forced command
 * line, repository paths, and the fd reader and stdio writer on a pipe.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lfs/lfs_pkt.h"

#define U8(s)	((const uint8_t *)(s))

static void
test_parse(void **state)
{
	struct lfs_pkt p;
	size_t used;

	(void)state;
	assert_int_equal(lfs_pkt_parse(U8("0000"), 4, &p, &used), ARK_OK);
	assert_int_equal(p.type, LFS_PKT_FLUSH);
	assert_int_equal(used, 4);
	assert_int_equal(lfs_pkt_parse(U8("0001rest"), 8, &p, &used), ARK_OK);
	assert_int_equal(p.type, LFS_PKT_DELIM);
	assert_int_equal(used, 4);
	assert_int_equal(lfs_pkt_parse(U8("000bversion 1"), 13, &p, &used),
	    ARK_OK);
	assert_int_equal(p.type, LFS_PKT_DATA);
	assert_int_equal(p.len, 7);
	assert_memory_equal(p.data, "version", 7);
	assert_int_equal(used, 11);
	/* empty data packet */
	assert_int_equal(lfs_pkt_parse(U8("0004"), 4, &p, &used), ARK_OK);
	assert_int_equal(p.type, LFS_PKT_DATA);
	assert_int_equal(p.len, 0);
	/* upper-case hex is accepted */
	assert_int_equal(lfs_pkt_parse(U8("000Aabcdef"), 10, &p, &used),
	    ARK_OK);
	assert_int_equal(p.len, 6);
	/* partial input */
	assert_int_equal(lfs_pkt_parse(U8("00"), 2, &p, &used), ARK_EAGAIN);
	assert_int_equal(lfs_pkt_parse(U8("0009abc"), 7, &p, &used),
	    ARK_EAGAIN);
	assert_int_equal(lfs_pkt_parse(U8(""), 0, &p, &used), ARK_EAGAIN);
	/* bad headers */
	assert_int_equal(lfs_pkt_parse(U8("00x9abcde"), 9, &p, &used),
	    ARK_EPROTO);
	assert_int_equal(lfs_pkt_parse(U8(" 009abcde"), 9, &p, &used),
	    ARK_EPROTO);
	assert_int_equal(lfs_pkt_parse(U8("0002"), 4, &p, &used), ARK_EPROTO);
	assert_int_equal(lfs_pkt_parse(U8("0003"), 4, &p, &used), ARK_EPROTO);
	assert_int_equal(lfs_pkt_parse(U8("fff1"), 4, &p, &used), ARK_EPROTO);
	assert_int_equal(lfs_pkt_parse(U8("ffff"), 4, &p, &used), ARK_EPROTO);
}

static void
test_parse_max(void **state)
{
	uint8_t *b = malloc(LFS_PKT_MAX);
	struct lfs_pkt p;
	size_t used;

	(void)state;
	memcpy(b, "fff0", 4);
	memset(b + 4, 'x', LFS_PKT_MAX - 4);
	assert_int_equal(lfs_pkt_parse(b, LFS_PKT_MAX, &p, &used), ARK_OK);
	assert_int_equal(p.len, LFS_PKT_MAX_DATA);
	assert_int_equal(used, LFS_PKT_MAX);
	assert_int_equal(lfs_pkt_parse(b, LFS_PKT_MAX - 1, &p, &used),
	    ARK_EAGAIN);
	free(b);
}

static void
test_header_text(void **state)
{
	char hdr[5], out[16];
	struct lfs_pkt p;

	(void)state;
	lfs_pkt_header(0, hdr);
	assert_string_equal(hdr, "0004");
	lfs_pkt_header(7, hdr);
	assert_string_equal(hdr, "000b");
	lfs_pkt_header(LFS_PKT_MAX_DATA, hdr);
	assert_string_equal(hdr, "fff0");

	p.type = LFS_PKT_DATA;
	p.data = U8("quit\n");
	p.len = 5;
	assert_int_equal(lfs_pkt_text(&p, out, sizeof(out)), ARK_OK);
	assert_string_equal(out, "quit");
	p.len = 4;			/* no LF: same text */
	assert_int_equal(lfs_pkt_text(&p, out, sizeof(out)), ARK_OK);
	assert_string_equal(out, "quit");
	p.data = U8("a\tb");
	p.len = 3;
	assert_int_equal(lfs_pkt_text(&p, out, sizeof(out)), ARK_OK);
	p.data = U8("a\0b\n");
	p.len = 4;
	assert_int_equal(lfs_pkt_text(&p, out, sizeof(out)), ARK_EPROTO);
	p.data = U8("a\rb");
	p.len = 3;
	assert_int_equal(lfs_pkt_text(&p, out, sizeof(out)), ARK_EPROTO);
	p.data = U8("0123456789abcdef");
	p.len = 16;
	assert_int_equal(lfs_pkt_text(&p, out, sizeof(out)), ARK_ETOOBIG);
	p.type = LFS_PKT_FLUSH;
	assert_int_equal(lfs_pkt_text(&p, out, sizeof(out)), ARK_EPROTO);
}

static void
test_args_oid_size(void **state)
{
	char a0[] = "size=42", a1[] = "token", a2[] = "id=", a3[] = "size=7",
	    a4[] = "sizes=1";
	char *args[] = { a0, a1, a2, a3, a4 };
	int64_t v;

	(void)state;
	assert_string_equal(lfs_arg_get(args, 5, "size"), "42");
	assert_string_equal(lfs_arg_get(args, 5, "id"), "");
	assert_null(lfs_arg_get(args, 5, "token"));
	assert_null(lfs_arg_get(args, 5, "path"));
	assert_null(lfs_arg_get(args, 0, "size"));

	assert_true(lfs_oid_valid("4d7a214614ab2935c943f9e0ff69d22eadbb8f32"
	    "b1258daaa5e2ca24d17e2393"));
	assert_false(lfs_oid_valid("4D7A214614ab2935c943f9e0ff69d22eadbb8f32"
	    "b1258daaa5e2ca24d17e2393"));
	assert_false(lfs_oid_valid("4d7a214614ab2935c943f9e0ff69d22eadbb8f32"
	    "b1258daaa5e2ca24d17e239"));
	assert_false(lfs_oid_valid("4d7a214614ab2935c943f9e0ff69d22eadbb8f32"
	    "b1258daaa5e2ca24d17e23930"));
	assert_false(lfs_oid_valid(""));
	assert_false(lfs_oid_valid("../../etc/passwd"));

	assert_int_equal(lfs_parse_size("0", &v), ARK_OK);
	assert_int_equal(v, 0);
	assert_int_equal(lfs_parse_size("1048577", &v), ARK_OK);
	assert_int_equal(v, 1048577);
	assert_int_equal(lfs_parse_size("9223372036854775807", &v), ARK_OK);
	assert_true(v == INT64_MAX);
	assert_int_equal(lfs_parse_size("9223372036854775808", &v),
	    ARK_EINVAL);
	assert_int_equal(lfs_parse_size("", &v), ARK_EINVAL);
	assert_int_equal(lfs_parse_size("-1", &v), ARK_EINVAL);
	assert_int_equal(lfs_parse_size("+1", &v), ARK_EINVAL);
	assert_int_equal(lfs_parse_size("012", &v), ARK_EINVAL);
	assert_int_equal(lfs_parse_size("12 ", &v), ARK_EINVAL);
	assert_int_equal(lfs_parse_size("1e3", &v), ARK_EINVAL);
}

static void
test_cmdline(void **state)
{
	char buf[128], *w[4];
	size_t n;

	(void)state;
	assert_int_equal(lfs_cmdline_split("git-lfs-transfer "
	    "'/games/team/game.git' upload", buf, sizeof(buf), w, 4, &n),
	    ARK_OK);
	assert_int_equal(n, 3);
	assert_string_equal(w[0], "git-lfs-transfer");
	assert_string_equal(w[1], "/games/team/game.git");
	assert_string_equal(w[2], "upload");
	assert_int_equal(lfs_cmdline_split("  a\t\"b c\"  d''e ", buf,
	    sizeof(buf), w, 4, &n), ARK_OK);
	assert_int_equal(n, 3);
	assert_string_equal(w[1], "b c");
	assert_string_equal(w[2], "de");
	assert_int_equal(lfs_cmdline_split("", buf, sizeof(buf), w, 4, &n),
	    ARK_OK);
	assert_int_equal(n, 0);
	assert_int_equal(lfs_cmdline_split("a 'b", buf, sizeof(buf), w, 4,
	    &n), ARK_EINVAL);
	assert_int_equal(lfs_cmdline_split("a $(id)", buf, sizeof(buf), w, 4,
	    &n), ARK_EINVAL);
	assert_int_equal(lfs_cmdline_split("a `id`", buf, sizeof(buf), w, 4,
	    &n), ARK_EINVAL);
	assert_int_equal(lfs_cmdline_split("a b\\ c", buf, sizeof(buf), w, 4,
	    &n), ARK_EINVAL);
	assert_int_equal(lfs_cmdline_split("a\nb", buf, sizeof(buf), w, 4,
	    &n), ARK_EINVAL);
	assert_int_equal(lfs_cmdline_split("a b c d e", buf, sizeof(buf), w,
	    4, &n), ARK_EINVAL);
	assert_int_equal(lfs_cmdline_split("abcdefgh", buf, 8, w, 4, &n),
	    ARK_ETOOBIG);
}

static void
test_repo_path(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(lfs_repo_path("/games/team/game.git", out,
	    sizeof(out)), ARK_OK);
	assert_string_equal(out, "games/team/game.git");
	assert_int_equal(lfs_repo_path("games/game.git/", out, sizeof(out)),
	    ARK_OK);
	assert_string_equal(out, "games/game.git");
	assert_int_equal(lfs_repo_path("~/games/g", out, sizeof(out)), ARK_OK);
	assert_string_equal(out, "games/g");
	assert_int_equal(lfs_repo_path("///b", out, sizeof(out)), ARK_OK);
	assert_string_equal(out, "b");
	assert_int_equal(lfs_repo_path("/", out, sizeof(out)), ARK_EINVAL);
	assert_int_equal(lfs_repo_path("", out, sizeof(out)), ARK_EINVAL);
	assert_int_equal(lfs_repo_path("/b/../x", out, sizeof(out)),
	    ARK_EINVAL);
	assert_int_equal(lfs_repo_path("/b/./x", out, sizeof(out)),
	    ARK_EINVAL);
	assert_int_equal(lfs_repo_path("/b//x", out, sizeof(out)), ARK_EINVAL);
	assert_int_equal(lfs_repo_path("/b/x?y", out, sizeof(out)),
	    ARK_EINVAL);
	assert_int_equal(lfs_repo_path("/b/x%2e", out, sizeof(out)),
	    ARK_EINVAL);
	assert_int_equal(lfs_repo_path("/b/x y", out, sizeof(out)),
	    ARK_EINVAL);
	assert_int_equal(lfs_repo_path("/b/x//", out, sizeof(out)),
	    ARK_EINVAL);
	assert_int_equal(lfs_repo_path("/bucket/a-very-long-repository-name"
	    "-that-does-not-fit-here.git", out, 32), ARK_ETOOBIG);
}

/* The reader on a pipe: packets split across reads, then EOF; a torn
 * packet at EOF is a protocol error. The writer splits big data. */
static void
test_rd_wr(void **state)
{
	struct lfs_rd *r = malloc(sizeof(*r));
	struct lfs_pkt p;
	uint8_t *big = malloc(70000);
	size_t total = 0;
	int fds[2];
	FILE *f;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	memset(big, 'z', 70000);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		f = fdopen(fds[1], "w");
		lfs_wr_text(f, "version=%d", 1);
		lfs_wr_delim(f);
		lfs_wr_data(f, big, 70000);
		lfs_wr_flush(f);
		fwrite("00", 1, 2, f);	/* torn header */
		fclose(f);
		_exit(0);
	}
	close(fds[1]);
	lfs_rd_init(r, fds[0]);
	assert_int_equal(lfs_rd_next(r, &p), ARK_OK);
	assert_int_equal(p.type, LFS_PKT_DATA);
	assert_int_equal(p.len, 10);
	assert_memory_equal(p.data, "version=1\n", 10);
	assert_int_equal(lfs_rd_next(r, &p), ARK_OK);
	assert_int_equal(p.type, LFS_PKT_DELIM);
	for (;;) {
		assert_int_equal(lfs_rd_next(r, &p), ARK_OK);
		if (p.type != LFS_PKT_DATA)
			break;
		assert_true(p.len <= LFS_PKT_MAX_DATA);
		total += p.len;
	}
	assert_int_equal(p.type, LFS_PKT_FLUSH);
	assert_int_equal(total, 70000);
	assert_int_equal(lfs_rd_next(r, &p), ARK_EPROTO);
	close(fds[0]);

	/* clean EOF */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "0000", 4), 4);
	close(fds[1]);
	lfs_rd_init(r, fds[0]);
	assert_int_equal(lfs_rd_next(r, &p), ARK_OK);
	assert_int_equal(p.type, LFS_PKT_FLUSH);
	assert_int_equal(lfs_rd_next(r, &p), ARK_OK);
	assert_int_equal(p.type, LFS_PKT_EOF);
	close(fds[0]);
	free(big);
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_max),
		cmocka_unit_test(test_header_text),
		cmocka_unit_test(test_args_oid_size),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_repo_path),
		cmocka_unit_test(test_rd_wr),
	};

	return cmocka_run_group_tests_name("lfs_pkt", tests, NULL, NULL);
}
