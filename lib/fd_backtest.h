/*
 * fd_backtest.h — the arithmetic of `fd-rules backtest`: how well a rule set flags the
 * transactions known to be fraud.
 *
 * Each transaction is counted once with the hits the rules gave it (fd_rules_eval) and its
 * label (1 fraud, 0 legitimate, -1 unknown).  For every rule, and for the whole set, the
 * module keeps:
 *
 *   hits        transactions the rule hits (labelled or not); for the whole set, the alerts:
 *               transactions hit by at least one rule, each counted once however many fire
 *   TP, FP      hits labelled fraud, hits labelled legitimate (unlabelled hits count in hits
 *               only)
 *   precision   TP / (TP + FP): of the labelled hits, the share that is fraud
 *   recall      TP / F, F = transactions labelled fraud: the share of fraud that is hit
 *   alerts/day  hits / D, D = UTC calendar days from the first transaction's to the last's,
 *               both included (data within one day: D = 1), over every transaction counted
 *   caught      the amounts of the TP transactions summed per currency, exactly, in minor
 *               units (a reversal, a negative amount, subtracts)
 *
 * 0/0 has no value: precision is NaN when the rule hit no labelled transaction, recall when
 * no transaction is labelled fraud, alerts/day when nothing was counted.  Writers show NaN as
 * "n/a" (table), an empty CSV field or a JSON null.
 */
#ifndef FD_BACKTEST_H
#define FD_BACKTEST_H

#include <stddef.h>
#include <stdint.h>

#include "fd_buf.h"
#include "fd_err.h"
#include "fd_rules.h"
#include "fd_txn.h"

/* An exact amount of one currency. */
struct fd_money {
	char currency[4];     /* ISO 4217, NUL-terminated */
	int exponent;         /* its minor-unit digits */
	int64_t minor;        /* the sum, in minor units */
};

struct fd_backtest;

/* A backtest of a rule set of nrules rules.  FD_EIO when out of memory (*bt NULL). */
int fd_backtest_create(struct fd_backtest **bt, size_t nrules, struct fd_err *err);
/* Accepts NULL. */
void fd_backtest_free(struct fd_backtest *bt);

/*
 * Count transaction t with its hits (hits[0 .. n-1], as fd_rules_eval writes them: rule
 * indices below nrules, each at most once).  t->label says what it is; t->amount,
 * t->currency and t->exponent are summed when it is fraud and hit.  Errors: FD_EINPUT when a
 * sum of amounts of one currency would leave the int64 range ("sum of fraud amounts in USD
 * out of range"), FD_EIO when out of memory; the counts are then unchanged.
 */
int fd_backtest_add(struct fd_backtest *bt, const struct fd_txn *t, const struct fd_rule_hit *hits,
		    size_t n, struct fd_err *err);

/* The figures of one rule, or of the whole set. */
struct fd_backtest_row {
	int64_t hits;              /* transactions hit; for the whole set, alerts */
	int64_t tp, fp;            /* hits labelled fraud, legitimate */
	int64_t unlabelled;        /* hits without a label */
	double alerts_per_day;     /* hits / days; NaN when nothing was counted */
	double precision;          /* tp / (tp + fp); NaN when tp + fp is 0 */
	double recall;             /* tp / fraud; NaN when no transaction is labelled fraud */
	const struct fd_money *caught;  /* fraud amount hit, per currency, by currency code */
	size_t ncaught;            /* 0 when nothing was caught */
};

/* FD_BACKTEST_ALL as i: the whole set. */
#define FD_BACKTEST_ALL ((size_t)-1)

/* Fill *row for rule i (< nrules) or for FD_BACKTEST_ALL.  The pointers in *row are valid
 * until the next fd_backtest_add() or fd_backtest_free(). */
void fd_backtest_row(const struct fd_backtest *bt, size_t i, struct fd_backtest_row *row);

/* What was counted. */
struct fd_backtest_totals {
	int64_t transactions;      /* counted */
	int64_t labelled;          /* with label 0 or 1 */
	int64_t fraud, legit;      /* label 1, label 0 */
	int64_t first_ts, last_ts; /* earliest and latest ts (0 when nothing counted) */
	int64_t days;              /* D above; 0 when nothing counted */
	const struct fd_money *fraud_amount;  /* of every fraud transaction, per currency */
	size_t nfraud_amount;
};
void fd_backtest_totals(const struct fd_backtest *bt, struct fd_backtest_totals *tot);

/*
 * Comparing two rule sets (fd-rules backtest --compare): the transactions that exactly one of
 * them alerts on, in the order they were added.
 */
struct fd_backtest_change {
	char *txn_id;
	char *rules;                /* ids of the rules of that set that hit, space-separated */
	int64_t ts, amount;
	int exponent;
	int label;                  /* 1 fraud, 0 legitimate, -1 unknown */
	char currency[4];
	int appears;                /* 1: only the other set alerts; 0: only the base set */
};
struct fd_backtest_changes {
	struct fd_backtest_change *v;
	size_t n, cap;
};
#define FD_BACKTEST_CHANGES_INIT { NULL, 0, 0 }
/*
 * Note transaction t when exactly one of the sets alerts on it: base's hits hb[0 .. nb-1]
 * (rules of base) and other's ho[0 .. no-1] (rules of other), as fd_rules_eval writes them.
 * Nothing is noted when both or neither alert.  FD_EIO when out of memory (c unchanged).
 */
int fd_backtest_changes_add(struct fd_backtest_changes *c, const struct fd_txn *t,
			    const struct fd_rules *base, const struct fd_rule_hit *hb, size_t nb,
			    const struct fd_rules *other, const struct fd_rule_hit *ho, size_t no,
			    struct fd_err *err);
/* Free what c holds; c is empty afterwards. */
void fd_backtest_changes_release(struct fd_backtest_changes *c);

/*
 * Append amounts as text: "1234.56 USD; 500 JPY" (in the order given, each with its
 * currency's decimals), or "0" when n is 0.  -1 when out of memory.
 */
int fd_money_text(const struct fd_money *m, size_t n, struct fd_buf *out);
/* Append amounts as a JSON object of exact decimal numbers: {"JPY":500,"USD":1234.56}, or
 * {} when n is 0.  -1 when out of memory. */
int fd_money_json(const struct fd_money *m, size_t n, struct fd_buf *out);

#endif
