/* cli.c — see cli.h. */
#include "cli.h"
#include "fd_features.h"

#include <errno.h>
#include <math.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fd_io.h"
#include "fd_reader.h"
#include "fd_txnsrc.h"
#include "fd_txn.h"
#include "fd_tz.h"
#include "banned.h"

/* SIGINT, SIGTERM, SIGHUP: remove the temporary outputs, then die of the signal as before. */
static void on_signal(int sig)
{
	fd_tmp_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

void fd_cli_init(struct fd_cli *cli, const char *tool, const char *usage)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;

		/* a signal the caller ignores (nohup, a shell's background job) stays ignored */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
	memset(cli, 0, sizeof(*cli));
	cli->tool = tool;
	cli->usage = usage;
	cli->format = FD_FMT_AUTO;
	cli->progress = isatty(STDERR_FILENO);
	cli->t_start = fd_now();
}

void fd_cli_msg(const struct fd_cli *cli, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", cli->tool);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

_Noreturn void fd_cli_usage_error(const struct fd_cli *cli, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", cli->tool);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", cli->short_usage ? cli->short_usage : cli->usage);
	exit(FD_EUSAGE);
}

int fd_cli_report(const struct fd_cli *cli, const struct fd_err *err)
{
	int code = err && err->code ? err->code : FD_EIO;

	fd_cli_msg(cli, "%s", err && err->msg[0] ? err->msg : "unknown error");
	return code;
}

/* An actor is written into every audit entry: one line of 1 to 200 bytes, no control
 * characters, not only blanks.  Exit 2 otherwise. */
static void check_actor(const struct fd_cli *cli, const char *what, const char *s)
{
	char vis[64];
	size_t i, n = strlen(s);
	int blank = 1;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			fd_cli_usage_error(cli, "%s must not hold control characters: '%s'", what,
					   fd_visible(vis, sizeof(vis), s, n));
		if (c != ' ')
			blank = 0;
	}
	if (n == 0 || blank || n > 200)
		fd_cli_usage_error(cli, "%s needs a name of 1 to 200 bytes, not only blanks: '%s'", what,
				   fd_visible(vis, sizeof(vis), s, n));
}

int fd_cli_option(struct fd_cli *cli, int c, const char *arg)
{
	switch (c) {
	case 'h':
		fputs(cli->usage, stdout);
		exit(fd_cli_close_stdout(cli));
	case FD_OPT_VERSION:
		printf("%s %s\n", cli->tool, FD_VERSION);
		exit(fd_cli_close_stdout(cli));
	case 'q':
		cli->quiet = 1;
		cli->progress = 0;
		return 1;
	case FD_OPT_STORE:
		if (!*arg)
			fd_cli_usage_error(cli, "--store needs a file name");
		cli->store = arg;
		cli->store_given = 1;
		cli->store_opt = 1;
		return 1;
	case FD_OPT_FORMAT:
		cli->format = fd_format_parse(arg);
		if (cli->format < 0)
			fd_cli_usage_error(cli, "--format must be csv or ndjson, not '%s'", arg);
		return 1;
	case FD_OPT_ACTOR:
		check_actor(cli, "--actor", arg);
		cli->actor = arg;
		return 1;
	case FD_OPT_METRICS:
		if (!*arg)
			fd_cli_usage_error(cli, "--metrics needs a file name");
		cli->metrics = arg;
		return 1;
	case FD_OPT_PROGRESS:
		cli->progress = 1;
		return 1;
	case FD_OPT_NO_PROGRESS:
		cli->progress = 0;
		return 1;
	case FD_OPT_EXCEL_SAFE:
		cli->excel_safe = 1;
		return 1;
	case '?':
	case ':':
		/* getopt_long already said which option; add the usage */
		fprintf(stderr, "%s", cli->usage);
		exit(FD_EUSAGE);
	default:
		return 0;
	}
}

void fd_cli_finish(struct fd_cli *cli)
{
	struct fd_err err;
	const char *e;

	if (!cli->store) {
		e = getenv("FD_STORE");
		if (e && *e) {
			cli->store = e;
			cli->store_given = 1;
		} else
			cli->store = "fd.db";
	}
	if (!cli->actor) {
		e = getenv("FD_ACTOR");
		if (e) {
			check_actor(cli, "FD_ACTOR", e);
			cli->actor = e;
		}
	}
	if (!cli->actor) {
		struct passwd pw, *res = NULL;
		char buf[1024];

		e = getlogin();
		if (!e || !*e) {
			if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 && res)
				e = res->pw_name;
		}
		if (!e || !*e)
			e = getenv("USER");
		snprintf(cli->actor_buf, sizeof(cli->actor_buf), "%s", e && *e ? e : "unknown");
		cli->actor = cli->actor_buf;
	}
	if (cli->quiet)
		cli->progress = 0;
	if (fd_out_protect(cli->store, 1, &err) || fd_out_protect(cli->map_spec, 0, &err))
		exit(fd_cli_report(cli, &err));
	if (fd_out_check(cli->metrics, &err))
		exit(fd_cli_report(cli, &err));
}

void fd_cli_inputs(const struct fd_cli *cli, int n, char *const *paths)
{
	struct fd_err err;
	int i;

	for (i = 0; i < n; i++)
		if (fd_out_protect(paths[i], 0, &err))
			exit(fd_cli_report(cli, &err));
	if (fd_out_check(cli->metrics, &err))
		exit(fd_cli_report(cli, &err));
}

static int parse_ll(const char *s, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return !(*s == '\0' || *end != '\0' || errno);
}

long long fd_cli_int(const struct fd_cli *cli, const char *opt, const char *arg, long long min, long long max)
{
	long long v;

	if (!parse_ll(arg, &v) || v < min || v > max)
		fd_cli_usage_error(cli, "%s needs a whole number from %lld to %lld, not '%s'", opt, min, max, arg);
	return v;
}

double fd_cli_double(const struct fd_cli *cli, const char *opt, const char *arg, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (*arg == '\0' || *end != '\0' || errno || !isfinite(v) || v < min || v > max)
		fd_cli_usage_error(cli, "%s needs a number from %g to %g, not '%s'", opt, min, max, arg);
	return v;
}

char fd_cli_delimiter(const struct fd_cli *cli, const char *s)
{
	if (strcmp(s, "tab") == 0 || strcmp(s, "\\t") == 0 || strcmp(s, "\t") == 0)
		return '\t';
	if (strlen(s) != 1 || s[0] == '"' || s[0] == '\n' || s[0] == '\r')
		fd_cli_usage_error(cli, "--delimiter needs one character other than a quote or newline, or 'tab', not '%s'", s);
	return s[0];
}

int fd_cli_input_option(struct fd_cli *cli, int c, const char *arg)
{
	struct fd_cli_input *in = &cli->input;
	const char *why;

	switch (c) {
	case FD_OPT_DATE_FORMAT:
		if ((why = fd_datefmt_check(arg)))
			fd_cli_usage_error(cli, "--date-format '%s': %s", arg, why);
		if (in->nformats == FD_CLI_MAX_DATE_FORMATS)
			fd_cli_usage_error(cli, "--date-format given more than %d times", FD_CLI_MAX_DATE_FORMATS);
		in->formats[in->nformats++] = arg;
		return 1;
	case FD_OPT_DECIMAL_COMMA:
		in->decimal_comma = 1;
		return 1;
	case FD_OPT_ROUND_AMOUNTS:
		in->round_amounts = 1;
		return 1;
	case FD_OPT_AMOUNT_SIGN:
		if ((in->amount_sign = fd_amount_sign_parse(arg)) < 0)
			fd_cli_usage_error(cli, "--amount-sign must be signed or debit-negative, not '%s'", arg);
		return 1;
	case FD_OPT_ENCODING:
		if (!*arg || strlen(arg) > 32)
			fd_cli_usage_error(cli, "--encoding needs an encoding name (utf-8, auto, windows-1252, ...)");
		in->encoding = arg;
		return 1;
	case FD_OPT_DST:
		if ((in->dst_policy = fd_tz_dst_parse(arg)) < 0)
			fd_cli_usage_error(cli, "--dst must be earlier, later or reject, not '%s'", arg);
		return 1;
	default:
		return 0;
	}
}

void fd_cli_input_tz(struct fd_cli *cli, const char *tz, int *offset_min)
{
	struct fd_err err = {0};
	int rc;

	if (!tz)
		return;
	cli->input.tz_arg = tz;
	if ((rc = fd_tz_load(&cli->input.tz, tz, &err))) {
		if (rc == FD_EUSAGE)
			fd_cli_usage_error(cli, "--tz '%s': %s", tz, err.msg);
		fd_cli_msg(cli, "--tz '%s': %s", tz, err.msg);
		exit(rc);
	}
	if (fd_tz_fixed(cli->input.tz, offset_min)) {
		/* a fixed offset needs no zone: the plain parser takes it */
		fd_tz_free(cli->input.tz);
		cli->input.tz = NULL;
	}
}

void fd_cli_feat_zone(const struct fd_cli *cli, int offset_min, struct fd_feat_opts *fo)
{
	if (!cli->input.tz_arg)
		return;
	fo->zone = cli->input.tz;
	fo->zone_fixed = cli->input.tz == NULL;
	fo->zone_offset_min = offset_min;
	fo->zone_name = cli->input.tz_arg;
}

void fd_cli_input_apply(const struct fd_cli *cli, struct fd_txnstream_opts *so)
{
	const struct fd_cli_input *in = &cli->input;

	so->tz = in->tz;
	so->dst_policy = in->dst_policy;
	so->date_formats = in->nformats ? in->formats : NULL;
	so->amount_flags = (in->decimal_comma ? FD_AMT_DECIMAL_COMMA : 0) |
			   (in->round_amounts ? FD_AMT_ROUND : 0);
	so->amount_sign = in->amount_sign;
	so->encoding = in->encoding;
}

int fd_cli_input_json(const struct fd_cli *cli, struct fd_buf *out)
{
	const struct fd_cli_input *in = &cli->input;
	const char *enc = in->encoding ? in->encoding : "utf-8";
	int i, rc = 0;

	if (in->tz_arg) {  /* an IANA zone or a fixed offset, as given: fd_tz_load reads both */
		const char *name = in->tz ? fd_tz_name(in->tz) : in->tz_arg;

		rc |= fd_buf_adds(out, ",\"tz\":");
		rc |= fd_buf_add_json_str(out, name, strlen(name));
	}
	if (in->tz)
		rc |= fd_buf_addf(out, ",\"dst\":\"%s\"", fd_tz_dst_name(in->dst_policy));
	if (in->nformats) {
		rc |= fd_buf_adds(out, ",\"date_formats\":[");
		for (i = 0; i < in->nformats; i++) {
			if (i)
				rc |= fd_buf_addc(out, ',');
			rc |= fd_buf_add_json_str(out, in->formats[i], strlen(in->formats[i]));
		}
		rc |= fd_buf_addc(out, ']');
	}
	rc |= fd_buf_addf(out, ",\"decimal_comma\":%s,\"round_amounts\":%s,\"amount_sign\":\"%s\",\"encoding\":",
			  in->decimal_comma ? "true" : "false", in->round_amounts ? "true" : "false",
			  in->amount_sign == FD_SIGN_DEBIT_NEGATIVE ? "debit-negative" : "signed");
	rc |= fd_buf_add_json_str(out, enc, strlen(enc));
	return rc ? -1 : 0;
}

const char *fd_cli_parse_ts(const struct fd_cli *cli, const char *arg, int tz_offset_min, int64_t *ms)
{
	struct fd_tsopts o = {NULL, cli->input.tz, cli->input.dst_policy};

	if (!cli->input.tz)
		return fd_parse_ts(arg, strlen(arg), tz_offset_min, ms);
	return fd_parse_ts_opts(arg, strlen(arg), &o, ms);
}

int64_t fd_cli_time(const struct fd_cli *cli, const char *opt, const char *arg, int tz_offset_min)
{
	int64_t ms = 0;
	const char *why = fd_cli_parse_ts(cli, arg, tz_offset_min, &ms);
	char vis[128];

	if (why)
		fd_cli_usage_error(cli, "%s '%s': %s", opt, fd_visible(vis, sizeof(vis), arg, strlen(arg)), why);
	return ms;
}

int64_t fd_cli_duration(const struct fd_cli *cli, const char *opt, const char *arg)
{
	int64_t ms = 0;
	const char *why = fd_parse_duration(arg, &ms);
	char vis[128];

	if (why)
		fd_cli_usage_error(cli, "%s '%s': %s", opt, fd_visible(vis, sizeof(vis), arg, strlen(arg)), why);
	return ms;
}

void fd_cli_input_release(struct fd_cli *cli)
{
	fd_tz_free(cli->input.tz);
	cli->input.tz = NULL;
	fd_colmap_free(cli->map);
	cli->map = NULL;
}

int fd_cli_close_stdout(const struct fd_cli *cli)
{
	int bad = fflush(stdout) != 0 || ferror(stdout);

	if (fclose(stdout) != 0)
		bad = 1;
	if (bad) {
		fprintf(stderr, "%s: write error on standard output: %s\n", cli->tool, strerror(errno));
		return FD_EIO;
	}
	return 0;
}

double fd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void human_bytes(char *buf, size_t n, double b)
{
	const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int i = 0;

	while (b >= 1024 && i < 4) {
		b /= 1024;
		i++;
	}
	snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

void fd_cli_progress(struct fd_cli *cli, int64_t records, uint64_t bytes, int64_t total)
{
	double now, el;
	char rb[32], tb[32];

	if (!cli->progress)
		return;
	now = fd_now();
	if (now - cli->t_last < 0.25)
		return;
	cli->t_last = now;
	el = now - cli->t_start;
	human_bytes(rb, sizeof(rb), (double)bytes);
	fprintf(stderr, "\r%s: %lld records, %.0f records/s, %s", cli->tool, (long long)records,
		el > 0 ? (double)records / el : 0.0, rb);
	if (total > 0) {
		human_bytes(tb, sizeof(tb), (double)total);
		fprintf(stderr, " of %s (%.0f%%)", tb, 100.0 * (double)bytes / (double)total);
	}
	fputs("\033[K", stderr);
}

void fd_cli_progress_end(struct fd_cli *cli)
{
	if (cli->progress && cli->t_last > 0)
		fputs("\r\033[K", stderr);
}

/* ---- option groups ----------------------------------------------------------------------- */

#define ALWAYS 0u  /* the options of every tool */

static const struct {
	unsigned group;
	struct fd_cli_opt o;
} group_opts[] = {
	{FD_CLI_G_STORE, {"store", required_argument, FD_OPT_STORE,
		"  --store PATH        evidence store (default $FD_STORE, else ./fd.db)\n"}},
	{FD_CLI_G_INPUT, {"map", required_argument, FD_OPT_MAP,
		"  --map SPEC          column mapping file, or a preset: fd, sparkov\n"}},
	{FD_CLI_G_INPUT, {"delimiter", required_argument, FD_OPT_DELIMITER,
		"  --delimiter C       CSV input field delimiter: ',' ';' 'tab' '|' (default ',')\n"}},
	{FD_CLI_G_INPUT, {"currency", required_argument, FD_OPT_CURRENCY,
		"  --currency CODE     currency of rows without one (default USD)\n"}},
	{FD_CLI_G_INPUT, {"tz", required_argument, FD_OPT_TZ,
		"  --tz TZ             zone of timestamps without one: UTC, +HH:MM, or an IANA name such as\n"
		"                      Europe/Berlin (default UTC)\n"}},
	{FD_CLI_G_INPUT, {"dst", required_argument, FD_OPT_DST,
		"  --dst POLICY        local times that a DST change repeats or skips in --tz: earlier,\n"
		"                      later or reject (default earlier)\n"}},
	{FD_CLI_G_INPUT, {"date-format", required_argument, FD_OPT_DATE_FORMAT,
		"  --date-format FMT   timestamps as FMT (%d.%m.%Y %H:%M ...); may be repeated, tried in order\n"}},
	{FD_CLI_G_INPUT, {"decimal-comma", no_argument, FD_OPT_DECIMAL_COMMA,
		"  --decimal-comma     amounts with a decimal comma (1.234,56)\n"}},
	{FD_CLI_G_INPUT, {"round-amounts", no_argument, FD_OPT_ROUND_AMOUNTS,
		"  --round-amounts     round amounts with more decimals than the currency has (half even)\n"}},
	{FD_CLI_G_INPUT, {"amount-sign", required_argument, FD_OPT_AMOUNT_SIGN,
		"  --amount-sign S     signed (negative = reversal, default) or debit-negative (statements)\n"}},
	{FD_CLI_G_INPUT, {"encoding", required_argument, FD_OPT_ENCODING,
		"  --encoding NAME     input encoding: utf-8 (default), auto, windows-1252, iso-8859-15, ...\n"}},
	{FD_CLI_G_STRICT, {"strict", no_argument, FD_OPT_STRICT,
		"  --strict            stop at the first bad record (exit 3) instead of skipping it\n"}},
	{FD_CLI_G_FORMAT, {"format", required_argument, FD_OPT_FORMAT,
		"  --format FMT        output csv or ndjson (default: the input's format)\n"}},
	{FD_CLI_G_OUTPUT, {"output", required_argument, 'o',
		"  -o, --output FILE   write there (atomically) instead of standard output\n"}},
	{FD_CLI_G_EXCEL, {"excel-safe", no_argument, FD_OPT_EXCEL_SAFE,
		"  --excel-safe        quote CSV text that a spreadsheet would run as a formula\n"}},
	{FD_CLI_G_ACTOR, {"actor", required_argument, FD_OPT_ACTOR,
		"  --actor NAME        who is acting (default $FD_ACTOR, else the login name)\n"}},
	{FD_CLI_G_METRICS, {"metrics", required_argument, FD_OPT_METRICS,
		"  --metrics FILE      write Prometheus textfile metrics there\n"}},
	{ALWAYS, {"quiet", no_argument, 'q',
		"  -q, --quiet         no summary on stderr\n"}},
	{FD_CLI_G_PROGRESS, {"progress", no_argument, FD_OPT_PROGRESS,
		"  --progress, --no-progress   force the progress meter on or off\n"}},
	{FD_CLI_G_PROGRESS, {"no-progress", no_argument, FD_OPT_NO_PROGRESS, NULL}},
	{ALWAYS, {"help", no_argument, 'h',
		"  -h, --help          show this help\n"}},
	{ALWAYS, {"version", no_argument, FD_OPT_VERSION,
		"  --version           show the version\n"}},
};
#define NGROUP_OPTS (sizeof(group_opts) / sizeof(group_opts[0]))
#define MAX_OPTS 160

/* What fd_cli_setup built: one tool's tables per process. */
static struct option built_long[MAX_OPTS + 1];
static int built_tool[MAX_OPTS];  /* 1: fd_cli_getopt returns the code to the tool */
static char built_short[2 * MAX_OPTS + 2];
static struct fd_buf built_usage = FD_BUF_INIT;
static struct fd_buf built_short_usage = FD_BUF_INIT;

/* The synopsis lines of a usage ("usage: ..." and the "       fd-x ..." under it), and where
 * the rest is. */
static int short_usage(struct fd_buf *b, const char *tool, const char *synopsis)
{
	const char *p = synopsis;
	int bad = 0;

	fd_buf_reset(b);
	while (*p && (strncmp(p, "usage:", 6) == 0 || strncmp(p, "       ", 7) == 0)) {
		size_t n = strcspn(p, "\n");

		bad |= fd_buf_add(b, p, n) || fd_buf_addc(b, '\n');
		p += n + (p[n] == '\n');
	}
	bad |= fd_buf_addf(b, "Try '%s --help' for the options.\n", tool);
	return bad;
}

static const struct fd_cli_opt *tool_opt(const struct fd_cli_opt *opts, const char *name, size_t n)
{
	for (; opts && opts->name; opts++)
		if (strlen(opts->name) == n && memcmp(opts->name, name, n) == 0)
			return opts;
	return NULL;
}

static int in_groups(unsigned groups, size_t i)
{
	return group_opts[i].group == ALWAYS || (group_opts[i].group & groups);
}

void fd_cli_setup(struct fd_cli *cli, const char *tool, const char *synopsis, unsigned groups,
		  const struct fd_cli_opt *opts)
{
	const struct fd_cli_opt *o;
	size_t i, n = 0, ns = 0;
	int bad = 0;

	fd_buf_reset(&built_usage);
	bad |= fd_buf_adds(&built_usage, synopsis);
	for (o = opts; o && o->name; o++) {
		if (o->help)
			bad |= fd_buf_adds(&built_usage, o->help);
		for (i = 0; !o->help && !o->val && i < NGROUP_OPTS; i++)  /* the group's own lines, here */
			if (strcmp(group_opts[i].o.name, o->name) == 0 && group_opts[i].o.help)
				bad |= fd_buf_adds(&built_usage, group_opts[i].o.help);
		if (n == MAX_OPTS)
			abort();  /* a table larger than this is a programming error */
		built_long[n] = (struct option){o->name, o->has_arg, NULL, o->val};
		built_tool[n] = o->val != 0;
		for (i = 0; i < NGROUP_OPTS; i++)  /* a help-only replacement keeps the group's code */
			if (!o->val && strcmp(group_opts[i].o.name, o->name) == 0) {
				built_long[n].has_arg = group_opts[i].o.has_arg;
				built_long[n].val = group_opts[i].o.val;
			}
		n++;
	}
	for (i = 0; i < NGROUP_OPTS; i++) {
		const struct fd_cli_opt *g = &group_opts[i].o;

		if (!in_groups(groups, i) || tool_opt(opts, g->name, strlen(g->name)))
			continue;
		if (g->help)
			bad |= fd_buf_adds(&built_usage, g->help);
		if (n == MAX_OPTS)
			abort();
		built_long[n] = (struct option){g->name, g->has_arg, NULL, g->val};
		built_tool[n] = 0;
		n++;
	}
	built_long[n] = (struct option){NULL, 0, NULL, 0};
	/* ':' first: a missing argument is reported as ':' (we word the message ourselves) */
	built_short[ns++] = ':';
	for (i = 0; i < n; i++)
		if (built_long[i].val > 0 && built_long[i].val < 256 && !strchr(built_short, built_long[i].val)) {
			built_short[ns++] = (char)built_long[i].val;
			if (built_long[i].has_arg == required_argument)
				built_short[ns++] = ':';
		}
	built_short[ns] = '\0';
	if (bad)
		abort();  /* out of memory before anything began */
	bad |= short_usage(&built_short_usage, tool, synopsis);
	if (bad)
		abort();
	fd_cli_init(cli, tool, built_usage.s);
	cli->short_usage = built_short_usage.s;
	cli->groups = groups;
	cli->opts = opts;
	opterr = 0;
}

int fd_cli_opt_arg(unsigned groups, const struct fd_cli_opt *opts, const char *name, size_t n)
{
	const struct fd_cli_opt *o = tool_opt(opts, name, n);
	size_t i;

	if (o && o->val)
		return o->has_arg == required_argument;
	for (i = 0; i < NGROUP_OPTS; i++)
		if (in_groups(groups, i) && strlen(group_opts[i].o.name) == n &&
		    memcmp(group_opts[i].o.name, name, n) == 0)
			return group_opts[i].o.has_arg == required_argument;
	return -1;
}

/* getopt_long's complaint, worded as glibc does but after "tool:" rather than argv[0]. */
static _Noreturn void bad_option(const struct fd_cli *cli, int c, char **argv)
{
	const char *a = optind > 0 ? argv[optind - 1] : "";
	char vis[128];

	if (a[0] == '-' && a[1] == '-') {
		size_t n = strcspn(a, "=");

		fd_visible(vis, sizeof(vis), a, n);
		if (c == ':')
			fd_cli_usage_error(cli, "option '%s' requires an argument", vis);
		if (a[n] == '=' && fd_cli_opt_arg(cli->groups, cli->opts, a + 2, n - 2) == 0)
			fd_cli_usage_error(cli, "option '%s' doesn't allow an argument", vis);
		fd_cli_usage_error(cli, "unrecognized option '%s'", vis);
	}
	fd_visible(vis, sizeof(vis), (char[]){(char)optopt}, 1);
	if (c == ':')
		fd_cli_usage_error(cli, "option requires an argument -- '%s'", vis);
	fd_cli_usage_error(cli, "invalid option -- '%s'", vis);
}

/* The groups' own options (those fd_cli_option does not know). */
static int group_option(struct fd_cli *cli, int c, const char *arg)
{
	char vis[64];

	switch (c) {
	case 'o':
		if (!*arg)
			fd_cli_usage_error(cli, "--output needs a file name");
		cli->output = arg;
		return 1;
	case FD_OPT_MAP:
		if (!*arg)
			fd_cli_usage_error(cli, "--map needs a file name or a preset");
		cli->map_spec = arg;
		return 1;
	case FD_OPT_DELIMITER:
		cli->delimiter = fd_cli_delimiter(cli, arg);
		return 1;
	case FD_OPT_CURRENCY:
		if (strlen(arg) != 3 || fd_currency_exponent(arg) < 0)
			fd_cli_usage_error(cli, "--currency '%s' is not an ISO 4217 code (upper case, e.g. EUR)",
					   fd_visible(vis, sizeof(vis), arg, strlen(arg)));
		cli->currency = arg;
		return 1;
	case FD_OPT_TZ:
		cli->tz = arg;
		return 1;
	case FD_OPT_STRICT:
		cli->strict = 1;
		return 1;
	default:
		return fd_cli_input_option(cli, c, arg) || fd_cli_option(cli, c, arg);
	}
}

int fd_cli_getopt(struct fd_cli *cli, int argc, char **argv)
{
	int c, idx;

	for (;;) {
		idx = -1;
		c = getopt_long(argc, argv, built_short, built_long, &idx);
		if (c == -1)
			return -1;
		if (c == '?' || c == ':')
			bad_option(cli, c, argv);
		if (idx < 0) {  /* a short option: find its entry */
			for (idx = 0; built_long[idx].name; idx++)
				if (built_long[idx].val == c)
					break;
			if (!built_long[idx].name)
				idx = -1;
		}
		if (idx >= 0 && built_tool[idx])
			return c;
		if (!group_option(cli, c, optarg))
			return c;  /* a code of the tool's own that it did not name (not expected) */
	}
}

int fd_cli_getopt_head(struct fd_cli *cli, int argc, char **argv)
{
	size_t n = strlen(built_short);
	int c;

	memmove(built_short + 1, built_short, n + 1);
	built_short[0] = '+';  /* stop at the first operand */
	c = fd_cli_getopt(cli, argc, argv);
	memmove(built_short, built_short + 1, n + 1);
	return c;
}

void fd_cli_setup_command(struct fd_cli *cli, const char *synopsis, unsigned groups, const struct fd_cli_opt *opts)
{
	struct fd_cli keep = *cli;
	const char *usage, *short_usage;

	fd_cli_setup(cli, keep.tool, synopsis, groups, opts);
	usage = cli->usage;
	short_usage = cli->short_usage;
	*cli = keep;
	cli->usage = usage;
	cli->short_usage = short_usage;
	cli->groups = groups;
	cli->opts = opts;
}

int fd_cli_input_open(struct fd_cli *cli, struct fd_txnstream_opts *so, struct fd_err *err)
{
	fd_cli_input_tz(cli, cli->tz, &so->tz_offset_min);
	fd_cli_input_apply(cli, so);
	so->delimiter = cli->delimiter;
	so->currency = cli->currency;
	if (cli->map_spec && !cli->map) {
		int rc = fd_colmap_load(&cli->map, cli->map_spec, err);

		if (rc)
			return rc;
	}
	so->map = cli->map;
	return FD_OK;
}

int fd_cli_output_open(const struct fd_cli *cli, struct fd_out **out, struct fd_err *err)
{
	return fd_out_open(out, cli->output, NULL, err);
}

/* ---- bad records -------------------------------------------------------------------------- */

static int whole_record(const char *field)
{
	return !field || !*field || strcmp(field, "record") == 0;
}

void fd_cli_bad_record(const struct fd_cli *cli, const char *where, const char *field, const char *msg,
		       const char *outcome)
{
	if (whole_record(field))
		fd_cli_msg(cli, "%s: %s (%s)", where, msg, outcome);
	else
		fd_cli_msg(cli, "%s: field '%s': %s (%s)", where, field, msg, outcome);
}

int fd_cli_bad_err(struct fd_err *err, const char *where, const char *field, const char *msg,
		   const char *outcome)
{
	if (whole_record(field))
		return fd_err_set(err, FD_EINPUT, "%s: %s (%s)", where, msg, outcome);
	return fd_err_set(err, FD_EINPUT, "%s: field '%s': %s (%s)", where, field, msg, outcome);
}

/* ---- the loop over transactions ----------------------------------------------------------- */

#define PROGRESS_EVERY 65536

struct fd_cli_txns {
	struct fd_cli *cli;
	struct fd_txnsrc *src;         /* time order, or the store */
	struct fd_txnstream *ts;       /* any order: the current file */
	struct fd_txnstream_opts so;
	const char *const *paths;
	size_t npaths, cur;
	int fmt, done;
	int64_t records, bad;
	const char *strict_note;
	char where[FD_TEXT_MAX];
};

int fd_cli_txns_open(struct fd_cli_txns **rp, struct fd_cli *cli, const struct fd_txnsrc_opts *o, int any_order,
		     struct fd_err *err)
{
	struct fd_cli_txns *r = calloc(1, sizeof(*r));
	int rc;

	*rp = NULL;
	if (!r)
		return fd_err_set(err, FD_EIO, "out of memory");
	r->cli = cli;
	r->fmt = FD_FMT_CSV;
	r->strict_note = "stopped here";
	if (any_order && !o->store) {
		static const char *const stdin_only[] = {"-"};

		r->so = o->stream;
		r->paths = o->npaths ? o->paths : stdin_only;
		r->npaths = o->npaths ? o->npaths : 1;
	} else if ((rc = fd_txnsrc_open(&r->src, o, err))) {
		free(r);
		return rc;
	}
	*rp = r;
	return FD_OK;
}

const char *fd_cli_txns_where(struct fd_cli_txns *r)
{
	if (r->src)
		return fd_txnsrc_where(r->src);
	if (r->ts) {
		snprintf(r->where, sizeof(r->where), "%s:%lld", fd_txnstream_name(r->ts),
			 (long long)fd_txnstream_line(r->ts));
		return r->where;
	}
	return "input";
}

/* The next record of the files read in any order: as fd_txnsrc_next. */
static int next_any(struct fd_cli_txns *r, struct fd_txn *t, struct fd_txn_bad *bad, struct fd_err *err)
{
	int rc;

	for (;;) {
		if (!r->ts) {
			const char *p;

			if (r->cur >= r->npaths)
				return 0;
			p = r->paths[r->cur++];
			if ((rc = fd_txnstream_open(&r->ts, strcmp(p, "-") ? p : NULL, strcmp(p, "-") ? p : "<stdin>",
						    &r->so, err)))
				return -rc;
			if (r->cur == 1)
				r->fmt = fd_txnstream_format(r->ts);
		}
		rc = fd_txnstream_next(r->ts, t, bad, err);
		if (rc != 0)
			return rc;
		fd_txnstream_free(r->ts);
		r->ts = NULL;
	}
}

int fd_cli_txns_next(struct fd_cli_txns *r, struct fd_txn *t, int *warm, struct fd_err *err)
{
	struct fd_txn_bad bad;
	int rc, w = 0;

	for (;;) {
		rc = r->src ? fd_txnsrc_next(r->src, t, &w, &bad, err) : next_any(r, t, &bad, err);
		if (rc == 0)
			r->done = 1;
		if (rc <= 0)
			return rc;
		r->records++;
		if ((r->records & (PROGRESS_EVERY - 1)) == 0)
			fd_cli_progress(r->cli, r->records, r->src ? fd_txnsrc_bytes(r->src) : 0, -1);
		if (rc == 1 && w && !warm)
			continue;  /* the caller has no use for warm-up history */
		if (rc == 1) {
			if (warm)
				*warm = w;
			return 1;
		}
		r->bad++;
		if (r->cli->strict) {
			char note[128];

			snprintf(note, sizeof(note), "--strict: %s", r->strict_note);
			return -fd_cli_bad_err(err, fd_cli_txns_where(r), bad.field < 0 ? NULL : bad.field_name, bad.msg,
					       note);
		}
		if (!r->cli->quiet && r->bad <= FD_CLI_SHOWN_BAD) {
			fd_cli_progress_end(r->cli);
			fd_cli_bad_record(r->cli, fd_cli_txns_where(r), bad.field < 0 ? NULL : bad.field_name, bad.msg,
					  "skipped");
		}
	}
}

int fd_cli_txns_format(const struct fd_cli_txns *r)
{
	return r->src ? fd_txnsrc_format(r->src) : r->fmt;
}

int64_t fd_cli_txns_bad(const struct fd_cli_txns *r)
{
	return r ? r->bad : 0;
}

void fd_cli_txns_strict_note(struct fd_cli_txns *r, const char *note)
{
	r->strict_note = note;
}

void fd_cli_txns_free(struct fd_cli_txns *r)
{
	if (!r)
		return;
	if (r->done && !r->cli->quiet && r->bad > FD_CLI_SHOWN_BAD)
		fd_cli_msg(r->cli, "... and %lld more bad records skipped", (long long)(r->bad - FD_CLI_SHOWN_BAD));
	fd_txnsrc_free(r->src);
	fd_txnstream_free(r->ts);
	free(r);
}
