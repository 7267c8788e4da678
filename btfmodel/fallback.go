package btfmodel

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// The fallback reader.
//
// cilium/ebpf's LoadCollectionSpec relocates every program while it parses,
// and refuses objects that libbpf loads: __weak maps (libbpf's usdt.bpf.h
// declares two), typed .ksyms variables, and relocations it has no rule
// for. None of that changes the types a skeleton mirrors, so when the
// collection loader fails, fallbackSpec reads what the model needs
// directly: the BTF (through btf.LoadSpecFromReader, which finalises data
// section sizes and offsets as the collection loader does), the map
// definitions in .maps (BTF) and in the legacy "maps" section (struct
// bpf_map_def), the data sections and .kconfig from their BTF, struct_ops
// maps, and the programs from the ELF symbols. Each program's type comes
// from cilium/ebpf itself, by parsing a one-instruction object with the
// program's section name, so the section-name table is never copied here.
//
// The result is a CollectionSpec without instructions: enough to model,
// not to load. The generated skeleton's Open reports the loader's error.

// fallbackSpec builds the CollectionSpec the collection loader could not.
// It returns an error when the object cannot be read this way either.
func fallbackSpec(data []byte) (*ebpf.CollectionSpec, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	sec := f.Section(".BTF")
	if sec == nil {
		return nil, errors.New("no .BTF section")
	}
	raw, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("reading .BTF: %w", err)
	}
	// The raw blob, not the ELF: btf's ELF reader refuses typed .ksyms
	// variables as the collection loader does. fixupDatasecs then does
	// what that reader does to data sections.
	types, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("reading BTF: %w", err)
	}
	spec := &ebpf.CollectionSpec{
		Maps:      map[string]*ebpf.MapSpec{},
		Programs:  map[string]*ebpf.ProgramSpec{},
		Variables: map[string]*ebpf.VariableSpec{},
		Types:     types,
		ByteOrder: f.ByteOrder,
	}
	syms, err := f.Symbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, fmt.Errorf("reading symbols: %w", err)
	}
	if err := legacyMaps(f, syms, spec); err != nil {
		return nil, err
	}
	for typ, err := range types.All() {
		if err != nil {
			return nil, fmt.Errorf("reading BTF: %w", err)
		}
		ds, ok := typ.(*btf.Datasec)
		if !ok {
			continue
		}
		if err := fixupDatasec(f, syms, ds); err != nil {
			return nil, err
		}
		if err := datasecMaps(ds, spec); err != nil {
			return nil, err
		}
	}
	// Data sections without BTF (clang's .rodata.str1.1 of string
	// literals) are maps to the collection loader too, with no type, when
	// something refers to them (a symbol in them or a relocation).
	used, err := usedSections(f, syms)
	if err != nil {
		return nil, err
	}
	for i, sec := range f.Sections {
		if !isDataSection(sec.Name) || spec.Maps[sec.Name] != nil || !used[i] || (sec.Type != elf.SHT_PROGBITS && sec.Type != elf.SHT_NOBITS) {
			continue
		}
		if sec.Size > maxTypeSize {
			return nil, fmt.Errorf("section %s is larger than 4 GiB", Display(sec.Name))
		}
		ms := &ebpf.MapSpec{Name: sec.Name, Type: ebpf.Array, KeySize: 4, ValueSize: uint32(sec.Size), MaxEntries: 1}
		if strings.HasPrefix(sec.Name, ".rodata") {
			ms.Flags = bpfFRdonlyProg
		}
		spec.Maps[sec.Name] = ms
	}
	if err := programs(f, syms, spec); err != nil {
		return nil, err
	}
	if err := structOpsTargets(f, syms, types, spec); err != nil {
		return nil, err
	}
	return spec, nil
}

// usedSections are the sections that hold a named data symbol or that a
// relocation points into, by index.
func usedSections(f *elf.File, syms []elf.Symbol) (map[int]bool, error) {
	used := map[int]bool{}
	for _, sym := range syms {
		if t := elf.ST_TYPE(sym.Info); sym.Name != "" && (t == elf.STT_OBJECT || t == elf.STT_NOTYPE) {
			used[int(sym.Section)] = true
		}
	}
	for _, rs := range f.Sections {
		if rs.Type != elf.SHT_REL {
			continue
		}
		rels, err := relocations(f, rs)
		if err != nil {
			return nil, err
		}
		for _, r := range rels {
			if si := int(elf.R_SYM64(r.Info)) - 1; si >= 0 && si < len(syms) {
				used[int(syms[si].Section)] = true
			}
		}
	}
	return used, nil
}

// relocations reads a SHT_REL section.
func relocations(f *elf.File, rs *elf.Section) ([]elf.Rel64, error) {
	data, err := rs.Data()
	if err != nil {
		return nil, fmt.Errorf("section %s: %w", Display(rs.Name), err)
	}
	rels := make([]elf.Rel64, len(data)/16)
	if err := binary.Read(bytes.NewReader(data), f.ByteOrder, rels); err != nil {
		return nil, fmt.Errorf("section %s: %w", Display(rs.Name), err)
	}
	return rels, nil
}

// structOpsTargets sets AttachTo of struct_ops programs to
// "STRUCT:MEMBER", the member of the ops table whose function pointer the
// object's relocations point at the program, as the collection loader does.
func structOpsTargets(f *elf.File, syms []elf.Symbol, types *btf.Spec, spec *ebpf.CollectionSpec) error {
	for i, sec := range f.Sections {
		if sec.Name != ".struct_ops" && sec.Name != ".struct_ops.link" {
			continue
		}
		var ds *btf.Datasec
		if err := types.TypeByName(sec.Name, &ds); err != nil {
			continue
		}
		for _, rs := range f.Sections {
			if rs.Type != elf.SHT_REL || int(rs.Info) != i {
				continue
			}
			rels, err := relocations(f, rs)
			if err != nil {
				return err
			}
			for _, r := range rels {
				si := int(elf.R_SYM64(r.Info)) - 1 // Symbols() leaves out the null symbol
				if si < 0 || si >= len(syms) {
					continue
				}
				p := spec.Programs[syms[si].Name]
				if p == nil {
					continue
				}
				if target := opsMember(ds, uint32(r.Off)); target != "" {
					p.AttachTo = target
				}
			}
		}
	}
	return nil
}

// opsMember names the member of a struct_ops variable at byte off of its
// section: "tcp_congestion_ops:init".
func opsMember(ds *btf.Datasec, off uint32) string {
	for _, vs := range ds.Vars {
		if off < vs.Offset || off >= vs.Offset+vs.Size {
			continue
		}
		v, ok := vs.Type.(*btf.Var)
		if !ok {
			return ""
		}
		st, ok := skipQualifiers(v.Type).(*btf.Struct)
		if !ok {
			return ""
		}
		for _, m := range st.Members {
			if uint32(m.Offset)/8 == off-vs.Offset {
				return st.Name + ":" + m.Name
			}
		}
	}
	return ""
}

// fixupDatasec gives a data section the size and variable offsets clang
// leaves out, as package btf does when it reads an ELF: the ELF section's
// size and the symbols' offsets; .kconfig, which has no ELF section, is laid
// out in order with each variable aligned, and its externs become globals.
func fixupDatasec(f *elf.File, syms []elf.Symbol, ds *btf.Datasec) error {
	switch ds.Name {
	case ".ksyms":
		return nil
	case ".kconfig":
		var off uint32
		for i, vs := range ds.Vars {
			v, ok := vs.Type.(*btf.Var)
			if !ok {
				return fmt.Errorf("section .kconfig: entry %d is %s, not a variable", i, cname(vs.Type))
			}
			size, err := btf.Sizeof(v.Type)
			if err != nil {
				return fmt.Errorf("section .kconfig: %s: %w", Display(v.Name), err)
			}
			a := uint32(btfAlign(v.Type, 0))
			off = (off + a - 1) / a * a
			ds.Vars[i].Offset, ds.Vars[i].Size = off, uint32(size)
			off += uint32(size)
			v.Linkage = btf.GlobalVar
		}
		ds.Size = off
		return nil
	}
	sec := f.Section(ds.Name)
	if sec == nil {
		return nil // a section the object does not have: nothing to mirror
	}
	if ds.Size == 0 {
		if sec.Size > maxTypeSize {
			return fmt.Errorf("section %s is larger than 4 GiB", Display(ds.Name))
		}
		ds.Size = uint32(sec.Size)
	}
	index := slices.Index(f.Sections, sec)
	for i, vs := range ds.Vars {
		name := vs.Type.TypeName()
		at := slices.IndexFunc(syms, func(s elf.Symbol) bool { return int(s.Section) == index && s.Name == name })
		if at < 0 {
			return fmt.Errorf("section %s: no symbol for variable %s", Display(ds.Name), Display(name))
		}
		ds.Vars[i].Offset = uint32(syms[at].Value)
	}
	return nil
}

// btfAlign is the alignment of a BTF type on BPF, for laying out .kconfig.
func btfAlign(t btf.Type, depth int) int {
	if depth > maxDepth {
		return 1
	}
	switch v := skipQualifiers(t).(type) {
	case *btf.Typedef:
		return btfAlign(v.Type, depth+1)
	case *btf.Array:
		return btfAlign(v.Type, depth+1)
	case *btf.Int:
		return max(1, min(int(v.Size), 8))
	case *btf.Enum:
		return max(1, int(v.Size))
	case *btf.Pointer:
		return 8
	case *btf.Struct:
		return membersAlign(v.Members, depth)
	case *btf.Union:
		return membersAlign(v.Members, depth)
	}
	return 1
}

func membersAlign(ms []btf.Member, depth int) int {
	a := 1
	for _, m := range ms {
		a = max(a, btfAlign(m.Type, depth+1))
	}
	return a
}

// datasecMaps adds the maps one BTF data section stands for.
func datasecMaps(ds *btf.Datasec, spec *ebpf.CollectionSpec) error {
	switch name := ds.Name; {
	case name == ".maps":
		for _, vs := range ds.Vars {
			v, ok := vs.Type.(*btf.Var)
			if !ok {
				return fmt.Errorf("section .maps: entry at offset %d is %s, not a variable", vs.Offset, cname(vs.Type))
			}
			def, ok := skipQualifiers(v.Type).(*btf.Struct)
			if !ok {
				return fmt.Errorf("map %s: its definition is %s, not a struct", Display(v.Name), cname(v.Type))
			}
			ms, err := btfMapSpec(v.Name, def, 0)
			if err != nil {
				return fmt.Errorf("map %s: %w", Display(v.Name), err)
			}
			spec.Maps[v.Name] = ms
		}
	case isDataSection(name):
		ms := &ebpf.MapSpec{
			Name: name, Type: ebpf.Array, KeySize: 4, ValueSize: ds.Size, MaxEntries: 1,
			Key: &btf.Int{Size: 4}, Value: ds,
		}
		if strings.HasPrefix(name, ".rodata") || name == ".kconfig" {
			ms.Flags = bpfFRdonlyProg
		}
		spec.Maps[name] = ms
	case name == ".struct_ops" || name == ".struct_ops.link":
		for _, vs := range ds.Vars {
			v, ok := vs.Type.(*btf.Var)
			if !ok {
				continue
			}
			ms := &ebpf.MapSpec{
				Name: v.Name, Type: ebpf.StructOpsMap, KeySize: 4, ValueSize: vs.Size, MaxEntries: 1,
				Value: skipQualifiers(v.Type),
			}
			if name == ".struct_ops.link" {
				ms.Flags = bpfFLink
			}
			spec.Maps[v.Name] = ms
		}
	}
	return nil
}

// addKconfig adds .kconfig to spec.Maps when the object declares __kconfig
// externs: cilium/ebpf creates that map per program at load time, so its
// CollectionSpec lists no map for it, but the section is mirrored like the
// other data sections (read-only: the loader fills and freezes it).
func addKconfig(spec *ebpf.CollectionSpec) {
	if _, ok := spec.Maps[".kconfig"]; ok || spec.Types == nil {
		return
	}
	var ds *btf.Datasec
	if err := spec.Types.TypeByName(".kconfig", &ds); err != nil || ds.Size == 0 {
		return
	}
	_ = datasecMaps(ds, spec) // a data section: no error path
}

// BPF_F_RDONLY_PROG and BPF_F_LINK from include/uapi/linux/bpf.h.
const (
	bpfFRdonlyProg = 1 << 7
	bpfFLink       = 1 << 13
)

// btfMapSpec reads a BTF map definition (the struct the __uint, __type and
// __array macros of bpf_helpers.h declare), as the collection loader does.
func btfMapSpec(name string, def *btf.Struct, depth int) (*ebpf.MapSpec, error) {
	if depth > 1 {
		return nil, errors.New("maps of maps nest deeper than one level")
	}
	ms := &ebpf.MapSpec{Name: name}
	// The __uint members, each a 32-bit field of the spec.
	u32 := map[string]*uint32{
		"type": (*uint32)(&ms.Type), "map_flags": &ms.Flags, "max_entries": &ms.MaxEntries,
		"key_size": &ms.KeySize, "value_size": &ms.ValueSize, "pinning": (*uint32)(&ms.Pinning),
	}
	for _, m := range def.Members {
		var err error
		switch m.Name {
		case "type", "map_flags", "max_entries", "key_size", "value_size", "pinning":
			var v uint64
			v, err = uintMember(m.Type)
			*u32[m.Name] = uint32(v)
		case "map_extra":
			ms.MapExtra, err = uintMember(m.Type)
		case "key", "value":
			p, ok := m.Type.(*btf.Pointer)
			if !ok {
				return nil, fmt.Errorf("%s is %s, not a pointer (declare it with __type)", m.Name, cname(m.Type))
			}
			size, serr := btf.Sizeof(p.Target)
			if serr != nil {
				return nil, fmt.Errorf("%s: %w", m.Name, serr)
			}
			if m.Name == "key" {
				ms.Key, ms.KeySize = p.Target, uint32(size)
			} else {
				ms.Value, ms.ValueSize = p.Target, uint32(size)
			}
		case "values":
			// __array(values, struct inner): the inner map's definition.
			arr, ok := m.Type.(*btf.Array)
			if !ok {
				return nil, fmt.Errorf("values is %s, not an array (declare it with __array)", cname(m.Type))
			}
			p, ok := arr.Type.(*btf.Pointer)
			if !ok {
				return nil, fmt.Errorf("values holds %s, not pointers", cname(arr.Type))
			}
			if inner, ok := skipQualifiers(p.Target).(*btf.Struct); ok {
				if ms.InnerMap, err = btfMapSpec(name+"_inner", inner, depth+1); err != nil {
					return nil, fmt.Errorf("inner map: %w", err)
				}
			}
			ms.ValueSize = 4 // a map or program FD
		}
		if err != nil {
			return nil, fmt.Errorf("member %s: %w", Display(m.Name), err)
		}
	}
	return ms, nil
}

// uintMember decodes __uint(name, N) (a pointer to an array of N) and
// __ulong (an enum whose one value is N).
func uintMember(t btf.Type) (uint64, error) {
	switch v := t.(type) {
	case *btf.Pointer:
		if arr, ok := v.Target.(*btf.Array); ok {
			return uint64(arr.Nelems), nil
		}
	case *btf.Enum:
		if len(v.Values) > 0 {
			return v.Values[0].Value, nil
		}
	}
	return 0, fmt.Errorf("is %s, not a __uint or __ulong", cname(t))
}

// legacyMaps reads struct bpf_map_def entries from a "maps" section: type,
// key size, value size, max entries and flags, 32 bits each. They have no
// BTF for keys and values.
func legacyMaps(f *elf.File, syms []elf.Symbol, spec *ebpf.CollectionSpec) error {
	for i, sec := range f.Sections {
		if sec.Name != "maps" && !strings.HasPrefix(sec.Name, "maps/") {
			continue
		}
		data, err := sec.Data()
		if err != nil {
			return fmt.Errorf("section %s: %w", Display(sec.Name), err)
		}
		for _, sym := range syms {
			if int(sym.Section) != i || elf.ST_TYPE(sym.Info) == elf.STT_SECTION || sym.Name == "" {
				continue
			}
			if sym.Size < 20 || sym.Value+sym.Size > uint64(len(data)) || sym.Value+sym.Size < sym.Value {
				return fmt.Errorf("legacy map %s: a definition of %d bytes at %d does not fit struct bpf_map_def in section %s", Display(sym.Name), sym.Size, sym.Value, Display(sec.Name))
			}
			var def [5]uint32
			if err := binary.Read(bytes.NewReader(data[sym.Value:]), f.ByteOrder, &def); err != nil {
				return fmt.Errorf("legacy map %s: %w", Display(sym.Name), err)
			}
			spec.Maps[sym.Name] = &ebpf.MapSpec{
				Name: sym.Name, Type: ebpf.MapType(def[0]), KeySize: def[1], ValueSize: def[2],
				MaxEntries: def[3], Flags: def[4],
			}
		}
	}
	return nil
}

// programs adds one ProgramSpec, without instructions, per global function
// in an executable section other than .text (whose functions are called,
// not loaded).
func programs(f *elf.File, syms []elf.Symbol, spec *ebpf.CollectionSpec) error {
	kinds := map[string]*ebpf.ProgramSpec{} // section name -> type, attach type and target
	for _, sym := range syms {
		if elf.ST_TYPE(sym.Info) != elf.STT_FUNC || elf.ST_BIND(sym.Info) == elf.STB_LOCAL {
			continue
		}
		if int(sym.Section) <= 0 || int(sym.Section) >= len(f.Sections) {
			continue
		}
		sec := f.Sections[sym.Section]
		if sec.Flags&elf.SHF_EXECINSTR == 0 || sec.Name == ".text" {
			continue
		}
		kind, ok := kinds[sec.Name]
		if !ok {
			var err error
			if kind, err = programKind(sec.Name, f.ByteOrder); err != nil {
				return fmt.Errorf("program %s in section %s: %w", Display(sym.Name), Display(sec.Name), err)
			}
			kinds[sec.Name] = kind
		}
		spec.Programs[sym.Name] = &ebpf.ProgramSpec{
			Name: sym.Name, SectionName: sec.Name, Type: kind.Type,
			AttachType: kind.AttachType, AttachTo: kind.AttachTo, Flags: kind.Flags,
			License: license(f), ByteOrder: f.ByteOrder,
		}
	}
	return nil
}

// license is the object's license string, as the loader would pass it.
func license(f *elf.File) string {
	sec := f.Section("license")
	if sec == nil {
		return ""
	}
	data, err := sec.Data()
	if err != nil {
		return ""
	}
	s, _, _ := strings.Cut(string(data), "\x00")
	return s
}

// programKind asks cilium/ebpf which program type, attach type and target a
// section name means, by parsing an object with one exit instruction in a
// section of that name.
func programKind(section string, bo binary.ByteOrder) (*ebpf.ProgramSpec, error) {
	obj, err := probeObject(section, bo)
	if err != nil {
		return nil, err
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(obj))
	if err != nil {
		return nil, err
	}
	p := spec.Programs["probe"]
	if p == nil {
		return nil, errors.New("cilium/ebpf does not take this section for a program")
	}
	return p, nil
}

// probeObject writes a relocatable BPF ELF object holding one program,
// "probe", in a section called section: just "exit".
func probeObject(section string, bo binary.ByteOrder) ([]byte, error) {
	return writeELF(bo, []elfSection{
		{name: section, typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC | elf.SHF_EXECINSTR,
			data: []byte{0x95, 0, 0, 0, 0, 0, 0, 0}}, // BPF_JMP | BPF_EXIT
		{name: "license", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC | elf.SHF_WRITE, data: []byte("GPL\x00")},
	}, []elfSymbol{{name: "probe", section: 1, typ: elf.STT_FUNC, size: 8}})
}

// elfSection is a section for writeELF; sections are numbered from 1.
type elfSection struct {
	name  string
	typ   elf.SectionType
	flags elf.SectionFlag
	data  []byte
}

// elfSymbol is a global symbol for writeELF.
type elfSymbol struct {
	name        string
	section     int // index in the sections given, from 1
	typ         elf.SymType
	value, size uint64
}

// writeELF writes a relocatable 64-bit BPF ELF object with the given
// sections, then .symtab, .strtab and .shstrtab.
func writeELF(bo binary.ByteOrder, sections []elfSection, syms []elfSymbol) ([]byte, error) {
	for _, s := range sections {
		if strings.ContainsRune(s.name, 0) {
			return nil, errors.New("section name holds a NUL byte")
		}
	}
	var strtab bytes.Buffer
	strtab.WriteByte(0)
	sym64 := []elf.Sym64{{}}
	for _, s := range syms {
		sym64 = append(sym64, elf.Sym64{Name: uint32(strtab.Len()), Info: elf.ST_INFO(elf.STB_GLOBAL, s.typ),
			Shndx: uint16(s.section), Value: s.value, Size: s.size})
		strtab.WriteString(s.name + "\x00")
	}
	var symtab bytes.Buffer
	if err := binary.Write(&symtab, bo, sym64); err != nil {
		return nil, err
	}
	all := append(append([]elfSection(nil), sections...),
		elfSection{name: ".symtab", typ: elf.SHT_SYMTAB, data: symtab.Bytes()},
		elfSection{name: ".strtab", typ: elf.SHT_STRTAB, data: strtab.Bytes()},
		elfSection{name: ".shstrtab", typ: elf.SHT_STRTAB})
	var shstr bytes.Buffer
	shstr.WriteByte(0)
	names := make([]uint32, len(all))
	for i, s := range all {
		names[i] = uint32(shstr.Len())
		shstr.WriteString(s.name + "\x00")
	}
	all[len(all)-1].data = shstr.Bytes()

	const ehsize, shentsize = 64, 64
	shdrs := []elf.Section64{{}}
	off := uint64(ehsize)
	for i, s := range all {
		off = (off + 7) &^ 7
		h := elf.Section64{Name: names[i], Type: uint32(s.typ), Flags: uint64(s.flags), Off: off, Size: uint64(len(s.data)), Addralign: 8}
		if s.typ == elf.SHT_SYMTAB {
			h.Link, h.Info, h.Entsize = uint32(len(all)-1), 1, 24 // .strtab is next to last
		}
		shdrs = append(shdrs, h)
		off += uint64(len(s.data))
	}
	shoff := (off + 7) &^ 7

	ident := [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)}
	if bo == binary.BigEndian {
		ident[elf.EI_DATA] = byte(elf.ELFDATA2MSB)
	}
	hdr := elf.Header64{
		Ident: ident, Type: uint16(elf.ET_REL), Machine: uint16(elf.EM_BPF), Version: uint32(elf.EV_CURRENT),
		Shoff: shoff, Ehsize: ehsize, Shentsize: shentsize, Shnum: uint16(len(shdrs)), Shstrndx: uint16(len(shdrs) - 1),
	}
	var out bytes.Buffer
	if err := binary.Write(&out, bo, hdr); err != nil {
		return nil, err
	}
	for i, s := range all {
		pad(&out, shdrs[i+1].Off)
		out.Write(s.data)
	}
	pad(&out, shoff)
	if err := binary.Write(&out, bo, shdrs); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// pad writes zeros up to offset off.
func pad(w *bytes.Buffer, off uint64) {
	if n := int(off) - w.Len(); n > 0 {
		w.Write(make([]byte, n))
	}
}

// loaderNote is the note a model read by fallbackSpec carries.
func loaderNote(err error) string {
	return fmt.Sprintf("cilium/ebpf cannot load this object (%v): the skeleton was generated from its BTF and ELF symbols; its types are valid, but Open returns that error", err)
}
