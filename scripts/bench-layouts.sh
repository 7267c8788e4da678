#!/usr/bin/env bash
# bench-layouts.sh: how far a typed handle's single-element operations are
# from the raw bpf(2) syscall, over several code layouts of the same
# source (BenchmarkPaired in runtime/bpfskel).
#
# On this project's VM every system call flushes the TLB (page-table
# isolation without PCID), and the cost of the user-space work around a
# system call changed with the build: the same source linked with a little
# more or less code elsewhere moved the typed/raw ratio of one operation by
# up to 0.04, which fits each page an operation touches being a TLB miss.
# One build measures one layout. This script builds LAYOUTS test binaries of the unchanged
# source, each with a padding function of a different size added through
# `go test -overlay` (the working tree is not touched), runs
# BenchmarkPaired ROUNDS times with each, interleaved, and prints per
# operation the mean of the x-raw-paired ratios with an approximate 95%
# interval (mean +- 2 standard errors), their median, and the lowest and
# highest single run.
#
#   LAYOUTS=6 ROUNDS=2 BENCHTIME=300ms scripts/bench-layouts.sh
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
LAYOUTS=${LAYOUTS:-6}
ROUNDS=${ROUNDS:-2}
BENCHTIME=${BENCHTIME:-300ms}

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
pkg=$(cd runtime/bpfskel && pwd)

for l in $(seq 0 $((LAYOUTS - 1))); do
	# Layout l: a function of l*53 comparisons, reachable from an init so
	# the linker keeps it, in a test file that sorts before the others.
	pad="$out/pad$l.go"
	awk -v n=$((l * 53)) 'BEGIN {
		print "//go:build linux\n\npackage bpfskel\n\nimport \"os\"\n\nvar layoutPadSink uint64\n"
		print "//go:noinline\nfunc layoutPad(x uint64) uint64 {"
		for (i = 0; i < n; i++) printf "\tif x == %d {\n\t\tlayoutPadSink += x * %d\n\t}\n", i * 7919 + 13, i + 3
		print "\treturn layoutPadSink\n}\n\nfunc init() { layoutPadSink = layoutPad(uint64(len(os.Args))) }"
	}' >"$pad"
	printf '{"Replace": {"%s/aaa_layout_pad_test.go": "%s"}}\n' "$pkg" "$pad" >"$out/overlay$l.json"
	echo "== layout $l: go test -c with $((l * 53)) padding branches" >&2
	"$GO" test -c -overlay "$out/overlay$l.json" -o "$out/layout$l.test" ./runtime/bpfskel
done

for r in $(seq "$ROUNDS"); do
	for l in $(seq 0 $((LAYOUTS - 1))); do
		echo "== round $r of $ROUNDS, layout $l" >&2
		(cd runtime/bpfskel && "$out/layout$l.test" -test.run '^$' -test.bench '^BenchmarkPaired$' \
			-test.cpu 1 -test.count 1 -test.benchtime "$BENCHTIME") | sed "s/^/layout$l /" >>"$out/paired.txt"
	done
done

awk '
$2 ~ /^BenchmarkPaired\// {
	name = $2
	sub(/-[0-9]+$/, "", name)
	name = substr(name, length("BenchmarkPaired/") + 1)
	for (i = 4; i < NF; i++) if ($(i+1) == "x-raw-paired") x = $i
	if (!(name in n)) order[++k] = name
	n[name]++; xs[name, n[name]] = x
}
END {
	printf "%-24s %5s %7s %19s %8s %7s %7s\n", "operation", "runs", "mean", "~95% interval", "median", "min", "max"
	for (j = 1; j <= k; j++) {
		name = order[j]; c = n[name]; s = 0; lo = ""; hi = ""
		delete v
		for (i = 1; i <= c; i++) {
			v[i] = xs[name, i] + 0; s += v[i]
			if (lo == "" || v[i] < lo) lo = v[i]
			if (hi == "" || v[i] > hi) hi = v[i]
		}
		mean = s / c; ss = 0
		for (i = 1; i <= c; i++) ss += (v[i] - mean) ^ 2
		se = c > 1 ? sqrt(ss / (c - 1)) / sqrt(c) : 0
		for (i = 2; i <= c; i++) for (m = i; m > 1 && v[m-1] > v[m]; m--) { t = v[m]; v[m] = v[m-1]; v[m-1] = t }
		med = c % 2 ? v[(c+1)/2] : (v[c/2] + v[c/2+1]) / 2
		printf "%-24s %5d %7.3f   [%.3f, %.3f] %8.3f %7.3f %7.3f\n", name, c, mean, mean - 2 * se, mean + 2 * se, med, lo, hi
	}
	print ""
	print "Each run: the median over pairs of 64-call blocks of the typed/raw ratio of their thread CPU"
	print "times (BenchmarkPaired). AA/hash is the raw call against itself."
}' "$out/paired.txt"
