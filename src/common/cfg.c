/*
 * cfg.c - table-driven options: command line, config file (libinih),
 * --help, --dump-config, reload.
 *
 * A parse builds a complete new value set (default, then file, then
 * command line) and commits it only if everything was valid, so an error
 * never leaves a half-applied configuration. Replaced strings are kept
 * until ark_cfg_free() because other threads may still hold them.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "common/cfg.h"
#include "common/log.h"
#include "common/util.h"

struct cfg_val {
	char		*s;	/* STR: owned, NULL when unset */
	int64_t		 i;	/* INT, DURATION (ms), ENUM index, BOOL */
	uint64_t	 u;	/* SIZE */
};

struct cfg_arg {		/* one option from the command line */
	size_t		 idx;
	char		*text;	/* owned copy */
};

struct ark_cfg {
	const char		 *prog, *version, *summary, *args_usage;
	const struct ark_cfg_opt *opts;
	size_t			  nopts;
	struct cfg_val		 *vals;
	char			 *file;		/* --config path */
	struct cfg_arg		 *cl;
	size_t			  ncl;
	char *const		 *args;		/* positional */
	char			**posv;
	int			  nargs;
	int			  allow_args;
	enum ark_cfg_action	  action;
	char			**garbage;	/* replaced strings */
	size_t			  ngarbage;
	char			  errmsg[512];
};

static const char *const cfg_reserved[] = { "config", "help", "version",
    "dump-config", NULL };

static void cfg_seterr(struct ark_cfg *c, const char *fmt, ...)
    ARK_PRINTF(2, 3);

static void
cfg_seterr(struct ark_cfg *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	va_end(ap);
}

/* Name comparison where '_' and '-' are the same character. */
static int
cfg_name_eq(const char *a, const char *b, size_t blen)
{
	size_t i;

	for (i = 0; i < blen; i++) {
		char x = a[i] == '_' ? '-' : a[i];
		char y = b[i] == '_' ? '-' : b[i];
		if (x == '\0' || x != y)
			return 0;
	}
	return a[i] == '\0';
}

static long
cfg_find(const struct ark_cfg *c, const char *name, size_t len)
{
	for (size_t i = 0; i < c->nopts; i++)
		if (cfg_name_eq(c->opts[i].name, name, len))
			return (long)i;
	return -1;
}

/* ---- value parsing and formatting ------------------------------------- */

enum ark_err
ark_parse_bool(const char *s, bool *out)
{
	static const char *const t[] = { "true", "yes", "on", "1" };
	static const char *const f[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < ARK_ARRAY_SIZE(t); i++) {
		if (strcasecmp(s, t[i]) == 0) {
			*out = true;
			return ARK_OK;
		}
		if (strcasecmp(s, f[i]) == 0) {
			*out = false;
			return ARK_OK;
		}
	}
	return ARK_EINVAL;
}

enum ark_err
ark_parse_duration_ms(const char *s, int64_t *out)
{
	static const struct { const char *sfx; int64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 },
	};
	int64_t total = 0;

	if (s == NULL || *s == '\0')
		return ARK_EINVAL;
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return ARK_OK;
	}
	while (*s != '\0') {
		int64_t	 n = 0;
		size_t	 i, ulen;

		if (*s < '0' || *s > '9')
			return ARK_EINVAL;
		while (*s >= '0' && *s <= '9') {
			if (n > (INT64_MAX - (*s - '0')) / 10)
				return ARK_EINVAL;
			n = n * 10 + (*s++ - '0');
		}
		ulen = 0;
		while (s[ulen] != '\0' && (s[ulen] < '0' || s[ulen] > '9'))
			ulen++;
		for (i = 0; i < ARK_ARRAY_SIZE(units); i++)
			if (strlen(units[i].sfx) == ulen &&
			    strncmp(s, units[i].sfx, ulen) == 0)
				break;
		if (i == ARK_ARRAY_SIZE(units))
			return ARK_EINVAL;
		if (n > (INT64_MAX - total) / units[i].ms)
			return ARK_EINVAL;
		total += n * units[i].ms;
		s += ulen;
	}
	*out = total;
	return ARK_OK;
}

void
ark_format_size(uint64_t v, char *out, size_t len)
{
	static const char *const sfx[] = { "TiB", "GiB", "MiB", "KiB" };

	for (int i = 0; i < 4 && v != 0; i++) {
		unsigned shift = (unsigned)(40 - 10 * i);
		if ((v & ((1ull << shift) - 1)) == 0) {
			snprintf(out, len, "%" PRIu64 "%s", v >> shift, sfx[i]);
			return;
		}
	}
	snprintf(out, len, "%" PRIu64, v);
}

void
ark_format_duration_ms(int64_t ms, char *out, size_t len)
{
	static const struct { const char *sfx; int64_t ms; } units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 },
		{ "s", 1000 }, { "ms", 1 },
	};
	size_t n = 0;

	if (ms <= 0) {
		snprintf(out, len, "%s", ms == 0 ? "0" : "?");
		return;
	}
	out[0] = '\0';
	for (size_t i = 0; i < ARK_ARRAY_SIZE(units) && n < len; i++) {
		if (ms >= units[i].ms) {
			int w = snprintf(out + n, len - n, "%" PRId64 "%s",
			    ms / units[i].ms, units[i].sfx);
			if (w < 0)
				break;
			n += (size_t)w;
			ms %= units[i].ms;
		}
	}
}

static int
cfg_bounded(const struct ark_cfg_opt *o)
{
	return o->min != 0 || o->max != 0;
}

/* Formats the current value of option `o` in `v` as config-file text. */
static void
cfg_format(const struct ark_cfg_opt *o, const struct cfg_val *v, char *out,
    size_t len)
{
	switch (o->type) {
	case ARK_CFG_STR:
		snprintf(out, len, "%s", v->s ? v->s : "");
		break;
	case ARK_CFG_INT:
		snprintf(out, len, "%" PRId64, v->i);
		break;
	case ARK_CFG_SIZE:
		ark_format_size(v->u, out, len);
		break;
	case ARK_CFG_BOOL:
		snprintf(out, len, "%s", v->i ? "true" : "false");
		break;
	case ARK_CFG_ENUM:
		snprintf(out, len, "%s", o->values[v->i]);
		break;
	case ARK_CFG_DURATION:
		ark_format_duration_ms(v->i, out, len);
		break;
	}
}

static void
cfg_format_bound(const struct ark_cfg_opt *o, int64_t b, char *out, size_t len)
{
	if (o->type == ARK_CFG_SIZE)
		ark_format_size((uint64_t)b, out, len);
	else if (o->type == ARK_CFG_DURATION)
		ark_format_duration_ms(b, out, len);
	else
		snprintf(out, len, "%" PRId64, b);
}

/* Parses `text` for option `o` into *v (v->s newly allocated for STR).
 * On error writes a message (without the option name) into err. */
static enum ark_err
cfg_parse_value(const struct ark_cfg_opt *o, const char *text,
    struct cfg_val *v, char *err, size_t errlen)
{
	char	 lo[32], hi[32];
	int64_t	 n = 0;
	char	*end;
	bool	 b;

	switch (o->type) {
	case ARK_CFG_STR:
		v->s = ark_xstrdup(text);
		return ARK_OK;
	case ARK_CFG_BOOL:
		if (ark_parse_bool(text, &b) != ARK_OK) {
			snprintf(err, errlen, "'%s' is not a boolean (use true "
			    "or false)", text);
			return ARK_EINVAL;
		}
		v->i = b;
		return ARK_OK;
	case ARK_CFG_ENUM:
		for (int i = 0; o->values[i] != NULL; i++)
			if (strcasecmp(text, o->values[i]) == 0) {
				v->i = i;
				return ARK_OK;
			}
		{
			size_t k = (size_t)snprintf(err, errlen,
			    "'%s' is not one of:", text);
			for (int i = 0; o->values[i] != NULL && k < errlen; i++)
				k += (size_t)snprintf(err + k, errlen - k,
				    "%s %s", i ? "," : "", o->values[i]);
		}
		return ARK_EINVAL;
	case ARK_CFG_INT:
		errno = 0;
		n = strtoll(text, &end, 10);
		if (*end != '\0' || errno != 0 ||
		    !(text[0] == '-' || (text[0] >= '0' && text[0] <= '9'))) {
			snprintf(err, errlen, "'%s' is not an integer", text);
			return ARK_EINVAL;
		}
		v->i = n;
		break;
	case ARK_CFG_SIZE: {
		uint64_t u;

		if (ark_parse_size(text, &u) != ARK_OK || u > INT64_MAX) {
			snprintf(err, errlen, "'%s' is not a size (e.g. 4096, "
			    "512k, 8MiB, 1G)", text);
			return ARK_EINVAL;
		}
		v->u = u;
		n = (int64_t)u;
		break;
	}
	case ARK_CFG_DURATION:
		if (ark_parse_duration_ms(text, &n) != ARK_OK) {
			snprintf(err, errlen, "'%s' is not a duration (e.g. "
			    "500ms, 10s, 5m, 1h30m)", text);
			return ARK_EINVAL;
		}
		v->i = n;
		break;
	}
	if (cfg_bounded(o) && (n < o->min || n > o->max)) {
		cfg_format_bound(o, o->min, lo, sizeof(lo));
		cfg_format_bound(o, o->max, hi, sizeof(hi));
		snprintf(err, errlen, "%s is out of range [%s, %s]", text, lo,
		    hi);
		return ARK_EINVAL;
	}
	return ARK_OK;
}

/* ---- value sets ------------------------------------------------------- */

static void
cfg_vals_free(const struct ark_cfg *c, struct cfg_val *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < c->nopts; i++)
		free(v[i].s);
	free(v);
}

/* Stores the value of option i, freeing a string it replaces. */
static void
cfg_val_set(struct cfg_val *dst, struct cfg_val *src)
{
	free(dst->s);
	*dst = *src;
}

static struct cfg_val *
cfg_defaults(const struct ark_cfg *c)
{
	struct cfg_val	*v = ark_xcalloc(c->nopts, sizeof(*v));
	char		 err[256];

	for (size_t i = 0; i < c->nopts; i++) {
		const struct ark_cfg_opt *o = &c->opts[i];
		struct cfg_val t = { NULL, 0, 0 };

		if (o->def == NULL)
			continue;
		if (cfg_parse_value(o, o->def, &t, err, sizeof(err)) != ARK_OK)
			ark_fatalx("%s: option %s: bad default: %s", c->prog,
			    o->name, err);
		cfg_val_set(&v[i], &t);
	}
	return v;
}

struct cfg_file {
	struct ark_cfg	*c;
	struct cfg_val	*v;
	FILE		*fp;
	const char	*path;
	char		*line;
	size_t		 linecap;
	int		 lineno;
	int		 errline;	/* first error we found, or 0 */
	char		 err[400];
};

/* inih reader: one call per physical line, so lineno stays exact. Leading
 * blanks are dropped (inih would take an indented line as a continuation)
 * and over-long lines are errors rather than silently split. */
static char *
cfg_file_reader(char *str, int num, void *arg)
{
	struct cfg_file	*f = arg;
	ssize_t		 n;
	size_t		 len;
	char		*p;

	if ((n = getline(&f->line, &f->linecap, f->fp)) < 0)
		return NULL;
	f->lineno++;
	p = f->line;
	while (*p == ' ' || *p == '\t')
		p++;
	len = strcspn(p, "\n");
	p[len] = '\0';
	if (len > (size_t)num - 2) {
		if (f->errline == 0) {
			f->errline = f->lineno;
			snprintf(f->err, sizeof(f->err), "%s:%d: line too long "
			    "(at most %d characters)", f->path, f->lineno,
			    num - 2);
		}
		p[0] = '\0';
	}
	snprintf(str, (size_t)num, "%s\n", p);
	return str;
}

static int
cfg_file_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct cfg_file	*f = arg;
	struct ark_cfg	*c = f->c;
	struct cfg_val	 t = { NULL, 0, 0 };
	char		 err[256];
	long		 i;

	/* Keys before any section apply to everyone; a [<prog>] section
	 * holds keys for this program only; other sections are for others. */
	if (section[0] != '\0' && strcmp(section, c->prog) != 0)
		return 1;
	if ((i = cfg_find(c, name, strlen(name))) < 0) {
		if (f->errline == 0) {
			f->errline = f->lineno;
			snprintf(f->err, sizeof(f->err), "%s:%d: unknown key "
			    "'%s'", f->path, f->lineno, name);
		}
		return 0;
	}
	if (cfg_parse_value(&c->opts[i], value, &t, err, sizeof(err))
	    != ARK_OK) {
		if (f->errline == 0) {
			f->errline = f->lineno;
			snprintf(f->err, sizeof(f->err), "%s:%d: key '%s': %s",
			    f->path, f->lineno, c->opts[i].name, err);
		}
		return 0;
	}
	cfg_val_set(&f->v[i], &t);
	return 1;
}

static enum ark_err
cfg_load_file(struct ark_cfg *c, const char *path, struct cfg_val *v)
{
	struct cfg_file	f;
	int		rc;

	memset(&f, 0, sizeof(f));
	f.c = c;
	f.v = v;
	f.path = path;
	if ((f.fp = fopen(path, "r")) == NULL) {
		int e = errno;
		cfg_seterr(c, "cannot read config file %s: %s", path,
		    strerror(e));
		return e == ENOENT ? ARK_ENOENT : ARK_EIO;
	}
	rc = ini_parse_stream(cfg_file_reader, &f, cfg_file_handler, &f);
	free(f.line);
	fclose(f.fp);
	if (rc == -2) {
		cfg_seterr(c, "%s: out of memory", path);
		return ARK_ENOMEM;
	}
	if (rc > 0 && (f.errline == 0 || rc < f.errline)) {
		cfg_seterr(c, "%s:%d: syntax error (expected 'name = value', "
		    "a comment or a [section])", path, rc);
		return ARK_EINVAL;
	}
	if (f.errline != 0) {
		cfg_seterr(c, "%s", f.err);
		return ARK_EINVAL;
	}
	return ARK_OK;
}

/* Builds default < file < command line into *out (caller frees). */
static enum ark_err
cfg_compute(struct ark_cfg *c, struct cfg_val **out)
{
	struct cfg_val	*v = cfg_defaults(c);
	enum ark_err	 rc;
	char		 err[256];

	if (c->file != NULL && (rc = cfg_load_file(c, c->file, v)) != ARK_OK) {
		cfg_vals_free(c, v);
		return rc;
	}
	for (size_t k = 0; k < c->ncl; k++) {
		const struct ark_cfg_opt *o = &c->opts[c->cl[k].idx];
		struct cfg_val t = { NULL, 0, 0 };

		/* Values were validated while scanning argv. */
		if (cfg_parse_value(o, c->cl[k].text, &t, err, sizeof(err))
		    != ARK_OK)
			ark_fatalx("%s: option --%s: %s", c->prog, o->name, err);
		cfg_val_set(&v[c->cl[k].idx], &t);
	}
	*out = v;
	return ARK_OK;
}

static void
cfg_bind(const struct ark_cfg *c)
{
	for (size_t i = 0; i < c->nopts; i++) {
		const struct ark_cfg_opt	*o = &c->opts[i];
		const struct cfg_val		*v = &c->vals[i];

		if (o->bind == NULL)
			continue;
		switch (o->type) {
		case ARK_CFG_STR:
			*(const char **)o->bind = v->s;
			break;
		case ARK_CFG_INT:
		case ARK_CFG_DURATION:
			*(int64_t *)o->bind = v->i;
			break;
		case ARK_CFG_SIZE:
			*(uint64_t *)o->bind = v->u;
			break;
		case ARK_CFG_BOOL:
			*(bool *)o->bind = v->i != 0;
			break;
		case ARK_CFG_ENUM:
			*(int *)o->bind = (int)v->i;
			break;
		}
	}
}

static void
cfg_keep(struct ark_cfg *c, char *s)
{
	if (s == NULL)
		return;
	c->garbage = ark_xrealloc(c->garbage,
	    (c->ngarbage + 1) * sizeof(*c->garbage));
	c->garbage[c->ngarbage++] = s;
}

static int
cfg_val_eq(const struct ark_cfg_opt *o, const struct cfg_val *a,
    const struct cfg_val *b)
{
	if (o->type == ARK_CFG_STR) {
		if (a->s == NULL || b->s == NULL)
			return a->s == b->s;
		return strcmp(a->s, b->s) == 0;
	}
	return a->i == b->i && a->u == b->u;
}

/* ---- lifecycle -------------------------------------------------------- */

static void
cfg_cl_free(struct cfg_arg *cl, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(cl[i].text);
	free(cl);
}


struct ark_cfg *
ark_cfg_new(const char *prog, const char *version,
    const struct ark_cfg_opt *table)
{
	struct ark_cfg *c = ark_xcalloc(1, sizeof(*c));

	c->prog = prog;
	c->version = version;
	c->opts = table;
	while (table[c->nopts].name != NULL)
		c->nopts++;
	for (size_t i = 0; i < c->nopts; i++) {
		const struct ark_cfg_opt *o = &table[i];

		for (int r = 0; cfg_reserved[r] != NULL; r++)
			if (cfg_name_eq(o->name, cfg_reserved[r],
			    strlen(cfg_reserved[r])))
				ark_fatalx("%s: option name %s is reserved",
				    prog, o->name);
		if (strncmp(o->name, "no-", 3) == 0 || o->name[0] == '\0' ||
		    o->name[0] == '-' || strpbrk(o->name, " =[];#") != NULL)
			ark_fatalx("%s: bad option name '%s'", prog, o->name);
		if (cfg_find(c, o->name, strlen(o->name)) != (long)i)
			ark_fatalx("%s: option %s defined twice", prog, o->name);
		if (o->type == ARK_CFG_ENUM &&
		    (o->values == NULL || o->values[0] == NULL))
			ark_fatalx("%s: enum option %s has no values", prog,
			    o->name);
		if (o->def == NULL && o->type != ARK_CFG_STR)
			ark_fatalx("%s: option %s needs a default", prog,
			    o->name);
		if (o->shortopt == 'h')
			ark_fatalx("%s: -h is reserved for --help", prog);
		for (size_t j = 0; j < i && o->shortopt != 0; j++)
			if (table[j].shortopt == o->shortopt)
				ark_fatalx("%s: short option -%c used twice",
				    prog, o->shortopt);
	}
	c->vals = cfg_defaults(c);
	cfg_bind(c);
	return c;
}

void
ark_cfg_free(struct ark_cfg *c)
{
	if (c == NULL)
		return;
	cfg_vals_free(c, c->vals);
	for (size_t i = 0; i < c->ngarbage; i++)
		free(c->garbage[i]);
	free(c->garbage);
	free(c->file);
	cfg_cl_free(c->cl, c->ncl);
	free(c->posv);
	free(c);
}

void
ark_cfg_set_summary(struct ark_cfg *c, const char *summary)
{
	c->summary = summary;
}

void
ark_cfg_allow_args(struct ark_cfg *c, const char *usage)
{
	c->allow_args = 1;
	c->args_usage = usage;
}

enum ark_cfg_action
ark_cfg_action(const struct ark_cfg *c)
{
	return c->action;
}

const char *
ark_cfg_errmsg(const struct ark_cfg *c)
{
	return c->errmsg;
}

const char *
ark_cfg_file(const struct ark_cfg *c)
{
	return c->file;
}

char *const *
ark_cfg_args(const struct ark_cfg *c, int *n)
{
	*n = c->nargs;
	return c->posv;
}

/* ---- command line ----------------------------------------------------- */

static void
cfg_push(struct ark_cfg *c, size_t idx, const char *text)
{
	c->cl = ark_xrealloc(c->cl, (c->ncl + 1) * sizeof(*c->cl));
	c->cl[c->ncl].idx = idx;
	c->cl[c->ncl].text = ark_xstrdup(text);
	c->ncl++;
}

static void
cfg_push_arg(struct ark_cfg *c, char *arg)
{
	c->posv = ark_xrealloc(c->posv, (size_t)(c->nargs + 2) *
	    sizeof(*c->posv));
	c->posv[c->nargs++] = arg;
	c->posv[c->nargs] = NULL;
}

/* Checks and records one option with its value (NULL: bool flag). */
static enum ark_err
cfg_take(struct ark_cfg *c, size_t idx, const char *flag, const char *text)
{
	const struct ark_cfg_opt	*o = &c->opts[idx];
	struct cfg_val			 t = { NULL, 0, 0 };
	char				 err[256];

	if (cfg_parse_value(o, text, &t, err, sizeof(err)) != ARK_OK) {
		cfg_seterr(c, "option %s: %s", flag, err);
		return ARK_EINVAL;
	}
	free(t.s);
	cfg_push(c, idx, text);
	return ARK_OK;
}

static const char *
cfg_metavar(const struct ark_cfg_opt *o)
{
	if (o->metavar != NULL)
		return o->metavar;
	switch (o->type) {
	case ARK_CFG_STR:
		return "STRING";
	case ARK_CFG_INT:
		return "N";
	case ARK_CFG_SIZE:
		return "SIZE";
	case ARK_CFG_DURATION:
		return "DURATION";
	case ARK_CFG_ENUM:
	case ARK_CFG_BOOL:
		break;
	}
	return "VALUE";
}

static enum ark_err
cfg_scan(struct ark_cfg *c, int argc, char *const argv[])
{
	int	i, dashdash = 0;

	for (i = 1; i < argc; i++) {
		const char	*a = argv[i], *eq, *name, *val;
		char		 flag[128];
		size_t		 nlen;
		long		 idx;
		int		 neg = 0;

		if (dashdash || a[0] != '-' || a[1] == '\0') {
			if (!c->allow_args) {
				cfg_seterr(c, "unexpected argument '%s'", a);
				return ARK_EINVAL;
			}
			cfg_push_arg(c, argv[i]);
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (a[1] != '-') {
			/* Short option: -x VALUE, -xVALUE, or bool -x. */
			if (a[1] == 'h' && a[2] == '\0') {
				c->action = ARK_CFG_HELP;
				return ARK_OK;
			}
			for (idx = 0; idx < (long)c->nopts; idx++)
				if (c->opts[idx].shortopt == a[1])
					break;
			if (idx == (long)c->nopts) {
				cfg_seterr(c, "unknown option -%c", a[1]);
				return ARK_EINVAL;
			}
			snprintf(flag, sizeof(flag), "-%c", a[1]);
			if (c->opts[idx].type == ARK_CFG_BOOL) {
				if (a[2] != '\0') {
					cfg_seterr(c, "option -%c takes no "
					    "value", a[1]);
					return ARK_EINVAL;
				}
				cfg_push(c, (size_t)idx, "true");
				continue;
			}
			if (a[2] != '\0')
				val = a + 2;
			else if (i + 1 < argc)
				val = argv[++i];
			else {
				cfg_seterr(c, "option -%c needs a value (%s)",
				    a[1], cfg_metavar(&c->opts[idx]));
				return ARK_EINVAL;
			}
			if (cfg_take(c, (size_t)idx, flag, val) != ARK_OK)
				return ARK_EINVAL;
			continue;
		}
		name = a + 2;
		eq = strchr(name, '=');
		nlen = eq ? (size_t)(eq - name) : strlen(name);
		snprintf(flag, sizeof(flag), "--%.*s", (int)ARK_MIN(nlen, 100),
		    name);
		if (cfg_name_eq("help", name, nlen) ||
		    cfg_name_eq("version", name, nlen) ||
		    cfg_name_eq("dump-config", name, nlen)) {
			if (eq != NULL) {
				cfg_seterr(c, "option %s takes no value", flag);
				return ARK_EINVAL;
			}
			if (name[0] == 'h') {
				c->action = ARK_CFG_HELP;
				return ARK_OK;
			}
			if (name[0] == 'v') {
				c->action = ARK_CFG_VERSION;
				return ARK_OK;
			}
			c->action = ARK_CFG_DUMP;
			continue;
		}
		idx = cfg_find(c, name, nlen);
		if (idx < 0 && nlen > 3 && strncmp(name, "no-", 3) == 0) {
			idx = cfg_find(c, name + 3, nlen - 3);
			if (idx >= 0 && c->opts[idx].type != ARK_CFG_BOOL)
				idx = -1;
			neg = 1;
		}
		if (idx < 0 && !cfg_name_eq("config", name, nlen)) {
			cfg_seterr(c, "unknown option %s", flag);
			return ARK_EINVAL;
		}
		if (idx >= 0 && c->opts[idx].type == ARK_CFG_BOOL && eq == NULL) {
			cfg_push(c, (size_t)idx, neg ? "false" : "true");
			continue;
		}
		if (neg) {
			cfg_seterr(c, "option %s takes no value", flag);
			return ARK_EINVAL;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
			val = argv[++i];
		else {
			cfg_seterr(c, "option %s needs a value (%s)", flag,
			    idx >= 0 ? cfg_metavar(&c->opts[idx]) : "FILE");
			return ARK_EINVAL;
		}
		if (idx < 0) {		/* --config FILE */
			if (*val == '\0') {
				cfg_seterr(c, "option --config needs a file "
				    "name");
				return ARK_EINVAL;
			}
			free(c->file);
			c->file = ark_xstrdup(val);
			continue;
		}
		if (cfg_take(c, (size_t)idx, flag, val) != ARK_OK)
			return ARK_EINVAL;
	}
	return ARK_OK;
}

enum ark_err
ark_cfg_parse(struct ark_cfg *c, int argc, char *const argv[])
{
	struct cfg_val	*v;
	enum ark_err	 rc;
	char		*oldfile = c->file, **oldposv = c->posv;
	struct cfg_arg	*oldcl = c->cl;
	size_t		 oldncl = c->ncl;
	int		 oldnargs = c->nargs;

	/* Scan into fresh state; restore the old one on any error so a
	 * later reload still sees the last good command line. */
	c->errmsg[0] = '\0';
	c->action = ARK_CFG_RUN;
	c->cl = NULL;
	c->ncl = 0;
	c->posv = NULL;
	c->nargs = 0;
	c->file = NULL;
	if ((rc = cfg_scan(c, argc, argv)) != ARK_OK ||
	    c->action == ARK_CFG_HELP || c->action == ARK_CFG_VERSION)
		goto out;
	if ((rc = cfg_compute(c, &v)) != ARK_OK)
		goto out;
	for (size_t i = 0; i < c->nopts; i++)
		cfg_keep(c, c->vals[i].s);
	free(c->vals);
	c->vals = v;
	cfg_bind(c);
out:
	if (rc != ARK_OK) {
		free(c->file);
		cfg_cl_free(c->cl, c->ncl);
		free(c->posv);
		c->file = oldfile;
		c->cl = oldcl;
		c->ncl = oldncl;
		c->posv = oldposv;
		c->nargs = oldnargs;
		c->action = ARK_CFG_RUN;
	} else {
		free(oldfile);
		cfg_cl_free(oldcl, oldncl);
		free(oldposv);
	}
	return rc;
}

enum ark_err
ark_cfg_reload(struct ark_cfg *c, int *nchanged)
{
	struct cfg_val	*v;
	enum ark_err	 rc;
	int		 changed = 0;
	char		 was[256], now[256];

	c->errmsg[0] = '\0';
	if ((rc = cfg_compute(c, &v)) != ARK_OK)
		return rc;
	for (size_t i = 0; i < c->nopts; i++) {
		const struct ark_cfg_opt *o = &c->opts[i];

		if (cfg_val_eq(o, &c->vals[i], &v[i]))
			continue;
		cfg_format(o, &c->vals[i], was, sizeof(was));
		cfg_format(o, &v[i], now, sizeof(now));
		if (!(o->flags & ARK_CFG_RELOAD)) {
			ark_log_warnx("reload: %s changed from '%s' to '%s' "
			    "but takes effect only after a restart", o->name,
			    was, now);
			continue;
		}
		ark_log_info("reload: %s = %s (was %s)", o->name, now, was);
		cfg_keep(c, c->vals[i].s);
		c->vals[i] = v[i];
		v[i].s = NULL;
		changed++;
	}
	cfg_vals_free(c, v);
	cfg_bind(c);
	if (nchanged != NULL)
		*nchanged = changed;
	return ARK_OK;
}

/* ---- output ----------------------------------------------------------- */

enum ark_err
ark_cfg_usage(const struct ark_cfg *c, struct ark_buf *b)
{
	static const struct { const char *left, *help; } builtin[] = {
		{ "      --config FILE", "read options from FILE; its keys are "
		    "the long option names (arkor.conf(5))" },
		{ "      --dump-config", "print the effective configuration "
		    "as a config file and exit" },
		{ "  -h, --help", "print this help and exit" },
		{ "      --version", "print the version and exit" },
	};
	char		left[160], def[160], lo[32], hi[32];
	enum ark_err	rc = ARK_OK;

#define OUT(...) do {							\
	if ((rc = ark_buf_printf(b, __VA_ARGS__)) != ARK_OK)		\
		return rc;						\
} while (0)
	OUT("Usage: %s [OPTION]...%s%s\n", c->prog, c->args_usage ? " " : "",
	    c->args_usage ? c->args_usage : "");
	if (c->summary != NULL)
		OUT("%s\n", c->summary);
	OUT("\nOptions:\n");
	for (size_t i = 0; i < c->nopts; i++) {
		const struct ark_cfg_opt *o = &c->opts[i];
		int n;

		if (o->shortopt)
			n = snprintf(left, sizeof(left), "  -%c, ", o->shortopt);
		else
			n = snprintf(left, sizeof(left), "      ");
		if (o->type == ARK_CFG_BOOL)
			snprintf(left + n, sizeof(left) - (size_t)n,
			    "--[no-]%s", o->name);
		else if (o->type == ARK_CFG_ENUM && o->metavar == NULL) {
			size_t k = (size_t)n;
			k += (size_t)snprintf(left + k, sizeof(left) - k,
			    "--%s ", o->name);
			for (int j = 0; o->values[j] && k < sizeof(left); j++)
				k += (size_t)snprintf(left + k,
				    sizeof(left) - k, "%s%s", j ? "|" : "",
				    o->values[j]);
		} else
			snprintf(left + n, sizeof(left) - (size_t)n, "--%s %s",
			    o->name, cfg_metavar(o));
		cfg_format(o, &c->vals[i], def, sizeof(def));
		if (strlen(left) > 29)
			OUT("%s\n%-30s", left, "");
		else
			OUT("%-30s", left);
		OUT("%s", o->help ? o->help : "");
		if (cfg_bounded(o) && o->type != ARK_CFG_ENUM &&
		    o->type != ARK_CFG_BOOL && o->type != ARK_CFG_STR) {
			cfg_format_bound(o, o->min, lo, sizeof(lo));
			cfg_format_bound(o, o->max, hi, sizeof(hi));
			OUT(" [%s..%s]", lo, hi);
		}
		if (o->def != NULL)
			OUT(" (default: %s)", def);
		if (o->flags & ARK_CFG_RELOAD)
			OUT(" (reloadable)");
		OUT("\n");
	}
	for (size_t i = 0; i < ARK_ARRAY_SIZE(builtin); i++)
		OUT("%-30s%s\n", builtin[i].left, builtin[i].help);
#undef OUT
	return rc;
}

enum ark_err
ark_cfg_dump(const struct ark_cfg *c, struct ark_buf *b)
{
	char		val[512];
	enum ark_err	rc = ARK_OK;

#define OUT(...) do {							\
	if ((rc = ark_buf_printf(b, __VA_ARGS__)) != ARK_OK)		\
		return rc;						\
} while (0)
	OUT("# %s %s: effective configuration (see arkor.conf(5))\n",
	    c->prog, c->version ? c->version : "");
	for (size_t i = 0; i < c->nopts; i++) {
		const struct ark_cfg_opt *o = &c->opts[i];

		cfg_format(o, &c->vals[i], val, sizeof(val));
		OUT("\n# %s%s\n", o->help ? o->help : o->name,
		    (o->flags & ARK_CFG_RELOAD) ? " (reloadable)" : "");
		if (o->type == ARK_CFG_STR && c->vals[i].s == NULL)
			OUT("#%s =\n", o->name);
		else if (val[0] == '\0')
			OUT("%s =\n", o->name);
		else
			OUT("%s = %s\n", o->name, val);
	}
#undef OUT
	return rc;
}

void
ark_cfg_parse_or_exit(struct ark_cfg *c, int argc, char *const argv[])
{
	struct ark_buf	b;
	enum ark_err	rc;

	if (ark_cfg_parse(c, argc, argv) != ARK_OK) {
		fprintf(stderr, "%s: %s\nTry '%s --help' for more "
		    "information.\n", c->prog, c->errmsg, c->prog);
		exit(2);
	}
	ark_buf_init(&b, 1 << 20);
	switch (c->action) {
	case ARK_CFG_RUN:
		return;
	case ARK_CFG_HELP:
		rc = ark_cfg_usage(c, &b);
		break;
	case ARK_CFG_VERSION:
		rc = ark_buf_printf(&b, "%s %s\n", c->prog,
		    c->version ? c->version : "");
		break;
	case ARK_CFG_DUMP:
	default:
		rc = ark_cfg_dump(c, &b);
		break;
	}
	if (rc != ARK_OK)
		ark_fatalx("%s: %s", __func__, ark_strerror(rc));
	fwrite(ark_buf_str(&b), 1, ark_buf_len(&b), stdout);
	ark_buf_free(&b);
	exit(fflush(stdout) == 0 ? 0 : 1);
}

/* ---- getters ---------------------------------------------------------- */

static const struct cfg_val *
cfg_get(const struct ark_cfg *c, const char *name, enum ark_cfg_type type)
{
	long i = cfg_find(c, name, strlen(name));

	if (i < 0)
		ark_fatalx("%s: no option named %s", c->prog, name);
	if (c->opts[i].type != type)
		ark_fatalx("%s: option %s read as the wrong type", c->prog,
		    name);
	return &c->vals[i];
}

const char *
ark_cfg_str(const struct ark_cfg *c, const char *name)
{
	return cfg_get(c, name, ARK_CFG_STR)->s;
}

int64_t
ark_cfg_int(const struct ark_cfg *c, const char *name)
{
	return cfg_get(c, name, ARK_CFG_INT)->i;
}

uint64_t
ark_cfg_size(const struct ark_cfg *c, const char *name)
{
	return cfg_get(c, name, ARK_CFG_SIZE)->u;
}

bool
ark_cfg_bool(const struct ark_cfg *c, const char *name)
{
	return cfg_get(c, name, ARK_CFG_BOOL)->i != 0;
}

int
ark_cfg_enum(const struct ark_cfg *c, const char *name)
{
	return (int)cfg_get(c, name, ARK_CFG_ENUM)->i;
}

const char *
ark_cfg_enum_str(const struct ark_cfg *c, const char *name)
{
	long i = cfg_find(c, name, strlen(name));

	return c->opts[i].values[cfg_get(c, name, ARK_CFG_ENUM)->i];
}

int64_t
ark_cfg_duration_ms(const struct ark_cfg *c, const char *name)
{
	return cfg_get(c, name, ARK_CFG_DURATION)->i;
}
