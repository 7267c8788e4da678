//go:build linux

package bpfskel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"structs"
	"sync"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestLookupAndDelete(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"hash": {Type: ebpf.Hash, KeySize: 8, ValueSize: 24, MaxEntries: 4},
		"arr":  {Type: ebpf.Array, KeySize: 4, ValueSize: 24, MaxEntries: 4},
	})
	b := NewBinder(c)
	hash := BindMap[hashKey, val24](b, "hash")
	arr := BindMap[uint32, val24](b, "arr")
	mustBind(t, b)

	k, want := hashKey{Pid: 9}, val24{A: 1, D: 2}
	if err := hash.Update(k, want, UpdateNoExist); err != nil {
		t.Fatal(err)
	}
	got, err := hash.LookupAndDelete(k)
	if err != nil || got != want {
		t.Fatalf("LookupAndDelete = %+v, %v; want %+v", got, err, want)
	}
	if _, err := hash.Lookup(k); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("Lookup after LookupAndDelete: %v, want ErrKeyNotExist", err)
	}
	if _, err := hash.LookupAndDelete(k); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("LookupAndDelete of an absent key: %v, want ErrKeyNotExist", err)
	}
	if _, err := arr.LookupAndDelete(0); !errors.Is(err, ebpf.ErrNotSupported) {
		t.Errorf("LookupAndDelete on an array: %v, want ErrNotSupported", err)
	}
}

func TestBatchOps(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"hash": {Type: ebpf.Hash, KeySize: 8, ValueSize: 24, MaxEntries: 64},
		"arr":  {Type: ebpf.Array, KeySize: 4, ValueSize: 12, MaxEntries: 40},
	})
	b := NewBinder(c)
	hash := BindMap[hashKey, val24](b, "hash")
	arr := BindMap[uint32, val12](b, "arr")
	mustBind(t, b)

	var keys []hashKey
	var vals []val24
	want := map[hashKey]val24{}
	for i := range uint32(50) {
		k, v := hashKey{Pid: i, Cpu: 7}, val24{A: uint64(i) << 40, B: i, C: ^i, D: 3}
		keys, vals = append(keys, k), append(vals, v)
		want[k] = v
	}
	if n, err := hash.BatchUpdate(keys, vals); n != 50 || err != nil {
		t.Fatalf("BatchUpdate = %d, %v", n, err)
	}
	if _, err := hash.BatchUpdate(keys, vals[:2]); err == nil {
		t.Error("BatchUpdate with 50 keys and 2 values succeeded")
	}

	// Walk in chunks bigger than any bucket; the last call says the end.
	got := map[hashKey]val24{}
	var cur BatchCursor
	ks, vs := make([]hashKey, 32), make([]val24, 32)
	for {
		n, err := hash.BatchLookup(&cur, ks, vs)
		for i := range n {
			got[ks[i]] = vs[i]
		}
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("BatchLookup (-want +got):\n%s", diff)
	}
	if _, err := arr.BatchLookup(&cur, make([]uint32, 4), make([]val12, 4)); err == nil || !strings.Contains(err.Error(), "Reset") {
		t.Errorf("cursor reused on another map: %v, want an error saying Reset", err)
	}

	if n, err := hash.BatchDelete(keys[:25]); n != 25 || err != nil {
		t.Fatalf("BatchDelete = %d, %v", n, err)
	}
	if _, err := hash.BatchDelete(keys[:1]); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("BatchDelete of an absent key: %v, want ErrKeyNotExist", err)
	}
	left := 0
	for k := range hash.All() {
		left++
		if k.Pid < 25 {
			t.Errorf("key %+v survived BatchDelete", k)
		}
	}
	if left != 25 {
		t.Errorf("%d entries after deleting 25 of 50", left)
	}
	// BatchLookupAndDelete drains what is left.
	cur.Reset()
	drained := 0
	for {
		n, err := hash.BatchLookupAndDelete(&cur, ks, vs)
		for i := range n {
			if ks[i].Pid < 25 || vs[i] != want[ks[i]] {
				t.Errorf("BatchLookupAndDelete: %+v -> %+v", ks[i], vs[i])
			}
		}
		drained += n
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if drained != 25 {
		t.Errorf("BatchLookupAndDelete read %d entries, want 25", drained)
	}
	for k := range hash.All() {
		t.Errorf("key %+v survived BatchLookupAndDelete", k)
	}

	// Arrays batch-update and batch-read but cannot delete.
	akeys := []uint32{0, 5, 39}
	avals := []val12{{A: 1}, {B: 2}, {C: 3}}
	if n, err := arr.BatchUpdate(akeys, avals); n != 3 || err != nil {
		t.Fatalf("array BatchUpdate = %d, %v", n, err)
	}
	cur.Reset()
	aks, avs := make([]uint32, 64), make([]val12, 64)
	n, err := arr.BatchLookup(&cur, aks, avs)
	if n != 40 || !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Fatalf("array BatchLookup of 40 entries into 64 = %d, %v; want 40 and the end", n, err)
	}
	if avs[5] != avals[1] || avs[39] != avals[2] || aks[39] != 39 {
		t.Errorf("array BatchLookup: keys %v values %+v", aks[:n], avs[:n])
	}
	if _, err := arr.BatchDelete(akeys); !errors.Is(err, ebpf.ErrNotSupported) {
		t.Errorf("array BatchDelete: %v, want ErrNotSupported", err)
	}
	cur.Reset()
	if _, err := arr.BatchLookupAndDelete(&cur, aks, avs); !errors.Is(err, ebpf.ErrNotSupported) {
		t.Errorf("array BatchLookupAndDelete: %v, want ErrNotSupported", err)
	}
	if _, err := arr.BatchUpdate([]uint32{40}, []val12{{}}); !errors.Is(err, unix.E2BIG) {
		t.Errorf("array BatchUpdate past the end: %v, want E2BIG", err)
	}
}

// TestIterateManyBatches walks maps that need several batches and checks
// every entry once.
func TestIterateManyBatches(t *testing.T) {
	const entries = 5000 // 64 KiB batches of 28-byte entries: 3 batches
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"arr":  {Type: ebpf.Array, KeySize: 4, ValueSize: 24, MaxEntries: entries},
		"hash": {Type: ebpf.Hash, KeySize: 8, ValueSize: 24, MaxEntries: entries},
	})
	b := NewBinder(c)
	arr := BindMap[uint32, val24](b, "arr")
	hash := BindMap[hashKey, val24](b, "hash")
	mustBind(t, b)
	for i := range uint32(entries) {
		v := val24{A: uint64(i), B: i * 2}
		if err := arr.Update(i, v, UpdateAny); err != nil {
			t.Fatal(err)
		}
		if err := hash.Update(hashKey{Pid: i}, v, UpdateNoExist); err != nil {
			t.Fatal(err)
		}
	}
	seen := make([]bool, entries)
	it := arr.Iterate()
	for k, v := range it.All() {
		if seen[k] || v.A != uint64(k) || v.B != k*2 {
			t.Fatalf("array entry %d: %+v (seen before: %v)", k, v, seen[k])
		}
		seen[k] = true
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if i := slices.Index(seen, false); i >= 0 {
		t.Errorf("array entry %d missing", i)
	}
	clear(seen)
	hit := hash.Iterate()
	for k, v := range hit.All() {
		if seen[k.Pid] || v.A != uint64(k.Pid) {
			t.Fatalf("hash entry %+v: %+v (seen before: %v)", k, v, seen[k.Pid])
		}
		seen[k.Pid] = true
	}
	if err := hit.Err(); err != nil {
		t.Fatal(err)
	}
	if i := slices.Index(seen, false); i >= 0 {
		t.Errorf("hash entry %d missing", i)
	}
}

// lpmKey4 is struct bpf_lpm_trie_key_u8 with 4 bytes of IPv4 address.
type lpmKey4 struct {
	Prefixlen uint32
	Addr      [4]byte
}

func TestLPMTrie(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"lpm": {Type: ebpf.LPMTrie, KeySize: 8, ValueSize: 4, MaxEntries: 16, Flags: unix.BPF_F_NO_PREALLOC},
	})
	b := NewBinder(c)
	lpm := BindMap[lpmKey4, uint32](b, "lpm")
	mustBind(t, b)
	prefixes := map[lpmKey4]uint32{
		{8, [4]byte{10}}:        8,
		{16, [4]byte{10, 1}}:    16,
		{24, [4]byte{10, 1, 2}}: 24,
	}
	for k, v := range prefixes {
		if err := lpm.Update(k, v, UpdateNoExist); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		addr [4]byte
		want uint32 // 0: no match
	}{
		{[4]byte{10, 1, 2, 5}, 24},
		{[4]byte{10, 1, 9, 9}, 16},
		{[4]byte{10, 9, 9, 9}, 8},
		{[4]byte{11, 0, 0, 1}, 0},
	} {
		got, err := lpm.Lookup(lpmKey4{32, tc.addr})
		if tc.want == 0 {
			if !errors.Is(err, ebpf.ErrKeyNotExist) {
				t.Errorf("Lookup(%v) = %d, %v; want ErrKeyNotExist", tc.addr, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Lookup(%v) = %d, %v; want the /%d prefix", tc.addr, got, err, tc.want)
		}
	}
	got := map[lpmKey4]uint32{}
	it := lpm.Iterate()
	for k, v := range it.All() {
		got[k] = v
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(prefixes, got); diff != "" {
		t.Errorf("Iterate (-want +got):\n%s", diff)
	}
	var cur BatchCursor
	ks, vs := make([]lpmKey4, 4), make([]uint32, 4)
	n, err := lpm.BatchLookup(&cur, ks, vs)
	if n != 3 || !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("BatchLookup of 3 prefixes into 4 = %d, %v; want 3 and the end", n, err)
	}
	for i := range n {
		if prefixes[ks[i]] != vs[i] {
			t.Errorf("BatchLookup: %+v -> %d", ks[i], vs[i])
		}
	}
	if err := lpm.Delete(lpmKey4{16, [4]byte{10, 1}}); err != nil {
		t.Fatal(err)
	}
	if v, err := lpm.Lookup(lpmKey4{32, [4]byte{10, 1, 9, 9}}); v != 8 || err != nil {
		t.Errorf("after deleting /16: Lookup = %d, %v; want the /8 prefix", v, err)
	}
	if err := lpm.Update(lpmKey4{33, [4]byte{10}}, 1, UpdateAny); !errors.Is(err, unix.EINVAL) {
		t.Errorf("prefix longer than the key: %v, want EINVAL", err)
	}
}

// TestMapErrorPaths: a full map, wrong-flag updates and missing keys.
func TestMapErrorPaths(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"hash": {Type: ebpf.Hash, KeySize: 8, ValueSize: 24, MaxEntries: 2},
		"arr":  {Type: ebpf.Array, KeySize: 4, ValueSize: 24, MaxEntries: 2},
	})
	b := NewBinder(c)
	hash := BindMap[hashKey, val24](b, "hash")
	arr := BindMap[uint32, val24](b, "arr")
	mustBind(t, b)

	for i := range uint32(2) {
		if err := hash.Update(hashKey{Pid: i}, val24{}, UpdateNoExist); err != nil {
			t.Fatal(err)
		}
	}
	if err := hash.Update(hashKey{Pid: 2}, val24{}, UpdateAny); !errors.Is(err, unix.E2BIG) || !strings.Contains(err.Error(), `map "hash"`) {
		t.Errorf("Update of a full hash: %v, want E2BIG naming the map", err)
	}
	if err := arr.Update(2, val24{}, UpdateAny); !errors.Is(err, unix.E2BIG) {
		t.Errorf("Update past the end of an array: %v, want E2BIG", err)
	}
	if err := hash.Update(hashKey{Pid: 0}, val24{}, UpdateNoExist); !errors.Is(err, ebpf.ErrKeyExist) {
		t.Errorf("UpdateNoExist on a present key: %v, want ErrKeyExist", err)
	}
	if err := hash.Update(hashKey{Pid: 5}, val24{}, UpdateExist); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("UpdateExist on an absent key: %v, want ErrKeyNotExist", err)
	}
	if err := arr.Update(0, val24{}, UpdateNoExist); !errors.Is(err, ebpf.ErrKeyExist) {
		t.Errorf("UpdateNoExist on an array (every index exists): %v, want ErrKeyExist", err)
	}
	if _, err := hash.Lookup(hashKey{Pid: 5}); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("Lookup of an absent key: %v, want ErrKeyNotExist", err)
	}
	if err := hash.Delete(hashKey{Pid: 5}); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("Delete of an absent key: %v, want ErrKeyNotExist", err)
	}
	if err := arr.Delete(0); err == nil {
		t.Error("Delete on an array succeeded")
	}
}

func TestPerCPUMap(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"arr":  {Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 4},
		"hash": {Type: ebpf.PerCPUHash, KeySize: 8, ValueSize: 12, MaxEntries: 4},
		"lru":  {Type: ebpf.LRUCPUHash, KeySize: 4, ValueSize: 12, MaxEntries: 8},
	})
	b := NewBinder(c)
	arr := BindPerCPUMap[uint32, uint64](b, "arr")
	hash := BindPerCPUMap[hashKey, val12](b, "hash")
	lru := BindPerCPUMap[uint32, val12](b, "lru")
	mustBind(t, b)
	cpus := arr.CPUs()
	if cpus < 1 || hash.CPUs() != cpus {
		t.Fatalf("CPUs() = %d, %d", cpus, hash.CPUs())
	}

	counts := make([]uint64, cpus)
	for i := range counts {
		counts[i] = uint64(i + 1)
	}
	if err := arr.Update(1, counts, UpdateAny); err != nil {
		t.Fatal(err)
	}
	dst := make([]uint64, cpus)
	if err := arr.LookupInto(new(uint32(1)), dst); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dst, counts) {
		t.Errorf("LookupInto = %v, want %v", dst, counts)
	}
	if got, want := Sum(dst), uint64(cpus*(cpus+1)/2); got != want {
		t.Errorf("Sum = %d, want %d", got, want)
	}
	if got := Reduce(dst, uint64(0), func(a, v uint64) uint64 { return max(a, v) }); got != uint64(cpus) {
		t.Errorf("Reduce(max) = %d, want %d", got, cpus)
	}
	if err := arr.LookupInto(new(uint32(1)), make([]uint64, cpus+1)); err == nil || !strings.Contains(err.Error(), "CPUs()") {
		t.Errorf("LookupInto with a slice of the wrong length: %v", err)
	}
	if err := arr.Update(1, counts[:0], UpdateAny); err == nil {
		t.Error("Update with an empty slice succeeded")
	}

	// 12-byte values sit 16 bytes apart in the kernel: write through the
	// typed handle, read through cilium/ebpf's own per-CPU decoding.
	vals := make([]val12, cpus)
	for i := range vals {
		vals[i] = val12{A: uint32(i), B: 0xb0b0b0b0, C: uint32(i) << 8}
	}
	for _, m := range []*PerCPUMap[uint32, val12]{lru} {
		if err := m.Update(3, vals, UpdateNoExist); err != nil {
			t.Fatal(err)
		}
	}
	k := hashKey{Pid: 1}
	if err := hash.Update(k, vals, UpdateNoExist); err != nil {
		t.Fatal(err)
	}
	var viaCilium []val12
	if err := hash.Map().Lookup(&k, &viaCilium); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(vals, viaCilium); diff != "" {
		t.Errorf("cilium/ebpf reads (-written +read):\n%s", diff)
	}
	got, err := hash.Lookup(k)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(vals, got); diff != "" {
		t.Errorf("Lookup (-want +got):\n%s", diff)
	}
	if got, err := lru.Lookup(3); err != nil || !slices.Equal(got, vals) {
		t.Errorf("LRU Lookup = %v, %v", got, err)
	}
	if err := hash.Update(k, vals, UpdateNoExist); !errors.Is(err, ebpf.ErrKeyExist) {
		t.Errorf("UpdateNoExist on a present key: %v, want ErrKeyExist", err)
	}
	if err := hash.Update(hashKey{Pid: 2}, vals, UpdateExist); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("UpdateExist on an absent key: %v, want ErrKeyNotExist", err)
	}

	// Iteration of both layouts.
	n := 0
	it := hash.Iterate()
	for key, v := range it.All() {
		n++
		if key != k || !slices.Equal(v, vals) {
			t.Errorf("iterate: %+v %v", key, v)
		}
	}
	if err := it.Err(); err != nil || n != 1 {
		t.Errorf("iterate hash: %d entries, %v", n, err)
	}
	sums := map[uint32]uint64{}
	for key, v := range arr.All() {
		sums[key] = Sum(v)
	}
	if want := map[uint32]uint64{0: 0, 1: uint64(cpus * (cpus + 1) / 2), 2: 0, 3: 0}; !cmp.Equal(want, sums) {
		t.Errorf("array sums %v, want %v", sums, want)
	}

	into := make([]val12, cpus)
	if err := hash.LookupAndDeleteInto(&k, into); err != nil || !slices.Equal(into, vals) {
		t.Errorf("LookupAndDeleteInto = %v, %v", into, err)
	}
	if err := hash.LookupInto(&k, into); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("LookupInto after delete: %v, want ErrKeyNotExist", err)
	}
	if err := hash.Delete(k); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("Delete of an absent key: %v, want ErrKeyNotExist", err)
	}
	if err := lru.Delete(3); err != nil {
		t.Error(err)
	}
	if err := arr.Update(4, counts, UpdateAny); !errors.Is(err, unix.E2BIG) {
		t.Errorf("Update past the end: %v, want E2BIG", err)
	}

	// Binding checks the map kind both ways.
	b2 := NewBinder(c)
	if BindPerCPUMap[uint32, uint64](b2, "nope") != nil || b2.Err() == nil {
		t.Error("bound a missing map")
	}
	c2 := loadMaps(t, map[string]*ebpf.MapSpec{"plain": {Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1}})
	b3 := NewBinder(c2)
	if BindPerCPUMap[uint32, uint64](b3, "plain") != nil || !strings.Contains(b3.Err().Error(), "BindMap") {
		t.Errorf("BindPerCPUMap on an array: %v", b3.Err())
	}
}

func TestQueueAndStack(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"q": {Type: ebpf.Queue, ValueSize: 12, MaxEntries: 3},
		"s": {Type: ebpf.Stack, ValueSize: 8, MaxEntries: 3},
	})
	b := NewBinder(c)
	q := BindQueue[val12](b, "q")
	s := BindStack[uint64](b, "s")
	mustBind(t, b)

	for i := range uint32(3) {
		if err := q.Push(val12{A: i}); err != nil {
			t.Fatal(err)
		}
		if err := s.Push(uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Push(val12{A: 3}); !errors.Is(err, unix.E2BIG) {
		t.Errorf("Push on a full queue: %v, want E2BIG", err)
	}
	if err := q.PushOverwrite(val12{A: 3}); err != nil {
		t.Fatal(err)
	}
	if v, err := q.Peek(); err != nil || v.A != 1 {
		t.Errorf("Peek after overwriting the oldest = %+v, %v; want A=1", v, err)
	}
	for want := range []uint32{1, 2, 3} {
		v, err := q.Pop()
		if err != nil || v.A != uint32(want+1) {
			t.Errorf("queue Pop = %+v, %v; want A=%d", v, err, want+1)
		}
	}
	for want := 2; want >= 0; want-- {
		v, err := s.Pop()
		if err != nil || v != uint64(want) {
			t.Errorf("stack Pop = %d, %v; want %d", v, err, want)
		}
	}
	if _, err := q.Pop(); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("Pop on an empty queue: %v, want ErrKeyNotExist", err)
	}
	if _, err := s.Peek(); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("Peek on an empty stack: %v, want ErrKeyNotExist", err)
	}
	var v uint64
	if err := s.PopInto(&v); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("PopInto on an empty stack: %v, want ErrKeyNotExist", err)
	}

	b2 := NewBinder(c)
	if BindStack[val12](b2, "q") != nil {
		t.Error("BindStack bound a queue")
	}
	if err := b2.Err(); err == nil || !strings.Contains(err.Error(), "BindStack binds a Stack map") {
		t.Errorf("BindStack on a queue: %v", err)
	}
}

func TestBloomFilter(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"bloom": {Type: ebpf.BloomFilter, ValueSize: 4, MaxEntries: 1000},
	})
	b := NewBinder(c)
	f := BindBloomFilter[uint32](b, "bloom")
	mustBind(t, b)
	for i := range uint32(100) {
		if err := f.Push(i * 7); err != nil {
			t.Fatal(err)
		}
	}
	for i := range uint32(100) {
		if ok, err := f.Contains(i * 7); !ok || err != nil {
			t.Fatalf("Contains(%d) = %v, %v after Push", i*7, ok, err)
		}
	}
	// Absent values: a filter sized for 1000 entries holding 100 gives
	// few false positives.
	positives := 0
	for i := range uint32(1000) {
		ok, err := f.Contains(1_000_000 + i)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			positives++
		}
	}
	if positives > 50 {
		t.Errorf("%d of 1000 absent values reported present", positives)
	}
}

func TestStackTraceMapWithoutStacks(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"stacks": {Type: ebpf.StackTrace, KeySize: 4, ValueSize: 16 * 8, MaxEntries: 16},
	})
	b := NewBinder(c)
	st := BindStackTraceMap[[16]uint64](b, "stacks")
	mustBind(t, b)
	if _, err := st.Lookup(0); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("Lookup of an unused id: %v, want ErrKeyNotExist", err)
	}
	if err := st.Delete(0); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("Delete of an unused id: %v, want ErrKeyNotExist", err)
	}
	for id := range st.All() {
		t.Errorf("empty stack map yielded id %d", id)
	}
	b2 := NewBinder(c)
	if BindStackTraceMap[[8]uint64](b2, "stacks") != nil || !strings.Contains(b2.Err().Error(), "value is 64 bytes in Go, 128 in the object") {
		t.Errorf("bind with the wrong depth: %v", b2.Err())
	}
}

// TestClosedCollection: every handle fails cleanly, without a panic, once
// its collection is closed.
func TestClosedCollection(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"hash":   {Type: ebpf.Hash, KeySize: 8, ValueSize: 24, MaxEntries: 4},
		"pc":     {Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 4},
		"q":      {Type: ebpf.Queue, ValueSize: 8, MaxEntries: 4},
		"bloom":  {Type: ebpf.BloomFilter, ValueSize: 4, MaxEntries: 4},
		"stacks": {Type: ebpf.StackTrace, KeySize: 4, ValueSize: 8 * 8, MaxEntries: 4},
	})
	b := NewBinder(c)
	hash := BindMap[hashKey, val24](b, "hash")
	pc := BindPerCPUMap[uint32, uint64](b, "pc")
	q := BindQueue[uint64](b, "q")
	bloom := BindBloomFilter[uint32](b, "bloom")
	st := BindStackTraceMap[[8]uint64](b, "stacks")
	mustBind(t, b)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	dst := make([]uint64, pc.CPUs())
	var cur BatchCursor
	for name, err := range map[string]error{
		"Map.Lookup":          func() error { _, err := hash.Lookup(hashKey{}); return err }(),
		"Map.Update":          hash.Update(hashKey{}, val24{}, UpdateAny),
		"Map.LookupAndDelete": func() error { _, err := hash.LookupAndDelete(hashKey{}); return err }(),
		"Map.BatchLookup": func() error {
			_, err := hash.BatchLookup(&cur, make([]hashKey, 2), make([]val24, 2))
			return err
		}(),
		"PerCPUMap.LookupInto": pc.LookupInto(new(uint32(0)), dst),
		"PerCPUMap.BatchLookup": func() error {
			var cur BatchCursor
			_, err := pc.BatchLookup(&cur, make([]uint32, 1), dst)
			return err
		}(),
		"PerCPUMap.BatchUpdate": func() error { _, err := pc.BatchUpdate(make([]uint32, 1), dst); return err }(),
		"PerCPUMap.BatchDelete": func() error { _, err := pc.BatchDelete(make([]uint32, 1)); return err }(),
		"PerCPUMap.Update":      pc.Update(0, dst, UpdateAny),
		"Queue.Push":            q.Push(1),
		"Queue.Pop":             func() error { _, err := q.Pop(); return err }(),
		"BloomFilter.Contains":  func() error { _, err := bloom.Contains(1); return err }(),
		"StackTraceMap.Lookup":  func() error { _, err := st.Lookup(0); return err }(),
	} {
		if err == nil {
			t.Errorf("%s on a closed collection succeeded", name)
		} else if errors.Is(err, ebpf.ErrKeyNotExist) {
			t.Errorf("%s on a closed collection: %v, not a miss", name, err)
		}
	}
	it := hash.Iterate()
	for range it.All() {
		t.Error("iterating a closed map yielded an entry")
	}
	if it.Err() == nil {
		t.Error("iterating a closed map: no error")
	}
}

// TestIterateKeyByKey walks a hash map the way kernels without batch
// operations make the iterator do, through BPF_MAP_GET_NEXT_KEY.
func TestIterateKeyByKey(t *testing.T) {
	m := bindHash(t)
	want := map[hashKey]val24{}
	for i := range uint32(10) {
		k, v := hashKey{Pid: i}, val24{A: uint64(i)}
		want[k] = v
		if err := m.Update(k, v, UpdateNoExist); err != nil {
			t.Fatal(err)
		}
	}
	w := newWalker(m.m, 24)
	w.keyByKey, w.prev = true, make([]uint64, 1)
	it := &Iterator[hashKey, val24]{name: m.name, w: w}
	got := map[hashKey]val24{}
	for k, v := range it.All() {
		got[k] = v
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("key by key (-want +got):\n%s", diff)
	}
}

// TestConcurrentKinds runs the handles that share state (the per-CPU
// buffer pool, a queue) from several goroutines; -race checks it.
func TestConcurrentKinds(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"pc12": {Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 12, MaxEntries: 4},
		"q":    {Type: ebpf.Queue, ValueSize: 8, MaxEntries: 64},
	})
	b := NewBinder(c)
	pc := BindPerCPUMap[uint32, val12](b, "pc12")
	q := BindQueue[uint64](b, "q")
	mustBind(t, b)
	var wg sync.WaitGroup
	for g := range uint32(4) {
		wg.Go(func() {
			vals := make([]val12, pc.CPUs())
			for i := range vals {
				vals[i] = val12{A: g, B: g, C: g}
			}
			dst := make([]val12, pc.CPUs())
			for range 200 {
				if err := pc.Update(g, vals, UpdateAny); err != nil {
					t.Error(err)
					return
				}
				if err := pc.LookupInto(&g, dst); err != nil || !slices.Equal(dst, vals) {
					t.Errorf("goroutine %d read %v, %v", g, dst, err)
					return
				}
				if err := q.Push(uint64(g)); err != nil {
					t.Error(err)
					return
				}
				if _, err := q.Pop(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestClosedMap: closing one map through the escape hatch makes its typed
// handle fail cleanly; the kernel sees an invalid descriptor, not another
// object's.
func TestClosedMap(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"hash": {Type: ebpf.Hash, KeySize: 8, ValueSize: 24, MaxEntries: 4},
		"pc":   {Type: ebpf.PerCPUHash, KeySize: 4, ValueSize: 8, MaxEntries: 4},
	})
	b := NewBinder(c)
	hash := BindMap[hashKey, val24](b, "hash")
	pc := BindPerCPUMap[uint32, uint64](b, "pc")
	mustBind(t, b)
	if err := hash.Map().Close(); err != nil {
		t.Fatal(err)
	}
	if err := pc.Map().Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := hash.LookupAndDelete(hashKey{}); !errors.Is(err, unix.EBADF) {
		t.Errorf("LookupAndDelete on a closed map: %v, want EBADF", err)
	}
	if _, err := hash.BatchUpdate([]hashKey{{}}, []val24{{}}); !errors.Is(err, unix.EBADF) {
		t.Errorf("BatchUpdate on a closed map: %v, want EBADF", err)
	}
	if err := pc.Update(1, make([]uint64, pc.CPUs()), UpdateAny); !errors.Is(err, unix.EBADF) {
		t.Errorf("per-CPU Update on a closed map: %v, want EBADF", err)
	}
	if err := pc.Delete(1); !errors.Is(err, unix.EBADF) {
		t.Errorf("per-CPU Delete on a closed map: %v, want EBADF", err)
	}
	var cur BatchCursor
	if _, err := pc.BatchLookup(&cur, make([]uint32, 1), make([]uint64, pc.CPUs())); !errors.Is(err, unix.EBADF) {
		t.Errorf("per-CPU BatchLookup on a closed map: %v, want EBADF", err)
	}
	if _, err := pc.BatchUpdate(make([]uint32, 1), make([]uint64, pc.CPUs())); !errors.Is(err, unix.EBADF) {
		t.Errorf("per-CPU BatchUpdate on a closed map: %v, want EBADF", err)
	}
	if _, err := pc.BatchDelete(make([]uint32, 1)); !errors.Is(err, unix.EBADF) {
		t.Errorf("per-CPU BatchDelete on a closed map: %v, want EBADF", err)
	}
	for range pc.All() {
		t.Error("All on a closed per-CPU map yielded an entry")
	}
	if _, err := hash.Lookup(hashKey{}); err == nil || errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("Lookup on a closed map: %v", err)
	}
}

// union24 is a 24-byte value shaped like a generated mirror of a struct
// holding a union: HostLayout, and the union as unexported raw storage
// behind accessors, as bpfskel emits for C unions.
type union24 struct {
	_   structs.HostLayout
	A   uint64
	raw [16]byte
}

// TestBatchLookupUnion: the typed batch and walk read values holding a
// mirrored union. It also records why they do not go through cilium/ebpf
// v0.22: its BatchLookup decodes such a slice by reflection and panics
// (reflect.Value.SetUint on an unexported field). If that changes, the
// hand-written batch calls in sys_linux.go need a new justification.
func TestBatchLookupUnion(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"arr": {Type: ebpf.Array, KeySize: 4, ValueSize: 24, MaxEntries: 8},
	})
	b := NewBinder(c)
	arr := BindMap[uint32, union24](b, "arr")
	mustBind(t, b)
	for i := range uint32(8) {
		if err := arr.Update(i, union24{A: uint64(i), raw: [16]byte{byte(i), 0xee}}, UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
	keys, vals := make([]uint32, 9), make([]union24, 9)
	var cur BatchCursor
	n, err := arr.BatchLookup(&cur, keys, vals)
	if n != 8 || !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Fatalf("BatchLookup = %d, %v", n, err)
	}
	for i, v := range vals[:n] {
		if v.A != uint64(keys[i]) || v.raw != [16]byte{byte(keys[i]), 0xee} {
			t.Errorf("entry %d: %+v", keys[i], v)
		}
	}
	for k, v := range arr.All() {
		if v.raw[0] != byte(k) || v.raw[1] != 0xee {
			t.Errorf("All: %d -> %+v", k, v)
		}
	}

	ciliumErr := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		var cc ebpf.MapBatchCursor
		_, err = arr.Map().BatchLookup(&cc, keys, vals, nil)
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return nil
		}
		return err
	}()
	if ciliumErr == nil {
		t.Errorf("cilium/ebpf's BatchLookup now reads values with unexported fields; revisit the justification in sys_linux.go")
	}
}

// TestPinKinds: the new handles pin and unpin their maps like Map does; a
// pinned queue opened again from bpffs holds what was pushed.
func TestPinKinds(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"pc": {Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 1},
		"q":  {Type: ebpf.Queue, ValueSize: 8, MaxEntries: 4},
	})
	b := NewBinder(c)
	pc := BindPerCPUMap[uint32, uint64](b, "pc")
	q := BindQueue[uint64](b, "q")
	mustBind(t, b)
	dir, err := os.MkdirTemp("/sys/fs/bpf", "maps-core-")
	if err != nil {
		t.Skipf("no bpffs at /sys/fs/bpf: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := q.Push(42); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]interface {
		Pin(string) error
		Unpin() error
	}{"pc": pc, "q": q} {
		path := filepath.Join(dir, name)
		if err := p.Pin(path); err != nil {
			t.Fatal(err)
		}
		if name == "q" {
			m, err := ebpf.LoadPinnedMap(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			var v uint64
			if err := m.Lookup(nil, &v); err != nil || v != 42 {
				t.Errorf("peek through the pin = %d, %v; want 42", v, err)
			}
			m.Close()
		}
		if err := p.Unpin(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%s still pinned after Unpin: %v", path, err)
		}
	}
}

// TestBindStackBuildIDs: a STACK_TRACE map with BPF_F_STACK_BUILD_ID binds
// as an array of StackBuildID, and only such a map does; the sizes alone
// would let [16]uint64 and [4]StackBuildID through either way.
func TestBindStackBuildIDs(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"ids":   {Type: ebpf.StackTrace, KeySize: 4, ValueSize: 4 * 32, MaxEntries: 4, Flags: unix.BPF_F_STACK_BUILD_ID},
		"addrs": {Type: ebpf.StackTrace, KeySize: 4, ValueSize: 16 * 8, MaxEntries: 4},
	})
	b := NewBinder(c)
	ids := BindStackTraceMap[[4]StackBuildID](b, "ids")
	addrs := BindStackTraceMap[[16]uint64](b, "addrs")
	mustBind(t, b)
	if _, err := ids.Lookup(0); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("Lookup of an unused id: %v, want ErrKeyNotExist", err)
	}
	for id := range ids.All() {
		t.Errorf("empty build-id stack map yielded id %d", id)
	}
	if addrs == nil {
		t.Fatal("no handle")
	}
	for _, tc := range []struct {
		bind func(*Binder) bool
		want string
	}{
		{func(b *Binder) bool { return BindStackTraceMap[[16]uint64](b, "ids") != nil },
			`map "ids": created with BPF_F_STACK_BUILD_ID, it holds build ids: bind it as [4]bpfskel.StackBuildID, not [16]uint64`},
		{func(b *Binder) bool { return BindStackTraceMap[[4]StackBuildID](b, "addrs") != nil },
			`map "addrs": holds addresses ([16]uint64), not build ids: [4]bpfskel.StackBuildID needs a map created with BPF_F_STACK_BUILD_ID`},
	} {
		b := NewBinder(c)
		if tc.bind(b) || b.Err() == nil || !strings.Contains(b.Err().Error(), tc.want) {
			t.Errorf("bind: %v, want %q", b.Err(), tc.want)
		}
	}
}
