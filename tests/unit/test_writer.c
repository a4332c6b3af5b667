/* test_writer.c — fd_writer: CSV quoting, NDJSON escaping, numbers, absent values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd_reader.h"
#include "fd_writer.h"

static char path[64];

static struct fd_out *open_out(void)
{
	static int k;
	struct fd_out *out;
	struct fd_err err;


	snprintf(path, sizeof(path), "/tmp/fd_test_writer.%d.%d", (int)getpid(), k++);
	assert_int_equal(fd_out_open(&out, path, NULL, &err), FD_OK);
	return out;
}

/* Commit and return the file's content (malloc'd). */
static char *finish(struct fd_out *out, struct fd_writer *w)
{
	struct fd_err err;
	FILE *f;
	char *s;
	long n;

	fd_writer_free(w);
	assert_int_equal(fd_out_commit(out, &err), FD_OK);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	unlink(path);
	return s;
}

static void test_csv_quoting(void **state)
{
	static const char *const names[] = { "id", "a,b", "q\"t", " sp" };
	struct fd_out *out = open_out();
	struct fd_writer *w = fd_writer_create(out, FD_FMT_CSV, names, 4);
	char *s;

	(void)state;
	assert_non_null(w);
	fd_writer_begin(w);
	fd_writer_cstr(w, "abc");
	fd_writer_cstr(w, "a,b");
	fd_writer_cstr(w, "say \"hi\"");
	fd_writer_cstr(w, "line\nbreak");
	fd_writer_end(w);
	fd_writer_begin(w);
	fd_writer_cstr(w, "cr\rx");
	fd_writer_cstr(w, " lead");
	fd_writer_cstr(w, "trail ");
	fd_writer_cstr(w, "\ttab");
	fd_writer_end(w);
	fd_writer_begin(w);
	fd_writer_cstr(w, "");
	fd_writer_cstr(w, NULL);
	fd_writer_str(w, "x\"", 2);
	fd_writer_str(w, "in side", 7);  /* an inner space needs no quotes */
	fd_writer_end(w);
	fd_writer_begin(w);
	fd_writer_str(w, "semi;colon|pipe", 15);
	fd_writer_end(w);  /* three columns left: absent */
	s = finish(out, w);
	assert_string_equal(s,
		"id,\"a,b\",\"q\"\"t\",\" sp\"\n"
		"abc,\"a,b\",\"say \"\"hi\"\"\",\"line\nbreak\"\n"
		"\"cr\rx\",\" lead\",\"trail \",\"\ttab\"\n"
		",,\"x\"\"\",in side\n"
		"semi;colon|pipe,,,\n");
	free(s);
}

static void test_csv_one_column(void **state)
{
	static const char *const names[] = { "v" };
	struct fd_out *out = open_out();
	struct fd_writer *w = fd_writer_create(out, FD_FMT_CSV, names, 1);
	char *s;

	(void)state;
	fd_writer_begin(w);
	fd_writer_cstr(w, "");
	fd_writer_end(w);
	fd_writer_begin(w);
	fd_writer_cstr(w, "a");
	fd_writer_cstr(w, "extra");  /* dropped */
	fd_writer_end(w);
	s = finish(out, w);
	assert_string_equal(s, "v\n\"\"\na\n");
	free(s);
}

static void test_ndjson_escaping(void **state)
{
	static const char *const names[] = { "s", "k\"ey", "n", "b", "t", "nul" };
	struct fd_out *out = open_out();
	struct fd_writer *w = fd_writer_create(out, FD_FMT_NDJSON, names, 6);
	char *s;

	(void)state;
	fd_writer_begin(w);
	fd_writer_cstr(w, "q\" b\\ n\n t\t c\x01 \xc3\xa9");
	fd_writer_str(w, "nul\0x", 5);
	fd_writer_i64(w, INT64_MIN);
	fd_writer_bool(w, 1);
	fd_writer_bool(w, 0);
	fd_writer_null(w);
	fd_writer_end(w);
	fd_writer_begin(w);
	fd_writer_cstr(w, NULL);
	fd_writer_end(w);
	s = finish(out, w);
	assert_string_equal(s,
		"{\"s\":\"q\\\" b\\\\ n\\n t\\t c\\u0001 \xc3\xa9\",\"k\\\"ey\":\"nul\\u0000x\","
		"\"n\":-9223372036854775808,\"b\":true,\"t\":false,\"nul\":null}\n"
		"{\"s\":null,\"k\\\"ey\":null,\"n\":null,\"b\":null,\"t\":null,\"nul\":null}\n");
	free(s);
}

static void test_doubles(void **state)
{
	static const char *const names[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j" };
	struct fd_out *out;
	struct fd_writer *w;
	char *s;

	(void)state;
	out = open_out();
	w = fd_writer_create(out, FD_FMT_CSV, names, 10);
	fd_writer_begin(w);
	fd_writer_f64(w, 0.1);
	fd_writer_f64(w, 0.1 + 0.2);
	fd_writer_f64(w, 1.0 / 3.0);
	fd_writer_f64(w, 9007199254740994.0);
	fd_writer_f64(w, 1e21);
	fd_writer_f64(w, 100.0);
	fd_writer_f64(w, -2.5e-7);
	fd_writer_f64(w, NAN);
	fd_writer_f64(w, INFINITY);
	fd_writer_f64(w, -0.0);
	fd_writer_end(w);
	fd_writer_begin(w);
	fd_writer_fixed(w, 2.5, 2);
	fd_writer_fixed(w, -0.004, 2);
	fd_writer_fixed(w, 1.005, 2);   /* 1.00499999999999989... */
	fd_writer_fixed(w, 2.5, 0);     /* ties to even */
	fd_writer_fixed(w, -1.5, 0);
	fd_writer_fixed(w, 12.0, -3);   /* negative decimals: 0 */
	fd_writer_fixed(w, NAN, 2);
	fd_writer_fixed(w, -0.0, 1);
	fd_writer_i64(w, 0);
	fd_writer_i64(w, INT64_MAX);
	fd_writer_end(w);
	s = finish(out, w);
	assert_string_equal(s, "a,b,c,d,e,f,g,h,i,j\n"
			       "0.1,0.30000000000000004,0.3333333333333333,9007199254740994,"
			       "1e+21,100,-2.5e-07,,,0\n"
			       "2.50,0.00,1.00,2,-2,12,,0.0,0,9223372036854775807\n");
	free(s);

	out = open_out();
	w = fd_writer_create(out, FD_FMT_NDJSON, names, 3);
	fd_writer_begin(w);
	fd_writer_f64(w, 0.5);
	fd_writer_f64(w, NAN);
	fd_writer_fixed(w, -INFINITY, 3);
	fd_writer_end(w);
	s = finish(out, w);
	assert_string_equal(s, "{\"a\":0.5,\"b\":null,\"c\":null}\n");
	free(s);
}

static void test_f64_sig(void **state)
{
	static const char *const names[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j",
					     "k", "l", "m" };
	struct fd_out *out = open_out();
	struct fd_writer *w = fd_writer_create(out, FD_FMT_CSV, names, 13);
	char *s;

	(void)state;
	fd_writer_begin(w);
	fd_writer_f64_sig(w, 0.1 + 0.2, 6);
	fd_writer_f64_sig(w, 1234.5678, 6);
	fd_writer_f64_sig(w, -0.000123456, 3);
	fd_writer_f64_sig(w, 9.9999996, 6);    /* rounds up into a new digit */
	fd_writer_f64_sig(w, 0.99999999, 6);
	fd_writer_f64_sig(w, 123456789.0, 6);  /* whole numbers in full */
	fd_writer_f64_sig(w, -42.0, 3);
	fd_writer_f64_sig(w, 0.000012345, 3);  /* positional down to 1e-5 */
	fd_writer_f64_sig(w, 1e-6, 6);         /* beyond: as printf */
	fd_writer_f64_sig(w, 2.5e15, 6);
	fd_writer_f64_sig(w, NAN, 6);
	fd_writer_f64_sig(w, -0.0, 6);
	fd_writer_f64_sig(w, 0.5, 1);
	fd_writer_end(w);
	s = finish(out, w);
	assert_string_equal(s, "a,b,c,d,e,f,g,h,i,j,k,l,m\n"
			       "0.3,1234.57,-0.000123,10,1,123456789,-42,0.0000123,1e-06,2.5e+15,,0,"
			       "0.5\n");
	free(s);
}

/* fd_writer_f64_sig_n: the same text as one value at a time, in CSV (after a first column,
 * across several buffer chunks, extra values dropped) and in NDJSON. */
static void test_f64_sig_n(void **state)
{
	static const char *const names[] = { "id", "a", "b", "c", "d", "e", "f", "g", "h", "i",
					     "j", "k", "l", "m" };
	static const char *const nd_names[] = { "a", "b", "c" };
	const double v[13] = { 0.1 + 0.2, 1234.5678, -0.000123456, 9.9999996, 0.99999999,
			       123456789.0, -42.0, 0.000012345, 1e-6, 2.5e15, NAN, -0.0, INFINITY };
	const double nd[3] = { 1.5, NAN, 2 };
	enum { NBIG = 300 };
	const char *bnames[NBIG];
	double big[NBIG + 2];
	struct fd_out *out = open_out();
	struct fd_writer *w = fd_writer_create(out, FD_FMT_CSV, names, 14);
	char *s, *want, *p;
	int i;

	(void)state;
	fd_writer_begin(w);
	fd_writer_i64(w, 7);
	fd_writer_f64_sig_n(w, v, 13, 6);
	fd_writer_end(w);
	s = finish(out, w);
	assert_string_equal(s, "id,a,b,c,d,e,f,g,h,i,j,k,l,m\n"
			       "7,0.3,1234.57,-0.000123456,10,1,123456789,-42,0.000012345,1e-06,2.5e+15,,0,\n");
	free(s);

	/* 300 columns, many more than one chunk: i / 2 is "k" or "k.5"; two values too many */
	for (i = 0; i < NBIG; i++)
		bnames[i] = "x";
	for (i = 0; i < NBIG + 2; i++)
		big[i] = i / 2.0;
	out = open_out();
	w = fd_writer_create(out, FD_FMT_CSV, bnames, NBIG);
	fd_writer_begin(w);
	fd_writer_f64_sig_n(w, big, 10, 9);
	fd_writer_f64_sig_n(w, big + 10, NBIG + 2 - 10, 9);
	fd_writer_end(w);
	s = finish(out, w);
	want = malloc(NBIG * 2 + NBIG * 8 + 2);
	assert_non_null(want);
	p = want;
	for (i = 0; i < NBIG; i++)
		p += snprintf(p, 3, "x%s", i + 1 < NBIG ? "," : "\n");
	for (i = 0; i < NBIG; i++)
		p += snprintf(p, 9, i % 2 ? "%d.5%s" : "%d%s", i / 2, i + 1 < NBIG ? "," : "\n");
	assert_string_equal(s, want);
	free(want);
	free(s);

	out = open_out();
	w = fd_writer_create(out, FD_FMT_NDJSON, nd_names, 3);
	fd_writer_begin(w);
	fd_writer_f64_sig_n(w, nd, 3, 6);
	fd_writer_end(w);
	s = finish(out, w);
	assert_string_equal(s, "{\"a\":1.5,\"b\":null,\"c\":2}\n");
	free(s);
}

/* fd_writer_f64_sig against printf's %.*g on many values: the same number at sig digits,
 * and the same text where %g writes no exponent. */
static void test_f64_sig_vs_printf(void **state)
{
	static const int sigs[] = { 3, 6, 10 };
	static const char *const names[] = { "v" };
	uint64_t x = 88172645463325252ull;
	int i, k;

	(void)state;
	for (k = 0; k < 3; k++) {
		int sig = sigs[k];
		struct fd_out *out = open_out();
		struct fd_writer *w = fd_writer_create(out, FD_FMT_CSV, names, 1);
		double vals[5000];
		char *text, *line, *nl, ref[64];

		for (i = 0; i < 5000; i++) {
			double m, e;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			m = (double)(x >> 11) / 9007199254740992.0;  /* [0, 1) */
			e = (double)((x >> 3) % 20) - 5.0;            /* 1e-5 .. 1e14 */
			vals[i] = (1.0 + 9.0 * m) * pow(10.0, e) * ((x & 1) ? -1 : 1);
			if (fabs(vals[i]) < 1e-5)
				vals[i] = 1e-5;
			fd_writer_begin(w);
			fd_writer_f64_sig(w, vals[i], sig);
			fd_writer_end(w);
		}
		text = finish(out, w);
		line = strchr(text, '\n') + 1;  /* past the header */
		for (i = 0; i < 5000; i++, line = nl + 1) {
			double a = fabs(vals[i]);

			nl = strchr(line, '\n');
			assert_non_null(nl);
			*nl = '\0';
			snprintf(ref, sizeof(ref), "%.*g", sig, vals[i]);
			if (vals[i] == floor(vals[i]))
				continue;  /* whole numbers are written in full */
			if (strtod(line, NULL) != strtod(ref, NULL))
				fail_msg("%.17g at %d digits: %s, printf %s", vals[i], sig, line, ref);
			if (a >= 1e-4 && a < pow(10.0, sig) && strcmp(line, ref))
				fail_msg("%.17g at %d digits: %s, printf %s", vals[i], sig, line, ref);
		}
		free(text);
	}
}

static void test_ts_amount_json(void **state)
{
	static const char *const names[] = { "ts", "amount", "neg", "jpy", "meta" };
	struct fd_out *out;
	struct fd_writer *w;
	char *s;

	(void)state;
	out = open_out();
	w = fd_writer_create(out, FD_FMT_CSV, names, 5);
	fd_writer_begin(w);
	fd_writer_ts(w, 1795525500000);
	fd_writer_amount(w, 1250, 2);
	fd_writer_amount(w, -5, 2);
	fd_writer_amount(w, 100, 0);
	fd_writer_json(w, "{\"a\":[1,2]}", 11);
	fd_writer_end(w);
	fd_writer_begin(w);
	fd_writer_ts(w, 1);
	fd_writer_amount(w, 0, 3);
	fd_writer_null(w);
	fd_writer_null(w);
	fd_writer_json(w, NULL, 0);
	fd_writer_end(w);
	s = finish(out, w);
	assert_string_equal(s, "ts,amount,neg,jpy,meta\n"
			       "2026-11-24T13:05:00.000Z,12.50,-0.05,100,\"{\"\"a\"\":[1,2]}\"\n"
			       "1970-01-01T00:00:00.001Z,0.000,,,\n");
	free(s);

	out = open_out();
	w = fd_writer_create(out, FD_FMT_NDJSON, names, 5);
	fd_writer_begin(w);
	fd_writer_ts(w, 1795525500000);
	fd_writer_amount(w, 1250, 2);
	fd_writer_amount(w, -5, 2);
	fd_writer_amount(w, 100, 0);
	fd_writer_json(w, "{\"a\":[1,2]}", 11);
	fd_writer_end(w);
	fd_writer_begin(w);
	fd_writer_end(w);
	s = finish(out, w);
	assert_string_equal(s, "{\"ts\":\"2026-11-24T13:05:00.000Z\",\"amount\":12.50,\"neg\":-0.05,"
			       "\"jpy\":100,\"meta\":{\"a\":[1,2]}}\n"
			       "{\"ts\":null,\"amount\":null,\"neg\":null,\"jpy\":null,\"meta\":null}\n");
	free(s);
}

/* What the writer writes, the reader reads back the same, in both formats. */
static void test_round_trip(void **state)
{
	static const char *const names[] = { "id", "v" };
	static const char *const vals[] = { "plain", "a,b", "\"q\"", "two\nlines", "crlf\r\n",
					    " both ", "", "\xc3\xa9t\xc3\xa9", "back\\slash",
					    "ctl\x01\x1f", NULL };
	int fmt;

	(void)state;
	for (fmt = FD_FMT_CSV; fmt <= FD_FMT_NDJSON; fmt++) {
		struct fd_out *out = open_out();
		struct fd_writer *w = fd_writer_create(out, fmt, names, 2);
		struct fd_reader *r;
		struct fd_in *in;
		struct fd_err err;
		struct fd_err e2;
		const char *s;
		size_t n;
		char *text;
		int i;

		for (i = 0; vals[i]; i++) {
			fd_writer_begin(w);
			fd_writer_i64(w, i);
			fd_writer_cstr(w, vals[i]);
			fd_writer_end(w);
		}
		text = finish(out, w);
		assert_int_equal(fd_in_open_mem(&in, text, strlen(text), "rt", 0, &err), FD_OK);
		assert_int_equal(fd_reader_open(&r, in, NULL, &err), FD_OK);
		assert_int_equal(fd_reader_format(r), fmt);
		assert_int_equal(fd_reader_bind(r, "id"), 0);
		assert_int_equal(fd_reader_bind(r, "v"), 1);
		for (i = 0; vals[i]; i++) {
			char id[8];

			snprintf(id, sizeof(id), "%d", i);
			assert_int_equal(fd_reader_next(r, &e2), 1);
			assert_int_equal(fd_reader_get(r, 0, &s, &n), 1);
			assert_int_equal(n, strlen(id));
			assert_memory_equal(s, id, n);
			assert_int_equal(fd_reader_get(r, 1, &s, &n), 1);
			assert_int_equal(n, strlen(vals[i]));
			assert_memory_equal(s, vals[i], n);
		}
		assert_int_equal(fd_reader_next(r, &e2), 0);
		fd_reader_free(r);
		fd_in_free(in);
		free(text);
	}
}

static void test_out_of_columns(void **state)
{
	struct fd_out *out = open_out();
	struct fd_writer *w = fd_writer_create(out, FD_FMT_NDJSON, NULL, 0);
	char *s;

	(void)state;
	assert_non_null(w);
	fd_writer_begin(w);
	fd_writer_i64(w, 1);  /* no column: dropped */
	fd_writer_end(w);
	s = finish(out, w);
	assert_string_equal(s, "{}\n");
	free(s);
	fd_writer_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_quoting),
		cmocka_unit_test(test_csv_one_column),
		cmocka_unit_test(test_ndjson_escaping),
		cmocka_unit_test(test_doubles),
		cmocka_unit_test(test_f64_sig),
		cmocka_unit_test(test_f64_sig_vs_printf),
		cmocka_unit_test(test_f64_sig_n),
		cmocka_unit_test(test_ts_amount_json),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_out_of_columns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
