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
// sizeof(T) bytes; they never allocate. They work through the value's own
// memory: a T of size n holds the bits of the unsigned integer of size n,
// so one conversion per size covers signed, unsigned, float, bool (its
// byte, as C stores _Bool) and enum types.

// GetLE decodes a T from the first sizeof(T) bytes of b, little endian.
func GetLE[T Scalar](b []byte) T {
	var v T
	p := unsafe.Pointer(&v)
	switch unsafe.Sizeof(v) {
	case 1:
		*(*uint8)(p) = b[0]
	case 2:
		*(*uint16)(p) = binary.LittleEndian.Uint16(b)
	case 4:
		*(*uint32)(p) = binary.LittleEndian.Uint32(b)
	case 8:
		*(*uint64)(p) = binary.LittleEndian.Uint64(b)
	case 16:
		*(*Uint128)(p) = Uint128{Lo: binary.LittleEndian.Uint64(b[:8]), Hi: binary.LittleEndian.Uint64(b[8:16])}
	}
	return v
}

// GetBE decodes a T from the first sizeof(T) bytes of b, big endian.
func GetBE[T Scalar](b []byte) T {
	var v T
	p := unsafe.Pointer(&v)
	switch unsafe.Sizeof(v) {
	case 1:
		*(*uint8)(p) = b[0]
	case 2:
		*(*uint16)(p) = binary.BigEndian.Uint16(b)
	case 4:
		*(*uint32)(p) = binary.BigEndian.Uint32(b)
	case 8:
		*(*uint64)(p) = binary.BigEndian.Uint64(b)
	case 16:
		*(*Uint128)(p) = Uint128{Hi: binary.BigEndian.Uint64(b[:8]), Lo: binary.BigEndian.Uint64(b[8:16])}
	}
	return v
}

// SetLE encodes v into the first sizeof(T) bytes of b, little endian.
func SetLE[T Scalar](b []byte, v T) {
	p := unsafe.Pointer(&v)
	switch unsafe.Sizeof(v) {
	case 1:
		b[0] = *(*uint8)(p)
	case 2:
		binary.LittleEndian.PutUint16(b, *(*uint16)(p))
	case 4:
		binary.LittleEndian.PutUint32(b, *(*uint32)(p))
	case 8:
		binary.LittleEndian.PutUint64(b, *(*uint64)(p))
	case 16:
		u := *(*Uint128)(p)
		_ = b[15]
		binary.LittleEndian.PutUint64(b[:8], u.Lo)
		binary.LittleEndian.PutUint64(b[8:16], u.Hi)
	}
}

// SetBE encodes v into the first sizeof(T) bytes of b, big endian.
func SetBE[T Scalar](b []byte, v T) {
	p := unsafe.Pointer(&v)
	switch unsafe.Sizeof(v) {
	case 1:
		b[0] = *(*uint8)(p)
	case 2:
		binary.BigEndian.PutUint16(b, *(*uint16)(p))
	case 4:
		binary.BigEndian.PutUint32(b, *(*uint32)(p))
	case 8:
		binary.BigEndian.PutUint64(b, *(*uint64)(p))
	case 16:
		u := *(*Uint128)(p)
		_ = b[15]
		binary.BigEndian.PutUint64(b[:8], u.Hi)
		binary.BigEndian.PutUint64(b[8:16], u.Lo)
	}
}
