/*
 * test_score.c — combining the layers (lib/fd_score.c): surprises, risk, level, decision,
 * confidence, the risk thresholds, and reasons in words (lib/fd_score_reasons.c); the scorer's
 * drift bins (lib/fd_scorer.c).  The model here is built by hand:
 * an ECDF of two points (0 and 10, so p_ae = e / 10), autoencoder thresholds 9.5 and 9.9 (so
 * q_m = 0.95 and q_h = 0.99 exactly), forest thresholds 0.5 and 0.6, risk thresholds 30 and
 * 50.  Expected values worked out with python3 from the formulas of fd_score.h:
 *
 *	a = log10(0.05 / 0.01) / log10(9.9 / 9.5) = 39.023338034912946   (the tail exponent)
 *	u_ae(19.8) = 2 + a * log10(19.8 / 9.9) = 13.747195279443917
 *	d = (logit(.99) - logit(.95)) / 0.1, c = logit(.95) - 0.5 d
 *	u_if(s) = log10(1 + exp(c + d s)): u_if(0.5) = log10(20) = 1.3010299956639808,
 *	        u_if(0.6) = log10(100) = 2, u_if(0.55) = 1.6470942922041822,
 *	        u_if(0.3) = 0.23040460787566874
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fd_score.c"
#include "fd_scorer.c"

static struct fd_model *hand_model(void)
{
	static const char *const names[] = { "amount", "hour" };
	struct fd_model *m;
	struct fd_err err;

	assert_int_equal(fd_model_create(&m, names, 2, &err), FD_OK);
	m->ecdf = malloc(2 * sizeof(float));
	assert_non_null(m->ecdf);
	m->ecdf[0] = 0.0f;
	m->ecdf[1] = 10.0f;
	m->n_ecdf = 2;
	m->thr.ae_medium = 9.5;
	m->thr.ae_high = 9.9;
	m->thr.if_medium = 0.5;
	m->thr.if_high = 0.6;
	m->thr.risk_medium = 30;
	m->thr.risk_high = 50;
	return m;
}

static void layers(struct fd_score_layers *l, const struct fd_model *m, double e, double s, int rules,
		   int points, size_t nhits, int block)
{
	l->ae_error = e;
	l->ae_p = fd_model_ae_score(m, e);
	l->ae_u = fd_score_ae_surprise(m, e);
	l->if_score = s;
	l->if_u = fd_score_forest_surprise(m, s);
	l->gb_p = NAN;
	l->rules_present = rules;
	l->rule_points = points;
	l->nhits = nhits;
	l->block = block;
}

static void test_surprises(void **state)
{
	struct fd_model *m = hand_model();
	double qm, qh;

	(void)state;
	fd_score_threshold_quantiles(m, &qm, &qh);
	assert_float_equal(qm, 0.95, 1e-6);
	assert_float_equal(qh, 0.99, 1e-6);
	/* below the HIGH threshold: -log10(1 - p), p = e / 10 */
	assert_float_equal(fd_score_ae_surprise(m, 5.0), -log10(0.5), 1e-9);
	assert_float_equal(fd_score_ae_surprise(m, 9.0), 1.0, 1e-6);
	assert_float_equal(fd_score_ae_surprise(m, 9.9), 2.0, 1e-5);
	assert_float_equal(fd_score_ae_surprise(m, 0.0), 0.0, 1e-12);
	/* beyond it, the power law: continuous at 9.9 and still growing past the ECDF's end */
	assert_float_equal(fd_score_ae_surprise(m, 19.8), 13.747195279443917, 1e-6);
	assert_true(fd_score_ae_surprise(m, 1000.0) > fd_score_ae_surprise(m, 100.0));
	assert_true(isnan(fd_score_ae_surprise(m, NAN)));
	assert_float_equal(fd_score_forest_surprise(m, 0.5), 1.3010299956639808, 1e-9);
	assert_float_equal(fd_score_forest_surprise(m, 0.6), 2.0, 1e-9);
	assert_float_equal(fd_score_forest_surprise(m, 0.55), 1.6470942922041822, 1e-9);
	assert_float_equal(fd_score_forest_surprise(m, 0.3), 0.23040460787566874, 1e-9);
	/* far out: finite and about (c + d s) / ln 10 */
	assert_true(isfinite(fd_score_forest_surprise(m, 100.0)));
	/* thresholds not increasing: no forest surprise */
	m->thr.if_high = 0.5;
	assert_true(isnan(fd_score_forest_surprise(m, 0.7)));
	/* no ECDF: no autoencoder surprise; quantiles fall back to 0.95 / 0.99 */
	free(m->ecdf);
	m->ecdf = NULL;
	m->n_ecdf = 0;
	assert_true(isnan(fd_score_ae_surprise(m, 5.0)));
	fd_score_threshold_quantiles(m, &qm, &qh);
	assert_float_equal(qm, 0.95, 0);
	assert_float_equal(qh, 0.99, 0);
	fd_model_free(m);
}

static void test_combine(void **state)
{
	struct fd_model *m = hand_model();
	struct fd_score_layers l;
	struct fd_score_verdict v;

	(void)state;
	/* typical: 25 * (0.30103 + 1.30103) / 2 = 20.0257 -> 20.03, LOW; the forest flags (0.5 >= 0.5),
	 * the autoencoder and the rules do not: 2 of 3 agree with APPROVE */
	layers(&l, m, 5.0, 0.5, 1, 0, 0, 0);
	fd_score_combine(m, &l, &v);
	assert_float_equal(v.risk_raw, 20.025749891599524, 1e-6);
	assert_float_equal(v.risk, 20.03, 1e-9);
	assert_int_equal(v.level, FD_LEVEL_LOW);
	assert_int_equal(v.decision, FD_DECISION_APPROVE);
	assert_int_equal(v.layers, 3);
	assert_int_equal(v.agree, 2);
	assert_float_equal(v.confidence, 2.0 / 3.0, 1e-12);
	/* both layers at their HIGH thresholds: 25 * 2 = 50 -> HIGH, REVIEW; the rules disagree */
	layers(&l, m, 9.9, 0.6, 1, 0, 0, 0);
	fd_score_combine(m, &l, &v);
	assert_float_equal(v.risk, 50.0, 1e-9);
	assert_int_equal(v.level, FD_LEVEL_HIGH);
	assert_int_equal(v.decision, FD_DECISION_REVIEW);
	assert_int_equal(v.agree, 2);
	/* a rule of 35 points over a model risk of 20: the higher wins, 35 -> MEDIUM; the rules
	 * and the forest agree with REVIEW */
	layers(&l, m, 5.0, 0.5, 1, 35, 1, 0);
	fd_score_combine(m, &l, &v);
	assert_float_equal(v.risk_raw, 35.0, 0);
	assert_int_equal(v.level, FD_LEVEL_MEDIUM);
	assert_int_equal(v.decision, FD_DECISION_REVIEW);
	assert_int_equal(v.agree, 2);
	/* a block rule: risk 100, HIGH, BLOCK */
	layers(&l, m, 5.0, 0.3, 1, 100, 1, 1);
	fd_score_combine(m, &l, &v);
	assert_float_equal(v.risk, 100.0, 0);
	assert_int_equal(v.level, FD_LEVEL_HIGH);
	assert_int_equal(v.decision, FD_DECISION_BLOCK);
	assert_int_equal(v.agree, 1);
	/* a block rule decides even when its points are few */
	layers(&l, m, 5.0, 0.3, 1, 5, 1, 1);
	fd_score_combine(m, &l, &v);
	assert_int_equal(v.level, FD_LEVEL_LOW);
	assert_int_equal(v.decision, FD_DECISION_BLOCK);
	/* far beyond everything: 25 * (13.747 + 1.647) / 2 = 192.4, capped at 100 */
	layers(&l, m, 19.8, 0.55, 0, 0, 0, 0);
	fd_score_combine(m, &l, &v);
	assert_float_equal(v.risk_raw, 192.42861964560123, 1e-5);
	assert_float_equal(v.risk, 100.0, 0);
	assert_int_equal(v.layers, 2);
	assert_float_equal(v.confidence, 1.0, 0);
	/* the forest alone (no autoencoder, no rules): 25 * 2 = 50 */
	layers(&l, m, NAN, 0.6, 0, 0, 0, 0);
	fd_score_combine(m, &l, &v);
	assert_float_equal(v.risk, 50.0, 1e-9);
	assert_int_equal(v.layers, 1);
	assert_float_equal(v.confidence, 1.0, 0);
	/* unset risk thresholds never flag */
	m->thr.risk_medium = m->thr.risk_high = NAN;
	layers(&l, m, 19.8, 0.9, 0, 0, 0, 0);
	fd_score_combine(m, &l, &v);
	assert_int_equal(v.level, FD_LEVEL_LOW);
	fd_model_free(m);
}

/* The lowest whole risk that at most a share of the rows reach. */
static void test_risk_threshold(void **state)
{
	double r[100];
	int i;

	(void)state;
	for (i = 0; i < 100; i++)
		r[i] = i;
	assert_float_equal(risk_threshold(r, 100, 0.05), 95, 0);   /* 95..99: 5 rows */
	assert_float_equal(risk_threshold(r, 100, 0.01), 99, 0);
	/* ties: 90 at 10, 6 at 40, 4 at 100 */
	for (i = 0; i < 100; i++)
		r[i] = i < 90 ? 10 : i < 96 ? 40 : 100;
	assert_float_equal(risk_threshold(r, 100, 0.05), 41, 0);   /* >= 41: the 4 at 100 */
	assert_float_equal(risk_threshold(r, 100, 0.10), 11, 0);   /* >= 11: 10 rows */
	/* more than the share at the top: capped at 100 */
	assert_float_equal(risk_threshold(r, 100, 0.01), 100, 0);
}

static void test_levels_names(void **state)
{
	(void)state;
	assert_int_equal(fd_level_parse("high"), FD_LEVEL_HIGH);
	assert_int_equal(fd_level_parse("Medium"), FD_LEVEL_MEDIUM);
	assert_int_equal(fd_level_parse("LOW"), FD_LEVEL_LOW);
	assert_int_equal(fd_level_parse("severe"), -1);
	assert_string_equal(fd_decision_name[FD_DECISION_BLOCK], "BLOCK");
}

static void reason(const char *feature, double v, double typical, const struct fd_score_basis *b,
		   const char *want)
{
	struct fd_buf o = FD_BUF_INIT;

	assert_int_equal(fd_score_feature_reason(fd_feat_lookup(feature), v, typical, b, &o), 0);
	assert_string_equal(o.s, want);
	fd_buf_release(&o);
}

static void test_reasons(void **state)
{
	const struct fd_feat_def *defs;
	size_t ncat = fd_feat_catalog(&defs), i;
	double *all = malloc(ncat * sizeof(*all));
	struct fd_score_basis b;
	struct fd_buf o = FD_BUF_INIT;

	(void)state;
	for (i = 0; i < ncat; i++)
		all[i] = NAN;
	memset(&b, 0, sizeof(b));
	b.ts = 1774000000000;
	b.amount = 125000;  /* 1,250.00 USD */
	b.exponent = 2;
	memcpy(b.currency, "USD", 4);
	b.all = all;
	b.ctx.sender_mean_30d = 30.34;
	b.ctx.prev_ts = b.ts - 42 * 60000;
	b.ctx.prev_lat = 40.7;
	b.ctx.prev_lon = -74.0;
	b.ctx.prev_geo_ts = b.ts - 42 * 60000;
	/* 1250 / 30.34 = 41.1997... */
	reason("amount", 1250, 80, &b, "amount 1,250.00 USD, 41.2\xc3\x97 this sender's 30-day mean of 30.34 USD");
	reason("geo_distance_km", 3912.4, 10, &b, "3,912 km from the previous transaction 42 minutes earlier");
	all[fd_feat_lookup("sender_txn_count_30d")] = 31;
	reason("sender_txn_count_10m", 7, 1.1, &b, "7 transactions from the sender in 10 minutes (31 in 30 days)");
	reason("sender_txn_count_30d", 31, 12.5, &b,
	       "31 transactions from the sender in 30 days (typically 12.5 over all senders)");
	reason("new_ip", 1, 0.1, &b, "an IP address new to this sender");
	reason("new_device", NAN, 0.1, &b, "no device given");
	reason("amount_dev_30d", -10, 0, &b, "amount 1,250.00 USD, 10.00 USD below this sender's 30-day mean of 1,260.00 USD");
	reason("amount_to_mean_7d", 2.5, 1, &b, "amount 1,250.00 USD, 2.5\xc3\x97 this sender's 7-day mean of 500.00 USD");
	reason("secs_since_last", 12, 3600, &b, "12 seconds after the sender's previous transaction");
	reason("secs_since_last", NAN, 3600, &b, "the sender's first transaction");
	reason("days_since_last", 183, 1, &b, "first transaction from the sender in 183 days");
	reason("merchant_fraud_rate", 0.125, 0.01, &b, "merchant's known fraud rate 12.5% (typically 1.0%)");
	reason("channel_atm", 1, 0.09, &b, "channel atm (9% of all transactions are atm)");
	reason("sender_near_threshold_count_24h", 0, 0.01, &b,
	       "no amounts between 9,000 and 10,000 from the sender in 24 hours");
	reason("day_of_week", 6, 3, &b, "on a Sunday");
	/* no sender history: said so */
	b.ctx.sender_mean_30d = NAN;
	reason("amount", 1250, 80, &b, "amount 1,250.00 USD, no earlier amounts from this sender in 30 days");
	/* large numbers keep their separators, money its currency's decimals */
	b.amount = 123456789;
	reason("sender_amount_sum_1h", 1234567.891, 100, &b, "1,234,567.89 USD sent by the sender in an hour");
	/* an index outside the catalog still gives a sentence */
	assert_int_equal(fd_score_feature_reason(-1, 2.5, 1.25, &b, &o), 0);
	assert_string_equal(o.s, "feature 2.50 (typically 1.25 over all senders)");
	fd_buf_release(&o);
	/* the local hour names its clock */
	b.ctx.local_clock = FD_CLOCK_ZONE;
	b.ctx.zone_name = "Europe/Berlin";
	reason("local_hour", 3, 12, &b, "at 3h local time (Europe/Berlin)");
	b.ctx.local_clock = FD_CLOCK_SOLAR;
	reason("local_hour", 3, 12, &b, "at 3h solar time at the transaction's place");
	b.ctx.local_clock = FD_CLOCK_SOLAR_USUAL;
	reason("local_hour", 3, 12, &b, "at 3h solar time at the sender's usual place");
	b.ctx.local_clock = FD_CLOCK_UTC;
	reason("local_hour", 3, 12, &b, "at 3h UTC (no zone or place known)");
	/* the features of the labelled history and the windowed amount statistics */
	reason("merchant_fraud_share_7d", 0.25, 0.01, &b, "merchant's known fraud share 25.0% in 7 days (typically 1.0%)");
	reason("recipient_known_frauds_30d", 2, 0.1, &b, "2 known frauds at the recipient in 30 days");
	reason("merchant_known_txns_1d", 1, 20, &b, "merchant had 1 transaction with a known outcome in a day (typically 20 over all senders)");
	reason("days_since_merchant_first_fraud", 12, 100, &b, "the merchant's first known fraud 12 days ago");
	/* 3.25 is exact in binary, a true half: one number format (fd_num.h) takes it away from zero */
	reason("amount_zscore_24h", 3.25, 0, &b, "amount 1,234,567.89 USD, 3.3 standard deviations above this sender's mean over 24 hours");
	reason("sender_amount_mean_7d", 1500, 80.5, &b,
	       "the sender's mean amount over 7 days 1,500.00 USD (typically 80.50 USD over all senders)");
	free(all);
}

static int notable(const char *feature, double v, double typical, const struct fd_score_basis *b)
{
	int cat = fd_feat_lookup(feature);

	assert_true(cat >= 0);
	return fd_score_feature_notable(cat, v, typical, b);
}

/* Weak facts are not reasons: each threshold of fd_score.h, on both sides, by hand. */
static void test_notable(void **state)
{
	const struct fd_feat_def *defs;
	size_t ncat = fd_feat_catalog(&defs), i;
	double *all = malloc(ncat * sizeof(*all));
	struct fd_score_basis b;

	(void)state;
	for (i = 0; i < ncat; i++)
		all[i] = NAN;
	memset(&b, 0, sizeof(b));
	b.amount = 912080;  /* 9,120.80 USD */
	b.exponent = 2;
	memcpy(b.currency, "USD", 4);
	b.all = all;
	b.ctx.sender_mean_30d = 4000;
	b.ctx.prev_geo_ts = -1;
	/* velocity: a count of 1 is the transaction itself, whatever the typical count */
	assert_false(notable("sender_txn_count_30s", 1, 0.01, &b));
	assert_true(notable("sender_txn_count_30s", 2, 0.01, &b));
	/* ... and a count must be at least twice the typical one */
	assert_false(notable("sender_txn_count_30d", 20, 12.5, &b));
	assert_true(notable("sender_txn_count_30d", 25, 12.5, &b));
	/* a sum of the transaction alone (9,120.80) repeats the amount; what the window holds
	 * besides it must be twice the typical sum: 9,120.80 + 999 < 2 * 500 is not, + 1,000 is */
	assert_false(notable("sender_amount_sum_1h", 9120.80, 10, &b));
	assert_false(notable("sender_amount_sum_1h", 9120.80 + 999, 500, &b));
	assert_true(notable("sender_amount_sum_1h", 9120.80 + 1000, 500, &b));
	/* ratios: below 1 is never "above the mean"; 2x is the threshold */
	assert_false(notable("amount_to_mean_30d", 0.04, 1, &b));
	assert_false(notable("amount_to_mean_30d", 1.99, 1, &b));
	assert_true(notable("amount_to_mean_30d", 2.0, 1, &b));
	/* the amount against the sender's 30-day mean of 4,000: 2.28x */
	assert_true(notable("amount", 9120.80, 80, &b));
	b.ctx.sender_mean_30d = 5000;  /* 1.82x */
	assert_false(notable("amount", 9120.80, 80, &b));
	assert_false(notable("amount_dev_30d", 9120.80 - 5000, 0, &b));  /* 4,120.80 above 5,000 */
	assert_true(notable("amount_dev_30d", 9120.80 - 4560.40, 0, &b));  /* twice the mean */
	assert_false(notable("amount_zscore", 1.99, 0, &b));
	assert_true(notable("amount_zscore_7d", 2.0, 0, &b));
	assert_false(notable("amount_to_max_ratio", 1.4, 1, &b));
	assert_true(notable("amount_to_max_ratio", 1.5, 1, &b));
	assert_false(notable("amount_percentile_20", 0.9, 0.5, &b));
	assert_true(notable("amount_percentile_20", 0.95, 0.5, &b));
	/* a channel most traffic uses is no reason; a rare one is (at most 10%) */
	assert_false(notable("channel_card", 1, 0.41, &b));
	assert_true(notable("channel_atm", 1, 0.09, &b));
	assert_false(notable("channel_atm", 0, 0.09, &b));  /* "not atm" */
	/* flags speak when on */
	assert_true(notable("new_device", 1, 0.1, &b));
	assert_false(notable("new_device", 0, 0.1, &b));
	assert_false(notable("new_device", NAN, 0.1, &b));
	/* the hour: 0-5 on the clock named; the UTC hour defers to a known local hour */
	assert_true(notable("local_hour", 5, 12, &b));
	assert_false(notable("local_hour", 6, 12, &b));
	assert_true(notable("hour", 3, 12, &b));
	all[fd_feat_lookup("local_hour")] = 21;  /* 03h UTC is 21h where it happened */
	assert_false(notable("hour", 3, 12, &b));
	assert_false(notable("is_night", 1, 0.25, &b));
	all[fd_feat_lookup("local_hour")] = NAN;
	assert_true(notable("is_night", 1, 0.25, &b));
	assert_false(notable("day_of_week", 1, 3, &b));  /* a Tuesday */
	assert_false(notable("day_of_week", 6, 3, &b));  /* a Sunday: a seventh of traffic */
	assert_false(notable("is_weekend", 1, 0.28, &b));
	assert_true(notable("is_weekend", 1, 0.05, &b));
	/* time since the previous transaction, dormancy, a new sender */
	assert_true(notable("secs_since_last", 599, 3600, &b));
	assert_false(notable("secs_since_last", 600, 3600, &b));
	assert_false(notable("secs_since_last", NAN, 3600, &b));
	assert_false(notable("days_since_last", 29, 1, &b));
	assert_true(notable("days_since_last", 30, 1, &b));
	assert_true(notable("sender_age_days", 6.9, 100, &b));
	assert_false(notable("sender_age_days", 31, 100, &b));
	/* places */
	assert_false(notable("geo_distance_km", 99, 10, &b));
	assert_true(notable("geo_distance_km", 100, 10, &b));  /* no earlier time known */
	b.ts = 10 * 3600000;
	b.ctx.prev_geo_ts = 8 * 3600000;  /* two hours earlier: 999 km is 499.5 km/h */
	assert_false(notable("geo_distance_km", 999, 10, &b));
	assert_true(notable("geo_distance_km", 1000, 10, &b));
	b.ctx.prev_geo_ts = -1;
	assert_false(notable("geo_speed_kmh", 499, 10, &b));
	assert_true(notable("geo_speed_kmh", 500, 10, &b));
	assert_false(notable("mins_since_prev_geo", 5, 600, &b));  /* no distance known */
	all[fd_feat_lookup("geo_distance_km")] = 150;
	assert_true(notable("mins_since_prev_geo", 5, 600, &b));
	/* parties: rarely seen (a tenth of the usual), shared by many, known frauds */
	assert_true(notable("merchant_txn_count", 5, 100, &b));
	assert_false(notable("merchant_txn_count", 6, 100, &b));  /* at most 5 */
	assert_false(notable("recipient_txn_count", 5, 49, &b));  /* and at most a tenth */
	assert_false(notable("foreign_share", 0.19, 0.02, &b));
	assert_false(notable("device_sender_count", 1, 0.2, &b));
	assert_true(notable("device_sender_count", 3, 1.1, &b));
	assert_false(notable("merchant_known_txns_7d", 0, 26, &b));
	assert_false(notable("recipient_known_frauds_7d", 0, 0.1, &b));
	assert_true(notable("recipient_known_frauds_7d", 1, 0.1, &b));
	assert_false(notable("merchant_fraud_share_30d", 0.015, 0.01, &b));
	assert_true(notable("merchant_fraud_share_30d", 0.02, 0.01, &b));
	/* a window's mean includes the transaction: the others' mean must be twice the typical;
	 * 9,120.80 and one of 200.00 make 4,660.40, the other's 200.00 < 2 * 150 */
	assert_false(notable("sender_amount_mean_24h", 4660.40, 150, &b));  /* no count known */
	all[fd_feat_lookup("sender_txn_count_24h")] = 2;
	assert_false(notable("sender_amount_mean_24h", 4660.40, 150, &b));
	assert_true(notable("sender_amount_mean_24h", 4660.40, 100, &b));
	assert_false(notable("sender_near_threshold_count_24h", 1, 0.01, &b));
	assert_true(notable("sender_near_threshold_count_24h", 2, 0.01, &b));
	free(all);
}

/* The stacker's logistic regression on a binary input, whose maximum-likelihood answer is
 * known by hand: x = 0 in 10 rows of which 2 fraud, x = 1 in 10 rows of which 8 fraud, so
 * bias = logit(0.2) = ln 0.25 and weight = logit(0.8) - logit(0.2) = ln 16 (the ridge of
 * 1e-6 per row moves them by less than 1e-3). */
static void test_fit_lr(void **state)
{
	double Z[20], w[2];
	int y[20];
	size_t i;

	(void)state;
	for (i = 0; i < 20; i++) {
		Z[i] = i < 10 ? 0.0 : 1.0;
		y[i] = i < 10 ? i < 2 : i < 18;
	}
	assert_int_equal(fit_lr(Z, y, 20, 1, w), 0);
	assert_float_equal(w[0], 2.772588722239781, 1e-3);
	assert_float_equal(w[1], -1.3862943611198906, 1e-3);
	/* separable data stays finite (the ridge) and ordered */
	for (i = 0; i < 20; i++)
		y[i] = i >= 10;
	assert_int_equal(fit_lr(Z, y, 20, 1, w), 0);
	assert_true(isfinite(w[0]) && w[0] > 5);
}

/* A stacker by hand over the rules' inputs (the model has no other layer): z = (points / 100,
 * any hit), w = (2, 1), b = -3. */
/* The written risk: capped, to the hundredth; a threshold is reached by the written risk
 * against the threshold rounded up to the hundredth. */
static void test_risk_round_reaches(void **state)
{
	(void)state;
	assert_float_equal(fd_score_risk_round(42.123), 42.12, 1e-12);
	assert_float_equal(fd_score_risk_round(42.126), 42.13, 1e-12);
	assert_float_equal(fd_score_risk_round(0.004), 0.0, 0);
	assert_float_equal(fd_score_risk_round(-3), 0.0, 0);
	assert_float_equal(fd_score_risk_round(NAN), 0.0, 0);
	assert_float_equal(fd_score_risk_round(99.996), 100.0, 1e-12);
	assert_float_equal(fd_score_risk_round(250), 100.0, 0);
	assert_true(fd_score_risk_reaches(80.00, 80));
	assert_true(fd_score_risk_reaches(80.00, 79.999));       /* -> 80.00 */
	assert_false(fd_score_risk_reaches(79.99, 79.991));      /* -> 80.00 */
	assert_true(fd_score_risk_reaches(80.00, 80.0000000001)); /* within 1e-6 of 80.00 */
	assert_false(fd_score_risk_reaches(80.00, 80.001));      /* -> 80.01 */
	assert_true(fd_score_risk_reaches(1.10, 1.1));           /* 1.1 * 100 is 110.00000000000001 */
	assert_true(fd_score_risk_reaches(0.29, 0.29));          /* 0.29 * 100 is 28.999999999999996 */
	assert_false(fd_score_risk_reaches(0.28, 0.29));
	assert_true(fd_score_risk_reaches(0.0, 0));
	assert_true(fd_score_risk_reaches(0.0, -5));
	assert_true(fd_score_risk_reaches(100.0, 100));
	assert_false(fd_score_risk_reaches(100.0, 100.5));
	assert_false(fd_score_risk_reaches(100.0, INFINITY));
	assert_false(fd_score_risk_reaches(100.0, NAN));
}

static void test_stacked_combine(void **state)
{
	struct fd_model *m = hand_model();
	struct fd_score_layers l;
	struct fd_score_verdict v;
	struct fd_err err;
	double med, high;
	size_t i;

	(void)state;
	m->stack[1].present = 1;
	m->stack[1].k = 2;
	m->stack[1].w[0] = 2;
	m->stack[1].w[1] = 1;
	m->stack[1].bias = -3;
	m->stack[1].risk_medium = 20;
	m->stack[1].risk_high = 30;
	m->stack[1].nq = 101;
	m->stack[1].q = malloc(101 * sizeof(float));
	assert_non_null(m->stack[1].q);
	for (i = 0; i <= 100; i++)
		m->stack[1].q[i] = (float)i;
	m->rows_per_day = 1000;
	/* 50 points and a hit: a = -3 + 1 + 1 = -1, risk = 100 / (1 + e) (python3) */
	layers(&l, m, NAN, NAN, 1, 50, 1, 0);
	fd_score_combine(m, &l, &v);
	assert_float_equal(v.risk_raw, 26.894142136999513, 1e-9);
	assert_float_equal(v.risk, 26.89, 1e-9);
	assert_int_equal(v.level, FD_LEVEL_MEDIUM);
	assert_int_equal(v.decision, FD_DECISION_REVIEW);
	/* thresholds given: 26.89 >= 25 is HIGH */
	fd_score_combine_at(m, &l, 10, 25, &v);
	assert_int_equal(v.level, FD_LEVEL_HIGH);
	/* the written risk 26.89 against HIGH at 26.891: rounded up to 26.90, not reached, although
	 * the unrounded 26.894 is above it — the level follows the printed risk */
	fd_score_combine_at(m, &l, 10, 26.891, &v);
	assert_int_equal(v.level, FD_LEVEL_MEDIUM);
	fd_score_combine_at(m, &l, 10, 26.885, &v);  /* rounded up to 26.89: reached */
	assert_int_equal(v.level, FD_LEVEL_HIGH);
	fd_score_combine_at(m, &l, 10, 26.89 + 1e-9, &v);  /* within 1e-6 of 26.89: reached */
	assert_int_equal(v.level, FD_LEVEL_HIGH);
	/* a block rule: 100 */
	layers(&l, m, NAN, NAN, 1, 100, 1, 1);
	fd_score_combine(m, &l, &v);
	assert_float_equal(v.risk, 100.0, 0);
	assert_int_equal(v.decision, FD_DECISION_BLOCK);
	/* no stacker without rules: the fixed combination (no model layer: risk 0) */
	layers(&l, m, NAN, NAN, 0, 0, 0, 0);
	fd_score_combine(m, &l, &v);
	assert_float_equal(v.risk, 0.0, 0);
	assert_null(fd_score_stacker(m, 0));
	/* --alerts-per-day 10 of 1000 a day: share 0.01; MEDIUM at the quantile 0.99 of 0..100,
	 * HIGH at 0.998 */
	assert_int_equal(fd_score_alert_thresholds(m, 1, 10, &med, &high, &err), FD_OK);
	assert_float_equal(med, 99.0, 1e-9);
	assert_float_equal(high, 99.8, 1e-4);
	assert_int_equal(fd_score_alert_thresholds(m, 1, 600, &med, &high, &err), FD_EUSAGE);
	assert_int_equal(fd_score_alert_thresholds(m, 0, 10, &med, &high, &err), FD_EUSAGE);
	/* the calibrated rate at 99: the quantiles 99 and 100 of 101 */
	assert_float_equal(fd_score_calibrated_rate(m, 1, 99.0), 2.0 / 101.0, 1e-12);
	assert_true(isnan(fd_score_calibrated_rate(m, 0, 99.0)));
	fd_model_free(m);
}

/*
 * drift_bin, the scorer's branchless search, gives fd_model_hist_bin's count for every
 * number of edges a histogram may have, at the edges themselves, between and beyond them,
 * at the infinities, at values a float cannot hold exactly, and -1 for a missing value.
 */
static void test_drift_bin_as_hist_bin(void **state)
{
	static const float edges[FD_MODEL_HIST_BINS - 1] = { -1e30f, -3.5f, -0.0f, 1e-7f, 0.1f, 2.0f, 2.5f, 1000.0f, 3e38f };
	size_t ne, b, k;

	(void)state;
	for (ne = 0; ne <= FD_MODEL_HIST_BINS - 1; ne++) {
		struct fd_feat_hist h;
		struct drift_edges d;
		double v[64];
		size_t nv = 0;

		memset(&h, 0, sizeof(h));
		h.ne = ne;
		for (b = 0; b < ne; b++)
			h.edge[b] = edges[b];
		drift_edges_init(&d, &h);
		v[nv++] = -INFINITY;
		v[nv++] = INFINITY;
		v[nv++] = 0.0;
		v[nv++] = -1e300;
		v[nv++] = 1e300;
		for (b = 0; b < FD_MODEL_HIST_BINS - 1; b++) {
			v[nv++] = edges[b];
			v[nv++] = nextafter((double)edges[b], -INFINITY);
			v[nv++] = nextafter((double)edges[b], INFINITY);
			v[nv++] = 0.1;  /* below the float 0.1f */
		}
		for (k = 0; k < nv; k++)
			assert_int_equal(drift_bin(&d, v[k]), fd_model_hist_bin(&h, v[k]));
		assert_int_equal(drift_bin(&d, NAN), -1);
		/* by hand: with every edge, +inf is past all nine, -inf before all, 2.0 past six */
		if (ne == FD_MODEL_HIST_BINS - 1) {
			assert_int_equal(drift_bin(&d, INFINITY), 9);
			assert_int_equal(drift_bin(&d, -INFINITY), 0);
			assert_int_equal(drift_bin(&d, 2.0), 6);
			assert_int_equal(drift_bin(&d, 0.0), 3);  /* -0 <= 0 */
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drift_bin_as_hist_bin),
		cmocka_unit_test(test_surprises),
		cmocka_unit_test(test_fit_lr),
		cmocka_unit_test(test_stacked_combine),
		cmocka_unit_test(test_risk_round_reaches),
		cmocka_unit_test(test_combine),
		cmocka_unit_test(test_risk_threshold),
		cmocka_unit_test(test_levels_names),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_notable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
