package btfmodel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/bpfskel/bpfskel/internal/elfweak"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// Overview is what an object holds, in C terms, for people reading it
// (bpfskel inspect). Unlike Load it makes no Go names, so it describes
// objects whose names would collide too. Every C name in it is raw BTF:
// print it through Display.
type Overview struct {
	File      string            `json:"file"`
	ByteOrder string            `json:"byte_order"` // "little-endian" or "big-endian"
	Maps      []OverviewMap     `json:"maps"`
	Programs  []OverviewProgram `json:"programs"`
	Sections  []OverviewSection `json:"sections"`

	spec *ebpf.CollectionSpec
}

// OverviewMap is one map that is not a data section.
type OverviewMap struct {
	Name       string   `json:"name"`
	Type       string   `json:"type"`
	KeyType    string   `json:"key_type,omitempty"` // C spelling; empty without BTF
	KeySize    uint32   `json:"key_size"`
	ValueType  string   `json:"value_type,omitempty"`
	ValueSize  uint32   `json:"value_size"`
	MaxEntries uint32   `json:"max_entries"`
	Flags      []string `json:"flags,omitempty"`
	Pinning    string   `json:"pinning"`                  // "none" or "by_name"
	InnerMap   string   `json:"inner_map,omitempty"`      // the inner map's value type for maps of maps
	MapExtra   uint64   `json:"map_extra,omitempty"`      // bloom filter hashes, arena address
	Values     int      `json:"static_values,omitempty"`  // entries the object initialises
	Mmapable   bool     `json:"mmapable,omitempty"`       // BPF_F_MMAPABLE
	ReadOnly   bool     `json:"read_only_prog,omitempty"` // BPF_F_RDONLY_PROG
	Section    string   `json:"section,omitempty"`        // ".maps"
	Note       string   `json:"note,omitempty"`
}

// OverviewProgram is one entry-point program.
type OverviewProgram struct {
	Name       string `json:"name"`
	Section    string `json:"section"`
	Type       string `json:"type"`
	AttachType string `json:"attach_type,omitempty"`
	AttachTo   string `json:"attach_to,omitempty"`
	License    string `json:"license,omitempty"`
}

// OverviewSection is a global-data section and its variables.
type OverviewSection struct {
	Name      string        `json:"name"`
	Size      uint32        `json:"size"`
	ReadOnly  bool          `json:"read_only"`
	Variables []OverviewVar `json:"variables"`
}

// OverviewVar is one variable of a data section.
type OverviewVar struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Offset  uint32 `json:"offset"`
	Size    uint32 `json:"size"`
	Linkage string `json:"linkage"` // "global", "static" or "extern"
}

// Inspect describes the object whose bytes are data; file names it.
func Inspect(file string, data []byte) (*Overview, error) {
	bo, err := checkELF(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	// The runtime's Open parses a copy with defined weak symbols bound
	// global (cilium/ebpf v0.22 refuses weak maps): read what it reads.
	parsed, _, err := elfweak.Global(data, elfweak.ResolvedExterns)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(parsed))
	if err != nil {
		return nil, fmt.Errorf("%s: reading the BPF object: %w", file, err)
	}
	ov := &Overview{File: file, ByteOrder: "little-endian", spec: spec,
		Maps: []OverviewMap{}, Programs: []OverviewProgram{}, Sections: []OverviewSection{}}
	if bo == binary.BigEndian {
		ov.ByteOrder = "big-endian"
	}
	for _, name := range slices.Sorted(maps.Keys(spec.Maps)) {
		ms := spec.Maps[name]
		if ds, ok := ms.Value.(*btf.Datasec); ok && isDataSection(name) {
			ov.Sections = append(ov.Sections, overviewSection(name, ds))
			continue
		}
		m := OverviewMap{
			Name: name, Type: ms.Type.String(), KeySize: ms.KeySize, ValueSize: ms.ValueSize,
			MaxEntries: ms.MaxEntries, Flags: MapFlagNames(ms.Flags), Pinning: "none",
			MapExtra: ms.MapExtra, Values: len(ms.Contents),
		}
		if ms.Pinning == ebpf.PinByName {
			m.Pinning = "by_name"
		}
		if ms.Key != nil {
			m.KeyType = CTypeName(ms.Key)
		}
		if ms.Value != nil {
			m.ValueType = CTypeName(ms.Value)
		}
		if ms.InnerMap != nil {
			m.InnerMap = fmt.Sprintf("%s, key %d bytes, value %d bytes, %d entries", ms.InnerMap.Type, ms.InnerMap.KeySize, ms.InnerMap.ValueSize, ms.InnerMap.MaxEntries)
		}
		if isDataSection(name) || strings.HasPrefix(name, ".") {
			m.Note = "a special section without variables in BTF"
		}
		ov.Maps = append(ov.Maps, m)
	}
	for _, name := range slices.Sorted(maps.Keys(spec.Programs)) {
		ps := spec.Programs[name]
		p := OverviewProgram{Name: name, Section: ps.SectionName, Type: ps.Type.String(), AttachTo: ps.AttachTo, License: ps.License}
		if ps.AttachType != 0 {
			p.AttachType = ps.AttachType.String()
		}
		ov.Programs = append(ov.Programs, p)
	}
	return ov, nil
}

func overviewSection(name string, ds *btf.Datasec) OverviewSection {
	s := OverviewSection{Name: name, Size: ds.Size, ReadOnly: strings.HasPrefix(name, ".rodata"), Variables: []OverviewVar{}}
	for _, vs := range ds.Vars {
		v := OverviewVar{Offset: vs.Offset, Size: vs.Size, Linkage: "global"}
		if bv, ok := vs.Type.(*btf.Var); ok {
			v.Name, v.Type = bv.Name, CTypeName(bv.Type)
			switch bv.Linkage {
			case btf.StaticVar:
				v.Linkage = "static"
			case btf.ExternVar:
				v.Linkage = "extern"
			}
		} else {
			v.Type = CTypeName(vs.Type)
		}
		s.Variables = append(s.Variables, v)
	}
	sort.SliceStable(s.Variables, func(i, j int) bool { return s.Variables[i].Offset < s.Variables[j].Offset })
	return s
}

// MapFlagNames spells the BPF_F_* flags of a map, unknown bits in hex.
func MapFlagNames(flags uint32) []string {
	names := []string{
		"BPF_F_NO_PREALLOC", "BPF_F_NO_COMMON_LRU", "BPF_F_NUMA_NODE",
		"BPF_F_RDONLY", "BPF_F_WRONLY", "BPF_F_STACK_BUILD_ID",
		"BPF_F_ZERO_SEED", "BPF_F_RDONLY_PROG", "BPF_F_WRONLY_PROG",
		"BPF_F_CLONE", "BPF_F_MMAPABLE", "BPF_F_PRESERVE_ELEMS",
		"BPF_F_INNER_MAP", "BPF_F_LINK", "BPF_F_PATH_FD",
		"BPF_F_VTYPE_BTF_OBJ_FD", "BPF_F_TOKEN_FD", "BPF_F_SEGV_ON_FAULT",
		"BPF_F_NO_USER_CONV",
	}
	var out []string
	for bit, name := range names {
		if flags&(1<<bit) != 0 {
			out = append(out, name)
			flags &^= 1 << bit
		}
	}
	if flags != 0 {
		out = append(out, fmt.Sprintf("%#x", flags))
	}
	return out
}

// CTypeName spells a BTF type as C would name it in a declaration:
// "__u32", "struct event", "char[16]", "struct task_struct *". Anonymous
// structs and unions are "struct {...}". Names are raw BTF.
func CTypeName(t btf.Type) string {
	return cTypeName(t, 0)
}

func cTypeName(t btf.Type, depth int) string {
	if depth > maxDepth {
		return "..."
	}
	switch v := t.(type) {
	case nil:
		return "void"
	case *btf.Void:
		return "void"
	case *btf.Int, *btf.Float, *btf.Typedef:
		return t.TypeName()
	case *btf.Struct:
		return "struct " + nameOrBraces(v.Name)
	case *btf.Union:
		return "union " + nameOrBraces(v.Name)
	case *btf.Enum:
		return "enum " + nameOrBraces(v.Name)
	case *btf.Fwd:
		return v.Kind.String() + " " + v.Name
	case *btf.Pointer:
		return cTypeName(v.Target, depth+1) + " *"
	case *btf.Array:
		// C writes the outermost dimension first: __u16 grid[2][3] is an
		// array of 2 arrays of 3.
		dims := fmt.Sprintf("[%d]", v.Nelems)
		elem := v.Type
		for inner, ok := elem.(*btf.Array); ok && depth < maxDepth; inner, ok = elem.(*btf.Array) {
			dims += fmt.Sprintf("[%d]", inner.Nelems)
			elem = inner.Type
			depth++
		}
		return cTypeName(elem, depth+1) + dims
	case *btf.Const:
		return "const " + cTypeName(v.Type, depth+1)
	case *btf.Volatile:
		return "volatile " + cTypeName(v.Type, depth+1)
	case *btf.Restrict:
		return cTypeName(v.Type, depth+1) + " restrict"
	case *btf.TypeTag:
		return cTypeName(v.Type, depth+1)
	case *btf.FuncProto:
		return "function"
	case *btf.Datasec:
		return "section " + v.Name
	}
	if n := t.TypeName(); n != "" {
		return n
	}
	return fmt.Sprintf("%T", t)
}

func nameOrBraces(n string) string {
	if n == "" {
		return "{...}"
	}
	return n
}

// TypeLayout is the byte layout of one C type as pahole shows it.
type TypeLayout struct {
	Kind    string         `json:"kind"` // struct, union, enum, section, or the kind of a scalar
	Name    string         `json:"name"`
	Size    int            `json:"size"`
	Members []LayoutMember `json:"members,omitempty"`
	Values  []LayoutValue  `json:"values,omitempty"` // enums
	// Typedefs lists the typedef names that led to the type, outermost first.
	Typedefs []string `json:"typedefs,omitempty"`

	SumMembers int `json:"sum_members"` // bytes the members cover
	Holes      int `json:"holes"`       // gaps between members
	SumHoles   int `json:"sum_holes"`
	BitHoles   int `json:"bit_holes,omitempty"`   // gaps inside bitfield storage
	Padding    int `json:"padding"`               // bytes after the last member
	BitPadding int `json:"bit_padding,omitempty"` // bits after the last bitfield, in its last byte
}

// LayoutMember is one member; offsets and sizes are in bytes, bitfields
// add their bit position and width.
type LayoutMember struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	Offset    int    `json:"offset"`
	Size      int    `json:"size"`
	BitOffset int    `json:"bit_offset,omitempty"` // bitfields: bit within the byte at Offset
	BitSize   int    `json:"bit_size,omitempty"`   // bitfields: width in bits
	// HoleBefore is the gap in bytes between the previous member's end and
	// this one (pahole's "XXX n bytes hole").
	HoleBefore int `json:"hole_before,omitempty"`
	// BitHoleBefore is the gap in bits before a bitfield.
	BitHoleBefore int `json:"bit_hole_before,omitempty"`
}

// LayoutValue is one enum constant.
type LayoutValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// TypeNames lists the named structs, unions, enums and typedefs of the
// object and its data sections, sorted, for a -type that matches nothing.
func (ov *Overview) TypeNames() []string {
	seen := map[string]bool{}
	if ov.spec.Types != nil {
		for t := range ov.spec.Types.All() {
			switch v := t.(type) {
			case *btf.Datasec:
				if isDataSection(v.Name) {
					seen["section "+v.Name] = true
				}
			case *btf.Struct, *btf.Union, *btf.Enum:
				if t.TypeName() != "" {
					seen[cTypeName(v, 0)] = true
				}
			case *btf.Typedef:
				seen[v.Name] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// Layout returns the layout of the type called name: "struct event",
// "event" (a struct, union, enum or typedef of that name), or a data
// section such as ".bss".
func (ov *Overview) Layout(name string) (*TypeLayout, error) {
	if ov.spec.Types == nil {
		return nil, fmt.Errorf("%s: the object has no BTF", ov.File)
	}
	kind, bare := "", name
	for _, k := range []string{"struct ", "union ", "enum ", "section "} {
		if strings.HasPrefix(name, k) {
			kind, bare = strings.TrimSpace(k), strings.TrimSpace(strings.TrimPrefix(name, k))
		}
	}
	types, err := ov.spec.Types.AnyTypesByName(bare)
	if err != nil && !errors.Is(err, btf.ErrNotFound) {
		return nil, fmt.Errorf("%s: type %s: %w", ov.File, Display(name), err)
	}
	var found []btf.Type
	for _, t := range types {
		switch t.(type) {
		case *btf.Struct, *btf.Union, *btf.Enum, *btf.Typedef, *btf.Datasec:
			_, sec := t.(*btf.Datasec)
			if kind == "" || strings.HasPrefix(cTypeName(t, 0), kind+" ") || (kind == "section" && sec) {
				found = append(found, t)
			}
		}
	}
	if len(found) > 1 && kind == "" {
		// "foo" names both struct foo and typedef foo: the struct is meant
		// (pahole does the same); typedefs to it lead there anyway.
		var tagged []btf.Type
		for _, t := range found {
			if _, td := t.(*btf.Typedef); !td {
				tagged = append(tagged, t)
			}
		}
		if len(tagged) > 0 {
			found = tagged
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%s: no type %s in the object's BTF; its types are: %s", ov.File, displayAll([]string{name})[0], strings.Join(displayAll(ov.TypeNames()), ", "))
	case 1:
	default:
		var names []string
		for _, t := range found {
			names = append(names, cTypeName(t, 0))
		}
		slices.Sort(names)
		names = displayAll(names)
		return nil, fmt.Errorf("%s: %s names %s; pass one of them to -type", ov.File, Display(name), strings.Join(names, " and "))
	}
	return layoutOf(found[0])
}

// displayAll escapes names such as "struct foo" for a message, keeping
// the kind readable.
func displayAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		kind, name, ok := strings.Cut(n, " ")
		switch {
		case ok && (kind == "struct" || kind == "union" || kind == "enum" || kind == "section"):
			out[i] = kind + " " + Display(name)
		default:
			out[i] = Display(n)
		}
	}
	return out
}

func layoutOf(t btf.Type) (*TypeLayout, error) {
	tl := &TypeLayout{}
	for i := 0; i < maxDepth; i++ {
		td, ok := skipQualifiers(t).(*btf.Typedef)
		if !ok {
			break
		}
		tl.Typedefs = append(tl.Typedefs, td.Name)
		t = td.Type
	}
	t = skipQualifiers(t)
	size, err := btf.Sizeof(t)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cname(t), err)
	}
	tl.Size = size
	tl.Name = t.TypeName()
	switch v := t.(type) {
	case *btf.Struct:
		tl.Kind = "struct"
		tl.layoutMembers(v.Members, false)
	case *btf.Union:
		tl.Kind = "union"
		tl.layoutMembers(v.Members, true)
	case *btf.Datasec:
		tl.Kind = "section"
		vars := slices.Clone(v.Vars)
		sort.SliceStable(vars, func(i, j int) bool { return vars[i].Offset < vars[j].Offset })
		var ms []btf.Member
		for _, vs := range vars {
			m := btf.Member{Offset: btf.Bits(vs.Offset * 8), Type: vs.Type}
			if bv, ok := vs.Type.(*btf.Var); ok {
				m.Name, m.Type = bv.Name, bv.Type
			}
			ms = append(ms, m)
		}
		tl.layoutMembers(ms, false)
	case *btf.Enum:
		tl.Kind = "enum"
		for _, val := range v.Values {
			s := fmt.Sprint(val.Value)
			if v.Signed {
				s = fmt.Sprint(int64(val.Value))
			}
			tl.Values = append(tl.Values, LayoutValue{Name: val.Name, Value: s})
		}
	default:
		tl.Kind = strings.ToLower(strings.TrimPrefix(fmt.Sprintf("%T", t), "*btf."))
		tl.Name = cTypeName(t, 0)
	}
	return tl, nil
}

// layoutMembers places members as pahole does: holes are gaps between one
// member's end and the next one's start; a union's members all start at 0.
func (tl *TypeLayout) layoutMembers(members []btf.Member, union bool) {
	endBits := 0 // end of the previous member, in bits
	for _, m := range members {
		lm := LayoutMember{Name: m.Name, Type: cTypeName(m.Type, 0)}
		size, err := btf.Sizeof(m.Type)
		if err != nil {
			size = 0
		}
		lm.Size = size
		off := int(m.Offset)
		if m.BitfieldSize > 0 {
			// The storage unit is the member's type, aligned down; the bit
			// position counts from the start of that unit, as pahole shows.
			unit := max(size, 1)
			lm.Offset = off / 8 / unit * unit
			lm.BitOffset = off - lm.Offset*8
			lm.BitSize = int(m.BitfieldSize)
		} else {
			lm.Offset = off / 8
		}
		if gap := off - endBits; !union && gap > 0 {
			// The bits up to the next byte boundary, and any bits the member
			// starts into its byte, are a bit hole; whole bytes between are a
			// hole.
			head := min(gap, (8-endBits%8)%8)
			lm.HoleBefore = (gap - head) / 8
			lm.BitHoleBefore = head + (gap-head)%8
			if lm.HoleBefore > 0 {
				tl.Holes++
				tl.SumHoles += lm.HoleBefore
			}
			if lm.BitHoleBefore > 0 {
				tl.BitHoles++
			}
		}
		end := off + size*8
		if m.BitfieldSize > 0 {
			end = off + int(m.BitfieldSize)
		}
		if union {
			endBits = max(endBits, end)
		} else {
			endBits = end
		}
		tl.Members = append(tl.Members, lm)
	}
	covered := (endBits + 7) / 8
	if !union {
		tl.BitPadding = (8 - endBits%8) % 8
	}
	if union {
		tl.SumMembers = covered
	} else {
		tl.SumMembers = covered - tl.SumHoles
	}
	tl.Padding = max(tl.Size-covered, 0)
}
