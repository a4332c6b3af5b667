#!/usr/bin/env bats
# make eval's harness (scripts/eval.sh, scripts/eval_ref.py) on tiny data, so that it cannot rot;
# the full evaluation is `make eval`, not part of the suite.  The metrics of eval_ref.py are
# checked on testdata/eval against values worked out by hand:
#   risk of the 4 labelled test rows: T1 90 fraud, T2 80, T3 70 fraud, T4 75 (T5 has no label);
#   AUC: of the 4 (fraud, legitimate) pairs, 90>80 and 90>75 are ordered: 2/4 = 0.5;
#   AP: ranked 90 (fraud) 80 75 70 (fraud): 0.5 * 1/1 + 0.5 * 2/4 = 0.75;
#   recall at 1% FPR: above 80 only T1: 0.5;
#   card precision@1: day 1 the top card is A (fraud): 1; day 2 it is D (75, legitimate): 0;
#   mean 0.5; ceiling 1 (each day has a fraudulent card).  With k = 2: 1/2 each day.

load common

PY=/usr/bin/python3

setup() {
	common_setup
	E="$TD/eval"
	REF="$FD_ROOT/scripts/eval_ref.py"
}

@test "eval_ref.py: AUC, AP, recall at 1% FPR and card precision@k by hand; fd-score --eval checked" {
	run --separate-stderr "$PY" "$REF" --name tiny --k 1 --train "$E/train.csv" --test "$E/test.csv" \
		--scores "$E/scores.csv" --txns "$E/txns.csv" --fd-eval "$E/fd-eval.csv"
	assert_success
	assert_line --index 0 "tiny: train 40 rows (10 fraud), test 4 rows (2 fraud, 4 cards, 2 days), 2 fd features"
	assert_line "fd risk                  0.5000   0.7500   0.5000   0.5000    1.0000"
	assert_line "fd ae_score              1.0000   1.0000   1.0000   1.0000    1.0000"
	# the empty if_score column (a layer the model lacks) is left out
	refute_line --partial "if_score"
	assert_line --regexp '^logistic regression( +[01]\.[0-9]{4}){5}$'
	assert_line --regexp '^random forest( +[01]\.[0-9]{4}){5}$'
	assert_line "  combined     fd 0.5000 0.7500   sklearn 0.5000 0.7500   ok"
	run --separate-stderr "$PY" "$REF" --k 2 --train "$E/train.csv" --test "$E/test.csv" \
		--scores "$E/scores.csv" --txns "$E/txns.csv"
	assert_success
	assert_line "fd risk                  0.5000   0.7500   0.5000   0.5000    0.5000"
}

@test "eval_ref.py: an fd figure that sklearn does not confirm fails the check" {
	sed 's/^combined,4,2,0.5,0.75/combined,4,2,0.6,0.75/' "$E/fd-eval.csv" > fd-eval.csv
	run --separate-stderr "$PY" "$REF" --k 1 --train "$E/train.csv" --test "$E/test.csv" \
		--scores "$E/scores.csv" --txns "$E/txns.csv" --fd-eval fd-eval.csv
	assert_failure 1
	assert_line "  combined     fd 0.6000 0.7500   sklearn 0.5000 0.7500   DIFFERENT"
}

@test "eval_ref.py: bad inputs and options" {
	run "$PY" "$REF" --k 0 --train "$E/train.csv" --test "$E/test.csv" --scores "$E/scores.csv" --txns "$E/txns.csv"
	assert_failure 2
	assert_output "eval_ref: bad --k '0' (at least 1)"
	cut -d, -f1-3 "$E/scores.csv" | sed 's/risk/risc/' > scores.csv
	run "$PY" "$REF" --train "$E/train.csv" --test "$E/test.csv" --scores scores.csv --txns "$E/txns.csv"
	assert_failure 3
	assert_output "eval_ref: scores.csv:1: no txn_id or risk column (expected fd-score output)"
	head -3 "$E/txns.csv" > txns.csv
	run "$PY" "$REF" --train "$E/train.csv" --test "$E/test.csv" --scores "$E/scores.csv" --txns txns.csv
	assert_failure 3
	assert_output "eval_ref: txns.csv: no row for test transaction 'T3'"
	grep -v ',1,' "$E/train.csv" > train.csv
	run "$PY" "$REF" --train train.csv --test "$E/test.csv" --scores "$E/scores.csv" --txns "$E/txns.csv"
	assert_failure 3
	assert_output "eval_ref: train.csv: the training rows need both labels (have [0])"
	run "$PY" "$REF" --train missing.csv --test "$E/test.csv" --scores "$E/scores.csv" --txns "$E/txns.csv"
	assert_failure 4
	assert_output "eval_ref: missing.csv: No such file or directory"
}

@test "eval.sh: the whole protocol on a tiny sparkov-layout slice and tiny fd-gen data" {
	# a sparkov-layout file (the generator's columns) of 40 cards from 2023-01-15 to 2023-07-03,
	# fraud at night with large amounts on a few cards
	mkdir sp
	"$PY" - <<'PY' | zstd -q -o sp/tiny.csv.zst
import random
random.seed(3)
print("trans_num,unix_time,cc_num,acct_num,category,amt,merchant,merch_lat,merch_long,is_fraud,lat,long")
t = 1673740800  # 2023-01-15
i = 0
while t < 1688342400:  # 2023-07-03
    t += random.randint(600, 5400)
    c = random.randrange(40)
    fraud = int(c % 7 == 0 and random.random() < 0.3)
    amt = round(random.uniform(300, 900) if fraud else random.uniform(2, 120), 2)
    print(f"t{i},{t},{4000 + c},{9000 + c},misc_net,{amt},m{random.randrange(15)},{40 + random.random():.6f},{-80 - random.random():.6f},{fraud},40.5,-80.5")
    i += 1
PY
	FD_EVAL_SPARKOV="$PWD/sp" FD_EVAL_DIR="$PWD/ev" FD_EVAL_ROWS=6000 FD_EVAL_K=5 \
		FD_EVAL_TRAIN_OPTS="--epochs 2 --trees 10" \
		run --separate-stderr "$FD_ROOT/scripts/eval.sh" sparkov fdgen
	assert_success
	assert_line --regexp '^sparkov: train [0-9]+ rows \([1-9][0-9]* fraud\), test [0-9]+ rows \([1-9][0-9]* fraud, 40 cards, 56 days\), [0-9]+ fd features$'
	assert_line --regexp '^fdgen: train [0-9]+ rows \([1-9][0-9]* fraud\), test [0-9]+ rows \([1-9][0-9]* fraud, [0-9]+ cards, 24 days\)'
	for l in "fd ae_score" "fd if_score" "fd risk" "logistic regression" "random forest"; do
		[ "$(echo "$output" | grep -cE "^$l +([01]\.[0-9]{4} +){4}[01]\.[0-9]{4}$")" -eq 2 ]
	done
	# fd's own figures agree with sklearn's on both sets
	[ "$(echo "$output" | grep -c '^  combined .* ok$')" -eq 2 ]
	refute_output --partial DIFFERENT
	[ -s ev/sparkov/model.fdm ] && [ -s ev/fdgen/scores.csv ]
}

@test "eval.sh: usage and missing data" {
	run "$FD_ROOT/scripts/eval.sh" nosuch
	assert_failure 2
	assert_output "eval: unknown data set 'nosuch' (sparkov, fdgen or hbsim)"
	FD_EVAL_K=x run "$FD_ROOT/scripts/eval.sh" fdgen
	assert_failure 2
	assert_output "eval: bad FD_EVAL_K 'x' (a positive integer)"
	FD_EVAL_SPARKOV="$PWD/none" FD_EVAL_DIR="$PWD/ev" run "$FD_ROOT/scripts/eval.sh" sparkov
	assert_failure 4
	assert_output --partial "eval: no sparkov data directory '$PWD/none' (set FD_EVAL_SPARKOV)"
	mkdir empty
	FD_EVAL_SPARKOV="$PWD/empty" FD_EVAL_DIR="$PWD/ev" run "$FD_ROOT/scripts/eval.sh" sparkov
	assert_failure 4
	assert_output --partial "eval: no *.csv.zst in '$PWD/empty' (set FD_EVAL_SPARKOV)"
	FD_EVAL_SPARKOV_TEST_END=2023-13-01 FD_EVAL_DIR="$PWD/ev" run "$FD_ROOT/scripts/eval.sh" sparkov
	assert_failure 2
	assert_output --partial "eval: bad date FD_EVAL_SPARKOV_TEST_END '2023-13-01'"
	FD_EVAL_SIM_CUSTOMERS=0 FD_EVAL_DIR="$PWD/ev" run "$FD_ROOT/scripts/eval.sh" hbsim
	assert_failure 2
	assert_output "eval: bad FD_EVAL_SIM_CUSTOMERS '0' (a positive integer)"
}

@test "eval_sim.py: the handbook-shaped simulator is deterministic and follows its fraud rules" {
	SIM="$FD_ROOT/scripts/eval_sim.py"
	"$PY" "$SIM" --customers 60 --terminals 120 --days 30 --seed 4 > a.csv 2>a.err
	"$PY" "$SIM" --customers 60 --terminals 120 --days 30 --seed 4 > b.csv 2>/dev/null
	cmp a.csv b.csv
	[ "$(head -1 a.csv)" = "txn_id,ts,amount,sender_id,merchant_id,channel,label" ]
	# in time order, inside the 30 days from 2018-04-01 (date -u -d 2018-04-01 +%s = 1522540800)
	awk -F, 'NR > 1 && ($2 < 1522540800 || $2 >= 1522540800 + 30 * 86400 || $2 < prev) { bad = 1 } NR > 1 { prev = $2 } END { exit bad }' a.csv
	# scenario 1: every amount above 220 is fraud
	[ "$(awk -F, 'NR > 1 && $3 > 220 && $7 != 1' a.csv | wc -l)" -eq 0 ]
	# scenario 2: two terminals a day compromised for 28 days: some terminal has frauds of <= 220
	[ "$(awk -F, 'NR > 1 && $3 <= 220 && $7 == 1' a.csv | wc -l)" -gt 0 ]
	n=$(($(wc -l < a.csv) - 1)) f=$(awk -F, 'NR > 1 && $7 == 1' a.csv | wc -l)
	assert_equal "$(cat a.err)" "eval_sim: $n transactions, $f fraud ($(awk -v f="$f" -v n="$n" 'BEGIN { printf "%.2f%%", 100 * f / n }'))"
	fd-ingest -q --store fd.db a.csv
	[ "$(q 'SELECT count(*), sum(label) FROM transactions')" = "$n|$f" ]
	run "$PY" "$SIM" --days 0
	assert_failure 2
	assert_output "eval_sim: --customers, --terminals, --days and --radius must be positive"
	run "$PY" "$SIM" --start 2018-02-30
	assert_failure 2
	assert_output "eval_sim: bad --start '2018-02-30' (YYYY-MM-DD)"
}
