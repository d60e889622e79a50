/*
 * test_cfg.c - the option table: command line forms, config file, errors
 * with their messages, precedence, --help, --version, --dump-config (and
 * that its output loads back), bound variables, reload, exit statuses.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/cfg.h"
#include "common/util.h"

static const char *const sync_values[] = { "always", "batch", "none", NULL };

static const char	*b_listen, *b_datadir;
static int64_t		 b_threads, b_timeout;
static uint64_t		 b_fragment;
static bool		 b_verbose, b_fsync;
static int		 b_sync;

static const struct ark_cfg_opt table[] = {
	{ .name = "listen", .shortopt = 'l', .type = ARK_CFG_STR,
	  .def = "127.0.0.1:7500", .metavar = "ADDR:PORT",
	  .help = "address and port to listen on", .bind = &b_listen },
	{ .name = "data-dir", .shortopt = 'd', .type = ARK_CFG_STR,
	  .metavar = "DIR", .help = "data directory", .bind = &b_datadir },
	{ .name = "threads", .shortopt = 't', .type = ARK_CFG_INT, .def = "4",
	  .min = 1, .max = 64, .help = "worker threads", .bind = &b_threads },
	{ .name = "fragment-size", .type = ARK_CFG_SIZE, .def = "8MiB",
	  .min = 1 << 20, .max = 1ll << 30, .help = "largest fragment",
	  .bind = &b_fragment },
	{ .name = "verbose", .shortopt = 'v', .type = ARK_CFG_BOOL,
	  .def = "false", .help = "log more", .flags = ARK_CFG_RELOAD,
	  .bind = &b_verbose },
	{ .name = "fsync", .type = ARK_CFG_BOOL, .def = "yes",
	  .help = "sync files", .bind = &b_fsync },
	{ .name = "sync", .type = ARK_CFG_ENUM, .def = "batch",
	  .values = sync_values, .help = "durability policy",
	  .bind = &b_sync },
	{ .name = "timeout", .type = ARK_CFG_DURATION, .def = "10s",
	  .min = 1, .max = 3600000, .help = "request timeout",
	  .flags = ARK_CFG_RELOAD, .bind = &b_timeout },
	{ .name = "offset", .type = ARK_CFG_INT, .def = "-5",
	  .help = "signed, unbounded" },
	{ .name = NULL },
};

struct fixture {
	char	*dir;
};

static int
setup(void **state)
{
	struct fixture *f = ark_xcalloc(1, sizeof(*f));

	f->dir = ark_xstrdup("/tmp/arkor-test-cfg.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	ark_log_init("test_cfg", ARK_LOG_ERROR);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		*cmd = ark_xasprintf("rm -rf '%s'", f->dir);
	int		 rc = system(cmd);

	free(cmd);
	free(f->dir);
	free(f);
	return rc == 0 ? 0 : -1;
}

static char *
write_conf(struct fixture *f, const char *name, const char *text)
{
	char	*path = ark_xasprintf("%s/%s", f->dir, name);
	FILE	*fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return path;
}

/* String literals are const under -Wwrite-strings; argv is not. */
#define AV(...)		((char *const *)(uintptr_t)(const char *[]){ __VA_ARGS__ })
#define ARGV(...)	AV("arkor-test", __VA_ARGS__, NULL)
#define ARGC(...)	((int)(sizeof((const char *[]){ "arkor-test", \
			    __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(c, ...)	ark_cfg_parse((c), ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

static struct ark_cfg *
newcfg(void)
{
	return ark_cfg_new("arkor-test", "1.2.3", table);
}

static void
test_defaults(void **state)
{
	struct ark_cfg *c = newcfg();

	(void)state;
	/* Bound right away, before any parse. */
	assert_string_equal(b_listen, "127.0.0.1:7500");
	assert_null(b_datadir);
	assert_int_equal(b_threads, 4);
	assert_int_equal(b_fragment, 8 << 20);
	assert_false(b_verbose);
	assert_true(b_fsync);
	assert_int_equal(b_sync, 1);
	assert_int_equal(b_timeout, 10000);
	assert_int_equal(ark_cfg_parse(c, 1, AV("x", NULL)), ARK_OK);
	assert_int_equal(ark_cfg_action(c), ARK_CFG_RUN);
	assert_string_equal(ark_cfg_str(c, "listen"), "127.0.0.1:7500");
	assert_null(ark_cfg_str(c, "data-dir"));
	assert_int_equal(ark_cfg_int(c, "threads"), 4);
	assert_int_equal(ark_cfg_size(c, "fragment-size"), 8 << 20);
	assert_false(ark_cfg_bool(c, "verbose"));
	assert_int_equal(ark_cfg_enum(c, "sync"), 1);
	assert_string_equal(ark_cfg_enum_str(c, "sync"), "batch");
	assert_int_equal(ark_cfg_duration_ms(c, "timeout"), 10000);
	assert_int_equal(ark_cfg_int(c, "offset"), -5);
	/* '_' and '-' are interchangeable in names. */
	assert_int_equal(ark_cfg_size(c, "fragment_size"), 8 << 20);
	assert_null(ark_cfg_file(c));
	ark_cfg_free(c);
	ark_cfg_free(NULL);
}

static void
test_cmdline_forms(void **state)
{
	struct ark_cfg *c = newcfg();

	(void)state;
	assert_int_equal(PARSE(c, "--listen", "0.0.0.0:80", "--threads=8",
	    "--verbose", "--no-fsync", "--sync", "always", "--timeout=1m30s",
	    "--fragment-size", "16M", "-d", "/srv/data", "--offset", "-9"),
	    ARK_OK);
	assert_string_equal(b_listen, "0.0.0.0:80");
	assert_string_equal(b_datadir, "/srv/data");
	assert_int_equal(b_threads, 8);
	assert_true(b_verbose);
	assert_false(b_fsync);
	assert_int_equal(b_sync, 0);
	assert_int_equal(b_timeout, 90000);
	assert_int_equal(b_fragment, 16 << 20);
	assert_int_equal(ark_cfg_int(c, "offset"), -9);

	/* Short forms, bool with explicit value, last one wins. */
	assert_int_equal(PARSE(c, "-t16", "-l", "[::1]:0", "-v",
	    "--verbose=false", "--fsync=on", "--threads", "2",
	    "--fragment_size=1GiB", "--sync=NONE"), ARK_OK);
	assert_int_equal(b_threads, 2);
	assert_string_equal(b_listen, "[::1]:0");
	assert_false(b_verbose);
	assert_true(b_fsync);
	assert_int_equal(b_fragment, 1 << 30);
	assert_int_equal(b_sync, 2);
	/* A new parse starts again from the defaults. */
	assert_null(b_datadir);
	ark_cfg_free(c);
}

static void
expect_err(struct ark_cfg *c, int argc, char *const argv[], enum ark_err want,
    const char *msg)
{
	assert_int_equal(ark_cfg_parse(c, argc, argv), want);
	assert_string_equal(ark_cfg_errmsg(c), msg);
}

#define EXPECT_ERR(c, msg, ...) \
	expect_err((c), ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), ARK_EINVAL, (msg))

static void
test_cmdline_errors(void **state)
{
	struct ark_cfg *c = newcfg();

	(void)state;
	assert_int_equal(PARSE(c, "--threads", "5"), ARK_OK);
	EXPECT_ERR(c, "unknown option --bogus", "--bogus");
	EXPECT_ERR(c, "unknown option --bogus", "--bogus=1");
	EXPECT_ERR(c, "unknown option -x", "-x");
	EXPECT_ERR(c, "option --threads needs a value (N)", "--threads");
	EXPECT_ERR(c, "option --listen needs a value (ADDR:PORT)", "--listen",
	    "--threads", "3");
	EXPECT_ERR(c, "option -t needs a value (N)", "-t");
	EXPECT_ERR(c, "option --threads: 0 is out of range [1, 64]",
	    "--threads", "0");
	EXPECT_ERR(c, "option -t: 65 is out of range [1, 64]", "-t", "65");
	EXPECT_ERR(c, "option --threads: 'four' is not an integer",
	    "--threads=four");
	EXPECT_ERR(c, "option --threads: '4x' is not an integer",
	    "--threads=4x");
	EXPECT_ERR(c, "option --threads: '' is not an integer", "--threads=");
	EXPECT_ERR(c, "option --threads: '99999999999999999999' is not an "
	    "integer", "--threads=99999999999999999999");
	EXPECT_ERR(c, "option --sync: 'sometimes' is not one of: always, "
	    "batch, none", "--sync", "sometimes");
	EXPECT_ERR(c, "option --verbose: 'maybe' is not a boolean (use true "
	    "or false)", "--verbose=maybe");
	EXPECT_ERR(c, "option --no-verbose takes no value", "--no-verbose=1");
	EXPECT_ERR(c, "unknown option --no-threads", "--no-threads");
	EXPECT_ERR(c, "option -v takes no value", "-vx");
	EXPECT_ERR(c, "option --fragment-size: 'lots' is not a size (e.g. "
	    "4096, 512k, 8MiB, 1G)", "--fragment-size", "lots");
	EXPECT_ERR(c, "option --fragment-size: 2G is out of range [1MiB, "
	    "1GiB]", "--fragment-size", "2G");
	EXPECT_ERR(c, "option --timeout: '10' is not a duration (e.g. 500ms, "
	    "10s, 5m, 1h30m)", "--timeout", "10");
	EXPECT_ERR(c, "option --timeout: 2h is out of range [1ms, 1h]",
	    "--timeout", "2h");
	EXPECT_ERR(c, "unexpected argument 'extra'", "extra");
	EXPECT_ERR(c, "option --help takes no value", "--help=yes");
	EXPECT_ERR(c, "option --config needs a value (FILE)", "--config");
	/* The last good values are intact after errors. */
	assert_int_equal(b_threads, 5);
	assert_int_equal(ark_cfg_int(c, "threads"), 5);
	assert_int_equal(ark_cfg_action(c), ARK_CFG_RUN);
	ark_cfg_free(c);
}

static void
test_actions(void **state)
{
	struct ark_cfg *c = newcfg();

	(void)state;
	assert_int_equal(PARSE(c, "--help"), ARK_OK);
	assert_int_equal(ark_cfg_action(c), ARK_CFG_HELP);
	assert_int_equal(PARSE(c, "-h"), ARK_OK);
	assert_int_equal(ark_cfg_action(c), ARK_CFG_HELP);
	/* --help wins over later junk. */
	assert_int_equal(PARSE(c, "--help", "--bogus"), ARK_OK);
	assert_int_equal(ark_cfg_action(c), ARK_CFG_HELP);
	assert_int_equal(PARSE(c, "--version"), ARK_OK);
	assert_int_equal(ark_cfg_action(c), ARK_CFG_VERSION);
	assert_int_equal(PARSE(c, "--dump-config", "--threads", "7"), ARK_OK);
	assert_int_equal(ark_cfg_action(c), ARK_CFG_DUMP);
	assert_int_equal(b_threads, 7);
	assert_int_equal(PARSE(c, "--threads", "3"), ARK_OK);
	assert_int_equal(ark_cfg_action(c), ARK_CFG_RUN);
	ark_cfg_free(c);
}

static void
test_args(void **state)
{
	struct ark_cfg	 *c = newcfg();
	char *const	 *args;
	int		  n;

	(void)state;
	ark_cfg_allow_args(c, "COMMAND [ARG]...");
	assert_int_equal(PARSE(c, "bucket", "-t", "2", "create", "--", "--x",
	    "-"), ARK_OK);
	args = ark_cfg_args(c, &n);
	assert_int_equal(n, 4);
	assert_string_equal(args[0], "bucket");
	assert_string_equal(args[1], "create");
	assert_string_equal(args[2], "--x");
	assert_string_equal(args[3], "-");
	assert_null(args[4]);
	assert_int_equal(b_threads, 2);
	ark_cfg_free(c);
}

static void
test_file(void **state)
{
	struct fixture	*f = *state;
	struct ark_cfg	*c = newcfg();
	char		*path;

	path = write_conf(f, "a.conf",
	    "# Arkor test config\n"
	    "; also a comment\n"
	    "\n"
	    "listen = 10.0.0.1:7500\n"
	    "   threads = 10   \n"
	    "data_dir=/var/lib/arkor ; inline comment\n"
	    "verbose = yes\n"
	    "sync: always\n"
	    "timeout = 500ms\n"
	    "fragment-size = 4MiB\n"
	    "[arkor-other]\n"
	    "threads = 99\n"
	    "no-such-key-for-us = 1\n"
	    "[arkor-test]\n"
	    "fsync = off\n"
	    "threads = 11\n"
	    "threads = 12\n");
	assert_int_equal(PARSE(c, "--config", path), ARK_OK);
	assert_string_equal(ark_cfg_file(c), path);
	assert_string_equal(b_listen, "10.0.0.1:7500");
	assert_int_equal(b_threads, 12);
	assert_string_equal(b_datadir, "/var/lib/arkor");
	assert_true(b_verbose);
	assert_false(b_fsync);
	assert_int_equal(b_sync, 0);
	assert_int_equal(b_timeout, 500);
	assert_int_equal(b_fragment, 4 << 20);

	/* The command line overrides the file, wherever --config is. */
	assert_int_equal(PARSE(c, "--threads", "3", "--config=" , "x"),
	    ARK_EINVAL);
	assert_int_equal(PARSE(c, "--threads", "3", "--no-verbose",
	    "--config", path, "-l", "h:1"), ARK_OK);
	assert_int_equal(b_threads, 3);
	assert_false(b_verbose);
	assert_string_equal(b_listen, "h:1");
	assert_string_equal(b_datadir, "/var/lib/arkor");
	free(path);
	ark_cfg_free(c);
}

static void
expect_file_err(struct fixture *f, const char *text, enum ark_err want,
    const char *suffix)
{
	struct ark_cfg	*c = newcfg();
	char		*path = write_conf(f, "bad.conf", text);
	char		*msg = ark_xasprintf("%s%s", path, suffix);

	assert_int_equal(ark_cfg_parse(c, 3, AV("x", "--config",
	    path, NULL)), want);
	assert_string_equal(ark_cfg_errmsg(c), msg);
	/* Nothing from the bad file was applied. */
	assert_int_equal(ark_cfg_int(c, "threads"), 4);
	free(msg);
	free(path);
	ark_cfg_free(c);
}

static void
test_file_errors(void **state)
{
	struct fixture	*f = *state;
	char		 longline[400];

	expect_file_err(f, "threads = 2\n\nbogus = 1\n", ARK_EINVAL,
	     ":3: unknown key 'bogus'");
	expect_file_err(f, "# c\nthreads = 100\n", ARK_EINVAL,
	     ":2: key 'threads': 100 is out of range [1, 64]");
	expect_file_err(f, "sync = never\n", ARK_EINVAL,
	     ":1: key 'sync': 'never' is not one of: always, batch, none");
	expect_file_err(f, "threads = 2\njust some words\nbogus = 1\n",
	    ARK_EINVAL,  ":2: syntax error (expected 'name = value', a "
	    "comment or a [section])");
	expect_file_err(f, "threads = 2\n[broken\n", ARK_EINVAL,
	     ":2: syntax error (expected 'name = value', a comment or a "
	    "[section])");
	expect_file_err(f, "timeout = forever\nthreads=x\n", ARK_EINVAL,
	     ":1: key 'timeout': 'forever' is not a duration (e.g. 500ms, "
	    "10s, 5m, 1h30m)");
	/* Built-in flags are not config keys. */
	expect_file_err(f, "config = /etc/other\n", ARK_EINVAL,
	     ":1: unknown key 'config'");
	/* An indented line is a key of its own, not a continuation. */
	expect_file_err(f, "listen = a\n  bogus = b\n", ARK_EINVAL,
	     ":2: unknown key 'bogus'");
	snprintf(longline, sizeof(longline), "listen = %0300d\n", 7);
	expect_file_err(f, longline, ARK_EINVAL,
	     ":1: line too long (at most 198 characters)");
	{
		struct ark_cfg *c = newcfg();
		char *missing = ark_xasprintf("%s/nope.conf", f->dir);
		char *msg = ark_xasprintf("cannot read config file %s: No such "
		    "file or directory", missing);

		char *opt = ark_xasprintf("--config=%s", missing);

		assert_int_equal(ark_cfg_parse(c, 2, AV("x", opt, NULL)),
		    ARK_ENOENT);
		free(opt);
		assert_string_equal(ark_cfg_errmsg(c), msg);
		free(missing);
		free(msg);
		ark_cfg_free(c);
	}
}

static void
test_usage(void **state)
{
	struct ark_cfg	*c = newcfg();
	struct ark_buf	 b;
	const char	*u;

	(void)state;
	ark_cfg_set_summary(c, "Arkor test daemon.");
	ark_buf_init(&b, 1 << 16);
	assert_int_equal(ark_cfg_usage(c, &b), ARK_OK);
	u = ark_buf_str(&b);
	assert_string_equal(u,
"Usage: arkor-test [OPTION]...\n"
"Arkor test daemon.\n"
"\n"
"Options:\n"
"  -l, --listen ADDR:PORT      address and port to listen on (default: 127.0.0.1:7500)\n"
"  -d, --data-dir DIR          data directory\n"
"  -t, --threads N             worker threads [1..64] (default: 4)\n"
"      --fragment-size SIZE    largest fragment [1MiB..1GiB] (default: 8MiB)\n"
"  -v, --[no-]verbose          log more (default: false) (reloadable)\n"
"      --[no-]fsync            sync files (default: true)\n"
"      --sync always|batch|none\n"
"                              durability policy (default: batch)\n"
"      --timeout DURATION      request timeout [1ms..1h] (default: 10s) (reloadable)\n"
"      --offset N              signed, unbounded (default: -5)\n"
"      --config FILE           read options from FILE; its keys are the long option names (arkor.conf(5))\n"
"      --dump-config           print the effective configuration as a config file and exit\n"
"  -h, --help                  print this help and exit\n"
"      --version               print the version and exit\n");
	ark_buf_free(&b);
	ark_cfg_free(c);
}

static void
test_dump_roundtrip(void **state)
{
	struct fixture	*f = *state;
	struct ark_cfg	*c = newcfg(), *c2 = newcfg();
	struct ark_buf	 b, b2;
	char		*path;

	assert_int_equal(PARSE(c, "--threads", "9", "--timeout", "90500ms",
	    "--fragment-size", "3145728", "-v", "--sync", "none",
	    "--listen="), ARK_OK);
	ark_buf_init(&b, 1 << 16);
	assert_int_equal(ark_cfg_dump(c, &b), ARK_OK);
	assert_non_null(strstr(ark_buf_str(&b),
	    "# arkor-test 1.2.3: effective configuration"));
	assert_non_null(strstr(ark_buf_str(&b), "\nthreads = 9\n"));
	assert_non_null(strstr(ark_buf_str(&b), "\ntimeout = 1m30s500ms\n"));
	assert_non_null(strstr(ark_buf_str(&b), "\nfragment-size = 3MiB\n"));
	assert_non_null(strstr(ark_buf_str(&b), "\nverbose = true\n"));
	assert_non_null(strstr(ark_buf_str(&b), "\nsync = none\n"));
	assert_non_null(strstr(ark_buf_str(&b), "\nlisten =\n"));
	assert_non_null(strstr(ark_buf_str(&b), "\n#data-dir =\n"));
	assert_non_null(strstr(ark_buf_str(&b), "\n# worker threads\n"));
	/* The dump is a valid config file that gives the same config. */
	path = write_conf(f, "dump.conf", ark_buf_str(&b));
	assert_int_equal(ark_cfg_parse(c2, 3, AV("x", "--config",
	    path, NULL)), ARK_OK);
	ark_buf_init(&b2, 1 << 16);
	assert_int_equal(ark_cfg_dump(c2, &b2), ARK_OK);
	assert_string_equal(ark_buf_str(&b), ark_buf_str(&b2));
	assert_int_equal(ark_cfg_duration_ms(c2, "timeout"), 90500);
	assert_string_equal(ark_cfg_str(c2, "listen"), "");
	assert_null(ark_cfg_str(c2, "data-dir"));
	ark_buf_free(&b);
	ark_buf_free(&b2);
	free(path);
	ark_cfg_free(c);
	ark_cfg_free(c2);
}

static void
test_reload(void **state)
{
	struct fixture	*f = *state;
	struct ark_cfg	*c = newcfg();
	char		*path;
	const char	*old_listen;
	int		 n = -1;

	path = write_conf(f, "r.conf", "verbose = false\ntimeout = 5s\n"
	    "listen = a:1\n");
	assert_int_equal(PARSE(c, "--config", path, "--threads", "6"), ARK_OK);
	old_listen = b_listen;
	assert_int_equal(b_timeout, 5000);
	free(path);
	path = write_conf(f, "r.conf", "verbose = true\ntimeout = 7s\n"
	    "listen = b:2\nthreads = 50\n");
	assert_int_equal(ark_cfg_reload(c, &n), ARK_OK);
	assert_int_equal(n, 2);
	assert_true(b_verbose);
	assert_int_equal(b_timeout, 7000);
	/* Not reloadable: kept. Command line still overrides the file. */
	assert_string_equal(b_listen, "a:1");
	assert_ptr_equal(b_listen, old_listen);
	assert_int_equal(b_threads, 6);
	/* A bad file changes nothing. */
	free(path);
	path = write_conf(f, "r.conf", "verbose = false\ntimeout = x\n");
	assert_int_equal(ark_cfg_reload(c, &n), ARK_EINVAL);
	assert_non_null(strstr(ark_cfg_errmsg(c), "r.conf:2: key 'timeout'"));
	assert_true(b_verbose);
	assert_int_equal(b_timeout, 7000);
	free(path);
	/* No file: back to defaults for reloadable options. */
	assert_int_equal(PARSE(c, "-v"), ARK_OK);
	assert_int_equal(ark_cfg_reload(c, &n), ARK_OK);
	assert_int_equal(n, 0);
	ark_cfg_free(c);
}

static void
test_values(void **state)
{
	int64_t	ms;
	bool	b;
	char	out[64];

	(void)state;
	assert_int_equal(ark_parse_duration_ms("0", &ms), ARK_OK);
	assert_int_equal(ms, 0);
	assert_int_equal(ark_parse_duration_ms("250ms", &ms), ARK_OK);
	assert_int_equal(ms, 250);
	assert_int_equal(ark_parse_duration_ms("2d3h", &ms), ARK_OK);
	assert_int_equal(ms, 2 * 86400000 + 3 * 3600000);
	assert_int_equal(ark_parse_duration_ms("5m", &ms), ARK_OK);
	assert_int_equal(ms, 300000);
	static const char *const bad[] = { "", "5", "s", "5x", "1.5s", "-1s",
	    " 1s", "1s ", "99999999999999999999d", "9999999999999999d" };
	for (size_t i = 0; i < ARK_ARRAY_SIZE(bad); i++)
		assert_int_equal(ark_parse_duration_ms(bad[i], &ms), ARK_EINVAL);
	ark_format_duration_ms(0, out, sizeof(out));
	assert_string_equal(out, "0");
	ark_format_duration_ms(3723004, out, sizeof(out));
	assert_string_equal(out, "1h2m3s4ms");
	ark_format_duration_ms(86400000, out, sizeof(out));
	assert_string_equal(out, "1d");
	ark_format_size(0, out, sizeof(out));
	assert_string_equal(out, "0");
	ark_format_size(3072, out, sizeof(out));
	assert_string_equal(out, "3KiB");
	ark_format_size(1536, out, sizeof(out));
	assert_string_equal(out, "1536");
	ark_format_size(1000, out, sizeof(out));
	assert_string_equal(out, "1000");
	ark_format_size(5ull << 40, out, sizeof(out));
	assert_string_equal(out, "5TiB");
	assert_int_equal(ark_parse_bool("On", &b), ARK_OK);
	assert_true(b);
	assert_int_equal(ark_parse_bool("0", &b), ARK_OK);
	assert_false(b);
	assert_int_equal(ark_parse_bool("2", &b), ARK_EINVAL);
}

/* Runs ark_cfg_parse_or_exit in a child; returns its exit status and
 * what it printed. */
static struct ark_cfg *child_cfg;

static int
run_child(struct fixture *f, int argc, char *const argv[], char **out, char **err)
{
	char	*po = ark_xasprintf("%s/out", f->dir);
	char	*pe = ark_xasprintf("%s/err", f->dir);
	int	 status;
	pid_t	 pid;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		if (freopen(po, "w", stdout) == NULL ||
		    freopen(pe, "w", stderr) == NULL)
			_exit(98);
		child_cfg = newcfg();
		ark_cfg_parse_or_exit(child_cfg, argc, argv);
		fflush(NULL);
		_exit(99);	/* would run the program */
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	{
		FILE	*fp;
		size_t	 n;

		*out = ark_xcalloc(1, 1 << 16);
		*err = ark_xcalloc(1, 1 << 16);
		fp = fopen(po, "r");
		n = fread(*out, 1, (1 << 16) - 1, fp);
		(void)n;
		fclose(fp);
		fp = fopen(pe, "r");
		n = fread(*err, 1, (1 << 16) - 1, fp);
		fclose(fp);
	}
	free(po);
	free(pe);
	return WEXITSTATUS(status);
}

static void
test_parse_or_exit(void **state)
{
	struct fixture	*f = *state;
	char		*out, *err;

	assert_int_equal(run_child(f, 3, ARGV("--threads", "0"), &out, &err),
	    2);
	assert_string_equal(err, "arkor-test: option --threads: 0 is out of "
	    "range [1, 64]\nTry 'arkor-test --help' for more information.\n");
	assert_string_equal(out, "");
	free(out);
	free(err);

	assert_int_equal(run_child(f, 2, ARGV("--nope"), &out, &err), 2);
	assert_non_null(strstr(err, "unknown option --nope"));
	free(out);
	free(err);

	assert_int_equal(run_child(f, 2, ARGV("--help"), &out, &err), 0);
	assert_int_equal(strncmp(out, "Usage: arkor-test [OPTION]...\n", 30), 0);
	for (const struct ark_cfg_opt *o = table; o->name; o++) {
		char *flag = ark_xasprintf("--%s%s", o->type == ARK_CFG_BOOL ?
		    "[no-]" : "", o->name);
		assert_non_null(strstr(out, flag));
		if (o->help)
			assert_non_null(strstr(out, o->help));
		free(flag);
	}
	assert_string_equal(err, "");
	free(out);
	free(err);

	assert_int_equal(run_child(f, 2, ARGV("--version"), &out, &err), 0);
	assert_string_equal(out, "arkor-test 1.2.3\n");
	free(out);
	free(err);

	assert_int_equal(run_child(f, 4, ARGV("--dump-config", "-t", "33"),
	    &out, &err), 0);
	assert_non_null(strstr(out, "\nthreads = 33\n"));
	free(out);
	free(err);

	assert_int_equal(run_child(f, 3, ARGV("-t", "33"), &out, &err), 99);
	free(out);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_cmdline_forms),
		cmocka_unit_test(test_cmdline_errors),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_dump_roundtrip),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_parse_or_exit),
	};

	return cmocka_run_group_tests_name("cfg", tests, setup, teardown);
}
