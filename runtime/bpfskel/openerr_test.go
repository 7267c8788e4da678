package bpfskel

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// TestOpenLoaderRefused: an object cilium/ebpf refuses (typed __ksym
// variables, which its .ksyms reader takes for functions) fails Open with
// an error that names the object, carries the loader's reason and says the
// skeleton's types are valid; bytes that are no BPF object get the plain
// error. (The object of libbpf's usdt.bpf.h, refused for its __weak maps
// until Open bound them global, opens: TestOpenWeakUSDT.)
func TestOpenLoaderRefused(t *testing.T) {
	obj, err := os.ReadFile("../../testdata/realworld/kconfig/kconfig.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open("kconfig.bpf.o", obj)
	if !errors.Is(err, ErrLoaderRefused) {
		t.Fatalf("Open = %v, want an error wrapping ErrLoaderRefused", err)
	}
	for _, want := range []string{"kconfig.bpf.o: ", ".ksyms", "types still mirror the object"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open error %q does not say %q", err, want)
		}
	}
	_, err = Open("junk.o", []byte("not an object"))
	if err == nil || errors.Is(err, ErrLoaderRefused) || !strings.HasPrefix(err.Error(), "junk.o: ") {
		t.Errorf("Open(junk) = %v, want a plain error naming junk.o", err)
	}
}

// TestOpenWeakUSDT: an object built on libbpf's usdt.bpf.h (__weak maps
// and helpers, __hidden functions, the LINUX_HAS_BPF_COOKIE extern) opens,
// and Open leaves the caller's bytes alone: it binds the weak symbols
// global in a copy.
func TestOpenWeakUSDT(t *testing.T) {
	obj, err := os.ReadFile("../../testdata/realworld/usdt/usdt.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	orig := bytes.Clone(obj)
	s, err := Open("usdt.bpf.o", obj)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(obj, orig) {
		t.Error("Open changed the object's bytes")
	}
	for _, m := range []string{"__bpf_usdt_specs", "__bpf_usdt_ip_to_spec_id"} {
		if s.CollectionSpec().Maps[m] == nil {
			t.Errorf("map %s missing", m)
		}
	}
	// bpf_usdt_arg is __weak __hidden: static linkage, as libbpf gives it,
	// so the verifier checks it in its callers' context.
	linkage := map[btf.FuncLinkage]int{}
	for _, p := range s.CollectionSpec().Programs {
		for i := range p.Instructions {
			if fn := btf.FuncMetadata(&p.Instructions[i]); fn != nil && fn.Name == "bpf_usdt_arg" {
				linkage[fn.Linkage]++
			}
		}
	}
	if linkage[btf.StaticFunc] == 0 || linkage[btf.GlobalFunc] != 0 {
		t.Errorf("bpf_usdt_arg linkages %v, want static only", linkage)
	}
	if s.kconfigExtra == nil || len(s.kconfigExtra.vars) != 1 || s.kconfigExtra.vars[0].name != "LINUX_HAS_BPF_COOKIE" {
		t.Errorf("kconfigExtra = %+v, want LINUX_HAS_BPF_COOKIE taken over", s.kconfigExtra)
	}
}
