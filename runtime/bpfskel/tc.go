package bpfskel

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Classic TC attach: a clsact qdisc and a cls_bpf filter in direct-action
// mode, what libbpf's bpf_tc_hook_create and bpf_tc_attach do and what
// kernels before 6.6 (no TCX) offer. cilium/ebpf v0.22 has no API for it;
// the rtnetlink messages go through github.com/vishvananda/netlink.

// TCOptions are the optional parts of a classic TC attach
// ([TCProgram.AttachTC]). The zero value attaches at priority 1, handle 1,
// as libbpf's examples do.
type TCOptions struct {
	// Priority of the filter among the interface's filters in that
	// direction (tc's "pref"): lower runs first. 0 means 1.
	Priority uint16
	// Handle of the filter at that priority. 0 means 1.
	Handle uint32
}

// tcPlace returns the priority and handle opts asks for.
func (o *TCOptions) tcPlace() (prio uint16, handle uint32) {
	prio, handle = 1, 1
	if o != nil {
		if o.Priority != 0 {
			prio = o.Priority
		}
		if o.Handle != 0 {
			handle = o.Handle
		}
	}
	return prio, handle
}

// clsactParent returns the parent of cls_bpf filters of clsact in
// direction d.
func clsactParent(d Direction) uint32 {
	if d == Egress {
		return netlink.HANDLE_MIN_EGRESS
	}
	return netlink.HANDLE_MIN_INGRESS
}

// clsactQdisc is the clsact qdisc of the interface at ifindex.
func clsactQdisc(ifindex int) *netlink.Clsact {
	return &netlink.Clsact{QdiscAttrs: netlink.QdiscAttrs{
		LinkIndex: ifindex,
		Handle:    netlink.MakeHandle(0xffff, 0),
		Parent:    netlink.HANDLE_CLSACT,
	}}
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
	nl *netlink.Handle

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
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("opening a netlink socket: %w", err)
	}
	f := &tcFilter{nl: h, prog: name, iface: iface, dir: dir, prio: prio, handle: handle, progID: uint32(id)}
	if err := f.attach(prog.FD()); err != nil {
		h.Close()
		return nil, err
	}
	return f, nil
}

func (f *tcFilter) attach(fd int) error {
	l, err := f.nl.LinkByName(f.iface)
	if err != nil {
		if errors.As(err, &netlink.LinkNotFoundError{}) {
			return fmt.Errorf("no interface %q in this network namespace (ip link lists them)", f.iface)
		}
		return fmt.Errorf("looking up interface %q: %w", f.iface, err)
	}
	f.ifindex = l.Attrs().Index
	if err := f.ensureClsact(); err != nil {
		return err
	}
	err = f.nl.FilterAdd(&netlink.BpfFilter{
		FilterAttrs:  f.filterAttrs(),
		Fd:           fd,
		Name:         fmt.Sprintf("%s:[%d]", f.prog, f.progID), // libbpf's name
		DirectAction: true,
	})
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

func (f *tcFilter) filterAttrs() netlink.FilterAttrs {
	return netlink.FilterAttrs{
		LinkIndex: f.ifindex,
		Parent:    clsactParent(f.dir),
		Priority:  f.prio,
		Protocol:  unix.ETH_P_ALL, // every packet, as libbpf
		Handle:    f.handle,
	}
}

// ensureClsact adds the clsact qdisc to the interface, or checks that the
// qdisc already there has the hook of the direction.
func (f *tcFilter) ensureClsact() error {
	err := f.nl.QdiscAdd(clsactQdisc(f.ifindex))
	if err == nil {
		f.ownsQdisc = true
		return nil
	}
	if !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("adding a clsact qdisc to %q: %w", f.iface, err)
	}
	// Something sits at ffff:fff1: clsact, or the older ingress qdisc,
	// which has an ingress hook only.
	qs, lerr := f.nl.QdiscList(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: f.ifindex}})
	if lerr != nil {
		return fmt.Errorf("listing the qdiscs of %q: %w", f.iface, lerr)
	}
	for _, q := range qs {
		if q.Attrs().Parent != netlink.HANDLE_CLSACT {
			continue
		}
		if q.Type() == "clsact" || f.dir == Ingress {
			return nil
		}
		return fmt.Errorf("the interface has an ingress qdisc, which has no egress hook: attach on ingress, or replace it with clsact (tc qdisc del dev %s ingress; its filters go with it)", f.iface)
	}
	return fmt.Errorf("adding a clsact qdisc to %q: %w, but no qdisc is listed there", f.iface, err)
}

// occupant describes the filter already at the filter's priority, or "".
func (f *tcFilter) occupant() string {
	fs, err := f.nl.FilterList(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: f.ifindex}}, clsactParent(f.dir))
	if err != nil {
		return ""
	}
	for _, x := range fs {
		a := x.Attrs()
		if a.Priority != f.prio || a.Handle == 0 {
			continue
		}
		if a.Handle == f.handle {
			if b, ok := x.(*netlink.BpfFilter); ok {
				return fmt.Sprintf("bpf %q, program ID %d", b.Name, b.Id)
			}
			return x.Type()
		}
		if a.Protocol != unix.ETH_P_ALL || x.Type() != "bpf" {
			return fmt.Sprintf("%s, protocol %#04x, handle %#x", x.Type(), a.Protocol, a.Handle)
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
	f.nl.Close()
	f.nl = nil
	if err != nil {
		return fmt.Errorf("program %q: deleting the %s (%s): %w", f.prog, f.where(), f.delCommand(), err)
	}
	return nil
}

// Detach is Close: a filter has nothing to keep once it is deleted.
func (f *tcFilter) Detach() error { return f.Close() }

func (f *tcFilter) remove() error {
	fs, err := f.nl.FilterList(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: f.ifindex}}, clsactParent(f.dir))
	if err != nil {
		return fmt.Errorf("listing filters: %w", err)
	}
	// The dump is empty when the interface or its qdisc is gone.
	for _, x := range fs {
		b, ok := x.(*netlink.BpfFilter)
		a := x.Attrs()
		if !ok || a.Priority != f.prio || a.Handle != f.handle || uint32(b.Id) != f.progID {
			continue
		}
		del := &netlink.BpfFilter{FilterAttrs: f.filterAttrs(), Fd: -1}
		if err := f.nl.FilterDel(del); err != nil && !errors.Is(err, unix.ENOENT) {
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
	dev := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: f.ifindex}}
	for _, parent := range []uint32{netlink.HANDLE_MIN_INGRESS, netlink.HANDLE_MIN_EGRESS} {
		fs, err := f.nl.FilterList(dev, parent)
		if err != nil {
			return fmt.Errorf("listing filters before deleting the clsact qdisc this attach created: %w", err)
		}
		if len(fs) > 0 {
			return nil // someone else's filters: the qdisc stays
		}
	}
	err := f.nl.QdiscDel(clsactQdisc(f.ifindex))
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
