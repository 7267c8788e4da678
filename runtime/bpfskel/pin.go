package bpfskel

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
)

// DefaultPinPath is the bpffs directory where [Spec.Load] pins and reuses
// the maps an object declares with __uint(pinning, LIBBPF_PIN_BY_NAME)
// when LoadOptions.Maps.PinPath is empty. It is libbpf's default too, so a
// C loader built with libbpf and a Go skeleton share the same pins. Set
// LoadOptions.Maps.PinPath to use another directory (it must be on a bpffs
// mount and exist).
const DefaultPinPath = "/sys/fs/bpf"

// withDefaultPinPath sets DefaultPinPath when the object pins a map by name
// and opts name no directory; cilium/ebpf alone fails such a load.
func withDefaultPinPath(spec *ebpf.CollectionSpec, opts LoadOptions) LoadOptions {
	if opts.Maps.PinPath != "" {
		return opts
	}
	for _, ms := range spec.Maps {
		if ms.Pinning == ebpf.PinByName {
			opts.Maps.PinPath = DefaultPinPath
			break
		}
	}
	return opts
}

// explainPinned turns cilium/ebpf's report of a pinned map that does not
// match the object into one that names the map, the pin, what differs and
// the fix. Other errors are returned unchanged.
func explainPinned(spec *ebpf.CollectionSpec, opts LoadOptions, err error) error {
	if !errors.Is(err, ebpf.ErrMapIncompatible) {
		return err
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(spec.Maps)) {
		ms := spec.Maps[name]
		if ms.Pinning != ebpf.PinByName {
			continue
		}
		path := filepath.Join(opts.Maps.PinPath, ms.Name)
		pinned, perr := ebpf.LoadPinnedMap(path, &opts.Maps.LoadPinOptions)
		if perr != nil {
			continue
		}
		diffs := mapDiffs(ms, pinned, true)
		pinned.Close()
		if len(diffs) == 0 {
			continue
		}
		errs = append(errs, fmt.Errorf("map %q: the map pinned at %s does not match the object: %s; "+
			"remove the stale pin (rm %s) so that Load creates the map afresh, "+
			"or load with another LoadOptions.Maps.PinPath", name, path, strings.Join(diffs, ", "), path))
	}
	if len(errs) == 0 {
		return err
	}
	return fmt.Errorf("%w: %w", errors.Join(errs...), ebpf.ErrMapIncompatible)
}

// mapDiffs lists how m differs from ms: type, key and value size, flags
// and, when entries is set, the number of entries. BPF_F_RDONLY_PROG is
// ignored on device maps, where the kernel sets it itself.
func mapDiffs(ms *ebpf.MapSpec, m *ebpf.Map, entries bool) []string {
	var d []string
	if m.Type() != ms.Type {
		d = append(d, fmt.Sprintf("it is a %s map, the object declares %s", m.Type(), ms.Type))
	}
	keySize, valueSize := createdSizes(ms)
	if m.KeySize() != keySize {
		d = append(d, fmt.Sprintf("key is %d bytes there, %d in the object", m.KeySize(), keySize))
	}
	if m.ValueSize() != valueSize && !isPerCPU(ms.Type) {
		d = append(d, fmt.Sprintf("value is %d bytes there, %d in the object", m.ValueSize(), valueSize))
	}
	// Loaders size perf event arrays and CPU maps to the machine, and an
	// object may leave the number of entries to them.
	entries = entries && ms.MaxEntries != 0 && ms.Type != ebpf.PerfEventArray && ms.Type != ebpf.CPUMap
	if entries && m.MaxEntries() != ms.MaxEntries {
		d = append(d, fmt.Sprintf("it has %d entries, the object %d", m.MaxEntries(), ms.MaxEntries))
	}
	flags := m.Flags()
	if ms.Type == ebpf.DevMap || ms.Type == ebpf.DevMapHash {
		flags = flags&^bpfFRdonlyProg | ms.Flags&bpfFRdonlyProg
	}
	if flags != ms.Flags {
		d = append(d, fmt.Sprintf("flags are %#x there, %#x in the object", flags, ms.Flags))
	}
	return d
}

// createdSizes are the key and value sizes a map created from ms has:
// objects may leave out the 4-byte values of maps of maps and the 4-byte
// keys and values of perf event arrays, which libbpf and cilium/ebpf fill
// in.
func createdSizes(ms *ebpf.MapSpec) (key, value uint32) {
	key, value = ms.KeySize, ms.ValueSize
	switch ms.Type {
	case ebpf.ArrayOfMaps, ebpf.HashOfMaps:
		value = 4
	case ebpf.PerfEventArray:
		key, value = 4, 4
	}
	return key, value
}

// bpfFRdonlyProg is BPF_F_RDONLY_PROG from include/uapi/linux/bpf.h.
const bpfFRdonlyProg = 1 << 7

// mapSpecs copies the map specs of an object, for inner map templates and
// for checking maps opened from elsewhere. The copies are shallow: binds
// read their type, sizes and flags, and BindMapOfMaps copies the inner map
// template before using it; the BTF key and value types are shared
// (nothing changes a parsed type) and Contents is left out (nothing reads
// it after load). MapSpec.Copy copied every BTF type: 15 of the 56
// allocations the hello skeleton's Load added to cilium/ebpf's in
// BenchmarkLoadClose.
func mapSpecs(spec *ebpf.CollectionSpec) map[string]*ebpf.MapSpec {
	out := make(map[string]*ebpf.MapSpec, len(spec.Maps))
	for name, ms := range spec.Maps {
		c := *ms
		c.Contents = nil
		out[name] = &c
	}
	return out
}

// pinMap pins m at path for the handle of map name. The caller holds the
// Collection's guard.
func pinMap(m *ebpf.Map, name, path string) error {
	if m == nil {
		return errNilMap
	}
	if err := m.Pin(path); err != nil {
		return fmt.Errorf("map %q: pin at %s (is the directory on a bpffs mount?): %w", name, path, err)
	}
	return nil
}

// unpinMap removes the pin of m, if any.
func unpinMap(m *ebpf.Map, name string) error {
	if m == nil {
		return errNilMap
	}
	if err := m.Unpin(); err != nil {
		return fmt.Errorf("map %q: unpin: %w", name, err)
	}
	return nil
}

// Pin pins the map at path, a file on a bpffs mount (usually under
// /sys/fs/bpf), so that it outlives the process and other processes can
// open it. Pinning a pinned map moves the pin.
func (m *Map[K, V]) Pin(path string) error {
	if m == nil || m.m == nil {
		return errNilMap
	}
	if !m.enter() {
		return closedErr("map", m.name, "pin")
	}
	defer m.coll.exit()
	return pinMap(m.m, m.name, path)
}

// Unpin removes the map's pin; the map itself lives on while anything
// uses it. Unpinning a map that is not pinned does nothing.
func (m *Map[K, V]) Unpin() error {
	if m == nil {
		return errNilMap
	}
	return unpinMap(m.m, m.name)
}

// Pin pins the map at path, as [Map.Pin] does.
func (f *fdMap[K]) Pin(path string) error {
	if err := f.check(); err != nil {
		return err
	}
	if !f.coll.enter() {
		return closedErr("map", f.name, "pin")
	}
	defer f.coll.exit()
	return pinMap(f.m, f.name, path)
}

// Unpin removes the map's pin, as [Map.Unpin] does.
func (f *fdMap[K]) Unpin() error {
	if err := f.check(); err != nil {
		return err
	}
	return unpinMap(f.m, f.name)
}

// Pin pins the map at path, as [Map.Pin] does.
func (h *ProgArray) Pin(path string) error { return h.fd().Pin(path) }

// Unpin removes the map's pin, as [Map.Unpin] does.
func (h *ProgArray) Unpin() error { return h.fd().Unpin() }

// Pin pins the map at path, as [Map.Pin] does.
func (h *CgroupArray) Pin(path string) error { return h.fd().Pin(path) }

// Unpin removes the map's pin, as [Map.Unpin] does.
func (h *CgroupArray) Unpin() error { return h.fd().Unpin() }

// Pin pins the map at path, as [Map.Pin] does.
func (h *XSKMap) Pin(path string) error { return h.fd().Pin(path) }

// Unpin removes the map's pin, as [Map.Unpin] does.
func (h *XSKMap) Unpin() error { return h.fd().Unpin() }

// Pin pins the map at path, as [Map.Pin] does.
func (h *SockMap[K]) Pin(path string) error { return h.fd().Pin(path) }

// Unpin removes the map's pin, as [Map.Unpin] does.
func (h *SockMap[K]) Unpin() error { return h.fd().Unpin() }

// Pin pins the map at path, as [Map.Pin] does.
func (s *Storage[V]) Pin(path string) error { return s.handle().Pin(path) }

// Unpin removes the map's pin, as [Map.Unpin] does.
func (s *Storage[V]) Unpin() error { return s.handle().Unpin() }
