/*
 * fd_txnsrc.h — transactions in time order, for the tools that analyse them (fd-features,
 * fd-rules, fd-train, fd-score): from export files / standard input, or from the store.
 *
 * Stream mode reads each path in turn through fd_txnstream (mapping, validation) and insists
 * on time order: a record earlier than the one before it is FD_EINPUT
 * "FILE:LINE: out of time order (...)", unless sort is set, in which case every record is read
 * into memory first and stably sorted by time (ties keep input order).
 *
 * Store mode reads stored transactions with since <= ts < until in time order, preceded by
 * the history before since as warm-up records (*warm = 1): all of it (warm_ms = -1), which is
 * what makes point-in-time state at since equal a full replay's when some state looks back
 * without limit (novelty, sender age, dormancy), or the last warm_ms.  Labels from case outcomes (the labels table) override
 * the exported label; the newest wins.
 */
#ifndef FD_TXNSRC_H
#define FD_TXNSRC_H

#include <stddef.h>
#include <stdint.h>

#include "fd_err.h"
#include "fd_store.h"
#include "fd_txn.h"
#include "fd_txnstream.h"

struct fd_txnsrc_opts {
	/* stream mode (store == NULL): the paths, "-" for standard input; none = stdin */
	const char *const *paths;
	size_t npaths;
	struct fd_txnstream_opts stream;
	int sort;                /* read all, sort by time */
	/* store mode */
	struct fd_store *store;
	int64_t since, until;    /* ms; INT64_MIN / INT64_MAX for open ends */
	int64_t warm_ms;         /* history before since to replay as warm-up; -1 = all of it */
};

struct fd_txnsrc;

int fd_txnsrc_open(struct fd_txnsrc **src, const struct fd_txnsrc_opts *o, struct fd_err *err);
void fd_txnsrc_free(struct fd_txnsrc *src);

/*
 * The next transaction: 1 with *t filled (strings valid until the next call) and *warm set
 * (1: history before since, to warm state only, never to be output); 2 for a bad record in a
 * stream (*bad filled; fd_txnsrc_where() names it; the caller reports it and goes on, or stops
 * under --strict); 0 at the end; a negated status on a fatal error (err set), including
 * out-of-time-order input.
 */
int fd_txnsrc_next(struct fd_txnsrc *src, struct fd_txn *t, int *warm, struct fd_txn_bad *bad,
		   struct fd_err *err);

/* The current record's place, "FILE:LINE" (stream) or "store" — for messages. */
const char *fd_txnsrc_where(struct fd_txnsrc *src);
/* The format of the first stream input (FD_FMT_CSV when none or in store mode). */
int fd_txnsrc_format(const struct fd_txnsrc *src);
/* Records read so far (including bad and warm-up ones) and raw bytes consumed (streams). */
int64_t fd_txnsrc_count(const struct fd_txnsrc *src);
uint64_t fd_txnsrc_bytes(const struct fd_txnsrc *src);

#endif
