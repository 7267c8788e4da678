package bpfskel

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
)

// perfSource is unsupported on Windows: cilium/ebpf's perf package is
// Linux only. NewReader fails with an error wrapping errors.ErrUnsupported.
type perfSource struct {
	lost       atomic.Uint64
	cpu        int
	bufferSize int
}

func newPerfSource(*ebpf.Map, PerfReaderOptions) (*perfSource, error) {
	return nil, errors.ErrUnsupported
}

func (s *perfSource) next() ([]byte, error) { return nil, errors.ErrUnsupported }
func (s *perfSource) release()              {}
func (s *perfSource) setDeadline(time.Time) {}
func (s *perfSource) wake() error           { return errors.ErrUnsupported }
func (s *perfSource) close() error          { return nil }
