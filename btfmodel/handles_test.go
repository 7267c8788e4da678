package btfmodel

import (
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// TestMapHandles checks the handle table and the key and value types it
// asks for, on hand-built map specs.
func TestMapHandles(t *testing.T) {
	u32 := &btf.Int{Name: "u32", Size: 4}
	u64 := &btf.Int{Name: "u64", Size: 8}
	for _, tc := range []struct {
		spec       ebpf.MapSpec
		handle     string // "" for a *ebpf.Map
		args, note string
	}{
		{ebpf.MapSpec{Type: ebpf.Hash, KeySize: 4, ValueSize: 8, Key: u32, Value: u64}, "Map", "uint32 uint64", ""},
		{ebpf.MapSpec{Type: ebpf.LPMTrie, KeySize: 8, ValueSize: 4, Value: u32}, "Map", "[8]byte uint32", ""},
		{ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, Key: u32, Value: u64, Flags: bpfFMmapable}, "MmapArray", "uint32 uint64", ""},
		{ebpf.MapSpec{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, Key: u32, Value: u64}, "PerCPUMap", "uint32 uint64", ""},
		{ebpf.MapSpec{Type: ebpf.LRUCPUHash, KeySize: 4, ValueSize: 4, Key: u32, Value: u32}, "PerCPUMap", "uint32 uint32", ""},
		{ebpf.MapSpec{Type: ebpf.Queue, ValueSize: 8, Value: u64}, "Queue", "uint64", ""},
		{ebpf.MapSpec{Type: ebpf.Stack, ValueSize: 4, Value: u32}, "Stack", "uint32", ""},
		{ebpf.MapSpec{Type: ebpf.BloomFilter, ValueSize: 4}, "BloomFilter", "[4]byte", ""},
		{ebpf.MapSpec{Type: ebpf.StackTrace, KeySize: 4, ValueSize: 127 * 8}, "StackTraceMap", "[127]uint64", ""},
		{ebpf.MapSpec{Type: ebpf.StackTrace, KeySize: 4, ValueSize: 32 * 8, Flags: bpfFStackBuildID}, "StackTraceMap", "[8]bpfskel.StackBuildID", ""},
		{ebpf.MapSpec{Type: ebpf.StackTrace, KeySize: 4, ValueSize: 5 * 8, Flags: bpfFStackBuildID}, "", "", "value_size must be a multiple of 32 (the kernel refuses to create it otherwise), not 40"},
		{ebpf.MapSpec{Type: ebpf.StackTrace, KeySize: 4, ValueSize: 12}, "", "", "value_size must be a multiple of 8, not 12"},
		{ebpf.MapSpec{Type: ebpf.UserRingbuf, MaxEntries: 4096}, "UserRingBuf", "bpfskel.RawEvent", "written with WriteBytes"},
	} {
		t.Run(tc.spec.Type.String(), func(t *testing.T) {
			spec := &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{"m": &tc.spec}}
			obj := &Object{}
			n := newNamer(nil)
			if err := modelMaps(obj, spec, n, newTyper(n), &eventPlan{}); err != nil {
				t.Fatal(err)
			}
			m := obj.Maps[0]
			if m.Handle.Name != tc.handle {
				t.Errorf("handle %q, want %q", m.Handle.Name, tc.handle)
			}
			var args []string
			for _, a := range m.Handle.Args {
				args = append(args, typeStr(a))
			}
			if got := strings.Join(args, " "); got != tc.args {
				t.Errorf("type args %q, want %q", got, tc.args)
			}
			if tc.note != "" && (len(obj.Notes) != 1 || !strings.Contains(obj.Notes[0], tc.note)) {
				t.Errorf("notes %q, want one saying %q", obj.Notes, tc.note)
			}
		})
	}
}

// TestUserRingBufEvent: a user ring buffer's event type comes from -event
// as a ring buffer's does, and one ending in a flexible array makes the
// Tail variant.
func TestUserRingBufEvent(t *testing.T) {
	u32 := &btf.Int{Name: "u32", Size: 4}
	u8 := &btf.Int{Name: "u8", Size: 1}
	plain := &btf.Struct{Name: "cmd", Size: 8, Members: []btf.Member{{Name: "a", Type: u32}, {Name: "b", Type: u32, Offset: 32}}}
	flex := &btf.Struct{Name: "blob", Size: 4, Members: []btf.Member{{Name: "len", Type: u32}, {Name: "data", Type: &btf.Array{Type: u8, Index: u32}, Offset: 32}}}
	for _, tc := range []struct {
		event  btf.Type
		handle string
		extra  []int
	}{
		{plain, "UserRingBuf", nil},
		{flex, "UserRingBufTail", []int{4}},
	} {
		spec := &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{"m": {Type: ebpf.UserRingbuf, MaxEntries: 4096}}}
		obj := &Object{}
		n := newNamer(nil)
		plan := &eventPlan{explicit: map[string]btf.Type{"m": tc.event}}
		if err := modelMaps(obj, spec, n, newTyper(n), plan); err != nil {
			t.Fatal(err)
		}
		h := obj.Maps[0].Handle
		if h.Name != tc.handle || len(h.Args) != 1 || h.Args[0].Kind != Named || !slices.Equal(h.Extra, tc.extra) || len(obj.Notes) != 0 {
			t.Errorf("event %s: handle %+v, notes %q; want %s of the named type, extra %v, no note", tc.event.TypeName(), h, obj.Notes, tc.handle, tc.extra)
		}
	}
}

// TestMapHandlesRejectKeylessHash: a row that takes a key refuses a map
// without one, with the fix.
func TestMapHandlesRejectKeylessHash(t *testing.T) {
	spec := &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{
		"m": {Type: ebpf.Hash, ValueSize: 8},
	}}
	n := newNamer(nil)
	err := modelMaps(&Object{}, spec, n, newTyper(n), &eventPlan{})
	if err == nil || !strings.Contains(err.Error(), "key_size 0") || !strings.Contains(err.Error(), "fix its declaration") {
		t.Errorf("err = %v, want one naming key_size 0 and the fix", err)
	}
}
