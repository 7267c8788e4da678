//go:build linux

package bpfskel_test

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/bpfskel/bpfskel/runtime/bpfskel"
	"github.com/bpfskel/bpfskel/testdata/golden/hello"
)

// Open, typed, a map that another process loaded and pinned. The loader
// half runs in this process only to keep the example self-contained; it
// needs the privileges of any BPF loader (root, or CAP_BPF).
func ExampleOpenMaps() {
	dir, err := os.MkdirTemp(bpfskel.DefaultPinPath, "example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// The loader: load hello.bpf.o, write, pin.
	skel, err := hello.Load(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer skel.Close()
	if err := skel.Maps.BufMap.Update(0, [16]byte{'h', 'i'}, bpfskel.UpdateAny); err != nil {
		log.Fatal(err)
	}
	if err := skel.Maps.BufMap.Pin(filepath.Join(dir, "buf_map")); err != nil {
		log.Fatal(err)
	}

	// The reader, usually another process: the same generated package
	// opens the pinned map with its Go types, checked against the object.
	pinned, err := hello.OpenMaps(bpfskel.PinnedIn(dir))
	if err != nil {
		log.Fatal(err)
	}
	defer pinned.Close()
	v, err := pinned.Maps.BufMap.Lookup(0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", bytes.TrimRight(v[:], "\x00"))
	// Output: hi
}
