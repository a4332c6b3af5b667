/*
 * fd_case.h — case management: cases, their workflow, events, evidence, users and roles,
 * related transactions, prioritisation, automatic cases from HIGH scores, and the labels
 * that case outcomes give transactions.  Tables: migration 4 (fd_schema_case.c).
 *
 * Workflow.  A case is OPEN when created, IN_PROGRESS while worked, and ends CLOSED (fraud
 * confirmed) or FALSE_POSITIVE (legitimate).  The allowed moves (fd_case_moves):
 *	OPEN -> IN_PROGRESS
 *	IN_PROGRESS -> CLOSED | FALSE_POSITIVE
 *	CLOSED | FALSE_POSITIVE -> IN_PROGRESS   (reopening: needs a reason)
 * Every other move is refused with FD_EUSAGE and a message naming the allowed moves.  A case
 * merged into another (fd_case_merge) is DUPLICATE: final, no move leads to it or out of it.
 *
 * Labels.  Closing a case CLOSED writes label 1 (fraud) for each of its transactions,
 * FALSE_POSITIVE label 0, in table labels with source "case:ID"; reopening withdraws them.
 * Consumers read the view effective_labels (fd_schema_case.c).
 *
 * Users and roles.  With no row in users the store is single-user: the actor may do
 * everything.  Once users exist the store's actor (fd_store_who) must be an active user whose
 * role allows the action (fd_case_allowed, the matrix of fd-case(1)); otherwise the function
 * returns FD_EPERM, changes nothing but the audit log, where it appends a "case.denied"
 * entry naming the actor, the action and the object.
 *
 * Records.  Every change appends one case_events row (kind, actor, details JSON) and one audit
 * entry, in one store transaction.  The entry follows fd_verify.h's recording convention
 * (fd_verify_record): action "case.KIND", object case/ID, details "event" (the case_events
 * id), the event's details, and "tables": the case's rows as they stand after the change in
 * cases (id), case_events, case_transactions, case_entities, case_attachments and labels (by
 * case_id), with their digests — so fd-audit verify catches a case edited behind the tools'
 * back.  User changes: "user.add", "user.enable", "user.disable" on object user/ID covering
 * the users row, details "name" (and "role").  A denial: "case.denied", no rows.
 *
 * Transactions.  A function that changes the store begins and commits its own store
 * transaction, unless the caller has one open (fd_store_in_txn), in which case it works in
 * the caller's and leaves commit or rollback to the caller (fd-score --auto-case does this
 * to write scores and cases together).  On failure inside its own transaction it rolls back.
 *
 * Strings in the result structures below are owned by the structure and freed by its free
 * function.  All times are ms since the epoch, UTC.
 */
#ifndef FD_CASE_H
#define FD_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "fd_buf.h"
#include "fd_err.h"
#include "fd_role.h"
#include "fd_store.h"

#define FD_CASE_NAME_MAX 200   /* bytes of a user name (as of --actor) */
#define FD_CASE_TEXT_MAX 65536 /* bytes of a title, description, note or reason */
#define FD_CASE_ATTACH_MAX (64 << 20) /* bytes of an attached file */

/* ---- vocabularies: NAME tables in enum order; parse is case-insensitive, -1 if unknown --- */

/* DUPLICATE: merged into another case (fd_case_merge); final, with no label and no move out. */
enum fd_case_status {
	FD_CASE_OPEN, FD_CASE_IN_PROGRESS, FD_CASE_CLOSED, FD_CASE_FALSE_POSITIVE, FD_CASE_DUPLICATE, FD_CASE_NSTATUS
};
extern const char *const fd_case_status_name[FD_CASE_NSTATUS];
int fd_case_status_parse(const char *s);
/* The statuses a case in status from may move to, as a bit mask (1u << status). */
unsigned fd_case_moves(int from);
/* 1 when status is CLOSED, FALSE_POSITIVE or DUPLICATE. */
int fd_case_status_final(int status);

enum fd_case_priority { FD_PRIO_LOW, FD_PRIO_MEDIUM, FD_PRIO_HIGH, FD_PRIO_CRITICAL, FD_NPRIO };
extern const char *const fd_case_priority_name[FD_NPRIO];
int fd_case_priority_parse(const char *s);

/* enum fd_user_role, fd_user_role_name, fd_user_role_parse: fd_role.h */

enum fd_entity_role { FD_ER_SUSPECT, FD_ER_VICTIM, FD_ER_WITNESS, FD_ER_RELATED, FD_NER };
extern const char *const fd_entity_role_name[FD_NER];
int fd_entity_role_parse(const char *s);

/*
 * What a function asks permission for: the case actions of fd_role.h's matrix (which also
 * covers the other tools' actions; fd-case(1) and fd.7 print it).
 * view: list, show, related, prioritize, report, dashboard, user list; note: notes and
 * attachments; link: transactions and entities; status: every workflow move; users: user
 * add, enable, disable.
 */
enum fd_case_action {
	FD_CA_VIEW = FD_ACT_VIEW, FD_CA_CREATE = FD_ACT_CREATE, FD_CA_NOTE = FD_ACT_NOTE,
	FD_CA_LINK = FD_ACT_LINK, FD_CA_STATUS = FD_ACT_STATUS, FD_CA_ASSIGN = FD_ACT_ASSIGN,
	FD_CA_AUTO = FD_ACT_AUTO, FD_CA_USERS = FD_ACT_USERS, FD_NCA
};
extern const char *const fd_case_action_name[FD_NCA];
/* fd_role_allowed() on a case action. */
int fd_case_allowed(int role, int action);

/*
 * May the store's actor do action?  fd_role_authorize() on a case action: what names the
 * object for the denial record ("case 3", NULL = "-").  FD_OK, or FD_EPERM after appending
 * the "case.denied" audit entry; FD_EIO on store errors.
 */
int fd_case_authorize(struct fd_store *st, int action, const char *what, struct fd_err *err);

/* ---- users --------------------------------------------------------------------------- */

/*
 * Add a user.  name: 1..FD_CASE_NAME_MAX bytes without control characters.  The first user
 * must be an ADMIN (so that someone can manage users afterwards).  FD_EUSAGE for a bad name,
 * a duplicate or a first user that is not ADMIN; FD_EPERM (action users).
 */
int fd_case_user_add(struct fd_store *st, const char *name, int role, struct fd_err *err);
/* Enable (active 1) or disable (0) a user.  Disabling the last active ADMIN is refused
 * (FD_EUSAGE), as is an unknown name.  A no-op change is not recorded. */
int fd_case_user_set_active(struct fd_store *st, const char *name, int active, struct fd_err *err);

struct fd_case_user {
	const char *name;
	int role;             /* enum fd_user_role */
	int active;
	int64_t created_at;
	const char *created_by;
	int64_t open_cases;   /* OPEN or IN_PROGRESS cases assigned to the user */
};
/* Call fn for each user in name order (strings valid during the call); a non-zero return
 * from fn stops the walk and is returned.  Action view. */
int fd_case_user_list(struct fd_store *st, int (*fn)(void *ctx, const struct fd_case_user *u),
		      void *ctx, struct fd_err *err);

/* ---- entities ------------------------------------------------------------------------ */

/*
 * Resolve an entity reference: "kind:key" (kind account, merchant, device or ip) or a bare
 * key looked up across the kinds.  *id receives entities.id; kind and key may be NULL, else
 * they receive the entity's kind and key (fd_buf reset first).  FD_EUSAGE when nothing
 * matches ("no entity 'X' in the store") or a bare key matches several ("entity 'X' is
 * ambiguous: account:X, device:X; give KIND:KEY").
 */
int fd_case_entity_resolve(struct fd_store *st, const char *ref, int64_t *id, struct fd_buf *kind,
			   struct fd_buf *key, struct fd_err *err);

/* ---- creating and changing cases ------------------------------------------------------ */

struct fd_case_txn_ref {
	const char *txn_id;    /* must be in transactions or scores */
	const char *reason;    /* why it is included; NULL = "" */
	const char *note;      /* NULL = "" */
};

struct fd_case_entity_ref {
	const char *ref;       /* as fd_case_entity_resolve */
	int role;              /* enum fd_entity_role */
	const char *note;      /* NULL = "" */
};

struct fd_case_new {
	const char *title;        /* 1..FD_CASE_TEXT_MAX bytes */
	const char *description;  /* NULL = "" */
	int priority;             /* enum fd_case_priority */
	const struct fd_case_txn_ref *txns;
	size_t ntxns;
	const struct fd_case_entity_ref *ents;
	size_t nents;
};

/* Create an OPEN manual case with its transactions and entities; *id receives its id.
 * FD_EUSAGE for an empty title, an unknown transaction or entity (nothing is written);
 * FD_EPERM (action create). */
int fd_case_create(struct fd_store *st, const struct fd_case_new *c, int64_t *id, struct fd_err *err);

struct fd_case_status_result {
	int from, to;             /* enum fd_case_status */
	int64_t labelled;         /* labels written (closing) */
	int64_t withdrawn;        /* labels withdrawn (reopening) */
};
/*
 * Move case id to status to, with an optional note (required when reopening: FD_EUSAGE
 * "reopening case 3 needs a reason (--note)").  A move outside the workflow: FD_EUSAGE
 * "case 3 is OPEN: it cannot move to CLOSED; allowed: IN_PROGRESS".  FD_EUSAGE for an unknown
 * case; FD_EPERM (action status).  res may be NULL.
 */
int fd_case_set_status(struct fd_store *st, int64_t id, int to, const char *note,
		       struct fd_case_status_result *res, struct fd_err *err);

/*
 * Assign case id to user, or with user NULL to the least-loaded active INVESTIGATOR (fewest
 * OPEN or IN_PROGRESS cases assigned; ties by name).  With users defined the assignee must be
 * an active ADMIN or INVESTIGATOR; in a single-user store any name is accepted (and automatic
 * assignment picks the actor).  The chosen name is copied to assigned (FD_CASE_NAME_MAX + 1
 * bytes; may be NULL).  Assigning a case to whom it already belongs is a no-op, not recorded.
 * FD_EUSAGE (unknown case or user, no investigator to pick); FD_EPERM (action assign).
 */
int fd_case_assign(struct fd_store *st, int64_t id, const char *user, char *assigned,
		   struct fd_err *err);

struct fd_case_filter;  /* below, with fd_case_list */

/* How fd_case_assign_many picks assignees: the active INVESTIGATOR with the fewest OPEN or
 * IN_PROGRESS cases (ties by name), or each in turn by name, continuing after whoever received
 * the latest automatic assignment (from the case events, so turns carry over between runs). */
enum fd_case_pick { FD_PICK_LEAST_LOADED, FD_PICK_ROUND_ROBIN, FD_NPICK };
extern const char *const fd_case_pick_name[FD_NPICK];  /* "least-loaded", "round-robin" */
int fd_case_pick_parse(const char *s);

struct fd_case_assignment {
	int64_t id;
	char *from, *to;          /* from NULL when it was unassigned */
	int changed;              /* 0: it was assigned to to already (nothing recorded) */
};
/*
 * Assign several cases in one store transaction: the cases ids[0..nids) when nids > 0 (each
 * must exist), else those matching f (whose sort and limit apply; taken in id order).  user
 * as for fd_case_assign; with user NULL each case goes to the investigator pick chooses (in a
 * single-user store: the actor).  Each change is one "assign" event (details from, to, auto,
 * and pick when automatic) and its audit entry, as fd_case_assign writes.  *out receives the
 * assignments in order (*nout of them; free with fd_case_assignments_free).  FD_EUSAGE for an
 * unknown case or user, or no investigator to pick; FD_EPERM (action assign).  Nothing is
 * changed on failure.
 */
int fd_case_assign_many(struct fd_store *st, const int64_t *ids, size_t nids, const struct fd_case_filter *f,
			const char *user, int pick, struct fd_case_assignment **out, size_t *nout,
			struct fd_err *err);
void fd_case_assignments_free(struct fd_case_assignment *a, size_t n);

/* Append a note (1..FD_CASE_TEXT_MAX bytes).  Action note. */
int fd_case_note(struct fd_store *st, int64_t id, const char *text, struct fd_err *err);

/*
 * Attach the file at path as evidence: its bytes (at most FD_CASE_ATTACH_MAX) are stored in
 * case_attachments with their SHA-256 (hex into sha256, 65 bytes, may be NULL) under name
 * (NULL = the path's last component), with an optional note.  *att_id (may be NULL) receives
 * the attachment id.  FD_EIO when the file cannot be read; FD_EUSAGE when it is too large;
 * action note.
 */
int fd_case_attach(struct fd_store *st, int64_t id, const char *path, const char *name,
		   const char *note, int64_t *att_id, char *sha256, struct fd_err *err);

struct fd_case_link_result {
	int64_t txns_added, txns_already;
	int64_t ents_added, ents_changed, ents_already;  /* changed: the role or note changed */
};
/*
 * Link transactions and entities to case id.  A transaction already in the case is counted,
 * not repeated; an entity already in the case takes the new role and note.  A CLOSED or
 * FALSE_POSITIVE case is refused (FD_EUSAGE: reopen it first).  Nothing is written when any
 * reference is unknown.  res may be NULL.  Action link.
 */
int fd_case_link(struct fd_store *st, int64_t id, const struct fd_case_txn_ref *txns, size_t ntxns,
		 const struct fd_case_entity_ref *ents, size_t nents, struct fd_case_link_result *res,
		 struct fd_err *err);

/* ---- reading ------------------------------------------------------------------------- */

/* An amount per currency: the sum of minor units of count transactions. */
struct fd_case_amount {
	char currency[4];
	int exponent;
	int64_t minor;
	int64_t count;
};
/* The amounts, appended to out: "1250.00 USD", "1250.00 USD + 500 JPY", or "0" for none; with
 * human set, in the one number format a person reads (fd_num.h): "1,250.00 USD".  Plain for
 * machine-readable outputs (CSV, NDJSON), human for text.  0 or -1. */
int fd_case_format_amounts(const struct fd_case_amount *a, size_t n, int human, struct fd_buf *out);

struct fd_case_summary {
	int64_t id;
	char *title, *description;
	int priority, status;        /* enums */
	char *assignee;              /* NULL when unassigned */
	char *origin;                /* "manual" | "auto" */
	char *suspect;               /* auto cases: "account:C1"; else NULL */
	int64_t window_start, window_end;  /* auto cases; 0 otherwise */
	int64_t created_at, updated_at, closed_at;  /* closed_at 0 when not closed */
	char *created_by;
	int64_t ntxns, nentities, nevents, nnotes, nattachments;
	double max_risk;             /* highest latest risk of its transactions, -1 when none scored */
	struct fd_case_amount *stake; /* amounts of its stored transactions, per currency */
	size_t nstake;
};
void fd_case_summary_release(struct fd_case_summary *s);

enum fd_case_sort {
	FD_CASE_SORT_ID, FD_CASE_SORT_CREATED, FD_CASE_SORT_UPDATED, FD_CASE_SORT_PRIORITY,
	FD_CASE_SORT_STATUS, FD_CASE_SORT_RISK, FD_CASE_SORT_AMOUNT, FD_NCASE_SORT
};
extern const char *const fd_case_sort_name[FD_NCASE_SORT];  /* "id", "created", ... */
int fd_case_sort_parse(const char *s);

struct fd_case_filter {
	unsigned status_mask;   /* bits 1u << status; 0 = any */
	const char *assignee;   /* NULL = any; "" = unassigned */
	unsigned priority_mask; /* bits 1u << priority; 0 = any */
	const char *entity;     /* an entity reference: cases that hold it (as a case entity, or as
				   sender, recipient, merchant, device or IP of a case transaction) */
	const char *origin;     /* "manual" | "auto" | NULL */
	int64_t since, until;   /* created_at in [since, until); INT64_MIN / INT64_MAX = open */
	int sort;               /* enum fd_case_sort; ties by id */
	int descending;
	int64_t limit;          /* 0 = all */
};
/* Set f to "every case, by id". */
void fd_case_filter_init(struct fd_case_filter *f);

/*
 * The cases matching f, sorted, into *out (an array of *n summaries; free with
 * fd_case_summaries_free).  Amount sorting adds amounts of different currencies at face
 * value in major units.  FD_EUSAGE for an unknown entity reference; action view.
 */
int fd_case_list(struct fd_store *st, const struct fd_case_filter *f, struct fd_case_summary **out,
		 size_t *n, struct fd_err *err);
void fd_case_summaries_free(struct fd_case_summary *s, size_t n);

struct fd_case_event {
	int64_t id, ts;
	char *actor, *kind, *details;  /* details: JSON object text */
};

struct fd_case_rule_hit {
	char *rule_id, *reason;
	int64_t points;
};

struct fd_case_txn {
	char *txn_id, *reason, *note, *added_by;
	int64_t added_at;
	int stored;                 /* 1 when the transaction is in the store; the fields below */
	int64_t ts, amount;         /*   through country are filled only then */
	char currency[4];
	int exponent;
	char *sender, *recipient, *merchant, *device, *ip, *channel, *country;
	int scored;                 /* 1 when it has a score: its latest_scores row */
	double risk;
	char level[8], decision[8];
	char *model_version;
	char **reasons;             /* the score's reasons, nreasons sentences */
	size_t nreasons;
	struct fd_case_rule_hit *hits;  /* rule_hits rows for it */
	size_t nhits;
	int label;                  /* effective label: 1, 0, or -1 unknown */
};

struct fd_case_entity {
	int64_t entity_id;
	char *kind, *key;
	int role;                   /* enum fd_entity_role */
	char *note, *added_by;
	int64_t added_at, txn_count;
};

struct fd_case_attachment {
	int64_t id, size, added_at;
	char *name, *added_by;
	char sha256[65];
};

struct fd_case_view {
	struct fd_case_summary s;
	struct fd_case_event *events;          /* in order */
	size_t nevents;
	struct fd_case_txn *txns;              /* by time, unstored ones last */
	size_t ntxns;
	struct fd_case_entity *ents;           /* by role, kind, key */
	size_t nents;
	struct fd_case_attachment *atts;
	size_t natts;
};

/* Load everything about case id.  FD_EUSAGE "no case 7" when it does not exist; action view. */
int fd_case_load(struct fd_store *st, int64_t id, struct fd_case_view **v, struct fd_err *err);
void fd_case_view_free(struct fd_case_view *v);

/* Read one attachment's bytes (caller frees *data). */
int fd_case_attachment_read(struct fd_store *st, int64_t att_id, unsigned char **data, size_t *n,
			    struct fd_err *err);

/* ---- related transactions -------------------------------------------------------------- */

struct fd_case_related_opts {
	size_t limit;             /* 0 = 20 */
	int64_t near_ms;          /* "close in time": within this of a case transaction (0 = 1 h) */
	double amount_tol;        /* "similar amount": within this fraction (0 = 0.05) ... */
	int64_t amount_ms;        /* ... and within this time of the case transaction (0 = 7 d) */
};

struct fd_case_related {
	char *txn_id;
	int64_t ts, amount;
	char currency[4];
	int exponent;
	char *sender, *recipient;
	double risk;              /* latest risk, -1 when not scored */
	double score;             /* the rank's weight: the sum of the reasons' weights */
	char *why;                /* the reasons, "; "-separated */
};
/*
 * Stored transactions outside case id that share an account, device, IP or merchant with
 * it (with its transactions or its case entities), or that have a similar amount, or lie
 * close in time; ranked by weight (shared account 4, device 3, IP 2, merchant 1, similar
 * amount 1, close in time 1; ties: higher risk, then nearer in time, then txn_id), each
 * with why.  Action view.
 */
int fd_case_related(struct fd_store *st, int64_t id, const struct fd_case_related_opts *o,
		    struct fd_case_related **out, size_t *n, struct fd_err *err);
void fd_case_related_free(struct fd_case_related *r, size_t n);

/* ---- prioritisation -------------------------------------------------------------------- */

struct fd_case_rank {
	struct fd_case_summary s;
	double score;             /* 0-100: the sum of the four parts */
	double risk_part;         /* 40 * max risk / 100 */
	double amount_part;       /* 25 * min(1, log10(1 + at stake in major units) / 6) */
	double entity_part;       /* 20 * entity risk (below) */
	double age_part;          /* 15 * min(1, age in days / 30) */
	char *why;                /* those figures in words */
};
/*
 * OPEN and IN_PROGRESS cases ranked by score (ties: priority, then older first).  Entity
 * risk: for the most dangerous of the case's entities (case entities, and the senders of its
 * transactions), min(1, HIGH-scored transactions involving it / 10) * 0.7, plus 0.3 when it is
 * in another case closed as confirmed fraud.  Age is measured to now.  Action view.
 */
int fd_case_prioritize(struct fd_store *st, int64_t now, struct fd_case_rank **out, size_t *n,
		       struct fd_err *err);
void fd_case_ranks_free(struct fd_case_rank *r, size_t n);

/* ---- automatic cases -------------------------------------------------------------------- */

/* One HIGH-risk transaction as a scorer sees it (fields borrowed for the call). */
struct fd_case_flag {
	const char *txn_id;
	const char *suspect;     /* "account:C1", "device:D9", ...; a bare key is an account */
	int64_t ts;              /* the transaction's time */
	double risk;             /* 0-100, to the hundredth */
	const char *reasons;     /* JSON array of sentences, or NULL */
};

/* The lowest risk level that makes a flag (zero: HIGH only). */
enum fd_case_level { FD_CASE_LEVEL_HIGH, FD_CASE_LEVEL_MEDIUM, FD_CASE_LEVEL_LOW };

#define FD_CASE_AUTO_WINDOW (7 * 86400000LL) /* the default window: 7 days */

struct fd_case_auto_opts {
	int64_t window_ms;       /* 0 = FD_CASE_AUTO_WINDOW (see fd_case_auto) */
	double min_risk;         /* flags below this risk are ignored (0 = take all) */
	int assign;              /* assign new cases to an active investigator ... */
	int pick;                /* ... picked so (enum fd_case_pick; zero: least-loaded) */
	int min_level;           /* enum fd_case_level: fd_case_auto_from_store takes the store's
				    scores at or above it; titles name it */
};

struct fd_case_auto_result {
	int64_t flags;           /* flags considered (at or above min_risk) */
	int64_t created;         /* new cases */
	int64_t extended;        /* existing cases that received transactions */
	int64_t reopened;        /* CLOSED / FALSE_POSITIVE cases reopened by new flags */
	int64_t added;           /* transactions added to cases */
	int64_t already;         /* flags whose transaction was already in its case */
	int64_t unassigned;      /* with assign: new cases left unassigned (no investigator) */
};

/*
 * Open or extend one case per suspect over a sliding window.  Flags are taken per suspect in
 * time order.  A flag whose transaction is already in one of the suspect's auto cases
 * changes nothing (counted in already), so running again on the same flags writes nothing.
 * Otherwise the flag is attached to the suspect's auto case whose window holds its ts —
 * [window_start - window, window_end) — preferring a case still open, then the latest; the
 * case's window stretches to cover it (window_start: its earliest flagged transaction,
 * window_end: its latest plus window).  With no such case a new one opens (origin 'auto'),
 * titled "HIGH risk: account:C1, 2026-11-24" (the first flag's UTC day, or minute when window
 * is not whole days; "MEDIUM or HIGH risk" for min_level MEDIUM), priority CRITICAL when a
 * flag's risk is 90 or more, else HIGH (raised, never lowered, as flags arrive), the suspect
 * as a SUSPECT case entity when it is in the store, each transaction with the reason
 * "risk 93: " and its first reason sentence.  A flag attached to a CLOSED or FALSE_POSITIVE
 * case reopens it (IN_PROGRESS, labels withdrawn) with the reason "new HIGH-risk
 * transaction".  Each case touched gets one "created" or "auto" event per call (details: the
 * transactions added, the window, a raised priority).  FD_EUSAGE for a flag without txn_id or
 * suspect; FD_EPERM (action auto).  res may be NULL.
 */
int fd_case_auto(struct fd_store *st, const struct fd_case_flag *flags, size_t n,
		 const struct fd_case_auto_opts *o, struct fd_case_auto_result *res,
		 struct fd_err *err);

/*
 * fd_case_auto over the store's scores at or above o->min_level (HIGH when o is NULL; the
 * latest score of each transaction) of transactions with ts in [since, until), the sender as
 * suspect.
 */
int fd_case_auto_from_store(struct fd_store *st, int64_t since, int64_t until,
			    const struct fd_case_auto_opts *o, struct fd_case_auto_result *res,
			    struct fd_err *err);

/* ---- duplicates and merging -------------------------------------------------------------- */

struct fd_case_dup {
	int64_t keep, dup;        /* keep < dup: the older case is suggested as the survivor */
	int64_t shared_txns;      /* transactions in both */
	char *suspects;           /* the suspects both have ("account:A1 device:D2"), or NULL */
	int64_t keep_txns, dup_txns;
};
/*
 * Pairs of OPEN or IN_PROGRESS cases about the same suspect or the same transactions: sharing
 * a transaction, or a suspect (an auto case's suspect, or a SUSPECT case entity, as
 * "kind:key").  By keep, then dup.  Action view.  Free with fd_case_dups_free.
 */
int fd_case_duplicates(struct fd_store *st, struct fd_case_dup **out, size_t *n, struct fd_err *err);
void fd_case_dups_free(struct fd_case_dup *d, size_t n);

struct fd_case_merge_result {
	int from_status;          /* dup's status before */
	int64_t txns_moved, txns_already;  /* already: keep had them */
	int64_t ents_moved, ents_already;  /* already: keep had them (keep's role stays) */
};
/*
 * Merge case dup into case keep, both OPEN or IN_PROGRESS: dup's transactions (with their
 * reasons and notes) and entities (with their roles and notes) that keep lacks move to keep;
 * those keep has stay as keep has them; dup is left without transactions or entities and
 * becomes DUPLICATE (closed_at set; its notes and attachments stay with it).  keep's priority
 * rises to dup's when that is higher.  Two events, each with its audit entry: "duplicate" on
 * dup (details into, from, txns_moved, txns_already, entities_moved, note) and "merge" on keep
 * (duplicate, txns_added, entities_added, a raised priority, note).  Later alerts that would
 * join dup go to keep (fd_case_auto follows the merge).  FD_EUSAGE for an unknown case, the
 * same case twice or a case not open; FD_EPERM (action status).  res may be NULL.
 */
int fd_case_merge(struct fd_store *st, int64_t keep, int64_t dup, const char *note,
		  struct fd_case_merge_result *res, struct fd_err *err);

#endif
