/*
 * fd_graph_rank.c — hubs, the laundering typologies and their suspicion scores, and rings
 * (contracts in fd_graph.h).
 *
 * Why these pieces of evidence.  Money that is being laundered moves as one operation: each
 * hop passes on most of what came in (a fee or margin kept), the legs of a fan are cut from
 * one sum, the pairs of accounts have no history of their own, the accounts are not busy
 * with anything else, and it happens within weeks.  Ordinary flows break these: salaries and
 * rent recur on the same pairs, a shop's customers pay unrelated amounts, friends settle up
 * with whatever amounts.  Each finding gets points for each piece of evidence (fd-graph(1)
 * lists them) and a sentence with the numbers, so an investigator sees why it ranks where
 * it does.
 */
#include "fd_graph.h"
#include "fd_graph_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

const char *const fd_graph_role_name[FD_GRAPH_NROLES] = {"source", "mule", "destination"};

/* points of each component; they add up to 100 */
enum { PT_FLOW = 30, PT_FRESH = 20, PT_SIZE = 10, PT_TIME = 10, PT_QUIET = 10, PT_LARGE = 5, PT_ROUND = 5,
       PT_FLAG = 5, PT_NEW = 5 };
#define FRESH_MAX 2          /* transfers a pair may have and still be "fresh" */
#define THRESHOLD 10000.0    /* the usual cash-reporting threshold, in currency units */
#define DAY ((double)FD_DAY_MS)

static int is_money_edge(const struct fd_graph *g, uint32_t e)
{
	int k = (int)(g->edges[e].tag & 0xff);

	return k == FD_GRAPH_TRANSFER || k == FD_GRAPH_PAYMENT;
}

static int is_account(const struct fd_graph *g, uint32_t x) { return g->nodes[x].kind == NK_ACCOUNT; }
static int is_out(const struct fd_graph *g, uint32_t x) { return g->excluded && g->excluded[x]; }
static uint32_t msrc(const struct fd_graph *g, uint32_t m) { return g->edges[g->moves[m].edge].src; }
static uint32_t mdst(const struct fd_graph *g, uint32_t m) { return g->edges[g->moves[m].edge].dst; }

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ---- hubs ------------------------------------------------------------------------------ */

int fd_graph_exclude(struct fd_graph *g, uint32_t node, struct fd_err *err)
{
	uint32_t nn = fd_intern_count(g->names);

	if (!g->finished)
		return fd_err_set(err, FD_EUSAGE, "the graph is not finished");
	if (node >= nn)
		return fd_err_set(err, FD_EUSAGE, "no node %u", node);
	if (!g->excluded && !(g->excluded = calloc((size_t)nn + 1, 1)))
		return fd_err_set(err, FD_EIO, "out of memory");
	g->excluded[node] = 1;
	return FD_OK;
}

int fd_graph_excluded(const struct fd_graph *g, uint32_t node)
{
	return g->excluded && node < fd_intern_count(g->names) && g->excluded[node];
}

/* Distinct money counterparties of x; buf has room for its degree (or is NULL: allocated). */
static uint32_t counterparties(const struct fd_graph *g, uint32_t x, uint32_t *buf)
{
	uint32_t n = 0, i, k, d = (g->out_off[x + 1] - g->out_off[x]) + (g->in_off[x + 1] - g->in_off[x]);
	uint32_t *a = buf ? buf : malloc(((size_t)d + 1) * sizeof(*a));

	if (!a)
		return d;  /* an upper bound, for want of memory */
	for (i = g->out_off[x]; i < g->out_off[x + 1]; i++)
		if (is_money_edge(g, g->out_e[i]) && g->edges[g->out_e[i]].dst != x)
			a[n++] = g->edges[g->out_e[i]].dst;
	for (i = g->in_off[x]; i < g->in_off[x + 1]; i++)
		if (is_money_edge(g, g->in_e[i]) && g->edges[g->in_e[i]].src != x)
			a[n++] = g->edges[g->in_e[i]].src;
	qsort(a, n, sizeof(*a), u32_cmp);
	for (i = k = 0; i < n; i++)
		if (!k || a[k - 1] != a[i])
			a[k++] = a[i];
	if (!buf)
		free(a);
	return k;
}

uint32_t fd_graph_counterparties(const struct fd_graph *g, uint32_t node)
{
	return g->finished && node < fd_intern_count(g->names) ? counterparties(g, node, NULL) : 0;
}

/* Counterparties of every node (malloc'ed), or NULL out of memory. */
static uint32_t *all_counterparties(const struct fd_graph *g)
{
	uint32_t nn = fd_intern_count(g->names), x, maxd = 0, *cp = malloc(((size_t)nn + 1) * sizeof(*cp)), *buf;

	if (!cp)
		return NULL;
	for (x = 0; x < nn; x++) {
		uint32_t d = (g->out_off[x + 1] - g->out_off[x]) + (g->in_off[x + 1] - g->in_off[x]);

		if (d > maxd)
			maxd = d;
	}
	if (!(buf = malloc(((size_t)maxd + 1) * sizeof(*buf)))) {
		free(cp);
		return NULL;
	}
	for (x = 0; x < nn; x++)
		cp[x] = counterparties(g, x, buf);
	free(buf);
	return cp;
}

struct hub_ctx {
	const uint32_t *cp;
};

static int hub_cmp(const void *a, const void *b, void *ctx)
{
	const uint32_t *cp = ((const struct hub_ctx *)ctx)->cp;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (cp[x] != cp[y])
		return cp[x] > cp[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

int fd_graph_hubs(struct fd_graph *g, uint32_t min_counterparties, uint32_t **hubs, size_t *n,
		  struct fd_err *err)
{
	uint32_t nn = fd_intern_count(g->names), x, *cp;
	struct hub_ctx hc;
	size_t k = 0;
	int rc;

	*hubs = NULL;
	*n = 0;
	if (!g->finished)
		return fd_err_set(err, FD_EUSAGE, "the graph is not finished");
	if (!(cp = all_counterparties(g)) || !(*hubs = malloc(((size_t)nn + 1) * sizeof(**hubs)))) {
		free(cp);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	for (x = 0; x < nn; x++)
		if (is_account(g, x) && min_counterparties && cp[x] >= min_counterparties) {
			if ((rc = fd_graph_exclude(g, x, err))) {
				free(cp);
				free(*hubs);
				*hubs = NULL;
				return rc;
			}
			(*hubs)[k++] = x;
		}
	hc.cp = cp;
	qsort_r(*hubs, k, sizeof(**hubs), hub_cmp, &hc);
	*n = k;
	free(cp);
	return FD_OK;
}

/* ---- evidence and score ------------------------------------------------------------------ */

/* What the scores compare against: the ordinary account and the ordinary transfer. */
struct base {
	const struct fd_graph *g;
	uint32_t *cp;            /* counterparties per node */
	double cp_median;        /* of the accounts with money */
	double amount_median;    /* of the transfers, in minor units */
	double unit;             /* minor units per currency unit */
	int64_t first;           /* the first transfer of the graph */
	int64_t window;
};

static int base_init(struct base *b, const struct fd_graph *g, int64_t window)
{
	uint32_t nn = fd_intern_count(g->names), x, k = 0, i, step;
	double *v;
	int e;

	memset(b, 0, sizeof(*b));
	b->g = g;
	b->window = window > 0 ? window : 1;
	if (!(b->cp = all_counterparties(g)) || !(v = malloc(((size_t)nn + g->nm + 1) * sizeof(*v))))
		return -1;
	for (x = 0; x < nn; x++)
		if (is_account(g, x) && b->cp[x] && !is_out(g, x))
			v[k++] = b->cp[x];
	qsort(v, k, sizeof(*v), dbl_cmp);
	b->cp_median = k ? v[k / 2] : 1;
	/* a sample of at most 100,001 transfers is plenty for the median amount */
	step = g->nm > 100000 ? g->nm / 100000 : 1;
	for (i = k = 0; i < g->nm; i += step)
		v[k++] = (double)g->moves[i].amount;
	qsort(v, k, sizeof(*v), dbl_cmp);
	b->amount_median = k ? v[k / 2] : 1;
	free(v);
	b->first = INT64_MAX;
	for (i = 0; i < g->nm; i++)
		if (g->moves[i].ts < b->first)
			b->first = g->moves[i].ts;
	b->unit = 1;
	for (e = fd_graph_currency_exp(g); e > 0; e--)
		b->unit *= 10;
	return 0;
}

static void base_release(struct base *b) { free(b->cp); }

static double round1(double v) { return floor(v * 10 + 0.5) / 10; }

/* How well r, the share of the money passed on, fits "most of it, less a fee": 1 within
 * [0.85, 1.0], falling to 0 at 0.5 and at 1.15. */
static double pass_fit(double r)
{
	if (r >= 0.85 && r <= 1.0)
		return 1;
	if (r < 0.85)
		return r <= 0.5 ? 0 : (r - 0.5) / 0.35;
	return r >= 1.15 ? 0 : (1.15 - r) / 0.15;
}

/* Similar amounts: 1 for equal legs, 0 from a coefficient of variation of 0.35 up. */
static double similarity(const struct fd_graph *g, const uint32_t *mv, uint32_t n, double *cv)
{
	double s = 0, s2 = 0, mean, var;
	uint32_t i;

	for (i = 0; i < n; i++)
		s += (double)g->moves[mv[i]].amount;
	mean = n ? s / n : 0;
	for (i = 0; i < n; i++)
		s2 += ((double)g->moves[mv[i]].amount - mean) * ((double)g->moves[mv[i]].amount - mean);
	var = n > 1 ? s2 / (n - 1) : 0;
	*cv = mean > 0 ? sqrt(var) / mean : 0;
	return *cv >= 0.35 ? 0 : 1 - *cv / 0.35;
}

static int is_round(const struct base *b, int64_t minor)
{
	double units = (double)minor / b->unit;
	int64_t whole = minor / (int64_t)b->unit;

	if (units >= 0.9 * THRESHOLD && units < THRESHOLD)
		return 1;   /* just below the reporting threshold */
	return minor % (int64_t)b->unit == 0 && whole >= 100 && whole % 100 == 0;
}

/*
 * Score a finding: its moves (any order), its accounts, the flow evidence already measured
 * (flow 0-1 with its words), the size (0-1 with its words) and the timing (0-1 with words).
 * The common evidence is measured here.  Fills why; returns the score.
 */
static double score_finding(const struct base *b, const uint32_t *mv, uint32_t n, const uint32_t *acc, uint32_t na,
			    double flow, const char *flow_words, double size, const char *size_words, double timing,
			    const char *time_words, char *why)
{
	const struct fd_graph *g = b->g;
	uint32_t i, j, fresh = 0, round = 0, flagged = 0, young = 0, edges = 0;
	double quiet = 0, med_amt, med_cp = 0, large, score, fr, *am = malloc(((size_t)(n > na ? n : na) + 1) * sizeof(*am));
	int64_t start = INT64_MAX;
	size_t len;

	/* fresh pairs: every transfer of the pair is part of the finding */
	for (i = 0; i < n; i++) {
		uint32_t e = g->moves[mv[i]].edge, seen = 0, inside = 0;

		for (j = 0; j < i; j++)
			if (g->moves[mv[j]].edge == e)
				seen = 1;
		if (seen)
			continue;
		edges++;
		for (j = 0; j < n; j++)
			inside += g->moves[mv[j]].edge == e;
		if ((int64_t)inside >= g->edges[e].count)
			fresh++;
	}
	for (i = 0; i < n; i++) {
		const struct move *m = &g->moves[mv[i]];

		round += is_round(b, m->amount);
		flagged += m->flagged;
		if (m->ts < start)
			start = m->ts;
	}
	for (i = 0; i < na; i++) {
		double c = b->cp[acc[i]];

		quiet += c <= 2 * b->cp_median ? 1 : 2 * b->cp_median / c;
		if (g->nodes[acc[i]].first >= start - 7 * (int64_t)DAY && g->nodes[acc[i]].first > b->first + 7 * (int64_t)DAY)
			young++;
	}
	quiet = na ? quiet / na : 0;
	if (am && na) {
		for (i = 0; i < na; i++)
			am[i] = b->cp[acc[i]];
		qsort(am, na, sizeof(*am), dbl_cmp);
		med_cp = am[na / 2];
	}
	for (i = 0; am && i < n; i++)
		am[i] = (double)g->moves[mv[i]].amount;
	med_amt = 0;
	if (am && n) {
		qsort(am, n, sizeof(*am), dbl_cmp);
		med_amt = am[n / 2];
	}
	free(am);
	large = med_amt > 0 && b->amount_median > 0 ? log10(med_amt / b->amount_median) : 0;
	large = large < 0 ? 0 : large > 1 ? 1 : large;
	fr = edges ? (double)fresh / edges : 0;
	score = PT_FLOW * flow + PT_FRESH * fr + PT_SIZE * size + PT_TIME * timing + PT_QUIET * quiet + PT_LARGE * large +
		PT_ROUND * (n ? (double)round / n : 0) + PT_FLAG * (n ? (double)flagged / n : 0) +
		PT_NEW * (na ? (double)young / na : 0);
	len = (size_t)snprintf(why, FD_GRAPH_WHY_MAX,
			       "flow %.1f: %s; fresh %.1f: %u of %u pairs with no other transfers; size %.1f: %s; "
			       "timing %.1f: %s; quiet %.1f: accounts with a median of %.0f counterparties (all: %.0f)",
			       PT_FLOW * flow, flow_words, PT_FRESH * fr, fresh, edges, PT_SIZE * size, size_words,
			       PT_TIME * timing, time_words, PT_QUIET * quiet, med_cp, b->cp_median);
	if (len < FD_GRAPH_WHY_MAX && large > 0)
		len += (size_t)snprintf(why + len, FD_GRAPH_WHY_MAX - len, "; large %.1f: median amount %.0f times the usual",
					PT_LARGE * large, med_amt / b->amount_median);
	if (len < FD_GRAPH_WHY_MAX && round)
		len += (size_t)snprintf(why + len, FD_GRAPH_WHY_MAX - len, "; round %.1f: %u of %u amounts round or just "
					"below %.0f", PT_ROUND * (double)round / n, round, n, THRESHOLD);
	if (len < FD_GRAPH_WHY_MAX && flagged)
		len += (size_t)snprintf(why + len, FD_GRAPH_WHY_MAX - len, "; flagged %.1f: %u of %u transfers",
					PT_FLAG * (double)flagged / n, flagged, n);
	if (len < FD_GRAPH_WHY_MAX && young)
		snprintf(why + len, FD_GRAPH_WHY_MAX - len, "; new %.1f: %u of %u accounts first seen within 7 days",
			 PT_NEW * (double)young / na, young, na);
	return round1(score);
}

/* A merge sort: equal elements keep their order.  -1 out of memory. */
static int stable_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	char *src = base, *dst, *tmp;
	size_t w, lo, mid, hi, a, c, o;

	if (n < 2)
		return 0;
	if (!(tmp = malloc(n * size)))
		return -1;
	dst = tmp;
	for (w = 1; w < n; w *= 2) {
		for (lo = 0; lo < n; lo += 2 * w) {
			mid = lo + w < n ? lo + w : n;
			hi = lo + 2 * w < n ? lo + 2 * w : n;
			for (a = lo, c = mid, o = lo; o < hi; o++) {
				size_t from = (a < mid && (c >= hi || cmp(src + a * size, src + c * size) <= 0)) ? a++ : c++;

				memcpy(dst + o * size, src + from * size, size);
			}
		}
		{
			char *t = src;

			src = dst;
			dst = t;
		}
	}
	if (src != (char *)base)
		memcpy(base, src, n * size);
	free(tmp);
	return 0;
}

/* ---- cycles ------------------------------------------------------------------------------ */

static int cycle_score_cmp(const void *a, const void *b)
{
	const struct fd_graph_cycle *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return 0;
}

int fd_graph_cycles_rank(const struct fd_graph *g, struct fd_graph_cycles *res, int64_t window, struct fd_err *err)
{
	struct base b;
	size_t k;
	uint32_t acc[32], i;

	if (!res->n)
		return FD_OK;
	if (base_init(&b, g, window)) {
		base_release(&b);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	for (k = 0; k < res->n; k++) {
		struct fd_graph_cycle *c = &res->c[k];
		double flow = 0, rmin = 1e300, rmax = 0, size, timing, days;
		uint32_t good = 0;
		char fw[160], sw[80], tw[80];

		for (i = 0; i < c->len; i++)
			acc[i] = msrc(g, c->hops[i]);
		for (i = 1; i < c->len; i++) {
			double r = (double)g->moves[c->hops[i]].amount / (double)g->moves[c->hops[i - 1]].amount;

			flow += pass_fit(r);
			good += r >= 0.85 && r <= 1.0;
			rmin = r < rmin ? r : rmin;
			rmax = r > rmax ? r : rmax;
		}
		/* one hop back is a repayment or a refund as often as not: half the weight */
		flow = flow / (c->len - 1) * (c->len == 2 ? 0.5 : 1);
		snprintf(fw, sizeof(fw), "each hop %.0f-%.0f%% of the one before (%u of %u within 85-100%%%s)", 100 * rmin,
			 100 * rmax, good, c->len - 1, c->len == 2 ? "; a repayment as often as not" : "");
		size = c->len >= 6 ? 1 : (double)(c->len - 2) / 4;
		snprintf(sw, sizeof(sw), "%u accounts in the loop", c->len);
		days = (double)(c->end - c->start) / DAY;
		timing = 1 - (double)(c->end - c->start) / (double)b.window;
		timing = timing < 0 ? 0 : timing;
		snprintf(tw, sizeof(tw), "in time order over %.1f days", days);
		c->score = score_finding(&b, c->hops, c->len, acc, c->len, flow, fw, size, sw, timing, tw, c->why);
	}
	/* stable: the previous order (amount, start) breaks ties */
	if (stable_sort(res->c, res->n, sizeof(*res->c), cycle_score_cmp)) {
		base_release(&b);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	base_release(&b);
	return FD_OK;
}

/* ---- patterns ---------------------------------------------------------------------------- */

void fd_graph_pattern_opts_init(struct fd_graph_pattern_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->window = 70 * FD_DAY_MS;
	o->min_pass = 0.5;
	o->min_legs = 5;
	o->gs_min = 3;
	o->sg_min = 3;
	o->bp_min = 2;
	o->band = 2;
}

struct pat {
	const struct fd_graph *g;
	const struct fd_graph_pattern_opts *o;
	struct fd_graph_fans *res;
	struct base b;
	size_t fcap, pcap, npool;
	uint32_t *cnt;               /* per node: legs in the current time window */
	uint32_t *legs, *grp[2];
	size_t legcap, grpcap[2], ngrp[2];
	uint8_t *sg_src, *sg_dst;
	uint8_t *bp;                 /* per move: a leg of a bipartite or stack pattern */
};

static int grow(uint32_t **a, size_t *cap, size_t need)
{
	size_t c = *cap ? *cap : 256;
	uint32_t *p;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	if (!(p = realloc(*a, c * sizeof(*p))))
		return -1;
	*a = p;
	*cap = c;
	return 0;
}

static int amount_cmp_r(const void *a, const void *b, void *ctx)
{
	const struct fd_graph *g = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (g->moves[x].amount != g->moves[y].amount)
		return g->moves[x].amount < g->moves[y].amount ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int time_cmp_r(const void *a, const void *b, void *ctx)
{
	const struct fd_graph *g = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (g->moves[x].ts != g->moves[y].ts)
		return g->moves[x].ts < g->moves[y].ts ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* The legs of x, in (dir 1) or out (dir 0): the moves of its fresh money pairs with other
 * accounts that are not set aside.  Into p->legs; returns their number. */
static size_t fresh_legs(struct pat *p, uint32_t x, int dir)
{
	const struct fd_graph *g = p->g;
	uint32_t i, lo = dir ? g->in_off[x] : g->out_off[x], hi = dir ? g->in_off[x + 1] : g->out_off[x + 1], m;
	size_t n = 0;

	for (i = lo; i < hi; i++) {
		uint32_t e = dir ? g->in_e[i] : g->out_e[i], y = dir ? g->edges[e].src : g->edges[e].dst;

		if (!is_money_edge(g, e) || y == x || !is_account(g, y) || is_out(g, y) || g->edges[e].count > FRESH_MAX)
			continue;
		if (grow(&p->legs, &p->legcap, n + FRESH_MAX + 1))
			return SIZE_MAX;
		for (m = g->mv_off[e]; m < g->mv_off[e + 1]; m++)
			p->legs[n++] = m;
	}
	return n;
}

static uint32_t other_end(const struct fd_graph *g, uint32_t m, int dir) { return dir ? msrc(g, m) : mdst(g, m); }

/*
 * Among legs t[0..m) in time order, the
 * time window with the most distinct counterparties (first such); its first and last index
 * into *ta, *tk; returns the number of counterparties.
 */
static size_t band_window(struct pat *p, const uint32_t *t, size_t m, int dir, size_t *ta, size_t *tk)
{
	const struct fd_graph *g = p->g;
	size_t a, k, distinct = 0, top = 0;

	*ta = *tk = 0;
	for (a = k = 0; k < m; k++) {
		if (p->cnt[other_end(g, t[k], dir)]++ == 0)
			distinct++;
		while (g->moves[t[k]].ts - g->moves[t[a]].ts > p->o->window)
			if (--p->cnt[other_end(g, t[a++], dir)] == 0)
				distinct--;
		if (distinct > top) {
			top = distinct;
			*ta = a;
			*tk = k;
		}
	}
	for (k = a; k < m; k++)
		p->cnt[other_end(g, t[k], dir)] = 0;
	return top;
}

static double size_fit(double legs, double lo, double hi);

/*
 * The evidence of a group of legs t[0..m) (time order) with d distinct counterparties on its
 * own, before its accounts are looked at: the points a fan of these legs gets for similar
 * amounts, for its size, for tight timing and for large amounts (score_finding); am is room
 * for m amounts.
 */
static double group_evidence(const struct pat *p, const uint32_t *t, size_t m, size_t d, double *am)
{
	const struct fd_graph *g = p->g;
	double cv, span = m ? (double)(g->moves[t[m - 1]].ts - g->moves[t[0]].ts) : 0, timing, large;
	size_t i;

	for (i = 0; i < m; i++)
		am[i] = (double)g->moves[t[i]].amount;
	qsort(am, m, sizeof(*am), dbl_cmp);
	large = m && am[m / 2] > 0 && p->b.amount_median > 0 ? log10(am[m / 2] / p->b.amount_median) : 0;
	large = large < 0 ? 0 : large > 1 ? 1 : large;
	timing = 1 - span / (double)p->o->window;
	timing = timing < 0 ? 0 : timing;
	return PT_FLOW * similarity(g, t, (uint32_t)m, &cv) + PT_SIZE * size_fit((double)d, 3, 12) + PT_TIME * timing +
	       PT_LARGE * large;
}

/*
 * A group of x's legs (dir as fresh_legs): for each band of amounts (factor band), the time
 * window with the most distinct counterparties is a candidate.  By count (evidence 0) the
 * candidate with the most counterparties wins.  By evidence, the one that looks most like
 * one operation: of the candidates with want or more counterparties (else with min or more)
 * the one with the strongest evidence of its own (group_evidence: similar amounts, size,
 * tight timing, large amounts), more counterparties breaking a tie; an account busy with
 * ordinary payments then still shows the one fan among them that was cut from one sum.
 * Into p->grp[dir]; returns the number of distinct counterparties (0 when below min).  -1
 * out of memory.
 */
static long best_group(struct pat *p, uint32_t x, int dir, uint32_t min, uint32_t want, int evidence)
{
	const struct fd_graph *g = p->g;
	size_t n = fresh_legs(p, x, dir), i, j = 0, ta, tk, best[2] = {0, 0}, bi[2] = {0, 0}, bj[2] = {0, 0};
	double ev[2] = {-1, -1}, *am;
	uint32_t *t;
	int c;

	p->ngrp[dir] = 0;
	if (n == SIZE_MAX)
		return -1;
	if (n < min)
		return 0;
	if (want < min || !evidence)
		want = min;
	t = malloc(n * sizeof(*t));
	am = malloc(n * sizeof(*am));
	if (!t || !am) {
		free(t);
		free(am);
		return -1;
	}
	qsort_r(p->legs, n, sizeof(*p->legs), amount_cmp_r, (void *)g);
	for (i = 0; i < n; i++) {
		size_t m, d;
		double e, bound;

		if (j < i)
			j = i;
		while (j < n && (double)g->moves[p->legs[j]].amount <= p->o->band * (double)g->moves[p->legs[i]].amount)
			j++;
		m = j - i;
		if (m < min)
			continue;
		/* no candidate of this band can beat the best one that counts */
		if (!evidence && (double)m <= ev[1])
			continue;
		bound = PT_FLOW + PT_TIME + PT_LARGE + PT_SIZE * size_fit((double)m, 3, 12);
		if (evidence && (best[1] ? bound < ev[1] : m < want && best[0] && bound < ev[0]))
			continue;
		memcpy(t, p->legs + i, m * sizeof(*t));
		qsort_r(t, m, sizeof(*t), time_cmp_r, (void *)g);
		if ((d = band_window(p, t, m, dir, &ta, &tk)) < min)
			continue;
		e = evidence ? group_evidence(p, t + ta, tk - ta + 1, d, am) : (double)d;
		c = d >= want;
		if (e > ev[c] || (e == ev[c] && d > best[c])) {
			ev[c] = e;
			best[c] = d;
			bi[c] = i;
			bj[c] = j;
		}
	}
	c = best[1] ? 1 : 0;
	if (!best[c]) {
		free(t);
		free(am);
		return 0;
	}
	/* the winning band again, and its window */
	memcpy(t, p->legs + bi[c], (bj[c] - bi[c]) * sizeof(*t));
	qsort_r(t, bj[c] - bi[c], sizeof(*t), time_cmp_r, (void *)g);
	band_window(p, t, bj[c] - bi[c], dir, &ta, &tk);
	if (grow(&p->grp[dir], &p->grpcap[dir], tk - ta + 1)) {
		free(t);
		free(am);
		return -1;
	}
	memcpy(p->grp[dir], t + ta, (tk - ta + 1) * sizeof(*t));
	p->ngrp[dir] = tk - ta + 1;
	free(t);
	free(am);
	return (long)best[c];
}

/* Distinct accounts of moves mv[0..n) (both ends), sorted, into *acc (malloc'ed). */
static uint32_t accounts_of(const struct fd_graph *g, const uint32_t *mv, size_t n, uint32_t **acc)
{
	uint32_t *a = malloc((2 * n + 1) * sizeof(*a)), k = 0;
	size_t i;

	*acc = a;
	if (!a)
		return 0;
	for (i = 0; i < n; i++) {
		a[2 * i] = msrc(g, mv[i]);
		a[2 * i + 1] = mdst(g, mv[i]);
	}
	qsort(a, 2 * n, sizeof(*a), u32_cmp);
	for (i = 0; i < 2 * n; i++)
		if (!k || a[k - 1] != a[i])
			a[k++] = a[i];
	return k;
}

/* Record a pattern over moves mv[0..n) (any order, each once) and score it. */
static int pat_add(struct pat *p, int kind, uint32_t centre, int64_t other, uint32_t nin, uint32_t nout, const uint32_t *mv,
		   size_t n, double flow, const char *fw, double size, const char *sw, double timing, const char *tw)
{
	const struct fd_graph *g = p->g;
	struct fd_graph_fans *res = p->res;
	struct fd_graph_fan *f;
	uint32_t *dst, *acc, na;
	size_t i;

	if (res->n == p->fcap) {
		size_t c = p->fcap ? p->fcap * 2 : 64;
		struct fd_graph_fan *q = realloc(res->f, c * sizeof(*q));

		if (!q)
			return -1;
		res->f = q;
		p->fcap = c;
	}
	if (grow(&res->pool, &p->pcap, p->npool + n + 1))
		return -1;
	f = &res->f[res->n++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->center = centre;
	f->other = other;
	f->nin = nin;
	f->nout = nout;
	dst = res->pool + p->npool;
	memcpy(dst, mv, n * sizeof(*dst));
	qsort_r(dst, n, sizeof(*dst), time_cmp_r, (void *)g);
	f->moves = (uint32_t *)(uintptr_t)p->npool;  /* an offset until the pool stops moving */
	f->nmoves = (uint32_t)n;
	p->npool += n;
	for (i = 0; i < n; i++) {
		const struct move *m = &g->moves[dst[i]];

		f->flagged += m->flagged;
		if (kind == FD_FAN_SCATTER_GATHER ? mdst(g, dst[i]) == (uint64_t)other : mdst(g, dst[i]) == centre)
			f->in_total += m->amount;
		if (msrc(g, dst[i]) == centre)
			f->out_total += m->amount;
	}
	f->start = n ? g->moves[dst[0]].ts : 0;
	f->end = n ? g->moves[dst[n - 1]].ts : 0;
	if (!(na = accounts_of(g, dst, n, &acc)) && n) {
		free(acc);
		return -1;
	}
	f->score = score_finding(&p->b, dst, (uint32_t)n, acc, na, flow, fw, size, sw, timing, tw, f->why);
	free(acc);
	return 0;
}

static double span_fit(const struct pat *p, const uint32_t *mv, size_t n, char *w, size_t wn)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	size_t i;
	double t;

	for (i = 0; i < n; i++) {
		lo = p->g->moves[mv[i]].ts < lo ? p->g->moves[mv[i]].ts : lo;
		hi = p->g->moves[mv[i]].ts > hi ? p->g->moves[mv[i]].ts : hi;
	}
	t = n ? 1 - (double)(hi - lo) / (double)p->o->window : 0;
	snprintf(w, wn, "within %.1f days", n ? (double)(hi - lo) / DAY : 0.0);
	return t < 0 ? 0 : t;
}

static double legs_sim(const struct pat *p, const uint32_t *mv, size_t n, char *w, size_t wn, const char *what)
{
	double cv, s = similarity(p->g, mv, (uint32_t)n, &cv), lo = 1e300, hi = 0, u = p->b.unit;
	size_t i;

	for (i = 0; i < n; i++) {
		double a = (double)p->g->moves[mv[i]].amount;

		lo = a < lo ? a : lo;
		hi = a > hi ? a : hi;
	}
	snprintf(w, wn, "%zu %s of %.2f-%.2f (variation %.0f%%)", n, what, lo / u, hi / u, 100 * cv);
	return s;
}

static double sum_amounts(const struct fd_graph *g, const uint32_t *mv, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += (double)g->moves[mv[i]].amount;
	return s;
}

static double size_fit(double legs, double lo, double hi)
{
	return legs <= lo ? 0 : legs >= hi ? 1 : (legs - lo) / (hi - lo);
}

/* Whether half or more of the legs mv[0..n) are legs of a bipartite or stack pattern: then
 * they are a side of that pattern, not a fan of their own. */
static int bp_side(const struct pat *p, const uint32_t *mv, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += p->bp[mv[i]];
	return n && 2 * k >= n;
}

/* Fan-in, fan-out or gather-scatter at x. */
static int pat_fans(struct pat *p, uint32_t x)
{
	const struct fd_graph *g = p->g;
	unsigned kinds = p->o->kinds;
	uint32_t lo = p->o->min_legs < p->o->gs_min ? p->o->min_legs : p->o->gs_min;
	long nin, nout;
	char fw[200], sw[80], tw[80];

	/* money through x: the most senders and the most recipients */
	if ((nin = best_group(p, x, 1, lo, lo, 0)) < 0 || (nout = best_group(p, x, 0, lo, lo, 0)) < 0)
		return -1;
	if (nin >= (long)p->o->gs_min && nout >= (long)p->o->gs_min) {
		double in = sum_amounts(g, p->grp[1], p->ngrp[1]), out = sum_amounts(g, p->grp[0], p->ngrp[0]), r = out / in;
		double tmed = (double)g->moves[p->grp[1][p->ngrp[1] / 2]].ts, after = 0, flow, cv;
		size_t i;
		uint32_t *both;

		for (i = 0; i < p->ngrp[0]; i++)
			after += (double)g->moves[p->grp[0][i]].ts > tmed;
		after /= (double)p->ngrp[0];
		if (pass_fit(r) > 0 && r >= p->o->min_pass && after >= 0.5 && !(kinds & FD_GRAPH_BIT(FD_FAN_GATHER_SCATTER)))
			return 0;  /* money through x: not a fan-in or fan-out of its own */
		if (pass_fit(r) > 0 && r >= p->o->min_pass && after >= 0.5) {
			flow = 0.6 * pass_fit(r) + 0.4 * similarity(g, p->grp[0], (uint32_t)p->ngrp[0], &cv);
			snprintf(fw, sizeof(fw), "%.0f%% of the %.2f gathered from %ld senders passed on to %ld recipients "
				 "(out legs vary %.0f%%)", 100 * r, in / p->b.unit, nin, nout, 100 * cv);
			snprintf(sw, sizeof(sw), "%ld in, %ld out", nin, nout);
			snprintf(tw, sizeof(tw), "%.0f%% of the money out after the middle of the money in", 100 * after);
			if (!(both = malloc((p->ngrp[0] + p->ngrp[1]) * sizeof(*both))))
				return -1;
			memcpy(both, p->grp[1], p->ngrp[1] * sizeof(*both));
			memcpy(both + p->ngrp[1], p->grp[0], p->ngrp[0] * sizeof(*both));
			i = (size_t)pat_add(p, FD_FAN_GATHER_SCATTER, x, -1, (uint32_t)nin, (uint32_t)nout, both,
					    p->ngrp[0] + p->ngrp[1], flow, fw, size_fit((double)(nin + nout), 5, 16), sw, after, tw);
			free(both);
			return i ? -1 : 0;
		}
	}
	/* else x's fans: the legs that look most like one operation, each way */
	if ((kinds & FD_GRAPH_BIT(FD_FAN_IN)) && (nin = best_group(p, x, 1, p->o->min_legs, p->o->min_legs, 1)) < 0)
		return -1;
	if ((kinds & FD_GRAPH_BIT(FD_FAN_OUT)) && (nout = best_group(p, x, 0, p->o->min_legs, p->o->min_legs, 1)) < 0)
		return -1;
	if ((kinds & FD_GRAPH_BIT(FD_FAN_IN)) && nin >= (long)p->o->min_legs && !p->sg_dst[x] &&
	    !bp_side(p, p->grp[1], p->ngrp[1])) {
		double s = legs_sim(p, p->grp[1], p->ngrp[1], fw, sizeof(fw), "legs");
		double t = span_fit(p, p->grp[1], p->ngrp[1], tw, sizeof(tw));

		snprintf(sw, sizeof(sw), "%ld senders", nin);
		if (pat_add(p, FD_FAN_IN, x, -1, (uint32_t)nin, 0, p->grp[1], p->ngrp[1], s, fw, size_fit((double)nin, 3, 12), sw,
			    t, tw))
			return -1;
	}
	if ((kinds & FD_GRAPH_BIT(FD_FAN_OUT)) && nout >= (long)p->o->min_legs && !p->sg_src[x] &&
	    !bp_side(p, p->grp[0], p->ngrp[0])) {
		double s = legs_sim(p, p->grp[0], p->ngrp[0], fw, sizeof(fw), "legs");
		double t = span_fit(p, p->grp[0], p->ngrp[0], tw, sizeof(tw));

		snprintf(sw, sizeof(sw), "%ld recipients", nout);
		if (pat_add(p, FD_FAN_OUT, x, -1, 0, (uint32_t)nout, p->grp[0], p->ngrp[0], s, fw, size_fit((double)nout, 3, 12),
			    sw, t, tw))
			return -1;
	}
	return 0;
}

struct sgc {
	uint32_t z, y, m_in, m_out;
};

static int sgc_cmp(const void *a, const void *b)
{
	const struct sgc *x = a, *y = b;

	if (x->z != y->z)
		return x->z < y->z ? -1 : 1;
	if (x->y != y->y)
		return x->y < y->y ? -1 : 1;
	return x->m_out < y->m_out ? -1 : x->m_out > y->m_out;
}

/* Scatter-gather from x: its fan-out legs, passed on by the intermediates to one destination. */
static int pat_scatter(struct pat *p, uint32_t x)
{
	const struct fd_graph *g = p->g;
	long nout = best_group(p, x, 0, p->o->sg_min, p->o->sg_min, 0);
	struct sgc *c = NULL;
	size_t nc = 0, cap = 0, i, j, bi = 0, bn = 0;
	int rc = -1;

	if (nout <= 0)
		return (int)nout;
	for (i = 0; i < p->ngrp[0]; i++) {
		uint32_t m = p->grp[0][i], y = mdst(g, m), q;
		double a = (double)g->moves[m].amount;

		for (q = g->out_off[y]; q < g->out_off[y + 1]; q++) {
			uint32_t e = g->out_e[q], z = g->edges[e].dst, k;

			if (!is_money_edge(g, e) || z == x || z == y || !is_account(g, z) || is_out(g, z) ||
			    g->edges[e].count > FRESH_MAX)
				continue;
			for (k = g->mv_off[e]; k < g->mv_off[e + 1]; k++) {
				double b = (double)g->moves[k].amount;

				if (g->moves[k].ts <= g->moves[m].ts || g->moves[k].ts - g->moves[m].ts > p->o->window ||
				    b < p->o->min_pass * a || b > 1.05 * a)
					continue;
				if (nc == cap) {
					struct sgc *t = realloc(c, (cap = cap ? 2 * cap : 64) * sizeof(*t));

					if (!t)
						goto out;
					c = t;
				}
				c[nc++] = (struct sgc){z, y, m, k};
				break;
			}
		}
	}
	qsort(c, nc, sizeof(*c), sgc_cmp);
	for (i = 0; i < nc; i = j) {
		size_t d = 0;

		for (j = i; j < nc && c[j].z == c[i].z; j++)
			d += j == i || c[j].y != c[j - 1].y;
		if (d > bn) {
			bn = d;
			bi = i;
		}
	}
	rc = 0;
	if (bn >= p->o->sg_min && !(p->o->kinds & FD_GRAPH_BIT(FD_FAN_SCATTER_GATHER))) {
		p->sg_src[x] = 1;  /* money through intermediates: not a fan of its own */
		p->sg_dst[c[bi].z] = 1;
	} else if (bn >= p->o->sg_min) {
		uint32_t z = c[bi].z, *mv = malloc(2 * bn * sizeof(*mv)), k = 0;
		double flow = 0, lo = 1e300, hi = 0;
		char fw[200], sw[80], tw[80];

		if (!mv) {
			rc = -1;
			goto out;
		}
		for (j = bi; j < nc && c[j].z == z; j++) {
			double r;

			if (j > bi && c[j].y == c[j - 1].y)
				continue;
			r = (double)g->moves[c[j].m_out].amount / (double)g->moves[c[j].m_in].amount;
			flow += pass_fit(r);
			lo = r < lo ? r : lo;
			hi = r > hi ? r : hi;
			mv[k++] = c[j].m_in;
			mv[k++] = c[j].m_out;
		}
		flow /= (double)bn;
		snprintf(fw, sizeof(fw), "%zu intermediates each passed on %.0f-%.0f%% of what they got", bn, 100 * lo, 100 * hi);
		snprintf(sw, sizeof(sw), "%zu intermediates", bn);
		rc = pat_add(p, FD_FAN_SCATTER_GATHER, x, z, (uint32_t)bn, (uint32_t)bn, mv, k, flow, fw,
			     size_fit((double)bn, 2, 10), sw, span_fit(p, mv, k, tw, sizeof(tw)), tw);
		free(mv);
		p->sg_src[x] = 1;
		p->sg_dst[z] = 1;
	}
out:
	free(c);
	return rc;
}

/* A pair of recipients paid by one sender: the cores of bipartite layers. */
struct bpair {
	uint32_t r1, r2, s, m1, m2;
};

static int bpair_cmp(const void *a, const void *b)
{
	const struct bpair *x = a, *y = b;

	if (x->r1 != y->r1)
		return x->r1 < y->r1 ? -1 : 1;
	if (x->r2 != y->r2)
		return x->r2 < y->r2 ? -1 : 1;
	return x->s < y->s ? -1 : x->s > y->s;
}

static uint32_t uf(uint32_t *par, uint32_t x)
{
	while (par[x] != x)
		x = par[x] = par[par[x]];
	return x;
}

struct rootmove {
	uint32_t root, m;
};

static int rootmove_cmp(const void *a, const void *b)
{
	const struct rootmove *x = a, *y = b;

	if (x->root != y->root)
		return x->root < y->root ? -1 : 1;
	return x->m < y->m ? -1 : x->m > y->m;
}

#define BP_MAX_FANOUT 60   /* senders paying more fresh recipients are not layering senders */

/* Bipartite layers (senders paying the same recipients similar amounts) and stacks of them. */
static int pat_bipartite(struct pat *p, unsigned kinds)
{
	const struct fd_graph *g = p->g;
	uint32_t nn = fd_intern_count(g->names), x, *par = NULL, *mv = NULL, *comp = NULL;
	struct bpair *bp = NULL;
	size_t nb = 0, cap = 0, i, j, nm = 0, mcap = 0;
	double band = sqrt(p->o->band);
	int rc = -1;

	for (x = 0; x < nn; x++) {
		size_t n, a, b;

		if (!is_account(g, x) || is_out(g, x))
			continue;
		if ((n = fresh_legs(p, x, 0)) == SIZE_MAX)
			goto out;
		if (n < 2 || n > BP_MAX_FANOUT)
			continue;
		qsort_r(p->legs, n, sizeof(*p->legs), amount_cmp_r, (void *)g);
		for (a = 0; a < n; a++)
			for (b = a + 1; b < n && (double)g->moves[p->legs[b]].amount <= band * (double)g->moves[p->legs[a]].amount;
			     b++) {
				uint32_t ma = p->legs[a], mb = p->legs[b], ra = mdst(g, ma), rb = mdst(g, mb);
				int64_t dt = g->moves[ma].ts - g->moves[mb].ts;

				if (ra == rb || dt > p->o->window || -dt > p->o->window)
					continue;
				if (nb == cap) {
					struct bpair *t = realloc(bp, (cap = cap ? 2 * cap : 4096) * sizeof(*t));

					if (!t)
						goto out;
					bp = t;
				}
				bp[nb++] = ra < rb ? (struct bpair){ra, rb, x, ma, mb} : (struct bpair){rb, ra, x, mb, ma};
			}
	}
	qsort(bp, nb, sizeof(*bp), bpair_cmp);
	if (!(par = malloc(((size_t)nn + 1) * sizeof(*par))) || !(comp = calloc((size_t)nn + 1, sizeof(*comp))))
		goto out;
	for (x = 0; x < nn; x++)
		par[x] = x;
	/* a core: one pair of recipients paid by bp_min or more senders; its accounts are joined */
	for (i = 0; i < nb; i = j) {
		size_t senders = 0, k;

		for (j = i; j < nb && bp[j].r1 == bp[i].r1 && bp[j].r2 == bp[i].r2; j++)
			senders += j == i || bp[j].s != bp[j - 1].s;
		if (senders < p->o->bp_min)
			continue;
		for (k = i; k < j; k++) {
			par[uf(par, bp[k].s)] = uf(par, bp[k].r1);
			par[uf(par, bp[k].r2)] = uf(par, bp[k].r1);
			if (grow(&mv, &mcap, nm + 2))
				goto out;
			mv[nm++] = bp[k].m1;
			mv[nm++] = bp[k].m2;
		}
	}
	/* one finding per group of joined accounts: its core moves, each once */
	qsort(mv, nm, sizeof(*mv), u32_cmp);
	for (i = j = 0; i < nm; i++)
		if (!j || mv[j - 1] != mv[i])
			mv[j++] = mv[i];
	nm = j;
	{
		struct rootmove *gm = malloc((nm + 1) * sizeof(*gm));
		size_t a, b;

		if (!gm)
			goto out;
		for (i = 0; i < nm; i++) {
			gm[i].root = uf(par, msrc(g, mv[i]));
			gm[i].m = mv[i];
		}
		qsort(gm, nm, sizeof(*gm), rootmove_cmp);
		for (a = 0; a < nm; a = b) {
			uint32_t *grp, ng, s_n = 0, r_n = 0, mid_n = 0, *acc, na, q;
			double in_mid = 0, out_mid = 0, flow, cv, sim;
			int kind;
			char fw[200], sw[80], tw[80];

			for (b = a; b < nm && gm[b].root == gm[a].root; b++)
				;
			ng = (uint32_t)(b - a);
			if (!(grp = malloc(ng * sizeof(*grp)))) {
				free(gm);
				goto out;
			}
			for (q = 0; q < ng; q++)
				grp[q] = gm[a + q].m;
			/* roles: 1 sends, 2 receives, 3 both */
			na = accounts_of(g, grp, ng, &acc);
			for (q = 0; q < ng; q++) {
				comp[msrc(g, grp[q])] |= 1;
				comp[mdst(g, grp[q])] |= 2;
			}
			for (q = 0; q < na; q++) {
				s_n += comp[acc[q]] == 1;
				r_n += comp[acc[q]] == 2;
				mid_n += comp[acc[q]] == 3;
			}
			for (q = 0; q < ng; q++) {
				if (comp[mdst(g, grp[q])] == 3)
					in_mid += (double)g->moves[grp[q]].amount;
				if (comp[msrc(g, grp[q])] == 3)
					out_mid += (double)g->moves[grp[q]].amount;
			}
			for (q = 0; q < na; q++)
				comp[acc[q]] = 0;
			kind = mid_n ? FD_FAN_STACK : FD_FAN_BIPARTITE;
			sim = similarity(g, grp, ng, &cv);
			if (kind == FD_FAN_STACK) {
				double r = in_mid > 0 ? out_mid / in_mid : 0;

				flow = 0.5 * sim + 0.5 * pass_fit(r);
				snprintf(fw, sizeof(fw), "%u intermediates passed on %.0f%% of what they got; legs vary %.0f%%", mid_n,
					 100 * r, 100 * cv);
				snprintf(sw, sizeof(sw), "%u senders, %u intermediates, %u recipients, %u legs", s_n, mid_n, r_n, ng);
			} else {
				flow = sim;
				snprintf(fw, sizeof(fw), "%u legs varying %.0f%%", ng, 100 * cv);
				snprintf(sw, sizeof(sw), "%u senders each paying several of %u recipients", s_n, r_n);
			}
			for (q = 0; na >= 4 && q < ng; q++)
				p->bp[grp[q]] = 1;
			if ((kinds & FD_GRAPH_BIT(kind)) && na >= 4)
				rc = pat_add(p, kind, acc[0], -1, s_n, r_n, grp, ng, flow, fw, size_fit((double)ng, 3, 12), sw,
					     span_fit(p, grp, ng, tw, sizeof(tw)), tw);
			else
				rc = 0;
			free(acc);
			free(grp);
			if (rc) {
				free(gm);
				goto out;
			}
		}
		free(gm);
	}
	rc = 0;
out:
	free(bp);
	free(par);
	free(mv);
	free(comp);
	return rc;
}

static int fan_score_cmp(const void *a, const void *b)
{
	const struct fd_graph_fan *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->center < y->center ? -1 : x->center > y->center;
}

int fd_graph_patterns(const struct fd_graph *g, const struct fd_graph_pattern_opts *o, struct fd_graph_fans *res,
		      struct fd_err *err)
{
	struct pat p;
	struct fd_graph_pattern_opts oo = *o;
	uint32_t nn, x;
	size_t i;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&p, 0, sizeof(p));
	if (!g->finished)
		return fd_err_set(err, FD_EUSAGE, "the graph is not finished");
	if (!oo.kinds)
		oo.kinds = (1u << FD_FAN_NKINDS) - 1;
	if (oo.band <= 1 || oo.window <= 0 || oo.min_legs < 2 || oo.gs_min < 2 || oo.sg_min < 2 || oo.bp_min < 2)
		return fd_err_set(err, FD_EUSAGE, "pattern limits out of range");
	nn = fd_intern_count(g->names);
	p.g = g;
	p.o = &oo;
	p.res = res;
	if (base_init(&p.b, g, oo.window) || !(p.cnt = calloc((size_t)nn + 1, sizeof(*p.cnt))) ||
	    !(p.sg_src = calloc((size_t)nn + 1, 1)) || !(p.sg_dst = calloc((size_t)nn + 1, 1)) ||
	    !(p.bp = calloc((size_t)g->nm + 1, 1)))
		goto out;
	/* the legs of bipartite and stack patterns first (listed at the end, when asked for): a
	 * side of one is not listed again as a fan */
	if ((oo.kinds & (FD_GRAPH_BIT(FD_FAN_IN) | FD_GRAPH_BIT(FD_FAN_OUT))) && pat_bipartite(&p, 0))
		goto out;
	if (oo.kinds & (FD_GRAPH_BIT(FD_FAN_SCATTER_GATHER) | FD_GRAPH_BIT(FD_FAN_IN) | FD_GRAPH_BIT(FD_FAN_OUT)))
		for (x = 0; x < nn; x++)
			if (is_account(g, x) && !is_out(g, x) && pat_scatter(&p, x))
				goto out;
	if (oo.kinds & (FD_GRAPH_BIT(FD_FAN_IN) | FD_GRAPH_BIT(FD_FAN_OUT) | FD_GRAPH_BIT(FD_FAN_GATHER_SCATTER)))
		for (x = 0; x < nn; x++)
			if (is_account(g, x) && !is_out(g, x) && pat_fans(&p, x))
				goto out;
	if ((oo.kinds & (FD_GRAPH_BIT(FD_FAN_BIPARTITE) | FD_GRAPH_BIT(FD_FAN_STACK))) && pat_bipartite(&p, oo.kinds))
		goto out;
	for (i = 0; i < res->n; i++)
		res->f[i].moves = res->pool + (uintptr_t)res->f[i].moves;
	if (stable_sort(res->f, res->n, sizeof(*res->f), fan_score_cmp))
		goto out;
	rc = 0;
out:
	base_release(&p.b);
	free(p.cnt);
	free(p.legs);
	free(p.grp[0]);
	free(p.grp[1]);
	free(p.sg_src);
	free(p.sg_dst);
	free(p.bp);
	if (rc) {
		fd_graph_fans_release(res);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	return FD_OK;
}

/* ---- rings ------------------------------------------------------------------------------- */

#define RING_FINDINGS_MAX 5000   /* of each list (cycles, patterns): the best ones */
#define RING_SHARED_PTS 5.0

struct finding {
	const uint32_t *mv;
	uint32_t n, na;
	int kind;
	double score;
	const char *why;
};

struct ring_order {
	uint32_t root, f;
};

static int ring_order_cmp(const void *a, const void *b)
{
	const struct ring_order *x = a, *y = b;

	if (x->root != y->root)
		return x->root < y->root ? -1 : 1;
	return x->f < y->f ? -1 : x->f > y->f;
}

static int ring_cmp(const void *a, const void *b)
{
	const struct fd_graph_ring *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

void fd_graph_rings_release(struct fd_graph_rings *res)
{
	if (!res)
		return;
	free(res->r);
	free(res->pool);
	free(res->rpool);
	memset(res, 0, sizeof(*res));
}

/* Shared accounts that join two findings of na and nb accounts. */
static uint32_t ring_join(uint32_t na, uint32_t nb)
{
	uint32_t m = ((na < nb ? na : nb) + 1) / 2;

	return m > 2 ? m : 2;
}

static const char *kind_word(int kind) { return kind < 0 ? "cycle" : fd_graph_fan_name[kind]; }

int fd_graph_rings(const struct fd_graph *g, const struct fd_graph_cycles *cy, const struct fd_graph_fans *pa,
		   struct fd_graph_rings *res, struct fd_err *err)
{
	size_t nc = cy ? (cy->n < RING_FINDINGS_MAX ? cy->n : RING_FINDINGS_MAX) : 0;
	size_t np = pa ? (pa->n < RING_FINDINGS_MAX ? pa->n : RING_FINDINGS_MAX) : 0, nf = nc + np, i, j, a, b;
	uint32_t nn = fd_intern_count(g->names), *par = NULL, *owner = NULL, *head = NULL, *next = NULL, *lacc = NULL;
	uint32_t *cnt = NULL, *stamp = NULL, *acc = NULL, *mv = NULL, nl = 0, lcap = 0;
	struct finding *f = NULL;
	struct ring_order *ord = NULL;
	size_t pcap = 0, npool = 0, rcap = 0, nr = 0;
	uint8_t *role = NULL;

	memset(res, 0, sizeof(*res));
	if (!nf)
		return FD_OK;
	if (!(f = calloc(nf, sizeof(*f))) || !(par = malloc(nf * sizeof(*par))) || !(cnt = calloc(nf, sizeof(*cnt))) ||
	    !(stamp = malloc(nf * sizeof(*stamp))) || !(owner = malloc(((size_t)g->nm + 1) * sizeof(*owner))) ||
	    !(head = malloc(((size_t)nn + 1) * sizeof(*head))) || !(role = calloc((size_t)nn + 1, 1)) ||
	    !(ord = malloc(nf * sizeof(*ord))))
		goto oom;
	for (i = 0; i < nc; i++)
		f[i] = (struct finding){cy->c[i].hops, cy->c[i].len, 0, -1, cy->c[i].score, cy->c[i].why};
	for (i = 0; i < np; i++)
		f[nc + i] = (struct finding){pa->f[i].moves, pa->f[i].nmoves, 0, pa->f[i].kind, pa->f[i].score, pa->f[i].why};
	for (i = 0; i < nf; i++) {
		par[i] = (uint32_t)i;
		stamp[i] = UINT32_MAX;
	}
	memset(owner, 0xff, ((size_t)g->nm + 1) * sizeof(*owner));
	memset(head, 0xff, ((size_t)nn + 1) * sizeof(*head));
	for (i = 0; i < nf; i++) {
		uint32_t na = accounts_of(g, f[i].mv, f[i].n, &acc), k, h;

		if (!acc)
			goto oom;
		f[i].na = na;
		/* a shared transfer joins */
		for (k = 0; k < f[i].n; k++) {
			uint32_t m = f[i].mv[k];

			if (owner[m] == UINT32_MAX)
				owner[m] = (uint32_t)i;
			else
				par[uf(par, (uint32_t)i)] = uf(par, owner[m]);
		}
		/* two shared accounts join */
		for (k = 0; k < na; k++) {
			uint32_t seen = 0;

			for (h = head[acc[k]]; h != UINT32_MAX && seen < 64; h = next[h], seen++) {
				uint32_t o = lacc[h];

				if (stamp[o] != i) {
					stamp[o] = (uint32_t)i;
					cnt[o] = 0;
				}
				/* two accounts, and half the accounts of the smaller finding */
				if (++cnt[o] == ring_join(na, f[o].na))
					par[uf(par, (uint32_t)i)] = uf(par, o);
			}
			if (nl == lcap) {
				uint32_t c2 = lcap ? 2 * lcap : 4096, *p1 = realloc(lacc, c2 * sizeof(*p1)), *p2;

				if (!p1)
					goto oom;
				lacc = p1;
				if (!(p2 = realloc(next, c2 * sizeof(*p2))))
					goto oom;
				next = p2;
				lcap = c2;
			}
			lacc[nl] = (uint32_t)i;
			next[nl] = head[acc[k]];
			head[acc[k]] = nl++;
		}
		free(acc);
		acc = NULL;
	}
	for (i = 0; i < nf; i++)
		ord[i] = (struct ring_order){uf(par, (uint32_t)i), (uint32_t)i};
	qsort(ord, nf, sizeof(*ord), ring_order_cmp);
	for (a = 0; a < nf; a = b) {
		struct fd_graph_ring *r;
		size_t nm = 0, best = ord[a].f;
		uint32_t na, k;
		char kinds[96] = "";

		for (b = a; b < nf && ord[b].root == ord[a].root; b++) {
			nm += f[ord[b].f].n;
			if (f[ord[b].f].score > f[best].score)
				best = ord[b].f;
		}
		if (!(mv = malloc((nm + 1) * sizeof(*mv))))
			goto oom;
		for (nm = 0, j = a; j < b; j++) {
			const char *w = kind_word(f[ord[j].f].kind);

			memcpy(mv + nm, f[ord[j].f].mv, f[ord[j].f].n * sizeof(*mv));
			nm += f[ord[j].f].n;
			if (!strstr(kinds, w) && strlen(kinds) + strlen(w) + 2 < sizeof(kinds)) {
				size_t used = strlen(kinds);

				snprintf(kinds + used, sizeof(kinds) - used, "%s%s", used ? "+" : "", w);
			}
		}
		qsort(mv, nm, sizeof(*mv), u32_cmp);
		for (i = j = 0; i < nm; i++)
			if (!j || mv[j - 1] != mv[i])
				mv[j++] = mv[i];
		nm = j;
		qsort_r(mv, nm, sizeof(*mv), time_cmp_r, (void *)g);
		na = accounts_of(g, mv, nm, &acc);
		if (!acc)
			goto oom;
		if (nr == rcap) {
			struct fd_graph_ring *t = realloc(res->r, (rcap = rcap ? 2 * rcap : 64) * sizeof(*t));

			if (!t)
				goto oom;
			res->r = t;
		}
		if (npool + nm + na + 1 > pcap) {
			uint32_t *t;
			uint8_t *t2;

			while (npool + nm + na + 1 > pcap)
				pcap = pcap ? 2 * pcap : 4096;
			if (!(t = realloc(res->pool, pcap * sizeof(*t))))
				goto oom;
			res->pool = t;
			if (!(t2 = realloc(res->rpool, pcap)))
				goto oom;
			res->rpool = t2;
		}
		r = &res->r[nr++];
		memset(r, 0, sizeof(*r));
		r->kind = f[best].kind;
		r->nfindings = (uint32_t)(b - a);
		memcpy(r->kinds, kinds, sizeof(kinds));
		r->score = f[best].score + (r->nfindings > 1 ? RING_SHARED_PTS * (r->nfindings >= 3 ? 1 : 0.5) : 0);
		r->score = r->score > 100 ? 100 : round1(r->score);
		if (r->nfindings > 1)
			snprintf(r->why, sizeof(r->why), "shared %.1f: %u findings (%s) meet in these accounts; best: %s %s",
				 RING_SHARED_PTS * (r->nfindings >= 3 ? 1 : 0.5), r->nfindings, kinds, kind_word(f[best].kind),
				 f[best].why);
		else
			snprintf(r->why, sizeof(r->why), "%s", f[best].why);
		for (k = 0; k < nm; k++) {
			role[msrc(g, mv[k])] |= 1;
			role[mdst(g, mv[k])] |= 2;
			r->total += g->moves[mv[k]].amount;
		}
		r->start = g->moves[mv[0]].ts;
		r->end = g->moves[mv[nm - 1]].ts;
		r->moves = (uint32_t *)(uintptr_t)npool;
		memcpy(res->pool + npool, mv, nm * sizeof(*mv));
		r->nmoves = (uint32_t)nm;
		npool += nm;
		r->accounts = (uint32_t *)(uintptr_t)npool;
		r->roles = (uint8_t *)(uintptr_t)npool;
		memcpy(res->pool + npool, acc, na * sizeof(*acc));
		for (k = 0; k < na; k++) {
			res->rpool[npool + k] = role[acc[k]] == 1 ? FD_ROLE_SOURCE : role[acc[k]] == 2 ? FD_ROLE_DESTINATION : FD_ROLE_MULE;
			role[acc[k]] = 0;
		}
		r->naccounts = na;
		npool += na;
		free(acc);
		acc = NULL;
		free(mv);
		mv = NULL;
	}
	res->n = nr;
	for (i = 0; i < nr; i++) {
		res->r[i].moves = res->pool + (uintptr_t)res->r[i].moves;
		res->r[i].roles = res->rpool + (uintptr_t)res->r[i].roles;
		res->r[i].accounts = res->pool + (uintptr_t)res->r[i].accounts;
	}
	if (stable_sort(res->r, nr, sizeof(*res->r), ring_cmp))
		goto oom;
	free(f);
	free(par);
	free(cnt);
	free(stamp);
	free(owner);
	free(head);
	free(next);
	free(lacc);
	free(role);
	free(ord);
	return FD_OK;
oom:
	free(f);
	free(par);
	free(cnt);
	free(stamp);
	free(owner);
	free(head);
	free(next);
	free(lacc);
	free(role);
	free(ord);
	free(acc);
	free(mv);
	res->n = nr;
	fd_graph_rings_release(res);
	return fd_err_set(err, FD_EIO, "out of memory");
}
