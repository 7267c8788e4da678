//go:build !unix

package bpfskel

import (
	"fmt"
	"unsafe"

	"github.com/cilium/ebpf"
)

func mmapShared(fd int, size uintptr) (unsafe.Pointer, int, bool, error) {
	return nil, 0, false, fmt.Errorf("views need mmap: %w", ebpf.ErrNotSupported)
}

func detach(addr unsafe.Pointer, size uintptr, prot int) error {
	return fmt.Errorf("views need mmap: %w", ebpf.ErrNotSupported)
}

func munmap(addr unsafe.Pointer, size uintptr) error {
	return fmt.Errorf("views need mmap: %w", ebpf.ErrNotSupported)
}
