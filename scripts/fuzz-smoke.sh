#!/bin/sh
# Run each libFuzzer target given for a few seconds (make check), from a corpus in DIR seeded
# with the fixtures of its format.  Stops at the first crash, sanitizer report or failed
# property, showing the end of that target's log; the corpora grow from run to run.
#   scripts/fuzz-smoke.sh DIR SECONDS build-fuzz/fuzz_csv ...
set -eu
dir=$1 secs=$2
shift 2
for bin in "$@"; do
	name=${bin##*/}
	corpus=$dir/$name.corpus
	mkdir -p "$corpus"
	case $name in
	fuzz_csv) cp testdata/ingest/*.csv testdata/features/*.csv "$corpus"/ ;;
	fuzz_ndjson) cp testdata/ingest/*.ndjson "$corpus"/ ;;
	fuzz_rules) cp rules/* "$corpus"/ ;;
	esac
	set --
	[ -f "tests/fuzz/$name.dict" ] && set -- "-dict=tests/fuzz/$name.dict"
	if "$bin" -max_total_time="$secs" -print_final_stats=1 "$@" "$corpus" >"$dir/$name.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/$name.log")
		echo "fuzz: $name: ${runs:-?} inputs in ${secs}s, clean"
	else
		tail -n 40 "$dir/$name.log"
		echo "fuzz: $name: FAILED (log: $dir/$name.log; the input is in the current directory)" >&2
		exit 1
	fi
done
