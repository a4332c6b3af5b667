#!/usr/bin/env bats
# fd-train: training on transactions and on feature rows, the model file (round trip through
# --inspect, determinism, refusal of bad files), registering in the store, thresholds from an
# alert budget, progress, eval, input errors and usage.
#
# testdata/sample.csv: 2,000 transactions, 100 labelled fraud (testdata/README.md), from
# 2026-01-01T00:05:28.932Z to 2026-03-31T23:56:11.136Z; its first five rows are legitimate.
# The catalog's size comes from fd-features --list, the default layers from it by the rule of
# fd-train(1): round(2n/3), round(n/3), round(2n/3).

bats_require_minimum_version 1.5.0
load common

setup() {
	common_setup
	T="$TD/sample.csv"
	S="$TD/score"
	export FD_RULES="$FD_ROOT/rules/default.rules"
	unset FD_MODEL SOURCE_DATE_EPOCH
	N=$(fd-features --list | wc -l)
}

arch() {  # the default architecture for n features
	awk -v n="$1" 'function r(x) { return int(x + 0.5) } BEGIN {
		a = r(2 * n / 3); b = r(n / 3); if (a < 1) a = 1; if (b < 1) b = 1
		printf "%d-%d-%d-%d-%d\n", n, a, b, a, n }'
}

@test "trains on transactions: the model's path on stdout, named by its version" {
	run --separate-stderr fd-train "$T"
	assert_success
	sha=$(sha256sum "$output" | cut -d' ' -f1)
	assert_output "models/model-${sha:0:12}.fdm"
	[ -s "$output" ]
	[[ $stderr == *"fd-train: 1900 rows of $N features (100 labelled fraud left out, 0 bad records skipped)"* ]] || { echo "$stderr"; false; }
	[[ $stderr == *"fd-train: autoencoder $(arch "$N"): "*" epochs, "* ]] || { echo "$stderr"; false; }
	[[ $stderr == *"fd-train: thresholds at the 95% and 99% quantiles of 380 validation rows: risk MEDIUM >= "*", HIGH >= "*" (rule points included)"* ]] || { echo "$stderr"; false; }
	[[ $stderr == *"fd-train: model models/model-${sha:0:12}.fdm, version ${sha:0:12}" ]] || { echo "$stderr"; false; }
}

@test "--inspect: what the model holds (a round trip through the file)" {
	fd-train -q -o m.fdm "$T"
	sha=$(sha256sum m.fdm | cut -d' ' -f1)
	run --separate-stderr fd-train --inspect m.fdm
	assert_success
	assert_line --index 0 "file: m.fdm"
	assert_line --index 1 "version: ${sha:0:12} (sha256 $sha)"
	assert_line --index 2 "fd model, format version 1"
	assert_line --index 3 "features: $N (mean and standard deviation used to standardise)"
	# every catalog feature, in catalog order
	[ "$(printf '%s\n' "${lines[@]}" | sed -n "5,$((N + 4))p" | awk '{ print $2 }')" = "$(fd-features --list | awk '{ print $1 }')" ]
	assert_line --partial "autoencoder: $(arch "$N") (hidden layers: batch normalisation, ReLU)"
	assert_line --regexp '^isolation forest: 100 trees, subsample 256, height limit 8, [0-9]+ nodes$'
	assert_line --regexp '^  autoencoder error  MEDIUM >= [0-9.e-]+  HIGH >= [0-9.e-]+$'
	assert_line --regexp '^  risk score         MEDIUM >= [0-9]+  HIGH >= [0-9]+$'
	assert_line "  rows           1900"
	assert_line "  seed           1"
	# the file's time is the data's: the newest transaction
	assert_line "  created        2026-03-31T23:56:11.136Z"
	assert_line --partial '"input":"transactions","rows_read":2000,"fraud_left_out":100,"rows":1900,'
	# the scaler: the mean of amount over the 1,900 legitimate rows, by awk
	mean=$(awk -F, 'NR > 1 && $16 != 1 { s += $3; n++ } END { printf "%.6g", s / n }' "$T")
	assert_line --regexp "^ +[0-9]+  amount +$mean "
}

@test "determinism: the same input and seed give the same bytes; another seed does not" {
	fd-train -q -o a.fdm "$T"
	fd-train -q -o b.fdm "$T"
	cmp a.fdm b.fdm
	fd-train -q --seed 2 -o c.fdm "$T"
	! cmp -s a.fdm c.fdm
	# the time is the data's, or SOURCE_DATE_EPOCH's
	SOURCE_DATE_EPOCH=1700000000 fd-train -q -o d.fdm "$T"
	run fd-train --inspect d.fdm
	assert_line "  created        2023-11-14T22:13:20.000Z"
	SOURCE_DATE_EPOCH=soon run --separate-stderr fd-train -q -o e.fdm "$T"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-train: SOURCE_DATE_EPOCH must be whole seconds since 1970, not 'soon'"* ]]
}

@test "-o -: the model on standard output, the same bytes" {
	fd-train -q -o a.fdm "$T"
	fd-train -q -o - "$T" > b.fdm
	cmp a.fdm b.fdm
}

@test "feature rows from fd-features: their features, their layers; fd-score uses the model" {
	fd-features -q --features amount,log_amount,hour,sender_txn_count_1h "$T" > f.csv
	run --separate-stderr fd-train -o f.fdm f.csv
	assert_success
	[[ $stderr == *"fd-train: 1900 rows of 4 features (100 labelled fraud left out, 0 bad records skipped)"* ]] || { echo "$stderr"; false; }
	[[ $stderr == *"(without rules)"* ]]
	run fd-train --inspect f.fdm
	assert_line "features: 4 (mean and standard deviation used to standardise)"
	assert_line --partial "autoencoder: 4-3-1-3-4 "
	assert_line --partial '"input":"features",'
	run --separate-stderr fd-score --model f.fdm "$T"
	assert_success
	[ "${#lines[@]}" -eq 2001 ]
	# the same features from NDJSON rows, and from transactions: the same data, the same file
	# (NDJSON rows without --features take the catalog's order: hour first)
	fd-features -q --format ndjson --features amount,log_amount,hour,sender_txn_count_1h "$T" > f.ndjson
	fd-train -q --features amount,log_amount,hour,sender_txn_count_1h -o g.fdm f.ndjson
	cmp f.fdm g.fdm
	fd-train -q -o g2.fdm f.ndjson
	run fd-train --inspect g2.fdm
	[ "$(printf '%s\n' "${lines[@]}" | sed -n 5,8p | awk '{ print $2 }' | paste -sd,)" = "hour,amount,log_amount,sender_txn_count_1h" ]
	# from transactions, the features are the engine's doubles rather than 9 printed digits:
	# the same features, scaler (to 6 digits) and architecture, thresholds a hair apart
	fd-train -q --no-rules --features amount,log_amount,hour,sender_txn_count_1h -o h.fdm "$T"
	fd-train --inspect h.fdm | sed -n 3,9p > h.txt
	fd-train --inspect f.fdm | sed -n 3,9p > f.txt
	diff f.txt h.txt
}

@test "feature rows: columns outside the catalog ignored with a note; bad numbers skipped; --strict" {
	fd-features -q --features amount,hour "$T" | awk -F, -v OFS=, 'NR == 1 { print $0, "note" } NR > 1 { print $0, "x" }' > f.csv
	run --separate-stderr fd-train -o f.fdm f.csv
	assert_success
	[[ $stderr == *"fd-train: ignored 1 column that are not features of the catalog: 'note'"* ]] || { echo "$stderr"; false; }
	fd-features -q --features amount,hour "$T" | sed '3s/^\([^,]*,[^,]*,[^,]*,\)[^,]*/\1abc/' > g.csv
	run --separate-stderr fd-train -o g.fdm g.csv
	assert_success
	[[ $stderr == *"fd-train: g.csv:3: feature 'amount': not a finite number: 'abc'"* ]] || { echo "$stderr"; false; }
	[[ $stderr == *"1899 rows of 2 features (100 labelled fraud left out, 1 bad records skipped)"* ]] || { echo "$stderr"; false; }
	run --separate-stderr fd-train --strict -o g.fdm g.csv
	[ "$status" -eq 3 ]
	[[ $stderr == "fd-train: g.csv:3: feature 'amount': not a finite number: 'abc' (--strict: stopped here)" ]] || { echo "$stderr"; false; }
	printf 'txn_id,label,colour\nA,0,red\n' > none.csv
	run --separate-stderr fd-train none.csv
	[ "$status" -eq 3 ]
	[[ $stderr == *"fd-train: none.csv: no feature columns (names from fd-features --list)" ]] || { echo "$stderr"; false; }
	printf 'txn_id,amount\nA,1\n' > feat.csv
	run --separate-stderr fd-train --features amount,hour feat.csv
	[ "$status" -eq 3 ]
	[ "$stderr" = "fd-train: feat.csv:1: no column for the feature 'hour'" ]
}

@test "--features and --layers: the reference architecture 18-12-6-12-18" {
	f=$(fd-features --list | awk 'NR <= 18 { print $1 }' | paste -sd,)
	fd-train -q --no-rules --features "$f" --layers 12,6,12 --epochs 2 -o m.fdm "$T"
	run fd-train --inspect m.fdm
	assert_line "features: 18 (mean and standard deviation used to standardise)"
	assert_line --partial "autoencoder: 18-12-6-12-18 "
	assert_line --partial '"epochs":2,'
	run --separate-stderr fd-train --features amount,nosuch "$T"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-train: "*"nosuch"* ]]
	run --separate-stderr fd-train --layers 12,0 "$T"
	[ "$status" -eq 2 ]
}

@test "--progress: a line per epoch" {
	run --separate-stderr fd-train --progress --epochs 3 --patience 0 -o m.fdm "$T"
	assert_success
	[ "$(printf '%s\n' "$stderr" | grep -c '^fd-train: epoch [0-9]*/3: train loss [0-9.]*, validation loss [0-9.]*\( (best)\)\?, [0-9]* rows/s, [0-9.]* s/epoch; .* left if it stops improving (at most .*)$')" -eq 3 ]
	run fd-train -q --no-progress --epochs 3 -o m.fdm "$T"
	assert_output "m.fdm"
}

@test "--alerts-per-day: thresholds at the budget's quantiles (worked out by hand)" {
	# 89.99354402777777 days, 2000 transactions: b = 10 * 89.99354402777777 / 2000
	#   = 0.44996772013888886; MEDIUM at 1 - b, HIGH at 1 - b / 5 (python3)
	fd-train -q --alerts-per-day 10 -o m.fdm "$T"
	run fd-train --inspect m.fdm
	assert_line --partial '"quantiles":[0.55003228,0.910006456],"alerts_per_day":10,'
	run --separate-stderr fd-train --alerts-per-day 20 "$T"
	[ "$status" -eq 2 ]
	[ "$stderr" = "fd-train: --alerts-per-day 20 over 90.0 days of 2000 transactions is 90.0% of them: give fewer than half" ]
}

@test "--store: the model registered once, with its audit entry" {
	run --separate-stderr fd-train --store fd.db -o m.fdm "$T"
	assert_success
	[[ $stderr == *"(registered in the store)" ]] || { echo "$stderr"; false; }
	sha=$(sha256sum m.fdm | cut -d' ' -f1)
	run q "SELECT id, version, path, sha256, json_array_length(features), json_extract(metrics, '\$.rows'), actor FROM models"
	assert_output "1|${sha:0:12}|m.fdm|$sha|$N|1900|tester"
	run q "SELECT action, object_type, object_id, json_extract(details, '\$.version') FROM audit_log WHERE action = 'model.register'"
	assert_output "model.register|model|1|${sha:0:12}"
	run fd-audit verify --store fd.db
	assert_success
	run --separate-stderr fd-train --store fd.db -o m.fdm "$T"
	assert_success
	[[ $stderr == *"(already registered in the store)" ]] || { echo "$stderr"; false; }
	[ "$(q 'SELECT count(*) FROM models')" -eq 1 ]
}

@test "--since/--until: training on the store's transactions" {
	fd-ingest -q "$T"
	run --separate-stderr fd-train --store "$FD_STORE" --until 2026-03-01 -o m.fdm
	assert_success
	n=$(awk -F, 'NR > 1 && $2 < "2026-03-01" && $16 != 1' "$T" | wc -l)
	f=$(awk -F, 'NR > 1 && $2 < "2026-03-01" && $16 == 1' "$T" | wc -l)
	[[ $stderr == *"fd-train: $n rows of $N features ($f labelled fraud left out, 0 bad records skipped)"* ]] || { echo "$n $f $stderr"; false; }
	run --separate-stderr fd-train --since 2026-03-01 "$T"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-train: --since and --until read the store's transactions: give no FILE"* ]]
}

@test "too few rows, and no rules file" {
	head -n 6 "$T" > five.csv
	run --separate-stderr fd-train five.csv
	[ "$status" -eq 3 ]
	[ "$stderr" = "fd-train: 5 rows to train on (5 read, 0 labelled fraud left out): at least 10 needed" ]
	unset FD_RULES
	mkdir -p none/bin && cp "$FD_BIN/fd-train" none/bin/
	run --separate-stderr none/bin/fd-train "$T"
	[ "$status" -eq 4 ]
	[ "$stderr" = "fd-train: no rules file: give --rules FILE or set FD_RULES (not found: $PWD/none/rules/default.rules, $PWD/none/share/fd/default.rules); or train with --no-rules" ]
	run --separate-stderr none/bin/fd-train --no-rules -o m.fdm "$T"
	assert_success
	[[ $stderr == *"(without rules)"* ]]
}

@test "model files that are truncated, corrupt, newer, foreign or missing are refused" {
	fd-train -q -o m.fdm "$T"
	head -c 63 m.fdm > t.fdm
	run --separate-stderr fd-train --inspect t.fdm
	[ "$status" -eq 3 ]
	[ "$stderr" = "fd-train: t.fdm: truncated model file" ]
	head -c -1 m.fdm > t2.fdm
	run --separate-stderr fd-train --inspect t2.fdm
	[ "$status" -eq 3 ]
	[ "$stderr" = "fd-train: t2.fdm: truncated model file" ]
	cp m.fdm c.fdm
	printf '\377' | dd of=c.fdm bs=1 seek=100 conv=notrunc 2>/dev/null
	run --separate-stderr fd-train --inspect c.fdm
	[ "$status" -eq 3 ]
	[ "$stderr" = "fd-train: c.fdm: model file checksum mismatch: corrupt" ]
	cp m.fdm v.fdm
	printf '\007' | dd of=v.fdm bs=1 seek=8 conv=notrunc 2>/dev/null
	run --separate-stderr fd-train --inspect v.fdm
	[ "$status" -eq 3 ]
	[ "$stderr" = "fd-train: v.fdm: model format version 7 is newer than this fd supports (1)" ]
	run --separate-stderr fd-train --inspect "$T"
	[ "$status" -eq 3 ]
	[ "$stderr" = "fd-train: $T: not an fd model file" ]
	run --separate-stderr fd-train --inspect none.fdm
	[ "$status" -eq 4 ]
	[ "$stderr" = "fd-train: cannot open 'none.fdm': No such file or directory" ]
	[ -z "$output" ]
}

@test "eval: each layer on labelled transactions" {
	fd-train -q -o m.fdm "$S/history.csv"
	run --separate-stderr fd-train eval --model m.fdm "$T"
	assert_success
	assert_line --index 0 "2000 labelled transactions, 100 fraud (5.00%)"
	assert_line --index 1 --regexp '^layer +AUC-ROC +avg prec +recall@1%FPR +recall@5%FPR +prec@top$'
	for l in autoencoder forest rules combined; do
		printf '%s\n' "${lines[@]}" | grep -q "^$l  *[0-9]" || { echo "no $l"; false; }
	done
	[[ $stderr == "fd-train: 2000 transactions (2000 labelled, 100 fraud), 0 bad records skipped; model m.fdm, rules $FD_RULES" ]] || { echo "$stderr"; false; }
	# the rules' confusion at "any hit": the frauds and legitimate rows fd-rules hits
	fd-rules -q "$T" | cut -d, -f1 | sed 1d | sort -u > hit.txt
	awk -F, 'NR > 1 { print $1, $16 }' "$T" | sort > lab.txt
	tp=$(join hit.txt lab.txt | awk '$2 == 1' | wc -l)
	fp=$(join hit.txt lab.txt | awk '$2 == 0' | wc -l)
	[[ $(printf '%s\n' "${lines[@]}" | grep '^rules  *MEDIUM') =~ ^rules\ +MEDIUM\ +any\ hit\ +$tp\ +$fp\ +$((100 - tp))\ +$((1900 - fp))\ + ]] || { printf '%s\n' "${lines[@]}"; false; }
	run fd-train eval -q --model m.fdm --format ndjson --top 10 "$T"
	[ "$(printf '%s\n' "${lines[@]}" | jq -r '[.layer, .rows, .frauds, .k] | join(" ")' | paste -sd,)" = \
	  "autoencoder 2000 100 10,forest 2000 100 10,rules 2000 100 10,combined 2000 100 10" ]
	# fd-score --eval gives the same report
	fd-train eval -q --model m.fdm "$T" > a.txt
	fd-score --eval -q --model m.fdm "$T" > b.txt
	cmp a.txt b.txt
}

@test "--metrics" {
	fd-train -q --metrics m.prom -o m.fdm "$T"
	grep -qx 'fd_train_rows_total{tool="fd-train"} 1900' m.prom
	grep -qx 'fd_train_fraud_left_out_total{tool="fd-train"} 100' m.prom
	grep -q '^fd_train_epochs{tool="fd-train"} [0-9]' m.prom
	grep -qx 'fd_run_success{tool="fd-train"} 1' m.prom
}

@test "usage errors" {
	run --separate-stderr fd-train --input tables "$T"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-train: --input must be features or transactions, not 'tables'"* ]]
	run --separate-stderr fd-train --epochs 0 "$T"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-train: --epochs needs a whole number from 1 to 100000, not '0'"* ]]
	run --separate-stderr fd-train eval --layers 4,2,4 "$T"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-train: eval takes no training options (--output, --layers, --input, --alerts-per-day)"* ]]
	run --separate-stderr fd-train --inspect m.fdm "$T"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-train: --inspect takes one model file and nothing else"* ]]
	run --separate-stderr fd-train --rules "$FD_RULES" --no-rules "$T"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-train: --rules and --no-rules contradict each other"* ]]
	run --separate-stderr fd-train --model m.fdm "$T"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-train: --model and --format belong to fd-train eval"* ]]
	run --separate-stderr fd-train eval --format xml "$T"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-train: --format must be table, csv or ndjson, not 'xml'"* ]]
	run --separate-stderr fd-train --input features --rules "$FD_RULES" "$T"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-train: --rules needs transactions: feature rows cannot be checked against rules"* ]]
	fd-features -q --features amount,hour "$T" > f.csv
	run --separate-stderr fd-train --rules "$FD_RULES" f.csv
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-train: --rules needs transactions: f.csv holds feature rows"* ]]
}

@test "the man page's examples" {
	fd-features -q --features amount,log_amount,hour "$T" > f.csv
	run --separate-stderr fd-train --layers 2,1,2 --seed 7 -o m.fdm f.csv
	assert_success
	assert_output "m.fdm"
	run fd-train --inspect m.fdm
	assert_line --partial "autoencoder: 3-2-1-2-3 "
	run fd-train eval -q --model m.fdm "$T"
	assert_success
}
