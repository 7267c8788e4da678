package bpfskel

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const usdtTarget = "testdata/usdt_target"

// twos is v as the u64 val_off of struct __bpf_usdt_arg_spec holds it.
func twos(v int64) uint64 { return uint64(v) }

func TestParseUSDTArgs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []usdtArg
		err  string
	}{
		// The notes of testdata/usdt_target (gcc -O2).
		{in: "-4@%edi -8@%rax 1@%dl", want: []usdtArg{
			{Type: usdtArgReg, RegOff: 112, Signed: true, BitShift: 32},
			{Type: usdtArgReg, RegOff: 80, Signed: true, BitShift: 0},
			{Type: usdtArgReg, RegOff: 96, BitShift: 56},
		}},
		{in: "-8@8(%rsp)", want: []usdtArg{{Type: usdtArgRegDeref, RegOff: 152, ValOff: 8, Signed: true}}},
		{in: "-4@$42 -4@$-7", want: []usdtArg{
			{Type: usdtArgConst, ValOff: 42, Signed: true, BitShift: 32},
			{Type: usdtArgConst, ValOff: twos(-7), Signed: true, BitShift: 32},
		}},
		// Forms from other binaries (libc, python, clang output).
		{in: "8@-8(%rbp)", want: []usdtArg{{Type: usdtArgRegDeref, RegOff: 32, ValOff: twos(-8)}}},
		{in: "-4@-1204(%rbp)", want: []usdtArg{{Type: usdtArgRegDeref, RegOff: 32, ValOff: twos(-1204), Signed: true, BitShift: 32}}},
		{in: "2@(%r12)", want: []usdtArg{{Type: usdtArgRegDeref, RegOff: 24, BitShift: 48}}},
		{in: "8@%rip 4@%r8d -2@%r15w 1@%sil 8@%r11", want: []usdtArg{
			{Type: usdtArgReg, RegOff: 128},
			{Type: usdtArgReg, RegOff: 72, BitShift: 32},
			{Type: usdtArgReg, RegOff: 0, Signed: true, BitShift: 48},
			{Type: usdtArgReg, RegOff: 104, BitShift: 56},
			{Type: usdtArgReg, RegOff: 48},
		}},
		{in: "8@$0x10", want: []usdtArg{{Type: usdtArgConst, ValOff: 16}}},
		{in: "", want: []usdtArg{}},
		{in: "4%eax", err: `argument 0 "4%eax": no SIZE@ prefix`},
		{in: "3@%eax", err: "size 3 is not 1, 2, 4 or 8"},
		{in: "x@%eax", err: `size "x" is not a number`},
		{in: "8@%xmm0", err: "unknown x86-64 register %xmm0"},
		{in: "8@-8(%rbp,%rax,8)", err: "index register (SIB addressing) is not supported"},
		{in: "8@counter(%rip)", err: `offset "counter" is not a number (a symbolic address is not supported)`},
		{in: "8@$abc", err: `constant "abc" is not a number`},
		{in: "8@eax", err: `location "eax" is not %REG, $CONSTANT or OFFSET(%REG)`},
		{in: "4@8(rax)", err: `"rax" is not a register`},
		{in: strings.Repeat("8@%rax ", 13), err: "13 arguments; usdt.bpf.h reads at most 12"},
	} {
		got, err := parseUSDTArgs(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseUSDTArgs(%q) = %v, want an error containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseUSDTArgs(%q): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("parseUSDTArgs(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

// note builds one .note.stapsdt note.
func note(bo binary.AppendByteOrder, owner string, typ uint32, pc, base, sema uint64, strs ...string) []byte {
	var desc []byte
	for _, a := range []uint64{pc, base, sema} {
		desc = bo.AppendUint64(desc, a)
	}
	for _, s := range strs {
		desc = append(append(desc, s...), 0)
	}
	name := append([]byte(owner), 0)
	var b []byte
	b = bo.AppendUint32(b, uint32(len(name)))
	b = bo.AppendUint32(b, uint32(len(desc)))
	b = bo.AppendUint32(b, typ)
	pad := func(x []byte) []byte {
		for len(x)%4 != 0 {
			x = append(x, 0)
		}
		return x
	}
	return append(b, append(pad(name), pad(desc)...)...)
}

func TestParseUSDTNotes(t *testing.T) {
	bo := binary.LittleEndian
	data := bytes.Join([][]byte{
		note(bo, "stapsdt", 3, 0x1238, 0x200d, 0, "prov", "a", "-4@%edi"),
		note(bo, "GNU", 3, 1, 2, 3, "x", "y", "z"), // another owner: skipped
		note(bo, "stapsdt", 3, 0x1270, 0x200d, 0x402c, "prov", "sema", ""),
	}, nil)
	got, err := parseUSDTNotes(data, bo, 8)
	if err != nil {
		t.Fatal(err)
	}
	want := []usdtNote{
		{Provider: "prov", Name: "a", PC: 0x1238, Base: 0x200d, Args: "-4@%edi"},
		{Provider: "prov", Name: "sema", PC: 0x1270, Base: 0x200d, Semaphore: 0x402c},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		data []byte
		err  string
	}{
		{data[:8], "truncated note header"},
		{data[:30], "runs past the section"},
		{note(bo, "stapsdt", 3, 1, 2, 3, "prov"), "descriptor ends inside its name string"},
		{note(bo, "stapsdt", 3, 1, 2, 3, "", "n", ""), "probe without a provider or a name"},
		{note(bo, "stapsdt", 3, 1, 2, 3)[:12+8+8], "runs past the section"},
	} {
		if _, err := parseUSDTNotes(tc.data, bo, 8); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("parseUSDTNotes(% x) = %v, want an error containing %q", tc.data, err, tc.err)
		}
	}
}

// TestUSDTSites reads the committed target: every probe's offset is the
// nop sys/sdt.h places at the probe, and the semaphore's is inside
// .probes, where the variable is.
func TestUSDTSites(t *testing.T) {
	raw, err := os.ReadFile(usdtTarget)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(usdtTarget)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	probes := f.Section(".probes")
	wantArgs := map[string]string{"reg": "-4@%edi -8@%rax 1@%dl", "mem": "-8@8(%rsp)", "konst": "-4@$42 -4@$-7", "sema": "-4@%edi"}
	for name, args := range wantArgs {
		sites, err := usdtSites(usdtTarget, "bpfskel", name)
		if err != nil {
			t.Fatal(err)
		}
		if len(sites) != 1 {
			t.Fatalf("%s: %d sites, want 1", name, len(sites))
		}
		s := sites[0]
		if s.note.Args != args {
			t.Errorf("%s: arguments %q, want %q", name, s.note.Args, args)
		}
		if raw[s.offset] != 0x90 {
			t.Errorf("%s: byte at file offset %#x is %#x, not the probe's nop", name, s.offset, raw[s.offset])
		}
		if name == "sema" {
			if want := probes.Offset + (s.note.Semaphore - probes.Addr); s.refCtr != want {
				t.Errorf("sema: semaphore at file offset %#x, want %#x (in .probes)", s.refCtr, want)
			}
		} else if s.refCtr != 0 {
			t.Errorf("%s: semaphore offset %#x, want none", name, s.refCtr)
		}
	}

	// Errors name the binary and what is there.
	_, err = usdtSites(usdtTarget, "bpfskel", "nosuch")
	if err == nil || err.Error() != usdtTarget+" has no USDT probe bpfskel:nosuch; it has bpfskel:konst, bpfskel:mem, bpfskel:reg, bpfskel:sema" {
		t.Errorf("missing probe: %v", err)
	}
	_, err = usdtSites("testdata/usdt.bpf.o", "bpfskel", "reg")
	if err == nil || !strings.Contains(err.Error(), "has no USDT probes (no .note.stapsdt section)") {
		t.Errorf("no notes: %v", err)
	}
	// The same binary claiming another machine: its argument specs are
	// not x86-64's.
	arm := bytes.Clone(raw)
	binary.LittleEndian.PutUint16(arm[18:], uint16(elf.EM_AARCH64))
	p := filepath.Join(t.TempDir(), "arm_target")
	if err := os.WriteFile(p, arm, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = usdtSites(p, "bpfskel", "reg")
	if err == nil || !strings.Contains(err.Error(), "the arguments of EM_AARCH64 binaries cannot be read: bpfskel parses x86-64 argument specs only") {
		t.Errorf("arm64 binary: %v", err)
	}
}

// TestUSDTPrelinkBase: a note written before the binary was prelinked
// (its base differs from where .stapsdt.base is now) moves by the
// difference, as libbpf moves it.
func TestUSDTPrelinkBase(t *testing.T) {
	for _, tc := range []struct{ pc, noteBase, base, want uint64 }{
		{0x1238, 0x200d, 0x200d, 0x1238},
		{0x1238, 0x200d, 0x300d, 0x2238},
		{0x1238, 0, 0x300d, 0x1238}, // no base recorded
		{0x1238, 0x200d, 0, 0x1238}, // no .stapsdt.base section
	} {
		if got := usdtPC(usdtNote{PC: tc.pc, Base: tc.noteBase}, tc.base); got != tc.want {
			t.Errorf("usdtPC(pc %#x, note base %#x, base %#x) = %#x, want %#x", tc.pc, tc.noteBase, tc.base, got, tc.want)
		}
	}
}

// TestUSDTSpecEncoding: the spec bytes follow struct __bpf_usdt_spec as
// the test object's BTF lays it out (args[12] of 16 bytes, the cookie at
// 192, the count at 200).
func TestUSDTSpecEncoding(t *testing.T) {
	obj, err := os.ReadFile("testdata/usdt.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open("usdt.bpf.o", obj)
	if err != nil {
		t.Fatal(err)
	}
	l, err := usdtLayout(s.CollectionSpec().Maps[usdtSpecsMap])
	if err != nil {
		t.Fatal(err)
	}
	args, err := parseUSDTArgs("-4@%edi 8@-8(%rbp)")
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.encode(args, 0xc0ffee)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 208)
	ne := binary.NativeEndian
	ne.PutUint32(want[8:], usdtArgReg)
	ne.PutUint16(want[12:], 112)
	want[14], want[15] = 1, 32
	ne.PutUint64(want[16:], twos(-8))
	ne.PutUint32(want[24:], usdtArgRegDeref)
	ne.PutUint16(want[28:], 32)
	ne.PutUint64(want[192:], 0xc0ffee)
	ne.PutUint16(want[200:], 2)
	if !bytes.Equal(b, want) {
		t.Errorf("spec bytes\n% x\nwant\n% x", b, want)
	}
	if _, err := l.encode(make([]usdtArg, 13), 0); err == nil || !strings.Contains(err.Error(), "at most 12") {
		t.Errorf("13 arguments: %v", err)
	}
}

func TestResolveBinary(t *testing.T) {
	bin := t.TempDir()
	exe := filepath.Join(bin, "tool")
	if err := os.WriteFile(exe, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "data"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	lib := t.TempDir()
	if err := os.WriteFile(filepath.Join(lib, "libfoo.so.1"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	t.Setenv("LD_LIBRARY_PATH", lib)
	for _, tc := range []struct{ in, want, err string }{
		{in: "tool", want: exe},
		{in: "libfoo.so.1", want: filepath.Join(lib, "libfoo.so.1")},
		{in: usdtTarget, want: usdtTarget}, // relative, with '/': as given
		{in: exe, want: exe},
		{in: "data", err: `executable "data" not found in PATH and /usr/bin, /usr/sbin (searched ` + bin + `, /usr/bin, /usr/sbin); give an absolute path`},
		{in: "libnosuch.so", err: `library "libnosuch.so" not found in LD_LIBRARY_PATH and the library directories (searched ` + lib + `, /lib64, /usr/lib64, /lib, /usr/lib`},
		{in: "testdata/nosuch", err: "binary testdata/nosuch: stat testdata/nosuch: no such file or directory"},
		{in: "", err: "no binary named"},
	} {
		got, err := resolveBinary(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("resolveBinary(%q) = %q, %v, want an error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("resolveBinary(%q) = %q, %v, want %q", tc.in, got, err, tc.want)
		}
	}
	// libc of this machine, as a bare name, the way usdt/libc.so.6:... and
	// uprobe/libc.so.6:... sections name it.
	t.Setenv("LD_LIBRARY_PATH", "")
	if p, err := resolveBinary("libc.so.6"); err != nil {
		t.Errorf("libc.so.6: %v", err)
	} else if _, err := elf.Open(p); err != nil {
		t.Errorf("libc.so.6 resolved to %s: %v", p, err)
	}
}

// FuzzUSDTNotes: the note and argument parsers take any bytes from a
// binary without panicking.
func FuzzUSDTNotes(f *testing.F) {
	ef, err := elf.Open(usdtTarget)
	if err != nil {
		f.Fatal(err)
	}
	data, err := ef.Section(".note.stapsdt").Data()
	ef.Close()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		notes, err := parseUSDTNotes(data, binary.LittleEndian, 8)
		if err != nil {
			return
		}
		for _, n := range notes {
			parseUSDTArgs(n.Args)
		}
	})
}
