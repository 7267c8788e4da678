package bpfskel

import "encoding/binary"

// Bitfield access over a byte slice. BTF gives every bitfield a bit offset
// and a width in the target's bit numbering:
//
//   - little endian: bit k is bit k%8 (counting from the least significant)
//     of byte k/8, and a field's least significant bit comes first;
//   - big endian: bit k is bit 7-k%8 of byte k/8 (bit 0 is the most
//     significant bit of the first byte), and a field's most significant bit
//     comes first.
//
// These are exactly the placements clang uses for the bpfel and bpfeb
// targets, and gcc for x86_64 and s390x. Generated accessors are one-line
// calls to these functions with constant offsets and widths; they never
// allocate. The byte slice holds the bitfields' storage and off counts from
// its first byte. Widths run from 1 to 64; off+width must fit in b, else
// the functions panic like an out-of-range index.

// BitsLE returns the width-bit field at bit offset off of b, in
// little-endian bit numbering, zero-extended.
func BitsLE(b []byte, off, width uint) uint64 {
	first, last := off/8, (off+width-1)/8
	bs := b[first : last+1]
	sh := off % 8
	if len(bs) <= 8 {
		return loadLE(bs) >> sh & mask(width)
	}
	// 9 bytes: a field of more than 57 bits that does not start on a byte.
	return (loadLE(bs[:8])>>sh | uint64(bs[8])<<(64-sh)) & mask(width)
}

// SetBitsLE stores the low width bits of v at bit offset off of b, in
// little-endian bit numbering; the other bits of b are left alone.
func SetBitsLE(b []byte, off, width uint, v uint64) {
	first, last := off/8, (off+width-1)/8
	bs := b[first : last+1]
	sh := off % 8
	v &= mask(width)
	if len(bs) <= 8 {
		m := mask(width) << sh
		storeLE(bs, loadLE(bs)&^m|v<<sh&m)
		return
	}
	m := mask(width) << sh
	storeLE(bs[:8], loadLE(bs[:8])&^m|v<<sh)
	hi := byte(mask(width) >> (64 - sh))
	bs[8] = bs[8]&^hi | byte(v>>(64-sh))&hi
}

// BitsBE returns the width-bit field at bit offset off of b, in big-endian
// bit numbering (bit 0 is the most significant bit of b[0]), zero-extended.
func BitsBE(b []byte, off, width uint) uint64 {
	first, last := off/8, (off+width-1)/8
	bs := b[first : last+1]
	tail := 8*uint(len(bs)) - off%8 - width // bits after the field in its last byte
	if len(bs) <= 8 {
		return loadBE(bs) >> tail & mask(width)
	}
	return (loadBE(bs[:8])<<(8-tail) | uint64(bs[8])>>tail) & mask(width)
}

// SetBitsBE stores the low width bits of v at bit offset off of b, in
// big-endian bit numbering; the other bits of b are left alone.
func SetBitsBE(b []byte, off, width uint, v uint64) {
	first, last := off/8, (off+width-1)/8
	bs := b[first : last+1]
	tail := 8*uint(len(bs)) - off%8 - width
	v &= mask(width)
	if len(bs) <= 8 {
		m := mask(width) << tail
		storeBE(bs, loadBE(bs)&^m|v<<tail&m)
		return
	}
	// 9 bytes: the top width+tail-8 bits go to the first 8 bytes.
	m := mask(width) >> (8 - tail)
	storeBE(bs[:8], loadBE(bs[:8])&^m|v>>(8-tail))
	lo := byte(0xff << tail)
	bs[8] = bs[8]&^lo | byte(v<<tail)&lo
}

// loadLE and loadBE read up to 8 bytes as an unsigned integer; storeLE and
// storeBE write it back. Runs of 1, 2, 4 and 8 bytes take one load.
func loadLE(bs []byte) uint64 {
	switch len(bs) {
	case 1:
		return uint64(bs[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(bs))
	case 4:
		return uint64(binary.LittleEndian.Uint32(bs))
	case 8:
		return binary.LittleEndian.Uint64(bs)
	}
	var w uint64
	for i := len(bs) - 1; i >= 0; i-- {
		w = w<<8 | uint64(bs[i])
	}
	return w
}

func storeLE(bs []byte, w uint64) {
	switch len(bs) {
	case 1:
		bs[0] = byte(w)
		return
	case 2:
		binary.LittleEndian.PutUint16(bs, uint16(w))
		return
	case 4:
		binary.LittleEndian.PutUint32(bs, uint32(w))
		return
	case 8:
		binary.LittleEndian.PutUint64(bs, w)
		return
	}
	for i := range bs {
		bs[i] = byte(w)
		w >>= 8
	}
}

func loadBE(bs []byte) uint64 {
	switch len(bs) {
	case 1:
		return uint64(bs[0])
	case 2:
		return uint64(binary.BigEndian.Uint16(bs))
	case 4:
		return uint64(binary.BigEndian.Uint32(bs))
	case 8:
		return binary.BigEndian.Uint64(bs)
	}
	var w uint64
	for _, c := range bs {
		w = w<<8 | uint64(c)
	}
	return w
}

func storeBE(bs []byte, w uint64) {
	switch len(bs) {
	case 1:
		bs[0] = byte(w)
		return
	case 2:
		binary.BigEndian.PutUint16(bs, uint16(w))
		return
	case 4:
		binary.BigEndian.PutUint32(bs, uint32(w))
		return
	case 8:
		binary.BigEndian.PutUint64(bs, w)
		return
	}
	for i := len(bs) - 1; i >= 0; i-- {
		bs[i] = byte(w)
		w >>= 8
	}
}

// SignExtend interprets the low width bits of v as a two's complement
// number, as C reads a signed bitfield.
func SignExtend(v uint64, width uint) int64 {
	s := 64 - width
	return int64(v<<s) >> s
}

func mask(width uint) uint64 {
	if width >= 64 {
		return ^uint64(0)
	}
	return 1<<width - 1
}

// BoolBits is 1 for true and 0 for false: what a setter of a _Bool
// bitfield stores.
func BoolBits(v bool) uint64 {
	if v {
		return 1
	}
	return 0
}
