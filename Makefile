# bpfskel
#
#   make setup        install the BPF toolchain (apt, when missing) and mount
#                     bpffs and tracefs: scripts/setup.sh --build
#   make objects      rebuild every *.bpf.o under examples/, testdata/golden/,
#                     runtime/*/testdata/ and testdata/realworld/ from its C,
#                     and the USDT tests' user-space target, byte for byte
#                     reproducibly (the real-world suite needs bpftool)
#   make generate     go generate, then rewrite the golden files (gen's, and
#                     the CLI's inspect output and error messages)
#   make test         go vet and go test, and the runtime's concurrency tests
#                     under -race (mounts what the kernel tests need)
#   make demo         run examples/hello (needs no compiler)
#   make check-stale  fail when committed objects or generated files are stale
#   make fuzz         fuzz btfmodel.Load, the generator, the runtime's Open and
#                     its decoders and USDT note parser, FUZZTIME each (default 60s)
#   make bench        map benchmarks: Go (bpfskel, cilium/ebpf, raw syscall)
#                     and the C libbpf references in one table
#   make bench-layouts typed vs raw single-element operations over several
#                     code layouts of the same source (LAYOUTS, ROUNDS)
#
# The committed .bpf.o files are built by `make objects` with the pinned
# compiler below; a different clang (even a different 19.x) may emit different
# bytes, which check-stale reports.

CLANG ?= clang-19
STRIP ?= llvm-strip-19
GO    ?= go

# Go lives in /usr/local/go/bin on the project's machines; a go already on
# PATH wins.
export PATH := $(PATH):/usr/local/go/bin

# Every BPF source. Each object is built next to its source, from inside its
# directory, so that no absolute path reaches the object: file names in
# BTF.ext line info are relative ("./x.bpf.c"), and the debug prefix map and
# compilation directory keep the build directory out of DWARF (which is then
# stripped anyway; BTF and BTF.ext stay).
BPF_SRCS := $(sort $(wildcard examples/*/*.bpf.c testdata/golden/*/*.bpf.c runtime/*/testdata/*.bpf.c))
BPF_OBJS := $(BPF_SRCS:.bpf.c=.bpf.o) $(REALWORLD_OBJS)

BPF_TARGET ?= bpf
BPF_CFLAGS ?= -g -O2 -D__TARGET_ARCH_x86 -Wall \
	-I/usr/include/x86_64-linux-gnu

# The real-world suite (testdata/realworld/README.md): programs written the
# way libbpf-tools and libbpf-bootstrap write them, several against a
# vmlinux.h of the running kernel.
REALWORLD_SRCS := $(sort $(wildcard testdata/realworld/*/*.bpf.c))
REALWORLD_OBJS := $(REALWORLD_SRCS:.bpf.c=.bpf.o) testdata/realworld/linked/linked.bpf.o
BPFTOOL ?= bpftool

# vmlinux.h is dumped from the running kernel's BTF into a gitignored file
# (2.8 MB, and a function of the kernel, not of this repository); the
# committed vmlinux.h.sha256 records which one the committed objects were
# built against, so `make check-stale` on another kernel reports that file
# as stale instead of only a wall of changed objects. The dump of one
# kernel is byte-for-byte stable, and the header is rewritten only when it
# changes.
VMLINUX_H := testdata/vmlinux/vmlinux.h
$(VMLINUX_H): FORCE
	@mkdir -p $(dir $@)
	@$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else echo "  VMLINUX $@"; mv -f $@.tmp $@; fi
	@cd $(dir $@) && sha256sum vmlinux.h > vmlinux.h.sha256

# Objects of the suite find vmlinux.h through a relative path, so that no
# absolute path reaches BTF.ext.
$(REALWORLD_OBJS): BPF_CFLAGS += -I../../vmlinux
$(REALWORLD_OBJS): | $(VMLINUX_H)

# Several C files linked into one object, as `bpftool gen object` does for
# projects that split their BPF code.
LINKED_PARTS := $(sort $(wildcard testdata/realworld/linked/parts/*.c))
testdata/realworld/linked/linked.bpf.o: $(LINKED_PARTS) FORCE | $(VMLINUX_H)
	@echo "  LINK    $@"
	@cd testdata/realworld/linked/parts && for c in $(notdir $(LINKED_PARTS)); do \
	  $(CLANG) -target $(BPF_TARGET) $(BPF_CFLAGS) -I../../../vmlinux \
	    -fdebug-prefix-map=$$PWD=. -fdebug-compilation-dir=. \
	    -c $$c -o $${c%.c}.tmp.o || exit 1; \
	done && \
	$(BPFTOOL) gen object ../linked.bpf.o.tmp $(patsubst %.c,%.tmp.o,$(notdir $(LINKED_PARTS))) && \
	rm -f *.tmp.o && \
	$(STRIP) --strip-debug ../linked.bpf.o.tmp -o ../linked.bpf.o.tmp2 && \
	rm -f ../linked.bpf.o.tmp && mv -f ../linked.bpf.o.tmp2 ../linked.bpf.o

# The user-space target of the runtime's USDT and uprobe tests: a program
# with <sys/sdt.h> probes (systemtap-sdt-dev), built by the pinned gcc,
# which places probe arguments in registers, stack slots and constants
# (clang-19 puts them all in memory). Built from inside its directory
# without -g, so no path reaches the binary; not stripped, so a uprobe can
# name its functions. Committed like the objects.
USER_CC ?= gcc-12
USDT_TARGET := runtime/bpfskel/testdata/usdt_target
$(USDT_TARGET): $(USDT_TARGET).c $(USDT_TARGET)_sema.c FORCE
	@echo "  CC      $@"
	@cd $(dir $@) && \
	  $(USER_CC) -O2 -Wall -o $(notdir $@).tmp $(notdir $@).c $(notdir $@)_sema.c && \
	  mv -f $(notdir $@).tmp $(notdir $@)

# The big-endian golden case: the same C, for a big-endian BPF target.
testdata/golden/bigendian/bigendian.bpf.o: BPF_TARGET = bpfeb
testdata/golden/layoutbe/layoutbe.bpf.o: BPF_TARGET = bpfeb

.PHONY: all objects setup demo generate test check-stale fuzz bench bench-layouts FORCE

all: objects

objects: $(BPF_OBJS) $(USDT_TARGET)

# FORCE: always rebuild. Sources include each other (testdata/golden/hello
# includes examples/hello) and a fresh clone has meaningless timestamps; the
# build takes a second.
%.bpf.o: %.bpf.c FORCE
	@echo "  BPF     $@"
	@cd $(dir $<) && \
	  $(CLANG) -target $(BPF_TARGET) $(BPF_CFLAGS) \
	    -fdebug-prefix-map=$$PWD=. -fdebug-compilation-dir=. \
	    -c $(notdir $<) -o $(notdir $@).tmp && \
	  $(STRIP) --strip-debug $(notdir $@).tmp -o $(notdir $@).tmp2 && \
	  rm -f $(notdir $@).tmp && \
	  mv -f $(notdir $@).tmp2 $(notdir $@)

FORCE:

setup:
	bash scripts/setup.sh --build

demo:
	bash scripts/setup.sh --runtime
	$(GO) run ./examples/hello

generate:
	$(GO) generate ./...
	$(GO) test ./gen -run 'TestGolden|TestRealWorld$$' -update
	$(GO) test ./cmd/bpfskel -run 'TestInspectGolden|TestErrorsGolden' -update

# The golden skeletons are compiled for 386 and s390x too; building the
# runtime for them first, with a line saying so, keeps a cold first run from
# sitting silent inside go test while the standard library compiles.
CROSS_GOARCHES := 386 s390x

test:
	bash scripts/setup.sh --runtime
	$(GO) vet ./... ./testdata/golden/... ./testdata/realworld/...
	@for arch in $(CROSS_GOARCHES); do \
	  echo "test: compiling the runtime for GOARCH=$$arch (slow only the first time)"; \
	  GOOS=linux GOARCH=$$arch $(GO) build ./runtime/... || exit 1; \
	done
	@echo "test: compiling the runtime for GOOS=darwin (its non-Linux stubs; slow only the first time)"
	GOOS=darwin $(GO) build ./runtime/...
	@echo "test: go test -count=1 ./... (kernel tests, golden files, and end-to-end tests that build modules: minutes on a busy machine)"
	$(GO) test -count=1 ./...
	$(GO) test -race -count=1 -run 'Concurrent' ./runtime/...

# Rebuild the objects and regenerate everything, then require a clean tree.
check-stale:
	$(MAKE) --no-print-directory objects generate
	@stale="$$(git status --porcelain -- .)"; \
	if [ -n "$$stale" ]; then \
	  echo "check-stale: these files differ from what the build produces:"; \
	  echo "$$stale"; \
	  git --no-pager diff --stat -- .; \
	  echo "check-stale: FAIL: committed objects or generated files are stale;"; \
	  echo "check-stale: run 'make objects generate' and commit the result."; \
	  exit 1; \
	fi; \
	echo "check-stale: objects and generated files are up to date"

# Any bytes as an object: an error or a skeleton that parses, never a panic.
# Minimising each new input is capped: with the default (60s of a large
# object) the fuzzer spends its whole time minimising.
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzGenerate$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1x ./gen
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeGenerated$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1x ./gen
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1x ./btfmodel
	$(GO) test -run '^$$' -fuzz '^FuzzOpen$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1x ./runtime/bpfskel
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1x ./runtime/bpfskel
	$(GO) test -run '^$$' -fuzz '^FuzzBits$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1x ./runtime/bpfskel
	$(GO) test -run '^$$' -fuzz '^FuzzUSDTNotes$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1x ./runtime/bpfskel

# Go and C map benchmarks side by side (scripts/bench.sh; BENCH, BENCH_COUNT
# and BENCHTIME narrow or lengthen the run).
bench:
	bash scripts/bench.sh

# BenchmarkPaired over several builds whose code is laid out differently
# (scripts/bench-layouts.sh; LAYOUTS, ROUNDS and BENCHTIME).
bench-layouts:
	bash scripts/bench-layouts.sh
