//go:build linux

package bpfskel

import (
	"fmt"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// ReplaceFD is [MapSpec.Replace] with the file descriptor of a map, for
// example one received from another process. The descriptor is
// duplicated: the caller still owns fd.
func (m *MapSpec) ReplaceFD(fd int) error {
	if m == nil {
		return errNilMapSpec
	}
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("map %q: duplicating fd %d: %w", m.name, fd, err)
	}
	em, err := ebpf.NewMapFromFD(dup)
	if err != nil {
		unix.Close(dup)
		return fmt.Errorf("map %q: fd %d: %w", m.name, fd, err)
	}
	if m.replace != nil && m.replaceOwned {
		m.replace.Close()
	}
	m.replace, m.replaceOwned = em, true
	return nil
}
