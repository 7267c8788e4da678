//go:build !386 && !amd64p32 && !arm && !mipsle && !mips64p32le && !armbe && !mips && !mips64p32

package bpfskel

import "unsafe"

// ptr64 is a pointer in a 64-bit field of union bpf_attr (__aligned_u64),
// held as an unsafe.Pointer so that the garbage collector and stack copying
// see it.
type ptr64 struct{ p unsafe.Pointer }

func mkptr(p unsafe.Pointer) ptr64 { return ptr64{p: p} }
