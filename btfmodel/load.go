package btfmodel

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/bpfskel/bpfskel/internal/elfcheck"
	"github.com/bpfskel/bpfskel/internal/elfweak"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// Options steer naming.
type Options struct {
	// Stem prefixes the skeleton's own identifiers, so that several objects
	// can share one Go package: with Stem "foo" the skeleton type is
	// FooSkeleton and the loader LoadFoo. Empty gives Skeleton and Load.
	Stem string
	// Renames give Go names to C things whose derived name collides or is
	// unwanted, keyed "kind:cname" with kind one of map, program, variable,
	// struct, union, enum, value (an enum constant).
	Renames map[string]string
	// Events name the C type of the records of ring buffers and perf event
	// arrays, keyed by the map's C name: a struct, union, enum or typedef of
	// the object's BTF. Event maps not listed get the object's only
	// candidate event type, or raw records (see events.go).
	Events map[string]string
	// Types are C types to mirror even when no map or global reaches them
	// (bpf2go's -type): named structs, unions, enums or typedefs of the
	// object's BTF.
	Types []string
}

// Load builds the model of the object whose bytes are data. file names the
// object in errors and comments; Load does not read it.
func Load(file string, data []byte, opts Options) (*Object, error) {
	obj, err := load(file, data, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return obj, nil
}

func load(file string, data []byte, opts Options) (*Object, error) {
	bo, err := checkELF(data)
	if err != nil {
		return nil, err
	}
	if err := checkBTF(data); err != nil {
		return nil, err
	}
	// The runtime's Open parses a copy with defined weak symbols bound
	// global (cilium/ebpf v0.22 refuses weak maps): read what it reads.
	parsed, _, err := elfweak.Global(data, elfweak.ResolvedExterns)
	if err != nil {
		return nil, err
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(parsed))
	var loaderErr error
	if err != nil {
		// Generation must not depend on program relocation: read what the
		// model needs without the collection loader (fallback.go).
		fb, ferr := fallbackSpec(data)
		if ferr != nil {
			return nil, fmt.Errorf("reading the BPF object: %w", err)
		}
		spec, loaderErr = fb, err
	}
	obj, err := fromSpec(file, bo, spec, loaderErr, opts)
	if err != nil {
		return nil, err
	}
	obj.Digest = sha256.Sum256(data)
	return obj, nil
}

// fromSpec builds the model from a parsed object; loaderErr is why the
// collection loader refused it, when spec came from fallbackSpec.
func fromSpec(file string, bo binary.ByteOrder, spec *ebpf.CollectionSpec, loaderErr error, opts Options) (*Object, error) {
	if spec.Types == nil {
		return nil, errors.New("the object has no BTF; compile it with clang -g -target bpf")
	}
	addKconfig(spec)

	n := newNamer(opts.Renames)
	ty := newTyper(n)
	obj := &Object{File: file, ByteOrder: bo, Desc: spec}
	obj.Names = skeletonNames(opts.Stem)
	if loaderErr != nil {
		obj.LoaderError = loaderErr.Error()
		obj.Notes = append(obj.Notes, loaderNote(loaderErr))
	}

	events, err := planEvents(spec, opts)
	if err != nil {
		return nil, err
	}
	if err := modelMaps(obj, spec, n, ty, events); err != nil {
		return nil, err
	}
	modelPrograms(obj, spec, n)
	if err := modelSections(obj, spec, opts.Stem, n, ty); err != nil {
		return nil, err
	}
	if err := mirrorExtra(obj, spec, opts, ty); err != nil {
		return nil, err
	}

	obj.Decls = ty.order
	checkPackageScope(obj, n)
	n.resolve()
	if err := n.err(); err != nil {
		return nil, err
	}
	if err := lifecycleNames(obj); err != nil {
		return nil, err
	}
	sort.Slice(obj.Decls, func(i, j int) bool { return obj.Decls[i].GoName < obj.Decls[j].GoName })
	for _, d := range obj.Decls {
		for _, note := range d.Notes {
			obj.Notes = append(obj.Notes, fmt.Sprintf("%s %s: %s", d.CKind, nameOrAnon(d.CName), note))
		}
	}
	obj.Notes = append(obj.Notes, n.notes...)
	sort.Strings(obj.Notes)
	return obj, nil
}

// checkELF rejects what is not a BPF ELF object with BTF, with the fix.
func checkELF(data []byte) (binary.ByteOrder, error) {
	f, err := elfcheck.Check(data)
	var notELF *elfcheck.NotELFError
	switch {
	case errors.As(err, &notELF) && bytes.HasPrefix(data, []byte(elf.ELFMAG)):
		return nil, fmt.Errorf("a damaged or truncated ELF object (%v); rebuild it", err)
	case errors.As(err, &notELF):
		return nil, fmt.Errorf("not an ELF object (%v); pass the .o file clang wrote with -target bpf", err)
	case err != nil:
		return nil, err
	}
	if f.Machine != elf.EM_BPF {
		return nil, fmt.Errorf("an ELF object for %s, not BPF; compile with clang -target bpf", f.Machine)
	}
	if err := checkSectionNames(f); err != nil {
		return nil, err
	}
	if f.Section(".BTF") == nil {
		return nil, errors.New("the object has no .BTF section; compile it with clang -g -target bpf (and do not strip .BTF)")
	}
	return f.ByteOrder, nil
}

func skeletonNames(stem string) SkeletonNames {
	s := Identifier(stem)
	return SkeletonNames{
		Skeleton: s + "Skeleton",
		Maps:     s + "Maps",
		Programs: s + "Programs",
		Spec:     s + "Spec",
		Open:     "Open" + s,
		Load:     "Load" + s,
		OpenMaps: "Open" + s + "Maps",
		Object:   "_" + s + "Object",
	}
}

// isDataSection mirrors cilium/ebpf's rule for which maps hold global data,
// and .kconfig, whose variables the loader fills.
func isDataSection(name string) bool {
	return strings.HasPrefix(name, ".bss") || strings.HasPrefix(name, ".data") || strings.HasPrefix(name, ".rodata") || name == ".kconfig"
}

func modelMaps(obj *Object, spec *ebpf.CollectionSpec, n *namer, ty *typer, events *eventPlan) error {
	fields := n.scope("the Maps struct")
	for _, name := range slices.Sorted(maps.Keys(spec.Maps)) {
		ms := spec.Maps[name]
		if isDataSection(name) {
			continue
		}
		if strings.HasPrefix(name, ".") {
			// .kconfig and other special sections.
			obj.Notes = append(obj.Notes, fmt.Sprintf("section %s is not mirrored yet", Display(name)))
			continue
		}
		m := &Map{
			CName: name, Type: ms.Type, KeySize: ms.KeySize, ValueSize: ms.ValueSize,
			MaxEntries: ms.MaxEntries, Flags: ms.Flags, Desc: ms,
		}
		o := origin{kind: "map", cname: name}
		m.GoName = n.name(o, name)
		fields.add(&m.GoName, o)

		kind, why := handleOf(ms)
		if why != "" {
			obj.Notes = append(obj.Notes, fmt.Sprintf("map %s: %s", Display(name), why))
			obj.Maps = append(obj.Maps, m)
			continue
		}
		if err := mapTypes(m, ms, kind, ty); err != nil {
			return err
		}
		if isEventMap(ms.Type) {
			if err := events.apply(obj, m, ty); err != nil {
				return err
			}
		}
		if err := checkArgs(m, ms, kind); err != nil {
			return err
		}
		m.Handle = kind.handle(m)
		obj.Maps = append(obj.Maps, m)
	}
	return nil
}

// mapTypes sets the key, value and inner map types of a map with a typed
// handle: made by the handle's row, or read from BTF.
func mapTypes(m *Map, ms *ebpf.MapSpec, kind handleKind, ty *typer) error {
	name := m.CName
	hint := Identifier(name)
	var err error
	if kind.key != nil {
		m.Key = kind.key(m)
	} else if m.Key, err = ty.kvType(ms.Key, ms.KeySize, hint+"Key", fmt.Sprintf("as the key of map %s", Display(name))); err != nil {
		return fmt.Errorf("map %q: key: %w", name, err)
	}
	if kind.value != nil {
		m.Value = kind.value(m)
	} else if m.Value, err = ty.kvType(ms.Value, ms.ValueSize, hint+"Value", fmt.Sprintf("as the value of map %s", Display(name))); err != nil {
		return fmt.Errorf("map %q: value: %w", name, err)
	}
	if m.Inner, err = ty.innerMap(ms, hint); err != nil {
		return fmt.Errorf("map %q: inner map: %w", name, err)
	}
	return nil
}

// checkArgs rejects a map whose handle takes a type the map lacks: a key
// for a map declared with key_size 0, say.
func checkArgs(m *Map, ms *ebpf.MapSpec, kind handleKind) error {
	if kind.args == nil {
		return nil
	}
	for _, a := range kind.args(m) {
		if a == nil {
			return fmt.Errorf("map %q: the %s handle needs a key and a value type, but this %s map has key_size %d and value_size %d; fix its declaration", m.CName, kind.name, ms.Type, ms.KeySize, ms.ValueSize)
		}
	}
	return nil
}

// kvType is the Go type of a map key or value: its BTF type, or bytes when
// the object has none (a map declared without __type). A map without keys
// (key_size 0: queues, stacks, bloom filters) has a nil key type.
func (ty *typer) kvType(t btf.Type, size uint32, hint, where string) (*Type, error) {
	if size == 0 {
		return nil, nil
	}
	if t == nil {
		return bytesOf(int(size)), nil
	}
	if _, void := t.(*btf.Void); void {
		return bytesOf(int(size)), nil
	}
	typ, _, err := ty.goType(t, hint, where, 0)
	if err != nil {
		return nil, err
	}
	if got := sizeOf(typ); got != int(size) {
		return nil, fmt.Errorf("BTF type %s is %d bytes but the map says %d", cname(t), got, size)
	}
	return typ, nil
}

func modelPrograms(obj *Object, spec *ebpf.CollectionSpec, n *namer) {
	fields := n.scope("the Programs struct")
	for _, name := range slices.Sorted(maps.Keys(spec.Programs)) {
		ps := spec.Programs[name]
		o := origin{kind: "program", cname: name}
		p := &Program{
			CName: name, GoName: n.name(o, name), SectionName: ps.SectionName,
			Type: ps.Type, AttachType: ps.AttachType, AttachTo: ps.AttachTo, Desc: ps,
		}
		fields.add(&p.GoName, o)
		obj.Programs = append(obj.Programs, p)
	}
}

func modelSections(obj *Object, spec *ebpf.CollectionSpec, stem string, n *namer, ty *typer) error {
	for _, name := range slices.Sorted(maps.Keys(spec.Maps)) {
		ms := spec.Maps[name]
		if !isDataSection(name) {
			continue
		}
		ds, ok := ms.Value.(*btf.Datasec)
		if !ok {
			obj.Notes = append(obj.Notes, fmt.Sprintf("section %s has no BTF and is not mirrored", Display(name)))
			continue
		}
		if ds.Size != ms.ValueSize {
			return fmt.Errorf("section %s: its BTF says %d bytes but the ELF section has %d; the object is damaged (rebuild it)", Display(name), ds.Size, ms.ValueSize)
		}
		vars := append([]btf.VarSecinfo(nil), ds.Vars...)
		sort.SliceStable(vars, func(i, j int) bool { return vars[i].Offset < vars[j].Offset })
		var items []item
		globals := 0
		for _, vs := range vars {
			v, ok := vs.Type.(*btf.Var)
			if !ok {
				return fmt.Errorf("section %s: entry at offset %d is %s, not a variable", Display(name), vs.Offset, cname(vs.Type))
			}
			if v.Linkage != btf.GlobalVar {
				items = append(items, item{cname: v.Name, bitOff: vs.Offset * 8, padNote: "static " + Display(v.Name), size: int(vs.Size)})
				continue
			}
			globals++
			items = append(items, item{cname: v.Name, bitOff: vs.Offset * 8, typ: v.Type})
		}
		if globals == 0 {
			// Only compiler-made or static data, such as bpf_printk's
			// format strings: nothing for a user to read or set.
			continue
		}
		goName := Identifier(name)
		d := &Decl{Kind: Struct, CKind: "section", CName: name, Size: int(ds.Size), Desc: ds,
			GoName: Identifier(stem) + goName}
		ty.order = append(ty.order, d)
		sn := &Section{CName: name, GoName: goName, Decl: d, ReadOnly: strings.HasPrefix(name, ".rodata") || name == ".kconfig", Frozen: name == ".kconfig", Desc: ms}
		// Sections are mapped at page boundaries: any alignment fits.
		if err := ty.layout(d, items, 0, 8); err != nil {
			return fmt.Errorf("section %s: %w", Display(name), err)
		}
		obj.Sections = append(obj.Sections, sn)
	}
	return nil
}

// checkPackageScope claims every package-level identifier, and the fields
// and methods of the skeleton struct.
func checkPackageScope(obj *Object, n *namer) {
	pkg := n.scope("the package")
	pkg.first = true
	sk := obj.Names
	for _, g := range []struct{ id, what string }{
		{sk.Skeleton, "the generated skeleton type"}, {sk.Maps, "the generated Maps type"},
		{sk.Programs, "the generated Programs type"}, {sk.Spec, "the generated Spec type"},
		{sk.Open, "the generated Open function"}, {sk.Load, "the generated Load function"},
		{sk.OpenMaps, "the generated OpenMaps function"},
	} {
		pkg.reserve(g.id, g.what)
	}
	for _, d := range obj.Decls {
		cn := d.CName
		if cn == "" {
			cn = d.GoName
		}
		pkg.add(&d.GoName, origin{kind: d.CKind, cname: cn})
		for _, v := range d.Values {
			pkg.add(&v.GoName, origin{kind: "enum value", cname: v.CName})
		}
	}
	skel := n.scope("the " + sk.Skeleton + " struct")
	for _, id := range skeletonMembers {
		skel.reserve(id, "a generated field or method of the skeleton")
	}
	for _, s := range obj.Sections {
		skel.add(&s.GoName, origin{kind: "section", cname: s.CName})
	}
}

// skeletonMembers are the fields and methods gen declares on the skeleton
// struct; a section must not take one of their names.
var skeletonMembers = []string{"Maps", "Programs", "Close", "Collection"}

// joinSorted joins errors in a stable order.
func joinSorted(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}
