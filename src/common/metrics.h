/*
 * metrics.h - process-wide counters, gauges and histograms rendered in
 * the Prometheus text exposition format (version 0.0.4).
 *
 * A family is registered once (normally at start-up) with a fixed set of
 * labels, each with a fixed list of values; every combination is a series
 * with an index (mixed radix: the first label varies slowest), so updates
 * are one relaxed atomic add on a preallocated slot: lock-free and safe
 * from any thread. Registration and rendering take a mutex. Families live
 * until ark_metrics_reset() (tests only: no updates may run concurrently).
 */
#ifndef ARKOR_COMMON_METRICS_H
#define ARKOR_COMMON_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

struct ark_metric;		/* opaque; owned by the registry */

struct ark_metric_label {
	const char		*name;		/* "status" */
	const char *const	*values;	/* { "2xx", "4xx", NULL } */
};

/* Registers a family (or returns the existing one with the same name, type
 * and label count). Names are borrowed and must be static. Invalid names
 * or a clashing registration are programmer errors and abort. `labels` may
 * be NULL with nlabels 0: one series, index 0. */
struct ark_metric *ark_metric_counter(const char *name, const char *help,
		    const struct ark_metric_label *labels, size_t nlabels);
struct ark_metric *ark_metric_gauge(const char *name, const char *help,
		    const struct ark_metric_label *labels, size_t nlabels);
/* `bounds`: nbounds strictly increasing upper bounds (copied); +Inf is
 * implicit. */
struct ark_metric *ark_metric_histogram(const char *name, const char *help,
		    const struct ark_metric_label *labels, size_t nlabels,
		    const double *bounds, size_t nbounds);

/* Series index of one value index per label (aborts when out of range). */
size_t		 ark_metric_series(const struct ark_metric *m,
		    const size_t *value_idx);
/* Series index of the given label values (strings); (size_t)-1 if one is
 * not registered. For set-up code, not hot paths. */
size_t		 ark_metric_series_by_name(const struct ark_metric *m,
		    const char *const *values);

/* Updates: any thread, lock-free. A bad series index aborts. */
void		 ark_metric_inc(struct ark_metric *m, size_t series);
void		 ark_metric_add(struct ark_metric *m, size_t series,
		    uint64_t n);
void		 ark_metric_set(struct ark_metric *m, size_t series,
		    int64_t v);			/* gauges */
void		 ark_metric_gauge_add(struct ark_metric *m, size_t series,
		    int64_t delta);		/* gauges, may be negative */
void		 ark_metric_observe(struct ark_metric *m, size_t series,
		    double v);			/* histograms */

/* Current values (tests, status pages). */
uint64_t	 ark_metric_counter_value(const struct ark_metric *m,
		    size_t series);
int64_t		 ark_metric_gauge_value(const struct ark_metric *m,
		    size_t series);
uint64_t	 ark_metric_hist_count(const struct ark_metric *m,
		    size_t series);
double		 ark_metric_hist_sum(const struct ark_metric *m, size_t series);

/* Adds process_* metrics (resident and virtual memory, start time, CPU
 * seconds, open and max fds) read from /proc at render time. */
void		 ark_metrics_enable_process(bool on);

/* Appends every family, in registration order, to `b`. ARK_ETOOBIG or
 * ARK_ENOMEM from the buffer. */
enum ark_err	 ark_metrics_render(struct ark_buf *b);
/* Same into a malloc'd string (caller frees); NULL on ENOMEM. */
char		*ark_metrics_render_str(void);

/* Unregisters and frees every family. Tests only. */
void		 ark_metrics_reset(void);

#endif /* ARKOR_COMMON_METRICS_H */
