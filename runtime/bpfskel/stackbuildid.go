package bpfskel

import (
	"encoding/hex"
	"strconv"
	"structs"
)

// StackBuildIDStatus says what a [StackBuildID] frame holds: enum
// bpf_stack_build_id_status of include/uapi/linux/bpf.h.
type StackBuildIDStatus int32

const (
	// StackBuildIDEmpty marks the frames after the end of a stack
	// (BPF_STACK_BUILD_ID_EMPTY).
	StackBuildIDEmpty StackBuildIDStatus = 0
	// StackBuildIDValid: the frame holds the build id of the file its
	// address is mapped from and the address's offset in that file
	// (BPF_STACK_BUILD_ID_VALID).
	StackBuildIDValid StackBuildIDStatus = 1
	// StackBuildIDIP: the kernel could not read a build id for the
	// address (no file behind it, no GNU build id note in the file, or
	// the note not readable without faulting); the frame holds the
	// address itself (BPF_STACK_BUILD_ID_IP).
	StackBuildIDIP StackBuildIDStatus = 2
)

// String returns the status's name, or its number for one this package
// does not know.
func (s StackBuildIDStatus) String() string {
	switch s {
	case StackBuildIDEmpty:
		return "empty"
	case StackBuildIDValid:
		return "valid"
	case StackBuildIDIP:
		return "ip"
	}
	return "StackBuildIDStatus(" + strconv.Itoa(int(s)) + ")"
}

// StackBuildIDSize is BPF_BUILD_ID_SIZE, the bytes of a build id the
// kernel stores: a SHA-1 build id fills them, a shorter one is padded with
// zeros.
const StackBuildIDSize = 20

// StackBuildID mirrors struct bpf_stack_build_id of include/uapi/linux/bpf.h
// byte for byte (32 bytes: status at 0, build_id at 4, the offset/ip union
// at 24): one frame of a stack that bpf_get_stackid stored in a
// STACK_TRACE map created with BPF_F_STACK_BUILD_ID. Such a map's value is
// [value_size/32]StackBuildID; a stack shorter than that ends with
// [StackBuildIDEmpty] frames. Generated skeletons bind the map as a
// [StackTraceMap] of that array.
type StackBuildID struct {
	_ structs.HostLayout
	// Status says which of BuildID and Offset, or IP, hold the frame.
	Status StackBuildIDStatus
	// BuildID is the build id of the file the frame's address is mapped
	// from, when Status is StackBuildIDValid.
	BuildID [StackBuildIDSize]byte
	// offsetOrIP is the union { __u64 offset; __u64 ip; }.
	offsetOrIP uint64
}

// Offset returns the frame's offset in the file its build id names, and
// true, when Status is [StackBuildIDValid]; otherwise 0 and false.
func (f StackBuildID) Offset() (uint64, bool) {
	if f.Status != StackBuildIDValid {
		return 0, false
	}
	return f.offsetOrIP, true
}

// IP returns the frame's instruction address, and true, when Status is
// [StackBuildIDIP]; otherwise 0 and false.
func (f StackBuildID) IP() (uint64, bool) {
	if f.Status != StackBuildIDIP {
		return 0, false
	}
	return f.offsetOrIP, true
}

// String returns the frame as "valid <build id in hex>+0x<offset>",
// "ip 0x<address>" or "empty".
func (f StackBuildID) String() string {
	switch f.Status {
	case StackBuildIDValid:
		return "valid " + hex.EncodeToString(f.BuildID[:]) + "+0x" + strconv.FormatUint(f.offsetOrIP, 16)
	case StackBuildIDIP:
		return "ip 0x" + strconv.FormatUint(f.offsetOrIP, 16)
	case StackBuildIDEmpty:
		return "empty"
	}
	return f.Status.String()
}
