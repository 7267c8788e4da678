//go:build linux

package bpfskel

import (
	"testing"

	"golang.org/x/sys/unix"
)

// processCPU is the CPU time the process has used, user and system, in
// nanoseconds, and the user part of it.
func processCPU(tb testing.TB) (total, user int64) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano(), ru.Utime.Nano()
}

// reportCPU adds a cpu-ns/op metric to a benchmark: the process's CPU time
// per iteration, garbage collection included. On a machine shared with
// other load, wall time (ns/op) counts the time the benchmark waited for a
// CPU; CPU time does not, so scripts/bench.sh computes its ratios from it.
// Use as the first statement of a benchmark: defer reportCPU(b)().
func reportCPU(b *testing.B) func() { return reportCPUPerEntry(b, 0) }

// reportCPUPerEntry is reportCPU for a benchmark whose iteration walks
// entries entries: it also reports cpu-ns/entry.
func reportCPUPerEntry(b *testing.B, entries int) func() {
	start, startUser := processCPU(b)
	return func() {
		if b.N == 0 {
			return
		}
		end, endUser := processCPU(b)
		perOp := float64(end-start) / float64(b.N)
		b.ReportMetric(perOp, "cpu-ns/op")
		// The user-space part: what a handle adds to a system call shows
		// here without the kernel's share of the noise (the kernel does
		// the same work for every implementation of an operation).
		b.ReportMetric(float64(endUser-startUser)/float64(b.N), "user-ns/op")
		if entries > 0 {
			b.ReportMetric(perOp/float64(entries), "cpu-ns/entry")
		}
	}
}
