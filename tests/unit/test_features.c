/*
 * test_features.c — unit tests of lib/fd_features.c.
 *
 * Expected values are worked out by hand from fd-features(1) on small fixtures (the comment
 * above each case shows the arithmetic), or computed independently: distances with a python3
 * haversine on the same mean Earth radius (6371.0088 km), the z-score with python3's
 * statistics.stdev, weekdays with python3's datetime.  The window, novelty and distinct-sender
 * features of a random stream are also checked against a brute-force rescan written here.
 * Nothing is compared with the engine's own earlier output, except where the property under
 * test is "the same output" (point in time, warming, selection).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd_features.h"
#include "fd_txn.h"

#define MIN_MS 60000LL
#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL
#define T0 1795525500000LL     /* 2026-11-24T13:05:00Z, a Tuesday */

/* ---- helpers ------------------------------------------------------------------------- */

static int fi(const char *name)
{
	int i = fd_feat_lookup(name);

	if (i < 0)
		fail_msg("feature '%s' not in the catalog", name);
	return i;
}

static struct fd_txn tx(const char *sender, int64_t ts, int64_t cents)
{
	struct fd_txn t;

	fd_txn_clear(&t);
	t.txn_id = "t";
	t.ts = ts;
	t.amount = cents;
	memcpy(t.currency, "USD", 4);
	t.exponent = 2;
	t.sender_id = sender;
	return t;
}

static struct fd_features *mk(const struct fd_feat_opts *opts)
{
	struct fd_features *f = NULL;
	struct fd_err err = { 0 };

	if (fd_features_create(&f, opts, &err) != FD_OK)
		fail_msg("create: %s", err.msg);
	return f;
}

/* Push t and return the full catalog vector in v (all features selected). */
static void push(struct fd_features *f, const struct fd_txn *t, double *v)
{
	struct fd_err err = { 0 };
	double out[256];

	if (fd_features_push(f, t, out, v, &err) != FD_OK)
		fail_msg("push: %s", err.msg);
}

/* The value of feature name in the catalog vector v. */
static double V(const double *v, const char *name)
{
	return v[fi(name)];
}

#define assert_nan(x) assert_true(isnan(x))
#define assert_near(x, y, tol) assert_true(fabs((x) - (y)) <= (tol))

/* ---- catalog and selection ----------------------------------------------------------- */

static void test_catalog(void **state)
{
	static const char *const required[] = {
		"hour", "day_of_week", "is_weekend", "is_night", "secs_since_last", "days_since_last",
		"amount", "log_amount", "amount_zscore", "amount_to_max_ratio", "amount_percentile_20",
		"amount_dev_7d", "amount_dev_30d", "amount_to_mean_30d", "is_round_amount",
		"is_just_below_threshold", "sender_near_threshold_count_24h",
		"sender_txn_count_30s", "sender_txn_count_5m", "sender_txn_count_10m",
		"sender_txn_count_1h", "sender_txn_count_24h", "sender_txn_count_7d",
		"sender_txn_count_30d", "sender_amount_sum_30s", "sender_amount_sum_5m",
		"sender_amount_sum_10m", "sender_amount_sum_1h", "sender_amount_sum_24h",
		"sender_amount_sum_7d", "sender_amount_sum_30d", "new_merchant", "new_device",
		"new_ip", "new_recipient", "new_country", "recipient_txn_count_30d",
		"geo_distance_km", "geo_speed_kmh", "mins_since_prev_geo", "dist_from_usual_km",
		"foreign_share", "recipient_txn_count", "merchant_txn_count", "device_sender_count",
		"ip_sender_count", "merchant_fraud_rate", "channel_card", "is_high_risk_category",
	};
	static const char *const groups[] = {
		"temporal", "amount", "velocity", "novelty", "geography", "network", "encoding",
	};
	const struct fd_feat_def *d;
	size_t n = fd_feat_catalog(&d), i, j;

	(void)state;
	assert_true(n >= 40);
	for (i = 0; i < n; i++) {
		int ok = 0;

		assert_non_null(d[i].name);
		assert_non_null(d[i].definition);
		assert_true(strlen(d[i].definition) > 10);
		assert_null(strchr(d[i].definition, '\n'));
		for (j = 0; j < sizeof(groups) / sizeof(groups[0]); j++)
			ok |= strcmp(d[i].group, groups[j]) == 0;
		assert_true(ok);
		for (j = 0; j < i; j++)
			assert_string_not_equal(d[i].name, d[j].name);
		assert_int_equal(fd_feat_lookup(d[i].name), (int)i);
	}
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		fi(required[i]);
	assert_int_equal(fd_feat_lookup("sender_txn_cnt_10m"), -1);
	assert_int_equal(fd_feat_lookup("hou"), -1);
	assert_int_equal(fd_feat_lookup(""), -1);
	assert_int_equal(fd_feat_lookup(NULL), -1);
}

static void test_select(void **state)
{
	struct fd_features *f = mk(NULL);
	struct fd_err err = { 0 };
	struct fd_txn t = tx("S", T0, 100);
	const struct fd_feat_def *d;
	size_t n = fd_feat_catalog(&d);
	int idx[2];
	double out[4], all[256];

	(void)state;
	/* default: everything, in catalog order */
	assert_int_equal(fd_features_count(f), n);
	assert_int_equal(fd_features_catalog_index(f, 0), 0);
	assert_int_equal(fd_features_catalog_index(f, n - 1), (int)n - 1);
	assert_int_equal(fd_features_catalog_index(f, n), -1);

	assert_int_equal(fd_features_select(f, "hour,nope", &err), FD_EUSAGE);
	assert_non_null(strstr(err.msg, "'nope'"));
	assert_int_equal(fd_features_select(f, "hour,,amount", &err), FD_EUSAGE);
	assert_int_equal(fd_features_select(f, "", &err), FD_EUSAGE);

	/* blanks around names are ignored, a repeated name is selected once */
	assert_int_equal(fd_features_select(f, " amount , hour,amount", &err), FD_OK);
	assert_int_equal(fd_features_count(f), 2);
	assert_int_equal(fd_features_catalog_index(f, 0), fi("amount"));
	assert_int_equal(fd_features_catalog_index(f, 1), fi("hour"));

	idx[0] = fi("is_night");
	idx[1] = fi("hour");
	assert_int_equal(fd_features_select_idx(f, idx, 2, 1, &err), FD_OK);
	assert_int_equal(fd_features_count(f), 3);
	assert_int_equal(fd_features_catalog_index(f, 2), fi("is_night"));
	idx[0] = (int)n;
	assert_int_equal(fd_features_select_idx(f, idx, 1, 1, &err), FD_EUSAGE);
	idx[0] = -1;
	assert_int_equal(fd_features_select_idx(f, idx, 1, 1, &err), FD_EUSAGE);
	assert_int_equal(fd_features_count(f), 3);

	/* out in selection order; all_out catalog-indexed, NaN where not selected */
	assert_int_equal(fd_features_push(f, &t, out, all, &err), FD_OK);
	assert_true(out[0] == 1.0);   /* amount 100 cents */
	assert_true(out[1] == 13.0);  /* 13:05Z */
	assert_true(out[2] == 0.0);
	assert_true(all[fi("amount")] == 1.0);
	assert_true(all[fi("hour")] == 13.0);
	assert_nan(all[fi("day_of_week")]);
	assert_nan(all[fi("sender_txn_count_10m")]);

	/* too late to select */
	assert_int_equal(fd_features_select(f, "hour", &err), FD_EUSAGE);
	assert_int_equal(fd_features_select_idx(f, idx, 0, 0, &err), FD_EUSAGE);
	fd_features_free(f);

	f = mk(NULL);
	assert_int_equal(fd_features_select(f, "hour", &err), FD_OK);
	assert_int_equal(fd_features_select(f, "all", &err), FD_OK);
	assert_int_equal(fd_features_count(f), n);
	fd_features_free(f);
	fd_features_free(NULL);
}

static void test_create_errors(void **state)
{
	struct fd_features *f = (struct fd_features *)1;
	struct fd_err err = { 0 };
	struct fd_feat_opts o = { .label_delay_ms = -1 };

	(void)state;
	assert_int_equal(fd_features_create(&f, &o, &err), FD_EUSAGE);
	assert_null(f);
	o.label_delay_ms = 0;
	o.home_country = "gb";
	assert_int_equal(fd_features_create(&f, &o, &err), FD_EUSAGE);
	o.home_country = "GBR";
	assert_int_equal(fd_features_create(&f, &o, &err), FD_EUSAGE);
	o.home_country = "GB";
	assert_int_equal(fd_features_create(&f, &o, &err), FD_OK);
	fd_features_free(f);
}

static void test_lookback(void **state)
{
	struct fd_features *f = mk(NULL);
	struct fd_err err = { 0 };

	(void)state;
	/* the whole catalog: the delayed-label windows reach back the default delay (7 days)
	 * and then 30 days */
	assert_true(fd_features_lookback_ms(f) == 37 * DAY_MS);
	assert_int_equal(fd_features_select(f, "sender_txn_count_10m", &err), FD_OK);
	assert_true(fd_features_lookback_ms(f) == 10 * MIN_MS);
	assert_int_equal(fd_features_select(f, "sender_amount_sum_24h,sender_txn_count_30s", &err), FD_OK);
	assert_true(fd_features_lookback_ms(f) == DAY_MS);
	assert_int_equal(fd_features_select(f, "hour,amount,channel_atm", &err), FD_OK);
	assert_true(fd_features_lookback_ms(f) == 0);
	assert_int_equal(fd_features_select(f, "hour,new_device", &err), FD_OK);
	assert_true(fd_features_lookback_ms(f) == 30 * DAY_MS);
	assert_int_equal(fd_features_select(f, "merchant_known_txns_1d", &err), FD_OK);
	assert_true(fd_features_lookback_ms(f) == 8 * DAY_MS);
	assert_int_equal(fd_features_select(f, "amount_zscore_24h,recipient_fraud_share_7d", &err), FD_OK);
	assert_true(fd_features_lookback_ms(f) == 14 * DAY_MS);
	assert_int_equal(fd_features_select(f, "days_since_merchant_first_fraud", &err), FD_OK);
	assert_true(fd_features_lookback_ms(f) == 37 * DAY_MS);
	fd_features_free(f);
	{
		struct fd_feat_opts o = { .label_delay_ms = HOUR_MS };

		f = mk(&o);
		assert_int_equal(fd_features_select(f, "merchant_fraud_share_30d,sender_amount_mean_7d", &err), FD_OK);
		assert_true(fd_features_lookback_ms(f) == 30 * DAY_MS + HOUR_MS);
		fd_features_free(f);
	}
}

/* ---- time and order ------------------------------------------------------------------ */

static void test_time_of_day(void **state)
{
	struct fd_features *f = mk(NULL);
	struct fd_txn t;
	double v[256];

	(void)state;
	/* 1969-12-31T23:00:00Z (ts -3600000) was a Wednesday: day_of_week 2 */
	t = tx("A", -HOUR_MS, 100);
	push(f, &t, v);
	assert_true(V(v, "hour") == 23);
	assert_true(V(v, "day_of_week") == 2);
	assert_true(V(v, "is_weekend") == 0);
	assert_true(V(v, "is_night") == 0);
	/* 2026-11-23T00:00:00Z, a Monday, midnight: night */
	t = tx("A", 1795392000000LL, 100);
	push(f, &t, v);
	assert_true(V(v, "hour") == 0);
	assert_true(V(v, "day_of_week") == 0);
	assert_true(V(v, "is_night") == 1);
	/* T0: Tuesday 13:05 */
	t = tx("A", T0, 100);
	push(f, &t, v);
	assert_true(V(v, "hour") == 13);
	assert_true(V(v, "day_of_week") == 1);
	assert_true(V(v, "is_night") == 0);
	/* 2026-11-28T05:59:59.999Z, Saturday, still night; 06:00 is not */
	t = tx("A", 1795834800000LL + 3 * HOUR_MS - 1, 100);
	push(f, &t, v);
	assert_true(V(v, "hour") == 5);
	assert_true(V(v, "day_of_week") == 5);
	assert_true(V(v, "is_weekend") == 1);
	assert_true(V(v, "is_night") == 1);
	t.ts += 1;
	push(f, &t, v);
	assert_true(V(v, "hour") == 6);
	assert_true(V(v, "is_night") == 0);
	/* Sunday */
	t.ts += DAY_MS;
	push(f, &t, v);
	assert_true(V(v, "day_of_week") == 6);
	assert_true(V(v, "is_weekend") == 1);
	fd_features_free(f);
}

static void test_time_order(void **state)
{
	struct fd_features *f = mk(NULL);
	struct fd_err err = { 0 };
	struct fd_txn a = tx("A", T0, 100), b = tx("B", T0 - 1, 100);
	double v[256];

	(void)state;
	push(f, &a, v);
	assert_int_equal(fd_features_push(f, &b, NULL, NULL, &err), FD_EINPUT);
	assert_non_null(strstr(err.msg, "out of time order"));
	assert_non_null(strstr(err.msg, "2026-11-24T13:04:59.999Z"));
	assert_int_equal(fd_features_warm(f, &b, &err), FD_EINPUT);
	/* the same ms is fine */
	b.ts = T0;
	assert_int_equal(fd_features_push(f, &b, NULL, NULL, &err), FD_OK);
	/* a timestamp beyond 2^53 ms is bad input */
	b.ts = (1LL << 53) + 1;
	assert_int_equal(fd_features_push(f, &b, NULL, NULL, &err), FD_EINPUT);
	assert_non_null(strstr(err.msg, "out of range"));
	b.ts = T0;
	/* a missing sender is bad input */
	b.sender_id = NULL;
	assert_int_equal(fd_features_push(f, &b, NULL, NULL, &err), FD_EINPUT);
	fd_features_free(f);
}

/* ---- a sender's first transaction, missing fields ------------------------------------ */

static void test_first_transaction(void **state)
{
	struct fd_features *f = mk(NULL);
	struct fd_txn t = tx("S", T0, 12345);
	double v[256];

	(void)state;
	t.merchant_id = "M";
	t.device_id = "D";
	t.ip = "10.0.0.1";
	t.recipient_id = "R";
	memcpy(t.country, "GB", 3);
	t.has_geo = 1;
	t.lat = 51.5074;
	t.lon = -0.1278;
	push(f, &t, v);
	assert_true(V(v, "amount") == 123.45);
	assert_near(V(v, "log_amount"), 4.823904028813601, 1e-12);  /* python3 math.log1p(123.45) */
	assert_nan(V(v, "secs_since_last"));
	assert_nan(V(v, "days_since_last"));
	assert_true(V(v, "sender_age_days") == 0);
	assert_nan(V(v, "amount_zscore"));
	assert_nan(V(v, "amount_to_max_ratio"));
	assert_nan(V(v, "amount_percentile_20"));
	assert_nan(V(v, "amount_to_mean_7d"));
	assert_nan(V(v, "amount_to_mean_30d"));
	assert_nan(V(v, "amount_dev_7d"));
	assert_nan(V(v, "amount_dev_30d"));
	assert_true(V(v, "sender_txn_count_30s") == 1);
	assert_true(V(v, "sender_txn_count_30d") == 1);
	assert_true(V(v, "sender_amount_sum_10m") == 123.45);
	assert_true(V(v, "sender_amount_sum_30d") == 123.45);
	assert_true(V(v, "sender_near_threshold_count_24h") == 0);
	assert_true(V(v, "new_merchant") == 1);
	assert_true(V(v, "new_device") == 1);
	assert_true(V(v, "new_ip") == 1);
	assert_true(V(v, "new_recipient") == 1);
	assert_true(V(v, "new_country") == 1);
	assert_true(V(v, "recipient_txn_count_30d") == 1);
	assert_true(V(v, "recipient_txn_count") == 0);
	assert_true(V(v, "recipient_sender_count") == 1);
	assert_true(V(v, "merchant_txn_count") == 0);
	assert_true(V(v, "merchant_fraud_rate") == 0);
	assert_true(V(v, "device_sender_count") == 1);
	assert_true(V(v, "ip_sender_count") == 1);
	assert_true(V(v, "sender_device_count") == 1);
	assert_nan(V(v, "geo_distance_km"));
	assert_nan(V(v, "geo_speed_kmh"));
	assert_nan(V(v, "mins_since_prev_geo"));
	assert_nan(V(v, "dist_from_usual_km"));
	assert_nan(V(v, "is_foreign"));      /* no home yet */
	assert_nan(V(v, "foreign_share"));
	fd_features_free(f);
}

static void test_missing_fields(void **state)
{
	struct fd_features *f = mk(NULL);
	struct fd_txn t = tx("S", T0, 500);
	double v[256];

	(void)state;
	push(f, &t, v);
	t.ts += MIN_MS;
	push(f, &t, v);
	assert_true(V(v, "secs_since_last") == 60);
	assert_nan(V(v, "new_merchant"));
	assert_nan(V(v, "new_device"));
	assert_nan(V(v, "new_ip"));
	assert_nan(V(v, "new_recipient"));
	assert_nan(V(v, "new_country"));
	assert_nan(V(v, "recipient_txn_count_30d"));
	assert_nan(V(v, "recipient_txn_count"));
	assert_nan(V(v, "recipient_sender_count"));
	assert_nan(V(v, "merchant_txn_count"));
	assert_nan(V(v, "merchant_fraud_rate"));
	assert_nan(V(v, "device_sender_count"));
	assert_nan(V(v, "ip_sender_count"));
	assert_true(V(v, "sender_device_count") == 0);
	assert_nan(V(v, "geo_distance_km"));
	assert_nan(V(v, "mins_since_prev_geo"));
	assert_nan(V(v, "is_foreign"));
	assert_nan(V(v, "foreign_share"));
	assert_true(V(v, "channel_card") == 0);
	assert_true(V(v, "channel_transfer") == 0);
	assert_true(V(v, "channel_atm") == 0);
	assert_true(V(v, "channel_online") == 0);
	assert_true(V(v, "channel_mobile") == 0);
	assert_true(V(v, "channel_other") == 0);
	assert_true(V(v, "is_high_risk_category") == 0);
	/* empty strings count as absent too */
	t.ts += MIN_MS;
	t.merchant_id = "";
	t.device_id = "";
	push(f, &t, v);
	assert_nan(V(v, "new_merchant"));
	assert_nan(V(v, "new_device"));
	fd_features_free(f);
}

/* ---- windows ------------------------------------------------------------------------- */

static void test_window_edges(void **state)
{
	static const struct { const char *count, *sum; int64_t w; } win[] = {
		{ "sender_txn_count_30s", "sender_amount_sum_30s", 30000 },
		{ "sender_txn_count_5m", "sender_amount_sum_5m", 5 * MIN_MS },
		{ "sender_txn_count_10m", "sender_amount_sum_10m", 10 * MIN_MS },
		{ "sender_txn_count_1h", "sender_amount_sum_1h", HOUR_MS },
		{ "sender_txn_count_24h", "sender_amount_sum_24h", DAY_MS },
		{ "sender_txn_count_7d", "sender_amount_sum_7d", 7 * DAY_MS },
		{ "sender_txn_count_30d", "sender_amount_sum_30d", 30 * DAY_MS },
	};
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(win) / sizeof(win[0]); k++) {
		struct fd_features *f = mk(NULL);
		struct fd_txn a = tx("S", T0, 100), b = tx("S", T0 + win[k].w - 1, 200);
		struct fd_txn c = tx("S", T0 + win[k].w, 400), d = tx("S", T0 + 2 * win[k].w - 1, 800);
		double v[256];

		push(f, &a, v);
		/* b is W - 1 ms after a: a is inside b's window */
		push(f, &b, v);
		assert_true(V(v, win[k].count) == 2);
		assert_true(V(v, win[k].sum) == 3.0);
		/* c is exactly W after a: a is outside, b inside */
		push(f, &c, v);
		assert_true(V(v, win[k].count) == 2);
		assert_true(V(v, win[k].sum) == 6.0);
		/* d is exactly W after b: b is outside, c inside */
		push(f, &d, v);
		assert_true(V(v, win[k].count) == 2);
		assert_true(V(v, win[k].sum) == 12.0);
		fd_features_free(f);
	}
}

static void test_window_ties_and_senders(void **state)
{
	struct fd_features *f = mk(NULL);
	struct fd_txn a = tx("S", T0, 100), b = tx("S", T0, 250), o = tx("O", T0, 999);
	double v[256];

	(void)state;
	push(f, &a, v);
	assert_true(V(v, "sender_txn_count_30s") == 1);
	/* another sender at the same ms does not count for S */
	push(f, &o, v);
	assert_true(V(v, "sender_txn_count_30s") == 1);
	/* b: same ms as a, later in input order: a is earlier */
	push(f, &b, v);
	assert_true(V(v, "sender_txn_count_30s") == 2);
	assert_true(V(v, "sender_amount_sum_30s") == 3.5);
	assert_true(V(v, "secs_since_last") == 0);
	assert_true(V(v, "days_since_last") == 0);
	fd_features_free(f);
}

/* A sender whose window holds many transactions: the ring grows while heads move. */
static void test_window_growth(void **state)
{
	struct fd_features *f = mk(NULL);
	double v[256];
	int i;

	(void)state;
	/* one transaction per minute, 3000 of them: 10 in 10 minutes (9 earlier + this one),
	 * 60 in an hour, 1440 in 24 h, all in 7 d; amounts i cents */
	for (i = 0; i < 3000; i++) {
		struct fd_txn t = tx("S", T0 + i * MIN_MS, i);

		push(f, &t, v);
	}
	assert_true(V(v, "sender_txn_count_10m") == 10);
	assert_true(V(v, "sender_txn_count_1h") == 60);
	assert_true(V(v, "sender_txn_count_24h") == 1440);
	assert_true(V(v, "sender_txn_count_7d") == 3000);
	/* sums in cents: 2990 + ... + 2999 = 29945; 2940..2999 = 178170; 1560..2999 =
	 * (1560 + 2999) * 1440 / 2 = 3282480 */
	assert_true(V(v, "sender_amount_sum_10m") == 299.45);
	assert_true(V(v, "sender_amount_sum_1h") == 1781.70);
	assert_true(V(v, "sender_amount_sum_24h") == 32824.80);
	/* 0 + ... + 2999 = 4498500 cents */
	assert_true(V(v, "sender_amount_sum_30d") == 44985.00);
	fd_features_free(f);
}

/* ---- amounts ------------------------------------------------------------------------- */

static void test_amount_history(void **state)
{
	struct fd_features *f = mk(NULL);
	struct fd_txn t;
	double v[256];

	(void)state;
	/* 10 on day 0, 20 on day 1, 30 on day 10, 40 on day 20, then 100 on day 25 */
	t = tx("S", T0, 1000);
	push(f, &t, v);
	t = tx("S", T0 + DAY_MS, 2000);
	push(f, &t, v);
	t = tx("S", T0 + 10 * DAY_MS, 3000);
	push(f, &t, v);
	t = tx("S", T0 + 20 * DAY_MS, 4000);
	push(f, &t, v);
	t = tx("S", T0 + 25 * DAY_MS, 10000);
	push(f, &t, v);
	/* python3: (100 - statistics.mean([10,20,30,40])) / statistics.stdev([10,20,30,40]) */
	assert_near(V(v, "amount_zscore"), 5.809475019311126, 1e-12);
	assert_true(V(v, "amount_to_max_ratio") == 2.5);          /* 100 / 40 */
	assert_true(V(v, "amount_percentile_20") == 1.0);         /* above all 4 */
	/* 7 d before day 25 holds day 20 only: mean 40; 30 d holds all four: mean 25 */
	assert_true(V(v, "amount_to_mean_7d") == 2.5);
	assert_true(V(v, "amount_dev_7d") == 60);
	assert_true(V(v, "amount_to_mean_30d") == 4.0);
	assert_true(V(v, "amount_dev_30d") == 75);
	assert_true(V(v, "sender_txn_count_7d") == 2);
	assert_true(V(v, "sender_amount_sum_7d") == 140);
	assert_true(V(v, "sender_txn_count_30d") == 5);
	assert_true(V(v, "sender_amount_sum_30d") == 200);
	assert_true(V(v, "secs_since_last") == 5 * 86400);
	assert_true(V(v, "days_since_last") == 5);
	assert_true(V(v, "sender_age_days") == 25);

	/* 20 on day 26: of the last amounts 10, 20, 30, 40, 100 one is below (10) and one equal
	 * (20): (1 + 0.5) / 5 = 0.3; the max is 100: 0.2 */
	t = tx("S", T0 + 26 * DAY_MS, 2000);
	push(f, &t, v);
	assert_true(V(v, "amount_percentile_20") == 0.3);
	assert_true(V(v, "amount_to_max_ratio") == 0.2);
	/* 30 d before day 26 holds days 0 (26 d) to 25: 200 / 5 = 40: 20 / 40 */
	assert_true(V(v, "amount_to_mean_30d") == 0.5);
	assert_true(V(v, "amount_dev_30d") == -20);
	fd_features_free(f);
}

static void test_amount_zscore_constant(void **state)
{
	struct fd_features *f = mk(NULL);
	struct fd_txn t;
	double v[256];
	int i;

	(void)state;
	/* two earlier amounts needed; a zero standard deviation gives NaN */
	for (i = 0; i < 3; i++) {
		t = tx("S", T0 + i, 5000);
		push(f, &t, v);
		assert_nan(V(v, "amount_zscore"));
	}
	t = tx("S", T0 + 10, 9000);
	push(f, &t, v);
	assert_nan(V(v, "amount_zscore"));
	/* now 50, 50, 50, 90: mean 60, sample sd 20: (80 - 60) / 20 */
	t = tx("S", T0 + 11, 8000);
	push(f, &t, v);
	assert_near(V(v, "amount_zscore"), 1.0, 1e-12);
	fd_features_free(f);
}

static void test_amount_last20(void **state)
{
	struct fd_features *f = mk(NULL);
	struct fd_txn t;
	double v[256];
	int i;

	(void)state;
	/* amounts 1..25 (major units); the 26th, 10.5, sees the last 20: 6..25, of which
	 * 6..10 (5 of them) are below: 5 / 20 */
	for (i = 1; i <= 25; i++) {
		t = tx("S", T0 + i, i * 100);
		push(f, &t, v);
	}
	t = tx("S", T0 + 100, 1050);
	push(f, &t, v);
	assert_true(V(v, "amount_percentile_20") == 0.25);
	/* the max is over all history: 25 */
	assert_true(V(v, "amount_to_max_ratio") == 0.42);
	fd_features_free(f);
}

static void test_amount_flags(void **state)
{
	static const struct { int64_t minor; int exp; double round, below, reversal; } c[] = {
		{ 10000, 2, 1, 0, 0 },     /* 100.00 */
		{ 15000, 2, 0, 0, 0 },     /* 150.00 */
		{ 10001, 2, 0, 0, 0 },     /* 100.01 */
		{ 0, 2, 0, 0, 0 },
		{ -30000, 2, 1, 0, 1 },    /* -300.00 */
		{ 200, 0, 1, 0, 0 },       /* 200 JPY */
		{ 900000, 2, 1, 1, 0 },    /* 9,000.00: round and just below */
		{ 999999, 2, 0, 1, 0 },    /* 9,999.99 */
		{ 1000000, 2, 1, 0, 0 },   /* 10,000.00 */
		{ 899999, 2, 0, 0, 0 },    /* 8,999.99 */
		{ 9500, 0, 1, 1, 0 },      /* 9,500 JPY: 95 hundreds, and just below */
		{ 9550, 0, 0, 1, 0 },      /* 9,550 JPY */
		{ 9500000, 3, 1, 1, 0 },   /* 9,500.000 BHD */
		{ 9500500, 3, 0, 1, 0 },   /* 9,500.500 BHD */
	};
	struct fd_features *f = mk(NULL);
	double v[256];
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		struct fd_txn t = tx("S", T0 + (int64_t)k, c[k].minor);

		t.exponent = c[k].exp;
		push(f, &t, v);
		if (V(v, "is_round_amount") != c[k].round || V(v, "is_just_below_threshold") != c[k].below
		    || V(v, "is_reversal") != c[k].reversal)
			fail_msg("case %zu", k);
	}
	/* log_amount keeps the sign: -300 -> -ln(301) */
	{
		struct fd_txn t = tx("S", T0 + 100, -30000);

		push(f, &t, v);
		assert_near(V(v, "log_amount"), -log(301.0), 1e-12);
	}
	fd_features_free(f);
}

static void test_near_threshold_24h(void **state)
{
	struct fd_features *f = mk(NULL);
	struct fd_txn t;
	double v[256];

	(void)state;
	t = tx("S", T0, 950000);                 /* 9,500: counts */
	push(f, &t, v);
	assert_true(V(v, "sender_near_threshold_count_24h") == 1);
	t = tx("S", T0 + HOUR_MS, 980000);       /* 9,800 */
	push(f, &t, v);
	assert_true(V(v, "sender_near_threshold_count_24h") == 2);
	t = tx("S", T0 + 2 * HOUR_MS, 500000);   /* 5,000: not near, the two earlier ones are */
	push(f, &t, v);
	assert_true(V(v, "sender_near_threshold_count_24h") == 2);
	t = tx("S", T0 + DAY_MS, 999999);        /* 9,999.99 exactly 24 h after the first */
	push(f, &t, v);
	assert_true(V(v, "sender_near_threshold_count_24h") == 2);  /* 9,800 and this one */
	t = tx("S", T0 + DAY_MS + HOUR_MS, 1000000);  /* 10,000: not near; 9,800 has left */
	push(f, &t, v);
	assert_true(V(v, "sender_near_threshold_count_24h") == 1);
	fd_features_free(f);
}

/* ---- novelty and network ------------------------------------------------------------- */

static void test_novelty(void **state)
{
	struct fd_features *f = mk(NULL);
	struct fd_txn t;
	double v[256];
	int64_t ts = T0;
	char name[32];
	int i;

	(void)state;
	t = tx("S1", ts++, 100);
	t.merchant_id = "M1";
	push(f, &t, v);
	assert_true(V(v, "new_merchant") == 1);
	t.ts = ts++;
	push(f, &t, v);
	assert_true(V(v, "new_merchant") == 0);
	assert_true(V(v, "merchant_txn_count") == 1);
	t.ts = ts++;
	t.merchant_id = "M2";
	push(f, &t, v);
	assert_true(V(v, "new_merchant") == 1);
	t.ts = ts++;
	t.merchant_id = "M1";
	push(f, &t, v);
	assert_true(V(v, "new_merchant") == 0);
	assert_true(V(v, "merchant_txn_count") == 2);
	/* another sender at M1: new for that sender; the merchant has seen 3 */
	t = tx("S2", ts++, 100);
	t.merchant_id = "M1";
	push(f, &t, v);
	assert_true(V(v, "new_merchant") == 1);
	assert_true(V(v, "merchant_txn_count") == 3);

	/* 40 distinct merchants, then the first again: remembered however long ago */
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "X%d", i);
		t = tx("S3", ts++, 100);
		t.merchant_id = name;
		push(f, &t, v);
		assert_true(V(v, "new_merchant") == 1);
	}
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "X%d", i);
		t = tx("S3", ts++, 100);
		t.merchant_id = name;
		push(f, &t, v);
		assert_true(V(v, "new_merchant") == 0);
		assert_true(V(v, "merchant_txn_count") == 1);
	}

	/* a country, a recipient, an IP */
	t = tx("S4", ts++, 100);
	t.recipient_id = "R";
	t.ip = "192.0.2.1";
	memcpy(t.country, "FR", 3);
	push(f, &t, v);
	assert_true(V(v, "new_recipient") == 1);
	assert_true(V(v, "new_ip") == 1);
	assert_true(V(v, "new_country") == 1);
	t.ts = ts++;
	t.ip = "192.0.2.2";
	push(f, &t, v);
	assert_true(V(v, "new_recipient") == 0);
	assert_true(V(v, "new_ip") == 1);
	assert_true(V(v, "new_country") == 0);
	t.ts = ts++;
	t.ip = "192.0.2.1";
	memcpy(t.country, "DE", 3);
	push(f, &t, v);
	assert_true(V(v, "new_ip") == 0);
	assert_true(V(v, "new_country") == 1);
	fd_features_free(f);
}

static void test_devices_shared(void **state)
{
	struct fd_features *f = mk(NULL);
	struct fd_txn t;
	double v[256];
	int64_t ts = T0;

	(void)state;
	t = tx("A", ts++, 100);
	t.device_id = "D1";
	t.ip = "10.0.0.1";
	push(f, &t, v);
	assert_true(V(v, "device_sender_count") == 1);
	assert_true(V(v, "ip_sender_count") == 1);
	t = tx("B", ts++, 100);
	t.device_id = "D1";
	t.ip = "10.0.0.1";
	push(f, &t, v);
	assert_true(V(v, "new_device") == 1);
	assert_true(V(v, "device_sender_count") == 2);
	assert_true(V(v, "ip_sender_count") == 2);
	/* A again on D1: not new, still 2 senders */
	t = tx("A", ts++, 100);
	t.device_id = "D1";
	t.ip = "10.0.0.2";
	push(f, &t, v);
	assert_true(V(v, "new_device") == 0);
	assert_true(V(v, "device_sender_count") == 2);
	assert_true(V(v, "ip_sender_count") == 1);
	assert_true(V(v, "sender_device_count") == 1);
	/* A back on 10.0.0.1: A and B */
	t.ts = ts++;
	t.ip = "10.0.0.1";
	push(f, &t, v);
	assert_true(V(v, "new_ip") == 0);
	assert_true(V(v, "ip_sender_count") == 2);
	/* A on D2, then D1, D2 again: alternating is not new */
	t.ts = ts++;
	t.device_id = "D2";
	push(f, &t, v);
	assert_true(V(v, "new_device") == 1);
	assert_true(V(v, "sender_device_count") == 2);
	assert_true(V(v, "device_sender_count") == 1);
	t.ts = ts++;
	t.device_id = "D1";
	push(f, &t, v);
	assert_true(V(v, "new_device") == 0);
	t.ts = ts++;
	t.device_id = "D2";
	push(f, &t, v);
	assert_true(V(v, "new_device") == 0);
	assert_true(V(v, "sender_device_count") == 2);
	/* C on D1: the third */
	t = tx("C", ts++, 100);
	t.device_id = "D1";
	push(f, &t, v);
	assert_true(V(v, "device_sender_count") == 3);
	/* long identifiers that differ only after their 24th byte are different devices */
	t = tx("E", ts++, 100);
	t.device_id = "6f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b";
	push(f, &t, v);
	assert_true(V(v, "new_device") == 1);
	t.ts = ts++;
	push(f, &t, v);
	assert_true(V(v, "new_device") == 0);
	t.ts = ts++;
	t.device_id = "6f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5c";
	push(f, &t, v);
	assert_true(V(v, "new_device") == 1);
	assert_true(V(v, "sender_device_count") == 2);
	t.ts = ts++;
	t.device_id = "6f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b";
	push(f, &t, v);
	assert_true(V(v, "new_device") == 0);
	assert_true(V(v, "device_sender_count") == 1);
	/* without a device: how many A used stays defined */
	t = tx("A", ts++, 100);
	push(f, &t, v);
	assert_true(V(v, "sender_device_count") == 2);
	assert_nan(V(v, "device_sender_count"));
	fd_features_free(f);
}

static void test_recipient(void **state)
{
	struct fd_features *f = mk(NULL);
	struct fd_txn t;
	double v[256];

	(void)state;
	t = tx("A", T0, 100);
	t.recipient_id = "R";
	push(f, &t, v);
	t = tx("B", T0 + DAY_MS, 100);
	t.recipient_id = "R";
	push(f, &t, v);
	assert_true(V(v, "recipient_txn_count_30d") == 2);
	assert_true(V(v, "recipient_txn_count") == 1);
	assert_true(V(v, "recipient_sender_count") == 2);
	assert_true(V(v, "new_recipient") == 1);
	/* exactly 30 d after the first: it has left the window */
	t = tx("A", T0 + 30 * DAY_MS, 100);
	t.recipient_id = "R";
	push(f, &t, v);
	assert_true(V(v, "recipient_txn_count_30d") == 2);
	assert_true(V(v, "recipient_txn_count") == 2);
	assert_true(V(v, "recipient_sender_count") == 2);
	assert_true(V(v, "new_recipient") == 0);
	/* 1 ms less than 30 d after the second: it is still in */
	t = tx("C", T0 + 31 * DAY_MS - 1, 100);
	t.recipient_id = "R";
	push(f, &t, v);
	assert_true(V(v, "recipient_txn_count_30d") == 3);
	assert_true(V(v, "recipient_sender_count") == 3);
	fd_features_free(f);
}

static void test_countries(void **state)
{
	struct fd_features *f = mk(NULL);
	struct fd_feat_opts o = { .label_delay_ms = 0, .home_country = "FR" };
	struct fd_txn t;
	double v[256];
	static const char *const seq[] = { "GB", "GB", "FR", "US", "GB" };
	/* home = the sender's most frequent country so far (ties keep the earlier one) */
	static const double foreign[] = { NAN, 0, 1, 1, 0 };
	static const double share[] = { NAN, 0, 0, 1.0 / 3, 0.5 };
	/* home FR: foreign = not FR; share = earlier not-FR / earlier with a country */
	static const double foreign_fr[] = { 1, 1, 0, 1, 1 };
	static const double share_fr[] = { NAN, 1, 1, 2.0 / 3, 0.75 };
	size_t i;

	(void)state;
	for (i = 0; i < 5; i++) {
		t = tx("S", T0 + (int64_t)i, 100);
		memcpy(t.country, seq[i], 3);
		push(f, &t, v);
		if (isnan(foreign[i]))
			assert_nan(V(v, "is_foreign"));
		else
			assert_true(V(v, "is_foreign") == foreign[i]);
		if (isnan(share[i]))
			assert_nan(V(v, "foreign_share"));
		else
			assert_true(V(v, "foreign_share") == share[i]);
	}
	/* no country: share still defined, is_foreign and new_country not */
	t = tx("S", T0 + 10, 100);
	push(f, &t, v);
	assert_true(V(v, "foreign_share") == 2.0 / 5);
	assert_nan(V(v, "is_foreign"));
	assert_nan(V(v, "new_country"));
	fd_features_free(f);

	/* a tie keeps the earlier home: GB then FR (1 each), home stays GB */
	f = mk(NULL);
	t = tx("S", T0, 100);
	memcpy(t.country, "GB", 3);
	push(f, &t, v);
	t.ts++;
	memcpy(t.country, "FR", 3);
	push(f, &t, v);
	assert_true(V(v, "is_foreign") == 1);
	t.ts++;
	memcpy(t.country, "GB", 3);
	push(f, &t, v);
	assert_true(V(v, "is_foreign") == 0);
	assert_true(V(v, "foreign_share") == 0.5);
	fd_features_free(f);

	/* the home moves, after counting up while it was home: GB, GB (home 2), FR, FR, FR
	 * (FR 3 > 2: home), GB (3, not more), GB (4: home again), US */
	{
		static const char *const mv[] = { "GB", "GB", "FR", "FR", "FR", "GB", "GB", "US" };
		static const double fo[] = { NAN, 0, 1, 1, 1, 1, 1, 1 };
		static const double nc[] = { 1, 0, 1, 0, 0, 0, 0, 1 };
		/* share: earlier not-home / earlier: -, 0/1, 0/2, 1/3, 2/4 (GB home), 2/5 (FR
		 * home, 3), 3/6, 3/7 (GB home, 4) */
		static const double sh[] = { NAN, 0, 0, 1.0 / 3, 0.5, 0.4, 0.5, 3.0 / 7 };

		f = mk(NULL);
		for (i = 0; i < sizeof(mv) / sizeof(mv[0]); i++) {
			t = tx("S", T0 + (int64_t)i, 100);
			memcpy(t.country, mv[i], 3);
			push(f, &t, v);
			if (isnan(fo[i]))
				assert_nan(V(v, "is_foreign"));
			else if (V(v, "is_foreign") != fo[i])
				fail_msg("move %zu: is_foreign %g", i, V(v, "is_foreign"));
			if (V(v, "new_country") != nc[i])
				fail_msg("move %zu: new_country %g", i, V(v, "new_country"));
			if (isnan(sh[i]))
				assert_nan(V(v, "foreign_share"));
			else if (V(v, "foreign_share") != sh[i])
				fail_msg("move %zu: foreign_share %g", i, V(v, "foreign_share"));
		}
		fd_features_free(f);
	}

	f = mk(&o);
	for (i = 0; i < 5; i++) {
		t = tx("S", T0 + (int64_t)i, 100);
		memcpy(t.country, seq[i], 3);
		push(f, &t, v);
		assert_true(V(v, "is_foreign") == foreign_fr[i]);
		if (isnan(share_fr[i]))
			assert_nan(V(v, "foreign_share"));
		else
			assert_true(V(v, "foreign_share") == share_fr[i]);
	}
	fd_features_free(f);
}

static void test_encodings(void **state)
{
	static const struct { const char *ch; const char *feat; } ch[] = {
		{ "card", "channel_card" }, { "transfer", "channel_transfer" }, { "atm", "channel_atm" },
		{ "online", "channel_online" }, { "mobile", "channel_mobile" }, { "pos", "channel_other" },
	};
	static const struct { const char *cat; int risk; } cat[] = {
		{ "gambling", 1 }, { "Online Gambling", 1 }, { "crypto", 1 }, { "CRYPTOCURRENCY", 1 },
		{ "jewelry", 1 }, { "Jewellery & Watches", 1 }, { "electronics", 1 },
		{ "gift cards", 1 }, { "Gift_Card", 1 }, { "giftcards", 1 }, { "money transfer", 1 },
		{ "Money-Transfer", 1 }, { "wire transfer", 1 }, { "7995", 1 }, { "6051", 1 },
		{ "5944", 1 }, { "4829", 1 }, { "grocery", 0 }, { "gift", 0 }, { "transfer", 0 },
		{ "money", 0 }, { "5411", 0 }, { "79950", 0 }, { "electronic", 0 }, { "", 0 },
	};
	struct fd_features *f = mk(NULL);
	double v[256];
	size_t i, j;
	int64_t ts = T0;

	(void)state;
	for (i = 0; i < sizeof(ch) / sizeof(ch[0]); i++) {
		struct fd_txn t = tx("S", ts++, 100);

		t.channel = ch[i].ch;
		push(f, &t, v);
		for (j = 0; j < sizeof(ch) / sizeof(ch[0]); j++)
			assert_true(V(v, ch[j].feat) == (i == j));
	}
	for (i = 0; i < sizeof(cat) / sizeof(cat[0]); i++) {
		struct fd_txn t = tx("S", ts++, 100);

		t.merchant_category = cat[i].cat;
		push(f, &t, v);
		if (V(v, "is_high_risk_category") != cat[i].risk)
			fail_msg("category '%s'", cat[i].cat);
		/* the same merchant changing its category is followed */
		t.ts = ts++;
		t.merchant_id = "M";
		push(f, &t, v);
		if (V(v, "is_high_risk_category") != cat[i].risk)
			fail_msg("category '%s' at merchant M", cat[i].cat);
	}
	fd_features_free(f);
}

/* ---- geography ----------------------------------------------------------------------- */

#define LON_LAT 51.5074
#define LON_LON -0.1278
#define PAR_LAT 48.8566
#define PAR_LON 2.3522
#define NYC_LAT 40.7128
#define NYC_LON -74.0060
/* python3 haversine, R = 6371.0088 km */
#define KM_LONDON_PARIS 343.55653488088313
#define KM_NYC_LONDON 5570.229873656523
/* python3: great-circle distance from New York to the normalised mean of the unit vectors of
 * London and Paris (50.18859487756828 N, 1.146617629030325 E) */
#define KM_NYC_CENTROID 5703.004492173759

static struct fd_txn at(int64_t ts, double lat, double lon)
{
	struct fd_txn t = tx("S", ts, 100);

	t.has_geo = 1;
	t.lat = lat;
	t.lon = lon;
	return t;
}

/* local_hour by hand: 2026-03-02T03:00Z is 1772420400000 ms (date -u -d ... +%s%3N).
 * New York, -74.006: -74.006 / 15 = -4.93, rounds to -5: 22.  Tokyo, 139.6503: 9.31 -> +9: 12.
 * Without a place: the centroid of the sender's earlier places (New York): 22 again.
 * A sender never located: UTC, 3. */
static void test_local_hour(void **state)
{
	struct fd_features *f = mk(NULL);
	double v[256];
	struct fd_txn t;

	(void)state;
	t = at(1772420400000, 40.7128, -74.006);
	push(f, &t, v);
	assert_true(V(v, "local_hour") == 22);
	assert_true(V(v, "hour") == 3);
	t = tx("S", 1772420400000 + 60000, 100);  /* no place: the sender's usual one */
	push(f, &t, v);
	assert_true(V(v, "local_hour") == 22);
	t = at(1772420400000 + 120000, 35.6762, 139.6503);
	push(f, &t, v);
	assert_true(V(v, "local_hour") == 12);
	t = tx("Z", 1772420400000 + 180000, 100);  /* never located */
	push(f, &t, v);
	assert_true(V(v, "local_hour") == 3);
	fd_features_free(f);
}

static void test_geo(void **state)
{
	struct fd_features *f = mk(NULL);
	struct fd_feat_context ctx;
	struct fd_txn t;
	double v[256];

	(void)state;
	t = at(T0, LON_LAT, LON_LON);
	push(f, &t, v);
	fd_features_context(f, &ctx);
	assert_nan(ctx.prev_lat);
	assert_true(ctx.prev_geo_ts == -1);
	assert_true(ctx.prev_ts == -1);
	assert_nan(ctx.sender_mean_30d);
	/* Paris an hour later: 343.56 km, 343.56 km/h, 60 minutes */
	t = at(T0 + HOUR_MS, PAR_LAT, PAR_LON);
	push(f, &t, v);
	assert_near(V(v, "geo_distance_km"), KM_LONDON_PARIS, 1e-6);
	assert_near(V(v, "geo_speed_kmh"), KM_LONDON_PARIS, 1e-6);
	assert_true(V(v, "mins_since_prev_geo") == 60);
	assert_near(V(v, "dist_from_usual_km"), KM_LONDON_PARIS, 1e-6);
	fd_features_context(f, &ctx);
	assert_true(ctx.prev_lat == LON_LAT && ctx.prev_lon == LON_LON);
	assert_true(ctx.prev_geo_ts == T0);
	assert_true(ctx.prev_ts == T0);
	assert_true(ctx.sender_mean_30d == 1.0);
	/* a transaction without coordinates 20 minutes later: minutes defined, distance not */
	t = tx("S", T0 + HOUR_MS + 20 * MIN_MS, 100);
	push(f, &t, v);
	assert_nan(V(v, "geo_distance_km"));
	assert_nan(V(v, "geo_speed_kmh"));
	assert_nan(V(v, "dist_from_usual_km"));
	assert_true(V(v, "mins_since_prev_geo") == 20);
	/* New York 42 minutes after Paris... measured from Paris, the previous located one */
	t = at(T0 + HOUR_MS + 42 * MIN_MS, NYC_LAT, NYC_LON);
	push(f, &t, v);
	assert_true(V(v, "mins_since_prev_geo") == 42);
	assert_near(V(v, "dist_from_usual_km"), KM_NYC_CENTROID, 1e-6);
	fd_features_context(f, &ctx);
	assert_true(ctx.prev_lat == PAR_LAT && ctx.prev_lon == PAR_LON);
	assert_true(ctx.prev_geo_ts == T0 + HOUR_MS);
	assert_true(ctx.prev_ts == T0 + HOUR_MS + 20 * MIN_MS);
	/* London 42 minutes after New York: 5570.23 km in 0.7 h = 7957.47 km/h */
	t = at(T0 + HOUR_MS + 84 * MIN_MS, LON_LAT, LON_LON);
	push(f, &t, v);
	assert_near(V(v, "geo_distance_km"), KM_NYC_LONDON, 1e-6);
	assert_near(V(v, "geo_speed_kmh"), 7957.4712480807475, 1e-6);
	/* Paris at the same ms: the time is floored at one minute: 343.56 * 60 km/h */
	t = at(T0 + HOUR_MS + 84 * MIN_MS, PAR_LAT, PAR_LON);
	push(f, &t, v);
	assert_near(V(v, "geo_speed_kmh"), 20613.392092852988, 1e-5);
	assert_true(V(v, "mins_since_prev_geo") == 0);
	/* the same place at the same ms: 0 km, 0 km/h */
	push(f, &t, v);
	assert_true(V(v, "geo_distance_km") == 0);
	assert_true(V(v, "geo_speed_kmh") == 0);
	fd_features_free(f);
}

/* ---- labels -------------------------------------------------------------------------- */

static void test_fraud_rate_delay(void **state)
{
	struct fd_feat_opts o = { .label_delay_ms = DAY_MS };
	struct fd_features *f = mk(&o);
	struct fd_txn t;
	double v[256];

	(void)state;
	t = tx("A", T0, 100);
	t.merchant_id = "M";
	t.label = 1;
	push(f, &t, v);
	assert_true(V(v, "merchant_fraud_rate") == 0);   /* its own label: never */
	/* 1 ms before the label becomes visible */
	t = tx("B", T0 + DAY_MS - 1, 100);
	t.merchant_id = "M";
	push(f, &t, v);
	assert_true(V(v, "merchant_fraud_rate") == 0);
	/* exactly at the delay: visible */
	t = tx("C", T0 + DAY_MS, 100);
	t.merchant_id = "M";
	t.label = 0;
	push(f, &t, v);
	assert_true(V(v, "merchant_fraud_rate") == 1.0);
	/* an unlabelled one (B) adds nothing; C's 0 is visible a day later: 1 of 2 */
	t = tx("D", T0 + 2 * DAY_MS, 100);
	t.merchant_id = "M";
	push(f, &t, v);
	assert_true(V(v, "merchant_fraud_rate") == 0.5);
	/* labels belong to their merchant */
	t = tx("D", T0 + 2 * DAY_MS, 100);
	t.merchant_id = "N";
	push(f, &t, v);
	assert_true(V(v, "merchant_fraud_rate") == 0);
	fd_features_free(f);
}

static void test_fraud_rate_default_delay(void **state)
{
	struct fd_features *f = mk(NULL);
	struct fd_txn t;
	double v[256];

	(void)state;
	t = tx("A", T0, 100);
	t.merchant_id = "M";
	t.label = 1;
	push(f, &t, v);
	t = tx("B", T0 + 7 * DAY_MS - 1, 100);
	t.merchant_id = "M";
	push(f, &t, v);
	assert_true(V(v, "merchant_fraud_rate") == 0);
	t.ts = T0 + 7 * DAY_MS;
	push(f, &t, v);
	assert_true(V(v, "merchant_fraud_rate") == 1);
	fd_features_free(f);
}

static void test_own_label_zero_delay(void **state)
{
	struct fd_feat_opts o = { .label_delay_ms = 0 };
	struct fd_features *f = mk(&o);
	struct fd_txn t;
	double v[256];

	(void)state;
	t = tx("A", T0, 100);
	t.merchant_id = "M";
	t.label = 1;
	push(f, &t, v);
	assert_true(V(v, "merchant_fraud_rate") == 0);
	/* the next one, at the same ms, sees it */
	t.label = -1;
	push(f, &t, v);
	assert_true(V(v, "merchant_fraud_rate") == 1);
	fd_features_free(f);
}

/*
 * Windowed means and z-scores of the sender's amounts.  By hand (statistics.stdev in python3
 * for the standard deviations):
 *   T0 10.00; T0+1h 20.00; T0+2h 30.00: earlier in 24 h {10, 20}, mean 15, sd sqrt(50),
 *     z = 15 / 7.0710678 = 2.1213203; mean_24h (this one included) 60 / 3 = 20;
 *   T0+24h 40.00: the 10 is exactly 24 h earlier, outside: earlier {20, 30}, z = 15 / sqrt(50),
 *     mean_24h 90 / 3 = 30; in 7 days earlier {10, 20, 30}: mean 20, sd 10, z_7d = 2,
 *     mean_7d 100 / 4 = 25;
 *   T0+25h 20.00: the 20 at T0+1h is exactly 24 h earlier: earlier {30, 40}, mean 35,
 *     z = -15 / sqrt(50) = -2.1213203, mean_24h 90 / 3 = 30.
 */
static void test_window_mean_zscore(void **state)
{
	struct fd_features *f = mk(NULL);
	struct fd_txn t;
	double v[256];

	(void)state;
	t = tx("S", T0, 1000);
	push(f, &t, v);
	assert_true(V(v, "sender_amount_mean_24h") == 10.0);
	assert_true(V(v, "sender_amount_mean_30d") == 10.0);
	assert_nan(V(v, "amount_zscore_24h"));
	t = tx("S", T0 + HOUR_MS, 2000);
	push(f, &t, v);
	assert_true(V(v, "sender_amount_mean_24h") == 15.0);
	assert_nan(V(v, "amount_zscore_24h"));   /* one earlier amount: no deviation */
	assert_nan(V(v, "amount_zscore_30d"));
	t = tx("S", T0 + 2 * HOUR_MS, 3000);
	push(f, &t, v);
	assert_true(V(v, "sender_amount_mean_24h") == 20.0);
	assert_near(V(v, "amount_zscore_24h"), 2.1213203435596424, 1e-12);
	assert_near(V(v, "amount_zscore_7d"), 2.1213203435596424, 1e-12);
	t = tx("S", T0 + DAY_MS, 4000);
	push(f, &t, v);
	assert_true(V(v, "sender_amount_mean_24h") == 30.0);
	assert_near(V(v, "amount_zscore_24h"), 2.1213203435596424, 1e-12);
	assert_true(V(v, "sender_amount_mean_7d") == 25.0);
	assert_near(V(v, "amount_zscore_7d"), 2.0, 1e-12);
	t = tx("S", T0 + 25 * HOUR_MS, 2000);
	push(f, &t, v);
	assert_true(V(v, "sender_amount_mean_24h") == 30.0);
	assert_near(V(v, "amount_zscore_24h"), -2.1213203435596424, 1e-12);
	/* 30 days after the first: it leaves the 30-day window; earlier {20, 30, 40, 20} */
	t = tx("S", T0 + 30 * DAY_MS, 3000);
	push(f, &t, v);
	assert_true(V(v, "sender_amount_mean_30d") == (20 + 30 + 40 + 20 + 30) / 5.0);
	/* mean 27.5, stdev([20, 30, 40, 20]) = 9.5742710775633811 */
	assert_near(V(v, "amount_zscore_30d"), 2.5 / 9.5742710775633811, 1e-12);
	assert_true(V(v, "sender_amount_mean_24h") == 30.0);   /* alone in its 24 h */
	assert_nan(V(v, "amount_zscore_24h"));
	/* equal amounts: sd 0, no z-score */
	t = tx("C", T0 + 30 * DAY_MS, 500);
	push(f, &t, v);
	push(f, &t, v);
	push(f, &t, v);
	assert_nan(V(v, "amount_zscore_24h"));
	assert_true(V(v, "sender_amount_mean_24h") == 5.0);
	/* a large mean against a small spread: 1,000,000,000.01 and .02, then .03: sd
	 * 0.0070710678, z = 0.015 / 0.0070710678 = 2.1213203 (exact sums; a double sum of
	 * squares would cancel to nothing) */
	t = tx("L", T0 + 30 * DAY_MS, 100000000001LL);
	push(f, &t, v);
	t.amount = 100000000002LL;
	push(f, &t, v);
	t.amount = 100000000003LL;
	push(f, &t, v);
	assert_near(V(v, "amount_zscore_24h"), 2.1213203435596424, 1e-6);
	fd_features_free(f);
}

/*
 * The merchant's delayed-label windows, delay 1 day: the window j of a transaction at t holds
 * the merchant's transactions with t - 1d - W_j < ts <= t - 1d.  By hand:
 *   a T0 fraud, b T0+1h legit;
 *   c T0+1d-1ms: t - delay = T0 - 1ms, nothing visible: 0, 0, share 0, no first fraud (NaN);
 *   d T0+1d fraud: t - delay = T0: a visible: 1 txn, 1 fraud, share 1; first fraud 1 day ago;
 *   e T0+1d+1h unlabelled: a, b visible: 2 txns, 1 fraud, share 0.5; first fraud 25/24 days;
 *   f T0+2d legit: t - delay = T0+1d; 1d window (T0, T0+1d]: b, c, d (a exactly 1 d before:
 *     out): 3 txns, 1 fraud (d); 7d and 30d windows: a, b, c, d: 4 txns, 2 frauds, 0.5;
 *   g T0+9d: t - delay = T0+8d; 1d window (T0+7d, T0+8d]: none, share 0; 7d window
 *     (T0+1d, T0+8d]: e, f (d exactly 7 d before: out): 2 txns, 0 frauds; 30d: a..f, 6
 *     txns, 2 frauds, 1/3.
 */
static void test_merchant_known_windows(void **state)
{
	struct fd_feat_opts o = { .label_delay_ms = DAY_MS };
	struct fd_features *f = mk(&o);
	struct fd_txn t;
	double v[256];

	(void)state;
	t = tx("A", T0, 100);
	t.merchant_id = "M";
	t.label = 1;
	push(f, &t, v);
	assert_true(V(v, "merchant_known_txns_1d") == 0);
	assert_true(V(v, "merchant_known_frauds_30d") == 0);
	assert_true(V(v, "merchant_fraud_share_7d") == 0);
	assert_nan(V(v, "days_since_merchant_first_fraud"));
	t = tx("B", T0 + HOUR_MS, 100);
	t.merchant_id = "M";
	t.label = 0;
	push(f, &t, v);
	t = tx("C", T0 + DAY_MS - 1, 100);
	t.merchant_id = "M";
	push(f, &t, v);
	assert_true(V(v, "merchant_known_txns_1d") == 0);
	assert_true(V(v, "merchant_known_frauds_1d") == 0);
	assert_true(V(v, "merchant_fraud_share_1d") == 0);
	assert_nan(V(v, "days_since_merchant_first_fraud"));
	t = tx("D", T0 + DAY_MS, 100);
	t.merchant_id = "M";
	t.label = 1;
	push(f, &t, v);
	assert_true(V(v, "merchant_known_txns_1d") == 1);
	assert_true(V(v, "merchant_known_frauds_1d") == 1);
	assert_true(V(v, "merchant_fraud_share_1d") == 1);
	assert_true(V(v, "merchant_known_txns_30d") == 1);
	assert_true(V(v, "days_since_merchant_first_fraud") == 1.0);
	t = tx("E", T0 + DAY_MS + HOUR_MS, 100);
	t.merchant_id = "M";
	push(f, &t, v);
	assert_true(V(v, "merchant_known_txns_1d") == 2);
	assert_true(V(v, "merchant_known_frauds_1d") == 1);
	assert_true(V(v, "merchant_fraud_share_1d") == 0.5);
	assert_near(V(v, "days_since_merchant_first_fraud"), 25.0 / 24.0, 1e-12);
	t = tx("F", T0 + 2 * DAY_MS, 100);
	t.merchant_id = "M";
	t.label = 0;
	push(f, &t, v);
	assert_true(V(v, "merchant_known_txns_1d") == 3);
	assert_true(V(v, "merchant_known_frauds_1d") == 1);
	assert_near(V(v, "merchant_fraud_share_1d"), 1.0 / 3.0, 1e-15);
	assert_true(V(v, "merchant_known_txns_7d") == 4);
	assert_true(V(v, "merchant_known_frauds_7d") == 2);
	assert_true(V(v, "merchant_fraud_share_7d") == 0.5);
	assert_true(V(v, "merchant_known_txns_30d") == 4);
	assert_true(V(v, "days_since_merchant_first_fraud") == 2.0);
	/* another merchant knows nothing of M's labels; none without a merchant */
	t = tx("F", T0 + 2 * DAY_MS, 100);
	t.merchant_id = "N";
	push(f, &t, v);
	assert_true(V(v, "merchant_known_txns_30d") == 0);
	assert_nan(V(v, "days_since_merchant_first_fraud"));
	t.merchant_id = NULL;
	push(f, &t, v);
	assert_nan(V(v, "merchant_known_txns_1d"));
	assert_nan(V(v, "merchant_fraud_share_30d"));
	assert_nan(V(v, "days_since_merchant_first_fraud"));
	t = tx("G", T0 + 9 * DAY_MS, 100);
	t.merchant_id = "M";
	push(f, &t, v);
	assert_true(V(v, "merchant_known_txns_1d") == 0);
	assert_true(V(v, "merchant_fraud_share_1d") == 0);
	assert_true(V(v, "merchant_known_txns_7d") == 2);
	assert_true(V(v, "merchant_known_frauds_7d") == 0);
	assert_true(V(v, "merchant_known_txns_30d") == 6);
	assert_true(V(v, "merchant_known_frauds_30d") == 2);
	assert_near(V(v, "merchant_fraud_share_30d"), 1.0 / 3.0, 1e-15);
	assert_true(V(v, "days_since_merchant_first_fraud") == 9.0);
	fd_features_free(f);
}

/*
 * The recipient's, delay 0: a label is known from the next push on, even at the same ms.
 *   x T0 fraud to R: nothing before: 0; y T0 to R: x visible: 1 txn, 1 fraud, share 1;
 *   z T0+1d to R: x, y visible but exactly 1 day earlier: outside the 1-day window (0,
 *   share 0), inside the 7-day one: 2 txns, 1 fraud, 0.5.
 */
static void test_recipient_known_windows(void **state)
{
	struct fd_feat_opts o = { .label_delay_ms = 0 };
	struct fd_features *f = mk(&o);
	struct fd_txn t;
	double v[256];

	(void)state;
	t = tx("A", T0, 100);
	t.recipient_id = "R";
	t.label = 1;
	push(f, &t, v);
	assert_true(V(v, "recipient_known_txns_1d") == 0);
	assert_true(V(v, "recipient_fraud_share_1d") == 0);
	t = tx("B", T0, 100);
	t.recipient_id = "R";
	push(f, &t, v);
	assert_true(V(v, "recipient_known_txns_1d") == 1);
	assert_true(V(v, "recipient_known_frauds_1d") == 1);
	assert_true(V(v, "recipient_fraud_share_1d") == 1);
	t = tx("C", T0 + DAY_MS, 100);
	t.recipient_id = "R";
	push(f, &t, v);
	assert_true(V(v, "recipient_known_txns_1d") == 0);
	assert_true(V(v, "recipient_fraud_share_1d") == 0);
	assert_true(V(v, "recipient_known_txns_7d") == 2);
	assert_true(V(v, "recipient_known_frauds_7d") == 1);
	assert_true(V(v, "recipient_fraud_share_7d") == 0.5);
	assert_nan(V(v, "merchant_known_txns_1d"));      /* no merchant */
	t.recipient_id = NULL;
	push(f, &t, v);
	assert_nan(V(v, "recipient_known_txns_7d"));
	assert_nan(V(v, "recipient_fraud_share_30d"));
	fd_features_free(f);
}

/* ---- a random stream: brute force, point in time, warming, selection ------------------ */

#define NR 3000

struct rtx {
	int64_t ts, amount;
	int sender, merchant, device, ip, recipient, country, geo, label;
	double lat, lon;
};

static char names[5][64][8];   /* sender, merchant, device, ip, recipient names */

static uint64_t rs;

static unsigned rnd(unsigned n)
{
	rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((rs >> 33) % n);
}

static void gen(struct rtx *r, int n, uint64_t seed)
{
	int64_t ts = T0;
	int i, k, j;

	rs = seed;
	for (k = 0; k < 5; k++)
		for (j = 0; j < 64; j++)
			snprintf(names[k][j], sizeof(names[k][j]), "%c%d", "SMDIR"[k], j);
	for (i = 0; i < n; i++) {
		/* bursts of same-ms and near-edge gaps among longer ones */
		static const int64_t gaps[] = { 0, 1, 999, 30000, 60000, 599999, 600000, 3600000,
						 7200000, 86400000, 3 * 86400000LL };

		ts += gaps[rnd(sizeof(gaps) / sizeof(gaps[0]))];
		r[i].ts = ts;
		r[i].amount = rnd(5) == 0 ? 950000 + rnd(40000) : (int64_t)rnd(200000) - 1000;
		r[i].sender = (int)rnd(12);
		r[i].merchant = rnd(4) ? (int)rnd(30) : -1;
		r[i].device = rnd(5) ? (int)rnd(20) : -1;
		r[i].ip = rnd(5) ? (int)rnd(25) : -1;
		r[i].recipient = rnd(3) ? -1 : (int)rnd(15);
		r[i].country = rnd(6) ? (int)rnd(4) : -1;
		r[i].geo = rnd(3) != 0;
		r[i].lat = -60 + rnd(120000) / 1000.0;
		r[i].lon = -179 + rnd(358000) / 1000.0;
		r[i].label = (int)rnd(3) - 1;
	}
}

static struct fd_txn rtxn(const struct rtx *x)
{
	static const char *const cc[] = { "GB", "FR", "US", "DE" };
	static const char *const chan[] = { "card", "transfer", "atm", "online", "mobile", "pos" };
	static const char *const cats[] = { "grocery", "gambling", "fuel", "gift cards" };
	struct fd_txn t = tx(names[0][x->sender], x->ts, x->amount);

	t.merchant_id = x->merchant >= 0 ? names[1][x->merchant] : NULL;
	t.merchant_category = x->merchant >= 0 ? cats[x->merchant % 4] : NULL;
	t.device_id = x->device >= 0 ? names[2][x->device] : NULL;
	t.ip = x->ip >= 0 ? names[3][x->ip] : NULL;
	t.recipient_id = x->recipient >= 0 ? names[4][x->recipient] : NULL;
	if (x->country >= 0)
		memcpy(t.country, cc[x->country], 3);
	t.channel = chan[(x->ts / 1000) % 6];
	t.has_geo = x->geo;
	t.lat = x->lat;
	t.lon = x->lon;
	t.label = x->label;
	return t;
}

/* Run rows [0, n) through a fresh engine selecting sel (NULL = all); keep the first keep
 * rows' catalog vectors in out (keep * catalog size). */
static void run(const struct rtx *r, int n, const char *sel, const struct fd_feat_opts *o,
		double *out, int keep)
{
	struct fd_features *f = mk(o);
	struct fd_err err = { 0 };
	size_t nc = fd_feat_catalog(NULL);
	double *sink = malloc(nc * sizeof(double)), *all = malloc(nc * sizeof(double));
	int i;

	assert_int_equal(fd_features_select(f, sel, &err), FD_OK);
	for (i = 0; i < n; i++) {
		struct fd_txn t = rtxn(&r[i]);

		if (fd_features_push(f, &t, sink, all, &err) != FD_OK)
			fail_msg("row %d: %s", i, err.msg);
		if (i < keep)
			memcpy(out + (size_t)i * nc, all, nc * sizeof(double));
	}
	free(sink);
	free(all);
	fd_features_free(f);
}

static void test_brute_force(void **state)
{
	static const struct { const char *count, *sum; int64_t w; } win[] = {
		{ "sender_txn_count_30s", "sender_amount_sum_30s", 30000 },
		{ "sender_txn_count_5m", "sender_amount_sum_5m", 5 * MIN_MS },
		{ "sender_txn_count_10m", "sender_amount_sum_10m", 10 * MIN_MS },
		{ "sender_txn_count_1h", "sender_amount_sum_1h", HOUR_MS },
		{ "sender_txn_count_24h", "sender_amount_sum_24h", DAY_MS },
		{ "sender_txn_count_7d", "sender_amount_sum_7d", 7 * DAY_MS },
		{ "sender_txn_count_30d", "sender_amount_sum_30d", 30 * DAY_MS },
	};
	size_t nc = fd_feat_catalog(NULL);
	struct rtx *r = malloc(NR * sizeof(*r));
	double *out = malloc((size_t)NR * nc * sizeof(double));
	int i, j;
	size_t k;

	(void)state;
	gen(r, NR, 42);
	run(r, NR, NULL, NULL, out, NR);
	for (i = 0; i < NR; i++) {
		const double *v = out + (size_t)i * nc;
		int nm = 0, seen_m = 0, seen_d = 0, seen_r = 0, near = 0, rc30 = 0, dsend = 0;
		int other[12] = { 0 }, other_ip[12] = { 0 }, isend = 0, seen_i = 0;

		for (k = 0; k < sizeof(win) / sizeof(win[0]); k++) {
			int64_t cnt = 1, sum = r[i].amount;

			for (j = 0; j < i; j++)
				if (r[j].sender == r[i].sender && r[j].ts > r[i].ts - win[k].w) {
					cnt++;
					sum += r[j].amount;
				}
			if (v[fi(win[k].count)] != (double)cnt || v[fi(win[k].sum)] != (double)sum / 100.0)
				fail_msg("row %d %s: %g/%g, expected %lld/%g", i, win[k].count,
					 v[fi(win[k].count)], v[fi(win[k].sum)], (long long)cnt, (double)sum / 100.0);
		}
		for (j = 0; j < i; j++) {
			int same = r[j].sender == r[i].sender;

			if (same && r[j].ts > r[i].ts - DAY_MS && r[j].amount >= 900000 && r[j].amount < 1000000)
				near++;
			if (r[i].merchant >= 0 && r[j].merchant == r[i].merchant) {
				nm++;
				seen_m |= same;
			}
			if (r[i].device >= 0 && r[j].device == r[i].device) {
				seen_d |= same;
				if (!same && !other[r[j].sender]) {
					other[r[j].sender] = 1;
					dsend++;
				}
			}
			if (r[i].ip >= 0 && r[j].ip == r[i].ip) {
				seen_i |= same;
				if (!same && !other_ip[r[j].sender]) {
					other_ip[r[j].sender] = 1;
					isend++;
				}
			}
			if (r[i].recipient >= 0 && r[j].recipient == r[i].recipient) {
				seen_r |= same;
				rc30 += r[j].ts > r[i].ts - 30 * DAY_MS;
			}
		}
		/* countries: the home is the first country to reach the highest count */
		{
			int cnt[4] = { 0 }, home = -1, hc = 0, nct = 0;

			for (j = 0; j < i; j++)
				if (r[j].sender == r[i].sender && r[j].country >= 0) {
					nct++;
					if (++cnt[r[j].country] > hc) {
						hc = cnt[r[j].country];
						home = r[j].country;
					}
				}
			if (nct == 0)
				assert_nan(v[fi("foreign_share")]);
			else
				assert_true(v[fi("foreign_share")] == (double)(nct - hc) / nct);
			if (r[i].country < 0) {
				assert_nan(v[fi("is_foreign")]);
				assert_nan(v[fi("new_country")]);
			} else {
				assert_true(v[fi("new_country")] == (cnt[r[i].country] == 0));
				if (home < 0)
					assert_nan(v[fi("is_foreign")]);
				else
					assert_true(v[fi("is_foreign")] == (r[i].country != home));
			}
		}
		near += r[i].amount >= 900000 && r[i].amount < 1000000;
		if (v[fi("sender_near_threshold_count_24h")] != near)
			fail_msg("row %d near threshold %g, expected %d", i, v[fi("sender_near_threshold_count_24h")], near);
		if (r[i].merchant >= 0) {
			assert_true(v[fi("merchant_txn_count")] == nm);
			assert_true(v[fi("new_merchant")] == !seen_m);
		} else {
			assert_nan(v[fi("new_merchant")]);
		}
		if (r[i].device >= 0) {
			assert_true(v[fi("new_device")] == !seen_d);
			assert_true(v[fi("device_sender_count")] == dsend + 1);
		}
		if (r[i].ip >= 0) {
			assert_true(v[fi("new_ip")] == !seen_i);
			assert_true(v[fi("ip_sender_count")] == isend + 1);
		}
		if (r[i].recipient >= 0) {
			assert_true(v[fi("new_recipient")] == !seen_r);
			assert_true(v[fi("recipient_txn_count_30d")] == rc30 + 1);
		}
	}
	free(out);
	free(r);
}

/*
 * The windowed means and z-scores and the delayed-label windows of a random stream against a
 * rescan written here (two-pass mean and standard deviation), with a 1-hour and the default
 * 7-day delay.
 */
static void test_brute_force_known(void **state)
{
	static const int64_t sw[3] = { DAY_MS, 7 * DAY_MS, 30 * DAY_MS };
	static const char *const wn[3] = { "24h", "7d", "30d" }, *const kn[3] = { "1d", "7d", "30d" };
	static const int64_t delays[2] = { HOUR_MS, 7 * DAY_MS };
	size_t nc = fd_feat_catalog(NULL);
	struct rtx *r = malloc(NR * sizeof(*r));
	double *out = malloc((size_t)NR * nc * sizeof(double));
	int i, j, k, di;
	char name[64];

	(void)state;
	gen(r, NR, 7);
	for (di = 0; di < 2; di++) {
		struct fd_feat_opts o = { .label_delay_ms = delays[di] };
		const int64_t d = delays[di];

		run(r, NR, NULL, &o, out, NR);
		for (i = 0; i < NR; i++) {
			const double *v = out + (size_t)i * nc;
			int64_t first = INT64_MIN;

			for (k = 0; k < 3; k++) {
				double sum = 0, mean, ss = 0, z = NAN;
				int cnt = 0;

				for (j = 0; j < i; j++)
					if (r[j].sender == r[i].sender && r[j].ts > r[i].ts - sw[k]) {
						sum += r[j].amount / 100.0;
						cnt++;
					}
				snprintf(name, sizeof(name), "sender_amount_mean_%s", wn[k]);
				assert_near(V(v, name), (sum + r[i].amount / 100.0) / (cnt + 1), 1e-9);
				if (cnt >= 2) {
					mean = sum / cnt;
					for (j = 0; j < i; j++)
						if (r[j].sender == r[i].sender && r[j].ts > r[i].ts - sw[k])
							ss += (r[j].amount / 100.0 - mean) * (r[j].amount / 100.0 - mean);
					if (ss > 0)
						z = (r[i].amount / 100.0 - mean) / sqrt(ss / (cnt - 1));
				}
				snprintf(name, sizeof(name), "amount_zscore_%s", wn[k]);
				if (isnan(z) != isnan(V(v, name)) || (!isnan(z) && fabs(z - V(v, name)) > 1e-7 * (1 + fabs(z))))
					fail_msg("row %d %s: %g, expected %g", i, name, V(v, name), z);
			}
			for (k = 0; k < 3; k++) {
				int mt = 0, mf = 0, rt = 0, rf = 0;

				for (j = 0; j < i; j++) {
					int in = r[j].ts <= r[i].ts - d && r[j].ts > r[i].ts - d - sw[k];

					if (in && r[i].merchant >= 0 && r[j].merchant == r[i].merchant) {
						mt++;
						mf += r[j].label == 1;
					}
					if (in && r[i].recipient >= 0 && r[j].recipient == r[i].recipient) {
						rt++;
						rf += r[j].label == 1;
					}
				}
				snprintf(name, sizeof(name), "merchant_known_txns_%s", kn[k]);
				if (r[i].merchant < 0) {
					assert_nan(V(v, name));
				} else {
					if (V(v, name) != mt)
						fail_msg("row %d %s: %g, expected %d", i, name, V(v, name), mt);
					snprintf(name, sizeof(name), "merchant_known_frauds_%s", kn[k]);
					assert_true(V(v, name) == mf);
					snprintf(name, sizeof(name), "merchant_fraud_share_%s", kn[k]);
					assert_true(V(v, name) == (mt ? (double)mf / mt : 0.0));
				}
				snprintf(name, sizeof(name), "recipient_known_txns_%s", kn[k]);
				if (r[i].recipient < 0) {
					assert_nan(V(v, name));
				} else {
					if (V(v, name) != rt)
						fail_msg("row %d %s: %g, expected %d", i, name, V(v, name), rt);
					snprintf(name, sizeof(name), "recipient_known_frauds_%s", kn[k]);
					assert_true(V(v, name) == rf);
					snprintf(name, sizeof(name), "recipient_fraud_share_%s", kn[k]);
					assert_true(V(v, name) == (rt ? (double)rf / rt : 0.0));
				}
			}
			for (j = 0; j < i && r[i].merchant >= 0; j++)
				if (r[j].merchant == r[i].merchant && r[j].label == 1 && r[j].ts <= r[i].ts - d) {
					first = r[j].ts;
					break;
				}
			if (first == INT64_MIN)
				assert_nan(V(v, "days_since_merchant_first_fraud"));
			else
				assert_true(V(v, "days_since_merchant_first_fraud") == (double)(r[i].ts - first) / DAY_MS);
		}
	}
	free(out);
	free(r);
}

static void test_point_in_time(void **state)
{
	size_t nc = fd_feat_catalog(NULL);
	struct fd_feat_opts o0 = { .label_delay_ms = 0 }, o1 = { .label_delay_ms = HOUR_MS };
	const struct fd_feat_opts *opts[] = { NULL, &o0, &o1 };
	struct rtx *r = malloc(NR * sizeof(*r)), *r2 = malloc(NR * sizeof(*r2));
	double *a = malloc((size_t)NR * nc * sizeof(double)), *b = malloc((size_t)NR * nc * sizeof(double));
	size_t k;
	int row;

	(void)state;
	gen(r, NR, 7);
	for (k = 0; k < 3; k++) {
		/* the first 1000 rows alone, then with 2000 future rows appended: bit for bit */
		run(r, 1000, NULL, opts[k], a, 1000);
		run(r, NR, NULL, opts[k], b, 1000);
		assert_memory_equal(a, b, 1000 * nc * sizeof(double));

		/* a row's own label changes none of its features, nor any earlier row's: flip
		 * the label of row `row` and compare rows 0..row */
		for (row = 0; row < 1000; row += 97) {
			memcpy(r2, r, NR * sizeof(*r));
			r2[row].label = r[row].label == 1 ? 0 : 1;
			run(r2, row + 1, NULL, opts[k], b, row + 1);
			assert_memory_equal(a, b, (size_t)(row + 1) * nc * sizeof(double));
		}
	}
	/* and the label does matter to later rows (the test above can fail): with delay 0, a
	 * fraud label on row 0 shows in the next row at the same merchant */
	memcpy(r2, r, NR * sizeof(*r));
	for (row = 1; row < NR && (r[row].merchant != r[0].merchant || r[0].merchant < 0); row++)
		;
	if (row < NR) {
		r2[0].label = 1;
		run(r2, row + 1, "merchant_fraud_rate", &o0, b, row + 1);
		assert_true(b[(size_t)row * nc + (size_t)fi("merchant_fraud_rate")] > 0);
	}
	free(a);
	free(b);
	free(r);
	free(r2);
}

static void test_selection_same_values(void **state)
{
	static const char *const sels[] = {
		"sender_txn_count_10m",
		"sender_txn_count_10m,geo_distance_km,amount_to_mean_30d",
		"new_merchant,merchant_fraud_rate",
		"is_high_risk_category",
		"recipient_txn_count_30d,new_ip",
		"sender_near_threshold_count_24h,sender_amount_sum_1h",
		"amount_dev_7d,foreign_share,dist_from_usual_km,device_sender_count",
		"sender_device_count,amount_percentile_20,amount_zscore,days_since_last",
		"amount_zscore_24h",
		"sender_amount_mean_7d,amount_zscore_30d",
		"merchant_known_frauds_1d",
		"days_since_merchant_first_fraud",
		"merchant_fraud_share_7d,recipient_known_txns_30d,merchant_fraud_rate",
	};
	const struct fd_feat_def *d;
	size_t nc = fd_feat_catalog(&d), k, j;
	struct rtx *r = malloc(NR * sizeof(*r));
	double *full = malloc((size_t)NR * nc * sizeof(double)), *part = malloc((size_t)NR * nc * sizeof(double));
	int i;

	(void)state;
	gen(r, NR, 99);
	run(r, NR, NULL, NULL, full, NR);
	for (k = 0; k < sizeof(sels) / sizeof(sels[0]); k++) {
		struct fd_features *f = mk(NULL);
		struct fd_err err = { 0 };
		unsigned char in[256] = { 0 };

		assert_int_equal(fd_features_select(f, sels[k], &err), FD_OK);
		for (j = 0; j < fd_features_count(f); j++)
			in[fd_features_catalog_index(f, j)] = 1;
		fd_features_free(f);
		run(r, NR, sels[k], NULL, part, NR);
		for (i = 0; i < NR; i++)
			for (j = 0; j < nc; j++) {
				const double *p = &part[(size_t)i * nc + j], *q = &full[(size_t)i * nc + j];

				if (in[j] ? memcmp(p, q, sizeof(*p)) != 0 : !isnan(*p))
					fail_msg("selection '%s' row %d feature %s: %g, full run %g", sels[k], i,
						 d[j].name, *p, *q);
			}
	}
	free(full);
	free(part);
	free(r);
}

static void test_warm(void **state)
{
	size_t nc = fd_feat_catalog(NULL);
	struct rtx *r = malloc(NR * sizeof(*r));
	double *full = malloc((size_t)NR * nc * sizeof(double)), *all = malloc(nc * sizeof(double));
	struct fd_features *f = mk(NULL);
	struct fd_err err = { 0 };
	struct fd_feat_context c1;
	int i;

	(void)state;
	gen(r, NR, 5);
	run(r, NR, NULL, NULL, full, NR);
	/* warming with rows [0, 2000) then pushing the rest gives the full run's features */
	for (i = 0; i < 2000; i++) {
		struct fd_txn t = rtxn(&r[i]);

		assert_int_equal(fd_features_warm(f, &t, &err), FD_OK);
	}
	fd_features_context(f, &c1);
	assert_true(c1.prev_ts == -1);   /* warming computes nothing */
	for (i = 2000; i < NR; i++) {
		struct fd_txn t = rtxn(&r[i]);

		assert_int_equal(fd_features_push(f, &t, NULL, all, &err), FD_OK);
		assert_memory_equal(all, full + (size_t)i * nc, nc * sizeof(double));
	}
	fd_features_free(f);
	free(all);
	free(full);
	free(r);
}

/* Memory follows entities and window contents, not the number of transactions. */
static void test_memory_bounded(void **state)
{
	struct fd_features *f = mk(NULL);
	size_t at100k = 0;
	char s[8], m[8], d[8];
	int i;

	(void)state;
	/* 50 senders, 40 merchants, 20 devices: one transaction every 2 minutes, 200,000 of
	 * them (278 days): windows of 30 days hold ~21,600 */
	for (i = 0; i < 200000; i++) {
		struct fd_txn t;

		snprintf(s, sizeof(s), "S%d", i % 50);
		snprintf(m, sizeof(m), "M%d", (i * 7) % 40);
		snprintf(d, sizeof(d), "D%d", (i * 3) % 20);
		t = tx(s, T0 + (int64_t)i * 2 * MIN_MS, 1000 + i % 5000);
		t.merchant_id = m;
		t.device_id = d;
		t.recipient_id = m;
		t.label = i % 97 == 0;
		push(f, &t, NULL);
		if (i == 99999)
			at100k = fd_features_bytes(f);
	}
	assert_true(at100k > 0);
	assert_true(fd_features_bytes(f) == at100k);
	fd_features_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_catalog),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_lookback),
		cmocka_unit_test(test_time_of_day),
		cmocka_unit_test(test_local_hour),
		cmocka_unit_test(test_time_order),
		cmocka_unit_test(test_first_transaction),
		cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_window_ties_and_senders),
		cmocka_unit_test(test_window_growth),
		cmocka_unit_test(test_amount_history),
		cmocka_unit_test(test_amount_zscore_constant),
		cmocka_unit_test(test_amount_last20),
		cmocka_unit_test(test_amount_flags),
		cmocka_unit_test(test_near_threshold_24h),
		cmocka_unit_test(test_novelty),
		cmocka_unit_test(test_devices_shared),
		cmocka_unit_test(test_recipient),
		cmocka_unit_test(test_countries),
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_geo),
		cmocka_unit_test(test_fraud_rate_delay),
		cmocka_unit_test(test_fraud_rate_default_delay),
		cmocka_unit_test(test_own_label_zero_delay),
		cmocka_unit_test(test_window_mean_zscore),
		cmocka_unit_test(test_merchant_known_windows),
		cmocka_unit_test(test_recipient_known_windows),
		cmocka_unit_test(test_brute_force),
		cmocka_unit_test(test_brute_force_known),
		cmocka_unit_test(test_point_in_time),
		cmocka_unit_test(test_selection_same_values),
		cmocka_unit_test(test_warm),
		cmocka_unit_test(test_memory_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
