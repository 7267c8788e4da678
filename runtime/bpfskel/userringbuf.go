package bpfskel

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
)

// This file is the one hand-written ring buffer protocol in the package:
// cilium/ebpf v0.22 reads BPF_MAP_TYPE_RINGBUF but has no producer for
// BPF_MAP_TYPE_USER_RINGBUF, so the producer side (what libbpf's
// user_ring_buffer__reserve/__submit do) is written here against the
// kernel's layout in kernel/bpf/ringbuf.c.
//
// The map is mapped in two parts. The consumer position, which only the
// kernel (bpf_user_ringbuf_drain) advances, is the first page and is
// mapped read-only: the kernel refuses a writable mapping of it. The
// producer position page and the data area follow, read-write, with the
// data area mapped twice in a row so that a record that wraps past the end
// is contiguous in memory. Each record starts with an 8-byte header: a u32
// length whose top bits are the busy (reserved, being written) and discard
// flags, and 4 bytes of padding; records are 8-byte aligned.

// Flags in the length word of a ring buffer record header, from
// include/uapi/linux/bpf.h.
const (
	ringBusyBit    = 1 << 31 // BPF_RINGBUF_BUSY_BIT
	ringDiscardBit = 1 << 30 // BPF_RINGBUF_DISCARD_BIT
	ringHeaderSize = 8       // BPF_RINGBUF_HDR_SZ
	// userRecordMax is the longest record bpf_user_ringbuf_drain passes to
	// a program: a struct bpf_dynptr holds at most 2^24-1 bytes, and a
	// longer record stops the drain with E2BIG for good.
	userRecordMax = 1<<24 - 1
)

// ErrFull is wrapped by the error of a write to a user ring buffer that has
// no room for the record now: the BPF side has not drained enough of it.
// Retry later, or use a blocking write ([UserRingBuf.WriteContext],
// [UserRingBuf.ReserveContext]), which waits for the kernel to free space.
var ErrFull = errors.New("ring buffer full")

// UserRingBuf is a typed handle on a BPF_MAP_TYPE_USER_RINGBUF map, created
// by [BindUserRingBuf] or [BindUserRingBufTail]: user space writes records
// of type E into it, and BPF programs read them with bpf_user_ringbuf_drain
// (each record is a struct bpf_dynptr of the record's length).
//
// Write copies one E into the ring and submits it, without allocating.
// Reserve and ReserveEvent return a [UserRecord] to fill in place and then
// Submit or Discard. A full ring fails with an error wrapping [ErrFull];
// WriteContext and ReserveContext instead wait (with epoll on the map, as
// libbpf does) until the kernel drains enough.
//
// The kernel's protocol has one producer: the producer position is user
// memory that nothing arbitrates. A UserRingBuf is that producer; it is
// safe for concurrent use (its writes are serialized by a mutex), and a
// [Collection] refuses to bind a second one on the same map. Nothing stops
// another process, or a handle from another Collection over the same
// pinned map, from producing too: don't.
//
// Close (or [Collection.Close]) unmaps the ring; every later operation
// fails with an error wrapping [ErrClosed].
type UserRingBuf[E any] struct {
	r     *userRing
	shape eventShape
}

// UserRingBufTail is [UserRingBuf] for an event type that ends in a
// flexible array member, bound by [BindUserRingBufTail]: records may be
// longer than E (see [UserRingBuf.WriteTail]). It is the same type as
// UserRingBuf; the separate name lets generated code say which bind to
// call.
type UserRingBufTail[E any] = UserRingBuf[E]

// BindUserRingBuf returns the producer handle of the user ring buffer
// called name, whose records are one E each. It checks that the map exists,
// is a BPF_MAP_TYPE_USER_RINGBUF and that E is plain data, and maps the
// ring. On failure it returns nil and records the reason in b.
func BindUserRingBuf[E any](b *Binder, name string) *UserRingBuf[E] {
	return bindUserRingBuf[E](b, name, -1)
}

// BindUserRingBufTail is [BindUserRingBuf] for an event type E that ends in
// a flexible (or zero-length) array member starting at byte tailOffset of
// E: a record holds at least tailOffset bytes and may be longer than E.
func BindUserRingBufTail[E any](b *Binder, name string, tailOffset int) *UserRingBufTail[E] {
	if b != nil && tailOffset < 0 {
		b.fail("map %q: flexible array offset %d is negative", name, tailOffset)
		return nil
	}
	return bindUserRingBuf[E](b, name, tailOffset)
}

func bindUserRingBuf[E any](b *Binder, name string, tailOff int) *UserRingBuf[E] {
	if b == nil {
		return nil
	}
	m, shape, ok := bindEvents[E](b, name, ebpf.UserRingbuf, tailOff)
	if !ok {
		return nil
	}
	if shape.align > ringHeaderSize {
		b.fail("map %q: event type %s is %d-byte aligned; ring buffer records are 8-byte aligned", name, shape.typ, shape.align)
		return nil
	}
	r, err := newUserRing(b.c, name, m)
	if err != nil {
		b.fail("%w", err)
		return nil
	}
	return &UserRingBuf[E]{r: r, shape: shape}
}

// userRing is the producer state of one mapped user ring buffer, the part
// of a UserRingBuf that does not depend on E. The Collection holds it (to
// close it), and so does every UserRecord (to keep the memory mapped).
type userRing struct {
	name  string
	m     *ebpf.Map
	owner *Collection

	// The mapping, valid until Close replaces it with private memory
	// (detach), and unmapped by a cleanup once the userRing is
	// unreachable.
	cons *uint64        // consumer position: read-only, advanced by the kernel
	prod *uint64        // producer position: written only here
	data unsafe.Pointer // the data area, mapped twice in a row
	mask uint64         // data size - 1 (the size is a power of 2)
	maps [2]mapping     // the consumer page; the producer page and data

	// mu makes this the ring's single producer: it is held while a record
	// is claimed and published (by Write and WriteBatch also while they
	// copy the records in), and by Close while it detaches the memory.
	mu     sync.Mutex
	closed atomic.Bool

	// Blocking writes wait with epoll for the kernel's wakeup on the map
	// (EPOLLOUT after a drain) or for the waiter's eventfd, which Close and
	// context cancellation write. One goroutine waits at a time, holding
	// waitMu, which also guards creating and closing the descriptors
	// (made on the first wait). wakeMu guards wakeFD, so that a wakeup
	// never writes to a descriptor number Close has freed.
	waitMu sync.Mutex
	waiter *ringWaiter
	wakeMu sync.Mutex
	wakeFD int // the waiter's eventfd, -1 without one

	errFull, errClosed error // preallocated: a failed write does not allocate
}

// newUserRing maps the user ring buffer m and registers it with owner,
// which closes it on Collection.Close.
func newUserRing(owner *Collection, name string, m *ebpf.Map) (*userRing, error) {
	if owner == nil {
		return nil, fmt.Errorf("map %q: mmap: not bound to a Collection", name)
	}
	size := uint64(m.MaxEntries())
	if size == 0 || size&(size-1) != 0 {
		return nil, fmt.Errorf("map %q: ring buffer size %d is not a power of 2", name, size)
	}
	// Hold the collection's lock across the mmap: Collection.Close cannot
	// close the map's file descriptor while it is being mapped.
	owner.mu.Lock()
	defer owner.mu.Unlock()
	if owner.closed {
		return nil, fmt.Errorf("map %q: mmap: collection %w", name, ErrClosed)
	}
	for v := range owner.views {
		if r, ok := v.(*userRing); ok && r.name == name {
			return nil, fmt.Errorf("map %q: already has a producer (a UserRingBuf bound earlier from this Collection); a user ring buffer has one producer, share that handle", name)
		}
	}
	fd := m.FD()
	if fd < 0 {
		return nil, fmt.Errorf("map %q: mmap: map is closed", name)
	}
	maps, err := mmapUserRing(fd, uintptr(size))
	if err != nil {
		return nil, fmt.Errorf("map %q: mmap user ring buffer of %d bytes: %w", name, size, err)
	}
	r := &userRing{
		name:  name,
		m:     m,
		owner: owner,
		cons:  (*uint64)(maps[0].addr),
		prod:  (*uint64)(maps[1].addr),
		data:  unsafe.Add(maps[1].addr, os.Getpagesize()),
		mask:  size - 1,
		maps:  maps,
	}
	r.wakeFD = -1
	r.errFull = fmt.Errorf("map %q: write: %w", name, ErrFull)
	r.errClosed = fmt.Errorf("map %q: user ring buffer %w", name, ErrClosed)
	// The ranges are unmapped only when nothing reaches the userRing: a
	// UserRecord written after Close writes detached private memory.
	runtime.AddCleanup(r, func(ms [2]mapping) {
		for _, mp := range ms {
			err := munmap(mp.addr, mp.size)
			if hook := testHookUnmapped.Load(); hook != nil {
				(*hook)(mp.addr, err)
			}
		}
	}, maps)
	owner.registerLocked(r)
	return r, nil
}

// Map returns the underlying cilium/ebpf map, the escape hatch for what
// this package does not wrap. It is closed by [Collection.Close].
func (u *UserRingBuf[E]) Map() *ebpf.Map {
	if u == nil || u.r == nil {
		return nil
	}
	return u.r.m
}

// Size returns the size of the ring's data area in bytes (the map's
// max_entries). A record takes its length plus an 8-byte header, rounded up
// to 8 bytes.
func (u *UserRingBuf[E]) Size() int {
	if u == nil || u.r == nil {
		return 0
	}
	return int(u.r.mask + 1)
}

// Available returns how many bytes of the ring are free now, headers
// included: a record of n bytes fits when (n+8) rounded up to 8 is at most
// Available. It is 0 once the ring is closed.
func (u *UserRingBuf[E]) Available() int {
	if u == nil || u.r == nil {
		return 0
	}
	return u.r.available()
}

// Close makes the handle unusable and unmaps the ring from the map: a
// blocked WriteContext or ReserveContext returns an error wrapping
// [ErrClosed], and so does every later operation. Records reserved and not
// yet submitted are discarded, so that they do not stop the BPF side's
// drain for good. Writes into a UserRecord that Close overtook land in
// private memory: they never fault, and are lost. Close is idempotent, and
// safe on a nil handle; [Collection.Close] closes the ring too.
func (u *UserRingBuf[E]) Close() error {
	if u == nil {
		return nil
	}
	return u.r.Close()
}

func (r *userRing) available() int {
	if r.closed.Load() {
		return 0
	}
	// Racing with Close, this reads detached memory: no fault.
	used := atomic.LoadUint64(r.prod) - atomic.LoadUint64(r.cons)
	runtime.KeepAlive(r)
	if used > r.mask+1 {
		return 0
	}
	return int(r.mask + 1 - used)
}

// recordSpace is the room a record of n bytes takes in the ring.
func recordSpace(n int) uint64 {
	return (uint64(n) + ringHeaderSize + 7) &^ 7
}

// checkLen returns why a record of n bytes can never be written.
func (r *userRing) checkLen(n int) error {
	switch {
	case n > userRecordMax:
		return fmt.Errorf("map %q: record of %d bytes is longer than the %d bytes a BPF program can drain (a bpf_dynptr's limit): %w", r.name, n, userRecordMax, ErrRecordSize)
	case recordSpace(n) > r.mask+1:
		return fmt.Errorf("map %q: record of %d bytes takes %d bytes with its header, more than the ring's %d bytes: %w", r.name, n, recordSpace(n), r.mask+1, ErrRecordSize)
	}
	return nil
}

// claim finds room for a record of n bytes (checked by checkLen) at the
// producer position and returns the address of its header and the position
// after it; nothing is published until publish. The caller holds mu.
func (r *userRing) claim(n int) (unsafe.Pointer, uint64, error) {
	if r.closed.Load() {
		return nil, 0, r.errClosed
	}
	need := recordSpace(n)
	// Acquire the kernel's consumer position: the space before it is free.
	cons := atomic.LoadUint64(r.cons)
	prod := atomic.LoadUint64(r.prod)
	if r.mask+1-(prod-cons) < need {
		return nil, 0, r.errFull
	}
	return unsafe.Add(r.data, prod&r.mask), prod + need, nil
}

// publish writes the header of the record claimed at hdr, n bytes long
// with the flags given (ringBusyBit for a record still to be filled in),
// and moves the producer position to next: the kernel sees the record.
// sync/atomic's store is sequentially consistent, so the header and
// whatever the caller wrote into the record are visible before the new
// position (libbpf uses a release store). The caller holds mu.
func (r *userRing) publish(hdr unsafe.Pointer, n int, flags uint32, next uint64) {
	*(*uint32)(hdr) = uint32(n) | flags
	*(*uint32)(unsafe.Add(hdr, 4)) = 0
	atomic.StoreUint64(r.prod, next)
}

// reserve claims and publishes a busy record of n bytes and returns the
// address of its data; the kernel stops at it until commit. The caller
// holds mu.
func (r *userRing) reserve(n int) (unsafe.Pointer, error) {
	hdr, next, err := r.claim(n)
	if err != nil {
		return nil, err
	}
	r.publish(hdr, n, ringBusyBit, next)
	return unsafe.Add(hdr, ringHeaderSize), nil
}

// commit ends the record whose data starts at p and is n bytes long:
// clears its busy bit, setting the discard bit when discard is true. The
// kernel reads the length with an acquire load, so the record's contents
// are visible before it.
func commit(p unsafe.Pointer, n int, discard bool) bool {
	hdr := (*uint32)(unsafe.Add(p, -ringHeaderSize))
	v := uint32(n)
	if discard {
		v |= ringDiscardBit
	}
	return atomic.CompareAndSwapUint32(hdr, uint32(n)|ringBusyBit, v)
}

// wait blocks until the kernel may have freed space in the ring, the ring
// is closed, ctx is done or deadline (when not zero) passes. It returns
// errClosed after Close; otherwise the caller checks ctx and retries. The
// caller holds waitMu.
func (r *userRing) wait(ctx context.Context, deadline time.Time) error {
	if r.waiter == nil {
		w, err := newRingWaiter(r.m.FD(), userRingEvents)
		if err != nil {
			return fmt.Errorf("map %q: wait for space: %w", r.name, err)
		}
		r.waiter = w
		r.wakeMu.Lock()
		r.wakeFD = w.eventFD()
		r.wakeMu.Unlock()
	}
	// Once wakeFD is set, Close and a cancellation either find it and
	// wake this wait, or came earlier and are seen here.
	if r.closed.Load() {
		return r.errClosed
	}
	if ctx.Err() != nil {
		return nil
	}
	if _, err := r.waiter.wait(deadline); err != nil {
		return fmt.Errorf("map %q: wait for space: %w", r.name, err)
	}
	return nil
}

// wake interrupts a wait in progress, or makes the next one return at once.
func (r *userRing) wake() {
	r.wakeMu.Lock()
	if r.wakeFD >= 0 {
		wakeEventFD(r.wakeFD)
	}
	r.wakeMu.Unlock()
}

// reserveWait waits for room for a record of n bytes until ctx is done.
// With a fill function it fills the record in and publishes it complete;
// without, it reserves a busy record and returns its data address.
func (r *userRing) reserveWait(ctx context.Context, n int, fill func(unsafe.Pointer)) (unsafe.Pointer, error) {
	if err := r.checkLen(n); err != nil {
		return nil, err
	}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, r.wake)
		defer stop()
	}
	deadline, _ := ctx.Deadline()
	// Holding waitMu from the reserve attempt through the wait means no
	// wakeup between the two is lost: only this goroutine consumes them.
	r.waitMu.Lock()
	defer r.waitMu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("map %q: write: %w", r.name, err)
		}
		r.mu.Lock()
		var p unsafe.Pointer
		hdr, next, err := r.claim(n)
		if err == nil {
			if fill != nil {
				// Filled before it is published, as by Write.
				fill(unsafe.Add(hdr, ringHeaderSize))
				r.publish(hdr, n, 0, next)
			} else {
				r.publish(hdr, n, ringBusyBit, next)
				p = unsafe.Add(hdr, ringHeaderSize)
			}
		}
		r.mu.Unlock()
		if err != r.errFull {
			return p, err
		}
		if err := r.wait(ctx, deadline); err != nil {
			return nil, err
		}
	}
}

// Close is [UserRingBuf.Close]; the Collection calls it.
func (r *userRing) Close() error {
	if r == nil || !r.closed.CompareAndSwap(false, true) {
		return nil
	}
	r.wake()
	r.waitMu.Lock()
	var errs []error
	if r.waiter != nil {
		r.wakeMu.Lock()
		r.wakeFD = -1
		errs = append(errs, r.waiter.close())
		r.wakeMu.Unlock()
		r.waiter = nil
	}
	r.waitMu.Unlock()

	r.mu.Lock()
	r.discardReserved()
	// The consumer page is mapped read-only, the rest read-write.
	errs = append(errs, detach(r.maps[0].addr, r.maps[0].size, protRead))
	errs = append(errs, detach(r.maps[1].addr, r.maps[1].size, protReadWrite))
	r.mu.Unlock()
	if r.owner != nil {
		r.owner.unregister(r)
	}
	runtime.KeepAlive(r)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("map %q: close user ring buffer: %w", r.name, err)
	}
	return nil
}

// discardReserved marks every record still busy as discarded. The caller
// holds mu, so no record is being reserved; the kernel may be consuming
// records before them meanwhile, which moves nothing this walks over.
func (r *userRing) discardReserved() {
	prod := atomic.LoadUint64(r.prod)
	for pos := atomic.LoadUint64(r.cons); pos < prod; {
		hdr := (*uint32)(unsafe.Add(r.data, pos&r.mask))
		v := atomic.LoadUint32(hdr)
		n := v &^ (ringBusyBit | ringDiscardBit)
		if v&ringBusyBit != 0 {
			atomic.CompareAndSwapUint32(hdr, v, n|ringDiscardBit)
		}
		pos += recordSpace(int(n))
	}
}

// UserRecord is a record reserved in a user ring buffer: fill it in through
// Event, Bytes or Tail, then call Submit (the BPF side sees it) or Discard
// (the BPF side skips it), exactly once. Until then the BPF side's drain
// stops at this record, so submit promptly. The pointer and slices it
// returns are ring memory, valid until Submit or Discard.
type UserRecord[E any] struct {
	u *UserRingBuf[E]
	p unsafe.Pointer // the record's data, after its header
	n int
}

// Len returns the record's length in bytes.
func (rec UserRecord[E]) Len() int { return rec.n }

// Event returns the record as an E, in place. It is nil for the zero
// UserRecord. A record shorter than E (one that ends inside E's flexible
// array) still has room for all of E: records are 8-byte aligned.
func (rec UserRecord[E]) Event() *E {
	if rec.p == nil {
		return nil
	}
	return (*E)(rec.p)
}

// Bytes returns the record's bytes, in place.
func (rec UserRecord[E]) Bytes() []byte {
	if rec.p == nil {
		return nil
	}
	return unsafe.Slice((*byte)(rec.p), rec.n)
}

// Tail returns the record's bytes from the start of E's flexible array
// member, in place; nil when E has none.
func (rec UserRecord[E]) Tail() []byte {
	if rec.p == nil || !rec.u.shape.tail {
		return nil
	}
	return rec.Bytes()[rec.u.shape.tailOff:]
}

// Submit hands the record to the BPF side. It fails with an error wrapping
// [ErrClosed] when the ring was closed first (the record is lost), and
// with an error when the record was already submitted or discarded.
func (rec UserRecord[E]) Submit() error { return rec.end(false) }

// Discard releases the record unread: the BPF side's drain skips it.
func (rec UserRecord[E]) Discard() error { return rec.end(true) }

func (rec UserRecord[E]) end(discard bool) error {
	if rec.p == nil {
		return errors.New("bpfskel: Submit or Discard of a zero UserRecord")
	}
	r := rec.u.r
	if r.closed.Load() {
		return r.errClosed
	}
	// Close may detach the memory now: then this writes private memory.
	ok := commit(rec.p, rec.n, discard)
	runtime.KeepAlive(r)
	if !ok {
		if r.closed.Load() {
			return r.errClosed
		}
		return fmt.Errorf("map %q: record of %d bytes was already submitted or discarded", r.name, rec.n)
	}
	return nil
}

// Reserve reserves a record of size bytes, to be filled in and then
// submitted or discarded. size must fit E: sizeof(E), or for an E with a
// flexible array at least the bytes before the array; any size for a
// [RawEvent] ring. It fails with an error wrapping [ErrRecordSize] when
// size does not fit E or can never fit the ring, [ErrFull] when the ring
// has no room now, and [ErrClosed] after Close.
func (u *UserRingBuf[E]) Reserve(size int) (UserRecord[E], error) {
	if err := u.checkWrite(size); err != nil {
		return UserRecord[E]{}, err
	}
	u.r.mu.Lock()
	p, err := u.r.reserve(size)
	u.r.mu.Unlock()
	if err != nil {
		return UserRecord[E]{}, err
	}
	return UserRecord[E]{u: u, p: p, n: size}, nil
}

// ReserveEvent reserves a record of sizeof(E) bytes; see Reserve.
func (u *UserRingBuf[E]) ReserveEvent() (UserRecord[E], error) {
	if u == nil || u.r == nil {
		return UserRecord[E]{}, errNilMap
	}
	return u.Reserve(u.shape.size)
}

// ReserveContext is Reserve that waits for room while the ring is full,
// until ctx is done (an error wrapping ctx.Err()) or the ring is closed.
// A cancellable ctx costs an allocation per call (context.AfterFunc).
func (u *UserRingBuf[E]) ReserveContext(ctx context.Context, size int) (UserRecord[E], error) {
	if err := u.checkWrite(size); err != nil {
		return UserRecord[E]{}, err
	}
	p, err := u.r.reserveWait(ctx, size, nil)
	if err != nil {
		return UserRecord[E]{}, err
	}
	return UserRecord[E]{u: u, p: p, n: size}, nil
}

// checkWrite returns why a record of size bytes cannot be written.
func (u *UserRingBuf[E]) checkWrite(size int) error {
	if u == nil || u.r == nil {
		return errNilMap
	}
	if size < 0 {
		return fmt.Errorf("map %q: record size %d is negative: %w", u.r.name, size, ErrRecordSize)
	}
	if err := u.shape.fit(size); err != nil {
		return err
	}
	return u.r.checkLen(size)
}

// Write copies *e into the ring as one record of sizeof(E) bytes and
// submits it, without allocating. It fails with an error wrapping
// [ErrFull] when the ring has no room now (nothing is written), and
// [ErrClosed] after Close.
func (u *UserRingBuf[E]) Write(e *E) error {
	if e == nil {
		return errors.New("bpfskel: Write with a nil pointer")
	}
	if u == nil || u.r == nil {
		return errNilMap
	}
	n := u.shape.size
	if err := u.r.checkLen(n); err != nil {
		return err
	}
	u.r.mu.Lock()
	hdr, next, err := u.r.claim(n)
	if err == nil {
		// The record is complete before it is published: no busy bit to
		// clear, one atomic store. A typed copy, which the compiler
		// unrolls for E's size; the data is 8-byte aligned, which bind
		// checked is enough for E.
		*(*E)(unsafe.Add(hdr, ringHeaderSize)) = *e
		u.r.publish(hdr, n, 0, next)
	}
	u.r.mu.Unlock()
	return err
}

// WriteBatch writes the events of es as one record each, in order, as
// many as the ring has room for, and returns how many it wrote: all of
// them, or fewer with an error wrapping [ErrFull]. The records are
// published together, under one lock and one atomic store, so a batch
// costs less per record than Write; it does not allocate.
func (u *UserRingBuf[E]) WriteBatch(es []E) (int, error) {
	if u == nil || u.r == nil {
		return 0, errNilMap
	}
	n := u.shape.size
	if err := u.r.checkLen(n); err != nil {
		return 0, err
	}
	need := recordSpace(n)
	u.r.mu.Lock()
	defer u.r.mu.Unlock()
	if u.r.closed.Load() {
		return 0, u.r.errClosed
	}
	cons := atomic.LoadUint64(u.r.cons)
	prod := atomic.LoadUint64(u.r.prod)
	fit := min(uint64(len(es)), (u.r.mask+1-(prod-cons))/need)
	pos := prod
	for i := range fit {
		hdr := unsafe.Add(u.r.data, pos&u.r.mask)
		*(*E)(unsafe.Add(hdr, ringHeaderSize)) = es[i]
		*(*uint32)(hdr) = uint32(n)
		*(*uint32)(unsafe.Add(hdr, 4)) = 0
		pos += need
	}
	if fit > 0 {
		atomic.StoreUint64(u.r.prod, pos)
	}
	if int(fit) < len(es) {
		return int(fit), u.r.errFull
	}
	return len(es), nil
}

// WriteContext is Write that waits for room while the ring is full, until
// ctx is done (an error wrapping ctx.Err()) or the ring is closed. A
// cancellable ctx costs an allocation per call (context.AfterFunc); with
// context.Background it waits as long as it takes.
func (u *UserRingBuf[E]) WriteContext(ctx context.Context, e *E) error {
	if e == nil {
		return errors.New("bpfskel: WriteContext with a nil pointer")
	}
	if u == nil || u.r == nil {
		return errNilMap
	}
	n := u.shape.size
	_, err := u.r.reserveWait(ctx, n, func(p unsafe.Pointer) { *(*E)(p) = *e })
	return err
}

// WriteTail writes one record made of the bytes of *e before its flexible
// array member, followed by tail: the array's contents. For an E without
// one, tail must be empty. Errors are Write's, and [ErrRecordSize] for a
// tail E cannot have.
func (u *UserRingBuf[E]) WriteTail(e *E, tail []byte) error {
	if e == nil {
		return errors.New("bpfskel: WriteTail with a nil pointer")
	}
	if u == nil || u.r == nil {
		return errNilMap
	}
	head := u.shape.size
	if u.shape.tail {
		head = u.shape.tailOff
	}
	return u.writeParts(unsafe.Slice((*byte)(unsafe.Pointer(e)), head), tail)
}

// WriteBytes writes b as one record and submits it, without allocating.
// len(b) must fit E as for Reserve. Errors are Write's.
func (u *UserRingBuf[E]) WriteBytes(b []byte) error {
	return u.writeParts(b, nil)
}

// writeParts writes one record made of head followed by tail.
func (u *UserRingBuf[E]) writeParts(head, tail []byte) error {
	n := len(head) + len(tail)
	if err := u.checkWrite(n); err != nil {
		return err
	}
	u.r.mu.Lock()
	hdr, next, err := u.r.claim(n)
	if err == nil {
		dst := unsafe.Slice((*byte)(unsafe.Add(hdr, ringHeaderSize)), n)
		copy(dst[copy(dst, head):], tail)
		u.r.publish(hdr, n, 0, next)
	}
	u.r.mu.Unlock()
	return err
}
