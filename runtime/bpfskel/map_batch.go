package bpfskel

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/cilium/ebpf"
)

// LookupAndDelete returns the value stored under key and removes it in one
// step. The kernel supports it for hash maps (5.14 and later) and for
// queues and stacks; on other map types the error wraps
// ebpf.ErrNotSupported. When key is absent the error wraps
// ebpf.ErrKeyNotExist.
func (m *Map[K, V]) LookupAndDelete(key K) (V, error) {
	var value V
	err := m.LookupAndDeleteInto(&key, &value)
	return value, err
}

// LookupAndDeleteInto is [Map.LookupAndDelete] reading into *value.
// Neither pointer is retained after the call.
func (m *Map[K, V]) LookupAndDeleteInto(key *K, value *V) error {
	if key == nil || value == nil {
		return errors.New("bpfskel: LookupAndDeleteInto with a nil pointer")
	}
	if err := m.check(); err != nil {
		return err
	}
	// A raw bpf(2): cilium/ebpf's LookupAndDelete allocates its error on a
	// miss, the normal outcome of popping an empty queue (TestZeroAllocsKinds,
	// "queue/Pop empty").
	if !m.enter() {
		return closedErr("map", m.name, "lookup and delete")
	}
	err := sysElem(cmdLookupAndDeleteElem, m.m.FD(), m.keyPtr(unsafe.Pointer(key)), unsafe.Pointer(value), 0)
	m.coll.exit()
	if err != nil {
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return m.errMiss
		}
		return fmt.Errorf("map %q: %w", m.name, err)
	}
	return nil
}

// sliceData is the address of a slice's first element, nil for an empty
// slice.
func sliceData[T any](s []T) unsafe.Pointer {
	return unsafe.Pointer(unsafe.SliceData(s))
}

// batchLookup is BPF_MAP_LOOKUP_BATCH (cmd cmdLookupBatch) or
// BPF_MAP_LOOKUP_AND_DELETE_BATCH (cmdLookupAndDeleteBatch) into count
// entries at keys and values, continuing from c.
func batchLookup(cmd uintptr, em *ebpf.Map, name string, c *BatchCursor, keys, values unsafe.Pointer, count int, errEnd error) (int, error) {
	if count == 0 {
		return 0, nil
	}
	in, out, err := c.bind(em)
	if err != nil {
		return 0, err
	}
	op := batchOp(cmd)
	n, err := sysBatch(cmd, em.FD(), in, out, keys, values, uint32(count), 0)
	switch {
	case err == nil:
		c.started = true
		return n, nil
	case errors.Is(err, ebpf.ErrKeyNotExist):
		c.started = true
		return n, errEnd
	case batchTooSmall(err):
		return n, fmt.Errorf("map %q: %s: %w (a hash bucket holds more than %d entries: use a larger batch)", name, op, err, count)
	}
	return n, fmt.Errorf("map %q: %s: %w", name, op, err)
}

// batchOp names a batch lookup command in errors.
func batchOp(cmd uintptr) string {
	if cmd == cmdLookupAndDeleteBatch {
		return "batch lookup and delete"
	}
	return "batch lookup"
}

// BatchLookup reads up to len(keys) entries, from where c stands, into
// keys and values (which must have the same length) with one
// BPF_MAP_LOOKUP_BATCH, and returns how many it read. When the walk has
// reached the end of the map the error wraps ebpf.ErrKeyNotExist and the
// first n entries are still valid. Hash maps refuse (ENOSPC) a batch
// smaller than one of their buckets. It does not allocate, except a
// cursor's first use and on errors other than the end of the map.
func (m *Map[K, V]) BatchLookup(c *BatchCursor, keys []K, values []V) (int, error) {
	return m.batchLookup(cmdLookupBatch, c, keys, values)
}

// BatchLookupAndDelete is [Map.BatchLookup] with
// BPF_MAP_LOOKUP_AND_DELETE_BATCH: the entries it reads are removed in the
// same step. Hash maps have it; on arrays the error wraps
// ebpf.ErrNotSupported.
func (m *Map[K, V]) BatchLookupAndDelete(c *BatchCursor, keys []K, values []V) (int, error) {
	return m.batchLookup(cmdLookupAndDeleteBatch, c, keys, values)
}

func (m *Map[K, V]) batchLookup(cmd uintptr, c *BatchCursor, keys []K, values []V) (int, error) {
	if err := m.checkBatch(len(keys), len(values)); err != nil {
		return 0, err
	}
	if !m.enter() {
		return 0, closedErr("map", m.name, batchOp(cmd))
	}
	defer m.coll.exit()
	return batchLookup(cmd, m.m, m.name, c, sliceData(keys), sliceData(values), len(keys), m.errEnd)
}

// BatchUpdate stores values[i] under keys[i] for every i with one
// BPF_MAP_UPDATE_BATCH, creating or replacing each entry (the kernel takes
// no create-only or update-only flag for batches), and returns how many it
// stored: the kernel stops at the first failure. It does not allocate on
// success.
func (m *Map[K, V]) BatchUpdate(keys []K, values []V) (int, error) {
	if err := m.checkBatch(len(keys), len(values)); err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		return 0, nil
	}
	if !m.enter() {
		return 0, closedErr("map", m.name, "batch update")
	}
	n, err := sysBatch(cmdUpdateBatch, m.m.FD(), nil, nil, sliceData(keys), sliceData(values), uint32(len(keys)), 0)
	m.coll.exit()
	if err != nil {
		return n, fmt.Errorf("map %q: batch update: %w", m.name, err)
	}
	return n, nil
}

// BatchDelete removes every key in keys with one BPF_MAP_DELETE_BATCH and
// returns how many it removed (the kernel stops at the first missing key,
// with an error wrapping ebpf.ErrKeyNotExist). Arrays cannot delete: the
// error wraps ebpf.ErrNotSupported. It does not allocate on success.
func (m *Map[K, V]) BatchDelete(keys []K) (int, error) {
	if err := m.checkBatch(len(keys), len(keys)); err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		return 0, nil
	}
	if !m.enter() {
		return 0, closedErr("map", m.name, "batch delete")
	}
	n, err := sysBatch(cmdDeleteBatch, m.m.FD(), nil, nil, sliceData(keys), nil, uint32(len(keys)), 0)
	m.coll.exit()
	if err != nil {
		return n, fmt.Errorf("map %q: batch delete: %w", m.name, err)
	}
	return n, nil
}

func (m *Map[K, V]) checkBatch(keys, values int) error {
	if err := m.check(); err != nil {
		return err
	}
	if m.nilKey {
		return fmt.Errorf("map %q: a %s map has no keys for batch operations", m.name, m.m.Type())
	}
	if keys != values {
		return fmt.Errorf("map %q: batch of %d keys and %d values", m.name, keys, values)
	}
	return nil
}
