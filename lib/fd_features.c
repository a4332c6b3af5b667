/*
 * fd_features.c — the point-in-time feature engine.  See fd_features.h; every formula is in
 * man/fd-features.1.
 *
 * Shape of the state (all of it keyed by dense ids from one fd_intern table per entity kind):
 *  - per sender: a ring of the sender's transactions still inside the longest selected
 *    window (ts and amount), with one head per window and one running sum per window, so a
 *    push advances each head past what fell out of its window (each entry passes each head
 *    once: amortised O(1) per window per push, no rescan); plus all-history statistics
 *    (Welford mean and variance, maximum, the last 20 amounts), the previous located
 *    transaction, a centroid of located transactions and country counts;
 *  - per recipient: a ring of timestamps over 30 days, a total and a distinct-sender count;
 *  - per merchant, device, IP: totals, label counts, distinct-sender counts;
 *  - (sender, entity) pairs per kind in open-addressing sets of 64-bit keys: the novelty
 *    flags and the distinct-sender counts come from the same insertion;
 *  - labels waiting to become visible: a FIFO (ts + delay is non-decreasing because pushes
 *    are in time order and the delay is one constant, so no heap is needed).
 * Amounts inside the state are fixed point with 4 decimals (minor units scaled to 10^-4
 * major units) so that window sums are exact integers: subtracting what leaves a window
 * gives exactly the sum of what is in it, whatever the history.
 *
 * Speed: a push is bound by cache misses on the per-entity state, so step() first resolves
 * every entity id and prefetches what it will touch, and the common cases are answered from
 * the sender's own record: the previous device, IP and recipient (memo), the entities it
 * pairs with often (recent lists), the count of its home country.  Each shortcut is exact:
 * it only ever says what the global sets would say.
 */
#include "fd_features.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fd_intern.h"
#include "fd_tz.h"
#include "banned.h"

/* ---- the catalog ----------------------------------------------------------------------- */

#define NWIN 7
static const int64_t win_ms[NWIN] = {
	30000LL, 300000LL, 600000LL, 3600000LL, 86400000LL, 604800000LL, 2592000000LL,
};
enum { W30S, W5M, W10M, W1H, W24H, W7D, W30D };

/* The sender windows with a mean and a z-score: 24 h, 7 d, 30 d (win_ms[W24H + i]). */
#define NSW 3
/* The delayed-label windows of merchants and recipients: 1, 7, 30 days before t - delay. */
#define NKW 3
static const int64_t kwin_ms[NKW] = { FD_DAY_MS, 7 * FD_DAY_MS, 30 * FD_DAY_MS };
#define TS_LIMIT (1LL << 53)          /* |ts| beyond this (285,000 years) is refused: time
					 differences then never overflow and stay exact as doubles */
#define LASTN 20
#define FX_SCALE 10000LL              /* fixed point: 4 decimals of the major unit */
#define NEAR_LO (9000LL * FX_SCALE)   /* "just below the 10,000 threshold": [9000, 10000) */
#define NEAR_HI (10000LL * FX_SCALE)
#define EARTH_R_KM 6371.0088          /* the radius fd_haversine_km uses */

enum feat {
	/* temporal */
	F_HOUR, F_DOW, F_WEEKEND, F_NIGHT, F_LOCAL_HOUR, F_SECS_LAST, F_DAYS_LAST, F_AGE_DAYS,
	/* amount */
	F_AMOUNT, F_LOG_AMOUNT, F_REVERSAL, F_ZSCORE, F_TO_MAX, F_PCTILE, F_TO_MEAN_7D,
	F_TO_MEAN_30D, F_DEV_7D, F_DEV_30D, F_ROUND, F_JUST_BELOW,
	/* velocity */
	F_CNT0, F_SUM0 = F_CNT0 + NWIN, F_NEAR_24H = F_SUM0 + NWIN,
	/* novelty */
	F_NEW_MERCHANT, F_NEW_DEVICE, F_NEW_IP, F_NEW_RECIPIENT, F_NEW_COUNTRY, F_RCP_CNT_30D,
	/* geography */
	F_GEO_DIST, F_GEO_SPEED, F_GEO_MINS, F_DIST_USUAL, F_IS_FOREIGN, F_FOREIGN_SHARE,
	/* network */
	F_RCP_CNT, F_RCP_SENDERS, F_MER_CNT, F_MER_FRAUD, F_DEV_SENDERS, F_IP_SENDERS, F_SND_DEVICES,
	/* encoding */
	F_CH_CARD, F_CH_TRANSFER, F_CH_ATM, F_CH_ONLINE, F_CH_MOBILE, F_CH_OTHER, F_HIGH_RISK_CAT,
	/* windowed amount statistics (amount) */
	F_MEAN0, F_WZ0 = F_MEAN0 + NSW,
	/* delayed-label risk of the merchant and the recipient (network) */
	F_MK_TXN0 = F_WZ0 + NSW, F_MK_FR0 = F_MK_TXN0 + NKW, F_MK_SH0 = F_MK_FR0 + NKW,
	F_RK_TXN0 = F_MK_SH0 + NKW, F_RK_FR0 = F_RK_TXN0 + NKW, F_RK_SH0 = F_RK_FR0 + NKW,
	F_MER_FIRST_FRAUD = F_RK_SH0 + NKW,
	NFEAT
};

static const struct fd_feat_def catalog[NFEAT] = {
	[F_HOUR] = { "hour", "temporal", "hour of day of ts, UTC (0-23)" },
	[F_DOW] = { "day_of_week", "temporal", "day of week of ts, UTC (0 Monday .. 6 Sunday)" },
	[F_WEEKEND] = { "is_weekend", "temporal", "1 on Saturday or Sunday (UTC), else 0" },
	[F_NIGHT] = { "is_night", "temporal", "1 when the UTC hour is 0-5, else 0" },
	[F_LOCAL_HOUR] = { "local_hour", "temporal",
		"hour of day on the export's wall clock when its zone is known (--tz), else in solar time at the transaction's longitude, else at the sender's usual location, else UTC" },
	[F_SECS_LAST] = { "secs_since_last", "temporal",
		"seconds since the sender's previous transaction; NaN on its first" },
	[F_DAYS_LAST] = { "days_since_last", "temporal",
		"days since the sender's previous transaction (dormancy); NaN on its first" },
	[F_AGE_DAYS] = { "sender_age_days", "temporal",
		"days since the sender's first transaction; 0 on its first" },
	[F_AMOUNT] = { "amount", "amount", "amount in major units (amount / 10^exponent)" },
	[F_LOG_AMOUNT] = { "log_amount", "amount", "sign(amount) * ln(1 + |amount|)" },
	[F_REVERSAL] = { "is_reversal", "amount", "1 when the amount is negative, else 0" },
	[F_ZSCORE] = { "amount_zscore", "amount",
		"(amount - mean) / sd over all the sender's earlier amounts; NaN if <2 or sd 0" },
	[F_TO_MAX] = { "amount_to_max_ratio", "amount",
		"amount / the largest of the sender's earlier amounts; NaN if none or max <= 0" },
	[F_PCTILE] = { "amount_percentile_20", "amount",
		"share of the sender's last 20 earlier amounts below amount (ties half); NaN if none" },
	[F_TO_MEAN_7D] = { "amount_to_mean_7d", "amount",
		"amount / mean of the sender's earlier amounts in 7 d; NaN if none or mean <= 0" },
	[F_TO_MEAN_30D] = { "amount_to_mean_30d", "amount",
		"amount / mean of the sender's earlier amounts in 30 d; NaN if none or mean <= 0" },
	[F_DEV_7D] = { "amount_dev_7d", "amount",
		"amount - mean of the sender's earlier amounts in 7 d; NaN if none" },
	[F_DEV_30D] = { "amount_dev_30d", "amount",
		"amount - mean of the sender's earlier amounts in 30 d; NaN if none" },
	[F_ROUND] = { "is_round_amount", "amount",
		"1 when the amount is a nonzero multiple of 100 major units, else 0" },
	[F_JUST_BELOW] = { "is_just_below_threshold", "amount",
		"1 when 9,000 <= amount < 10,000 major units (within 10% below 10,000), else 0" },
	[F_CNT0 + W30S] = { "sender_txn_count_30s", "velocity",
		"the sender's transactions in the last 30 s, this one included" },
	[F_CNT0 + W5M] = { "sender_txn_count_5m", "velocity",
		"the sender's transactions in the last 5 min, this one included" },
	[F_CNT0 + W10M] = { "sender_txn_count_10m", "velocity",
		"the sender's transactions in the last 10 min, this one included" },
	[F_CNT0 + W1H] = { "sender_txn_count_1h", "velocity",
		"the sender's transactions in the last hour, this one included" },
	[F_CNT0 + W24H] = { "sender_txn_count_24h", "velocity",
		"the sender's transactions in the last 24 h, this one included" },
	[F_CNT0 + W7D] = { "sender_txn_count_7d", "velocity",
		"the sender's transactions in the last 7 days, this one included" },
	[F_CNT0 + W30D] = { "sender_txn_count_30d", "velocity",
		"the sender's transactions in the last 30 days, this one included" },
	[F_SUM0 + W30S] = { "sender_amount_sum_30s", "velocity",
		"sum of the sender's amounts in the last 30 s, this one included" },
	[F_SUM0 + W5M] = { "sender_amount_sum_5m", "velocity",
		"sum of the sender's amounts in the last 5 min, this one included" },
	[F_SUM0 + W10M] = { "sender_amount_sum_10m", "velocity",
		"sum of the sender's amounts in the last 10 min, this one included" },
	[F_SUM0 + W1H] = { "sender_amount_sum_1h", "velocity",
		"sum of the sender's amounts in the last hour, this one included" },
	[F_SUM0 + W24H] = { "sender_amount_sum_24h", "velocity",
		"sum of the sender's amounts in the last 24 h, this one included" },
	[F_SUM0 + W7D] = { "sender_amount_sum_7d", "velocity",
		"sum of the sender's amounts in the last 7 days, this one included" },
	[F_SUM0 + W30D] = { "sender_amount_sum_30d", "velocity",
		"sum of the sender's amounts in the last 30 days, this one included" },
	[F_NEAR_24H] = { "sender_near_threshold_count_24h", "velocity",
		"the sender's transactions in 24 h with 9,000 <= amount < 10,000, this one included" },
	[F_NEW_MERCHANT] = { "new_merchant", "novelty",
		"1 when the sender has not used this merchant before, else 0; NaN without merchant" },
	[F_NEW_DEVICE] = { "new_device", "novelty",
		"1 when the sender has not used this device before, else 0; NaN without device" },
	[F_NEW_IP] = { "new_ip", "novelty",
		"1 when the sender has not used this IP before, else 0; NaN without IP" },
	[F_NEW_RECIPIENT] = { "new_recipient", "novelty",
		"1 when the sender has not paid this recipient before, else 0; NaN without one" },
	[F_NEW_COUNTRY] = { "new_country", "novelty",
		"1 when the sender has no earlier transaction in this country, else 0; NaN without" },
	[F_RCP_CNT_30D] = { "recipient_txn_count_30d", "novelty",
		"the recipient's transactions in the last 30 days, this one included; NaN without" },
	[F_GEO_DIST] = { "geo_distance_km", "geography",
		"great-circle km from the sender's previous located transaction; NaN if either lacks" },
	[F_GEO_SPEED] = { "geo_speed_kmh", "geography",
		"geo_distance_km / hours since that transaction (at least 1 minute); NaN likewise" },
	[F_GEO_MINS] = { "mins_since_prev_geo", "geography",
		"minutes since the sender's previous located transaction; NaN if none" },
	[F_DIST_USUAL] = { "dist_from_usual_km", "geography",
		"great-circle km from the centroid of the sender's earlier located transactions" },
	[F_IS_FOREIGN] = { "is_foreign", "geography",
		"1 when country differs from home (--home or the sender's most frequent so far)" },
	[F_FOREIGN_SHARE] = { "foreign_share", "geography",
		"share of the sender's earlier transactions with a country that are foreign" },
	[F_RCP_CNT] = { "recipient_txn_count", "network",
		"transactions seen before for this recipient, all senders; NaN without recipient" },
	[F_RCP_SENDERS] = { "recipient_sender_count", "network",
		"distinct senders that have paid this recipient, this one included; NaN without" },
	[F_MER_CNT] = { "merchant_txn_count", "network",
		"transactions seen before for this merchant, all senders; NaN without merchant" },
	[F_MER_FRAUD] = { "merchant_fraud_rate", "network",
		"frauds / labelled among the merchant's labels visible (ts + delay <= now); 0 if none" },
	[F_DEV_SENDERS] = { "device_sender_count", "network",
		"distinct senders seen on this device, this one included; NaN without device" },
	[F_IP_SENDERS] = { "ip_sender_count", "network",
		"distinct senders seen on this IP, this one included; NaN without IP" },
	[F_SND_DEVICES] = { "sender_device_count", "network",
		"distinct devices the sender has used, this transaction's included" },
	[F_CH_CARD] = { "channel_card", "encoding", "1 when channel is card, else 0" },
	[F_CH_TRANSFER] = { "channel_transfer", "encoding", "1 when channel is transfer, else 0" },
	[F_CH_ATM] = { "channel_atm", "encoding", "1 when channel is atm, else 0" },
	[F_CH_ONLINE] = { "channel_online", "encoding", "1 when channel is online, else 0" },
	[F_CH_MOBILE] = { "channel_mobile", "encoding", "1 when channel is mobile, else 0" },
	[F_CH_OTHER] = { "channel_other", "encoding",
		"1 when a channel is given and is none of the five above, else 0" },
	[F_HIGH_RISK_CAT] = { "is_high_risk_category", "encoding",
		"1 when merchant_category is gambling, crypto, jewelry, electronics, gift cards or "
		"money transfer (words or MCC), else 0" },
	[F_MEAN0] = { "sender_amount_mean_24h", "amount",
		"sender_amount_sum_24h / sender_txn_count_24h: mean amount in 24 h, this one included" },
	[F_MEAN0 + 1] = { "sender_amount_mean_7d", "amount",
		"sender_amount_sum_7d / sender_txn_count_7d: mean amount in 7 days, this one included" },
	[F_MEAN0 + 2] = { "sender_amount_mean_30d", "amount",
		"sender_amount_sum_30d / sender_txn_count_30d: mean amount in 30 days, this one included" },
	[F_WZ0] = { "amount_zscore_24h", "amount",
		"(amount - mean) / sd of the sender's earlier amounts in 24 h; NaN if <2 or sd 0" },
	[F_WZ0 + 1] = { "amount_zscore_7d", "amount",
		"(amount - mean) / sd of the sender's earlier amounts in 7 days; NaN if <2 or sd 0" },
	[F_WZ0 + 2] = { "amount_zscore_30d", "amount",
		"(amount - mean) / sd of the sender's earlier amounts in 30 days; NaN if <2 or sd 0" },
	[F_MK_TXN0] = { "merchant_known_txns_1d", "network",
		"the merchant's transactions with t-delay-1d < ts <= t-delay; NaN without merchant" },
	[F_MK_TXN0 + 1] = { "merchant_known_txns_7d", "network",
		"the merchant's transactions with t-delay-7d < ts <= t-delay; NaN without merchant" },
	[F_MK_TXN0 + 2] = { "merchant_known_txns_30d", "network",
		"the merchant's transactions with t-delay-30d < ts <= t-delay; NaN without merchant" },
	[F_MK_FR0] = { "merchant_known_frauds_1d", "network",
		"of merchant_known_txns_1d, those labelled fraud; NaN without merchant" },
	[F_MK_FR0 + 1] = { "merchant_known_frauds_7d", "network",
		"of merchant_known_txns_7d, those labelled fraud; NaN without merchant" },
	[F_MK_FR0 + 2] = { "merchant_known_frauds_30d", "network",
		"of merchant_known_txns_30d, those labelled fraud; NaN without merchant" },
	[F_MK_SH0] = { "merchant_fraud_share_1d", "network",
		"merchant_known_frauds_1d / merchant_known_txns_1d; 0 if no transactions" },
	[F_MK_SH0 + 1] = { "merchant_fraud_share_7d", "network",
		"merchant_known_frauds_7d / merchant_known_txns_7d; 0 if no transactions" },
	[F_MK_SH0 + 2] = { "merchant_fraud_share_30d", "network",
		"merchant_known_frauds_30d / merchant_known_txns_30d; 0 if no transactions" },
	[F_RK_TXN0] = { "recipient_known_txns_1d", "network",
		"the recipient's transactions with t-delay-1d < ts <= t-delay; NaN without recipient" },
	[F_RK_TXN0 + 1] = { "recipient_known_txns_7d", "network",
		"the recipient's transactions with t-delay-7d < ts <= t-delay; NaN without recipient" },
	[F_RK_TXN0 + 2] = { "recipient_known_txns_30d", "network",
		"the recipient's transactions with t-delay-30d < ts <= t-delay; NaN without recipient" },
	[F_RK_FR0] = { "recipient_known_frauds_1d", "network",
		"of recipient_known_txns_1d, those labelled fraud; NaN without recipient" },
	[F_RK_FR0 + 1] = { "recipient_known_frauds_7d", "network",
		"of recipient_known_txns_7d, those labelled fraud; NaN without recipient" },
	[F_RK_FR0 + 2] = { "recipient_known_frauds_30d", "network",
		"of recipient_known_txns_30d, those labelled fraud; NaN without recipient" },
	[F_RK_SH0] = { "recipient_fraud_share_1d", "network",
		"recipient_known_frauds_1d / recipient_known_txns_1d; 0 if no transactions" },
	[F_RK_SH0 + 1] = { "recipient_fraud_share_7d", "network",
		"recipient_known_frauds_7d / recipient_known_txns_7d; 0 if no transactions" },
	[F_RK_SH0 + 2] = { "recipient_fraud_share_30d", "network",
		"recipient_known_frauds_30d / recipient_known_txns_30d; 0 if no transactions" },
	[F_MER_FIRST_FRAUD] = { "days_since_merchant_first_fraud", "network",
		"days from the merchant's first fraud with ts <= t-delay to t; NaN if none or no merchant" },
};

/*
 * Components: the pieces of state a feature needs.  Only the components of the selected
 * features are maintained, which is what makes a small selection fast.
 */
enum {
	C_SENDER = 1u << 0,   /* sender lookup, first/last ts */
	C_WIN = 1u << 1,      /* the window ring */
	C_WELFORD = 1u << 2,
	C_MAX = 1u << 3,
	C_LASTN = 1u << 4,
	C_MERPAIR = 1u << 5,  /* (sender, merchant) pairs */
	C_DEVPAIR = 1u << 6,
	C_IPPAIR = 1u << 7,
	C_RCPPAIR = 1u << 8,
	C_COUNTRY = 1u << 9,
	C_RCPWIN = 1u << 10,  /* recipient's 30-day ring */
	C_RCPTOT = 1u << 11,
	C_MERTOT = 1u << 12,
	C_FRAUD = 1u << 13,
	C_GEO = 1u << 14,     /* previous located transaction */
	C_CENTROID = 1u << 15,
	C_CATEGORY = 1u << 16,
	C_WINSQ = 1u << 17,   /* sums of squares of the 24 h, 7 d and 30 d windows */
	C_MERKNOWN = 1u << 18, /* the merchant's transactions with their labels, by time */
	C_RCPKNOWN = 1u << 19, /* the recipient's */
};

static unsigned feat_components(int i, int *win)
{
	*win = -1;
	if (i >= F_CNT0 && i < F_CNT0 + NWIN) {
		*win = i - F_CNT0;
		return C_SENDER | C_WIN;
	}
	if (i >= F_SUM0 && i < F_SUM0 + NWIN) {
		*win = i - F_SUM0;
		return C_SENDER | C_WIN;
	}
	if (i >= F_MEAN0 && i < F_MEAN0 + NSW) {
		*win = W24H + (i - F_MEAN0);
		return C_SENDER | C_WIN;
	}
	if (i >= F_WZ0 && i < F_WZ0 + NSW) {
		*win = W24H + (i - F_WZ0);
		return C_SENDER | C_WIN | C_WINSQ;
	}
	if (i >= F_MK_TXN0 && i < F_RK_TXN0)
		return C_MERKNOWN;
	if (i >= F_RK_TXN0 && i < F_RK_TXN0 + 3 * NKW)
		return C_RCPKNOWN;
	switch (i) {
	case F_MER_FIRST_FRAUD: return C_MERKNOWN;
	case F_SECS_LAST: case F_DAYS_LAST: case F_AGE_DAYS:
		return C_SENDER;
	case F_ZSCORE: return C_SENDER | C_WELFORD;
	case F_TO_MAX: return C_SENDER | C_MAX;
	case F_PCTILE: return C_SENDER | C_LASTN;
	case F_TO_MEAN_7D: case F_DEV_7D: *win = W7D; return C_SENDER | C_WIN;
	case F_TO_MEAN_30D: case F_DEV_30D: *win = W30D; return C_SENDER | C_WIN;
	case F_NEAR_24H: *win = W24H; return C_SENDER | C_WIN;
	case F_NEW_MERCHANT: return C_SENDER | C_MERPAIR;
	case F_NEW_DEVICE: case F_DEV_SENDERS: case F_SND_DEVICES: return C_SENDER | C_DEVPAIR;
	case F_NEW_IP: case F_IP_SENDERS: return C_SENDER | C_IPPAIR;
	case F_NEW_RECIPIENT: case F_RCP_SENDERS: return C_SENDER | C_RCPPAIR;
	case F_NEW_COUNTRY: case F_IS_FOREIGN: case F_FOREIGN_SHARE: return C_SENDER | C_COUNTRY;
	case F_RCP_CNT_30D: return C_RCPWIN;
	case F_RCP_CNT: return C_RCPTOT;
	case F_MER_CNT: return C_MERTOT;
	case F_MER_FRAUD: return C_FRAUD;
	case F_GEO_DIST: case F_GEO_SPEED: case F_GEO_MINS: return C_SENDER | C_GEO;
	case F_DIST_USUAL: case F_LOCAL_HOUR: return C_SENDER | C_CENTROID;
	case F_HIGH_RISK_CAT: return C_CATEGORY;
	default: return 0;    /* stateless: time of day, amount, channel */
	}
}

/* The delayed-label window (index into kwin_ms) of feature i, -1 for any other feature. */
static int known_window(int i)
{
	if (i >= F_MK_TXN0 && i < F_RK_TXN0 + 3 * NKW)
		return (i - F_MK_TXN0) % NKW;
	return -1;
}

size_t fd_feat_catalog(const struct fd_feat_def **defs)
{
	if (defs)
		*defs = catalog;
	return NFEAT;
}

static int lookup_n(const char *s, size_t n)
{
	int i;

	for (i = 0; i < NFEAT; i++)
		if (strncmp(catalog[i].name, s, n) == 0 && catalog[i].name[n] == '\0')
			return i;
	return -1;
}

int fd_feat_lookup(const char *name)
{
	return name ? lookup_n(name, strlen(name)) : -1;
}

/* ---- small containers ------------------------------------------------------------------ */

/* Grow a zero-filled array of elsize-byte elements so that index need is valid. */
static int grow_zeroed_slow(void **p, size_t *cap, size_t need, size_t elsize, size_t *bytes)
{
	size_t ncap = *cap ? *cap : 64;
	void *q;

	while (ncap <= need)
		ncap *= 2;
	q = realloc(*p, ncap * elsize);
	if (!q)
		return -1;
	memset((char *)q + *cap * elsize, 0, (ncap - *cap) * elsize);
	*bytes += (ncap - *cap) * elsize;
	*p = q;
	*cap = ncap;
	return 0;
}

static inline int grow_zeroed(void **p, size_t *cap, size_t need, size_t elsize, size_t *bytes)
{
	return need < *cap ? 0 : grow_zeroed_slow(p, cap, need, elsize, bytes);
}

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

#define PAIR_EMPTY UINT64_MAX

/* A set of 64-bit keys (sender id << 32 | entity id), optionally with a 32-bit count each. */
struct pairset {
	uint64_t *keys;
	uint32_t *vals;  /* NULL unless the set counts */
	size_t mask;     /* slots - 1; 0 before the first insertion */
	size_t n;
	int counted;
};

static int pairset_alloc(struct pairset *s, size_t nslots, size_t *bytes)
{
	uint64_t *keys = malloc(nslots * sizeof(*keys));
	uint32_t *vals = NULL;
	size_t i;

	if (!keys)
		return -1;
	if (s->counted && !(vals = calloc(nslots, sizeof(*vals)))) {
		free(keys);
		return -1;
	}
	for (i = 0; i < nslots; i++)
		keys[i] = PAIR_EMPTY;
	if (s->keys) {
		size_t oslots = s->mask + 1;

		for (i = 0; i < oslots; i++) {
			size_t j;

			if (s->keys[i] == PAIR_EMPTY)
				continue;
			j = (size_t)mix64(s->keys[i]) & (nslots - 1);
			while (keys[j] != PAIR_EMPTY)
				j = (j + 1) & (nslots - 1);
			keys[j] = s->keys[i];
			if (vals)
				vals[j] = s->vals[i];
		}
		*bytes -= oslots * (sizeof(*keys) + (s->counted ? sizeof(*vals) : 0));
		free(s->keys);
		free(s->vals);
	}
	*bytes += nslots * (sizeof(*keys) + (s->counted ? sizeof(*vals) : 0));
	s->keys = keys;
	s->vals = vals;
	s->mask = nslots - 1;
	return 0;
}

/* Insert key; *slot receives its slot (for vals), *is_new whether it was absent.  0 or -1. */
static int pairset_put(struct pairset *s, uint64_t key, size_t *slot, int *is_new, size_t *bytes)
{
	size_t i;

	if (!s->keys || (s->n + 1) * 2 > s->mask + 1)
		if (pairset_alloc(s, s->keys ? (s->mask + 1) * 2 : 1024, bytes) < 0)
			return -1;
	i = (size_t)mix64(key) & s->mask;
	while (s->keys[i] != PAIR_EMPTY) {
		if (s->keys[i] == key) {
			*slot = i;
			*is_new = 0;
			return 0;
		}
		i = (i + 1) & s->mask;
	}
	s->keys[i] = key;
	s->n++;
	*slot = i;
	*is_new = 1;
	return 0;
}

static void pairset_release(struct pairset *s)
{
	free(s->keys);
	free(s->vals);
	s->keys = NULL;
	s->vals = NULL;
}

/* ---- per-entity state ------------------------------------------------------------------ */

struct went {          /* one transaction in a sender's window ring */
	int64_t ts;
	int64_t fx;    /* amount, fixed point */
};

#define MEMO_HEAD 24

struct memo {                  /* an entity id and its string, the first bytes kept inline */
	const char *str;           /* the interned string */
	uint32_t id, len;          /* len 0: empty */
	char head[MEMO_HEAD];
};

/*
 * A sender's window ring, apart from the rest of its record: this small array (48 bytes a
 * sender) stays in cache, so the ring's lines can be prefetched as soon as the sender is
 * known, while its record is still on its way.
 */
struct wring {
	struct went *ring;         /* capacity a power of two; seq & (cap - 1) */
	uint32_t cap, end;         /* end: seq of the next entry */
	uint32_t head[NWIN];       /* first seq inside each window; head[wmax] is the ring start */
};

struct sender {
	uint64_t sum[NWIN];        /* fixed-point sums of the window (wrapping, exact) */
	unsigned __int128 sq[NSW]; /* sums of squares of the 24 h, 7 d, 30 d windows (ditto) */
	uint32_t near24;           /* entries in the 24 h window just below the threshold */
	uint32_t n;                /* earlier transactions, all history */
	int64_t first_ts, last_ts;
	double w_mean, w_m2;       /* Welford over all earlier amounts (major units) */
	int64_t max_fx;
	int64_t lastn[LASTN];      /* the last LASTN amounts, fixed point */
	uint8_t lastn_len, lastn_pos;
	uint16_t mode_cid;         /* most frequent country so far (valid when n_cty) */
	uint32_t n_cty, mode_count, n_foreign_home;
	uint32_t n_devices;
	uint32_t n_geo;            /* earlier located transactions */
	struct memo memo[3];       /* the previous device, IP, recipient (see resolve) */
	uint32_t recent_mer[16];   /* ids + 1 of entities paired with the sender (see pair_seen) */
	uint32_t recent[3][8];     /* device, IP, recipient */
	uint8_t recent_len[4];
	int64_t geo_ts;            /* previous located transaction */
	double geo_lat, geo_lon;
	double cx, cy, cz;         /* sum of unit vectors of located transactions */
};

enum { K_MER, K_DEV, K_IP, K_RCP };

/*
 * A merchant's or recipient's transactions with their labels, in time order, for the
 * delayed-label windows: vis is the first seq not yet visible (ts > t - delay), head[j] the
 * first inside window j (ts > t - delay - kwin_ms[j]); fr[j] counts the frauds between
 * head[j] and vis.  Entries pass each pointer once: amortised O(1) a push.
 */
struct kent {
	int64_t ts;
	int32_t fraud;
};

struct kring {
	struct kent *ring;         /* capacity a power of two; seq & (cap - 1) */
	uint32_t cap, end, vis;
	uint32_t head[NKW];
	uint32_t fr[NKW];
	int has_fraud;             /* a fraud has become visible; first_fraud_ts is its ts */
	int64_t first_fraud_ts;
};

struct recip {
	int64_t *ring;             /* timestamps within 30 days */
	uint32_t cap, head, end;
	uint32_t n_senders;
	uint64_t total;
	struct kring known;
};

struct merch {
	const char *cat_str;       /* the category seen last with this merchant (interned) */
	uint32_t cat_id;
	uint64_t total;
	uint64_t labelled, frauds; /* visible labels */
	struct kring known;
};

struct pending {               /* a label not yet visible */
	int64_t visible;
	uint32_t merchant;
	int32_t label;
};

struct fd_features {
	int64_t delay;
	int home_cid;              /* -1: each sender's most frequent country */
	/* the export's zone, for local_hour (fd_feat_opts) */
	const struct fd_tz *zone;
	int zone_known;
	int32_t zone_off_s;
	const char *zone_name;
	/* selection */
	size_t nsel;
	int sel[NFEAT];
	unsigned char want[NFEAT];
	int identity;              /* the whole catalog in catalog order: out needs no gather */
	unsigned comp;
	int wmax;                  /* longest window kept in the sender ring, -1 none */
	int mkmax, rkmax;          /* longest delayed-label window kept for merchants and
				      recipients (index into kwin_ms), -1 none */
	int started;
	int64_t last_ts;
	/* entities */
	struct fd_intern *senders, *recips, *merchants, *devices, *ips, *cats;
	struct sender *snd;
	size_t snd_cap;
	struct wring *wr;          /* by sender id, like snd */
	size_t wr_cap;
	struct recip *rcp;
	size_t rcp_cap;
	struct merch *mer;
	size_t mer_cap;
	uint32_t *dev_senders;
	size_t dev_cap;
	uint32_t *ip_senders;
	size_t ip_cap;
	unsigned char *cat_risk;
	size_t cat_cap;
	struct pairset ps_mer, ps_dev, ps_ip, ps_rcp, ps_cty;
	/* pending labels: a FIFO ring */
	struct pending *lq;
	size_t lq_cap, lq_head, lq_len;
	size_t bytes;              /* arrays, rings, sets (intern tables are counted apart) */
	struct fd_feat_context ctx;
};

static int country_id(const char cc[3])
{
	if (cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' || cc[2] != '\0')
		return -1;
	return (cc[0] - 'A') * 26 + (cc[1] - 'A');
}

static void ctx_reset(struct fd_feat_context *c)
{
	c->sender_mean_30d = NAN;
	c->prev_ts = -1;
	c->prev_lat = NAN;
	c->prev_lon = NAN;
	c->prev_geo_ts = -1;
	c->local_clock = FD_CLOCK_UTC;
	c->zone_name = NULL;
}

int fd_features_create(struct fd_features **fp, const struct fd_feat_opts *opts, struct fd_err *err)
{
	struct fd_features *f;

	*fp = NULL;
	if (opts && opts->label_delay_ms < 0)
		return fd_err_set(err, FD_EUSAGE, "negative label delay");
	f = calloc(1, sizeof(*f));
	if (!f)
		return fd_err_set(err, FD_EIO, "out of memory");
	f->delay = opts ? opts->label_delay_ms : 7 * FD_DAY_MS;
	if (opts && (opts->zone || opts->zone_fixed)) {
		f->zone = opts->zone;
		f->zone_known = 1;
		f->zone_off_s = (int32_t)opts->zone_offset_min * 60;
		f->zone_name = opts->zone_name ? opts->zone_name : opts->zone ? fd_tz_name(opts->zone) : "UTC";
	}
	f->home_cid = -1;
	if (opts && opts->home_country) {
		const char *h = opts->home_country;

		if (strlen(h) != 2 || (f->home_cid = country_id(h)) < 0) {
			free(f);
			return fd_err_set(err, FD_EUSAGE, "bad home country '%.8s' (two upper-case letters)", h);
		}
	}
	f->ps_cty.counted = 1;
	ctx_reset(&f->ctx);
	f->senders = fd_intern_create();
	f->recips = fd_intern_create();
	f->merchants = fd_intern_create();
	f->devices = fd_intern_create();
	f->ips = fd_intern_create();
	f->cats = fd_intern_create();
	if (!f->senders || !f->recips || !f->merchants || !f->devices || !f->ips || !f->cats) {
		fd_features_free(f);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	fd_features_select(f, NULL, NULL);
	*fp = f;
	return FD_OK;
}

void fd_features_free(struct fd_features *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->wr_cap; i++)
		free(f->wr[i].ring);
	free(f->wr);
	for (i = 0; i < f->rcp_cap; i++) {
		free(f->rcp[i].ring);
		free(f->rcp[i].known.ring);
	}
	for (i = 0; i < f->mer_cap; i++)
		free(f->mer[i].known.ring);
	free(f->snd);
	free(f->rcp);
	free(f->mer);
	free(f->dev_senders);
	free(f->ip_senders);
	free(f->cat_risk);
	free(f->lq);
	pairset_release(&f->ps_mer);
	pairset_release(&f->ps_dev);
	pairset_release(&f->ps_ip);
	pairset_release(&f->ps_rcp);
	pairset_release(&f->ps_cty);
	fd_intern_free(f->senders);
	fd_intern_free(f->recips);
	fd_intern_free(f->merchants);
	fd_intern_free(f->devices);
	fd_intern_free(f->ips);
	fd_intern_free(f->cats);
	free(f);
}

/* ---- selection ------------------------------------------------------------------------- */

static void selection_derive(struct fd_features *f)
{
	size_t i;

	f->comp = 0;
	f->wmax = -1;
	f->mkmax = f->rkmax = -1;
	memset(f->want, 0, sizeof(f->want));
	for (i = 0; i < f->nsel; i++) {
		int w, k = known_window(f->sel[i]);

		f->want[f->sel[i]] = 1;
		f->comp |= feat_components(f->sel[i], &w);
		if (w > f->wmax)
			f->wmax = w;
		if (f->sel[i] < F_RK_TXN0 && k > f->mkmax)
			f->mkmax = k;
		if (f->sel[i] >= F_RK_TXN0 && k > f->rkmax)
			f->rkmax = k;
	}
	f->identity = f->nsel == NFEAT;
	for (i = 0; i < f->nsel && f->identity; i++)
		f->identity = f->sel[i] == (int)i;
}

static int started_err(struct fd_features *f, struct fd_err *err)
{
	return f->started ? fd_err_set(err, FD_EUSAGE, "features selected after the first push") : 0;
}

int fd_features_select(struct fd_features *f, const char *list, struct fd_err *err)
{
	int idx[NFEAT];
	size_t n = 0;
	const char *p;

	if (started_err(f, err))
		return FD_EUSAGE;
	if (!list || strcmp(list, "all") == 0) {
		for (n = 0; n < NFEAT; n++)
			idx[n] = (int)n;
		return fd_features_select_idx(f, idx, n, 0, err);
	}
	p = list;
	for (;;) {
		const char *e = strchr(p, ','), *b = p;
		size_t len;
		int i, k, dup = 0;

		if (!e)
			e = p + strlen(p);
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		len = (size_t)(e - b);
		while (len && (b[len - 1] == ' ' || b[len - 1] == '\t'))
			len--;
		if (!len)
			return fd_err_set(err, FD_EUSAGE, "empty name in feature list '%.200s'", list);
		if ((i = lookup_n(b, len)) < 0) {
			char vis[256];

			fd_visible(vis, sizeof(vis), b, len);
			return fd_err_set(err, FD_EUSAGE, "unknown feature '%s' (fd-features --list names them)", vis);
		}
		for (k = 0; k < (int)n; k++)
			dup |= idx[k] == i;
		if (!dup)
			idx[n++] = i;
		if (!*e)
			break;
		p = e + 1;
	}
	return fd_features_select_idx(f, idx, n, 0, err);
}

int fd_features_select_idx(struct fd_features *f, const int *idx, size_t n, int add, struct fd_err *err)
{
	size_t i, k;

	if (started_err(f, err))
		return FD_EUSAGE;
	for (i = 0; i < n; i++)
		if (idx[i] < 0 || idx[i] >= NFEAT)
			return fd_err_set(err, FD_EUSAGE, "feature index %d outside the catalog", idx[i]);
	if (!add)
		f->nsel = 0;
	for (i = 0; i < n; i++) {
		int dup = 0;

		for (k = 0; k < f->nsel; k++)
			dup |= f->sel[k] == idx[i];
		if (!dup)
			f->sel[f->nsel++] = idx[i];
	}
	selection_derive(f);
	return FD_OK;
}

size_t fd_features_count(const struct fd_features *f)
{
	return f->nsel;
}

int fd_features_catalog_index(const struct fd_features *f, size_t i)
{
	return i < f->nsel ? f->sel[i] : -1;
}

static inline int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;

	return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN) : r;
}

static inline int64_t sat_sub(int64_t a, int64_t b)
{
	int64_t r;

	return __builtin_sub_overflow(a, b, &r) ? (b > 0 ? INT64_MIN : INT64_MAX) : r;
}

int64_t fd_features_lookback_ms(const struct fd_features *f)
{
	int64_t lb = 0;
	size_t i;

	/* A windowed feature looks back its window; a feature over all history (novelty,
	 * totals, the previous transaction, labels) is warmed from as far back as the longest
	 * window, 30 days; a feature of the transaction alone needs nothing. */
	for (i = 0; i < f->nsel; i++) {
		int w, k = known_window(f->sel[i]);
		unsigned c = feat_components(f->sel[i], &w);
		int64_t need = !c ? 0 : w >= 0 ? win_ms[w] : win_ms[W30D];

		/* a delayed-label window reaches back the delay and then its window; the first
		 * fraud, the delay and then the longest window */
		if (c & (C_MERKNOWN | C_RCPKNOWN))
			need = sat_add(f->delay, k >= 0 ? kwin_ms[k] : kwin_ms[NKW - 1]);
		if (need > lb)
			lb = need;
	}
	return lb;
}

size_t fd_features_bytes(const struct fd_features *f)
{
	return sizeof(*f) + f->bytes + fd_intern_bytes(f->senders) + fd_intern_bytes(f->recips)
	       + fd_intern_bytes(f->merchants) + fd_intern_bytes(f->devices)
	       + fd_intern_bytes(f->ips) + fd_intern_bytes(f->cats);
}

void fd_features_context(const struct fd_features *f, struct fd_feat_context *ctx)
{
	*ctx = f->ctx;
}

/* ---- helpers of a push ----------------------------------------------------------------- */

static int oom(struct fd_err *err)
{
	return fd_err_set(err, FD_EIO, "out of memory");
}

/* Amount in fixed point (4 decimals).  Exponents above 4 (none in ISO 4217 today) lose the
 * extra digits; amounts beyond ±9.2e14 major units saturate. */
static int64_t amount_fx(const struct fd_txn *t)
{
	static const int64_t p10[] = { 1, 10, 100, 1000, 10000 };
	int e = t->exponent;
	int64_t r;

	if (e >= 0 && e <= 4) {
		if (__builtin_mul_overflow(t->amount, p10[4 - e], &r))
			r = t->amount < 0 ? INT64_MIN : INT64_MAX;
		return r;
	}
	if (e > 4) {
		int64_t d = 1;

		while (e-- > 4 && d < INT64_MAX / 10)
			d *= 10;
		return t->amount / d;
	}
	return t->amount;  /* negative exponent: not a currency; treat as fixed point */
}

static double amount_major(const struct fd_txn *t)
{
	static const double p10[] = { 1, 10, 100, 1000, 10000, 1e5, 1e6, 1e7, 1e8, 1e9 };
	int e = t->exponent;

	return e >= 0 && e <= 9 ? (double)t->amount / p10[e] : (double)t->amount;
}

/* 1 when the amount is a nonzero multiple of 100 major units (checked on minor units). */
static int is_round(const struct fd_txn *t)
{
	static const int64_t p10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000 };
	int e = t->exponent;

	if (t->amount == 0 || e < 0 || e > 7)
		return 0;
	return t->amount % (100 * p10[e]) == 0;
}

static inline int near_threshold(int64_t fx)
{
	return fx >= NEAR_LO && fx < NEAR_HI;
}

static inline double fx_major(uint64_t sum)
{
	return (double)(int64_t)sum / (double)FX_SCALE;
}

static inline unsigned __int128 fx_square(int64_t fx)
{
	return (unsigned __int128)((__int128)fx * fx);
}

/*
 * Sample standard deviation (major units) of cnt >= 2 fixed-point amounts with sum s1 and
 * sum of squares s2: sqrt((cnt * s2 - s1^2) / (cnt (cnt - 1))).  The numerator is computed
 * exactly in 128-bit integers, so no cancellation however large the mean is against the
 * spread; only sums beyond 128 bits (amounts near 10^15 major units) fall back to long double.
 */
static double window_sd(uint64_t s1u, unsigned __int128 s2u, uint32_t cnt)
{
	const __int128 s1 = (int64_t)s1u, s2 = (__int128)s2u;
	__int128 a, b;
	long double num;

	if (!__builtin_mul_overflow(s2, (__int128)cnt, &a) && !__builtin_mul_overflow(s1, s1, &b))
		num = (long double)(a - b);
	else
		num = (long double)cnt * (long double)s2 - (long double)s1 * (long double)s1;
	if (num <= 0)
		return 0;
	return (double)(sqrtl(num / ((long double)cnt * (cnt - 1))) / (long double)FX_SCALE);
}

static inline int present(const char *s)
{
	return s && *s;
}

/* Double the ring; start is its first live seq (the head of the longest window kept). */
static int ring_grow(struct wring *s, uint32_t start, size_t *bytes)
{
	uint32_t ncap = s->cap ? s->cap * 2 : 8, q;
	struct went *r = malloc((size_t)ncap * sizeof(*r));

	if (!r)
		return -1;
	for (q = start; q != s->end; q++)
		r[q & (ncap - 1)] = s->ring[q & (s->cap - 1)];
	free(s->ring);
	*bytes += (size_t)(ncap - s->cap) * sizeof(*r);
	s->ring = r;
	s->cap = ncap;
	return 0;
}

static int rring_grow(struct recip *r, size_t *bytes)
{
	uint32_t ncap = r->cap ? r->cap * 2 : 4, q;
	int64_t *a = malloc((size_t)ncap * sizeof(*a));

	if (!a)
		return -1;
	for (q = r->head; q != r->end; q++)
		a[q & (ncap - 1)] = r->ring[q & (r->cap - 1)];
	free(r->ring);
	*bytes += (size_t)(ncap - r->cap) * sizeof(*a);
	r->ring = a;
	r->cap = ncap;
	return 0;
}

/*
 * One transaction of an entity with delayed-label windows: make visible what is now past
 * the delay, move each window's head, write the features of the transaction at ts (when v,
 * at v[txn0 + j], v[fr0 + j], v[sh0 + j] for each window j <= kmax, and the days since the
 * first visible fraud at v[first] when first >= 0), then append it.  0 or -1 (out of memory,
 * the ring unchanged).
 */
static int kring_step(struct kring *k, int64_t ts, int64_t delay, int kmax, int fraud, double *v,
		      int txn0, int fr0, int sh0, int first, size_t *bytes)
{
	const int64_t lim_vis = sat_sub(ts, delay);
	uint32_t mask = k->cap - 1, start;
	int j;

	while (k->vis != k->end && k->ring[k->vis & mask].ts <= lim_vis) {
		const struct kent *e = &k->ring[k->vis & mask];

		if (e->fraud) {
			for (j = 0; j <= kmax; j++)
				k->fr[j]++;
			if (!k->has_fraud) {
				k->has_fraud = 1;
				k->first_fraud_ts = e->ts;
			}
		}
		k->vis++;
	}
	for (j = 0; j <= kmax; j++) {
		const int64_t lim = sat_sub(lim_vis, kwin_ms[j]);
		uint32_t h = k->head[j];

		while (h != k->vis && k->ring[h & mask].ts <= lim) {
			k->fr[j] -= (uint32_t)k->ring[h & mask].fraud;
			h++;
		}
		k->head[j] = h;
	}
	if (v) {
		for (j = 0; j <= kmax; j++) {
			uint32_t n = k->vis - k->head[j];

			v[txn0 + j] = n;
			v[fr0 + j] = k->fr[j];
			v[sh0 + j] = n ? (double)k->fr[j] / n : 0.0;
		}
		if (first >= 0 && k->has_fraud)
			v[first] = (double)(ts - k->first_fraud_ts) / (double)FD_DAY_MS;
	}
	start = kmax >= 0 ? k->head[kmax] : k->vis;
	if (k->end - start == k->cap) {
		uint32_t ncap = k->cap ? k->cap * 2 : 4, q;
		struct kent *r = malloc((size_t)ncap * sizeof(*r));

		if (!r)
			return -1;
		for (q = start; q != k->end; q++)
			r[q & (ncap - 1)] = k->ring[q & mask];
		free(k->ring);
		*bytes += (size_t)(ncap - k->cap) * sizeof(*r);
		k->ring = r;
		k->cap = ncap;
		mask = ncap - 1;
	}
	k->ring[k->end & mask] = (struct kent){ .ts = ts, .fraud = fraud };
	k->end++;
	return 0;
}

/*
 * High-risk merchant categories.  The category is split into words (runs of ASCII letters
 * and digits, compared case-insensitively); it is high-risk when a word is one of `words`, two
 * consecutive words are one of `pairs`, or the whole category is one of the MCC codes.
 */
static int category_high_risk(const char *s, size_t n)
{
	static const char *const words[] = {
		"gambling", "betting", "casino", "casinos", "lottery", "crypto", "cryptocurrency",
		"bitcoin", "jewelry", "jewellery", "jewelers", "jewellers", "electronics",
		"giftcard", "giftcards",
	};
	static const char *const pairs[][2] = {
		{ "gift", "card" }, { "gift", "cards" }, { "money", "transfer" },
		{ "money", "transfers" }, { "wire", "transfer" }, { "quasi", "cash" },
	};
	static const char *const mcc[] = {
		"4829", "5732", "5944", "6051", "6540", "7800", "7801", "7802", "7995",
	};
	char prev[32] = "", cur[32];
	size_t i = 0, k;

	for (k = 0; k < sizeof(mcc) / sizeof(mcc[0]); k++)
		if (n == 4 && memcmp(s, mcc[k], 4) == 0)
			return 1;
	while (i < n) {
		size_t len = 0;

		while (i < n && !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
				  || (s[i] >= '0' && s[i] <= '9')))
			i++;
		if (i >= n)
			break;
		while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
				 || (s[i] >= '0' && s[i] <= '9'))) {
			if (len < sizeof(cur) - 1)
				cur[len++] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
			i++;
		}
		cur[len] = '\0';
		for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
			if (strcmp(cur, words[k]) == 0)
				return 1;
		for (k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++)
			if (strcmp(prev, pairs[k][0]) == 0 && strcmp(cur, pairs[k][1]) == 0)
				return 1;
		memcpy(prev, cur, len + 1);
	}
	return 0;
}

/* Intern a string of kind tab and make room for its id in a per-entity array. */
static int64_t intern_grow(struct fd_intern *tab, const char *s, int *is_new, void **arr,
			   size_t *cap, size_t elsize, size_t *bytes)
{
	int64_t id = fd_intern_put(tab, s, strlen(s), is_new);

	if (id < 0 || grow_zeroed(arr, cap, (size_t)id, elsize, bytes) < 0)
		return -1;
	return id;
}

/*
 * The id of an entity of kind k used by sender s (NULL: no memo).  The sender's previous
 * entity of each kind is remembered with the first MEMO_HEAD bytes of its string inside the
 * sender's record: a sender that uses the same device, IP or recipient again, the common
 * case, costs a comparison with memory already fetched instead of a hash probe and a pair
 * probe (a longer string compares its tail with the interned copy; the check is exact).
 * *known is 1 when the memo answered: the (sender, entity) pair is then not new.
 */
static int64_t resolve(struct sender *s, int k, struct fd_intern *tab, const char *str, void **arr,
		       size_t *cap, size_t elsize, size_t *bytes, int *known)
{
	size_t n = strlen(str);
	struct memo *m = s ? &s->memo[k - 1] : NULL;
	int64_t id;

	if (m && m->len == n && memcmp(m->head, str, n < MEMO_HEAD ? n : MEMO_HEAD) == 0
	    && (n <= MEMO_HEAD || memcmp(m->str + MEMO_HEAD, str + MEMO_HEAD, n - MEMO_HEAD) == 0)) {
		*known = 1;
		return m->id;
	}
	*known = 0;
	id = fd_intern_put(tab, str, n, NULL);
	if (id < 0 || grow_zeroed(arr, cap, (size_t)id, elsize, bytes) < 0)
		return -1;
	if (m && n <= UINT32_MAX) {
		m->str = fd_intern_str(tab, (uint32_t)id, NULL);
		m->id = (uint32_t)id;
		m->len = (uint32_t)n;
		memcpy(m->head, str, n < MEMO_HEAD ? n : MEMO_HEAD);
	}
	return id;
}

static inline void pairset_prefetch(const struct pairset *s, uint64_t key)
{
	if (s->keys)
		__builtin_prefetch(&s->keys[mix64(key) & s->mask]);
}

/*
 * Whether sender sid has been seen with entity id of kind k before (*is_new = 0) or not (1,
 * and now it has).  The answer comes from the memo (known), else from the sender's few
 * recently paired ids (in the sender's own record, so no cache miss), else from the global
 * set.  All three are exact: an id is in the memo or the recent list only once its pair is
 * in the set.  The list keeps the ids the sender uses often: a hit moves an id one place
 * up, a new id takes the last place once the list is full, so one-off merchants churn at
 * the bottom while regular ones stay.
 */
static int pair_seen(struct pairset *ps, struct sender *s, int k, int known, uint32_t sid, int64_t id,
		     int *is_new, size_t *bytes)
{
	uint32_t *rec = k == K_MER ? s->recent_mer : s->recent[k - 1], want = (uint32_t)id + 1;
	unsigned n = k == K_MER ? 16 : 8, i;
	size_t slot;

	*is_new = 0;
	if (known)
		return 0;
	for (i = 0; i < n; i++)
		if (rec[i] == want) {
			if (i) {
				rec[i] = rec[i - 1];
				rec[i - 1] = want;
			}
			return 0;
		}
	if (pairset_put(ps, (uint64_t)sid << 32 | (uint64_t)id, &slot, is_new, bytes) < 0)
		return -1;
	if (s->recent_len[k] < n)
		rec[s->recent_len[k]++] = want;
	else
		rec[n - 1] = want;
	return 0;
}

/* Make labels with visible <= ts count. */
static void labels_release(struct fd_features *f, int64_t ts)
{
	while (f->lq_len && f->lq[f->lq_head].visible <= ts) {
		const struct pending *p = &f->lq[f->lq_head];

		f->mer[p->merchant].labelled++;
		f->mer[p->merchant].frauds += p->label == 1;
		f->lq_head = (f->lq_head + 1) & (f->lq_cap - 1);
		f->lq_len--;
	}
}

static int labels_push(struct fd_features *f, int64_t visible, uint32_t merchant, int label)
{
	if (f->lq_len == f->lq_cap) {
		size_t ncap = f->lq_cap ? f->lq_cap * 2 : 256, i;
		struct pending *q = malloc(ncap * sizeof(*q));

		if (!q)
			return -1;
		for (i = 0; i < f->lq_len; i++)
			q[i] = f->lq[(f->lq_head + i) & (f->lq_cap - 1)];
		free(f->lq);
		f->bytes += (ncap - f->lq_cap) * sizeof(*q);
		f->lq = q;
		f->lq_cap = ncap;
		f->lq_head = 0;
	}
	f->lq[(f->lq_head + f->lq_len) & (f->lq_cap - 1)] =
		(struct pending){ .visible = visible, .merchant = merchant, .label = label };
	f->lq_len++;
	return 0;
}

static inline int64_t floor_div(int64_t ts, int64_t unit, int64_t *rem)
{
	int64_t q = ts / unit, r = ts % unit;

	if (r < 0) {
		r += unit;
		q--;
	}
	*rem = r;
	return (double)q;
}

/*
 * One transaction: check the order, compute its features into v (NULL when warming) from
 * the state as it is, then add it to the state.
 */
static int step(struct fd_features *f, const struct fd_txn *t, double *v, struct fd_err *err)
{
	const unsigned comp = f->comp;
	const int64_t ts = t->ts;
	const int64_t fx = amount_fx(t);
	const double amt = amount_major(t);
	struct sender *s = NULL;
	struct wring *q = NULL;
	uint32_t sid = 0;
	int64_t mid = -1, did = -1, iid = -1, rid = -1;
	int cid = -1;
	int mer_known = 0, dev_known = 0, ip_known = 0, rcp_known = 0;
	int is_new, i;
	size_t slot;

	if (f->started && ts < f->last_ts) {
		char a[FD_TS_BUFSZ], b[FD_TS_BUFSZ];

		return fd_err_set(err, FD_EINPUT, "out of time order: %s is earlier than the previous transaction's %s",
				  fd_format_ts(ts, a), fd_format_ts(f->last_ts, b));
	}
	if (ts < -TS_LIMIT || ts > TS_LIMIT)
		return fd_err_set(err, FD_EINPUT, "timestamp %lld ms out of range", (long long)ts);
	if (!present(t->sender_id))
		return fd_err_set(err, FD_EINPUT, "missing sender_id");
	f->started = 1;
	f->last_ts = ts;
	if (v) {
		for (i = 0; i < NFEAT; i++)
			v[i] = NAN;
		ctx_reset(&f->ctx);
	}

	/* stateless features */
	if (v) {
		int64_t msd, dow;
		int64_t day = floor_div(ts, FD_DAY_MS, &msd);
		int hour = (int)(msd / FD_HOUR_MS);

		dow = (day + 3) % 7;  /* 1970-01-01 was a Thursday: 3 with Monday 0 */
		if (dow < 0)
			dow += 7;
		v[F_HOUR] = hour;
		v[F_DOW] = (double)dow;
		v[F_WEEKEND] = dow >= 5;
		v[F_NIGHT] = hour < 6;
		v[F_AMOUNT] = amt;
		if (f->want[F_LOG_AMOUNT])
			v[F_LOG_AMOUNT] = amt < 0 ? -log1p(-amt) : log1p(amt);
		v[F_REVERSAL] = t->amount < 0;
		v[F_ROUND] = is_round(t);
		v[F_JUST_BELOW] = near_threshold(fx);
		v[F_CH_CARD] = v[F_CH_TRANSFER] = v[F_CH_ATM] = v[F_CH_ONLINE] = v[F_CH_MOBILE] = 0;
		v[F_CH_OTHER] = 0;
		if (present(t->channel)) {
			const char *c = t->channel;

			if (strcmp(c, "card") == 0)
				v[F_CH_CARD] = 1;
			else if (strcmp(c, "transfer") == 0)
				v[F_CH_TRANSFER] = 1;
			else if (strcmp(c, "atm") == 0)
				v[F_CH_ATM] = 1;
			else if (strcmp(c, "online") == 0)
				v[F_CH_ONLINE] = 1;
			else if (strcmp(c, "mobile") == 0)
				v[F_CH_MOBILE] = 1;
			else
				v[F_CH_OTHER] = 1;
		}
	}
	/*
	 * Resolve every entity first, then prefetch what the computation will touch (window
	 * heads, pair slots, entity records) so that the cache misses overlap instead of
	 * following one another.
	 */
	if (comp & C_SENDER) {
		int64_t id = intern_grow(f->senders, t->sender_id, NULL, (void **)&f->snd, &f->snd_cap,
					 sizeof(*f->snd), &f->bytes);

		if (id < 0)
			return oom(err);
		sid = (uint32_t)id;
		s = &f->snd[sid];
		for (i = 0; i < (int)sizeof(*s); i += 64)
			__builtin_prefetch((const char *)s + i, 1);
		if (comp & C_WIN) {
			if (grow_zeroed((void **)&f->wr, &f->wr_cap, sid, sizeof(*f->wr), &f->bytes) < 0)
				return oom(err);
			q = &f->wr[sid];
			if (q->cap) {
				int w;

				for (w = W24H; w <= f->wmax; w++)
					__builtin_prefetch(&q->ring[q->head[w] & (q->cap - 1)]);
				__builtin_prefetch(&q->ring[q->end & (q->cap - 1)], 1);
			}
		}
		if ((comp & C_COUNTRY) && (cid = country_id(t->country)) >= 0)
			pairset_prefetch(&f->ps_cty, (uint64_t)sid << 32 | (uint64_t)cid);
	}
	if ((comp & C_FRAUD) && f->lq_len)
		__builtin_prefetch(&f->mer[f->lq[f->lq_head].merchant], 1);
	if ((comp & (C_MERPAIR | C_MERTOT | C_FRAUD | C_CATEGORY | C_MERKNOWN)) && present(t->merchant_id)) {
		/* no memo: a sender rarely pays the same merchant twice in a row, and a hash probe
		 * here overlaps with the fetch of the sender's record */
		mid = resolve(NULL, K_MER, f->merchants, t->merchant_id, (void **)&f->mer, &f->mer_cap,
			      sizeof(*f->mer), &f->bytes, &mer_known);
		if (mid < 0)
			return oom(err);
		__builtin_prefetch(&f->mer[mid]);
		if (comp & C_MERPAIR)
			pairset_prefetch(&f->ps_mer, (uint64_t)sid << 32 | (uint64_t)mid);
	}
	if (comp & C_CATEGORY) {
		int risk = 0;

		if (present(t->merchant_category)) {
			const char *c = t->merchant_category;
			struct merch *m = mid >= 0 ? &f->mer[mid] : NULL;
			int64_t id;

			/* a merchant's category rarely changes: remember it per merchant */
			if (m && m->cat_str && strcmp(m->cat_str, c) == 0) {
				id = m->cat_id;
			} else {
				id = intern_grow(f->cats, c, &is_new, (void **)&f->cat_risk, &f->cat_cap, 1,
						 &f->bytes);
				if (id < 0)
					return oom(err);
				if (is_new)
					f->cat_risk[id] = (unsigned char)category_high_risk(c, strlen(c));
				if (m) {
					m->cat_str = fd_intern_str(f->cats, (uint32_t)id, NULL);
					m->cat_id = (uint32_t)id;
				}
			}
			risk = f->cat_risk[id];
		}
		if (v)
			v[F_HIGH_RISK_CAT] = risk;
	}
	if ((comp & C_DEVPAIR) && present(t->device_id)) {
		did = resolve(s, K_DEV, f->devices, t->device_id, (void **)&f->dev_senders, &f->dev_cap,
			      sizeof(*f->dev_senders), &f->bytes, &dev_known);
		if (did < 0)
			return oom(err);
		__builtin_prefetch(&f->dev_senders[did]);
		if (!dev_known)
			pairset_prefetch(&f->ps_dev, (uint64_t)sid << 32 | (uint64_t)did);
	}
	if ((comp & C_IPPAIR) && present(t->ip)) {
		iid = resolve(s, K_IP, f->ips, t->ip, (void **)&f->ip_senders, &f->ip_cap,
			      sizeof(*f->ip_senders), &f->bytes, &ip_known);
		if (iid < 0)
			return oom(err);
		__builtin_prefetch(&f->ip_senders[iid]);
		if (!ip_known)
			pairset_prefetch(&f->ps_ip, (uint64_t)sid << 32 | (uint64_t)iid);
	}
	if ((comp & (C_RCPPAIR | C_RCPWIN | C_RCPTOT | C_RCPKNOWN)) && present(t->recipient_id)) {
		rid = resolve(s, K_RCP, f->recips, t->recipient_id, (void **)&f->rcp, &f->rcp_cap,
			      sizeof(*f->rcp), &f->bytes, &rcp_known);
		if (rid < 0)
			return oom(err);
		__builtin_prefetch(&f->rcp[rid]);
		if ((comp & C_RCPPAIR) && !rcp_known)
			pairset_prefetch(&f->ps_rcp, (uint64_t)sid << 32 | (uint64_t)rid);
	}

	if (rid >= 0 && f->rcp[rid].cap)
		__builtin_prefetch(&f->rcp[rid].ring[f->rcp[rid].head & (f->rcp[rid].cap - 1)]);
	/* labels that have become visible by now (before anything reads the merchants) */
	if (comp & C_FRAUD)
		labels_release(f, ts);

	/* the sender's last transaction and all-history statistics */
	if (comp & C_SENDER) {
		if (v) {
			if (s->n) {
				v[F_SECS_LAST] = (double)(ts - s->last_ts) / 1000.0;
				v[F_DAYS_LAST] = (double)(ts - s->last_ts) / (double)FD_DAY_MS;
				v[F_AGE_DAYS] = (double)(ts - s->first_ts) / (double)FD_DAY_MS;
				f->ctx.prev_ts = s->last_ts;
			} else {
				v[F_AGE_DAYS] = 0;
			}
			if ((comp & C_WELFORD) && s->n >= 2) {
				double sd = sqrt(s->w_m2 / (double)(s->n - 1));

				if (sd > 0)
					v[F_ZSCORE] = (amt - s->w_mean) / sd;
			}
			if ((comp & C_MAX) && s->n && s->max_fx > 0)
				v[F_TO_MAX] = (double)fx / (double)s->max_fx;
			if ((comp & C_LASTN) && s->lastn_len) {
				unsigned below = 0, equal = 0, k;

				for (k = 0; k < s->lastn_len; k++) {
					below += s->lastn[k] < fx;
					equal += s->lastn[k] == fx;
				}
				v[F_PCTILE] = (below + 0.5 * equal) / s->lastn_len;
			}
		}
	}

	/* the sender's windows */
	if (comp & C_WIN) {
		int w, wmax = f->wmax;
		uint32_t mask;

		/* advance every head past what is no longer inside its window: ts_e <= ts - W */
		for (w = 0; w <= wmax; w++) {
			const int64_t lim = ts - win_ms[w];
			uint32_t h = q->head[w];
			uint64_t sum = s->sum[w];

			mask = q->cap - 1;
			while (h != q->end && q->ring[h & mask].ts <= lim) {
				sum -= (uint64_t)q->ring[h & mask].fx;
				if (w == W24H && near_threshold(q->ring[h & mask].fx))
					s->near24--;
				if ((comp & C_WINSQ) && w >= W24H)
					s->sq[w - W24H] -= fx_square(q->ring[h & mask].fx);
				h++;
			}
			q->head[w] = h;
			s->sum[w] = sum;
		}
		if (v) {
			for (w = 0; w <= wmax; w++) {
				v[F_CNT0 + w] = (double)(q->end - q->head[w] + 1);
				v[F_SUM0 + w] = fx_major(s->sum[w] + (uint64_t)fx);
			}
			if (wmax >= W24H)
				v[F_NEAR_24H] = s->near24 + near_threshold(fx);
			for (w = W7D; w <= wmax; w++) {
				uint32_t cnt = q->end - q->head[w];
				double mean;

				if (!cnt)
					continue;
				mean = fx_major(s->sum[w]) / cnt;
				v[w == W7D ? F_DEV_7D : F_DEV_30D] = amt - mean;
				if (mean > 0)
					v[w == W7D ? F_TO_MEAN_7D : F_TO_MEAN_30D] = amt / mean;
				if (w == W30D)
					f->ctx.sender_mean_30d = mean;
			}
			for (w = W24H; w <= wmax; w++) {
				uint32_t cnt = q->end - q->head[w];

				v[F_MEAN0 + w - W24H] = fx_major(s->sum[w] + (uint64_t)fx) / (cnt + 1);
				if ((comp & C_WINSQ) && cnt >= 2) {
					double sd = window_sd(s->sum[w], s->sq[w - W24H], cnt);

					/* the deviation from the mean exactly: (cnt fx - sum) / cnt */
					if (sd > 0)
						v[F_WZ0 + w - W24H] = (double)((__int128)fx * cnt - (int64_t)s->sum[w])
							/ cnt / (double)FX_SCALE / sd;
				}
			}
		}
		/* append */
		if (q->end - q->head[wmax] == q->cap && ring_grow(q, q->head[wmax], &f->bytes) < 0)
			return oom(err);
		mask = q->cap - 1;
		q->ring[q->end & mask] = (struct went){ .ts = ts, .fx = fx };
		q->end++;
		for (w = 0; w <= wmax; w++)
			s->sum[w] += (uint64_t)fx;
		if (comp & C_WINSQ)
			for (w = W24H; w <= wmax; w++)
				s->sq[w - W24H] += fx_square(fx);
		if (wmax >= W24H && near_threshold(fx))
			s->near24++;
	}

	/* novelty and distinct senders: one pair insertion per kind */
	if (mid >= 0) {
		struct merch *m = &f->mer[mid];

		if (comp & C_MERPAIR) {
			if (pair_seen(&f->ps_mer, s, K_MER, mer_known, sid, mid, &is_new, &f->bytes) < 0)
				return oom(err);
			if (v)
				v[F_NEW_MERCHANT] = is_new;
		}
		if (v) {
			v[F_MER_CNT] = (double)m->total;
			v[F_MER_FRAUD] = m->labelled ? (double)m->frauds / (double)m->labelled : 0.0;
		}
		m->total++;
		if ((comp & C_MERKNOWN)
		    && kring_step(&m->known, ts, f->delay, f->mkmax, t->label == 1, v, F_MK_TXN0, F_MK_FR0,
				  F_MK_SH0, F_MER_FIRST_FRAUD, &f->bytes) < 0)
			return oom(err);
		if ((comp & C_FRAUD) && (t->label == 0 || t->label == 1)
		    && labels_push(f, ts > INT64_MAX - f->delay ? INT64_MAX : ts + f->delay, (uint32_t)mid, t->label) < 0)
			return oom(err);
	}
	if (did >= 0) {
		if (pair_seen(&f->ps_dev, s, K_DEV, dev_known, sid, did, &is_new, &f->bytes) < 0)
			return oom(err);
		if (is_new) {
			f->dev_senders[did]++;
			s->n_devices++;
		}
		if (v) {
			v[F_NEW_DEVICE] = is_new;
			v[F_DEV_SENDERS] = f->dev_senders[did];
		}
	}
	if (v && (comp & C_DEVPAIR))
		v[F_SND_DEVICES] = s->n_devices;
	if (iid >= 0) {
		if (pair_seen(&f->ps_ip, s, K_IP, ip_known, sid, iid, &is_new, &f->bytes) < 0)
			return oom(err);
		if (is_new)
			f->ip_senders[iid]++;
		if (v) {
			v[F_NEW_IP] = is_new;
			v[F_IP_SENDERS] = f->ip_senders[iid];
		}
	}
	if (rid >= 0) {
		struct recip *r = &f->rcp[rid];

		if (comp & C_RCPPAIR) {
			if (pair_seen(&f->ps_rcp, s, K_RCP, rcp_known, sid, rid, &is_new, &f->bytes) < 0)
				return oom(err);
			if (is_new)
				r->n_senders++;
			if (v) {
				v[F_NEW_RECIPIENT] = is_new;
				v[F_RCP_SENDERS] = r->n_senders;
			}
		}
		if (comp & C_RCPWIN) {
			const int64_t lim = ts - win_ms[W30D];

			while (r->head != r->end && r->ring[r->head & (r->cap - 1)] <= lim)
				r->head++;
			if (v)
				v[F_RCP_CNT_30D] = (double)(r->end - r->head + 1);
			if (r->end - r->head == r->cap && rring_grow(r, &f->bytes) < 0)
				return oom(err);
			r->ring[r->end & (r->cap - 1)] = ts;
			r->end++;
		}
		if ((comp & C_RCPKNOWN)
		    && kring_step(&r->known, ts, f->delay, f->rkmax, t->label == 1, v, F_RK_TXN0, F_RK_FR0,
				  F_RK_SH0, -1, &f->bytes) < 0)
			return oom(err);
		if (v)
			v[F_RCP_CNT] = (double)r->total;
		r->total++;
	}

	/*
	 * Countries.  The count of the sender's most frequent country (its home, the country of
	 * most transactions) lives in the sender's record, the others in the pair set; the
	 * home's entry in the set is brought up to date only when another country overtakes it.
	 * Most transactions are at home and so cost no probe.
	 */
	if (comp & C_COUNTRY) {
		if (v && s->n_cty)
			v[F_FOREIGN_SHARE] = f->home_cid >= 0
				? (double)s->n_foreign_home / s->n_cty
				: (double)(s->n_cty - s->mode_count) / s->n_cty;
		if (cid >= 0 && s->n_cty && cid == s->mode_cid) {
			if (v) {
				v[F_NEW_COUNTRY] = 0;
				v[F_IS_FOREIGN] = f->home_cid >= 0 ? cid != f->home_cid : 0;
			}
			s->mode_count++;
			s->n_cty++;
			s->n_foreign_home += f->home_cid >= 0 && cid != f->home_cid;
		} else if (cid >= 0) {
			uint32_t cnt;

			if (pairset_put(&f->ps_cty, (uint64_t)sid << 32 | (uint64_t)cid, &slot, &is_new, &f->bytes) < 0)
				return oom(err);
			cnt = ++f->ps_cty.vals[slot];
			if (v) {
				v[F_NEW_COUNTRY] = cnt == 1;
				if (f->home_cid >= 0)
					v[F_IS_FOREIGN] = cid != f->home_cid;
				else if (s->n_cty)
					v[F_IS_FOREIGN] = 1;
			}
			if (cnt > s->mode_count) {
				/* a new home: write the old one's count back (its key exists: no
				 * insertion, no rehash) */
				if (s->n_cty) {
					if (pairset_put(&f->ps_cty, (uint64_t)sid << 32 | s->mode_cid, &slot, &is_new,
							&f->bytes) < 0)
						return oom(err);
					f->ps_cty.vals[slot] = s->mode_count;
				}
				s->mode_count = cnt;
				s->mode_cid = (uint16_t)cid;
			}
			s->n_cty++;
			s->n_foreign_home += f->home_cid >= 0 && cid != f->home_cid;
		}
	}

	/* geography */
	if (comp & (C_GEO | C_CENTROID)) {
		/* the local hour: on the export's wall clock when its zone is known; else the
		 * solar hour, UTC + longitude / 15 h (rounded), at the transaction's place or,
		 * without one, at the centroid of the sender's earlier places */
		if (v && f->want[F_LOCAL_HOUR]) {
			double lon = NAN;
			int64_t msd, day_s;
			long off = 0;

			floor_div(ts, FD_DAY_MS, &msd);
			if (t->zone_known || f->zone_known) {
				int64_t utc_s = (ts - msd) / 1000 + msd / 1000;  /* floor(ts / 1000) */
				int64_t z = t->zone_known ? t->zone_offset_s
					    : f->zone ? fd_tz_offset_at(f->zone, utc_s) : f->zone_off_s;

				/* seconds into the UTC day plus the offset, wrapped to a day */
				day_s = ((msd / 1000 + z) % 86400 + 86400) % 86400;
				v[F_LOCAL_HOUR] = (double)(day_s / 3600);
				f->ctx.local_clock = FD_CLOCK_ZONE;
				f->ctx.zone_name = t->zone_known ? t->zone_name : f->zone_name;
			} else {
				if (t->has_geo) {
					lon = t->lon;
					f->ctx.local_clock = FD_CLOCK_SOLAR;
				} else if (s->n_geo && (s->cx != 0 || s->cy != 0)) {
					lon = atan2(s->cy, s->cx) * 180.0 / M_PI;
					f->ctx.local_clock = FD_CLOCK_SOLAR_USUAL;
				}
				if (!isnan(lon))
					off = lround(lon / 15.0);
				v[F_LOCAL_HOUR] = (double)(((msd / FD_HOUR_MS + off) % 24 + 24) % 24);
			}
		}
		if (v && s->n_geo) {
			f->ctx.prev_lat = s->geo_lat;
			f->ctx.prev_lon = s->geo_lon;
			f->ctx.prev_geo_ts = s->geo_ts;
			v[F_GEO_MINS] = (double)(ts - s->geo_ts) / 60000.0;
		}
		if (t->has_geo) {
			double ux = 0, uy = 0, uz = 0;

			if (comp & C_CENTROID) {
				const double rad = M_PI / 180.0;
				double cl = cos(t->lat * rad);

				ux = cl * cos(t->lon * rad);
				uy = cl * sin(t->lon * rad);
				uz = sin(t->lat * rad);
			}
			if (v && s->n_geo) {
				if (f->want[F_GEO_DIST] || f->want[F_GEO_SPEED]) {
					double d = fd_haversine_km(s->geo_lat, s->geo_lon, t->lat, t->lon);
					double h = (double)(ts - s->geo_ts) / (double)FD_HOUR_MS;

					v[F_GEO_DIST] = d;
					v[F_GEO_SPEED] = d / (h > 1.0 / 60.0 ? h : 1.0 / 60.0);
				}
				if (comp & C_CENTROID) {
					double norm = sqrt(s->cx * s->cx + s->cy * s->cy + s->cz * s->cz);

					if (norm > 1e-9 * s->n_geo) {
						double cx = s->cx / norm, cy = s->cy / norm, cz = s->cz / norm;
						double px = uy * cz - uz * cy, py = uz * cx - ux * cz,
						       pz = ux * cy - uy * cx;

						v[F_DIST_USUAL] = EARTH_R_KM * atan2(sqrt(px * px + py * py + pz * pz),
										     ux * cx + uy * cy + uz * cz);
					}
				}
			}
			s->n_geo++;
			s->geo_ts = ts;
			s->geo_lat = t->lat;
			s->geo_lon = t->lon;
			s->cx += ux;
			s->cy += uy;
			s->cz += uz;
		}
	}

	/* the sender's all-history statistics, after everything has read them */
	if (comp & C_SENDER) {
		if (!s->n)
			s->first_ts = ts;
		s->last_ts = ts;
		s->n++;
		if (comp & C_WELFORD) {
			double d = amt - s->w_mean;

			s->w_mean += d / s->n;
			s->w_m2 += d * (amt - s->w_mean);
		}
		if ((comp & C_MAX) && (s->n == 1 || fx > s->max_fx))
			s->max_fx = fx;
		if (comp & C_LASTN) {
			s->lastn[s->lastn_pos] = fx;
			s->lastn_pos = (uint8_t)((s->lastn_pos + 1) % LASTN);
			if (s->lastn_len < LASTN)
				s->lastn_len++;
		}
	}
	return FD_OK;
}

int fd_features_push(struct fd_features *f, const struct fd_txn *t, double *out, double *all_out,
		     struct fd_err *err)
{
	double buf[NFEAT], *v = f->identity && out ? out : f->identity && all_out ? all_out : buf;
	size_t i;
	int rc = step(f, t, v, err);

	if (rc)
		return rc;
	if (f->identity) {
		if (out && out != v)
			memcpy(out, v, sizeof(buf));
		if (all_out && all_out != v)
			memcpy(all_out, v, sizeof(buf));
		return FD_OK;
	}
	if (out)
		for (i = 0; i < f->nsel; i++)
			out[i] = v[f->sel[i]];
	if (all_out) {
		for (i = 0; i < NFEAT; i++)
			all_out[i] = NAN;
		for (i = 0; i < f->nsel; i++)
			all_out[f->sel[i]] = v[f->sel[i]];
	}
	return FD_OK;
}

int fd_features_warm(struct fd_features *f, const struct fd_txn *t, struct fd_err *err)
{
	return step(f, t, NULL, err);
}
