package btfmodel

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// Map flags from include/uapi/linux/bpf.h.
const (
	bpfFMmapable     = 1 << 10
	bpfFStackBuildID = 1 << 5
)

// handleKind is one row of the table below: the runtime handle a kind of
// map gets, and the type arguments it takes.
type handleKind struct {
	name string
	args func(m *Map) []*Type
	// key and value, when set, make the key or value type from the map's
	// sizes instead of reading it from BTF: the handle fixes it (a stack
	// trace id is a uint32), or the object has no BTF for it.
	key, value func(m *Map) *Type
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

var uint32Type = &Type{Kind: Basic, Basic: "uint32"}

// stackID is the key of a stack trace map: the id bpf_get_stackid returns.
func stackID(*Map) *Type { return uint32Type }

// stackOfAddresses is the value of a stack trace map: value_size/8
// instruction addresses, usually declared without BTF.
func stackOfAddresses(m *Map) *Type {
	return &Type{Kind: Array, Len: int(m.ValueSize / 8), Elem: &Type{Kind: Basic, Basic: "uint64"}}
}

// stackBuildIDSize is sizeof(struct bpf_stack_build_id), one frame of a
// stack trace map with BPF_F_STACK_BUILD_ID.
const stackBuildIDSize = 32

// stackBuildIDName is the runtime's mirror of struct bpf_stack_build_id.
const stackBuildIDName = "StackBuildID"

// stackOfBuildIDs is the value of a stack trace map with
// BPF_F_STACK_BUILD_ID: value_size/32 frames, each the runtime's mirror of
// struct bpf_stack_build_id.
func stackOfBuildIDs(m *Map) *Type {
	return &Type{Kind: Array, Len: int(m.ValueSize / stackBuildIDSize), Elem: &Type{Kind: Runtime, Basic: stackBuildIDName}}
}

// handleKinds says which runtime handle each map type gets. Adding a typed
// handle for a map type is a row here and a type in runtime/bpfskel; gen
// emits any row the same way. A map type not listed gets a *ebpf.Map.
var handleKinds = map[ebpf.MapType]handleKind{
	ebpf.Hash:        {name: "Map", args: keyValue},
	ebpf.LRUHash:     {name: "Map", args: keyValue},
	ebpf.Array:       {name: "Map", args: keyValue},
	ebpf.LPMTrie:     {name: "Map", args: keyValue},
	ebpf.PerCPUHash:  {name: "PerCPUMap", args: keyValue},
	ebpf.PerCPUArray: {name: "PerCPUMap", args: keyValue},
	ebpf.LRUCPUHash:  {name: "PerCPUMap", args: keyValue},
	ebpf.Queue:       {name: "Queue", args: valueOnly},
	ebpf.Stack:       {name: "Stack", args: valueOnly},
	ebpf.BloomFilter: {name: "BloomFilter", args: valueOnly},
	ebpf.StackTrace:  {name: "StackTraceMap", args: valueOnly, key: stackID, value: stackOfAddresses},

	ebpf.RingBuf:        {name: "RingBuf", args: eventArg},
	ebpf.PerfEventArray: {name: "PerfEventArray", args: eventArg},
	// Written by user space, drained by BPF programs.
	ebpf.UserRingbuf: {name: "UserRingBuf", args: eventArg},

	// Maps whose values user space writes as file descriptors, maps of
	// maps and local storage (handles_fd.go).
	ebpf.ProgramArray:       {name: "ProgArray"},
	ebpf.CGroupArray:        {name: "CgroupArray"},
	ebpf.XSKMap:             {name: "XSKMap"},
	ebpf.SockMap:            {name: "SockMap", args: keyOnly},
	ebpf.SockHash:           {name: "SockMap", args: keyOnly},
	ebpf.ReusePortSockArray: {name: "SockMap", args: keyOnly},
	ebpf.ArrayOfMaps:        {name: "MapOfMaps", args: keyInner},
	ebpf.HashOfMaps:         {name: "MapOfMaps", args: keyInner},
	ebpf.DevMap:             {name: "Map", args: keyValue},
	ebpf.DevMapHash:         {name: "Map", args: keyValue},
	ebpf.CPUMap:             {name: "Map", args: keyValue},
	ebpf.SkStorage:          {name: "Storage", args: valueOnly},
	ebpf.TaskStorage:        {name: "Storage", args: valueOnly},
	ebpf.InodeStorage:       {name: "Storage", args: valueOnly},
	ebpf.CgroupStorage:      {name: "Storage", args: valueOnly},
	// Legacy cgroup storage: keyed by struct bpf_cgroup_storage_key (the
	// cgroup's inode and the attach type), present while a program using
	// it is attached.
	ebpf.CGroupStorage:       {name: "Map", args: keyValue},
	ebpf.PerCPUCGroupStorage: {name: "PerCPUMap", args: keyValue},
}

// handleOf returns the handle kind of the map ms describes, or why it has
// none.
func handleOf(ms *ebpf.MapSpec) (handleKind, string) {
	switch {
	case ms.Type == ebpf.Array && ms.Flags&bpfFMmapable != 0:
		return handleKind{name: "MmapArray", args: keyValue}, ""
	case ms.Type == ebpf.StackTrace && ms.Flags&bpfFStackBuildID != 0 && ms.ValueSize%stackBuildIDSize != 0:
		return handleKind{}, fmt.Sprintf("a StackTrace map with BPF_F_STACK_BUILD_ID holds 32-byte struct bpf_stack_build_id frames, so its value_size must be a multiple of 32 (the kernel refuses to create it otherwise), not %d; the skeleton holds a *ebpf.Map", ms.ValueSize)
	case ms.Type == ebpf.StackTrace && ms.Flags&bpfFStackBuildID != 0:
		return handleKind{name: "StackTraceMap", args: valueOnly, key: stackID, value: stackOfBuildIDs}, ""
	case ms.Type == ebpf.StackTrace && ms.ValueSize%8 != 0:
		return handleKind{}, fmt.Sprintf("a StackTrace map's value_size must be a multiple of 8, not %d; the skeleton holds a *ebpf.Map", ms.ValueSize)
	}
	k, ok := handleKinds[ms.Type]
	if !ok {
		return handleKind{}, fmt.Sprintf("%s maps have no typed handle yet; the skeleton holds a *ebpf.Map", ms.Type)
	}
	return k, ""
}
