/*
 * cli.h — what every fd tool's main() shares: the common options, messages, exit codes,
 * the progress meter.  Lives in cmd/ because it prints and exits; lib/ never does.
 *
 * Use (option groups: the options and their usage lines come from one table):
 *	static const struct fd_cli_opt opts[] = {
 *		{"seed", required_argument, OPT_SEED, "  --seed N            random seed (default 1)\n"},
 *		{NULL, 0, 0, NULL},
 *	};
 *	fd_cli_setup(&cli, "fd-gen", "usage: fd-gen [options]\n...\n\n", FD_CLI_G_FORMAT | FD_CLI_G_OUTPUT, opts);
 *	while ((c = fd_cli_getopt(&cli, argc, argv)) != -1)
 *		switch (c) { case OPT_SEED: ...; }
 *
 * The older way, still used by some tools: FD_CLI_LONGOPTS in the tool's own struct option
 * table and fd_cli_init(&cli, "fd-x", usage), getopt_long, and fd_cli_option(&cli, c, optarg)
 * for what the tool does not handle.  fd_cli_option() handles -h/--help (usage on stdout,
 * exit 0), --version (exit 0), the common options, and anything else getopt reported ('?':
 * one line plus usage on stderr, exit 2).
 */
#ifndef FD_CLI_H
#define FD_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "fd_buf.h"
#include "fd_err.h"
#include "fd_txnstream.h"

enum {
	FD_OPT_STORE = 1000,
	FD_OPT_FORMAT,
	FD_OPT_ACTOR,
	FD_OPT_METRICS,
	FD_OPT_VERSION,
	FD_OPT_QUIET,
	FD_OPT_PROGRESS,
	FD_OPT_NO_PROGRESS,
	FD_OPT_DATE_FORMAT,      /* the export options (FD_CLI_INPUT_LONGOPTS) */
	FD_OPT_DECIMAL_COMMA,
	FD_OPT_ROUND_AMOUNTS,
	FD_OPT_AMOUNT_SIGN,
	FD_OPT_ENCODING,
	FD_OPT_DST,
	FD_OPT_EXCEL_SAFE,
	FD_OPT_MAP,              /* the option groups' own (fd_cli_setup) */
	FD_OPT_DELIMITER,
	FD_OPT_CURRENCY,
	FD_OPT_TZ,
	FD_OPT_STRICT,
	FD_OPT_TOOL_BASE = 1100, /* tools number their own long-only options from here */
};

#define FD_CLI_SHORTOPTS "hq"
#define FD_CLI_LONGOPTS \
	{"help", no_argument, NULL, 'h'}, \
	{"version", no_argument, NULL, FD_OPT_VERSION}, \
	{"quiet", no_argument, NULL, 'q'}, \
	{"store", required_argument, NULL, FD_OPT_STORE}, \
	{"format", required_argument, NULL, FD_OPT_FORMAT}, \
	{"actor", required_argument, NULL, FD_OPT_ACTOR}, \
	{"metrics", required_argument, NULL, FD_OPT_METRICS}, \
	{"progress", no_argument, NULL, FD_OPT_PROGRESS}, \
	{"no-progress", no_argument, NULL, FD_OPT_NO_PROGRESS}

/*
 * How an export writes times, amounts and text: the options every tool that reads exports
 * shares (fd-ingest, fd-features, fd-rules, fd-score).  Add FD_CLI_INPUT_LONGOPTS to the
 * tool's options, pass unknown option codes to fd_cli_input_option(), give --tz to
 * fd_cli_input_tz(), and call fd_cli_input_apply() before opening the stream.  The usage
 * lines are FD_CLI_INPUT_USAGE.
 */
#define FD_CLI_INPUT_LONGOPTS \
	{"date-format", required_argument, NULL, FD_OPT_DATE_FORMAT}, \
	{"decimal-comma", no_argument, NULL, FD_OPT_DECIMAL_COMMA}, \
	{"round-amounts", no_argument, NULL, FD_OPT_ROUND_AMOUNTS}, \
	{"amount-sign", required_argument, NULL, FD_OPT_AMOUNT_SIGN}, \
	{"encoding", required_argument, NULL, FD_OPT_ENCODING}, \
	{"dst", required_argument, NULL, FD_OPT_DST}
#define FD_CLI_INPUT_USAGE \
	"  --tz TZ             zone of timestamps without one: UTC, +HH:MM, or an IANA name such as\n" \
	"                      Europe/Berlin (default UTC)\n" \
	"  --dst POLICY        local times that a DST change repeats or skips in --tz: earlier,\n" \
	"                      later or reject (default earlier)\n" \
	"  --date-format FMT   timestamps as FMT (%d.%m.%Y %H:%M ...); may be repeated, tried in order\n" \
	"  --decimal-comma     amounts with a decimal comma (1.234,56)\n" \
	"  --round-amounts     round amounts with more decimals than the currency has (half even)\n" \
	"  --amount-sign S     signed (negative = reversal, default) or debit-negative (statements)\n" \
	"  --encoding NAME     input encoding: utf-8 (default), auto, windows-1252, iso-8859-15, ...\n"

#define FD_CLI_MAX_DATE_FORMATS 16

struct fd_cli_input {
	const char *tz_arg;           /* --tz as given, or NULL */
	struct fd_tz *tz;             /* loaded by fd_cli_input_tz */
	int dst_policy;
	const char *formats[FD_CLI_MAX_DATE_FORMATS + 1];
	int nformats;
	int decimal_comma, round_amounts, amount_sign;
	const char *encoding;         /* NULL = utf-8 */
};
/* --excel-safe, for the tools that write CSV from the data (fd_writer_excel_safe) */
#define FD_CLI_EXCEL_SAFE {"excel-safe", no_argument, NULL, FD_OPT_EXCEL_SAFE}

/*
 * Option groups (fd_cli_setup): a tool names the groups it takes, and each group brings its
 * long options and its usage lines from one table in cli.c.  An option of a group the tool
 * did not name is not accepted.  -h/--help, --version and -q/--quiet come with every tool.
 */
enum {
	FD_CLI_G_STORE = 1u << 0,    /* --store PATH */
	FD_CLI_G_ACTOR = 1u << 1,    /* --actor NAME */
	FD_CLI_G_FORMAT = 1u << 2,   /* --format FMT */
	FD_CLI_G_OUTPUT = 1u << 3,   /* -o, --output FILE (cli->output; fd_cli_output_open) */
	FD_CLI_G_EXCEL = 1u << 4,    /* --excel-safe */
	FD_CLI_G_INPUT = 1u << 5,    /* reading exports: --map, --delimiter, --currency, --tz and
				      * the export options (fd_cli_input_open) */
	FD_CLI_G_STRICT = 1u << 6,   /* --strict: the bad-record policy of fd_cli_txns */
	FD_CLI_G_METRICS = 1u << 7,  /* --metrics FILE */
	FD_CLI_G_PROGRESS = 1u << 8, /* --progress, --no-progress */
};

/*
 * One option of a tool's table: its long name, has_arg and code as in struct option, and its
 * usage line(s) ("  --seed N            random seed (default 1)\n"), or NULL for an alias
 * that is accepted but not shown.  A code below 256 is also the short option.  An entry
 * named like a group's option replaces it: its help text (the group's when NULL and the code
 * is 0) is shown in the tool's order, and with a code other than 0 fd_cli_getopt returns that
 * code to the tool instead of handling the option (the tool may still pass it to
 * fd_cli_option).  The table ends with a NULL name.
 */
struct fd_cli_opt {
	const char *name;
	int has_arg;
	int val;
	const char *help;
};

struct fd_cli {
	const char *tool;     /* "fd-ingest" */
	const char *usage;    /* the synopsis and options, as in the man page */
	const char *short_usage; /* fd_cli_setup: the synopsis lines and a pointer to --help,
				  * which usage errors print (else the whole usage) */
	const char *store;    /* --store, else $FD_STORE, else "fd.db" (fd_cli_finish) */
	int store_given;      /* --store or $FD_STORE was given */
	int store_opt;        /* --store was given on the command line */
	const char *actor;    /* --actor, else $FD_ACTOR, else the login name */
	int format;           /* --format: FD_FMT_AUTO when not given */
	const char *metrics;  /* --metrics FILE or NULL */
	int quiet;            /* -q: no summary, no progress */
	int progress;         /* 1 show the meter: stderr is a terminal and not quiet */
	int excel_safe;       /* --excel-safe: quote CSV text that a spreadsheet runs as a formula */
	char actor_buf[256];
	struct fd_cli_input input; /* the export options (see above) */
	/* set by the groups of fd_cli_setup */
	const char *output;   /* -o/--output FILE, or NULL for standard output */
	const char *map_spec; /* --map SPEC */
	const char *currency; /* --currency CODE (checked) */
	const char *tz;       /* --tz TZ as given */
	char delimiter;       /* --delimiter, or 0 */
	int strict;           /* --strict */
	unsigned groups;
	const struct fd_cli_opt *opts;
	struct fd_colmap *map;    /* fd_cli_input_open: --map loaded; fd_cli_input_release frees it */
	/* progress meter state */
	double t_start, t_last;
};

void fd_cli_init(struct fd_cli *cli, const char *tool, const char *usage);
/*
 * fd_cli_init with option groups: synopsis is the usage's head ("usage: fd-x [options]\n"
 * and the description, ending in a blank line); the usage is the synopsis, the help of opts in
 * their order, the groups' lines not replaced by opts, then -q, -h and --version.  The
 * tables are borrowed for the life of the process.
 */
void fd_cli_setup(struct fd_cli *cli, const char *tool, const char *synopsis, unsigned groups,
		  const struct fd_cli_opt *opts);
/*
 * getopt_long over the tool's table and its groups: the groups' options are handled here
 * (stored in cli, checked, usage error on a bad argument); returns the tool's own option
 * codes, and -1 at the end of the options (optind as getopt_long leaves it).  An unknown
 * option, a missing or unexpected argument: "tool: unrecognized option '--x'" and the usage
 * on stderr, exit 2.
 */
int fd_cli_getopt(struct fd_cli *cli, int argc, char **argv);
/* fd_cli_getopt that stops at the first operand (options before a COMMAND). */
int fd_cli_getopt_head(struct fd_cli *cli, int argc, char **argv);
/* fd_cli_setup for a COMMAND's options, after fd_cli_setup and the options before it: the
 * tables and the usage become the command's; what was parsed so far is kept. */
void fd_cli_setup_command(struct fd_cli *cli, const char *synopsis, unsigned groups, const struct fd_cli_opt *opts);
/* For a command line scanned before parsing (fd-audit's forensic tests): 1 when the long
 * option name[0..n) of the tool's table or groups takes an argument, 0 when it takes none,
 * -1 when it is none of them. */
int fd_cli_opt_arg(unsigned groups, const struct fd_cli_opt *opts, const char *name, size_t n);
/* Handle a common option or a getopt error; returns 1 when handled. */
int fd_cli_option(struct fd_cli *cli, int c, const char *arg);
/* After option parsing: resolve store path and actor defaults (an --actor or $FD_ACTOR that is
 * empty, blank or holds control characters exits 2), and protect the store and its -wal,
 * -shm and -journal files from every output (fd_out_protect).  fd_cli_init installs the
 * SIGINT, SIGTERM and SIGHUP handler that removes temporary outputs (fd_tmp_cleanup). */
void fd_cli_finish(struct fd_cli *cli);
/* Protect the n input files paths[] (and any other file the tool reads: --map, --model,
 * --rules) from every output; "-" is ignored.  Call before opening outputs. */
void fd_cli_inputs(const struct fd_cli *cli, int n, char *const *paths);

/* "tool: message" on stderr (stdout flushed first). */
void fd_cli_msg(const struct fd_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Usage error: "tool: message", then the short usage (else the usage), on stderr; exit 2. */
_Noreturn void fd_cli_usage_error(const struct fd_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Report err ("tool: msg") and return its code (FD_EIO if none was set). */
int fd_cli_report(const struct fd_cli *cli, const struct fd_err *err);

/* Checked number parsing for option arguments: exit 2 with a message naming the option. */
long long fd_cli_int(const struct fd_cli *cli, const char *opt, const char *arg, long long min, long long max);
double fd_cli_double(const struct fd_cli *cli, const char *opt, const char *arg, double min, double max);
/* A timestamp option (--since, --until, ...): fd_cli_parse_ts, so a naive time is in the zone
 * of --tz, else tz_offset_min minutes east of UTC.  Exit 2 with "OPT 'X': reason" (the
 * value with control bytes made visible). */
int64_t fd_cli_time(const struct fd_cli *cli, const char *opt, const char *arg, int tz_offset_min);
/* A duration option ("90s", "15m", "24h", "7d"): fd_parse_duration (fd_txn.h).  Exit 2 with
 * "OPT 'X': reason". */
int64_t fd_cli_duration(const struct fd_cli *cli, const char *opt, const char *arg);

/* A --delimiter argument: one character other than a quote, CR or LF, or "tab"; exit 2
 * naming the option otherwise. */
char fd_cli_delimiter(const struct fd_cli *cli, const char *arg);

/* An export option (FD_CLI_INPUT_LONGOPTS): 1 when c was one (usage error, exit 2, on a bad
 * argument), else 0. */
int fd_cli_input_option(struct fd_cli *cli, int c, const char *arg);
/* Load --tz (NULL = UTC): a fixed offset sets *offset_min; an IANA zone is kept for the
 * stream and for fd_cli_parse_ts.  Exit 2 (3 for a corrupt zone file, 4 unreadable) with
 * "--tz 'X': reason". */
void fd_cli_input_tz(struct fd_cli *cli, const char *tz, int *offset_min);
/* Copy the export options into a stream's options (tz, dst, date formats, amount flags,
 * sign, encoding). */
void fd_cli_input_apply(const struct fd_cli *cli, struct fd_txnstream_opts *so);
/* The export's zone for local_hour (fd_feat_opts.zone...): --tz when given (offset_min as
 * fd_cli_input_tz set it), else left unknown. */
struct fd_feat_opts;
void fd_cli_feat_zone(const struct fd_cli *cli, int offset_min, struct fd_feat_opts *fo);
/* Append the export options as JSON members (",\"tz\":...") to out, for the record. */
int fd_cli_input_json(const struct fd_cli *cli, struct fd_buf *out);
/* A --since / --until value: fd_parse_ts with a naive time in the zone of --tz. */
const char *fd_cli_parse_ts(const struct fd_cli *cli, const char *arg, int tz_offset_min, int64_t *ms);
/* Free what fd_cli_input_tz loaded. */
void fd_cli_input_release(struct fd_cli *cli);

/*
 * The input group (FD_CLI_G_INPUT): load --tz and --map and fill the stream options with
 * them, --delimiter, --currency and the export options.  Exit as fd_cli_input_tz on a bad
 * zone; a --map that cannot be loaded returns its status (err set).  fd_cli_input_release
 * frees what it loaded.
 */
int fd_cli_input_open(struct fd_cli *cli, struct fd_txnstream_opts *so, struct fd_err *err);

/* Open -o/--output (cli->output; NULL = standard output) with fd_out_open, which refuses the
 * store, the inputs (fd_cli_inputs) and the like. */
struct fd_out;
int fd_cli_output_open(const struct fd_cli *cli, struct fd_out **out, struct fd_err *err);

/*
 * A bad record, in the one wording every tool uses: "tool: WHERE: field 'F': MSG (OUTCOME)",
 * or "tool: WHERE: MSG (OUTCOME)" when field is NULL or "record" (the record as a whole).
 * WHERE is "FILE:LINE".  fd_cli_bad_err puts the same text in err, for an error that stops
 * the run (FD_EINPUT).
 */
void fd_cli_bad_record(const struct fd_cli *cli, const char *where, const char *field, const char *msg,
		       const char *outcome);
int fd_cli_bad_err(struct fd_err *err, const char *where, const char *field, const char *msg,
		   const char *outcome);

/*
 * One loop over transactions for the tools that analyse them: fd_txnsrc (files in time order,
 * or the store), or with any_order the files one after the other in whatever order they hold.
 * It owns the bad-record policy: a bad record is reported ("... (skipped)"; at most
 * FD_CLI_SHOWN_BAD of them, then a count at the end; none under -q) and skipped, or under
 * --strict ends the run with FD_EINPUT and "... (--strict: stopped here)" (strict_note
 * replaces "stopped here").  It also drives the progress meter.
 */
#define FD_CLI_SHOWN_BAD 20
struct fd_txnsrc_opts;
struct fd_cli_txns;
int fd_cli_txns_open(struct fd_cli_txns **r, struct fd_cli *cli, const struct fd_txnsrc_opts *o, int any_order,
		     struct fd_err *err);
/* 1 with *t (strings valid until the next call) and *warm (history before --since: warm the
 * state only; may be NULL when there is none), 0 at the end, or a negated status (err set):
 * a fatal error, a bad record under --strict, out-of-time-order input. */
int fd_cli_txns_next(struct fd_cli_txns *r, struct fd_txn *t, int *warm, struct fd_err *err);
/* "FILE:LINE" of the current record, or "store". */
const char *fd_cli_txns_where(struct fd_cli_txns *r);
/* The format of the first input (FD_FMT_CSV for the store or before the first record). */
int fd_cli_txns_format(const struct fd_cli_txns *r);
/* Bad records seen so far. */
int64_t fd_cli_txns_bad(const struct fd_cli_txns *r);
/* The text after "--strict: " in the message that stops a run ("stopped here" by default). */
void fd_cli_txns_strict_note(struct fd_cli_txns *r, const char *note);
/* Free; after the end of the input, say how many bad records were not shown. NULL is fine. */
void fd_cli_txns_free(struct fd_cli_txns *r);

/* Close stdout and check for write errors (disk full, closed pipe); returns 0 or FD_EIO after
 * reporting. */
int fd_cli_close_stdout(const struct fd_cli *cli);

/* Progress meter on stderr, only when cli->progress: "records, records/s, bytes of total".
 * Call fd_cli_progress() as often as you like (it redraws at most 4 times a second);
 * fd_cli_progress_end() clears the line. */
void fd_cli_progress(struct fd_cli *cli, int64_t records, uint64_t bytes, int64_t total);
void fd_cli_progress_end(struct fd_cli *cli);

/* Monotonic seconds. */
double fd_now(void);

#endif
