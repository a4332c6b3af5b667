/*
 * test_num.c — fd_num: the one number format a person reads.  Every expected string below is
 * written out by hand from the rule in fd_num.h (groups of three, '.' before the fraction,
 * halves away from zero, no "-0"), not taken from the code's output.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "../../lib/fd_num.h"

#define DBL(v, d, want)                                                                        \
	do {                                                                                   \
		char b_[FD_NUM_BUFSZ];                                                         \
		assert_string_equal(fd_num_double((v), (d), b_), (want));                      \
	} while (0)

#define AMT(m, e, want)                                                                        \
	do {                                                                                   \
		char b_[FD_NUM_BUFSZ];                                                         \
		assert_string_equal(fd_num_amount((m), (e), b_), (want));                      \
	} while (0)

static void test_small(void **state)
{
	(void)state;
	DBL(0, 0, "0");
	DBL(0, 2, "0.00");
	DBL(7, 0, "7");
	DBL(999.99, 2, "999.99");
	DBL(999, 0, "999");
	DBL(0.5, 1, "0.5");
}

static void test_thousands(void **state)
{
	(void)state;
	DBL(1000, 0, "1,000");
	DBL(1000, 2, "1,000.00");
	DBL(16528.81, 2, "16,528.81");
	DBL(9120.8, 2, "9,120.80");
	DBL(100000, 0, "100,000");
	DBL(1234567, 0, "1,234,567");
	DBL(123456789012.0, 0, "123,456,789,012");
}

static void test_negative(void **state)
{
	(void)state;
	DBL(-1234567.5, 2, "-1,234,567.50");
	DBL(-1234567.5, 1, "-1,234,567.5");
	/* a half, away from zero */
	DBL(-1234567.5, 0, "-1,234,568");
	DBL(-999, 0, "-999");
	DBL(-1000, 0, "-1,000");
	DBL(-0.75, 2, "-0.75");
	/* rounds to zero: no sign */
	DBL(-0.004, 2, "0.00");
	DBL(-0.4, 0, "0");
}

static void test_rounding(void **state)
{
	(void)state;
	/* 2.5, 0.125 and 1234.5 are exact in binary: real halves, taken away from zero */
	DBL(2.5, 0, "3");
	DBL(3.5, 0, "4");
	DBL(-2.5, 0, "-3");
	DBL(0.125, 2, "0.13");
	DBL(1234.5, 0, "1,235");
	DBL(16528.814, 2, "16,528.81");
	DBL(16528.816, 2, "16,528.82");
	/* the carry crosses a group: 999.996 -> 1000.00 */
	DBL(999.996, 2, "1,000.00");
	DBL(999999.5, 0, "1,000,000");
	/* the double's exact value decides (Python's Decimal(x) shows it):
	 * 999.995 is stored as 999.99500000000000454...: above the half */
	DBL(999.995, 2, "1,000.00");
	/* 2.675 is 2.67499999999999982...: below */
	DBL(2.675, 2, "2.67");
	/* 0.015 is 0.01499999999999999944..., yet 0.015 * 100 rounds to exactly 1.5 */
	DBL(0.015, 2, "0.01");
	DBL(-0.015, 2, "-0.01");
	DBL(1.0 / 3.0, 4, "0.3333");
	DBL(2.0 / 3.0, 1, "0.7");
}

static void test_large(void **state)
{
	(void)state;
	DBL(1e15, 2, "1,000,000,000,000,000.00");
	DBL(1e16, 0, "10,000,000,000,000,000");
	DBL(-4.5e15, 0, "-4,500,000,000,000,000");
	/* beyond exact rounding: |v| * 10^2 = 1e19 >= 9e18 */
	DBL(1e17, 2, "1e+17");
	DBL(-123456789e15, 0, "-1.23457e+23");
}

static void test_special(void **state)
{
	(void)state;
	DBL(NAN, 2, "n/a");
	DBL(INFINITY, 2, "infinity");
	DBL(-INFINITY, 0, "-infinity");
	/* decimals clamped to 0..9 */
	DBL(1.25, 12, "1.250000000");
	DBL(1.5, -1, "2");
}

static void test_amount(void **state)
{
	(void)state;
	AMT(0, 2, "0.00");
	AMT(5, 2, "0.05");
	AMT(-5, 2, "-0.05");
	AMT(99999, 2, "999.99");
	AMT(100000, 2, "1,000.00");
	AMT(1652881, 2, "16,528.81");
	AMT(-123456750, 2, "-1,234,567.50");
	AMT(1234, 0, "1,234");
	AMT(123, 0, "123");
	AMT(100000, 3, "100.000");
	AMT(1234567891, 3, "1,234,567.891");
	AMT(1, 18, "0.000000000000000001");
	AMT(INT64_MAX, 2, "92,233,720,368,547,758.07");
	AMT(INT64_MIN, 0, "-9,223,372,036,854,775,808");
	/* exponent clamped at 0 below */
	AMT(1234, -3, "1,234");
}

static void test_count(void **state)
{
	char b[FD_NUM_BUFSZ];

	(void)state;
	assert_string_equal(fd_num_count(0, b), "0");
	assert_string_equal(fd_num_count(999, b), "999");
	assert_string_equal(fd_num_count(1234, b), "1,234");
	assert_string_equal(fd_num_count(1000000, b), "1,000,000");
	assert_string_equal(fd_num_count(-1234567, b), "-1,234,567");
}

static void test_add(void **state)
{
	struct fd_buf b = FD_BUF_INIT;

	(void)state;
	assert_int_equal(fd_buf_adds(&b, "total "), 0);
	assert_int_equal(fd_num_add(&b, 18509.64, 2), 0);
	assert_int_equal(fd_buf_adds(&b, " USD"), 0);
	assert_string_equal(b.s, "total 18,509.64 USD");
	fd_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small),    cmocka_unit_test(test_thousands), cmocka_unit_test(test_negative),
		cmocka_unit_test(test_rounding), cmocka_unit_test(test_large),     cmocka_unit_test(test_special),
		cmocka_unit_test(test_amount),   cmocka_unit_test(test_count),     cmocka_unit_test(test_add),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
