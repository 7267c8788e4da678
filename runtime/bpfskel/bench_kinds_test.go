//go:build linux

package bpfskel

import (
	"errors"
	"iter"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// benchLookupPerCPU: a PERCPU_ARRAY of uint64 counters read into a
// reused slice (BenchmarkLookup/percpu_array/...). cilium-generic passes
// the same reused slice to (*ebpf.Map).Lookup.
func benchLookupPerCPU(b *testing.B) {
	pc, key, vals := benchPerCPUArray(b)
	b.Run("percpu_array/bpfskel", func(b *testing.B) {
		defer reportCPU(b)()
		b.ReportAllocs()
		for b.Loop() {
			if err := pc.LookupInto(&key, vals); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("percpu_array/cilium-generic", func(b *testing.B) {
		defer reportCPU(b)()
		b.ReportAllocs()
		em := pc.Map()
		for b.Loop() {
			k := key
			if err := em.Lookup(&k, vals); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("percpu_array/raw-syscall", func(b *testing.B) {
		defer reportCPU(b)()
		requireRawAttr(b)
		b.ReportAllocs()
		fd := pc.Map().FD()
		for b.Loop() {
			k := key
			if errno := rawMapElem(unix.BPF_MAP_LOOKUP_ELEM, fd, unsafe.Pointer(&k), unsafe.Pointer(&vals[0]), 0); errno != 0 {
				b.Fatal(errno)
			}
		}
	})
}

// benchLookupLPM: the longest-prefix match of a /32 address among three
// nested prefixes (BenchmarkLookup/lpm/...).
func benchLookupLPM(b *testing.B) {
	lpm, key := benchLPM(b)
	b.Run("lpm/bpfskel", func(b *testing.B) {
		defer reportCPU(b)()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := lpm.Lookup(key); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("lpm/cilium-generic", func(b *testing.B) {
		defer reportCPU(b)()
		b.ReportAllocs()
		em := lpm.Map()
		for b.Loop() {
			k := key
			var v uint32
			if err := em.Lookup(&k, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("lpm/raw-syscall", func(b *testing.B) {
		defer reportCPU(b)()
		requireRawAttr(b)
		b.ReportAllocs()
		fd := lpm.Map().FD()
		for b.Loop() {
			k := key
			var v uint32
			if errno := rawMapElem(unix.BPF_MAP_LOOKUP_ELEM, fd, unsafe.Pointer(&k), unsafe.Pointer(&v), 0); errno != 0 {
				b.Fatal(errno)
			}
		}
	})
}

// benchPerCPUArray is the PERCPU_ARRAY of uint64 counters that the lookup
// benchmarks read: entry key holds one value per possible CPU, and vals is
// a slice of that length.
func benchPerCPUArray(b *testing.B) (pc *PerCPUMap[uint32, uint64], key uint32, vals []uint64) {
	c := loadMaps(b, map[string]*ebpf.MapSpec{
		"pc": {Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 16},
	})
	bd := NewBinder(c)
	pc = BindPerCPUMap[uint32, uint64](bd, "pc")
	mustBind(b, bd)
	vals = make([]uint64, pc.CPUs())
	for i := range vals {
		vals[i] = uint64(i)
	}
	key = 3
	if err := pc.Update(key, vals, UpdateAny); err != nil {
		b.Fatal(err)
	}
	return pc, key, vals
}

// benchLPM is the LPM trie that the lookup benchmarks read: three nested
// prefixes, and a /32 key whose longest match is the /24.
func benchLPM(b *testing.B) (*Map[lpmKey4, uint32], lpmKey4) {
	c := loadMaps(b, map[string]*ebpf.MapSpec{
		"lpm": {Type: ebpf.LPMTrie, KeySize: 8, ValueSize: 4, MaxEntries: 16, Flags: unix.BPF_F_NO_PREALLOC},
	})
	bd := NewBinder(c)
	lpm := BindMap[lpmKey4, uint32](bd, "lpm")
	mustBind(b, bd)
	for _, p := range []lpmKey4{{8, [4]byte{10}}, {16, [4]byte{10, 1}}, {24, [4]byte{10, 1, 2}}} {
		if err := lpm.Update(p, p.Prefixlen, UpdateAny); err != nil {
			b.Fatal(err)
		}
	}
	return lpm, lpmKey4{32, [4]byte{10, 1, 2, 3}}
}

// iterEntries is the size of the maps the iteration benchmarks walk.
const iterEntries = 1024

// batchAttrRaw is the BPF_MAP_*_BATCH part of union bpf_attr, for the
// raw-syscall floor (64-bit pointers only, see requireRawAttr).
type batchAttrRaw struct {
	inBatch, outBatch, keys, values unsafe.Pointer
	count, mapFD                    uint32
	elemFlags, flags                uint64
}

// BenchmarkIterate walks every entry of a full 1024-entry ARRAY and HASH:
//   - bpfskel: ranging over Map.All (batched under the hood);
//   - bpfskel-batch: Map.BatchLookup into caller slices of 1024;
//   - cilium-iterate: (*ebpf.Map).Iterate, a next-key walk;
//   - cilium-batch: (*ebpf.Map).BatchLookup into slices of 1024;
//   - raw-syscall: one BPF_MAP_LOOKUP_BATCH for all entries, the floor.
//
// ns/op and cpu-ns/op are per walk; cpu-ns/entry divides the CPU time by
// the entries.
func BenchmarkIterate(b *testing.B) {
	c := loadMaps(b, map[string]*ebpf.MapSpec{
		"arr":  {Type: ebpf.Array, KeySize: 4, ValueSize: 24, MaxEntries: iterEntries},
		"hash": {Type: ebpf.Hash, KeySize: 8, ValueSize: 24, MaxEntries: iterEntries},
	})
	bd := NewBinder(c)
	arr := BindMap[uint32, val24](bd, "arr")
	hash := BindMap[hashKey, val24](bd, "hash")
	mustBind(b, bd)
	for i := range uint32(iterEntries) {
		v := val24{A: uint64(i), B: i}
		if err := arr.Update(i, v, UpdateAny); err != nil {
			b.Fatal(err)
		}
		if err := hash.Update(hashKey{Pid: i}, v, UpdateAny); err != nil {
			b.Fatal(err)
		}
	}
	benchIterate(b, "array", arr)
	benchIterate(b, "hash", hash)
}

func benchIterate[K any](b *testing.B, kind string, m *Map[K, val24]) {
	keys, vals := make([]K, iterEntries+1), make([]val24, iterEntries+1)
	benchWalk(b, kind+"/bpfskel", func(*testing.B) int { return count(m.All()) })
	var cur BatchCursor
	benchWalk(b, kind+"/bpfskel-batch", func(b *testing.B) int {
		cur.Reset()
		return batchEnd(b)(m.BatchLookup(&cur, keys, vals))
	})
	em := m.Map()
	benchWalk(b, kind+"/cilium-iterate", func(b *testing.B) int {
		var k K
		var v val24
		n := 0
		it := em.Iterate()
		for it.Next(&k, &v) {
			n++
		}
		if err := it.Err(); err != nil {
			b.Fatal(err)
		}
		return n
	})
	benchWalk(b, kind+"/cilium-batch", func(b *testing.B) int {
		var cur ebpf.MapBatchCursor
		return batchEnd(b)(em.BatchLookup(&cur, keys, vals, nil))
	})
	benchRawBatch(b, kind, em.FD(), unsafe.Pointer(&keys[0]), unsafe.Pointer(&vals[0]))
}

// benchWalk runs the sub-benchmark name of a walk over all iterEntries
// entries of a map: walk reads them once and returns how many it read.
func benchWalk(b *testing.B, name string, walk func(*testing.B) int) {
	b.Run(name, func(b *testing.B) {
		defer reportCPUPerEntry(b, iterEntries)()
		b.ReportAllocs()
		for b.Loop() {
			if n := walk(b); n != iterEntries {
				b.Fatalf("walked %d entries, want %d", n, iterEntries)
			}
		}
	})
}

// count ranges over seq and counts its entries.
func count[K, V any](seq iter.Seq2[K, V]) int {
	n := 0
	for range seq {
		n++
	}
	return n
}

// batchEnd returns what takes a batch lookup's results, fails b unless the
// batch reached the end of the map, and returns the entries read.
func batchEnd(b *testing.B) func(int, error) int {
	return func(n int, err error) int {
		if !errors.Is(err, ebpf.ErrKeyNotExist) {
			b.Fatalf("batch lookup: %v, want the end of the map", err)
		}
		return n
	}
}

// benchRawBatch is the raw-syscall floor of a walk: one
// BPF_MAP_LOOKUP_BATCH of iterEntries+1 entries into keys and values, laid
// out as the kernel writes them.
func benchRawBatch(b *testing.B, kind string, fd int, keys, values unsafe.Pointer) {
	name := kind + "/raw-syscall"
	if unsafe.Sizeof(uintptr(0)) != 8 {
		b.Run(name, requireRawAttr) // skips, saying why
		return
	}
	var cursor uint64
	benchWalk(b, name, func(b *testing.B) int {
		attr := batchAttrRaw{
			outBatch: unsafe.Pointer(&cursor), keys: keys, values: values,
			count: iterEntries + 1, mapFD: uint32(fd),
		}
		_, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_MAP_LOOKUP_BATCH, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
		if errno != unix.ENOENT {
			b.Fatal(errno)
		}
		return int(attr.count)
	})
}

// BenchmarkBatchLookup reads every entry of a full 1024-entry PERCPU_HASH
// with one batch lookup, into caller slices of 1025 keys and 1025*CPUs()
// values, with 8-byte values (percpu_hash: the kernel writes the caller's
// slice) and 12-byte ones (percpu_hash_val12: the kernel keeps them 16
// bytes apart, bpfskel stages them through a pooled buffer):
//   - bpfskel: PerCPUMap.BatchLookup;
//   - bpfskel-all: ranging over PerCPUMap.All, a walk that batches under
//     the hood;
//   - cilium-generic: (*ebpf.Map).BatchLookup into the same slices;
//   - raw-syscall: one BPF_MAP_LOOKUP_BATCH into a buffer in the
//     kernel's layout, not copied out: the floor.
//
// ns/op and cpu-ns/op are per walk; cpu-ns/entry divides the CPU time by
// the entries.
func BenchmarkBatchLookup(b *testing.B) {
	c := loadMaps(b, map[string]*ebpf.MapSpec{
		"pc":   {Type: ebpf.PerCPUHash, KeySize: 8, ValueSize: 8, MaxEntries: iterEntries},
		"pc12": {Type: ebpf.PerCPUHash, KeySize: 8, ValueSize: 12, MaxEntries: iterEntries},
	})
	bd := NewBinder(c)
	pc := BindPerCPUMap[hashKey, uint64](bd, "pc")
	pc12 := BindPerCPUMap[hashKey, val12](bd, "pc12")
	mustBind(b, bd)
	keys := make([]hashKey, iterEntries)
	for i := range keys {
		keys[i] = hashKey{Pid: uint32(i)}
	}
	vals := make([]uint64, iterEntries*pc.CPUs())
	vals12 := make([]val12, iterEntries*pc.CPUs())
	for i := range vals {
		vals[i], vals12[i] = uint64(i), val12{A: uint32(i)}
	}
	if _, err := pc.BatchUpdate(keys, vals); err != nil {
		b.Fatal(err)
	}
	if _, err := pc12.BatchUpdate(keys, vals12); err != nil {
		b.Fatal(err)
	}
	benchBatchLookupPerCPU(b, "percpu_hash", pc)
	benchBatchLookupPerCPU(b, "percpu_hash_val12", pc12)
}

func benchBatchLookupPerCPU[V any](b *testing.B, kind string, m *PerCPUMap[hashKey, V]) {
	cpus := m.CPUs()
	keys, vals := make([]hashKey, iterEntries+1), make([]V, (iterEntries+1)*cpus)
	var cur BatchCursor
	benchWalk(b, kind+"/bpfskel", func(b *testing.B) int {
		cur.Reset()
		return batchEnd(b)(m.BatchLookup(&cur, keys, vals))
	})
	benchWalk(b, kind+"/bpfskel-all", func(*testing.B) int { return count(m.All()) })
	em := m.Map()
	benchWalk(b, kind+"/cilium-generic", func(b *testing.B) int {
		var cur ebpf.MapBatchCursor
		return batchEnd(b)(em.BatchLookup(&cur, keys, vals, nil))
	})
	var v V
	stride := (int(unsafe.Sizeof(v)) + 7) &^ 7
	raw := make([]uint64, (iterEntries+1)*cpus*stride/8)
	benchRawBatch(b, kind, em.FD(), unsafe.Pointer(&keys[0]), unsafe.Pointer(&raw[0]))
}
