package gen_test

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/bpfskel/bpfskel/btfmodel"
	"github.com/bpfskel/bpfskel/gen"
	"github.com/bpfskel/bpfskel/internal/objtest"
)

// TestHugeTypesDoNotAllocate: an object whose types claim a gigabyte (the
// largest the model accepts are just under 2 GiB) is modelled and
// generated without allocating anything near that: sizes stay numbers in
// the output. Larger claims are refused by the model (see btfmodel's
// TestMalformedObjects).
func TestHugeTypesDoNotAllocate(t *testing.T) {
	o := objtest.Good()
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	value := &btf.Struct{Name: "huge_value", Size: 1 << 30, Members: []btf.Member{
		{Name: "head", Type: u32},
		{Name: "body", Type: &btf.Array{Index: u32, Type: u32, Nelems: 1<<27 - 1}, Offset: 32},
	}}
	o.Types[0] = objtest.WithMap(u32, value)
	data := o.Bytes(t)

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	model, err := btfmodel.Load("huge.bpf.o", data, btfmodel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := gen.Generate(model, gen.Options{Package: "huge", FileStem: "huge", ObjectFile: "huge.bpf.o"})
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("Load and Generate allocated %d MiB for a 1 GiB type", grew>>20)
	}
	src := files["huge_bpfel.go"]
	for _, want := range []string{"[134217727]uint32", "[536870912]byte"} {
		if !bytes.Contains(src, []byte(want)) {
			t.Errorf("output lacks %s:\n%s", want, src)
		}
	}
}
