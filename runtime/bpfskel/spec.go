package bpfskel

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// ErrStale is wrapped by the error of [OpenSkeleton] when the embedded
// object is not the one the skeleton was generated from.
var ErrStale = errors.New("the skeleton is stale")

// verifiedObjects remembers embedded objects whose digest matched, keyed by
// the address and length of their bytes, so that opening a skeleton again
// does not hash its object again; loadables remembers them as
// makeLoadable prepared them, so that it does not parse their ELF again.
var verifiedObjects, loadables sync.Map // objectKey -> string (hex digest), loadable

type objectKey struct {
	p *byte
	n int
}

// OpenSkeleton is [Open] for generated code: before parsing, it checks
// that the SHA-256 of elf is digest (lower-case hex), the digest of the
// object the skeleton was generated from. generated is the generated
// file's name. A mismatch is an error wrapping [ErrStale] that names the
// object, the generated file, both digests and the fix: the skeleton's
// types would not describe the object, so loading it could return wrong
// data. The digest of a verified elf is remembered by its address and
// length, so elf must not change afterwards: generated code passes its
// embedded object, which never does. Unlike Open, OpenSkeleton does not
// bound-check the ELF headers again: the digest vouches that elf is the
// object the generator checked. Bytes that no skeleton was generated from
// belong in [Open].
func OpenSkeleton(name string, elf []byte, digest, generated string) (*Spec, error) {
	if name == "" {
		name = defaultObjectName
	}
	if err := checkDigest(name, elf, digest, generated); err != nil {
		return nil, err
	}
	key := objectKey{unsafe.SliceData(elf), len(elf)}
	var l loadable
	if o, ok := loadables.Load(key); ok {
		l = o.(loadable)
	} else {
		var err error
		if l, err = makeLoadable(elf); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		loadables.Store(key, l)
	}
	// The digest shows these are the bytes the generator read, and
	// btfmodel.Load bounds-checked them (internal/elfcheck) before it
	// generated anything: checking them again, and parsing their ELF for
	// weak and hidden symbols on every Open, cost 2.5% each of a
	// skeleton's Load+Close in BenchmarkLoadClose.
	return open(name, elf, l)
}

func checkDigest(name string, elf []byte, digest, generated string) error {
	key := objectKey{unsafe.SliceData(elf), len(elf)}
	if d, ok := verifiedObjects.Load(key); ok && d.(string) == digest {
		return nil
	}
	sum := sha256.Sum256(elf)
	have := hex.EncodeToString(sum[:])
	if have != digest {
		return fmt.Errorf("%s: %w: %s was generated from an object with sha256 %s, but the embedded %s has sha256 %s; "+
			"regenerate it: run `go generate` in the package directory of %s (its //go:generate line runs bpfskel -obj %s), "+
			"or run that bpfskel command again, then rebuild",
			name, ErrStale, generated, short(digest), name, short(have), generated, name)
	}
	verifiedObjects.Store(key, have)
	return nil
}

// short abbreviates a hex digest for messages.
func short(d string) string {
	if len(d) > 16 {
		return d[:16] + "…"
	}
	return d
}

// Spec is a parsed, not yet loaded, BPF object. A Spec may be loaded any
// number of times; each [Spec.Load] gives an independent [Collection].
//
// Between Open and Load, a Spec carries the settings of the open phase:
// the initial contents of data sections ([BindSectionSpec]), per-map
// settings ([MapSpec]), per-program autoload ([ProgramSpec]) and load
// options ([Spec.SetVerifierLog], [Spec.SetKernelBTF]). A Spec is not
// safe for concurrent use.
type Spec struct {
	name string
	spec *ebpf.CollectionSpec

	sections []*sectionInit
	maps     map[string]*MapSpec
	progs    map[string]*ProgramSpec

	mirroredLen map[string]uint32 // arrays ResizeArray changed: their length at Open

	logLevel   ebpf.LogLevel
	logSize    uint32
	kernelBTF  *btf.Spec
	kernelPath string

	// kconfigExtra: the .kconfig externs bpfskel resolves (libbpfcompat.go).
	kconfigExtra *kconfigExtra
}

// sectionInit is the typed initial contents of a data section: memory
// owned by a Go value the generated Spec points to, written back into the
// object at Load.
type sectionInit struct {
	name string
	ptr  unsafe.Pointer // *T, kept alive by this reference
	size uintptr
	orig []byte // the contents at Open: Load applies the bytes that differ
}

// SpecBinder resolves the open-phase handles of a [Spec] by name, as
// [Binder] does after load: each failure is recorded, [SpecBinder.Err]
// reports them all.
type SpecBinder struct {
	s    *Spec
	errs []error
}

// NewSpecBinder returns a SpecBinder over s.
func NewSpecBinder(s *Spec) *SpecBinder { return &SpecBinder{s: s} }

// Err returns every failure so far, joined, or nil.
func (b *SpecBinder) Err() error {
	if b == nil {
		return errors.New("bpfskel: nil SpecBinder")
	}
	return errors.Join(b.errs...)
}

func (b *SpecBinder) fail(format string, args ...any) {
	name := defaultObjectName
	if b.s != nil {
		name = b.s.name
	}
	b.errs = append(b.errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
}

func (b *SpecBinder) spec() *ebpf.CollectionSpec {
	if b == nil || b.s == nil || b.s.spec == nil {
		return nil
	}
	return b.s.spec
}

// BindSectionSpec returns a pointer to a copy of the initial contents of
// the data section called name, typed as T (the generated section struct).
// Changes through the pointer before [Spec.Load] become the section's
// contents when the object is loaded: this is how .rodata constants are
// configured. T must be plain data no larger than the section.
func BindSectionSpec[T any](b *SpecBinder, name string) *T {
	cs := b.spec()
	if cs == nil {
		return nil
	}
	ms := cs.Maps[name]
	if ms == nil {
		b.fail("section %q: not found in the object", name)
		return nil
	}
	if err := plainData(reflect.TypeFor[T]()); err != nil {
		b.fail("section %q: type %s cannot mirror BPF memory: %w", name, reflect.TypeFor[T](), err)
		return nil
	}
	t := new(T)
	size := unsafe.Sizeof(*t)
	// Go may pad the section's struct up to the value's 8-byte slot.
	if uint64(size) > roundUp(uint64(ms.ValueSize), 8) {
		b.fail("section %q: is %d bytes in Go, %d in the object", name, size, ms.ValueSize)
		return nil
	}
	if len(ms.Contents) == 1 {
		if data, ok := ms.Contents[0].Value.([]byte); ok {
			copy(unsafe.Slice((*byte)(unsafe.Pointer(t)), size), data)
		}
	}
	orig := slices.Clone(unsafe.Slice((*byte)(unsafe.Pointer(t)), size))
	b.s.sections = append(b.s.sections, &sectionInit{name: name, ptr: unsafe.Pointer(t), size: size, orig: orig})
	return t
}

// MapSpec holds the settings of one map between Open and Load: its size,
// its pin path, or an existing map to use instead of creating one. Create
// it with [BindMapSpec].
type MapSpec struct {
	name  string
	spec  *ebpf.MapSpec
	typed bool

	pinPath      string
	replace      *ebpf.Map
	replaceOwned bool // replace came from ReplaceFD: the Spec closes it
}

// BindMapSpec returns the settings handle of the map called name. typed
// says whether the skeleton binds the map with Go key and value types, in
// which case its value size is fixed by them.
func BindMapSpec(b *SpecBinder, name string, typed bool) *MapSpec {
	cs := b.spec()
	if cs == nil {
		return nil
	}
	ms := cs.Maps[name]
	if ms == nil {
		b.fail("map %q: not found in the object", name)
		return nil
	}
	if b.s.maps == nil {
		b.s.maps = map[string]*MapSpec{}
	}
	m := &MapSpec{name: name, spec: ms, typed: typed}
	b.s.maps[name] = m
	return m
}

var errNilMapSpec = errors.New("bpfskel: nil MapSpec (did Open fail?)")

// Spec returns the cilium/ebpf description of the map, the escape hatch
// for settings without a method here.
func (m *MapSpec) Spec() *ebpf.MapSpec {
	if m == nil {
		return nil
	}
	return m.spec
}

// MaxEntries returns the number of entries the map will be created with.
func (m *MapSpec) MaxEntries() uint32 {
	if m == nil {
		return 0
	}
	return m.spec.MaxEntries
}

// SetMaxEntries sets the number of entries the map is created with (for a
// ring buffer: its size in bytes, a power of 2 multiple of the page size).
func (m *MapSpec) SetMaxEntries(n uint32) error {
	if m == nil {
		return errNilMapSpec
	}
	if n == 0 {
		return fmt.Errorf("map %q: max_entries 0: the kernel refuses empty maps", m.name)
	}
	m.spec.MaxEntries = n
	return nil
}

// ValueSize returns the value size the map will be created with.
func (m *MapSpec) ValueSize() uint32 {
	if m == nil {
		return 0
	}
	return m.spec.ValueSize
}

// SetValueSize sets the map's value size. Only maps whose values the
// skeleton does not type may change it: a typed handle's value is a Go
// type of fixed size, and binding it to another size would fail at Load.
func (m *MapSpec) SetValueSize(n uint32) error {
	if m == nil {
		return errNilMapSpec
	}
	if m.typed {
		return fmt.Errorf("map %q: the skeleton types its values (%d bytes), so their size cannot change; "+
			"change the C type and regenerate instead", m.name, m.spec.ValueSize)
	}
	if n == 0 {
		return fmt.Errorf("map %q: value size 0: the kernel refuses it", m.name)
	}
	m.spec.ValueSize = n
	return nil
}

// SetPinPath makes Load use the map pinned at path (a file on a bpffs) when
// there is one and it is compatible, and otherwise create the map and pin
// it there. An empty path turns pinning off.
func (m *MapSpec) SetPinPath(path string) error {
	if m == nil {
		return errNilMapSpec
	}
	m.pinPath = path
	return nil
}

// PinPath returns the path set by [MapSpec.SetPinPath].
func (m *MapSpec) PinPath() string {
	if m == nil {
		return ""
	}
	return m.pinPath
}

// Replace makes Load use existing (a map created elsewhere) instead of
// creating the map: the loaded programs then share it. existing must match
// the map's type, key and value sizes, max entries and flags; Load checks.
// The skeleton uses its own clone of existing: the caller still closes
// existing. A nil existing undoes Replace.
func (m *MapSpec) Replace(existing *ebpf.Map) error {
	if m == nil {
		return errNilMapSpec
	}
	if m.replace != nil && m.replaceOwned {
		m.replace.Close()
	}
	m.replace, m.replaceOwned = existing, false
	return nil
}

// ProgramSpec holds the settings of one program between Open and Load.
// Create it with [BindProgramSpec].
type ProgramSpec struct {
	name     string
	spec     *ebpf.ProgramSpec
	autoload bool
}

// BindProgramSpec returns the settings handle of the program called name.
// A program whose section starts with '?' (libbpf's SEC("?...")) does not
// load by default.
func BindProgramSpec(b *SpecBinder, name string) *ProgramSpec {
	cs := b.spec()
	if cs == nil {
		return nil
	}
	ps := cs.Programs[name]
	if ps == nil {
		b.fail("program %q: not found in the object", name)
		return nil
	}
	if b.s.progs == nil {
		b.s.progs = map[string]*ProgramSpec{}
	}
	p := &ProgramSpec{name: name, spec: ps, autoload: !strings.HasPrefix(ps.SectionName, "?")}
	b.s.progs[name] = p
	return p
}

// Spec returns the cilium/ebpf description of the program.
func (p *ProgramSpec) Spec() *ebpf.ProgramSpec {
	if p == nil {
		return nil
	}
	return p.spec
}

// Autoload reports whether Load loads the program.
func (p *ProgramSpec) Autoload() bool { return p != nil && p.autoload }

// SetAutoload turns loading the program on or off. A program that is not
// loaded is a nil handle in the loaded skeleton, and [Collection.Attach]
// skips it.
func (p *ProgramSpec) SetAutoload(on bool) {
	if p != nil {
		p.autoload = on
	}
}

// SetVerifierLog sets the verifier log level and the starting size of its
// buffer, in bytes, for every program Load loads. Level 0 keeps
// cilium/ebpf's default: no log unless a program is rejected.
func (s *Spec) SetVerifierLog(level ebpf.LogLevel, size uint32) {
	if s != nil {
		s.logLevel, s.logSize = level, size
	}
}

// SetKernelBTF makes Load resolve CO-RE relocations against the kernel BTF
// in the file at path (for example a BTFHub file for a kernel without
// /sys/kernel/btf/vmlinux). An empty path restores the default.
func (s *Spec) SetKernelBTF(path string) error {
	if s == nil {
		return errors.New("bpfskel: SetKernelBTF on a nil Spec")
	}
	if path == "" {
		s.kernelBTF, s.kernelPath = nil, ""
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%s: kernel BTF: %w", s.name, err)
	}
	defer f.Close()
	spec, err := btf.LoadSpecFromReader(f)
	if err != nil {
		return fmt.Errorf("%s: kernel BTF %s: %w", s.name, path, err)
	}
	s.kernelBTF, s.kernelPath = spec, path
	return nil
}

// prepare applies the open-phase settings: it returns the spec to load
// (sharing what did not change), the options, and what to do after the load.
func (s *Spec) prepare(opts LoadOptions, kconfig *ebpf.Map) (*ebpf.CollectionSpec, LoadOptions, []*MapSpec, []string, func(), error) {
	cs := s.spec
	var cleanup []func()
	done := func() {
		for _, f := range cleanup {
			f()
		}
	}
	// Typed section contents: the bytes changed through the typed struct
	// since Open go into the object's contents and its variables (which
	// cilium/ebpf assembles into the map at load), over what the escape
	// hatch (CollectionSpec().Variables) set; other bytes keep the latter.
	for _, si := range s.sections {
		ms := cs.Maps[si.name]
		if ms == nil {
			continue
		}
		data := make([]byte, ms.ValueSize)
		if len(ms.Contents) == 1 {
			if old, ok := ms.Contents[0].Value.([]byte); ok {
				copy(data, old)
			}
		}
		var vars []*ebpf.VariableSpec
		for _, v := range cs.Variables {
			if v.SectionName == si.name && uint64(v.Offset)+uint64(len(v.Value)) <= uint64(len(data)) {
				vars = append(vars, v)
				copy(data[v.Offset:], v.Value)
			}
		}
		src := unsafe.Slice((*byte)(si.ptr), si.size)
		for i := range src {
			if src[i] != si.orig[i] && i < len(data) {
				data[i] = src[i]
			}
		}
		ms.Contents = []ebpf.MapKV{{Key: uint32(0), Value: data}}
		for _, v := range vars {
			copy(v.Value, data[v.Offset:])
		}
	}

	var skipped []string
	if len(s.progs) > 0 {
		for name, p := range s.progs {
			if !p.autoload {
				skipped = append(skipped, name)
			}
		}
	}
	if len(skipped) > 0 {
		shallow := *cs
		shallow.Programs = make(map[string]*ebpf.ProgramSpec, len(cs.Programs))
		for name, p := range cs.Programs {
			if !slices.Contains(skipped, name) {
				shallow.Programs[name] = p
			}
		}
		cs = &shallow
		slices.Sort(skipped)
	}

	if kconfig != nil {
		var err error
		if cs, err = withKconfigExtra(cs, kconfig); err != nil {
			done()
			return nil, opts, nil, nil, nil, fmt.Errorf("%s: %w", s.name, err)
		}
	}

	if s.logLevel != 0 && opts.Programs.LogLevel == 0 {
		opts.Programs.LogLevel = s.logLevel
	}
	if s.logSize != 0 && opts.Programs.LogSizeStart == 0 {
		opts.Programs.LogSizeStart = s.logSize
	}
	if s.kernelBTF != nil && opts.Programs.KernelTypes == nil {
		opts.Programs.KernelTypes = s.kernelBTF
	}

	var pin []*MapSpec
	repl := maps.Clone(opts.MapReplacements)
	for _, name := range slices.Sorted(maps.Keys(s.maps)) {
		m := s.maps[name]
		if _, set := repl[name]; set {
			continue // the caller's LoadOptions win
		}
		replace := m.replace
		if replace == nil && m.pinPath != "" {
			pinned, err := ebpf.LoadPinnedMap(m.pinPath, nil)
			switch {
			case err == nil:
				replace = pinned
				cleanup = append(cleanup, func() { pinned.Close() })
			case errors.Is(err, os.ErrNotExist):
				pin = append(pin, m)
			default:
				done()
				return nil, opts, nil, nil, nil, fmt.Errorf("%s: map %q: pinned at %s: %w", s.name, name, m.pinPath, err)
			}
		}
		if replace != nil {
			if repl == nil {
				repl = map[string]*ebpf.Map{}
			}
			repl[name] = replace
		}
	}
	opts.MapReplacements = repl
	return cs, opts, pin, skipped, done, nil
}

// ResizeArray changes the number of elements of the array that ends the
// data section called section (a custom section such as .data.buf, whose
// last variable is an array), as libbpf's bpf_map__set_value_size does:
// the section's value size, its BTF and its initial contents follow; new
// elements start zero. The array cannot shrink below the length the
// skeleton mirrors, whose typed views stay valid; after Load the
// skeleton's [ArrayVar] sees every element.
func (s *Spec) ResizeArray(section string, elems uint32) error {
	if s == nil || s.spec == nil {
		return errors.New("bpfskel: ResizeArray on a nil Spec")
	}
	ms := s.spec.Maps[section]
	if ms == nil {
		return fmt.Errorf("%s: section %q: not found in the object", s.name, section)
	}
	ds, ok := ms.Value.(*btf.Datasec)
	if !ok || len(ds.Vars) == 0 {
		return fmt.Errorf("%s: section %q: has no BTF variables to resize", s.name, section)
	}
	last := 0
	for i, v := range ds.Vars {
		if v.Offset >= ds.Vars[last].Offset {
			last = i
		}
	}
	vs := ds.Vars[last]
	v, ok := vs.Type.(*btf.Var)
	if !ok {
		return fmt.Errorf("%s: section %q: last entry is not a variable", s.name, section)
	}
	arr, ok := btf.UnderlyingType(v.Type).(*btf.Array)
	if !ok {
		return fmt.Errorf("%s: section %q: its last variable %q is not an array, so the section cannot be resized", s.name, section, v.Name)
	}
	elemSize, err := btf.Sizeof(arr.Type)
	if err != nil || elemSize == 0 {
		return fmt.Errorf("%s: section %q: array %q: element size: %v", s.name, section, v.Name, err)
	}
	mirrored := arr.Nelems
	if orig, ok := s.mirroredLen[section]; ok {
		mirrored = orig
	}
	if elems < mirrored {
		return fmt.Errorf("%s: section %q: array %q cannot shrink below the %d elements the skeleton mirrors", s.name, section, v.Name, mirrored)
	}
	size := uint64(vs.Offset) + uint64(elems)*uint64(elemSize)
	if size > 1<<31 {
		return fmt.Errorf("%s: section %q: %d elements of %d bytes are too many", s.name, section, elems, elemSize)
	}
	if s.mirroredLen == nil {
		s.mirroredLen = map[string]uint32{}
	}
	s.mirroredLen[section] = mirrored

	nds := btf.Copy(ds).(*btf.Datasec)
	nv := nds.Vars[last].Type.(*btf.Var)
	nv.Type = &btf.Array{Index: arr.Index, Type: arr.Type, Nelems: elems}
	nds.Vars[last].Size = elems * uint32(elemSize)
	nds.Size = uint32(size)
	ms.Value = nds
	ms.ValueSize = uint32(size)

	data := make([]byte, size)
	if len(ms.Contents) == 1 {
		if old, ok := ms.Contents[0].Value.([]byte); ok {
			copy(data, old)
		}
	}
	ms.Contents = []ebpf.MapKV{{Key: uint32(0), Value: data}}
	if vspec := s.spec.Variables[v.Name]; vspec != nil && vspec.SectionName == section {
		value := make([]byte, nds.Vars[last].Size)
		copy(value, vspec.Value)
		vspec.Value = value
		vspec.Type = nv
	}
	return nil
}
