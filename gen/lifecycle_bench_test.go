package gen_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/bpfskel/bpfskel/runtime/bpfskeltest"
	"github.com/bpfskel/bpfskel/testdata/golden/hello"
)

// reportCPU reports the CPU time (user and system, from getrusage) per
// operation: on a busy machine wall-clock time mostly measures the other
// processes, CPU time what this one did.
func reportCPU(b *testing.B) func() {
	var start unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &start)
	return func() {
		var end unix.Rusage
		unix.Getrusage(unix.RUSAGE_SELF, &end)
		ns := func(tv unix.Timeval) int64 { return tv.Nano() }
		cpu := ns(end.Utime) - ns(start.Utime) + ns(end.Stime) - ns(start.Stime)
		b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkLoadClose compares, in one run, loading and closing the hello
// object through its skeleton (digest check, Open, typed settings, Load,
// binding every handle) with cilium/ebpf parsing and loading the same
// bytes (LoadCollectionSpecFromReader + NewCollection, what LoadCollection
// does with a file) and closing the collection.
func BenchmarkLoadClose(b *testing.B) {
	bpfskeltest.RequireKernel(b)
	obj, err := os.ReadFile("../testdata/golden/hello/hello.bpf.o")
	if err != nil {
		b.Fatal(err)
	}
	skeleton := func(b *testing.B) {
		skel, err := hello.Load(nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := skel.Close(); err != nil {
			b.Fatal(err)
		}
	}
	cilium := func(b *testing.B) {
		spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(obj))
		if err != nil {
			b.Fatal(err)
		}
		coll, err := ebpf.NewCollection(spec)
		if err != nil {
			b.Fatal(err)
		}
		coll.Close()
	}
	// Warm both paths up first: in an A/A check (cilium's path measured
	// before and after the skeleton's), whichever sub-benchmark ran first
	// in the process took 10% more CPU, a bias against the first one.
	for range 300 {
		skeleton(b)
		cilium(b)
	}
	b.Run("bpfskel-hello.Load", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			skeleton(b)
		}
	})
	b.Run("cilium-LoadCollection", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			cilium(b)
		}
	})
}
