/*
 * bench_rules.c — throughput of rule evaluation with rules/default.rules.
 *
 * Not part of `make test`.  Build and run from the top of the tree (after `make build/libfd.a`):
 *
 *	cc -std=c11 -D_GNU_SOURCE -O2 -Ilib -o build/bench_rules tests/bench/bench_rules.c \
 *	   build/libfd.a -lm
 *	build/bench_rules [ROWS [RULES_FILE]]
 *
 * Two measurements on one core, ROWS transactions each (default 1,000,000):
 *  1. rules alone: fd_rules_eval over a pool of 4,096 prepared transactions and feature
 *     vectors (values drawn so that every default rule hits some of them, about one
 *     transaction in four hits something), first without and then with the reason of every
 *     hit expanded into a buffer, as fd-rules does;
 *  2. features and rules: a synthetic stream of 10,000 senders over 30 days pushed through
 *     fd_features with only the features the rules need selected (fd_rules_features), then
 *     evaluated, reasons expanded — the work of fd-rules without reading and writing.
 * Prints rows/s and hits for each.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fd_features.h"
#include "fd_rules.h"
#include "fd_txn.h"

#define POOL 4096
#define NSEND 10000

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint32_t rndn(uint32_t n)
{
	return (uint32_t)((rnd() >> 32) % n);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const struct fd_err *err)
{
	fprintf(stderr, "bench_rules: %s\n", err->msg);
	return 1;
}

static const char *const countries[] = { "US", "US", "US", "GB", "FR", "DE", "KP", "IR" };
static char ids[NSEND][12], devs[NSEND][12], mers[64][24], txids[POOL][16];

static int feat(const char *name)
{
	int i = fd_feat_lookup(name);

	if (i < 0) {
		fprintf(stderr, "bench_rules: no feature '%s' in the catalog\n", name);
		exit(1);
	}
	return i;
}

int main(int argc, char **argv)
{
	char *end;
	long rows = argc > 1 ? strtol(argv[1], &end, 10) : 1000000;
	const char *path = argc > 2 ? argv[2] : "rules/default.rules";
	const struct fd_feat_def *defs;
	size_t nfeat = fd_feat_catalog(&defs), nrules, k, nidx;
	struct fd_rules *r;
	struct fd_features *fe;
	struct fd_err err;
	struct fd_txn *pool;
	struct fd_rule_hit hits[64];
	struct fd_buf reason = FD_BUF_INIT;
	double *vec, *all, *sel, t0, t1;
	const int *idx;
	long i, nhits = 0, hit_txns = 0;

	if (argc > 1 && (*end || end == argv[1] || rows <= 0)) {
		fprintf(stderr, "bench_rules: bad row count '%s'\n", argv[1]);
		return 2;
	}
	if (fd_rules_load(&r, path, &err))
		return die(&err);
	nrules = fd_rules_count(r);
	if (nrules > sizeof(hits) / sizeof(*hits)) {
		fprintf(stderr, "bench_rules: too many rules\n");
		return 1;
	}
	for (k = 0; k < NSEND; k++) {
		snprintf(ids[k], sizeof(ids[k]), "C%06zu", k);
		snprintf(devs[k], sizeof(devs[k]), "D%06zu", k);
	}
	for (k = 0; k < 64; k++)
		snprintf(mers[k], sizeof(mers[k]), k == 63 ? "MERCH-EXAMPLE-BLOCKED-1" : "M%04zu", k);

	/* 1. rules alone on a pool of prepared rows */
	pool = calloc(POOL, sizeof(*pool));
	vec = malloc((size_t)POOL * nfeat * sizeof(*vec));
	if (!pool || !vec)
		return fprintf(stderr, "bench_rules: out of memory\n"), 1;
	for (k = 0; k < (size_t)POOL; k++) {
		struct fd_txn *t = &pool[k];
		double *f = vec + k * nfeat;
		size_t j;

		fd_txn_clear(t);
		snprintf(txids[k], sizeof(txids[k]), "T%zu", k);
		t->txn_id = txids[k];
		t->sender_id = ids[rndn(NSEND)];
		t->merchant_id = mers[rndn(64)];
		t->device_id = devs[rndn(NSEND)];
		memcpy(t->currency, "USD", 4);
		t->exponent = 2;
		t->amount = rndn(50) == 0 ? 900000 + rndn(150000) : 500 + rndn(80000);
		memcpy(t->country, countries[rndn(40) == 0 ? 6 + rndn(2) : rndn(6)], 3);
		for (j = 0; j < nfeat; j++)
			f[j] = NAN;
		f[feat("hour")] = rndn(50) ? 5 + rndn(19) : rndn(5);
		f[feat("sender_txn_count_10m")] = rndn(50) ? 1 + rndn(3) : 6 + rndn(5);
		f[feat("sender_txn_count_1h")] = rndn(50) ? 1 + rndn(8) : 16 + rndn(5);
		f[feat("amount_to_mean_30d")] = rndn(10) ? (double)rndn(320) / 100 : NAN;
		f[feat("new_device")] = rndn(10) == 0;
		f[feat("sender_near_threshold_count_24h")] = rndn(50) ? 0 : 1 + rndn(3);
		f[feat("days_since_last")] = rndn(10) ? (double)rndn(200) : NAN;
		if (rndn(5)) {
			f[feat("geo_distance_km")] = rndn(50) ? rndn(100) : rndn(3000);
			f[feat("mins_since_prev_geo")] = 1 + rndn(600);
			f[feat("geo_speed_kmh")] = f[feat("geo_distance_km")] / (f[feat("mins_since_prev_geo")] / 60);
		}
	}
	t0 = now();
	for (i = 0; i < rows; i++) {
		size_t p = (size_t)i & (POOL - 1);

		nhits += (long)fd_rules_eval(r, &pool[p], vec + p * nfeat, hits);
	}
	t1 = now();
	printf("rules alone, no reasons: %ld rows, %zu rules, %.2f s, %.0f rows/s; %ld hits\n",
	       rows, nrules, t1 - t0, (double)rows / (t1 - t0), nhits);
	nhits = 0;
	t0 = now();
	for (i = 0; i < rows; i++) {
		size_t p = (size_t)i & (POOL - 1), n = fd_rules_eval(r, &pool[p], vec + p * nfeat, hits);

		hit_txns += n > 0;
		for (k = 0; k < n; k++) {
			fd_buf_reset(&reason);
			if (fd_rules_reason(r, hits[k].rule, &pool[p], vec + p * nfeat, &reason, &err))
				return die(&err);
		}
		nhits += (long)n;
	}
	t1 = now();
	printf("rules alone, with reasons: %ld rows, %.2f s, %.0f rows/s; %ld hits on %ld rows\n",
	       rows, t1 - t0, (double)rows / (t1 - t0), nhits, hit_txns);

	/* 2. features (only those the rules need) and rules, on a time-ordered stream */
	if (fd_features_create(&fe, NULL, &err))
		return die(&err);
	nidx = fd_rules_features(r, &idx);
	if (fd_features_select_idx(fe, idx, nidx, 0, &err))
		return die(&err);
	all = malloc(nfeat * sizeof(*all));
	sel = malloc((nidx ? nidx : 1) * sizeof(*sel));
	if (!all || !sel)
		return fprintf(stderr, "bench_rules: out of memory\n"), 1;
	nhits = hit_txns = 0;
	{
		int64_t ts = 1793491200000LL, step = 30LL * 86400000 / rows;   /* 2026-11-01, 30 days */
		char tid[24];
		struct fd_txn t;

		t0 = now();
		for (i = 0; i < rows; i++) {
			uint32_t s = rndn(NSEND);
			size_t n;

			fd_txn_clear(&t);
			snprintf(tid, sizeof(tid), "T%ld", i);
			t.txn_id = tid;
			t.ts = ts + i * (step ? step : 1);
			t.sender_id = ids[s];
			t.device_id = devs[rndn(20) ? s : rndn(NSEND)];
			t.merchant_id = mers[rndn(64)];
			memcpy(t.currency, "USD", 4);
			t.exponent = 2;
			t.amount = rndn(200) == 0 ? 900000 + rndn(150000) : 500 + rndn(30000);
			memcpy(t.country, countries[rndn(200) == 0 ? 6 : rndn(6)], 3);
			t.has_geo = rndn(5) != 0;
			t.lat = 40 + (double)(s % 100) / 10 + (rndn(50) == 0 ? 10 : 0);
			t.lon = -3 + (double)(s % 70) / 10;
			if (fd_features_push(fe, &t, sel, all, &err))
				return die(&err);
			n = fd_rules_eval(r, &t, all, hits);
			hit_txns += n > 0;
			for (k = 0; k < n; k++) {
				fd_buf_reset(&reason);
				if (fd_rules_reason(r, hits[k].rule, &t, all, &reason, &err))
					return die(&err);
			}
			nhits += (long)n;
		}
		t1 = now();
	}
	printf("features (%zu selected) + rules: %ld rows, %.2f s, %.0f rows/s; %ld hits on %ld rows\n",
	       nidx, rows, t1 - t0, (double)rows / (t1 - t0), nhits, hit_txns);

	fd_features_free(fe);
	fd_rules_free(r);
	fd_buf_release(&reason);
	free(pool);
	free(vec);
	free(all);
	free(sel);
	return 0;
}
