package btfmodel

import (
	"testing"

	"github.com/cilium/ebpf/btf"
	"github.com/google/go-cmp/cmp"
)

// TestLayoutOf checks pahole-style layouts of hand-built types: bit holes,
// byte holes, bit padding and tail padding, and union members at 0.
func TestLayoutOf(t *testing.T) {
	u8 := &btf.Int{Name: "__u8", Size: 1}
	u16 := &btf.Int{Name: "__u16", Size: 2}
	u32 := &btf.Int{Name: "__u32", Size: 4}
	u64 := &btf.Int{Name: "__u64", Size: 8}

	// struct ev { __u8 a:1, b:2; __u64 c; __u16 d:4; } packed: 10 bytes.
	ev := &btf.Struct{Name: "ev", Size: 10, Members: []btf.Member{
		{Name: "a", Type: u8, Offset: 0, BitfieldSize: 1},
		{Name: "b", Type: u8, Offset: 1, BitfieldSize: 2},
		{Name: "c", Type: u64, Offset: 8},
		{Name: "d", Type: u16, Offset: 72, BitfieldSize: 4},
	}}
	got, err := layoutOf(ev)
	if err != nil {
		t.Fatal(err)
	}
	want := &TypeLayout{Kind: "struct", Name: "ev", Size: 10, Members: []LayoutMember{
		{Name: "a", Type: "__u8", Size: 1, BitSize: 1},
		{Name: "b", Type: "__u8", Size: 1, BitOffset: 1, BitSize: 2},
		{Name: "c", Type: "__u64", Offset: 1, Size: 8, BitHoleBefore: 5},
		{Name: "d", Type: "__u16", Offset: 8, Size: 2, BitOffset: 8, BitSize: 4},
	}, SumMembers: 10, BitHoles: 1, BitPadding: 4}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("struct ev (-want +got):\n%s", diff)
	}

	// struct holes { __u8 a; __u64 b; __u16 c; } behind a typedef: 24 bytes.
	holes := &btf.Typedef{Name: "holes_t", Type: &btf.Struct{Name: "holes", Size: 24, Members: []btf.Member{
		{Name: "a", Type: u8, Offset: 0},
		{Name: "b", Type: u64, Offset: 64},
		{Name: "c", Type: &btf.Array{Type: u16, Index: u32, Nelems: 2}, Offset: 128},
	}}}
	got, err = layoutOf(holes)
	if err != nil {
		t.Fatal(err)
	}
	want = &TypeLayout{Kind: "struct", Name: "holes", Size: 24, Typedefs: []string{"holes_t"}, Members: []LayoutMember{
		{Name: "a", Type: "__u8", Size: 1},
		{Name: "b", Type: "__u64", Offset: 8, Size: 8, HoleBefore: 7},
		{Name: "c", Type: "__u16[2]", Offset: 16, Size: 4},
	}, SumMembers: 13, Holes: 1, SumHoles: 7, Padding: 4}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("struct holes (-want +got):\n%s", diff)
	}

	// A union: every member at 0, no holes, padding after the largest.
	un := &btf.Union{Name: "u", Size: 8, Members: []btf.Member{
		{Name: "w", Type: u32}, {Name: "b", Type: u8},
	}}
	got, err = layoutOf(un)
	if err != nil {
		t.Fatal(err)
	}
	want = &TypeLayout{Kind: "union", Name: "u", Size: 8, Members: []LayoutMember{
		{Name: "w", Type: "__u32", Size: 4}, {Name: "b", Type: "__u8", Size: 1},
	}, SumMembers: 4, Padding: 4}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("union u (-want +got):\n%s", diff)
	}
}

func TestCTypeName(t *testing.T) {
	u32 := &btf.Int{Name: "__u32", Size: 4}
	for _, tc := range []struct {
		typ  btf.Type
		want string
	}{
		{&btf.Pointer{Target: &btf.Const{Type: &btf.Struct{Name: "event"}}}, "const struct event *"},
		// C's order: 3 arrays of 2 is __u32 x[3][2].
		{&btf.Array{Type: &btf.Array{Type: u32, Nelems: 2}, Nelems: 3}, "__u32[3][2]"},
		{&btf.Union{}, "union {...}"},
		{&btf.Volatile{Type: u32}, "volatile __u32"},
		{nil, "void"},
	} {
		if got := CTypeName(tc.typ); got != tc.want {
			t.Errorf("CTypeName(%v) = %q, want %q", tc.typ, got, tc.want)
		}
	}
}
