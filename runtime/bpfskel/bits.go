package bpfskel

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
	_ = b[last]
	var v uint64
	shift := uint(0)
	for i := first; i <= last; i++ {
		byt := uint64(b[i])
		if i == first {
			byt >>= off % 8
			shift = 8 - off%8
			v = byt
			continue
		}
		v |= byt << shift
		shift += 8
	}
	return v & mask(width)
}

// SetBitsLE stores the low width bits of v at bit offset off of b, in
// little-endian bit numbering; the other bits of b are left alone.
func SetBitsLE(b []byte, off, width uint, v uint64) {
	first, last := off/8, (off+width-1)/8
	_ = b[last]
	v &= mask(width)
	pos := off % 8 // bit of byte i where the next bits of v go
	left := width
	for i := first; i <= last; i++ {
		n := min(8-pos, left)
		m := byte(mask(n) << pos)
		b[i] = b[i]&^m | byte(v<<pos)&m
		v >>= n
		left -= n
		pos = 0
	}
}

// BitsBE returns the width-bit field at bit offset off of b, in big-endian
// bit numbering (bit 0 is the most significant bit of b[0]), zero-extended.
func BitsBE(b []byte, off, width uint) uint64 {
	first, last := off/8, (off+width-1)/8
	_ = b[last]
	var v uint64
	for i := first; i <= last; i++ {
		byt := uint64(b[i])
		if i == first {
			byt &= uint64(0xff >> (off % 8))
		}
		if i == last {
			// Drop the bits after the field in its last byte.
			drop := 7 - (off+width-1)%8
			if i == first {
				v = byt >> drop
			} else {
				v = v<<(8-drop) | byt>>drop
			}
			break
		}
		v = v<<8 | byt
	}
	return v & mask(width)
}

// SetBitsBE stores the low width bits of v at bit offset off of b, in
// big-endian bit numbering; the other bits of b are left alone.
func SetBitsBE(b []byte, off, width uint, v uint64) {
	first, last := off/8, (off+width-1)/8
	_ = b[last]
	v &= mask(width)
	left := width // bits of v still to store, taken from the top
	for i := first; i <= last; i++ {
		start := uint(0)
		if i == first {
			start = off % 8
		}
		n := min(8-start, left) // bits of this byte the field uses, from bit start (MSB first)
		left -= n
		shift := 8 - start - n // position of the lowest of them, from the LSB
		m := byte(mask(n) << shift)
		b[i] = b[i]&^m | byte((v>>left)<<shift)&m
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
