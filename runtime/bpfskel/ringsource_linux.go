package bpfskel

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// mmapRing consumes a BPF ring buffer straight out of its mapping.
//
// It is hand-written instead of going through cilium/ebpf's ringbuf.Reader,
// which copies every record into a buffer of its own, under a mutex, and
// stores the consumer position after every record (a locked instruction
// each): decoding then copies the record a second time. Handing the record
// out in place, so that ReadInto copies it once into the caller's event,
// and giving space back in chunks is what makes BenchmarkRingbuf/64B/bpfskel
// faster than BenchmarkRingbuf/64B/cilium-readinto. It follows the
// protocol of kernel/bpf/ringbuf.c, as libbpf's ring_buffer__poll does.
//
// Records handed out stay in the ring until the consumer position the
// kernel sees passes them: it is published once the reader is an eighth of
// the ring ahead of it, before every wait (so the kernel's wake-up, sent
// when a record is committed at the consumer position, is never missed)
// and at close. A producer therefore sees at most an eighth of the ring
// less free space than libbpf's reader would leave it.
type mmapRing struct {
	cons *uintptr // consumer position, written by us
	prod *uintptr // producer position, written by the kernel
	data []byte   // the data pages, mapped twice in a row
	mask uintptr

	consMem, prodMem []byte // the two mappings, for munmap

	pos       uintptr // position after the last record handed out
	published uintptr // the consumer position the kernel sees
	chunk     uintptr // how far pos runs ahead of published at most
	last      []byte  // the last record handed out, in place

	waiter   *ringWaiter // epoll on the map for EPOLLIN, and an eventfd
	deadline time.Time

	// state guards the mappings against a Close from another goroutine: a
	// read holds stReading while it touches the ring, and whoever is last
	// to leave (Close when no read is in progress, else that read) unmaps.
	state atomic.Int32
	// wakeMu orders wake against free, so that the waiter's eventfd is
	// never written after it is closed.
	wakeMu sync.Mutex
	freed  bool
}

const (
	stReading = 1 << iota
	stClosed
)

var errConcurrentRead = errors.New("bpfskel: concurrent reads of one ring buffer reader; read from one goroutine at a time")

func newRingSource(m *ebpf.Map) (source, error) {
	size := int(m.MaxEntries())
	page := os.Getpagesize()
	if size <= 0 || size&(size-1) != 0 || size%page != 0 {
		return nil, fmt.Errorf("ring buffer size %d is not a power-of-two multiple of the page size", size)
	}
	fd := m.FD()
	s := &mmapRing{mask: uintptr(size - 1)}
	var err error
	defer func() {
		if err != nil {
			s.free()
		}
	}()
	if s.consMem, err = unix.Mmap(fd, 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
		return nil, fmt.Errorf("mmap consumer page: %w", err)
	}
	if s.prodMem, err = unix.Mmap(fd, int64(page), page+2*size, unix.PROT_READ, unix.MAP_SHARED); err != nil {
		return nil, fmt.Errorf("mmap data pages: %w", err)
	}
	s.cons = (*uintptr)(unsafe.Pointer(&s.consMem[0]))
	s.prod = (*uintptr)(unsafe.Pointer(&s.prodMem[0]))
	s.data = s.prodMem[page:]
	s.pos = atomic.LoadUintptr(s.cons)
	s.published = s.pos
	s.chunk = uintptr(size / 8)
	if s.waiter, err = newRingWaiter(fd, unix.EPOLLIN); err != nil {
		return nil, err
	}
	return s, nil
}

// publish gives the records read so far back to the kernel. The release
// store pairs with the kernel's read of the consumer position when it
// reserves space and when it decides whether to wake the reader.
func (s *mmapRing) publish() {
	atomic.StoreUintptr(s.cons, s.pos)
	s.published = s.pos
}

// size is the size of the ring's data area in bytes.
func (s *mmapRing) size() int { return int(s.mask) + 1 }

// next returns the next record, in place in the ring. On success the read
// holds the ring until release; on error it holds nothing.
func (s *mmapRing) next() ([]byte, error) {
	if !s.state.CompareAndSwap(0, stReading) {
		if s.state.Load()&stClosed != 0 {
			return nil, ErrClosed
		}
		return nil, errConcurrentRead
	}
	rec, err := s.read()
	if err != nil {
		s.release()
		return nil, err
	}
	return rec, nil
}

func (s *mmapRing) read() ([]byte, error) {
	s.last = nil
	for {
		// Records read are given back to the producer in chunks of an
		// eighth of the ring, and all of them before waiting.
		if s.pos-s.published >= s.chunk {
			s.publish()
		}
		prod := atomic.LoadUintptr(s.prod)
		if prod == s.pos {
			if s.state.Load()&stClosed != 0 {
				return nil, ErrClosed
			}
			if s.published != s.pos {
				s.publish()
				continue
			}
			if !s.deadline.IsZero() && !time.Now().Before(s.deadline) {
				return nil, os.ErrDeadlineExceeded
			}
			// Level-triggered: returns at once while records wait.
			woken, err := s.waiter.wait(s.deadline)
			if err != nil {
				return nil, err
			}
			if woken {
				return nil, errFlushed
			}
			continue
		}
		if prod-s.pos < ringHeaderSize {
			return nil, fmt.Errorf("read record header: %w", io.ErrUnexpectedEOF)
		}
		// An atomic load orders the header before the record's bytes, as
		// the kernel's xchg that commits the record orders them.
		hdr := atomic.LoadUint32((*uint32)(unsafe.Pointer(&s.data[s.pos&s.mask])))
		if hdr&ringBusyBit != 0 {
			// Reserved but not yet committed: programs usually commit
			// at once, but a sleepable one may hold a reservation, so
			// let other goroutines run while this one looks again.
			runtime.Gosched()
			continue
		}
		n := uintptr(hdr &^ (ringBusyBit | ringDiscardBit))
		total := ringHeaderSize + (n+7)&^7
		if prod-s.pos < total {
			return nil, fmt.Errorf("read record data: %w", io.ErrUnexpectedEOF)
		}
		start := (s.pos + ringHeaderSize) & s.mask
		s.pos += total
		if hdr&ringDiscardBit != 0 {
			continue
		}
		s.last = s.data[start : start+n : start+n]
		return s.last, nil
	}
}

// release ends the read that next began; the last read out unmaps the
// ring once it is closed.
func (s *mmapRing) release() {
	if s.state.CompareAndSwap(stReading, 0) {
		return
	}
	// Closed while reading: Close left the unmapping to this read.
	s.last = nil
	s.state.Store(stClosed)
	s.free()
}

// copyLast appends the bytes of the record last handed out to dst, or
// returns nil when there is none or the reader is closed.
func (s *mmapRing) copyLast(dst []byte) []byte {
	if !s.state.CompareAndSwap(0, stReading) {
		return nil
	}
	defer s.release()
	if s.last == nil {
		return nil
	}
	return append(dst[:0], s.last...)
}

func (s *mmapRing) setDeadline(t time.Time) { s.deadline = t }

func (s *mmapRing) wake() error {
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	if s.freed {
		return ErrClosed
	}
	wakeEventFD(s.waiter.eventFD())
	return nil
}

func (s *mmapRing) close() error {
	for {
		st := s.state.Load()
		if st&stClosed != 0 {
			return nil
		}
		if !s.state.CompareAndSwap(st, st|stClosed) {
			continue
		}
		if st&stReading == 0 {
			s.free()
			return nil
		}
		// A read is in progress: wake it if it waits; it unmaps on its
		// way out.
		return s.wake()
	}
}

// free unmaps the ring and closes the descriptors; it runs once.
func (s *mmapRing) free() {
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	if s.freed {
		return
	}
	s.freed = true
	if s.cons != nil {
		// Every record handed out is consumed, as for any reader.
		s.publish()
	}
	for _, m := range [][]byte{s.prodMem, s.consMem} {
		if m != nil {
			_ = unix.Munmap(m)
		}
	}
	s.consMem, s.prodMem, s.data, s.cons, s.prod = nil, nil, nil, nil, nil
	if s.waiter != nil {
		_ = s.waiter.close()
	}
}
