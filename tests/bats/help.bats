#!/usr/bin/env bats
# Every tool: --help prints the usage on stdout and exits 0; --version prints "TOOL VERSION";
# an unknown option exits 2 with the usage on stderr; the usage's first line matches the
# man page's synopsis command.

load common

tools() { for t in "$FD_BIN"/fd-*; do [ -x "$t" ] && basename "$t"; done; }

@test "every tool answers --help on stdout with exit 0" {
	for t in $(tools); do
		run --separate-stderr "$t" --help
		[ "$status" -eq 0 ] || { echo "$t --help: exit $status"; false; }
		[[ $output == "usage: $t "* ]] || { echo "$t --help: $output"; false; }
		[ -z "$stderr" ] || { echo "$t --help wrote to stderr"; false; }
	done
}

@test "every tool answers --version" {
	ver=$(sed -n 's/^VERSION *:= *//p' "$FD_ROOT/Makefile")
	for t in $(tools); do
		run "$t" --version
		assert_success
		assert_output "$t $ver"
	done
}

@test "every tool refuses an unknown option with exit 2 and the usage on stderr" {
	for t in $(tools); do
		run --separate-stderr "$t" --no-such-option
		[ "$status" -eq 2 ] || { echo "$t: exit $status"; false; }
		[ -z "$output" ] || { echo "$t wrote to stdout"; false; }
		[[ $stderr == *"usage: $t "* ]] || { echo "$t: $stderr"; false; }
	done
}

@test "every tool has a man page that lints clean" {
	for t in $(tools); do
		[ -f "$FD_ROOT/man/$t.1" ] || { echo "no man/$t.1"; false; }
	done
	run mandoc -Tlint -Wwarning "$FD_ROOT"/man/*.[1-9]
	assert_success
	assert_output ""
}

# ---- the option groups (cmd/cli.c): fd-gen, fd-features, fd-score, fd-ingest, fd-audit, fd-graph,
# fd-rules, fd-case, fd-train ---------------------------------------------------------------------

grouped() { echo fd-gen fd-features fd-score fd-ingest fd-audit fd-graph fd-rules fd-case fd-train; }

@test "a usage error names the tool, not the path it ran as, with the short usage" {
	for t in $(grouped); do
		run --separate-stderr "$FD_BIN/$t" --bogus=1
		[ "$status" -eq 2 ] || { echo "$t: exit $status"; false; }
		[ -z "$output" ] || { echo "$t wrote to stdout"; false; }
		assert_equal "${stderr_lines[0]}" "$t: unrecognized option '--bogus'"
		[[ ${stderr_lines[1]} == "usage: $t "* ]] || { echo "$t: $stderr"; false; }
		assert_equal "${stderr_lines[-1]}" "Try '$t --help' for the options."
	done
	# fd-audit's two synopsis lines; the forensic tests' own
	run --separate-stderr "$FD_BIN/fd-audit" verify --bogus
	[ "${#stderr_lines[@]}" -eq 4 ]
	assert_equal "${stderr_lines[2]}" "       fd-audit [options] benford|duplicates|gaps|round|weekend|strata|ageing [FILE...]"
	run --separate-stderr "$FD_BIN/fd-audit" benford --bogus
	assert_equal "${stderr_lines[0]}" "fd-audit: unrecognized option '--bogus'"
	assert_equal "${stderr_lines[1]}" "usage: fd-audit [options] benford|duplicates|gaps|round|weekend|strata|ageing [FILE...]"
}

@test "missing, unexpected and unknown arguments are worded as getopt does, after the tool's name" {
	err() {  # expected first line, then the command
		local want=$1
		shift
		run --separate-stderr "$@"
		[ "$status" -eq 2 ] || { echo "$*: exit $status"; return 1; }
		assert_equal "${stderr_lines[0]}" "$want"
	}
	err "fd-features: option '--features' requires an argument" "$FD_BIN/fd-features" --features
	err "fd-features: option '--sort' doesn't allow an argument" "$FD_BIN/fd-features" --sort=yes
	err "fd-score: option requires an argument -- 'o'" "$FD_BIN/fd-score" -o
	err "fd-score: invalid option -- 'x'" "$FD_BIN/fd-score" -x
	err "fd-ingest: --currency 'usd' is not an ISO 4217 code (upper case, e.g. EUR)" "$FD_BIN/fd-ingest" --currency usd
	err "fd-features: --delimiter needs one character other than a quote or newline, or 'tab', not ';;'" \
		"$FD_BIN/fd-features" --delimiter ';;'
	err "fd-score: --map needs a file name or a preset" "$FD_BIN/fd-score" --map ''
	err "fd-features: --output needs a file name" "$FD_BIN/fd-features" -o ''
	err "fd-graph: --output needs a file name" "$FD_BIN/fd-graph" stats -o ''
	err "fd-graph: option '--save' doesn't allow an argument" "$FD_BIN/fd-graph" stats --save=yes
	err "fd-graph: option '--depth' requires an argument" "$FD_BIN/fd-graph" neighbors C1 --depth
	err "fd-rules: --currency 'eur' is not an ISO 4217 code (upper case, e.g. EUR)" "$FD_BIN/fd-rules" --currency eur
	err "fd-rules: option '--sort' doesn't allow an argument" "$FD_BIN/fd-rules" backtest --sort=1
	err "fd-rules: option '--from' requires an argument" "$FD_BIN/fd-rules" list add L --from
	err "fd-case: option '--store' requires an argument" "$FD_BIN/fd-case" --store
	err "fd-case: option '--desc' doesn't allow an argument" "$FD_BIN/fd-case" list --desc=yes
	err "fd-case: option requires an argument -- 'o'" "$FD_BIN/fd-case" report 1 -o
	err "fd-train: --delimiter needs one character other than a quote or newline, or 'tab', not ';;'" \
		"$FD_BIN/fd-train" --delimiter ';;'
	err "fd-train: option '--promote' doesn't allow an argument" "$FD_BIN/fd-train" --promote=yes
	err "fd-train: --output needs a file name" "$FD_BIN/fd-train" -o ''
}

@test "a tool refuses the options of the groups it does not take" {
	refused() {  # the option, then the command before it
		local opt=$1
		shift
		run --separate-stderr "$@" "$opt" x
		[ "$status" -eq 2 ] || { echo "$* $opt: exit $status"; return 1; }
		assert_equal "${stderr_lines[0]}" "${1##*/}: unrecognized option '$opt'"
	}
	refused --store "$FD_BIN/fd-gen"
	refused --metrics "$FD_BIN/fd-gen"
	refused --map "$FD_BIN/fd-gen"
	refused --actor "$FD_BIN/fd-features"     # reads the store, never writes it
	refused --output "$FD_BIN/fd-ingest"      # its outputs are --rejects and --emit
	refused --excel-safe "$FD_BIN/fd-ingest"
	refused --strict "$FD_BIN/fd-audit" verify
	refused --map "$FD_BIN/fd-audit" log
	refused --actor "$FD_BIN/fd-audit" benford
	refused --progress "$FD_BIN/fd-graph" stats  # reads the store, no meter
	refused --map "$FD_BIN/fd-graph" stats
	refused --strict "$FD_BIN/fd-graph" stats
	refused --metrics "$FD_BIN/fd-rules" list show  # the lists have their own, smaller set
	refused --excel-safe "$FD_BIN/fd-rules" list show
	refused --map "$FD_BIN/fd-rules" list show
	refused --progress "$FD_BIN/fd-case"       # before the command
	refused --output "$FD_BIN/fd-case" list    # after it: only report writes a file (-o)
	refused --strict "$FD_BIN/fd-case" auto
	refused --dst "$FD_BIN/fd-train"          # it reads --map, --delimiter, --tz, --currency only
	refused --excel-safe "$FD_BIN/fd-train" eval
	[ ! -e x ] && [ ! -e fd.db ]
}

@test "every option a grouped tool's --help shows is in its man page" {
	for t in $(grouped); do
		help=$("$FD_BIN/$t" --help)
		[ "$t" = fd-audit ] && help+=$'\n'$("$FD_BIN/$t" benford --help)
		[ "$t" = fd-rules ] && help+=$'\n'$("$FD_BIN/$t" list --help)
		if [ "$t" = fd-case ]; then
			for c in create list show status assign note link related prioritize auto sla duplicates merge \
				user report dashboard; do
				help+=$'\n'$("$FD_BIN/$t" $c --help)
			done
		fi
		for o in $(grep -oE '^  (-[a-z], )?--[a-z][a-z0-9-]*' <<<"$help" | grep -oE -- '--[a-z0-9-]+$' | sort -u); do
			grep -qF -- "${o//-/\\-}" "$FD_ROOT/man/$t.1" || { echo "$t: $o not in man/$t.1"; false; }
		done
	done
}

@test "fd-case: a command's usage error shows the command's synopsis; the options before it still count" {
	run --separate-stderr "$FD_BIN/fd-case" merge 1 --bogus
	[ "$status" -eq 2 ]
	assert_equal "${stderr_lines[0]}" "fd-case: unrecognized option '--bogus'"
	assert_equal "${stderr_lines[1]}" "usage: fd-case merge KEEP DUP [--note TEXT]"
	# --store before the command is the store the command opens (it does not exist: exit 4 or so,
	# naming it), not ./fd.db
	run --separate-stderr "$FD_BIN/fd-case" --store "$BATS_TEST_TMPDIR/none/x.db" show 1
	[ "$status" -ne 0 ] && [ "$status" -ne 2 ]
	[[ $stderr == *"$BATS_TEST_TMPDIR/none/x.db"* ]] || { echo "$stderr"; false; }
	[ ! -e fd.db ]
}
