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
	err := probe()
	switch {
	case err == nil:
		return
	case !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.EACCES):
		tb.Fatalf("creating a BPF map failed, and not for lack of privilege: %v", err)
	case os.Getenv(RequireEnv) == "1":
		tb.Fatalf("%s=1 but this process may not load BPF (%v); run as root or with CAP_BPF", RequireEnv, err)
	default:
		tb.Skipf("needs root or CAP_BPF to load BPF (%v); set %s=1 to make this a failure", err, RequireEnv)
	}
}
