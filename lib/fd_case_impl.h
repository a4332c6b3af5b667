/*
 * fd_case_impl.h — what the modules of cases share (fd_case.c: cases and their changes;
 * fd_case_analysis.c: related transactions, prioritisation, automatic cases, duplicates).
 * Not part of the library's interface.
 */
#ifndef FD_CASE_IMPL_H
#define FD_CASE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "fd_buf.h"
#include "fd_case.h"
#include "fd_err.h"
#include "fd_store.h"

/* The entity kinds a reference may name ("device:D1"), in the order of the entities' kinds. */
extern const char *const entity_kinds[4];

/* A JSON object being written into a buffer (jo_begin .. jo_end); bad is set on out of memory. */
struct jo {
	struct fd_buf *b;
	int n;    /* members so far */
	int bad;  /* out of memory */
};

/* small helpers */
const char *actor_of(struct fd_store *st);
int oom(struct fd_err *err);
char *xstrdup(const char *s);
char *col_dup(sqlite3_stmt *s, int i, int *bad);
int tx_begin(struct fd_store *st, int *own, struct fd_err *err);
int tx_end(struct fd_store *st, int own, int rc, struct fd_err *err);
int step_done(struct fd_store *st, sqlite3_stmt *s, const char *what, struct fd_err *err);
int query_i64(struct fd_store *st, const char *sql, const char *text_param, int64_t int_param,
	      int64_t *out, struct fd_err *err);
int check_text(const char *what, const char *s, size_t max, int required, int line,
	       struct fd_err *err);
void *grow1(void **arr, size_t *n, size_t *cap, size_t sz);
int split_reasons(const char *text, char ***out, size_t *n);

/* JSON objects for event details and audit entries */
void jo_begin(struct jo *j, struct fd_buf *b);
void jo_str(struct jo *j, const char *k, const char *v);
void jo_int(struct jo *j, const char *k, int64_t v);
void jo_risk(struct jo *j, const char *k, double v);
void jo_raw(struct jo *j, const char *k, const char *json, size_t n);
int jo_end(struct jo *j, struct fd_err *err);
void jo_members(struct jo *j, const char *obj);
void jo_begin_item(struct jo *j, struct fd_buf *arr);
int json_arr_add(struct fd_buf *b, const char *s);

/* changes of a case (a case_events row and its audit entry) */
int case_event(struct fd_store *st, int64_t id, const char *kind, const char *details,
	       int64_t now, struct fd_err *err);
int case_status(struct fd_store *st, int64_t id, int *status, struct fd_err *err);
int add_txn(struct fd_store *st, int64_t id, const char *txn_id, const char *reason,
	    const char *note, int64_t now, int *added, struct fd_err *err);
int add_entity(struct fd_store *st, int64_t id, int64_t eid, int role, const char *note,
	       int64_t now, int *what, int *was, struct fd_err *err);
int move_case(struct fd_store *st, int64_t id, int from, int to, const char *note, int64_t now,
	      struct fd_case_status_result *res, struct fd_err *err);
int set_assignee(struct fd_store *st, int64_t id, const char *to, int automatic, const char *how,
		 int64_t now, struct fd_err *err);
int least_loaded(struct fd_store *st, int64_t id, char *out, int *found, struct fd_err *err);
int round_robin_next(struct fd_store *st, char *out, int *found, struct fd_err *err);
double stake_major(const struct fd_case_summary *s);
int ref_kind(const char *ref, const char **key);

#endif
