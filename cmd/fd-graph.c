/*
 * fd-graph — the entity network of the evidence store: neighbourhoods, candidate rings,
 * time-ordered money cycles, fan-in / fan-out patterns and per-entity statistics, written as
 * CSV, JSON, DOT or GraphML.  See man/fd-graph.1.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fd_graph.h"
#include "fd_io.h"
#include "fd_metrics.h"
#include "fd_role.h"
#include "fd_store.h"
#include "fd_txn.h"
#include "banned.h"

static const char synopsis[] =
	"usage: fd-graph COMMAND [options]\n"
	"The entity network of the evidence store: who pays whom, who shares a device, an IP, a\n"
	"phone, an e-mail or an address, and the patterns in it.\n"
	"\n"
	"Commands:\n"
	"  neighbors ID        nodes and edges within --depth hops of an entity (C000123,\n"
	"                      account:C000123, device:D0000042, ip:203.0.113.7, phone:+4420...)\n"
	"  components          connected groups over shared identifiers: candidate rings, ranked\n"
	"  cycles              time-ordered money cycles, ranked by suspicion, every transfer shown\n"
	"  fan                 fan-in and fan-out (and with --kind the other typologies), ranked\n"
	"  rings               every typology, overlapping findings merged into rings with roles\n"
	"  stats               degree, money flow, clustering coefficient and PageRank per entity\n"
	"\n";

enum {
	OPT_SINCE = FD_OPT_TOOL_BASE, OPT_UNTIL, OPT_MIN_AMOUNT, OPT_CURRENCY, OPT_EDGES, OPT_ATTRS, OPT_TOP,
	OPT_DEPTH, OPT_FANOUT, OPT_MIN_ACC, OPT_MAX_ACC, OPT_MIN_LEN, OPT_MAX_LEN, OPT_WINDOW, OPT_KIND,
	OPT_MIN_IN, OPT_MIN_OUT, OPT_MIN_PASS, OPT_SAVE, OPT_HUB_MIN, OPT_KEEP_HUBS, OPT_EXCLUDE, OPT_ANY_AMOUNT,
	OPT_PAIR_MAX, OPT_CASE, OPT_END
};

static const struct fd_cli_opt opts[] = {
	{"since", required_argument, OPT_SINCE,
		"Filters (every command):\n"
		"  --since TIME        only transactions at or after TIME (RFC 3339, a date, or epoch)\n"},
	{"until", required_argument, OPT_UNTIL, "  --until TIME        only transactions before TIME\n"},
	{"min-amount", required_argument, OPT_MIN_AMOUNT,
		"  --min-amount AMOUNT leave out money (transfers, payments) below AMOUNT\n"},
	{"currency", required_argument, OPT_CURRENCY,
		"  --currency CODE     money in this currency (default: the most common)\n"},
	{"edges", required_argument, OPT_EDGES,
		"  --edges KINDS       edge kinds, comma-separated: transfer, payment, device, ip, attr,\n"
		"                      link, or money, shared, links, all (defaults: see each command)\n"},
	{"attrs", required_argument, OPT_ATTRS,
		"  --attrs KEYS        metadata columns that identify a person (default phone,email,address)\n"
		"\n"
		"Output:\n"},
	{"format", required_argument, FD_OPT_FORMAT, "  --format FMT        csv (default), json, dot or graphml\n"},
	{"output", required_argument, 0,
		"  -o, --output FILE   write there (complete or not at all) instead of standard output\n"},
	{"excel-safe", no_argument, 0, "  --excel-safe        CSV: quote text a spreadsheet would run as a formula\n"},
	{"top", required_argument, OPT_TOP,
		"  --top N             only the N highest-ranked findings (default: all)\n"
		"\n"
		"neighbors:  --depth N (1-3, default 1)  --max-fanout N (default 100; 0 = no limit)\n"
		"            (default edges: all)\n"
		"components: --min-accounts N (default 2)  --max-accounts N (default 0 = no limit)\n"
		"            (default edges: shared,links; money is always read for the flows)\n"
		"cycles, fan, rings (ranked by a suspicion score 0-100 with its reasons):\n"
		"            --window DUR (default 70d)  --hub-min N (default 1000 counterparties: hubs are\n"
		"            set aside and listed)  --keep-hubs  --exclude ID[,ID...]\n"
		"            (default edges: transfer)\n"
		"cycles:     --min-length N (default 2)  --max-length K (default 10)  --pair-max N (default 3\n"
		"            transfers per pair; 0 = any)  --any-amount (else each hop 80-101% of the one before)\n"
		"fan:        --kind LIST (fan-in, fan-out, gather-scatter, scatter-gather, bipartite, stack;\n"
		"            default fan-in,fan-out; rings: all)  --min-in N  --min-out N (fans: 5 legs, the\n"
		"            others 3 a side, bipartite 2)  --min-pass R (default 0.5)\n"
		"rings:      the options of cycles and fan\n"
		"stats:      --save  write degree, pagerank, clustering, flow_in, flow_out into\n"
		"            entities.attrs (one store transaction, with an audit entry)\n"
		"            (default edges: all)\n"
		"\n"},
	{"depth", required_argument, OPT_DEPTH, NULL},
	{"max-fanout", required_argument, OPT_FANOUT, NULL},
	{"min-accounts", required_argument, OPT_MIN_ACC, NULL},
	{"max-accounts", required_argument, OPT_MAX_ACC, NULL},
	{"min-length", required_argument, OPT_MIN_LEN, NULL},
	{"max-length", required_argument, OPT_MAX_LEN, NULL},
	{"window", required_argument, OPT_WINDOW, NULL},
	{"kind", required_argument, OPT_KIND, NULL},
	{"min-in", required_argument, OPT_MIN_IN, NULL},
	{"min-out", required_argument, OPT_MIN_OUT, NULL},
	{"min-pass", required_argument, OPT_MIN_PASS, NULL},
	{"save", no_argument, OPT_SAVE, NULL},
	{"hub-min", required_argument, OPT_HUB_MIN, NULL},
	{"keep-hubs", no_argument, OPT_KEEP_HUBS, NULL},
	{"exclude", required_argument, OPT_EXCLUDE, NULL},
	{"any-amount", no_argument, OPT_ANY_AMOUNT, NULL},
	{"pair-max", required_argument, OPT_PAIR_MAX, NULL},
	{"case", required_argument, OPT_CASE, NULL},
	{"store", required_argument, 0, NULL},
	{"actor", required_argument, 0,
		"  --actor NAME        who is acting, for --save (default $FD_ACTOR, else the login name)\n"},
	{"metrics", required_argument, 0, NULL},
	{NULL, 0, 0, NULL},
};

enum { CMD_NEIGHBORS, CMD_COMPONENTS, CMD_CYCLES, CMD_FAN, CMD_RINGS, CMD_STATS, NCMD };
static const char *const cmd_name[NCMD] = {"neighbors", "components", "cycles", "fan", "rings", "stats"};
#define CMDS_RANKED (1u << CMD_CYCLES | 1u << CMD_FAN | 1u << CMD_RINGS)

/* The command-specific options and the commands that take them. */
static const struct {
	int opt;
	const char *name;
	unsigned cmds;
} own_opts[] = {
	{OPT_DEPTH, "--depth", 1u << CMD_NEIGHBORS},
	{OPT_FANOUT, "--max-fanout", 1u << CMD_NEIGHBORS},
	{OPT_MIN_ACC, "--min-accounts", 1u << CMD_COMPONENTS},
	{OPT_MAX_ACC, "--max-accounts", 1u << CMD_COMPONENTS},
	{OPT_MIN_LEN, "--min-length", 1u << CMD_CYCLES | 1u << CMD_RINGS},
	{OPT_MAX_LEN, "--max-length", 1u << CMD_CYCLES | 1u << CMD_RINGS},
	{OPT_WINDOW, "--window", CMDS_RANKED},
	{OPT_KIND, "--kind", 1u << CMD_FAN | 1u << CMD_RINGS},
	{OPT_MIN_IN, "--min-in", 1u << CMD_FAN | 1u << CMD_RINGS},
	{OPT_MIN_OUT, "--min-out", 1u << CMD_FAN | 1u << CMD_RINGS},
	{OPT_MIN_PASS, "--min-pass", 1u << CMD_FAN | 1u << CMD_RINGS},
	{OPT_SAVE, "--save", 1u << CMD_STATS},
	{OPT_HUB_MIN, "--hub-min", CMDS_RANKED},
	{OPT_KEEP_HUBS, "--keep-hubs", CMDS_RANKED},
	{OPT_EXCLUDE, "--exclude", CMDS_RANKED},
	{OPT_ANY_AMOUNT, "--any-amount", 1u << CMD_CYCLES | 1u << CMD_RINGS},
	{OPT_PAIR_MAX, "--pair-max", 1u << CMD_CYCLES | 1u << CMD_RINGS},
	{OPT_CASE, "--case", 1u << CMD_RINGS},
	{OPT_TOP, "--top", ~(1u << CMD_NEIGHBORS)},
};

/* Split a comma-separated list in place into list[] (at most max). */
static size_t split_list(const struct fd_cli *cli, const char *opt, char *s, const char **list, size_t max)
{
	size_t n = 0;
	char *p = s, *e;

	for (;;) {
		e = strchr(p, ',');
		if (e)
			*e = '\0';
		if (!*p)
			fd_cli_usage_error(cli, "%s: empty name in the list", opt);
		if (n == max)
			fd_cli_usage_error(cli, "%s: more than %zu names", opt, max);
		list[n++] = p;
		if (!e)
			break;
		p = e + 1;
	}
	return n;
}

/*
 * Set aside the accounts of --exclude (a comma-separated list of kind:key or account keys)
 * and, unless hub_min is 0, the hubs; list them on stderr.
 */
static int set_aside(const struct fd_cli *cli, struct fd_graph *g, char *list, uint32_t hub_min, uint32_t **hubs,
		     size_t *nhubs, struct fd_err *err)
{
	char vis[128];
	int rc;
	size_t i;

	for (char *p = list, *e; p; p = e ? e + 1 : NULL) {
		const char *kind = "account", *key = p, *colon;
		int64_t x;

		if ((e = strchr(p, ',')))
			*e = '\0';
		if ((colon = strchr(p, ':'))) {
			*(char *)colon = '\0';
			kind = p;
			key = colon + 1;
		}
		if ((x = fd_graph_find(g, kind, key)) < 0)
			return fd_err_set(err, FD_EUSAGE, "--exclude: no %s '%s' in the graph", kind,
					  fd_visible(vis, sizeof(vis), key, strlen(key)));
		if ((rc = fd_graph_exclude(g, (uint32_t)x, err)))
			return rc;
	}
	if (!hub_min)
		return FD_OK;
	if ((rc = fd_graph_hubs(g, hub_min, hubs, nhubs, err)))
		return rc;
	for (i = 0; i < *nhubs && !cli->quiet; i++) {
		struct fd_graph_node_info n;

		fd_graph_node_get(g, (*hubs)[i], &n);
		fd_cli_msg(cli, "set aside hub %s:%s with %u counterparties (at least --hub-min %u; --keep-hubs keeps it)",
			   n.kind, fd_visible(vis, sizeof(vis), n.key, strlen(n.key)), fd_graph_counterparties(g, (*hubs)[i]), hub_min);
	}
	return FD_OK;
}

/* --case: the top rings into a new case (id 0) or case id (fd_graph_rings_to_case). */
static int rings_to_case(const struct fd_cli *cli, struct fd_store *st, const struct fd_graph *g,
			 const struct fd_graph_rings *r, size_t top, long long id, struct fd_err *err)
{
	size_t n = top && top < r->n ? top : r->n, nt, ne;
	int64_t made;
	int rc;

	if (!n) {
		if (!cli->quiet)
			fd_cli_msg(cli, "--case: no ring to add");
		return FD_OK;
	}
	if ((rc = fd_graph_rings_to_case(st, g, r, top, id, &made, &nt, &ne, err)))
		return rc;
	if (!cli->quiet)
		fd_cli_msg(cli, "--case: %zu ring%s (%zu accounts, %zu transfers) %s case %lld", n, n > 1 ? "s" : "", ne, nt,
			   id ? "added to" : "opened as", (long long)made);
	return FD_OK;
}

/* What the command line asks for. */
struct opts {
	struct fd_graph_opts go;
	const char *output, *edges_arg, *attrs[FD_GRAPH_MAX_ATTRS], *id;
	char *attrs_buf, *exclude_buf;
	unsigned given, edges, fan_kinds;
	int format, cmd, depth, max_fanout, min_len, max_len, save, keep_hubs, any_amount, case_given;
	long long case_id, top, min_acc, max_acc, min_in, min_out, hub_min, pair_max;
	double min_pass;
	int64_t window;
};

/* The options into o; FD_EIO when out of memory, usage errors exit. */
static int parse_options(struct fd_cli *cli, struct opts *o, int argc, char **argv)
{
	struct fd_err err = {0};
	char vis[128];
	int c;

	memset(o, 0, sizeof(*o));
	o->format = FD_GRAPH_CSV;
	o->cmd = -1;
	o->depth = 1;
	o->max_fanout = 100;
	o->min_len = 2;
	o->max_len = 10;
	o->min_acc = 2;
	o->hub_min = 1000;
	o->pair_max = 3;
	o->min_pass = 0.5;
	o->window = -1;
	fd_graph_opts_init(&o->go);
	while ((c = fd_cli_getopt(cli, argc, argv)) != -1) {
		if (c >= FD_OPT_TOOL_BASE && c < OPT_END)
			o->given |= 1u << (c - FD_OPT_TOOL_BASE);
		switch (c) {
		case FD_OPT_FORMAT:
			if ((o->format = fd_graph_format_parse(optarg)) < 0)
				fd_cli_usage_error(cli, "--format must be csv, json, dot or graphml, not '%s'",
						   fd_visible(vis, sizeof(vis), optarg, strlen(optarg)));
			break;
		case OPT_SINCE: o->go.since = fd_cli_time(cli, "--since", optarg, 0); break;
		case OPT_UNTIL: o->go.until = fd_cli_time(cli, "--until", optarg, 0); break;
		case OPT_MIN_AMOUNT: {
			const char *why = fd_parse_amount(optarg, strlen(optarg), FD_GRAPH_AMOUNT_EXP, &o->go.min_amount);

			if (!why && o->go.min_amount < 0)
				why = "negative";
			if (why)
				fd_cli_usage_error(cli, "--min-amount '%s': %s", fd_visible(vis, sizeof(vis), optarg, strlen(optarg)),
						   why);
			break;
		}
		case OPT_CURRENCY:
			if (strlen(optarg) != 3 || fd_currency_exponent(optarg) < 0)
				fd_cli_usage_error(cli, "--currency '%s' is not an ISO 4217 code (upper case, e.g. EUR)",
						   fd_visible(vis, sizeof(vis), optarg, strlen(optarg)));
			o->go.currency = optarg;
			break;
		case OPT_EDGES:
			if (fd_graph_parse_kinds(optarg, &o->edges, &err))
				fd_cli_usage_error(cli, "--edges: %s", err.msg);
			o->edges_arg = optarg;
			break;
		case OPT_ATTRS:
			free(o->attrs_buf);
			if (!(o->attrs_buf = strdup(optarg))) {
				fd_cli_msg(cli, "out of memory");
				return FD_EIO;
			}
			o->go.nattrs = split_list(cli, "--attrs", o->attrs_buf, o->attrs, FD_GRAPH_MAX_ATTRS);
			o->go.attrs = o->attrs;
			break;
		case OPT_TOP: o->top = fd_cli_int(cli, "--top", optarg, 0, INT32_MAX); break;
		case OPT_DEPTH: o->depth = (int)fd_cli_int(cli, "--depth", optarg, 1, 3); break;
		case OPT_FANOUT: o->max_fanout = (int)fd_cli_int(cli, "--max-fanout", optarg, 0, INT32_MAX); break;
		case OPT_MIN_ACC: o->min_acc = fd_cli_int(cli, "--min-accounts", optarg, 1, UINT32_MAX); break;
		case OPT_MAX_ACC: o->max_acc = fd_cli_int(cli, "--max-accounts", optarg, 0, UINT32_MAX); break;
		case OPT_MIN_LEN: o->min_len = (int)fd_cli_int(cli, "--min-length", optarg, 2, 30); break;
		case OPT_MAX_LEN: o->max_len = (int)fd_cli_int(cli, "--max-length", optarg, 2, 30); break;
		case OPT_WINDOW: o->window = fd_cli_duration(cli, "--window", optarg); break;
		case OPT_KIND: {
			char *buf = strdup(optarg), *p, *e;

			if (!buf) {
				fd_cli_msg(cli, "out of memory");
				return FD_EIO;
			}
			o->fan_kinds = 0;
			for (p = buf;; p = e + 1) {
				int k;

				if ((e = strchr(p, ',')))
					*e = '\0';
				for (k = 0; k < FD_FAN_NKINDS && strcmp(p, fd_graph_fan_name[k]) != 0; k++)
					;
				if (k == FD_FAN_NKINDS)
					fd_cli_usage_error(cli, "--kind: unknown pattern '%s' (fan-in, fan-out, gather-scatter, "
							   "scatter-gather, bipartite, stack)", fd_visible(vis, sizeof(vis), p, strlen(p)));
				o->fan_kinds |= 1u << k;
				if (!e)
					break;
			}
			free(buf);
			break;
		}
		case OPT_MIN_IN: o->min_in = fd_cli_int(cli, "--min-in", optarg, 1, UINT32_MAX); break;
		case OPT_MIN_OUT: o->min_out = fd_cli_int(cli, "--min-out", optarg, 1, UINT32_MAX); break;
		case OPT_MIN_PASS: o->min_pass = fd_cli_double(cli, "--min-pass", optarg, 0, 1000); break;
		case OPT_SAVE: o->save = 1; break;
		case OPT_HUB_MIN: o->hub_min = fd_cli_int(cli, "--hub-min", optarg, 2, UINT32_MAX); break;
		case OPT_KEEP_HUBS: o->keep_hubs = 1; break;
		case OPT_CASE: {
			char *end;

			o->case_id = 0;
			if (strcmp(optarg, "new") != 0 &&
			    (!isdigit((unsigned char)*optarg) || (o->case_id = strtoll(optarg, &end, 10)) <= 0 || *end))
				fd_cli_usage_error(cli, "--case takes 'new' or the number of a case, not '%s'",
						   fd_visible(vis, sizeof(vis), optarg, strlen(optarg)));
			o->case_given = 1;
			break;
		}
		case OPT_PAIR_MAX: o->pair_max = fd_cli_int(cli, "--pair-max", optarg, 0, INT32_MAX); break;
		case OPT_ANY_AMOUNT: o->any_amount = 1; break;
		case OPT_EXCLUDE: {
			size_t old = o->exclude_buf ? strlen(o->exclude_buf) : 0;
			char *p = realloc(o->exclude_buf, old + strlen(optarg) + 2);

			if (!p) {
				fd_cli_msg(cli, "out of memory");
				return FD_EIO;
			}
			if (old)
				p[old++] = ',';
			memcpy(p + old, optarg, strlen(optarg) + 1);
			o->exclude_buf = p;
			break;
		}
		}
	}
	o->output = cli->output;
	fd_cli_finish(cli);
	return FD_OK;
}

/* The command and its argument after the options; the options checked against it; the edges
 * to build and the defaults that depend on the command.  Usage errors exit. */
static void parse_command(struct fd_cli *cli, struct opts *o, int argc, char **argv)
{
	char vis[128];
	size_t i;
	int c;

	if (optind >= argc)
		fd_cli_usage_error(cli, "missing command (neighbors, components, cycles, fan, rings, stats)");
	for (c = 0; c < NCMD; c++)
		if (strcmp(argv[optind], cmd_name[c]) == 0)
			o->cmd = c;
	if (o->cmd < 0)
		fd_cli_usage_error(cli, "unknown command '%s' (neighbors, components, cycles, fan, rings, stats)",
				   fd_visible(vis, sizeof(vis), argv[optind], strlen(argv[optind])));
	optind++;
	if (o->cmd == CMD_NEIGHBORS) {
		if (optind >= argc)
			fd_cli_usage_error(cli, "neighbors needs the ID of an entity (e.g. account:C000123)");
		o->id = argv[optind++];
	}
	if (optind < argc)
		fd_cli_usage_error(cli, "unexpected argument '%s' after %s", fd_visible(vis, sizeof(vis), argv[optind],
										 strlen(argv[optind])), cmd_name[o->cmd]);
	for (i = 0; i < sizeof(own_opts) / sizeof(own_opts[0]); i++)
		if ((o->given & (1u << (own_opts[i].opt - FD_OPT_TOOL_BASE))) && !(own_opts[i].cmds & (1u << o->cmd)))
			fd_cli_usage_error(cli, "%s does not apply to %s", own_opts[i].name, cmd_name[o->cmd]);
	if (o->go.since >= o->go.until)
		fd_cli_usage_error(cli, "--since must be before --until");
	if (o->min_len > o->max_len)
		fd_cli_usage_error(cli, "--min-length %d is above --max-length %d", o->min_len, o->max_len);
	if (o->max_acc && o->max_acc < o->min_acc)
		fd_cli_usage_error(cli, "--max-accounts %lld is below --min-accounts %lld", o->max_acc, o->min_acc);

	/* which edges to build */
	switch (o->cmd) {
	case CMD_NEIGHBORS:
	case CMD_STATS:
		o->go.kinds = o->edges_arg ? o->edges : FD_GRAPH_ALL;
		break;
	case CMD_COMPONENTS:
		if (!o->edges_arg)
			o->edges = FD_GRAPH_SHARED | FD_GRAPH_BIT(FD_GRAPH_LINK);
		o->go.kinds = o->edges | FD_GRAPH_MONEY;
		break;
	default:
		o->go.kinds = (o->edges_arg ? o->edges : FD_GRAPH_BIT(FD_GRAPH_TRANSFER)) & FD_GRAPH_MONEY;
		if (!o->go.kinds)
			fd_cli_usage_error(cli, "--edges must name money edges (transfer, payment) for %s", cmd_name[o->cmd]);
		o->go.keep_txns = 1;
		break;
	}
	if (o->window < 0)
		o->window = 70 * FD_DAY_MS;
	if (o->case_given && !(o->given & (1u << (OPT_TOP - FD_OPT_TOOL_BASE))))
		o->top = 1;
}

/* The results of the commands, released together. */
struct results {
	struct fd_graph_comps comps;
	struct fd_graph_cycles cycles;
	struct fd_graph_fans fans;
	struct fd_graph_rings rings;
	struct fd_graph_stats stats;
};

static void results_release(struct results *res)
{
	fd_graph_comps_release(&res->comps);
	fd_graph_cycles_release(&res->cycles);
	fd_graph_fans_release(&res->fans);
	fd_graph_rings_release(&res->rings);
	fd_graph_stats_release(&res->stats);
}

/* cycles, fan, rings: find and rank, write, say what was found. */
static int run_ranked(const struct fd_cli *cli, const struct opts *o, struct fd_graph *g, struct results *res,
		      struct fd_out *out, int64_t *findings, struct fd_err *err)
{
	struct fd_graph_cycle_opts co = {o->min_len, o->max_len, o->window, 0, o->any_amount ? 0 : 0.8,
					  o->any_amount ? 0 : 1.01, o->pair_max};
	struct fd_graph_pattern_opts po;
	size_t nk[FD_FAN_NKINDS] = {0};
	size_t i;
	int rc;

	/* --min-in / --min-out: the fewest legs of a fan (the larger given) and of the sides
	 * of the other patterns (the smaller given) */
	fd_graph_pattern_opts_init(&po);
	po.kinds = o->fan_kinds ? o->fan_kinds : o->cmd == CMD_FAN ? FD_GRAPH_BIT(FD_FAN_IN) | FD_GRAPH_BIT(FD_FAN_OUT) : 0;
	po.window = o->window;
	po.min_pass = o->min_pass;
	if (o->min_in || o->min_out) {
		long long hi = o->min_in > o->min_out ? o->min_in : o->min_out, lo = o->min_in && o->min_out ? (o->min_in < o->min_out ? o->min_in : o->min_out) : hi;

		po.min_legs = (uint32_t)hi;
		po.gs_min = po.sg_min = po.bp_min = (uint32_t)(lo < 2 ? 2 : lo);
	}
	if (o->cmd != CMD_FAN && ((rc = fd_graph_cycles_find(g, &co, &res->cycles, err)) ||
			       (rc = fd_graph_cycles_rank(g, &res->cycles, o->window, err))))
		return rc;
	if (o->cmd != CMD_CYCLES && (rc = fd_graph_patterns(g, &po, &res->fans, err)))
		return rc;
	if (o->cmd == CMD_RINGS && (rc = fd_graph_rings(g, &res->cycles, &res->fans, &res->rings, err)))
		return rc;
	if (o->cmd == CMD_CYCLES)
		rc = fd_graph_cycles_write(g, &res->cycles, (size_t)o->top, o->format, out, err);
	else if (o->cmd == CMD_FAN)
		rc = fd_graph_fans_write(g, &res->fans, (size_t)o->top, o->format, out, err);
	else
		rc = fd_graph_rings_write(g, &res->rings, (size_t)o->top, o->format, out, err);
	if (rc)
		return rc;
	*findings = (int64_t)(o->cmd == CMD_CYCLES ? res->cycles.n : o->cmd == CMD_FAN ? res->fans.n : res->rings.n);
	for (i = 0; i < res->fans.n; i++)
		nk[res->fans.f[i].kind]++;
	if (!cli->quiet && o->cmd != CMD_FAN) {
		fd_cli_msg(cli, "%u transfers between %u nodes; %zu time-ordered cycles of %d-%d transfers within %.4g days%s",
			   fd_graph_move_count(g), fd_graph_node_count(g), res->cycles.n, o->min_len, o->max_len,
			   (double)o->window / (double)FD_DAY_MS, o->any_amount ? "" : ", each hop 80-101% of the one before");
		if (res->cycles.truncated)
			fd_cli_msg(cli, "warning: the search stopped after %llu steps; narrow it with --since/--until, "
				   "--window or --max-length", (unsigned long long)res->cycles.steps);
	}
	if (!cli->quiet && o->cmd != CMD_CYCLES)
		fd_cli_msg(cli, "%zu patterns within %.4g days: %zu fan-in, %zu fan-out, %zu gather-scatter, "
			   "%zu scatter-gather, %zu bipartite, %zu stack", res->fans.n, (double)o->window / (double)FD_DAY_MS, nk[0], nk[1],
			   nk[2], nk[3], nk[4], nk[5]);
	if (!cli->quiet && o->cmd == CMD_RINGS)
		fd_cli_msg(cli, "%zu rings (findings merged where they share a transfer, or two accounts and half of the smaller), ranked by suspicion", res->rings.n);
	return FD_OK;
}

/* Run the command on the loaded graph: write its output, say what was found; *findings
 * receives the count for the metrics. */
static int run(const struct fd_cli *cli, const struct opts *o, struct fd_store *st, struct fd_graph *g,
	       struct results *res, struct fd_out *out, int64_t *findings, struct fd_err *err)
{
	int rc;

	switch (o->cmd) {
	case CMD_NEIGHBORS:
		if ((rc = fd_graph_write(g, o->format, out, err)))
			return rc;
		*findings = fd_graph_node_count(g);
		if (!cli->quiet)
			fd_cli_msg(cli, "%s: %u nodes, %u edges within %d hop%s%s%s", o->id, fd_graph_node_count(g),
				   fd_graph_edge_count(g), o->depth, o->depth > 1 ? "s" : "", *fd_graph_currency(g) ? "; money in " : "",
				   fd_graph_currency(g));
		return FD_OK;
	case CMD_COMPONENTS:
		if ((rc = fd_graph_components(g, o->edges, (uint32_t)o->min_acc, (uint32_t)o->max_acc, &res->comps, err)) ||
		    (rc = fd_graph_comps_write(g, &res->comps, (size_t)o->top, o->format, out, err)))
			return rc;
		*findings = (int64_t)res->comps.n;
		if (!cli->quiet)
			fd_cli_msg(cli, "%u nodes, %u edges; %zu candidate rings of %lld%s accounts (of %zu connected groups)",
				   fd_graph_node_count(g), fd_graph_edge_count(g), res->comps.n, o->min_acc, o->max_acc ? "" : " or more",
				   res->comps.ngroups);
		return FD_OK;
	case CMD_CYCLES:
	case CMD_FAN:
	case CMD_RINGS:
		if ((rc = run_ranked(cli, o, g, res, out, findings, err)))
			return rc;
		if (o->case_given)
			return rings_to_case(cli, st, g, &res->rings, (size_t)o->top, o->case_id, err);
		return FD_OK;
	case CMD_STATS:
		if ((rc = fd_graph_stats(g, &res->stats, err)) || (rc = fd_graph_stats_write(g, &res->stats, (size_t)o->top, o->format, out, err)))
			return rc;
		*findings = fd_graph_node_count(g);
		if (!cli->quiet)
			fd_cli_msg(cli, "%u nodes, %u edges; PageRank after %d rounds", fd_graph_node_count(g),
				   fd_graph_edge_count(g), res->stats.iterations);
		if (o->save) {
			int64_t written;

			if ((rc = fd_graph_stats_save(st, g, &res->stats, &written, err)))
				return rc;
			if (!cli->quiet)
				fd_cli_msg(cli, "--save: graph statistics written to the attrs of %lld entities",
					   (long long)written);
		}
		return FD_OK;
	}
	return FD_OK;
}

int main(int argc, char **argv)
{
	struct fd_cli cli;
	struct opts o;
	struct results res;
	struct fd_err err = {0};
	struct fd_store *st = NULL;
	struct fd_graph *g = NULL;
	struct fd_metrics *metrics = NULL;
	struct fd_out *out = NULL;
	struct fd_who who;
	uint32_t *hubs = NULL;
	size_t nhubs = 0;
	int64_t findings = 0;
	double t0;
	int rc;

	memset(&res, 0, sizeof(res));
	fd_cli_setup(&cli, "fd-graph", synopsis,
		     FD_CLI_G_STORE | FD_CLI_G_ACTOR | FD_CLI_G_OUTPUT | FD_CLI_G_EXCEL | FD_CLI_G_METRICS, opts);
	if (parse_options(&cli, &o, argc, argv)) {
		free(o.attrs_buf);
		free(o.exclude_buf);
		return FD_EIO;
	}
	t0 = fd_now();
	parse_command(&cli, &o, argc, argv);

	if (cli.metrics && !(metrics = fd_metrics_create("fd-graph"))) {
		rc = fd_err_set(&err, FD_EIO, "out of memory");
		goto fail;
	}
	o.go.excel_safe = cli.excel_safe;
	if ((rc = fd_graph_create(&g, &o.go, &err)))
		goto fail;
	who.actor = cli.actor;
	who.tool = "fd-graph";
	who.version = FD_VERSION;
	if ((rc = fd_store_open(&st, cli.store, o.save || o.case_given ? 0 : FD_STORE_READONLY, &who, &err)) ||
	    (o.save && (rc = fd_role_authorize(st, FD_ACT_GRAPH, "attrs", &err))))
		goto fail;
	/* the neighbourhood reads rows scattered over the file: map it rather than pread each page
	 * (the other commands read it in order, where pread is as fast and the RSS stays honest) */
	if (o.cmd == CMD_NEIGHBORS && (rc = fd_store_exec(st, "PRAGMA mmap_size = 17179869184", &err)))
		goto fail;
	if (o.output) {
		const char *avoid[] = {cli.store, NULL};

		if ((rc = fd_out_open(&out, o.output, avoid, &err)))
			goto fail;
	} else if ((rc = fd_out_open(&out, NULL, NULL, &err)))
		goto fail;

	if (o.cmd == CMD_NEIGHBORS)
		rc = fd_graph_load_ego(g, st, o.id, o.depth, o.max_fanout, &err);
	else
		rc = fd_graph_load(g, st, &err);
	if (rc || (rc = fd_graph_finish(g, &err)))
		goto fail;
	if ((CMDS_RANKED & (1u << o.cmd)) && (rc = set_aside(&cli, g, o.exclude_buf, o.keep_hubs ? 0 : (uint32_t)o.hub_min,
							      &hubs, &nhubs, &err)))
		goto fail;
	if ((rc = run(&cli, &o, st, g, &res, out, &findings, &err)))
		goto fail;
	if (!cli.quiet && fd_graph_money_dropped(g))
		fd_cli_msg(&cli, "note: %lld money transactions in other currencies than %s left out (see --currency)",
			   (long long)fd_graph_money_dropped(g), *fd_graph_currency(g) ? fd_graph_currency(g) : "the one asked for");
	rc = fd_out_commit(out, &err);
	out = NULL;
	if (rc)
		goto fail;
	if (metrics) {
		char lab[64];

		snprintf(lab, sizeof(lab), "command=\"%s\"", cmd_name[o.cmd]);
		fd_metrics_add(metrics, "fd_graph_nodes", "gauge", "Nodes of the graph built.", lab, fd_graph_node_count(g));
		fd_metrics_add(metrics, "fd_graph_edges", "gauge", "Edges of the graph built.", lab, fd_graph_edge_count(g));
		fd_metrics_add(metrics, "fd_graph_findings", "gauge", "Findings (neighbors: nodes; stats: entities).", lab,
			       (double)findings);
		if ((rc = fd_metrics_write(metrics, cli.metrics, 1, fd_now() - t0, &err)))
			goto fail;
	}
	goto out;
fail:
	rc = fd_cli_report(&cli, &err);
	if (metrics)
		fd_metrics_write(metrics, cli.metrics, 0, fd_now() - t0, &err);
out:
	fd_out_abort(out);
	results_release(&res);
	free(hubs);
	free(o.exclude_buf);
	fd_graph_free(g);
	fd_store_close(st);
	fd_metrics_free(metrics);
	free(o.attrs_buf);
	{
		int r2 = fd_cli_close_stdout(&cli);

		if (!rc)
			rc = r2;
	}
	return rc;
}
