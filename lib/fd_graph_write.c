/*
 * fd_graph_write.c — the writers of the entity network and of its findings (contract in
 * fd_graph.h): the graph as CSV, JSON, DOT or GraphML, and the components, cycles, fans,
 * statistics and rings in the same formats.
 */
#include "fd_graph.h"
#include "fd_graph_impl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd_buf.h"
#include "fd_intern.h"
#include "fd_txn.h"
#include "fd_writer.h"
#include "banned.h"

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
