package bpfskel

import (
	"encoding/binary"
	"unsafe"
)

// Scalar is every type an unaligned field accessor reads and writes: the
// integer, float and bool types, types defined on them (mirrored enums), and
// the 128-bit integers.
type Scalar interface {
	~bool | ~int8 | ~uint8 | ~int16 | ~uint16 | ~int32 | ~uint32 | ~int64 | ~uint64 |
		~float32 | ~float64 | Uint128 | Int128
}

// Accessors of misaligned members (of packed structs, or at an offset Go
// cannot place a field at) read and write the member's bytes with these
// functions, in the object's byte order: GetLE and SetLE in little-endian
// skeletons, GetBE and SetBE in big-endian ones. b must hold at least
// sizeof(T) bytes; they never allocate.

// GetLE decodes a T from the first sizeof(T) bytes of b, little endian.
func GetLE[T Scalar](b []byte) T { return get[T](b, binary.LittleEndian) }

// GetBE decodes a T from the first sizeof(T) bytes of b, big endian.
func GetBE[T Scalar](b []byte) T { return get[T](b, binary.BigEndian) }

// SetLE encodes v into the first sizeof(T) bytes of b, little endian.
func SetLE[T Scalar](b []byte, v T) { set(b, v, binary.LittleEndian) }

// SetBE encodes v into the first sizeof(T) bytes of b, big endian.
func SetBE[T Scalar](b []byte, v T) { set(b, v, binary.BigEndian) }

// get reads through the value's own memory: a T of size n is stored as the
// unsigned integer of size n with the same bits, so one conversion per size
// covers signed, unsigned, float, bool and enum types. bool is read as its
// byte, as C stores _Bool.
func get[T Scalar](b []byte, bo binary.ByteOrder) T {
	var v T
	p := unsafe.Pointer(&v)
	switch unsafe.Sizeof(v) {
	case 1:
		*(*uint8)(p) = b[0]
	case 2:
		*(*uint16)(p) = bo.Uint16(b)
	case 4:
		*(*uint32)(p) = bo.Uint32(b)
	case 8:
		*(*uint64)(p) = bo.Uint64(b)
	case 16:
		*(*Uint128)(p) = get128(b, bo)
	}
	return v
}

func set[T Scalar](b []byte, v T, bo binary.ByteOrder) {
	p := unsafe.Pointer(&v)
	switch unsafe.Sizeof(v) {
	case 1:
		b[0] = *(*uint8)(p)
	case 2:
		bo.PutUint16(b, *(*uint16)(p))
	case 4:
		bo.PutUint32(b, *(*uint32)(p))
	case 8:
		bo.PutUint64(b, *(*uint64)(p))
	case 16:
		set128(b, *(*Uint128)(p), bo)
	}
}

func get128(b []byte, bo binary.ByteOrder) Uint128 {
	_ = b[15]
	if bo == binary.ByteOrder(binary.BigEndian) {
		return Uint128{Hi: bo.Uint64(b[:8]), Lo: bo.Uint64(b[8:16])}
	}
	return Uint128{Lo: bo.Uint64(b[:8]), Hi: bo.Uint64(b[8:16])}
}

func set128(b []byte, v Uint128, bo binary.ByteOrder) {
	_ = b[15]
	if bo == binary.ByteOrder(binary.BigEndian) {
		bo.PutUint64(b[:8], v.Hi)
		bo.PutUint64(b[8:16], v.Lo)
		return
	}
	bo.PutUint64(b[:8], v.Lo)
	bo.PutUint64(b[8:16], v.Hi)
}
