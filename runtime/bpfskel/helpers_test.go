//go:build linux

package bpfskel

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bpfskel/bpfskel/runtime/bpfskeltest"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// requireKernel is bpfskeltest.RequireKernel: the one rule for when a
// kernel test may skip.
func requireKernel(tb testing.TB) {
	tb.Helper()
	bpfskeltest.RequireKernel(tb)
}

// val24 is a 24-byte value, the size the benchmarks use.
type val24 struct {
	A uint64
	B uint32
	C uint32
	D uint64
}

// val12 is a 12-byte value: arrays store it with a stride of 16.
type val12 struct {
	A, B, C uint32
}

// loadMaps loads a collection made of the given maps (keyed by name) and
// closes it when tb ends.
func loadMaps(tb testing.TB, maps map[string]*ebpf.MapSpec) *Collection {
	tb.Helper()
	return loadSpec(tb, &ebpf.CollectionSpec{Maps: maps})
}

// loadSpec loads spec as an object called test.bpf.o and closes it when tb
// ends.
func loadSpec(tb testing.TB, spec *ebpf.CollectionSpec) *Collection {
	tb.Helper()
	requireKernel(tb)
	for name, m := range spec.Maps {
		if m.Name == "" {
			m.Name = name
		}
	}
	c, err := newCollectionFromSpec("test.bpf.o", spec, LoadOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := c.Close(); err != nil {
			tb.Error(err)
		}
	})
	return c
}

// loadObject opens the object file at path, loads it with opts (nil: the
// defaults) and closes it when tb ends.
func loadObject(tb testing.TB, path string, opts *LoadOptions) *Collection {
	tb.Helper()
	requireKernel(tb)
	elf, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	spec, err := Open(filepath.Base(path), elf)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := spec.Load(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := c.Close(); err != nil {
			tb.Error(err)
		}
	})
	return c
}

// mustBind fails tb when b recorded a failure.
func mustBind(tb testing.TB, b *Binder) {
	tb.Helper()
	if err := b.Err(); err != nil {
		tb.Fatal(err)
	}
}

func mmapableArray(valueSize, entries uint32, extraFlags uint32) *ebpf.MapSpec {
	return &ebpf.MapSpec{
		Type:       ebpf.Array,
		KeySize:    4,
		ValueSize:  valueSize,
		MaxEntries: entries,
		Flags:      unix.BPF_F_MMAPABLE | extraFlags,
	}
}
