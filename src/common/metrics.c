/*
 * metrics.c - Prometheus metrics registry. Values are C11 atomics updated
 * with relaxed ordering: each series is independent and a scrape only needs
 * every value to be some recent value. A histogram's _count is computed
 * from its buckets at render time so that it always equals the +Inf bucket.
 */
#include "config.h"

#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/log.h"
#include "common/metrics.h"
#include "common/util.h"

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_HISTOGRAM,
};

struct ark_metric {
	enum metric_type		 type;
	const char			*name, *help;
	const struct ark_metric_label	*labels;	/* copied array */
	size_t				 nlabels;
	size_t				*nvalues;	/* per label */
	size_t				 nseries;
	_Atomic uint64_t		*u;		/* counters */
	_Atomic int64_t			*g;		/* gauges */
	double				*bounds;	/* histograms */
	size_t				 nbounds;
	_Atomic uint64_t		*buckets;	/* nseries*(nbounds+1) */
	_Atomic uint64_t		*sums;		/* double bits */
	struct ark_metric		*next;
};

static pthread_mutex_t		 reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ark_metric	*reg_head, **reg_tail = &reg_head;
static atomic_bool		 reg_process;

static int
valid_name(const char *s, int colon)
{
	if (s == NULL || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
	    || *s == '_' || (colon && *s == ':')))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' ||
		    (colon && *s == ':')))
			return 0;
	return 1;
}

static struct ark_metric *
metric_register(enum metric_type type, const char *name, const char *help,
    const struct ark_metric_label *labels, size_t nlabels,
    const double *bounds, size_t nbounds)
{
	struct ark_metric *m;

	if (!valid_name(name, 1))
		ark_fatalx("metrics: bad metric name '%s'", name ? name : "");
	pthread_mutex_lock(&reg_lock);
	for (m = reg_head; m != NULL; m = m->next) {
		if (strcmp(m->name, name) != 0)
			continue;
		if (m->type != type || m->nlabels != nlabels ||
		    m->nbounds != nbounds)
			ark_fatalx("metrics: %s registered twice with different "
			    "shapes", name);
		pthread_mutex_unlock(&reg_lock);
		return m;
	}
	m = ark_xcalloc(1, sizeof(*m));
	m->type = type;
	m->name = name;
	m->help = help;
	m->nlabels = nlabels;
	m->nseries = 1;
	if (nlabels > 0) {
		struct ark_metric_label *l = ark_xcalloc(nlabels, sizeof(*l));

		m->nvalues = ark_xcalloc(nlabels, sizeof(*m->nvalues));
		for (size_t i = 0; i < nlabels; i++) {
			size_t n = 0;

			if (!valid_name(labels[i].name, 0) ||
			    strncmp(labels[i].name, "__", 2) == 0 ||
			    (type == METRIC_HISTOGRAM &&
			    strcmp(labels[i].name, "le") == 0))
				ark_fatalx("metrics: %s: bad label name '%s'",
				    name, labels[i].name ? labels[i].name : "");
			while (labels[i].values != NULL &&
			    labels[i].values[n] != NULL)
				n++;
			if (n == 0)
				ark_fatalx("metrics: %s: label %s has no values",
				    name, labels[i].name);
			l[i] = labels[i];
			m->nvalues[i] = n;
			m->nseries *= n;
		}
		m->labels = l;
	}
	switch (type) {
	case METRIC_COUNTER:
		m->u = ark_xcalloc(m->nseries, sizeof(*m->u));
		break;
	case METRIC_GAUGE:
		m->g = ark_xcalloc(m->nseries, sizeof(*m->g));
		break;
	case METRIC_HISTOGRAM:
		for (size_t i = 1; i < nbounds; i++)
			if (!(bounds[i - 1] < bounds[i]))
				ark_fatalx("metrics: %s: bucket bounds must "
				    "increase", name);
		m->nbounds = nbounds;
		m->bounds = ark_xcalloc(nbounds ? nbounds : 1,
		    sizeof(*m->bounds));
		if (nbounds > 0)
			memcpy(m->bounds, bounds, nbounds * sizeof(*bounds));
		m->buckets = ark_xcalloc(m->nseries * (nbounds + 1),
		    sizeof(*m->buckets));
		m->sums = ark_xcalloc(m->nseries, sizeof(*m->sums));
		break;
	}
	*reg_tail = m;
	reg_tail = &m->next;
	pthread_mutex_unlock(&reg_lock);
	return m;
}

struct ark_metric *
ark_metric_counter(const char *name, const char *help,
    const struct ark_metric_label *labels, size_t nlabels)
{
	return metric_register(METRIC_COUNTER, name, help, labels, nlabels,
	    NULL, 0);
}

struct ark_metric *
ark_metric_gauge(const char *name, const char *help,
    const struct ark_metric_label *labels, size_t nlabels)
{
	return metric_register(METRIC_GAUGE, name, help, labels, nlabels,
	    NULL, 0);
}

struct ark_metric *
ark_metric_histogram(const char *name, const char *help,
    const struct ark_metric_label *labels, size_t nlabels,
    const double *bounds, size_t nbounds)
{
	return metric_register(METRIC_HISTOGRAM, name, help, labels, nlabels,
	    bounds, nbounds);
}

size_t
ark_metric_series(const struct ark_metric *m, const size_t *idx)
{
	size_t s = 0;

	for (size_t i = 0; i < m->nlabels; i++) {
		if (idx[i] >= m->nvalues[i])
			ark_fatalx("metrics: %s: value index %zu out of range "
			    "for label %s", m->name, idx[i], m->labels[i].name);
		s = s * m->nvalues[i] + idx[i];
	}
	return s;
}

size_t
ark_metric_series_by_name(const struct ark_metric *m,
    const char *const *values)
{
	size_t s = 0;

	for (size_t i = 0; i < m->nlabels; i++) {
		size_t j;

		for (j = 0; j < m->nvalues[i]; j++)
			if (strcmp(m->labels[i].values[j], values[i]) == 0)
				break;
		if (j == m->nvalues[i])
			return (size_t)-1;
		s = s * m->nvalues[i] + j;
	}
	return s;
}

static void
check(const struct ark_metric *m, size_t series, enum metric_type type)
{
	if (m == NULL || m->type != type || series >= m->nseries)
		ark_fatalx("metrics: %s: bad update (series %zu)",
		    m ? m->name : "NULL", series);
}

void
ark_metric_inc(struct ark_metric *m, size_t series)
{
	ark_metric_add(m, series, 1);
}

void
ark_metric_add(struct ark_metric *m, size_t series, uint64_t n)
{
	check(m, series, METRIC_COUNTER);
	atomic_fetch_add_explicit(&m->u[series], n, memory_order_relaxed);
}

void
ark_metric_set(struct ark_metric *m, size_t series, int64_t v)
{
	check(m, series, METRIC_GAUGE);
	atomic_store_explicit(&m->g[series], v, memory_order_relaxed);
}

void
ark_metric_gauge_add(struct ark_metric *m, size_t series, int64_t delta)
{
	check(m, series, METRIC_GAUGE);
	atomic_fetch_add_explicit(&m->g[series], delta, memory_order_relaxed);
}

static double
bits_to_double(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

static uint64_t
double_to_bits(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

void
ark_metric_observe(struct ark_metric *m, size_t series, double v)
{
	_Atomic uint64_t	*sum;
	uint64_t		 old;
	size_t			 b;

	check(m, series, METRIC_HISTOGRAM);
	for (b = 0; b < m->nbounds; b++)
		if (v <= m->bounds[b])
			break;
	atomic_fetch_add_explicit(&m->buckets[series * (m->nbounds + 1) + b],
	    1, memory_order_relaxed);
	sum = &m->sums[series];
	old = atomic_load_explicit(sum, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(sum, &old,
	    double_to_bits(bits_to_double(old) + v), memory_order_relaxed,
	    memory_order_relaxed))
		;
}

uint64_t
ark_metric_counter_value(const struct ark_metric *m, size_t series)
{
	check(m, series, METRIC_COUNTER);
	return atomic_load_explicit(&m->u[series], memory_order_relaxed);
}

int64_t
ark_metric_gauge_value(const struct ark_metric *m, size_t series)
{
	check(m, series, METRIC_GAUGE);
	return atomic_load_explicit(&m->g[series], memory_order_relaxed);
}

uint64_t
ark_metric_hist_count(const struct ark_metric *m, size_t series)
{
	uint64_t n = 0;

	check(m, series, METRIC_HISTOGRAM);
	for (size_t b = 0; b <= m->nbounds; b++)
		n += atomic_load_explicit(&m->buckets[series *
		    (m->nbounds + 1) + b], memory_order_relaxed);
	return n;
}

double
ark_metric_hist_sum(const struct ark_metric *m, size_t series)
{
	check(m, series, METRIC_HISTOGRAM);
	return bits_to_double(atomic_load_explicit(&m->sums[series],
	    memory_order_relaxed));
}

void
ark_metrics_enable_process(bool on)
{
	atomic_store(&reg_process, on);
}

/* ---- rendering -------------------------------------------------------- */

/* Shortest text that reads back as the same double; Prometheus spellings
 * for infinities and NaN. */
static void
fmt_double(double v, char *out, size_t len)
{
	if (isnan(v)) {
		snprintf(out, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, len, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	/* Integers as integers; no libm needed. */
	if (v > -1e15 && v < 1e15 && v == (double)(long long)v) {
		snprintf(out, len, "%.0f", v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, len, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

#define OUT(...) do {							\
	if ((rc = ark_buf_printf(b, __VA_ARGS__)) != ARK_OK)		\
		return rc;						\
} while (0)

static enum ark_err
put_escaped(struct ark_buf *b, const char *s, int quote)
{
	enum ark_err rc;

	for (; *s; s++) {
		if (*s == '\\')
			OUT("\\\\");
		else if (*s == '\n')
			OUT("\\n");
		else if (quote && *s == '"')
			OUT("\\\"");
		else if ((rc = ark_buf_append_byte(b, (unsigned char)*s))
		    != ARK_OK)
			return rc;
	}
	return ARK_OK;
}

/* Writes {a="x",b="y"[,le="..."]} for series s; nothing when empty. */
static enum ark_err
put_labels(struct ark_buf *b, const struct ark_metric *m, size_t s,
    const char *le)
{
	size_t		idx[16], rest = s;
	enum ark_err	rc;

	if (m->nlabels == 0 && le == NULL)
		return ARK_OK;
	if (m->nlabels > ARK_ARRAY_SIZE(idx))
		ark_fatalx("metrics: %s: too many labels", m->name);
	for (size_t i = m->nlabels; i-- > 0;) {
		idx[i] = rest % m->nvalues[i];
		rest /= m->nvalues[i];
	}
	OUT("{");
	for (size_t i = 0; i < m->nlabels; i++) {
		OUT("%s%s=\"", i ? "," : "", m->labels[i].name);
		if ((rc = put_escaped(b, m->labels[i].values[idx[i]], 1))
		    != ARK_OK)
			return rc;
		OUT("\"");
	}
	if (le != NULL)
		OUT("%sle=\"%s\"", m->nlabels ? "," : "", le);
	OUT("}");
	return ARK_OK;
}

static enum ark_err
put_header(struct ark_buf *b, const char *name, const char *help,
    const char *type)
{
	enum ark_err rc;

	if (help != NULL) {
		OUT("# HELP %s ", name);
		if ((rc = put_escaped(b, help, 0)) != ARK_OK)
			return rc;
		OUT("\n");
	}
	OUT("# TYPE %s %s\n", name, type);
	return ARK_OK;
}

static enum ark_err
render_family(struct ark_buf *b, const struct ark_metric *m)
{
	static const char *const tname[] = { "counter", "gauge", "histogram" };
	char		 num[64];
	enum ark_err	 rc;

	if ((rc = put_header(b, m->name, m->help, tname[m->type])) != ARK_OK)
		return rc;
	for (size_t s = 0; s < m->nseries; s++) {
		if (m->type != METRIC_HISTOGRAM) {
			OUT("%s", m->name);
			if ((rc = put_labels(b, m, s, NULL)) != ARK_OK)
				return rc;
			if (m->type == METRIC_COUNTER)
				OUT(" %" PRIu64 "\n", atomic_load_explicit(
				    &m->u[s], memory_order_relaxed));
			else
				OUT(" %" PRId64 "\n", atomic_load_explicit(
				    &m->g[s], memory_order_relaxed));
			continue;
		}
		uint64_t cum = 0;
		for (size_t k = 0; k <= m->nbounds; k++) {
			cum += atomic_load_explicit(&m->buckets[s *
			    (m->nbounds + 1) + k], memory_order_relaxed);
			if (k < m->nbounds)
				fmt_double(m->bounds[k], num, sizeof(num));
			else
				snprintf(num, sizeof(num), "+Inf");
			OUT("%s_bucket", m->name);
			if ((rc = put_labels(b, m, s, num)) != ARK_OK)
				return rc;
			OUT(" %" PRIu64 "\n", cum);
		}
		fmt_double(ark_metric_hist_sum(m, s), num, sizeof(num));
		OUT("%s_sum", m->name);
		if ((rc = put_labels(b, m, s, NULL)) != ARK_OK)
			return rc;
		OUT(" %s\n%s_count", num, m->name);
		if ((rc = put_labels(b, m, s, NULL)) != ARK_OK)
			return rc;
		OUT(" %" PRIu64 "\n", cum);
	}
	return ARK_OK;
}

/* Process figures from /proc; each one is skipped when unreadable. */
static enum ark_err
render_process(struct ark_buf *b)
{
	long		 page = sysconf(_SC_PAGESIZE), tck = sysconf(_SC_CLK_TCK);
	unsigned long	 vsz, rss;
	char		 line[1024], *p;
	FILE		*f;
	enum ark_err	 rc;
	struct rlimit	 rl;
	DIR		*d;

	if ((f = fopen("/proc/self/statm", "r")) != NULL) {
		if (fscanf(f, "%lu %lu", &vsz, &rss) == 2) {
			put_header(b, "process_virtual_memory_bytes",
			    "Virtual memory size in bytes.", "gauge");
			OUT("process_virtual_memory_bytes %lu\n",
			    vsz * (unsigned long)page);
			put_header(b, "process_resident_memory_bytes",
			    "Resident memory size in bytes.", "gauge");
			OUT("process_resident_memory_bytes %lu\n",
			    rss * (unsigned long)page);
		}
		fclose(f);
	}
	if ((f = fopen("/proc/self/stat", "r")) != NULL) {
		unsigned long long utime = 0, stime = 0, start = 0;

		if (fgets(line, sizeof(line), f) != NULL &&
		    (p = strrchr(line, ')')) != NULL) {
			/* Fields after "(comm)": state is field 3. */
			int	field = 3;
			char	*save = NULL, *tok;

			for (tok = strtok_r(p + 1, " ", &save); tok != NULL;
			    tok = strtok_r(NULL, " ", &save), field++) {
				if (field == 14)
					utime = strtoull(tok, NULL, 10);
				else if (field == 15)
					stime = strtoull(tok, NULL, 10);
				else if (field == 22)
					start = strtoull(tok, NULL, 10);
			}
		}
		fclose(f);
		put_header(b, "process_cpu_seconds_total",
		    "Total user and system CPU time spent in seconds.",
		    "counter");
		fmt_double((double)(utime + stime) / (double)tck, line,
		    sizeof(line));
		OUT("process_cpu_seconds_total %s\n", line);
		if ((f = fopen("/proc/stat", "r")) != NULL) {
			unsigned long long btime = 0;

			while (fgets(line, sizeof(line), f) != NULL)
				if (sscanf(line, "btime %llu", &btime) == 1)
					break;
			fclose(f);
			if (btime != 0) {
				put_header(b, "process_start_time_seconds",
				    "Start time of the process since unix "
				    "epoch in seconds.", "gauge");
				fmt_double((double)btime + (double)start /
				    (double)tck, line, sizeof(line));
				OUT("process_start_time_seconds %s\n", line);
			}
		}
	}
	if ((d = opendir("/proc/self/fd")) != NULL) {
		long		 n = 0;
		struct dirent	*de;

		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				n++;
		closedir(d);
		put_header(b, "process_open_fds", "Number of open file "
		    "descriptors.", "gauge");
		OUT("process_open_fds %ld\n", n - 1);	/* minus the DIR's */
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		put_header(b, "process_max_fds", "Maximum number of open file "
		    "descriptors.", "gauge");
		if (rl.rlim_cur == RLIM_INFINITY)
			OUT("process_max_fds +Inf\n");
		else
			OUT("process_max_fds %llu\n",
			    (unsigned long long)rl.rlim_cur);
	}
	return ARK_OK;
}

#undef OUT

enum ark_err
ark_metrics_render(struct ark_buf *b)
{
	enum ark_err rc = ARK_OK;

	pthread_mutex_lock(&reg_lock);
	for (struct ark_metric *m = reg_head; m != NULL && rc == ARK_OK;
	    m = m->next)
		rc = render_family(b, m);
	pthread_mutex_unlock(&reg_lock);
	if (rc == ARK_OK && atomic_load(&reg_process))
		rc = render_process(b);
	return rc;
}

char *
ark_metrics_render_str(void)
{
	struct ark_buf b;

	ark_buf_init(&b, (size_t)64 << 20);
	if (ark_metrics_render(&b) != ARK_OK) {
		ark_buf_free(&b);
		return NULL;
	}
	return ark_buf_steal(&b, NULL);
}

void
ark_metrics_reset(void)
{
	struct ark_metric *m, *next;

	pthread_mutex_lock(&reg_lock);
	for (m = reg_head; m != NULL; m = next) {
		next = m->next;
		free((void *)(uintptr_t)m->labels);
		free(m->nvalues);
		free(m->u);
		free(m->g);
		free(m->bounds);
		free(m->buckets);
		free(m->sums);
		free(m);
	}
	reg_head = NULL;
	reg_tail = &reg_head;
	pthread_mutex_unlock(&reg_lock);
	atomic_store(&reg_process, false);
}
