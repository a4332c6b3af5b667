#!/usr/bin/env bats
# Evidence safety across the tools (issue 12, items 3-5): tamper coverage declared by the
# schema (forged rows in tables no entry ever named, the schema version lowered), roles in
# every tool that writes (and the actor bound to the login name), and read-only stores that
# can still be verified and read.  Forgeries are made with the sqlite3 shell; expected
# messages are written out by hand.

load common
bats_require_minimum_version 1.5.0

setup() {
	common_setup
	# the bundled rules and model, wherever the tools under test were built
	export FD_RULES="$FD_ROOT/rules/default.rules" FD_MODEL="$FD_ROOT/models/default.fdm"
	fd-ingest -q "$TD/sample.csv"
}

teardown() {
	# an immutable directory cannot be cleaned up by bats
	[ -d "$BATS_TEST_TMPDIR/ro" ] && chattr -i "$BATS_TEST_TMPDIR/ro" 2>/dev/null
	[ -n "${W:-}" ] && rm -rf "$W"
	return 0
}

# ---- item 3: coverage from the schema ----------------------------------------------------

@test "verify: forged ADMIN, case, score run and scores in a store that has only seen an ingest" {
	run fd-audit verify
	assert_success
	q "INSERT INTO users (name, role, created_at, created_by) VALUES ('mallory', 'ADMIN', 0, 'mallory');
	   INSERT INTO cases (title, created_at, created_by, updated_at) VALUES ('cover-up', 0, 'mallory', 0);
	   INSERT INTO score_runs (model_version, rows, started_at, actor) VALUES ('m', 2, 0, 'mallory');
	   INSERT INTO scores (run_id, txn_id, model_version, risk, level, decision, scored_at)
	     VALUES (1, 'T0000000001', 'm', 1, 'LOW', 'APPROVE', 0), (1, 'T0000000002', 'm', 1, 'LOW', 'APPROVE', 0);"
	run --separate-stderr fd-audit verify
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 5 ]
	[ "${stderr_lines[0]}" = "fd-audit: score_runs: 1 row with id 1 is covered by no audit entry (inserted behind the tools' back, or their entry deleted)" ]
	[ "${stderr_lines[1]}" = "fd-audit: scores: 2 rows with run_id 1 are covered by no audit entry (inserted behind the tools' back, or their entry deleted)" ]
	[ "${stderr_lines[2]}" = "fd-audit: users: 1 row with id 1 is covered by no audit entry (inserted behind the tools' back, or their entry deleted)" ]
	[ "${stderr_lines[3]}" = "fd-audit: cases: 1 row with id 1 is covered by no audit entry (inserted behind the tools' back, or their entry deleted)" ]
	[ "${stderr_lines[4]}" = "fd-audit: $FD_STORE: NOT intact: 4 findings" ]
}

@test "verify: a user changed or deleted behind the tools' back, and a forged model" {
	fd-case -q user add tester --role ADMIN
	run fd-audit verify
	assert_success
	seq=$(q "SELECT seq FROM audit_log WHERE action = 'user.add'")
	q "UPDATE users SET role = 'VIEWER'"
	run --separate-stderr fd-audit verify
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = "fd-audit: audit entry $seq (user.add user/1): data digest mismatch: rows of users with id 1 changed since the entry" ]
	q "DELETE FROM users"
	run --separate-stderr fd-audit verify
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = "fd-audit: audit entry $seq (user.add user/1): data digest mismatch: rows of users with id 1 changed since the entry (0 now, the entry recorded 1)" ]
	q "INSERT INTO users (id, name, role, created_at, created_by) VALUES (1, 'tester', 'ADMIN', 0, 'x')"
	q "INSERT INTO models (version, path, sha256, features, trained_at, actor) VALUES ('v', 'p', 'h', '[]', 0, 'x')"
	run --separate-stderr fd-audit verify
	[ "$status" -eq 1 ]
	[[ " ${stderr_lines[*]} " == *"fd-audit: models: 1 row with id 1 is covered by no audit entry (inserted behind the tools' back, or their entry deleted)"* ]]
}

@test "verify: PRAGMA user_version lowered is tampering; a writing tool refuses the store" {
	latest=$(q "SELECT max(CAST(object_id AS INTEGER)) FROM audit_log WHERE action = 'store.migrate'")
	seq=$(q "SELECT max(seq) FROM audit_log WHERE action = 'store.migrate'")
	q "PRAGMA user_version = $((latest - 1))"
	run --separate-stderr fd-audit verify
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = "fd-audit: audit entry $seq (store.migrate store/$latest): PRAGMA user_version is $((latest - 1)) but the store was migrated to version $latest: the schema version was lowered behind the tools' back" ]
	[ "${stderr_lines[1]}" = "fd-audit: $FD_STORE: NOT intact: 1 finding" ]
	run --separate-stderr fd-ingest -q "$TD/ingest/good.csv"
	[ "$status" -eq 3 ]
	[ "$stderr" = "fd-ingest: store '$FD_STORE' has schema version $((latest - 1)) but its audit log records migrations past it: the version was lowered behind the tools' back (see fd-audit verify)" ]
	q "PRAGMA user_version = $latest"
	run fd-audit verify
	assert_success
}

# ---- item 4: roles in every writing tool --------------------------------------------------

# users: boss ADMIN, ann ANALYST, ivy INVESTIGATOR, vic VIEWER
users() {
	FD_ACTOR=boss fd-case -q user add boss --role ADMIN
	FD_ACTOR=boss fd-case -q user add ann --role ANALYST
	FD_ACTOR=boss fd-case -q user add ivy --role INVESTIGATOR
	FD_ACTOR=boss fd-case -q user add vic --role VIEWER
}

# denied WHO ACTION DENIAL TOOL ARGS...: exit 5, the message, nothing written but the denial
denied() {
	local who=$1 act=$2 entry=$3; shift 3
	local before after
	before=$(q "SELECT (SELECT count(*) FROM sources) || '/' || (SELECT count(*) FROM score_runs) || '/' || (SELECT count(*) FROM rule_runs) || '/' || (SELECT count(*) FROM models) || '/' || (SELECT count(*) FROM audit_seals) || '/' || (SELECT count(*) FROM audit_log)")
	run --separate-stderr env FD_ACTOR="$who" "$@"
	[ "$status" -eq 5 ] || { echo "$who $act: exit $status: $stderr"; return 1; }
	[[ $stderr == "$1: permission denied: user '$who' ("*") may not "*"; that needs "* ]] || { echo "$stderr"; return 1; }
	after=$(q "SELECT (SELECT count(*) FROM sources) || '/' || (SELECT count(*) FROM score_runs) || '/' || (SELECT count(*) FROM rule_runs) || '/' || (SELECT count(*) FROM models) || '/' || (SELECT count(*) FROM audit_seals) || '/' || (SELECT count(*) FROM audit_log)")
	# one more audit entry (the denial), nothing else
	[ "${before%/*}" = "${after%/*}" ] || { echo "$who $act changed $before -> $after"; return 1; }
	[ $((${before##*/} + 1)) -eq "${after##*/}" ] || { echo "$who $act: no denial entry"; return 1; }
	[ "$(q "SELECT action || ' ' || actor || ' ' || json_extract(details, '$.action') FROM audit_log ORDER BY seq DESC LIMIT 1")" = "$entry $who $act" ]
}

@test "roles: a VIEWER can neither ingest, score, record rules, train, save graph stats, seal nor export" {
	users
	fd-audit -q keygen --out k
	denied vic ingest ingest.denied fd-ingest -q "$TD/ingest/good.csv"
	denied vic score score.denied fd-score -q --store "$FD_STORE" "$TD/score/probe.csv"
	denied vic rules rules.denied fd-rules -q --store "$FD_STORE" "$TD/rules/labelled.csv"
	denied vic train model.denied fd-train -q --store "$FD_STORE" -o m.fdm "$TD/sample.csv"
	[ ! -e m.fdm ]
	denied vic graph graph.denied fd-graph stats --save --top 1
	denied vic seal audit.denied fd-audit seal --key k
	denied vic export audit.denied fd-audit export --out b.tar
	[ ! -e b.tar ]
	# the message in full, once
	run --separate-stderr env FD_ACTOR=vic fd-ingest -q "$TD/ingest/good.csv"
	[ "$stderr" = "fd-ingest: permission denied: user 'vic' (VIEWER) may not ingest into the store; that needs ADMIN or INVESTIGATOR or ANALYST" ]
	run fd-audit verify
	assert_success
}

@test "roles: the matrix for train, seal and export; an ANALYST ingests, scores and records rules" {
	users
	fd-audit -q keygen --out k
	denied ivy train model.denied fd-train -q --store "$FD_STORE" -o m.fdm "$TD/sample.csv"
	denied ann seal audit.denied fd-audit seal --key k
	denied ivy seal audit.denied fd-audit seal --key k
	denied ann export audit.denied fd-audit export --out b.tar
	FD_ACTOR=ann fd-ingest -q "$TD/ingest/good.csv"
	FD_ACTOR=ann fd-score -q --store "$FD_STORE" "$TD/score/probe.csv" >/dev/null
	FD_ACTOR=ann fd-rules -q --store "$FD_STORE" "$TD/rules/labelled.csv" >/dev/null
	FD_ACTOR=ann fd-graph stats --save --top 1 >/dev/null
	FD_ACTOR=ivy fd-audit -q export --out b.tar
	FD_ACTOR=boss fd-audit -q seal --key k >/dev/null
	run q "SELECT actor FROM sources ORDER BY id"
	assert_output $'tester\nann'
	run q "SELECT count(*) FROM audit_log WHERE action LIKE '%.denied'"
	assert_output "4"
	run fd-audit verify
	assert_success
}

@test "roles: an unknown or disabled actor may not ingest; a store without users lets anyone" {
	fd-ingest -q "$TD/ingest/good.csv"  # single-user store: tester may
	users
	run --separate-stderr env FD_ACTOR=mallory fd-ingest -q "$TD/ingest/quoted.csv"
	[ "$status" -eq 5 ]
	[ "$stderr" = "fd-ingest: permission denied: 'mallory' is not a user of this store (see fd-case user list)" ]
	FD_ACTOR=boss fd-case -q user disable ann
	run --separate-stderr env FD_ACTOR=ann fd-score -q --store "$FD_STORE" "$TD/score/probe.csv"
	[ "$status" -eq 5 ]
	[ "$stderr" = "fd-score: permission denied: user 'ann' is disabled" ]
	run q "SELECT actor, action, object_type, json_extract(details, '$.action'), json_extract(details, '$.role') FROM audit_log WHERE action LIKE '%.denied' ORDER BY seq"
	assert_output $'mallory|ingest.denied|source|ingest|\nann|score.denied|score_run|score|ANALYST'
}

# As an unprivileged Unix account: the actor is bound to the login name.
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups env -u FD_ACTOR "$@"; }

@test "roles: --actor other than the login name needs the login to be an active ADMIN" {
	command -v setpriv >/dev/null || skip "setpriv is not installed (util-linux)"
	as_nobody true 2>/dev/null || skip "the unprivileged account cannot run programs here (a root whose libraries it may not read)"
	users
	FD_ACTOR=boss fd-case -q user add nobody --role ANALYST
	# a directory the unprivileged account can reach (the test's own is private to root)
	W=$(mktemp -d /tmp/fd-evidence.XXXXXX)
	chmod 0777 "$W"
	cp "$FD_STORE" "$W/fd.db" && chmod 0666 "$W/fd.db"
	export FD_STORE=$W/fd.db
	cp "$TD/ingest/good.csv" "$TD/ingest/quoted.csv" "$TD/sample.csv" "$W/" && chmod 0644 "$W"/*.csv
	cd "$W"
	# as itself: the ANALYST may ingest
	run --separate-stderr as_nobody fd-ingest -q good.csv
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	# claiming to be the ADMIN: refused, and recorded with the login
	run --separate-stderr as_nobody fd-case --actor boss user add eve --role ADMIN
	[ "$status" -eq 5 ]
	[ "$stderr" = "fd-case: permission denied: login 'nobody' is not an active ADMIN of this store, so it may act only as itself, not as 'boss' (--actor or FD_ACTOR)" ]
	run --separate-stderr as_nobody env FD_ACTOR=boss fd-ingest -q quoted.csv
	[ "$status" -eq 5 ]
	run q "SELECT actor || ' ' || action || ' ' || json_extract(details, '$.login') FROM audit_log WHERE action LIKE '%.denied' ORDER BY seq"
	assert_output $'boss case.denied nobody\nboss ingest.denied nobody'
	run q "SELECT count(*) FROM users WHERE name = 'eve'"
	assert_output "0"
	# once the login is an ADMIN it may act for others, within their roles
	q "UPDATE users SET role = 'ADMIN' WHERE name = 'nobody'"  # (verify would see this; not checked here)
	run --separate-stderr as_nobody fd-ingest -q --actor ann quoted.csv
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	run --separate-stderr as_nobody fd-ingest -q --actor vic sample.csv
	[ "$status" -eq 5 ]
	[ "$stderr" = "fd-ingest: permission denied: user 'vic' (VIEWER) may not ingest into the store; that needs ADMIN or INVESTIGATOR or ANALYST" ]
}

# ---- item 5: read-only evidence -----------------------------------------------------------

# Copy the store into ro/ and make that directory immutable (root ignores mode bits).
readonly_copy() {
	mkdir ro
	cp "$FD_STORE" ro/fd.db
	[ ! -e "$FD_STORE-wal" ] || [ ! -s "$FD_STORE-wal" ] || { echo "the store has a WAL left"; return 1; }
	chattr +i ro 2>/dev/null || skip "chattr +i is not supported on this file system"
	touch ro/probe 2>/dev/null && { chattr -i ro; skip "an immutable directory is still writable here"; }
	export FD_STORE=$PWD/ro/fd.db
}

@test "read-only directory: verify, log, case list/show/report, graph, features and a case report" {
	FD_ACTOR=tester fd-case -q create "ring" --txn T0000000001 >/dev/null
	n=$(q "SELECT count(*) FROM audit_log")
	readonly_copy
	run --separate-stderr fd-audit verify
	assert_success
	[[ $output == "$FD_STORE: intact: "* ]]
	run --separate-stderr fd-audit log --format csv
	assert_success
	[ "${#lines[@]}" -eq $((n + 1)) ]
	run --separate-stderr fd-case list --format csv
	assert_success
	assert_line --index 1 --partial "1,ring,"
	run --separate-stderr fd-case show 1
	assert_success
	assert_line --index 0 "Case 1: ring"
	run --separate-stderr fd-case report 1
	assert_success
	run --separate-stderr fd-graph components
	assert_success
	run --separate-stderr fd-features --store "$FD_STORE" --format csv
	assert_success
	[ "${#lines[@]}" -eq 2001 ]
	# nothing was created next to it, and writing is still refused: exit 4
	run ls -A ro
	assert_output "fd.db"
	run --separate-stderr fd-ingest -q "$TD/ingest/good.csv"
	[ "$status" -eq 4 ]
}

@test "read-only directory: tampering is still found" {
	q "UPDATE transactions SET amount = amount + 1 WHERE id = 5"
	readonly_copy
	run --separate-stderr fd-audit verify
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = "fd-audit: audit entry $(( $(grep -cE '^[[:space:]]*\{[0-9]+, "' "$FD_ROOT/lib/fd_schema.c") + 1 )) (ingest.source source/1): data digest mismatch: rows of transactions with source_id 1 changed since the entry" ]
}
