/* fd_case_sla.c — see fd_case_sla.h. */
#include "fd_case_sla.h"
#include "fd_txn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

const char *const fd_case_sla_state_name[FD_NSLA] = {"OK", "NEAR", "BREACHED"};

void fd_case_sla_defaults(struct fd_case_sla_policy *p)
{
	p->due_ms[FD_PRIO_CRITICAL] = 1 * FD_DAY_MS;
	p->due_ms[FD_PRIO_HIGH] = 3 * FD_DAY_MS;
	p->due_ms[FD_PRIO_MEDIUM] = 7 * FD_DAY_MS;
	p->due_ms[FD_PRIO_LOW] = 30 * FD_DAY_MS;
	p->near_pct = 80;
}

const char *fd_case_sla_parse(struct fd_case_sla_policy *p, const char *spec, char *why, size_t whysz)
{
	const char *item = spec, *end;

	for (;;) {
		char buf[128];
		const char *eq, *bad;
		size_t len;
		int64_t ms;
		int prio;

		end = strchr(item, ',');
		len = end ? (size_t)(end - item) : strlen(item);
		if (len >= sizeof(buf)) {
			snprintf(why, whysz, "item '%.40s...' is too long", item);
			return why;
		}
		memcpy(buf, item, len);
		buf[len] = '\0';
		if (!(eq = strchr(buf, '='))) {
			snprintf(why, whysz, "'%s' is not PRIORITY=DURATION", buf);
			return why;
		}
		buf[eq - buf] = '\0';
		if ((prio = fd_case_priority_parse(buf)) < 0) {
			snprintf(why, whysz, "unknown priority '%s' (LOW, MEDIUM, HIGH or CRITICAL)", buf);
			return why;
		}
		if ((bad = fd_parse_duration(eq + 1, &ms))) {
			snprintf(why, whysz, "%s: '%s': %s", fd_case_priority_name[prio], eq + 1, bad);
			return why;
		}
		if (ms <= 0) {
			snprintf(why, whysz, "%s: '%s': the time must be more than 0", fd_case_priority_name[prio], eq + 1);
			return why;
		}
		p->due_ms[prio] = ms;
		if (!end)
			return NULL;
		item = end + 1;
	}
}

static int cmp_row(const void *pa, const void *pb)
{
	const struct fd_case_sla_row *a = pa, *b = pb;

	if (a->due_at != b->due_at)
		return a->due_at < b->due_at ? -1 : 1;
	return a->s.id < b->s.id ? -1 : a->s.id > b->s.id;
}

void fd_case_sla_rows_free(struct fd_case_sla_row *r, size_t n)
{
	size_t i;

	for (i = 0; r && i < n; i++)
		fd_case_summary_release(&r[i].s);
	free(r);
}

int fd_case_sla(struct fd_store *st, const struct fd_case_sla_policy *p, const struct fd_case_filter *f,
		int64_t now, int all, struct fd_case_sla_row **out, size_t *np, size_t *nbreached,
		struct fd_err *err)
{
	struct fd_case_filter g = *f;
	struct fd_case_summary *cs = NULL;
	struct fd_case_sla_row *r = NULL;
	unsigned open = 1u << FD_CASE_OPEN | 1u << FD_CASE_IN_PROGRESS;
	size_t n = 0, i, k = 0;
	int rc;

	*out = NULL;
	*np = 0;
	*nbreached = 0;
	g.status_mask = g.status_mask ? g.status_mask & open : open;
	g.limit = 0;
	if (!g.status_mask)
		return FD_OK;  /* only final statuses asked for: none is open */
	if ((rc = fd_case_list(st, &g, &cs, &n, err)))
		return rc;
	if (n && !(r = calloc(n, sizeof(*r)))) {
		fd_case_summaries_free(cs, n);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	for (i = 0; i < n; i++) {
		struct fd_case_sla_row x;

		memset(&x, 0, sizeof(x));
		x.s = cs[i];
		x.age_ms = now - x.s.created_at;
		x.idle_ms = now - x.s.updated_at;
		x.sla_ms = p->due_ms[x.s.priority];
		x.due_at = x.s.created_at + x.sla_ms;
		/* integer comparisons: age >= sla, or age * 100 >= sla * near_pct (both well within
		 * int64 for any age of a real case) */
		if (x.age_ms >= x.sla_ms)
			x.state = FD_SLA_BREACHED;
		else if (x.age_ms * 100 >= x.sla_ms * (int64_t)p->near_pct)
			x.state = FD_SLA_NEAR;
		else
			x.state = FD_SLA_OK;
		if (x.state == FD_SLA_BREACHED)
			(*nbreached)++;
		if (all || x.state != FD_SLA_OK)
			r[k++] = x;
		else
			fd_case_summary_release(&x.s);
	}
	free(cs);  /* the summaries' strings now belong to r or were released */
	if (k > 1)
		qsort(r, k, sizeof(*r), cmp_row);
	if (f->limit > 0 && (size_t)f->limit < k) {
		for (i = (size_t)f->limit; i < k; i++)
			fd_case_summary_release(&r[i].s);
		k = (size_t)f->limit;
	}
	if (!k) {
		free(r);
		r = NULL;
	}
	*out = r;
	*np = k;
	return FD_OK;
}
