/* fd_score_reasons.c — reasons in words; see fd_score.h. */
#include "fd_score.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#include "fd_num.h"
#include "fd_score_impl.h"
#include "banned.h"

/* ---- numbers in words ------------------------------------------------------------------ */

/* v rounded to decimals in the one number format (fd_num.h): 3912.4 -> "3,912" */
static int add_num(struct fd_buf *b, double v, int decimals)
{
	return fd_num_add(b, v, decimals);
}

/* A whole number below 1000 in full, else with separators. */
static int add_count(struct fd_buf *b, double v)
{
	return add_num(b, v, 0);
}

/* Major units of the transaction's currency: "1,250.00 USD". */
static int add_money(struct fd_buf *b, double major, const struct fd_score_basis *bs)
{
	int e = bs->exponent < 0 ? 2 : bs->exponent > 4 ? 4 : bs->exponent;

	if (add_num(b, major, e))
		return -1;
	return bs->currency[0] ? fd_buf_addf(b, " %s", bs->currency) : 0;
}

/* A ratio: "41.2×", "1,250×". */
static int add_ratio(struct fd_buf *b, double r)
{
	if (add_num(b, r, fabs(r) < 100 ? 1 : 0))
		return -1;
	return fd_buf_adds(b, "\xc3\x97");  /* × */
}

/* A duration in seconds: "12 seconds", "42 minutes", "3.5 hours", "12 days". */
static int add_duration(struct fd_buf *b, double s)
{
	if (isnan(s))
		return fd_buf_adds(b, "an unknown time");
	if (s < 0)
		s = 0;
	if (s < 120)
		return add_count(b, s) || fd_buf_adds(b, lround(s) == 1 ? " second" : " seconds");
	if (s < 7200)
		return add_count(b, s / 60) || fd_buf_adds(b, " minutes");
	if (s < 172800)
		return add_num(b, s / 3600, s < 36000 ? 1 : 0) || fd_buf_adds(b, " hours");
	return add_count(b, s / 86400) || fd_buf_adds(b, " days");
}

static double feat(const struct fd_score_basis *b, const char *name)
{
	int i = fd_feat_lookup(name);

	return i >= 0 && b->all ? b->all[i] : NAN;
}

static double amount_major(const struct fd_score_basis *b)
{
	return (double)b->amount / pow(10.0, b->exponent);
}

static const struct phrase phrases[] = {
	{"hour", K_HOUR, NULL, NULL},
	{"local_hour", K_LOCAL_HOUR, NULL, NULL},
	{"day_of_week", K_DOW, NULL, NULL},
	{"is_weekend", K_WEEKEND, NULL, NULL},
	{"is_night", K_NIGHT, NULL, NULL},
	{"secs_since_last", K_SECS_LAST, NULL, NULL},
	{"days_since_last", K_DAYS_LAST, NULL, NULL},
	{"sender_age_days", K_AGE, NULL, NULL},
	{"amount", K_AMOUNT, NULL, NULL},
	{"log_amount", K_AMOUNT, NULL, NULL},
	{"is_reversal", K_REVERSAL, NULL, NULL},
	{"amount_zscore", K_ZSCORE, NULL, NULL},
	{"amount_to_max_ratio", K_TO_MAX, NULL, NULL},
	{"amount_percentile_20", K_PCTL, NULL, NULL},
	{"amount_to_mean_7d", K_TO_MEAN, "7-day", NULL},
	{"amount_to_mean_30d", K_TO_MEAN, "30-day", NULL},
	{"amount_dev_7d", K_DEV, "7-day", NULL},
	{"amount_dev_30d", K_DEV, "30-day", NULL},
	{"is_round_amount", K_ROUND, NULL, NULL},
	{"is_just_below_threshold", K_BELOW_THR, NULL, NULL},
	{"sender_txn_count_30s", K_COUNT, "30 seconds", NULL},
	{"sender_txn_count_5m", K_COUNT, "5 minutes", NULL},
	{"sender_txn_count_10m", K_COUNT, "10 minutes", NULL},
	{"sender_txn_count_1h", K_COUNT, "an hour", NULL},
	{"sender_txn_count_24h", K_COUNT, "24 hours", NULL},
	{"sender_txn_count_7d", K_COUNT, "7 days", NULL},
	{"sender_txn_count_30d", K_COUNT, "30 days", NULL},
	{"sender_amount_sum_30s", K_SUM, "30 seconds", NULL},
	{"sender_amount_sum_5m", K_SUM, "5 minutes", NULL},
	{"sender_amount_sum_10m", K_SUM, "10 minutes", NULL},
	{"sender_amount_sum_1h", K_SUM, "an hour", NULL},
	{"sender_amount_sum_24h", K_SUM, "24 hours", NULL},
	{"sender_amount_sum_7d", K_SUM, "7 days", NULL},
	{"sender_amount_sum_30d", K_SUM, "30 days", NULL},
	{"sender_near_threshold_count_24h", K_NEAR_THR, NULL, NULL},
	{"new_merchant", K_NEW, "a merchant", NULL},
	{"new_device", K_NEW, "a device", NULL},
	{"new_ip", K_NEW, "an IP address", NULL},
	{"new_recipient", K_NEW, "a recipient", NULL},
	{"new_country", K_NEW, "a country", NULL},
	{"recipient_txn_count_30d", K_RCPT30, NULL, NULL},
	{"geo_distance_km", K_GEO_DIST, NULL, NULL},
	{"geo_speed_kmh", K_GEO_SPEED, NULL, NULL},
	{"mins_since_prev_geo", K_MINS_GEO, NULL, NULL},
	{"dist_from_usual_km", K_DIST_USUAL, NULL, NULL},
	{"is_foreign", K_FOREIGN, NULL, NULL},
	{"foreign_share", K_FOREIGN_SHARE, NULL, NULL},
	{"recipient_txn_count", K_RCPT_COUNT, NULL, NULL},
	{"recipient_sender_count", K_RCPT_SENDERS, NULL, NULL},
	{"merchant_txn_count", K_MERCH_COUNT, NULL, NULL},
	{"merchant_fraud_rate", K_MERCH_FRAUD, NULL, NULL},
	{"device_sender_count", K_DEV_SENDERS, NULL, NULL},
	{"ip_sender_count", K_IP_SENDERS, NULL, NULL},
	{"sender_device_count", K_SENDER_DEVICES, NULL, NULL},
	{"channel_card", K_CHANNEL, "card", NULL},
	{"channel_transfer", K_CHANNEL, "transfer", NULL},
	{"channel_atm", K_CHANNEL, "atm", NULL},
	{"channel_online", K_CHANNEL, "online", NULL},
	{"channel_mobile", K_CHANNEL, "mobile", NULL},
	{"channel_other", K_CHANNEL, "other", NULL},
	{"is_high_risk_category", K_HIGH_RISK, NULL, NULL},
	{"sender_amount_mean_24h", K_WMEAN, "24 hours", NULL},
	{"sender_amount_mean_7d", K_WMEAN, "7 days", NULL},
	{"sender_amount_mean_30d", K_WMEAN, "30 days", NULL},
	{"amount_zscore_24h", K_WZSCORE, "24 hours", NULL},
	{"amount_zscore_7d", K_WZSCORE, "7 days", NULL},
	{"amount_zscore_30d", K_WZSCORE, "30 days", NULL},
	{"merchant_known_txns_1d", K_KNOWN_TXNS, "merchant", "a day"},
	{"merchant_known_txns_7d", K_KNOWN_TXNS, "merchant", "7 days"},
	{"merchant_known_txns_30d", K_KNOWN_TXNS, "merchant", "30 days"},
	{"merchant_known_frauds_1d", K_KNOWN_FRAUDS, "merchant", "a day"},
	{"merchant_known_frauds_7d", K_KNOWN_FRAUDS, "merchant", "7 days"},
	{"merchant_known_frauds_30d", K_KNOWN_FRAUDS, "merchant", "30 days"},
	{"merchant_fraud_share_1d", K_FRAUD_SHARE, "merchant", "a day"},
	{"merchant_fraud_share_7d", K_FRAUD_SHARE, "merchant", "7 days"},
	{"merchant_fraud_share_30d", K_FRAUD_SHARE, "merchant", "30 days"},
	{"recipient_known_txns_1d", K_KNOWN_TXNS, "recipient", "a day"},
	{"recipient_known_txns_7d", K_KNOWN_TXNS, "recipient", "7 days"},
	{"recipient_known_txns_30d", K_KNOWN_TXNS, "recipient", "30 days"},
	{"recipient_known_frauds_1d", K_KNOWN_FRAUDS, "recipient", "a day"},
	{"recipient_known_frauds_7d", K_KNOWN_FRAUDS, "recipient", "7 days"},
	{"recipient_known_frauds_30d", K_KNOWN_FRAUDS, "recipient", "30 days"},
	{"recipient_fraud_share_1d", K_FRAUD_SHARE, "recipient", "a day"},
	{"recipient_fraud_share_7d", K_FRAUD_SHARE, "recipient", "7 days"},
	{"recipient_fraud_share_30d", K_FRAUD_SHARE, "recipient", "30 days"},
	{"days_since_merchant_first_fraud", K_FIRST_FRAUD, "merchant", NULL},
};

const struct phrase *fd_score_phrase_of(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
		if (strcmp(phrases[i].name, name) == 0)
			return &phrases[i];
	return NULL;
}

/* Each catalog feature's phrase (NULL: none), found once: fd-score asks for every candidate
 * reason of every row that has reasons, and a search by name cost some 3% of its time. */
#define PHRASE_CAT_MAX 512
static const struct phrase *phrase_cat[PHRASE_CAT_MAX];
static size_t phrase_ncat;  /* 0: the catalog is larger, search by name */
static pthread_once_t phrase_once = PTHREAD_ONCE_INIT;

static void phrase_cat_init(void)
{
	const struct fd_feat_def *defs;
	size_t i, n = fd_feat_catalog(&defs);

	if (n > PHRASE_CAT_MAX)
		return;
	for (i = 0; i < n; i++)
		phrase_cat[i] = fd_score_phrase_of(defs[i].name);
	phrase_ncat = n;
}

/* The phrase of catalog feature cat, named name. */
static const struct phrase *phrase_at(int cat, const char *name)
{
	pthread_once(&phrase_once, phrase_cat_init);
	if (cat >= 0 && (size_t)cat < phrase_ncat)
		return phrase_cat[cat];
	return fd_score_phrase_of(name);
}

/* ", typically T over all senders" */
static int add_typical(struct fd_buf *o, double typical, int decimals)
{
	if (isnan(typical))
		return 0;
	return fd_buf_adds(o, " (typically ") || add_num(o, typical, decimals) ||
	       fd_buf_adds(o, " over all senders)");
}

/* "amount 1,250.00 USD" */
static int add_amount_words(struct fd_buf *o, const struct fd_score_basis *b)
{
	return fd_buf_adds(o, "amount ") || add_money(o, amount_major(b), b);
}

static int add_count_word(struct fd_buf *o, double v, const char *one, const char *many)
{
	return add_count(o, v) || fd_buf_addf(o, " %s", lround(v) == 1 ? one : many);
}

int fd_score_feature_reason(int cat, double v, double typical, const struct fd_score_basis *b,
			    struct fd_buf *o)
{
	static const char *const days[7] = { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
					     "Saturday", "Sunday" };
	const struct fd_feat_def *defs;
	size_t ncat = fd_feat_catalog(&defs);
	const char *name = cat >= 0 && (size_t)cat < ncat ? defs[cat].name : "feature";
	const struct phrase *ph = phrase_at(cat, name);
	double mean30 = b->ctx.sender_mean_30d, x;
	int bad = 0;

	switch (ph ? ph->kind : K_GENERIC) {
	case K_HOUR:
		bad = fd_buf_addf(o, "at %ldh UTC", lround(v));
		break;
	case K_LOCAL_HOUR:
		/* say which clock: the export's zone, the sun's at a place, or UTC */
		switch (b->ctx.local_clock) {
		case FD_CLOCK_ZONE:
			bad = fd_buf_addf(o, "at %ldh local time (%s)", lround(v),
					  b->ctx.zone_name ? b->ctx.zone_name : "the export's zone");
			break;
		case FD_CLOCK_SOLAR:
			bad = fd_buf_addf(o, "at %ldh solar time at the transaction's place", lround(v));
			break;
		case FD_CLOCK_SOLAR_USUAL:
			bad = fd_buf_addf(o, "at %ldh solar time at the sender's usual place", lround(v));
			break;
		default:
			bad = fd_buf_addf(o, "at %ldh UTC (no zone or place known)", lround(v));
		}
		break;
	case K_DOW:
		bad = v >= 0 && v < 7 ? fd_buf_addf(o, "on a %s", days[(int)v]) : fd_buf_adds(o, "day unknown");
		break;
	case K_WEEKEND:
		bad = fd_buf_adds(o, v >= 0.5 ? "on a weekend" : "on a weekday");
		break;
	case K_NIGHT:
		x = feat(b, "hour");
		if (isnan(x))
			x = (double)((b->ts / 3600000 % 24 + 24) % 24);
		bad = fd_buf_addf(o, v >= 0.5 ? "at night (%ldh UTC)" : "in the daytime (%ldh UTC)", lround(x));
		break;
	case K_SECS_LAST:
		if (isnan(v))
			bad = fd_buf_adds(o, "the sender's first transaction");
		else
			bad = add_duration(o, v) || fd_buf_adds(o, " after the sender's previous transaction");
		break;
	case K_DAYS_LAST:
		if (isnan(v))
			bad = fd_buf_adds(o, "the sender's first transaction");
		else
			bad = fd_buf_adds(o, "first transaction from the sender in ") || add_duration(o, v * 86400);
		break;
	case K_AGE:
		if (v < 1.0 / 1440)
			bad = fd_buf_adds(o, "a sender seen for the first time");
		else
			bad = fd_buf_adds(o, "a sender first seen ") || add_duration(o, v * 86400) ||
			      fd_buf_adds(o, " ago");
		break;
	case K_AMOUNT:
		bad = add_amount_words(o, b);
		if (mean30 > 0)
			bad = bad || fd_buf_adds(o, ", ") || add_ratio(o, amount_major(b) / mean30) ||
			      fd_buf_adds(o, " this sender's 30-day mean of ") || add_money(o, mean30, b);
		else
			bad = bad || fd_buf_adds(o, ", no earlier amounts from this sender in 30 days");
		break;
	case K_REVERSAL:
		bad = v >= 0.5 ? fd_buf_adds(o, "a reversal (") || add_amount_words(o, b) || fd_buf_addc(o, ')')
			       : add_amount_words(o, b) || fd_buf_adds(o, ", not a reversal");
		break;
	case K_ZSCORE:
		bad = add_amount_words(o, b) || fd_buf_adds(o, ", ") || add_num(o, fabs(v), 1) ||
		      fd_buf_adds(o, v >= 0 ? " standard deviations above" : " standard deviations below") ||
		      fd_buf_adds(o, " this sender's mean");
		break;
	case K_TO_MAX:
		bad = add_amount_words(o, b) || fd_buf_adds(o, ", ") || add_ratio(o, v) ||
		      fd_buf_adds(o, " this sender's largest earlier amount");
		break;
	case K_PCTL:
		bad = add_amount_words(o, b) || fd_buf_adds(o, ", above ") || add_num(o, 100 * v, 0) ||
		      fd_buf_adds(o, "% of this sender's last 20 amounts");
		break;
	case K_TO_MEAN:
		bad = add_amount_words(o, b) || fd_buf_adds(o, ", ") || add_ratio(o, v) ||
		      fd_buf_addf(o, " this sender's %s mean", ph->arg);
		if (v > 0 && isfinite(v))
			bad = bad || fd_buf_adds(o, " of ") || add_money(o, amount_major(b) / v, b);
		break;
	case K_DEV:
		bad = add_amount_words(o, b) || fd_buf_adds(o, ", ") || add_money(o, fabs(v), b) ||
		      fd_buf_addf(o, " %s this sender's %s mean of ", v >= 0 ? "above" : "below", ph->arg) ||
		      add_money(o, amount_major(b) - v, b);
		break;
	case K_ROUND:
		bad = v >= 0.5 ? fd_buf_adds(o, "a round ") || add_amount_words(o, b)
			       : add_amount_words(o, b) || fd_buf_adds(o, ", not a round figure");
		break;
	case K_BELOW_THR:
		bad = add_amount_words(o, b) ||
		      fd_buf_adds(o, v >= 0.5 ? ", just below the 10,000 reporting threshold"
					      : ", not just below the 10,000 reporting threshold");
		break;
	case K_COUNT:
		bad = add_count_word(o, v, "transaction", "transactions") ||
		      fd_buf_addf(o, " from the sender in %s", ph->arg);
		x = feat(b, "sender_txn_count_30d");
		if (!isnan(x) && strcmp(ph->name, "sender_txn_count_30d") != 0)
			bad = bad || fd_buf_adds(o, " (") || add_count(o, x) || fd_buf_adds(o, " in 30 days)");
		else
			bad = bad || add_typical(o, typical, 1);
		break;
	case K_SUM:
		bad = add_money(o, v, b) || fd_buf_addf(o, " sent by the sender in %s", ph->arg);
		if (mean30 > 0)
			bad = bad || fd_buf_adds(o, " (30-day mean per transaction ") || add_money(o, mean30, b) ||
			      fd_buf_addc(o, ')');
		break;
	case K_NEAR_THR:
		bad = (v == 0 ? fd_buf_adds(o, "no amounts") : add_count_word(o, v, "amount", "amounts")) ||
		      fd_buf_adds(o, " between 9,000 and 10,000 from the sender in 24 hours");
		break;
	case K_NEW:
		if (isnan(v))
			bad = fd_buf_addf(o, "no %s given", strchr(ph->arg, ' ') + 1);
		else
			bad = fd_buf_addf(o, v >= 0.5 ? "%s new to this sender" : "%s this sender has used before",
					  ph->arg);
		break;
	case K_RCPT30:
		bad = fd_buf_adds(o, "recipient received ") || add_count_word(o, v, "transaction", "transactions") ||
		      fd_buf_adds(o, " in 30 days") || add_typical(o, typical, 1);
		break;
	case K_GEO_DIST:
		if (isnan(v)) {
			bad = fd_buf_adds(o, "no earlier located transaction");
			break;
		}
		bad = add_count(o, v) || fd_buf_adds(o, " km from the previous transaction");
		if (b->ctx.prev_geo_ts >= 0 && !isnan(b->ctx.prev_lat))
			bad = bad || fd_buf_addc(o, ' ') ||
			      add_duration(o, (double)(b->ts - b->ctx.prev_geo_ts) / 1000.0) ||
			      fd_buf_adds(o, " earlier");
		break;
	case K_GEO_SPEED:
		if (isnan(v)) {
			bad = fd_buf_adds(o, "no earlier located transaction");
			break;
		}
		bad = add_count(o, v) || fd_buf_adds(o, " km/h from the previous located transaction");
		x = feat(b, "geo_distance_km");
		if (!isnan(x))
			bad = bad || fd_buf_adds(o, " (") || add_count(o, x) || fd_buf_adds(o, " km)");
		break;
	case K_MINS_GEO:
		if (isnan(v))
			bad = fd_buf_adds(o, "no earlier located transaction");
		else
			bad = add_duration(o, v * 60) || fd_buf_adds(o, " after the previous located transaction");
		break;
	case K_DIST_USUAL:
		if (isnan(v))
			bad = fd_buf_adds(o, "no earlier located transaction");
		else
			bad = add_count(o, v) || fd_buf_adds(o, " km from where this sender usually transacts");
		break;
	case K_FOREIGN:
		bad = fd_buf_adds(o, v >= 0.5 ? "outside this sender's home country"
					      : "in this sender's home country");
		break;
	case K_FOREIGN_SHARE:
		bad = add_num(o, 100 * v, 0) || fd_buf_adds(o, "% of this sender's earlier transactions abroad");
		if (!isnan(typical))
			bad = bad || fd_buf_adds(o, " (typically ") || add_num(o, 100 * typical, 0) ||
			      fd_buf_adds(o, "%)");
		break;
	case K_RCPT_COUNT:
		bad = fd_buf_adds(o, "recipient paid ") || add_count_word(o, v, "time", "times") ||
		      fd_buf_adds(o, " before by all senders") || add_typical(o, typical, 0);
		break;
	case K_RCPT_SENDERS:
		bad = fd_buf_adds(o, "recipient paid by ") || add_count_word(o, v, "sender", "different senders") ||
		      add_typical(o, typical, 1);
		break;
	case K_MERCH_COUNT:
		bad = fd_buf_adds(o, "merchant seen ") || add_count_word(o, v, "time", "times") ||
		      fd_buf_adds(o, " before") || add_typical(o, typical, 0);
		break;
	case K_MERCH_FRAUD:
		bad = fd_buf_adds(o, "merchant's known fraud rate ") || add_num(o, 100 * v, 1) ||
		      fd_buf_addc(o, '%');
		if (!isnan(typical))
			bad = bad || fd_buf_adds(o, " (typically ") || add_num(o, 100 * typical, 1) ||
			      fd_buf_adds(o, "%)");
		break;
	case K_DEV_SENDERS:
		bad = fd_buf_adds(o, "device used by ") || add_count_word(o, v, "sender", "different senders") ||
		      add_typical(o, typical, 1);
		break;
	case K_IP_SENDERS:
		bad = fd_buf_adds(o, "IP address used by ") || add_count_word(o, v, "sender", "different senders") ||
		      add_typical(o, typical, 1);
		break;
	case K_SENDER_DEVICES:
		bad = fd_buf_adds(o, "sender has used ") || add_count_word(o, v, "device", "devices") ||
		      add_typical(o, typical, 1);
		break;
	case K_CHANNEL:
		bad = fd_buf_addf(o, v >= 0.5 ? "channel %s" : "a channel other than %s", ph->arg);
		if (!isnan(typical))
			bad = bad || fd_buf_adds(o, " (") || add_num(o, 100 * typical, 0) ||
			      fd_buf_addf(o, "%% of all transactions are %s)", ph->arg);
		break;
	case K_HIGH_RISK:
		bad = fd_buf_adds(o, v >= 0.5 ? "a high-risk merchant category" : "not a high-risk merchant category");
		break;
	case K_WMEAN:
		bad = fd_buf_addf(o, "the sender's mean amount over %s ", ph->arg) || add_money(o, v, b);
		if (!isnan(typical))
			bad = bad || fd_buf_adds(o, " (typically ") || add_money(o, typical, b) ||
			      fd_buf_adds(o, " over all senders)");
		break;
	case K_WZSCORE:
		bad = add_amount_words(o, b) || fd_buf_adds(o, ", ") || add_num(o, fabs(v), 1) ||
		      fd_buf_adds(o, v >= 0 ? " standard deviations above" : " standard deviations below") ||
		      fd_buf_addf(o, " this sender's mean over %s", ph->arg);
		break;
	case K_KNOWN_TXNS:
		bad = fd_buf_addf(o, "%s had ", ph->arg) ||
		      add_count_word(o, v, "transaction", "transactions") ||
		      fd_buf_addf(o, " with a known outcome in %s", ph->win) || add_typical(o, typical, 0);
		break;
	case K_KNOWN_FRAUDS:
		bad = add_count_word(o, v, "known fraud", "known frauds") ||
		      fd_buf_addf(o, " at the %s in %s", ph->arg, ph->win);
		break;
	case K_FRAUD_SHARE:
		bad = fd_buf_addf(o, "%s's known fraud share ", ph->arg) || add_num(o, 100 * v, 1) ||
		      fd_buf_addf(o, "%% in %s", ph->win);
		if (!isnan(typical))
			bad = bad || fd_buf_adds(o, " (typically ") || add_num(o, 100 * typical, 1) ||
			      fd_buf_adds(o, "%)");
		break;
	case K_FIRST_FRAUD:
		bad = fd_buf_addf(o, "the %s's first known fraud ", ph->arg) || add_duration(o, v * 86400) ||
		      fd_buf_adds(o, " ago");
		break;
	case K_GENERIC:
	default:
		bad = fd_buf_addf(o, "%s ", name) || add_num(o, v, fabs(v) < 10 ? 2 : 0) ||
		      add_typical(o, typical, fabs(typical) < 10 ? 2 : 0);
		break;
	}
	return bad ? -1 : 0;
}

/*
 * Whether a fact is unusual enough in words to be a reason (fd_score.h, REASONS: the
 * thresholds are documented there and in fd-score(1)).  A feature can raise a model's risk
 * and still say nothing an investigator can act on: the transaction itself counted in a
 * window, an amount below the sender's mean, the channel most traffic uses.
 */
int fd_score_feature_notable(int cat, double v, double typical, const struct fd_score_basis *b)
{
	const struct fd_feat_def *defs;
	size_t ncat = fd_feat_catalog(&defs);
	const char *name = cat >= 0 && (size_t)cat < ncat ? defs[cat].name : "feature";
	const struct phrase *ph = phrase_at(cat, name);
	const double r = FD_REASON_RATIO, amt = amount_major(b), mean30 = b->ctx.sender_mean_30d;
	double x;

	if (isnan(v))
		return 0;  /* an undefined value says nothing */
	switch (ph ? ph->kind : K_GENERIC) {
	case K_HOUR:
	case K_NIGHT:
		/* the UTC clock is a reason only where no local clock says otherwise */
		x = feat(b, "local_hour");
		if (!isnan(x))
			return lround(x) < FD_REASON_NIGHT_END;
		return ph->kind == K_NIGHT ? v >= 0.5 : lround(v) < FD_REASON_NIGHT_END;
	case K_LOCAL_HOUR:
		return lround(v) < FD_REASON_NIGHT_END;
	case K_DOW:
		return 0;  /* a day of the week is a seventh of all traffic */
	case K_WEEKEND:
		/* like a channel: a weekend day is no reason where weekends are common */
		return v >= 0.5 && (isnan(typical) || typical <= FD_REASON_RARE_SHARE);
	case K_REVERSAL: case K_ROUND: case K_BELOW_THR: case K_NEW:
	case K_FOREIGN: case K_HIGH_RISK:
		return v >= 0.5;  /* a flag speaks only when it is on */
	case K_SECS_LAST:
		return v < FD_REASON_QUICK_S;
	case K_DAYS_LAST:
		return v >= FD_REASON_DORMANT_DAYS;
	case K_AGE:
		return v < FD_REASON_NEW_SENDER_DAYS;
	case K_AMOUNT:
		if (mean30 > 0)
			return amt >= r * mean30;
		if (isnan(typical))
			return 1;
		/* no history of its own: against all senders (log_amount on its own scale) */
		return strcmp(name, "log_amount") == 0 ? v >= typical + log(r) : v >= r * typical;
	case K_ZSCORE: case K_WZSCORE:
		return v >= FD_REASON_ZSCORE;
	case K_TO_MAX:
		return v >= FD_REASON_MAX_RATIO;
	case K_PCTL:
		return v >= FD_REASON_PERCENTILE;
	case K_TO_MEAN:
		return v >= r;
	case K_DEV:
		return v > 0 && 2 * v >= amt;  /* the amount at least twice the mean (amount - v) */
	case K_COUNT: case K_RCPT30: case K_RCPT_SENDERS: case K_DEV_SENDERS: case K_IP_SENDERS:
	case K_SENDER_DEVICES:
		/* a count of 1 is the transaction (or the sender) itself */
		return v >= 2 && (isnan(typical) || v >= r * typical);
	case K_SUM:
		/* what the window holds besides this transaction must itself be unusual: else the
		 * sentence only repeats the amount */
		x = v - amt;
		return x >= 0.5 * pow(10.0, -b->exponent) && (isnan(typical) || x >= r * typical);
	case K_WMEAN:
		/* the mean of the window's other transactions (this one is included) must be
		 * unusual, else the sentence only repeats the amount: it needs their count */
		x = feat(b, strcmp(ph->arg, "24 hours") == 0 ? "sender_txn_count_24h"
			    : strcmp(ph->arg, "7 days") == 0 ? "sender_txn_count_7d" : "sender_txn_count_30d");
		if (!(x >= 2))
			return 0;
		x = (v * x - amt) / (x - 1);
		return isnan(typical) || x >= r * typical;
	case K_NEAR_THR:
		return v >= 2;
	case K_GEO_DIST:
		/* far, and sooner than travel at FD_REASON_FAST_KMH allows */
		if (!(v >= FD_REASON_FAR_KM))
			return 0;
		if (b->ctx.prev_geo_ts < 0 || b->ts <= b->ctx.prev_geo_ts)
			return 1;
		return v / ((double)(b->ts - b->ctx.prev_geo_ts) / 3600000.0) >= FD_REASON_FAST_KMH;
	case K_DIST_USUAL:
		return v >= FD_REASON_FAR_KM;
	case K_GEO_SPEED:
		return v >= FD_REASON_FAST_KMH;
	case K_MINS_GEO:
		x = feat(b, "geo_distance_km");
		return v < 60 && x >= FD_REASON_FAR_KM;
	case K_FOREIGN_SHARE:
		return 0;  /* the sender's habit, not this transaction's (is_foreign says that) */
	case K_MERCH_FRAUD: case K_FRAUD_SHARE:
		return v > 0 && (isnan(typical) || v >= r * typical);
	case K_RCPT_COUNT: case K_MERCH_COUNT:
		/* a party rarely seen before: a tenth of the usual or less */
		return v <= FD_REASON_RARE_PARTY && !isnan(typical) && v * 10 <= typical;
	case K_KNOWN_TXNS:
		return 0;  /* the denominator of a fraud share, not a fact about risk */
	case K_KNOWN_FRAUDS:
		return v >= 1;
	case K_FIRST_FRAUD:
		return 1;
	case K_CHANNEL:
		return v >= 0.5 && (isnan(typical) || typical <= FD_REASON_RARE_SHARE);
	case K_GENERIC:
	default:
		return 1;
	}
}
