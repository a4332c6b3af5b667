/*
 * fd_rule_lists.h — named lists kept in the store, for rules that say `x in list NAME`
 * (fd-rules(5)); managed with fd-rules list add|remove|show (fd-rules(1)).
 *
 * Tables (migration "rules: rule_lists, rule_list_values", fd(7)): rule_lists has a row per
 * list (id, name, created_by, created_at), rule_list_values a row per value (list_id, value,
 * added_by, added_at).  Every change appends one audit entry, rules.list_add or
 * rules.list_remove on object rule_list/ID, whose digest covers the list's rows in both
 * tables as they stand after the change (fd_verify.h's convention), so fd-audit verify
 * detects a list edited behind the tools' back.  A list removed whole leaves no rows, and its
 * last entry covers none; its id is never given to another list.
 *
 * The caller checks the actor's role first (fd_role_authorize with FD_ACT_RULES).
 */
#ifndef FD_RULE_LISTS_H
#define FD_RULE_LISTS_H

#include <stddef.h>
#include <stdint.h>

#include "fd_buf.h"
#include "fd_err.h"
#include "fd_rules.h"
#include "fd_store.h"

/* NULL when name can be a list's name: letters, digits and '_', not starting with a digit,
 * at most 128 bytes, not a word of the rules language (and, or, not, in, between, list);
 * else the reason ("a list name is letters, digits and _, not starting with a digit"). */
const char *fd_rule_list_name_check(const char *name);

/* NULL when value can be a value of a list: 1 to 4096 bytes, no control characters (a list
 * file holds one value a line); else the reason. */
const char *fd_rule_list_value_check(const char *value);

/* Values for fd_rule_lists_add and _remove: a growing array of borrowed pointers. */
struct fd_rule_values {
	const char **v;
	size_t n, cap;
};
#define FD_RULE_VALUES_INIT { NULL, 0, 0 }
/* Append value (borrowed, not copied).  FD_EIO when out of memory. */
int fd_rule_values_add(struct fd_rule_values *vals, const char *value, struct fd_err *err);
/* Free the array (not the values); vals is empty afterwards. */
void fd_rule_values_release(struct fd_rule_values *vals);

/*
 * Append the values of a list file to vals: path ("-" = standard input) in the format of
 * `in @FILE` (fd-rules(5)): one value a line, blanks (space, tab) around a value and a CR
 * before the line feed trimmed, '#' at the start of a line or after a blank beginning a
 * comment, blank lines ignored.  The file is read into text (an empty buffer, one per file),
 * which the values point into: keep it until they are used, then release it.  Each value must
 * pass
 * fd_rule_list_value_check: FD_EINPUT "PATH: bad value 'V': reason" otherwise (V with control
 * bytes made visible).  FD_EIO "cannot open 'PATH': ..." or "cannot read 'PATH': ...", or out
 * of memory.
 */
int fd_rule_values_read_file(struct fd_rule_values *vals, const char *path, struct fd_buf *text,
			     struct fd_err *err);

/* Every list of the store, with its values, into a new *out (the caller frees it with
 * fd_named_lists_free).  FD_EIO on store errors or out of memory. */
int fd_rule_lists_read(struct fd_store *st, struct fd_named_lists **out, struct fd_err *err);

/*
 * Add values[0 .. n-1] to the list name, creating it when it does not exist (n may then be
 * 0: an empty list).  Values already in the list are left as they are.  In one store
 * transaction with its audit entry; when nothing changes (the list exists and holds every
 * value) nothing is written and *seq is 0.  *added (may be NULL) receives the number of new
 * values, *created 1 when the list was created (may be NULL), *seq the audit entry (may be
 * NULL).  FD_EUSAGE for a bad name or value (checked before anything is written), FD_EIO on
 * store errors.
 */
int fd_rule_lists_add(struct fd_store *st, const char *name, const char *const *values, size_t n,
		      int64_t *added, int *created, int64_t *seq, struct fd_err *err);

/*
 * Remove values[0 .. n-1] from the list name, or with n 0 the whole list.  All or nothing:
 * FD_EINPUT "no list 'NAME' in the store" or "'V' is not in list 'NAME'" change nothing.
 * *removed (may be NULL) receives the number of values removed, *seq the audit entry.
 */
int fd_rule_lists_remove(struct fd_store *st, const char *name, const char *const *values, size_t n,
			 int64_t *removed, int64_t *seq, struct fd_err *err);

/* A row of fd_rule_lists_show: a list (value NULL; values its count) or, for one list, a
 * value (by/at: who added it and when, ms UTC). */
struct fd_rule_list_row {
	const char *name;
	int64_t values;
	const char *value;
	const char *by;
	int64_t at;
};

/*
 * Call fn for each list by name (name NULL), or for each value of the list name in the order
 * of its values' text (FD_EINPUT "no list 'NAME' in the store" when there is none).  A
 * non-zero return of fn stops and is returned.
 */
int fd_rule_lists_show(struct fd_store *st, const char *name,
		       int (*fn)(void *ctx, const struct fd_rule_list_row *row), void *ctx,
		       struct fd_err *err);

/*
 * For fd_rules_opts.get_lists (arg a struct fd_rule_lists_src): on first use, opens the
 * store read-only, reads its lists into src->lists (freed by the caller with
 * fd_named_lists_free) and closes it.  Errors are those of fd_store_open and
 * fd_rule_lists_read, prefixed "named lists".
 */
struct fd_rule_lists_src {
	const char *store;          /* path of the store */
	const struct fd_who *who;
	struct fd_named_lists *lists;
};
int fd_rule_lists_get(void *src, const struct fd_named_lists **lists, struct fd_err *err);

#endif
