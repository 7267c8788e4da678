package btfmodel

import "github.com/cilium/ebpf"

// bpfFMmapable is BPF_F_MMAPABLE from include/uapi/linux/bpf.h.
const bpfFMmapable = 1 << 10

// handleKind is one row of the table below: the runtime handle a kind of
// map gets, and the type arguments it takes.
type handleKind struct {
	name string
	args func(m *Map) []*Type
}

func (k handleKind) handle(m *Map) Handle {
	h := Handle{Name: k.name}
	if k.args != nil {
		h.Args = k.args(m)
	}
	if m.Event != nil && m.EventTail >= 0 {
		// The event type ends in a flexible array: the Tail variant of
		// the handle, bound with the array's offset.
		h.Name += "Tail"
		h.Extra = []int{m.EventTail}
	}
	return h
}

// keyValue instantiates a handle with the map's key and value types.
func keyValue(m *Map) []*Type { return []*Type{m.Key, m.Value} }

// handleKinds says which runtime handle each map type gets. Adding a typed
// handle for a map type is a row here and a type in runtime/bpfskel; gen
// emits any row the same way. A map type not listed gets a *ebpf.Map.
var handleKinds = map[ebpf.MapType]handleKind{
	ebpf.Hash:    {"Map", keyValue},
	ebpf.LRUHash: {"Map", keyValue},
	ebpf.Array:   {"Map", keyValue},

	ebpf.RingBuf:        {"RingBuf", eventArg},
	ebpf.PerfEventArray: {"PerfEventArray", eventArg},

	// Maps whose values user space writes as file descriptors, maps of
	// maps and local storage (handles_fd.go).
	ebpf.ProgramArray:  {"ProgArray", nil},
	ebpf.CGroupArray:   {"CgroupArray", nil},
	ebpf.XSKMap:        {"XSKMap", nil},
	ebpf.SockMap:       {"SockMap", keyOnly},
	ebpf.SockHash:      {"SockMap", keyOnly},
	ebpf.ArrayOfMaps:   {"MapOfMaps", keyInner},
	ebpf.HashOfMaps:    {"MapOfMaps", keyInner},
	ebpf.DevMap:        {"Map", keyValue},
	ebpf.DevMapHash:    {"Map", keyValue},
	ebpf.CPUMap:        {"Map", keyValue},
	ebpf.SkStorage:     {"Storage", valueOnly},
	ebpf.TaskStorage:   {"Storage", valueOnly},
	ebpf.InodeStorage:  {"Storage", valueOnly},
	ebpf.CgroupStorage: {"Storage", valueOnly},
}

// handleOf returns the handle kind of the map ms describes, and whether it
// has one.
func handleOf(ms *ebpf.MapSpec) (handleKind, bool) {
	if ms.Type == ebpf.Array && ms.Flags&bpfFMmapable != 0 {
		return handleKind{"MmapArray", keyValue}, true
	}
	k, ok := handleKinds[ms.Type]
	return k, ok
}
