//go:build linux

package bpfskel

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf"
)

// TestZeroAllocs asserts that the typed paths documented as
// allocation-free are: Lookup (hit and miss), LookupInto, Update, Delete,
// View.Get and View.Set.
func TestZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"arr":  mmapableArray(24, 4, 0),
		"hash": {Type: ebpf.Hash, KeySize: 8, ValueSize: 24, MaxEntries: 4},
	})
	b := NewBinder(c)
	arr := BindMmapArray[uint32, val24](b, "arr")
	hash := BindMap[hashKey, val24](b, "hash")
	mustBind(t, b)
	view, err := arr.Mmap()
	if err != nil {
		t.Fatal(err)
	}

	present, absent := hashKey{Pid: 1}, hashKey{Pid: 2}
	value := val24{A: 1, B: 2, C: 3, D: 4}
	if err := hash.Update(present, value, UpdateAny); err != nil {
		t.Fatal(err)
	}

	var sinkV val24
	var sinkErr error
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"array/Lookup", func() { sinkV, sinkErr = arr.Lookup(1) }},
		{"array/LookupInto", func() {
			k := uint32(1)
			var v val24
			sinkErr = arr.LookupInto(&k, &v)
			sinkV = v
		}},
		{"array/Update", func() { sinkErr = arr.Update(2, value, UpdateAny) }},
		{"hash/Lookup", func() { sinkV, sinkErr = hash.Lookup(present) }},
		{"hash/LookupInto", func() {
			k := present
			var v val24
			sinkErr = hash.LookupInto(&k, &v)
			sinkV = v
		}},
		{"hash/Update", func() { sinkErr = hash.Update(present, value, UpdateExist) }},
		{"hash/Update+Delete", func() {
			if err := hash.Update(absent, value, UpdateNoExist); err != nil {
				sinkErr = err
				return
			}
			sinkErr = hash.Delete(absent)
		}},
		{"view/Get", func() { sinkV, sinkErr = view.Get(3) }},
		{"view/Set", func() { sinkErr = view.Set(3, value) }},
	} {
		allocs := testing.AllocsPerRun(1000, tc.f)
		if sinkErr != nil {
			t.Errorf("%s: %v", tc.name, sinkErr)
		}
		if allocs != 0 {
			t.Errorf("%s: %v allocs/op, want 0", tc.name, allocs)
		}
	}

	// A lookup miss is a normal outcome on hash maps: it does not allocate
	// either, and still wraps ErrKeyNotExist.
	allocs := testing.AllocsPerRun(1000, func() { sinkV, sinkErr = hash.Lookup(absent) })
	if !errors.Is(sinkErr, ebpf.ErrKeyNotExist) {
		t.Errorf("hash/Lookup miss: %v, want ErrKeyNotExist", sinkErr)
	}
	if allocs != 0 {
		t.Errorf("hash/Lookup miss: %v allocs/op, want 0", allocs)
	}
	_ = sinkV
}
