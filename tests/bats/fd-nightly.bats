#!/usr/bin/env bats
# scripts/nightly.sh (fd-nightly): two generated nights run the way cron runs them (no
# terminal, an empty environment but PATH), day 2 warmed from day 1, an interrupted night
# completed by a re-run, the lock.  Expected values come from independent runs of the tools
# over the concatenated days, from awk and from sqlite3.

load common

NIGHTLY="$FD_ROOT/scripts/nightly.sh"

setup() {
	common_setup
	fd-gen -q --rows 1500 --customers 100 --start 2026-03-01 --days 1 --seed 1 --id-prefix D1- -o d1.csv
	fd-gen -q --rows 1500 --customers 100 --start 2026-03-02 --days 1 --seed 2 --id-prefix D2- -o d2.csv
	fd-audit -q keygen --out night.key
	mkdir out
}

# cron's conditions: no terminal, nothing in the environment but PATH (and the actor)
cron() { env -i PATH="$FD_BIN:/usr/bin:/bin" FD_ACTOR=cron sh "$NIGHTLY" --store "$FD_STORE" "$@" </dev/null; }

@test "two nights under cron: ingest, score with history, cases, dashboard, metrics, seal" {
	run cron --day 2026-03-01 --out out --key night.key d1.csv
	assert_success
	assert_line "fd-nightly: 2026-03-01: done"
	run cron --day 2026-03-02 --out out --key night.key d2.csv
	[ "$status" -le 1 ]
	# --fail-on was not given: a HIGH day is not a failure
	assert_success
	run q "SELECT count(*), sum(rows_accepted) FROM sources"
	assert_output "2|3000"
	run q "SELECT count(*) FROM audit_seals"
	assert_output "2"
	run q "SELECT count(*) FROM cases"
	[ "$output" -gt 0 ]
	for f in scores-2026-03-01.csv scores-2026-03-02.csv dashboard.html fd_ingest.prom fd_score.prom fd_audit.prom seal-2026-03-02.txt; do
		[ -s "out/$f" ] || { echo "out/$f missing"; false; }
	done
	assert_equal "$(wc -l < out/scores-2026-03-02.csv)" 1501
	run fd-audit verify
	assert_success
}

@test "day 2 is scored warm: its features are those of one run over both days, not of day 2 alone" {
	cron --day 2026-03-01 --out out d1.csv
	cron --day 2026-03-02 --out out d2.csv
	feats=sender_txn_count_7d,sender_age_days,new_merchant
	# what the store's period gives (the night's warm-up) ...
	fd-features -q --store "$FD_STORE" --since 2026-03-02 --until 2026-03-03 --features "$feats" > store.csv
	# ... against one pass over both days' files, day 2's rows kept
	(cat d1.csv; tail -n +2 d2.csv) | fd-features -q --features "$feats" | awk -F, 'NR == 1 || /^D2-/' > both.csv
	fd-features -q --features "$feats" d2.csv > alone.csv
	assert_equal "$(wc -l < store.csv)" 1501
	cmp store.csv both.csv
	! cmp -s store.csv alone.csv
	# a sender of day 2 already seen on day 1 has a day-1 age on its first day-2 row
	run awk -F, '$1 == "D2-0000000001" { print ($5 > 0) }' store.csv
	assert_output "1"
}

@test "--fail-on HIGH: every step runs, then exit 1 when the day has a HIGH score" {
	run cron --day 2026-03-01 --out out --key night.key --fail-on HIGH d1.csv
	high=$(awk -F, 'NR > 1 && $4 == "HIGH"' out/scores-2026-03-01.csv | wc -l)
	if [ "$high" -gt 0 ]; then
		assert_failure 1
		assert_line "fd-nightly: 2026-03-01: a transaction reached HIGH"
	else
		assert_success
	fi
	# the seal was made before the verdict
	run q "SELECT count(*) FROM audit_seals"
	assert_output "1"
}

@test "a night killed between steps is completed by a re-run" {
	# a reference night, uninterrupted, in another store
	FD_STORE=$PWD/ref.db cron --day 2026-03-01 --out out --key night.key d1.csv
	want=$(sqlite3 ref.db "SELECT count(*) FROM cases; SELECT count(*) FROM case_transactions; SELECT count(*) FROM scores")
	# an fd-case that kills the night (SIGKILL to the script) when the auto-cases step starts
	mkdir trap
	printf '#!/bin/sh\nkill -KILL $PPID\n' > trap/fd-case
	chmod +x trap/fd-case
	mkdir out2
	run env -i PATH="$PWD/trap:$FD_BIN:/usr/bin:/bin" FD_ACTOR=cron sh "$NIGHTLY" --store "$FD_STORE" \
		--day 2026-03-01 --out out2 --key night.key d1.csv </dev/null
	assert_failure 137
	run q "SELECT (SELECT count(*) FROM sources), (SELECT count(*) FROM cases), (SELECT count(*) FROM audit_seals)"
	assert_output "1|0|0"
	[ ! -e out2/dashboard.html ]
	# the re-run: the lock was released with the killed shell; every step completes
	run cron --day 2026-03-01 --out out2 --key night.key d1.csv
	assert_success
	assert_line "fd-nightly: 2026-03-01: done"
	assert_equal "$(q "SELECT count(*) FROM cases; SELECT count(*) FROM case_transactions; SELECT count(*) FROM scores")" "$want"
	run q "SELECT count(*), sum(rows_accepted) FROM sources"
	assert_output "1|1500"
	[ -s out2/dashboard.html ]
	run fd-audit verify
	assert_success
}

@test "one night at a time: a held lock is an I/O error" {
	flock "$FD_STORE.nightly.lock" sleep 5 &
	sleep 0.5
	run cron --day 2026-03-01 --out out d1.csv
	assert_failure 4
	assert_output "fd-nightly: another night holds '$FD_STORE.nightly.lock'"
	wait
}

@test "usage errors exit 2" {
	run cron --day 2026-02-30 d1.csv
	assert_failure 2
	assert_output "fd-nightly: --day must be a date YYYY-MM-DD, not '2026-02-30'"
	run cron --fail-on LOW d1.csv
	assert_failure 2
	assert_output "fd-nightly: --fail-on must be MEDIUM or HIGH, not 'LOW'"
	run cron
	assert_failure 2
	assert_line --index 0 "fd-nightly: give exactly one input file"
	run cron --bogus d1.csv
	assert_failure 2
	assert_line --index 0 "fd-nightly: unknown option '--bogus'"
	run cron --help
	assert_success
	assert_line --index 0 "usage: fd-nightly [options] FILE"
	run cron --out nosuchdir d1.csv
	assert_failure 4
}

@test "a bad day's export stops the night at the ingest (exit 3), before anything is scored" {
	python3 -c '
print("txn_id,ts,amount,sender_id")
for i in range(20):
    print("X%d,2026-03-01T01:00:00Z,%s,C1" % (i, "bad" if i < 5 else "1.00"))
' > bad.csv
	run cron --day 2026-03-01 --out out bad.csv
	assert_failure 3
	run q "SELECT count(*) FROM sources"
	assert_output "0"
	[ ! -e out/scores-2026-03-01.csv ]
}
