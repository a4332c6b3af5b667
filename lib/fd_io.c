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
#include "fd_killpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <zstd.h>
#include "banned.h"

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

const char *fd_binary_kind(const void *p, size_t n)
{
	static const struct {
		const char *magic;
		size_t len;
		const char *kind;
	} m[] = {
		{"\x1f\x8b", 2, "gzip"},
		{"\xfd" "7zXZ\0", 6, "xz"},
		{"PK\x03\x04", 4, "ZIP (xlsx, docx, ods or zip)"},
		{"PK\x05\x06", 4, "ZIP (xlsx, docx, ods or zip)"},
		{"%PDF-", 5, "PDF"},
		{"SQLite format 3\0", 16, "SQLite database"},
		{"\x7f" "ELF", 4, "ELF executable"},
		{"7z\xbc\xaf\x27\x1c", 6, "7-Zip"},
		{"Rar!\x1a\x07", 6, "RAR"},
		{"\x89PNG\r\n\x1a\n", 8, "PNG image"},
		{"\xff\xd8\xff", 3, "JPEG image"},
		{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, "OLE2 (xls or doc)"},
		{"PAR1", 4, "Parquet"},
		{"\xff\xfe", 2, "UTF-16 text"},
		{"\xfe\xff", 2, "UTF-16 text"},
	};
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (n >= m[i].len && !memcmp(s, m[i].magic, m[i].len))
			return m[i].kind;
	/* "BZh", a block size digit, then the block magic 31 41 59 26 53 59 (pi) */
	if (n >= 10 && !memcmp(s, "BZh", 3) && s[3] >= '1' && s[3] <= '9' &&
	    !memcmp(s + 4, "\x31\x41\x59\x26\x53\x59", 6))
		return "bzip2";
	if (memchr(s, '\0', n))
		return "binary";
	return NULL;
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

static int fd_name(const char *path);

/* ---- paths outputs must not replace ------------------------------------------------- */

/*
 * One list per process.  An entry is compared by name (absolute, with the directory's
 * symbolic links resolved, so that a file that does not exist yet still matches) and by
 * device and inode, both as seen when it was added and as seen now (a store's -wal appears
 * and disappears while the tool runs).
 */
enum { P_INPUT, P_STORE, P_STORE_PART };

struct protected_path {
	char *given;   /* as the caller spelled it */
	char *abs;     /* absolute name, NULL when it cannot be made */
	const char *store;  /* P_STORE_PART: the store's given name (points into its entry) */
	int kind;
	int have_id;
	dev_t dev;
	ino_t ino;
};

static struct protected_path *prot;
static size_t prot_n, prot_cap;

/* An absolute name for path: realpath() when it exists, else the real path of its directory
 * and its last component.  malloc'd; NULL when neither can be made. */
static char *abs_name(const char *path)
{
	const char *slash, *base;
	char *dir, *rd, *r;
	size_t n;

	r = realpath(path, NULL);
	if (r)
		return r;
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	if (!*base)
		return NULL;
	if (!slash)
		dir = dup_str(".");
	else if (slash == path)
		dir = dup_str("/");
	else {
		dir = malloc((size_t)(slash - path) + 1);
		if (dir) {
			memcpy(dir, path, (size_t)(slash - path));
			dir[slash - path] = '\0';
		}
	}
	if (!dir)
		return NULL;
	rd = realpath(dir, NULL);
	free(dir);
	if (!rd)
		return NULL;
	n = strlen(rd) + strlen(base) + 2;
	r = malloc(n);
	if (r)
		snprintf(r, n, "%s%s%s", rd, strcmp(rd, "/") ? "/" : "", base);
	free(rd);
	return r;
}

static int protect_one(const char *path, int kind, const char *store)
{
	struct protected_path *p;
	struct stat st;

	if (prot_n == prot_cap) {
		size_t cap = prot_cap ? 2 * prot_cap : 16;
		struct protected_path *np = realloc(prot, cap * sizeof(*np));

		if (!np)
			return -1;
		prot = np;
		prot_cap = cap;
	}
	p = &prot[prot_n];
	memset(p, 0, sizeof(*p));
	p->given = dup_str(path);
	if (!p->given)
		return -1;
	p->abs = abs_name(path);
	p->kind = kind;
	p->store = store;
	if (stat(path, &st) == 0) {
		p->have_id = 1;
		p->dev = st.st_dev;
		p->ino = st.st_ino;
	}
	prot_n++;
	return 0;
}

int fd_out_protect(const char *path, int store, struct fd_err *err)
{
	static const char *const part[] = {"-wal", "-shm", "-journal"};
	const char *given, *names[2];
	size_t i, j, n;
	char *s, *real;

	if (!path || !*path || !strcmp(path, "-"))
		return FD_OK;
	if (protect_one(path, store ? P_STORE : P_INPUT, NULL))
		return fd_err_set(err, FD_EIO, "out of memory");
	if (!store)
		return FD_OK;
	given = prot[prot_n - 1].given;
	/* SQLite names them after the store's real path when the store is a symbolic link */
	real = realpath(path, NULL);
	names[0] = path;
	names[1] = real;
	for (j = 0; j < 2 && names[j]; j++) {
		n = strlen(names[j]);
		for (i = 0; i < sizeof(part) / sizeof(part[0]); i++) {
			int bad;

			s = malloc(n + 9);
			if (s)
				snprintf(s, n + 9, "%s%s", names[j], part[i]);
			bad = !s || protect_one(s, P_STORE_PART, given);
			free(s);
			if (bad) {
				free(real);
				return fd_err_set(err, FD_EIO, "out of memory");
			}
		}
	}
	free(real);
	return FD_OK;
}

int fd_out_protect_list(const char *const *paths, size_t n, struct fd_err *err)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		if ((rc = fd_out_protect(paths[i], 0, err)))
			return rc;
	return FD_OK;
}

void fd_out_protect_clear(void)
{
	size_t i;

	for (i = 0; i < prot_n; i++) {
		free(prot[i].given);
		free(prot[i].abs);
	}
	free(prot);
	prot = NULL;
	prot_n = prot_cap = 0;
}

/* Is the target (its absolute name tabs, its identity *tst when have) the protected entry p,
 * or the file named given? */
static int same_file(const char *given, const char *gabs, int have_id, dev_t dev, ino_t ino,
		     const char *tabs, const struct stat *tst)
{
	struct stat now;

	if (gabs && tabs && !strcmp(gabs, tabs))
		return 1;
	if (!tst)
		return 0;
	if (have_id && dev == tst->st_dev && ino == tst->st_ino)
		return 1;
	return stat(given, &now) == 0 && now.st_dev == tst->st_dev && now.st_ino == tst->st_ino;
}

/*
 * FD_EUSAGE naming the file when the output path (its identity *tst when it exists, else
 * NULL) is a protected path or one of avoid[]; FD_OK otherwise.
 */
static int check_protected(const char *path, const struct stat *tst, const char *const *avoid,
			   struct fd_err *err)
{
	const char *which = NULL, *store = NULL;
	char *tabs = abs_name(path);
	int kind = P_INPUT;
	size_t i;

	for (i = 0; i < prot_n && !which; i++)
		if (same_file(prot[i].given, prot[i].abs, prot[i].have_id, prot[i].dev, prot[i].ino,
			      tabs, tst)) {
			which = prot[i].given;
			kind = prot[i].kind;
			store = prot[i].store;
		}
	for (i = 0; avoid && avoid[i] && !which; i++) {
		char *aabs;

		if (!strcmp(avoid[i], "-"))
			continue;
		aabs = abs_name(avoid[i]);
		if (same_file(avoid[i], aabs, 0, 0, 0, tabs, tst))
			which = avoid[i];
		free(aabs);
	}
	free(tabs);
	if (!which)
		return FD_OK;
	if (kind == P_STORE)
		return fd_err_set(err, FD_EUSAGE, "refusing to overwrite the store '%s'%s%s%s", path,
				  strcmp(which, path) ? " (same file as '" : "",
				  strcmp(which, path) ? which : "", strcmp(which, path) ? "')" : "");
	if (kind == P_STORE_PART)
		return fd_err_set(err, FD_EUSAGE, "refusing to overwrite '%s': it belongs to the store '%s'",
				  path, store);
	return fd_err_set(err, FD_EUSAGE, "refusing to overwrite input file '%s'%s%s%s", path,
			  strcmp(which, path) ? " (same file as '" : "",
			  strcmp(which, path) ? which : "", strcmp(which, path) ? "')" : "");
}

int fd_out_check(const char *path, struct fd_err *err)
{
	struct stat st;

	if (!path || !strcmp(path, "-") || fd_name(path) >= 0)
		return FD_OK;
	return check_protected(path, stat(path, &st) == 0 ? &st : NULL, NULL, err);
}

/* ---- temporary files removed on a signal --------------------------------------------- */

/*
 * Fixed slots, so that the signal handler reads nothing that can move under it: a slot is
 * claimed (1), filled, then published (2); the handler unlinks only published slots.
 */
#define TMP_SLOTS 64

static struct {
	_Atomic int state;  /* 0 free, 1 being written, 2 published */
	char path[PATH_MAX];
} tmp_slot[TMP_SLOTS];

int fd_tmp_register(const char *path)
{
	size_t n = strlen(path);
	int i;

	if (n >= PATH_MAX)
		return -1;
	for (i = 0; i < TMP_SLOTS; i++) {
		int free_ = 0;

		if (atomic_compare_exchange_strong(&tmp_slot[i].state, &free_, 1)) {
			memcpy(tmp_slot[i].path, path, n + 1);
			atomic_store(&tmp_slot[i].state, 2);
			return 0;
		}
	}
	return -1;
}

void fd_tmp_unregister(const char *path)
{
	int i;

	for (i = 0; i < TMP_SLOTS; i++)
		if (atomic_load(&tmp_slot[i].state) == 2 && !strcmp(tmp_slot[i].path, path)) {
			atomic_store(&tmp_slot[i].state, 0);
			return;
		}
}

void fd_tmp_cleanup(void)
{
	int i;

	for (i = 0; i < TMP_SLOTS; i++)
		if (atomic_load(&tmp_slot[i].state) == 2)
			unlink(tmp_slot[i].path);
}

/* ---- output -------------------------------------------------------------------------- */

struct fd_out {
	int fd;
	int is_stdout;
	int in_place; /* written where it is (device, FIFO, /dev/fd/N): no temporary, no rename */
	char *path;   /* the target, as given */
	char *real;   /* the file the rename replaces (the target, or what its symlink names) */
	char *tmp;    /* the temporary beside it; NULL on standard output and in place */
	char *dir;    /* the target's directory, fsynced after the rename */
	unsigned char *buf;
	size_t len, cap;
	int errnum;   /* first error (errno), 0 while healthy */
	int cut;      /* errnum came from a failed fd_buf (fd_out_write_buf) */
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
	free(out->real);
	free(out->tmp);
	free(out->dir);
	free(out->buf);
	free(out);
}

/* The descriptor a name stands for: /dev/stdout, /dev/stderr, /dev/stdin, /dev/fd/N and
 * /proc/self/fd/N; -1 for any other name. */
static int fd_name(const char *path)
{
	const char *n = NULL;
	char *end;
	long v;

	if (!strcmp(path, "/dev/stdout"))
		return STDOUT_FILENO;
	if (!strcmp(path, "/dev/stderr"))
		return STDERR_FILENO;
	if (!strcmp(path, "/dev/stdin"))
		return STDIN_FILENO;
	if (!strncmp(path, "/dev/fd/", 8))
		n = path + 8;
	else if (!strncmp(path, "/proc/self/fd/", 14))
		n = path + 14;
	if (!n || *n < '0' || *n > '9')
		return -1;
	errno = 0;
	v = strtol(n, &end, 10);
	if (*end || errno || v > INT_MAX)
		return -1;
	return (int)v;
}

/* Open a device, FIFO or descriptor name to write in place.  FD_OK, or an error naming path. */
static int open_in_place(struct fd_out *out, const char *path, int dfd, const char *const *avoid,
			 struct fd_err *err)
{
	struct stat st;
	int rc;

	if (dfd >= 0)
		out->fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	else
		out->fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (out->fd < 0)
		return fd_err_set(err, FD_EIO, "cannot open '%s': %s", path, strerror(errno));
	out->in_place = 1;
	/* /dev/fd/N may well be a regular file: still not one to write over if protected */
	if (fstat(out->fd, &st) == 0 && (rc = check_protected(path, &st, avoid, err)))
		return rc;
	return FD_OK;
}

int fd_out_open(struct fd_out **outp, const char *path, const char *const *avoid,
		struct fd_err *err)
{
	struct fd_out *out;
	const char *slash, *base, *target;
	struct stat st;
	size_t dlen, blen;
	int rc, exists, dfd;

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
	dfd = fd_name(path);
	if (dfd >= 0) {
		if ((rc = open_in_place(out, path, dfd, avoid, err)))
			goto fail;
		*outp = out;
		return FD_OK;
	}
	exists = stat(path, &st) == 0;
	if ((rc = check_protected(path, exists ? &st : NULL, avoid, err)))
		goto fail;
	if (exists && S_ISDIR(st.st_mode)) {
		rc = fd_err_set(err, FD_EIO, "cannot create '%s': %s", path, strerror(EISDIR));
		goto fail;
	}
	if (exists && !S_ISREG(st.st_mode)) {
		/* a device, FIFO or socket: renaming over it would destroy it */
		if ((rc = open_in_place(out, path, -1, avoid, err)))
			goto fail;
		*outp = out;
		return FD_OK;
	}
	/* A symbolic link to a file is followed: the file is replaced, the link stays. */
	target = path;
	if (exists) {
		out->real = realpath(path, NULL);
		if (out->real)
			target = out->real;
	}
	slash = strrchr(target, '/');
	base = slash ? slash + 1 : target;
	if (!*base) {
		rc = fd_err_set(err, FD_EIO, "cannot create '%s': %s", path, strerror(EISDIR));
		goto fail;
	}
	dlen = slash ? (size_t)(slash - target) : 0;
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
		memcpy(out->dir, target, dlen);
		out->dir[dlen] = '\0';
	}
	/* dir/.base.XXXXXX, or .base.XXXXXX beside a relative name */
	memcpy(out->tmp, target, (size_t)(base - target));
	memcpy(out->tmp + (base - target), ".", 1);
	memcpy(out->tmp + (base - target) + 1, base, blen);
	memcpy(out->tmp + (base - target) + 1 + blen, ".XXXXXX", 8);
	out->fd = mkostemp(out->tmp, O_CLOEXEC);
	if (out->fd < 0) {
		rc = fd_err_set(err, FD_EIO, "cannot create '%s': %s", path, strerror(errno));
		free(out->tmp);
		out->tmp = NULL;
		goto fail;
	}
	if (fd_tmp_register(out->tmp)) {
		rc = fd_err_set(err, FD_EIO, "cannot create '%s': too many open outputs", path);
		goto fail;
	}
	if (fchmod(out->fd, new_file_mode()) != 0) {
		rc = fd_err_set(err, FD_EIO, "cannot create '%s': %s", path, strerror(errno));
		goto fail;
	}
	*outp = out;
	return FD_OK;
fail:
	fd_out_abort(out);
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

char *fd_out_room(struct fd_out *out, size_t n)
{
	if (out->errnum || n > FD_OUT_ROOM_MAX)
		return NULL;
	if (n > out->cap - out->len && fd_out_flush(out))
		return NULL;
	return (char *)out->buf + out->len;
}

void fd_out_advance(struct fd_out *out, size_t n)
{
	out->len += n;
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

void fd_out_write_buf(struct fd_out *out, const struct fd_buf *b)
{
	if (fd_buf_failed(b)) {
		if (!out->errnum) {
			out->errnum = ENOMEM;
			out->cut = 1;
		}
		return;
	}
	fd_out_write(out, b->s ? b->s : "", b->len);
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

/* Remove the temporary, if any, and forget it. */
static void drop_tmp(struct fd_out *out)
{
	if (!out->tmp)
		return;
	unlink(out->tmp);
	fd_tmp_unregister(out->tmp);
	free(out->tmp);
	out->tmp = NULL;
}

int fd_out_commit(struct fd_out *out, struct fd_err *err)
{
	const char *what = "write error on";
	struct stat st;
	int rc = FD_OK;

	fd_out_flush(out);
	if (out->in_place) {
		/* a device or FIFO may not sync; a regular file behind /dev/fd/N can */
		if (!out->errnum && fstat(out->fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    fsync(out->fd) != 0)
			out->errnum = errno;
		if (close(out->fd) != 0 && !out->errnum)
			out->errnum = errno;
		out->fd = -1;
	} else if (!out->is_stdout) {
		if (!out->errnum && fsync(out->fd) != 0)
			out->errnum = errno;
		if (close(out->fd) != 0 && !out->errnum)
			out->errnum = errno;
		out->fd = -1;
		/* the store or an input may have appeared under the name since the open */
		if (!out->errnum) {
			int exists = stat(out->path, &st) == 0;

			if ((rc = check_protected(out->path, exists ? &st : NULL, NULL, err))) {
				drop_tmp(out);
				out_free(out);
				return rc;
			}
		}
		if (!out->errnum) {
			fd_killpoint("before-rename");
			if (rename(out->tmp, out->real ? out->real : out->path) != 0) {
				out->errnum = errno;
				what = "cannot replace";
			} else {
				fd_tmp_unregister(out->tmp);
				free(out->tmp);
				out->tmp = NULL;  /* renamed: nothing left to remove */
				sync_dir(out);
				if (out->errnum)
					what = "cannot sync the directory of";
			}
		}
		drop_tmp(out);
	}
	if (out->errnum && out->cut)
		rc = fd_err_set(err, FD_EIO, "out of memory building '%s': %s", fd_out_name(out),
				out->in_place || out->is_stdout ? "its content is incomplete"
								 : "not written");
	else if (out->errnum)
		rc = fd_err_set(err, FD_EIO, "%s '%s': %s", what, fd_out_name(out),
				strerror(out->errnum));
	out_free(out);
	return rc;
}

void fd_out_abort(struct fd_out *out)
{
	if (!out)
		return;
	if (!out->is_stdout && out->fd >= 0)
		close(out->fd);
	drop_tmp(out);
	out_free(out);
}

const char *fd_out_name(const struct fd_out *out)
{
	return out->is_stdout ? "standard output" : out->path;
}
