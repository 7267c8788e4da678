package gen_test

import (
	"crypto/rand"
	"debug/elf"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/bpfskel/bpfskel/runtime/bpfskel"
	"github.com/bpfskel/bpfskel/runtime/bpfskeltest"
	"github.com/bpfskel/bpfskel/testdata/golden/lifecycle"
)

// lifecycleUprobeSymbol is LifecycleUprobeTarget's symbol in the test
// binary, the target lifecycle.bpf.c names in its uprobe section.
const lifecycleUprobeSymbol = "github.com/bpfskel/bpfskel/gen_test.LifecycleUprobeTarget"

// LifecycleUprobeTarget is the function the lifecycle object's uprobes
// probe. It must stay a real function in the binary.
//
//go:noinline
func LifecycleUprobeTarget(x int) int {
	return x*3 + 1
}

// openLifecycle opens the lifecycle skeleton with this process as the
// target of its tracing programs (.rodata, set through the typed Spec).
func openLifecycle(t *testing.T) *lifecycle.Spec {
	t.Helper()
	bpfskeltest.RequireKernel(t)
	spec, err := lifecycle.Open()
	if err != nil {
		t.Fatal(err)
	}
	spec.Rodata.TargetTgid = uint32(os.Getpid())
	return spec
}

// syscalls makes n cheap syscalls.
func syscalls(n int) {
	for range n {
		unix.Getppid()
	}
}

// TestLifecycleAttachCountsSyscalls: typed .rodata set before load reaches
// the programs; Attach attaches the raw tracepoint and the tracepoint named
// in their sections; per-variable globals see the counts; Detach stops
// them, and a second Attach attaches again.
func TestLifecycleAttachCountsSyscalls(t *testing.T) {
	spec := openLifecycle(t)
	skel := mustLoad(t, spec.Load)
	if got := skel.Rodata.TargetTgid.Load(); got != uint32(os.Getpid()) {
		t.Fatalf("target_tgid after load = %d, want the pid %d set before load", got, os.Getpid())
	}
	// Not loaded: their sections start with '?'.
	if skel.Programs.KprobeNanosleep != nil || skel.Programs.FentryUnlinkat != nil || skel.Programs.LsmFileOpen != nil || skel.Programs.UprobeAuto != nil {
		t.Error("programs in '?' sections were loaded")
	}
	if err := skel.Attach(); err != nil {
		t.Fatal(err)
	}
	syscalls(100)
	raw, tp := skel.Bss.RawCount.Load(), skel.Bss.TpCount.Load()
	if raw < 100 || tp < 100 {
		t.Errorf("after 100 getppid: raw_count %d, tp_count %d; want at least 100 each", raw, tp)
	}
	// A second Attach attaches nothing twice: one syscall counts once.
	if err := skel.Attach(); err != nil {
		t.Fatal(err)
	}

	if err := skel.Detach(); err != nil {
		t.Fatal(err)
	}
	raw, tp = skel.Bss.RawCount.Load(), skel.Bss.TpCount.Load()
	syscalls(100)
	if r, p := skel.Bss.RawCount.Load(), skel.Bss.TpCount.Load(); r != raw || p != tp {
		t.Errorf("after Detach the counters moved: raw %d->%d, tp %d->%d", raw, r, tp, p)
	}
	// Programs stay loaded: attach again.
	if err := skel.Attach(); err != nil {
		t.Fatal(err)
	}
	syscalls(10)
	if r := skel.Bss.RawCount.Load(); r < raw+10 {
		t.Errorf("after re-Attach raw_count %d, want at least %d", r, raw+10)
	}
}

// fileOffset returns where fn's code is in the file of this executable,
// for a uprobe: `go test` strips the test binary's symbol table, so the
// function is found by address. The binary must not be PIE (the default
// for go test on linux).
func fileOffset(t *testing.T, fn any) uint64 {
	t.Helper()
	addr := uint64(reflect.ValueOf(fn).Pointer())
	f, err := elf.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && p.Vaddr <= addr && addr < p.Vaddr+p.Memsz {
			return addr - p.Vaddr + p.Off
		}
	}
	t.Fatalf("function at %#x is in no executable segment of /proc/self/exe (a PIE binary?)", addr)
	return 0
}

// hasSymbol reports whether the ELF file at path lists the symbol.
func hasSymbol(path, name string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	syms, _ := f.Symbols()
	for _, s := range syms {
		if s.Name == name {
			return true
		}
	}
	return false
}

// TestLifecycleManualUprobe attaches a uprobe whose section names no
// target to a function of the test binary, through its typed handle.
func TestLifecycleManualUprobe(t *testing.T) {
	skel := mustLoad(t, openLifecycle(t).Load)
	var opts *bpfskel.UprobeOptions
	sym := lifecycleUprobeSymbol
	if !hasSymbol("/proc/self/exe", sym) {
		sym, opts = "", &bpfskel.UprobeOptions{Offset: fileOffset(t, LifecycleUprobeTarget)}
	}
	l, err := skel.Programs.UprobeManual.AttachUprobe("/proc/self/exe", sym, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		LifecycleUprobeTarget(i)
	}
	if got := skel.Bss.ManualCount.Load(); got != 5 {
		t.Errorf("manual_count = %d after 5 calls, want 5", got)
	}
	// Closing the link early detaches it; Close later does not mind.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	LifecycleUprobeTarget(0)
	if got := skel.Bss.ManualCount.Load(); got != 5 {
		t.Errorf("manual_count = %d after the link was closed, want 5", got)
	}
	if _, err := skel.Programs.UprobeManual.AttachUprobe("/proc/self/exe", "no_such_function_here", nil); err == nil ||
		!strings.Contains(err.Error(), `program "uprobe_manual" (section "uprobe")`) {
		t.Errorf("uprobe on a missing symbol: %v; want an error naming the program and its section", err)
	}
}

// TestLifecycleAutoloadAndResize: programs turned off before load are nil
// and do not fail the bind; map sizes set before load hold; the value size
// of a typed map cannot change.
func TestLifecycleAutoloadAndResize(t *testing.T) {
	spec := openLifecycle(t)
	spec.Programs.XdpCountPkts.SetAutoload(false)
	if spec.Programs.KprobeNanosleep.Autoload() {
		t.Error("a '?kprobe/...' program autoloads by default")
	}
	if err := spec.Maps.Resizable.SetMaxEntries(1024); err != nil {
		t.Fatal(err)
	}
	if err := spec.Maps.Resizable.SetValueSize(16); err == nil {
		t.Error("SetValueSize on a typed map succeeded")
	}
	skel := mustLoad(t, spec.Load)
	if skel.Programs.XdpCountPkts != nil {
		t.Error("xdp_count_pkts was loaded with autoload off")
	}
	if skel.Programs.TcCountPkts == nil || skel.Programs.Touch == nil {
		t.Fatal("programs with autoload on are nil")
	}
	if n := skel.Maps.Resizable.Map().MaxEntries(); n != 1024 {
		t.Errorf("resizable has %d entries, want the 1024 set before load", n)
	}
	if _, err := skel.Programs.XdpCountPkts.AttachXDP("lo", 0); err == nil {
		t.Error("attaching a program that was not loaded succeeded")
	}
}

// TestLifecycleTypedTestRun runs programs with typed contexts, data in and
// out and a repeat count.
func TestLifecycleTypedTestRun(t *testing.T) {
	skel := mustLoad(t, openLifecycle(t).Load)
	// struct bpf_raw_tracepoint_args for sys_enter(regs, id).
	ctx := [2]uint64{0, 39}
	res, err := bpfskel.TestRunContext(skel.Programs.RawSysEnter, bpfskel.TestRunInput[[2]uint64]{Context: &ctx})
	if err != nil {
		t.Fatal(err)
	}
	if res.Return != 39 {
		t.Errorf("raw_sys_enter returned %d, want the syscall number 39 from its context", res.Return)
	}

	frame := lifecycleFrame()
	out := make([]byte, len(frame)+64)
	var ctxOut bpfskel.XDPContext
	res, err = bpfskel.TestRunContext(skel.Programs.XdpCountPkts, bpfskel.TestRunInput[bpfskel.XDPContext]{
		Context:    &bpfskel.XDPContext{DataEnd: uint32(len(frame))},
		ContextOut: &ctxOut,
		Data:       frame,
		DataOut:    out,
		Repeat:     100,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Return != 2 { // XDP_PASS
		t.Errorf("xdp_count_pkts returned %d, want XDP_PASS (2)", res.Return)
	}
	if string(res.DataOut) != string(frame) {
		t.Errorf("data out = % x, want the frame back", res.DataOut)
	}
	if ctxOut.DataEnd != uint32(len(frame)) {
		t.Errorf("context out data_end = %d, want %d", ctxOut.DataEnd, len(frame))
	}
	if res.Duration <= 0 {
		t.Errorf("duration = %v, want the kernel's measurement", res.Duration)
	}
	if n, err := skel.Maps.XdpCount.Lookup(0); err != nil || n != 100 {
		t.Errorf("xdp_count[0] = %d, %v; want 100 runs", n, err)
	}
}

// lifecycleFrame is an Ethernet frame of EtherType 0x88b5, which the XDP
// and TC programs count.
func lifecycleFrame() []byte {
	f := make([]byte, 60)
	copy(f[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(f[6:12], []byte{0x02, 0, 0, 0, 0, 0x01})
	f[12], f[13] = 0x88, 0xb5
	copy(f[14:], "bpfskel lifecycle")
	return f
}

// vethPair is a veth pair: Host in this network namespace, Peer in a new
// one, NS. Both ends are up.
type vethPair struct{ NS, Host, Peer string }

func newVethPair(t *testing.T) vethPair {
	t.Helper()
	var b [4]byte
	rand.Read(b[:])
	suffix := hex.EncodeToString(b[:])
	p := vethPair{NS: "bpfskel-lc-" + suffix, Host: "lch" + suffix, Peer: "lcp" + suffix}
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", p.NS)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", p.NS).Run() })
	ip("link", "add", p.Host, "type", "veth", "peer", "name", p.Peer, "netns", p.NS)
	t.Cleanup(func() { exec.Command("ip", "link", "del", p.Host).Run() })
	ip("link", "set", p.Host, "up")
	ip("-n", p.NS, "link", "set", p.Peer, "up")
	return p
}

// sendFromPeer sends n copies of frame out of the peer end, from inside
// its network namespace, so they arrive on the host end.
func sendFromPeer(t *testing.T, p vethPair, frame []byte, n int) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		// setns changes the calling thread only: keep this goroutine on a
		// thread of its own, and let that thread die with it.
		runtime.LockOSThread()
		ns, err := os.Open("/run/netns/" + p.NS)
		if err != nil {
			errc <- err
			return
		}
		defer ns.Close()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		iface, err := net.InterfaceByName(p.Peer)
		if err != nil {
			errc <- err
			return
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		addr := &unix.SockaddrLinklayer{Ifindex: iface.Index, Halen: 6}
		copy(addr.Addr[:], frame[0:6])
		for range n {
			if err := unix.Sendto(fd, frame, 0, addr); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	if err := <-errc; err != nil {
		t.Fatalf("sending from %s in %s: %v", p.Peer, p.NS, err)
	}
}

// waitCount polls a counter until it reaches want or a second passed.
func waitCount(read func() (uint64, error), want uint64) (uint64, error) {
	deadline := time.Now().Add(time.Second)
	for {
		n, err := read()
		if err != nil || n >= want || time.Now().After(deadline) {
			return n, err
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLifecycleXDPAndTCX attaches the XDP and TCX programs to the host end
// of a veth pair whose peer lives in a network namespace of the test, and
// counts frames sent from the peer through the typed maps.
func TestLifecycleXDPAndTCX(t *testing.T) {
	skel := mustLoad(t, openLifecycle(t).Load)
	p := newVethPair(t)
	if _, err := skel.Programs.XdpCountPkts.AttachXDP(p.Host, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := skel.Programs.TcCountPkts.AttachTCX(p.Host, bpfskel.Ingress); err != nil {
		t.Fatal(err)
	}
	sendFromPeer(t, p, lifecycleFrame(), 10)
	for _, m := range []struct {
		name string
		m    *bpfskel.Map[uint32, uint64]
	}{{"xdp_count", skel.Maps.XdpCount}, {"tc_count", skel.Maps.TcCount}} {
		n, err := waitCount(func() (uint64, error) { return m.m.Lookup(0) }, 10)
		if err != nil || n != 10 {
			t.Errorf("%s[0] = %d, %v; want the 10 frames sent", m.name, n, err)
		}
	}
	// Detach closes both links: more frames are not counted.
	if err := skel.Detach(); err != nil {
		t.Fatal(err)
	}
	sendFromPeer(t, p, lifecycleFrame(), 3)
	time.Sleep(50 * time.Millisecond)
	if n, _ := skel.Maps.XdpCount.Lookup(0); n != 10 {
		t.Errorf("xdp_count[0] = %d after Detach, want still 10", n)
	}
}

// TestLifecycleCgroup attaches a cgroup_skb program to the root of the
// cgroup2 hierarchy and counts the test's own UDP packet.
func TestLifecycleCgroup(t *testing.T) {
	skel := mustLoad(t, openLifecycle(t).Load)
	root := cgroup2Root(t)
	if _, err := skel.Programs.CgroupEgress.AttachCgroup(root); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("udp", "127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("bpfskel")); err != nil {
		t.Fatal(err)
	}
	if n, err := waitCount(func() (uint64, error) { return skel.Maps.CgroupCount.Lookup(0) }, 1); err != nil || n == 0 {
		t.Errorf("cgroup_count[0] = %d, %v; want the UDP packet counted", n, err)
	}
}

// kprobesAvailable reports whether the kernel can create kprobes.
func kprobesAvailable() bool {
	_, err := os.Stat("/sys/bus/event_source/devices/kprobe")
	return err == nil
}

// TestLifecycleUprobeAutoAttach: uprobe_auto's section names a function of
// the test binary through /proc/self/exe. With a symbol table (go test -c)
// Attach attaches it; without one (go test strips the binary) Attach fails
// naming the program and its section, and leaves nothing attached.
func TestLifecycleUprobeAutoAttach(t *testing.T) {
	spec := openLifecycle(t)
	spec.Programs.UprobeAuto.SetAutoload(true)
	skel := mustLoad(t, spec.Load)
	err := skel.Attach()
	if hasSymbol("/proc/self/exe", lifecycleUprobeSymbol) {
		if err != nil {
			t.Fatal(err)
		}
		for i := range 7 {
			LifecycleUprobeTarget(i)
		}
		if got := skel.Bss.UprobeCount.Load(); got != 7 {
			t.Errorf("uprobe_count = %d after 7 calls, want 7", got)
		}
		return
	}
	if err == nil {
		t.Fatal("Attach succeeded on a binary without the symbol")
	}
	if !strings.Contains(err.Error(), `program "uprobe_auto" (section "?uprobe//proc/self/exe:`+lifecycleUprobeSymbol+`")`) ||
		!strings.Contains(err.Error(), "not found") {
		t.Errorf("Attach error %q does not name the program, its section and the missing symbol", err)
	}
	// raw_sys_enter and tp_sys_enter were attached before uprobe_auto
	// (programs attach in name order) and must be detached again.
	before := skel.Bss.RawCount.Load() + skel.Bss.TpCount.Load()
	syscalls(50)
	if after := skel.Bss.RawCount.Load() + skel.Bss.TpCount.Load(); after != before {
		t.Errorf("syscall counters moved from %d to %d after a failed Attach: something stayed attached", before, after)
	}
}

// TestLifecycleAttachFailureLeavesNothing: a program whose target cannot
// attach makes Attach fail with its name and section, and the programs
// Attach had attached before it are detached again.
func TestLifecycleAttachFailureLeavesNothing(t *testing.T) {
	spec := openLifecycle(t)
	spec.Programs.KprobeNanosleep.SetAutoload(true)
	skel := mustLoad(t, spec.Load)
	if kprobesAvailable() {
		t.Skip("this kernel has kprobes: the kprobe attaches, so Attach cannot be made to fail this way")
	}
	err := skel.Attach()
	if err == nil {
		t.Fatal("Attach succeeded without kprobes")
	}
	if !strings.Contains(err.Error(), `program "kprobe_nanosleep" (section "?kprobe/do_nanosleep")`) {
		t.Errorf("Attach error %q does not name the program and its section", err)
	}
	// raw_sys_enter sorts before kprobe_nanosleep and was attached first:
	// it must be detached again.
	before := skel.Bss.RawCount.Load()
	syscalls(50)
	if after := skel.Bss.RawCount.Load(); after != before {
		t.Errorf("raw_count moved from %d to %d after a failed Attach: something stayed attached", before, after)
	}
}

// TestLifecycleFentryLSM loads the fentry and lsm programs, which a kernel
// under lockdown refuses: the error names the program and says why.
func TestLifecycleFentryLSM(t *testing.T) {
	for _, tc := range []struct {
		name, feature string
		enable        func(*lifecycle.Spec)
	}{
		{"fentry_unlinkat", "fentry", func(s *lifecycle.Spec) { s.Programs.FentryUnlinkat.SetAutoload(true) }},
		{"lsm_file_open", "lsm", func(s *lifecycle.Spec) { s.Programs.LsmFileOpen.SetAutoload(true) }},
	} {
		t.Run(tc.feature, func(t *testing.T) {
			spec := openLifecycle(t)
			tc.enable(spec)
			skel, err := spec.Load(nil)
			if err == nil {
				defer skel.Close()
				if err := skel.Attach(); err != nil {
					t.Skipf("%s programs load but do not attach here: %v", tc.feature, err)
				}
				return
			}
			if !strings.Contains(err.Error(), `program "`+tc.name+`"`) {
				t.Errorf("load error %q does not name program %s", err, tc.name)
			}
			var perr *bpfskel.PermissionError
			var lerr *bpfskel.LoadError
			if !errors.As(err, &perr) && !errors.As(err, &lerr) && !errors.Is(err, ebpf.ErrNotSupported) {
				t.Errorf("load error %q is neither a PermissionError, a LoadError nor ErrNotSupported", err)
			}
			t.Skipf("%s programs cannot load on this kernel (lockdown or missing support): %v", tc.feature, err)
		})
	}
}

// TestLifecycleResizeArray grows the array that ends .data.arr before load
// (libbpf's bpf_map__set_value_size): after load the typed handle sees
// every element, the initial values stay, and the program still works on
// the section.
func TestLifecycleResizeArray(t *testing.T) {
	spec := openLifecycle(t)
	if err := spec.ResizeArr(2); err == nil {
		t.Error("shrinking the array below the mirrored 4 elements succeeded")
	}
	if err := spec.ResizeArr(64); err != nil {
		t.Fatal(err)
	}
	spec.DataArr.ArrLen = 2 // typed initial contents still apply
	skel := mustLoad(t, spec.Load)
	arr := &skel.DataArr.Arr
	if arr.Len() != 64 {
		t.Fatalf("arr has %d elements after load, want 64", arr.Len())
	}
	for i, want := range []uint64{1, 2, 3, 4, 0} {
		if got := arr.Load(i); got != want {
			t.Errorf("arr[%d] = %d, want %d", i, got, want)
		}
	}
	if _, err := skel.Programs.Touch.TestRun(nil); err != nil {
		t.Fatal(err)
	}
	// touch adds data_marker + small_flag (7 + 1) to arr[arr_len].
	if got := arr.Load(2); got != 11 {
		t.Errorf("arr[2] = %d after touch, want 3 + 8", got)
	}
	arr.Store(63, 99)
	if got := arr.Load(63); got != 99 {
		t.Errorf("arr[63] = %d after Store, want 99", got)
	}
	if whole, err := skel.DataArr.Get(0); err != nil || whole.Arr != [4]uint64{1, 2, 11, 4} || whole.ArrLen != 2 {
		t.Errorf("section view = %+v, %v; want the mirrored prefix", whole, err)
	}
	if n := skel.Collection().Maps[lifecycle.SectionNameDataArr].ValueSize(); n != 8+64*8 {
		t.Errorf(".data.arr value size %d, want %d", n, 8+64*8)
	}
	defer func() {
		if recover() == nil {
			t.Error("arr.Load(64) did not panic")
		}
	}()
	arr.Load(64)
}

// TestLifecycleMapSharing: a pin path makes the first skeleton pin its map
// and the second reuse it; Replace hands a skeleton an existing map.
func TestLifecycleMapSharing(t *testing.T) {
	var b [4]byte
	rand.Read(b[:])
	dir := "/sys/fs/bpf/lifecycle-" + hex.EncodeToString(b[:])
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Skipf("bpffs is not mounted at /sys/fs/bpf (%v): pinning needs it", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	pin := dir + "/resizable"

	load := func() *lifecycle.Skeleton {
		spec := openLifecycle(t)
		if err := spec.Maps.Resizable.SetPinPath(pin); err != nil {
			t.Fatal(err)
		}
		return mustLoad(t, spec.Load)
	}
	first := load()
	if _, err := os.Stat(pin); err != nil {
		t.Fatalf("the first load did not pin resizable: %v", err)
	}
	second := load()
	if err := first.Maps.Resizable.Update(7, 42, bpfskel.UpdateAny); err != nil {
		t.Fatal(err)
	}
	if v, err := second.Maps.Resizable.Lookup(7); err != nil || v != 42 {
		t.Errorf("second skeleton reads %d, %v; want 42 written through the first (one pinned map)", v, err)
	}

	// Replace: the skeleton uses a map created elsewhere.
	existing, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer existing.Close()
	spec := openLifecycle(t)
	if err := spec.Maps.XdpCount.Replace(existing); err != nil {
		t.Fatal(err)
	}
	third := mustLoad(t, spec.Load)
	if err := existing.Update(uint32(0), uint64(5), ebpf.UpdateAny); err != nil {
		t.Fatal(err)
	}
	if v, err := third.Maps.XdpCount.Lookup(0); err != nil || v != 5 {
		t.Errorf("replaced xdp_count reads %d, %v; want 5 written to the existing map", v, err)
	}
}

// TestLifecycleLoadOptions: the verifier log level reaches the programs,
// a kernel BTF file is used for CO-RE, and a missing one is an error.
func TestLifecycleLoadOptions(t *testing.T) {
	spec := openLifecycle(t)
	spec.SetVerifierLog(ebpf.LogLevelInstruction|ebpf.LogLevelStats, 1<<16)
	if err := spec.SetKernelBTF("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skipf("no kernel BTF file to load: %v", err)
	}
	if err := spec.SetKernelBTF("/does/not/exist"); err == nil {
		t.Error("SetKernelBTF with a missing file succeeded")
	}
	if err := spec.SetKernelBTF("/sys/kernel/btf/vmlinux"); err != nil {
		t.Fatal(err)
	}
	skel := mustLoad(t, spec.Load)
	if log := skel.Programs.Touch.Program().VerifierLog; !strings.Contains(log, "processed") {
		t.Errorf("verifier log of touch = %q, want the statistics asked for", log)
	}
}

// TestLifecyclePerfEvent attaches a perf_event program to a software
// clock event of this process and counts its samples.
func TestLifecyclePerfEvent(t *testing.T) {
	spec := openLifecycle(t)
	spec.Programs.PerfSample.SetAutoload(true)
	skel := mustLoad(t, spec.Load)
	// perf_event_open with pid 0 counts the calling thread only: keep this
	// goroutine on it, or it may burn CPU on another thread that has no
	// event (the test failed that way, now and then).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	attr := unix.PerfEventAttr{
		Type:   unix.PERF_TYPE_SOFTWARE,
		Config: unix.PERF_COUNT_SW_CPU_CLOCK,
		Size:   uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		Sample: 100_000, // a sample every 100µs of CPU
	}
	fd, err := unix.PerfEventOpen(&attr, 0, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		t.Skipf("perf_event_open of a software clock: %v", err)
	}
	defer unix.Close(fd)
	if _, err := skel.Programs.PerfSample.AttachPerfEvent(fd); err != nil {
		t.Fatal(err)
	}
	// Burn CPU on this thread until samples arrive.
	deadline := time.Now().Add(2 * time.Second)
	for skel.Bss.PerfCount.Load() == 0 && time.Now().Before(deadline) {
		for i := range 100000 {
			sinkInt += i
		}
	}
	if skel.Bss.PerfCount.Load() == 0 {
		t.Error("perf_count = 0 after burning CPU with the program attached")
	}
}

var sinkInt int

// TestLifecycleNetfilterAndSkLookup attaches a netfilter program to the
// IPv4 local-out hook and an sk_lookup program to a fresh network
// namespace; Detach closes both links.
func TestLifecycleNetfilterAndSkLookup(t *testing.T) {
	spec := openLifecycle(t)
	spec.Programs.NfAccept.SetAutoload(true)
	spec.Programs.SkLookupPass.SetAutoload(true)
	skel, err := spec.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer skel.Close()

	l, err := skel.Programs.NfAccept.AttachNetfilter(link.NetfilterProtoIPv4, link.NetfilterInetLocalOut, 0)
	if errors.Is(err, ebpf.ErrNotSupported) {
		t.Logf("netfilter links are not supported by this kernel: %v", err)
	} else if err != nil {
		t.Fatal(err)
	} else if info, err := l.Info(); err != nil || info.Type != link.NetfilterType {
		t.Errorf("netfilter link info = %+v, %v", info, err)
	}

	p := newVethPair(t)
	nl, err := skel.Programs.SkLookupPass.AttachNetNs("/run/netns/" + p.NS)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := nl.Info(); err != nil || info.Type != link.NetNsType {
		t.Errorf("sk_lookup link info = %+v, %v", info, err)
	}
	if err := skel.Detach(); err != nil {
		t.Fatal(err)
	}
	if _, err := nl.Info(); err == nil {
		t.Error("the sk_lookup link still answers after Detach")
	}
}

// TestLifecycleKprobe auto-attaches kprobe/do_nanosleep where the kernel
// has kprobes, and counts the test's sleeps.
func TestLifecycleKprobe(t *testing.T) {
	spec := openLifecycle(t)
	spec.Programs.KprobeNanosleep.SetAutoload(true)
	skel := mustLoad(t, spec.Load)
	if !kprobesAvailable() {
		t.Skip("kprobes are absent (no kprobe PMU: CONFIG_KPROBES is off); TestLifecycleAttachFailureLeavesNothing checks the failure instead")
	}
	if err := skel.Attach(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		unix.Nanosleep(&unix.Timespec{Nsec: 1000}, nil)
	}
	if n := skel.Bss.KprobeCount.Load(); n < 3 {
		t.Errorf("kprobe_count = %d after 3 nanosleeps, want at least 3", n)
	}
}
