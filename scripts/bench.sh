#!/usr/bin/env bash
# bench.sh: run the map benchmarks of runtime/bpfskel and every C reference
# program under runtime/bpfskel/testdata/bench/ (one program per .c file,
# built with -lbpf, printing Go benchmark lines), then print one table: for
# each operation and map kind, every implementation's ns/op and allocs/op
# and its ratio to the raw Go syscall (raw-syscall) and to C (libbpf-c).
#
# The machine is shared: the whole set runs BENCH_COUNT rounds, Go and C
# interleaved (each C measurement repeats 5 times a round), and the table
# keeps each benchmark's fastest run, the one least disturbed by other
# load. Both report wall time (ns/op) and the process's
# CPU time (cpu-ns/op); the ratios use CPU time, which does not count the
# time spent waiting for a CPU. Beside the fastest runs, the table gives
# for each Go benchmark that has a raw-syscall sibling the median over
# rounds of the ratio of their CPU times in the same round ("x raw med",
# the steadier of the two ratios), and the median user-space CPU time per
# op (user-ns/op), where a handle's own cost shows without the kernel's
# noise. Go runs with GOMAXPROCS=1 (-cpu 1), so
# that an idle second P spinning for work does not add to its CPU time.
# A second table gives BenchmarkPaired, which times typed and raw calls in
# alternating blocks on one thread: the ratio least disturbed by the
# machine's load. The raw output is kept in $BENCH_OUT when
# set.
#
#   BENCH=Lookup BENCH_COUNT=10 BENCHTIME=300ms scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
CC=${CC:-cc}
BENCH=${BENCH:-.}
BENCH_COUNT=${BENCH_COUNT:-6}
BENCHTIME=${BENCHTIME:-200ms}

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== go test -c ./runtime/bpfskel" >&2
"$GO" test -c -o "$out/bpfskel.test" ./runtime/bpfskel
cprogs=()
for src in runtime/bpfskel/testdata/bench/*.c; do
	[ -e "$src" ] || continue
	bin="$out/$(basename "$src" .c)"
	echo "== $CC $src -lbpf" >&2
	"$CC" -O2 -Wall -o "$bin" "$src" -lbpf
	cprogs+=("$bin")
done

# Rounds interleave every implementation, Go and C, over the whole run, so
# that a change in the machine's load hits them alike.
for round in $(seq "$BENCH_COUNT"); do
	echo "== round $round of $BENCH_COUNT: -bench '$BENCH' -benchtime $BENCHTIME, and ${#cprogs[@]} C program(s)" >&2
	(cd runtime/bpfskel && "$out/bpfskel.test" -test.run '^$' -test.bench "$BENCH" -test.benchmem \
		-test.cpu 1 -test.count 1 -test.benchtime "$BENCHTIME") >>"$out/go.txt"
	for bin in "${cprogs[@]}"; do
		"$bin" >>"$out/c.txt"
	done
done

if [ -n "${BENCH_OUT:-}" ]; then
	cat "$out/go.txt" "$out/c.txt" >"$BENCH_OUT"
fi

touch "$out/c.txt"
cat "$out/go.txt" "$out/c.txt" | awk '
/^BenchmarkPaired\// {
	name = $1
	sub(/-[0-9]+$/, "", name)
	name = substr(name, length("BenchmarkPaired/") + 1)
	x = ""; tn = ""; rn = ""
	for (i = 3; i < NF; i++) {
		if ($(i+1) == "x-raw-paired") x = $i
		if ($(i+1) == "typed-cpu-ns/op") tn = $i
		if ($(i+1) == "raw-cpu-ns/op") rn = $i
	}
	if (x == "") next
	if (!(name in pn)) porder[++np] = name
	pn[name]++
	pairX[name, pn[name]] = x; pairT[name, pn[name]] = tn; pairR[name, pn[name]] = rn
	next
}
/^Benchmark/ {
	name = $1
	sub(/-[0-9]+$/, "", name)          # Go appends -GOMAXPROCS
	ns = ""; cpu = ""; pe = ""; allocs = ""; usr = ""
	for (i = 3; i < NF; i++) {
		if ($(i+1) == "ns/op") ns = $i
		if ($(i+1) == "cpu-ns/op") cpu = $i
		if ($(i+1) == "cpu-ns/entry") pe = $i
		if ($(i+1) == "allocs/op") allocs = $i
		if ($(i+1) == "user-ns/op") usr = $i
	}
	if (ns == "") next
	if (cpu == "") cpu = ns
	if (!(name in wall) || ns + 0 < wall[name] + 0) wall[name] = ns
	if (!(name in best) || cpu + 0 < best[name] + 0) { best[name] = cpu; entry[name] = pe }
	if (!(name in al) || allocs + 0 > al[name] + 0) al[name] = allocs
	# Every run, in order: run k of each benchmark is from round k.
	runs[name] = runs[name] + 1; cpuRun[name, runs[name]] = cpu
	if (usr != "") { nu[name] = nu[name] + 1; usrRun[name, nu[name]] = usr }
	n = split(name, parts, "/")
	impl = parts[n]
	group = substr(name, 1, length(name) - length(impl) - 1)
	if (!(group in seen)) { seen[group] = 1; groups[++ng] = group }
	if (!((group, impl) in listed)) { listed[group, impl] = 1; impls[group] = impls[group] " " impl }
}
function median(arr, n,    i, j, t) {
	for (i = 2; i <= n; i++) for (j = i; j > 1 && arr[j-1] + 0 > arr[j] + 0; j--) { t = arr[j]; arr[j] = arr[j-1]; arr[j-1] = t }
	return n % 2 ? arr[(n+1)/2] : (arr[n/2] + arr[n/2+1]) / 2
}
END {
	printf "%-30s %-15s %11s %11s %13s %10s %7s %7s %9s %10s\n", "benchmark", "impl", "ns/op", "cpu-ns/op", "cpu-ns/entry", "allocs/op", "x raw", "x C", "x raw med", "user-ns/op"
	for (g = 1; g <= ng; g++) {
		group = groups[g]
		raw = best[group "/raw-syscall"]; c = best[group "/libbpf-c"]
		m = split(impls[group], list, " ")
		for (j = 1; j <= m; j++) {
			name = group "/" list[j]
			xr = raw != "" ? sprintf("%.2f", best[name] / raw) : "-"
			xc = c != "" ? sprintf("%.2f", best[name] / c) : "-"
			# The median over rounds of the CPU time of this run over that of raw-syscall
			# in the same round: pairs share the load of the moment.
			xm = "-"; rawName = group "/raw-syscall"
			if (rawName in runs && runs[rawName] == runs[name]) {
				delete pr
				for (k = 1; k <= runs[name]; k++) pr[k] = cpuRun[name, k] / cpuRun[rawName, k]
				xm = sprintf("%.3f", median(pr, runs[name]))
			}
			um = "-"
			if (nu[name] > 0) {
				delete pu
				for (k = 1; k <= nu[name]; k++) pu[k] = usrRun[name, k]
				um = sprintf("%.1f", median(pu, nu[name]))
			}
			printf "%-30s %-15s %11.1f %11.1f %13s %10s %7s %7s %9s %10s\n", substr(group, 10), list[j], wall[name], best[name], entry[name] == "" ? "-" : entry[name], al[name], xr, xc, xm, um
		}
	}
	print ""
	print "ns/op: wall time; cpu-ns/op: CPU time of the process (garbage collection included),"
	print "the fastest of all runs each (a benchmark that reports no cpu-ns/op shows its ns/op there)."
	print "Ratios (x raw: to raw-syscall, x C: to libbpf-c) use the cpu-ns/op column."
	print "x raw med: the median over rounds of the CPU time of each round over that of raw-syscall in that"
	print "round. user-ns/op: the median user-space CPU time (the work of the kernel is the same for"
	print "every implementation of an operation, so this is where they differ)."
	if (np == 0) exit
	print ""
	print "Typed handle vs raw syscall in alternating blocks on one thread (BenchmarkPaired):"
	printf "%-24s %10s %17s %14s %14s\n", "operation", "x raw", "range of rounds", "typed cpu-ns", "raw cpu-ns"
	for (j = 1; j <= np; j++) {
		name = porder[j]; n = pn[name]
		delete a; delete t; delete r
		lo = ""; hi = ""
		for (k = 1; k <= n; k++) {
			a[k] = pairX[name, k]; t[k] = pairT[name, k]; r[k] = pairR[name, k]
			if (lo == "" || a[k] + 0 < lo + 0) lo = a[k]
			if (hi == "" || a[k] + 0 > hi + 0) hi = a[k]
		}
		printf "%-24s %10.3f %8.3f - %-6.3f %14.1f %14.1f\n", name, median(a, n), lo, hi, median(t, n), median(r, n)
	}
	print ""
	print "x raw: the median over rounds of each round'"'"'s x-raw-paired, itself the median over pairs of"
	print "64-call blocks of the ratio of their thread CPU times; AA/hash measures the raw call against"
	print "itself, the harness'"'"'s own bias and noise. For single-element operations this is the steadier"
	print "ratio: the x raw med column above pairs runs 0.2 s apart and moved by +-0.03 between runs of"
	print "the same code. All rounds here run one build, one layout of the code; make bench-layouts"
	print "measures several."
}'
