//go:build !linux

package bpfskel

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// TestRunContext runs a program with BPF_PROG_TEST_RUN; it needs Linux.
func TestRunContext[C any](handle AnyProgram, in TestRunInput[C]) (TestRunResult, error) {
	return TestRunResult{}, fmt.Errorf("test run: %w", ebpf.ErrNotSupported)
}
