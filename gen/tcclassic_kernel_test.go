package gen_test

import (
	"errors"
	"net"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/bpfskel/bpfskel/runtime/bpfskel"
	"github.com/bpfskel/bpfskel/runtime/bpfskeltest"
	"github.com/bpfskel/bpfskel/testdata/golden/lifecycle"
)

// Classic TC attach (TCProgram.AttachTC) against the kernel, on the host
// end of a veth pair whose peer lives in a network namespace of the test.
// The checks read the interface's qdiscs and filters through netlink, as
// tc qdisc show and tc filter show do.

// tcState is what netlink reports about the classic TC setup of an
// interface.
type tcState struct {
	clsact            bool                 // a clsact qdisc is there
	ingress, egress   []*netlink.BpfFilter // the cls_bpf filters
	ingressN, egressN int                  // every entry of the filter dumps
}

func readTC(t *testing.T, iface string) tcState {
	t.Helper()
	l, err := netlink.LinkByName(iface)
	if err != nil {
		t.Fatal(err)
	}
	var s tcState
	qs, err := netlink.QdiscList(l)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if q.Type() == "clsact" {
			s.clsact = true
		}
	}
	for _, d := range []struct {
		parent uint32
		bpf    *[]*netlink.BpfFilter
		n      *int
	}{{netlink.HANDLE_MIN_INGRESS, &s.ingress, &s.ingressN}, {netlink.HANDLE_MIN_EGRESS, &s.egress, &s.egressN}} {
		fs, err := netlink.FilterList(l, d.parent)
		if err != nil {
			t.Fatal(err)
		}
		*d.n = len(fs)
		for _, f := range fs {
			if b, ok := f.(*netlink.BpfFilter); ok && f.Attrs().Handle != 0 {
				*d.bpf = append(*d.bpf, b)
			}
		}
	}
	return s
}

// tcCount reads tc_count[0] once the frames had time to arrive.
func tcCount(t *testing.T, skel *lifecycle.Skeleton, want uint64) uint64 {
	t.Helper()
	n, err := waitCount(func() (uint64, error) { return skel.Maps.TcCount.Lookup(0) }, want)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// sendFromHost sends n copies of frame out of the host end of p, in this
// network namespace.
func sendFromHost(t *testing.T, p vethPair, frame []byte, n int) {
	t.Helper()
	iface, err := net.InterfaceByName(p.Host)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	addr := &unix.SockaddrLinklayer{Ifindex: iface.Index, Halen: 6}
	copy(addr.Addr[:], frame[0:6])
	for range n {
		if err := unix.Sendto(fd, frame, 0, addr); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTCClassicAttach: AttachTC adds a clsact qdisc and one cls_bpf
// filter in direct-action mode that counts the frames arriving; a second
// attach at the same priority and handle fails saying so and changes
// nothing; Detach deletes the filter and the qdisc the attach added, and
// frames are no longer counted.
func TestTCClassicAttach(t *testing.T) {
	skel := mustLoad(t, openLifecycle(t).Load)
	p := newVethPair(t)
	if s := readTC(t, p.Host); s.clsact {
		t.Fatal("a new veth has a clsact qdisc already")
	}
	if _, err := skel.Programs.TcCountPkts.AttachTC(p.Host, bpfskel.Ingress, nil); err != nil {
		t.Fatal(err)
	}
	s := readTC(t, p.Host)
	if !s.clsact || len(s.ingress) != 1 || s.egressN != 0 {
		t.Fatalf("after AttachTC: clsact %v, %d ingress bpf filters, %d egress entries; want clsact and one ingress filter", s.clsact, len(s.ingress), s.egressN)
	}
	info, err := skel.Programs.TcCountPkts.Program().Info()
	if err != nil {
		t.Fatal(err)
	}
	id, _ := info.ID()
	f := s.ingress[0]
	if a := f.Attrs(); a.Priority != 1 || a.Handle != 1 || a.Protocol != unix.ETH_P_ALL || !f.DirectAction || f.Id != int(id) {
		t.Errorf("filter: priority %d handle %d protocol %#x direct-action %v program %d; want 1, 1, ETH_P_ALL, true, %d",
			a.Priority, a.Handle, a.Protocol, f.DirectAction, f.Id, id)
	}
	if want := "tc_count_pkts:[" + strconv.Itoa(int(id)) + "]"; f.Name != want {
		t.Errorf("filter name %q, want %q", f.Name, want)
	}
	sendFromPeer(t, p, lifecycleFrame(), 10)
	if n := tcCount(t, skel, 10); n != 10 {
		t.Errorf("tc_count[0] = %d, want the 10 frames sent", n)
	}

	_, err = skel.Programs.TcCountPkts.AttachTC(p.Host, bpfskel.Ingress, &bpfskel.TCOptions{Priority: 1, Handle: 1})
	if err == nil {
		t.Fatal("a second AttachTC at priority 1 handle 1 succeeded")
	}
	if !errors.Is(err, unix.EEXIST) {
		t.Errorf("error %q does not wrap EEXIST", err)
	}
	checkErr(t, err, `program "tc_count_pkts"`, `attach TC ingress of "`+p.Host+`"`, "already at priority 1 handle 1", "tc_count_pkts:[", "pick another TCOptions.Priority or Handle", "tc filter del dev "+p.Host+" ingress pref 1 handle 1 bpf")
	if s := readTC(t, p.Host); !s.clsact || len(s.ingress) != 1 {
		t.Errorf("after the failed attach: clsact %v, %d filters; want the first attach's untouched", s.clsact, len(s.ingress))
	}

	if err := skel.Detach(); err != nil {
		t.Fatal(err)
	}
	if s := readTC(t, p.Host); s.clsact || s.ingressN != 0 || s.egressN != 0 {
		t.Errorf("after Detach: clsact %v, %d ingress and %d egress entries; want no qdisc and no filter", s.clsact, s.ingressN, s.egressN)
	}
	sendFromPeer(t, p, lifecycleFrame(), 3)
	time.Sleep(50 * time.Millisecond)
	if n, _ := skel.Maps.TcCount.Lookup(0); n != 10 {
		t.Errorf("tc_count[0] = %d after Detach, want still 10", n)
	}
	// Attached again after Detach.
	if _, err := skel.Programs.TcCountPkts.AttachTC(p.Host, bpfskel.Ingress, nil); err != nil {
		t.Fatal(err)
	}
	sendFromPeer(t, p, lifecycleFrame(), 5)
	if n := tcCount(t, skel, 15); n != 15 {
		t.Errorf("tc_count[0] = %d after attaching again and 5 more frames, want 15", n)
	}
}

// tcCmd runs tc with args.
func tcCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("tc", args...).CombinedOutput(); err != nil {
		t.Fatalf("tc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestTCClassicExistingQdisc: an existing clsact qdisc is reused and stays
// after the filter is gone; egress filters see the frames the interface
// sends; closing the link before the skeleton deletes the filter, and the
// skeleton's Close does not fail on it afterwards.
func TestTCClassicExistingQdisc(t *testing.T) {
	if _, err := exec.LookPath("tc"); err != nil {
		t.Skip("needs tc (iproute2) to add a qdisc of its own")
	}
	skel := mustLoad(t, openLifecycle(t).Load)
	p := newVethPair(t)
	tcCmd(t, "qdisc", "add", "dev", p.Host, "clsact")
	l, err := skel.Programs.TcCountPkts.AttachTC(p.Host, bpfskel.Egress, &bpfskel.TCOptions{Priority: 5, Handle: 7})
	if err != nil {
		t.Fatal(err)
	}
	s := readTC(t, p.Host)
	if len(s.egress) != 1 || s.ingressN != 0 {
		t.Fatalf("%d egress bpf filters, %d ingress entries; want one egress filter", len(s.egress), s.ingressN)
	}
	if a := s.egress[0].Attrs(); a.Priority != 5 || a.Handle != 7 {
		t.Errorf("filter at priority %d handle %d, want 5 and 7", a.Priority, a.Handle)
	}
	sendFromHost(t, p, lifecycleFrame(), 4)
	if n := tcCount(t, skel, 4); n != 4 {
		t.Errorf("tc_count[0] = %d, want the 4 frames sent out of %s", n, p.Host)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if s := readTC(t, p.Host); !s.clsact || s.egressN != 0 {
		t.Errorf("after Close: clsact %v, %d egress entries; want the qdisc that was there kept and no filter", s.clsact, s.egressN)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for _, op := range []struct {
		name string
		err  error
	}{{"Update", l.Update(skel.Programs.TcCountPkts.Program())}, {"Pin", l.Pin("/sys/fs/bpf/x")}, {"Unpin", l.Unpin()}, {"Info", func() error { _, err := l.Info(); return err }()}} {
		if !errors.Is(op.err, link.ErrNotSupported) || !strings.Contains(op.err.Error(), "not a BPF link") {
			t.Errorf("%s: %v; want an error wrapping link.ErrNotSupported saying why", op.name, op.err)
		}
	}
	if err := skel.Detach(); err != nil {
		t.Errorf("Detach after the link was closed: %v", err)
	}
}

// TestTCClassicKeepsQdiscWithOtherFilters: the qdisc an attach added stays
// while another filter is on it, and Collection.Close deletes the
// skeleton's filters.
func TestTCClassicKeepsQdiscWithOtherFilters(t *testing.T) {
	bpfskeltest.RequireKernel(t)
	spec, err := lifecycle.Open()
	if err != nil {
		t.Fatal(err)
	}
	skel, err := spec.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer skel.Close()
	p := newVethPair(t)
	if _, err := skel.Programs.TcCountPkts.AttachTC(p.Host, bpfskel.Ingress, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := skel.Programs.TcCountPkts.AttachTC(p.Host, bpfskel.Egress, &bpfskel.TCOptions{Priority: 2}); err != nil {
		t.Fatal(err)
	}
	if s := readTC(t, p.Host); len(s.ingress) != 1 || len(s.egress) != 1 {
		t.Fatalf("%d ingress and %d egress filters, want one each", len(s.ingress), len(s.egress))
	}
	if err := skel.Close(); err != nil {
		t.Fatal(err)
	}
	// The egress attach (newest, closed first) found the qdisc there; the
	// ingress attach added it and deleted it once no filter was left.
	if s := readTC(t, p.Host); s.clsact || s.ingressN != 0 || s.egressN != 0 {
		t.Errorf("after Close: clsact %v, %d ingress and %d egress entries; want nothing left", s.clsact, s.ingressN, s.egressN)
	}
}

// TestTCClassicAndTCX: on kernels with TCX (6.6+), a TCX program and a
// classic filter on the same hook both run: TCX first, and since
// tc_count_pkts returns TCX_NEXT (TC_ACT_UNSPEC) the cls_bpf filter runs
// next, so each frame is counted twice. Deleting the qdisc the classic
// attach added leaves the TCX program attached.
func TestTCClassicAndTCX(t *testing.T) {
	skel := mustLoad(t, openLifecycle(t).Load)
	p := newVethPair(t)
	if _, err := skel.Programs.TcCountPkts.AttachTCX(p.Host, bpfskel.Ingress); err != nil {
		if errors.Is(err, link.ErrNotSupported) {
			t.Skipf("kernel has no TCX: %v", err)
		}
		t.Fatal(err)
	}
	classic, err := skel.Programs.TcCountPkts.AttachTC(p.Host, bpfskel.Ingress, nil)
	if err != nil {
		t.Fatal(err)
	}
	sendFromPeer(t, p, lifecycleFrame(), 10)
	if n := tcCount(t, skel, 20); n != 20 {
		t.Errorf("tc_count[0] = %d after 10 frames through TCX and cls_bpf, want 20", n)
	}
	if err := classic.Close(); err != nil {
		t.Fatal(err)
	}
	if s := readTC(t, p.Host); s.clsact || s.ingressN != 0 {
		t.Errorf("after closing the classic link: clsact %v, %d filters; want neither", s.clsact, s.ingressN)
	}
	sendFromPeer(t, p, lifecycleFrame(), 10)
	if n := tcCount(t, skel, 30); n != 30 {
		t.Errorf("tc_count[0] = %d after 10 more frames through TCX alone, want 30", n)
	}
}

// TestTCClassicErrors: each failure names the program, the interface, the
// direction and the fix, and leaves what was there as it was. (A failure
// that must delete the qdisc the attach added is tested in
// runtime/bpfskel.)
func TestTCClassicErrors(t *testing.T) {
	if _, err := exec.LookPath("tc"); err != nil {
		t.Skip("needs tc (iproute2) to set up the conflicting qdisc and filter")
	}
	skel := mustLoad(t, openLifecycle(t).Load)
	prog := skel.Programs.TcCountPkts
	p := newVethPair(t)

	_, err := prog.AttachTC("bpfskel-none0", bpfskel.Ingress, nil)
	checkErr(t, err, `program "tc_count_pkts"`, `attach TC ingress of "bpfskel-none0"`, `no interface "bpfskel-none0" in this network namespace`)

	_, err = prog.AttachTC(p.Host, bpfskel.Direction(7), nil)
	checkErr(t, err, `program "tc_count_pkts"`, "unknown direction", "bpfskel.Ingress or bpfskel.Egress")

	// A filter of another protocol at priority 1 (added through netlink
	// here, as tc would): the kernel refuses a second protocol at one
	// priority.
	t.Run("priority taken", func(t *testing.T) {
		tcCmd(t, "qdisc", "add", "dev", p.Host, "clsact")
		t.Cleanup(func() { exec.Command("tc", "qdisc", "del", "dev", p.Host, "clsact").Run() })
		l, err := netlink.LinkByName(p.Host)
		if err != nil {
			t.Fatal(err)
		}
		other := &netlink.BpfFilter{
			FilterAttrs: netlink.FilterAttrs{LinkIndex: l.Attrs().Index, Parent: netlink.HANDLE_MIN_EGRESS, Priority: 1, Protocol: unix.ETH_P_IP, Handle: 9},
			Fd:          prog.Program().FD(), Name: "other", DirectAction: true,
		}
		if err := netlink.FilterAdd(other); err != nil {
			t.Fatal(err)
		}
		_, err = prog.AttachTC(p.Host, bpfskel.Egress, nil)
		checkErr(t, err, `attach TC egress of "`+p.Host+`"`, "priority 1 is taken", "taken by a filter of another kind or protocol", "protocol 0x0800", "pick another TCOptions.Priority")
		if s := readTC(t, p.Host); !s.clsact || len(s.egress) != 1 || s.egress[0].Name != "other" {
			t.Errorf("clsact %v, %d bpf filters; want the qdisc and the other filter kept, and no new filter", s.clsact, len(s.egress))
		}
	})

	// The older ingress qdisc sits where clsact would and has no egress
	// hook.
	t.Run("ingress qdisc", func(t *testing.T) {
		tcCmd(t, "qdisc", "add", "dev", p.Host, "ingress")
		t.Cleanup(func() { exec.Command("tc", "qdisc", "del", "dev", p.Host, "ingress").Run() })
		_, err := prog.AttachTC(p.Host, bpfskel.Egress, nil)
		checkErr(t, err, `attach TC egress of "`+p.Host+`"`, "an ingress qdisc, which has no egress hook", "tc qdisc del dev "+p.Host+" ingress")
		// Ingress works on the old ingress qdisc, which stays after.
		l, err := prog.AttachTC(p.Host, bpfskel.Ingress, nil)
		if err != nil {
			t.Fatal(err)
		}
		sendFromPeer(t, p, lifecycleFrame(), 2)
		if n := tcCount(t, skel, 2); n != 2 {
			t.Errorf("tc_count[0] = %d through the ingress qdisc, want 2", n)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if out, _ := exec.Command("tc", "qdisc", "show", "dev", p.Host, "ingress").CombinedOutput(); !strings.Contains(string(out), "qdisc ingress") {
			t.Errorf("the ingress qdisc is gone after Close:\n%s", out)
		}
	})
}

func checkErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one saying %q", want)
	}
	t.Log(err)
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

// TestTCClassicNoLeak attaches and closes a classic filter many times and
// checks that the process's descriptors and the interface end where they
// started.
func TestTCClassicNoLeak(t *testing.T) {
	skel := mustLoad(t, openLifecycle(t).Load)
	p := newVethPair(t)
	runtime.GC()
	before, err := bpfskeltest.CountResources()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		dir := bpfskel.Direction(i % 2)
		l, err := skel.Programs.TcCountPkts.AttachTC(p.Host, dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	after, err := bpfskeltest.CountResources()
	if err != nil {
		t.Fatal(err)
	}
	if after.FDs != before.FDs {
		t.Errorf("file descriptors: %d before 50 attach/close, %d after", before.FDs, after.FDs)
	}
	if s := readTC(t, p.Host); s.clsact || s.ingressN != 0 || s.egressN != 0 {
		t.Errorf("after 50 attach/close: clsact %v, %d ingress and %d egress entries; want nothing", s.clsact, s.ingressN, s.egressN)
	}
}
