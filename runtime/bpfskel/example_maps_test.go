//go:build linux

package bpfskel_test

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/bpfskel/bpfskel/runtime/bpfskel"
	"github.com/bpfskel/bpfskel/runtime/bpfskeltest"
)

// TestMain skips the examples, which load BPF into the kernel, where
// bpfskeltest.RequireKernel would skip a kernel test, and fails where it
// would fail.
func TestMain(m *testing.M) {
	flag.Parse()
	skip, err := bpfskeltest.Decide()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if skip != "" {
		fmt.Fprintln(os.Stderr, "skipping the examples:", skip)
		if err := flag.Set("test.skip", "^Example"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// Conn and Stats mirror struct conn and struct stats of
// testdata/examplemaps.bpf.c, as a generated skeleton would.
type Conn struct {
	Saddr uint32
	Sport uint16
	Dport uint16
}

type Stats struct {
	Packets uint64
	Bytes   uint64
}

// example is what a generated skeleton's Load does for
// testdata/examplemaps.bpf.o: open the embedded object, load it and bind
// each map and program to its typed handle.
type example struct {
	coll     *bpfskel.Collection
	conns    *bpfskel.Map[Conn, Stats]
	hits     *bpfskel.PerCPUMap[uint32, uint64]
	countHit *bpfskel.Program
}

func loadExample() *example {
	obj, err := os.ReadFile("testdata/examplemaps.bpf.o")
	if err != nil {
		panic(err)
	}
	spec, err := bpfskel.Open("examplemaps.bpf.o", obj)
	if err != nil {
		panic(err)
	}
	c, err := spec.Load(nil)
	if err != nil {
		panic(err)
	}
	b := bpfskel.NewBinder(c)
	e := &example{
		coll:     c,
		conns:    bpfskel.BindMap[Conn, Stats](b, "conns"),
		hits:     bpfskel.BindPerCPUMap[uint32, uint64](b, "hits"),
		countHit: bpfskel.BindProgram(b, "count_hit"),
	}
	if err := b.Done(); err != nil {
		panic(err)
	}
	return e
}

// A typed lookup: the key and value are Go structs mirroring the C ones,
// passed to the kernel without reflection or allocation.
func ExampleMap_Lookup() {
	e := loadExample()
	defer e.coll.Close()

	web := Conn{Saddr: 0x0a000001, Sport: 40000, Dport: 443}
	if err := e.conns.Update(web, Stats{Packets: 3, Bytes: 1500}, bpfskel.UpdateNoExist); err != nil {
		panic(err)
	}
	st, err := e.conns.Lookup(web)
	if err != nil {
		panic(err)
	}
	fmt.Println(st.Packets, "packets,", st.Bytes, "bytes")
	// Output: 3 packets, 1500 bytes
}

// A per-CPU counter: the BPF program bumps its CPU's slot, Go reads every
// slot into a reused slice and adds them up.
func ExamplePerCPUMap_LookupInto() {
	e := loadExample()
	defer e.coll.Close()

	for range 3 {
		if _, err := e.countHit.TestRun(&bpfskel.RunOptions{Data: make([]byte, 64)}); err != nil {
			panic(err)
		}
	}
	perCPU := make([]uint64, e.hits.CPUs()) // reuse it for every lookup
	key := uint32(0)
	if err := e.hits.LookupInto(&key, perCPU); err != nil {
		panic(err)
	}
	fmt.Println("hits:", bpfskel.Sum(perCPU))
	// Output: hits: 3
}

// Ranging over a map: the entries come a batch at a time, one system call
// per batch rather than two per entry.
func ExampleMap_All() {
	e := loadExample()
	defer e.coll.Close()

	for port := range uint16(3) {
		c := Conn{Saddr: 0x0a000001, Sport: 40000 + port, Dport: 443}
		if err := e.conns.Update(c, Stats{Packets: uint64(port) + 1}, bpfskel.UpdateAny); err != nil {
			panic(err)
		}
	}
	var lines []string
	for c, st := range e.conns.All() {
		lines = append(lines, fmt.Sprintf("%d -> %d: %d packets", c.Sport, c.Dport, st.Packets))
	}
	slices.Sort(lines) // hash maps have no order
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// 40000 -> 443: 1 packets
	// 40001 -> 443: 2 packets
	// 40002 -> 443: 3 packets
}
