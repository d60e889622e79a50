/*
 * arkorctl.c - the Arkor admin CLI: talks to arkor-registryd's API
 * (docs/specs/Internal.md) as a service, with a token minted from the
 * cluster secret, or as a user with an access key. Human tables by
 * default, the registry's JSON with --json.
 *
 *   arkorctl [options] COMMAND [ARG]...
 *
 * Exit status: 0 success, 1 the registry refused or failed, 2 usage.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/cfg.h"
#include "common/daemon.h"
#include "common/http_client.h"
#include "common/json.h"
#include "common/log.h"
#include "common/token.h"
#include "common/util.h"

static const struct ark_cfg_opt options[] = {
	{ .name = "registry", .shortopt = 'r', .type = ARK_CFG_STR,
	  .def = "http://127.0.0.1:7400", .metavar = "URL",
	  .help = "registry to talk to" },
	{ .name = "cluster-key", .shortopt = 'k', .type = ARK_CFG_STR,
	  .def = LOCALSTATEDIR "/lib/arkor/registry/cluster.key",
	  .metavar = "FILE", .help = "cluster secret: act as a service" },
	{ .name = "access-key", .type = ARK_CFG_STR, .metavar = "ID",
	  .help = "act as this user instead (or $ARKOR_ACCESS_KEY_ID)" },
	{ .name = "secret-key", .type = ARK_CFG_STR, .metavar = "SECRET",
	  .help = "secret of --access-key (or $ARKOR_SECRET_ACCESS_KEY)" },
	{ .name = "json", .shortopt = 'j', .type = ARK_CFG_BOOL, .def = "false",
	  .help = "print the registry's JSON answer" },
	{ .name = "admin", .type = ARK_CFG_BOOL, .def = "false",
	  .help = "user create: make an administrator" },
	{ .name = "readonly", .type = ARK_CFG_BOOL, .def = "false",
	  .help = "key create: a read-only key" },
	{ .name = "timeout", .type = ARK_CFG_DURATION, .def = "30s",
	  .min = 100, .max = 3600000, .help = "per request" },
	{ .name = NULL }
};

static struct ark_cfg	*cfg;
static char		 authz[512];
static const char	*user_id, *user_secret;	/* sign requests when set */

static void
usage_commands(void)
{
	fprintf(stderr,
	    "commands:\n"
	    "  init [USER]              create the cluster secret if absent and, with the\n"
	    "                           registry running, an admin user (default: admin)\n"
	    "                           and an access key for it\n"
	    "  status                   groups, servers, capacity and metadata totals\n"
	    "  server list | server remove ID\n"
	    "  group list\n"
	    "  user create NAME [--admin] | user list | user delete NAME\n"
	    "  key create USER [--readonly] | key list [USER] | key revoke ID\n"
	    "  bucket list [OWNER]\n"
	    "  gc run\n");
}

static enum ark_err
setup_auth(int need_service)
{
	const char		*id = ark_cfg_str(cfg, "access-key");
	const char		*sec = ark_cfg_str(cfg, "secret-key");
	struct ark_secret	 s;
	char			 tok[ARK_TOKEN_MAXLEN];
	enum ark_err		 rc;

	if (id == NULL)
		id = getenv("ARKOR_ACCESS_KEY_ID");
	if (sec == NULL)
		sec = getenv("ARKOR_SECRET_ACCESS_KEY");
	if (id != NULL && !need_service) {
		if (sec == NULL) {
			fprintf(stderr, "arkorctl: --access-key needs "
			    "--secret-key\n");
			return ARK_EINVAL;
		}
		/* Requests are signed (Arkor-HMAC): the secret stays here. */
		user_id = id;
		user_secret = sec;
		return ARK_OK;
	}
	if ((rc = ark_secret_load(ark_cfg_str(cfg, "cluster-key"), &s)) !=
	    ARK_OK) {
		fprintf(stderr, "arkorctl: cluster key %s: %s\n",
		    ark_cfg_str(cfg, "cluster-key"), ark_strerror(rc));
		return rc;
	}
	rc = ark_token_mint(&s, ARK_TOKEN_ADMIN, "arkor-service",
	    ark_now_s() + 300, tok, sizeof(tok));
	ark_secret_wipe(&s);
	if (rc == ARK_OK)
		snprintf(authz, sizeof(authz), "Arkor-Service %s", tok);
	return rc;
}

/* POSTs `body` to `route`; on 200 *out gets the parsed answer. Prints
 * the error and returns nonzero otherwise. */
static int
call(const char *route, json_t *body, json_t **out)
{
	struct ark_http_fetch_req	 rq;
	struct ark_http_fetch_resp	 rs;
	struct ark_http_header		 h[2];
	struct ark_json_err		 je;
	char				*url, *b;
	size_t				 blen;
	enum ark_err			 rc;
	json_t				*j = NULL;

	b = ark_json_dump(body, &blen);
	json_decref(body);
	if (user_id != NULL)
		ark_reqsig_auth(user_id, user_secret, route, b, blen, authz,
		    sizeof(authz));
	url = ark_xasprintf("%s%s", ark_cfg_str(cfg, "registry"), route);
	memset(&rq, 0, sizeof(rq));
	h[0].name = "Authorization";
	h[0].value = authz;
	h[1].name = "Content-Type";
	h[1].value = "application/json";
	rq.method = "POST";
	rq.url = url;
	rq.headers = h;
	rq.nheaders = 2;
	rq.body = b;
	rq.body_len = blen;
	rq.timeout_ms = (unsigned)ark_cfg_duration_ms(cfg, "timeout");
	rc = ark_http_fetch(&rq, &rs);
	free(b);
	if (rc != ARK_OK) {
		fprintf(stderr, "arkorctl: %s: %s\n", url, ark_strerror(rc));
		free(url);
		return 1;
	}
	free(url);
	if (ark_json_parse_object(rs.body ? rs.body : "", rs.body_len,
	    64 << 20, &j, &je) != ARK_OK) {
		fprintf(stderr, "arkorctl: %s: HTTP %d, not JSON: %s\n", route,
		    rs.status, je.msg);
		ark_http_fetch_resp_free(&rs);
		return 1;
	}
	if (rs.status != 200) {
		json_t *m = json_object_get(j, "message");
		json_t *f = json_object_get(j, "field");

		fprintf(stderr, "arkorctl: %s: HTTP %d: %s%s%s\n", route,
		    rs.status, json_is_string(m) ? json_string_value(m) : "?",
		    json_is_string(f) ? " (field " : "",
		    json_is_string(f) ? json_string_value(f) : "");
		if (json_is_string(f))
			fprintf(stderr, ")\n");
		json_decref(j);
		ark_http_fetch_resp_free(&rs);
		return 1;
	}
	ark_http_fetch_resp_free(&rs);
	*out = j;
	return 0;
}

static void
print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s != NULL)
		printf("%s\n", s);
	free(s);
}

static const char *
str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : "";
}

static long long
num(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static const char *
yn(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k)) ? "yes" : "no";
}

static void
human_size(long long v, char *out, size_t len)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB",
	    "PiB" };
	double	d = (double)v;
	size_t	i = 0;

	while (d >= 1024 && i + 1 < ARK_ARRAY_SIZE(u)) {
		d /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(out, len, "%lld B", v);
	else
		snprintf(out, len, "%.1f %s", d, u[i]);
}

static int
run(const char *route, json_t *body, void (*table)(json_t *))
{
	json_t *j;

	if (call(route, body, &j) != 0)
		return 1;
	if (ark_cfg_bool(cfg, "json") || table == NULL)
		print_json(j);
	else
		table(j);
	json_decref(j);
	return 0;
}

static void
t_servers(json_t *j)
{
	json_t	*s;
	size_t	 i;
	char	 f[32], c[32];

	printf("%-16s %-5s %-5s %-3s %12s %12s %7s  %s\n", "ID", "GROUP",
	    "STATE", "RO", "FREE", "CAPACITY", "CORRUPT", "URL");
	json_array_foreach(json_object_get(j, "servers"), i, s) {
		human_size(num(s, "free"), f, sizeof(f));
		human_size(num(s, "capacity"), c, sizeof(c));
		printf("%-16s %-5lld %-5s %-3s %12s %12s %7zu  %s\n",
		    str(s, "id"), num(s, "group"), str(s, "state"),
		    yn(s, "readonly"), f, c,
		    json_array_size(json_object_get(s, "corrupt")),
		    str(s, "url"));
	}
}

static void
t_groups(json_t *j)
{
	json_t	*g, *id;
	size_t	 i, k;
	char	 f[32];

	printf("%-6s %-8s %12s  %s\n", "GROUP", "WRITABLE", "FREE", "SERVERS");
	json_array_foreach(json_object_get(j, "groups"), i, g) {
		human_size(num(g, "free"), f, sizeof(f));
		printf("%-6lld %-8s %12s ", num(g, "id"), yn(g, "writable"), f);
		json_array_foreach(json_object_get(g, "servers"), k, id)
			printf(" %s", json_string_value(id));
		printf("\n");
	}
}

static void
t_users(json_t *j)
{
	json_t	*u;
	size_t	 i;

	printf("%-24s %s\n", "USER", "ADMIN");
	json_array_foreach(json_object_get(j, "users"), i, u)
		printf("%-24s %s\n", str(u, "name"), yn(u, "admin"));
}

static void
t_user(json_t *j)
{
	printf("user %s created%s\n", str(j, "name"),
	    json_is_true(json_object_get(j, "admin")) ? " (admin)" : "");
}

static void
t_keys(json_t *j)
{
	json_t	*k;
	size_t	 i;

	printf("%-24s %-24s %s\n", "KEY ID", "USER", "READONLY");
	json_array_foreach(json_object_get(j, "keys"), i, k)
		printf("%-24s %-24s %s\n", str(k, "key_id"), str(k, "user"),
		    yn(k, "readonly"));
}

static void
t_key(json_t *j)
{
	printf("access key id:     %s\nsecret access key: %s\nuser:              "
	    "%s%s\n", str(j, "key_id"), str(j, "secret"), str(j, "user"),
	    json_is_true(json_object_get(j, "readonly")) ? " (read-only)" :
	    "");
}

static void
t_buckets(json_t *j)
{
	json_t	*b;
	size_t	 i;
	char	 s[32];

	printf("%-32s %-16s %-12s %10s %12s\n", "BUCKET", "OWNER", "ACL",
	    "OBJECTS", "SIZE");
	json_array_foreach(json_object_get(j, "buckets"), i, b) {
		human_size(num(b, "bytes"), s, sizeof(s));
		printf("%-32s %-16s %-12s %10lld %12s\n", str(b, "name"),
		    str(b, "owner"), str(b, "acl"), num(b, "objects"), s);
	}
}

static void
t_ok(json_t *j)
{
	(void)j;
	printf("ok\n");
}

static int
cmd_status(void)
{
	json_t	*st, *gr = NULL, *sv = NULL, *all;
	char	 c[32], f[32], b[32];
	int	 service = user_id == NULL;

	if (call("/v1/stat", json_object(), &st) != 0)
		return 1;
	if (service && (call("/v1/group/list", json_object(), &gr) != 0 ||
	    call("/v1/server/list", json_object(), &sv) != 0)) {
		json_decref(st);
		json_decref(gr);
		return 1;
	}
	if (ark_cfg_bool(cfg, "json")) {
		all = json_pack("{s:O}", "stat", st);
		if (gr != NULL)
			json_object_set(all, "groups", json_object_get(gr,
			    "groups"));
		if (sv != NULL)
			json_object_set(all, "servers", json_object_get(sv,
			    "servers"));
		print_json(all);
		json_decref(all);
	} else {
		human_size(num(st, "capacity"), c, sizeof(c));
		human_size(num(st, "free"), f, sizeof(f));
		human_size(num(st, "bytes"), b, sizeof(b));
		printf("cluster:  %lld/%lld servers up, %lld/%lld groups "
		    "writable, %s free of %s (raw)\n", num(st, "servers_up"),
		    num(st, "servers"), num(st, "groups_writable"),
		    num(st, "groups"), f, c);
		printf("metadata: %lld users, %lld keys, %lld buckets, %lld "
		    "objects (%s), %lld uploads, %lld LFS objects, %lld locks\n",
		    num(st, "users"), num(st, "keys"), num(st, "buckets"),
		    num(st, "objects"), b, num(st, "uploads"),
		    num(st, "lfs_objects"), num(st, "locks"));
		printf("gc:       %lld queued, %lld deleted since start\n",
		    num(st, "gc_queued"), num(st, "gc_deleted"));
		if (gr != NULL) {
			printf("\n");
			t_groups(gr);
			printf("\n");
			t_servers(sv);
		}
	}
	json_decref(st);
	json_decref(gr);
	json_decref(sv);
	return 0;
}

static int
cmd_init(int n, char *const *a)
{
	const char		*path = ark_cfg_str(cfg, "cluster-key");
	const char		*user = n > 1 ? a[1] : "admin";
	struct ark_secret	 s;
	enum ark_err		 rc;
	json_t			*j;

	memset(&s, 0, sizeof(s));
	/* ark_secret_create never replaces a file; test first only to
	 * avoid its warning on the usual "already there" path. */
	rc = access(path, F_OK) == 0 ? ARK_EEXIST : ark_secret_create(path, &s);
	if (rc == ARK_OK)
		printf("created cluster secret %s\n", path);
	else if (rc != ARK_EEXIST) {
		fprintf(stderr, "arkorctl: %s: %s\n", path, ark_strerror(rc));
		return 1;
	}
	ark_secret_wipe(&s);
	if (setup_auth(1) != ARK_OK)
		return 1;
	if (call("/v1/user/create", json_pack("{s:s, s:b}", "name", user,
	    "admin", 1), &j) != 0) {
		fprintf(stderr, "arkorctl: init: could not create user %s "
		    "(is the registry at %s running?)\n", user,
		    ark_cfg_str(cfg, "registry"));
		return 1;
	}
	json_decref(j);
	return run("/v1/key/create", json_pack("{s:s}", "user", user), t_key);
}

int
main(int argc, char **argv)
{
	char *const	*a;
	int		 n, rc = 2;
	const char	*c1, *c2;

	cfg = ark_cfg_new("arkorctl", PACKAGE_VERSION, options);
	ark_cfg_set_summary(cfg, "Arkor admin CLI: status, servers, groups, "
	    "users, keys, buckets, gc (see arkorctl(1))");
	ark_cfg_allow_args(cfg, "COMMAND [ARG]...");
	ark_cfg_parse_or_exit(cfg, argc, argv);
	ark_log_init("arkorctl", ARK_LOG_WARN);
	ark_signals_ignore_pipe();
	a = ark_cfg_args(cfg, &n);
	if (n == 0) {
		fprintf(stderr, "usage: arkorctl [options] COMMAND [ARG]...\n");
		usage_commands();
		goto out;
	}
	c1 = a[0];
	c2 = n > 1 ? a[1] : "";
	if (strcmp(c1, "init") == 0) {
		rc = cmd_init(n, a);
		goto out;
	}
	if (setup_auth(0) != ARK_OK) {
		rc = 1;
		goto out;
	}
#define IS(x, y, nargs) (strcmp(c1, x) == 0 && strcmp(c2, y) == 0 && \
	n == (nargs))
	if (strcmp(c1, "status") == 0 && n == 1)
		rc = cmd_status();
	else if (IS("server", "list", 2))
		rc = run("/v1/server/list", json_object(), t_servers);
	else if (IS("server", "remove", 3))
		rc = run("/v1/server/remove", json_pack("{s:s}", "id", a[2]),
		    t_ok);
	else if (IS("group", "list", 2))
		rc = run("/v1/group/list", json_object(), t_groups);
	else if (IS("user", "create", 3))
		rc = run("/v1/user/create", json_pack("{s:s, s:b}", "name",
		    a[2], "admin", ark_cfg_bool(cfg, "admin")), t_user);
	else if (IS("user", "list", 2))
		rc = run("/v1/user/list", json_object(), t_users);
	else if (IS("user", "delete", 3))
		rc = run("/v1/user/delete", json_pack("{s:s}", "name", a[2]),
		    t_ok);
	else if (IS("key", "create", 3))
		rc = run("/v1/key/create", json_pack("{s:s, s:b}", "user",
		    a[2], "readonly", ark_cfg_bool(cfg, "readonly")), t_key);
	else if (IS("key", "list", 2))
		rc = run("/v1/key/list", json_object(), t_keys);
	else if (IS("key", "list", 3))
		rc = run("/v1/key/list", json_pack("{s:s}", "user", a[2]),
		    t_keys);
	else if (IS("key", "revoke", 3))
		rc = run("/v1/key/delete", json_pack("{s:s}", "key_id", a[2]),
		    t_ok);
	else if (IS("bucket", "list", 2))
		rc = run("/v1/bucket/list", json_object(), t_buckets);
	else if (IS("bucket", "list", 3))
		rc = run("/v1/bucket/list", json_pack("{s:s}", "owner", a[2]),
		    t_buckets);
	else if (IS("gc", "run", 2))
		rc = run("/v1/gc/run", json_object(), t_ok);
	else {
		fprintf(stderr, "arkorctl: unknown command or wrong "
		    "arguments\n");
		usage_commands();
	}
#undef IS
out:
	ark_http_fetch_thread_cleanup();
	ark_cfg_free(cfg);
	return rc;
}
