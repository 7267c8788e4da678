package elfweak

import (
	"bytes"
	"debug/elf"
	"os"
	"testing"
)

func bindings(t *testing.T, obj []byte) map[string]elf.SymBind {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(obj))
	if err != nil {
		t.Fatal(err)
	}
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	b := map[string]elf.SymBind{}
	for _, s := range syms {
		b[s.Name] = elf.ST_BIND(s.Info)
	}
	return b
}

// TestGlobal: the defined weak maps and helpers of usdt.bpf.h become
// global in a copy; the input is not changed; an undefined weak symbol
// stays weak unless it is a listed extern; an object without weak symbols
// comes back as it is.
func TestGlobal(t *testing.T) {
	obj, err := os.ReadFile("../../testdata/realworld/usdt/usdt.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	orig := bytes.Clone(obj)
	out, changed, err := Global(obj, nil)
	if err != nil || !changed {
		t.Fatalf("Global = %v, %v; want a changed copy", changed, err)
	}
	if !bytes.Equal(obj, orig) {
		t.Error("Global changed its input")
	}
	before, after := bindings(t, obj), bindings(t, out)
	for _, name := range []string{"__bpf_usdt_specs", "__bpf_usdt_ip_to_spec_id", "bpf_usdt_arg", "bpf_usdt_cookie"} {
		if before[name] != elf.STB_WEAK || after[name] != elf.STB_GLOBAL {
			t.Errorf("%s: %v -> %v, want STB_WEAK -> STB_GLOBAL", name, before[name], after[name])
		}
	}
	for name, b := range before {
		if b != elf.STB_WEAK && after[name] != b {
			t.Errorf("%s: %v -> %v: a symbol that was not weak changed", name, b, after[name])
		}
	}

	// An undefined weak symbol: made global only when listed.
	weakExtern, err := os.ReadFile("../../testdata/realworld/kconfig/kconfig.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	var undef []string
	f, _ := elf.NewFile(bytes.NewReader(weakExtern))
	syms, _ := f.Symbols()
	for _, s := range syms {
		if s.Section == elf.SHN_UNDEF && elf.ST_BIND(s.Info) == elf.STB_WEAK {
			undef = append(undef, s.Name)
		}
	}
	if len(undef) == 0 {
		t.Fatal("kconfig.bpf.o has no undefined weak symbol to test with")
	}
	out, _, err = Global(weakExtern, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b := bindings(t, out)[undef[0]]; b != elf.STB_WEAK {
		t.Errorf("unlisted undefined %s: %v, want it left weak", undef[0], b)
	}
	out, _, err = Global(weakExtern, map[string]bool{undef[0]: true})
	if err != nil {
		t.Fatal(err)
	}
	if b := bindings(t, out)[undef[0]]; b != elf.STB_GLOBAL {
		t.Errorf("listed undefined %s: %v, want global", undef[0], b)
	}

	plain, err := os.ReadFile("../../testdata/golden/kconfig/kconfig.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	if out, changed, err := Global(plain, nil); err != nil || changed || &out[0] != &plain[0] {
		t.Errorf("an object without weak symbols: changed %v, err %v, want the input itself", changed, err)
	}
	if _, _, err := Global([]byte("not elf"), nil); err == nil {
		t.Error("bytes that are not ELF gave no error")
	}
}
