//go:build linux

package bpfskel

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"structs"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// union12 is a 12-byte value shaped like a generated mirror of a struct
// holding a union (see union24), whose size is not a multiple of 8: the
// kernel keeps its per-CPU copies 16 bytes apart.
type union12 struct {
	_   structs.HostLayout
	A   uint32
	raw [8]byte
}

// exportAll lets cmp compare unexported fields (the raw storage of a
// mirrored union).
var exportAll = cmp.Exporter(func(reflect.Type) bool { return true })

// TestPerCPUBatch runs the batch operations on every per-CPU map type,
// with values whose size is and is not a multiple of 8, and one holding a
// union, and checks them against the single-element operations.
func TestPerCPUBatch(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"hash":    {Type: ebpf.PerCPUHash, KeySize: 8, ValueSize: 8, MaxEntries: 64},
		"hash12":  {Type: ebpf.PerCPUHash, KeySize: 4, ValueSize: 12, MaxEntries: 64},
		"arr12":   {Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 12, MaxEntries: 40},
		"lru":     {Type: ebpf.LRUCPUHash, KeySize: 4, ValueSize: 24, MaxEntries: 64},
		"union12": {Type: ebpf.PerCPUHash, KeySize: 4, ValueSize: 12, MaxEntries: 64},
	})
	b := NewBinder(c)
	hash := BindPerCPUMap[hashKey, uint64](b, "hash")
	hash12 := BindPerCPUMap[uint32, val12](b, "hash12")
	arr12 := BindPerCPUMap[uint32, val12](b, "arr12")
	lru := BindPerCPUMap[uint32, union24](b, "lru")
	u12 := BindPerCPUMap[uint32, union12](b, "union12")
	mustBind(t, b)

	seq := func(n int, f func(i int) uint32) []uint32 {
		var ks []uint32
		for i := range n {
			ks = append(ks, f(i))
		}
		return ks
	}
	var hkeys []hashKey
	for i := range uint32(50) {
		hkeys = append(hkeys, hashKey{Pid: i, Cpu: 7})
	}
	t.Run("percpu_hash", func(t *testing.T) {
		checkPerCPUBatch(t, hash, hkeys, func(i, cpu int) uint64 { return uint64(i)<<32 | uint64(cpu) }, true)
	})
	t.Run("percpu_hash/val12", func(t *testing.T) {
		keys := seq(50, func(i int) uint32 { return uint32(i * 3) })
		checkPerCPUBatch(t, hash12, keys, func(i, cpu int) val12 {
			return val12{A: uint32(i), B: uint32(cpu), C: 0xc0c0c0c0}
		}, true)
	})
	t.Run("percpu_array/val12", func(t *testing.T) {
		keys := seq(40, func(i int) uint32 { return uint32(i) })
		checkPerCPUBatch(t, arr12, keys, func(i, cpu int) val12 {
			return val12{A: ^uint32(i), B: uint32(cpu) + 1, C: 5}
		}, false)
	})
	t.Run("lru_percpu_hash/union24", func(t *testing.T) {
		keys := seq(50, func(i int) uint32 { return uint32(i + 100) })
		checkPerCPUBatch(t, lru, keys, func(i, cpu int) union24 {
			return union24{A: uint64(i), raw: [16]byte{byte(cpu), 0xee, 15: byte(i)}}
		}, true)
	})
	t.Run("percpu_hash/union12", func(t *testing.T) {
		keys := seq(50, func(i int) uint32 { return uint32(i) })
		checkPerCPUBatch(t, u12, keys, func(i, cpu int) union12 {
			return union12{A: uint32(i), raw: [8]byte{byte(cpu), 0xee, 7: byte(i)}}
		}, true)
	})

	// cilium/ebpf decodes a per-CPU value on its own: it reads what a
	// batch of 12-byte values wrote, 16 bytes apart.
	var viaCilium []val12
	k := uint32(3)
	if _, err := hash12.BatchUpdate([]uint32{k}, slices.Repeat([]val12{{A: 1, B: 2, C: 3}}, hash12.CPUs())); err != nil {
		t.Fatal(err)
	}
	if err := hash12.Map().Lookup(&k, &viaCilium); err != nil {
		t.Fatal(err)
	}
	if want := slices.Repeat([]val12{{A: 1, B: 2, C: 3}}, hash12.CPUs()); !slices.Equal(viaCilium, want) {
		t.Errorf("cilium/ebpf reads %v after BatchUpdate, want %v", viaCilium, want)
	}

	// A key past the end of an array.
	if n, err := arr12.BatchUpdate([]uint32{0, 40}, make([]val12, 2*arr12.CPUs())); n != 1 || !errors.Is(err, unix.E2BIG) {
		t.Errorf("array BatchUpdate past the end = %d, %v; want 1 and E2BIG", n, err)
	}
}

// checkPerCPUBatch fills m with keys through BatchUpdate, reads them back
// with BatchLookup, All and LookupInto, checks the errors of short slices
// and, when the map can delete, BatchDelete and BatchLookupAndDelete (or
// that they fail with ErrNotSupported).
func checkPerCPUBatch[K, V comparable](t *testing.T, m *PerCPUMap[K, V], keys []K, val func(i, cpu int) V, canDelete bool) {
	cpus := m.CPUs()
	vals := make([]V, len(keys)*cpus)
	want := map[K][]V{}
	for i, k := range keys {
		for cpu := range cpus {
			vals[i*cpus+cpu] = val(i, cpu)
		}
		want[k] = vals[i*cpus : (i+1)*cpus]
	}
	if n, err := m.BatchUpdate(keys, vals); n != len(keys) || err != nil {
		t.Fatalf("BatchUpdate = %d, %v", n, err)
	}
	dst := make([]V, cpus)
	for i, k := range keys {
		if err := m.LookupInto(&k, dst); err != nil || !slices.Equal(dst, want[k]) {
			t.Errorf("LookupInto key %d after BatchUpdate = %v, %v; want %v", i, dst, err, want[k])
		}
	}

	// Walk in chunks bigger than any bucket; the last call says the end.
	// The values slice is longer than needed: the rest stays untouched.
	walk := func(batch func(c *BatchCursor, ks []K, vs []V) (int, error)) map[K][]V {
		got := map[K][]V{}
		var cur BatchCursor
		ks, vs := make([]K, 32), make([]V, 32*cpus+1)
		var zero V
		for {
			n, err := batch(&cur, ks, vs)
			for i := range n {
				got[ks[i]] = slices.Clone(vs[i*cpus : (i+1)*cpus])
			}
			if vs[32*cpus] != zero {
				t.Fatalf("batch lookup wrote past len(keys)*CPUs()")
			}
			if errors.Is(err, ebpf.ErrKeyNotExist) {
				return got
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if diff := cmp.Diff(want, walk(m.BatchLookup), exportAll); diff != "" {
		t.Errorf("BatchLookup (-want +got):\n%s", diff)
	}
	got := map[K][]V{}
	for k, v := range m.All() {
		got[k] = slices.Clone(v)
	}
	if diff := cmp.Diff(want, got, exportAll); diff != "" {
		t.Errorf("All (-want +got):\n%s", diff)
	}

	// Short values slices name the map, the lengths and the CPUs.
	var cur BatchCursor
	for op, err := range map[string]error{
		"BatchLookup": func() error { _, err := m.BatchLookup(&cur, keys[:2], vals[:2*cpus-1]); return err }(),
		"BatchUpdate": func() error { _, err := m.BatchUpdate(keys[:2], vals[:2*cpus-1]); return err }(),
		"BatchLookupAndDelete": func() error {
			_, err := m.BatchLookupAndDelete(&cur, keys[:2], nil)
			return err
		}(),
	} {
		if err == nil || !strings.Contains(err.Error(), m.name) || !strings.Contains(err.Error(), "batch of 2 keys") ||
			!strings.Contains(err.Error(), fmt.Sprintf("%d CPUs", cpus)) {
			t.Errorf("%s with a short values slice: %v", op, err)
		}
	}
	if n, err := m.BatchLookup(&cur, nil, nil); n != 0 || err != nil {
		t.Errorf("BatchLookup of nothing = %d, %v", n, err)
	}

	if !canDelete {
		// Arrays: every index always exists.
		if _, err := m.BatchDelete(keys[:1]); !errors.Is(err, ebpf.ErrNotSupported) {
			t.Errorf("array BatchDelete: %v, want ErrNotSupported", err)
		}
		cur.Reset()
		if _, err := m.BatchLookupAndDelete(&cur, keys[:1], vals[:cpus]); !errors.Is(err, ebpf.ErrNotSupported) {
			t.Errorf("array BatchLookupAndDelete: %v, want ErrNotSupported", err)
		}
		return
	}
	half := len(keys) / 2
	if n, err := m.BatchDelete(keys[:half]); n != half || err != nil {
		t.Fatalf("BatchDelete = %d, %v", n, err)
	}
	for _, k := range keys[:half] {
		delete(want, k)
	}
	// The kernel stops at the first missing key.
	if n, err := m.BatchDelete([]K{keys[half], keys[0], keys[half+1]}); n != 1 || !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("BatchDelete of present, absent, present = %d, %v; want 1 and ErrKeyNotExist", n, err)
	}
	delete(want, keys[half])
	if diff := cmp.Diff(want, walk(m.BatchLookupAndDelete), exportAll); diff != "" {
		t.Errorf("BatchLookupAndDelete (-want +got):\n%s", diff)
	}
	for k := range m.All() {
		t.Errorf("key %v survived BatchLookupAndDelete", k)
	}
}
