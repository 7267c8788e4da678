package btfmodel

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// rawEventName is the runtime type of records whose C type is unknown.
const rawEventName = "RawEvent"

// isEventMap reports whether maps of type t carry events rather than
// keys and values: records the BPF side writes (ring buffers, perf event
// arrays) or reads (user ring buffers, drained with bpf_user_ringbuf_drain).
func isEventMap(t ebpf.MapType) bool {
	return t == ebpf.RingBuf || t == ebpf.PerfEventArray || t == ebpf.UserRingbuf
}

// eventArg instantiates an event handle with the map's event type.
func eventArg(m *Map) []*Type { return []*Type{m.Event} }

// eventPlan is the decision, made before any type is mirrored, of which C
// type the records of each ring buffer and perf event array are.
type eventPlan struct {
	explicit map[string]btf.Type // by map C name, from -event
	// candidates are the struct types the object names as events: the
	// pointees of global pointer variables and the -type structs, sorted by
	// C spelling. With exactly one, every event map without -event uses it.
	candidates []btf.Type
}

// planEvents reads -event and finds the candidate event types.
func planEvents(spec *ebpf.CollectionSpec, opts Options) (*eventPlan, error) {
	p := &eventPlan{explicit: map[string]btf.Type{}}
	var errs []error
	for _, mapName := range slices.Sorted(maps.Keys(opts.Events)) {
		typeName := opts.Events[mapName]
		flag := fmt.Sprintf("-event %s=%s", Display(mapName), Display(typeName))
		ms, ok := spec.Maps[mapName]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s: the object has no map called %s; its ring buffers, user ring buffers and perf event arrays are: %s", flag, Display(mapName), eventMapList(spec)))
			continue
		case !isEventMap(ms.Type):
			errs = append(errs, fmt.Errorf("%s: map %s is a %s map, not a ring buffer, user ring buffer or perf event array", flag, Display(mapName), ms.Type))
			continue
		}
		t, err := lookupNamed(spec.Types, typeName)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", flag, err))
			continue
		}
		p.explicit[mapName] = t
	}
	if err := joinSorted(errs); err != nil {
		return nil, err
	}

	seen := map[btf.Type]bool{}
	add := func(t btf.Type) {
		if s, ok := resolve(t).(*btf.Struct); ok && !seen[s] {
			seen[s] = true
			p.candidates = append(p.candidates, t)
		}
	}
	for _, v := range pointerGlobals(spec) {
		add(v.pointee)
	}
	for _, name := range opts.Types {
		if t, err := lookupNamed(spec.Types, name); err == nil {
			add(t)
		}
	}
	sort.SliceStable(p.candidates, func(i, j int) bool { return cname(p.candidates[i]) < cname(p.candidates[j]) })
	return p, nil
}

// eventMapList names the object's ring buffers, user ring buffers and perf
// event arrays.
func eventMapList(spec *ebpf.CollectionSpec) string {
	var names []string
	for _, name := range slices.Sorted(maps.Keys(spec.Maps)) {
		if isEventMap(spec.Maps[name].Type) {
			names = append(names, Display(name))
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// apply gives m, an event map (see isEventMap), its event type:
// the -event type, else the object's only candidate, else RawEvent with a
// note naming the flag that fixes it.
func (p *eventPlan) apply(obj *Object, m *Map, ty *typer) error {
	m.EventTail = -1
	t, ok := p.explicit[m.CName]
	if !ok && len(p.candidates) == 1 {
		t, ok = p.candidates[0], true
	}
	if !ok {
		m.Event = &Type{Kind: Runtime, Basic: rawEventName}
		var why string
		if len(p.candidates) == 0 {
			why = "the object names no event type (declare `const struct NAME *unused __attribute__((unused));` in the BPF program, or pass -type NAME)"
		} else {
			names := make([]string, len(p.candidates))
			for i, c := range p.candidates {
				names[i] = cname(c)
			}
			why = fmt.Sprintf("the object names %d candidate event types (%s)", len(names), strings.Join(names, ", "))
		}
		use := "read with ReadRaw"
		if m.Type == ebpf.UserRingbuf {
			use = "written with WriteBytes"
		}
		obj.Notes = append(obj.Notes, fmt.Sprintf("map %s: records are raw bytes (bpfskel.RawEvent, %s): %s; give the type with -event %s=NAME",
			Display(m.CName), use, why, Display(m.CName)))
		return nil
	}
	hint := Identifier(m.CName) + "Event"
	typ, _, err := ty.goType(t, hint, fmt.Sprintf("as the event type of map %s", Display(m.CName)), 0)
	if err != nil {
		return fmt.Errorf("map %q: event type %s: %w", m.CName, cname(t), err)
	}
	m.Event, m.EventSize = typ, sizeOf(typ)
	m.EventTail = flexOffset(t)
	return nil
}

// resolve strips qualifiers and typedefs.
func resolve(t btf.Type) btf.Type {
	for range maxDepth {
		t = skipQualifiers(t)
		td, ok := t.(*btf.Typedef)
		if !ok {
			return t
		}
		t = td.Type
	}
	return t
}

// flexOffset is the byte offset of t's trailing flexible (or zero-length)
// array member, or -1 when t is not a struct ending in one.
func flexOffset(t btf.Type) int {
	s, ok := resolve(t).(*btf.Struct)
	if !ok || len(s.Members) == 0 {
		return -1
	}
	last := s.Members[len(s.Members)-1]
	if a, ok := resolve(last.Type).(*btf.Array); ok && a.Nelems == 0 && last.BitfieldSize == 0 && last.Offset%8 == 0 {
		return int(last.Offset / 8)
	}
	return -1
}

// lookupNamed finds the struct, union, enum or typedef called name in the
// object's BTF. When a tag and a typedef share the name (typedef struct foo
// foo), the tagged type wins.
func lookupNamed(spec *btf.Spec, name string) (btf.Type, error) {
	notFound := fmt.Errorf("no struct, union, enum or typedef called %s in the object's BTF; check the spelling, or make the program use the type: BTF describes only what globals, maps and functions use (the idiom is `const struct %s *unused __attribute__((unused));`)",
		Display(name), Display(name))
	if spec == nil {
		return nil, notFound
	}
	types, err := spec.AnyTypesByName(name)
	if errors.Is(err, btf.ErrNotFound) {
		return nil, notFound
	} else if err != nil {
		return nil, err
	}
	var tagged, typedefs []btf.Type
	for _, t := range types {
		switch t.(type) {
		case *btf.Struct, *btf.Union, *btf.Enum:
			tagged = append(tagged, t)
		case *btf.Typedef:
			typedefs = append(typedefs, t)
		}
	}
	switch {
	case len(tagged) == 1:
		return tagged[0], nil
	case len(tagged) > 1:
		return nil, fmt.Errorf("%d different types are called %s in the object's BTF; bpfskel cannot tell which one is meant", len(tagged), Display(name))
	case len(typedefs) == 1:
		return typedefs[0], nil
	case len(typedefs) > 1:
		return nil, fmt.Errorf("%d different typedefs are called %s in the object's BTF; bpfskel cannot tell which one is meant", len(typedefs), Display(name))
	}
	return nil, notFound
}

// pointerGlobal is a global variable whose type is a pointer.
type pointerGlobal struct {
	name    string
	pointee btf.Type
}

// pointerGlobals lists the global pointer variables of every data section,
// sorted by name: `const struct event *unused __attribute__((unused));` is
// how programs make an event type reach BTF.
func pointerGlobals(spec *ebpf.CollectionSpec) []pointerGlobal {
	var out []pointerGlobal
	for _, name := range slices.Sorted(maps.Keys(spec.Maps)) {
		if !isDataSection(name) {
			continue
		}
		ds, ok := spec.Maps[name].Value.(*btf.Datasec)
		if !ok {
			continue
		}
		for _, vs := range ds.Vars {
			v, ok := vs.Type.(*btf.Var)
			if !ok || v.Linkage != btf.GlobalVar {
				continue
			}
			if ptr, ok := resolve(v.Type).(*btf.Pointer); ok {
				out = append(out, pointerGlobal{name: v.Name, pointee: skipQualifiers(ptr.Target)})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// declarable reports whether t names a type the model declares: a struct,
// union or enum, possibly behind typedefs.
func declarable(t btf.Type) bool {
	switch resolve(t).(type) {
	case *btf.Struct, *btf.Union, *btf.Enum:
		return true
	}
	return false
}

// mirrorExtra declares the types that no map or global reaches by value:
// the pointee of every global pointer variable, every -type, and every
// named enum of the object's BTF. -type failures are errors; the others
// are notes, so that an optional extra never stops generation.
func mirrorExtra(obj *Object, spec *ebpf.CollectionSpec, opts Options, ty *typer) error {
	for _, pg := range pointerGlobals(spec) {
		if !declarable(pg.pointee) {
			continue
		}
		where := fmt.Sprintf("as the target of global pointer %s", Display(pg.name))
		if err := ty.try(func() error {
			_, _, err := ty.goType(pg.pointee, Identifier(pg.name)+"Target", where, 0)
			return err
		}); err != nil {
			obj.Notes = append(obj.Notes, fmt.Sprintf("global pointer %s: its target %s is not mirrored: %v", Display(pg.name), cname(pg.pointee), err))
		}
	}

	var errs []error
	for _, name := range opts.Types {
		flag := "-type " + Display(name)
		t, err := lookupNamed(spec.Types, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", flag, err))
			continue
		}
		if !declarable(t) {
			// A typedef of a scalar or an array: its Go type is spelled
			// out where it is used, there is nothing to declare.
			obj.Notes = append(obj.Notes, fmt.Sprintf("%s: typedef %s is not a struct, union or enum; nothing is declared for it", flag, Display(name)))
			continue
		}
		if _, _, err := ty.goType(t, Identifier(name), "named by -type", 0); err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", flag, cname(t), err))
		}
	}
	if err := joinSorted(errs); err != nil {
		return err
	}

	if spec.Types == nil {
		return nil
	}
	var enums []*btf.Enum
	for t, err := range spec.Types.All() {
		if err != nil {
			return fmt.Errorf("reading BTF: %w", err)
		}
		if e, ok := t.(*btf.Enum); ok && e.Name != "" {
			enums = append(enums, e)
		}
	}
	sort.SliceStable(enums, func(i, j int) bool { return enums[i].Name < enums[j].Name })
	for _, e := range enums {
		if err := ty.try(func() error {
			_, err := ty.decl(e, "", "", 0)
			return err
		}); err != nil {
			obj.Notes = append(obj.Notes, fmt.Sprintf("enum %s is not mirrored: %v", Display(e.Name), err))
		}
	}
	return nil
}

// try runs f, which declares types; when f fails it forgets every
// declaration and naming error f made, so a failed optional declaration
// leaves no half-built type behind.
func (ty *typer) try(f func() error) error {
	order, errs := len(ty.order), len(ty.n.errs)
	err := f()
	if err == nil {
		return nil
	}
	for _, d := range ty.order[order:] {
		delete(ty.decls, d.Desc)
	}
	ty.order = ty.order[:order]
	ty.n.errs = ty.n.errs[:errs]
	return err
}
