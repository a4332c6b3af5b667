# Shared set-up for the bats suites: tools from $FD_BIN, a fresh directory and store per test.
bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

export LC_ALL=C TZ=UTC
FD_BIN=${FD_BIN:-$BATS_TEST_DIRNAME/../../bin}
FD_ROOT=${FD_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
export PATH="$FD_BIN:$PATH"
TD="$FD_ROOT/testdata"

common_setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	export FD_STORE="$BATS_TEST_TMPDIR/fd.db"
	export FD_ACTOR=tester
}

# q SQL: run a query on the test store
q() { sqlite3 -batch "$FD_STORE" "$@"; }
