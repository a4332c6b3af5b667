/*
 * fd_gen.h — a deterministic, seedable generator of realistic labelled transactions.
 *
 * The generator invents a population (customers with a home city, a daily rhythm, a spending
 * level, habitual merchants, devices, IP addresses and contacts; merchants with a category,
 * a location and a price level) and then lets it trade, day after day, for opts.days days.
 * Legitimate behaviour includes travel (days spent shopping in another city) and rare large
 * purchases, so that geography and amount alone are not perfect fraud signals.  Into that it
 * mixes labelled fraud of eight typologies (enum fd_gen_typology), each behaving as its name
 * says; every fraud row carries label 1 and its typology name.
 *
 * Guarantees:
 *   - Exactly opts.rows rows, of which exactly llround(rows * fraud_rate) are fraud.
 *   - Rows come out in timestamp order (ties in a fixed order), all within
 *     [start, start + days) — multi-day patterns included, never cut short.
 *   - The same options give byte-identical output.  The population depends only on seed,
 *     customers and merchants, so --rows 5000000 and --rows 1000000 with the same
 *     --customers describe the same entities.  (Amounts go through exp/log, so byte identity
 *     across different C libraries is not promised; across runs of one build it is.)
 *   - Memory is the population plus one day of rows plus the scheduled future fraud events:
 *     it does not grow with the number of days or the total row count.
 *
 * Output is produced in pieces that the caller writes wherever it likes (fd_gen_write), or
 * one canonical record at a time (fd_gen_next).  The library never prints and never exits.
 *
 * CSV / NDJSON columns, in order (FD_GEN_COLUMNS):
 *   txn_id,ts,amount,currency,sender_id,recipient_id,merchant_id,merchant_category,channel,
 *   device_id,ip,lat,lon,country,city,label,fraud_type
 * Absent values are empty CSV fields and JSON nulls; fraud_type is absent on legitimate rows.
 * Identifiers: T0000000001 (transactions, numbered in output order), C000123 (customers),
 * M000042 (merchants), D0000123 (devices), E0000042 (external accounts outside the bank).
 */
#ifndef FD_GEN_H
#define FD_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "fd_buf.h"
#include "fd_err.h"
#include "fd_txn.h"

enum fd_gen_typology {
	FD_GEN_LEGIT = 0,
	FD_GEN_CARD_TESTING,      /* burst of 0.50-2.00 online payments at odd merchants, new device */
	FD_GEN_ACCOUNT_TAKEOVER,  /* new device and IP far from home, then large transfers/purchases */
	FD_GEN_VELOCITY_BURST,    /* many card payments within minutes (a cloned card) */
	FD_GEN_AMOUNT_SPIKE,      /* one payment many times the customer's usual amount */
	FD_GEN_STRUCTURING,       /* 3+ transfers of 9,000.00-9,990.00 within 24 hours */
	FD_GEN_SANCTIONED,        /* transfers to a beneficiary in KP, IR, SY or CU */
	FD_GEN_MULE,              /* many senders pay one account, which forwards to several */
	FD_GEN_CYCLE,             /* A->B->...->A in time order, amounts slightly decreasing */
	FD_GEN_NTYPES
};

/* "card_testing", ... in enum order; [FD_GEN_LEGIT] is "". */
extern const char *const fd_gen_typology_name[FD_GEN_NTYPES];

/* The header row's column names, in order. */
#define FD_GEN_NCOLS 17
extern const char *const fd_gen_column[FD_GEN_NCOLS];

enum { FD_GEN_CSV = 1, FD_GEN_NDJSON = 2 };  /* the same values as FD_FMT_CSV / FD_FMT_NDJSON */

struct fd_gen_opts {
	uint64_t seed;        /* default 1 */
	int64_t rows;         /* exact number of rows, 0..FD_GEN_MAX_ROWS; default 10000 */
	int64_t customers;    /* 0 = derived: about 100 rows per customer (at least 20) */
	int64_t merchants;    /* 0 = derived: a fifth of the customers (50..20000) */
	int64_t start_day;    /* first day, in days since 1970-01-01 (UTC); default 2026-01-01 */
	int days;             /* 1..FD_GEN_MAX_DAYS; default 90 */
	double fraud_rate;    /* share of rows that are fraud, 0..1; default 0.01 */
	char currency[4];     /* ISO 4217 code written on every row; default "USD" */
	int exponent;         /* minor-unit digits of currency (0..4); default 2 */
	int format;           /* FD_GEN_CSV (default) or FD_GEN_NDJSON; for fd_gen_write */
	char id_prefix[9];    /* txn_id = prefix and a zero-padded counter; 1-8 of [A-Za-z0-9_.-]; "T" */
	int64_t start_id;     /* the first row's counter, 1..FD_GEN_MAX_ID; default 1 (so that
				 consecutive runs can continue: start_id = previous start_id + rows) */
};

#define FD_GEN_MAX_ID 100000000000000LL

#define FD_GEN_MAX_ROWS 2000000000LL
#define FD_GEN_MAX_CUSTOMERS 5000000LL
#define FD_GEN_MAX_MERCHANTS 1000000LL
#define FD_GEN_MAX_DAYS 36600

/* Fill o with the defaults above. */
void fd_gen_opts_init(struct fd_gen_opts *o);

struct fd_gen;

/*
 * Check o (copied) and build the population.  FD_EUSAGE with a message naming the offending
 * setting when an option is out of range; FD_EIO "out of memory".  *g is NULL on failure.
 */
int fd_gen_create(struct fd_gen **g, const struct fd_gen_opts *o, struct fd_err *err);
/* Accepts NULL. */
void fd_gen_free(struct fd_gen *g);

/* The options in effect, derived values filled in (customers, merchants). */
const struct fd_gen_opts *fd_gen_opts(const struct fd_gen *g);

/*
 * Append the next part of the output to out: the header row (CSV) first, then whole rows in
 * time order, stopping once at least want bytes have been appended (want 0: one row) or the
 * rows run out.
 * Returns 1 when more remains, 0 when everything has been appended (out may have received a
 * last part), -FD_EIO when out of memory (err set).  The caller writes out->s and resets it
 * between calls as it likes.
 */
int fd_gen_write(struct fd_gen *g, struct fd_buf *out, size_t want, struct fd_err *err);

/*
 * The next row as a canonical transaction (fd_txn.h).  The strings point into g and stay
 * valid until the next call.  Fraud rows carry metadata {"fraud_type":"<name>"} and
 * *typology (when not NULL) is set to the enum value.  Returns 1 for a row, 0 at the end,
 * -FD_EIO when out of memory (err set).  Use either fd_gen_next or fd_gen_write on one generator,
 * not both.
 */
int fd_gen_next(struct fd_gen *g, struct fd_txn *t, int *typology, struct fd_err *err);

/* Rows produced so far, and fraud rows per typology among them (counts[FD_GEN_NTYPES],
 * counts[FD_GEN_LEGIT] being legitimate rows). */
int64_t fd_gen_rows_done(const struct fd_gen *g);
void fd_gen_counts(const struct fd_gen *g, int64_t counts[FD_GEN_NTYPES]);

#endif
