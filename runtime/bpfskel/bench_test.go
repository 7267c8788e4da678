//go:build linux

package bpfskel

import (
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Benchmarks compare, on the same maps and in one run:
//   - bpfskel: the typed Map methods (and LookupInto);
//   - cilium-generic: (*ebpf.Map).Lookup/Update with typed pointers, which
//     go through sysenc;
//   - raw-syscall: bpf(2) through unix.Syscall with a hand-written attr,
//     the floor.
//
// Keys are uint32 for the array and an 8-byte struct for the hash; values
// are 24 bytes.

// mapElemAttr is the BPF_MAP_*_ELEM part of union bpf_attr. Pointers are
// held as unsafe.Pointer (so the GC and stack copying see them) in 64-bit
// slots; the benchmark only runs where a pointer is 64 bits.
type mapElemAttr struct {
	mapFD uint32
	_     uint32
	key   unsafe.Pointer
	value unsafe.Pointer
	flags uint64
}

func rawMapElem(cmd uintptr, fd int, key, value unsafe.Pointer, flags uint64) unix.Errno {
	attr := mapElemAttr{mapFD: uint32(fd), key: key, value: value, flags: flags}
	_, _, errno := unix.Syscall(unix.SYS_BPF, cmd, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	return errno
}

type benchMaps struct {
	arr  *Map[uint32, val24]
	hash *Map[hashKey, val24]
}

func setupBench(b *testing.B) benchMaps {
	c := loadMaps(b, map[string]*ebpf.MapSpec{
		"arr":  {Type: ebpf.Array, KeySize: 4, ValueSize: 24, MaxEntries: 16},
		"hash": {Type: ebpf.Hash, KeySize: 8, ValueSize: 24, MaxEntries: 16},
	})
	bd := NewBinder(c)
	m := benchMaps{
		arr:  BindMap[uint32, val24](bd, "arr"),
		hash: BindMap[hashKey, val24](bd, "hash"),
	}
	mustBind(b, bd)
	v := val24{A: 1, B: 2, C: 3, D: 4}
	if err := m.arr.Update(3, v, UpdateAny); err != nil {
		b.Fatal(err)
	}
	if err := m.hash.Update(hashKey{Pid: 3}, v, UpdateAny); err != nil {
		b.Fatal(err)
	}
	return m
}

func requireRawAttr(b *testing.B) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		b.Skip("the raw attr layout is written for 64-bit pointers")
	}
}

func BenchmarkLookup(b *testing.B) {
	m := setupBench(b)
	benchLookup(b, "array", m.arr, uint32(3))
	benchLookup(b, "hash", m.hash, hashKey{Pid: 3})
	benchLookupPerCPU(b)
	benchLookupLPM(b)
}

func benchLookup[K any](b *testing.B, kind string, m *Map[K, val24], key K) {
	b.Run(kind+"/bpfskel", func(b *testing.B) {
		defer reportCPU(b)()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Lookup(key); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(kind+"/bpfskel-into", func(b *testing.B) {
		defer reportCPU(b)()
		b.ReportAllocs()
		var v val24
		for b.Loop() {
			if err := m.LookupInto(&key, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(kind+"/cilium-generic", func(b *testing.B) {
		defer reportCPU(b)()
		b.ReportAllocs()
		em := m.Map()
		for b.Loop() {
			k := key
			var v val24
			if err := em.Lookup(&k, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(kind+"/raw-syscall", func(b *testing.B) {
		defer reportCPU(b)()
		requireRawAttr(b)
		b.ReportAllocs()
		fd := m.Map().FD()
		for b.Loop() {
			k := key
			var v val24
			if errno := rawMapElem(unix.BPF_MAP_LOOKUP_ELEM, fd, unsafe.Pointer(&k), unsafe.Pointer(&v), 0); errno != 0 {
				b.Fatal(errno)
			}
		}
	})
}

func BenchmarkUpdate(b *testing.B) {
	m := setupBench(b)
	benchUpdate(b, "array", m.arr, uint32(3))
	benchUpdate(b, "hash", m.hash, hashKey{Pid: 3})
}

func benchUpdate[K any](b *testing.B, kind string, m *Map[K, val24], key K) {
	value := val24{A: 5, B: 6, C: 7, D: 8}
	b.Run(kind+"/bpfskel", func(b *testing.B) {
		defer reportCPU(b)()
		b.ReportAllocs()
		for b.Loop() {
			if err := m.Update(key, value, UpdateAny); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(kind+"/cilium-generic", func(b *testing.B) {
		defer reportCPU(b)()
		b.ReportAllocs()
		em := m.Map()
		for b.Loop() {
			k, v := key, value
			if err := em.Update(&k, &v, ebpf.UpdateAny); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(kind+"/raw-syscall", func(b *testing.B) {
		defer reportCPU(b)()
		requireRawAttr(b)
		b.ReportAllocs()
		fd := m.Map().FD()
		for b.Loop() {
			k, v := key, value
			if errno := rawMapElem(unix.BPF_MAP_UPDATE_ELEM, fd, unsafe.Pointer(&k), unsafe.Pointer(&v), 0); errno != 0 {
				b.Fatal(errno)
			}
		}
	})
}

// BenchmarkView compares a view element read and write with the syscall
// path on the same mmapable array.
func BenchmarkView(b *testing.B) {
	c := loadMaps(b, map[string]*ebpf.MapSpec{"arr": mmapableArray(24, 16, 0)})
	bd := NewBinder(c)
	arr := BindMmapArray[uint32, val24](bd, "arr")
	mustBind(b, bd)
	v, err := arr.Mmap()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Get", func(b *testing.B) {
		defer reportCPU(b)()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Get(3); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Set", func(b *testing.B) {
		defer reportCPU(b)()
		b.ReportAllocs()
		for b.Loop() {
			if err := v.Set(3, val24{A: 1}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
