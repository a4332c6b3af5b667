/* fd_txnstream.c — see fd_txnstream.h. */
#include "fd_txnstream.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fd_buf.h"
#include "banned.h"

/* ---- column mapping ------------------------------------------------------------------ */

struct fd_colmap {
	char *src[FD_NFIELDS];  /* NULL = the canonical name */
	char *direction;        /* debit/credit indicator column, or NULL */
	char *alt[FD_NFIELDS];  /* a preset's second choice, read when the header lacks src */
};

struct preset {
	const char *name;
	const char *pairs[FD_NFIELDS * 2 + 3]; /* canonical, source, ..., NULL; a canonical
						  named twice: the second source is read when
						  the header lacks the first */
};

/* Built-in mappings for common public export layouts. */
static const struct preset presets[] = {
	{"fd", {NULL}},
	/* The "Sparkov" simulated credit-card data, in both of its layouts: Kaggle's
	 * fraudTrain.csv / fraudTest.csv (trans_date_trans_time, naive local time; its
	 * unix_time column is shifted by years and so is not read) and the generator's own
	 * output (unix_time, epoch seconds; no trans_date_trans_time).  The card (cc_num) is
	 * the sender.  The merchant's coordinates locate the transaction, which is
	 * card-present at the merchant; the customer's lat/long is the home address, the same
	 * on every row of a card, and stays in metadata with acct_num and the rest. */
	{"sparkov", {"txn_id", "trans_num", "ts", "trans_date_trans_time", "ts", "unix_time",
		     "amount", "amt", "sender_id", "cc_num", "merchant_id", "merchant",
		     "merchant_category", "category", "lat", "merch_lat", "lon", "merch_long",
		     "label", "is_fraud", NULL}},
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
	for (i = 0; i < FD_NFIELDS; i++) {
		free(m->src[i]);
		free(m->alt[i]);
	}
	free(m->direction);
	free(m);
}

const char *fd_colmap_direction(const struct fd_colmap *m)
{
	return m ? m->direction : NULL;
}

int fd_amount_sign_parse(const char *s)
{
	if (s && !strcmp(s, "signed"))
		return FD_SIGN_SIGNED;
	if (s && !strcmp(s, "debit-negative"))
		return FD_SIGN_DEBIT_NEGATIVE;
	return -1;
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
	if (m && m->direction &&
	    ((!first && fd_buf_addc(out, ',')) || fd_buf_adds(out, "\"direction\":") ||
	     fd_buf_add_json_str(out, m->direction, strlen(m->direction))))
		return -1;
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
	int seen[FD_NFIELDS + 1] = {0}, rc = FD_OK;

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
		if (fld < 0 && kend - k == 9 && !memcmp(k, "direction", 9))
			fld = FD_NFIELDS;   /* the debit/credit indicator */
		if (fld < 0) {
			char vis[80];

			rc = fd_err_set(err, FD_EINPUT, "%s:%ld: '%s' is not a canonical field", path, lineno,
					fd_visible(vis, sizeof(vis), k, (size_t)(kend - k)));
			break;
		}
		if (seen[fld]) {
			rc = fd_err_set(err, FD_EINPUT, "%s:%ld: field '%s' is mapped twice (first on line %d)",
					path, lineno, fld == FD_NFIELDS ? "direction" : fd_field_name[fld], seen[fld]);
			break;
		}
		seen[fld] = (int)lineno;
		if (vend - v >= 2 && *v == '"' && vend[-1] == '"') {
			v++;
			vend--;
		}
		if (vend == v) {
			rc = fd_err_set(err, FD_EINPUT, "%s:%ld: no source column for '%s'", path, lineno,
					fld == FD_NFIELDS ? "direction" : fd_field_name[fld]);
			break;
		}
		if (fld == FD_NFIELDS) {
			free(m->direction);
			if (!(m->direction = strndup(v, (size_t)(vend - v)))) {
				rc = fd_err_set(err, FD_EIO, "out of memory");
				break;
			}
		} else if (set_map(m, fld, v, (size_t)(vend - v))) {
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

				if (f >= 0 && m->src[f]) {
					if (!(m->alt[f] = strdup(p->pairs[i + 1]))) {
						rc = fd_err_set(err, FD_EIO, "out of memory");
						break;
					}
				} else if (f < 0 || set_map(m, f, p->pairs[i + 1], strlen(p->pairs[i + 1]))) {
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

/* ---- the stream ---------------------------------------------------------------------- */

struct fd_txnstream {
	struct fd_in *in;
	struct fd_reader *rd;
	char *name;              /* for messages */
	const struct fd_colmap *map;
	const char *src[FD_NFIELDS]; /* the column read for each field (the map's or its alt) */
	int slot[FD_NFIELDS];
	int tz_offset_min;
	int default_exp;
	char default_cur[4];
	struct fd_buf scratch;   /* NUL-terminated copies of the current record's text fields */
	struct fd_buf meta;      /* the current record's other columns, as JSON */
	int no_metadata;
	struct fd_tsopts tso;    /* zone and date formats */
	int ts_plain;            /* neither: fd_parse_ts with tz_offset_min */
	int amount_flags, amount_sign;
	int dir_slot;            /* the debit/credit column's slot, or -1 */
	int64_t rounded;
	int enc_given;           /* an encoding other than plain UTF-8 was asked for */
	/* the last valid currency and country: an export mostly repeats them, and a match
	 * saves the table searches (zeroed: no code yet) */
	char last_cur[4];
	int last_exp;
	char last_cty[3];
};

/* ---- validation ---------------------------------------------------------------------- */

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

static int set_bad(struct fd_txn_bad *b, int field, const char *cls, const char *s, size_t n, const char *detail)
{
	char vis[120];

	b->field = field;
	b->field_name = field < 0 ? "record" : fd_field_name[field];
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
static int get(const struct fd_txnstream *g, int f, const char **s, size_t *n)
{
	if (!fd_reader_get(g->rd, g->slot[f], s, n))
		return 0;
	return *n > 0;
}

/* Copy a text field into scratch as a NUL-terminated string; stores the offset in *off. */
static int text_field(struct fd_txnstream *g, int f, int required, size_t maxlen, size_t *off, struct fd_txn_bad *b)
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
	/* printable ASCII, the common case, needs neither check below: one pass finds the first
	 * byte that is not, and only from there are control bytes and UTF-8 looked at */
	for (i = 0; i < n && (unsigned char)s[i] - 0x20u < 0x5fu; i++)
		;
	if (i < n) {
		for (; i < n; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				return set_bad(b, f, "control character in", s, n, NULL);
		if (!utf8_valid((const unsigned char *)s, n))
			return set_bad(b, f, "not valid UTF-8:", s, n, NULL);
	}
	/* an id of spaces names nobody: it would merge unrelated rows into one entity */
	if (f == FD_F_TXN_ID || f == FD_F_SENDER_ID || f == FD_F_RECIPIENT_ID ||
	    f == FD_F_MERCHANT_ID || f == FD_F_DEVICE_ID) {
		for (i = 0; i < n && s[i] == ' '; i++)
			;
		if (i == n)
			return set_bad(b, f, "blank id", s, n, NULL);
	}
	/* the value and its NUL in one copy (fd_buf_grow keeps room for a NUL past the len) */
	if (fd_buf_grow(&g->scratch, n + 1))
		return set_bad(b, -1, "out of memory", NULL, 0, NULL);
	*off = g->scratch.len;
	memcpy(g->scratch.s + g->scratch.len, s, n);
	g->scratch.len += n + 1;
	g->scratch.s[g->scratch.len - 1] = '\0';
	g->scratch.s[g->scratch.len] = '\0';
	return 0;
}

/* "debit" / "credit" for an indicator value, or NULL. */
static const char *direction_word(const char *s, size_t n)
{
	static const char *const debit[] = {"d", "dr", "dbit", "debit", "s", "soll", NULL};
	static const char *const credit[] = {"c", "cr", "crdt", "credit", "h", "haben", NULL};
	int i;

	for (i = 0; debit[i]; i++)
		if (strlen(debit[i]) == n && !strncasecmp(debit[i], s, n))
			return "debit";
	for (i = 0; credit[i]; i++)
		if (strlen(credit[i]) == n && !strncasecmp(credit[i], s, n))
			return "credit";
	return NULL;
}

static int build_txn(struct fd_txnstream *g, struct fd_txn *t, struct fd_txn_bad *b)
{
	enum { T_ID, T_SENDER, T_RECIP, T_MERCH, T_CAT, T_CHAN, T_DEV, T_IP, T_CITY, T_N };
	static const int tf[T_N] = {FD_F_TXN_ID, FD_F_SENDER_ID, FD_F_RECIPIENT_ID, FD_F_MERCHANT_ID,
				   FD_F_MERCHANT_CATEGORY, FD_F_CHANNEL, FD_F_DEVICE_ID, FD_F_IP, FD_F_CITY};
	size_t off[T_N];
	const char *s, *why;
	size_t n, i;
	int has_lat, has_lon;
	const char *dir = NULL;

	fd_txn_clear(t);
	fd_buf_reset(&g->scratch);
	if (g->enc_given) {
		const char *col;
		size_t cn, at;

		if (fd_reader_invalid_at(g->rd, &col, &cn, &at)) {
			char vis[80], d[200];
			int f;

			fd_visible(vis, sizeof(vis), col, cn);
			for (f = 0; f < FD_NFIELDS; f++)
				if (strlen(fd_colmap_source(g->map, f)) == cn &&
				    !memcmp(fd_colmap_source(g->map, f), col, cn))
					break;
			snprintf(d, sizeof(d), "not valid %s: column '%s', byte %zu of the field",
				 fd_reader_encoding(g->rd), vis, at);
			set_bad(b, f < FD_NFIELDS ? f : -1, d, NULL, 0, NULL);
			b->cls = "not valid in the encoding";
			return -1;
		}
	}
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
		if (memcmp(cc, g->last_cur, 4) == 0) {
			t->exponent = g->last_exp;
		} else {
			t->exponent = fd_currency_exponent(cc);
			if (t->exponent < 0)
				return set_bad(b, FD_F_CURRENCY, "bad currency", s, n, "not an ISO 4217 code");
			memcpy(g->last_cur, cc, 4);
			g->last_exp = t->exponent;
		}
		memcpy(t->currency, cc, 4);
	} else {
		memcpy(t->currency, g->default_cur, 4);
		t->exponent = g->default_exp;
	}
	if (!get(g, FD_F_TS, &s, &n))
		return set_bad(b, FD_F_TS, "missing required value", NULL, 0, NULL);
	if ((why = g->ts_plain ? fd_parse_ts(s, n, g->tz_offset_min, &t->ts)
			       : fd_parse_ts_opts(s, n, &g->tso, &t->ts)))
		return set_bad(b, FD_F_TS, "bad timestamp", s, n, why);
	if (!get(g, FD_F_AMOUNT, &s, &n))
		return set_bad(b, FD_F_AMOUNT, "missing required value", NULL, 0, NULL);
	{
		int rounded = 0;

		if ((why = fd_parse_amount_ex(s, n, t->exponent, g->amount_flags, &t->amount, &rounded))) {
			char d[240];

			snprintf(d, sizeof(d), "%s; %s has %d decimal places", why, t->currency, t->exponent);
			return set_bad(b, FD_F_AMOUNT, "bad amount", s, n, d);
		}
		g->rounded += rounded;
	}
	if (g->dir_slot >= 0) {
		const char *dv;
		size_t dn;

		if (!fd_reader_get(g->rd, g->dir_slot, &dv, &dn) || dn == 0)
			return set_bad(b, -1, "missing debit/credit indicator", NULL, 0, NULL);
		if (!(dir = direction_word(dv, dn)))
			return set_bad(b, -1, "bad debit/credit indicator", dv, dn,
				       "expected D or C, DR or CR, DBIT or CRDT, debit or credit, S or H");
	} else if (g->amount_sign == FD_SIGN_DEBIT_NEGATIVE) {
		dir = t->amount < 0 || (n && (s[0] == '-' || s[n - 1] == '-')) ? "debit" : "credit";
		if (t->amount < 0)
			t->amount = -t->amount;
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
		if (memcmp(cc, g->last_cty, 3) != 0) {
			if (!fd_country_valid(cc))
				return set_bad(b, FD_F_COUNTRY, "bad country", s, n, "not an ISO 3166-1 alpha-2 code");
			memcpy(g->last_cty, cc, 3);
		}
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
	if (!g->no_metadata) {
		size_t count = 0;

		if (fd_reader_unbound_json(g->rd, &g->meta, &count))
			return set_bad(b, -1, "out of memory", NULL, 0, NULL);
		if (dir) {
			/* "...}" -> "...,"debit_credit":"debit"}" */
			g->meta.len--;
			if ((count && fd_buf_addc(&g->meta, ',')) || fd_buf_adds(&g->meta, "\"debit_credit\":\"") ||
			    fd_buf_adds(&g->meta, dir) || fd_buf_adds(&g->meta, "\"}"))
				return set_bad(b, -1, "out of memory", NULL, 0, NULL);
			count++;
		}
		if (count) {
			t->metadata = g->meta.s;
			t->metadata_len = g->meta.len;
		}
	}
	return 0;
}

static int check_columns(struct fd_txnstream *g, struct fd_err *err)
{
	static const int required[] = {FD_F_TXN_ID, FD_F_TS, FD_F_AMOUNT, FD_F_SENDER_ID};
	const char *const *names;
	size_t ncol = fd_reader_columns(g->rd, &names), i;
	struct fd_buf list = FD_BUF_INIT;
	int rc = FD_OK;

	if (fd_reader_format(g->rd) != FD_FMT_CSV)
		return FD_OK;
	if (ncol == 0)
		return fd_err_set(err, FD_EINPUT, "%s: empty input: no header row", g->name);
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		const char *src = g->src[required[i]];
		size_t j;

		if (fd_reader_has_column(g->rd, src))
			continue;
		for (j = 0; j < ncol && j < 30; j++) {
			if (j)
				fd_buf_adds(&list, ", ");
			char vis[128];

			fd_buf_adds(&list, fd_visible(vis, sizeof(vis), names[j], strlen(names[j])));
		}
		if (ncol > 30)
			fd_buf_adds(&list, ", ...");
		if (strcmp(src, fd_field_name[required[i]]) == 0)
			rc = fd_err_set(err, FD_EINPUT, "%s:1: no column '%s' for the required field %s (columns: %s); map one with --map",
					g->name, src, fd_field_name[required[i]], list.s ? list.s : "");
		else if (g->map && g->map->alt[required[i]])
			rc = fd_err_set(err, FD_EINPUT, "%s:1: no column '%s' or '%s', mapped to the required field %s (columns: %s)",
					g->name, src, g->map->alt[required[i]], fd_field_name[required[i]],
					list.s ? list.s : "");
		else
			rc = fd_err_set(err, FD_EINPUT, "%s:1: no column '%s', mapped to the required field %s (columns: %s)",
					g->name, src, fd_field_name[required[i]], list.s ? list.s : "");
		break;
	}
	fd_buf_release(&list);
	return rc;
}


int fd_txnstream_open(struct fd_txnstream **out, const char *path, const char *name,
		      const struct fd_txnstream_opts *o, struct fd_err *err)
{
	struct fd_txnstream *g;
	struct fd_reader_opts ro;
	int rc, k;

	*out = NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return fd_err_set(err, FD_EIO, "out of memory");
	g->map = o ? o->map : NULL;
	g->no_metadata = o ? o->no_metadata : 0;
	g->tz_offset_min = o ? o->tz_offset_min : 0;
	g->dir_slot = -1;
	if (o) {
		g->tso.tz = o->tz;
		g->tso.dst_policy = o->dst_policy;
		g->tso.formats = o->date_formats;
		g->amount_flags = o->amount_flags;
		g->amount_sign = o->amount_sign;
		g->enc_given = o->encoding && strcasecmp(o->encoding, "utf-8") && strcasecmp(o->encoding, "utf8");
	}
	g->ts_plain = !g->tso.tz && !(g->tso.formats && g->tso.formats[0]);
	snprintf(g->default_cur, sizeof(g->default_cur), "%s", o && o->currency ? o->currency : "USD");
	g->default_exp = fd_currency_exponent(g->default_cur);
	if (g->default_exp < 0) {
		rc = fd_err_set(err, FD_EUSAGE, "'%s' is not an ISO 4217 currency code", g->default_cur);
		goto fail;
	}
	if ((rc = fd_in_open(&g->in, path, o && o->hash ? FD_IN_HASH : 0, err)))
		goto fail;
	g->name = strdup(name ? name : fd_in_name(g->in));
	if (!g->name || (name && fd_in_set_name(g->in, name))) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto fail;
	}
	memset(&ro, 0, sizeof(ro));
	ro.format = o ? o->format : FD_FMT_AUTO;
	ro.delimiter = o ? o->delimiter : 0;
	ro.encoding = o ? o->encoding : NULL;
	if ((rc = fd_reader_open(&g->rd, g->in, &ro, err)))
		goto fail;  /* the reader's message names the input */
	for (k = 0; k < FD_NFIELDS; k++) {
		g->src[k] = fd_colmap_source(g->map, k);
		if (g->map && g->map->alt[k] && !fd_reader_has_column(g->rd, g->src[k])
		    && fd_reader_has_column(g->rd, g->map->alt[k]))
			g->src[k] = g->map->alt[k];
		g->slot[k] = fd_reader_bind(g->rd, g->src[k]);
	}
	if ((rc = check_columns(g, err)))
		goto fail;
	if (fd_colmap_direction(g->map)) {
		const char *dc = fd_colmap_direction(g->map);

		g->dir_slot = fd_reader_bind(g->rd, dc);
		if (fd_reader_format(g->rd) == FD_FMT_CSV && fd_reader_columns(g->rd, NULL) &&
		    !fd_reader_has_column(g->rd, dc)) {
			rc = fd_err_set(err, FD_EINPUT, "%s:1: no column '%s', mapped to the debit/credit indicator (direction)",
					g->name, dc);
			goto fail;
		}
	}
	*out = g;
	return FD_OK;
fail:
	fd_txnstream_free(g);
	return rc;
}

void fd_txnstream_free(struct fd_txnstream *g)
{
	if (!g)
		return;
	fd_reader_free(g->rd);
	fd_in_free(g->in);
	free(g->name);
	fd_buf_release(&g->scratch);
	fd_buf_release(&g->meta);
	free(g);
}

int fd_txnstream_next(struct fd_txnstream *g, struct fd_txn *t, struct fd_txn_bad *bad,
		      struct fd_err *err)
{
	int r = fd_reader_next(g->rd, err);

	if (r == 0)
		return 0;
	if (r == -FD_EINPUT) {
		/* a malformed record: the reader's message says what */
		bad->field = -1;
		bad->field_name = "record";
		bad->cls = "malformed record";
		{
			size_t n = strnlen(err->msg, sizeof(bad->msg) - 1);

			memcpy(bad->msg, err->msg, n);
			bad->msg[n] = '\0';
		}
		fd_err_clear(err);
		return 2;
	}
	if (r < 0)  /* the reader's code says whether the input or the system failed */
		return -(err && err->code ? err->code : -r);
	if (build_txn(g, t, bad)) {
		if (bad->field < 0 && strcmp(bad->cls, "out of memory") == 0)
			return -fd_err_set(err, FD_EIO, "out of memory");
		return 2;
	}
	t->line = fd_reader_line(g->rd);
	return 1;
}

int64_t fd_txnstream_line(const struct fd_txnstream *g)
{
	return fd_reader_line(g->rd);
}

void fd_txnstream_raw(const struct fd_txnstream *g, const char **s, size_t *n)
{
	fd_reader_raw(g->rd, s, n);
}

int fd_txnstream_format(const struct fd_txnstream *g)
{
	return fd_reader_format(g->rd);
}

const char *fd_txnstream_name(const struct fd_txnstream *g)
{
	return g->name;
}

int64_t fd_txnstream_rounded(const struct fd_txnstream *g)
{
	return g->rounded;
}

const char *fd_txnstream_encoding(const struct fd_txnstream *g)
{
	return fd_reader_encoding(g->rd);
}

struct fd_in *fd_txnstream_in(const struct fd_txnstream *g)
{
	return g->in;
}
