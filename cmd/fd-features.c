/*
 * fd-features — point-in-time behavioural features of transactions.  See man/fd-features.1.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fd_features.h"
#include "fd_io.h"
#include "fd_metrics.h"
#include "fd_reader.h"
#include "fd_store.h"
#include "fd_txnsrc.h"
#include "fd_writer.h"
#include "banned.h"

static const char synopsis[] =
	"usage: fd-features [options] [FILE...]\n"
	"Compute point-in-time features of transactions read in time order from FILEs (CSV or\n"
	"NDJSON, plain or zstd; '-' or none = stdin) or from the store.\n"
	"\n";

enum { OPT_FEATURES = FD_OPT_TOOL_BASE, OPT_LIST, OPT_SORT, OPT_LABEL_DELAY, OPT_SINCE, OPT_UNTIL, OPT_SHARD };

static const struct fd_cli_opt opts[] = {
	{"features", required_argument, OPT_FEATURES,
	 "  --features LIST     comma-separated feature names (default: all; see --list)\n"},
	{"list", no_argument, OPT_LIST, "  --list              print the catalog: name, group, definition\n"},
	{"sort", no_argument, OPT_SORT,
	 "  --sort              sort the input by time in memory (else out-of-order input is an error)\n"},
	{"label-delay", required_argument, OPT_LABEL_DELAY,
	 "  --label-delay DAYS  labels become known this long after a transaction (default 7)\n"},
	{"store", 0, 0, "  --store PATH        read from this store instead of files (default $FD_STORE, else ./fd.db)\n"},
	{"since", required_argument, OPT_SINCE,
	 "  --since T, --until T  store period [T, T'): RFC 3339 or epoch; history before --since\n"
	 "                      warms the state\n"},
	{"until", required_argument, OPT_UNTIL, NULL},
	{"shard", required_argument, OPT_SHARD,
	 "  --shard I/N         only the senders of shard I of N (I from 0; see SHARDING)\n"},
	{NULL, 0, 0, NULL},
};

/* The catalog (or the selection), one feature a line: name, group, definition, tab-separated. */
static int list_catalog(struct fd_cli *cli, const char *features)
{
	const struct fd_feat_def *defs;
	struct fd_features *f = NULL;
	struct fd_err err = {0};
	size_t i, n;
	int rc;

	fd_feat_catalog(&defs);
	if ((rc = fd_features_create(&f, NULL, &err)) || (rc = fd_features_select(f, features, &err))) {
		fd_features_free(f);
		return fd_cli_report(cli, &err);
	}
	n = fd_features_count(f);
	for (i = 0; i < n; i++) {
		const struct fd_feat_def *d = &defs[fd_features_catalog_index(f, i)];

		printf("%s\t%s\t%s\n", d->name, d->group, d->definition);
	}
	fd_features_free(f);
	return fd_cli_close_stdout(cli);
}

/* The output's columns: txn_id, ts, label, then the selected features (names[] borrows the
 * catalog's). */
static const char **column_names(const struct fd_features *feat, size_t nf)
{
	const struct fd_feat_def *defs;
	const char **names = calloc(nf + 3, sizeof(*names));
	size_t i;

	if (!names)
		return NULL;
	fd_feat_catalog(&defs);
	names[0] = "txn_id";
	names[1] = "ts";
	names[2] = "label";
	for (i = 0; i < nf; i++)
		names[i + 3] = defs[fd_features_catalog_index(feat, i)].name;
	return names;
}

/* The transactions: from the store (--store, --since, --until; all history before --since
 * warms the state) or from the FILEs. */
static int open_source(struct fd_cli *cli, struct fd_txnsrc_opts *so, int store_mode, int64_t since, int64_t until,
		       int sort, int argc, char **argv, struct fd_store **st, struct fd_cli_txns **src,
		       struct fd_err *err)
{
	int rc;

	if (store_mode) {
		struct fd_who who = {cli->actor, "fd-features", FD_VERSION};

		if ((rc = fd_store_open(st, cli->store, FD_STORE_READONLY, &who, err)))
			return rc;
		so->store = *st;
		so->since = since;
		so->until = until;
		/* all the history: novelty, sender age and dormancy look back without limit, so
		 * only a full replay makes --since's first day equal that of one run over all */
		so->warm_ms = -1;
	} else {
		so->paths = (const char *const *)argv + optind;
		so->npaths = (size_t)(argc - optind);
		so->sort = sort;
		so->stream.no_metadata = 1;  /* features read canonical fields only */
	}
	return fd_cli_txns_open(src, cli, so, 0, err);
}

/* The writer, in --format or else the input's format. */
static struct fd_writer *make_writer(const struct fd_cli *cli, struct fd_out *out, const struct fd_cli_txns *src,
				     const char **names, size_t n)
{
	struct fd_writer *w = fd_writer_create(out, cli->format != FD_FMT_AUTO ? cli->format : fd_cli_txns_format(src),
					       names, n);

	fd_writer_excel_safe(w, cli->excel_safe);
	return w;
}

static void write_row(struct fd_writer *w, const struct fd_txn *t, const double *vals, size_t nf)
{
	fd_writer_begin(w);
	fd_writer_cstr(w, t->txn_id);
	fd_writer_ts(w, t->ts);
	if (t->label >= 0)
		fd_writer_i64(w, t->label);
	else
		fd_writer_null(w);
	fd_writer_f64_sig_n(w, vals, nf, 9);
	fd_writer_end(w);
}

static int write_metrics(const struct fd_cli *cli, struct fd_metrics *m, const struct fd_features *feat, double dur,
			 int64_t rows, int64_t bad, int64_t warmed, struct fd_err *err)
{
	static const char help[] = "Transactions read, by result.";

	fd_metrics_add(m, "fd_features_records_total", "counter", help, "result=\"computed\"", (double)rows);
	fd_metrics_add(m, "fd_features_records_total", "counter", help, "result=\"skipped\"", (double)bad);
	fd_metrics_add(m, "fd_features_records_total", "counter", help, "result=\"warm\"", (double)warmed);
	fd_metrics_add(m, "fd_features_records_per_second", "gauge", "Transactions per second.",
		       NULL, dur > 0 ? (double)rows / dur : 0);
	fd_metrics_add(m, "fd_features_state_bytes", "gauge", "Memory held by feature state.",
		       NULL, (double)fd_features_bytes(feat));
	return fd_metrics_write(m, cli->metrics, 1, dur, err);
}

int main(int argc, char **argv)
{
	struct fd_cli cli;
	struct fd_err err = {0};
	struct fd_feat_opts fo;
	struct fd_features *feat = NULL;
	struct fd_txnsrc_opts so;
	struct fd_cli_txns *src = NULL;
	struct fd_store *st = NULL;
	struct fd_out *out = NULL;
	struct fd_writer *w = NULL;
	struct fd_metrics *metrics = NULL;
	const char *features = NULL, *since_arg = NULL, *until_arg = NULL;
	const char **names = NULL;
	double *vals = NULL;
	int c, sort = 0, rc = 0, list = 0, store_mode;
	int64_t since = INT64_MIN, until = INT64_MAX, rows = 0, bad = 0, warmed = 0;
	size_t nf;
	double t0;
	unsigned shard_i = 0, shard_n = 1;
	const char *why;

	memset(&so, 0, sizeof(so));
	memset(&fo, 0, sizeof(fo));
	fo.label_delay_ms = 7 * FD_DAY_MS;
	fd_cli_setup(&cli, "fd-features", synopsis,
		     FD_CLI_G_STORE | FD_CLI_G_INPUT | FD_CLI_G_STRICT | FD_CLI_G_FORMAT | FD_CLI_G_OUTPUT |
		     FD_CLI_G_EXCEL | FD_CLI_G_METRICS | FD_CLI_G_PROGRESS, opts);
	while ((c = fd_cli_getopt(&cli, argc, argv)) != -1) {
		switch (c) {
		case OPT_FEATURES: features = optarg; break;
		case OPT_LIST: list = 1; break;
		case OPT_SORT: sort = 1; break;
		case OPT_LABEL_DELAY:
			fo.label_delay_ms = (int64_t)(fd_cli_double(&cli, "--label-delay", optarg, 0, 3650) * (double)FD_DAY_MS);
			break;
		case OPT_SINCE: since_arg = optarg; break;
		case OPT_UNTIL: until_arg = optarg; break;
		case OPT_SHARD:
			if ((why = fd_parse_shard(optarg, &shard_i, &shard_n)))
				fd_cli_usage_error(&cli, "--shard '%s': %s", optarg, why);
			break;
		}
	}
	fd_cli_finish(&cli);
	fd_cli_inputs(&cli, argc - optind, argv + optind);
	if (list)
		return list_catalog(&cli, features);
	t0 = fd_now();
	if ((rc = fd_cli_input_open(&cli, &so.stream, &err)))
		goto fail;
	/* read in the zone of --tz, like the records */
	if (since_arg)
		since = fd_cli_time(&cli, "--since", since_arg, so.stream.tz_offset_min);
	if (until_arg)
		until = fd_cli_time(&cli, "--until", until_arg, so.stream.tz_offset_min);
	if (since != INT64_MIN && until != INT64_MAX && until <= since)
		fd_cli_usage_error(&cli, "--until must be later than --since");
	store_mode = optind == argc && (cli.store_opt || since != INT64_MIN || until != INT64_MAX);
	if (!store_mode)  /* local_hour on the export's clock (the store's records are UTC) */
		fd_cli_feat_zone(&cli, so.stream.tz_offset_min, &fo);
	if (!store_mode && (since != INT64_MIN || until != INT64_MAX))
		fd_cli_usage_error(&cli, "--since and --until select from the store; they do not apply to FILEs");
	if (store_mode && sort)
		fd_cli_usage_error(&cli, "--sort applies to FILEs; the store is read in time order");

	if ((rc = fd_features_create(&feat, &fo, &err)) || (rc = fd_features_select(feat, features, &err)))
		goto fail;
	if ((rc = open_source(&cli, &so, store_mode, since, until, sort, argc, argv, &st, &src, &err)))
		goto fail;
	if (cli.metrics && !(metrics = fd_metrics_create("fd-features"))) {
		rc = fd_err_set(&err, FD_EIO, "out of memory");
		goto fail;
	}
	nf = fd_features_count(feat);
	names = column_names(feat, nf);
	vals = calloc(nf ? nf : 1, sizeof(*vals));
	if (!names || !vals) {
		rc = fd_err_set(&err, FD_EIO, "out of memory");
		goto fail;
	}
	if ((rc = fd_cli_output_open(&cli, &out, &err)))
		goto fail;

	for (;;) {
		struct fd_txn t;
		int warm = 0, r = fd_cli_txns_next(src, &t, &warm, &err);

		if (r == 0)
			break;
		if (r < 0) {
			rc = -r;
			goto fail;
		}
		if (shard_n > 1 && fd_shard_of(t.sender_id, shard_n) != shard_i)
			continue;  /* another shard's sender */
		if (!w && !(w = make_writer(&cli, out, src, names, nf + 3))) {
			rc = fd_err_set(&err, FD_EIO, "out of memory");
			goto fail;
		}
		if (warm) {
			if ((rc = fd_features_warm(feat, &t, &err)))
				goto fail_where;
			warmed++;
			continue;
		}
		if ((rc = fd_features_push(feat, &t, vals, NULL, &err)))
			goto fail_where;
		write_row(w, &t, vals, nf);
		rows++;
	}
	bad = fd_cli_txns_bad(src);
	if (!w && !(w = make_writer(&cli, out, src, names, nf + 3))) {  /* no record: still a header */
		rc = fd_err_set(&err, FD_EIO, "out of memory");
		goto fail;
	}
	fd_writer_free(w);
	w = NULL;
	fd_cli_progress_end(&cli);
	rc = fd_out_commit(out, &err);
	out = NULL;
	if (rc)
		goto fail;
	fd_cli_txns_free(src);  /* says how many bad records were not shown */
	src = NULL;
	if (!cli.quiet)
		fd_cli_msg(&cli, "%lld transactions, %zu features each%s%lld skipped%s", (long long)rows, nf,
			   bad ? ", " : " (", (long long)bad, bad ? " (bad records)" : ")");
	if (metrics && (rc = write_metrics(&cli, metrics, feat, fd_now() - t0, rows, bad, warmed, &err)))
		goto fail;
	goto out;
fail_where:
	fd_err_prefix(&err, "%s", fd_cli_txns_where(src));
fail:
	fd_cli_progress_end(&cli);
	rc = fd_cli_report(&cli, &err);
	if (metrics)
		fd_metrics_write(metrics, cli.metrics, 0, fd_now() - t0, NULL);
out:
	fd_writer_free(w);
	fd_out_abort(out);
	fd_cli_txns_free(src);
	fd_features_free(feat);
	fd_store_close(st);
	fd_cli_input_release(&cli);
	fd_metrics_free(metrics);
	free(names);
	free(vals);
	{
		int r2 = fd_cli_close_stdout(&cli);

		if (!rc)
			rc = r2;
	}
	return rc;
}
