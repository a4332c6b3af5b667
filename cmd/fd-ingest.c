/*
 * fd-ingest — validate transaction exports and load them into the evidence store with chain
 * of custody.  See man/fd-ingest.1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fd_buf.h"
#include "fd_ingest.h"
#include "fd_io.h"
#include "fd_metrics.h"
#include "fd_reader.h"
#include "fd_store.h"
#include "fd_writer.h"

static const char usage[] =
	"usage: fd-ingest [options] [FILE...]\n"
	"Validate transaction exports (CSV or NDJSON, plain or zstd; '-' or none = stdin) and load\n"
	"them into the evidence store, one atomic transaction per input.\n"
	"\n"
	"  --store PATH        evidence store (default $FD_STORE, else ./fd.db)\n"
	"  --format FMT        input format: csv or ndjson (default: detected)\n"
	"  --map SPEC          column mapping file, or a preset: fd, sparkov\n"
	"  --delimiter C       CSV field delimiter: ',' ';' 'tab' '|' (default ',')\n"
	"  --tz TZ             zone of timestamps without one: UTC, +HH:MM, -HHMM (default UTC)\n"
	"  --currency CODE     currency of rows without one (default USD)\n"
	"  --rejects FILE      write every rejected record there as NDJSON\n"
	"  --strict            stop at the first bad record (exit 3); nothing of that input is written\n"
	"  --emit              write the accepted records as canonical NDJSON on stdout\n"
	"  --actor NAME        who is acting (default $FD_ACTOR, else the login name)\n"
	"  --metrics FILE      write Prometheus textfile metrics there\n"
	"  -q, --quiet         no summary on stderr\n"
	"  --progress, --no-progress   force the progress meter on or off\n"
	"  -h, --help          show this help\n"
	"  --version           show the version\n";

enum { OPT_MAP = FD_OPT_TOOL_BASE, OPT_DELIM, OPT_TZ, OPT_CURRENCY, OPT_REJECTS, OPT_STRICT, OPT_EMIT };

static const struct option longopts[] = {
	FD_CLI_LONGOPTS,
	{"map", required_argument, NULL, OPT_MAP},
	{"delimiter", required_argument, NULL, OPT_DELIM},
	{"tz", required_argument, NULL, OPT_TZ},
	{"currency", required_argument, NULL, OPT_CURRENCY},
	{"rejects", required_argument, NULL, OPT_REJECTS},
	{"strict", no_argument, NULL, OPT_STRICT},
	{"emit", no_argument, NULL, OPT_EMIT},
	{NULL, 0, NULL, 0},
};

#define MAX_SHOWN_REJECTS 20

struct run {
	struct fd_cli cli;
	struct fd_out *rejects;   /* --rejects, or NULL */
	struct fd_out *emit_out;  /* --emit: stdout */
	struct fd_writer *emit;
	struct fd_buf line;
	int64_t shown;            /* rejects printed on stderr when there is no --rejects */
	int64_t unshown;
};

static void on_reject(void *ctx, const struct fd_reject *r)
{
	struct run *run = ctx;

	if (run->rejects) {
		struct fd_buf *b = &run->line;

		fd_buf_reset(b);
		fd_buf_adds(b, "{\"source\":");
		fd_buf_add_json_str(b, r->source, strlen(r->source));
		fd_buf_adds(b, ",\"line\":");
		fd_buf_add_i64(b, r->line);
		fd_buf_adds(b, ",\"field\":");
		fd_buf_add_json_str(b, r->field, strlen(r->field));
		fd_buf_adds(b, ",\"reason\":");
		fd_buf_add_json_str(b, r->reason, strlen(r->reason));
		fd_buf_adds(b, ",\"record\":");
		fd_buf_add_json_str(b, r->raw ? r->raw : "", r->raw ? r->rawlen : 0);
		fd_buf_adds(b, "}\n");
		fd_out_write(run->rejects, b->s, b->len);
		return;
	}
	if (run->shown < MAX_SHOWN_REJECTS) {
		if (strcmp(r->field, "record") == 0)
			fd_cli_msg(&run->cli, "%s:%lld: rejected: %s", r->source, (long long)r->line, r->reason);
		else
			fd_cli_msg(&run->cli, "%s:%lld: rejected: field '%s': %s", r->source, (long long)r->line,
				   r->field, r->reason);
		run->shown++;
	} else
		run->unshown++;
}

static const char *const emit_cols[] = {
	"txn_id", "ts", "amount", "currency", "sender_id", "recipient_id", "merchant_id",
	"merchant_category", "channel", "device_id", "ip", "lat", "lon", "country", "city", "label",
	"metadata",
};

static int on_accept(void *ctx, const struct fd_txn *t)
{
	struct run *run = ctx;
	struct fd_writer *w = run->emit;

	fd_writer_begin(w);
	fd_writer_cstr(w, t->txn_id);
	fd_writer_ts(w, t->ts);
	fd_writer_amount(w, t->amount, t->exponent);
	fd_writer_cstr(w, t->currency);
	fd_writer_cstr(w, t->sender_id);
	fd_writer_cstr(w, t->recipient_id);
	fd_writer_cstr(w, t->merchant_id);
	fd_writer_cstr(w, t->merchant_category);
	fd_writer_cstr(w, t->channel);
	fd_writer_cstr(w, t->device_id);
	fd_writer_cstr(w, t->ip);
	if (t->has_geo) {
		fd_writer_f64(w, t->lat);
		fd_writer_f64(w, t->lon);
	} else {
		fd_writer_null(w);
		fd_writer_null(w);
	}
	fd_writer_cstr(w, t->country[0] ? t->country : NULL);
	fd_writer_cstr(w, t->city);
	if (t->label >= 0)
		fd_writer_i64(w, t->label);
	else
		fd_writer_null(w);
	if (t->metadata)
		fd_writer_json(w, t->metadata, t->metadata_len);
	else
		fd_writer_null(w);
	fd_writer_end(w);
	return 0;
}

static void on_progress(void *ctx, int64_t records, uint64_t bytes, int64_t total)
{
	struct run *run = ctx;

	fd_cli_progress(&run->cli, records, bytes, total);
}

static void summary(struct run *run, const struct fd_ingest_result *res)
{
	char when[FD_TS_BUFSZ];
	size_t i;

	if (run->cli.quiet)
		return;
	if (res->already) {
		fd_cli_msg(&run->cli, "%s: already ingested as source %lld on %s (sha256 %s); nothing to do",
			   res->name, (long long)res->source_id, fd_format_ts(res->already_at, when), res->sha256);
		return;
	}
	fd_cli_msg(&run->cli, "%s: %lld accepted, %lld rejected; source %lld, sha256 %s, %lld bytes%s",
		   res->name, (long long)res->accepted, (long long)res->rejected, (long long)res->source_id,
		   res->sha256, (long long)res->size, res->compressed ? " (zstd)" : "");
	for (i = 0; i < res->nreasons; i++)
		fd_cli_msg(&run->cli, "%s:   %lld rejected: %s", res->name, (long long)res->reasons[i].count,
			   res->reasons[i].reason);
}

int main(int argc, char **argv)
{
	struct run run;
	struct fd_ingest_opts o;
	struct fd_ingest_result res;
	struct fd_err err = {0};
	struct fd_store *st = NULL;
	struct fd_colmap *map = NULL;
	struct fd_metrics *metrics = NULL;
	struct fd_buf optjson = FD_BUF_INIT;
	struct fd_who who;
	const char *map_spec = NULL, *rejects_path = NULL, *tz = NULL, *currency = NULL, *why;
	char delim = 0;
	int c, emit = 0, strict = 0, rc = 0, i, ninputs, nalready = 0;
	int64_t total_acc = 0, total_rej = 0;
	double t0;

	memset(&run, 0, sizeof(run));
	memset(&o, 0, sizeof(o));
	fd_cli_init(&run.cli, "fd-ingest", usage);
	while ((c = getopt_long(argc, argv, FD_CLI_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_MAP: map_spec = optarg; break;
		case OPT_DELIM: delim = fd_cli_delimiter(&run.cli, optarg); break;
		case OPT_TZ: tz = optarg; break;
		case OPT_CURRENCY: currency = optarg; break;
		case OPT_REJECTS: rejects_path = optarg; break;
		case OPT_STRICT: strict = 1; break;
		case OPT_EMIT: emit = 1; break;
		default:
			if (!fd_cli_option(&run.cli, c, optarg))
				fd_cli_usage_error(&run.cli, "unexpected option");
		}
	}
	fd_cli_finish(&run.cli);
	fd_cli_inputs(&run.cli, argc - optind, argv + optind);
	fd_cli_inputs(&run.cli, 1, (char *const[]){(char *)map_spec});
	t0 = fd_now();

	if (tz && (why = fd_parse_tz(tz, &o.tz_offset_min)))
		fd_cli_usage_error(&run.cli, "--tz '%s': %s", tz, why);
	if (currency && (strlen(currency) != 3 || fd_currency_exponent(currency) < 0))
		fd_cli_usage_error(&run.cli, "--currency '%s' is not an ISO 4217 code (upper case, e.g. EUR)", currency);
	if (rejects_path && strcmp(rejects_path, "-") == 0 && emit)
		fd_cli_usage_error(&run.cli, "--rejects - and --emit cannot both use standard output");
	ninputs = argc - optind;
	for (i = optind; i < argc; i++) {
		if (rejects_path && strcmp(argv[i], rejects_path) == 0)
			fd_cli_usage_error(&run.cli, "--rejects '%s' would overwrite an input", rejects_path);
		if (strcmp(argv[i], "-") == 0 && ninputs > 1) {
			int j;

			for (j = i + 1; j < argc; j++)
				if (strcmp(argv[j], "-") == 0)
					fd_cli_usage_error(&run.cli, "standard input ('-') given twice");
		}
	}

	if (map_spec && (rc = fd_colmap_load(&map, map_spec, &err)))
		goto fail;
	if (run.cli.metrics && !(metrics = fd_metrics_create("fd-ingest"))) {
		rc = fd_err_set(&err, FD_EIO, "out of memory");
		goto fail;
	}
	/* what the run was told, kept with each source for the record */
	fd_buf_adds(&optjson, "{\"map\":");
	if (fd_colmap_json(map, &optjson) || fd_buf_addf(&optjson, ",\"tz_offset_min\":%d,\"currency\":\"%s\",\"delimiter\":",
							  o.tz_offset_min, currency ? currency : "USD") ||
	    fd_buf_add_json_str(&optjson, delim ? &delim : ",", 1) || fd_buf_addc(&optjson, '}')) {
		rc = fd_err_set(&err, FD_EIO, "out of memory");
		goto fail;
	}

	if (rejects_path && (rc = fd_out_open(&run.rejects, rejects_path, NULL, &err)))
		goto fail;
	if (emit) {
		if ((rc = fd_out_open(&run.emit_out, NULL, NULL, &err)))
			goto fail;
		run.emit = fd_writer_create(run.emit_out, FD_FMT_NDJSON, emit_cols,
					    sizeof(emit_cols) / sizeof(emit_cols[0]));
		if (!run.emit) {
			rc = fd_err_set(&err, FD_EIO, "out of memory");
			goto fail;
		}
	}
	who.actor = run.cli.actor;
	who.tool = "fd-ingest";
	who.version = FD_VERSION;
	if ((rc = fd_store_open(&st, run.cli.store, FD_STORE_CREATE, &who, &err)))
		goto fail;

	o.format = run.cli.format;
	o.delimiter = delim;
	o.currency = currency;
	o.map = map;
	o.strict = strict;
	o.options_json = optjson.s;
	o.on_reject = on_reject;
	o.on_accept = emit ? on_accept : NULL;
	o.on_progress = on_progress;
	o.ctx = &run;

	for (i = optind; i < argc || (ninputs == 0 && i == optind); i++) {
		const char *path = ninputs ? argv[i] : "-";
		int r = fd_ingest(st, path, &o, &res, &err);

		fd_cli_progress_end(&run.cli);
		if (r) {
			fd_cli_report(&run.cli, &err);
			if (!rc)
				rc = r;
			fd_err_clear(&err);
			if (strict)
				break;  /* --strict stops the run; otherwise each input stands alone */
			continue;
		}
		summary(&run, &res);
		total_acc += res.accepted;
		total_rej += res.rejected;
		nalready += res.already;
		if (emit && fd_out_flush(run.emit_out) != 0)
			break; /* the commit below reports it */
	}
	if (run.unshown && !run.cli.quiet)
		fd_cli_msg(&run.cli, "... and %lld more rejected records (give --rejects FILE to keep them all)",
			   (long long)run.unshown);
	if (run.rejects) {
		if (strict && rc == FD_EINPUT)
			fd_out_abort(run.rejects);
		else if (fd_out_commit(run.rejects, &err) && !rc)
			rc = fd_cli_report(&run.cli, &err);
		run.rejects = NULL;
	}
	if (run.emit_out) {
		fd_writer_free(run.emit);
		run.emit = NULL;
		if (fd_out_commit(run.emit_out, &err) && !rc)
			rc = fd_cli_report(&run.cli, &err);
		run.emit_out = NULL;
	}
	if (metrics) {
		double dur = fd_now() - t0;

		fd_metrics_add(metrics, "fd_ingest_records_total", "counter", "Records read, by result.",
			       "result=\"accepted\"", (double)total_acc);
		fd_metrics_add(metrics, "fd_ingest_records_total", "counter", "Records read, by result.",
			       "result=\"rejected\"", (double)total_rej);
		fd_metrics_add(metrics, "fd_ingest_sources_total", "counter", "Inputs processed, by outcome.",
			       "outcome=\"already\"", nalready);
		fd_metrics_add(metrics, "fd_ingest_records_per_second", "gauge", "Records read per second.",
			       NULL, dur > 0 ? (double)(total_acc + total_rej) / dur : 0);
		if (fd_metrics_write(metrics, run.cli.metrics, rc == 0, dur, &err) && !rc)
			rc = fd_cli_report(&run.cli, &err);
	}
	goto out;
fail:
	rc = fd_cli_report(&run.cli, &err);
out:
	fd_store_close(st);
	fd_colmap_free(map);
	fd_metrics_free(metrics);
	fd_writer_free(run.emit);
	fd_out_abort(run.emit_out);
	fd_out_abort(run.rejects);
	fd_buf_release(&run.line);
	fd_buf_release(&optjson);
	{
		int r2 = fd_cli_close_stdout(&run.cli);

		if (!rc)
			rc = r2;
	}
	return rc;
}
