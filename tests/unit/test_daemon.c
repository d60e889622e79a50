/*
 * test_daemon.c - signal delivery to the callback on the signal thread,
 * SIGPIPE ignored, atomic pid/port files, mkdirs, data directory lock.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/daemon.h"
#include "common/util.h"

static char *tdir;

static int
setup(void **state)
{
	(void)state;
	tdir = ark_xstrdup("/tmp/arkor-test-daemon.XXXXXX");
	ark_log_init("test_daemon", ARK_LOG_ERROR);
	return mkdtemp(tdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char *cmd = ark_xasprintf("rm -rf '%s'", tdir);
	int rc = system(cmd);

	(void)state;
	free(cmd);
	free(tdir);
	return rc == 0 ? 0 : -1;
}

static char *
slurp(const char *path)
{
	FILE	*f = fopen(path, "r");
	char	*buf = ark_xcalloc(1, 256);

	assert_non_null(f);
	assert_true(fread(buf, 1, 255, f) > 0);
	fclose(f);
	return buf;
}

/* ---- signals ---------------------------------------------------------- */

static pthread_mutex_t	mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	cv = PTHREAD_COND_INITIALIZER;
static int		got[8], ngot;
static pthread_t	cb_thread;

static void
on_signal(int signo, void *arg)
{
	pthread_mutex_lock(&mu);
	if (ngot < 8)
		got[ngot++] = signo;
	cb_thread = pthread_self();
	*(int *)arg += 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static int
wait_for(int n)
{
	struct timespec ts;
	int		rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&mu);
	while (ngot < n && rc == 0)
		rc = pthread_cond_timedwait(&cv, &mu, &ts);
	pthread_mutex_unlock(&mu);
	return ngot >= n;
}

static void
test_signals(void **state)
{
	sigset_t	cur;
	int		calls = 0;

	(void)state;
	assert_int_equal(ark_signals_install(on_signal, &calls), ARK_OK);
	assert_int_equal(ark_signals_install(on_signal, &calls), ARK_EEXIST);
	/* The installing thread now blocks the signals... */
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	assert_true(sigismember(&cur, SIGTERM));
	assert_true(sigismember(&cur, SIGINT));
	assert_true(sigismember(&cur, SIGHUP));
	/* ...so a process-directed signal goes to the signal thread. */
	assert_int_equal(kill(getpid(), SIGHUP), 0);
	assert_true(wait_for(1));
	assert_int_equal(kill(getpid(), SIGTERM), 0);
	assert_true(wait_for(2));
	assert_int_equal(kill(getpid(), SIGINT), 0);
	assert_true(wait_for(3));
	pthread_mutex_lock(&mu);
	assert_int_equal(got[0], SIGHUP);
	assert_int_equal(got[1], SIGTERM);
	assert_int_equal(got[2], SIGINT);
	assert_int_equal(calls, 3);
	/* The callback ran on another (ordinary) thread. */
	assert_false(pthread_equal(cb_thread, pthread_self()));
	pthread_mutex_unlock(&mu);
	/* SIGPIPE is ignored. */
	assert_int_equal(raise(SIGPIPE), 0);
	ark_signals_uninstall();
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	assert_false(sigismember(&cur, SIGTERM));
	assert_int_equal(calls, 3);	/* the wake-up is not a callback */
	ark_signals_uninstall();	/* no-op */
	/* Reinstall works. */
	assert_int_equal(ark_signals_install(on_signal, &calls), ARK_OK);
	assert_int_equal(kill(getpid(), SIGTERM), 0);
	assert_true(wait_for(4));
	ark_signals_uninstall();
}

/* ---- files ------------------------------------------------------------ */

static void
test_runfiles(void **state)
{
	char		*pidf = ark_xasprintf("%s/d.pid", tdir);
	char		*portf = ark_xasprintf("%s/d.port", tdir);
	char		*s, *expect;
	struct stat	 st;

	(void)state;
	assert_int_equal(ark_pidfile_write(pidf), ARK_OK);
	s = slurp(pidf);
	expect = ark_xasprintf("%ld\n", (long)getpid());
	assert_string_equal(s, expect);
	free(s);
	free(expect);
	assert_int_equal(stat(pidf, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);

	assert_int_equal(ark_portfile_write(portf, 41234), ARK_OK);
	s = slurp(portf);
	assert_string_equal(s, "41234\n");
	free(s);
	/* Replaced atomically. */
	assert_int_equal(ark_portfile_write(portf, 7), ARK_OK);
	s = slurp(portf);
	assert_string_equal(s, "7\n");
	free(s);
	assert_int_equal(ark_portfile_write(portf, 0), ARK_EINVAL);
	assert_int_equal(ark_portfile_write(portf, 65536), ARK_EINVAL);

	/* Only the two files, no temp files left. */
	{
		char *cmd = ark_xasprintf("test $(ls -A '%s' | wc -l) -eq 2",
		    tdir);
		assert_int_equal(system(cmd), 0);
		free(cmd);
	}
	/* Failure: the directory does not exist; nothing created. */
	{
		char *bad = ark_xasprintf("%s/nodir/x.port", tdir);
		assert_int_equal(ark_portfile_write(bad, 80), ARK_EIO);
		free(bad);
	}
	assert_int_equal(ark_write_file_atomic(portf, "abc", 3, 0600), ARK_OK);
	assert_int_equal(stat(portf, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 3);
	ark_runfile_remove(pidf);
	ark_runfile_remove(portf);
	ark_runfile_remove(portf);
	assert_int_equal(stat(pidf, &st), -1);
	free(pidf);
	free(portf);
}

static void
test_mkdirs(void **state)
{
	char		*deep = ark_xasprintf("%s/a/b//c/", tdir);
	char		*file = ark_xasprintf("%s/f", tdir);
	char		*under = ark_xasprintf("%s/f/x", tdir);
	struct stat	 st;

	(void)state;
	assert_int_equal(ark_mkdirs(deep, 0750), ARK_OK);
	assert_int_equal(stat(deep, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(ark_mkdirs(deep, 0750), ARK_OK);
	assert_int_equal(ark_write_file_atomic(file, "x", 1, 0644), ARK_OK);
	assert_int_equal(ark_mkdirs(under, 0750), ARK_EEXIST);
	assert_int_equal(ark_mkdirs(file, 0750), ARK_EEXIST);
	free(deep);
	free(file);
	free(under);
}

static void
test_datadir_lock(void **state)
{
	struct ark_datadir	*d = NULL, *d2 = NULL;
	char			*dir = ark_xasprintf("%s/data/node1", tdir);
	char			*lock = ark_xasprintf("%s/LOCK", dir);
	char			*s, *expect;
	pid_t			 pid;
	int			 status;

	(void)state;
	assert_int_equal(ark_datadir_open(dir, false, &d), ARK_ENOENT);
	assert_int_equal(ark_datadir_open(dir, true, &d), ARK_OK);
	assert_string_equal(ark_datadir_path(d), dir);
	s = slurp(lock);
	expect = ark_xasprintf("%ld\n", (long)getpid());
	assert_string_equal(s, expect);
	free(s);
	free(expect);
	/* A second open in this process conflicts too (flock is per open). */
	assert_int_equal(ark_datadir_open(dir, true, &d2), ARK_EAGAIN);
	/* And so does another process; it names our pid in its message. */
	fflush(NULL);
	if ((pid = fork()) == 0) {
		struct ark_datadir *c = NULL;
		char *errf = ark_xasprintf("%s/child.err", tdir);

		if (freopen(errf, "w", stderr) == NULL)
			_exit(98);
		ark_log_set_level(ARK_LOG_WARN);
		_exit(ark_datadir_open(dir, true, &c) == ARK_EAGAIN ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	{
		char *errf = ark_xasprintf("%s/child.err", tdir);
		char *want = ark_xasprintf("is in use by another process "
		    "(pid %ld", (long)getpid());

		s = slurp(errf);
		assert_non_null(strstr(s, want));
		free(s);
		free(want);
		free(errf);
	}
	ark_datadir_close(d);
	/* Released: can be taken again. */
	assert_int_equal(ark_datadir_open(dir, false, &d2), ARK_OK);
	ark_datadir_close(d2);
	ark_datadir_close(NULL);
	/* Not a directory. */
	assert_int_equal(ark_datadir_open(lock, false, &d), ARK_EEXIST);
	free(dir);
	free(lock);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_runfiles),
		cmocka_unit_test(test_mkdirs),
		cmocka_unit_test(test_datadir_lock),
	};

	return cmocka_run_group_tests_name("daemon", tests, setup, teardown);
}
