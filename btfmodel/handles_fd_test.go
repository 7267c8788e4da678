package btfmodel

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/google/go-cmp/cmp"
)

// TestFDHandles: the golden mapsfd object's maps get the handles and type
// arguments of their rows; a map of maps instantiates with its inner
// map's key and value types.
func TestFDHandles(t *testing.T) {
	data, err := os.ReadFile("../testdata/golden/mapsfd/mapsfd.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	obj, err := Load("mapsfd.bpf.o", data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range obj.Maps {
		args := make([]string, len(m.Handle.Args))
		for i, a := range m.Handle.Args {
			args[i] = typeString(a)
		}
		got[m.CName] = m.Handle.Name + "[" + strings.Join(args, ", ") + "]"
	}
	want := map[string]string{
		"cgroups":    "CgroupArray[]",
		"cgrp_stg":   "Storage[uint64]",
		"cpus":       "Map[uint32, BpfCpumapVal]",
		"devs":       "Map[uint32, BpfDevmapVal]",
		"devs_hash":  "Map[uint32, uint32]",
		"inner_a":    "Map[uint32, InnerVal]",
		"inode_stg":  "Storage[uint64]",
		"jmp_table":  "ProgArray[]",
		"mfd_counts": "Map[uint32, Counter]",
		"outer_arr":  "MapOfMaps[uint32, uint32, InnerVal]",
		"outer_hash": "MapOfMaps[Tenant, uint32, uint64]",
		"sk_stg":     "Storage[Owner]",
		"socks":      "SockMap[uint32]",
		"socks_hash": "SockMap[SockKey]",
		"task_stg":   "Storage[Owner]",
		"xsks":       "XSKMap[]",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("handles (-want +got):\n%s", diff)
	}
}

func typeString(t *Type) string {
	switch t.Kind {
	case Basic:
		return t.Basic
	case Named:
		return t.Decl.GoName
	default:
		return "[" + strconv.Itoa(t.Len) + "]" + typeString(t.Elem)
	}
}

// TestInnerMapRequired: a map of maps without a template is refused with
// the fix.
func TestInnerMapRequired(t *testing.T) {
	ty := newTyper(newNamer(nil))
	_, err := ty.innerMap(&ebpf.MapSpec{Name: "outer", Type: ebpf.HashOfMaps}, "Outer")
	if err == nil || !strings.Contains(err.Error(), "__array(values, struct { ... })") {
		t.Errorf("got %v", err)
	}
	if m, err := ty.innerMap(&ebpf.MapSpec{Name: "h", Type: ebpf.Hash}, "H"); m != nil || err != nil {
		t.Errorf("a hash got inner map %v, %v", m, err)
	}
}
