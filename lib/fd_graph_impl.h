/*
 * fd_graph_impl.h — the inside of struct fd_graph, shared by the modules of the graph
 * (fd_graph.c: building and reading; fd_graph_load.c: loading from the store and writing the
 * statistics back; fd_graph_algo.c: components, cycles, fans, statistics; fd_graph_write.c:
 * the writers; fd_graph_rank.c: hubs, typologies, suspicion scores and rings).  Not part of
 * the library's interface.
 */
#ifndef FD_GRAPH_IMPL_H
#define FD_GRAPH_IMPL_H

#include <math.h>
#include <stdint.h>

#include "fd_buf.h"
#include "fd_graph.h"
#include "fd_intern.h"
#include "fd_txn.h"

/* node kinds: the four entity kinds, then one per attribute */
enum { NK_ACCOUNT, NK_MERCHANT, NK_DEVICE, NK_IP, NK_ATTR0 };
#define NK_MAX (NK_ATTR0 + FD_GRAPH_MAX_ATTRS)


struct node {
	int64_t txns, flagged, sent, sent_flagged, first, last;
	int32_t risk;      /* hundredths of the highest latest risk, -1 none scored */
	int16_t depth;
	uint8_t kind;
	uint8_t expanded;
};

struct edge {
	uint32_t src, dst;
	uint32_t tag;      /* kind | sub << 8 */
	int32_t risk;      /* hundredths of the highest latest risk, -1 none scored */
	int64_t count, total, first, last, flagged;
};

#define TAG(kind, sub) ((uint32_t)(kind) | (uint32_t)(sub) << 8)
#define TAG_KIND(t) ((int)((t) & 0xff))
#define TAG_SUB(t) ((t) >> 8)

struct move {
	uint32_t edge;
	uint32_t name;     /* txn id in g->txnames */
	int64_t ts, amount;
	uint8_t flagged;
};

struct currency {
	char code[4];
	int exp;
	int64_t moves;     /* money transactions seen in it */
	int64_t min;       /* the minimum amount in its minor units */
};

struct fd_graph {
	struct fd_graph_opts o;
	char *attr[FD_GRAPH_MAX_ATTRS];
	const char *kind_name[NK_MAX];
	int nkinds;
	char want_cur[4];          /* opts.currency, or chosen early by the ego loader */

	struct fd_intern *names;
	struct node *nodes;
	size_t ncap;

	struct edge *edges;
	size_t ecap;
	uint32_t ne;
	uint32_t *map;             /* edge index + 1; 0 empty */
	size_t mapcap;

	struct fd_intern *links;   /* link kind names */
	struct currency *cur;
	int ncur, curcap;
	int chosen;                /* currency index after finish, -1 none */
	int64_t dropped;
	int64_t ntxn;

	struct move *moves;
	size_t mcap;
	uint32_t nm;
	struct fd_intern *txnames;

	int finished;
	int closed;                /* ego build: no new nodes; an edge needs an expanded end */
	int ego;

	uint32_t *out_off, *out_e, *in_off, *in_e, *mv_off;
	uint8_t *excluded;         /* per node, set aside by fd_graph_exclude; NULL = none */

	/* attribute values of the transaction being added, normalised */
	char aval[FD_GRAPH_MAX_ATTRS][FD_TEXT_MAX + 1];
	struct fd_buf tmp;
};

/* ---- shared by the graph's files (fd_graph.c, fd_graph_load.c, fd_graph_algo.c,
 * fd_graph_write.c, fd_graph_rank.c); not part of the library's interface ---- */

/* One edge a transaction makes, before it is looked up in the graph (fd_graph.c). */
struct tedge {
	int ekind;                 /* enum fd_graph_kind */
	int nkind;                 /* node kind of the other end (the source is the sender) */
	const char *key;
	size_t len;
	int other_cur;             /* money in another currency than the one asked for: not an edge */
};

/* risk in hundredths, -1 none scored */
static inline int32_t risk_in(double r)
{
	return r < 0 ? -1 : (int32_t)lround(r * 100.0);
}

static inline double risk_out(int32_t c)
{
	return c < 0 ? -1 : c / 100.0;
}

static inline const char *node_key(const struct fd_graph *g, uint32_t id)
{
	return fd_intern_str(g->names, id, NULL) + 1;
}

static inline const char *node_kind(const struct fd_graph *g, uint32_t id)
{
	return g->kind_name[g->nodes[id].kind];
}

static inline int is_money(int kind)
{
	return kind == FD_GRAPH_TRANSFER || kind == FD_GRAPH_PAYMENT;
}

static inline uint32_t move_src(const struct fd_graph *g, uint32_t m) { return g->edges[g->moves[m].edge].src; }
static inline uint32_t move_dst(const struct fd_graph *g, uint32_t m) { return g->edges[g->moves[m].edge].dst; }

/* fd_graph.c: building */
int64_t node_get(struct fd_graph *g, int kind, const char *key, size_t n);
int64_t node_find(const struct fd_graph *g, int kind, const char *key, size_t n);
size_t attr_normalise(const char *name, const char *s, size_t n, char *dst, size_t cap);
int txn_money(struct fd_graph *g, const struct fd_graph_txn *t, int *anycur);
int txn_edges(struct fd_graph *g, const struct fd_graph_txn *t, struct tedge *out, int *money, int *anycur);
int kind_index(const struct fd_graph *g, const char *kind, size_t n);
int move_cmp(const void *a, const void *b);
/* fd_graph_algo.c: the order of node names, kind (accounts first) then key; ctx is the graph */
int node_cmp_r(const void *a, const void *b, void *ctx);

#endif
