/*
 * forensic.c — fd-audit's forensic tests.  See forensic.h and man/fd-audit.1.
 *
 * Each test reads the transactions once (the store's, --since/--until, or a stream of export
 * files in any order: unlike the scoring tools these tests need no time order), keeps what it
 * must (counts for benford, round, strata and ageing; one small record per transaction for
 * duplicates and gaps, which sort), and writes its evidence rows through fd_writer and fd_out
 * at the end, plus a summary on stderr.  Exit 1 when a test found something.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "forensic.h"
#include "fd_buf.h"
#include "fd_forensic.h"
#include "fd_intern.h"
#include "fd_io.h"
#include "fd_metrics.h"
#include "fd_num.h"
#include "fd_reader.h"
#include "fd_store.h"
#include "fd_txn.h"
#include "fd_txnsrc.h"
#include "fd_txnstream.h"
#include "fd_tz.h"
#include "fd_writer.h"
#include "banned.h"

static const char synopsis[] =
	"usage: fd-audit [options] benford|duplicates|gaps|round|weekend|strata|ageing [FILE...]\n"
	"Forensic tests over the store's transactions (--store, --since, --until) or over\n"
	"transactions read from FILEs (CSV or NDJSON, plain or zstd; '-' = stdin), in any order.\n"
	"Evidence rows on stdout (or -o), a summary on stderr; exit 1 when a test finds something.\n"
	"\n"
	"  benford             first-digit and first-two-digit tests: proportions, z, chi-square, MAD\n"
	"  duplicates          same payee and amount on the same day, or with matching references\n"
	"  gaps                gaps and duplicates in reference number sequences, per prefix\n"
	"  round               round-amount and just-below-threshold clustering\n"
	"  weekend             postings on weekend days and holidays\n"
	"  strata              counts and totals per amount band\n"
	"  ageing              counts and totals by days since posting\n"
	"\n";

enum {
	OPT_SINCE = FD_OPT_TOOL_BASE + 50, OPT_UNTIL, OPT_TEST, OPT_BY, OPT_MIN, OPT_MIN_COUNT, OPT_SUMMARY,
	OPT_REFERENCE, OPT_THRESHOLDS, OPT_BAND, OPT_Z, OPT_HOLIDAYS, OPT_WEEKEND_DAYS, OPT_BANDS, OPT_AS_OF,
	OPT_BUCKETS,
};

#define GROUPS (FD_CLI_G_STORE | FD_CLI_G_INPUT | FD_CLI_G_STRICT | FD_CLI_G_FORMAT | FD_CLI_G_OUTPUT | \
		FD_CLI_G_EXCEL | FD_CLI_G_METRICS | FD_CLI_G_PROGRESS)

static const struct fd_cli_opt opts[] = {
	{"store", 0, 0, "  --store PATH        read this store (default $FD_STORE, else ./fd.db) when no FILE is given\n"},
	{"since", required_argument, OPT_SINCE, "  --since T, --until T  store period [T, T'): RFC 3339, a date, or epoch\n"},
	{"until", required_argument, OPT_UNTIL, NULL},
	{"test", required_argument, OPT_TEST, "  --test T            benford: first, first-two or both (default both)\n"},
	{"by", required_argument, OPT_BY, "  --by FIELD          benford: one test per sender, recipient or merchant\n"},
	{"min", required_argument, OPT_MIN,
	 "  --min AMOUNT        benford: least amount counted (default: every positive amount for the\n"
	 "                      first digit, 10 for the first two digits)\n"},
	{"min-count", required_argument, OPT_MIN_COUNT,
	 "  --min-count N       benford --by: least amounts for a group to be tested (default 100)\n"},
	{"summary", no_argument, OPT_SUMMARY, "  --summary           benford: one row per test (and group), not one per digit\n"},
	{"reference", required_argument, OPT_REFERENCE,
	 "  --reference FIELD   duplicates, gaps: the reference field, canonical or an export column\n"
	 "                      kept in metadata (gaps default txn_id; duplicates default none)\n"},
	{"thresholds", required_argument, OPT_THRESHOLDS,
	 "  --thresholds LIST   round: approval thresholds (default 10000,5000,3000)\n"},
	{"band", required_argument, OPT_BAND,
	 "  --band PCT          round: width of the band below a threshold, in percent (default 10)\n"},
	{"z", required_argument, OPT_Z, "  --z Z               round: least z to report clustering (default 3)\n"},
	{"holidays", required_argument, OPT_HOLIDAYS,
	 "  --holidays FILE     weekend: dates (YYYY-MM-DD [name]) that are holidays\n"},
	{"weekend-days", required_argument, OPT_WEEKEND_DAYS,
	 "  --weekend-days LIST weekend: the days of the weekend (default sat,sun; or none)\n"},
	{"bands", required_argument, OPT_BANDS,
	 "  --bands LIST        strata: lower bounds of the bands (default 0,10,100,1000,10000,100000)\n"},
	{"as-of", required_argument, OPT_AS_OF, "  --as-of T           ageing: the date to age to (default now)\n"},
	{"buckets", required_argument, OPT_BUCKETS,
	 "  --buckets LIST      ageing: upper bounds of the buckets in days (default 30,60,90,180)\n"},
	{"tz", 0, 0, "  --tz TZ             zone of timestamps without one, and of dates and days (default UTC)\n"},
	{NULL, 0, 0, NULL},
};

enum test { T_BENFORD, T_DUPLICATES, T_GAPS, T_ROUND, T_WEEKEND, T_STRATA, T_AGEING, T_N };
static const char *const test_name[T_N] = {"benford", "duplicates", "gaps", "round", "weekend",
					     "strata", "ageing"};

/* Which test each test-specific option applies to. */
static const struct {
	int opt;
	const char *name;
	unsigned tests;
} applies[] = {
	{OPT_TEST, "--test", 1u << T_BENFORD},
	{OPT_BY, "--by", 1u << T_BENFORD},
	{OPT_MIN, "--min", 1u << T_BENFORD},
	{OPT_MIN_COUNT, "--min-count", 1u << T_BENFORD},
	{OPT_SUMMARY, "--summary", 1u << T_BENFORD},
	{OPT_REFERENCE, "--reference", 1u << T_DUPLICATES | 1u << T_GAPS},
	{OPT_THRESHOLDS, "--thresholds", 1u << T_ROUND},
	{OPT_BAND, "--band", 1u << T_ROUND},
	{OPT_Z, "--z", 1u << T_ROUND},
	{OPT_HOLIDAYS, "--holidays", 1u << T_WEEKEND},
	{OPT_WEEKEND_DAYS, "--weekend-days", 1u << T_WEEKEND},
	{OPT_BANDS, "--bands", 1u << T_STRATA},
	{OPT_AS_OF, "--as-of", 1u << T_AGEING},
	{OPT_BUCKETS, "--buckets", 1u << T_AGEING},
};

#define MAX_LIST 64

struct holiday {
	int64_t day;
	char *name;
};

struct run {
	struct fd_cli cli;
	enum test test;
	/* input */
	struct fd_txnstream_opts so;
	struct fd_store *st;
	struct fd_cli_txns *txns;     /* the store, or the FILEs in any order */
	int64_t since, until;
	int32_t fixed_offset_s;       /* the zone of dates when --tz is a fixed offset */
	int64_t records;
	/* output */
	const char *output;
	struct fd_out *out;
	struct fd_writer *w;
	struct fd_metrics *metrics;
	int64_t findings;
	/* options */
	int tests;                    /* benford: bit 0 first, bit 1 first-two */
	int by;                       /* benford: 0 none, else a canonical field */
	int64_t min_scaled;           /* benford --min, or -1 */
	long long min_count;
	int summary;
	const char *reference;        /* field name */
	int ref_field;                /* canonical field of reference, or -1 (metadata) */
	int64_t thresholds[MAX_LIST];
	size_t nthresholds;
	double band_pct, zmin;
	struct holiday *holidays;
	size_t nholidays;
	unsigned weekend_mask;        /* bit wd: day wd (0 Monday) is a weekend day */
	int64_t bands[MAX_LIST];
	size_t nbands;
	int64_t as_of;
	int64_t buckets[MAX_LIST];
	size_t nbuckets;
};

/* ---- the command line -------------------------------------------------------------------- */

int fd_forensic_wanted(int argc, char **argv, unsigned other_groups, const struct fd_cli_opt *other)
{
	int i, t;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] == '-' && a[1] == '-') {
			size_t n = strcspn(a + 2, "=");
			int arg = fd_cli_opt_arg(GROUPS, opts, a + 2, n);

			if (arg < 0)
				arg = fd_cli_opt_arg(other_groups, other, a + 2, n);
			if (arg == 1 && !a[2 + n])
				i++;
			continue;
		}
		if (a[0] == '-' && a[1]) {
			/* short options: only -o takes an argument (-h, -q do not) */
			const char *p = strchr(a + 1, 'o');

			if (p && !p[1])
				i++;
			continue;
		}
		break;
	}
	if (i >= argc)
		return 0;
	for (t = 0; t < T_N; t++)
		if (strcmp(argv[i], test_name[t]) == 0)
			return 1;
	return 0;
}

static void parse_list(const struct fd_cli *cli, const char *opt, const char *arg, int64_t *v, size_t *n)
{
	const char *why = fd_parse_scaled_list(arg, v, MAX_LIST, n);

	if (why)
		fd_cli_usage_error(cli, "%s '%s': %s", opt, arg, why);
}

static unsigned parse_days(const struct fd_cli *cli, const char *arg)
{
	static const char *const names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
	unsigned mask = 0;
	const char *p = arg;

	if (strcmp(arg, "none") == 0)
		return 0;
	for (;;) {
		size_t n = strcspn(p, ","), i;

		for (i = 0; i < 7; i++)
			if (n == 3 && strncasecmp(p, names[i], 3) == 0)
				break;
		if (i == 7)
			fd_cli_usage_error(cli, "--weekend-days '%s': give days as mon,tue,...,sun or none", arg);
		mask |= 1u << i;
		if (!p[n])
			return mask;
		p += n + 1;
	}
}

static int holiday_cmp(const void *a, const void *b)
{
	const struct holiday *x = a, *y = b;

	return x->day < y->day ? -1 : x->day > y->day;
}

/* A holidays file: "YYYY-MM-DD [name]" a line; '#' starts a comment; blank lines ignored. */
static int load_holidays(struct run *run, const char *path, struct fd_err *err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	ssize_t len;
	long lineno = 0;
	int rc = 0;

	if (!f)
		return fd_err_set(err, FD_EIO, "%s: %s", path, strerror(errno));
	while ((len = getline(&line, &cap, f)) != -1) {
		char *p = line, *e, vis[64];
		int64_t ms;
		const char *why;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if ((e = strchr(p, '#')))
			*e = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			continue;
		e = p + strcspn(p, " \t,");
		if (e - p != 10 || (why = fd_parse_ts(p, 10, 0, &ms))) {
			fd_visible(vis, sizeof(vis), p, strlen(p));
			rc = fd_err_set(err, FD_EINPUT, "%s:%ld: not a date YYYY-MM-DD '%s'", path, lineno, vis);
			goto out;
		}
		if (run->nholidays == alloc) {
			struct holiday *h;

			alloc = alloc ? 2 * alloc : 64;
			if (!(h = realloc(run->holidays, alloc * sizeof(*h)))) {
				rc = fd_err_set(err, FD_EIO, "out of memory");
				goto out;
			}
			run->holidays = h;
		}
		while (*e == ' ' || *e == '\t' || *e == ',')
			e++;
		{
			size_t n = strlen(e);

			while (n > 0 && (e[n - 1] == ' ' || e[n - 1] == '\t'))
				e[--n] = '\0';
		}
		run->holidays[run->nholidays].day = fd_day_of(ms, 0);
		if (!(run->holidays[run->nholidays].name = strdup(e))) {
			rc = fd_err_set(err, FD_EIO, "out of memory");
			goto out;
		}
		run->nholidays++;
	}
	if (ferror(f))
		rc = fd_err_set(err, FD_EIO, "%s: %s", path, strerror(errno));
	qsort(run->holidays, run->nholidays, sizeof(*run->holidays), holiday_cmp);
out:
	free(line);
	fclose(f);
	return rc;
}

/* ---- reading ------------------------------------------------------------------------------ */

/* The next transaction: 1, 0 at the end, or a negated status (err set).  fd_cli_txns reports
 * and skips bad records, or ends the run under --strict. */
static int next_txn(struct run *run, struct fd_txn *t, struct fd_err *err)
{
	int r = fd_cli_txns_next(run->txns, t, NULL, err);

	if (r == 1)
		run->records++;
	return r;
}

/* The offset of the zone of dates at ms: --tz's rules when it named a zone with them. */
static int32_t offset_at(const struct run *run, int64_t ms)
{
	if (run->cli.input.tz)
		return fd_tz_offset_at(run->cli.input.tz, ms / 1000 - (ms % 1000 < 0));
	return run->fixed_offset_s;
}

/* A canonical text field of t, or NULL. */
static const char *text_field(const struct fd_txn *t, int field)
{
	switch (field) {
	case FD_F_TXN_ID: return t->txn_id;
	case FD_F_SENDER_ID: return t->sender_id;
	case FD_F_RECIPIENT_ID: return t->recipient_id;
	case FD_F_MERCHANT_ID: return t->merchant_id;
	case FD_F_MERCHANT_CATEGORY: return t->merchant_category;
	case FD_F_CHANNEL: return t->channel;
	case FD_F_DEVICE_ID: return t->device_id;
	case FD_F_IP: return t->ip;
	case FD_F_CITY: return t->city;
	case FD_F_COUNTRY: return t->country[0] ? t->country : NULL;
	case FD_F_CURRENCY: return t->currency;
	default: return NULL;
	}
}

/* The reference of t: a canonical field, or a member of its metadata (a string, or a number
 * as written).  Absent or empty: NULL.  The text is valid until the next call. */
static const char *reference_of(struct run *run, const struct fd_txn *t, size_t *n)
{
	static char buf[FD_TEXT_MAX];
	const char *s = NULL;

	if (run->ref_field >= 0)
		s = text_field(t, run->ref_field);
	else if (t->metadata) {
		json_t *j = json_loadb(t->metadata, t->metadata_len, 0, NULL), *v;

		if (j && (v = json_object_get(j, run->reference))) {
			if (json_is_string(v))
				snprintf(buf, sizeof(buf), "%s", json_string_value(v));
			else if (json_is_integer(v))
				snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
			else
				buf[0] = '\0';
			s = buf;
		}
		json_decref(j);
	}
	if (!s || !*s)
		return NULL;
	*n = strlen(s);
	return s;
}

/* ---- writing ------------------------------------------------------------------------------ */

static int start_output(struct run *run, const char *const *names, size_t n, struct fd_err *err)
{
	int fmt = run->cli.format != FD_FMT_AUTO ? run->cli.format : fd_cli_txns_format(run->txns);

	run->w = fd_writer_create(run->out, fmt, names, n);
	fd_writer_excel_safe(run->w, run->cli.excel_safe);
	if (!run->w)
		return fd_err_set(err, FD_EIO, "out of memory");
	return 0;
}

/* A fixed-point amount (FD_SCALE_EXP decimals) with no more decimals than it needs: "100",
 * "2999.5" (a number in NDJSON). */
static void write_scaled(struct fd_writer *w, int64_t v)
{
	int e = FD_SCALE_EXP;

	while (e > 0 && v % 10 == 0) {
		v /= 10;
		e--;
	}
	fd_writer_amount(w, v, e);
}

static int grow(void **p, size_t *alloc, size_t need, size_t size)
{
	void *q;
	size_t a = *alloc;

	if (need <= a)
		return 0;
	while (a < need)
		a = a ? 2 * a : 4096;
	if (!(q = realloc(*p, a * size)))
		return -1;
	*p = q;
	*alloc = a;
	return 0;
}

/* "1,234" */
static void plural(struct fd_buf *b, int64_t n, const char *one, const char *many)
{
	fd_buf_addf(b, "%s %s", FD_NUM(n), n == 1 ? one : many);
}

/* ---- benford ------------------------------------------------------------------------------ */

#define NDIG 99  /* counts: 0..8 first digit 1..9; 9..98 first two digits 10..99 */

struct benford {
	struct fd_intern *groups;
	int64_t *counts;   /* NDIG per group */
	size_t alloc;      /* groups allocated */
	int64_t nonpositive, below, no_group;
};

static int benford_add(struct run *run, struct benford *b, const struct fd_txn *t)
{
	int64_t id = 0, s;
	int d1, d12;
	int64_t *c;
	const char *g = NULL;

	if (t->amount <= 0) {
		b->nonpositive++;
		return 0;
	}
	if (run->by) {
		g = text_field(t, run->by);
		if (!g) {
			b->no_group++;
			return 0;
		}
		if ((id = fd_intern_put(b->groups, g, strlen(g), NULL)) < 0)
			return -1;
	}
	if ((size_t)id >= b->alloc) {
		size_t old = b->alloc;
		int64_t *p;

		if (grow((void **)&b->counts, &b->alloc, (size_t)id + 1, NDIG * sizeof(int64_t)) < 0)
			return -1;
		p = b->counts;
		memset(p + old * NDIG, 0, (b->alloc - old) * NDIG * sizeof(int64_t));
	}
	c = b->counts + (size_t)id * NDIG;
	fd_leading_digits(t->amount, &d1, &d12);
	s = fd_scaled(t->amount, t->exponent);
	/* first digit: every positive amount unless --min says otherwise */
	if (run->min_scaled < 0 || s >= run->min_scaled)
		c[d1 - 1]++;
	else
		b->below++;
	/* first two digits: amounts of at least 10 (Nigrini), or --min; the first two digits of
	 * the amount's decimal value, which those of its minor units are (a leading zero is never
	 * a digit: 0.05 has first two digits 5 and none) */
	if (d12 >= 10 && s >= (run->min_scaled >= 0 ? run->min_scaled : 10 * 10000LL))
		c[9 + d12 - 10]++;
	return 0;
}

static const char *const benford_test_name[2] = {"first", "first-two"};

static int cmp_group_name(const void *a, const void *b, void *ctx)
{
	const struct fd_intern *g = ctx;

	return strcmp(fd_intern_str(g, *(const uint32_t *)a, NULL), fd_intern_str(g, *(const uint32_t *)b, NULL));
}

static int cmd_benford(struct run *run, struct fd_err *err)
{
	static const char *const digit_cols[] = {"group", "test", "digit", "count", "observed", "expected",
						 "z", "significant"};
	static const char *const sum_cols[] = {"group", "test", "n", "chi2", "df", "p_value", "mad",
					       "conformity"};
	struct benford b = {0};
	struct fd_txn t;
	struct fd_buf msg = FD_BUF_INIT;
	uint32_t *order = NULL, ngroups, gi;
	int64_t tested = 0, small = 0, nonconf[2] = {0, 0};
	struct fd_benford_result last[2];
	int r, rc = 0, test, off = run->by ? 0 : 1;

	memset(last, 0, sizeof(last));
	if (!(b.groups = fd_intern_create()))
		return fd_err_set(err, FD_EIO, "out of memory");
	if (!run->by && fd_intern_put(b.groups, "", 0, NULL) < 0) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto out;
	}
	while ((r = next_txn(run, &t, err)) == 1)
		if (benford_add(run, &b, &t) < 0) {
			rc = fd_err_set(err, FD_EIO, "out of memory");
			goto out;
		}
	if (r < 0) {
		rc = -r;
		goto out;
	}
	if (run->summary)
		rc = start_output(run, sum_cols + off, 8 - (size_t)off, err);
	else
		rc = start_output(run, digit_cols + off, 8 - (size_t)off, err);
	if (rc)
		goto out;
	ngroups = fd_intern_count(b.groups);
	if (ngroups && b.alloc < ngroups) {
		/* no transaction counted at all: one group of zero counts */
		if (grow((void **)&b.counts, &b.alloc, ngroups, NDIG * sizeof(int64_t)) < 0) {
			rc = fd_err_set(err, FD_EIO, "out of memory");
			goto out;
		}
		memset(b.counts, 0, b.alloc * NDIG * sizeof(int64_t));
	}
	if (!(order = malloc((ngroups ? ngroups : 1) * sizeof(*order)))) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto out;
	}
	for (gi = 0; gi < ngroups; gi++)
		order[gi] = gi;
	qsort_r(order, ngroups, sizeof(*order), cmp_group_name, b.groups);
	for (gi = 0; gi < ngroups; gi++) {
		const int64_t *c = b.counts + (size_t)order[gi] * NDIG;
		const char *gname = fd_intern_str(b.groups, order[gi], NULL);
		int64_t n1 = 0;
		int d;

		for (d = 0; d < 9; d++)
			n1 += c[d];
		if (run->by && n1 < run->min_count) {
			small++;
			continue;
		}
		tested++;
		for (test = 0; test < 2; test++) {
			struct fd_benford_result res;
			int lo = fd_benford_lo(test), hi = fd_benford_hi(test);
			const int64_t *tc = c + (test ? 9 : 0);

			if (!(run->tests & (1 << test)))
				continue;
			fd_benford_eval(test, tc, &res);
			last[test] = res;
			nonconf[test] += res.nonconforming;
			if (run->summary) {
				fd_writer_begin(run->w);
				if (run->by)
					fd_writer_cstr(run->w, gname);
				fd_writer_cstr(run->w, benford_test_name[test]);
				fd_writer_i64(run->w, res.n);
				fd_writer_f64_sig(run->w, res.chi2, 8);
				fd_writer_i64(run->w, res.df);
				fd_writer_f64_sig(run->w, res.p_value, 6);
				fd_writer_f64_sig(run->w, res.mad, 6);
				fd_writer_cstr(run->w, res.conformity);
				fd_writer_end(run->w);
				continue;
			}
			for (d = lo; d <= hi; d++) {
				double p = fd_benford_expected(d), z = fd_benford_z(tc[d - lo], res.n, p);

				fd_writer_begin(run->w);
				if (run->by)
					fd_writer_cstr(run->w, gname);
				fd_writer_cstr(run->w, benford_test_name[test]);
				fd_writer_i64(run->w, d);
				fd_writer_i64(run->w, tc[d - lo]);
				if (res.n)
					fd_writer_f64_sig(run->w, (double)tc[d - lo] / (double)res.n, 6);
				else
					fd_writer_null(run->w);
				fd_writer_f64_sig(run->w, p, 6);
				fd_writer_f64_sig(run->w, z, 6);
				fd_writer_bool(run->w, res.n > 0 && z > 1.96);
				fd_writer_end(run->w);
			}
		}
	}
	run->findings = nonconf[0] + nonconf[1];
	if (!run->cli.quiet) {
		fd_buf_adds(&msg, "benford: ");
		if (run->by) {
			fd_buf_addf(&msg, "%s %s groups of at least %s amounts tested (%s smaller left out)",
				    FD_NUM(tested), fd_field_name[run->by], FD_NUM(run->min_count), FD_NUM(small));
			for (test = 0; test < 2; test++)
				if (run->tests & (1 << test))
					fd_buf_addf(&msg, "; %s digit%s: %s nonconforming", test ? "first two" : "first",
						    test ? "s" : "", FD_NUM(nonconf[test]));
		} else {
			for (test = 0; test < 2; test++) {
				const struct fd_benford_result *res = &last[test];

				if (!(run->tests & (1 << test)))
					continue;
				if (test && (run->tests & 1))
					fd_buf_adds(&msg, "; ");
				fd_buf_addf(&msg, "%s digit%s: ", test ? "first two" : "first", test ? "s" : "");
				plural(&msg, res->n, "amount", "amounts");
				if (res->n)
					fd_buf_addf(&msg, ", chi-square %s (%d df, p %.4g), MAD %.5f: %s%s",
						    fd_num_double(res->chi2, 2, (char[FD_NUM_BUFSZ]){0}),
						    res->df, res->p_value, res->mad, res->conformity,
						    strcmp(res->conformity, "nonconformity") ? " conformity" : "");
			}
		}
		fd_buf_addf(&msg, " (%s zero or negative amounts not counted)", FD_NUM(b.nonpositive));
		fd_cli_msg(&run->cli, "%s", msg.s ? msg.s : "out of memory");
	}
out:
	fd_buf_release(&msg);
	free(order);
	free(b.counts);
	fd_intern_free(b.groups);
	return rc;
}

/* ---- duplicates ---------------------------------------------------------------------------- */

/* Strings kept for the output, one after another in an arena: an offset each (no table, no
 * hashing: the transaction ids are all distinct). */
static int64_t arena_put(struct fd_buf *a, const char *s, size_t n)
{
	int64_t off = (int64_t)a->len;

	if (fd_buf_add(a, s, n) || fd_buf_addc(a, '\0'))
		return -1;
	return off;
}

struct drec {
	int64_t amount, ts, txn, ref;  /* txn, ref: arena offsets (ref -1: none) */
	uint32_t payee;
	char currency[4];
	int exponent;
};

/* What is sorted: a hash of (payee, currency, amount), then time; records of one key are
 * then adjacent in time order.  Distinct keys that share a hash are told apart again before
 * any two records are linked. */
struct dkey {
	uint64_t key;
	int64_t ts;
	uint32_t idx;
};

static int dkey_cmp(const void *a, const void *b)
{
	const struct dkey *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int same_key(const struct drec *a, const struct drec *b)
{
	return a->payee == b->payee && a->amount == b->amount && memcmp(a->currency, b->currency, 4) == 0;
}

static size_t uf_find(size_t *parent, size_t i)
{
	while (parent[i] != i) {
		parent[i] = parent[parent[i]];
		i = parent[i];
	}
	return i;
}

/* Union by the smaller index, so that a group's root is its first member. */
static void uf_union(size_t *parent, unsigned *basis, size_t a, size_t b, unsigned bit)
{
	size_t ra = uf_find(parent, a), rb = uf_find(parent, b);

	if (ra > rb) {
		size_t t = ra;

		ra = rb;
		rb = t;
	}
	if (ra != rb) {
		parent[rb] = ra;
		basis[ra] |= basis[rb];
	}
	basis[ra] |= bit;
}

enum { B_SAME_DAY = 1, B_REF_SAME = 2, B_REF_DIGITS = 4, B_REF_EDIT = 8 };
#define MAX_PAIRWISE 2000  /* payments of one amount to one payee compared reference by reference */

struct pos {
	int64_t first_ts;  /* the time of the group's first payment: groups come in that order */
	size_t root, idx;
};

static int pos_cmp(const void *a, const void *b)
{
	const struct pos *x = a, *y = b;

	if (x->first_ts != y->first_ts)
		return x->first_ts < y->first_ts ? -1 : 1;
	if (x->root != y->root)
		return x->root < y->root ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cmd_duplicates(struct run *run, struct fd_err *err)
{
	static const char *const cols[] = {"group", "basis", "size", "txn_id", "ts", "amount", "currency",
					   "payee", "reference"};
	struct fd_intern *payees = fd_intern_create();
	struct fd_buf arena = FD_BUF_INIT;
	struct drec *recs = NULL;
	struct dkey *keys = NULL;
	size_t nrec = 0, alloc = 0, i, j, k, *parent = NULL, *size = NULL, npos = 0;
	int64_t *day = NULL;
	unsigned *basis = NULL;
	struct pos *pos = NULL;
	struct fd_txn t;
	int64_t nopayee = 0, groups = 0, members = 0, big_runs = 0;
	int r, rc = 0;

	if (!payees)
		return fd_err_set(err, FD_EIO, "out of memory");
	while ((r = next_txn(run, &t, err)) == 1) {
		const char *payee = t.recipient_id ? t.recipient_id : t.merchant_id, *ref;
		struct drec *d;
		int64_t id;
		size_t rn = 0;

		if (!payee) {
			nopayee++;
			continue;
		}
		if (grow((void **)&recs, &alloc, nrec + 1, sizeof(*recs)) < 0)
			goto oom;
		d = &recs[nrec];
		memset(d, 0, sizeof(*d));
		if ((id = fd_intern_put(payees, payee, strlen(payee), NULL)) < 0)
			goto oom;
		d->payee = (uint32_t)id;
		if ((d->txn = arena_put(&arena, t.txn_id, strlen(t.txn_id))) < 0)
			goto oom;
		d->ref = -1;
		if (run->reference && (ref = reference_of(run, &t, &rn)) && (d->ref = arena_put(&arena, ref, rn)) < 0)
			goto oom;
		d->amount = t.amount;
		d->ts = t.ts;
		memcpy(d->currency, t.currency, 4);
		d->exponent = t.exponent;
		nrec++;
	}
	if (r < 0) {
		rc = -r;
		goto out;
	}
	if (nrec && (!(keys = malloc(nrec * sizeof(*keys))) || !(parent = malloc(nrec * sizeof(*parent))) ||
		     !(basis = calloc(nrec, sizeof(*basis))) || !(size = calloc(nrec, sizeof(*size))) ||
		     !(pos = malloc(nrec * sizeof(*pos))) || !(day = malloc(nrec * sizeof(*day)))))
		goto oom;
	for (i = 0; i < nrec; i++) {
		unsigned char kb[16];

		memcpy(kb, &recs[i].payee, 4);
		memcpy(kb + 4, recs[i].currency, 4);
		memcpy(kb + 8, &recs[i].amount, 8);
		keys[i].key = fd_hash64(kb, sizeof(kb));
		keys[i].ts = recs[i].ts;
		keys[i].idx = (uint32_t)i;
	}
	qsort(keys, nrec, sizeof(*keys), dkey_cmp);
	/* from here on, position k stands for the record keys[k].idx */
	for (k = 0; k < nrec; k++) {
		parent[k] = k;
		day[k] = fd_day_of(keys[k].ts, offset_at(run, keys[k].ts));
	}
	for (i = 0; i < nrec; i = j) {
		for (j = i + 1; j < nrec && keys[j].key == keys[i].key; j++)
			;
		if (j - i < 2)
			continue;
		/* the same day: in time order, so each day's payments are adjacent */
		for (k = i + 1; k < j; k++) {
			size_t l;

			for (l = k; l-- > i && day[l] == day[k];)
				if (same_key(&recs[keys[l].idx], &recs[keys[k].idx])) {
					uf_union(parent, basis, l, k, B_SAME_DAY);
					break;
				}
		}
		if (!run->reference)
			continue;
		if (j - i > MAX_PAIRWISE) {
			big_runs++;
			continue;
		}
		for (k = i; k < j; k++) {
			const struct drec *x = &recs[keys[k].idx];
			size_t l;

			if (x->ref < 0)
				continue;
			for (l = k + 1; l < j; l++) {
				const struct drec *y = &recs[keys[l].idx];
				const char *a = arena.s + x->ref, *b = arena.s + y->ref;
				int m;

				if (y->ref < 0 || !same_key(x, y))
					continue;
				m = fd_ref_match(a, strlen(a), b, strlen(b));
				if (m)
					uf_union(parent, basis, k, l,
						 m == FD_REF_SAME ? B_REF_SAME : m == FD_REF_DIGITS ? B_REF_DIGITS : B_REF_EDIT);
			}
		}
	}
	for (k = 0; k < nrec; k++)
		size[uf_find(parent, k)]++;
	for (k = 0; k < nrec; k++) {
		size_t root = uf_find(parent, k);

		if (size[root] >= 2) {
			pos[npos].first_ts = keys[root].ts;
			pos[npos].root = root;
			pos[npos].idx = k;
			npos++;
		}
	}
	qsort(pos, npos, sizeof(*pos), pos_cmp);
	if ((rc = start_output(run, cols, 9, err)))
		goto out;
	for (k = 0; k < npos; k++) {
		const struct drec *d = &recs[keys[pos[k].idx].idx];
		struct fd_buf bs = FD_BUF_INIT;
		unsigned bits = basis[pos[k].root];

		if (k == 0 || pos[k].root != pos[k - 1].root)
			groups++;
		members++;
		if (bits & B_SAME_DAY)
			fd_buf_adds(&bs, "same-day");
		if (bits & B_REF_SAME)
			fd_buf_adds(&bs, bs.len ? "+same-reference" : "same-reference");
		if (bits & B_REF_DIGITS)
			fd_buf_adds(&bs, bs.len ? "+reference-digits" : "reference-digits");
		if (bits & B_REF_EDIT)
			fd_buf_adds(&bs, bs.len ? "+reference-one-edit" : "reference-one-edit");
		fd_writer_begin(run->w);
		fd_writer_i64(run->w, groups);
		fd_writer_cstr(run->w, bs.s);
		fd_writer_i64(run->w, (int64_t)size[pos[k].root]);
		fd_writer_cstr(run->w, arena.s + d->txn);
		fd_writer_ts(run->w, d->ts);
		fd_writer_amount(run->w, d->amount, d->exponent);
		fd_writer_cstr(run->w, d->currency);
		fd_writer_cstr(run->w, fd_intern_str(payees, d->payee, NULL));
		fd_writer_cstr(run->w, d->ref >= 0 ? arena.s + d->ref : NULL);
		fd_writer_end(run->w);
		fd_buf_release(&bs);
	}
	run->findings = groups;
	if (!run->cli.quiet) {
		struct fd_buf msg = FD_BUF_INIT;

		fd_buf_adds(&msg, "duplicates: ");
		plural(&msg, groups, "group", "groups");
		fd_buf_adds(&msg, " of ");
		plural(&msg, members, "transaction", "transactions");
		fd_buf_addf(&msg, " among %s (%s without a recipient or merchant not compared", FD_NUM(nrec),
			    FD_NUM(nopayee));
		if (big_runs)
			fd_buf_addf(&msg, "; references not compared in %s runs of more than %s payments of one "
					  "amount to one payee", FD_NUM(big_runs), FD_NUM(MAX_PAIRWISE));
		fd_buf_adds(&msg, ")");
		fd_cli_msg(&run->cli, "%s", msg.s ? msg.s : "out of memory");
		fd_buf_release(&msg);
	}
	goto out;
oom:
	rc = fd_err_set(err, FD_EIO, "out of memory");
out:
	free(recs);
	free(keys);
	free(parent);
	free(basis);
	free(size);
	free(pos);
	free(day);
	fd_buf_release(&arena);
	fd_intern_free(payees);
	return rc;
}

/* ---- gaps ---------------------------------------------------------------------------------- */

struct grec {
	uint32_t prefix, rank, seq;  /* rank: of the prefix by name */
	int64_t number, txn;  /* txn: arena offset */
	int width;
};

static int grec_cmp(const void *a, const void *b)
{
	const struct grec *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->number != y->number)
		return x->number < y->number ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void write_number(struct fd_writer *w, int64_t v, int width)
{
	char buf[48];
	int n = snprintf(buf, sizeof(buf), "%0*lld", width, (long long)v);

	fd_writer_str(w, buf, (size_t)n);
}

static int cmd_gaps(struct run *run, struct fd_err *err)
{
	static const char *const cols[] = {"prefix", "kind", "from", "to", "count", "txn_id"};
	struct fd_intern *prefixes = fd_intern_create();
	struct fd_buf txns = FD_BUF_INIT;
	struct grec *recs = NULL;
	size_t nrec = 0, alloc = 0, i, j, k;
	struct fd_txn t;
	int64_t noref = 0, nonum = 0, gaps = 0, missing = 0, dupnums = 0, duprecs = 0, nprefix = 0;
	int r, rc = 0;

	if (!prefixes) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto out;
	}
	while ((r = next_txn(run, &t, err)) == 1) {
		const char *ref;
		size_t n = 0, pl;
		int64_t num, id;
		int width;
		struct grec *g;

		if (!(ref = reference_of(run, &t, &n))) {
			noref++;
			continue;
		}
		if (fd_ref_split(ref, n, &pl, &num, &width) < 0) {
			nonum++;
			continue;
		}
		if (grow((void **)&recs, &alloc, nrec + 1, sizeof(*recs)) < 0)
			goto oom;
		g = &recs[nrec];
		if ((id = fd_intern_put(prefixes, ref, pl, NULL)) < 0)
			goto oom;
		g->prefix = (uint32_t)id;
		if ((g->txn = arena_put(&txns, t.txn_id, strlen(t.txn_id))) < 0)
			goto oom;
		g->number = num;
		g->width = width;
		g->seq = (uint32_t)nrec;
		nrec++;
	}
	if (r < 0) {
		rc = -r;
		goto out;
	}
	/* prefixes in the order of their names, not of their first appearance */
	{
		uint32_t np = fd_intern_count(prefixes), *order, *rank;

		order = malloc((np ? np : 1) * sizeof(*order));
		rank = malloc((np ? np : 1) * sizeof(*rank));
		if (!order || !rank) {
			free(order);
			free(rank);
			goto oom;
		}
		for (i = 0; i < np; i++)
			order[i] = (uint32_t)i;
		qsort_r(order, np, sizeof(*order), cmp_group_name, prefixes);
		for (i = 0; i < np; i++)
			rank[order[i]] = (uint32_t)i;
		for (i = 0; i < nrec; i++)
			recs[i].rank = rank[recs[i].prefix];
		free(order);
		free(rank);
	}
	qsort(recs, nrec, sizeof(*recs), grec_cmp);
	if ((rc = start_output(run, cols, 6, err)))
		goto out;
	for (i = 0; i < nrec; i = j) {
		const char *prefix = fd_intern_str(prefixes, recs[i].prefix, NULL);

		nprefix++;
		for (j = i; j < nrec && recs[j].prefix == recs[i].prefix; j++) {
			if (j > i && recs[j].number > recs[j - 1].number + 1) {
				int64_t from = recs[j - 1].number + 1, to = recs[j].number - 1;

				gaps++;
				missing += to - from + 1;
				fd_writer_begin(run->w);
				fd_writer_cstr(run->w, prefix);
				fd_writer_cstr(run->w, "gap");
				write_number(run->w, from, recs[j - 1].width);
				write_number(run->w, to, recs[j - 1].width);
				fd_writer_i64(run->w, to - from + 1);
				fd_writer_cstr(run->w, txns.s + recs[j - 1].txn);
				fd_writer_end(run->w);
			}
			if ((j == i || recs[j].number != recs[j - 1].number) && j + 1 < nrec &&
			    recs[j + 1].prefix == recs[j].prefix && recs[j + 1].number == recs[j].number) {
				size_t e = j + 1;

				while (e < nrec && recs[e].prefix == recs[j].prefix && recs[e].number == recs[j].number)
					e++;
				dupnums++;
				duprecs += (int64_t)(e - j);
				for (k = j; k < e; k++) {
					fd_writer_begin(run->w);
					fd_writer_cstr(run->w, prefix);
					fd_writer_cstr(run->w, "duplicate");
					write_number(run->w, recs[k].number, recs[k].width);
					write_number(run->w, recs[k].number, recs[k].width);
					fd_writer_i64(run->w, (int64_t)(e - j));
					fd_writer_cstr(run->w, txns.s + recs[k].txn);
					fd_writer_end(run->w);
				}
			}
		}
	}
	run->findings = gaps + dupnums;
	if (!run->cli.quiet) {
		struct fd_buf msg = FD_BUF_INIT;

		fd_buf_addf(&msg, "gaps: %s numbers of %s ", run->reference, FD_NUM(nrec));
		fd_buf_adds(&msg, nrec == 1 ? "transaction" : "transactions");
		fd_buf_adds(&msg, " in ");
		plural(&msg, nprefix, "prefix", "prefixes");
		fd_buf_adds(&msg, ": ");
		plural(&msg, gaps, "gap", "gaps");
		fd_buf_addf(&msg, " (%s numbers missing), ", FD_NUM(missing));
		plural(&msg, dupnums, "duplicated number", "duplicated numbers");
		fd_buf_addf(&msg, " (%s transactions); %s without %s, %s not ending in a number of up to 18 "
				  "digits", FD_NUM(duprecs), FD_NUM(noref), run->reference, FD_NUM(nonum));
		fd_cli_msg(&run->cli, "%s", msg.s ? msg.s : "out of memory");
		fd_buf_release(&msg);
	}
	goto out;
oom:
	rc = fd_err_set(err, FD_EIO, "out of memory");
out:
	free(recs);
	fd_intern_free(prefixes);
	fd_buf_release(&txns);
	return rc;
}

/* ---- round --------------------------------------------------------------------------------- */

/*
 * Round amounts, tier by tier: whole amounts among all (expected 1 in 10^exponent when the
 * minor units are uniform), multiples of 10 among whole amounts of at least 10, of 100 among
 * multiples of 10 of at least 100, of 1000 among multiples of 100 of at least 1000 (each
 * expected 1 in 10).  Each tier asks whether one more trailing digit is zero more often than
 * chance, so prices in whole units do not make every tier a finding.
 */
#define NTIER 4
static const int64_t tier_unit[NTIER] = {1, 10, 100, 1000};

static int cmd_round(struct run *run, struct fd_err *err)
{
	static const char *const cols[] = {"test", "value", "band_low", "band_high", "n", "count", "observed",
					   "expected", "z", "finding"};
	int64_t n[NTIER] = {0}, k[NTIER] = {0}, below[MAX_LIST] = {0}, neigh[MAX_LIST] = {0};
	int64_t lo1[MAX_LIST], lo2[MAX_LIST], positive = 0;
	double expsum[NTIER] = {0};
	struct fd_txn t;
	size_t i;
	int r, rc;

	for (i = 0; i < run->nthresholds; i++) {
		int64_t w = llround((double)run->thresholds[i] * run->band_pct / 100.0);

		lo1[i] = run->thresholds[i] - w;
		lo2[i] = lo1[i] - w;
	}
	while ((r = next_txn(run, &t, err)) == 1) {
		int64_t s, unit_minor = 1;
		int e;

		if (t.amount <= 0)
			continue;
		positive++;
		s = fd_scaled(t.amount, t.exponent);
		for (e = 0; e < t.exponent; e++)
			unit_minor *= 10;
		/* tier 0: whole amounts, for currencies with minor units */
		if (t.exponent > 0 && s >= 10000) {
			n[0]++;
			expsum[0] += 1.0 / (double)unit_minor;
			k[0] += t.amount % unit_minor == 0;
		}
		/* tiers 1..3: among the multiples of the tier below that reach the unit */
		if (t.amount % unit_minor == 0) {
			int64_t whole = t.amount / unit_minor;

			for (i = 1; i < NTIER && whole >= tier_unit[i] && whole % tier_unit[i - 1] == 0; i++) {
				n[i]++;
				expsum[i] += 0.1;
				k[i] += whole % tier_unit[i] == 0;
			}
		}
		for (i = 0; i < run->nthresholds; i++) {
			if (s >= lo1[i] && s < run->thresholds[i])
				below[i]++;
			else if (s >= lo2[i] && s < lo1[i])
				neigh[i]++;
		}
	}
	if (r < 0)
		return -r;
	if ((rc = start_output(run, cols, 10, err)))
		return rc;
	for (i = 0; i < NTIER; i++) {
		double p = n[i] ? expsum[i] / (double)n[i] : 0, z = fd_binom_z(k[i], n[i], p);
		int f = n[i] > 0 && z >= run->zmin;

		run->findings += f;
		fd_writer_begin(run->w);
		fd_writer_cstr(run->w, "multiple");
		fd_writer_amount(run->w, tier_unit[i], 0);
		fd_writer_null(run->w);
		fd_writer_null(run->w);
		fd_writer_i64(run->w, n[i]);
		fd_writer_i64(run->w, k[i]);
		if (n[i]) {
			fd_writer_f64_sig(run->w, (double)k[i] / (double)n[i], 6);
			fd_writer_f64_sig(run->w, p, 6);
		} else {
			fd_writer_null(run->w);
			fd_writer_null(run->w);
		}
		fd_writer_f64_sig(run->w, z, 6);
		fd_writer_bool(run->w, f);
		fd_writer_end(run->w);
	}
	for (i = 0; i < run->nthresholds; i++) {
		int64_t m = below[i] + neigh[i];
		double z = fd_binom_z(below[i], m, 0.5);
		int f = m > 0 && z >= run->zmin;

		run->findings += f;
		fd_writer_begin(run->w);
		fd_writer_cstr(run->w, "below-threshold");
		write_scaled(run->w, run->thresholds[i]);
		write_scaled(run->w, lo1[i]);
		write_scaled(run->w, run->thresholds[i]);
		fd_writer_i64(run->w, m);
		fd_writer_i64(run->w, below[i]);
		if (m)
			fd_writer_f64_sig(run->w, (double)below[i] / (double)m, 6);
		else
			fd_writer_null(run->w);
		fd_writer_f64_sig(run->w, 0.5, 6);
		fd_writer_f64_sig(run->w, z, 6);
		fd_writer_bool(run->w, f);
		fd_writer_end(run->w);
	}
	if (!run->cli.quiet)
		fd_cli_msg(&run->cli, "round: %s positive amounts; %s %s (z >= %g)", FD_NUM(positive),
			   FD_NUM(run->findings), run->findings == 1 ? "cluster" : "clusters", run->zmin);
	return 0;
}

/* ---- weekend ------------------------------------------------------------------------------- */

static const struct holiday *holiday_at(const struct run *run, int64_t day)
{
	struct holiday key = {day, NULL};

	return bsearch(&key, run->holidays, run->nholidays, sizeof(key), holiday_cmp);
}

static int cmd_weekend(struct run *run, struct fd_err *err)
{
	static const char *const cols[] = {"txn_id", "ts", "date", "weekday", "reason", "holiday", "amount",
					   "currency", "sender_id", "recipient_id"};
	struct fd_txn t;
	int64_t weekend = 0, holiday = 0;
	int r, rc;

	while ((r = next_txn(run, &t, err)) == 1) {
		int64_t day = fd_day_of(t.ts, offset_at(run, t.ts)), y;
		int wd = fd_weekday(day), we = (run->weekend_mask >> wd) & 1;
		const struct holiday *h = holiday_at(run, day);
		unsigned mo, d;
		char date[16];

		if (!we && !h)
			continue;
		if (!run->w && (rc = start_output(run, cols, 10, err)))
			return rc;
		weekend += we;
		holiday += h != NULL;
		fd_civil_from_days(day, &y, &mo, &d);
		snprintf(date, sizeof(date), "%04lld-%02u-%02u", (long long)y, mo, d);
		fd_writer_begin(run->w);
		fd_writer_cstr(run->w, t.txn_id);
		fd_writer_ts(run->w, t.ts);
		fd_writer_cstr(run->w, date);
		fd_writer_cstr(run->w, fd_weekday_name(wd));
		fd_writer_cstr(run->w, we && h ? "weekend+holiday" : we ? "weekend" : "holiday");
		fd_writer_cstr(run->w, h ? h->name : NULL);
		fd_writer_amount(run->w, t.amount, t.exponent);
		fd_writer_cstr(run->w, t.currency);
		fd_writer_cstr(run->w, t.sender_id);
		fd_writer_cstr(run->w, t.recipient_id);
		fd_writer_end(run->w);
		run->findings++;
	}
	if (r < 0)
		return -r;
	if (!run->w && (rc = start_output(run, cols, 10, err)))
		return rc;
	if (!run->cli.quiet)
		fd_cli_msg(&run->cli, "weekend: %s of %s transactions on weekend days or holidays (%s on "
				      "weekend days, %s on the %s holidays given)",
			   FD_NUM(run->findings), FD_NUM(run->records), FD_NUM(weekend), FD_NUM(holiday),
			   FD_NUM(run->nholidays));
	return 0;
}

/* ---- strata and ageing --------------------------------------------------------------------- */

/* Counts and exact totals per currency and band. */
struct bands {
	size_t nb;                 /* bands per currency */
	size_t ncur;
	char (*cur)[4];
	int *exponent;
	int64_t *count;            /* ncur * nb */
	__int128 *total;
};

static int bands_slot(struct bands *b, const struct fd_txn *t, size_t band, struct fd_err *err)
{
	size_t c;

	for (c = 0; c < b->ncur; c++)
		if (memcmp(b->cur[c], t->currency, 4) == 0)
			break;
	if (c == b->ncur) {
		void *p;

		if (!(p = realloc(b->cur, (c + 1) * sizeof(*b->cur))))
			return fd_err_set(err, FD_EIO, "out of memory");
		b->cur = p;
		if (!(p = realloc(b->exponent, (c + 1) * sizeof(*b->exponent))))
			return fd_err_set(err, FD_EIO, "out of memory");
		b->exponent = p;
		if (!(p = realloc(b->count, (c + 1) * b->nb * sizeof(*b->count))))
			return fd_err_set(err, FD_EIO, "out of memory");
		b->count = p;
		if (!(p = realloc(b->total, (c + 1) * b->nb * sizeof(*b->total))))
			return fd_err_set(err, FD_EIO, "out of memory");
		b->total = p;
		memcpy(b->cur[c], t->currency, 4);
		b->exponent[c] = t->exponent;
		memset(b->count + c * b->nb, 0, b->nb * sizeof(*b->count));
		memset(b->total + c * b->nb, 0, b->nb * sizeof(*b->total));
		b->ncur++;
	}
	b->count[c * b->nb + band]++;
	b->total[c * b->nb + band] += t->amount;
	return 0;
}

static void bands_release(struct bands *b)
{
	free(b->cur);
	free(b->exponent);
	free(b->count);
	free(b->total);
}

static int cur_cmp(const void *a, const void *b, void *ctx)
{
	const struct bands *bb = ctx;

	return memcmp(bb->cur[*(const size_t *)a], bb->cur[*(const size_t *)b], 4);
}

/* Writes, for each currency in code order and each band, the label columns (by label()),
 * count, count_share, total, total_share. */
static int bands_write(struct run *run, const struct bands *b,
		       void (*label)(struct run *run, size_t band), struct fd_err *err)
{
	size_t *order = malloc((b->ncur ? b->ncur : 1) * sizeof(*order)), i, c, k;

	if (!order)
		return fd_err_set(err, FD_EIO, "out of memory");
	for (i = 0; i < b->ncur; i++)
		order[i] = i;
	qsort_r(order, b->ncur, sizeof(*order), cur_cmp, (void *)b);
	for (i = 0; i < b->ncur; i++) {
		int64_t n = 0;
		__int128 sum = 0;

		c = order[i];
		for (k = 0; k < b->nb; k++) {
			n += b->count[c * b->nb + k];
			sum += b->total[c * b->nb + k];
			if (b->total[c * b->nb + k] > INT64_MAX || b->total[c * b->nb + k] < -INT64_MAX) {
				free(order);
				return fd_err_set(err, FD_EINPUT, "a total of %s amounts is beyond the exact range",
						  b->cur[c]);
			}
		}
		for (k = 0; k < b->nb; k++) {
			int64_t cnt = b->count[c * b->nb + k], tot = (int64_t)b->total[c * b->nb + k];

			fd_writer_begin(run->w);
			fd_writer_cstr(run->w, b->cur[c]);
			label(run, k);
			fd_writer_i64(run->w, cnt);
			fd_writer_f64_sig(run->w, n ? (double)cnt / (double)n : NAN, 6);
			fd_writer_amount(run->w, tot, b->exponent[c]);
			fd_writer_f64_sig(run->w, sum ? (double)tot / (double)sum : NAN, 6);
			fd_writer_end(run->w);
		}
	}
	free(order);
	return 0;
}

/* strata: band 0 is below the first bound; band k (1..nbands) starts at bands[k-1] */
static void strata_label(struct run *run, size_t k)
{
	if (k == 0)
		fd_writer_null(run->w);
	else
		write_scaled(run->w, run->bands[k - 1]);
	if (k < run->nbands)
		write_scaled(run->w, run->bands[k]);
	else
		fd_writer_null(run->w);
}

static int cmd_strata(struct run *run, struct fd_err *err)
{
	static const char *const cols[] = {"currency", "band_low", "band_high", "count", "count_share", "total",
					   "total_share"};
	struct bands b = {0};
	struct fd_txn t;
	int r, rc = 0;

	b.nb = run->nbands + 1;
	while ((r = next_txn(run, &t, err)) == 1) {
		int64_t s = fd_scaled(t.amount, t.exponent);
		size_t k = 0;

		while (k < run->nbands && s >= run->bands[k])
			k++;
		if ((rc = bands_slot(&b, &t, k, err)))
			goto out;
	}
	if (r < 0) {
		rc = -r;
		goto out;
	}
	if ((rc = start_output(run, cols, 7, err)) || (rc = bands_write(run, &b, strata_label, err)))
		goto out;
	if (!run->cli.quiet)
		fd_cli_msg(&run->cli, "strata: %s transactions in %zu bands, %zu %s", FD_NUM(run->records),
			   b.nb, b.ncur, b.ncur == 1 ? "currency" : "currencies");
out:
	bands_release(&b);
	return rc;
}

/* ageing: bucket k < nbuckets holds days up to buckets[k]; nbuckets: beyond the last; nbuckets
 * + 1: after --as-of ("future") */
static void ageing_label(struct run *run, size_t k)
{
	char buf[64];
	int64_t from = k ? run->buckets[k - 1] / 10000 + 1 : 0;

	if (k < run->nbuckets)
		snprintf(buf, sizeof(buf), "%lld-%lld", (long long)from, (long long)(run->buckets[k] / 10000));
	else if (k == run->nbuckets)
		snprintf(buf, sizeof(buf), "%lld+", (long long)from);
	else
		snprintf(buf, sizeof(buf), "future");
	fd_writer_cstr(run->w, buf);
	if (k <= run->nbuckets)
		fd_writer_i64(run->w, from);
	else
		fd_writer_null(run->w);
	if (k < run->nbuckets)
		fd_writer_i64(run->w, run->buckets[k] / 10000);
	else
		fd_writer_null(run->w);
}

static int cmd_ageing(struct run *run, struct fd_err *err)
{
	static const char *const cols[] = {"currency", "bucket", "from_days", "to_days", "count", "count_share",
					   "total", "total_share"};
	struct bands b = {0};
	struct fd_txn t;
	int64_t future = 0;
	int r, rc = 0;

	b.nb = run->nbuckets + 2;
	while ((r = next_txn(run, &t, err)) == 1) {
		int64_t age = run->as_of - t.ts, days = age / FD_DAY_MS - (age % FD_DAY_MS < 0);
		size_t k = 0;

		if (days < 0) {
			k = run->nbuckets + 1;
			future++;
		} else
			while (k < run->nbuckets && days * 10000 > run->buckets[k])
				k++;
		if ((rc = bands_slot(&b, &t, k, err)))
			goto out;
	}
	if (r < 0) {
		rc = -r;
		goto out;
	}
	if ((rc = start_output(run, cols, 8, err)) || (rc = bands_write(run, &b, ageing_label, err)))
		goto out;
	if (!run->cli.quiet) {
		char ts[FD_TS_BUFSZ];

		fd_cli_msg(&run->cli, "ageing: %s transactions as of %s, %s after it", FD_NUM(run->records),
			   fd_format_ts(run->as_of, ts), FD_NUM(future));
	}
out:
	bands_release(&b);
	return rc;
}

/* ---- main ---------------------------------------------------------------------------------- */

/* What the command line gave beyond what run keeps. */
struct args {
	const char *since, *until, *as_of, *holidays, *by;
	unsigned given;      /* bit i: applies[i]'s option was given */
};

static void parse_args(struct run *run, struct args *a, int argc, char **argv)
{
	size_t i;
	int c;

	while ((c = fd_cli_getopt(&run->cli, argc, argv)) != -1) {
		for (i = 0; i < sizeof(applies) / sizeof(applies[0]); i++)
			if (applies[i].opt == c)
				a->given |= 1u << i;
		switch (c) {
		case OPT_SINCE: a->since = optarg; break;
		case OPT_UNTIL: a->until = optarg; break;
		case OPT_BY: a->by = optarg; break;
		case OPT_HOLIDAYS: a->holidays = optarg; break;
		case OPT_AS_OF: a->as_of = optarg; break;
		case OPT_TEST:
			if (strcmp(optarg, "first") == 0)
				run->tests = 1;
			else if (strcmp(optarg, "first-two") == 0)
				run->tests = 2;
			else if (strcmp(optarg, "both") == 0)
				run->tests = 3;
			else
				fd_cli_usage_error(&run->cli, "--test must be first, first-two or both, not '%s'", optarg);
			break;
		case OPT_MIN: {
			const char *why = fd_parse_scaled(optarg, &run->min_scaled);

			if (why)
				fd_cli_usage_error(&run->cli, "--min '%s': %s", optarg, why);
			break;
		}
		case OPT_MIN_COUNT: run->min_count = fd_cli_int(&run->cli, "--min-count", optarg, 1, INT64_MAX); break;
		case OPT_SUMMARY: run->summary = 1; break;
		case OPT_REFERENCE:
			if (!*optarg)
				fd_cli_usage_error(&run->cli, "--reference needs a field name");
			run->reference = optarg;
			break;
		case OPT_THRESHOLDS: parse_list(&run->cli, "--thresholds", optarg, run->thresholds, &run->nthresholds); break;
		case OPT_BAND: run->band_pct = fd_cli_double(&run->cli, "--band", optarg, 0.01, 50); break;
		case OPT_Z: run->zmin = fd_cli_double(&run->cli, "--z", optarg, 0, 100); break;
		case OPT_WEEKEND_DAYS: run->weekend_mask = parse_days(&run->cli, optarg); break;
		case OPT_BANDS: parse_list(&run->cli, "--bands", optarg, run->bands, &run->nbands); break;
		case OPT_BUCKETS:
			parse_list(&run->cli, "--buckets", optarg, run->buckets, &run->nbuckets);
			for (i = 0; i < run->nbuckets; i++)
				if (run->buckets[i] % 10000 || run->buckets[i] == 0)
					fd_cli_usage_error(&run->cli, "--buckets '%s': days must be whole and positive", optarg);
			break;
		}
	}
}

/* The test named, the options that apply to it, and its defaults. */
static void check_test(struct run *run, const struct args *a, int argc, char **argv)
{
	const char *by = a->by;
	size_t i;
	int t;

	if (optind >= argc)
		fd_cli_usage_error(&run->cli, "no test: give benford, duplicates, gaps, round, weekend, strata or ageing");
	for (t = 0; t < T_N; t++)
		if (strcmp(argv[optind], test_name[t]) == 0)
			break;
	if (t == T_N) {
		char vis[64];

		fd_visible(vis, sizeof(vis), argv[optind], strlen(argv[optind]));
		fd_cli_usage_error(&run->cli, "unknown test '%s'", vis);
	}
	run->test = (enum test)t;
	optind++;
	for (i = 0; i < sizeof(applies) / sizeof(applies[0]); i++)
		if ((a->given & (1u << i)) && !(applies[i].tests & (1u << run->test)))
			fd_cli_usage_error(&run->cli, "%s does not apply to %s", applies[i].name, test_name[run->test]);
	if (by) {
		static const char *const names[] = {"sender", "recipient", "merchant"};
		static const int fields[] = {FD_F_SENDER_ID, FD_F_RECIPIENT_ID, FD_F_MERCHANT_ID};

		for (i = 0; i < 3; i++)
			if (strcmp(by, names[i]) == 0)
				run->by = fields[i];
		if (!run->by)
			fd_cli_usage_error(&run->cli, "--by must be sender, recipient or merchant, not '%s'", by);
	}
	if (run->test == T_GAPS && !run->reference)
		run->reference = "txn_id";
	if (run->reference) {
		int f = fd_field_lookup(run->reference, strlen(run->reference));

		if (f >= 0 && !text_field(&(struct fd_txn){.txn_id = "", .sender_id = "", .recipient_id = "",
							   .merchant_id = "", .merchant_category = "", .channel = "",
							   .device_id = "", .ip = "", .city = "", .country = "X",
							   .currency = "X"}, f))
			fd_cli_usage_error(&run->cli, "--reference '%s': not a text field", run->reference);
		run->ref_field = f;
	}
	if (run->test == T_ROUND && !run->nthresholds) {
		run->thresholds[0] = 3000 * 10000LL;
		run->thresholds[1] = 5000 * 10000LL;
		run->thresholds[2] = 10000 * 10000LL;
		run->nthresholds = 3;
	}
	if (run->test == T_STRATA && !run->nbands) {
		static const int64_t def[] = {0, 10, 100, 1000, 10000, 100000};

		for (i = 0; i < 6; i++)
			run->bands[i] = def[i] * 10000;
		run->nbands = 6;
	}
	if (run->test == T_AGEING && !run->nbuckets) {
		static const int64_t def[] = {30, 60, 90, 180};

		for (i = 0; i < 4; i++)
			run->buckets[i] = def[i] * 10000;
		run->nbuckets = 4;
	}
}

/* The input: the store (--since, --until) or the FILEs, in the zone of --tz. */
static int open_input(struct run *run, const struct args *a, int argc, char **argv, struct fd_err *err)
{
	struct fd_txnsrc_opts so;
	int rc, store_mode = optind == argc;

	memset(&so, 0, sizeof(so));
	if ((rc = fd_cli_input_open(&run->cli, &so.stream, err)))
		return rc;
	run->fixed_offset_s = so.stream.tz_offset_min * 60;
	if (a->since)
		run->since = fd_cli_time(&run->cli, "--since", a->since, so.stream.tz_offset_min);
	if (a->until)
		run->until = fd_cli_time(&run->cli, "--until", a->until, so.stream.tz_offset_min);
	if (run->since != INT64_MIN && run->until != INT64_MAX && run->until <= run->since)
		fd_cli_usage_error(&run->cli, "--until must be later than --since");
	run->as_of = a->as_of ? fd_cli_time(&run->cli, "--as-of", a->as_of, so.stream.tz_offset_min) : fd_wall_ms();
	if (!store_mode && (run->since != INT64_MIN || run->until != INT64_MAX))
		fd_cli_usage_error(&run->cli, "--since and --until select from the store; they do not apply to FILEs");
	if (store_mode && (run->cli.map_spec || run->cli.delimiter))
		fd_cli_usage_error(&run->cli, "--map and --delimiter apply to FILEs, not to the store");
	if (a->holidays && (rc = load_holidays(run, a->holidays, err)))
		return rc;
	if (store_mode) {
		struct fd_who who = {run->cli.actor, "fd-audit", FD_VERSION};

		if ((rc = fd_store_open(&run->st, run->cli.store, FD_STORE_READONLY, &who, err)))
			return rc;
		so.store = run->st;
		so.since = run->since;
		so.until = run->until;
		so.warm_ms = 0;
	} else {
		so.paths = (const char *const *)argv + optind;
		so.npaths = (size_t)(argc - optind);
		/* the metadata's JSON is built only when a reference lives there */
		so.stream.no_metadata = !(run->reference && run->ref_field < 0);
	}
	return fd_cli_txns_open(&run->txns, &run->cli, &so, 1, err);
}

int fd_forensic_main(int argc, char **argv)
{
	struct run run;
	struct args a;
	struct fd_err err = {0};
	int rc = 0;
	size_t i;
	double t0;

	memset(&run, 0, sizeof(run));
	memset(&a, 0, sizeof(a));
	run.tests = 3;
	run.min_scaled = -1;
	run.min_count = 100;
	run.ref_field = -1;
	run.band_pct = 10;
	run.zmin = 3;
	run.weekend_mask = 1u << 5 | 1u << 6;
	run.since = INT64_MIN;
	run.until = INT64_MAX;
	fd_cli_setup(&run.cli, "fd-audit", synopsis, GROUPS, opts);
	parse_args(&run, &a, argc, argv);
	fd_cli_finish(&run.cli);
	check_test(&run, &a, argc, argv);
	fd_cli_inputs(&run.cli, argc - optind, argv + optind);
	fd_cli_inputs(&run.cli, 1, (char *const[]){(char *)a.holidays});
	t0 = fd_now();
	if ((rc = open_input(&run, &a, argc, argv, &err)))
		goto fail;
	if (run.cli.metrics && !(run.metrics = fd_metrics_create("fd-audit"))) {
		rc = fd_err_set(&err, FD_EIO, "out of memory");
		goto fail;
	}
	if ((rc = fd_cli_output_open(&run.cli, &run.out, &err)))
		goto fail;

	switch (run.test) {
	case T_BENFORD: rc = cmd_benford(&run, &err); break;
	case T_DUPLICATES: rc = cmd_duplicates(&run, &err); break;
	case T_GAPS: rc = cmd_gaps(&run, &err); break;
	case T_ROUND: rc = cmd_round(&run, &err); break;
	case T_WEEKEND: rc = cmd_weekend(&run, &err); break;
	case T_STRATA: rc = cmd_strata(&run, &err); break;
	default: rc = cmd_ageing(&run, &err); break;
	}
	if (rc)
		goto fail;
	fd_writer_free(run.w);
	run.w = NULL;
	fd_cli_progress_end(&run.cli);
	rc = fd_out_commit(run.out, &err);
	run.out = NULL;
	if (rc)
		goto fail;
	if (fd_cli_txns_bad(run.txns) && !run.cli.quiet)
		fd_cli_msg(&run.cli, "%s bad records skipped", FD_NUM(fd_cli_txns_bad(run.txns)));
	if (run.metrics) {
		char lbl[64];

		snprintf(lbl, sizeof(lbl), "test=\"%s\"", test_name[run.test]);
		fd_metrics_add(run.metrics, "fd_audit_forensic_records", "gauge", "Transactions read by the test.",
			       lbl, (double)run.records);
		fd_metrics_add(run.metrics, "fd_audit_forensic_findings", "gauge", "Findings of the test.", lbl,
			       (double)run.findings);
		if ((rc = fd_metrics_write(run.metrics, run.cli.metrics, 1, fd_now() - t0, &err)))
			goto fail;
	}
	rc = run.findings ? FD_EFINDINGS : 0;
	goto out;
fail:
	fd_cli_progress_end(&run.cli);
	rc = fd_cli_report(&run.cli, &err);
	if (run.metrics)
		fd_metrics_write(run.metrics, run.cli.metrics, 0, fd_now() - t0, NULL);
out:
	fd_writer_free(run.w);
	fd_out_abort(run.out);
	fd_cli_txns_free(run.txns);
	fd_store_close(run.st);
	fd_cli_input_release(&run.cli);
	fd_metrics_free(run.metrics);
	for (i = 0; i < run.nholidays; i++)
		free(run.holidays[i].name);
	free(run.holidays);
	{
		int r2 = fd_cli_close_stdout(&run.cli);

		if (!rc || rc == FD_EFINDINGS)
			rc = r2 ? r2 : rc;
	}
	return rc;
}
