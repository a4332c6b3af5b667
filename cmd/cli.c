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
	fprintf(stderr, "\n%s", cli->usage);
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
	if (fd_out_protect(cli->store, 1, &err))
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
