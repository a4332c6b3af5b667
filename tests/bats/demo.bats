#!/usr/bin/env bats
# make demo (scripts/demo.sh), small: every stage runs on FD_DEMO_ROWS generated transactions in
# a directory of the test's own, so a change to a tool cannot break the demo unnoticed.
load common

setup() { common_setup; }

@test "demo: every stage runs on 20,000 transactions and ends with the evidence verified" {
	FD_DEMO_ROWS=20000 FD_DEMO_OUT="$BATS_TEST_TMPDIR/demo" run --separate-stderr "$FD_ROOT/scripts/demo.sh"
	assert_success
	assert_output --partial "== generate 20,000 labelled transactions (seed 42)"
	assert_output --partial "evidence:  $BATS_TEST_TMPDIR/demo/evidence.fdb"
	# 20,000 rows generated: header + 20,000 lines
	[ "$(wc -l < "$BATS_TEST_TMPDIR/demo/transactions.csv")" -eq 20001 ]
	# bad.csv: 15 of its 17 records are bad, each kept with its reason
	[ "$(wc -l < "$BATS_TEST_TMPDIR/demo/rejects.ndjson")" -eq 15 ]
	[ -s "$BATS_TEST_TMPDIR/demo/dashboard.html" ]
	fd-audit verify --store "$BATS_TEST_TMPDIR/demo/fd.db" --bundle "$BATS_TEST_TMPDIR/demo/evidence.fdb" \
		--key "$BATS_TEST_TMPDIR/demo/demo.key.pub"
}

@test "demo: FD_DEMO_OUT naming a file or a directory with something in it is refused, nothing removed" {
	mkdir full && echo keep > full/mine.txt
	FD_DEMO_OUT="$BATS_TEST_TMPDIR/full" run "$FD_ROOT/scripts/demo.sh"
	assert_failure 2
	assert_output --partial "FD_DEMO_OUT '$BATS_TEST_TMPDIR/full' exists and is not an empty directory"
	[ "$(cat full/mine.txt)" = keep ]
	echo keep > afile
	FD_DEMO_OUT="$BATS_TEST_TMPDIR/afile" run "$FD_ROOT/scripts/demo.sh"
	assert_failure 2
	[ "$(cat afile)" = keep ]
}

@test "demo: FD_DEMO_ROWS that is not a number is refused" {
	FD_DEMO_ROWS=lots FD_DEMO_OUT="$BATS_TEST_TMPDIR/d" run "$FD_ROOT/scripts/demo.sh"
	assert_failure 2
	assert_output --partial "FD_DEMO_ROWS 'lots' is not a number of rows"
	[ ! -e d ]
}
