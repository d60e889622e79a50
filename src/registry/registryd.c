/*
 * registryd.c - arkor-registryd, the Registration Center: main(), the
 * option table, and the wiring of store (meta), cluster state, GC and the
 * HTTP API (api.c) on the common service front (svc.h).
 *
 * Start-up: lock the data directory, load or create the cluster secret,
 * open (migrate) the store, load the servers, start the GC, serve until
 * SIGTERM/SIGINT; then stop the GC and close the store, which finishes
 * queued commits.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "common/cfg.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/svc.h"
#include "common/token.h"
#include "common/util.h"
#include "registry/api.h"
#include "registry/cluster.h"
#include "registry/gc.h"
#include "registry/meta.h"

static const char *const log_levels[] = { "error", "warn", "info", "debug",
    NULL };

static const struct ark_cfg_opt options[] = {
	{ .name = "listen", .shortopt = 'l', .type = ARK_CFG_STR,
	  .def = "127.0.0.1:7400", .metavar = "HOST:PORT",
	  .help = "address to serve the registry API on" },
	{ .name = "data-dir", .shortopt = 'd', .type = ARK_CFG_STR,
	  .def = LOCALSTATEDIR "/lib/arkor/registry", .metavar = "DIR",
	  .help = "directory of the metadata database (meta.db), locked" },
	{ .name = "cluster-key", .type = ARK_CFG_STR, .metavar = "FILE",
	  .help = "cluster secret file, created if absent "
	  "(default: DIR/cluster.key)" },
	{ .name = "heartbeat-timeout", .type = ARK_CFG_DURATION, .def = "15s",
	  .min = 1000, .max = 3600000,
	  .help = "a data server silent this long is down" },
	{ .name = "replicas", .type = ARK_CFG_INT, .def = "3", .min = 1,
	  .max = 16, .help = "data servers per group; a group takes writes "
	  "only with this many up" },
	{ .name = "key-batch", .type = ARK_CFG_INT, .def = "10000", .min = 1,
	  .max = 1048576, .help = "FileID keys reserved per database write" },
	{ .name = "token-ttl", .type = ARK_CFG_DURATION, .def = "15m",
	  .min = 10000, .max = 86400000,
	  .help = "lifetime of the data-server tokens handed out" },
	{ .name = "assign-grace", .type = ARK_CFG_DURATION, .def = "24h",
	  .min = 1000, .max = 2592000000LL,
	  .help = "a FileID not committed this long after its write token "
	  "expired is collected with whatever was stored under it" },
	{ .name = "gc-tombstones", .type = ARK_CFG_DURATION, .def = "7d",
	  .min = 1000, .max = 31536000000LL,
	  .help = "how long a deleted FileID is remembered, so that a late "
	  "commit of it is refused" },
	{ .name = "gc-interval", .type = ARK_CFG_DURATION, .def = "10s",
	  .min = 100, .max = 86400000,
	  .help = "pause between garbage-collection passes when idle" },
	{ .name = "sync", .type = ARK_CFG_BOOL, .def = "true",
	  .help = "fsync every group commit (off: survive process crashes "
	  "only)" },
	{ .name = "threads", .shortopt = 't', .type = ARK_CFG_INT, .def = "0",
	  .min = 0, .max = 256, .help = "HTTP event-loop threads (0: one per "
	  "CPU)" },
	{ .name = "write-threads", .type = ARK_CFG_INT, .def = "64",
	  .min = 1, .max = 1024, .help = "threads for requests waiting on a "
	  "commit (bounds the commits one transaction can group)" },
	{ .name = "max-body", .type = ARK_CFG_SIZE, .def = "16MiB",
	  .min = 4096, .max = 268435456, .help = "largest request body" },
	{ .name = "log-level", .type = ARK_CFG_ENUM, .def = "info",
	  .values = log_levels, .flags = ARK_CFG_RELOAD,
	  .help = "error, warn, info or debug" },
	{ .name = "log-file", .type = ARK_CFG_STR, .metavar = "FILE",
	  .flags = ARK_CFG_RELOAD, .help = "log to FILE instead of stderr "
	  "(reopened on SIGHUP)" },
	{ .name = "port-file", .type = ARK_CFG_STR, .metavar = "FILE",
	  .help = "write the bound port to FILE once listening" },
	{ .name = "pid-file", .type = ARK_CFG_STR, .metavar = "FILE",
	  .help = "write the process id to FILE" },
	{ .name = "tls-cert", .type = ARK_CFG_STR, .metavar = "FILE",
	  .help = "PEM certificate: serve HTTPS (with --tls-key)" },
	{ .name = "tls-key", .type = ARK_CFG_STR, .metavar = "FILE",
	  .help = "PEM private key for --tls-cert" },
	{ .name = NULL }
};

static struct ark_cfg *cfg;

static void
on_reload(void *arg)
{
	(void)arg;
	if (ark_cfg_reload(cfg, NULL) != ARK_OK) {
		ark_log_warnx("reload: %s", ark_cfg_errmsg(cfg));
		return;
	}
	ark_log_set_level((enum ark_log_level)ark_cfg_enum(cfg, "log-level"));
	if (ark_cfg_str(cfg, "log-file") != NULL &&
	    ark_log_open(ark_cfg_str(cfg, "log-file")) != 0)
		ark_log_warn("reopen %s", ark_cfg_str(cfg, "log-file"));
}

static int
on_health(struct ark_buf *b, void *arg)
{
	struct api		*a = arg;
	struct cluster_caps	 cc;

	cluster_caps(a->c, &cc);
	ark_buf_printf(b, "\"schema\":%d,\"servers_up\":%llu,"
	    "\"groups_writable\":%llu", meta_schema_version(a->m),
	    (unsigned long long)cc.servers_up,
	    (unsigned long long)cc.groups_writable);
	return 0;
}

int
main(int argc, char **argv)
{
	struct ark_svc_opts	 o;
	struct ark_datadir	*dd = NULL;
	struct ark_secret	 secret;
	struct meta_opts	 mo;
	struct cluster_opts	 co;
	struct gc_opts		 go;
	struct api		 a;
	struct meta		*m = NULL;
	struct cluster		*c = NULL;
	struct gc		*g = NULL;
	char			*dbpath = NULL, *keypath = NULL;
	enum ark_err		 rc;
	int			 status = 1, started = 0;
	sigset_t		 ss;

	memset(&secret, 0, sizeof(secret));
	cfg = ark_cfg_new("arkor-registryd", PACKAGE_VERSION, options);
	ark_cfg_set_summary(cfg, "Arkor registration center: cluster state, "
	    "FileIDs and all metadata");
	ark_cfg_parse_or_exit(cfg, argc, argv);
	ark_log_init("arkor-registryd",
	    (enum ark_log_level)ark_cfg_enum(cfg, "log-level"));
	if (ark_cfg_str(cfg, "log-file") != NULL &&
	    ark_log_open(ark_cfg_str(cfg, "log-file")) != 0) {
		ark_log_warn("%s", ark_cfg_str(cfg, "log-file"));
		goto out;
	}
	ark_log_hook_libevent();

	/* The store and GC threads start before ark_svc_run() installs the
	 * signal thread: they must inherit a mask without TERM/INT/HUP. */
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &ss, NULL);
	ark_signals_ignore_pipe();

	if (ark_datadir_open(ark_cfg_str(cfg, "data-dir"), true, &dd) !=
	    ARK_OK)
		goto out;
	keypath = ark_cfg_str(cfg, "cluster-key") != NULL ?
	    ark_xstrdup(ark_cfg_str(cfg, "cluster-key")) :
	    ark_xasprintf("%s/cluster.key", ark_datadir_path(dd));
	if ((rc = ark_secret_load_or_create(keypath, &secret)) != ARK_OK) {
		ark_log_error("cluster key %s: %s", keypath, ark_strerror(rc));
		goto out;
	}
	dbpath = ark_xasprintf("%s/meta.db", ark_datadir_path(dd));
	memset(&mo, 0, sizeof(mo));
	mo.sync_full = ark_cfg_bool(cfg, "sync");
	if (meta_open(dbpath, &mo, &m) != ARK_OK)
		goto out;
	memset(&co, 0, sizeof(co));
	co.heartbeat_timeout_ms = ark_cfg_duration_ms(cfg, "heartbeat-timeout");
	co.replicas = (unsigned)ark_cfg_int(cfg, "replicas");
	co.key_batch = (uint64_t)ark_cfg_int(cfg, "key-batch");
	if (cluster_new(m, &co, &c) != ARK_OK)
		goto out;
	memset(&go, 0, sizeof(go));
	go.interval_ms = ark_cfg_duration_ms(cfg, "gc-interval");
	go.tombstone_ms = ark_cfg_duration_ms(cfg, "gc-tombstones");
	if (gc_start(m, c, &secret, &go, &g) != ARK_OK)
		goto out;

	memset(&a, 0, sizeof(a));
	a.m = m;
	a.c = c;
	a.gc = g;
	a.secret = &secret;
	a.token_ttl_s = ark_cfg_duration_ms(cfg, "token-ttl") / 1000;
	a.assign_grace_ms = ark_cfg_duration_ms(cfg, "assign-grace");
	a.max_body = (size_t)ark_cfg_size(cfg, "max-body");
	a.pool_threads = (unsigned)ark_cfg_int(cfg, "write-threads");
	if (api_start(&a) != ARK_OK)
		goto out;
	started = 1;

	memset(&o, 0, sizeof(o));
	o.program = "arkor-registryd";
	o.listen = ark_cfg_str(cfg, "listen");
	o.port_file = ark_cfg_str(cfg, "port-file");
	o.pid_file = ark_cfg_str(cfg, "pid-file");
	o.http.threads = (unsigned)ark_cfg_int(cfg, "threads");
	o.http.tls_cert_file = ark_cfg_str(cfg, "tls-cert");
	o.http.tls_key_file = ark_cfg_str(cfg, "tls-key");
	o.http.thread_init = api_thread_init;
	o.http.thread_fini = api_thread_fini;
	o.http.quiet_requests = true;
	o.handler = api_handler;
	o.handler_arg = &a;
	o.health = on_health;
	o.reload = on_reload;
	o.hook_arg = &a;
	if (ark_svc_run(&o) == ARK_OK)
		status = 0;
out:
	if (started)
		api_stop(&a);
	gc_stop(g);
	cluster_free(c);
	meta_close(m);
	ark_secret_wipe(&secret);
	ark_datadir_close(dd);
	free(dbpath);
	free(keypath);
	ark_cfg_free(cfg);
	return status;
}
