package bpfskel

import (
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/cilium/ebpf"
)

// bpfFMmapable is BPF_F_MMAPABLE from include/uapi/linux/bpf.h, spelled
// out so the package builds where golang.org/x/sys/unix lacks it.
const bpfFMmapable = 0x400

// Binder resolves the maps, programs and data sections of a [Collection]
// by name into typed handles, checking each against the loaded object.
// A failed bind returns nil and records why; [Binder.Err] reports every
// failure at once. A generated skeleton binds everything, then checks Err
// once. A Binder is not safe for concurrent use: goroutines that bind at
// the same time each use their own, over the same Collection (binds racing
// with Collection.Close fail with an error wrapping ErrClosed).
type Binder struct {
	c    *Collection
	errs []error
}

// NewBinder returns a Binder over c.
func NewBinder(c *Collection) *Binder {
	return &Binder{c: c}
}

// Err returns the failures of every bind so far, joined with errors.Join,
// or nil when everything bound.
func (b *Binder) Err() error {
	if b == nil {
		return errors.New("bpfskel: nil Binder")
	}
	return errors.Join(b.errs...)
}

// Done ends binding: it returns [Binder.Err], and when that is not nil it
// also closes the Collection, so that a skeleton that failed to bind
// leaves no map, program or view open.
func (b *Binder) Done() error {
	err := b.Err()
	if err != nil && b != nil && b.c != nil {
		err = errors.Join(err, b.c.Close())
	}
	return err
}

// fail records a bind failure, prefixed with the object's name.
func (b *Binder) fail(format string, args ...any) {
	name := defaultObjectName
	if b.c != nil {
		name = b.c.name
	}
	b.errs = append(b.errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
}

// loaded returns the collection's maps and programs, or records why there
// are none.
func (b *Binder) loaded(kind, name string) *ebpf.Collection {
	if b.c == nil || b.c.coll == nil {
		b.fail("%s %q: no Collection to bind from", kind, name)
		return nil
	}
	b.c.mu.Lock()
	closed := b.c.closed
	b.c.mu.Unlock()
	if closed {
		b.fail("%s %q: bind: collection %w", kind, name, ErrClosed)
		return nil
	}
	return b.c.coll
}

func (b *Binder) findMap(name string) *ebpf.Map {
	coll := b.loaded("map", name)
	if coll == nil {
		return nil
	}
	m := coll.Maps[name]
	if m == nil {
		if b.c.from != nil {
			// OpenMaps was asked for other maps only.
			return nil
		}
		b.fail("map %q: not found in the loaded object", name)
		return nil
	}
	if !b.checkOpened(name, m) {
		return nil
	}
	return m
}

// checkSize records a mismatch between the Go size of a key or value and
// the size in the object.
func (b *Binder) checkSize(name, what string, goSize uintptr, objSize uint32) bool {
	if uint64(goSize) == uint64(objSize) {
		return true
	}
	b.fail("%w", &LayoutError{Map: name, What: what, GoSize: uint64(goSize), ObjectSize: uint64(objSize), Where: b.c.origin(name)})
	return false
}

// checkPlain records a Go type that cannot hold kernel memory.
func (b *Binder) checkPlain(name, what string, t reflect.Type) bool {
	if err := plainData(t); err != nil {
		b.fail("map %q: %s type %s cannot mirror BPF memory: %w", name, what, t, err)
		return false
	}
	return true
}

// plainData reports whether values of t are plain bytes: no Go pointers the
// garbage collector would have to follow (pointers, strings, slices, maps,
// interfaces, channels, functions).
func plainData(t reflect.Type) error {
	switch t.Kind() {
	case reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return nil
	case reflect.Array:
		if err := plainData(t.Elem()); err != nil {
			return fmt.Errorf("element: %w", err)
		}
		return nil
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if err := plainData(f.Type); err != nil {
				return fmt.Errorf("field %s: %w", f.Name, err)
			}
		}
		return nil
	default:
		return fmt.Errorf("%s holds Go pointers", t.Kind())
	}
}

func isPerCPU(t ebpf.MapType) bool {
	switch t {
	case ebpf.PerCPUHash, ebpf.PerCPUArray, ebpf.LRUCPUHash, ebpf.PerCPUCGroupStorage:
		return true
	}
	return false
}

// BindUntypedMap returns the map called name as a plain cilium/ebpf map,
// for map types that have no typed handle yet (ring buffers, per-CPU maps,
// maps of maps, ...). It is closed by [Collection.Close].
func BindUntypedMap(b *Binder, name string) *ebpf.Map {
	return b.findMap(name)
}

// checkMmapable records why m cannot be mmapped: only arrays created with
// BPF_F_MMAPABLE can (cilium/ebpf sets it on data sections where the
// kernel, 5.5 or later, supports it).
func (b *Binder) checkMmapable(name string, m *ebpf.Map) bool {
	switch {
	case m.Type() != ebpf.Array:
		b.fail("map %q: is a %s map; only an Array can be mmapped", name, m.Type())
		return false
	case m.Flags()&bpfFMmapable == 0:
		b.fail("map %q: was created without BPF_F_MMAPABLE (kernel older than 5.5?), so it cannot be mmapped", name)
		return false
	}
	return true
}

// checkKeyValue records why K and V cannot be the key and value types of
// m: Go pointers in them, or sizes other than the map's.
func checkKeyValue[K, V any](b *Binder, name string, m *ebpf.Map) bool {
	var (
		k K
		v V
	)
	ok := b.checkPlain(name, "key", reflect.TypeFor[K]())
	ok = b.checkPlain(name, "value", reflect.TypeFor[V]()) && ok
	ok = b.checkSize(name, "key", unsafe.Sizeof(k), m.KeySize()) && ok
	return b.checkSize(name, "value", unsafe.Sizeof(v), m.ValueSize()) && ok
}

// bindMap does the checks shared by BindMap and BindMmapArray.
func bindMap[K, V any](b *Binder, name string) (*ebpf.Map, Map[K, V], bool) {
	m := b.findMap(name)
	if m == nil {
		return nil, Map[K, V]{}, false
	}
	ok := checkKeyValue[K, V](b, name, m)
	var v V
	if isPerCPU(m.Type()) {
		b.fail("map %q: a %s map holds one value per CPU; bind it with BindPerCPUMap", name, m.Type())
		ok = false
	}
	if !ok {
		return m, Map[K, V]{}, false
	}
	return m, Map[K, V]{
		m:       m,
		name:    name,
		coll:    b.c,
		nilKey:  m.KeySize() == 0,
		errMiss: wrapErr("map", name, errLookupMiss),
		errEnd:  &opError{what: "map", name: name, err: errWalkEnd},
		walkers: newWalkers(m, int(unsafe.Sizeof(v))),
	}, true
}

// BindMap returns a typed handle on the map called name. It checks that
// the map exists, that K and V are plain data and that their sizes are the
// map's key and value sizes. On failure it returns nil and records the
// reason in b.
func BindMap[K, V any](b *Binder, name string) *Map[K, V] {
	if b == nil {
		return nil
	}
	_, m, ok := bindMap[K, V](b, name)
	if !ok {
		return nil
	}
	return &m
}

// BindMmapArray is [BindMap] for an array created with BPF_F_MMAPABLE,
// whose memory [MmapArray.Mmap] can map. It also checks the map type and
// flag. On failure it returns nil and records the reason in b.
func BindMmapArray[K, V any](b *Binder, name string) *MmapArray[K, V] {
	if b == nil {
		return nil
	}
	em, m, ok := bindMap[K, V](b, name)
	if em == nil {
		return nil
	}
	if !b.checkMmapable(name, em) || !ok {
		return nil
	}
	return &MmapArray[K, V]{typedMap: m}
}

// BindSection maps the data section called name (".bss", ".data",
// ".rodata", ".data.<suffix>", ...) and returns a view of it with a single
// element of type T, the whole section. It checks that the section is a
// one-entry BPF_F_MMAPABLE array whose value size is sizeof(T), or less by
// at most the padding Go adds after the last variable: a section of 5
// bytes whose first variable is a __u32 is an 8-byte Go struct. That
// padding is memory the kernel allocates anyway: an array map stores each
// value in roundup(value_size, 8) bytes, and the mapping is whole pages.
// The view is closed by [Collection.Close]. On failure it returns nil and records the
// reason in b.
//
// A frozen section (.rodata after loading) is mapped read-only.
func BindSection[T any](b *Binder, name string) *View[T] {
	if b == nil {
		return nil
	}
	m := b.findMap(name)
	if m == nil {
		return nil
	}
	var t T
	ok := b.checkPlain(name, "section", reflect.TypeFor[T]())
	// T may be longer than the value by padding that stays inside the
	// value's 8-byte slot (a data section's tail), and shorter only when
	// the array that ends the section was resized before load
	// (Spec.ResizeArray).
	size, vs := uint64(unsafe.Sizeof(t)), uint64(m.ValueSize())
	if size > roundUp(vs, 8) || (size < vs && !b.c.resized(name)) {
		b.fail("map %q: section is %d bytes in Go, %d in the object (Go may add at most the padding up to %d)", name, size, vs, roundUp(vs, 8))
		ok = false
	}
	mmapable := b.checkMmapable(name, m)
	ok = mmapable && ok
	if mmapable && m.MaxEntries() != 1 {
		b.fail("map %q: has %d entries, a data section has 1", name, m.MaxEntries())
		ok = false
	}
	if !ok {
		return nil
	}
	v, err := newView[T](b.c, name, m)
	if err != nil {
		b.fail("%w", err)
		return nil
	}
	return v
}
