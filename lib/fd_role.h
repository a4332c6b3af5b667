/*
 * fd_role.h — who may change the store: users' roles and the one permission check every
 * writing tool makes (fd_role_authorize).
 *
 * Users (table users, managed with fd-case user) have a role.  With no row in users the
 * store is single-user: whoever can write the file may do everything.  Once users exist,
 * every action below is checked against the matrix (fd_role_allowed; fd.7 prints it):
 *
 *	action    ADMIN INVESTIGATOR ANALYST VIEWER   what
 *	view       yes      yes        yes     yes    read cases, reports, the user list
 *	create     yes      yes        yes     -      create cases
 *	note       yes      yes        yes     -      notes and attachments on cases
 *	link       yes      yes        yes     -      link transactions and entities to cases
 *	status     yes      yes        -       -      every workflow move of a case
 *	assign     yes      yes        -       -      assign cases
 *	auto       yes      yes        -       -      open cases automatically (fd-case auto,
 *	                                              fd-score --auto-case)
 *	users      yes      -          -       -      user add, enable, disable
 *	ingest     yes      yes        yes     -      fd-ingest into the store
 *	score      yes      yes        yes     -      fd-score --store: score runs written
 *	rules      yes      yes        yes     -      fd-rules --store: rule runs and hits
 *	train      yes      -          yes     -      fd-train --store: register a model
 *	graph      yes      yes        yes     -      fd-graph stats --save
 *	seal       yes      -          -       -      fd-audit seal
 *	export     yes      yes        -       -      fd-audit export (recorded in the log)
 *
 * The actor.  The store's actor (fd_store_who: --actor, else $FD_ACTOR, else the login name)
 * is an assertion, not authentication.  fd_role_authorize binds it to the Unix account that
 * runs the tool: when users exist and the actor is not the login name of the real user id
 * (fd_role_login), the login name must itself be an active ADMIN of the store (it may act for
 * others), else the action is denied.  The superuser (uid 0) may act for others too: it can
 * rewrite the file whatever the store says.  What protects a store is therefore its file
 * permissions (each examiner their own Unix account, the store writable by their group),
 * and seals kept elsewhere (fd-audit seal).
 *
 * A denial changes nothing but the audit log, where it appends an entry (action the
 * action's "denied" name below, object type and id naming what was asked for) with details
 * {"action", "role", "active", "object", "reason", "login"}; on a store opened read-only it
 * cannot be recorded and is only returned.
 */
#ifndef FD_ROLE_H
#define FD_ROLE_H

#include <stddef.h>

#include "fd_err.h"
#include "fd_store.h"

enum fd_user_role { FD_ROLE_ADMIN, FD_ROLE_INVESTIGATOR, FD_ROLE_ANALYST, FD_ROLE_VIEWER, FD_NROLES };
extern const char *const fd_user_role_name[FD_NROLES];
/* Case-insensitive; -1 if unknown. */
int fd_user_role_parse(const char *s);

/* The actions of the matrix above; the first eight are fd-case's (enum fd_case_action). */
enum fd_role_action {
	FD_ACT_VIEW, FD_ACT_CREATE, FD_ACT_NOTE, FD_ACT_LINK, FD_ACT_STATUS, FD_ACT_ASSIGN,
	FD_ACT_AUTO, FD_ACT_USERS,
	FD_ACT_INGEST, FD_ACT_SCORE, FD_ACT_RULES, FD_ACT_TRAIN, FD_ACT_GRAPH, FD_ACT_SEAL,
	FD_ACT_EXPORT,
	FD_NACT
};
/* "view", "create", ..., "export" (the names above); NULL out of range. */
const char *fd_role_action_name(int action);

/* 1 when role may do action, by the matrix; 0 otherwise (or out of range). */
int fd_role_allowed(int role, int action);

/* The login name of the real user id (getpwuid), or "uid N" when it has no name. */
const char *fd_role_login(char *buf, size_t n);

/*
 * May the store's actor do action?  what names the object asked for ("case 3", "source
 * tx.csv"; NULL = "-").  FD_OK when the store has no users, or the actor may act as itself
 * (see above) and is an active user whose role allows the action.  Otherwise FD_EPERM with
 * "permission denied: <why>", after appending the denial entry (in the caller's store
 * transaction if one is open — the caller should then commit it — else in one of its own).
 * FD_EIO on store errors, FD_EUSAGE for an unknown action.
 */
int fd_role_authorize(struct fd_store *st, int action, const char *what, struct fd_err *err);

#endif
