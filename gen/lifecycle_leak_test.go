package gen_test

import (
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/bpfskel/bpfskel/runtime/bpfskeltest"
	"github.com/bpfskel/bpfskel/testdata/golden/lifecycle"
)

// countResources is bpfskeltest.CountResources, failing t on error.
func countResources(t *testing.T) bpfskeltest.Resources {
	t.Helper()
	r, err := bpfskeltest.CountResources()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// settle collects garbage until the resources are back to base (views
// unmap their address range in a cleanup, after the GC found them
// unreachable) or a few seconds passed, and returns what it saw last.
func settle(t *testing.T, base bpfskeltest.Resources) bpfskeltest.Resources {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		now := countResources(t)
		if (now.FDs <= base.FDs && now.BPFMappings <= base.BPFMappings && now.Goroutines <= base.Goroutines) || time.Now().After(deadline) {
			return now
		}
	}
}

// lifecycleCycle is one open → configure → load → mmap → attach → read →
// close cycle. The cgroup program is attached explicitly every time; with
// auto, Attach also attaches the syscall tracepoints (detaching those waits
// for RCU grace periods in the kernel, tens of milliseconds).
//
// It reports failures with t.Error only, so that it can run on several
// goroutines, and calls loaded, if not nil, while everything is open.
func lifecycleCycle(t *testing.T, cgroup string, auto bool, loaded func()) (ok bool) {
	spec, err := lifecycle.Open()
	if err != nil {
		t.Error(err)
		return false
	}
	spec.Rodata.TargetTgid = uint32(os.Getpid())
	p := &spec.Programs
	off := []interface{ SetAutoload(bool) }{p.TcCountPkts, p.Touch, p.UprobeManual, p.XdpCountPkts}
	if !auto {
		off = append(off, p.RawSysEnter, p.TpSysEnter)
	}
	for _, o := range off {
		o.SetAutoload(false)
	}
	skel, err := spec.Load(nil) // maps the sections: .bss, .data, .data.arr, .rodata
	if err != nil {
		t.Error(err)
		return false
	}
	defer func() {
		if err := skel.Close(); err != nil {
			t.Error(err)
			ok = false
		}
	}()
	if _, err := skel.Programs.CgroupEgress.AttachCgroup(cgroup); err != nil {
		t.Error(err)
		return false
	}
	if auto {
		if err := skel.Attach(); err != nil {
			t.Error(err)
			return false
		}
	}
	if _, err := skel.Bss.Get(0); err != nil {
		t.Error(err)
	}
	if got := skel.Data.DataMarker.Load(); got != 7 {
		t.Errorf("data_marker = %d, want 7", got)
	}
	if got := skel.Rodata.TargetTgid.Load(); got != uint32(os.Getpid()) {
		t.Errorf("target_tgid = %d, want %d", got, os.Getpid())
	}
	if loaded != nil {
		loaded()
	}
	return !t.Failed()
}

// TestLifecycleNoLeaks runs 1000 full lifecycles: file descriptors, BPF
// map mappings and goroutines must come back to where they started. The
// total number of mappings may grow a little with the Go heap and new OS
// threads, but a leak per cycle would add a thousand.
func TestLifecycleNoLeaks(t *testing.T) {
	bpfskeltest.RequireKernel(t)
	if testing.Short() {
		t.Skip("1000 load cycles; skipped with -short")
	}
	root := cgroup2Root(t) // the cycle attaches a cgroup program
	// Warm up caches (kernel BTF, feature probes), and check that the
	// counters see what a loaded skeleton holds.
	lifecycleCycle(t, root, true, func() {
		if r := countResources(t); r.BPFMappings < 4 {
			t.Errorf("a loaded lifecycle skeleton shows %d BPF map mappings, want its 4 sections", r.BPFMappings)
		}
	})
	base := settle(t, bpfskeltest.Resources{})
	// Four goroutines: most of a cycle is the kernel waiting for RCU grace
	// periods, which overlap.
	const cycles, workers = 1000, 4
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < cycles; i += workers {
				if !lifecycleCycle(t, root, i%50 == 0, nil) {
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	now := settle(t, base)
	if now.FDs > base.FDs || now.BPFMappings > base.BPFMappings || now.Goroutines > base.Goroutines || now.Mappings > base.Mappings+cycles/10 {
		t.Errorf("after %d open/load/mmap/attach/read/close cycles: %d fds (was %d), %d BPF map mappings (was %d), "+
			"%d mappings (was %d), %d goroutines (was %d)",
			cycles, now.FDs, base.FDs, now.BPFMappings, base.BPFMappings, now.Mappings, base.Mappings, now.Goroutines, base.Goroutines)
	}
	t.Logf("after %d cycles: %d fds (was %d), %d BPF map mappings (was %d), %d mappings (was %d), %d goroutines (was %d)",
		cycles, now.FDs, base.FDs, now.BPFMappings, base.BPFMappings, now.Mappings, base.Mappings, now.Goroutines, base.Goroutines)
}
