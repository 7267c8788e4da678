//go:build !linux

package bpfskel

import (
	"fmt"
	"time"

	"github.com/cilium/ebpf"
)

const (
	protRead      = 1
	protReadWrite = 3
)

func mmapUserRing(fd int, size uintptr) ([2]mapping, error) {
	return [2]mapping{}, fmt.Errorf("user ring buffers need Linux: %w", ebpf.ErrNotSupported)
}

type ringWaiter struct{}

const userRingEvents = 0

func newRingWaiter(int, uint32) (*ringWaiter, error) {
	return nil, fmt.Errorf("user ring buffers need Linux: %w", ebpf.ErrNotSupported)
}

func (*ringWaiter) eventFD() int                 { return -1 }
func (*ringWaiter) wait(time.Time) (bool, error) { return false, nil }
func (*ringWaiter) close() error                 { return nil }
func wakeEventFD(int)                            {}
