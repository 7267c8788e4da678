package gen_test

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/bpfskel/bpfskel/runtime/bpfskel"
	"github.com/bpfskel/bpfskel/testdata/golden/layout"
)

// layoutField is one numbered field of layout.bpf.c's LAYOUT_KNOWN_VALUES
// (fields 1..42 live in struct rec): differs reports whether r holds
// something else than the known value, set stores the known value and alt
// stores another one, all through the typed API.
type layoutField struct {
	n       uint32
	differs func(r *layout.Rec) bool
	set     func(r *layout.Rec)
	alt     func(r *layout.Rec)
}

func lf[T comparable](n uint32, get func(*layout.Rec) T, set func(*layout.Rec, T), want, other T) layoutField {
	return layoutField{
		n:       n,
		differs: func(r *layout.Rec) bool { return get(r) != want },
		set:     func(r *layout.Rec) { set(r, want) },
		alt:     func(r *layout.Rec) { set(r, other) },
	}
}

// layoutFields transcribes LAYOUT_KNOWN_VALUES of layout.bpf.c for struct
// rec; extra entries (numbers repeated) change a field through another
// member of the same union, which C compares as that field.
func layoutFields() []layoutField {
	u128 := bpfskel.Uint128{Hi: 0x0123456789abcdef, Lo: 0xfedcba9876543210}
	s128 := bpfskel.Int128{Hi: -2, Lo: 1}
	p128 := bpfskel.Int128{Hi: math.MinInt64, Lo: 0x0102030405060708}
	return []layoutField{
		lf(1, func(r *layout.Rec) uint32 { return r.Bits.B1() }, func(r *layout.Rec, v uint32) { r.Bits.SetB1(v) }, 1, 0),
		lf(2, func(r *layout.Rec) uint32 { return r.Bits.B3() }, func(r *layout.Rec, v uint32) { r.Bits.SetB3(v) }, 5, 4),
		lf(3, func(r *layout.Rec) int32 { return r.Bits.S5() }, func(r *layout.Rec, v int32) { r.Bits.SetS5(v) }, -7, 7),
		lf(4, func(r *layout.Rec) uint8 { return r.Bits.C7() }, func(r *layout.Rec, v uint8) { r.Bits.SetC7(v) }, 0x55, 0x54),
		lf(5, func(r *layout.Rec) uint16 { return r.Bits.W12() }, func(r *layout.Rec, v uint16) { r.Bits.SetW12(v) }, 0xabc, 0xabd),
		lf(6, func(r *layout.Rec) int64 { return r.Bits.S33() }, func(r *layout.Rec, v int64) { r.Bits.SetS33(v) }, -305419896, 305419896),
		lf(7, func(r *layout.Rec) uint64 { return r.Bits.U64full() }, func(r *layout.Rec, v uint64) { r.Bits.SetU64full(v) }, 0xfedcba9876543210, math.MaxUint64),
		lf(8, func(r *layout.Rec) bool { return r.Bits.Flag() }, func(r *layout.Rec, v bool) { r.Bits.SetFlag(v) }, true, false),
		lf(9, func(r *layout.Rec) layout.Level { return r.Bits.Lvl() }, func(r *layout.Rec, v layout.Level) { r.Bits.SetLvl(v) }, layout.LevelHIGH, layout.LevelLOW),
		lf(10, func(r *layout.Rec) layout.Sflag { return r.Bits.Sf() }, func(r *layout.Rec, v layout.Sflag) { r.Bits.SetSf(v) }, layout.SflagNEG, layout.SflagONE),
		lf(11, func(r *layout.Rec) int8 { return r.Bits.Sc() }, func(r *layout.Rec, v int8) { r.Bits.SetSc(v) }, -3, 3),
		lf(12, func(r *layout.Rec) uint32 { return r.Bits.Tail }, func(r *layout.Rec, v uint32) { r.Bits.Tail = v }, 0xdeadbeef, 0),
		lf(13, func(r *layout.Rec) uint8 { return r.Pbits.A() }, func(r *layout.Rec, v uint8) { r.Pbits.SetA(v) }, 5, 2),
		lf(14, func(r *layout.Rec) uint64 { return r.Pbits.W() }, func(r *layout.Rec, v uint64) { r.Pbits.SetW(v) }, 0x8000000000000001, 0x8000000000000000),
		lf(15, func(r *layout.Rec) uint32 { return r.Pbits.B() }, func(r *layout.Rec, v uint32) { r.Pbits.SetB(v) }, 0x2aaaaaab, 0x2aaaaaaa),
		lf(16, func(r *layout.Rec) uint64 { return r.Pbits.C() }, func(r *layout.Rec, v uint64) { r.Pbits.SetC(v) }, 0x7123456789abcdef, 0x3123456789abcdef),
		lf(17, func(r *layout.Rec) int8 { return r.Pbits.S() }, func(r *layout.Rec, v int8) { r.Pbits.SetS(v) }, -50, 50),
		lf(18, func(r *layout.Rec) uint8 { return r.Wide.Tag }, func(r *layout.Rec, v uint8) { r.Wide.Tag = v }, 0x77, 0),
		lf(19, func(r *layout.Rec) bpfskel.Uint128 { return r.Wide.U }, func(r *layout.Rec, v bpfskel.Uint128) { r.Wide.U = v }, u128, bpfskel.Uint128{Hi: 1, Lo: u128.Lo}),
		lf(20, func(r *layout.Rec) bpfskel.Int128 { return r.Wide.S }, func(r *layout.Rec, v bpfskel.Int128) { r.Wide.S = v }, s128, bpfskel.Int128{Hi: -2, Lo: 2}),
		lf(21, func(r *layout.Rec) uint8 { return r.Pw.Tag }, func(r *layout.Rec, v uint8) { r.Pw.Tag = v }, 0x33, 0),
		lf(22, func(r *layout.Rec) bpfskel.Int128 { return r.Pw.S() }, func(r *layout.Rec, v bpfskel.Int128) { r.Pw.SetS(v) }, p128, bpfskel.Int128{Hi: math.MaxInt64, Lo: p128.Lo}),
		lf(23, func(r *layout.Rec) uint8 { return r.Pk.A }, func(r *layout.Rec, v uint8) { r.Pk.A = v }, 0xa5, 0),
		lf(24, func(r *layout.Rec) int64 { return int64(r.Pk.P().X) }, func(r *layout.Rec, v int64) { p := r.Pk.P(); p.X = uint32(v); r.Pk.SetP(p) }, 0x01020304, 0),
		lf(25, func(r *layout.Rec) int64 { return int64(r.Pk.P().Y) }, func(r *layout.Rec, v int64) { p := r.Pk.P(); p.Y = uint32(v); r.Pk.SetP(p) }, 0x05060708, 0),
		lf(26, func(r *layout.Rec) uint16 { return r.Pk.Arr()[0] }, func(r *layout.Rec, v uint16) { a := r.Pk.Arr(); a[0] = v; r.Pk.SetArr(a) }, 0x1111, 0),
		lf(27, func(r *layout.Rec) uint16 { return r.Pk.Arr()[1] }, func(r *layout.Rec, v uint16) { a := r.Pk.Arr(); a[1] = v; r.Pk.SetArr(a) }, 0x2222, 0),
		lf(28, func(r *layout.Rec) uint16 { return r.Pk.Arr()[2] }, func(r *layout.Rec, v uint16) { a := r.Pk.Arr(); a[2] = v; r.Pk.SetArr(a) }, 0x3333, 0),
		lf(29, func(r *layout.Rec) float32 { return r.Pk.F() }, func(r *layout.Rec, v float32) { r.Pk.SetF(v) }, 2.5, -2.5),
		lf(30, func(r *layout.Rec) float64 { return r.Pk.D() }, func(r *layout.Rec, v float64) { r.Pk.SetD(v) }, -0.5, 0.5),
		lf(31, func(r *layout.Rec) layout.Level { return r.Pk.E() }, func(r *layout.Rec, v layout.Level) { r.Pk.SetE(v) }, layout.LevelMID, layout.LevelHIGH),
		lf(32, func(r *layout.Rec) uint8 { return r.Al.A }, func(r *layout.Rec, v uint8) { r.Al.A = v }, 0x0a, 0),
		lf(33, func(r *layout.Rec) uint8 { return r.Al.B }, func(r *layout.Rec, v uint8) { r.Al.B = v }, 0x0b, 0),
		lf(34, func(r *layout.Rec) uint32 { return r.Al.C }, func(r *layout.Rec, v uint32) { r.Al.C = v }, 0x0c0c0c0c, 0),
		lf(35, func(r *layout.Rec) uint32 { return r.Anon.Head }, func(r *layout.Rec, v uint32) { r.Anon.Head = v }, 0x48454144, 0),
		lf(36, func(r *layout.Rec) uint32 { return r.Anon.U_a() }, func(r *layout.Rec, v uint32) { r.Anon.SetU_a(v) }, 0x44332211, 0),
		lf(36, func(r *layout.Rec) uint16 { return r.Anon.U_lo() }, func(r *layout.Rec, v uint16) { r.Anon.SetU_lo(v) }, 0x2211, 0x2212),
		lf(36, func(r *layout.Rec) uint16 { return r.Anon.U_hi() }, func(r *layout.Rec, v uint16) { r.Anon.SetU_hi(v) }, 0x4433, 0),
		lf(36, func(r *layout.Rec) uint8 { return r.Anon.U_b0() }, func(r *layout.Rec, v uint8) { r.Anon.SetU_b0(v) }, 0x11, 0),
		lf(36, func(r *layout.Rec) int8 { return r.Anon.U_sb() }, func(r *layout.Rec, v int8) { r.Anon.SetU_sb(v) }, 0x11, -1),
		lf(37, func(r *layout.Rec) uint32 { return r.Anon.S_x }, func(r *layout.Rec, v uint32) { r.Anon.S_x = v }, 0x5358, 0),
		lf(38, func(r *layout.Rec) uint32 { return r.Anon.S_word() }, func(r *layout.Rec, v uint32) { r.Anon.SetS_word(v) }, 0x80000081, 0),
		lf(38, func(r *layout.Rec) uint32 { return r.Anon.S_bitsLo() }, func(r *layout.Rec, v uint32) { r.Anon.SetS_bitsLo(v) }, 1, 2),
		lf(38, func(r *layout.Rec) uint32 { return r.Anon.S_bitsHi() }, func(r *layout.Rec, v uint32) { r.Anon.SetS_bitsHi(v) }, 0x1000001, 0x1000000),
		lf(39, func(r *layout.Rec) float64 { return r.Anon.V_f64() }, func(r *layout.Rec, v float64) { r.Anon.SetV_f64(v) }, 1.25, -1.25),
		lf(39, func(r *layout.Rec) uint64 { return r.Anon.V_u64() }, func(r *layout.Rec, v uint64) { r.Anon.SetV_u64(v) }, 0x3ff4000000000000, 1),
		lf(40, func(r *layout.Rec) float32 { return r.F32 }, func(r *layout.Rec, v float32) { r.F32 = v }, -3.75, 3.75),
		lf(41, func(r *layout.Rec) float64 { return r.F64 }, func(r *layout.Rec, v float64) { r.F64 = v }, 1e10, 1e9),
		lf(42, func(r *layout.Rec) uint8 { return r.TailU8 }, func(r *layout.Rec, v uint8) { r.TailU8 = v }, 0x99, 0),
	}
}

// knownRec is struct rec holding every known value, set through the
// typed API only.
func knownRec() layout.Rec {
	var r layout.Rec
	for _, f := range layoutFields() {
		f.set(&r)
	}
	return r
}

// recMismatches returns the numbers of the fields of r that differ from
// the known values, in order, each once.
func recMismatches(r *layout.Rec) []uint32 {
	var out []uint32
	for _, f := range layoutFields() {
		if f.differs(r) && !slices.Contains(out, f.n) {
			out = append(out, f.n)
		}
	}
	return out
}

// knownSections are the globals of LAYOUT_KNOWN_VALUES (fields 43..49).
var (
	knownData       = layout.Data{D_small: 0xd1, D_big: 0xd2d2d2d2d2d2d2d2}
	knownBss        = layout.Bss{B_count: 0xb1b1, B_flag: 0xb2}
	knownDataExtra  = layout.DataExtra{X_a: 0xe1e1e1e1e1e1e1e1, X_b: 0xe2}
	knownDataZeroes = layout.DataZeroes{Y_c: 0xf1f1f1f1}
)

func encodeRec(t *testing.T, r *layout.Rec) []byte {
	t.Helper()
	b := make([]byte, unsafe.Sizeof(*r))
	if err := bpfskel.Encode(b, r); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLayoutFromKernel: the BPF program writes every field; Go reads each
// through its typed accessor or field, the globals through the section
// views, and the flexible array through its accessor over a ring buffer
// record.
func TestLayoutFromKernel(t *testing.T) {
	skel := mustLoad(t, layout.Load)
	rd, err := skel.Maps.Events.NewReader()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if ret, err := skel.Programs.Fill.TestRun(nil); err != nil || ret != 1 {
		t.Fatalf("fill = %d, %v; want 1", ret, err)
	}
	got, err := skel.Maps.Out.Lookup(0)
	if err != nil {
		t.Fatal(err)
	}
	if bad := recMismatches(&got); len(bad) > 0 {
		t.Errorf("fields %v differ from what the BPF program wrote", bad)
	}
	// Byte for byte: Go's setters produce exactly the kernel's bytes
	// (padding and unnamed bits zero on both sides).
	want := knownRec()
	if a, b := encodeRec(t, &want), encodeRec(t, &got); !bytes.Equal(a, b) {
		t.Errorf("known value set through Go:\n% x\nkernel wrote:\n% x", a, b)
	}
	// The same bytes, decoded from the raw map value.
	raw, err := skel.Maps.Out.Map().LookupBytes(uint32(0))
	if err != nil {
		t.Fatal(err)
	}
	var dec layout.Rec
	if err := bpfskel.Decode(raw, &dec); err != nil {
		t.Fatal(err)
	}
	if bad := recMismatches(&dec); len(bad) > 0 {
		t.Errorf("decoded from bytes, fields %v differ", bad)
	}
	// A value that differs in one field (as if the program had written
	// another value there) is reported as exactly that field.
	for _, f := range layoutFields() {
		r := got
		f.alt(&r)
		if bad := recMismatches(&r); !slices.Equal(bad, []uint32{f.n}) {
			t.Errorf("changed field %d, the comparison reports %v", f.n, bad)
		}
	}

	sections := []struct {
		n    string
		same bool
	}{
		{"data", getView(t, skel.Data.View) == knownData},
		{"bss", getView(t, skel.Bss.View) == knownBss},
		{"data.extra", getView(t, skel.DataExtra.View) == knownDataExtra},
		{"data.zeroes", getView(t, skel.DataZeroes.View) == knownDataZeroes},
		{"rodata.cfg", getView(t, skel.RodataCfg.View) == layout.RodataCfg{FilterUid: 0x11223344, TraceUnlink: true}},
		{"rodata", getView(t, skel.Rodata.View).RoBig == 0x0102030405060708},
	}
	for _, s := range sections {
		if !s.same {
			t.Errorf("section .%s differs from what the program wrote", s.n)
		}
	}

	rd.SetDeadline(time.Now().Add(5 * time.Second))
	rec, err := rd.ReadRaw()
	if err != nil {
		t.Fatal(err)
	}
	var head layout.Flex
	if err := bpfskel.DecodePrefix(rec, &head); err != nil {
		t.Fatal(err)
	}
	data, err := head.Data(rec)
	if err != nil {
		t.Fatal(err)
	}
	if head.Len != 8 || head.Kind != 0x4b || !bytes.Equal(data, []byte{0, 1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("flex record: len %d kind %#x data % x; want 8, 0x4b, 00..07", head.Len, head.Kind, data)
	}
}

func getView[T any](t *testing.T, v *bpfskel.View[T]) T {
	t.Helper()
	x, err := v.Get(0)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestLayoutToKernel: Go writes every field through the typed API and the
// BPF program compares each; changing any one field, through any member
// of a union, is reported as exactly that field's number.
func TestLayoutToKernel(t *testing.T) {
	skel := mustLoad(t, layout.Load)
	check := func(r layout.Rec) uint32 {
		t.Helper()
		if err := skel.Maps.In.Update(0, r, bpfskel.UpdateAny); err != nil {
			t.Fatal(err)
		}
		ret, err := skel.Programs.Check.TestRun(nil)
		if err != nil {
			t.Fatal(err)
		}
		return ret
	}
	setSections := func(d layout.Data, b layout.Bss, x layout.DataExtra, z layout.DataZeroes) {
		t.Helper()
		err := errors.Join(skel.Data.Set(0, d), skel.Bss.Set(0, b), skel.DataExtra.Set(0, x), skel.DataZeroes.Set(0, z))
		if err != nil {
			t.Fatal(err)
		}
	}
	setSections(knownData, knownBss, knownDataExtra, knownDataZeroes)
	if ret := check(knownRec()); ret != 0 {
		t.Fatalf("check found field %d different from what Go wrote", ret)
	}
	for _, f := range layoutFields() {
		r := knownRec()
		f.alt(&r)
		if ret := check(r); ret != f.n {
			t.Errorf("changed field %d, check reported %d", f.n, ret)
		}
	}
	for _, tc := range []struct {
		n      uint32
		change func(*layout.Data, *layout.Bss, *layout.DataExtra, *layout.DataZeroes)
	}{
		{43, func(d *layout.Data, _ *layout.Bss, _ *layout.DataExtra, _ *layout.DataZeroes) { d.D_small = 0 }},
		{44, func(d *layout.Data, _ *layout.Bss, _ *layout.DataExtra, _ *layout.DataZeroes) { d.D_big = 0 }},
		{45, func(_ *layout.Data, b *layout.Bss, _ *layout.DataExtra, _ *layout.DataZeroes) { b.B_count = 0 }},
		{46, func(_ *layout.Data, b *layout.Bss, _ *layout.DataExtra, _ *layout.DataZeroes) { b.B_flag = 0 }},
		{47, func(_ *layout.Data, _ *layout.Bss, x *layout.DataExtra, _ *layout.DataZeroes) { x.X_a = 0 }},
		{48, func(_ *layout.Data, _ *layout.Bss, x *layout.DataExtra, _ *layout.DataZeroes) { x.X_b = 0 }},
		{49, func(_ *layout.Data, _ *layout.Bss, _ *layout.DataExtra, z *layout.DataZeroes) { z.Y_c = 0 }},
	} {
		d, b, x, z := knownData, knownBss, knownDataExtra, knownDataZeroes
		tc.change(&d, &b, &x, &z)
		setSections(d, b, x, z)
		if ret := check(knownRec()); ret != tc.n {
			t.Errorf("changed global %d, check reported %d", tc.n, ret)
		}
	}
}
