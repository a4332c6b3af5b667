/*
 * fd_graph.c — the entity network (contract in fd_graph.h).
 *
 * Layout: nodes are fd_intern ids of "<kind byte><key>"; edges live in one array and, while
 * building, in an open-addressing map keyed by (src, dst, tag) where tag = kind | sub << 8
 * (sub: the currency of a money edge, the link kind of a link edge).  Money edges are kept per
 * currency until fd_graph_finish() knows which currency wins, then the others are dropped.
 * Each money transaction can be kept as a "move" (edge, time, amount, txn id) for the
 * time-respecting algorithms; after finish the moves are sorted by (edge, time) so that an
 * edge's transfers after a given instant are a binary search away.
 */
#include "fd_graph.h"
#include "fd_graph_impl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd_buf.h"
#include "fd_intern.h"
#include "fd_txn.h"
#include "banned.h"

const char *const fd_graph_kind_name[FD_GRAPH_NKINDS] = {
	"transfer", "payment", "device", "ip", "attr", "link",
};

const char *const fd_graph_fan_name[FD_FAN_NKINDS] = {
	"fan-in", "fan-out", "gather-scatter", "scatter-gather", "bipartite", "stack",
};

static const char *const default_attrs[] = {"phone", "email", "address"};

/* ---- small parsers ------------------------------------------------------------------- */

int fd_graph_parse_kinds(const char *s, unsigned *mask, struct fd_err *err)
{
	unsigned m = 0;
	const char *p = s, *e;
	char vis[64];
	int k;

	if (!s || !*s)
		return fd_err_set(err, FD_EUSAGE, "empty list of edge kinds");
	while (*p) {
		size_t n;

		e = strchr(p, ',');
		n = e ? (size_t)(e - p) : strlen(p);
		for (k = 0; k < FD_GRAPH_NKINDS; k++)
			if (strlen(fd_graph_kind_name[k]) == n && memcmp(p, fd_graph_kind_name[k], n) == 0)
				break;
		if (k < FD_GRAPH_NKINDS)
			m |= FD_GRAPH_BIT(k);
		else if (n == 5 && memcmp(p, "money", 5) == 0)
			m |= FD_GRAPH_MONEY;
		else if (n == 6 && memcmp(p, "shared", 6) == 0)
			m |= FD_GRAPH_SHARED;
		else if (n == 5 && memcmp(p, "links", 5) == 0)
			m |= FD_GRAPH_BIT(FD_GRAPH_LINK);
		else if (n == 3 && memcmp(p, "all", 3) == 0)
			m |= FD_GRAPH_ALL;
		else
			return fd_err_set(err, FD_EUSAGE,
					  "unknown edge kind '%s' (transfer, payment, device, ip, attr, link; "
					  "money, shared, links, all)", fd_visible(vis, sizeof(vis), p, n));
		if (!e)
			break;
		p = e + 1;
		if (!*p)
			return fd_err_set(err, FD_EUSAGE, "unknown edge kind '' (a trailing comma)");
	}
	*mask = m;
	return FD_OK;
}

int fd_graph_format_parse(const char *s)
{
	if (!s)
		return -1;
	if (strcmp(s, "csv") == 0)
		return FD_GRAPH_CSV;
	if (strcmp(s, "json") == 0)
		return FD_GRAPH_JSON;
	if (strcmp(s, "dot") == 0)
		return FD_GRAPH_DOT;
	if (strcmp(s, "graphml") == 0)
		return FD_GRAPH_GRAPHML;
	return -1;
}

/* ---- creation ------------------------------------------------------------------------ */

void fd_graph_opts_init(struct fd_graph_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->since = INT64_MIN;
	o->until = INT64_MAX;
}

void fd_graph_free(struct fd_graph *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; i < FD_GRAPH_MAX_ATTRS; i++)
		free(g->attr[i]);
	fd_intern_free(g->names);
	fd_intern_free(g->links);
	fd_intern_free(g->txnames);
	free(g->nodes);
	free(g->edges);
	free(g->map);
	free(g->cur);
	free(g->moves);
	free(g->out_off);
	free(g->out_e);
	free(g->in_off);
	free(g->in_e);
	free(g->mv_off);
	free(g->excluded);
	fd_buf_release(&g->tmp);
	free(g);
}

int fd_graph_create(struct fd_graph **gp, const struct fd_graph_opts *o, struct fd_err *err)
{
	struct fd_graph *g;
	const char *const *attrs = o->attrs ? o->attrs : default_attrs;
	size_t nattrs = o->attrs ? o->nattrs : sizeof(default_attrs) / sizeof(default_attrs[0]);
	size_t i, j;
	char vis[64];

	*gp = NULL;
	if (nattrs > FD_GRAPH_MAX_ATTRS)
		return fd_err_set(err, FD_EUSAGE, "too many attributes (%zu; at most %d)", nattrs, FD_GRAPH_MAX_ATTRS);
	if (o->currency && fd_currency_exponent(o->currency) < 0)
		return fd_err_set(err, FD_EUSAGE, "currency '%s' is not an ISO 4217 code (upper case, e.g. EUR)",
				  fd_visible(vis, sizeof(vis), o->currency, strlen(o->currency)));
	for (i = 0; i < nattrs; i++) {
		const char *a = attrs[i];

		if (!*a || strchr(a, ':') || strcmp(a, "account") == 0 || strcmp(a, "merchant") == 0 ||
		    strcmp(a, "device") == 0 || strcmp(a, "ip") == 0)
			return fd_err_set(err, FD_EUSAGE, "attribute '%s' cannot name a node kind (not empty, no ':', "
					  "not account, merchant, device or ip)", fd_visible(vis, sizeof(vis), a, strlen(a)));
		for (j = 0; j < i; j++)
			if (strcmp(a, attrs[j]) == 0)
				return fd_err_set(err, FD_EUSAGE, "attribute '%s' given twice",
						  fd_visible(vis, sizeof(vis), a, strlen(a)));
	}
	if (!(g = calloc(1, sizeof(*g))))
		return fd_err_set(err, FD_EIO, "out of memory");
	g->o = *o;
	g->o.attrs = NULL;
	g->o.currency = NULL;
	if (!g->o.kinds)
		g->o.kinds = FD_GRAPH_ALL;
	g->o.nattrs = nattrs;
	g->kind_name[NK_ACCOUNT] = "account";
	g->kind_name[NK_MERCHANT] = "merchant";
	g->kind_name[NK_DEVICE] = "device";
	g->kind_name[NK_IP] = "ip";
	for (i = 0; i < nattrs; i++) {
		if (!(g->attr[i] = strdup(attrs[i])))
			goto oom;
		g->kind_name[NK_ATTR0 + i] = g->attr[i];
	}
	g->nkinds = NK_ATTR0 + (int)nattrs;
	if (o->currency)
		memcpy(g->want_cur, o->currency, 4);
	g->chosen = -1;
	if (!(g->names = fd_intern_create()) || !(g->links = fd_intern_create()) || !(g->txnames = fd_intern_create()))
		goto oom;
	*gp = g;
	return FD_OK;
oom:
	fd_graph_free(g);
	return fd_err_set(err, FD_EIO, "out of memory");
}

/* ---- nodes and edges ----------------------------------------------------------------- */

/* The node of kind and key (n bytes): created unless the graph is closed.  -1 when absent in a
 * closed graph, -2 when out of memory. */
int64_t node_get(struct fd_graph *g, int kind, const char *key, size_t n)
{
	char stackbuf[256], *k = stackbuf;
	int64_t id;
	int is_new = 0;

	if (n + 1 > sizeof(stackbuf)) {
		fd_buf_reset(&g->tmp);
		if (fd_buf_grow(&g->tmp, n + 1))
			return -2;
		k = g->tmp.s;
	}
	k[0] = (char)(kind + 1);
	memcpy(k + 1, key, n);
	if (g->closed)
		return fd_intern_find(g->names, k, n + 1);
	id = fd_intern_put(g->names, k, n + 1, &is_new);
	if (id < 0)
		return -2;
	if (is_new) {
		struct node *nd;

		if ((size_t)id >= g->ncap) {
			size_t c = g->ncap ? g->ncap * 2 : 1024;
			struct node *p = realloc(g->nodes, c * sizeof(*p));

			if (!p)
				return -2;
			g->nodes = p;
			g->ncap = c;
		}
		nd = &g->nodes[id];
		memset(nd, 0, sizeof(*nd));
		nd->kind = (uint8_t)kind;
		nd->risk = -1;
		nd->depth = -1;
		nd->expanded = 1;
	}
	return id;
}

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static size_t edge_slot(const struct fd_graph *g, uint32_t s, uint32_t d, uint32_t tag)
{
	return (size_t)mix64(((uint64_t)s << 32 | d) ^ ((uint64_t)tag * 0x9e3779b97f4a7c15ULL)) & (g->mapcap - 1);
}

static int map_grow(struct fd_graph *g)
{
	size_t c = g->mapcap ? g->mapcap * 2 : 4096, i;
	uint32_t *old = g->map;
	size_t oldcap = g->mapcap;

	if (!(g->map = calloc(c, sizeof(*g->map)))) {
		g->map = old;
		return -1;
	}
	g->mapcap = c;
	for (i = 0; i < oldcap; i++)
		if (old[i]) {
			const struct edge *e = &g->edges[old[i] - 1];
			size_t h = edge_slot(g, e->src, e->dst, e->tag);

			while (g->map[h])
				h = (h + 1) & (c - 1);
			g->map[h] = old[i];
		}
	free(old);
	return 0;
}

/* The edge (s, d, tag), created when new.  -1 when out of memory. */
static int64_t edge_get(struct fd_graph *g, uint32_t s, uint32_t d, uint32_t tag)
{
	size_t h;
	struct edge *e;

	if ((size_t)g->ne * 2 >= g->mapcap && map_grow(g))
		return -1;
	h = edge_slot(g, s, d, tag);
	while (g->map[h]) {
		e = &g->edges[g->map[h] - 1];
		if (e->src == s && e->dst == d && e->tag == tag)
			return g->map[h] - 1;
		h = (h + 1) & (g->mapcap - 1);
	}
	if (g->ne >= g->ecap) {
		size_t c = g->ecap ? g->ecap * 2 : 4096;
		struct edge *p;

		if (g->ne == UINT32_MAX - 1 || !(p = realloc(g->edges, c * sizeof(*p))))
			return -1;
		g->edges = p;
		g->ecap = c;
	}
	e = &g->edges[g->ne];
	memset(e, 0, sizeof(*e));
	e->src = s;
	e->dst = d;
	e->tag = tag;
	e->risk = -1;
	g->map[h] = ++g->ne;
	return g->ne - 1;
}

/* Risks are kept in hundredths (the written risk has two decimals), -1 when none is scored. */
static void edge_touch(struct edge *e, int64_t first, int64_t last, int64_t count, int64_t amount,
		       int64_t flagged, int32_t risk)
{
	if (e->count == 0 || first < e->first)
		e->first = first;
	if (e->count == 0 || last > e->last)
		e->last = last;
	e->count += count;
	e->total += amount;
	e->flagged += flagged;
	if (risk > e->risk)
		e->risk = risk;
}

static void node_touch(struct node *n, int64_t ts, int flag, int32_t risk)
{
	if (n->txns == 0 || ts < n->first)
		n->first = ts;
	if (n->txns == 0 || ts > n->last)
		n->last = ts;
	n->txns++;
	n->flagged += flag;
	if (risk > n->risk)
		n->risk = risk;
}

static int currency_get(struct fd_graph *g, const char *code)
{
	int i, e;

	for (i = 0; i < g->ncur; i++)
		if (memcmp(g->cur[i].code, code, 4) == 0)
			return i;
	if (g->ncur >= 0xffff)
		return -1;
	if (g->ncur == g->curcap) {
		int c = g->curcap ? g->curcap * 2 : 8;
		struct currency *p = realloc(g->cur, (size_t)c * sizeof(*p));

		if (!p)
			return -1;
		g->cur = p;
		g->curcap = c;
	}
	memset(&g->cur[i], 0, sizeof(g->cur[i]));
	memcpy(g->cur[i].code, code, 4);
	e = fd_currency_exponent(code);
	g->cur[i].exp = e < 0 ? 2 : e;
	/* the minimum in this currency's minor units, rounded up */
	if (g->o.min_amount > 0) {
		int64_t div = 1;
		int k;

		if (g->cur[i].exp <= FD_GRAPH_AMOUNT_EXP) {
			for (k = g->cur[i].exp; k < FD_GRAPH_AMOUNT_EXP; k++)
				div *= 10;
			g->cur[i].min = g->o.min_amount / div + (g->o.min_amount % div != 0);
		} else {
			int64_t m = g->o.min_amount;

			for (k = FD_GRAPH_AMOUNT_EXP; k < g->cur[i].exp && m < INT64_MAX / 10; k++)
				m *= 10;
			g->cur[i].min = m;
		}
	}
	g->ncur++;
	return i;
}

/* ---- a transaction's edges ----------------------------------------------------------- */

/* Normalise an attribute value into dst (NUL-terminated): e-mail lower case; phone digits with
 * a leading '+'; anything else lower case with runs of blanks made one space; trimmed.
 * Returns the length (0 = nothing left). */
size_t attr_normalise(const char *name, const char *s, size_t n, char *dst, size_t cap)
{
	size_t o = 0, i;
	int phone = strstr(name, "phone") || strstr(name, "tel") || strstr(name, "mobile");
	int blank = 0;

	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	for (i = 0; i < n && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		if (phone) {
			if (isdigit(c) || (c == '+' && o == 0))
				dst[o++] = (char)c;
			continue;
		}
		if (isspace(c)) {
			blank = 1;
			continue;
		}
		if (blank && o) {
			dst[o++] = ' ';
			if (o + 1 >= cap)
				break;
		}
		blank = 0;
		dst[o++] = (char)tolower(c);
	}
	dst[o] = '\0';
	if (phone && o == 1 && dst[0] == '+')
		o = 0;
	return o;
}

/* The attribute values of a transaction's metadata, normalised into g->aval; mask of found. */
static unsigned txn_attrs(struct fd_graph *g, const struct fd_graph_txn *t)
{
	unsigned found = 0;
	size_t i;
	json_t *root = NULL;

	if (!t->metadata || !t->metadata_len || !(g->o.kinds & FD_GRAPH_BIT(FD_GRAPH_ATTR)))
		return 0;
	for (i = 0; i < g->o.nattrs; i++) {
		const char *a = g->attr[i];
		size_t an = strlen(a);
		const char *p = t->metadata, *end = t->metadata + t->metadata_len;
		int present = 0;

		/* a cheap look for "name" before parsing anything */
		while ((p = memchr(p, '"', (size_t)(end - p))) && end - p > (ptrdiff_t)an + 1) {
			if (memcmp(p + 1, a, an) == 0 && p[an + 1] == '"') {
				present = 1;
				break;
			}
			p++;
		}
		if (!present)
			continue;
		if (!root && !(root = json_loadb(t->metadata, t->metadata_len, 0, NULL)))
			return 0;
		{
			json_t *v = json_object_get(root, a);
			char num[64];
			const char *s = NULL;
			size_t n = 0;

			if (json_is_string(v)) {
				s = json_string_value(v);
				n = json_string_length(v);
			} else if (json_is_integer(v)) {
				snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
				s = num;
				n = strlen(num);
			}
			if (s && attr_normalise(a, s, n, g->aval[i], sizeof(g->aval[i])))
				found |= 1u << i;
		}
	}
	json_decref(root);
	return found;
}

/*
 * Money eligibility of a transaction: its currency index, or -1 when it is not money here
 * (not positive, below the minimum, an edge kind not built, another currency than the one
 * asked for), -2 when out of memory.  *anycur receives the currency index whatever the
 * currency asked for (-1 when not money at all), for choosing the currency and counting what
 * is dropped.
 */
int txn_money(struct fd_graph *g, const struct fd_graph_txn *t, int *anycur)
{
	const char *code = t->currency ? t->currency : "USD";
	int c;

	*anycur = -1;
	if (t->amount <= 0)
		return -1;
	if (t->recipient ? !(g->o.kinds & FD_GRAPH_BIT(FD_GRAPH_TRANSFER))
			 : (!t->merchant || !(g->o.kinds & FD_GRAPH_BIT(FD_GRAPH_PAYMENT))))
		return -1;
	if (strlen(code) != 3)
		return -1;
	if ((c = currency_get(g, code)) < 0)
		return -2;
	if (t->amount < g->cur[c].min)
		return -1;
	*anycur = c;
	if (g->want_cur[0] && memcmp(code, g->want_cur, 3) != 0)
		return -1;
	return c;
}

/* The edges of a transaction (the sender is their source).  When it is money (in any
 * currency) out[0] is the money edge, *money its currency index, or -1 with out[0].other_cur
 * set when the currency is not the one asked for.  -1 when out of memory. */
int txn_edges(struct fd_graph *g, const struct fd_graph_txn *t, struct tedge *out, int *money, int *anycur)
{
	int n = 0;
	unsigned am;
	size_t i;

	*money = txn_money(g, t, anycur);
	if (*money == -2)
		return -1;
	if (*anycur >= 0) {
		out[n].ekind = t->recipient ? FD_GRAPH_TRANSFER : FD_GRAPH_PAYMENT;
		out[n].nkind = t->recipient ? NK_ACCOUNT : NK_MERCHANT;
		out[n].key = t->recipient ? t->recipient : t->merchant;
		out[n].len = strlen(out[n].key);
		out[n].other_cur = *money < 0;
		n++;
	}
	if (t->device && (g->o.kinds & FD_GRAPH_BIT(FD_GRAPH_DEVICE))) {
		out[n] = (struct tedge){FD_GRAPH_DEVICE, NK_DEVICE, t->device, strlen(t->device), 0};
		n++;
	}
	if (t->ip && (g->o.kinds & FD_GRAPH_BIT(FD_GRAPH_IP))) {
		out[n] = (struct tedge){FD_GRAPH_IP, NK_IP, t->ip, strlen(t->ip), 0};
		n++;
	}
	am = txn_attrs(g, t);
	for (i = 0; i < g->o.nattrs; i++)
		if (am & (1u << i)) {
			out[n] = (struct tedge){FD_GRAPH_ATTR, NK_ATTR0 + (int)i, g->aval[i], strlen(g->aval[i]), 0};
			n++;
		}
	return n;
}

static int is_expanded(const struct fd_graph *g, int64_t id)
{
	return g->nodes[id].expanded;
}

/* The node of kind and key, or -1 (never created). */
int64_t node_find(const struct fd_graph *g, int kind, const char *key, size_t n)
{
	char buf[FD_TEXT_MAX + 2];

	if (n > FD_TEXT_MAX)
		return -1;
	buf[0] = (char)(kind + 1);
	memcpy(buf + 1, key, n);
	return fd_intern_find(g->names, buf, n + 1);
}

int fd_graph_add_txn(struct fd_graph *g, const struct fd_graph_txn *t, struct fd_err *err)
{
	struct tedge te[3 + FD_GRAPH_MAX_ATTRS];
	int64_t ids[4 + FD_GRAPH_MAX_ATTRS], s;
	int n, i, j, nid = 0, money, anycur, flag;

	if (g->finished)
		return fd_err_set(err, FD_EUSAGE, "the graph is finished");
	if (!t->sender || !*t->sender)
		return fd_err_set(err, FD_EINPUT, "transaction '%s' has no sender", t->txn_id ? t->txn_id : "");
	if (t->ts < g->o.since || t->ts >= g->o.until)
		return FD_OK;
	flag = t->label == 1 || t->scored_flag;
	if ((n = txn_edges(g, t, te, &money, &anycur)) < 0 || (s = node_get(g, NK_ACCOUNT, t->sender, strlen(t->sender))) == -2)
		return fd_err_set(err, FD_EIO, "out of memory");
	g->ntxn++;
	if (s >= 0) {
		ids[nid++] = s;
		g->nodes[s].sent++;
		g->nodes[s].sent_flagged += flag;
	}
	for (i = 0; i < n; i++) {
		int64_t d = node_get(g, te[i].nkind, te[i].key, te[i].len), e;
		int64_t amount = 0;
		uint32_t sub = 0;

		if (d == -2)
			return fd_err_set(err, FD_EIO, "out of memory");
		if (d < 0)
			continue;
		for (j = 0; j < nid && ids[j] != d; j++)
			;
		if (j == nid)
			ids[nid++] = d;
		if (s < 0 || (g->closed && !is_expanded(g, s) && !is_expanded(g, d)))
			continue;
		if (i == 0 && anycur >= 0)
			g->cur[anycur].moves++;
		if (te[i].other_cur)
			continue;
		if (i == 0 && money >= 0) {
			amount = t->amount;
			sub = (uint32_t)money;
		}
		if ((e = edge_get(g, (uint32_t)s, (uint32_t)d, TAG(te[i].ekind, sub))) < 0)
			return fd_err_set(err, FD_EIO, "out of memory");
		edge_touch(&g->edges[e], t->ts, t->ts, 1, amount, flag, risk_in(t->risk));
		if (i == 0 && money >= 0 && g->o.keep_txns) {
			const char *tid = t->txn_id ? t->txn_id : "";
			int64_t name = fd_intern_put(g->txnames, tid, strlen(tid), NULL);
			struct move *m;

			if (name < 0)
				return fd_err_set(err, FD_EIO, "out of memory");
			if (g->nm >= g->mcap) {
				size_t c = g->mcap ? g->mcap * 2 : 4096;
				struct move *p;

				if (g->nm == UINT32_MAX - 1 || !(p = realloc(g->moves, c * sizeof(*p))))
					return fd_err_set(err, FD_EIO, "out of memory");
				g->moves = p;
				g->mcap = c;
			}
			m = &g->moves[g->nm++];
			m->edge = (uint32_t)e;
			m->name = (uint32_t)name;
			m->ts = t->ts;
			m->amount = t->amount;
			m->flagged = (uint8_t)flag;
		}
	}
	/* the recipient takes part in the transaction even when it is not money here */
	if (t->recipient && !(n > 0 && te[0].ekind == FD_GRAPH_TRANSFER)) {
		int64_t d = node_get(g, NK_ACCOUNT, t->recipient, strlen(t->recipient));

		if (d == -2)
			return fd_err_set(err, FD_EIO, "out of memory");
		for (j = 0; j < nid && ids[j] != d; j++)
			;
		if (d >= 0 && j == nid)
			ids[nid++] = d;
	}
	if (t->merchant && !(n > 0 && te[0].ekind == FD_GRAPH_PAYMENT)) {
		int64_t d = g->closed || (g->o.kinds & FD_GRAPH_BIT(FD_GRAPH_PAYMENT))
				    ? node_get(g, NK_MERCHANT, t->merchant, strlen(t->merchant)) : -1;

		if (d == -2)
			return fd_err_set(err, FD_EIO, "out of memory");
		for (j = 0; j < nid && ids[j] != d; j++)
			;
		if (d >= 0 && j == nid)
			ids[nid++] = d;
	}
	for (j = 0; j < nid; j++)
		node_touch(&g->nodes[ids[j]], t->ts, flag, risk_in(t->risk));
	return FD_OK;
}

int kind_index(const struct fd_graph *g, const char *kind, size_t n)
{
	int k;

	for (k = 0; k < g->nkinds; k++)
		if (strlen(g->kind_name[k]) == n && memcmp(g->kind_name[k], kind, n) == 0)
			return k;
	return -1;
}

int fd_graph_add_link(struct fd_graph *g, const char *src_kind, const char *src_key,
		      const char *dst_kind, const char *dst_key, const char *link_kind,
		      int64_t first, int64_t last, int64_t count, struct fd_err *err)
{
	int sk = kind_index(g, src_kind, strlen(src_kind)), dk = kind_index(g, dst_kind, strlen(dst_kind));
	int64_t s, d, sub, e;

	if (g->finished)
		return fd_err_set(err, FD_EUSAGE, "the graph is finished");
	if (sk < 0 || dk < 0)
		return fd_err_set(err, FD_EINPUT, "link '%s' between unknown kinds '%s' and '%s'", link_kind, src_kind, dst_kind);
	if (!(g->o.kinds & FD_GRAPH_BIT(FD_GRAPH_LINK)) || last < g->o.since || first >= g->o.until)
		return FD_OK;
	if ((s = node_get(g, sk, src_key, strlen(src_key))) == -2 || (d = node_get(g, dk, dst_key, strlen(dst_key))) == -2 ||
	    (sub = fd_intern_put(g->links, link_kind, strlen(link_kind), NULL)) < 0)
		return fd_err_set(err, FD_EIO, "out of memory");
	if (s < 0 || d < 0 || (g->closed && !is_expanded(g, s) && !is_expanded(g, d)))
		return FD_OK;
	if (sub > 0xffffff)
		return fd_err_set(err, FD_EINPUT, "too many link kinds");
	if ((e = edge_get(g, (uint32_t)s, (uint32_t)d, TAG(FD_GRAPH_LINK, sub))) < 0)
		return fd_err_set(err, FD_EIO, "out of memory");
	edge_touch(&g->edges[e], first, last, count, 0, 0, -1);
	return FD_OK;
}

/* ---- finish -------------------------------------------------------------------------- */

int move_cmp(const void *a, const void *b)
{
	const struct move *x = a, *y = b;

	if (x->edge != y->edge)
		return x->edge < y->edge ? -1 : 1;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;
}

int fd_graph_finish(struct fd_graph *g, struct fd_err *err)
{
	uint32_t nn = fd_intern_count(g->names), i, k, *remap = NULL;
	int c;

	if (g->finished)
		return FD_OK;
	/* the currency: asked for, else the one of most money transactions */
	g->chosen = -1;
	for (c = 0; c < g->ncur; c++) {
		if (g->want_cur[0]) {
			if (memcmp(g->cur[c].code, g->want_cur, 4) == 0)
				g->chosen = c;
		} else if (g->cur[c].moves > 0 &&
			   (g->chosen < 0 || g->cur[c].moves > g->cur[g->chosen].moves ||
			    (g->cur[c].moves == g->cur[g->chosen].moves && strcmp(g->cur[c].code, g->cur[g->chosen].code) < 0)))
			g->chosen = c;
	}
	for (c = 0; c < g->ncur; c++)
		if (c != g->chosen)
			g->dropped += g->cur[c].moves;
	/* drop money edges in other currencies */
	if (g->ne && !(remap = malloc(g->ne * sizeof(*remap))))
		goto oom;
	for (i = k = 0; i < g->ne; i++) {
		const struct edge *e = &g->edges[i];

		if (is_money(TAG_KIND(e->tag)) && (int)TAG_SUB(e->tag) != g->chosen) {
			remap[i] = UINT32_MAX;
			continue;
		}
		remap[i] = k;
		g->edges[k] = *e;
		if (is_money(TAG_KIND(e->tag)))
			g->edges[k].tag = TAG(TAG_KIND(e->tag), 0);
		k++;
	}
	g->ne = k;
	for (i = k = 0; i < g->nm; i++)
		if (remap[g->moves[i].edge] != UINT32_MAX) {
			g->moves[k] = g->moves[i];
			g->moves[k++].edge = remap[g->moves[i].edge];
		}
	g->nm = k;
	free(remap);
	free(g->map);
	g->map = NULL;
	g->mapcap = 0;
	if (g->nm > 1)
		qsort(g->moves, g->nm, sizeof(*g->moves), move_cmp);

	/* adjacency */
	if (!(g->out_off = calloc((size_t)nn + 1, sizeof(uint32_t))) || !(g->in_off = calloc((size_t)nn + 1, sizeof(uint32_t))) ||
	    !(g->out_e = malloc(((size_t)g->ne + 1) * sizeof(uint32_t))) || !(g->in_e = malloc(((size_t)g->ne + 1) * sizeof(uint32_t))) ||
	    !(g->mv_off = calloc((size_t)g->ne + 1, sizeof(uint32_t))))
		goto oom;
	for (i = 0; i < g->ne; i++) {
		g->out_off[g->edges[i].src + 1]++;
		g->in_off[g->edges[i].dst + 1]++;
	}
	for (i = 0; i < nn; i++) {
		g->out_off[i + 1] += g->out_off[i];
		g->in_off[i + 1] += g->in_off[i];
	}
	{
		uint32_t *po = malloc(((size_t)nn + 1) * sizeof(uint32_t)), *pi = malloc(((size_t)nn + 1) * sizeof(uint32_t));

		if (!po || !pi) {
			free(po);
			free(pi);
			goto oom;
		}
		memcpy(po, g->out_off, ((size_t)nn + 1) * sizeof(uint32_t));
		memcpy(pi, g->in_off, ((size_t)nn + 1) * sizeof(uint32_t));
		for (i = 0; i < g->ne; i++) {
			g->out_e[po[g->edges[i].src]++] = i;
			g->in_e[pi[g->edges[i].dst]++] = i;
		}
		free(po);
		free(pi);
	}
	for (i = 0; i < g->nm; i++)
		g->mv_off[g->moves[i].edge + 1]++;
	for (i = 0; i < g->ne; i++)
		g->mv_off[i + 1] += g->mv_off[i];
	g->finished = 1;
	return FD_OK;
oom:
	return fd_err_set(err, FD_EIO, "out of memory");
}

/* ---- reading ------------------------------------------------------------------------- */

uint32_t fd_graph_node_count(const struct fd_graph *g) { return fd_intern_count(g->names); }
uint32_t fd_graph_edge_count(const struct fd_graph *g) { return g->ne; }
int64_t fd_graph_money_dropped(const struct fd_graph *g) { return g->dropped; }
int64_t fd_graph_txn_count(const struct fd_graph *g) { return g->ntxn; }
uint32_t fd_graph_move_count(const struct fd_graph *g) { return g->nm; }

const char *fd_graph_currency(const struct fd_graph *g)
{
	return g->chosen >= 0 ? g->cur[g->chosen].code : g->want_cur;
}

int fd_graph_currency_exp(const struct fd_graph *g)
{
	int e;

	if (g->chosen >= 0)
		return g->cur[g->chosen].exp;
	e = g->want_cur[0] ? fd_currency_exponent(g->want_cur) : 2;
	return e < 0 ? 2 : e;
}

int64_t fd_graph_find(const struct fd_graph *g, const char *kind, const char *key)
{
	int k = kind_index(g, kind, strlen(kind));

	return k < 0 ? -1 : node_find(g, k, key, strlen(key));
}

void fd_graph_node_get(const struct fd_graph *g, uint32_t id, struct fd_graph_node_info *n)
{
	const struct node *nd = &g->nodes[id];

	n->kind = node_kind(g, id);
	n->key = node_key(g, id);
	n->depth = nd->depth;
	n->expanded = nd->expanded;
	n->txns = nd->txns;
	n->flagged = nd->flagged;
	n->sent = nd->sent;
	n->sent_flagged = nd->sent_flagged;
	n->risk = risk_out(nd->risk);
	n->first = nd->first;
	n->last = nd->last;
}

void fd_graph_edge_get(const struct fd_graph *g, uint32_t id, struct fd_graph_edge_info *e)
{
	const struct edge *ed = &g->edges[id];

	e->src = ed->src;
	e->dst = ed->dst;
	e->kind = TAG_KIND(ed->tag);
	e->link_kind = e->kind == FD_GRAPH_LINK ? fd_intern_str(g->links, TAG_SUB(ed->tag), NULL) : NULL;
	e->count = ed->count;
	e->total = ed->total;
	e->first = ed->first;
	e->last = ed->last;
	e->flagged = ed->flagged;
	e->risk = risk_out(ed->risk);
}

const uint32_t *fd_graph_out_edges(const struct fd_graph *g, uint32_t node, uint32_t *n)
{
	*n = g->out_off[node + 1] - g->out_off[node];
	return g->out_e + g->out_off[node];
}

const uint32_t *fd_graph_in_edges(const struct fd_graph *g, uint32_t node, uint32_t *n)
{
	*n = g->in_off[node + 1] - g->in_off[node];
	return g->in_e + g->in_off[node];
}

void fd_graph_move_get(const struct fd_graph *g, uint32_t id, struct fd_graph_move *m)
{
	const struct move *mv = &g->moves[id];

	m->edge = mv->edge;
	m->txn_id = fd_intern_str(g->txnames, mv->name, NULL);
	m->ts = mv->ts;
	m->amount = mv->amount;
	m->flagged = mv->flagged;
}
