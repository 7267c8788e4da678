package bpfskel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"
)

// ErrRecordSize is wrapped by the error of a read whose record does not fit
// the event type: shorter than it, or longer when the event type does not
// end in a flexible array member. The record is consumed; [RingBufReader.Raw]
// (or [PerfReader.Raw]) still returns its bytes until the next read. A
// write to a [UserRingBuf] of a record that does not fit the event type, or
// can never fit the ring, fails with it too (and writes nothing).
var ErrRecordSize = errors.New("record size does not fit the event type")

// RawEvent is the event type of a ring buffer or perf event array whose
// records have no known Go type (the generator could not tell which C type
// they hold: see bpfskel's -event flag). It has no fields; every byte of a
// record is its tail. Read such records with ReadRaw, which returns the
// record's bytes; write them into a [UserRingBuf] with WriteBytes.
type RawEvent struct{}

// eventShape says how the records of one map fit its event type E.
type eventShape struct {
	name  string  // the map's C name
	typ   string  // E, for messages
	size  int     // sizeof(E)
	align uintptr // alignof(E)
	// tail is true when E ends in a flexible array member (or is RawEvent):
	// records may be longer than E, and the array starts at tailOff
	// (sizeof(E), or less when the array sits in E's tail padding).
	tail    bool
	tailOff int
	// slack is how many bytes the transport may add after a record: perf
	// event arrays pad samples to 8 bytes (with sizeof(u32) before them).
	slack int
}

// newShape describes E for the map called name, and records in b why E
// cannot be an event type. tailOff < 0 means E has no flexible array.
func newShape[E any](b *Binder, name string, tailOff int) (eventShape, bool) {
	t := reflect.TypeFor[E]()
	if !b.checkPlain(name, "event", t) {
		return eventShape{}, false
	}
	size := int(t.Size())
	s := eventShape{name: name, typ: t.String(), size: size, align: uintptr(t.Align()), tail: tailOff >= 0 || size == 0, tailOff: tailOff}
	if size == 0 {
		s.tailOff = 0
	}
	if s.tail && s.tailOff > size {
		b.fail("map %q: flexible array of event type %s starts at byte %d, past its %d bytes", name, s.typ, tailOff, size)
		return eventShape{}, false
	}
	return s, true
}

// fit checks that a record of n bytes holds one E: at least sizeof(E)
// bytes, or up to its flexible array for an E that has one.
func (s *eventShape) fit(n int) error {
	switch {
	case s.tail && n < s.tailOff:
		return fmt.Errorf("map %q: record of %d bytes is shorter than the %d bytes before the flexible array of event type %s (%d bytes): %w",
			s.name, n, s.tailOff, s.typ, s.size, ErrRecordSize)
	case !s.tail && n < s.size:
		return fmt.Errorf("map %q: record of %d bytes is shorter than event type %s (%d bytes): %w",
			s.name, n, s.typ, s.size, ErrRecordSize)
	case n > s.size+s.slack && !s.tail:
		return fmt.Errorf("map %q: record of %d bytes is longer than event type %s (%d bytes), which does not end in a flexible array member: %w",
			s.name, n, s.typ, s.size, ErrRecordSize)
	}
	return nil
}

// perfSlack is how many bytes a perf sample of size bytes grows by: the
// kernel pads the u32 size and the data together to a multiple of 8.
func perfSlack(size int) int {
	return (size+4+7)&^7 - 4 - size
}

// source is where a reader's records come from: a ring buffer (read in
// place on Linux) or the per-CPU rings of a perf event array, through
// cilium/ebpf.
type source interface {
	// next returns the next record. It is valid until release, and for
	// sources that copy (perf) until the next call of next.
	next() ([]byte, error)
	// release ends the use of the record next returned.
	release()
	setDeadline(time.Time)
	// wake makes a blocked next return an error wrapping errFlushed.
	wake() error
	close() error
}

// inPlaceSource is a source whose records are views of its ring, gone at
// release: the reader copies the last one out only when Raw or Tail asks.
type inPlaceSource interface {
	copyLast(dst []byte) []byte
}

// errFlushed is what cilium/ebpf's readers return after their Flush
// wakes them (epoll.ErrFlushed, the same value for ringbuf and perf).
var errFlushed = ringbuf.ErrFlushed

// eventReader is what ring buffer and perf readers share: decoding records
// into E, deadlines, context cancellation and closing.
//
// Reads (ReadInto, Read, ReadRaw, ReadContext) must come from one goroutine
// at a time; Close and SetDeadline may be called from any goroutine.
type eventReader[E any] struct {
	shape eventShape
	src   source
	owner *Collection
	raw   []byte // the last record, owned by src (or buf)
	// inPlace is src's copyLast when its records are views of its ring;
	// lazy is then true while the last record has not been copied to buf.
	inPlace inPlaceSource
	lazy    bool
	buf     []byte

	deadline atomic.Pointer[time.Time] // set by SetDeadline
	applied  *time.Time                // last deadline handed to src; read goroutine only

	closed atomic.Bool

	// Preallocated errors, so that polling with a past deadline does not
	// allocate.
	errClosed, errDeadline error
}

func (r *eventReader[E]) init(shape eventShape, src source, owner *Collection) {
	r.shape, r.src, r.owner = shape, src, owner
	r.inPlace, _ = src.(inPlaceSource)
	r.errClosed = fmt.Errorf("map %q: reader %w", shape.name, ErrClosed)
	r.errDeadline = fmt.Errorf("map %q: read: %w", shape.name, os.ErrDeadlineExceeded)
}

// register runs create and makes owner close the reader (closer, an
// *eventReader) on Collection.Close. It holds the collection's lock across
// create, so that Close cannot close the map's file descriptor while a
// reader is set up on it.
func register(owner *Collection, name string, closer io.Closer, create func() error) error {
	if owner == nil {
		return create()
	}
	owner.mu.Lock()
	defer owner.mu.Unlock()
	if owner.closed {
		return fmt.Errorf("map %q: new reader: collection %w", name, ErrClosed)
	}
	if err := create(); err != nil {
		return err
	}
	owner.registerLocked(closer)
	return nil
}

// next returns the next record; the caller decodes it and calls done. A
// non-nil ctx that is done ends a wait that src.wake interrupted.
func (r *eventReader[E]) next(ctx context.Context) ([]byte, error) {
	if r == nil || r.src == nil {
		return nil, errors.New("bpfskel: nil reader")
	}
	r.raw, r.lazy = nil, false
	if r.closed.Load() {
		return nil, r.errClosed
	}
	if d := r.deadline.Load(); d != r.applied {
		r.applied = d
		var t time.Time
		if d != nil {
			t = *d
		}
		r.src.setDeadline(t)
	}
	for {
		raw, err := r.src.next()
		if err == nil {
			return raw, nil
		}
		switch {
		case errors.Is(err, errFlushed):
			// Woken by ReadContext: for this read when its context is
			// done, else left over from an earlier read whose context
			// ended after a record had arrived.
			if ctx != nil && ctx.Err() != nil {
				return nil, fmt.Errorf("map %q: read: %w", r.shape.name, ctx.Err())
			}
			continue
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, r.errDeadline
		case r.closed.Load() || errors.Is(err, os.ErrClosed) || errors.Is(err, ErrClosed):
			return nil, r.errClosed
		}
		return nil, fmt.Errorf("map %q: read: %w", r.shape.name, err)
	}
}

// done keeps the record next returned for Raw and Tail and releases it.
func (r *eventReader[E]) done(raw []byte) {
	if r.inPlace != nil {
		r.lazy = true
	} else {
		r.raw = raw
	}
	r.src.release()
}

// last returns the bytes of the last record read, copying them out of an
// in-place source on first use.
func (r *eventReader[E]) last() []byte {
	if r.lazy {
		r.lazy = false
		r.raw = r.inPlace.copyLast(r.buf)
		if r.raw != nil {
			r.buf = r.raw
		}
	}
	return r.raw
}

// decode copies the record raw into *e after checking its size.
func (r *eventReader[E]) decode(raw []byte, e *E) error {
	if err := r.shape.fit(len(raw)); err != nil {
		return err
	}
	if r.shape.size == 0 {
		return nil
	}
	if src := unsafe.Pointer(unsafe.SliceData(raw)); len(raw) >= r.shape.size && uintptr(src)%r.shape.align == 0 {
		// A typed copy, which the compiler unrolls for E's size: 30%
		// faster than copy() in BenchmarkRingbuf/64B/bpfskel. The record
		// is aligned for E as checked, and E holds no pointers.
		*e = *(*E)(src)
		return nil
	}
	dst := unsafe.Slice((*byte)(unsafe.Pointer(e)), r.shape.size)
	// A record with a flexible array may end inside E's tail padding.
	clear(dst[copy(dst, raw):])
	return nil
}

// ReadInto blocks until the next record arrives and decodes it into *e,
// without reflection and without allocating. The record's bytes are copied
// into the memory of *e as they are: E mirrors the C type byte for byte.
//
// It returns an error wrapping [ErrRecordSize] when the record does not fit
// E (the record is then skipped), [os.ErrDeadlineExceeded] after the
// deadline set by SetDeadline, and [ErrClosed] once the reader (or its
// Collection) is closed, also when Close interrupts a blocked ReadInto.
func (r *eventReader[E]) ReadInto(e *E) error {
	if e == nil {
		return errors.New("bpfskel: ReadInto with a nil pointer")
	}
	raw, err := r.next(nil)
	if err != nil {
		return err
	}
	err = r.decode(raw, e)
	r.done(raw)
	return err
}

// Read is ReadInto returning the event by value.
func (r *eventReader[E]) Read() (E, error) {
	var e E
	err := r.ReadInto(&e)
	return e, err
}

// ReadRaw blocks until the next record arrives and returns its bytes
// without decoding or checking them. The slice is valid until the next
// read; copy it to keep it.
func (r *eventReader[E]) ReadRaw() ([]byte, error) {
	raw, err := r.next(nil)
	if err != nil {
		return nil, err
	}
	r.done(raw)
	return r.last(), nil
}

// ReadContext is ReadInto that also returns when ctx is done, with an error
// wrapping ctx.Err() (context.Canceled or context.DeadlineExceeded). A
// record that arrived before ctx was done may still be returned.
//
// Each call with a cancellable context allocates (it registers with
// context.AfterFunc); for the allocation-free path use ReadInto, and
// SetDeadline or Close to stop it.
func (r *eventReader[E]) ReadContext(ctx context.Context, e *E) error {
	if e == nil {
		return errors.New("bpfskel: ReadContext with a nil pointer")
	}
	if ctx.Done() == nil {
		return r.ReadInto(e)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("map %q: read: %w", r.shape.name, err)
	}
	if r == nil || r.src == nil {
		return errors.New("bpfskel: nil reader")
	}
	src := r.src
	stop := context.AfterFunc(ctx, func() { _ = src.wake() })
	defer stop()
	raw, err := r.next(ctx)
	if err != nil {
		return err
	}
	err = r.decode(raw, e)
	r.done(raw)
	return err
}

// Raw returns the bytes of the last record read, also after a size error,
// or nil. The slice is valid until the next read. A ring buffer reader
// copies the record out of the ring when Raw or Tail first asks for it; once
// the reader is closed they return nil for a record they had not copied.
func (r *eventReader[E]) Raw() []byte {
	if r == nil {
		return nil
	}
	return r.last()
}

// Tail returns the bytes of the last record from the start of E's trailing
// flexible array member (offsetof the array, usually sizeof(E)): the
// array's contents. It is nil when E has none. The slice
// is valid until the next read. Records of a perf event array may carry up
// to 7 bytes of padding after the data (see [PerfReader]); C programs
// usually store the length of their flexible array in a header field.
func (r *eventReader[E]) Tail() []byte {
	if r == nil || !r.shape.tail {
		return nil
	}
	raw := r.last()
	if len(raw) < r.shape.tailOff {
		return nil
	}
	return raw[r.shape.tailOff:]
}

// SetDeadline makes reads return an error wrapping os.ErrDeadlineExceeded
// once t has passed and no record is waiting; the zero time removes the
// deadline, a time in the past makes reads non-blocking. It takes effect
// at the next read: a read already blocked keeps its deadline (use
// ReadContext or Close to interrupt it).
func (r *eventReader[E]) SetDeadline(t time.Time) {
	if r == nil {
		return
	}
	if t.IsZero() {
		r.deadline.Store(nil)
		return
	}
	r.deadline.Store(&t)
}

// Close releases the reader. A read blocked in another goroutine returns
// promptly with an error wrapping [ErrClosed], and so does every later read.
// Close is idempotent; [Collection.Close] closes every reader made from the
// collection.
func (r *eventReader[E]) Close() error {
	if r == nil || r.src == nil {
		return nil
	}
	if !r.closed.CompareAndSwap(false, true) {
		return nil
	}
	if r.owner != nil {
		r.owner.unregister(r)
	}
	err := r.src.close()
	if err != nil {
		return fmt.Errorf("map %q: close reader: %w", r.shape.name, err)
	}
	return nil
}

// bindEvents does the checks shared by the ring buffer and perf binds.
func bindEvents[E any](b *Binder, name string, want ebpf.MapType, tailOff int) (*ebpf.Map, eventShape, bool) {
	m := b.findMap(name)
	if m == nil {
		return nil, eventShape{}, false
	}
	shape, ok := newShape[E](b, name, tailOff)
	if m.Type() != want {
		b.fail("map %q: is a %s map, not a %s", name, m.Type(), want)
		ok = false
	}
	return m, shape, ok
}
