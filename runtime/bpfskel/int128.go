package bpfskel

import (
	"encoding/binary"
	"math/big"
)

// Uint128 and Int128 mirror C's unsigned __int128 and __int128. Their
// memory layout is the host's: the low half first on little-endian
// GOARCHes, the high half first on big-endian ones (int128_le.go,
// int128_be.go). A generated skeleton only builds on GOARCHes with its
// object's byte order, so a Uint128 field in it holds exactly the object's
// 16 bytes. Go aligns them to 8 bytes (4 on 386 and arm) where C aligns
// __int128 to 16; the generated layout guards pin every offset, so the
// difference only shows as explicit padding.

// Uint128FromBig returns the low 128 bits of x, as C converts to unsigned
// __int128 (two's complement for a negative x).
func Uint128FromBig(x *big.Int) Uint128 {
	var b [16]byte
	new(big.Int).And(x, mask128).FillBytes(b[:])
	return Uint128{Hi: binary.BigEndian.Uint64(b[:8]), Lo: binary.BigEndian.Uint64(b[8:])}
}

// mask128 is 2^128-1; pow128 is 2^128. Neither is ever modified.
var (
	pow128  = new(big.Int).Lsh(big.NewInt(1), 128)
	mask128 = new(big.Int).Sub(pow128, big.NewInt(1))
)

// Big returns u as a big.Int.
func (u Uint128) Big() *big.Int {
	x := new(big.Int).SetUint64(u.Hi)
	x.Lsh(x, 64)
	return x.Or(x, new(big.Int).SetUint64(u.Lo))
}

// String returns u in decimal.
func (u Uint128) String() string { return u.Big().String() }

// IsZero reports whether u is 0.
func (u Uint128) IsZero() bool { return u.Lo == 0 && u.Hi == 0 }

// Int128FromBig returns the low 128 bits of x as a two's complement
// Int128, as C converts to __int128.
func Int128FromBig(x *big.Int) Int128 {
	u := Uint128FromBig(x)
	return Int128{Lo: u.Lo, Hi: int64(u.Hi)}
}

// Int128FromInt64 returns v sign-extended to 128 bits.
func Int128FromInt64(v int64) Int128 { return Int128{Lo: uint64(v), Hi: v >> 63} }

// Big returns i as a big.Int.
func (i Int128) Big() *big.Int {
	x := Uint128{Lo: i.Lo, Hi: uint64(i.Hi)}.Big()
	if i.Hi < 0 {
		x.Sub(x, pow128)
	}
	return x
}

// String returns i in decimal.
func (i Int128) String() string { return i.Big().String() }
