/*
 * fd_io.h — byte streams in and out.
 *
 * Input: a path, or NULL / "-" for standard input.  Compression is detected by the zstd frame
 * magic (28 b5 2f fd), never by the name, and decompressed as it streams: memory stays constant
 * whatever the size.  Optionally the raw bytes (as stored on disk, compressed or not) are hashed
 * with SHA-256 as they are read, giving the hex `sha256sum` prints, for chain of custody.
 *
 * Output: a regular file (or a name that does not exist yet) is written to a temporary file
 * beside it and renamed into place only by fd_out_commit(), after flush and fsync;
 * fd_out_abort() removes the temporary, so a failed run never leaves a half-written file, and
 * the temporary is registered (fd_tmp_register) so that a tool's signal handler removes it on
 * SIGINT or SIGTERM.  A device, FIFO or socket, /dev/stdout, /dev/stderr, /dev/fd/N and
 * /proc/self/fd/N are written in place: opened (or the descriptor duplicated) and never
 * renamed over or unlinked.  NULL or "-" writes to standard output, where commit means flush
 * and check.  No output may be a protected path (fd_out_protect): the store, its -wal, -shm
 * and -journal files, or an input.
 */
#ifndef FD_IO_H
#define FD_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fd_err.h"

struct fd_in;

enum {
	FD_IN_HASH = 1,  /* compute the SHA-256 of the raw bytes */
};

/* Open path (NULL or "-" = stdin).  FD_EIO with "cannot open 'x': reason" on failure. */
int fd_in_open(struct fd_in **in, const char *path, int flags, struct fd_err *err);
/* Open n bytes of memory at p (borrowed: they must outlive in) as an input named name (copied;
 * NULL = "<memory>"), with the same detection, decompression and hashing as a file.  For tests
 * and fuzzing.  FD_EIO only when out of memory. */
int fd_in_open_mem(struct fd_in **in, const void *p, size_t n, const char *name, int flags,
		   struct fd_err *err);
/* Accepts NULL.  Does not close standard input. */
void fd_in_free(struct fd_in *in);

/* Read up to n decompressed bytes.  Returns the count, 0 at the end, -1 on error (err set:
 * FD_EIO for a read error, FD_EINPUT for a corrupt or truncated zstd stream; the message names
 * the input).  Errors are sticky: every later call fails the same way.  A compressed input may
 * hold several concatenated zstd frames and skippable frames; it ends cleanly only at the end
 * of a complete frame. */
ssize_t fd_in_read(struct fd_in *in, void *buf, size_t n, struct fd_err *err);

/* Read the rest of the raw bytes and discard them, without decompressing (so that the hash
 * and fd_in_raw_bytes() cover the whole input); later reads return 0.  0 or an fd_status. */
int fd_in_drain(struct fd_in *in, struct fd_err *err);

/* The name to show in messages: the path, or "<stdin>". */
const char *fd_in_name(const struct fd_in *in);
/* Show name in messages instead (e.g. "<stdin>" for a spooled copy).  0, or -1 out of memory. */
int fd_in_set_name(struct fd_in *in, const char *name);
/* 1 when the input is standard input. */
int fd_in_is_stdin(const struct fd_in *in);
/* Raw (on-disk) bytes consumed so far, and the total raw size (-1 when not a regular file). */
uint64_t fd_in_raw_bytes(const struct fd_in *in);
int64_t fd_in_size(const struct fd_in *in);
/* 1 when the input is zstd-compressed. */
int fd_in_compressed(const struct fd_in *in);
/* Lowercase hex SHA-256 of the raw bytes read so far (65 bytes with the NUL).  Only with
 * FD_IN_HASH (else hex is ""); after the end of input (or fd_in_drain) this is the hash of
 * the whole file. */
void fd_in_sha256(const struct fd_in *in, char hex[65]);

/*
 * What binary format the first n bytes of an input (after zstd decompression) are, by magic
 * number: "gzip", "bzip2", "xz", "ZIP (xlsx, docx, ods or zip)", "PDF", "SQLite database",
 * "ELF executable", "7-Zip", "RAR", "PNG image", "JPEG image", "OLE2 (xls or doc)",
 * "Parquet", "UTF-16 text", or "binary" when a NUL byte is among them; NULL for anything else
 * (text, as far as can be told).  A static string. */
const char *fd_binary_kind(const void *p, size_t n);

/* SHA-256 of a whole file's bytes, as sha256sum prints it; size too when not NULL. */
int fd_sha256_file(const char *path, char hex[65], int64_t *size, struct fd_err *err);
/* SHA-256 of a memory block, lowercase hex. */
void fd_sha256_hex(const void *p, size_t n, char hex[65]);

struct fd_out;

/*
 * Paths no output of this process may write: every fd_out_open() and, again just before its
 * rename, every fd_out_commit() refuses them with FD_EUSAGE ("refusing to overwrite the store
 * 'x'", "... input file 'x'").  A path is compared by device and inode (so hard and symbolic
 * links and other spellings count) and by absolute name (so a file that does not exist yet
 * counts too).  With store set, path is an SQLite store and its "-wal", "-shm" and "-journal"
 * files are protected by name as well (beside the path and beside its real path).  NULL and
 * "-" are ignored; there is no limit on the count.  0, or FD_EIO when out of memory.
 * The list is the process's: a tool adds its store and inputs once, before any output.
 */
int fd_out_protect(const char *path, int store, struct fd_err *err);
/* fd_out_protect(paths[i], 0, err) for each of n inputs. */
int fd_out_protect_list(const char *const *paths, size_t n, struct fd_err *err);
/* FD_EUSAGE with fd_out_open's message when path names a protected file, else FD_OK: for a
 * tool to refuse an output it opens late (metrics) before it changes anything. */
int fd_out_check(const char *path, struct fd_err *err);
/* Forget every protected path (for tests). */
void fd_out_protect_clear(void);

/*
 * Temporary files to remove if the process is killed by a signal it catches.  The tool's
 * handler calls fd_tmp_cleanup(), which is async-signal-safe (it only calls unlink(2)), then
 * dies of the signal.  Register returns 0, or -1 when path is too long or 64 temporaries are
 * registered already.  fd_out_open registers its temporary and fd_out_commit/abort forget it.
 */
int fd_tmp_register(const char *path);
void fd_tmp_unregister(const char *path);
void fd_tmp_cleanup(void);

/* Open path for writing (NULL or "-" = stdout).  Refuses (FD_EUSAGE) to write over a
 * protected path or one of the paths in avoid[] (NULL-terminated, may be NULL; "-" entries
 * are ignored), whatever the spelling.  A symbolic link to a regular file is followed: the
 * file it names is replaced and the link stays.
 * The temporary is ".NAME.XXXXXX" in the target's directory, mode 0666 less the umask.
 * On standard output the bytes go out with write(2) on descriptor 1, bypassing stdio: do not
 * mix with printf to stdout without fflush(stdout) first. */
int fd_out_open(struct fd_out **out, const char *path, const char *const *avoid,
		struct fd_err *err);
/* Buffered writes; errors are sticky and reported by fd_out_commit(). */
void fd_out_write(struct fd_out *out, const void *p, size_t n);
void fd_out_puts(struct fd_out *out, const char *s);
void fd_out_printf(struct fd_out *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Formatting in place, without a copy: fd_out_room() returns where up to n bytes (n at most
 * FD_OUT_ROOM_MAX) can be written next, flushing first when the buffer has less room; the
 * caller writes there and then fd_out_advance()s by the bytes it wrote (at most n).  NULL
 * after an error (write nothing and do not advance). */
#define FD_OUT_ROOM_MAX 4096
char *fd_out_room(struct fd_out *out, size_t n);
void fd_out_advance(struct fd_out *out, size_t n);
/* Write a buffer's content; when the buffer failed (fd_buf_failed(), fd_buf.h) nothing is
 * written and fd_out_commit() fails with FD_EIO "out of memory building 'x': not written"
 * (on standard output or in place: "... its content is incomplete"). */
struct fd_buf;
void fd_out_write_buf(struct fd_out *out, const struct fd_buf *b);
/* Flush what is buffered (for line-at-a-time pipelines).  0 or -1 (error kept for commit). */
int fd_out_flush(struct fd_out *out);
/* Flush, fsync and rename into place (or flush stdout); frees out.  FD_EIO on any error
 * ("write error on 'x': No space left on device"), in which case the target is untouched. */
int fd_out_commit(struct fd_out *out, struct fd_err *err);
/* Record an error (an errno value) that fd_out_commit() will report if none came first; later
 * writes are dropped.  For layers above fd_out that cannot return one themselves (fd_writer
 * when out of memory). */
void fd_out_set_error(struct fd_out *out, int errnum);
/* Discard: remove the temporary file (on stdout: drop what is still buffered); frees out.
 * Accepts NULL. */
void fd_out_abort(struct fd_out *out);
/* The name to show in messages. */
const char *fd_out_name(const struct fd_out *out);

#endif
