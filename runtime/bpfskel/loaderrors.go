package bpfskel

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"syscall"
)

// verifierTail is how many lines of the verifier log an error shows.
const verifierTail = 20

// Capabilities the kernel checks for BPF (include/uapi/linux/capability.h).
const (
	capNetAdmin = 12
	capSysAdmin = 21
	capPerfmon  = 38
	capBPF      = 39
)

var capNames = map[int]string{capNetAdmin: "CAP_NET_ADMIN", capSysAdmin: "CAP_SYS_ADMIN", capPerfmon: "CAP_PERFMON", capBPF: "CAP_BPF"}

// capSet is a set of effective capabilities, as capget returns them.
type capSet uint64

func (c capSet) has(cap int) bool { return c&(1<<cap) != 0 }

// neededCaps lists the capabilities loading or attaching a program of type
// t needs, besides CAP_BPF: tracing needs CAP_PERFMON, networking
// CAP_NET_ADMIN (kernel/bpf/syscall.c, bpf_prog_load).
func neededCaps(t ebpf.ProgramType) []int {
	switch t {
	case ebpf.Kprobe, ebpf.TracePoint, ebpf.PerfEvent, ebpf.RawTracepoint, ebpf.RawTracepointWritable,
		ebpf.Tracing, ebpf.LSM, ebpf.Extension, ebpf.StructOps:
		return []int{capBPF, capPerfmon}
	case ebpf.XDP, ebpf.SchedCLS, ebpf.SchedACT, ebpf.CGroupSKB, ebpf.CGroupSock, ebpf.CGroupSockAddr,
		ebpf.SockOps, ebpf.SkSKB, ebpf.SkMsg, ebpf.LWTIn, ebpf.LWTOut, ebpf.LWTXmit, ebpf.LWTSeg6Local,
		ebpf.FlowDissector, ebpf.SkLookup, ebpf.CGroupSockopt, ebpf.CGroupSysctl, ebpf.CGroupDevice,
		ebpf.SkReuseport, ebpf.Netfilter:
		return []int{capBPF, capNetAdmin}
	}
	return []int{capBPF}
}

// missingCaps returns the names of the capabilities in need that have
// lacks. CAP_SYS_ADMIN covers all of them.
func missingCaps(have capSet, need []int) []string {
	if have.has(capSysAdmin) {
		return nil
	}
	var out []string
	for _, c := range need {
		if !have.has(c) {
			out = append(out, capNames[c])
		}
	}
	return out
}

// PermissionError is a failure for lack of privilege. Missing names the
// capabilities the process lacks for what failed; when it is empty, the
// process had them and something else refused (kernel lockdown, an LSM, a
// sysctl such as kernel.unprivileged_bpf_disabled).
type PermissionError struct {
	What    string   // "program "x" (section "y")", "map "m""
	Missing []string // "CAP_BPF", "CAP_PERFMON", "CAP_NET_ADMIN"
	// Memlock, when not nil, says why RLIMIT_MEMLOCK could not be lifted:
	// on kernels before 5.11 BPF memory is charged to it, and EPERM may
	// mean that the limit is too low rather than a missing capability.
	Memlock error
	Err     error
}

func (e *PermissionError) Error() string {
	var msg string
	if len(e.Missing) > 0 {
		msg = fmt.Sprintf("%s: permission denied: the process lacks %s; run as root or grant it (setcap %s+ep BINARY)",
			e.What, strings.Join(e.Missing, " and "), strings.ToLower(strings.Join(e.Missing, ",")))
	} else {
		msg = fmt.Sprintf("%s: permission denied although the process has the capabilities for it: "+
			"kernel lockdown, an LSM or a sysctl refused it (%s)", e.What, rootCause(e.Err))
	}
	if e.Memlock != nil {
		msg += fmt.Sprintf("; or RLIMIT_MEMLOCK is too low: this kernel charges BPF memory to it and it could not be lifted (%v): raise it (ulimit -l unlimited) or grant CAP_SYS_RESOURCE", e.Memlock)
	}
	return msg
}

func (e *PermissionError) Unwrap() error { return e.Err }

// rootCause is the innermost error's text: the errno, without the hints
// cilium/ebpf adds on the way (such as its MEMLOCK hint, which is wrong on
// kernels that account BPF memory to cgroups).
func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// permissionError maps an EPERM or EACCES to a [PermissionError], given
// the capabilities have (ok false: unknown). It returns nil for any other
// error.
func permissionError(what string, need []int, have capSet, ok bool, err error) *PermissionError {
	if !errors.Is(err, syscall.EPERM) && !errors.Is(err, syscall.EACCES) {
		return nil
	}
	var verr *ebpf.VerifierError
	if errors.As(err, &verr) && len(verr.Log) > 0 {
		return nil // the verifier said why: not a privilege problem
	}
	if !ok {
		return nil
	}
	return &PermissionError{What: what, Missing: missingCaps(have, need), Err: err}
}

// loadError explains why loading spec failed: a rejected program is named
// with its section and the tail of the verifier log, a missing privilege
// names the capability.
func loadError(name string, spec *ebpf.CollectionSpec, err, memlock error) error {
	have, ok := effectiveCaps()
	return explainLoad(name, spec, err, memlock, have, ok)
}

// explainLoad is loadError given the capabilities have (ok false:
// unknown) and why RLIMIT_MEMLOCK could not be lifted (memlock).
func explainLoad(name string, spec *ebpf.CollectionSpec, err, memlock error, have capSet, ok bool) error {
	msg := err.Error()
	what, need := "", []int{capBPF}
	// cilium/ebpf prefixes a program's failure with "program NAME:" and a
	// map's with "map NAME:".
	for _, p := range slices.Sorted(maps.Keys(spec.Programs)) {
		if strings.HasPrefix(msg, "program "+p+":") {
			ps := spec.Programs[p]
			what, need = fmt.Sprintf("program %q (section %q, %s)", p, ps.SectionName, ps.Type), neededCaps(ps.Type)
			break
		}
	}
	if what == "" {
		for _, m := range slices.Sorted(maps.Keys(spec.Maps)) {
			if strings.HasPrefix(msg, "map "+m+":") {
				what = fmt.Sprintf("map %q", m)
				break
			}
		}
	}
	if what == "" {
		what = "load"
	}
	if perr := permissionError(what, need, have, ok, err); perr != nil {
		perr.Memlock = memlock
		return fmt.Errorf("%s: %w", name, perr)
	}
	var verr *ebpf.VerifierError
	if errors.As(err, &verr) {
		return &LoadError{Object: name, What: what, Err: err, Log: verr.Log}
	}
	if kind := classify(err); kind != nil {
		return fmt.Errorf("%s: %w", name, &opError{what: "load", kind: kind, err: err})
	}
	return fmt.Errorf("%s: load: %w", name, err)
}

// LoadError is a program the kernel refused, with its verifier log.
type LoadError struct {
	Object string
	What   string // the program, its section and type
	Log    []string
	Err    error
}

func (e *LoadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: the verifier rejected it: %s", e.Object, e.What, rootCause(e.Err))
	tail := e.Log
	if len(tail) > verifierTail {
		tail = tail[len(tail)-verifierTail:]
		fmt.Fprintf(&b, "\nverifier log (last %d of %d lines; errors.As(err, new(*ebpf.VerifierError)) has all of it):", verifierTail, len(e.Log))
	} else if len(tail) > 0 {
		b.WriteString("\nverifier log:")
	}
	for _, l := range tail {
		b.WriteString("\n\t")
		b.WriteString(l)
	}
	return b.String()
}

func (e *LoadError) Unwrap() error { return e.Err }
