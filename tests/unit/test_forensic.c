/*
 * test_forensic.c — fd_forensic: Benford statistics against an independent computation
 * (tests/unit/benford_ref.py: Pearson chi-square, MAD, Nigrini's z, and the chi-square tail
 * by the incomplete gamma function's series and continued fraction, not fd's closed forms)
 * and against published chi-square critical values; Nigrini's conformity ranges at their
 * bounds; leading digits; reference matching and sequence numbers; weekdays; fixed-point
 * amounts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "../../lib/fd_forensic.c"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))
#define REL(a, b, tol) assert_true(fabs((a) - (b)) <= (tol) * fabs(b))

static void test_leading(void **state)
{
	int d1 = 0, d12 = 0;

	(void)state;
	assert_int_equal(fd_leading_digits(12345, &d1, &d12), 0);
	assert_int_equal(d1, 1);
	assert_int_equal(d12, 12);
	assert_int_equal(fd_leading_digits(7, &d1, &d12), 0);
	assert_int_equal(d1, 7);
	assert_int_equal(d12, -1);
	assert_int_equal(fd_leading_digits(99, &d1, &d12), 0);
	assert_int_equal(d12, 99);
	assert_int_equal(fd_leading_digits(100, &d1, &d12), 0);
	assert_int_equal(d12, 10);
	assert_int_equal(fd_leading_digits(INT64_MAX, &d1, &d12), 0);  /* 9223372036854775807 */
	assert_int_equal(d12, 92);
	assert_int_equal(fd_leading_digits(0, &d1, &d12), -1);
	assert_int_equal(fd_leading_digits(-5, &d1, &d12), -1);
}

/* Benford's proportions as tabulated to 5 decimals (log10(1 + 1/d)). */
static void test_expected(void **state)
{
	static const double first[9] = {0.30103, 0.17609, 0.12494, 0.09691, 0.07918,
					0.06695, 0.05799, 0.05115, 0.04576};
	double sum = 0;
	int d;

	(void)state;
	for (d = 1; d <= 9; d++)
		NEAR(fd_benford_expected(d), first[d - 1], 5e-6);
	NEAR(fd_benford_expected(10), 0.04139, 5e-6);
	NEAR(fd_benford_expected(99), 0.00436, 5e-6);
	for (d = 10; d <= 99; d++)
		sum += fd_benford_expected(d);
	NEAR(sum, 1.0, 1e-12);
}

/* Upper-tail values at published critical values (NIST/SEMATECH e-Handbook, table 1.3.6.7.4:
 * df 8 at 0.05 and 0.01) and independent values from benford_ref.py. */
static void test_chi2(void **state)
{
	(void)state;
	REL(fd_chi2_q(15.507, 8), 0.050005219283280763, 1e-9);
	REL(fd_chi2_q(20.090, 8), 0.010000861559524623, 1e-9);
	REL(fd_chi2_q(112.022, 89), 0.049999905425664924, 1e-9);
	REL(fd_chi2_q(1.0, 1), 0.31731050786291437, 1e-12);
	REL(fd_chi2_q(3.0, 3), 0.39162517627108884, 1e-12);
	REL(fd_chi2_q(545.146493672062, 89), 1.0964196087685573e-66, 1e-8);
	assert_true(fd_chi2_q(0, 8) == 1);
	/* a million nonconforming amounts: no overflow, no NaN */
	assert_true(fd_chi2_q(5e6, 89) == 0);
	assert_true(fd_chi2_q(5e6, 8) == 0);
	assert_true(isnan(fd_chi2_q(1, 0)));
}

static void test_eval_first(void **state)
{
	static const int64_t c[9] = {35, 20, 10, 9, 8, 6, 5, 4, 3};
	static const double z[9] = {0.9585667332745148, 0.4964255862915633, 0.6030174109671439,
				    0.06456341377468636, 0.030321813043137424, 0.0778934501876175,
				    0.12800965887389906, 0.2792681936100846, 0.5148141728211323};
	struct fd_benford_result r;
	int d;

	(void)state;
	fd_benford_eval(FD_BENFORD_FIRST, c, &r);
	assert_int_equal(r.n, 100);
	assert_int_equal(r.df, 8);
	REL(r.chi2, 2.637167667835517, 1e-12);
	REL(r.p_value, 0.9550275020039211, 1e-9);
	REL(r.mad, 0.016377222051713942, 1e-12);
	/* a small sample: chi-square content, MAD not (Nigrini's point about the two) */
	assert_string_equal(r.conformity, "nonconformity");
	assert_int_equal(r.nonconforming, 1);
	for (d = 1; d <= 9; d++)
		REL(fd_benford_z(c[d - 1], 100, fd_benford_expected(d)), z[d - 1], 1e-9);
}

static void test_eval_first_two(void **state)
{
	int64_t c[90];
	struct fd_benford_result r;
	int i;

	(void)state;
	for (i = 0; i < 90; i++)
		c[i] = (i * 7) % 13 + 1;
	fd_benford_eval(FD_BENFORD_FIRST_TWO, c, &r);
	assert_int_equal(r.n, 630);
	assert_int_equal(r.df, 89);
	REL(r.chi2, 545.146493672062, 1e-12);
	REL(r.p_value, 1.0964196087685573e-66, 1e-8);
	REL(r.mad, 0.007904606929341498, 1e-12);
	assert_string_equal(r.conformity, "nonconformity");
	REL(fd_benford_z(c[0], 630, fd_benford_expected(10)), 4.915677085851286, 1e-9);
	REL(fd_benford_z(c[89], 630, fd_benford_expected(99)), 5.8926339794885125, 1e-9);
}

static void test_eval_empty(void **state)
{
	int64_t c[90] = {0};
	struct fd_benford_result r;

	(void)state;
	fd_benford_eval(FD_BENFORD_FIRST, c, &r);
	assert_int_equal(r.n, 0);
	assert_string_equal(r.conformity, "none");
	assert_int_equal(r.nonconforming, 0);
	assert_true(fd_benford_z(0, 0, 0.3) == 0);
}

/* The continuity correction only when it is smaller than the deviation: k/n = p exactly. */
static void test_z_correction(void **state)
{
	(void)state;
	/* 1/(2n) = 0.005 > |0.3 - 0.30103| = 0.00103: no correction */
	REL(fd_benford_z(30, 100, 0.30103), 0.00103 / sqrt(0.30103 * 0.69897 / 100), 1e-12);
	/* 1/(2n) = 0.005 < 0.10103: corrected */
	REL(fd_benford_z(40, 100, 0.30103), (0.09897 - 0.005) / sqrt(0.30103 * 0.69897 / 100), 1e-12);
}

static void test_conformity(void **state)
{
	(void)state;
	assert_string_equal(fd_benford_conformity(FD_BENFORD_FIRST, 0.0059), "close");
	assert_string_equal(fd_benford_conformity(FD_BENFORD_FIRST, 0.006), "acceptable");
	assert_string_equal(fd_benford_conformity(FD_BENFORD_FIRST, 0.0119), "acceptable");
	assert_string_equal(fd_benford_conformity(FD_BENFORD_FIRST, 0.012), "marginal");
	assert_string_equal(fd_benford_conformity(FD_BENFORD_FIRST, 0.015), "marginal");
	assert_string_equal(fd_benford_conformity(FD_BENFORD_FIRST, 0.0151), "nonconformity");
	assert_string_equal(fd_benford_conformity(FD_BENFORD_FIRST_TWO, 0.00119), "close");
	assert_string_equal(fd_benford_conformity(FD_BENFORD_FIRST_TWO, 0.0012), "acceptable");
	assert_string_equal(fd_benford_conformity(FD_BENFORD_FIRST_TWO, 0.0018), "marginal");
	assert_string_equal(fd_benford_conformity(FD_BENFORD_FIRST_TWO, 0.0022), "marginal");
	assert_string_equal(fd_benford_conformity(FD_BENFORD_FIRST_TWO, 0.00221), "nonconformity");
}

static int match(const char *a, const char *b)
{
	return fd_ref_match(a, strlen(a), b, strlen(b));
}

static void test_references(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(fd_ref_normalise("inv-0012/a", 10, buf, sizeof(buf)), 6);
	assert_string_equal(buf, "INV12A");
	fd_ref_normalise("000", 3, buf, sizeof(buf));
	assert_string_equal(buf, "0");
	fd_ref_normalise("A 00 B", 6, buf, sizeof(buf));
	assert_string_equal(buf, "A0B");
	fd_ref_normalise("1 000", 5, buf, sizeof(buf));
	assert_string_equal(buf, "1000");
	assert_int_equal(fd_ref_normalise("abcdef", 6, buf, 4), 3);
	assert_string_equal(buf, "ABC");

	assert_true(fd_edit1("abc", 3, "abc", 3));
	assert_true(fd_edit1("abc", 3, "abd", 3));   /* replace */
	assert_true(fd_edit1("abc", 3, "acb", 3));   /* swap */
	assert_true(fd_edit1("abc", 3, "abxc", 4));  /* insert */
	assert_true(fd_edit1("abxc", 4, "abc", 3));  /* delete */
	assert_true(fd_edit1("abc", 3, "abcd", 4));
	assert_false(fd_edit1("abc", 3, "bca", 3));
	assert_false(fd_edit1("abc", 3, "axy", 3));
	assert_false(fd_edit1("abc", 3, "abcde", 5));

	assert_int_equal(match("INV-1001", "inv 1001"), FD_REF_SAME);
	assert_int_equal(match("INV-0001001", "INV1001"), FD_REF_SAME);
	assert_int_equal(match("INV 1001", "1001"), FD_REF_DIGITS);
	assert_int_equal(match("INV1001", "INV1010"), FD_REF_EDIT);   /* swapped digits */
	assert_int_equal(match("INV1001", "INV10001"), FD_REF_EDIT);  /* one more */
	assert_int_equal(match("INV1001", "INV2002"), FD_REF_NONE);
	assert_int_equal(match("INV1001", "INV1002"), FD_REF_NONE);  /* the next number */
	assert_int_equal(match("ACME-X", "ACNE-X"), FD_REF_EDIT);   /* a letter mistyped */
	assert_int_equal(match("A1", "A2"), FD_REF_NONE);            /* too short for one edit */
	assert_int_equal(match("12", "AB12"), FD_REF_NONE);          /* two digits: too few */
	assert_int_equal(match("", "INV1"), FD_REF_NONE);
	assert_int_equal(match("--", "--"), FD_REF_NONE);            /* empty once normalised */
	assert_string_equal(fd_ref_match_name(FD_REF_DIGITS), "digits");
}

static void test_split(void **state)
{
	size_t pl;
	int64_t num;
	int w;

	(void)state;
	assert_int_equal(fd_ref_split("INV-000123", 10, &pl, &num, &w), 0);
	assert_int_equal(pl, 4);
	assert_int_equal(num, 123);
	assert_int_equal(w, 6);
	assert_int_equal(fd_ref_split("42", 2, &pl, &num, &w), 0);
	assert_int_equal(pl, 0);
	assert_int_equal(num, 42);
	assert_int_equal(fd_ref_split("A1B", 3, &pl, &num, &w), -1);
	assert_int_equal(fd_ref_split("X123456789012345678", 19, &pl, &num, &w), 0);
	assert_int_equal(num, 123456789012345678LL);
	assert_int_equal(fd_ref_split("X1234567890123456789", 20, &pl, &num, &w), -1);
}

/* Weekdays checked against `date -u -d DATE +%u` (1 Monday .. 7 Sunday). */
static void test_calendar(void **state)
{
	(void)state;
	assert_int_equal(fd_weekday(0), 3);                                   /* 1970-01-01 Thu */
	assert_int_equal(fd_weekday(fd_days_from_civil(2026, 12, 5)), 5);     /* Sat */
	assert_int_equal(fd_weekday(fd_days_from_civil(2026, 12, 7)), 0);     /* Mon */
	assert_int_equal(fd_weekday(fd_days_from_civil(1969, 12, 28)), 6);    /* Sun */
	assert_string_equal(fd_weekday_name(6), "Sun");
	/* 2026-12-05T23:30Z is already Sunday at +01:00, still Saturday at UTC */
	assert_int_equal(fd_day_of(1796513400000LL, 0), fd_days_from_civil(2026, 12, 5));
	assert_int_equal(fd_day_of(1796513400000LL, 3600), fd_days_from_civil(2026, 12, 6));
	assert_int_equal(fd_day_of(-1, 0), -1);  /* 1969-12-31T23:59:59.999Z */
}

static void test_amounts(void **state)
{
	int64_t v[8] = {0};
	size_t n;

	(void)state;
	assert_int_equal(fd_scaled(12345, 2), 1234500);   /* 123.45 */
	assert_int_equal(fd_scaled(7, 0), 70000);
	assert_int_equal(fd_scaled(1234, 3), 12340);
	assert_int_equal(fd_scaled(INT64_MAX / 10, 2), INT64_MAX);
	assert_int_equal(fd_scaled(-(INT64_MAX / 10), 2), -INT64_MAX);
	assert_null(fd_parse_scaled("2999.5", &v[0]));
	assert_int_equal(v[0], 29995000);
	assert_string_equal(fd_parse_scaled("-1", &v[0]), "negative amount");
	assert_non_null(fd_parse_scaled("1e3", &v[0]));
	assert_null(fd_parse_scaled_list("0,100,1000.5", v, 8, &n));
	assert_int_equal(n, 3);
	assert_int_equal(v[2], 10005000);
	assert_string_equal(fd_parse_scaled_list("100,10", v, 8, &n), "not increasing");
	assert_string_equal(fd_parse_scaled_list("1,2,3", v, 2, &n), "too many values");
	assert_string_equal(fd_parse_scaled_list("", v, 8, &n), "empty list");
	assert_string_equal(fd_parse_scaled_list("1,,2", v, 8, &n), "empty value");

	/* 60 of 100 against one half: (60 - 50 - 0.5) / 5 */
	REL(fd_binom_z(60, 100, 0.5), 1.9, 1e-12);
	assert_true(fd_binom_z(40, 100, 0.5) == 0);
	assert_true(fd_binom_z(1, 0, 0.5) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leading),
		cmocka_unit_test(test_expected),
		cmocka_unit_test(test_chi2),
		cmocka_unit_test(test_eval_first),
		cmocka_unit_test(test_eval_first_two),
		cmocka_unit_test(test_eval_empty),
		cmocka_unit_test(test_z_correction),
		cmocka_unit_test(test_conformity),
		cmocka_unit_test(test_references),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_calendar),
		cmocka_unit_test(test_amounts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
