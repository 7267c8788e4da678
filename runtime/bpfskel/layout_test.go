package bpfskel

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"
)

// refBit returns bit k of b in the target's numbering.
func refBit(b []byte, k uint, be bool) uint64 {
	if be {
		return uint64(b[k/8]>>(7-k%8)) & 1
	}
	return uint64(b[k/8]>>(k%8)) & 1
}

func refSetBit(b []byte, k uint, be bool, v uint64) {
	sh := k % 8
	if be {
		sh = 7 - k%8
	}
	b[k/8] = b[k/8]&^(1<<sh) | byte(v&1)<<sh
}

// refBits is the definition, one bit at a time: little endian puts the
// field's least significant bit first, big endian its most significant.
func refBits(b []byte, off, width uint, be bool) uint64 {
	var v uint64
	for i := uint(0); i < width; i++ {
		if be {
			v = v<<1 | refBit(b, off+i, true)
		} else {
			v |= refBit(b, off+i, false) << i
		}
	}
	return v
}

func refSetBits(b []byte, off, width uint, be bool, v uint64) {
	for i := uint(0); i < width; i++ {
		if be {
			refSetBit(b, off+i, true, v>>(width-1-i))
		} else {
			refSetBit(b, off+i, false, v>>i)
		}
	}
}

// checkBits compares BitsLE/BE and SetBitsLE/BE with the definition for
// one offset and width over buf.
func checkBits(t *testing.T, buf []byte, off, width uint, v uint64) {
	t.Helper()
	for _, be := range []bool{false, true} {
		get, set := BitsLE, SetBitsLE
		if be {
			get, set = BitsBE, SetBitsBE
		}
		if got, want := get(buf, off, width), refBits(buf, off, width, be); got != want {
			t.Fatalf("be=%v off=%d width=%d get=%#x want %#x (buf % x)", be, off, width, got, want, buf)
		}
		a := bytes.Clone(buf)
		b := bytes.Clone(buf)
		set(a, off, width, v)
		refSetBits(b, off, width, be, v)
		if !bytes.Equal(a, b) {
			t.Fatalf("be=%v off=%d width=%d set %#x: got % x want % x", be, off, width, v, a, b)
		}
		if got := get(a, off, width); got != v&mask(width) {
			t.Fatalf("be=%v off=%d width=%d: set %#x read back %#x", be, off, width, v, got)
		}
	}
}

func TestBitsEveryOffsetAndWidth(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 10)
	for off := uint(0); off < 16; off++ {
		for width := uint(1); width <= 64 && off+width <= 80; width++ {
			for range 4 {
				for i := range buf {
					buf[i] = byte(r.Uint32())
				}
				checkBits(t, buf, off, width, r.Uint64())
			}
		}
	}
}

func TestBitsKnownPlacements(t *testing.T) {
	// struct { __u32 urgent:1, level:3, :4, code:8; } = {1, 5, 0x42}
	le := make([]byte, 4)
	SetBitsLE(le, 0, 1, 1)
	SetBitsLE(le, 1, 3, 5)
	SetBitsLE(le, 8, 8, 0x42)
	if !bytes.Equal(le, []byte{0x0b, 0x42, 0, 0}) {
		t.Errorf("little endian: % x, want 0b 42 00 00 (as gcc and clang -target bpfel lay it out)", le)
	}
	be := make([]byte, 4)
	SetBitsBE(be, 0, 1, 1)
	SetBitsBE(be, 1, 3, 5)
	SetBitsBE(be, 8, 8, 0x42)
	if !bytes.Equal(be, []byte{0xd0, 0x42, 0, 0}) {
		t.Errorf("big endian: % x, want d0 42 00 00 (1 101 0000: MSB first)", be)
	}
	if got := SignExtend(BitsLE([]byte{0x0e}, 1, 3), 3); got != -1 {
		t.Errorf("signed 3-bit 0b111 = %d, want -1", got)
	}
	if got := SignExtend(0x8000000000000000, 64); got != math.MinInt64 {
		t.Errorf("64-bit sign extension = %d", got)
	}
}

// FuzzBits: any buffer, offset, width and value agree with the bit-by-bit
// definition; out-of-range offsets panic like an index, nothing else.
func FuzzBits(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, uint(7), uint(64), uint64(math.MaxUint64))
	f.Add([]byte{0xff}, uint(0), uint(1), uint64(0))
	f.Fuzz(func(t *testing.T, buf []byte, off, width uint, v uint64) {
		width = width%64 + 1
		if len(buf) == 0 {
			return
		}
		off %= uint(len(buf)) * 8
		if off+width > uint(len(buf))*8 {
			return
		}
		checkBits(t, buf, off, width, v)
	})
}

func TestScalars(t *testing.T) {
	b := make([]byte, 16)
	SetLE(b, uint32(0x01020304))
	if !bytes.Equal(b[:4], []byte{4, 3, 2, 1}) || GetLE[uint32](b) != 0x01020304 {
		t.Errorf("uint32 little endian: % x", b[:4])
	}
	SetBE(b, int16(-2))
	if !bytes.Equal(b[:2], []byte{0xff, 0xfe}) || GetBE[int16](b) != -2 {
		t.Errorf("int16 big endian: % x", b[:2])
	}
	SetLE(b, float64(-2.25))
	if binary.LittleEndian.Uint64(b) != math.Float64bits(-2.25) || GetLE[float64](b) != -2.25 {
		t.Errorf("float64: % x", b[:8])
	}
	type color uint8
	SetBE(b, color(7))
	if GetBE[color](b) != 7 || b[0] != 7 {
		t.Errorf("enum: % x", b[:1])
	}
	u := Uint128{Lo: 0x0706050403020100, Hi: 0x0f0e0d0c0b0a0908}
	SetLE(b, u)
	for i := range 16 {
		if b[i] != byte(i) {
			t.Fatalf("Uint128 little endian: % x", b)
		}
	}
	if GetLE[Uint128](b) != u {
		t.Error("Uint128 little endian round trip")
	}
	SetBE(b, u)
	for i := range 16 {
		if b[i] != byte(15-i) {
			t.Fatalf("Uint128 big endian: % x", b)
		}
	}
	if GetBE[Uint128](b) != u || GetBE[Int128](b) != (Int128{Lo: u.Lo, Hi: int64(u.Hi)}) {
		t.Error("128-bit big endian round trip")
	}
}

func TestInt128Big(t *testing.T) {
	for _, s := range []string{"0", "1", "-1", "18446744073709551616", "-170141183460469231731687303715884105728", "170141183460469231731687303715884105727"} {
		x, _ := new(big.Int).SetString(s, 10)
		if got := Int128FromBig(x).String(); got != s {
			t.Errorf("Int128 %s -> %s", s, got)
		}
	}
	max, _ := new(big.Int).SetString("340282366920938463463374607431768211455", 10)
	if u := Uint128FromBig(max); u.Lo != math.MaxUint64 || u.Hi != math.MaxUint64 || u.String() != max.String() {
		t.Errorf("max Uint128 = %+v %s", u, u)
	}
	if u := Uint128FromBig(big.NewInt(-1)); u.Lo != math.MaxUint64 || u.Hi != math.MaxUint64 {
		t.Errorf("-1 as Uint128 = %+v, want all ones", u)
	}
	if i := Int128FromInt64(-5); i.String() != "-5" || i.Hi != -1 {
		t.Errorf("Int128FromInt64(-5) = %+v", i)
	}
}

type decodeUnion struct {
	_   [0]uint64
	raw [8]byte
}

type decodeRec struct {
	A uint32
	B uint16
	_ [2]byte
	U decodeUnion
	W Uint128
}

func TestDecodeEncode(t *testing.T) {
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(i + 1)
	}
	var r decodeRec
	if err := Decode(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.A != binary.NativeEndian.Uint32(b) || r.U.raw[0] != 9 || r.W.Lo != binary.NativeEndian.Uint64(b[16:]) {
		t.Errorf("decoded %+v", r)
	}
	out := make([]byte, 32)
	if err := Encode(out, &r); err != nil || !bytes.Equal(out, b) {
		t.Errorf("encode: % x, %v", out, err)
	}
	err := Decode(b[:31], &r)
	if err == nil || err.Error() != "bpfskel: decoding bpfskel.decodeRec: have 31 bytes, want 32" {
		t.Errorf("short input: %v", err)
	}
	if err := Encode(make([]byte, 33), &r); err == nil {
		t.Error("encoding into 33 bytes succeeded")
	}
	var p struct{ P *int }
	if err := Decode(make([]byte, 8), &p); err == nil {
		t.Error("decoding a pointer from bytes succeeded")
	}
	if err := DecodePrefix(append(b, 1, 2, 3), &r); err != nil {
		t.Error(err)
	}
}

func TestTail(t *testing.T) {
	rec := make([]uint64, 4) // 8-aligned memory
	b := unsafeBytes(rec)
	for i := range b {
		b[i] = byte(i)
	}
	tail, err := Tail[uint32](b, 12)
	if err != nil || len(tail) != 5 || tail[0] != binary.NativeEndian.Uint32(b[12:]) {
		t.Errorf("Tail = %v, %v", tail, err)
	}
	if _, err := Tail[uint32](b, 13); err == nil {
		t.Error("misaligned tail accepted")
	}
	if _, err := Tail[uint32](b, 40); err == nil {
		t.Error("offset past the record accepted")
	}
	if tail, err := Tail[byte](b, 32); err != nil || len(tail) != 0 {
		t.Errorf("empty tail: %v %v", tail, err)
	}
}

// FuzzDecode: any input decodes into a value of the right size or fails
// with an error, never panics; a decoded value encodes to the same bytes.
func FuzzDecode(f *testing.F) {
	f.Add(make([]byte, 32))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r decodeRec
		err := Decode(b, &r)
		if (err == nil) != (len(b) == 32) {
			t.Fatalf("len %d: %v", len(b), err)
		}
		if err == nil {
			out := make([]byte, 32)
			if err := Encode(out, &r); err != nil || !bytes.Equal(out, b) {
				t.Fatalf("round trip: % x, %v", out, err)
			}
		}
		var u Uint128
		if Decode(b, &u) == nil && len(b) != 16 {
			t.Fatal("decoded a Uint128 from", len(b), "bytes")
		}
		_, _ = Tail[uint16](b, len(b)/2)
	})
}

func TestLayoutHelpersDoNotAllocate(t *testing.T) {
	b := make([]byte, 32)
	var r decodeRec
	_ = Decode(b, &r) // the first call caches the type check
	n := testing.AllocsPerRun(100, func() {
		SetBitsLE(b, 3, 17, 12345)
		_ = BitsBE(b, 5, 60)
		SetLE(b, Uint128{Lo: 1})
		_ = GetBE[float32](b)
		_ = Decode(b, &r)
		_ = Encode(b, &r)
		_, _ = Tail[uint32](b, 4)
		_ = Unaligned[decodeUnion](b[1:])
	})
	if n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}

func unsafeBytes(s []uint64) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*8)
}

// benchRec has only exported fields, so that encoding/binary can decode it
// too (it cannot decode a union's unexported storage at all).
type benchRec struct {
	A uint32
	B uint16
	_ [2]byte
	C [8]uint64
	D int64
}

func BenchmarkDecode(b *testing.B) {
	buf := make([]byte, unsafe.Sizeof(benchRec{}))
	var r benchRec
	b.Run("bpfskel.Decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := Decode(buf, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("binary.Read", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := binary.Read(bytes.NewReader(buf), binary.LittleEndian, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("binary.Decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := binary.Decode(buf, binary.LittleEndian, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkBits(b *testing.B) {
	buf := make([]byte, 16)
	b.Run("SetBitsLE+BitsLE/13@5", func(b *testing.B) {
		b.ReportAllocs()
		var s uint64
		for i := range b.N {
			SetBitsLE(buf, 5, 13, uint64(i))
			s += BitsLE(buf, 5, 13)
		}
		_ = s
	})
	b.Run("SetBitsBE+BitsBE/64@3", func(b *testing.B) {
		b.ReportAllocs()
		var s uint64
		for i := range b.N {
			SetBitsBE(buf, 3, 64, uint64(i))
			s += BitsBE(buf, 3, 64)
		}
		_ = s
	})
	b.Run("SetLE+GetLE/uint64", func(b *testing.B) {
		b.ReportAllocs()
		var s uint64
		for i := range b.N {
			SetLE(buf[1:], uint64(i))
			s += GetLE[uint64](buf[1:])
		}
		_ = s
	})
}

func TestSectionBytes(t *testing.T) {
	type cfg struct { // const volatile __u32 filter_uid; const volatile bool trace_unlink;
		FilterUid   uint32
		TraceUnlink bool
		_           [3]byte
	}
	b := []byte{0x44, 0x33, 0x22, 0x11, 1}
	var c cfg
	if err := DecodeSection(b, &c); err != nil || c.FilterUid != 0x11223344 || !c.TraceUnlink {
		t.Fatalf("DecodeSection = %+v, %v", c, err)
	}
	c.FilterUid = 7
	if err := EncodeSection(b, &c); err != nil || !bytes.Equal(b, []byte{7, 0, 0, 0, 1}) {
		t.Fatalf("EncodeSection: % x, %v", b, err)
	}
	if err := DecodeSection(make([]byte, 9), &c); err == nil {
		t.Error("9 bytes into an 8-byte struct accepted")
	}
	err := EncodeSection(make([]byte, 16), &struct{ A [3]uint64 }{})
	if err == nil || !strings.Contains(err.Error(), "is 24 bytes in Go, 16 in the object (Go may add at most the padding up to 16)") {
		t.Errorf("oversized struct: %v", err)
	}
}
