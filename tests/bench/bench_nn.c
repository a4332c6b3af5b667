/*
 * bench_nn.c — speed of the autoencoder (lib/fd_nn.c) and the isolation forest
 * (lib/fd_iforest.c) on synthetic data.  Not part of `make test`.
 *
 * Build and run (from the top of the tree):
 *   make build/libfd.a
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Ilib -o build/bench_nn tests/bench/bench_nn.c \
 *      build/libfd.a -lzstd -lopenblas -lsodium -lm
 *   build/bench_nn [-n ROWS] [-f FEATURES] [-l LAYERS] [-b BATCH] [-e EPOCHS] [-s SEED]
 * Defaults: 1,000,000 rows of 18 features, layers 12,6,12 (18→12→6→12→18), batch 64, 3 epochs.
 * The reference designs: `-f 18 -l 12,6,12` and `-f 41 -l 64,32,14,32,64`.
 *
 * It reports (wall time and, because the machine may be shared, CPU time too; batch figures
 * are the best of 3 runs):
 *  - seconds per training epoch (80% of the rows trained at the batch size, 20% validated;
 *    the target is <= 2.5 s at 18→12→6→12→18, batch 64, 1M rows, against PyTorch's
 *    ~12.7 s on CPU);
 *  - batch inference rows/s of the autoencoder, of the forest (100 trees, psi 256), and of
 *    both together (fd-score's per-row model cost; its target is >= 1M rows/s end to end);
 *  - single-row latency p50 / p99 of each (target p99 < 50 µs), from 100,000 timed calls.
 * Everything runs on one core: fd_nn_create() sets OpenBLAS to one thread.
 *
 * Data: rows = A·z + noise, z ~ N(0, I) in 4 latent dimensions, A fixed random, noise 0.3;
 * so the autoencoder has structure to learn.  Values are roughly standardised already.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fd_iforest.h"
#include "fd_nn.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of the process: on a shared machine, wall time also counts the time other
 * processes had the core; both are reported. */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#define REPEAT 3

/* The best of REPEAT runs of a batch job, wall and CPU seconds. */
struct timing {
	double wall, cpu;
};

static void best_of(struct timing *best, double wall, double cpu)
{
	if (best->wall == 0 || wall < best->wall)
		best->wall = wall;
	if (best->cpu == 0 || cpu < best->cpu)
		best->cpu = cpu;
}

static void report_batch(const char *what, const struct timing *t, size_t rows)
{
	printf("%s: %.0f rows/s (%.1f ns/row) wall, %.0f rows/s (%.1f ns/row) CPU; best of %d\n",
	       what, rows / t->wall, t->wall / rows * 1e9, rows / t->cpu, t->cpu / rows * 1e9,
	       REPEAT);
}

static uint64_t lcg_state = 0x853c49e6748fea9bULL;

static double uniform01(void)
{
	lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return ((double)(lcg_state >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double gauss(void)
{
	double u = uniform01(), v = uniform01();

	return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v == 0)
		return -1;
	*out = (size_t)v;
	return 0;
}

static double epoch_t0, epoch_c0;
static double epoch_times[1000], epoch_cpu[1000];
static unsigned epoch_count;

static int on_epoch(unsigned epoch, double train_loss, double val_loss, double rows_per_s,
		    void *user)
{
	double t = now_s(), c = cpu_s();

	(void)user;
	if (epoch_count < 1000) {
		epoch_times[epoch_count] = t - epoch_t0;
		epoch_cpu[epoch_count++] = c - epoch_c0;
	}
	printf("  epoch %u: %.3f s wall, %.3f s CPU  train loss %.5f  validation loss %.5f  %.0f training rows/s\n",
	       epoch, t - epoch_t0, c - epoch_c0, train_loss, val_loss, rows_per_s);
	fflush(stdout);
	epoch_t0 = t;
	epoch_c0 = c;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define LAT_CALLS 100000

static void latency(const char *what, double *t, size_t n)
{
	qsort(t, n, sizeof(*t), cmp_double);
	printf("%s single-row latency: p50 %.2f us  p99 %.2f us  max %.2f us\n", what,
	       t[n / 2] * 1e6, t[n * 99 / 100] * 1e6, t[n - 1] * 1e6);
}

int main(int argc, char **argv)
{
	size_t rows = 1000000, d = 18, batch = 64, epochs = 3, seed = 42;
	const char *layers = "12,6,12";
	size_t hidden[FD_NN_MAX_HIDDEN], nh, i, j;
	struct fd_err err = { 0, "" };
	struct fd_nn *nn = NULL;
	struct fd_nn_ws *ws = NULL;
	struct fd_iforest *forest = NULL;
	struct fd_nn_train_opts o;
	struct fd_nn_train_result res;
	struct fd_iforest_opts fo;
	float *X, *A, *e, *sc, sink = 0.0f;
	double *lat, t0, t1, c0;
	struct timing tm;
	int a;

	for (a = 1; a < argc; a++) {
		const char *v = a + 1 < argc ? argv[a + 1] : NULL;
		int bad = !v;

		if (!strcmp(argv[a], "-n") && v)
			bad = parse_size(v, &rows);
		else if (!strcmp(argv[a], "-f") && v)
			bad = parse_size(v, &d);
		else if (!strcmp(argv[a], "-b") && v)
			bad = parse_size(v, &batch);
		else if (!strcmp(argv[a], "-e") && v)
			bad = parse_size(v, &epochs);
		else if (!strcmp(argv[a], "-s") && v)
			bad = parse_size(v, &seed);
		else if (!strcmp(argv[a], "-l") && v)
			layers = v, bad = 0;
		else
			bad = 1;
		if (bad) {
			fprintf(stderr,
				"usage: bench_nn [-n ROWS] [-f FEATURES] [-l LAYERS] [-b BATCH] [-e EPOCHS] [-s SEED]\n");
			return 2;
		}
		a++;
	}
	if (fd_nn_parse_layers(layers, hidden, &nh, &err)) {
		fprintf(stderr, "bench_nn: %s\n", err.msg);
		return 2;
	}
	X = malloc(rows * d * sizeof(*X));
	A = malloc(d * 4 * sizeof(*A));
	e = malloc(rows * sizeof(*e));
	sc = malloc(rows * sizeof(*sc));
	lat = malloc(LAT_CALLS * sizeof(*lat));
	if (!X || !A || !e || !sc || !lat) {
		fprintf(stderr, "bench_nn: out of memory\n");
		return 4;
	}
	for (i = 0; i < d * 4; i++)
		A[i] = (float)(gauss() * 0.5);
	for (i = 0; i < rows; i++) {
		double z[4];

		for (j = 0; j < 4; j++)
			z[j] = gauss();
		for (j = 0; j < d; j++)
			X[i * d + j] = (float)(A[j * 4] * z[0] + A[j * 4 + 1] * z[1] + A[j * 4 + 2] * z[2] +
					       A[j * 4 + 3] * z[3] + 0.3 * gauss());
	}
	printf("bench_nn: %zu rows x %zu features, layers %s, batch %zu, %zu epochs, 1 thread\n",
	       rows, d, layers, batch, epochs);

	if (fd_nn_create(&nn, d, hidden, nh, seed, &err) ||
	    fd_nn_ws_create(&ws, nn, 0, &err)) {
		fprintf(stderr, "bench_nn: %s\n", err.msg);
		return 4;
	}
	fd_nn_train_opts_init(&o);
	o.batch = batch;
	o.max_epochs = (unsigned)epochs;
	o.patience = 0;
	o.seed = seed;
	o.progress = on_epoch;
	epoch_t0 = now_s();
	epoch_c0 = cpu_s();
	t0 = epoch_t0;
	if (fd_nn_train(nn, X, rows, d, &o, &res, &err)) {
		fprintf(stderr, "bench_nn: %s\n", err.msg);
		return 3;
	}
	t1 = now_s();
	{
		double sum = 0.0, csum = 0.0, lo = 1e30;

		for (i = 0; i < epoch_count; i++) {
			sum += epoch_times[i];
			csum += epoch_cpu[i];
			lo = epoch_times[i] < lo ? epoch_times[i] : lo;
		}
		printf("autoencoder training: %.3f s/epoch wall (mean of %u, best %.3f), %.3f s/epoch CPU; %zu training + %zu validation rows; total %.2f s\n",
		       sum / epoch_count, epoch_count, lo, csum / epoch_count, res.n_train, res.n_val,
		       t1 - t0);
	}
	fd_nn_train_result_release(&res);

	memset(&tm, 0, sizeof(tm));
	for (a = 0; a < REPEAT; a++) {
		t0 = now_s();
		c0 = cpu_s();
		fd_nn_errors(nn, ws, X, rows, e, NULL);
		best_of(&tm, now_s() - t0, cpu_s() - c0);
	}
	report_batch("autoencoder batch inference", &tm, rows);
	for (i = 0; i < LAT_CALLS; i++) {
		float one;

		t0 = now_s();
		fd_nn_errors(nn, ws, X + (i % rows) * d, 1, &one, NULL);
		lat[i] = now_s() - t0;
		sink += one;
	}
	latency("autoencoder", lat, LAT_CALLS);

	fd_iforest_opts_init(&fo);
	fo.seed = seed;
	t0 = now_s();
	if (fd_iforest_train(&forest, X, rows, d, &fo, &err)) {
		fprintf(stderr, "bench_nn: %s\n", err.msg);
		return 3;
	}
	t1 = now_s();
	printf("forest: %u trees, psi %zu, height %u, grown in %.3f s\n", fd_iforest_trees(forest),
	       fd_iforest_subsample(forest), fd_iforest_height(forest), t1 - t0);
	memset(&tm, 0, sizeof(tm));
	for (a = 0; a < REPEAT; a++) {
		t0 = now_s();
		c0 = cpu_s();
		fd_iforest_score(forest, X, rows, sc);
		best_of(&tm, now_s() - t0, cpu_s() - c0);
	}
	report_batch("forest batch scoring", &tm, rows);
	for (i = 0; i < LAT_CALLS; i++) {
		t0 = now_s();
		sink += fd_iforest_score_row(forest, X + (i % rows) * d);
		lat[i] = now_s() - t0;
	}
	latency("forest", lat, LAT_CALLS);

	memset(&tm, 0, sizeof(tm));
	for (a = 0; a < REPEAT; a++) {
		t0 = now_s();
		c0 = cpu_s();
		for (i = 0; i < rows; i += 4096) {
			size_t n = rows - i < 4096 ? rows - i : 4096;

			fd_nn_errors(nn, ws, X + i * d, n, e + i, NULL);
			fd_iforest_score(forest, X + i * d, n, sc + i);
		}
		best_of(&tm, now_s() - t0, cpu_s() - c0);
	}
	report_batch("autoencoder + forest batch", &tm, rows);
	for (i = 0; i < LAT_CALLS; i++) {
		float one;

		t0 = now_s();
		fd_nn_errors(nn, ws, X + (i % rows) * d, 1, &one, NULL);
		sink += one + fd_iforest_score_row(forest, X + (i % rows) * d);
		lat[i] = now_s() - t0;
	}
	latency("autoencoder + forest", lat, LAT_CALLS);
	if (sink == 12345.0f) /* keep the calls */
		printf("\n");

	fd_iforest_free(forest);
	fd_nn_ws_free(ws);
	fd_nn_free(nn);
	free(X);
	free(A);
	free(e);
	free(sc);
	free(lat);
	return 0;
}
