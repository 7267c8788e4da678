//go:build linux

package bpfskel_test

import (
	"fmt"
	"log"
	"os"

	"github.com/bpfskel/bpfskel/runtime/bpfskel"
)

// The Example functions load BPF into the kernel: the TestMain in
// example_maps_test.go leaves them out where kernel tests would skip.

// What a generated skeleton mirrors of testdata/sections.bpf.c: the value
// of buf_map and the .bss, .data and .rodata sections.
type (
	elem struct{ A, B, C uint32 }
	bss  struct{ Hits uint64 }
)

// open parses the example object, as a generated Open does with the
// object it embeds.
func open() *bpfskel.Spec {
	elf, err := os.ReadFile("testdata/sections.bpf.o")
	if err != nil {
		log.Fatal(err)
	}
	spec, err := bpfskel.Open("sections.bpf.o", elf)
	if err != nil {
		log.Fatal(err)
	}
	return spec
}

// Loading, binding typed handles and closing: what a generated Load and
// Close do. The program bump counts its runs in .bss and in the hash map
// counts under key 7.
func Example() {
	coll, err := open().Load(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer coll.Close() // maps, programs and views: one Close

	b := bpfskel.NewBinder(coll)
	counts := bpfskel.BindMap[uint32, uint64](b, "counts")
	bssView := bpfskel.BindSection[bss](b, ".bss")
	bump := bpfskel.BindProgram(b, "bump")
	if err := b.Done(); err != nil {
		log.Fatal(err) // names every map whose sizes do not match
	}

	for range 3 {
		if _, err := bump.TestRun(nil); err != nil {
			log.Fatal(err)
		}
	}
	n, err := counts.Lookup(7) // typed key and value: no reflection
	if err != nil {
		log.Fatal(err)
	}
	g, err := bssView.Get(0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("counts[7] =", n, "hits =", g.Hits)
	// Output: counts[7] = 3 hits = 3
}

// A typed lookup of a key that is there and of one that is not: the miss
// is an error wrapping ebpf.ErrKeyNotExist, and allocates nothing.
func ExampleMap_Lookup_missing() {
	coll, err := open().Load(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer coll.Close()
	b := bpfskel.NewBinder(coll)
	counts := bpfskel.BindMap[uint32, uint64](b, "counts")
	if err := b.Done(); err != nil {
		log.Fatal(err)
	}

	if err := counts.Update(1, 100, bpfskel.UpdateAny); err != nil {
		log.Fatal(err)
	}
	v, err := counts.Lookup(1)
	fmt.Println(v, err)
	_, err = counts.Lookup(2)
	fmt.Println(err != nil)
	// Output:
	// 100 <nil>
	// true
}

// A typed live view of a BPF_F_MMAPABLE array: reads and writes go to
// the memory the BPF program sees, with no syscall.
func ExampleMmapArray_Mmap() {
	coll, err := open().Load(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer coll.Close()
	b := bpfskel.NewBinder(coll)
	buf := bpfskel.BindMmapArray[uint32, elem](b, "buf_map")
	bump := bpfskel.BindProgram(b, "bump")
	if err := b.Done(); err != nil {
		log.Fatal(err)
	}

	view, err := buf.Mmap()
	if err != nil {
		log.Fatal(err)
	}
	if err := view.Set(1, elem{A: 10}); err != nil {
		log.Fatal(err)
	}
	if _, err := bump.TestRun(nil); err != nil { // a += factor (3), c = magic
		log.Fatal(err)
	}
	e, err := view.Get(1)
	fmt.Printf("%d elements; a=%d c=%#x\n", view.Len(), e.A, e.C)
	// Output: 4 elements; a=13 c=0x1234
}

// Configuring before load: set a const volatile global (.rodata) and a
// map's size between Open and Load, through the cilium/ebpf spec.
func ExampleSpec_CollectionSpec() {
	spec := open()
	cs := spec.CollectionSpec()
	if err := cs.Variables["factor"].Set(uint32(5)); err != nil {
		log.Fatal(err)
	}
	cs.Maps["counts"].MaxEntries = 1024

	coll, err := spec.Load(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer coll.Close()
	b := bpfskel.NewBinder(coll)
	buf := bpfskel.BindMmapArray[uint32, elem](b, "buf_map")
	bump := bpfskel.BindProgram(b, "bump")
	if err := b.Done(); err != nil {
		log.Fatal(err)
	}
	if _, err := bump.TestRun(nil); err != nil {
		log.Fatal(err)
	}
	e, err := buf.Lookup(1)
	fmt.Println(e.A, err, coll.Collection().Maps["counts"].MaxEntries())
	// Output: 5 <nil> 1024
}
