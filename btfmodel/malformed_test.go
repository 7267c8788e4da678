package btfmodel

import (
	"debug/elf"
	"encoding/binary"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/bpfskel/bpfskel/internal/objtest"
	"github.com/cilium/ebpf/btf"
)

// malformedCase is a damaged or hostile object and the message Load must
// give for it (after "bad.bpf.o: ").
type malformedCase struct {
	name string
	data []byte
	want string
}

// hugeStruct is a struct that claims 4 GiB - 1 bytes.
var hugeStruct = &btf.Struct{Name: "huge", Size: 1<<32 - 1, Members: []btf.Member{{Name: "x", Type: u32}}}

// malformedCases builds every case from objtest.Good (or a committed
// object), changing one thing.
func malformedCases(tb testing.TB) []malformedCase {
	tb.Helper()
	hello, err := os.ReadFile("../testdata/golden/hello/hello.bpf.o")
	if err != nil {
		tb.Fatal(err)
	}
	build := func(change func(o *objtest.Object)) []byte {
		o := objtest.Good()
		change(o)
		return o.Bytes(tb)
	}
	withMap := func(key, value btf.Type) func(o *objtest.Object) {
		return func(o *objtest.Object) { o.Types[0] = objtest.WithMap(key, value) }
	}
	return []malformedCase{
		{
			name: "not an ELF",
			data: []byte("#!/bin/sh\necho this is not an object\n"),
			want: "not an ELF object (bad magic number",
		},
		{
			name: "empty file",
			data: nil,
			want: "not an ELF object (EOF)",
		},
		{
			name: "truncated ELF (section headers cut off)",
			data: hello[:len(hello)/2],
			want: "a damaged or truncated ELF object (EOF); rebuild it",
		},
		{
			name: "truncated ELF (a section past the end)",
			data: func() []byte {
				b := build(func(*objtest.Object) {})
				h := objtest.SectionHeader(tb, b, ".BTF")
				binary.LittleEndian.PutUint64(b[h+32:], 1<<20)
				return b
			}(),
			want: `section ".BTF": claims 1048576 bytes at offset`,
		},
		{
			name: "wrong machine",
			data: build(func(o *objtest.Object) { o.Machine = elf.EM_X86_64 }),
			want: "an ELF object for EM_X86_64, not BPF; compile with clang -target bpf",
		},
		{
			name: "no .BTF",
			data: build(func(o *objtest.Object) { o.Types = nil }),
			want: "the object has no .BTF section; compile it with clang -g -target bpf",
		},
		{
			name: "BTF references a missing type",
			data: build(func(o *objtest.Object) {
				o.PatchBTF = func(tb testing.TB, raw []byte) {
					objtest.SetTypeRef(raw, objtest.TypeRecords(tb, raw), objtest.TypeIDByName(tb, raw, 14 /* var */, "magic"), 0x7fff)
				}
			}),
			want: "the BTF is damaged (rebuild the object): type 2: inflate type: type id 32767: not found",
		},
		{
			name: "type loop through a typedef",
			data: build(func(o *objtest.Object) {
				loop := &btf.Typedef{Name: "loop_t", Type: u32}
				o.Types[1].(*btf.Datasec).Vars[0].Type.(*btf.Var).Type = loop
				o.PatchBTF = func(tb testing.TB, raw []byte) {
					id := objtest.TypeIDByName(tb, raw, 8 /* typedef */, "loop_t")
					objtest.SetTypeRef(raw, objtest.TypeRecords(tb, raw), id, uint32(id))
				}
			}),
			want: `section .data: member "magic": types nest deeper than 64 levels: a loop in the BTF, or a damaged object`,
		},
		{
			name: "type loop through a const",
			data: build(func(o *objtest.Object) {
				loop := &btf.Const{Type: u32}
				o.Types[1].(*btf.Datasec).Vars[0].Type.(*btf.Var).Type = &btf.Typedef{Name: "const_loop_t", Type: loop}
				o.PatchBTF = func(tb testing.TB, raw []byte) {
					id := objtest.TypeIDByName(tb, raw, 10 /* const */, "")
					objtest.SetTypeRef(raw, objtest.TypeRecords(tb, raw), id, uint32(id))
				}
			}),
			want: `section .data: member "magic": qualifiers (const, volatile, restrict, type tags) nest deeper than 64 levels: a loop in the BTF, or a damaged object`,
		},
		{
			name: "struct that contains itself",
			data: build(func(o *objtest.Object) {
				self := &btf.Struct{Name: "self", Size: 8}
				self.Members = []btf.Member{{Name: "me", Type: self}}
				withMap(u32, self)(o)
			}),
			want: `map "counts": value: struct self: member "me": struct self contains itself`,
		},
		{
			// __u32 key; where __type(key, __u32) gives __u32 *key.
			name: "map key member is not a pointer",
			data: build(func(o *objtest.Object) {
				def := objtest.MapDef(1, 16, u32, u64)
				def.Members[2].Type = u32
				mapVar := &btf.Var{Name: "counts", Type: def, Linkage: btf.GlobalVar}
				o.Types[0] = &btf.Datasec{Name: ".maps", Size: 32, Vars: []btf.VarSecinfo{{Type: mapVar, Offset: 0, Size: 32}}}
			}),
			want: `map "counts": member key of its definition is "unsigned int", not a pointer; declare it with __type(key, T)`,
		},
		{
			name: ".maps variable is not a struct",
			data: build(func(o *objtest.Object) {
				mapVar := &btf.Var{Name: "counts", Type: u32, Linkage: btf.GlobalVar}
				o.Types[0] = &btf.Datasec{Name: ".maps", Size: 4, Vars: []btf.VarSecinfo{{Type: mapVar, Offset: 0, Size: 4}}}
				o.Sections[0].Data = make([]byte, 4)
				o.Symbols[0].Size = 4
			}),
			want: `map "counts": its definition in .maps is "unsigned int", not a struct; declare maps as struct { __uint(type, ...); ... } counts SEC(".maps")`,
		},
		{
			name: "duplicate section names",
			data: build(func(o *objtest.Object) {
				o.Sections = append(o.Sections, objtest.Section{Name: ".data", Type: elf.SHT_PROGBITS, Flags: elf.SHF_ALLOC | elf.SHF_WRITE, Data: make([]byte, 8)})
			}),
			want: `two sections are called ".data"`,
		},
		{
			name: "data section size differs between BTF and ELF",
			data: build(func(o *objtest.Object) {
				o.Types[1].(*btf.Datasec).Size = 16
			}),
			want: "section .data: its BTF says 16 bytes but the ELF section has 4",
		},
		{
			name: "BTF array of 2^32-1 elements",
			data: build(func(o *objtest.Object) {
				big := &btf.Array{Index: u32, Type: u32, Nelems: 1<<32 - 1}
				o.Types[1].(*btf.Datasec).Vars[0].Type.(*btf.Var).Type = big
			}),
			want: `section .data: member "magic": array of 4294967295 elements of 4 bytes is larger than any BTF type can be (4 GiB)`,
		},
		{
			name: "array of 2 GiB",
			data: build(func(o *objtest.Object) {
				big := &btf.Array{Index: u32, Type: u8, Nelems: 1 << 31}
				o.Types[1].(*btf.Datasec).Vars[0].Type.(*btf.Var).Type = big
			}),
			want: `section .data: member "magic": array of 2147483648 elements of 1 bytes is 2147483648 bytes; Go cannot declare a type of 2 GiB or more on 32-bit platforms`,
		},
		{
			name: "map value of 4 GiB",
			data: build(withMap(u32, hugeStruct)),
			want: `map "counts": value: struct huge: is 4294967295 bytes; Go cannot declare a type of 2 GiB or more on 32-bit platforms`,
		},
		{
			name: ".bss of 4 GiB",
			data: build(func(o *objtest.Object) {
				o.Sections = append(o.Sections, objtest.Section{Name: ".bss", Type: elf.SHT_NOBITS, Flags: elf.SHF_ALLOC | elf.SHF_WRITE, Size: 1 << 32})
			}),
			want: `section ".bss": claims 4294967296 zero-filled bytes, more than the 268435456 (256 MiB) bpfskel accepts`,
		},
	}
}

// TestPointerKey: a map keyed by a kernel pointer, as libbpf-tools' biotop
// and biosnoop key requests by struct request *, is not malformed: the key
// is the pointer's 64-bit value, an identity user space may read and
// compare but not follow.
func TestPointerKey(t *testing.T) {
	o := objtest.Good()
	o.Types[0] = objtest.WithMap(&btf.Pointer{Target: &btf.Struct{Name: "request"}}, u64)
	obj, err := Load("ptr.bpf.o", o.Bytes(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m := obj.Maps[0]; m.KeySize != 8 || typeStr(m.Key) != "uint64" {
		t.Errorf("key of %s: %d bytes, Go type %s; want 8 bytes, uint64", m.CName, m.KeySize, typeStr(m.Key))
	}
}

// TestMalformedObjects: every damaged or hostile object gives an error
// that names the file and the fault; none panics or allocates what it
// claims.
func TestMalformedObjects(t *testing.T) {
	good := objtest.Good().Bytes(t)
	if _, err := Load("good.bpf.o", good, Options{}); err != nil {
		t.Fatalf("the unmodified test object does not load: %v", err)
	}
	for _, c := range malformedCases(t) {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			obj, err := Load("bad.bpf.o", c.data, Options{})
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatalf("loaded a model with %d maps; want an error", len(obj.Maps))
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "bad.bpf.o: ") || !strings.Contains(msg, c.want) {
				t.Errorf("error:\n  %s\nwant it to start with bad.bpf.o and contain\n  %s", msg, c.want)
			}
			// Claimed gigabytes must not be allocated.
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
				t.Errorf("Load allocated %d MiB", grew>>20)
			}
		})
	}
}
