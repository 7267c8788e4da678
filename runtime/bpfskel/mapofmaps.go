package bpfskel

import (
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/cilium/ebpf"
)

// MapHandle is a typed handle on a map with keys K and values V that can
// go into a map of maps: a [Map], an [MmapArray] or an [InnerMap].
type MapHandle[K, V any] interface {
	typed() *Map[K, V]
}

func (m *Map[K, V]) typed() *Map[K, V] { return m }

// MapOfMaps is a handle on an ARRAY_OF_MAPS or HASH_OF_MAPS map with keys
// of type K whose inner maps have keys IK and values IV, created by
// [BindMapOfMaps]. The inner maps' types come from the template the object
// declares with __array(values, struct { ... }). A MapOfMaps is safe for
// concurrent use.
//
// Inner maps that [MapOfMaps.NewInner] creates and [MapOfMaps.Lookup]
// opens are [InnerMap] handles that hold a file descriptor each: close
// them with [InnerMap.Close] when done, or leave them to the Collection's
// Close, which closes every one still open. Putting an inner map into the
// outer map gives the outer map its own reference, so closing the handle
// afterwards does not remove it.
type MapOfMaps[K, IK, IV any] struct {
	f        fdMap[K]
	template *ebpf.MapSpec
	coll     *Collection
}

// BindMapOfMaps returns a handle on the map of maps called name. It checks
// the map type, the key size and that IK and IV are plain data of the key
// and value sizes of the inner map template. On failure it returns nil and
// records the reason in b.
func BindMapOfMaps[K, IK, IV any](b *Binder, name string) *MapOfMaps[K, IK, IV] {
	if b == nil {
		return nil
	}
	f, ok := bindFDMap[K](b, name, false, ebpf.ArrayOfMaps, ebpf.HashOfMaps)
	if !ok {
		return nil
	}
	var tmpl *ebpf.MapSpec
	if ms := b.c.specs[name]; ms != nil && ms.InnerMap != nil {
		tmpl = ms.InnerMap.Copy()
	}
	if tmpl == nil {
		b.fail("map %q: the object declares no inner map template (__array(values, struct { ... }))", name)
		return nil
	}
	var (
		ik IK
		iv IV
	)
	ok = b.checkPlain(name, "inner key", reflect.TypeFor[IK]()) && ok
	ok = b.checkPlain(name, "inner value", reflect.TypeFor[IV]()) && ok
	ok = b.checkSize(name, "inner key", unsafe.Sizeof(ik), tmpl.KeySize) && ok
	ok = b.checkSize(name, "inner value", unsafe.Sizeof(iv), tmpl.ValueSize) && ok
	if !ok {
		return nil
	}
	return &MapOfMaps[K, IK, IV]{f: f, template: tmpl, coll: b.c}
}

func (o *MapOfMaps[K, IK, IV]) fd() *fdMap[K] {
	if o == nil {
		return nil
	}
	return &o.f
}

// Map returns the underlying cilium/ebpf map, the escape hatch for what
// the handle does not wrap. It is closed with the handle's Collection.
func (o *MapOfMaps[K, IK, IV]) Map() *ebpf.Map { return o.fd().Map() }

// Pin pins the map at path, as [Map.Pin] does.
func (o *MapOfMaps[K, IK, IV]) Pin(path string) error { return o.fd().Pin(path) }

// Unpin removes the map's pin, as [Map.Unpin] does.
func (o *MapOfMaps[K, IK, IV]) Unpin() error { return o.fd().Unpin() }

// InnerSpec returns a copy of the inner map template, to create inner maps
// of another size with cilium/ebpf (the kernel accepts other max_entries
// for inner maps of an outer map whose template has BPF_F_INNER_MAP).
func (o *MapOfMaps[K, IK, IV]) InnerSpec() *ebpf.MapSpec {
	if o == nil || o.template == nil {
		return nil
	}
	return o.template.Copy()
}

// NewInner creates a new, empty map from the inner map template and
// returns its typed handle. It is not in the outer map until
// [MapOfMaps.Update] puts it there.
func (o *MapOfMaps[K, IK, IV]) NewInner() (*InnerMap[IK, IV], error) {
	f := o.fd()
	if err := f.check(); err != nil {
		return nil, err
	}
	m, err := ebpf.NewMap(o.template)
	if err != nil {
		return nil, fmt.Errorf("map %q: create an inner map: %w", f.name, err)
	}
	return o.inner(m, f.name+" (new inner map)")
}

// inner wraps m, checked against the template, as a handle the Collection
// closes.
func (o *MapOfMaps[K, IK, IV]) inner(m *ebpf.Map, name string) (*InnerMap[IK, IV], error) {
	b := &Binder{c: &Collection{name: o.coll.name, coll: &ebpf.Collection{Maps: map[string]*ebpf.Map{name: m}}}}
	em, h, ok := bindMap[IK, IV](b, name)
	if em != nil {
		ok = b.checkType(name, em, o.template.Type) && ok
	}
	if !ok {
		m.Close()
		return nil, b.Err()
	}
	h.coll = o.coll
	in := &InnerMap[IK, IV]{typedMap: h}
	if err := o.coll.track(in); err != nil {
		m.Close()
		return nil, fmt.Errorf("map %q: %w", name, err)
	}
	return in, nil
}

// Update puts inner under key, replacing what was there. flags select
// create-only ([UpdateNoExist]), update-only ([UpdateExist]) or either
// ([UpdateAny]) for a HASH_OF_MAPS; an ARRAY_OF_MAPS takes [UpdateAny]
// only (the kernel answers EINVAL to the others).
func (o *MapOfMaps[K, IK, IV]) Update(key K, inner MapHandle[IK, IV], flags UpdateFlags) error {
	f := o.fd()
	if err := f.check(); err != nil {
		return err
	}
	var in *Map[IK, IV]
	if inner != nil {
		in = inner.typed()
	}
	if in == nil || in.m == nil {
		return fmt.Errorf("map %q: update: nil inner map", f.name)
	}
	return f.set(&key, in.m.FD(), flags)
}

// Delete removes the inner map under key. When key is absent the error
// wraps ebpf.ErrKeyNotExist.
func (o *MapOfMaps[K, IK, IV]) Delete(key K) error {
	return o.fd().del(&key)
}

// InnerID returns the ID of the inner map under key, the value the kernel
// returns to user space. When key is absent the error wraps
// ebpf.ErrKeyNotExist.
func (o *MapOfMaps[K, IK, IV]) InnerID(key K) (ebpf.MapID, error) {
	id, err := o.fd().lookup(&key)
	return ebpf.MapID(id), err
}

// Lookup opens the inner map under key and returns its typed handle,
// checked against the template as a bind is. When key is absent the error
// wraps ebpf.ErrKeyNotExist. Each call opens a new file descriptor: close
// the handle when done.
func (o *MapOfMaps[K, IK, IV]) Lookup(key K) (*InnerMap[IK, IV], error) {
	f := o.fd()
	id, err := f.lookup(&key)
	if err != nil {
		return nil, err
	}
	m, err := ebpf.NewMapFromID(ebpf.MapID(id))
	if err != nil {
		return nil, fmt.Errorf("map %q: open inner map ID %d: %w", f.name, id, err)
	}
	return o.inner(m, fmt.Sprintf("%s inner map ID %d", f.name, id))
}

// InnerMap is a typed handle on a map created by [MapOfMaps.NewInner] or
// opened by [MapOfMaps.Lookup]. It has every method of [Map], [Map.Map]
// included, and a Close of its own.
type InnerMap[K, V any] struct{ typedMap[K, V] }

// Close closes the handle's file descriptor. The map lives on while an
// outer map holds it. Close is idempotent; the Collection closes every
// InnerMap still open when it closes.
func (m *InnerMap[K, V]) Close() error {
	if m == nil || m.m == nil {
		return nil
	}
	if m.coll != nil {
		m.coll.unregister(m)
	}
	return m.m.Close()
}

// track registers a closer that [Collection.Close] closes, unless the
// collection is already closed.
func (c *Collection) track(cl interface{ Close() error }) error {
	if c == nil {
		return errors.New("bpfskel: no Collection")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return fmt.Errorf("%s: the Collection is closed: %w", c.name, ErrClosed)
	}
	c.registerLocked(cl)
	return nil
}
