/* fd_score_store.c — models and scores in the store; see fd_score.h. */
#include "fd_score.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd_verify.h"
#include "fd_score_impl.h"
#include "banned.h"

/* ---- the store ------------------------------------------------------------------------- */

void fd_score_model_version(const char sha256_hex[65], char version[FD_MODEL_VERSION_LEN + 1])
{
	memcpy(version, sha256_hex, FD_MODEL_VERSION_LEN);
	version[FD_MODEL_VERSION_LEN] = '\0';
}

int fd_score_register_model(struct fd_store *st, const struct fd_model *m, const char *path,
			    const char *sha256, int64_t trained_at, int64_t *id, int *created,
			    struct fd_err *err)
{
	static const struct fd_verify_part part = {"models", "id"};
	char version[FD_MODEL_VERSION_LEN + 1];
	struct fd_buf feats = FD_BUF_INIT, details = FD_BUF_INIT;
	sqlite3_stmt *q = NULL;
	int own = !fd_store_in_txn(st), rc, bad = 0;
	size_t i;

	*id = 0;
	*created = 0;
	fd_score_model_version(sha256, version);
	if (own && (rc = fd_store_begin(st, err)))
		return rc;
	if ((rc = fd_store_prepare(st, &q, "SELECT id FROM models WHERE version = ?1", err)))
		goto out;
	sqlite3_bind_text(q, 1, version, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(q, 0);
		rc = FD_OK;
		goto out;
	}
	if (rc != SQLITE_DONE) {
		rc = fd_store_error(st, "cannot read models", err);
		goto out;
	}
	sqlite3_finalize(q);
	q = NULL;
	bad |= fd_buf_addc(&feats, '[');
	for (i = 0; i < m->n_features; i++)
		bad |= (i && fd_buf_addc(&feats, ',')) ||
		       fd_buf_add_json_str(&feats, m->features[i], strlen(m->features[i]));
	bad |= fd_buf_addc(&feats, ']');
	bad |= fd_buf_adds(&details, "{\"version\":") || fd_buf_add_json_str(&details, version, strlen(version)) ||
	       fd_buf_adds(&details, ",\"path\":") || fd_buf_add_json_str(&details, path, strlen(path)) ||
	       fd_buf_adds(&details, ",\"sha256\":") || fd_buf_add_json_str(&details, sha256, strlen(sha256)) ||
	       fd_buf_addc(&details, '}');
	if (bad) {
		rc = fd_score_oom(err);
		goto out;
	}
	if ((rc = fd_store_prepare(st, &q, "INSERT INTO models (version, path, sha256, features, metrics, trained_at, actor)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", err)))
		goto out;
	sqlite3_bind_text(q, 1, version, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, feats.s, (int)feats.len, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, m->meta.metrics_json ? m->meta.metrics_json : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, trained_at);
	sqlite3_bind_text(q, 7, fd_store_who(st)->actor, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE) {
		rc = fd_store_error(st, "cannot register the model", err);
		goto out;
	}
	*id = sqlite3_last_insert_rowid(fd_store_db(st));
	*created = 1;
	rc = fd_verify_record(st, "model.register", "model", *id, &part, 1, details.s, NULL, err);
out:
	sqlite3_finalize(q);
	if (own) {
		if (rc == FD_OK && *created)
			rc = fd_store_commit(st, err);
		else
			fd_store_rollback(st);
	}
	if (rc)
		*created = 0;
	fd_buf_release(&feats);
	fd_buf_release(&details);
	return rc;
}

int fd_score_promote_model(struct fd_store *st, int64_t id, struct fd_err *err)
{
	static const struct fd_verify_part part = {"models", "id"};
	sqlite3_stmt *q = NULL, *u = NULL;
	int own = !fd_store_in_txn(st), rc, r, found = 0;

	if (own && (rc = fd_store_begin(st, err)))
		return rc;
	if ((rc = fd_store_prepare(st, &q, "SELECT id, promoted FROM models WHERE id = ?1 OR promoted <> 0 ORDER BY id", err)) ||
	    (rc = fd_store_prepare(st, &u, "UPDATE models SET promoted = ?2 WHERE id = ?1", err)))
		goto out;
	sqlite3_bind_int64(q, 1, id);
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t mid = sqlite3_column_int64(q, 0);
		int want = mid == id, was = sqlite3_column_int(q, 1) != 0;

		found |= want;
		if (want == was)
			continue;
		sqlite3_reset(u);
		sqlite3_bind_int64(u, 1, mid);
		sqlite3_bind_int(u, 2, want);
		if (sqlite3_step(u) != SQLITE_DONE) {
			rc = fd_store_error(st, "cannot promote the model", err);
			goto out;
		}
		if ((rc = fd_verify_record(st, want ? "model.promote" : "model.demote", "model", mid, &part, 1, NULL, NULL,
					   err)))
			goto out;
	}
	if (r != SQLITE_DONE) {
		rc = fd_store_error(st, "cannot read models", err);
		goto out;
	}
	if (!found)
		rc = fd_err_set(err, FD_EINPUT, "no model %lld in the store", (long long)id);
out:
	sqlite3_finalize(q);
	sqlite3_finalize(u);
	if (own) {
		if (rc == FD_OK)
			rc = fd_store_commit(st, err);
		else
			fd_store_rollback(st);
	}
	return rc;
}

int fd_score_promoted_model(struct fd_store *st, char **path, char version[FD_MODEL_VERSION_LEN + 1],
			    struct fd_err *err)
{
	sqlite3_stmt *q = NULL;
	int rc, r;

	*path = NULL;
	version[0] = '\0';
	if ((rc = fd_store_prepare(st, &q, "SELECT path, version FROM models WHERE promoted <> 0 ORDER BY id DESC LIMIT 1",
				   err)))
		return rc;
	r = sqlite3_step(q);
	if (r == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(q, 0), *v = (const char *)sqlite3_column_text(q, 1);

		if (p && !(*path = strdup(p)))
			rc = fd_score_oom(err);
		snprintf(version, FD_MODEL_VERSION_LEN + 1, "%s", v ? v : "");
	} else if (r != SQLITE_DONE)
		rc = fd_store_error(st, "cannot read models", err);
	sqlite3_finalize(q);
	return rc;
}

struct fd_score_store {
	struct fd_store *st;
	const struct fd_rules *r;
	sqlite3_stmt *ins;
	int64_t run_id, started_at, added, already;
	char version[FD_MODEL_VERSION_LEN + 8];
	char *ruleset;
	struct fd_buf rules, reasons;
};

void fd_score_store_free(struct fd_score_store *ss)
{
	if (!ss)
		return;
	sqlite3_finalize(ss->ins);
	fd_buf_release(&ss->rules);
	fd_buf_release(&ss->reasons);
	free(ss->ruleset);
	free(ss);
}

int fd_score_store_begin(struct fd_score_store **out, struct fd_store *st, const char *model_version,
			 const char *ruleset, int64_t started_at, const struct fd_rules *r,
			 struct fd_err *err)
{
	struct fd_score_store *ss;
	sqlite3_stmt *q = NULL;
	int rc;

	*out = NULL;
	if (!fd_store_in_txn(st))
		return fd_err_set(err, FD_EUSAGE, "scores are recorded inside a store transaction");
	if (!(ss = calloc(1, sizeof(*ss))))
		return fd_score_oom(err);
	ss->st = st;
	ss->r = r;
	ss->started_at = started_at;
	snprintf(ss->version, sizeof(ss->version), "%s", model_version);
	if (ruleset && !(ss->ruleset = strdup(ruleset))) {
		fd_score_store_free(ss);
		return fd_score_oom(err);
	}
	if ((rc = fd_store_prepare(st, &q, "INSERT INTO score_runs (model_version, ruleset, rows, started_at, actor)"
				   " VALUES (?1, ?2, 0, ?3, ?4)", err)))
		goto fail;
	sqlite3_bind_text(q, 1, ss->version, -1, SQLITE_STATIC);
	if (ruleset)
		sqlite3_bind_text(q, 2, ruleset, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 2);
	sqlite3_bind_int64(q, 3, started_at);
	sqlite3_bind_text(q, 4, fd_store_who(st)->actor, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE) {
		rc = fd_store_error(st, "cannot record the scoring run", err);
		goto fail;
	}
	ss->run_id = sqlite3_last_insert_rowid(fd_store_db(st));
	sqlite3_finalize(q);
	q = NULL;
	if ((rc = fd_store_prepare(st, &ss->ins,
				   "INSERT OR IGNORE INTO scores (run_id, txn_id, model_version, ae_error, ae_score,"
				   " if_score, rule_points, rules, risk, level, decision, confidence, reasons, scored_at)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)", err)))
		goto fail;
	sqlite3_bind_int64(ss->ins, 1, ss->run_id);
	sqlite3_bind_text(ss->ins, 3, ss->version, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ss->ins, 14, started_at);
	*out = ss;
	return FD_OK;
fail:
	sqlite3_finalize(q);
	fd_score_store_free(ss);
	return rc;
}

static void bind_real(sqlite3_stmt *q, int i, double v)
{
	if (isnan(v))
		sqlite3_bind_null(q, i);
	else
		sqlite3_bind_double(q, i, v);
}

int fd_score_store_add(struct fd_score_store *ss, const struct fd_score_row *row, struct fd_err *err)
{
	sqlite3_stmt *q = ss->ins;
	size_t k;
	int bad = 0, r;

	fd_buf_reset(&ss->rules);
	fd_buf_reset(&ss->reasons);
	bad |= fd_buf_addc(&ss->rules, '[');
	for (k = 0; k < row->l.nhits && ss->r; k++) {
		const char *id = fd_rules_id(ss->r, row->hits[k].rule);

		bad |= (k && fd_buf_addc(&ss->rules, ',')) || fd_buf_add_json_str(&ss->rules, id, strlen(id));
	}
	bad |= fd_buf_addc(&ss->rules, ']');
	bad |= fd_buf_addc(&ss->reasons, '[');
	for (k = 0; k < row->nreasons; k++)
		bad |= (k && fd_buf_addc(&ss->reasons, ',')) ||
		       fd_buf_add_json_str(&ss->reasons, row->reasons[k], strlen(row->reasons[k]));
	bad |= fd_buf_addc(&ss->reasons, ']');
	if (bad)
		return fd_score_oom(err);
	sqlite3_bind_text(q, 2, row->txn_id, -1, SQLITE_STATIC);
	bind_real(q, 4, row->l.ae_error);
	bind_real(q, 5, row->l.ae_p);
	bind_real(q, 6, row->l.if_score);
	sqlite3_bind_int(q, 7, row->l.rule_points);
	sqlite3_bind_text(q, 8, ss->rules.s, (int)ss->rules.len, SQLITE_STATIC);
	sqlite3_bind_double(q, 9, row->v.risk);
	sqlite3_bind_text(q, 10, fd_level_name[row->v.level], -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 11, fd_decision_name[row->v.decision], -1, SQLITE_STATIC);
	bind_real(q, 12, row->v.confidence);
	sqlite3_bind_text(q, 13, ss->reasons.s, (int)ss->reasons.len, SQLITE_STATIC);
	r = sqlite3_step(q);
	sqlite3_reset(q);
	if (r != SQLITE_DONE)
		return fd_store_error(ss->st, "cannot record a score", err);
	if (sqlite3_changes(fd_store_db(ss->st)))
		ss->added++;
	else
		ss->already++;
	return FD_OK;
}

int64_t fd_score_store_added(const struct fd_score_store *ss, int64_t *already)
{
	if (already)
		*already = ss->already;
	return ss->added;
}

int fd_score_store_finish(struct fd_score_store *ss, const char *extra_json, int64_t *run_id,
			  int64_t *seq, struct fd_err *err)
{
	static const struct fd_verify_part parts[2] = {{"score_runs", "id"}, {"scores", "run_id"}};
	struct fd_buf d = FD_BUF_INIT;
	sqlite3_stmt *q = NULL;
	int rc, bad = 0;

	*run_id = *seq = 0;
	sqlite3_finalize(ss->ins);
	ss->ins = NULL;
	if (ss->added == 0) {
		if ((rc = fd_store_prepare(ss->st, &q, "DELETE FROM score_runs WHERE id = ?1", err)))
			goto out;
		sqlite3_bind_int64(q, 1, ss->run_id);
		if (sqlite3_step(q) != SQLITE_DONE)
			rc = fd_store_error(ss->st, "cannot record the scoring run", err);
		goto out;
	}
	if ((rc = fd_store_prepare(ss->st, &q, "UPDATE score_runs SET rows = ?1 WHERE id = ?2", err)))
		goto out;
	sqlite3_bind_int64(q, 1, ss->added);
	sqlite3_bind_int64(q, 2, ss->run_id);
	if (sqlite3_step(q) != SQLITE_DONE) {
		rc = fd_store_error(ss->st, "cannot record the scoring run", err);
		goto out;
	}
	/* details: the caller's members, then the run's */
	if (extra_json && *extra_json) {
		const char *e = strrchr(extra_json, '}');

		if (extra_json[0] != '{' || !e) {
			rc = fd_err_set(err, FD_EUSAGE, "extra details must be a JSON object");
			goto out;
		}
		bad |= fd_buf_add(&d, extra_json, (size_t)(e - extra_json));
		if (d.len > 1)
			bad |= fd_buf_addc(&d, ',');
	} else
		bad |= fd_buf_addc(&d, '{');
	bad |= fd_buf_adds(&d, "\"model_version\":") || fd_buf_add_json_str(&d, ss->version, strlen(ss->version));
	bad |= fd_buf_adds(&d, ",\"ruleset\":");
	bad |= ss->ruleset ? fd_buf_add_json_str(&d, ss->ruleset, strlen(ss->ruleset)) : fd_buf_adds(&d, "null");
	bad |= fd_buf_addf(&d, ",\"added\":%lld,\"already\":%lld}", (long long)ss->added, (long long)ss->already);
	if (bad) {
		rc = fd_score_oom(err);
		goto out;
	}
	if ((rc = fd_verify_record(ss->st, "score.run", "score_run", ss->run_id, parts, 2, d.s, seq, err)))
		goto out;
	*run_id = ss->run_id;
out:
	sqlite3_finalize(q);
	fd_buf_release(&d);
	fd_score_store_free(ss);
	return rc;
}
