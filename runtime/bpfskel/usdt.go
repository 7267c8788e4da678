package bpfskel

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
)

// USDT (user statically defined tracepoints, <sys/sdt.h> probes) works as
// libbpf's does (tools/lib/bpf/usdt.c): the BPF side is libbpf's
// usdt.bpf.h, whose BPF_USDT/bpf_usdt_arg read each argument as a
// struct __bpf_usdt_spec in the __bpf_usdt_specs array map says, found by
// the BPF cookie of the uprobe. Attaching reads the probe's notes from the
// binary's .note.stapsdt, writes one spec per distinct argument string
// into __bpf_usdt_specs and attaches a uprobe at each probe site with the
// spec's index as its cookie, and the semaphore's file offset, when the
// probe has one, as the uprobe's reference counter (the kernel then
// increments the semaphore while the probe is attached).
//
// Not supported: kernels without BPF cookies (before Linux 5.15; libbpf
// falls back to the __bpf_usdt_ip_to_spec_id map there, bpfskel fails
// with an error saying so), binaries of architectures other than x86-64,
// and x86-64 argument locations with an index register (SIB addressing,
// "8@-8(%rbp,%rax,8)"), which the struct __bpf_usdt_arg_spec of the
// usdt.bpf.h this was written against cannot describe.

// usdtNoteType is NT_STAPSDT, the type of a .note.stapsdt note.
const usdtNoteType = 3

// usdtNote is one probe site as its .note.stapsdt note records it.
type usdtNote struct {
	Provider, Name string
	PC             uint64 // the probe's address (a link-time virtual address)
	Base           uint64 // the address of .stapsdt.base at link time
	Semaphore      uint64 // the semaphore's address, 0 when the probe has none
	Args           string // "-4@%edi 8@-8(%rbp) ..."
}

// readUSDTNotes returns the notes of f's .note.stapsdt section, in order.
// A binary without the section has no USDT probes: nil, nil.
func readUSDTNotes(f *elf.File) ([]usdtNote, error) {
	sec := f.Section(".note.stapsdt")
	if sec == nil {
		return nil, nil
	}
	if sec.Type != elf.SHT_NOTE {
		return nil, fmt.Errorf(".note.stapsdt is %s, not a note section", sec.Type)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf(".note.stapsdt: %w", err)
	}
	addrSize := 8
	if f.Class == elf.ELFCLASS32 {
		addrSize = 4
	}
	return parseUSDTNotes(data, f.ByteOrder, addrSize)
}

// parseUSDTNotes parses the bytes of a .note.stapsdt section: notes of
// (namesz, descsz, type) then the name and the descriptor, each padded to 4
// bytes; a stapsdt descriptor is three addresses (pc, base, semaphore) and
// three NUL-terminated strings (provider, name, arguments).
func parseUSDTNotes(data []byte, bo binary.ByteOrder, addrSize int) ([]usdtNote, error) {
	align := func(n uint64) uint64 { return (n + 3) &^ 3 }
	var notes []usdtNote
	for off := uint64(0); off < uint64(len(data)); {
		if uint64(len(data))-off < 12 {
			return nil, fmt.Errorf(".note.stapsdt: truncated note header at offset %d", off)
		}
		namesz := uint64(bo.Uint32(data[off:]))
		descsz := uint64(bo.Uint32(data[off+4:]))
		typ := bo.Uint32(data[off+8:])
		nameAt := off + 12
		descAt := nameAt + align(namesz)
		end := descAt + align(descsz)
		if namesz > uint64(len(data)) || descsz > uint64(len(data)) || descAt+descsz > uint64(len(data)) {
			return nil, fmt.Errorf(".note.stapsdt: note at offset %d runs past the section", off)
		}
		name := string(bytes.TrimRight(data[nameAt:nameAt+namesz], "\x00"))
		desc := data[descAt : descAt+descsz]
		off = end
		if name != "stapsdt" || typ != usdtNoteType {
			continue // another owner's note: not a probe
		}
		n, err := parseUSDTDesc(desc, bo, addrSize)
		if err != nil {
			return nil, fmt.Errorf(".note.stapsdt: note %d: %w", len(notes), err)
		}
		notes = append(notes, n)
	}
	return notes, nil
}

func parseUSDTDesc(desc []byte, bo binary.ByteOrder, addrSize int) (usdtNote, error) {
	var n usdtNote
	if len(desc) < 3*addrSize {
		return n, fmt.Errorf("descriptor of %d bytes is shorter than its three addresses", len(desc))
	}
	addr := func(i int) uint64 {
		if addrSize == 4 {
			return uint64(bo.Uint32(desc[i*4:]))
		}
		return bo.Uint64(desc[i*8:])
	}
	n.PC, n.Base, n.Semaphore = addr(0), addr(1), addr(2)
	strs := desc[3*addrSize:]
	var fields [3]string
	for i := range fields {
		j := bytes.IndexByte(strs, 0)
		if j < 0 {
			return n, fmt.Errorf("descriptor ends inside its %s string", [...]string{"provider", "name", "arguments"}[i])
		}
		fields[i], strs = string(strs[:j]), strs[j+1:]
	}
	n.Provider, n.Name, n.Args = fields[0], fields[1], fields[2]
	if n.Provider == "" || n.Name == "" {
		return n, errors.New("probe without a provider or a name")
	}
	return n, nil
}

// usdtSite is a probe site ready to attach: the file offsets of the probe
// and of its semaphore (0: none), and its parsed arguments.
type usdtSite struct {
	note   usdtNote
	offset uint64
	refCtr uint64
	args   []usdtArg
}

// usdtSites finds the sites of provider:name in the binary at path and
// converts their addresses to file offsets, as libbpf does: the address
// is first moved by how far .stapsdt.base moved since the note was
// written (prelink), then located in the loadable segment containing it.
func usdtSites(path, provider, name string) ([]usdtSite, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	notes, err := readUSDTNotes(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var base uint64
	if s := f.Section(".stapsdt.base"); s != nil {
		base = s.Addr
	}
	var sites []usdtSite
	var have []string
	for _, n := range notes {
		if n.Provider != provider || n.Name != name {
			if p := n.Provider + ":" + n.Name; !slices.Contains(have, p) {
				have = append(have, p)
			}
			continue
		}
		if f.Machine != elf.EM_X86_64 {
			return nil, fmt.Errorf("%s: USDT probe %s:%s: the arguments of %s binaries cannot be read: bpfskel parses x86-64 argument specs only", path, provider, name, f.Machine)
		}
		pc := usdtPC(n, base)
		s := usdtSite{note: n}
		if s.offset, err = fileOffset(f, pc, true); err != nil {
			return nil, fmt.Errorf("%s: USDT probe %s:%s at %#x: %w", path, provider, name, pc, err)
		}
		if n.Semaphore != 0 {
			if s.refCtr, err = fileOffset(f, n.Semaphore, false); err != nil {
				return nil, fmt.Errorf("%s: USDT probe %s:%s: semaphore at %#x: %w", path, provider, name, n.Semaphore, err)
			}
		}
		if s.args, err = parseUSDTArgs(n.Args); err != nil {
			return nil, fmt.Errorf("%s: USDT probe %s:%s at %#x: arguments %q: %w", path, provider, name, pc, n.Args, err)
		}
		sites = append(sites, s)
	}
	if len(sites) == 0 {
		if len(have) == 0 {
			return nil, fmt.Errorf("%s has no USDT probes (no .note.stapsdt section); want %s:%s", path, provider, name)
		}
		slices.Sort(have)
		more := ""
		if len(have) > 20 {
			more = fmt.Sprintf(" and %d more", len(have)-20)
			have = have[:20]
		}
		return nil, fmt.Errorf("%s has no USDT probe %s:%s; it has %s%s", path, provider, name, strings.Join(have, ", "), more)
	}
	return sites, nil
}

// usdtPC is the address of the probe of n in a binary whose .stapsdt.base
// section is at base (0: it has none): a prelinked binary moved the
// section since the note was written, and the probe moved with it.
func usdtPC(n usdtNote, base uint64) uint64 {
	if base != 0 && n.Base != 0 {
		return n.PC + base - n.Base
	}
	return n.PC
}

// fileOffset converts the virtual address addr of f to its offset in the
// file, through the loadable segment holding it (an executable one for
// code).
func fileOffset(f *elf.File, addr uint64, exec bool) (uint64, error) {
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || addr < p.Vaddr || addr-p.Vaddr >= p.Filesz {
			continue
		}
		if exec && p.Flags&elf.PF_X == 0 {
			return 0, fmt.Errorf("the address is in a segment that is not executable")
		}
		return addr - p.Vaddr + p.Off, nil
	}
	return 0, fmt.Errorf("no loadable segment of the file holds the address")
}

// Argument locations, enum __bpf_usdt_arg_type of usdt.bpf.h.
const (
	usdtArgConst    = 0 // the value is ValOff
	usdtArgReg      = 1 // the value is in the register at RegOff of struct pt_regs
	usdtArgRegDeref = 2 // the value is in memory at the register plus ValOff
)

// usdtArg is one argument as struct __bpf_usdt_arg_spec describes it.
type usdtArg struct {
	Type     uint32
	ValOff   uint64
	RegOff   int16
	Signed   bool
	BitShift int8 // 64 - 8*size: the bits to clear (or sign-extend) above the value
}

// usdtMaxArgs is BPF_USDT_MAX_ARG_CNT.
const usdtMaxArgs = 12

// parseUSDTArgs parses an x86-64 argument string of a stapsdt note:
// space-separated SIZE@LOCATION, where SIZE is 1, 2, 4 or 8, negative for
// a signed value, and LOCATION is %REG, $CONSTANT, OFFSET(%REG) or
// (%REG).
func parseUSDTArgs(s string) ([]usdtArg, error) {
	fields := strings.Fields(s)
	if len(fields) > usdtMaxArgs {
		return nil, fmt.Errorf("%d arguments; usdt.bpf.h reads at most %d", len(fields), usdtMaxArgs)
	}
	args := make([]usdtArg, 0, len(fields))
	for i, f := range fields {
		a, err := parseUSDTArg(f)
		if err != nil {
			return nil, fmt.Errorf("argument %d %q: %w", i, f, err)
		}
		args = append(args, a)
	}
	return args, nil
}

func parseUSDTArg(s string) (usdtArg, error) {
	var a usdtArg
	sz, loc, ok := strings.Cut(s, "@")
	if !ok {
		return a, errors.New("no SIZE@ prefix")
	}
	size, err := strconv.Atoi(sz)
	if err != nil {
		return a, fmt.Errorf("size %q is not a number", sz)
	}
	a.Signed = size < 0
	if size < 0 {
		size = -size
	}
	switch size {
	case 1, 2, 4, 8:
	default:
		return a, fmt.Errorf("size %d is not 1, 2, 4 or 8", size)
	}
	a.BitShift = int8(64 - 8*size)
	switch {
	case strings.HasPrefix(loc, "$"):
		v, err := strconv.ParseInt(loc[1:], 0, 64)
		if err != nil {
			return a, fmt.Errorf("constant %q is not a number", loc[1:])
		}
		a.Type, a.ValOff = usdtArgConst, uint64(v)
	case strings.HasPrefix(loc, "%"):
		off, err := x86RegOffset(loc[1:])
		if err != nil {
			return a, err
		}
		a.Type, a.RegOff = usdtArgReg, off
	case strings.HasSuffix(loc, ")"):
		open := strings.IndexByte(loc, '(')
		if open < 0 {
			return a, errors.New("')' without '('")
		}
		inner := loc[open+1 : len(loc)-1]
		if strings.Contains(inner, ",") {
			return a, errors.New("an index register (SIB addressing) is not supported")
		}
		if !strings.HasPrefix(inner, "%") {
			return a, fmt.Errorf("%q is not a register", inner)
		}
		off, err := x86RegOffset(inner[1:])
		if err != nil {
			return a, err
		}
		var disp int64
		if d := loc[:open]; d != "" {
			if disp, err = strconv.ParseInt(d, 0, 64); err != nil {
				return a, fmt.Errorf("offset %q is not a number (a symbolic address is not supported)", d)
			}
		}
		a.Type, a.RegOff, a.ValOff = usdtArgRegDeref, off, uint64(disp)
	default:
		return a, fmt.Errorf("location %q is not %%REG, $CONSTANT or OFFSET(%%REG)", loc)
	}
	return a, nil
}

// x86PtRegs are the registers in the order of the x86-64 kernel's struct
// pt_regs (8 bytes each), with every name of each: 64, 32, 16 and 8 bits.
var x86PtRegs = [][]string{
	{"r15", "r15d", "r15w", "r15b"},
	{"r14", "r14d", "r14w", "r14b"},
	{"r13", "r13d", "r13w", "r13b"},
	{"r12", "r12d", "r12w", "r12b"},
	{"rbp", "ebp", "bp", "bpl"},
	{"rbx", "ebx", "bx", "bl"},
	{"r11", "r11d", "r11w", "r11b"},
	{"r10", "r10d", "r10w", "r10b"},
	{"r9", "r9d", "r9w", "r9b"},
	{"r8", "r8d", "r8w", "r8b"},
	{"rax", "eax", "ax", "al"},
	{"rcx", "ecx", "cx", "cl"},
	{"rdx", "edx", "dx", "dl"},
	{"rsi", "esi", "si", "sil"},
	{"rdi", "edi", "di", "dil"},
	{}, // orig_ax
	{"rip", "eip"},
	{}, // cs
	{}, // flags
	{"rsp", "esp", "sp", "spl"},
}

// x86RegOffset returns offsetof(struct pt_regs, reg) for a register name.
func x86RegOffset(reg string) (int16, error) {
	for i, names := range x86PtRegs {
		if slices.Contains(names, reg) {
			return int16(8 * i), nil
		}
	}
	return 0, fmt.Errorf("unknown x86-64 register %%%s", reg)
}

// usdtField is a member of struct __bpf_usdt_spec or of struct
// __bpf_usdt_arg_spec: its byte offset and size.
type usdtField struct{ off, size uint32 }

// usdtSpecLayout is where struct __bpf_usdt_spec keeps what bpfskel writes,
// read from the object's BTF.
type usdtSpecLayout struct {
	size              uint32
	args              uint32 // offset of args[0]
	argSize, maxArgs  uint32 // size of one struct __bpf_usdt_arg_spec, length of args
	cookie, argCnt    usdtField
	valOff, argType   usdtField // the members of struct __bpf_usdt_arg_spec
	regOff, argSigned usdtField
	argBitshift       usdtField
}

// usdtLayout reads the layout of struct __bpf_usdt_spec from the value
// type of the __bpf_usdt_specs map, member by member, so that a
// usdt.bpf.h that adds members still gets the ones bpfskel knows right.
func usdtLayout(ms *ebpf.MapSpec) (*usdtSpecLayout, error) {
	st, ok := btf.UnderlyingType(ms.Value).(*btf.Struct)
	if !ok {
		return nil, fmt.Errorf("the value of map %q is %v, not struct __bpf_usdt_spec", ms.Name, ms.Value)
	}
	member := func(s *btf.Struct, name string) (btf.Member, usdtField, error) {
		for _, m := range s.Members {
			if m.Name != name || m.BitfieldSize != 0 || m.Offset%8 != 0 {
				continue
			}
			sz, err := btf.Sizeof(m.Type)
			if err != nil {
				return m, usdtField{}, fmt.Errorf("struct %s: member %s: %w", s.Name, name, err)
			}
			if sz != 1 && sz != 2 && sz != 4 && sz != 8 && name != "args" {
				break
			}
			return m, usdtField{m.Offset.Bytes(), uint32(sz)}, nil
		}
		return btf.Member{}, usdtField{}, fmt.Errorf("struct %s has no member %s of 1, 2, 4 or 8 bytes: a usdt.bpf.h bpfskel does not know", s.Name, name)
	}
	var l usdtSpecLayout
	l.size = st.Size
	if l.size != ms.ValueSize {
		return nil, fmt.Errorf("struct %s is %d bytes, the map's values %d", st.Name, l.size, ms.ValueSize)
	}
	args, af, err := member(st, "args")
	if err != nil {
		return nil, err
	}
	arr, ok := btf.UnderlyingType(args.Type).(*btf.Array)
	var as *btf.Struct
	if ok {
		as, ok = btf.UnderlyingType(arr.Type).(*btf.Struct)
	}
	if !ok {
		return nil, fmt.Errorf("struct %s: args is not an array of struct __bpf_usdt_arg_spec", st.Name)
	}
	l.args, l.argSize, l.maxArgs = af.off, as.Size, arr.Nelems
	for _, f := range []struct {
		s    *btf.Struct
		name string
		to   *usdtField
	}{
		{st, "usdt_cookie", &l.cookie},
		{st, "arg_cnt", &l.argCnt},
		{as, "val_off", &l.valOff},
		{as, "arg_type", &l.argType},
		{as, "reg_off", &l.regOff},
		{as, "arg_signed", &l.argSigned},
		{as, "arg_bitshift", &l.argBitshift},
	} {
		if _, *f.to, err = member(f.s, f.name); err != nil {
			return nil, err
		}
		if f.to.off+f.to.size > f.s.Size {
			return nil, fmt.Errorf("struct %s: member %s lies past its end", f.s.Name, f.name)
		}
	}
	if uint64(l.args)+uint64(l.argSize)*uint64(l.maxArgs) > uint64(l.size) {
		return nil, fmt.Errorf("struct %s: args lies past its end", st.Name)
	}
	return &l, nil
}

// encode returns the bytes of a struct __bpf_usdt_spec for args and
// cookie, in the host's byte order (the map is read by BPF on this host).
func (l *usdtSpecLayout) encode(args []usdtArg, cookie uint64) ([]byte, error) {
	if uint32(len(args)) > l.maxArgs {
		return nil, fmt.Errorf("%d arguments; this usdt.bpf.h reads at most %d", len(args), l.maxArgs)
	}
	b := make([]byte, l.size)
	put := func(base uint32, f usdtField, v uint64) {
		at := base + f.off
		switch f.size {
		case 1:
			b[at] = byte(v)
		case 2:
			binary.NativeEndian.PutUint16(b[at:], uint16(v))
		case 4:
			binary.NativeEndian.PutUint32(b[at:], uint32(v))
		case 8:
			binary.NativeEndian.PutUint64(b[at:], v)
		}
	}
	for i, a := range args {
		base := l.args + uint32(i)*l.argSize
		signed := uint64(0)
		if a.Signed {
			signed = 1
		}
		put(base, l.valOff, a.ValOff)
		put(base, l.argType, uint64(a.Type))
		put(base, l.regOff, uint64(a.RegOff))
		put(base, l.argSigned, signed)
		put(base, l.argBitshift, uint64(a.BitShift))
	}
	put(0, l.cookie, cookie)
	put(0, l.argCnt, uint64(len(args)))
	return b, nil
}

// The maps of usdt.bpf.h.
const (
	usdtSpecsMap   = "__bpf_usdt_specs"
	usdtIPToSpecID = "__bpf_usdt_ip_to_spec_id"
)

// usdtIDs hands out the indexes of __bpf_usdt_specs of one collection.
type usdtIDs struct {
	mu   sync.Mutex
	used []bool
}

func (u *usdtIDs) alloc(n int, max uint32) ([]uint32, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.used == nil {
		u.used = make([]bool, max)
	}
	var ids []uint32
	for i := range u.used {
		if len(ids) == n {
			break
		}
		if !u.used[i] {
			ids = append(ids, uint32(i))
		}
	}
	if len(ids) < n {
		return nil, fmt.Errorf("map %s is full: %d specs in use, %d more needed, %d entries (raise BPF_USDT_MAX_SPEC_CNT)", usdtSpecsMap, len(u.used)-len(ids), n, len(u.used))
	}
	for _, id := range ids {
		u.used[id] = true
	}
	return ids, nil
}

func (u *usdtIDs) free(ids []uint32) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, id := range ids {
		if int(id) < len(u.used) {
			u.used[id] = false
		}
	}
}

// attachUSDT attaches prog to every site of the USDT probe provider:name
// of binary (resolved as libbpf does, see resolveBinary), limited to pid
// when it is not 0; bpf_usdt_cookie returns cookie. The caller holds the
// collection's close guard. On failure nothing stays attached.
func (c *Collection) attachUSDT(prog *ebpf.Program, binary, provider, name string, pid int, cookie uint64) (link.Link, error) {
	what := fmt.Sprintf("usdt %s:%s:%s", binary, provider, name)
	have, err := haveBPFCookie()
	if err != nil {
		return nil, fmt.Errorf("%s: probing for BPF cookies: %w", what, err)
	}
	if !have {
		return nil, fmt.Errorf("%s: %w: bpfskel attaches USDT probes with BPF cookies, which this kernel lacks (Linux 5.15 or later has them)", what, ebpf.ErrNotSupported)
	}
	specs := c.coll.Maps[usdtSpecsMap]
	var ms *ebpf.MapSpec
	if c.spec != nil {
		ms = c.spec.Maps[usdtSpecsMap]
	}
	if specs == nil || ms == nil {
		return nil, fmt.Errorf("%s: the object has no map %s: write the program with libbpf's <bpf/usdt.bpf.h> (BPF_USDT, bpf_usdt_arg)", what, usdtSpecsMap)
	}
	layout, err := usdtLayout(ms)
	if err != nil {
		return nil, fmt.Errorf("%s: map %s: %w", what, usdtSpecsMap, err)
	}
	path, err := resolveBinary(binary)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	sites, err := usdtSites(path, provider, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}

	// One spec per distinct argument string, as libbpf shares them.
	specOf := map[string]int{}
	var distinct []usdtSite
	for _, s := range sites {
		if _, ok := specOf[s.note.Args]; !ok {
			specOf[s.note.Args] = len(distinct)
			distinct = append(distinct, s)
		}
	}
	ids, err := c.usdt.alloc(len(distinct), specs.MaxEntries())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	ul := &usdtLink{ids: ids, owner: c}
	fail := func(err error) (link.Link, error) {
		return nil, errors.Join(fmt.Errorf("%s: %w", what, err), ul.Close())
	}
	for i, s := range distinct {
		b, err := layout.encode(s.args, cookie)
		if err != nil {
			return fail(fmt.Errorf("arguments %q: %w", s.note.Args, err))
		}
		if err := specs.Put(ids[i], b); err != nil {
			return fail(fmt.Errorf("map %s: write spec %d: %w", usdtSpecsMap, ids[i], err))
		}
	}
	ex, err := link.OpenExecutable(path)
	if err != nil {
		return fail(err)
	}
	for _, s := range sites {
		l, err := ex.Uprobe("", prog, &link.UprobeOptions{
			Address:      s.offset,
			RefCtrOffset: s.refCtr,
			Cookie:       uint64(ids[specOf[s.note.Args]]),
			PID:          pid,
		})
		if err != nil {
			return fail(fmt.Errorf("uprobe at %s+%#x: %w", path, s.offset, err))
		}
		ul.links = append(ul.links, l)
	}
	ul.Link = ul.links[0]
	return ul, nil
}

// usdtLink is the link of one USDT attachment: a uprobe per probe site.
// Close detaches them all and frees their specs.
type usdtLink struct {
	link.Link // the first uprobe: Info describes it
	links     []link.Link
	ids       []uint32
	owner     *Collection

	once sync.Once
	err  error
}

func (u *usdtLink) Close() error {
	u.once.Do(func() {
		var errs []error
		for i := len(u.links) - 1; i >= 0; i-- {
			if err := u.links[i].Close(); err != nil {
				errs = append(errs, err)
			}
		}
		u.owner.usdt.free(u.ids)
		u.err = errors.Join(errs...)
	})
	return u.err
}

func (u *usdtLink) Pin(string) error {
	return fmt.Errorf("usdt link: pin: %w", ebpf.ErrNotSupported)
}

func (u *usdtLink) Unpin() error {
	return fmt.Errorf("usdt link: unpin: %w", ebpf.ErrNotSupported)
}

func (u *usdtLink) Update(*ebpf.Program) error {
	return fmt.Errorf("usdt link: update: %w", ebpf.ErrNotSupported)
}

func (u *usdtLink) Detach() error {
	return fmt.Errorf("usdt link: detach: %w; Close it", ebpf.ErrNotSupported)
}

// libDirs are the directories resolveBinary searches for a library after
// LD_LIBRARY_PATH: libbpf's, and the multiarch ones of Debian and Ubuntu.
func libDirs() []string {
	dirs := []string{"/lib64", "/usr/lib64", "/lib", "/usr/lib"}
	triplet := map[string]string{
		"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu", "386": "i386-linux-gnu",
		"s390x": "s390x-linux-gnu", "ppc64le": "powerpc64le-linux-gnu", "riscv64": "riscv64-linux-gnu",
		"arm": "arm-linux-gnueabihf", "loong64": "loongarch64-linux-gnu", "mips64le": "mips64el-linux-gnuabi64",
	}[runtime.GOARCH]
	if triplet != "" {
		dirs = append(dirs, "/lib/"+triplet, "/usr/lib/"+triplet)
	}
	return dirs
}

// resolveBinary finds the file a uprobe or USDT target names, as libbpf
// does: a name with a '/' is a path (relative ones from the working
// directory); a bare library name (it has ".so" at the end or ".so." in
// it) is searched in LD_LIBRARY_PATH and the library directories; any
// other bare name in PATH and /usr/bin, /usr/sbin, as an executable.
func resolveBinary(file string) (string, error) {
	if file == "" {
		return "", errors.New("no binary named")
	}
	if strings.Contains(file, "/") {
		if _, err := os.Stat(file); err != nil {
			return "", fmt.Errorf("binary %s: %w", file, err)
		}
		return file, nil
	}
	var dirs []string
	lib := strings.HasSuffix(file, ".so") || strings.Contains(file, ".so.")
	if lib {
		dirs = append(filepath.SplitList(os.Getenv("LD_LIBRARY_PATH")), libDirs()...)
	} else {
		dirs = append(filepath.SplitList(os.Getenv("PATH")), "/usr/bin", "/usr/sbin")
	}
	var searched []string
	for _, d := range dirs {
		if d == "" || slices.Contains(searched, d) {
			continue
		}
		searched = append(searched, d)
		p := filepath.Join(d, file)
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if !lib && fi.Mode().Perm()&0o111 == 0 {
			continue
		}
		return p, nil
	}
	kind, where := "executable", "PATH and /usr/bin, /usr/sbin"
	if lib {
		kind, where = "library", "LD_LIBRARY_PATH and the library directories"
	}
	return "", fmt.Errorf("%s %q not found in %s (searched %s); give an absolute path", kind, file, where, strings.Join(searched, ", "))
}
