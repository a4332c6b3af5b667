/* fd_report.c — see fd_report.h. */
#include "fd_report.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd_case.h"
#include "fd_intern.h"
#include "fd_txn.h"

/* ---- output with one out-of-memory flag --------------------------------------------------- */

struct w {
	struct fd_buf *b;
	int bad;
};

static void wf(struct w *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wf(struct w *w, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		w->bad = 1;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		if (fd_buf_add(w->b, small, (size_t)n))
			w->bad = 1;
		return;
	}
	if (fd_buf_grow(w->b, (size_t)n + 1)) {
		w->bad = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(w->b->s + w->b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	w->b->len += (size_t)n;
}

static void ws(struct w *w, const char *s)
{
	if (s && fd_buf_adds(w->b, s))
		w->bad = 1;
}

/* HTML-escaped */
static void wh(struct w *w, const char *s)
{
	if (fd_report_html_escape(w->b, s))
		w->bad = 1;
}

int fd_report_html_escape(struct fd_buf *b, const char *s)
{
	const unsigned char *p;
	int r = 0;

	for (p = (const unsigned char *)s; p && *p && !r; p++) {
		switch (*p) {
		case '&': r = fd_buf_adds(b, "&amp;"); break;
		case '<': r = fd_buf_adds(b, "&lt;"); break;
		case '>': r = fd_buf_adds(b, "&gt;"); break;
		case '"': r = fd_buf_adds(b, "&quot;"); break;
		case '\'': r = fd_buf_adds(b, "&#39;"); break;
		default:
			if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
				r = fd_buf_adds(b, "\xef\xbf\xbd");
			else
				r = fd_buf_addc(b, (char)*p);
		}
	}
	return r;
}

/* Markdown text: & < > as entities (so no HTML and no <autolink> gets in), '|' escaped (table
 * cells), '[' and ']' escaped with a backslash (and so the backslash itself) so that data
 * never makes a link or an image ("[x](javascript:...)", "![x](data:...)", a "[x]: vbscript:"
 * definition: every one needs an unescaped bracket), line breaks as spaces. */
static void wm(struct w *w, const char *s)
{
	const char *p;

	for (p = s; p && *p; p++) {
		char c[2] = {*p, 0};

		if (*p == '|' || *p == '\\' || *p == '[' || *p == ']') {
			ws(w, "\\");
			ws(w, c);
		} else if (*p == '\n' || *p == '\r')
			ws(w, " ");
		else if (*p == '&' || *p == '<' || *p == '>')
			wh(w, c);
		else
			ws(w, c);
	}
}

static void w_ts(struct w *w, int64_t ms)
{
	char t[FD_TS_BUFSZ];

	ws(w, fd_format_ts(ms, t));
}

static void w_amount(struct w *w, int64_t minor, int exponent, const char *cur)
{
	char a[FD_AMOUNT_BUFSZ];

	wf(w, "%s %s", fd_format_amount(minor, exponent, a), cur);
}

/* 1234567 -> "1,234,567" */
static void w_int(struct w *w, int64_t v)
{
	char d[32], o[48];
	int n, i, k = 0, neg = v < 0;
	uint64_t u = neg ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;

	n = snprintf(d, sizeof(d), "%llu", (unsigned long long)u);
	if (neg)
		o[k++] = '-';
	for (i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			o[k++] = ',';
		o[k++] = d[i];
	}
	o[k] = '\0';
	ws(w, o);
}

static const char *level_color(const char *level)
{
	if (!level)
		return "#9ca3af";
	if (strcmp(level, "HIGH") == 0)
		return "#dc2626";
	if (strcmp(level, "MEDIUM") == 0)
		return "#f59e0b";
	if (strcmp(level, "LOW") == 0)
		return "#16a34a";
	return "#9ca3af";
}

/* ---- events in words ------------------------------------------------------------------------ */

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int jint(json_t *o, const char *k, long long *v)
{
	json_t *x = json_object_get(o, k);

	if (!json_is_integer(x))
		return 0;
	*v = json_integer_value(x);
	return 1;
}

/* The strings of an array member, ", "-separated; entities as "kind:key as ROLE". */
static void list_member(struct w *w, json_t *o, const char *k)
{
	json_t *a = json_object_get(o, k), *e;
	size_t i;

	json_array_foreach(a, i, e) {
		if (i)
			ws(w, ", ");
		if (json_is_string(e))
			ws(w, json_string_value(e));
		else if (json_is_object(e)) {
			wf(w, "%s as %s", jstr(e, "entity") ? jstr(e, "entity") : "?", jstr(e, "role") ? jstr(e, "role") : "?");
			if (jstr(e, "was"))
				wf(w, " (was %s)", jstr(e, "was"));
		}
	}
}

int fd_report_event_line(const char *kind, const char *details, struct fd_buf *out)
{
	struct w w = {out, 0};
	json_t *d = json_loads(details ? details : "{}", 0, NULL);
	long long v = 0;

	if (!d || !json_is_object(d)) {
		ws(&w, details);
		json_decref(d);
		return w.bad ? -1 : 0;
	}
	if (strcmp(kind, "created") == 0) {
		size_t nt = json_array_size(json_object_get(d, "txns"));
		size_t ne = json_array_size(json_object_get(d, "entities"));

		if (jstr(d, "origin") && strcmp(jstr(d, "origin"), "auto") == 0) {
			wf(&w, "opened automatically for %s (window %s to %s), priority %s: ", jstr(d, "suspect"),
			   jstr(d, "window_start"), jstr(d, "window_end"), jstr(d, "priority"));
			list_member(&w, d, "txns");
			if (jint(d, "max_risk", &v))
				wf(&w, "; max risk %lld", v);
		} else {
			wf(&w, "created \"%s\", priority %s", jstr(d, "title") ? jstr(d, "title") : "",
			   jstr(d, "priority") ? jstr(d, "priority") : "?");
			if (nt) {
				ws(&w, "; transactions ");
				list_member(&w, d, "txns");
			}
			if (ne) {
				ws(&w, "; entities ");
				list_member(&w, d, "entities");
			}
		}
	} else if (strcmp(kind, "status") == 0) {
		wf(&w, "%s -> %s", jstr(d, "from") ? jstr(d, "from") : "?", jstr(d, "to") ? jstr(d, "to") : "?");
		if (jstr(d, "note"))
			wf(&w, ": %s", jstr(d, "note"));
		if (jint(d, "labelled", &v)) {
			long long lab = 0;

			jint(d, "label", &lab);
			wf(&w, " [%lld transaction%s labelled %s]", v, v == 1 ? "" : "s", lab ? "fraud" : "legitimate");
		}
		if (jint(d, "labels_withdrawn", &v) && v)
			wf(&w, " [%lld label%s withdrawn]", v, v == 1 ? "" : "s");
	} else if (strcmp(kind, "assign") == 0) {
		json_t *a = json_object_get(d, "auto");

		wf(&w, "assigned to %s", jstr(d, "to") ? jstr(d, "to") : "?");
		if (json_is_true(a))
			wf(&w, " (automatic: %s)", jstr(d, "pick") && strcmp(jstr(d, "pick"), "round-robin") == 0
			   ? "round-robin" : "least-loaded investigator");
		if (jstr(d, "from"))
			wf(&w, " (was %s)", jstr(d, "from"));
	} else if (strcmp(kind, "note") == 0) {
		ws(&w, jstr(d, "text"));
	} else if (strcmp(kind, "attach") == 0) {
		jint(d, "size", &v);
		wf(&w, "attached %s (%lld bytes, sha256 %s)", jstr(d, "name") ? jstr(d, "name") : "?", v,
		   jstr(d, "sha256") ? jstr(d, "sha256") : "?");
		if (jstr(d, "note"))
			wf(&w, ": %s", jstr(d, "note"));
	} else if (strcmp(kind, "link") == 0) {
		ws(&w, "linked ");
		if (json_array_size(json_object_get(d, "txns"))) {
			list_member(&w, d, "txns");
			if (json_array_size(json_object_get(d, "entities")))
				ws(&w, "; ");
		}
		list_member(&w, d, "entities");
	} else if (strcmp(kind, "auto") == 0) {
		size_t n = json_array_size(json_object_get(d, "added"));

		wf(&w, "%zu new HIGH-risk transaction%s: ", n, n == 1 ? "" : "s");
		list_member(&w, d, "added");
		if (jstr(d, "priority_from"))
			wf(&w, "; priority %s -> %s", jstr(d, "priority_from"), jstr(d, "priority"));
		if (jint(d, "max_risk", &v))
			wf(&w, "; max risk %lld", v);
	} else
		ws(&w, details);
	json_decref(d);
	return w.bad ? -1 : 0;
}

/* ---- text (fd-case show) ---------------------------------------------------------------------- */

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static void text_case(struct w *w, const struct fd_case_view *v)
{
	const struct fd_case_summary *s = &v->s;
	struct fd_buf line = FD_BUF_INIT;
	size_t i, j;

	wf(w, "Case %lld: %s\n", (long long)s->id, s->title);
	wf(w, "  status      %s\n", fd_case_status_name[s->status]);
	wf(w, "  priority    %s\n", fd_case_priority_name[s->priority]);
	wf(w, "  assignee    %s\n", or_dash(s->assignee));
	wf(w, "  origin      %s", s->origin);
	if (s->suspect) {
		char a[FD_TS_BUFSZ], b[FD_TS_BUFSZ];

		wf(w, " (suspect %s, window %s to %s)", s->suspect, fd_format_ts(s->window_start, a),
		   fd_format_ts(s->window_end, b));
	}
	ws(w, "\n  created     ");
	w_ts(w, s->created_at);
	wf(w, " by %s\n  updated     ", s->created_by);
	w_ts(w, s->updated_at);
	ws(w, "\n");
	if (s->closed_at) {
		ws(w, "  closed      ");
		w_ts(w, s->closed_at);
		ws(w, "\n");
	}
	ws(w, "  at stake    ");
	if (fd_case_format_amounts(s->stake, s->nstake, w->b))
		w->bad = 1;
	wf(w, " in %lld transaction%s\n", (long long)s->ntxns, s->ntxns == 1 ? "" : "s");
	if (s->max_risk >= 0)
		wf(w, "  max risk    %d\n", s->max_risk);
	if (s->description && *s->description)
		wf(w, "  description %s\n", s->description);

	wf(w, "\nTimeline (%zu event%s)\n", v->nevents, v->nevents == 1 ? "" : "s");
	for (i = 0; i < v->nevents; i++) {
		const struct fd_case_event *e = &v->events[i];

		fd_buf_reset(&line);
		if (fd_report_event_line(e->kind, e->details, &line))
			w->bad = 1;
		ws(w, "  ");
		w_ts(w, e->ts);
		wf(w, "  %-8s %-7s %s\n", e->actor, e->kind, line.s ? line.s : "");
	}

	wf(w, "\nTransactions (%zu)\n", v->ntxns);
	for (i = 0; i < v->ntxns; i++) {
		const struct fd_case_txn *t = &v->txns[i];

		wf(w, "  %s", t->txn_id);
		if (t->stored) {
			ws(w, "  ");
			w_ts(w, t->ts);
			ws(w, "  ");
			w_amount(w, t->amount, t->exponent, t->currency);
			wf(w, "  %s -> %s", t->sender, t->recipient ? t->recipient : t->merchant ? t->merchant : "-");
		} else
			ws(w, "  (not in the store)");
		if (t->scored)
			wf(w, "  risk %d %s %s", t->risk, t->level, t->decision);
		if (t->label >= 0)
			wf(w, "  label %s", t->label ? "fraud" : "legitimate");
		ws(w, "\n");
		if (t->reason && *t->reason)
			wf(w, "      included: %s\n", t->reason);
		if (t->note && *t->note)
			wf(w, "      note: %s\n", t->note);
		for (j = 0; j < t->nhits; j++)
			wf(w, "      rule %s (+%lld): %s\n", t->hits[j].rule_id, (long long)t->hits[j].points, t->hits[j].reason);
		for (j = 0; j < t->nreasons; j++)
			wf(w, "      reason: %s\n", t->reasons[j]);
	}

	wf(w, "\nEntities (%zu)\n", v->nents);
	for (i = 0; i < v->nents; i++) {
		const struct fd_case_entity *e = &v->ents[i];

		wf(w, "  %-8s %s:%s  (%lld transactions)", fd_entity_role_name[e->role], e->kind, e->key,
		   (long long)e->txn_count);
		if (e->note && *e->note)
			wf(w, "  %s", e->note);
		ws(w, "\n");
	}

	wf(w, "\nNotes (%lld)\n", (long long)s->nnotes);
	for (i = 0; i < v->nevents; i++) {
		const struct fd_case_event *e = &v->events[i];

		if (strcmp(e->kind, "note") != 0)
			continue;
		fd_buf_reset(&line);
		if (fd_report_event_line(e->kind, e->details, &line))
			w->bad = 1;
		ws(w, "  ");
		w_ts(w, e->ts);
		wf(w, "  %s: %s\n", e->actor, line.s ? line.s : "");
	}

	wf(w, "\nAttachments (%zu)\n", v->natts);
	for (i = 0; i < v->natts; i++) {
		const struct fd_case_attachment *a = &v->atts[i];

		wf(w, "  #%lld %s  %lld bytes  sha256 %s  by %s at ", (long long)a->id, a->name, (long long)a->size,
		   a->sha256, a->added_by);
		w_ts(w, a->added_at);
		ws(w, "\n");
	}
	fd_buf_release(&line);
}

/* ---- SVG charts ------------------------------------------------------------------------------- */

/* A "nice" step (1, 2 or 5 times a power of ten) for about n ticks over span. */
static double nice_step(double span, int n)
{
	double raw, p, f;

	if (span <= 0)
		return 1;
	raw = span / n;
	p = pow(10, floor(log10(raw)));
	f = raw / p;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

static void svg_begin(struct w *w, int width, int height, const char *label)
{
	wf(w, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
	   " role=\"img\" aria-label=\"", width, height, width, height);
	wh(w, label);
	ws(w, "\" font-family=\"sans-serif\" font-size=\"11\">\n");
}

static void svg_text(struct w *w, double x, double y, const char *anchor, const char *extra, const char *s)
{
	wf(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s%s>", x, y, anchor, extra ? " " : "", extra ? extra : "");
	wh(w, s);
	ws(w, "</text>\n");
}

/* A y axis with gridlines from lo to hi in plot [x0,x1] x [y1 (top), y0 (bottom)]; returns the step. */
static void y_axis(struct w *w, double lo, double hi, double x0, double x1, double ytop, double ybot)
{
	double step = nice_step(hi - lo, 5), v;
	char lab[48];

	for (v = ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
		double y = ybot - (v - lo) / (hi - lo) * (ybot - ytop);

		wf(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e7eb\"/>\n", x0, y, x1, y);
		if (fabs(v) >= 1e6)
			snprintf(lab, sizeof(lab), "%.3gM", v / 1e6);
		else if (fabs(v) >= 1e4)
			snprintf(lab, sizeof(lab), "%.4gk", v / 1e3);
		else
			snprintf(lab, sizeof(lab), "%g", fabs(v) < step * 1e-9 ? 0 : v);
		svg_text(w, x0 - 6, y + 4, "end", "fill=\"#4b5563\"", lab);
	}
}

/* Amounts over time: one lollipop per stored transaction, coloured by risk level. */
static void chart_amounts(struct w *w, const struct fd_case_view *v)
{
	const int W = 720, H = 280, L = 70, R = 20, T = 20, B = 50;
	int64_t t0 = INT64_MAX, t1 = INT64_MIN;
	double lo = 0, hi = 0, base;
	size_t i, n = 0;
	char a[FD_TS_BUFSZ], b[FD_TS_BUFSZ];

	for (i = 0; i < v->ntxns; i++) {
		const struct fd_case_txn *t = &v->txns[i];
		double m;

		if (!t->stored)
			continue;
		n++;
		m = (double)t->amount / pow(10, t->exponent);
		if (t->ts < t0)
			t0 = t->ts;
		if (t->ts > t1)
			t1 = t->ts;
		if (m < lo)
			lo = m;
		if (m > hi)
			hi = m;
	}
	svg_begin(w, W, H, "amounts over time");
	if (n == 0) {
		svg_text(w, W / 2.0, H / 2.0, "middle", "fill=\"#6b7280\"", "no stored transactions");
		ws(w, "</svg>\n");
		return;
	}
	if (t1 == t0) {
		t0 -= 3600000;
		t1 += 3600000;
	}
	if (hi == lo)
		hi = lo + 1;
	{
		double step = nice_step(hi - lo, 5);

		hi = ceil(hi / step) * step;
		lo = floor(lo / step) * step;
	}
	y_axis(w, lo, hi, L, W - R, T, H - B);
	base = (H - B) - (0 - lo) / (hi - lo) * (H - B - T);
	wf(w, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#374151\"/>\n", L, base, W - R, base);
	for (i = 0; i < v->ntxns; i++) {
		const struct fd_case_txn *t = &v->txns[i];
		double x, y, m;

		if (!t->stored)
			continue;
		m = (double)t->amount / pow(10, t->exponent);
		x = L + (double)(t->ts - t0) / (double)(t1 - t0) * (W - L - R - 20) + 10;
		y = (H - B) - (m - lo) / (hi - lo) * (H - B - T);
		wf(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#6b7280\" stroke-width=\"2\"/>\n",
		   x, base, x, y);
		wf(w, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"><title>", x, y,
		   level_color(t->scored ? t->level : NULL));
		wh(w, t->txn_id);
		ws(w, " ");
		w_amount(w, t->amount, t->exponent, t->currency);
		ws(w, "</title></circle>\n");
		if (n <= 12)
			svg_text(w, x, y - 9, "middle", "fill=\"#111827\"", t->txn_id);
	}
	fd_format_ts(t0, a);
	fd_format_ts(t1, b);
	a[16] = b[16] = '\0';
	svg_text(w, L, H - B + 18, "start", "fill=\"#4b5563\"", a);
	svg_text(w, W - R, H - B + 18, "end", "fill=\"#4b5563\"", b);
	svg_text(w, (L + W - R) / 2.0, H - 8, "middle", "fill=\"#4b5563\"",
		 "time (UTC); amount in major units; colour: risk level (red HIGH, amber MEDIUM, green LOW, grey unscored)");
	ws(w, "</svg>\n");
}

/* ---- the entity neighbourhood ------------------------------------------------------------------ */

#define GRAPH_MAX_NODES 28

struct gnode {
	char kind[16];
	const char *key;   /* in the intern table */
	int core;          /* in the case */
	int role;          /* case role or -1 */
};

struct gedge {
	int a, b;
	const char *label; /* "pays" | "uses_device" | "uses_ip" | ... (static or interned) */
	int64_t count;
};

struct graph {
	struct fd_intern *ids;  /* "kind:key" -> node index */
	struct gnode n[GRAPH_MAX_NODES];
	size_t nn;
	struct gedge e[128];
	size_t ne;
	int64_t dropped;        /* neighbours not drawn */
};

/* The node for kind:key, added when there is room; -1 when absent and full (or no key). */
static int g_node(struct graph *g, const char *kind, const char *key, int core, int role)
{
	char id[1100];
	int64_t k;
	int n;

	if (!key || !*key)
		return -1;
	n = snprintf(id, sizeof(id), "%s:%s", kind, key);
	if (n < 0 || (size_t)n >= sizeof(id))
		return -1;
	k = fd_intern_find(g->ids, id, (size_t)n);
	if (k >= 0) {
		if (core)
			g->n[k].core = 1;
		if (role >= 0 && (g->n[k].role < 0 || role < g->n[k].role))
			g->n[k].role = role;
		return (int)k;
	}
	if (g->nn >= GRAPH_MAX_NODES) {
		g->dropped++;
		return -1;
	}
	if ((k = fd_intern_put(g->ids, id, (size_t)n, NULL)) < 0)
		return -1;
	snprintf(g->n[k].kind, sizeof(g->n[k].kind), "%s", kind);
	g->n[k].key = fd_intern_str(g->ids, (uint32_t)k, NULL) + strlen(kind) + 1;
	g->n[k].core = core;
	g->n[k].role = role;
	g->nn++;
	return (int)k;
}

static void g_edge(struct graph *g, int a, int b, const char *label, int64_t count)
{
	size_t i;

	if (a < 0 || b < 0 || a == b)
		return;
	for (i = 0; i < g->ne; i++)
		if (g->e[i].a == a && g->e[i].b == b && strcmp(g->e[i].label, label) == 0) {
			if (count > g->e[i].count)
				g->e[i].count = count;
			return;
		}
	if (g->ne < sizeof(g->e) / sizeof(g->e[0]))
		g->e[g->ne++] = (struct gedge){a, b, label, count};
}

static const char *kind_color(const char *kind)
{
	if (strcmp(kind, "account") == 0)
		return "#2563eb";
	if (strcmp(kind, "merchant") == 0)
		return "#d97706";
	if (strcmp(kind, "device") == 0)
		return "#7c3aed";
	return "#059669";
}

/* The case's entities and their 1-hop neighbours (entity_links and payments). */
static int build_graph(struct fd_store *st, const struct fd_case_view *v, struct graph *g, struct fd_err *err)
{
	struct fd_buf ids = FD_BUF_INIT, accts = FD_BUF_INIT;
	sqlite3_stmt *q = NULL;
	size_t i, ncore;
	int rc = FD_OK;

	for (i = 0; i < v->nents; i++)
		g_node(g, v->ents[i].kind, v->ents[i].key, 1, v->ents[i].role);
	for (i = 0; i < v->ntxns; i++) {
		const struct fd_case_txn *t = &v->txns[i];
		int s;

		if (!t->stored)
			continue;
		s = g_node(g, "account", t->sender, 1, -1);
		g_edge(g, s, g_node(g, "account", t->recipient, 1, -1), "pays", 1);
		g_edge(g, s, g_node(g, "merchant", t->merchant, 1, -1), "pays", 1);
		g_edge(g, s, g_node(g, "device", t->device, 1, -1), "uses_device", 1);
		g_edge(g, s, g_node(g, "ip", t->ip, 1, -1), "uses_ip", 1);
	}
	ncore = g->nn;
	/* entity ids of the core nodes, and the core accounts' keys */
	if (fd_buf_addc(&ids, '[') || fd_buf_addc(&accts, '['))
		goto nomem;
	if ((rc = fd_store_prepare(st, &q, "SELECT id FROM entities WHERE kind = ? AND key = ?", err)))
		goto out;
	for (i = 0; i < ncore; i++) {
		sqlite3_bind_text(q, 1, g->n[i].kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, g->n[i].key, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW &&
		    ((ids.len > 1 && fd_buf_addc(&ids, ',')) || fd_buf_add_i64(&ids, sqlite3_column_int64(q, 0))))
			goto nomem;
		sqlite3_reset(q);
		if (strcmp(g->n[i].kind, "account") == 0 &&
		    ((accts.len > 1 && fd_buf_addc(&accts, ',')) || fd_buf_add_json_str(&accts, g->n[i].key, strlen(g->n[i].key))))
			goto nomem;
	}
	sqlite3_finalize(q);
	q = NULL;
	if (fd_buf_addc(&ids, ']') || fd_buf_addc(&accts, ']'))
		goto nomem;

	/* shared devices and IPs: links touching a core entity, busiest first */
	if ((rc = fd_store_prepare(st, &q, "SELECT a.kind, a.key, b.kind, b.key, l.kind, l.txn_count FROM entity_links l"
				   " JOIN entities a ON a.id = l.src JOIN entities b ON b.id = l.dst"
				   " WHERE l.src IN (SELECT value FROM json_each(?1)) OR l.dst IN (SELECT value FROM json_each(?1))"
				   " ORDER BY l.txn_count DESC, l.id LIMIT 60", err)))
		goto out;
	sqlite3_bind_text(q, 1, ids.s, (int)ids.len, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *lk = (const char *)sqlite3_column_text(q, 4);
		const char *label = strcmp(lk, "uses_device") == 0 ? "uses_device" : strcmp(lk, "uses_ip") == 0 ? "uses_ip" : "link";
		int a = g_node(g, (const char *)sqlite3_column_text(q, 0), (const char *)sqlite3_column_text(q, 1), 0, -1);
		int b = g_node(g, (const char *)sqlite3_column_text(q, 2), (const char *)sqlite3_column_text(q, 3), 0, -1);

		g_edge(g, a, b, label, sqlite3_column_int64(q, 5));
	}
	sqlite3_finalize(q);
	q = NULL;
	/* counterparties of the core accounts */
	if ((rc = fd_store_prepare(st, &q, "SELECT sender_id, recipient_id, merchant_id, count(*) FROM transactions"
				   " WHERE sender_id IN (SELECT value FROM json_each(?1))"
				   " OR recipient_id IN (SELECT value FROM json_each(?1))"
				   " GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1, 2, 3 LIMIT 60", err)))
		goto out;
	sqlite3_bind_text(q, 1, accts.s, (int)accts.len, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		int s = g_node(g, "account", (const char *)sqlite3_column_text(q, 0), 0, -1);
		int64_t c = sqlite3_column_int64(q, 3);

		g_edge(g, s, g_node(g, "account", (const char *)sqlite3_column_text(q, 1), 0, -1), "pays", c);
		g_edge(g, s, g_node(g, "merchant", (const char *)sqlite3_column_text(q, 2), 0, -1), "pays", c);
	}
	goto out;
nomem:
	rc = fd_err_set(err, FD_EIO, "out of memory");
out:
	sqlite3_finalize(q);
	fd_buf_release(&ids);
	fd_buf_release(&accts);
	return rc;
}

static void chart_graph(struct w *w, const struct graph *g)
{
	const int W = 720, H = 520;
	const double cx = W / 2.0, cy = H / 2.0 - 10, r = 180;
	double x[GRAPH_MAX_NODES], y[GRAPH_MAX_NODES];
	size_t i;

	svg_begin(w, W, H, "entity neighbourhood");
	if (g->nn == 0) {
		svg_text(w, cx, cy, "middle", "fill=\"#6b7280\"", "no entities");
		ws(w, "</svg>\n");
		return;
	}
	for (i = 0; i < g->nn; i++) {
		double ang = -M_PI / 2 + 2 * M_PI * (double)i / (double)g->nn;

		x[i] = g->nn == 1 ? cx : cx + r * cos(ang);
		y[i] = g->nn == 1 ? cy : cy + r * sin(ang);
	}
	for (i = 0; i < g->ne; i++) {
		const struct gedge *e = &g->e[i];
		double sw = 1 + log10((double)(e->count > 0 ? e->count : 1)) * 1.5;

		wf(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%.1f\"%s>"
		   "<title>", x[e->a], y[e->a], x[e->b], y[e->b], strcmp(e->label, "pays") == 0 ? "#6b7280" : "#a78bfa", sw,
		   strcmp(e->label, "pays") == 0 ? "" : " stroke-dasharray=\"4 3\"");
		wh(w, g->n[e->a].key);
		wf(w, " %s ", e->label);
		wh(w, g->n[e->b].key);
		wf(w, " (%lld)</title></line>\n", (long long)e->count);
	}
	for (i = 0; i < g->nn; i++) {
		const struct gnode *n = &g->n[i];
		int right = x[i] >= cx;
		const char *stroke = n->role == FD_ER_SUSPECT ? "#dc2626" : n->core ? "#111827" : "#ffffff";

		wf(w, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\" stroke=\"%s\" stroke-width=\"%d\"><title>",
		   x[i], y[i], n->core ? 10 : 7, kind_color(n->kind), stroke, n->role == FD_ER_SUSPECT ? 4 : 2);
		wh(w, n->kind);
		ws(w, ":");
		wh(w, n->key);
		if (n->role >= 0)
			wf(w, " (%s)", fd_entity_role_name[n->role]);
		ws(w, "</title></circle>\n");
		svg_text(w, x[i] + (g->nn == 1 ? 0 : right ? 14 : -14), y[i] + (g->nn == 1 ? -16 : 4),
			 g->nn == 1 ? "middle" : right ? "start" : "end", n->core ? "font-weight=\"bold\"" : "fill=\"#374151\"",
			 n->key);
	}
	/* legend */
	{
		static const char *const kinds[4] = {"account", "merchant", "device", "ip"};
		int k;

		for (k = 0; k < 4; k++) {
			wf(w, "<circle cx=\"%d\" cy=\"%d\" r=\"6\" fill=\"%s\"/>\n", 20 + k * 110, H - 18, kind_color(kinds[k]));
			svg_text(w, 30 + k * 110, H - 14, "start", NULL, kinds[k]);
		}
		svg_text(w, W - 10, H - 14, "end", "fill=\"#4b5563\"",
			 "bold: in the case; red ring: suspect; dashed: uses device/IP");
	}
	ws(w, "</svg>\n");
}

/* ---- Markdown and HTML case reports ------------------------------------------------------------ */

static const char html_style[] =
	"<style>\n"
	"body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:24px auto;max-width:1180px;"
	"color:#111827;background:#f9fafb;padding:0 16px}\n"
	"h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb;"
	"padding-bottom:4px}\n"
	"table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}\n"
	"th,td{border:1px solid #e5e7eb;padding:5px 8px;text-align:left;vertical-align:top}\n"
	"th{background:#f3f4f6}td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
	".muted{color:#6b7280}.panel{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:12px;"
	"margin:8px 0}\n"
	".lvl{display:inline-block;padding:1px 6px;border-radius:4px;color:#fff;font-size:12px}\n"
	".cards{display:grid;grid-template-columns:repeat(4,1fr);gap:12px}\n"
	".card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:14px}\n"
	".card .label{color:#6b7280;font-size:13px}.card .value{font-size:28px;font-weight:600;margin-top:4px}\n"
	".card .sub{color:#6b7280;font-size:12px;margin-top:2px}\n"
	".grid2{display:grid;grid-template-columns:1fr 1fr;gap:12px}\n"
	"code{font-size:12px}\n"
	"</style>\n";

static void html_head(struct w *w, const char *title)
{
	ws(w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
	      "<title>");
	wh(w, title);
	ws(w, "</title>\n");
	ws(w, html_style);
	ws(w, "</head>\n<body>\n");
}

static void level_badge(struct w *w, const char *level)
{
	wf(w, "<span class=\"lvl\" style=\"background:%s\">", level_color(level));
	wh(w, level);
	ws(w, "</span>");
}

/* One row of the summary table, in either format. */
static void summary_row(struct w *w, int html, const char *k, const char *v)
{
	if (html) {
		wf(w, "<tr><th>%s</th><td>", k);
		wh(w, v);
		ws(w, "</td></tr>\n");
	} else {
		wf(w, "| %s | ", k);
		wm(w, v);
		ws(w, " |\n");
	}
}

static void doc_case(struct w *w, int html, const struct fd_case_view *v, const struct graph *g, int64_t now)
{
	const struct fd_case_summary *s = &v->s;
	struct fd_buf tmp = FD_BUF_INIT, title = FD_BUF_INIT;
	char ts[FD_TS_BUFSZ], num[64];
	size_t i, j;

	fd_buf_addf(&title, "Case %lld: %s", (long long)s->id, s->title);
	if (html) {
		html_head(w, title.s ? title.s : "");
		ws(w, "<h1>");
		wh(w, title.s);
		ws(w, "</h1>\n<p class=\"muted\">Case report generated ");
		w_ts(w, now);
		ws(w, " by fd-case. Self-contained: no network resources.</p>\n");
	} else {
		ws(w, "# ");
		wm(w, title.s);
		ws(w, "\n\nCase report generated ");
		w_ts(w, now);
		ws(w, " by fd-case.\n");
	}

	/* summary */
	ws(w, html ? "<h2>Summary</h2>\n<table id=\"summary\">\n" : "\n## Summary\n\n| Field | Value |\n|---|---|\n");
	summary_row(w, html, "Status", fd_case_status_name[s->status]);
	summary_row(w, html, "Priority", fd_case_priority_name[s->priority]);
	summary_row(w, html, "Assignee", or_dash(s->assignee));
	summary_row(w, html, "Origin", s->origin);
	if (s->suspect)
		summary_row(w, html, "Suspect", s->suspect);
	fd_buf_reset(&tmp);
	fd_buf_addf(&tmp, "%s by %s", fd_format_ts(s->created_at, ts), s->created_by);
	summary_row(w, html, "Created", tmp.s);
	summary_row(w, html, "Updated", fd_format_ts(s->updated_at, ts));
	if (s->closed_at)
		summary_row(w, html, "Closed", fd_format_ts(s->closed_at, ts));
	fd_buf_reset(&tmp);
	fd_case_format_amounts(s->stake, s->nstake, &tmp);
	fd_buf_addf(&tmp, " in %lld transaction%s", (long long)s->ntxns, s->ntxns == 1 ? "" : "s");
	summary_row(w, html, "Amount at stake", tmp.s);
	snprintf(num, sizeof(num), "%d", s->max_risk);
	summary_row(w, html, "Highest risk", s->max_risk >= 0 ? num : "not scored");
	snprintf(num, sizeof(num), "%zu", v->nents);
	summary_row(w, html, "Entities", num);
	if (s->description && *s->description)
		summary_row(w, html, "Description", s->description);
	ws(w, html ? "</table>\n" : "");

	/* timeline */
	if (html)
		ws(w, "<h2>Timeline</h2>\n<table id=\"timeline\">\n<tr><th>Time (UTC)</th><th>Actor</th><th>Event</th><th>Details</th></tr>\n");
	else
		ws(w, "\n## Timeline\n\n| Time (UTC) | Actor | Event | Details |\n|---|---|---|---|\n");
	for (i = 0; i < v->nevents; i++) {
		const struct fd_case_event *e = &v->events[i];

		fd_buf_reset(&tmp);
		fd_report_event_line(e->kind, e->details, &tmp);
		fd_format_ts(e->ts, ts);
		if (html) {
			wf(w, "<tr><td>%s</td><td>", ts);
			wh(w, e->actor);
			ws(w, "</td><td>");
			wh(w, e->kind);
			ws(w, "</td><td>");
			wh(w, tmp.s);
			ws(w, "</td></tr>\n");
		} else {
			wf(w, "| %s | ", ts);
			wm(w, e->actor);
			ws(w, " | ");
			wm(w, e->kind);
			ws(w, " | ");
			wm(w, tmp.s);
			ws(w, " |\n");
		}
	}
	ws(w, html ? "</table>\n" : "");

	/* transactions */
	if (html)
		ws(w, "<h2>Transactions</h2>\n<table id=\"txns\">\n<tr><th>Transaction</th><th>Time (UTC)</th>"
		      "<th>Amount</th><th>From</th><th>To</th><th>Risk</th><th>Decision</th><th>Label</th>"
		      "<th>Why included</th></tr>\n");
	else
		ws(w, "\n## Transactions\n\n| Transaction | Time (UTC) | Amount | From | To | Risk | Decision | Label | Why included |\n"
		      "|---|---|---:|---|---|---:|---|---|---|\n");
	for (i = 0; i < v->ntxns; i++) {
		const struct fd_case_txn *t = &v->txns[i];
		const char *to = t->recipient ? t->recipient : t->merchant;
		char amt[FD_AMOUNT_BUFSZ + 8];
		const char *label = t->label < 0 ? "-" : t->label ? "fraud" : "legitimate";

		if (t->stored) {
			char a[FD_AMOUNT_BUFSZ];

			snprintf(amt, sizeof(amt), "%s %s", fd_format_amount(t->amount, t->exponent, a), t->currency);
			fd_format_ts(t->ts, ts);
		} else {
			snprintf(amt, sizeof(amt), "-");
			snprintf(ts, sizeof(ts), "not in the store");
		}
		snprintf(num, sizeof(num), "%d", t->risk);
		if (html) {
			ws(w, "<tr><td><code>");
			wh(w, t->txn_id);
			wf(w, "</code></td><td>%s</td><td class=\"num\">", ts);
			wh(w, amt);
			ws(w, "</td><td>");
			wh(w, or_dash(t->sender));
			ws(w, "</td><td>");
			wh(w, or_dash(to));
			ws(w, "</td><td class=\"num\">");
			if (t->scored) {
				wf(w, "%d ", t->risk);
				level_badge(w, t->level);
			} else
				ws(w, "-");
			wf(w, "</td><td>%s</td><td>%s</td><td>", t->scored ? t->decision : "-", label);
			wh(w, t->reason);
			ws(w, "</td></tr>\n");
		} else {
			ws(w, "| ");
			wm(w, t->txn_id);
			wf(w, " | %s | %s | ", ts, amt);
			wm(w, or_dash(t->sender));
			ws(w, " | ");
			wm(w, or_dash(to));
			wf(w, " | %s | %s | %s | ", t->scored ? num : "-", t->scored ? t->decision : "-", label);
			wm(w, t->reason);
			ws(w, " |\n");
		}
	}
	ws(w, html ? "</table>\n" : "");

	/* charts */
	ws(w, html ? "<h2>Amounts over time</h2>\n<div class=\"panel\" id=\"amounts\">\n" : "\n## Amounts over time\n\n");
	chart_amounts(w, v);
	ws(w, html ? "</div>\n" : "\n");

	ws(w, html ? "<h2>Entity neighbourhood</h2>\n<div class=\"panel\" id=\"neighbourhood\">\n"
		   : "\n## Entity neighbourhood\n\n");
	chart_graph(w, g);
	if (g->dropped)
		wf(w, html ? "<p class=\"muted\">%lld more neighbours not drawn.</p>\n" : "\n%lld more neighbours not drawn.\n",
		   (long long)g->dropped);
	ws(w, html ? "</div>\n" : "\n");
	if (html)
		ws(w, "<table id=\"entities\">\n<tr><th>Entity</th><th>Role</th><th>Transactions</th><th>Note</th></tr>\n");
	else
		ws(w, "\n| Entity | Role | Transactions | Note |\n|---|---|---:|---|\n");
	for (i = 0; i < v->nents; i++) {
		const struct fd_case_entity *e = &v->ents[i];

		fd_buf_reset(&tmp);
		fd_buf_addf(&tmp, "%s:%s", e->kind, e->key);
		if (html) {
			ws(w, "<tr><td>");
			wh(w, tmp.s);
			wf(w, "</td><td>%s</td><td class=\"num\">%lld</td><td>", fd_entity_role_name[e->role], (long long)e->txn_count);
			wh(w, e->note);
			ws(w, "</td></tr>\n");
		} else {
			ws(w, "| ");
			wm(w, tmp.s);
			wf(w, " | %s | %lld | ", fd_entity_role_name[e->role], (long long)e->txn_count);
			wm(w, e->note);
			ws(w, " |\n");
		}
	}
	ws(w, html ? "</table>\n" : "");

	/* reasons behind each flag */
	ws(w, html ? "<h2>Why each transaction was flagged</h2>\n<div id=\"reasons\">\n"
		   : "\n## Why each transaction was flagged\n\n");
	for (i = 0, j = 0; i < v->ntxns; i++)
		j += v->txns[i].scored || v->txns[i].nhits;
	if (!j)
		ws(w, html ? "<p class=\"muted\">None of its transactions has a score or a rule hit.</p>\n"
			   : "None of its transactions has a score or a rule hit.\n");
	for (i = 0; i < v->ntxns; i++) {
		const struct fd_case_txn *t = &v->txns[i];

		if (!t->scored && !t->nhits)
			continue;
		if (html) {
			ws(w, "<div class=\"panel\"><strong><code>");
			wh(w, t->txn_id);
			ws(w, "</code></strong> ");
			if (t->scored) {
				wf(w, "risk %d ", t->risk);
				level_badge(w, t->level);
				wf(w, " %s <span class=\"muted\">(model ", t->decision);
				wh(w, t->model_version);
				ws(w, ")</span>");
			}
			ws(w, "\n<ul>\n");
			for (j = 0; j < t->nhits; j++) {
				ws(w, "<li>rule <code>");
				wh(w, t->hits[j].rule_id);
				wf(w, "</code> (+%lld points): ", (long long)t->hits[j].points);
				wh(w, t->hits[j].reason);
				ws(w, "</li>\n");
			}
			for (j = 0; j < t->nreasons; j++) {
				ws(w, "<li>");
				wh(w, t->reasons[j]);
				ws(w, "</li>\n");
			}
			ws(w, "</ul></div>\n");
		} else {
			ws(w, "### ");
			wm(w, t->txn_id);
			if (t->scored) {
				wf(w, ": risk %d, %s, %s (model ", t->risk, t->level, t->decision);
				wm(w, t->model_version);
				ws(w, ")");
			}
			ws(w, "\n\n");
			for (j = 0; j < t->nhits; j++) {
				ws(w, "- rule `");
				wm(w, t->hits[j].rule_id);
				wf(w, "` (+%lld points): ", (long long)t->hits[j].points);
				wm(w, t->hits[j].reason);
				ws(w, "\n");
			}
			for (j = 0; j < t->nreasons; j++) {
				ws(w, "- ");
				wm(w, t->reasons[j]);
				ws(w, "\n");
			}
			ws(w, "\n");
		}
	}
	ws(w, html ? "</div>\n" : "");

	/* evidence */
	if (v->natts) {
		if (html)
			ws(w, "<h2>Evidence</h2>\n<table id=\"evidence\">\n<tr><th>#</th><th>Name</th><th>Bytes</th>"
			      "<th>SHA-256</th><th>Added</th></tr>\n");
		else
			ws(w, "\n## Evidence\n\n| # | Name | Bytes | SHA-256 | Added |\n|---|---|---:|---|---|\n");
		for (i = 0; i < v->natts; i++) {
			const struct fd_case_attachment *a = &v->atts[i];

			fd_format_ts(a->added_at, ts);
			if (html) {
				wf(w, "<tr><td>%lld</td><td>", (long long)a->id);
				wh(w, a->name);
				wf(w, "</td><td class=\"num\">%lld</td><td><code>%s</code></td><td>%s by ", (long long)a->size,
				   a->sha256, ts);
				wh(w, a->added_by);
				ws(w, "</td></tr>\n");
			} else {
				wf(w, "| %lld | ", (long long)a->id);
				wm(w, a->name);
				wf(w, " | %lld | `%s` | %s by ", (long long)a->size, a->sha256, ts);
				wm(w, a->added_by);
				ws(w, " |\n");
			}
		}
		ws(w, html ? "</table>\n" : "");
	}
	ws(w, html ? "</body>\n</html>\n" : "");
	fd_buf_release(&tmp);
	fd_buf_release(&title);
}

int fd_report_case(struct fd_store *st, int64_t id, int format, int64_t now, struct fd_buf *out,
		   struct fd_err *err)
{
	struct fd_case_view *v = NULL;
	struct graph g;
	struct w w = {out, 0};
	int rc;

	memset(&g, 0, sizeof(g));
	if ((rc = fd_case_load(st, id, &v, err)))
		return rc;
	if (format == FD_REPORT_TEXT)
		text_case(&w, v);
	else {
		if (!(g.ids = fd_intern_create())) {
			rc = fd_err_set(err, FD_EIO, "out of memory");
			goto out;
		}
		if ((rc = build_graph(st, v, &g, err)))
			goto out;
		doc_case(&w, format == FD_REPORT_HTML, v, &g, now);
	}
	if (w.bad)
		rc = fd_err_set(err, FD_EIO, "out of memory");
out:
	fd_intern_free(g.ids);
	fd_case_view_free(v);
	return rc;
}

/* ---- the dashboard ------------------------------------------------------------------------------ */

/* The latest score of each transaction (SQLite's bare columns take their values from the row
 * where max() is found). */
#define LATEST "(SELECT txn_id, risk, level, decision, reasons, max(scored_at) AS scored_at FROM scores GROUP BY txn_id)"

struct day {
	int64_t day;        /* days since the epoch */
	int64_t n[4];       /* LOW, MEDIUM, HIGH, unscored */
};

static int level_index(const char *level)
{
	if (!level)
		return 3;
	if (strcmp(level, "LOW") == 0)
		return 0;
	if (strcmp(level, "MEDIUM") == 0)
		return 1;
	if (strcmp(level, "HIGH") == 0)
		return 2;
	return 3;
}

static void chart_days(struct w *w, const struct day *d, size_t n)
{
	static const char *const names[4] = {"LOW", "MEDIUM", "HIGH", "unscored"};
	static const char *const colors[4] = {"#16a34a", "#f59e0b", "#dc2626", "#9ca3af"};
	const int W = 1140, H = 300, L = 60, R = 20, T = 30, B = 50;
	double hi = 1, bw, x;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		double tot = (double)(d[i].n[0] + d[i].n[1] + d[i].n[2] + d[i].n[3]);

		if (tot > hi)
			hi = tot;
	}
	hi = ceil(hi / nice_step(hi, 5)) * nice_step(hi, 5);
	svg_begin(w, W, H, "transactions per day by risk level");
	if (n == 0) {
		svg_text(w, W / 2.0, H / 2.0, "middle", "fill=\"#6b7280\"", "no transactions");
		ws(w, "</svg>\n");
		return;
	}
	y_axis(w, 0, hi, L, W - R, T, H - B);
	bw = (double)(W - L - R) / (double)n;
	for (i = 0; i < n; i++) {
		double y = H - B;
		int64_t y0, day = d[i].day;
		unsigned mo, dd;

		x = L + bw * (double)i;
		for (k = 0; k < 4; k++) {
			double h = (double)d[i].n[k] / hi * (H - B - T);

			if (!d[i].n[k])
				continue;
			y -= h;
			wf(w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>", x + bw * 0.1, y,
			   bw * 0.8, h, colors[k]);
			fd_civil_from_days(day, &y0, &mo, &dd);
			wf(w, "%04lld-%02u-%02u %s: %lld</title></rect>\n", (long long)y0, mo, dd, names[k], (long long)d[i].n[k]);
		}
		if (n <= 16 || i % ((n + 15) / 16) == 0) {
			char lab[16];

			fd_civil_from_days(day, &y0, &mo, &dd);
			snprintf(lab, sizeof(lab), "%02u-%02u", mo, dd);
			svg_text(w, x + bw / 2, H - B + 16, "middle", "fill=\"#4b5563\"", lab);
		}
	}
	for (k = 0; k < 4; k++) {
		wf(w, "<rect x=\"%d\" y=\"8\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", L + k * 110, colors[k]);
		svg_text(w, L + 16 + k * 110, 18, "start", NULL, names[k]);
	}
	svg_text(w, (L + W - R) / 2.0, H - 12, "middle", "fill=\"#4b5563\"", "day (UTC), by the transactions' time");
	ws(w, "</svg>\n");
}

static void chart_hist(struct w *w, const int64_t bins[10])
{
	const int W = 560, H = 260, L = 60, R = 16, T = 16, B = 46;
	double hi = 1, bw = (double)(W - L - R) / 10;
	int i;

	for (i = 0; i < 10; i++)
		if ((double)bins[i] > hi)
			hi = (double)bins[i];
	hi = ceil(hi / nice_step(hi, 5)) * nice_step(hi, 5);
	svg_begin(w, W, H, "risk distribution");
	if (hi == 1 && bins[0] + bins[1] + bins[2] + bins[3] + bins[4] + bins[5] + bins[6] + bins[7] + bins[8] + bins[9] == 0)
		svg_text(w, (L + W - R) / 2.0, H / 2.0, "middle", "fill=\"#6b7280\"", "no scores yet");
	y_axis(w, 0, hi, L, W - R, T, H - B);
	for (i = 0; i < 10; i++) {
		double h = (double)bins[i] / hi * (H - B - T), x = L + bw * i;
		char lab[16];
		const char *c = i >= 7 ? "#dc2626" : i >= 4 ? "#f59e0b" : "#16a34a";

		wf(w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>risk %d-%d: %lld</title></rect>\n",
		   x + 2, H - B - h, bw - 4, h, c, i * 10, i == 9 ? 100 : i * 10 + 9, (long long)bins[i]);
		snprintf(lab, sizeof(lab), "%d", i * 10);
		svg_text(w, x, H - B + 14, "middle", "fill=\"#4b5563\"", lab);
	}
	svg_text(w, W - R, H - B + 14, "middle", "fill=\"#4b5563\"", "100");
	svg_text(w, (L + W - R) / 2.0, H - 10, "middle", "fill=\"#4b5563\"", "risk score (latest score of each transaction)");
	ws(w, "</svg>\n");
}

static void chart_status(struct w *w, const int64_t n[FD_CASE_NSTATUS])
{
	static const char *const colors[FD_CASE_NSTATUS] = {"#2563eb", "#7c3aed", "#dc2626", "#16a34a", "#6b7280"};
	const int W = 560, H = 260, L = 130, R = 60, T = 20, rowh = 46;
	double hi = 1;
	int i;

	for (i = 0; i < FD_CASE_NSTATUS; i++)
		if ((double)n[i] > hi)
			hi = (double)n[i];
	svg_begin(w, W, H, "cases by status");
	for (i = 0; i < FD_CASE_NSTATUS; i++) {
		double y = T + rowh * i, bwid = (double)n[i] / hi * (W - L - R);
		char lab[32];

		svg_text(w, L - 8, y + 22, "end", NULL, fd_case_status_name[i]);
		wf(w, "<rect x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"30\" fill=\"%s\"/>\n", L, y + 6, bwid, colors[i]);
		snprintf(lab, sizeof(lab), "%lld", (long long)n[i]);
		svg_text(w, L + bwid + 6, y + 26, "start", "font-size=\"13\"", lab);
	}
	ws(w, "</svg>\n");
}

static void card(struct w *w, const char *id, const char *label, int64_t value, const char *sub)
{
	wf(w, "<div class=\"card\" id=\"card-%s\" data-value=\"%lld\"><div class=\"label\">%s</div><div class=\"value\">",
	   id, (long long)value, label);
	w_int(w, value);
	ws(w, "</div><div class=\"sub\">");
	wh(w, sub);
	ws(w, "</div></div>\n");
}

int fd_report_dashboard(struct fd_store *st, int64_t now, struct fd_buf *out, struct fd_err *err)
{
	struct w w = {out, 0};
	sqlite3_stmt *q = NULL;
	struct day *days = NULL;
	size_t ndays = 0, cap = 0;
	int64_t ntx = 0, nflag = 0, nhigh = 0, nscored = 0, bins[10] = {0}, cases[FD_CASE_NSTATUS] = {0}, stake_n = 0;
	struct fd_case_amount *stake = NULL;
	size_t nstake = 0, cstake = 0;
	struct fd_buf tmp = FD_BUF_INIT;
	char ts[FD_TS_BUFSZ];
	int rc;

	if ((rc = fd_case_authorize(st, FD_CA_VIEW, "dashboard", err)))
		return rc;
#define PREP(sql) do { sqlite3_finalize(q); q = NULL; if ((rc = fd_store_prepare(st, &q, sql, err))) goto out; } while (0)
	PREP("SELECT count(*) FROM transactions");
	if (sqlite3_step(q) == SQLITE_ROW)
		ntx = sqlite3_column_int64(q, 0);
	PREP("SELECT count(*), sum(level IN ('MEDIUM', 'HIGH')), sum(level = 'HIGH') FROM " LATEST);
	if (sqlite3_step(q) == SQLITE_ROW) {
		nscored = sqlite3_column_int64(q, 0);
		nflag = sqlite3_column_int64(q, 1);
		nhigh = sqlite3_column_int64(q, 2);
	}
	PREP("SELECT min(risk / 10, 9), count(*) FROM " LATEST " GROUP BY 1");
	while (sqlite3_step(q) == SQLITE_ROW) {
		int b = sqlite3_column_int(q, 0);

		if (b >= 0 && b < 10)
			bins[b] = sqlite3_column_int64(q, 1);
	}
	PREP("SELECT status, count(*) FROM cases GROUP BY status");
	while (sqlite3_step(q) == SQLITE_ROW) {
		int s = fd_case_status_parse((const char *)sqlite3_column_text(q, 0));

		if (s >= 0)
			cases[s] = sqlite3_column_int64(q, 1);
	}
	PREP("SELECT currency, sum(amount), count(*) FROM transactions WHERE txn_id IN (SELECT ct.txn_id"
	     " FROM case_transactions ct JOIN cases c ON c.id = ct.case_id WHERE c.status IN ('OPEN', 'IN_PROGRESS'))"
	     " GROUP BY currency ORDER BY count(*) DESC, currency");
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct fd_case_amount *a;

		if (nstake == cstake) {
			size_t nc = cstake ? cstake * 2 : 4;
			void *p = realloc(stake, nc * sizeof(*stake));

			if (!p) {
				rc = fd_err_set(err, FD_EIO, "out of memory");
				goto out;
			}
			stake = p;
			cstake = nc;
		}
		a = &stake[nstake++];
		snprintf(a->currency, sizeof(a->currency), "%s", (const char *)sqlite3_column_text(q, 0));
		a->exponent = fd_currency_exponent(a->currency);
		if (a->exponent < 0)
			a->exponent = 2;
		a->minor = sqlite3_column_int64(q, 1);
		a->count = sqlite3_column_int64(q, 2);
		stake_n += a->count;
	}
	/* per day, the last 60 days that have transactions */
	PREP("SELECT d, lvl, n FROM (SELECT t.ts / 86400000 - (t.ts < 0 AND t.ts % 86400000 != 0) AS d, l.level AS lvl,"
	     " count(*) AS n FROM transactions t LEFT JOIN " LATEST " l ON l.txn_id = t.txn_id GROUP BY 1, 2)"
	     " WHERE d > (SELECT max(ts) / 86400000 FROM transactions) - 60 ORDER BY d");
	while (sqlite3_step(q) == SQLITE_ROW) {
		int64_t d = sqlite3_column_int64(q, 0);
		const char *lvl = (const char *)sqlite3_column_text(q, 1);

		if (!ndays || days[ndays - 1].day != d) {
			if (ndays == cap) {
				size_t nc = cap ? cap * 2 : 32;
				void *p = realloc(days, nc * sizeof(*days));

				if (!p) {
					rc = fd_err_set(err, FD_EIO, "out of memory");
					goto out;
				}
				days = p;
				cap = nc;
			}
			memset(&days[ndays], 0, sizeof(days[ndays]));
			days[ndays++].day = d;
		}
		days[ndays - 1].n[level_index(lvl)] += sqlite3_column_int64(q, 2);
	}

	html_head(&w, "fd dashboard");
	ws(&w, "<h1>Fraud detection dashboard</h1>\n<p class=\"muted\">Store <code>");
	wh(&w, fd_store_path(st));
	wf(&w, "</code>, generated %s by fd-case. Self-contained: no network resources.</p>\n", fd_format_ts(now, ts));

	ws(&w, "<div class=\"cards\">\n");
	fd_buf_reset(&tmp);
	fd_buf_addf(&tmp, "%lld scored", (long long)nscored);
	card(&w, "transactions", "Transactions", ntx, tmp.s);
	fd_buf_reset(&tmp);
	fd_buf_addf(&tmp, "%lld HIGH, %lld MEDIUM", (long long)nhigh, (long long)(nflag - nhigh));
	card(&w, "flagged", "Flagged (MEDIUM or HIGH)", nflag, tmp.s);
	fd_buf_reset(&tmp);
	fd_buf_addf(&tmp, "%lld in progress", (long long)cases[FD_CASE_IN_PROGRESS]);
	card(&w, "open-cases", "Open cases", cases[FD_CASE_OPEN] + cases[FD_CASE_IN_PROGRESS], tmp.s);
	/* amount at stake: the main currency large, all of them below */
	{
		char a[FD_AMOUNT_BUFSZ];

		wf(&w, "<div class=\"card\" id=\"card-stake\" data-value=\"%s\" data-currency=\"%s\"><div class=\"label\">"
		   "Amount at stake (open cases)</div><div class=\"value\">", nstake ? fd_format_amount(stake[0].minor, stake[0].exponent, a) : "0",
		   nstake ? stake[0].currency : "");
		if (nstake)
			wf(&w, "%s %s", fd_format_amount(stake[0].minor, stake[0].exponent, a), stake[0].currency);
		else
			ws(&w, "0");
		fd_buf_reset(&tmp);
		if (nstake > 1)
			fd_case_format_amounts(stake, nstake, &tmp);
		else
			fd_buf_addf(&tmp, "%lld transaction%s", (long long)stake_n, stake_n == 1 ? "" : "s");
		ws(&w, "</div><div class=\"sub\">");
		wh(&w, tmp.s);
		ws(&w, "</div></div>\n");
	}
	ws(&w, "</div>\n");

	ws(&w, "<h2>Transactions per day by risk level</h2>\n<div class=\"panel\" id=\"per-day\">\n");
	chart_days(&w, days, ndays);
	ws(&w, "</div>\n<div class=\"grid2\">\n<div><h2>Risk distribution</h2>\n<div class=\"panel\" id=\"risk-dist\">\n");
	chart_hist(&w, bins);
	ws(&w, "</div></div>\n<div><h2>Cases by status</h2>\n<div class=\"panel\" id=\"cases-status\">\n");
	chart_status(&w, cases);
	ws(&w, "</div></div>\n</div>\n");

	ws(&w, "<h2>Recent flagged transactions</h2>\n<table id=\"recent\">\n<tr><th>Time (UTC)</th><th>Transaction</th>"
	       "<th>Sender</th><th>Amount</th><th>Risk</th><th>Case</th><th>Top reason</th></tr>\n");
	PREP("SELECT l.txn_id, t.ts, t.amount, t.currency, t.sender_id, l.risk, l.level, l.reasons,"
	     " (SELECT min(case_id) FROM case_transactions ct WHERE ct.txn_id = l.txn_id)"
	     " FROM " LATEST " l LEFT JOIN transactions t ON t.txn_id = l.txn_id"
	     " WHERE l.level IN ('MEDIUM', 'HIGH') ORDER BY t.ts DESC, l.txn_id LIMIT 15");
	if (nflag == 0)
		ws(&w, "<tr><td colspan=\"7\" class=\"muted\">No flagged transactions.</td></tr>\n");
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *cur = (const char *)sqlite3_column_text(q, 3), *reasons = (const char *)sqlite3_column_text(q, 7);
		json_t *rj = reasons ? json_loads(reasons, 0, NULL) : NULL;
		const char *top = json_is_array(rj) && json_is_string(json_array_get(rj, 0)) ? json_string_value(json_array_get(rj, 0)) : "";
		int ex = cur ? fd_currency_exponent(cur) : 2;

		ws(&w, "<tr><td>");
		if (sqlite3_column_type(q, 1) != SQLITE_NULL)
			w_ts(&w, sqlite3_column_int64(q, 1));
		ws(&w, "</td><td><code>");
		wh(&w, (const char *)sqlite3_column_text(q, 0));
		ws(&w, "</code></td><td>");
		wh(&w, or_dash((const char *)sqlite3_column_text(q, 4)));
		ws(&w, "</td><td class=\"num\">");
		if (cur)
			w_amount(&w, sqlite3_column_int64(q, 2), ex < 0 ? 2 : ex, cur);
		wf(&w, "</td><td class=\"num\">%d ", sqlite3_column_int(q, 5));
		level_badge(&w, (const char *)sqlite3_column_text(q, 6));
		ws(&w, "</td><td>");
		if (sqlite3_column_type(q, 8) != SQLITE_NULL)
			wf(&w, "%lld", (long long)sqlite3_column_int64(q, 8));
		ws(&w, "</td><td>");
		wh(&w, top);
		ws(&w, "</td></tr>\n");
		json_decref(rj);
	}
	ws(&w, "</table>\n</body>\n</html>\n");
#undef PREP
	if (w.bad)
		rc = fd_err_set(err, FD_EIO, "out of memory");
out:
	sqlite3_finalize(q);
	free(days);
	free(stake);
	fd_buf_release(&tmp);
	return rc;
}
