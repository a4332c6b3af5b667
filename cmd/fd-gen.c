/*
 * fd-gen — generate realistic labelled transactions, deterministically from a seed.
 * See man/fd-gen.1; the generator itself is lib/fd_gen.c.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fd_buf.h"
#include "fd_gen.h"
#include "fd_io.h"
#include "fd_reader.h"
#include "fd_txn.h"
#include "banned.h"

static const char synopsis[] =
	"usage: fd-gen [options]\n"
	"Generate realistic labelled transactions with injected fraud, in time order, as CSV or\n"
	"NDJSON; the same seed and options always give the same bytes.\n"
	"\n";

enum { OPT_SEED = FD_OPT_TOOL_BASE, OPT_ROWS, OPT_CUSTOMERS, OPT_MERCHANTS, OPT_START, OPT_DAYS, OPT_ID_PREFIX, OPT_START_ID,
       OPT_FRAUD_RATE, OPT_CURRENCY };

static const struct fd_cli_opt opts[] = {
	{"seed", required_argument, OPT_SEED, "  --seed N            random seed (default 1)\n"},
	{"rows", required_argument, OPT_ROWS, "  --rows N            exact number of rows (default 10000)\n"},
	{"customers", required_argument, OPT_CUSTOMERS,
	 "  --customers N       number of customers (default rows/100, from 20 to 1000000)\n"},
	{"merchants", required_argument, OPT_MERCHANTS,
	 "  --merchants N       number of merchants (default customers/5, 50 to 20000)\n"},
	{"start", required_argument, OPT_START, "  --start DATE        first day, YYYY-MM-DD, UTC (default 2026-01-01)\n"},
	{"id-prefix", required_argument, OPT_ID_PREFIX,
	 "  --id-prefix P       transaction ids are P and a number (default T)\n"},
	{"start-id", required_argument, OPT_START_ID,
	 "  --start-id N        the first transaction's number (default 1); to continue a\n"
	 "                      previous run, its --start-id plus its --rows\n"},
	{"days", required_argument, OPT_DAYS, "  --days N            number of days covered (default 90)\n"},
	{"fraud-rate", required_argument, OPT_FRAUD_RATE,
	 "  --fraud-rate R      share of rows that are fraud, 0 to 1 (default 0.01)\n"},
	{"currency", required_argument, OPT_CURRENCY,
	 "  --currency CODE     ISO 4217 currency of the amounts (default USD)\n"},
	{"format", 0, 0, "  --format FMT        csv or ndjson (default csv)\n"},
	{"output", 0, 0, "  -o, --output FILE   write to FILE, atomically (default: standard output)\n"},
	{"quiet", 0, 0, "  -q, --quiet         no progress meter\n"},
	{NULL, 0, 0, NULL},
};

#define CHUNK (1u << 20)

/* --start: a calendar date, YYYY-MM-DD, taken as midnight UTC. */
static int64_t parse_start(const struct fd_cli *cli, const char *arg)
{
	int64_t ms;
	char vis[64];

	if (strlen(arg) != 10 || arg[4] != '-' || arg[7] != '-' ||
	    fd_parse_ts(arg, 10, 0, &ms) != NULL)
		fd_cli_usage_error(cli, "--start needs a date YYYY-MM-DD, not '%s'",
				   fd_visible(vis, sizeof(vis), arg, strlen(arg)));
	return ms / FD_DAY_MS;
}

int main(int argc, char **argv)
{
	struct fd_cli cli;
	struct fd_gen_opts o;
	struct fd_gen *g = NULL;
	struct fd_out *out = NULL;
	struct fd_buf buf = FD_BUF_INIT;
	struct fd_err err = {0};
	char vis[64];
	int c, rc = 0, more;
	uint64_t bytes = 0;

	fd_gen_opts_init(&o);
	fd_cli_setup(&cli, "fd-gen", synopsis, FD_CLI_G_FORMAT | FD_CLI_G_OUTPUT | FD_CLI_G_PROGRESS, opts);
	while ((c = fd_cli_getopt(&cli, argc, argv)) != -1) {
		switch (c) {
		case OPT_SEED:
			o.seed = (uint64_t)fd_cli_int(&cli, "--seed", optarg, 0, INT64_MAX);
			break;
		case OPT_ROWS:
			o.rows = fd_cli_int(&cli, "--rows", optarg, 0, FD_GEN_MAX_ROWS);
			break;
		case OPT_CUSTOMERS:
			o.customers = fd_cli_int(&cli, "--customers", optarg, 1, FD_GEN_MAX_CUSTOMERS);
			break;
		case OPT_MERCHANTS:
			o.merchants = fd_cli_int(&cli, "--merchants", optarg, 1, FD_GEN_MAX_MERCHANTS);
			break;
		case OPT_START:
			o.start_day = parse_start(&cli, optarg);
			break;
		case OPT_ID_PREFIX: {
			size_t k, n = strlen(optarg);

			for (k = 0; k < n; k++)
				if (!isalnum((unsigned char)optarg[k]) && !strchr("_.-", optarg[k]))
					break;
			if (n == 0 || n > 8 || k < n)
				fd_cli_usage_error(&cli, "--id-prefix needs 1 to 8 letters, digits, '_', '.' or '-', not '%s'",
						   fd_visible(vis, sizeof(vis), optarg, n));
			memcpy(o.id_prefix, optarg, n + 1);
			break;
		}
		case OPT_START_ID:
			o.start_id = fd_cli_int(&cli, "--start-id", optarg, 1, FD_GEN_MAX_ID);
			break;
		case OPT_DAYS:
			o.days = (int)fd_cli_int(&cli, "--days", optarg, 1, FD_GEN_MAX_DAYS);
			break;
		case OPT_FRAUD_RATE:
			o.fraud_rate = fd_cli_double(&cli, "--fraud-rate", optarg, 0, 1);
			break;
		case OPT_CURRENCY:
			if (strlen(optarg) != 3 || fd_currency_exponent(optarg) < 0)
				fd_cli_usage_error(&cli, "--currency needs an ISO 4217 code such as USD, not '%s'",
						   fd_visible(vis, sizeof(vis), optarg, strlen(optarg)));
			memcpy(o.currency, optarg, 4);
			o.exponent = fd_currency_exponent(optarg);
			break;
		}
	}
	if (optind < argc)
		fd_cli_usage_error(&cli, "unexpected argument '%s'",
				   fd_visible(vis, sizeof(vis), argv[optind], strlen(argv[optind])));
	if (cli.quiet)
		cli.progress = 0;
	o.format = cli.format == FD_FMT_NDJSON ? FD_GEN_NDJSON : FD_GEN_CSV;

	rc = fd_gen_create(&g, &o, &err);
	if (rc) {
		if (rc == FD_EUSAGE)
			fd_cli_usage_error(&cli, "%s", err.msg);
		goto out;
	}
	rc = fd_cli_output_open(&cli, &out, &err);
	if (rc)
		goto out;
	do {
		more = fd_gen_write(g, &buf, CHUNK, &err);
		if (more < 0) {
			rc = -more;
			goto out;
		}
		fd_out_write_buf(out, &buf);
		bytes += buf.len;
		fd_buf_reset(&buf);
		fd_cli_progress(&cli, fd_gen_rows_done(g), bytes, 0);
	} while (more);
	fd_cli_progress_end(&cli);
	rc = fd_out_commit(out, &err);
	out = NULL;
out:
	if (rc)
		fd_cli_report(&cli, &err);
	fd_out_abort(out);
	fd_gen_free(g);
	fd_buf_release(&buf);
	return rc;
}
