package bpfskel

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
)

// MapSource says where [OpenMaps] finds the maps of an object that another
// process (a C daemon, a previous run, another Go program) loaded. Make one
// with [PinnedIn], [PinnedAt], [ByName] or [ByID].
type MapSource struct {
	dir    string
	paths  map[string]string
	ids    map[string]ebpf.MapID
	byName bool
	only   []string
}

// PinnedIn finds each map pinned in the bpffs directory dir under its
// name, where LIBBPF_PIN_BY_NAME puts it (dir is LoadOptions.Maps.PinPath
// of the loader; libbpf and [Spec.Load] default to [DefaultPinPath]).
// With names (C names of maps), only those maps are opened and the other
// handles are nil; without, every map of the object must be pinned there.
func PinnedIn(dir string, names ...string) MapSource {
	return MapSource{dir: dir, only: names}
}

// PinnedAt finds maps pinned at arbitrary paths, keyed by the maps' C
// names (as `bpftool map pin` leaves them). Only those maps are opened.
func PinnedAt(paths map[string]string) MapSource {
	return MapSource{paths: maps.Clone(paths)}
}

// ByName finds each map among all the kernel's maps by its name (the
// kernel keeps the first 15 bytes of it). A name that more than one loaded
// map has is an error unless exactly one of them has the object's type,
// sizes and flags: open it with [ByID] or [PinnedIn] instead. With names,
// only those maps are opened and the other handles are nil.
func ByName(names ...string) MapSource {
	return MapSource{byName: true, only: names}
}

// ByID opens the maps with the given kernel IDs (as `bpftool map show`
// lists them), keyed by the maps' C names. Only those maps are opened.
func ByID(ids map[string]ebpf.MapID) MapSource {
	return MapSource{ids: maps.Clone(ids)}
}

// Opened holds typed handles on maps that [OpenMaps] opened: Maps is the
// generated skeleton's Maps struct. Close releases them; the maps
// themselves stay in the kernel for as long as their loader or pins keep
// them.
type Opened[M any] struct {
	// Maps holds a typed handle for each map opened; maps not asked for
	// are nil.
	Maps M

	c *Collection
}

// Close closes every handle opened, and every inner map handle made from
// them. It is idempotent.
func (o *Opened[M]) Close() error {
	if o == nil {
		return nil
	}
	return o.c.Close()
}

// OpenMaps opens typed handles on maps of the object s that are already in
// the kernel, found as from says, without loading anything. bind builds
// the handles with a [Binder], as a generated skeleton's Load does; a
// generated package's OpenMaps function supplies it.
//
// Every map is checked as a bind after loading checks it, and also against
// the object: its type, key and value sizes and flags must be the ones
// the object declares (the number of entries may differ: loaders resize
// maps). A map that does not match is an error naming the map, where it
// was found, what differs and the fix.
func OpenMaps[M any](s *Spec, from MapSource, bind func(*Binder) M) (*Opened[M], error) {
	if s == nil || s.spec == nil {
		return nil, errors.New("bpfskel: OpenMaps on a nil Spec")
	}
	if bind == nil {
		return nil, fmt.Errorf("%s: OpenMaps: nil bind function", s.name)
	}
	opened, where, err := from.open(s.spec)
	if err != nil {
		for _, m := range opened {
			m.Close()
		}
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	c := &Collection{name: s.name, coll: &ebpf.Collection{Maps: opened}, specs: mapSpecs(s.spec), from: where}
	b := NewBinder(c)
	handles := bind(b)
	if err := b.Done(); err != nil {
		return nil, err
	}
	return &Opened[M]{Maps: handles, c: c}, nil
}

// names returns the C names of the maps to open.
func (src MapSource) names(spec *ebpf.CollectionSpec) ([]string, error) {
	var names []string
	switch {
	case src.paths != nil:
		names = slices.Collect(maps.Keys(src.paths))
	case src.ids != nil:
		names = slices.Collect(maps.Keys(src.ids))
	case len(src.only) > 0:
		names = slices.Clone(src.only)
	default:
		for name := range spec.Maps {
			// Data sections and .kconfig are not in the Maps struct.
			if !strings.HasPrefix(name, ".") {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	var errs []error
	for _, name := range names {
		if spec.Maps[name] == nil || strings.HasPrefix(name, ".") {
			errs = append(errs, fmt.Errorf("map %q: the object has no such map; use the C name of one of its maps", name))
		}
	}
	return names, errors.Join(errs...)
}

// open opens the maps src names, and says where each was found.
func (src MapSource) open(spec *ebpf.CollectionSpec) (map[string]*ebpf.Map, map[string]string, error) {
	if src.dir == "" && src.paths == nil && src.ids == nil && !src.byName {
		return nil, nil, errors.New("OpenMaps: empty MapSource; use PinnedIn, PinnedAt, ByName or ByID")
	}
	names, err := src.names(spec)
	if err != nil {
		return nil, nil, err
	}
	opened := make(map[string]*ebpf.Map, len(names))
	where := make(map[string]string, len(names))
	var errs []error
	if src.byName {
		errs = findByName(spec, names, opened, where)
	}
	for _, name := range names {
		if src.byName {
			continue
		}
		var (
			m   *ebpf.Map
			err error
		)
		switch {
		case src.ids != nil:
			id := src.ids[name]
			where[name] = fmt.Sprintf("the kernel's map ID %d", id)
			if m, err = ebpf.NewMapFromID(id); err != nil {
				err = fmt.Errorf("map %q: open map ID %d: %w (is the loader still running?)", name, id, err)
			}
		default:
			path := src.paths[name]
			if src.dir != "" {
				path = filepath.Join(src.dir, spec.Maps[name].Name)
			}
			where[name] = "the map pinned at " + path
			m, err = ebpf.LoadPinnedMap(path, nil)
			switch {
			case errors.Is(err, os.ErrNotExist):
				err = fmt.Errorf("map %q: nothing is pinned at %s; did the loader pin it there (LIBBPF_PIN_BY_NAME maps go under its LoadOptions.Maps.PinPath, by default %s)?", name, path, DefaultPinPath)
			case err != nil:
				err = fmt.Errorf("map %q: open the pin %s: %w", name, path, err)
			}
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		opened[name] = m
	}
	return opened, where, errors.Join(errs...)
}

// kernelName is the name the kernel keeps for a map: BPF_OBJ_NAME_LEN-1
// bytes.
func kernelName(name string) string {
	if len(name) > 15 {
		return name[:15]
	}
	return name
}

// findByName walks the kernel's maps once and opens, for each of names,
// the one map whose name is the map's name.
func findByName(spec *ebpf.CollectionSpec, names []string, opened map[string]*ebpf.Map, where map[string]string) []error {
	wanted := map[string][]string{} // kernel name -> C names
	for _, name := range names {
		kn := kernelName(spec.Maps[name].Name)
		wanted[kn] = append(wanted[kn], name)
	}
	found := map[string][]*ebpf.Map{} // kernel name -> candidates
	var errs []error
	for id, err := ebpf.MapGetNextID(0); ; id, err = ebpf.MapGetNextID(id) {
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("list the kernel's maps: %w", err))
			break
		}
		m, err := ebpf.NewMapFromID(id)
		if err != nil {
			continue // gone since it was listed, or not ours to open
		}
		info, err := m.Info()
		if err != nil || wanted[info.Name] == nil {
			m.Close()
			continue
		}
		found[info.Name] = append(found[info.Name], m)
	}
	for _, name := range names {
		ms := spec.Maps[name]
		kn := kernelName(ms.Name)
		cands := found[kn]
		if len(cands) > 1 {
			// Keep the ones that match the object.
			var match []*ebpf.Map
			for _, m := range cands {
				if len(mapDiffs(ms, m, false)) == 0 {
					match = append(match, m)
				}
			}
			if len(match) > 0 {
				cands = match
			}
		}
		switch len(cands) {
		case 0:
			errs = append(errs, fmt.Errorf("map %q: no map named %q among the kernel's maps; is the loader running?", name, kn))
		case 1:
			m := cands[0]
			info, _ := m.Info()
			id, _ := info.ID()
			// A map found for two C names (equal up to 15 bytes) is
			// opened once per name.
			if clone, err := m.Clone(); err == nil {
				opened[name] = clone
			} else {
				errs = append(errs, fmt.Errorf("map %q: %w", name, err))
			}
			where[name] = fmt.Sprintf("the kernel's map ID %d (found by its name %q)", id, kn)
		default:
			ids := make([]string, len(cands))
			for i, m := range cands {
				info, _ := m.Info()
				id, _ := info.ID()
				ids[i] = fmt.Sprint(id)
			}
			errs = append(errs, fmt.Errorf("map %q: %d maps named %q match the object (IDs %s); open one with ByID or PinnedIn", name, len(cands), kn, strings.Join(ids, ", ")))
		}
	}
	for _, ms := range found {
		for _, m := range ms {
			m.Close()
		}
	}
	return errs
}

// origin says where the map called name came from, for messages.
func (c *Collection) origin(name string) string {
	if c != nil && c.from[name] != "" {
		return c.from[name]
	}
	return "the object"
}

// checkOpened records a map opened by [OpenMaps] whose type, key and value
// sizes or flags differ from the object's; maps the object was loaded into
// pass.
func (b *Binder) checkOpened(name string, m *ebpf.Map) bool {
	if b.c == nil || b.c.from == nil {
		return true
	}
	ms := b.c.specs[name]
	if ms == nil {
		b.fail("map %q: the object has no such map", name)
		return false
	}
	if diffs := mapDiffs(ms, m, false); len(diffs) > 0 {
		b.fail("map %q: %s does not match the object: %s; regenerate this package from the object that created the map, or open the right map",
			name, b.c.origin(name), strings.Join(diffs, ", "))
		return false
	}
	return true
}
