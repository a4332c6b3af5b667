/*
 * test_model.c — the model file (lib/fd_model.c): round trips, refusal of truncated,
 * corrupt, foreign and newer files, hostile payloads inside a valid envelope (built here from
 * the format in fd_model.h, with zstd and libsodium directly), determinism, the scaler and the
 * calibration (numbers by hand).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "fd_model.h"

#define D 5
static const char *const names[D] = { "amount", "hour_of_day", "sender_txn_count_10m",
				      "km_from_prev", "new_device" };

static uint64_t lcg = 88172645463325252ULL;

static float noise(void)
{
	lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
	return (float)((double)(lcg >> 11) / 9007199254740992.0 - 0.5);
}

/* A small trained model; everything depends on seed only. */
static struct fd_model *make_model(uint64_t seed)
{
	const size_t rows = 600, hidden[] = { 4, 2, 4 };
	struct fd_model *m;
	struct fd_nn *nn;
	struct fd_iforest *f;
	struct fd_nn_train_opts o;
	struct fd_nn_train_result res;
	struct fd_iforest_opts fo;
	struct fd_err err;
	float *X = malloc(rows * D * sizeof(*X));
	size_t i, j;

	lcg = 88172645463325252ULL;
	for (i = 0; i < rows; i++) {
		float a = noise(), b = noise();

		for (j = 0; j < D; j++)
			X[i * D + j] = 100.0f * (float)j + a * (float)(j + 1) + b * (float)(j % 2) +
				       0.01f * noise();
	}
	assert_int_equal(fd_model_create(&m, names, D, &err), FD_OK);
	fd_model_fit_scaler(m, X, rows);
	fd_model_standardise(m, X, rows);
	assert_int_equal(fd_nn_create(&nn, D, hidden, 3, seed, &err), FD_OK);
	fd_nn_train_opts_init(&o);
	o.seed = seed;
	o.max_epochs = 3;
	assert_int_equal(fd_nn_train(nn, X, rows, D, &o, &res, &err), FD_OK);
	assert_int_equal(fd_model_set_nn(m, nn, &err), FD_OK);
	assert_int_equal(fd_model_calibrate_ae(m, res.val_errors, res.n_val, 0.95, 0.99, &err), FD_OK);
	fd_nn_train_result_release(&res);
	fd_iforest_opts_init(&fo);
	fo.trees = 20;
	fo.subsample = 64;
	fo.seed = seed;
	assert_int_equal(fd_iforest_train(&f, X, rows, D, &fo, &err), FD_OK);
	assert_int_equal(fd_model_set_forest(m, f, &err), FD_OK);
	m->thr.if_medium = 0.6;
	m->thr.if_high = 0.7;
	m->thr.risk_high = 80;
	m->meta.rows = rows;
	memcpy(m->meta.data_sha256,
	       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 65);
	m->meta.seed = seed;
	m->meta.created_ms = 1764000000123;
	memcpy(m->meta.tool_version, "fd-train 0.1.0", 15);
	assert_int_equal(fd_model_set_metrics(m, "{\"epochs\":3,\"val_loss\":0.5}", &err), FD_OK);
	free(X);
	return m;
}

static void assert_same_double(double a, double b)
{
	assert_memory_equal(&a, &b, sizeof(a)); /* bit for bit, NaN included */
}

static void assert_models_equal(const struct fd_model *a, const struct fd_model *b)
{
	size_t i, na, nb;
	const float *pa, *pb;
	unsigned t;

	assert_int_equal(a->n_features, b->n_features);
	for (i = 0; i < a->n_features; i++) {
		assert_string_equal(a->features[i], b->features[i]);
		assert_same_double(a->mean[i], b->mean[i]);
		assert_same_double(a->std[i], b->std[i]);
	}
	assert_same_double(a->thr.ae_medium, b->thr.ae_medium);
	assert_same_double(a->thr.ae_high, b->thr.ae_high);
	assert_same_double(a->thr.if_medium, b->thr.if_medium);
	assert_same_double(a->thr.if_high, b->thr.if_high);
	assert_same_double(a->thr.risk_medium, b->thr.risk_medium);
	assert_same_double(a->thr.risk_high, b->thr.risk_high);
	assert_int_equal(a->meta.rows, b->meta.rows);
	assert_string_equal(a->meta.data_sha256, b->meta.data_sha256);
	assert_int_equal(a->meta.seed, b->meta.seed);
	assert_int_equal(a->meta.created_ms, b->meta.created_ms);
	assert_string_equal(a->meta.tool_version, b->meta.tool_version);
	assert_int_equal(!a->meta.metrics_json, !b->meta.metrics_json);
	if (a->meta.metrics_json)
		assert_string_equal(a->meta.metrics_json, b->meta.metrics_json);
	assert_int_equal(a->n_ecdf, b->n_ecdf);
	assert_int_equal(!a->ecdf, !b->ecdf);
	if (a->ecdf)
		assert_memory_equal(a->ecdf, b->ecdf, a->n_ecdf * sizeof(float));
	assert_int_equal(!a->nn, !b->nn);
	if (a->nn) {
		size_t ha[FD_NN_MAX_HIDDEN], hb[FD_NN_MAX_HIDDEN];

		assert_int_equal(fd_nn_hidden(a->nn, ha, FD_NN_MAX_HIDDEN),
				 fd_nn_hidden(b->nn, hb, FD_NN_MAX_HIDDEN));
		assert_memory_equal(ha, hb, fd_nn_hidden(a->nn, NULL, 0) * sizeof(size_t));
		pa = fd_nn_params(a->nn, &na);
		pb = fd_nn_params(b->nn, &nb);
		assert_int_equal(na, nb);
		assert_memory_equal(pa, pb, na * sizeof(float));
		pa = fd_nn_bn_state(a->nn, &na);
		pb = fd_nn_bn_state(b->nn, &nb);
		assert_int_equal(na, nb);
		assert_memory_equal(pa, pb, na * sizeof(float));
	}
	assert_int_equal(!a->forest, !b->forest);
	if (a->forest) {
		assert_int_equal(fd_iforest_trees(a->forest), fd_iforest_trees(b->forest));
		assert_int_equal(fd_iforest_subsample(a->forest), fd_iforest_subsample(b->forest));
		for (t = 0; t < fd_iforest_trees(a->forest); t++) {
			const struct fd_iforest_node *x = fd_iforest_tree(a->forest, t, &na);
			const struct fd_iforest_node *y = fd_iforest_tree(b->forest, t, &nb);

			assert_int_equal(na, nb);
			assert_memory_equal(x, y, na * sizeof(*x));
		}
	}
}

static void test_roundtrip(void **state)
{
	struct fd_model *m = make_model(5), *back;
	struct fd_buf a = FD_BUF_INIT, b = FD_BUF_INIT;
	struct fd_err err;
	float x[D] = { 0.1f, -0.2f, 0.3f, 2.0f, -1.0f }, e1, e2;
	struct fd_nn_ws *w1, *w2;

	(void)state;
	assert_int_equal(fd_model_encode(m, &a, &err), FD_OK);
	assert_memory_equal(a.s, "FDMODEL\0\1\0\0\0\3\0\0\0", 16); /* magic, version 1, both flags */
	assert_int_equal(fd_model_decode(&back, a.s, a.len, "m.fdm", &err), FD_OK);
	assert_int_equal(back->version, 1);
	assert_models_equal(m, back);
	assert_int_equal(fd_model_encode(back, &b, &err), FD_OK);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.s, b.s, a.len);
	/* and the networks loaded behave as the originals */
	assert_int_equal(fd_nn_ws_create(&w1, m->nn, 0, &err), FD_OK);
	assert_int_equal(fd_nn_ws_create(&w2, back->nn, 0, &err), FD_OK);
	fd_nn_errors(m->nn, w1, x, 1, &e1, NULL);
	fd_nn_errors(back->nn, w2, x, 1, &e2, NULL);
	assert_memory_equal(&e1, &e2, sizeof(e1));
	assert_memory_equal(&(float){ fd_iforest_score_row(m->forest, x) },
			    &(float){ fd_iforest_score_row(back->forest, x) }, sizeof(float));
	fd_nn_ws_free(w1);
	fd_nn_ws_free(w2);
	fd_buf_release(&a);
	fd_buf_release(&b);
	fd_model_free(m);
	fd_model_free(back);
	fd_model_free(NULL);
}

/* Only one network, no ECDF, no metrics: still a round trip. */
static void test_roundtrip_forest_only(void **state)
{
	struct fd_model *m = make_model(6), *back;
	struct fd_buf a = FD_BUF_INIT;
	struct fd_err err;

	(void)state;
	assert_int_equal(fd_model_set_nn(m, NULL, &err), FD_OK);
	free(m->ecdf);
	m->ecdf = NULL;
	m->n_ecdf = 0;
	assert_int_equal(fd_model_set_metrics(m, NULL, &err), FD_OK);
	assert_int_equal(fd_model_encode(m, &a, &err), FD_OK);
	assert_int_equal((unsigned char)a.s[12], 2);
	assert_int_equal(fd_model_decode(&back, a.s, a.len, NULL, &err), FD_OK);
	assert_null(back->nn);
	assert_null(back->meta.metrics_json);
	assert_models_equal(m, back);
	fd_model_free(back);
	assert_int_equal(fd_model_set_forest(m, NULL, &err), FD_OK);
	fd_buf_reset(&a);
	assert_int_equal(fd_model_encode(m, &a, &err), FD_EUSAGE);
	fd_buf_release(&a);
	fd_model_free(m);
}

static char tmpdir[64];

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void test_save_load(void **state)
{
	struct fd_model *m = make_model(7), *back;
	struct fd_err err;
	char path[128], bad[160];

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_model.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/m.fdm", tmpdir);
	assert_int_equal(fd_model_save(m, path, &err), FD_OK);
	assert_int_equal(fd_model_save(m, path, &err), FD_OK); /* replaces */
	assert_int_equal(count_entries(tmpdir), 1);             /* no temporary left behind */
	assert_int_equal(fd_model_load(&back, path, &err), FD_OK);
	assert_models_equal(m, back);
	fd_model_free(back);
	snprintf(bad, sizeof(bad), "%s/missing/m.fdm", tmpdir);
	assert_int_equal(fd_model_save(m, bad, &err), FD_EIO);
	assert_non_null(strstr(err.msg, "missing/m.fdm"));
	assert_int_equal(fd_model_load(&back, bad, &err), FD_EIO);
	assert_null(back);
	assert_int_equal(fd_model_load(&back, tmpdir, &err), FD_EIO);
	unlink(path);
	rmdir(tmpdir);
	fd_model_free(m);
}

/* Decode and expect FD_EINPUT with exactly this message. */
static void refused(const void *p, size_t n, const char *msg)
{
	struct fd_model *m = (struct fd_model *)1;
	struct fd_err err;

	assert_int_equal(fd_model_decode(&m, p, n, "x.fdm", &err), FD_EINPUT);
	assert_null(m);
	assert_string_equal(err.msg, msg);
}

static void test_corrupt_refused(void **state)
{
	struct fd_model *m = make_model(8);
	struct fd_buf a = FD_BUF_INIT;
	struct fd_err err;
	char *c;

	(void)state;
	assert_int_equal(fd_model_encode(m, &a, &err), FD_OK);
	c = malloc(a.len + 1);
	/* a byte of the compressed payload */
	memcpy(c, a.s, a.len);
	c[a.len / 2 + 32] ^= 0x40;
	refused(c, a.len, "x.fdm: model file checksum mismatch: corrupt");
	/* a byte of the checksum itself */
	memcpy(c, a.s, a.len);
	c[40] ^= 1;
	refused(c, a.len, "x.fdm: model file checksum mismatch: corrupt");
	/* the flags */
	memcpy(c, a.s, a.len);
	c[12] = 1;
	refused(c, a.len, "x.fdm: corrupt model file: the header's flags do not match the sections");
	c[12] = 8;
	refused(c, a.len, "x.fdm: corrupt model file: unknown flags");
	/* the uncompressed length */
	memcpy(c, a.s, a.len);
	c[16] ^= 1;
	refused(c, a.len, "x.fdm: corrupt model file: bad compressed payload");
	/* a byte too many */
	memcpy(c, a.s, a.len);
	c[a.len] = 0;
	refused(c, a.len + 1, "x.fdm: corrupt model file: data after the end of the model");
	/* version 0 */
	memcpy(c, a.s, a.len);
	c[8] = 0;
	refused(c, a.len, "x.fdm: corrupt model file: format version 0");
	free(c);
	fd_buf_release(&a);
	fd_model_free(m);
}

static void test_truncated_refused(void **state)
{
	struct fd_model *m = make_model(9);
	struct fd_buf a = FD_BUF_INIT;
	struct fd_err err;
	const size_t cuts[] = { 1, 5, 8, 11, 12, 40, 63, 64, 65, 100 };
	size_t i;

	(void)state;
	assert_int_equal(fd_model_encode(m, &a, &err), FD_OK);
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		refused(a.s, cuts[i], "x.fdm: truncated model file");
	refused(a.s, a.len - 1, "x.fdm: truncated model file");
	refused(a.s, 0, "x.fdm: not an fd model file");
	fd_buf_release(&a);
	fd_model_free(m);
}

static void test_foreign_refused(void **state)
{
	const char zip[] = "PK\3\4\24\0\0\0\10\0";
	const char text[] = "txn_id,amount\n1,2\n";
	const char almost[] = "FDMODEX\0\1\0\0\0";

	(void)state;
	refused(zip, sizeof(zip) - 1, "x.fdm: not an fd model file");
	refused(text, sizeof(text) - 1, "x.fdm: not an fd model file");
	refused(almost, sizeof(almost) - 1, "x.fdm: not an fd model file");
	refused("FDX", 3, "x.fdm: not an fd model file");
}

/* Little-endian builders for crafted files. */
static void le32(unsigned char *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void le64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* A file around payload: header with the given version and flags, zstd frame, checksum. */
static size_t wrap(unsigned char *out, size_t cap, const void *payload, size_t n,
		   uint32_t version, uint32_t flags)
{
	size_t c = ZSTD_compress(out + 64, cap - 64, payload, n, 3);

	assert_false(ZSTD_isError(c));
	memcpy(out, "FDMODEL\0", 8);
	le32(out + 8, version);
	le32(out + 12, flags);
	le64(out + 16, n);
	le64(out + 24, c);
	assert_true(sodium_init() >= 0);
	crypto_hash_sha256(out + 32, out + 64, c);
	return 64 + c;
}

static void test_newer_version_refused(void **state)
{
	unsigned char f[256];
	const char payload[] = "FUTR\0\0\0\0\0\0\0\0";
	size_t n = wrap(f, sizeof(f), payload, 12, 3, 0);
	char path[128];
	FILE *fp;
	struct fd_model *m;
	struct fd_err err;

	(void)state;
	refused(f, n, "x.fdm: model format version 3 is newer than this fd supports (2)");
	/* the header alone says it: no need for the rest */
	refused(f, 12, "x.fdm: model format version 3 is newer than this fd supports (2)");
	le32(f + 8, 0xffffffffu);
	refused(f, n, "x.fdm: model format version 4294967295 is newer than this fd supports (2)");
	/* and through a file, as fd-score would meet it */
	le32(f + 8, 3);
	snprintf(path, sizeof(path), "/tmp/test_model_v2.%ld.fdm", (long)getpid());
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(f, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(fd_model_load(&m, path, &err), FD_EINPUT);
	assert_non_null(strstr(err.msg, "model format version 3 is newer than this fd supports (2)"));
	unlink(path);
}

/* A payload writer for hostile contents. */
struct pw {
	unsigned char b[8192];
	size_t n;
};

static void pw_u32(struct pw *w, uint32_t v)
{
	le32(w->b + w->n, v);
	w->n += 4;
}

static void pw_u64(struct pw *w, uint64_t v)
{
	le64(w->b + w->n, v);
	w->n += 8;
}

static void pw_f64(struct pw *w, double v)
{
	uint64_t u;

	memcpy(&u, &v, 8);
	pw_u64(w, u);
}

static void pw_f32(struct pw *w, float v)
{
	uint32_t u;

	memcpy(&u, &v, 4);
	pw_u32(w, u);
}

static void pw_str(struct pw *w, const char *s)
{
	pw_u32(w, (uint32_t)strlen(s));
	memcpy(w->b + w->n, s, strlen(s));
	w->n += strlen(s);
}

static size_t pw_begin(struct pw *w, const char *tag)
{
	memcpy(w->b + w->n, tag, 4);
	w->n += 12;
	return w->n;
}

static void pw_end(struct pw *w, size_t at)
{
	le64(w->b + at - 8, w->n - at);
}

/* The required sections for two features "a", "b"; std of b given. */
static void pw_base(struct pw *w, double std_b)
{
	size_t at;
	int i;

	at = pw_begin(w, "FEAT");
	pw_u32(w, 2);
	pw_str(w, "a");
	pw_str(w, "b");
	pw_end(w, at);
	at = pw_begin(w, "SCAL");
	pw_f64(w, 0);
	pw_f64(w, 0);
	pw_f64(w, 1);
	pw_f64(w, std_b);
	pw_end(w, at);
	at = pw_begin(w, "THRS");
	for (i = 0; i < 6; i++)
		pw_f64(w, NAN);
	pw_end(w, at);
	at = pw_begin(w, "META");
	pw_u64(w, 10);
	pw_str(w, "");
	pw_u64(w, 1);
	pw_u64(w, 0);
	pw_str(w, "t");
	pw_str(w, "");
	pw_end(w, at);
}

/* A linear autoencoder 2→2 (no hidden layer): 4 weights, 2 biases. */
static void pw_aenc(struct pw *w, uint32_t count)
{
	size_t at = pw_begin(w, "AENC");
	uint32_t i;

	pw_u32(w, 2);
	pw_u32(w, 0);
	pw_u32(w, count);
	for (i = 0; i < count; i++)
		pw_f32(w, i == 0 || i == 3 ? 1.0f : 0.0f);
	pw_u32(w, 0);
	pw_end(w, at);
}

static void crafted(const struct pw *w, uint32_t flags, int ok, const char *msg)
{
	unsigned char f[9000];
	size_t n = wrap(f, sizeof(f), w->b, w->n, 1, flags);
	struct fd_model *m;
	struct fd_err err;

	if (ok) {
		assert_int_equal(fd_model_decode(&m, f, n, "x.fdm", &err), FD_OK);
		fd_model_free(m);
		return;
	}
	refused(f, n, msg);
}

static void test_hostile_payloads(void **state)
{
	struct pw w;
	size_t at;

	(void)state;
	/* the crafted base is accepted: the checks below fail for their own reason */
	memset(&w, 0, sizeof(w));
	pw_base(&w, 1.0);
	pw_aenc(&w, 6);
	crafted(&w, 1, 1, NULL);
	/* an unknown section is skipped */
	at = pw_begin(&w, "XTRA");
	pw_u64(&w, 42);
	pw_end(&w, at);
	crafted(&w, 1, 1, NULL);
	/* ... but the flags must match the sections */
	crafted(&w, 3, 0, "x.fdm: corrupt model file: the header's flags do not match the sections");

	w.n = 0;
	crafted(&w, 1, 0, "x.fdm: corrupt model file: no FEAT section");

	w.n = 0;
	pw_base(&w, 1.0);
	crafted(&w, 0, 0, "x.fdm: corrupt model file: the header's flags do not match the sections");

	w.n = 0;
	pw_base(&w, 0.0); /* a std of 0 is stored as 1, never 0 */
	pw_aenc(&w, 6);
	crafted(&w, 1, 0, "x.fdm: corrupt model file: bad scaler value");

	w.n = 0;
	pw_base(&w, 1.0);
	pw_aenc(&w, 5); /* one parameter short */
	crafted(&w, 1, 0, "x.fdm: corrupt model file: bad autoencoder parameter count");

	w.n = 0;
	pw_base(&w, 1.0);
	pw_aenc(&w, 6);
	pw_aenc(&w, 6);
	crafted(&w, 1, 0, "x.fdm: corrupt model file: repeated section");

	/* a section claiming more bytes than there are */
	w.n = 0;
	pw_base(&w, 1.0);
	pw_aenc(&w, 6);
	at = pw_begin(&w, "IFOR");
	le64(w.b + at - 8, 1ULL << 40);
	crafted(&w, 3, 0, "x.fdm: corrupt model file: section longer than the data");

	/* a feature count far beyond the data */
	w.n = 0;
	at = pw_begin(&w, "FEAT");
	pw_u32(&w, 0xffffffffu);
	pw_end(&w, at);
	crafted(&w, 1, 0, "x.fdm: corrupt model file: no SCAL section");
	at = pw_begin(&w, "SCAL");
	pw_end(&w, at);
	at = pw_begin(&w, "THRS");
	pw_end(&w, at);
	at = pw_begin(&w, "META");
	pw_end(&w, at);
	pw_aenc(&w, 6);
	crafted(&w, 1, 0, "x.fdm: corrupt model file: bad feature count");

	/* a string length beyond its section */
	w.n = 0;
	at = pw_begin(&w, "FEAT");
	pw_u32(&w, 1);
	pw_u32(&w, 1000);
	pw_end(&w, at);
	w.n += 0;
	{
		struct pw rest;

		memset(&rest, 0, sizeof(rest));
		pw_base(&rest, 1.0);
		/* skip rest's own FEAT: its first section */
		{
			uint64_t flen;
			size_t k;

			flen = 0;
			for (k = 0; k < 8; k++)
				flen |= (uint64_t)rest.b[4 + k] << (8 * k);
			memcpy(w.b + w.n, rest.b + 12 + flen, rest.n - 12 - flen);
			w.n += rest.n - 12 - flen;
		}
	}
	pw_aenc(&w, 6);
	crafted(&w, 1, 0, "x.fdm: corrupt model file: bad FEAT section");

	/* a forest whose node count exceeds what its tree may hold */
	w.n = 0;
	pw_base(&w, 1.0);
	at = pw_begin(&w, "IFOR");
	pw_u32(&w, 2);
	pw_u32(&w, 4);
	pw_u32(&w, 1);
	pw_u32(&w, 8); /* at most 2·4 − 1 = 7 */
	pw_end(&w, at);
	crafted(&w, 2, 0, "x.fdm: corrupt model file: bad forest node count");

	/* a forest tree that does not parse */
	w.n = 0;
	pw_base(&w, 1.0);
	at = pw_begin(&w, "IFOR");
	pw_u32(&w, 2);
	pw_u32(&w, 4);
	pw_u32(&w, 1);
	pw_u32(&w, 1);
	pw_u32(&w, 0); /* an internal node with no children */
	pw_f32(&w, 0.5f);
	pw_u32(&w, 4);
	pw_end(&w, at);
	crafted(&w, 2, 0, "x.fdm: corrupt model file: bad forest: tree 1 is malformed");

	/* a duplicate feature name */
	w.n = 0;
	pw_base(&w, 1.0);
	memcpy(w.b + 12 + 4 + 4 + 1 + 4, "a", 1);
	pw_aenc(&w, 6);
	crafted(&w, 1, 0, "x.fdm: corrupt model file: feature 'a' appears twice");
}

static void test_deterministic_files(void **state)
{
	struct fd_model *a = make_model(11), *b = make_model(11), *c = make_model(12);
	struct fd_buf fa = FD_BUF_INIT, fb = FD_BUF_INIT, fc = FD_BUF_INIT;
	struct fd_err err;

	(void)state;
	assert_int_equal(fd_model_encode(a, &fa, &err), FD_OK);
	assert_int_equal(fd_model_encode(b, &fb, &err), FD_OK);
	assert_int_equal(fd_model_encode(c, &fc, &err), FD_OK);
	assert_int_equal(fa.len, fb.len);
	assert_memory_equal(fa.s, fb.s, fa.len);
	assert_true(fa.len != fc.len || memcmp(fa.s, fc.s, fa.len) != 0);
	fd_buf_release(&fa);
	fd_buf_release(&fb);
	fd_buf_release(&fc);
	fd_model_free(a);
	fd_model_free(b);
	fd_model_free(c);
}

/* Scaler by hand: column 0 = 1, 2, 3, NaN: mean 2, population std sqrt(2/3) = 0.816496580927726;
 * column 1 constant 5: std 0 → 1; column 2 all NaN: mean 0, std 1. */
static void test_scaler(void **state)
{
	const char *const n3[] = { "a", "b", "c" };
	struct fd_model *m;
	struct fd_err err;
	float X[12] = { 1, 5, NAN, 2, 5, NAN, 3, 5, NAN, NAN, 5, NAN };
	double raw[3] = { 3.0, 7.0, NAN };
	float out[3];

	(void)state;
	assert_int_equal(fd_model_create(&m, n3, 3, &err), FD_OK);
	fd_model_fit_scaler(m, X, 4);
	assert_float_equal(m->mean[0], 2.0, 1e-12);
	assert_float_equal(m->std[0], 0.816496580927726, 1e-12);
	assert_float_equal(m->mean[1], 5.0, 1e-12);
	assert_float_equal(m->std[1], 1.0, 0);
	assert_float_equal(m->mean[2], 0.0, 0);
	assert_float_equal(m->std[2], 1.0, 0);
	fd_model_standardise(m, X, 4);
	assert_float_equal(X[0], -1.224744871391589, 1e-6);  /* (1 − 2)/0.8165 */
	assert_float_equal(X[1], 0.0, 0);
	assert_float_equal(X[2], 0.0, 0);                     /* NaN → 0 */
	assert_float_equal(X[9], 0.0, 0);
	fd_model_standardise_row(m, raw, out);
	assert_float_equal(out[0], 1.224744871391589, 1e-6);
	assert_float_equal(out[1], 2.0, 1e-6);
	assert_float_equal(out[2], 0.0, 0);
	fd_model_free(m);
}

/* Quantiles by hand, numpy's linear rule: sorted 1 2 3 4 5; q = 0.95 → position 3.8 → 4.8. */
static int cmp_f(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

/* The radix sort: a hand-sorted example, then 100000 values of every sign and scale against qsort. */
static void test_sort_floats(void **state)
{
	float v[7] = { 3, -1, 0.5f, -7.25f, 2, 2, -0.0f }, want[7] = { -7.25f, -1, -0.0f, 0.5f, 2, 2, 3 };
	size_t n = 100000, i;
	float *a = malloc(n * sizeof(*a)), *b = malloc(n * sizeof(*b));
	uint32_t s = 99;

	(void)state;
	assert_int_equal(fd_model_sort_floats(v, 7), 0);
	assert_memory_equal(v, want, sizeof(v));
	assert_non_null(a);
	assert_non_null(b);
	for (i = 0; i < n; i++) {
		s = s * 1664525u + 1013904223u;
		/* small integers (one radix digit differs: passes skipped), tiny and huge values */
		a[i] = i % 3 == 0 ? (float)(s >> 28) : ((float)(int32_t)s) * (i % 3 == 1 ? 1e-30f : 1e20f);
		b[i] = a[i];
	}
	assert_int_equal(fd_model_sort_floats(a, n), 0);
	qsort(b, n, sizeof(*b), cmp_f);
	for (i = 0; i < n; i++)
		assert_true(a[i] == b[i]);
	/* all equal, and one value */
	for (i = 0; i < 1000; i++)
		a[i] = 4.5f;
	assert_int_equal(fd_model_sort_floats(a, 1000), 0);
	assert_true(a[0] == 4.5f && a[999] == 4.5f);
	assert_int_equal(fd_model_sort_floats(a, 1), 0);
	free(a);
	free(b);
}

static void test_quantile_and_calibration(void **state)
{
	const float v[] = { 5, 1, 3, 2, 4 };
	struct fd_model *m;
	struct fd_err err;
	float e[101];
	size_t i;

	(void)state;
	assert_float_equal(fd_model_quantile(v, 5, 0.5), 3.0, 1e-12);
	assert_float_equal(fd_model_quantile(v, 5, 0.95), 4.8, 1e-9);
	assert_float_equal(fd_model_quantile(v, 5, 0.0), 1.0, 0);
	assert_float_equal(fd_model_quantile(v, 5, 1.0), 5.0, 0);
	assert_float_equal(fd_model_quantile(v, 1, 0.3), 5.0, 0);
	assert_true(isnan(fd_model_quantile(v, 0, 0.5)));
	assert_int_equal(v[0], 5); /* not sorted in place */

	assert_int_equal(fd_model_create(&m, names, D, &err), FD_OK);
	assert_true(isnan(fd_model_ae_score(m, 1.0)));
	for (i = 0; i < 101; i++)
		e[i] = (float)(100 - i); /* 0 .. 100, reversed */
	assert_int_equal(fd_model_calibrate_ae(m, e, 101, 0.95, 0.99, &err), FD_OK);
	assert_float_equal(m->thr.ae_medium, 95.0, 1e-9);
	assert_float_equal(m->thr.ae_high, 99.0, 1e-9);
	assert_int_equal(m->n_ecdf, 101);
	assert_float_equal(fd_model_ae_score(m, 50.0), 0.5, 1e-9);
	assert_float_equal(fd_model_ae_score(m, 25.5), 0.255, 1e-9);
	assert_float_equal(fd_model_ae_score(m, -1.0), 0.0, 0);
	assert_float_equal(fd_model_ae_score(m, 1000.0), 1.0, 0);
	assert_true(isnan(fd_model_ae_score(m, NAN)));
	/* an alert budget of 0.5%: HIGH at the 99.5th percentile */
	assert_int_equal(fd_model_calibrate_ae(m, e, 101, 0.98, 1 - 0.005, &err), FD_OK);
	assert_float_equal(m->thr.ae_high, 99.5, 1e-9);
	assert_int_equal(fd_model_calibrate_ae(m, e, 0, 0.95, 0.99, &err), FD_EUSAGE);
	assert_int_equal(fd_model_calibrate_ae(m, e, 101, 0.99, 0.95, &err), FD_EUSAGE);
	e[3] = NAN;
	assert_int_equal(fd_model_calibrate_ae(m, e, 101, 0.95, 0.99, &err), FD_EUSAGE);
	fd_model_free(m);
}

static void test_describe(void **state)
{
	struct fd_model *m = make_model(13);
	struct fd_buf o = FD_BUF_INIT;

	(void)state;
	assert_int_equal(fd_model_describe(m, &o), 0);
	assert_non_null(strstr(o.s, "fd model, format version 1\n"));
	assert_non_null(strstr(o.s, "features: 5"));
	assert_non_null(strstr(o.s, "sender_txn_count_10m"));
	assert_non_null(strstr(o.s, "autoencoder: 5-4-2-4-5 "));
	assert_non_null(strstr(o.s, "isolation forest: 20 trees, subsample 64, height limit 6"));
	assert_non_null(strstr(o.s, "forest score       MEDIUM >= 0.6  HIGH >= 0.7\n"));
	assert_non_null(strstr(o.s, "risk score         MEDIUM unset  HIGH >= 80\n"));
	assert_non_null(strstr(o.s, "created        2025-11-24T16:00:00.123Z\n"));
	assert_non_null(strstr(o.s, "tool           fd-train 0.1.0\n"));
	assert_non_null(strstr(o.s, "{\"epochs\":3,\"val_loss\":0.5}"));
	fd_buf_release(&o);
	fd_model_free(m);
}

static void test_create_refuses(void **state)
{
	const char *const dup[] = { "a", "b", "a" };
	const char *const empty[] = { "a", "" };
	const size_t hidden[] = { 2 };
	struct fd_model *m;
	struct fd_nn *nn;
	struct fd_err err;

	(void)state;
	assert_int_equal(fd_model_create(&m, dup, 3, &err), FD_EUSAGE);
	assert_string_equal(err.msg, "feature 'a' appears twice");
	assert_int_equal(fd_model_create(&m, empty, 2, &err), FD_EUSAGE);
	assert_int_equal(fd_model_create(&m, dup, 0, &err), FD_EUSAGE);
	assert_null(m);
	assert_int_equal(fd_model_create(&m, dup, 2, &err), FD_OK);
	assert_int_equal(fd_nn_create(&nn, 3, hidden, 1, 1, &err), FD_OK);
	assert_int_equal(fd_model_set_nn(m, nn, &err), FD_EUSAGE); /* 3 inputs, 2 features */
	assert_null(m->nn);
	fd_nn_free(nn);
	fd_model_free(m);
}

/* Thresholds out of range or out of order are refused on load (and unset ones are fine). */
static void test_bad_thresholds_refused(void **state)
{
	static const struct {
		double v[6];
		const char *msg;
	} bad[] = {
		{{NAN, NAN, NAN, NAN, 50, 101}, "risk threshold outside 0-100"},
		{{NAN, NAN, NAN, NAN, -1, 80}, "risk threshold outside 0-100"},
		{{NAN, NAN, NAN, NAN, 90, 80}, "MEDIUM threshold above the HIGH one"},
		{{NAN, NAN, 0.7, 0.6, NAN, NAN}, "MEDIUM threshold above the HIGH one"},
		{{NAN, NAN, 0.5, 1.5, NAN, NAN}, "isolation-forest threshold outside 0-1"},
		{{2.0, 1.0, NAN, NAN, NAN, NAN}, "MEDIUM threshold above the HIGH one"},
		{{-0.5, 1.0, NAN, NAN, NAN, NAN}, "reconstruction-error threshold below 0"},
	};
	struct fd_model *m = make_model(9), *back;
	struct fd_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fd_buf a = FD_BUF_INIT;

		m->thr.ae_medium = bad[i].v[0];
		m->thr.ae_high = bad[i].v[1];
		m->thr.if_medium = bad[i].v[2];
		m->thr.if_high = bad[i].v[3];
		m->thr.risk_medium = bad[i].v[4];
		m->thr.risk_high = bad[i].v[5];
		assert_int_equal(fd_model_encode(m, &a, &err), FD_OK);
		assert_int_equal(fd_model_decode(&back, a.s, a.len, "t.fdm", &err), FD_EINPUT);
		assert_non_null(strstr(err.msg, bad[i].msg));
		assert_non_null(strstr(err.msg, "t.fdm: corrupt model file"));
		fd_buf_release(&a);
	}
	/* the boundaries and equal pairs are fine */
	m->thr.ae_medium = 0;
	m->thr.ae_high = 0;
	m->thr.if_medium = 0;
	m->thr.if_high = 1;
	m->thr.risk_medium = 100;
	m->thr.risk_high = 100;
	{
		struct fd_buf a = FD_BUF_INIT;

		assert_int_equal(fd_model_encode(m, &a, &err), FD_OK);
		assert_int_equal(fd_model_decode(&back, a.s, a.len, "t.fdm", &err), FD_OK);
		fd_model_free(back);
		fd_buf_release(&a);
	}
	fd_model_free(m);
}

/* Drift histograms: ten rows 1..10 give nine edges at the deciles (1.9, 2.8, ... 9.1) and a
 * share of 0.1 per bin; the PSI of counts by hand (python3): all ten in the first bin
 * 0.9 ln 10 + 9 (1e-4 - 0.1) ln(1e-4 / 0.1) = 8.283089355027482; half in the first and half in
 * the last 6.808228348909805; the training distribution itself 0. */
static void test_hist_psi(void **state)
{
	static const char *const one[] = { "amount" };
	float X[11];
	uint64_t c[FD_MODEL_HIST_BINS] = {0};
	struct fd_model *m;
	struct fd_err err;
	size_t i;

	(void)state;
	for (i = 0; i < 10; i++)
		X[i] = (float)(i + 1);
	assert_int_equal(fd_model_create(&m, one, 1, &err), FD_OK);
	assert_int_equal(fd_model_fit_hist(m, X, 10, &err), FD_OK);
	assert_int_equal(m->hist[0].ne, 9);
	assert_float_equal(m->hist[0].edge[0], 1.9, 1e-6);
	assert_float_equal(m->hist[0].edge[8], 9.1, 1e-6);
	for (i = 0; i < 10; i++)
		assert_float_equal(m->hist[0].share[i], 0.1, 1e-7);
	assert_float_equal(m->hist[0].missing, 0.0, 0.0);
	assert_int_equal(fd_model_hist_bin(&m->hist[0], 1.0), 0);
	assert_int_equal(fd_model_hist_bin(&m->hist[0], 1.9), 1);
	assert_int_equal(fd_model_hist_bin(&m->hist[0], 100.0), 9);
	assert_int_equal(fd_model_hist_bin(&m->hist[0], NAN), -1);
	/* bin b holds edge[b-1] <= x < edge[b]: an edge itself opens the next bin, just below it
	 * is the bin before; the infinities fall in the end bins */
	for (i = 0; i < 9; i++) {
		double e = m->hist[0].edge[i];

		assert_int_equal(fd_model_hist_bin(&m->hist[0], e), (int)i + 1);
		assert_int_equal(fd_model_hist_bin(&m->hist[0], nextafter(e, -INFINITY)), (int)i);
		assert_int_equal(fd_model_hist_bin(&m->hist[0], (1.5 + (double)i) * 0.9 + 1.0), (int)i + 1);
	}
	assert_int_equal(fd_model_hist_bin(&m->hist[0], -INFINITY), 0);
	assert_int_equal(fd_model_hist_bin(&m->hist[0], INFINITY), 9);
	c[0] = 10;
	assert_float_equal(fd_model_psi(&m->hist[0], c, 0), 8.283089355027482, 1e-5);
	c[0] = 5;
	c[9] = 5;
	assert_float_equal(fd_model_psi(&m->hist[0], c, 0), 6.808228348909805, 1e-5);
	for (i = 0; i < 10; i++)
		c[i] = 1;
	assert_float_equal(fd_model_psi(&m->hist[0], c, 0), 0.0, 1e-6);
	memset(c, 0, sizeof(c));
	assert_true(isnan(fd_model_psi(&m->hist[0], c, 0)));
	/* a constant column: no edges, one bin with everything */
	for (i = 0; i < 10; i++)
		X[i] = 3.0f;
	assert_int_equal(fd_model_fit_hist(m, X, 10, &err), FD_OK);
	assert_int_equal(m->hist[0].ne, 0);
	assert_float_equal(m->hist[0].share[0], 1.0, 0.0);
	fd_model_free(m);
}

/* Format 2: boosted trees, stackers and histograms survive the file, byte for byte; a model
 * without them is still written as version 1. */
static void test_v2_round_trip(void **state)
{
	struct fd_model *m = make_model(5), *b = NULL;
	struct fd_buf f1 = FD_BUF_INIT, f2 = FD_BUF_INIT;
	struct fd_gbdt_opts go;
	struct fd_gbdt_result gr;
	struct fd_gbdt *g = NULL;
	struct fd_err err;
	float X[200 * D], y[200], p1[4], p2[4];
	size_t i, j;

	(void)state;
	assert_int_equal(fd_model_encode(m, &f1, &err), FD_OK);
	assert_int_equal((unsigned char)f1.s[8], 1);
	fd_buf_reset(&f1);
	for (i = 0; i < 200; i++) {
		for (j = 0; j < D; j++)
			X[i * D + j] = (float)((i * 7 + j * 13) % 17);
		y[i] = X[i * D] > 10;
	}
	fd_gbdt_opts_init(&go);
	go.max_rounds = 5;
	assert_int_equal(fd_gbdt_train(&g, X, y, 200, NULL, NULL, 0, D, &go, &gr, &err), FD_OK);
	assert_int_equal(fd_model_set_gbdt(m, g, &err), FD_OK);
	assert_int_equal(fd_model_fit_hist(m, X, 200, &err), FD_OK);
	m->rows_per_day = 123.5;
	m->gb_medium = 0.25;
	m->gb_high = 0.75;
	m->stack[0].present = 1;
	m->stack[0].k = 3;
	m->stack[0].w[0] = 0.5;
	m->stack[0].w[1] = -1.25;
	m->stack[0].w[2] = 2;
	m->stack[0].bias = -4;
	m->stack[0].risk_medium = 3.5;
	m->stack[0].risk_high = 40;
	m->stack[0].nq = 3;
	m->stack[0].q = malloc(3 * sizeof(float));
	m->stack[0].q[0] = 0;
	m->stack[0].q[1] = 1;
	m->stack[0].q[2] = 90;
	assert_int_equal(fd_model_encode(m, &f1, &err), FD_OK);
	assert_int_equal((unsigned char)f1.s[8], 2);
	assert_int_equal((unsigned char)f1.s[12], 7);  /* autoencoder, forest, trees */
	assert_int_equal(fd_model_decode(&b, f1.s, f1.len, "x.fdm", &err), FD_OK);
	assert_int_equal(b->version, 2);
	assert_non_null(b->gb);
	assert_int_equal(fd_gbdt_rounds(b->gb), fd_gbdt_rounds(m->gb));
	assert_int_equal(fd_gbdt_predict(m->gb, X, 4, p1, &err), FD_OK);
	assert_int_equal(fd_gbdt_predict(b->gb, X, 4, p2, &err), FD_OK);
	assert_memory_equal(p1, p2, sizeof(p1));
	assert_true(b->stack[0].present && !b->stack[1].present);
	assert_int_equal(b->stack[0].k, 3);
	assert_float_equal(b->stack[0].w[1], -1.25, 0);
	assert_float_equal(b->stack[0].bias, -4, 0);
	assert_float_equal(b->stack[0].risk_high, 40, 0);
	assert_int_equal(b->stack[0].nq, 3);
	assert_float_equal(b->stack[0].q[2], 90, 0);
	assert_float_equal(b->rows_per_day, 123.5, 0);
	assert_float_equal(b->gb_high, 0.75, 0);
	assert_non_null(b->hist);
	assert_memory_equal(&b->hist[3], &m->hist[3], sizeof(b->hist[3]));
	assert_int_equal(fd_model_encode(b, &f2, &err), FD_OK);
	assert_int_equal(f1.len, f2.len);
	assert_memory_equal(f1.s, f2.s, f1.len);
	fd_model_free(b);
	fd_model_free(m);
	fd_buf_release(&f1);
	fd_buf_release(&f2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_roundtrip_forest_only),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_corrupt_refused),
		cmocka_unit_test(test_truncated_refused),
		cmocka_unit_test(test_foreign_refused),
		cmocka_unit_test(test_newer_version_refused),
		cmocka_unit_test(test_hostile_payloads),
		cmocka_unit_test(test_deterministic_files),
		cmocka_unit_test(test_scaler),
		cmocka_unit_test(test_sort_floats),
		cmocka_unit_test(test_quantile_and_calibration),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_hist_psi),
		cmocka_unit_test(test_v2_round_trip),
		cmocka_unit_test(test_create_refuses),
		cmocka_unit_test(test_bad_thresholds_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
