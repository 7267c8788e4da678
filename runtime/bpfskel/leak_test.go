//go:build linux

package bpfskel

import (
	"errors"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/bpfskel/bpfskel/runtime/bpfskeltest"
	"github.com/cilium/ebpf"
)

// TestNoLeaks runs open → load → bind → mmap → read → close 1000 times
// (reading through views, a typed map, a program run and a ring buffer
// reader) and checks that the process's file descriptors, BPF mappings,
// memory mappings and goroutines, and the kernel's maps and programs
// (those this test created, found by a unique string in their names), end
// where they started, and that every view's address range was unmapped.
//
// Attaching is not part of the cycle here; the lifecycle tests add it with
// the same bpfskeltest helpers.
func TestNoLeaks(t *testing.T) {
	requireKernel(t)
	cycles := 1000
	if testing.Short() {
		cycles = 100
	}
	elf := readObject(t)
	unique := bpfskeltest.UniqueName("lk")

	var unmapped, unmapErrs atomic.Int64
	hook := func(_ unsafe.Pointer, err error) {
		unmapped.Add(1)
		if err != nil {
			unmapErrs.Add(1)
		}
	}
	testHookUnmapped.Store(&hook)
	defer testHookUnmapped.Store(nil)

	// One cycle first: cilium/ebpf probes kernel features once per process
	// and keeps what it learns. It also checks that the kernel objects are
	// found by their names while loaded.
	views := leakCycle(t, elf, unique, func() {
		maps, progs, err := bpfskeltest.KernelObjects(unique)
		if err != nil || maps != 6 || progs != 1 {
			t.Fatalf("while loaded: %d maps and %d programs named *%s*, %v; want 6 and 1", maps, progs, unique, err)
		}
	})
	settle(t, func() bool { return unmapped.Load() == int64(views) })
	before, err := bpfskeltest.CountResources()
	if err != nil {
		t.Fatal(err)
	}
	unmapped.Store(0)

	// Close releases descriptors at once: check after every cycle, before a
	// garbage collection can hide a leak (cilium/ebpf closes the
	// descriptors of unreachable maps in finalizers). BPF mappings are
	// checked at the end only: cilium/ebpf maps every data section for
	// Collection.Variables when loading and unmaps it only when the
	// garbage collector finds it unreachable, so until then the mapping
	// (and through it the kernel map) outlives Close.
	for i := range cycles {
		views = leakCycle(t, elf, unique, nil)
		if t.Failed() {
			return
		}
		now, err := bpfskeltest.CountResources()
		if err != nil {
			t.Fatal(err)
		}
		if now.FDs != before.FDs {
			t.Fatalf("after cycle %d: %v; before the first: %v", i, now, before)
		}
	}
	want := int64(cycles * views)

	var after bpfskeltest.Resources
	var maps, progs int
	settled := settle(t, func() bool {
		after, err = bpfskeltest.CountResources()
		if err != nil {
			t.Fatal(err)
		}
		maps, progs, err = bpfskeltest.KernelObjects(unique)
		if err != nil {
			t.Fatal(err)
		}
		return unmapped.Load() == want && after.FDs <= before.FDs && after.BPFMappings <= before.BPFMappings &&
			after.Goroutines <= before.Goroutines && maps == 0 && progs == 0
	})
	if !settled {
		t.Errorf("after %d cycles:\n before: %v\n  after: %v\n %d of %d view ranges unmapped; %d maps and %d programs named *%s* left in the kernel",
			cycles, before, after, unmapped.Load(), want, maps, progs, unique)
	}
	// The Go heap grows over the run and may add a few mappings of its
	// own; 4000 leaked views would add thousands.
	if after.Mappings > before.Mappings+16 {
		t.Errorf("mappings grew from %d to %d over %d cycles", before.Mappings, after.Mappings, cycles)
	}
	if n := unmapErrs.Load(); n != 0 {
		t.Errorf("%d view ranges failed to unmap", n)
	}
}

// leakCycle runs one skeleton life with every map and program named with
// unique, calls loaded (if not nil) before closing, and returns the number
// of views it created.
func leakCycle(t *testing.T, elf []byte, unique string, loaded func()) int {
	t.Helper()
	spec, err := Open("sections.bpf.o", elf)
	if err != nil {
		t.Fatal(err)
	}
	spec.CollectionSpec().Maps["events"] = &ebpf.MapSpec{Type: ebpf.RingBuf, MaxEntries: 4096}
	bpfskeltest.RenameObjects(spec.CollectionSpec(), unique)
	c, err := spec.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := NewBinder(c)
	buf := BindMmapArray[uint32, elem](b, "buf_map")
	counts := BindMap[uint32, uint64](b, "counts")
	bss := BindSection[bssSection](b, ".bss")
	BindSection[dataSect](b, ".data")
	rodata := BindSection[rodataSect](b, ".rodata")
	bump := BindProgram(b, "bump")
	ring := BindRingBuf[RawEvent](b, "events")
	if err := b.Done(); err != nil {
		t.Fatal(err)
	}
	rd, err := ring.NewReader()
	if err != nil {
		t.Fatal(err)
	}
	rd.SetDeadline(time.Now())
	if _, err := rd.ReadRaw(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("ring buffer read: %v, want a deadline error", err)
	}
	view, err := buf.Mmap()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bump.TestRun(nil); err != nil {
		t.Fatal(err)
	}
	if s, err := bss.Get(0); err != nil || s.Hits != 1 {
		t.Errorf(".bss = %+v, %v; want 1 hit", s, err)
	}
	if r, err := rodata.Get(0); err != nil || r.Factor != 3 {
		t.Errorf(".rodata = %+v, %v; want factor 3", r, err)
	}
	if e, err := view.Get(1); err != nil || e.A != 3 {
		t.Errorf("buf_map[1] = %+v, %v; want A 3", e, err)
	}
	if n, err := counts.Lookup(7); err != nil || n != 1 {
		t.Errorf("counts[7] = %d, %v; want 1", n, err)
	}
	if loaded != nil {
		loaded()
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return 4 // .bss, .data, .rodata and buf_map
}

// settle collects garbage (views unmap their ranges in cleanups) until
// done reports true, for up to 30 seconds: the kernel also frees maps and
// programs asynchronously. It reports whether done became true.
func settle(t *testing.T, done func() bool) bool {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		runtime.GC()
		if done() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
