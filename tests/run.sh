#!/usr/bin/env bash
# Run the whole suite: the cmocka unit-test binaries given as arguments, then every bats file.
# Both speak TAP; this counts "ok" and "not ok" lines and ends with one line
# "N passed, N failed".  FD_BIN names the directory of the tools (default: bin/).
set -u
cd "$(dirname "$0")/.." || exit 4
export LC_ALL=C TZ=UTC
export FD_BIN=${FD_BIN:-$PWD/bin}
export FD_ROOT=$PWD
pass=0 fail=0
log=$(mktemp); trap 'rm -f "$log"' EXIT

count() {  # reads TAP on stdin, echoes it, tallies
	local line
	while IFS= read -r line; do
		printf '%s\n' "$line"
		case $line in
		"ok "*) pass=$((pass + 1)) ;;
		"not ok "*) fail=$((fail + 1)) ;;
		esac
	done
}

for t in "$@"; do
	echo "# unit: ${t##*/}"
	CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$log" 2>&1
	rc=$?
	count <"$log"
	if [ $rc -ne 0 ] && ! grep -q '^not ok' "$log"; then
		echo "not ok - ${t##*/} exited with status $rc"
		fail=$((fail + 1))
	fi
done

bats_files=$(ls tests/bats/*.bats 2>/dev/null)
if [ -n "$bats_files" ]; then
	# shellcheck disable=SC2086
	bats --tap $bats_files >"$log" 2>&1
	rc=$?
	count <"$log"
	if [ $rc -ne 0 ] && ! grep -q '^not ok' "$log"; then
		echo "not ok - bats exited with status $rc"
		fail=$((fail + 1))
	fi
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
