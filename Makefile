# fd — forensic fraud-detection toolkit.  See README.md.
#
#   make            build every tool into bin/ (installs nothing: see make setup)
#   make setup      install the Debian packages the build and the tests need (scripts/setup.sh)
#   make test       set up, build and run the whole suite (ends with "N passed, N failed")
#   make demo       generate data and run the pipeline on it
#   make bench      benchmarks (1M generated transactions)
#   make models     rebuild models/default.fdm reproducibly
#   make eval       fd's layers next to scikit-learn references on third-party data
#   make check-headers    every header of lib/ compiles on its own (part of make test)
#   make check-layers     no module of lib/ includes a header of a higher layer (io < store <
#                         detect < case/graph; the layers are listed in scripts/check-layers.sh)
#   make check-sanitize   the suite under ASan + UBSan
#   make fuzz       build the libFuzzer targets of tests/fuzz into build-fuzz/ (clang)
#   make check      make test, then each fuzz target for FUZZ_SECONDS (default 5) seconds
#   make install PREFIX=/usr/local

VERSION   := 0.1.0
PREFIX    ?= /usr/local
CC        ?= cc
OPT       ?= -O2
CFLAGS    ?= $(OPT) -g
WARN      := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wformat=2
CPPFLAGS  += -std=c11 -D_GNU_SOURCE -DFD_VERSION='"$(VERSION)"' -Ilib -Icmd
LDLIBS    += -lcsv -lsqlite3 -lzstd -lopenblas -ljansson -lsodium -lxgboost -lgomp -lm -lpthread
BUILD     ?= build
BIN       ?= bin

# SAN=1: AddressSanitizer and UndefinedBehaviorSanitizer (make check-sanitize sets it)
ifeq ($(SAN),1)
CFLAGS    := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS   += -fsanitize=address,undefined
endif

LIB_SRC   := $(sort $(wildcard lib/*.c))
LIB_OBJ   := $(LIB_SRC:lib/%.c=$(BUILD)/lib/%.o)
CLI_SRC   := $(filter-out cmd/fd-%.c,$(sort $(wildcard cmd/*.c)))
CLI_OBJ   := $(CLI_SRC:cmd/%.c=$(BUILD)/cmd/%.o)
TOOLS     := $(patsubst cmd/%.c,%,$(sort $(wildcard cmd/fd-*.c)))
TOOL_BIN  := $(TOOLS:%=$(BIN)/%)
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
MANPAGES  := $(sort $(wildcard man/*.[1-9]))

.PHONY: all setup check-headers check-layers test unit demo bench models eval check-sanitize fuzz check install uninstall clean lint-man

all: $(TOOL_BIN)

# Installs the Debian packages the build and the tests need; a no-op when all are present.
# The targets that need packages (test, demo, bench, models, eval, ...) run it first and only
# then build, through a recursive make: under make -j the set-up never races the compilation.
# `make -j2 clean test` cleans before anything is set up or built (CLEAN_FIRST).
CLEAN_FIRST := $(filter clean,$(MAKECMDGOALS))
SUBMAKE   := $(MAKE) --no-print-directory

setup: | $(CLEAN_FIRST)
	@scripts/setup.sh

$(BUILD)/lib/%.o: lib/%.c $(wildcard lib/*.h) | $(CLEAN_FIRST)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

$(BUILD)/cmd/%.o: cmd/%.c $(wildcard lib/*.h cmd/*.h) | $(CLEAN_FIRST)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

$(BUILD)/libfd.a: $(LIB_OBJ) | $(CLEAN_FIRST)
	@rm -f $@
	ar rcs $@ $^

$(BIN)/%: $(BUILD)/cmd/%.o $(CLI_OBJ) $(BUILD)/libfd.a | $(CLEAN_FIRST)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(CLI_OBJ) $(BUILD)/libfd.a $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libfd.a $(wildcard lib/*.h lib/*.c) | $(CLEAN_FIRST)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ $< $(BUILD)/libfd.a -lcmocka $(LDLIBS)

# Every header of lib/ compiles on its own, twice in a row (its include guard): it includes
# what it uses.  A stamp per header, so only changed headers are compiled again.
HEADERS   := $(sort $(wildcard lib/*.h))
HDR_OK    := $(HEADERS:lib/%.h=$(BUILD)/hdr/%.ok)

check-headers: $(HDR_OK)

$(BUILD)/hdr/%.ok: lib/%.h $(HEADERS) | $(CLEAN_FIRST)
	@mkdir -p $(@D)
	@printf '#include "%s"\n#include "%s"\n' $*.h $*.h | \
	  $(CC) $(CPPFLAGS) $(WARN) -Werror -fsyntax-only -x c - || { echo "check-headers: lib/$*.h does not compile on its own" >&2; exit 1; }
	@touch $@

# The layers of lib/, low to high: io (bytes, files, CSV/NDJSON, the transaction), store (the
# store, schema, audit chain, verifier, seals, roles, ingest), detect (features, rules, models,
# scoring), case (cases, reports, the graph).  A module includes only its own layer and those
# below; scripts/check-layers.sh names the layer of every module (a new one must be added).
check-layers:
	@scripts/check-layers.sh

unit: setup
	+@$(SUBMAKE) $(UNIT_BIN)

test: setup
	+@$(SUBMAKE) check-headers check-layers $(TOOL_BIN) $(UNIT_BIN)
	@FD_BIN=$(abspath $(BIN)) tests/run.sh $(UNIT_BIN)

demo: setup
	+@$(SUBMAKE) all
	@scripts/demo.sh

bench: setup
	+@$(SUBMAKE) all
	@scripts/bench.sh

models: setup
	+@$(SUBMAKE) all
	@scripts/models.sh

# A time split of ../shared/data/sparkov and of fd-gen data (models/README.md); not in make test.
eval: setup
	+@$(SUBMAKE) all
	@scripts/eval.sh

# The whole suite again under AddressSanitizer and UndefinedBehaviorSanitizer, in its own tree.
check-sanitize: setup
	+@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(SUBMAKE) BUILD=build-san BIN=build-san/bin SAN=1 test

# libFuzzer targets: the library again, built by clang with the fuzzer's coverage and ASan +
# UBSan, in its own tree; each tests/fuzz/fuzz_NAME.c becomes build-fuzz/fuzz_NAME.
FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 5
FUZZ_CFLAGS  := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)

$(FUZZ_BUILD)/lib/%.o: lib/%.c $(wildcard lib/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/libfd.a: $(LIB_SRC:lib/%.c=$(FUZZ_BUILD)/lib/%.o)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_BUILD)/libfd.a
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/libfd.a $(LDLIBS)

fuzz: setup
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz needs $(FUZZ_CC) (Debian: clang)" >&2; exit 4; }
	+@$(SUBMAKE) $(FUZZ_BIN)

# CI runs make test; make check adds a short run of every fuzz target.
check: test fuzz
	@scripts/fuzz-smoke.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_BIN)

lint-man:
	mandoc -Tlint -Wwarning $(MANPAGES)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7 $(DESTDIR)$(PREFIX)/share/fd
	install -m 755 $(TOOL_BIN) $(DESTDIR)$(PREFIX)/bin/
	install -m 755 scripts/nightly.sh $(DESTDIR)$(PREFIX)/bin/fd-nightly
	for m in $(MANPAGES); do s=$${m##*.}; install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/; done
	if [ -d models ] && ls models/*.fdm >/dev/null 2>&1; then install -m 644 models/*.fdm $(DESTDIR)$(PREFIX)/share/fd/; fi
	if ls rules/* >/dev/null 2>&1; then install -m 644 rules/* $(DESTDIR)$(PREFIX)/share/fd/; fi

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(PREFIX)/bin/$$t; done
	rm -f $(DESTDIR)$(PREFIX)/bin/fd-nightly
	for m in $(MANPAGES); do s=$${m##*.}; rm -f $(DESTDIR)$(PREFIX)/share/man/man$$s/$${m##*/}; done

clean:
	rm -rf $(BUILD) build-san $(FUZZ_BUILD) $(BIN)
