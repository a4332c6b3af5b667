/*
 * fd-ingest — validate transaction exports and load them into the evidence store with chain
 * of custody.  See man/fd-ingest.1.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fd_buf.h"
#include "fd_ingest.h"
#include "fd_io.h"
#include "fd_metrics.h"
#include "fd_reader.h"
#include "fd_role.h"
#include "fd_store.h"
#include "fd_writer.h"
#include "banned.h"

static const char synopsis[] =
	"usage: fd-ingest [options] [FILE...]\n"
	"Validate transaction exports (CSV or NDJSON, plain or zstd; '-' or none = stdin) and load\n"
	"them into the evidence store, one atomic transaction per input.\n"
	"\n";

enum { OPT_REJECTS = FD_OPT_TOOL_BASE, OPT_EMIT, OPT_REJECTS_OF, OPT_MAX_REJECTS, OPT_SUPERSEDE, OPT_REASON,
       OPT_NAMESPACE };

static const struct fd_cli_opt opts[] = {
	{"store", 0, 0, "  --store PATH        evidence store (default $FD_STORE, else ./fd.db)\n"},
	{"format", 0, 0, "  --format FMT        input format: csv or ndjson (default: detected)\n"},
	{"map", 0, 0, NULL}, {"delimiter", 0, 0, NULL}, {"currency", 0, 0, NULL},  /* the group's lines, here */
	{"namespace", required_argument, OPT_NAMESPACE,
	 "  --namespace NS      transaction ids are NS:reference (ids unique per namespace)\n"},
	{"rejects", required_argument, OPT_REJECTS, "  --rejects FILE      write every rejected record there as NDJSON\n"},
	{"rejects-of", required_argument, OPT_REJECTS_OF,
	 "  --rejects-of SOURCE write the stored rejects of a source (id, sha256 or path) as NDJSON\n"
	 "                      to --rejects FILE or standard output, and exit\n"},
	{"max-rejects", required_argument, OPT_MAX_REJECTS,
	 "  --max-rejects N|P%  fail an input (exit 3, nothing written) with more rejects (default 5%)\n"},
	{"strict", 0, 0, "  --strict            stop at the first bad record (exit 3); nothing of that input is written\n"},
	{"supersede", required_argument, OPT_SUPERSEDE,
	 "  --supersede SOURCE  the input replaces that earlier load (needs --reason)\n"},
	{"reason", required_argument, OPT_REASON, "  --reason TEXT       why the earlier load is superseded\n"},
	{"emit", no_argument, OPT_EMIT, "  --emit              write the accepted records as canonical NDJSON on stdout\n"},
	{NULL, 0, 0, NULL},
};

#define MAX_SHOWN_REJECTS FD_CLI_SHOWN_BAD

struct run {
	struct fd_cli cli;
	struct fd_out *rejects;   /* --rejects, or NULL */
	struct fd_out *emit_out;  /* --emit: stdout */
	struct fd_writer *emit;
	struct fd_buf line;
	int64_t shown;            /* rejects printed on stderr when there is no --rejects */
	int64_t unshown;
	/* the command line */
	const char *rejects_path, *rejects_of_src, *supersede, *reason, *ns;
	int emit_wanted;          /* --emit */
	/* totals over the inputs */
	int64_t total_acc, total_rej, nalready;
	struct fd_buf rej_ids;    /* sources committed with rejects, for --rejects-of */
};

/*
 * "name":"value" for bytes from the input.  Valid UTF-8 goes as it is (escaped as JSON
 * requires).  Other bytes cannot be a JSON string, so such a value is written byte for byte:
 * every byte of 0x80 and above as \u0080-\u00ff, and "name_latin1":true follows, meaning:
 * encode the string as ISO 8859-1 to get the exact bytes back.
 */
static void add_bytes(struct fd_buf *b, const char *sep, const char *name, const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);  /* NULL when not valid UTF-8 */
	size_t i;

	fd_buf_addf(b, "%s\"%s\":", sep, name);
	if (j) {
		json_decref(j);
		fd_buf_add_json_str(b, s, n);
		return;
	}
	fd_buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80 || c < 0x20 || c == '"' || c == '\\')
			fd_buf_addf(b, "\\u%04x", c);
		else
			fd_buf_addc(b, (char)c);
	}
	fd_buf_addf(b, "\",\"%s_latin1\":true", name);
}

static void on_reject(void *ctx, const struct fd_reject *r)
{
	struct run *run = ctx;

	if (run->rejects) {
		struct fd_buf *b = &run->line;

		fd_buf_reset(b);
		add_bytes(b, "{", "source", r->source, strlen(r->source));
		fd_buf_adds(b, ",\"line\":");
		fd_buf_add_i64(b, r->line);
		fd_buf_adds(b, ",\"field\":");
		fd_buf_add_json_str(b, r->field, strlen(r->field));
		add_bytes(b, ",", "reason", r->reason, strlen(r->reason));
		add_bytes(b, ",", "record", r->raw ? r->raw : "", r->raw ? r->rawlen : 0);
		fd_buf_adds(b, "}\n");
		fd_out_write_buf(run->rejects, b);
		return;
	}
	if (run->cli.quiet)
		return;  /* -q: counted in the store and --metrics, not shown */
	if (run->shown < MAX_SHOWN_REJECTS) {
		char where[FD_TEXT_MAX + 32];

		snprintf(where, sizeof(where), "%s:%lld", r->source, (long long)r->line);
		fd_cli_progress_end(&run->cli);
		fd_cli_bad_record(&run->cli, where, r->field, r->reason, "rejected");
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
		fd_cli_msg(&run->cli, "%s: already ingested as source %lld on %s (sha256 %s); nothing to do"
			   " (to load these bytes again with other options: --supersede %lld --reason TEXT)",
			   res->name, (long long)res->source_id, fd_format_ts(res->already_at, when), res->sha256,
			   (long long)res->source_id);
		return;
	}
	fd_cli_msg(&run->cli, "%s: %lld accepted, %lld rejected; source %lld, sha256 %s, %lld bytes%s%s%s",
		   res->name, (long long)res->accepted, (long long)res->rejected, (long long)res->source_id,
		   res->sha256, (long long)res->size, res->compressed ? " (zstd)" : "",
		   strcmp(res->encoding, "utf-8") ? ", encoding " : "", strcmp(res->encoding, "utf-8") ? res->encoding : "");
	if (res->rounded)
		fd_cli_msg(&run->cli, "%s:   %lld amounts rounded to the currency's decimals (--round-amounts)",
			   res->name, (long long)res->rounded);
	for (i = 0; i < res->nreasons; i++)
		fd_cli_msg(&run->cli, "%s:   %lld rejected: %s", res->name, (long long)res->reasons[i].count,
			   res->reasons[i].reason);
	if (res->superseded)
		fd_cli_msg(&run->cli, "%s: supersedes source %lld (its transactions moved to superseded_transactions)",
			   res->name, (long long)res->superseded);
}

/* --max-rejects N (a count) or P% (a percentage of the input's records). */
static void parse_max_rejects(struct run *run, const char *arg, struct fd_ingest_opts *o)
{
	char *end;
	size_t n = strlen(arg);

	errno = 0;
	if (n > 1 && arg[n - 1] == '%') {
		double p = strtod(arg, &end);

		if (errno || end != arg + n - 1 || !(p >= 0 && p <= 100))
			fd_cli_usage_error(&run->cli, "--max-rejects '%s': not a percentage from 0%% to 100%%", arg);
		o->max_rejects = -1;
		o->max_rejects_pct = p;
	} else {
		long long v = strtoll(arg, &end, 10);

		if (errno || !n || *end || v < 0 || arg[0] == '-' || arg[0] == '+' || arg[0] == ' ')
			fd_cli_usage_error(&run->cli, "--max-rejects '%s': not a count (N) or a percentage (P%%)", arg);
		o->max_rejects = v;
		o->max_rejects_pct = -1;
	}
}

/* A namespace: 1-64 letters, digits, '.', '_' or '-' (it becomes the prefix 'NS:' of ids). */
static int namespace_ok(const char *ns)
{
	size_t i;

	for (i = 0; ns[i]; i++)
		if (!(ns[i] >= 'a' && ns[i] <= 'z') && !(ns[i] >= 'A' && ns[i] <= 'Z') &&
		    !(ns[i] >= '0' && ns[i] <= '9') && ns[i] != '.' && ns[i] != '_' && ns[i] != '-')
			return 0;
	return i >= 1 && i <= 64;
}

/* --rejects-of: the stored rejects of one source, to --rejects FILE or standard output. */
static int rejects_of(struct run *run, struct fd_store *st, const char *which, const char *out_path,
		      struct fd_err *err)
{
	int64_t id, n;
	int rc;

	if ((rc = fd_ingest_find_source(st, which, &id, err)) ||
	    (rc = fd_out_open(&run->rejects, out_path, NULL, err)))
		return rc;
	if ((rc = fd_ingest_rejects_of(st, id, NULL, on_reject, run, &n, err))) {
		fd_out_abort(run->rejects);
		run->rejects = NULL;
		return rc;
	}
	rc = fd_out_commit(run->rejects, err);
	run->rejects = NULL;
	if (!rc && !run->cli.quiet)
		fd_cli_msg(&run->cli, "source %lld: %lld rejected record%s", (long long)id, (long long)n, n == 1 ? "" : "s");
	return rc;
}

static void parse_args(struct run *run, struct fd_ingest_opts *o, int argc, char **argv)
{
	int c;

	fd_cli_setup(&run->cli, "fd-ingest", synopsis,
		     FD_CLI_G_STORE | FD_CLI_G_ACTOR | FD_CLI_G_FORMAT | FD_CLI_G_INPUT | FD_CLI_G_STRICT |
		     FD_CLI_G_METRICS | FD_CLI_G_PROGRESS, opts);
	while ((c = fd_cli_getopt(&run->cli, argc, argv)) != -1) {
		switch (c) {
		case OPT_REJECTS: run->rejects_path = optarg; break;
		case OPT_EMIT: run->emit_wanted = 1; break;
		case OPT_REJECTS_OF: run->rejects_of_src = optarg; break;
		case OPT_MAX_REJECTS: parse_max_rejects(run, optarg, o); break;
		case OPT_SUPERSEDE: run->supersede = optarg; break;
		case OPT_REASON: run->reason = optarg; break;
		case OPT_NAMESPACE: run->ns = optarg; break;
		}
	}
	fd_cli_finish(&run->cli);
	fd_cli_inputs(&run->cli, argc - optind, argv + optind);
}

/* What the options mean together. */
static void check_args(struct run *run, int argc, char **argv)
{
	int i, j, ninputs = argc - optind;

	if (run->rejects_path && strcmp(run->rejects_path, "-") == 0 && run->emit_wanted)
		fd_cli_usage_error(&run->cli, "--rejects - and --emit cannot both use standard output");
	if (run->ns && !namespace_ok(run->ns))
		fd_cli_usage_error(&run->cli, "--namespace '%s': 1 to 64 letters, digits, '.', '_' or '-'", run->ns);
	if (run->supersede && (!run->reason || !*run->reason))
		fd_cli_usage_error(&run->cli, "--supersede needs --reason TEXT (why the earlier load is replaced)");
	if (run->reason && !run->supersede)
		fd_cli_usage_error(&run->cli, "--reason goes with --supersede");
	if (run->supersede && ninputs != 1)
		fd_cli_usage_error(&run->cli, "--supersede takes exactly one input");
	if (run->rejects_of_src && (ninputs || run->emit_wanted || run->supersede))
		fd_cli_usage_error(&run->cli, "--rejects-of takes no input, --emit or --supersede");
	for (i = optind; i < argc; i++) {
		if (run->rejects_path && strcmp(argv[i], run->rejects_path) == 0)
			fd_cli_usage_error(&run->cli, "--rejects '%s' would overwrite an input", run->rejects_path);
		for (j = i + 1; strcmp(argv[i], "-") == 0 && j < argc; j++)
			if (strcmp(argv[j], "-") == 0)
				fd_cli_usage_error(&run->cli, "standard input ('-') given twice");
	}
}

/* What the run was told, kept with each source for the record. */
static int options_json(const struct run *run, const struct fd_ingest_opts *o, struct fd_buf *b, struct fd_err *err)
{
	const struct fd_cli *cli = &run->cli;

	if (fd_buf_adds(b, "{\"map\":") || fd_colmap_json(cli->map, b) ||
	    fd_buf_addf(b, ",\"tz_offset_min\":%d,\"currency\":\"%s\",\"delimiter\":", o->tz_offset_min,
			cli->currency ? cli->currency : "USD") ||
	    fd_buf_add_json_str(b, cli->delimiter ? &cli->delimiter : ",", 1) || fd_cli_input_json(cli, b) ||
	    fd_buf_addc(b, '}'))
		return fd_err_set(err, FD_EIO, "out of memory");
	return FD_OK;
}

/* Commit --rejects (dropped when --strict stopped the run) and --emit; rc, or the first error. */
static int finish_outputs(struct run *run, int rc, struct fd_err *err)
{
	if (run->unshown && !run->cli.quiet)
		fd_cli_msg(&run->cli, "... and %lld more rejected records (give --rejects FILE to keep them all)",
			   (long long)run->unshown);
	if (run->rejects) {
		if (run->cli.strict && rc == FD_EINPUT)
			fd_out_abort(run->rejects);
		else if (fd_out_commit(run->rejects, err)) {
			int r = fd_cli_report(&run->cli, err);

			if (!rc)
				rc = r;
			if (run->rej_ids.len)
				fd_cli_msg(&run->cli, "the rejected records are kept in the store: fd-ingest --rejects-of SOURCE"
					   " writes them again (source%s%s)", strchr(run->rej_ids.s + 1, ' ') ? "s" : "",
					   run->rej_ids.s);
		}
		run->rejects = NULL;
	}
	if (run->emit_out) {
		fd_writer_free(run->emit);
		run->emit = NULL;
		if (fd_out_commit(run->emit_out, err) && !rc)
			rc = fd_cli_report(&run->cli, err);
		run->emit_out = NULL;
	}
	return rc;
}

static int write_metrics(struct run *run, struct fd_metrics *metrics, double dur, int rc, struct fd_err *err)
{
	fd_metrics_add(metrics, "fd_ingest_records_total", "counter", "Records read, by result.",
		       "result=\"accepted\"", (double)run->total_acc);
	fd_metrics_add(metrics, "fd_ingest_records_total", "counter", "Records read, by result.",
		       "result=\"rejected\"", (double)run->total_rej);
	fd_metrics_add(metrics, "fd_ingest_sources_total", "counter", "Inputs processed, by outcome.",
		       "outcome=\"already\"", (double)run->nalready);
	fd_metrics_add(metrics, "fd_ingest_records_per_second", "gauge", "Records read per second.",
		       NULL, dur > 0 ? (double)(run->total_acc + run->total_rej) / dur : 0);
	if (fd_metrics_write(metrics, run->cli.metrics, rc == 0, dur, err) && !rc)
		rc = fd_cli_report(&run->cli, err);
	return rc;
}

int main(int argc, char **argv)
{
	struct run run;
	struct fd_ingest_opts o;
	struct fd_ingest_result res;
	struct fd_txnstream_opts parse;
	struct fd_err err = {0};
	struct fd_store *st = NULL;
	struct fd_metrics *metrics = NULL;
	struct fd_buf optjson = FD_BUF_INIT;
	struct fd_who who;
	int rc = 0, i, ninputs;
	double t0;

	memset(&run, 0, sizeof(run));
	memset(&o, 0, sizeof(o));
	memset(&parse, 0, sizeof(parse));
	o.max_rejects = -1;
	o.max_rejects_pct = 5;  /* the default limit: more than 5% rejected fails the input */
	parse_args(&run, &o, argc, argv);
	check_args(&run, argc, argv);
	ninputs = argc - optind;
	t0 = fd_now();

	if ((rc = fd_cli_input_open(&run.cli, &parse, &err)))
		goto fail;
	o.parse = &parse;
	o.tz_offset_min = parse.tz_offset_min;
	if (run.cli.metrics && !(metrics = fd_metrics_create("fd-ingest"))) {
		rc = fd_err_set(&err, FD_EIO, "out of memory");
		goto fail;
	}
	if ((rc = options_json(&run, &o, &optjson, &err)))
		goto fail;
	if (run.rejects_of_src) {
		who.actor = run.cli.actor;
		who.tool = "fd-ingest";
		who.version = FD_VERSION;
		if ((rc = fd_store_open(&st, run.cli.store, 0, &who, &err)) ||
		    (rc = rejects_of(&run, st, run.rejects_of_src, run.rejects_path, &err)))
			goto fail;
		goto out;
	}
	if (run.rejects_path && (rc = fd_out_open(&run.rejects, run.rejects_path, NULL, &err)))
		goto fail;
	if (run.emit_wanted) {
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
	if ((rc = fd_store_open(&st, run.cli.store, FD_STORE_CREATE, &who, &err)) ||
	    (rc = fd_role_authorize(st, FD_ACT_INGEST, ninputs ? argv[optind] : "-", &err)))
		goto fail;

	o.format = run.cli.format;
	o.delimiter = run.cli.delimiter;
	o.currency = run.cli.currency;
	o.map = run.cli.map;
	o.strict = run.cli.strict;
	o.replay_rejects = run.rejects_path != NULL;  /* a re-run rewrites --rejects, never truncates it */
	o.ns = run.ns;
	o.supersede_reason = run.reason;
	if (run.supersede && (rc = fd_ingest_find_source(st, run.supersede, &o.supersede, &err)))
		goto fail;
	o.options_json = optjson.s;
	o.on_reject = on_reject;
	o.on_accept = run.emit_wanted ? on_accept : NULL;
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
			if (run.cli.strict)
				break;  /* --strict stops the run; otherwise each input stands alone */
			continue;
		}
		summary(&run, &res);
		if (!res.already && res.accepted + res.rejected == 0)
			fd_cli_msg(&run.cli, "%s: no records: the input is empty (an empty day?); source %lld recorded",
				   res.name, (long long)res.source_id);
		if (!res.already && res.rejected)
			fd_buf_addf(&run.rej_ids, " %lld", (long long)res.source_id);
		run.total_acc += res.accepted;
		run.total_rej += res.rejected;
		run.nalready += res.already;
		if (run.emit_wanted && fd_out_flush(run.emit_out) != 0)
			break; /* the commit below reports it */
	}
	rc = finish_outputs(&run, rc, &err);
	if (metrics)
		rc = write_metrics(&run, metrics, fd_now() - t0, rc, &err);
	goto out;
fail:
	rc = fd_cli_report(&run.cli, &err);
out:
	fd_store_close(st);
	fd_metrics_free(metrics);
	fd_writer_free(run.emit);
	fd_out_abort(run.emit_out);
	fd_out_abort(run.rejects);
	fd_buf_release(&run.line);
	fd_buf_release(&optjson);
	fd_cli_input_release(&run.cli);
	fd_buf_release(&run.rej_ids);
	{
		int r2 = fd_cli_close_stdout(&run.cli);

		if (!rc)
			rc = r2;
	}
	return rc;
}
