/*
 * fd_case_sla.h — case ageing and service levels: how old each open case is, how long since
 * anyone acted on it, and whether it is within the time its priority allows.
 *
 * A service level (SLA) is the time within which a case of a given priority should be
 * resolved (CLOSED or FALSE_POSITIVE), counted from its creation.  Defaults (fd-case(1)):
 * CRITICAL 1 day, HIGH 3 days, MEDIUM 7 days, LOW 30 days.  A case is BREACHED once its age
 * reaches the SLA, NEAR once it reaches near_pct percent of it (default 80), else OK.  The
 * last action is the case's latest event (cases.updated_at: every change appends one).
 */
#ifndef FD_CASE_SLA_H
#define FD_CASE_SLA_H

#include <stdint.h>

#include "fd_case.h"

struct fd_case_sla_policy {
	int64_t due_ms[FD_NPRIO];  /* per enum fd_case_priority, > 0 */
	int near_pct;              /* 1..100 */
};

/* The defaults above. */
void fd_case_sla_defaults(struct fd_case_sla_policy *p);

/*
 * Change p by spec: comma-separated PRIORITY=DURATION items ("CRITICAL=12h,LOW=14d";
 * priority names case-insensitive, durations as fd_parse_duration (fd_txn.h), more than 0).
 * NULL on success, else a reason naming the bad item (p then partly changed).
 */
const char *fd_case_sla_parse(struct fd_case_sla_policy *p, const char *spec, char *why, size_t whysz);

enum fd_case_sla_state { FD_SLA_OK, FD_SLA_NEAR, FD_SLA_BREACHED, FD_NSLA };
extern const char *const fd_case_sla_state_name[FD_NSLA];  /* "OK", "NEAR", "BREACHED" */

struct fd_case_sla_row {
	struct fd_case_summary s;
	int64_t age_ms;          /* now - created_at */
	int64_t idle_ms;         /* now - the last action (updated_at) */
	int64_t sla_ms;          /* the policy's time for s.priority */
	int64_t due_at;          /* created_at + sla_ms */
	int state;               /* enum fd_case_sla_state */
};

/*
 * The cases matching f that are still open (OPEN or IN_PROGRESS, whatever f's status mask
 * says about final statuses: those are dropped), each with its ageing and SLA state at now;
 * with all 0 only those NEAR or BREACHED.  Sorted by due_at (the most overdue first), ties
 * by id.  *nbreached receives the number BREACHED.  FD_EUSAGE for an unknown entity in f;
 * action view.  Free with fd_case_sla_rows_free.
 */
int fd_case_sla(struct fd_store *st, const struct fd_case_sla_policy *p, const struct fd_case_filter *f,
		int64_t now, int all, struct fd_case_sla_row **out, size_t *n, size_t *nbreached,
		struct fd_err *err);
void fd_case_sla_rows_free(struct fd_case_sla_row *r, size_t n);

#endif
