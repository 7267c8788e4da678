package btfmodel

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
	"github.com/google/go-cmp/cmp"
)

func TestIdentifier(t *testing.T) {
	for in, want := range map[string]string{
		"task_struct":     "TaskStruct",
		"my_map":          "MyMap",
		"myMap":           "MyMap",
		"TCP_FLAG":        "TCP_FLAG", // bpf2go keeps '_' after a capital
		".data.counters":  "DataCounters",
		".bss":            "Bss",
		"__u32":           "U32",
		"a1_b":            "A1B",
		"x\ny);os.Exit(1": "XyosExit1", // nothing but letters, digits and '_' survives
		"héllo":           "Hllo",
		"___":             "",
		"1abc":            "1abc",
	} {
		if got := Identifier(in); got != want {
			t.Errorf("Identifier(%q) = %q, want %q", in, got, want)
		}
	}
	if checkIdent("") == nil || checkIdent("1abc") == nil || checkIdent("Abc") != nil {
		t.Error("checkIdent accepts an empty name or one that starts with a digit, or rejects a good one")
	}
}

var (
	u8  = &btf.Int{Name: "unsigned char", Size: 1}
	u16 = &btf.Int{Name: "unsigned short", Size: 2}
	u32 = &btf.Int{Name: "unsigned int", Size: 4}
	s32 = &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	u64 = &btf.Int{Name: "unsigned long long", Size: 8}
	chr = &btf.Int{Name: "char", Size: 1, Encoding: btf.Signed}
)

func member(name string, typ btf.Type, byteOff int) btf.Member {
	return btf.Member{Name: name, Type: typ, Offset: btf.Bits(byteOff * 8)}
}

// shape is a compact view of a laid-out declaration.
func shape(d *Decl) []string {
	var out []string
	for _, f := range d.Fields {
		s := f.GoName + "@" + itoa(f.Offset) + ":" + typeStr(f.Type)
		if f.Embedded {
			s += " embedded"
		}
		if f.Note != "" {
			s += " // " + f.Note
		}
		out = append(out, s)
	}
	for _, m := range d.Members {
		out = append(out, m.GoName+"/"+m.Setter+"@"+itoa(m.Offset)+":"+typeStr(m.Type))
	}
	for _, v := range d.Values {
		out = append(out, v.GoName+"="+itoa(int(int64(v.Value))))
	}
	kinds := map[AccessKind]string{Bitfield: "bits", Unaligned: "unaligned", Copy: "copy", Tail: "tail"}
	for _, a := range d.Accessors {
		s := a.GoName + "/" + a.Setter + " " + kinds[a.Kind] + " " + a.Storage + "@" + itoa(a.Offset) + ":" + typeStr(a.Type)
		if a.Kind == Bitfield {
			s += " bits " + itoa(a.BitOff) + "+" + itoa(a.BitSize)
			if a.Signed {
				s += " signed"
			}
		}
		out = append(out, s)
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

func typeStr(t *Type) string {
	switch t.Kind {
	case Array:
		return "[" + itoa(t.Len) + "]" + typeStr(t.Elem)
	case Named:
		return t.Decl.GoName
	case Runtime:
		return "bpfskel." + t.Basic
	}
	return t.Basic
}

func declOf(t *testing.T, typ btf.Type) (*Decl, *namer) {
	t.Helper()
	n := newNamer(nil)
	ty := newTyper(n)
	got, _, err := ty.goType(typ, "Hint", "in a test", 0)
	if err != nil {
		t.Fatalf("goType: %v", err)
	}
	if got.Kind != Named {
		t.Fatalf("goType gave %s, not a declared type", typeStr(got))
	}
	return got.Decl, n
}

func TestLayout(t *testing.T) {
	inner := &btf.Struct{Name: "inner", Size: 16, Members: []btf.Member{member("a", u8, 0), member("b", u64, 8)}}
	for _, tc := range []struct {
		name string
		typ  btf.Type
		want []string
		size int
	}{
		{
			name: "holes and tail padding",
			typ: &btf.Struct{Name: "holes", Size: 24, Members: []btf.Member{
				member("a", u8, 0), member("b", u64, 8), member("c", u16, 16)}},
			want: []string{"A@0:uint8", "_@1:[7]byte", "B@8:uint64", "C@16:uint16", "_@18:[6]byte"},
			size: 8,
		},
		{
			name: "nested struct, char array, 2-D array",
			typ: &btf.Struct{Name: "outer", Size: 32, Members: []btf.Member{
				member("in", inner, 0), member("name", &btf.Array{Type: chr, Nelems: 10}, 16),
				member("grid", &btf.Array{Type: &btf.Array{Type: u8, Nelems: 3}, Nelems: 2}, 26)}},
			want: []string{"In@0:Inner", "Name@16:[10]byte", "Grid@26:[2][3]uint8"},
			size: 8,
		},
		{
			name: "packed: misaligned members become storage with accessors",
			typ: &btf.Struct{Name: "pk", Size: 13, Members: []btf.Member{
				member("a", u8, 0), member("b", u64, 1), member("c", u32, 9)}},
			want: []string{"A@0:uint8",
				"raw1@1:[8]byte // member b (uint64), misaligned for Go: read and write it through the accessors",
				"raw9@9:[4]byte // member c (uint32), misaligned for Go: read and write it through the accessors",
				"B/SetB unaligned raw1@0:uint64", "C/SetC unaligned raw9@0:uint32"},
			size: 1,
		},
		{
			name: "packed at an aligned offset: every member gets accessors, alignment 1",
			typ: &btf.Struct{Name: "pk2", Size: 12, Members: []btf.Member{
				member("b", u64, 0), member("c", u32, 8)}},
			want: []string{"raw0@0:[8]byte // member b (uint64), misaligned for Go: read and write it through the accessors",
				"raw8@8:[4]byte // member c (uint32), misaligned for Go: read and write it through the accessors",
				"B/SetB unaligned raw0@0:uint64", "C/SetC unaligned raw8@0:uint32"},
			size: 1,
		},
		{
			name: "bitfields get storage and accessors; signed ones sign-extend",
			typ: &btf.Struct{Name: "bf", Size: 8, Members: []btf.Member{
				{Name: "x", Type: u32, Offset: 0, BitfieldSize: 3},
				{Name: "y", Type: s32, Offset: 3, BitfieldSize: 13},
				member("z", u16, 2), member("w", u32, 4)}},
			want: []string{"raw0@0:[2]byte // bitfields x:3, y:13: read and write them through the accessors",
				"Z@2:uint16", "W@4:uint32",
				"X/SetX bits raw0@0:uint32 bits 0+3", "Y/SetY bits raw0@0:int32 bits 3+13 signed"},
			size: 4,
		},
		{
			name: "anonymous struct members are flattened, anonymous unions embedded and named after their first member",
			typ: &btf.Struct{Name: "anon", Size: 16, Members: []btf.Member{
				member("", &btf.Struct{Size: 8, Members: []btf.Member{member("p", u32, 0), member("q", u32, 4)}}, 0),
				member("", &btf.Union{Size: 8, Members: []btf.Member{member("l", u64, 0), member("i", s32, 0)}}, 8)}},
			want: []string{"P@0:uint32", "Q@4:uint32", "AnonLUnion@8:AnonLUnion embedded"},
			size: 8,
		},
		{
			name: "union: accessors and alignment",
			typ: &btf.Union{Name: "u", Size: 8, Members: []btf.Member{
				member("word", u32, 0), member("big", u64, 0), member("raw", &btf.Array{Type: u8, Nelems: 8}, 0)}},
			want: []string{"Word/SetWord@0:uint32", "Big/SetBig@0:uint64", "Raw/SetRaw@0:[8]uint8"},
			size: 8,
		},
		{
			name: "signed enum with its prefix stripped",
			typ: &btf.Enum{Name: "color", Size: 4, Signed: true, Values: []btf.EnumValue{
				{Name: "COLOR_RED", Value: 1}, {Name: "BLUE", Value: uint64(0xffffffffffffffff)}}},
			want: []string{"ColorRED=1", "ColorBLUE=-1"},
			size: 4,
		},
		{
			name: "typedef of an anonymous struct names it; pointers and floats",
			typ: &btf.Typedef{Name: "pt_t", Type: &btf.Struct{Size: 16, Members: []btf.Member{
				member("p", &btf.Pointer{Target: u32}, 0), member("f", &btf.Float{Name: "float", Size: 4}, 8),
				member("c", &btf.Volatile{Type: &btf.Const{Type: u32}}, 12)}}},
			want: []string{"P@0:uint64 // C pointer, kept as its 64-bit value", "F@8:float32", "C@12:uint32"},
			size: 8,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, n := declOf(t, tc.typ)
			if err := n.err(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, shape(d)); diff != "" {
				t.Errorf("layout (-want +got):\n%s", diff)
			}
			if d.Align != tc.size {
				t.Errorf("Go alignment %d, want %d", d.Align, tc.size)
			}
			covered := 0
			for _, f := range d.Fields {
				if f.Offset != covered {
					t.Errorf("field %s at %d, want it at %d: every byte covered once", f.GoName, f.Offset, covered)
				}
				covered += sizeOf(f.Type)
			}
			if d.Kind == Struct && covered != d.Size {
				t.Errorf("fields cover %d bytes of %d", covered, d.Size)
			}
		})
	}
}

func TestReject(t *testing.T) {
	deep := btf.Type(u8)
	for i := 0; i < 100; i++ {
		deep = &btf.Array{Type: deep, Nelems: 1}
	}
	for _, tc := range []struct {
		name string
		typ  btf.Type
		want string
	}{
		{"forward declaration", &btf.Struct{Name: "s", Size: 8, Members: []btf.Member{
			member("f", &btf.Fwd{Name: "later", Kind: btf.FwdStruct}, 0)}}, `struct later is only declared, never defined`},
		{"odd integer", &btf.Struct{Name: "s", Size: 3, Members: []btf.Member{
			member("f", &btf.Int{Name: "u24", Size: 3}, 0)}}, `integer u24 has a size of 3 bytes`},
		{"overlap", &btf.Struct{Name: "s", Size: 8, Members: []btf.Member{
			member("a", u64, 0), member("b", u32, 4)}}, `member "b" at offset 4 overlaps`},
		{"past the end", &btf.Struct{Name: "s", Size: 4, Members: []btf.Member{
			member("a", u64, 0)}}, `member "a" ends at byte 8, past the end of the 4-byte type`},
		{"too deep", &btf.Struct{Name: "s", Size: 1, Members: []btf.Member{member("a", deep, 0)}}, "nest deeper than 64"},
		{"function", &btf.Struct{Name: "s", Size: 8, Members: []btf.Member{
			member("f", &btf.FuncProto{}, 0)}}, "cannot be mirrored"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := newTyper(newNamer(nil)).goType(tc.typ, "Hint", "in a test", 0)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestLoadRejectsNonBPF(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "x.o: not an ELF object"},
		{"text", []byte("hello, world\n"), "x.o: not an ELF object"},
	} {
		_, err := Load("x.o", tc.data, Options{})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want prefix %q", tc.name, err, tc.want)
		}
	}
}

// TestAnonymousUnionNames: an anonymous union is named after its parent and
// its first member (found through anonymous members), so its name does not
// change when another anonymous union is added before it; its members,
// those of anonymous structs and unions inside it included, are accessors
// at their offsets.
func TestAnonymousUnionNames(t *testing.T) {
	lohi := &btf.Union{Size: 8, Members: []btf.Member{
		member("", &btf.Struct{Size: 8, Members: []btf.Member{member("lo", u32, 0), member("hi", u32, 4)}}, 0),
		member("", &btf.Union{Size: 1, Members: []btf.Member{member("b0", u8, 0)}}, 0),
		member("all", u64, 0),
	}}
	other := &btf.Union{Size: 8, Members: []btf.Member{member("x", u64, 0)}}
	one := &btf.Struct{Name: "s", Size: 8, Members: []btf.Member{member("", lohi, 0)}}
	two := &btf.Struct{Name: "s", Size: 16, Members: []btf.Member{member("", other, 0), member("", lohi, 8)}}

	d1, n1 := declOf(t, one)
	d2, n2 := declOf(t, two)
	if err := errors.Join(n1.err(), n2.err()); err != nil {
		t.Fatal(err)
	}
	if got := d1.Fields[0].GoName; got != "SLoUnion" {
		t.Errorf("union named %s, want SLoUnion", got)
	}
	if a, b := d1.Fields[0].GoName, d2.Fields[1].GoName; a != b || d2.Fields[0].GoName != "SXUnion" {
		t.Errorf("names %s / %s and %s: adding a union renamed another", a, b, d2.Fields[0].GoName)
	}
	want := []string{"Lo/SetLo@0:uint32", "Hi/SetHi@4:uint32", "B0/SetB0@0:uint8", "All/SetAll@0:uint64"}
	if diff := cmp.Diff(want, shape(d1.Fields[0].Type.Decl)); diff != "" {
		t.Errorf("union members (-want +got):\n%s", diff)
	}
}
