#!/usr/bin/env bash
# make bench: throughput and peak memory of each tool on generated data, next to the
# reference each issue names, measured in the same run on this machine.
# Not a test: it prints figures.  Every timing is the best of BENCH_REPEAT runs (default 3),
# the reference and fd alternating, because other work on the machine only ever adds time;
# CPU seconds (user + sys) are shown too.  BENCH_ROWS (default 1000000) and BENCH_BIG
# (default 5000000; 0 skips the memory-growth checks) set the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH" LC_ALL=C TZ=UTC FD_ACTOR=bench
dir=${BENCH_DIR:-out/bench}
rows=${BENCH_ROWS:-1000000}
big=${BENCH_BIG:-5000000}
repeat=${BENCH_REPEAT:-3}
customers=10000
mkdir -p "$dir"

# once LABEL ROWS CMD...: one run; sets secs, cpu, rss (MiB)
once() {
	local t0 t1 u s m
	shift 2
	t0=$(date +%s.%N)
	/usr/bin/time -f '%U %S %M' -o "$dir/time" "$@" > /dev/null || { echo "bench: '$*' failed" >&2; exit 1; }
	t1=$(date +%s.%N)
	read -r u s m < <(tail -n 1 "$dir/time")
	secs=$(echo "$t1 - $t0" | bc -l)
	cpu=$(echo "$u + $s" | bc -l)
	rss=$((m / 1024))
}

# report LABEL ROWS: print the best figures gathered in best_*
report() {
	printf '%-50s %7.2f s %10.0f rows/s %5d MiB peak RSS  (cpu %.2f s)\n' "$1" "$best_secs" \
		"$(echo "$2 / $best_secs" | bc -l)" "$best_rss" "$best_cpu"
}

# compare LABEL_A ROWS SETUP_A CMD_A -- LABEL_B SETUP_B CMD_B: alternate, best of $repeat each
# (SETUP runs before each attempt, untimed)
bestof() {  # bestof VAR LABEL ROWS SETUP CMD...
	local var=$1 label=$2 n=$3 setup=$4 i
	shift 4
	local bs=999999 bc=0 br=0
	for ((i = 0; i < repeat; i++)); do
		eval "$setup"
		once "$label" "$n" "$@"
		if (($(echo "$secs < $bs" | bc -l))); then bs=$secs bc=$cpu; fi
		((rss > br)) && br=$rss
	done
	eval "${var}_secs=$bs ${var}_cpu=$bc ${var}_rss=$br"
}

gen() {  # gen ROWS DAYS FILE
	[ -s "$3" ] || fd-gen --seed 7 --rows "$1" --customers $customers --days "$2" -o "$3"
}

echo "fd bench: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rows: $rows over 90 days; memory check: $big rows over $((90 * big / rows)) days (same customers, same density); best of $repeat"
echo

f1="$dir/tx-$rows.csv"
t0=$(date +%s.%N); gen "$rows" 90 "$f1"; t1=$(date +%s.%N)
printf 'fd-gen %d rows: %.2f s (%s)\n' "$rows" "$(echo "$t1 - $t0" | bc -l)" "$(du -h "$f1" | cut -f1)"
f5=
if [ "$big" -gt 0 ]; then
	f5="$dir/tx-$big.csv"
	gen "$big" $((90 * big / rows)) "$f5"
fi

echo
echo "-- issue 2: ingest, validating and typing every field, vs sqlite3 .import + 2 indexes"
cat > "$dir/import.sql" <<SQL
.mode csv
.import $f1 tx
CREATE INDEX tx_ts ON tx(ts);
CREATE INDEX tx_sender ON tx(sender_id);
SQL
for ((k = 0; k < repeat; k++)); do
	repeat_save=$repeat repeat=1
	bestof ref "sqlite3" "$rows" 'rm -f "$dir/ref.db"' sqlite3 "$dir/ref.db" ".read $dir/import.sql"
	bestof ing "fd-ingest" "$rows" 'rm -f "$dir/fd.db" "$dir/fd.db-wal" "$dir/fd.db-shm"' \
		fd-ingest -q --store "$dir/fd.db" "$f1"
	repeat=$repeat_save
	if ((k == 0)) || (($(echo "$ref_secs < $r_secs" | bc -l))); then r_secs=$ref_secs r_cpu=$ref_cpu r_rss=$ref_rss; fi
	if ((k == 0)) || (($(echo "$ing_secs < $i_secs" | bc -l))); then i_secs=$ing_secs i_cpu=$ing_cpu i_rss=$ing_rss; fi
done
best_secs=$r_secs best_cpu=$r_cpu best_rss=$r_rss report "sqlite3 .import + index(ts), index(sender_id)" "$rows"
best_secs=$i_secs best_cpu=$i_cpu best_rss=$i_rss report "fd-ingest" "$rows"
printf '%-50s %.2fx wall, %.2fx cpu\n' "fd-ingest / sqlite3 .import" "$(echo "$i_secs / $r_secs" | bc -l)" \
	"$(echo "$i_cpu / $r_cpu" | bc -l)"
if [ -n "$f5" ]; then
	repeat_save=$repeat repeat=1
	bestof b5 "fd-ingest big" "$big" 'rm -f "$dir/fd5.db" "$dir/fd5.db-wal" "$dir/fd5.db-shm"' \
		fd-ingest -q --store "$dir/fd5.db" "$f5"
	repeat=$repeat_save
	best_secs=$b5_secs best_cpu=$b5_cpu best_rss=$b5_rss report "fd-ingest ($big rows)" "$big"
fi

echo
echo "-- issue 3: features (whole catalog) and rules (default rules); pandas: 18 features at ~27k rows/s"
bestof fe "fd-features" "$rows" ':' fd-features -q "$f1"
best_secs=$fe_secs best_cpu=$fe_cpu best_rss=$fe_rss report "fd-features (all $(fd-features --list | wc -l) features)" "$rows"
if [ -n "$f5" ]; then
	repeat_save=$repeat repeat=1
	bestof fe5 "fd-features big" "$big" ':' fd-features -q "$f5"
	repeat=$repeat_save
	best_secs=$fe5_secs best_cpu=$fe5_cpu best_rss=$fe5_rss report "fd-features ($big rows)" "$big"
fi
scripts/bench_rules.sh "$f1" $f5

echo
echo "-- issue 14: end to end with CSV in and out, one core (targets: 1M rows/s; ingest <= 1.0x .import: see issue 2 above)"
scripts/bench_io.sh "$f1"

echo
echo "-- issue 4: train and score (PyTorch ~12.7 s/epoch; sklearn IsolationForest ~47k rows/s; forward pass ~57 us)"
scripts/bench_score.sh "$f1"

echo
scripts/bench_train.sh "$f1"

echo
echo "-- issue 6: graph (targets: build + components of 1M under 2 s; 2-hop from 10M under 50 ms)"
scripts/bench_graph.sh "$f1" "$dir"

echo
echo "-- issue 15: fd-audit forensic tests over a stream (exit 1 = findings), vs awk summing the amounts"
bestof ref "awk" "$rows" ':' awk -F, '{ s += $3 } END { print s }' "$f1"
best_secs=$ref_secs best_cpu=$ref_cpu best_rss=$ref_rss report "awk -F, '{ s += \$3 }'" "$rows"
for t in benford duplicates gaps round weekend strata "ageing --as-of 2026-04-01"; do
	# shellcheck disable=SC2086
	bestof fx "fd-audit $t" "$rows" ':' sh -c 'fd-audit "$@" -q; [ $? -le 1 ]' sh $t "$f1"
	best_secs=$fx_secs best_cpu=$fx_cpu best_rss=$fx_rss report "fd-audit $t" "$rows"
done
