package gen_test

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/bpfskel/bpfskel/runtime/bpfskel"
	"github.com/bpfskel/bpfskel/runtime/bpfskeltest"
	"github.com/bpfskel/bpfskel/testdata/golden/mapsfd"
)

// randomName returns prefix and a random suffix, for names that are
// global on the machine (pins, cgroups) while other tests run.
func randomName(t *testing.T, prefix string) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return prefix + "-" + hex.EncodeToString(b[:])
}

// pinDir makes a fresh bpffs directory and removes it, pins included, when
// t ends.
func pinDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(bpfskel.DefaultPinPath, randomName(t, "maps-fd"))
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Error(err)
		}
	})
	return dir
}

// loadMapsfd loads the mapsfd skeleton with its pinned map under a fresh
// directory of its own.
func loadMapsfd(t *testing.T) (*mapsfd.Skeleton, string) {
	t.Helper()
	bpfskeltest.RequireKernel(t)
	dir := pinDir(t)
	skel := mustLoad(t, func(*bpfskel.LoadOptions) (*mapsfd.Skeleton, error) {
		return mapsfd.Load(&bpfskel.LoadOptions{Maps: ebpf.MapOptions{PinPath: dir}})
	})
	return skel, dir
}

// setBss sets the inputs of the programs.
func setBss(t *testing.T, skel *mapsfd.Skeleton, bss mapsfd.Bss) {
	t.Helper()
	if err := skel.Bss.Set(0, bss); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, p bpfskel.AnyProgram) uint32 {
	t.Helper()
	ret, err := p.Base().TestRun(nil)
	if err != nil {
		t.Fatal(err)
	}
	return ret
}

// TestProgArrayTailCalls: dispatch tail-calls into jmp_table[slot]; what it
// returns says which program ran.
func TestProgArrayTailCalls(t *testing.T) {
	skel, _ := loadMapsfd(t)
	jt := skel.Maps.JmpTable
	dispatch := func(slot uint32) uint32 {
		t.Helper()
		setBss(t, skel, mapsfd.Bss{Slot: slot})
		return run(t, skel.Programs.Dispatch)
	}

	// Slot 2 is set statically in C (.values = { [2] = &tail_b }).
	if got := dispatch(2); got != 20 {
		t.Errorf("dispatch(2) = %d, want 20 from the statically set tail_b", got)
	}
	if got := dispatch(0); got != 1 {
		t.Errorf("dispatch(0) on an empty slot = %d, want 1 (fall through)", got)
	}
	if err := jt.Set(0, skel.Programs.TailA); err != nil {
		t.Fatal(err)
	}
	if got := dispatch(0); got != 10 {
		t.Errorf("dispatch(0) after Set(0, tail_a) = %d, want 10", got)
	}
	id, err := jt.ProgramID(0)
	if err != nil {
		t.Fatal(err)
	}
	info, err := skel.Programs.TailA.Program().Info()
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := info.ID(); id != want {
		t.Errorf("ProgramID(0) = %d, want tail_a's ID %d", id, want)
	}
	if err := jt.Set(0, skel.Programs.TailB); err != nil {
		t.Fatal(err)
	}
	if got := dispatch(0); got != 20 {
		t.Errorf("dispatch(0) after Set(0, tail_b) = %d, want 20", got)
	}
	if err := jt.Clear(0); err != nil {
		t.Fatal(err)
	}
	if got := dispatch(0); got != 1 {
		t.Errorf("dispatch(0) after Clear(0) = %d, want 1", got)
	}

	// Error paths.
	if err := jt.Clear(0); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("Clear of an empty slot: %v, want ErrKeyNotExist", err)
	}
	if _, err := jt.ProgramID(1); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("ProgramID of an empty slot: %v, want ErrKeyNotExist", err)
	}
	if err := jt.Set(4, skel.Programs.TailA); err == nil || !strings.Contains(err.Error(), `map "jmp_table"`) {
		t.Errorf("Set past max_entries: %v, want an error naming jmp_table", err)
	}
	// An XDP program cannot join a table of raw tracepoint programs.
	if err := jt.Set(1, skel.Programs.RedirectDev); err == nil {
		t.Error("Set with a program of another type succeeded")
	}
	if err := jt.Set(1, nil); err == nil {
		t.Error("Set with a nil program succeeded")
	}
	var nilTable *bpfskel.ProgArray
	if err := nilTable.Clear(0); err == nil {
		t.Error("Clear on a nil ProgArray succeeded")
	}
	if err := skel.Close(); err != nil {
		t.Fatal(err)
	}
	if err := jt.Set(0, skel.Programs.TailA); err == nil {
		t.Error("Set after Close succeeded")
	}
}

// TestMapOfMapsInKernel: read_arr and read_hash read through the outer map
// into inner maps Go created, inserted and looked up.
func TestMapOfMapsInKernel(t *testing.T) {
	skel, _ := loadMapsfd(t)
	readArr := func(slot, key uint32) uint32 {
		t.Helper()
		setBss(t, skel, mapsfd.Bss{Slot: slot, InnerKey: key})
		return run(t, skel.Programs.ReadArr)
	}

	// outer_arr[0] is inner_a, set statically in C.
	if err := skel.Maps.InnerA.Update(5, mapsfd.InnerVal{Hits: 1, Tag: 77}, bpfskel.UpdateAny); err != nil {
		t.Fatal(err)
	}
	if got := readArr(0, 5); got != 77 {
		t.Errorf("outer_arr[0][5].tag = %d, want 77 through the static inner_a", got)
	}
	id, err := skel.Maps.OuterArr.InnerID(0)
	if err != nil {
		t.Fatal(err)
	}
	info, err := skel.Maps.InnerA.Map().Info()
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := info.ID(); id != want {
		t.Errorf("InnerID(0) = %d, want inner_a's ID %d", id, want)
	}

	// A new inner map, filled and inserted from Go.
	in, err := skel.Maps.OuterArr.NewInner()
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Update(3, mapsfd.InnerVal{Tag: 33}, bpfskel.UpdateAny); err != nil {
		t.Fatal(err)
	}
	if got := readArr(1, 3); got != 1000 {
		t.Errorf("outer_arr[1] before Update = %d, want 1000 (no inner map)", got)
	}
	if err := skel.Maps.OuterArr.Update(1, in, bpfskel.UpdateAny); err != nil {
		t.Fatal(err)
	}
	// The outer map holds its own reference: closing the handle keeps it.
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readArr(1, 3); got != 33 {
		t.Errorf("outer_arr[1][3].tag = %d, want 33", got)
	}
	if got := readArr(1, 4); got != 1001 {
		t.Errorf("outer_arr[1][4] = %d, want 1001 (no such key)", got)
	}
	// Lookup opens the inner map typed; writes through it reach the program.
	got, err := skel.Maps.OuterArr.Lookup(1)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := got.Lookup(3); err != nil || v.Tag != 33 {
		t.Errorf("inner Lookup(3) = %+v, %v; want tag 33", v, err)
	}
	if err := got.Update(4, mapsfd.InnerVal{Tag: 44}, bpfskel.UpdateAny); err != nil {
		t.Fatal(err)
	}
	if v := readArr(1, 4); v != 44 {
		t.Errorf("outer_arr[1][4].tag = %d after writing through Lookup's handle, want 44", v)
	}
	// Replacing: inner_a goes to slot 1 as well. Arrays of file
	// descriptors take UpdateAny only.
	if err := skel.Maps.OuterArr.Update(1, skel.Maps.InnerA, bpfskel.UpdateExist); !errors.Is(err, unix.EINVAL) {
		t.Errorf("UpdateExist on an array of maps: %v, want EINVAL", err)
	}
	if err := skel.Maps.OuterArr.Update(1, skel.Maps.InnerA, bpfskel.UpdateAny); err != nil {
		t.Fatal(err)
	}
	if v := readArr(1, 5); v != 77 {
		t.Errorf("outer_arr[1][5] after replacing with inner_a = %d, want 77", v)
	}
	if err := skel.Maps.OuterArr.Delete(1); err != nil {
		t.Fatal(err)
	}
	if v := readArr(1, 5); v != 1000 {
		t.Errorf("outer_arr[1] after Delete = %d, want 1000", v)
	}

	// Hash of maps, keyed by a struct.
	tenant := mapsfd.Tenant{Id: 7, Zone: 3}
	hin, err := skel.Maps.OuterHash.NewInner()
	if err != nil {
		t.Fatal(err)
	}
	if err := hin.Update(2, 4242, bpfskel.UpdateAny); err != nil {
		t.Fatal(err)
	}
	if err := skel.Maps.OuterHash.Update(tenant, hin, bpfskel.UpdateNoExist); err != nil {
		t.Fatal(err)
	}
	setBss(t, skel, mapsfd.Bss{TenantId: 7, TenantZone: 3, InnerKey: 2})
	if v := run(t, skel.Programs.ReadHash); v != 4242 {
		t.Errorf("outer_hash[{7,3}][2] = %d, want 4242", v)
	}
	setBss(t, skel, mapsfd.Bss{TenantId: 7, TenantZone: 4, InnerKey: 2})
	if v := run(t, skel.Programs.ReadHash); v != 1000 {
		t.Errorf("outer_hash[{7,4}] = %d, want 1000 (no such tenant)", v)
	}

	// Error paths.
	if _, err := skel.Maps.OuterHash.Lookup(mapsfd.Tenant{Id: 1}); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("Lookup of a missing tenant: %v, want ErrKeyNotExist", err)
	}
	if err := skel.Maps.OuterHash.Update(tenant, hin, bpfskel.UpdateNoExist); !errors.Is(err, ebpf.ErrKeyExist) {
		t.Errorf("UpdateNoExist on a present tenant: %v, want ErrKeyExist", err)
	}
	if err := skel.Maps.OuterArr.Update(0, nil, bpfskel.UpdateAny); err == nil {
		t.Error("Update with a nil inner map succeeded")
	}
	if err := skel.Maps.OuterArr.Delete(9); err == nil {
		t.Error("Delete past max_entries succeeded")
	}
	if err := skel.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := skel.Maps.OuterArr.NewInner(); err == nil {
		t.Error("NewInner after Close succeeded")
	}
	if _, err := hin.Lookup(2); err == nil {
		t.Error("an inner map handle still worked after the Collection closed")
	}
}

// cgroup2Root returns where the cgroup v2 hierarchy is mounted.
func cgroup2Root(t *testing.T) string {
	t.Helper()
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) > 2 && fields[2] == "cgroup2" {
			return fields[1]
		}
	}
	t.Skip("no cgroup v2 hierarchy is mounted")
	return ""
}

// newCgroup makes an empty cgroup under the root and removes it when t
// ends.
func newCgroup(t *testing.T, root string) string {
	t.Helper()
	dir := filepath.Join(root, randomName(t, "maps-fd"))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.Remove(dir); err != nil {
			t.Error(err)
		}
	})
	return dir
}

// TestCgroupArrayInKernel: in_cgroup asks whether the test runs under the
// cgroup Go put in cgroups[slot].
func TestCgroupArrayInKernel(t *testing.T) {
	skel, _ := loadMapsfd(t)
	root := cgroup2Root(t)
	empty := newCgroup(t, root)
	inCgroup := func(slot uint32) int32 {
		t.Helper()
		setBss(t, skel, mapsfd.Bss{Slot: slot})
		return int32(run(t, skel.Programs.InCgroup))
	}
	if err := skel.Maps.Cgroups.SetPath(0, root); err != nil {
		t.Fatal(err)
	}
	if got := inCgroup(0); got != 1 {
		t.Errorf("under the root cgroup: %d, want 1", got)
	}
	dir, err := os.Open(empty)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	if err := skel.Maps.Cgroups.Set(1, int(dir.Fd())); err != nil {
		t.Fatal(err)
	}
	if got := inCgroup(1); got != 0 {
		t.Errorf("under a new empty cgroup: %d, want 0", got)
	}
	if err := skel.Maps.Cgroups.Clear(1); err != nil {
		t.Fatal(err)
	}
	if got := inCgroup(1); got >= 0 {
		t.Errorf("under an empty slot: %d, want a negative error", got)
	}
	// The kernel does not let user space read a cgroup array.
	var v uint32
	if err := skel.Maps.Cgroups.Map().Lookup(uint32(0), &v); !errors.Is(err, ebpf.ErrNotSupported) {
		t.Errorf("raw lookup of a cgroup array: %v, want ENOTSUPP (the documented kernel behaviour)", err)
	}

	// Error paths.
	if err := skel.Maps.Cgroups.SetPath(0, t.TempDir()); err == nil || !strings.Contains(err.Error(), "cgroup v2 directory") {
		t.Errorf("SetPath of a plain directory: %v, want an error saying it is not a cgroup", err)
	}
	if err := skel.Maps.Cgroups.SetPath(0, filepath.Join(root, "does-not-exist")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("SetPath of a missing path: %v, want ErrNotExist", err)
	}
	if err := skel.Maps.Cgroups.Set(0, -1); err == nil {
		t.Error("Set with fd -1 succeeded")
	}
	if err := skel.Maps.Cgroups.Clear(1); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("Clear of an empty slot: %v, want ErrKeyNotExist", err)
	}
}

// xdpRun runs an XDP program on a minimal frame.
func xdpRun(t *testing.T, p bpfskel.AnyProgram) uint32 {
	t.Helper()
	ret, err := p.Base().TestRun(&bpfskel.RunOptions{Data: make([]byte, 64)})
	if err != nil {
		t.Fatal(err)
	}
	return ret
}

const (
	xdpPass     = 2
	xdpRedirect = 4
)

// TestRedirectMapsInKernel: device and CPU maps are typed with their BTF
// value types; each redirect program returns XDP_REDIRECT only while its
// map has the entry.
func TestRedirectMapsInKernel(t *testing.T) {
	skel, _ := loadMapsfd(t)
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}

	if got := xdpRun(t, skel.Programs.RedirectDev); got != xdpPass {
		t.Errorf("redirect_dev with an empty devmap = %d, want XDP_PASS", got)
	}
	val := mapsfd.BpfDevmapVal{Ifindex: uint32(lo.Index)}
	if err := skel.Maps.Devs.Update(0, val, bpfskel.UpdateAny); err != nil {
		t.Fatal(err)
	}
	if got := xdpRun(t, skel.Programs.RedirectDev); got != xdpRedirect {
		t.Errorf("redirect_dev = %d, want XDP_REDIRECT", got)
	}
	if got, err := skel.Maps.Devs.Lookup(0); err != nil || got.Ifindex != uint32(lo.Index) || got.BpfProg.Id() != 0 {
		t.Errorf("devs[0] = %+v, %v; want ifindex %d and no program", got, err, lo.Index)
	}
	if err := skel.Maps.Devs.Delete(0); err != nil {
		t.Fatal(err)
	}
	if got := xdpRun(t, skel.Programs.RedirectDev); got != xdpPass {
		t.Errorf("redirect_dev after Delete = %d, want XDP_PASS", got)
	}
	if err := skel.Maps.Devs.Update(0, mapsfd.BpfDevmapVal{Ifindex: 1 << 30}, bpfskel.UpdateAny); err == nil {
		t.Error("devmap accepted an ifindex no device has")
	}

	if err := skel.Maps.DevsHash.Update(7, uint32(lo.Index), bpfskel.UpdateNoExist); err != nil {
		t.Fatal(err)
	}
	if got := xdpRun(t, skel.Programs.RedirectDevHash); got != xdpRedirect {
		t.Errorf("redirect_dev_hash = %d, want XDP_REDIRECT", got)
	}
	if got, err := skel.Maps.DevsHash.Lookup(7); err != nil || got != uint32(lo.Index) {
		t.Errorf("devs_hash[7] = %d, %v; want %d", got, err, lo.Index)
	}
	if _, err := skel.Maps.DevsHash.Lookup(8); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("devs_hash[8]: %v, want ErrKeyNotExist", err)
	}

	var cpu mapsfd.BpfCpumapVal
	cpu.Qsize = 192
	if err := skel.Maps.Cpus.Update(0, cpu, bpfskel.UpdateAny); err != nil {
		t.Fatal(err)
	}
	if got := xdpRun(t, skel.Programs.RedirectCpu); got != xdpRedirect {
		t.Errorf("redirect_cpu = %d, want XDP_REDIRECT", got)
	}
	if got, err := skel.Maps.Cpus.Lookup(0); err != nil || got.Qsize != 192 {
		t.Errorf("cpus[0] = %+v, %v; want qsize 192", got, err)
	}
	if err := skel.Maps.Cpus.Delete(0); err != nil {
		t.Fatal(err)
	}
	if got := xdpRun(t, skel.Programs.RedirectCpu); got != xdpPass {
		t.Errorf("redirect_cpu after Delete = %d, want XDP_PASS", got)
	}
}

// socket returns a socket of the given type bound to 127.0.0.1 (listening
// when it is TCP), closed when t ends.
func socket(t *testing.T, typ int) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if typ == unix.SOCK_STREAM {
		if err := unix.Listen(fd, 1); err != nil {
			t.Fatal(err)
		}
	}
	return fd
}

// TestSockMapsInKernel: sockets go in by descriptor and come back as
// cookies, where the map's value is 8 bytes.
func TestSockMapsInKernel(t *testing.T) {
	skel, _ := loadMapsfd(t)
	tcp := socket(t, unix.SOCK_STREAM)
	udp := socket(t, unix.SOCK_DGRAM)
	cookie := func(fd int) uint64 {
		t.Helper()
		c, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_COOKIE)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	key := mapsfd.SockKey{Addr: 0x7f000001, Port: 80}
	if err := skel.Maps.SocksHash.Set(key, tcp, bpfskel.UpdateNoExist); err != nil {
		t.Fatal(err)
	}
	if got, err := skel.Maps.SocksHash.Cookie(key); err != nil || got != cookie(tcp) {
		t.Errorf("Cookie = %d, %v; want the listener's SO_COOKIE %d", got, err, cookie(tcp))
	}
	if err := skel.Maps.SocksHash.Set(key, udp, bpfskel.UpdateExist); err != nil {
		t.Fatal(err)
	}
	if got, err := skel.Maps.SocksHash.Cookie(key); err != nil || got != cookie(udp) {
		t.Errorf("Cookie after replacing = %d, %v; want the UDP socket's %d", got, err, cookie(udp))
	}
	if err := skel.Maps.SocksHash.Delete(key); err != nil {
		t.Fatal(err)
	}
	if _, err := skel.Maps.SocksHash.Cookie(key); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("Cookie after Delete: %v, want ErrKeyNotExist", err)
	}

	// socks has 4-byte values: the kernel takes sockets but returns nothing.
	if err := skel.Maps.Socks.Set(1, tcp, bpfskel.UpdateAny); err != nil {
		t.Fatal(err)
	}
	if _, err := skel.Maps.Socks.Cookie(1); err == nil || !strings.Contains(err.Error(), "8-byte values") {
		t.Errorf("Cookie on a map with 4-byte values: %v, want an error naming the fix", err)
	}
	var v uint32
	if err := skel.Maps.Socks.Map().Lookup(uint32(1), &v); !errors.Is(err, unix.ENOSPC) {
		t.Errorf("raw lookup of a sockmap with 4-byte values: %v, want ENOSPC (the documented kernel behaviour)", err)
	}
	if err := skel.Maps.Socks.Delete(1); err != nil {
		t.Fatal(err)
	}

	// Error paths: a file is not a socket, a closed descriptor is nothing.
	f, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := skel.Maps.Socks.Set(0, int(f.Fd()), bpfskel.UpdateAny); err == nil {
		t.Error("Set with a regular file succeeded")
	}
	closed, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(closed)
	if err := skel.Maps.Socks.Set(0, closed, bpfskel.UpdateAny); !errors.Is(err, unix.EBADF) {
		t.Errorf("Set with a closed descriptor: %v, want EBADF", err)
	}
	// The kernel answers EINVAL, not ENOENT, for an empty sockmap slot.
	if err := skel.Maps.Socks.Delete(0); !errors.Is(err, unix.EINVAL) {
		t.Errorf("Delete of an empty slot: %v, want EINVAL", err)
	}
}

// TestXSKMapInKernel: redirect_xsk hands frames to the AF_XDP socket in
// xsks[rx_queue_index] only while Go has put one there.
func TestXSKMapInKernel(t *testing.T) {
	skel, _ := loadMapsfd(t)
	fd, err := unix.Socket(unix.AF_XDP, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skipf("AF_XDP sockets: %v", err)
	}
	defer unix.Close(fd)
	if got := xdpRun(t, skel.Programs.RedirectXsk); got != xdpPass {
		t.Errorf("redirect_xsk with an empty map = %d, want XDP_PASS", got)
	}
	if err := skel.Maps.Xsks.Set(0, fd); err != nil {
		t.Fatal(err)
	}
	if got := xdpRun(t, skel.Programs.RedirectXsk); got != xdpRedirect {
		t.Errorf("redirect_xsk = %d, want XDP_REDIRECT", got)
	}
	// The kernel refuses lookups from user space, hence no Lookup.
	var v uint32
	if err := skel.Maps.Xsks.Map().Lookup(uint32(0), &v); !errors.Is(err, unix.EOPNOTSUPP) {
		t.Errorf("raw lookup of an xskmap: %v, want EOPNOTSUPP (the documented kernel behaviour)", err)
	}
	if err := skel.Maps.Xsks.Delete(0); err != nil {
		t.Fatal(err)
	}
	if got := xdpRun(t, skel.Programs.RedirectXsk); got != xdpPass {
		t.Errorf("redirect_xsk after Delete = %d, want XDP_PASS", got)
	}

	// Error paths: only AF_XDP sockets go in.
	if err := skel.Maps.Xsks.Set(0, socket(t, unix.SOCK_DGRAM)); err == nil {
		t.Error("Set with a UDP socket succeeded")
	}
	if err := skel.Maps.Xsks.Set(4, fd); err == nil {
		t.Error("Set past max_entries succeeded")
	}
}

// TestStorageInKernel: each local storage map keyed by the descriptor that
// names its kind of object.
func TestStorageInKernel(t *testing.T) {
	skel, _ := loadMapsfd(t)

	t.Run("task", func(t *testing.T) {
		// task_read runs in the calling thread: name that thread.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		pidfd, err := unix.PidfdOpen(unix.Gettid(), unix.PIDFD_THREAD)
		if err != nil {
			t.Skipf("pidfd_open(PIDFD_THREAD) (Linux 6.9): %v", err)
		}
		defer unix.Close(pidfd)
		if got := run(t, skel.Programs.TaskRead); got != 1000 {
			t.Errorf("task_read before Update = %d, want 1000", got)
		}
		if err := skel.Maps.TaskStg.Update(pidfd, mapsfd.Owner{Uid: 4321, Cookie: 9}, bpfskel.UpdateNoExist); err != nil {
			t.Fatal(err)
		}
		if got := run(t, skel.Programs.TaskRead); got != 4321 {
			t.Errorf("task_read = %d, want the uid Go stored, 4321", got)
		}
		if got, err := skel.Maps.TaskStg.Lookup(pidfd); err != nil || got != (mapsfd.Owner{Uid: 4321, Cookie: 9}) {
			t.Errorf("Lookup = %+v, %v", got, err)
		}
		if err := skel.Maps.TaskStg.Delete(pidfd); err != nil {
			t.Fatal(err)
		}
		if got := run(t, skel.Programs.TaskRead); got != 1000 {
			t.Errorf("task_read after Delete = %d, want 1000", got)
		}
		if _, err := skel.Maps.TaskStg.Lookup(pidfd); !errors.Is(err, ebpf.ErrKeyNotExist) {
			t.Errorf("Lookup after Delete: %v, want ErrKeyNotExist", err)
		}
		// A descriptor that is not a pidfd.
		f, err := os.Open(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := skel.Maps.TaskStg.Update(int(f.Fd()), mapsfd.Owner{}, bpfskel.UpdateAny); err == nil {
			t.Error("Update keyed by a regular file succeeded")
		}
	})

	t.Run("sk", func(t *testing.T) {
		fd := socket(t, unix.SOCK_DGRAM)
		want := mapsfd.Owner{Cookie: 1, Uid: 2, Flags: 3}
		if err := skel.Maps.SkStg.Update(fd, want, bpfskel.UpdateAny); err != nil {
			t.Fatal(err)
		}
		var got mapsfd.Owner
		if err := skel.Maps.SkStg.LookupInto(fd, &got); err != nil || got != want {
			t.Errorf("LookupInto = %+v, %v; want %+v", got, err, want)
		}
		other := socket(t, unix.SOCK_DGRAM)
		if _, err := skel.Maps.SkStg.Lookup(other); !errors.Is(err, ebpf.ErrKeyNotExist) {
			t.Errorf("Lookup of another socket: %v, want ErrKeyNotExist", err)
		}
		if err := skel.Maps.SkStg.Update(fd, want, bpfskel.UpdateNoExist); !errors.Is(err, ebpf.ErrKeyExist) {
			t.Errorf("UpdateNoExist on a present value: %v, want ErrKeyExist", err)
		}
		if err := skel.Maps.SkStg.Delete(fd); err != nil {
			t.Fatal(err)
		}
		if _, err := skel.Maps.SkStg.Lookup(-1); err == nil {
			t.Error("Lookup with fd -1 succeeded")
		}
	})

	t.Run("inode", func(t *testing.T) {
		f, err := os.CreateTemp(t.TempDir(), "inode")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := skel.Maps.InodeStg.Update(int(f.Fd()), 0xfeed, bpfskel.UpdateAny); err != nil {
			t.Fatal(err)
		}
		// Another descriptor of the same file reaches the same inode.
		g, err := os.Open(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		if got, err := skel.Maps.InodeStg.Lookup(int(g.Fd())); err != nil || got != 0xfeed {
			t.Errorf("Lookup through a second descriptor = %#x, %v; want 0xfeed", got, err)
		}
		if err := skel.Maps.InodeStg.Delete(int(g.Fd())); err != nil {
			t.Fatal(err)
		}
		if _, err := skel.Maps.InodeStg.Lookup(int(f.Fd())); !errors.Is(err, ebpf.ErrKeyNotExist) {
			t.Errorf("Lookup after Delete: %v, want ErrKeyNotExist", err)
		}
	})

	t.Run("cgrp", func(t *testing.T) {
		cg := newCgroup(t, cgroup2Root(t))
		dir, err := os.Open(cg)
		if err != nil {
			t.Fatal(err)
		}
		defer dir.Close()
		if err := skel.Maps.CgrpStg.Update(int(dir.Fd()), 77, bpfskel.UpdateAny); err != nil {
			t.Fatal(err)
		}
		if got, err := skel.Maps.CgrpStg.Lookup(int(dir.Fd())); err != nil || got != 77 {
			t.Errorf("Lookup = %d, %v; want 77", got, err)
		}
		if err := skel.Maps.CgrpStg.Delete(int(dir.Fd())); err != nil {
			t.Fatal(err)
		}
		if err := skel.Maps.CgrpStg.Delete(int(dir.Fd())); !errors.Is(err, ebpf.ErrKeyNotExist) {
			t.Errorf("second Delete: %v, want ErrKeyNotExist", err)
		}
	})

	if err := skel.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := skel.Maps.SkStg.Lookup(0); err == nil {
		t.Error("Lookup after Close succeeded")
	}
}
