package bpfskel

import (
	"fmt"
	"strconv"
	"strings"
)

// attachKind is how [Collection.Attach] attaches a program, decided by its
// ELF section name the way libbpf's auto-attach decides it.
type attachKind int

const (
	// attachManual: the section does not name a target (xdp, tc, cgroup/*,
	// a bare kprobe, ...): the program is attached explicitly, if at all.
	attachManual attachKind = iota
	attachKprobe
	attachKretprobe
	attachKprobeMulti
	attachKretprobeMulti
	attachKsyscall
	attachKretsyscall
	attachUprobe
	attachUretprobe
	attachUprobeMulti
	attachUretprobeMulti
	attachUSDT
	attachTracepoint
	attachRawTracepoint
	attachTracing // tp_btf, fentry, fexit, fmod_ret: the target was resolved at load
	attachLSM
	attachIter
)

var attachKindNames = [...]string{
	attachManual: "manual", attachKprobe: "kprobe", attachKretprobe: "kretprobe",
	attachKprobeMulti: "kprobe.multi", attachKretprobeMulti: "kretprobe.multi",
	attachKsyscall: "ksyscall", attachKretsyscall: "kretsyscall",
	attachUprobe: "uprobe", attachUretprobe: "uretprobe",
	attachUprobeMulti: "uprobe.multi", attachUretprobeMulti: "uretprobe.multi",
	attachUSDT: "usdt", attachTracepoint: "tracepoint", attachRawTracepoint: "raw_tracepoint",
	attachTracing: "tracing", attachLSM: "lsm", attachIter: "iter",
}

func (k attachKind) String() string {
	if int(k) < len(attachKindNames) {
		return attachKindNames[k]
	}
	return fmt.Sprintf("attachKind(%d)", int(k))
}

// autoAttach is what a section name says about attaching its program.
type autoAttach struct {
	Kind attachKind
	// Symbol: the kernel function of a kprobe, the syscall of a ksyscall,
	// the function of a uprobe, the raw tracepoint's name, the pattern of a
	// .multi probe.
	Symbol string
	Offset uint64 // kprobe and uprobe: bytes past Symbol
	Path   string // uprobe, usdt: the binary
	Group  string // tracepoint: the category; usdt: the provider
	Name   string // tracepoint, usdt: the event
}

// sectionRule is one row of the table: section names whose first word
// (before the first '/') is one of words attach as kind; parse reads the
// rest of the name. A bare word (no '/') means no target: manual.
type sectionRule struct {
	words []string
	kind  attachKind
	parse func(kind attachKind, rest string) (autoAttach, error)
}

// sectionRules follows libbpf's section_defs (tools/lib/bpf/libbpf.c) for
// every program type libbpf attaches automatically. Section names matching
// no row (xdp, tc, tcx/*, cgroup/*, sk_lookup, netfilter, perf_event,
// socket, struct_ops programs, syscall, ...) are manual.
var sectionRules = []sectionRule{
	{[]string{"kprobe"}, attachKprobe, parseProbe},
	{[]string{"kretprobe"}, attachKretprobe, parseProbe},
	{[]string{"kprobe.multi"}, attachKprobeMulti, parsePattern},
	{[]string{"kretprobe.multi"}, attachKretprobeMulti, parsePattern},
	{[]string{"ksyscall"}, attachKsyscall, parseSymbol},
	{[]string{"kretsyscall"}, attachKretsyscall, parseSymbol},
	{[]string{"uprobe", "uprobe.s"}, attachUprobe, parseUprobe},
	{[]string{"uretprobe", "uretprobe.s"}, attachUretprobe, parseUprobe},
	{[]string{"uprobe.multi", "uprobe.multi.s"}, attachUprobeMulti, parseUprobeMulti},
	{[]string{"uretprobe.multi", "uretprobe.multi.s"}, attachUretprobeMulti, parseUprobeMulti},
	{[]string{"usdt", "usdt.s"}, attachUSDT, parseUSDT},
	{[]string{"tracepoint", "tp"}, attachTracepoint, parseTracepoint},
	{[]string{"raw_tracepoint", "raw_tp", "raw_tracepoint.w", "raw_tp.w"}, attachRawTracepoint, parseSymbol},
	{[]string{"tp_btf", "fentry", "fexit", "fmod_ret", "fentry.s", "fexit.s", "fmod_ret.s"}, attachTracing, parseSymbol},
	{[]string{"lsm", "lsm.s"}, attachLSM, parseSymbol},
	{[]string{"iter", "iter.s"}, attachIter, parseSymbol},
}

// parseSection returns how the program in section sec is auto-attached.
// A leading '?' (libbpf: not loaded by default) is ignored. A section of an
// auto-attach kind without a target ("kprobe", "tp") is manual, as in
// libbpf; a malformed target is an error.
func parseSection(sec string) (autoAttach, error) {
	sec = strings.TrimPrefix(sec, "?")
	word, rest, hasRest := strings.Cut(sec, "/")
	for _, r := range sectionRules {
		for _, w := range r.words {
			if w != word {
				continue
			}
			if !hasRest {
				return autoAttach{Kind: attachManual}, nil
			}
			a, err := r.parse(r.kind, rest)
			if err != nil {
				return autoAttach{}, fmt.Errorf("section %q: %s: %w", sec, r.kind, err)
			}
			return a, nil
		}
	}
	return autoAttach{Kind: attachManual}, nil
}

// parseSymbol reads a non-empty name.
func parseSymbol(kind attachKind, rest string) (autoAttach, error) {
	if rest == "" {
		return autoAttach{}, fmt.Errorf("no target after '/'; write %s/NAME", kind)
	}
	return autoAttach{Kind: kind, Symbol: rest}, nil
}

// parsePattern reads a glob of kernel function names.
func parsePattern(kind attachKind, rest string) (autoAttach, error) {
	if rest == "" {
		return autoAttach{}, fmt.Errorf("no pattern after '/'; write %s/PATTERN (a glob such as tcp_*)", kind)
	}
	return autoAttach{Kind: kind, Symbol: rest}, nil
}

// splitOffset splits "func+off" into func and the offset (decimal, or hex
// with 0x). Without '+' the offset is 0.
func splitOffset(s string) (string, uint64, error) {
	i := strings.LastIndexByte(s, '+')
	if i < 0 {
		return s, 0, nil
	}
	off, err := strconv.ParseUint(s[i+1:], 0, 64)
	if err != nil {
		return "", 0, fmt.Errorf("offset %q is not a number", s[i+1:])
	}
	return s[:i], off, nil
}

// parseProbe reads FUNC[+OFFSET]; a return probe takes no offset.
func parseProbe(kind attachKind, rest string) (autoAttach, error) {
	sym, off, err := splitOffset(rest)
	if err != nil {
		return autoAttach{}, err
	}
	if sym == "" {
		return autoAttach{}, fmt.Errorf("no function; write %s/FUNC[+OFFSET]", kind)
	}
	if kind == attachKretprobe && off != 0 {
		return autoAttach{}, fmt.Errorf("a return probe cannot have an offset (+%d)", off)
	}
	return autoAttach{Kind: kind, Symbol: sym, Offset: off}, nil
}

// parseUprobe reads BINARY:FUNC[+OFFSET] (libbpf's uprobe target).
func parseUprobe(kind attachKind, rest string) (autoAttach, error) {
	path, fn, ok := strings.Cut(rest, ":")
	if !ok || path == "" || fn == "" {
		return autoAttach{}, fmt.Errorf("target %q is not BINARY:FUNC[+OFFSET]", rest)
	}
	sym, off, err := splitOffset(fn)
	if err != nil {
		return autoAttach{}, err
	}
	if kind == attachUretprobe && off != 0 {
		return autoAttach{}, fmt.Errorf("a return probe cannot have an offset (+%d)", off)
	}
	if sym == "" {
		// libbpf allows BINARY:OFFSET: an address in the binary.
		return autoAttach{}, fmt.Errorf("target %q names no function", rest)
	}
	return autoAttach{Kind: kind, Path: path, Symbol: sym, Offset: off}, nil
}

// parseUprobeMulti reads BINARY:PATTERN.
func parseUprobeMulti(kind attachKind, rest string) (autoAttach, error) {
	path, pattern, ok := strings.Cut(rest, ":")
	if !ok || path == "" || pattern == "" {
		return autoAttach{}, fmt.Errorf("target %q is not BINARY:PATTERN", rest)
	}
	return autoAttach{Kind: kind, Path: path, Symbol: pattern}, nil
}

// parseUSDT reads BINARY:PROVIDER:NAME.
func parseUSDT(kind attachKind, rest string) (autoAttach, error) {
	parts := strings.Split(rest, ":")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return autoAttach{}, fmt.Errorf("target %q is not BINARY:PROVIDER:NAME", rest)
	}
	return autoAttach{Kind: kind, Path: parts[0], Group: parts[1], Name: parts[2]}, nil
}

// parseTracepoint reads CATEGORY/NAME.
func parseTracepoint(kind attachKind, rest string) (autoAttach, error) {
	group, name, ok := strings.Cut(rest, "/")
	if !ok || group == "" || name == "" || strings.Contains(name, "/") {
		return autoAttach{}, fmt.Errorf("target %q is not CATEGORY/NAME (see /sys/kernel/tracing/events)", rest)
	}
	return autoAttach{Kind: kind, Group: group, Name: name}, nil
}
