/*
 * fd_graph_algo.c — the algorithms over a finished entity network (contract in fd_graph.h):
 * connected components, time-respecting cycles, fans and statistics (degree, flow,
 * clustering, PageRank).  The ranking of findings and the rings are in fd_graph_rank.c.
 */
#include "fd_graph.h"
#include "fd_graph_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd_buf.h"
#include "fd_intern.h"
#include "banned.h"

/* ---- helpers for the algorithms ------------------------------------------------------ */

/* Order of node names: kind (accounts first), then key. */
int node_cmp_r(const void *a, const void *b, void *ctx)
{
	const struct fd_graph *g = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c;

	if (g->nodes[x].kind != g->nodes[y].kind)
		return g->nodes[x].kind < g->nodes[y].kind ? -1 : 1;
	c = strcmp(node_key(g, x), node_key(g, y));
	return c ? c : (x < y ? -1 : x > y);
}

static int edge_kind(const struct fd_graph *g, uint32_t e)
{
	return TAG_KIND(g->edges[e].tag);
}

static int is_identifier(const struct fd_graph *g, uint32_t x)
{
	return g->nodes[x].kind == NK_DEVICE || g->nodes[x].kind == NK_IP || g->nodes[x].kind >= NK_ATTR0;
}

/* ---- components ---------------------------------------------------------------------- */

static uint32_t uf_find(uint32_t *p, uint32_t x)
{
	while (p[x] != x) {
		p[x] = p[p[x]];
		x = p[x];
	}
	return x;
}

static int comp_rank_cmp(const void *a, const void *b, void *ctx)
{
	const struct fd_graph *g = ctx;
	const struct fd_graph_comp *x = a, *y = b;
	double fx = x->sent ? (double)x->flagged / (double)x->sent : 0, fy = y->sent ? (double)y->flagged / (double)y->sent : 0;

	if (x->naccounts != y->naccounts)
		return x->naccounts > y->naccounts ? -1 : 1;
	if (x->nshared != y->nshared)
		return x->nshared > y->nshared ? -1 : 1;
	if (fx != fy)
		return fx > fy ? -1 : 1;
	if (x->flow_internal != y->flow_internal)
		return x->flow_internal > y->flow_internal ? -1 : 1;
	return node_cmp_r(&x->members[0], &y->members[0], (void *)g);
}

void fd_graph_comps_release(struct fd_graph_comps *res)
{
	if (!res)
		return;
	free(res->c);
	free(res->pool);
	memset(res, 0, sizeof(*res));
}

int fd_graph_components(const struct fd_graph *g, unsigned link_kinds, uint32_t min_accounts,
			uint32_t max_accounts, struct fd_graph_comps *res, struct fd_err *err)
{
	uint32_t nn = fd_graph_node_count(g), i, e, *parent = NULL, *cnt = NULL, *off = NULL, *stamp = NULL;
	uint32_t ngroups = 0, *gid = NULL;

	memset(res, 0, sizeof(*res));
	if (!g->finished)
		return fd_err_set(err, FD_EUSAGE, "the graph is not finished");
	if (!(parent = malloc(((size_t)nn + 1) * sizeof(*parent))) || !(cnt = calloc((size_t)nn + 1, sizeof(*cnt))) ||
	    !(gid = malloc(((size_t)nn + 1) * sizeof(*gid))) || !(stamp = calloc((size_t)nn + 1, sizeof(*stamp))))
		goto oom;
	for (i = 0; i < nn; i++)
		parent[i] = i;
	for (e = 0; e < g->ne; e++)
		if (link_kinds & FD_GRAPH_BIT(edge_kind(g, e))) {
			uint32_t a = uf_find(parent, g->edges[e].src), b = uf_find(parent, g->edges[e].dst);

			if (a != b)
				parent[a < b ? b : a] = a < b ? a : b;
		}
	for (i = 0; i < nn; i++)
		cnt[uf_find(parent, i)]++;
	for (i = 0; i < nn; i++)
		gid[i] = UINT32_MAX;
	for (i = 0; i < nn; i++)
		if (parent[i] == i && cnt[i] >= 2)
			gid[i] = ngroups++;
	res->ngroups = ngroups;
	/* members of each group, bucketed */
	if (!(off = calloc((size_t)ngroups + 1, sizeof(*off))) || !(res->pool = malloc(((size_t)nn + 1) * sizeof(uint32_t))) ||
	    !(res->c = calloc((size_t)ngroups + 1, sizeof(*res->c))))
		goto oom;
	for (i = 0; i < nn; i++) {
		uint32_t r = gid[uf_find(parent, i)];

		if (r != UINT32_MAX)
			off[r + 1]++;
	}
	for (i = 0; i < ngroups; i++)
		off[i + 1] += off[i];
	for (i = 0; i < nn; i++) {
		uint32_t r = gid[uf_find(parent, i)];

		if (r != UINT32_MAX)
			res->pool[off[r]++] = i;
	}
	for (i = ngroups; i > 0; i--)
		off[i] = off[i - 1];
	off[0] = 0;
	for (i = 0; i < ngroups; i++) {
		struct fd_graph_comp *c = &res->c[res->n];
		uint32_t *m = res->pool + off[i], n = off[i + 1] - off[i], j, na = 0, ns = 0, root;

		memset(c, 0, sizeof(*c));
		c->members = m;
		c->nmembers = n;
		for (j = 0; j < n; j++)
			na += g->nodes[m[j]].kind == NK_ACCOUNT;
		if (na < min_accounts || (max_accounts && na > max_accounts))
			continue;
		root = uf_find(parent, m[0]);
		/* accounts first, then the shared identifiers, then the rest; each by name */
		if (n > 1)
			qsort_r(m, n, sizeof(*m), node_cmp_r, (void *)g);
		for (j = na; j < n; j++) {
			uint32_t x = m[j], accounts = 0, q, nq;
			const uint32_t *ev;
			int dir;

			if (!is_identifier(g, x))
				continue;
			for (dir = 0; dir < 2 && accounts < 2; dir++) {
				ev = dir ? fd_graph_in_edges(g, x, &nq) : fd_graph_out_edges(g, x, &nq);
				for (q = 0; q < nq && accounts < 2; q++) {
					uint32_t y = dir ? g->edges[ev[q]].src : g->edges[ev[q]].dst;

					if (!(link_kinds & FD_GRAPH_BIT(edge_kind(g, ev[q]))) || g->nodes[y].kind != NK_ACCOUNT ||
					    stamp[y] == x + 1)
						continue;
					stamp[y] = x + 1;
					accounts++;
				}
			}
			if (accounts >= 2) {
				/* move it up into the shared block, keeping name order */
				memmove(m + na + ns + 1, m + na + ns, (j - na - ns) * sizeof(*m));
				m[na + ns++] = x;
			}
		}
		c->naccounts = na;
		c->nshared = ns;
		for (j = 0; j < na; j++) {
			const struct node *nd = &g->nodes[m[j]];
			uint32_t q, nq;
			const uint32_t *ev;

			c->sent += nd->sent;
			c->flagged += nd->sent_flagged;
			if (nd->txns && (c->first == 0 && c->last == 0 ? 1 : nd->first < c->first))
				c->first = nd->first;
			if (nd->txns && nd->last > c->last)
				c->last = nd->last;
			ev = fd_graph_out_edges(g, m[j], &nq);
			for (q = 0; q < nq; q++) {
				const struct edge *ed = &g->edges[ev[q]];

				if (!is_money(TAG_KIND(ed->tag)))
					continue;
				if (uf_find(parent, ed->dst) == root && g->nodes[ed->dst].kind == NK_ACCOUNT)
					c->flow_internal += ed->total;
				else
					c->flow_out += ed->total;
			}
			ev = fd_graph_in_edges(g, m[j], &nq);
			for (q = 0; q < nq; q++) {
				const struct edge *ed = &g->edges[ev[q]];

				if (is_money(TAG_KIND(ed->tag)) && !(uf_find(parent, ed->src) == root))
					c->flow_in += ed->total;
			}
		}
		res->n++;
	}
	if (res->n > 1)
		qsort_r(res->c, res->n, sizeof(*res->c), comp_rank_cmp, (void *)g);
	free(parent);
	free(cnt);
	free(gid);
	free(off);
	free(stamp);
	return FD_OK;
oom:
	free(parent);
	free(cnt);
	free(gid);
	free(off);
	free(stamp);
	fd_graph_comps_release(res);
	return fd_err_set(err, FD_EIO, "out of memory");
}

/* ---- cycles -------------------------------------------------------------------------- */

/* The first move on edge e strictly after t, or UINT32_MAX. */
static uint32_t first_move_after(const struct fd_graph *g, uint32_t e, int64_t t)
{
	uint32_t lo = g->mv_off[e], hi = g->mv_off[e + 1];

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (g->moves[mid].ts > t)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo < g->mv_off[e + 1] ? lo : UINT32_MAX;
}

/* One transfer a cycle may use, in its sender's list (struct cyc.out): the lists are built
 * once per search, each sender's transfers in time order, so a step reads only the transfers
 * after the one before it and within the window, from one array. */
struct cmove {
	int64_t ts, amount;
	uint32_t dst, edge, move, pad;
};

struct cyc {
	const struct fd_graph *g;
	struct fd_graph_cycles *res;
	int min_len, max_len;
	int64_t limit;               /* t0 + window */
	int64_t close_by;            /* the last transfer into the start within the window */
	uint64_t max_steps;
	double lo, hi;               /* share of the previous hop's amount; hi 0 = any */
	int64_t pair_max;            /* transfers of a pair at most; 0 = any */
	int reach;                   /* hops of the distance search back to the start */
	uint32_t u;                  /* the start */
	uint32_t *scc;
	uint8_t *dist;               /* hops back to u; 255 = further than max_len */
	uint8_t *onpath;
	uint32_t *off;               /* per node, its transfers in out[] */
	struct cmove *out;
	uint32_t *in_off;            /* per node, the times of its incoming transfers in in_ts[] */
	int64_t *in_ts;
	uint32_t *stamp;             /* per edge, the step that used it last */
	uint32_t frame;
	uint32_t path[32];           /* moves */
	int plen;
	struct fd_intern *keys;      /* canonical node sequences -> cycle index */
	size_t ccap, pcap, npool;
	int oom;
};

static void cyc_record(struct cyc *c)
{
	const struct fd_graph *g = c->g;
	struct fd_graph_cycles *res = c->res;
	uint32_t nodes[32], key[32], L = (uint32_t)c->plen, i, r = 0;
	int is_new = 0;
	int64_t id;
	struct fd_graph_cycle *cy;

	for (i = 0; i < L; i++) {
		nodes[i] = g->edges[g->moves[c->path[i]].edge].src;
		if (nodes[i] < nodes[r])
			r = i;
	}
	for (i = 0; i < L; i++)
		key[i] = nodes[(r + i) % L];
	if ((id = fd_intern_put(c->keys, (const char *)key, L * sizeof(uint32_t), &is_new)) < 0) {
		c->oom = 1;
		return;
	}
	if (!is_new) {
		cy = &res->c[id];
		cy->instances++;
		if (g->moves[c->path[0]].ts >= cy->start)
			return;
	} else {
		if ((size_t)id >= c->ccap) {
			size_t n = c->ccap ? c->ccap * 2 : 256;
			struct fd_graph_cycle *p = realloc(res->c, n * sizeof(*p));

			if (!p) {
				c->oom = 1;
				return;
			}
			res->c = p;
			c->ccap = n;
		}
		if (c->npool + L > c->pcap) {
			size_t n = c->pcap ? c->pcap * 2 : 4096;
			uint32_t *p = realloc(res->pool, n * sizeof(*p));

			if (!p) {
				c->oom = 1;
				return;
			}
			res->pool = p;
			c->pcap = n;
		}
		cy = &res->c[id];
		memset(cy, 0, sizeof(*cy));
		cy->len = L;
		cy->hops = (uint32_t *)(uintptr_t)c->npool;  /* an offset until the pool stops moving */
		cy->instances = 1;
		c->npool += L;
		res->n++;
	}
	memcpy(res->pool + (uintptr_t)cy->hops, c->path, L * sizeof(uint32_t));
	cy->start = g->moves[c->path[0]].ts;
	cy->end = g->moves[c->path[L - 1]].ts;
	cy->amount_min = INT64_MAX;
	cy->amount_max = INT64_MIN;
	cy->flagged = 0;
	for (i = 0; i < L; i++) {
		const struct move *m = &g->moves[c->path[i]];

		if (m->amount < cy->amount_min)
			cy->amount_min = m->amount;
		if (m->amount > cy->amount_max)
			cy->amount_max = m->amount;
		cy->flagged += m->flagged;
	}
}

/* The distances back to the start are searched this many hops deep at most (a node not
 * reached is at least one hop further): deeper searches cost more than they prune. */
#define CYCLE_REACH 1

/* An edge a cycle may use: money between accounts not set aside, of a pair with at most
 * pair_max transfers (0 = any). */
static int cycle_edge(const struct fd_graph *g, uint32_t e, int64_t pair_max)
{
	const struct edge *x = &g->edges[e];

	return is_money(TAG_KIND(x->tag)) && (!pair_max || x->count <= pair_max) &&
	       !(g->excluded && (g->excluded[x->src] || g->excluded[x->dst]));
}

/* The first of n transfers (in time order) strictly after t: n when none. */
static uint32_t cmove_after(const struct cmove *a, uint32_t n, int64_t t)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (a[mid].ts > t)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* The cycles through the path so far, which ends at x at time t after depth hops.  Each
 * edge carries the path on with its first transfer after t, within the window and within
 * the share of the previous hop's amount; a step that is not the closing one must come
 * before the last transfer into the start (close_by). */
static void cyc_dfs(struct cyc *c, uint32_t x, int64_t t, int depth)
{
	const struct fd_graph *g = c->g;
	const struct cmove *a = c->out + c->off[x];
	uint32_t n = c->off[x + 1] - c->off[x], i = cmove_after(a, n, t), frame;
	int64_t prev = g->moves[c->path[c->plen - 1]].amount;
	double lo = c->lo * (double)prev, hi = c->hi * (double)prev;

	if (++c->frame == 0) {  /* the stamps start again */
		memset(c->stamp, 0, (size_t)g->ne * sizeof(*c->stamp));
		c->frame = 1;
	}
	frame = c->frame;
	for (; i < n && a[i].ts <= c->limit && !c->res->truncated && !c->oom; i++) {
		uint32_t y = a[i].dst;

		if (c->hi > 0 && ((double)a[i].amount < lo || (double)a[i].amount > hi))
			continue;
		if (c->stamp[a[i].edge] == frame)  /* a later transfer of a pair already followed */
			continue;
		c->stamp[a[i].edge] = frame;
		if (y == c->u) {
			if (depth + 1 < c->min_len)
				continue;
			c->path[c->plen++] = a[i].move;
			cyc_record(c);
			c->plen--;
			continue;
		}
		if (a[i].ts >= c->close_by || depth + 1 >= c->max_len || c->onpath[y] ||
		    (c->dist[y] == 255 ? c->reach + 1 : c->dist[y]) > c->max_len - (depth + 1))
			continue;
		if (++c->res->steps > c->max_steps) {
			c->res->truncated = 1;
			return;
		}
		c->onpath[y] = 1;
		c->path[c->plen++] = a[i].move;
		cyc_dfs(c, y, a[i].ts, depth + 1);
		c->plen--;
		c->onpath[y] = 0;
	}
}

static int cmove_cmp(const void *a, const void *b)
{
	const struct cmove *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->move < y->move ? -1 : x->move > y->move;
}

static int ts_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The transfers a cycle may use, each sender's in time order (c->off, c->out), and the times
 * of each account's incoming ones (c->in_off, c->in_ts): over the edges of cycle_edge within
 * one strongly connected component (a cycle never leaves its component). */
static int cyc_lists(struct cyc *c)
{
	const struct fd_graph *g = c->g;
	uint32_t nn = fd_graph_node_count(g), x, e, k = 0, *fill = NULL;

	if (!(c->off = calloc((size_t)nn + 1, sizeof(uint32_t))) || !(c->in_off = calloc((size_t)nn + 1, sizeof(uint32_t))) ||
	    !(c->stamp = calloc((size_t)g->ne + 1, sizeof(uint32_t))) || !(fill = malloc(((size_t)nn + 1) * sizeof(uint32_t))))
		goto oom;
	for (e = 0; e < g->ne; e++) {
		const struct edge *d = &g->edges[e];

		if (d->src == d->dst || c->scc[d->src] != c->scc[d->dst] || !cycle_edge(g, e, c->pair_max))
			continue;
		c->off[d->src + 1] += g->mv_off[e + 1] - g->mv_off[e];
		c->in_off[d->dst + 1] += g->mv_off[e + 1] - g->mv_off[e];
		k += g->mv_off[e + 1] - g->mv_off[e];
	}
	for (x = 0; x < nn; x++) {
		c->off[x + 1] += c->off[x];
		c->in_off[x + 1] += c->in_off[x];
	}
	if (!(c->out = malloc(((size_t)k + 1) * sizeof(*c->out))) || !(c->in_ts = malloc(((size_t)k + 1) * sizeof(*c->in_ts))))
		goto oom;
	memcpy(fill, c->off, ((size_t)nn + 1) * sizeof(uint32_t));
	for (e = 0; e < g->ne; e++) {
		const struct edge *d = &g->edges[e];
		uint32_t m;

		if (d->src == d->dst || c->scc[d->src] != c->scc[d->dst] || !cycle_edge(g, e, c->pair_max))
			continue;
		for (m = g->mv_off[e]; m < g->mv_off[e + 1]; m++) {
			struct cmove *p = &c->out[fill[d->src]++];

			p->ts = g->moves[m].ts;
			p->amount = g->moves[m].amount;
			p->dst = d->dst;
			p->edge = e;
			p->move = m;
			p->pad = 0;
		}
	}
	memcpy(fill, c->in_off, ((size_t)nn + 1) * sizeof(uint32_t));
	for (e = 0; e < g->ne; e++) {
		const struct edge *d = &g->edges[e];
		uint32_t m;

		if (d->src == d->dst || c->scc[d->src] != c->scc[d->dst] || !cycle_edge(g, e, c->pair_max))
			continue;
		for (m = g->mv_off[e]; m < g->mv_off[e + 1]; m++)
			c->in_ts[fill[d->dst]++] = g->moves[m].ts;
	}
	for (x = 0; x < nn; x++) {
		if (c->off[x + 1] - c->off[x] > 1)
			qsort(c->out + c->off[x], c->off[x + 1] - c->off[x], sizeof(*c->out), cmove_cmp);
		if (c->in_off[x + 1] - c->in_off[x] > 1)
			qsort(c->in_ts + c->in_off[x], c->in_off[x + 1] - c->in_off[x], sizeof(*c->in_ts), ts_cmp);
	}
	free(fill);
	return 0;
oom:
	free(fill);
	return -1;
}

/* Strongly connected components of the money edges (iterative Tarjan).  scc[v] = component
 * number; nontrivial[v] = 1 when v's component has two or more nodes. */
static int money_scc(const struct fd_graph *g, int64_t pair_max, uint32_t *scc)
{
	uint32_t nn = fd_graph_node_count(g), v, ncomp = 0, idx = 0, sp = 0, cs = 0;
	uint32_t *index = malloc(((size_t)nn + 1) * sizeof(uint32_t)), *low = malloc(((size_t)nn + 1) * sizeof(uint32_t));
	uint32_t *stack = malloc(((size_t)nn + 1) * sizeof(uint32_t)), *cstack = malloc(((size_t)nn + 1) * sizeof(uint32_t));
	uint32_t *citer = malloc(((size_t)nn + 1) * sizeof(uint32_t));
	uint8_t *onstack = calloc((size_t)nn + 1, 1);
	int rc = -1;

	if (!index || !low || !stack || !cstack || !citer || !onstack)
		goto out;
	for (v = 0; v < nn; v++)
		index[v] = UINT32_MAX;
	for (v = 0; v < nn; v++) {
		if (index[v] != UINT32_MAX)
			continue;
		cstack[cs] = v;
		citer[cs++] = g->out_off[v];
		index[v] = low[v] = idx++;
		stack[sp++] = v;
		onstack[v] = 1;
		while (cs) {
			uint32_t x = cstack[cs - 1];

			if (citer[cs - 1] < g->out_off[x + 1]) {
				uint32_t e = g->out_e[citer[cs - 1]++], y = g->edges[e].dst;

				if (!cycle_edge(g, e, pair_max))
					continue;
				if (index[y] == UINT32_MAX) {
					index[y] = low[y] = idx++;
					stack[sp++] = y;
					onstack[y] = 1;
					cstack[cs] = y;
					citer[cs++] = g->out_off[y];
				} else if (onstack[y] && index[y] < low[x])
					low[x] = index[y];
				continue;
			}
			if (low[x] == index[x]) {
				uint32_t w;

				do {
					w = stack[--sp];
					onstack[w] = 0;
					scc[w] = ncomp;
				} while (w != x);
				ncomp++;
			}
			cs--;
			if (cs && low[x] < low[cstack[cs - 1]])
				low[cstack[cs - 1]] = low[x];
		}
	}
	rc = 0;
out:
	free(index);
	free(low);
	free(stack);
	free(cstack);
	free(citer);
	free(onstack);
	return rc;
}

static int cycle_cmp(const void *a, const void *b, void *ctx)
{
	const struct fd_graph *g = ctx;
	const struct fd_graph_cycle *x = a, *y = b;

	if (x->amount_min != y->amount_min)
		return x->amount_min > y->amount_min ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return move_cmp(&g->moves[x->hops[0]], &g->moves[y->hops[0]]);
}

void fd_graph_cycles_release(struct fd_graph_cycles *res)
{
	if (!res)
		return;
	free(res->c);
	free(res->pool);
	memset(res, 0, sizeof(*res));
}

int fd_graph_cycles(const struct fd_graph *g, int min_len, int max_len, int64_t window,
		    uint64_t max_steps, struct fd_graph_cycles *res, struct fd_err *err)
{
	struct fd_graph_cycle_opts o = {min_len, max_len, window, max_steps, 0, 0, 0};

	return fd_graph_cycles_find(g, &o, res, err);
}

static void cyc_free(struct cyc *c, uint32_t *bfs)
{
	free(c->scc);
	free(c->dist);
	free(c->onpath);
	free(c->off);
	free(c->out);
	free(c->in_off);
	free(c->in_ts);
	free(c->stamp);
	free(bfs);
	fd_intern_free(c->keys);
}

int fd_graph_cycles_find(const struct fd_graph *g, const struct fd_graph_cycle_opts *o,
			 struct fd_graph_cycles *res, struct fd_err *err)
{
	int min_len = o->min_len, max_len = o->max_len;
	int64_t window = o->window;
	uint64_t max_steps = o->max_steps;
	struct cyc c;
	uint32_t nn = fd_graph_node_count(g), u, *bfs = NULL;
	size_t i;

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	if (!g->finished)
		return fd_err_set(err, FD_EUSAGE, "the graph is not finished");
	if (min_len < 2 || max_len < min_len || max_len > 30)
		return fd_err_set(err, FD_EUSAGE, "cycle lengths %d-%d out of range (2 <= min <= max <= 30)", min_len, max_len);
	c.g = g;
	c.res = res;
	c.min_len = min_len;
	c.max_len = max_len;
	c.max_steps = max_steps ? max_steps : 200000000ULL;
	c.lo = o->min_share;
	c.hi = o->max_share;
	c.pair_max = o->pair_max;
	c.reach = max_len - 1 < CYCLE_REACH ? max_len - 1 : CYCLE_REACH;
	if (!(c.scc = malloc(((size_t)nn + 1) * sizeof(uint32_t))) || !(c.dist = malloc((size_t)nn + 1)) ||
	    !(c.onpath = calloc((size_t)nn + 1, 1)) || !(bfs = malloc(((size_t)nn + 1) * sizeof(uint32_t))) ||
	    !(c.keys = fd_intern_create()) || money_scc(g, c.pair_max, c.scc) || cyc_lists(&c))
		goto oom;
	memset(c.dist, 255, (size_t)nn + 1);
	for (u = 0; u < nn && !res->truncated && !c.oom; u++) {
		uint32_t q, nq, head = 0, tail = 0, n = c.off[u + 1] - c.off[u], nin = c.in_off[u + 1] - c.in_off[u];
		const struct cmove *a = c.out + c.off[u];
		const int64_t *in = c.in_ts + c.in_off[u];
		const uint32_t *ev;

		if (!n || !nin)  /* no cycle through u (set aside, or alone in its component) */
			continue;
		/* hops from each node back to u, within u's component and max_len - 1 */
		c.dist[u] = 0;
		bfs[tail++] = u;
		while (head < tail) {
			uint32_t y = bfs[head++];

			if (c.dist[y] >= c.reach)
				continue;
			ev = fd_graph_in_edges(g, y, &nq);
			for (q = 0; q < nq; q++) {
				uint32_t w = g->edges[ev[q]].src;

				if (cycle_edge(g, ev[q], c.pair_max) && c.scc[w] == c.scc[u] && c.dist[w] == 255) {
					c.dist[w] = (uint8_t)(c.dist[y] + 1);
					bfs[tail++] = w;
				}
			}
		}
		c.u = u;
		c.onpath[u] = 1;
		for (i = 0; i < n && !res->truncated && !c.oom; i++) {
			uint32_t v = a[i].dst, k;

			c.limit = a[i].ts > INT64_MAX - window ? INT64_MAX : a[i].ts + window;
			/* the last transfer into u within the window: every other hop comes before it */
			k = nin;
			if (in[nin - 1] > c.limit) {
				uint32_t lo = 0, hi = nin;

				while (lo < hi) {
					uint32_t mid = lo + (hi - lo) / 2;

					if (in[mid] > c.limit)
						hi = mid;
					else
						lo = mid + 1;
				}
				k = lo;
			}
			if (!k || in[k - 1] <= a[i].ts)
				continue;
			c.close_by = in[k - 1];
			c.path[0] = a[i].move;
			c.plen = 1;
			c.onpath[v] = 1;
			cyc_dfs(&c, v, a[i].ts, 1);
			c.onpath[v] = 0;
		}
		c.onpath[u] = 0;
		for (q = 0; q < tail; q++)
			c.dist[bfs[q]] = 255;
	}
	if (c.oom)
		goto oom;
	for (i = 0; i < res->n; i++)
		res->c[i].hops = res->pool + (uintptr_t)res->c[i].hops;
	if (res->n > 1)
		qsort_r(res->c, res->n, sizeof(*res->c), cycle_cmp, (void *)g);
	cyc_free(&c, bfs);
	return FD_OK;
oom:
	cyc_free(&c, bfs);
	fd_graph_cycles_release(res);
	return fd_err_set(err, FD_EIO, "out of memory");
}

/* ---- fans ---------------------------------------------------------------------------- */

struct fanctx {
	const struct fd_graph *g;
	const struct fd_graph_fan_opts *o;
	struct fd_graph_fans *res;
	size_t fcap, pcap, npool;
	uint32_t *cnt_in, *cnt_out;  /* per counterparty node, within the current window */
	uint32_t *ins, *outs;        /* moves of the current centre */
	size_t nin, nout, incap, outcap;
};

static int moves_ts_cmp_r(const void *a, const void *b, void *ctx)
{
	const struct fd_graph *g = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (g->moves[x].ts != g->moves[y].ts)
		return g->moves[x].ts < g->moves[y].ts ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int push_u32(uint32_t **a, size_t *n, size_t *cap, uint32_t v)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		uint32_t *p = realloc(*a, c * sizeof(*p));

		if (!p)
			return -1;
		*a = p;
		*cap = c;
	}
	(*a)[(*n)++] = v;
	return 0;
}

/* The money moves into (dir 1) or out of (dir 0) x, in time order. */
static int centre_moves(struct fanctx *f, uint32_t x, int dir, uint32_t **a, size_t *n, size_t *cap)
{
	const struct fd_graph *g = f->g;
	uint32_t q, nq, m;
	const uint32_t *ev = dir ? fd_graph_in_edges(g, x, &nq) : fd_graph_out_edges(g, x, &nq);

	*n = 0;
	for (q = 0; q < nq; q++) {
		const struct edge *e = &g->edges[ev[q]];

		if (!is_money(TAG_KIND(e->tag)) || e->src == e->dst)
			continue;
		for (m = g->mv_off[ev[q]]; m < g->mv_off[ev[q] + 1]; m++)
			if (push_u32(a, n, cap, m))
				return -1;
	}
	if (*n > 1)
		qsort_r(*a, *n, sizeof(**a), moves_ts_cmp_r, (void *)g);
	return 0;
}


/* Record a pattern whose evidence is the moves of lists a[0..na) and b[0..nb). */
static int fan_add(struct fanctx *f, int kind, uint32_t centre, int64_t other, uint32_t nin, uint32_t nout,
		   const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	const struct fd_graph *g = f->g;
	struct fd_graph_fans *res = f->res;
	struct fd_graph_fan *p;
	size_t i;
	uint32_t *mv;

	if (res->n == f->fcap) {
		size_t c = f->fcap ? f->fcap * 2 : 64;
		struct fd_graph_fan *q = realloc(res->f, c * sizeof(*q));

		if (!q)
			return -1;
		res->f = q;
		f->fcap = c;
	}
	if (f->npool + na + nb > f->pcap || !res->pool) {
		size_t c = f->pcap ? f->pcap * 2 : 4096;
		uint32_t *q;

		while (c < f->npool + na + nb)
			c *= 2;
		if (!(q = realloc(res->pool, c * sizeof(*q))))
			return -1;
		res->pool = q;
		f->pcap = c;
	}
	p = &res->f[res->n++];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->center = centre;
	p->other = other;
	p->nin = nin;
	p->nout = nout;
	mv = res->pool + f->npool;
	if (na)
		memcpy(mv, a, na * sizeof(*mv));
	if (nb)
		memcpy(mv + na, b, nb * sizeof(*mv));
	/* time order, each move once */
	if (na + nb > 1)
		qsort_r(mv, na + nb, sizeof(*mv), moves_ts_cmp_r, (void *)g);
	p->nmoves = 0;
	for (i = 0; i < na + nb; i++)
		if (!p->nmoves || mv[p->nmoves - 1] != mv[i])
			mv[p->nmoves++] = mv[i];
	p->moves = (uint32_t *)(uintptr_t)f->npool;
	f->npool += p->nmoves;
	for (i = 0; i < p->nmoves; i++) {
		const struct move *m = &g->moves[mv[i]];
		uint32_t s = move_src(g, mv[i]), d = move_dst(g, mv[i]);

		p->flagged += m->flagged;
		if (kind == FD_FAN_SCATTER_GATHER) {
			/* out: scattered by the source; in: gathered by the destination */
			if (s == centre)
				p->out_total += m->amount;
			else
				p->in_total += m->amount;
			continue;
		}
		if (d == centre)
			p->in_total += m->amount;
		if (s == centre)
			p->out_total += m->amount;
	}
	p->start = p->nmoves ? g->moves[mv[0]].ts : 0;
	p->end = p->nmoves ? g->moves[mv[p->nmoves - 1]].ts : 0;
	return 0;
}

/* Fan-in (dir 1) or fan-out (dir 0) of x over its moves a[0..n): the window with the most
 * distinct counterparties. */
static int fan_single(struct fanctx *f, uint32_t x, int dir, const uint32_t *a, size_t n)
{
	const struct fd_graph *g = f->g;
	uint32_t *cnt = f->cnt_in, distinct = 0, best = 0, min = dir ? f->o->min_in : f->o->min_out;
	size_t i, j = 0, bi = 0, bj = 0;

	if (n < min || !min)
		return 0;
	for (i = 0; i < n; i++) {
		int64_t lim = g->moves[a[i]].ts > INT64_MAX - f->o->window ? INT64_MAX : g->moves[a[i]].ts + f->o->window;

		while (j < n && g->moves[a[j]].ts <= lim) {
			uint32_t c = dir ? move_src(g, a[j]) : move_dst(g, a[j]);

			distinct += cnt[c]++ == 0;
			j++;
		}
		if (distinct > best) {
			best = distinct;
			bi = i;
			bj = j;
		}
		{
			uint32_t c = dir ? move_src(g, a[i]) : move_dst(g, a[i]);

			distinct -= --cnt[c] == 0;
		}
	}
	if (best < min)
		return 0;
	return fan_add(f, dir ? FD_FAN_IN : FD_FAN_OUT, x, -1, dir ? best : 0, dir ? 0 : best, a + bi, bj - bi, NULL, 0);
}

/* Gather-scatter through x: anchored at each transfer in, the senders in [a, a + window] and
 * the recipients paid in that window. */
static int fan_through(struct fanctx *f, uint32_t x)
{
	const struct fd_graph *g = f->g;
	const uint32_t *in = f->ins, *out = f->outs;
	size_t nin = f->nin, nout = f->nout, i, jin = 0, klo = 0, khi = 0;
	size_t bi = 0, bjin = 0, bklo = 0, bkhi = 0;
	uint32_t din = 0, dout = 0, best = 0, bdin = 0, bdout = 0;
	int64_t sin = 0, sout = 0;

	if (nin < f->o->gs_min_in || nout < f->o->gs_min_out || !f->o->gs_min_in || !f->o->gs_min_out)
		return 0;
	for (i = 0; i < nin; i++) {
		int64_t a = g->moves[in[i]].ts, lim = a > INT64_MAX - f->o->window ? INT64_MAX : a + f->o->window;

		while (jin < nin && g->moves[in[jin]].ts <= lim) {
			din += f->cnt_in[move_src(g, in[jin])]++ == 0;
			sin += g->moves[in[jin]].amount;
			jin++;
		}
		/* the transfers out in [a, lim] are out[klo..khi), all counted */
		for (; klo < nout && g->moves[out[klo]].ts < a; klo++)
			if (klo < khi) {
				dout -= --f->cnt_out[move_dst(g, out[klo])] == 0;
				sout -= g->moves[out[klo]].amount;
			}
		if (khi < klo)
			khi = klo;
		for (; khi < nout && g->moves[out[khi]].ts <= lim; khi++) {
			dout += f->cnt_out[move_dst(g, out[khi])]++ == 0;
			sout += g->moves[out[khi]].amount;
		}
		if (din >= f->o->gs_min_in && dout >= f->o->gs_min_out && (double)sout >= f->o->min_pass * (double)sin &&
		    din + dout > best) {
			best = din + dout;
			bdin = din;
			bdout = dout;
			bi = i;
			bjin = jin;
			bklo = klo;
			bkhi = khi;
		}
		din -= --f->cnt_in[move_src(g, in[i])] == 0;
		sin -= g->moves[in[i]].amount;
	}
	/* the counters hold what is left in the windows: clear them */
	for (; klo < khi; klo++)
		f->cnt_out[move_dst(g, out[klo])]--;
	for (; i < jin; i++)
		f->cnt_in[move_src(g, in[i])]--;
	if (!best)
		return 0;
	return fan_add(f, FD_FAN_GATHER_SCATTER, x, -1, bdin, bdout, in + bi, bjin - bi, out + bklo, bkhi - bklo);
}

/* A path source -> b -> c for scatter-gather. */
struct sgpath {
	uint32_t b, c, m1, m2;
	int64_t t1, t2;
};

static int sg_cmp_t1(const void *a, const void *b)
{
	const struct sgpath *x = a, *y = b;

	if (x->c != y->c)
		return x->c < y->c ? -1 : 1;
	if (x->t1 != y->t1)
		return x->t1 < y->t1 ? -1 : 1;
	if (x->t2 != y->t2)
		return x->t2 < y->t2 ? -1 : 1;
	return x->m1 < y->m1 ? -1 : x->m1 > y->m1 ? 1 : (x->m2 < y->m2 ? -1 : x->m2 > y->m2);
}

/* Scatter-gather from x: for each destination, the window [a, a + window] (a the time of a
 * payment out of x) with the most intermediates b such that x -> b at t1 >= a and b -> c at
 * t2 > t1, t2 <= a + window. */
static int fan_scatter(struct fanctx *f, uint32_t x)
{
	const struct fd_graph *g = f->g;
	struct sgpath *p = NULL;
	size_t np = 0, cap = 0, i, s, e2;
	uint32_t *ord = NULL, *a1 = NULL, *a2 = NULL;
	uint8_t *added = NULL;
	int rc = -1;

	if (f->nout < f->o->sg_min || !f->o->sg_min)
		return 0;
	for (i = 0; i < f->nout; i++) {
		uint32_t m1 = f->outs[i], b = move_dst(g, m1), q, nq;
		int64_t t1 = g->moves[m1].ts, lim = t1 > INT64_MAX - f->o->window ? INT64_MAX : t1 + f->o->window;
		const uint32_t *ev;

		if (g->nodes[b].kind != NK_ACCOUNT || b == x)
			continue;
		ev = fd_graph_out_edges(g, b, &nq);
		for (q = 0; q < nq; q++) {
			uint32_t c = g->edges[ev[q]].dst, m2;

			if (!is_money(edge_kind(g, ev[q])) || c == x || c == b)
				continue;
			for (m2 = first_move_after(g, ev[q], t1); m2 != UINT32_MAX && m2 < g->mv_off[ev[q] + 1] &&
			     g->moves[m2].ts <= lim; m2++) {
				if (np == cap) {
					size_t nc = cap ? cap * 2 : 64;
					struct sgpath *pp = realloc(p, nc * sizeof(*pp));

					if (!pp)
						goto out;
					p = pp;
					cap = nc;
				}
				p[np++] = (struct sgpath){b, c, m1, m2, t1, g->moves[m2].ts};
			}
		}
	}
	if (np < f->o->sg_min) {
		rc = 0;
		goto out;
	}
	if (np > 1)
		qsort(p, np, sizeof(*p), sg_cmp_t1);
	if (!(ord = malloc(np * sizeof(*ord))) || !(added = calloc(np, 1)) || !(a1 = malloc(np * sizeof(*a1))) ||
	    !(a2 = malloc(np * sizeof(*a2))))
		goto out;
	for (s = 0; s < np; s = e2) {
		size_t j, k = 0, lo, n;
		uint32_t distinct = 0, best = 0, c = p[s].c;
		int64_t ba = 0;

		for (e2 = s; e2 < np && p[e2].c == c; e2++)
			;
		n = e2 - s;
		if (n < f->o->sg_min)
			continue;
		/* entering order: by t2 */
		for (j = 0; j < n; j++)
			ord[j] = (uint32_t)(s + j);
		for (j = 1; j < n; j++) {  /* insertion sort by t2; groups are small */
			uint32_t v = ord[j];
			size_t h = j;

			while (h > 0 && p[ord[h - 1]].t2 > p[v].t2)
				ord[h] = ord[h - 1], h--;
			ord[h] = v;
		}
		for (j = lo = s; j < e2; j++) {  /* anchors in t1 order; paths leave in t1 order */
			int64_t a = p[j].t1, lim = a > INT64_MAX - f->o->window ? INT64_MAX : a + f->o->window;

			while (k < n && p[ord[k]].t2 <= lim) {
				if (p[ord[k]].t1 >= a) {
					added[ord[k]] = 1;
					distinct += f->cnt_in[p[ord[k]].b]++ == 0;
				}
				k++;
			}
			if (distinct > best) {
				best = distinct;
				ba = a;
			}
			/* anchors with the same t1 share the window */
			if (j + 1 < e2 && p[j + 1].t1 == a)
				continue;
			for (; lo <= j; lo++)
				if (added[lo]) {
					added[lo] = 0;
					distinct -= --f->cnt_in[p[lo].b] == 0;
				}
		}
		for (j = s; j < e2; j++)
			if (added[j]) {
				added[j] = 0;
				f->cnt_in[p[j].b]--;
			}
		if (best >= f->o->sg_min) {
			int64_t lim = ba > INT64_MAX - f->o->window ? INT64_MAX : ba + f->o->window;
			size_t m = 0;

			for (j = s; j < e2; j++)
				if (p[j].t1 >= ba && p[j].t2 <= lim) {
					a1[m] = p[j].m1;
					a2[m++] = p[j].m2;
				}
			if (fan_add(f, FD_FAN_SCATTER_GATHER, x, c, best, best, a1, m, a2, m))
				goto out;
		}
	}
	rc = 0;
out:
	free(p);
	free(ord);
	free(added);
	free(a1);
	free(a2);
	return rc;
}

static int fan_cmp(const void *a, const void *b, void *ctx)
{
	const struct fd_graph *g = ctx;
	const struct fd_graph_fan *x = a, *y = b;
	int c;

	if (x->nin + x->nout != y->nin + y->nout)
		return x->nin + x->nout > y->nin + y->nout ? -1 : 1;
	if (x->in_total + x->out_total != y->in_total + y->out_total)
		return x->in_total + x->out_total > y->in_total + y->out_total ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if ((c = node_cmp_r(&x->center, &y->center, (void *)g)))
		return c;
	return x->kind - y->kind;
}

void fd_graph_fans_release(struct fd_graph_fans *res)
{
	if (!res)
		return;
	free(res->f);
	free(res->pool);
	memset(res, 0, sizeof(*res));
}

int fd_graph_fans(const struct fd_graph *g, const struct fd_graph_fan_opts *o, struct fd_graph_fans *res,
		  struct fd_err *err)
{
	struct fanctx f;
	uint32_t nn = fd_graph_node_count(g), x;
	unsigned kinds = o->kinds ? o->kinds : (1u << FD_FAN_NKINDS) - 1;
	size_t i;

	memset(res, 0, sizeof(*res));
	memset(&f, 0, sizeof(f));
	if (!g->finished)
		return fd_err_set(err, FD_EUSAGE, "the graph is not finished");
	if (o->window <= 0)
		return fd_err_set(err, FD_EUSAGE, "the window must be positive");
	f.g = g;
	f.o = o;
	f.res = res;
	if (!(f.cnt_in = calloc((size_t)nn + 1, sizeof(uint32_t))) || !(f.cnt_out = calloc((size_t)nn + 1, sizeof(uint32_t))))
		goto oom;
	for (x = 0; x < nn; x++) {
		if (g->nodes[x].kind != NK_ACCOUNT)
			continue;
		if (centre_moves(&f, x, 1, &f.ins, &f.nin, &f.incap) || centre_moves(&f, x, 0, &f.outs, &f.nout, &f.outcap))
			goto oom;
		if (((kinds & FD_GRAPH_BIT(FD_FAN_IN)) && fan_single(&f, x, 1, f.ins, f.nin)) ||
		    ((kinds & FD_GRAPH_BIT(FD_FAN_OUT)) && fan_single(&f, x, 0, f.outs, f.nout)) ||
		    ((kinds & FD_GRAPH_BIT(FD_FAN_GATHER_SCATTER)) && fan_through(&f, x)) ||
		    ((kinds & FD_GRAPH_BIT(FD_FAN_SCATTER_GATHER)) && fan_scatter(&f, x)))
			goto oom;
	}
	for (i = 0; i < res->n; i++)
		res->f[i].moves = res->pool + (uintptr_t)res->f[i].moves;
	if (res->n > 1)
		qsort_r(res->f, res->n, sizeof(*res->f), fan_cmp, (void *)g);
	free(f.cnt_in);
	free(f.cnt_out);
	free(f.ins);
	free(f.outs);
	return FD_OK;
oom:
	free(f.cnt_in);
	free(f.cnt_out);
	free(f.ins);
	free(f.outs);
	fd_graph_fans_release(res);
	return fd_err_set(err, FD_EIO, "out of memory");
}
/* ---- statistics ---------------------------------------------------------------------- */

void fd_graph_stats_release(struct fd_graph_stats *s)
{
	if (!s)
		return;
	free(s->degree);
	free(s->in_degree);
	free(s->out_degree);
	free(s->flow_in);
	free(s->flow_out);
	free(s->clustering);
	free(s->pagerank);
	memset(s, 0, sizeof(*s));
}

/* CSR of distinct neighbours per node, without self: both directions (undirected) when arcs
 * is 0; for arcs, the PageRank arcs (money out, every other kind both ways). */
static int simple_adj(const struct fd_graph *g, int arcs, uint32_t **offp, uint32_t **adjp, uint32_t *stamp)
{
	uint32_t nn = fd_graph_node_count(g), v, pass, *off = NULL, *adj = NULL;

	if (!(off = calloc((size_t)nn + 1, sizeof(*off))))
		return -1;
	for (v = 0; v < nn; v++)
		stamp[v] = UINT32_MAX;
	for (pass = 0; pass < 2; pass++) {
		for (v = 0; v < nn; v++) {
			uint32_t q, nq, n = 0;
			const uint32_t *ev;
			int dir;

			for (dir = 0; dir < 2; dir++) {
				ev = dir ? fd_graph_in_edges(g, v, &nq) : fd_graph_out_edges(g, v, &nq);
				for (q = 0; q < nq; q++) {
					const struct edge *e = &g->edges[ev[q]];
					uint32_t w = dir ? e->src : e->dst;

					if (w == v || (arcs && dir && is_money(TAG_KIND(e->tag))) || stamp[w] == v * 2 + pass)
						continue;
					stamp[w] = v * 2 + pass;
					if (pass)
						adj[off[v] + n] = w;
					n++;
				}
			}
			if (!pass)
				off[v + 1] = n;
		}
		if (!pass) {
			for (v = 0; v < nn; v++)
				off[v + 1] += off[v];
			if (!(adj = malloc(((size_t)off[nn] + 1) * sizeof(*adj)))) {
				free(off);
				return -1;
			}
			for (v = 0; v < nn; v++)
				stamp[v] = UINT32_MAX;
		}
	}
	*offp = off;
	*adjp = adj;
	return 0;
}

int fd_graph_stats(const struct fd_graph *g, struct fd_graph_stats *s, struct fd_err *err)
{
	uint32_t nn = fd_graph_node_count(g), v, *stamp = NULL, *off = NULL, *adj = NULL, *aoff = NULL, *aadj = NULL;
	uint32_t *fwd_off = NULL, *fwd = NULL;
	uint64_t *tri = NULL;
	double *next = NULL;
	int it;

	memset(s, 0, sizeof(*s));
	if (!g->finished)
		return fd_err_set(err, FD_EUSAGE, "the graph is not finished");
	s->n = nn;
	if (!(s->degree = calloc((size_t)nn + 1, sizeof(uint32_t))) || !(s->in_degree = calloc((size_t)nn + 1, sizeof(uint32_t))) ||
	    !(s->out_degree = calloc((size_t)nn + 1, sizeof(uint32_t))) || !(s->flow_in = calloc((size_t)nn + 1, sizeof(int64_t))) ||
	    !(s->flow_out = calloc((size_t)nn + 1, sizeof(int64_t))) || !(s->clustering = calloc((size_t)nn + 1, sizeof(double))) ||
	    !(s->pagerank = calloc((size_t)nn + 1, sizeof(double))) || !(stamp = malloc(((size_t)nn + 1) * sizeof(uint32_t))))
		goto oom;
	/* in and out degree (distinct ends, no self), money flows */
	for (v = 0; v < nn; v++)
		stamp[v] = UINT32_MAX;
	for (v = 0; v < nn; v++) {
		uint32_t q, nq;
		const uint32_t *ev = fd_graph_out_edges(g, v, &nq);

		for (q = 0; q < nq; q++) {
			const struct edge *e = &g->edges[ev[q]];

			if (is_money(TAG_KIND(e->tag))) {
				s->flow_out[v] += e->total;
				s->flow_in[e->dst] += e->total;
			}
			if (e->dst != v && stamp[e->dst] != v) {
				stamp[e->dst] = v;
				s->out_degree[v]++;
			}
		}
	}
	for (v = 0; v < nn; v++)
		stamp[v] = UINT32_MAX;
	for (v = 0; v < nn; v++) {
		uint32_t q, nq;
		const uint32_t *ev = fd_graph_in_edges(g, v, &nq);

		for (q = 0; q < nq; q++) {
			uint32_t w = g->edges[ev[q]].src;

			if (w != v && stamp[w] != v) {
				stamp[w] = v;
				s->in_degree[v]++;
			}
		}
	}
	/* the simple undirected graph: degree and clustering */
	if (simple_adj(g, 0, &off, &adj, stamp))
		goto oom;
	for (v = 0; v < nn; v++)
		s->degree[v] = off[v + 1] - off[v];
	/* triangles, each counted once from its lowest-ranked corner (rank: degree, then id) */
	if (!(fwd_off = calloc((size_t)nn + 1, sizeof(uint32_t))) ||
	    !(fwd = malloc(((size_t)off[nn] / 2 + 1) * sizeof(uint32_t))) || !(tri = calloc((size_t)nn + 1, sizeof(uint64_t))))
		goto oom;
#define HIGHER(a, b) (s->degree[a] > s->degree[b] || (s->degree[a] == s->degree[b] && (a) > (b)))
	for (v = 0; v < nn; v++) {
		uint32_t q, n = 0;

		for (q = off[v]; q < off[v + 1]; q++)
			if (HIGHER(adj[q], v))
				fwd[fwd_off[v] + n++] = adj[q];
		fwd_off[v + 1] = fwd_off[v] + n;
	}
	for (v = 0; v < nn; v++)
		stamp[v] = UINT32_MAX;
	for (v = 0; v < nn; v++) {
		uint32_t q, r;

		for (q = fwd_off[v]; q < fwd_off[v + 1]; q++)
			stamp[fwd[q]] = v;
		for (q = fwd_off[v]; q < fwd_off[v + 1]; q++) {
			uint32_t u = fwd[q];

			for (r = fwd_off[u]; r < fwd_off[u + 1]; r++)
				if (stamp[fwd[r]] == v) {
					tri[v]++;
					tri[u]++;
					tri[fwd[r]]++;
				}
		}
	}
#undef HIGHER
	for (v = 0; v < nn; v++) {
		double d = s->degree[v];

		s->clustering[v] = d >= 2 ? 2.0 * (double)tri[v] / (d * (d - 1)) : 0;
	}
	/* PageRank by power iteration over the arcs */
	if (nn) {
		double n = nn, damp = 0.85, delta = 0;

		if (simple_adj(g, 1, &aoff, &aadj, stamp) || !(next = malloc(((size_t)nn + 1) * sizeof(double))))
			goto oom;
		for (v = 0; v < nn; v++)
			s->pagerank[v] = 1.0 / n;
		for (it = 1; it <= 1000; it++) {
			double dangling = 0;

			for (v = 0; v < nn; v++) {
				next[v] = 0;
				if (aoff[v + 1] == aoff[v])
					dangling += s->pagerank[v];
			}
			for (v = 0; v < nn; v++) {
				uint32_t q, k = aoff[v + 1] - aoff[v];

				if (!k)
					continue;
				for (q = aoff[v]; q < aoff[v + 1]; q++)
					next[aadj[q]] += s->pagerank[v] / k;
			}
			delta = 0;
			for (v = 0; v < nn; v++) {
				double x = damp * (next[v] + dangling / n) + (1 - damp) / n;

				delta += fabs(x - s->pagerank[v]);
				s->pagerank[v] = x;
			}
			s->iterations = it;
			if (delta < n * 1e-12)
				break;
		}
	}
	free(stamp);
	free(off);
	free(adj);
	free(aoff);
	free(aadj);
	free(fwd_off);
	free(fwd);
	free(tri);
	free(next);
	return FD_OK;
oom:
	free(stamp);
	free(off);
	free(adj);
	free(aoff);
	free(aadj);
	free(fwd_off);
	free(fwd);
	free(tri);
	free(next);
	fd_graph_stats_release(s);
	return fd_err_set(err, FD_EIO, "out of memory");
}
