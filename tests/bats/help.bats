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
