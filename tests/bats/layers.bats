#!/usr/bin/env bats
# make check-layers (scripts/check-layers.sh): passes on lib/ as it is, fails on an upward
# include and on a module no layer names.  Runs on a copy of lib/, never the tree itself.
load common

setup() {
	common_setup
	mkdir -p tree/scripts
	cp "$FD_ROOT/scripts/check-layers.sh" tree/scripts/
	cp -r "$FD_ROOT/lib" tree/lib
}

@test "check-layers: lib/ as it is passes" {
	run tree/scripts/check-layers.sh
	assert_success
	assert_output --partial "includes no higher layer"
}

@test "check-layers: an io module including a case header fails, naming both and their layers" {
	# fd_num (io) may not include fd_case.h (case)
	sed -i '0,/#include "fd_num.h"/s//#include "fd_num.h"\n#include "fd_case.h"/' tree/lib/fd_num.c
	grep -q '#include "fd_case.h"' tree/lib/fd_num.c
	run tree/scripts/check-layers.sh
	assert_failure 1
	assert_output --partial "lib/fd_num.c (io) includes fd_case.h (case), a higher layer"
}

@test "check-layers: a module in no layer fails, naming it" {
	printf '#include "fd_buf.h"\n' > tree/lib/fd_newthing.c
	run tree/scripts/check-layers.sh
	assert_failure 1
	assert_output --partial "lib/fd_newthing.c: module fd_newthing is in no layer"
}
