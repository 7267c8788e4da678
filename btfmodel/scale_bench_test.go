package btfmodel_test

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/bpfskel/bpfskel/btfmodel"
	"github.com/bpfskel/bpfskel/gen"
)

// wideObject is a BPF object with one hash map whose value is a struct of n
// members of n distinct struct types, with the BTF size.
func wideObject(tb testing.TB, n int) ([]byte, int) {
	tb.Helper()
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	u64 := &btf.Int{Name: "unsigned long long", Size: 8}
	i32 := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	idx := &btf.Int{Name: "__ARRAY_SIZE_TYPE__", Size: 4}
	var members []btf.Member
	for i := range n {
		t := &btf.Struct{Name: fmt.Sprintf("part_%d", i), Size: 16, Members: []btf.Member{
			{Name: "a", Type: u32}, {Name: "b", Type: u32, Offset: 32}, {Name: "c", Type: u64, Offset: 64}}}
		members = append(members, btf.Member{Name: fmt.Sprintf("m%d", i), Type: t, Offset: btf.Bits(i * 128)})
	}
	value := &btf.Struct{Name: "wide_value", Size: uint32(16 * n), Members: members}
	uintOf := func(v uint32) btf.Type {
		return &btf.Pointer{Target: &btf.Array{Type: i32, Index: idx, Nelems: v}}
	}
	def := &btf.Struct{Size: 32, Members: []btf.Member{
		{Name: "type", Type: uintOf(1)}, // BPF_MAP_TYPE_HASH
		{Name: "max_entries", Type: uintOf(1), Offset: 64},
		{Name: "key", Type: &btf.Pointer{Target: u32}, Offset: 128},
		{Name: "value", Type: &btf.Pointer{Target: value}, Offset: 192},
	}}
	v := &btf.Var{Name: "wide", Type: def, Linkage: btf.GlobalVar}
	ds := &btf.Datasec{Name: ".maps", Size: 32, Vars: []btf.VarSecinfo{{Type: v, Size: 32}}}
	b, err := btf.NewBuilder([]btf.Type{ds}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := b.Marshal(nil, &btf.MarshalOptions{Order: binary.LittleEndian})
	if err != nil {
		tb.Fatal(err)
	}
	obj, err := btfmodel.SyntheticObject(n, raw, 32)
	if err != nil {
		tb.Fatal(err)
	}
	return obj, len(raw)
}

// TestWideObject: the synthetic object of the scaling benchmark is a valid
// object that models as intended, so the benchmark measures real work.
func TestWideObject(t *testing.T) {
	obj, _ := wideObject(t, 50)
	m, err := btfmodel.Load("wide.bpf.o", obj, btfmodel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Maps) != 1 || m.Maps[0].Value == nil || len(m.Maps[0].Value.Decl.Fields) != 50 || len(m.Decls) != 51 {
		t.Fatalf("model of the wide object: %d maps, %d decls", len(m.Maps), len(m.Decls))
	}
}

// BenchmarkGenerateScaling generates objects whose BTF grows from 10 to
// 10000 types: ns/op divided by btf-bytes must stay flat for the cost to be
// linear in the BTF's size.
func BenchmarkGenerateScaling(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 10000} {
		obj, size := wideObject(b, n)
		b.Run(fmt.Sprintf("types=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m, err := btfmodel.Load("wide.bpf.o", obj, btfmodel.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := gen.Generate(m, gen.Options{Package: "p", FileStem: "wide", ObjectFile: "wide.bpf.o"}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size), "btf-bytes")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(size), "ns/btf-byte")
		})
	}
}
