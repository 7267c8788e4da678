package btfmodel

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// testObject describes a small BPF ELF object (maps and global data, no
// programs) that malformedCases mutates. objectBytes writes it the way
// clang lays one out: ELF64 little endian, sections, then .symtab,
// .strtab and the section header table.
type testObject struct {
	machine  elf.Machine
	sections []testSection
	symbols  []testSymbol
	// types are marshalled into .BTF (nil: no .BTF section); patchBTF, if
	// set, edits the marshalled bytes.
	types    []btf.Type
	patchBTF func(tb testing.TB, raw []byte)
	// patch edits the finished file (header fields, section headers).
	patch func(file []byte, shoff int)
}

type testSection struct {
	name  string
	typ   elf.SectionType
	flags elf.SectionFlag
	data  []byte
	size  uint64 // NOBITS sections only
}

type testSymbol struct {
	name    string
	section string
	value   uint64
	size    uint64
}

// testMapDef is the BTF of a BTF-style map definition
//
//	struct { __uint(type, typ); __uint(max_entries, n); __type(key, K); __type(value, V); }
//
// as clang emits it: each field is a pointer (to an array whose length is
// the number, or to the key or value type).
func testMapDef(typ, maxEntries uint32, key, value btf.Type) *btf.Struct {
	i32 := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	num := func(n uint32) btf.Type {
		return &btf.Pointer{Target: &btf.Array{Index: i32, Type: i32, Nelems: n}}
	}
	return &btf.Struct{Size: 32, Members: []btf.Member{
		{Name: "type", Type: num(typ), Offset: 0},
		{Name: "max_entries", Type: num(maxEntries), Offset: 64},
		{Name: "key", Type: &btf.Pointer{Target: key}, Offset: 128},
		{Name: "value", Type: &btf.Pointer{Target: value}, Offset: 192},
	}}
}

// goodObject is a valid object: a hash map "counts" (u32 -> u64) and a
// .data section with one u32 variable "magic".
func goodObject() *testObject {
	mapVar := &btf.Var{Name: "counts", Type: testMapDef(1 /* BPF_MAP_TYPE_HASH */, 16, u32, u64), Linkage: btf.GlobalVar}
	dataVar := &btf.Var{Name: "magic", Type: u32, Linkage: btf.GlobalVar}
	return &testObject{
		machine: elf.EM_BPF,
		sections: []testSection{
			{name: ".maps", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC | elf.SHF_WRITE, data: make([]byte, 32)},
			{name: ".data", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC | elf.SHF_WRITE, data: []byte{0x34, 0x12, 0, 0}},
			{name: "license", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC | elf.SHF_WRITE, data: []byte("GPL\x00")},
		},
		symbols: []testSymbol{
			{name: "counts", section: ".maps", size: 32},
			{name: "magic", section: ".data", size: 4},
		},
		types: []btf.Type{
			&btf.Datasec{Name: ".maps", Size: 32, Vars: []btf.VarSecinfo{{Type: mapVar, Offset: 0, Size: 32}}},
			&btf.Datasec{Name: ".data", Size: 4, Vars: []btf.VarSecinfo{{Type: dataVar, Offset: 0, Size: 4}}},
		},
	}
}

// bytes writes the object.
func (o *testObject) bytes(tb testing.TB) []byte {
	tb.Helper()
	secs := append([]testSection(nil), o.sections...)
	if o.types != nil {
		b, err := btf.NewBuilder(o.types, nil)
		if err != nil {
			tb.Fatal(err)
		}
		raw, err := b.Marshal(nil, &btf.MarshalOptions{Order: binary.LittleEndian})
		if err != nil {
			tb.Fatal(err)
		}
		if o.patchBTF != nil {
			o.patchBTF(tb, raw)
		}
		secs = append(secs, testSection{name: ".BTF", typ: elf.SHT_PROGBITS, data: raw})
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
		if _, dup := index[s.name]; !dup {
			index[s.name] = i + 1
		}
	}
	var symtab bytes.Buffer
	le := binary.LittleEndian
	symtab.Write(make([]byte, 24)) // the null symbol
	for _, sym := range o.symbols {
		idx, ok := index[sym.section]
		if !ok {
			tb.Fatalf("symbol %s in unknown section %s", sym.name, sym.section)
		}
		var e [24]byte
		le.PutUint32(e[0:], addStr(sym.name))
		e[4] = byte(elf.STB_GLOBAL)<<4 | byte(elf.STT_OBJECT)
		le.PutUint16(e[6:], uint16(idx))
		le.PutUint64(e[8:], sym.value)
		le.PutUint64(e[16:], sym.size)
		symtab.Write(e[:])
	}
	strtabIdx := len(secs) + 2
	secs = append(secs,
		testSection{name: ".symtab", typ: elf.SHT_SYMTAB, data: symtab.Bytes()},
		testSection{name: ".strtab", typ: elf.SHT_STRTAB},
	)
	names := make([]uint32, len(secs))
	for i, s := range secs {
		names[i] = addStr(s.name)
	}
	secs[len(secs)-1].data = strtab.Bytes()

	file := make([]byte, 64)
	type placed struct{ off, size uint64 }
	places := make([]placed, len(secs))
	for i, s := range secs {
		for len(file)%8 != 0 {
			file = append(file, 0)
		}
		places[i] = placed{uint64(len(file)), uint64(len(s.data))}
		if s.typ == elf.SHT_NOBITS {
			places[i].size = s.size
			continue
		}
		file = append(file, s.data...)
	}
	for len(file)%8 != 0 {
		file = append(file, 0)
	}
	shoff := len(file)
	file = append(file, make([]byte, 64)...) // section 0
	for i, s := range secs {
		var h [64]byte
		le.PutUint32(h[0:], names[i])
		le.PutUint32(h[4:], uint32(s.typ))
		le.PutUint64(h[8:], uint64(s.flags))
		le.PutUint64(h[24:], places[i].off)
		le.PutUint64(h[32:], places[i].size)
		le.PutUint64(h[48:], 8) // alignment
		if s.typ == elf.SHT_SYMTAB {
			le.PutUint32(h[40:], uint32(strtabIdx)) // link: the string table
			le.PutUint32(h[44:], 1)                 // info: first global symbol
			le.PutUint64(h[56:], 24)                // entry size
		}
		file = append(file, h[:]...)
	}

	// The ELF header.
	copy(file, []byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)})
	le.PutUint16(file[16:], uint16(elf.ET_REL))
	le.PutUint16(file[18:], uint16(o.machine))
	le.PutUint32(file[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(file[40:], uint64(shoff))
	le.PutUint16(file[52:], 64)                  // header size
	le.PutUint16(file[58:], 64)                  // section header size
	le.PutUint16(file[60:], uint16(len(secs)+1)) // section count
	le.PutUint16(file[62:], uint16(strtabIdx))   // section name table
	if o.patch != nil {
		o.patch(file, shoff)
	}
	return file
}

// btfTypeRecords walks the type section of raw BTF (little endian) and
// returns the byte offset of each type's record, indexed by type ID (ID 0,
// void, has none).
func btfTypeRecords(tb testing.TB, raw []byte) []int {
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

// setBTFTypeRef sets the type (or size) field of the record of type id.
func setBTFTypeRef(raw []byte, recs []int, id int, ref uint32) {
	binary.LittleEndian.PutUint32(raw[recs[id]+8:], ref)
}

// btfIDByName returns the ID of the first type named name with the given
// kind, from the marshalled BTF.
func btfIDByName(tb testing.TB, raw []byte, kind uint32, name string) int {
	tb.Helper()
	le := binary.LittleEndian
	hdrLen := int(le.Uint32(raw[4:]))
	strOff := hdrLen + int(le.Uint32(raw[16:]))
	for id, off := range btfTypeRecords(tb, raw) {
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

// sectionHeader returns the offset of the header of the section called
// name in a file written by bytes.
func sectionHeader(tb testing.TB, file []byte, name string) int {
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
