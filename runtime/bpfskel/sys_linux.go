//go:build linux

package bpfskel

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// The bpf(2) calls below are written by hand because cilium/ebpf v0.22 has
// no allocation-free way to make them:
//
//   - (*ebpf.Map).Lookup/Update on a per-CPU map refuse an unsafe.Pointer
//     value, take the value as a slice through reflection and allocate a
//     byte buffer per call (BenchmarkLookup/percpu_array/cilium-generic:
//     allocations per op; /bpfskel and /raw-syscall: none);
//   - (*ebpf.Map).BatchLookup/BatchUpdate/BatchDelete take keys and values
//     as `any` slices, measure them by reflection and box them (5 allocs
//     per BatchLookup: BenchmarkIterate/<kind>/cilium-batch vs
//     /bpfskel-batch, 0), and BatchLookup decodes a value type with
//     unexported fields by reflection, which panics for the generated
//     mirror of any struct holding a union (TestBatchLookupUnion);
//   - (*ebpf.Map).LookupAndDelete allocates its error on a miss, the normal
//     outcome of popping an empty queue (TestZeroAllocsKinds).
//
//   - (*ebpf.Map).Lookup/Update/Delete with unsafe.Pointer arguments do not
//     allocate, but Map's element operations through them measured
//     1.07-1.11x the raw system call and 1.03-1.05x through sysElem
//     (BenchmarkLookup and BenchmarkUpdate, scripts/bench.sh's x raw med
//     column), so Map calls sysElem too.
//
// The single-element operations of the other handles still go through
// cilium/ebpf (see noescape.go).
//
// Every pointer reaches the kernel inside an attr struct that lives on this
// goroutine's stack and is passed by address in the argument list of
// unix.Syscall (nosplit, uintptrkeepalive): the attr and everything it
// points to stay alive and in place until the kernel returns, and the
// kernel keeps no reference.

// elemAttr is the BPF_MAP_*_ELEM and BPF_MAP_GET_NEXT_KEY part of union
// bpf_attr (value is next_key for GET_NEXT_KEY).
type elemAttr struct {
	mapFD uint32
	_     uint32
	key   ptr64
	value ptr64
	flags uint64
}

// batchAttr is the BPF_MAP_*_BATCH part of union bpf_attr.
type batchAttr struct {
	inBatch   ptr64
	outBatch  ptr64
	keys      ptr64
	values    ptr64
	count     uint32
	mapFD     uint32
	elemFlags uint64
	flags     uint64
}

const (
	cmdLookupElem           = unix.BPF_MAP_LOOKUP_ELEM
	cmdUpdateElem           = unix.BPF_MAP_UPDATE_ELEM
	cmdDeleteElem           = unix.BPF_MAP_DELETE_ELEM
	cmdGetNextKey           = unix.BPF_MAP_GET_NEXT_KEY
	cmdLookupAndDeleteElem  = unix.BPF_MAP_LOOKUP_AND_DELETE_ELEM
	cmdLookupBatch          = unix.BPF_MAP_LOOKUP_BATCH
	cmdUpdateBatch          = unix.BPF_MAP_UPDATE_BATCH
	cmdDeleteBatch          = unix.BPF_MAP_DELETE_BATCH
	cmdLookupAndDeleteBatch = unix.BPF_MAP_LOOKUP_AND_DELETE_BATCH
)

// sysElem runs a single-element map command on fd.
func sysElem(cmd uintptr, fd int, key, value unsafe.Pointer, flags uint64) error {
	attr := elemAttr{mapFD: uint32(fd), key: mkptr(key), value: mkptr(value), flags: flags}
	_, _, errno := unix.Syscall(unix.SYS_BPF, cmd, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		return sysError(errno)
	}
	return nil
}

// sysBatch runs a batch map command on fd over count entries and returns
// how many the kernel processed (it sets the count on errors too).
func sysBatch(cmd uintptr, fd int, inBatch, outBatch, keys, values unsafe.Pointer, count uint32, elemFlags uint64) (int, error) {
	attr := batchAttr{
		inBatch: mkptr(inBatch), outBatch: mkptr(outBatch),
		keys: mkptr(keys), values: mkptr(values),
		count: count, mapFD: uint32(fd), elemFlags: elemFlags,
	}
	_, _, errno := unix.Syscall(unix.SYS_BPF, cmd, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		return int(attr.count), sysError(errno)
	}
	return int(attr.count), nil
}

// enotsupp is the kernel-internal ENOTSUPP (524) that bpf(2) returns for a
// command the map type does not implement.
const enotsupp = unix.Errno(524)

// Preallocated errors for the outcomes callers test with errors.Is, so that
// the common failure paths (a miss, an existing key, an empty queue) do not
// allocate. Each wraps the cilium/ebpf sentinel and the errno.
var (
	errSysKeyNotExist  = fmt.Errorf("%w (%w)", ebpf.ErrKeyNotExist, unix.ENOENT)
	errSysKeyExist     = fmt.Errorf("%w (%w)", ebpf.ErrKeyExist, unix.EEXIST)
	errSysNotSupported = fmt.Errorf("%w (ENOTSUPP)", ebpf.ErrNotSupported)
)

func sysError(errno unix.Errno) error {
	switch errno {
	case unix.ENOENT:
		return errSysKeyNotExist
	case unix.EEXIST:
		return errSysKeyExist
	case enotsupp:
		return errSysNotSupported
	}
	return errno
}

// batchUnsupported reports whether err says the map has no batch
// operations: ENOTSUPP from a map type without them, EINVAL from a kernel
// older than 5.6 that does not know the command.
func batchUnsupported(err error) bool {
	return errors.Is(err, ebpf.ErrNotSupported) || errors.Is(err, unix.EINVAL)
}

// batchTooSmall reports whether a hash map refused a batch because one of
// its buckets holds more entries than the batch has room for.
func batchTooSmall(err error) bool { return errors.Is(err, unix.ENOSPC) }
