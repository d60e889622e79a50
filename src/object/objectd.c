/*
 * objectd.c - arkor-objectd: the S3 object server. Stateless: it
 * authenticates S3 requests (SigV4/V2 with secrets from the registry's
 * key/get, cached briefly), cuts object bodies into fragments written to
 * every replica of a group, commits metadata to the registry, and streams
 * reads back from one replica per fragment with failover.
 *
 * This file is the daemon: options, worker threads and their HTTP
 * clients, and the route from a request to its front end. The rest:
 * od.h (shared request context, replies, registry calls), od_put.c and
 * od_get.c (fragment pipelines), od_s3.c (the S3 API).
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/cfg.h"
#include "common/daemon.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/svc.h"
#include "common/token.h"
#include "object/od.h"

static const char *const od_log_values[] = { "error", "warn", "info",
    "debug", NULL };

static const char	*opt_listen, *opt_registry, *opt_cluster_key;
static const char	*opt_region, *opt_domain, *opt_port_file;
static const char	*opt_pid_file;
static uint64_t		 opt_fragment_size, opt_cache_size;
static int64_t		 opt_window, opt_threads, opt_fid_pool;
static int		 opt_log_level;

static const struct ark_cfg_opt od_opts[] = {
	{ "listen", 'l', ARK_CFG_STR, "127.0.0.1:7480", 0, 0, NULL,
	  "HOST:PORT", "address to listen on (port 0: any)", 0,
	  &opt_listen },
	{ "registry", 'r', ARK_CFG_STR, "127.0.0.1:7400", 0, 0, NULL,
	  "HOST:PORT", "registry address", 0, &opt_registry },
	{ "cluster-key", 'k', ARK_CFG_STR, SYSCONFDIR "/arkor/cluster.key", 0,
	  0, NULL, "FILE", "cluster secret for the registry's service auth",
	  0, &opt_cluster_key },
	{ "fragment-size", 0, ARK_CFG_SIZE, "8MiB", 4096, (int64_t)1 << 30,
	  NULL, "SIZE", "bytes per fragment written to a group", 0,
	  &opt_fragment_size },
	{ "cache-size", 0, ARK_CFG_SIZE, "32MiB", 0, (int64_t)1 << 40, NULL,
	  "SIZE", "memory for small fragments (up to 256 KiB) read by GETs, "
	  "answered from memory next time (0: none)", 0, &opt_cache_size },
	{ "window", 'w', ARK_CFG_INT, "4", 1, 64, NULL, "N",
	  "fragments in flight per upload", 0, &opt_window },
	{ "fid-pool", 0, ARK_CFG_INT, "32", 0, 256, NULL, "N",
	  "spare FileIDs kept per worker thread (0: one assign per upload)",
	  0, &opt_fid_pool },
	{ "region", 0, ARK_CFG_STR, "us-east-1", 0, 0, NULL, "REGION",
	  "region name signatures must use (empty: any)", 0, &opt_region },
	{ "domain", 0, ARK_CFG_STR, NULL, 0, 0, NULL, "DOMAIN",
	  "base domain for virtual-hosted-style bucket addressing", 0,
	  &opt_domain },
	{ "threads", 't', ARK_CFG_INT, "0", 0, 256, NULL, "N",
	  "HTTP worker threads (0: one per CPU)", 0, &opt_threads },
	{ "port-file", 0, ARK_CFG_STR, NULL, 0, 0, NULL, "FILE",
	  "write the bound port here once ready", 0, &opt_port_file },
	{ "pid-file", 0, ARK_CFG_STR, NULL, 0, 0, NULL, "FILE",
	  "write the process id here", 0, &opt_pid_file },
	{ "log-level", 0, ARK_CFG_ENUM, "info", 0, 0, od_log_values, NULL,
	  "log verbosity", 0, &opt_log_level },
	{ NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0, NULL },
};


static char	od_reg_host[256];

/* One front end per request: Git LFS for its own paths, else S3. */
static void
od_handler(struct ark_http_req *req, void *arg)
{
	if (od_lfs_match(req)) {
		od_lfs_handler(req, arg);
		return;
	}
	od_s3_handler(req, arg);
}

/* ---- daemon ---------------------------------------------------------------------- */

static void
od_thread_init(struct event_base *base, unsigned idx, void *arg)
{
	struct ark_http_client_opts co;

	(void)idx;
	(void)arg;
	ark_http_client_opts_default(&co);
	co.io_timeout_ms = 60000;
	/* Every request talks to the registry and data servers: keep every
	 * connection the pool may open, or bursts reconnect for each. */
	co.max_idle_per_host = co.max_conns_per_host;
	if (ark_http_client_new(base, &co, &od_cli) != ARK_OK)
		ark_fatalx("cannot create the HTTP client");
}

static void
od_thread_fini(struct event_base *base, unsigned idx, void *arg)
{
	(void)base;
	(void)idx;
	(void)arg;
	od_reg_thread_fini();
	ark_http_client_free(od_cli);
	od_cli = NULL;
	od_pool_flush();
}

static enum ark_err
od_started(struct ark_http_server *srv, void *arg)
{
	(void)arg;
	ark_log_info("S3 endpoint http://%s (port %u), registry %s, "
	    "fragment size %" PRIu64 ", window %" PRId64, opt_listen,
	    (unsigned)ark_http_server_port(srv), opt_registry,
	    opt_fragment_size, opt_window);
	return ARK_OK;
}

int
main(int argc, char **argv)
{
	struct ark_cfg *cfg;
	struct ark_svc_opts o;
	enum ark_err rc;

	cfg = ark_cfg_new("arkor-objectd", PACKAGE_VERSION, od_opts);
	ark_cfg_set_summary(cfg, "Arkor object server: the S3 API over the "
	    "data groups.");
	ark_cfg_parse_or_exit(cfg, argc, argv);
	ark_log_init("arkor-objectd", (enum ark_log_level)opt_log_level);
	ark_log_hook_libevent();
	ark_signals_ignore_pipe();

	if (ark_svc_parse_listen(opt_registry, od_reg_host,
	    sizeof(od_reg_host), &od_conf.reg_port) != ARK_OK ||
	    od_conf.reg_port == 0) {
		fprintf(stderr, "arkor-objectd: option --registry: '%s' is not "
		    "HOST:PORT\n", opt_registry);
		ark_cfg_free(cfg);
		return 2;
	}
	if (ark_secret_load(opt_cluster_key, &od_secret) != ARK_OK) {
		ark_log_error("cannot load the cluster key %s", opt_cluster_key);
		ark_cfg_free(cfg);
		return 1;
	}
	od_conf.region = opt_region;
	od_conf.fragment_size = opt_fragment_size;
	od_conf.window = (unsigned)opt_window;
	od_conf.fid_pool = (unsigned)opt_fid_pool;
	od_conf.reg_host = od_reg_host;
	od_conf.fcache = od_fcache_new((size_t)opt_cache_size, OD_FCACHE_ITEM);
	od_get_init();
	od_reg_init();
	od_s3_configure(opt_domain, opt_region);

	memset(&o, 0, sizeof(o));
	o.program = "arkor-objectd";
	o.listen = opt_listen;
	o.port_file = opt_port_file;
	o.pid_file = opt_pid_file;
	o.http.threads = (unsigned)opt_threads;
	o.http.thread_init = od_thread_init;
	o.http.thread_fini = od_thread_fini;
	o.handler = od_handler;
	o.started = od_started;
	ark_metrics_enable_process(true);
	rc = ark_svc_run(&o);
	od_fcache_free(od_conf.fcache);
	ark_secret_wipe(&od_secret);
	od_key_wipe();
	ark_cfg_free(cfg);
	return rc == ARK_OK ? 0 : 1;
}

