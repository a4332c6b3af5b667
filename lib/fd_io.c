/* fd_io.c — see fd_io.h.
 *
 * Input keeps one raw buffer.  Uncompressed, it only holds the bytes read at open to look for
 * the zstd magic; after those are served, reads go straight into the caller's buffer.
 * Compressed, it is the ZSTD_DStream input buffer, and the stream decompresses straight into
 * the caller's buffer.  Every raw byte passes through raw_read(), which counts and hashes it.
 *
 * Output has its own buffer rather than stdio's: one memcpy per write, write(2) for 256 KiB at
 * a time, and every error kept (errno) until commit, which is the single place that reports.
 */
#include "fd_io.h"
#include "fd_buf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <zstd.h>

#define IN_RAWBUF (128 * 1024)
#define OUT_BUFSZ (256 * 1024)

struct fd_in {
	int fd;                /* -1 for memory input */
	int is_stdin;
	int flags;
	char *name;
	const unsigned char *mem;
	size_t mem_len, mem_pos;
	int64_t size;
	uint64_t raw_bytes;
	int raw_eof;           /* the raw source is exhausted */
	int done;              /* drained: reads return 0 */
	struct fd_err fail;    /* sticky error; fail.code == FD_OK while healthy */
	int compressed;
	ZSTD_DStream *zd;
	size_t zret;           /* last ZSTD_decompressStream() result: 0 at a frame's end */
	unsigned char *rbuf;   /* raw buffer */
	size_t rcap, rpos, rlen;
	crypto_hash_sha256_state sha;
};

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

/* Read raw bytes from the source, counting and hashing them.  -1 with errno on error. */
static ssize_t raw_read(struct fd_in *in, void *buf, size_t n)
{
	ssize_t r;

	if (in->raw_eof || n == 0)
		return 0;
	if (in->fd < 0) {
		size_t left = in->mem_len - in->mem_pos;

		r = (ssize_t)(n < left ? n : left);
		memcpy(buf, in->mem + in->mem_pos, (size_t)r);
		in->mem_pos += (size_t)r;
	} else {
		if (n > SSIZE_MAX)
			n = SSIZE_MAX;
		do
			r = read(in->fd, buf, n);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return -1;
	}
	if (r == 0) {
		in->raw_eof = 1;
		return 0;
	}
	in->raw_bytes += (uint64_t)r;
	if (in->flags & FD_IN_HASH)
		crypto_hash_sha256_update(&in->sha, buf, (unsigned long long)r);
	return r;
}

static int fail_io(struct fd_in *in, struct fd_err *err, int errnum)
{
	fd_err_set(&in->fail, FD_EIO, "read error on '%s': %s", in->name, strerror(errnum));
	if (err)
		*err = in->fail;
	return -1;
}

/* Fill the raw buffer from rlen on until it holds at least want bytes or the source ends. */
static int raw_fill(struct fd_in *in, size_t want, struct fd_err *err)
{
	while (in->rlen < want && !in->raw_eof) {
		ssize_t r = raw_read(in, in->rbuf + in->rlen, in->rcap - in->rlen);

		if (r < 0)
			return fail_io(in, err, errno);
		in->rlen += (size_t)r;
	}
	return 0;
}

/* zstd frame magic 0xFD2FB528 or a skippable frame 0x184D2A5?, both little-endian. */
static int is_zstd(const unsigned char *p, size_t n)
{
	if (n < 4)
		return 0;
	if (p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
		return 1;
	return (p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d && p[3] == 0x18;
}

/* Common part of the two opens: buffers, hash, magic detection. */
static int in_start(struct fd_in *in, struct fd_err *err)
{
	in->rcap = IN_RAWBUF;
	if (in->rcap < ZSTD_DStreamInSize())
		in->rcap = ZSTD_DStreamInSize();
	in->rbuf = malloc(in->rcap);
	if (!in->rbuf)
		return fd_err_set(err, FD_EIO, "out of memory");
	if (in->flags & FD_IN_HASH) {
		if (sodium_init() < 0)
			return fd_err_set(err, FD_EIO, "cannot initialise libsodium");
		crypto_hash_sha256_init(&in->sha);
	}
	if (raw_fill(in, 4, err))
		return err ? err->code : FD_EIO;
	if (is_zstd(in->rbuf, in->rlen)) {
		in->compressed = 1;
		in->zd = ZSTD_createDStream();
		if (!in->zd || ZSTD_isError(ZSTD_initDStream(in->zd)))
			return fd_err_set(err, FD_EIO, "out of memory");
		in->zret = 1;
	}
	return FD_OK;
}

static struct fd_in *in_alloc(const char *name)
{
	struct fd_in *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->fd = -1;
	in->size = -1;
	in->name = dup_str(name);
	if (!in->name) {
		free(in);
		return NULL;
	}
	return in;
}

int fd_in_open(struct fd_in **inp, const char *path, int flags, struct fd_err *err)
{
	int stdin_ = !path || !strcmp(path, "-");
	struct fd_in *in;
	struct stat st;
	int rc;

	*inp = NULL;
	in = in_alloc(stdin_ ? "<stdin>" : path);
	if (!in)
		return fd_err_set(err, FD_EIO, "out of memory");
	in->flags = flags;
	if (stdin_) {
		in->fd = STDIN_FILENO;
		in->is_stdin = 1;
	} else {
		in->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (in->fd < 0) {
			rc = fd_err_set(err, FD_EIO, "cannot open '%s': %s", path, strerror(errno));
			goto fail;
		}
	}
	if (fstat(in->fd, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			rc = fd_err_set(err, FD_EIO, "cannot open '%s': %s", in->name,
					strerror(EISDIR));
			goto fail;
		}
		if (S_ISREG(st.st_mode)) {
			in->size = (int64_t)st.st_size;
			posix_fadvise(in->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		}
	}
	rc = in_start(in, err);
	if (rc)
		goto fail;
	*inp = in;
	return FD_OK;
fail:
	fd_in_free(in);
	return rc;
}

int fd_in_open_mem(struct fd_in **inp, const void *p, size_t n, const char *name, int flags,
		   struct fd_err *err)
{
	struct fd_in *in;
	int rc;

	*inp = NULL;
	in = in_alloc(name ? name : "<memory>");
	if (!in)
		return fd_err_set(err, FD_EIO, "out of memory");
	in->flags = flags;
	in->mem = p;
	in->mem_len = n;
	in->size = (int64_t)n;
	rc = in_start(in, err);
	if (rc) {
		fd_in_free(in);
		return rc;
	}
	*inp = in;
	return FD_OK;
}

void fd_in_free(struct fd_in *in)
{
	if (!in)
		return;
	if (in->fd >= 0 && !in->is_stdin)
		close(in->fd);
	ZSTD_freeDStream(in->zd);
	free(in->rbuf);
	free(in->name);
	free(in);
}

static ssize_t read_plain(struct fd_in *in, void *buf, size_t n, struct fd_err *err)
{
	ssize_t r;

	if (in->rpos < in->rlen) {
		size_t k = in->rlen - in->rpos;

		if (k > n)
			k = n;
		memcpy(buf, in->rbuf + in->rpos, k);
		in->rpos += k;
		return (ssize_t)k;
	}
	r = raw_read(in, buf, n);
	if (r < 0)
		return fail_io(in, err, errno);
	return r;
}

static ssize_t read_zstd(struct fd_in *in, void *buf, size_t n, struct fd_err *err)
{
	ZSTD_outBuffer out = { buf, n, 0 };

	for (;;) {
		ZSTD_inBuffer zin;
		size_t ret;

		if (in->rpos == in->rlen && !in->raw_eof) {
			in->rpos = in->rlen = 0;
			if (raw_fill(in, 1, err))
				return -1;
		}
		/* A new call after a frame's end would wait for the next frame's header. */
		if (in->rpos == in->rlen && in->raw_eof && in->zret == 0)
			return 0;
		zin.src = in->rbuf;
		zin.size = in->rlen;
		zin.pos = in->rpos;
		ret = ZSTD_decompressStream(in->zd, &out, &zin);
		in->rpos = zin.pos;
		if (ZSTD_isError(ret)) {
			fd_err_set(&in->fail, FD_EINPUT, "%s: corrupt zstd stream: %s", in->name,
				   ZSTD_getErrorName(ret));
			if (err)
				*err = in->fail;
			return -1;
		}
		in->zret = ret;
		if (out.pos > 0)
			return (ssize_t)out.pos;
		if (in->rpos == in->rlen && in->raw_eof) {
			if (in->zret != 0) {
				fd_err_set(&in->fail, FD_EINPUT,
					   "%s: truncated zstd stream (the input ends inside a frame)",
					   in->name);
				if (err)
					*err = in->fail;
				return -1;
			}
			return 0;
		}
	}
}

ssize_t fd_in_read(struct fd_in *in, void *buf, size_t n, struct fd_err *err)
{
	if (in->fail.code != FD_OK) {
		if (err)
			*err = in->fail;
		return -1;
	}
	if (in->done || n == 0)
		return 0;
	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	return in->compressed ? read_zstd(in, buf, n, err) : read_plain(in, buf, n, err);
}

int fd_in_drain(struct fd_in *in, struct fd_err *err)
{
	if (in->fail.code != FD_OK && in->fail.code != FD_EINPUT) {
		if (err)
			*err = in->fail;
		return in->fail.code;
	}
	/* A decompression error does not stop the raw bytes from being hashed. */
	in->rpos = in->rlen = 0;
	while (!in->raw_eof) {
		ssize_t r = raw_read(in, in->rbuf, in->rcap);

		if (r < 0) {
			fail_io(in, err, errno);
			return FD_EIO;
		}
	}
	in->done = 1;
	return FD_OK;
}

const char *fd_in_name(const struct fd_in *in)
{
	return in->name;
}

int fd_in_set_name(struct fd_in *in, const char *name)
{
	char *n = strdup(name);

	if (!n)
		return -1;
	free(in->name);
	in->name = n;
	return 0;
}

int fd_in_is_stdin(const struct fd_in *in)
{
	return in->is_stdin;
}

uint64_t fd_in_raw_bytes(const struct fd_in *in)
{
	return in->raw_bytes;
}

int64_t fd_in_size(const struct fd_in *in)
{
	return in->size;
}

int fd_in_compressed(const struct fd_in *in)
{
	return in->compressed;
}

void fd_in_sha256(const struct fd_in *in, char hex[65])
{
	crypto_hash_sha256_state st;
	unsigned char d[crypto_hash_sha256_BYTES];

	if (!(in->flags & FD_IN_HASH)) {
		hex[0] = '\0';
		return;
	}
	st = in->sha;  /* finalise a copy: the input may go on */
	crypto_hash_sha256_final(&st, d);
	fd_hex(d, sizeof(d), hex);
}

int fd_sha256_file(const char *path, char hex[65], int64_t *size, struct fd_err *err)
{
	struct fd_in *in;
	int rc;

	rc = fd_in_open(&in, path, FD_IN_HASH, err);
	if (rc)
		return rc;
	rc = fd_in_drain(in, err);
	if (rc == FD_OK) {
		fd_in_sha256(in, hex);
		if (size)
			*size = (int64_t)in->raw_bytes;
	}
	fd_in_free(in);
	return rc;
}

void fd_sha256_hex(const void *p, size_t n, char hex[65])
{
	unsigned char d[crypto_hash_sha256_BYTES];

	if (sodium_init() < 0) {
		/* Only fails when no entropy source is found, which hashing does not need. */
	}
	crypto_hash_sha256(d, p, (unsigned long long)n);
	fd_hex(d, sizeof(d), hex);
}

/* ---- output -------------------------------------------------------------------------- */

struct fd_out {
	int fd;
	int is_stdout;
	char *path;   /* the target, as given */
	char *tmp;    /* the temporary beside it; NULL on standard output */
	char *dir;    /* the target's directory, fsynced after the rename */
	unsigned char *buf;
	size_t len, cap;
	int errnum;   /* first error (errno), 0 while healthy */
};

static mode_t new_file_mode(void)
{
	/* The umask can only be read by setting it; done once, before any output exists. */
	static int known;
	static mode_t mode;

	if (!known) {
		mode_t u = umask(022);

		umask(u);
		mode = 0666 & ~u;
		known = 1;
	}
	return mode;
}

static void out_free(struct fd_out *out)
{
	free(out->path);
	free(out->tmp);
	free(out->dir);
	free(out->buf);
	free(out);
}

/* 1 when path is the same file as one of avoid[] (both existing). */
static int is_avoided(const char *path, const char *const *avoid, const char **which)
{
	struct stat t, a;
	size_t i;

	if (!avoid || stat(path, &t) != 0)
		return 0;
	for (i = 0; avoid[i]; i++) {
		if (!strcmp(avoid[i], "-") || stat(avoid[i], &a) != 0)
			continue;
		if (a.st_dev == t.st_dev && a.st_ino == t.st_ino) {
			*which = avoid[i];
			return 1;
		}
	}
	return 0;
}

int fd_out_open(struct fd_out **outp, const char *path, const char *const *avoid,
		struct fd_err *err)
{
	struct fd_out *out;
	const char *slash, *base, *which = NULL;
	struct stat st;
	size_t dlen, blen;
	int rc;

	*outp = NULL;
	out = calloc(1, sizeof(*out));
	if (!out)
		return fd_err_set(err, FD_EIO, "out of memory");
	out->fd = -1;
	out->cap = OUT_BUFSZ;
	out->buf = malloc(out->cap);
	if (!out->buf) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto fail;
	}
	if (!path || !strcmp(path, "-")) {
		out->is_stdout = 1;
		out->fd = STDOUT_FILENO;
		*outp = out;
		return FD_OK;
	}
	out->path = dup_str(path);
	if (!out->path) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto fail;
	}
	if (is_avoided(path, avoid, &which)) {
		rc = fd_err_set(err, FD_EUSAGE, "refusing to overwrite input file '%s'%s%s%s", path,
				strcmp(which, path) ? " (same file as '" : "",
				strcmp(which, path) ? which : "", strcmp(which, path) ? "')" : "");
		goto fail;
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		rc = fd_err_set(err, FD_EIO, "cannot create '%s': %s", path, strerror(EISDIR));
		goto fail;
	}
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	if (!*base) {
		rc = fd_err_set(err, FD_EIO, "cannot create '%s': %s", path, strerror(EISDIR));
		goto fail;
	}
	dlen = slash ? (size_t)(slash - path) : 0;
	blen = strlen(base);
	out->dir = malloc(dlen + 2);
	out->tmp = malloc(dlen + blen + 16);
	if (!out->dir || !out->tmp) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto fail;
	}
	if (!slash) {
		memcpy(out->dir, ".", 2);
	} else if (dlen == 0) {
		memcpy(out->dir, "/", 2);
	} else {
		memcpy(out->dir, path, dlen);
		out->dir[dlen] = '\0';
	}
	/* dir/.base.XXXXXX, or .base.XXXXXX beside a relative name */
	memcpy(out->tmp, path, (size_t)(base - path));
	memcpy(out->tmp + (base - path), ".", 1);
	memcpy(out->tmp + (base - path) + 1, base, blen);
	memcpy(out->tmp + (base - path) + 1 + blen, ".XXXXXX", 8);
	out->fd = mkostemp(out->tmp, O_CLOEXEC);
	if (out->fd < 0) {
		rc = fd_err_set(err, FD_EIO, "cannot create '%s': %s", path, strerror(errno));
		goto fail;
	}
	if (fchmod(out->fd, new_file_mode()) != 0) {
		rc = fd_err_set(err, FD_EIO, "cannot create '%s': %s", path, strerror(errno));
		close(out->fd);
		unlink(out->tmp);
		goto fail;
	}
	*outp = out;
	return FD_OK;
fail:
	out_free(out);
	return rc;
}

static void write_all(struct fd_out *out, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n > 0 && !out->errnum) {
		ssize_t w = write(out->fd, s, n > SSIZE_MAX ? SSIZE_MAX : n);

		if (w < 0) {
			if (errno != EINTR)
				out->errnum = errno;
			continue;
		}
		if (w == 0) {
			out->errnum = EIO;
			break;
		}
		s += w;
		n -= (size_t)w;
	}
}

int fd_out_flush(struct fd_out *out)
{
	if (out->len && !out->errnum)
		write_all(out, out->buf, out->len);
	out->len = 0;
	return out->errnum ? -1 : 0;
}

void fd_out_write(struct fd_out *out, const void *p, size_t n)
{
	if (out->errnum)
		return;
	if (n <= out->cap - out->len) {
		memcpy(out->buf + out->len, p, n);
		out->len += n;
		return;
	}
	if (fd_out_flush(out))
		return;
	if (n >= out->cap) {
		write_all(out, p, n);
		return;
	}
	memcpy(out->buf, p, n);
	out->len = n;
}

void fd_out_puts(struct fd_out *out, const char *s)
{
	fd_out_write(out, s, strlen(s));
}

void fd_out_printf(struct fd_out *out, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	char *big;
	int n;

	if (out->errnum)
		return;
	room = out->cap - out->len;
	va_start(ap, fmt);
	n = vsnprintf((char *)out->buf + out->len, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		out->errnum = EINVAL;
		return;
	}
	if ((size_t)n < room) {
		out->len += (size_t)n;
		return;
	}
	if ((size_t)n < out->cap) {
		if (fd_out_flush(out))
			return;
		va_start(ap, fmt);
		vsnprintf((char *)out->buf, out->cap, fmt, ap);
		va_end(ap);
		out->len = (size_t)n;
		return;
	}
	big = malloc((size_t)n + 1);
	if (!big) {
		out->errnum = ENOMEM;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	fd_out_write(out, big, (size_t)n);
	free(big);
}

void fd_out_set_error(struct fd_out *out, int errnum)
{
	if (!out->errnum)
		out->errnum = errnum ? errnum : EIO;
}

static void sync_dir(struct fd_out *out)
{
	int dfd = open(out->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0) {
		out->errnum = errno;
		return;
	}
	/* Some file systems cannot sync a directory; that is no failure of ours. */
	if (fsync(dfd) != 0 && errno != EINVAL && errno != ENOTSUP)
		out->errnum = errno;
	close(dfd);
}

int fd_out_commit(struct fd_out *out, struct fd_err *err)
{
	const char *what = "write error on";
	int rc = FD_OK;

	fd_out_flush(out);
	if (!out->is_stdout) {
		if (!out->errnum && fsync(out->fd) != 0)
			out->errnum = errno;
		if (close(out->fd) != 0 && !out->errnum)
			out->errnum = errno;
		out->fd = -1;
		if (!out->errnum) {
			if (rename(out->tmp, out->path) != 0) {
				out->errnum = errno;
				what = "cannot replace";
			} else {
				free(out->tmp);
				out->tmp = NULL;  /* renamed: nothing left to remove */
				sync_dir(out);
				if (out->errnum)
					what = "cannot sync the directory of";
			}
		}
		if (out->tmp)
			unlink(out->tmp);
	}
	if (out->errnum)
		rc = fd_err_set(err, FD_EIO, "%s '%s': %s", what, fd_out_name(out),
				strerror(out->errnum));
	out_free(out);
	return rc;
}

void fd_out_abort(struct fd_out *out)
{
	if (!out)
		return;
	if (!out->is_stdout) {
		if (out->fd >= 0)
			close(out->fd);
		if (out->tmp)
			unlink(out->tmp);
	}
	out_free(out);
}

const char *fd_out_name(const struct fd_out *out)
{
	return out->is_stdout ? "standard output" : out->path;
}
