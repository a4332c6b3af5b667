/*
 * fd_err.h — status codes and error messages shared by the whole library.
 *
 * The library never prints and never exits.  A function that can fail returns one of the
 * fd_status codes below (FD_OK, 0, on success) and, when it fails, fills a caller-supplied
 * struct fd_err with a one-line message that the tool shows after its own name.  The codes are
 * the exit codes of DESIGN.md, so cmd/ can exit with err.code directly.
 */
#ifndef FD_ERR_H
#define FD_ERR_H

#include <stddef.h>

enum fd_status {
	FD_OK = 0,
	FD_EFINDINGS = 1, /* completed, with findings the caller asked to fail on */
	FD_EUSAGE = 2,    /* bad option or argument */
	FD_EINPUT = 3,    /* bad input data: malformed file, corrupt model, rules syntax */
	FD_EIO = 4,       /* I/O or system error, store locked */
	FD_EPERM = 5,     /* the actor's role does not allow the action */
};

struct fd_err {
	int code;        /* an fd_status; FD_OK when nothing went wrong */
	char msg[1024];  /* NUL-terminated message, without the tool name or a newline */
};

/* Set code and message (printf format); returns code so callers can `return fd_err_set(...)`.
 * err may be NULL, in which case only the code is returned. */
int fd_err_set(struct fd_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix the existing message with "prefix: " (e.g. a file name).  Keeps the code. */
void fd_err_prefix(struct fd_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reset to FD_OK and an empty message. */
void fd_err_clear(struct fd_err *err);

/*
 * Copy s (n bytes, not necessarily NUL-terminated) into dst (size dstsz, always NUL-terminated)
 * making it safe to show in a one-line message: control bytes and backslashes become \n, \t,
 * \r, \\ or \xHH, and a value longer than the room is cut and ends in "...".  Returns dst.
 */
char *fd_visible(char *dst, size_t dstsz, const char *s, size_t n);

/*
 * 1 when s is a plain identifier of 1 to max bytes: ASCII letters, digits and '_', not
 * starting with a digit (a C name, and an SQL name that needs no quoting); else 0 (NULL too).
 * The one check of names that fd puts into SQL or accepts from users (list names, tables
 * and columns named by audit entries).
 */
int fd_plain_ident(const char *s, size_t max);
/* The longest table or column name fd_plain_ident is asked to pass for SQL. */
#define FD_IDENT_MAX 64

#endif
