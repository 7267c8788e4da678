//go:build linux

package bpfskel

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/google/go-cmp/cmp"
)

type hashKey struct {
	Pid uint32
	Cpu uint32
}

func bindHash(t *testing.T) *Map[hashKey, val24] {
	t.Helper()
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"counts": {Type: ebpf.Hash, KeySize: 8, ValueSize: 24, MaxEntries: 16},
	})
	b := NewBinder(c)
	m := BindMap[hashKey, val24](b, "counts")
	mustBind(t, b)
	return m
}

func TestMapRoundTrip(t *testing.T) {
	m := bindHash(t)
	k := hashKey{Pid: 1, Cpu: 2}
	want := val24{A: 1 << 40, B: 2, C: 3, D: 4}

	if err := m.Update(k, want, UpdateAny); err != nil {
		t.Fatal(err)
	}
	got, err := m.Lookup(k)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Lookup (-want +got):\n%s", diff)
	}

	var into val24
	if err := m.LookupInto(&k, &into); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, into); diff != "" {
		t.Errorf("LookupInto (-want +got):\n%s", diff)
	}

	// The raw cilium/ebpf map sees the same bytes.
	var raw val24
	if err := m.Map().Lookup(k, &raw); err != nil {
		t.Fatal(err)
	}
	if raw != want {
		t.Errorf("cilium Lookup = %+v, want %+v", raw, want)
	}

	err = m.Update(k, want, UpdateNoExist)
	if !errors.Is(err, ebpf.ErrKeyExist) || !strings.Contains(err.Error(), `map "counts"`) {
		t.Errorf("Update(NoExist) on a present key: %v, want ErrKeyExist naming the map", err)
	}
	err = m.Update(hashKey{Pid: 9}, want, UpdateExist)
	if !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("Update(Exist) on an absent key: %v, want ErrKeyNotExist", err)
	}

	if err := m.Delete(k); err != nil {
		t.Fatal(err)
	}
	_, err = m.Lookup(k)
	if !errors.Is(err, ebpf.ErrKeyNotExist) || !strings.Contains(err.Error(), `map "counts"`) {
		t.Errorf("Lookup after Delete: %v, want ErrKeyNotExist naming the map", err)
	}
	if err := m.LookupInto(&k, &into); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("LookupInto after Delete: %v, want ErrKeyNotExist", err)
	}
	if err := m.Delete(k); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("Delete of an absent key: %v, want ErrKeyNotExist", err)
	}
	if err := m.LookupInto(nil, &into); err == nil {
		t.Error("LookupInto(nil, ...) succeeded")
	}
}

func TestMapArray(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"arr": {Type: ebpf.Array, KeySize: 4, ValueSize: 12, MaxEntries: 3},
	})
	b := NewBinder(c)
	m := BindMap[uint32, val12](b, "arr")
	mustBind(t, b)

	for i := range uint32(3) {
		if err := m.Update(i, val12{A: i, B: i * 10, C: i * 100}, UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
	for i := range uint32(3) {
		got, err := m.Lookup(i)
		if err != nil {
			t.Fatal(err)
		}
		if want := (val12{A: i, B: i * 10, C: i * 100}); got != want {
			t.Errorf("Lookup(%d) = %+v, want %+v", i, got, want)
		}
	}
	if _, err := m.Lookup(3); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("Lookup past the end: %v, want ErrKeyNotExist", err)
	}
}

func TestMapQueueHasNoKey(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"q": {Type: ebpf.Queue, KeySize: 0, ValueSize: 8, MaxEntries: 4},
	})
	b := NewBinder(c)
	q := BindMap[struct{}, uint64](b, "q")
	mustBind(t, b)

	for _, v := range []uint64{7, 8} {
		if err := q.Update(struct{}{}, v, UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
	got, err := q.Lookup(struct{}{}) // peek
	if err != nil {
		t.Fatal(err)
	}
	if got != 7 {
		t.Errorf("peek = %d, want 7", got)
	}
}

func TestMapRefusesPerCPU(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"pc": {Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 2},
	})
	b := NewBinder(c)
	if m := BindMap[uint32, uint64](b, "pc"); m != nil {
		t.Error("BindMap bound a per-CPU map")
	}
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), "BindPerCPUMap") {
		t.Errorf("Err() = %v, want a pointer to BindPerCPUMap", err)
	}
}

func TestIterator(t *testing.T) {
	m := bindHash(t)
	want := map[hashKey]val24{}
	for i := range uint32(5) {
		k := hashKey{Pid: i, Cpu: i + 100}
		v := val24{A: uint64(i) << 33, B: i, C: ^i, D: uint64(i) * 3}
		want[k] = v
		if err := m.Update(k, v, UpdateNoExist); err != nil {
			t.Fatal(err)
		}
	}

	got := map[hashKey]val24{}
	it := m.Iterate()
	for k, v := range it.All() {
		got[k] = v
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("All() (-want +got):\n%s", diff)
	}

	got = map[hashKey]val24{}
	it = m.Iterate()
	for it.Next() {
		got[it.Key()] = it.Value()
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Next/Key/Value (-want +got):\n%s", diff)
	}

	// Breaking out of All stops early without error.
	n := 0
	it = m.Iterate()
	for range it.All() {
		n++
		break
	}
	if n != 1 || it.Err() != nil {
		t.Errorf("break after first entry: n=%d err=%v", n, it.Err())
	}
}

func TestIteratorErrorStopsAll(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"q": {Type: ebpf.Queue, KeySize: 0, ValueSize: 8, MaxEntries: 4},
	})
	b := NewBinder(c)
	q := BindMap[struct{}, uint64](b, "q")
	mustBind(t, b)
	it := q.Iterate() // queues have no keys: the kernel refuses GET_NEXT_KEY
	for range it.All() {
		t.Fatal("yielded an entry")
	}
	if err := it.Err(); err == nil || !strings.Contains(err.Error(), `map "q": iterate`) {
		t.Errorf("Err() = %v, want an iterate error naming the map", err)
	}
}

func TestNilHandlesDoNotPanic(t *testing.T) {
	var m *Map[uint32, uint64]
	if _, err := m.Lookup(1); err == nil {
		t.Error("Lookup on nil Map succeeded")
	}
	var k uint32
	var v uint64
	if err := m.LookupInto(&k, &v); err == nil {
		t.Error("LookupInto on nil Map succeeded")
	}
	if err := m.Update(1, 2, UpdateAny); err == nil {
		t.Error("Update on nil Map succeeded")
	}
	if err := m.Delete(1); err == nil {
		t.Error("Delete on nil Map succeeded")
	}
	if m.Map() != nil {
		t.Error("Map() on nil Map")
	}
	it := m.Iterate()
	if it.Next() || it.Err() == nil {
		t.Error("Iterate on nil Map")
	}
	var a *MmapArray[uint32, uint64]
	if _, err := a.Mmap(); err == nil {
		t.Error("Mmap on nil MmapArray succeeded")
	}
	var view *View[uint64]
	if _, err := view.Get(0); err == nil {
		t.Error("Get on nil View succeeded")
	}
	if err := view.Set(0, 1); err == nil {
		t.Error("Set on nil View succeeded")
	}
	if view.Len() != 0 || view.ReadOnly() || view.Close() != nil {
		t.Error("nil View accessors")
	}
	var p *Program
	if _, err := p.TestRun(nil); err == nil {
		t.Error("TestRun on nil Program succeeded")
	}
	if p.Name() != "" || p.Program() != nil {
		t.Error("nil Program accessors")
	}
	var c *Collection
	if c.Close() != nil || c.Collection() != nil {
		t.Error("nil Collection")
	}
	var s *Spec
	if _, err := s.Load(nil); err == nil {
		t.Error("Load on nil Spec succeeded")
	}
	if BindMap[uint32, uint64](nil, "x") != nil || BindProgram(nil, "x") != nil {
		t.Error("bind with a nil Binder returned a handle")
	}
	b := NewBinder(nil)
	if BindMap[uint32, uint64](b, "x") != nil || b.Err() == nil {
		t.Error("bind with a nil Collection")
	}
}

// grow recurses depth frames of about 100 bytes each, then calls f. Each
// call runs on a fresh goroutine, whose stack starts small, so for some
// depth the stack grows (and is copied) in the middle of cilium/ebpf's call
// chain, between noescape and the syscall.
//
//go:noinline
func grow(depth int, f func()) byte {
	var pad [64]byte // indexed by a variable: lives in the frame
	pad[depth%len(pad)] = byte(depth)
	if depth > 0 {
		pad[0] += grow(depth-1, f)
	} else {
		f()
	}
	return pad[(depth*7)%len(pad)]
}

// TestStackGrowthDuringSyscall guards the soundness argument of noescape:
// keys and values on the stack must reach the kernel correctly even when
// the stack moves while cilium/ebpf prepares the syscall.
func TestStackGrowthDuringSyscall(t *testing.T) {
	m := bindHash(t)
	var (
		wg    sync.WaitGroup
		moved atomic.Int64
		errs  = make(chan error, 1000)
	)
	for depth := range 640 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			grow(depth, func() {
				// anchor's address changes when the stack is copied.
				var anchor byte
				before := uintptr(unsafe.Pointer(&anchor))
				defer func() {
					if uintptr(unsafe.Pointer(&anchor)) != before {
						moved.Add(1)
					}
				}()

				k := hashKey{Pid: uint32(depth), Cpu: 0xabcd}
				want := val24{A: uint64(depth) * 0x0101010101, B: uint32(depth), C: 0x5a5a5a5a, D: ^uint64(depth)}
				if err := m.Update(k, want, UpdateAny); err != nil {
					errs <- err
					return
				}
				got, err := m.Lookup(k)
				if err != nil {
					errs <- err
					return
				}
				var into val24
				if err := m.LookupInto(&k, &into); err != nil {
					errs <- err
					return
				}
				if got != want || into != want {
					errs <- fmt.Errorf("depth %d: Lookup %+v, LookupInto %+v, want %+v", depth, got, into, want)
				}
				if err := m.Delete(k); err != nil {
					errs <- err
				}
			})
		}()
		if depth%8 == 7 {
			wg.Wait() // stay under the map's 16 entries
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The test is only meaningful if stacks did move during map operations.
	if moved.Load() == 0 {
		t.Error("no goroutine stack was copied during a map operation: the test exercises nothing")
	}
	t.Logf("stack copied during the map operations at %d of 640 depths", moved.Load())
}
