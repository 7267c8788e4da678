// Package bpfskeltest helps tests of BPF skeletons decide whether this
// process may load BPF into the kernel.
//
// A test that needs the kernel calls RequireKernel first. Without the
// privilege (root or CAP_BPF with CAP_PERFMON and CAP_NET_ADMIN) it skips,
// unless BPFSKEL_REQUIRE_KERNEL=1, which CI sets: then a missing privilege
// fails the test, so that a green run always means the kernel tests ran.
package bpfskeltest

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// RequireEnv is the environment variable that turns the privilege skip into
// a failure.
const RequireEnv = "BPFSKEL_REQUIRE_KERNEL"

var probe = sync.OnceValue(func() error {
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	if err != nil {
		return err
	}
	return m.Close()
})

// RequireKernel skips tb when the process lacks the privilege to create BPF
// maps, or fails it when RequireEnv is "1". Any other error creating a map
// fails tb: that is a broken kernel or setup, not a reason to skip.
func RequireKernel(tb testing.TB) {
	tb.Helper()
	switch v, msg := decide(probe(), os.Getenv(RequireEnv) == "1"); v {
	case fail:
		tb.Fatal(msg)
	case skip:
		tb.Skip(msg)
	}
}

type verdict int

const (
	run verdict = iota
	skip
	fail
)

// decide is RequireKernel's rule: probeErr is what creating a map returned,
// require says whether RequireEnv is set.
func decide(probeErr error, require bool) (verdict, string) {
	switch {
	case probeErr == nil:
		return run, ""
	case !errors.Is(probeErr, unix.EPERM) && !errors.Is(probeErr, unix.EACCES):
		return fail, fmt.Sprintf("creating a BPF map failed, and not for lack of privilege: %v", probeErr)
	case require:
		return fail, fmt.Sprintf("%s=1 but this process may not load BPF (%v); run as root or with CAP_BPF", RequireEnv, probeErr)
	}
	return skip, fmt.Sprintf("needs root or CAP_BPF to load BPF (%v); set %s=1 to make this a failure", probeErr, RequireEnv)
}

// Decide tells callers without a testing.TB, such as a TestMain guarding
// Example functions that load BPF, what RequireKernel would do: a non-nil
// error where it would fail, a non-empty skip reason where it would skip,
// and neither where the kernel tests may run.
func Decide() (skipReason string, err error) {
	switch v, msg := decide(probe(), os.Getenv(RequireEnv) == "1"); v {
	case fail:
		return "", errors.New(msg)
	case skip:
		return msg, nil
	}
	return "", nil
}
