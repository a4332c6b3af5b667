/*
 * fd_features.h — point-in-time behavioural features of transactions.
 *
 * One engine serves fd-features, fd-rules, fd-train and fd-score, so that training and scoring
 * cannot drift apart.  Transactions are pushed in time order; for each one the engine computes
 * the selected features from the state built by the transactions pushed BEFORE it (earlier in
 * time, or at the same ms but earlier in input order), then adds it to the state.  Nothing later
 * and never the transaction's own label can influence its features.
 *
 * Conventions (the man page fd-features.1 gives every formula):
 *  - Windows are exact (every transaction in the window is kept, no approximation) and
 *    half-open: the window W of a transaction at time t holds the sender's earlier transactions
 *    with ts > t - W, plus the transaction itself for counts and sums ("7 transactions in 10
 *    minutes" includes the current one).  A transaction exactly W earlier is outside.
 *  - A feature that has no defined value (the sender's first transaction has no
 *    secs_since_last) is NaN; writers print it as an empty CSV field / JSON null.
 *  - Amounts are in major units (amount / 10^exponent) as doubles: features are statistics;
 *    exact amounts stay in the store.
 *  - Labels become known to the engine label_delay_ms after the transaction's time (the
 *    merchant fraud-rate feature), modelling that chargebacks arrive late.
 *
 * Memory grows with the number of entities and with the contents of the windows (at most the
 * longest window, 30 days, of each sender's transactions), never with the number of
 * transactions pushed.
 *
 * Per-entity state lives behind this one handle, so a sender-keyed shard of the input gives
 * the same sender-keyed features as the full run (DESIGN.md "Scale beyond one machine").
 */
#ifndef FD_FEATURES_H
#define FD_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "fd_err.h"
#include "fd_txn.h"

/* One entry of the catalog. */
struct fd_feat_def {
	const char *name;        /* "sender_txn_count_10m" */
	const char *group;       /* "temporal", "amount", "velocity", "novelty", "geography",
				    "network", "encoding" */
	const char *definition;  /* one line, for --list */
};

/* The whole catalog, in its fixed order (the order of "all features"). */
size_t fd_feat_catalog(const struct fd_feat_def **defs);
/* Catalog index of a feature name, or -1. */
int fd_feat_lookup(const char *name);

struct fd_feat_opts {
	int64_t label_delay_ms;  /* default (when opts is NULL) 7 days; >= 0 (FD_EUSAGE
				    otherwise); 0 = a label is known from the next push on */
	const char *home_country; /* for the foreign-share feature; NULL = each sender's most
				     frequent country so far; else two upper-case letters
				     (FD_EUSAGE otherwise) */
	/* The export's time zone (--tz on a file), whose wall clock local_hour then reads (a
	 * transaction's own zone, fd_txn.zone_known, from the store, comes first):
	 * zone (fd_tz.h, borrowed: it must outlive the engine), else a fixed offset of
	 * zone_offset_min minutes east of UTC when zone_fixed; zone_name (borrowed) names it
	 * in reasons.  Neither: the zone is unknown, and local_hour is solar time. */
	const struct fd_tz *zone;
	int zone_fixed, zone_offset_min;
	const char *zone_name;
};

/* The clock local_hour read for the last push (fd_feat_context.local_clock). */
enum fd_local_clock {
	FD_CLOCK_UTC,           /* no zone and no place known */
	FD_CLOCK_ZONE,          /* the export's zone (fd_feat_opts.zone_name) */
	FD_CLOCK_SOLAR,         /* solar time at the transaction's longitude */
	FD_CLOCK_SOLAR_USUAL,   /* solar time at the sender's usual place */
};

struct fd_features;

/* NULL opts = defaults.  All features selected.  FD_EIO on out of memory, FD_EUSAGE on bad
 * opts; *f is NULL on error. */
int fd_features_create(struct fd_features **f, const struct fd_feat_opts *opts, struct fd_err *err);
void fd_features_free(struct fd_features *f);

/*
 * Select the features to compute and output, by a comma-separated list of names (NULL or
 * "all" = the whole catalog, in catalog order).  An unknown name is FD_EUSAGE naming it.
 * Blanks around names are ignored; a name given twice is selected once (first place).
 * Selecting fewer features makes push faster (only their state is kept); a selected
 * feature's values are the same whatever else is selected.  Call before the first push or
 * warm (FD_EUSAGE after).
 */
int fd_features_select(struct fd_features *f, const char *list, struct fd_err *err);
/* Select by catalog indices (for rules, which know what they need).  Adds to the selection
 * when add is 1, replaces it when 0.  An index outside the catalog is FD_EUSAGE; repeated
 * indices are selected once. */
int fd_features_select_idx(struct fd_features *f, const int *idx, size_t n, int add, struct fd_err *err);

/* The selected features: count, and the catalog index of the i-th (-1 when i >= count). */
size_t fd_features_count(const struct fd_features *f);
int fd_features_catalog_index(const struct fd_features *f, size_t i);

/*
 * Compute the selected features of t into out[0 .. count-1] (selection order), then add t to
 * the state.  When all_out is not NULL it receives the full catalog-indexed vector
 * (catalog size), with NaN for features not selected.
 * t->ts must not be earlier than the previous push's: FD_EINPUT "out of time order" otherwise
 * (the caller names the file and line); t->sender_id must be present and |t->ts| at most
 * 2^53 ms (FD_EINPUT).  After
 * either the state is unchanged.  FD_EIO when out of memory: the state may then be partly
 * updated, free the engine.  An optional text field that is "" counts as absent.
 */
int fd_features_push(struct fd_features *f, const struct fd_txn *t, double *out, double *all_out,
		     struct fd_err *err);

/*
 * Add t to the state without computing its features (warming from history before --since).
 * The same time-order rule applies.
 */
int fd_features_warm(struct fd_features *f, const struct fd_txn *t, struct fd_err *err);

/* The longest window (ms) any selected feature looks back: how far before --since to warm.
 * A windowed feature needs its window, a feature over all history (novelty, totals, the
 * previous transaction, labels) the longest window (30 days), a feature of the transaction
 * alone nothing. */
int64_t fd_features_lookback_ms(const struct fd_features *f);

/* Memory held by the state, bytes (for benchmarks and --verbose). */
size_t fd_features_bytes(const struct fd_features *f);

/*
 * Baselines for reasons in words: the sender's mean amount over 30 days before t's push and
 * the previous located transaction, as they were when the last push computed its features.
 * Valid after fd_features_push() until the next push (fd_features_warm() leaves it alone).
 * A field is kept only when a feature that needs the same state is selected, else it is
 * NaN / -1: sender_mean_30d with any 30-day amount feature (sender_amount_sum_30d,
 * sender_txn_count_30d, amount_to_mean_30d, amount_dev_30d), prev_ts with any sender
 * feature, prev_lat/prev_lon/prev_geo_ts with geo_distance_km, geo_speed_kmh or
 * mins_since_prev_geo.  All of them with the whole catalog.
 */
struct fd_feat_context {
	double sender_mean_30d;      /* NaN when no history */
	int64_t prev_ts;             /* the sender's previous transaction, -1 when none */
	double prev_lat, prev_lon;   /* previous located transaction, NaN when none */
	int64_t prev_geo_ts;
	int local_clock;             /* enum fd_local_clock, with local_hour */
	const char *zone_name;       /* the zone's name with FD_CLOCK_ZONE (borrowed), else NULL */
};
void fd_features_context(const struct fd_features *f, struct fd_feat_context *ctx);

#endif
