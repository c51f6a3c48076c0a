# trig — the trigger compiler (trigc) and its runtime (libtrig).
#
# One non-recursive Makefile.  Objects go to build/ (build/sanitize/ with
# SANITIZE=..., build/fuzz/ for the fuzzers); quiet by default, V=1 shows
# every command.  Anything that changes the flags rebuilds what they touch.
#
#   make                     trigc, libtrig.a and trig.h in build/{bin,lib,include}
#   make check               unit, golden, end-to-end tests; builds every example
#   make check SANITIZE=address,undefined
#   make check-all           what CI runs: check, then check under ASan + UBSan
#   make fuzz [FUZZ_TIME=60] build the libFuzzer targets with clang and run each
#   make bench               the benchmarks of bench/ (see bench/README.md)
#   make bench-webhook       webhook throughput against adnanh/webhook
#   make bench-json          the JSON extractor against a DOM parse (jansson)
#   make demo                build the nightly-training example and serve it
#   make install [PREFIX=/usr/local] [DESTDIR=]
#
# Missing Debian packages are installed by scripts/install-deps.sh, which
# the first build runs (it does nothing when they are all present).

VERSION    := 0.1.0

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/trig

CC         ?= cc
RE2C       ?= re2c
BISON      ?= bison
PKG_CONFIG ?= pkg-config
AR         ?= ar
INSTALL    ?= install

CFLAGS     ?= -O2 -g
WERROR     ?= -Werror
WARNINGS   := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wformat=2 -Wvla -Wno-format-nonliteral $(WERROR)
STD        := -std=c11 -D_GNU_SOURCE -pthread

ifeq ($(SANITIZE),)
B          ?= build
SAN_FLAGS  :=
else
B          ?= build/sanitize
SAN_FLAGS  := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-7s %s\n' $(1) $(2);
endif

# pkg-config is queried lazily (=, not :=): `make deps` must work before
# the packages that pkg-config describes are installed.
PKGS_RUNTIME = libmicrohttpd libcurl libcrypto
PKGS_TRIGC   = yaml-0.1
LIBS_RUNTIME = $(shell $(PKG_CONFIG) --libs $(PKGS_RUNTIME)) -pthread -lm
LIBS_TRIGC   = $(shell $(PKG_CONFIG) --libs $(PKGS_TRIGC))
LIBS_CHECK   = $(shell $(PKG_CONFIG) --libs check)
CPPFLAGS_PKG = $(shell $(PKG_CONFIG) --cflags $(PKGS_RUNTIME) $(PKGS_TRIGC))

ALL_CFLAGS  = $(STD) $(CFLAGS) $(SAN_FLAGS) $(WARNINGS) $(CPPFLAGS) $(CPPFLAGS_PKG) \
              -Iruntime/include -iquote runtime -iquote compiler -iquote $(B)/gen -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SAN_FLAGS) -pthread

# What trigc passes to cc when it links a generated program: the runtime's
# own sanitizer flags (an instrumented libtrig.a needs them at link time)
# and the libraries libtrig.a depends on.
TRIGC_DEFS = -DTRIGC_VERSION='"$(VERSION)"' \
             -DTRIGC_RUNTIME_CFLAGS='"$(SAN_FLAGS)"' \
             -DTRIGC_RUNTIME_LIBS='"$(LIBS_RUNTIME)"'

# ---------------------------------------------------------------- sources
RUNTIME_C   := $(wildcard runtime/*.c)
RUNTIME_RE  := $(wildcard runtime/*.re)
COMPILER_C  := $(filter-out compiler/main.c,$(wildcard compiler/*.c))
UNIT_C      := $(wildcard tests/unit/test_*.c)
FUZZ_C      := $(wildcard tests/fuzz/fuzz_*.c)

RUNTIME_OBJ  := $(RUNTIME_C:%.c=$(B)/%.o) $(RUNTIME_RE:%.re=$(B)/gen/%.o)
GRAMMAR_OBJ  := $(B)/gen/grammar/trig_lex.o $(B)/gen/grammar/trig_parse.o
COMPILER_OBJ := $(COMPILER_C:%.c=$(B)/%.o) $(GRAMMAR_OBJ)
UNIT_BIN     := $(UNIT_C:tests/unit/%.c=$(B)/tests/unit/%)

LIBTRIG  := $(B)/lib/libtrig.a
LIBTRIGC := $(B)/lib/libtrigc.a
TRIGC    := $(B)/bin/trigc
TRIG_H   := $(B)/include/trig.h

.PHONY: all check check-all unit compile-tests e2e examples fuzz fuzz-build \
        bench bench-webhook bench-json bench-pipeline bench-launches demo install uninstall clean deps FORCE
.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:
.SECONDARY:

all: $(TRIGC) $(LIBTRIG) $(TRIG_H)

# ------------------------------------------------------- set-up and flags
# The first build of a tree installs missing Debian packages.
$(B)/.deps-ok: scripts/install-deps.sh
	$(Q)sh scripts/install-deps.sh
	$(Q)mkdir -p $(@D) && touch $@
deps:
	$(Q)sh scripts/install-deps.sh

# Rebuild everything a flag change touches (git's GIT-CFLAGS idea).
FLAGS_NOW = $(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(TRIGC_DEFS)
$(B)/.flags: FORCE | $(B)/.deps-ok
	$(Q)mkdir -p $(@D); echo '$(FLAGS_NOW)' | cmp -s - $@ || echo '$(FLAGS_NOW)' > $@

# ---------------------------------------------------------------- compile
$(B)/%.o: %.c $(B)/.flags | $(B)/.deps-ok
	$(call say,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/compiler/%.o: ALL_CFLAGS += $(TRIGC_DEFS)
$(B)/runtime/%.o: ALL_CFLAGS += -DTRIG_VERSION='"$(VERSION)"'

# re2c and bison output: generated C goes to build/gen, compiled with the
# same warnings (re2c output is clean; bison's needs two relaxed).
$(B)/gen/runtime/%.c: runtime/%.re | $(B)/.deps-ok
	$(call say,RE2C,$@)
	$(Q)mkdir -p $(@D) && $(RE2C) -W --no-generation-date --no-version -o $@ $<
$(B)/gen/grammar/trig_lex.c: grammar/trig.re $(B)/gen/grammar/trig_parse.c | $(B)/.deps-ok
	$(call say,RE2C,$@)
	$(Q)mkdir -p $(@D) && $(RE2C) -W --no-generation-date --no-version -o $@ $<
$(B)/gen/grammar/trig_parse.c: grammar/trig.y | $(B)/.deps-ok
	$(call say,BISON,$@)
	$(Q)mkdir -p $(@D) && $(BISON) -Wall -Werror --header=$(B)/gen/grammar/trig_parse.h -o $@ $<
$(B)/gen/grammar/trig_parse.h: $(B)/gen/grammar/trig_parse.c ;

$(B)/gen/%.o: $(B)/gen/%.c $(B)/.flags
	$(call say,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -iquote $(dir $*) -iquote $(B)/gen/grammar -c -o $@ $<
$(B)/gen/grammar/%.o: ALL_CFLAGS += -Wno-unused-parameter -Wno-missing-prototypes

# Compiler objects that include the parser header must wait for it.
$(COMPILER_C:%.c=$(B)/%.o): | $(B)/gen/grammar/trig_parse.h

# ---------------------------------------------------------------- link
$(LIBTRIG): $(RUNTIME_OBJ)
	$(call say,AR,$@)
	$(Q)mkdir -p $(@D) && rm -f $@ && $(AR) rcs $@ $^

$(LIBTRIGC): $(COMPILER_OBJ)
	$(call say,AR,$@)
	$(Q)mkdir -p $(@D) && rm -f $@ && $(AR) rcs $@ $^

$(TRIG_H): runtime/include/trig.h
	$(Q)mkdir -p $(@D) && cp $< $@

# trigc links the runtime's pure modules (cron, time zones, durations):
# the static library contributes only the objects it references.
$(TRIGC): $(B)/compiler/main.o $(LIBTRIGC) $(LIBTRIG)
	$(call say,LD,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_TRIGC) $(LIBS_RUNTIME)

# ---------------------------------------------------------------- tests
$(B)/tests/unit/%: tests/unit/%.c tests/unit/unit.h $(LIBTRIGC) $(LIBTRIG) $(B)/.flags
	$(call say,LD,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) -iquote tests/unit $(ALL_LDFLAGS) -o $@ $< \
		$(LIBTRIGC) $(LIBTRIG) $(LIBS_CHECK) $(LIBS_TRIGC) $(LIBS_RUNTIME)

# The shared test data and tools (SPEC.md, testdata/, bench/): ../shared
# beside this tree or, for a clone made elsewhere (git clone ~/trig /tmp/x),
# beside the repository it was cloned from.  SHARED=DIR says where.
ifeq ($(origin SHARED),undefined)
SHARED := $(abspath $(firstword $(wildcard $(abspath ../shared)) \
	$(wildcard $(shell git config --get remote.origin.url 2>/dev/null | \
		sed -n 's|^\(/.*[^/]\)/*$$|\1/../shared|p')) ../shared))
endif

# Environment of every test: where the shared test data and tools live.
TEST_ENV = TRIG_BUILD=$(abspath $(B)) TRIGC=$(abspath $(TRIGC)) \
           TRIG_SHARED=$(abspath $(SHARED)) TRIG_SRC=$(CURDIR) \
           TZDIR=/usr/share/zoneinfo CK_DEFAULT_TIMEOUT=60

unit: $(UNIT_BIN)
	$(Q)fail=0; for t in $(UNIT_BIN); do \
		$(TEST_ENV) CK_VERBOSITY=normal $$t || fail=1; done; exit $$fail

compile-tests: all
	$(Q)$(TEST_ENV) sh tests/compile/run.sh

e2e: all
	$(Q)$(TEST_ENV) sh tests/e2e/run.sh

EXAMPLES := $(patsubst examples/%/,%,$(sort $(dir $(wildcard examples/*/*.trig examples/*/*.yaml))))
examples: all
	$(Q)for e in $(EXAMPLES); do \
		printf '  %-7s %s\n' EXAMPLE $$e; \
		$(TEST_ENV) sh tests/build-example.sh $$e || exit 1; done

check: unit compile-tests e2e examples
	@echo "make check: all tests passed$(if $(SANITIZE), (SANITIZE=$(SANITIZE)))"

check-all:
	$(MAKE) check
	$(MAKE) check SANITIZE=address,undefined
	$(MAKE) fuzz-smoke

# ---------------------------------------------------------------- fuzzing
# libFuzzer needs clang.  The targets link the same sources, built again
# with coverage instrumentation in build/fuzz.
FUZZ_TIME ?= 60
FUZZ_B    := build/fuzz
FUZZ_BIN   = $(FUZZ_C:tests/fuzz/%.c=$(FUZZ_B)/%)

fuzz-build:
	$(Q)$(MAKE) --no-print-directory B=$(FUZZ_B) CC=clang \
		SANITIZE=address,undefined CFLAGS='-O1 -g -fsanitize=fuzzer-no-link' \
		$(FUZZ_BIN)

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c $(LIBTRIGC) $(LIBTRIG)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(ALL_LDFLAGS) -o $@ $< \
		$(LIBTRIGC) $(LIBTRIG) $(LIBS_TRIGC) $(LIBS_RUNTIME)

# make fuzz: run every target FUZZ_TIME seconds from its seed corpus.
fuzz: fuzz-build
	$(Q)FUZZ_TIME=$(FUZZ_TIME) sh tests/fuzz/run.sh $(FUZZ_B)

# make fuzz-smoke: replay the committed corpora and fuzz a few seconds each.
fuzz-smoke: fuzz-build
	$(Q)FUZZ_TIME=5 sh tests/fuzz/run.sh $(FUZZ_B)

# ---------------------------------------------------------------- other
BENCH_BIN := $(B)/bench/nextfire

$(B)/bench/%: bench/%.c $(LIBTRIG) $(B)/.flags
	$(call say,LD,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBTRIG) $(LIBS_RUNTIME)

bench: all $(BENCH_BIN)
	$(Q)$(TEST_ENV) sh bench/run.sh

# Webhooks against adnanh/webhook, side by side (wrk; see bench/README.md).
bench-webhook: all
	$(Q)$(TEST_ENV) SHARED=$(abspath $(SHARED)) sh bench/webhook.sh

# Journalled launches per second and fsyncs per launch at 32 clients, and
# memory with 10,000 launches queued (bench/launches.sh).
bench-launches: all
	$(Q)$(TEST_ENV) sh bench/launches.sh

# The pipeline runner's scheduling overhead per node (bench/pipeline.c).
bench-pipeline: all $(B)/bench/pipeline
	$(Q)$(TEST_ENV) $(B)/bench/pipeline 100 5

# The one-pass JSON extractor against jansson's DOM (bench/jsonextract.c).
bench-json: all
	$(Q)$(TEST_ENV) SHARED=$(abspath $(SHARED)) sh bench/json.sh

# The nightly-training example: build it, train once now, then serve its
# schedule until Ctrl-C.  Its state folder is examples/nightly-training/.trig-state.
DEMO := $(abspath $(B))/examples/nightly-training/mnist
demo: all
	$(Q)$(TEST_ENV) sh tests/build-example.sh nightly-training
	$(Q)cd examples/nightly-training && $(DEMO) list && echo && \
		$(DEMO) fire nightly && $(DEMO) executions && echo && \
		exec $(DEMO) serve

MAN1 := docs/man/trigc.1 docs/man/trig-program.1
MAN5 := docs/man/trig.5

install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 755 $(TRIGC) $(DESTDIR)$(BINDIR)/trigc
	$(INSTALL) -m 644 $(LIBTRIG) $(DESTDIR)$(LIBDIR)/libtrig.a
	$(INSTALL) -m 644 runtime/include/trig.h $(DESTDIR)$(INCLUDEDIR)/trig.h
	$(INSTALL) -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 644 README.md LICENSE docs/*.md $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/trigc $(DESTDIR)$(LIBDIR)/libtrig.a \
		$(DESTDIR)$(INCLUDEDIR)/trig.h \
		$(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5)))
	rm -rf $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build

FORCE:

-include $(shell find $(B) -name '*.d' 2>/dev/null)
