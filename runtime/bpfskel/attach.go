package bpfskel

import (
	"bufio"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// ownedLink is a link the collection closes on Detach and Close. auto
// marks the links of Attach, keyed by program or struct_ops map name.
type ownedLink struct {
	l    link.Link
	auto string
}

func closeLinks(links []ownedLink) []error {
	var errs []error
	// Newest first, the reverse of attaching.
	for i := len(links) - 1; i >= 0; i-- {
		if err := links[i].l.Close(); err != nil {
			errs = append(errs, fmt.Errorf("link: close: %w", err))
		}
	}
	return errs
}

// addLinks records links as owned by c. When c is closed already they are
// closed at once and the error says so.
func (c *Collection) addLinks(links ...ownedLink) error {
	c.mu.Lock()
	if !c.closed {
		c.links = append(c.links, links...)
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	return errors.Join(append([]error{fmt.Errorf("%s: attach: collection %w", c.name, ErrClosed)}, closeLinks(links)...)...)
}

// Attach attaches every loaded program whose ELF section names its target,
// as libbpf's skeleton attach does: kprobe/FUNC[+OFF], kretprobe/FUNC,
// kprobe.multi/PATTERN, kretprobe.multi/PATTERN, ksyscall/NAME,
// kretsyscall/NAME, uprobe/BINARY:FUNC[+OFF], uretprobe/BINARY:FUNC (and
// their .s forms), uprobe.multi/BINARY:PATTERN, tracepoint/CAT/NAME,
// tp/CAT/NAME, raw_tracepoint/NAME, raw_tp/NAME, tp_btf/NAME,
// fentry/FUNC, fexit/FUNC, fmod_ret/FUNC, lsm/HOOK, iter/NAME; and every
// struct_ops map. Programs whose section names no target (xdp, tc,
// cgroup/*, a bare kprobe, ...) and programs not loaded are skipped: attach
// them with the methods of their handles. usdt/BINARY:PROVIDER:NAME (and
// usdt.s) attaches a uprobe at every site of the probe, for programs
// written with libbpf's <bpf/usdt.bpf.h>, on x86-64 binaries and kernels
// with BPF cookies (Linux 5.15): see [ProbeProgram.AttachUSDT]. The
// BINARY of a uprobe or usdt section is found as libbpf finds it: a name
// with a '/' is a path (a relative one from the working directory), a bare
// library name (libc.so.6) is searched in LD_LIBRARY_PATH and the library
// directories, any other bare name in PATH.
//
// The links belong to the collection: [Collection.Detach] and
// [Collection.Close] close them. Programs attached by an earlier Attach are
// not attached twice. When one program fails, the error names it and its
// section, and every link this call made is closed again: nothing is left
// half attached.
func (c *Collection) Attach() error {
	if c == nil || c.coll == nil {
		return errors.New("bpfskel: Attach on a nil Collection")
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return fmt.Errorf("%s: attach: collection %w", c.name, ErrClosed)
	}
	done := map[string]bool{}
	for _, l := range c.links {
		if l.auto != "" {
			done[l.auto] = true
		}
	}
	c.mu.Unlock()
	// Hold the programs' and maps' descriptors open: Close waits for the
	// attach, and a later attach fails with ErrClosed.
	if !c.enter() {
		return fmt.Errorf("%s: attach: collection %w", c.name, ErrClosed)
	}
	defer c.exit()

	var made []ownedLink
	fail := func(err error) error {
		return errors.Join(append([]error{fmt.Errorf("%s: attach: %w", c.name, err)}, closeLinks(made)...)...)
	}
	for _, name := range slices.Sorted(maps.Keys(c.coll.Programs)) {
		if done["program:"+name] {
			continue
		}
		sec := ""
		if ps := c.programSpec(name); ps != nil {
			sec = ps.SectionName
		}
		a, err := parseSection(sec)
		if err != nil {
			return fail(fmt.Errorf("program %q: %w", name, err))
		}
		if a.Kind == attachManual {
			continue
		}
		prog := c.coll.Programs[name]
		var l link.Link
		if a.Kind == attachUSDT {
			l, err = c.attachUSDT(prog, a.Path, a.Group, a.Name, 0, 0)
		} else {
			l, err = autoAttachProgram(prog, a)
		}
		if err != nil {
			return fail(attachError(name, sec, prog.Type(), err))
		}
		made = append(made, ownedLink{l: l, auto: "program:" + name})
	}
	for _, name := range slices.Sorted(maps.Keys(c.coll.Maps)) {
		m := c.coll.Maps[name]
		if m.Type() != ebpf.StructOpsMap || done["map:"+name] {
			continue
		}
		l, err := link.AttachStructOps(link.StructOpsOptions{Map: m})
		if err != nil {
			return fail(fmt.Errorf("struct_ops map %q: %w", name, err))
		}
		made = append(made, ownedLink{l: l, auto: "map:" + name})
	}
	if err := c.addLinks(made...); err != nil {
		return err
	}
	return nil
}

// programSpec returns the spec the program called name was loaded from, or
// nil (a Collection from OpenMaps has none).
func (c *Collection) programSpec(name string) *ebpf.ProgramSpec {
	if c == nil || c.spec == nil {
		return nil
	}
	return c.spec.Programs[name]
}

// Detach closes every link of the collection, those of [Collection.Attach]
// and those of the attach methods of program handles. The programs stay
// loaded and can be attached again. The error joins every failure.
func (c *Collection) Detach() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	links := c.links
	c.links = nil
	c.mu.Unlock()
	if err := errors.Join(closeLinks(links)...); err != nil {
		return fmt.Errorf("%s: detach: %w", c.name, err)
	}
	return nil
}

// attachError names the program and its section, and maps a missing
// privilege to the missing capability.
func attachError(name, sec string, t ebpf.ProgramType, err error) error {
	what := fmt.Sprintf("program %q (section %q)", name, sec)
	have, ok := effectiveCaps()
	if perr := permissionError(what, neededCaps(t), have, ok, err); perr != nil {
		return perr
	}
	return fmt.Errorf("%s: %w", what, err)
}

// autoAttachProgram attaches prog as a says.
func autoAttachProgram(prog *ebpf.Program, a autoAttach) (link.Link, error) {
	switch a.Kind {
	case attachKprobe:
		return link.Kprobe(a.Symbol, prog, &link.KprobeOptions{Offset: a.Offset})
	case attachKretprobe:
		return link.Kretprobe(a.Symbol, prog, nil)
	case attachKsyscall:
		return link.Kprobe(syscallPrefix()+a.Symbol, prog, nil)
	case attachKretsyscall:
		return link.Kretprobe(syscallPrefix()+a.Symbol, prog, nil)
	case attachKprobeMulti, attachKretprobeMulti:
		syms, err := kernelFunctions(a.Symbol)
		if err != nil {
			return nil, err
		}
		opts := link.KprobeMultiOptions{Symbols: syms}
		if a.Kind == attachKretprobeMulti {
			return link.KretprobeMulti(prog, opts)
		}
		return link.KprobeMulti(prog, opts)
	case attachUprobe, attachUretprobe:
		path, err := resolveBinary(a.Path)
		if err != nil {
			return nil, err
		}
		ex, err := link.OpenExecutable(path)
		if err != nil {
			return nil, err
		}
		if a.Kind == attachUretprobe {
			return ex.Uretprobe(a.Symbol, prog, nil)
		}
		return ex.Uprobe(a.Symbol, prog, &link.UprobeOptions{Offset: a.Offset})
	case attachUprobeMulti, attachUretprobeMulti:
		path, err := resolveBinary(a.Path)
		if err != nil {
			return nil, err
		}
		syms, err := binaryFunctions(path, a.Symbol)
		if err != nil {
			return nil, err
		}
		ex, err := link.OpenExecutable(path)
		if err != nil {
			return nil, err
		}
		if a.Kind == attachUretprobeMulti {
			return ex.UretprobeMulti(syms, prog, nil)
		}
		return ex.UprobeMulti(syms, prog, nil)
	case attachTracepoint:
		return link.Tracepoint(a.Group, a.Name, prog, nil)
	case attachRawTracepoint:
		return link.AttachRawTracepoint(link.RawTracepointOptions{Name: a.Symbol, Program: prog})
	case attachTracing:
		return link.AttachTracing(link.TracingOptions{Program: prog})
	case attachLSM:
		return link.AttachLSM(link.LSMOptions{Program: prog})
	case attachIter:
		return link.AttachIter(link.IterOptions{Program: prog})
	}
	return nil, fmt.Errorf("attach kind %s cannot be attached automatically", a.Kind)
}

// syscallPrefix is the prefix of syscall entry points on this
// architecture, as libbpf's ksyscall uses it.
func syscallPrefix() string {
	switch runtime.GOARCH {
	case "amd64":
		return "__x64_sys_"
	case "386":
		return "__ia32_sys_"
	case "arm64":
		return "__arm64_sys_"
	case "s390x":
		return "__s390x_sys_"
	case "riscv64":
		return "__riscv_sys_"
	case "ppc64", "ppc64le":
		return "__powerpc_sys_"
	case "arm":
		return "__arm_sys_"
	case "loong64":
		return "__loongarch64_sys_"
	}
	return "__se_sys_"
}

// availableFilterFunctions lists the kernel functions kprobes may attach to.
var availableFilterFunctions = "/sys/kernel/tracing/available_filter_functions"

// kernelFunctions returns the kernel functions matching the glob pattern,
// as libbpf resolves kprobe.multi patterns.
func kernelFunctions(pattern string) ([]string, error) {
	f, err := os.Open(availableFilterFunctions)
	if err != nil {
		return nil, fmt.Errorf("resolving kprobe pattern %q: %w", pattern, err)
	}
	defer f.Close()
	return matchFunctions(f, pattern)
}

// matchFunctions reads available_filter_functions lines ("name [module]")
// and returns the names matching the glob pattern, sorted and unique.
func matchFunctions(r io.Reader, pattern string) ([]string, error) {
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, _, _ := strings.Cut(sc.Text(), " ")
		if ok, _ := path.Match(pattern, name); ok && !seen[name] {
			seen[name] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("pattern %q matches no kernel function", pattern)
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// binaryFunctions returns the function symbols of the ELF binary at file
// matching the glob pattern, sorted and unique.
func binaryFunctions(file, pattern string) ([]string, error) {
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	f, err := elf.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	seen := map[string]bool{}
	for _, get := range []func() ([]elf.Symbol, error){f.Symbols, f.DynamicSymbols} {
		syms, err := get()
		if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for _, s := range syms {
			if elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Value == 0 {
				continue
			}
			if ok, _ := path.Match(pattern, s.Name); ok {
				seen[s.Name] = true
			}
		}
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("pattern %q matches no function of %s", pattern, file)
	}
	return slices.Sorted(maps.Keys(seen)), nil
}
