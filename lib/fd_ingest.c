/* fd_ingest.c — see fd_ingest.h. */
#include "fd_ingest.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fd_audit.h"
#include "fd_buf.h"
#include "fd_intern.h"
#include "fd_io.h"
#include "fd_reader.h"

/* ---- column mapping ------------------------------------------------------------------ */

struct fd_colmap {
	char *src[FD_NFIELDS];  /* NULL = the canonical name */
};

struct preset {
	const char *name;
	const char *pairs[FD_NFIELDS * 2 + 1]; /* canonical, source, ..., NULL */
};

/* Built-in mappings for common public export layouts. */
static const struct preset presets[] = {
	{"fd", {NULL}},
	/* The "Sparkov" simulated credit-card data set (fraudTrain.csv / fraudTest.csv):
	 * trans_date_trans_time is naive local time; the merchant's coordinates locate the
	 * transaction, the customer's lat/long stay in metadata. */
	{"sparkov", {"txn_id", "trans_num", "ts", "trans_date_trans_time", "amount", "amt",
		     "sender_id", "cc_num", "merchant_id", "merchant", "merchant_category", "category",
		     "lat", "merch_lat", "lon", "merch_long", "label", "is_fraud", NULL}},
};

const char *const *fd_colmap_presets(void)
{
	static const char *const names[] = {"fd", "sparkov", NULL};

	return names;
}

void fd_colmap_free(struct fd_colmap *m)
{
	int i;

	if (!m)
		return;
	for (i = 0; i < FD_NFIELDS; i++)
		free(m->src[i]);
	free(m);
}

const char *fd_colmap_source(const struct fd_colmap *m, int field)
{
	return m && m->src[field] ? m->src[field] : fd_field_name[field];
}

int fd_colmap_json(const struct fd_colmap *m, struct fd_buf *out)
{
	int i, first = 1;

	if (fd_buf_addc(out, '{'))
		return -1;
	for (i = 0; m && i < FD_NFIELDS; i++) {
		if (!m->src[i] || strcmp(m->src[i], fd_field_name[i]) == 0)
			continue;
		if ((!first && fd_buf_addc(out, ',')) ||
		    fd_buf_add_json_str(out, fd_field_name[i], strlen(fd_field_name[i])) ||
		    fd_buf_addc(out, ':') || fd_buf_add_json_str(out, m->src[i], strlen(m->src[i])))
			return -1;
		first = 0;
	}
	return fd_buf_addc(out, '}');
}

static int set_map(struct fd_colmap *m, int f, const char *s, size_t n)
{
	free(m->src[f]);
	m->src[f] = strndup(s, n);
	return m->src[f] ? 0 : -1;
}

static char *trim(char *s, char **end)
{
	while (*s == ' ' || *s == '\t')
		s++;
	while (*end > s && ((*end)[-1] == ' ' || (*end)[-1] == '\t' || (*end)[-1] == '\r' || (*end)[-1] == '\n'))
		(*end)--;
	return s;
}

static int load_map_file(struct fd_colmap *m, const char *path, struct fd_err *err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	int seen[FD_NFIELDS] = {0}, rc = FD_OK;

	if (!f)
		return fd_err_set(err, FD_EIO, "cannot open mapping '%s': %s", path, strerror(errno));
	while ((len = getline(&line, &cap, f)) != -1) {
		char *eq, *k, *kend, *v, *vend, *hash;
		int fld;

		lineno++;
		hash = NULL;
		/* a '#' outside quotes starts a comment */
		{
			int q = 0;
			char *p;

			for (p = line; *p; p++) {
				if (*p == '"')
					q = !q;
				else if (*p == '#' && !q) {
					hash = p;
					break;
				}
			}
		}
		if (hash)
			*hash = '\0';
		kend = line + strlen(line);
		k = trim(line, &kend);
		if (k == kend)
			continue;
		eq = memchr(k, '=', (size_t)(kend - k));
		if (!eq) {
			rc = fd_err_set(err, FD_EINPUT, "%s:%ld: expected 'canonical = source column'", path, lineno);
			break;
		}
		vend = kend;
		kend = eq;
		v = eq + 1;
		k = trim(k, &kend);
		v = trim(v, &vend);
		fld = fd_field_lookup(k, (size_t)(kend - k));
		if (fld < 0) {
			char vis[80];

			rc = fd_err_set(err, FD_EINPUT, "%s:%ld: '%s' is not a canonical field", path, lineno,
					fd_visible(vis, sizeof(vis), k, (size_t)(kend - k)));
			break;
		}
		if (seen[fld]) {
			rc = fd_err_set(err, FD_EINPUT, "%s:%ld: field '%s' is mapped twice (first on line %d)",
					path, lineno, fd_field_name[fld], seen[fld]);
			break;
		}
		seen[fld] = (int)lineno;
		if (vend - v >= 2 && *v == '"' && vend[-1] == '"') {
			v++;
			vend--;
		}
		if (vend == v) {
			rc = fd_err_set(err, FD_EINPUT, "%s:%ld: no source column for '%s'", path, lineno,
					fd_field_name[fld]);
			break;
		}
		if (set_map(m, fld, v, (size_t)(vend - v))) {
			rc = fd_err_set(err, FD_EIO, "out of memory");
			break;
		}
	}
	if (rc == FD_OK && ferror(f))
		rc = fd_err_set(err, FD_EIO, "reading mapping '%s': %s", path, strerror(errno));
	free(line);
	fclose(f);
	return rc;
}

int fd_colmap_load(struct fd_colmap **out, const char *spec, struct fd_err *err)
{
	struct fd_colmap *m = calloc(1, sizeof(*m));
	size_t i;
	int rc = FD_OK;

	*out = NULL;
	if (!m)
		return fd_err_set(err, FD_EIO, "out of memory");
	if (spec) {
		const struct preset *p = NULL;

		for (i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
			if (strcmp(spec, presets[i].name) == 0)
				p = &presets[i];
		if (p && access(spec, F_OK) != 0) {
			for (i = 0; p->pairs[i]; i += 2) {
				int f = fd_field_lookup(p->pairs[i], strlen(p->pairs[i]));

				if (f < 0 || set_map(m, f, p->pairs[i + 1], strlen(p->pairs[i + 1]))) {
					rc = fd_err_set(err, FD_EIO, "internal: bad preset %s", p->name);
					break;
				}
			}
		} else
			rc = load_map_file(m, spec, err);
	}
	if (rc) {
		fd_colmap_free(m);
		return rc;
	}
	*out = m;
	return FD_OK;
}

/* ---- per-input state ----------------------------------------------------------------- */

enum { EK_ACCOUNT, EK_MERCHANT, EK_DEVICE, EK_IP, EK_N };
static const char *const ek_name[EK_N] = {"account", "merchant", "device", "ip"};
enum { LK_DEVICE, LK_IP, LK_N };
static const char *const lk_name[LK_N] = {"uses_device", "uses_ip"};

struct agg {
	int64_t first, last, count;
};

struct ingest {
	struct fd_store *st;
	const struct fd_ingest_opts *o;
	struct fd_ingest_result *res;
	struct fd_reader *rd;
	int slot[FD_NFIELDS];
	int default_exp;
	char default_cur[4];
	struct fd_buf scratch;   /* NUL-terminated copies of the current record's text fields */
	struct fd_buf meta;
	struct fd_buf msg;
	sqlite3_stmt *ins, *dup;
	struct fd_digest digest;
	/* entities and links touched by this input */
	struct fd_intern *ent[EK_N];
	struct agg *eagg[EK_N];
	size_t ecap[EK_N];
	char **mcat;             /* merchant category by merchant id (last seen) */
	size_t mcat_cap;
	struct fd_intern *link[LK_N];
	struct agg *lagg[LK_N];
	size_t lcap[LK_N];
};

/* Grow an aggregate array to hold index id. */
static int agg_room(struct agg **a, size_t *cap, size_t id)
{
	size_t n;
	struct agg *p;

	if (id < *cap)
		return 0;
	n = *cap ? *cap * 2 : 1024;
	while (n <= id)
		n *= 2;
	p = realloc(*a, n * sizeof(*p));
	if (!p)
		return -1;
	memset(p + *cap, 0, (n - *cap) * sizeof(*p));
	*a = p;
	*cap = n;
	return 0;
}

static void agg_add(struct agg *a, int64_t ts)
{
	if (a->count == 0 || ts < a->first)
		a->first = ts;
	if (a->count == 0 || ts > a->last)
		a->last = ts;
	a->count++;
}

static int64_t entity_touch(struct ingest *g, int kind, const char *key, int64_t ts)
{
	int64_t id = fd_intern_put(g->ent[kind], key, strlen(key), NULL);

	if (id < 0 || agg_room(&g->eagg[kind], &g->ecap[kind], (size_t)id))
		return -1;
	agg_add(&g->eagg[kind][id], ts);
	return id;
}

static int link_touch(struct ingest *g, int kind, int64_t acct, int64_t other, int64_t ts)
{
	uint32_t key[2] = {(uint32_t)acct, (uint32_t)other};
	int64_t id = fd_intern_put(g->link[kind], (const char *)key, sizeof(key), NULL);

	if (id < 0 || agg_room(&g->lagg[kind], &g->lcap[kind], (size_t)id))
		return -1;
	agg_add(&g->lagg[kind][id], ts);
	return 0;
}

static int track_entities(struct ingest *g, const struct fd_txn *t)
{
	int64_t s, o;

	if ((s = entity_touch(g, EK_ACCOUNT, t->sender_id, t->ts)) < 0)
		return -1;
	if (t->recipient_id && entity_touch(g, EK_ACCOUNT, t->recipient_id, t->ts) < 0)
		return -1;
	if (t->merchant_id) {
		if ((o = entity_touch(g, EK_MERCHANT, t->merchant_id, t->ts)) < 0)
			return -1;
		if (t->merchant_category) {
			if ((size_t)o >= g->mcat_cap) {
				size_t n = g->mcat_cap ? g->mcat_cap * 2 : 1024;
				char **p;

				while (n <= (size_t)o)
					n *= 2;
				p = realloc(g->mcat, n * sizeof(*p));
				if (!p)
					return -1;
				memset(p + g->mcat_cap, 0, (n - g->mcat_cap) * sizeof(*p));
				g->mcat = p;
				g->mcat_cap = n;
			}
			if (!g->mcat[o] || strcmp(g->mcat[o], t->merchant_category) != 0) {
				free(g->mcat[o]);
				if (!(g->mcat[o] = strdup(t->merchant_category)))
					return -1;
			}
		}
	}
	if (t->device_id) {
		if ((o = entity_touch(g, EK_DEVICE, t->device_id, t->ts)) < 0 || link_touch(g, LK_DEVICE, s, o, t->ts))
			return -1;
	}
	if (t->ip) {
		if ((o = entity_touch(g, EK_IP, t->ip, t->ts)) < 0 || link_touch(g, LK_IP, s, o, t->ts))
			return -1;
	}
	return 0;
}

/* Write the aggregated entities and links; called once at the end of the input. */
static int flush_entities(struct ingest *g, struct fd_err *err)
{
	sqlite3_stmt *es = NULL, *ls = NULL;
	int64_t *dbid[EK_N] = {NULL};
	int k, rc = FD_OK;
	uint32_t i, n;
	struct fd_buf attrs = FD_BUF_INIT;

	if ((rc = fd_store_prepare(g->st, &es,
				   "INSERT INTO entities (kind, key, first_seen, last_seen, txn_count, attrs)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
				   " ON CONFLICT (kind, key) DO UPDATE SET"
				   " first_seen = min(first_seen, excluded.first_seen),"
				   " last_seen = max(last_seen, excluded.last_seen),"
				   " txn_count = txn_count + excluded.txn_count,"
				   " attrs = json_patch(attrs, excluded.attrs)"
				   " RETURNING id", err)))
		goto out;
	if ((rc = fd_store_prepare(g->st, &ls,
				   "INSERT INTO entity_links (src, dst, kind, first_seen, last_seen, txn_count)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
				   " ON CONFLICT (src, dst, kind) DO UPDATE SET"
				   " first_seen = min(first_seen, excluded.first_seen),"
				   " last_seen = max(last_seen, excluded.last_seen),"
				   " txn_count = txn_count + excluded.txn_count", err)))
		goto out;
	for (k = 0; k < EK_N; k++) {
		n = fd_intern_count(g->ent[k]);
		dbid[k] = malloc((n ? n : 1) * sizeof(int64_t));
		if (!dbid[k]) {
			rc = fd_err_set(err, FD_EIO, "out of memory");
			goto out;
		}
		for (i = 0; i < n; i++) {
			const struct agg *a = &g->eagg[k][i];

			fd_buf_reset(&attrs);
			if (k == EK_MERCHANT && i < g->mcat_cap && g->mcat[i]) {
				fd_buf_adds(&attrs, "{\"category\":");
				fd_buf_add_json_str(&attrs, g->mcat[i], strlen(g->mcat[i]));
				fd_buf_addc(&attrs, '}');
			} else
				fd_buf_adds(&attrs, "{}");
			sqlite3_bind_text(es, 1, ek_name[k], -1, SQLITE_STATIC);
			sqlite3_bind_text(es, 2, fd_intern_str(g->ent[k], i, NULL), -1, SQLITE_STATIC);
			sqlite3_bind_int64(es, 3, a->first);
			sqlite3_bind_int64(es, 4, a->last);
			sqlite3_bind_int64(es, 5, a->count);
			sqlite3_bind_text(es, 6, attrs.s, (int)attrs.len, SQLITE_STATIC);
			if (sqlite3_step(es) != SQLITE_ROW) {
				rc = fd_store_error(g->st, "writing entities", err);
				goto out;
			}
			dbid[k][i] = sqlite3_column_int64(es, 0);
			sqlite3_reset(es);
			g->res->entities++;
		}
	}
	for (k = 0; k < LK_N; k++) {
		int other = k == LK_DEVICE ? EK_DEVICE : EK_IP;

		n = fd_intern_count(g->link[k]);
		for (i = 0; i < n; i++) {
			const struct agg *a = &g->lagg[k][i];
			uint32_t key[2];

			memcpy(key, fd_intern_str(g->link[k], i, NULL), sizeof(key));
			sqlite3_bind_int64(ls, 1, dbid[EK_ACCOUNT][key[0]]);
			sqlite3_bind_int64(ls, 2, dbid[other][key[1]]);
			sqlite3_bind_text(ls, 3, lk_name[k], -1, SQLITE_STATIC);
			sqlite3_bind_int64(ls, 4, a->first);
			sqlite3_bind_int64(ls, 5, a->last);
			sqlite3_bind_int64(ls, 6, a->count);
			if (sqlite3_step(ls) != SQLITE_DONE) {
				rc = fd_store_error(g->st, "writing entity links", err);
				goto out;
			}
			sqlite3_reset(ls);
			g->res->links++;
		}
	}
out:
	for (k = 0; k < EK_N; k++)
		free(dbid[k]);
	fd_buf_release(&attrs);
	sqlite3_finalize(es);
	sqlite3_finalize(ls);
	return rc;
}

/* ---- validation ---------------------------------------------------------------------- */

struct bad {
	int field;               /* canonical field or -1 for the record */
	const char *cls;         /* static reason class */
	char msg[400];
};

static int utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0, j, k;

	while (i < n) {
		unsigned char c = s[i];
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else
			return 0;
		if (n - i <= k)
			return 0;
		for (j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += k + 1;
	}
	return 1;
}

static int set_bad(struct bad *b, int field, const char *cls, const char *s, size_t n, const char *detail)
{
	char vis[120];

	b->field = field;
	b->cls = cls;
	if (s) {
		fd_visible(vis, sizeof(vis), s, n);
		if (detail)
			snprintf(b->msg, sizeof(b->msg), "%s '%s' (%s)", cls, vis, detail);
		else
			snprintf(b->msg, sizeof(b->msg), "%s '%s'", cls, vis);
	} else
		snprintf(b->msg, sizeof(b->msg), "%s", cls);
	return -1;
}

/* Fetch a field; 1 = present and non-empty (s, n set), 0 = absent or empty. */
static int get(const struct ingest *g, int f, const char **s, size_t *n)
{
	if (!fd_reader_get(g->rd, g->slot[f], s, n))
		return 0;
	return *n > 0;
}

/* Copy a text field into scratch as a NUL-terminated string; stores the offset in *off. */
static int text_field(struct ingest *g, int f, int required, size_t maxlen, size_t *off, struct bad *b)
{
	const char *s;
	size_t n, i;

	*off = (size_t)-1;
	if (!get(g, f, &s, &n)) {
		if (required)
			return set_bad(b, f, "missing required value", NULL, 0, NULL);
		return 0;
	}
	if (n > maxlen)
		return set_bad(b, f, "value too long", s, n > 40 ? 40 : n, "over the limit in bytes");
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return set_bad(b, f, "control character in", s, n, NULL);
	if (!utf8_valid((const unsigned char *)s, n))
		return set_bad(b, f, "not valid UTF-8:", s, n, NULL);
	*off = g->scratch.len;
	if (fd_buf_add(&g->scratch, s, n) || fd_buf_addc(&g->scratch, '\0'))
		return set_bad(b, -1, "out of memory", NULL, 0, NULL);
	return 0;
}

static int build_txn(struct ingest *g, struct fd_txn *t, struct bad *b)
{
	enum { T_ID, T_SENDER, T_RECIP, T_MERCH, T_CAT, T_CHAN, T_DEV, T_IP, T_CITY, T_N };
	static const int tf[T_N] = {FD_F_TXN_ID, FD_F_SENDER_ID, FD_F_RECIPIENT_ID, FD_F_MERCHANT_ID,
				   FD_F_MERCHANT_CATEGORY, FD_F_CHANNEL, FD_F_DEVICE_ID, FD_F_IP, FD_F_CITY};
	size_t off[T_N];
	const char *s, *why;
	size_t n, i;
	int has_lat, has_lon;

	fd_txn_clear(t);
	fd_buf_reset(&g->scratch);
	for (i = 0; i < T_N; i++) {
		int f = tf[i];

		if (text_field(g, f, f == FD_F_TXN_ID || f == FD_F_SENDER_ID,
			       f == FD_F_TXN_ID ? FD_TXN_ID_MAX : FD_TEXT_MAX, &off[i], b))
			return -1;
	}
	/* currency first: the amount's exponent depends on it */
	if (get(g, FD_F_CURRENCY, &s, &n)) {
		char cc[4];

		if (n != 3)
			return set_bad(b, FD_F_CURRENCY, "bad currency", s, n, "not a 3-letter ISO 4217 code");
		for (i = 0; i < 3; i++)
			cc[i] = (char)toupper((unsigned char)s[i]);
		cc[3] = '\0';
		t->exponent = fd_currency_exponent(cc);
		if (t->exponent < 0)
			return set_bad(b, FD_F_CURRENCY, "bad currency", s, n, "not an ISO 4217 code");
		memcpy(t->currency, cc, 4);
	} else {
		memcpy(t->currency, g->default_cur, 4);
		t->exponent = g->default_exp;
	}
	if (!get(g, FD_F_TS, &s, &n))
		return set_bad(b, FD_F_TS, "missing required value", NULL, 0, NULL);
	if ((why = fd_parse_ts(s, n, g->o->tz_offset_min, &t->ts)))
		return set_bad(b, FD_F_TS, "bad timestamp", s, n, why);
	if (!get(g, FD_F_AMOUNT, &s, &n))
		return set_bad(b, FD_F_AMOUNT, "missing required value", NULL, 0, NULL);
	if ((why = fd_parse_amount(s, n, t->exponent, &t->amount))) {
		char d[160];

		snprintf(d, sizeof(d), "%s; %s has %d decimal places", why, t->currency, t->exponent);
		return set_bad(b, FD_F_AMOUNT, "bad amount", s, n, d);
	}
	if (off[T_IP] != (size_t)-1) {
		const char *ip = g->scratch.s + off[T_IP];

		if ((why = fd_parse_ip(ip, strlen(ip))))
			return set_bad(b, FD_F_IP, "bad IP address", ip, strlen(ip), why);
	}
	has_lat = get(g, FD_F_LAT, &s, &n);
	if (has_lat && (why = fd_parse_coord(s, n, 90, &t->lat)))
		return set_bad(b, FD_F_LAT, "bad latitude", s, n, why);
	has_lon = get(g, FD_F_LON, &s, &n);
	if (has_lon && (why = fd_parse_coord(s, n, 180, &t->lon)))
		return set_bad(b, FD_F_LON, "bad longitude", s, n, why);
	if (has_lat != has_lon)
		return set_bad(b, has_lat ? FD_F_LON : FD_F_LAT, "lat and lon must be given together", NULL, 0, NULL);
	t->has_geo = has_lat;
	if (get(g, FD_F_COUNTRY, &s, &n)) {
		char cc[3];

		if (n != 2)
			return set_bad(b, FD_F_COUNTRY, "bad country", s, n, "not a 2-letter ISO 3166-1 code");
		cc[0] = (char)toupper((unsigned char)s[0]);
		cc[1] = (char)toupper((unsigned char)s[1]);
		cc[2] = '\0';
		if (!fd_country_valid(cc))
			return set_bad(b, FD_F_COUNTRY, "bad country", s, n, "not an ISO 3166-1 alpha-2 code");
		memcpy(t->country, cc, 3);
	}
	if (get(g, FD_F_LABEL, &s, &n)) {
		if ((why = fd_parse_label(s, n, &t->label)))
			return set_bad(b, FD_F_LABEL, "bad label", s, n, why);
	}
	/* channel is lower-cased in place (scratch is ours) */
	if (off[T_CHAN] != (size_t)-1) {
		char *c;

		for (c = g->scratch.s + off[T_CHAN]; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	/* scratch no longer grows: take the pointers */
#define PTR(k) (off[k] == (size_t)-1 ? NULL : g->scratch.s + off[k])
	t->txn_id = PTR(T_ID);
	t->sender_id = PTR(T_SENDER);
	t->recipient_id = PTR(T_RECIP);
	t->merchant_id = PTR(T_MERCH);
	t->merchant_category = PTR(T_CAT);
	t->channel = PTR(T_CHAN);
	t->device_id = PTR(T_DEV);
	t->ip = PTR(T_IP);
	t->city = PTR(T_CITY);
#undef PTR
	/* the other columns, unchanged */
	fd_buf_reset(&g->meta);
	{
		size_t count = 0;

		if (fd_reader_unbound_json(g->rd, &g->meta, &count))
			return set_bad(b, -1, "out of memory", NULL, 0, NULL);
		if (count) {
			t->metadata = g->meta.s;
			t->metadata_len = g->meta.len;
		}
	}
	return 0;
}

/* ---- reporting ----------------------------------------------------------------------- */

static void count_reason(struct fd_ingest_result *res, const char *field, const char *cls)
{
	char key[160];
	size_t i;

	snprintf(key, sizeof(key), "%s: %s", field, cls);
	for (i = 0; i < res->nreasons; i++)
		if (strcmp(res->reasons[i].reason, key) == 0) {
			res->reasons[i].count++;
			return;
		}
	if (res->nreasons == FD_INGEST_MAX_REASONS) {
		res->reasons[FD_INGEST_MAX_REASONS - 1].count++;
		memcpy(res->reasons[FD_INGEST_MAX_REASONS - 1].reason, "other", 6);
		return;
	}
	memcpy(res->reasons[res->nreasons].reason, key, sizeof(key));
	res->reasons[res->nreasons].count = 1;
	res->nreasons++;
}

static int reject(struct ingest *g, const char *field, const char *cls, const char *msg, struct fd_err *err)
{
	struct fd_reject r;

	g->res->rejected++;
	count_reason(g->res, field, cls);
	if (g->o->strict) {
		if (strcmp(field, "record") == 0)
			return fd_err_set(err, FD_EINPUT, "%s:%lld: %s (--strict: nothing of this input was written)",
					  g->res->name, (long long)fd_reader_line(g->rd), msg);
		return fd_err_set(err, FD_EINPUT, "%s:%lld: field '%s': %s (--strict: nothing of this input was written)",
				  g->res->name, (long long)fd_reader_line(g->rd), field, msg);
	}
	r.source = g->res->name;
	r.line = fd_reader_line(g->rd);
	r.field = field;
	r.reason = msg;
	r.reason_class = cls;
	fd_reader_raw(g->rd, &r.raw, &r.rawlen);
	if (g->o->on_reject)
		g->o->on_reject(g->o->ctx, &r);
	return FD_OK;
}

/* ---- the input ----------------------------------------------------------------------- */

/* Copy standard input to a temporary file, hashing it; *tmp receives the file's path. */
static int spool_stdin(char **tmp, char hex[65], int64_t *size, struct fd_err *err)
{
	const char *dir = getenv("TMPDIR");
	struct fd_buf path = FD_BUF_INIT;
	crypto_hash_sha256_state hs;
	unsigned char h[crypto_hash_sha256_BYTES], *buf;
	int fd, rc = FD_OK;
	size_t i;

	*tmp = NULL;
	*size = 0;
	if (fd_buf_addf(&path, "%s/fd-ingest-stdin.XXXXXX", dir && *dir ? dir : "/tmp"))
		return fd_err_set(err, FD_EIO, "out of memory");
	fd = mkstemp(path.s);
	if (fd < 0) {
		rc = fd_err_set(err, FD_EIO, "cannot create a temporary file for standard input in '%s': %s",
				dir && *dir ? dir : "/tmp", strerror(errno));
		fd_buf_release(&path);
		return rc;
	}
	buf = malloc(1 << 20);
	if (!buf) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto out;
	}
	crypto_hash_sha256_init(&hs);
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, 1 << 20), w = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = fd_err_set(err, FD_EIO, "reading standard input: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		crypto_hash_sha256_update(&hs, buf, (unsigned long long)n);
		*size += n;
		while (w < n) {
			ssize_t k = write(fd, buf + w, (size_t)(n - w));

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				rc = fd_err_set(err, FD_EIO, "spooling standard input to '%s': %s", path.s,
						strerror(errno));
				goto out;
			}
			w += k;
		}
	}
	crypto_hash_sha256_final(&hs, h);
	for (i = 0; i < sizeof(h); i++) {
		static const char xd[] = "0123456789abcdef";

		hex[2 * i] = xd[h[i] >> 4];
		hex[2 * i + 1] = xd[h[i] & 15];
	}
	hex[64] = '\0';
out:
	free(buf);
	if (close(fd) != 0 && rc == FD_OK)
		rc = fd_err_set(err, FD_EIO, "spooling standard input: %s", strerror(errno));
	if (rc) {
		unlink(path.s);
		fd_buf_release(&path);
	} else
		*tmp = fd_buf_detach(&path, NULL);
	return rc;
}

/* Replay the stored records of a source through on_accept (for --emit on a re-run). */
static int replay_source(struct fd_store *st, const struct fd_ingest_opts *o, int64_t source_id,
			 struct fd_err *err)
{
	struct fd_txn_iter *it;
	struct fd_txn t;
	int rc;

	if (!o->on_accept)
		return FD_OK;
	if ((rc = fd_txn_iter_open(&it, st, FD_TXN_BY_SOURCE, source_id, 0, err)))
		return rc;
	while ((rc = fd_txn_iter_next(it, &t, err)) == 1) {
		if (o->on_accept(o->ctx, &t)) {
			rc = -fd_err_set(err, FD_EIO, "writing the emitted records failed");
			break;
		}
	}
	fd_txn_iter_free(it);
	return rc < 0 ? -rc : FD_OK;
}

static int find_source(struct fd_store *st, const char *sha, int64_t *id, int64_t *at, struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	*id = 0;
	if ((rc = fd_store_prepare(st, &s, "SELECT id, ingested_at FROM sources WHERE sha256 = ?1", err)))
		return rc;
	sqlite3_bind_text(s, 1, sha, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		*at = sqlite3_column_int64(s, 1);
		rc = FD_OK;
	} else if (rc == SQLITE_DONE)
		rc = FD_OK;
	else
		rc = fd_store_error(st, "reading sources", err);
	sqlite3_finalize(s);
	return rc;
}

static int insert_txn(struct ingest *g, const struct fd_txn *t, int *dup, struct fd_err *err)
{
	sqlite3_stmt *s = g->ins;
	int64_t id;

	*dup = 0;
#define BTEXT(i, v) ((v) ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i))
	BTEXT(1, t->txn_id);
	sqlite3_bind_int64(s, 2, t->ts);
	sqlite3_bind_int64(s, 3, t->amount);
	sqlite3_bind_text(s, 4, t->currency, 3, SQLITE_STATIC);
	BTEXT(5, t->sender_id);
	BTEXT(6, t->recipient_id);
	BTEXT(7, t->merchant_id);
	BTEXT(8, t->merchant_category);
	BTEXT(9, t->channel);
	BTEXT(10, t->device_id);
	BTEXT(11, t->ip);
	if (t->has_geo) {
		sqlite3_bind_double(s, 12, t->lat);
		sqlite3_bind_double(s, 13, t->lon);
	} else {
		sqlite3_bind_null(s, 12);
		sqlite3_bind_null(s, 13);
	}
	BTEXT(14, t->country[0] ? t->country : NULL);
	BTEXT(15, t->city);
	if (t->label >= 0)
		sqlite3_bind_int(s, 16, t->label);
	else
		sqlite3_bind_null(s, 16);
	if (t->metadata)
		sqlite3_bind_text(s, 17, t->metadata, (int)t->metadata_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 17);
	sqlite3_bind_int64(s, 18, t->source_id);
	sqlite3_bind_int64(s, 19, t->line);
#undef BTEXT
	if (sqlite3_step(s) != SQLITE_DONE) {
		int rc = fd_store_error(g->st, "writing transactions", err);

		sqlite3_reset(s);
		return rc;
	}
	sqlite3_reset(s);
	if (sqlite3_changes(fd_store_db(g->st)) == 0) {
		*dup = 1;
		return FD_OK;
	}
	id = sqlite3_last_insert_rowid(fd_store_db(g->st));
	/* the row digest, in the table's column order (fd_audit.h) */
	fd_digest_int(&g->digest, id);
	fd_digest_text(&g->digest, t->txn_id, strlen(t->txn_id));
	fd_digest_int(&g->digest, t->ts);
	fd_digest_int(&g->digest, t->amount);
	fd_digest_text(&g->digest, t->currency, 3);
#define DTEXT(v) fd_digest_text(&g->digest, v, (v) ? strlen(v) : 0)
	DTEXT(t->sender_id);
	DTEXT(t->recipient_id);
	DTEXT(t->merchant_id);
	DTEXT(t->merchant_category);
	DTEXT(t->channel);
	DTEXT(t->device_id);
	DTEXT(t->ip);
	if (t->has_geo) {
		fd_digest_real(&g->digest, t->lat);
		fd_digest_real(&g->digest, t->lon);
	} else {
		fd_digest_null(&g->digest);
		fd_digest_null(&g->digest);
	}
	if (t->country[0])
		fd_digest_text(&g->digest, t->country, 2);
	else
		fd_digest_null(&g->digest);
	DTEXT(t->city);
#undef DTEXT
	if (t->label >= 0)
		fd_digest_int(&g->digest, t->label);
	else
		fd_digest_null(&g->digest);
	fd_digest_text(&g->digest, t->metadata, t->metadata_len);
	fd_digest_int(&g->digest, t->source_id);
	fd_digest_int(&g->digest, t->line);
	fd_digest_row_end(&g->digest);
	return FD_OK;
}

static int describe_dup(struct ingest *g, const char *txn_id, struct bad *b)
{
	sqlite3_stmt *s = g->dup;
	char vis[160];

	fd_visible(vis, sizeof(vis), txn_id, strlen(txn_id));
	b->field = FD_F_TXN_ID;
	b->cls = "duplicate txn_id";
	sqlite3_bind_text(s, 1, txn_id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		int64_t src = sqlite3_column_int64(s, 0), line = sqlite3_column_int64(s, 1);
		const char *path = (const char *)sqlite3_column_text(s, 2);

		if (src == g->res->source_id)
			snprintf(b->msg, sizeof(b->msg), "duplicate txn_id '%s' (first seen on line %lld of this input)",
				 vis, (long long)line);
		else
			snprintf(b->msg, sizeof(b->msg), "duplicate txn_id '%s' (already in source %lld '%s' line %lld)",
				 vis, (long long)src, path ? path : "?", (long long)line);
	} else
		snprintf(b->msg, sizeof(b->msg), "duplicate txn_id '%s'", vis);
	sqlite3_reset(s);
	return -1;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_source_row(struct ingest *g, const char *path, struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = fd_store_prepare(g->st, &s,
				   "INSERT INTO sources (path, sha256, size, format, compression, rows_accepted,"
				   " rows_rejected, actor, ingested_at, tool_version, options)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, ?6, ?7, ?8, ?9) RETURNING id", err)))
		return rc;
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, g->res->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, g->res->size);
	sqlite3_bind_text(s, 4, fd_format_name(g->res->format), -1, SQLITE_STATIC);
	if (g->res->compressed)
		sqlite3_bind_text(s, 5, "zstd", -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 5);
	sqlite3_bind_text(s, 6, fd_store_who(g->st)->actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, wall_ms());
	sqlite3_bind_text(s, 8, fd_store_who(g->st)->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, g->o->options_json ? g->o->options_json : "{}", -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		g->res->source_id = sqlite3_column_int64(s, 0);
		rc = FD_OK;
	} else
		rc = fd_store_error(g->st, "writing the sources row", err);
	sqlite3_finalize(s);
	return rc;
}

static int finish_source(struct ingest *g, const char *path, struct fd_err *err)
{
	struct fd_ingest_result *res = g->res;
	struct fd_audit_entry e;
	struct fd_buf det = FD_BUF_INIT;
	sqlite3_stmt *s;
	char id[24], digest[65];
	size_t i;
	int rc;

	if ((rc = fd_store_prepare(g->st, &s, "UPDATE sources SET rows_accepted = ?1, rows_rejected = ?2 WHERE id = ?3", err)))
		return rc;
	sqlite3_bind_int64(s, 1, res->accepted);
	sqlite3_bind_int64(s, 2, res->rejected);
	sqlite3_bind_int64(s, 3, res->source_id);
	rc = sqlite3_step(s) == SQLITE_DONE ? FD_OK : fd_store_error(g->st, "updating the sources row", err);
	sqlite3_finalize(s);
	if (rc)
		return rc;
	fd_digest_final(&g->digest, digest);
	fd_buf_adds(&det, "{\"path\":");
	fd_buf_add_json_str(&det, path, strlen(path));
	fd_buf_adds(&det, ",\"sha256\":\"");
	fd_buf_adds(&det, res->sha256);
	fd_buf_addf(&det, "\",\"size\":%lld,\"format\":\"%s\",\"accepted\":%lld,\"rejected\":%lld,"
		    "\"entities\":%lld,\"links\":%lld,\"table\":\"transactions\",\"key\":\"source_id\",\"rejects\":{",
		    (long long)res->size, fd_format_name(res->format), (long long)res->accepted,
		    (long long)res->rejected, (long long)res->entities, (long long)res->links);
	for (i = 0; i < res->nreasons; i++) {
		if (i)
			fd_buf_addc(&det, ',');
		fd_buf_add_json_str(&det, res->reasons[i].reason, strlen(res->reasons[i].reason));
		fd_buf_addf(&det, ":%lld", (long long)res->reasons[i].count);
	}
	if (fd_buf_adds(&det, "}}"))
		return fd_err_set(err, FD_EIO, "out of memory");
	snprintf(id, sizeof(id), "%lld", (long long)res->source_id);
	e.action = "ingest.source";
	e.object_type = "source";
	e.object_id = id;
	e.details = det.s;
	e.data_digest = digest;
	rc = fd_audit_append(g->st, &e, &res->audit_seq, err);
	fd_buf_release(&det);
	return rc;
}

static int check_columns(struct ingest *g, struct fd_err *err)
{
	static const int required[] = {FD_F_TXN_ID, FD_F_TS, FD_F_AMOUNT, FD_F_SENDER_ID};
	const char *const *names;
	size_t ncol = fd_reader_columns(g->rd, &names), i;
	struct fd_buf list = FD_BUF_INIT;
	int rc = FD_OK;

	if (fd_reader_format(g->rd) != FD_FMT_CSV)
		return FD_OK;
	if (ncol == 0)
		return fd_err_set(err, FD_EINPUT, "%s: empty input: no header row", g->res->name);
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		const char *src = fd_colmap_source(g->o->map, required[i]);
		size_t j;

		if (fd_reader_has_column(g->rd, src))
			continue;
		for (j = 0; j < ncol && j < 30; j++) {
			if (j)
				fd_buf_adds(&list, ", ");
			fd_buf_adds(&list, names[j]);
		}
		if (ncol > 30)
			fd_buf_adds(&list, ", ...");
		if (strcmp(src, fd_field_name[required[i]]) == 0)
			rc = fd_err_set(err, FD_EINPUT, "%s:1: no column '%s' for the required field %s (columns: %s); map one with --map",
					g->res->name, src, fd_field_name[required[i]], list.s ? list.s : "");
		else
			rc = fd_err_set(err, FD_EINPUT, "%s:1: no column '%s', mapped to the required field %s (columns: %s)",
					g->res->name, src, fd_field_name[required[i]], list.s ? list.s : "");
		break;
	}
	fd_buf_release(&list);
	return rc;
}

int fd_ingest(struct fd_store *st, const char *path, const struct fd_ingest_opts *o,
	      struct fd_ingest_result *res, struct fd_err *err)
{
	struct ingest g;
	struct fd_in *in = NULL;
	struct fd_reader_opts ro;
	struct fd_txn t;
	char *spool = NULL;
	const char *open_path;
	int is_stdin = !path || strcmp(path, "-") == 0;
	int rc, k;
	int64_t prev_id, prev_at, n = 0;

	memset(res, 0, sizeof(*res));
	memset(&g, 0, sizeof(g));
	g.st = st;
	g.o = o;
	g.res = res;
	snprintf(res->name, sizeof(res->name), "%s", is_stdin ? "<stdin>" : path);
	if (sodium_init() < 0)
		return fd_err_set(err, FD_EIO, "libsodium failed to initialise");
	snprintf(g.default_cur, sizeof(g.default_cur), "%s", o->currency ? o->currency : "USD");
	g.default_exp = fd_currency_exponent(g.default_cur);
	if (g.default_exp < 0)
		return fd_err_set(err, FD_EUSAGE, "'%s' is not an ISO 4217 currency code", g.default_cur);

	/* 1. the bytes' identity, before anything else */
	if (is_stdin) {
		if ((rc = spool_stdin(&spool, res->sha256, &res->size, err)))
			return rc;
		open_path = spool;
	} else {
		if ((rc = fd_sha256_file(path, res->sha256, &res->size, err)))
			return rc;
		open_path = path;
	}

	/* 2. one transaction for the whole input */
	if ((rc = fd_store_begin(st, err)))
		goto out;
	if ((rc = find_source(st, res->sha256, &prev_id, &prev_at, err)))
		goto out;
	if (prev_id) {
		fd_store_rollback(st);
		res->already = 1;
		res->source_id = prev_id;
		res->already_at = prev_at;
		rc = replay_source(st, o, prev_id, err);
		goto out;
	}
	if ((rc = fd_in_open(&in, open_path, 0, err)))
		goto out;
	if (is_stdin)
		fd_err_clear(err);
	memset(&ro, 0, sizeof(ro));
	ro.format = o->format;
	ro.delimiter = o->delimiter;
	if ((rc = fd_reader_open(&g.rd, in, &ro, err))) {
		if (is_stdin)
			fd_err_prefix(err, "<stdin>");
		goto out;
	}
	res->format = fd_reader_format(g.rd);
	res->compressed = fd_in_compressed(in);
	for (k = 0; k < FD_NFIELDS; k++)
		g.slot[k] = fd_reader_bind(g.rd, fd_colmap_source(o->map, k));
	if ((rc = check_columns(&g, err)))
		goto out;
	for (k = 0; k < EK_N; k++)
		if (!(g.ent[k] = fd_intern_create())) {
			rc = fd_err_set(err, FD_EIO, "out of memory");
			goto out;
		}
	for (k = 0; k < LK_N; k++)
		if (!(g.link[k] = fd_intern_create())) {
			rc = fd_err_set(err, FD_EIO, "out of memory");
			goto out;
		}
	if ((rc = write_source_row(&g, is_stdin ? "-" : path, err)))
		goto out;
	if ((rc = fd_store_prepare(st, &g.ins,
				   "INSERT INTO transactions (txn_id, ts, amount, currency, sender_id, recipient_id,"
				   " merchant_id, merchant_category, channel, device_id, ip, lat, lon, country, city,"
				   " label, metadata, source_id, source_line)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
				   " ?17, ?18, ?19) ON CONFLICT (txn_id) DO NOTHING", err)) ||
	    (rc = fd_store_prepare(st, &g.dup,
				   "SELECT t.source_id, t.source_line, s.path FROM transactions t"
				   " JOIN sources s ON s.id = t.source_id WHERE t.txn_id = ?1", err)))
		goto out;
	fd_digest_init(&g.digest);

	/* 3. the records */
	for (;;) {
		struct bad b;
		int r = fd_reader_next(g.rd, err), dup;

		if (r == 0)
			break;
		if (r == -FD_EINPUT) {
			char cls[64];

			/* a malformed record: the reader's message says what */
			snprintf(cls, sizeof(cls), "%s", "malformed record");
			if ((rc = reject(&g, "record", cls, err->msg, err)))
				goto out;
			fd_err_clear(err);
			continue;
		}
		if (r < 0) {
			rc = -r;
			goto out;
		}
		if (o->on_progress && (++n & 8191) == 0)
			o->on_progress(o->ctx, n, fd_in_raw_bytes(in), res->size);
		if (build_txn(&g, &t, &b)) {
			if (b.field < 0 && strcmp(b.cls, "out of memory") == 0) {
				rc = fd_err_set(err, FD_EIO, "out of memory");
				goto out;
			}
			if ((rc = reject(&g, b.field < 0 ? "record" : fd_field_name[b.field], b.cls, b.msg, err)))
				goto out;
			continue;
		}
		t.source_id = res->source_id;
		t.line = fd_reader_line(g.rd);
		if ((rc = insert_txn(&g, &t, &dup, err)))
			goto out;
		if (dup) {
			describe_dup(&g, t.txn_id, &b);
			if ((rc = reject(&g, "txn_id", b.cls, b.msg, err)))
				goto out;
			continue;
		}
		res->accepted++;
		if (track_entities(&g, &t)) {
			rc = fd_err_set(err, FD_EIO, "out of memory");
			goto out;
		}
		if (o->on_accept && o->on_accept(o->ctx, &t)) {
			rc = fd_err_set(err, FD_EIO, "writing the emitted records failed");
			goto out;
		}
	}
	if (fd_in_raw_bytes(in) != (uint64_t)res->size) {
		rc = fd_err_set(err, FD_EIO, "%s changed while it was being read (%lld bytes hashed, %llu read)",
				res->name, (long long)res->size, (unsigned long long)fd_in_raw_bytes(in));
		goto out;
	}
	if (o->on_progress)
		o->on_progress(o->ctx, n, fd_in_raw_bytes(in), res->size);

	/* 4. entities, custody, audit; then commit */
	if ((rc = flush_entities(&g, err)) || (rc = finish_source(&g, is_stdin ? "-" : path, err)))
		goto out;
	sqlite3_finalize(g.ins);
	sqlite3_finalize(g.dup);
	g.ins = g.dup = NULL;
	rc = fd_store_commit(st, err);
out:
	if (rc)
		fd_store_rollback(st);
	sqlite3_finalize(g.ins);
	sqlite3_finalize(g.dup);
	fd_reader_free(g.rd);
	fd_in_free(in);
	if (spool) {
		unlink(spool);
		free(spool);
	}
	for (k = 0; k < EK_N; k++) {
		fd_intern_free(g.ent[k]);
		free(g.eagg[k]);
	}
	for (k = 0; k < LK_N; k++) {
		fd_intern_free(g.link[k]);
		free(g.lagg[k]);
	}
	for (size_t i = 0; i < g.mcat_cap; i++)
		free(g.mcat[i]);
	free(g.mcat);
	fd_buf_release(&g.scratch);
	fd_buf_release(&g.meta);
	fd_buf_release(&g.msg);
	return rc;
}
