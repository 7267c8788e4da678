package bpfskel

import (
	"fmt"
	"reflect"
	"sync"
	"unsafe"
)

// Decoding generated types from bytes and back.
//
// Every type a skeleton declares mirrors its C type byte for byte in the
// object's byte order, and a skeleton only builds on GOARCHes with that
// byte order; so its value is exactly the bytes BPF wrote, and decoding is
// one copy. Decode and Encode work for any plain-data T (no Go pointers,
// strings, slices, maps, interfaces, channels or functions): unions, packed
// structs, bitfields and 128-bit integers included, which encoding/binary
// refuses or gets wrong. The first call for a type checks that it is plain
// data (once, cached); calls never allocate.

// plainTypes caches, per type, the result of the plain-data check.
var plainTypes sync.Map // reflect.Type -> error (nil when plain)

func checkPlainType[T any]() error {
	t := reflect.TypeFor[T]()
	if r, ok := plainTypes.Load(t); ok {
		if r == nil {
			return nil
		}
		return r.(error)
	}
	err := plainData(t)
	if err != nil {
		err = fmt.Errorf("bpfskel: %s cannot be decoded from bytes: %w", t, err)
		plainTypes.Store(t, err)
		return err
	}
	plainTypes.Store(t, nil)
	return nil
}

// Decode fills *dst from b, which must hold exactly sizeof(T) bytes.
func Decode[T any](b []byte, dst *T) error {
	n := unsafe.Sizeof(*dst)
	if uintptr(len(b)) != n {
		return fmt.Errorf("bpfskel: decoding %T: have %d bytes, want %d", *dst, len(b), n)
	}
	if err := checkPlainType[T](); err != nil {
		return err
	}
	if n > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(dst)), n), b)
	}
	return nil
}

// Encode writes *src into b, which must hold exactly sizeof(T) bytes.
func Encode[T any](b []byte, src *T) error {
	n := unsafe.Sizeof(*src)
	if uintptr(len(b)) != n {
		return fmt.Errorf("bpfskel: encoding %T: have %d bytes, want %d", *src, len(b), n)
	}
	if err := checkPlainType[T](); err != nil {
		return err
	}
	if n > 0 {
		copy(b, unsafe.Slice((*byte)(unsafe.Pointer(src)), n))
	}
	return nil
}

// DecodePrefix fills *dst from the first sizeof(T) bytes of b, for records
// that continue past their fixed part (a flexible array member, see
// [Tail]). b shorter than sizeof(T) is an error naming both sizes.
func DecodePrefix[T any](b []byte, dst *T) error {
	n := unsafe.Sizeof(*dst)
	if uintptr(len(b)) < n {
		return fmt.Errorf("bpfskel: decoding %T: have %d bytes, want at least %d", *dst, len(b), n)
	}
	return Decode(b[:n], dst)
}

// Tail returns the elements of a C flexible (or zero-length) trailing array
// member that starts at byte off of the record in b: as many whole E as fit
// between b[off] and the end of b, sharing b's memory (no copy). The
// generated accessor of such a member passes the member's C offset, which
// may be less than sizeof(T). It is an error when b is shorter than off, or
// when b[off:] is not aligned for E (copy the bytes to aligned memory then).
func Tail[E any](b []byte, off int) ([]E, error) {
	var e E
	if off < 0 || off > len(b) {
		return nil, fmt.Errorf("bpfskel: trailing array at byte %d: record has only %d bytes", off, len(b))
	}
	if err := checkPlainType[E](); err != nil {
		return nil, err
	}
	rest := b[off:]
	size := unsafe.Sizeof(e)
	if size == 0 || len(rest) < int(size) {
		return nil, nil
	}
	p := unsafe.Pointer(unsafe.SliceData(rest))
	if uintptr(p)%unsafe.Alignof(e) != 0 {
		return nil, fmt.Errorf("bpfskel: trailing array at byte %d: memory not aligned to %d bytes for %T", off, unsafe.Alignof(e), e)
	}
	return unsafe.Slice((*E)(p), uintptr(len(rest))/size), nil
}

// Unaligned returns the T stored in the first sizeof(T) bytes of b, copied
// byte for byte: the accessor of a struct, union or array member that
// sits where Go cannot place a field of its type (inside a packed struct).
// T must be plain data, as every generated type is.
func Unaligned[T any](b []byte) T {
	var v T
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&v)), unsafe.Sizeof(v)), b[:unsafe.Sizeof(v)])
	return v
}

// SetUnaligned stores v in the first sizeof(T) bytes of b, byte for byte.
func SetUnaligned[T any](b []byte, v T) {
	copy(b[:unsafe.Sizeof(v)], unsafe.Slice((*byte)(unsafe.Pointer(&v)), unsafe.Sizeof(v)))
}

// A data section's Go struct may be longer than the section by Go's tail
// padding (see [BindSection]): these read and write the section's bytes as
// the object holds them, for instance the value of a CollectionSpec's
// section map (MapSpec.Contents[0].Value) between Open and Load.

// DecodeSection fills *dst from a section's bytes b: len(b) may be less
// than sizeof(T) by at most the padding up to the next multiple of 8; the
// padding is zeroed.
func DecodeSection[T any](b []byte, dst *T) error {
	if err := checkSectionSize[T](len(b)); err != nil {
		return err
	}
	if err := checkPlainType[T](); err != nil {
		return err
	}
	mem := unsafe.Slice((*byte)(unsafe.Pointer(dst)), unsafe.Sizeof(*dst))
	clear(mem[copy(mem, b):])
	return nil
}

// EncodeSection writes the first len(b) bytes of *src into b, a section's
// bytes, under the size rule of [DecodeSection].
func EncodeSection[T any](b []byte, src *T) error {
	if err := checkSectionSize[T](len(b)); err != nil {
		return err
	}
	if err := checkPlainType[T](); err != nil {
		return err
	}
	copy(b, unsafe.Slice((*byte)(unsafe.Pointer(src)), unsafe.Sizeof(*src)))
	return nil
}

func checkSectionSize[T any](n int) error {
	var v T
	size := uint64(unsafe.Sizeof(v))
	if n < 0 || uint64(n) > size || size > roundUp(uint64(n), 8) {
		return fmt.Errorf("bpfskel: section %T is %d bytes in Go, %d in the object (Go may add at most the padding up to %d)", v, size, n, roundUp(uint64(n), 8))
	}
	return nil
}
