package bpfskel

import (
	"errors"
	"fmt"
	"iter"
	"unsafe"

	"github.com/cilium/ebpf"
)

// Map is a typed handle on a BPF map with keys of type K and values of
// type V, created by [BindMap]. Keys and values go to the kernel as raw
// memory, so K and V must mirror the C types byte for byte; generated
// skeletons guarantee that, and [BindMap] checks the sizes.
//
// Lookup, LookupInto, Update and Delete use no reflection and do not
// allocate when they succeed or when a lookup misses; errors other than a
// miss allocate. A Map is safe for concurrent use.
//
// Maps that hold one value per CPU (PerCPUHash, PerCPUArray, LRUCPUHash)
// do not bind as a Map: use [PerCPUMap].
type Map[K, V any] struct {
	m    *ebpf.Map
	name string
	coll *Collection

	nilKey bool // key_size is 0 (queue, stack, bloom filter): the kernel wants a NULL key

	errMiss error // preallocated lookup miss error, wraps ebpf.ErrKeyNotExist
	errEnd  error // preallocated end of a batch walk, wraps ebpf.ErrKeyNotExist
	walkers *walkers

	own *ownFD // an InnerMap's descriptor, which its Close closes; else nil
}

// Map returns the underlying cilium/ebpf map, the escape hatch for
// operations this package does not wrap (pinning, spin-locked values, ...). It is closed by [Collection.Close].
func (m *Map[K, V]) Map() *ebpf.Map {
	if m == nil {
		return nil
	}
	return m.m
}

var errNilMap = errors.New("bpfskel: nil Map (did its bind fail? see Binder.Err)")

// check reports why typed operations cannot run on m.
func (m *Map[K, V]) check() error {
	if m == nil || m.m == nil {
		return errNilMap
	}
	return nil
}

// keyPtr is the key pointer to pass to the kernel: NULL for maps without
// keys.
func (m *Map[K, V]) keyPtr(key unsafe.Pointer) unsafe.Pointer {
	if m.nilKey {
		return nil
	}
	return key
}

// Lookup returns the value stored under key. When key is absent the error
// wraps ebpf.ErrKeyNotExist.
func (m *Map[K, V]) Lookup(key K) (V, error) {
	var value V
	err := m.lookup(noescape(unsafe.Pointer(&key)), noescape(unsafe.Pointer(&value)))
	return value, err
}

// LookupInto reads the value stored under *key into *value without copying
// either through intermediate variables. When the key is absent the error
// wraps ebpf.ErrKeyNotExist and *value is unspecified. Neither pointer is
// retained after the call.
func (m *Map[K, V]) LookupInto(key *K, value *V) error {
	if key == nil || value == nil {
		return errors.New("bpfskel: LookupInto with a nil pointer")
	}
	return m.lookup(noescape(unsafe.Pointer(key)), noescape(unsafe.Pointer(value)))
}

func (m *Map[K, V]) lookup(key, value unsafe.Pointer) error {
	if err := m.check(); err != nil {
		return err
	}
	if !m.enter() {
		return closedErr("map", m.name, "lookup")
	}
	// bpf(2) directly (sysElem), not through (*ebpf.Map).Lookup: in
	// scripts/bench.sh's x raw med column (sequential runs, 15 rounds),
	// BenchmarkLookup/{array,hash,lpm}/bpfskel went from 1.07-1.11x the raw
	// syscall to 1.03-1.05x, and Update from 1.06-1.08x to 1.01-1.05x.
	// BenchmarkPaired over six code layouts (scripts/bench-layouts.sh)
	// puts every element operation at 1.02-1.04x on average.
	err := sysElem(cmdLookupElem, m.m.FD(), m.keyPtr(key), value, 0)
	m.coll.exit()
	if err != nil {
		if err == errSysKeyNotExist {
			return m.errMiss
		}
		return elemErr(m.name, "lookup", err)
	}
	return nil
}

// elemErr is the error of a single-element command on the map called name.
func elemErr(name, op string, err error) error {
	if err == nil {
		return nil
	}
	return wrapErr("map", name, fmt.Errorf("%s: %w", op, err))
}

// Update stores value under key. flags select create-only
// ([UpdateNoExist]), update-only ([UpdateExist]) or either ([UpdateAny]).
func (m *Map[K, V]) Update(key K, value V, flags UpdateFlags) error {
	if err := m.check(); err != nil {
		return err
	}
	k := m.keyPtr(noescape(unsafe.Pointer(&key)))
	if !m.enter() {
		return closedErr("map", m.name, "update")
	}
	err := sysElem(cmdUpdateElem, m.m.FD(), k, noescape(unsafe.Pointer(&value)), uint64(flags))
	m.coll.exit()
	if err != nil {
		return elemErr(m.name, "update", err)
	}
	return nil
}

// Delete removes key. When key is absent the error wraps
// ebpf.ErrKeyNotExist.
func (m *Map[K, V]) Delete(key K) error {
	if err := m.check(); err != nil {
		return err
	}
	if !m.enter() {
		return closedErr("map", m.name, "delete")
	}
	err := sysElem(cmdDeleteElem, m.m.FD(), m.keyPtr(noescape(unsafe.Pointer(&key))), nil, 0)
	m.coll.exit()
	if err != nil {
		return elemErr(m.name, "delete", err)
	}
	return nil
}

// Iterate returns an iterator over the map's entries. It reads them a
// batch at a time (BPF_MAP_LOOKUP_BATCH) where the kernel has batch
// operations for the map type, and key by key (BPF_MAP_GET_NEXT_KEY) where
// it does not, as for LPM tries. Iterating a hash map that other code
// changes at the same time may miss entries or, key by key, see one twice
// or stop with an error wrapping ebpf.ErrIterationAborted.
func (m *Map[K, V]) Iterate() *Iterator[K, V] {
	if err := m.check(); err != nil {
		return &Iterator[K, V]{err: err}
	}
	if m.nilKey {
		return &Iterator[K, V]{err: fmt.Errorf("map %q: iterate: a %s map has no keys", m.name, m.m.Type())}
	}
	ws := m.walkerPool()
	return &Iterator[K, V]{name: m.name, m: m, ws: ws, w: ws.get()}
}

// walkerPool returns the handle's walkers; a Map not made by bindMap gets
// a pool of its own for this walk.
func (m *Map[K, V]) walkerPool() *walkers {
	if m.walkers != nil {
		return m.walkers
	}
	var v V
	return newWalkers(m.m, int(unsafe.Sizeof(v)))
}

// All returns the map's entries as a range-over-func sequence:
//
//	for k, v := range m.All() { ... }
//
// It is Iterate().All(): an error ends the sequence like the end of the
// map does. Use [Map.Iterate] and [Iterator.Err] to tell the two apart.
func (m *Map[K, V]) All() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		if m.check() != nil || m.nilKey {
			return
		}
		// The loop of Iterator.Next, flattened: the entries are read
		// straight out of the batch buffers (BenchmarkIterate/*/bpfskel).
		ws := m.walkerPool()
		w := ws.get()
		defer ws.put(w)
		for {
			keys, vals := unsafe.Pointer(&w.keys[0]), unsafe.Pointer(&w.vals[0])
			for ; w.i < w.n; w.i++ {
				k := *(*K)(unsafe.Add(keys, w.i*w.keySize))
				v := *(*V)(unsafe.Add(vals, w.i*w.valSize))
				if !yield(k, v) {
					return
				}
			}
			if w.done || w.err != nil {
				return
			}
			if !m.enter() {
				return // closed: the sequence ends, as on any error
			}
			w.fill()
			m.coll.exit()
		}
	}
}

// Iterator walks the entries of a [Map]. Use it as
//
//	it := m.Iterate()
//	for it.Next() {
//		use(it.Key(), it.Value())
//	}
//	if err := it.Err(); err != nil { ... }
//
// or range over [Iterator.All]. An Iterator reuses batch buffers kept by
// its map handle; Next does not allocate. It is not safe for concurrent
// use and cannot be restarted.
type Iterator[K, V any] struct {
	name  string
	m     *Map[K, V] // for its guard
	ws    *walkers   // where w goes back when the walk ends
	w     *walker
	key   K
	value V
	err   error
}

// Next advances to the next entry. It returns false at the end of the map
// or on error; check [Iterator.Err] afterwards.
func (it *Iterator[K, V]) Next() bool {
	if it == nil || it.err != nil || it.w == nil {
		return false
	}
	w := it.w
	for w.i >= w.n && !w.done && w.err == nil {
		// The next entry needs a system call (w.fill): take the guard
		// for it. Entries already in the batch buffer need none, and
		// w.next below then never fills.
		if !it.m.enter() {
			it.err = closedErr("map", it.name, "iterate")
			it.release()
			return false
		}
		w.fill()
		it.m.exit()
	}
	k, v, ok := w.next()
	if ok {
		it.key, it.value = *(*K)(k), *(*V)(v)
		return true
	}
	if w.err != nil {
		it.err = wrapErr("map", it.name, fmt.Errorf("iterate: %w", w.err))
	}
	it.release()
	return false
}

// release hands the walker back for reuse; the iterator is done.
func (it *Iterator[K, V]) release() {
	if it.w != nil && it.ws != nil {
		it.ws.put(it.w)
	}
	it.w = nil
}

// Key returns the key of the current entry.
func (it *Iterator[K, V]) Key() K {
	if it == nil {
		var zero K
		return zero
	}
	return it.key
}

// Value returns the value of the current entry.
func (it *Iterator[K, V]) Value() V {
	if it == nil {
		var zero V
		return zero
	}
	return it.value
}

// All returns the remaining entries as a range-over-func sequence. It stops
// at the first error; [Iterator.Err] then says which.
func (it *Iterator[K, V]) All() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		for it.Next() {
			if !yield(it.key, it.value) {
				return
			}
		}
	}
}

// Err returns the error that stopped the iteration, or nil when it ran to
// the end of the map.
func (it *Iterator[K, V]) Err() error {
	if it == nil {
		return errors.New("bpfskel: nil Iterator")
	}
	return it.err
}

// MmapArray is a [Map] over a BPF_F_MMAPABLE array, created by
// [BindMmapArray]. It has every method of Map, [Map.Map] included, and can
// map the array's memory into the process with [MmapArray.Mmap].
type MmapArray[K, V any] struct{ typedMap[K, V] }

// typedMap names Map for embedding: an embedded alias takes the alias's
// name, so the field is unexported and does not shadow the promoted Map
// method.
type typedMap[K, V any] = Map[K, V]

// Mmap maps the array's memory and returns a typed live view of it, one
// element per array entry. Each call creates a new mapping; the view is
// closed by [View.Close] or by [Collection.Close], whichever comes first.
func (m *MmapArray[K, V]) Mmap() (*View[V], error) {
	if m == nil || m.m == nil {
		return nil, errNilMap
	}
	return newView[V](m.coll, m.name, m.m)
}
