/*
 * meta_sqlite.c - the metadata store (meta.h) on SQLite.
 *
 * One file in WAL mode. One writer connection owned by the writer thread,
 * which group-commits queued operations: BEGIN IMMEDIATE, each operation
 * in a SAVEPOINT (a failing one is rolled back alone), one COMMIT for the
 * whole batch, one fsync of the WAL, then every waiting caller is woken
 * with its own result. Before a batch the writer waits a little (at most
 * one commit's time, 5 ms) for as many operations as the previous commit
 * could have covered, so that callers form one group.
 *
 * Lazy operations (meta.h; arkorfs's close, unlink, chmod: POSIX makes
 * none durable before fsync) are answered before the fsync: visible to
 * every reader at once, durable within LAZY_SYNC_NS. One that finds the
 * writer idle and nothing queued commits at once on its caller's
 * (event-loop) thread, like a read, which saves two thread wake-ups; the
 * writer then syncs once for every such commit of the next 2 ms (one
 * fsync per commit cost a fifth of a create+unlink on two cores). The
 * WAL is written at COMMIT, so a killed registry loses nothing; a machine
 * crash can lose the lazy commits of the last 2 ms, never a durable
 * answer: the WAL is sequential, each fsync covers every earlier commit.
 * The fsync is fdatasync(2) on the registry's own descriptor of the WAL
 * file, so syncing never holds the writer connection.
 *
 * Readers take a connection from a pool and read inside BEGIN..COMMIT, so
 * a call sees one snapshot.
 *
 * The file is opened with the "unix-excl" VFS: other processes are locked
 * out and the WAL index is in memory, which saves two fcntl() calls per
 * read transaction.
 *
 * Statements are prepared once per connection and cached by the address
 * of their SQL text (a string literal at one call site).
 *
 * Fragments of objects, multipart parts and LFS objects live in one table
 * `frags(kind, owner, idx, fid, ...)` indexed by fid, so "is this FileID
 * still referenced" is one index probe. The GC queue holds fids that lost
 * their last reference; state 0 = queued (a commit that references the
 * fid again removes it from the queue), 1 = taken by the GC worker (from
 * then on the fid may be partly deleted: a commit referencing it fails
 * with ARK_EAGAIN, it is never resurrected).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/util.h"
#include "registry/meta.h"

#define STMT_CACHE		128	/* prepared statements per connection */
#define FRAG_OBJECT		0
#define FRAG_PART		1
#define FRAG_LFS		2
#define PREFIX_OP_MAX		1000000	/* keys per prefix copy/rename */
#define LAZY_SYNC_NS		2000000	/* inline lazy commits: fsync within */

struct mconn {
	sqlite3		*db;
	struct {
		const char	*sql;
		sqlite3_stmt	*st;
	}		 cache[STMT_CACHE];
	size_t		 ncache;
	struct mconn	*next;		/* free list */
};

struct meta_op {
	enum ark_err	(*fn)(struct mconn *c, void *arg);
	void		*arg;
	enum ark_err	 rc;
	int		 lazy;		/* may be answered before the fsync */
	sem_t		 done;		/* posted by the writer after commit */
	/* Asynchronous ops (meta_*_async): called instead, then the op
	 * (the head of a heap block) is freed. */
	void		(*cb)(void *cb_arg, enum ark_err rc);
	void		*cb_arg;
	struct meta_op	*next;
};

struct meta {
	char		*path;
	unsigned	 max_batch;
	int		 sync_full;	/* fsync the WAL after each batch */
	int		 schema;
	int		 busy;		/* wconn in use (a batch; mu) */
	uint64_t	 lazy_since;	/* first inline commit not synced */
	uint64_t	 sync_retry_ns;	/* after a failed fsync (mu) */
	int		 walfd;		/* the WAL, for fdatasync (writer) */
	_Atomic uint64_t committed;	/* batches committed */
	_Atomic uint64_t synced;	/* of them, known durable */
	struct mconn	*wconn;
	pthread_t	 writer;
	pthread_mutex_t	 mu;		/* queue, stop */
	pthread_mutex_t	 rmu;		/* readers: lookups never wait on
					 * the writer's queue */
	pthread_cond_t	 wake;		/* writer: work or stop */
	struct meta_op	*head, *tail;
	size_t		 nqueued;	/* ops in head..tail */
	uint64_t	 first_ns;	/* when the queue became non-empty */
	uint64_t	 writers;	/* ops one commit could cover: the last
					 * batch plus those queued during it */
	uint64_t	 commit_end_ns;
	uint64_t	 commit_ns;	/* moving average of one batch */
	int		 stop;
	struct mconn	*readers;	/* free read connections */
	_Atomic uint64_t auth_gen;	/* bumped after a key or user is
					 * deleted, or a bucket created,
					 * deleted or its ACL set: see
					 * meta_key_get, meta_bucket_access */
	struct ark_metric *m_commits, *m_ops, *m_batch, *m_commit_s;
};

static const char *const op_results[] = { "ok", "error", NULL };
static const struct ark_metric_label op_label[] = {
	{ "result", op_results },
};
static const double batch_bounds[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256,
    512, 1024 };
static const double commit_bounds[] = { 0.0005, 0.001, 0.002, 0.005, 0.01,
    0.02, 0.05, 0.1, 0.5, 1 };

/* Migrations: index i brings the schema from version i to i + 1. */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT INTO counters VALUES('fid_next', 1), ('version', 0);"
	"CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	" admin INTEGER NOT NULL, created INTEGER NOT NULL);"
	"CREATE TABLE access_keys(key_id TEXT PRIMARY KEY,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" secret TEXT NOT NULL, readonly INTEGER NOT NULL,"
	" created INTEGER NOT NULL);"
	"CREATE INDEX access_keys_user ON access_keys(user_id);"
	"CREATE TABLE buckets(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	" owner_id INTEGER NOT NULL REFERENCES users(id),"
	" acl INTEGER NOT NULL, created INTEGER NOT NULL,"
	" objects INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX buckets_owner ON buckets(owner_id);"
	"CREATE TABLE objects(id INTEGER PRIMARY KEY,"
	" bucket_id INTEGER NOT NULL REFERENCES buckets(id),"
	" key TEXT NOT NULL, version INTEGER NOT NULL, size INTEGER NOT NULL,"
	" etag TEXT NOT NULL, ctype TEXT NOT NULL, umeta TEXT, cksums TEXT,"
	" mode INTEGER NOT NULL, uid INTEGER NOT NULL, gid INTEGER NOT NULL,"
	" mtime INTEGER NOT NULL, created INTEGER NOT NULL,"
	" UNIQUE(bucket_id, key));"
	"CREATE TABLE frags(kind INTEGER NOT NULL, owner INTEGER NOT NULL,"
	" idx INTEGER NOT NULL, fid TEXT NOT NULL, off INTEGER NOT NULL,"
	" len INTEGER NOT NULL, crc INTEGER NOT NULL,"
	" PRIMARY KEY(kind, owner, idx)) WITHOUT ROWID;"
	"CREATE INDEX frags_fid ON frags(fid);"
	"CREATE TABLE uploads(id TEXT PRIMARY KEY,"
	" bucket_id INTEGER NOT NULL REFERENCES buckets(id),"
	" key TEXT NOT NULL, ctype TEXT NOT NULL, umeta TEXT,"
	" created INTEGER NOT NULL);"
	"CREATE INDEX uploads_bucket ON uploads(bucket_id, key);"
	"CREATE TABLE parts(id INTEGER PRIMARY KEY,"
	" upload_id TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,"
	" number INTEGER NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,"
	" created INTEGER NOT NULL, UNIQUE(upload_id, number));"
	"CREATE TABLE lfs_objects(id INTEGER PRIMARY KEY, ns TEXT NOT NULL,"
	" oid TEXT NOT NULL, size INTEGER NOT NULL, created INTEGER NOT NULL,"
	" UNIQUE(ns, oid));"
	"CREATE TABLE lfs_locks(id TEXT PRIMARY KEY, ns TEXT NOT NULL,"
	" path TEXT NOT NULL, owner TEXT NOT NULL, created INTEGER NOT NULL,"
	" UNIQUE(ns, path));"
	"CREATE INDEX lfs_locks_ns ON lfs_locks(ns, id);"
	"CREATE TABLE servers(id TEXT PRIMARY KEY, url TEXT NOT NULL,"
	" grp INTEGER NOT NULL, created INTEGER NOT NULL);"
	"CREATE TABLE gc(id INTEGER PRIMARY KEY, fid TEXT NOT NULL UNIQUE,"
	" state INTEGER NOT NULL, attempts INTEGER NOT NULL,"
	" next_at INTEGER NOT NULL, added INTEGER NOT NULL);"
	"CREATE INDEX gc_due ON gc(next_at);",
	/* 1 -> 2: S3 object tags and stored response headers */
	"ALTER TABLE objects ADD COLUMN tags TEXT;"
	"ALTER TABLE objects ADD COLUMN headers TEXT;"
	"ALTER TABLE uploads ADD COLUMN headers TEXT;",
	/* 2 -> 3: part layout of objects made by multipart uploads */
	"ALTER TABLE objects ADD COLUMN parts TEXT;",
	/* 3 -> 4: FileIDs handed out and not committed yet */
	"CREATE TABLE assigned(fid TEXT PRIMARY KEY,"
	" expires INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX assigned_expires ON assigned(expires);",
	/* 4 -> 5: multipart checksums (the upload's declared algorithm and
	 * type, each part's checksums) */
	"ALTER TABLE uploads ADD COLUMN cksum_alg TEXT;"
	"ALTER TABLE uploads ADD COLUMN cksum_type TEXT;"
	"ALTER TABLE parts ADD COLUMN cksums TEXT;",
	/* 5 -> 6: bucket tags and CORS configuration */
	"ALTER TABLE buckets ADD COLUMN tags TEXT;"
	"ALTER TABLE buckets ADD COLUMN cors TEXT;",
	/* 6 -> 7: each bucket's change count (meta.h, "nseq"): one more
	 * for every objects row added, changed or removed, except while
	 * nseq_hold has a row: an operation on many rows (prefix rename
	 * and copy) holds the triggers and counts once itself (a trigger
	 * per row cost a rename of 10,000 keys about 25 ms) */
	"ALTER TABLE buckets ADD COLUMN nseq INTEGER NOT NULL DEFAULT 0;"
	"UPDATE buckets SET nseq = created * 1000000;"
	"CREATE TABLE nseq_hold(id INTEGER PRIMARY KEY);"
	"CREATE TRIGGER objects_nseq_ins AFTER INSERT ON objects"
	" WHEN NOT EXISTS (SELECT 1 FROM nseq_hold) BEGIN"
	" UPDATE buckets SET nseq = nseq + 1 WHERE id = NEW.bucket_id; END;"
	"CREATE TRIGGER objects_nseq_upd AFTER UPDATE ON objects"
	" WHEN NOT EXISTS (SELECT 1 FROM nseq_hold) BEGIN"
	" UPDATE buckets SET nseq = nseq + 1 WHERE id = NEW.bucket_id;"
	" UPDATE buckets SET nseq = nseq + 1 WHERE id = OLD.bucket_id"
	" AND OLD.bucket_id != NEW.bucket_id; END;"
	"CREATE TRIGGER objects_nseq_del AFTER DELETE ON objects"
	" WHEN NOT EXISTS (SELECT 1 FROM nseq_hold) BEGIN"
	" UPDATE buckets SET nseq = nseq + 1 WHERE id = OLD.bucket_id; END;",
};

/* ---- connections and statements ---- */

static enum ark_err
map_rc(sqlite3 *db, int rc, const char *what)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return ARK_OK;
	case SQLITE_CONSTRAINT:
		return ARK_EEXIST;
	case SQLITE_FULL:
		ark_log_warnx("sqlite: %s: %s", what, sqlite3_errmsg(db));
		return ARK_ENOSPC;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		ark_log_error("sqlite: %s: %s", what, sqlite3_errmsg(db));
		return ARK_ECORRUPT;
	case SQLITE_NOMEM:
		return ARK_ENOMEM;
	default:
		ark_log_warnx("sqlite: %s: %s (%d)", what,
		    db != NULL ? sqlite3_errmsg(db) : "?", rc);
		return ARK_EIO;
	}
}

static sqlite3_stmt *
stmt(struct mconn *c, const char *sql)
{
	sqlite3_stmt	*st;
	size_t		 i;
	int		 rc;

	for (i = 0; i < c->ncache; i++)
		if (c->cache[i].sql == sql) {
			st = c->cache[i].st;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
	rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &st, NULL);
	if (rc != SQLITE_OK)
		ark_fatalx("sqlite: prepare \"%s\": %s", sql,
		    sqlite3_errmsg(c->db));
	if (c->ncache == STMT_CACHE)
		ark_fatalx("sqlite: statement cache full");
	c->cache[c->ncache].sql = sql;
	c->cache[c->ncache].st = st;
	c->ncache++;
	return st;
}

/* Steps a statement that returns no row. */
static enum ark_err
run(struct mconn *c, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
		sqlite3_reset(st);
		return ARK_OK;
	}
	sqlite3_reset(st);
	return map_rc(c->db, rc, sqlite3_sql(st));
}

/* Steps once: ARK_OK with a row, ARK_ENOENT without, or an error. */
static enum ark_err
row(struct mconn *c, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return ARK_OK;
	if (rc == SQLITE_DONE)
		return ARK_ENOENT;
	sqlite3_reset(st);
	return map_rc(c->db, rc, sqlite3_sql(st));
}

static enum ark_err
exec(struct mconn *c, const char *sql)
{
	return run(c, stmt(c, sql));
}

static void
reset_all(struct mconn *c)
{
	sqlite3_stmt *s;

	for (s = sqlite3_next_stmt(c->db, NULL); s != NULL;
	    s = sqlite3_next_stmt(c->db, s))
		if (sqlite3_stmt_busy(s))
			sqlite3_reset(s);
}

static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static void
col_copy(sqlite3_stmt *st, int i, char *out, size_t outlen)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	if (s == NULL)
		s = "";
	strncpy(out, s, outlen - 1);
	out[outlen - 1] = '\0';
}

static char *
col_dup(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return s == NULL ? NULL : ark_xstrdup(s);
}

static enum ark_err
conn_open(const char *path, int create, int sync_full, struct mconn **out)
{
	struct mconn	*c = ark_xcalloc(1, sizeof(*c));
	int		 flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	int		 rc;
	char		*err = NULL;
	const char	*pragmas;

	if (create)
		flags |= SQLITE_OPEN_CREATE;
	/* "unix-excl": the registry is the file's only process (its data
	 * directory is locked), so the WAL index lives in heap memory shared
	 * by this process's connections: a read transaction costs no fcntl()
	 * lock calls. Other processes cannot open the file while it runs. */
	rc = sqlite3_open_v2(path, &c->db, flags, "unix-excl");
	if (rc != SQLITE_OK) {
		ark_log_error("sqlite: open %s: %s", path,
		    c->db != NULL ? sqlite3_errmsg(c->db) : "out of memory");
		sqlite3_close(c->db);
		free(c);
		return rc == SQLITE_CANTOPEN ? ARK_EIO : ARK_ECORRUPT;
	}
	sqlite3_busy_timeout(c->db, 10000);
	sqlite3_extended_result_codes(c->db, 1);
	pragmas = sync_full ?
	    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	    "PRAGMA foreign_keys=ON;" :
	    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	    "PRAGMA foreign_keys=ON;";
	if ((rc = sqlite3_exec(c->db, pragmas, NULL, NULL, &err)) !=
	    SQLITE_OK) {
		ark_log_error("sqlite: %s: %s", path, err ? err : "?");
		sqlite3_free(err);
		sqlite3_close(c->db);
		free(c);
		return (rc & 0xff) == SQLITE_NOTADB ? ARK_ECORRUPT : ARK_EIO;
	}
	*out = c;
	return ARK_OK;
}

static void
conn_close(struct mconn *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->ncache; i++)
		sqlite3_finalize(c->cache[i].st);
	sqlite3_close(c->db);
	free(c);
}

static enum ark_err
reader_get(struct meta *m, struct mconn **out)
{
	struct mconn	*c;
	enum ark_err	 rc;

	pthread_mutex_lock(&m->rmu);
	if ((c = m->readers) != NULL)
		m->readers = c->next;
	pthread_mutex_unlock(&m->rmu);
	if (c == NULL && (rc = conn_open(m->path, 0, m->sync_full, &c)) !=
	    ARK_OK)
		return rc;
	if ((rc = exec(c, "BEGIN")) != ARK_OK) {
		conn_close(c);
		return rc;
	}
	*out = c;
	return ARK_OK;
}

static void
reader_put(struct meta *m, struct mconn *c)
{
	reset_all(c);
	if (exec(c, "COMMIT") != ARK_OK) {
		conn_close(c);
		return;
	}
	pthread_mutex_lock(&m->rmu);
	c->next = m->readers;
	m->readers = c;
	pthread_mutex_unlock(&m->rmu);
}

/* ---- the writer: group commit ---- */

static void
finish_ops(struct meta *m, struct meta_op *ops)
{
	struct meta_op *op, *next;

	(void)m;
	/* One wake-up per caller: a broadcast would also wake every caller
	 * still queued for the next batch. */
	for (op = ops; op != NULL; op = next) {
		next = op->next;	/* op may vanish once posted */
		if (op->cb != NULL) {
			op->cb(op->cb_arg, op->rc);
			free(op);
		} else
			sem_post(&op->done);
	}
}

static void	run_batch_txn(struct meta *, struct mconn *,
		    struct meta_op *, struct meta_op *);

static void
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) != 0)
		ark_log_warn("sqlite: fsync of directory %s", dir);
	if (fd >= 0)
		close(fd);
}

/* Makes every commit so far durable: fdatasync of the WAL, which the
 * writer connection (synchronous=NORMAL) only writes at COMMIT. Writer
 * thread only. */
static enum ark_err
wal_sync(struct meta *m)
{
	uint64_t	 target = atomic_load(&m->committed);
	char		*p;

	if (atomic_load(&m->synced) >= target)
		return ARK_OK;
	if (m->walfd < 0) {
		p = ark_xasprintf("%s-wal", m->path);
		m->walfd = open(p, O_RDONLY | O_CLOEXEC);
		if (m->walfd < 0) {
			ark_log_error("sqlite: open %s: %s", p,
			    strerror(errno));
			free(p);
			return ARK_EIO;
		}
		free(p);
		/* A new WAL's name must be durable too (SQLite syncs the
		 * directory at its first sync of a new journal). */
		p = ark_xstrdup(m->path);
		fsync_dir(dirname(p));
		free(p);
	}
	if (fdatasync(m->walfd) != 0) {
		ark_log_error("sqlite: fsync of %s-wal: %s", m->path,
		    strerror(errno));
		return ARK_EIO;
	}
	atomic_store(&m->synced, target);
	return ARK_OK;
}

/* Syncs and answers a committed batch: durable answers after the fsync
 * (a failed fsync fails them), a batch of lazy ops only before it. */
static void
sync_and_finish(struct meta *m, struct meta_op *ops)
{
	struct meta_op	*op;
	enum ark_err	 rc;
	int		 lazy = 1;

	if (!m->sync_full) {
		finish_ops(m, ops);
		return;
	}
	for (op = ops; op != NULL; op = op->next)
		lazy &= op->lazy;
	if (lazy) {
		finish_ops(m, ops);
		wal_sync(m);
		return;
	}
	if ((rc = wal_sync(m)) != ARK_OK)
		for (op = ops; op != NULL; op = op->next)
			if (op->rc == ARK_OK)
				op->rc = rc;
	finish_ops(m, ops);
}

static void
run_batch(struct meta *m, struct meta_op *ops)
{
	struct mconn	*c = m->wconn;
	struct meta_op	*op, *first = ops;
	uint64_t	 t0 = ark_mono_ns(), n = 0;

	for (op = ops; op != NULL; op = op->next)
		n++;
	ark_metric_observe(m->m_batch, 0, (double)n);
	run_batch_txn(m, c, ops, first);
	atomic_fetch_add(&m->committed, 1);
	ark_metric_inc(m->m_commits, 0);
	ark_metric_observe(m->m_commit_s, 0,
	    (double)(ark_mono_ns() - t0) / 1e9);
	for (op = ops; op != NULL; op = op->next)
		ark_metric_inc(m->m_ops, op->rc == ARK_OK ? 0 : 1);
}

/* The batch in one transaction; each op's result in op->rc. */
static void
run_batch_txn(struct meta *m, struct mconn *c, struct meta_op *ops,
    struct meta_op *first)
{
	struct meta_op	*op;
	enum ark_err	 rc;

	(void)m;
	if ((rc = exec(c, "BEGIN IMMEDIATE")) != ARK_OK) {
		for (op = ops; op != NULL; op = op->next)
			op->rc = rc;
		return;
	}
	for (op = ops; op != NULL; op = op->next) {
		if ((rc = exec(c, "SAVEPOINT op")) == ARK_OK) {
			rc = op->fn(c, op->arg);
			reset_all(c);
			if (rc != ARK_OK && !sqlite3_get_autocommit(c->db))
				exec(c, "ROLLBACK TO op");
			if (!sqlite3_get_autocommit(c->db))
				exec(c, "RELEASE op");
		}
		op->rc = rc;
		if (sqlite3_get_autocommit(c->db)) {
			/* SQLite rolled the whole transaction back (disk
			 * full, I/O error): the earlier operations of the
			 * batch are lost too; go on in a new transaction. */
			struct meta_op *o;

			for (o = first; o != op; o = o->next)
				if (o->rc == ARK_OK)
					o->rc = rc != ARK_OK ? rc : ARK_EIO;
			if (op->rc == ARK_OK)
				op->rc = ARK_EIO;
			first = op->next;
			if (exec(c, "BEGIN IMMEDIATE") != ARK_OK) {
				for (o = op->next; o != NULL; o = o->next)
					o->rc = ARK_EIO;
				return;
			}
		}
	}
	if ((rc = exec(c, "COMMIT")) != ARK_OK) {
		if (!sqlite3_get_autocommit(c->db))
			sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
		for (op = first; op != NULL; op = op->next)
			if (op->rc == ARK_OK)
				op->rc = rc;
	}
}

/* Waits on m->wake for at most ns. m->mu held. */
static void
timedwait_until(struct meta *m, uint64_t ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ns += (uint64_t)ts.tv_nsec;
	ts.tv_sec += (time_t)(ns / 1000000000ULL);
	ts.tv_nsec = (long)(ns % 1000000000ULL);
	pthread_cond_timedwait(&m->wake, &m->mu, &ts);
}

static void *
writer_main(void *arg)
{
	struct meta	*m = arg;
	struct meta_op	*ops, *last;
	unsigned	 n;
	uint64_t	 t0;

	pthread_mutex_lock(&m->mu);
	for (;;) {
		if (m->head == NULL || m->busy) {
			/* Idle, or an inline commit runs: sync what was
			 * committed lazily (within LAZY_SYNC_NS of the first
			 * such commit; after a failed fsync, a second later),
			 * or wait. */
			int want = m->sync_full && atomic_load(&m->synced) <
			    atomic_load(&m->committed);
			uint64_t now = ark_mono_ns(), due = m->lazy_since +
			    LAZY_SYNC_NS;

			if (want && !m->stop && m->lazy_since != 0 &&
			    now < due) {
				timedwait_until(m, due - now);
				continue;
			}
			if (want && (m->stop || now >= m->sync_retry_ns)) {
				enum ark_err rc;

				m->lazy_since = 0;
				pthread_mutex_unlock(&m->mu);
				rc = wal_sync(m);
				pthread_mutex_lock(&m->mu);
				if (rc != ARK_OK)
					m->sync_retry_ns = ark_mono_ns() +
					    1000000000ULL;
				if (rc == ARK_OK || !m->stop)
					continue;
			}
			if (m->stop && m->head == NULL && !m->busy)
				break;
			if (want && !m->stop)
				timedwait_until(m, m->sync_retry_ns - now);
			else
				pthread_cond_wait(&m->wake, &m->mu);
			continue;
		}
		if (!m->stop && m->writers > 1 && m->nqueued < m->writers) {
			/* Group commit: the callers the last commit released
			 * are likely coming back; without waiting for them
			 * they form a second group that alternates with the
			 * first, each commit covering half. Wait (at most
			 * one commit's time, and 5 ms) for as many. */
			uint64_t wait = ARK_MIN(m->commit_ns, 5000000ULL);
			uint64_t from = ARK_MAX(m->first_ns, m->commit_end_ns);
			uint64_t now = ark_mono_ns();

			if (now < from + wait) {
				struct timespec ts;
				uint64_t ns;

				clock_gettime(CLOCK_REALTIME, &ts);
				ns = (uint64_t)ts.tv_nsec + (from + wait - now);
				ts.tv_sec += (time_t)(ns / 1000000000ULL);
				ts.tv_nsec = (long)(ns % 1000000000ULL);
				pthread_cond_timedwait(&m->wake, &m->mu, &ts);
				continue;
			}
		}
		ops = last = m->head;
		for (n = 1; n < m->max_batch && last->next != NULL; n++)
			last = last->next;
		m->head = last->next;
		if (m->head == NULL)
			m->tail = NULL;
		last->next = NULL;
		m->nqueued -= n;
		m->first_ns = m->head != NULL ? ark_mono_ns() : 0;
		m->busy = 1;
		pthread_mutex_unlock(&m->mu);
		t0 = ark_mono_ns();
		run_batch(m, ops);
		sync_and_finish(m, ops);
		t0 = ark_mono_ns() - t0;
		pthread_mutex_lock(&m->mu);
		m->busy = 0;
		m->commit_ns = m->commit_ns == 0 ? t0 :
		    (m->commit_ns * 7 + t0) / 8;
		m->writers = n + m->nqueued;
		m->commit_end_ns = ark_mono_ns();
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

/* Hands op to the writer. */
static void
meta_enqueue(struct meta *m, struct meta_op *op)
{
	pthread_mutex_lock(&m->mu);
	if (m->tail != NULL)
		m->tail->next = op;
	else {
		m->head = op;
		m->first_ns = ark_mono_ns();
	}
	m->tail = op;
	m->nqueued++;
	pthread_cond_signal(&m->wake);
	pthread_mutex_unlock(&m->mu);
}

/* Commits a lazy op on the calling thread when the writer is idle and
 * nothing is queued (the header comment); 0 when it is not. */
static int
run_inline(struct meta *m, struct meta_op *op)
{
	pthread_mutex_lock(&m->mu);
	if (m->busy || m->head != NULL || m->stop) {
		pthread_mutex_unlock(&m->mu);
		return 0;
	}
	m->busy = 1;
	pthread_mutex_unlock(&m->mu);
	op->next = NULL;
	run_batch(m, op);
	finish_ops(m, op);
	pthread_mutex_lock(&m->mu);
	m->busy = 0;
	if (m->lazy_since == 0 || m->head != NULL) {
		if (m->lazy_since == 0)
			m->lazy_since = ark_mono_ns();
		pthread_cond_signal(&m->wake);	/* sync it; run what queued */
	}
	pthread_mutex_unlock(&m->mu);
	return 1;
}

/* Queues fn(arg) for the writer and waits for the commit. */
static enum ark_err
meta_exec(struct meta *m, enum ark_err (*fn)(struct mconn *, void *),
    void *arg)
{
	struct meta_op op;

	memset(&op, 0, sizeof(op));
	op.fn = fn;
	op.arg = arg;
	sem_init(&op.done, 0, 0);
	meta_enqueue(m, &op);
	while (sem_wait(&op.done) != 0)
		;			/* EINTR */
	sem_destroy(&op.done);
	return op.rc;
}

/* ---- open / close / migrations ---- */

static enum ark_err
migrate(struct meta *m)
{
	struct mconn	*c = m->wconn;
	sqlite3_stmt	*st;
	char		*err = NULL;
	int		 v = 0, rc;
	size_t		 i;

	rc = sqlite3_exec(c->db, "CREATE TABLE IF NOT EXISTS schema_version"
	    "(version INTEGER NOT NULL)", NULL, NULL, &err);
	if (rc != SQLITE_OK)
		goto fail;
	st = stmt(c, "SELECT version FROM schema_version");
	if (row(c, st) == ARK_OK)
		v = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	if (v > (int)ARK_ARRAY_SIZE(migrations)) {
		ark_log_error("%s: schema version %d is newer than this "
		    "program (%zu)", m->path, v, ARK_ARRAY_SIZE(migrations));
		return ARK_ECORRUPT;
	}
	for (i = (size_t)v; i < ARK_ARRAY_SIZE(migrations); i++) {
		char *sql = ark_xasprintf("BEGIN IMMEDIATE; %s;"
		    "DELETE FROM schema_version;"
		    "INSERT INTO schema_version VALUES(%zu); COMMIT;",
		    migrations[i], i + 1);

		rc = sqlite3_exec(c->db, sql, NULL, NULL, &err);
		free(sql);
		if (rc != SQLITE_OK) {
			sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
			goto fail;
		}
		ark_log_info("%s: schema migrated to version %zu", m->path,
		    i + 1);
	}
	m->schema = (int)ARK_ARRAY_SIZE(migrations);
	return ARK_OK;
fail:
	ark_log_error("%s: schema: %s", m->path, err ? err : "?");
	sqlite3_free(err);
	return (rc & 0xff) == SQLITE_FULL ? ARK_ENOSPC :
	    (rc & 0xff) == SQLITE_NOTADB ? ARK_ECORRUPT : ARK_EIO;
}

enum ark_err
meta_open(const char *path, const struct meta_opts *opts, struct meta **out)
{
	static _Atomic uint64_t opened;
	struct meta	*m = ark_xcalloc(1, sizeof(*m));
	enum ark_err	 rc;

	/* a meta reopened at a freed one's address must not meet its
	 * memo entries: each instance counts from its own base */
	m->auth_gen = atomic_fetch_add(&opened, 1) << 32;
	m->path = ark_xstrdup(path);
	m->max_batch = opts != NULL && opts->max_batch > 0 ?
	    opts->max_batch : 1024;
	m->sync_full = opts != NULL ? opts->sync_full : 1;
	m->walfd = -1;
	pthread_mutex_init(&m->mu, NULL);
	pthread_mutex_init(&m->rmu, NULL);
	pthread_cond_init(&m->wake, NULL);
	m->m_commits = ark_metric_counter("arkor_registry_commits_total",
	    "Metadata transactions committed by the writer", NULL, 0);
	m->m_ops = ark_metric_counter("arkor_registry_write_ops_total",
	    "Metadata write operations by result", op_label, 1);
	m->m_batch = ark_metric_histogram("arkor_registry_commit_batch_ops",
	    "Write operations per group commit", NULL, 0, batch_bounds,
	    ARK_ARRAY_SIZE(batch_bounds));
	m->m_commit_s = ark_metric_histogram("arkor_registry_commit_seconds",
	    "Time to run and commit one batch", NULL, 0, commit_bounds,
	    ARK_ARRAY_SIZE(commit_bounds));
	if ((rc = conn_open(path, 1, m->sync_full, &m->wconn)) != ARK_OK)
		goto fail;
	if (opts != NULL && opts->max_pages > 0) {
		char *sql = ark_xasprintf("PRAGMA max_page_count = %llu",
		    (unsigned long long)opts->max_pages);

		sqlite3_exec(m->wconn->db, sql, NULL, NULL, NULL);
		free(sql);
	}
	if ((rc = migrate(m)) != ARK_OK)
		goto fail;
	/* From here the writer fsyncs the WAL itself (sync_and_finish). */
	if (m->sync_full && (rc = exec(m->wconn, "PRAGMA synchronous=NORMAL"))
	    != ARK_OK)
		goto fail;
	if (pthread_create(&m->writer, NULL, writer_main, m) != 0) {
		ark_log_error("meta: cannot start the writer thread");
		rc = ARK_EIO;
		goto fail;
	}
	*out = m;
	return ARK_OK;
fail:
	conn_close(m->wconn);
	pthread_mutex_destroy(&m->mu);
	pthread_mutex_destroy(&m->rmu);
	pthread_cond_destroy(&m->wake);
	free(m->path);
	free(m);
	return rc;
}

void
meta_close(struct meta *m)
{
	struct mconn *c;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	m->stop = 1;
	pthread_cond_signal(&m->wake);
	pthread_mutex_unlock(&m->mu);
	pthread_join(m->writer, NULL);
	while ((c = m->readers) != NULL) {
		m->readers = c->next;
		conn_close(c);
	}
	conn_close(m->wconn);
	if (m->walfd >= 0)
		close(m->walfd);
	pthread_mutex_destroy(&m->mu);
	pthread_mutex_destroy(&m->rmu);
	pthread_cond_destroy(&m->wake);
	free(m->path);
	free(m);
}

int
meta_schema_version(struct meta *m)
{
	return m->schema;
}

enum ark_err
meta_check(struct meta *m)
{
	struct mconn	*c;
	sqlite3_stmt	*st;
	enum ark_err	 rc;
	const char	*res;

	if ((rc = reader_get(m, &c)) != ARK_OK)
		return rc;
	st = stmt(c, "PRAGMA quick_check");
	if ((rc = row(c, st)) == ARK_OK) {
		res = (const char *)sqlite3_column_text(st, 0);
		if (res == NULL || strcmp(res, "ok") != 0) {
			ark_log_error("%s: quick_check: %s", m->path,
			    res ? res : "?");
			rc = ARK_ECORRUPT;
		}
	}
	reader_put(m, c);
	return rc;
}

/* ---- shared pieces, run inside a transaction (do_*) ---- */

static enum ark_err
do_counter_add(struct mconn *c, const char *name, int64_t add, int64_t *old)
{
	sqlite3_stmt	*st;
	enum ark_err	 rc;

	st = stmt(c, "SELECT value FROM counters WHERE name = ?1");
	bind_text(st, 1, name);
	if ((rc = row(c, st)) != ARK_OK)
		return rc == ARK_ENOENT ? ARK_ECORRUPT : rc;
	*old = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	st = stmt(c, "UPDATE counters SET value = value + ?2 WHERE name = ?1");
	bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, add);
	return run(c, st);
}

static enum ark_err
do_next_version(struct mconn *c, int64_t *v)
{
	enum ark_err rc;

	if ((rc = do_counter_add(c, "version", 1, v)) == ARK_OK)
		(*v)++;
	return rc;
}

/* The id of bucket `name` and (nseq may be NULL) its change count. */
static enum ark_err
do_bucket_idn(struct mconn *c, const char *name, int64_t *id, int64_t *nseq)
{
	sqlite3_stmt	*st;
	enum ark_err	 rc;

	st = stmt(c, "SELECT id, nseq FROM buckets WHERE name = ?1");
	bind_text(st, 1, name);
	if ((rc = row(c, st)) == ARK_OK) {
		*id = sqlite3_column_int64(st, 0);
		if (nseq != NULL)
			*nseq = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc;
}

static enum ark_err
do_bucket_id(struct mconn *c, const char *name, int64_t *id)
{
	return do_bucket_idn(c, name, id, NULL);
}

/* The change count of bucket bid (meta.h). */
static enum ark_err
do_bucket_nseq(struct mconn *c, int64_t bid, int64_t *nseq)
{
	sqlite3_stmt	*st;
	enum ark_err	 rc;

	st = stmt(c, "SELECT nseq FROM buckets WHERE id = ?1");
	sqlite3_bind_int64(st, 1, bid);
	if ((rc = row(c, st)) == ARK_OK)
		*nseq = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc;
}

static enum ark_err
do_bucket_add(struct mconn *c, int64_t bid, int64_t dobjects, int64_t dbytes)
{
	sqlite3_stmt *st;

	st = stmt(c, "UPDATE buckets SET objects = objects + ?2,"
	    " bytes = bytes + ?3 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, bid);
	sqlite3_bind_int64(st, 2, dobjects);
	sqlite3_bind_int64(st, 3, dbytes);
	return run(c, st);
}

/* Fids of one owner, in order; caller frees *fids. */
struct fidlist {
	char	(*fid)[ARK_FID_MAXLEN];
	size_t	 n, alloc;
};

static void
fidlist_add(struct fidlist *l, const char *fid)
{
	if (l->n == l->alloc) {
		l->alloc = l->alloc ? l->alloc * 2 : 16;
		l->fid = ark_xrealloc(l->fid, l->alloc * sizeof(*l->fid));
	}
	strncpy(l->fid[l->n], fid, ARK_FID_MAXLEN - 1);
	l->fid[l->n][ARK_FID_MAXLEN - 1] = '\0';
	l->n++;
}

/* Moves the fragments of (kind, owner) into `l` and deletes their rows. */
static enum ark_err
do_frags_drop(struct mconn *c, int kind, int64_t owner, struct fidlist *l)
{
	sqlite3_stmt	*st;
	enum ark_err	 rc;

	st = stmt(c, "SELECT fid FROM frags WHERE kind = ?1 AND owner = ?2");
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_int64(st, 2, owner);
	while ((rc = row(c, st)) == ARK_OK)
		fidlist_add(l, (const char *)sqlite3_column_text(st, 0));
	if (rc != ARK_ENOENT)
		return rc;
	st = stmt(c, "DELETE FROM frags WHERE kind = ?1 AND owner = ?2");
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_int64(st, 2, owner);
	return run(c, st);
}

/* Queues each fid of `l` that no row references any more. */
static enum ark_err
do_gc_unreferenced(struct mconn *c, const struct fidlist *l)
{
	sqlite3_stmt	*st;
	enum ark_err	 rc;
	size_t		 i;
	int		 used;

	for (i = 0; i < l->n; i++) {
		st = stmt(c, "SELECT EXISTS(SELECT 1 FROM frags WHERE fid = ?1)");
		bind_text(st, 1, l->fid[i]);
		if ((rc = row(c, st)) != ARK_OK)
			return rc;
		used = sqlite3_column_int(st, 0);
		sqlite3_reset(st);
		if (used)
			continue;
		st = stmt(c, "INSERT OR IGNORE INTO gc(fid, state, attempts,"
		    " next_at, added) VALUES(?1, 0, 0, 0, ?2)");
		bind_text(st, 1, l->fid[i]);
		sqlite3_bind_int64(st, 2, ark_now_ms());
		if ((rc = run(c, st)) != ARK_OK)
			return rc;
	}
	return ARK_OK;
}

/* Inserts fragment rows for (kind, owner), shifting offsets by `shift`
 * and numbering from `idx0`. Fids new to the metadata are checked against
 * the GC queue: queued ones are taken back, taken (being deleted) and
 * deleted ones (tombstones) refused. */
static enum ark_err
do_frags_insert(struct mconn *c, int kind, int64_t owner, int64_t idx0,
    uint64_t shift, const struct meta_frag *f, size_t n, int check_gc)
{
	sqlite3_stmt	*st;
	enum ark_err	 rc;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (check_gc) {
			st = stmt(c, "SELECT state FROM gc WHERE fid = ?1");
			bind_text(st, 1, f[i].fid);
			rc = row(c, st);
			if (rc == ARK_OK && sqlite3_column_int(st, 0) != 0) {
				sqlite3_reset(st);
				return ARK_EAGAIN;
			}
			sqlite3_reset(st);
			if (rc == ARK_OK) {
				st = stmt(c, "DELETE FROM gc WHERE fid = ?1");
				bind_text(st, 1, f[i].fid);
				if ((rc = run(c, st)) != ARK_OK)
					return rc;
			} else if (rc != ARK_ENOENT)
				return rc;
			/* Committed: no longer a candidate for expiry. */
			st = stmt(c, "DELETE FROM assigned WHERE fid = ?1");
			bind_text(st, 1, f[i].fid);
			if ((rc = run(c, st)) != ARK_OK)
				return rc;
		}
		st = stmt(c, "INSERT INTO frags(kind, owner, idx, fid, off, len,"
		    " crc) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
		sqlite3_bind_int(st, 1, kind);
		sqlite3_bind_int64(st, 2, owner);
		sqlite3_bind_int64(st, 3, idx0 + (int64_t)i);
		bind_text(st, 4, f[i].fid);
		sqlite3_bind_int64(st, 5, (int64_t)(f[i].offset + shift));
		sqlite3_bind_int64(st, 6, (int64_t)f[i].length);
		sqlite3_bind_int64(st, 7, f[i].crc32c);
		if ((rc = run(c, st)) != ARK_OK)
			return rc;
	}
	return ARK_OK;
}

/* Reads the fragments of (kind, owner) in order; caller frees *out. */
static enum ark_err
do_frags_load(struct mconn *c, int kind, int64_t owner,
    struct meta_frag **out, size_t *nout)
{
	sqlite3_stmt	*st;
	struct meta_frag *f = NULL;
	size_t		 n = 0, alloc = 0;
	enum ark_err	 rc;

	st = stmt(c, "SELECT fid, off, len, crc FROM frags"
	    " WHERE kind = ?1 AND owner = ?2 ORDER BY idx");
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_int64(st, 2, owner);
	while ((rc = row(c, st)) == ARK_OK) {
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 4;
			f = ark_xrealloc(f, alloc * sizeof(*f));
		}
		col_copy(st, 0, f[n].fid, sizeof(f[n].fid));
		f[n].offset = (uint64_t)sqlite3_column_int64(st, 1);
		f[n].length = (uint64_t)sqlite3_column_int64(st, 2);
		f[n].crc32c = (uint32_t)sqlite3_column_int64(st, 3);
		n++;
	}
	if (rc != ARK_ENOENT) {
		free(f);
		return rc;
	}
	*out = f;
	*nout = n;
	return ARK_OK;
}

/* ---- FileID keys ---- */

struct a_reserve {
	uint64_t	 count;
	uint64_t	 first;
};

static enum ark_err
do_fid_reserve(struct mconn *c, void *arg)
{
	struct a_reserve	*a = arg;
	int64_t			 old;
	enum ark_err		 rc;

	if ((rc = do_counter_add(c, "fid_next", (int64_t)a->count, &old)) ==
	    ARK_OK)
		a->first = (uint64_t)old;
	return rc;
}

enum ark_err
meta_fid_reserve(struct meta *m, uint64_t count, uint64_t *first)
{
	struct a_reserve	a = { count, 0 };
	enum ark_err		rc;

	if (count == 0 || count > (1u << 20))
		return ARK_EINVAL;
	if ((rc = meta_exec(m, do_fid_reserve, &a)) == ARK_OK)
		*first = a.first;
	return rc;
}

/* ---- users and keys ---- */

static int
name_ok(const char *s, size_t max)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > max)
		return 0;
	return 1;
}

static void
user_row(sqlite3_stmt *st, struct meta_user *u)
{
	u->id = sqlite3_column_int64(st, 0);
	col_copy(st, 1, u->name, sizeof(u->name));
	u->admin = sqlite3_column_int(st, 2);
	u->created_ms = sqlite3_column_int64(st, 3);
}

struct a_user {
	const char	*name;
	int		 admin;
	struct meta_user *out;
};

static enum ark_err
do_user_create(struct mconn *c, void *arg)
{
	struct a_user	*a = arg;
	sqlite3_stmt	*st;
	enum ark_err	 rc;

	st = stmt(c, "INSERT INTO users(name, admin, created)"
	    " VALUES(?1, ?2, ?3)");
	bind_text(st, 1, a->name);
	sqlite3_bind_int(st, 2, a->admin ? 1 : 0);
	sqlite3_bind_int64(st, 3, ark_now_ms());
	if ((rc = run(c, st)) != ARK_OK)
		return rc;
	if (a->out != NULL) {
		st = stmt(c, "SELECT id, name, admin, created FROM users"
		    " WHERE name = ?1");
		bind_text(st, 1, a->name);
		if ((rc = row(c, st)) != ARK_OK)
			return rc;
		user_row(st, a->out);
	}
	return ARK_OK;
}

enum ark_err
meta_user_create(struct meta *m, const char *name, int admin,
    struct meta_user *out)
{
	struct a_user a = { name, admin, out };

	if (!name_ok(name, META_USER_MAX))
		return ARK_EINVAL;
	return meta_exec(m, do_user_create, &a);
}

enum ark_err
meta_user_get(struct meta *m, const char *name, struct meta_user *out)
{
	struct mconn	*c;
	sqlite3_stmt	*st;
	enum ark_err	 rc;

	if ((rc = reader_get(m, &c)) != ARK_OK)
		return rc;
	st = stmt(c, "SELECT id, name, admin, created FROM users"
	    " WHERE name = ?1");
	bind_text(st, 1, name);
	if ((rc = row(c, st)) == ARK_OK)
		user_row(st, out);
	reader_put(m, c);
	return rc;
}

enum ark_err
meta_user_list(struct meta *m, int (*cb)(void *, const struct meta_user *),
    void *arg)
{
	struct mconn		*c;
	sqlite3_stmt		*st;
	struct meta_user	 u;
	enum ark_err		 rc;

	if ((rc = reader_get(m, &c)) != ARK_OK)
		return rc;
	st = stmt(c, "SELECT id, name, admin, created FROM users ORDER BY name");
	while ((rc = row(c, st)) == ARK_OK) {
		user_row(st, &u);
		if (cb(arg, &u) != 0)
			break;
	}
	reader_put(m, c);
	return rc == ARK_ENOENT ? ARK_OK : rc;
}

static enum ark_err
do_user_delete(struct mconn *c, void *arg)
{
	struct a_user	*a = arg;
	sqlite3_stmt	*st;
	enum ark_err	 rc;
	int64_t		 id;

	st = stmt(c, "SELECT id FROM users WHERE name = ?1");
	bind_text(st, 1, a->name);
	if ((rc = row(c, st)) != ARK_OK)
		return rc;
	id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	st = stmt(c, "SELECT EXISTS(SELECT 1 FROM buckets WHERE owner_id = ?1)");
	sqlite3_bind_int64(st, 1, id);
	if ((rc = row(c, st)) != ARK_OK)
		return rc;
	if (sqlite3_column_int(st, 0))
		return ARK_EEXIST;
	st = stmt(c, "DELETE FROM users WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	return run(c, st);
}

enum ark_err
meta_user_delete(struct meta *m, const char *name)
{
	struct a_user a = { name, 0, NULL };
	enum ark_err rc;

	rc = meta_exec(m, do_user_delete, &a);
	atomic_fetch_add(&m->auth_gen, 1);
	return rc;
}

struct a_key {
	const char	*user, *key_id, *secret;
	int		 readonly;
};

static enum ark_err
do_key_create(struct mconn *c, void *arg)
{
	struct a_key	*a = arg;
	sqlite3_stmt	*st;
	enum ark_err	 rc;
	int64_t		 uid;

	st = stmt(c, "SELECT id FROM users WHERE name = ?1");
	bind_text(st, 1, a->user);
	if ((rc = row(c, st)) != ARK_OK)
		return rc;
	uid = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	st = stmt(c, "INSERT INTO access_keys(key_id, user_id, secret,"
	    " readonly, created) VALUES(?1, ?2, ?3, ?4, ?5)");
	bind_text(st, 1, a->key_id);
	sqlite3_bind_int64(st, 2, uid);
	bind_text(st, 3, a->secret);
	sqlite3_bind_int(st, 4, a->readonly ? 1 : 0);
	sqlite3_bind_int64(st, 5, ark_now_ms());
	return run(c, st);
}

enum ark_err
meta_key_create(struct meta *m, const char *user, const char *key_id,
    const char *secret, int readonly)
{
	struct a_key a = { user, key_id, secret, readonly };

	if (!name_ok(key_id, META_KEYID_MAX) ||
	    !name_ok(secret, META_SECRET_MAX) || user == NULL)
		return ARK_EINVAL;
	return meta_exec(m, do_key_create, &a);
}

#define KEY_COLS "SELECT k.key_id, k.secret, u.name, u.id, u.admin," \
	" k.readonly, k.created FROM access_keys k JOIN users u" \
	" ON u.id = k.user_id"

static void
key_row(sqlite3_stmt *st, struct meta_key *k)
{
	col_copy(st, 0, k->key_id, sizeof(k->key_id));
	col_copy(st, 1, k->secret, sizeof(k->secret));
	col_copy(st, 2, k->user, sizeof(k->user));
	k->user_id = sqlite3_column_int64(st, 3);
	k->admin = sqlite3_column_int(st, 4);
	k->readonly = sqlite3_column_int(st, 5);
	k->created_ms = sqlite3_column_int64(st, 6);
}

/*
 * Every signed registry request looks its access key up, and keys change
 * rarely: each thread remembers a few, found by key id. An entry holds
 * the auth_gen read before its row was, and counts only while auth_gen
 * is unchanged: meta_key_delete and meta_user_delete bump it once their
 * commit is done, so a revoked key is refused from the next request on.
 * MEMO_MS bounds an entry's life for changes made behind this
 * process's back (another process on the same database file).
 */
#define KEY_MEMO	16
#define MEMO_MS		2000

/* What a memo entry (key_memo, bucket_memo) was read under. */
struct memo_tag {
	const struct meta *m;
	uint64_t	 gen;
	int64_t		 until_ms;
};

static int
memo_holds(const struct memo_tag *t, const struct meta *m, uint64_t gen,
    int64_t now)
{
	return t->m == m && t->gen == gen && t->until_ms > now;
}

static void
memo_tag_set(struct memo_tag *t, const struct meta *m, uint64_t gen,
    int64_t now)
{
	t->m = m;
	t->gen = gen;
	t->until_ms = now + MEMO_MS;
}

struct key_memo {
	struct memo_tag	 tag;
	struct meta_key	 key;
};
static _Thread_local struct key_memo key_memo[KEY_MEMO];

enum ark_err
meta_key_get(struct meta *m, const char *key_id, struct meta_key *out)
{
	struct key_memo	*km;
	struct mconn	*c;
	sqlite3_stmt	*st;
	enum ark_err	 rc;
	uint64_t	 gen = atomic_load(&m->auth_gen);
	int64_t		 now = ark_now_ms();

	km = &key_memo[ark_fnv1a(ARK_FNV_INIT, key_id) % KEY_MEMO];
	if (memo_holds(&km->tag, m, gen, now) &&
	    strcmp(km->key.key_id, key_id) == 0) {
		*out = km->key;
		return ARK_OK;
	}
	if ((rc = reader_get(m, &c)) != ARK_OK)
		return rc;
	st = stmt(c, KEY_COLS " WHERE k.key_id = ?1");
	bind_text(st, 1, key_id);
	if ((rc = row(c, st)) == ARK_OK)
		key_row(st, out);
	reader_put(m, c);
	if (rc == ARK_OK) {
		memo_tag_set(&km->tag, m, gen, now);
		km->key = *out;
	}
	return rc;
}

enum ark_err
meta_key_list(struct meta *m, const char *user,
    int (*cb)(void *, const struct meta_key *), void *arg)
{
	struct mconn	*c;
	sqlite3_stmt	*st;
	struct meta_key	 k;
	enum ark_err	 rc;

	if ((rc = reader_get(m, &c)) != ARK_OK)
		return rc;
	st = stmt(c, KEY_COLS " WHERE ?1 IS NULL OR u.name = ?1"
	    " ORDER BY u.name, k.key_id");
	bind_text(st, 1, user);
	while ((rc = row(c, st)) == ARK_OK) {
		key_row(st, &k);
		if (cb(arg, &k) != 0)
			break;
	}
	reader_put(m, c);
	return rc == ARK_ENOENT ? ARK_OK : rc;
}

static enum ark_err
do_key_delete(struct mconn *c, void *arg)
{
	struct a_key	*a = arg;
	sqlite3_stmt	*st;
	enum ark_err	 rc;

	st = stmt(c, "DELETE FROM access_keys WHERE key_id = ?1");
	bind_text(st, 1, a->key_id);
	if ((rc = run(c, st)) != ARK_OK)
		return rc;
	return sqlite3_changes(c->db) > 0 ? ARK_OK : ARK_ENOENT;
}

enum ark_err
meta_key_delete(struct meta *m, const char *key_id)
{
	struct a_key a = { NULL, key_id, NULL, 0 };
	enum ark_err rc;

	rc = meta_exec(m, do_key_delete, &a);
	atomic_fetch_add(&m->auth_gen, 1);
	return rc;
}

/* ---- buckets ---- */

struct a_bucket {
	const char	*name, *owner;
	enum meta_acl	 acl;
};

static enum ark_err
do_bucket_create(struct mconn *c, void *arg)
{
	struct a_bucket	*a = arg;
	sqlite3_stmt	*st;
	enum ark_err	 rc;
	int64_t		 uid;

	st = stmt(c, "SELECT id FROM users WHERE name = ?1");
	bind_text(st, 1, a->owner);
	if ((rc = row(c, st)) != ARK_OK)
		return rc;
	uid = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	st = stmt(c, "INSERT INTO buckets(name, owner_id, acl, created, nseq)"
	    " VALUES(?1, ?2, ?3, ?4, ?4 * 1000000)");
	bind_text(st, 1, a->name);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_int(st, 3, (int)a->acl);
	sqlite3_bind_int64(st, 4, ark_now_ms());
	return run(c, st);
}

enum ark_err
meta_bucket_create(struct meta *m, const char *name, const char *owner,
    enum meta_acl acl)
{
	struct a_bucket a = { name, owner, acl };
	enum ark_err	rc;

	if (!name_ok(name, META_BUCKET_MAX) || owner == NULL ||
	    (acl != META_ACL_PRIVATE && acl != META_ACL_PUBLIC_READ))
		return ARK_EINVAL;
	rc = meta_exec(m, do_bucket_create, &a);
	atomic_fetch_add(&m->auth_gen, 1);
	return rc;
}

#define BUCKET_COLS "SELECT b.id, b.name, u.name, b.acl, b.created," \
	" b.objects, b.bytes, b.nseq" \
	" FROM buckets b JOIN users u ON u.id = b.owner_id"

static void
bucket_row(sqlite3_stmt *st, struct meta_bucket *b)
{
	b->id = sqlite3_column_int64(st, 0);
	col_copy(st, 1, b->name, sizeof(b->name));
	col_copy(st, 2, b->owner, sizeof(b->owner));
	b->acl = (enum meta_acl)sqlite3_column_int(st, 3);
	b->created_ms = sqlite3_column_int64(st, 4);
	b->objects = (uint64_t)sqlite3_column_int64(st, 5);
	b->bytes = (uint64_t)sqlite3_column_int64(st, 6);
	b->nseq = sqlite3_column_int64(st, 7);
}

enum ark_err
meta_bucket_get(struct meta *m, const char *name, struct meta_bucket *out)
{
	struct mconn	*c;
	sqlite3_stmt	*st;
	enum ark_err	 rc;

	if ((rc = reader_get(m, &c)) != ARK_OK)
		return rc;
	st = stmt(c, BUCKET_COLS " WHERE b.name = ?1");
	bind_text(st, 1, name);
	if ((rc = row(c, st)) == ARK_OK)
		bucket_row(st, out);
	reader_put(m, c);
	return rc;
}

/*
 * Every object request checks its bucket's owner and ACL, which change
 * rarely: each thread remembers a few buckets, as key_memo keys (the
 * same auth_gen, bumped by bucket create, delete and set_acl).
 */
#define BUCKET_MEMO	16
struct bucket_memo {
	struct memo_tag	 tag;
	struct meta_bucket b;
};
static _Thread_local struct bucket_memo bucket_memo[BUCKET_MEMO];

enum ark_err
meta_bucket_access(struct meta *m, const char *name, struct meta_bucket *out)
{
	struct bucket_memo *bm;
	uint64_t	 gen = atomic_load(&m->auth_gen);
	int64_t		 now = ark_now_ms();
	enum ark_err	 rc;

	bm = &bucket_memo[ark_fnv1a(ARK_FNV_INIT, name) % BUCKET_MEMO];
	if (memo_holds(&bm->tag, m, gen, now) &&
	    strcmp(bm->b.name, name) == 0) {
		*out = bm->b;
		return ARK_OK;
	}
	if ((rc = meta_bucket_get(m, name, out)) == ARK_OK) {
		memo_tag_set(&bm->tag, m, gen, now);
		bm->b = *out;
	}
	return rc;
}

enum ark_err
meta_bucket_list(struct meta *m, const char *owner,
    int (*cb)(void *, const struct meta_bucket *), void *arg)
{
	struct mconn		*c;
	sqlite3_stmt		*st;
	struct meta_bucket	 b;
	enum ark_err		 rc;

	if ((rc = reader_get(m, &c)) != ARK_OK)
		return rc;
	st = stmt(c, BUCKET_COLS " WHERE ?1 IS NULL OR u.name = ?1"
	    " ORDER BY b.name");
	bind_text(st, 1, owner);
	while ((rc = row(c, st)) == ARK_OK) {
		bucket_row(st, &b);
		if (cb(arg, &b) != 0)
			break;
	}
	reader_put(m, c);
	return rc == ARK_ENOENT ? ARK_OK : rc;
}

static enum ark_err
do_bucket_set_acl(struct mconn *c, void *arg)
{
	struct a_bucket	*a = arg;
	sqlite3_stmt	*st;
	enum ark_err	 rc;

	st = stmt(c, "UPDATE buckets SET acl = ?2 WHERE name = ?1");
	bind_text(st, 1, a->name);
	sqlite3_bind_int(st, 2, (int)a->acl);
	if ((rc = run(c, st)) != ARK_OK)
		return rc;
	return sqlite3_changes(c->db) > 0 ? ARK_OK : ARK_ENOENT;
}

enum ark_err
meta_bucket_set_acl(struct meta *m, const char *name, enum meta_acl acl)
{
	struct a_bucket a = { name, NULL, acl };

	enum ark_err	rc;

	if (acl != META_ACL_PRIVATE && acl != META_ACL_PUBLIC_READ)
		return ARK_EINVAL;
	rc = meta_exec(m, do_bucket_set_acl, &a);
	atomic_fetch_add(&m->auth_gen, 1);
	return rc;
}

static enum ark_err
do_bucket_delete(struct mconn *c, void *arg)
{
	struct a_bucket	*a = arg;
	sqlite3_stmt	*st;
	enum ark_err	 rc;
	int64_t		 bid;

	if ((rc = do_bucket_id(c, a->name, &bid)) != ARK_OK)
		return rc;
	st = stmt(c, "SELECT EXISTS(SELECT 1 FROM objects WHERE bucket_id = ?1)"
	    " OR EXISTS(SELECT 1 FROM uploads WHERE bucket_id = ?1)");
	sqlite3_bind_int64(st, 1, bid);
	if ((rc = row(c, st)) != ARK_OK)
		return rc;
	if (sqlite3_column_int(st, 0))
		return ARK_EEXIST;
	st = stmt(c, "DELETE FROM buckets WHERE id = ?1");
	sqlite3_bind_int64(st, 1, bid);
	return run(c, st);
}

enum ark_err
meta_bucket_delete(struct meta *m, const char *name)
{
	struct a_bucket a = { name, NULL, META_ACL_PRIVATE };
	enum ark_err	rc;

	rc = meta_exec(m, do_bucket_delete, &a);
	atomic_fetch_add(&m->auth_gen, 1);
	return rc;
}

enum ark_err
meta_bucket_conf_get(struct meta *m, const char *name,
    struct meta_bucket_conf *out)
{
	struct mconn	*c;
	sqlite3_stmt	*st;
	enum ark_err	 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = reader_get(m, &c)) != ARK_OK)
		return rc;
	st = stmt(c, "SELECT tags, cors FROM buckets WHERE name = ?1");
	bind_text(st, 1, name);
	if ((rc = row(c, st)) == ARK_OK) {
		out->tags = col_dup(st, 0);
		out->cors = col_dup(st, 1);
	}
	reader_put(m, c);
	return rc;
}

void
meta_bucket_conf_clear(struct meta_bucket_conf *c)
{
	free(c->tags);
	free(c->cors);
	memset(c, 0, sizeof(*c));
}

struct a_bconf {
	const char	*name, *tags, *cors;
};

static enum ark_err
do_bucket_conf_set(struct mconn *c, void *arg)
{
	struct a_bconf	*a = arg;
	sqlite3_stmt	*st;
	enum ark_err	 rc;

	st = stmt(c, "UPDATE buckets SET"
	    " tags = CASE WHEN ?2 IS NULL THEN tags ELSE nullif(?2, '') END,"
	    " cors = CASE WHEN ?3 IS NULL THEN cors ELSE nullif(?3, '') END"
	    " WHERE name = ?1");
	bind_text(st, 1, a->name);
	bind_text(st, 2, a->tags);
	bind_text(st, 3, a->cors);
	if ((rc = run(c, st)) != ARK_OK)
		return rc;
	return sqlite3_changes(c->db) > 0 ? ARK_OK : ARK_ENOENT;
}

enum ark_err
meta_bucket_conf_set(struct meta *m, const char *name, const char *tags,
    const char *cors)
{
	struct a_bconf a = { name, tags, cors };

	if ((tags != NULL && strlen(tags) > META_BUCKET_CONF_MAX) ||
	    (cors != NULL && strlen(cors) > META_BUCKET_CONF_MAX))
		return ARK_EINVAL;
	return meta_exec(m, do_bucket_conf_set, &a);
}

/* ---- objects ---- */

void
meta_object_clear(struct meta_object *o)
{
	if (o == NULL)
		return;
	free(o->key);
	free(o->user_meta);
	free(o->checksums);
	free(o->tags);
	free(o->headers);
	free(o->parts);
	free(o->frags);
	memset(o, 0, sizeof(*o));
}

#define OBJ_COLS "SELECT id, key, version, size, etag, ctype, umeta," \
	" cksums, mode, uid, gid, mtime, created, tags, headers, parts" \
	" FROM objects"

static void
object_row(sqlite3_stmt *st, struct meta_object *o, int64_t *id)
{
	*id = sqlite3_column_int64(st, 0);
	o->key = col_dup(st, 1);
	o->version = sqlite3_column_int64(st, 2);
	o->size = (uint64_t)sqlite3_column_int64(st, 3);
	col_copy(st, 4, o->etag, sizeof(o->etag));
	col_copy(st, 5, o->ctype, sizeof(o->ctype));
	o->user_meta = col_dup(st, 6);
	o->checksums = col_dup(st, 7);
	o->mode = (uint32_t)sqlite3_column_int64(st, 8);
	o->uid = (uint32_t)sqlite3_column_int64(st, 9);
	o->gid = (uint32_t)sqlite3_column_int64(st, 10);
	o->mtime_ms = sqlite3_column_int64(st, 11);
	o->created_ms = sqlite3_column_int64(st, 12);
	o->tags = col_dup(st, 13);
	o->headers = col_dup(st, 14);
	o->parts = col_dup(st, 15);
}

/* Loads bucket_id/key with its fragments into *o (caller clears). */
static enum ark_err
do_object_load(struct mconn *c, int64_t bid, const char *key,
    struct meta_object *o, int64_t *id)
{
	sqlite3_stmt	*st;
	enum ark_err	 rc;

	memset(o, 0, sizeof(*o));
	st = stmt(c, OBJ_COLS " WHERE bucket_id = ?1 AND key = ?2");
	sqlite3_bind_int64(st, 1, bid);
	bind_text(st, 2, key);
	if ((rc = row(c, st)) != ARK_OK)
		return rc;
	object_row(st, o, id);
	sqlite3_reset(st);
	if ((rc = do_frags_load(c, FRAG_OBJECT, *id, &o->frags,
	    &o->nfrags)) != ARK_OK)
		meta_object_clear(o);
	return rc;
}

/* Current (id, version, size) of a key: ARK_ENOENT when absent. */
static enum ark_err
do_object_find(struct mconn *c, int64_t bid, const char *key, int64_t *id,
    int64_t *version, int64_t *size)
{
	sqlite3_stmt	*st;
	enum ark_err	 rc;

	st = stmt(c, "SELECT id, version, size FROM objects"
	    " WHERE bucket_id = ?1 AND key = ?2");
	sqlite3_bind_int64(st, 1, bid);
	bind_text(st, 2, key);
	if ((rc = row(c, st)) == ARK_OK) {
		*id = sqlite3_column_int64(st, 0);
		*version = sqlite3_column_int64(st, 1);
		*size = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	return rc;
}

static enum ark_err
check_version(enum ark_err found, int64_t have, int64_t want)
{
	if (want == META_ANY)
		return ARK_OK;
	if (want == META_ABSENT)
		return found == ARK_ENOENT ? ARK_OK : ARK_EEXIST;
	if (found == ARK_ENOENT)
		return ARK_ENOENT;
	return have == want ? ARK_OK : ARK_EEXIST;
}

/* Removes object `id` (size `size`) of bucket `bid`; its fragments that
 * nothing else references go to the GC queue. */
static enum ark_err
do_object_remove(struct mconn *c, int64_t bid, int64_t id, int64_t size)
{
	struct fidlist	 l = { NULL, 0, 0 };
	sqlite3_stmt	*st;
	enum ark_err	 rc;

	if ((rc = do_frags_drop(c, FRAG_OBJECT, id, &l)) != ARK_OK)
		goto out;
	st = stmt(c, "DELETE FROM objects WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	if ((rc = run(c, st)) != ARK_OK)
		goto out;
	if ((rc = do_bucket_add(c, bid, -1, -size)) != ARK_OK)
		goto out;
	rc = do_gc_unreferenced(c, &l);
out:
	free(l.fid);
	return rc;
}

/*
 * The commit: writes `o` as the new version of (bid, key). `check_gc` is
 * 0 when the fragments come from existing rows (copy, multipart complete)
 * and so cannot be in the GC queue.
 */
static enum ark_err
do_object_write(struct mconn *c, int64_t bid, const char *key,
    const struct meta_object *o, int64_t if_version, int check_gc,
    int64_t *version)
{
	struct fidlist	 l = { NULL, 0, 0 };
	sqlite3_stmt	*st;
	enum ark_err	 rc, found;
	int64_t		 id = 0, have = 0, oldsize = 0, v, now = ark_now_ms();

	found = do_object_find(c, bid, key, &id, &have, &oldsize);
	if (found != ARK_OK && found != ARK_ENOENT)
		return found;
	if ((rc = check_version(found, have, if_version)) != ARK_OK)
		return rc;
	if ((rc = do_next_version(c, &v)) != ARK_OK)
		return rc;
	if (found == ARK_OK) {
		if ((rc = do_frags_drop(c, FRAG_OBJECT, id, &l)) != ARK_OK)
			goto out;
		st = stmt(c, "UPDATE objects SET version = ?2, size = ?3,"
		    " etag = ?4, ctype = ?5, umeta = ?6, cksums = ?7, mode = ?8,"
		    " uid = ?9, gid = ?10, mtime = ?11, created = ?12,"
		    " tags = ?15, headers = ?16, parts = ?17 WHERE id = ?1");
		sqlite3_bind_int64(st, 1, id);
	} else {
		st = stmt(c, "INSERT INTO objects(version, size, etag, ctype,"
		    " umeta, cksums, mode, uid, gid, mtime, created, bucket_id,"
		    " key, tags, headers, parts) VALUES(?2, ?3, ?4, ?5, ?6, ?7,"
		    " ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)");
		sqlite3_bind_int64(st, 13, bid);
		bind_text(st, 14, key);
	}
	sqlite3_bind_int64(st, 2, v);
	sqlite3_bind_int64(st, 3, (int64_t)o->size);
	bind_text(st, 4, o->etag);
	bind_text(st, 5, o->ctype);
	bind_text(st, 6, o->user_meta);
	bind_text(st, 7, o->checksums);
	sqlite3_bind_int64(st, 8, o->mode);
	sqlite3_bind_int64(st, 9, o->uid);
	sqlite3_bind_int64(st, 10, o->gid);
	sqlite3_bind_int64(st, 11, o->mtime_ms);
	sqlite3_bind_int64(st, 12, now);
	bind_text(st, 15, o->tags);
	bind_text(st, 16, o->headers);
	bind_text(st, 17, o->parts);
	if ((rc = run(c, st)) != ARK_OK)
		goto out;
	if (found != ARK_OK)
		id = sqlite3_last_insert_rowid(c->db);
	if ((rc = do_frags_insert(c, FRAG_OBJECT, id, 0, 0, o->frags,
	    o->nfrags, check_gc)) != ARK_OK)
		goto out;
	if ((rc = do_bucket_add(c, bid, found == ARK_OK ? 0 : 1,
	    (int64_t)o->size - oldsize)) != ARK_OK)
		goto out;
	if ((rc = do_gc_unreferenced(c, &l)) != ARK_OK)
		goto out;
	if (version != NULL)
		*version = v;
out:
	free(l.fid);
	return rc;
}

struct a_obj {
	const char		*bucket, *key;
	const struct meta_object *o;
	const struct meta_attrs	*attrs;
	int64_t			 if_version;
	int64_t			*version;
	struct meta_object	*out;		/* setattr: the result */
	int64_t			*nseq;		/* [2] or NULL (meta.h) */
};

/* Runs one write on an object of a->bucket: a->nseq (when asked) gets the
 * bucket's change count before and after it. */
static enum ark_err
do_object_counted(struct mconn *c, struct a_obj *a,
    enum ark_err (*fn)(struct mconn *, struct a_obj *, int64_t))
{
	enum ark_err	 rc;
	int64_t		 bid, n0 = 0;

	if ((rc = do_bucket_idn(c, a->bucket, &bid, &n0)) != ARK_OK)
		return rc;
	if ((rc = fn(c, a, bid)) != ARK_OK || a->nseq == NULL)
		return rc;
	a->nseq[0] = n0;
	return do_bucket_nseq(c, bid, &a->nseq[1]);
}

static enum ark_err
do_object_put1(struct mconn *c, struct a_obj *a, int64_t bid)
{
	return do_object_write(c, bid, a->key, a->o, a->if_version, 1,
	    a->version);
}

static enum ark_err
do_object_put(struct mconn *c, void *arg)
{
	return do_object_counted(c, arg, do_object_put1);
}

static int
key_ok(const char *key)
{
	return name_ok(key, META_OBJKEY_MAX);
}

/* The synchronous calls wait for their *_async twin with a waiter. */
struct waiter {
	sem_t		 done;
	enum ark_err	 rc;
};

static void
waiter_init(struct waiter *w)
{
	sem_init(&w->done, 0, 0);
	w->rc = ARK_OK;
}

static void
waiter_done(void *arg, enum ark_err rc)
{
	struct waiter *w = arg;

	w->rc = rc;
	sem_post(&w->done);
}

/* The result: rc if the op was refused before it was queued. */
static enum ark_err
waiter_wait(struct waiter *w, enum ark_err rc)
{
	if (rc == ARK_OK) {
		while (sem_wait(&w->done) != 0)
			;		/* EINTR */
		rc = w->rc;
	}
	sem_destroy(&w->done);
	return rc;
}

enum ark_err
meta_object_put(struct meta *m, const char *bucket, const char *key,
    const struct meta_object *o, int64_t if_version, int64_t *version)
{
	struct waiter	w;
	enum ark_err	rc;

	waiter_init(&w);
	rc = meta_object_put_async(m, bucket, key, o, if_version, version,
	    NULL, 0, waiter_done, &w);
	return waiter_wait(&w, rc);
}

/* Runs fn on a copy of the alen bytes at a without waiting: cb(arg, rc)
 * after the commit (meta.h's *_async contract). */
static void
meta_async(struct meta *m, enum ark_err (*fn)(struct mconn *, void *),
    const void *a, size_t alen, int lazy,
    void (*cb)(void *arg, enum ark_err rc), void *arg)
{
	/* The op first (finish_ops frees it), the arguments after it. */
	struct meta_op *op = ark_xcalloc(1, sizeof(*op) + alen);

	if (alen > 0)
		memcpy(op + 1, a, alen);
	op->fn = fn;
	op->arg = op + 1;
	op->lazy = lazy;
	op->cb = cb;
	op->cb_arg = arg;
	if (!lazy || !run_inline(m, op))
		meta_enqueue(m, op);
}

enum ark_err
meta_object_put_async(struct meta *m, const char *bucket, const char *key,
    const struct meta_object *o, int64_t if_version, int64_t *version,
    int64_t *nseq, int lazy, void (*cb)(void *arg, enum ark_err rc),
    void *arg)
{
	struct a_obj	a;
	size_t		i;

	if (!key_ok(key) || bucket == NULL || o == NULL)
		return ARK_EINVAL;
	for (i = 0; i < o->nfrags; i++)
		if (o->frags[i].fid[0] == '\0')
			return ARK_EINVAL;
	memset(&a, 0, sizeof(a));
	a.bucket = bucket;
	a.key = key;
	a.o = o;
	a.if_version = if_version;
	a.version = version;
	a.nseq = nseq;
	meta_async(m, do_object_put, &a, sizeof(a), lazy, cb, arg);
	return ARK_OK;
}

enum ark_err
meta_object_get(struct meta *m, const char *bucket, const char *key,
    struct meta_object *out)
{
	struct mconn	*c;
	enum ark_err	 rc;
	int64_t		 bid, id, nseq;

	memset(out, 0, sizeof(*out));
	if ((rc = reader_get(m, &c)) != ARK_OK)
		return rc;
	if ((rc = do_bucket_idn(c, bucket, &bid, &nseq)) == ARK_OK) {
		rc = do_object_load(c, bid, key, out, &id);
		out->nseq = nseq;	/* read first: no change is missed */
	}
	reader_put(m, c);
	return rc;
}

static enum ark_err
do_object_delete1(struct mconn *c, struct a_obj *a, int64_t bid)
{
	enum ark_err	 rc;
	int64_t		 id, have, size;

	if ((rc = do_object_find(c, bid, a->key, &id, &have, &size)) != ARK_OK)
		return rc;
	if ((rc = check_version(ARK_OK, have, a->if_version)) != ARK_OK)
		return rc;
	return do_object_remove(c, bid, id, size);
}

static enum ark_err
do_object_delete(struct mconn *c, void *arg)
{
	return do_object_counted(c, arg, do_object_delete1);
}

enum ark_err
meta_object_delete(struct meta *m, const char *bucket, const char *key,
    int64_t if_version, int64_t *nseq)
{
	struct waiter w;

	waiter_init(&w);
	meta_object_delete_async(m, bucket, key, if_version, nseq, 0,
	    waiter_done, &w);
	return waiter_wait(&w, ARK_OK);
}

void
meta_object_delete_async(struct meta *m, const char *bucket, const char *key,
    int64_t if_version, int64_t *nseq, int lazy,
    void (*cb)(void *arg, enum ark_err rc), void *arg)
{
	struct a_obj a;

	memset(&a, 0, sizeof(a));
	a.bucket = bucket;
	a.key = key;
	a.if_version = if_version;
	a.nseq = nseq;
	meta_async(m, do_object_delete, &a, sizeof(a), lazy, cb, arg);
}

static enum ark_err
do_nothing(struct mconn *c, void *arg)
{
	(void)c;
	(void)arg;
	return ARK_OK;
}

void
meta_sync_async(struct meta *m, void (*cb)(void *arg, enum ark_err rc),
    void *arg)
{
	meta_async(m, do_nothing, NULL, 0, 0, cb, arg);
}

static enum ark_err
do_object_setattr1(struct mconn *c, struct a_obj *a, int64_t bid)
{
	sqlite3_stmt	*st;
	enum ark_err	 rc;
	int64_t		 id, have, size, v;

	if ((rc = do_object_find(c, bid, a->key, &id, &have, &size)) != ARK_OK)
		return rc;
	if ((rc = check_version(ARK_OK, have, a->if_version)) != ARK_OK)
		return rc;
	if ((rc = do_next_version(c, &v)) != ARK_OK)
		return rc;
	/* Permission bits alone (no S_IFMT) keep the stored file type. */
	st = stmt(c, "UPDATE objects SET version = ?2,"
	    " mode = CASE WHEN ?3 < 0 THEN mode"
	    " WHEN (?3 & 61440) = 0 THEN (mode & 61440) | ?3 ELSE ?3 END,"
	    " uid = CASE WHEN ?4 < 0 THEN uid ELSE ?4 END,"
	    " gid = CASE WHEN ?5 < 0 THEN gid ELSE ?5 END,"
	    " mtime = CASE WHEN ?6 < 0 THEN mtime ELSE ?6 END,"
	    " tags = CASE WHEN ?7 IS NULL THEN tags ELSE nullif(?7, '') END,"
	    " umeta = CASE WHEN ?8 IS NULL THEN umeta ELSE nullif(?8, '') END,"
	    " headers = CASE WHEN ?9 IS NULL THEN headers"
	    " ELSE nullif(?9, '') END,"
	    " ctype = coalesce(?10, ctype) WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, v);
	sqlite3_bind_int64(st, 3, a->attrs->mode);
	sqlite3_bind_int64(st, 4, a->attrs->uid);
	sqlite3_bind_int64(st, 5, a->attrs->gid);
	sqlite3_bind_int64(st, 6, a->attrs->mtime_ms);
	bind_text(st, 7, a->attrs->tags);
	bind_text(st, 8, a->attrs->user_meta);
	bind_text(st, 9, a->attrs->headers);
	bind_text(st, 10, a->attrs->ctype);
	if ((rc = run(c, st)) != ARK_OK || a->out == NULL)
		return rc;
	st = stmt(c, OBJ_COLS " WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	if ((rc = row(c, st)) != ARK_OK)
		return rc == ARK_ENOENT ? ARK_EIO : rc;
	object_row(st, a->out, &id);
	sqlite3_reset(st);
	return ARK_OK;
}

static enum ark_err
do_object_setattr(struct mconn *c, void *arg)
{
	return do_object_counted(c, arg, do_object_setattr1);
}

static int
attrs_ok(const struct meta_attrs *a)
{
	return a->mode <= UINT32_MAX && a->uid <= UINT32_MAX &&
	    a->gid <= UINT32_MAX &&
	    (a->ctype == NULL || strlen(a->ctype) <= META_CTYPE_MAX) &&
	    (a->user_meta == NULL || strlen(a->user_meta) <= META_JSON_MAX) &&
	    (a->headers == NULL || strlen(a->headers) <= META_JSON_MAX) &&
	    (a->tags == NULL || strlen(a->tags) <= META_JSON_MAX);
}

enum ark_err
meta_object_setattr(struct meta *m, const char *bucket, const char *key,
    const struct meta_attrs *attrs, int64_t if_version,
    struct meta_object *out, int64_t *nseq)
{
	struct waiter	w;
	enum ark_err	rc;

	waiter_init(&w);
	rc = meta_object_setattr_async(m, bucket, key, attrs, if_version, out,
	    nseq, 0, waiter_done, &w);
	return waiter_wait(&w, rc);
}

enum ark_err
meta_object_setattr_async(struct meta *m, const char *bucket,
    const char *key, const struct meta_attrs *attrs, int64_t if_version,
    struct meta_object *out, int64_t *nseq, int lazy,
    void (*cb)(void *arg, enum ark_err rc), void *arg)
{
	struct a_obj a;

	if (attrs == NULL || !attrs_ok(attrs))
		return ARK_EINVAL;
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	memset(&a, 0, sizeof(a));
	a.bucket = bucket;
	a.key = key;
	a.attrs = attrs;
	a.if_version = if_version;
	a.out = out;
	a.nseq = nseq;
	meta_async(m, do_object_setattr, &a, sizeof(a), lazy, cb, arg);
	return ARK_OK;
}

struct a_move {
	const char		*sbucket, *skey, *dbucket, *dkey;
	unsigned		 flags;
	int64_t			*version;
	uint64_t		*count;
	const struct meta_attrs	*replace;
	int64_t			*nseq;		/* rename: [2] or NULL */
	int64_t			 if_version;	/* object copy: on dkey */
};

/* Replaces a JSON text field by `v` (NULL: keep, "": clear). */
static void
set_text(char **field, const char *v)
{
	if (v == NULL)
		return;
	free(*field);
	*field = *v != '\0' ? ark_xstrdup(v) : NULL;
}

static void
apply_attrs(struct meta_object *o, const struct meta_attrs *a)
{
	if (a->mode >= 0)
		o->mode = (uint32_t)a->mode;
	if (a->uid >= 0)
		o->uid = (uint32_t)a->uid;
	if (a->gid >= 0)
		o->gid = (uint32_t)a->gid;
	if (a->mtime_ms >= 0)
		o->mtime_ms = a->mtime_ms;
	if (a->ctype != NULL)
		snprintf(o->ctype, sizeof(o->ctype), "%s", a->ctype);
	set_text(&o->user_meta, a->user_meta);
	set_text(&o->headers, a->headers);
	set_text(&o->tags, a->tags);
}

static enum ark_err
do_copy_one(struct mconn *c, int64_t sbid, const char *skey, int64_t dbid,
    const char *dkey, unsigned flags, const struct meta_attrs *replace,
    int64_t if_version, int64_t *version)
{
	struct meta_object	o;
	enum ark_err		rc;
	int64_t			id;

	if ((rc = do_object_load(c, sbid, skey, &o, &id)) != ARK_OK)
		return rc;
	if (replace != NULL)
		apply_attrs(&o, replace);
	rc = do_object_write(c, dbid, dkey, &o,
	    (flags & META_NOREPLACE) ? META_ABSENT : if_version, 0, version);
	meta_object_clear(&o);
	return rc;
}

static enum ark_err
do_object_copy(struct mconn *c, void *arg)
{
	struct a_move	*a = arg;
	enum ark_err	 rc;
	int64_t		 sbid, dbid;

	if ((rc = do_bucket_id(c, a->sbucket, &sbid)) != ARK_OK ||
	    (rc = do_bucket_id(c, a->dbucket, &dbid)) != ARK_OK)
		return rc;
	return do_copy_one(c, sbid, a->skey, dbid, a->dkey, a->flags,
	    a->replace, a->if_version, a->version);
}

enum ark_err
meta_object_copy(struct meta *m, const char *sbucket, const char *skey,
    const char *dbucket, const char *dkey, unsigned flags,
    const struct meta_attrs *replace, int64_t if_version, int64_t *version)
{
	struct a_move a = { sbucket, skey, dbucket, dkey, flags, version, NULL,
	    replace, NULL, if_version };

	if (!key_ok(skey) || !key_ok(dkey) || (flags & META_EXCHANGE) ||
	    (replace != NULL && !attrs_ok(replace)))
		return ARK_EINVAL;
	return meta_exec(m, do_object_copy, &a);
}

static enum ark_err
do_set_key(struct mconn *c, int64_t id, int64_t bid, const char *key)
{
	sqlite3_stmt *st;

	st = stmt(c, "UPDATE objects SET bucket_id = ?2, key = ?3"
	    " WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, bid);
	bind_text(st, 3, key);
	return run(c, st);
}

/* Moves object (sid, ssize) to dbid/dkey, replacing or exchanging. */
static enum ark_err
do_move_one(struct mconn *c, int64_t sbid, const char *skey, int64_t sid,
    int64_t ssize, int64_t dbid, const char *dkey, unsigned flags)
{
	enum ark_err	 rc, found;
	int64_t		 did = 0, dv, dsize = 0;

	found = do_object_find(c, dbid, dkey, &did, &dv, &dsize);
	if (found != ARK_OK && found != ARK_ENOENT)
		return found;
	if (found == ARK_OK && did == sid)
		return ARK_OK;			/* rename onto itself */
	if (flags & META_EXCHANGE) {
		if (found != ARK_OK)
			return ARK_ENOENT;
		/* "" is never a valid key: a free temporary name. */
		if ((rc = do_set_key(c, sid, sbid, "")) != ARK_OK ||
		    (rc = do_set_key(c, did, sbid, skey)) != ARK_OK ||
		    (rc = do_set_key(c, sid, dbid, dkey)) != ARK_OK)
			return rc;
		if (sbid != dbid &&
		    ((rc = do_bucket_add(c, sbid, 0, dsize - ssize)) != ARK_OK ||
		    (rc = do_bucket_add(c, dbid, 0, ssize - dsize)) != ARK_OK))
			return rc;
		return ARK_OK;
	}
	if (found == ARK_OK) {
		if (flags & META_NOREPLACE)
			return ARK_EEXIST;
		if ((rc = do_object_remove(c, dbid, did, dsize)) != ARK_OK)
			return rc;
	}
	if ((rc = do_set_key(c, sid, dbid, dkey)) != ARK_OK)
		return rc;
	if (sbid != dbid &&
	    ((rc = do_bucket_add(c, sbid, -1, -ssize)) != ARK_OK ||
	    (rc = do_bucket_add(c, dbid, 1, ssize)) != ARK_OK))
		return rc;
	return ARK_OK;
}

static enum ark_err
do_object_rename(struct mconn *c, void *arg)
{
	struct a_move	*a = arg;
	enum ark_err	 rc;
	int64_t		 sbid, dbid, sid, sv, ssize, n0 = 0;

	if ((rc = do_bucket_idn(c, a->sbucket, &sbid, &n0)) != ARK_OK ||
	    (rc = do_bucket_id(c, a->dbucket, &dbid)) != ARK_OK)
		return rc;
	if ((rc = do_object_find(c, sbid, a->skey, &sid, &sv, &ssize)) !=
	    ARK_OK)
		return rc;
	if ((rc = do_move_one(c, sbid, a->skey, sid, ssize, dbid, a->dkey,
	    a->flags)) != ARK_OK || a->nseq == NULL || sbid != dbid)
		return rc;
	/* Within one bucket: its change count before and after. */
	a->nseq[0] = n0;
	return do_bucket_nseq(c, sbid, &a->nseq[1]);
}

enum ark_err
meta_object_rename(struct meta *m, const char *sbucket, const char *skey,
    const char *dbucket, const char *dkey, unsigned flags)
{
	struct waiter	w;
	enum ark_err	rc;

	waiter_init(&w);
	rc = meta_object_rename_async(m, sbucket, skey, dbucket, dkey, flags,
	    NULL, 0, waiter_done, &w);
	return waiter_wait(&w, rc);
}

enum ark_err
meta_object_rename_async(struct meta *m, const char *sbucket,
    const char *skey, const char *dbucket, const char *dkey, unsigned flags,
    int64_t *nseq, int lazy, void (*cb)(void *arg, enum ark_err rc),
    void *arg)
{
	struct a_move a = { sbucket, skey, dbucket, dkey, flags, NULL, NULL,
	    NULL, nseq, META_ANY };

	if (!key_ok(skey) || !key_ok(dkey) ||
	    ((flags & META_EXCHANGE) && (flags & META_NOREPLACE)))
		return ARK_EINVAL;
	meta_async(m, do_object_rename, &a, sizeof(a), lazy, cb, arg);
	return ARK_OK;
}

/* Keys (with id and size) of bid that start with `prefix`, in order. */
struct keylist {
	struct {
		int64_t	 id, size;
		char	*key;
	}	*k;
	size_t	 n, alloc;
};

static void
keylist_free(struct keylist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->k[i].key);
	free(l->k);
}

static enum ark_err
do_prefix_keys(struct mconn *c, int64_t bid, const char *prefix,
    struct keylist *l)
{
	sqlite3_stmt	*st;
	enum ark_err	 rc;
	size_t		 plen = strlen(prefix);
	const char	*k;

	st = stmt(c, "SELECT id, size, key FROM objects WHERE bucket_id = ?1"
	    " AND key >= ?2 ORDER BY key");
	sqlite3_bind_int64(st, 1, bid);
	bind_text(st, 2, prefix);
	while ((rc = row(c, st)) == ARK_OK) {
		k = (const char *)sqlite3_column_text(st, 2);
		if (strncmp(k, prefix, plen) != 0)
			break;
		if (l->n == PREFIX_OP_MAX) {
			sqlite3_reset(st);
			return ARK_ETOOBIG;
		}
		if (l->n == l->alloc) {
			l->alloc = l->alloc ? l->alloc * 2 : 64;
			l->k = ark_xrealloc(l->k, l->alloc * sizeof(*l->k));
		}
		l->k[l->n].id = sqlite3_column_int64(st, 0);
		l->k[l->n].size = sqlite3_column_int64(st, 1);
		l->k[l->n].key = ark_xstrdup(k);
		l->n++;
	}
	sqlite3_reset(st);
	return rc == ARK_ENOENT || rc == ARK_OK ? ARK_OK : rc;
}

static enum ark_err
do_prefix_op(struct mconn *c, struct a_move *a, int rename)
{
	struct keylist	 l = { NULL, 0, 0 };
	sqlite3_stmt	*st;
	enum ark_err	 rc;
	int64_t		 sbid, dbid;
	size_t		 i, splen = strlen(a->skey);
	char		*dkey;

	if ((rc = do_bucket_id(c, a->sbucket, &sbid)) != ARK_OK ||
	    (rc = do_bucket_id(c, a->dbucket, &dbid)) != ARK_OK)
		return rc;
	if (sbid == dbid && (strncmp(a->skey, a->dkey, splen) == 0 ||
	    strncmp(a->dkey, a->skey, strlen(a->dkey)) == 0))
		return ARK_EINVAL;		/* overlapping prefixes */
	if ((rc = do_prefix_keys(c, sbid, a->skey, &l)) != ARK_OK)
		goto out;
	/* Count the buckets' changes once, not per row (a failure rolls
	 * the hold back with the rest of the operation). */
	st = stmt(c, "INSERT INTO nseq_hold VALUES(1)");
	if ((rc = run(c, st)) != ARK_OK)
		goto out;
	for (i = 0; i < l.n; i++) {
		dkey = ark_xasprintf("%s%s", a->dkey, l.k[i].key + splen);
		if (strlen(dkey) > META_OBJKEY_MAX)
			rc = ARK_EINVAL;
		else if (rename)
			rc = do_move_one(c, sbid, l.k[i].key, l.k[i].id,
			    l.k[i].size, dbid, dkey, a->flags);
		else
			rc = do_copy_one(c, sbid, l.k[i].key, dbid, dkey,
			    a->flags, NULL, META_ANY, NULL);
		free(dkey);
		if (rc != ARK_OK)
			goto out;
	}
	st = stmt(c, "DELETE FROM nseq_hold");
	if ((rc = run(c, st)) != ARK_OK)
		goto out;
	st = stmt(c, "UPDATE buckets SET nseq = nseq + 1 WHERE id IN (?1, ?2)");
	sqlite3_bind_int64(st, 1, sbid);
	sqlite3_bind_int64(st, 2, dbid);
	if ((rc = run(c, st)) != ARK_OK)
		goto out;
	*a->count = l.n;
out:
	keylist_free(&l);
	return rc;
}

static enum ark_err
do_prefix_copy(struct mconn *c, void *arg)
{
	return do_prefix_op(c, arg, 0);
}

static enum ark_err
do_prefix_rename(struct mconn *c, void *arg)
{
	return do_prefix_op(c, arg, 1);
}

enum ark_err
meta_prefix_copy(struct meta *m, const char *sbucket, const char *sprefix,
    const char *dbucket, const char *dprefix, unsigned flags,
    uint64_t *count)
{
	struct a_move	a = { sbucket, sprefix, dbucket, dprefix, flags, NULL,
	    count, NULL, NULL, META_ANY };
	uint64_t	dummy;

	if (!key_ok(sprefix) || dprefix == NULL ||
	    strlen(dprefix) > META_OBJKEY_MAX || (flags & META_EXCHANGE))
		return ARK_EINVAL;
	if (count == NULL)
		a.count = &dummy;
	return meta_exec(m, do_prefix_copy, &a);
}

enum ark_err
meta_prefix_rename(struct meta *m, const char *sbucket, const char *sprefix,
    const char *dbucket, const char *dprefix, unsigned flags,
    uint64_t *count)
{
	struct a_move	a = { sbucket, sprefix, dbucket, dprefix, flags, NULL,
	    count, NULL, NULL, META_ANY };
	uint64_t	dummy;

	if (!key_ok(sprefix) || dprefix == NULL ||
	    strlen(dprefix) > META_OBJKEY_MAX || (flags & META_EXCHANGE))
		return ARK_EINVAL;
	if (count == NULL)
		a.count = &dummy;
	return meta_exec(m, do_prefix_rename, &a);
}

/* ---- listing ---- */

/* Smallest string greater than every string starting with s: s with its
 * last byte below 0xff incremented and the rest cut. 0 if none. */
static int
prefix_successor(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (unsigned char)s[n - 1] == 0xff)
		n--;
	if (n == 0)
		return 0;
	s[n - 1] = (char)((unsigned char)s[n - 1] + 1);
	s[n] = '\0';
	return 1;
}

enum ark_err
meta_list(struct meta *m, const struct meta_list_req *req,
    int (*cb)(void *, const struct meta_list_ent *), void *arg,
    char **next_token)
{
	const char		*P = req->prefix ? req->prefix : "";
	const char		*D = req->delimiter ? req->delimiter : "";
	const char		*T = req->token ? req->token : req->start_after;
	size_t			 plen = strlen(P), dlen = strlen(D);
	struct mconn		*c;
	sqlite3_stmt		*st, *st2, *src;
	struct meta_list_ent	 e;
	enum ark_err		 rc;
	int			 col;
	char			*cur, *last = NULL, *hit;
	int			 exclusive = 0, more = 0, stop = 0;
	unsigned		 count = 0;
	int64_t			 bid;
	const char		*k;

	*next_token = NULL;
	if (req->max_keys == 0 || req->max_keys > 10000 || dlen > 16 ||
	    plen > META_OBJKEY_MAX || (T != NULL && strlen(T) >
	    META_OBJKEY_MAX))
		return ARK_EINVAL;
	/* Where to start: after T, or past T's common prefix. */
	if (T != NULL && *T != '\0') {
		cur = ark_xstrdup(T);
		exclusive = 1;
		if (dlen > 0 && strncmp(T, P, plen) == 0 &&
		    (hit = strstr(cur + plen, D)) != NULL) {
			hit[dlen] = '\0';
			if (!prefix_successor(cur)) {
				free(cur);
				return ARK_OK;
			}
			exclusive = 0;
		}
		if (strcmp(cur, P) < 0) {
			free(cur);
			cur = ark_xstrdup(P);
			exclusive = 0;
		}
	} else
		cur = ark_xstrdup(P);

	if ((rc = reader_get(m, &c)) != ARK_OK) {
		free(cur);
		return rc;
	}
	if ((rc = do_bucket_id(c, req->bucket, &bid)) != ARK_OK)
		goto out;
	/* With a delimiter the scan reads keys from the (bucket_id, key)
	 * index alone (id is the rowid, in the index): a common prefix costs
	 * one index seek; only plain keys fetch their row. */
	if (dlen > 0)
		st = stmt(c, "SELECT key, id FROM objects"
		    " WHERE bucket_id = ?1 AND key >= ?2 ORDER BY key");
	else
		st = stmt(c, "SELECT key, id, size, etag, mtime, version,"
		    " mode, uid, gid FROM objects WHERE bucket_id = ?1"
		    " AND key >= ?2 ORDER BY key");
seek:
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, bid);
	bind_text(st, 2, cur);
	while (!stop && (rc = row(c, st)) == ARK_OK) {
		k = (const char *)sqlite3_column_text(st, 0);
		if (exclusive && strcmp(k, cur) == 0)
			continue;
		if (strncmp(k, P, plen) != 0)
			break;
		if (count == req->max_keys) {
			more = 1;
			break;
		}
		memset(&e, 0, sizeof(e));
		if (dlen > 0 && (hit = strstr(k + plen, D)) != NULL) {
			/* A common prefix: emit it, then seek past it. */
			free(last);
			last = ark_xstrndup(k, (size_t)(hit - k) + dlen);
			e.key = last;
			e.is_prefix = 1;
			count++;
			if (cb(arg, &e) != 0)
				stop = 1;
			free(cur);
			cur = ark_xstrdup(last);
			exclusive = 0;
			if (!prefix_successor(cur))
				break;
			goto seek;
		}
		free(last);
		last = ark_xstrdup(k);
		e.key = last;
		if (dlen > 0) {
			st2 = stmt(c, "SELECT size, etag, mtime, version,"
			    " mode, uid, gid FROM objects WHERE id = ?1");
			sqlite3_bind_int64(st2, 1, sqlite3_column_int64(st, 1));
			if ((rc = row(c, st2)) != ARK_OK) {
				if (rc == ARK_ENOENT)
					rc = ARK_ECORRUPT;
				break;
			}
			col = 0;
			src = st2;
		} else {
			col = 2;
			src = st;
		}
		e.size = (uint64_t)sqlite3_column_int64(src, col);
		e.etag = (const char *)sqlite3_column_text(src, col + 1);
		e.mtime_ms = sqlite3_column_int64(src, col + 2);
		e.version = sqlite3_column_int64(src, col + 3);
		e.mode = sqlite3_column_int64(src, col + 4);
		e.uid = sqlite3_column_int64(src, col + 5);
		e.gid = sqlite3_column_int64(src, col + 6);
		count++;
		if (cb(arg, &e) != 0)
			stop = 1;
	}
	if (rc == ARK_ENOENT || rc == ARK_OK) {
		rc = ARK_OK;
		if (more) {
			*next_token = last;
			last = NULL;
		}
	}
out:
	reader_put(m, c);
	free(cur);
	free(last);
	return rc;
}

/* ---- multipart uploads ---- */

void
meta_upload_clear(struct meta_upload *u)
{
	if (u == NULL)
		return;
	free(u->key);
	free(u->user_meta);
	free(u->headers);
	memset(u, 0, sizeof(*u));
}

struct a_upload {
	const char		*bucket, *key, *ctype, *umeta, *headers, *id;
	const char		*cksum_alg, *cksum_type, *cksums;
	char			*idout;
	const struct meta_part	*part;
	const unsigned		*numbers;
	const char *const	*etags;
	size_t			 nparts;
	const char		*etag;
	int64_t			 if_version;	/* complete */
	int64_t			*version;
	unsigned		*bad_part;
};

static enum ark_err
do_upload_create(struct mconn *c, void *arg)
{
	struct a_upload	*a = arg;
	sqlite3_stmt	*st;
	enum ark_err	 rc;
	int64_t		 bid;
	unsigned char	 rnd[16];

	if ((rc = do_bucket_id(c, a->bucket, &bid)) != ARK_OK)
		return rc;
	if (ark_random_bytes(rnd, sizeof(rnd)) != ARK_OK)
		return ARK_EIO;
	ark_hex_encode(rnd, sizeof(rnd), a->idout);
	st = stmt(c, "INSERT INTO uploads(id, bucket_id, key, ctype, umeta,"
	    " created, headers, cksum_alg, cksum_type) VALUES(?1, ?2, ?3, ?4,"
	    " ?5, ?6, ?7, ?8, ?9)");
	bind_text(st, 1, a->idout);
	sqlite3_bind_int64(st, 2, bid);
	bind_text(st, 3, a->key);
	bind_text(st, 4, a->ctype ? a->ctype : "");
	bind_text(st, 5, a->umeta);
	sqlite3_bind_int64(st, 6, ark_now_ms());
	bind_text(st, 7, a->headers);
	bind_text(st, 8, a->cksum_alg);
	bind_text(st, 9, a->cksum_type);
	return run(c, st);
}

enum ark_err
meta_upload_create(struct meta *m, const char *bucket, const char *key,
    const char *ctype, const char *user_meta, const char *headers,
    const char *cksum_alg, const char *cksum_type, char *id)
{
	struct a_upload a;

	if (!key_ok(key) || bucket == NULL ||
	    (ctype != NULL && strlen(ctype) > META_CTYPE_MAX) ||
	    (cksum_alg != NULL && strlen(cksum_alg) > META_CKNAME_MAX) ||
	    (cksum_type != NULL && strlen(cksum_type) > META_CKNAME_MAX))
		return ARK_EINVAL;
	memset(&a, 0, sizeof(a));
	a.bucket = bucket;
	a.key = key;
	a.ctype = ctype;
	a.umeta = user_meta;
	a.headers = headers;
	a.cksum_alg = cksum_alg;
	a.cksum_type = cksum_type;
	a.idout = id;
	return meta_exec(m, do_upload_create, &a);
}

#define UPLOAD_COLS "SELECT u.id, b.name, u.key, u.ctype, u.umeta," \
	" u.created, u.headers, u.cksum_alg, u.cksum_type FROM uploads u" \
	" JOIN buckets b" \
	" ON b.id = u.bucket_id"

static void
upload_row(sqlite3_stmt *st, struct meta_upload *u)
{
	memset(u, 0, sizeof(*u));
	col_copy(st, 0, u->id, sizeof(u->id));
	col_copy(st, 1, u->bucket, sizeof(u->bucket));
	u->key = col_dup(st, 2);
	col_copy(st, 3, u->ctype, sizeof(u->ctype));
	u->user_meta = col_dup(st, 4);
	u->created_ms = sqlite3_column_int64(st, 5);
	u->headers = col_dup(st, 6);
	col_copy(st, 7, u->cksum_alg, sizeof(u->cksum_alg));
	col_copy(st, 8, u->cksum_type, sizeof(u->cksum_type));
}

enum ark_err
meta_upload_get(struct meta *m, const char *id, struct meta_upload *out)
{
	struct mconn	*c;
	sqlite3_stmt	*st;
	enum ark_err	 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = reader_get(m, &c)) != ARK_OK)
		return rc;
	st = stmt(c, UPLOAD_COLS " WHERE u.id = ?1");
	bind_text(st, 1, id);
	if ((rc = row(c, st)) == ARK_OK)
		upload_row(st, out);
	reader_put(m, c);
	return rc;
}

enum ark_err
meta_upload_list(struct meta *m, const char *bucket, const char *prefix,
    const char *start_key, int (*cb)(void *, const struct meta_upload *),
    void *arg)
{
	struct mconn		*c;
	sqlite3_stmt		*st;
	struct meta_upload	 u;
	enum ark_err		 rc;
	size_t			 plen = prefix ? strlen(prefix) : 0;
	int			 stop = 0;

	if ((rc = reader_get(m, &c)) != ARK_OK)
		return rc;
	st = stmt(c, UPLOAD_COLS " WHERE b.name = ?1 AND u.key >= ?2"
	    " ORDER BY u.key, u.created");
	bind_text(st, 1, bucket);
	bind_text(st, 2, start_key != NULL && (prefix == NULL ||
	    strcmp(start_key, prefix) > 0) ? start_key : prefix ? prefix : "");
	while (!stop && (rc = row(c, st)) == ARK_OK) {
		if (plen > 0 && strncmp((const char *)sqlite3_column_text(st,
		    2), prefix, plen) != 0)
			break;
		upload_row(st, &u);
		stop = cb(arg, &u);
		meta_upload_clear(&u);
	}
	reader_put(m, c);
	return rc == ARK_ENOENT ? ARK_OK : rc;
}

static enum ark_err
do_upload_exists(struct mconn *c, const char *id, int64_t *bid)
{
	sqlite3_stmt	*st;
	enum ark_err	 rc;

	st = stmt(c, "SELECT bucket_id FROM uploads WHERE id = ?1");
	bind_text(st, 1, id);
	if ((rc = row(c, st)) == ARK_OK && bid != NULL)
		*bid = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc;
}

static enum ark_err
do_part_put(struct mconn *c, void *arg)
{
	struct a_upload		*a = arg;
	const struct meta_part	*p = a->part;
	struct fidlist		 l = { NULL, 0, 0 };
	sqlite3_stmt		*st;
	enum ark_err		 rc;
	int64_t			 pid;

	if ((rc = do_upload_exists(c, a->id, NULL)) != ARK_OK)
		return rc;
	st = stmt(c, "SELECT id FROM parts WHERE upload_id = ?1 AND number = ?2");
	bind_text(st, 1, a->id);
	sqlite3_bind_int(st, 2, (int)p->number);
	rc = row(c, st);
	if (rc == ARK_OK) {
		pid = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if ((rc = do_frags_drop(c, FRAG_PART, pid, &l)) != ARK_OK)
			goto out;
		st = stmt(c, "UPDATE parts SET size = ?2, etag = ?3,"
		    " created = ?4, cksums = ?7 WHERE id = ?1");
		sqlite3_bind_int64(st, 1, pid);
	} else if (rc == ARK_ENOENT) {
		st = stmt(c, "INSERT INTO parts(size, etag, created, upload_id,"
		    " number, cksums) VALUES(?2, ?3, ?4, ?5, ?6, ?7)");
		bind_text(st, 5, a->id);
		sqlite3_bind_int(st, 6, (int)p->number);
		pid = -1;
	} else
		return rc;
	sqlite3_bind_int64(st, 2, (int64_t)p->size);
	bind_text(st, 3, p->etag);
	sqlite3_bind_int64(st, 4, ark_now_ms());
	bind_text(st, 7, p->checksums);
	if ((rc = run(c, st)) != ARK_OK)
		goto out;
	if (pid < 0)
		pid = sqlite3_last_insert_rowid(c->db);
	if ((rc = do_frags_insert(c, FRAG_PART, pid, 0, 0, p->frags, p->nfrags,
	    1)) != ARK_OK)
		goto out;
	rc = do_gc_unreferenced(c, &l);
out:
	free(l.fid);
	return rc;
}

enum ark_err
meta_part_put(struct meta *m, const char *upload_id,
    const struct meta_part *p)
{
	struct a_upload a;

	if (p == NULL || p->number < 1 || p->number > 10000 ||
	    strlen(p->etag) > META_ETAG_MAX || (p->checksums != NULL &&
	    strlen(p->checksums) > META_PART_CKSUMS_MAX))
		return ARK_EINVAL;
	memset(&a, 0, sizeof(a));
	a.id = upload_id;
	a.part = p;
	return meta_exec(m, do_part_put, &a);
}

enum ark_err
meta_part_list(struct meta *m, const char *upload_id,
    int (*cb)(void *, const struct meta_part *), void *arg)
{
	struct mconn		*c;
	sqlite3_stmt		*st;
	struct meta_part	 p;
	enum ark_err		 rc;

	if ((rc = reader_get(m, &c)) != ARK_OK)
		return rc;
	if ((rc = do_upload_exists(c, upload_id, NULL)) != ARK_OK)
		goto out;
	st = stmt(c, "SELECT p.number, p.size, p.etag, p.created,"
	    " (SELECT count(*) FROM frags f WHERE f.kind = 1 AND f.owner = p.id),"
	    " p.cksums FROM parts p WHERE p.upload_id = ?1 ORDER BY p.number");
	bind_text(st, 1, upload_id);
	while ((rc = row(c, st)) == ARK_OK) {
		memset(&p, 0, sizeof(p));
		p.number = (unsigned)sqlite3_column_int(st, 0);
		p.size = (uint64_t)sqlite3_column_int64(st, 1);
		col_copy(st, 2, p.etag, sizeof(p.etag));
		p.created_ms = sqlite3_column_int64(st, 3);
		p.nfrags = (size_t)sqlite3_column_int64(st, 4);
		p.checksums = (const char *)sqlite3_column_text(st, 5);
		if (cb(arg, &p) != 0)
			break;
	}
	if (rc == ARK_ENOENT)
		rc = ARK_OK;
out:
	reader_put(m, c);
	return rc;
}

/* Drops every part of upload `id` and the upload; fids into *l. */
static enum ark_err
do_upload_drop(struct mconn *c, const char *id, struct fidlist *l)
{
	sqlite3_stmt	*st;
	enum ark_err	 rc;
	int64_t		*pids = NULL;
	size_t		 n = 0, alloc = 0, i;

	st = stmt(c, "SELECT id FROM parts WHERE upload_id = ?1");
	bind_text(st, 1, id);
	while ((rc = row(c, st)) == ARK_OK) {
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 16;
			pids = ark_xrealloc(pids, alloc * sizeof(*pids));
		}
		pids[n++] = sqlite3_column_int64(st, 0);
	}
	if (rc != ARK_ENOENT)
		goto out;
	rc = ARK_OK;
	for (i = 0; i < n && rc == ARK_OK; i++)
		rc = do_frags_drop(c, FRAG_PART, pids[i], l);
	if (rc != ARK_OK)
		goto out;
	st = stmt(c, "DELETE FROM uploads WHERE id = ?1");	/* parts cascade */
	bind_text(st, 1, id);
	rc = run(c, st);
out:
	free(pids);
	return rc;
}

/* Appends one part to a JSON array under construction, escaping the etag;
 * cksums is JSON object text the API checked, or NULL. */
static enum ark_err
part_json(struct ark_buf *b, int first, unsigned number, int64_t size,
    const char *etag, const char *cksums)
{
	enum ark_err	rc;
	const char	*p;

	if ((rc = ark_buf_printf(b, "%s{\"number\":%u,\"size\":%lld,"
	    "\"etag\":\"", first ? "[" : ",", number, (long long)size)) != ARK_OK)
		return rc;
	for (p = etag ? etag : ""; *p != '\0' && rc == ARK_OK; p++) {
		if (*p == '"' || *p == '\\')
			rc = ark_buf_printf(b, "\\%c", *p);
		else if ((unsigned char)*p < 0x20)
			rc = ark_buf_printf(b, "\\u%04x", (unsigned char)*p);
		else
			rc = ark_buf_append_byte(b, (unsigned char)*p);
	}
	if (rc == ARK_OK)
		rc = ark_buf_append_byte(b, '"');
	if (rc == ARK_OK && cksums != NULL)
		rc = ark_buf_printf(b, ",\"checksums\":%s", cksums);
	return rc == ARK_OK ? ark_buf_append_byte(b, '}') : rc;
}

static enum ark_err
do_upload_complete(struct mconn *c, void *arg)
{
	struct a_upload		*a = arg;
	struct meta_object	 o;
	struct fidlist		 l = { NULL, 0, 0 };
	sqlite3_stmt		*st;
	struct meta_frag	*pf;
	struct ark_buf		 pj;
	enum ark_err		 rc;
	int64_t			 bid, pid, psize;
	size_t			 i, j, npf;
	char			*key = NULL;

	memset(&o, 0, sizeof(o));
	/* [{"number":n,"size":s,"etag":"...","checksums":{...}}], etags
	 * are S3 hex/quoted text without backslashes or quotes escaped by
	 * the caller */
	ark_buf_init(&pj, 10000 * (80 + META_ETAG_MAX + META_PART_CKSUMS_MAX) +
	    16);
	st = stmt(c, "SELECT bucket_id, key, ctype, umeta, headers FROM uploads"
	    " WHERE id = ?1");
	bind_text(st, 1, a->id);
	if ((rc = row(c, st)) != ARK_OK)
		return rc;
	bid = sqlite3_column_int64(st, 0);
	key = col_dup(st, 1);
	col_copy(st, 2, o.ctype, sizeof(o.ctype));
	o.user_meta = col_dup(st, 3);
	o.headers = col_dup(st, 4);
	sqlite3_reset(st);
	strncpy(o.etag, a->etag, sizeof(o.etag) - 1);
	if (a->cksums != NULL)
		o.checksums = ark_xstrdup(a->cksums);
	o.mode = 0100644;
	o.mtime_ms = ark_now_ms();
	for (i = 0; i < a->nparts; i++) {
		if (i > 0 && a->numbers[i] <= a->numbers[i - 1]) {
			rc = ARK_EINVAL;
			goto bad;
		}
		st = stmt(c, "SELECT id, size, etag FROM parts"
		    " WHERE upload_id = ?1 AND number = ?2");
		bind_text(st, 1, a->id);
		sqlite3_bind_int(st, 2, (int)a->numbers[i]);
		if ((rc = row(c, st)) != ARK_OK) {
			if (rc == ARK_ENOENT)
				rc = ARK_EINVAL;
			goto bad;
		}
		pid = sqlite3_column_int64(st, 0);
		if (a->etags != NULL && a->etags[i] != NULL &&
		    a->etags[i][0] != '\0' && strcmp(a->etags[i],
		    (const char *)sqlite3_column_text(st, 2)) != 0) {
			rc = ARK_EINVAL;
			goto bad;
		}
		sqlite3_reset(st);
		if ((rc = do_frags_load(c, FRAG_PART, pid, &pf, &npf)) !=
		    ARK_OK)
			goto out;
		o.frags = ark_xrealloc(o.frags, (o.nfrags + npf + 1) *
		    sizeof(*o.frags));
		for (j = 0; j < npf; j++) {
			o.frags[o.nfrags] = pf[j];
			o.frags[o.nfrags].offset = o.size + pf[j].offset;
			o.nfrags++;
		}
		free(pf);
		st = stmt(c, "SELECT size FROM parts WHERE id = ?1");
		sqlite3_bind_int64(st, 1, pid);
		if ((rc = row(c, st)) != ARK_OK)
			goto out;
		psize = sqlite3_column_int64(st, 0);
		o.size += (uint64_t)psize;
		sqlite3_reset(st);
		st = stmt(c, "SELECT etag, cksums FROM parts WHERE id = ?1");
		sqlite3_bind_int64(st, 1, pid);
		if ((rc = row(c, st)) != ARK_OK)
			goto out;
		if (part_json(&pj, i == 0, a->numbers[i], psize,
		    (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1)) != ARK_OK) {
			rc = ARK_ENOMEM;
			goto out;
		}
		sqlite3_reset(st);
	}
	if (ark_buf_append_byte(&pj, ']') != ARK_OK) {
		rc = ARK_ENOMEM;
		goto out;
	}
	o.parts = ark_xstrdup(ark_buf_str(&pj));
	if ((rc = do_object_write(c, bid, key, &o, a->if_version, 0,
	    a->version)) != ARK_OK)
		goto out;
	if ((rc = do_upload_drop(c, a->id, &l)) != ARK_OK)
		goto out;
	rc = do_gc_unreferenced(c, &l);
	goto out;
bad:
	sqlite3_reset(st);
	if (a->bad_part != NULL)
		*a->bad_part = a->numbers[i];
out:
	free(key);
	free(l.fid);
	ark_buf_free(&pj);
	meta_object_clear(&o);
	return rc;
}

enum ark_err
meta_upload_complete(struct meta *m, const char *upload_id,
    const unsigned *numbers, const char *const *etags, size_t nparts,
    const char *etag, const char *checksums, int64_t if_version,
    int64_t *version, unsigned *bad_part)
{
	struct a_upload a;

	if (nparts == 0 || nparts > 10000 || etag == NULL ||
	    strlen(etag) > META_ETAG_MAX || (checksums != NULL &&
	    strlen(checksums) > META_JSON_MAX))
		return ARK_EINVAL;
	memset(&a, 0, sizeof(a));
	a.id = upload_id;
	a.numbers = numbers;
	a.etags = etags;
	a.nparts = nparts;
	a.etag = etag;
	a.cksums = checksums;
	a.if_version = if_version;
	a.version = version;
	a.bad_part = bad_part;
	return meta_exec(m, do_upload_complete, &a);
}

static enum ark_err
do_upload_abort(struct mconn *c, void *arg)
{
	struct a_upload	*a = arg;
	struct fidlist	 l = { NULL, 0, 0 };
	enum ark_err	 rc;

	if ((rc = do_upload_exists(c, a->id, NULL)) != ARK_OK)
		return rc;
	if ((rc = do_upload_drop(c, a->id, &l)) == ARK_OK)
		rc = do_gc_unreferenced(c, &l);
	free(l.fid);
	return rc;
}

enum ark_err
meta_upload_abort(struct meta *m, const char *upload_id)
{
	struct a_upload a;

	memset(&a, 0, sizeof(a));
	a.id = upload_id;
	return meta_exec(m, do_upload_abort, &a);
}

/* ---- Git LFS objects and locks ---- */

struct a_lfs {
	const char		*ns, *oid, *path, *owner, *id;
	const struct meta_lfs	*o;
	int			 force;
	struct meta_lock	*lock;
};

static enum ark_err
do_lfs_put(struct mconn *c, void *arg)
{
	struct a_lfs	*a = arg;
	sqlite3_stmt	*st;
	enum ark_err	 rc;

	st = stmt(c, "INSERT INTO lfs_objects(ns, oid, size, created)"
	    " VALUES(?1, ?2, ?3, ?4)");
	bind_text(st, 1, a->ns);
	bind_text(st, 2, a->oid);
	sqlite3_bind_int64(st, 3, (int64_t)a->o->size);
	sqlite3_bind_int64(st, 4, ark_now_ms());
	if ((rc = run(c, st)) != ARK_OK)
		return rc;
	return do_frags_insert(c, FRAG_LFS, sqlite3_last_insert_rowid(c->db),
	    0, 0, a->o->frags, a->o->nfrags, 1);
}

enum ark_err
meta_lfs_put(struct meta *m, const char *ns, const char *oid,
    const struct meta_lfs *o)
{
	struct a_lfs a;

	if (!name_ok(ns, META_PATH_MAX) || !name_ok(oid, META_OID_MAX) ||
	    o == NULL)
		return ARK_EINVAL;
	memset(&a, 0, sizeof(a));
	a.ns = ns;
	a.oid = oid;
	a.o = o;
	return meta_exec(m, do_lfs_put, &a);
}

enum ark_err
meta_lfs_get(struct meta *m, const char *ns, const char *oid,
    struct meta_lfs *out)
{
	struct mconn	*c;
	sqlite3_stmt	*st;
	enum ark_err	 rc;
	int64_t		 id;

	memset(out, 0, sizeof(*out));
	if ((rc = reader_get(m, &c)) != ARK_OK)
		return rc;
	st = stmt(c, "SELECT id, size, created FROM lfs_objects"
	    " WHERE ns = ?1 AND oid = ?2");
	bind_text(st, 1, ns);
	bind_text(st, 2, oid);
	if ((rc = row(c, st)) == ARK_OK) {
		id = sqlite3_column_int64(st, 0);
		out->size = (uint64_t)sqlite3_column_int64(st, 1);
		out->created_ms = sqlite3_column_int64(st, 2);
		sqlite3_reset(st);
		rc = do_frags_load(c, FRAG_LFS, id, &out->frags, &out->nfrags);
	}
	reader_put(m, c);
	return rc;
}

static enum ark_err
do_lfs_delete(struct mconn *c, void *arg)
{
	struct a_lfs	*a = arg;
	struct fidlist	 l = { NULL, 0, 0 };
	sqlite3_stmt	*st;
	enum ark_err	 rc;
	int64_t		 id;

	st = stmt(c, "SELECT id FROM lfs_objects WHERE ns = ?1 AND oid = ?2");
	bind_text(st, 1, a->ns);
	bind_text(st, 2, a->oid);
	if ((rc = row(c, st)) != ARK_OK)
		return rc;
	id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if ((rc = do_frags_drop(c, FRAG_LFS, id, &l)) != ARK_OK)
		goto out;
	st = stmt(c, "DELETE FROM lfs_objects WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	if ((rc = run(c, st)) == ARK_OK)
		rc = do_gc_unreferenced(c, &l);
out:
	free(l.fid);
	return rc;
}

enum ark_err
meta_lfs_delete(struct meta *m, const char *ns, const char *oid)
{
	struct a_lfs a;

	memset(&a, 0, sizeof(a));
	a.ns = ns;
	a.oid = oid;
	return meta_exec(m, do_lfs_delete, &a);
}

void
meta_lock_clear(struct meta_lock *l)
{
	if (l == NULL)
		return;
	free(l->path);
	memset(l, 0, sizeof(*l));
}

static void
lock_row(sqlite3_stmt *st, struct meta_lock *l)
{
	memset(l, 0, sizeof(*l));
	col_copy(st, 0, l->id, sizeof(l->id));
	l->path = col_dup(st, 1);
	col_copy(st, 2, l->owner, sizeof(l->owner));
	l->locked_ms = sqlite3_column_int64(st, 3);
}

static enum ark_err
do_lock_find(struct mconn *c, const char *ns, const char *path,
    const char *id, struct meta_lock *out)
{
	sqlite3_stmt	*st;
	enum ark_err	 rc;

	st = stmt(c, "SELECT id, path, owner, created FROM lfs_locks"
	    " WHERE ns = ?1 AND (?2 IS NULL OR path = ?2)"
	    " AND (?3 IS NULL OR id = ?3)");
	bind_text(st, 1, ns);
	bind_text(st, 2, path);
	bind_text(st, 3, id);
	if ((rc = row(c, st)) == ARK_OK && out != NULL)
		lock_row(st, out);
	sqlite3_reset(st);
	return rc;
}

static enum ark_err
do_lock_create(struct mconn *c, void *arg)
{
	struct a_lfs	*a = arg;
	sqlite3_stmt	*st;
	enum ark_err	 rc;
	unsigned char	 rnd[12];
	char		 id[2 * sizeof(rnd) + 1];

	rc = do_lock_find(c, a->ns, a->path, NULL, a->lock);
	if (rc == ARK_OK)
		return ARK_EEXIST;
	if (rc != ARK_ENOENT)
		return rc;
	if (ark_random_bytes(rnd, sizeof(rnd)) != ARK_OK)
		return ARK_EIO;
	ark_hex_encode(rnd, sizeof(rnd), id);
	st = stmt(c, "INSERT INTO lfs_locks(id, ns, path, owner, created)"
	    " VALUES(?1, ?2, ?3, ?4, ?5)");
	bind_text(st, 1, id);
	bind_text(st, 2, a->ns);
	bind_text(st, 3, a->path);
	bind_text(st, 4, a->owner);
	sqlite3_bind_int64(st, 5, ark_now_ms());
	if ((rc = run(c, st)) != ARK_OK)
		return rc;
	return do_lock_find(c, a->ns, NULL, id, a->lock);
}

enum ark_err
meta_lock_create(struct meta *m, const char *ns, const char *path,
    const char *owner, struct meta_lock *out)
{
	struct a_lfs	a;
	enum ark_err	rc;

	if (!name_ok(ns, META_PATH_MAX) || !name_ok(path, META_PATH_MAX) ||
	    !name_ok(owner, META_USER_MAX) || out == NULL)
		return ARK_EINVAL;
	memset(&a, 0, sizeof(a));
	memset(out, 0, sizeof(*out));
	a.ns = ns;
	a.path = path;
	a.owner = owner;
	a.lock = out;
	rc = meta_exec(m, do_lock_create, &a);
	if (rc != ARK_OK && rc != ARK_EEXIST)
		meta_lock_clear(out);	/* a rolled-back find may have filled it */
	return rc;
}

enum ark_err
meta_lock_list(struct meta *m, const char *ns, const char *path,
    const char *id, const char *cursor, unsigned limit,
    int (*cb)(void *, const struct meta_lock *), void *arg, char **next)
{
	struct mconn		*c;
	sqlite3_stmt		*st;
	struct meta_lock	 l;
	enum ark_err		 rc;
	unsigned		 n = 0;

	*next = NULL;
	if (limit == 0 || limit > 10000)
		return ARK_EINVAL;
	if ((rc = reader_get(m, &c)) != ARK_OK)
		return rc;
	st = stmt(c, "SELECT id, path, owner, created FROM lfs_locks"
	    " WHERE ns = ?1 AND (?2 IS NULL OR path = ?2)"
	    " AND (?3 IS NULL OR id = ?3) AND id > ?4 ORDER BY id");
	bind_text(st, 1, ns);
	bind_text(st, 2, path);
	bind_text(st, 3, id);
	bind_text(st, 4, cursor ? cursor : "");
	while ((rc = row(c, st)) == ARK_OK) {
		if (n == limit) {
			/* cursor: the last id returned */
			break;
		}
		lock_row(st, &l);
		n++;
		free(*next);
		*next = ark_xstrdup(l.id);
		rc = cb(arg, &l) != 0 ? ARK_ECANCELED : ARK_OK;
		meta_lock_clear(&l);
		if (rc != ARK_OK)
			break;
	}
	if (rc != ARK_OK || n < limit) {
		/* no more rows after this page (or stopped/failed) */
		free(*next);
		*next = NULL;
	}
	reader_put(m, c);
	return rc == ARK_ENOENT || rc == ARK_ECANCELED || rc == ARK_OK ?
	    ARK_OK : rc;
}

static enum ark_err
do_lock_delete(struct mconn *c, void *arg)
{
	struct a_lfs		*a = arg;
	struct meta_lock	 l;
	sqlite3_stmt		*st;
	enum ark_err		 rc;

	if ((rc = do_lock_find(c, a->ns, NULL, a->id, &l)) != ARK_OK)
		return rc;
	if (!a->force && strcmp(l.owner, a->owner) != 0) {
		meta_lock_clear(&l);
		return ARK_EPERM;
	}
	st = stmt(c, "DELETE FROM lfs_locks WHERE id = ?1");
	bind_text(st, 1, a->id);
	if ((rc = run(c, st)) == ARK_OK && a->lock != NULL)
		*a->lock = l;
	else
		meta_lock_clear(&l);
	return rc;
}

enum ark_err
meta_lock_delete(struct meta *m, const char *ns, const char *id,
    const char *owner, int force, struct meta_lock *out)
{
	struct a_lfs a;

	if (ns == NULL || id == NULL || owner == NULL)
		return ARK_EINVAL;
	memset(&a, 0, sizeof(a));
	a.ns = ns;
	a.id = id;
	a.owner = owner;
	a.force = force;
	a.lock = out;
	return meta_exec(m, do_lock_delete, &a);
}

/* ---- data servers ---- */

static enum ark_err
do_server_put(struct mconn *c, void *arg)
{
	const struct meta_server	*s = arg;
	sqlite3_stmt			*st;

	st = stmt(c, "INSERT INTO servers(id, url, grp, created)"
	    " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(id) DO UPDATE"
	    " SET url = excluded.url, grp = excluded.grp");
	bind_text(st, 1, s->id);
	bind_text(st, 2, s->url);
	sqlite3_bind_int64(st, 3, s->group);
	sqlite3_bind_int64(st, 4, ark_now_ms());
	return run(c, st);
}

enum ark_err
meta_server_put(struct meta *m, const struct meta_server *s)
{
	if (!name_ok(s->id, META_ID_MAX) || !name_ok(s->url, META_URL_MAX))
		return ARK_EINVAL;
	return meta_exec(m, do_server_put, (void *)(uintptr_t)s);
}

enum ark_err
meta_server_list(struct meta *m,
    int (*cb)(void *, const struct meta_server *), void *arg)
{
	struct mconn		*c;
	sqlite3_stmt		*st;
	struct meta_server	 s;
	enum ark_err		 rc;

	if ((rc = reader_get(m, &c)) != ARK_OK)
		return rc;
	st = stmt(c, "SELECT id, url, grp, created FROM servers ORDER BY id");
	while ((rc = row(c, st)) == ARK_OK) {
		col_copy(st, 0, s.id, sizeof(s.id));
		col_copy(st, 1, s.url, sizeof(s.url));
		s.group = (uint32_t)sqlite3_column_int64(st, 2);
		s.created_ms = sqlite3_column_int64(st, 3);
		if (cb(arg, &s) != 0)
			break;
	}
	reader_put(m, c);
	return rc == ARK_ENOENT ? ARK_OK : rc;
}

static enum ark_err
do_server_delete(struct mconn *c, void *arg)
{
	sqlite3_stmt	*st;
	enum ark_err	 rc;

	st = stmt(c, "DELETE FROM servers WHERE id = ?1");
	bind_text(st, 1, arg);
	if ((rc = run(c, st)) != ARK_OK)
		return rc;
	return sqlite3_changes(c->db) > 0 ? ARK_OK : ARK_ENOENT;
}

enum ark_err
meta_server_delete(struct meta *m, const char *id)
{
	return meta_exec(m, do_server_delete, (void *)(uintptr_t)id);
}

/* ---- garbage collection ---- */

struct a_gc {
	int64_t			 now, lease, id, retry;
	struct meta_gc_item	*items;
	size_t			 max, n;
};

static enum ark_err
do_gc_take(struct mconn *c, void *arg)
{
	struct a_gc		*a = arg;
	struct meta_gc_item	*it;
	sqlite3_stmt		*st;
	enum ark_err		 rc;
	size_t			 i, n = 0;
	int			 used;

	/* Tombstones whose time is up go first (state 2, next_at = the end
	 * of their keeping), a bounded number a pass. */
	st = stmt(c, "DELETE FROM gc WHERE id IN (SELECT id FROM gc"
	    " WHERE next_at <= ?1 AND state = 2 ORDER BY next_at LIMIT 4096)");
	sqlite3_bind_int64(st, 1, a->now);
	if ((rc = run(c, st)) != ARK_OK)
		return rc;
	st = stmt(c, "SELECT id, fid, attempts FROM gc WHERE next_at <= ?1"
	    " AND state < 2 ORDER BY next_at LIMIT ?2");
	sqlite3_bind_int64(st, 1, a->now);
	sqlite3_bind_int64(st, 2, (int64_t)a->max);
	while ((rc = row(c, st)) == ARK_OK) {
		it = &a->items[n++];
		it->id = sqlite3_column_int64(st, 0);
		col_copy(st, 1, it->fid, sizeof(it->fid));
		it->attempts = (unsigned)sqlite3_column_int(st, 2);
	}
	if (rc != ARK_ENOENT)
		return rc;
	a->n = 0;
	for (i = 0; i < n; i++) {
		it = &a->items[i];
		st = stmt(c, "SELECT EXISTS(SELECT 1 FROM frags WHERE fid = ?1)");
		bind_text(st, 1, it->fid);
		if ((rc = row(c, st)) != ARK_OK)
			return rc;
		used = sqlite3_column_int(st, 0);
		sqlite3_reset(st);
		if (used) {
			st = stmt(c, "DELETE FROM gc WHERE id = ?1");
			sqlite3_bind_int64(st, 1, it->id);
		} else {
			st = stmt(c, "UPDATE gc SET state = 1, next_at = ?2"
			    " WHERE id = ?1");
			sqlite3_bind_int64(st, 1, it->id);
			sqlite3_bind_int64(st, 2, a->now + a->lease);
			a->items[a->n++] = *it;
		}
		if ((rc = run(c, st)) != ARK_OK)
			return rc;
	}
	return ARK_OK;
}

enum ark_err
meta_gc_take(struct meta *m, int64_t now_ms, int64_t lease_ms,
    struct meta_gc_item *items, size_t max, size_t *n)
{
	struct a_gc	a;
	enum ark_err	rc;

	memset(&a, 0, sizeof(a));
	a.now = now_ms;
	a.lease = lease_ms;
	a.items = items;
	a.max = max;
	*n = 0;
	if ((rc = meta_exec(m, do_gc_take, &a)) == ARK_OK)
		*n = a.n;
	return rc;
}

enum ark_err
meta_fid_status(struct meta *m, const char *const *fids, size_t n,
    int *referenced, int *gc_state)
{
	struct mconn	*c;
	sqlite3_stmt	*st;
	enum ark_err	 rc;
	size_t		 i;

	if ((rc = reader_get(m, &c)) != ARK_OK)
		return rc;
	for (i = 0; i < n; i++) {
		st = stmt(c, "SELECT EXISTS(SELECT 1 FROM frags WHERE fid = ?1),"
		    " (SELECT state FROM gc WHERE fid = ?1)");
		bind_text(st, 1, fids[i]);
		if ((rc = row(c, st)) != ARK_OK)
			break;
		referenced[i] = sqlite3_column_int(st, 0);
		gc_state[i] = sqlite3_column_type(st, 1) == SQLITE_NULL ? 0 :
		    1 + sqlite3_column_int(st, 1);
		sqlite3_reset(st);
	}
	reader_put(m, c);
	return rc;
}

static enum ark_err
do_gc_done(struct mconn *c, void *arg)
{
	struct a_gc	*a = arg;
	sqlite3_stmt	*st;

	st = stmt(c, "UPDATE gc SET state = 2, next_at = ?2 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, a->id);
	sqlite3_bind_int64(st, 2, a->retry);
	return run(c, st);
}

enum ark_err
meta_gc_done(struct meta *m, int64_t id, int64_t keep_until_ms)
{
	struct a_gc a;

	memset(&a, 0, sizeof(a));
	a.id = id;
	a.retry = keep_until_ms;
	return meta_exec(m, do_gc_done, &a);
}

static enum ark_err
do_gc_retry(struct mconn *c, void *arg)
{
	struct a_gc	*a = arg;
	sqlite3_stmt	*st;

	st = stmt(c, "UPDATE gc SET attempts = attempts + 1, next_at = ?2"
	    " WHERE id = ?1");
	sqlite3_bind_int64(st, 1, a->id);
	sqlite3_bind_int64(st, 2, a->retry);
	return run(c, st);
}

enum ark_err
meta_gc_retry(struct meta *m, int64_t id, int64_t retry_ms)
{
	struct a_gc a;

	memset(&a, 0, sizeof(a));
	a.id = id;
	a.retry = retry_ms;
	return meta_exec(m, do_gc_retry, &a);
}

/* ---- assigned, never committed ---- */

struct a_assigned {
	const char *const *fids;
	size_t		 n, max;
	int64_t		 at;		/* expires (add) or now (expire) */
	size_t		 queued;
};

static enum ark_err
do_assigned_add(struct mconn *c, void *arg)
{
	struct a_assigned	*a = arg;
	sqlite3_stmt		*st;
	enum ark_err		 rc;
	size_t			 i;

	for (i = 0; i < a->n; i++) {
		st = stmt(c, "INSERT OR REPLACE INTO assigned(fid, expires)"
		    " VALUES(?1, ?2)");
		bind_text(st, 1, a->fids[i]);
		sqlite3_bind_int64(st, 2, a->at);
		if ((rc = run(c, st)) != ARK_OK)
			return rc;
	}
	return ARK_OK;
}

enum ark_err
meta_assigned_add(struct meta *m, const char *const *fids, size_t n,
    int64_t expires_ms)
{
	struct a_assigned a;

	if (n == 0)
		return ARK_OK;
	memset(&a, 0, sizeof(a));
	a.fids = fids;
	a.n = n;
	a.at = expires_ms;
	return meta_exec(m, do_assigned_add, &a);
}

static enum ark_err
do_assigned_expire(struct mconn *c, void *arg)
{
	struct a_assigned	*a = arg;
	struct fidlist		 l;
	sqlite3_stmt		*st;
	enum ark_err		 rc;
	size_t			 i, before;

	memset(&l, 0, sizeof(l));
	st = stmt(c, "SELECT fid FROM assigned WHERE expires < ?1"
	    " ORDER BY expires LIMIT ?2");
	sqlite3_bind_int64(st, 1, a->at);
	sqlite3_bind_int64(st, 2, (int64_t)a->max);
	while ((rc = row(c, st)) == ARK_OK)
		fidlist_add(&l, (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	if (rc != ARK_ENOENT)
		goto out;
	for (i = 0; i < l.n; i++) {
		st = stmt(c, "DELETE FROM assigned WHERE fid = ?1");
		bind_text(st, 1, l.fid[i]);
		if ((rc = run(c, st)) != ARK_OK)
			goto out;
	}
	/* Referenced ones (committed some other way) stay out; the change
	 * count tells how many the queue took. */
	before = (size_t)sqlite3_total_changes(c->db);
	if ((rc = do_gc_unreferenced(c, &l)) != ARK_OK)
		goto out;
	a->queued = (size_t)sqlite3_total_changes(c->db) - before;
out:
	free(l.fid);
	return rc;
}

enum ark_err
meta_assigned_expire(struct meta *m, int64_t now_ms, size_t max,
    size_t *queued)
{
	struct a_assigned	a;
	struct mconn		*c;
	sqlite3_stmt		*st;
	enum ark_err		 rc;
	int			 due = 0;

	/* A read first: most passes find nothing due and then take no
	 * turn of the writer. */
	if ((rc = reader_get(m, &c)) != ARK_OK)
		return rc;
	st = stmt(c, "SELECT EXISTS(SELECT 1 FROM assigned"
	    " WHERE expires < ?1)");
	sqlite3_bind_int64(st, 1, now_ms);
	if ((rc = row(c, st)) == ARK_OK)
		due = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	reader_put(m, c);
	if (queued != NULL)
		*queued = 0;
	if (rc != ARK_OK || !due)
		return rc;
	memset(&a, 0, sizeof(a));
	a.at = now_ms;
	a.max = max;
	rc = meta_exec(m, do_assigned_expire, &a);
	if (queued != NULL)
		*queued = rc == ARK_OK ? a.queued : 0;
	return rc;
}

/* ---- totals ---- */

enum ark_err
meta_totals(struct meta *m, struct meta_totals *out)
{
	struct mconn	*c;
	sqlite3_stmt	*st;
	enum ark_err	 rc;

	memset(out, 0, sizeof(*out));
	if ((rc = reader_get(m, &c)) != ARK_OK)
		return rc;
	st = stmt(c, "SELECT (SELECT count(*) FROM users),"
	    " (SELECT count(*) FROM access_keys), (SELECT count(*) FROM buckets),"
	    " (SELECT coalesce(sum(objects), 0) FROM buckets),"
	    " (SELECT coalesce(sum(bytes), 0) FROM buckets),"
	    " (SELECT count(*) FROM uploads), (SELECT count(*) FROM lfs_objects),"
	    " (SELECT count(*) FROM lfs_locks), (SELECT count(*) FROM gc WHERE state < 2),"
	    " (SELECT value FROM counters WHERE name = 'fid_next')");
	if ((rc = row(c, st)) == ARK_OK) {
		out->users = (uint64_t)sqlite3_column_int64(st, 0);
		out->keys = (uint64_t)sqlite3_column_int64(st, 1);
		out->buckets = (uint64_t)sqlite3_column_int64(st, 2);
		out->objects = (uint64_t)sqlite3_column_int64(st, 3);
		out->bytes = (uint64_t)sqlite3_column_int64(st, 4);
		out->uploads = (uint64_t)sqlite3_column_int64(st, 5);
		out->lfs_objects = (uint64_t)sqlite3_column_int64(st, 6);
		out->locks = (uint64_t)sqlite3_column_int64(st, 7);
		out->gc_queued = (uint64_t)sqlite3_column_int64(st, 8);
		out->next_key = (uint64_t)sqlite3_column_int64(st, 9);
	}
	reader_put(m, c);
	return rc;
}
