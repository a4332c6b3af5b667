/* fd_rule_lists.c — named lists in the store.  See fd_rule_lists.h. */
#include "fd_rule_lists.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd_buf.h"
#include "fd_txn.h"
#include "fd_verify.h"
#include "banned.h"

#define MAX_LIST_NAME 128
#define MAX_VALUE 4096

static const struct fd_verify_part parts[] = {{"rule_lists", "id"}, {"rule_list_values", "list_id"}};

const char *fd_rule_list_name_check(const char *name)
{
	static const char *const words[] = {"and", "or", "not", "in", "between", "list"};
	size_t k, n = strlen(name);

	if (n == 0 || n > MAX_LIST_NAME)
		return "a list name is 1 to 128 bytes";
	if (!fd_plain_ident(name, MAX_LIST_NAME))
		return "a list name is letters, digits and _, not starting with a digit";
	for (k = 0; k < sizeof(words) / sizeof(*words); k++)
		if (strcmp(name, words[k]) == 0)
			return "a list name cannot be a word of the rules language (and, or, not, in, between, list)";
	return NULL;
}

const char *fd_rule_list_value_check(const char *value)
{
	size_t k, n = strlen(value);

	if (n == 0)
		return "empty value";
	if (n > MAX_VALUE)
		return "value longer than 4096 bytes";
	for (k = 0; k < n; k++)
		if ((unsigned char)value[k] < 0x20 || value[k] == 0x7f)
			return "control character in value";
	return NULL;
}

int fd_rule_values_add(struct fd_rule_values *vals, const char *value, struct fd_err *err)
{
	if (vals->n == vals->cap) {
		size_t cap = vals->cap ? vals->cap * 2 : 64;
		const char **p = realloc(vals->v, cap * sizeof(*p));

		if (!p)
			return fd_err_set(err, FD_EIO, "out of memory");
		vals->v = p;
		vals->cap = cap;
	}
	vals->v[vals->n++] = value;
	return FD_OK;
}

void fd_rule_values_release(struct fd_rule_values *vals)
{
	free(vals->v);
	vals->v = NULL;
	vals->n = vals->cap = 0;
}

/* The whole of fp into text. */
static int slurp(FILE *fp, const char *path, struct fd_buf *text, struct fd_err *err)
{
	char chunk[65536];
	size_t got;

	while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (fd_buf_add(text, chunk, got))
			return fd_err_set(err, FD_EIO, "out of memory");
	if (ferror(fp))
		return fd_err_set(err, FD_EIO, "cannot read '%s': %s", path, strerror(errno));
	return FD_OK;
}

int fd_rule_values_read_file(struct fd_rule_values *vals, const char *path, struct fd_buf *text,
			     struct fd_err *err)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t i = 0, k0 = vals->n, k;
	int rc;

	if (!fp)
		return fd_err_set(err, FD_EIO, "cannot open '%s': %s", path, strerror(errno));
	rc = slurp(fp, path, text, err);
	if (fp != stdin)
		fclose(fp);
	if (rc)
		return rc;
	while (i < text->len) {
		size_t a = i, e;

		while (i < text->len && text->s[i] != '\n')
			i++;
		e = i;
		if (i < text->len)
			text->s[i++] = '\0';
		for (k = a; k < e; k++)
			if (text->s[k] == '#' && (k == a || text->s[k - 1] == ' ' || text->s[k - 1] == '\t')) {
				e = k;
				break;
			}
		while (a < e && (text->s[a] == ' ' || text->s[a] == '\t'))
			a++;
		while (e > a && (text->s[e - 1] == ' ' || text->s[e - 1] == '\t' || text->s[e - 1] == '\r'))
			e--;
		if (a == e)
			continue;
		text->s[e] = '\0';
		if ((rc = fd_rule_values_add(vals, text->s + a, err)))
			return rc;
	}
	for (k = k0; k < vals->n; k++) {
		const char *why = fd_rule_list_value_check(vals->v[k]);

		if (why) {
			char vis[128];

			return fd_err_set(err, FD_EINPUT, "%s: bad value '%s': %s", path,
					  fd_visible(vis, sizeof(vis), vals->v[k], strlen(vals->v[k])), why);
		}
	}
	return FD_OK;
}

int fd_rule_lists_read(struct fd_store *st, struct fd_named_lists **out, struct fd_err *err)
{
	struct fd_named_lists *l = fd_named_lists_create();
	sqlite3_stmt *q = NULL;
	int rc, r;

	*out = NULL;
	if (!l)
		return fd_err_set(err, FD_EIO, "out of memory");
	if ((rc = fd_store_prepare(st, &q,
				   "SELECT l.name, v.value FROM rule_lists l LEFT JOIN rule_list_values v ON v.list_id = l.id"
				   " ORDER BY l.id, v.id", err)))
		goto out;
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(q, 0);
		const char *v = (const char *)sqlite3_column_text(q, 1);

		if (fd_named_lists_add(l, name, v, v ? (size_t)sqlite3_column_bytes(q, 1) : 0)) {
			rc = fd_err_set(err, FD_EIO, "out of memory");
			goto out;
		}
	}
	if (r != SQLITE_DONE)
		rc = fd_store_error(st, "reading the rule lists", err);
out:
	sqlite3_finalize(q);
	if (rc)
		fd_named_lists_free(l);
	else
		*out = l;
	return rc;
}

/* The id of list name, or 0 when there is none. */
static int list_id(struct fd_store *st, const char *name, int64_t *id, struct fd_err *err)
{
	sqlite3_stmt *q = NULL;
	int rc, r;

	*id = 0;
	if ((rc = fd_store_prepare(st, &q, "SELECT id FROM rule_lists WHERE name = ?1", err)))
		return rc;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	r = sqlite3_step(q);
	if (r == SQLITE_ROW)
		*id = sqlite3_column_int64(q, 0);
	else if (r != SQLITE_DONE)
		rc = fd_store_error(st, "reading the rule lists", err);
	sqlite3_finalize(q);
	return rc;
}

/* The audit entry of a change to list id, inside the change's transaction. */
static int record(struct fd_store *st, const char *action, int64_t id, const char *name, const char *count_key,
		  int64_t count, int whole, int64_t *seq, struct fd_err *err)
{
	struct fd_buf d = FD_BUF_INIT;
	int rc;

	fd_buf_adds(&d, "{\"list\":");
	fd_buf_add_json_str(&d, name, strlen(name));
	fd_buf_addf(&d, ",\"%s\":%lld", count_key, (long long)count);
	if (whole)
		fd_buf_adds(&d, strcmp(action, "rules.list_add") == 0 ? ",\"created\":true" : ",\"whole\":true");
	if (fd_buf_addc(&d, '}')) {
		fd_buf_release(&d);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	rc = fd_verify_record(st, action, "rule_list", id, parts, 2, d.s, seq, err);
	fd_buf_release(&d);
	return rc;
}

int fd_rule_lists_add(struct fd_store *st, const char *name, const char *const *values, size_t n,
		      int64_t *added, int *created, int64_t *seq, struct fd_err *err)
{
	const char *actor = fd_store_who(st)->actor, *why;
	int64_t id, now = fd_wall_ms(), nadd = 0;
	sqlite3_stmt *q = NULL;
	int rc, made = 0;
	size_t k;

	if (added)
		*added = 0;
	if (created)
		*created = 0;
	if (seq)
		*seq = 0;
	if ((why = fd_rule_list_name_check(name))) {
		char vis[64];

		return fd_err_set(err, FD_EUSAGE, "bad list name '%s': %s", fd_visible(vis, sizeof(vis), name, strlen(name)), why);
	}
	for (k = 0; k < n; k++)
		if ((why = fd_rule_list_value_check(values[k]))) {
			char vis[64];

			return fd_err_set(err, FD_EUSAGE, "bad value '%s': %s",
					  fd_visible(vis, sizeof(vis), values[k], strlen(values[k])), why);
		}
	if ((rc = fd_store_begin(st, err)))
		return rc;
	if ((rc = list_id(st, name, &id, err)))
		goto out;
	if (!id) {
		if ((rc = fd_store_prepare(st, &q, "INSERT INTO rule_lists (name, created_by, created_at)"
					   " VALUES (?1, ?2, ?3) RETURNING id", err)))
			goto out;
		sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, actor, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 3, now);
		if (sqlite3_step(q) != SQLITE_ROW) {
			rc = fd_store_error(st, "cannot create the list", err);
			goto out;
		}
		id = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
		q = NULL;
		made = 1;
	}
	if ((rc = fd_store_prepare(st, &q, "INSERT OR IGNORE INTO rule_list_values (list_id, value, added_by, added_at)"
				   " VALUES (?1, ?2, ?3, ?4)", err)))
		goto out;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_text(q, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, now);
	for (k = 0; k < n; k++) {
		sqlite3_bind_text(q, 2, values[k], -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE) {
			rc = fd_store_error(st, "cannot add to the list", err);
			goto out;
		}
		nadd += sqlite3_changes(fd_store_db(st));
		sqlite3_reset(q);
	}
	sqlite3_finalize(q);
	q = NULL;
	if (!made && nadd == 0) {   /* nothing new: nothing to record */
		fd_store_rollback(st);
		return FD_OK;
	}
	if ((rc = record(st, "rules.list_add", id, name, "added", nadd, made, seq, err)) ||
	    (rc = fd_store_commit(st, err)))
		goto out;
	if (added)
		*added = nadd;
	if (created)
		*created = made;
out:
	sqlite3_finalize(q);
	if (rc) {
		fd_store_rollback(st);
		if (seq)
			*seq = 0;
	}
	return rc;
}

int fd_rule_lists_remove(struct fd_store *st, const char *name, const char *const *values, size_t n,
			 int64_t *removed, int64_t *seq, struct fd_err *err)
{
	sqlite3_stmt *q = NULL;
	int64_t id, nrm = 0;
	int rc;
	size_t k;

	if (removed)
		*removed = 0;
	if (seq)
		*seq = 0;
	if ((rc = fd_store_begin(st, err)))
		return rc;
	if ((rc = list_id(st, name, &id, err)))
		goto out;
	if (!id) {
		char vis[64];

		rc = fd_err_set(err, FD_EINPUT, "no list '%s' in the store", fd_visible(vis, sizeof(vis), name, strlen(name)));
		goto out;
	}
	if (n == 0) {
		if ((rc = fd_store_prepare(st, &q, "DELETE FROM rule_list_values WHERE list_id = ?1", err)))
			goto out;
		sqlite3_bind_int64(q, 1, id);
		if (sqlite3_step(q) != SQLITE_DONE) {
			rc = fd_store_error(st, "cannot remove the list", err);
			goto out;
		}
		nrm = sqlite3_changes(fd_store_db(st));
		sqlite3_finalize(q);
		if ((rc = fd_store_prepare(st, &q, "DELETE FROM rule_lists WHERE id = ?1", err)))
			goto out;
		sqlite3_bind_int64(q, 1, id);
		if (sqlite3_step(q) != SQLITE_DONE) {
			rc = fd_store_error(st, "cannot remove the list", err);
			goto out;
		}
	} else {
		if ((rc = fd_store_prepare(st, &q, "DELETE FROM rule_list_values WHERE list_id = ?1 AND value = ?2", err)))
			goto out;
		sqlite3_bind_int64(q, 1, id);
		for (k = 0; k < n; k++) {
			sqlite3_bind_text(q, 2, values[k], -1, SQLITE_STATIC);
			if (sqlite3_step(q) != SQLITE_DONE) {
				rc = fd_store_error(st, "cannot remove from the list", err);
				goto out;
			}
			if (sqlite3_changes(fd_store_db(st)) == 0) {
				char vis[64], vn[64];

				rc = fd_err_set(err, FD_EINPUT, "'%s' is not in list '%s'",
						fd_visible(vis, sizeof(vis), values[k], strlen(values[k])),
						fd_visible(vn, sizeof(vn), name, strlen(name)));
				goto out;
			}
			nrm++;
			sqlite3_reset(q);
		}
	}
	sqlite3_finalize(q);
	q = NULL;
	if ((rc = record(st, "rules.list_remove", id, name, "removed", nrm, n == 0, seq, err)) ||
	    (rc = fd_store_commit(st, err)))
		goto out;
	if (removed)
		*removed = nrm;
out:
	sqlite3_finalize(q);
	if (rc) {
		fd_store_rollback(st);
		if (seq)
			*seq = 0;
	}
	return rc;
}

int fd_rule_lists_show(struct fd_store *st, const char *name,
		       int (*fn)(void *ctx, const struct fd_rule_list_row *row), void *ctx,
		       struct fd_err *err)
{
	sqlite3_stmt *q = NULL;
	int64_t id = 0;
	int rc, r;

	if (name) {
		if ((rc = list_id(st, name, &id, err)))
			return rc;
		if (!id) {
			char vis[64];

			return fd_err_set(err, FD_EINPUT, "no list '%s' in the store",
					  fd_visible(vis, sizeof(vis), name, strlen(name)));
		}
		rc = fd_store_prepare(st, &q, "SELECT value, added_by, added_at FROM rule_list_values"
				      " WHERE list_id = ?1 ORDER BY value", err);
	} else
		rc = fd_store_prepare(st, &q, "SELECT l.name, count(v.id), l.created_by, l.created_at FROM rule_lists l"
				      " LEFT JOIN rule_list_values v ON v.list_id = l.id GROUP BY l.id ORDER BY l.name", err);
	if (rc)
		return rc;
	if (name)
		sqlite3_bind_int64(q, 1, id);
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		struct fd_rule_list_row row;

		memset(&row, 0, sizeof(row));
		row.name = name;
		if (name) {
			row.value = (const char *)sqlite3_column_text(q, 0);
			row.by = (const char *)sqlite3_column_text(q, 1);
			row.at = sqlite3_column_int64(q, 2);
		} else {
			row.name = (const char *)sqlite3_column_text(q, 0);
			row.values = sqlite3_column_int64(q, 1);
			row.by = (const char *)sqlite3_column_text(q, 2);
			row.at = sqlite3_column_int64(q, 3);
		}
		if ((rc = fn(ctx, &row)))
			break;
	}
	if (!rc && r != SQLITE_DONE)
		rc = fd_store_error(st, "reading the rule lists", err);
	sqlite3_finalize(q);
	return rc;
}

int fd_rule_lists_get(void *arg, const struct fd_named_lists **lists, struct fd_err *err)
{
	struct fd_rule_lists_src *src = arg;
	struct fd_store *st = NULL;
	int rc;

	if (!src->lists) {
		rc = fd_store_open(&st, src->store, FD_STORE_READONLY, src->who, err);
		if (!rc)
			rc = fd_rule_lists_read(st, &src->lists, err);
		fd_store_close(st);
		if (rc) {
			fd_err_prefix(err, "named lists");
			return rc;
		}
	}
	*lists = src->lists;
	return FD_OK;
}
