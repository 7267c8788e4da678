//go:build !linux

package bpfskel

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// ReplaceFD is [MapSpec.Replace] with the file descriptor of a map; it
// needs Linux.
func (m *MapSpec) ReplaceFD(fd int) error {
	return fmt.Errorf("map %q: ReplaceFD: %w", m.name, ebpf.ErrNotSupported)
}
