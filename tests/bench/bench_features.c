/*
 * bench_features.c — throughput and memory of the feature engine on a synthetic stream.
 *
 * Not part of `make test`.  Build and run (after `make build/libfd.a`):
 *
 *	cc -std=c11 -D_GNU_SOURCE -O2 -Ilib -o build/bench_features tests/bench/bench_features.c \
 *	   build/libfd.a -lm
 *	build/bench_features [--spread] [ROWS [SENDERS [FEATURES]]]
 *
 * Defaults: 1,000,000 transactions of 10,000 senders over 90 days, the whole catalog, with
 * habitual senders: 85% of card payments at one of the sender's 15 regular merchants (of
 * 5,000), 80% of transfers to one of 5 regular payees (of 100,000), a main device (85%) and a
 * second one (12%), a home IP (60%) and two others (32%); 5% of transactions abroad, 80% with
 * coordinates, 0.5% fraud labels.  --spread is a harsher high-cardinality mix: merchants from
 * 20,000 with 20% one-offs, 10% of transactions on a random device of 60,000, 20% on a random
 * IP of 60,000, 30% of transfers to a random payee.  The
 * stream is generated in memory before the clock starts (an index record per transaction);
 * then, 4,096 rows at a time, the text fields are written into a record buffer outside the
 * clock (the reader's work) and the rows pushed inside it.  Prints rows/s, the state's
 * bytes (fd_features_bytes) and the process's peak RSS.  The wall-clock rate is the one that
 * counts; the rate per CPU second is printed too because it is steadier on a busy machine.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "fd_features.h"
#include "fd_txn.h"

#define NRCP 100000
#define NMER 20000
#define NDEV 60000
#define NIP 60000
#define NCITY 16

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint32_t rndn(uint32_t n)
{
	return (uint32_t)((rnd() >> 11) % n);
}

static double rndu(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

struct rec {
	int64_t ts, amount;
	uint32_t sender, recipient, merchant, device, ip;  /* UINT32_MAX = absent */
	float lat, lon;
	uint8_t has_geo, channel, category, label, country;
};

static const struct { double lat, lon; const char *cc; } cities[NCITY] = {
	{ 51.5074, -0.1278, "GB" }, { 48.8566, 2.3522, "FR" }, { 52.52, 13.405, "DE" },
	{ 40.7128, -74.006, "US" }, { 34.0522, -118.2437, "US" }, { 35.6762, 139.6503, "JP" },
	{ -33.8688, 151.2093, "AU" }, { 19.4326, -99.1332, "MX" }, { -23.5505, -46.6333, "BR" },
	{ 55.7558, 37.6173, "RU" }, { 28.6139, 77.209, "IN" }, { 1.3521, 103.8198, "SG" },
	{ 41.9028, 12.4964, "IT" }, { 40.4168, -3.7038, "ES" }, { 59.3293, 18.0686, "SE" },
	{ 43.6532, -79.3832, "CA" },
};
static const char *const channels[] = { "card", "transfer", "atm", "online", "mobile", "pos", NULL };
static const char *const categories[] = {
	"grocery", "restaurants", "fuel", "travel", "electronics", "gambling", "jewelry",
	"clothing", "pharmacy", "utilities", "crypto", "gift cards", "entertainment", "hotels",
	"money transfer", "books", "home", "sports", "health", "education",
};

/* The text fields of one row, laid out as a reader's record buffer would hold them. */
struct row_text {
	char sender[12], recipient[12], merchant[12], device[12], ip[20];
};

#define CHUNK 4096

static double now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int spread = argc > 1 && strcmp(argv[1], "--spread") == 0;
	uint32_t nrows = argc > 1 + spread ? (uint32_t)strtoul(argv[1 + spread], NULL, 10) : 1000000;
	uint32_t nsnd = argc > 2 + spread ? (uint32_t)strtoul(argv[2 + spread], NULL, 10) : 10000;
	const char *sel = argc > 3 + spread ? argv[3 + spread] : NULL;
	struct rec *r = malloc((size_t)nrows * sizeof(*r));
	struct row_text *txt = malloc(CHUNK * sizeof(*txt));
	uint32_t *home = malloc(nsnd * sizeof(*home)), i;
	struct fd_features *f;
	struct fd_err err = { 0 };
	struct fd_txn t;
	struct rusage ru;
	double *out, secs = 0, cpu = 0, checksum = 0;
	int64_t ts = 1767225600000LL;  /* 2026-01-01 */
	const double span = 90.0 * 86400000.0;
	size_t nf;

	if (!r || !home || !txt)
		return 4;
	for (i = 0; i < nsnd; i++)
		home[i] = rndn(NCITY);
	for (i = 0; i < nrows; i++) {
		struct rec *x = &r[i];
		uint32_t s = rndn(nsnd), c = home[s];

		ts += (int64_t)(-log(1.0 - rndu()) * span / nrows);
		x->ts = ts;
		x->sender = s;
		x->amount = (int64_t)(exp(3.5 + 1.2 * (rndu() + rndu() + rndu() - 1.5)) * 100);
		x->channel = (uint8_t)rndn(6);
		if (spread) {
			/* high cardinality: many one-off counterparties, devices and IPs */
			x->recipient = x->channel == 1 ? (rndu() < 0.7 ? (s * 7 + rndn(5)) % NRCP : rndn(NRCP)) : UINT32_MAX;
			x->merchant = x->channel != 1 ? (rndu() < 0.8 ? (s * 13 + rndn(20)) % NMER : rndn(NMER)) : UINT32_MAX;
			x->device = rndu() < 0.9 ? (s * 3 + rndn(2)) % NDEV : rndn(NDEV);
			x->ip = rndu() < 0.8 ? (s * 5 + rndn(3)) % NIP : rndn(NIP);
		} else {
			/* habits: regular merchants and payees, a main device, a home IP */
			double u = rndu();

			x->recipient = x->channel == 1 ? (rndu() < 0.8 ? (s * 7 + rndn(5)) % NRCP : rndn(NRCP)) : UINT32_MAX;
			x->merchant = x->channel != 1 ? (rndu() < 0.85 ? (s * 13 + rndn(15)) % (NMER / 4)
								     : rndn(NMER / 4)) : UINT32_MAX;
			x->device = u < 0.85 ? s * 3 % NDEV : u < 0.97 ? (s * 3 + 1) % NDEV : rndn(NDEV);
			u = rndu();
			x->ip = u < 0.6 ? s * 5 % NIP : u < 0.92 ? (s * 5 + 1 + rndn(2)) % NIP : rndn(NIP);
		}
		if (rndu() < 0.05)
			c = rndn(NCITY);
		x->country = (uint8_t)c;
		x->has_geo = rndu() < 0.8;
		x->lat = (float)(cities[c].lat + (rndu() - 0.5) * 0.2);
		x->lon = (float)(cities[c].lon + (rndu() - 0.5) * 0.2);
		x->category = (uint8_t)(x->merchant == UINT32_MAX ? 0 : x->merchant % 20);
		x->label = rndu() < 0.005;
	}
	if (fd_features_create(&f, NULL, &err) || fd_features_select(f, sel, &err)) {
		fprintf(stderr, "bench_features: %s\n", err.msg);
		return err.code;
	}
	nf = fd_features_count(f);
	out = malloc(nf * sizeof(*out));
	for (i = 0; i < nrows; i += CHUNK) {
		uint32_t n = nrows - i < CHUNK ? nrows - i : CHUNK, j;
		double w0, c0;

		/* untimed: the reader's work, text fields into a record buffer */
		for (j = 0; j < n; j++) {
			const struct rec *x = &r[i + j];
			struct row_text *y = &txt[j];

			snprintf(y->sender, sizeof(y->sender), "S%07" PRIu32, x->sender);
			snprintf(y->recipient, sizeof(y->recipient), "R%07" PRIu32, x->recipient);
			snprintf(y->merchant, sizeof(y->merchant), "M%07" PRIu32, x->merchant);
			snprintf(y->device, sizeof(y->device), "D%07" PRIu32, x->device);
			snprintf(y->ip, sizeof(y->ip), "10.%u.%u.%u", (unsigned)(x->ip >> 16),
				 (unsigned)(x->ip >> 8 & 255), (unsigned)(x->ip & 255));
		}
		w0 = now(CLOCK_MONOTONIC);
		c0 = now(CLOCK_THREAD_CPUTIME_ID);
		for (j = 0; j < n; j++) {
			const struct rec *x = &r[i + j];
			const struct row_text *y = &txt[j];

			fd_txn_clear(&t);
			t.txn_id = "x";
			t.ts = x->ts;
			t.amount = x->amount;
			memcpy(t.currency, "USD", 4);
			t.exponent = 2;
			t.sender_id = y->sender;
			t.recipient_id = x->recipient == UINT32_MAX ? NULL : y->recipient;
			t.merchant_id = x->merchant == UINT32_MAX ? NULL : y->merchant;
			t.merchant_category = x->merchant == UINT32_MAX ? NULL : categories[x->category];
			t.channel = channels[x->channel];
			t.device_id = y->device;
			t.ip = y->ip;
			t.has_geo = x->has_geo;
			t.lat = x->lat;
			t.lon = x->lon;
			memcpy(t.country, cities[x->country].cc, 3);
			t.label = x->label;
			if (fd_features_push(f, &t, out, NULL, &err)) {
				fprintf(stderr, "bench_features: row %" PRIu32 ": %s\n", i + j, err.msg);
				return err.code;
			}
			checksum += out[0];
		}
		cpu += now(CLOCK_THREAD_CPUTIME_ID) - c0;
		secs += now(CLOCK_MONOTONIC) - w0;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("rows %" PRIu32 ", senders %" PRIu32 ", features %zu, %s stream\n", nrows, nsnd, nf,
	       spread ? "spread" : "habitual");
	printf("time %.3f s, %.0f rows/s (%.0f ns/row); CPU %.3f s, %.0f rows per CPU second\n", secs,
	       nrows / secs, secs * 1e9 / nrows, cpu, nrows / cpu);
	printf("state %.1f MiB (fd_features_bytes), peak RSS %.1f MiB (includes the generated stream)\n",
	       fd_features_bytes(f) / 1048576.0, ru.ru_maxrss / 1024.0);
	printf("checksum %g\n", checksum);
	fd_features_free(f);
	free(out);
	free(r);
	free(home);
	free(txt);
	return 0;
}
