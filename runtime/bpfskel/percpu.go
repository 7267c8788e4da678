package bpfskel

import (
	"errors"
	"fmt"
	"iter"
	"sync"
	"unsafe"

	"github.com/cilium/ebpf"
)

// PerCPUMap is a typed handle on a map that holds one value per possible
// CPU under each key (PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH), created
// by [BindPerCPUMap]. A value crosses as a slice with one element per
// possible CPU, [PerCPUMap.CPUs] long, element i being CPU i's.
//
// The kernel lays out the per-CPU values of one key roundup(value_size, 8)
// bytes apart. When sizeof(V) is a multiple of 8 the kernel reads and
// writes the caller's slice directly; otherwise each call goes through a
// pooled buffer and copies element by element. Either way LookupInto,
// Update and Delete do not allocate once the pool is warm.
//
// A PerCPUMap is safe for concurrent use.
type PerCPUMap[K, V any] struct {
	m      *ebpf.Map
	name   string
	cpus   int
	stride int  // roundup(sizeof(V), 8): bytes between two CPUs' values
	packed bool // sizeof(V) == stride: the kernel can use a []V directly
	pool   sync.Pool

	walkers *walkers
	errMiss error
}

// BindPerCPUMap returns a typed handle on the per-CPU map called name. It
// checks that the map exists and holds one value per CPU, that K and V are
// plain data and that their sizes are the map's key and value sizes. On
// failure it returns nil and records the reason in b.
func BindPerCPUMap[K, V any](b *Binder, name string) *PerCPUMap[K, V] {
	if b == nil {
		return nil
	}
	m := b.findMap(name)
	if m == nil {
		return nil
	}
	ok := checkKeyValue[K, V](b, name, m)
	var v V
	if !isPerCPU(m.Type()) {
		b.fail("map %q: is a %s map, not a per-CPU one; bind it with BindMap", name, m.Type())
		ok = false
	}
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		b.fail("map %q: %w", name, err)
		ok = false
	}
	if !ok {
		return nil
	}
	stride := (int(unsafe.Sizeof(v)) + 7) &^ 7
	pm := &PerCPUMap[K, V]{
		m: m, name: name, cpus: cpus, stride: stride,
		packed:  stride == int(unsafe.Sizeof(v)),
		errMiss: fmt.Errorf("map %q: lookup: %w", name, ebpf.ErrKeyNotExist),
		walkers: newWalkers(m, cpus*stride),
	}
	pm.pool.New = func() any {
		buf := make([]uint64, cpus*stride/8)
		return &buf
	}
	return pm
}

// Map returns the underlying cilium/ebpf map, the escape hatch. It is
// closed by [Collection.Close].
func (m *PerCPUMap[K, V]) Map() *ebpf.Map {
	if m == nil {
		return nil
	}
	return m.m
}

// CPUs is the number of possible CPUs: the length of every per-CPU value.
func (m *PerCPUMap[K, V]) CPUs() int {
	if m == nil {
		return 0
	}
	return m.cpus
}

func (m *PerCPUMap[K, V]) check(values int) error {
	if m == nil || m.m == nil {
		return errNilMap
	}
	if values != m.cpus {
		return fmt.Errorf("map %q: %d values for %d possible CPUs (make the slice with CPUs())", m.name, values, m.cpus)
	}
	return nil
}

// Lookup returns the per-CPU values stored under key in a new slice. When
// key is absent the error wraps ebpf.ErrKeyNotExist.
func (m *PerCPUMap[K, V]) Lookup(key K) ([]V, error) {
	if m == nil {
		return nil, errNilMap
	}
	values := make([]V, m.cpus)
	if err := m.LookupInto(&key, values); err != nil {
		return nil, err
	}
	return values, nil
}

// LookupInto reads the per-CPU values stored under *key into dst, which
// must have [PerCPUMap.CPUs] elements. It does not allocate, on a miss
// either (the error then wraps ebpf.ErrKeyNotExist and dst is
// unspecified).
func (m *PerCPUMap[K, V]) LookupInto(key *K, dst []V) error {
	return m.read(cmdLookupElem, key, dst)
}

// LookupAndDeleteInto reads the per-CPU values stored under *key into dst
// and removes the key in one step (per-CPU hash maps, kernel 5.14 and
// later; arrays cannot delete).
func (m *PerCPUMap[K, V]) LookupAndDeleteInto(key *K, dst []V) error {
	return m.read(cmdLookupAndDeleteElem, key, dst)
}

func (m *PerCPUMap[K, V]) read(cmd uintptr, key *K, dst []V) error {
	if key == nil {
		return errors.New("bpfskel: per-CPU lookup with a nil key")
	}
	if err := m.check(len(dst)); err != nil {
		return err
	}
	var err error
	if m.packed {
		err = sysElem(cmd, m.m.FD(), unsafe.Pointer(key), sliceData(dst), 0)
	} else {
		bp := m.pool.Get().(*[]uint64)
		buf := *bp
		err = sysElem(cmd, m.m.FD(), unsafe.Pointer(key), unsafe.Pointer(&buf[0]), 0)
		if err == nil {
			for i := range dst {
				dst[i] = *(*V)(unsafe.Add(unsafe.Pointer(&buf[0]), i*m.stride))
			}
		}
		m.pool.Put(bp)
	}
	if err != nil {
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return m.errMiss
		}
		return fmt.Errorf("map %q: lookup: %w", m.name, err)
	}
	return nil
}

// Update stores values, one per possible CPU, under key. flags select
// create-only ([UpdateNoExist]), update-only ([UpdateExist]) or either
// ([UpdateAny]).
func (m *PerCPUMap[K, V]) Update(key K, values []V, flags UpdateFlags) error {
	if err := m.check(len(values)); err != nil {
		return err
	}
	var err error
	if m.packed {
		err = sysElem(cmdUpdateElem, m.m.FD(), unsafe.Pointer(&key), sliceData(values), uint64(flags))
	} else {
		bp := m.pool.Get().(*[]uint64)
		buf := *bp
		clear(buf) // the bytes between values reach the kernel too
		for i := range values {
			*(*V)(unsafe.Add(unsafe.Pointer(&buf[0]), i*m.stride)) = values[i]
		}
		err = sysElem(cmdUpdateElem, m.m.FD(), unsafe.Pointer(&key), unsafe.Pointer(&buf[0]), uint64(flags))
		m.pool.Put(bp)
	}
	if err != nil {
		return fmt.Errorf("map %q: update: %w", m.name, err)
	}
	return nil
}

// Delete removes key. When key is absent the error wraps
// ebpf.ErrKeyNotExist; arrays cannot delete.
func (m *PerCPUMap[K, V]) Delete(key K) error {
	if m == nil || m.m == nil {
		return errNilMap
	}
	if err := sysElem(cmdDeleteElem, m.m.FD(), unsafe.Pointer(&key), nil, 0); err != nil {
		return fmt.Errorf("map %q: delete: %w", m.name, err)
	}
	return nil
}

// Iterate returns an iterator over the map's keys and per-CPU values,
// read a batch at a time as [Map.Iterate] does.
func (m *PerCPUMap[K, V]) Iterate() *PerCPUIterator[K, V] {
	if m == nil || m.m == nil {
		return &PerCPUIterator[K, V]{err: errNilMap}
	}
	return &PerCPUIterator[K, V]{
		m:      m,
		w:      m.walkers.get(),
		values: make([]V, m.cpus),
	}
}

// All returns the map's entries as a range-over-func sequence. The slice
// it yields is reused for every entry: copy it to keep it. It is
// Iterate().All(): an error ends the sequence like the end of the map
// does; use [PerCPUMap.Iterate] and [PerCPUIterator.Err] to tell them
// apart.
func (m *PerCPUMap[K, V]) All() iter.Seq2[K, []V] {
	return func(yield func(K, []V) bool) {
		it := m.Iterate()
		defer it.release() // nobody else holds it: hand its buffers back even after a break
		for it.Next() {
			if !yield(it.key, it.values) {
				return
			}
		}
	}
}

// PerCPUIterator walks the entries of a [PerCPUMap]; see [Iterator].
type PerCPUIterator[K, V any] struct {
	m      *PerCPUMap[K, V]
	w      *walker
	key    K
	values []V
	err    error
}

// Next advances to the next entry. It returns false at the end of the map
// or on error; check [PerCPUIterator.Err] afterwards.
func (it *PerCPUIterator[K, V]) Next() bool {
	if it == nil || it.err != nil || it.w == nil {
		return false
	}
	k, v, ok := it.w.next()
	if ok {
		it.key = *(*K)(k)
		for i := range it.values {
			it.values[i] = *(*V)(unsafe.Add(v, i*it.m.stride))
		}
		return true
	}
	if it.w.err != nil {
		it.err = fmt.Errorf("map %q: iterate: %w", it.m.name, it.w.err)
	}
	it.release()
	return false
}

// release hands the walker back for reuse; the iterator is done.
func (it *PerCPUIterator[K, V]) release() {
	if it.w != nil {
		it.m.walkers.put(it.w)
	}
	it.w = nil
}

// Key returns the key of the current entry.
func (it *PerCPUIterator[K, V]) Key() K {
	if it == nil {
		var zero K
		return zero
	}
	return it.key
}

// Values returns the per-CPU values of the current entry. The slice is
// reused by the next call to Next.
func (it *PerCPUIterator[K, V]) Values() []V {
	if it == nil {
		return nil
	}
	return it.values
}

// All returns the remaining entries as a range-over-func sequence; the
// slice it yields is reused for every entry. It stops at the first error;
// [PerCPUIterator.Err] then says which.
func (it *PerCPUIterator[K, V]) All() iter.Seq2[K, []V] {
	return func(yield func(K, []V) bool) {
		for it.Next() {
			if !yield(it.key, it.values) {
				return
			}
		}
	}
}

// Err returns the error that stopped the iteration, or nil when it ran to
// the end of the map.
func (it *PerCPUIterator[K, V]) Err() error {
	if it == nil {
		return errors.New("bpfskel: nil PerCPUIterator")
	}
	return it.err
}

// Number is the constraint of [Sum]: Go's integer and floating-point
// types and types defined over them (mirrored C enums included).
type Number interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 |
		~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr |
		~float32 | ~float64
}

// Sum adds up per-CPU values, the usual way to read a per-CPU counter.
// Integers wrap around on overflow as Go's + does.
func Sum[V Number](values []V) V {
	var sum V
	for _, v := range values {
		sum += v
	}
	return sum
}

// Reduce folds per-CPU values into one, starting from init: for struct
// values, Reduce(vals, Stats{}, func(a Stats, v Stats) Stats { a.Packets
// += v.Packets; return a }).
func Reduce[V, A any](values []V, init A, f func(A, V) A) A {
	acc := init
	for _, v := range values {
		acc = f(acc, v)
	}
	return acc
}
