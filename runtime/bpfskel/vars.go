package bpfskel

import (
	"fmt"
	"reflect"
	"runtime"
	"sync/atomic"
	"unsafe"
)

// varBase is where a global variable lives in a section's mapping.
type varBase struct {
	p      unsafe.Pointer // the variable's first byte, in the mapping
	closed *atomic.Bool   // the View's flag; the pointer keeps the View (and its mapping) alive
	name   string
}

// check panics when the variable cannot be touched: its skeleton was
// closed (the mapping is detached) or it was never bound.
func (v *varBase) check() {
	if v.closed == nil {
		panic("bpfskel: global variable used before a successful Load (its bind failed: see Binder.Err)")
	}
	if v.closed.Load() {
		panic(fmt.Sprintf("bpfskel: global variable %s used after Close", v.name))
	}
}

// bindVar checks that a variable of size bytes at offset fits view's
// mapping and returns where it lives.
func bindVar[S any](b *Binder, view *View[S], name string, offset, size uintptr) (varBase, bool) {
	if b == nil || view == nil {
		return varBase{}, false // the section's bind failed and said why
	}
	if offset+size < offset || offset+size > view.size {
		b.fail("variable %q: %d bytes at offset %d do not fit section %q (%d bytes mapped)", name, size, offset, view.name, view.size)
		return varBase{}, false
	}
	return varBase{p: unsafe.Add(view.addr, offset), closed: &view.closed, name: fmt.Sprintf("%q of %s", name, view.name)}, true
}

// Var is a live global variable of type T in a data section (.bss, .data,
// .data.*) shared with the BPF programs. Load and Store copy only the
// variable's own bytes, with plain (not atomic) memory accesses; integer
// variables get an [AtomicVar] instead. Using a Var after the skeleton's
// Close panics with a message that says so (the memory is detached, never
// unmapped under the Var). A Var is safe for concurrent use as far as the
// variable's own data allows.
type Var[T any] struct{ varBase }

// BindVar returns the variable called name, of type T at offset in the
// section mapped by view. On failure it records the reason in b.
func BindVar[T, S any](b *Binder, view *View[S], name string, offset uintptr) Var[T] {
	var t T
	if b != nil && view != nil {
		if err := plainData(reflect.TypeFor[T]()); err != nil {
			b.fail("variable %q: type %T cannot mirror BPF memory: %v", name, t, err)
			return Var[T]{}
		}
	}
	base, _ := bindVar(b, view, name, offset, unsafe.Sizeof(t))
	return Var[T]{base}
}

// Load returns the variable's value.
func (v *Var[T]) Load() T {
	v.check()
	x := *(*T)(v.p)
	runtime.KeepAlive(v.closed)
	return x
}

// Store sets the variable's value.
func (v *Var[T]) Store(x T) {
	v.check()
	*(*T)(v.p) = x
	runtime.KeepAlive(v.closed)
}

// ReadOnlyVar is a global variable of a section the kernel froze at load
// (.rodata, .rodata.*, .kconfig): it has Load and no Store, so a write is a
// compile error. Set its value before load, through the Spec.
type ReadOnlyVar[T any] struct{ varBase }

// BindReadOnlyVar is [BindVar] for a variable of a read-only section.
func BindReadOnlyVar[T, S any](b *Binder, view *View[S], name string, offset uintptr) ReadOnlyVar[T] {
	v := BindVar[T](b, view, name, offset)
	return ReadOnlyVar[T](v)
}

// Load returns the variable's value.
func (v *ReadOnlyVar[T]) Load() T {
	v.check()
	x := *(*T)(v.p)
	runtime.KeepAlive(v.closed)
	return x
}

// AtomicInt is an integer type [AtomicVar] supports.
type AtomicInt interface {
	~int32 | ~uint32 | ~int64 | ~uint64
}

// AtomicVar is a live integer global variable, naturally aligned, that BPF
// programs may update concurrently: Load, Store, Add, Swap and
// CompareAndSwap are atomic (sync/atomic on the shared memory), matching
// __sync_fetch_and_add and friends on the BPF side.
type AtomicVar[T AtomicInt] struct{ varBase }

// BindAtomicVar is [BindVar] for an integer variable of 4 or 8 bytes at an
// offset that is a multiple of its size.
func BindAtomicVar[T AtomicInt, S any](b *Binder, view *View[S], name string, offset uintptr) AtomicVar[T] {
	var t T
	if size := unsafe.Sizeof(t); offset%size != 0 {
		if b != nil {
			b.fail("variable %q: offset %d is not a multiple of its size %d, so it cannot be accessed atomically", name, offset, size)
		}
		return AtomicVar[T]{}
	}
	base, _ := bindVar(b, view, name, offset, unsafe.Sizeof(t))
	return AtomicVar[T]{base}
}

func (v *AtomicVar[T]) is64() bool {
	var t T
	return unsafe.Sizeof(t) == 8
}

// Load atomically loads the variable.
func (v *AtomicVar[T]) Load() T {
	v.check()
	var x T
	if v.is64() {
		x = T(atomic.LoadUint64((*uint64)(v.p)))
	} else {
		x = T(atomic.LoadUint32((*uint32)(v.p)))
	}
	runtime.KeepAlive(v.closed)
	return x
}

// Store atomically stores x.
func (v *AtomicVar[T]) Store(x T) {
	v.check()
	if v.is64() {
		atomic.StoreUint64((*uint64)(v.p), uint64(x))
	} else {
		atomic.StoreUint32((*uint32)(v.p), uint32(x))
	}
	runtime.KeepAlive(v.closed)
}

// Add atomically adds delta and returns the new value.
func (v *AtomicVar[T]) Add(delta T) T {
	v.check()
	var x T
	if v.is64() {
		x = T(atomic.AddUint64((*uint64)(v.p), uint64(delta)))
	} else {
		x = T(atomic.AddUint32((*uint32)(v.p), uint32(delta)))
	}
	runtime.KeepAlive(v.closed)
	return x
}

// Swap atomically stores x and returns the old value.
func (v *AtomicVar[T]) Swap(x T) T {
	v.check()
	var old T
	if v.is64() {
		old = T(atomic.SwapUint64((*uint64)(v.p), uint64(x)))
	} else {
		old = T(atomic.SwapUint32((*uint32)(v.p), uint32(x)))
	}
	runtime.KeepAlive(v.closed)
	return old
}

// CompareAndSwap atomically stores x if the variable holds old, and
// reports whether it did.
func (v *AtomicVar[T]) CompareAndSwap(old, x T) bool {
	v.check()
	var ok bool
	if v.is64() {
		ok = atomic.CompareAndSwapUint64((*uint64)(v.p), uint64(old), uint64(x))
	} else {
		ok = atomic.CompareAndSwapUint32((*uint32)(v.p), uint32(old), uint32(x))
	}
	runtime.KeepAlive(v.closed)
	return ok
}
