package bpfskel

import (
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// Program is a handle on a loaded BPF program, created by [BindProgram].
// The typed handles of programs that attach to a target the user names
// ([XDPProgram], [TCProgram], [CgroupProgram], [ProbeProgram], ...) embed
// it.
type Program struct {
	name    string
	section string
	p       *ebpf.Program
	owner   *Collection
}

// program is Program under an unexported name: typed handles embed it, so
// that Program, Name, Section and TestRun are promoted while the embedded
// field does not hide the Program method.
type program = Program

// Base returns the plain handle; every typed handle has it, for
// [TestRunContext] and code that takes any program.
func (p *Program) Base() *Program { return p }

// AnyProgram is *Program or any typed program handle.
type AnyProgram interface{ Base() *Program }

// programOf returns the plain handle behind h, or nil for a nil handle
// (also a nil typed pointer: a program left out by autoload).
func programOf(h AnyProgram) *Program {
	if v := reflect.ValueOf(h); !v.IsValid() || (v.Kind() == reflect.Pointer && v.IsNil()) {
		return nil
	}
	return h.Base()
}

// Program returns the underlying cilium/ebpf program, the escape hatch for
// attaching it with github.com/cilium/ebpf/link or anything else this
// package does not wrap. It is closed by [Collection.Close].
func (p *Program) Program() *ebpf.Program {
	if p == nil {
		return nil
	}
	return p.p
}

// Name returns the program's name in the object: the name of its C
// function.
func (p *Program) Name() string {
	if p == nil {
		return ""
	}
	return p.name
}

// Section returns the ELF section the program came from.
func (p *Program) Section() string {
	if p == nil {
		return ""
	}
	return p.section
}

var errNilProgram = errors.New("bpfskel: nil Program (not loaded because autoload is off, or its bind failed: see Binder.Err)")

// TestRun runs the program once in the kernel with BPF_PROG_TEST_RUN and
// returns its return value. A nil opts runs it with no data and an empty
// context, which suits program types such as raw tracepoints and syscall
// programs; XDP and socket programs need at least a 14-byte packet in
// opts.Data. Output buffers in opts are filled in. [TestRunContext] adds a
// typed context, a repeat count and the duration.
func (p *Program) TestRun(opts *RunOptions) (uint32, error) {
	if p == nil || p.p == nil {
		return 0, errNilProgram
	}
	if opts == nil {
		opts = &RunOptions{}
	}
	if !p.owner.enter() {
		return 0, closedErr("program", p.name, "test run")
	}
	ret, err := p.p.Run(opts)
	p.owner.exit()
	if err != nil {
		return ret, wrapErr("program", p.name, fmt.Errorf("test run: %w", err))
	}
	return ret, nil
}

// TestRunInput is the input of [TestRunContext]: a context of type C (the
// program's context struct, such as [XDPContext]) and packet data.
type TestRunInput[C any] struct {
	// Context is passed to the program; when ContextOut is set the kernel
	// writes the context back there after the run. Both optional.
	Context, ContextOut *C
	// Data is the packet (at least 14 bytes for XDP and socket programs);
	// DataOut, when not nil, receives the packet after the run.
	Data, DataOut []byte
	// Repeat runs the program this many times (0 and 1: once); Duration
	// is then the average time per run.
	Repeat uint32
	Flags  uint32
	CPU    uint32
}

// TestRunResult is the outcome of [TestRunContext].
type TestRunResult struct {
	Return   uint32        // the program's return value (of the last run)
	Duration time.Duration // mean run time as the kernel measured it
	DataOut  []byte        // the part of TestRunInput.DataOut the kernel wrote
}

// XDPContext mirrors struct xdp_md, the context of XDP programs.
type XDPContext struct {
	Data, DataEnd, DataMeta, IngressIfindex, RxQueueIndex, EgressIfindex uint32
}

// attach records l as owned by the program's collection, or closes it.
func (p *Program) attach(what string, l link.Link, err error) (link.Link, error) {
	if err != nil {
		have, ok := effectiveCaps()
		if perr := permissionError(fmt.Sprintf("program %q (section %q): %s", p.name, p.section, what), neededCaps(p.p.Type()), have, ok, err); perr != nil {
			return nil, perr
		}
		return nil, fmt.Errorf("program %q (section %q): %s: %w", p.name, p.section, what, err)
	}
	if p.owner != nil {
		if err := p.owner.addLinks(ownedLink{l: l}); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func ifindex(iface string) (int, error) {
	i, err := net.InterfaceByName(iface)
	if err != nil {
		return 0, fmt.Errorf("interface %q: %w", iface, err)
	}
	return i.Index, nil
}

// XDPProgram is the handle of an XDP program.
type XDPProgram struct{ program }

// AttachXDP attaches the program to the network interface iface (in the
// calling thread's network namespace) with flags (0: the kernel picks the
// mode; link.XDPGenericMode, link.XDPDriverMode, link.XDPOffloadMode). The
// link belongs to the skeleton: Detach and Close close it; closing it
// earlier detaches the program.
func (p *XDPProgram) AttachXDP(iface string, flags link.XDPAttachFlags) (link.Link, error) {
	if p == nil || p.p == nil {
		return nil, errNilProgram
	}
	// Hold the program's descriptor open: Close waits for the attach.
	if !p.owner.enter() {
		return nil, closedErr("program", p.name, "attach")
	}
	defer p.owner.exit()
	idx, err := ifindex(iface)
	if err != nil {
		return nil, err
	}
	l, err := link.AttachXDP(link.XDPOptions{Program: p.p, Interface: idx, Flags: flags})
	return p.attach("attach XDP to "+iface, l, err)
}

// Direction is where on an interface a TC program runs.
type Direction int

const (
	// Ingress runs on packets the interface receives.
	Ingress Direction = iota
	// Egress runs on packets the interface sends.
	Egress
)

// String names the direction as tc does.
func (d Direction) String() string {
	switch d {
	case Ingress:
		return "ingress"
	case Egress:
		return "egress"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// TCProgram is the handle of a TC (sched_cls) program.
type TCProgram struct{ program }

// AttachTCX attaches the program to iface in direction dir through TCX
// (Linux 6.6 or later), after the programs already there. The link
// belongs to the skeleton. Older kernels have no TCX: use
// [TCProgram.AttachTC].
func (p *TCProgram) AttachTCX(iface string, dir Direction) (link.Link, error) {
	if p == nil || p.p == nil {
		return nil, errNilProgram
	}
	// Hold the program's descriptor open: Close waits for the attach.
	if !p.owner.enter() {
		return nil, closedErr("program", p.name, "attach")
	}
	defer p.owner.exit()
	idx, err := ifindex(iface)
	if err != nil {
		return nil, err
	}
	at, name := ebpf.AttachTCXIngress, "ingress"
	if dir == Egress {
		at, name = ebpf.AttachTCXEgress, "egress"
	}
	l, err := link.AttachTCX(link.TCXOptions{Program: p.p, Interface: idx, Attach: at})
	return p.attach("attach TCX "+name+" of "+iface, l, err)
}

// AttachTC attaches the program classically, as tc and libbpf's
// bpf_tc_hook_create and bpf_tc_attach do, which works on kernels without
// TCX (before 6.6): a cls_bpf filter in direct-action mode (the program's
// return value is the verdict), matching every protocol, on iface in
// direction dir, at the priority and handle of opts (nil or zero fields:
// priority 1, handle 1). The interface needs a clsact qdisc: an existing
// one is reused, else AttachTC adds one. A filter already at that
// priority and handle is an error that says so; the filter is named
// "NAME:[ID]" in tc filter show, as libbpf names it.
//
// The returned link belongs to the skeleton: Detach and Close delete the
// filter, and so does closing the link earlier; the clsact qdisc goes
// too if this attach added it and no filter is left on it in either
// direction (TCX programs do not count: they stay attached). A qdisc that
// was there before is never deleted. Unlike a BPF link, a filter outlives
// the process if it is not closed. The link has no ID: Update, Pin, Unpin
// and Info return errors wrapping link.ErrNotSupported. On failure
// nothing is left: no filter, and no qdisc this call added. It needs
// CAP_NET_ADMIN in the interface's network namespace (the calling
// thread's); Close works from any thread.
//
// With TCX programs on the same hook (Linux 6.6 or later), the TCX
// programs run first, and the cls_bpf filters only when the last TCX
// program returns TCX_NEXT.
func (p *TCProgram) AttachTC(iface string, dir Direction, opts *TCOptions) (link.Link, error) {
	if p == nil || p.p == nil {
		return nil, errNilProgram
	}
	// Hold the program's descriptor open: Close waits for the attach.
	if !p.owner.enter() {
		return nil, closedErr("program", p.name, "attach")
	}
	defer p.owner.exit()
	what := fmt.Sprintf("attach TC %s of %q", dir, iface)
	if dir != Ingress && dir != Egress {
		return nil, fmt.Errorf("program %q (section %q): %s: unknown direction: use bpfskel.Ingress or bpfskel.Egress", p.name, p.section, what)
	}
	prio, handle := opts.tcPlace()
	f, err := attachTC(p.p, p.name, iface, dir, prio, handle)
	if err != nil {
		have, ok := effectiveCaps()
		return nil, tcAttachError(fmt.Sprintf("program %q (section %q): %s", p.name, p.section, what), err, have, ok)
	}
	return p.attach(what, f, nil)
}

// CgroupProgram is the handle of a program attached to a cgroup (cgroup
// skb, sock, sock_addr, sockopt, sysctl, device programs and sockops).
type CgroupProgram struct {
	program
	attachType ebpf.AttachType
}

// AttachCgroup attaches the program to the cgroup at path (a directory of
// the cgroup2 file system, such as /sys/fs/cgroup/my.slice), with the
// attach type its section names. The link belongs to the skeleton.
func (p *CgroupProgram) AttachCgroup(path string) (link.Link, error) {
	if p == nil || p.p == nil {
		return nil, errNilProgram
	}
	// Hold the program's descriptor open: Close waits for the attach.
	if !p.owner.enter() {
		return nil, closedErr("program", p.name, "attach")
	}
	defer p.owner.exit()
	if p.attachType == ebpf.AttachNone {
		return nil, fmt.Errorf("program %q (section %q): the section names no cgroup attach type; use a section such as cgroup_skb/ingress", p.name, p.section)
	}
	l, err := link.AttachCgroup(link.CgroupOptions{Path: path, Attach: p.attachType, Program: p.p})
	return p.attach("attach to cgroup "+path, l, err)
}

// ProbeProgram is the handle of a kprobe-type program: kprobes, uprobes
// and their return probes.
type ProbeProgram struct{ program }

// UprobeOptions are the optional parts of a uprobe target.
type UprobeOptions struct {
	// Offset is added to the symbol's address; with an empty symbol it is
	// the offset in the file.
	Offset uint64
	// PID limits the probe to one process; 0 is every process.
	PID int
}

// isReturn reports whether the section asks for a return probe.
func (p *ProbeProgram) isReturn() bool {
	s := strings.TrimPrefix(p.section, "?")
	return strings.HasPrefix(s, "uretprobe") || strings.HasPrefix(s, "kretprobe") || strings.HasPrefix(s, "kretsyscall")
}

// AttachUprobe attaches the program to symbol in the executable or
// library at binary (a uretprobe section makes it a return probe). binary
// is found as libbpf finds it (see [ProbeProgram.AttachUSDT]). opts may be
// nil. The link belongs to the skeleton.
func (p *ProbeProgram) AttachUprobe(binary, symbol string, opts *UprobeOptions) (link.Link, error) {
	if p == nil || p.p == nil {
		return nil, errNilProgram
	}
	// Hold the program's descriptor open: Close waits for the attach.
	if !p.owner.enter() {
		return nil, closedErr("program", p.name, "attach")
	}
	defer p.owner.exit()
	path, err := resolveBinary(binary)
	if err != nil {
		return nil, fmt.Errorf("program %q: uprobe: %w", p.name, err)
	}
	ex, err := link.OpenExecutable(path)
	if err != nil {
		return nil, fmt.Errorf("program %q: uprobe: %w", p.name, err)
	}
	var o link.UprobeOptions
	if opts != nil {
		o.PID = opts.PID
		if symbol == "" {
			o.Address = opts.Offset
		} else {
			o.Offset = opts.Offset
		}
	}
	var l link.Link
	if p.isReturn() {
		l, err = ex.Uretprobe(symbol, p.p, &o)
	} else {
		l, err = ex.Uprobe(symbol, p.p, &o)
	}
	return p.attach(fmt.Sprintf("uprobe %s:%s", binary, symbol), l, err)
}

// USDTOptions are the optional parts of a USDT target.
type USDTOptions struct {
	// PID limits the probe to one process; 0 is every process running the
	// binary.
	PID int
	// Cookie is what bpf_usdt_cookie returns in the program for this
	// attachment.
	Cookie uint64
}

// AttachUSDT attaches the program, written with libbpf's
// <bpf/usdt.bpf.h> (BPF_USDT, bpf_usdt_arg), to every site of the USDT
// probe provider:name (<sys/sdt.h>'s STAP_PROBE) in the executable or
// library binary. binary is found as libbpf finds it: a name with a '/'
// is a path, a bare library name (libc.so.6) is searched in
// LD_LIBRARY_PATH and the library directories, any other bare name in
// PATH. A probe with a semaphore is enabled while attached (the kernel
// increments the semaphore). opts may be nil. It needs BPF cookies (Linux
// 5.15) and reads the argument specs of x86-64 binaries only; the error
// says so otherwise. The link belongs to the skeleton; on failure nothing
// stays attached.
func (p *ProbeProgram) AttachUSDT(binary, provider, name string, opts *USDTOptions) (link.Link, error) {
	if p == nil || p.p == nil {
		return nil, errNilProgram
	}
	if p.owner == nil {
		return nil, fmt.Errorf("program %q: usdt: the program belongs to no loaded object", p.name)
	}
	// Hold the program's and maps' descriptors open: Close waits for the
	// attach.
	if !p.owner.enter() {
		return nil, closedErr("program", p.name, "attach")
	}
	defer p.owner.exit()
	var o USDTOptions
	if opts != nil {
		o = *opts
	}
	l, err := p.owner.attachUSDT(p.p, binary, provider, name, o.PID, o.Cookie)
	if err != nil {
		return nil, attachError(p.name, p.section, p.p.Type(), err)
	}
	return p.attach(fmt.Sprintf("usdt %s:%s:%s", binary, provider, name), l, nil)
}

// AttachKprobe attaches the program to the kernel function symbol (a
// kretprobe section makes it a return probe). The link belongs to the
// skeleton.
func (p *ProbeProgram) AttachKprobe(symbol string) (link.Link, error) {
	if p == nil || p.p == nil {
		return nil, errNilProgram
	}
	// Hold the program's descriptor open: Close waits for the attach.
	if !p.owner.enter() {
		return nil, closedErr("program", p.name, "attach")
	}
	defer p.owner.exit()
	var (
		l   link.Link
		err error
	)
	if p.isReturn() {
		l, err = link.Kretprobe(symbol, p.p, nil)
	} else {
		l, err = link.Kprobe(symbol, p.p, nil)
	}
	return p.attach("kprobe "+symbol, l, err)
}

// TracepointProgram is the handle of a tracepoint program.
type TracepointProgram struct{ program }

// AttachTracepoint attaches the program to the tracepoint group/name (see
// /sys/kernel/tracing/events). The link belongs to the skeleton.
func (p *TracepointProgram) AttachTracepoint(group, name string) (link.Link, error) {
	if p == nil || p.p == nil {
		return nil, errNilProgram
	}
	// Hold the program's descriptor open: Close waits for the attach.
	if !p.owner.enter() {
		return nil, closedErr("program", p.name, "attach")
	}
	defer p.owner.exit()
	l, err := link.Tracepoint(group, name, p.p, nil)
	return p.attach("tracepoint "+group+"/"+name, l, err)
}

// RawTracepointProgram is the handle of a raw tracepoint program.
type RawTracepointProgram struct{ program }

// AttachRawTracepoint attaches the program to the raw tracepoint name
// (such as sys_enter). The link belongs to the skeleton.
func (p *RawTracepointProgram) AttachRawTracepoint(name string) (link.Link, error) {
	if p == nil || p.p == nil {
		return nil, errNilProgram
	}
	// Hold the program's descriptor open: Close waits for the attach.
	if !p.owner.enter() {
		return nil, closedErr("program", p.name, "attach")
	}
	defer p.owner.exit()
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: name, Program: p.p})
	return p.attach("raw tracepoint "+name, l, err)
}

// PerfEventProgram is the handle of a perf_event program.
type PerfEventProgram struct{ program }

// AttachPerfEvent attaches the program to the perf event behind fd (from
// perf_event_open), through a BPF link (Linux 5.15 or later). The caller
// keeps owning fd. The link belongs to the skeleton.
func (p *PerfEventProgram) AttachPerfEvent(fd int) (link.Link, error) {
	if p == nil || p.p == nil {
		return nil, errNilProgram
	}
	// Hold the program's descriptor open: Close waits for the attach.
	if !p.owner.enter() {
		return nil, closedErr("program", p.name, "attach")
	}
	defer p.owner.exit()
	l, err := link.AttachRawLink(link.RawLinkOptions{Target: fd, Program: p.p, Attach: ebpf.AttachPerfEvent})
	if err != nil {
		return p.attach(fmt.Sprintf("perf event fd %d", fd), nil, err)
	}
	return p.attach(fmt.Sprintf("perf event fd %d", fd), l, nil)
}

// NetfilterProgram is the handle of a netfilter program.
type NetfilterProgram struct{ program }

// AttachNetfilter attaches the program to a netfilter hook of a protocol
// family (link.NetfilterProtoIPv4, ...), at priority. The link belongs to
// the skeleton.
func (p *NetfilterProgram) AttachNetfilter(family link.NetfilterProtocolFamily, hook link.NetfilterInetHook, priority int32) (link.Link, error) {
	if p == nil || p.p == nil {
		return nil, errNilProgram
	}
	// Hold the program's descriptor open: Close waits for the attach.
	if !p.owner.enter() {
		return nil, closedErr("program", p.name, "attach")
	}
	defer p.owner.exit()
	l, err := link.AttachNetfilter(link.NetfilterOptions{Program: p.p, ProtocolFamily: family, Hook: hook, Priority: priority})
	return p.attach(fmt.Sprintf("netfilter family %d hook %d", family, hook), l, err)
}

// NetNsProgram is the handle of a program attached to a network namespace:
// sk_lookup and flow_dissector programs.
type NetNsProgram struct{ program }

// AttachNetNs attaches the program to the network namespace at path (such
// as /proc/self/ns/net or /run/netns/NAME). The link belongs to the
// skeleton.
func (p *NetNsProgram) AttachNetNs(path string) (link.Link, error) {
	if p == nil || p.p == nil {
		return nil, errNilProgram
	}
	// Hold the program's descriptor open: Close waits for the attach.
	if !p.owner.enter() {
		return nil, closedErr("program", p.name, "attach")
	}
	defer p.owner.exit()
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("program %q: network namespace: %w", p.name, err)
	}
	defer f.Close()
	nl, err := link.AttachNetNs(int(f.Fd()), p.p)
	if err != nil {
		return p.attach("attach to network namespace "+path, nil, err)
	}
	return p.attach("attach to network namespace "+path, nl, nil)
}

// bindProgram finds the program called name. A program left out by
// autoload is nil with no error.
func bindProgram(b *Binder, name string) *Program {
	if b == nil {
		return nil
	}
	coll := b.loaded("program", name)
	if coll == nil {
		return nil
	}
	p := coll.Programs[name]
	if p == nil {
		for _, s := range b.c.skipped {
			if s == name {
				return nil // not loaded on purpose: a nil handle, no error
			}
		}
		b.fail("program %q: not found in the loaded object", name)
		return nil
	}
	sec := ""
	if ps := b.c.programSpec(name); ps != nil {
		sec = ps.SectionName
	}
	return &Program{name: name, section: sec, p: p, owner: b.c}
}

// BindProgram returns a handle on the program called name (the name of its
// C function). A program not loaded because its autoload was turned off
// ([ProgramSpec.SetAutoload]) binds as nil without an error. On failure it
// returns nil and records the reason in b.
func BindProgram(b *Binder, name string) *Program {
	return bindProgram(b, name)
}

// wrapProgram binds name and wraps it in a typed handle.
func wrapProgram[H any](b *Binder, name string, wrap func(Program) *H) *H {
	p := bindProgram(b, name)
	if p == nil {
		return nil
	}
	return wrap(*p)
}

// BindXDPProgram is [BindProgram] for an XDP program.
func BindXDPProgram(b *Binder, name string) *XDPProgram {
	return wrapProgram(b, name, func(p Program) *XDPProgram { return &XDPProgram{p} })
}

// BindTCProgram is [BindProgram] for a TC (sched_cls) program.
func BindTCProgram(b *Binder, name string) *TCProgram {
	return wrapProgram(b, name, func(p Program) *TCProgram { return &TCProgram{p} })
}

// BindCgroupProgram is [BindProgram] for a cgroup program.
func BindCgroupProgram(b *Binder, name string) *CgroupProgram {
	return wrapProgram(b, name, func(p Program) *CgroupProgram {
		at := ebpf.AttachNone
		if ps := b.c.programSpec(name); ps != nil {
			at = ps.AttachType
		}
		return &CgroupProgram{program: p, attachType: at}
	})
}

// BindProbeProgram is [BindProgram] for a kprobe or uprobe program.
func BindProbeProgram(b *Binder, name string) *ProbeProgram {
	return wrapProgram(b, name, func(p Program) *ProbeProgram { return &ProbeProgram{p} })
}

// BindTracepointProgram is [BindProgram] for a tracepoint program.
func BindTracepointProgram(b *Binder, name string) *TracepointProgram {
	return wrapProgram(b, name, func(p Program) *TracepointProgram { return &TracepointProgram{p} })
}

// BindRawTracepointProgram is [BindProgram] for a raw tracepoint program.
func BindRawTracepointProgram(b *Binder, name string) *RawTracepointProgram {
	return wrapProgram(b, name, func(p Program) *RawTracepointProgram { return &RawTracepointProgram{p} })
}

// BindPerfEventProgram is [BindProgram] for a perf_event program.
func BindPerfEventProgram(b *Binder, name string) *PerfEventProgram {
	return wrapProgram(b, name, func(p Program) *PerfEventProgram { return &PerfEventProgram{p} })
}

// BindNetfilterProgram is [BindProgram] for a netfilter program.
func BindNetfilterProgram(b *Binder, name string) *NetfilterProgram {
	return wrapProgram(b, name, func(p Program) *NetfilterProgram { return &NetfilterProgram{p} })
}

// BindNetNsProgram is [BindProgram] for an sk_lookup or flow_dissector
// program.
func BindNetNsProgram(b *Binder, name string) *NetNsProgram {
	return wrapProgram(b, name, func(p Program) *NetNsProgram { return &NetNsProgram{p} })
}
