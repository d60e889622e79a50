/*
 * log.h - one line per event on stderr (or a file), with level, program,
 * pid, thread-local request id. OpenBSD vocabulary: *_warn appends
 * strerror(errno), *_warnx does not. Thread-safe: each line is written with
 * one write(2).
 */
#ifndef ARKOR_COMMON_LOG_H
#define ARKOR_COMMON_LOG_H

#include <stdarg.h>

enum ark_log_level {
	ARK_LOG_ERROR = 0,
	ARK_LOG_WARN,
	ARK_LOG_INFO,
	ARK_LOG_DEBUG,
};

#define ARK_PRINTF(f, a)	__attribute__((format(printf, f, a)))

/* Sets the program name shown on each line (borrowed; must outlive logging)
 * and the maximum level written. Call once from main(). */
void	ark_log_init(const char *progname, enum ark_log_level level);
void	ark_log_set_level(enum ark_log_level level);
enum ark_log_level ark_log_get_level(void);
/* Parses "error|warn|info|debug"; returns -1 when unknown. */
int	ark_log_level_parse(const char *s);
/* Appends to `path` instead of stderr; returns -1 (errno set) on failure.
 * NULL or "-" means stderr. Calling it again with a file reopens in place
 * (log rotation on SIGHUP): the fd number stays, so threads logging at that
 * moment are safe; switching back to stderr leaves the old file open. */
int	ark_log_open(const char *path);

/* Request id of the calling thread, shown as "req=<id>"; NULL clears.
 * The string is copied (up to 63 bytes). */
void	ark_log_set_reqid(const char *id);
const char *ark_log_get_reqid(void);

void	ark_log_msg(enum ark_log_level, int with_errno, const char *fmt, ...)
	    ARK_PRINTF(3, 4);
void	ark_log_vmsg(enum ark_log_level, int with_errno, const char *fmt,
	    va_list ap) ARK_PRINTF(3, 0);

#define ark_log_error(...)	ark_log_msg(ARK_LOG_ERROR, 0, __VA_ARGS__)
#define ark_log_warn(...)	ark_log_msg(ARK_LOG_WARN, 1, __VA_ARGS__)
#define ark_log_warnx(...)	ark_log_msg(ARK_LOG_WARN, 0, __VA_ARGS__)
#define ark_log_info(...)	ark_log_msg(ARK_LOG_INFO, 0, __VA_ARGS__)
#define ark_log_debug(...) do {						\
	if (ark_log_get_level() >= ARK_LOG_DEBUG)			\
		ark_log_msg(ARK_LOG_DEBUG, 0, __VA_ARGS__);		\
} while (0)

/* Log and abort(): for impossible states only. */
_Noreturn void	ark_fatal(const char *fmt, ...) ARK_PRINTF(1, 2);
_Noreturn void	ark_fatalx(const char *fmt, ...) ARK_PRINTF(1, 2);

/* Routes libevent's internal messages into this log. */
void	ark_log_hook_libevent(void);

#endif /* ARKOR_COMMON_LOG_H */
