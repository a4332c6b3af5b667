/*
 * test_rule_lists.c — fd_rule_values: the values of a list file (comments, blanks, CRLF, a
 * last line without a newline, '#' inside a value), appended after values already there;
 * a bad value, a file that cannot be opened or read.  Expected values written by hand from
 * the format in fd-rules(5).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/fd_rule_lists.c"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	memcpy(dir, "/tmp/fd_test_rlists.XXXXXX", 27);
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/list.txt", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

static void write_list(const char *text, size_t n)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

static void test_values(void **state)
{
	static const char text[] = "# VIP customers\n"
				   "\n"
				   "C1\n"
				   "  C2\t # the second\n"
				   "C#3\n"          /* '#' not after a blank: part of the value */
				   "C 4\r\n"        /* CRLF; a blank inside a value stays */
				   " \t \n"
				   "#C5\n"
				   "C6";            /* no final newline */
	static const char *const want[] = {"arg", "C1", "C2", "C#3", "C 4", "C6"};
	struct fd_rule_values v = FD_RULE_VALUES_INIT;
	struct fd_buf t = FD_BUF_INIT;
	struct fd_err err = {0};
	size_t i;

	(void)state;
	write_list(text, sizeof(text) - 1);
	assert_int_equal(fd_rule_values_add(&v, "arg", &err), FD_OK);
	assert_int_equal(fd_rule_values_read_file(&v, path, &t, &err), FD_OK);
	assert_int_equal(v.n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < v.n; i++)
		assert_string_equal(v.v[i], want[i]);
	fd_rule_values_release(&v);
	assert_null(v.v);
	assert_int_equal(v.n, 0);
	fd_buf_release(&t);

	/* an empty file adds nothing */
	write_list("", 0);
	assert_int_equal(fd_rule_values_read_file(&v, path, &t, &err), FD_OK);
	assert_int_equal(v.n, 0);
	fd_rule_values_release(&v);
	fd_buf_release(&t);
}

static void test_errors(void **state)
{
	struct fd_rule_values v = FD_RULE_VALUES_INIT;
	struct fd_buf t = FD_BUF_INIT;
	struct fd_err err = {0};
	char want[256];

	(void)state;
	write_list("ok\nbad\x01\n", 8);
	assert_int_equal(fd_rule_values_read_file(&v, path, &t, &err), FD_EINPUT);
	snprintf(want, sizeof(want), "%s: bad value 'bad\\x01': control character in value", path);
	assert_string_equal(err.msg, want);
	fd_rule_values_release(&v);
	fd_buf_release(&t);

	/* one over the limit of 4096 bytes: the value is cut in the message */
	{
		char big[4098];

		memset(big, 'x', 4097);
		big[4097] = '\n';
		write_list(big, sizeof(big));
		assert_int_equal(fd_rule_values_read_file(&v, path, &t, &err), FD_EINPUT);
		if (!strstr(err.msg, "...': value longer than 4096 bytes"))
			fail_msg("%s", err.msg);
		fd_rule_values_release(&v);
		fd_buf_release(&t);
	}

	snprintf(want, sizeof(want), "%s/none.txt", dir);
	assert_int_equal(fd_rule_values_read_file(&v, want, &t, &err), FD_EIO);
	{
		char w2[512];

		snprintf(w2, sizeof(w2), "cannot open '%s': No such file or directory", want);
		assert_string_equal(err.msg, w2);
		assert_int_equal(fd_rule_values_read_file(&v, dir, &t, &err), FD_EIO);
		snprintf(w2, sizeof(w2), "cannot read '%s': Is a directory", dir);
		assert_string_equal(err.msg, w2);
	}
	assert_int_equal(v.n, 0);
	fd_rule_values_release(&v);
	fd_buf_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
