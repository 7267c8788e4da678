package bpfskeltest

import (
	"fmt"
	"testing"

	"golang.org/x/sys/unix"
)

func TestDecide(t *testing.T) {
	// cilium/ebpf wraps the errno, as here.
	eperm := fmt.Errorf("map create: %w (MEMLOCK may be too low)", unix.EPERM)
	for _, tc := range []struct {
		name    string
		err     error
		require bool
		want    verdict
	}{
		{"privileged", nil, false, run},
		{"privileged, required", nil, true, run},
		{"EPERM", eperm, false, skip},
		{"EACCES", unix.EACCES, false, skip},
		{"EPERM, required", eperm, true, fail},
		{"EACCES, required", unix.EACCES, true, fail},
		{"other error", unix.EINVAL, false, fail},
		{"other error, required", unix.ENOSYS, true, fail},
	} {
		if got, msg := decide(tc.err, tc.require); got != tc.want {
			t.Errorf("%s: verdict %d (%s), want %d", tc.name, got, msg, tc.want)
		}
	}
}

// TestRequireKernelHere: where the kernel tests run (CI sets RequireEnv),
// the probe itself must succeed.
func TestRequireKernelHere(t *testing.T) {
	RequireKernel(t)
	if err := probe(); err != nil {
		t.Fatalf("RequireKernel let the test run, but the probe failed: %v", err)
	}
}
