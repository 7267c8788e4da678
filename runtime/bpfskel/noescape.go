package bpfskel

import "unsafe"

// noescape hides p from escape analysis and returns it unchanged.
//
// Why: (*ebpf.Map).Lookup, Update and Delete take their key and value as
// `any`. cilium/ebpf passes an unsafe.Pointer stored in that interface
// straight to the kernel, but on its other branches it hands the interface
// to sysenc/reflection, so the compiler concludes that the parameters leak
// to the heap. Without noescape, `key` in Lookup(key K) and the caller's
// variables behind LookupInto(&k, &v) would be moved to the heap: one or two
// allocations per call.
//
// Why it is sound (checked against github.com/cilium/ebpf v0.22.0, pinned by
// go.mod; TestStackGrowthDuringSyscall and the AllocsPerRun tests guard it):
//
//   - Only unsafe.Pointer values reach cilium/ebpf, so only its
//     unsafe.Pointer branch runs: marshalMapSyscallInput and
//     makeMapSyscallOutput wrap the pointer in a sys.Pointer, the sys.Pointer
//     goes into a bpf attr struct that stays on the stack ("does not
//     escape"), and the attr's address is converted to uintptr only in the
//     argument list of unix.Syscall, which is nosplit and uintptrkeepalive.
//     At no point is the pointer stored in the heap or in a global, and
//     nothing keeps it after the call returns.
//   - Every holder of the pointer until the syscall is a pointer-typed slot
//     in a stack frame (interface data words, sys.Pointer fields of the
//     attr). If the goroutine stack grows and is copied while cilium/ebpf
//     runs, the runtime adjusts exactly those slots, so the kernel always
//     sees the current address. During the syscall itself the stack cannot
//     move (the goroutine is in a syscall; stack shrinking skips it).
//   - The pointed-to variable stays alive for the whole call: it is a local
//     or parameter of the calling method (address-taken, so never merged
//     with another stack slot) or memory the caller passed in, which remains
//     reachable through the pointer-typed slots above.
//   - The kernel copies keys and values in and out during the syscall
//     (copy_from_user/copy_to_user) and keeps no reference.
//
// The laundering through an integer is what the compiler cannot follow:
// the XOR result of a uintptr carries no points-to information, and reading
// it back as an unsafe.Pointer creates a pointer with no recorded origin.
// The function is nosplit, which also disables checkptr instrumentation
// (that would call into the runtime, and possibly grow the stack, while the
// address is held as an integer); there is no call between the two steps.
//
//go:nosplit
func noescape(p unsafe.Pointer) unsafe.Pointer {
	x := uintptr(p) ^ 0
	return *(*unsafe.Pointer)(unsafe.Pointer(&x))
}
