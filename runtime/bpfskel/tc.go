//go:build linux

package bpfskel

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// Classic TC attach: a clsact qdisc and a cls_bpf filter in direct-action
// mode, what libbpf's bpf_tc_hook_create and bpf_tc_attach do and what
// kernels before 6.6 (no TCX) offer. cilium/ebpf v0.22 has no API for it;
// the rtnetlink requests are in tcnetlink.go.

// clsactParent returns the parent of cls_bpf filters of clsact in
// direction d.
func clsactParent(d Direction) uint32 {
	if d == Egress {
		return 0xffff0000 | tcHMinEgress
	}
	return 0xffff0000 | tcHMinIngress
}

// tcFilter is the cls_bpf filter AttachTC adds, as a link.Link: Close and
// Detach delete it. It is not a BPF link, so it has no ID, no pin and no
// Info, and it outlives the process if it is not closed.
type tcFilter struct {
	// link.Link is nil: it only supplies the interface's unexported
	// marker method. Every exported method is tcFilter's own.
	link.Link

	mu sync.Mutex
	// nl is a netlink socket in the network namespace of the attach, so
	// that Close finds the interface wherever it is called from; nil once
	// closed.
	nl *rtnl

	prog      string // program name, for errors
	iface     string
	ifindex   int
	dir       Direction
	prio      uint16
	handle    uint32
	progID    uint32
	ownsQdisc bool // this attach created the clsact qdisc
}

var _ link.Link = (*tcFilter)(nil)

// where names the filter for errors and tc commands.
func (f *tcFilter) where() string {
	return fmt.Sprintf("TC %s filter of %q at priority %d handle %d", f.dir, f.iface, f.prio, f.handle)
}

// delCommand is the tc command that deletes the filter.
func (f *tcFilter) delCommand() string {
	return fmt.Sprintf("tc filter del dev %s %s pref %d handle %d bpf", f.iface, f.dir, f.prio, f.handle)
}

// attachTC adds a cls_bpf filter running prog in direct-action mode to
// iface in direction dir, creating the clsact qdisc if the interface has
// none. On failure it leaves nothing behind: no filter, and no qdisc it
// created. name is the program's name in the object.
func attachTC(prog *ebpf.Program, name, iface string, dir Direction, prio uint16, handle uint32) (*tcFilter, error) {
	if t := prog.Type(); t != ebpf.SchedCLS {
		return nil, fmt.Errorf("cls_bpf runs SchedCLS programs and this is a %s program", t)
	}
	info, err := prog.Info()
	if err != nil {
		return nil, fmt.Errorf("reading the program's ID: %w", err)
	}
	id, _ := info.ID()
	nl, err := openRtnl()
	if err != nil {
		return nil, err
	}
	f := &tcFilter{nl: nl, prog: name, iface: iface, dir: dir, prio: prio, handle: handle, progID: uint32(id)}
	if err := f.attach(prog.FD()); err != nil {
		nl.close()
		return nil, err
	}
	return f, nil
}

func (f *tcFilter) attach(fd int) error {
	idx, err := f.nl.ifindex(f.iface)
	if err != nil {
		if errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("no interface %q in this network namespace (ip link lists them)", f.iface)
		}
		return fmt.Errorf("looking up interface %q: %w", f.iface, err)
	}
	f.ifindex = idx
	if err := f.ensureClsact(); err != nil {
		return err
	}
	err = f.nl.addBPFFilter(f.msg(), fd, fmt.Sprintf("%s:[%d]", f.prog, f.progID)) // libbpf's name
	if err == nil {
		return nil
	}
	var occupant string
	if errors.Is(err, unix.EEXIST) || errors.Is(err, unix.EINVAL) {
		occupant = f.occupant()
	}
	if f.ownsQdisc {
		if qerr := f.removeQdiscIfEmpty(); qerr != nil {
			err = errors.Join(err, qerr)
		}
	}
	return tcAddError(f, occupant, err)
}

// msg addresses the filter.
func (f *tcFilter) msg() tcmsg {
	return filterMsg(f.ifindex, clsactParent(f.dir), f.prio, f.handle)
}

// ensureClsact adds the clsact qdisc to the interface, or checks that the
// qdisc already there has the hook of the direction.
func (f *tcFilter) ensureClsact() error {
	err := f.nl.addClsact(f.ifindex)
	if err == nil {
		f.ownsQdisc = true
		return nil
	}
	if !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("adding a clsact qdisc to %q: %w", f.iface, err)
	}
	// Something sits at ffff:fff1: clsact, or the older ingress qdisc,
	// which has an ingress hook only.
	qs, lerr := f.nl.qdiscs(f.ifindex)
	if lerr != nil {
		return fmt.Errorf("listing the qdiscs of %q: %w", f.iface, lerr)
	}
	for _, q := range qs {
		if q.parent != tcHClsact {
			continue
		}
		if q.kind == clsactQdiscKind || (q.kind == ingressQdiscKind && f.dir == Ingress) {
			return nil
		}
		return fmt.Errorf("the interface has an %s qdisc, which has no %s hook: attach on ingress, or replace it with clsact (tc qdisc del dev %s %s; its filters go with it)", q.kind, f.dir, f.iface, q.kind)
	}
	return fmt.Errorf("adding a clsact qdisc to %q: %w, but no qdisc is listed there", f.iface, err)
}

// occupant describes the filter already at the filter's priority, or "".
func (f *tcFilter) occupant() string {
	fs, err := f.nl.filters(f.ifindex, clsactParent(f.dir))
	if err != nil {
		return ""
	}
	for _, x := range fs {
		if x.priority() != f.prio || x.handle == 0 {
			continue
		}
		if x.handle == f.handle {
			if x.kind == "bpf" {
				return fmt.Sprintf("bpf %q, program ID %d", x.bpfName, x.bpfID)
			}
			return x.kind
		}
		if x.protocol() != unix.ETH_P_ALL || x.kind != "bpf" {
			return fmt.Sprintf("%s, protocol %#04x, handle %#x", x.kind, x.protocol(), x.handle)
		}
	}
	return ""
}

// tcAddError explains a failed filter add. occupant describes the filter
// already at that priority, if one was found.
func tcAddError(f *tcFilter, occupant string, err error) error {
	switch {
	case errors.Is(err, unix.EEXIST):
		if occupant == "" {
			occupant = "another filter"
		}
		return fmt.Errorf("a filter is already at priority %d handle %d (%s; a classic filter outlives the process that added it): "+
			"pick another TCOptions.Priority or Handle, or delete it (%s): %w",
			f.prio, f.handle, occupant, f.delCommand(), err)
	case errors.Is(err, unix.EINVAL) && occupant != "":
		return fmt.Errorf("priority %d is taken by a filter of another kind or protocol (%s): pick another TCOptions.Priority: %w",
			f.prio, occupant, err)
	}
	return fmt.Errorf("adding the cls_bpf filter: %w", err)
}

// tcAttachError prefixes err with what failed, and maps a missing
// privilege to CAP_NET_ADMIN, which rtnetlink's tc requests need (the
// program is loaded already), given the capabilities have (ok false:
// unknown).
func tcAttachError(what string, err error, have capSet, ok bool) error {
	if perr := permissionError(what, []int{capNetAdmin}, have, ok, err); perr != nil {
		return perr
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Close deletes the filter, and the clsact qdisc if this attach created it
// and no filter is left on it in either direction. A filter already gone
// (deleted by hand, or with its interface) or replaced by another
// program's is not an error and is left alone. Later calls do nothing.
func (f *tcFilter) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.nl == nil {
		return nil
	}
	err := f.remove()
	f.nl.close()
	f.nl = nil
	if err != nil {
		return fmt.Errorf("program %q: deleting the %s (%s): %w", f.prog, f.where(), f.delCommand(), err)
	}
	return nil
}

// Detach is Close: a filter has nothing to keep once it is deleted.
func (f *tcFilter) Detach() error { return f.Close() }

func (f *tcFilter) remove() error {
	fs, err := f.nl.filters(f.ifindex, clsactParent(f.dir))
	if err != nil {
		return fmt.Errorf("listing filters: %w", err)
	}
	// The dump is empty when the interface or its qdisc is gone.
	for _, x := range fs {
		if x.kind != "bpf" || x.priority() != f.prio || x.handle != f.handle || x.bpfID != f.progID {
			continue
		}
		if err := f.nl.delFilter(f.msg()); err != nil && !errors.Is(err, unix.ENOENT) {
			return err
		}
		break
	}
	if f.ownsQdisc {
		return f.removeQdiscIfEmpty()
	}
	return nil
}

// removeQdiscIfEmpty deletes the clsact qdisc when no filter is left on
// it. TCX programs do not count: they stay attached without the qdisc.
func (f *tcFilter) removeQdiscIfEmpty() error {
	for _, d := range []Direction{Ingress, Egress} {
		fs, err := f.nl.filters(f.ifindex, clsactParent(d))
		if err != nil {
			return fmt.Errorf("listing filters before deleting the clsact qdisc this attach created: %w", err)
		}
		if len(fs) > 0 {
			return nil // someone else's filters: the qdisc stays
		}
	}
	err := f.nl.delClsact(f.ifindex)
	if err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("deleting the clsact qdisc this attach created (tc qdisc del dev %s clsact): %w", f.iface, err)
	}
	return nil
}

func (f *tcFilter) notSupported(op string) error {
	return fmt.Errorf("program %q: %s: %s: a cls_bpf filter is not a BPF link: %w", f.prog, f.where(), op, link.ErrNotSupported)
}

// Update is not supported: close the filter and attach the other program.
func (f *tcFilter) Update(*ebpf.Program) error {
	return fmt.Errorf("%w (close it and attach the new program)", f.notSupported("update"))
}

// Pin is not supported: the filter stays on the interface until it is
// deleted, with or without the process.
func (f *tcFilter) Pin(string) error {
	return fmt.Errorf("%w (it needs no pin: it stays on the interface until deleted)", f.notSupported("pin"))
}

// Unpin is not supported.
func (f *tcFilter) Unpin() error { return f.notSupported("unpin") }

// Info is not supported: the filter has no link ID (tc filter show lists
// it with its program ID).
func (f *tcFilter) Info() (*link.Info, error) {
	return nil, fmt.Errorf("%w (tc filter show dev %s %s lists it)", f.notSupported("info"), f.iface, f.dir)
}
