//go:build linux

package bpfskel

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// bindArray loads one mmapable array called buf_map and binds it.
func bindArray[V any](t *testing.T, spec *ebpf.MapSpec) (*Collection, *MmapArray[uint32, V]) {
	t.Helper()
	c := loadMaps(t, map[string]*ebpf.MapSpec{"buf_map": spec})
	b := NewBinder(c)
	a := BindMmapArray[uint32, V](b, "buf_map")
	mustBind(t, b)
	return c, a
}

func mmap[V any](t *testing.T, a *MmapArray[uint32, V]) *View[V] {
	t.Helper()
	v, err := a.Mmap()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func TestViewStride(t *testing.T) {
	_, a := bindArray[val12](t, mmapableArray(12, 4, 0))
	v := mmap(t, a)
	if v.Len() != 4 || v.ReadOnly() {
		t.Fatalf("Len()=%d ReadOnly()=%v, want 4, false", v.Len(), v.ReadOnly())
	}

	// Map.Update at index 1 is seen by View.Get(1): element 1 is at byte 16,
	// not 12.
	want := val12{A: 0x11111111, B: 0x22222222, C: 0x33333333}
	if err := a.Update(1, want, UpdateAny); err != nil {
		t.Fatal(err)
	}
	got, err := v.Get(1)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("Get(1) = %+v after Update(1), want %+v", got, want)
	}
	for _, i := range []int{0, 2} {
		if got, _ := v.Get(i); got != (val12{}) {
			t.Errorf("Get(%d) = %+v, want zero", i, got)
		}
	}

	// And the reverse: View.Set(2) is seen by Map.Lookup(2).
	want = val12{A: 0xaaaaaaaa, B: 0xbbbbbbbb, C: 0xcccccccc}
	if err := v.Set(2, want); err != nil {
		t.Fatal(err)
	}
	got, err = a.Lookup(2)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("Lookup(2) = %+v after Set(2), want %+v", got, want)
	}
	for _, i := range []uint32{1, 3} {
		got, err := a.Lookup(i)
		if err != nil {
			t.Fatal(err)
		}
		if i == 3 && got != (val12{}) || i == 1 && got.A != 0x11111111 {
			t.Errorf("Lookup(%d) = %+v: Set(2) leaked into a neighbour", i, got)
		}
	}
}

func TestViewBounds(t *testing.T) {
	_, a := bindArray[uint64](t, mmapableArray(8, 3, 0))
	v := mmap(t, a)
	for _, i := range []int{-1, 3, math.MaxInt} {
		if _, err := v.Get(i); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("Get(%d): %v, want out of range", i, err)
		}
		if err := v.Set(i, 1); err == nil {
			t.Errorf("Set(%d) succeeded", i)
		}
	}
}

func TestWritableViewBlocksFreeze(t *testing.T) {
	_, a := bindArray[uint64](t, mmapableArray(8, 2, 0))
	v, err := a.Mmap()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Map().Freeze(); !errors.Is(err, unix.EBUSY) {
		t.Fatalf("Freeze with a writable view: %v, want EBUSY", err)
	}
	// Close drops the kernel mapping at once, so freezing now works.
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Map().Freeze(); err != nil {
		t.Fatalf("Freeze after closing the view: %v", err)
	}
	ro := mmap(t, a)
	if !ro.ReadOnly() {
		t.Error("view of a frozen map is writable")
	}
}

func TestFrozenMapMapsReadOnly(t *testing.T) {
	_, a := bindArray[uint64](t, mmapableArray(8, 2, 0))
	if err := a.Update(1, 42, UpdateAny); err != nil {
		t.Fatal(err)
	}
	if err := a.Map().Freeze(); err != nil {
		t.Fatal(err)
	}
	v := mmap(t, a)
	if !v.ReadOnly() {
		t.Fatal("view of a frozen map is writable")
	}
	if got, err := v.Get(1); err != nil || got != 42 {
		t.Errorf("Get(1) = %d, %v; want 42", got, err)
	}
	err := v.Set(1, 7)
	if !errors.Is(err, ebpf.ErrReadOnly) || !strings.Contains(err.Error(), `map "buf_map"`) {
		t.Errorf("Set on a frozen map: %v, want ErrReadOnly naming the map", err)
	}
	if got, _ := v.Get(1); got != 42 {
		t.Errorf("Get(1) = %d after a refused Set, want 42", got)
	}
}

func TestRdonlyProgMapMapsReadOnly(t *testing.T) {
	_, a := bindArray[uint64](t, mmapableArray(8, 2, unix.BPF_F_RDONLY_PROG))
	if err := a.Update(0, 9, UpdateAny); err != nil {
		t.Fatal(err)
	}
	v := mmap(t, a)
	if !v.ReadOnly() {
		t.Fatal("view of a BPF_F_RDONLY_PROG map is writable")
	}
	if err := v.Set(0, 1); !errors.Is(err, ebpf.ErrReadOnly) {
		t.Errorf("Set: %v, want ErrReadOnly", err)
	}
	if got, err := v.Get(0); err != nil || got != 9 {
		t.Errorf("Get(0) = %d, %v; want 9", got, err)
	}
}

func TestViewOutlivesMapFD(t *testing.T) {
	_, a := bindArray[uint64](t, mmapableArray(8, 2, 0))
	v := mmap(t, a)
	if err := v.Set(0, 0xfeed); err != nil {
		t.Fatal(err)
	}
	if err := a.Map().Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Lookup(0); err == nil {
		t.Fatal("Lookup through a closed map FD succeeded")
	}
	// The mapping holds its own reference to the map.
	if got, err := v.Get(0); err != nil || got != 0xfeed {
		t.Errorf("Get(0) after closing the FD = %#x, %v; want 0xfeed", got, err)
	}
	if err := v.Set(1, 0xbeef); err != nil {
		t.Fatal(err)
	}
	if got, err := v.Get(1); err != nil || got != 0xbeef {
		t.Errorf("Get(1) = %#x, %v; want 0xbeef", got, err)
	}
}

func TestViewClosed(t *testing.T) {
	_, a := bindArray[uint64](t, mmapableArray(8, 2, 0))
	v := mmap(t, a)
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if err := v.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, err := v.Get(0)
	if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), `map "buf_map"`) {
		t.Errorf("Get after Close: %v, want ErrClosed naming the map", err)
	}
	if err := v.Set(0, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Set after Close: %v, want ErrClosed", err)
	}
}

// TestViewCloseRace races Get and Set against Close: every call either
// succeeds or fails with ErrClosed, and none faults.
func TestViewCloseRace(t *testing.T) {
	_, a := bindArray[val24](t, mmapableArray(24, uint32(os.Getpagesize()/24*3), 0))
	for round := range 50 {
		v, err := a.Mmap()
		if err != nil {
			t.Fatal(err)
		}
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			closed  atomic.Int64
			success atomic.Int64
		)
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for i := 0; ; i++ {
					if i%1024 == 1023 {
						runtime.Gosched() // let Close run with GOMAXPROCS=1
					}
					var err error
					if g%2 == 0 {
						_, err = v.Get(i % v.Len())
					} else {
						err = v.Set(i%v.Len(), val24{A: uint64(i)})
					}
					switch {
					case err == nil:
						success.Add(1)
					case errors.Is(err, ErrClosed):
						closed.Add(1)
						return
					default:
						t.Errorf("round %d: %v", round, err)
						return
					}
				}
			}()
		}
		close(start)
		if round%2 == 1 {
			// Let the goroutines get going before closing.
			for spin := 0; success.Load() < 100 && spin < 1e6; spin++ {
				runtime.Gosched()
			}
		}
		if err := v.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if closed.Load() != 4 {
			t.Fatalf("round %d: %d goroutines saw ErrClosed, want 4", round, closed.Load())
		}
	}
}

func TestCollectionCloseClosesViews(t *testing.T) {
	c, a := bindArray[uint64](t, mmapableArray(8, 2, 0))
	v1, err := a.Mmap()
	if err != nil {
		t.Fatal(err)
	}
	v2, err := a.Mmap()
	if err != nil {
		t.Fatal(err)
	}
	if err := v2.Close(); err != nil { // closed by its owner first: fine
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Collection.Close: %v", err)
	}
	for _, v := range []*View[uint64]{v1, v2} {
		if _, err := v.Get(0); !errors.Is(err, ErrClosed) {
			t.Errorf("Get after Collection.Close: %v, want ErrClosed", err)
		}
	}
	if _, err := a.Mmap(); err == nil {
		t.Error("Mmap after Collection.Close succeeded")
	}
	b := NewBinder(c)
	if BindMap[uint32, uint64](b, "buf_map") != nil || b.Err() == nil {
		t.Error("bind after Collection.Close succeeded")
	}
}

// mapsEntry returns the /proc/self/maps line of the mapping holding addr.
func mapsEntry(t *testing.T, addr uintptr) string {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(maps)) {
		var lo, hi uintptr
		if _, err := fmt.Sscanf(line, "%x-%x", &lo, &hi); err == nil && lo <= addr && addr < hi {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// TestViewCloseDetachesAndCleanupUnmaps checks the two halves of Close:
// the shared mapping of the map is replaced at once by private anonymous
// memory, and the address range is unmapped once the View is collected.
func TestViewCloseDetachesAndCleanupUnmaps(t *testing.T) {
	_, a := bindArray[uint64](t, mmapableArray(8, 2, 0))
	v, err := a.Mmap()
	if err != nil {
		t.Fatal(err)
	}
	addr := v.addr
	if e := mapsEntry(t, uintptr(addr)); !strings.Contains(e, "bpf-map") {
		t.Fatalf("before Close the view maps %q, want the bpf map", e)
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if e := mapsEntry(t, uintptr(addr)); e == "" || strings.Contains(e, "bpf-map") {
		t.Fatalf("after Close the range maps %q, want private anonymous memory", e)
	}

	unmapped := make(chan error, 1)
	hook := func(got unsafe.Pointer, err error) {
		if got == addr {
			unmapped <- err
		}
	}
	testHookUnmapped.Store(&hook)
	defer testHookUnmapped.Store(nil)
	v = nil
	for range 500 {
		runtime.GC()
		select {
		case err := <-unmapped:
			if err != nil {
				t.Fatalf("munmap: %v", err)
			}
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("the View was not collected, so its range was never unmapped")
}
