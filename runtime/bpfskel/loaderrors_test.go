package bpfskel

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func caps(cs ...int) capSet {
	var s capSet
	for _, c := range cs {
		s |= 1 << c
	}
	return s
}

var errorSpec = &ebpf.CollectionSpec{
	Programs: map[string]*ebpf.ProgramSpec{
		"fill":  {SectionName: "raw_tp/sys_enter", Type: ebpf.RawTracepoint},
		"fill2": {SectionName: "tp/a/b", Type: ebpf.TracePoint},
		"pkts":  {SectionName: "xdp", Type: ebpf.XDP},
		"sock":  {SectionName: "socket", Type: ebpf.SocketFilter},
	},
	Maps: map[string]*ebpf.MapSpec{"counts": {}},
}

// memlockEPERM is how cilium/ebpf reports EPERM from BPF_PROG_LOAD.
func memlockEPERM(prog string) error {
	return fmt.Errorf("program %s: load program: %w", prog, fmt.Errorf("%w (MEMLOCK may be too low, consider rlimit.RemoveMemlock)", unix.EPERM))
}

func TestExplainLoadPermissions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		have    capSet
		missing []string
		what    string
	}{
		{"tracing without CAP_BPF and CAP_PERFMON", memlockEPERM("fill"), caps(capNetAdmin), []string{"CAP_BPF", "CAP_PERFMON"}, `program "fill" (section "raw_tp/sys_enter", RawTracepoint)`},
		{"tracing without CAP_PERFMON", memlockEPERM("fill2"), caps(capBPF, capNetAdmin), []string{"CAP_PERFMON"}, `program "fill2" (section "tp/a/b", TracePoint)`},
		{"xdp without CAP_NET_ADMIN", memlockEPERM("pkts"), caps(capBPF, capPerfmon), []string{"CAP_NET_ADMIN"}, `program "pkts" (section "xdp", XDP)`},
		{"socket filter without CAP_BPF", memlockEPERM("sock"), 0, []string{"CAP_BPF"}, `program "sock" (section "socket", SocketFilter)`},
		{"map without CAP_BPF", fmt.Errorf("map counts: map create: %w (MEMLOCK may be too low, consider rlimit.RemoveMemlock)", unix.EPERM), caps(capPerfmon), []string{"CAP_BPF"}, `map "counts"`},
		{"CAP_SYS_ADMIN covers everything", memlockEPERM("pkts"), caps(capSysAdmin), nil, `program "pkts" (section "xdp", XDP)`},
		{"every capability: lockdown", memlockEPERM("fill"), caps(capBPF, capPerfmon, capNetAdmin), nil, `program "fill" (section "raw_tp/sys_enter", RawTracepoint)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := explainLoad("x.bpf.o", errorSpec, tc.err, nil, tc.have, true)
			var perr *PermissionError
			if !errors.As(err, &perr) {
				t.Fatalf("%v: not a PermissionError", err)
			}
			if diff := cmp.Diff(tc.missing, perr.Missing); diff != "" {
				t.Errorf("missing capabilities (-want +got):\n%s", diff)
			}
			if perr.What != tc.what {
				t.Errorf("what = %q, want %q", perr.What, tc.what)
			}
			msg := err.Error()
			if strings.Contains(msg, "MEMLOCK") {
				t.Errorf("message %q repeats cilium's MEMLOCK hint", msg)
			}
			if !strings.HasPrefix(msg, "x.bpf.o: "+tc.what+": permission denied") {
				t.Errorf("message %q does not start with the object, the culprit and the failure", msg)
			}
			for _, c := range tc.missing {
				if !strings.Contains(msg, c) {
					t.Errorf("message %q does not name %s", msg, c)
				}
			}
			if len(tc.missing) == 0 && !strings.Contains(msg, "kernel lockdown, an LSM or a sysctl") {
				t.Errorf("message %q does not say what else refuses", msg)
			}
			if !errors.Is(err, unix.EPERM) {
				t.Error("the error no longer wraps EPERM")
			}
		})
	}
}

func TestExplainLoadNotPermission(t *testing.T) {
	// Unknown capabilities: the error is kept as is.
	err := explainLoad("x.bpf.o", errorSpec, memlockEPERM("fill"), nil, 0, false)
	if errors.As(err, new(*PermissionError)) {
		t.Errorf("%v: mapped to a PermissionError without knowing the capabilities", err)
	}
	// Another errno is not about privileges.
	err = explainLoad("x.bpf.o", errorSpec, fmt.Errorf("map counts: map create: %w", unix.EINVAL), nil, caps(), true)
	if errors.As(err, new(*PermissionError)) || !strings.HasPrefix(err.Error(), "x.bpf.o: load: map counts") {
		t.Errorf("EINVAL: %v", err)
	}
}

func TestExplainLoadVerifier(t *testing.T) {
	var log []string
	for i := range 30 {
		log = append(log, fmt.Sprintf("%d: insn %d", i, i))
	}
	verr := &ebpf.VerifierError{Cause: unix.EACCES, Log: log}
	err := explainLoad("x.bpf.o", errorSpec, fmt.Errorf("program fill: load program: %w", verr), nil, 0, true)
	var lerr *LoadError
	if !errors.As(err, &lerr) {
		t.Fatalf("%v: not a LoadError", err)
	}
	msg := err.Error()
	for _, want := range []string{
		`x.bpf.o: program "fill" (section "raw_tp/sys_enter", RawTracepoint): the verifier rejected it: permission denied`,
		"last 20 of 30 lines",
		"\t10: insn 10",
		"\t29: insn 29",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "\t9: insn 9\n") {
		t.Errorf("message shows more than the tail:\n%s", msg)
	}
	if !errors.As(err, new(*ebpf.VerifierError)) {
		t.Error("the VerifierError with the whole log is no longer reachable")
	}
	// A short log is shown whole.
	short := &ebpf.VerifierError{Cause: unix.EINVAL, Log: []string{"0: R1 type=ctx", "invalid access"}}
	msg = explainLoad("x.bpf.o", errorSpec, fmt.Errorf("program pkts: load program: %w", short), nil, 0, true).Error()
	if !strings.Contains(msg, "verifier log:\n\t0: R1 type=ctx\n\tinvalid access") {
		t.Errorf("short log not shown whole:\n%s", msg)
	}
}

func TestNeededCaps(t *testing.T) {
	for typ, want := range map[ebpf.ProgramType][]int{
		ebpf.Kprobe:       {capBPF, capPerfmon},
		ebpf.Tracing:      {capBPF, capPerfmon},
		ebpf.PerfEvent:    {capBPF, capPerfmon},
		ebpf.SchedCLS:     {capBPF, capNetAdmin},
		ebpf.CGroupSKB:    {capBPF, capNetAdmin},
		ebpf.SocketFilter: {capBPF},
		ebpf.Syscall:      {capBPF},
	} {
		if diff := cmp.Diff(want, neededCaps(typ)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", typ, diff)
		}
	}
}

func TestCheckDigest(t *testing.T) {
	elf := []byte("not really an object, but bytes to hash")
	sum := sha256.Sum256(elf)
	good := hex.EncodeToString(sum[:])
	if err := checkDigest("x.bpf.o", elf, good, "x_bpfel.go"); err != nil {
		t.Fatal(err)
	}
	// Cached: the same bytes pass again.
	if err := checkDigest("x.bpf.o", elf, good, "x_bpfel.go"); err != nil {
		t.Fatal(err)
	}
	bad := strings.Repeat("0", 64)
	err := checkDigest("x.bpf.o", elf, bad, "x_bpfel.go")
	if !errors.Is(err, ErrStale) {
		t.Fatalf("%v: does not wrap ErrStale", err)
	}
	for _, want := range []string{"x.bpf.o: the skeleton is stale", "x_bpfel.go was generated from an object with sha256 0000000000000000…",
		"has sha256 " + good[:16], "go generate", "bpfskel -obj x.bpf.o"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if _, err := OpenSkeleton("x.bpf.o", elf, bad, "x_bpfel.go"); !errors.Is(err, ErrStale) {
		t.Errorf("OpenSkeleton with a wrong digest: %v", err)
	}
}
