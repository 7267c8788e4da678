package btfmodel

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// Checks of the object that cilium/ebpf does not make, or makes with a
// message that does not name what is wrong. They run before the object is
// handed to cilium/ebpf.

// checkSectionNames rejects two sections of the same name: the loader
// finds data sections, .maps and the BTF by name, so one of them would be
// ignored or overwrite the other.
func checkSectionNames(f *elf.File) error {
	seen := map[string]bool{}
	for _, sec := range f.Sections {
		if sec.Type == elf.SHT_NULL || sec.Name == "" {
			continue
		}
		if seen[sec.Name] {
			return fmt.Errorf("two sections are called %s; the object is damaged (rebuild it)", quoted(sec.Name))
		}
		seen[sec.Name] = true
	}
	return nil
}

// checkBTF reads the object's BTF on its own and checks what cilium/ebpf
// would either swallow (it decodes types lazily, and a data section whose
// BTF fails to decode is treated as having none) or report without the
// map's name (a .maps entry that is not a struct).
func checkBTF(data []byte) error {
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("reading the BTF: %w", err)
	}
	if err := decodeAll(spec, len(data)); err != nil {
		return err
	}
	var ds *btf.Datasec
	if err := spec.TypeByName(".maps", &ds); err != nil {
		return nil // no BTF-defined maps
	}
	for _, vs := range ds.Vars {
		v, ok := vs.Type.(*btf.Var)
		if !ok {
			return fmt.Errorf("section .maps: entry at offset %d is %s, not a variable", vs.Offset, cname(vs.Type))
		}
		def, ok := btf.UnderlyingType(v.Type).(*btf.Struct)
		if !ok {
			return fmt.Errorf("map %q: its definition in .maps is %s, not a struct; declare maps as struct { __uint(type, ...); ... } %s SEC(\".maps\")", v.Name, cname(skipQualifiers(v.Type)), Display(v.Name))
		}
		for _, m := range def.Members {
			if m.Name != "key" && m.Name != "value" {
				continue
			}
			if _, ok := skipQualifiers(m.Type).(*btf.Pointer); !ok {
				return fmt.Errorf("map %q: member %s of its definition is %s, not a pointer; declare it with __type(%s, T)", v.Name, m.Name, cname(skipQualifiers(m.Type)), m.Name)
			}
		}
	}
	return nil
}

// decodeAll decodes every type of spec, so that a reference to a type
// that does not exist is an error now rather than a section silently left
// out later. cilium/ebpf does not say how many types there are: the end is
// the first ID whose own lookup fails as not found ("type id N: not
// found" for that very N); a not-found failure naming another ID is a
// dangling reference. Every type takes at least 12 bytes, which bounds the
// loop.
func decodeAll(spec *btf.Spec, size int) error {
	for id := btf.TypeID(1); int(id) <= size/12+1; id++ {
		_, err := spec.TypeByID(id)
		if err == nil || !errors.Is(err, btf.ErrNotFound) {
			// Errors other than a missing type (cilium/ebpf's fix-ups of
			// sections it does not support) are for the loader, and its
			// fallbacks, to judge.
			continue
		}
		if strings.Contains(err.Error(), fmt.Sprintf("type id %d: ", id)) {
			return nil
		}
		return fmt.Errorf("the BTF is damaged (rebuild the object): type %d: %w", id, err)
	}
	return nil
}

// quoted is Display, always quoted: for names inside running text.
func quoted(name string) string {
	if d := Display(name); d != name {
		return d
	}
	return `"` + name + `"`
}
