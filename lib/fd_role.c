/* fd_role.c — see fd_role.h. */
#include "fd_role.h"

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <unistd.h>

#include "fd_audit.h"
#include "fd_buf.h"
#include "banned.h"

const char *const fd_user_role_name[FD_NROLES] = {"ADMIN", "INVESTIGATOR", "ANALYST", "VIEWER"};

/* The matrix of fd_role.h: one row per action, in enum order. */
static const struct {
	const char *name;
	const char *words;        /* "may not <words>" */
	const char *denied;       /* the denial's audit action */
	const char *object_type;  /* and object type */
	unsigned char allow[FD_NROLES];  /* ADMIN, INVESTIGATOR, ANALYST, VIEWER */
} actions[FD_NACT] = {
	[FD_ACT_VIEW] = {"view", "view cases", "case.denied", "case", {1, 1, 1, 1}},
	[FD_ACT_CREATE] = {"create", "create cases", "case.denied", "case", {1, 1, 1, 0}},
	[FD_ACT_NOTE] = {"note", "add notes or evidence to cases", "case.denied", "case", {1, 1, 1, 0}},
	[FD_ACT_LINK] = {"link", "link transactions or entities to cases", "case.denied", "case", {1, 1, 1, 0}},
	[FD_ACT_STATUS] = {"status", "change the status of cases", "case.denied", "case", {1, 1, 0, 0}},
	[FD_ACT_ASSIGN] = {"assign", "assign cases", "case.denied", "case", {1, 1, 0, 0}},
	[FD_ACT_AUTO] = {"auto", "open cases automatically", "case.denied", "case", {1, 1, 0, 0}},
	[FD_ACT_USERS] = {"users", "manage users", "case.denied", "user", {1, 0, 0, 0}},
	[FD_ACT_INGEST] = {"ingest", "ingest into the store", "ingest.denied", "source", {1, 1, 1, 0}},
	[FD_ACT_SCORE] = {"score", "write scores to the store", "score.denied", "score_run", {1, 1, 1, 0}},
	[FD_ACT_RULES] = {"rules", "record rule runs in the store", "rules.denied", "rule_run", {1, 1, 1, 0}},
	[FD_ACT_TRAIN] = {"train", "register models in the store", "model.denied", "model", {1, 0, 1, 0}},
	[FD_ACT_GRAPH] = {"graph", "write graph statistics to the store", "graph.denied", "entities", {1, 1, 1, 0}},
	[FD_ACT_SEAL] = {"seal", "seal the audit log", "audit.denied", "seal", {1, 0, 0, 0}},
	[FD_ACT_EXPORT] = {"export", "export evidence bundles", "audit.denied", "bundle", {1, 1, 0, 0}},
};

int fd_user_role_parse(const char *s)
{
	int i;

	for (i = 0; s && i < FD_NROLES; i++)
		if (strcasecmp(fd_user_role_name[i], s) == 0)
			return i;
	return -1;
}

const char *fd_role_action_name(int action)
{
	return action >= 0 && action < FD_NACT ? actions[action].name : NULL;
}

int fd_role_allowed(int role, int action)
{
	if (role < 0 || role >= FD_NROLES || action < 0 || action >= FD_NACT)
		return 0;
	return actions[action].allow[role];
}

const char *fd_role_login(char *buf, size_t n)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];
	uid_t uid = getuid();

	/* the real user id, not getlogin() (the session's) nor $USER (anyone can set it) */
	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res && res->pw_name[0])
		snprintf(buf, n, "%s", res->pw_name);
	else
		snprintf(buf, n, "uid %lu", (unsigned long)uid);
	return buf;
}

/* name's users row: *role -1 when not a user. */
static int user_of(struct fd_store *st, const char *name, int *role, int *active, struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	*role = -1;
	*active = 0;
	if ((rc = fd_store_prepare(st, &s, "SELECT role, active FROM users WHERE name = ?1", err)))
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

static int count_users(struct fd_store *st, int64_t *n, struct fd_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = fd_store_prepare(st, &s, "SELECT count(*) FROM users", err)))
		return rc;
	if (sqlite3_step(s) == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	else
		rc = fd_store_error(st, "reading users", err);
	sqlite3_finalize(s);
	return rc;
}

static void allowed_roles(int action, char *buf, size_t n)
{
	size_t used = 0;
	int r, k = 0;

	buf[0] = '\0';
	for (r = 0; r < FD_NROLES && used < n; r++)
		if (actions[action].allow[r])
			used += (size_t)snprintf(buf + used, n - used, "%s%s", k++ ? " or " : "", fd_user_role_name[r]);
}

/* Append the denial entry, in the caller's transaction or one of its own. */
static int record_denial(struct fd_store *st, int action, const char *what, int role, int active,
			 const char *why, const char *login, struct fd_err *err)
{
	struct fd_buf det = FD_BUF_INIT;
	struct fd_audit_entry e;
	int rc, own = !fd_store_in_txn(st), bad = 0;

	bad |= fd_buf_adds(&det, "{\"action\":") || fd_buf_add_json_str(&det, actions[action].name, strlen(actions[action].name));
	bad |= fd_buf_adds(&det, ",\"role\":");
	bad |= role >= 0 ? fd_buf_add_json_str(&det, fd_user_role_name[role], strlen(fd_user_role_name[role]))
			 : fd_buf_adds(&det, "null");
	bad |= fd_buf_adds(&det, active ? ",\"active\":true" : ",\"active\":false");
	bad |= fd_buf_adds(&det, ",\"object\":") || fd_buf_add_json_str(&det, what, strlen(what));
	bad |= fd_buf_adds(&det, ",\"reason\":") || fd_buf_add_json_str(&det, why, strlen(why));
	bad |= fd_buf_adds(&det, ",\"login\":") || fd_buf_add_json_str(&det, login, strlen(login));
	bad |= fd_buf_addc(&det, '}');
	if (bad) {
		fd_buf_release(&det);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	memset(&e, 0, sizeof(e));
	e.action = actions[action].denied;
	e.object_type = actions[action].object_type;
	e.object_id = what;
	e.details = det.s;
	e.data_digest = NULL;
	if (own && (rc = fd_store_begin(st, err)))
		goto out;
	rc = fd_audit_append(st, &e, NULL, err);
	if (own) {
		if (rc)
			fd_store_rollback(st);
		else
			rc = fd_store_commit(st, err);
	}
out:
	fd_buf_release(&det);
	return rc;
}

int fd_role_authorize(struct fd_store *st, int action, const char *what, struct fd_err *err)
{
	const char *actor = fd_store_who(st)->actor;
	char login[256], why[768], roles[128], vis[256], lvis[256];
	int64_t nusers = 0;
	int role, active, lrole, lactive, rc;

	if (action < 0 || action >= FD_NACT)
		return fd_err_set(err, FD_EUSAGE, "internal: unknown action %d", action);
	what = what ? what : "-";
	if ((rc = count_users(st, &nusers, err)))
		return rc;
	if (nusers == 0)
		return FD_OK;
	fd_role_login(login, sizeof(login));
	if ((rc = user_of(st, actor, &role, &active, err)))
		return rc;
	fd_visible(vis, sizeof(vis), actor, strlen(actor));
	fd_visible(lvis, sizeof(lvis), login, strlen(login));
	if (strcmp(actor, login) != 0 && getuid() != 0) {
		if ((rc = user_of(st, login, &lrole, &lactive, err)))
			return rc;
		if (lrole != FD_ROLE_ADMIN || !lactive) {
			snprintf(why, sizeof(why), "login '%s' is not an active ADMIN of this store, so it may act only"
				 " as itself, not as '%s' (--actor or FD_ACTOR)", lvis, vis);
			goto deny;
		}
	}
	if (role >= 0 && active && actions[action].allow[role])
		return FD_OK;
	allowed_roles(action, roles, sizeof(roles));
	if (role < 0)
		snprintf(why, sizeof(why), "'%s' is not a user of this store (see fd-case user list)", vis);
	else if (!active)
		snprintf(why, sizeof(why), "user '%s' is disabled", vis);
	else
		snprintf(why, sizeof(why), "user '%s' (%s) may not %s; that needs %s", vis, fd_user_role_name[role],
			 actions[action].words, roles);
deny:
	/* the denial itself is recorded: a change to nothing but the audit log */
	if (!fd_store_readonly(st) && (rc = record_denial(st, action, what, role, active, why, login, err)))
		return rc;
	return fd_err_set(err, FD_EPERM, "permission denied: %s", why);
}
