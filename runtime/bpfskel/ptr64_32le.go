//go:build 386 || amd64p32 || arm || mipsle || mips64p32le

package bpfskel

import "unsafe"

// ptr64 is a pointer in a 64-bit field of union bpf_attr (__aligned_u64)
// on a little-endian 32-bit machine: the pointer, then zero high bits.
type ptr64 struct {
	p   unsafe.Pointer
	_hi uint32
}

func mkptr(p unsafe.Pointer) ptr64 { return ptr64{p: p} }
