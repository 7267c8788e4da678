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
	p         unsafe.Pointer // the variable's first byte, in the mapping
	closed    *atomic.Bool   // the View's flag; the pointer keeps the View (and its mapping) alive
	closedErr error          // the panic value of a use after Close
}

// check panics when the skeleton was closed: the mapping is detached. A
// Var that was never bound (its bind failed, so Load returned no
// skeleton) has no flag and panics on the nil pointer. check inlines: the
// panic value is made at bind time.
func (v *varBase) check() {
	if v.closed.Load() {
		panic(v.closedErr)
	}
}

// bindVar checks that a variable of size bytes at offset fits view's
// mapping and returns where it lives.
func bindVar[S any](b *Binder, view *View[S], name string, offset, size uintptr) (varBase, bool) {
	if b == nil || view == nil {
		return varBase{}, false // the section's bind failed and said why
	}
	// The section's value size, which may be larger than the view's type
	// after a resize; the mapping covers it.
	limit := view.size
	if b.c != nil && b.c.coll != nil {
		if m := b.c.coll.Maps[view.name]; m != nil {
			limit = uintptr(m.ValueSize())
		}
	}
	if offset+size < offset || offset+size > limit {
		b.fail("variable %q: %d bytes at offset %d do not fit section %q (%d bytes)", name, size, offset, view.name, limit)
		return varBase{}, false
	}
	return varBase{
		p:         unsafe.Add(view.addr, offset),
		closed:    &view.closed,
		closedErr: fmt.Errorf("bpfskel: global variable %q of %s used after Close: %w", name, view.name, ErrClosed),
	}, true
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

// bindAtomic is bindVar for an atomic integer of size bytes, which must be
// naturally aligned: the section's mapping starts on a page.
func bindAtomic[S any](b *Binder, view *View[S], name string, offset, size uintptr) (varBase, bool) {
	if offset%size != 0 {
		if b != nil {
			b.fail("variable %q: offset %d is not a multiple of its size %d, so it cannot be accessed atomically", name, offset, size)
		}
		return varBase{}, false
	}
	return bindVar(b, view, name, offset, size)
}

// AtomicInt is the integer types an [AtomicVar] holds: those BPF's atomic
// instructions work on.
type AtomicInt interface {
	~int32 | ~uint32 | ~int64 | ~uint64
}

// AtomicVar is a live integer global variable, naturally aligned, that BPF
// programs may update concurrently: its methods are atomic (sync/atomic on
// the shared memory), matching __sync_fetch_and_add and friends in BPF.
// Signed variables use the same instructions as unsigned ones; the
// arithmetic is two's complement either way.
type AtomicVar[T AtomicInt] struct{ varBase }

// The four instantiations generated code names.
type (
	AtomicInt32Var  = AtomicVar[int32]
	AtomicUint32Var = AtomicVar[uint32]
	AtomicInt64Var  = AtomicVar[int64]
	AtomicUint64Var = AtomicVar[uint64]
)

// BindAtomicVar is [BindVar] for an integer variable at an offset that is a
// multiple of its size.
func BindAtomicVar[T AtomicInt, S any](b *Binder, view *View[S], name string, offset uintptr) AtomicVar[T] {
	base, _ := bindAtomic(b, view, name, offset, unsafe.Sizeof(T(0)))
	return AtomicVar[T]{base}
}

// BindAtomicInt32Var is BindAtomicVar[int32].
func BindAtomicInt32Var[S any](b *Binder, view *View[S], name string, offset uintptr) AtomicInt32Var {
	return BindAtomicVar[int32](b, view, name, offset)
}

// BindAtomicUint32Var is BindAtomicVar[uint32].
func BindAtomicUint32Var[S any](b *Binder, view *View[S], name string, offset uintptr) AtomicUint32Var {
	return BindAtomicVar[uint32](b, view, name, offset)
}

// BindAtomicInt64Var is BindAtomicVar[int64].
func BindAtomicInt64Var[S any](b *Binder, view *View[S], name string, offset uintptr) AtomicInt64Var {
	return BindAtomicVar[int64](b, view, name, offset)
}

// BindAtomicUint64Var is BindAtomicVar[uint64].
func BindAtomicUint64Var[S any](b *Binder, view *View[S], name string, offset uintptr) AtomicUint64Var {
	return BindAtomicVar[uint64](b, view, name, offset)
}

// is32 reports whether T is a 32-bit integer; a constant in each
// instantiation, so every method compiles to one atomic instruction.
func is32[T AtomicInt]() bool { return unsafe.Sizeof(T(0)) == 4 }

// Load atomically loads the variable.
func (v *AtomicVar[T]) Load() T {
	v.check()
	var x T
	if is32[T]() {
		x = T(atomic.LoadUint32((*uint32)(v.p)))
	} else {
		x = T(atomic.LoadUint64((*uint64)(v.p)))
	}
	runtime.KeepAlive(v.closed)
	return x
}

// Store atomically stores x.
func (v *AtomicVar[T]) Store(x T) {
	v.check()
	if is32[T]() {
		atomic.StoreUint32((*uint32)(v.p), uint32(x))
	} else {
		atomic.StoreUint64((*uint64)(v.p), uint64(x))
	}
	runtime.KeepAlive(v.closed)
}

// Add atomically adds delta and returns the new value.
func (v *AtomicVar[T]) Add(delta T) T {
	v.check()
	var x T
	if is32[T]() {
		x = T(atomic.AddUint32((*uint32)(v.p), uint32(delta)))
	} else {
		x = T(atomic.AddUint64((*uint64)(v.p), uint64(delta)))
	}
	runtime.KeepAlive(v.closed)
	return x
}

// Swap atomically stores x and returns the old value.
func (v *AtomicVar[T]) Swap(x T) T {
	v.check()
	var old T
	if is32[T]() {
		old = T(atomic.SwapUint32((*uint32)(v.p), uint32(x)))
	} else {
		old = T(atomic.SwapUint64((*uint64)(v.p), uint64(x)))
	}
	runtime.KeepAlive(v.closed)
	return old
}

// CompareAndSwap atomically stores x if the variable holds old, and
// reports whether it did.
func (v *AtomicVar[T]) CompareAndSwap(old, x T) bool {
	v.check()
	var ok bool
	if is32[T]() {
		ok = atomic.CompareAndSwapUint32((*uint32)(v.p), uint32(old), uint32(x))
	} else {
		ok = atomic.CompareAndSwapUint64((*uint64)(v.p), uint64(old), uint64(x))
	}
	runtime.KeepAlive(v.closed)
	return ok
}

// ArrayVar is the array that ends a custom data section, whose length
// [Spec.ResizeArray] may change before load: Len is the length the section
// was loaded with, and Load and Store touch one element each.
type ArrayVar[E any] struct {
	varBase
	n    int
	size uintptr
}

// BindArrayVar returns the array variable called name at offset of the
// section mapped by view, with as many elements of type E as the loaded
// section holds after offset. On failure it records the reason in b.
func BindArrayVar[E, S any](b *Binder, view *View[S], name string, offset uintptr) ArrayVar[E] {
	var e E
	size := unsafe.Sizeof(e)
	if b == nil || view == nil || size == 0 {
		return ArrayVar[E]{}
	}
	if err := plainData(reflect.TypeFor[E]()); err != nil {
		b.fail("variable %q: element type %T cannot mirror BPF memory: %v", name, e, err)
		return ArrayVar[E]{}
	}
	total := view.size
	if m := b.c.coll.Maps[view.name]; m != nil {
		total = uintptr(m.ValueSize())
	}
	if offset > total {
		b.fail("variable %q: offset %d is past the end of section %q (%d bytes)", name, offset, view.name, total)
		return ArrayVar[E]{}
	}
	n := (total - offset) / size
	base, ok := bindVar(b, view, name, offset, n*size)
	if !ok {
		return ArrayVar[E]{}
	}
	return ArrayVar[E]{varBase: base, n: int(n), size: size}
}

// Len returns the number of elements.
func (v *ArrayVar[E]) Len() int { return v.n }

// Load returns element i. It panics when i is out of range, as indexing a
// Go slice does.
func (v *ArrayVar[E]) Load(i int) E {
	v.check()
	if uint(i) >= uint(v.n) {
		panic(fmt.Sprintf("bpfskel: index %d out of range [0, %d)", i, v.n))
	}
	x := *(*E)(unsafe.Add(v.p, uintptr(i)*v.size))
	runtime.KeepAlive(v.closed)
	return x
}

// Store sets element i. It panics when i is out of range.
func (v *ArrayVar[E]) Store(i int, x E) {
	v.check()
	if uint(i) >= uint(v.n) {
		panic(fmt.Sprintf("bpfskel: index %d out of range [0, %d)", i, v.n))
	}
	*(*E)(unsafe.Add(v.p, uintptr(i)*v.size)) = x
	runtime.KeepAlive(v.closed)
}
