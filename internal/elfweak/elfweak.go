// Package elfweak rewrites the symbol bindings of a BPF object that
// cilium/ebpf v0.22 refuses but libbpf loads, so that both the generator
// (btfmodel) and the runtime's Open parse objects built against libbpf's
// usdt.bpf.h.
//
// usdt.bpf.h defines its maps (__bpf_usdt_specs, __bpf_usdt_ip_to_spec_id)
// and helpers (bpf_usdt_arg, ...) __weak, so that several object files may
// carry them and the linker keeps one. In a final object a defined weak
// symbol binds exactly like a global one: libbpf treats STB_WEAK and
// STB_GLOBAL alike when it loads. cilium/ebpf v0.22's
// (*elfCode).relocateInstruction refuses a map relocation whose symbol is
// STB_WEAK ("unsupported binding: STB_WEAK"), and a .kconfig extern that is
// STB_WEAK likewise. Global returns a copy of the object in which every
// defined weak symbol, and every undefined weak symbol named in externs, is
// STB_GLOBAL; the original bytes (those the skeleton embeds and digests)
// are never changed.
package elfweak

import (
	"bytes"
	"debug/elf"
	"fmt"
)

// ResolvedExterns are the .kconfig externs libbpf knows and cilium/ebpf
// v0.22 does not, which bpfskel's runtime resolves itself
// (runtime/bpfskel/libbpfcompat.go): libbpf's usdt.bpf.h reads
// LINUX_HAS_BPF_COOKIE, declared weak in some libbpf versions.
var ResolvedExterns = map[string]bool{"LINUX_HAS_BPF_COOKIE": true}

// Global returns obj with the weak symbols described in the package doc
// made global, and whether anything changed. When nothing changes it
// returns obj itself, else a modified copy. Undefined weak symbols not in
// externs stay weak (cilium/ebpf then reports them), since binding an
// extern the loader cannot resolve as global would change its meaning
// (a weak extern may be missing; a global one may not).
func Global(obj []byte, externs map[string]bool) ([]byte, bool, error) {
	f, err := elf.NewFile(bytes.NewReader(obj))
	if err != nil {
		return obj, false, err
	}
	if f.Class != elf.ELFCLASS64 {
		return obj, false, nil // BPF objects are ELF64; leave anything else to the loader's errors
	}
	symtab := f.SectionByType(elf.SHT_SYMTAB)
	if symtab == nil || symtab.Entsize < elf.Sym64Size {
		return obj, false, nil
	}
	syms, err := f.Symbols() // skips the null symbol: syms[i] is entry i+1
	if err != nil {
		return obj, false, nil
	}
	var out []byte
	for i, s := range syms {
		if elf.ST_BIND(s.Info) != elf.STB_WEAK {
			continue
		}
		if s.Section == elf.SHN_UNDEF && !externs[s.Name] {
			continue
		}
		// st_info is the byte after st_name (4 bytes) in Elf64_Sym.
		at := symtab.Offset + uint64(i+1)*symtab.Entsize + 4
		if at >= uint64(len(obj)) || symtab.Offset+symtab.Size > uint64(len(obj)) {
			return obj, false, fmt.Errorf("symbol table lies outside the file")
		}
		if out == nil {
			out = bytes.Clone(obj)
		}
		out[at] = byte(elf.ST_INFO(elf.STB_GLOBAL, elf.ST_TYPE(s.Info)))
	}
	if out == nil {
		return obj, false, nil
	}
	return out, true, nil
}
