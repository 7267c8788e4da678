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
// bytes apart, and the keys of a batch one after the other. When sizeof(V)
// is a multiple of 8 the kernel reads and writes the caller's slice
// directly; otherwise each call goes through a pooled buffer and copies
// element by element. Either way LookupInto, Update, Delete and the batch
// operations do not allocate once the pool is warm.
//
// A PerCPUMap is safe for concurrent use.
type PerCPUMap[K, V any] struct {
	m      *ebpf.Map
	name   string
	cpus   int
	stride int       // roundup(sizeof(V), 8): bytes between two CPUs' values
	packed bool      // sizeof(V) == stride: the kernel can use a []V directly
	pool   sync.Pool // *[]uint64: staging buffers (stage)
	// scratch holds *[]V of cpus elements, the slice All yields when V is
	// not packed.
	scratch sync.Pool

	walkers *walkers
	errMiss error
	errEnd  error // preallocated end of a batch walk, wraps ebpf.ErrKeyNotExist
	coll    *Collection
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
		errEnd:  fmt.Errorf("map %q: batch walk: end of map: %w", name, ebpf.ErrKeyNotExist),
		walkers: newWalkers(m, cpus*stride),
		coll:    b.c,
	}
	pm.pool.New = func() any { return new([]uint64) }
	pm.scratch.New = func() any {
		s := make([]V, cpus)
		return &s
	}
	return pm
}

// stage returns the memory the kernel reads or writes for values, laid
// out as it wants them: values itself when V is packed; otherwise a
// pooled buffer of the same values roundup(sizeof(V), 8) bytes apart,
// filled from values when in is set. unstage hands the buffer back.
func (m *PerCPUMap[K, V]) stage(values []V, in bool) (unsafe.Pointer, *[]uint64) {
	if m.packed {
		return sliceData(values), nil
	}
	bp := m.pool.Get().(*[]uint64)
	words := len(values) * m.stride / 8
	if len(*bp) < words {
		*bp = make([]uint64, words)
	}
	p := unsafe.Pointer(unsafe.SliceData(*bp))
	if in {
		clear((*bp)[:words]) // the bytes between values reach the kernel too
		for i := range values {
			*(*V)(unsafe.Add(p, i*m.stride)) = values[i]
		}
	}
	return p, bp
}

// unstage copies the first n values out of a staging buffer into dst
// (none when the kernel read from it) and returns it to the pool.
func (m *PerCPUMap[K, V]) unstage(bp *[]uint64, dst []V, n int) {
	if bp == nil {
		return
	}
	m.unpack(dst[:n], unsafe.Pointer(unsafe.SliceData(*bp)))
	m.pool.Put(bp)
}

// unpack copies len(dst) values laid out stride bytes apart at src.
func (m *PerCPUMap[K, V]) unpack(dst []V, src unsafe.Pointer) {
	for i := range dst {
		dst[i] = *(*V)(unsafe.Add(src, i*m.stride))
	}
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
	if !m.coll.enter() {
		return closedErr("map", m.name, "lookup")
	}
	defer m.coll.exit()
	p, bp := m.stage(dst, false)
	err := sysElem(cmd, m.m.FD(), unsafe.Pointer(key), p, 0)
	n := 0
	if err == nil {
		n = len(dst)
	}
	m.unstage(bp, dst, n)
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
	if !m.coll.enter() {
		return closedErr("map", m.name, "update")
	}
	defer m.coll.exit()
	p, bp := m.stage(values, true)
	err := sysElem(cmdUpdateElem, m.m.FD(), unsafe.Pointer(&key), p, uint64(flags))
	m.unstage(bp, values, 0)
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
	if !m.coll.enter() {
		return closedErr("map", m.name, "delete")
	}
	defer m.coll.exit()
	if err := sysElem(cmdDeleteElem, m.m.FD(), unsafe.Pointer(&key), nil, 0); err != nil {
		return wrapErr("map", m.name, fmt.Errorf("delete: %w", err))
	}
	return nil
}

// BatchLookup reads up to len(keys) entries, from where c stands, into
// keys and values with one BPF_MAP_LOOKUP_BATCH, and returns how many it
// read. values holds [PerCPUMap.CPUs] elements per key, entry i's value on
// CPU j at values[i*CPUs()+j], so it must have at least
// len(keys)*CPUs() elements. When the walk has reached the end of the map
// the error wraps ebpf.ErrKeyNotExist and the first n entries are still
// valid. Hash maps refuse (ENOSPC) a batch smaller than one of their
// buckets. It does not allocate, except a cursor's first use, a staging
// buffer's growth and on errors other than the end of the map.
func (m *PerCPUMap[K, V]) BatchLookup(c *BatchCursor, keys []K, values []V) (int, error) {
	return m.batchLookup(cmdLookupBatch, c, keys, values)
}

// BatchLookupAndDelete is [PerCPUMap.BatchLookup] with
// BPF_MAP_LOOKUP_AND_DELETE_BATCH: the entries it reads are removed in the
// same step. Per-CPU hash maps have it; on arrays the error wraps
// ebpf.ErrNotSupported.
func (m *PerCPUMap[K, V]) BatchLookupAndDelete(c *BatchCursor, keys []K, values []V) (int, error) {
	return m.batchLookup(cmdLookupAndDeleteBatch, c, keys, values)
}

func (m *PerCPUMap[K, V]) batchLookup(cmd uintptr, c *BatchCursor, keys []K, values []V) (int, error) {
	if err := m.checkBatch(len(keys), len(values)); err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		return 0, nil
	}
	if !m.coll.enter() {
		return 0, closedErr("map", m.name, batchOp(cmd))
	}
	defer m.coll.exit()
	values = values[:len(keys)*m.cpus]
	p, bp := m.stage(values, false)
	n, err := batchLookup(cmd, m.m, m.name, c, sliceData(keys), p, len(keys), m.errEnd)
	m.unstage(bp, values, min(n, len(keys))*m.cpus)
	return n, err
}

// BatchUpdate stores the per-CPU values of keys[i], values[i*CPUs():
// (i+1)*CPUs()], under keys[i] for every i with one BPF_MAP_UPDATE_BATCH,
// creating or replacing each entry as [Map.BatchUpdate] does, and returns
// how many it stored: the kernel stops at the first failure. values must
// have at least len(keys)*CPUs() elements. It does not allocate on
// success once the staging buffer has grown.
func (m *PerCPUMap[K, V]) BatchUpdate(keys []K, values []V) (int, error) {
	if err := m.checkBatch(len(keys), len(values)); err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		return 0, nil
	}
	if !m.coll.enter() {
		return 0, closedErr("map", m.name, "batch update")
	}
	defer m.coll.exit()
	values = values[:len(keys)*m.cpus]
	p, bp := m.stage(values, true)
	n, err := sysBatch(cmdUpdateBatch, m.m.FD(), nil, nil, sliceData(keys), p, uint32(len(keys)), 0)
	m.unstage(bp, values, 0)
	if err != nil {
		return n, fmt.Errorf("map %q: batch update: %w", m.name, err)
	}
	return n, nil
}

// BatchDelete removes every key in keys with one BPF_MAP_DELETE_BATCH and
// returns how many it removed (the kernel stops at the first missing key,
// with an error wrapping ebpf.ErrKeyNotExist). Arrays cannot delete: the
// error wraps ebpf.ErrNotSupported. It does not allocate on success.
func (m *PerCPUMap[K, V]) BatchDelete(keys []K) (int, error) {
	if err := m.checkBatch(len(keys), len(keys)*m.CPUs()); err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		return 0, nil
	}
	if !m.coll.enter() {
		return 0, closedErr("map", m.name, "batch delete")
	}
	defer m.coll.exit()
	n, err := sysBatch(cmdDeleteBatch, m.m.FD(), nil, nil, sliceData(keys), nil, uint32(len(keys)), 0)
	if err != nil {
		return n, fmt.Errorf("map %q: batch delete: %w", m.name, err)
	}
	return n, nil
}

// checkBatch reports why a batch of keys keys and values values cannot
// run.
func (m *PerCPUMap[K, V]) checkBatch(keys, values int) error {
	if m == nil || m.m == nil {
		return errNilMap
	}
	if need := keys * m.cpus; values < need {
		return fmt.Errorf("map %q: batch of %d keys with %d values: it needs %d, one per key and possible CPU (%d CPUs; make the slice len(keys)*CPUs())", m.name, keys, values, need, m.cpus)
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
// it yields is reused for every entry: copy it to keep it. It reads the
// map a batch at a time as [Map.All] does (key by key where the kernel has
// no batch operations for the map type) and does not allocate per walk
// once the handle's buffers are warm. An error ends the sequence like the
// end of the map does; use [PerCPUMap.Iterate] and [PerCPUIterator.Err]
// to tell them apart.
func (m *PerCPUMap[K, V]) All() iter.Seq2[K, []V] {
	return func(yield func(K, []V) bool) {
		if m == nil || m.m == nil {
			return
		}
		// The loop of PerCPUIterator.Next, flattened, as in Map.All.
		w := m.walkers.get()
		defer m.walkers.put(w)
		var scratch *[]V // unpacked values: a copy out of the batch buffer
		if !m.packed {
			scratch = m.scratch.Get().(*[]V)
			defer m.scratch.Put(scratch)
		}
		for {
			keys, vals := unsafe.Pointer(&w.keys[0]), unsafe.Pointer(&w.vals[0])
			for ; w.i < w.n; w.i++ {
				k := *(*K)(unsafe.Add(keys, w.i*w.keySize))
				v := unsafe.Add(vals, w.i*w.valSize)
				var values []V
				if scratch == nil {
					// The kernel's layout is the slice's: yield the
					// batch buffer itself, 8-byte aligned.
					values = unsafe.Slice((*V)(v), m.cpus)
				} else {
					values = *scratch
					m.unpack(values, v)
				}
				if !yield(k, values) {
					return
				}
			}
			if w.done || w.err != nil {
				return
			}
			if !m.coll.enter() {
				return // closed: the sequence ends, as on any error
			}
			w.fill()
			m.coll.exit()
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
	for w := it.w; w.i >= w.n && !w.done && w.err == nil; {
		// A system call (w.fill): take the guard, as Iterator.Next does.
		if !it.m.coll.enter() {
			it.err = closedErr("map", it.m.name, "iterate")
			it.release()
			return false
		}
		w.fill()
		it.m.coll.exit()
	}
	k, v, ok := it.w.next()
	if ok {
		it.key = *(*K)(k)
		it.m.unpack(it.values, v)
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
