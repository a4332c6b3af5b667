/*
 * fd_rules.h — rules: named boolean expressions over the feature catalog and the transaction.
 *
 * A rules file (format and grammar in fd-rules.5) holds rules such as
 *
 *	rule velocity_10m
 *	  description "More than 5 transactions in 10 minutes"
 *	  when sender_txn_count_10m > 5
 *	  points 30
 *	  action review
 *	  reason "{sender_txn_count_10m} transactions in 10 minutes (limit 5)"
 *
 * Loading compiles every rule once into a flat array of typed nodes; evaluating a transaction
 * walks those arrays without allocating, so a rule set can be evaluated from several threads at
 * once (the handle is read-only after loading).
 *
 * Names in expressions and in reason templates are either
 *  - a transaction field: the text fields txn_id, currency, sender_id, recipient_id,
 *    merchant_id, merchant_category, channel, device_id, ip, country, city, and the numbers
 *    amount (major units: amount / 10^exponent), lat and lon (undefined without geo); these
 *    are read from the struct fd_txn and take precedence over a catalog feature of the same
 *    name; or
 *  - a feature of the catalog (fd_features.h), resolved with fd_feat_lookup() and read from
 *    the caller's catalog-indexed vector; or
 *  - metadata.NAME (metadata.a.b for a nested value): a field of the transaction's metadata
 *    (struct fd_txn's metadata, the JSON object of the export's other columns).  Its use
 *    decides how it is read: compared with a number, in arithmetic or in number functions
 *    as a number (a JSON number, or text that is a decimal number; anything else is
 *    undefined), compared with text, in text functions and in reasons as text (a number in
 *    the C locale, true/false, an object or array as compact JSON); two metadata values
 *    compare as text with == and !=, as numbers with <, <=, >, >=.  An absent field, a JSON
 *    null, empty text (an empty cell), and metadata that is absent or not a JSON object
 *    are undefined.
 * The label is deliberately not visible to rules.
 *
 * Text functions: contains(s, t), starts_with(s, t), ends_with(s, t) (conditions, false
 * when s or t is undefined), lower(s), upper(s) (ASCII letters only), length(s) (characters
 * of UTF-8 text), regex(s, "pattern") (POSIX extended, unanchored; the pattern a string
 * constant, compiled once at load).
 *
 * Undefined values: a feature is undefined when it is NaN, a text field when it is absent
 * (NULL, or "" for country), a metadata field as above.  An undefined value equals nothing, so ==, <, <=, >, >=, in and
 * between are false when an operand is undefined, while != and "not in", their negations, are
 * true; arithmetic on an undefined value is undefined, and so is a division by zero.
 * defined(x) tests for it.  A rule hits when its expression is true.
 */
#ifndef FD_RULES_H
#define FD_RULES_H

#include <stddef.h>

#include "fd_buf.h"
#include "fd_err.h"
#include "fd_txn.h"

enum fd_rule_action {
	FD_RULE_REVIEW = 1,
	FD_RULE_BLOCK = 2,
};

/* "review" / "block"; NULL for anything else. */
const char *fd_rule_action_name(int action);

/* One hit of one transaction. */
struct fd_rule_hit {
	size_t rule;     /* index of the rule, 0 .. fd_rules_count() - 1 */
	int points;      /* the rule's points, 0-100 */
	int action;      /* enum fd_rule_action */
};

struct fd_rules;

/*
 * Named lists (`in list NAME`): a set of values per name, filled by the caller (from the
 * store's rule_lists: fd_rule_lists.h) and read by the compiler, which copies what it uses.
 */
struct fd_named_lists;
/* NULL when out of memory. */
struct fd_named_lists *fd_named_lists_create(void);
/* Accepts NULL. */
void fd_named_lists_free(struct fd_named_lists *l);
/* Add value (n bytes) to the list name (NUL-terminated), creating the list; value NULL
 * creates an empty list.  FD_EIO when out of memory. */
int fd_named_lists_add(struct fd_named_lists *l, const char *name, const char *value, size_t n);

/* Options of loading; a zeroed struct or NULL is the plain behaviour. */
struct fd_rules_opts {
	/* A second directory for list files named by a relative path: used when the file is not
	 * beside the rules file (the bundled lists, so that a copy of the default rules made
	 * elsewhere still finds them).  NULL: only beside the rules file. */
	const char *list_dir;
	/* The named lists `in list NAME` may name (borrowed during the load only).  NULL: none,
	 * and a rule naming one is an FD_EINPUT error ("unknown list 'x': named lists are kept
	 * in a store, and none was given"), as is a name l does not hold. */
	const struct fd_named_lists *lists;
	/* When lists is NULL: called at the first `list NAME` to provide them (so that a store is
	 * read only for rules that name a list).  Sets *lists (borrowed until the load ends;
	 * NULL = none) and returns FD_OK, or returns an error with err set, which the load
	 * returns with the rule's place before the message.  NULL: no named lists. */
	int (*get_lists)(void *arg, const struct fd_named_lists **lists, struct fd_err *err);
	void *arg;
};

/*
 * Load and compile the rules file at path.  List files (`in @name`) are resolved relative to
 * the directory of path and read once each.
 *
 * Errors (nothing is allocated then, *r is NULL):
 *  - FD_EINPUT, message "PATH:LINE:COL: what is wrong", for every syntax error, unknown name
 *    ("unknown feature 'sender_txn_cnt_10m' (did you mean 'sender_txn_count_10m'?)"), type
 *    error, duplicate rule id, missing or repeated attribute, points outside 0-100, unknown
 *    action; and "LIST:LINE: ..." for a value of a list file that is not a number where a
 *    number is needed.  LINE and COL count from 1; COL counts bytes.
 *  - FD_EIO when path or a list file cannot be read ("PATH:LINE:COL: cannot read list
 *    'rules/x.txt': No such file or directory" for a list), or out of memory.
 */
int fd_rules_load(struct fd_rules **r, const char *path, struct fd_err *err);
/* The same with options (o may be NULL); a relative list file missing beside the rules file
 * and in o->list_dir is FD_EIO "PATH:LINE:COL: cannot read list 'A': No such file or
 * directory (nor 'B')".  A bad regex() pattern is FD_EINPUT at the pattern's place, with
 * regerror's words. */
int fd_rules_load_opts(struct fd_rules **r, const char *path, const struct fd_rules_opts *o,
		       struct fd_err *err);
/* fd_rules_load_opts, and the SHA-256 of the file's bytes (64 hex digits and a NUL) into sha,
 * hashed from the bytes compiled (so that it names the rule set that ran).  A file that
 * cannot be read is FD_EIO "cannot open rules 'PATH': ..." ("cannot read rules ..."). */
int fd_rules_load_sha(struct fd_rules **r, const char *path, const struct fd_rules_opts *o, char sha[65],
		      struct fd_err *err);

/*
 * The same from memory: text (n bytes, may contain anything; need not be NUL-terminated) is
 * named name in messages.  List files are resolved relative to dir ("" or "." = the current
 * directory); when dir is NULL, a rule that names a list file is an FD_EINPUT error (for
 * fuzzing and for rules that must not touch the file system).
 */
int fd_rules_parse(struct fd_rules **r, const char *text, size_t n, const char *name,
		   const char *dir, struct fd_err *err);
int fd_rules_parse_opts(struct fd_rules **r, const char *text, size_t n, const char *name,
			const char *dir, const struct fd_rules_opts *o, struct fd_err *err);

/* Accepts NULL. */
void fd_rules_free(struct fd_rules *r);

/* ---- the rules --------------------------------------------------------------------------- */

/* Number of rules, in file order (which is the order of indices and of hits). */
size_t fd_rules_count(const struct fd_rules *r);
/* Index of the rule with this id, or -1. */
long fd_rules_find(const struct fd_rules *r, const char *id);

/* Accessors of rule i (i < fd_rules_count()).  Strings are owned by r, valid until
 * fd_rules_free(). */
const char *fd_rules_id(const struct fd_rules *r, size_t i);
const char *fd_rules_description(const struct fd_rules *r, size_t i);  /* "" when none */
int fd_rules_points(const struct fd_rules *r, size_t i);
int fd_rules_action(const struct fd_rules *r, size_t i);               /* fd_rule_action */
/* The `when` expression as written, continuation lines joined with single spaces and
 * comments removed: "sender_txn_count_10m > 5". */
const char *fd_rules_expr(const struct fd_rules *r, size_t i);
/* The reason template as written, unescaped ("" when none: the reason is then the
 * description). */
const char *fd_rules_reason_template(const struct fd_rules *r, size_t i);
/* Line of the rule's `rule` keyword in its file. */
long fd_rules_line(const struct fd_rules *r, size_t i);

/*
 * The catalog indices of the features the rules read (expressions and reason templates
 * together), ascending and without repeats, for fd_features_select_idx().  *idx is owned by
 * r (NULL when the count is 0).
 */
size_t fd_rules_features(const struct fd_rules *r, const int **idx);

/* 1 when some expression or reason reads metadata.NAME: the caller must then fill the
 * transactions' metadata (fd_txnstream's no_metadata off). */
int fd_rules_uses_metadata(const struct fd_rules *r);

/* ---- evaluation -------------------------------------------------------------------------- */

/*
 * Evaluate every rule for t, with feat the catalog-indexed feature vector (fd_features_push's
 * all_out; only the indices of fd_rules_features() are read; NULL = every feature undefined).
 * Writes the hits in rule order into hits, which must hold fd_rules_count() entries, and
 * returns their number.  Never fails.  Allocates only to read metadata (parsed once per call)
 * and to make text (lower, upper, a metadata number as text), freed before it returns; out
 * of memory, such a value is undefined.
 */
size_t fd_rules_eval(const struct fd_rules *r, const struct fd_txn *t, const double *feat,
		     struct fd_rule_hit *hits);

/* Evaluate rule i alone: 1 when it hits, else 0. */
int fd_rules_eval_one(const struct fd_rules *r, size_t i, const struct fd_txn *t,
		      const double *feat);

/*
 * Append the reason of rule i for t to out (nothing is cleared first): the reason template
 * with each {expr} or {expr:.Nf} replaced by the value of the expression, "{{" and "}}" by
 * braces; when the rule has no reason (or an empty one), its description, else its id.
 * Values are written in the C locale:
 *  - amount alone, without a format, as the transaction writes it (its currency's decimals:
 *    "12000.00");
 *  - other numbers: an integer value without decimals ("7"), else rounded to at most 2
 *    decimals with trailing zeros dropped ("3.5", "41.23"); with .Nf exactly N decimals
 *    (N 0-9);
 *  - text as it is; an undefined value as "n/a"; true/false for a condition.
 * Meant for hits only (it is much slower than fd_rules_eval).  FD_EIO when out of memory,
 * in which case out holds a prefix of the reason.
 */
int fd_rules_reason(const struct fd_rules *r, size_t i, const struct fd_txn *t,
		    const double *feat, struct fd_buf *out, struct fd_err *err);

#endif
