package gen_test

import (
	"bytes"
	"errors"
	"testing"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/google/go-cmp/cmp"

	"github.com/bpfskel/bpfskel/runtime/bpfskel"
	"github.com/bpfskel/bpfskel/runtime/bpfskeltest"
	"github.com/bpfskel/bpfskel/testdata/golden/fallbacks"
	"github.com/bpfskel/bpfskel/testdata/golden/names"
	"github.com/bpfskel/bpfskel/testdata/golden/shapes"
)

// knownShape is shapes.bpf.c's SHAPE_KNOWN_VALUES, transcribed from the
// table at the top of that file: the values fill writes and check expects.
func knownShape() shapes.Shape {
	var s shapes.Shape
	s.S8, s.S16, s.S32, s.S64 = -100, -30000, -2000000000, -9000000000000000000
	s.U8 = 200
	s.Packed.P_a = 0x7f
	s.Packed.SetP_b(0x89abcdef)
	s.Packed.SetP_c(0x4321)
	s.Packed.SetP_d(0xfedcba9876543210)
	s.U16, s.U32, s.U64 = 60000, 4000000000, 18000000000000000000
	s.Slong, s.Ulong, s.TypedefU64 = -1234567890123, 0xdeadbeefcafef00d, 0x0123456789abcdef
	s.Flag = true
	s.F32, s.F64 = 1.5, -2.25
	s.Color, s.Sign, s.Tiny, s.Big = shapes.ColorBLUE, shapes.SignMIN, shapes.TinyMAX, shapes.Big64BIG_MAX
	s.Holes = shapes.Holes{A: 0x11, B: 0x2233445566778899, C: 0xaabb, D: 0xccddeeff, E: 0x5a}
	s.Nested.Origin = shapes.Point{X: -11, Y: 12}
	s.Nested.Corner = shapes.Point{X: -13, Y: 14}
	s.Nested.Size = shapes.NestedSize{W: 1500, H: 1600}
	s.Nested.Range = shapes.RangeT{Lo: 0x0a0b, Hi: 0x0c0d}
	s.Nested.AnonA, s.Nested.AnonB = 0xa0a1a2a3, 0xb0b1b2b3
	s.Nested.SetU_word(0x04030201)
	s.U32s = [4]uint32{0x10000001, 0x20000002, 0x30000003, 0x40000004}
	s.Grid = [2][3]uint16{{0x0101, 0x0102, 0x0103}, {0x0201, 0x0202, 0x0203}}
	s.Pts = [2]shapes.Point{{X: -21, Y: 22}, {X: -23, Y: 24}}
	copy(s.Name[:], "shapes")
	s.Val.SetU64(0x1122334455667788)
	s.Al.A16X, s.Al.A16Y = 0x16161616, 0x61
	return s
}

var shapeCmp = cmp.AllowUnexported(shapes.ValueU{}, shapes.NestedU_wordUnion{}, shapes.PackedS{})

// mustLoad loads a skeleton with load (a package's Load, or a Spec's Load
// method) and closes it when t ends; a second Close by the test is harmless.
func mustLoad[S interface{ Close() error }](t *testing.T, load func(*bpfskel.LoadOptions) (S, error)) S {
	t.Helper()
	bpfskeltest.RequireKernel(t)
	skel, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := skel.Close(); err != nil {
			t.Error(err)
		}
	})
	return skel
}

// TestShapesFromKernel: the BPF program writes every field, Go reads the
// value through the typed map and the global data through typed views.
func TestShapesFromKernel(t *testing.T) {
	skel := mustLoad(t, shapes.Load)
	ret, err := skel.Programs.Fill.TestRun(nil)
	if err != nil {
		t.Fatal(err)
	}
	if ret != 0x1234 {
		t.Errorf("fill returned %#x, want cfg_magic 0x1234", ret)
	}
	got, err := skel.Maps.ShapesOut.Lookup(0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(knownShape(), got, shapeCmp); diff != "" {
		t.Errorf("shapes_out[0] as Go reads it (-want +got):\n%s", diff)
	}
	// The accessors of the anonymous union read the bytes the program wrote.
	if b := got.Nested.U_bytes(); b != [4]uint8{1, 2, 3, 4} {
		t.Errorf("nested.u_bytes = %x, want 01020304", b)
	}

	bss, err := skel.Bss.Get(0)
	if err != nil {
		t.Fatal(err)
	}
	data, err := skel.Data.Get(0)
	if err != nil {
		t.Fatal(err)
	}
	ro, err := skel.Rodata.Get(0)
	if err != nil {
		t.Fatal(err)
	}
	if bss.BssCounter != 1 || data.DataFlag != 8 || ro.CfgMagic != 0x1234 {
		t.Errorf("after one fill: bss_counter %d (want 1), data_flag %d (want 8), cfg_magic %#x (want 0x1234)",
			bss.BssCounter, data.DataFlag, ro.CfgMagic)
	}
	if !skel.Rodata.ReadOnly() {
		t.Error(".rodata view is writable; the kernel froze it")
	}
	if err := skel.Rodata.Set(0, shapes.Rodata{CfgMagic: 1}); err == nil {
		t.Error("writing the frozen .rodata succeeded")
	}
	// Writes through the .data view reach the program: fill adds one.
	if err := skel.Data.Set(0, shapes.Data{DataFlag: 100}); err != nil {
		t.Fatal(err)
	}
	if _, err := skel.Programs.Fill.TestRun(nil); err != nil {
		t.Fatal(err)
	}
	if data, _ := skel.Data.Get(0); data.DataFlag != 101 {
		t.Errorf("data_flag = %d after Set(100) and fill, want 101", data.DataFlag)
	}
}

// TestShapesToKernel: Go writes the value through the typed map, the BPF
// program compares every field; a change to one field is reported as that
// field's number.
func TestShapesToKernel(t *testing.T) {
	skel := mustLoad(t, shapes.Load)
	key := shapes.ShapeKey{Kind: 0x4b, Id: 0xc0ffee}
	check := func(s shapes.Shape) uint32 {
		t.Helper()
		if err := skel.Maps.ShapesIn.Update(key, s, bpfskel.UpdateAny); err != nil {
			t.Fatal(err)
		}
		ret, err := skel.Programs.Check.TestRun(nil)
		if err != nil {
			t.Fatal(err)
		}
		return ret
	}
	if ret := check(knownShape()); ret != 0 {
		t.Fatalf("check found field %d different from what Go wrote", ret)
	}
	for _, tc := range []struct {
		field  uint32
		change func(*shapes.Shape)
	}{
		{1, func(s *shapes.Shape) { s.S8 = 1 }},
		{7, func(s *shapes.Shape) { s.Packed.SetP_b(0x00abcdef) }},
		{16, func(s *shapes.Shape) { s.Flag = false }},
		{18, func(s *shapes.Shape) { s.F64 = 2.25 }},
		{22, func(s *shapes.Shape) { s.Big = shapes.Big64BIG_ONE }},
		{27, func(s *shapes.Shape) { s.Holes.E = 0 }},
		{32, func(s *shapes.Shape) { s.Nested.Size.W = 0 }},
		{36, func(s *shapes.Shape) { s.Nested.AnonA = 0 }},
		{38, func(s *shapes.Shape) { s.Nested.SetU_bytes([4]uint8{1, 2, 3, 5}) }},
		{48, func(s *shapes.Shape) { s.Grid[1][2] = 0 }},
		{52, func(s *shapes.Shape) { s.Pts[1].Y = 0 }},
		{53, func(s *shapes.Shape) { s.Name[15] = 'x' }},
		{54, func(s *shapes.Shape) { s.Val.SetS32(-1) }},
		{56, func(s *shapes.Shape) { s.Al.A16Y = 0 }},
	} {
		s := knownShape()
		tc.change(&s)
		if ret := check(s); ret != tc.field {
			t.Errorf("changed field %d, check reported %d", tc.field, ret)
		}
	}

	if err := skel.Maps.ShapesIn.Delete(key); err != nil {
		t.Fatal(err)
	}
	if ret, _ := skel.Programs.Check.TestRun(nil); ret != 1000 {
		t.Errorf("check after Delete returned %d, want 1000 (absent)", ret)
	}
	if _, err := skel.Maps.ShapesIn.Lookup(key); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("Lookup after Delete: %v, want ErrKeyNotExist", err)
	}
}

// TestShapesRodataBeforeLoad: Open, set a .rodata constant, then Load; the
// program sees the new value.
func TestShapesRodataBeforeLoad(t *testing.T) {
	bpfskeltest.RequireKernel(t)
	spec, err := shapes.Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.CollectionSpec().Variables["cfg_magic"].Set(uint32(0x5678)); err != nil {
		t.Fatal(err)
	}
	skel := mustLoad(t, spec.Load)
	if ret, err := skel.Programs.Fill.TestRun(nil); err != nil || ret != 0x5678 {
		t.Errorf("fill = %#x, %v; want 0x5678", ret, err)
	}
	if ro, err := skel.Rodata.Get(0); err != nil || ro.CfgMagic != 0x5678 {
		t.Errorf(".rodata view = %+v, %v; want cfg_magic 0x5678", ro, err)
	}
}

// TestFallbacksInKernel: maps without a typed handle bind as *ebpf.Map, a
// custom data section gets its own view, and what is kept as padding or
// bytes still holds exactly the kernel's bytes.
func TestFallbacksInKernel(t *testing.T) {
	skel := mustLoad(t, fallbacks.Load)
	if skel.Maps.Events == nil || skel.Maps.Events.Map().Type() != ebpf.RingBuf {
		t.Fatalf("events bound as %v, want the ring buffer", skel.Maps.Events)
	}
	// The ring buffer has no known event type: its records are raw bytes.
	rd, err := skel.Maps.Events.NewReader()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := skel.Programs.Touch.TestRun(nil); err != nil {
		t.Fatal(err)
	}
	rd.SetDeadline(time.Now().Add(5 * time.Second))
	if rec, err := rd.ReadRaw(); err != nil || !bytes.Equal(rec, []byte{0, 0, 0, 0}) {
		t.Errorf("events record = %x, %v; want the 4-byte zero touch writes", rec, err)
	}
	f, err := skel.Maps.Flags.Lookup(0)
	if err != nil {
		t.Fatal(err)
	}
	if f.Kind != 1 || f.Tail != 7 {
		t.Errorf("flags[0] = %+v, want kind 1, tail 7", f)
	}
	// urgent:1 = 1, level:3 = 5, 4 unnamed bits, code:8 = 0x42, little endian.
	raw := (*[unsafe.Sizeof(f)]byte)(unsafe.Pointer(&f))
	if got := raw[4:6]; got[0] != 0x0b || got[1] != 0x42 {
		t.Errorf("bitfield bytes = % x, want 0b 42", got)
	}
	if f.Urgent() != 1 || f.Level() != 5 || f.Code() != 0x42 {
		t.Errorf("bitfields urgent %d level %d code %#x, want 1, 5, 0x42", f.Urgent(), f.Level(), f.Code())
	}
	if want := (bpfskel.Uint128{Lo: 3}); f.Wide != want {
		t.Errorf("wide = %v, want 3", f.Wide)
	}
	custom, err := skel.DataCustom.Get(0)
	if err != nil || custom.CustomVar != 5 {
		t.Errorf(".data.custom = %+v, %v; want custom_var 5", custom, err)
	}
	perCPU, err := skel.Maps.Pcpu.Lookup(0)
	if err != nil {
		t.Fatal(err)
	}
	if sum := bpfskel.Sum(perCPU); sum != 5 {
		t.Errorf("pcpu[0] summed over CPUs = %d, want 5 (one run adding custom_var)", sum)
	}
}

// TestShapesCloseReleasesEverything: one Close releases the views, maps and
// programs of a skeleton; using them afterwards fails with an error, never
// a fault or a panic.
func TestShapesCloseReleasesEverything(t *testing.T) {
	skel := mustLoad(t, shapes.Load)
	maps := []*ebpf.Map{skel.Maps.ShapesIn.Map(), skel.Maps.ShapesOut.Map()}
	if err := skel.Close(); err != nil {
		t.Fatal(err)
	}
	if err := skel.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := skel.Bss.Get(0); !errors.Is(err, bpfskel.ErrClosed) {
		t.Errorf(".bss view after Close: %v, want ErrClosed", err)
	}
	if err := skel.Data.Set(0, shapes.Data{}); !errors.Is(err, bpfskel.ErrClosed) {
		t.Errorf(".data view Set after Close: %v, want ErrClosed", err)
	}
	for _, m := range maps {
		if m.FD() >= 0 {
			t.Errorf("map %s still has FD %d after Close", m, m.FD())
		}
	}
	if _, err := skel.Maps.ShapesOut.Lookup(0); err == nil {
		t.Error("Lookup after Close succeeded")
	}
	if _, err := skel.Programs.Fill.TestRun(nil); err == nil {
		t.Error("TestRun after Close succeeded")
	}
}

// TestNamesInKernel: the skeleton of the naming case, with its renamed
// types and a map called close, loads and carries data both ways.
func TestNamesInKernel(t *testing.T) {
	skel := mustLoad(t, names.Load)
	task := names.TaskStruct{X_y: 1, XY: 2, MyField: 30, MyFieldCamel: 400, State: names.StateOFF}
	if err := skel.Maps.Close.Update(0, task, bpfskel.UpdateAny); err != nil {
		t.Fatal(err)
	}
	if _, err := skel.Programs.CloseProg.TestRun(nil); err != nil {
		t.Fatal(err)
	}
	got, err := skel.Maps.Events.Lookup(0)
	if err != nil {
		t.Fatal(err)
	}
	if want := (names.Bones{Bones: 1 + 2 + 30 + 400 + 1}); got != want {
		t.Errorf("events[0] = %+v, want %+v (the fields plus .data.counters hits = 1)", got, want)
	}
	if s := task.State.String(); s != "STATE_OFF" {
		t.Errorf("State.String() = %q, want the first C name of the value, STATE_OFF", s)
	}
}
