/*
 * fd_graph_case.c — findings of the graph into a case (contract in fd_graph.h): the rings of
 * fd-graph rings --case, through fd_case (one store transaction, audited, role-checked).
 */
#include "fd_graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd_buf.h"
#include "fd_case.h"
#include "banned.h"

int fd_graph_rings_to_case(struct fd_store *st, const struct fd_graph *g, const struct fd_graph_rings *r,
			   size_t top, int64_t id, int64_t *made_p, size_t *ntxns, size_t *naccounts,
			   struct fd_err *err)
{
	size_t n = top && top < r->n ? top : r->n, k, nt = 0, ne = 0, nt_cap = 0, ne_cap = 0;
	struct fd_case_txn_ref *tx = NULL;
	struct fd_case_entity_ref *en = NULL;
	struct fd_buf strs = FD_BUF_INIT;
	size_t *offs = NULL, *eoffs, noffs = 0, neoffs = 0;
	uint32_t i;
	int rc = FD_OK, bad = 0;
	int64_t made = id;

	*made_p = id;
	*ntxns = *naccounts = 0;
	if (!n)
		return FD_OK;
	for (k = 0; k < n; k++) {
		nt_cap += r->r[k].nmoves;
		ne_cap += r->r[k].naccounts;
	}
	/* strings first (the buffer moves while it grows), pointers after */
	if (!(tx = calloc(nt_cap + 1, sizeof(*tx))) || !(en = calloc(ne_cap + 1, sizeof(*en))) ||
	    !(offs = malloc((2 * nt_cap + 2 * ne_cap + 2) * sizeof(*offs)))) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto out;
	}
	eoffs = offs + 2 * nt_cap + 1;  /* the entities' strings after the transactions' */
	for (k = 0; k < n; k++) {
		const struct fd_graph_ring *x = &r->r[k];
		char line[160];

		for (i = 0; i < x->nmoves; i++) {
			struct fd_graph_move m;

			fd_graph_move_get(g, x->moves[i], &m);
			offs[noffs++] = strs.len;
			bad |= fd_buf_adds(&strs, m.txn_id) != 0;
			bad |= fd_buf_addc(&strs, '\0') != 0;
			snprintf(line, sizeof(line), "fd-graph ring %zu: %s, score %.1f", k + 1, x->kinds, x->score);
			offs[noffs++] = strs.len;
			bad |= fd_buf_adds(&strs, line) != 0;
			bad |= fd_buf_addc(&strs, '\0') != 0;
			nt++;
		}
		for (i = 0; i < x->naccounts; i++) {
			struct fd_graph_node_info ni;

			fd_graph_node_get(g, x->accounts[i], &ni);
			eoffs[neoffs++] = strs.len;
			bad |= fd_buf_adds(&strs, ni.kind) != 0;
			bad |= fd_buf_addc(&strs, ':') != 0;
			bad |= fd_buf_adds(&strs, ni.key) != 0;
			bad |= fd_buf_addc(&strs, '\0') != 0;
			snprintf(line, sizeof(line), "fd-graph ring %zu (%s): %s", k + 1, x->kinds, fd_graph_role_name[x->roles[i]]);
			eoffs[neoffs++] = strs.len;
			bad |= fd_buf_adds(&strs, line) != 0;
			bad |= fd_buf_addc(&strs, '\0') != 0;
			ne++;
		}
	}
	if (bad) {
		rc = fd_err_set(err, FD_EIO, "out of memory");
		goto out;
	}
	for (k = 0; k < nt; k++) {
		tx[k].txn_id = strs.s + offs[2 * k];
		tx[k].reason = strs.s + offs[2 * k + 1];
	}
	for (k = 0; k < ne; k++) {
		en[k].ref = strs.s + eoffs[2 * k];
		en[k].note = strs.s + eoffs[2 * k + 1];
		en[k].role = FD_ER_SUSPECT;
	}
	if (!id) {
		char title[200];
		struct fd_case_new c = {0};

		snprintf(title, sizeof(title), "fd-graph ring: %s of %u accounts, score %.1f%s", r->r[0].kinds,
			 r->r[0].naccounts, r->r[0].score, n > 1 ? " (and more rings)" : "");
		c.title = title;
		c.description = r->r[0].why;
		c.priority = r->r[0].score >= 75 ? FD_PRIO_HIGH : FD_PRIO_MEDIUM;
		c.txns = tx;
		c.ntxns = nt;
		c.ents = en;
		c.nents = ne;
		rc = fd_case_create(st, &c, &made, err);
	} else
		rc = fd_case_link(st, id, tx, nt, en, ne, NULL, err);
	if (!rc) {
		*made_p = made;
		*ntxns = nt;
		*naccounts = ne;
	}
out:
	free(tx);
	free(en);
	free(offs);
	fd_buf_release(&strs);
	return rc;
}
