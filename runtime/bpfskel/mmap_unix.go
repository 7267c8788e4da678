//go:build unix

package bpfskel

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmapShared maps size bytes of the map behind fd. The kernel refuses a
// writable shared mapping of a frozen map (EPERM) and of a
// BPF_F_RDONLY_PROG map (EACCES): those are mapped read-only instead.
func mmapShared(fd int, size uintptr) (addr unsafe.Pointer, prot int, ro bool, err error) {
	prot = unix.PROT_READ | unix.PROT_WRITE
	addr, err = unix.MmapPtr(fd, 0, nil, size, prot, unix.MAP_SHARED)
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		ro, prot = true, unix.PROT_READ
		addr, err = unix.MmapPtr(fd, 0, nil, size, prot, unix.MAP_SHARED)
	}
	if err != nil {
		return nil, 0, false, err
	}
	return addr, prot, ro, nil
}

// detach atomically replaces the mapping at addr with private anonymous
// memory of the same size and protection: the kernel drops its reference
// to the map, and the address range stays valid for racing readers.
func detach(addr unsafe.Pointer, size uintptr, prot int) error {
	_, err := unix.MmapPtr(-1, 0, addr, size, prot, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED)
	return err
}

// munmap releases an address range once nothing can reach it.
func munmap(addr unsafe.Pointer, size uintptr) error {
	return unix.MunmapPtr(addr, size)
}
