//go:build linux

package bpfskel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func TestTCOptionsDefaults(t *testing.T) {
	for _, tc := range []struct {
		opts   *TCOptions
		prio   uint16
		handle uint32
		name   string
	}{
		{nil, 1, 1, "nil"},
		{&TCOptions{}, 1, 1, "zero"},
		{&TCOptions{Priority: 3}, 3, 1, "priority"},
		{&TCOptions{Handle: 9}, 1, 9, "handle"},
		{&TCOptions{Priority: 0xffff, Handle: 0xffffffff}, 0xffff, 0xffffffff, "largest"},
	} {
		if p, h := tc.opts.tcPlace(); p != tc.prio || h != tc.handle {
			t.Errorf("%s: priority %d handle %d, want %d and %d", tc.name, p, h, tc.prio, tc.handle)
		}
	}
	if Ingress.String() != "ingress" || Egress.String() != "egress" || Direction(5).String() != "Direction(5)" {
		t.Errorf("Direction strings: %s %s %s", Ingress, Egress, Direction(5))
	}
}

func TestTCErrorText(t *testing.T) {
	f := &tcFilter{prog: "classify", iface: "eth9", dir: Egress, prio: 4, handle: 2}
	for _, tc := range []struct {
		name     string
		occupant string
		err      error
		want     []string
	}{
		{"taken, described", `bpf "other:[5]", program ID 5`, unix.EEXIST, []string{
			"already at priority 4 handle 2", `bpf "other:[5]", program ID 5`, "outlives the process",
			"pick another TCOptions.Priority or Handle", "tc filter del dev eth9 egress pref 4 handle 2 bpf"}},
		{"taken, not described", "", unix.EEXIST, []string{"already at priority 4 handle 2 (another filter;"}},
		{"priority of another protocol", "u32, protocol 0x0800, handle 0x800", unix.EINVAL, []string{
			"priority 4 is taken by a filter of another kind or protocol (u32, protocol 0x0800, handle 0x800)", "pick another TCOptions.Priority"}},
		{"other EINVAL", "", unix.EINVAL, []string{"adding the cls_bpf filter: invalid argument"}},
	} {
		err := tcAddError(f, tc.occupant, tc.err)
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: %v does not wrap %v", tc.name, err, tc.err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", tc.name, err, w)
			}
		}
	}

	what := `program "classify" (section "tc"): attach TC egress of "eth9"`
	eperm := fmt.Errorf("adding a clsact qdisc to %q: %w", "eth9", unix.EPERM)
	err := tcAttachError(what, eperm, capSet(1<<capBPF), true)
	var perr *PermissionError
	if !errors.As(err, &perr) || len(perr.Missing) != 1 || perr.Missing[0] != "CAP_NET_ADMIN" || !strings.HasPrefix(err.Error(), what) {
		t.Errorf("EPERM without CAP_NET_ADMIN: %v; want a PermissionError naming CAP_NET_ADMIN only", err)
	}
	if err := tcAttachError(what, unix.ENOBUFS, 0, true); err.Error() != what+": no buffer space available" {
		t.Errorf("other error: %q", err)
	}

	for _, op := range []struct {
		name string
		err  error
	}{
		{"Update", f.Update(nil)},
		{"Pin", f.Pin("/sys/fs/bpf/x")},
		{"Unpin", f.Unpin()},
		{"Info", func() error { _, err := f.Info(); return err }()},
	} {
		if !errors.Is(op.err, link.ErrNotSupported) || !strings.Contains(op.err.Error(), `program "classify": TC egress filter of "eth9" at priority 4 handle 2`) {
			t.Errorf("%s: %v; want link.ErrNotSupported naming the program and the filter", op.name, op.err)
		}
	}

	var nilTC *TCProgram
	if _, err := nilTC.AttachTC("lo", Ingress, nil); !errors.Is(err, errNilProgram) {
		t.Errorf("AttachTC on a nil handle: %v", err)
	}
}

// attrsOf addresses f's filter for github.com/vishvananda/netlink, which the
// tests use to check the hand-written requests against.
func attrsOf(f *tcFilter) netlink.FilterAttrs {
	parent := uint32(netlink.HANDLE_MIN_INGRESS)
	if f.dir == Egress {
		parent = netlink.HANDLE_MIN_EGRESS
	}
	return netlink.FilterAttrs{LinkIndex: f.ifindex, Parent: parent, Priority: f.prio, Protocol: unix.ETH_P_ALL, Handle: f.handle}
}

// inNewNetns runs fn on a thread of its own in a new network namespace
// (with only a loopback interface, down), and returns its error. The
// thread dies with the goroutine.
func inNewNetns(t *testing.T, fn func() error) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with us
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare: %w", err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// tcDump lists the qdisc kinds and the filters of lo in the calling
// thread's network namespace.
func tcDump(h *netlink.Handle) (qdiscs []string, filters []netlink.Filter, err error) {
	lo, err := h.LinkByName("lo")
	if err != nil {
		return nil, nil, err
	}
	qs, err := h.QdiscList(lo)
	if err != nil {
		return nil, nil, err
	}
	for _, q := range qs {
		qdiscs = append(qdiscs, q.Type())
	}
	for _, parent := range []uint32{netlink.HANDLE_MIN_INGRESS, netlink.HANDLE_MIN_EGRESS} {
		fs, err := h.FilterList(lo, parent)
		if err != nil {
			return nil, nil, err
		}
		filters = append(filters, fs...)
	}
	return qdiscs, filters, nil
}

func hasClsact(qdiscs []string) bool {
	for _, q := range qdiscs {
		if q == "clsact" {
			return true
		}
	}
	return false
}

// TestTCFailureDeletesItsQdisc: a filter add the kernel refuses after the
// attach added the clsact qdisc leaves no qdisc behind.
func TestTCFailureDeletesItsQdisc(t *testing.T) {
	requireKernel(t)
	err := inNewNetns(t, func() error {
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return err
		}
		defer h.Close()
		nl, err := openRtnl()
		if err != nil {
			return err
		}
		defer nl.close()
		f := &tcFilter{nl: nl, prog: "x", iface: "lo", dir: Ingress, prio: 1, handle: 1}
		// No program descriptor: cls_bpf refuses the filter (EBADF).
		aerr := f.attach(-1)
		if aerr == nil || !errors.Is(aerr, unix.EBADF) {
			return fmt.Errorf("attach without a program: %v, want EBADF", aerr)
		}
		if !f.ownsQdisc {
			return errors.New("the attach did not add the clsact qdisc itself")
		}
		qs, fs, err := tcDump(h)
		if err != nil {
			return err
		}
		if hasClsact(qs) || len(fs) != 0 {
			return fmt.Errorf("after the failed attach: qdiscs %v, %d filters; want no clsact and no filter", qs, len(fs))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTCCloseDeletesOnlyItsFilter: Close leaves a filter another program
// replaced at the same place alone (and the qdisc under it), and takes a
// filter deleted by hand as gone; Close from another network namespace
// (the test's thread) still reaches the interface of the attach.
func TestTCCloseDeletesOnlyItsFilter(t *testing.T) {
	c := loadSpec(t, &ebpf.CollectionSpec{Programs: map[string]*ebpf.ProgramSpec{
		"cls":   constProgram(ebpf.SchedCLS, -1),
		"other": constProgram(ebpf.SchedCLS, 0),
	}})
	b := NewBinder(c)
	cls, other := BindTCProgram(b, "cls"), BindTCProgram(b, "other")
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	var replaced, byHand link.Link
	var h *netlink.Handle
	err := inNewNetns(t, func() error {
		var err error
		if h, err = netlink.NewHandle(unix.NETLINK_ROUTE); err != nil {
			return err
		}
		if replaced, err = cls.AttachTC("lo", Ingress, nil); err != nil {
			return err
		}
		// tc filter replace: another program at priority 1 handle 1.
		f := replaced.(*tcFilter)
		if err := h.FilterReplace(&netlink.BpfFilter{FilterAttrs: attrsOf(f), Fd: other.Program().FD(), Name: "other", DirectAction: true}); err != nil {
			return err
		}
		if byHand, err = cls.AttachTC("lo", Egress, &TCOptions{Priority: 2, Handle: 3}); err != nil {
			return err
		}
		g := byHand.(*tcFilter)
		return h.FilterDel(&netlink.BpfFilter{FilterAttrs: attrsOf(g), Fd: -1})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	// Closed here, on a thread of the test's own network namespace.
	if err := replaced.Close(); err != nil {
		t.Errorf("Close of the replaced filter: %v", err)
	}
	if err := byHand.Close(); err != nil {
		t.Errorf("Close of the filter deleted by hand: %v", err)
	}
	qs, fs, err := tcDump(h)
	if err != nil {
		t.Fatal(err)
	}
	if !hasClsact(qs) || len(fs) == 0 {
		t.Fatalf("qdiscs %v, %d filter entries; want the clsact qdisc and the other program's filter kept", qs, len(fs))
	}
	for _, x := range fs {
		if b, ok := x.(*netlink.BpfFilter); ok && x.Attrs().Handle != 0 && b.Name != "other" {
			t.Errorf("filter %q is left, want only the other program's", b.Name)
		}
	}
}

// TestTCNetlinkParsing: the hand-written rtnetlink reader reads what the
// writer writes, takes the kernel's extended-ack message, and does not
// panic on truncated input.
func TestTCNetlinkParsing(t *testing.T) {
	m := filterMsg(7, clsactParent(Egress), 3, 9)
	var opts []byte
	opts = strattr(opts, tcaBPFName, "prog:[12]")
	opts = u32attr(opts, tcaBPFID, 12)
	a := strattr(nil, unix.TCA_KIND, "bpf")
	a = attr(a, unix.TCA_OPTIONS|nlaNested, opts)
	b := tcRequest(m, a)
	e, ok := parseTcEntry(b)
	if !ok || e.ifindex != 7 || e.parent != 0xfffffff3 || e.priority() != 3 || e.protocol() != unix.ETH_P_ALL || e.handle != 9 ||
		e.kind != "bpf" || e.bpfName != "prog:[12]" || e.bpfID != 12 {
		t.Errorf("parsed %+v, %v", e, ok)
	}
	for i := range b {
		parseTcEntry(b[:i]) // no panic
	}

	// struct nlmsgerr with a capped request header and an error message.
	errno := -int32(unix.EEXIST)
	errMsg := binary.NativeEndian.AppendUint32(nil, uint32(errno))
	errMsg = append(errMsg, make([]byte, unix.NLMSG_HDRLEN)...)
	errMsg = strattr(errMsg, unix.NLMSGERR_ATTR_MSG, "Filter already exists")
	msg := syscall.NetlinkMessage{Header: syscall.NlMsghdr{Type: unix.NLMSG_ERROR, Flags: unix.NLM_F_ACK_TLVS | unix.NLM_F_CAPPED}, Data: errMsg}
	if err := nlError(msg); !errors.Is(err, unix.EEXIST) || err.Error() != "file exists (Filter already exists)" {
		t.Errorf("nlError: %v", err)
	}
	for i := range errMsg {
		msg.Data = errMsg[:i]
		nlError(msg) // no panic
	}
	msg.Header.Flags = unix.NLM_F_ACK_TLVS // not capped: the length of the request is read from its header
	msg.Data = errMsg
	nlError(msg)
	if err := nlError(syscall.NetlinkMessage{Data: make([]byte, 4)}); err != nil {
		t.Errorf("an ack is an error: %v", err)
	}
}
