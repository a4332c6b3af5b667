#!/usr/bin/env bats
# The supervised layer and the calibrated risk, end to end: fd-train with labels (boosted
# trees, stackers), fd-score's gb_score column and SHAP reasons, --threshold and
# --alerts-per-day at scoring time, the store's promoted model, and the drift warning.
#
# testdata/sample.csv: 2,000 transactions over 89.99 days, 100 labelled fraud; a model trained
# on it once per file (setup_file) has boosted trees and both stackers.

bats_require_minimum_version 1.5.0
load common

setup_file() {
	export LC_ALL=C TZ=UTC FD_ACTOR=tester
	export PATH="${FD_BIN:-$BATS_TEST_DIRNAME/../../bin}:$PATH"
	GB="$BATS_FILE_TMPDIR/gb.fdm"
	fd-train -q --rules "$BATS_TEST_DIRNAME/../../rules/default.rules" -o "$GB" \
		"$BATS_TEST_DIRNAME/../../testdata/sample.csv" > /dev/null
	export GB
}

setup() {
	common_setup
	T="$TD/sample.csv"
	export FD_RULES="$FD_ROOT/rules/default.rules"
	unset FD_MODEL
}

# a column of fd-score's CSV by name
col() {  # col NAME FILE
	awk -F, -v c="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next } { print $k }' "$2"
}

@test "gb_score: the boosted trees' probability for every row; reasons from SHAP in words" {
	run fd-train --inspect "$GB"
	assert_line --regexp '^boosted trees: [0-9]+ trees'
	fd-score -q --model "$GB" "$T" > s.csv
	[ "$(col gb_score s.csv | awk '$1 >= 0 && $1 <= 1' | wc -l)" -eq 2000 ]
	# feature reasons of the flagged rows say what raised the risk
	n=$(awk -F, 'NR > 1 && $4 != "LOW"' s.csv | wc -l)
	[ "$n" -gt 0 ]
	[ "$(grep -c '(raises risk)' s.csv)" -gt 0 ]
	# LOW rows get no feature reasons (only rule reasons): none says "(raises risk)"
	[ "$(awk -F, 'NR > 1 && $4 == "LOW"' s.csv | grep -c '(raises risk)')" -eq 0 ]
	# the boosted trees rank the labelled fraud of their own training data well: AUC by python3
	paste -d, <(col gb_score s.csv) <(awk -F, 'NR > 1 { print $16 }' "$T") > pl.csv
	auc=$(python3 -c '
import sys
r = [tuple(map(float, l.split(","))) for l in open("pl.csv")]
pos = [s for s, y in r if y == 1]; neg = [s for s, y in r if y == 0]
w = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
print(w / len(pos) / len(neg))')
	python3 -c "import sys; sys.exit(0 if $auc > 0.9 else 1)" || { echo "AUC $auc"; false; }
	# a model without boosted trees: gb_score empty
	fd-score -q --model "$FD_ROOT/models/default.fdm" "$TD/score/probe.csv" > d.csv
	[ "$(fd-train --inspect "$FD_ROOT/models/default.fdm" | grep -c '^boosted trees: none')" -eq 0 ] ||
		[ -z "$(col gb_score d.csv | sort -u)" ]
}

@test "--eval: the gbdt layer beside the others" {
	run --separate-stderr fd-score -q --eval --format csv --model "$GB" "$T"
	assert_success
	[ "$(printf '%s\n' "${lines[@]}" | cut -d, -f1 | paste -sd,)" = "layer,autoencoder,forest,gbdt,rules,combined" ]
}

@test "--threshold RISK: HIGH from that risk; MEDIUM no higher; bad values refused" {
	fd-score -q --model "$GB" --threshold 60 "$T" > s.csv
	# risk is rounded from the risk compared: 60 and above rounds to >= 60, below 59.5 to <= 59
	[ "$(awk -F, 'NR > 1 && $3 >= 61 && $4 != "HIGH"' s.csv | wc -l)" -eq 0 ]
	[ "$(awk -F, 'NR > 1 && $3 <= 59 && $4 == "HIGH"' s.csv | wc -l)" -eq 0 ]
	[ "$(awk -F, 'NR > 1 && $4 == "HIGH"' s.csv | wc -l)" -gt 0 ]
	fd-score -q --model "$GB" --threshold 100 "$T" > t.csv
	# only a block rule reaches 100 exactly: HIGH is the blocked rows at most
	[ "$(awk -F, 'NR > 1 && $4 == "HIGH" && $5 != "BLOCK"' t.csv | wc -l)" -le \
	  "$(awk -F, 'NR > 1 && $3 == 100' t.csv | wc -l)" ]
	run --separate-stderr fd-score --threshold 101 "$T"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-score: --threshold needs a number from 0 to 100, not '101'"* ]]
	run --separate-stderr fd-score --threshold high "$T"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-score: --threshold needs a number from 0 to 100, not 'high'"* ]]
	run --separate-stderr fd-score --threshold 50 --alerts-per-day 3 "$T"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-score: --threshold and --alerts-per-day both set the thresholds: give one"* ]]
}

@test "--alerts-per-day N at scoring time: the training traffic's quantiles; needs a stacker" {
	# 2,000 transactions from 2026-01-01T00:05:28.932Z to 2026-03-31T23:56:11.136Z (python3)
	read -r per_day per_day1 < <(python3 -c '
from datetime import datetime as d
a = d.fromisoformat("2026-01-01T00:05:28.932"); b = d.fromisoformat("2026-03-31T23:56:11.136")
print("%.0f %.1f" % ((2000 / ((b - a).total_seconds() / 86400),) * 2))')
	run --separate-stderr fd-score --model "$GB" --alerts-per-day 2 "$T"
	assert_success
	[[ $stderr == *"fd-score: --alerts-per-day 2: MEDIUM >= "*", HIGH >= "*" (at the training data's $per_day transactions a day)"* ]] || { echo "$stderr"; false; }
	# a larger budget flags at least as many
	a=$(fd-score -q --model "$GB" --alerts-per-day 1 "$T" | awk -F, 'NR > 1 && $4 != "LOW"' | wc -l)
	b=$(fd-score -q --model "$GB" --alerts-per-day 4 "$T" | awk -F, 'NR > 1 && $4 != "LOW"' | wc -l)
	[ "$a" -le "$b" ]
	# a budget of half the traffic or more
	run --separate-stderr fd-score --model "$GB" --alerts-per-day 20 "$T"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-score: $GB: --alerts-per-day 20 of $per_day1 transactions a day is "*"% of them: give fewer than half" ]] || { echo "$stderr"; false; }
	# a model trained without labels has no stacker
	fd-train -q -o u.fdm "$TD/score/history.csv"
	run --separate-stderr fd-score --model u.fdm --alerts-per-day 2 "$T"
	[ "$status" -eq 2 ]
	[ "$stderr" = "fd-score: u.fdm: --alerts-per-day needs a model whose risk was calibrated on labelled validation rows (this one has no stacker with rules)" ]
}

@test "stackers with and without rules: a risk means a probability either way" {
	run fd-train --inspect "$GB"
	# with trees the inputs are logit(p_gb) and, with rules, the rule points and any-hit:
	# the autoencoder and the forest are not stacked (fd_score.h, STACKING)
	assert_line --regexp '^stacker with rules: risk = 100 \* sigmoid\([^z]*z1[^z]*z2[^z]*z3\); '
	assert_line --regexp '^stacker without rules: risk = 100 \* sigmoid\([^z]*z1\); '
	fd-score -q --model "$GB" "$T" > r.csv
	fd-score -q --model "$GB" --no-rules "$T" > n.csv
	# without rules no row is BLOCKed and nothing is 100 by a rule
	[ "$(awk -F, 'NR > 1 && $5 == "BLOCK"' n.csv | wc -l)" -eq 0 ]
	# the mean risk over the training data is near its fraud rate (5%) in both: calibrated
	for f in r.csv n.csv; do
		m=$(awk -F, 'NR > 1 && $5 != "BLOCK" { s += $3; n++ } END { printf "%.1f", s / n }' "$f")
		python3 -c "import sys; sys.exit(0 if 1 <= $m <= 15 else 1)" || { echo "$f mean risk $m"; false; }
	done
}

@test "a model trained without rules, scored with them: its stacker; block rules still block" {
	fd-train -q --no-rules -o nr.fdm "$T"
	run fd-train --inspect nr.fdm
	assert_line --regexp '^stacker without rules: '
	refute_line --regexp '^stacker with rules: '
	fd-score --model nr.fdm "$T" > r.csv 2> r.err
	grep -qx "fd-score: note: the model's risk was calibrated without rules: a block rule still gives 100, other rules' points do not change it (train with --rules to weigh them)" r.err ||
		{ cat r.err; false; }
	fd-score -q --model nr.fdm --no-rules "$T" > n.csv
	# row by row: the same risk as without rules, 100 for a block (the man page's rule)
	paste -d, <(col risk n.csv) <(col rule_points r.csv) <(col decision r.csv) <(col risk r.csv) |
		awk -F, '{ e = $3 == "BLOCK" ? 100 : $1
			   if ($4 != e) { print NR ": " $0 " expected " e; bad = 1 } } END { exit bad }'
	# both sides exercised: rows that hit a non-block rule, and a blocked row
	[ "$(paste -d, <(col rule_points r.csv) <(col decision r.csv) | awk -F, '$1 > 0 && $2 != "BLOCK"' | wc -l)" -gt 0 ]
	[ "$(col decision r.csv | grep -c '^BLOCK$')" -gt 0 ]
}

@test "the store's promoted model is used before the bundled default, and says so" {
	run --separate-stderr fd-train --promote -o a.fdm "$T"
	[ "$status" -eq 2 ]
	[[ $stderr == "fd-train: --promote marks the model in a store's models table: give --store"* ]]
	run --separate-stderr fd-train --store fd.db --promote -o a.fdm "$T"
	assert_success
	[[ $stderr == *", promoted" ]] || { echo "$stderr"; false; }
	sha=$(sha256sum a.fdm | cut -c1-12)
	[ "$(q "SELECT version, path, promoted FROM models")" = "$sha|$PWD/a.fdm|1" ]
	run --separate-stderr fd-score "$TD/score/probe.csv"
	assert_success
	[[ $stderr == "fd-score: model $PWD/a.fdm (the store's promoted model, version $sha)"* ]] || { echo "$stderr"; false; }
	[ "$(printf '%s\n' "${lines[@]}" | sed 1d | awk -F, '{ print $NF }' | sort -u)" = "$sha" ]
	# a second promotion demotes the first, each change audited; the store still verifies
	fd-train -q --store fd.db --promote --seed 2 -o b.fdm "$T"
	sha2=$(sha256sum b.fdm | cut -c1-12)
	[ "$(q "SELECT version || ':' || promoted FROM models ORDER BY id" | paste -sd' ')" = "$sha:0 $sha2:1" ]
	[ "$(q "SELECT action || ' ' || object_id FROM audit_log WHERE action LIKE 'model.%' ORDER BY seq" | paste -sd,)" = \
	  "model.register 1,model.promote 1,model.register 2,model.demote 1,model.promote 2" ]
	run fd-audit verify --store fd.db
	assert_success
	run --separate-stderr fd-score "$TD/score/probe.csv"
	[[ $stderr == "fd-score: model $PWD/b.fdm (the store's promoted model, version $sha2)"* ]] || { echo "$stderr"; false; }
	# --model and $FD_MODEL still come first, without a note
	FD_MODEL="$PWD/a.fdm" run --separate-stderr fd-score "$TD/score/probe.csv"
	[[ $stderr != *"promoted"* ]] || { echo "$stderr"; false; }
	[ "$(printf '%s\n' "${lines[@]}" | sed 1d | awk -F, '{ print $NF }' | sort -u)" = "$sha" ]
	# no store: the bundled default, said so
	rm -f fd.db*
	run --separate-stderr fd-score "$TD/score/probe.csv"
	assert_success
	[[ $stderr == "fd-score: model $FD_ROOT/models/default.fdm (the bundled default, version "* ]] || { echo "$stderr"; false; }
}

@test "drift: a flag rate far from the calibrated one is a warning naming the shifted features" {
	# the same transactions with every amount times 50: amounts far beyond training
	awk -F, -v OFS=, 'NR > 1 { $3 = sprintf("%.2f", $3 * 50) } { print }' "$T" > big.csv
	run --separate-stderr fd-score -q --model "$GB" -o s.csv big.csv
	assert_success
	flagged=$(awk -F, 'NR > 1 && $4 != "LOW"' s.csv | wc -l)
	rate=$(awk -v f="$flagged" 'BEGIN { printf "%.2f", 100 * f / 2000 }')
	[[ $stderr == *"fd-score: warning: $rate% of the 2000 transactions reached MEDIUM or HIGH, the model's thresholds were calibrated for "* ]] || { echo "$stderr"; false; }
	[[ $stderr == *"fd-score: warning: feature amount: population stability index "*" against training (> 0.25: shifted)"* ]] || { echo "$stderr"; false; }
	# the unchanged data: no warning
	run --separate-stderr fd-score -q --model "$GB" -o s.csv "$T"
	assert_success
	[ -z "$stderr" ]
}
