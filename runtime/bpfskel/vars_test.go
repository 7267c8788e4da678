//go:build linux

package bpfskel

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// Go mirrors of the sections of testdata/globals.bpf.c.
type globalsBss struct {
	Counter uint64
	Big     [1 << 20]byte
}

type globalsData struct {
	SmallCounter uint64
}

// globals is the loaded globals object with its per-variable handles.
type globals struct {
	c       *Collection
	bss     *View[globalsBss]
	data    *View[globalsData]
	counter AtomicUint64Var
	plain   Var[uint64]
	small   AtomicUint64Var
	touch   *Program
}

func loadGlobals(tb testing.TB) globals {
	tb.Helper()
	requireKernel(tb)
	elf, err := os.ReadFile("testdata/globals.bpf.o")
	if err != nil {
		tb.Fatal(err)
	}
	spec, err := Open("globals.bpf.o", elf)
	if err != nil {
		tb.Fatal(err)
	}
	if off := spec.CollectionSpec().Variables["counter"].Offset; off != 0 {
		tb.Fatalf("counter is at offset %d of .bss, the benchmarks assume 0", off)
	}
	c, err := spec.Load(nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	b := NewBinder(c)
	g := globals{c: c, bss: BindSection[globalsBss](b, ".bss"), data: BindSection[globalsData](b, ".data")}
	g.counter = BindAtomicUint64Var(b, g.bss, "counter", 0)
	g.plain = BindVar[uint64](b, g.bss, "counter", 0)
	g.small = BindAtomicUint64Var(b, g.data, "small_counter", 0)
	g.touch = BindProgram(b, "touch")
	mustBind(tb, b)
	return g
}

// TestVars: per-variable handles read what the program wrote, and the
// program sees what they wrote; after Close they panic with a message.
func TestVars(t *testing.T) {
	g := loadGlobals(t)
	if got := g.small.Load(); got != 1 {
		t.Errorf("small_counter = %d, want its initial 1", got)
	}
	for range 3 {
		if _, err := g.touch.TestRun(nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := g.counter.Load(); got != 3 {
		t.Errorf("counter = %d after 3 runs, want 3", got)
	}
	if got := g.plain.Load(); got != 3 {
		t.Errorf("counter through Var = %d, want 3", got)
	}
	if got := g.counter.Add(10); got != 13 {
		t.Errorf("Add(10) = %d, want 13", got)
	}
	g.plain.Store(100)
	if _, err := g.touch.TestRun(nil); err != nil {
		t.Fatal(err)
	}
	if got := g.counter.Load(); got != 101 {
		t.Errorf("counter = %d after Store(100) and a run, want 101", got)
	}
	if old := g.counter.Swap(5); old != 101 {
		t.Errorf("Swap(5) = %d, want 101", old)
	}
	if !g.counter.CompareAndSwap(5, 6) || g.counter.CompareAndSwap(5, 7) {
		t.Error("CompareAndSwap did not act on the current value only")
	}
	if s, err := g.bss.Get(0); err != nil || s.Counter != 6 || s.Big[0] != 4 {
		t.Errorf("whole .bss: counter %d, big[0] %d, %v; want 6 and 4", s.Counter, s.Big[0], err)
	}

	if err := g.c.Close(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		err, _ := recover().(error)
		if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), `variable "counter" of .bss used after Close`) {
			t.Errorf("Load after Close: panic %v, want ErrClosed naming the variable", err)
		}
	}()
	g.counter.Load()
	t.Error("Load after Close returned")
}

// TestBindVarErrors: a variable outside its section, a misaligned atomic
// and a failed section bind are bind errors, not later faults.
func TestBindVarErrors(t *testing.T) {
	g := loadGlobals(t)
	b := NewBinder(g.c)
	BindVar[[16]byte](b, g.data, "small_counter", 0)
	BindAtomicUint64Var(b, g.bss, "counter", 4)
	err := b.Err()
	if err == nil {
		t.Fatal("no bind error")
	}
	for _, want := range []string{
		`variable "small_counter": 16 bytes at offset 0 do not fit section ".data" (8 bytes)`,
		`variable "counter": offset 4 is not a multiple of its size 8`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\nlacks %q", err, want)
		}
	}
	var unbound Var[uint64]
	defer func() {
		if recover() == nil {
			t.Error("Load of an unbound Var did not panic")
		}
	}()
	unbound.Load()
}
