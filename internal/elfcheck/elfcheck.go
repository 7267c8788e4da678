// Package elfcheck bounds what an ELF object may claim before
// cilium/ebpf reads it. cilium/ebpf trusts the sizes in section headers
// when it allocates: it makes a zeroed buffer of a NOBITS section's size
// (.bss) and sizes instruction slices from symbol sizes that it checks only
// against the section's claimed size. A few hostile bytes could then make
// it allocate gigabytes. btfmodel (the generator) and the runtime's Open
// both check objects here first.
package elfcheck

import (
	"bytes"
	"debug/elf"
	"fmt"
)

// MaxNoBitsSize is the largest zero-filled section (.bss and friends) an
// object may have: 256 MiB. The kernel would take up to 2 GiB as an array
// value, but a BPF program needing more than this is not plausible, and
// each load allocates the whole section in the process.
const MaxNoBitsSize = 256 << 20

// NotELFError is Check's error for bytes that do not parse as ELF.
type NotELFError struct{ Err error }

func (e *NotELFError) Error() string { return e.Err.Error() }
func (e *NotELFError) Unwrap() error { return e.Err }

// Check parses data as an ELF file and checks that every section with
// contents lies inside the file and that no zero-filled section is larger
// than MaxNoBitsSize. Its errors say what is wrong and that the object is
// damaged; the caller prefixes the file name.
func Check(data []byte) (*elf.File, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, &NotELFError{Err: err}
	}
	size := uint64(len(data))
	for _, sec := range f.Sections {
		switch sec.Type {
		case elf.SHT_NULL:
		case elf.SHT_NOBITS:
			if sec.Size > MaxNoBitsSize {
				return nil, fmt.Errorf("section %q: claims %d zero-filled bytes, more than the %d (256 MiB) bpfskel accepts for one data section", sec.Name, sec.Size, MaxNoBitsSize)
			}
		default:
			if sec.Offset > size || sec.Size > size-sec.Offset {
				return nil, fmt.Errorf("section %q: claims %d bytes at offset %d, past the end of the %d-byte file (truncated or damaged object)", sec.Name, sec.Size, sec.Offset, size)
			}
		}
	}
	return f, nil
}
