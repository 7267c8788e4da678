package gen_test

import (
	"errors"
	"net"
	"slices"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/bpfskel/bpfskel/runtime/bpfskel"
	"github.com/bpfskel/bpfskel/testdata/golden/allmaps"
)

// packet is an XDP test-run input: at least an Ethernet header's worth of
// bytes, the first four of which match reads as an IPv4 address.
func packet(addr ...byte) *bpfskel.RunOptions {
	data := make([]byte, 64)
	copy(data, addr)
	return &bpfskel.RunOptions{Data: data}
}

// TestAllMapsCount: the count program updates the per-CPU array and hash,
// the queue, the stack and the bloom filter; Go reads each through its
// typed handle.
func TestAllMapsCount(t *testing.T) {
	skel := mustLoad(t, allmaps.Load)
	const runs = 5
	var rets []uint64
	for range runs {
		ret, err := skel.Programs.Count.TestRun(packet())
		if err != nil {
			t.Fatal(err)
		}
		rets = append(rets, uint64(ret))
	}

	// One run increments one CPU's counter: the per-CPU values sum to the
	// number of runs, whichever CPUs ran them.
	pa := skel.Maps.PercpuArray
	counts := make([]uint64, pa.CPUs())
	if err := pa.LookupInto(new(uint32(0)), counts); err != nil {
		t.Fatal(err)
	}
	if got := bpfskel.Sum(counts); got != runs {
		t.Errorf("per-CPU counter sums to %d (%v), want %d", got, counts, runs)
	}

	// 12-byte values, 16 bytes apart per CPU in the kernel: every CPU that
	// ran the program holds a = its runs, b = 0xb0b, c = 3a.
	odd, err := skel.Maps.PercpuHash.Lookup(1)
	if err != nil {
		t.Fatal(err)
	}
	total := bpfskel.Reduce(odd, uint32(0), func(sum uint32, o allmaps.Odd) uint32 { return sum + o.A })
	if total != runs {
		t.Errorf("per-CPU a sums to %d, want %d: %+v", total, runs, odd)
	}
	for cpu, o := range odd {
		if o.A != 0 && (o.B != 0xb0b || o.C != 3*o.A) {
			t.Errorf("CPU %d: %+v, want b=0xb0b c=3a", cpu, o)
		}
	}
	for k, v := range skel.Maps.PercpuHash.All() {
		if k != 1 || bpfskel.Reduce(v, uint32(0), func(s uint32, o allmaps.Odd) uint32 { return s + o.A }) != runs {
			t.Errorf("iterating the per-CPU hash: %d -> %+v", k, v)
		}
	}

	// The queue gives the records back in push order, the stack in
	// reverse; the bloom filter knows every run number.
	for i, want := range rets {
		v, err := skel.Maps.Queue.Pop()
		if err != nil {
			t.Fatalf("queue pop %d: %v", i, err)
		}
		if v.Packets != want || v.Bytes != 64 {
			t.Errorf("queue pop %d = %+v, want packets %d bytes 64", i, v, want)
		}
	}
	if _, err := skel.Maps.Queue.Pop(); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("pop of the drained queue: %v, want ErrKeyNotExist", err)
	}
	for i := len(rets) - 1; i >= 0; i-- {
		v, err := skel.Maps.Stack.Pop()
		if err != nil || v != rets[i] {
			t.Errorf("stack pop = %d, %v; want %d", v, err, rets[i])
		}
	}
	for _, r := range rets {
		if ok, err := skel.Maps.Bloom.Contains(uint32(r)); !ok || err != nil {
			t.Errorf("bloom Contains(%d) = %v, %v", r, ok, err)
		}
	}
}

// TestAllMapsQueueToBPF: Go pushes, the drain program pops.
func TestAllMapsQueueToBPF(t *testing.T) {
	skel := mustLoad(t, allmaps.Load)
	for _, p := range []uint64{77, 78} {
		if err := skel.Maps.Queue.Push(allmaps.Value{Packets: p}); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []uint32{77, 78, ^uint32(0)} { // -1: empty
		got, err := skel.Programs.Drain.TestRun(packet())
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("drain = %d, want %d", int32(got), int32(want))
		}
	}
}

// TestAllMapsUserRingBuf: the generated skeleton's user ring buffer is a
// live producer (records of unknown type, written as bytes); the runtime's
// tests drain such records with a BPF program.
func TestAllMapsUserRingBuf(t *testing.T) {
	skel := mustLoad(t, allmaps.Load)
	ring := skel.Maps.UserRingbuf
	if ring.Size() != 4096 || ring.Available() != 4096 {
		t.Fatalf("Size %d, Available %d; want 4096 and 4096", ring.Size(), ring.Available())
	}
	if err := ring.WriteBytes([]byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	// 3 bytes and the 8-byte header, rounded up to 8.
	if got := ring.Available(); got != 4096-16 {
		t.Errorf("Available after a 3-byte record = %d, want %d", got, 4096-16)
	}
}

// TestAllMapsLPM: Go stores prefixes, the match program finds the longest
// one for an address; Go iterates them back.
func TestAllMapsLPM(t *testing.T) {
	skel := mustLoad(t, allmaps.Load)
	lpm := skel.Maps.Lpm
	prefixes := map[allmaps.LpmV4]uint32{
		{Prefixlen: 8, Addr: [4]uint8{10}}:            8,
		{Prefixlen: 16, Addr: [4]uint8{10, 1}}:        16,
		{Prefixlen: 24, Addr: [4]uint8{10, 1, 2}}:     24,
		{Prefixlen: 32, Addr: [4]uint8{192, 0, 2, 1}}: 32,
	}
	for k, v := range prefixes {
		if err := lpm.Update(k, v, bpfskel.UpdateNoExist); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		addr []byte
		want uint32
	}{
		{[]byte{10, 1, 2, 3}, 24},
		{[]byte{10, 1, 200, 3}, 16},
		{[]byte{10, 200, 2, 3}, 8},
		{[]byte{192, 0, 2, 1}, 32},
		{[]byte{192, 0, 2, 2}, 0},
	} {
		got, err := skel.Programs.Match.TestRun(packet(tc.addr...))
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("match(%v) = %d, want %d", tc.addr, got, tc.want)
		}
		goGot, err := lpm.Lookup(allmaps.LpmV4{Prefixlen: 32, Addr: [4]uint8(tc.addr)})
		if tc.want == 0 {
			if !errors.Is(err, ebpf.ErrKeyNotExist) {
				t.Errorf("Go Lookup(%v) = %d, %v; want ErrKeyNotExist", tc.addr, goGot, err)
			}
		} else if err != nil || goGot != tc.want {
			t.Errorf("Go Lookup(%v) = %d, %v; want %d", tc.addr, goGot, err, tc.want)
		}
	}
	got := map[allmaps.LpmV4]uint32{}
	it := lpm.Iterate()
	for k, v := range it.All() {
		got[k] = v
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(prefixes) {
		t.Errorf("iterated %v, want %v", got, prefixes)
	}
	for k, v := range prefixes {
		if got[k] != v {
			t.Errorf("iterated %+v -> %d, want %d", k, got[k], v)
		}
	}
}

// TestAllMapsStackTrace: the stackid program stores the kernel stack of
// its test run; Go reads it as [32]uint64 and frees it.
func TestAllMapsStackTrace(t *testing.T) {
	skel := mustLoad(t, allmaps.Load)
	ret, err := skel.Programs.Stackid.TestRun(nil)
	if err != nil {
		t.Fatal(err)
	}
	if ret == 0 {
		t.Fatal("bpf_get_stackid failed in the test run")
	}
	id := ret - 1
	stack, err := skel.Maps.StackTraces.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	depth := slices.Index(stack[:], 0)
	if depth == -1 {
		depth = len(stack)
	}
	if depth == 0 {
		t.Fatalf("stack %d is empty", id)
	}
	for i, addr := range stack[:depth] {
		if addr < 1<<63 { // x86-64 and arm64 kernel text is in the upper half
			t.Errorf("frame %d: %#x is not a kernel address", i, addr)
		}
	}
	ids := 0
	for k := range skel.Maps.StackTraces.All() {
		ids++
		if k != id {
			t.Errorf("iterated id %d, want only %d", k, id)
		}
	}
	if ids != 1 {
		t.Errorf("iterated %d ids, want 1", ids)
	}
	if err := skel.Maps.StackTraces.Delete(id); err != nil {
		t.Fatal(err)
	}
	if _, err := skel.Maps.StackTraces.Lookup(id); !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("Lookup after Delete: %v, want ErrKeyNotExist", err)
	}
}

// TestAllMapsClosed: after the skeleton's Close, the typed handles fail
// with an error instead of reaching a closed or reused descriptor.
func TestAllMapsClosed(t *testing.T) {
	skel := mustLoad(t, allmaps.Load)
	if err := skel.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := skel.Maps.Hash.Lookup(allmaps.Key{}); err == nil || errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Errorf("Lookup on a closed skeleton: %v", err)
	}
	if err := skel.Maps.PercpuArray.LookupInto(new(uint32(0)), make([]uint64, skel.Maps.PercpuArray.CPUs())); err == nil {
		t.Error("per-CPU LookupInto on a closed skeleton succeeded")
	}
	if err := skel.Maps.Stack.Push(1); err == nil {
		t.Error("Push on a closed skeleton succeeded")
	}
}

// TestAllMapsReuseportSockArray: a REUSEPORT_SOCKARRAY takes a bound UDP
// socket with SO_REUSEPORT through the typed SockMap handle and gives its
// cookie back (the map's value is 8 bytes); a socket without SO_REUSEPORT
// is refused, and Delete empties the slot.
func TestAllMapsReuseportSockArray(t *testing.T) {
	skel := mustLoad(t, allmaps.Load)
	udp := func(reuse bool) int {
		t.Helper()
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(fd) })
		if reuse {
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
				t.Fatal(err)
			}
		}
		if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			t.Fatal(err)
		}
		return fd
	}
	m := skel.Maps.ReuseportSockarray
	key := [4]byte{1}
	fd := udp(true)
	if err := m.Set(key, fd, bpfskel.UpdateAny); err != nil {
		t.Fatal(err)
	}
	want, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_COOKIE)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := m.Cookie(key); err != nil || got != want {
		t.Errorf("Cookie = %d, %v; want the socket's SO_COOKIE %d", got, err, want)
	}
	if err := m.Set([4]byte{2}, udp(false), bpfskel.UpdateAny); err == nil {
		t.Error("Set with a socket without SO_REUSEPORT succeeded")
	}
	if err := m.Delete(key); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Cookie(key); !errors.Is(err, bpfskel.ErrNotFound) {
		t.Errorf("Cookie after Delete: %v, want ErrNotFound", err)
	}
}

// TestAllMapsCgroupStorage: legacy cgroup storage, shared and per CPU,
// exists while storage_count is attached to a cgroup. Go reads what the
// program counted for the test's own UDP packet through the typed handles
// (keyed by the cgroup's inode and the attach type), writes a new value,
// and the program counts on from it.
func TestAllMapsCgroupStorage(t *testing.T) {
	skel := mustLoad(t, allmaps.Load)
	root := cgroup2Root(t)
	var st unix.Stat_t
	if err := unix.Stat(root, &st); err != nil {
		t.Fatal(err)
	}
	key := allmaps.BpfCgroupStorageKey{CgroupInodeId: st.Ino, AttachType: uint32(ebpf.AttachCGroupInetEgress)}
	if _, err := skel.Maps.CgroupStorage.Lookup(key); !errors.Is(err, bpfskel.ErrNotFound) {
		t.Fatalf("lookup before attach: %v, want ErrNotFound (storage exists only while attached)", err)
	}
	if _, err := skel.Programs.StorageCount.AttachCgroup(root); err != nil {
		t.Fatal(err)
	}
	send := func() {
		t.Helper()
		conn, err := net.Dial("udp", "127.0.0.1:9")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Write([]byte("bpfskel")); err != nil {
			t.Fatal(err)
		}
	}
	send()
	if n, err := waitCount(func() (uint64, error) { return skel.Maps.CgroupStorage.Lookup(key) }, 1); err != nil || n == 0 {
		t.Fatalf("cgroup_storage = %d, %v; want the UDP packet counted", n, err)
	}
	perCPU := func() uint64 {
		t.Helper()
		vals, err := skel.Maps.PercpuCgroupStorage.Lookup(key)
		if err != nil {
			t.Fatal(err)
		}
		var sum uint64
		for _, v := range vals {
			sum += v
		}
		return sum
	}
	if n := perCPU(); n == 0 {
		t.Error("percpu_cgroup_storage sums to 0 after a packet")
	}

	// Go writes; the program adds to what Go wrote.
	const base = 1 << 40
	if err := skel.Maps.CgroupStorage.Update(key, base, bpfskel.UpdateExist); err != nil {
		t.Fatal(err)
	}
	send()
	if n, err := waitCount(func() (uint64, error) { return skel.Maps.CgroupStorage.Lookup(key) }, base+1); err != nil || n <= base {
		t.Errorf("cgroup_storage = %d, %v after writing %d and a packet; want more than %d", n, err, uint64(base), uint64(base))
	}
	// A cgroup the program is not attached to has no storage.
	other := key
	other.AttachType = uint32(ebpf.AttachCGroupInetIngress)
	if err := skel.Maps.CgroupStorage.Update(other, 1, bpfskel.UpdateAny); err == nil {
		t.Error("updating the storage of an attach type nothing is attached to succeeded")
	}
}
