/*
 * fd-case — case management over the evidence store: create, work and close cases, link
 * evidence, find related transactions, rank the queue, open cases from HIGH scores, manage
 * users, and write reports and the dashboard.  See man/fd-case.1; the logic is lib/fd_case.c
 * and lib/fd_report.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "fd_buf.h"
#include "fd_case.h"
#include "fd_case_sla.h"
#include "fd_intern.h"
#include "fd_io.h"
#include "fd_metrics.h"
#include "fd_num.h"
#include "fd_reader.h"
#include "fd_report.h"
#include "fd_store.h"
#include "fd_txn.h"
#include "fd_writer.h"
#include "banned.h"

static const char usage[] =
	"usage: fd-case [options] COMMAND [ARGS]\n"
	"Case management over the evidence store.\n"
	"\n"
	"Commands:\n"
	"  create TITLE [--description D] [--priority P] [--txn ID]... [--entity REF [--role R]]...\n"
	"  list [--status S] [--assignee U] [--priority P] [--entity REF] [--since TS] [--until TS]\n"
	"       [--origin manual|auto] [--sort KEY] [--desc] [--limit N]\n"
	"  show ID\n"
	"  status ID NEW [--note TEXT]\n"
	"  assign ID USER | assign ID --auto\n"
	"  assign (--to USER | --auto [--pick P]) (ID... | --all | selection)\n"
	"  note ID TEXT | note ID --file F [--name NAME] [TEXT]\n"
	"  link ID [--txn ID [--reason R]]... [--entity REF [--role R]]...\n"
	"  related ID [--limit N] [--near DUR] [--amount-tolerance PCT] [--amount-window DUR]\n"
	"  prioritize [--limit N]\n"
	"  auto [--window DUR] [--level L] [--since TS] [--until TS] [--min-risk N] [--assign [--pick P]]\n"
	"       [FILE...]\n"
	"  sla [--sla P=DUR[,P=DUR]] [--near PCT] [--all] [--limit N] [selection]\n"
	"  duplicates\n"
	"  merge KEEP DUP [--note TEXT]\n"
	"  user add NAME --role ROLE | user list | user disable NAME | user enable NAME\n"
	"  report ID [--format md|html] [-o FILE]\n"
	"  dashboard --html FILE\n"
	"\n";

enum {
	OPT_NOW = FD_OPT_TOOL_BASE,
	OPT_TITLE, OPT_DESC, OPT_PRIO, OPT_TXN, OPT_ENTITY, OPT_ROLE, OPT_NOTE, OPT_REASON,
	OPT_STATUS, OPT_ASSIGNEE, OPT_SINCE, OPT_UNTIL, OPT_ORIGIN, OPT_SORT, OPT_DESCENDING, OPT_LIMIT,
	OPT_AUTO, OPT_FILE, OPT_NAME, OPT_NEAR, OPT_TOL, OPT_AMT_WINDOW, OPT_WINDOW, OPT_MIN_RISK,
	OPT_ASSIGN, OPT_RFORMAT, OPT_OUTPUT, OPT_HTML, OPT_LEVEL, OPT_UNASSIGNED, OPT_OLDER, OPT_SLA, OPT_ALL, OPT_TO, OPT_PICK,
};

/* The common options (before or after the command), at the end of every command's table. */
#define TAIL_OPTS \
	{"store", required_argument, 0, "Common options (before or after the command):\n" \
		"  --store PATH        evidence store (default $FD_STORE, else ./fd.db)\n"}, \
	{"actor", required_argument, 0, NULL}, \
	{"format", required_argument, 0, "  --format FMT        list output as csv or ndjson instead of a table\n"}, \
	{"excel-safe", no_argument, 0, \
		"  --excel-safe        CSV list output: quote text a spreadsheet would run as a formula\n"}, \
	{"now", required_argument, OPT_NOW, "  --now TS            take TS as the current time (ages, report dates)\n"}, \
	{"metrics", required_argument, 0, NULL}, \
	{"quiet", no_argument, 0, "  -q, --quiet         no confirmation messages on stderr\n"}, \
	{"help", no_argument, 0, "  -h, --help          show this help (COMMAND --help: the command's)\n"}, \
	{"version", no_argument, 0, NULL}, \
	{NULL, 0, 0, NULL}
#define GROUPS (FD_CLI_G_STORE | FD_CLI_G_ACTOR | FD_CLI_G_FORMAT | FD_CLI_G_EXCEL | FD_CLI_G_METRICS)

struct app {
	struct fd_cli cli;
	struct fd_store *st;
	struct fd_err err;
	int64_t now;
	double t0;
	const char *cmd;
	struct fd_metrics *metrics;
};

/* ---- option plumbing ---------------------------------------------------------------------- */

static void common_option(struct app *a, int c, const char *arg)
{
	if (c == OPT_NOW) {
		if (fd_parse_ts(arg, strlen(arg), 0, &a->now))
			fd_cli_usage_error(&a->cli, "--now needs a timestamp (e.g. 2026-11-24T13:05:00Z), not '%s'", arg);
		return;
	}
	if (!fd_cli_option(&a->cli, c, arg))
		fd_cli_usage_error(&a->cli, "unexpected option");
}

static int64_t parse_id(struct app *a, const char *s)
{
	return fd_cli_int(&a->cli, "a case ID", s, 1, INT64_MAX);
}

/* Comma-separated names into a bit mask. */
static unsigned parse_mask(struct app *a, const char *opt, const char *s, int (*parse)(const char *),
			   const char *const *names, int n)
{
	char buf[64];
	const char *p = s, *c;
	unsigned m = 0;

	for (;;) {
		size_t len;
		int v, i;

		c = strchr(p, ',');
		len = c ? (size_t)(c - p) : strlen(p);
		snprintf(buf, sizeof(buf), "%.*s", (int)(len < sizeof(buf) ? len : sizeof(buf) - 1), p);
		if ((v = len < sizeof(buf) ? parse(buf) : -1) < 0) {
			struct fd_buf all = FD_BUF_INIT;

			for (i = 0; i < n; i++)
				fd_buf_addf(&all, "%s%s", i ? ", " : "", names[i]);
			fd_cli_usage_error(&a->cli, "%s: unknown value '%s' (one of %s)", opt, buf, all.s);
		}
		m |= 1u << v;
		if (!c)
			break;
		p = c + 1;
	}
	return m;
}

static int open_store_flags(struct app *a, int flags)
{
	struct fd_who who;

	fd_cli_finish(&a->cli);
	if (a->now == INT64_MIN)
		a->now = fd_wall_ms();
	who.actor = a->cli.actor;
	who.tool = "fd-case";
	who.version = FD_VERSION;
	return fd_store_open(&a->st, a->cli.store, flags, &who, &a->err);
}

static int open_store(struct app *a)
{
	return open_store_flags(a, 0);
}

/* The commands that only read (list, show, related, prioritize, report, dashboard, user
 * list).  Opened for writing when it can be, so that a denied view is recorded in the audit
 * log; a store on read-only media or in a read-only directory is then opened read-only
 * (fd_store.h), where a denial can only be reported. */
static int open_store_ro(struct app *a)
{
	int rc = open_store_flags(a, 0);

	if (rc == FD_EIO && access(a->cli.store, R_OK) == 0) {
		fd_err_clear(&a->err);
		rc = open_store_flags(a, FD_STORE_READONLY);
	}
	return rc;
}

static void say(struct app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct app *a, const char *fmt, ...)
{
	va_list ap;

	if (a->cli.quiet)
		return;
	fflush(stdout);
	fprintf(stderr, "%s: ", a->cli.tool);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Records out as CSV or NDJSON on stdout. */
struct table {
	struct fd_out *out;
	struct fd_writer *w;
	int header;  /* text: the header line was printed */
};

static int table_open(struct app *a, struct table *t, const char *const *cols, size_t n)
{
	memset(t, 0, sizeof(*t));
	fflush(stdout);
	if (fd_out_open(&t->out, NULL, NULL, &a->err))
		return a->err.code;
	if (!(t->w = fd_writer_create(t->out, a->cli.format, cols, n))) {
		fd_out_abort(t->out);
		t->out = NULL;
		return fd_err_set(&a->err, FD_EIO, "out of memory");
	}
	fd_writer_excel_safe(t->w, a->cli.excel_safe);
	return FD_OK;
}

static int table_close(struct app *a, struct table *t)
{
	fd_writer_free(t->w);
	return fd_out_commit(t->out, &a->err);
}

/* ---- entity and transaction references in order (--txn/--reason/--note, --entity/--role) --- */

struct refs {
	struct fd_case_txn_ref *t;
	size_t nt;
	struct fd_case_entity_ref *e;
	size_t ne;
	int last;  /* 't' or 'e': what --note applies to */
};

static void refs_free(struct refs *r)
{
	free(r->t);
	free(r->e);
}

/* Handle a reference option; 1 when c was one. */
static int refs_option(struct app *a, struct refs *r, int c, const char *arg)
{
	void *p;

	switch (c) {
	case OPT_TXN:
		if (!*arg)
			fd_cli_usage_error(&a->cli, "--txn needs a transaction id");
		if (!(p = realloc(r->t, (r->nt + 1) * sizeof(*r->t))))
			fd_cli_usage_error(&a->cli, "out of memory");
		r->t = p;
		r->t[r->nt++] = (struct fd_case_txn_ref){arg, NULL, NULL};
		r->last = 't';
		return 1;
	case OPT_ENTITY:
		if (!*arg)
			fd_cli_usage_error(&a->cli, "--entity needs a reference (KIND:KEY or KEY)");
		if (!(p = realloc(r->e, (r->ne + 1) * sizeof(*r->e))))
			fd_cli_usage_error(&a->cli, "out of memory");
		r->e = p;
		r->e[r->ne++] = (struct fd_case_entity_ref){arg, FD_ER_RELATED, NULL};
		r->last = 'e';
		return 1;
	case OPT_REASON:
		if (!r->nt || r->last != 't')
			fd_cli_usage_error(&a->cli, "--reason follows the --txn it explains");
		r->t[r->nt - 1].reason = arg;
		return 1;
	case OPT_ROLE:
		if (!r->ne || r->last != 'e')
			fd_cli_usage_error(&a->cli, "--role follows the --entity it describes");
		if ((r->e[r->ne - 1].role = fd_entity_role_parse(arg)) < 0)
			fd_cli_usage_error(&a->cli, "--role must be SUSPECT, VICTIM, WITNESS or RELATED, not '%s'", arg);
		return 1;
	case OPT_NOTE:
		if (r->last == 't')
			r->t[r->nt - 1].note = arg;
		else if (r->last == 'e')
			r->e[r->ne - 1].note = arg;
		else
			fd_cli_usage_error(&a->cli, "--note follows the --txn or --entity it is about");
		return 1;
	default:
		return 0;
	}
}

#define REF_OPTS \
	{"txn", required_argument, OPT_TXN, NULL}, {"entity", required_argument, OPT_ENTITY, NULL}, \
	{"reason", required_argument, OPT_REASON, NULL}, {"role", required_argument, OPT_ROLE, NULL}, \
	{"note", required_argument, OPT_NOTE, NULL}

#define REF_HELP \
	"  --txn ID            a transaction of the case (repeatable)\n" \
	"  --reason TEXT       why the preceding --txn is included\n" \
	"  --entity REF        an entity: KIND:KEY (account, merchant, device, ip) or a bare KEY\n" \
	"  --role ROLE         the preceding --entity's role: SUSPECT, VICTIM, WITNESS, RELATED\n" \
	"                      (default RELATED)\n" \
	"  --note TEXT         a note on the preceding --txn or --entity\n"

/* ---- create ------------------------------------------------------------------------------------ */

static const char u_create[] =
	"usage: fd-case create TITLE [options]\n"
	"Open a case (status OPEN) with its transactions and entities; prints the new case's ID.\n"
	"\n"
	"  --title TEXT        the title (instead of the TITLE argument)\n"
	"  --description TEXT  what the case is about\n"
	"  --priority P        LOW, MEDIUM (default), HIGH or CRITICAL\n"
	REF_HELP "\n";

static int cmd_create(struct app *a, int argc, char **argv)
{
	static const struct fd_cli_opt o[] = {
		{"title", required_argument, OPT_TITLE, NULL}, {"description", required_argument, OPT_DESC, NULL},
		{"priority", required_argument, OPT_PRIO, NULL}, REF_OPTS, TAIL_OPTS,
	};
	struct fd_case_new c;
	struct refs r = {0};
	int64_t id;
	int ch, rc;

	memset(&c, 0, sizeof(c));
	c.priority = FD_PRIO_MEDIUM;
	fd_cli_setup_command(&a->cli, u_create, GROUPS, o);
	while ((ch = fd_cli_getopt(&a->cli, argc, argv)) != -1) {
		if (refs_option(a, &r, ch, optarg))
			continue;
		switch (ch) {
		case OPT_TITLE: c.title = optarg; break;
		case OPT_DESC: c.description = optarg; break;
		case OPT_PRIO:
			if ((c.priority = fd_case_priority_parse(optarg)) < 0)
				fd_cli_usage_error(&a->cli, "--priority must be LOW, MEDIUM, HIGH or CRITICAL, not '%s'", optarg);
			break;
		default: common_option(a, ch, optarg);
		}
	}
	if (!c.title && optind < argc)
		c.title = argv[optind++];
	if (!c.title)
		fd_cli_usage_error(&a->cli, "create: missing TITLE");
	if (optind < argc)
		fd_cli_usage_error(&a->cli, "create: unexpected argument '%s'", argv[optind]);
	c.txns = r.t;
	c.ntxns = r.nt;
	c.ents = r.e;
	c.nents = r.ne;
	if (!(rc = open_store(a)) && !(rc = fd_case_create(a->st, &c, &id, &a->err))) {
		printf("%lld\n", (long long)id);
		say(a, "created case %lld with %zu transaction%s and %zu entit%s", (long long)id, r.nt,
		    r.nt == 1 ? "" : "s", r.ne, r.ne == 1 ? "y" : "ies");
	}
	refs_free(&r);
	return rc;
}

/* ---- list -------------------------------------------------------------------------------------- */

static const char u_list[] =
	"usage: fd-case list [options]\n"
	"List cases, filtered and sorted (a table, or CSV / NDJSON with --format).\n"
	"\n"
	"  --status S[,S]      OPEN, IN_PROGRESS, CLOSED, FALSE_POSITIVE, DUPLICATE\n"
	"  --assignee USER     cases assigned to USER ('' = unassigned)\n"
	"  --priority P[,P]    LOW, MEDIUM, HIGH, CRITICAL\n"
	"  --entity REF        cases involving the entity (KIND:KEY or KEY)\n"
	"  --origin O          manual or auto\n"
	"  --since TS          created at or after TS\n"
	"  --until TS          created before TS\n"
	"  --sort KEY          id (default), created, updated, priority, status, risk, amount\n"
	"  --desc              sort in descending order\n"
	"  --limit N           at most N cases\n"
	"\n";

/* The amounts at stake: plain for CSV / NDJSON, with separators (human) for the table. */
static void amounts_text(const struct fd_case_summary *s, int human, char *buf, size_t n)
{
	struct fd_buf b = FD_BUF_INIT;

	fd_case_format_amounts(s->stake, s->nstake, human, &b);
	snprintf(buf, n, "%s", b.s ? b.s : "");
	fd_buf_release(&b);
}

static int cmd_list(struct app *a, int argc, char **argv)
{
	static const struct fd_cli_opt o[] = {
		{"status", required_argument, OPT_STATUS, NULL}, {"assignee", required_argument, OPT_ASSIGNEE, NULL},
		{"priority", required_argument, OPT_PRIO, NULL}, {"entity", required_argument, OPT_ENTITY, NULL},
		{"origin", required_argument, OPT_ORIGIN, NULL}, {"since", required_argument, OPT_SINCE, NULL},
		{"until", required_argument, OPT_UNTIL, NULL}, {"sort", required_argument, OPT_SORT, NULL},
		{"desc", no_argument, OPT_DESCENDING, NULL}, {"limit", required_argument, OPT_LIMIT, NULL}, TAIL_OPTS,
	};
	static const char *const cols[] = {"case_id", "title", "status", "priority", "assignee", "origin", "suspect",
					   "created_at", "updated_at", "txns", "entities", "max_risk", "at_stake"};
	struct fd_case_filter f;
	struct fd_case_summary *cs = NULL;
	size_t n = 0, i;
	int ch, rc;

	fd_case_filter_init(&f);
	fd_cli_setup_command(&a->cli, u_list, GROUPS, o);
	while ((ch = fd_cli_getopt(&a->cli, argc, argv)) != -1) {
		switch (ch) {
		case OPT_STATUS:
			f.status_mask = parse_mask(a, "--status", optarg, fd_case_status_parse, fd_case_status_name, FD_CASE_NSTATUS);
			break;
		case OPT_PRIO:
			f.priority_mask = parse_mask(a, "--priority", optarg, fd_case_priority_parse, fd_case_priority_name, FD_NPRIO);
			break;
		case OPT_ASSIGNEE: f.assignee = optarg; break;
		case OPT_ENTITY: f.entity = optarg; break;
		case OPT_ORIGIN:
			if (strcmp(optarg, "manual") != 0 && strcmp(optarg, "auto") != 0)
				fd_cli_usage_error(&a->cli, "--origin must be manual or auto, not '%s'", optarg);
			f.origin = optarg;
			break;
		case OPT_SINCE: f.since = fd_cli_time(&a->cli, "--since", optarg, 0); break;
		case OPT_UNTIL: f.until = fd_cli_time(&a->cli, "--until", optarg, 0); break;
		case OPT_SORT:
			if ((f.sort = fd_case_sort_parse(optarg)) < 0)
				fd_cli_usage_error(&a->cli, "--sort must be id, created, updated, priority, status, risk or amount, not '%s'", optarg);
			break;
		case OPT_DESCENDING: f.descending = 1; break;
		case OPT_LIMIT: f.limit = fd_cli_int(&a->cli, "--limit", optarg, 1, INT64_MAX); break;
		default: common_option(a, ch, optarg);
		}
	}
	if (optind < argc)
		fd_cli_usage_error(&a->cli, "list: unexpected argument '%s'", argv[optind]);
	if ((rc = open_store_ro(a)) || (rc = fd_case_list(a->st, &f, &cs, &n, &a->err)))
		return rc;
	if (a->cli.format != FD_FMT_AUTO) {
		struct table t;
		char stake[512];

		if (!(rc = table_open(a, &t, cols, sizeof(cols) / sizeof(cols[0])))) {
			for (i = 0; i < n; i++) {
				const struct fd_case_summary *s = &cs[i];

				amounts_text(s, 0, stake, sizeof(stake));
				fd_writer_begin(t.w);
				fd_writer_i64(t.w, s->id);
				fd_writer_cstr(t.w, s->title);
				fd_writer_cstr(t.w, fd_case_status_name[s->status]);
				fd_writer_cstr(t.w, fd_case_priority_name[s->priority]);
				fd_writer_cstr(t.w, s->assignee);
				fd_writer_cstr(t.w, s->origin);
				fd_writer_cstr(t.w, s->suspect);
				fd_writer_ts(t.w, s->created_at);
				fd_writer_ts(t.w, s->updated_at);
				fd_writer_i64(t.w, s->ntxns);
				fd_writer_i64(t.w, s->nentities);
				if (s->max_risk >= 0)
					fd_writer_fixed(t.w, s->max_risk, 2);
				else
					fd_writer_null(t.w);
				fd_writer_cstr(t.w, stake);
				fd_writer_end(t.w);
			}
			rc = table_close(a, &t);
		}
	} else {
		printf("%-5s %-14s %-8s %-12s %6s %4s  %-20s %-17s %s\n", "ID", "STATUS", "PRIORITY", "ASSIGNEE", "RISK",
		       "TXNS", "AT STAKE", "CREATED", "TITLE");
		for (i = 0; i < n; i++) {
			const struct fd_case_summary *s = &cs[i];
			char stake[512], created[FD_TS_BUFSZ], risk[8], ntx[FD_NUM_BUFSZ];

			amounts_text(s, 1, stake, sizeof(stake));
			fd_format_ts(s->created_at, created);
			created[16] = '\0';
			snprintf(risk, sizeof(risk), "%.2f", s->max_risk);
			printf("%-5lld %-14s %-8s %-12s %6s %4s  %-20s %-17s %s\n", (long long)s->id,
			       fd_case_status_name[s->status], fd_case_priority_name[s->priority], s->assignee ? s->assignee : "-",
			       s->max_risk >= 0 ? risk : "-", fd_num_count(s->ntxns, ntx), stake, created, s->title);
		}
	}
	fd_case_summaries_free(cs, n);
	return rc;
}

/* ---- show, status, assign, note, link ------------------------------------------------------------ */

static const char u_show[] =
	"usage: fd-case show ID\n"
	"Show a case: summary, timeline, transactions with their scores and rule hits, entities with\n"
	"their roles, notes and attachments.\n"
	"\n";

static int write_buf(struct app *a, const char *path, const struct fd_buf *b)
{
	struct fd_out *out;

	fflush(stdout);
	if (fd_out_open(&out, path, NULL, &a->err))
		return a->err.code;
	fd_out_write_buf(out, b);
	return fd_out_commit(out, &a->err);
}

static int cmd_show(struct app *a, int argc, char **argv)
{
	static const struct fd_cli_opt o[] = {TAIL_OPTS};
	struct fd_buf b = FD_BUF_INIT;
	int64_t id;
	int ch, rc;

	fd_cli_setup_command(&a->cli, u_show, GROUPS, o);
	while ((ch = fd_cli_getopt(&a->cli, argc, argv)) != -1)
		common_option(a, ch, optarg);
	if (argc - optind != 1)
		fd_cli_usage_error(&a->cli, argc - optind ? "show: one case ID, please" : "show: missing ID");
	id = parse_id(a, argv[optind]);
	if (!(rc = open_store_ro(a)) && !(rc = fd_report_case(a->st, id, FD_REPORT_TEXT, a->now, &b, &a->err)))
		rc = write_buf(a, NULL, &b);
	fd_buf_release(&b);
	return rc;
}

static const char u_status[] =
	"usage: fd-case status ID NEW [--note TEXT]\n"
	"Move a case through the workflow:\n"
	"  OPEN -> IN_PROGRESS -> CLOSED (fraud confirmed) or FALSE_POSITIVE (legitimate);\n"
	"  CLOSED or FALSE_POSITIVE -> IN_PROGRESS reopens, and needs --note with the reason.\n"
	"Closing labels the case's transactions (CLOSED: fraud, FALSE_POSITIVE: legitimate);\n"
	"reopening withdraws those labels.\n"
	"\n"
	"  --note TEXT         why (recorded with the change)\n"
	"\n";

static int cmd_status(struct app *a, int argc, char **argv)
{
	static const struct fd_cli_opt o[] = {{"note", required_argument, OPT_NOTE, NULL}, TAIL_OPTS};
	struct fd_case_status_result res;
	const char *note = NULL;
	int64_t id;
	int ch, rc, to;

	fd_cli_setup_command(&a->cli, u_status, GROUPS, o);
	while ((ch = fd_cli_getopt(&a->cli, argc, argv)) != -1) {
		if (ch == OPT_NOTE)
			note = optarg;
		else
			common_option(a, ch, optarg);
	}
	if (argc - optind != 2)
		fd_cli_usage_error(&a->cli, "status: needs ID and NEW status");
	id = parse_id(a, argv[optind]);
	if ((to = fd_case_status_parse(argv[optind + 1])) < 0)
		fd_cli_usage_error(&a->cli, "status: NEW must be OPEN, IN_PROGRESS, CLOSED or FALSE_POSITIVE, not '%s'",
				   argv[optind + 1]);
	if ((rc = open_store(a)) || (rc = fd_case_set_status(a->st, id, to, note, &res, &a->err)))
		return rc;
	if (res.labelled)
		say(a, "case %lld: %s -> %s; %lld transaction%s labelled %s", (long long)id, fd_case_status_name[res.from],
		    fd_case_status_name[res.to], (long long)res.labelled, res.labelled == 1 ? "" : "s",
		    to == FD_CASE_CLOSED ? "fraud" : "legitimate");
	else if (res.withdrawn)
		say(a, "case %lld: %s -> %s; %lld label%s withdrawn", (long long)id, fd_case_status_name[res.from],
		    fd_case_status_name[res.to], (long long)res.withdrawn, res.withdrawn == 1 ? "" : "s");
	else
		say(a, "case %lld: %s -> %s", (long long)id, fd_case_status_name[res.from], fd_case_status_name[res.to]);
	return FD_OK;
}

static const char u_note[] =
	"usage: fd-case note ID TEXT | fd-case note ID --file F [--name NAME] [TEXT]\n"
	"Add a note to a case, or attach a file as evidence (stored in the store with its SHA-256;\n"
	"TEXT then is a note on the attachment).\n"
	"\n"
	"  --file F            attach the file F (at most 64 MiB)\n"
	"  --name NAME         the attachment's name (default: F's last component)\n"
	"\n";

static int cmd_note(struct app *a, int argc, char **argv)
{
	static const struct fd_cli_opt o[] = {{"file", required_argument, OPT_FILE, NULL},
					  {"name", required_argument, OPT_NAME, NULL}, TAIL_OPTS};
	const char *file = NULL, *name = NULL, *text;
	char sha[65];
	int64_t id, att;
	int ch, rc;

	fd_cli_setup_command(&a->cli, u_note, GROUPS, o);
	while ((ch = fd_cli_getopt(&a->cli, argc, argv)) != -1) {
		if (ch == OPT_FILE)
			file = optarg;
		else if (ch == OPT_NAME)
			name = optarg;
		else
			common_option(a, ch, optarg);
	}
	if (name && !file)
		fd_cli_usage_error(&a->cli, "note: --name goes with --file");
	if (argc - optind < 1)
		fd_cli_usage_error(&a->cli, "note: missing ID");
	if (argc - optind > 2)
		fd_cli_usage_error(&a->cli, "note: unexpected argument '%s' (quote the note)", argv[optind + 2]);
	if (!file && argc - optind != 2)
		fd_cli_usage_error(&a->cli, "note: missing TEXT (or --file F)");
	id = parse_id(a, argv[optind]);
	text = argc - optind == 2 ? argv[optind + 1] : NULL;
	if ((rc = open_store(a)))
		return rc;
	if (!file) {
		if (!(rc = fd_case_note(a->st, id, text, &a->err)))
			say(a, "case %lld: note added", (long long)id);
		return rc;
	}
	if ((rc = fd_case_attach(a->st, id, file, name, text, &att, sha, &a->err)))
		return rc;
	printf("%s\n", sha);
	say(a, "case %lld: attached %s as attachment %lld, sha256 %s", (long long)id, file, (long long)att, sha);
	return FD_OK;
}

static const char u_link[] =
	"usage: fd-case link ID [--txn ID [--reason R]]... [--entity REF [--role R]]...\n"
	"Link transactions and entities to a case.  A transaction already in the case is left as\n"
	"it is; an entity already in the case takes the new role.\n"
	"\n" REF_HELP "\n";

static int cmd_link(struct app *a, int argc, char **argv)
{
	static const struct fd_cli_opt o[] = {REF_OPTS, TAIL_OPTS};
	struct fd_case_link_result res;
	struct refs r = {0};
	int64_t id;
	int ch, rc;

	fd_cli_setup_command(&a->cli, u_link, GROUPS, o);
	while ((ch = fd_cli_getopt(&a->cli, argc, argv)) != -1)
		if (!refs_option(a, &r, ch, optarg))
			common_option(a, ch, optarg);
	if (argc - optind != 1)
		fd_cli_usage_error(&a->cli, argc - optind ? "link: one case ID, please" : "link: missing ID");
	if (!r.nt && !r.ne)
		fd_cli_usage_error(&a->cli, "link: give --txn or --entity");
	id = parse_id(a, argv[optind]);
	if (!(rc = open_store(a)) && !(rc = fd_case_link(a->st, id, r.t, r.nt, r.e, r.ne, &res, &a->err)))
		say(a, "case %lld: %lld transaction%s added (%lld already there), %lld entit%s added, %lld changed (%lld unchanged)",
		    (long long)id, (long long)res.txns_added, res.txns_added == 1 ? "" : "s", (long long)res.txns_already,
		    (long long)res.ents_added, res.ents_added == 1 ? "y" : "ies", (long long)res.ents_changed,
		    (long long)res.ents_already);
	refs_free(&r);
	return rc;
}

/* ---- related, prioritize --------------------------------------------------------------------------- */

static const char u_related[] =
	"usage: fd-case related ID [options]\n"
	"Transactions outside the case that share an account, device, IP or merchant with it, have a\n"
	"similar amount or lie close in time; ranked, each with why it was found.\n"
	"\n"
	"  --limit N               at most N (default 20)\n"
	"  --near DUR              close in time: within DUR of a case transaction (default 1h)\n"
	"  --amount-tolerance PCT  similar amount: within PCT percent (default 5)\n"
	"  --amount-window DUR     ... of a case transaction at most DUR apart (default 7d)\n"
	"\n";

static int cmd_related(struct app *a, int argc, char **argv)
{
	static const struct fd_cli_opt o[] = {
		{"limit", required_argument, OPT_LIMIT, NULL}, {"near", required_argument, OPT_NEAR, NULL},
		{"amount-tolerance", required_argument, OPT_TOL, NULL},
		{"amount-window", required_argument, OPT_AMT_WINDOW, NULL}, TAIL_OPTS,
	};
	static const char *const cols[] = {"rank", "txn_id", "ts", "amount", "currency", "sender_id", "recipient_id",
					   "risk", "weight", "why"};
	struct fd_case_related_opts ro;
	struct fd_case_related *r = NULL;
	size_t n = 0, i;
	int64_t id;
	int ch, rc;

	memset(&ro, 0, sizeof(ro));
	fd_cli_setup_command(&a->cli, u_related, GROUPS, o);
	while ((ch = fd_cli_getopt(&a->cli, argc, argv)) != -1) {
		switch (ch) {
		case OPT_LIMIT: ro.limit = (size_t)fd_cli_int(&a->cli, "--limit", optarg, 1, 1000000); break;
		case OPT_NEAR: ro.near_ms = fd_cli_duration(&a->cli, "--near", optarg); break;
		case OPT_TOL: ro.amount_tol = fd_cli_double(&a->cli, "--amount-tolerance", optarg, 0.001, 100) / 100; break;
		case OPT_AMT_WINDOW: ro.amount_ms = fd_cli_duration(&a->cli, "--amount-window", optarg); break;
		default: common_option(a, ch, optarg);
		}
	}
	if (argc - optind != 1)
		fd_cli_usage_error(&a->cli, argc - optind ? "related: one case ID, please" : "related: missing ID");
	id = parse_id(a, argv[optind]);
	if ((rc = open_store_ro(a)) || (rc = fd_case_related(a->st, id, &ro, &r, &n, &a->err)))
		return rc;
	if (a->cli.format != FD_FMT_AUTO) {
		struct table t;

		if (!(rc = table_open(a, &t, cols, sizeof(cols) / sizeof(cols[0])))) {
			for (i = 0; i < n; i++) {
				fd_writer_begin(t.w);
				fd_writer_i64(t.w, (int64_t)i + 1);
				fd_writer_cstr(t.w, r[i].txn_id);
				fd_writer_ts(t.w, r[i].ts);
				fd_writer_amount(t.w, r[i].amount, r[i].exponent);
				fd_writer_cstr(t.w, r[i].currency);
				fd_writer_cstr(t.w, r[i].sender);
				fd_writer_cstr(t.w, r[i].recipient);
				if (r[i].risk >= 0)
					fd_writer_fixed(t.w, r[i].risk, 2);
				else
					fd_writer_null(t.w);
				fd_writer_f64(t.w, r[i].score);
				fd_writer_cstr(t.w, r[i].why);
				fd_writer_end(t.w);
			}
			rc = table_close(a, &t);
		}
	} else {
		printf("%-4s %-16s %-24s %14s %-12s %6s %6s  %s\n", "RANK", "TXN", "TIME", "AMOUNT", "SENDER", "RISK", "WEIGHT", "WHY");
		for (i = 0; i < n; i++) {
			char ts[FD_TS_BUFSZ], amt[FD_NUM_BUFSZ + 8], am[FD_NUM_BUFSZ], risk[8];

			snprintf(amt, sizeof(amt), "%s %s", fd_num_amount(r[i].amount, r[i].exponent, am), r[i].currency);
			snprintf(risk, sizeof(risk), "%.2f", r[i].risk);
			printf("%-4zu %-16s %-24s %14s %-12s %6s %6g  %s\n", i + 1, r[i].txn_id, fd_format_ts(r[i].ts, ts), amt,
			       r[i].sender, r[i].risk >= 0 ? risk : "-", r[i].score, r[i].why);
		}
	}
	fd_case_related_free(r, n);
	return rc;
}

static const char u_prioritize[] =
	"usage: fd-case prioritize [--limit N]\n"
	"Open cases (OPEN, IN_PROGRESS) ranked by a score of 0-100: 40 for the highest risk, 25 for\n"
	"the amount at stake, 20 for the riskiest entity, 15 for the age; each with its reasons.\n"
	"\n"
	"  --limit N           at most N cases\n"
	"\n";

static int cmd_prioritize(struct app *a, int argc, char **argv)
{
	static const struct fd_cli_opt o[] = {{"limit", required_argument, OPT_LIMIT, NULL}, TAIL_OPTS};
	static const char *const cols[] = {"rank", "case_id", "score", "risk_part", "amount_part", "entity_part",
					   "age_part", "status", "priority", "assignee", "title", "why"};
	struct fd_case_rank *r = NULL;
	size_t n = 0, i, limit = SIZE_MAX;
	int ch, rc;

	fd_cli_setup_command(&a->cli, u_prioritize, GROUPS, o);
	while ((ch = fd_cli_getopt(&a->cli, argc, argv)) != -1) {
		if (ch == OPT_LIMIT)
			limit = (size_t)fd_cli_int(&a->cli, "--limit", optarg, 1, 1000000);
		else
			common_option(a, ch, optarg);
	}
	if (optind < argc)
		fd_cli_usage_error(&a->cli, "prioritize: unexpected argument '%s'", argv[optind]);
	if ((rc = open_store_ro(a)) || (rc = fd_case_prioritize(a->st, a->now, &r, &n, &a->err)))
		return rc;
	if (a->cli.format != FD_FMT_AUTO) {
		struct table t;

		if (!(rc = table_open(a, &t, cols, sizeof(cols) / sizeof(cols[0])))) {
			for (i = 0; i < n && i < limit; i++) {
				fd_writer_begin(t.w);
				fd_writer_i64(t.w, (int64_t)i + 1);
				fd_writer_i64(t.w, r[i].s.id);
				fd_writer_fixed(t.w, r[i].score, 1);
				fd_writer_fixed(t.w, r[i].risk_part, 1);
				fd_writer_fixed(t.w, r[i].amount_part, 1);
				fd_writer_fixed(t.w, r[i].entity_part, 1);
				fd_writer_fixed(t.w, r[i].age_part, 1);
				fd_writer_cstr(t.w, fd_case_status_name[r[i].s.status]);
				fd_writer_cstr(t.w, fd_case_priority_name[r[i].s.priority]);
				fd_writer_cstr(t.w, r[i].s.assignee);
				fd_writer_cstr(t.w, r[i].s.title);
				fd_writer_cstr(t.w, r[i].why);
				fd_writer_end(t.w);
			}
			rc = table_close(a, &t);
		}
	} else {
		printf("%-4s %-5s %5s  %-11s %-8s %-12s %s\n", "RANK", "CASE", "SCORE", "STATUS", "PRIORITY", "ASSIGNEE", "TITLE / WHY");
		for (i = 0; i < n && i < limit; i++)
			printf("%-4zu %-5lld %5.1f  %-11s %-8s %-12s %s\n%36s%s\n", i + 1, (long long)r[i].s.id, r[i].score,
			       fd_case_status_name[r[i].s.status], fd_case_priority_name[r[i].s.priority],
			       r[i].s.assignee ? r[i].s.assignee : "-", r[i].s.title, "", r[i].why);
	}
	fd_case_ranks_free(r, n);
	return rc;
}

/* ---- auto ---------------------------------------------------------------------------------------- */

static const char u_auto[] =
	"usage: fd-case auto [options] [FILE...]\n"
	"Open or extend one case per suspect from HIGH-risk scores: the store's scores (no FILE),\n"
	"or scored records in CSV / NDJSON files ('-' = stdin) with columns txn_id, risk, and\n"
	"optionally level, suspect or sender_id, ts, reasons (records without a suspect and time\n"
	"take the sender and time stored for the transaction).  An alert joins the suspect's case\n"
	"when it lies within the window of the case's alerts; else a new case opens.  Idempotent.\n"
	"\n"
	"  --window DUR        how far an alert may lie from a case's alerts to join it (default 7d)\n"
	"  --level L           the lowest level that makes an alert: HIGH (default), MEDIUM or LOW\n"
	"  --since TS          store scores: transactions at or after TS\n"
	"  --until TS          store scores: transactions before TS\n"
	"  --min-risk N        ignore flags below risk N; records without a level count as HIGH\n"
	"                      from this risk on (default 80)\n"
	"  --assign            assign new cases to an active investigator\n"
	"  --pick P            with --assign: least-loaded (default) or round-robin (as assign --auto)\n"
	"\n";

struct flags {
	struct fd_case_flag *f;
	size_t n, cap;
	struct fd_intern *strs;  /* owns the flags' strings */
};

static const char *keep(struct flags *fl, const char *s, size_t n)
{
	int64_t id = fd_intern_put(fl->strs, s, n, NULL);

	return id < 0 ? NULL : fd_intern_str(fl->strs, (uint32_t)id, NULL);
}

/* Read one input of scored records into fl; bad records are reported and counted in *bad. */
/* The rank of a level text (HIGH 0, MEDIUM 1, LOW 2, as enum fd_case_level), -1 if unknown. */
static int level_rank(const char *v, size_t n)
{
	static const char *const names[] = {"HIGH", "MEDIUM", "LOW"};
	int i;

	for (i = 0; i < 3; i++)
		if (n == strlen(names[i]) && strncasecmp(v, names[i], n) == 0)
			return i;
	return -1;
}

static int read_flags(struct app *a, const char *path, double min_risk, int min_risk_given, int min_level,
		      struct flags *fl, int64_t *bad)
{
	struct fd_in *in = NULL;
	struct fd_reader *r = NULL;
	int s_txn, s_risk, s_level, s_suspect, s_sender, s_ts, s_reasons, rc;
	const char *name;

	if ((rc = fd_in_open(&in, path, 0, &a->err)))
		return rc;
	name = fd_in_name(in);
	if ((rc = fd_reader_open(&r, in, NULL, &a->err)))
		goto out;
	s_txn = fd_reader_bind(r, "txn_id");
	s_risk = fd_reader_bind(r, "risk");
	s_level = fd_reader_bind(r, "level");
	s_suspect = fd_reader_bind(r, "suspect");
	s_sender = fd_reader_bind(r, "sender_id");
	s_ts = fd_reader_bind(r, "ts");
	s_reasons = fd_reader_bind(r, "reasons");
	if (fd_reader_format(r) == FD_FMT_CSV && (!fd_reader_has_column(r, "txn_id") || !fd_reader_has_column(r, "risk"))) {
		rc = fd_err_set(&a->err, FD_EINPUT, "%s: needs columns txn_id and risk", name);
		goto out;
	}
	while ((rc = fd_reader_next(r, &a->err)) != 0) {
		const char *v, *lv = NULL;
		size_t n, ln = 0;
		char *end, buf[64];
		double risk;
		struct fd_case_flag *f;
		int64_t line = fd_reader_line(r);

		if (rc < 0) {
			if (rc == -FD_EIO) {
				rc = a->err.code;
				goto out;
			}
			fd_cli_msg(&a->cli, "%s:%lld: %s", name, (long long)line, a->err.msg);
			(*bad)++;
			continue;
		}
		if (!fd_reader_get(r, s_txn, &v, &n) || n == 0) {
			fd_cli_msg(&a->cli, "%s:%lld: no txn_id", name, (long long)line);
			(*bad)++;
			continue;
		}
		if (fd_reader_get(r, s_level, &lv, &ln)) {
			int rank = level_rank(lv, ln);

			if (rank < 0 || rank > min_level)
				continue;
		}
		if (!fd_reader_get(r, s_risk, &v, &n) || n == 0 || n >= sizeof(buf)) {
			fd_cli_msg(&a->cli, "%s:%lld: no risk", name, (long long)line);
			(*bad)++;
			continue;
		}
		memcpy(buf, v, n);
		buf[n] = '\0';
		errno = 0;
		risk = strtod(buf, &end);
		if (*end || errno || !(risk >= 0 && risk <= 100)) {
			char vis[80];

			fd_cli_msg(&a->cli, "%s:%lld: bad risk '%s' (0 to 100)", name, (long long)line, fd_visible(vis, sizeof(vis), v, n));
			(*bad)++;
			continue;
		}
		if (!lv && risk < min_risk)
			continue;
		if (lv && min_risk_given && risk < min_risk)
			continue;
		if (fl->n == fl->cap) {
			size_t nc = fl->cap ? fl->cap * 2 : 256;
			void *p = realloc(fl->f, nc * sizeof(*fl->f));

			if (!p) {
				rc = fd_err_set(&a->err, FD_EIO, "out of memory");
				goto out;
			}
			fl->f = p;
			fl->cap = nc;
		}
		f = &fl->f[fl->n];
		memset(f, 0, sizeof(*f));
		f->risk = risk;
		fd_reader_get(r, s_txn, &v, &n);
		f->txn_id = keep(fl, v, n);
		if (fd_reader_get(r, s_ts, &v, &n) && n) {
			const char *why = fd_parse_ts(v, n, 0, &f->ts);

			if (why) {
				char vis[80];

				fd_cli_msg(&a->cli, "%s:%lld: bad ts '%s': %s", name, (long long)line, fd_visible(vis, sizeof(vis), v, n), why);
				(*bad)++;
				continue;
			}
			if ((fd_reader_get(r, s_suspect, &v, &n) && n) || (fd_reader_get(r, s_sender, &v, &n) && n))
				f->suspect = keep(fl, v, n);
		}
		if (fd_reader_get(r, s_reasons, &v, &n) && n)
			f->reasons = keep(fl, v, n);
		if (!f->txn_id) {
			rc = fd_err_set(&a->err, FD_EIO, "out of memory");
			goto out;
		}
		fl->n++;
	}
out:
	fd_reader_free(r);
	fd_in_free(in);
	return rc;
}

static int cmd_auto(struct app *a, int argc, char **argv)
{
	static const struct fd_cli_opt o[] = {
		{"window", required_argument, OPT_WINDOW, NULL}, {"since", required_argument, OPT_SINCE, NULL},
		{"until", required_argument, OPT_UNTIL, NULL}, {"min-risk", required_argument, OPT_MIN_RISK, NULL},
		{"assign", no_argument, OPT_ASSIGN, NULL}, {"level", required_argument, OPT_LEVEL, NULL},
		{"pick", required_argument, OPT_PICK, NULL}, TAIL_OPTS,
	};
	struct fd_case_auto_opts ao;
	struct fd_case_auto_result res;
	struct flags fl = {0};
	int64_t since = INT64_MIN, until = INT64_MAX, bad = 0;
	int ch, rc = FD_OK, i, min_given = 0, range = 0, pick_given = 0;

	memset(&ao, 0, sizeof(ao));
	ao.min_risk = 80;
	fd_cli_setup_command(&a->cli, u_auto, GROUPS, o);
	while ((ch = fd_cli_getopt(&a->cli, argc, argv)) != -1) {
		switch (ch) {
		case OPT_WINDOW: ao.window_ms = fd_cli_duration(&a->cli, "--window", optarg); break;
		case OPT_SINCE: since = fd_cli_time(&a->cli, "--since", optarg, 0); range = 1; break;
		case OPT_UNTIL: until = fd_cli_time(&a->cli, "--until", optarg, 0); range = 1; break;
		case OPT_MIN_RISK: ao.min_risk = fd_cli_double(&a->cli, "--min-risk", optarg, 0, 100); min_given = 1; break;
		case OPT_ASSIGN: ao.assign = 1; break;
		case OPT_PICK:
			if ((ao.pick = fd_case_pick_parse(optarg)) < 0)
				fd_cli_usage_error(&a->cli, "--pick must be least-loaded or round-robin, not '%s'", optarg);
			pick_given = 1;
			break;
		case OPT_LEVEL:
			if ((ao.min_level = level_rank(optarg, strlen(optarg))) < 0)
				fd_cli_usage_error(&a->cli, "--level must be HIGH, MEDIUM or LOW, not '%s'", optarg);
			break;
		default: common_option(a, ch, optarg);
		}
	}
	if (range && optind < argc)
		fd_cli_usage_error(&a->cli, "auto: --since and --until select store scores; not with FILE");
	if (pick_given && !ao.assign)
		fd_cli_usage_error(&a->cli, "auto: --pick goes with --assign");
	if ((rc = open_store(a)))
		return rc;
	if (optind == argc) {
		if (!min_given)
			ao.min_risk = 0; /* the store's level says HIGH */
		rc = fd_case_auto_from_store(a->st, since, until, &ao, &res, &a->err);
	} else {
		if (!(fl.strs = fd_intern_create()))
			return fd_err_set(&a->err, FD_EIO, "out of memory");
		for (i = optind; i < argc && !rc; i++)
			rc = read_flags(a, argv[i], ao.min_risk, min_given, ao.min_level, &fl, &bad);
		if (!rc && bad)
			rc = fd_err_set(&a->err, FD_EINPUT, "%lld bad record%s: no case written", (long long)bad, bad == 1 ? "" : "s");
		if (!rc) {
			ao.min_risk = 0; /* applied while reading */
			rc = fd_case_auto(a->st, fl.f, fl.n, &ao, &res, &a->err);
		}
		free(fl.f);
		fd_intern_free(fl.strs);
	}
	if (rc)
		return rc;
	say(a, "auto: %lld HIGH flag%s: %lld case%s created, %lld extended, %lld reopened; %lld transaction%s added,"
	    " %lld already in their cases%s", (long long)res.flags, res.flags == 1 ? "" : "s", (long long)res.created,
	    res.created == 1 ? "" : "s", (long long)res.extended, (long long)res.reopened, (long long)res.added,
	    res.added == 1 ? "" : "s", (long long)res.already, res.unassigned ? "; some new cases unassigned (no investigator)" : "");
	if (a->metrics) {
		fd_metrics_add(a->metrics, "fd_case_auto_flags_total", "counter", "HIGH-risk flags considered.", NULL, (double)res.flags);
		fd_metrics_add(a->metrics, "fd_case_auto_cases_total", "counter", "Cases touched, by outcome.", "outcome=\"created\"", (double)res.created);
		fd_metrics_add(a->metrics, "fd_case_auto_cases_total", "counter", "Cases touched, by outcome.", "outcome=\"extended\"", (double)res.extended);
		fd_metrics_add(a->metrics, "fd_case_auto_cases_total", "counter", "Cases touched, by outcome.", "outcome=\"reopened\"", (double)res.reopened);
		fd_metrics_add(a->metrics, "fd_case_auto_transactions_total", "counter", "Transactions added to cases.", NULL, (double)res.added);
	}
	return FD_OK;
}

/* ---- case selections (sla, bulk assign) ------------------------------------------------------------ */

#define SELECT_OPTS \
	{"status", required_argument, OPT_STATUS, NULL}, {"priority", required_argument, OPT_PRIO, NULL}, \
	{"assignee", required_argument, OPT_ASSIGNEE, NULL}, {"unassigned", no_argument, OPT_UNASSIGNED, NULL}, \
	{"origin", required_argument, OPT_ORIGIN, NULL}, {"entity", required_argument, OPT_ENTITY, NULL}, \
	{"older-than", required_argument, OPT_OLDER, NULL}

#define SELECT_HELP \
	"  --status S[,S]      OPEN, IN_PROGRESS, CLOSED, FALSE_POSITIVE, DUPLICATE\n" \
	"  --priority P[,P]    LOW, MEDIUM, HIGH, CRITICAL\n" \
	"  --assignee USER     cases assigned to USER\n" \
	"  --unassigned        cases assigned to nobody\n" \
	"  --origin O          manual or auto\n" \
	"  --entity REF        cases involving the entity (KIND:KEY or KEY)\n" \
	"  --older-than DUR    cases created more than DUR before now (--now)\n"

struct selection {
	struct fd_case_filter f;
	int64_t older;  /* --older-than, -1 when not given */
	int given;      /* some selecting option was given */
};

static void selection_init(struct selection *sel)
{
	fd_case_filter_init(&sel->f);
	sel->older = -1;
	sel->given = 0;
}

/* Handle a selecting option; 1 when c was one. */
static int selection_option(struct app *a, struct selection *sel, int c, const char *arg)
{
	switch (c) {
	case OPT_STATUS:
		sel->f.status_mask = parse_mask(a, "--status", arg, fd_case_status_parse, fd_case_status_name, FD_CASE_NSTATUS);
		break;
	case OPT_PRIO:
		sel->f.priority_mask = parse_mask(a, "--priority", arg, fd_case_priority_parse, fd_case_priority_name, FD_NPRIO);
		break;
	case OPT_ASSIGNEE:
		if (!*arg)
			fd_cli_usage_error(&a->cli, "--assignee needs a user name (--unassigned for nobody)");
		if (sel->f.assignee && !*sel->f.assignee)
			fd_cli_usage_error(&a->cli, "--assignee and --unassigned exclude each other");
		sel->f.assignee = arg;
		break;
	case OPT_UNASSIGNED:
		if (sel->f.assignee && *sel->f.assignee)
			fd_cli_usage_error(&a->cli, "--assignee and --unassigned exclude each other");
		sel->f.assignee = "";
		break;
	case OPT_ORIGIN:
		if (strcmp(arg, "manual") != 0 && strcmp(arg, "auto") != 0)
			fd_cli_usage_error(&a->cli, "--origin must be manual or auto, not '%s'", arg);
		sel->f.origin = arg;
		break;
	case OPT_ENTITY:
		if (!*arg)
			fd_cli_usage_error(&a->cli, "--entity needs a reference (KIND:KEY or KEY)");
		sel->f.entity = arg;
		break;
	case OPT_OLDER:
		sel->older = fd_cli_duration(&a->cli, "--older-than", arg);
		break;
	default:
		return 0;
	}
	sel->given = 1;
	return 1;
}

/* After the store is open (a->now set): --older-than into the filter. */
static void selection_finish(struct app *a, struct selection *sel)
{
	if (sel->older >= 0)
		sel->f.until = a->now - sel->older;
}

/* "3 d 4 h", "5 h 12 min", "42 min", "30 s" (negative: "-" in front) */
static const char *span_text(int64_t ms, char *buf, size_t n)
{
	const char *sign = ms < 0 ? "-" : "";
	int64_t s = (ms < 0 ? -ms : ms) / 1000;

	if (s >= 86400)
		snprintf(buf, n, "%s%lld d %lld h", sign, (long long)(s / 86400), (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(buf, n, "%s%lld h %lld min", sign, (long long)(s / 3600), (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, n, "%s%lld min", sign, (long long)(s / 60));
	else
		snprintf(buf, n, "%s%lld s", sign, (long long)s);
	return buf;
}

/* ---- assign ------------------------------------------------------------------------------------ */

static const char u_assign[] =
	"usage: fd-case assign ID USER | assign ID --auto\n"
	"       fd-case assign (--to USER | --auto [--pick P]) (ID... | --all | selection)\n"
	"Assign a case to USER, or with --auto to the active INVESTIGATOR with the fewest open cases.\n"
	"With --to or several IDs or a selection, assign many cases at once: each one listed with\n"
	"whom it went to.  A selection takes OPEN and IN_PROGRESS cases unless --status says.\n"
	"\n"
	"  --auto              pick the investigator automatically\n"
	"  --to USER           assign the cases to USER\n"
	"  --pick P            with --auto: least-loaded (default; fewest open cases) or round-robin\n"
	"                      (in turn by name, after whoever was picked last)\n"
	"  --all               every OPEN or IN_PROGRESS case (or --status)\n"
	SELECT_HELP "\n";

static int cmd_assign(struct app *a, int argc, char **argv)
{
	static const struct fd_cli_opt o[] = {
		{"auto", no_argument, OPT_AUTO, NULL}, {"to", required_argument, OPT_TO, NULL},
		{"pick", required_argument, OPT_PICK, NULL}, {"all", no_argument, OPT_ALL, NULL}, SELECT_OPTS, TAIL_OPTS,
	};
	static const char *const cols[] = {"case_id", "from", "to", "changed"};
	char who[FD_CASE_NAME_MAX + 1];
	struct selection sel;
	struct fd_case_assignment *res = NULL;
	const char *to = NULL;
	int64_t id, *ids = NULL;
	size_t nres = 0, nids = 0, i, changed = 0;
	int ch, rc, automatic = 0, pick = -1, all = 0;

	selection_init(&sel);
	fd_cli_setup_command(&a->cli, u_assign, GROUPS, o);
	while ((ch = fd_cli_getopt(&a->cli, argc, argv)) != -1) {
		if (selection_option(a, &sel, ch, optarg))
			continue;
		switch (ch) {
		case OPT_AUTO: automatic = 1; break;
		case OPT_TO:
			if (!*optarg)
				fd_cli_usage_error(&a->cli, "--to needs a user name");
			to = optarg;
			break;
		case OPT_PICK:
			if ((pick = fd_case_pick_parse(optarg)) < 0)
				fd_cli_usage_error(&a->cli, "--pick must be least-loaded or round-robin, not '%s'", optarg);
			break;
		case OPT_ALL: all = 1; break;
		default: common_option(a, ch, optarg);
		}
	}
	if (to && automatic)
		fd_cli_usage_error(&a->cli, "assign: --to and --auto exclude each other");
	if (pick >= 0 && !automatic)
		fd_cli_usage_error(&a->cli, "assign: --pick goes with --auto");
	/* the single-case forms: ID USER, ID --auto */
	if (!to && !sel.given && !all && pick < 0 && argc - optind == (automatic ? 1 : 2)) {
		id = parse_id(a, argv[optind]);
		if ((rc = open_store(a)) ||
		    (rc = fd_case_assign(a->st, id, automatic ? NULL : argv[optind + 1], who, &a->err)))
			return rc;
		printf("%s\n", who);
		say(a, "case %lld assigned to %s", (long long)id, who);
		return FD_OK;
	}
	if (!to && !automatic)
		fd_cli_usage_error(&a->cli, "assign: needs ID and USER, or --to USER or --auto");
	nids = (size_t)(argc - optind);
	if (nids && (sel.given || all))
		fd_cli_usage_error(&a->cli, "assign: give case IDs or a selection, not both");
	if (!nids && !sel.given && !all)
		fd_cli_usage_error(&a->cli, "assign: which cases? Give IDs, --all or a selection (--status, --priority,"
				   " --assignee, --unassigned, --origin, --entity, --older-than)");
	if (nids && !(ids = calloc(nids, sizeof(*ids))))
		return fd_err_set(&a->err, FD_EIO, "out of memory");
	for (i = 0; i < nids; i++)
		ids[i] = parse_id(a, argv[optind + (int)i]);
	if (!sel.f.status_mask)
		sel.f.status_mask = 1u << FD_CASE_OPEN | 1u << FD_CASE_IN_PROGRESS;
	if ((rc = open_store(a)))
		goto out;
	selection_finish(a, &sel);
	if ((rc = fd_case_assign_many(a->st, ids, nids, &sel.f, to, pick < 0 ? FD_PICK_LEAST_LOADED : pick, &res, &nres,
				      &a->err)))
		goto out;
	if (a->cli.format != FD_FMT_AUTO) {
		struct table t;

		if (!(rc = table_open(a, &t, cols, sizeof(cols) / sizeof(cols[0])))) {
			for (i = 0; i < nres; i++) {
				fd_writer_begin(t.w);
				fd_writer_i64(t.w, res[i].id);
				fd_writer_cstr(t.w, res[i].from);
				fd_writer_cstr(t.w, res[i].to);
				fd_writer_bool(t.w, res[i].changed);
				fd_writer_end(t.w);
			}
			rc = table_close(a, &t);
		}
	} else {
		if (nres)
			printf("%-5s %-20s %s\n", "ID", "FROM", "TO");
		for (i = 0; i < nres; i++)
			printf("%-5lld %-20s %s%s\n", (long long)res[i].id, res[i].from ? res[i].from : "-", res[i].to,
			       res[i].changed ? "" : " (already)");
	}
	for (i = 0; i < nres; i++)
		changed += res[i].changed != 0;
	if (!rc)
		say(a, "assign: %zu case%s selected, %zu assigned, %zu already so", nres, nres == 1 ? "" : "s", changed,
		    nres - changed);
out:
	fd_case_assignments_free(res, nres);
	free(ids);
	return rc;
}

/* ---- sla --------------------------------------------------------------------------------------- */

static const char u_sla[] =
	"usage: fd-case sla [options]\n"
	"Ageing and service levels of the open cases (OPEN, IN_PROGRESS): age, time since the last\n"
	"action, the time the priority allows (default CRITICAL 1d, HIGH 3d, MEDIUM 7d, LOW 30d),\n"
	"and the state: BREACHED (age at or past it), NEAR (from --near percent of it) or OK.\n"
	"Lists the NEAR and BREACHED cases, the most overdue first; exit 1 when any is BREACHED.\n"
	"\n"
	"  --sla P=DUR[,P=DUR] the time allowed for priority P (repeatable): CRITICAL=12h,LOW=14d\n"
	"  --near PCT          NEAR from PCT percent of the time allowed (default 80)\n"
	"  --all               list every open case, OK ones too\n"
	"  --limit N           at most N cases\n"
	SELECT_HELP "\n";

static int cmd_sla(struct app *a, int argc, char **argv)
{
	static const struct fd_cli_opt o[] = {
		{"sla", required_argument, OPT_SLA, NULL}, {"near", required_argument, OPT_NEAR, NULL},
		{"all", no_argument, OPT_ALL, NULL}, {"limit", required_argument, OPT_LIMIT, NULL}, SELECT_OPTS, TAIL_OPTS,
	};
	static const char *const cols[] = {"case_id", "state", "priority", "status", "assignee", "created_at",
					   "last_action_at", "age_s", "idle_s", "sla_s", "due_at", "overdue_s", "title"};
	struct fd_case_sla_policy pol;
	struct fd_case_sla_row *r = NULL;
	struct selection sel;
	size_t n = 0, nb = 0, i, near = 0;
	int ch, rc, all = 0;
	char why[256];

	fd_case_sla_defaults(&pol);
	selection_init(&sel);
	fd_cli_setup_command(&a->cli, u_sla, GROUPS, o);
	while ((ch = fd_cli_getopt(&a->cli, argc, argv)) != -1) {
		if (selection_option(a, &sel, ch, optarg))
			continue;
		switch (ch) {
		case OPT_SLA:
			if (fd_case_sla_parse(&pol, optarg, why, sizeof(why)))
				fd_cli_usage_error(&a->cli, "--sla: %s", why);
			break;
		case OPT_NEAR: pol.near_pct = (int)fd_cli_int(&a->cli, "--near", optarg, 1, 100); break;
		case OPT_ALL: all = 1; break;
		case OPT_LIMIT: sel.f.limit = fd_cli_int(&a->cli, "--limit", optarg, 1, INT64_MAX); break;
		default: common_option(a, ch, optarg);
		}
	}
	if (optind < argc)
		fd_cli_usage_error(&a->cli, "sla: unexpected argument '%s'", argv[optind]);
	if ((rc = open_store_ro(a)))
		return rc;
	selection_finish(a, &sel);
	if ((rc = fd_case_sla(a->st, &pol, &sel.f, a->now, all, &r, &n, &nb, &a->err)))
		return rc;
	for (i = 0; i < n; i++)
		near += r[i].state == FD_SLA_NEAR;
	if (a->cli.format != FD_FMT_AUTO) {
		struct table t;

		if (!(rc = table_open(a, &t, cols, sizeof(cols) / sizeof(cols[0])))) {
			for (i = 0; i < n; i++) {
				const struct fd_case_sla_row *x = &r[i];

				fd_writer_begin(t.w);
				fd_writer_i64(t.w, x->s.id);
				fd_writer_cstr(t.w, fd_case_sla_state_name[x->state]);
				fd_writer_cstr(t.w, fd_case_priority_name[x->s.priority]);
				fd_writer_cstr(t.w, fd_case_status_name[x->s.status]);
				fd_writer_cstr(t.w, x->s.assignee);
				fd_writer_ts(t.w, x->s.created_at);
				fd_writer_ts(t.w, x->s.updated_at);
				fd_writer_i64(t.w, x->age_ms / 1000);
				fd_writer_i64(t.w, x->idle_ms / 1000);
				fd_writer_i64(t.w, x->sla_ms / 1000);
				fd_writer_ts(t.w, x->due_at);
				fd_writer_i64(t.w, (x->age_ms - x->sla_ms) / 1000);
				fd_writer_cstr(t.w, x->s.title);
				fd_writer_end(t.w);
			}
			rc = table_close(a, &t);
		}
	} else {
		printf("%-5s %-8s %-8s %-11s %-12s %-10s %-10s %-8s %-17s %s\n", "ID", "STATE", "PRIORITY", "STATUS",
		       "ASSIGNEE", "AGE", "IDLE", "SLA", "DUE", "TITLE");
		for (i = 0; i < n; i++) {
			const struct fd_case_sla_row *x = &r[i];
			char age[32], idle[32], sla[32], due[FD_TS_BUFSZ];

			fd_format_ts(x->due_at, due);
			due[16] = '\0';
			printf("%-5lld %-8s %-8s %-11s %-12s %-10s %-10s %-8s %-17s %s\n", (long long)x->s.id,
			       fd_case_sla_state_name[x->state], fd_case_priority_name[x->s.priority],
			       fd_case_status_name[x->s.status], x->s.assignee ? x->s.assignee : "-",
			       span_text(x->age_ms, age, sizeof(age)), span_text(x->idle_ms, idle, sizeof(idle)),
			       span_text(x->sla_ms, sla, sizeof(sla)), due, x->s.title);
		}
	}
	fd_case_sla_rows_free(r, n);
	if (rc)
		return rc;
	if (a->metrics) {
		fd_metrics_add(a->metrics, "fd_case_sla_cases", "gauge", "Open cases past or near their service level.",
			       "state=\"breached\"", (double)nb);
		if (all || !sel.f.limit)  /* NEAR is counted over what was listed */
			fd_metrics_add(a->metrics, "fd_case_sla_cases", "gauge", "Open cases past or near their service level.",
				       "state=\"near\"", (double)near);
	}
	say(a, "sla: %zu case%s breached, %zu near%s", nb, nb == 1 ? "" : "s", near,
	    !all && sel.f.limit ? " (as listed)" : "");
	if (nb)
		return fd_err_set(&a->err, FD_EFINDINGS, "%zu open case%s past %s SLA", nb, nb == 1 ? " is" : "s are",
				  nb == 1 ? "its" : "their");
	return FD_OK;
}

/* ---- duplicates, merge ------------------------------------------------------------------------- */

static const char u_duplicates[] =
	"usage: fd-case duplicates\n"
	"List pairs of open cases (OPEN, IN_PROGRESS) about the same suspect or the same\n"
	"transactions, the older one first as the one to keep (fd-case merge KEEP DUP).\n"
	"\n";

static int cmd_duplicates(struct app *a, int argc, char **argv)
{
	static const struct fd_cli_opt o[] = {TAIL_OPTS};
	static const char *const cols[] = {"keep", "duplicate", "shared_txns", "shared_suspects", "keep_txns",
					   "duplicate_txns"};
	struct fd_case_dup *d = NULL;
	size_t n = 0, i;
	int ch, rc;

	fd_cli_setup_command(&a->cli, u_duplicates, GROUPS, o);
	while ((ch = fd_cli_getopt(&a->cli, argc, argv)) != -1)
		common_option(a, ch, optarg);
	if (optind < argc)
		fd_cli_usage_error(&a->cli, "duplicates: unexpected argument '%s'", argv[optind]);
	if ((rc = open_store_ro(a)) || (rc = fd_case_duplicates(a->st, &d, &n, &a->err)))
		return rc;
	if (a->cli.format != FD_FMT_AUTO) {
		struct table t;

		if (!(rc = table_open(a, &t, cols, sizeof(cols) / sizeof(cols[0])))) {
			for (i = 0; i < n; i++) {
				fd_writer_begin(t.w);
				fd_writer_i64(t.w, d[i].keep);
				fd_writer_i64(t.w, d[i].dup);
				fd_writer_i64(t.w, d[i].shared_txns);
				fd_writer_cstr(t.w, d[i].suspects);
				fd_writer_i64(t.w, d[i].keep_txns);
				fd_writer_i64(t.w, d[i].dup_txns);
				fd_writer_end(t.w);
			}
			rc = table_close(a, &t);
		}
	} else {
		if (n)
			printf("%-5s %-5s %-11s %s\n", "KEEP", "DUP", "SHARED TXNS", "SHARED SUSPECTS");
		for (i = 0; i < n; i++) {
			char c[FD_NUM_BUFSZ];

			printf("%-5lld %-5lld %-11s %s\n", (long long)d[i].keep, (long long)d[i].dup,
			       fd_num_count(d[i].shared_txns, c), d[i].suspects ? d[i].suspects : "-");
		}
	}
	if (!rc)
		say(a, "duplicates: %zu pair%s of open cases", n, n == 1 ? "" : "s");
	fd_case_dups_free(d, n);
	return rc;
}

static const char u_merge[] =
	"usage: fd-case merge KEEP DUP [--note TEXT]\n"
	"Merge case DUP into case KEEP (both OPEN or IN_PROGRESS): DUP's transactions and entities\n"
	"that KEEP lacks move to KEEP; DUP becomes DUPLICATE, a final status without labels.\n"
	"\n"
	"  --note TEXT         why (recorded on both cases)\n"
	"\n";

static int cmd_merge(struct app *a, int argc, char **argv)
{
	static const struct fd_cli_opt o[] = {{"note", required_argument, OPT_NOTE, NULL}, TAIL_OPTS};
	struct fd_case_merge_result res;
	const char *note = NULL;
	int64_t keep, dup;
	int ch, rc;

	fd_cli_setup_command(&a->cli, u_merge, GROUPS, o);
	while ((ch = fd_cli_getopt(&a->cli, argc, argv)) != -1) {
		if (ch == OPT_NOTE)
			note = optarg;
		else
			common_option(a, ch, optarg);
	}
	if (argc - optind != 2)
		fd_cli_usage_error(&a->cli, "merge: needs KEEP and DUP case IDs");
	keep = parse_id(a, argv[optind]);
	dup = parse_id(a, argv[optind + 1]);
	if ((rc = open_store(a)) || (rc = fd_case_merge(a->st, keep, dup, note, &res, &a->err)))
		return rc;
	say(a, "case %lld merged into case %lld: %lld transaction%s and %lld entit%s moved, %lld and %lld already there;"
	    " case %lld is DUPLICATE", (long long)dup, (long long)keep, (long long)res.txns_moved,
	    res.txns_moved == 1 ? "" : "s", (long long)res.ents_moved, res.ents_moved == 1 ? "y" : "ies",
	    (long long)res.txns_already, (long long)res.ents_already, (long long)dup);
	return FD_OK;
}

/* ---- users ------------------------------------------------------------------------------------- */

static const char u_user[] =
	"usage: fd-case user add NAME --role ROLE | user list | user disable NAME | user enable NAME\n"
	"Manage who may do what.  Roles: ADMIN (everything), INVESTIGATOR (work cases: create,\n"
	"note, link, status, assign, auto), ANALYST (create, note, link, view), VIEWER (view).\n"
	"With no users the store is single-user and the actor may do everything; the first user\n"
	"must be an ADMIN.\n"
	"\n"
	"  --role ROLE         ADMIN, INVESTIGATOR, ANALYST or VIEWER\n"
	"\n";

static int print_user(void *ctx, const struct fd_case_user *u)
{
	struct table *t = ctx;
	char ts[FD_TS_BUFSZ];

	if (t->w) {
		fd_writer_begin(t->w);
		fd_writer_cstr(t->w, u->name);
		fd_writer_cstr(t->w, fd_user_role_name[u->role]);
		fd_writer_bool(t->w, u->active);
		fd_writer_i64(t->w, u->open_cases);
		fd_writer_ts(t->w, u->created_at);
		fd_writer_cstr(t->w, u->created_by);
		fd_writer_end(t->w);
	} else {
		if (!t->out && !t->header) {
			printf("%-20s %-13s %-8s %10s  %s\n", "NAME", "ROLE", "STATE", "OPEN CASES", "CREATED");
			t->header = 1;
		}
		printf("%-20s %-13s %-8s %10lld  %s by %s\n", u->name, fd_user_role_name[u->role], u->active ? "active" : "disabled",
		       (long long)u->open_cases, fd_format_ts(u->created_at, ts), u->created_by);
	}
	return 0;
}

static int cmd_user(struct app *a, int argc, char **argv)
{
	static const struct fd_cli_opt o[] = {{"role", required_argument, OPT_ROLE, NULL}, TAIL_OPTS};
	static const char *const cols[] = {"name", "role", "active", "open_cases", "created_at", "created_by"};
	const char *sub;
	int ch, rc, role = -1;

	fd_cli_setup_command(&a->cli, u_user, GROUPS, o);
	while ((ch = fd_cli_getopt(&a->cli, argc, argv)) != -1) {
		if (ch == OPT_ROLE) {
			if ((role = fd_user_role_parse(optarg)) < 0)
				fd_cli_usage_error(&a->cli, "--role must be ADMIN, INVESTIGATOR, ANALYST or VIEWER, not '%s'", optarg);
		} else
			common_option(a, ch, optarg);
	}
	if (optind >= argc)
		fd_cli_usage_error(&a->cli, "user: missing add, list, disable or enable");
	sub = argv[optind++];
	if (strcmp(sub, "list") == 0) {
		struct table t = {0};

		if (argc - optind)
			fd_cli_usage_error(&a->cli, "user list: unexpected argument '%s'", argv[optind]);
		if ((rc = open_store_ro(a)))
			return rc;
		if (a->cli.format != FD_FMT_AUTO) {
			if ((rc = table_open(a, &t, cols, sizeof(cols) / sizeof(cols[0]))))
				return rc;
		}
		rc = fd_case_user_list(a->st, print_user, &t, &a->err);
		if (t.w) {
			if (rc) {
				fd_writer_free(t.w);
				fd_out_abort(t.out);
			} else
				rc = table_close(a, &t);
		}
		return rc;
	}
	if (strcmp(sub, "add") == 0 || strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0) {
		if (argc - optind != 1)
			fd_cli_usage_error(&a->cli, "user %s: needs one NAME", sub);
		if (strcmp(sub, "add") == 0 && role < 0)
			fd_cli_usage_error(&a->cli, "user add: needs --role ADMIN, INVESTIGATOR, ANALYST or VIEWER");
		if (strcmp(sub, "add") != 0 && role >= 0)
			fd_cli_usage_error(&a->cli, "user %s: --role goes with add", sub);
		if ((rc = open_store(a)))
			return rc;
		if (strcmp(sub, "add") == 0) {
			if (!(rc = fd_case_user_add(a->st, argv[optind], role, &a->err)))
				say(a, "user %s added as %s", argv[optind], fd_user_role_name[role]);
		} else if (!(rc = fd_case_user_set_active(a->st, argv[optind], sub[0] == 'e', &a->err)))
			say(a, "user %s %sd", argv[optind], sub);
		return rc;
	}
	fd_cli_usage_error(&a->cli, "user: unknown subcommand '%s' (add, list, disable or enable)", sub);
}

/* ---- report, dashboard ----------------------------------------------------------------------------- */

static const char u_report[] =
	"usage: fd-case report ID [--format md|html] [-o FILE]\n"
	"Write a self-contained case report (no network resources; charts as inline SVG): summary,\n"
	"timeline, transactions, what each risk came from, the sender's usual amounts, amounts over\n"
	"time, the entity neighbourhood (the suspect at the centre), the reasons behind each flag,\n"
	"the evidence, the audit head and seal for hand-over.\n"
	"\n"
	"  --format md|html    Markdown (default) or HTML\n"
	"  -o, --output FILE   write there (atomically) instead of standard output\n"
	"\n";

static int cmd_report(struct app *a, int argc, char **argv)
{
	static const struct fd_cli_opt o[] = {{"format", required_argument, OPT_RFORMAT, NULL},
					  {"output", required_argument, 'o', NULL}, TAIL_OPTS};
	struct fd_buf b = FD_BUF_INIT;
	const char *path = NULL;
	int64_t id;
	int ch, rc, fmt = FD_REPORT_MD;

	fd_cli_setup_command(&a->cli, u_report, GROUPS, o);
	while ((ch = fd_cli_getopt(&a->cli, argc, argv)) != -1) {
		if (ch == OPT_RFORMAT) {
			if (strcmp(optarg, "md") == 0 || strcmp(optarg, "markdown") == 0)
				fmt = FD_REPORT_MD;
			else if (strcmp(optarg, "html") == 0)
				fmt = FD_REPORT_HTML;
			else
				fd_cli_usage_error(&a->cli, "--format must be md or html, not '%s'", optarg);
		} else if (ch == 'o') {
			if (!*optarg)
				fd_cli_usage_error(&a->cli, "-o needs a file name");
			path = optarg;
		} else
			common_option(a, ch, optarg);
	}
	if (argc - optind != 1)
		fd_cli_usage_error(&a->cli, argc - optind ? "report: one case ID, please" : "report: missing ID");
	id = parse_id(a, argv[optind]);
	if (!(rc = open_store_ro(a)) && !(rc = fd_report_case(a->st, id, fmt, a->now, &b, &a->err)) &&
	    !(rc = write_buf(a, path, &b)) && path)
		say(a, "case %lld: report written to %s (%zu bytes)", (long long)id, path, b.len);
	fd_buf_release(&b);
	return rc;
}

static const char u_dashboard[] =
	"usage: fd-case dashboard --html FILE\n"
	"Write the dashboard page (self-contained HTML, inline SVG): cards for transactions, flagged\n"
	"transactions, open cases and the amount at stake; models and rule sets in use; transactions\n"
	"per day by risk level; alerts and cases opened and closed per day; the risk distribution\n"
	"(log scale, thresholds marked); cases by status; model against rules; rule hit rates and\n"
	"precision; case ageing and workload per investigator; the top rings; recent flagged\n"
	"transactions with their deciding reason.\n"
	"\n"
	"  --html FILE         write the page there ('-' = standard output)\n"
	"\n";

static int cmd_dashboard(struct app *a, int argc, char **argv)
{
	static const struct fd_cli_opt o[] = {{"html", required_argument, OPT_HTML, NULL}, TAIL_OPTS};
	struct fd_buf b = FD_BUF_INIT;
	const char *path = NULL;
	int ch, rc;

	fd_cli_setup_command(&a->cli, u_dashboard, GROUPS, o);
	while ((ch = fd_cli_getopt(&a->cli, argc, argv)) != -1) {
		if (ch == OPT_HTML) {
			if (!*optarg)
				fd_cli_usage_error(&a->cli, "--html needs a file name");
			path = optarg;
		} else
			common_option(a, ch, optarg);
	}
	if (!path)
		fd_cli_usage_error(&a->cli, "dashboard: needs --html FILE");
	if (optind < argc)
		fd_cli_usage_error(&a->cli, "dashboard: unexpected argument '%s'", argv[optind]);
	if (!(rc = open_store_ro(a)) && !(rc = fd_report_dashboard(a->st, a->now, &b, &a->err)) &&
	    !(rc = write_buf(a, path, &b)) && strcmp(path, "-") != 0)
		say(a, "dashboard written to %s (%zu bytes)", path, b.len);
	fd_buf_release(&b);
	return rc;
}

/* ---- main -------------------------------------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*fn)(struct app *, int, char **);
} commands[] = {
	{"create", cmd_create}, {"list", cmd_list}, {"show", cmd_show}, {"status", cmd_status},
	{"assign", cmd_assign}, {"note", cmd_note}, {"link", cmd_link}, {"related", cmd_related},
	{"prioritize", cmd_prioritize}, {"auto", cmd_auto}, {"sla", cmd_sla},
	{"duplicates", cmd_duplicates}, {"merge", cmd_merge}, {"user", cmd_user}, {"report", cmd_report},
	{"dashboard", cmd_dashboard},
};

int main(int argc, char **argv)
{
	static const struct fd_cli_opt o[] = {TAIL_OPTS};
	struct app a;
	size_t i;
	int ch, rc = FD_OK, r2;

	memset(&a, 0, sizeof(a));
	a.now = INT64_MIN;
	fd_cli_setup(&a.cli, "fd-case", usage, GROUPS, o);
	a.t0 = fd_now();
	while ((ch = fd_cli_getopt_head(&a.cli, argc, argv)) != -1)
		common_option(&a, ch, optarg);
	if (optind >= argc)
		fd_cli_usage_error(&a.cli, "missing COMMAND");
	a.cmd = argv[optind];
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, a.cmd) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0]))
		fd_cli_usage_error(&a.cli, "unknown command '%s'", a.cmd);
	if (a.cli.metrics && !(a.metrics = fd_metrics_create("fd-case"))) {
		fd_cli_msg(&a.cli, "out of memory");
		return FD_EIO;
	}
	{
		int sargc = argc - optind;
		char **sargv = argv + optind;

		optind = 0; /* restart getopt on the command's arguments */
		rc = commands[i].fn(&a, sargc, sargv);
	}
	if (rc)
		fd_cli_report(&a.cli, &a.err);
	if (a.metrics) {
		struct fd_err e2 = {0};

		if (fd_metrics_write(a.metrics, a.cli.metrics, rc == 0, fd_now() - a.t0, &e2) && !rc)
			rc = fd_cli_report(&a.cli, &e2);
		fd_metrics_free(a.metrics);
	}
	fd_store_close(a.st);
	r2 = fd_cli_close_stdout(&a.cli);
	return rc ? rc : r2;
}
