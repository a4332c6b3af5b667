/*
 * fd-audit — verify, query, seal and export the evidence store's hash-chained audit log.
 * See man/fd-audit.1; the checks themselves are in lib/fd_verify.h and lib/fd_bundle.h.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "forensic.h"
#include "fd_buf.h"
#include "fd_bundle.h"
#include "fd_io.h"
#include "fd_metrics.h"
#include "fd_reader.h"
#include "fd_role.h"
#include "fd_store.h"
#include "fd_txn.h"
#include "fd_verify.h"
#include "fd_writer.h"
#include "banned.h"

static const char synopsis[] =
	"usage: fd-audit [options] verify|log|keygen|seal|export\n"
	"       fd-audit [options] benford|duplicates|gaps|round|weekend|strata|ageing [FILE...]\n"
	"Check, query, seal and export the evidence store's hash-chained audit log; run forensic\n"
	"tests over transactions (fd-audit benford --help lists their options).\n"
	"\n"
	"  verify              recompute the chain, the data digests and the seals (exit 1 if broken)\n"
	"  log                 list audit entries\n"
	"  keygen -o FILE      make an Ed25519 key pair: FILE (secret, mode 0600) and FILE.pub\n"
	"  seal --key SECRET   sign the head of the chain and print the seal's short text\n"
	"  export -o FILE      write a zstd-compressed evidence bundle of the store\n"
	"\n";

enum { OPT_KEY = FD_OPT_TOOL_BASE, OPT_SEAL, OPT_BUNDLE, OPT_SINCE, OPT_UNTIL, OPT_ACTION, OPT_OBJECT };

#define GROUPS (FD_CLI_G_STORE | FD_CLI_G_ACTOR | FD_CLI_G_FORMAT | FD_CLI_G_OUTPUT | FD_CLI_G_METRICS | \
		FD_CLI_G_PROGRESS)

static const struct fd_cli_opt opts[] = {
	{"store", 0, 0, "  --store PATH        evidence store (default $FD_STORE, else ./fd.db)\n"},
	{"key", required_argument, OPT_KEY,
	 "  --key KEY           verify: public key file (or its 64 hex digits) whose seals must\n"
	 "                      verify; seal: the secret key file to sign with\n"},
	{"seal", required_argument, OPT_SEAL,
	 "  --seal TEXT         verify: check a seal's short text against the store (needs --key)\n"},
	{"bundle", required_argument, OPT_BUNDLE,
	 "  --bundle FILE       verify: check an evidence bundle instead of the store\n"},
	{"output", required_argument, 'o', "  -o, --output FILE   keygen, export: the file to write\n"},
	{"out", required_argument, 'o', NULL},  /* the old name, still accepted */
	{"since", required_argument, OPT_SINCE, "  --since TIME        log: entries at or after TIME (RFC 3339 or epoch)\n"},
	{"until", required_argument, OPT_UNTIL, "  --until TIME        log: entries before TIME\n"},
	{"actor", required_argument, FD_OPT_ACTOR,
	 "  --actor NAME        log: entries by NAME; otherwise who is acting (default $FD_ACTOR)\n"},
	{"action", required_argument, OPT_ACTION,
	 "  --action GLOB       log: entries whose action matches GLOB, e.g. 'ingest.*'\n"},
	{"object", required_argument, OPT_OBJECT,
	 "  --object TYPE[:ID]  log: entries about objects of TYPE (and ID)\n"},
	{"format", required_argument, FD_OPT_FORMAT, "  --format FMT        log: table (default), csv or ndjson\n"},
	{"quiet", 0, 0, "  -q, --quiet         no summary\n"},
	{NULL, 0, 0, NULL},
};

enum cmd { C_VERIFY, C_LOG, C_KEYGEN, C_SEAL, C_EXPORT, C_N };
static const char *const cmd_name[C_N] = {"verify", "log", "keygen", "seal", "export"};

/* Which command each tool option applies to. */
static const struct {
	int opt;
	const char *name;
	unsigned cmds;
} applies[] = {
	{OPT_KEY, "--key", 1u << C_VERIFY | 1u << C_SEAL},
	{OPT_SEAL, "--seal", 1u << C_VERIFY},
	{OPT_BUNDLE, "--bundle", 1u << C_VERIFY},
	{'o', "--output", 1u << C_KEYGEN | 1u << C_EXPORT},
	{OPT_SINCE, "--since", 1u << C_LOG},
	{OPT_UNTIL, "--until", 1u << C_LOG},
	{OPT_ACTION, "--action", 1u << C_LOG},
	{OPT_OBJECT, "--object", 1u << C_LOG},
	{FD_OPT_FORMAT, "--format", 1u << C_LOG},
};

#define MAX_SHOWN_FINDINGS 100
#define DETAILS_SHOWN 72

enum { FMT_TABLE = 100 };

struct run {
	struct fd_cli cli;
	struct fd_metrics *metrics;
	int64_t shown;
};

/* ---- verify ---------------------------------------------------------------------------- */

static void on_finding(void *ctx, const struct fd_verify_finding *f)
{
	struct run *run = ctx;

	fd_cli_progress_end(&run->cli);
	if (run->shown++ < MAX_SHOWN_FINDINGS)
		fd_cli_msg(&run->cli, "%s", f->msg);
}

static void on_note(void *ctx, const char *msg)
{
	struct run *run = ctx;

	if (!run->cli.quiet)
		fd_cli_msg(&run->cli, "note: %s", msg);
}

static void on_progress(void *ctx, int64_t rows)
{
	struct run *run = ctx;

	fd_cli_progress(&run->cli, rows, 0, -1);
}

static void plural(struct fd_buf *b, int64_t n, const char *one, const char *many)
{
	fd_buf_addf(b, "%lld %s", (long long)n, n == 1 ? one : many);
}

/* "7 audit entries (head 7 1a2b3c4d5e6f7a8b), 1 data digest over 5 rows, 1 source, 0 seals" */
static void describe(struct fd_buf *b, const struct fd_verify_result *vr, const unsigned char *key)
{
	plural(b, vr->entries, "audit entry", "audit entries");
	if (vr->head_seq)
		fd_buf_addf(b, " (head %lld %.16s)", (long long)vr->head_seq, vr->head_hash);
	fd_buf_adds(b, ", ");
	plural(b, vr->digests, "data digest", "data digests");
	fd_buf_adds(b, " over ");
	plural(b, vr->rows, "row", "rows");
	fd_buf_adds(b, ", ");
	plural(b, vr->sources, "source", "sources");
	fd_buf_adds(b, ", ");
	plural(b, vr->seals, "seal", "seals");
	if (key) {
		char kid[17];

		fd_seal_key_id(key, kid);
		fd_buf_addf(b, " (%lld by key %s, %lld by other keys)", (long long)vr->seals_key, kid,
			    (long long)vr->seals_other);
	}
}

static void verify_metrics(struct run *run, const struct fd_verify_result *vr)
{
	struct fd_metrics *m = run->metrics;

	fd_metrics_add(m, "fd_audit_intact", "gauge", "1 when the last verification found nothing wrong.", NULL,
		       vr->findings == 0);
	fd_metrics_add(m, "fd_audit_findings", "gauge", "Findings of the last verification.", NULL,
		       (double)vr->findings);
	fd_metrics_add(m, "fd_audit_entries", "gauge", "Audit entries checked.", NULL, (double)vr->entries);
	fd_metrics_add(m, "fd_audit_head_seq", "gauge", "Sequence number of the last audit entry.", NULL,
		       (double)vr->head_seq);
	fd_metrics_add(m, "fd_audit_rows_verified", "gauge", "Rows whose data digests were recomputed.", NULL,
		       (double)vr->rows);
	fd_metrics_add(m, "fd_audit_seals", "gauge", "Seals checked.", NULL, (double)vr->seals);
}

static int cmd_verify(struct run *run, const char *keyspec, const char *seal_text, const char *bundle)
{
	struct fd_verify_opts o;
	struct fd_verify_result vr;
	struct fd_bundle_info bi;
	struct fd_err err = {0};
	struct fd_store *st = NULL;
	struct fd_who who;
	struct fd_buf b = FD_BUF_INIT;
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	const char *where;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&vr, 0, sizeof(vr));
	if (seal_text && !keyspec)
		fd_cli_usage_error(&run->cli, "--seal needs --key, the public key to check it with");
	if (keyspec) {
		if ((rc = fd_seal_load_public(keyspec, pk, &err)))
			return fd_cli_report(&run->cli, &err);
		o.key = pk;
	}
	o.seal_text = seal_text;
	o.on_finding = on_finding;
	o.on_note = on_note;
	o.on_progress = on_progress;
	o.ctx = run;
	who.actor = run->cli.actor;
	who.tool = "fd-audit";
	who.version = FD_VERSION;
	if (bundle) {
		where = strcmp(bundle, "-") ? bundle : "<stdin>";
		rc = fd_bundle_verify(bundle, &who, &o, &bi, &vr, &err);
	} else {
		where = run->cli.store;
		if ((rc = fd_store_open(&st, run->cli.store, FD_STORE_READONLY | FD_STORE_ANY_VERSION, &who, &err)))
			return fd_cli_report(&run->cli, &err);
		rc = fd_verify_store(st, &o, &vr, &err);
		fd_store_close(st);
	}
	fd_cli_progress_end(&run->cli);
	if (rc == FD_EUSAGE)
		fd_cli_usage_error(&run->cli, "--seal: %s", err.msg);
	if (rc && rc != FD_EFINDINGS)
		return fd_cli_report(&run->cli, &err);
	if (run->metrics)
		verify_metrics(run, &vr);
	if (rc == FD_EFINDINGS) {
		if (run->shown > MAX_SHOWN_FINDINGS)
			fd_cli_msg(&run->cli, "... and %lld more findings", (long long)(run->shown - MAX_SHOWN_FINDINGS));
		fd_cli_msg(&run->cli, "%s: NOT intact: %lld finding%s", where, (long long)vr.findings,
			   vr.findings == 1 ? "" : "s");
		return FD_EFINDINGS;
	}
	if (!run->cli.quiet) {
		if (bundle)
			fd_buf_addf(&b, "%s: bundle intact (sha256 %s): ", where, bi.sha256);
		else
			fd_buf_addf(&b, "%s: intact: ", where);
		describe(&b, &vr, o.key);
		if (seal_text)
			fd_buf_adds(&b, "; the seal text verifies");
		printf("%s\n", b.s ? b.s : "");
	}
	fd_buf_release(&b);
	return FD_OK;
}

/* ---- log ------------------------------------------------------------------------------- */

/* Cut s to at most max bytes on a UTF-8 boundary, control bytes made visible. */
static void shown_text(struct fd_buf *b, const char *s, size_t max)
{
	char vis[512];
	size_t n = strlen(s), cut = n;

	if (n > max) {
		cut = max;
		while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
			cut--;
	}
	fd_visible(vis, sizeof(vis), s, cut);
	fd_buf_adds(b, vis);
	if (cut < n)
		fd_buf_adds(b, "...");
}

#define NTCOL 7
static const char *const tcol[NTCOL] = {"SEQ", "TIME", "ACTOR", "TOOL", "ACTION", "OBJECT", "DETAILS"};

/* Display width of UTF-8 text: code points, not bytes. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

static int cmd_log(struct run *run, const struct fd_verify_log_filter *f)
{
	struct fd_err err = {0};
	struct fd_store *st = NULL;
	struct fd_verify_log *it = NULL;
	struct fd_verify_log_entry e;
	struct fd_out *out = NULL;
	struct fd_writer *w = NULL;
	struct fd_who who;
	char **cells = NULL;
	size_t ncells = 0, cap = 0, i, j, wd[NTCOL];
	int64_t n = 0;
	int rc, r, fmt = run->cli.format;

	who.actor = run->cli.actor;
	who.tool = "fd-audit";
	who.version = FD_VERSION;
	if ((rc = fd_store_open(&st, run->cli.store, FD_STORE_READONLY, &who, &err)) ||
	    (rc = fd_verify_log_open(&it, st, f, &err)) || (rc = fd_out_open(&out, NULL, NULL, &err)))
		goto fail;
	if (fmt != FMT_TABLE &&
	    !(w = fd_writer_create(out, fmt, fd_verify_log_columns, fd_verify_log_ncolumns))) {
		rc = fd_err_set(&err, FD_EIO, "out of memory");
		goto fail;
	}
	while ((r = fd_verify_log_next(it, &e, &err)) > 0) {
		n++;
		if (w) {
			fd_verify_log_write(w, &e);
			continue;
		}
		/* the table is aligned, so it is built first */
		if (ncells + NTCOL > cap) {
			char **nc = realloc(cells, (cap ? cap * 2 : 64 * NTCOL) * sizeof(*cells));

			if (!nc) {
				rc = fd_err_set(&err, FD_EIO, "out of memory");
				goto fail;
			}
			cells = nc;
			cap = cap ? cap * 2 : 64 * NTCOL;
		}
		for (j = 0; j < NTCOL; j++) {
			struct fd_buf b = FD_BUF_INIT;
			char ts[FD_TS_BUFSZ];

			switch (j) {
			case 0: fd_buf_add_i64(&b, e.seq); break;
			case 1: fd_buf_adds(&b, fd_format_ts(e.ts, ts)); break;
			case 2: shown_text(&b, e.actor ? e.actor : "", 40); break;
			case 3: shown_text(&b, e.tool ? e.tool : "", 40); break;
			case 4: shown_text(&b, e.action ? e.action : "", 40); break;
			case 5:
				shown_text(&b, e.object_type ? e.object_type : "", 40);
				fd_buf_addc(&b, '/');
				shown_text(&b, e.object_id ? e.object_id : "", 70);
				break;
			default: shown_text(&b, e.details ? e.details : "", DETAILS_SHOWN);
			}
			if (!b.s && fd_buf_adds(&b, "")) {
				rc = fd_err_set(&err, FD_EIO, "out of memory");
				goto fail;
			}
			cells[ncells++] = fd_buf_detach(&b, NULL);
		}
	}
	if (r < 0) {
		rc = -r;
		goto fail;
	}
	if (!w) {
		for (j = 0; j < NTCOL; j++)
			wd[j] = strlen(tcol[j]);
		for (i = 0; i < ncells; i++)
			if (width(cells[i]) > wd[i % NTCOL])
				wd[i % NTCOL] = width(cells[i]);
		for (i = 0; i < ncells + NTCOL; i++) {
			const char *c = i < NTCOL ? tcol[i] : cells[i - NTCOL];
			size_t k = i % NTCOL, pad;

			if (k == 0) {  /* numbers right-aligned */
				for (pad = width(c); pad < wd[0]; pad++)
					fd_out_write(out, " ", 1);
				fd_out_puts(out, c);
			} else {
				fd_out_puts(out, "  ");
				fd_out_puts(out, c);
				if (k + 1 < NTCOL)
					for (pad = width(c); pad < wd[k]; pad++)
						fd_out_write(out, " ", 1);
			}
			if (k + 1 == NTCOL)
				fd_out_write(out, "\n", 1);
		}
	}
	fd_writer_free(w);
	w = NULL;
	rc = fd_out_commit(out, &err);
	out = NULL;
	if (rc)
		goto fail;
	if (run->metrics)
		fd_metrics_add(run->metrics, "fd_audit_log_entries", "gauge", "Audit entries listed.", NULL, (double)n);
	goto out;
fail:
	rc = fd_cli_report(&run->cli, &err);
out:
	for (i = 0; i < ncells; i++)
		free(cells[i]);
	free(cells);
	fd_writer_free(w);
	fd_out_abort(out);
	fd_verify_log_free(it);
	fd_store_close(st);
	return rc;
}

/* ---- keygen, seal, export --------------------------------------------------------------- */

static int cmd_keygen(struct run *run, const char *path)
{
	struct fd_err err = {0};
	char kid[17];

	if (!path)
		fd_cli_usage_error(&run->cli, "keygen needs -o FILE (the secret key; the public key goes to FILE.pub)");
	if (fd_seal_keygen(path, kid, &err))
		return fd_cli_report(&run->cli, &err);
	if (!run->cli.quiet)
		fd_cli_msg(&run->cli, "key %s: secret key in '%s' (keep it private), public key in '%s.pub'", kid, path,
			   path);
	return FD_OK;
}

static int open_rw(struct run *run, struct fd_store **st, struct fd_err *err)
{
	struct fd_who who;

	who.actor = run->cli.actor;
	who.tool = "fd-audit";
	who.version = FD_VERSION;
	return fd_store_open(st, run->cli.store, 0, &who, err);
}

static int cmd_seal(struct run *run, const char *keyfile)
{
	unsigned char sk[crypto_sign_SECRETKEYBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	struct fd_err err = {0};
	struct fd_store *st = NULL;
	struct fd_seal seal;
	char kid[17];
	int rc;

	if (!keyfile)
		fd_cli_usage_error(&run->cli, "seal needs --key SECRET (make one with fd-audit keygen)");
	if ((rc = fd_seal_load_secret(keyfile, sk, &err)) || (rc = open_rw(run, &st, &err)) ||
	    (rc = fd_role_authorize(st, FD_ACT_SEAL, "head", &err)) || (rc = fd_seal_create(st, sk, &seal, &err))) {
		sodium_memzero(sk, sizeof(sk));
		fd_store_close(st);
		return fd_cli_report(&run->cli, &err);
	}
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	sodium_memzero(sk, sizeof(sk));
	fd_store_close(st);
	fd_seal_key_id(pk, kid);
	printf("%s\n", seal.text);
	if (!run->cli.quiet)
		fd_cli_msg(&run->cli, "sealed entry %lld (head %.16s) of '%s' with key %s: seal %lld, recorded as audit entry %lld",
			   (long long)seal.seq, seal.head, run->cli.store, kid, (long long)seal.id,
			   (long long)seal.audit_seq);
	if (run->metrics)
		fd_metrics_add(run->metrics, "fd_audit_sealed_seq", "gauge", "Sequence number of the entry sealed.", NULL,
			       (double)seal.seq);
	return FD_OK;
}

static int cmd_export(struct run *run, const char *path)
{
	struct fd_err err = {0};
	struct fd_store *st = NULL;
	struct fd_bundle_info bi;
	struct fd_verify_result vr;
	struct fd_verify_opts o;
	int rc;

	if (!path)
		fd_cli_usage_error(&run->cli, "export needs -o FILE");
	memset(&o, 0, sizeof(o));
	o.on_finding = on_finding;
	o.ctx = run;
	if ((rc = open_rw(run, &st, &err)) || (rc = fd_role_authorize(st, FD_ACT_EXPORT, path, &err))) {
		fd_store_close(st);
		return fd_cli_report(&run->cli, &err);
	}
	rc = fd_bundle_export(st, path, &o, &bi, &vr, &err);
	fd_store_close(st);
	if (rc && rc != FD_EFINDINGS)
		return fd_cli_report(&run->cli, &err);
	if (run->metrics) {
		verify_metrics(run, &vr);
		fd_metrics_add(run->metrics, "fd_audit_bundle_bytes", "gauge", "Size of the evidence bundle written.",
			       NULL, (double)bi.size);
	}
	if (rc == FD_EFINDINGS)
		fd_cli_msg(&run->cli, "%s: bundle written, but the store is NOT intact: %lld finding%s",
			   strcmp(path, "-") ? path : "<stdout>", (long long)vr.findings, vr.findings == 1 ? "" : "s");
	else if (!run->cli.quiet) {
		struct fd_buf b = FD_BUF_INIT;

		fd_buf_addf(&b, "%s: bundle of %lld bytes, sha256 %s: ", strcmp(path, "-") ? path : "<stdout>",
			    (long long)bi.size, bi.sha256);
		plural(&b, bi.entries, "audit entry", "audit entries");
		fd_buf_addf(&b, " (head %lld %.16s), ", (long long)bi.head_seq, bi.head_hash);
		plural(&b, bi.sources, "source", "sources");
		fd_buf_adds(&b, ", ");
		plural(&b, bi.transactions, "transaction", "transactions");
		fd_buf_adds(&b, ", ");
		plural(&b, bi.seals, "seal", "seals");
		fd_buf_addf(&b, "; recorded as audit entry %lld", (long long)bi.audit_seq);
		fd_cli_msg(&run->cli, "%s", b.s ? b.s : "out of memory");
		fd_buf_release(&b);
	}
	return rc;
}

/* ---- main ------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	struct run run;
	struct fd_verify_log_filter f;
	const char *key = NULL, *seal_text = NULL, *bundle = NULL, *out = NULL, *actor_arg = NULL;
	char *object = NULL;
	unsigned given = 0;
	int c, rc, cmd;
	size_t i;
	double t0;

	if (fd_forensic_wanted(argc, argv, GROUPS, opts))
		return fd_forensic_main(argc, argv);
	memset(&run, 0, sizeof(run));
	memset(&f, 0, sizeof(f));
	f.since = INT64_MIN;
	f.until = INT64_MAX;
	fd_cli_setup(&run.cli, "fd-audit", synopsis, GROUPS, opts);
	run.cli.format = FMT_TABLE;
	while ((c = fd_cli_getopt(&run.cli, argc, argv)) != -1) {
		for (i = 0; i < sizeof(applies) / sizeof(applies[0]); i++)
			if (applies[i].opt == c)
				given |= 1u << i;
		switch (c) {
		case OPT_KEY: key = optarg; break;
		case OPT_SEAL: seal_text = optarg; break;
		case OPT_BUNDLE: bundle = optarg; break;
		case 'o':
			if (!*optarg)
				fd_cli_usage_error(&run.cli, "--output needs a file name");
			out = optarg;
			break;
		case OPT_SINCE: f.since = fd_cli_time(&run.cli, "--since", optarg, 0); break;
		case OPT_UNTIL: f.until = fd_cli_time(&run.cli, "--until", optarg, 0); break;
		case OPT_ACTION: f.action = optarg; break;
		case OPT_OBJECT: object = optarg; break;
		case FD_OPT_FORMAT:
			if (strcmp(optarg, "table") == 0)
				run.cli.format = FMT_TABLE;
			else if ((run.cli.format = fd_format_parse(optarg)) < 0)
				fd_cli_usage_error(&run.cli, "--format must be table, csv or ndjson, not '%s'", optarg);
			break;
		case FD_OPT_ACTOR:
			actor_arg = optarg;  /* log's filter; also who is acting */
			fd_cli_option(&run.cli, c, optarg);
			break;
		}
	}
	fd_cli_finish(&run.cli);
	t0 = fd_now();
	if (optind >= argc)
		fd_cli_usage_error(&run.cli, "no command: give verify, log, keygen, seal or export");
	for (cmd = 0; cmd < C_N; cmd++)
		if (strcmp(argv[optind], cmd_name[cmd]) == 0)
			break;
	if (cmd == C_N) {
		char vis[64];

		fd_visible(vis, sizeof(vis), argv[optind], strlen(argv[optind]));
		fd_cli_usage_error(&run.cli, "unknown command '%s': give verify, log, keygen, seal or export", vis);
	}
	if (optind + 1 < argc) {
		char vis[64];

		fd_visible(vis, sizeof(vis), argv[optind + 1], strlen(argv[optind + 1]));
		fd_cli_usage_error(&run.cli, "%s takes no arguments, not '%s'", cmd_name[cmd], vis);
	}
	for (i = 0; i < sizeof(applies) / sizeof(applies[0]); i++)
		if ((given & (1u << i)) && !(applies[i].cmds & (1u << cmd)))
			fd_cli_usage_error(&run.cli, "%s does not apply to %s", applies[i].name, cmd_name[cmd]);
	if (f.since >= f.until)
		fd_cli_usage_error(&run.cli, "--since must be before --until");
	if (object) {
		char *sep = strpbrk(object, ":/");

		if (sep) {
			*sep = '\0';
			f.object_id = sep + 1;
		}
		if (!*object || (f.object_id && !*f.object_id))
			fd_cli_usage_error(&run.cli, "--object needs TYPE or TYPE:ID, e.g. source:3");
		f.object_type = object;
	}
	f.actor = actor_arg;
	if (run.cli.metrics && !(run.metrics = fd_metrics_create("fd-audit"))) {
		fd_cli_msg(&run.cli, "out of memory");
		return FD_EIO;
	}

	switch (cmd) {
	case C_VERIFY: rc = cmd_verify(&run, key, seal_text, bundle); break;
	case C_LOG: rc = cmd_log(&run, &f); break;
	case C_KEYGEN: rc = cmd_keygen(&run, out); break;
	case C_SEAL: rc = cmd_seal(&run, key); break;
	default: rc = cmd_export(&run, out); break;
	}

	if (run.metrics) {
		struct fd_err err = {0};

		if (fd_metrics_write(run.metrics, run.cli.metrics, rc == 0, fd_now() - t0, &err) && !rc)
			rc = fd_cli_report(&run.cli, &err);
		fd_metrics_free(run.metrics);
	}
	{
		int r2 = fd_cli_close_stdout(&run.cli);

		if (!rc)
			rc = r2;
	}
	return rc;
}
