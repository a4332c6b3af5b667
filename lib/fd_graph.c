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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd_audit.h"
#include "fd_buf.h"
#include "fd_intern.h"
#include "fd_reader.h"
#include "fd_txn.h"
#include "fd_writer.h"
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
static int64_t node_get(struct fd_graph *g, int kind, const char *key, size_t n)
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
static int32_t risk_in(double r)
{
	return r < 0 ? -1 : (int32_t)lround(r * 100.0);
}

static double risk_out(int32_t c)
{
	return c < 0 ? -1 : c / 100.0;
}

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

struct tedge {
	int ekind;                 /* enum fd_graph_kind */
	int nkind;                 /* node kind of the other end (the source is the sender) */
	const char *key;
	size_t len;
	int other_cur;             /* money in another currency than the one asked for: not an edge */
};

/* Normalise an attribute value into dst (NUL-terminated): e-mail lower case; phone digits with
 * a leading '+'; anything else lower case with runs of blanks made one space; trimmed.
 * Returns the length (0 = nothing left). */
static size_t attr_normalise(const char *name, const char *s, size_t n, char *dst, size_t cap)
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
static int txn_money(struct fd_graph *g, const struct fd_graph_txn *t, int *anycur)
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
static int txn_edges(struct fd_graph *g, const struct fd_graph_txn *t, struct tedge *out, int *money, int *anycur)
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
static int64_t node_find(const struct fd_graph *g, int kind, const char *key, size_t n)
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

static int kind_index(const struct fd_graph *g, const char *kind, size_t n)
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

static int move_cmp(const void *a, const void *b)
{
	const struct move *x = a, *y = b;

	if (x->edge != y->edge)
		return x->edge < y->edge ? -1 : 1;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;
}

static int is_money(int kind)
{
	return kind == FD_GRAPH_TRANSFER || kind == FD_GRAPH_PAYMENT;
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

static const char *node_key(const struct fd_graph *g, uint32_t id)
{
	return fd_intern_str(g->names, id, NULL) + 1;
}

static const char *node_kind(const struct fd_graph *g, uint32_t id)
{
	return g->kind_name[g->nodes[id].kind];
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

/* ---- loading from the store ---------------------------------------------------------- */

/* The columns every transaction query selects, in this order (the neighbourhood's queries
 * write the same list, with NULL for what they do not need). */
#define TXN_COLS "t.id, t.txn_id, t.ts, t.amount, t.currency, t.sender_id, t.recipient_id, t.merchant_id," \
	" t.device_id, t.ip, t.label, t.metadata"
enum { C_ID, C_TXN, C_TS, C_AMOUNT, C_CUR, C_SENDER, C_RECIP, C_MERCH, C_DEVICE, C_IP, C_LABEL, C_META, C_NCOLS };
/* ... and, in the per-hop queries, the scores of the row (constants when there are none:
 * the lookups would cost more than the rest of the query) */
/* (its latest score: the schema's one meaning of a transaction's risk) */
#define SCORE_COLS ", (SELECT l.risk FROM latest_scores l WHERE l.txn_id = t.txn_id)," \
	" coalesce((SELECT l.level IN ('HIGH', 'MEDIUM') FROM latest_scores l WHERE l.txn_id = t.txn_id), 0)"
#define NO_SCORE_COLS ", NULL, 0"

static const char *col_text(sqlite3_stmt *s, int c)
{
	return (const char *)sqlite3_column_text(s, c);
}

/* Fill t from the current row of s (strings valid until the next step). */
static void row_txn(sqlite3_stmt *s, struct fd_graph_txn *t)
{
	memset(t, 0, sizeof(*t));
	t->txn_id = col_text(s, C_TXN);
	t->ts = sqlite3_column_int64(s, C_TS);
	t->amount = sqlite3_column_int64(s, C_AMOUNT);
	t->currency = col_text(s, C_CUR);
	t->sender = col_text(s, C_SENDER);
	t->recipient = col_text(s, C_RECIP);
	t->merchant = col_text(s, C_MERCH);
	t->device = col_text(s, C_DEVICE);
	t->ip = col_text(s, C_IP);
	t->label = sqlite3_column_type(s, C_LABEL) == SQLITE_NULL ? -1 : sqlite3_column_int(s, C_LABEL);
	t->metadata = col_text(s, C_META);
	t->metadata_len = t->metadata ? (size_t)sqlite3_column_bytes(s, C_META) : 0;
	t->risk = -1;
}

/* Scores by txn id, for the whole-store load. */
struct scoremap {
	struct fd_intern *ids;
	int16_t *risk;              /* hundredths */
	uint8_t *flag;
};

/* 1 when the store has scores, 0 when not, -1 on error (err set). */
static int have_scores(struct fd_store *st, struct fd_err *err)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (fd_store_prepare(st, &s, "SELECT EXISTS (SELECT 1 FROM scores)", err))
		return -1;
	r = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
	sqlite3_finalize(s);
	if (r < 0)
		fd_store_error(st, "reading scores", err);
	return r;
}

static int scores_load(struct fd_store *st, struct scoremap *m, struct fd_err *err)
{
	sqlite3_stmt *s = NULL;
	size_t cap = 0;
	int rc, r;

	memset(m, 0, sizeof(*m));
	if ((r = have_scores(st, err)) <= 0)
		return r < 0 ? err->code : FD_OK;
	if ((rc = fd_store_prepare(st, &s, "SELECT txn_id, risk, level IN ('HIGH', 'MEDIUM') FROM latest_scores", err)))
		return rc;
	if (!(m->ids = fd_intern_create()))
		goto oom;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		const char *id = col_text(s, 0);
		int64_t k = fd_intern_put(m->ids, id ? id : "", id ? (size_t)sqlite3_column_bytes(s, 0) : 0, NULL);

		if (k < 0)
			goto oom;
		if ((size_t)k >= cap) {
			size_t c = cap ? cap * 2 : 4096;
			int16_t *pr = realloc(m->risk, c * sizeof(*pr));
			uint8_t *pf;

			if (!pr)
				goto oom;
			m->risk = pr;
			if (!(pf = realloc(m->flag, c)))
				goto oom;
			m->flag = pf;
			cap = c;
		}
		m->risk[k] = (int16_t)risk_in(sqlite3_column_double(s, 1));
		m->flag[k] = (uint8_t)sqlite3_column_int(s, 2);
	}
	sqlite3_finalize(s);
	if (r != SQLITE_DONE)
		return fd_store_error(st, "reading scores", err);
	return FD_OK;
oom:
	sqlite3_finalize(s);
	return fd_err_set(err, FD_EIO, "out of memory");
}

static void scores_release(struct scoremap *m)
{
	fd_intern_free(m->ids);
	free(m->risk);
	free(m->flag);
}

/* The explicit links (not uses_device / uses_ip) of the whole store. */
static int links_load(struct fd_graph *g, struct fd_store *st, struct fd_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (!(g->o.kinds & FD_GRAPH_BIT(FD_GRAPH_LINK)))
		return FD_OK;
	if ((rc = fd_store_prepare(st, &s,
				   "SELECT a.kind, a.key, b.kind, b.key, l.kind, l.first_seen, l.last_seen, l.txn_count"
				   " FROM entity_links l JOIN entities a ON a.id = l.src JOIN entities b ON b.id = l.dst"
				   " WHERE l.kind NOT IN ('uses_device', 'uses_ip') ORDER BY l.id", err)))
		return rc;
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		if ((rc = fd_graph_add_link(g, col_text(s, 0), col_text(s, 1), col_text(s, 2), col_text(s, 3),
					    col_text(s, 4), sqlite3_column_int64(s, 5), sqlite3_column_int64(s, 6),
					    sqlite3_column_int64(s, 7), err)))
			goto out;
	rc = r == SQLITE_DONE ? FD_OK : fd_store_error(st, "reading entity links", err);
out:
	sqlite3_finalize(s);
	return rc;
}

int fd_graph_load(struct fd_graph *g, struct fd_store *st, struct fd_err *err)
{
	sqlite3_stmt *s = NULL;
	struct scoremap sm;
	struct fd_graph_txn t;
	int rc, r, open = g->o.since == INT64_MIN && g->o.until == INT64_MAX;

	if ((rc = scores_load(st, &sm, err)))
		return rc;
	/* an open window reads the table in storage order; a window goes through the ts index */
	if ((rc = fd_store_prepare(st, &s, open ? "SELECT " TXN_COLS " FROM transactions t"
					      : "SELECT " TXN_COLS " FROM transactions t WHERE t.ts >= ?1 AND t.ts < ?2", err)))
		goto out;
	if (!open) {
		sqlite3_bind_int64(s, 1, g->o.since);
		sqlite3_bind_int64(s, 2, g->o.until);
	}
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		row_txn(s, &t);
		if (sm.ids && t.txn_id) {
			int64_t k = fd_intern_find(sm.ids, t.txn_id, (size_t)sqlite3_column_bytes(s, C_TXN));

			if (k >= 0) {
				t.risk = risk_out(sm.risk[k]);
				t.scored_flag = sm.flag[k];
			}
		}
		if ((rc = fd_graph_add_txn(g, &t, err)))
			goto out;
	}
	if (r != SQLITE_DONE) {
		rc = fd_store_error(st, "reading transactions", err);
		goto out;
	}
	rc = links_load(g, st, err);
out:
	sqlite3_finalize(s);
	scores_release(&sm);
	return rc;
}

/* ---- the neighbourhood, hop by hop --------------------------------------------------- */

/* A transaction row kept between the discovery and the build: strings in ego.arena. */
enum { R_TXN, R_CUR, R_SENDER, R_RECIP, R_MERCH, R_DEVICE, R_IP, R_META, R_NSTR };
#define R_NULL SIZE_MAX
struct erow {
	int64_t ts, amount;
	int label, risk, flag;
	size_t off[R_NSTR];
	size_t metalen;
};

/* An explicit link kept: its kind, both ends (strings in the arena), times and count. */
struct elink {
	size_t kind, skind, skey, dkind, dkey;
	int64_t first, last, count;
};

struct ego {
	struct fd_graph *g;
	struct fd_store *st;
	sqlite3_stmt *q_sender, *q_recip, *q_sender_dev, *q_sender_ip, *q_merchant, *q_attr;
	sqlite3_stmt *q_entity, *q_users, *q_links;
	struct fd_intern *seen;      /* row ids kept: the intern id is the index in rows */
	struct fd_intern *lseen;     /* link ids kept: the intern id is the index in links */
	struct fd_intern *cand;      /* neighbours of the node being expanded: kind byte + key */
	struct fd_buf arena;
	struct erow *rows;
	size_t nrows, rcap;
	struct elink *links;
	size_t nlinks, lcap;
	uint32_t *xrows;             /* rows of the node being expanded */
	size_t nx, xcap;
	uint32_t x, start;
	int max_fanout;
};

static size_t arena_put(struct ego *eg, const char *s, size_t n)
{
	size_t off = eg->arena.len;

	if (!s)
		return R_NULL;
	if (fd_buf_add(&eg->arena, s, n) || fd_buf_addc(&eg->arena, '\0'))
		return R_NULL - 1;
	return off;
}

static const char *arena_str(const struct ego *eg, size_t off)
{
	return off == R_NULL ? NULL : eg->arena.s + off;
}

static int xrows_push(struct ego *eg, uint32_t i)
{
	if (eg->nx == eg->xcap) {
		size_t c = eg->xcap ? eg->xcap * 2 : 256;
		uint32_t *p = realloc(eg->xrows, c * sizeof(*p));

		if (!p)
			return -1;
		eg->xrows = p;
		eg->xcap = c;
	}
	eg->xrows[eg->nx++] = i;
	return 0;
}

/* Keep the current row of s (once) and note it as a row of the node being expanded. */
static int ego_keep(struct ego *eg, sqlite3_stmt *s)
{
	struct fd_graph_txn t;
	int64_t rowid = sqlite3_column_int64(s, C_ID), k;
	int is_new = 0, i;
	struct erow *r;
	const char *str[R_NSTR];

	if ((k = fd_intern_put(eg->seen, (const char *)&rowid, sizeof(rowid), &is_new)) < 0)
		return -1;
	if (is_new) {
		row_txn(s, &t);
		str[R_TXN] = t.txn_id;
		str[R_CUR] = t.currency;
		str[R_SENDER] = t.sender;
		str[R_RECIP] = t.recipient;
		str[R_MERCH] = t.merchant;
		str[R_DEVICE] = t.device;
		str[R_IP] = t.ip;
		str[R_META] = t.metadata;
		if (eg->nrows == eg->rcap) {
			size_t c = eg->rcap ? eg->rcap * 2 : 256;
			struct erow *p = realloc(eg->rows, c * sizeof(*p));

			if (!p)
				return -1;
			eg->rows = p;
			eg->rcap = c;
		}
		r = &eg->rows[eg->nrows++];
		r->ts = t.ts;
		r->amount = t.amount;
		r->label = t.label;
		r->risk = sqlite3_column_type(s, C_NCOLS) == SQLITE_NULL ? -1 : risk_in(sqlite3_column_double(s, C_NCOLS));
		r->flag = sqlite3_column_int(s, C_NCOLS + 1);
		r->metalen = t.metadata_len;
		for (i = 0; i < R_NSTR; i++)
			if ((r->off[i] = arena_put(eg, str[i], i == R_META ? t.metadata_len : str[i] ? strlen(str[i]) : 0)) ==
			    R_NULL - 1)
				return -1;
	}
	return xrows_push(eg, (uint32_t)k);
}

static void erow_txn(const struct ego *eg, const struct erow *r, struct fd_graph_txn *t)
{
	memset(t, 0, sizeof(*t));
	t->txn_id = arena_str(eg, r->off[R_TXN]);
	t->ts = r->ts;
	t->amount = r->amount;
	t->currency = arena_str(eg, r->off[R_CUR]);
	t->sender = arena_str(eg, r->off[R_SENDER]);
	t->recipient = arena_str(eg, r->off[R_RECIP]);
	t->merchant = arena_str(eg, r->off[R_MERCH]);
	t->device = arena_str(eg, r->off[R_DEVICE]);
	t->ip = arena_str(eg, r->off[R_IP]);
	t->metadata = arena_str(eg, r->off[R_META]);
	t->metadata_len = r->metalen;
	t->label = r->label;
	t->risk = risk_out(r->risk);
	t->scored_flag = r->flag;
}

static int ego_touches(struct ego *eg, const struct fd_graph_txn *t);

/* Run a bound row query, keeping its rows (with filter, only those that touch the node being
 * expanded: the scan for an attribute reads every row that has the column). */
static int ego_query(struct ego *eg, sqlite3_stmt *s, int filter, const char *what, struct fd_err *err)
{
	struct fd_graph_txn t;
	int r, k;

	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (filter) {
			row_txn(s, &t);
			if ((k = ego_touches(eg, &t)) < 0)
				break;
			if (!k)
				continue;
		}
		if (ego_keep(eg, s))
			break;
	}
	sqlite3_reset(s);
	if (r == SQLITE_ROW)
		return fd_err_set(err, FD_EIO, "out of memory");
	return r == SQLITE_DONE ? FD_OK : fd_store_error(eg->st, what, err);
}

static void bind_window(const struct ego *eg, sqlite3_stmt *s, const char *key)
{
	sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, eg->g->o.since);
	sqlite3_bind_int64(s, 3, eg->g->o.until);
}

static int cand_put(struct ego *eg, int kind, const char *key, size_t n)
{
	char buf[FD_TEXT_MAX + 2];

	if (n > FD_TEXT_MAX)
		n = FD_TEXT_MAX;
	buf[0] = (char)(kind + 1);
	memcpy(buf + 1, key, n);
	return fd_intern_put(eg->cand, buf, n + 1, NULL) < 0 ? -1 : 0;
}

static int same_node(const struct fd_graph *g, uint32_t x, int kind, const char *key, size_t n)
{
	size_t len;
	const char *k = fd_intern_str(g->names, x, &len);

	return g->nodes[x].kind == kind && len == n + 1 && memcmp(k + 1, key, n) == 0;
}

/* The neighbours of eg->x that transaction t shows, into eg->cand. */
static int ego_discover(struct ego *eg, const struct fd_graph_txn *t)
{
	struct fd_graph *g = eg->g;
	struct tedge te[3 + FD_GRAPH_MAX_ATTRS];
	int n, i, money, anycur;
	size_t sl = strlen(t->sender);

	if ((n = txn_edges(g, t, te, &money, &anycur)) < 0)
		return -1;
	if (same_node(g, eg->x, NK_ACCOUNT, t->sender, sl)) {
		for (i = 0; i < n; i++)
			if (!te[i].other_cur && cand_put(eg, te[i].nkind, te[i].key, te[i].len))
				return -1;
		return 0;
	}
	for (i = 0; i < n; i++)
		if (!te[i].other_cur && same_node(g, eg->x, te[i].nkind, te[i].key, te[i].len))
			return cand_put(eg, NK_ACCOUNT, t->sender, sl);
	return 0;
}

/* 1 when transaction t has an edge that touches eg->x, 0 when not, -1 out of memory. */
static int ego_touches(struct ego *eg, const struct fd_graph_txn *t)
{
	struct tedge te[3 + FD_GRAPH_MAX_ATTRS];
	int n, i, money, anycur;

	if (!t->sender || (n = txn_edges(eg->g, t, te, &money, &anycur)) < 0)
		return t->sender ? -1 : 0;
	if (same_node(eg->g, eg->x, NK_ACCOUNT, t->sender, strlen(t->sender)))
		return 1;
	for (i = 0; i < n; i++)
		if (!te[i].other_cur && same_node(eg->g, eg->x, te[i].nkind, te[i].key, te[i].len))
			return 1;
	return 0;
}

/* Without --currency, the neighbourhood's money is in the most common currency of the first
 * expanded node that has money (ties alphabetical), so that no neighbour hangs on money that
 * is then left out. */
static int ego_currency(struct ego *eg)
{
	struct fd_graph *g = eg->g;
	struct fd_graph_txn t;
	int64_t *tally = NULL;
	size_t i;
	int c, best = -1;

	if (g->want_cur[0])
		return 0;
	for (i = 0; i < eg->nx; i++) {
		int any;

		erow_txn(eg, &eg->rows[eg->xrows[i]], &t);
		if (txn_money(g, &t, &any) == -2)
			goto oom;
		if ((c = any) < 0)
			continue;
		if (!tally && !(tally = calloc(0x10000, sizeof(*tally))))
			goto oom;
		tally[c]++;
	}
	for (c = 0; tally && c < g->ncur; c++)
		if (tally[c] && (best < 0 || tally[c] > tally[best] ||
				 (tally[c] == tally[best] && strcmp(g->cur[c].code, g->cur[best].code) < 0)))
			best = c;
	if (best >= 0)
		memcpy(g->want_cur, g->cur[best].code, 4);
	free(tally);
	return 0;
oom:
	free(tally);
	return -1;
}

static int64_t entity_id(struct ego *eg, const char *kind, const char *key, struct fd_err *err)
{
	int r;
	int64_t id = -1;

	sqlite3_bind_text(eg->q_entity, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(eg->q_entity, 2, key, -1, SQLITE_TRANSIENT);
	if ((r = sqlite3_step(eg->q_entity)) == SQLITE_ROW)
		id = sqlite3_column_int64(eg->q_entity, 0);
	sqlite3_reset(eg->q_entity);
	if (r != SQLITE_ROW && r != SQLITE_DONE) {
		fd_store_error(eg->st, "reading entities", err);
		return -2;
	}
	return id;
}

/* The explicit links of entity id: kept, and their other ends noted as neighbours. */
static int ego_links(struct ego *eg, int64_t id, struct fd_err *err)
{
	struct fd_graph *g = eg->g;
	sqlite3_stmt *s = eg->q_links;
	int r;

	sqlite3_bind_int64(s, 1, id);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t lid = sqlite3_column_int64(s, 0), k, first = sqlite3_column_int64(s, 2), last = sqlite3_column_int64(s, 3);
		int is_new = 0, sk = kind_index(g, col_text(s, 5), (size_t)sqlite3_column_bytes(s, 5));
		int dk = kind_index(g, col_text(s, 7), (size_t)sqlite3_column_bytes(s, 7)), mine;
		const char *skey = col_text(s, 6), *dkey = col_text(s, 8);

		if (sk < 0 || dk < 0 || last < g->o.since || first >= g->o.until)
			continue;
		if ((k = fd_intern_put(eg->lseen, (const char *)&lid, sizeof(lid), &is_new)) < 0)
			goto oom;
		if (is_new) {
			struct elink *l;

			if (eg->nlinks == eg->lcap) {
				size_t c = eg->lcap ? eg->lcap * 2 : 64;
				struct elink *p = realloc(eg->links, c * sizeof(*p));

				if (!p)
					goto oom;
				eg->links = p;
				eg->lcap = c;
			}
			l = &eg->links[eg->nlinks++];
			l->first = first;
			l->last = last;
			l->count = sqlite3_column_int64(s, 4);
			if ((l->kind = arena_put(eg, col_text(s, 1), (size_t)sqlite3_column_bytes(s, 1))) == R_NULL - 1 ||
			    (l->skind = arena_put(eg, g->kind_name[sk], strlen(g->kind_name[sk]))) == R_NULL - 1 ||
			    (l->skey = arena_put(eg, skey, strlen(skey))) == R_NULL - 1 ||
			    (l->dkind = arena_put(eg, g->kind_name[dk], strlen(g->kind_name[dk]))) == R_NULL - 1 ||
			    (l->dkey = arena_put(eg, dkey, strlen(dkey))) == R_NULL - 1)
				goto oom;
		}
		mine = same_node(g, eg->x, sk, skey, strlen(skey));
		if (cand_put(eg, mine ? dk : sk, mine ? dkey : skey, strlen(mine ? dkey : skey)))
			goto oom;
	}
	sqlite3_reset(s);
	return r == SQLITE_DONE ? FD_OK : fd_store_error(eg->st, "reading entity links", err);
oom:
	sqlite3_reset(s);
	return fd_err_set(err, FD_EIO, "out of memory");
}

/* The accounts linked to a device or IP in the window (their keys into keys, '\0'-separated). */
static int ego_users(struct ego *eg, int64_t id, const char *link_kind, struct fd_buf *keys, size_t *n,
		     struct fd_err *err)
{
	sqlite3_stmt *s = eg->q_users;
	int r;

	*n = 0;
	fd_buf_reset(keys);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, link_kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, eg->g->o.since);
	sqlite3_bind_int64(s, 4, eg->g->o.until);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (fd_buf_add(keys, col_text(s, 0), (size_t)sqlite3_column_bytes(s, 0) + 1)) {
			sqlite3_reset(s);
			return fd_err_set(err, FD_EIO, "out of memory");
		}
		(*n)++;
	}
	sqlite3_reset(s);
	return r == SQLITE_DONE ? FD_OK : fd_store_error(eg->st, "reading entity links", err);
}

/* Expand node x: look up its rows and links, find its neighbours, add the new ones. */
static int ego_expand(struct ego *eg, uint32_t x, struct fd_err *err)
{
	struct fd_graph *g = eg->g;
	struct fd_graph_txn t;
	struct fd_buf keys = FD_BUF_INIT;
	int kind = g->nodes[x].kind, rc = FD_OK, depth = g->nodes[x].depth;
	const char *key = node_key(g, x);
	int64_t eid = -1;
	uint32_t i, nc;
	size_t j;

	eg->x = x;
	eg->nx = 0;
	fd_intern_free(eg->cand);
	if (!(eg->cand = fd_intern_create()))
		return fd_err_set(err, FD_EIO, "out of memory");
	if (kind < NK_ATTR0 && (eid = entity_id(eg, g->kind_name[kind], key, err)) < -1)
		return err->code;
	switch (kind) {
	case NK_ACCOUNT:
		bind_window(eg, eg->q_sender, key);
		if ((rc = ego_query(eg, eg->q_sender, 0, "reading transactions", err)))
			goto out;
		bind_window(eg, eg->q_recip, key);
		if ((rc = ego_query(eg, eg->q_recip, 0, "reading transactions", err)))
			goto out;
		break;
	case NK_DEVICE:
	case NK_IP: {
		size_t n;
		const char *a;
		sqlite3_stmt *q = kind == NK_DEVICE ? eg->q_sender_dev : eg->q_sender_ip;

		if (eid < 0 || !(g->o.kinds & FD_GRAPH_BIT(kind == NK_DEVICE ? FD_GRAPH_DEVICE : FD_GRAPH_IP)))
			break;
		if ((rc = ego_users(eg, eid, kind == NK_DEVICE ? "uses_device" : "uses_ip", &keys, &n, err)))
			goto out;
		if (x != eg->start && eg->max_fanout && n > (size_t)eg->max_fanout) {
			g->nodes[x].expanded = 0;
			goto out;
		}
		for (j = 0, a = keys.s; j < n; j++, a += strlen(a) + 1) {
			int64_t ax = node_find(g, NK_ACCOUNT, a, strlen(a));

			if (ax >= 0 && g->nodes[ax].expanded) {
				/* its rows are kept already */
				if (cand_put(eg, NK_ACCOUNT, a, strlen(a)))
					goto oom;
				continue;
			}
			bind_window(eg, q, a);
			sqlite3_bind_text(q, 4, key, -1, SQLITE_TRANSIENT);
			if ((rc = ego_query(eg, q, 0, "reading transactions", err)))
				goto out;
		}
		break;
	}
	case NK_MERCHANT:
		if (x != eg->start) {
			/* its customers are not neighbours of interest: not expanded */
			g->nodes[x].expanded = 0;
			goto out;
		}
		bind_window(eg, eg->q_merchant, key);
		if ((rc = ego_query(eg, eg->q_merchant, 0, "reading transactions", err)))
			goto out;
		break;
	default: { /* an attribute: a scan of the window for rows that name it */
		char pat[FD_TEXT_MAX + 3];

		if (!(g->o.kinds & FD_GRAPH_BIT(FD_GRAPH_ATTR)))
			break;
		snprintf(pat, sizeof(pat), "\"%s\"", g->kind_name[kind]);
		bind_window(eg, eg->q_attr, pat);
		if ((rc = ego_query(eg, eg->q_attr, 1, "reading transactions", err)))
			goto out;
		break;
	}
	}
	if (eid >= 0 && (g->o.kinds & FD_GRAPH_BIT(FD_GRAPH_LINK)) && (rc = ego_links(eg, eid, err)))
		goto out;
	if (ego_currency(eg))
		goto oom;
	for (j = 0; j < eg->nx; j++) {
		erow_txn(eg, &eg->rows[eg->xrows[j]], &t);
		if (ego_discover(eg, &t))
			goto oom;
	}
	/* the neighbours, x itself aside */
	nc = fd_intern_count(eg->cand);
	{
		uint32_t self = 0;

		for (i = 0; i < nc; i++) {
			size_t len;
			const char *c = fd_intern_str(eg->cand, i, &len);

			self += same_node(g, x, (unsigned char)c[0] - 1, c + 1, len - 1);
		}
		if (x != eg->start && eg->max_fanout && nc - self > (uint32_t)eg->max_fanout) {
			g->nodes[x].expanded = 0;
			goto out;
		}
	}
	g->nodes[x].expanded = 1;
	for (i = 0; i < nc; i++) {
		size_t len;
		const char *c = fd_intern_str(eg->cand, i, &len);
		uint32_t before = fd_intern_count(g->names);
		int64_t id = node_get(g, (unsigned char)c[0] - 1, c + 1, len - 1);

		if (id == -2)
			goto oom;
		if ((uint32_t)id >= before) {
			g->nodes[id].depth = (int16_t)(depth + 1);
			g->nodes[id].expanded = 0;
		}
	}
	goto out;
oom:
	rc = fd_err_set(err, FD_EIO, "out of memory");
out:
	fd_buf_release(&keys);
	return rc;
}

static const char *article(const char *noun)
{
	return strchr("aeiou", noun[0]) ? "an" : "a";
}

/* Resolve spec ("kind:key" or a bare entity key) into the start node. */
static int ego_start(struct ego *eg, const char *spec, struct fd_err *err)
{
	struct fd_graph *g = eg->g;
	const char *colon = strchr(spec, ':'), *key = spec;
	int kind = -1, k, found = 0;
	char vis[200], norm[FD_TEXT_MAX + 1];
	int64_t id;

	if (colon && (k = kind_index(g, spec, (size_t)(colon - spec))) >= 0) {
		kind = k;
		key = colon + 1;
	}
	if (!*key)
		return fd_err_set(err, FD_EUSAGE, "empty entity key in '%s'", fd_visible(vis, sizeof(vis), spec, strlen(spec)));
	if (kind >= NK_ATTR0) {
		if (!attr_normalise(g->kind_name[kind], key, strlen(key), norm, sizeof(norm)))
			return fd_err_set(err, FD_EUSAGE, "empty %s in '%s'", g->kind_name[kind],
					  fd_visible(vis, sizeof(vis), spec, strlen(spec)));
		key = norm;
	} else if (kind >= 0) {
		if ((id = entity_id(eg, g->kind_name[kind], key, err)) < -1)
			return err->code;
		if (id < 0)
			return fd_err_set(err, FD_EUSAGE, "no %s '%s' in the store", g->kind_name[kind],
					  fd_visible(vis, sizeof(vis), key, strlen(key)));
	} else {
		for (k = NK_ACCOUNT; k <= NK_IP; k++) {
			if ((id = entity_id(eg, g->kind_name[k], key, err)) < -1)
				return err->code;
			if (id >= 0) {
				if (found)
					return fd_err_set(err, FD_EUSAGE, "'%s' names both %s %s and %s %s in the store: give "
							  "its kind, e.g. %s:%s", fd_visible(vis, sizeof(vis), key, strlen(key)),
							  article(g->kind_name[kind]), g->kind_name[kind], article(g->kind_name[k]),
							  g->kind_name[k], g->kind_name[kind], vis);
				kind = k;
				found = 1;
			}
		}
		if (!found)
			return fd_err_set(err, FD_EUSAGE, "no entity '%s' in the store (an account, merchant, device or ip; "
					  "or give a kind, e.g. phone:%s)", fd_visible(vis, sizeof(vis), key, strlen(key)), vis);
	}
	if ((id = node_get(g, kind, key, strlen(key))) < 0)
		return fd_err_set(err, FD_EIO, "out of memory");
	g->nodes[id].depth = 0;
	g->nodes[id].expanded = 0;
	eg->start = (uint32_t)id;
	return FD_OK;
}

int fd_graph_load_ego(struct fd_graph *g, struct fd_store *st, const char *spec, int depth,
		      int max_fanout, struct fd_err *err)
{
	/* the row queries twice: with the scores, and without when the store has none */
	/* The row queries select only what the graph will use, so that an index holding those
	 * columns can answer them without reading the table: the txn id when there are scores
	 * to look up or transactions to keep, the metadata when attributes are edges. */
	static const char *const where[6] = {
		" FROM transactions t WHERE t.sender_id = ?1 AND t.ts >= ?2 AND t.ts < ?3",
		" FROM transactions t WHERE t.recipient_id = ?1 AND +t.ts >= ?2 AND +t.ts < ?3",
		" FROM transactions t WHERE t.sender_id = ?1 AND t.ts >= ?2 AND t.ts < ?3 AND t.device_id = ?4",
		" FROM transactions t WHERE t.sender_id = ?1 AND t.ts >= ?2 AND t.ts < ?3 AND t.ip = ?4",
		" FROM transactions t WHERE t.merchant_id = ?1 AND t.ts >= ?2 AND t.ts < ?3",
		" FROM transactions t WHERE t.ts >= ?2 AND t.ts < ?3 AND instr(t.metadata, ?1) > 0",
	};
	static const char *const sql[] = {
		"SELECT id FROM entities WHERE kind = ?1 AND key = ?2",
		"SELECT a.key FROM entity_links l JOIN entities a ON a.id = l.src"
		" WHERE l.dst = ?1 AND l.kind = ?2 AND l.last_seen >= ?3 AND l.first_seen < ?4 ORDER BY a.key",
		"SELECT l.id, l.kind, l.first_seen, l.last_seen, l.txn_count, a.kind, a.key, b.kind, b.key"
		" FROM entity_links l JOIN entities a ON a.id = l.src JOIN entities b ON b.id = l.dst"
		" WHERE l.src = ?1 AND l.kind NOT IN ('uses_device', 'uses_ip')"
		" UNION ALL "
		"SELECT l.id, l.kind, l.first_seen, l.last_seen, l.txn_count, a.kind, a.key, b.kind, b.key"
		" FROM entity_links l JOIN entities a ON a.id = l.src JOIN entities b ON b.id = l.dst"
		" WHERE l.dst = ?1 AND l.src <> ?1 AND l.kind NOT IN ('uses_device', 'uses_ip')",
	};
	struct ego eg;
	sqlite3_stmt **stmts[] = {&eg.q_sender, &eg.q_recip, &eg.q_sender_dev, &eg.q_sender_ip, &eg.q_merchant,
				  &eg.q_attr, &eg.q_entity, &eg.q_users, &eg.q_links};
	struct fd_graph_txn t;
	size_t i;
	uint32_t x;
	int rc, scored;

	if (g->finished || fd_intern_count(g->names))
		return fd_err_set(err, FD_EUSAGE, "fd_graph_load_ego needs a new graph");
	if (depth < 0 || depth > 16)
		return fd_err_set(err, FD_EUSAGE, "depth %d out of range 0-16", depth);
	memset(&eg, 0, sizeof(eg));
	eg.g = g;
	eg.st = st;
	eg.max_fanout = max_fanout;
	g->ego = 1;
	if ((scored = have_scores(st, err)) < 0) {
		rc = err->code;
		goto out;
	}
	for (i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
		char q[1024];

		if (i < 6)
			snprintf(q, sizeof(q), "SELECT t.id, %s, t.ts, t.amount, t.currency, t.sender_id, t.recipient_id,"
				 " t.merchant_id, t.device_id, t.ip, t.label, %s%s%s",
				 scored || g->o.keep_txns ? "t.txn_id" : "NULL",
				 g->o.kinds & FD_GRAPH_BIT(FD_GRAPH_ATTR) ? "t.metadata" : "NULL",
				 scored ? SCORE_COLS : NO_SCORE_COLS, where[i]);
		if ((rc = fd_store_prepare(st, stmts[i], i < 6 ? q : sql[i - 6], err)))
			goto out;
	}
	if (!(eg.seen = fd_intern_create()) || !(eg.lseen = fd_intern_create())) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto out;
	}
	if ((rc = ego_start(&eg, spec, err)))
		goto out;
	/* breadth first: node ids are given in discovery order, so the queue is the id order */
	for (x = 0; x < fd_intern_count(g->names); x++) {
		if (g->nodes[x].depth >= depth)
			break;
		if ((rc = ego_expand(&eg, x, err)))
			goto out;
	}
	if (g->nodes[eg.start].kind >= NK_ATTR0 && eg.nrows == 0 && depth > 0) {
		char vis[200];
		const char *k = node_key(g, eg.start);

		rc = fd_err_set(err, FD_EUSAGE, "no %s '%s' in the store", node_kind(g, eg.start),
				fd_visible(vis, sizeof(vis), k, strlen(k)));
		goto out;
	}
	/* the build: only the nodes found, only edges with an expanded end, each row once */
	g->closed = 1;
	for (i = 0; i < eg.nrows; i++) {
		erow_txn(&eg, &eg.rows[i], &t);
		if ((rc = fd_graph_add_txn(g, &t, err)))
			goto out;
	}
	for (i = 0; i < eg.nlinks; i++) {
		const struct elink *l = &eg.links[i];

		if ((rc = fd_graph_add_link(g, arena_str(&eg, l->skind), arena_str(&eg, l->skey), arena_str(&eg, l->dkind),
					    arena_str(&eg, l->dkey), arena_str(&eg, l->kind), l->first, l->last, l->count, err)))
			goto out;
	}
out:
	for (i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++)
		sqlite3_finalize(*stmts[i]);
	fd_intern_free(eg.seen);
	fd_intern_free(eg.lseen);
	fd_intern_free(eg.cand);
	fd_buf_release(&eg.arena);
	free(eg.rows);
	free(eg.links);
	free(eg.xrows);
	return rc;
}
/* ---- helpers for the algorithms ------------------------------------------------------ */

/* Order of node names: kind (accounts first), then key. */
static int node_cmp_r(const void *a, const void *b, void *ctx)
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

static uint32_t move_src(const struct fd_graph *g, uint32_t m) { return g->edges[g->moves[m].edge].src; }
static uint32_t move_dst(const struct fd_graph *g, uint32_t m) { return g->edges[g->moves[m].edge].dst; }

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
/* ---- writing the statistics back ----------------------------------------------------- */

struct eid_node {
	int64_t id;
	uint32_t node;
};

static int eid_cmp(const void *a, const void *b)
{
	const struct eid_node *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int fd_graph_stats_save(struct fd_store *st, const struct fd_graph *g, const struct fd_graph_stats *s,
			int64_t *written, struct fd_err *err)
{
	sqlite3_stmt *find = NULL, *upd = NULL;
	struct eid_node *ids = NULL;
	struct fd_digest dg;
	struct fd_buf det = FD_BUF_INIT;
	struct fd_audit_entry ae;
	char digest[65], when[FD_TS_BUFSZ];
	uint32_t nn = fd_graph_node_count(g), v;
	size_t n = 0, i;
	int rc, r, k;

	*written = 0;
	if (!(ids = malloc(((size_t)nn + 1) * sizeof(*ids))))
		return fd_err_set(err, FD_EIO, "out of memory");
	if ((rc = fd_store_begin(st, err)))
		goto out;
	if ((rc = fd_store_prepare(st, &find, "SELECT id FROM entities WHERE kind = ?1 AND key = ?2", err)) ||
	    (rc = fd_store_prepare(st, &upd,
				   "UPDATE entities SET attrs = json_set(attrs, '$.degree', ?2, '$.pagerank', ?3,"
				   " '$.clustering', ?4, '$.flow_in', ?5, '$.flow_out', ?6, '$.flow_currency', ?7)"
				   " WHERE id = ?1 RETURNING attrs", err)))
		goto fail;
	for (v = 0; v < nn; v++) {
		if (g->nodes[v].kind >= NK_ATTR0)
			continue;
		sqlite3_bind_text(find, 1, node_kind(g, v), -1, SQLITE_STATIC);
		sqlite3_bind_text(find, 2, node_key(g, v), -1, SQLITE_STATIC);
		if ((r = sqlite3_step(find)) == SQLITE_ROW) {
			ids[n].id = sqlite3_column_int64(find, 0);
			ids[n++].node = v;
		}
		sqlite3_reset(find);
		if (r != SQLITE_ROW && r != SQLITE_DONE) {
			rc = fd_store_error(st, "reading entities", err);
			goto fail;
		}
	}
	if (n > 1)
		qsort(ids, n, sizeof(*ids), eid_cmp);
	fd_digest_init(&dg);
	for (i = 0; i < n; i++) {
		v = ids[i].node;
		sqlite3_bind_int64(upd, 1, ids[i].id);
		sqlite3_bind_int64(upd, 2, s->degree[v]);
		sqlite3_bind_double(upd, 3, s->pagerank[v]);
		sqlite3_bind_double(upd, 4, s->clustering[v]);
		sqlite3_bind_int64(upd, 5, s->flow_in[v]);
		sqlite3_bind_int64(upd, 6, s->flow_out[v]);
		if (*fd_graph_currency(g))
			sqlite3_bind_text(upd, 7, fd_graph_currency(g), -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(upd, 7);
		if ((r = sqlite3_step(upd)) != SQLITE_ROW) {
			rc = fd_store_error(st, "writing entity attributes", err);
			goto fail;
		}
		fd_digest_int(&dg, ids[i].id);
		fd_digest_text(&dg, (const char *)sqlite3_column_text(upd, 0), (size_t)sqlite3_column_bytes(upd, 0));
		fd_digest_row_end(&dg);
		while (r == SQLITE_ROW)
			r = sqlite3_step(upd);
		sqlite3_reset(upd);
	}
	fd_digest_final(&dg, digest);
	fd_buf_addf(&det, "{\"entities\":%zu,\"nodes\":%u,\"edges\":%u,\"currency\":", n, nn, g->ne);
	fd_buf_add_json_str(&det, fd_graph_currency(g), strlen(fd_graph_currency(g)));
	fd_buf_adds(&det, ",\"since\":");
	if (g->o.since == INT64_MIN)
		fd_buf_adds(&det, "null");
	else
		fd_buf_addf(&det, "\"%s\"", fd_format_ts(g->o.since, when));
	fd_buf_adds(&det, ",\"until\":");
	if (g->o.until == INT64_MAX)
		fd_buf_adds(&det, "null");
	else
		fd_buf_addf(&det, "\"%s\"", fd_format_ts(g->o.until, when));
	fd_buf_adds(&det, ",\"kinds\":[");
	for (k = 0, r = 0; k < FD_GRAPH_NKINDS; k++)
		if (g->o.kinds & FD_GRAPH_BIT(k))
			fd_buf_addf(&det, "%s\"%s\"", r++ ? "," : "", fd_graph_kind_name[k]);
	if (fd_buf_addf(&det, "],\"pagerank_iterations\":%d,\"attrs\":[\"degree\",\"pagerank\",\"clustering\",\"flow_in\","
			"\"flow_out\",\"flow_currency\"],\"digest_of\":\"entities id and attrs as written, in id order\"}",
			s->iterations)) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto fail;
	}
	memset(&ae, 0, sizeof(ae));
	ae.action = "graph.stats";
	ae.object_type = "entities";
	ae.object_id = "attrs";
	ae.details = det.s;
	ae.data_digest = n ? digest : NULL;
	if ((rc = fd_audit_append(st, &ae, NULL, err)))
		goto fail;
	sqlite3_finalize(find);
	sqlite3_finalize(upd);
	find = upd = NULL;
	if ((rc = fd_store_commit(st, err)))
		goto fail;
	*written = (int64_t)n;
	goto out;
fail:
	sqlite3_finalize(find);
	sqlite3_finalize(upd);
	fd_store_rollback(st);
out:
	free(ids);
	fd_buf_release(&det);
	return rc;
}

/* ---- writers ------------------------------------------------------------------------- */

struct wr {
	const struct fd_graph *g;
	struct fd_out *out;        /* where the text goes: an fd_out, */
	struct fd_buf *dst;        /* or the end of a caller's buffer */
	struct fd_buf b;
	int fmt, oom;
};

static void w_flush(struct wr *w)
{
	if (w->b.len) {
		if (w->dst)
			w->oom |= fd_buf_failed(&w->b) || fd_buf_add(w->dst, w->b.s, w->b.len) != 0;
		else
			fd_out_write_buf(w->out, &w->b);
		fd_buf_reset(&w->b);
	}
}

static void w_s(struct wr *w, const char *s)
{
	w->oom |= fd_buf_adds(&w->b, s) != 0;
	if (w->b.len > 1 << 16)
		w_flush(w);
}

static void w_f(struct wr *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void w_f(struct wr *w, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	w_s(w, buf);
}

static void w_jstr(struct wr *w, const char *s)
{
	if (!s) {
		w_s(w, "null");
		return;
	}
	w->oom |= fd_buf_add_json_str(&w->b, s, strlen(s)) != 0;
}

/* The shortest %g that reads back to v. */
static void fmt_double(double v, char *buf, size_t n)
{
	int p;

	for (p = 15; p <= 17; p++) {
		snprintf(buf, n, "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			break;
	}
}

static void w_double(struct wr *w, double v)
{
	char buf[40];

	fmt_double(v, buf, sizeof(buf));
	w_s(w, buf);
}

static void w_amount(struct wr *w, int64_t minor)
{
	char buf[FD_AMOUNT_BUFSZ];

	w_s(w, fd_format_amount(minor, fd_graph_currency_exp(w->g), buf));
}

static void w_ts_json(struct wr *w, int64_t ms)
{
	char buf[FD_TS_BUFSZ];

	w_s(w, "\"");
	w_s(w, fd_format_ts(ms, buf));
	w_s(w, "\"");
}

/* "kind:key" of a node into g's scratch-free buffer b (reset first). */
static const char *node_name(const struct fd_graph *g, uint32_t v, struct fd_buf *b)
{
	fd_buf_reset(b);
	if (fd_buf_adds(b, node_kind(g, v)) || fd_buf_addc(b, ':') || fd_buf_adds(b, node_key(g, v)))
		return "";
	return b->s;
}

static void w_name_json(struct wr *w, uint32_t v)
{
	struct fd_buf t = FD_BUF_INIT;

	w_jstr(w, node_name(w->g, v, &t));
	fd_buf_release(&t);
}

/* A DOT double-quoted string: quotes and backslashes escaped, newlines as \n, other control
 * bytes as spaces. */
static void w_dot_str(struct wr *w, const char *s)
{
	w->oom |= fd_buf_addc(&w->b, '"') != 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			w->oom |= fd_buf_addc(&w->b, '\\') != 0;
			w->oom |= fd_buf_addc(&w->b, (char)c) != 0;
		} else if (c == '\n')
			w->oom |= fd_buf_adds(&w->b, "\\n") != 0;
		else
			w->oom |= fd_buf_addc(&w->b, c < 0x20 || c == 0x7f ? ' ' : (char)c) != 0;
	}
	w->oom |= fd_buf_addc(&w->b, '"') != 0;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when the bytes there are not one. */
static int utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[0] == 0xe0 && s[1] < 0xa0) ||
		    (s[0] == 0xed && s[1] > 0x9f))
			return 0;
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80 || (s[0] == 0xf0 && s[1] < 0x90) ||
		    (s[0] == 0xf4 && s[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

/* XML character data or attribute value: the five entities escaped; control characters
 * (not allowed in XML 1.0) and bytes that are not UTF-8 written as '?'. */
static void w_xml(struct wr *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n = utf8_len(p);

		switch (*p) {
		case '&': w_s(w, "&amp;"); break;
		case '<': w_s(w, "&lt;"); break;
		case '>': w_s(w, "&gt;"); break;
		case '"': w_s(w, "&quot;"); break;
		case '\'': w_s(w, "&apos;"); break;
		case '\n': w_s(w, "&#10;"); break;
		case '\t': w_s(w, "&#9;"); break;
		default:
			if (n == 0 || *p < 0x20 || *p == 0x7f) {
				w->oom |= fd_buf_addc(&w->b, '?') != 0;
				n = 1;
			} else
				w->oom |= fd_buf_add(&w->b, p, (size_t)n) != 0;
			p += n;
			continue;
		}
		p++;
	}
}

/* What part of the graph to write, and what to add to it. */
struct view {
	const uint8_t *non, *eon;          /* NULL: every node / edge */
	const uint32_t *group;             /* per node: finding rank, 0 none (NULL: none) */
	char **gtitle;                     /* [rank]: a cluster label for DOT */
	size_t ngroups;
	char **enote;                      /* per edge: extra lines, or NULL */
	const struct fd_graph_stats *st;
};

static const char *const node_shape[] = {"ellipse", "box", "hexagon", "octagon"};
static const char *const node_fill[] = {"#dbe9f6", "#fff2cc", "#e2f0d9", "#ede1f5"};

static void json_node(struct wr *w, const struct view *v, uint32_t x)
{
	const struct fd_graph *g = w->g;
	const struct node *nd = &g->nodes[x];

	w_s(w, "{\"id\":");
	w_name_json(w, x);
	w_s(w, ",\"kind\":");
	w_jstr(w, node_kind(g, x));
	w_s(w, ",\"key\":");
	w_jstr(w, node_key(g, x));
	w_f(w, ",\"txns\":%" PRId64 ",\"flagged\":%" PRId64 ",\"risk\":", nd->txns, nd->flagged);
	if (nd->risk >= 0)
		w_f(w, "%.2f", risk_out(nd->risk));
	else
		w_s(w, "null");
	if (nd->kind == NK_ACCOUNT)
		w_f(w, ",\"sent\":%" PRId64 ",\"sent_flagged\":%" PRId64, nd->sent, nd->sent_flagged);
	if (nd->txns) {
		w_s(w, ",\"first\":");
		w_ts_json(w, nd->first);
		w_s(w, ",\"last\":");
		w_ts_json(w, nd->last);
	}
	if (g->ego)
		w_f(w, ",\"depth\":%d,\"expanded\":%s", nd->depth, nd->expanded ? "true" : "false");
	if (v->group && v->group[x])
		w_f(w, ",\"group\":%u", v->group[x]);
	if (v->st) {
		w_f(w, ",\"degree\":%u,\"in_degree\":%u,\"out_degree\":%u,\"flow_in\":", v->st->degree[x], v->st->in_degree[x],
		    v->st->out_degree[x]);
		w_amount(w, v->st->flow_in[x]);
		w_s(w, ",\"flow_out\":");
		w_amount(w, v->st->flow_out[x]);
		w_s(w, ",\"clustering\":");
		w_double(w, v->st->clustering[x]);
		w_s(w, ",\"pagerank\":");
		w_double(w, v->st->pagerank[x]);
	}
	w_s(w, "}");
}

static void json_edge(struct wr *w, const struct view *v, uint32_t e)
{
	const struct fd_graph *g = w->g;
	struct fd_graph_edge_info ei;

	fd_graph_edge_get(g, e, &ei);
	w_f(w, "{\"id\":\"e%u\",\"source\":", e);
	w_name_json(w, ei.src);
	w_s(w, ",\"target\":");
	w_name_json(w, ei.dst);
	w_s(w, ",\"kind\":");
	w_jstr(w, fd_graph_kind_name[ei.kind]);
	if (ei.link_kind) {
		w_s(w, ",\"link_kind\":");
		w_jstr(w, ei.link_kind);
	}
	w_f(w, ",\"count\":%" PRId64, ei.count);
	if (is_money(ei.kind)) {
		w_s(w, ",\"total\":");
		w_amount(w, ei.total);
	}
	w_s(w, ",\"first\":");
	w_ts_json(w, ei.first);
	w_s(w, ",\"last\":");
	w_ts_json(w, ei.last);
	w_f(w, ",\"flagged\":%" PRId64 ",\"risk\":", ei.flagged);
	if (ei.risk >= 0)
		w_f(w, "%.2f", ei.risk);
	else
		w_s(w, "null");
	if (v->enote && v->enote[e]) {
		w_s(w, ",\"note\":");
		w_jstr(w, v->enote[e]);
	}
	w_s(w, "}");
}

/* "nodes":[...],"edges":[...] */
static void json_graph(struct wr *w, const struct view *v)
{
	const struct fd_graph *g = w->g;
	uint32_t x, e, n = 0;

	w_s(w, "\"nodes\":[");
	for (x = 0; x < fd_graph_node_count(g); x++)
		if (!v->non || v->non[x]) {
			w_s(w, n++ ? ",\n" : "\n");
			json_node(w, v, x);
		}
	w_s(w, "],\n\"edges\":[");
	for (e = n = 0; e < g->ne; e++)
		if (!v->eon || v->eon[e]) {
			w_s(w, n++ ? ",\n" : "\n");
			json_edge(w, v, e);
		}
	w_s(w, "]");
}

static void dot_node(struct wr *w, const struct view *v, uint32_t x)
{
	const struct fd_graph *g = w->g;
	const struct node *nd = &g->nodes[x];
	struct fd_buf t = FD_BUF_INIT;
	int k = nd->kind < NK_ATTR0 ? nd->kind : -1;

	w_s(w, "  ");
	w_dot_str(w, node_name(g, x, &t));
	fd_buf_reset(&t);
	fd_buf_adds(&t, node_key(g, x));
	fd_buf_addf(&t, "\n%s", node_kind(g, x));
	if (nd->flagged)
		fd_buf_addf(&t, ", %" PRId64 " flagged", nd->flagged);
	if (nd->risk >= 0)
		fd_buf_addf(&t, "\nrisk %.2f", risk_out(nd->risk));
	if (v->st)
		fd_buf_addf(&t, "\npagerank %.4g", v->st->pagerank[x]);
	w_s(w, " [label=");
	w_dot_str(w, t.s ? t.s : "");
	w_f(w, ", shape=%s, fillcolor=\"%s\"", k >= 0 ? node_shape[k] : "note", k >= 0 ? node_fill[k] : "#fbe5d6");
	if (nd->flagged)
		w_s(w, ", color=\"#c00000\", penwidth=2");
	if (g->ego && nd->depth == 0)
		w_s(w, ", peripheries=2");
	w_s(w, ", kind=");
	w_dot_str(w, node_kind(g, x));
	w_f(w, ", txns=%" PRId64 ", flagged=%" PRId64, nd->txns, nd->flagged);
	if (nd->risk >= 0)
		w_f(w, ", risk=%.2f", risk_out(nd->risk));
	if (g->ego)
		w_f(w, ", depth=%d", nd->depth);
	w_s(w, "];\n");
	fd_buf_release(&t);
}

static void dot_edge(struct wr *w, const struct view *v, uint32_t e)
{
	const struct fd_graph *g = w->g;
	struct fd_graph_edge_info ei;
	struct fd_buf t = FD_BUF_INIT;
	char amt[FD_AMOUNT_BUFSZ];

	fd_graph_edge_get(g, e, &ei);
	w_s(w, "  ");
	w_dot_str(w, node_name(g, ei.src, &t));
	w_s(w, " -> ");
	w_dot_str(w, node_name(g, ei.dst, &t));
	fd_buf_reset(&t);
	fd_buf_adds(&t, ei.link_kind ? ei.link_kind : fd_graph_kind_name[ei.kind]);
	if (v->enote && v->enote[e]) {
		/* the findings' own transactions say it all; the edge's totals only when there is more */
		if (ei.count > 1 && is_money(ei.kind))
			fd_buf_addf(&t, " (%" PRId64 "x, %s %s in all)", ei.count,
				    fd_format_amount(ei.total, fd_graph_currency_exp(g), amt), fd_graph_currency(g));
		fd_buf_addf(&t, "\n%s", v->enote[e]);
	} else if (is_money(ei.kind))
		fd_buf_addf(&t, " %" PRId64 "x\n%s %s", ei.count, fd_format_amount(ei.total, fd_graph_currency_exp(g), amt),
			    fd_graph_currency(g));
	else
		fd_buf_addf(&t, " %" PRId64 "x", ei.count);
	w_s(w, " [label=");
	w_dot_str(w, t.s ? t.s : "");
	w_s(w, is_money(ei.kind) ? ", style=solid" : ei.kind == FD_GRAPH_LINK ? ", style=bold" : ", style=dashed");
	if (ei.flagged)
		w_s(w, ", color=\"#c00000\", fontcolor=\"#c00000\"");
	else if (!is_money(ei.kind))
		w_s(w, ", color=\"#5b7fa6\"");
	w_f(w, ", kind=\"%s\", count=%" PRId64 ", flagged=%" PRId64, fd_graph_kind_name[ei.kind], ei.count, ei.flagged);
	w_s(w, "];\n");
	fd_buf_release(&t);
}

static void write_dot(struct wr *w, const struct view *v, const char *title)
{
	const struct fd_graph *g = w->g;
	uint32_t x, e, nn = fd_graph_node_count(g);
	size_t k;

	w_s(w, "digraph fd {\n  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=11, labelloc=t, label=");
	w_dot_str(w, title);
	w_s(w, "];\n  node [fontname=\"Helvetica\", fontsize=10, style=filled];\n"
	       "  edge [fontname=\"Helvetica\", fontsize=9];\n");
	/* one cluster per finding, in rank order; then everything else */
	for (k = 1; v->group && k <= v->ngroups; k++) {
		int any = 0;

		for (x = 0; x < nn; x++)
			if ((!v->non || v->non[x]) && v->group[x] == k) {
				if (!any++) {
					w_f(w, "  subgraph cluster_%zu {\n  style=rounded; color=\"#999999\"; label=", k);
					w_dot_str(w, v->gtitle && v->gtitle[k] ? v->gtitle[k] : "");
					w_s(w, ";\n");
				}
				dot_node(w, v, x);
			}
		if (any)
			w_s(w, "  }\n");
	}
	for (x = 0; x < nn; x++)
		if ((!v->non || v->non[x]) && !(v->group && v->group[x]))
			dot_node(w, v, x);
	for (e = 0; e < g->ne; e++)
		if (!v->eon || v->eon[e])
			dot_edge(w, v, e);
	w_s(w, "}\n");
}

static void gml_key(struct wr *w, const char *id, const char *for_, const char *name, const char *type)
{
	w_f(w, "  <key id=\"%s\" for=\"%s\" attr.name=\"%s\" attr.type=\"%s\"/>\n", id, for_, name, type);
}

static void gml_data(struct wr *w, const char *key, const char *val)
{
	w_f(w, "<data key=\"%s\">", key);
	w_xml(w, val);
	w_s(w, "</data>");
}

static void write_graphml(struct wr *w, const struct view *v)
{
	const struct fd_graph *g = w->g;
	struct fd_buf t = FD_BUF_INIT;
	char buf[64], amt[FD_AMOUNT_BUFSZ];
	uint32_t x, e;

	w_s(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	       "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\""
	       " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
	       " xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns"
	       " http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n");
	gml_key(w, "n_kind", "node", "kind", "string");
	gml_key(w, "n_key", "node", "key", "string");
	gml_key(w, "n_label", "node", "label", "string");
	gml_key(w, "n_txns", "node", "txns", "long");
	gml_key(w, "n_flagged", "node", "flagged", "long");
	gml_key(w, "n_risk", "node", "risk", "double");
	gml_key(w, "n_first", "node", "first", "string");
	gml_key(w, "n_last", "node", "last", "string");
	if (g->ego)
		gml_key(w, "n_depth", "node", "depth", "int");
	if (v->group)
		gml_key(w, "n_group", "node", "group", "int");
	if (v->st) {
		gml_key(w, "n_degree", "node", "degree", "long");
		gml_key(w, "n_in_degree", "node", "in_degree", "long");
		gml_key(w, "n_out_degree", "node", "out_degree", "long");
		gml_key(w, "n_flow_in", "node", "flow_in", "double");
		gml_key(w, "n_flow_out", "node", "flow_out", "double");
		gml_key(w, "n_clustering", "node", "clustering", "double");
		gml_key(w, "n_pagerank", "node", "pagerank", "double");
	}
	gml_key(w, "e_kind", "edge", "kind", "string");
	gml_key(w, "e_link_kind", "edge", "link_kind", "string");
	gml_key(w, "e_count", "edge", "count", "long");
	gml_key(w, "e_total", "edge", "total", "double");
	gml_key(w, "e_currency", "edge", "currency", "string");
	gml_key(w, "e_first", "edge", "first", "string");
	gml_key(w, "e_last", "edge", "last", "string");
	gml_key(w, "e_flagged", "edge", "flagged", "long");
	gml_key(w, "e_risk", "edge", "risk", "int");
	gml_key(w, "e_note", "edge", "note", "string");
	w_s(w, "  <graph id=\"fd\" edgedefault=\"directed\">\n");
	for (x = 0; x < fd_graph_node_count(g); x++) {
		const struct node *nd = &g->nodes[x];

		if (v->non && !v->non[x])
			continue;
		w_s(w, "    <node id=\"");
		w_xml(w, node_name(g, x, &t));
		w_s(w, "\">");
		gml_data(w, "n_kind", node_kind(g, x));
		gml_data(w, "n_key", node_key(g, x));
		gml_data(w, "n_label", node_key(g, x));
		snprintf(buf, sizeof(buf), "%" PRId64, nd->txns);
		gml_data(w, "n_txns", buf);
		snprintf(buf, sizeof(buf), "%" PRId64, nd->flagged);
		gml_data(w, "n_flagged", buf);
		if (nd->risk >= 0) {
			snprintf(buf, sizeof(buf), "%.2f", risk_out(nd->risk));
			gml_data(w, "n_risk", buf);
		}
		if (nd->txns) {
			gml_data(w, "n_first", fd_format_ts(nd->first, buf));
			gml_data(w, "n_last", fd_format_ts(nd->last, buf));
		}
		if (g->ego) {
			snprintf(buf, sizeof(buf), "%d", nd->depth);
			gml_data(w, "n_depth", buf);
		}
		if (v->group && v->group[x]) {
			snprintf(buf, sizeof(buf), "%u", v->group[x]);
			gml_data(w, "n_group", buf);
		}
		if (v->st) {
			snprintf(buf, sizeof(buf), "%u", v->st->degree[x]);
			gml_data(w, "n_degree", buf);
			snprintf(buf, sizeof(buf), "%u", v->st->in_degree[x]);
			gml_data(w, "n_in_degree", buf);
			snprintf(buf, sizeof(buf), "%u", v->st->out_degree[x]);
			gml_data(w, "n_out_degree", buf);
			gml_data(w, "n_flow_in", fd_format_amount(v->st->flow_in[x], fd_graph_currency_exp(g), amt));
			gml_data(w, "n_flow_out", fd_format_amount(v->st->flow_out[x], fd_graph_currency_exp(g), amt));
			fmt_double(v->st->clustering[x], buf, sizeof(buf));
			gml_data(w, "n_clustering", buf);
			fmt_double(v->st->pagerank[x], buf, sizeof(buf));
			gml_data(w, "n_pagerank", buf);
		}
		w_s(w, "</node>\n");
	}
	for (e = 0; e < g->ne; e++) {
		struct fd_graph_edge_info ei;

		if (v->eon && !v->eon[e])
			continue;
		fd_graph_edge_get(g, e, &ei);
		w_f(w, "    <edge id=\"e%u\" source=\"", e);
		w_xml(w, node_name(g, ei.src, &t));
		w_s(w, "\" target=\"");
		w_xml(w, node_name(g, ei.dst, &t));
		w_s(w, "\">");
		gml_data(w, "e_kind", fd_graph_kind_name[ei.kind]);
		if (ei.link_kind)
			gml_data(w, "e_link_kind", ei.link_kind);
		snprintf(buf, sizeof(buf), "%" PRId64, ei.count);
		gml_data(w, "e_count", buf);
		if (is_money(ei.kind)) {
			gml_data(w, "e_total", fd_format_amount(ei.total, fd_graph_currency_exp(g), amt));
			gml_data(w, "e_currency", fd_graph_currency(g));
		}
		gml_data(w, "e_first", fd_format_ts(ei.first, buf));
		gml_data(w, "e_last", fd_format_ts(ei.last, buf));
		snprintf(buf, sizeof(buf), "%" PRId64, ei.flagged);
		gml_data(w, "e_flagged", buf);
		if (ei.risk >= 0) {
			snprintf(buf, sizeof(buf), "%.2f", ei.risk);
			gml_data(w, "e_risk", buf);
		}
		if (v->enote && v->enote[e])
			gml_data(w, "e_note", v->enote[e]);
		w_s(w, "</edge>\n");
	}
	w_s(w, "  </graph>\n</graphml>\n");
	fd_buf_release(&t);
}

static int w_begin(struct wr *w, const struct fd_graph *g, int fmt, struct fd_out *out, struct fd_err *err)
{
	memset(w, 0, sizeof(*w));
	w->g = g;
	w->out = out;
	w->fmt = fmt;
	if (!g->finished)
		return fd_err_set(err, FD_EUSAGE, "the graph is not finished");
	if (fmt < FD_GRAPH_CSV || fmt > FD_GRAPH_GRAPHML)
		return fd_err_set(err, FD_EUSAGE, "unknown output format %d", fmt);
	return FD_OK;
}

static int w_end(struct wr *w, struct fd_err *err)
{
	int oom = w->oom;

	w_flush(w);
	oom |= w->oom;
	fd_buf_release(&w->b);
	if (oom) {
		if (w->out)
			fd_out_set_error(w->out, ENOMEM);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	return FD_OK;
}

/* The graph-shaped formats (JSON, DOT, GraphML) for a view; JSON gets `head` (the findings,
 * already written as members of the top object) before the nodes and edges. */
static void write_view(struct wr *w, const struct view *v, const char *title)
{
	if (w->fmt == FD_GRAPH_DOT)
		write_dot(w, v, title);
	else if (w->fmt == FD_GRAPH_GRAPHML)
		write_graphml(w, v);
	else {
		json_graph(w, v);
		w_s(w, "}\n");
	}
}

static void json_head(struct wr *w, const char *command)
{
	const struct fd_graph *g = w->g;
	int k, n = 0;

	w_s(w, "{\"command\":");
	w_jstr(w, command);
	w_s(w, ",\"currency\":");
	w_jstr(w, fd_graph_currency(g));
	w_s(w, ",\"since\":");
	if (g->o.since == INT64_MIN)
		w_s(w, "null");
	else
		w_ts_json(w, g->o.since);
	w_s(w, ",\"until\":");
	if (g->o.until == INT64_MAX)
		w_s(w, "null");
	else
		w_ts_json(w, g->o.until);
	w_s(w, ",\"edge_kinds\":[");
	for (k = 0; k < FD_GRAPH_NKINDS; k++)
		if (g->o.kinds & FD_GRAPH_BIT(k))
			w_f(w, "%s\"%s\"", n++ ? "," : "", fd_graph_kind_name[k]);
	w_f(w, "],\"money_dropped\":%" PRId64 ",\n", g->dropped);
}

static struct fd_writer *csv_open(struct wr *w, const char *const *cols, size_t n)
{
	struct fd_writer *cw = fd_writer_create(w->out, FD_FMT_CSV, cols, n);

	if (!cw)
		w->oom = 1;
	fd_writer_excel_safe(cw, w->g->o.excel_safe);
	return cw;
}

static void csv_name(struct fd_writer *cw, const struct fd_graph *g, uint32_t x)
{
	struct fd_buf t = FD_BUF_INIT;

	fd_writer_cstr(cw, node_name(g, x, &t));
	fd_buf_release(&t);
}

static void csv_risk(struct fd_writer *cw, double risk)
{
	if (risk >= 0)
		fd_writer_fixed(cw, risk, 2);
	else
		fd_writer_null(cw);
}

int fd_graph_write(const struct fd_graph *g, int format, struct fd_out *out, struct fd_err *err)
{
	static const char *const cols[] = {"source", "target", "kind", "link_kind", "count", "total", "currency",
					   "first", "last", "flagged", "risk"};
	struct wr w;
	struct view v;
	int rc;
	uint32_t e;

	if ((rc = w_begin(&w, g, format, out, err)))
		return rc;
	memset(&v, 0, sizeof(v));
	if (format == FD_GRAPH_CSV) {
		struct fd_writer *cw = csv_open(&w, cols, sizeof(cols) / sizeof(cols[0]));

		for (e = 0; cw && e < g->ne; e++) {
			struct fd_graph_edge_info ei;

			fd_graph_edge_get(g, e, &ei);
			fd_writer_begin(cw);
			csv_name(cw, g, ei.src);
			csv_name(cw, g, ei.dst);
			fd_writer_cstr(cw, fd_graph_kind_name[ei.kind]);
			fd_writer_cstr(cw, ei.link_kind);
			fd_writer_i64(cw, ei.count);
			if (is_money(ei.kind)) {
				fd_writer_amount(cw, ei.total, fd_graph_currency_exp(g));
				fd_writer_cstr(cw, fd_graph_currency(g));
			} else {
				fd_writer_null(cw);
				fd_writer_null(cw);
			}
			fd_writer_ts(cw, ei.first);
			fd_writer_ts(cw, ei.last);
			fd_writer_i64(cw, ei.flagged);
			csv_risk(cw, ei.risk);
			fd_writer_end(cw);
		}
		fd_writer_free(cw);
		return w_end(&w, err);
	}
	if (format == FD_GRAPH_JSON)
		json_head(&w, g->ego ? "neighbors" : "graph");
	write_view(&w, &v, g->ego ? "neighbourhood" : "graph");
	return w_end(&w, err);
}

int fd_graph_write_buf(const struct fd_graph *g, int format, struct fd_buf *b, struct fd_err *err)
{
	struct wr w;
	struct view v;
	int rc;

	if (format == FD_GRAPH_CSV)
		return fd_err_set(err, FD_EUSAGE, "CSV is written to an fd_out only");
	if ((rc = w_begin(&w, g, format, NULL, err)))
		return rc;
	w.dst = b;
	memset(&v, 0, sizeof(v));
	if (format == FD_GRAPH_JSON)
		json_head(&w, g->ego ? "neighbors" : "graph");
	write_view(&w, &v, g->ego ? "neighbourhood" : "graph");
	return w_end(&w, err);
}

/* ---- writers of the findings --------------------------------------------------------- */

/* Storage for a view of findings. */
struct vstore {
	struct view v;
	uint8_t *non, *eon;
	uint32_t *group;
	char **gtitle, **enote;
	uint32_t nn, ne;
	int oom;
};

static int vstore_init(struct vstore *s, const struct fd_graph *g, size_t ngroups)
{
	memset(s, 0, sizeof(*s));
	s->nn = fd_graph_node_count(g);
	s->ne = g->ne;
	if (!(s->non = calloc((size_t)s->nn + 1, 1)) || !(s->eon = calloc((size_t)s->ne + 1, 1)) ||
	    !(s->group = calloc((size_t)s->nn + 1, sizeof(uint32_t))) || !(s->gtitle = calloc(ngroups + 1, sizeof(char *))) ||
	    !(s->enote = calloc((size_t)s->ne + 1, sizeof(char *))))
		return -1;
	s->v.non = s->non;
	s->v.eon = s->eon;
	s->v.group = s->group;
	s->v.gtitle = s->gtitle;
	s->v.ngroups = ngroups;
	s->v.enote = s->enote;
	return 0;
}

static void vstore_release(struct vstore *s)
{
	size_t i;

	for (i = 0; s->gtitle && i <= s->v.ngroups; i++)
		free(s->gtitle[i]);
	for (i = 0; s->enote && i < s->ne; i++)
		free(s->enote[i]);
	free(s->non);
	free(s->eon);
	free(s->group);
	free(s->gtitle);
	free(s->enote);
}

static void vstore_node(struct vstore *s, uint32_t x, uint32_t group)
{
	s->non[x] = 1;
	if (!s->group[x])
		s->group[x] = group;
}

/* Append a line to an edge's note. */
static void vstore_note(struct vstore *s, uint32_t e, const char *line)
{
	size_t a = s->enote[e] ? strlen(s->enote[e]) : 0, b = strlen(line);
	char *p = realloc(s->enote[e], a + b + 2);

	if (!p) {
		s->oom = 1;
		return;
	}
	if (a)
		p[a++] = '\n';
	memcpy(p + a, line, b + 1);
	s->enote[e] = p;
}

static void vstore_title(struct vstore *s, size_t k, const char *t)
{
	if (!(s->gtitle[k] = strdup(t)))
		s->oom = 1;
}

static void w_names_json(struct wr *w, const uint32_t *x, uint32_t n)
{
	uint32_t i;

	w_s(w, "[");
	for (i = 0; i < n; i++) {
		if (i)
			w_s(w, ",");
		w_name_json(w, x[i]);
	}
	w_s(w, "]");
}

static void csv_names(struct fd_writer *cw, const struct fd_graph *g, const uint32_t *x, uint32_t n)
{
	struct fd_buf t = FD_BUF_INIT, all = FD_BUF_INIT;
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (i)
			fd_buf_addc(&all, ' ');
		fd_buf_adds(&all, node_name(g, x[i], &t));
	}
	fd_writer_str(cw, all.s ? all.s : "", all.len);
	fd_buf_release(&t);
	fd_buf_release(&all);
}

static void csv_ts_or_null(struct fd_writer *cw, int64_t ts, int present)
{
	if (present)
		fd_writer_ts(cw, ts);
	else
		fd_writer_null(cw);
}

int fd_graph_comps_write(const struct fd_graph *g, const struct fd_graph_comps *res, size_t top, int format,
			 struct fd_out *out, struct fd_err *err)
{
	static const char *const cols[] = {"rank", "accounts", "nodes", "shared", "sent", "flagged", "flagged_share",
					   "flow_internal", "flow_in", "flow_out", "currency", "first", "last",
					   "members", "shared_ids"};
	struct wr w;
	struct vstore vs;
	size_t n = top && top < res->n ? top : res->n, k;
	uint32_t e;
	int rc;

	if ((rc = w_begin(&w, g, format, out, err)))
		return rc;
	if (format == FD_GRAPH_CSV) {
		struct fd_writer *cw = csv_open(&w, cols, sizeof(cols) / sizeof(cols[0]));

		for (k = 0; cw && k < n; k++) {
			const struct fd_graph_comp *c = &res->c[k];

			fd_writer_begin(cw);
			fd_writer_i64(cw, (int64_t)k + 1);
			fd_writer_i64(cw, c->naccounts);
			fd_writer_i64(cw, c->nmembers);
			fd_writer_i64(cw, c->nshared);
			fd_writer_i64(cw, c->sent);
			fd_writer_i64(cw, c->flagged);
			fd_writer_fixed(cw, c->sent ? (double)c->flagged / (double)c->sent : 0, 4);
			fd_writer_amount(cw, c->flow_internal, fd_graph_currency_exp(g));
			fd_writer_amount(cw, c->flow_in, fd_graph_currency_exp(g));
			fd_writer_amount(cw, c->flow_out, fd_graph_currency_exp(g));
			fd_writer_cstr(cw, fd_graph_currency(g));
			csv_ts_or_null(cw, c->first, c->sent > 0 || c->first || c->last);
			csv_ts_or_null(cw, c->last, c->sent > 0 || c->first || c->last);
			csv_names(cw, g, c->members, c->naccounts);
			csv_names(cw, g, c->members + c->naccounts, c->nshared);
			fd_writer_end(cw);
		}
		fd_writer_free(cw);
		return w_end(&w, err);
	}
	if (vstore_init(&vs, g, n)) {
		vstore_release(&vs);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	for (k = 0; k < n; k++) {
		const struct fd_graph_comp *c = &res->c[k];
		char t[200];
		uint32_t i;

		for (i = 0; i < c->nmembers; i++)
			vstore_node(&vs, c->members[i], (uint32_t)k + 1);
		snprintf(t, sizeof(t), "ring %zu: %u accounts, %u shared identifiers, %" PRId64 " of %" PRId64 " sent flagged",
			 k + 1, c->naccounts, c->nshared, c->flagged, c->sent);
		vstore_title(&vs, k + 1, t);
	}
	for (e = 0; e < g->ne; e++)
		vs.eon[e] = vs.group[g->edges[e].src] && vs.group[g->edges[e].src] == vs.group[g->edges[e].dst];
	if (format == FD_GRAPH_JSON) {
		json_head(&w, "components");
		w_f(&w, "\"groups\":%zu,\"components\":[", res->ngroups);
		for (k = 0; k < n; k++) {
			const struct fd_graph_comp *c = &res->c[k];

			w_f(&w, "%s{\"rank\":%zu,\"accounts\":", k ? ",\n" : "\n", k + 1);
			w_names_json(&w, c->members, c->naccounts);
			w_s(&w, ",\"shared\":");
			w_names_json(&w, c->members + c->naccounts, c->nshared);
			w_s(&w, ",\"others\":");
			w_names_json(&w, c->members + c->naccounts + c->nshared, c->nmembers - c->naccounts - c->nshared);
			w_f(&w, ",\"sent\":%" PRId64 ",\"flagged\":%" PRId64 ",\"flagged_share\":", c->sent, c->flagged);
			w_double(&w, c->sent ? (double)c->flagged / (double)c->sent : 0);
			w_s(&w, ",\"flow_internal\":");
			w_amount(&w, c->flow_internal);
			w_s(&w, ",\"flow_in\":");
			w_amount(&w, c->flow_in);
			w_s(&w, ",\"flow_out\":");
			w_amount(&w, c->flow_out);
			if (c->sent || c->first || c->last) {
				w_s(&w, ",\"first\":");
				w_ts_json(&w, c->first);
				w_s(&w, ",\"last\":");
				w_ts_json(&w, c->last);
			}
			w_s(&w, "}");
		}
		w_s(&w, "],\n");
	}
	write_view(&w, &vs.v, "candidate rings");
	w.oom |= vs.oom;
	vstore_release(&vs);
	return w_end(&w, err);
}

/* "#2.1 T0001 2026-01-01T10:00:00.000Z 1000.00": a cycle's hop, for the edge notes. */
static void hop_line(const struct fd_graph *g, uint32_t m, const char *prefix, char *buf, size_t n)
{
	char ts[FD_TS_BUFSZ], amt[FD_AMOUNT_BUFSZ];

	snprintf(buf, n, "%s%s %s %s", prefix, fd_intern_str(g->txnames, g->moves[m].name, NULL),
		 fd_format_ts(g->moves[m].ts, ts), fd_format_amount(g->moves[m].amount, fd_graph_currency_exp(g), amt));
}

int fd_graph_cycles_write(const struct fd_graph *g, const struct fd_graph_cycles *res, size_t top, int format,
			  struct fd_out *out, struct fd_err *err)
{
	static const char *const cols[] = {"cycle", "length", "step", "txn_id", "ts", "from", "to", "amount",
					   "currency", "flagged", "instances", "score", "reasons"};
	struct wr w;
	struct vstore vs;
	size_t n = top && top < res->n ? top : res->n, k;
	uint32_t i;
	int rc;

	if ((rc = w_begin(&w, g, format, out, err)))
		return rc;
	if (format == FD_GRAPH_CSV) {
		struct fd_writer *cw = csv_open(&w, cols, sizeof(cols) / sizeof(cols[0]));

		for (k = 0; cw && k < n; k++) {
			const struct fd_graph_cycle *c = &res->c[k];

			for (i = 0; i < c->len; i++) {
				uint32_t m = c->hops[i];

				fd_writer_begin(cw);
				fd_writer_i64(cw, (int64_t)k + 1);
				fd_writer_i64(cw, c->len);
				fd_writer_i64(cw, i + 1);
				fd_writer_cstr(cw, fd_intern_str(g->txnames, g->moves[m].name, NULL));
				fd_writer_ts(cw, g->moves[m].ts);
				csv_name(cw, g, move_src(g, m));
				csv_name(cw, g, move_dst(g, m));
				fd_writer_amount(cw, g->moves[m].amount, fd_graph_currency_exp(g));
				fd_writer_cstr(cw, fd_graph_currency(g));
				fd_writer_bool(cw, g->moves[m].flagged);
				fd_writer_i64(cw, c->instances);
				fd_writer_fixed(cw, c->score, 1);
				fd_writer_cstr(cw, c->why);
				fd_writer_end(cw);
			}
		}
		fd_writer_free(cw);
		return w_end(&w, err);
	}
	if (vstore_init(&vs, g, n)) {
		vstore_release(&vs);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	for (k = 0; k < n; k++) {
		const struct fd_graph_cycle *c = &res->c[k];
		char t[400], amt[FD_AMOUNT_BUFSZ], pre[48];

		for (i = 0; i < c->len; i++) {
			uint32_t m = c->hops[i];

			vstore_node(&vs, move_src(g, m), (uint32_t)k + 1);
			vs.eon[g->moves[m].edge] = 1;
			snprintf(pre, sizeof(pre), "#%zu.%u ", k + 1, i + 1);
			hop_line(g, m, pre, t, sizeof(t));
			vstore_note(&vs, g->moves[m].edge, t);
		}
		snprintf(t, sizeof(t), "cycle %zu: %u transfers over %.1f h, at least %s %s went round", k + 1, c->len,
			 (double)(c->end - c->start) / (double)FD_HOUR_MS, fd_format_amount(c->amount_min, fd_graph_currency_exp(g), amt),
			 fd_graph_currency(g));
		vstore_title(&vs, k + 1, t);
	}
	if (format == FD_GRAPH_JSON) {
		json_head(&w, "cycles");
		w_f(&w, "\"truncated\":%s,\"cycles\":[", res->truncated ? "true" : "false");
		for (k = 0; k < n; k++) {
			const struct fd_graph_cycle *c = &res->c[k];

			w_f(&w, "%s{\"rank\":%zu,\"score\":%.1f,\"reasons\":", k ? ",\n" : "\n", k + 1, c->score);
			w_jstr(&w, c->why);
			w_f(&w, ",\"length\":%u,\"start\":", c->len);
			w_ts_json(&w, c->start);
			w_s(&w, ",\"end\":");
			w_ts_json(&w, c->end);
			w_f(&w, ",\"span_seconds\":%" PRId64 ",\"amount_min\":", (c->end - c->start) / 1000);
			w_amount(&w, c->amount_min);
			w_s(&w, ",\"amount_max\":");
			w_amount(&w, c->amount_max);
			w_f(&w, ",\"instances\":%u,\"flagged\":%u,\"accounts\":[", c->instances, c->flagged);
			for (i = 0; i < c->len; i++) {
				if (i)
					w_s(&w, ",");
				w_name_json(&w, move_src(g, c->hops[i]));
			}
			w_s(&w, "],\"hops\":[");
			for (i = 0; i < c->len; i++) {
				uint32_t m = c->hops[i];

				w_f(&w, "%s{\"step\":%u,\"txn_id\":", i ? "," : "", i + 1);
				w_jstr(&w, fd_intern_str(g->txnames, g->moves[m].name, NULL));
				w_s(&w, ",\"ts\":");
				w_ts_json(&w, g->moves[m].ts);
				w_s(&w, ",\"from\":");
				w_name_json(&w, move_src(g, m));
				w_s(&w, ",\"to\":");
				w_name_json(&w, move_dst(g, m));
				w_s(&w, ",\"amount\":");
				w_amount(&w, g->moves[m].amount);
				w_f(&w, ",\"flagged\":%s}", g->moves[m].flagged ? "true" : "false");
			}
			w_s(&w, "]}");
		}
		w_s(&w, "],\n");
	}
	write_view(&w, &vs.v, "time-ordered money cycles");
	w.oom |= vs.oom;
	vstore_release(&vs);
	return w_end(&w, err);
}

/* The flows of a pattern: its moves grouped by edge (move ids are in (edge, time) order). */
struct flow {
	uint32_t edge, first_move, n;
	int64_t total;
	uint32_t flagged;
};

static size_t pattern_flows(const struct fd_graph *g, const struct fd_graph_fan *p, uint32_t *sorted, struct flow *fl)
{
	size_t nf = 0;
	uint32_t i;

	memcpy(sorted, p->moves, p->nmoves * sizeof(*sorted));
	for (i = 1; i < p->nmoves; i++) {  /* insertion sort: move ids */
		uint32_t v = sorted[i], h = i;

		while (h > 0 && sorted[h - 1] > v)
			sorted[h] = sorted[h - 1], h--;
		sorted[h] = v;
	}
	for (i = 0; i < p->nmoves; i++) {
		const struct move *m = &g->moves[sorted[i]];

		if (!nf || fl[nf - 1].edge != m->edge) {
			fl[nf].edge = m->edge;
			fl[nf].first_move = i;
			fl[nf].n = 0;
			fl[nf].total = 0;
			fl[nf].flagged = 0;
			nf++;
		}
		fl[nf - 1].n++;
		fl[nf - 1].total += m->amount;
		fl[nf - 1].flagged += m->flagged;
	}
	return nf;
}

int fd_graph_fans_write(const struct fd_graph *g, const struct fd_graph_fans *res, size_t top, int format,
			struct fd_out *out, struct fd_err *err)
{
	static const char *const cols[] = {"pattern", "kind", "center", "other", "from", "to", "count", "total",
					   "currency", "first", "last", "flagged", "txn_ids", "score", "reasons"};
	struct wr w;
	struct vstore vs;
	size_t n = top && top < res->n ? top : res->n, k, maxm = 0, nf, j;
	uint32_t *sorted = NULL, i;
	struct flow *fl = NULL;
	struct fd_buf ids = FD_BUF_INIT;
	int rc;

	if ((rc = w_begin(&w, g, format, out, err)))
		return rc;
	for (k = 0; k < n; k++)
		if (res->f[k].nmoves > maxm)
			maxm = res->f[k].nmoves;
	if (!(sorted = malloc((maxm + 1) * sizeof(*sorted))) || !(fl = malloc((maxm + 1) * sizeof(*fl)))) {
		free(sorted);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	memset(&vs, 0, sizeof(vs));
	if (format == FD_GRAPH_CSV) {
		struct fd_writer *cw = csv_open(&w, cols, sizeof(cols) / sizeof(cols[0]));

		for (k = 0; cw && k < n; k++) {
			const struct fd_graph_fan *p = &res->f[k];

			nf = pattern_flows(g, p, sorted, fl);
			for (j = 0; j < nf; j++) {
				fd_writer_begin(cw);
				fd_writer_i64(cw, (int64_t)k + 1);
				fd_writer_cstr(cw, fd_graph_fan_name[p->kind]);
				csv_name(cw, g, p->center);
				if (p->other >= 0)
					csv_name(cw, g, (uint32_t)p->other);
				else
					fd_writer_null(cw);
				csv_name(cw, g, g->edges[fl[j].edge].src);
				csv_name(cw, g, g->edges[fl[j].edge].dst);
				fd_writer_i64(cw, fl[j].n);
				fd_writer_amount(cw, fl[j].total, fd_graph_currency_exp(g));
				fd_writer_cstr(cw, fd_graph_currency(g));
				fd_writer_ts(cw, g->moves[sorted[fl[j].first_move]].ts);
				fd_writer_ts(cw, g->moves[sorted[fl[j].first_move + fl[j].n - 1]].ts);
				fd_writer_i64(cw, fl[j].flagged);
				fd_buf_reset(&ids);
				for (i = 0; i < fl[j].n; i++) {
					if (i)
						fd_buf_addc(&ids, ' ');
					fd_buf_adds(&ids, fd_intern_str(g->txnames, g->moves[sorted[fl[j].first_move + i]].name, NULL));
				}
				fd_writer_str(cw, ids.s ? ids.s : "", ids.len);
				fd_writer_fixed(cw, p->score, 1);
				fd_writer_cstr(cw, p->why);
				fd_writer_end(cw);
			}
		}
		fd_writer_free(cw);
		goto out;
	}
	if (vstore_init(&vs, g, n)) {
		w.oom = 1;
		goto out;
	}
	for (k = 0; k < n; k++) {
		const struct fd_graph_fan *p = &res->f[k];
		char t[200], amt[FD_AMOUNT_BUFSZ];
		struct fd_buf nm = FD_BUF_INIT;

		nf = pattern_flows(g, p, sorted, fl);
		vstore_node(&vs, p->center, (uint32_t)k + 1);
		for (j = 0; j < nf; j++) {
			vstore_node(&vs, g->edges[fl[j].edge].src, (uint32_t)k + 1);
			vstore_node(&vs, g->edges[fl[j].edge].dst, (uint32_t)k + 1);
			vs.eon[fl[j].edge] = 1;
			snprintf(t, sizeof(t), "p%zu: %ux %s", k + 1, fl[j].n,
				 fd_format_amount(fl[j].total, fd_graph_currency_exp(g), amt));
			vstore_note(&vs, fl[j].edge, t);
		}
		snprintf(t, sizeof(t), "pattern %zu: %s at %s (%u in, %u out)", k + 1, fd_graph_fan_name[p->kind],
			 node_name(g, p->center, &nm), p->nin, p->nout);
		vstore_title(&vs, k + 1, t);
		fd_buf_release(&nm);
	}
	if (format == FD_GRAPH_JSON) {
		json_head(&w, "fan");
		w_s(&w, "\"patterns\":[");
		for (k = 0; k < n; k++) {
			const struct fd_graph_fan *p = &res->f[k];

			w_f(&w, "%s{\"rank\":%zu,\"kind\":\"%s\",\"score\":%.1f,\"reasons\":", k ? ",\n" : "\n", k + 1,
			    fd_graph_fan_name[p->kind], p->score);
			w_jstr(&w, p->why);
			w_s(&w, ",\"center\":");
			w_name_json(&w, p->center);
			w_s(&w, ",\"other\":");
			if (p->other >= 0)
				w_name_json(&w, (uint32_t)p->other);
			else
				w_s(&w, "null");
			w_s(&w, ",\"start\":");
			w_ts_json(&w, p->start);
			w_s(&w, ",\"end\":");
			w_ts_json(&w, p->end);
			w_f(&w, ",\"senders\":%u,\"recipients\":%u,\"in_total\":", p->nin, p->nout);
			w_amount(&w, p->in_total);
			w_s(&w, ",\"out_total\":");
			w_amount(&w, p->out_total);
			w_f(&w, ",\"flagged\":%u,\"flows\":[", p->flagged);
			nf = pattern_flows(g, p, sorted, fl);
			for (j = 0; j < nf; j++) {
				w_s(&w, j ? "," : "");
				w_s(&w, "{\"from\":");
				w_name_json(&w, g->edges[fl[j].edge].src);
				w_s(&w, ",\"to\":");
				w_name_json(&w, g->edges[fl[j].edge].dst);
				w_f(&w, ",\"count\":%u,\"total\":", fl[j].n);
				w_amount(&w, fl[j].total);
				w_s(&w, ",\"first\":");
				w_ts_json(&w, g->moves[sorted[fl[j].first_move]].ts);
				w_s(&w, ",\"last\":");
				w_ts_json(&w, g->moves[sorted[fl[j].first_move + fl[j].n - 1]].ts);
				w_f(&w, ",\"flagged\":%u,\"txn_ids\":[", fl[j].flagged);
				for (i = 0; i < fl[j].n; i++) {
					w_s(&w, i ? "," : "");
					w_jstr(&w, fd_intern_str(g->txnames, g->moves[sorted[fl[j].first_move + i]].name, NULL));
				}
				w_s(&w, "]}");
			}
			w_s(&w, "]}");
		}
		w_s(&w, "],\n");
	}
	write_view(&w, &vs.v, "fan-in, fan-out and pass-through patterns");
	w.oom |= vs.oom;
out:
	vstore_release(&vs);
	free(sorted);
	free(fl);
	fd_buf_release(&ids);
	return w_end(&w, err);
}

static int pr_cmp(const void *a, const void *b, void *ctx)
{
	const void *const *c = ctx;
	const struct fd_graph *g = c[0];
	const struct fd_graph_stats *s = c[1];
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (s->pagerank[x] != s->pagerank[y])
		return s->pagerank[x] > s->pagerank[y] ? -1 : 1;
	return node_cmp_r(a, b, (void *)g);
}

int fd_graph_stats_write(const struct fd_graph *g, const struct fd_graph_stats *s, size_t top, int format,
			 struct fd_out *out, struct fd_err *err)
{
	static const char *const cols[] = {"node", "kind", "key", "degree", "in_degree", "out_degree", "flow_in",
					   "flow_out", "currency", "clustering", "pagerank", "txns", "flagged", "risk"};
	struct wr w;
	struct view v;
	uint32_t nn = fd_graph_node_count(g), *ord = NULL, x, e;
	uint8_t *non = NULL, *eon = NULL;
	const void *ctx[2] = {g, s};
	size_t n, k;
	int rc;

	if ((rc = w_begin(&w, g, format, out, err)))
		return rc;
	if (!(ord = malloc(((size_t)nn + 1) * sizeof(*ord))) || !(non = calloc((size_t)nn + 1, 1)) ||
	    !(eon = calloc((size_t)g->ne + 1, 1))) {
		w.oom = 1;
		goto out;
	}
	for (x = 0; x < nn; x++)
		ord[x] = x;
	if (nn > 1)
		qsort_r(ord, nn, sizeof(*ord), pr_cmp, ctx);
	n = top && top < nn ? top : nn;
	if (format == FD_GRAPH_CSV) {
		struct fd_writer *cw = csv_open(&w, cols, sizeof(cols) / sizeof(cols[0]));

		for (k = 0; cw && k < n; k++) {
			x = ord[k];
			fd_writer_begin(cw);
			csv_name(cw, g, x);
			fd_writer_cstr(cw, node_kind(g, x));
			fd_writer_cstr(cw, node_key(g, x));
			fd_writer_i64(cw, s->degree[x]);
			fd_writer_i64(cw, s->in_degree[x]);
			fd_writer_i64(cw, s->out_degree[x]);
			fd_writer_amount(cw, s->flow_in[x], fd_graph_currency_exp(g));
			fd_writer_amount(cw, s->flow_out[x], fd_graph_currency_exp(g));
			fd_writer_cstr(cw, fd_graph_currency(g));
			fd_writer_f64(cw, s->clustering[x]);
			fd_writer_f64(cw, s->pagerank[x]);
			fd_writer_i64(cw, g->nodes[x].txns);
			fd_writer_i64(cw, g->nodes[x].flagged);
			csv_risk(cw, risk_out(g->nodes[x].risk));
			fd_writer_end(cw);
		}
		fd_writer_free(cw);
		goto out;
	}
	for (k = 0; k < n; k++)
		non[ord[k]] = 1;
	for (e = 0; e < g->ne; e++)
		eon[e] = non[g->edges[e].src] && non[g->edges[e].dst];
	memset(&v, 0, sizeof(v));
	v.non = non;
	v.eon = eon;
	v.st = s;
	if (format == FD_GRAPH_JSON) {
		json_head(&w, "stats");
		w_f(&w, "\"pagerank_iterations\":%d,", s->iterations);
	}
	write_view(&w, &v, "entity statistics");
out:
	free(ord);
	free(non);
	free(eon);
	return w_end(&w, err);
}

/* ---- rings ------------------------------------------------------------------------------- */

static const char *ring_kind(const struct fd_graph_ring *r) { return r->kind < 0 ? "cycle" : fd_graph_fan_name[r->kind]; }

/* Money each of the ring's accounts sent and received within the ring, added up in the
 * per-node arrays sent and got (zero before; ring_flows_clear makes them zero again). */
static void ring_flows(const struct fd_graph *g, const struct fd_graph_ring *r, int64_t *sent, int64_t *got)
{
	uint32_t i;

	for (i = 0; i < r->nmoves; i++) {
		sent[move_src(g, r->moves[i])] += g->moves[r->moves[i]].amount;
		got[move_dst(g, r->moves[i])] += g->moves[r->moves[i]].amount;
	}
}

static void ring_flows_clear(const struct fd_graph *g, const struct fd_graph_ring *r, int64_t *sent, int64_t *got)
{
	uint32_t i;

	for (i = 0; i < r->nmoves; i++) {
		sent[move_src(g, r->moves[i])] = 0;
		got[move_dst(g, r->moves[i])] = 0;
	}
}

int fd_graph_rings_write(const struct fd_graph *g, const struct fd_graph_rings *res, size_t top, int format,
			 struct fd_out *out, struct fd_err *err)
{
	static const char *const cols[] = {"ring", "kind", "kinds", "score", "findings", "account", "role", "sent",
					   "received", "transfers", "total", "currency", "start", "end", "reasons"};
	struct wr w;
	struct vstore vs;
	size_t n = top && top < res->n ? top : res->n, k;
	uint32_t i;
	int64_t *sent, *got;
	int rc, exp = fd_graph_currency_exp(g);

	if ((rc = w_begin(&w, g, format, out, err)))
		return rc;
	memset(&vs, 0, sizeof(vs));
	sent = calloc((size_t)fd_graph_node_count(g) + 1, sizeof(*sent));
	got = calloc((size_t)fd_graph_node_count(g) + 1, sizeof(*got));
	if (!sent || !got) {
		free(sent);
		free(got);
		w.oom = 1;
		return w_end(&w, err);
	}
	if (format == FD_GRAPH_CSV) {
		struct fd_writer *cw = csv_open(&w, cols, sizeof(cols) / sizeof(cols[0]));

		for (k = 0; cw && k < n; k++) {
			const struct fd_graph_ring *r = &res->r[k];

			ring_flows(g, r, sent, got);
			for (i = 0; i < r->naccounts; i++) {
				fd_writer_begin(cw);
				fd_writer_i64(cw, (int64_t)k + 1);
				fd_writer_cstr(cw, ring_kind(r));
				fd_writer_cstr(cw, r->kinds);
				fd_writer_fixed(cw, r->score, 1);
				fd_writer_i64(cw, r->nfindings);
				csv_name(cw, g, r->accounts[i]);
				fd_writer_cstr(cw, fd_graph_role_name[r->roles[i]]);
				fd_writer_amount(cw, sent[r->accounts[i]], exp);
				fd_writer_amount(cw, got[r->accounts[i]], exp);
				fd_writer_i64(cw, r->nmoves);
				fd_writer_amount(cw, r->total, exp);
				fd_writer_cstr(cw, fd_graph_currency(g));
				fd_writer_ts(cw, r->start);
				fd_writer_ts(cw, r->end);
				fd_writer_cstr(cw, r->why);
				fd_writer_end(cw);
			}
			ring_flows_clear(g, r, sent, got);
		}
		fd_writer_free(cw);
		free(sent);
		free(got);
		return w_end(&w, err);
	}
	if (vstore_init(&vs, g, n)) {
		vstore_release(&vs);
		free(sent);
		free(got);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	for (k = 0; k < n; k++) {
		const struct fd_graph_ring *r = &res->r[k];
		char t[400], pre[48];

		for (i = 0; i < r->naccounts; i++)
			vstore_node(&vs, r->accounts[i], (uint32_t)k + 1);
		for (i = 0; i < r->nmoves; i++) {
			vs.eon[g->moves[r->moves[i]].edge] = 1;
			snprintf(pre, sizeof(pre), "r%zu ", k + 1);
			hop_line(g, r->moves[i], pre, t, sizeof(t));
			vstore_note(&vs, g->moves[r->moves[i]].edge, t);
		}
		snprintf(t, sizeof(t), "ring %zu: %s, score %.1f, %u accounts, %u transfers", k + 1, r->kinds, r->score,
			 r->naccounts, r->nmoves);
		vstore_title(&vs, k + 1, t);
	}
	if (format == FD_GRAPH_JSON) {
		json_head(&w, "rings");
		w_s(&w, "\"rings\":[");
		for (k = 0; k < n; k++) {
			const struct fd_graph_ring *r = &res->r[k];

			w_f(&w, "%s{\"rank\":%zu,\"kind\":\"%s\",\"kinds\":", k ? ",\n" : "\n", k + 1, ring_kind(r));
			w_jstr(&w, r->kinds);
			w_f(&w, ",\"score\":%.1f,\"findings\":%u,\"reasons\":", r->score, r->nfindings);
			w_jstr(&w, r->why);
			w_s(&w, ",\"start\":");
			w_ts_json(&w, r->start);
			w_s(&w, ",\"end\":");
			w_ts_json(&w, r->end);
			w_s(&w, ",\"total\":");
			w_amount(&w, r->total);
			w_s(&w, ",\"accounts\":[");
			ring_flows(g, r, sent, got);
			for (i = 0; i < r->naccounts; i++) {
				w_s(&w, i ? ",{\"account\":" : "{\"account\":");
				w_name_json(&w, r->accounts[i]);
				w_f(&w, ",\"role\":\"%s\",\"sent\":", fd_graph_role_name[r->roles[i]]);
				w_amount(&w, sent[r->accounts[i]]);
				w_s(&w, ",\"received\":");
				w_amount(&w, got[r->accounts[i]]);
				w_s(&w, "}");
			}
			ring_flows_clear(g, r, sent, got);
			w_s(&w, "],\"txn_ids\":[");
			for (i = 0; i < r->nmoves; i++) {
				w_s(&w, i ? "," : "");
				w_jstr(&w, fd_intern_str(g->txnames, g->moves[r->moves[i]].name, NULL));
			}
			w_s(&w, "]}");
		}
		w_s(&w, "],\n");
	}
	write_view(&w, &vs.v, "laundering rings, ranked by suspicion");
	w.oom |= vs.oom;
	vstore_release(&vs);
	free(sent);
	free(got);
	return w_end(&w, err);
}
