/*
 * cfg.h - one table per program drives the command line, the config file,
 * --help, --dump-config and reloads.
 *
 * Every option `name` is the long flag --name and the config-file key
 * `name` ('_' and '-' are interchangeable). Precedence: built-in default <
 * config file (--config FILE) < command line. Bool options also take
 * --no-name. The file is `name = value` lines read with libinih, see
 * arkor.conf(5).
 *
 * Ownership and threads: the program owns the struct ark_cfg (ark_cfg_free)
 * and the table (borrowed; it must outlive the cfg, normally static). All
 * calls on one cfg must be serialised by the caller: parse in main() before
 * threads start; reload from one thread (the signal thread). Reload writes
 * bound variables with plain stores, so a reloadable value that other
 * threads read needs the program's own hand-off (e.g. the loop thread
 * copies it when told about the reload). Strings returned or bound stay
 * valid until ark_cfg_free(), even across reloads.
 */
#ifndef ARKOR_COMMON_CFG_H
#define ARKOR_COMMON_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

enum ark_cfg_type {
	ARK_CFG_STR,		/* bind: const char ** (NULL when unset)   */
	ARK_CFG_INT,		/* bind: int64_t *                         */
	ARK_CFG_SIZE,		/* bind: uint64_t *, bytes ("8MiB", "512k")*/
	ARK_CFG_BOOL,		/* bind: bool *                            */
	ARK_CFG_ENUM,		/* bind: int *, index into `values`        */
	ARK_CFG_DURATION,	/* bind: int64_t *, milliseconds ("500ms",
				 * "10s", "5m", "1h30m", "2d"; "0")        */
};

#define ARK_CFG_RELOAD	0x01	/* may change on ark_cfg_reload() */

struct ark_cfg_opt {
	const char		*name;		/* "data-dir"; NULL ends the table */
	int			 shortopt;	/* 'd', or 0 for none */
	enum ark_cfg_type	 type;
	const char		*def;		/* default, written as a user would;
						 * NULL: unset (STR only) */
	int64_t			 min, max;	/* INT/SIZE/DURATION(ms) bounds,
						 * inclusive; both 0 = unbounded */
	const char *const	*values;	/* ENUM: NULL-terminated */
	const char		*metavar;	/* "DIR"; NULL: from the type */
	const char		*help;		/* one line, no trailing period */
	unsigned		 flags;		/* ARK_CFG_RELOAD */
	void			*bind;		/* optional program variable */
};

enum ark_cfg_action {
	ARK_CFG_RUN,		/* options parsed: start the program */
	ARK_CFG_HELP,		/* --help / -h */
	ARK_CFG_VERSION,	/* --version */
	ARK_CFG_DUMP,		/* --dump-config */
};

struct ark_cfg;			/* opaque */

/* Checks the table (names unique and not reserved, defaults valid: a bad
 * table is a programmer error and aborts), applies the defaults and writes
 * bound variables. `prog` and `version` are borrowed. Caller owns the
 * result. */
struct ark_cfg	*ark_cfg_new(const char *prog, const char *version,
		    const struct ark_cfg_opt *table);
void		 ark_cfg_free(struct ark_cfg *c);	/* NULL is a no-op */
/* One line shown under the usage line of --help (borrowed). */
void		 ark_cfg_set_summary(struct ark_cfg *c, const char *summary);
/* Accept positional arguments, shown as `usage` (e.g. "COMMAND [ARG]...")
 * in --help; without this call they are errors. */
void		 ark_cfg_allow_args(struct ark_cfg *c, const char *usage);

/* Parses argv (argv[0] is skipped), loads --config FILE if given, and
 * applies default < file < command line. On error returns ARK_EINVAL (bad
 * flag or value, unknown key...), ARK_ENOENT or ARK_EIO (config file), and
 * ark_cfg_errmsg() names the option, or file:line and key; the previous
 * values are kept. On ARK_OK, ark_cfg_action() says what to do. */
enum ark_err	 ark_cfg_parse(struct ark_cfg *c, int argc, char *const argv[]);
enum ark_cfg_action ark_cfg_action(const struct ark_cfg *c);
const char	*ark_cfg_errmsg(const struct ark_cfg *c);

/* The usual main() helper: ark_cfg_parse(), then on error prints
 * "prog: message" and a --help hint to stderr and exits 2; prints help,
 * version or the dumped config to stdout and exits 0; returns only when
 * the program should run. */
void		 ark_cfg_parse_or_exit(struct ark_cfg *c, int argc,
		    char *const argv[]);

/* Re-reads the config file (if any) and re-applies the command line.
 * Reloadable options take their new values; a changed non-reloadable one
 * keeps its value and is logged as needing a restart. On error nothing
 * changes (see ark_cfg_errmsg). *nchanged (may be NULL) gets the number
 * of options that changed. */
enum ark_err	 ark_cfg_reload(struct ark_cfg *c, int *nchanged);

/* Renders --help text / the effective config as a valid config file. */
enum ark_err	 ark_cfg_usage(const struct ark_cfg *c, struct ark_buf *b);
enum ark_err	 ark_cfg_dump(const struct ark_cfg *c, struct ark_buf *b);

/* Typed getters by name. An unknown name or a type mismatch is a
 * programmer error and aborts. */
const char	*ark_cfg_str(const struct ark_cfg *c, const char *name);
int64_t		 ark_cfg_int(const struct ark_cfg *c, const char *name);
uint64_t	 ark_cfg_size(const struct ark_cfg *c, const char *name);
bool		 ark_cfg_bool(const struct ark_cfg *c, const char *name);
int		 ark_cfg_enum(const struct ark_cfg *c, const char *name);
const char	*ark_cfg_enum_str(const struct ark_cfg *c, const char *name);
int64_t		 ark_cfg_duration_ms(const struct ark_cfg *c, const char *name);
/* The --config path, or NULL. */
const char	*ark_cfg_file(const struct ark_cfg *c);
/* Positional arguments (borrowed from argv); *n gets the count. */
char *const	*ark_cfg_args(const struct ark_cfg *c, int *n);

/* Value parsers shared with other modules. ARK_EINVAL on junk/overflow. */
enum ark_err	 ark_parse_duration_ms(const char *s, int64_t *out);
enum ark_err	 ark_parse_bool(const char *s, bool *out);
/* Canonical text: "8MiB", "1h30m"; out >= 32 bytes. */
void		 ark_format_size(uint64_t v, char *out, size_t len);
void		 ark_format_duration_ms(int64_t ms, char *out, size_t len);

#endif /* ARKOR_COMMON_CFG_H */
