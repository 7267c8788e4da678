package bpfskel

import (
	"errors"
	"iter"
	"reflect"
	"unsafe"

	"github.com/cilium/ebpf"
)

// bindKind is bindMap for a handle that fits one map type only.
func bindKind[K, V any](b *Binder, name string, want ebpf.MapType, bind string) (Map[K, V], bool) {
	em, m, ok := bindMap[K, V](b, name)
	if em != nil && em.Type() != want {
		b.fail("map %q: is a %s map; %s binds a %s map", name, em.Type(), bind, want)
		return Map[K, V]{}, false
	}
	return m, ok
}

// none is the key type of maps without keys (key_size 0).
type none = struct{}

// queueStack holds what Queue and Stack share: push, pop and peek with a
// NULL key.
type queueStack[V any] struct{ m Map[none, V] }

// Map returns the underlying cilium/ebpf map, the escape hatch. It is
// closed by [Collection.Close].
func (q *queueStack[V]) Map() *ebpf.Map {
	if q == nil {
		return nil
	}
	return q.m.m
}

// Push adds value. When the map is full the error wraps unix.E2BIG; use
// PushOverwrite to drop the oldest value instead.
func (q *queueStack[V]) Push(value V) error {
	if q == nil {
		return errNilMap
	}
	return q.m.Update(none{}, value, UpdateAny)
}

// PushOverwrite adds value; when the map is full it first drops the
// oldest value (BPF_EXIST).
func (q *queueStack[V]) PushOverwrite(value V) error {
	if q == nil {
		return errNilMap
	}
	return q.m.Update(none{}, value, UpdateExist)
}

// Pop removes and returns the next value. When the map is empty the error
// wraps ebpf.ErrKeyNotExist.
func (q *queueStack[V]) Pop() (V, error) {
	var v V
	err := q.PopInto(&v)
	return v, err
}

// PopInto is Pop reading into *value. It does not allocate, also when the
// map is empty.
func (q *queueStack[V]) PopInto(value *V) error {
	if q == nil {
		return errNilMap
	}
	var k none
	return q.m.LookupAndDeleteInto(&k, value)
}

// Peek returns the next value without removing it. When the map is empty
// the error wraps ebpf.ErrKeyNotExist.
func (q *queueStack[V]) Peek() (V, error) {
	if q == nil {
		var v V
		return v, errNilMap
	}
	return q.m.Lookup(none{})
}

// Queue is a typed handle on a QUEUE map (first in, first out) of values
// of type V, created by [BindQueue]. It is safe for concurrent use; Push,
// Pop and Peek do not allocate, on an empty queue either.
type Queue[V any] struct{ queueStack[V] }

// Stack is a typed handle on a STACK map (last in, first out) of values of
// type V, created by [BindStack]. It is safe for concurrent use; Push, Pop
// and Peek do not allocate, on an empty stack either.
type Stack[V any] struct{ queueStack[V] }

// BindQueue returns a typed handle on the QUEUE map called name, checking
// its type and value size. On failure it returns nil and records the
// reason in b.
func BindQueue[V any](b *Binder, name string) *Queue[V] {
	if b == nil {
		return nil
	}
	m, ok := bindKind[none, V](b, name, ebpf.Queue, "BindQueue")
	if !ok {
		return nil
	}
	return &Queue[V]{queueStack[V]{m}}
}

// BindStack returns a typed handle on the STACK map called name, checking
// its type and value size. On failure it returns nil and records the
// reason in b.
func BindStack[V any](b *Binder, name string) *Stack[V] {
	if b == nil {
		return nil
	}
	m, ok := bindKind[none, V](b, name, ebpf.Stack, "BindStack")
	if !ok {
		return nil
	}
	return &Stack[V]{queueStack[V]{m}}
}

// BloomFilter is a typed handle on a BLOOM_FILTER map of values of type V,
// created by [BindBloomFilter]. It is safe for concurrent use; Push and
// Contains do not allocate.
type BloomFilter[V any] struct{ m Map[none, V] }

// BindBloomFilter returns a typed handle on the BLOOM_FILTER map called
// name, checking its type and value size. On failure it returns nil and
// records the reason in b.
func BindBloomFilter[V any](b *Binder, name string) *BloomFilter[V] {
	if b == nil {
		return nil
	}
	m, ok := bindKind[none, V](b, name, ebpf.BloomFilter, "BindBloomFilter")
	if !ok {
		return nil
	}
	return &BloomFilter[V]{m}
}

// Map returns the underlying cilium/ebpf map, the escape hatch.
func (f *BloomFilter[V]) Map() *ebpf.Map {
	if f == nil {
		return nil
	}
	return f.m.m
}

// Push adds value to the filter.
func (f *BloomFilter[V]) Push(value V) error {
	if f == nil {
		return errNilMap
	}
	return f.m.Update(none{}, value, UpdateAny)
}

// Contains reports whether value may be in the filter: false is certain,
// true may be a false positive at the rate the map was sized for.
func (f *BloomFilter[V]) Contains(value V) (bool, error) {
	if f == nil {
		return false, errNilMap
	}
	// For a bloom filter the value is the input of BPF_MAP_LOOKUP_ELEM.
	err := f.m.lookup(nil, noescape(unsafe.Pointer(&value)))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ebpf.ErrKeyNotExist):
		return false, nil
	}
	return false, err
}

// StackTraceMap is a typed handle on a STACK_TRACE map, created by
// [BindStackTraceMap]. BPF programs store stacks with bpf_get_stackid and
// pass the returned id to user space; V is [N]uint64 with N =
// value_size/8, the map's maximum depth, and a stack shorter than N ends
// with zero addresses. A map created with BPF_F_STACK_BUILD_ID stores
// build ids and offsets instead: V is [N][StackBuildID] with N =
// value_size/32, and a shorter stack ends with [StackBuildIDEmpty] frames.
// It is safe for concurrent use.
type StackTraceMap[V any] struct{ m Map[uint32, V] }

// BindStackTraceMap returns a typed handle on the STACK_TRACE map called
// name, checking its type and sizes. On failure it returns nil and records
// the reason in b.
func BindStackTraceMap[V any](b *Binder, name string) *StackTraceMap[V] {
	if b == nil {
		return nil
	}
	m, ok := bindKind[uint32, V](b, name, ebpf.StackTrace, "BindStackTraceMap")
	if !ok {
		return nil
	}
	// Sizes alone do not tell [32]uint64 from [8]StackBuildID.
	vt := reflect.TypeFor[V]()
	frames := vt.Kind() == reflect.Array && vt.Elem() == reflect.TypeFor[StackBuildID]()
	switch buildIDs := m.m.Flags()&bpfFStackBuildID != 0; {
	case buildIDs && !frames:
		b.fail("map %q: created with BPF_F_STACK_BUILD_ID, it holds build ids: bind it as [%d]bpfskel.StackBuildID, not %s", name, m.m.ValueSize()/32, vt)
		return nil
	case !buildIDs && frames:
		b.fail("map %q: holds addresses ([%d]uint64), not build ids: %s needs a map created with BPF_F_STACK_BUILD_ID", name, m.m.ValueSize()/8, vt)
		return nil
	}
	return &StackTraceMap[V]{m}
}

// bpfFStackBuildID is BPF_F_STACK_BUILD_ID of include/uapi/linux/bpf.h.
const bpfFStackBuildID = 1 << 5

// Map returns the underlying cilium/ebpf map, the escape hatch.
func (s *StackTraceMap[V]) Map() *ebpf.Map {
	if s == nil {
		return nil
	}
	return s.m.m
}

// Lookup returns the stack stored under id. When there is none the error
// wraps ebpf.ErrKeyNotExist.
func (s *StackTraceMap[V]) Lookup(id uint32) (V, error) {
	if s == nil {
		var v V
		return v, errNilMap
	}
	return s.m.Lookup(id)
}

// LookupInto reads the stack stored under id into *stack without copying
// it through an intermediate value.
func (s *StackTraceMap[V]) LookupInto(id uint32, stack *V) error {
	if s == nil {
		return errNilMap
	}
	return s.m.LookupInto(&id, stack)
}

// Delete frees the stack stored under id, so that bpf_get_stackid can
// reuse the slot.
func (s *StackTraceMap[V]) Delete(id uint32) error {
	if s == nil {
		return errNilMap
	}
	return s.m.Delete(id)
}

// All returns every stored id and stack. An error ends the sequence; use
// Iterate to see it.
func (s *StackTraceMap[V]) All() iter.Seq2[uint32, V] {
	return s.Iterate().All()
}

// Iterate returns an iterator over the stored ids and stacks.
func (s *StackTraceMap[V]) Iterate() *Iterator[uint32, V] {
	if s == nil {
		return &Iterator[uint32, V]{err: errNilMap}
	}
	return s.m.Iterate()
}
