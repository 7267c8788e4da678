package bpfskel

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestOpenLoaderRefused: an object cilium/ebpf refuses (libbpf's usdt.bpf.h
// declares __weak maps) fails Open with an error that names the object,
// carries the loader's reason and says the skeleton's types are valid;
// bytes that are no BPF object get the plain error.
func TestOpenLoaderRefused(t *testing.T) {
	obj, err := os.ReadFile("../../testdata/realworld/usdt/usdt.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open("usdt.bpf.o", obj)
	if !errors.Is(err, ErrLoaderRefused) {
		t.Fatalf("Open = %v, want an error wrapping ErrLoaderRefused", err)
	}
	for _, want := range []string{"usdt.bpf.o: ", "STB_WEAK", "types still mirror the object"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open error %q does not say %q", err, want)
		}
	}
	_, err = Open("junk.o", []byte("not an object"))
	if err == nil || errors.Is(err, ErrLoaderRefused) || !strings.HasPrefix(err.Error(), "junk.o: ") {
		t.Errorf("Open(junk) = %v, want a plain error naming junk.o", err)
	}
}
