#!/usr/bin/env bash
# The case stage of make demo: given the demo store (scripts/demo.sh builds it), set up users,
# open cases automatically from the HIGH scores (when fd-score has written any) and by hand
# for the accounts with the most labelled fraud, work them through the workflow, and write a
# case report and the dashboard.  Usage: scripts/demo_case.sh [STORE [OUT]]  (default out/demo/fd.db, out/demo)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH" LC_ALL=C TZ=UTC
out=${2:-out/demo}
export FD_STORE=${1:-${FD_STORE:-$out/fd.db}} FD_ACTOR=${FD_ACTOR:-demo}
mkdir -p "$out"
[ -f "$FD_STORE" ] || { echo "demo_case: no store '$FD_STORE' (run scripts/demo.sh first)" >&2; exit 4; }

step() { printf '\n== %s\n' "$*"; }
sql() { sqlite3 -batch "$FD_STORE" "$@"; }

step "users: $FD_ACTOR (ADMIN), two investigators, an analyst and a viewer"
if [ "$(sql 'SELECT count(*) FROM users')" -eq 0 ]; then
	fd-case user add "$FD_ACTOR" --role ADMIN
	fd-case user add alice --role INVESTIGATOR
	fd-case user add bob --role INVESTIGATOR
	fd-case user add ann --role ANALYST
	fd-case user add vic --role VIEWER
fi
fd-case user list

step "cases from the HIGH scores, one per suspect per day, assigned to the least-loaded investigator"
fd-case auto --assign
fd-case auto   # again: nothing new

step "cases by hand for the three accounts with the most labelled fraud"
first=""
while IFS='|' read -r acct n kind; do
	txns=()
	while read -r t; do txns+=(--txn "$t" --reason "labelled fraud in the export ($kind)"); done \
		< <(sql "SELECT txn_id FROM transactions WHERE sender_id = '${acct//\'/\'\'}' AND label = 1 ORDER BY ts LIMIT 12")
	id=$(fd-case -q create "$kind by $acct" --priority HIGH \
		--description "$n transactions of $acct are labelled fraud ($kind) in the export." \
		"${txns[@]}" --entity "account:$acct" --role SUSPECT)
	echo "case $id: $kind by $acct, $((${#txns[@]} / 4)) of its $n fraud-labelled transactions"
	first=${first:-$id}
	last=$id
done < <(sql "SELECT sender_id, count(*), json_extract(metadata, '$.fraud_type') FROM transactions
	WHERE label = 1 GROUP BY sender_id ORDER BY count(*) DESC, sender_id LIMIT 3")

step "work case $first: assign, start, note, evidence, related transactions, close as fraud"
FD_ACTOR=alice fd-case assign "$first" alice
FD_ACTOR=alice fd-case status "$first" IN_PROGRESS --note "reviewing the card activity"
FD_ACTOR=ann fd-case note "$first" "the card holder denies the small charges"
printf 'Statement excerpt for case %s, as received from the bank.\n' "$first" > "$out/statement-case$first.txt"
FD_ACTOR=alice fd-case note "$first" --file "$out/statement-case$first.txt" "bank statement"
FD_ACTOR=alice fd-case related "$first" --limit 5
FD_ACTOR=alice fd-case status "$first" CLOSED --note "confirmed with the card holder"
echo "labels written by case $first: $(sql "SELECT count(*) FROM labels WHERE source = 'case:$first'")"

step "a viewer may look but not act (exit 5, audited)"
FD_ACTOR=vic fd-case status "$last" IN_PROGRESS || echo "(exit $?)"

step "the queue: open cases by risk, amount, entity risk and age"
fd-case prioritize --limit 5

step "case list"
fd-case list --limit 10

step "reports"
fd-case -q report "$first" -o "$out/case$first.md"
fd-case -q report "$first" --format html -o "$out/case$first.html"
fd-case dashboard --html "$out/dashboard.html"
echo "case report: $out/case$first.md, $out/case$first.html"
echo "dashboard:   $out/dashboard.html"
