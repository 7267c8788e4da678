package bpfskel

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/cilium/ebpf"
)

// View is a typed live view of the memory of a BPF_F_MMAPABLE array map:
// element i is the array's value at index i, shared with BPF programs.
// Views are created by [MmapArray.Mmap] (one element per array entry) and
// [BindSection] (one element: the whole data section).
//
// A View is safe for concurrent use. Get and Set copy whole elements; they
// are not atomic with respect to concurrent writers of the same element.
// See the package documentation for the memory-safety rules.
type View[T any] struct {
	name   string
	addr   unsafe.Pointer // start of the mapping, outside the Go heap
	size   uintptr        // bytes mapped
	stride uintptr        // roundup(sizeof(T), 8)
	n      int
	ro     bool
	prot   int

	closed atomic.Bool
	mu     sync.Mutex // serialises Close
	owner  *Collection
}

// testHookUnmapped, when set by a test, is called after a cleanup unmapped
// a view's address range.
var testHookUnmapped atomic.Pointer[func(addr unsafe.Pointer, err error)]

// mapping is what the cleanup needs to unmap a view's address range.
type mapping struct {
	addr unsafe.Pointer // mmap memory, never Go heap
	size uintptr
}

// newView maps m (an mmapable array whose value size was checked against T)
// and registers the view with owner, which closes it on Collection.Close.
func newView[T any](owner *Collection, name string, m *ebpf.Map) (*View[T], error) {
	if owner == nil {
		return nil, fmt.Errorf("map %q: mmap: not bound to a Collection", name)
	}
	var zero T
	elem := uint64(unsafe.Sizeof(zero))
	// T may be longer than the value by padding that stays inside the
	// value's 8-byte slot (a data section's tail, see BindSection), and
	// shorter only for a one-entry map: a data section whose last array
	// was resized.
	if vs := uint64(m.ValueSize()); elem == 0 || elem > roundUp(vs, 8) || (elem < vs && m.MaxEntries() != 1) {
		return nil, fmt.Errorf("map %q: mmap: value is %d bytes in Go, %d in the object", name, elem, m.ValueSize())
	}
	stride := roundUp(uint64(m.ValueSize()), 8)
	entries := uint64(m.MaxEntries())
	page := uint64(os.Getpagesize())
	total := stride * entries // both < 2^32: no overflow
	size := roundUp(total, page)
	if entries == 0 || size > math.MaxInt || uint64(uintptr(size)) != size || entries > math.MaxInt {
		return nil, fmt.Errorf("map %q: mmap: %d entries of %d bytes do not fit in the address space", name, entries, stride)
	}

	// Hold the collection's lock across the mmap: Collection.Close cannot
	// close the map's file descriptor (whose number could then be reused)
	// while it is being mapped.
	owner.mu.Lock()
	defer owner.mu.Unlock()
	if owner.closed {
		return nil, fmt.Errorf("map %q: mmap: collection %w", name, ErrClosed)
	}
	fd := m.FD()
	if fd < 0 {
		return nil, fmt.Errorf("map %q: mmap: map is closed", name)
	}

	addr, prot, ro, err := mmapShared(fd, uintptr(size))
	if err != nil {
		return nil, fmt.Errorf("map %q: mmap: %w", name, err)
	}

	v := &View[T]{
		name:   name,
		addr:   addr,
		size:   uintptr(size),
		stride: uintptr(stride),
		n:      int(entries),
		ro:     ro,
		prot:   prot,
		owner:  owner,
	}
	// The range is unmapped only when the View is unreachable: until then a
	// Get racing with Close reads mapped memory.
	runtime.AddCleanup(v, func(r mapping) {
		err := munmap(r.addr, r.size)
		if hook := testHookUnmapped.Load(); hook != nil {
			(*hook)(r.addr, err)
		}
	}, mapping{addr: addr, size: uintptr(size)})
	owner.registerLocked(v)
	return v, nil
}

func roundUp(x, align uint64) uint64 {
	return (x + align - 1) / align * align
}

// Len returns the number of elements in the view.
func (v *View[T]) Len() int {
	if v == nil {
		return 0
	}
	return v.n
}

// ReadOnly reports whether the view was mapped read-only, because the map
// is frozen or was created with BPF_F_RDONLY_PROG. Set always fails on a
// read-only view.
func (v *View[T]) ReadOnly() bool {
	return v != nil && v.ro
}

// element returns the address of element i, or an error when i is out of
// range or the view is closed.
func (v *View[T]) element(i int) (unsafe.Pointer, error) {
	if v == nil {
		return nil, errors.New("bpfskel: nil View")
	}
	if v.closed.Load() {
		return nil, fmt.Errorf("map %q: view %w", v.name, ErrClosed)
	}
	if i < 0 || i >= v.n {
		return nil, fmt.Errorf("map %q: index %d out of range [0, %d)", v.name, i, v.n)
	}
	return unsafe.Add(v.addr, uintptr(i)*v.stride), nil
}

// Get returns a copy of element i.
func (v *View[T]) Get(i int) (T, error) {
	p, err := v.element(i)
	if err != nil {
		var zero T
		return zero, err
	}
	value := *(*T)(p)
	// Keep v reachable until the copy is done: its cleanup unmaps p.
	runtime.KeepAlive(v)
	return value, nil
}

// Set stores value as element i. It fails on a read-only view with an error
// wrapping ebpf.ErrReadOnly.
func (v *View[T]) Set(i int, value T) error {
	p, err := v.element(i)
	if err != nil {
		return err
	}
	if v.ro {
		return fmt.Errorf("map %q: view is mapped read-only (frozen or BPF_F_RDONLY_PROG map): %w", v.name, ebpf.ErrReadOnly)
	}
	*(*T)(p) = value
	runtime.KeepAlive(v)
	return nil
}

// Close detaches the view from the map. Later Get and Set calls return an
// error wrapping [ErrClosed]; calls racing with Close may read or write
// detached private memory but never fault. The kernel mapping is released
// at once (a writable view no longer blocks freezing the map); the address
// range itself is unmapped when the View is garbage collected. Close is
// idempotent.
func (v *View[T]) Close() error {
	if v == nil {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed.Load() {
		return nil
	}
	v.closed.Store(true)
	if v.owner != nil {
		v.owner.unregister(v)
	}
	err := detach(v.addr, v.size, v.prot)
	runtime.KeepAlive(v)
	if err != nil {
		// The shared mapping stays in place until the cleanup unmaps it;
		// Get and Set already fail with ErrClosed.
		return fmt.Errorf("map %q: close view: %w", v.name, err)
	}
	return nil
}
