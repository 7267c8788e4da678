//go:build !(armbe || arm64be || mips || mips64 || mips64p32 || ppc64 || s390 || s390x || sparc || sparc64)

package bpfskel

// Uint128 is a C unsigned __int128: Lo holds bits 0..63, Hi bits 64..127.
// On this little-endian GOARCH, Lo comes first in memory.
type Uint128 struct {
	Lo, Hi uint64
}

// Int128 is a C __int128 in two's complement: Lo holds bits 0..63 and Hi,
// signed, bits 64..127. On this little-endian GOARCH, Lo comes first in
// memory.
type Int128 struct {
	Lo uint64
	Hi int64
}
