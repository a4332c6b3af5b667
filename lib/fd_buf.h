/*
 * fd_buf.h — a growable byte buffer (in the manner of git's strbuf).
 *
 * The buffer is always NUL-terminated after len bytes, so buf->s can be passed to C string
 * functions when the content has no NUL.  Allocation failure is fatal to nothing: functions
 * return -1 and leave the buffer as it was; callers map that to FD_EIO "out of memory".
 *
 * The error is sticky: after one failed addition every later addition is a no-op that returns
 * -1, fd_buf_failed() is true and fd_buf_detach() returns NULL, until fd_buf_release() (or
 * fd_buf_init()).  So a writer may append without checking each call and check once, before it
 * hands the content on: a buffer whose middle was dropped is never taken for a whole one.
 * fd_buf_reset() keeps the error.  Writers to a file use fd_out_write_buf() (fd_io.h), which
 * turns a failed buffer into an error of the output.
 */
#ifndef FD_BUF_H
#define FD_BUF_H

#include <stddef.h>
#include <stdint.h>

struct fd_buf {
	char *s;     /* content, NUL-terminated; NULL until the first addition */
	size_t len;  /* bytes of content, not counting the NUL */
	size_t cap;  /* bytes allocated */
	int failed;  /* an addition failed (sticky): see fd_buf_failed() */
};

#define FD_BUF_INIT { NULL, 0, 0, 0 }

void fd_buf_init(struct fd_buf *b);
/* Free the memory and return to the initial state. */
void fd_buf_release(struct fd_buf *b);
/* 1 when an addition has failed since the last init/release (the content is then cut). */
static inline int fd_buf_failed(const struct fd_buf *b) { return b->failed; }
/* Empty the content, keep the memory (and the error, if any). */
static inline void fd_buf_reset(struct fd_buf *b) { b->len = 0; if (b->s) b->s[0] = '\0'; }
/* Make room for at least extra more bytes (plus the NUL).  0, or -1 (and the buffer failed). */
int fd_buf_grow(struct fd_buf *b, size_t extra);
int fd_buf_add(struct fd_buf *b, const void *p, size_t n);
int fd_buf_adds(struct fd_buf *b, const char *s);
int fd_buf_addc(struct fd_buf *b, char c);
int fd_buf_addf(struct fd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal, quotes included (RFC 8259 escaping; bytes >= 0x80 are
 * copied as they are, so valid UTF-8 stays valid). */
int fd_buf_add_json_str(struct fd_buf *b, const char *s, size_t n);
/* Append a signed integer in decimal. */
int fd_buf_add_i64(struct fd_buf *b, int64_t v);
/* Append lowercase hex of n bytes. */
int fd_buf_add_hex(struct fd_buf *b, const unsigned char *p, size_t n);
/* Write lowercase hex of n bytes to out (2n characters and a NUL: out holds 2n + 1). */
void fd_hex(const void *p, size_t n, char *out);
/* Detach the content: the caller owns the returned string (never NULL on success) and must
 * free() it; the buffer is left empty.  NULL when out of memory or when the buffer failed (its
 * memory is then freed and the buffer left as after fd_buf_release()). */
char *fd_buf_detach(struct fd_buf *b, size_t *len);

#endif
