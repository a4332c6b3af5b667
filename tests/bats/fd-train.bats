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
	read -r TR VA TF VF < <(split_counts "$T")
	NK=$((N - $(constant_features "$T" | wc -l)))  # features kept
}

# The time split, by hand: the rows sorted by time, the first at or after the time that leaves
# the last 20% after it validate.  Prints: train rows, validation rows, train fraud, validation
# fraud (label in column LCOL, default 16; time in column 2).
split_counts() {
	sed 1d "$1" | sort -t, -k2,2 | awk -F, -v lc="${2:-16}" '{ ts[NR] = $2; l[NR] = $lc }
		END { c = ts[int(0.8 * NR) + 1]
		      for (i = 1; i <= NR; i++) if (ts[i] >= c) { v++; vf += l[i] == 1 } else { t++; tf += l[i] == 1 }
		      print t + 0, v + 0, tf + 0, vf + 0 }'
}

# The catalog features that fd-features gives one value on every row of FILE (or none at all):
# those fd-train drops.  Counted with awk over fd-features' CSV.
constant_features() {
	fd-features -q "$1" | awk -F, 'NR == 1 { for (i = 4; i <= NF; i++) name[i] = $i; n = NF; next }
		{ for (i = 4; i <= n; i++) if ($i != "") { if (!(i in v)) v[i] = $i; else if (v[i] != $i) var[i] = 1 } }
		END { for (i = 4; i <= n; i++) if (!(i in var)) print name[i] }'
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
	[ "$TR $VA" = "1600 400" ]
	[[ $stderr == *"fd-train: dropped $((N - NK)) features missing or constant in the training data: "* ]] || { echo "$stderr"; false; }
	for f in $(constant_features "$T"); do
		[[ $stderr == *" $f (constant)"* ]] || { echo "$f: $stderr"; false; }
	done
	[[ $stderr == *"fd-train: 2000 rows of $NK features (100 labelled fraud, 0 bad records skipped): 1600 to train, 400 to validate (the last 20% in time); the autoencoder and the forest learn from the $((TR - TF)) not labelled fraud"* ]] || { echo "$stderr"; false; }
	# fewer rows than the samples' defaults (100000): every row
	[[ $stderr == *"fd-train: autoencoder $(arch "$NK") on $((TR - TF)) of $((TR - TF)) rows: "*" epochs, "* ]] || { echo "$stderr"; false; }
	[[ $stderr == *"fd-train: boosted trees on $TR rows ($TF fraud, $((TR - TF)) of $((TR - TF)) legitimate): "*" rounds kept of "*" run (validation average precision "*" on $VA rows), "* ]] || { echo "$stderr"; false; }
	[[ $stderr == *"fd-train: stacked risk on 400 labelled validation rows ($VF fraud): MEDIUM >= "*", HIGH >= "*" (the 95% and 99% quantiles) (rule points included; a second stacker for scoring without rules)"* ]] || { echo "$stderr"; false; }
	[[ $stderr == *"fd-train: model models/model-${sha:0:12}.fdm, version ${sha:0:12}" ]] || { echo "$stderr"; false; }
}

@test "--inspect: what the model holds (a round trip through the file)" {
	fd-train -q -o m.fdm "$T"
	sha=$(sha256sum m.fdm | cut -d' ' -f1)
	run --separate-stderr fd-train --inspect m.fdm
	assert_success
	assert_line --index 0 "file: m.fdm"
	assert_line --index 1 "version: ${sha:0:12} (sha256 $sha)"
	assert_line --index 2 "fd model, format version 2"
	assert_line --index 3 "features: $NK (mean and standard deviation used to standardise)"
	# every catalog feature that varies, in catalog order
	constant_features "$T" | sort > dropped.txt
	[ "$(printf '%s\n' "${lines[@]}" | sed -n "5,$((NK + 4))p" | awk '{ print $2 }')" = "$(fd-features --list | awk '{ print $1 }' | grep -vxFf dropped.txt)" ]
	assert_line --partial "autoencoder: $(arch "$NK") (hidden layers: batch normalisation, ReLU)"
	assert_line --regexp "^boosted trees: [0-9]+ trees \\(one per round, binary:logistic\\), best iteration [0-9]+ of [0-9]+ rounds run, validation average precision [0-9.]+, $((TR - 0)) training rows \\($TF fraud\\), scale_pos_weight [0-9.]+$"
	assert_line --regexp '^  top features by gain: [a-z0-9_]+ [0-9.]+%'
	assert_line "dropped features (constant or missing in the training data): $((N - NK)): $(constant_features "$T" | paste -sd, | sed 's/,/, /g')"
	assert_line --regexp '^stacker with rules: risk = 100 \* sigmoid\(.*\); MEDIUM >= [0-9.e-]+, HIGH >= [0-9.e-]+$'
	assert_line --regexp '^stacker without rules: risk = 100 \* sigmoid\(.*\); MEDIUM >= [0-9.e-]+, HIGH >= [0-9.e-]+$'
	assert_line "drift: training histograms of $NK features (PSI)"
	assert_line --regexp '^isolation forest: 100 trees, subsample 256, height limit 8, [0-9]+ nodes$'
	assert_line --regexp '^  autoencoder error  MEDIUM >= [0-9.e-]+  HIGH >= [0-9.e-]+$'
	assert_line --regexp '^  risk score         MEDIUM >= [0-9]+  HIGH >= [0-9]+$'
	assert_line "  rows           $((TR - TF))"
	assert_line "  seed           1"
	# the file's time is the data's: the newest transaction
	assert_line "  created        2026-03-31T23:56:11.136Z"
	assert_line --partial "\"input\":\"transactions\",\"rows_read\":2000,\"fraud_left_out\":100,\"rows\":$((TR - TF)),"
	assert_line --partial "\"labels\":{\"train_fraud\":$TF,\"train_legit\":$((TR - TF)),\"validation_fraud\":$VF,\"validation_legit\":$((VA - VF)),\"unknown\":0,"
	# the scaler: the mean of amount over the training part's legitimate rows, by awk
	mean=$(sed 1d "$T" | sort -t, -k2,2 | head -n "$TR" | awk -F, '$16 != 1 { s += $3; n++ } END { printf "%.6g", s / n }')
	assert_line --regexp "^ +[0-9]+  amount +$mean "
}

# The samples of fd-train(1), worked out from the split counted by awk: --gb-rows N keeps every
# fraud of the part and N minus their number (at least N/2) legitimate rows, each weighing the
# part's legitimate rows over those kept.
@test "--gb-rows, --ae-rows: the samples --inspect reports, weighted; every row with 0" {
	TL=$((TR - TF)) VL=$((VA - VF))
	fd-train -q --gb-rows 500 --ae-rows 300 -o m.fdm "$T"
	run --separate-stderr fd-train --inspect m.fdm
	assert_success
	w=$(awk -v a="$TL" -v k=$((500 - TF)) 'BEGIN { printf "%.4g", a / k }')
	assert_line "  trained on 300 of $TL rows not labelled fraud (a sample)"
	assert_line --regexp "^boosted trees: .*, 500 training rows \($TF fraud\), "
	assert_line "  training rows: 500 ($TF fraud, $((500 - TF)) of $TL legitimate sampled, each weighing $w)"
	# the validation part holds 400 rows, fewer than 500: all of them
	assert_line "  early-stopping validation rows: $VA ($VF fraud, all $VL legitimate)"
	# more fraud than N/2: N/2 legitimate rows; the validation part sampled as well
	fd-train -q --gb-rows 100 --ae-rows 100 -o m100.fdm "$T"
	[ "$TF" -gt 50 ] && [ "$VF" -lt 50 ]
	run --separate-stderr fd-train --inspect m100.fdm
	assert_line "  training rows: $((TF + 50)) ($TF fraud, 50 of $TL legitimate sampled, each weighing $(awk -v a="$TL" 'BEGIN { printf "%.4g", a / 50 }'))"
	assert_line "  early-stopping validation rows: 100 ($VF fraud, $((100 - VF)) of $VL legitimate sampled, each weighing $(awk -v a="$VL" -v k=$((100 - VF)) 'BEGIN { printf "%.4g", a / k }'))"
	assert_line "  trained on 100 of $TL rows not labelled fraud (a sample)"
	# 0: every row, unweighted
	fd-train -q --gb-rows 0 --ae-rows 0 -o m0.fdm "$T"
	run --separate-stderr fd-train --inspect m0.fdm
	assert_line "  training rows: $TR ($TF fraud, all $TL legitimate)"
	assert_line "  trained on $TL of $TL rows not labelled fraud"
	# a sample is the seed's: the same seed, the same bytes; another seed, another model
	fd-train -q --gb-rows 500 --ae-rows 300 -o again.fdm "$T"
	cmp m.fdm again.fdm
	fd-train -q --gb-rows 500 --ae-rows 300 --seed 2 -o other.fdm "$T"
	! cmp -s m.fdm other.fdm
}

@test "--gb-eval-every: the trees kept end on a measured round; the CPU line per phase" {
	# 7 rounds measured every 5: at 5 and at the last, 7
	run --separate-stderr fd-train --gb-rounds 7 --gb-eval-every 5 -o m.fdm "$T"
	assert_success
	[[ $stderr =~ fd-train:\ boosted\ trees\ on\ .*:\ ([0-9]+)\ rounds\ kept\ of\ 7\ run ]] || { echo "$stderr"; false; }
	kept=${BASH_REMATCH[1]}
	[ "$kept" -eq 5 ] || [ "$kept" -eq 7 ]
	# the phases' CPU seconds add up to the total (each rounded to 0.1 s)
	[[ $stderr =~ fd-train:\ cpu\ ([0-9.]+)\ s\ \(wall\ [0-9.]+\ s\):\ features\ ([0-9.]+),\ preparation\ ([0-9.]+),\ trees\ ([0-9.]+),\ autoencoder\ ([0-9.]+),\ forest\ ([0-9.]+),\ stackers\ ([0-9.]+),\ writing\ ([0-9.]+) ]] || { echo "$stderr"; false; }
	awk -v t="${BASH_REMATCH[1]}" -v s="${BASH_REMATCH[2]} ${BASH_REMATCH[3]} ${BASH_REMATCH[4]} ${BASH_REMATCH[5]} ${BASH_REMATCH[6]} ${BASH_REMATCH[7]} ${BASH_REMATCH[8]}" \
		'BEGIN { n = split(s, a, " "); for (i = 1; i <= n; i++) sum += a[i]; d = sum - t; exit !(d < 0.41 && d > -0.41 && t > 0) }'
	fd-train --inspect m.fdm | grep -q '"eval_every":5'
	# -q: no CPU line
	run --separate-stderr fd-train -q -o m2.fdm "$T"
	[ -z "$stderr" ]
}

@test "--gb-refit (the default), --no-gb-refit, --gb-eta, --gb-depth: what --inspect reports" {
	fd-train -q -o r.fdm "$T"
	fd-train -q --no-gb-refit -o n.fdm "$T"
	! cmp -s r.fdm n.fdm
	run --separate-stderr fd-train --inspect r.fdm
	assert_success
	[[ $output =~ best\ iteration\ ([0-9]+)\ of\ [0-9]+\ rounds\ run ]] || { echo "$output"; false; }
	kept=${BASH_REMATCH[1]}
	# the rounds kept, grown again on the labelled rows of both parts: every row of the sample
	# (fewer than --gb-rows), so its training and validation rows by the split worked by hand
	assert_line --regexp "^boosted trees: $kept trees \(one per round"
	assert_line "  refit: grown again for $kept rounds on $((TR + VA)) rows (training and validation)"
	fd-train --inspect r.fdm | grep -q '"gbdt_refit":{"rounds":'"$kept"',"n_train":'"$((TR + VA))"'}'
	# without: the same early stopping, its trees kept, no refit
	run --separate-stderr fd-train --inspect n.fdm
	assert_line --regexp "^boosted trees: $kept trees \(one per round.*, best iteration $kept of "
	refute_line --partial "refit"
	# the learning rate, recorded
	fd-train --inspect n.fdm | grep -q '"max_depth":3,"eta":0.1,'
	fd-train -q --gb-eta 0.05 -o e.fdm "$T"
	fd-train --inspect e.fdm | grep -q '"eta":0.05,'
	! cmp -s r.fdm e.fdm
	fd-train -q --gb-depth 5 -o d.fdm "$T"
	fd-train --inspect d.fdm | grep -q '"max_depth":5,'
	! cmp -s r.fdm d.fdm
	for bad in 0 21 x; do
		run --separate-stderr fd-train --gb-depth "$bad" "$T"
		[ "$status" -eq 2 ]
		[[ $stderr == "fd-train: --gb-depth needs a whole number from 1 to 20, not '$bad'"* ]] || { echo "$stderr"; false; }
	done
	for bad in 0 1.5 abc; do
		run --separate-stderr fd-train --gb-eta "$bad" "$T"
		[ "$status" -eq 2 ]
		[[ $stderr == "fd-train: --gb-eta needs a number from 0.0001 to 1, not '$bad'"* ]] || { echo "$stderr"; false; }
	done
	[ ! -e models ]
}

@test "--gb-rows, --ae-rows, --gb-eval-every: bad values exit 2 naming the option" {
	run --separate-stderr fd-train --gb-rows 50 "$T"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-train: --gb-rows needs 0 (every row) or at least 100 rows, not '50'"* ]] || { echo "$stderr"; false; }
	run --separate-stderr fd-train --ae-rows -1 "$T"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-train: --ae-rows needs a whole number from 0 to 1000000000, not '-1'"* ]] || { echo "$stderr"; false; }
	run --separate-stderr fd-train --ae-rows 1k "$T"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-train: --ae-rows needs a whole number from 0 to 1000000000, not '1k'"* ]] || { echo "$stderr"; false; }
	run --separate-stderr fd-train --gb-eval-every 0 "$T"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-train: --gb-eval-every needs a whole number from 1 to 1000, not '0'"* ]] || { echo "$stderr"; false; }
	[ ! -e models ]
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
	[[ $stderr == *"fd-train: 2000 rows of 4 features (100 labelled fraud, 0 bad records skipped): 1600 to train, 400 to validate (the last 20% in time); the autoencoder and the forest learn from the $((TR - TF)) not labelled fraud"* ]] || { echo "$stderr"; false; }
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
	[[ $stderr == *"1999 rows of 2 features (100 labelled fraud, 1 bad records skipped)"* ]] || { echo "$stderr"; false; }
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
	f=$(fd-features --list | awk '{ print $1 }' | grep -vxFf <(constant_features "$T") | head -n 18 | paste -sd,)
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
	assert_line --partial '"quantiles":[0.55003228,0.910006456],'
	assert_line --partial ',"alerts_per_day":10,'
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
	assert_output "1|${sha:0:12}|m.fdm|$sha|$NK|$((TR - TF))|tester"
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
	awk -F, 'NR == 1 || $2 < "2026-03-01"' "$T" > early.csv
	n=$(($(wc -l < early.csv) - 1))
	f=$(awk -F, 'NR > 1 && $16 == 1' early.csv | wc -l)
	read -r tr va tf vf < <(split_counts early.csv)
	[[ $stderr == *"fd-train: $n rows of "*" features ($f labelled fraud, 0 bad records skipped): $tr to train, $va to validate (the last 20% in time); the autoencoder and the forest learn from the $((tr - tf)) not labelled fraud"* ]] || { echo "$n $f $stderr"; false; }
	run --separate-stderr fd-train --since 2026-03-01 "$T"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-train: --since and --until read the store's transactions: give no FILE"* ]]
}

@test "too few rows, and no rules file" {
	head -n 6 "$T" > five.csv
	run --separate-stderr fd-train five.csv
	[ "$status" -eq 3 ]
	[ "$stderr" = "fd-train: 4 rows to train on and 1 to validate (5 read, 0 labelled fraud): at least 10 of each needed" ]
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
	[ "$stderr" = "fd-train: v.fdm: model format version 7 is newer than this fd supports (2)" ]
	run --separate-stderr fd-train --inspect "$T"
	[ "$status" -eq 3 ]
	[ "$stderr" = "fd-train: $T: not an fd model file" ]
	run --separate-stderr fd-train --inspect none.fdm
	[ "$status" -eq 4 ]
	[ "$stderr" = "fd-train: cannot open 'none.fdm': No such file or directory" ]
	[ -z "$output" ]
}

@test "too few labels: no boosted trees, no stacker; the unsupervised layers carry on" {
	# history.csv: 1,500 transactions, none labelled fraud
	[ "$(awk -F, 'NR > 1 && $16 == 1' "$S/history.csv" | wc -l)" -eq 0 ]
	run --separate-stderr fd-train -o m.fdm "$S/history.csv"
	assert_success
	[[ $stderr == *"fd-train: no boosted trees: too few labels: 0 labelled fraud in the training part and 0 in the validation part (at least 20 and 5 needed); the autoencoder and the forest carry on"* ]] || { echo "$stderr"; false; }
	[[ $stderr == *"fd-train: no stacker: 300 labelled validation rows with 0 fraud: the stacker needs at least 5 of each; the layers combine with fixed weights"* ]] || { echo "$stderr"; false; }
	run fd-train --inspect m.fdm
	assert_line "boosted trees: none: too few labels: 0 labelled fraud in the training part and 0 in the validation part (at least 20 and 5 needed)"
	refute_line --partial "stacker with"
	# fewer than 20 frauds in the training part: the first 1,000 rows of sample.csv hold
	tf=$(sed 1d "$T" | sort -t, -k2,2 | head -n 1000 | awk -F, '{ t[NR] = $16 } END { for (i = 1; i <= 800; i++) f += t[i] == 1; print f }')
	head -n 1001 "$T" > few.csv
	[ "$tf" -lt 20 ] || skip "the first 800 rows hold $tf frauds"
	run --separate-stderr fd-train -o few.fdm few.csv
	assert_success
	[[ $stderr == *"fd-train: no boosted trees: too few labels: $tf labelled fraud in the training part"* ]] || { echo "$stderr"; false; }
	# --no-gbdt: none asked for
	run --separate-stderr fd-train --no-gbdt -o n.fdm "$T"
	assert_success
	[[ $stderr != *"boosted trees"* ]] || { echo "$stderr"; false; }
	run fd-train --inspect n.fdm
	assert_line "boosted trees: none: --no-gbdt"
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
	grep -qx "fd_train_rows_total{tool=\"fd-train\"} $((TR - TF))" m.prom
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
	[[ $stderr == "fd-train: eval takes no training options (--output, --layers, --input, --alerts-per-day, --as-of, --promote, --no-gbdt)"* ]]
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
