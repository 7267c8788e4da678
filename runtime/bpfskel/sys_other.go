//go:build !linux

package bpfskel

import (
	"fmt"
	"runtime"
	"unsafe"

	"github.com/cilium/ebpf"
)

const (
	cmdLookupElem = iota + 1
	cmdUpdateElem
	cmdDeleteElem
	cmdGetNextKey
	cmdLookupAndDeleteElem
	cmdLookupBatch
	cmdUpdateBatch
	cmdDeleteBatch
	cmdLookupAndDeleteBatch
)

var errNoBPF = fmt.Errorf("bpf(2) on %s: %w", runtime.GOOS, ebpf.ErrNotSupported)

// errSysKeyNotExist is sys_linux.go's miss; sysElem never returns it here.
var errSysKeyNotExist = fmt.Errorf("%w", ebpf.ErrKeyNotExist)

func sysElem(cmd uintptr, fd int, key, value unsafe.Pointer, flags uint64) error {
	return errNoBPF
}

func sysBatch(cmd uintptr, fd int, inBatch, outBatch, keys, values unsafe.Pointer, count uint32, elemFlags uint64) (int, error) {
	return 0, errNoBPF
}

func batchUnsupported(err error) bool { return true }

func batchTooSmall(err error) bool { return false }
