//go:build linux

package bpfskel

import (
	"runtime"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BenchmarkCloseGuard measures what every typed map operation adds for
// Close safety (Collection.enter and exit), alone, without a system call,
// uncontended and with every CPU entering at once.
func BenchmarkCloseGuard(b *testing.B) {
	c := &Collection{}
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if !c.enter() {
				b.Fatal("closed")
			}
			c.exit()
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !c.enter() {
					b.Fatal("closed")
				}
				c.exit()
			}
		})
	})
}

// BenchmarkTypedVsRaw compares the typed Lookup and Update with the raw
// bpf(2) syscall on the same map, alternating blocks of each so that both
// see the same load on a shared machine (separate benchmarks run minutes
// apart there and differ by 2x for reasons of their own). Each block is
// timed in CPU time of the benchmark's thread, which leaves out the time
// spent waiting for a CPU. It reports both costs and their ratio, whose
// target is 1.05 or less.
func BenchmarkTypedVsRaw(b *testing.B) {
	requireRawAttr(b)
	m := setupBench(b)
	const block = 64
	run := func(b *testing.B, typed, raw func()) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cpu := func() time.Duration {
			var ts unix.Timespec
			if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
				b.Fatal(err)
			}
			return time.Duration(ts.Nano())
		}
		var typedTime, rawTime time.Duration
		n := 0
		for n < b.N {
			t0 := cpu()
			for range block {
				typed()
			}
			t1 := cpu()
			for range block {
				raw()
			}
			typedTime += t1 - t0
			rawTime += cpu() - t1
			n += block
		}
		b.ReportMetric(float64(typedTime.Nanoseconds())/float64(n), "typed-cpu-ns/op")
		b.ReportMetric(float64(rawTime.Nanoseconds())/float64(n), "raw-cpu-ns/op")
		b.ReportMetric(float64(typedTime)/float64(rawTime), "typed/raw")
	}
	fd := m.hash.Map().FD()
	key := hashKey{Pid: 3}
	b.Run("hash/Lookup", func(b *testing.B) {
		run(b, func() {
			if _, err := m.hash.Lookup(key); err != nil {
				b.Fatal(err)
			}
		}, func() {
			k := key
			var v val24
			if errno := rawMapElem(unix.BPF_MAP_LOOKUP_ELEM, fd, unsafe.Pointer(&k), unsafe.Pointer(&v), 0); errno != 0 {
				b.Fatal(errno)
			}
		})
	})
	b.Run("hash/Update", func(b *testing.B) {
		value := val24{A: 5}
		run(b, func() {
			if err := m.hash.Update(key, value, UpdateAny); err != nil {
				b.Fatal(err)
			}
		}, func() {
			k, v := key, value
			if errno := rawMapElem(unix.BPF_MAP_UPDATE_ELEM, fd, unsafe.Pointer(&k), unsafe.Pointer(&v), 0); errno != 0 {
				b.Fatal(errno)
			}
		})
	})
	afd := m.arr.Map().FD()
	b.Run("array/Lookup", func(b *testing.B) {
		run(b, func() {
			if _, err := m.arr.Lookup(3); err != nil {
				b.Fatal(err)
			}
		}, func() {
			k := uint32(3)
			var v val24
			if errno := rawMapElem(unix.BPF_MAP_LOOKUP_ELEM, afd, unsafe.Pointer(&k), unsafe.Pointer(&v), 0); errno != 0 {
				b.Fatal(errno)
			}
		})
	})
}
