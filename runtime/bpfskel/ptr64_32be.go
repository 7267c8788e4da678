//go:build armbe || mips || mips64p32

package bpfskel

import "unsafe"

// ptr64 is a pointer in a 64-bit field of union bpf_attr (__aligned_u64)
// on a big-endian 32-bit machine: zero high bits, then the pointer.
type ptr64 struct {
	_hi uint32
	p   unsafe.Pointer
}

func mkptr(p unsafe.Pointer) ptr64 { return ptr64{p: p} }
