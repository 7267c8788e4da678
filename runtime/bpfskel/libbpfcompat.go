package bpfskel

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"

	"github.com/bpfskel/bpfskel/internal/elfweak"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/features"
)

// Kconfig externs that libbpf resolves and cilium/ebpf v0.22 does not.
// cilium's resolveKconfig knows LINUX_KERNEL_VERSION,
// LINUX_HAS_SYSCALL_WRAPPER and CONFIG_* (read from the kernel's config
// file); any other name in .kconfig is looked up in the config file and
// fails the load ("config option ... does not exist on this kernel").
// libbpf's usdt.bpf.h reads LINUX_HAS_BPF_COOKIE.
//
// bpfskel resolves these itself, without touching cilium's .kconfig map
// (which keeps its CONFIG_* values): at Open it takes the variables out of
// the .kconfig Datasec cilium resolves, and turns each instruction that
// loads the address of one into a load from a small array map of
// bpfskel's, at the same offset; at Load it creates that map, fills it and
// freezes it (a frozen BPF_F_RDONLY_PROG map: the verifier reads its
// values as constants, as with libbpf's .kconfig), and hands it to the
// programs. The collection keeps it for BindFrozenSection (frozen.go).
const kconfigBPFCookie = "LINUX_HAS_BPF_COOKIE"

// kconfigExterns are the externs bpfskel resolves; they may be bound weak
// in the object (see internal/elfweak).
var kconfigExterns = elfweak.ResolvedExterns

// kconfigExtra is what Open took out of .kconfig: the section's size and
// the variables bpfskel resolves, with their offsets and types.
type kconfigExtra struct {
	size uint32
	vars []kconfigVar
	only bool // the section has no other variables
}

type kconfigVar struct {
	name         string
	offset, size uint32
	typ          btf.Type
}

// takeKconfigExtra removes the externs bpfskel resolves from spec's
// .kconfig and redirects the instructions that read them (see above); obj
// is the object spec was parsed from. It returns nil when the object
// declares none of them.
func takeKconfigExtra(obj []byte, spec *ebpf.CollectionSpec) (*kconfigExtra, error) {
	if spec.Types == nil {
		return nil, nil
	}
	var ds *btf.Datasec
	if err := spec.Types.TypeByName(".kconfig", &ds); err != nil {
		return nil, nil // no .kconfig
	}
	var x kconfigExtra
	kept := ds.Vars[:0:0]
	names := map[string]bool{}
	for _, vs := range ds.Vars {
		v, ok := vs.Type.(*btf.Var)
		if !ok || !kconfigExterns[v.Name] {
			kept = append(kept, vs)
			continue
		}
		x.vars = append(x.vars, kconfigVar{name: v.Name, offset: vs.Offset, size: vs.Size, typ: v.Type})
		names[v.Name] = true
	}
	if len(x.vars) == 0 {
		return nil, nil
	}
	x.size, x.only = ds.Size, len(kept) == 0
	// cilium/ebpf marks the instructions that read a .kconfig extern with
	// private metadata only (not even a reference name), so they are found
	// through the object's relocations: function and offset in it.
	sites, err := externLoads(obj, names)
	if err != nil {
		return nil, fmt.Errorf(".kconfig: %w", err)
	}
	// The Datasec is the one cilium's parsed .kconfig MapSpec holds (the
	// programs' instructions point at that MapSpec, not at spec.Maps): it
	// resolves only what is left.
	ds.Vars = kept
	for _, p := range spec.Programs {
		fn, off := "", uint64(0)
		for i := range p.Instructions {
			ins := &p.Instructions[i]
			if s := ins.Symbol(); s != "" {
				fn, off = s, 0
			}
			at := off
			off += ins.Size()
			name, ok := sites[funcOffset{fn, at}]
			if !ok {
				continue
			}
			if !ins.IsLoadFromMap() || ins.Src != asm.PseudoMapValue {
				return nil, fmt.Errorf(".kconfig: program %q: %s+%d reads %s but is not a .kconfig load (%v)", p.Name, fn, at, name, *ins)
			}
			var v kconfigVar
			for _, v = range x.vars {
				if v.name == name {
					break
				}
			}
			// A fresh instruction drops cilium's private .kconfig
			// metadata; the public metadata is carried over.
			n := asm.Instruction{OpCode: ins.OpCode, Dst: ins.Dst, Src: asm.PseudoMapValue, Offset: ins.Offset, Constant: int64(uint64(v.offset) << 32)}
			if s := ins.Symbol(); s != "" {
				n = n.WithSymbol(s)
			}
			if src := ins.Source(); src != nil {
				n = n.WithSource(src)
			}
			if f := btf.FuncMetadata(ins); f != nil {
				n = btf.WithFuncMetadata(n, f)
			}
			*ins = n.WithReference(kconfigExtraRef)
		}
	}
	return &x, nil
}

// funcOffset is a byte offset in a BPF function.
type funcOffset struct {
	fn  string
	off uint64
}

// externLoads returns, for every relocation of obj's code against a
// symbol in names, the function and offset of the relocated instruction.
func externLoads(obj []byte, names map[string]bool) (map[funcOffset]string, error) {
	f, err := elf.NewFile(bytes.NewReader(obj))
	if err != nil {
		return nil, err
	}
	syms, err := f.Symbols()
	if err != nil {
		return nil, err
	}
	sites := map[funcOffset]string{}
	for _, rs := range f.Sections {
		if rs.Type != elf.SHT_REL || int(rs.Info) >= len(f.Sections) {
			continue
		}
		target := elf.SectionIndex(rs.Info)
		if f.Sections[target].Flags&elf.SHF_EXECINSTR == 0 {
			continue // relocations of BTF, .maps, ...: not code
		}
		data, err := rs.Data()
		if err != nil {
			return nil, fmt.Errorf("section %s: %w", rs.Name, err)
		}
		for i := 0; i+16 <= len(data); i += 16 {
			at := f.ByteOrder.Uint64(data[i:])
			sym := f.ByteOrder.Uint64(data[i+8:]) >> 32
			if sym == 0 || sym > uint64(len(syms)) || !names[syms[sym-1].Name] {
				continue
			}
			fn := ""
			for _, s := range syms {
				if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Section == target && at >= s.Value && at < s.Value+s.Size {
					fn = s.Name
					break
				}
			}
			if fn == "" {
				return nil, fmt.Errorf("the read of %s at %s+%d is in no function", syms[sym-1].Name, f.Sections[target].Name, at)
			}
			sites[funcOffset{fn, at - funcStart(syms, fn, target)}] = syms[sym-1].Name
		}
	}
	return sites, nil
}

func funcStart(syms []elf.Symbol, fn string, sec elf.SectionIndex) uint64 {
	for _, s := range syms {
		if s.Name == fn && s.Section == sec && elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			return s.Value
		}
	}
	return 0
}

// kconfigExtraRef marks the redirected instructions until Load associates
// them with the map.
const kconfigExtraRef = "bpfskel:kconfig"

// haveBPFCookie reports whether uprobes (and kprobes) take a BPF cookie:
// the bpf_get_attach_cookie helper, Linux 5.15.
func haveBPFCookie() (bool, error) {
	err := features.HaveProgramHelper(ebpf.Kprobe, asm.FnGetAttachCookie)
	if errors.Is(err, ebpf.ErrNotSupported) {
		return false, nil
	}
	return err == nil, err
}

// value resolves the variables into a section-sized buffer.
func (x *kconfigExtra) value() ([]byte, error) {
	data := make([]byte, x.size)
	for _, v := range x.vars {
		if v.offset >= x.size {
			return nil, fmt.Errorf(".kconfig: %s at offset %d lies past the section's %d bytes", v.name, v.offset, x.size)
		}
		switch v.name {
		case kconfigBPFCookie:
			in, ok := btf.UnderlyingType(v.typ).(*btf.Int)
			if !ok || in.Size != 1 {
				return nil, fmt.Errorf(".kconfig: %s must be a 1-byte integer or _Bool, is %s", v.name, v.typ)
			}
			have, err := haveBPFCookie()
			if err != nil {
				return nil, fmt.Errorf(".kconfig: %s: probing bpf_get_attach_cookie: %w", v.name, err)
			}
			if have {
				data[v.offset] = 1
			}
		}
	}
	return data, nil
}

// newMap creates the frozen, program-read-only array holding the values.
func (x *kconfigExtra) newMap() (*ebpf.Map, error) {
	data, err := x.value()
	if err != nil {
		return nil, err
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{
		Name:       "bpfskel_kconfig",
		Type:       ebpf.Array,
		KeySize:    4,
		ValueSize:  x.size,
		MaxEntries: 1,
		Flags:      bpfFRdonlyProg,
	})
	if err != nil {
		return nil, fmt.Errorf(".kconfig: map for %s: %w", x.vars[0].name, err)
	}
	if err := m.Put(uint32(0), data); err != nil {
		m.Close()
		return nil, fmt.Errorf(".kconfig: map for %s: %w", x.vars[0].name, err)
	}
	if err := m.Freeze(); err != nil {
		m.Close()
		return nil, fmt.Errorf(".kconfig: map for %s: freeze: %w", x.vars[0].name, err)
	}
	return m, nil
}

// withKconfigExtra returns cs with copies of the programs that read the
// externs, their instructions pointing at m. cs is not changed.
func withKconfigExtra(cs *ebpf.CollectionSpec, m *ebpf.Map) (*ebpf.CollectionSpec, error) {
	shallow := *cs
	shallow.Programs = make(map[string]*ebpf.ProgramSpec, len(cs.Programs))
	for name, p := range cs.Programs {
		uses := false
		for i := range p.Instructions {
			if p.Instructions[i].Reference() == kconfigExtraRef {
				uses = true
				break
			}
		}
		if !uses {
			shallow.Programs[name] = p
			continue
		}
		cp := p.Copy()
		for i := range cp.Instructions {
			if cp.Instructions[i].Reference() == kconfigExtraRef {
				if err := cp.Instructions[i].AssociateMap(m); err != nil {
					return nil, fmt.Errorf("program %q: .kconfig: %w", name, err)
				}
			}
		}
		shallow.Programs[name] = cp
	}
	return &shallow, nil
}

// staticHiddenFuncs gives the BPF functions the object defines global or
// weak but hidden (__hidden, STV_HIDDEN) static linkage in their BTF, as
// libbpf does when it loads: the verifier then checks each call in the
// caller's context instead of checking the function once on its own with
// unknown arguments. usdt.bpf.h's bpf_usdt_arg and friends are __weak
// __hidden and verify only this way (their pointer arguments would
// otherwise be "mem_or_null"). cilium/ebpf v0.22 keeps the linkage clang
// wrote.
func staticHiddenFuncs(hidden map[string]bool, spec *ebpf.CollectionSpec) {
	if len(hidden) == 0 {
		return
	}
	for _, p := range spec.Programs {
		for i := range p.Instructions {
			ins := &p.Instructions[i]
			fn := btf.FuncMetadata(ins)
			if fn == nil || fn.Linkage != btf.GlobalFunc || !hidden[fn.Name] {
				continue
			}
			cp := *fn
			cp.Linkage = btf.StaticFunc
			*ins = btf.WithFuncMetadata(*ins, &cp)
		}
	}
}

// hiddenFuncs returns the names of the functions obj defines global or
// weak but hidden, for staticHiddenFuncs.
func hiddenFuncs(obj []byte) (map[string]bool, error) {
	f, err := elf.NewFile(bytes.NewReader(obj))
	if err != nil {
		return nil, err
	}
	syms, err := f.Symbols()
	if err != nil {
		return nil, nil // no symbol table: nothing is hidden
	}
	var hidden map[string]bool
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && elf.ST_BIND(s.Info) != elf.STB_LOCAL &&
			elf.ST_VISIBILITY(s.Other) == elf.STV_HIDDEN && s.Section != elf.SHN_UNDEF {
			if hidden == nil {
				hidden = map[string]bool{}
			}
			hidden[s.Name] = true
		}
	}
	return hidden, nil
}

// loadable is an object as cilium/ebpf v0.22 can parse it: its bytes
// after elfweak.Global, and what staticHiddenFuncs needs of its symbols.
type loadable struct {
	obj    []byte
	hidden map[string]bool
}

// makeLoadable prepares elf, which passed elfcheck.Check, for open.
func makeLoadable(elf []byte) (loadable, error) {
	// A copy with defined weak symbols bound global: cilium/ebpf v0.22
	// refuses weak map symbols, which libbpf's usdt.bpf.h defines.
	obj, _, err := elfweak.Global(elf, kconfigExterns)
	if err != nil {
		return loadable{}, err
	}
	hidden, err := hiddenFuncs(obj)
	if err != nil {
		return loadable{}, err
	}
	return loadable{obj: obj, hidden: hidden}, nil
}
