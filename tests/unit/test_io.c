/* test_io.c — fd_io: input (plain, zstd, stdin, memory), hashing, atomic output. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "fd_io.h"

/* sha256("abc") and sha256(""), as `printf 'abc' | sha256sum` and `sha256sum </dev/null` print. */
#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	memcpy(tmpdir, "/tmp/fd_test_io.XXXXXX", 23);
	if (!mkdtemp(tmpdir))
		return -1;
	umask(022);
	return 0;
}

static int teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[512];

	(void)state;
	if (d) {
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(tmpdir);
	return 0;
}

static const char *tpath(const char *name)
{
	static char p[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, name);
	return p[k];
}

static void write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* Whole content of a file (malloc'd, NUL-terminated), or NULL when it does not exist. */
static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long sz;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = malloc((size_t)sz + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)sz, f), (size_t)sz);
	s[sz] = '\0';
	fclose(f);
	if (n)
		*n = (size_t)sz;
	return s;
}

/* Number of entries in tmpdir whose name starts with '.', other than . and .. */
static int hidden_entries(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Read everything from in, in pieces of at most step bytes. */
static char *read_all(struct fd_in *in, size_t step, size_t *n, struct fd_err *err, int *fail)
{
	size_t cap = 1024, len = 0;
	char *s = malloc(cap);

	*fail = 0;
	for (;;) {
		ssize_t r;

		if (cap - len < step) {
			cap = 2 * cap + step;
			s = realloc(s, cap);
			assert_non_null(s);
		}
		r = fd_in_read(in, s + len, step, err);
		if (r < 0) {
			*fail = 1;
			break;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	*n = len;
	return s;
}

static void test_sha256_hex(void **state)
{
	char hex[65];

	(void)state;
	fd_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, SHA_ABC);
	fd_sha256_hex("", 0, hex);
	assert_string_equal(hex, SHA_EMPTY);
}

static void test_sha256_file(void **state)
{
	struct fd_err err;
	char hex[65];
	int64_t size = -1;

	(void)state;
	write_bytes(tpath("abc.txt"), "abc", 3);
	assert_int_equal(fd_sha256_file(tpath("abc.txt"), hex, &size, &err), FD_OK);
	assert_string_equal(hex, SHA_ABC);
	assert_int_equal(size, 3);
	write_bytes(tpath("empty"), "", 0);
	assert_int_equal(fd_sha256_file(tpath("empty"), hex, NULL, &err), FD_OK);
	assert_string_equal(hex, SHA_EMPTY);
	assert_int_equal(fd_sha256_file(tpath("nope"), hex, NULL, &err), FD_EIO);
	assert_non_null(strstr(err.msg, "cannot open '"));
	assert_non_null(strstr(err.msg, "nope': No such file or directory"));
}

static void test_plain_read(void **state)
{
	struct fd_in *in;
	struct fd_err err;
	char buf[16], hex[65];

	(void)state;
	write_bytes(tpath("abc.txt"), "abc", 3);
	assert_int_equal(fd_in_open(&in, tpath("abc.txt"), FD_IN_HASH, &err), FD_OK);
	assert_string_equal(fd_in_name(in), tpath("abc.txt"));
	assert_int_equal(fd_in_is_stdin(in), 0);
	assert_int_equal(fd_in_compressed(in), 0);
	assert_int_equal(fd_in_size(in), 3);
	assert_int_equal(fd_in_read(in, buf, 2, &err), 2);
	assert_memory_equal(buf, "ab", 2);
	assert_int_equal(fd_in_read(in, buf, sizeof(buf), &err), 1);
	assert_int_equal(buf[0], 'c');
	assert_int_equal(fd_in_read(in, buf, sizeof(buf), &err), 0);
	assert_int_equal(fd_in_read(in, buf, sizeof(buf), &err), 0);
	assert_int_equal(fd_in_raw_bytes(in), 3);
	fd_in_sha256(in, hex);
	assert_string_equal(hex, SHA_ABC);
	fd_in_free(in);
}

static void test_open_errors(void **state)
{
	struct fd_in *in = (struct fd_in *)1;
	struct fd_err err;
	char want[600];

	(void)state;
	assert_int_equal(fd_in_open(&in, tpath("missing.csv"), 0, &err), FD_EIO);
	assert_null(in);
	snprintf(want, sizeof(want), "cannot open '%s': No such file or directory",
		 tpath("missing.csv"));
	assert_string_equal(err.msg, want);
	assert_int_equal(fd_in_open(&in, tmpdir, 0, &err), FD_EIO);
	snprintf(want, sizeof(want), "cannot open '%s': Is a directory", tmpdir);
	assert_string_equal(err.msg, want);
	fd_in_free(NULL);
}

static void test_stdin(void **state)
{
	struct fd_in *in;
	struct fd_err err;
	int saved = dup(0), fd;
	char buf[16];

	(void)state;
	write_bytes(tpath("in.txt"), "hello\n", 6);
	fd = open(tpath("in.txt"), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, 0), 0);
	close(fd);
	assert_int_equal(fd_in_open(&in, "-", 0, &err), FD_OK);
	assert_string_equal(fd_in_name(in), "<stdin>");
	assert_int_equal(fd_in_is_stdin(in), 1);
	assert_int_equal(fd_in_read(in, buf, sizeof(buf), &err), 6);
	assert_memory_equal(buf, "hello\n", 6);
	fd_in_free(in);
	assert_int_not_equal(fcntl(0, F_GETFD), -1);  /* stdin still open */
	assert_int_equal(fd_in_open(&in, NULL, 0, &err), FD_OK);
	assert_int_equal(fd_in_is_stdin(in), 1);
	fd_in_free(in);
	dup2(saved, 0);
	close(saved);
}

/* Deterministic test data of n bytes with some structure (so zstd compresses it). */
static char *make_data(size_t n)
{
	char *s = malloc(n);
	size_t i;
	uint32_t x = 12345;

	assert_non_null(s);
	for (i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		s[i] = (i % 61 == 60) ? '\n' : (char)('a' + (x >> 16) % 7);
	}
	return s;
}

static size_t zcompress(void *dst, size_t cap, const void *src, size_t n)
{
	size_t z = ZSTD_compress(dst, cap, src, n, 3);

	assert_false(ZSTD_isError(z));
	return z;
}

static void test_zstd(void **state)
{
	size_t n = 1000000, zcap = ZSTD_compressBound(n), zn, got;
	char *data = make_data(n), *z = malloc(zcap), *back, hex[65], want[65];
	struct fd_in *in;
	struct fd_err err;
	int fail;

	(void)state;
	zn = zcompress(z, zcap, data, n);
	write_bytes(tpath("d.zst"), z, zn);
	assert_int_equal(fd_in_open(&in, tpath("d.zst"), FD_IN_HASH, &err), FD_OK);
	assert_int_equal(fd_in_compressed(in), 1);
	assert_int_equal(fd_in_size(in), (int64_t)zn);
	back = read_all(in, 777, &got, &err, &fail);
	assert_int_equal(fail, 0);
	assert_int_equal(got, n);
	assert_memory_equal(back, data, n);
	assert_int_equal(fd_in_raw_bytes(in), zn);
	fd_in_sha256(in, hex);
	fd_sha256_hex(z, zn, want);  /* the hash is of the bytes on disk, not the content */
	assert_string_equal(hex, want);
	fd_in_free(in);
	free(back);
	free(data);
	free(z);
}

static void test_zstd_frames(void **state)
{
	/* frame("hello ") + skippable frame + frame("world\n"): one stream "hello world\n" */
	static const unsigned char skip[] = { 0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'x', 'y', 'z' };
	char buf[256], *back;
	size_t n = 0, got;
	struct fd_in *in;
	struct fd_err err;
	int fail;

	(void)state;
	n += zcompress(buf + n, sizeof(buf) - n, "hello ", 6);
	memcpy(buf + n, skip, sizeof(skip));
	n += sizeof(skip);
	n += zcompress(buf + n, sizeof(buf) - n, "world\n", 6);
	assert_int_equal(fd_in_open_mem(&in, buf, n, "mem.zst", 0, &err), FD_OK);
	assert_int_equal(fd_in_compressed(in), 1);
	back = read_all(in, 4096, &got, &err, &fail);
	assert_int_equal(fail, 0);
	assert_int_equal(got, 12);
	assert_memory_equal(back, "hello world\n", 12);
	fd_in_free(in);
	free(back);

	/* A stream that starts with a skippable frame is zstd too. */
	memcpy(buf, skip, sizeof(skip));
	n = sizeof(skip) + zcompress(buf + sizeof(skip), sizeof(buf) - sizeof(skip), "ab", 2);
	assert_int_equal(fd_in_open_mem(&in, buf, n, NULL, 0, &err), FD_OK);
	assert_int_equal(fd_in_compressed(in), 1);
	assert_string_equal(fd_in_name(in), "<memory>");
	back = read_all(in, 4096, &got, &err, &fail);
	assert_int_equal(fail, 0);
	assert_int_equal(got, 2);
	assert_memory_equal(back, "ab", 2);
	fd_in_free(in);
	free(back);
}

static void test_zstd_truncated(void **state)
{
	size_t n = 200000, zcap = ZSTD_compressBound(n), zn, got;
	char *data = make_data(n), *z = malloc(zcap), *back, buf[8];
	struct fd_in *in;
	struct fd_err err;
	int fail;

	(void)state;
	zn = zcompress(z, zcap, data, n);
	write_bytes(tpath("t.csv.zst"), z, zn - 5);
	assert_int_equal(fd_in_open(&in, tpath("t.csv.zst"), FD_IN_HASH, &err), FD_OK);
	back = read_all(in, 4096, &got, &err, &fail);
	assert_int_equal(fail, 1);
	assert_int_equal(err.code, FD_EINPUT);
	assert_non_null(strstr(err.msg, tpath("t.csv.zst")));
	assert_non_null(strstr(err.msg, "truncated zstd stream"));
	assert_true(got < n);
	/* sticky */
	err.code = 0;
	assert_int_equal(fd_in_read(in, buf, sizeof(buf), &err), -1);
	assert_int_equal(err.code, FD_EINPUT);
	fd_in_free(in);
	free(back);

	/* cut inside the frame header */
	write_bytes(tpath("t2.zst"), z, 6);
	assert_int_equal(fd_in_open(&in, tpath("t2.zst"), 0, &err), FD_OK);
	assert_int_equal(fd_in_read(in, buf, sizeof(buf), &err), -1);
	assert_int_equal(err.code, FD_EINPUT);
	fd_in_free(in);
	free(data);
	free(z);
}

static void test_zstd_corrupt(void **state)
{
	char z[256], buf[64];
	size_t zn;
	struct fd_in *in;
	struct fd_err err;

	(void)state;
	/* a good frame followed by bytes that are not a frame */
	zn = zcompress(z, sizeof(z), "abc", 3);
	memcpy(z + zn, "garbage!", 8);
	assert_int_equal(fd_in_open_mem(&in, z, zn + 8, "x.zst", 0, &err), FD_OK);
	for (;;) {
		ssize_t r = fd_in_read(in, buf, sizeof(buf), &err);

		assert_int_not_equal(r, 0);
		if (r < 0)
			break;
	}
	assert_int_equal(err.code, FD_EINPUT);
	assert_non_null(strstr(err.msg, "x.zst: corrupt zstd stream"));
	fd_in_free(in);
}

static void test_drain(void **state)
{
	struct fd_in *in;
	struct fd_err err;
	char buf[4], hex[65];

	(void)state;
	assert_int_equal(fd_in_open_mem(&in, "abc", 3, "m", FD_IN_HASH, &err), FD_OK);
	assert_int_equal(fd_in_read(in, buf, 1, &err), 1);
	assert_int_equal(fd_in_drain(in, &err), FD_OK);
	assert_int_equal(fd_in_raw_bytes(in), 3);
	fd_in_sha256(in, hex);
	assert_string_equal(hex, SHA_ABC);
	assert_int_equal(fd_in_read(in, buf, sizeof(buf), &err), 0);
	fd_in_free(in);

	/* without FD_IN_HASH there is no hash */
	assert_int_equal(fd_in_open_mem(&in, "abc", 3, "m", 0, &err), FD_OK);
	assert_int_equal(fd_in_drain(in, &err), FD_OK);
	fd_in_sha256(in, hex);
	assert_string_equal(hex, "");
	fd_in_free(in);
}

/* ---- output ---- */

static void test_out_commit(void **state)
{
	struct fd_out *out;
	struct fd_err err;
	struct stat st;
	char *s;
	size_t n;

	(void)state;
	assert_int_equal(fd_out_open(&out, tpath("o.csv"), NULL, &err), FD_OK);
	assert_string_equal(fd_out_name(out), tpath("o.csv"));
	fd_out_write(out, "a,b\n", 4);
	fd_out_puts(out, "1,");
	fd_out_printf(out, "%d\n", 42);
	assert_null(slurp(tpath("o.csv"), NULL));  /* nothing there before commit */
	assert_int_equal(hidden_entries(), 1);     /* only the temporary */
	assert_int_equal(fd_out_commit(out, &err), FD_OK);
	s = slurp(tpath("o.csv"), &n);
	assert_non_null(s);
	assert_string_equal(s, "a,b\n1,42\n");
	free(s);
	assert_int_equal(hidden_entries(), 0);
	assert_int_equal(stat(tpath("o.csv"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);

	/* commit replaces */
	assert_int_equal(fd_out_open(&out, tpath("o.csv"), NULL, &err), FD_OK);
	fd_out_puts(out, "new\n");
	assert_int_equal(fd_out_commit(out, &err), FD_OK);
	s = slurp(tpath("o.csv"), NULL);
	assert_string_equal(s, "new\n");
	free(s);
	assert_int_equal(hidden_entries(), 0);
}

static void test_out_abort(void **state)
{
	struct fd_out *out;
	struct fd_err err;
	char *s;

	(void)state;
	assert_int_equal(fd_out_open(&out, tpath("never.csv"), NULL, &err), FD_OK);
	fd_out_puts(out, "x\n");
	fd_out_flush(out);
	fd_out_abort(out);
	assert_null(slurp(tpath("never.csv"), NULL));
	assert_int_equal(hidden_entries(), 0);
	fd_out_abort(NULL);

	/* an existing file stays as it was */
	write_bytes(tpath("keep.csv"), "old\n", 4);
	assert_int_equal(fd_out_open(&out, tpath("keep.csv"), NULL, &err), FD_OK);
	fd_out_puts(out, "new\n");
	fd_out_abort(out);
	s = slurp(tpath("keep.csv"), NULL);
	assert_string_equal(s, "old\n");
	free(s);
	assert_int_equal(hidden_entries(), 0);
}

static void test_out_big(void **state)
{
	size_t n = 3 * 256 * 1024 + 17, got, i;
	char *data = make_data(n), *s;
	struct fd_out *out;
	struct fd_err err;

	(void)state;
	assert_int_equal(fd_out_open(&out, tpath("big"), NULL, &err), FD_OK);
	/* a mix of small writes, one larger than the buffer, and printf across the boundary */
	for (i = 0; i < 1000; i++)
		fd_out_write(out, data + i * 100, 100);
	fd_out_write(out, data + 100000, n - 100000 - 5000);
	fd_out_printf(out, "%.*s", 5000, data + n - 5000);
	assert_int_equal(fd_out_commit(out, &err), FD_OK);
	s = slurp(tpath("big"), &got);
	assert_int_equal(got, n);
	assert_memory_equal(s, data, n);
	free(s);

	/* printf of a result longer than the buffer */
	assert_int_equal(fd_out_open(&out, tpath("big2"), NULL, &err), FD_OK);
	fd_out_puts(out, "<");
	fd_out_printf(out, "%.*s>", (int)(n - 1), data);
	assert_int_equal(fd_out_commit(out, &err), FD_OK);
	s = slurp(tpath("big2"), &got);
	assert_int_equal(got, n + 1);
	assert_int_equal(s[0], '<');
	assert_memory_equal(s + 1, data, n - 1);
	assert_int_equal(s[n], '>');
	free(s);
	free(data);
}

static void test_out_refuses_input(void **state)
{
	const char *avoid[4];
	struct fd_out *out = (struct fd_out *)1;
	struct fd_err err;
	char other[600], *s;

	(void)state;
	write_bytes(tpath("in.csv"), "data\n", 5);
	avoid[0] = "-";
	avoid[1] = tpath("in.csv");
	avoid[2] = NULL;
	assert_int_equal(fd_out_open(&out, tpath("in.csv"), avoid, &err), FD_EUSAGE);
	assert_null(out);
	assert_non_null(strstr(err.msg, "refusing to overwrite input file '"));
	/* another spelling of the same path */
	snprintf(other, sizeof(other), "%s/../%s/./in.csv", tmpdir, tmpdir + 5);
	assert_int_equal(fd_out_open(&out, other, avoid, &err), FD_EUSAGE);
	/* a hard link and a symbolic link to it */
	assert_int_equal(link(tpath("in.csv"), tpath("hard.csv")), 0);
	assert_int_equal(fd_out_open(&out, tpath("hard.csv"), avoid, &err), FD_EUSAGE);
	assert_int_equal(symlink(tpath("in.csv"), tpath("sym.csv")), 0);
	assert_int_equal(fd_out_open(&out, tpath("sym.csv"), avoid, &err), FD_EUSAGE);
	s = slurp(tpath("in.csv"), NULL);
	assert_string_equal(s, "data\n");
	free(s);
	assert_int_equal(hidden_entries(), 0);
	/* a different file is fine */
	assert_int_equal(fd_out_open(&out, tpath("out.csv"), avoid, &err), FD_OK);
	fd_out_abort(out);
	unlink(tpath("hard.csv"));
	unlink(tpath("sym.csv"));
}

static void test_out_errors(void **state)
{
	struct fd_out *out;
	struct fd_err err;
	char want[600];

	(void)state;
	assert_int_equal(fd_out_open(&out, tpath("nodir/x.csv"), NULL, &err), FD_EIO);
	snprintf(want, sizeof(want), "cannot create '%s': No such file or directory",
		 tpath("nodir/x.csv"));
	assert_string_equal(err.msg, want);
	assert_int_equal(fd_out_open(&out, tmpdir, NULL, &err), FD_EIO);

	/* an error set by a layer above: reported at commit, target untouched */
	assert_int_equal(fd_out_open(&out, tpath("e.csv"), NULL, &err), FD_OK);
	fd_out_puts(out, "x");
	fd_out_set_error(out, ENOMEM);
	fd_out_puts(out, "y");
	assert_int_equal(fd_out_commit(out, &err), FD_EIO);
	snprintf(want, sizeof(want), "write error on '%s': Cannot allocate memory",
		 tpath("e.csv"));
	assert_string_equal(err.msg, want);
	assert_null(slurp(tpath("e.csv"), NULL));
	assert_int_equal(hidden_entries(), 0);
}

static void test_out_stdout(void **state)
{
	int saved = dup(1), fd;
	struct fd_out *out;
	struct fd_err err;
	char *s;

	(void)state;
	fflush(stdout);
	fd = open(tpath("stdout.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	dup2(fd, 1);
	close(fd);
	assert_int_equal(fd_out_open(&out, "-", NULL, &err), FD_OK);
	assert_string_equal(fd_out_name(out), "standard output");
	fd_out_puts(out, "one\n");
	assert_int_equal(fd_out_flush(out), 0);
	fd_out_puts(out, "two\n");
	assert_int_equal(fd_out_commit(out, &err), FD_OK);
	assert_int_not_equal(fcntl(1, F_GETFD), -1);
	s = slurp(tpath("stdout.txt"), NULL);
	assert_string_equal(s, "one\ntwo\n");
	free(s);

	/* a full device: the error comes out at commit */
	fd = open("/dev/full", O_WRONLY);
	if (fd >= 0) {
		dup2(fd, 1);
		close(fd);
		assert_int_equal(fd_out_open(&out, NULL, NULL, &err), FD_OK);
		fd_out_puts(out, "lost\n");
		assert_int_equal(fd_out_commit(out, &err), FD_EIO);
		assert_string_equal(err.msg, "write error on 'standard output': No space left on device");
	}
	dup2(saved, 1);
	close(saved);
}

/* The store and its companions, protected once, are refused by identity and by name; a
 * file that appears under a protected name after the open is caught at commit. */
static void test_out_protect(void **state)
{
	struct fd_out *out;
	struct fd_err err;
	char *s;

	(void)state;
	write_bytes(tpath("s.db"), "SQLite format 3", 16);
	write_bytes(tpath("in.csv"), "data\n", 5);
	assert_int_equal(fd_out_protect(tpath("s.db"), 1, &err), FD_OK);
	assert_int_equal(fd_out_protect(tpath("in.csv"), 0, &err), FD_OK);
	assert_int_equal(fd_out_protect("-", 0, &err), FD_OK);
	assert_int_equal(fd_out_protect(NULL, 0, &err), FD_OK);
	assert_int_equal(fd_out_open(&out, tpath("s.db"), NULL, &err), FD_EUSAGE);
	assert_non_null(strstr(err.msg, "refusing to overwrite the store '"));
	/* -wal and -shm do not exist: refused by name */
	assert_int_equal(fd_out_open(&out, tpath("s.db-wal"), NULL, &err), FD_EUSAGE);
	assert_non_null(strstr(err.msg, "-wal': it belongs to the store '"));
	assert_int_equal(fd_out_open(&out, tpath("s.db-shm"), NULL, &err), FD_EUSAGE);
	assert_int_equal(fd_out_open(&out, tpath("s.db-journal"), NULL, &err), FD_EUSAGE);
	assert_int_equal(fd_out_check(tpath("s.db-wal"), &err), FD_EUSAGE);
	assert_int_equal(fd_out_check(tpath("other"), &err), FD_OK);
	assert_int_equal(fd_out_open(&out, tpath("in.csv"), NULL, &err), FD_EUSAGE);
	assert_non_null(strstr(err.msg, "refusing to overwrite input file '"));
	/* a name that becomes the store between open and commit (a rename by someone else) */
	assert_int_equal(fd_out_open(&out, tpath("late.csv"), NULL, &err), FD_OK);
	fd_out_puts(out, "x\n");
	assert_int_equal(link(tpath("s.db"), tpath("late.csv")), 0);
	assert_int_equal(fd_out_commit(out, &err), FD_EUSAGE);
	s = slurp(tpath("s.db"), NULL);
	assert_string_equal(s, "SQLite format 3");
	free(s);
	assert_int_equal(hidden_entries(), 0);
	unlink(tpath("late.csv"));
	fd_out_protect_clear();
	assert_int_equal(fd_out_check(tpath("s.db-wal"), &err), FD_OK);
}

/* A FIFO is written in place: it is still a FIFO afterwards and the reader got the bytes. */
static void test_out_fifo(void **state)
{
	struct fd_out *out;
	struct fd_err err;
	struct stat st;
	char buf[16];
	int rfd;
	ssize_t n;

	(void)state;
	assert_int_equal(mkfifo(tpath("p"), 0600), 0);
	rfd = open(tpath("p"), O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	assert_int_equal(fd_out_open(&out, tpath("p"), NULL, &err), FD_OK);
	fd_out_puts(out, "hello\n");
	assert_int_equal(fd_out_commit(out, &err), FD_OK);
	n = read(rfd, buf, sizeof(buf));
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "hello\n", 6);
	close(rfd);
	assert_int_equal(stat(tpath("p"), &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(hidden_entries(), 0);
	unlink(tpath("p"));
}

/* Magic numbers, written out by hand from each format's specification. */
static void test_binary_kind(void **state)
{
	(void)state;
	assert_string_equal(fd_binary_kind("\x1f\x8b\x08\x00", 4), "gzip");
	assert_string_equal(fd_binary_kind("PK\x03\x04\x14\x00", 6), "ZIP (xlsx, docx, ods or zip)");
	assert_string_equal(fd_binary_kind("%PDF-1.7\n", 9), "PDF");
	assert_string_equal(fd_binary_kind("SQLite format 3\0\x10\x00", 18), "SQLite database");
	assert_string_equal(fd_binary_kind("\x7f" "ELF\x02\x01\x01", 7), "ELF executable");
	assert_string_equal(fd_binary_kind("\xfd" "7zXZ\0\0\x04", 8), "xz");
	assert_string_equal(fd_binary_kind("BZh91AY&SY\x01", 11), "bzip2");
	assert_string_equal(fd_binary_kind("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8), "OLE2 (xls or doc)");
	assert_string_equal(fd_binary_kind("\xff\xfet\0x\0", 6), "UTF-16 text");
	assert_string_equal(fd_binary_kind("a,b\n1,\0\n", 8), "binary");
	/* text that merely starts like one */
	assert_null(fd_binary_kind("BZh,PK,PAR\n1,2,3\n", 17));
	assert_null(fd_binary_kind("txn_id,ts\n", 10));
	assert_null(fd_binary_kind("\xef\xbb\xbftxn_id\n", 10));
	assert_null(fd_binary_kind("", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_hex),
		cmocka_unit_test(test_sha256_file),
		cmocka_unit_test(test_plain_read),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_zstd),
		cmocka_unit_test(test_zstd_frames),
		cmocka_unit_test(test_zstd_truncated),
		cmocka_unit_test(test_zstd_corrupt),
		cmocka_unit_test(test_drain),
		cmocka_unit_test(test_out_commit),
		cmocka_unit_test(test_out_abort),
		cmocka_unit_test(test_out_big),
		cmocka_unit_test(test_out_refuses_input),
		cmocka_unit_test(test_out_errors),
		cmocka_unit_test(test_out_stdout),
		cmocka_unit_test(test_out_protect),
		cmocka_unit_test(test_out_fifo),
		cmocka_unit_test(test_binary_kind),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
