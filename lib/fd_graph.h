/*
 * fd_graph.h — the entity network: who pays whom, who shares what, and the patterns in it.
 *
 * A graph is built from transactions (and explicit entity links) into compact arrays: nodes
 * are entities, numbered densely through fd_intern; edges are aggregated per (source,
 * destination, kind) with a count, a money total, the first and last time, how many of their
 * transactions are flagged and the highest risk among them.  After fd_graph_finish() the edges
 * are in CSR form (out- and in-adjacency) and the algorithms below run on them.
 *
 * Nodes.  Kinds "account", "merchant", "device", "ip", and one kind per profile attribute taken
 * from the transactions' metadata (opts.attrs: by default "phone", "email", "address").  A node
 * is named "kind:key" (account:C000123, device:D0000042, phone:+442079460000).
 *
 * Edges, always from the account that sent the transaction:
 *   transfer  sender -> recipient account     money: count, total, first, last
 *   payment   sender -> merchant              money (a row with a recipient is a transfer even
 *                                             when it also names a merchant)
 *   device    sender -> device it used        shared identifier
 *   ip        sender -> IP address it used    shared identifier
 *   attr      sender -> phone / email / ...   shared identifier, from metadata
 *   link      explicit entity_links rows whose kind is not uses_device / uses_ip, in their
 *             own direction, labelled with their kind
 *
 * Money.  Only transactions with a positive amount are money flow (a reversal, amount <= 0,
 * still shows the identifiers it was made with); --min-amount leaves out smaller ones.  Amounts
 * are summed exactly in minor units of one currency: opts.currency, else the currency of most
 * money transactions in the graph (ties: alphabetical); money in other currencies is left out
 * of the graph (fd_graph_money_dropped() counts it).
 *
 * Flagged.  A transaction is flagged when its label is 1 (known fraud in the export) or when
 * its latest score (the store's latest_scores) has level HIGH or MEDIUM.  risk is the highest
 * latest risk (0-100, to the hundredth) of a node's or edge's transactions, -1 when none is
 * scored.
 *
 * Time.  Only transactions with since <= ts < until count; an explicit link counts when its
 * [first_seen, last_seen] overlaps that window.
 *
 * Everything here returns an fd_status and fills struct fd_err; nothing prints.  Outputs are
 * written to an fd_out (fd_io.h) that the caller opens and commits, or appended to an fd_buf.
 *
 * To embed a neighbourhood (e.g. in a case report):
 *	fd_graph_opts_init(&o);  fd_graph_create(&g, &o, &err);
 *	fd_graph_load_ego(g, st, "account:C000123", 2, 100, &err);  fd_graph_finish(g, &err);
 *	fd_graph_write_buf(g, FD_GRAPH_DOT, &buf, &err);  fd_graph_free(g);
 */
#ifndef FD_GRAPH_H
#define FD_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "fd_err.h"
#include "fd_io.h"
#include "fd_store.h"

/* ---- kinds --------------------------------------------------------------------------- */

enum fd_graph_kind {
	FD_GRAPH_TRANSFER,
	FD_GRAPH_PAYMENT,
	FD_GRAPH_DEVICE,
	FD_GRAPH_IP,
	FD_GRAPH_ATTR,
	FD_GRAPH_LINK,
	FD_GRAPH_NKINDS
};

#define FD_GRAPH_BIT(k) (1u << (k))
#define FD_GRAPH_MONEY (FD_GRAPH_BIT(FD_GRAPH_TRANSFER) | FD_GRAPH_BIT(FD_GRAPH_PAYMENT))
#define FD_GRAPH_SHARED (FD_GRAPH_BIT(FD_GRAPH_DEVICE) | FD_GRAPH_BIT(FD_GRAPH_IP) | FD_GRAPH_BIT(FD_GRAPH_ATTR))
#define FD_GRAPH_ALL ((1u << FD_GRAPH_NKINDS) - 1)

/* "transfer", "payment", "device", "ip", "attr", "link" in enum order. */
extern const char *const fd_graph_kind_name[FD_GRAPH_NKINDS];

/*
 * Parse a comma-separated list of edge kinds into a mask of FD_GRAPH_BIT()s: the names above
 * and the groups "money" (transfer,payment), "shared" (device,ip,attr), "links" (link) and
 * "all".  FD_EUSAGE "unknown edge kind 'x' (...)" or "empty list of edge kinds".
 */
int fd_graph_parse_kinds(const char *s, unsigned *mask, struct fd_err *err);

/* Output formats of the writers below. */
enum { FD_GRAPH_CSV = 1, FD_GRAPH_JSON, FD_GRAPH_DOT, FD_GRAPH_GRAPHML };
/* "csv", "json", "dot", "graphml" -> the enum above, or -1. */
int fd_graph_format_parse(const char *s);

/* ---- building ------------------------------------------------------------------------ */

#define FD_GRAPH_MAX_ATTRS 16
#define FD_GRAPH_AMOUNT_EXP 4  /* opts.min_amount is in units of 10^-4 of the currency's unit */

struct fd_graph_opts {
	int64_t since, until;      /* [since, until) in ms; INT64_MIN / INT64_MAX for open ends */
	int64_t min_amount;        /* money below this (in 10^-4 units: 1000.00 = 10000000) is left
				      out; 0 = no minimum */
	unsigned kinds;            /* edge kinds to build (FD_GRAPH_BIT mask); 0 = all */
	const char *currency;      /* ISO 4217 code of the money flow; NULL = the most common */
	const char *const *attrs;  /* metadata keys that are shared identifiers; NULL = phone,
				      email, address; at most FD_GRAPH_MAX_ATTRS, each a node kind */
	size_t nattrs;
	int keep_txns;             /* keep every money transaction (cycles and fans need them) */
	int excel_safe;            /* CSV exports: fd_writer_excel_safe (ids as spreadsheet text) */
};

/* Defaults: open window, no minimum, all kinds, most common currency, default attributes. */
void fd_graph_opts_init(struct fd_graph_opts *o);

struct fd_graph;

/* opts is copied (the strings too).  FD_EUSAGE for a bad option (an attribute named like a
 * built-in kind, too many attributes, a currency that is not ISO 4217), FD_EIO out of memory. */
int fd_graph_create(struct fd_graph **g, const struct fd_graph_opts *o, struct fd_err *err);
/* Accepts NULL. */
void fd_graph_free(struct fd_graph *g);

/* One transaction as the graph sees it.  Strings are borrowed for the call; NULL = absent. */
struct fd_graph_txn {
	const char *txn_id;
	int64_t ts, amount;         /* ms UTC; minor units of currency */
	const char *currency;       /* NULL = "USD" */
	const char *sender, *recipient, *merchant, *device, *ip;
	const char *metadata;       /* JSON object text with the attributes, or NULL */
	size_t metadata_len;
	int label;                  /* 1 known fraud; anything else not */
	double risk;                /* latest score risk 0-100, -1 unscored */
	int scored_flag;            /* the latest score has level HIGH or MEDIUM */
};

/* Add a transaction (outside the window: ignored).  Before fd_graph_finish() only.
 * FD_EIO out of memory; FD_EINPUT for a transaction without a sender. */
int fd_graph_add_txn(struct fd_graph *g, const struct fd_graph_txn *t, struct fd_err *err);

/* Add an explicit link of kind link_kind between two entities (kinds as node kinds).  Ignored
 * when [first, last] misses the window or link edges are not built. */
int fd_graph_add_link(struct fd_graph *g, const char *src_kind, const char *src_key,
		      const char *dst_kind, const char *dst_key, const char *link_kind,
		      int64_t first, int64_t last, int64_t count, struct fd_err *err);

/*
 * Load the whole filtered graph from the store: the transactions of the window (one scan),
 * the explicit links, and the scores for flags and risk.  Call fd_graph_finish() after.
 * FD_EIO for store errors.
 */
int fd_graph_load(struct fd_graph *g, struct fd_store *st, struct fd_err *err);

/*
 * Load only the neighbourhood of one entity, hop by hop with indexed queries (never the whole
 * store): the nodes within depth hops of spec and every edge that touches a node closer than
 * depth (so the outermost nodes show how they connect inward, not among themselves).
 * spec is "kind:key" or a bare key looked up as account, merchant, device and ip in turn
 * (FD_EUSAGE when it names more than one: "... give its kind, e.g. account:X").
 * An account is expanded through its sent and received transactions (indexes on sender and
 * recipient), a device or IP through the entity links that name it, a phone / e-mail / address
 * by scanning the window's transactions (the store has no index on metadata).  A merchant is
 * expanded only when it is spec itself (also a scan: its customers are not neighbours of
 * interest otherwise).  A node with more than max_fanout neighbours is kept but not expanded
 * (fd_graph_node_info.expanded = 0); 0 = no limit.  Statistics of the outermost nodes count
 * only the transactions read.  Call fd_graph_finish() after.
 * Errors: FD_EUSAGE "no entity 'x' in the store", ambiguous spec or bad kind; FD_EIO.
 */
int fd_graph_load_ego(struct fd_graph *g, struct fd_store *st, const char *spec, int depth,
		      int max_fanout, struct fd_err *err);

/*
 * Finish building: fix the currency, drop money in other currencies, build the adjacency and
 * sort each edge's transactions by time.  No more additions after.  FD_EIO out of memory.
 */
int fd_graph_finish(struct fd_graph *g, struct fd_err *err);

/* ---- reading the graph --------------------------------------------------------------- */

uint32_t fd_graph_node_count(const struct fd_graph *g);
uint32_t fd_graph_edge_count(const struct fd_graph *g);
/* The money currency after finish ("" when the graph has no money), its minor-unit digits,
 * and how many money transactions of other currencies were left out. */
const char *fd_graph_currency(const struct fd_graph *g);
int fd_graph_currency_exp(const struct fd_graph *g);
int64_t fd_graph_money_dropped(const struct fd_graph *g);
/* Transactions added inside the window. */
int64_t fd_graph_txn_count(const struct fd_graph *g);

/* The node of kind and key, or -1. */
int64_t fd_graph_find(const struct fd_graph *g, const char *kind, const char *key);

struct fd_graph_node_info {
	const char *kind, *key;     /* valid while the graph lives */
	int depth;                  /* hops from the start of fd_graph_load_ego, else -1 */
	int expanded;               /* ego: its neighbours were looked up; else 1 */
	int64_t txns, flagged;      /* transactions it takes part in, and how many flagged */
	int64_t sent, sent_flagged; /* accounts: transactions it sent */
	double risk;                /* highest latest risk, -1 when none scored */
	int64_t first, last;        /* times of its first and last transaction (0 when none) */
};
void fd_graph_node_get(const struct fd_graph *g, uint32_t id, struct fd_graph_node_info *n);

struct fd_graph_edge_info {
	uint32_t src, dst;
	int kind;                   /* enum fd_graph_kind */
	const char *link_kind;      /* FD_GRAPH_LINK: the entity_links kind; else NULL */
	int64_t count;              /* transactions (link: entity_links.txn_count) */
	int64_t total;              /* money edges: minor units of fd_graph_currency(); else 0 */
	int64_t first, last;
	int64_t flagged;
	double risk;                /* highest latest risk, -1 when none scored */
};
void fd_graph_edge_get(const struct fd_graph *g, uint32_t id, struct fd_graph_edge_info *e);

/* Edges out of and into a node after finish: *n edge ids, borrowed. */
const uint32_t *fd_graph_out_edges(const struct fd_graph *g, uint32_t node, uint32_t *n);
const uint32_t *fd_graph_in_edges(const struct fd_graph *g, uint32_t node, uint32_t *n);

/* Money transactions kept (opts.keep_txns), numbered 0..n-1 in (edge, time) order. */
struct fd_graph_move {
	uint32_t edge;
	const char *txn_id;
	int64_t ts, amount;
	int flagged;
};
uint32_t fd_graph_move_count(const struct fd_graph *g);
void fd_graph_move_get(const struct fd_graph *g, uint32_t id, struct fd_graph_move *m);

/* Write the graph (nodes and edges with their attributes) as CSV (one row per edge), JSON
 * ({"currency", "nodes", "edges"}), DOT or GraphML.  FD_EIO out of memory; output errors are
 * the fd_out's (fd_out_commit). */
int fd_graph_write(const struct fd_graph *g, int format, struct fd_out *out, struct fd_err *err);
/* The same as JSON, DOT or GraphML appended to b (for embedding, e.g. in a case report; CSV
 * is FD_EUSAGE).  On FD_EIO (out of memory) b may hold part of it. */
struct fd_buf;
int fd_graph_write_buf(const struct fd_graph *g, int format, struct fd_buf *b, struct fd_err *err);

/* ---- components: candidate rings ----------------------------------------------------- */

/*
 * Connected groups over the edges whose kinds are in link_kinds (typically shared identifiers
 * and explicit links; add money kinds to join by money flow too), ranked as candidate rings:
 * by number of accounts, then by shared identifiers, then by share of flagged transactions,
 * then by internal money flow (then by the smallest member name, for a stable order).
 * A group is kept when its accounts number min_accounts..max_accounts (0 = no maximum).
 */
struct fd_graph_comp {
	uint32_t *members;          /* node ids: accounts first, then the others, each by name */
	uint32_t nmembers, naccounts;
	uint32_t nshared;           /* identifiers (device, ip, attribute nodes) linked to two or
				       more of the member accounts: members[naccounts..+nshared) */
	int64_t sent, flagged;      /* transactions sent by the member accounts; how many flagged */
	int64_t flow_internal;      /* money between member accounts */
	int64_t flow_in, flow_out;  /* money from outside into members, from members to outside
				       (merchants included) */
	int64_t first, last;        /* of the member accounts' transactions */
};

struct fd_graph_comps {
	struct fd_graph_comp *c;    /* ranked */
	size_t n;
	size_t ngroups;             /* connected groups with 2+ nodes, before the size filter */
	uint32_t *pool;             /* storage of the member lists */
};

int fd_graph_components(const struct fd_graph *g, unsigned link_kinds, uint32_t min_accounts,
			uint32_t max_accounts, struct fd_graph_comps *res, struct fd_err *err);
void fd_graph_comps_release(struct fd_graph_comps *res);
/* The top (0 = all) components: CSV one row per component; JSON {"currency", "components",
 * "nodes", "edges"}; DOT and GraphML the subgraph, one cluster / group attribute per rank. */
int fd_graph_comps_write(const struct fd_graph *g, const struct fd_graph_comps *res, size_t top,
			 int format, struct fd_out *out, struct fd_err *err);

/* Bytes of a finding's reasons ("why"), with the terminating NUL. */
#define FD_GRAPH_WHY_MAX 480

/* ---- cycles -------------------------------------------------------------------------- */

/*
 * Time-respecting money cycles: a sequence of min_len..max_len money transactions
 * a1 -> a2 -> ... -> a1 through distinct accounts, each strictly later than the one before,
 * the last within window ms of the first.  A loop of transfers that are not in time order in
 * any rotation is not a cycle of money and is not reported.  Needs opts.keep_txns.
 * A cycle is reported once per sequence of accounts (in time order from its first transfer),
 * with its earliest instance as evidence (on each hop the first transfer after the previous
 * hop) and the number of transfers that start an instance.  Ranked by the smallest amount
 * that went all the way round, largest first, then by start time.
 * The search is depth-first from every money transaction, pruned by strongly connected
 * components and by the hop distance back to the start; it stops after max_steps edge
 * visits (0 = 200 million) with res->truncated = 1.
 */
struct fd_graph_cycle {
	uint32_t len;
	uint32_t *hops;             /* len move ids (fd_graph_move_get), in time order */
	int64_t start, end;         /* times of the first and last hop */
	int64_t amount_min, amount_max;
	uint32_t instances;
	uint32_t flagged;           /* hops that are flagged */
	double score;               /* suspicion 0-100 (fd_graph_cycles_rank), else 0 */
	char why[FD_GRAPH_WHY_MAX]; /* the reasons in words with the numbers, or "" */
};

struct fd_graph_cycles {
	struct fd_graph_cycle *c;
	size_t n;
	int truncated;
	uint64_t steps;
	uint32_t *pool;
};

int fd_graph_cycles(const struct fd_graph *g, int min_len, int max_len, int64_t window,
		    uint64_t max_steps, struct fd_graph_cycles *res, struct fd_err *err);

/*
 * The same search with the money's own constraint as well: each hop carries between
 * min_share and max_share of the amount of the hop before it (money passed on, less a fee;
 * 0 and 0 = any amount), and only over pairs with few transfers of their own (pair_max),
 * which prune the search on large graphs.  Hubs and excluded
 * accounts (fd_graph_exclude) are never part of a cycle.
 */
struct fd_graph_cycle_opts {
	int min_len, max_len;
	int64_t window;
	uint64_t max_steps;         /* 0 = 200 million */
	double min_share, max_share;
	int64_t pair_max;           /* only pairs of accounts with at most this many transfers in
				       the graph (fresh relationships); 0 = any */
};
int fd_graph_cycles_find(const struct fd_graph *g, const struct fd_graph_cycle_opts *o,
			 struct fd_graph_cycles *res, struct fd_err *err);

/*
 * Score each cycle for suspicion (score, why; see fd_graph_rank.c and fd-graph(1)) and sort
 * them by score, highest first (ties: the older ranking).  window is the search window, for
 * the timing evidence.  FD_EIO out of memory.
 */
int fd_graph_cycles_rank(const struct fd_graph *g, struct fd_graph_cycles *res, int64_t window,
			 struct fd_err *err);
void fd_graph_cycles_release(struct fd_graph_cycles *res);
/* CSV one row per hop; JSON {"currency", "cycles", "nodes", "edges"}; DOT and GraphML the
 * cycles' subgraph with each hop's time and amount on its edge. */
int fd_graph_cycles_write(const struct fd_graph *g, const struct fd_graph_cycles *res,
			  size_t top, int format, struct fd_out *out, struct fd_err *err);

/* ---- fans ---------------------------------------------------------------------------- */

enum fd_graph_fan_kind {
	FD_FAN_IN,              /* min_in or more distinct senders into one account in a window */
	FD_FAN_OUT,             /* one account pays min_out or more distinct recipients */
	FD_FAN_GATHER_SCATTER,  /* many in, then out to many: money passing through (mules) */
	FD_FAN_SCATTER_GATHER,  /* one account pays min_out or more accounts that each pay one
				   same destination later (layering) */
	FD_FAN_BIPARTITE,       /* senders that each pay the same recipients (many-to-many);
				   fd_graph_patterns only */
	FD_FAN_STACK,           /* bipartite layers in a chain: senders -> intermediates ->
				   recipients; fd_graph_patterns only */
	FD_FAN_NKINDS
};
/* "fan-in", "fan-out", "gather-scatter", "scatter-gather", "bipartite", "stack". */
extern const char *const fd_graph_fan_name[FD_FAN_NKINDS];

struct fd_graph_fan_opts {
	unsigned kinds;             /* FD_GRAPH_BIT(FD_FAN_*) mask; 0 = all */
	int64_t window;             /* ms */
	uint32_t min_in, min_out;   /* fan-in: distinct senders; fan-out: distinct recipients */
	uint32_t gs_min_in, gs_min_out; /* gather-scatter: distinct senders and recipients */
	double min_pass;            /* gather-scatter: money out / money in within the window */
	uint32_t sg_min;            /* scatter-gather: distinct intermediate accounts */
};

/*
 * For each account, the window (anchored at one of its transactions) with the most distinct
 * counterparties, for each kind; reported when it meets the thresholds (0 turns a kind off).
 * Gather-scatter counts the senders in [a, a + window] and the recipients paid in that window,
 * a being the time of a transfer in.  Ranked by distinct counterparties, then money, then
 * start.  Needs opts.keep_txns.
 */
struct fd_graph_fan {
	int kind;
	uint32_t center;            /* the account; scatter-gather: the source */
	int64_t other;              /* scatter-gather: the destination; else -1 */
	int64_t start, end;         /* of the evidence */
	uint32_t nin, nout;         /* distinct senders in / recipients out (scatter-gather: the
				       intermediate accounts, both) */
	int64_t in_total, out_total;
	uint32_t *moves;            /* the evidence: move ids, in time order */
	uint32_t nmoves;
	uint32_t flagged;
	double score;               /* suspicion 0-100 (fd_graph_patterns), else 0 */
	char why[FD_GRAPH_WHY_MAX]; /* the reasons in words with the numbers, or "" */
};

struct fd_graph_fans {
	struct fd_graph_fan *f;
	size_t n;
	uint32_t *pool;
};

int fd_graph_fans(const struct fd_graph *g, const struct fd_graph_fan_opts *o,
		  struct fd_graph_fans *res, struct fd_err *err);
void fd_graph_fans_release(struct fd_graph_fans *res);
/* CSV one row per flow (pattern, from, to: count, total, first, last, txn ids); JSON
 * {"currency", "patterns", "nodes", "edges"}; DOT and GraphML the patterns' subgraph. */
int fd_graph_fans_write(const struct fd_graph *g, const struct fd_graph_fans *res, size_t top,
			int format, struct fd_out *out, struct fd_err *err);

/* ---- hubs ------------------------------------------------------------------------------ */

/*
 * Set an account aside: cycles, patterns and rings never use it (its money still counts in
 * the statistics of the others).  After fd_graph_finish().  FD_EIO out of memory.
 */
int fd_graph_exclude(struct fd_graph *g, uint32_t node, struct fd_err *err);
/* 1 when the node was set aside. */
int fd_graph_excluded(const struct fd_graph *g, uint32_t node);
/* Distinct accounts and merchants a node sends money to or receives money from. */
uint32_t fd_graph_counterparties(const struct fd_graph *g, uint32_t node);

/*
 * Hubs: accounts with min_counterparties or more distinct money counterparties (payroll,
 * merchants, "outside world" accounts), which would otherwise sit in every fan and every
 * cycle.  Each is set aside (fd_graph_exclude); *hubs receives them (malloc'ed, the caller
 * frees), most counterparties first, *n their number.  FD_EIO out of memory.
 */
int fd_graph_hubs(struct fd_graph *g, uint32_t min_counterparties, uint32_t **hubs, size_t *n,
		  struct fd_err *err);

/* ---- typologies, scored --------------------------------------------------------------- */

/*
 * The laundering typologies other than the cycle, each found from the legs of money that
 * look like one operation: transfers on "fresh" pairs (accounts with at most two transfers
 * between them in the graph), within window of each other, whose amounts lie within a
 * factor band of each other.
 *   fan-in / fan-out   min_legs or more distinct senders into / recipients from an account
 *   gather-scatter     an account's fan-in followed by its fan-out (each gs_min legs or
 *                      more), the money out close to the money in
 *   scatter-gather     a source pays sg_min or more intermediates that each pass the
 *                      money on (50-105 % of it) to one same destination later
 *   bipartite          bp_min or more senders that each pay the same bp_min or more
 *                      recipients similar amounts
 *   stack              bipartite layers chained: the recipients of one pay on as senders
 * Each pattern is scored for suspicion (score 0-100 and why, the components in fd-graph(1))
 * and the list is sorted by score, highest first.  Hubs and excluded accounts take no part.
 * Of an account's groups of legs, gather-scatter is judged on the ones with the most senders
 * and recipients, a fan is the one that looks most like one operation (similar amounts, size,
 * tight timing, large amounts).  A gather-scatter centre is not listed again as a fan-in or
 * fan-out, nor is a fan half of whose legs belong to a bipartite or stack pattern.
 */
struct fd_graph_pattern_opts {
	unsigned kinds;             /* FD_GRAPH_BIT(FD_FAN_*) mask; 0 = all */
	int64_t window;             /* ms */
	uint32_t min_legs, gs_min, sg_min, bp_min;
	double band;                /* largest / smallest amount of one group of legs (> 1) */
	double min_pass;            /* gather-scatter: money out / money in; scatter-gather: each
				       intermediate's money out / in; at least this */
};
/* Defaults: all kinds, 70 days (10 weeks), fans of 5 legs, 3 for the others, bipartite 2,
 * band 2, min_pass 0.5. */
void fd_graph_pattern_opts_init(struct fd_graph_pattern_opts *o);
int fd_graph_patterns(const struct fd_graph *g, const struct fd_graph_pattern_opts *o,
		      struct fd_graph_fans *res, struct fd_err *err);

/* ---- rings: findings merged, with each account's role ---------------------------------- */

enum fd_graph_role { FD_ROLE_SOURCE, FD_ROLE_MULE, FD_ROLE_DESTINATION, FD_GRAPH_NROLES };
/* "source", "mule", "destination". */
extern const char *const fd_graph_role_name[FD_GRAPH_NROLES];

/*
 * Cycles and patterns that share a transfer or two accounts are one ring.  A ring's score
 * is its best finding's, plus up to 5 points when several findings meet in it (accounts
 * shared across patterns); its kind is its best finding's; each account's role is source
 * (only pays within the ring), destination (only receives) or mule (both).  Sorted by score.
 */
struct fd_graph_ring {
	int kind;                   /* FD_FAN_* or -1 for a cycle */
	double score;
	char why[FD_GRAPH_WHY_MAX];
	char kinds[96];             /* the kinds of its findings, e.g. "fan-out+bipartite" */
	uint32_t nfindings;
	uint32_t *accounts;         /* node ids, by name */
	uint8_t *roles;             /* enum fd_graph_role, per account */
	uint32_t naccounts;
	uint32_t *moves;            /* move ids in time order */
	uint32_t nmoves;
	int64_t start, end, total;
};
struct fd_graph_rings {
	struct fd_graph_ring *r;
	size_t n;
	uint32_t *pool;
	uint8_t *rpool;
};
int fd_graph_rings(const struct fd_graph *g, const struct fd_graph_cycles *cy,
		   const struct fd_graph_fans *pa, struct fd_graph_rings *res, struct fd_err *err);
void fd_graph_rings_release(struct fd_graph_rings *res);

/*
 * fd-graph rings --case: the top rings of r (top 0 = all) into a case: their transfers (each
 * with its ring, kinds and score as the reason) and their accounts as suspects (their roles
 * in the ring as the note); a new case when id is 0 (titled after the first ring, HIGH
 * priority from a score of 75, else MEDIUM), else linked to case id.  One store transaction
 * of fd_case (audited, role-checked: its errors).  *made receives the case's id, *ntxns and
 * *naccounts how many transfers and accounts were given to it; no ring: nothing done.
 */
int fd_graph_rings_to_case(struct fd_store *st, const struct fd_graph *g, const struct fd_graph_rings *r,
			   size_t top, int64_t id, int64_t *made, size_t *ntxns, size_t *naccounts,
			   struct fd_err *err);
/* CSV one row per account (ring, rank data, account, role); JSON {"currency", "rings",
 * "nodes", "edges"}; DOT and GraphML the rings' subgraph. */
int fd_graph_rings_write(const struct fd_graph *g, const struct fd_graph_rings *res, size_t top,
			 int format, struct fd_out *out, struct fd_err *err);

/* ---- statistics ---------------------------------------------------------------------- */

/*
 * Per node, over the edges of the graph:
 *   degree        distinct neighbours, whatever the kind and direction (no self)
 *   in_degree, out_degree  distinct nodes with an edge into / out of it
 *   flow_in, flow_out      money received / sent (minor units)
 *   clustering    local clustering coefficient of the simple undirected graph:
 *                 2 T / (degree (degree - 1)), T the triangles through it; 0 below degree 2
 *   pagerank      PageRank (damping 0.85, uniform teleport, dangling mass spread uniformly)
 *                 of the simple directed graph with an arc u -> v for money from u to v and
 *                 arcs both ways for every other kind; iterated until the L1 change is below
 *                 1e-12 per node (at most 1000 rounds).  Sums to 1.
 */
struct fd_graph_stats {
	uint32_t n;
	uint32_t *degree, *in_degree, *out_degree;
	int64_t *flow_in, *flow_out;
	double *clustering, *pagerank;
	int iterations;
};

int fd_graph_stats(const struct fd_graph *g, struct fd_graph_stats *s, struct fd_err *err);
void fd_graph_stats_release(struct fd_graph_stats *s);
/* The top (0 = all) nodes by PageRank (ties by name): CSV one row per node; JSON {"currency",
 * "nodes" with the statistics, "edges" between them}; DOT and GraphML that subgraph with the
 * statistics as node attributes. */
int fd_graph_stats_write(const struct fd_graph *g, const struct fd_graph_stats *s, size_t top,
			 int format, struct fd_out *out, struct fd_err *err);

/*
 * Write degree, pagerank, clustering, flow_in and flow_out (and flow_currency) into the
 * attrs JSON of each entity of the graph (accounts, merchants, devices, IPs; attribute nodes
 * are not entities), with json_set, in one store transaction together with an audit entry
 * (action "graph.stats", object "entities") whose details carry the counts and the window and
 * whose data digest covers the written rows (id and attrs, in id order).  *written receives
 * the number of entities updated.  FD_EIO for store errors (the store is left as it was).
 */
int fd_graph_stats_save(struct fd_store *st, const struct fd_graph *g,
			const struct fd_graph_stats *s, int64_t *written, struct fd_err *err);

#endif
