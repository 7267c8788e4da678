package bpfskel

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
)

// ErrLoaderRefused is wrapped by the error of [Open] when cilium/ebpf
// cannot parse a well-formed BPF object (it relocates every program while
// it parses, and refuses some shapes libbpf loads: __weak maps, typed
// .ksyms variables, relocations it has no rule for). A skeleton generated
// from such an object was read from its BTF instead, so its types are
// valid; only loading through cilium/ebpf is impossible.
var ErrLoaderRefused = errors.New("cilium/ebpf cannot load this object")

// openError explains a parse failure of the object obj called name.
func openError(name string, obj []byte, err error) error {
	f, ferr := elf.NewFile(bytes.NewReader(obj))
	if ferr != nil || f.Machine != elf.EM_BPF || f.Section(".BTF") == nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return fmt.Errorf("%s: %w: %w; the skeleton's types still mirror the object (they were generated from its BTF), but its maps and programs cannot be loaded through cilium/ebpf", name, ErrLoaderRefused, err)
}
