/*
 * fd-train — train a model (lib/fd_train.c does the work: the rows, the split, the layers,
 * calibration) and write its file; evaluate a model on labelled data; describe a model file.
 * See man/fd-train.1.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "datafile.h"
#include "fd_buf.h"
#include "fd_features.h"
#include "fd_gbdt.h"
#include "fd_io.h"
#include "fd_iforest.h"
#include "fd_metrics.h"
#include "fd_model.h"
#include "fd_nn.h"
#include "fd_rules.h"
#include "fd_score.h"
#include "fd_role.h"
#include "fd_store.h"
#include "fd_train.h"
#include "fd_txnsrc.h"
#include "fd_txn.h"
#include "banned.h"

static const char synopsis[] =
	"usage: fd-train [options] [FILE...]\n"
	"       fd-train eval [options] [FILE...]\n"
	"       fd-train --inspect MODEL\n"
	"Train the autoencoder and the isolation forest (on rows not labelled fraud) and the\n"
	"boosted trees (on labelled rows) on transactions or on feature rows from fd-features (CSV\n"
	"or NDJSON, plain or zstd; '-' or none = stdin), stack them on the last 20% in time, and\n"
	"write the model file.  eval: AUC-ROC, average precision, recall at 1% and 5%\n"
	"false-positive rate, precision of the top k and the confusion matrices of each layer on\n"
	"labelled transactions.  --inspect: what a model file holds.\n"
	"\n";

enum {
	OPT_INPUT = FD_OPT_TOOL_BASE, OPT_FEATURES, OPT_LAYERS, OPT_EPOCHS, OPT_PATIENCE, OPT_BATCH,
	OPT_TREES, OPT_SUBSAMPLE, OPT_SEED, OPT_ALERTS, OPT_RULES, OPT_NO_RULES, OPT_SINCE, OPT_UNTIL,
	OPT_MODEL, OPT_TOP, OPT_MAP, OPT_DELIM, OPT_TZ, OPT_CURRENCY, OPT_SORT,
	OPT_LABEL_DELAY, OPT_INSPECT, OPT_AS_OF, OPT_PROMOTE, OPT_NO_GBDT, OPT_GB_ROUNDS, OPT_GB_POS_WEIGHT,
	OPT_GB_ROWS, OPT_GB_EVAL_EVERY, OPT_AE_ROWS, OPT_GB_ETA, OPT_GB_DEPTH, OPT_GB_REFIT, OPT_NO_GB_REFIT,
};

/* The options in the order of the usage (--help and --version come last). */
static const struct fd_cli_opt opts[] = {
	{"output", required_argument, 0,
		"  -o, --output FILE   model file (default models/model-VERSION.fdm)\n"},
	{"input", required_argument, OPT_INPUT,
		"  --input KIND        features or transactions (default: a FILE without a sender_id\n"
		"                      column holds feature rows; stdin holds transactions)\n"},
	{"features", required_argument, OPT_FEATURES,
		"  --features LIST     comma-separated features (default: all of the catalog, or every\n"
		"                      feature column of feature rows)\n"},
	{"layers", required_argument, OPT_LAYERS,
		"  --layers LIST       hidden layers, e.g. 12,6,12 (default 2n/3, n/3, 2n/3 of n features)\n"},
	{"epochs", required_argument, OPT_EPOCHS,
		"  --epochs N          at most N epochs (default 100)\n"},
	{"patience", required_argument, OPT_PATIENCE,
		"  --patience N        stop after N epochs without a better validation loss (default 5)\n"},
	{"batch", required_argument, OPT_BATCH,
		"  --batch N           mini-batch rows (default 64)\n"},
	{"trees", required_argument, OPT_TREES,
		"  --trees N           isolation trees (default 100)\n"},
	{"subsample", required_argument, OPT_SUBSAMPLE,
		"  --subsample N       rows per tree (default 256)\n"},
	{"seed", required_argument, OPT_SEED,
		"  --seed N            random seed (default 1)\n"},
	{"gb-rounds", required_argument, OPT_GB_ROUNDS,
		"  --gb-rounds N       at most N boosting rounds (default 400)\n"},
	{"gb-pos-weight", required_argument, OPT_GB_POS_WEIGHT,
		"  --gb-pos-weight W   weight of a fraud row in boosting (default 1; 0 = legitimate/fraud)\n"},
	{"gb-rows", required_argument, OPT_GB_ROWS,
		"  --gb-rows N         boost on every fraud row and a weighted sample of legitimate ones,\n"
		"                      N rows in all (default 100000; 0 = every labelled row); the same\n"
		"                      for the validation rows that stop the boosting early\n"},
	{"gb-eval-every", required_argument, OPT_GB_EVAL_EVERY,
		"  --gb-eval-every K   measure the validation AP every K rounds (default 2)\n"},
	{"gb-eta", required_argument, OPT_GB_ETA,
		"  --gb-eta E          learning rate of the boosted trees (default 0.1)\n"},
	{"gb-depth", required_argument, OPT_GB_DEPTH,
		"  --gb-depth N        depth of the boosted trees (default 3)\n"},
	{"gb-refit", no_argument, OPT_GB_REFIT,
		"  --gb-refit, --no-gb-refit  after early stopping, grow the trees again on the\n"
		"                      training and validation rows for the rounds kept (default on)\n"},
	{"no-gb-refit", no_argument, OPT_NO_GB_REFIT, NULL},
	{"ae-rows", required_argument, OPT_AE_ROWS,
		"  --ae-rows N         train the autoencoder on a sample of N rows (default 100000;\n"
		"                      0 = every row)\n"},
	{"no-gbdt", no_argument, OPT_NO_GBDT,
		"  --no-gbdt           no boosted trees, even with labels\n"},
	{"as-of", required_argument, OPT_AS_OF,
		"  --as-of T           train as at T: labels later than T minus the label delay unused\n"},
	{"promote", no_argument, OPT_PROMOTE,
		"  --promote           with --store: make the model the store's promoted model\n"},
	{"alerts-per-day", required_argument, OPT_ALERTS,
		"  --alerts-per-day N  thresholds from an alert budget instead of the 95th/99th percentiles\n"},
	{"rules", required_argument, OPT_RULES,
		"  --rules FILE        rules whose points enter the risk calibration (default $FD_RULES,\n"
		"                      else default.rules of the tools' tree)\n"},
	{"no-rules", no_argument, OPT_NO_RULES,
		"  --no-rules          calibrate without rules\n"},
	{"store", required_argument, 0,
		"  --store PATH        register the model in this store's models table\n"},
	{"since", required_argument, OPT_SINCE,
		"  --since T, --until T  train on (eval: evaluate) the store's transactions in [T, T')\n"},
	{"until", required_argument, OPT_UNTIL, NULL},
	{"model", required_argument, OPT_MODEL,
		"  --model FILE        eval: the model (default $FD_MODEL, else models/default.fdm)\n"},
	{"top", required_argument, OPT_TOP,
		"  --top K             eval: precision of the K highest scores (default 100)\n"},
	{"format", required_argument, FD_OPT_FORMAT,
		"  --format FMT        eval: table, csv or ndjson (default table)\n"},
	{"map", required_argument, OPT_MAP,
		"  --map SPEC          column mapping file, or a preset: fd, sparkov\n"},
	{"delimiter", required_argument, OPT_DELIM,
		"  --delimiter C       CSV input field delimiter (default ',')\n"},
	{"tz", required_argument, OPT_TZ,
		"  --tz TZ             zone of timestamps without one (default UTC)\n"},
	{"currency", required_argument, OPT_CURRENCY,
		"  --currency CODE     currency of rows without one (default USD)\n"},
	{"sort", no_argument, OPT_SORT,
		"  --sort              accept input out of time order (read into memory and sorted)\n"},
	{"strict", no_argument, 0,
		"  --strict            stop at the first bad record (exit 3) instead of skipping it\n"},
	{"label-delay", required_argument, OPT_LABEL_DELAY,
		"  --label-delay DAYS  labels reach the features this long after a transaction (default 7)\n"},
	{"actor", required_argument, 0,
		"  --actor NAME        who is acting (default $FD_ACTOR, else the login name)\n"},
	{"metrics", required_argument, 0,
		"  --metrics FILE      write Prometheus textfile metrics there\n"},
	{"quiet", no_argument, 0,
		"  -q, --quiet         no summary on stderr\n"},
	{"progress", no_argument, 0,
		"  --progress, --no-progress   force the per-epoch progress lines on or off\n"},
	{"no-progress", no_argument, 0, NULL},
	{"inspect", required_argument, OPT_INSPECT, NULL},
	{NULL, 0, 0, NULL},
};

#define DAY_MS 86400000LL
#define FMT_TABLE 0

enum { IN_AUTO, IN_FEATURES, IN_TXNS };

struct opts {
	struct fd_train_opts t;    /* what training reads and does */
	int eval, input, no_rules, promote;
	const char *output, *rules, *model, *map_spec, *since_arg, *until_arg, *inspect, *fmt_arg, *as_of_arg;
	size_t top;
};

static struct fd_cli cli;
static const char *argv0;

static int oom(struct fd_err *err)
{
	return fd_err_set(err, FD_EIO, "out of memory");
}

#define MIN_SAMPLE 100   /* the smallest sample --gb-rows and --ae-rows take */

/* A sample size: 0 (every row) or at least MIN_SAMPLE. */
static size_t sample_size(const char *opt, const char *arg)
{
	long long v = fd_cli_int(&cli, opt, arg, 0, 1000000000);

	if (v > 0 && v < MIN_SAMPLE)
		fd_cli_usage_error(&cli, "%s needs 0 (every row) or at least %d rows, not '%s'", opt, MIN_SAMPLE, arg);
	return (size_t)v;
}

struct progress {
	double t_last, t_start;
	unsigned epochs, patience, best_epoch;
	double best;
	size_t n_train;
};

static void add_duration(char *buf, size_t n, double s)
{
	if (s < 90)
		snprintf(buf, n, "%.0fs", s);
	else if (s < 5400)
		snprintf(buf, n, "%.0fm%02.0fs", floor(s / 60), fmod(s, 60));
	else
		snprintf(buf, n, "%.0fh%02.0fm", floor(s / 3600), fmod(s / 60, 60));
}

static int on_epoch(unsigned epoch, double train_loss, double val_loss, double rows_per_s, void *user)
{
	struct progress *p = user;
	double now = fd_now(), per = (now - p->t_start) / epoch;
	char left[32], most[32];
	unsigned rest_stop, rest_max = p->epochs - epoch;

	if (!(val_loss >= p->best) || epoch == 1) {
		p->best = val_loss;
		p->best_epoch = epoch;
	}
	/* if the validation loss stops improving now, training ends patience epochs after the best */
	rest_stop = p->patience ? p->best_epoch + p->patience - epoch : rest_max;
	if (rest_stop > rest_max)
		rest_stop = rest_max;
	add_duration(left, sizeof(left), per * rest_stop);
	add_duration(most, sizeof(most), per * rest_max);
	fd_cli_msg(&cli, "epoch %u/%u: train loss %.5f, validation loss %.5f%s, %.0f rows/s, %.1f s/epoch; "
		   "%s left if it stops improving (at most %s)", epoch, p->epochs, train_loss, val_loss,
		   p->best_epoch == epoch ? " (best)" : "", rows_per_s, now - p->t_last, left, most);
	p->t_last = now;
	return 0;
}

/* SOURCE_DATE_EPOCH (seconds), if set and sane. */
static int source_date_epoch(int64_t *ms)
{
	const char *e = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v;

	if (!e || !*e)
		return 0;
	errno = 0;
	v = strtoll(e, &end, 10);
	if (errno || *end || v < 0 || v > 253402300799LL)
		fd_cli_usage_error(&cli, "SOURCE_DATE_EPOCH must be whole seconds since 1970, not '%s'", e);
	*ms = v * 1000;
	return 1;
}

static int make_dirs_for(const char *path, struct fd_err *err)
{
	char dir[4096], *slash;

	if (strlen(path) >= sizeof(dir))
		return FD_OK;
	memcpy(dir, path, strlen(path) + 1);
	if (!(slash = strrchr(dir, '/')) || slash == dir)
		return FD_OK;
	*slash = '\0';
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return fd_err_set(err, FD_EIO, "cannot create the directory '%s': %s", dir, strerror(errno));
	return FD_OK;
}

/* ---- training ---------------------------------------------------------------------------- */

/* The library's notes: bad records always, facts unless quiet, steps with progress. */
static void on_note(void *user, int kind, const char *msg)
{
	(void)user;
	if (kind == FD_TRAIN_NOTE_BAD || (kind == FD_TRAIN_NOTE_INFO && !cli.quiet) ||
	    (kind == FD_TRAIN_NOTE_PROGRESS && cli.progress))
		fd_cli_msg(&cli, "%s", msg);
}

static void on_read(void *user, int64_t records, uint64_t bytes, int done)
{
	(void)user;
	if (done)
		fd_cli_progress_end(&cli);
	else
		fd_cli_progress(&cli, records, bytes, -1);
}

/* The summary on stderr after the model is written; cpu_write and wall: CPU seconds of the
 * writing, wall seconds of everything. */
static void summary(const struct opts *o, const struct fd_train_result *r, const char *path, const char *version,
		    int registered, double cpu_write, double wall)
{
	const struct fd_model *m = r->model;
	struct fd_buf line = FD_BUF_INIT;
	char arch[FD_NN_MAX_HIDDEN * 8 + 16];
	size_t at = 0, i;
	int rules = o->t.rules != NULL, p;
	double total = cpu_write;

	fd_cli_msg(&cli, "%zu rows of %zu features (%lld labelled fraud, %lld bad records skipped): %zu to train, "
		   "%zu to validate (the last %.0f%% in time); the autoencoder and the forest learn from the %zu "
		   "not labelled fraud", r->rows, r->nf, (long long)r->fraud, (long long)r->bad, r->n_train, r->n_val,
		   100 * FD_TRAIN_VAL_SHARE, r->n_unsup);
	for (i = 0; i < r->nh && at < sizeof(arch); i++)
		at += (size_t)snprintf(arch + at, sizeof(arch) - at, "%zu-", r->hidden[i]);
	fd_cli_msg(&cli, "autoencoder %zu-%s%zu on %zu of %zu rows: %u epochs, %.3g s/epoch, best %u (validation loss %.6g)%s",
		   r->nf, arch, r->nf, r->n_ae, r->n_unsup, r->nn.epochs, r->nn.epochs ? r->ae_seconds / r->nn.epochs : 0.0,
		   r->nn.best_epoch, r->nn.val_loss, r->nn.stopped_early ? ", stopped early" : "");
	if (r->has_gbdt)
		fd_cli_msg(&cli, "boosted trees on %zu rows (%zu fraud, %zu of %zu legitimate): %u rounds kept of %u run "
			   "(validation average precision %.4f on %zu rows), %.1f s", r->gb_n, r->gb_fraud, r->gb_legit,
			   r->gb_legit_all, r->gb.best_rounds, r->gb.rounds, r->gb.best_val_ap, r->gb_val_n, r->gb_seconds);
	if (fd_score_stacker(m, rules)) {
		double med, high;

		fd_score_level_thresholds(m, rules, &med, &high);
		fd_cli_msg(&cli, "stacked risk on %zu labelled validation rows (%zu fraud): MEDIUM >= %.4g, HIGH >= %.4g "
			   "(the %.4g%% and %.4g%% quantiles)%s", r->val_legit + r->val_fraud, r->val_fraud, med, high,
			   100 * r->qm, 100 * r->qh, rules ? " (rule points included; a second stacker for scoring without rules)"
							    : " (without rules)");
	} else
		fd_cli_msg(&cli, "thresholds at the %.4g%% and %.4g%% quantiles of %zu validation rows: risk MEDIUM >= %.0f, HIGH >= %.0f%s",
			   100 * r->qm, 100 * r->qh, r->val_unknown + r->val_legit, m->thr.risk_medium, m->thr.risk_high,
			   rules ? " (rule points included)" : " (without rules)");
	for (p = 0; p < FD_TRAIN_P_N; p++)
		total += r->cpu[p];
	fd_buf_addf(&line, "cpu %.1f s (wall %.1f s):", total, wall);
	for (p = 0; p < FD_TRAIN_P_N; p++)
		fd_buf_addf(&line, "%s %s %.1f", p ? "," : "", fd_train_phase_name(p), r->cpu[p]);
	fd_buf_addf(&line, ", writing %.1f", cpu_write);
	if (!fd_buf_failed(&line))
		fd_cli_msg(&cli, "%s", line.s);
	fd_buf_release(&line);
	fd_cli_msg(&cli, "model %s, version %s%s%s", path, version,
		   !cli.store_opt ? "" : registered ? " (registered in the store)" : " (already registered in the store)",
		   o->promote ? ", promoted" : "");
}

static int train(struct opts *o, char **paths, size_t npaths, struct fd_err *err)
{
	struct fd_store *st = NULL;
	struct fd_colmap *map = NULL;
	struct fd_rules *rules = NULL;
	struct fd_metrics *metrics = NULL;
	struct fd_buf file = FD_BUF_INIT, path = FD_BUF_INIT;
	struct fd_out *out = NULL;
	struct fd_train_result res;
	struct progress prog;
	char *rules_path = NULL, rules_sha[65] = "", sha[65], version[FD_MODEL_VERSION_LEN + 1];
	int rc, kind = o->input, store_input = o->since_arg || o->until_arg, registered = 0;
	int64_t model_id = 0;
	double t0 = fd_now(), c_write;

	memset(&res, 0, sizeof(res));
	if (o->map_spec && (rc = fd_colmap_load(&map, o->map_spec, err)))
		goto out;
	if (kind == IN_AUTO) {
		kind = IN_TXNS;
		if (!store_input && npaths > 0 && strcmp(paths[0], "-") != 0) {
			int feat;

			if ((rc = fd_train_looks_like_features(paths[0], o->t.delimiter, map, &feat, err)))
				goto out;
			if (feat)
				kind = IN_FEATURES;
		}
	}
	if (kind == IN_FEATURES && store_input)
		fd_cli_usage_error(&cli, "--since and --until read transactions from the store, not feature rows");
	if (kind == IN_FEATURES && o->rules)
		fd_cli_usage_error(&cli, "--rules needs transactions: %s holds feature rows", paths[0]);
	/* the rules: their points enter the risk calibration (transactions only) */
	if (kind == IN_TXNS && !o->no_rules) {
		const char *rp = o->rules;

		if (!rp && !(rp = rules_path = fd_datafile_find(argv0, "FD_RULES", "rules/default.rules",
								"rules file", "--rules", err))) {
			char msg[sizeof(err->msg)];

			memcpy(msg, err->msg, sizeof(msg));
			rc = fd_err_set(err, err->code, "%s; or train with --no-rules", msg);
			goto out;
		}
		if ((rc = fd_rules_load(&rules, rp, err)) || (rc = fd_sha256_file(rp, rules_sha, NULL, err)))
			goto out;
	}
	if (store_input || cli.store_opt) {
		struct fd_who who = {cli.actor, "fd-train", FD_VERSION};
		int flags = cli.store_opt ? FD_STORE_CREATE : FD_STORE_READONLY;

		if (store_input && cli.store_opt)
			flags = 0;
		if ((rc = fd_store_open(&st, cli.store, flags, &who, err)) ||
		    (cli.store_opt && (rc = fd_role_authorize(st, FD_ACT_TRAIN, "new model", err))))
			goto out;
	}
	o->t.input = kind == IN_TXNS ? FD_TRAIN_TXNS : FD_TRAIN_FEATURES;
	o->t.paths = (const char *const *)paths;
	o->t.npaths = npaths;
	o->t.store = st;
	o->t.store_input = store_input;
	o->t.map = map;
	o->t.rules = rules;
	o->t.rules_sha256 = rules_sha;
	o->t.has_created = source_date_epoch(&o->t.created_ms);
	o->t.note = on_note;
	o->t.progress = on_read;
	memset(&prog, 0, sizeof(prog));
	prog.t_start = prog.t_last = fd_now();
	prog.epochs = o->t.epochs;
	prog.patience = o->t.patience;
	if (cli.progress) {
		o->t.epoch = on_epoch;
		o->t.user = &prog;
	}
	if ((rc = fd_train_run(&o->t, &res, err)))
		goto out;
	c_write = fd_train_cpu_seconds();
	if ((rc = fd_model_encode(res.model, &file, err)))
		goto out;
	fd_sha256_hex(file.s, file.len, sha);
	fd_score_model_version(sha, version);
	if (o->output)
		fd_buf_adds(&path, o->output);
	else
		fd_buf_addf(&path, "models/model-%s.fdm", version);
	if (fd_buf_failed(&path)) {
		rc = oom(err);
		goto out;
	}
	if (!o->output && (rc = make_dirs_for(path.s, err)))
		goto out;
	if ((rc = fd_out_open(&out, path.s, NULL, err)))
		goto out;
	fd_out_write_buf(out, &file);
	rc = fd_out_commit(out, err);
	out = NULL;
	if (rc)
		goto out;
	if (cli.store_opt) {
		/* a promoted model is found by path from anywhere: register it absolute */
		char *abs = o->promote && strcmp(path.s, "-") != 0 ? realpath(path.s, NULL) : NULL;

		rc = fd_score_register_model(st, res.model, abs ? abs : path.s, sha, fd_wall_ms(), &model_id, &registered,
					     err);
		free(abs);
		if (rc)
			goto out;
		if (o->promote && (rc = fd_score_promote_model(st, model_id, err)))
			goto out;
	}
	if (strcmp(path.s, "-") != 0)
		printf("%s\n", path.s);
	if (!cli.quiet)
		summary(o, &res, path.s, version, registered, fd_train_cpu_seconds() - c_write, fd_now() - t0);
	if (cli.metrics) {
		double dur = fd_now() - t0;

		if (!(metrics = fd_metrics_create("fd-train"))) {
			rc = oom(err);
			goto out;
		}
		fd_metrics_add(metrics, "fd_train_rows_total", "counter", "Rows trained on.", NULL, (double)res.n_unsup);
		fd_metrics_add(metrics, "fd_train_fraud_left_out_total", "counter", "Labelled fraud left out.", NULL,
			       (double)(res.train_fraud + res.val_fraud));
		fd_metrics_add(metrics, "fd_train_epochs", "gauge", "Epochs run.", NULL, res.nn.epochs);
		fd_metrics_add(metrics, "fd_train_epoch_seconds", "gauge", "Seconds per epoch.", NULL,
			       res.nn.epochs ? res.ae_seconds / res.nn.epochs : 0.0);
		fd_metrics_add(metrics, "fd_train_validation_loss", "gauge", "Validation loss of the kept weights.", NULL,
			       res.nn.val_loss);
		if ((rc = fd_metrics_write(metrics, cli.metrics, 1, dur, err)))
			goto out;
	}
out:
	fd_out_abort(out);
	fd_metrics_free(metrics);
	fd_train_result_release(&res);
	fd_rules_free(rules);
	fd_colmap_free(map);
	fd_store_close(st);
	free(rules_path);
	fd_buf_release(&file);
	fd_buf_release(&path);
	return rc;
}

/* ---- eval ------------------------------------------------------------------------------ */

struct eval_ctx {
	struct fd_score_eval *ev;
};

static int eval_emit(void *user, const struct fd_score_row *row, struct fd_err *err)
{
	struct eval_ctx *c = user;

	if (fd_score_eval_add(c->ev, row))
		return oom(err);
	return FD_OK;
}

static int evaluate(const struct opts *o, char **paths, size_t npaths, struct fd_err *err)
{
	struct fd_model *m = NULL;
	struct fd_rules *rules = NULL;
	struct fd_store *st = NULL;
	struct fd_colmap *map = NULL;
	struct fd_txnsrc *src = NULL;
	struct fd_scorer *sc = NULL;
	struct fd_out *out = NULL;
	struct fd_feat_opts fo = {0};
	struct fd_scorer_opts so;
	struct fd_train_opts to;
	struct eval_ctx ctx = {NULL};
	char *model_path = NULL, *rules_path = NULL;
	const char *mp = o->model, *rp = o->rules;
	int64_t txns = 0, bad = 0, warm = 0;
	size_t frauds, rows;
	int rc, fmt = FMT_TABLE;

	if (o->fmt_arg && strcmp(o->fmt_arg, "table") != 0 && (fmt = fd_format_parse(o->fmt_arg)) < 0)
		fd_cli_usage_error(&cli, "--format must be table, csv or ndjson, not '%s'", o->fmt_arg);
	if (!mp && !(mp = model_path = fd_datafile_find(argv0, "FD_MODEL", "models/default.fdm", "model",
							"--model", err))) {
		rc = err->code;
		goto out;
	}
	if ((rc = fd_model_load(&m, mp, err)))
		goto out;
	if (!o->no_rules) {
		if (!rp && !(rp = rules_path = fd_datafile_find(argv0, "FD_RULES", "rules/default.rules",
								"rules file", "--rules", err))) {
			rc = err->code;
			goto out;
		}
		if ((rc = fd_rules_load(&rules, rp, err)))
			goto out;
	}
	fo.label_delay_ms = llround(o->t.label_delay * (double)DAY_MS);
	/* local_hour on the export's clock (the store's records are UTC) */
	fo.zone_fixed = o->t.tz != NULL && !o->since_arg && !o->until_arg;
	fo.zone_offset_min = o->t.tz_offset_min;
	fo.zone_name = o->t.tz;
	memset(&so, 0, sizeof(so));
	so.no_reasons = 1;
	so.feat = &fo;
	so.emit = eval_emit;
	so.user = &ctx;
	if (!(ctx.ev = fd_score_eval_create(m, rules != NULL))) {
		rc = oom(err);
		goto out;
	}
	if ((rc = fd_scorer_create(&sc, m, rules, &so, err))) {
		fd_err_prefix(err, "%s", mp);
		goto out;
	}
	if (o->map_spec && (rc = fd_colmap_load(&map, o->map_spec, err)))
		goto out;
	if (o->since_arg || o->until_arg) {
		struct fd_who who = {cli.actor, "fd-train", FD_VERSION};

		if ((rc = fd_store_open(&st, cli.store, FD_STORE_READONLY, &who, err)))
			goto out;
	}
	to = o->t;
	to.paths = (const char *const *)paths;
	to.npaths = npaths;
	to.store = st;
	to.store_input = st != NULL;
	to.map = map;
	to.note = on_note;
	to.user = NULL;
	if ((rc = fd_train_source_open(&src, &to, err)))
		goto out;
	for (;;) {
		struct fd_txn t;
		struct fd_txn_bad b;
		int w, r = fd_txnsrc_next(src, &t, &w, &b, err);

		if (r == 0)
			break;
		if (r < 0) {
			rc = -r;
			goto out;
		}
		if (r == 2) {
			bad++;
			if ((rc = fd_train_bad_record(&to, fd_txnsrc_where(src), &b, err)))
				goto out;
			continue;
		}
		if (w) {
			warm++;
			if ((rc = fd_scorer_warm(sc, &t, err)))
				goto where;
			continue;
		}
		if ((rc = fd_scorer_push(sc, &t, err)))
			goto where;
		if ((++txns & 65535) == 0)
			fd_cli_progress(&cli, fd_txnsrc_count(src), fd_txnsrc_bytes(src), -1);
	}
	fd_cli_progress_end(&cli);
	if ((rc = fd_scorer_flush(sc, err)))
		goto out;
	rows = fd_score_eval_count(ctx.ev, &frauds);
	if (rows == 0) {
		rc = fd_err_set(err, FD_EINPUT,
				"no labelled transactions: an evaluation needs the label (1 fraud, 0 legitimate) of some of the %lld read",
				(long long)txns);
		goto out;
	}
	if ((rc = fd_out_open(&out, NULL, NULL, err)) ||
	    (rc = fd_score_eval_write(ctx.ev, out, fmt, o->top, err)))
		goto out;
	rc = fd_out_commit(out, err);
	out = NULL;
	if (rc)
		goto out;
	if (!cli.quiet)
		fd_cli_msg(&cli, "%lld transactions (%zu labelled, %zu fraud), %lld bad records skipped; model %s%s%s",
			   (long long)txns, rows, frauds, (long long)bad, mp, rules ? ", rules " : ", no rules",
			   rules ? rp : "");
	goto out;
where:
	fd_err_prefix(err, "%s", fd_txnsrc_where(src));
out:
	fd_out_abort(out);
	fd_txnsrc_free(src);
	fd_scorer_free(sc);
	fd_score_eval_free(ctx.ev);
	fd_colmap_free(map);
	fd_store_close(st);
	fd_rules_free(rules);
	fd_model_free(m);
	free(model_path);
	free(rules_path);
	return rc;
}

/* ---- inspect ----------------------------------------------------------------------------- */

static int inspect(const char *path, struct fd_err *err)
{
	struct fd_model *m = NULL;
	struct fd_buf b = FD_BUF_INIT;
	char sha[65], version[FD_MODEL_VERSION_LEN + 1];
	int rc;

	if ((rc = fd_model_load(&m, path, err)))
		return rc;
	if ((rc = fd_sha256_file(path, sha, NULL, err))) {
		fd_model_free(m);
		return rc;
	}
	fd_score_model_version(sha, version);
	if (fd_buf_addf(&b, "file: %s\nversion: %s (sha256 %s)\n", path, version, sha) ||
	    fd_model_describe(m, &b)) {
		fd_model_free(m);
		fd_buf_release(&b);
		return oom(err);
	}
	fputs(b.s, stdout);
	fd_buf_release(&b);
	fd_model_free(m);
	return fd_cli_close_stdout(&cli);
}

/* ---- main ------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	struct opts o;
	struct fd_err err = {0};
	const char *why;
	int c, rc, i;

	memset(&o, 0, sizeof(o));
	fd_train_opts_init(&o.t);
	o.top = 100;
	fd_cli_setup(&cli, "fd-train", synopsis,
		     FD_CLI_G_STORE | FD_CLI_G_ACTOR | FD_CLI_G_OUTPUT | FD_CLI_G_STRICT | FD_CLI_G_METRICS | FD_CLI_G_PROGRESS, opts);
	argv0 = argv[0];
	if (argc > 1 && strcmp(argv[1], "eval") == 0) {
		o.eval = 1;
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	while ((c = fd_cli_getopt(&cli, argc, argv)) != -1) {
		switch (c) {
		case OPT_INPUT:
			if (strcmp(optarg, "features") == 0)
				o.input = IN_FEATURES;
			else if (strcmp(optarg, "transactions") == 0)
				o.input = IN_TXNS;
			else
				fd_cli_usage_error(&cli, "--input must be features or transactions, not '%s'", optarg);
			break;
		case OPT_FEATURES: o.t.features = optarg; break;
		case OPT_LAYERS: o.t.layers = optarg; break;
		case OPT_EPOCHS: o.t.epochs = (unsigned)fd_cli_int(&cli, "--epochs", optarg, 1, 100000); break;
		case OPT_PATIENCE: o.t.patience = (unsigned)fd_cli_int(&cli, "--patience", optarg, 0, 100000); break;
		case OPT_BATCH: o.t.batch = (size_t)fd_cli_int(&cli, "--batch", optarg, 2, 1000000); break;
		case OPT_TREES: o.t.trees = (unsigned)fd_cli_int(&cli, "--trees", optarg, 1, FD_IFOREST_MAX_TREES); break;
		case OPT_SUBSAMPLE:
			o.t.subsample = (size_t)fd_cli_int(&cli, "--subsample", optarg, 2, FD_IFOREST_MAX_PSI);
			break;
		case OPT_SEED: o.t.seed = (uint64_t)fd_cli_int(&cli, "--seed", optarg, 0, INT64_MAX); break;
		case OPT_ALERTS: o.t.alerts_per_day = fd_cli_double(&cli, "--alerts-per-day", optarg, 1e-9, 1e12); break;
		case OPT_RULES: o.rules = optarg; break;
		case OPT_NO_RULES: o.no_rules = 1; break;
		case OPT_SINCE: o.since_arg = optarg; break;
		case OPT_UNTIL: o.until_arg = optarg; break;
		case OPT_MODEL: o.model = optarg; break;
		case OPT_TOP: o.top = (size_t)fd_cli_int(&cli, "--top", optarg, 1, 1000000000); break;
		case OPT_MAP: o.map_spec = optarg; break;
		case OPT_DELIM: o.t.delimiter = fd_cli_delimiter(&cli, optarg); break;
		case OPT_TZ: o.t.tz = optarg; break;
		case OPT_CURRENCY: o.t.currency = optarg; break;
		case OPT_SORT: o.t.sort = 1; break;
		case OPT_LABEL_DELAY: o.t.label_delay = fd_cli_double(&cli, "--label-delay", optarg, 0, 3650); break;
		case OPT_INSPECT: o.inspect = optarg; break;
		case OPT_AS_OF: o.as_of_arg = optarg; break;
		case OPT_PROMOTE: o.promote = 1; break;
		case OPT_NO_GBDT: o.t.no_gbdt = 1; break;
		case OPT_GB_ROUNDS: o.t.gb_rounds = (unsigned)fd_cli_int(&cli, "--gb-rounds", optarg, 1, FD_GBDT_MAX_ROUNDS); break;
		case OPT_GB_POS_WEIGHT: o.t.gb_pos_weight = fd_cli_double(&cli, "--gb-pos-weight", optarg, 0, 1e6); break;
		case OPT_GB_ROWS: o.t.gb_rows = sample_size("--gb-rows", optarg); break;
		case OPT_GB_EVAL_EVERY:
			o.t.gb_eval_every = (unsigned)fd_cli_int(&cli, "--gb-eval-every", optarg, 1, 1000);
			break;
		case OPT_GB_ETA: o.t.gb_eta = fd_cli_double(&cli, "--gb-eta", optarg, 1e-4, 1); break;
		case OPT_GB_DEPTH: o.t.gb_depth = (unsigned)fd_cli_int(&cli, "--gb-depth", optarg, 1, 20); break;
		case OPT_GB_REFIT: o.t.gb_refit = 1; break;
		case OPT_NO_GB_REFIT: o.t.gb_refit = 0; break;
		case OPT_AE_ROWS: o.t.ae_rows = sample_size("--ae-rows", optarg); break;
		case FD_OPT_FORMAT: o.fmt_arg = optarg; break;
		}
	}
	o.output = cli.output;
	o.t.strict = cli.strict;
	fd_cli_finish(&cli);
	fd_cli_inputs(&cli, argc - optind, argv + optind);
	fd_cli_inputs(&cli, 3, (char *const[]){(char *)o.rules, (char *)o.model, (char *)o.map_spec});

	/* what the options mean together */
	if (o.inspect) {
		if (o.eval || optind < argc)
			fd_cli_usage_error(&cli, "--inspect takes one model file and nothing else");
		if ((rc = inspect(o.inspect, &err)))
			return fd_cli_report(&cli, &err);
		return 0;
	}
	if (o.t.tz && (why = fd_parse_tz(o.t.tz, &o.t.tz_offset_min)))
		fd_cli_usage_error(&cli, "--tz '%s': %s", o.t.tz, why);
	if (o.t.currency && (strlen(o.t.currency) != 3 || fd_currency_exponent(o.t.currency) < 0))
		fd_cli_usage_error(&cli, "--currency '%s' is not an ISO 4217 code (upper case, e.g. EUR)", o.t.currency);
	if (o.since_arg)
		o.t.since = fd_cli_time(&cli, "--since", o.since_arg, o.t.tz_offset_min);
	if (o.until_arg)
		o.t.until = fd_cli_time(&cli, "--until", o.until_arg, o.t.tz_offset_min);
	if (o.since_arg && o.until_arg && o.t.until <= o.t.since)
		fd_cli_usage_error(&cli, "--until must be later than --since");
	if (o.as_of_arg) {
		o.t.as_of = fd_cli_time(&cli, "--as-of", o.as_of_arg, o.t.tz_offset_min);
		o.t.has_as_of = 1;
	}
	if (o.promote && !cli.store_opt)
		fd_cli_usage_error(&cli, "--promote marks the model in a store's models table: give --store");
	if ((o.since_arg || o.until_arg) && optind < argc)
		fd_cli_usage_error(&cli, "--since and --until read the store's transactions: give no FILE");
	if ((o.since_arg || o.until_arg) && o.t.sort)
		fd_cli_usage_error(&cli, "--sort is for FILEs: the store is read in time order");
	if (o.rules && o.no_rules)
		fd_cli_usage_error(&cli, "--rules and --no-rules contradict each other");
	for (i = optind; i < argc; i++)
		if (strcmp(argv[i], "-") == 0) {
			int j;

			for (j = i + 1; j < argc; j++)
				if (strcmp(argv[j], "-") == 0)
					fd_cli_usage_error(&cli, "standard input ('-') given twice");
		}
	if (o.eval) {
		if (o.output || o.t.layers || o.input || o.t.alerts_per_day > 0 || o.as_of_arg || o.promote || o.t.no_gbdt)
			fd_cli_usage_error(&cli, "eval takes no training options (--output, --layers, --input, --alerts-per-day, "
					   "--as-of, --promote, --no-gbdt)");
		if (cli.store_opt && !(o.since_arg || o.until_arg))
			fd_cli_usage_error(&cli, "eval records nothing: --store reads the store only with --since or --until");
		rc = evaluate(&o, argv + optind, (size_t)(argc - optind), &err);
	} else {
		if (o.model || o.fmt_arg)
			fd_cli_usage_error(&cli, "--model and --format belong to fd-train eval");
		if (o.input == IN_FEATURES && o.rules)
			fd_cli_usage_error(&cli, "--rules needs transactions: feature rows cannot be checked against rules");
		/* an output that may not be written is refused before the work, not after it */
		if (!(o.output && (rc = fd_out_check(o.output, &err))))
			rc = train(&o, argv + optind, (size_t)(argc - optind), &err);
	}
	if (rc)
		return fd_cli_report(&cli, &err);
	return fd_cli_close_stdout(&cli);
}
