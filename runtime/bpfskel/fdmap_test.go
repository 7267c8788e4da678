//go:build linux

package bpfskel

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// mapsfdObject is the golden object with every map kind of this file; its
// skeleton's kernel tests are in gen/mapsfd_kernel_test.go.
const mapsfdObject = "../../testdata/golden/mapsfd/mapsfd.bpf.o"

// loadMapsfd loads the mapsfd object without a skeleton, its pinned map
// under a fresh bpffs directory.
func loadMapsfd(t testing.TB) *Collection {
	t.Helper()
	requireKernel(t)
	var r [6]byte
	rand.Read(r[:])
	dir := filepath.Join(DefaultPinPath, "maps-fd-"+hex.EncodeToString(r[:]))
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return loadObject(t, mapsfdObject, &LoadOptions{Maps: ebpf.MapOptions{PinPath: dir}})
}

// TestBindFDMapErrors: each handle checks the map type and the sizes it
// relies on, naming the map and both sides.
func TestBindFDMapErrors(t *testing.T) {
	c := loadMapsfd(t)
	type pair struct{ A, B uint64 }
	for _, tc := range []struct {
		name string
		bind func(b *Binder) bool
		want string
	}{
		{"prog array on a hash", func(b *Binder) bool { return BindProgArray(b, "inner_a") != nil },
			`map "inner_a": is a Hash map, the handle needs ProgramArray`},
		{"cgroup array on a prog array", func(b *Binder) bool { return BindCgroupArray(b, "jmp_table") != nil },
			`map "jmp_table": is a ProgramArray map, the handle needs CGroupArray`},
		{"xsk map on a sockmap", func(b *Binder) bool { return BindXSKMap(b, "socks") != nil },
			`map "socks": is a SockMap map, the handle needs XSKMap`},
		{"sockmap key size", func(b *Binder) bool { return BindSockMap[uint32](b, "socks_hash") != nil },
			`map "socks_hash": key is 4 bytes in Go, 8 in the object`},
		{"sockmap on a devmap", func(b *Binder) bool { return BindSockMap[uint32](b, "devs") != nil },
			`map "devs": is a DevMap map, the handle needs SockMap or SockHash`},
		{"storage value size", func(b *Binder) bool { return BindStorage[uint64](b, "task_stg") != nil },
			`map "task_stg": value is 8 bytes in Go, 16 in the object`},
		{"storage on a hash", func(b *Binder) bool { return BindStorage[pair](b, "inner_a") != nil },
			`map "inner_a": is a Hash map, the handle needs SkStorage or TaskStorage or InodeStorage or CgroupStorage`},
		{"map of maps inner value", func(b *Binder) bool { return BindMapOfMaps[uint32, uint32, uint64](b, "outer_arr") != nil },
			`map "outer_arr": inner value is 8 bytes in Go, 16 in the object`},
		{"map of maps inner pointer", func(b *Binder) bool { return BindMapOfMaps[uint32, uint32, [2]*int](b, "outer_arr") != nil },
			`map "outer_arr": inner value type [2]*int cannot mirror BPF memory`},
		{"map of maps on an array", func(b *Binder) bool { return BindMapOfMaps[uint32, uint32, pair](b, "cgroups") != nil },
			`map "cgroups": is a CGroupArray map, the handle needs ArrayOfMaps or HashOfMaps`},
		{"missing", func(b *Binder) bool { return BindProgArray(b, "nope") != nil },
			`map "nope": not found in the loaded object`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBinder(c)
			if tc.bind(b) {
				t.Fatal("bind succeeded")
			}
			err := b.Err()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "mapsfd.bpf.o: ") {
				t.Errorf("got %v\nwant mapsfd.bpf.o: ...%s", err, tc.want)
			}
		})
	}
}

// TestMapOfMapsWithoutTemplate: a collection that does not come from an
// object with a template cannot make inner maps, and says so.
func TestMapOfMapsWithoutTemplate(t *testing.T) {
	inner := &ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1}
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"outer": {Type: ebpf.ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 1, InnerMap: inner},
	})
	c.specs = nil
	b := NewBinder(c)
	if BindMapOfMaps[uint32, uint32, uint64](b, "outer") != nil {
		t.Fatal("bind succeeded")
	}
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), `map "outer": the object declares no inner map template`) {
		t.Errorf("got %v", err)
	}
}

// TestNilFDHandles: handles whose bind failed are nil; using them is an
// error, never a panic.
func TestNilFDHandles(t *testing.T) {
	var (
		pa *ProgArray
		ca *CgroupArray
		xm *XSKMap
		sm *SockMap[uint32]
		st *Storage[uint64]
		mm *MapOfMaps[uint32, uint32, uint64]
		im *InnerMap[uint32, uint64]
	)
	for name, err := range map[string]error{
		"ProgArray.Set":       pa.Set(0, nil),
		"ProgArray.Clear":     pa.Clear(0),
		"ProgArray.Pin":       pa.Pin("/sys/fs/bpf/x"),
		"CgroupArray.SetPath": ca.SetPath(0, "/"),
		"CgroupArray.Set":     ca.Set(0, 0),
		"XSKMap.Set":          xm.Set(0, 0),
		"SockMap.Set":         sm.Set(0, 0, UpdateAny),
		"SockMap.Unpin":       sm.Unpin(),
		"Storage.Update":      st.Update(0, 1, UpdateAny),
		"Storage.Delete":      st.Delete(0),
		"MapOfMaps.Update":    mm.Update(0, im, UpdateAny),
		"MapOfMaps.Delete":    mm.Delete(0),
	} {
		if !errors.Is(err, errNilMap) {
			t.Errorf("%s on a nil handle: %v, want the nil-map error", name, err)
		}
	}
	if _, err := sm.Cookie(0); !errors.Is(err, errNilMap) {
		t.Errorf("SockMap.Cookie: %v", err)
	}
	if _, err := st.Lookup(0); !errors.Is(err, errNilMap) {
		t.Errorf("Storage.Lookup: %v", err)
	}
	if _, err := mm.NewInner(); !errors.Is(err, errNilMap) {
		t.Errorf("MapOfMaps.NewInner: %v", err)
	}
	if _, err := mm.Lookup(0); !errors.Is(err, errNilMap) {
		t.Errorf("MapOfMaps.Lookup: %v", err)
	}
	if pa.Map() != nil || st.Map() != nil || mm.Map() != nil || mm.InnerSpec() != nil {
		t.Error("Map() of a nil handle is not nil")
	}
	if err := im.Close(); err != nil {
		t.Errorf("Close of a nil InnerMap: %v", err)
	}
}

// TestFDMapsZeroAllocs: the descriptor and storage paths allocate nothing
// when they succeed.
func TestFDMapsZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	f := newSockFixture(t)
	sk, socks, fd := f.sk, f.socks, f.fd
	b := NewBinder(f.c)
	jt := BindProgArray(b, "jmp_table")
	tail := BindProgram(b, "tail_a")
	mustBind(t, b)
	var key [8]byte
	var sinkErr error
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"Storage.Lookup", func() { _, sinkErr = sk.Lookup(fd) }},
		{"Storage.Update", func() { sinkErr = sk.Update(fd, owner{UID: 2}, UpdateExist) }},
		{"SockMap.Set", func() { sinkErr = socks.Set(key, fd, UpdateAny) }},
		{"SockMap.Cookie", func() { _, sinkErr = socks.Cookie(key) }},
		{"ProgArray.Set", func() { sinkErr = jt.Set(1, tail) }},
		{"ProgArray.ProgramID", func() { _, sinkErr = jt.ProgramID(1) }},
	} {
		if n := testing.AllocsPerRun(100, tc.f); n != 0 {
			t.Errorf("%s: %v allocs/op, want 0", tc.name, n)
		}
		if sinkErr != nil {
			t.Errorf("%s: %v", tc.name, sinkErr)
		}
	}
}

// TestMapOfMapsConcurrent: inner maps made, inserted, looked up and closed
// from several goroutines (run with -race); closed handles leave nothing
// for the Collection to track.
func TestMapOfMapsConcurrent(t *testing.T) {
	c := loadMapsfd(t)
	b := NewBinder(c)
	type innerVal struct {
		Hits      uint64
		Tag, Flag uint32
	}
	outer := BindMapOfMaps[uint32, uint32, innerVal](b, "outer_arr")
	mustBind(t, b)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			for i := range 25 {
				in, err := outer.NewInner()
				if err != nil {
					errs <- err
					return
				}
				tag := uint32(g*100 + i)
				if err := in.Update(1, innerVal{Tag: tag}, UpdateAny); err != nil {
					errs <- err
					return
				}
				if err := outer.Update(uint32(g), in, UpdateAny); err != nil {
					errs <- err
					return
				}
				in.Close()
				got, err := outer.Lookup(uint32(g))
				if err != nil {
					errs <- err
					return
				}
				v, err := got.Lookup(1)
				got.Close()
				if err != nil || v.Tag != tag {
					errs <- fmt.Errorf("goroutine %d: inner[1] = %+v, %v; want tag %d", g, v, err, tag)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	c.mu.Lock()
	n := len(c.views)
	c.mu.Unlock()
	if n != 0 {
		t.Errorf("%d closed inner maps are still tracked by the Collection", n)
	}
}

// udpSocket returns a UDP socket bound to 127.0.0.1, closed when tb ends.
func udpSocket(tb testing.TB) int {
	tb.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		tb.Fatal(err)
	}
	return fd
}

// TestOpenMapsFilledInSizes: an object may leave out sizes the loader
// fills in (a perf event array's key and value, its entries); opening the
// created map still matches.
func TestOpenMapsFilledInSizes(t *testing.T) {
	spec := &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{
		"events": {Name: "events", Type: ebpf.PerfEventArray},
		"counts": {Name: "counts", Type: ebpf.PerCPUHash, KeySize: 4, ValueSize: 8, MaxEntries: 4},
	}}
	c := loadSpec(t, spec.Copy())
	ids := map[string]ebpf.MapID{}
	for name, m := range c.coll.Maps {
		info, err := m.Info()
		if err != nil {
			t.Fatal(err)
		}
		ids[name], _ = info.ID()
	}
	type handles struct {
		events *ebpf.Map
		counts *PerCPUMap[uint32, uint64]
	}
	o, err := OpenMaps(&Spec{name: "test.bpf.o", spec: spec}, ByID(ids), func(b *Binder) handles {
		return handles{BindUntypedMap(b, "events"), BindPerCPUMap[uint32, uint64](b, "counts")}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if o.Maps.events == nil || o.Maps.events.Type() != ebpf.PerfEventArray || o.Maps.counts == nil {
		t.Errorf("opened %+v", o.Maps)
	}
}

// owner mirrors struct owner of mapsfd.bpf.c.
type owner struct {
	Cookie    uint64
	UID, Flag uint32
}

// sockFixture is the mapsfd object loaded, a bound UDP socket with an
// sk_stg value, and the socket in socks_hash under the zero key.
type sockFixture struct {
	c     *Collection
	sk    *Storage[owner]
	socks *SockMap[[8]byte]
	fd    int
}

func newSockFixture(tb testing.TB) sockFixture {
	tb.Helper()
	c := loadMapsfd(tb)
	b := NewBinder(c)
	f := sockFixture{c: c, sk: BindStorage[owner](b, "sk_stg"), socks: BindSockMap[[8]byte](b, "socks_hash")}
	mustBind(tb, b)
	f.fd = udpSocket(tb)
	if err := f.sk.Update(f.fd, owner{UID: 1}, UpdateAny); err != nil {
		tb.Fatal(err)
	}
	if err := f.socks.Set([8]byte{}, f.fd, UpdateAny); err != nil {
		tb.Fatal(err)
	}
	return f
}
