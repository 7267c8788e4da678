package bpfskel

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"unsafe"

	"github.com/cilium/ebpf"
)

// FrozenSection is a global-data section that the loader fills and
// freezes, and that cannot be mmapped: .kconfig, whose __kconfig externs
// cilium/ebpf sets at load from the running kernel's version and
// configuration. Get reads the whole section, as the BPF programs see it,
// with one lookup. It is read-only: the kernel refuses writes after the
// freeze.
type FrozenSection[T any] struct {
	m Map[uint32, T]
	// extra holds the .kconfig externs bpfskel resolves itself
	// (libbpfcompat.go), at their offsets in the section; Get copies vars
	// from it over what m holds.
	extra *Map[uint32, T]
	vars  []kconfigVar
}

// Get returns the section's values as the loader filled them.
func (s *FrozenSection[T]) Get() (T, error) {
	var v T
	if s == nil {
		return v, errNilMap
	}
	var zero uint32
	if err := s.m.lookup(noescape(unsafe.Pointer(&zero)), noescape(unsafe.Pointer(&v))); err != nil {
		return v, err
	}
	if s.extra != nil {
		var x T
		if err := s.extra.lookup(noescape(unsafe.Pointer(&zero)), noescape(unsafe.Pointer(&x))); err != nil {
			return v, err
		}
		dst := unsafe.Slice((*byte)(unsafe.Pointer(&v)), unsafe.Sizeof(v))
		src := unsafe.Slice((*byte)(unsafe.Pointer(&x)), unsafe.Sizeof(x))
		for _, kv := range s.vars {
			if uint64(kv.offset) >= uint64(len(dst)) {
				continue
			}
			end := min(uint64(kv.offset)+uint64(kv.size), uint64(len(dst)))
			copy(dst[kv.offset:end], src[kv.offset:end])
		}
	}
	return v, nil
}

// BindFrozenSection returns the section called name (".kconfig") as a
// [FrozenSection] of T. cilium/ebpf creates .kconfig while it loads the
// programs that read it, not as a map of the collection, so the section is
// found through the maps of the loaded programs (BPF_OBJ_GET_INFO_BY_FD)
// and held open until [Collection.Close]. It checks that T is plain data
// and that the section is a one-entry map of sizeof(T) bytes. On failure it
// returns nil and records the reason in b.
func BindFrozenSection[T any](b *Binder, name string) *FrozenSection[T] {
	if b == nil {
		return nil
	}
	coll := b.loaded("section", name)
	if coll == nil {
		return nil
	}
	var m *ebpf.Map
	if name == ".kconfig" && b.c.kconfigOnly {
		// Every variable is one bpfskel resolves: no program reads
		// cilium/ebpf's .kconfig.
		m = b.c.kconfig
	} else {
		var err error
		if m, err = programMap(coll, name); err != nil {
			b.fail("section %q: %w", name, err)
			return nil
		}
		if err := b.c.adopt(m); err != nil {
			m.Close()
			b.fail("section %q: %w", name, err)
			return nil
		}
	}
	var v T
	ok := b.checkPlain(name, "section", reflect.TypeFor[T]())
	ok = b.checkSize(name, "value", unsafe.Sizeof(v), m.ValueSize()) && ok
	if m.MaxEntries() != 1 {
		b.fail("map %q: has %d entries, a data section has 1", name, m.MaxEntries())
		ok = false
	}
	if !ok {
		return nil
	}
	errMiss := fmt.Errorf("section %q: lookup: %w", name, ebpf.ErrKeyNotExist)
	fs := &FrozenSection[T]{m: Map[uint32, T]{m: m, name: name, coll: b.c, errMiss: errMiss}}
	if name == ".kconfig" && b.c.kconfig != nil && m != b.c.kconfig {
		if !b.checkSize(name, "value", unsafe.Sizeof(v), b.c.kconfig.ValueSize()) {
			return nil
		}
		fs.extra = &Map[uint32, T]{m: b.c.kconfig, name: name, coll: b.c, errMiss: errMiss}
		fs.vars = b.c.kconfigVars
	}
	return fs
}

// programMap opens the map called name that a program of coll uses.
func programMap(coll *ebpf.Collection, name string) (*ebpf.Map, error) {
	for _, pn := range slices.Sorted(maps.Keys(coll.Programs)) {
		info, err := coll.Programs[pn].Info()
		if err != nil {
			return nil, fmt.Errorf("program %q: info: %w", pn, err)
		}
		ids, ok := info.MapIDs()
		if !ok {
			return nil, errors.New("the kernel does not say which maps a program uses (Linux 4.15 or later does)")
		}
		for _, id := range ids {
			m, err := ebpf.NewMapFromID(id)
			if err != nil {
				return nil, fmt.Errorf("program %q: map %d: %w", pn, id, err)
			}
			mi, err := m.Info()
			if err == nil && mi.Name == name {
				return m, nil
			}
			m.Close()
		}
	}
	return nil, errors.New("no loaded program uses it")
}
