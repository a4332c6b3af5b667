/* fd_report.c — see fd_report.h. */
#include "fd_report.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd_case.h"
#include "fd_intern.h"
#include "fd_num.h"
#include "fd_txn.h"
#include "banned.h"

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

/* A count with thousands separators: "1,234". */
static void w_int(struct w *w, int64_t v)
{
	char o[FD_NUM_BUFSZ];

	ws(w, fd_num_count(v, o));
}

/* An amount with thousands separators and its currency: "2,500.00 USD". */
static void w_amt(struct w *w, int64_t minor, int exponent, const char *cur)
{
	char a[FD_NUM_BUFSZ];

	ws(w, fd_num_amount(minor, exponent, a));
	ws(w, " ");
	wh(w, cur);
}

/* The UTC day of a time in ms (floor), and a day as "2026-03-01". */
static int64_t day_of(int64_t ms)
{
	return ms / FD_DAY_MS - (ms < 0 && ms % FD_DAY_MS != 0);
}

static char *day_str(int64_t day, char buf[16])
{
	int64_t y;
	unsigned m, d;

	fd_civil_from_days(day, &y, &m, &d);
	snprintf(buf, 16, "%04lld-%02u-%02u", (long long)y, m, d);
	return buf;
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
			wf(&w, " [%s transaction%s labelled %s]", FD_NUM(v), v == 1 ? "" : "s", lab ? "fraud" : "legitimate");
		}
		if (jint(d, "labels_withdrawn", &v) && v)
			wf(&w, " [%s label%s withdrawn]", FD_NUM(v), v == 1 ? "" : "s");
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
		wf(&w, "attached %s (%s bytes, sha256 %s)", jstr(d, "name") ? jstr(d, "name") : "?", FD_NUM(v),
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

		wf(&w, "%s new HIGH-risk transaction%s: ", FD_NUM(n), n == 1 ? "" : "s");
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
	if (fd_case_format_amounts(s->stake, s->nstake, 1, w->b))
		w->bad = 1;
	wf(w, " in %s transaction%s\n", FD_NUM(s->ntxns), s->ntxns == 1 ? "" : "s");
	if (s->max_risk >= 0)
		wf(w, "  max risk    %.2f\n", s->max_risk);
	if (s->description && *s->description)
		wf(w, "  description %s\n", s->description);

	wf(w, "\nTimeline (%s event%s)\n", FD_NUM(v->nevents), v->nevents == 1 ? "" : "s");
	for (i = 0; i < v->nevents; i++) {
		const struct fd_case_event *e = &v->events[i];

		fd_buf_reset(&line);
		if (fd_report_event_line(e->kind, e->details, &line))
			w->bad = 1;
		ws(w, "  ");
		w_ts(w, e->ts);
		wf(w, "  %-8s %-7s %s\n", e->actor, e->kind, line.s ? line.s : "");
	}

	wf(w, "\nTransactions (%s)\n", FD_NUM(v->ntxns));
	for (i = 0; i < v->ntxns; i++) {
		const struct fd_case_txn *t = &v->txns[i];

		wf(w, "  %s", t->txn_id);
		if (t->stored) {
			ws(w, "  ");
			w_ts(w, t->ts);
			ws(w, "  ");
			w_amt(w, t->amount, t->exponent, t->currency);
			wf(w, "  %s -> %s", t->sender, t->recipient ? t->recipient : t->merchant ? t->merchant : "-");
		} else
			ws(w, "  (not in the store)");
		if (t->scored)
			wf(w, "  risk %.2f %s %s", t->risk, t->level, t->decision);
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

	wf(w, "\nEntities (%s)\n", FD_NUM(v->nents));
	for (i = 0; i < v->nents; i++) {
		const struct fd_case_entity *e = &v->ents[i];

		wf(w, "  %-8s %s:%s  (%s transactions)", fd_entity_role_name[e->role], e->kind, e->key,
		   FD_NUM(e->txn_count));
		if (e->note && *e->note)
			wf(w, "  %s", e->note);
		ws(w, "\n");
	}

	wf(w, "\nNotes (%s)\n", FD_NUM(s->nnotes));
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

	wf(w, "\nAttachments (%s)\n", FD_NUM(v->natts));
	for (i = 0; i < v->natts; i++) {
		const struct fd_case_attachment *a = &v->atts[i];

		wf(w, "  #%lld %s  %s bytes  sha256 %s  by %s at ", (long long)a->id, a->name, FD_NUM(a->size),
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
		if (fabs(v) < step * 1e-9)
			v = 0;
		if (fabs(v) < 1e15 && v == floor(v))
			fd_num_count((int64_t)v, lab);
		else
			snprintf(lab, sizeof(lab), "%g", v);
		svg_text(w, x0 - 6, y + 4, "end", "fill=\"#4b5563\"", lab);
	}
}

struct box {
	double x0, y0, x1, y1;
};

static int box_hits(const struct box *b, const struct box *o, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b->x0 < o[i].x1 && o[i].x0 < b->x1 && b->y0 < o[i].y1 && o[i].y0 < b->y1)
			return 1;
	return 0;
}

/* The estimated box of a label at (x, y) (its baseline) with an anchor: 11 px sans-serif is
 * at most about 7 px a character (bold included); the box is kept a little larger. */
static struct box label_box(double x, double y, const char *anchor, size_t chars)
{
	double wd = 7.0 * (double)chars + 4;
	struct box b;

	b.x0 = strcmp(anchor, "start") == 0 ? x - 2 : strcmp(anchor, "end") == 0 ? x - wd + 2 : x - wd / 2;
	b.x1 = b.x0 + wd;
	b.y0 = y - 12;
	b.y1 = y + 4;
	return b;
}

/* Amounts over time: one lollipop per stored transaction, coloured by risk level. */
static void chart_amounts(struct w *w, const struct fd_case_view *v)
{
	const int W = 720, H = 280, L = 70, R = 20, T = 20, B = 50;
	int64_t t0 = INT64_MAX, t1 = INT64_MIN;
	double lo = 0, hi = 0, base;
	size_t i, n = 0, nlb = 0;
	char a[FD_TS_BUFSZ], b[FD_TS_BUFSZ];
	struct box lb[12];

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
		t0 -= FD_HOUR_MS;
		t1 += FD_HOUR_MS;
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
		w_amt(w, t->amount, t->exponent, t->currency);
		ws(w, "</title></circle>\n");
		if (n <= 12) {
			/* a label only where it meets no other one */
			struct box lbx = label_box(x, y - 9, "middle", strlen(t->txn_id));

			if (!box_hits(&lbx, lb, nlb)) {
				lb[nlb++] = lbx;
				svg_text(w, x, y - 9, "middle", "fill=\"#111827\"", t->txn_id);
			}
		}
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

/* Up to 18 bytes of s (not cutting a UTF-8 sequence), "..." when cut. */
static void short_label(char *o, size_t osz, const char *s)
{
	size_t n = strlen(s), cut = 18;

	if (n <= cut + 1) {
		snprintf(o, osz, "%s", s);
		return;
	}
	while (cut && ((unsigned char)s[cut] & 0xc0) == 0x80)
		cut--;
	snprintf(o, osz, "%.*s...", (int)cut, s);
}

/* The node at the centre: the case's suspect (an entity with role SUSPECT, else the auto
 * case's suspect), else the account that sent most of the case's transactions. */
static int graph_centre(const struct graph *g, const struct fd_case_view *v)
{
	size_t i, j;
	int best = -1;
	int64_t bestn = 0;

	for (i = 0; i < g->nn; i++)
		if (g->n[i].role == FD_ER_SUSPECT)
			return (int)i;
	if (v->s.suspect)
		for (i = 0; i < g->nn; i++) {
			size_t kl = strlen(g->n[i].kind);

			if (strncmp(v->s.suspect, g->n[i].kind, kl) == 0 && v->s.suspect[kl] == ':' &&
			    strcmp(v->s.suspect + kl + 1, g->n[i].key) == 0)
				return (int)i;
		}
	for (i = 0; i < g->nn; i++) {
		int64_t n = 0;

		if (strcmp(g->n[i].kind, "account") != 0)
			continue;
		for (j = 0; j < v->ntxns; j++)
			n += v->txns[j].stored && v->txns[j].sender && strcmp(v->txns[j].sender, g->n[i].key) == 0;
		if (n > bestn) {
			bestn = n;
			best = (int)i;
		}
	}
	return best >= 0 ? best : 0;
}

static void chart_graph(struct w *w, const struct graph *g, const struct fd_case_view *v)
{
	const int W = 760, H = 600;
	const double cx = W / 2.0, cy = H / 2.0 - 14;
	double x[GRAPH_MAX_NODES], y[GRAPH_MAX_NODES];
	struct box placed[2 * GRAPH_MAX_NODES];
	size_t i, np = 0, ninner = 0, nouter = 0, ki = 0, ko = 0;
	int c;

	svg_begin(w, W, H, "entity neighbourhood");
	if (g->nn == 0) {
		svg_text(w, cx, cy, "middle", "fill=\"#6b7280\"", "no entities");
		ws(w, "</svg>\n");
		return;
	}
	/* the centre, the rest of the case on an inner ring, the neighbours on an outer one */
	c = graph_centre(g, v);
	for (i = 0; i < g->nn; i++)
		if ((int)i != c)
			g->n[i].core ? ninner++ : nouter++;
	for (i = 0; i < g->nn; i++) {
		int inner = g->n[i].core || !nouter || !ninner;
		size_t k = inner ? ki++ : ko++, m = inner ? (ninner + (!nouter || !ninner ? nouter : 0)) : nouter;
		double r = inner && ninner && nouter ? 120 : 200, ang;

		if ((int)i == c) {
			x[i] = cx;
			y[i] = cy;
			if (inner)
				ki--;
			else
				ko--;
			continue;
		}
		/* the outer ring turned by half a step, so its nodes fall between the inner ones */
		ang = -M_PI / 2 + 2 * M_PI * ((double)k + (inner ? 0 : 0.5)) / (double)(m ? m : 1);
		x[i] = cx + r * cos(ang) * 1.1;
		y[i] = cy + r * sin(ang);
	}
	for (i = 0; i < g->nn; i++) {
		placed[np++] = (struct box){x[i] - 11, y[i] - 11, x[i] + 11, y[i] + 11};
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
		wf(w, " (%s)</title></line>\n", FD_NUM(e->count));
	}
	for (i = 0; i < g->nn; i++) {
		const struct gnode *n = &g->n[i];
		const char *stroke = n->role == FD_ER_SUSPECT ? "#dc2626" : n->core ? "#111827" : "#ffffff";
		char lab[64];
		double dx = x[i] - cx, dy = y[i] - cy, d = sqrt(dx * dx + dy * dy), ux = d > 0 ? dx / d : 0,
		       uy = d > 0 ? dy / d : 1, lx = x[i], ly = y[i];
		const char *anchor = "middle";
		struct box b = {0, 0, 0, 0};
		int t;

		wf(w, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\" stroke=\"%s\" stroke-width=\"%d\"%s><title>",
		   x[i], y[i], n->core ? 10 : 7, kind_color(n->kind), stroke, n->role == FD_ER_SUSPECT ? 4 : 2,
		   (int)i == c ? " class=\"centre\"" : "");
		wh(w, n->kind);
		ws(w, ":");
		wh(w, n->key);
		if (n->role >= 0)
			wf(w, " (%s)", fd_entity_role_name[n->role]);
		ws(w, "</title></circle>\n");
		short_label(lab, sizeof(lab), n->key);
		/* outward from the centre, further out (then sideways) until it meets no other label
		 * and no node */
		for (t = 0; t < 24; t++) {
			double off = 15 + 8 * (t / 3), side = (t % 3 == 0 ? 0 : t % 3 == 1 ? -1 : 1) * 14.0 * (1 + t / 6);

			anchor = ux > 0.35 ? "start" : ux < -0.35 ? "end" : "middle";
			lx = x[i] + ux * off - uy * side;
			ly = y[i] + uy * off + ux * side + (fabs(ux) > 0.35 ? 4 : uy > 0 ? 10 : 0);
			if ((int)i == c) {
				anchor = "middle";
				lx = x[i] + side * 3;
				ly = y[i] + 30 + 8 * (t / 3);
			}
			b = label_box(lx, ly, anchor, strlen(lab));
			if (!box_hits(&b, placed, np) && b.x0 >= 0 && b.x1 <= W && b.y0 >= 0 && b.y1 <= H - 30)
				break;
		}
		/* no clear place: at least inside the picture */
		if (b.x1 > W) {
			lx -= b.x1 - W;
			b.x0 -= b.x1 - W;
			b.x1 = W;
		}
		if (b.x0 < 0) {
			lx -= b.x0;
			b.x1 -= b.x0;
			b.x0 = 0;
		}
		placed[np++] = b;
		svg_text(w, lx, ly, anchor, n->core ? "class=\"node-label\" font-weight=\"bold\"" : "class=\"node-label\" fill=\"#374151\"",
			 lab);
	}
	/* legend */
	{
		static const char *const kinds[4] = {"account", "merchant", "device", "ip"};
		int k;

		for (k = 0; k < 4; k++) {
			wf(w, "<circle cx=\"%d\" cy=\"%d\" r=\"6\" fill=\"%s\"/>\n", 20 + k * 110, H - 18, kind_color(kinds[k]));
			svg_text(w, 30 + k * 110, H - 14, "start", NULL, kinds[k]);
		}
		svg_text(w, W - 10, H - 38, "end", "fill=\"#4b5563\"",
			 "centre: the suspect; bold: in the case; red ring: suspect; dashed: uses device/IP");
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
	"td.ts{white-space:nowrap;font-variant-numeric:tabular-nums}\n"
	".muted{color:#6b7280}.panel{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:12px;"
	"margin:8px 0}\n"
	".lvl{display:inline-block;padding:1px 6px;border-radius:4px;color:#fff;font-size:12px}\n"
	".cards{display:grid;grid-template-columns:repeat(4,1fr);gap:12px}\n"
	".card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:14px}\n"
	".card .label{color:#6b7280;font-size:13px}.card .value{font-size:28px;font-weight:600;margin-top:4px}\n"
	".card .sub{color:#6b7280;font-size:12px;margin-top:2px}\n"
	".grid2{display:grid;grid-template-columns:1fr 1fr;gap:12px}\n"
	"code{font-size:12px}\n"
	".range{color:#374151;font-size:12px;margin:6px 0 0}\n"
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

static int prep(struct fd_store *st, sqlite3_stmt **q, const char *sql, struct fd_err *err)
{
	sqlite3_finalize(*q);
	*q = NULL;
	return fd_store_prepare(st, q, sql, err);
}

/* What the case report reads besides the case view: each transaction's rule points (for the
 * contribution bars), each sender's amounts before the case (the baseline) and the audit
 * head and latest seal (for hand-over). */
struct base {
	char *sender;
	char currency[4];
	int exponent;
	int64_t *before, nbefore;   /* the sender's amounts in the currency before its first case transaction */
	int64_t *flagged, nflagged; /* its case transactions' amounts */
};

struct extra {
	int *rule_points;           /* per v->txns; -1 when not scored */
	struct base *b;
	size_t nb;
	int head, seal;
	int64_t head_seq, head_ts, seal_seq, sealed_at;
	char head_hash[65], seal_hash[65], seal_key[65], seal_sig[129], seal_actor[128];
};

static void extra_release(struct extra *x)
{
	size_t i;

	for (i = 0; i < x->nb; i++) {
		free(x->b[i].sender);
		free(x->b[i].before);
		free(x->b[i].flagged);
	}
	free(x->b);
	free(x->rule_points);
}

static int i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The median of n sorted values (the mean of the middle two, rounded down, when n is even). */
static int64_t median_of(const int64_t *v, int64_t n)
{
	if (n % 2)
		return v[n / 2];
	return v[n / 2 - 1] + (v[n / 2] - v[n / 2 - 1]) / 2;
}

static int push_i64(int64_t **v, int64_t *n, int64_t x)
{
	if ((*n & (*n - 1)) == 0) {  /* at 0, 1, 2, 4, ...: double */
		void *p = realloc(*v, (size_t)(*n ? *n * 2 : 1) * sizeof(**v));

		if (!p)
			return -1;
		*v = p;
	}
	(*v)[(*n)++] = x;
	return 0;
}

static int load_extra(struct fd_store *st, const struct fd_case_view *v, struct extra *x, struct fd_err *err)
{
	sqlite3_stmt *q = NULL;
	size_t i, j;
	int rc;

	if (!(x->rule_points = calloc(v->ntxns + 1, sizeof(int))))
		goto nomem;
	if ((rc = prep(st, &q, "SELECT rule_points FROM latest_scores WHERE txn_id = ?1", err)))
		goto out;
	for (i = 0; i < v->ntxns; i++) {
		sqlite3_reset(q);
		sqlite3_bind_text(q, 1, v->txns[i].txn_id, -1, SQLITE_STATIC);
		x->rule_points[i] = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : -1;
	}
	/* senders and currencies of the stored case transactions */
	for (i = 0; i < v->ntxns; i++) {
		const struct fd_case_txn *t = &v->txns[i];
		struct base *b = NULL;

		if (!t->stored || !t->sender)
			continue;
		for (j = 0; j < x->nb; j++)
			if (strcmp(x->b[j].sender, t->sender) == 0 && strcmp(x->b[j].currency, t->currency) == 0)
				b = &x->b[j];
		if (!b) {
			void *p = realloc(x->b, (x->nb + 1) * sizeof(*x->b));

			if (!p)
				goto nomem;
			x->b = p;
			b = &x->b[x->nb++];
			memset(b, 0, sizeof(*b));
			if (!(b->sender = strdup(t->sender)))
				goto nomem;
			snprintf(b->currency, sizeof(b->currency), "%s", t->currency);
			b->exponent = t->exponent;
		}
		if (push_i64(&b->flagged, &b->nflagged, t->amount))
			goto nomem;
	}
	if ((rc = prep(st, &q, "SELECT amount FROM transactions WHERE sender_id = ?1 AND currency = ?2 AND ts < ("
		       "SELECT min(t.ts) FROM case_transactions ct JOIN transactions t ON t.txn_id = ct.txn_id"
		       " WHERE ct.case_id = ?3 AND t.sender_id = ?1 AND t.currency = ?2)"
		       " AND txn_id NOT IN (SELECT txn_id FROM case_transactions WHERE case_id = ?3)", err)))
		goto out;
	for (j = 0; j < x->nb; j++) {
		struct base *b = &x->b[j];

		sqlite3_reset(q);
		sqlite3_bind_text(q, 1, b->sender, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, b->currency, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 3, v->s.id);
		while (sqlite3_step(q) == SQLITE_ROW)
			if (push_i64(&b->before, &b->nbefore, sqlite3_column_int64(q, 0)))
				goto nomem;
		if (b->nbefore)
			qsort(b->before, (size_t)b->nbefore, sizeof(int64_t), i64_cmp);
		qsort(b->flagged, (size_t)b->nflagged, sizeof(int64_t), i64_cmp);
	}
	if ((rc = prep(st, &q, "SELECT seq, hash, ts FROM audit_log ORDER BY seq DESC LIMIT 1", err)))
		goto out;
	if (sqlite3_step(q) == SQLITE_ROW) {
		x->head = 1;
		x->head_seq = sqlite3_column_int64(q, 0);
		snprintf(x->head_hash, sizeof(x->head_hash), "%s", (const char *)sqlite3_column_text(q, 1));
		x->head_ts = sqlite3_column_int64(q, 2);
	}
	if ((rc = prep(st, &q, "SELECT seq, head_hash, public_key, signature, sealed_at, actor FROM audit_seals"
		       " ORDER BY id DESC LIMIT 1", err)))
		goto out;
	if (sqlite3_step(q) == SQLITE_ROW) {
		x->seal = 1;
		x->seal_seq = sqlite3_column_int64(q, 0);
		snprintf(x->seal_hash, sizeof(x->seal_hash), "%s", (const char *)sqlite3_column_text(q, 1));
		snprintf(x->seal_key, sizeof(x->seal_key), "%s", (const char *)sqlite3_column_text(q, 2));
		snprintf(x->seal_sig, sizeof(x->seal_sig), "%s", (const char *)sqlite3_column_text(q, 3));
		x->sealed_at = sqlite3_column_int64(q, 4);
		snprintf(x->seal_actor, sizeof(x->seal_actor), "%s", (const char *)sqlite3_column_text(q, 5));
	}
	goto out;
nomem:
	rc = fd_err_set(err, FD_EIO, "out of memory");
out:
	sqlite3_finalize(q);
	return rc;
}

/* The 1-2-5 bin of a positive amount in minor units: bins [1, 2), [2, 5), [5, 10) times each
 * power of ten, numbered 3 per decade from 0 for [1, 2) minor units.  *lo and *hi get the
 * bin's edges in minor units. */
static int bin125(int64_t a, int64_t *lo, int64_t *hi)
{
	int64_t p = 1;
	int d = 0, m;

	while (a / p >= 10) {
		p *= 10;
		d++;
	}
	m = (int)(a / p);
	*lo = (m < 2 ? 1 : m < 5 ? 2 : 5) * p;
	*hi = m < 2 ? 2 * p : m < 5 ? 5 * p : 10 * p;  /* 10 * p: at most 10^19, see the caller */
	return 3 * d + (m < 2 ? 0 : m < 5 ? 1 : 2);
}

/* Edges in minor units of bin k (as numbered by bin125). */
static void bin125_edges(int k, double *lo, double *hi)
{
	static const double e[] = {1, 2, 5, 10};

	*lo = e[k % 3] * pow(10, k / 3);
	*hi = e[k % 3 + 1] * pow(10, k / 3);
}

/* One sender's amounts binned 1-2-5 on a log axis (1, 2, 5, 10, 20, 50, ... in the currency):
 * a row of grey bars for the transactions before the case, a row of red ones for the case's,
 * each bar as tall as its count against the row's largest, the count above it when it fits,
 * and the median before as a black line placed within its bin.  Zero and negative amounts
 * (reversals) have no bin and are left out. */
static void chart_base(struct w *w, const struct base *b)
{
	const int W = 720, H = 132, L = 90, R = 20, BAR = 36;
	const int base_y[2] = {56, 108};  /* bottom of the before row and of the case row */
	int kmin = INT_MAX, kmax = INT_MIN, nbin, k, row, step;
	int *cnt[2] = {NULL, NULL}, top[2] = {0, 0};
	int64_t i, lo, hi;
	double bw, sc = pow(10, b->exponent);
	char c[FD_NUM_BUFSZ], e1[FD_NUM_BUFSZ], e2[FD_NUM_BUFSZ];

	for (i = 0; i < b->nbefore + b->nflagged; i++) {
		int64_t a = i < b->nbefore ? b->before[i] : b->flagged[i - b->nbefore];

		/* above 10^18 the bin's upper edge would not fit in an int64_t */
		if (a > 0 && a < INT64_C(1000000000000000000)) {
			k = bin125(a, &lo, &hi);
			kmin = k < kmin ? k : kmin;
			kmax = k > kmax ? k : kmax;
		}
	}
	svg_begin(w, W, H, "amounts before the case and in it, in 1-2-5 bins on a log scale");
	if (kmin > kmax) {
		ws(w, "</svg>\n");
		return;
	}
	/* whole decades on the axis: from the decade of the smallest to the end of the largest's */
	kmin -= kmin % 3;
	kmax += 2 - kmax % 3;
	nbin = kmax - kmin + 1;
	bw = (double)(W - L - R) / nbin;
	if (!(cnt[0] = calloc((size_t)nbin, sizeof(int))) || !(cnt[1] = calloc((size_t)nbin, sizeof(int)))) {
		free(cnt[0]);
		free(cnt[1]);
		w->bad = 1;
		return;
	}
	for (i = 0; i < b->nbefore + b->nflagged; i++) {
		int fl = i >= b->nbefore;
		int64_t a = fl ? b->flagged[i - b->nbefore] : b->before[i];

		if (a > 0 && a < INT64_C(1000000000000000000)) {
			k = bin125(a, &lo, &hi) - kmin;
			if (++cnt[fl][k] > top[fl])
				top[fl] = cnt[fl][k];
		}
	}
	svg_text(w, L - 8, base_y[0] - 4, "end", "fill=\"#4b5563\"", "before");
	svg_text(w, L - 8, base_y[1] - 4, "end", "fill=\"#4b5563\"", "in the case");
	/* decade lines and labels, every step-th decade so that the labels keep 70 px apart */
	step = (int)ceil(70.0 / (3 * bw));
	for (k = 0; k <= nbin; k += 3) {
		double x = L + k * bw, elo, ehi;

		wf(w, "<line x1=\"%.1f\" y1=\"8\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e5e7eb\"/>\n", x, x, base_y[1]);
		if ((k / 3) % step)
			continue;
		bin125_edges(k + kmin, &elo, &ehi);
		if (elo / sc >= 1)
			fd_num_double(elo / sc, 0, c);
		else
			snprintf(c, sizeof(c), "%g", elo / sc);
		svg_text(w, x, base_y[1] + 16, "middle", "fill=\"#4b5563\"", c);
	}
	for (row = 0; row < 2; row++) {
		wf(w, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#9ca3af\"/>\n", L, base_y[row], W - R, base_y[row]);
		for (k = 0; k < nbin; k++) {
			double h, x = L + k * bw, elo, ehi;

			if (!cnt[row][k])
				continue;
			bin125_edges(k + kmin, &elo, &ehi);
			h = (double)BAR * cnt[row][k] / top[row];
			wf(w, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s %s, ",
			   row ? "flagged" : "before", x + 1, base_y[row] - h, bw - 2, h, row ? "#dc2626" : "#6b7280",
			   fd_num_count(cnt[row][k], c), row ? "in the case" : "before");
			wf(w, "%s to %s %s</title></rect>\n", fd_num_amount((int64_t)elo, b->exponent, e1),
			   fd_num_amount((int64_t)ehi, b->exponent, e2), b->currency);
			fd_num_count(cnt[row][k], c);
			if (bw >= 7.0 * strlen(c) + 4)
				svg_text(w, x + bw / 2, base_y[row] - h - 3, "middle", NULL, c);
		}
	}
	if (b->nbefore && median_of(b->before, b->nbefore) > 0 &&
	    median_of(b->before, b->nbefore) < INT64_C(1000000000000000000)) {
		int64_t m = median_of(b->before, b->nbefore);
		double x;

		k = bin125(m, &lo, &hi);
		x = L + (k - kmin) * bw + bw * (double)(m - lo) / (double)(hi - lo);
		wf(w, "<line class=\"median\" x1=\"%.1f\" y1=\"8\" x2=\"%.1f\" y2=\"%d\" stroke=\"#111827\" stroke-width=\"2\">"
		   "<title>median before: %s %s</title></line>\n", x, x, base_y[0], fd_num_amount(m, b->exponent, e1), b->currency);
	}
	free(cnt[0]);
	free(cnt[1]);
	ws(w, "</svg>\n");
}

/* The sender's normal amounts beside the flagged ones, in either format. */
static void doc_baseline(struct w *w, int html, const struct extra *x)
{
	size_t j;

	ws(w, html ? "<h2>The sender's usual amounts</h2>\n<div class=\"panel\" id=\"baseline\">\n<table id=\"baseline-table\">\n"
		     "<tr><th>Sender</th><th>Before the case</th><th>Median before</th><th>Largest before</th>"
		     "<th>In the case</th><th>Median in the case</th><th>Largest in the case</th><th>Largest / median before</th></tr>\n"
		   : "\n## The sender's usual amounts\n\n| Sender | Before the case | Median before | Largest before | In the case"
		     " | Median in the case | Largest in the case | Largest / median before |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (j = 0; j < x->nb; j++) {
		const struct base *b = &x->b[j];
		int64_t med = b->nbefore ? median_of(b->before, b->nbefore) : 0;
		char c[32];

		if (html) {
			ws(w, "<tr data-sender=\"");
			wh(w, b->sender);
			wf(w, "\" data-currency=\"%s\"><td>", b->currency);
			wh(w, b->sender);
			wf(w, "</td><td class=\"num\">%s</td><td class=\"num\">", fd_num_count(b->nbefore, c));
		} else {
			ws(w, "| ");
			wm(w, b->sender);
			wf(w, " | %s | ", fd_num_count(b->nbefore, c));
		}
		if (b->nbefore)
			w_amt(w, med, b->exponent, b->currency);
		else
			ws(w, "-");
		ws(w, html ? "</td><td class=\"num\">" : " | ");
		if (b->nbefore)
			w_amt(w, b->before[b->nbefore - 1], b->exponent, b->currency);
		else
			ws(w, "-");
		wf(w, html ? "</td><td class=\"num\">%s</td><td class=\"num\">" : " | %s | ", fd_num_count(b->nflagged, c));
		w_amt(w, median_of(b->flagged, b->nflagged), b->exponent, b->currency);
		ws(w, html ? "</td><td class=\"num\">" : " | ");
		w_amt(w, b->flagged[b->nflagged - 1], b->exponent, b->currency);
		ws(w, html ? "</td><td class=\"num\">" : " | ");
		if (b->nbefore && med > 0)
			wf(w, "%s×", fd_num_double((double)b->flagged[b->nflagged - 1] / (double)med, 1, (char[FD_NUM_BUFSZ]){0}));
		else
			ws(w, "-");
		ws(w, html ? "</td></tr>\n" : " |\n");
	}
	ws(w, html ? "</table>\n" : "\n");
	for (j = 0; j < x->nb; j++) {
		const struct base *b = &x->b[j];

		if (html) {
			ws(w, "<p><strong>");
			wh(w, b->sender);
			wf(w, "</strong>, %s: how many transactions in each range of amounts (1-2-5 bins, log scale),"
			   " grey before the case, red in it; the black line is the median before</p>\n", b->currency);
		} else {
			ws(w, "\n");
			wm(w, b->sender);
			wf(w, ", %s: how many transactions in each range of amounts (1-2-5 bins, log scale), grey before"
			   " the case, red in it; the black line is the median before\n\n", b->currency);
		}
		chart_base(w, b);
	}
	ws(w, html ? "<p class=\"muted\">Before the case: the sender's transactions in that currency before its first"
		     " transaction in the case, the case's own left out.</p>\n</div>\n"
		   : "\nBefore the case: the sender's transactions in that currency before its first transaction in the case.\n");
}

/* Per transaction: its risk split into rule points (at most the risk) and the model's part. */
static void doc_contrib(struct w *w, int html, const struct fd_case_view *v, const struct extra *x)
{
	const int W = 720, L = 150, rowh = 24;
	size_t i, n = 0, k = 0;

	for (i = 0; i < v->ntxns; i++)
		n += v->txns[i].scored && x->rule_points[i] >= 0;
	ws(w, html ? "<h2>What each transaction's risk came from</h2>\n<div class=\"panel\" id=\"contrib\">\n"
		   : "\n## What each transaction's risk came from\n\n");
	svg_begin(w, W, (int)(30 + rowh * (n ? n : 1)), "risk per transaction: model and rules");
	for (i = 0; i < v->ntxns; i++) {
		const struct fd_case_txn *t = &v->txns[i];
		double rp, mp, y;

		if (!t->scored || x->rule_points[i] < 0)
			continue;
		rp = x->rule_points[i] < 0 ? 0 : x->rule_points[i] < t->risk ? x->rule_points[i] : t->risk;
		mp = t->risk - rp;
		y = 6 + rowh * (double)k++;
		svg_text(w, L - 8, y + 13, "end", NULL, t->txn_id);
		wf(w, "<rect class=\"model\" x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"16\" fill=\"#7c3aed\"><title>",
		   L, y, mp * 4.5);
		wh(w, t->txn_id);
		wf(w, " model: %.2f</title></rect>\n", mp);
		wf(w, "<rect class=\"rules\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"16\" fill=\"#ea580c\"><title>",
		   L + mp * 4.5, y, rp * 4.5);
		wh(w, t->txn_id);
		wf(w, " rules: %.2f</title></rect>\n", rp);
		{
			char lab[64];

			snprintf(lab, sizeof(lab), "%.2f %s", t->risk, t->decision);
			svg_text(w, L + t->risk * 4.5 + 6, y + 13, "start", NULL, lab);
		}
	}
	wf(w, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"#7c3aed\"/>\n", L, (int)(12 + rowh * (n ? n : 1)));
	svg_text(w, L + 16, 22 + rowh * (double)(n ? n : 1), "start", NULL, "model");
	wf(w, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"#ea580c\"/>\n", L + 90, (int)(12 + rowh * (n ? n : 1)));
	svg_text(w, L + 106, 22 + rowh * (double)(n ? n : 1), "start", NULL, "rule points (at most the risk); risk 0-100, then the decision");
	ws(w, "</svg>\n");
	ws(w, html ? "</div>\n" : "\n");
}

/* The audit head and the latest seal, for hand-over. */
static void doc_handover(struct w *w, int html, const struct extra *x)
{
	char ts[FD_TS_BUFSZ], c[32];

	ws(w, html ? "<h2>Hand-over: audit head and seal</h2>\n<table id=\"handover\">\n"
		   : "\n## Hand-over: audit head and seal\n\n| Field | Value |\n|---|---|\n");
	if (x->head) {
		fd_format_ts(x->head_ts, ts);
		wf(w, html ? "<tr><th>Audit head</th><td>entry %s, %s</td></tr>\n<tr><th>Head hash</th><td><code>%s</code></td></tr>\n"
			   : "| Audit head | entry %s, %s |\n| Head hash | `%s` |\n", fd_num_count(x->head_seq, c), ts, x->head_hash);
	}
	if (x->seal) {
		fd_format_ts(x->sealed_at, ts);
		wf(w, html ? "<tr><th>Latest seal</th><td>entry %s, sealed %s by " : "| Latest seal | entry %s, sealed %s by ",
		   fd_num_count(x->seal_seq, c), ts);
		html ? wh(w, x->seal_actor) : wm(w, x->seal_actor);
		wf(w, html ? "; %s entries after it</td></tr>\n" : "; %s entries after it |\n", fd_num_count(x->head_seq - x->seal_seq, c));
		wf(w, html ? "<tr><th>Sealed hash</th><td><code>%s</code></td></tr>\n<tr><th>Public key (Ed25519)</th><td><code>%s</code></td></tr>\n"
			     "<tr><th>Signature</th><td><code>%s</code></td></tr>\n"
			   : "| Sealed hash | `%s` |\n| Public key (Ed25519) | `%s` |\n| Signature | `%s` |\n",
		   x->seal_hash, x->seal_key, x->seal_sig);
	} else
		ws(w, html ? "<tr><th>Latest seal</th><td>none: seal the chain (fd-audit seal) before hand-over</td></tr>\n"
			   : "| Latest seal | none: seal the chain (fd-audit seal) before hand-over |\n");
	ws(w, html ? "</table>\n<p class=\"muted\">The recipient checks the store with <code>fd-audit verify</code> and"
		     " compares the head hash and the seal with these.</p>\n"
		   : "\nThe recipient checks the store with `fd-audit verify` and compares the head hash and the seal with these.\n");
}

static void doc_case(struct w *w, int html, const struct fd_case_view *v, const struct graph *g,
		     const struct extra *x, int64_t now)
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
	fd_case_format_amounts(s->stake, s->nstake, 1, &tmp);
	fd_buf_addf(&tmp, " in %s transaction%s", FD_NUM(s->ntxns), s->ntxns == 1 ? "" : "s");
	summary_row(w, html, "Amount at stake", tmp.s);
	snprintf(num, sizeof(num), "%.2f", s->max_risk);
	summary_row(w, html, "Highest risk", s->max_risk >= 0 ? num : "not scored");
	fd_num_count((int64_t)v->nents, num);
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
			wf(w, "<tr><td class=\"ts\">%s</td><td>", ts);
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
			char a[FD_NUM_BUFSZ];

			snprintf(amt, sizeof(amt), "%s %s", fd_num_amount(t->amount, t->exponent, a), t->currency);
			fd_format_ts(t->ts, ts);
		} else {
			snprintf(amt, sizeof(amt), "-");
			snprintf(ts, sizeof(ts), "not in the store");
		}
		snprintf(num, sizeof(num), "%.2f", t->risk);
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
				wf(w, "%.2f ", t->risk);
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

	doc_contrib(w, html, v, x);
	doc_baseline(w, html, x);

	/* charts */
	ws(w, html ? "<h2>Amounts over time</h2>\n<div class=\"panel\" id=\"amounts\">\n" : "\n## Amounts over time\n\n");
	chart_amounts(w, v);
	ws(w, html ? "</div>\n" : "\n");

	ws(w, html ? "<h2>Entity neighbourhood</h2>\n<div class=\"panel\" id=\"neighbourhood\">\n"
		   : "\n## Entity neighbourhood\n\n");
	chart_graph(w, g, v);
	if (g->dropped)
		wf(w, html ? "<p class=\"muted\">%s more neighbours not drawn.</p>\n" : "\n%s more neighbours not drawn.\n",
		   FD_NUM(g->dropped));
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
			wf(w, "</td><td>%s</td><td class=\"num\">%s</td><td>", fd_entity_role_name[e->role], FD_NUM(e->txn_count));
			wh(w, e->note);
			ws(w, "</td></tr>\n");
		} else {
			ws(w, "| ");
			wm(w, tmp.s);
			wf(w, " | %s | %s | ", fd_entity_role_name[e->role], FD_NUM(e->txn_count));
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
				wf(w, "risk %.2f ", t->risk);
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
				wf(w, ": risk %.2f, %s, %s (model ", t->risk, t->level, t->decision);
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
				wf(w, "</td><td class=\"num\">%s</td><td><code>%s</code></td><td>%s by ", FD_NUM(a->size),
				   a->sha256, ts);
				wh(w, a->added_by);
				ws(w, "</td></tr>\n");
			} else {
				wf(w, "| %lld | ", (long long)a->id);
				wm(w, a->name);
				wf(w, " | %s | `%s` | %s by ", FD_NUM(a->size), a->sha256, ts);
				wm(w, a->added_by);
				ws(w, " |\n");
			}
		}
		ws(w, html ? "</table>\n" : "");
	}
	doc_handover(w, html, x);
	ws(w, html ? "</body>\n</html>\n" : "");
	fd_buf_release(&tmp);
	fd_buf_release(&title);
}

int fd_report_case(struct fd_store *st, int64_t id, int format, int64_t now, struct fd_buf *out,
		   struct fd_err *err)
{
	struct fd_case_view *v = NULL;
	struct graph g;
	struct extra x;
	struct w w = {out, 0};
	int rc;

	memset(&g, 0, sizeof(g));
	memset(&x, 0, sizeof(x));
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
		if ((rc = load_extra(st, v, &x, err)))
			goto out;
		doc_case(&w, format == FD_REPORT_HTML, v, &g, &x, now);
	}
	if (w.bad)
		rc = fd_err_set(err, FD_EIO, "out of memory");
out:
	extra_release(&x);
	fd_intern_free(g.ids);
	fd_case_view_free(v);
	return rc;
}

/* ---- the dashboard ------------------------------------------------------------------------------ */

/* The latest score of each transaction: the schema's view, the one meaning of a transaction's
 * risk (fd_schema_latest.c). */
#define LATEST "latest_scores"

/* Every chart states the dates it covers: "Dates: 2026-03-01 to 2026-04-01 (UTC), by ...". */
static void w_range(struct w *w, const char *id, int have, int64_t t0, int64_t t1, const char *basis)
{
	char a[16], b[16];

	wf(w, "<p class=\"range\" id=\"range-%s\"", id);
	if (have)
		wf(w, " data-from=\"%s\" data-to=\"%s\">Dates: %s to %s (UTC), ", day_str(day_of(t0), a),
		   day_str(day_of(t1), b), a, b);
	else
		ws(w, ">Dates: none (no data yet); ");
	wh(w, basis);
	ws(w, ".</p>\n");
}

/* min and max of the query's two columns (the first row); 0 when they are NULL. */
static int range_of(struct fd_store *st, const char *sql, int64_t *t0, int64_t *t1, int *have, struct fd_err *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	*have = 0;
	if ((rc = fd_store_prepare(st, &q, sql, err)))
		return rc;
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
		*t0 = sqlite3_column_int64(q, 0);
		*t1 = sqlite3_column_int64(q, 1);
		*have = 1;
	}
	sqlite3_finalize(q);
	return FD_OK;
}

struct day {
	int64_t day;        /* days since the epoch */
	int64_t n[4];       /* LOW, MEDIUM, HIGH, unscored; or alerts, opened, closed */
};

static int day_push(struct day **d, size_t *n, size_t *cap, int64_t day)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		void *p = realloc(*d, nc * sizeof(**d));

		if (!p)
			return -1;
		*d = p;
		*cap = nc;
	}
	memset(&(*d)[*n], 0, sizeof(**d));
	(*d)[(*n)++].day = day;
	return 0;
}

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

/* Bars per day, k series side by side (grouped) or on top of each other (stacked). */
static void chart_bars(struct w *w, const char *label, const struct day *d, size_t n, int k,
		       const char *const *names, const char *const *colors, int stacked, const char *xlabel)
{
	const int W = 1140, H = 300, L = 70, R = 20, T = 30, B = 50;
	double hi = 1, bw, x;
	size_t i;
	int j;

	for (i = 0; i < n; i++) {
		double tot = 0;

		for (j = 0; j < k; j++)
			tot = stacked ? tot + (double)d[i].n[j] : fmax(tot, (double)d[i].n[j]);
		if (tot > hi)
			hi = tot;
	}
	hi = ceil(hi / nice_step(hi, 5)) * nice_step(hi, 5);
	svg_begin(w, W, H, label);
	if (n == 0) {
		svg_text(w, W / 2.0, H / 2.0, "middle", "fill=\"#6b7280\"", "no data");
		ws(w, "</svg>\n");
		return;
	}
	y_axis(w, 0, hi, L, W - R, T, H - B);
	bw = (double)(W - L - R) / (double)n;
	for (i = 0; i < n; i++) {
		double y = H - B;
		char ds[16], c[32];

		x = L + bw * (double)i;
		day_str(d[i].day, ds);
		for (j = 0; j < k; j++) {
			double h = (double)d[i].n[j] / hi * (H - B - T), gx, gw;

			if (!d[i].n[j])
				continue;
			if (stacked) {
				y -= h;
				gx = x + bw * 0.1;
				gw = bw * 0.8;
			} else {
				gw = bw * 0.8 / k;
				gx = x + bw * 0.1 + gw * j;
				y = H - B - h;
			}
			wf(w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s %s: %s</title></rect>\n",
			   gx, y, gw, h, colors[j], ds, names[j], fd_num_count(d[i].n[j], c));
		}
		if (n <= 16 || i % ((n + 15) / 16) == 0)
			svg_text(w, x + bw / 2, H - B + 16, "middle", "fill=\"#4b5563\"", ds + 5);
	}
	for (j = 0; j < k; j++) {
		wf(w, "<rect x=\"%d\" y=\"8\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", L + j * 130, colors[j]);
		svg_text(w, L + 16 + j * 130, 18, "start", NULL, names[j]);
	}
	svg_text(w, (L + W - R) / 2.0, H - 12, "middle", "fill=\"#4b5563\"", xlabel);
	ws(w, "</svg>\n");
}

/* The risk distribution: 20 bins of 5 points on a log count scale, the level thresholds marked. */
static void chart_risk(struct w *w, const int64_t bins[20], double med, double high, const char *model)
{
	const int W = 560, H = 290, L = 60, R = 16, T = 34, B = 46;
	const double pw = W - L - R, lo = 0.5;
	double hi = 10, ly;
	int64_t mx = 0;
	int i;
	char c[32], lab[96];

	for (i = 0; i < 20; i++)
		if (bins[i] > mx)
			mx = bins[i];
	while (hi < (double)mx)
		hi *= 10;
	ly = log10(hi / lo);
	svg_begin(w, W, H, "risk distribution, log scale");
	for (double v = 1; v <= hi; v *= 10) {
		double y = (H - B) - log10(v / lo) / ly * (H - B - T);

		wf(w, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e5e7eb\"/>\n", L, y, W - R, y);
		svg_text(w, L - 6, y + 4, "end", "fill=\"#4b5563\"", fd_num_count((int64_t)v, c));
	}
	if (!mx)
		svg_text(w, L + pw / 2, H / 2.0, "middle", "fill=\"#6b7280\"", "no scores yet");
	for (i = 0; i < 20; i++) {
		double x = L + pw * i / 20.0, h = bins[i] ? log10((double)bins[i] / lo) / ly * (H - B - T) : 0;
		const char *col = high >= 0 && i * 5 >= high ? "#dc2626" : med >= 0 && i * 5 >= med ? "#f59e0b" : "#16a34a";

		char top[16];

		snprintf(top, sizeof(top), "%d", i * 5 + 4);
		wf(w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>risk %d-%s%s: %s</title></rect>\n",
		   x + 1, H - B - h, pw / 20 - 2, h, col, i * 5, i == 19 ? "100" : top, i == 19 ? "" : ".99", fd_num_count(bins[i], c));
		if (i % 2 == 0) {
			snprintf(lab, sizeof(lab), "%d", i * 5);
			svg_text(w, x, H - B + 14, "middle", "fill=\"#4b5563\"", lab);
		}
	}
	svg_text(w, W - R, H - B + 14, "middle", "fill=\"#4b5563\"", "100");
	for (i = 0; i < 2; i++) {
		double t = i ? high : med;
		double x = L + pw * t / 100.0;

		if (t < 0)
			continue;
		wf(w, "<line class=\"threshold\" data-level=\"%s\" data-risk=\"%.2f\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\""
		   " stroke=\"%s\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>\n", i ? "HIGH" : "MEDIUM", t, x, T - 14, x,
		   H - B, i ? "#991b1b" : "#b45309");
		snprintf(lab, sizeof(lab), i ? "HIGH from %.2f" : "MEDIUM from %.2f", t);
		/* MEDIUM's label to the left of its line, HIGH's to the right: they cannot overlap.  A
		 * label that would stick out of the chart (about 6.5 px a character at 11 px) goes to
		 * the other side of its line, one row lower, clear of the other label's row. */
		{
			double est = 6.5 * (double)strlen(lab);
			int flip = i ? x + 4 + est > W - 2 : x - 4 - est < 2;
			int right = i ? !flip : flip;

			svg_text(w, x + (right ? 4 : -4), flip ? T - 5 : T - 18, right ? "start" : "end",
				 i ? "fill=\"#991b1b\"" : "fill=\"#b45309\"", lab);
		}
	}
	snprintf(lab, sizeof(lab), "risk score (latest score of each transaction); count on a log scale");
	svg_text(w, L + pw / 2, H - 10, "middle", "fill=\"#4b5563\"", lab);
	(void)model;
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
		svg_text(w, L + bwid + 6, y + 26, "start", "font-size=\"13\"", fd_num_count(n[i], lab));
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

/* An inline bar for a table cell: share 0-1 of 120 px. */
static void cell_bar(struct w *w, double share, const char *color)
{
	if (!(share >= 0))
		share = 0;
	if (share > 1)
		share = 1;
	wf(w, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"120\" height=\"10\" role=\"img\" aria-label=\"%.1f%%\">"
	   "<rect width=\"120\" height=\"10\" fill=\"#f3f4f6\"/><rect width=\"%.1f\" height=\"10\" fill=\"%s\"/></svg>",
	   100 * share, 120 * share, color);
}

static void w_pct(struct w *w, int64_t num, int64_t den)
{
	if (den > 0)
		wf(w, "%.1f%%", 100.0 * (double)num / (double)den);
	else
		ws(w, "&#8211;");
}

/* The model and rule versions behind the scores and hits in the store. */
static int dash_versions(struct w *w, struct fd_store *st, char *model, size_t msz, struct fd_err *err)
{
	sqlite3_stmt *q = NULL;
	char ts[FD_TS_BUFSZ], c[32];
	int rc, rows = 0;

	*model = '\0';
	ws(w, "<h2>Models and rules</h2>\n<table id=\"versions\">\n<tr><th>Kind</th><th>Version</th><th>Used for</th>"
	      "<th>Last used (UTC)</th><th>Note</th></tr>\n");
	if ((rc = prep(st, &q, "SELECT l.model_version, count(*), max(l.scored_at), coalesce(m.promoted, 0), m.trained_at"
		       " FROM " LATEST " l LEFT JOIN models m ON m.version = l.model_version"
		       " GROUP BY l.model_version ORDER BY count(*) DESC, l.model_version", err)))
		goto out;
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *ver = (const char *)sqlite3_column_text(q, 0);

		if (!rows++)
			snprintf(model, msz, "%s", ver);
		ws(w, "<tr data-kind=\"model\"><td>model</td><td><code>");
		wh(w, ver);
		wf(w, "</code></td><td>%s latest score%s</td><td>%s</td><td>", fd_num_count(sqlite3_column_int64(q, 1), c),
		   sqlite3_column_int64(q, 1) == 1 ? "" : "s", fd_format_ts(sqlite3_column_int64(q, 2), ts));
		if (sqlite3_column_int(q, 3))
			ws(w, "promoted; ");
		if (sqlite3_column_type(q, 4) != SQLITE_NULL)
			wf(w, "trained %s", fd_format_ts(sqlite3_column_int64(q, 4), ts));
		else
			ws(w, "not registered in the store");
		ws(w, "</td></tr>\n");
	}
	if ((rc = prep(st, &q, "SELECT ruleset, 'fd-rules', min(rules_file), count(*), max(started_at) FROM rule_runs GROUP BY ruleset"
		       " UNION ALL SELECT ruleset, 'fd-score', NULL, count(*), max(started_at) FROM score_runs"
		       " WHERE ruleset IS NOT NULL GROUP BY ruleset ORDER BY 5 DESC, 1, 2", err)))
		goto out;
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *set = (const char *)sqlite3_column_text(q, 0);

		rows++;
		ws(w, "<tr data-kind=\"rules\"><td>rules</td><td><code title=\"");
		wh(w, set);
		wf(w, "\">%.12s</code></td><td>%s ", set, fd_num_count(sqlite3_column_int64(q, 3), c));
		wh(w, (const char *)sqlite3_column_text(q, 1));
		wf(w, " run%s</td><td>%s</td><td>", sqlite3_column_int64(q, 3) == 1 ? "" : "s",
		   fd_format_ts(sqlite3_column_int64(q, 4), ts));
		if (sqlite3_column_type(q, 2) != SQLITE_NULL) {
			ws(w, "file ");
			wh(w, (const char *)sqlite3_column_text(q, 2));
		} else
			ws(w, "rules file SHA-256, as fd-score recorded it");
		ws(w, "</td></tr>\n");
	}
	if (!rows)
		ws(w, "<tr><td colspan=\"5\" class=\"muted\">No scores or rule runs yet.</td></tr>\n");
	ws(w, "</table>\n");
out:
	sqlite3_finalize(q);
	return rc;
}

/* Transactions per day by level (by their time), and alerts, cases opened and closed per day
 * (by when it happened). */
static int dash_days(struct w *w, struct fd_store *st, struct fd_err *err)
{
	static const char *const lnames[4] = {"LOW", "MEDIUM", "HIGH", "unscored"};
	static const char *const lcolors[4] = {"#16a34a", "#f59e0b", "#dc2626", "#9ca3af"};
	static const char *const anames[3] = {"alerts", "cases opened", "cases closed"};
	static const char *const acolors[3] = {"#f59e0b", "#2563eb", "#16a34a"};
	sqlite3_stmt *q = NULL;
	struct day *d = NULL;
	size_t n = 0, cap = 0;
	int rc, have;
	int64_t t0 = 0, t1 = 0;

	/* per day, the last 60 days that have transactions */
	if ((rc = prep(st, &q, "SELECT d, lvl, n FROM (SELECT t.ts / 86400000 - (t.ts < 0 AND t.ts % 86400000 != 0) AS d,"
		       " l.level AS lvl, count(*) AS n FROM transactions t LEFT JOIN " LATEST " l ON l.txn_id = t.txn_id"
		       " GROUP BY 1, 2) WHERE d > (SELECT max(ts) / 86400000 FROM transactions) - 60 ORDER BY d", err)))
		goto out;
	while (sqlite3_step(q) == SQLITE_ROW) {
		int64_t day = sqlite3_column_int64(q, 0);

		if ((!n || d[n - 1].day != day) && day_push(&d, &n, &cap, day))
			goto nomem;
		d[n - 1].n[level_index((const char *)sqlite3_column_text(q, 1))] += sqlite3_column_int64(q, 2);
	}
	ws(w, "<h2>Transactions per day by risk level</h2>\n<div class=\"panel\" id=\"per-day\">\n");
	chart_bars(w, "transactions per day by risk level", d, n, 4, lnames, lcolors, 1, "day (UTC), by the transactions' time");
	if (n) {
		t0 = d[0].day * FD_DAY_MS;
		t1 = d[n - 1].day * FD_DAY_MS;
	}
	w_range(w, "per-day", n > 0, t0, t1, "by the transactions' time; the last 60 days with transactions");
	ws(w, "</div>\n");

	n = 0;
	if ((rc = prep(st, &q, "SELECT d, sum(a), sum(o), sum(c) FROM ("
		       " SELECT scored_at / 86400000 AS d, 1 AS a, 0 AS o, 0 AS c FROM " LATEST " WHERE level IN ('MEDIUM', 'HIGH')"
		       " UNION ALL SELECT created_at / 86400000, 0, 1, 0 FROM cases"
		       " UNION ALL SELECT closed_at / 86400000, 0, 0, 1 FROM cases WHERE closed_at IS NOT NULL)"
		       " GROUP BY d ORDER BY d DESC LIMIT 60", err)))
		goto out;
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (day_push(&d, &n, &cap, sqlite3_column_int64(q, 0)))
			goto nomem;
		d[n - 1].n[0] = sqlite3_column_int64(q, 1);
		d[n - 1].n[1] = sqlite3_column_int64(q, 2);
		d[n - 1].n[2] = sqlite3_column_int64(q, 3);
	}
	for (size_t i = 0; i < n / 2; i++) {  /* oldest first */
		struct day x = d[i];

		d[i] = d[n - 1 - i];
		d[n - 1 - i] = x;
	}
	ws(w, "<h2>Alerts and cases per day</h2>\n<div class=\"panel\" id=\"activity\">\n");
	chart_bars(w, "alerts, cases opened and cases closed per day", d, n, 3, anames, acolors, 0,
		   "day (UTC): alerts by when they were scored MEDIUM or HIGH, cases by when they were opened and closed");
	if (n) {
		t0 = d[0].day * FD_DAY_MS;
		t1 = d[n - 1].day * FD_DAY_MS;
	}
	w_range(w, "activity", n > 0, t0, t1,
		"by when the alert was scored and the case opened or closed; the last 60 days with activity, days without any left out");
	ws(w, "</div>\n");
	(void)have;
	goto out;
nomem:
	rc = fd_err_set(err, FD_EIO, "out of memory");
out:
	sqlite3_finalize(q);
	free(d);
	return rc;
}

static int dash_risk(struct w *w, struct fd_store *st, const char *model, const int64_t cases[FD_CASE_NSTATUS],
		     struct fd_err *err)
{
	sqlite3_stmt *q = NULL;
	int64_t bins[20] = {0}, t0 = 0, t1 = 0;
	int rc, have;
	double med = -1, high = -1;

	if ((rc = prep(st, &q, "SELECT min(CAST(risk / 5 AS INTEGER), 19), count(*) FROM " LATEST " GROUP BY 1", err)))
		goto out;
	while (sqlite3_step(q) == SQLITE_ROW) {
		int b = sqlite3_column_int(q, 0);

		if (b >= 0 && b < 20)
			bins[b] = sqlite3_column_int64(q, 1);
	}
	if ((rc = prep(st, &q, "SELECT min(CASE WHEN level IN ('MEDIUM', 'HIGH') THEN risk END),"
		       " min(CASE WHEN level = 'HIGH' THEN risk END) FROM " LATEST " WHERE model_version = ?1", err)))
		goto out;
	sqlite3_bind_text(q, 1, model, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW) {
		if (sqlite3_column_type(q, 0) != SQLITE_NULL)
			med = sqlite3_column_double(q, 0);
		if (sqlite3_column_type(q, 1) != SQLITE_NULL)
			high = sqlite3_column_double(q, 1);
	}
	if ((rc = range_of(st, "SELECT min(t.ts), max(t.ts) FROM " LATEST " l JOIN transactions t ON t.txn_id = l.txn_id",
			   &t0, &t1, &have, err)))
		goto out;
	ws(w, "<div class=\"grid2\">\n<div><h2>Risk distribution</h2>\n<div class=\"panel\" id=\"risk-dist\">\n");
	chart_risk(w, bins, med, high, model);
	ws(w, "<p class=\"muted\">Thresholds: the lowest risk scored MEDIUM and HIGH by model <code>");
	wh(w, *model ? model : "-");
	ws(w, "</code> (its calibrated thresholds are at or below them).</p>\n");
	w_range(w, "risk-dist", have, t0, t1, "by the scored transactions' time");
	if ((rc = range_of(st, "SELECT min(created_at), max(created_at) FROM cases", &t0, &t1, &have, err)))
		goto out;
	ws(w, "</div></div>\n<div><h2>Cases by status</h2>\n<div class=\"panel\" id=\"cases-status\">\n");
	chart_status(w, cases);
	w_range(w, "cases-status", have, t0, t1, "by when the cases were opened");
	ws(w, "</div></div>\n</div>\n");
out:
	sqlite3_finalize(q);
	return rc;
}

/* Rule hits (fd-rules' and those fd-score recorded with a score), hit rates, and precision
 * from case outcomes (effective_labels). */
static int dash_rules(struct w *w, struct fd_store *st, struct fd_err *err)
{
	sqlite3_stmt *q = NULL;
	int64_t total = 0, t0 = 0, t1 = 0;
	int rc, have, rows = 0;
	char c[32];

#define HITS "(SELECT txn_id, rule_id FROM rule_hits UNION SELECT l.txn_id, j.value FROM " LATEST " l, json_each(l.rules) j)"
	if ((rc = prep(st, &q, "SELECT count(*) FROM (SELECT txn_id FROM transactions UNION SELECT txn_id FROM scores"
		       " UNION SELECT txn_id FROM rule_hits)", err)))
		goto out;
	if (sqlite3_step(q) == SQLITE_ROW)
		total = sqlite3_column_int64(q, 0);
	if ((rc = range_of(st, "SELECT min(t.ts), max(t.ts) FROM " HITS " h JOIN transactions t ON t.txn_id = h.txn_id",
			   &t0, &t1, &have, err)))
		goto out;
	ws(w, "<h2>Rule hit rates and precision</h2>\n<div class=\"panel\">\n<table id=\"rules\">\n<tr><th>Rule</th>"
	      "<th>Action</th><th>Hits</th><th>Hit rate</th><th></th><th>With an outcome</th><th>Fraud</th>"
	      "<th>Precision</th><th></th></tr>\n");
	if ((rc = prep(st, &q, "SELECT h.rule_id, count(*), sum(e.label IS NOT NULL), coalesce(sum(e.label = 1), 0),"
		       " (SELECT max(action = 'block') FROM rule_hits r WHERE r.rule_id = h.rule_id)"
		       " FROM " HITS " h LEFT JOIN effective_labels e ON e.txn_id = h.txn_id"
		       " GROUP BY h.rule_id ORDER BY count(*) DESC, h.rule_id", err)))
		goto out;
#undef HITS
	while (sqlite3_step(q) == SQLITE_ROW) {
		int64_t hits = sqlite3_column_int64(q, 1), lab = sqlite3_column_int64(q, 2), fr = sqlite3_column_int64(q, 3);

		rows++;
		ws(w, "<tr data-rule=\"");
		wh(w, (const char *)sqlite3_column_text(q, 0));
		wf(w, "\" data-hits=\"%lld\" data-labelled=\"%lld\" data-fraud=\"%lld\"><td><code>", (long long)hits,
		   (long long)lab, (long long)fr);
		wh(w, (const char *)sqlite3_column_text(q, 0));
		wf(w, "</code></td><td>%s</td><td class=\"num\">%s</td><td class=\"num\">",
		   sqlite3_column_type(q, 4) == SQLITE_NULL ? "-" : sqlite3_column_int(q, 4) ? "block" : "review",
		   fd_num_count(hits, c));
		w_pct(w, hits, total);
		ws(w, "</td><td>");
		cell_bar(w, total ? (double)hits / (double)total : 0, "#2563eb");
		wf(w, "</td><td class=\"num\">%s</td>", fd_num_count(lab, c));
		wf(w, "<td class=\"num\">%s</td><td class=\"num\">", fd_num_count(fr, c));
		w_pct(w, fr, lab);
		ws(w, "</td><td>");
		if (lab)
			cell_bar(w, (double)fr / (double)lab, "#dc2626");
		ws(w, "</td></tr>\n");
	}
	if (!rows)
		ws(w, "<tr><td colspan=\"9\" class=\"muted\">No rule hits.</td></tr>\n");
	ws(w, "</table>\n<p class=\"muted\">Hit rate: hits over the ");
	w_int(w, total);
	ws(w, " transactions known to the store (stored, scored or ruled). Precision: the share of hits with a case"
	      " outcome or an exported label that are fraud (effective_labels).</p>\n");
	w_range(w, "rules", have, t0, t1, "by the time of the transactions hit");
	ws(w, "</div>\n");
out:
	sqlite3_finalize(q);
	return rc;
}

/* What raised flagged transactions: the model alone, the model with rule points below the
 * risk, or rule points that set the risk; and the points each gave. */
static int dash_contrib(struct w *w, struct fd_store *st, struct fd_err *err)
{
	static const char *const names[3] = {"model alone", "model and rules", "rules decided"};
	static const char *const colors[3] = {"#7c3aed", "#0891b2", "#ea580c"};
	sqlite3_stmt *q = NULL;
	int64_t v[2][6] = {{0}}, t0 = 0, t1 = 0, hi = 1;
	int rc, have, i, k;
	char c[32];

	if ((rc = prep(st, &q, "SELECT level = 'HIGH', count(*), sum(rule_points <= 0), sum(rule_points > 0 AND rule_points < risk),"
		       " sum(rule_points > 0 AND rule_points >= risk), round(sum(max(0, min(rule_points, risk)))),"
		       " round(sum(risk - max(0, min(rule_points, risk)))) FROM " LATEST " WHERE level IN ('MEDIUM', 'HIGH') GROUP BY 1", err)))
		goto out;
	while (sqlite3_step(q) == SQLITE_ROW)
		for (k = 0; k < 6; k++)
			v[sqlite3_column_int(q, 0) ? 1 : 0][k] = sqlite3_column_int64(q, k + 1);
	if ((rc = range_of(st, "SELECT min(t.ts), max(t.ts) FROM " LATEST " l JOIN transactions t ON t.txn_id = l.txn_id"
			   " WHERE l.level IN ('MEDIUM', 'HIGH')", &t0, &t1, &have, err)))
		goto out;
	ws(w, "<h2>Model and rules: what raised the alerts</h2>\n<div class=\"panel\" id=\"contrib\">\n");
	for (i = 0; i < 2; i++)
		if (v[i][0] > hi)
			hi = v[i][0];
	svg_begin(w, 1140, 130, "flagged transactions by what raised them");
	for (i = 0; i < 2; i++) {
		double x = 100, y = 14 + 44 * i;

		svg_text(w, 90, y + 20, "end", "font-weight=\"bold\"", i ? "HIGH" : "MEDIUM");
		for (k = 0; k < 3; k++) {
			double bw = (double)v[i][k + 1] / (double)hi * 900;

			if (!v[i][k + 1])
				continue;
			wf(w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"28\" fill=\"%s\"><title>%s, %s: %s</title></rect>\n",
			   x, y, bw, colors[k], i ? "HIGH" : "MEDIUM", names[k], fd_num_count(v[i][k + 1], c));
			x += bw;
		}
		svg_text(w, x + 6, y + 19, "start", NULL, fd_num_count(v[i][0], c));
	}
	for (k = 0; k < 3; k++) {
		wf(w, "<rect x=\"%d\" y=\"110\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", 100 + k * 170, colors[k]);
		svg_text(w, 116 + k * 170, 120, "start", NULL, names[k]);
	}
	ws(w, "</svg>\n<table id=\"contrib-table\">\n<tr><th>Level</th><th>Flagged</th><th>Model alone</th>"
	      "<th>Model and rules</th><th>Rules decided</th><th>Risk points from the model</th>"
	      "<th>Risk points from rules</th><th>Rules' share</th></tr>\n");
	for (i = 0; i < 2; i++) {
		wf(w, "<tr data-level=\"%s\"><td>%s</td>", i ? "HIGH" : "MEDIUM", i ? "HIGH" : "MEDIUM");
		for (k = 0; k < 4; k++)
			wf(w, "<td class=\"num\">%s</td>", fd_num_count(v[i][k], c));
		wf(w, "<td class=\"num\">%s</td>", fd_num_count(v[i][5], c));
		wf(w, "<td class=\"num\">%s</td><td class=\"num\">", fd_num_count(v[i][4], c));
		w_pct(w, v[i][4], v[i][4] + v[i][5]);
		ws(w, "</td></tr>\n");
	}
	ws(w, "</table>\n<p class=\"muted\">A flagged transaction's risk is split into the rule points it got (at most"
	      " its risk) and the rest, from the model. \"Rules decided\": the rule points alone reach its risk.</p>\n");
	w_range(w, "contrib", have, t0, t1, "by the flagged transactions' time");
	ws(w, "</div>\n");
out:
	sqlite3_finalize(q);
	return rc;
}

/* Open cases by age and investigator. */
struct load {
	char *who;                  /* "" = unassigned */
	int64_t open, progress, closed, age[4];
	int64_t oldest;             /* ms, of the open ones */
};

static int dash_workload(struct w *w, struct fd_store *st, int64_t now, struct fd_err *err)
{
	static const char *const bucket[4] = {"under 1 day", "1-7 days", "7-30 days", "30 days or more"};
	static const char *const colors[4] = {"#16a34a", "#f59e0b", "#ea580c", "#dc2626"};
	sqlite3_stmt *q = NULL;
	struct load *l = NULL;
	size_t n = 0, i;
	int64_t t0 = 0, t1 = 0, hi = 1;
	int rc, have, k;
	char c[32];

	if ((rc = prep(st, &q, "SELECT coalesce(assignee, ''), status, created_at FROM cases"
		       " ORDER BY assignee IS NULL, assignee, id", err)))
		goto out;
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *who = (const char *)sqlite3_column_text(q, 0);
		int s = fd_case_status_parse((const char *)sqlite3_column_text(q, 1));
		int64_t age = now - sqlite3_column_int64(q, 2);

		if (!n || strcmp(l[n - 1].who, who) != 0) {
			void *p = realloc(l, (n + 1) * sizeof(*l));

			if (!p)
				goto nomem;
			l = p;
			memset(&l[n], 0, sizeof(l[n]));
			if (!(l[n++].who = strdup(who)))
				goto nomem;
		}
		if (s == FD_CASE_OPEN || s == FD_CASE_IN_PROGRESS) {
			struct load *x = &l[n - 1];

			if (s == FD_CASE_OPEN)
				x->open++;
			else
				x->progress++;
			x->age[age < FD_DAY_MS ? 0 : age < 7 * FD_DAY_MS ? 1 : age < 30 * FD_DAY_MS ? 2 : 3]++;
			if (age > x->oldest)
				x->oldest = age;
			if (x->open + x->progress > hi)
				hi = x->open + x->progress;
		} else
			l[n - 1].closed++;
	}
	if ((rc = range_of(st, "SELECT min(created_at), max(created_at) FROM cases", &t0, &t1, &have, err)))
		goto out;
	ws(w, "<h2>Case ageing and workload per investigator</h2>\n<div class=\"panel\" id=\"workload\">\n");
	svg_begin(w, 1140, (int)(40 + 34 * (n ? n : 1)), "open cases per investigator by age");
	if (!n)
		svg_text(w, 570, 30, "middle", "fill=\"#6b7280\"", "no cases");
	for (i = 0; i < n; i++) {
		double x = 200, y = 8 + 34.0 * (double)i;

		svg_text(w, 190, y + 17, "end", NULL, *l[i].who ? l[i].who : "(unassigned)");
		for (k = 0; k < 4; k++) {
			double bw = (double)l[i].age[k] / (double)hi * 820;

			if (!l[i].age[k])
				continue;
			wf(w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"24\" fill=\"%s\"><title>", x, y, bw, colors[k]);
			wh(w, *l[i].who ? l[i].who : "(unassigned)");
			wf(w, ", open %s: %s</title></rect>\n", bucket[k], fd_num_count(l[i].age[k], c));
			x += bw;
		}
		svg_text(w, x + 6, y + 17, "start", NULL, fd_num_count(l[i].open + l[i].progress, c));
	}
	for (k = 0; k < 4; k++) {
		wf(w, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", 200 + k * 170,
		   (int)(22 + 34 * (n ? n : 1)), colors[k]);
		svg_text(w, 216 + k * 170, 32 + 34.0 * (double)(n ? n : 1), "start", NULL, bucket[k]);
	}
	ws(w, "</svg>\n<table id=\"workload-table\">\n<tr><th>Investigator</th><th>Open</th><th>In progress</th>"
	      "<th>Closed</th><th>Open under 1 day</th><th>1-7 days</th><th>7-30 days</th><th>30 days or more</th>"
	      "<th>Oldest open (days)</th></tr>\n");
	for (i = 0; i < n; i++) {
		ws(w, "<tr data-assignee=\"");
		wh(w, l[i].who);
		ws(w, "\"><td>");
		wh(w, *l[i].who ? l[i].who : "(unassigned)");
		wf(w, "</td><td class=\"num\">%s</td>", fd_num_count(l[i].open, c));
		wf(w, "<td class=\"num\">%s</td>", fd_num_count(l[i].progress, c));
		wf(w, "<td class=\"num\">%s</td>", fd_num_count(l[i].closed, c));
		for (k = 0; k < 4; k++)
			wf(w, "<td class=\"num\">%s</td>", fd_num_count(l[i].age[k], c));
		if (l[i].open + l[i].progress)
			wf(w, "<td class=\"num\">%s</td></tr>\n", fd_num_double((double)l[i].oldest / (double)FD_DAY_MS, 1, c));
		else
			ws(w, "<td class=\"num\">-</td></tr>\n");
	}
	if (!n)
		ws(w, "<tr><td colspan=\"9\" class=\"muted\">No cases.</td></tr>\n");
	ws(w, "</table>\n<p class=\"muted\">Ages of open and in-progress cases at ");
	{
		char ts[FD_TS_BUFSZ];

		ws(w, fd_format_ts(now, ts));
	}
	ws(w, ", from when each was opened.</p>\n");
	w_range(w, "workload", have, t0, t1, "by when the cases were opened");
	ws(w, "</div>\n");
	goto out;
nomem:
	rc = fd_err_set(err, FD_EIO, "out of memory");
out:
	for (i = 0; i < n; i++)
		free(l[i].who);
	free(l);
	sqlite3_finalize(q);
	return rc;
}

/* ---- the top rings (fd-graph rings --case records them in cases) ------------------------------- */

#define RING_MAX_ACCTS 24

struct ring {
	int64_t case_id;
	int k;                      /* the ring's number in fd-graph's run */
	char kinds[64];
	double score;
	char *reason;               /* case_transactions.reason, as stored */
	int64_t ntx, t0, t1;
};

static int ring_cmp(const void *a, const void *b)
{
	const struct ring *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->case_id != y->case_id)
		return x->case_id < y->case_id ? -1 : 1;
	return x->k - y->k;
}

static const char *role_color(const char *role)
{
	if (strcmp(role, "source") == 0)
		return "#2563eb";
	if (strcmp(role, "destination") == 0)
		return "#dc2626";
	return "#f59e0b";
}

/* One ring: sources on the left, mules in the middle, destinations on the right (a ring of
 * mules only, a cycle, on a circle); one arrow per sender and recipient pair. */
static int draw_ring(struct w *w, struct fd_store *st, const struct ring *r, struct fd_err *err)
{
	sqlite3_stmt *q = NULL;
	char key[RING_MAX_ACCTS][160], role[RING_MAX_ACCTS][16], pat[64], lab[64], c[32];
	double x[RING_MAX_ACCTS], y[RING_MAX_ACCTS];
	int col[RING_MAX_ACCTS], ncol[3] = {0}, idx[3] = {0};
	size_t n = 0, i, more = 0;
	int rc, W = 540, H, circle;

	snprintf(pat, sizeof(pat), "fd-graph ring %d (%%", r->k);
	if ((rc = prep(st, &q, "SELECT e.key, ce.note FROM case_entities ce JOIN entities e ON e.id = ce.entity_id"
		       " WHERE ce.case_id = ?1 AND ce.note LIKE ?2 ORDER BY e.key", err)))
		goto out;
	sqlite3_bind_int64(q, 1, r->case_id);
	sqlite3_bind_text(q, 2, pat, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *note = (const char *)sqlite3_column_text(q, 1), *ro = strstr(note, "): ");

		if (n == RING_MAX_ACCTS) {
			more++;
			continue;
		}
		snprintf(key[n], sizeof(key[n]), "%s", (const char *)sqlite3_column_text(q, 0));
		snprintf(role[n], sizeof(role[n]), "%s", ro ? ro + 3 : "mule");
		col[n] = strcmp(role[n], "source") == 0 ? 0 : strcmp(role[n], "destination") == 0 ? 2 : 1;
		ncol[col[n]]++;
		n++;
	}
	circle = ncol[0] == 0 && ncol[2] == 0;
	{
		int m = ncol[0] > ncol[1] ? ncol[0] : ncol[1];

		m = m > ncol[2] ? m : ncol[2];
		H = circle ? 300 : 70 + 44 * (m ? m : 1);
	}
	for (i = 0; i < n; i++) {
		if (circle) {
			double a = -M_PI / 2 + 2 * M_PI * (double)i / (double)n;

			x[i] = W / 2.0 + 100 * cos(a);
			y[i] = H / 2.0 + 100 * sin(a);
		} else {
			x[i] = col[i] == 0 ? 150 : col[i] == 1 ? W / 2.0 : W - 150;
			y[i] = 30 + (H - 60) * (idx[col[i]] + 0.5) / ncol[col[i]];
			idx[col[i]]++;
		}
	}
	wf(w, "<div class=\"panel ring\" data-case=\"%lld\" data-ring=\"%d\" data-accounts=\"%zu\" data-transfers=\"%lld\">\n",
	   (long long)r->case_id, r->k, n + more, (long long)r->ntx);
	wf(w, "<strong>Case %lld, ring %d: ", (long long)r->case_id, r->k);
	wh(w, r->kinds);
	wf(w, "</strong>, score %.1f; %zu accounts, %s transfers\n", r->score, n + more, fd_num_count(r->ntx, c));
	svg_begin(w, W, H, "ring");
	/* arrows: one per pair, their count and amount in the title */
	if ((rc = prep(st, &q, "SELECT t.sender_id, coalesce(t.recipient_id, t.merchant_id), count(*), sum(t.amount),"
		       " min(t.currency), count(DISTINCT t.currency) FROM case_transactions ct JOIN transactions t ON t.txn_id = ct.txn_id"
		       " WHERE ct.case_id = ?1 AND ct.reason = ?2 GROUP BY 1, 2 ORDER BY 1, 2", err)))
		goto out;
	sqlite3_bind_int64(q, 1, r->case_id);
	sqlite3_bind_text(q, 2, r->reason, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(q, 0), *d = (const char *)sqlite3_column_text(q, 1);
		int a = -1, b = -1;
		double dx, dy, len, ux, uy, x1, y1, x2, y2, mx, my;

		for (i = 0; i < n; i++) {
			if (s && strcmp(key[i], s) == 0)
				a = (int)i;
			if (d && strcmp(key[i], d) == 0)
				b = (int)i;
		}
		if (a < 0 || b < 0 || a == b)
			continue;
		dx = x[b] - x[a];
		dy = y[b] - y[a];
		len = sqrt(dx * dx + dy * dy);
		ux = dx / len;
		uy = dy / len;
		x1 = x[a] + ux * 9;
		y1 = y[a] + uy * 9;
		x2 = x[b] - ux * 11;
		y2 = y[b] - uy * 11;
		/* same column: bend the line to the right so it does not run through the nodes between */
		mx = (x1 + x2) / 2 + (fabs(dx) < 1 ? 40 : 0);
		my = (y1 + y2) / 2;
		wf(w, "<path d=\"M%.1f %.1f Q%.1f %.1f %.1f %.1f\" fill=\"none\" stroke=\"#6b7280\" stroke-width=\"1.5\"><title>",
		   x1, y1, mx, my, x2, y2);
		wh(w, s);
		ws(w, " to ");
		wh(w, d);
		wf(w, ": %s transfer%s", fd_num_count(sqlite3_column_int64(q, 2), c), sqlite3_column_int64(q, 2) == 1 ? "" : "s");
		if (sqlite3_column_int(q, 5) == 1) {
			const char *cur = (const char *)sqlite3_column_text(q, 4);
			int ex = fd_currency_exponent(cur);

			ws(w, ", ");
			w_amt(w, sqlite3_column_int64(q, 3), ex < 0 ? 2 : ex, cur);
		}
		ws(w, "</title></path>\n");
		{
			/* the arrow head along the curve's end tangent */
			double tx = x2 - mx, ty = y2 - my, tl = sqrt(tx * tx + ty * ty);

			tx /= tl;
			ty /= tl;
			wf(w, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"#6b7280\"/>\n", x2, y2,
			   x2 - tx * 8 - ty * 4, y2 - ty * 8 + tx * 4, x2 - tx * 8 + ty * 4, y2 - ty * 8 - tx * 4);
		}
	}
	for (i = 0; i < n; i++) {
		const char *anchor = "middle";
		double lx = x[i], ly = y[i] - 13;

		wf(w, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"8\" fill=\"%s\"><title>", x[i], y[i], role_color(role[i]));
		wh(w, key[i]);
		wf(w, " (%s)</title></circle>\n", role[i]);
		if (circle) {
			double ca = (x[i] - W / 2.0) / 100, sa = (y[i] - H / 2.0) / 100;

			lx = x[i] + ca * 14;
			ly = y[i] + sa * 14 + 4;
			anchor = ca > 0.3 ? "start" : ca < -0.3 ? "end" : "middle";
			if (fabs(ca) <= 0.3)
				ly += sa > 0 ? 8 : -4;
		} else if (col[i] == 0) {
			lx = x[i] - 14;
			ly = y[i] + 4;
			anchor = "end";
		} else if (col[i] == 2) {
			lx = x[i] + 14;
			ly = y[i] + 4;
			anchor = "start";
		}
		short_label(lab, sizeof(lab), key[i]);
		svg_text(w, lx, ly, anchor, "class=\"node-label\"", lab);
	}
	{
		static const char *const roles[3] = {"source", "mule", "destination"};
		int k;

		for (k = 0; k < 3; k++) {
			wf(w, "<circle cx=\"%d\" cy=\"%d\" r=\"6\" fill=\"%s\"/>\n", 16 + k * 110, H - 12, role_color(roles[k]));
			svg_text(w, 26 + k * 110, H - 8, "start", NULL, roles[k]);
		}
	}
	ws(w, "</svg>\n");
	if (more)
		wf(w, "<p class=\"muted\">%zu more accounts not drawn.</p>\n", more);
	w_range(w, "ring", r->ntx > 0, r->t0, r->t1, "by the ring's transfers");
	ws(w, "</div>\n");
out:
	sqlite3_finalize(q);
	return rc;
}

static int dash_rings(struct w *w, struct fd_store *st, struct fd_err *err)
{
	sqlite3_stmt *q = NULL;
	struct ring *r = NULL;
	size_t n = 0, i;
	int rc;

	if ((rc = prep(st, &q, "SELECT ct.case_id, ct.reason, count(*), min(t.ts), max(t.ts) FROM case_transactions ct"
		       " LEFT JOIN transactions t ON t.txn_id = ct.txn_id WHERE ct.reason LIKE 'fd-graph ring %'"
		       " GROUP BY ct.case_id, ct.reason", err)))
		goto out;
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct ring x = {0};
		const char *reason = (const char *)sqlite3_column_text(q, 1);
		void *p;

		if (sscanf(reason, "fd-graph ring %d: %63[^,], score %lf", &x.k, x.kinds, &x.score) != 3)
			continue;
		if (!(p = realloc(r, (n + 1) * sizeof(*r))))
			goto nomem;
		r = p;
		x.case_id = sqlite3_column_int64(q, 0);
		x.ntx = sqlite3_column_int64(q, 2);
		x.t0 = sqlite3_column_int64(q, 3);
		x.t1 = sqlite3_column_int64(q, 4);
		if (!(x.reason = strdup(reason)))
			goto nomem;
		r[n++] = x;
	}
	sqlite3_finalize(q);
	q = NULL;
	if (n)
		qsort(r, n, sizeof(*r), ring_cmp);
	ws(w, "<h2>Top rings</h2>\n<div id=\"rings\">\n");
	if (!n)
		ws(w, "<p class=\"muted\">No ring in any case yet (<code>fd-graph rings --case</code> records them).</p>\n");
	else
		ws(w, "<p class=\"muted\">The highest-scored rings that <code>fd-graph rings --case</code> put into cases.</p>\n");
	ws(w, "<div class=\"grid2\">\n");
	for (i = 0; i < n && i < 4; i++)
		if ((rc = draw_ring(w, st, &r[i], err)))
			goto out;
	ws(w, "</div>\n</div>\n");
	goto out;
nomem:
	rc = fd_err_set(err, FD_EIO, "out of memory");
out:
	for (i = 0; i < n; i++)
		free(r[i].reason);
	free(r);
	sqlite3_finalize(q);
	return rc;
}

static int dash_recent(struct w *w, struct fd_store *st, int64_t nflag, struct fd_err *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	ws(w, "<h2>Recent flagged transactions</h2>\n<table id=\"recent\">\n<tr><th>Time (UTC)</th><th>Transaction</th>"
	      "<th>Sender</th><th>Amount</th><th>Risk</th><th>Decision</th><th>Case</th><th>Top reason</th></tr>\n");
	if ((rc = prep(st, &q, "SELECT l.txn_id, t.ts, t.amount, t.currency, t.sender_id, l.risk, l.level, l.reasons,"
		       " (SELECT min(case_id) FROM case_transactions ct WHERE ct.txn_id = l.txn_id), l.decision"
		       " FROM " LATEST " l LEFT JOIN transactions t ON t.txn_id = l.txn_id"
		       " WHERE l.level IN ('MEDIUM', 'HIGH') ORDER BY t.ts DESC, l.txn_id LIMIT 15", err)))
		goto out;
	if (nflag == 0)
		ws(w, "<tr><td colspan=\"8\" class=\"muted\">No flagged transactions.</td></tr>\n");
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *cur = (const char *)sqlite3_column_text(q, 3), *reasons = (const char *)sqlite3_column_text(q, 7);
		json_t *rj = reasons ? json_loads(reasons, 0, NULL) : NULL;
		/* the deciding reason: the score's reasons are ordered most decisive first */
		const char *top = json_is_array(rj) && json_is_string(json_array_get(rj, 0)) ? json_string_value(json_array_get(rj, 0)) : "";
		int ex = cur ? fd_currency_exponent(cur) : 2;
		char c[32];

		ws(w, "<tr><td>");
		if (sqlite3_column_type(q, 1) != SQLITE_NULL)
			w_ts(w, sqlite3_column_int64(q, 1));
		ws(w, "</td><td><code>");
		wh(w, (const char *)sqlite3_column_text(q, 0));
		ws(w, "</code></td><td>");
		wh(w, or_dash((const char *)sqlite3_column_text(q, 4)));
		ws(w, "</td><td class=\"num\">");
		if (cur)
			w_amt(w, sqlite3_column_int64(q, 2), ex < 0 ? 2 : ex, cur);
		wf(w, "</td><td class=\"num\">%.2f ", sqlite3_column_double(q, 5));
		level_badge(w, (const char *)sqlite3_column_text(q, 6));
		ws(w, "</td><td>");
		wh(w, (const char *)sqlite3_column_text(q, 9));
		ws(w, "</td><td>");
		if (sqlite3_column_type(q, 8) != SQLITE_NULL)
			ws(w, fd_num_count(sqlite3_column_int64(q, 8), c));
		ws(w, "</td><td class=\"top-reason\">");
		wh(w, top);
		ws(w, "</td></tr>\n");
		json_decref(rj);
	}
	ws(w, "</table>\n");
out:
	sqlite3_finalize(q);
	return rc;
}

int fd_report_dashboard(struct fd_store *st, int64_t now, struct fd_buf *out, struct fd_err *err)
{
	struct w w = {out, 0};
	sqlite3_stmt *q = NULL;
	int64_t ntx = 0, nflag = 0, nhigh = 0, nscored = 0, cases[FD_CASE_NSTATUS] = {0}, stake_n = 0;
	struct fd_case_amount *stake = NULL;
	size_t nstake = 0, cstake = 0;
	struct fd_buf tmp = FD_BUF_INIT;
	char ts[FD_TS_BUFSZ], model[256], c1[32], c2[32];
	int rc;

	if ((rc = fd_case_authorize(st, FD_CA_VIEW, "dashboard", err)))
		return rc;
	if ((rc = prep(st, &q, "SELECT count(*) FROM transactions", err)))
		goto out;
	if (sqlite3_step(q) == SQLITE_ROW)
		ntx = sqlite3_column_int64(q, 0);
	if ((rc = prep(st, &q, "SELECT count(*), sum(level IN ('MEDIUM', 'HIGH')), sum(level = 'HIGH') FROM " LATEST, err)))
		goto out;
	if (sqlite3_step(q) == SQLITE_ROW) {
		nscored = sqlite3_column_int64(q, 0);
		nflag = sqlite3_column_int64(q, 1);
		nhigh = sqlite3_column_int64(q, 2);
	}
	if ((rc = prep(st, &q, "SELECT status, count(*) FROM cases GROUP BY status", err)))
		goto out;
	while (sqlite3_step(q) == SQLITE_ROW) {
		int s = fd_case_status_parse((const char *)sqlite3_column_text(q, 0));

		if (s >= 0)
			cases[s] = sqlite3_column_int64(q, 1);
	}
	if ((rc = prep(st, &q, "SELECT currency, sum(amount), count(*) FROM transactions WHERE txn_id IN (SELECT ct.txn_id"
		       " FROM case_transactions ct JOIN cases c ON c.id = ct.case_id WHERE c.status IN ('OPEN', 'IN_PROGRESS'))"
		       " GROUP BY currency ORDER BY count(*) DESC, currency", err)))
		goto out;
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
	sqlite3_finalize(q);
	q = NULL;

	html_head(&w, "fd dashboard");
	ws(&w, "<h1>Fraud detection dashboard</h1>\n<p class=\"muted\">Store <code>");
	wh(&w, fd_store_path(st));
	wf(&w, "</code>, generated %s by fd-case. Self-contained: no network resources.</p>\n", fd_format_ts(now, ts));

	ws(&w, "<div class=\"cards\">\n");
	fd_buf_reset(&tmp);
	fd_buf_addf(&tmp, "%s scored", fd_num_count(nscored, c1));
	card(&w, "transactions", "Transactions", ntx, tmp.s);
	fd_buf_reset(&tmp);
	fd_buf_addf(&tmp, "%s HIGH, %s MEDIUM", fd_num_count(nhigh, c1), fd_num_count(nflag - nhigh, c2));
	card(&w, "flagged", "Flagged (MEDIUM or HIGH)", nflag, tmp.s);
	fd_buf_reset(&tmp);
	fd_buf_addf(&tmp, "%s in progress", fd_num_count(cases[FD_CASE_IN_PROGRESS], c1));
	card(&w, "open-cases", "Open cases", cases[FD_CASE_OPEN] + cases[FD_CASE_IN_PROGRESS], tmp.s);
	/* amount at stake: the main currency large, all of them below */
	{
		char a[FD_AMOUNT_BUFSZ];
		size_t i;

		wf(&w, "<div class=\"card\" id=\"card-stake\" data-value=\"%s\" data-currency=\"%s\"><div class=\"label\">"
		   "Amount at stake (open cases)</div><div class=\"value\">", nstake ? fd_format_amount(stake[0].minor, stake[0].exponent, a) : "0",
		   nstake ? stake[0].currency : "");
		if (nstake)
			w_amt(&w, stake[0].minor, stake[0].exponent, stake[0].currency);
		else
			ws(&w, "0");
		ws(&w, "</div><div class=\"sub\">");
		if (nstake > 1)
			for (i = 0; i < nstake; i++) {
				if (i)
					ws(&w, " + ");
				w_amt(&w, stake[i].minor, stake[i].exponent, stake[i].currency);
			}
		else
			wf(&w, "%s transaction%s", fd_num_count(stake_n, c1), stake_n == 1 ? "" : "s");
		ws(&w, "</div></div>\n");
	}
	ws(&w, "</div>\n");

	if ((rc = dash_versions(&w, st, model, sizeof(model), err)) || (rc = dash_days(&w, st, err)) ||
	    (rc = dash_risk(&w, st, model, cases, err)) || (rc = dash_contrib(&w, st, err)) ||
	    (rc = dash_rules(&w, st, err)) || (rc = dash_workload(&w, st, now, err)) || (rc = dash_rings(&w, st, err)) ||
	    (rc = dash_recent(&w, st, nflag, err)))
		goto out;
	ws(&w, "</body>\n</html>\n");
	if (w.bad)
		rc = fd_err_set(err, FD_EIO, "out of memory");
out:
	sqlite3_finalize(q);
	free(stake);
	fd_buf_release(&tmp);
	return rc;
}
