//go:build !windows

package bpfskel

import (
	"errors"
	"os"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/perf"
)

// perfSource reads samples through a perf.Reader into one reused Record.
type perfSource struct {
	rd         *perf.Reader
	rec        perf.Record
	lost       atomic.Uint64
	cpu        int // of the last sample
	bufferSize int
}

func newPerfSource(m *ebpf.Map, o PerfReaderOptions) (*perfSource, error) {
	rd, err := perf.NewReaderWithOptions(m, o.PerCPUBuffer, perf.ReaderOptions{
		WakeupEvents: o.WakeupEvents,
		Watermark:    o.Watermark,
	})
	if err != nil {
		return nil, err
	}
	return &perfSource{rd: rd, cpu: -1, bufferSize: rd.BufferSize()}, nil
}

func (s *perfSource) next() ([]byte, error) {
	for {
		if err := s.rd.ReadInto(&s.rec); err != nil {
			return nil, err
		}
		if s.rec.LostSamples > 0 {
			s.lost.Add(s.rec.LostSamples)
			continue
		}
		s.cpu = s.rec.CPU
		return s.rec.RawSample, nil
	}
}

func (s *perfSource) release() {}

func (s *perfSource) setDeadline(t time.Time) { s.rd.SetDeadline(t) }

func (s *perfSource) wake() error { return s.rd.Flush() }

func (s *perfSource) close() error {
	if err := s.rd.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return err
	}
	return nil
}
