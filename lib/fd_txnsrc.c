/* fd_txnsrc.c — see fd_txnsrc.h. */
#include "fd_txnsrc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd_buf.h"
#include "fd_reader.h"
#include "fd_tz.h"

#include <sqlite3.h>
#include "banned.h"

#define ARENA_CHUNK (4u << 20)

struct chunk {
	struct chunk *next;
	size_t used, cap;
	char data[];
};

/* A record kept for --sort: the txn with its strings in the arena. */
struct kept {
	struct fd_txn t;
	uint32_t input;   /* index into paths, for messages */
	int64_t seq;      /* input order, for a stable sort */
};

struct fd_txnsrc {
	struct fd_txnsrc_opts o;
	const char *const *paths;
	size_t npaths;
	size_t cur;                 /* current path index */
	struct fd_txnstream *ts;    /* open stream, or NULL */
	int format;
	int64_t prev_ts;
	int have_prev;
	int64_t prev_line;          /* where the previous record was, for the message */
	size_t prev_input;
	struct fd_buf where;
	int64_t count;
	uint64_t bytes_done;        /* raw bytes of finished inputs */
	/* sort mode */
	int sorted;                 /* 1 once everything is read and sorted */
	struct kept *kept;
	size_t nkept, capkept, next_kept;
	struct chunk *arena;
	/* store mode */
	struct fd_txn_iter *it;
	int store_phase;            /* 0 warm-up, 1 the period, 2 done */
	struct src_zone *zones;     /* the zone each source was ingested with (--tz) */
	size_t nzones, capzones;
};

/* A source's zone: tz NULL when it recorded none (or one this machine cannot load). */
struct src_zone {
	int64_t source_id;
	struct fd_tz *tz;
};

static const char *const stdin_only[] = {"-"};

static char *arena_dup(struct fd_txnsrc *s, const char *p, size_t n)
{
	struct chunk *c = s->arena;
	char *d;

	if (!p)
		return NULL;
	if (!c || c->cap - c->used < n + 1) {
		size_t cap = n + 1 > ARENA_CHUNK ? n + 1 : ARENA_CHUNK;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		c->used = 0;
		c->next = s->arena;
		s->arena = c;
	}
	d = c->data + c->used;
	memcpy(d, p, n);
	d[n] = '\0';
	c->used += n + 1;
	return d;
}

int fd_txnsrc_open(struct fd_txnsrc **out, const struct fd_txnsrc_opts *o, struct fd_err *err)
{
	struct fd_txnsrc *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return fd_err_set(err, FD_EIO, "out of memory");
	s->o = *o;
	s->paths = o->npaths ? o->paths : stdin_only;
	s->npaths = o->npaths ? o->npaths : 1;
	s->format = FD_FMT_CSV;
	*out = s;
	return FD_OK;
}

void fd_txnsrc_free(struct fd_txnsrc *s)
{
	struct chunk *c, *next;

	if (!s)
		return;
	fd_txnstream_free(s->ts);
	fd_txn_iter_free(s->it);
	for (size_t i = 0; i < s->nzones; i++)
		fd_tz_free(s->zones[i].tz);
	free(s->zones);
	for (c = s->arena; c; c = next) {
		next = c->next;
		free(c);
	}
	free(s->kept);
	fd_buf_release(&s->where);
	free(s);
}

const char *fd_txnsrc_where(struct fd_txnsrc *s)
{
	fd_buf_reset(&s->where);
	if (s->o.store)
		fd_buf_adds(&s->where, "store");
	else if (s->ts)
		fd_buf_addf(&s->where, "%s:%lld", fd_txnstream_name(s->ts), (long long)fd_txnstream_line(s->ts));
	else if (s->sorted && s->next_kept > 0) {
		const struct kept *k = &s->kept[s->next_kept - 1];

		fd_buf_addf(&s->where, "%s:%lld", strcmp(s->paths[k->input], "-") ? s->paths[k->input] : "<stdin>",
			    (long long)k->t.line);
	} else
		fd_buf_adds(&s->where, "input");
	return s->where.s ? s->where.s : "input";
}

int fd_txnsrc_format(const struct fd_txnsrc *s)
{
	return s->format;
}

int64_t fd_txnsrc_count(const struct fd_txnsrc *s)
{
	return s->count;
}

uint64_t fd_txnsrc_bytes(const struct fd_txnsrc *s)
{
	return s->bytes_done + (s->ts ? fd_in_raw_bytes(fd_txnstream_in(s->ts)) : 0);
}

/* The next record of the concatenated streams, in input order: 1, 2 (bad), 0, or -status. */
static int stream_next(struct fd_txnsrc *s, struct fd_txn *t, struct fd_txn_bad *bad, struct fd_err *err)
{
	for (;;) {
		int r;

		if (!s->ts) {
			const char *p;
			int rc;

			if (s->cur >= s->npaths)
				return 0;
			p = s->paths[s->cur];
			rc = fd_txnstream_open(&s->ts, p, strcmp(p, "-") ? NULL : "<stdin>", &s->o.stream, err);
			if (rc)
				return -rc;
			if (s->cur == 0)
				s->format = fd_txnstream_format(s->ts);
		}
		r = fd_txnstream_next(s->ts, t, bad, err);
		if (r != 0) {
			if (r > 0)
				s->count++;
			return r;
		}
		s->bytes_done += fd_in_raw_bytes(fd_txnstream_in(s->ts));
		fd_txnstream_free(s->ts);
		s->ts = NULL;
		s->cur++;
	}
}

static int keep(struct fd_txnsrc *s, const struct fd_txn *t)
{
	struct kept *k;

	if (s->nkept == s->capkept) {
		size_t cap = s->capkept ? s->capkept * 2 : 65536;
		struct kept *p = realloc(s->kept, cap * sizeof(*p));

		if (!p)
			return -1;
		s->kept = p;
		s->capkept = cap;
	}
	k = &s->kept[s->nkept];
	k->t = *t;
#define DUP(f) if (t->f && !(k->t.f = arena_dup(s, t->f, strlen(t->f)))) return -1
	DUP(txn_id);
	DUP(sender_id);
	DUP(recipient_id);
	DUP(merchant_id);
	DUP(merchant_category);
	DUP(channel);
	DUP(device_id);
	DUP(ip);
	DUP(city);
#undef DUP
	if (t->metadata && !(k->t.metadata = arena_dup(s, t->metadata, t->metadata_len)))
		return -1;
	k->input = (uint32_t)s->cur;
	k->seq = (int64_t)s->nkept;
	s->nkept++;
	return 0;
}

static int kept_cmp(const void *a, const void *b)
{
	const struct kept *x = a, *y = b;

	if (x->t.ts != y->t.ts)
		return x->t.ts < y->t.ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * The zone t's source was ingested with (sources.options "tz", fd-ingest --tz), as t's
 * zone_known, zone_offset_s and zone_name.  Looked up once per source.  A source without one
 * (or whose zone this machine's tzdata lacks) leaves t's zone unknown.
 */
static int store_zone(struct fd_txnsrc *s, struct fd_txn *t, struct fd_err *err)
{
	struct src_zone *z = NULL;
	size_t i;

	for (i = 0; i < s->nzones; i++)
		if (s->zones[i].source_id == t->source_id) {
			z = &s->zones[i];
			break;
		}
	if (!z) {
		sqlite3_stmt *q = NULL;
		struct fd_err ignored = {0};
		const char *spec;

		if (s->nzones == s->capzones) {
			size_t cap = s->capzones ? 2 * s->capzones : 8;
			void *p = realloc(s->zones, cap * sizeof(*s->zones));

			if (!p)
				return fd_err_set(err, FD_EIO, "out of memory");
			s->zones = p;
			s->capzones = cap;
		}
		z = &s->zones[s->nzones++];
		z->source_id = t->source_id;
		z->tz = NULL;
		if (sqlite3_prepare_v2(fd_store_db(s->o.store),
				       "SELECT json_extract(options, '$.tz') FROM sources WHERE id = ?", -1, &q,
				       NULL) != SQLITE_OK) {
			sqlite3_finalize(q);
			return fd_store_error(s->o.store, "reading sources", err);
		}
		sqlite3_bind_int64(q, 1, t->source_id);
		if (sqlite3_step(q) == SQLITE_ROW && (spec = (const char *)sqlite3_column_text(q, 0)) &&
		    fd_tz_load(&z->tz, spec, &ignored) != FD_OK)
			z->tz = NULL;
		sqlite3_finalize(q);
	}
	if (z->tz) {
		int64_t sec = t->ts / 1000 - (t->ts % 1000 < 0);  /* floor */

		t->zone_known = 1;
		t->zone_offset_s = fd_tz_offset_at(z->tz, sec);
		t->zone_name = fd_tz_name(z->tz);
	}
	return FD_OK;
}

static int store_next(struct fd_txnsrc *s, struct fd_txn *t, int *warm, struct fd_err *err)
{
	for (;;) {
		int r, rc;

		if (!s->it) {
			int64_t a, b;

			if (s->store_phase == 0) {
				if (s->o.warm_ms == 0 || s->o.since == INT64_MIN) {
					s->store_phase = 1;
					continue;
				}
				a = s->o.warm_ms < 0 ? INT64_MIN : s->o.since - s->o.warm_ms;
				b = s->o.since;
			} else if (s->store_phase == 1) {
				a = s->o.since;
				b = s->o.until;
			} else
				return 0;
			if ((rc = fd_txn_iter_open(&s->it, s->o.store, FD_TXN_BY_TIME, a, b, err)))
				return -rc;
		}
		r = fd_txn_iter_next(s->it, t, err);
		if (r == 1 && (rc = store_zone(s, t, err)))
			return -rc;
		if (r == 1) {
			*warm = s->store_phase == 0;
			s->count++;
			return 1;
		}
		if (r < 0)
			return r;
		fd_txn_iter_free(s->it);
		s->it = NULL;
		s->store_phase++;
	}
}

int fd_txnsrc_next(struct fd_txnsrc *s, struct fd_txn *t, int *warm, struct fd_txn_bad *bad,
		   struct fd_err *err)
{
	int r;

	*warm = 0;
	if (s->o.store)
		return store_next(s, t, warm, err);
	if (s->o.sort) {
		while (!s->sorted) {
			r = stream_next(s, t, bad, err);
			if (r == 2 || r < 0)
				return r;
			if (r == 1) {
				if (keep(s, t))
					return -fd_err_set(err, FD_EIO, "out of memory sorting the input (%zu records)",
							   s->nkept);
				continue;
			}
			qsort(s->kept, s->nkept, sizeof(*s->kept), kept_cmp);
			s->sorted = 1;
		}
		if (s->next_kept >= s->nkept)
			return 0;
		*t = s->kept[s->next_kept++].t;
		return 1;
	}
	r = stream_next(s, t, bad, err);
	if (r != 1)
		return r;
	if (s->have_prev && t->ts < s->prev_ts) {
		char a[FD_TS_BUFSZ], b[FD_TS_BUFSZ];
		const char *pp = s->paths[s->prev_input];

		return -fd_err_set(err, FD_EINPUT,
				   "%s: out of time order (%s is before the previous record's %s at %s:%lld); sort the input or give --sort",
				   fd_txnsrc_where(s), fd_format_ts(t->ts, a), fd_format_ts(s->prev_ts, b),
				   strcmp(pp, "-") ? pp : "<stdin>", (long long)s->prev_line);
	}
	s->prev_ts = t->ts;
	s->have_prev = 1;
	s->prev_line = t->line;
	s->prev_input = s->cur;
	return 1;
}
