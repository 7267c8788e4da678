//go:build linux

package bpfskel

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf"
)

// TestZeroAllocsKinds asserts the allocation-free paths of the per-CPU,
// queue, stack, bloom filter and batch operations.
func TestZeroAllocsKinds(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"pc":    {Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 4},
		"pc12":  {Type: ebpf.PerCPUHash, KeySize: 4, ValueSize: 12, MaxEntries: 4},
		"q":     {Type: ebpf.Queue, ValueSize: 8, MaxEntries: 4},
		"bloom": {Type: ebpf.BloomFilter, ValueSize: 4, MaxEntries: 16},
		"hash":  {Type: ebpf.Hash, KeySize: 8, ValueSize: 24, MaxEntries: 64},
	})
	b := NewBinder(c)
	pc := BindPerCPUMap[uint32, uint64](b, "pc")
	pc12 := BindPerCPUMap[uint32, val12](b, "pc12")
	q := BindQueue[uint64](b, "q")
	bloom := BindBloomFilter[uint32](b, "bloom")
	hash := BindMap[hashKey, val24](b, "hash")
	mustBind(t, b)

	dst := make([]uint64, pc.CPUs())
	dst12 := make([]val12, pc12.CPUs())
	if err := pc12.Update(1, dst12, UpdateAny); err != nil {
		t.Fatal(err)
	}
	keys := make([]hashKey, 32)
	vals := make([]val24, 32)
	for i := range keys {
		keys[i] = hashKey{Pid: uint32(i)}
	}
	var cur BatchCursor
	var sinkErr error
	// Per-CPU batches: 4 keys, CPUs() values each, packed and staged.
	pcKeys := []uint32{0, 1, 2, 3}
	pcVals := make([]uint64, len(pcKeys)*pc.CPUs())
	pc12Vals := make([]val12, len(pcKeys)*pc12.CPUs())
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"percpu/LookupInto", func() { sinkErr = pc.LookupInto(new(uint32(1)), dst) }},
		{"percpu/Update", func() { sinkErr = pc.Update(1, dst, UpdateAny) }},
		{"percpu12/LookupInto", func() { sinkErr = pc12.LookupInto(new(uint32(1)), dst12) }},
		{"percpu12/Update", func() { sinkErr = pc12.Update(1, dst12, UpdateExist) }},
		{"queue/Push+Pop", func() {
			if sinkErr = q.Push(7); sinkErr == nil {
				_, sinkErr = q.Pop()
			}
		}},
		{"bloom/Push+Contains", func() {
			if sinkErr = bloom.Push(3); sinkErr == nil {
				_, sinkErr = bloom.Contains(3)
			}
		}},
		{"percpu/BatchUpdate", func() { _, sinkErr = pc.BatchUpdate(pcKeys, pcVals) }},
		{"percpu/BatchLookup", func() {
			cur.Reset()
			if _, sinkErr = pc.BatchLookup(&cur, pcKeys, pcVals); errors.Is(sinkErr, ebpf.ErrKeyNotExist) {
				sinkErr = nil // the end of the map, preallocated
			}
		}},
		{"percpu12/BatchUpdate+BatchDelete", func() {
			if _, sinkErr = pc12.BatchUpdate(pcKeys, pc12Vals); sinkErr == nil {
				_, sinkErr = pc12.BatchDelete(pcKeys[2:])
			}
		}},
		{"percpu12/BatchLookup", func() {
			cur.Reset()
			if _, sinkErr = pc12.BatchLookup(&cur, pcKeys, pc12Vals); errors.Is(sinkErr, ebpf.ErrKeyNotExist) {
				sinkErr = nil
			}
		}},
		{"percpu12/All", func() {
			for range pc12.All() {
			}
		}},
		{"hash/BatchUpdate", func() { _, sinkErr = hash.BatchUpdate(keys, vals) }},
		{"hash/BatchLookup", func() {
			cur.Reset()
			_, sinkErr = hash.BatchLookup(&cur, keys[:8], vals[:8])
		}},
		{"hash/Update+LookupAndDelete", func() {
			if sinkErr = hash.Update(hashKey{Pid: 99}, vals[0], UpdateNoExist); sinkErr == nil {
				_, sinkErr = hash.LookupAndDelete(hashKey{Pid: 99})
			}
		}},
	} {
		allocs := testing.AllocsPerRun(500, tc.f)
		if sinkErr != nil {
			t.Errorf("%s: %v", tc.name, sinkErr)
		}
		if allocs != 0 {
			t.Errorf("%s: %v allocs/op, want 0", tc.name, allocs)
		}
	}

	// Misses and an empty queue are normal outcomes: no allocation either.
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"percpu12/LookupInto miss", func() { sinkErr = pc12.LookupInto(new(uint32(3)), dst12) }},
		{"queue/Pop empty", func() { _, sinkErr = q.Pop() }},
	} {
		if allocs := testing.AllocsPerRun(500, tc.f); allocs != 0 {
			t.Errorf("%s: %v allocs/op, want 0", tc.name, allocs)
		}
		if sinkErr == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}

	// Ranging over All reuses the handle's batch buffers: no allocation
	// per walk; Iterate allocates its Iterator.
	walkAll := func() {
		n := 0
		for range hash.All() {
			n++
		}
		if n != len(keys) {
			t.Errorf("All walked %d entries, want %d", n, len(keys))
		}
	}
	if allocs := testing.AllocsPerRun(100, walkAll); allocs != 0 {
		t.Errorf("walking %d entries with All: %v allocs, want 0", len(keys), allocs)
	}
	walkIter := func() {
		n := 0
		it := hash.Iterate()
		for it.Next() {
			n++
		}
		if sinkErr = it.Err(); n != len(keys) && sinkErr == nil {
			t.Errorf("Iterate walked %d entries, want %d", n, len(keys))
		}
	}
	if allocs := testing.AllocsPerRun(100, walkIter); allocs > 1 {
		t.Errorf("walking %d entries with Iterate: %v allocs, want 1 (the Iterator)", len(keys), allocs)
	}
}
