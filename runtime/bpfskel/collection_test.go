//go:build linux

package bpfskel

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
)

// Go mirrors of the types in testdata/sections.bpf.c.
type (
	elem       struct{ A, B, C uint32 }
	bssSection struct{ Hits uint64 }
	dataSect   struct{ Magic uint32 }
	rodataSect struct{ Factor uint32 }
)

const testObject = "testdata/sections.bpf.o"

func readObject(tb testing.TB) []byte {
	tb.Helper()
	elf, err := os.ReadFile(testObject)
	if err != nil {
		tb.Fatal(err)
	}
	return elf
}

func TestOpenGarbage(t *testing.T) {
	for _, elf := range [][]byte{nil, []byte("not an ELF object"), readObject(t)[:100]} {
		_, err := Open("broken.bpf.o", elf)
		if err == nil || !strings.HasPrefix(err.Error(), "broken.bpf.o: ") {
			t.Errorf("Open(%q...): %v, want an error naming the object", elf[:min(len(elf), 8)], err)
		}
	}
}

func FuzzOpen(f *testing.F) {
	elf, err := os.ReadFile(testObject)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(elf)
	f.Add(elf[:len(elf)/2])
	f.Add([]byte("\x7fELF"))
	// usdt.bpf.h's weak symbols, hidden functions and LINUX_HAS_BPF_COOKIE
	// take Open through libbpfcompat.go.
	usdt, err := os.ReadFile("testdata/usdt.bpf.o")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(usdt)
	f.Fuzz(func(t *testing.T, elf []byte) {
		spec, err := Open("fuzz.bpf.o", elf)
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz.bpf.o: ") {
			t.Errorf("error does not name the object: %v", err)
		}
		if err == nil && spec.CollectionSpec() == nil {
			t.Error("nil CollectionSpec")
		}
	})
}

// skeleton is what a generated package would build for sections.bpf.o.
type skeleton struct {
	coll   *Collection
	buf    *MmapArray[uint32, elem]
	counts *Map[uint32, uint64]
	bss    *View[bssSection]
	data   *View[dataSect]
	rodata *View[rodataSect]
	bump   *Program
}

func loadSkeleton(t *testing.T, spec *Spec) *skeleton {
	t.Helper()
	requireKernel(t)
	c, err := spec.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	b := NewBinder(c)
	s := &skeleton{
		coll:   c,
		buf:    BindMmapArray[uint32, elem](b, "buf_map"),
		counts: BindMap[uint32, uint64](b, "counts"),
		bss:    BindSection[bssSection](b, ".bss"),
		data:   BindSection[dataSect](b, ".data"),
		rodata: BindSection[rodataSect](b, ".rodata"),
		bump:   BindProgram(b, "bump"),
	}
	mustBind(t, b)
	return s
}

// TestObjectRoundTrip loads a real object, changes .rodata before loading
// and .data through a view, runs the program and reads its effects through
// views and typed maps.
func TestObjectRoundTrip(t *testing.T) {
	spec, err := Open("sections.bpf.o", readObject(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.CollectionSpec().Variables["factor"].Set(uint32(5)); err != nil {
		t.Fatal(err)
	}
	s := loadSkeleton(t, spec)

	if !s.rodata.ReadOnly() {
		t.Error(".rodata is mapped writable")
	}
	if s.bss.ReadOnly() || s.data.ReadOnly() {
		t.Error(".bss or .data is mapped read-only")
	}
	if ro, err := s.rodata.Get(0); err != nil || ro.Factor != 5 {
		t.Errorf(".rodata = %+v, %v; want Factor 5", ro, err)
	}
	if d, err := s.data.Get(0); err != nil || d.Magic != 0x1234 {
		t.Errorf(".data = %+v, %v; want Magic 0x1234", d, err)
	}
	if err := s.rodata.Set(0, rodataSect{Factor: 1}); !errors.Is(err, ebpf.ErrReadOnly) {
		t.Errorf("Set on .rodata: %v, want ErrReadOnly", err)
	}
	if err := s.data.Set(0, dataSect{Magic: 0x55}); err != nil {
		t.Fatal(err)
	}
	buf, err := s.buf.Mmap()
	if err != nil {
		t.Fatal(err)
	}

	for run := uint32(1); run <= 3; run++ {
		ret, err := s.bump.TestRun(nil)
		if err != nil {
			t.Fatal(err)
		}
		if ret != 0x56 {
			t.Errorf("run %d returned %#x, want 0x56", run, ret)
		}
		if bss, err := s.bss.Get(0); err != nil || bss.Hits != uint64(run) {
			t.Errorf("run %d: .bss = %+v, %v; want Hits %d", run, bss, err, run)
		}
		if e, err := buf.Get(1); err != nil || e != (elem{A: 5 * run, C: 0x55}) {
			t.Errorf("run %d: buf_map[1] = %+v, %v; want A=%d C=0x55", run, e, err, 5*run)
		}
		if n, err := s.counts.Lookup(7); err != nil || n != uint64(run) {
			t.Errorf("run %d: counts[7] = %d, %v; want %d", run, n, err, run)
		}
	}

	// The same Spec loads again into an independent collection.
	s2 := loadSkeleton(t, spec)
	if bss, _ := s2.bss.Get(0); bss.Hits != 0 {
		t.Errorf("second load shares .bss: %+v", bss)
	}

	// Collection.Close closes the section views and the array views.
	if err := s.coll.Close(); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		func() error { _, err := s.bss.Get(0); return err }(),
		func() error { _, err := s.rodata.Get(0); return err }(),
		func() error { _, err := buf.Get(0); return err }(),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Get after Collection.Close: %v, want ErrClosed", err)
		}
	}
}

func TestBindErrors(t *testing.T) {
	c := loadSections(t)

	b := NewBinder(c)
	checks := []struct {
		bound bool
		want  string
	}{
		{BindMap[uint64, elem](b, "buf_map") != nil, `sections.bpf.o: map "buf_map": key is 8 bytes in Go, 4 in the object`},
		{BindMap[uint32, uint32](b, "counts") != nil, `sections.bpf.o: map "counts": value is 4 bytes in Go, 8 in the object`},
		{BindMmapArray[uint32, uint64](b, "counts") != nil, `map "counts": is a Hash map; only an Array can be mmapped`},
		{BindMap[uint32, *uint64](b, "counts") != nil, `map "counts": value type *uint64 cannot mirror BPF memory: ptr holds Go pointers`},
		{BindMap[uint32, struct{ S string }](b, "counts") != nil, `field S: string holds Go pointers`},
		{BindSection[[16]byte](b, ".data") != nil, `map ".data": section is 16 bytes in Go, 4 in the object (Go may add at most the padding up to 8)`},
		{BindSection[[3]byte](b, ".data") != nil, `map ".data": section is 3 bytes in Go, 4 in the object`},
		{BindSection[uint64](b, "counts") != nil, `map "counts": is a Hash map; only an Array can be mmapped`},
		{BindSection[elem](b, "buf_map") != nil, `map "buf_map": has 4 entries, a data section has 1`},
		{BindMap[uint32, uint64](b, "nope") != nil, `map "nope": not found`},
		{BindSection[bssSection](b, ".kconfig") != nil, `map ".kconfig": not found`},
		{BindProgram(b, "nope") != nil, `program "nope": not found`},
	}
	err := b.Err()
	if err == nil {
		t.Fatal("Err() = nil after failed binds")
	}
	for _, c := range checks {
		if c.bound {
			t.Errorf("a failing bind returned a handle (%s)", c.want)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Err() lacks %q", c.want)
		}
	}
	// One line per failure; the string-valued struct fails twice (pointers
	// and size).
	if n := len(strings.Split(err.Error(), "\n")); n != len(checks)+1 {
		t.Errorf("Err() has %d lines, want %d:\n%v", n, len(checks)+1, err)
	}

	// A non-mmapable array is refused by BindMmapArray.
	c2 := loadMaps(t, map[string]*ebpf.MapSpec{
		"plain": {Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 2},
	})
	b2 := NewBinder(c2)
	if BindMmapArray[uint32, uint64](b2, "plain") != nil {
		t.Error("BindMmapArray bound a non-mmapable array")
	}
	if BindSection[uint64](b2, "plain") != nil {
		t.Error("BindSection bound a non-mmapable array")
	}
	if err := b2.Err(); err == nil || !strings.Contains(err.Error(), `map "plain": was created without BPF_F_MMAPABLE`) {
		t.Errorf("Err() = %v", err)
	}
	if BindMap[uint32, uint64](b2, "plain") == nil {
		t.Error("BindMap refused a plain array")
	}
}

// TestBinderDoneClosesOnFailure: a skeleton whose binds failed must not
// leave the loaded object open; Done closes it, and only then.
func TestBinderDoneClosesOnFailure(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"plain": {Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 2},
	})
	m := c.Collection().Maps["plain"]

	ok := NewBinder(c)
	BindMap[uint32, uint64](ok, "plain")
	if err := ok.Done(); err != nil || m.FD() < 0 {
		t.Fatalf("Done after good binds = %v, map FD %d; want nil and the map open", err, m.FD())
	}

	bad := NewBinder(c)
	BindMap[uint32, uint32](bad, "plain")
	err := bad.Done()
	if err == nil || !strings.Contains(err.Error(), `value is 4 bytes in Go, 8 in the object`) {
		t.Fatalf("Done after a bad bind = %v", err)
	}
	if m.FD() >= 0 {
		t.Errorf("map still open (FD %d) after Done reported a failed bind", m.FD())
	}
}

func TestVersionGuard(t *testing.T) {
	// What generated code writes; it must compile.
	const _ = EnforceVersion(1 - MinVersion)
	const _ = EnforceVersion(GenVersion - 1)
	if MinVersion > GenVersion {
		t.Fatalf("MinVersion %d > GenVersion %d", MinVersion, GenVersion)
	}
}

// TestBindSectionTailPadding: a Go section struct may be longer than the
// section by the padding up to the next multiple of 8, memory the kernel
// allocates for the value anyway; reads and writes through it work.
func TestBindSectionTailPadding(t *testing.T) {
	c := loadSections(t)
	type padded struct {
		Magic uint32
		_     [4]byte // past the 4-byte .data, inside its 8-byte slot
	}
	b := NewBinder(c)
	v := BindSection[padded](b, ".data")
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	got, err := v.Get(0)
	if err != nil || got.Magic != 0x1234 {
		t.Fatalf("Get = %+v, %v; want magic 0x1234", got, err)
	}
	if err := v.Set(0, padded{Magic: 99}); err != nil {
		t.Fatal(err)
	}
	ret, err := c.Collection().Programs["bump"].Run(&ebpf.RunOptions{})
	if err != nil || ret != 100 {
		t.Errorf("bump after setting magic to 99 = %d, %v; want 100", ret, err)
	}
}

// loadSections loads the test object (or skips without a kernel) and
// closes it when t ends.
func loadSections(t *testing.T) *Collection {
	t.Helper()
	spec, err := Open("sections.bpf.o", readObject(t))
	if err != nil {
		t.Fatal(err)
	}
	requireKernel(t)
	c, err := spec.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
