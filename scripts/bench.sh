#!/usr/bin/env bash
# make bench: throughput and peak memory of each tool on generated data, next to the
# reference each issue names, measured in the same run on this machine.
# Not a test: it prints figures.  BENCH_ROWS (default 1000000) and BENCH_BIG (default
# 5000000; 0 skips the memory-growth check) set the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH" LC_ALL=C TZ=UTC FD_ACTOR=bench
dir=${BENCH_DIR:-out/bench}
rows=${BENCH_ROWS:-1000000}
big=${BENCH_BIG:-5000000}
customers=10000
mkdir -p "$dir"

# run LABEL ROWS CMD...: wall seconds, rows/s and peak RSS (MiB) of one command
run() {
	local label=$1 n=$2; shift 2
	local t0 t1 rss secs
	t0=$(date +%s.%N)
	/usr/bin/time -f '%M' -o "$dir/rss" "$@" || { echo "bench: '$label' failed" >&2; exit 1; }
	t1=$(date +%s.%N)
	rss=$(( $(tail -n 1 "$dir/rss") / 1024 ))
	secs=$(echo "$t1 - $t0" | bc -l)
	printf '%-48s %8.2f s %11.0f rows/s %6d MiB peak RSS\n' "$label" "$secs" "$(echo "$n / $secs" | bc -l)" "$rss"
}

gen() {  # gen ROWS FILE
	[ -s "$2" ] || fd-gen --seed 7 --rows "$1" --customers $customers -o "$2"
}

echo "fd bench: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "rows: $rows (memory check at $big), customers: $customers"
echo

f1="$dir/tx-$rows.csv"
t0=$(date +%s.%N); gen "$rows" "$f1"; t1=$(date +%s.%N)
printf 'fd-gen %d rows: %.2f s (%s)\n\n' "$rows" "$(echo "$t1 - $t0" | bc -l)" "$(du -h "$f1" | cut -f1)"

echo "-- issue 2: ingest (validating and typing every field) vs sqlite3 .import + 2 indexes"
rm -f "$dir/ref.db"
cat > "$dir/import.sql" <<SQL
.mode csv
.import $f1 tx
CREATE INDEX tx_ts ON tx(ts);
CREATE INDEX tx_sender ON tx(sender_id);
SQL
run "sqlite3 .import + index(ts), index(sender_id)" "$rows" sqlite3 "$dir/ref.db" ".read $dir/import.sql"
rm -f "$dir/fd.db"*
run "fd-ingest" "$rows" fd-ingest -q --store "$dir/fd.db" "$f1"
if [ "$big" -gt 0 ]; then
	f5="$dir/tx-$big.csv"
	gen "$big" "$f5"
	rm -f "$dir/fd5.db"*
	run "fd-ingest ($big rows, same customers)" "$big" fd-ingest -q --store "$dir/fd5.db" "$f5"
	fi
