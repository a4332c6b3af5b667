/*
 * test_buf.c — fd_buf: appends, and the sticky error after a failed one; the writers that hand
 * a buffer to a file refuse to write a cut one (fd_out_write_buf, the bundle's manifest).
 *
 * fd_buf.c is included with its realloc replaced, so growth can be made to fail; the library's
 * writers linked from libfd.a then use this copy too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void *hook_realloc(void *p, size_t n);
#define FD_BUF_REALLOC hook_realloc
#include "../../lib/fd_buf.c"

#include "fd_bundle.h"
#include "fd_io.h"
#include "fd_store.h"
#include "fd_verify.h"

/* Growth fails past `limit` bytes, for every buffer or only for one whose content starts
 * with `prefix`. */
static size_t limit = SIZE_MAX;
static const char *prefix;
static int refused;

static void *hook_realloc(void *p, size_t n)
{
	if (n > limit && (!prefix || (p && strncmp(p, prefix, strlen(prefix)) == 0))) {
		refused++;
		return NULL;
	}
	return realloc(p, n);
}

static int reset_hook(void **state)
{
	(void)state;
	limit = SIZE_MAX;
	prefix = NULL;
	refused = 0;
	return 0;
}

static void test_appends(void **state)
{
	struct fd_buf b = FD_BUF_INIT;
	char *s;
	size_t n;

	(void)state;
	assert_int_equal(fd_buf_adds(&b, "ab"), 0);
	assert_int_equal(fd_buf_addc(&b, 'c'), 0);
	assert_int_equal(fd_buf_addf(&b, "-%d-%s", 42, "x"), 0);
	assert_int_equal(fd_buf_add_i64(&b, -9007199254740993LL), 0);
	assert_int_equal(fd_buf_add_json_str(&b, "q\"\n\x01", 4), 0);
	assert_int_equal(fd_buf_add_hex(&b, (const unsigned char *)"\x00\xff", 2), 0);
	assert_string_equal(b.s, "abc-42-x-9007199254740993\"q\\\"\\n\\u0001\"00ff");
	assert_int_equal(b.len, strlen("abc-42-x-9007199254740993\"q\\\"\\n\\u0001\"00ff"));
	assert_false(fd_buf_failed(&b));
	s = fd_buf_detach(&b, &n);
	assert_non_null(s);
	assert_int_equal(n, 42);
	assert_null(b.s);
	free(s);
}

/* One failed growth: every later append is a no-op that fails, the content stays what it
 * was before the failure, and the error survives fd_buf_reset. */
static void test_sticky(void **state)
{
	struct fd_buf b = FD_BUF_INIT;
	char big[100];
	size_t n;

	(void)state;
	memset(big, 'x', sizeof(big));
	assert_int_equal(fd_buf_adds(&b, "head"), 0);       /* 64 bytes allocated */
	assert_int_equal(b.cap, 64);
	limit = 64;
	assert_int_equal(fd_buf_add(&b, big, sizeof(big)), -1);  /* needs 128: refused */
	assert_int_equal(refused, 1);
	assert_true(fd_buf_failed(&b));
	assert_string_equal(b.s, "head");
	/* these would all fit in the 64 bytes there are: they must not be appended */
	assert_int_equal(fd_buf_addc(&b, 't'), -1);
	assert_int_equal(fd_buf_adds(&b, "tail"), -1);
	assert_int_equal(fd_buf_add(&b, "t", 1), -1);
	assert_int_equal(fd_buf_addf(&b, "%d", 7), -1);
	assert_int_equal(fd_buf_add_i64(&b, 7), -1);
	assert_int_equal(fd_buf_add_hex(&b, (const unsigned char *)"a", 1), -1);
	assert_int_equal(fd_buf_add_json_str(&b, "a", 1), -1);
	assert_int_equal(fd_buf_grow(&b, 1), -1);
	assert_string_equal(b.s, "head");
	assert_int_equal(b.len, 4);
	assert_int_equal(refused, 1);  /* no further allocation was even tried */
	fd_buf_reset(&b);
	assert_true(fd_buf_failed(&b));
	assert_int_equal(fd_buf_adds(&b, "again"), -1);
	assert_int_equal(b.len, 0);
	/* a failed buffer does not detach: NULL, and it is released */
	assert_null(fd_buf_detach(&b, &n));
	assert_null(b.s);
	assert_false(fd_buf_failed(&b));
	/* after release it works again */
	limit = SIZE_MAX;
	assert_int_equal(fd_buf_adds(&b, "ok"), 0);
	assert_string_equal(b.s, "ok");
	fd_buf_release(&b);
}

/* A failed first allocation (no memory at all yet) fails the buffer too. */
static void test_first_allocation(void **state)
{
	struct fd_buf b = FD_BUF_INIT;

	(void)state;
	limit = 0;
	assert_int_equal(fd_buf_addf(&b, "%s", "x"), -1);
	assert_true(fd_buf_failed(&b));
	assert_null(b.s);
	limit = SIZE_MAX;
	assert_int_equal(fd_buf_addc(&b, 'x'), -1);
	fd_buf_release(&b);
	assert_false(fd_buf_failed(&b));
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s = calloc(1, 4096);

	assert_non_null(f);
	assert_non_null(s);
	assert_true(fread(s, 1, 4095, f) < 4095);
	fclose(f);
	return s;
}

/* fd_out_write_buf: a whole buffer is written; a failed one fails the commit with a clear
 * message and leaves the target as it was. */
static void test_out_write_buf(void **state)
{
	char path[64];
	struct fd_buf ok = FD_BUF_INIT, cut = FD_BUF_INIT;
	struct fd_out *out;
	struct fd_err err = {0};
	char *s, msg[160];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/fd_test_buf.%d", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("before\n", f);
	fclose(f);

	fd_buf_adds(&cut, "first part\n");
	limit = 64;
	fd_buf_adds(&cut, "a second part that no longer fits in the sixty-four bytes allocated\n");
	fd_buf_adds(&cut, "third\n");
	assert_true(fd_buf_failed(&cut));
	limit = SIZE_MAX;
	assert_int_equal(fd_out_open(&out, path, NULL, &err), FD_OK);
	fd_out_write_buf(out, &cut);
	fd_out_puts(out, "more\n");
	assert_int_equal(fd_out_commit(out, &err), FD_EIO);
	snprintf(msg, sizeof(msg), "out of memory building '%s': not written", path);
	assert_string_equal(err.msg, msg);
	s = slurp(path);
	assert_string_equal(s, "before\n");
	free(s);

	fd_buf_adds(&ok, "whole\n");
	assert_int_equal(fd_out_open(&out, path, NULL, &err), FD_OK);
	fd_out_write_buf(out, &ok);
	assert_int_equal(fd_out_commit(out, &err), FD_OK);
	s = slurp(path);
	assert_string_equal(s, "whole\n");
	free(s);
	unlink(path);
	fd_buf_release(&ok);
	fd_buf_release(&cut);
}

/* The evidence bundle: when its manifest cannot grow, the export fails and leaves no bundle
 * (before, later small appends could land after the hole and a cut manifest was sealed in). */
static void test_bundle_manifest(void **state)
{
	char dir[64], db[96], bundle[96];
	struct fd_who who = {"tester", "test_buf", "0"};
	struct fd_store *st = NULL;
	struct fd_err err = {0};
	struct fd_verify_opts opts;
	struct fd_bundle_info info;
	struct fd_verify_result vr;
	struct stat sb;
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
	char p[128];
	size_t i;

	(void)state;
	memcpy(dir, "/tmp/fd_test_buf.XXXXXX", 24);
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/fd.db", dir);
	snprintf(bundle, sizeof(bundle), "%s/case.fdb", dir);
	assert_int_equal(fd_store_open(&st, db, FD_STORE_CREATE, &who, &err), FD_OK);
	memset(&opts, 0, sizeof(opts));

	/* the manifest starts {"format":"fd-bundle"; only it may not grow past 256 bytes */
	prefix = "{\"format\":\"fd-bundle\"";
	limit = 256;
	assert_int_equal(fd_bundle_export(st, bundle, &opts, &info, &vr, &err), FD_EIO);
	assert_true(refused >= 1);
	assert_string_equal(err.msg, "out of memory");
	assert_int_not_equal(stat(bundle, &sb), 0);

	/* the same export with memory: a bundle */
	prefix = NULL;
	limit = SIZE_MAX;
	assert_int_equal(fd_bundle_export(st, bundle, &opts, &info, &vr, &err), FD_OK);
	assert_int_equal(stat(bundle, &sb), 0);
	assert_true(sb.st_size > 0);

	fd_store_close(st);
	unlink(bundle);
	for (i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", db, sfx[i]);
		unlink(p);
	}
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_appends, reset_hook),
		cmocka_unit_test_setup(test_sticky, reset_hook),
		cmocka_unit_test_setup(test_first_allocation, reset_hook),
		cmocka_unit_test_setup(test_out_write_buf, reset_hook),
		cmocka_unit_test_setup(test_bundle_manifest, reset_hook),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
