//go:build !linux

package bpfskel

import (
	"errors"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"
)

// ringSource reads records through cilium/ebpf's ringbuf.Reader into one
// reused Record, where the Linux reader (ringsource_linux.go) is not
// built.
type ringSource struct {
	rd  *ringbuf.Reader
	rec ringbuf.Record
}

func newRingSource(m *ebpf.Map) (source, error) {
	rd, err := ringbuf.NewReader(m)
	if err != nil {
		return nil, err
	}
	return &ringSource{rd: rd}, nil
}

func (s *ringSource) size() int { return s.rd.BufferSize() }

func (s *ringSource) next() ([]byte, error) {
	if err := s.rd.ReadInto(&s.rec); err != nil {
		return nil, err
	}
	return s.rec.RawSample, nil
}

func (s *ringSource) release() {}

func (s *ringSource) setDeadline(t time.Time) { s.rd.SetDeadline(t) }

func (s *ringSource) wake() error { return s.rd.Flush() }

func (s *ringSource) close() error {
	if err := s.rd.Close(); err != nil && !errors.Is(err, ringbuf.ErrClosed) {
		return err
	}
	return nil
}
