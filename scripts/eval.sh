#!/bin/sh
# make eval: fd's layers against a logistic regression and a random forest on a time split of
# data fd never trained on (models/README.md, "Evaluation on third-party data", documents the
# protocol and the figures).
#
#   scripts/eval.sh [DATASET...]     DATASET: sparkov, fdgen, hbsim (default: all three)
#
#   sparkov  ../shared/data/sparkov: third-party synthetic card data (Sparkov, MIT)
#   fdgen    fd-gen's own generator, with a seed the default model was not built from
#   hbsim    our reimplementation (scripts/eval_sim.py) of the published design of the
#            "Reproducible Machine Learning for Credit Card Fraud Detection" handbook's
#            simulator: a train week, the label delay, a test week
#
# For each data set, in a scratch store:
#   fd-ingest (all of it) -> fd-features --store --since TRAIN_START --until TRAIN_END (with
#   labels) -> fd-train on those rows -> fd-score --store --since TEST_START --until TEST_END
#   (the feature state warmed from the history before TEST_START) and fd-score --eval; then
#   scripts/eval_ref.py trains the references on the same rows and the same features
#   (fd-features of the test period, warmed the same way) and prints one table with every
#   metric computed by scikit-learn.  The gap between the periods is the label delay: at
#   TEST_START every training label is known.
#
# Environment:
#   FD_BIN            the directory of the tools (default bin/ of the repository)
#   FD_EVAL_SPARKOV   the sparkov data directory (default ../shared/data/sparkov from the
#                     repository root); its *.csv.zst files are read with --map sparkov
#   FD_EVAL_DIR       scratch directory (default out/eval; emptied per data set)
#   FD_EVAL_K         cards per day for card precision@k (default: 5 for sparkov's ~260
#                     cards a day, 100 for fd-gen's 3,000: about 2% and 3% of the cards, as
#                     100 of the handbook's 5,000)
#   FD_EVAL_ROWS      fd-gen rows (default 150000)
#   FD_EVAL_SIM_CUSTOMERS  hbsim customers (default 5000; terminals twice as many)
#   FD_EVAL_TRAIN_OPTS  extra fd-train options (e.g. "--epochs 3 --trees 20" for a quick run)
#   FD_EVAL_PYTHON    the python3 with scikit-learn (default /usr/bin/python3)
#   FD_EVAL_ANALYSIS  1: also feature importances and the references on feature subsets
#   FD_EVAL_<SET>_{TRAIN_START,TRAIN_END,TEST_START,TEST_END}  override a period (UTC dates)
# Exit status: 0 done, 2 usage, 3 a step rejected its input, 4 data or tool missing.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${FD_BIN:-$root/bin}
PATH="$bin:$PATH"
# the repository's default rules enter the risk, as they do for a user of the tools' tree
FD_RULES=${FD_RULES:-$root/rules/default.rules}
export PATH FD_RULES LC_ALL=C TZ=UTC FD_ACTOR=${FD_ACTOR:-eval}
dir=${FD_EVAL_DIR:-$root/out/eval}
k=${FD_EVAL_K:-}
rows=${FD_EVAL_ROWS:-150000}
train_opts=${FD_EVAL_TRAIN_OPTS:-}
delay=7

die() { echo "eval: $1" >&2; exit "${2:-4}"; }

case ${k:-1} in *[!0-9]* | 0) die "bad FD_EVAL_K '$k' (a positive integer)" 2 ;; esac
case $rows in '' | *[!0-9]* | 0) die "bad FD_EVAL_ROWS '$rows' (a positive integer)" 2 ;; esac
for t in fd-ingest fd-features fd-train fd-score fd-gen; do
	[ -x "$bin/$t" ] || die "no $bin/$t: run make first"
done
command -v sqlite3 >/dev/null || die "no sqlite3 (scripts/setup.sh installs it)"
# Debian's python3, where python3-sklearn lives (not a python3 earlier in PATH)
py=${FD_EVAL_PYTHON:-/usr/bin/python3}
"$py" -c 'import sklearn' 2>/dev/null || die "no scikit-learn for $py (scripts/setup.sh installs python3-sklearn)"

# run NAME CMD...: a step, timed; its stderr kept in $dir/NAME.err and shown on failure
run() {
	name=$1
	shift
	t0=$(date +%s.%N)
	if ! "$@" >"$work/$name.out" 2>"$work/$name.err"; then
		cat "$work/$name.err" >&2
		die "step $name failed: $*" 3
	fi
	printf '  %-10s %6.1f s\n' "$name" "$(echo "$(date +%s.%N) - $t0" | bc)" >&2
}

# evaluate NAME K TRAIN_START TRAIN_END TEST_START TEST_END INPUT [MAP]
evaluate() {
	set_name=$1 kk=$2 trs=$3 tre=$4 tes=$5 tee=$6 input=$7 map=${8:-}
	work="$dir/$set_name"
	rm -rf "$work"
	mkdir -p "$work"
	store="$work/fd.db"
	echo "== $set_name: train [$trs, $tre), gap $delay days, test [$tes, $tee); label delay $delay days" >&2
	run ingest fd-ingest -q --store "$store" ${map:+--map "$map"} "$input"
	run features fd-features -q --store "$store" --since "$trs" --until "$tre" --label-delay "$delay" \
		-o "$work/train.csv"
	# shellcheck disable=SC2086
	run train fd-train -q --input features --label-delay "$delay" --seed 1 $train_opts \
		-o "$work/model.fdm" "$work/train.csv"
	run testfeat fd-features -q --store "$store" --since "$tes" --until "$tee" --label-delay "$delay" \
		-o "$work/test.csv"
	run score fd-score -q --store "$store" --since "$tes" --until "$tee" --label-delay "$delay" \
		--model "$work/model.fdm" --format csv -o "$work/scores.csv"
	run fdeval fd-score -q --store "$store" --since "$tes" --until "$tee" --label-delay "$delay" \
		--model "$work/model.fdm" --eval --top "$kk" --format csv -o "$work/fd-eval.csv"
	lo=$(date -u -d "$tes" +%s)000 hi=$(date -u -d "$tee" +%s)000
	sqlite3 -batch -csv -header "$store" \
		"SELECT txn_id, sender_id, ts FROM transactions WHERE ts >= $lo AND ts < $hi" > "$work/txns.csv" \
		|| die "cannot read the test transactions from $store"
	t0=$(date +%s.%N)
	"$py" "$root/scripts/eval_ref.py" --name "$set_name" --k "$kk" \
		--train "$work/train.csv" --test "$work/test.csv" --scores "$work/scores.csv" \
		--txns "$work/txns.csv" --fd-eval "$work/fd-eval.csv" \
		${FD_EVAL_ANALYSIS:+--analysis} || die "eval_ref.py failed on $set_name" 3
	printf '  %-10s %6.1f s\n' reference "$(echo "$(date +%s.%N) - $t0" | bc)" >&2
	echo
}

# period SET VAR DEFAULT: the date, or its FD_EVAL_<SET>_<VAR> override
period() {
	eval "v=\${FD_EVAL_$1_$2:-$3}"
	date -u -d "$v" +%F >/dev/null 2>&1 || die "bad date FD_EVAL_$1_$2 '$v'" 2
	echo "$v"
}

sets=${*:-sparkov fdgen hbsim}
for s in $sets; do
	case $s in
	sparkov | fdgen | hbsim) ;;
	*) die "unknown data set '$s' (sparkov, fdgen or hbsim)" 2 ;;
	esac
done
mkdir -p "$dir"
for s in $sets; do
	case $s in
	sparkov)
		# 300 cards of 2023, 1.1% fraud in two-day bursts: three months to train (after a
		# month of history, so that 30-day features are warm), a gap of the label delay,
		# eight weeks to test: about 770 and 400 fraudulent rows, 80 and 40 cards.
		a=$(period SPARKOV TRAIN_START 2023-02-01)
		b=$(period SPARKOV TRAIN_END 2023-05-01)
		c=$(period SPARKOV TEST_START 2023-05-08)
		d=$(period SPARKOV TEST_END 2023-07-03)
		src=${FD_EVAL_SPARKOV:-$root/../shared/data/sparkov}
		[ -d "$src" ] || die "no sparkov data directory '$src' (set FD_EVAL_SPARKOV)"
		set -- "$src"/*.csv.zst
		[ -f "$1" ] || die "no *.csv.zst in '$src' (set FD_EVAL_SPARKOV)"
		[ $# -eq 1 ] || die "several *.csv.zst in '$src': expected one"
		evaluate sparkov "${k:-5}" "$a" "$b" "$c" "$d" "$1" sparkov
		;;
	fdgen)
		# fd's own generator, with a seed fd's default model was not built from
		a=$(period FDGEN TRAIN_START 2026-02-01)
		b=$(period FDGEN TRAIN_END 2026-03-01)
		c=$(period FDGEN TEST_START 2026-03-08)
		d=$(period FDGEN TEST_END 2026-04-01)
		fd-gen -q --seed 7 --rows "$rows" --customers $((rows / 50 > 20 ? rows / 50 : 20)) \
			--start 2026-01-01 --days 90 -o "$dir/fdgen.csv" || die "fd-gen failed" 3
		evaluate fdgen "${k:-100}" "$a" "$b" "$c" "$d" "$dir/fdgen.csv"
		;;
	hbsim)
		# the handbook's protocol: one train week, a gap of the label delay, one test week,
		# after five weeks of history (the 30-day windows and the delay are warm); 5,000
		# customers, 10,000 terminals over 63 days (FD_EVAL_SIM_CUSTOMERS scales it)
		a=$(period HBSIM TRAIN_START 2018-05-06)
		b=$(period HBSIM TRAIN_END 2018-05-13)
		c=$(period HBSIM TEST_START 2018-05-20)
		d=$(period HBSIM TEST_END 2018-05-27)
		nc=${FD_EVAL_SIM_CUSTOMERS:-5000}
		case $nc in '' | *[!0-9]* | 0) die "bad FD_EVAL_SIM_CUSTOMERS '$nc' (a positive integer)" 2 ;; esac
		"$py" "$root/scripts/eval_sim.py" --customers "$nc" --terminals $((nc * 2)) --days 56 \
			--start 2018-04-01 --seed 1 > "$dir/hbsim.csv" 2>"$dir/hbsim.err" \
			|| { cat "$dir/hbsim.err" >&2; die "eval_sim.py failed" 3; }
		evaluate hbsim "${k:-100}" "$a" "$b" "$c" "$d" "$dir/hbsim.csv"
		;;
	esac
done
