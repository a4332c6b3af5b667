/* fd_case.c — see fd_case.h. */
#include "fd_case.h"
#include "fd_case_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd_audit.h"
#include "fd_io.h"
#include "fd_num.h"
#include "fd_txn.h"
#include "fd_verify.h"
#include "banned.h"

/* ---- vocabularies ---------------------------------------------------------------------- */

const char *const fd_case_status_name[FD_CASE_NSTATUS] = {"OPEN", "IN_PROGRESS", "CLOSED", "FALSE_POSITIVE",
							   "DUPLICATE"};
const char *const fd_case_priority_name[FD_NPRIO] = {"LOW", "MEDIUM", "HIGH", "CRITICAL"};
const char *const fd_entity_role_name[FD_NER] = {"SUSPECT", "VICTIM", "WITNESS", "RELATED"};
const char *const fd_case_action_name[FD_NCA] = {"view", "create", "note", "link", "status", "assign",
						 "auto", "users"};
const char *const fd_case_sort_name[FD_NCASE_SORT] = {"id", "created", "updated", "priority", "status",
						      "risk", "amount"};

static int parse_name(const char *const *names, int n, const char *s)
{
	int i;

	if (!s)
		return -1;
	for (i = 0; i < n; i++)
		if (strcasecmp(names[i], s) == 0)
			return i;
	return -1;
}

int fd_case_status_parse(const char *s) { return parse_name(fd_case_status_name, FD_CASE_NSTATUS, s); }
int fd_case_priority_parse(const char *s) { return parse_name(fd_case_priority_name, FD_NPRIO, s); }
int fd_entity_role_parse(const char *s) { return parse_name(fd_entity_role_name, FD_NER, s); }
int fd_case_sort_parse(const char *s) { return parse_name(fd_case_sort_name, FD_NCASE_SORT, s); }

unsigned fd_case_moves(int from)
{
	switch (from) {
	case FD_CASE_OPEN:
		return 1u << FD_CASE_IN_PROGRESS;
	case FD_CASE_IN_PROGRESS:
		return 1u << FD_CASE_CLOSED | 1u << FD_CASE_FALSE_POSITIVE;
	case FD_CASE_CLOSED:
	case FD_CASE_FALSE_POSITIVE:
		return 1u << FD_CASE_IN_PROGRESS;
	default:
		return 0;
	}
}

int fd_case_status_final(int status)
{
	return status == FD_CASE_CLOSED || status == FD_CASE_FALSE_POSITIVE || status == FD_CASE_DUPLICATE;
}

int fd_case_allowed(int role, int action)
{
	return action >= 0 && action < FD_NCA && fd_role_allowed(role, action);
}

/* ---- small helpers --------------------------------------------------------------------- */

const char *actor_of(struct fd_store *st)
{
	const struct fd_who *w = fd_store_who(st);

	return w && w->actor ? w->actor : "unknown";
}

int oom(struct fd_err *err)
{
	return fd_err_set(err, FD_EIO, "out of memory");
}

char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* A column's text copied (NULL for SQL NULL). *bad is set when out of memory. */
char *col_dup(sqlite3_stmt *s, int i, int *bad)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	char *r;

	if (!t)
		return NULL;
	if (!(r = strdup(t)))
		*bad = 1;
	return r;
}

/* Begin a store transaction unless the caller holds one (*own says which). */
int tx_begin(struct fd_store *st, int *own, struct fd_err *err)
{
	if (fd_store_in_txn(st)) {
		*own = 0;
		return FD_OK;
	}
	*own = 1;
	return fd_store_begin(st, err);
}

/* End what tx_begin began: commit on success, roll back on failure; returns the status. */
int tx_end(struct fd_store *st, int own, int rc, struct fd_err *err)
{
	if (!own)
		return rc;
	if (rc) {
		fd_store_rollback(st);
		return rc;
	}
	return fd_store_commit(st, err);
}

int step_done(struct fd_store *st, sqlite3_stmt *s, const char *what, struct fd_err *err)
{
	int rc = sqlite3_step(s) == SQLITE_DONE ? FD_OK : fd_store_error(st, what, err);

	sqlite3_reset(s);
	return rc;
}

/* Run a query returning one integer (0 when no row). */
int query_i64(struct fd_store *st, const char *sql, const char *text_param, int64_t int_param,
	      int64_t *out, struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = fd_store_prepare(st, &s, sql, err)))
		return rc;
	if (text_param)
		sqlite3_bind_text(s, 1, text_param, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(s, 1, int_param);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(s, 0);
		rc = FD_OK;
	} else if (rc == SQLITE_DONE) {
		*out = 0;
		rc = FD_OK;
	} else
		rc = fd_store_error(st, "reading the store", err);
	sqlite3_finalize(s);
	return rc;
}

/* Check a text argument: required (non-empty) or not, at most max bytes, no NUL inside by
 * construction; names (line 0) allow no control characters at all, texts allow newlines and
 * tabs. */
int check_text(const char *what, const char *s, size_t max, int required, int line,
	       struct fd_err *err)
{
	size_t n = s ? strlen(s) : 0;
	const unsigned char *p;

	if (required && n == 0)
		return fd_err_set(err, FD_EUSAGE, "%s must not be empty", what);
	if (n > max)
		return fd_err_set(err, FD_EUSAGE, "%s is too long (%zu bytes, at most %zu)", what, n, max);
	for (p = (const unsigned char *)s; p && *p; p++) {
		if (*p == 0x7f || (*p < 0x20 && (!line || (*p != '\n' && *p != '\t' && *p != '\r')))) {
			char vis[64];

			return fd_err_set(err, FD_EUSAGE, "%s '%s' contains a control character", what,
					  fd_visible(vis, sizeof(vis), s, n));
		}
	}
	return FD_OK;
}

/* ---- JSON objects for event details ---------------------------------------------------- */

void jo_begin(struct jo *j, struct fd_buf *b)
{
	j->b = b;
	j->n = 0;
	j->bad = fd_buf_addc(b, '{') != 0;
}

static void jo_key(struct jo *j, const char *k)
{
	if (j->n++ && fd_buf_addc(j->b, ','))
		j->bad = 1;
	if (fd_buf_add_json_str(j->b, k, strlen(k)) || fd_buf_addc(j->b, ':'))
		j->bad = 1;
}

void jo_str(struct jo *j, const char *k, const char *v)
{
	jo_key(j, k);
	if (v ? fd_buf_add_json_str(j->b, v, strlen(v)) : fd_buf_adds(j->b, "null"))
		j->bad = 1;
}

void jo_int(struct jo *j, const char *k, int64_t v)
{
	jo_key(j, k);
	if (fd_buf_add_i64(j->b, v))
		j->bad = 1;
}

/* A risk (0-100, to the hundredth) as written everywhere: two decimals. */
void jo_risk(struct jo *j, const char *k, double v)
{
	jo_key(j, k);
	if (fd_buf_addf(j->b, "%.2f", v))
		j->bad = 1;
}

static void jo_bool(struct jo *j, const char *k, int v)
{
	jo_key(j, k);
	if (fd_buf_adds(j->b, v ? "true" : "false"))
		j->bad = 1;
}

/* A member whose value is JSON text already. */
void jo_raw(struct jo *j, const char *k, const char *json, size_t n)
{
	jo_key(j, k);
	if (fd_buf_add(j->b, json, n))
		j->bad = 1;
}

int jo_end(struct jo *j, struct fd_err *err)
{
	if (fd_buf_addc(j->b, '}'))
		j->bad = 1;
	return j->bad ? oom(err) : FD_OK;
}

/* The members of obj (a JSON object's text, as jo_end makes it) as members of j. */
void jo_members(struct jo *j, const char *obj)
{
	size_t n = strlen(obj);

	if (n < 2 || obj[0] != '{' || obj[n - 1] != '}') {
		j->bad = 1;
		return;
	}
	if (n == 2)
		return;
	if ((j->n++ && fd_buf_addc(j->b, ',')) || fd_buf_add(j->b, obj + 1, n - 2))
		j->bad = 1;
}

/* An object as the next element of the array text in arr ("[" already there). */
void jo_begin_item(struct jo *j, struct fd_buf *arr)
{
	int bad = arr->len > 1 && fd_buf_addc(arr, ',');

	jo_begin(j, arr);
	j->bad |= bad;
}

/* Append the JSON string s to the array text in b ("[" already there). */
int json_arr_add(struct fd_buf *b, const char *s)
{
	return (b->len > 1 && fd_buf_addc(b, ',')) || fd_buf_add_json_str(b, s, strlen(s));
}

/* ---- events and audit ------------------------------------------------------------------ */

/* The rows a case entry vouches for (fd_verify.h's convention): every table of the case,
 * named in the same order by every entry, so the last entry covers the case as it stands. */
static const struct fd_verify_part case_parts[] = {
	{"cases", "id"},
	{"case_events", "case_id"},
	{"case_transactions", "case_id"},
	{"case_entities", "case_id"},
	{"case_attachments", "case_id"},
	{"labels", "case_id"},
};

/*
 * Record one change of case id: a case_events row of kind with details (a JSON object's
 * text), cases.updated_at, and the audit entry "case.KIND" (fd_verify_record) whose details
 * are "event" (the case_events id), the same details, and the tables it covers.  Inside a
 * store transaction, after the change's other rows are written.
 */
int case_event(struct fd_store *st, int64_t id, const char *kind, const char *details,
	       int64_t now, struct fd_err *err)
{
	sqlite3_stmt *s = NULL;
	struct fd_buf ad = FD_BUF_INIT;
	struct jo j;
	char action[64];
	int64_t eid;
	int rc;

	if ((rc = fd_store_prepare(st, &s, "INSERT INTO case_events (case_id, ts, actor, kind, details)"
				   " VALUES (?, ?, ?, ?, ?)", err)))
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_text(s, 3, actor_of(st), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, details, -1, SQLITE_STATIC);
	rc = step_done(st, s, "writing a case event", err);
	sqlite3_finalize(s);
	if (rc)
		return rc;
	eid = sqlite3_last_insert_rowid(fd_store_db(st));
	if ((rc = fd_store_prepare(st, &s, "UPDATE cases SET updated_at = ? WHERE id = ?", err)))
		return rc;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, id);
	rc = step_done(st, s, "updating a case", err);
	sqlite3_finalize(s);
	if (rc)
		return rc;
	/* {"event":N, ...details} */
	jo_begin(&j, &ad);
	jo_int(&j, "event", eid);
	jo_members(&j, details);
	if ((rc = jo_end(&j, err))) {
		fd_buf_release(&ad);
		return rc;
	}
	snprintf(action, sizeof(action), "case.%s", kind);
	rc = fd_verify_record(st, action, "case", id, case_parts, sizeof(case_parts) / sizeof(case_parts[0]),
			      ad.s, NULL, err);
	fd_buf_release(&ad);
	return rc;
}

/* ---- permissions ----------------------------------------------------------------------- */

/* The actor's user row: *nusers (0 = single-user store), *role (-1 when not a user), *active. */
static int actor_user(struct fd_store *st, const char *name, int64_t *nusers, int *role, int *active,
		      struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	*role = -1;
	*active = 0;
	if ((rc = query_i64(st, "SELECT count(*) FROM users", NULL, 0, nusers, err)))
		return rc;
	if (*nusers == 0)
		return FD_OK;
	if ((rc = fd_store_prepare(st, &s, "SELECT role, active FROM users WHERE name = ?", err)))
		return rc;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*role = fd_user_role_parse((const char *)sqlite3_column_text(s, 0));
		*active = sqlite3_column_int(s, 1);
		rc = FD_OK;
	} else
		rc = rc == SQLITE_DONE ? FD_OK : fd_store_error(st, "reading users", err);
	sqlite3_finalize(s);
	return rc;
}

int fd_case_authorize(struct fd_store *st, int action, const char *what, struct fd_err *err)
{
	if (action < 0 || action >= FD_NCA)
		return fd_err_set(err, FD_EUSAGE, "internal: unknown action %d", action);
	return fd_role_authorize(st, action, what, err);
}

/* ---- users ----------------------------------------------------------------------------- */

/* The audit entry of a change to user name: covers the users row (fd_verify.h). */
static int user_audit(struct fd_store *st, const char *action, const char *name, const char *details,
		      struct fd_err *err)
{
	static const struct fd_verify_part part = {"users", "id"};
	int64_t uid;
	int rc;

	if ((rc = query_i64(st, "SELECT id FROM users WHERE name = ?", name, 0, &uid, err)))
		return rc;
	return fd_verify_record(st, action, "user", uid, &part, 1, details, NULL, err);
}

int fd_case_user_add(struct fd_store *st, const char *name, int role, struct fd_err *err)
{
	sqlite3_stmt *s = NULL;
	struct fd_buf det = FD_BUF_INIT;
	struct jo j;
	int64_t n, exists;
	int rc, own = 0, began = 0;

	if ((rc = check_text("a user name", name, FD_CASE_NAME_MAX, 1, 0, err)))
		return rc;
	if (role < 0 || role >= FD_NROLES)
		return fd_err_set(err, FD_EUSAGE, "unknown role");
	if ((rc = fd_case_authorize(st, FD_CA_USERS, name, err)))
		return rc;
	if ((rc = tx_begin(st, &own, err)))
		return rc;
	began = 1;
	if ((rc = query_i64(st, "SELECT count(*) FROM users", NULL, 0, &n, err)) ||
	    (rc = query_i64(st, "SELECT count(*) FROM users WHERE name = ?", name, 0, &exists, err)))
		goto out;
	if (exists) {
		rc = fd_err_set(err, FD_EUSAGE, "user '%s' already exists", name);
		goto out;
	}
	if (n == 0 && role != FD_ROLE_ADMIN) {
		rc = fd_err_set(err, FD_EUSAGE, "the first user must be an ADMIN (so that users can be managed), not %s",
				fd_user_role_name[role]);
		goto out;
	}
	if ((rc = fd_store_prepare(st, &s, "INSERT INTO users (name, role, active, created_at, created_by)"
				   " VALUES (?, ?, 1, ?, ?)", err)))
		goto out;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, fd_user_role_name[role], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, fd_wall_ms());
	sqlite3_bind_text(s, 4, actor_of(st), -1, SQLITE_STATIC);
	if ((rc = step_done(st, s, "adding a user", err)))
		goto out;
	jo_begin(&j, &det);
	jo_str(&j, "name", name);
	jo_str(&j, "role", fd_user_role_name[role]);
	if ((rc = jo_end(&j, err)))
		goto out;
	rc = user_audit(st, "user.add", name, det.s, err);
out:
	sqlite3_finalize(s);
	fd_buf_release(&det);
	return began ? tx_end(st, own, rc, err) : rc;
}

int fd_case_user_set_active(struct fd_store *st, const char *name, int active, struct fd_err *err)
{
	sqlite3_stmt *s = NULL;
	int64_t cur_active = -1, admins;
	int rc, own, role = -1;

	if ((rc = fd_case_authorize(st, FD_CA_USERS, name, err)))
		return rc;
	if ((rc = tx_begin(st, &own, err)))
		return rc;
	if ((rc = fd_store_prepare(st, &s, "SELECT role, active FROM users WHERE name = ?", err)))
		goto out;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		role = fd_user_role_parse((const char *)sqlite3_column_text(s, 0));
		cur_active = sqlite3_column_int(s, 1);
	}
	sqlite3_finalize(s);
	s = NULL;
	if (cur_active < 0) {
		rc = fd_err_set(err, FD_EUSAGE, "no user '%s'", name);
		goto out;
	}
	if (cur_active == (active != 0))
		goto out; /* nothing to change */
	if (!active && role == FD_ROLE_ADMIN) {
		if ((rc = query_i64(st, "SELECT count(*) FROM users WHERE role = 'ADMIN' AND active = 1", NULL, 0,
				    &admins, err)))
			goto out;
		if (admins <= 1) {
			rc = fd_err_set(err, FD_EUSAGE, "'%s' is the last active ADMIN: add another ADMIN first", name);
			goto out;
		}
	}
	if ((rc = fd_store_prepare(st, &s, "UPDATE users SET active = ? WHERE name = ?", err)))
		goto out;
	sqlite3_bind_int(s, 1, active != 0);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	if ((rc = step_done(st, s, "changing a user", err)))
		goto out;
	{
		struct fd_buf det = FD_BUF_INIT;
		struct jo j;

		jo_begin(&j, &det);
		jo_str(&j, "name", name);
		if (!(rc = jo_end(&j, err)))
			rc = user_audit(st, active ? "user.enable" : "user.disable", name, det.s, err);
		fd_buf_release(&det);
	}
out:
	sqlite3_finalize(s);
	return tx_end(st, own, rc, err);
}

int fd_case_user_list(struct fd_store *st, int (*fn)(void *ctx, const struct fd_case_user *u), void *ctx,
		      struct fd_err *err)
{
	sqlite3_stmt *s;
	struct fd_case_user u;
	int rc;

	if ((rc = fd_case_authorize(st, FD_CA_VIEW, "users", err)))
		return rc;
	if ((rc = fd_store_prepare(st, &s,
				   "SELECT name, role, active, created_at, created_by,"
				   " (SELECT count(*) FROM cases c WHERE c.assignee = u.name"
				   "   AND c.status IN ('OPEN', 'IN_PROGRESS'))"
				   " FROM users u ORDER BY name", err)))
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		u.name = (const char *)sqlite3_column_text(s, 0);
		u.role = fd_user_role_parse((const char *)sqlite3_column_text(s, 1));
		u.active = sqlite3_column_int(s, 2);
		u.created_at = sqlite3_column_int64(s, 3);
		u.created_by = (const char *)sqlite3_column_text(s, 4);
		u.open_cases = sqlite3_column_int64(s, 5);
		if ((rc = fn(ctx, &u))) {
			sqlite3_finalize(s);
			return rc;
		}
	}
	rc = rc == SQLITE_DONE ? FD_OK : fd_store_error(st, "reading users", err);
	sqlite3_finalize(s);
	return rc;
}

/* ---- entities ---------------------------------------------------------------------------- */

const char *const entity_kinds[] = {"account", "merchant", "device", "ip"};

/* The kind named by the text before the first ':' of ref, or -1. */
int ref_kind(const char *ref, const char **key)
{
	const char *c = strchr(ref, ':');
	size_t i;

	if (!c)
		return -1;
	for (i = 0; i < 4; i++)
		if (strlen(entity_kinds[i]) == (size_t)(c - ref) && strncmp(ref, entity_kinds[i], (size_t)(c - ref)) == 0) {
			*key = c + 1;
			return (int)i;
		}
	return -1;
}

int fd_case_entity_resolve(struct fd_store *st, const char *ref, int64_t *id, struct fd_buf *kind,
			   struct fd_buf *key, struct fd_err *err)
{
	sqlite3_stmt *s;
	struct fd_buf matches = FD_BUF_INIT;
	const char *k = NULL;
	char vis[256];
	int kd, rc, n = 0;

	if (!ref || !*ref)
		return fd_err_set(err, FD_EUSAGE, "empty entity reference");
	kd = ref_kind(ref, &k);
	if (kd >= 0) {
		rc = fd_store_prepare(st, &s, "SELECT id, kind, key FROM entities WHERE kind = ? AND key = ?", err);
		if (rc)
			return rc;
		sqlite3_bind_text(s, 1, entity_kinds[kd], -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, k, -1, SQLITE_STATIC);
	} else {
		rc = fd_store_prepare(st, &s, "SELECT id, kind, key FROM entities WHERE key = ? ORDER BY kind", err);
		if (rc)
			return rc;
		sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *ek = (const char *)sqlite3_column_text(s, 1);
		const char *ey = (const char *)sqlite3_column_text(s, 2);

		if (n++ == 0) {
			*id = sqlite3_column_int64(s, 0);
			if (kind) {
				fd_buf_reset(kind);
				fd_buf_adds(kind, ek);
			}
			if (key) {
				fd_buf_reset(key);
				fd_buf_adds(key, ey);
			}
		}
		fd_buf_addf(&matches, "%s%s:%s", n > 1 ? ", " : "", ek, ey);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		rc = fd_store_error(st, "reading entities", err);
	else if (n == 0)
		rc = fd_err_set(err, FD_EUSAGE, "no entity '%s' in the store", fd_visible(vis, sizeof(vis), ref, strlen(ref)));
	else if (n > 1)
		rc = fd_err_set(err, FD_EUSAGE, "entity '%s' is ambiguous: %s; give KIND:KEY",
				fd_visible(vis, sizeof(vis), ref, strlen(ref)), matches.s ? matches.s : "");
	else
		rc = FD_OK;
	fd_buf_release(&matches);
	return rc;
}

/* ---- case basics ----------------------------------------------------------------------- */

int case_status(struct fd_store *st, int64_t id, int *status, struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = fd_store_prepare(st, &s, "SELECT status FROM cases WHERE id = ?", err)))
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*status = fd_case_status_parse((const char *)sqlite3_column_text(s, 0));
		rc = FD_OK;
	} else if (rc == SQLITE_DONE)
		rc = fd_err_set(err, FD_EUSAGE, "no case %lld", (long long)id);
	else
		rc = fd_store_error(st, "reading cases", err);
	sqlite3_finalize(s);
	return rc;
}

static int txn_known(struct fd_store *st, const char *txn_id, struct fd_err *err)
{
	int64_t n;
	char vis[200];
	int rc;

	if (!txn_id || !*txn_id)
		return fd_err_set(err, FD_EUSAGE, "empty transaction id");
	if ((rc = query_i64(st, "SELECT EXISTS (SELECT 1 FROM transactions WHERE txn_id = ?1)"
			    " OR EXISTS (SELECT 1 FROM scores WHERE txn_id = ?1)", txn_id, 0, &n, err)))
		return rc;
	if (!n)
		return fd_err_set(err, FD_EUSAGE, "no transaction '%s' in the store",
				  fd_visible(vis, sizeof(vis), txn_id, strlen(txn_id)));
	return FD_OK;
}

/* Resolved entity references: ids and "kind:key" names. */
struct resolved {
	int64_t *ids;
	char **names;
	size_t n;
};

static void resolved_free(struct resolved *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->names[i]);
	free(r->ids);
	free(r->names);
	memset(r, 0, sizeof(*r));
}

/* Check every reference before anything is written. */
static int check_refs(struct fd_store *st, const struct fd_case_txn_ref *txns, size_t ntxns,
		      const struct fd_case_entity_ref *ents, size_t nents, struct resolved *r,
		      struct fd_err *err)
{
	struct fd_buf kind = FD_BUF_INIT, key = FD_BUF_INIT;
	size_t i;
	int rc = FD_OK;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < ntxns && !rc; i++) {
		if (!(rc = txn_known(st, txns[i].txn_id, err)) &&
		    !(rc = check_text("a reason", txns[i].reason, FD_CASE_TEXT_MAX, 0, 1, err)))
			rc = check_text("a note", txns[i].note, FD_CASE_TEXT_MAX, 0, 1, err);
	}
	if (rc)
		return rc;
	if (nents) {
		r->ids = calloc(nents, sizeof(*r->ids));
		r->names = calloc(nents, sizeof(*r->names));
		if (!r->ids || !r->names) {
			resolved_free(r);
			return oom(err);
		}
	}
	for (i = 0; i < nents && !rc; i++) {
		if (ents[i].role < 0 || ents[i].role >= FD_NER)
			rc = fd_err_set(err, FD_EUSAGE, "unknown entity role");
		else if (!(rc = check_text("a note", ents[i].note, FD_CASE_TEXT_MAX, 0, 1, err)) &&
			 !(rc = fd_case_entity_resolve(st, ents[i].ref, &r->ids[i], &kind, &key, err))) {
			r->n++;
			if (fd_buf_addc(&kind, ':') || fd_buf_add(&kind, key.s, key.len) ||
			    !(r->names[i] = strdup(kind.s)))
				rc = oom(err);
		}
	}
	fd_buf_release(&kind);
	fd_buf_release(&key);
	if (rc)
		resolved_free(r);
	return rc;
}

/* Add one transaction to a case; *added 1 when new, 0 when it was there already. */
int add_txn(struct fd_store *st, int64_t id, const char *txn_id, const char *reason,
	    const char *note, int64_t now, int *added, struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = fd_store_prepare(st, &s, "INSERT INTO case_transactions (case_id, txn_id, reason, note,"
				   " added_at, added_by) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", err)))
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, txn_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, reason ? reason : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, note ? note : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, now);
	sqlite3_bind_text(s, 6, actor_of(st), -1, SQLITE_STATIC);
	rc = step_done(st, s, "adding a transaction to a case", err);
	*added = sqlite3_changes(fd_store_db(st)) > 0;
	sqlite3_finalize(s);
	return rc;
}

/* Add or update one case entity; *what 1 added, 2 changed, 0 already so; *was the old role. */
int add_entity(struct fd_store *st, int64_t id, int64_t eid, int role, const char *note,
	       int64_t now, int *what, int *was, struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc, exists = 0;
	const char *n = note ? note : "";

	*was = -1;
	if ((rc = fd_store_prepare(st, &s, "SELECT role, note FROM case_entities WHERE case_id = ? AND entity_id = ?", err)))
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, eid);
	if (sqlite3_step(s) == SQLITE_ROW) {
		exists = 1;
		*was = fd_entity_role_parse((const char *)sqlite3_column_text(s, 0));
		if (*was == role && (!note || strcmp((const char *)sqlite3_column_text(s, 1), n) == 0)) {
			sqlite3_finalize(s);
			*what = 0;
			return FD_OK;
		}
	}
	sqlite3_finalize(s);
	if (exists)
		rc = fd_store_prepare(st, &s, "UPDATE case_entities SET role = ?3, note = coalesce(?4, note)"
				      " WHERE case_id = ?1 AND entity_id = ?2", err);
	else
		rc = fd_store_prepare(st, &s, "INSERT INTO case_entities (case_id, entity_id, role, note, added_at,"
				      " added_by) VALUES (?1, ?2, ?3, coalesce(?4, ''), ?5, ?6)", err);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, eid);
	sqlite3_bind_text(s, 3, fd_entity_role_name[role], -1, SQLITE_STATIC);
	if (note)
		sqlite3_bind_text(s, 4, note, -1, SQLITE_STATIC);
	if (!exists) {
		sqlite3_bind_int64(s, 5, now);
		sqlite3_bind_text(s, 6, actor_of(st), -1, SQLITE_STATIC);
	}
	rc = step_done(st, s, "adding an entity to a case", err);
	sqlite3_finalize(s);
	*what = exists ? 2 : 1;
	return rc;
}

/* Link refs to case id, appending what changed to the JSON arrays tj and ej ("[...]" built
 * by the caller). */
static int link_refs(struct fd_store *st, int64_t id, const struct fd_case_txn_ref *txns, size_t ntxns,
		     const struct fd_case_entity_ref *ents, const struct resolved *r, int64_t now,
		     struct fd_case_link_result *res, struct fd_buf *tj, struct fd_buf *ej, struct fd_err *err)
{
	size_t i;
	int rc, added, what, was, bad = 0;

	for (i = 0; i < ntxns; i++) {
		if ((rc = add_txn(st, id, txns[i].txn_id, txns[i].reason, txns[i].note, now, &added, err)))
			return rc;
		if (!added) {
			res->txns_already++;
			continue;
		}
		res->txns_added++;
		if (json_arr_add(tj, txns[i].txn_id))
			bad = 1;
	}
	for (i = 0; i < r->n; i++) {
		struct jo j;

		if ((rc = add_entity(st, id, r->ids[i], ents[i].role, ents[i].note, now, &what, &was, err)))
			return rc;
		if (what == 0) {
			res->ents_already++;
			continue;
		}
		if (what == 1)
			res->ents_added++;
		else
			res->ents_changed++;
		jo_begin_item(&j, ej);
		jo_str(&j, "entity", r->names[i]);
		jo_str(&j, "role", fd_entity_role_name[ents[i].role]);
		if (what == 2)
			jo_str(&j, "was", was >= 0 ? fd_entity_role_name[was] : NULL);
		if (ents[i].note && *ents[i].note)
			jo_str(&j, "note", ents[i].note);
		if (jo_end(&j, err))
			bad = 1;
	}
	return bad ? oom(err) : FD_OK;
}

int fd_case_create(struct fd_store *st, const struct fd_case_new *c, int64_t *idp, struct fd_err *err)
{
	sqlite3_stmt *s = NULL;
	struct resolved r;
	struct fd_case_link_result lr;
	struct fd_buf tj = FD_BUF_INIT, ej = FD_BUF_INIT, det = FD_BUF_INIT;
	struct jo j;
	int64_t now = fd_wall_ms(), id = 0;
	int rc, own;

	if ((rc = fd_case_authorize(st, FD_CA_CREATE, "new case", err)))
		return rc;
	if ((rc = check_text("the title", c->title, FD_CASE_TEXT_MAX, 1, 0, err)) ||
	    (rc = check_text("the description", c->description, FD_CASE_TEXT_MAX, 0, 1, err)))
		return rc;
	if (c->priority < 0 || c->priority >= FD_NPRIO)
		return fd_err_set(err, FD_EUSAGE, "unknown priority");
	if ((rc = check_refs(st, c->txns, c->ntxns, c->ents, c->nents, &r, err)))
		return rc;
	if ((rc = tx_begin(st, &own, err))) {
		resolved_free(&r);
		return rc;
	}
	if ((rc = fd_store_prepare(st, &s, "INSERT INTO cases (title, description, priority, status, origin,"
				   " created_at, created_by, updated_at) VALUES (?, ?, ?, 'OPEN', 'manual', ?, ?, ?)", err)))
		goto out;
	sqlite3_bind_text(s, 1, c->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, c->description ? c->description : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, fd_case_priority_name[c->priority], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_text(s, 5, actor_of(st), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, now);
	if ((rc = step_done(st, s, "creating a case", err)))
		goto out;
	id = sqlite3_last_insert_rowid(fd_store_db(st));
	memset(&lr, 0, sizeof(lr));
	if (fd_buf_addc(&tj, '[') || fd_buf_addc(&ej, '[')) {
		rc = oom(err);
		goto out;
	}
	if ((rc = link_refs(st, id, c->txns, c->ntxns, c->ents, &r, now, &lr, &tj, &ej, err)))
		goto out;
	if (fd_buf_addc(&tj, ']') || fd_buf_addc(&ej, ']')) {
		rc = oom(err);
		goto out;
	}
	jo_begin(&j, &det);
	jo_str(&j, "title", c->title);
	jo_str(&j, "priority", fd_case_priority_name[c->priority]);
	jo_str(&j, "origin", "manual");
	jo_raw(&j, "txns", tj.s, tj.len);
	jo_raw(&j, "entities", ej.s, ej.len);
	if ((rc = jo_end(&j, err)))
		goto out;
	rc = case_event(st, id, "created", det.s, now, err);
out:
	sqlite3_finalize(s);
	resolved_free(&r);
	fd_buf_release(&tj);
	fd_buf_release(&ej);
	fd_buf_release(&det);
	rc = tx_end(st, own, rc, err);
	if (!rc && idp)
		*idp = id;
	return rc;
}

/* Move a case (already checked); writes labels or withdraws them, and the "status" event. */
int move_case(struct fd_store *st, int64_t id, int from, int to, const char *note, int64_t now,
	      struct fd_case_status_result *res, struct fd_err *err)
{
	sqlite3_stmt *s = NULL;
	struct fd_buf det = FD_BUF_INIT;
	struct jo j;
	char source[32];
	int rc;

	memset(res, 0, sizeof(*res));
	res->from = from;
	res->to = to;
	snprintf(source, sizeof(source), "case:%lld", (long long)id);
	if ((rc = fd_store_prepare(st, &s, "UPDATE cases SET status = ?, closed_at = ? WHERE id = ?", err)))
		return rc;
	sqlite3_bind_text(s, 1, fd_case_status_name[to], -1, SQLITE_STATIC);
	if (fd_case_status_final(to))
		sqlite3_bind_int64(s, 2, now);
	else
		sqlite3_bind_null(s, 2);
	sqlite3_bind_int64(s, 3, id);
	rc = step_done(st, s, "changing a case's status", err);
	sqlite3_finalize(s);
	s = NULL;
	if (rc)
		return rc;
	if (fd_case_status_final(from)) {
		/* reopening withdraws the outcome's labels */
		if ((rc = fd_store_prepare(st, &s, "DELETE FROM labels WHERE source = ?", err)))
			return rc;
		sqlite3_bind_text(s, 1, source, -1, SQLITE_STATIC);
		rc = step_done(st, s, "withdrawing labels", err);
		res->withdrawn = sqlite3_changes(fd_store_db(st));
		sqlite3_finalize(s);
		s = NULL;
		if (rc)
			return rc;
	}
	if (fd_case_status_final(to)) {
		if ((rc = fd_store_prepare(st, &s, "INSERT OR REPLACE INTO labels (txn_id, label, source, case_id,"
					   " labelled_at, actor) SELECT txn_id, ?, ?, case_id, ?, ? FROM case_transactions"
					   " WHERE case_id = ? ORDER BY txn_id", err)))
			return rc;
		sqlite3_bind_int(s, 1, to == FD_CASE_CLOSED);
		sqlite3_bind_text(s, 2, source, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, now);
		sqlite3_bind_text(s, 4, actor_of(st), -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, id);
		rc = step_done(st, s, "labelling transactions", err);
		res->labelled = sqlite3_changes(fd_store_db(st));
		sqlite3_finalize(s);
		if (rc)
			return rc;
	}
	jo_begin(&j, &det);
	jo_str(&j, "from", fd_case_status_name[from]);
	jo_str(&j, "to", fd_case_status_name[to]);
	if (note && *note)
		jo_str(&j, "note", note);
	if (fd_case_status_final(to)) {
		jo_int(&j, "label", to == FD_CASE_CLOSED);
		jo_int(&j, "labelled", res->labelled);
	}
	if (fd_case_status_final(from))
		jo_int(&j, "labels_withdrawn", res->withdrawn);
	if (!(rc = jo_end(&j, err)))
		rc = case_event(st, id, "status", det.s, now, err);
	fd_buf_release(&det);
	return rc;
}

static void moves_text(int from, char *buf, size_t n)
{
	unsigned m = fd_case_moves(from);
	size_t used = 0;
	int t, k = 0;

	snprintf(buf, n, "%s", m ? "" : "none (it was merged into another case)");
	for (t = 0; t < FD_CASE_NSTATUS; t++)
		if (m & (1u << t) && used < n)
			used += (size_t)snprintf(buf + used, n - used, "%s%s", k++ ? " or " : "", fd_case_status_name[t]);
}

int fd_case_set_status(struct fd_store *st, int64_t id, int to, const char *note,
		       struct fd_case_status_result *res, struct fd_err *err)
{
	struct fd_case_status_result tmp;
	char what[48], allowed[96];
	int rc, own, from;

	snprintf(what, sizeof(what), "case %lld", (long long)id);
	if ((rc = fd_case_authorize(st, FD_CA_STATUS, what, err)))
		return rc;
	if (to < 0 || to >= FD_CASE_NSTATUS)
		return fd_err_set(err, FD_EUSAGE, "unknown status");
	if ((rc = check_text("the note", note, FD_CASE_TEXT_MAX, 0, 1, err)))
		return rc;
	if ((rc = tx_begin(st, &own, err)))
		return rc;
	if ((rc = case_status(st, id, &from, err)))
		goto out;
	if (!(fd_case_moves(from) & (1u << to))) {
		moves_text(from, allowed, sizeof(allowed));
		rc = fd_err_set(err, FD_EUSAGE, "case %lld is %s: it cannot move to %s; allowed: %s", (long long)id,
				fd_case_status_name[from], fd_case_status_name[to], allowed);
		goto out;
	}
	if (fd_case_status_final(from) && (!note || !*note)) {
		rc = fd_err_set(err, FD_EUSAGE, "reopening case %lld (%s) needs a reason (--note TEXT)", (long long)id,
				fd_case_status_name[from]);
		goto out;
	}
	rc = move_case(st, id, from, to, note, fd_wall_ms(), res ? res : &tmp, err);
out:
	return tx_end(st, own, rc, err);
}

/* The least-loaded active INVESTIGATOR (not counting case id); name copied into out.
 * *found 0 when there is none. */
int least_loaded(struct fd_store *st, int64_t id, char *out, int *found, struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	*found = 0;
	if ((rc = fd_store_prepare(st, &s,
				   "SELECT u.name, (SELECT count(*) FROM cases c WHERE c.assignee = u.name"
				   "   AND c.status IN ('OPEN', 'IN_PROGRESS') AND c.id != ?1) AS load"
				   " FROM users u WHERE u.active = 1 AND u.role = 'INVESTIGATOR'"
				   " ORDER BY load, u.name LIMIT 1", err)))
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		snprintf(out, FD_CASE_NAME_MAX + 1, "%s", (const char *)sqlite3_column_text(s, 0));
		*found = 1;
		rc = FD_OK;
	} else
		rc = rc == SQLITE_DONE ? FD_OK : fd_store_error(st, "reading users", err);
	sqlite3_finalize(s);
	return rc;
}

/* Set the assignee of case id (no permission check): the event says from, to, auto and, for
 * an assignment of several cases, how the assignee was picked (how: NULL = not said). */
int set_assignee(struct fd_store *st, int64_t id, const char *to, int automatic, const char *how,
		 int64_t now, struct fd_err *err)
{
	sqlite3_stmt *s;
	struct fd_buf det = FD_BUF_INIT;
	struct jo j;
	char *from = NULL;
	int rc, bad = 0;

	if ((rc = fd_store_prepare(st, &s, "SELECT assignee FROM cases WHERE id = ?", err)))
		return rc;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		from = col_dup(s, 0, &bad);
	sqlite3_finalize(s);
	if (bad)
		return oom(err);
	if (from && strcmp(from, to) == 0) {
		free(from);
		return FD_OK;
	}
	if ((rc = fd_store_prepare(st, &s, "UPDATE cases SET assignee = ? WHERE id = ?", err)))
		goto out;
	sqlite3_bind_text(s, 1, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, id);
	rc = step_done(st, s, "assigning a case", err);
	sqlite3_finalize(s);
	if (rc)
		goto out;
	jo_begin(&j, &det);
	jo_str(&j, "from", from);
	jo_str(&j, "to", to);
	jo_bool(&j, "auto", automatic);
	if (how)
		jo_str(&j, "pick", how);
	if (!(rc = jo_end(&j, err)))
		rc = case_event(st, id, "assign", det.s, now, err);
out:
	free(from);
	fd_buf_release(&det);
	return rc;
}

/* May user be given cases?  With users defined: an active ADMIN or INVESTIGATOR.  what names
 * the cases in the message ("case 3", "cases"). */
static int check_assignee(struct fd_store *st, const char *what, const char *user, struct fd_err *err)
{
	int64_t nusers;
	int rc, role, active;

	if ((rc = actor_user(st, user, &nusers, &role, &active, err)))
		return rc;
	if (nusers && role < 0)
		return fd_err_set(err, FD_EUSAGE, "cannot assign %s to '%s': no such user", what, user);
	if (nusers && !active)
		return fd_err_set(err, FD_EUSAGE, "cannot assign %s to '%s': the user is disabled", what, user);
	if (nusers && role != FD_ROLE_ADMIN && role != FD_ROLE_INVESTIGATOR)
		return fd_err_set(err, FD_EUSAGE, "cannot assign %s to '%s': role %s does not work cases"
				  " (ADMIN or INVESTIGATOR only)", what, user, fd_user_role_name[role]);
	return FD_OK;
}

int fd_case_assign(struct fd_store *st, int64_t id, const char *user, char *assigned, struct fd_err *err)
{
	char what[48], name[FD_CASE_NAME_MAX + 1];
	int64_t nusers;
	int rc, own, status, found;

	snprintf(what, sizeof(what), "case %lld", (long long)id);
	if ((rc = fd_case_authorize(st, FD_CA_ASSIGN, what, err)))
		return rc;
	if (user && (rc = check_text("a user name", user, FD_CASE_NAME_MAX, 1, 0, err)))
		return rc;
	if ((rc = tx_begin(st, &own, err)))
		return rc;
	if ((rc = case_status(st, id, &status, err)))
		goto out;
	if (user) {
		if ((rc = check_assignee(st, what, user, err)))
			goto out;
		snprintf(name, sizeof(name), "%s", user);
	} else {
		if ((rc = query_i64(st, "SELECT count(*) FROM users", NULL, 0, &nusers, err)))
			goto out;
		if (nusers == 0)
			snprintf(name, sizeof(name), "%s", actor_of(st));
		else {
			if ((rc = least_loaded(st, id, name, &found, err)))
				goto out;
			if (!found) {
				rc = fd_err_set(err, FD_EUSAGE, "no active INVESTIGATOR to assign case %lld to"
						" (fd-case user add NAME --role INVESTIGATOR)", (long long)id);
				goto out;
			}
		}
	}
	rc = set_assignee(st, id, name, user == NULL, NULL, fd_wall_ms(), err);
	if (!rc && assigned)
		snprintf(assigned, FD_CASE_NAME_MAX + 1, "%s", name);
out:
	return tx_end(st, own, rc, err);
}

/* ---- bulk and automatic assignment ----------------------------------------------------------- */

const char *const fd_case_pick_name[FD_NPICK] = {"least-loaded", "round-robin"};


int fd_case_pick_parse(const char *s)
{
	return parse_name(fd_case_pick_name, FD_NPICK, s);
}

void fd_case_assignments_free(struct fd_case_assignment *a, size_t n)
{
	size_t i;

	for (i = 0; a && i < n; i++) {
		free(a[i].from);
		free(a[i].to);
	}
	free(a);
}

/* The active INVESTIGATORs by name into *names (an array of *n strings, each owned). */
static int investigators(struct fd_store *st, char ***names, size_t *n, struct fd_err *err)
{
	sqlite3_stmt *s;
	size_t cap = 0;
	int rc, bad = 0;

	*names = NULL;
	*n = 0;
	if ((rc = fd_store_prepare(st, &s, "SELECT name FROM users WHERE active = 1 AND role = 'INVESTIGATOR'"
				   " ORDER BY name", err)))
		return rc;
	while (!bad && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		char **slot = grow1((void **)names, n, &cap, sizeof(**names));

		if (!slot || !(*slot = col_dup(s, 0, &bad)))
			bad = 1;
	}
	if (bad)
		rc = oom(err);
	else
		rc = rc == SQLITE_DONE ? FD_OK : fd_store_error(st, "reading users", err);
	sqlite3_finalize(s);
	return rc;
}

/* The user who received the latest automatic assignment ("" when none), into out. */
static int last_auto_assignee(struct fd_store *st, char *out, struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	out[0] = '\0';
	if ((rc = fd_store_prepare(st, &s, "SELECT json_extract(details, '$.to') FROM case_events WHERE kind = 'assign'"
				   " AND json_extract(details, '$.auto') = 1 ORDER BY id DESC LIMIT 1", err)))
		return rc;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);

		snprintf(out, FD_CASE_NAME_MAX + 1, "%s", t ? t : "");
		rc = FD_OK;
	} else
		rc = rc == SQLITE_DONE ? FD_OK : fd_store_error(st, "reading case events", err);
	sqlite3_finalize(s);
	return rc;
}

/* The investigator whose turn it is: the first active INVESTIGATOR by name after whoever
 * received the latest automatic assignment (wrapping round); *found 0 when there is none. */
int round_robin_next(struct fd_store *st, char *out, int *found, struct fd_err *err)
{
	char **pool = NULL, last[FD_CASE_NAME_MAX + 1];
	size_t n = 0, i, k;
	int rc;

	*found = 0;
	if ((rc = investigators(st, &pool, &n, err)) || (rc = last_auto_assignee(st, last, err)))
		goto out;
	for (k = 0; k < n && strcmp(pool[k], last) <= 0; k++)
		;
	if (n) {
		snprintf(out, FD_CASE_NAME_MAX + 1, "%s", pool[k < n ? k : 0]);
		*found = 1;
	}
out:
	for (i = 0; i < n; i++)
		free(pool[i]);
	free(pool);
	return rc;
}

int fd_case_assign_many(struct fd_store *st, const int64_t *ids, size_t nids, const struct fd_case_filter *f,
			const char *user, int pick, struct fd_case_assignment **out, size_t *nout,
			struct fd_err *err)
{
	struct fd_case_summary *cs = NULL;
	struct fd_case_assignment *res = NULL;
	char **pool = NULL, name[FD_CASE_NAME_MAX + 1], last[FD_CASE_NAME_MAX + 1];
	int64_t nusers, *list = NULL, now = fd_wall_ms();
	size_t npool = 0, n = 0, i, next = 0;
	int rc, own = 0, began = 0;

	*out = NULL;
	*nout = 0;
	if ((rc = fd_case_authorize(st, FD_CA_ASSIGN, nids ? "cases (list)" : "cases (selection)", err)))
		return rc;
	if (pick < 0 || pick >= FD_NPICK)
		return fd_err_set(err, FD_EUSAGE, "unknown assignment strategy");
	if (user && (rc = check_text("a user name", user, FD_CASE_NAME_MAX, 1, 0, err)))
		return rc;
	if ((rc = tx_begin(st, &own, err)))
		return rc;
	began = 1;
	if (user && (rc = check_assignee(st, "cases", user, err)))
		goto out;
	/* the cases, in id order (a list as given) */
	if (nids) {
		if (!(list = malloc(nids * sizeof(*list)))) {
			rc = oom(err);
			goto out;
		}
		for (i = 0; i < nids; i++) {
			int status;

			if ((rc = case_status(st, ids[i], &status, err)))
				goto out;
			list[i] = ids[i];
		}
		n = nids;
	} else {
		struct fd_case_filter g = *f;

		g.sort = FD_CASE_SORT_ID;
		g.descending = 0;
		if ((rc = fd_case_list(st, &g, &cs, &n, err)))
			goto out;
		if (n && !(list = malloc(n * sizeof(*list)))) {
			rc = oom(err);
			goto out;
		}
		for (i = 0; i < n; i++)
			list[i] = cs[i].id;
	}
	if (!user) {
		if ((rc = query_i64(st, "SELECT count(*) FROM users", NULL, 0, &nusers, err)))
			goto out;
		if (nusers) {
			if ((rc = investigators(st, &pool, &npool, err)))
				goto out;
			if (!npool && n) {
				rc = fd_err_set(err, FD_EUSAGE, "no active INVESTIGATOR to assign the cases to"
						" (fd-case user add NAME --role INVESTIGATOR)");
				goto out;
			}
			if (pick == FD_PICK_ROUND_ROBIN) {
				/* continue after whoever received the latest automatic assignment */
				if ((rc = last_auto_assignee(st, last, err)))
					goto out;
				for (next = 0; next < npool && strcmp(pool[next], last) <= 0; next++)
					;
				if (next == npool)
					next = 0;
			}
		}
	}
	if (n && !(res = calloc(n, sizeof(*res)))) {
		rc = oom(err);
		goto out;
	}
	for (i = 0; i < n; i++) {
		sqlite3_stmt *s;
		int bad = 0, found;

		if (user)
			snprintf(name, sizeof(name), "%s", user);
		else if (!npool)
			snprintf(name, sizeof(name), "%s", actor_of(st));  /* a single-user store */
		else if (pick == FD_PICK_ROUND_ROBIN) {
			snprintf(name, sizeof(name), "%s", pool[next]);
			next = (next + 1) % npool;
		} else {
			if ((rc = least_loaded(st, list[i], name, &found, err)))
				goto out;
		}
		res[i].id = list[i];
		if ((rc = fd_store_prepare(st, &s, "SELECT assignee FROM cases WHERE id = ?", err)))
			goto out;
		sqlite3_bind_int64(s, 1, list[i]);
		if (sqlite3_step(s) == SQLITE_ROW)
			res[i].from = col_dup(s, 0, &bad);
		sqlite3_finalize(s);
		if (bad || !(res[i].to = strdup(name))) {
			rc = oom(err);
			goto out;
		}
		res[i].changed = !res[i].from || strcmp(res[i].from, name) != 0;
		*nout = i + 1;
		if ((rc = set_assignee(st, list[i], name, user == NULL, user ? NULL : fd_case_pick_name[pick], now, err)))
			goto out;
	}
out:
	if (began)
		rc = tx_end(st, own, rc, err);
	for (i = 0; i < npool; i++)
		free(pool[i]);
	free(pool);
	free(list);
	fd_case_summaries_free(cs, nids ? 0 : n);
	if (rc) {
		fd_case_assignments_free(res, *nout);
		*nout = 0;
		res = NULL;
	}
	*out = res;
	return rc;
}

int fd_case_note(struct fd_store *st, int64_t id, const char *text, struct fd_err *err)
{
	struct fd_buf det = FD_BUF_INIT;
	struct jo j;
	char what[48];
	int rc, own, status;

	snprintf(what, sizeof(what), "case %lld", (long long)id);
	if ((rc = fd_case_authorize(st, FD_CA_NOTE, what, err)))
		return rc;
	if ((rc = check_text("the note", text, FD_CASE_TEXT_MAX, 1, 1, err)))
		return rc;
	if ((rc = tx_begin(st, &own, err)))
		return rc;
	if ((rc = case_status(st, id, &status, err)))
		goto out;
	jo_begin(&j, &det);
	jo_str(&j, "text", text);
	if (!(rc = jo_end(&j, err)))
		rc = case_event(st, id, "note", det.s, fd_wall_ms(), err);
out:
	fd_buf_release(&det);
	return tx_end(st, own, rc, err);
}

/* Read a whole regular file of at most FD_CASE_ATTACH_MAX bytes. */
static int slurp(const char *path, unsigned char **data, size_t *n, struct fd_err *err)
{
	struct stat sb;
	unsigned char *buf = NULL;
	size_t got = 0, cap;
	ssize_t r;
	int fd;

	*data = NULL;
	*n = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return fd_err_set(err, FD_EIO, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return fd_err_set(err, FD_EUSAGE, "'%s' is not a regular file", path);
	}
	if (sb.st_size > FD_CASE_ATTACH_MAX) {
		close(fd);
		return fd_err_set(err, FD_EUSAGE, "'%s' is too large to attach (%lld bytes, at most %d)", path,
				  (long long)sb.st_size, FD_CASE_ATTACH_MAX);
	}
	cap = (size_t)sb.st_size + 1;
	if (!(buf = malloc(cap))) {
		close(fd);
		return oom(err);
	}
	while ((r = read(fd, buf + got, cap - got)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			close(fd);
			return fd_err_set(err, FD_EIO, "cannot read '%s': %s", path, strerror(errno));
		}
		got += (size_t)r;
		if (got == cap) { /* it grew while we read: refuse rather than store a moving target */
			free(buf);
			close(fd);
			return fd_err_set(err, FD_EIO, "'%s' changed while it was read", path);
		}
	}
	close(fd);
	*data = buf;
	*n = got;
	return FD_OK;
}

int fd_case_attach(struct fd_store *st, int64_t id, const char *path, const char *name, const char *note,
		   int64_t *att_id, char *sha256, struct fd_err *err)
{
	sqlite3_stmt *s = NULL;
	struct fd_buf det = FD_BUF_INIT;
	struct jo j;
	unsigned char *data = NULL;
	size_t n = 0;
	char what[48], hex[65];
	const char *base;
	int64_t aid = 0, now = fd_wall_ms();
	int rc, own = 0, began = 0, status;

	snprintf(what, sizeof(what), "case %lld", (long long)id);
	if ((rc = fd_case_authorize(st, FD_CA_NOTE, what, err)))
		return rc;
	base = strrchr(path, '/');
	base = name ? name : base ? base + 1 : path;
	if ((rc = check_text("the attachment name", base, 1024, 1, 0, err)) ||
	    (rc = check_text("the note", note, FD_CASE_TEXT_MAX, 0, 1, err)))
		return rc;
	if ((rc = slurp(path, &data, &n, err)))
		return rc;
	fd_sha256_hex(data, n, hex);
	if ((rc = tx_begin(st, &own, err)))
		goto out;
	began = 1;
	if ((rc = case_status(st, id, &status, err)))
		goto out;
	if ((rc = fd_store_prepare(st, &s, "INSERT INTO case_attachments (case_id, name, sha256, size, content,"
				   " added_at, added_by) VALUES (?, ?, ?, ?, ?, ?, ?)", err)))
		goto out;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, base, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, hex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (int64_t)n);
	sqlite3_bind_blob(s, 5, data, (int)n, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, now);
	sqlite3_bind_text(s, 7, actor_of(st), -1, SQLITE_STATIC);
	if ((rc = step_done(st, s, "storing an attachment", err)))
		goto out;
	aid = sqlite3_last_insert_rowid(fd_store_db(st));
	jo_begin(&j, &det);
	jo_int(&j, "attachment", aid);
	jo_str(&j, "name", base);
	jo_str(&j, "sha256", hex);
	jo_int(&j, "size", (int64_t)n);
	if (note && *note)
		jo_str(&j, "note", note);
	if (!(rc = jo_end(&j, err)))
		rc = case_event(st, id, "attach", det.s, now, err);
out:
	sqlite3_finalize(s);
	free(data);
	fd_buf_release(&det);
	if (began)
		rc = tx_end(st, own, rc, err);
	if (!rc) {
		if (att_id)
			*att_id = aid;
		if (sha256)
			memcpy(sha256, hex, sizeof(hex));
	}
	return rc;
}

int fd_case_link(struct fd_store *st, int64_t id, const struct fd_case_txn_ref *txns, size_t ntxns,
		 const struct fd_case_entity_ref *ents, size_t nents, struct fd_case_link_result *res,
		 struct fd_err *err)
{
	struct fd_case_link_result tmp;
	struct resolved r;
	struct fd_buf tj = FD_BUF_INIT, ej = FD_BUF_INIT, det = FD_BUF_INIT;
	struct jo j;
	char what[48];
	int64_t now = fd_wall_ms();
	int rc, own, status;

	if (!res)
		res = &tmp;
	memset(res, 0, sizeof(*res));
	snprintf(what, sizeof(what), "case %lld", (long long)id);
	if ((rc = fd_case_authorize(st, FD_CA_LINK, what, err)))
		return rc;
	if (ntxns + nents == 0)
		return fd_err_set(err, FD_EUSAGE, "nothing to link: give --txn or --entity");
	if ((rc = check_refs(st, txns, ntxns, ents, nents, &r, err)))
		return rc;
	if ((rc = tx_begin(st, &own, err))) {
		resolved_free(&r);
		return rc;
	}
	if ((rc = case_status(st, id, &status, err)))
		goto out;
	if (status == FD_CASE_DUPLICATE) {
		rc = fd_err_set(err, FD_EUSAGE, "case %lld is DUPLICATE: link to the case it was merged into", (long long)id);
		goto out;
	}
	if (fd_case_status_final(status)) {
		rc = fd_err_set(err, FD_EUSAGE, "case %lld is %s: reopen it (status %lld IN_PROGRESS --note ...) before linking",
				(long long)id, fd_case_status_name[status], (long long)id);
		goto out;
	}
	if (fd_buf_addc(&tj, '[') || fd_buf_addc(&ej, '[')) {
		rc = oom(err);
		goto out;
	}
	if ((rc = link_refs(st, id, txns, ntxns, ents, &r, now, res, &tj, &ej, err)))
		goto out;
	if (res->txns_added + res->ents_added + res->ents_changed == 0)
		goto out; /* nothing new: not recorded */
	if (fd_buf_addc(&tj, ']') || fd_buf_addc(&ej, ']')) {
		rc = oom(err);
		goto out;
	}
	jo_begin(&j, &det);
	jo_raw(&j, "txns", tj.s, tj.len);
	jo_raw(&j, "entities", ej.s, ej.len);
	if (!(rc = jo_end(&j, err)))
		rc = case_event(st, id, "link", det.s, now, err);
out:
	resolved_free(&r);
	fd_buf_release(&tj);
	fd_buf_release(&ej);
	fd_buf_release(&det);
	return tx_end(st, own, rc, err);
}

/* ---- reading ------------------------------------------------------------------------------ */

int fd_case_format_amounts(const struct fd_case_amount *a, size_t n, int human, struct fd_buf *out)
{
	char buf[FD_NUM_BUFSZ > FD_AMOUNT_BUFSZ ? FD_NUM_BUFSZ : FD_AMOUNT_BUFSZ];
	size_t i;

	if (n == 0)
		return fd_buf_adds(out, "0");
	for (i = 0; i < n; i++)
		if ((i && fd_buf_adds(out, " + ")) ||
		    fd_buf_addf(out, "%s %s",
				human ? fd_num_amount(a[i].minor, a[i].exponent, buf)
				      : fd_format_amount(a[i].minor, a[i].exponent, buf),
				a[i].currency))
			return -1;
	return 0;
}

void fd_case_summary_release(struct fd_case_summary *s)
{
	if (!s)
		return;
	free(s->title);
	free(s->description);
	free(s->assignee);
	free(s->origin);
	free(s->suspect);
	free(s->created_by);
	free(s->stake);
	memset(s, 0, sizeof(*s));
}

void fd_case_summaries_free(struct fd_case_summary *s, size_t n)
{
	size_t i;

	for (i = 0; s && i < n; i++)
		fd_case_summary_release(&s[i]);
	free(s);
}

/* Fill s for case id (FD_EUSAGE when there is none). */
static int load_summary(struct fd_store *st, int64_t id, struct fd_case_summary *s, struct fd_err *err)
{
	sqlite3_stmt *q = NULL;
	int rc, bad = 0;
	size_t cap = 0;

	memset(s, 0, sizeof(*s));
	if ((rc = fd_store_prepare(st, &q, "SELECT id, title, description, priority, status, assignee, origin,"
				   " suspect, window_start, window_end, created_at, created_by, updated_at, closed_at,"
				   " (SELECT count(*) FROM case_transactions WHERE case_id = c.id),"
				   " (SELECT count(*) FROM case_entities WHERE case_id = c.id),"
				   " (SELECT count(*) FROM case_events WHERE case_id = c.id),"
				   " (SELECT count(*) FROM case_events WHERE case_id = c.id AND kind = 'note'),"
				   " (SELECT count(*) FROM case_attachments WHERE case_id = c.id),"
				   " (SELECT max(l.risk) FROM case_transactions ct JOIN latest_scores l ON l.txn_id = ct.txn_id"
				   "   WHERE ct.case_id = c.id)"
				   " FROM cases c WHERE id = ?", err)))
		return rc;
	sqlite3_bind_int64(q, 1, id);
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? fd_err_set(err, FD_EUSAGE, "no case %lld", (long long)id)
				       : fd_store_error(st, "reading cases", err);
		sqlite3_finalize(q);
		return rc;
	}
	s->id = sqlite3_column_int64(q, 0);
	s->title = col_dup(q, 1, &bad);
	s->description = col_dup(q, 2, &bad);
	s->priority = fd_case_priority_parse((const char *)sqlite3_column_text(q, 3));
	s->status = fd_case_status_parse((const char *)sqlite3_column_text(q, 4));
	s->assignee = col_dup(q, 5, &bad);
	s->origin = col_dup(q, 6, &bad);
	s->suspect = col_dup(q, 7, &bad);
	s->window_start = sqlite3_column_int64(q, 8);
	s->window_end = sqlite3_column_int64(q, 9);
	s->created_at = sqlite3_column_int64(q, 10);
	s->created_by = col_dup(q, 11, &bad);
	s->updated_at = sqlite3_column_int64(q, 12);
	s->closed_at = sqlite3_column_int64(q, 13);
	s->ntxns = sqlite3_column_int64(q, 14);
	s->nentities = sqlite3_column_int64(q, 15);
	s->nevents = sqlite3_column_int64(q, 16);
	s->nnotes = sqlite3_column_int64(q, 17);
	s->nattachments = sqlite3_column_int64(q, 18);
	s->max_risk = sqlite3_column_type(q, 19) == SQLITE_NULL ? -1 : sqlite3_column_double(q, 19);
	sqlite3_finalize(q);
	if (bad)
		goto nomem;
	if ((rc = fd_store_prepare(st, &q, "SELECT t.currency, sum(t.amount), count(*) FROM case_transactions ct"
				   " JOIN transactions t ON t.txn_id = ct.txn_id WHERE ct.case_id = ?"
				   " GROUP BY t.currency ORDER BY t.currency", err)))
		goto fail;
	sqlite3_bind_int64(q, 1, id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct fd_case_amount *a;
		const char *cur = (const char *)sqlite3_column_text(q, 0);

		if (s->nstake == cap) {
			size_t nc = cap ? 2 * cap : 4;
			void *p = realloc(s->stake, nc * sizeof(*s->stake));

			if (!p) {
				sqlite3_finalize(q);
				goto nomem;
			}
			s->stake = p;
			cap = nc;
		}
		a = &s->stake[s->nstake++];
		snprintf(a->currency, sizeof(a->currency), "%s", cur ? cur : "");
		a->exponent = fd_currency_exponent(a->currency);
		if (a->exponent < 0)
			a->exponent = 2;
		a->minor = sqlite3_column_int64(q, 1);
		a->count = sqlite3_column_int64(q, 2);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		rc = fd_store_error(st, "reading case transactions", err);
		goto fail;
	}
	return FD_OK;
nomem:
	rc = oom(err);
fail:
	fd_case_summary_release(s);
	return rc;
}

void fd_case_filter_init(struct fd_case_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->since = INT64_MIN;
	f->until = INT64_MAX;
	f->sort = FD_CASE_SORT_ID;
}

/* Amount at stake in major units, currencies added at face value (for ranking only). */
double stake_major(const struct fd_case_summary *s)
{
	double v = 0;
	size_t i;

	for (i = 0; i < s->nstake; i++)
		v += (double)s->stake[i].minor / pow(10, s->stake[i].exponent);
	return v;
}

/* qsort_r (glibc's argument order) comparator; ctx is the filter: its sort key and order. */
static int cmp_summary(const void *pa, const void *pb, void *ctx)
{
	const struct fd_case_filter *f = ctx;
	const struct fd_case_summary *a = pa, *b = pb;
	double x = 0, y = 0;
	int c;

	switch (f->sort) {
	case FD_CASE_SORT_CREATED: x = (double)a->created_at; y = (double)b->created_at; break;
	case FD_CASE_SORT_UPDATED: x = (double)a->updated_at; y = (double)b->updated_at; break;
	case FD_CASE_SORT_PRIORITY: x = a->priority; y = b->priority; break;
	case FD_CASE_SORT_STATUS: x = a->status; y = b->status; break;
	case FD_CASE_SORT_RISK: x = a->max_risk; y = b->max_risk; break;
	case FD_CASE_SORT_AMOUNT: x = stake_major(a); y = stake_major(b); break;
	default: break;
	}
	c = x < y ? -1 : x > y ? 1 : 0;
	if (c == 0)
		c = a->id < b->id ? -1 : a->id > b->id;
	return f->descending ? -c : c;
}

int fd_case_list(struct fd_store *st, const struct fd_case_filter *f, struct fd_case_summary **out,
		 size_t *np, struct fd_err *err)
{
	sqlite3_stmt *q = NULL;
	struct fd_case_summary *v = NULL;
	struct fd_buf kind = FD_BUF_INIT, key = FD_BUF_INIT;
	size_t n = 0, cap = 0;
	int64_t eid = 0;
	int rc;

	*out = NULL;
	*np = 0;
	if ((rc = fd_case_authorize(st, FD_CA_VIEW, "cases", err)))
		return rc;
	if (f->entity && (rc = fd_case_entity_resolve(st, f->entity, &eid, &kind, &key, err)))
		goto out;
	if ((rc = fd_store_prepare(st, &q,
				   "SELECT id FROM cases c WHERE"
				   " (?1 = 0 OR (?1 >> (CASE status WHEN 'OPEN' THEN 0 WHEN 'IN_PROGRESS' THEN 1"
				   "   WHEN 'CLOSED' THEN 2 WHEN 'FALSE_POSITIVE' THEN 3 ELSE 4 END)) & 1)"
				   " AND (?2 IS NULL OR ifnull(assignee, '') = ?2)"
				   " AND (?3 = 0 OR (?3 >> (CASE priority WHEN 'LOW' THEN 0 WHEN 'MEDIUM' THEN 1"
				   "   WHEN 'HIGH' THEN 2 ELSE 3 END)) & 1)"
				   " AND (?4 IS NULL OR origin = ?4)"
				   " AND created_at >= ?5 AND created_at < ?6"
				   " AND (?7 IS NULL OR id IN (SELECT case_id FROM case_entities WHERE entity_id = ?7)"
				   "   OR id IN (SELECT ct.case_id FROM case_transactions ct JOIN transactions t"
				   "     ON t.txn_id = ct.txn_id WHERE (?8 = 'account' AND (t.sender_id = ?9"
				   "     OR t.recipient_id = ?9)) OR (?8 = 'merchant' AND t.merchant_id = ?9)"
				   "     OR (?8 = 'device' AND t.device_id = ?9) OR (?8 = 'ip' AND t.ip = ?9)))"
				   " ORDER BY id", err)))
		goto out;
	sqlite3_bind_int64(q, 1, f->status_mask);
	if (f->assignee)
		sqlite3_bind_text(q, 2, f->assignee, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, f->priority_mask);
	if (f->origin)
		sqlite3_bind_text(q, 4, f->origin, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 5, f->since);
	sqlite3_bind_int64(q, 6, f->until);
	if (f->entity) {
		sqlite3_bind_int64(q, 7, eid);
		sqlite3_bind_text(q, 8, kind.s, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 9, key.s, -1, SQLITE_STATIC);
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 16;
			void *p = realloc(v, nc * sizeof(*v));

			if (!p) {
				rc = oom(err);
				goto out;
			}
			v = p;
			cap = nc;
		}
		if ((rc = load_summary(st, sqlite3_column_int64(q, 0), &v[n], err)))
			goto out;
		n++;
	}
	if (rc != SQLITE_DONE) {
		rc = fd_store_error(st, "reading cases", err);
		goto out;
	}
	rc = FD_OK;
	if (n > 1)
		qsort_r(v, n, sizeof(*v), cmp_summary, (void *)f);
	if (f->limit > 0 && (int64_t)n > f->limit) {
		size_t i;

		for (i = (size_t)f->limit; i < n; i++)
			fd_case_summary_release(&v[i]);
		n = (size_t)f->limit;
	}
	*out = v;
	*np = n;
	v = NULL;
	n = 0;
out:
	sqlite3_finalize(q);
	fd_case_summaries_free(v, n);
	fd_buf_release(&kind);
	fd_buf_release(&key);
	return rc;
}

static void case_txn_release(struct fd_case_txn *t)
{
	size_t i;

	free(t->txn_id);
	free(t->reason);
	free(t->note);
	free(t->added_by);
	free(t->sender);
	free(t->recipient);
	free(t->merchant);
	free(t->device);
	free(t->ip);
	free(t->channel);
	free(t->country);
	free(t->model_version);
	for (i = 0; i < t->nreasons; i++)
		free(t->reasons[i]);
	free(t->reasons);
	for (i = 0; i < t->nhits; i++) {
		free(t->hits[i].rule_id);
		free(t->hits[i].reason);
	}
	free(t->hits);
}

void fd_case_view_free(struct fd_case_view *v)
{
	size_t i;

	if (!v)
		return;
	fd_case_summary_release(&v->s);
	for (i = 0; i < v->nevents; i++) {
		free(v->events[i].actor);
		free(v->events[i].kind);
		free(v->events[i].details);
	}
	free(v->events);
	for (i = 0; i < v->ntxns; i++)
		case_txn_release(&v->txns[i]);
	free(v->txns);
	for (i = 0; i < v->nents; i++) {
		free(v->ents[i].kind);
		free(v->ents[i].key);
		free(v->ents[i].note);
		free(v->ents[i].added_by);
	}
	free(v->ents);
	for (i = 0; i < v->natts; i++) {
		free(v->atts[i].name);
		free(v->atts[i].added_by);
	}
	free(v->atts);
	free(v);
}

/* Grow *arr (of elements of size sz) to hold one more; zeroes the new element. */
void *grow1(void **arr, size_t *n, size_t *cap, size_t sz)
{
	if (*n == *cap) {
		size_t nc = *cap ? 2 * *cap : 8;
		void *p = realloc(*arr, nc * sz);

		if (!p)
			return NULL;
		*arr = p;
		*cap = nc;
	}
	memset((char *)*arr + *n * sz, 0, sz);
	return (char *)*arr + (*n)++ * sz;
}

/* Split a score's reasons (a JSON array of strings; anything else is one sentence). */
int split_reasons(const char *text, char ***out, size_t *n)
{
	json_t *a;
	json_error_t je;
	size_t i;

	*out = NULL;
	*n = 0;
	if (!text || !*text)
		return 0;
	a = json_loads(text, JSON_DECODE_ANY, &je);
	if (a && json_is_array(a)) {
		size_t k = json_array_size(a);

		if (k && !(*out = calloc(k, sizeof(char *)))) {
			json_decref(a);
			return -1;
		}
		for (i = 0; i < k; i++) {
			json_t *e = json_array_get(a, i);
			char *s = json_is_string(e) ? strdup(json_string_value(e)) : json_dumps(e, JSON_ENCODE_ANY);

			if (!s) {
				json_decref(a);
				return -1;
			}
			(*out)[(*n)++] = s;
		}
		json_decref(a);
		return 0;
	}
	json_decref(a);
	if (strcmp(text, "[]") == 0)
		return 0;
	if (!(*out = calloc(1, sizeof(char *))) || !((*out)[0] = strdup(text)))
		return -1;
	*n = 1;
	return 0;
}

/* Score, rule hits and effective label of one case transaction. */
static int load_txn_extras(struct fd_store *st, struct fd_case_txn *t, struct fd_err *err)
{
	sqlite3_stmt *q;
	size_t cap = 0;
	int rc, bad = 0;

	if ((rc = fd_store_prepare(st, &q, "SELECT risk, level, decision, model_version, reasons FROM latest_scores"
				   " WHERE txn_id = ?1", err)))
		return rc;
	sqlite3_bind_text(q, 1, t->txn_id, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW) {
		t->scored = 1;
		t->risk = sqlite3_column_double(q, 0);
		snprintf(t->level, sizeof(t->level), "%s", (const char *)sqlite3_column_text(q, 1));
		snprintf(t->decision, sizeof(t->decision), "%s", (const char *)sqlite3_column_text(q, 2));
		t->model_version = col_dup(q, 3, &bad);
		if (split_reasons((const char *)sqlite3_column_text(q, 4), &t->reasons, &t->nreasons))
			bad = 1;
	}
	sqlite3_finalize(q);
	if (bad)
		return oom(err);
	if ((rc = fd_store_prepare(st, &q, "SELECT rule_id, reason, max(points) FROM rule_hits WHERE txn_id = ?"
				   " GROUP BY rule_id, reason ORDER BY rule_id, reason", err)))
		return rc;
	sqlite3_bind_text(q, 1, t->txn_id, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct fd_case_rule_hit *h = grow1((void **)&t->hits, &t->nhits, &cap, sizeof(*h));

		if (!h) {
			bad = 1;
			break;
		}
		h->rule_id = col_dup(q, 0, &bad);
		h->reason = col_dup(q, 1, &bad);
		h->points = sqlite3_column_int64(q, 2);
	}
	sqlite3_finalize(q);
	if (bad)
		return oom(err);
	t->label = -1;
	if ((rc = fd_store_prepare(st, &q, "SELECT label FROM effective_labels WHERE txn_id = ?", err)))
		return rc;
	sqlite3_bind_text(q, 1, t->txn_id, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
		t->label = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return FD_OK;
}

int fd_case_load(struct fd_store *st, int64_t id, struct fd_case_view **vp, struct fd_err *err)
{
	struct fd_case_view *v;
	sqlite3_stmt *q = NULL;
	char what[48];
	size_t cap;
	int rc, bad = 0;

	*vp = NULL;
	snprintf(what, sizeof(what), "case %lld", (long long)id);
	if ((rc = fd_case_authorize(st, FD_CA_VIEW, what, err)))
		return rc;
	if (!(v = calloc(1, sizeof(*v))))
		return oom(err);
	if ((rc = load_summary(st, id, &v->s, err)))
		goto fail;

	if ((rc = fd_store_prepare(st, &q, "SELECT id, ts, actor, kind, details FROM case_events"
				   " WHERE case_id = ? ORDER BY id", err)))
		goto fail;
	sqlite3_bind_int64(q, 1, id);
	cap = 0;
	while (!bad && sqlite3_step(q) == SQLITE_ROW) {
		struct fd_case_event *e = grow1((void **)&v->events, &v->nevents, &cap, sizeof(*e));

		if (!e) {
			bad = 1;
			break;
		}
		e->id = sqlite3_column_int64(q, 0);
		e->ts = sqlite3_column_int64(q, 1);
		e->actor = col_dup(q, 2, &bad);
		e->kind = col_dup(q, 3, &bad);
		e->details = col_dup(q, 4, &bad);
	}
	sqlite3_finalize(q);
	q = NULL;
	if (bad)
		goto nomem;

	if ((rc = fd_store_prepare(st, &q, "SELECT ct.txn_id, ct.reason, ct.note, ct.added_by, ct.added_at,"
				   " t.id IS NOT NULL, t.ts, t.amount, t.currency, t.sender_id, t.recipient_id,"
				   " t.merchant_id, t.device_id, t.ip, t.channel, t.country"
				   " FROM case_transactions ct LEFT JOIN transactions t ON t.txn_id = ct.txn_id"
				   " WHERE ct.case_id = ? ORDER BY t.id IS NULL, t.ts, ct.txn_id", err)))
		goto fail;
	sqlite3_bind_int64(q, 1, id);
	cap = 0;
	while (!bad && sqlite3_step(q) == SQLITE_ROW) {
		struct fd_case_txn *t = grow1((void **)&v->txns, &v->ntxns, &cap, sizeof(*t));

		if (!t) {
			bad = 1;
			break;
		}
		t->txn_id = col_dup(q, 0, &bad);
		t->reason = col_dup(q, 1, &bad);
		t->note = col_dup(q, 2, &bad);
		t->added_by = col_dup(q, 3, &bad);
		t->added_at = sqlite3_column_int64(q, 4);
		t->stored = sqlite3_column_int(q, 5);
		t->label = -1;
		if (t->stored) {
			const char *cur = (const char *)sqlite3_column_text(q, 8);

			t->ts = sqlite3_column_int64(q, 6);
			t->amount = sqlite3_column_int64(q, 7);
			snprintf(t->currency, sizeof(t->currency), "%s", cur ? cur : "");
			t->exponent = fd_currency_exponent(t->currency);
			if (t->exponent < 0)
				t->exponent = 2;
			t->sender = col_dup(q, 9, &bad);
			t->recipient = col_dup(q, 10, &bad);
			t->merchant = col_dup(q, 11, &bad);
			t->device = col_dup(q, 12, &bad);
			t->ip = col_dup(q, 13, &bad);
			t->channel = col_dup(q, 14, &bad);
			t->country = col_dup(q, 15, &bad);
		}
	}
	sqlite3_finalize(q);
	q = NULL;
	if (bad)
		goto nomem;
	for (cap = 0; cap < v->ntxns; cap++)
		if ((rc = load_txn_extras(st, &v->txns[cap], err)))
			goto fail;

	if ((rc = fd_store_prepare(st, &q, "SELECT ce.entity_id, e.kind, e.key, ce.role, ce.note, ce.added_by,"
				   " ce.added_at, e.txn_count FROM case_entities ce JOIN entities e ON e.id = ce.entity_id"
				   " WHERE ce.case_id = ? ORDER BY CASE ce.role WHEN 'SUSPECT' THEN 0 WHEN 'VICTIM' THEN 1"
				   " WHEN 'WITNESS' THEN 2 ELSE 3 END, e.kind, e.key", err)))
		goto fail;
	sqlite3_bind_int64(q, 1, id);
	cap = 0;
	while (!bad && sqlite3_step(q) == SQLITE_ROW) {
		struct fd_case_entity *e = grow1((void **)&v->ents, &v->nents, &cap, sizeof(*e));

		if (!e) {
			bad = 1;
			break;
		}
		e->entity_id = sqlite3_column_int64(q, 0);
		e->kind = col_dup(q, 1, &bad);
		e->key = col_dup(q, 2, &bad);
		e->role = fd_entity_role_parse((const char *)sqlite3_column_text(q, 3));
		e->note = col_dup(q, 4, &bad);
		e->added_by = col_dup(q, 5, &bad);
		e->added_at = sqlite3_column_int64(q, 6);
		e->txn_count = sqlite3_column_int64(q, 7);
	}
	sqlite3_finalize(q);
	q = NULL;
	if (bad)
		goto nomem;

	if ((rc = fd_store_prepare(st, &q, "SELECT id, size, added_at, name, added_by, sha256 FROM case_attachments"
				   " WHERE case_id = ? ORDER BY id", err)))
		goto fail;
	sqlite3_bind_int64(q, 1, id);
	cap = 0;
	while (!bad && sqlite3_step(q) == SQLITE_ROW) {
		struct fd_case_attachment *a = grow1((void **)&v->atts, &v->natts, &cap, sizeof(*a));

		if (!a) {
			bad = 1;
			break;
		}
		a->id = sqlite3_column_int64(q, 0);
		a->size = sqlite3_column_int64(q, 1);
		a->added_at = sqlite3_column_int64(q, 2);
		a->name = col_dup(q, 3, &bad);
		a->added_by = col_dup(q, 4, &bad);
		snprintf(a->sha256, sizeof(a->sha256), "%s", (const char *)sqlite3_column_text(q, 5));
	}
	sqlite3_finalize(q);
	if (bad)
		goto nomem;
	*vp = v;
	return FD_OK;
nomem:
	rc = oom(err);
fail:
	fd_case_view_free(v);
	return rc;
}

int fd_case_attachment_read(struct fd_store *st, int64_t att_id, unsigned char **data, size_t *n,
			    struct fd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	*data = NULL;
	*n = 0;
	if ((rc = fd_case_authorize(st, FD_CA_VIEW, "attachment", err)))
		return rc;
	if ((rc = fd_store_prepare(st, &q, "SELECT content FROM case_attachments WHERE id = ?", err)))
		return rc;
	sqlite3_bind_int64(q, 1, att_id);
	if (sqlite3_step(q) == SQLITE_ROW) {
		size_t k = (size_t)sqlite3_column_bytes(q, 0);
		const void *p = sqlite3_column_blob(q, 0);

		if (!(*data = malloc(k ? k : 1)))
			rc = oom(err);
		else {
			if (k)
				memcpy(*data, p, k);
			*n = k;
		}
	} else
		rc = fd_err_set(err, FD_EUSAGE, "no attachment %lld", (long long)att_id);
	sqlite3_finalize(q);
	return rc;
}
