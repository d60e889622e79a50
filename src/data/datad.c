/*
 * datad.c - arkor-datad: the data server. Parses the option table, locks
 * the data directory, opens the chunk store, and runs the HTTP API
 * (dsrv.c) with the svc front, plus three background threads: maintenance
 * (space limits, gauges, automatic compaction), scrub (rate-limited CRC
 * pass over every chunk) and, with --registry, the heartbeat.
 *
 * The data directory holds LOCK (daemon.h), server_id (16 hex digits,
 * made on first start), group (the group the registry assigned, when
 * --group is not given) and chunks/, the chunk store. The store sits in a
 * subdirectory because store_open() flocks its own <dir>/LOCK, which would
 * conflict with ark_datadir_open()'s lock on the same path.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cfg.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/svc.h"
#include "common/token.h"
#include "common/util.h"
#include "data/dsrv.h"
#include "data/heartbeat.h"
#include "data/store.h"

#define DATAD_COMPACT_EVERY_S	60	/* automatic compaction check */
#define DATAD_SCRUB_JOIN_S	5	/* wait for a chunk scrub at stop */

static const char *const datad_sync_values[] = { "always", "batch", "none",
    NULL };
static const char *const datad_log_values[] = { "error", "warn", "info",
    "debug", NULL };

static const char	*opt_listen, *opt_data_dir, *opt_cluster_key;
static const char	*opt_registry, *opt_public_url, *opt_port_file;
static const char	*opt_pid_file, *opt_compact_ratio;
static uint64_t		 opt_chunk_size, opt_max_disk_use, opt_min_free;
static uint64_t		 opt_drop_behind, opt_scrub_rate, opt_verify_max;
static int64_t		 opt_group, opt_hb_interval, opt_threads;
static int64_t		 opt_batch_delay;
static int		 opt_sync, opt_log_level;

static const struct ark_cfg_opt datad_opts[] = {
	{ "listen", 'l', ARK_CFG_STR, "127.0.0.1:7500", 0, 0, NULL,
	  "HOST:PORT", "address to listen on (port 0: any)", 0,
	  &opt_listen },
	{ "data-dir", 'd', ARK_CFG_STR, LOCALSTATEDIR "/lib/arkor/datad", 0, 0,
	  NULL, "DIR", "data directory (chunk files, locked)", 0,
	  &opt_data_dir },
	{ "cluster-key", 'k', ARK_CFG_STR, SYSCONFDIR "/arkor/cluster.key", 0,
	  0, NULL, "FILE", "cluster secret that signs access tokens", 0,
	  &opt_cluster_key },
	{ "chunk-size", 0, ARK_CFG_SIZE, "4GiB", 1 << 20,
	  (int64_t)64 << 30, NULL, "SIZE", "maximum size of a chunk file", 0,
	  &opt_chunk_size },
	{ "sync", 's', ARK_CFG_ENUM, "always", 0, 0, datad_sync_values, NULL,
	  "durability before a write is acknowledged", 0, &opt_sync },
	{ "sync-batch-delay", 0, ARK_CFG_DURATION, "50ms", 1, 10000, NULL,
	  NULL, "longest wait of a write under --sync batch", 0,
	  &opt_batch_delay },
	{ "max-disk-use", 0, ARK_CFG_SIZE, "0", 0, 0, NULL, "SIZE",
	  "read-only once chunk files use this much (0: no limit)", 0,
	  &opt_max_disk_use },
	{ "min-free", 0, ARK_CFG_SIZE, "256MiB", 0, 0, NULL, "SIZE",
	  "read-only when the file system has less free space", 0,
	  &opt_min_free },
	{ "compact-ratio", 0, ARK_CFG_STR, "0.5", 0, 0, NULL, "RATIO",
	  "dead share of a chunk that triggers compaction (0: never)", 0,
	  &opt_compact_ratio },
	{ "scrub-rate", 0, ARK_CFG_SIZE, "8MiB", 0, 0, NULL, "BYTES",
	  "background scrub speed per second (0: no background scrub)", 0,
	  &opt_scrub_rate },
	{ "drop-behind", 0, ARK_CFG_SIZE, "1MiB", 0, 0, NULL, "SIZE",
	  "needles this large go to disk at once and leave the page cache "
	  "(0: never)", 0, &opt_drop_behind },
	{ "verify-max", 0, ARK_CFG_SIZE, "1MiB", 0, (int64_t)1 << 30, NULL,
	  "SIZE", "GET checks the CRC before sending needles up to this size",
	  0, &opt_verify_max },
	{ "registry", 'r', ARK_CFG_STR, NULL, 0, 0, NULL, "HOST:PORT",
	  "registry to send heartbeats to (unset: standalone)", 0,
	  &opt_registry },
	{ "group", 'g', ARK_CFG_INT, "-1", -1, UINT32_MAX, NULL, "N",
	  "data group of this server (-1: saved or assigned by the registry)",
	  0, &opt_group },
	{ "public-url", 0, ARK_CFG_STR, NULL, 0, 0, NULL, "URL",
	  "URL clients reach this server at (default: from --listen)", 0,
	  &opt_public_url },
	{ "heartbeat-interval", 0, ARK_CFG_DURATION, "5s", 100, 3600000, NULL,
	  NULL, "time between two heartbeats", 0, &opt_hb_interval },
	{ "threads", 't', ARK_CFG_INT, "0", 0, 256, NULL, "N",
	  "HTTP worker threads (0: one per CPU)", 0, &opt_threads },
	{ "port-file", 0, ARK_CFG_STR, NULL, 0, 0, NULL, "FILE",
	  "write the bound port here once ready", 0, &opt_port_file },
	{ "pid-file", 0, ARK_CFG_STR, NULL, 0, 0, NULL, "FILE",
	  "write the process id here", 0, &opt_pid_file },
	{ "log-level", 0, ARK_CFG_ENUM, "info", 0, 0, datad_log_values, NULL,
	  "log verbosity", 0, &opt_log_level },
	{ NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0, NULL },
};

struct datad {
	struct store		*st;
	struct dsrv		*d;
	struct ark_secret	 secret;
	struct ark_datadir	*dir;
	char			*server_id;
	char			*url;
	struct heartbeat	*hb;
	pthread_t		 maint_thr, scrub_thr;
	int			 maint_on, scrub_on;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond;
	int			 stop;
	int			 scrub_done;
};

/* ---- data directory files ---------------------------------------------- */

static char *
datad_read_small(const char *dir, const char *name)
{
	char *path = ark_xasprintf("%s/%s", dir, name);
	char buf[128];
	size_t n;
	FILE *f;

	f = fopen(path, "re");
	free(path);
	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return ark_xstrdup(buf);
}

static enum ark_err
datad_write_small(const char *dir, const char *name, const char *val)
{
	char *path = ark_xasprintf("%s/%s", dir, name);
	char *s = ark_xasprintf("%s\n", val);
	enum ark_err rc;

	rc = ark_write_file_atomic(path, s, strlen(s), 0644);
	free(path);
	free(s);
	return rc;
}

/* The stable id the registry knows us by. */
static enum ark_err
datad_server_id(const char *dir, char **out)
{
	char *id = datad_read_small(dir, "server_id");
	unsigned char rnd[8];
	char hex[17];
	enum ark_err rc;
	size_t i;

	if (id != NULL) {
		for (i = 0; id[i] != '\0'; i++)
			if (!((id[i] >= '0' && id[i] <= '9') ||
			    (id[i] >= 'a' && id[i] <= 'f')))
				break;
		if (i == 16 && id[i] == '\0') {
			*out = id;
			return ARK_OK;
		}
		ark_log_error("%s/server_id: not 16 hex digits", dir);
		free(id);
		return ARK_EINVAL;
	}
	if ((rc = ark_random_bytes(rnd, sizeof(rnd))) != ARK_OK)
		return rc;
	ark_hex_encode(rnd, sizeof(rnd), hex);
	if ((rc = datad_write_small(dir, "server_id", hex)) != ARK_OK)
		return rc;
	ark_log_info("new server id %s", hex);
	*out = ark_xstrdup(hex);
	return ARK_OK;
}

static void
datad_on_group(int64_t group, void *arg)
{
	struct datad *dd = arg;
	char v[24];

	snprintf(v, sizeof(v), "%" PRId64, group);
	(void)datad_write_small(ark_datadir_path(dd->dir), "group", v);
}

/* ---- background threads -------------------------------------------------- */

/* Sleeps up to `secs` unless stopping; returns 1 when stopping. */
static int
datad_nap(struct datad *dd, unsigned secs)
{
	struct timespec ts;
	int stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += secs;
	pthread_mutex_lock(&dd->mtx);
	while (!dd->stop && pthread_cond_timedwait(&dd->cond, &dd->mtx, &ts)
	    != ETIMEDOUT)
		;
	stop = dd->stop;
	pthread_mutex_unlock(&dd->mtx);
	return stop;
}

static void *
datad_maint_main(void *arg)
{
	struct datad *dd = arg;
	unsigned tick = 0;

	while (!datad_nap(dd, 1)) {
		store_refresh_space(dd->st);
		dsrv_update_gauges(dd->d);
		if (++tick % DATAD_COMPACT_EVERY_S == 0) {
			unsigned n = 0;

			if (store_compact_auto(dd->st, &n) == ARK_OK && n > 0) {
				ark_log_info("compacted %u chunk(s)", n);
				dsrv_note_compact(dd->d, n);
			}
		}
	}
	return NULL;
}

static void *
datad_scrub_main(void *arg)
{
	struct datad *dd = arg;
	uint32_t ids[4096];

	while (!datad_nap(dd, 1)) {
		uint64_t checked = 0, bad = 0;
		size_t n, i;

		n = store_chunk_ids(dd->st, ids, ARK_ARRAY_SIZE(ids));
		for (i = 0; i < ARK_MIN(n, ARK_ARRAY_SIZE(ids)); i++) {
			uint64_t c = 0, b = 0;

			pthread_mutex_lock(&dd->mtx);
			if (dd->stop) {
				pthread_mutex_unlock(&dd->mtx);
				break;
			}
			pthread_mutex_unlock(&dd->mtx);
			if (store_scrub_chunk(dd->st, ids[i], opt_scrub_rate,
			    &c, &b) != ARK_OK)
				continue;
			checked += c;
			bad += b;
		}
		if (bad > 0)
			ark_log_warnx("scrub: %" PRIu64 " corrupt record(s) "
			    "in %" PRIu64 " checked", bad, checked);
		if (i == ARK_MIN(n, ARK_ARRAY_SIZE(ids)))
			dsrv_note_scrub(dd->d, checked, bad);
	}
	pthread_mutex_lock(&dd->mtx);
	dd->scrub_done = 1;
	pthread_cond_broadcast(&dd->cond);
	pthread_mutex_unlock(&dd->mtx);
	return NULL;
}

/* Stops the background threads. Returns 0 when a chunk scrub is still
 * running (the engine cannot cancel one): the store must then not be
 * closed under it. */
static int
datad_stop_threads(struct datad *dd)
{
	struct timespec ts;
	int done = 1;

	pthread_mutex_lock(&dd->mtx);
	dd->stop = 1;
	pthread_cond_broadcast(&dd->cond);
	pthread_mutex_unlock(&dd->mtx);
	if (dd->maint_on)
		pthread_join(dd->maint_thr, NULL);
	if (dd->scrub_on) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += DATAD_SCRUB_JOIN_S;
		pthread_mutex_lock(&dd->mtx);
		while (!dd->scrub_done && pthread_cond_timedwait(&dd->cond,
		    &dd->mtx, &ts) != ETIMEDOUT)
			;
		done = dd->scrub_done;
		pthread_mutex_unlock(&dd->mtx);
		if (done)
			pthread_join(dd->scrub_thr, NULL);
	}
	return done;
}

/* ---- svc hooks ------------------------------------------------------------ */

static enum ark_err
datad_started(struct ark_http_server *srv, void *arg)
{
	struct datad *dd = arg;
	struct heartbeat_opts ho;
	char host[256];
	uint16_t port;

	if (opt_public_url != NULL)
		dd->url = ark_xstrdup(opt_public_url);
	else {
		if (ark_svc_parse_listen(opt_listen, host, sizeof(host), &port)
		    != ARK_OK)
			snprintf(host, sizeof(host), "127.0.0.1");
		dd->url = ark_xasprintf(strchr(host, ':') != NULL ?
		    "http://[%s]:%u" : "http://%s:%u", host,
		    (unsigned)ark_http_server_port(srv));
	}
	ark_log_info("serving %s as %s (server id %s, group %" PRId64 ")",
	    ark_datadir_path(dd->dir), dd->url, dd->server_id,
	    dsrv_group(dd->d));
	if (opt_registry == NULL)
		return ARK_OK;
	memset(&ho, 0, sizeof(ho));
	ho.registry = opt_registry;
	ho.url = dd->url;
	ho.server_id = dd->server_id;
	ho.interval_ms = opt_hb_interval;
	ho.st = dd->st;
	ho.d = dd->d;
	ho.secret = &dd->secret;
	ho.on_group = datad_on_group;
	ho.arg = dd;
	return heartbeat_start(&ho, &dd->hb);
}

static int
datad_health(struct ark_buf *b, void *arg)
{
	struct datad *dd = arg;

	return dsrv_health(b, dd->d);
}

int
main(int argc, char **argv)
{
	struct ark_cfg *cfg;
	struct store_opts so;
	struct dsrv_opts dopts;
	struct ark_svc_opts o;
	struct datad dd;
	sigset_t ss;
	char *end, *gs, *chunks;
	double ratio;
	enum ark_err rc;
	int status = 1, closed_ok = 1;

	cfg = ark_cfg_new("arkor-datad", PACKAGE_VERSION, datad_opts);
	ark_cfg_set_summary(cfg, "Arkor data server: needles in chunk files, "
	    "served by FileID.");
	ark_cfg_parse_or_exit(cfg, argc, argv);
	ark_log_init("arkor-datad", (enum ark_log_level)opt_log_level);
	ark_log_hook_libevent();

	/* The store and job threads start before ark_svc_run() installs the
	 * signal thread: block its signals now so that they inherit. */
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &ss, NULL);
	ark_signals_ignore_pipe();

	memset(&dd, 0, sizeof(dd));
	pthread_mutex_init(&dd.mtx, NULL);
	pthread_cond_init(&dd.cond, NULL);
	errno = 0;
	ratio = strtod(opt_compact_ratio, &end);
	if (errno != 0 || *end != '\0' || end == opt_compact_ratio ||
	    !(ratio >= 0 && ratio <= 1)) {
		fprintf(stderr, "arkor-datad: option --compact-ratio: '%s' is "
		    "not a number in [0, 1]\n", opt_compact_ratio);
		ark_cfg_free(cfg);
		return 2;
	}
	if (ark_secret_load(opt_cluster_key, &dd.secret) != ARK_OK) {
		ark_log_error("cannot load the cluster key %s", opt_cluster_key);
		goto out;
	}
	if ((rc = ark_datadir_open(opt_data_dir, true, &dd.dir)) != ARK_OK) {
		ark_log_error("data directory %s: %s", opt_data_dir,
		    ark_strerror(rc));
		goto out;
	}
	if (datad_server_id(opt_data_dir, &dd.server_id) != ARK_OK)
		goto out;
	if (opt_group < 0 && (gs = datad_read_small(opt_data_dir, "group")) !=
	    NULL) {
		char *ge;

		opt_group = strtoll(gs, &ge, 10);
		if (*ge != '\0' || opt_group < 0 || opt_group > UINT32_MAX) {
			ark_log_error("%s/group: bad group '%s'", opt_data_dir,
			    gs);
			free(gs);
			goto out;
		}
		free(gs);
	} else if (opt_group >= 0) {
		char v[24];

		snprintf(v, sizeof(v), "%" PRId64, opt_group);
		(void)datad_write_small(opt_data_dir, "group", v);
	}

	store_opts_default(&so);
	so.chunk_size = opt_chunk_size;
	so.sync = (enum store_sync)opt_sync;
	so.batch_ms = (uint32_t)opt_batch_delay;
	so.max_disk_use = opt_max_disk_use;
	so.min_free = opt_min_free;
	so.drop_behind = (uint64_t)opt_drop_behind;
	so.compact_ratio = ratio > 0 ? ratio : 2.0;	/* never triggers */
	chunks = ark_xasprintf("%s/chunks", opt_data_dir);
	if ((rc = ark_mkdirs(chunks, 0750)) != ARK_OK ||
	    (rc = store_open(chunks, &so, &dd.st)) != ARK_OK) {
		ark_log_error("cannot open the store in %s: %s", chunks,
		    ark_strerror(rc));
		free(chunks);
		goto out;
	}
	free(chunks);

	memset(&dopts, 0, sizeof(dopts));
	dopts.st = dd.st;
	dopts.secret = &dd.secret;
	dopts.server_id = dd.server_id;
	dopts.sync_name = datad_sync_values[opt_sync];
	dopts.group = opt_group;
	dopts.verify_max = opt_verify_max;
	dopts.jobs = 2;
	(void)dsrv_new(&dopts, &dd.d);
	ark_metrics_enable_process(true);

	if (pthread_create(&dd.maint_thr, NULL, datad_maint_main, &dd) != 0)
		ark_fatalx("cannot start the maintenance thread");
	dd.maint_on = 1;
	if (opt_scrub_rate > 0) {
		if (pthread_create(&dd.scrub_thr, NULL, datad_scrub_main, &dd)
		    != 0)
			ark_fatalx("cannot start the scrub thread");
		dd.scrub_on = 1;
	}

	memset(&o, 0, sizeof(o));
	o.program = "arkor-datad";
	o.listen = opt_listen;
	o.port_file = opt_port_file;
	o.pid_file = opt_pid_file;
	o.http.threads = (unsigned)opt_threads;
	o.http.thread_init = dsrv_thread_init;
	o.http.thread_fini = dsrv_thread_fini;
	o.http.thread_arg = dd.d;
	o.http.quiet_requests = true;
	o.handler = dsrv_handler;
	o.handler_arg = dd.d;
	o.health = datad_health;
	o.started = datad_started;
	o.hook_arg = &dd;
	rc = ark_svc_run(&o);
	status = rc == ARK_OK ? 0 : 1;

	heartbeat_stop(dd.hb);
	dd.hb = NULL;
	closed_ok = datad_stop_threads(&dd);
	dsrv_free(dd.d);
	if (closed_ok)
		store_close(dd.st);
	else
		/* Data is in the page cache and the journals are replayed at
		 * start: exiting without store_close() loses nothing. */
		ark_log_warnx("a chunk scrub is still running; exiting "
		    "without closing the store");
	dd.st = NULL;
out:
	if (dd.st != NULL)
		store_close(dd.st);
	free(dd.server_id);
	free(dd.url);
	ark_datadir_close(dd.dir);
	ark_secret_wipe(&dd.secret);
	ark_cfg_free(cfg);
	return status;
}
