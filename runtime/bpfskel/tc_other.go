//go:build !linux

package bpfskel

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// tcFilter is a classic TC filter; classic TC attach needs Linux's
// rtnetlink (tc.go).
type tcFilter struct{ link.Link }

func attachTC(_ *ebpf.Program, name, iface string, dir Direction, _ uint16, _ uint32) (*tcFilter, error) {
	return nil, fmt.Errorf("program %q: attach TC %s of %s: classic TC needs Linux: %w", name, dir, iface, ebpf.ErrNotSupported)
}

func tcAttachError(what string, err error, _ capSet, _ bool) error {
	return fmt.Errorf("%s: %w", what, err)
}
