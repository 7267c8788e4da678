package bpfskel

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// RingBuf is a typed handle on a BPF_MAP_TYPE_RINGBUF map whose records
// are events of type E, created by [BindRingBuf] or [BindRingBufTail].
// Records are read through a [RingBufReader] from [RingBuf.NewReader].
//
// E must mirror the C event type byte for byte (generated skeletons
// guarantee that). A map whose event type is unknown is a RingBuf[RawEvent]:
// read it with ReadRaw.
type RingBuf[E any] struct {
	m     *ebpf.Map
	shape eventShape
	coll  *Collection
}

// RingBufTail is [RingBuf] for an event type that ends in a flexible array
// member, bound by [BindRingBufTail]: records may be longer than E, and the
// reader's Tail method returns the bytes after E. It is the same type as
// RingBuf; the separate name lets generated code say which bind to call.
type RingBufTail[E any] = RingBuf[E]

// BindRingBuf returns a typed handle on the ring buffer called name whose
// records are exactly one E each. It checks that the map exists, is a
// BPF_MAP_TYPE_RINGBUF and that E is plain data. On failure it returns nil
// and records the reason in b.
func BindRingBuf[E any](b *Binder, name string) *RingBuf[E] {
	return bindRingBuf[E](b, name, -1)
}

// BindRingBufTail is [BindRingBuf] for an event type E that ends in a
// flexible (or zero-length) array member starting at byte tailOffset of E
// (its C offsetof: sizeof(E), or less when the array begins in E's tail
// padding). A record must hold at least tailOffset bytes and may be longer
// than E; the bytes from tailOffset on are the array's contents, returned by
// the reader's Tail method.
func BindRingBufTail[E any](b *Binder, name string, tailOffset int) *RingBufTail[E] {
	if b != nil && tailOffset < 0 {
		b.fail("map %q: flexible array offset %d is negative", name, tailOffset)
		return nil
	}
	return bindRingBuf[E](b, name, tailOffset)
}

func bindRingBuf[E any](b *Binder, name string, tailOff int) *RingBuf[E] {
	if b == nil {
		return nil
	}
	m, shape, ok := bindEvents[E](b, name, ebpf.RingBuf, tailOff)
	if !ok {
		return nil
	}
	return &RingBuf[E]{m: m, shape: shape, coll: b.c}
}

// Map returns the underlying cilium/ebpf map, the escape hatch for what
// this package does not wrap. It is closed by [Collection.Close].
func (r *RingBuf[E]) Map() *ebpf.Map {
	if r == nil {
		return nil
	}
	return r.m
}

// NewReader opens a reader of the ring buffer's records. The reader is
// closed by [RingBufReader.Close] or by [Collection.Close], whichever comes
// first. A ring buffer has one consumer position: two readers of the same
// map share (and split) its records.
func (r *RingBuf[E]) NewReader() (*RingBufReader[E], error) {
	if r == nil || r.m == nil {
		return nil, errNilMap
	}
	rd := &RingBufReader[E]{}
	err := register(r.coll, r.shape.name, &rd.eventReader, func() error {
		src, err := newRingSource(r.m)
		if err != nil {
			return fmt.Errorf("map %q: new reader: %w", r.shape.name, err)
		}
		rd.init(r.shape, src, r.coll)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rd, nil
}

// RingBufReader reads the records of a ring buffer as events of type E.
// ReadInto is the allocation-free path: on Linux it copies each record
// once, from the ring's mapping into the caller's *E.
//
// Reads (ReadInto, Read, ReadRaw, ReadContext) must come from one goroutine
// at a time, and the slices returned by ReadRaw, Raw and Tail are valid
// until the next read. Close and SetDeadline may be called from any
// goroutine.
type RingBufReader[E any] struct {
	eventReader[E]
}

// BufferSize returns the size of the ring buffer's data area in bytes.
func (r *RingBufReader[E]) BufferSize() int {
	if r == nil || r.src == nil {
		return 0
	}
	return r.src.(interface{ size() int }).size()
}

// Close releases the reader; a blocked read returns an error wrapping
// [ErrClosed]. It is idempotent, and safe on a nil reader.
func (r *RingBufReader[E]) Close() error {
	if r == nil {
		return nil
	}
	return r.eventReader.Close()
}
