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

static const char usage[] =
	"usage: fd-features [options] [FILE...]\n"
	"Compute point-in-time features of transactions read in time order from FILEs (CSV or\n"
	"NDJSON, plain or zstd; '-' or none = stdin) or from the store.\n"
	"\n"
	"  --features LIST     comma-separated feature names (default: all; see --list)\n"
	"  --list              print the catalog: name, group, definition\n"
	"  --sort              sort the input by time in memory (else out-of-order input is an error)\n"
	"  --label-delay DAYS  labels become known this long after a transaction (default 7)\n"
	"  --store PATH        read from this store instead of files (default $FD_STORE, else ./fd.db)\n"
	"  --since T, --until T  store period [T, T'): RFC 3339 or epoch; history before --since\n"
	"                      warms the state\n"
	"  --format FMT        output csv or ndjson (default: the input's format)\n"
	"  --map SPEC          column mapping file or preset, as in fd-ingest\n"
	"  --delimiter C       CSV input delimiter\n"
	"  --currency CODE     currency of input rows without one (default USD)\n"
	FD_CLI_INPUT_USAGE
	"  --strict            stop at the first bad record (exit 3)\n"
	"  --shard I/N         only the senders of shard I of N (I from 0; see SHARDING)\n"
	"  --metrics FILE      write Prometheus textfile metrics there\n"
	"  -o, --output FILE   write there (atomically) instead of stdout\n"
	"  --excel-safe        quote CSV text that a spreadsheet would run as a formula\n"
	"  -q, --quiet         no summary on stderr\n"
	"  -h, --help          show this help\n"
	"  --version           show the version\n";

enum {
	OPT_FEATURES = FD_OPT_TOOL_BASE, OPT_LIST, OPT_SORT, OPT_LABEL_DELAY, OPT_SINCE, OPT_UNTIL,
	OPT_MAP, OPT_DELIM, OPT_TZ, OPT_CURRENCY, OPT_STRICT,
	OPT_SHARD,
};

static const struct option longopts[] = {
	FD_CLI_LONGOPTS,
	FD_CLI_EXCEL_SAFE,
	{"features", required_argument, NULL, OPT_FEATURES},
	{"list", no_argument, NULL, OPT_LIST},
	{"sort", no_argument, NULL, OPT_SORT},
	{"label-delay", required_argument, NULL, OPT_LABEL_DELAY},
	{"since", required_argument, NULL, OPT_SINCE},
	{"until", required_argument, NULL, OPT_UNTIL},
	{"map", required_argument, NULL, OPT_MAP},
	{"delimiter", required_argument, NULL, OPT_DELIM},
	{"tz", required_argument, NULL, OPT_TZ},
	FD_CLI_INPUT_LONGOPTS,
	{"currency", required_argument, NULL, OPT_CURRENCY},
	{"strict", no_argument, NULL, OPT_STRICT},
	{"shard", required_argument, NULL, OPT_SHARD},
	{"output", required_argument, NULL, 'o'},
	{NULL, 0, NULL, 0},
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

int main(int argc, char **argv)
{
	struct fd_cli cli;
	struct fd_err err = {0};
	struct fd_feat_opts fo;
	struct fd_features *feat = NULL;
	struct fd_txnsrc_opts so;
	struct fd_txnsrc *src = NULL;
	struct fd_store *st = NULL;
	struct fd_out *out = NULL;
	struct fd_writer *w = NULL;
	struct fd_colmap *map = NULL;
	struct fd_metrics *metrics = NULL;
	const char *features = NULL, *map_spec = NULL, *tz = NULL, *output = NULL;
	const char *since_arg = NULL, *until_arg = NULL;
	const char **names = NULL;
	double *vals = NULL;
	int c, sort = 0, strict = 0, rc = 0, list = 0, store_mode, fmt;
	int64_t since = INT64_MIN, until = INT64_MAX, rows = 0, bad = 0, warmed = 0;
	size_t nf, i;
	double t0;
	unsigned shard_i = 0, shard_n = 1;
	const char *why;

	memset(&so, 0, sizeof(so));
	memset(&fo, 0, sizeof(fo));
	fo.label_delay_ms = 7 * FD_DAY_MS;
	fd_cli_init(&cli, "fd-features", usage);
	while ((c = getopt_long(argc, argv, FD_CLI_SHORTOPTS "o:", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_FEATURES: features = optarg; break;
		case OPT_LIST: list = 1; break;
		case OPT_SORT: sort = 1; break;
		case OPT_LABEL_DELAY:
			fo.label_delay_ms = (int64_t)(fd_cli_double(&cli, "--label-delay", optarg, 0, 3650) * (double)FD_DAY_MS);
			break;
		case OPT_SINCE: since_arg = optarg; break;
		case OPT_UNTIL: until_arg = optarg; break;
		case OPT_MAP: map_spec = optarg; break;
		case OPT_DELIM: so.stream.delimiter = fd_cli_delimiter(&cli, optarg); break;
		case OPT_TZ: tz = optarg; break;
		case OPT_CURRENCY:
			if (strlen(optarg) != 3 || fd_currency_exponent(optarg) < 0)
				fd_cli_usage_error(&cli, "--currency '%s' is not an ISO 4217 code (upper case, e.g. EUR)", optarg);
			so.stream.currency = optarg;
			break;
		case OPT_STRICT: strict = 1; break;
		case OPT_SHARD:
			if ((why = fd_parse_shard(optarg, &shard_i, &shard_n)))
				fd_cli_usage_error(&cli, "--shard '%s': %s", optarg, why);
			break;
		case 'o': output = optarg; break;
		default:
			if (!fd_cli_input_option(&cli, c, optarg) && !fd_cli_option(&cli, c, optarg))
				fd_cli_usage_error(&cli, "unexpected option");
		}
	}
	fd_cli_finish(&cli);
	fd_cli_inputs(&cli, argc - optind, argv + optind);
	fd_cli_inputs(&cli, 1, (char *const[]){(char *)map_spec});
	if (list)
		return list_catalog(&cli, features);
	t0 = fd_now();
	fd_cli_input_tz(&cli, tz, &so.stream.tz_offset_min);
	fd_cli_input_apply(&cli, &so.stream);
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
	if (map_spec && (rc = fd_colmap_load(&map, map_spec, &err)))
		goto fail;
	if (store_mode) {
		struct fd_who who = {cli.actor, "fd-features", FD_VERSION};

		if ((rc = fd_store_open(&st, cli.store, FD_STORE_READONLY, &who, &err)))
			goto fail;
		so.store = st;
		so.since = since;
		so.until = until;
		/* all the history: novelty, sender age and dormancy look back without limit, so
		 * only a full replay makes --since's first day equal that of one run over all */
		so.warm_ms = -1;
	} else {
		so.paths = (const char *const *)argv + optind;
		so.npaths = (size_t)(argc - optind);
		so.sort = sort;
		so.stream.map = map;
		so.stream.no_metadata = 1;  /* features read canonical fields only */
	}
	if ((rc = fd_txnsrc_open(&src, &so, &err)))
		goto fail;
	if (cli.metrics && !(metrics = fd_metrics_create("fd-features"))) {
		rc = fd_err_set(&err, FD_EIO, "out of memory");
		goto fail;
	}

	nf = fd_features_count(feat);
	names = calloc(nf + 3, sizeof(*names));
	vals = calloc(nf ? nf : 1, sizeof(*vals));
	if (!names || !vals) {
		rc = fd_err_set(&err, FD_EIO, "out of memory");
		goto fail;
	}
	{
		const struct fd_feat_def *defs;

		fd_feat_catalog(&defs);
		names[0] = "txn_id";
		names[1] = "ts";
		names[2] = "label";
		for (i = 0; i < nf; i++)
			names[i + 3] = defs[fd_features_catalog_index(feat, i)].name;
	}
	if ((rc = fd_out_open(&out, output, NULL, &err)))
		goto fail;

	for (;;) {
		struct fd_txn t;
		struct fd_txn_bad b;
		int warm, r = fd_txnsrc_next(src, &t, &warm, &b, &err);

		if (r == 0)
			break;
		if (r < 0) {
			rc = -r;
			goto fail;
		}
		if (r == 2) {
			bad++;
			if (strict) {
				rc = fd_err_set(&err, FD_EINPUT, "%s: field '%s': %s (--strict)", fd_txnsrc_where(src),
						b.field_name, b.msg);
				goto fail;
			}
			if (!cli.quiet)
				fd_cli_msg(&cli, "%s: skipped: field '%s': %s", fd_txnsrc_where(src), b.field_name, b.msg);
			continue;
		}
		if (shard_n > 1 && fd_shard_of(t.sender_id, shard_n) != shard_i)
			continue;  /* another shard's sender */
		if (!w) {
			/* the output format follows the input's unless --format says otherwise */
			fmt = cli.format != FD_FMT_AUTO ? cli.format : fd_txnsrc_format(src);
			w = fd_writer_create(out, fmt, names, nf + 3);
		fd_writer_excel_safe(w, cli.excel_safe);
			if (!w) {
				rc = fd_err_set(&err, FD_EIO, "out of memory");
				goto fail;
			}
		}
		if (warm) {
			if ((rc = fd_features_warm(feat, &t, &err)))
				goto fail_where;
			warmed++;
			continue;
		}
		if ((rc = fd_features_push(feat, &t, vals, NULL, &err)))
			goto fail_where;
		fd_writer_begin(w);
		fd_writer_cstr(w, t.txn_id);
		fd_writer_ts(w, t.ts);
		if (t.label >= 0)
			fd_writer_i64(w, t.label);
		else
			fd_writer_null(w);
		for (i = 0; i < nf; i++)
			fd_writer_f64_sig(w, vals[i], 9);
		fd_writer_end(w);
		rows++;
		if ((rows & 65535) == 0)
			fd_cli_progress(&cli, rows, fd_txnsrc_bytes(src), -1);
	}
	if (!w) {
		/* no record at all: still a header, so the output is a valid empty table */
		fmt = cli.format != FD_FMT_AUTO ? cli.format : fd_txnsrc_format(src);
		w = fd_writer_create(out, fmt, names, nf + 3);
		fd_writer_excel_safe(w, cli.excel_safe);
		if (!w) {
			rc = fd_err_set(&err, FD_EIO, "out of memory");
			goto fail;
		}
	}
	fd_writer_free(w);
	w = NULL;
	fd_cli_progress_end(&cli);
	rc = fd_out_commit(out, &err);
	out = NULL;
	if (rc)
		goto fail;
	if (!cli.quiet)
		fd_cli_msg(&cli, "%lld transactions, %zu features each%s%lld skipped%s", (long long)rows, nf,
			   bad ? ", " : " (", (long long)bad, bad ? " (bad records)" : ")");
	if (metrics) {
		double dur = fd_now() - t0;

		fd_metrics_add(metrics, "fd_features_records_total", "counter", "Transactions read, by result.",
			       "result=\"computed\"", (double)rows);
		fd_metrics_add(metrics, "fd_features_records_total", "counter", "Transactions read, by result.",
			       "result=\"skipped\"", (double)bad);
		fd_metrics_add(metrics, "fd_features_records_total", "counter", "Transactions read, by result.",
			       "result=\"warm\"", (double)warmed);
		fd_metrics_add(metrics, "fd_features_records_per_second", "gauge", "Transactions per second.",
			       NULL, dur > 0 ? (double)rows / dur : 0);
		fd_metrics_add(metrics, "fd_features_state_bytes", "gauge", "Memory held by feature state.",
			       NULL, (double)fd_features_bytes(feat));
		if ((rc = fd_metrics_write(metrics, cli.metrics, 1, dur, &err)))
			goto fail;
	}
	goto out;
fail_where:
	fd_err_prefix(&err, "%s", fd_txnsrc_where(src));
fail:
	fd_cli_progress_end(&cli);
	rc = fd_cli_report(&cli, &err);
	if (metrics)
		fd_metrics_write(metrics, cli.metrics, 0, fd_now() - t0, NULL);
out:
	fd_writer_free(w);
	fd_out_abort(out);
	fd_txnsrc_free(src);
	fd_features_free(feat);
	fd_store_close(st);
	fd_colmap_free(map);
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
