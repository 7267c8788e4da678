// Package objtest writes small BPF ELF objects for tests: sections,
// symbols and BTF (marshalled by cilium/ebpf) laid out the way clang lays
// them out, so that a test can build a valid object and break one thing
// in it. Tests of btfmodel (the malformed-object table) and gen use it.
package objtest

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// Object describes a small BPF ELF object (maps and global data, no
// programs). Bytes writes it the way clang lays one out: ELF64 little
// endian, sections, then .symtab, .strtab and the section header table.
type Object struct {
	Machine  elf.Machine
	Sections []Section
	Symbols  []Symbol
	// Types are marshalled into .BTF (nil: no .BTF section); PatchBTF, if
	// set, edits the marshalled bytes.
	Types    []btf.Type
	PatchBTF func(tb testing.TB, raw []byte)
}

// Section is one section of an Object.
type Section struct {
	Name  string
	Type  elf.SectionType
	Flags elf.SectionFlag
	Data  []byte
	Size  uint64 // NOBITS sections only
}

// Symbol is a global object symbol of an Object.
type Symbol struct {
	Name    string
	Section string
	Value   uint64
	Size    uint64
}

// Integer types the objects use.
var (
	I32 = &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	U32 = &btf.Int{Name: "unsigned int", Size: 4}
	U64 = &btf.Int{Name: "unsigned long long", Size: 8}
)

// MapDef is the BTF of a BTF-style map definition
//
//	struct { __uint(type, typ); __uint(max_entries, n); __type(key, K); __type(value, V); }
//
// as clang emits it: each field is a pointer (to an array whose length is
// the number, or to the key or value type).
func MapDef(typ, maxEntries uint32, key, value btf.Type) *btf.Struct {
	num := func(n uint32) btf.Type {
		return &btf.Pointer{Target: &btf.Array{Index: I32, Type: I32, Nelems: n}}
	}
	return &btf.Struct{Size: 32, Members: []btf.Member{
		{Name: "type", Type: num(typ), Offset: 0},
		{Name: "max_entries", Type: num(maxEntries), Offset: 64},
		{Name: "key", Type: &btf.Pointer{Target: key}, Offset: 128},
		{Name: "value", Type: &btf.Pointer{Target: value}, Offset: 192},
	}}
}

// WithMap returns Good's "counts" hash map definition with the given key
// and value types, as the Datasec that replaces Types[0].
func WithMap(key, value btf.Type) *btf.Datasec {
	mapVar := &btf.Var{Name: "counts", Type: MapDef(1 /* BPF_MAP_TYPE_HASH */, 16, key, value), Linkage: btf.GlobalVar}
	return &btf.Datasec{Name: ".maps", Size: 32, Vars: []btf.VarSecinfo{{Type: mapVar, Offset: 0, Size: 32}}}
}

// Good is a valid object: a hash map "counts" (u32 -> u64) in .maps
// (Types[0]) and a .data section (Types[1]) with one u32 variable
// "magic".
func Good() *Object {
	dataVar := &btf.Var{Name: "magic", Type: U32, Linkage: btf.GlobalVar}
	return &Object{
		Machine: elf.EM_BPF,
		Sections: []Section{
			{Name: ".maps", Type: elf.SHT_PROGBITS, Flags: elf.SHF_ALLOC | elf.SHF_WRITE, Data: make([]byte, 32)},
			{Name: ".data", Type: elf.SHT_PROGBITS, Flags: elf.SHF_ALLOC | elf.SHF_WRITE, Data: []byte{0x34, 0x12, 0, 0}},
			{Name: "license", Type: elf.SHT_PROGBITS, Flags: elf.SHF_ALLOC | elf.SHF_WRITE, Data: []byte("GPL\x00")},
		},
		Symbols: []Symbol{
			{Name: "counts", Section: ".maps", Size: 32},
			{Name: "magic", Section: ".data", Size: 4},
		},
		Types: []btf.Type{
			WithMap(U32, U64),
			&btf.Datasec{Name: ".data", Size: 4, Vars: []btf.VarSecinfo{{Type: dataVar, Offset: 0, Size: 4}}},
		},
	}
}

// Bytes writes the object.
func (o *Object) Bytes(tb testing.TB) []byte {
	tb.Helper()
	secs := append([]Section(nil), o.Sections...)
	if o.Types != nil {
		b, err := btf.NewBuilder(o.Types, nil)
		if err != nil {
			tb.Fatal(err)
		}
		raw, err := b.Marshal(nil, &btf.MarshalOptions{Order: binary.LittleEndian})
		if err != nil {
			tb.Fatal(err)
		}
		if o.PatchBTF != nil {
			o.PatchBTF(tb, raw)
		}
		secs = append(secs, Section{Name: ".BTF", Type: elf.SHT_PROGBITS, Data: raw})
	}

	// Section 0 is SHT_NULL; then the object's sections; then .symtab
	// and .strtab, which holds the section and symbol names.
	var strtab bytes.Buffer
	strtab.WriteByte(0)
	addStr := func(s string) uint32 {
		off := uint32(strtab.Len())
		strtab.WriteString(s)
		strtab.WriteByte(0)
		return off
	}
	index := map[string]int{}
	for i, s := range secs {
		if _, dup := index[s.Name]; !dup {
			index[s.Name] = i + 1
		}
	}
	var symtab bytes.Buffer
	le := binary.LittleEndian
	symtab.Write(make([]byte, 24)) // the null symbol
	for _, sym := range o.Symbols {
		idx, ok := index[sym.Section]
		if !ok {
			tb.Fatalf("symbol %s in unknown section %s", sym.Name, sym.Section)
		}
		var e [24]byte
		le.PutUint32(e[0:], addStr(sym.Name))
		e[4] = byte(elf.STB_GLOBAL)<<4 | byte(elf.STT_OBJECT)
		le.PutUint16(e[6:], uint16(idx))
		le.PutUint64(e[8:], sym.Value)
		le.PutUint64(e[16:], sym.Size)
		symtab.Write(e[:])
	}
	strtabIdx := len(secs) + 2
	secs = append(secs,
		Section{Name: ".symtab", Type: elf.SHT_SYMTAB, Data: symtab.Bytes()},
		Section{Name: ".strtab", Type: elf.SHT_STRTAB},
	)
	names := make([]uint32, len(secs))
	for i, s := range secs {
		names[i] = addStr(s.Name)
	}
	secs[len(secs)-1].Data = strtab.Bytes()

	file := make([]byte, 64)
	type placed struct{ off, size uint64 }
	places := make([]placed, len(secs))
	for i, s := range secs {
		for len(file)%8 != 0 {
			file = append(file, 0)
		}
		places[i] = placed{uint64(len(file)), uint64(len(s.Data))}
		if s.Type == elf.SHT_NOBITS {
			places[i].size = s.Size
			continue
		}
		file = append(file, s.Data...)
	}
	for len(file)%8 != 0 {
		file = append(file, 0)
	}
	shoff := len(file)
	file = append(file, make([]byte, 64)...) // section 0
	for i, s := range secs {
		var h [64]byte
		le.PutUint32(h[0:], names[i])
		le.PutUint32(h[4:], uint32(s.Type))
		le.PutUint64(h[8:], uint64(s.Flags))
		le.PutUint64(h[24:], places[i].off)
		le.PutUint64(h[32:], places[i].size)
		le.PutUint64(h[48:], 8) // alignment
		if s.Type == elf.SHT_SYMTAB {
			le.PutUint32(h[40:], uint32(strtabIdx)) // link: the string table
			le.PutUint32(h[44:], 1)                 // info: first global symbol
			le.PutUint64(h[56:], 24)                // entry size
		}
		file = append(file, h[:]...)
	}

	// The ELF header.
	copy(file, []byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)})
	le.PutUint16(file[16:], uint16(elf.ET_REL))
	le.PutUint16(file[18:], uint16(o.Machine))
	le.PutUint32(file[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(file[40:], uint64(shoff))
	le.PutUint16(file[52:], 64)                  // header size
	le.PutUint16(file[58:], 64)                  // section header size
	le.PutUint16(file[60:], uint16(len(secs)+1)) // section count
	le.PutUint16(file[62:], uint16(strtabIdx))   // section name table
	return file
}

// TypeRecords walks the type section of raw BTF (little endian) and
// returns the byte offset of each type's record, indexed by type ID (ID 0,
// void, has none).
func TypeRecords(tb testing.TB, raw []byte) []int {
	tb.Helper()
	le := binary.LittleEndian
	hdrLen := int(le.Uint32(raw[4:]))
	typeOff, typeLen := int(le.Uint32(raw[8:])), int(le.Uint32(raw[12:]))
	start := hdrLen + typeOff
	recs := []int{-1}
	for off := start; off < start+typeLen; {
		recs = append(recs, off)
		info := le.Uint32(raw[off+4:])
		kind, vlen := (info>>24)&0x1f, int(info&0xffff)
		off += 12
		switch kind {
		case 1, 14, 17: // int, var, decl tag
			off += 4
		case 3: // array
			off += 12
		case 4, 5, 15, 19: // struct, union, datasec, enum64
			off += 12 * vlen
		case 6, 13: // enum, func proto
			off += 8 * vlen
		}
	}
	return recs
}

// SetTypeRef sets the type (or size) field of the record of type id.
func SetTypeRef(raw []byte, recs []int, id int, ref uint32) {
	binary.LittleEndian.PutUint32(raw[recs[id]+8:], ref)
}

// TypeIDByName returns the ID of the first type named name with the given
// kind, from the marshalled BTF.
func TypeIDByName(tb testing.TB, raw []byte, kind uint32, name string) int {
	tb.Helper()
	le := binary.LittleEndian
	hdrLen := int(le.Uint32(raw[4:]))
	strOff := hdrLen + int(le.Uint32(raw[16:]))
	for id, off := range TypeRecords(tb, raw) {
		if id == 0 {
			continue
		}
		if (le.Uint32(raw[off+4:])>>24)&0x1f != kind {
			continue
		}
		n := strOff + int(le.Uint32(raw[off:]))
		end := bytes.IndexByte(raw[n:], 0)
		if string(raw[n:n+end]) == name {
			return id
		}
	}
	tb.Fatalf("no BTF type of kind %d named %q", kind, name)
	return 0
}

// SectionHeader returns the offset of the header of the section called
// name in a file written by Bytes.
func SectionHeader(tb testing.TB, file []byte, name string) int {
	tb.Helper()
	f, err := elf.NewFile(bytes.NewReader(file))
	if err != nil {
		tb.Fatal(err)
	}
	shoff := int(binary.LittleEndian.Uint64(file[40:]))
	for i, s := range f.Sections {
		if s.Name == name {
			return shoff + 64*i
		}
	}
	tb.Fatalf("no section %s", name)
	return 0
}

// SeedGolden adds every committed golden and real-world object to f's
// seed corpus. It is for fuzz targets in packages one directory below the
// module root (the objects are ../testdata/golden/*/*.bpf.o and
// ../testdata/realworld/*/*.bpf.o from there).
func SeedGolden(f *testing.F) {
	f.Helper()
	objs, err := filepath.Glob("../testdata/golden/*/*.bpf.o")
	if err != nil || len(objs) == 0 {
		f.Fatalf("no seed objects: %v", err)
	}
	rw, err := filepath.Glob("../testdata/realworld/*/*.bpf.o")
	if err != nil {
		f.Fatal(err)
	}
	objs = append(objs, rw...)
	for _, obj := range objs {
		b, err := os.ReadFile(obj)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}
