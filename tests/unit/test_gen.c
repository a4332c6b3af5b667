/*
 * test_gen.c — unit tests of lib/fd_gen.c (included, to reach its static parts).
 *
 * The splitmix64 outputs for seed 0 are the published reference values (Vigna's splitmix64.c,
 * also in the xoshiro test suites); the xoshiro256** outputs from state {1, 2, 3, 4} were
 * computed with an independent Python transcription of the reference algorithm.  Formatted
 * timestamps and amounts are compared with fd_txn.c's formatters, a separate implementation.
 * The statistical checks have tolerances of several standard deviations.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../lib/fd_gen.c"

/* ---- random numbers ------------------------------------------------------------------- */

static void test_splitmix64_reference(void **state)
{
	uint64_t x = 0;

	(void)state;
	assert_int_equal(fd_rng_splitmix64(&x), 0xe220a8397b1dcdafULL);
	assert_int_equal(fd_rng_splitmix64(&x), 0x6e789e6aa1b965f4ULL);
	assert_int_equal(fd_rng_splitmix64(&x), 0x06c45d188009454fULL);
}

static void test_xoshiro_reference(void **state)
{
	struct fd_rng r = {{1, 2, 3, 4}};
	static const uint64_t want[] = {0x2d00, 0x0, 0x5a007080, 0x10e0000000009d80ULL,
		0x10e0b61ce1009d80ULL, 0x0870021ce143ad00ULL};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(fd_rng_next(&r), want[i]);
}

static void test_rng_ranges(void **state)
{
	struct fd_rng r;
	int i, hits[7] = {0};

	(void)state;
	fd_rng_seed(&r, 1, 9);
	for (i = 0; i < 70000; i++) {
		double u = fd_rng_unif(&r);
		int64_t k = rng_range(&r, -3, 3);

		assert_true(u >= 0 && u < 1);
		assert_in_range(k + 3, 0, 6);
		hits[k + 3]++;
	}
	/* 10000 expected each; sd about 93 */
	for (i = 0; i < 7; i++)
		assert_in_range(hits[i], 9500, 10500);
}

static void test_normal_moments(void **state)
{
	struct fd_rng r;
	double s = 0, s2 = 0, z;
	int i, n = 200000;

	(void)state;
	fd_rng_seed(&r, 7, 1);
	for (i = 0; i < n; i++) {
		z = rng_normal(&r);
		s += z;
		s2 += z * z;
	}
	/* mean sd 1/sqrt(n) = 0.0022; variance sd sqrt(2/n) = 0.0032 */
	assert_true(fabs(s / n) < 0.012);
	assert_true(fabs(s2 / n - 1) < 0.016);
}

static void test_alias_frequencies(void **state)
{
	struct fd_gen g;
	const double w[4] = {1, 2, 3, 4};
	float p[4];
	int32_t a[4];
	struct fd_rng r;
	int i, hits[4] = {0}, n = 400000;

	(void)state;
	memset(&g, 0, sizeof(g));
	g.alias_p = p;
	g.alias_a = a;
	g.ncust = 4;
	assert_int_equal(build_alias(&g, w, 4), 0);
	fd_rng_seed(&r, 3, 3);
	for (i = 0; i < n; i++)
		hits[pick_customer(&g, &r)]++;
	/* expected 40000, 80000, 120000, 160000; sd at most 310 */
	for (i = 0; i < 4; i++)
		assert_in_range(hits[i], 40000 * (i + 1) - 1600, 40000 * (i + 1) + 1600);
}

/* ---- the heap ------------------------------------------------------------------------- */

static void test_heap_order(void **state)
{
	struct fd_gen g;
	struct ev e, prev;
	struct fd_rng r;
	int i;

	(void)state;
	memset(&g, 0, sizeof(g));
	fd_rng_seed(&r, 5, 5);
	for (i = 0; i < 5000; i++) {
		memset(&e, 0, sizeof(e));
		e.ts = rng_range(&r, 0, 300);  /* many ties, broken by seq */
		e.seq = (uint64_t)i;
		assert_int_equal(heap_push(&g, &e), 0);
	}
	heap_pop(&g, &prev);
	for (i = 1; i < 5000; i++) {
		heap_pop(&g, &e);
		assert_true(prev.ts < e.ts || (prev.ts == e.ts && prev.seq < e.seq));
		prev = e;
	}
	assert_int_equal(g.nheap, 0);
	free(g.heap);
}

/* ---- formatting ----------------------------------------------------------------------- */

static void test_put_amount(void **state)
{
	static const int64_t v[] = {0, 1, 9, 10, 99, 100, 101, 123456, 999999, 1000000,
		-5, -123456, INT64_MAX, INT64_MIN + 1};
	char a[64], b[FD_AMOUNT_BUFSZ];
	size_t i;
	int e;

	(void)state;
	for (e = 0; e <= 4; e++) {
		int64_t p10 = 1;
		int k;

		for (k = 0; k < e; k++)
			p10 *= 10;
		for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			*put_amount(a, v[i], e, p10) = '\0';
			assert_string_equal(a, fd_format_amount(v[i], e, b));
		}
	}
}

static void test_put_ts(void **state)
{
	struct fd_gen g;
	char a[64], b[FD_TS_BUFSZ];
	static const int64_t days[] = {0, 20454, 19782 /* 2024-02-29 */, 2932896 /* 9999-12-31 */};
	static const int64_t ms[] = {0, 1, 999, 1000, 59999, 3599999, 43200123, 86399999};
	size_t i, j;

	(void)state;
	memset(&g, 0, sizeof(g));
	for (i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
		g.o.start_day = days[i];
		g.o.days = 1;
		g.day = 0;
		/* next_day() formats the prefix; an empty population gives an empty day */
		g.o.rows = 0;
		assert_int_equal(next_day(&g), 0);
		for (j = 0; j < sizeof(ms) / sizeof(ms[0]); j++) {
			int64_t t = days[i] * FD_DAY_MS + ms[j];

			*put_ts(&g, a, t) = '\0';
			assert_string_equal(a, fd_format_ts(t, b));
		}
	}
	free(g.batch);
}

static void test_put_coord(void **state)
{
	static const struct { int32_t v; const char *s; } c[] = {
		{0, "0.0000"}, {1, "0.0001"}, {-1, "-0.0001"}, {407128, "40.7128"},
		{-740060, "-74.0060"}, {900000, "90.0000"}, {-1800000, "-180.0000"},
	};
	char a[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		*put_coord(a, c[i].v) = '\0';
		assert_string_equal(a, c[i].s);
	}
}

/* ---- the generator as a whole --------------------------------------------------------- */

static void test_bad_options(void **state)
{
	struct fd_gen_opts o;
	struct fd_gen *g = (struct fd_gen *)1;
	struct fd_err err;

	(void)state;
	fd_gen_opts_init(&o);
	o.rows = -1;
	assert_int_equal(fd_gen_create(&g, &o, &err), FD_EUSAGE);
	assert_null(g);
	assert_string_equal(err.msg, "rows must be from 0 to 2000000000");
	fd_gen_opts_init(&o);
	o.days = 0;
	assert_int_equal(fd_gen_create(&g, &o, &err), FD_EUSAGE);
	fd_gen_opts_init(&o);
	o.fraud_rate = NAN;
	assert_int_equal(fd_gen_create(&g, &o, &err), FD_EUSAGE);
	assert_string_equal(err.msg, "fraud rate must be from 0 to 1");
	fd_gen_opts_init(&o);
	memcpy(o.currency, "usd", 4);
	assert_int_equal(fd_gen_create(&g, &o, &err), FD_EUSAGE);
	fd_gen_opts_init(&o);
	o.format = 7;
	assert_int_equal(fd_gen_create(&g, &o, &err), FD_EUSAGE);
	fd_gen_opts_init(&o);
	o.start_day = 2932896;
	o.days = 2;
	assert_int_equal(fd_gen_create(&g, &o, &err), FD_EUSAGE);
}

/* Exact totals for many small shapes, including degenerate populations. */
static void test_exact_counts(void **state)
{
	static const int64_t rows[] = {0, 1, 2, 3, 5, 8, 13, 99, 250, 1001};
	static const double rates[] = {0, 0.01, 0.1, 0.5, 0.99, 1};
	static const int64_t cust[] = {0, 1, 2, 3};
	static const int dayn[] = {1, 2, 90};
	size_t i, j, k, d;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		for (j = 0; j < sizeof(rates) / sizeof(rates[0]); j++)
			for (k = 0; k < sizeof(cust) / sizeof(cust[0]); k++)
				for (d = 0; d < sizeof(dayn) / sizeof(dayn[0]); d++) {
					struct fd_gen_opts o;
					struct fd_gen *g;
					struct fd_err err;
					struct fd_txn t;
					int64_t n = 0, fraud = 0, counts[FD_GEN_NTYPES], sum = 0, prev = INT64_MIN;
					int typ, rc, x;

					fd_gen_opts_init(&o);
					o.rows = rows[i];
					o.fraud_rate = rates[j];
					o.customers = cust[k];
					o.merchants = cust[k] ? cust[k] : 0;
					o.days = dayn[d];
					assert_int_equal(fd_gen_create(&g, &o, &err), FD_OK);
					while ((rc = fd_gen_next(g, &t, &typ, &err)) == 1) {
						n++;
						fraud += t.label;
						assert_int_equal(t.label, typ != 0);
						assert_true(t.ts >= prev);
						assert_true(t.ts >= o.start_day * FD_DAY_MS);
						assert_true(t.ts < (o.start_day + o.days) * FD_DAY_MS);
						prev = t.ts;
					}
					assert_int_equal(rc, 0);
					assert_int_equal(n, rows[i]);
					assert_int_equal(fraud, llround((double)rows[i] * rates[j]));
					fd_gen_counts(g, counts);
					for (x = 0; x < FD_GEN_NTYPES; x++)
						sum += counts[x];
					assert_int_equal(sum, n);
					assert_int_equal(counts[FD_GEN_LEGIT], n - fraud);
					fd_gen_free(g);
				}
}

/* fd_gen_next and fd_gen_write describe the same rows; the text formats by fd_txn.c. */
static void test_next_matches_write(void **state)
{
	struct fd_gen_opts o;
	struct fd_gen *a, *b;
	struct fd_err err;
	struct fd_buf out = FD_BUF_INIT, line = FD_BUF_INIT;
	struct fd_txn t;
	char ts[FD_TS_BUFSZ], am[FD_AMOUNT_BUFSZ], geo[64];
	const char *p, *nl;
	int typ, more;

	(void)state;
	fd_gen_opts_init(&o);
	o.rows = 4000;
	o.fraud_rate = 0.05;
	assert_int_equal(fd_gen_create(&a, &o, &err), FD_OK);
	assert_int_equal(fd_gen_create(&b, &o, &err), FD_OK);
	do {
		more = fd_gen_write(a, &out, 1 << 16, &err);
		assert_true(more >= 0);
	} while (more);
	p = strchr(out.s, '\n') + 1;  /* past the header */
	while (fd_gen_next(b, &t, &typ, &err) == 1) {
		fd_buf_reset(&line);
		if (t.has_geo)
			snprintf(geo, sizeof(geo), "%.4f,%.4f,%s,%s", t.lat, t.lon, t.country, t.city);
		else
			snprintf(geo, sizeof(geo), ",,,");
		fd_buf_addf(&line, "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%d,%s\n", t.txn_id,
			    fd_format_ts(t.ts, ts), fd_format_amount(t.amount, t.exponent, am), t.currency,
			    t.sender_id, t.recipient_id ? t.recipient_id : "",
			    t.merchant_id ? t.merchant_id : "", t.merchant_category ? t.merchant_category : "",
			    t.channel, t.device_id ? t.device_id : "", t.ip ? t.ip : "", geo, t.label,
			    typ ? fd_gen_typology_name[typ] : "");
		nl = strchr(p, '\n');
		assert_non_null(nl);
		assert_int_equal((size_t)(nl + 1 - p), line.len);
		assert_memory_equal(p, line.s, line.len);
		if (typ) {
			char meta[64];

			snprintf(meta, sizeof(meta), "{\"fraud_type\":\"%s\"}", fd_gen_typology_name[typ]);
			assert_string_equal(t.metadata, meta);
		} else
			assert_null(t.metadata);
		p = nl + 1;
	}
	assert_int_equal(*p, '\0');
	fd_gen_free(a);
	fd_gen_free(b);
	fd_buf_release(&out);
	fd_buf_release(&line);
}

/* Memory: the day batch holds about a day of rows, not the whole output. */
static void test_memory_bounded(void **state)
{
	struct fd_gen_opts o;
	struct fd_gen *g;
	struct fd_err err;
	struct fd_txn t;
	int typ;

	(void)state;
	fd_gen_opts_init(&o);
	o.rows = 300000;
	o.customers = 1000;
	assert_int_equal(fd_gen_create(&g, &o, &err), FD_OK);
	while (fd_gen_next(g, &t, &typ, &err) == 1)
		;
	/* 300000 / 90 = 3334 a day, Fridays 12% more; the batch doubles from 4096 */
	assert_true(g->cap <= 8192);
	assert_true(g->heapcap <= 4096);
	fd_gen_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_splitmix64_reference),
		cmocka_unit_test(test_xoshiro_reference),
		cmocka_unit_test(test_rng_ranges),
		cmocka_unit_test(test_normal_moments),
		cmocka_unit_test(test_alias_frequencies),
		cmocka_unit_test(test_heap_order),
		cmocka_unit_test(test_put_amount),
		cmocka_unit_test(test_put_ts),
		cmocka_unit_test(test_put_coord),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_exact_counts),
		cmocka_unit_test(test_next_matches_write),
		cmocka_unit_test(test_memory_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
