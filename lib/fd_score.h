/*
 * fd_score.h — scoring transactions with a model and rules: the layers combined into a risk,
 * a level, a decision and a confidence, with reasons in words; the calibration fd-train does
 * on its validation rows; the evaluation of the layers on labelled data; and the store's
 * models, score_runs and scores tables (migration 3, fd_schema_score.c).
 *
 * fd-score, fd-train (calibration, `fd-train eval`) and any tool that wants a score call this
 * module, so a risk means the same thing everywhere.  fd-score(1) documents the user's view.
 *
 * THE LAYERS of a transaction:
 *   autoencoder   its reconstruction error e, calibrated as p_ae = the share of validation
 *                 errors below e (the model's ECDF, fd_model_ae_score): the ae_score written;
 *   forest        the isolation forest score s in (0, 1], written as it is;
 *   rules         the points of the rules hit, and whether one of them has action block.
 *
 * SURPRISE.  Each model layer's value becomes a surprise u = -log10(share of normal
 * transactions at least as unusual): 1 for the top 10%, 2 for the top 1%, 3 for the top 0.1%.
 *   autoencoder: u = -log10(1 - p_ae) up to the HIGH threshold; beyond it, where the
 *     validation rows thin out, the tail is extended as a power law through both thresholds:
 *     u = u_high + a * log10(e / ae_high), a = log10((1 - q_m) / (1 - q_h)) / log10(ae_high /
 *     ae_medium), so that errors far beyond anything seen in validation keep their order;
 *   forest: the logistic through its two thresholds, p_if(if_medium) = q_m and p_if(if_high) =
 *     q_h, gives u = log10(1 + exp(c + d * s)) (the same as -log10(1 - p_if), without
 *     rounding to 1).
 *   q_m and q_h are the shares of validation rows below the thresholds: read from the
 *   autoencoder's ECDF at ae_medium and ae_high (fd-train sets both layers' thresholds at the
 *   same quantiles), else 0.95 and 0.99.
 *
 * THE RISK (0-100, rounded to the hundredth, written with two decimals).  The model's risk is 25 times the mean surprise of its
 * layers; the rules' points are a risk of their own; the risk is the higher of the two:
 *	risk = min(100, round2(max(25 * mean(u_ae, u_if), rule points)))
 * so a typical transaction has about 8, one in the top 1% of both layers 50, and a rule of
 * 30 points makes at least 30 (a block rule's 100 points make 100).  The maximum rather than
 * the sum, because frequent weak rules (the hour of the day) would otherwise shift every
 * score they touch; agreement between layers shows in the confidence instead.  (Measured on
 * fd-gen data, 400,000 transactions, 3 months trained, the 4th scored: average precision 0.74
 * for the sum, 0.80 for the maximum, 0.73 for the autoencoder alone; equal weights of the two
 * model layers did better than 0.3/0.7 either way.)
 *
 * LEVELS use the model's own risk thresholds, calibrated by fd-train on its validation rows
 * (rule points included when it had rules): risk_medium is the lowest whole risk reached by at
 * most 5% of them (1 - q_m), risk_high by at most 1% (1 - q_h).  risk >= risk_high: HIGH;
 * >= risk_medium: MEDIUM; else LOW — always the written (rounded) risk against the threshold
 * rounded up to the hundredth (fd_score_risk_reaches), with and without a stacker.
 *
 * STACKING (models trained with labels, format version 2).  The supervised layer, boosted
 * trees (fd_gbdt.h), gives a fraud probability p_gb, written as gb_score.  The combined risk
 * is then learned rather than fixed: a logistic regression (a stacker) over
 *	z = (logit(p_gb) clamped to ±20, [rule points / 100, any rule hit])
 * (the last two only in the stacker with rules), fitted by fd-train on the validation rows
 * — the last part of the training period in time, on which none of the layers was trained —
 * against their labels.  A model without trees stacks (u_ae, u_if, [rule inputs]) instead.
 * The unsupervised layers are not inputs when the model has trees: fitted on the validation
 * rows, which lie in the training period, they won weights that did not hold a few weeks
 * later, when features that grow with the history (an account's age, a merchant's count) had
 * drifted — on make eval's third-party data they cut the test period's average precision
 * from 0.74 to 0.31 and from 0.70 to 0.27.  They still give ae_score, if_score, the
 * confidence and the reasons.  Two stackers are fitted when the training had rules, one with
 * the rules' inputs and one without, each a calibrated probability of fraud given what it
 * sees, so a risk means the same with and without rules:
 *	risk = round2(100 * sigmoid(w . z + b))   (risk_raw unrounded; a block rule: 100)
 * Scoring with rules a model trained without them uses its stacker without rules: a block
 * rule still gives 100, but other rules' points do not move the risk — they are not on the
 * stacker's scale (a calibrated probability whose MEDIUM threshold may be 0.4), so taking
 * the higher of the two sent 30% of make eval's sparkov traffic to MEDIUM for a rule that hit
 * 7,074 legitimate night-time purchases and 2 frauds.  Their hits still give reasons and the
 * confidence; fd-score notes that the model was calibrated without rules.
 * Levels compare the risk with the stacker's own thresholds, the quantiles q_m and q_h of
 * the validation rows' risks (all rows, fraud included: the share of traffic that will
 * alert).  A model without stackers (no labels, or too few) combines as above.
 *
 * THE DECISION: a hit of a rule with action block gives BLOCK; otherwise MEDIUM and HIGH give
 * REVIEW and LOW gives APPROVE.
 *
 * THE CONFIDENCE (0-1): the share of the layers present that agree with the decision.  A layer
 * flags the transaction when the autoencoder error >= ae_medium, the forest score >= if_medium,
 * or any rule hits; for REVIEW and BLOCK the flagging layers agree, for APPROVE the others.
 *
 * REASONS are ORDERED: reasons[0] is the deciding reason, and each later one added less to
 * the risk (a dashboard's "top reason" is reasons[0]).  They are the reason of each rule hit
 * (its template, fd_rules_reason) and — for MEDIUM and HIGH (or every transaction with
 * reasons_all) — up to opts.top (3) model features that raised the risk: with boosted trees,
 * the features with the largest positive contributions to this transaction's fraud log-odds
 * (fd_gbdt_contrib, approximate: path attribution, summing to the margin like SHAP; computed
 * in one call for the batch's rows that need reasons), each sentence ending in "(raises
 * risk)"; without them, the model features that contribute most to the reconstruction error
 * (the largest squared differences; the largest standardised values when the model has no
 * autoencoder).  Each in words with its value and the sender's own baseline where the feature
 * engine keeps one (fd_features_context), else the typical value over all senders (the
 * scaler mean): "amount 1,250.00 USD, 41.2× this sender's 30-day mean of 30.34 USD", "3,912
 * km from the previous transaction 42 minutes earlier".
 *
 * The ORDER weighs each reason by what it added to the risk.  With a stacker, in log-odds: a
 * rule hit w_points * points / 100 + w_any_hit / hits; a feature w_gb times its contribution
 * to the trees' margin (without trees, its share of the reconstruction error or deviation
 * times the model layers' sum of w * u).  Without a stacker, in risk points: a rule hit its
 * points, a feature its share of the model's risk 25 * mean(u).  A hit of a block rule ranks
 * above everything; ties keep rule order, and rules before features.
 *
 * ONCE EACH: a feature that a hit rule's expression or reason template reads is left out, and
 * so is any feature of the same measure (the amount against the sender's history; counts;
 * sums and means; distance, speed and time from the previous located transaction; the hour on
 * any clock; weekday and weekend; amounts just below the reporting threshold; a merchant's or
 * a recipient's labelled history); among features, one sentence per measure, the next feature
 * taking the place; a sentence equal to one already given is dropped.
 *
 * ONLY UNUSUAL FACTS (fd_score_feature_notable, thresholds FD_REASON_* below): a count of 1 in
 * a window is the transaction itself; a sum must hold more than the transaction; a ratio below
 * FD_REASON_RATIO is not "above the mean"; a category (channel, weekend) shared by more than
 * FD_REASON_RARE_SHARE of traffic is no reason; a flag speaks only when on.
 *
 * LOCAL TIME: local_hour is the export's wall clock when its zone is known (fd_feat_opts.zone),
 * else solar time; the sentence names the clock (fd_feat_context.local_clock).
 */
#ifndef FD_SCORE_H
#define FD_SCORE_H

#include <stddef.h>
#include <stdint.h>

#include "fd_buf.h"
#include "fd_err.h"
#include "fd_features.h"
#include "fd_io.h"
#include "fd_model.h"
#include "fd_rules.h"
#include "fd_store.h"
#include "fd_txn.h"

enum fd_level { FD_LEVEL_LOW, FD_LEVEL_MEDIUM, FD_LEVEL_HIGH, FD_NLEVELS };
enum fd_decision { FD_DECISION_APPROVE, FD_DECISION_REVIEW, FD_DECISION_BLOCK, FD_NDECISIONS };
extern const char *const fd_level_name[FD_NLEVELS];        /* "LOW", "MEDIUM", "HIGH" */
extern const char *const fd_decision_name[FD_NDECISIONS];  /* "APPROVE", "REVIEW", "BLOCK" */
/* Case-insensitive; -1 when unknown. */
int fd_level_parse(const char *s);

#define FD_SCORE_MODEL_WEIGHT 25.0  /* risk points per unit of mean surprise */

/* ---- combining the layers (pure functions of the model's thresholds) ------------------ */

/* The quantiles the model's thresholds stand for (see THE LAYERS): from its ECDF, else
 * 0.95 and 0.99. */
void fd_score_threshold_quantiles(const struct fd_model *m, double *q_m, double *q_h);

/* The surprise u of an autoencoder error e and of a forest score s (see SURPRISE); NaN for a
 * NaN value, or when the model lacks the layer's calibration (ECDF, increasing thresholds). */
double fd_score_ae_surprise(const struct fd_model *m, double e);
double fd_score_forest_surprise(const struct fd_model *m, double s);

struct fd_score_layers {
	double ae_error;     /* NaN when the model has no autoencoder */
	double ae_p;         /* calibrated, 0-1 (NaN likewise) */
	double ae_u;         /* surprise (NaN likewise) */
	double if_score;     /* NaN when the model has no forest */
	double if_u;
	double gb_p;         /* the boosted trees' fraud probability; NaN without them */
	int rules_present;   /* rules were evaluated */
	int rule_points;     /* sum of the points of the hits */
	size_t nhits;
	int block;           /* a hit has action block */
};

struct fd_score_verdict {
	double risk_raw;     /* before rounding and the cap, for ranking (evaluation) */
	double risk;         /* 0-100, rounded to the hundredth (fd_score_risk_round) */
	int level;           /* enum fd_level */
	int decision;        /* enum fd_decision */
	double confidence;   /* 0-1 */
	int layers, agree;   /* layers present, and agreeing with the decision */
};

/* Combine (see the top of this file).  Thresholds that are unset (NaN) never flag: a model
 * without risk thresholds gives LOW unless a block rule hits. */
/* A raw risk capped to 0..100 and rounded to the hundredth (half away from zero): the risk
 * that is written everywhere (CSV, NDJSON, the store, reports). */
double fd_score_risk_round(double raw);
/* Whether the written risk (fd_score_risk_round) reaches the threshold t rounded up to the
 * hundredth (within 1e-6 of a hundredth counts as that hundredth, so 80 stays 80.00 whatever
 * the binary representation): a risk printed 80.00 never disagrees with its level.  NaN and
 * thresholds above 100 are never reached. */
int fd_score_risk_reaches(double risk, double t);
void fd_score_combine(const struct fd_model *m, const struct fd_score_layers *l,
		      struct fd_score_verdict *v);
/* The same with the level thresholds medium and high (risk 0-100) instead of the model's. */
void fd_score_combine_at(const struct fd_model *m, const struct fd_score_layers *l, double medium,
			 double high, struct fd_score_verdict *v);
/* The stacker that scores with (rules 1) or without rules, or NULL when the model has none. */
const struct fd_stacker *fd_score_stacker(const struct fd_model *m, int rules);
/* The risk level thresholds in use with or without rules: the stacker's, else the model's. */
void fd_score_level_thresholds(const struct fd_model *m, int rules, double *medium, double *high);
/*
 * Level thresholds for an alert budget of alerts_per_day (MEDIUM or HIGH) at the training
 * data's traffic: MEDIUM at the share s = alerts_per_day / rows_per_day of the validation
 * risks, HIGH at s / 5 (as fd-train --alerts-per-day).  FD_EUSAGE when the model has no
 * stacker or no traffic figure, or s is not below one half.
 */
int fd_score_alert_thresholds(const struct fd_model *m, int rules, double alerts_per_day,
			      double *medium, double *high, struct fd_err *err);
/* The share of the validation rows at or above the risk t (the calibrated flag rate at
 * MEDIUM when t is the MEDIUM threshold): from the stacker's quantiles, else NaN. */
double fd_score_calibrated_rate(const struct fd_model *m, int rules, double t);

/* ---- calibration (fd-train) ------------------------------------------------------------ */

/*
 * Set every threshold of m from n validation rows: ae_error[i] (NULL or NaNs when the model
 * has no autoencoder), if_score[i] (NULL without forest), rule_points[i] and block[i] (NULL
 * when no rules were evaluated), at the quantiles q_m < q_h (0.95 and 0.99 by default):
 * the autoencoder's thresholds and ECDF (fd_model_calibrate_ae), the forest's thresholds (the
 * same quantiles of its scores), and the risk thresholds: the lowest whole risks that at most
 * a share 1 - q_m (1 - q_h) of the rows reach, capped at 100.  FD_EUSAGE for n == 0 or bad
 * quantiles, FD_EIO when out of memory.
 */
int fd_score_calibrate(struct fd_model *m, const float *ae_error, const float *if_score,
		       const int *rule_points, const unsigned char *block, size_t n, double q_m,
		       double q_h, struct fd_err *err);

/*
 * Fit the stackers (see STACKING) on n validation rows: their layers (ae_u, if_u, gb_p,
 * rules_present, rule_points, nhits) and label[i] (0 or 1).  The stacker without rules is
 * always fitted, the one with rules when rows[0].rules_present; each by Newton's method on the
 * log-likelihood with a tiny ridge (1e-6 per row) that keeps separable data finite.  Also
 * sets m->gb_medium and m->gb_high (the q_m and q_h quantiles of gb_p) when the model has
 * trees.  FD_EINPUT when the rows hold fewer than FD_SCORE_MIN_FRAUD frauds or legitimate
 * rows (the message says how many); FD_EUSAGE for bad quantiles; FD_EIO when out of memory.
 */
#define FD_SCORE_MIN_FRAUD 5
int fd_score_fit_stack(struct fd_model *m, const struct fd_score_layers *rows, const int *label,
		       size_t n, double q_m, double q_h, struct fd_err *err);

/* ---- reasons in words ------------------------------------------------------------------ */

/* What a feature's sentence may draw on besides its value. */
struct fd_score_basis {
	int64_t ts;                  /* the transaction's time, ms */
	int64_t amount;              /* minor units */
	int exponent;
	char currency[4];
	const double *all;           /* catalog-indexed feature vector (fd_features_push all_out) */
	struct fd_feat_context ctx;  /* the sender's baselines (fd_features_context) */
};

/*
 * Append the sentence for catalog feature cat (fd_feat_lookup) with value v, typical the
 * value over all senders (the scaler mean), to out.  Features without a sentence of their own
 * get "NAME v (typical T)".  0, or -1 when out of memory.
 */
int fd_score_feature_reason(int cat, double v, double typical, const struct fd_score_basis *b,
			    struct fd_buf *out);

/*
 * 1 when the fact of catalog feature cat with value v (typical as above) is unusual enough in
 * words to be a reason, else 0 (see REASONS for the thresholds).  An undefined value (NaN) is
 * never a reason.
 */
#define FD_REASON_RATIO 2.0            /* x the sender's mean, or the typical value of all senders */
#define FD_REASON_MAX_RATIO 1.5        /* x the sender's largest earlier amount */
#define FD_REASON_ZSCORE 2.0           /* standard deviations above the sender's mean */
#define FD_REASON_PERCENTILE 0.95      /* above this share of the sender's last 20 amounts */
#define FD_REASON_NIGHT_END 6          /* hours 0-5 of the clock named */
#define FD_REASON_QUICK_S 600.0        /* seconds after the sender's previous transaction */
#define FD_REASON_DORMANT_DAYS 30.0    /* days since the sender's previous transaction */
#define FD_REASON_NEW_SENDER_DAYS 7.0  /* days since the sender's first transaction */
#define FD_REASON_FAR_KM 100.0         /* from the previous or the usual place */
#define FD_REASON_FAST_KMH 500.0       /* between located transactions */
#define FD_REASON_RARE_SHARE 0.10      /* a channel (weekends) used by at most this share of traffic */
#define FD_REASON_RARE_PARTY 5         /* a merchant or recipient seen at most this often before */
int fd_score_feature_notable(int cat, double v, double typical, const struct fd_score_basis *b);

/* ---- the scorer: transactions in, verdicts out ---------------------------------------- */

/* One scored transaction, as handed to the emit callback (everything borrowed for the call). */
struct fd_score_row {
	const char *txn_id;
	int64_t ts;
	const char *sender_id;
	int label;                       /* the transaction's: 1, 0, -1 unknown */
	struct fd_score_layers l;
	const struct fd_rule_hit *hits;  /* l.nhits, in rule order */
	struct fd_score_verdict v;
	size_t nreasons;
	const char *const *reasons;      /* sentences, ORDERED: reasons[0] is the deciding one
					    (see REASONS), each once */
	double latency_s;                /* push to emit, when opts.timing; else 0 */
};

struct fd_scorer_opts {
	size_t batch;        /* transactions scored together: 0 = 256; 1 = each at once */
	size_t top;          /* feature reasons per flagged transaction: 0 = 3 */
	int reasons_all;     /* feature reasons for every transaction, not only MEDIUM and HIGH */
	int no_reasons;      /* no reasons at all (evaluation) */
	int timing;          /* measure latency_s */
	int thresholds;      /* use medium and high below instead of the model's level thresholds */
	double medium, high;
	int drift;           /* count each feature's values into the model's histograms (PSI) */
	const struct fd_feat_opts *feat;  /* NULL = the feature engine's defaults */
	/* Called for each scored transaction in input order; a non-zero fd_status (with err
	 * filled) stops scoring and is returned by fd_scorer_push / fd_scorer_flush. */
	int (*emit)(void *user, const struct fd_score_row *row, struct fd_err *err);
	void *user;
};

struct fd_scorer;

/*
 * A scorer for model m and rules r (both borrowed: they must outlive the scorer; r may be
 * NULL).  It runs its own feature engine on exactly the model's features plus those the rules
 * read.  FD_EINPUT when a model feature is not in the catalog ("model 'M' needs features this
 * fd does not know: a, b"; the caller adds the model's name), or the model has neither
 * network; FD_EUSAGE for bad options; FD_EIO when out of memory.
 */
int fd_scorer_create(struct fd_scorer **sc, const struct fd_model *m, const struct fd_rules *r,
		     const struct fd_scorer_opts *o, struct fd_err *err);
/* Accepts NULL.  Rows still pending are dropped. */
void fd_scorer_free(struct fd_scorer *sc);

/* How far before a period's start history must be replayed (fd_features_lookback_ms). */
int64_t fd_scorer_lookback_ms(const struct fd_scorer *sc);

/* Add a history transaction to the feature state without scoring it. */
int fd_scorer_warm(struct fd_scorer *sc, const struct fd_txn *t, struct fd_err *err);

/*
 * Score t: its features and rules now, the model when the batch is full (at once with batch
 * 1), then emit.  Errors: those of fd_features_push (FD_EINPUT out of time order: the state is
 * unchanged), of the rules' reasons, and the emit callback's.  After an error other than
 * out-of-order input, free the scorer.
 */
int fd_scorer_push(struct fd_scorer *sc, const struct fd_txn *t, struct fd_err *err);
/* Score and emit what is pending. */
int fd_scorer_flush(struct fd_scorer *sc, struct fd_err *err);
/*
 * After the last flush: rows scored, rows at MEDIUM or above, and (with opts.drift and a
 * model with histograms) the PSI of each model feature against its training histogram into
 * psi[0 .. n_features-1] (NaN without histograms).  psi may be NULL.
 */
void fd_scorer_summary(const struct fd_scorer *sc, uint64_t *rows, uint64_t *flagged, double *psi);

/* ---- evaluation: the layers side by side ---------------------------------------------- */

enum { FD_LAYER_AE, FD_LAYER_FOREST, FD_LAYER_GB, FD_LAYER_RULES, FD_LAYER_COMBINED, FD_NLAYERS };
extern const char *const fd_layer_name[FD_NLAYERS];  /* "autoencoder", "forest", "gbdt",
							"rules", "combined" */

struct fd_score_eval;

/* An evaluation of rows scored with model m (borrowed).  NULL when out of memory. */
struct fd_score_eval *fd_score_eval_create(const struct fd_model *m, int rules_present);
void fd_score_eval_free(struct fd_score_eval *ev);

/*
 * Count a scored row (rows with a label other than 0 or 1 are skipped).  Each layer's
 * ranking score: the autoencoder error, the forest score, the boosted trees' probability
 * (confusion at gb_medium and gb_high), the rule points (plus 0.5 when any
 * rule hits, so a hit of 0 points ranks above none), the combined risk before rounding.  Its
 * confusion matrices at the model's levels: MEDIUM (error >= ae_medium, score >= if_medium,
 * any rule hit, level MEDIUM or HIGH) and HIGH (>= ae_high, >= if_high, a block rule, level
 * HIGH).  -1 when out of memory.
 */
int fd_score_eval_add(struct fd_score_eval *ev, const struct fd_score_row *row);

/* Labelled rows counted, and frauds among them. */
size_t fd_score_eval_count(const struct fd_score_eval *ev, size_t *frauds);

/*
 * Write the report to out: with format FD_FMT_CSV or FD_FMT_NDJSON one record per layer
 * (layer, rows, frauds, auc_roc, avg_precision, recall_at_fpr_1pct, recall_at_fpr_5pct, k,
 * precision_at_k, then for medium and high: threshold, tp, fp, fn, tn); with 0 an aligned
 * table.  Layers the model lacks are left out.  k: the precision of the top k (0 = 100).
 */
int fd_score_eval_write(struct fd_score_eval *ev, struct fd_out *out, int format, size_t k,
			struct fd_err *err);

/* The ranking metrics of every layer as a JSON object's text, appended to out, e.g.
 * {"autoencoder":{"auc_roc":0.97,"avg_precision":0.61,...},...}.  0 or -1 (memory). */
int fd_score_eval_json(struct fd_score_eval *ev, size_t k, struct fd_buf *out);

/* ---- the store ------------------------------------------------------------------------ */

/* A model's version: the first 12 hex digits of the SHA-256 of its file. */
#define FD_MODEL_VERSION_LEN 12
void fd_score_model_version(const char sha256_hex[65], char version[FD_MODEL_VERSION_LEN + 1]);

/*
 * Register a model in the models table: version (from sha256, the file's hash), path, its
 * feature names, its metrics JSON, trained_at and the store's actor, with its audit entry
 * (action "model.register", object model/<id>, covering the models row).  A version already
 * registered is left as it is: *created = 0 and *id its row.  Works in the caller's store
 * transaction when one is open, else in its own.  FD_EIO on store errors.
 */
int fd_score_register_model(struct fd_store *st, const struct fd_model *m, const char *path,
			    const char *sha256, int64_t trained_at, int64_t *id, int *created,
			    struct fd_err *err);

/*
 * Promote the registered model id: models.promoted = 1 for it and 0 for every other, each
 * change with its audit entry (action "model.promote" or "model.demote", object model/<id>,
 * covering the models row).  Works in the caller's transaction when one is open, else in its
 * own.  FD_EINPUT when no model has that id; FD_EIO on store errors.
 */
int fd_score_promote_model(struct fd_store *st, int64_t id, struct fd_err *err);
/*
 * The promoted model of the store (the newest one promoted): *path (malloc'ed, the caller
 * frees) and its version; *path NULL when none is promoted.  FD_EIO on store errors.
 */
int fd_score_promoted_model(struct fd_store *st, char **path, char version[FD_MODEL_VERSION_LEN + 1],
			    struct fd_err *err);
struct fd_score_store;

/*
 * Start recording a scoring run inside the caller's open store transaction (FD_EUSAGE
 * otherwise): a score_runs row (model version, ruleset SHA-256 or NULL, started_at = scored_at
 * of every row, the store's actor).
 */
int fd_score_store_begin(struct fd_score_store **ss, struct fd_store *st, const char *model_version,
			 const char *ruleset, int64_t started_at, const struct fd_rules *r,
			 struct fd_err *err);
/* Record a row: INSERT OR IGNORE on (txn_id, model_version), so a transaction already scored
 * by this model version keeps its first score. */
int fd_score_store_add(struct fd_score_store *ss, const struct fd_score_row *row, struct fd_err *err);
/* Rows this run added so far, and rows already there. */
int64_t fd_score_store_added(const struct fd_score_store *ss, int64_t *already);
/*
 * Finish the run (still inside the caller's transaction, which the caller commits): when it
 * added rows, set score_runs.rows and append the audit entry "score.run" on score_run/<id>
 * covering the run's score_runs row and its scores rows (fd_verify_record), details =
 * extra_json's members (may be NULL) plus model_version, ruleset, added and already; *run_id
 * and *seq receive the run and the entry.  When it added nothing, the run row is deleted and
 * *run_id = *seq = 0.  Frees ss in both cases.
 */
int fd_score_store_finish(struct fd_score_store *ss, const char *extra_json, int64_t *run_id,
			  int64_t *seq, struct fd_err *err);
/* Accepts NULL; does not touch the transaction. */
void fd_score_store_free(struct fd_score_store *ss);

#endif
