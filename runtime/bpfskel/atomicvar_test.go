package bpfskel

import (
	"sync/atomic"
	"testing"
	"unsafe"
)

// atomicOn returns an AtomicVar over *p, as a bind would over a mapping.
func atomicOn[T AtomicInt](p *T) AtomicVar[T] {
	return AtomicVar[T]{varBase{p: unsafe.Pointer(p), closed: new(atomic.Bool)}}
}

// TestAtomicVarWidths: each instantiation touches exactly its own bytes
// and keeps signed values signed (one generic type serves all four).
func TestAtomicVarWidths(t *testing.T) {
	var m32 struct{ lo, v, hi int32 }
	m32.lo, m32.hi = 0x11111111, 0x22222222
	v32 := atomicOn(&m32.v)
	v32.Store(-5)
	if got := v32.Add(-3); got != -8 {
		t.Errorf("int32 Add(-3) after Store(-5) = %d, want -8", got)
	}
	if old := v32.Swap(7); old != -8 {
		t.Errorf("int32 Swap = %d, want -8", old)
	}
	if v32.CompareAndSwap(6, 9) || !v32.CompareAndSwap(7, -1) || v32.Load() != -1 {
		t.Errorf("int32 CompareAndSwap: value %d, want -1", v32.Load())
	}
	if m32.lo != 0x11111111 || m32.hi != 0x22222222 {
		t.Errorf("int32 ops touched their neighbours: %#x %#x", m32.lo, m32.hi)
	}

	var u32 uint32
	vu := atomicOn(&u32)
	vu.Store(1<<32 - 1)
	if got := vu.Add(2); got != 1 {
		t.Errorf("uint32 wrap: %d, want 1", got)
	}

	var m64 struct{ v, hi int64 }
	m64.hi = 0x3333
	v64 := atomicOn(&m64.v)
	v64.Store(-1 << 40)
	if got := v64.Add(-1); got != -1<<40-1 || m64.hi != 0x3333 {
		t.Errorf("int64 Add = %d (neighbour %#x), want %d", got, m64.hi, int64(-1<<40-1))
	}
	var u64 uint64
	vu64 := atomicOn(&u64)
	if vu64.Add(1<<63) != 1<<63 || !vu64.CompareAndSwap(1<<63, 3) || vu64.Swap(4) != 3 || vu64.Load() != 4 {
		t.Errorf("uint64 ops: value %d, want 4", vu64.Load())
	}
}
