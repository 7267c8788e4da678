//go:build linux

package bpfskel

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/bpfskel/bpfskel/runtime/bpfskeltest"
	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// TestSentinelErrors: each error a user may test for matches both this
// package's sentinel and the cilium/ebpf error it comes from, and keeps the
// map's name in its message.
func TestSentinelErrors(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"hash": {Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 4},
		"ring": {Type: ebpf.RingBuf, MaxEntries: 4096},
	})
	b := NewBinder(c)
	m := BindMap[uint32, uint64](b, "hash")
	ring := BindMap[struct{}, struct{}](b, "ring")
	mustBind(t, b)
	if err := m.Update(1, 10, UpdateAny); err != nil {
		t.Fatal(err)
	}
	var v uint64
	k := uint32(2)
	for _, tc := range []struct {
		op    string
		err   error
		is    []error
		inMsg string
	}{
		{"Lookup miss", second(m.Lookup(2)), []error{ErrNotFound, ebpf.ErrKeyNotExist}, `map "hash": lookup: key does not exist`},
		{"LookupInto miss", m.LookupInto(&k, &v), []error{ErrNotFound, ebpf.ErrKeyNotExist}, `map "hash": lookup`},
		{"Delete miss", m.Delete(2), []error{ErrNotFound, ebpf.ErrKeyNotExist, unix.ENOENT}, `map "hash": delete`},
		{"Update(Exist) miss", m.Update(2, 1, UpdateExist), []error{ErrNotFound, ebpf.ErrKeyNotExist, unix.ENOENT}, `map "hash": update`},
		{"Update(NoExist) hit", m.Update(1, 1, UpdateNoExist), []error{ErrKeyExists, ebpf.ErrKeyExist, unix.EEXIST}, `map "hash": update: key already exists`},
		{"Lookup on a ring buffer", second(ring.Lookup(struct{}{})), []error{ErrNotSupported, ebpf.ErrNotSupported}, `map "ring": lookup`},
	} {
		if tc.err == nil {
			t.Errorf("%s: no error", tc.op)
			continue
		}
		for _, target := range tc.is {
			if !errors.Is(tc.err, target) {
				t.Errorf("%s: %v does not match %v", tc.op, tc.err, target)
			}
		}
		if !strings.Contains(tc.err.Error(), tc.inMsg) {
			t.Errorf("%s: %q lacks %q", tc.op, tc.err, tc.inMsg)
		}
		for _, other := range []error{ErrNotFound, ErrKeyExists, ErrNotSupported, ErrClosed} {
			if !slicesContain(tc.is, other) && errors.Is(tc.err, other) {
				t.Errorf("%s: %v also matches %v", tc.op, tc.err, other)
			}
		}
	}
}

func second[T any](_ T, err error) error { return err }

func slicesContain(s []error, e error) bool {
	for _, x := range s {
		if x == e {
			return true
		}
	}
	return false
}

// TestClosedErrors: after Collection.Close every operation on every handle
// returns an error wrapping ErrClosed that names the map or program.
func TestClosedErrors(t *testing.T) {
	spec, err := Open("sections.bpf.o", readObject(t))
	if err != nil {
		t.Fatal(err)
	}
	s := loadSkeleton(t, spec)
	if err := s.coll.Close(); err != nil {
		t.Fatal(err)
	}
	k, v := uint32(7), uint64(0)
	it := s.counts.Iterate()
	it.Next()
	b := NewBinder(s.coll)
	BindMap[uint32, uint64](b, "counts")
	BindSection[bssSection](b, ".bss")
	BindProgram(b, "bump")
	for _, tc := range []struct {
		op   string
		err  error
		want string
	}{
		{"Lookup", second(s.counts.Lookup(7)), `map "counts": lookup: collection closed`},
		{"LookupInto", s.counts.LookupInto(&k, &v), `map "counts": lookup: collection closed`},
		{"Update", s.counts.Update(7, 1, UpdateAny), `map "counts": update: collection closed`},
		{"Delete", s.counts.Delete(7), `map "counts": delete: collection closed`},
		{"Iterator", it.Err(), `map "counts": iterate: collection closed`},
		{"Mmap", second(s.buf.Mmap()), `map "buf_map": mmap: collection closed`},
		{"View.Get", second(s.bss.Get(0)), `map ".bss": view closed`},
		{"View.Set", s.data.Set(0, dataSect{}), `map ".data": view closed`},
		{"TestRun", second(s.bump.TestRun(nil)), `program "bump": test run: collection closed`},
		{"Binder", b.Err(), `map "counts": bind: collection closed`},
	} {
		if !errors.Is(tc.err, ErrClosed) || !strings.Contains(fmt.Sprint(tc.err), tc.want) {
			t.Errorf("%s after Close: %v; want an error wrapping ErrClosed with %q", tc.op, tc.err, tc.want)
		}
	}
	if n := strings.Count(b.Err().Error(), "collection closed"); n != 3 {
		t.Errorf("Binder.Err after Close has %d closed errors, want 3:\n%v", n, b.Err())
	}
}

// TestLayoutError: a size mismatch found by a bind is a *LayoutError with
// the map's name and both sizes.
func TestLayoutError(t *testing.T) {
	c := loadMaps(t, map[string]*ebpf.MapSpec{
		"hash": {Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 4},
	})
	b := NewBinder(c)
	if BindMap[uint64, uint64](b, "hash") != nil {
		t.Fatal("bound a map with the wrong key size")
	}
	var le *LayoutError
	if !errors.As(b.Err(), &le) {
		t.Fatalf("Err() = %v, want a *LayoutError", b.Err())
	}
	if want := (LayoutError{Map: "hash", What: "key", GoSize: 8, ObjectSize: 4, Where: "the object"}); *le != want {
		t.Errorf("LayoutError = %+v, want %+v", *le, want)
	}
	if want := `test.bpf.o: map "hash": key is 8 bytes in Go, 4 in the object`; b.Err().Error() != want {
		t.Errorf("Err() = %q, want %q", b.Err(), want)
	}
}

// TestLoadErrorWording: how a refused load is reported, for the errors a
// root test process cannot provoke.
func TestLoadErrorWording(t *testing.T) {
	eperm := fmt.Errorf("program fill: load program: %w", unix.EPERM)
	memlock := fmt.Errorf("failed to set memlock rlimit: %w", unix.EPERM)
	for _, tc := range []struct {
		name       string
		err        error
		memlock    error
		want       string
		missing    []string
		permission bool
		is         []error
	}{
		{
			name: "EPERM", err: eperm,
			want:       `x.bpf.o: program "fill" (section "raw_tp/sys_enter", RawTracepoint): permission denied: the process lacks CAP_BPF and CAP_PERFMON; run as root or grant it (setcap cap_bpf,cap_perfmon+ep BINARY)`,
			missing:    []string{"CAP_BPF", "CAP_PERFMON"},
			permission: true, is: []error{unix.EPERM},
		},
		{
			name: "EPERM with memlock charged", err: eperm, memlock: memlock,
			want:       `x.bpf.o: program "fill" (section "raw_tp/sys_enter", RawTracepoint): permission denied: the process lacks CAP_BPF and CAP_PERFMON; run as root or grant it (setcap cap_bpf,cap_perfmon+ep BINARY)` + "; or RLIMIT_MEMLOCK is too low: this kernel charges BPF memory to it and it could not be lifted (failed to set memlock rlimit: operation not permitted): raise it (ulimit -l unlimited) or grant CAP_SYS_RESOURCE",
			missing:    []string{"CAP_BPF", "CAP_PERFMON"},
			permission: true, is: []error{unix.EPERM},
		},
		{
			name: "not supported", err: fmt.Errorf("map ring: map create: %w", ebpf.ErrNotSupported),
			want: "x.bpf.o: load: map ring: map create: not supported",
			is:   []error{ErrNotSupported, ebpf.ErrNotSupported},
		},
		{
			name: "other", err: errors.New("verifier says no"),
			want: "x.bpf.o: load: verifier says no",
		},
	} {
		// A process with no capabilities; fill is a raw tracepoint.
		err := explainLoad("x.bpf.o", errorSpec, tc.err, tc.memlock, 0, true)
		if err.Error() != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, err, tc.want)
		}
		var pe *PermissionError
		if errors.As(err, &pe) != tc.permission {
			t.Errorf("%s: errors.As(*PermissionError) = %v, want %v", tc.name, !tc.permission, tc.permission)
		} else if pe != nil && strings.Join(pe.Missing, ",") != strings.Join(tc.missing, ",") {
			t.Errorf("%s: missing %v, want %v", tc.name, pe.Missing, tc.missing)
		}
		for _, target := range tc.is {
			if !errors.Is(err, target) {
				t.Errorf("%s: %v does not match %v", tc.name, err, target)
			}
		}
	}
}

func TestChargesMemlock(t *testing.T) {
	for release, want := range map[string]bool{
		"4.19.0-27-amd64":   true,
		"5.10.209":          true,
		"5.11.0":            false,
		"5.15.0-97-generic": false,
		"6.18.0":            false,
		"10.0":              false,
		"garbage":           true,
	} {
		if got := chargesMemlock(release); got != want {
			t.Errorf("chargesMemlock(%q) = %v, want %v", release, got, want)
		}
	}
}

// privilegeChildEnv makes the test binary run TestPrivilegeError's child
// half: loading as an unprivileged user.
const privilegeChildEnv = "BPFSKEL_TEST_PRIVILEGE_CHILD"

// TestPrivilegeError loads the test object as the nobody user (setpriv
// drops every capability) and checks that the kernel's refusal comes back
// as a *PermissionError naming CAP_BPF and wrapping EPERM.
func TestPrivilegeError(t *testing.T) {
	if os.Getenv(privilegeChildEnv) == "1" {
		spec, err := Open("sections.bpf.o", readObject(t))
		if err != nil {
			t.Fatal(err)
		}
		c, err := spec.Load(nil)
		if err == nil {
			c.Close()
			t.Fatal("an unprivileged process loaded BPF programs (kernel.unprivileged_bpf_disabled is 0?)")
		}
		var pe *PermissionError
		if !errors.As(err, &pe) || !errors.Is(err, unix.EPERM) || len(pe.Missing) == 0 || pe.Missing[0] != "CAP_BPF" {
			t.Fatalf("unprivileged load: %v; want a *PermissionError naming CAP_BPF, wrapping EPERM", err)
		}
		if !strings.HasPrefix(err.Error(), "sections.bpf.o: ") || !strings.Contains(err.Error(), "the process lacks CAP_BPF") {
			t.Errorf("message: %v", err)
		}
		if !chargesMemlock(kernelRelease()) && (pe.Memlock != nil || strings.Contains(err.Error(), "RLIMIT_MEMLOCK")) {
			t.Errorf("message: %v", err)
		}
		t.Log(err)
		return
	}
	requireKernel(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv (util-linux) is needed to drop privileges: ", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("dropping to the nobody user needs root")
	}
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
		os.Args[0], "-test.run=^TestPrivilegeError$", "-test.v", "-test.count=1")
	// The child may not load BPF: that is its point, so it must not
	// inherit the demand that kernel tests run.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, bpfskeltest.RequireEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, privilegeChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if strings.Contains(string(out), "setpriv: failed to execute") {
		// The test binary or its directory is not open to nobody (a
		// private GOTMPDIR): nothing to learn about bpfskel here.
		t.Skipf("the nobody user cannot run the test binary: %s", out)
	}
	if err != nil || !strings.Contains(string(out), "--- PASS: TestPrivilegeError") {
		t.Fatalf("unprivileged child: %v\n%s", err, out)
	}
}

// TestLoadWithLowMemlock: loading works with RLIMIT_MEMLOCK at zero. On
// kernels that charge BPF memory to memcg (5.11 and later, like the CI
// machine's) the limit does not apply at all; on older ones Load lifts it
// with rlimit.RemoveMemlock first. Either way a skeleton must load.
func TestLoadWithLowMemlock(t *testing.T) {
	requireKernel(t)
	var old unix.Rlimit
	if err := unix.Prlimit(0, unix.RLIMIT_MEMLOCK, nil, &old); err != nil {
		t.Fatal(err)
	}
	low := unix.Rlimit{Cur: 0, Max: old.Max}
	if err := unix.Prlimit(0, unix.RLIMIT_MEMLOCK, &low, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := unix.Prlimit(0, unix.RLIMIT_MEMLOCK, &old, nil); err != nil {
			t.Error(err)
		}
	})
	spec, err := Open("sections.bpf.o", readObject(t))
	if err != nil {
		t.Fatal(err)
	}
	s := loadSkeleton(t, spec)
	if _, err := s.bump.TestRun(nil); err != nil {
		t.Fatal(err)
	}
	if err := removeMemlock(); err != nil {
		t.Errorf("rlimit.RemoveMemlock: %v", err)
	}
}
