/*
 * fd_score_impl.h — what the modules of fd_score.h share and no caller sees: fd_score.c (levels,
 * combining, calibration, stacking), fd_score_reasons.c (reasons in words), fd_scorer.c (the
 * scorer), fd_score_eval.c (evaluation), fd_score_store.c (the store).
 */
#ifndef FD_SCORE_IMPL_H
#define FD_SCORE_IMPL_H

#include "fd_err.h"
#include "fd_model.h"
#include "fd_score.h"

/* "out of memory" (FD_EIO) in err; returns its code. */
int fd_score_oom(struct fd_err *err);

/* The parameters of both surprises, computed once per model (see SURPRISE). */
struct fd_score_cal {
	double qm, qh;
	int tail;            /* the autoencoder's power-law tail applies above ae_high */
	double ae_a, ae_uh;  /* its exponent, and u at ae_high */
	int forest;          /* the forest's logistic is defined */
	double if_c, if_d;
};

void fd_score_cal_init(const struct fd_model *m, struct fd_score_cal *c);
/* The surprises u of an autoencoder error e and a forest score s (NaN: none); see SURPRISE. */
double fd_score_ae_u(const struct fd_score_cal *c, const struct fd_model *m, double e);
double fd_score_if_u(const struct fd_score_cal *c, double s);

/* See fd_score.c: the stacker for scoring with or without rules, and its inputs. */
const struct fd_stacker *fd_score_stacker_for(const struct fd_model *m, int rules, int *fitted);
size_t fd_score_stack_inputs(const struct fd_model *m, const struct fd_score_layers *l, int rules, double *z);

/* The sentence kinds (one per group of features that read alike). */
enum kind {
	K_GENERIC, K_HOUR, K_LOCAL_HOUR, K_DOW, K_WEEKEND, K_NIGHT, K_SECS_LAST, K_DAYS_LAST, K_AGE, K_AMOUNT,
	K_REVERSAL, K_ZSCORE, K_TO_MAX, K_PCTL, K_TO_MEAN, K_DEV, K_ROUND, K_BELOW_THR, K_COUNT,
	K_SUM, K_NEAR_THR, K_NEW, K_RCPT30, K_GEO_DIST, K_GEO_SPEED, K_MINS_GEO, K_DIST_USUAL,
	K_FOREIGN, K_FOREIGN_SHARE, K_RCPT_COUNT, K_RCPT_SENDERS, K_MERCH_COUNT, K_MERCH_FRAUD,
	K_DEV_SENDERS, K_IP_SENDERS, K_SENDER_DEVICES, K_CHANNEL, K_HIGH_RISK,
	K_WMEAN, K_WZSCORE, K_KNOWN_TXNS, K_KNOWN_FRAUDS, K_FRAUD_SHARE, K_FIRST_FRAUD,
};

struct phrase {
	const char *name;
	enum kind kind;
	const char *arg;   /* a window in words, a noun, a channel */
	const char *win;   /* the window of a delayed-label feature (arg is its party) */
};

/* The phrase of feature name, NULL when it has none (fd_score_reasons.c). */
const struct phrase *fd_score_phrase_of(const char *name);

#endif
