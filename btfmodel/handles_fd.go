package btfmodel

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// keyOnly instantiates a handle with the map's key type: the values are
// file descriptors (socket maps).
func keyOnly(m *Map) []*Type { return []*Type{m.Key} }

// valueOnly instantiates a handle with the map's value type: the keys are
// file descriptors (local storage), absent (queues, stacks and bloom
// filters: key_size 0) or fixed by the handle (stack trace ids).
func valueOnly(m *Map) []*Type { return []*Type{m.Value} }

// keyInner instantiates a map of maps' handle with its key type and its
// inner map's key and value types.
func keyInner(m *Map) []*Type {
	return []*Type{m.Key, m.Inner.Key, m.Inner.Value}
}

// innerMap models the inner map template of a map of maps: its key and
// value types, named after the outer map when they are anonymous. It
// returns nil for maps without a template.
func (ty *typer) innerMap(ms *ebpf.MapSpec, hint string) (*Map, error) {
	in := ms.InnerMap
	if in == nil {
		if ms.Type == ebpf.ArrayOfMaps || ms.Type == ebpf.HashOfMaps {
			return nil, fmt.Errorf("a %s needs an inner map template: declare its values with __array(values, struct { ... })", ms.Type)
		}
		return nil, nil
	}
	m := &Map{
		CName: in.Name, Type: in.Type, KeySize: in.KeySize, ValueSize: in.ValueSize,
		MaxEntries: in.MaxEntries, Flags: in.Flags, Desc: in,
	}
	where := fmt.Sprintf("in the inner map of map %s", Display(ms.Name))
	var err error
	if m.Key, err = ty.kvType(in.Key, in.KeySize, hint+"InnerKey", "as the key "+where); err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	if m.Value, err = ty.kvType(in.Value, in.ValueSize, hint+"InnerValue", "as the value "+where); err != nil {
		return nil, fmt.Errorf("value: %w", err)
	}
	return m, nil
}
