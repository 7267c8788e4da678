//go:build linux

package bpfskel

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bpfskel/bpfskel/runtime/bpfskeltest"
)

// Go mirrors of the types in testdata/userring.bpf.c.

// urec is struct urec: 24 bytes, then a flexible array of len bytes.
type urec struct {
	Seq   uint64
	Val   uint64
	Len   uint32
	Flags uint32
}

const urecTail = 24 // offsetof(struct urec, data)

// benchURec is struct bench_urec, 64 bytes.
type benchURec struct {
	Seq   uint64
	Words [7]uint64
}

// userRingBSS is the .bss of userring.bpf.o, in symbol order.
type userRingBSS struct {
	Drained      int64
	Count        uint64
	Sum          uint64
	TailSum      uint64
	LastSeq      uint64
	Bytes        uint64
	ShortRecords uint64
	BenchCount   uint64
}

const userRingObject = "testdata/userring.bpf.o"

// userRingFixture is testdata/userring.bpf.o loaded and bound.
type userRingFixture struct {
	coll  *Collection
	ring  *UserRingBufTail[urec]
	bss   *View[userRingBSS]
	drain *Program
}

// loadUserRing loads testdata/userring.bpf.o, binds its user_ring map and
// closes the collection when tb ends.
func loadUserRing(tb testing.TB) *userRingFixture {
	tb.Helper()
	c := loadObject(tb, userRingObject, nil)
	b := NewBinder(c)
	f := &userRingFixture{
		coll:  c,
		ring:  BindUserRingBufTail[urec](b, "user_ring", urecTail),
		bss:   BindSection[userRingBSS](b, ".bss"),
		drain: BindProgram(b, "drain"),
	}
	mustBind(tb, b)
	return f
}

// run drains the ring once in the kernel and returns what the program has
// accumulated so far.
func (f *userRingFixture) run(tb testing.TB) userRingBSS {
	tb.Helper()
	if _, err := f.drain.TestRun(nil); err != nil {
		tb.Fatal(err)
	}
	g, err := f.bss.Get(0)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

func TestUserRingBufWriteDrain(t *testing.T) {
	f := loadUserRing(t)
	if f.ring.Size() != 4096 || f.ring.Available() != 4096 {
		t.Fatalf("Size %d, Available %d; want 4096 and 4096", f.ring.Size(), f.ring.Available())
	}
	const n = 10
	var want uint64
	for i := range n {
		e := urec{Seq: uint64(100 + i), Val: uint64(i * i)}
		want += e.Val
		if err := f.ring.Write(&e); err != nil {
			t.Fatal(err)
		}
	}
	// A record of 24 bytes takes 32 with its header.
	if got := f.ring.Available(); got != 4096-n*32 {
		t.Errorf("Available after %d writes = %d, want %d", n, got, 4096-n*32)
	}
	g := f.run(t)
	if g.Drained != n || g.Count != n || g.Sum != want || g.LastSeq != 100+n-1 || g.ShortRecords != 0 {
		t.Errorf("after draining %d records: %+v; want drained=count=%d sum=%d last_seq=%d", n, g, n, want, 100+n-1)
	}
	if got := f.ring.Available(); got != 4096 {
		t.Errorf("Available after the drain = %d, want 4096", got)
	}
	// Nothing left: the next drain sees no record.
	if g := f.run(t); g.Drained != 0 || g.Count != n {
		t.Errorf("second drain: %+v; want drained=0 count=%d", g, n)
	}
}

func TestUserRingBufWriteBatch(t *testing.T) {
	f := loadUserRing(t)
	es := make([]urec, 200)
	var want uint64
	for i := range es {
		es[i] = urec{Seq: uint64(i), Val: uint64(i + 1)}
		if i < 4096/32 {
			want += es[i].Val
		}
	}
	// 128 records of 24 bytes (32 with the header) fill the ring.
	n, err := f.ring.WriteBatch(es)
	if n != 4096/32 || !errors.Is(err, ErrFull) {
		t.Fatalf("WriteBatch of 200 = %d, %v; want 128 and ErrFull", n, err)
	}
	if g := f.run(t); g.Count != uint64(n) || g.Sum != want || g.LastSeq != uint64(n-1) {
		t.Fatalf("after the first batch: %+v; want count %d, sum %d, last_seq %d", g, n, want, n-1)
	}
	rest, err := f.ring.WriteBatch(es[n:])
	if rest != len(es)-n || err != nil {
		t.Fatalf("WriteBatch of the rest = %d, %v", rest, err)
	}
	if g := f.run(t); g.Count != 200 || g.Sum != 200*201/2 || g.LastSeq != 199 {
		t.Errorf("after both batches: %+v; want count 200, sum %d, last_seq 199", g, 200*201/2)
	}
	if n, err := f.ring.WriteBatch(nil); n != 0 || err != nil {
		t.Errorf("empty WriteBatch = %d, %v", n, err)
	}
}

func TestUserRingBufWrap(t *testing.T) {
	// Records of 24+40 bytes take 72: 4096 is no multiple of 72, so
	// records cross the end of the data area, which the double mapping
	// makes contiguous.
	f := loadUserRing(t)
	tail := make([]byte, 40)
	var total, tailSum uint64
	for round := range 5 {
		for i := range 50 {
			for j := range tail {
				tail[j] = byte(round + i + j)
				tailSum += uint64(tail[j])
			}
			e := urec{Seq: uint64(round*1000 + i), Val: uint64(i), Len: uint32(len(tail))}
			if err := f.ring.WriteTail(&e, tail); err != nil {
				t.Fatal(err)
			}
			total++
		}
		g := f.run(t)
		if g.Count != total || g.TailSum != tailSum || g.Bytes != total*40 || g.LastSeq != uint64(round*1000+49) {
			t.Fatalf("round %d: %+v; want count %d, tail_sum %d, bytes %d", round, g, total, tailSum, total*40)
		}
	}
}

func TestUserRingBufReserve(t *testing.T) {
	f := loadUserRing(t)

	// Filled in place through Event and Tail, then submitted.
	rec, err := f.ring.Reserve(urecTail + 3)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Len() != urecTail+3 || len(rec.Bytes()) != urecTail+3 || len(rec.Tail()) != 3 {
		t.Fatalf("Len %d, Bytes %d, Tail %d; want %d, %d, 3", rec.Len(), len(rec.Bytes()), len(rec.Tail()), urecTail+3, urecTail+3)
	}
	*rec.Event() = urec{Seq: 1, Val: 7, Len: 3}
	copy(rec.Tail(), []byte{1, 2, 3})

	// A busy record stops the drain: the kernel sees nothing yet.
	if g := f.run(t); g.Count != 0 {
		t.Fatalf("a reserved record was drained before Submit: %+v", g)
	}
	if err := rec.Submit(); err != nil {
		t.Fatal(err)
	}
	if err := rec.Submit(); err == nil || !strings.Contains(err.Error(), "already submitted") {
		t.Errorf("second Submit: %v, want an error saying it was already submitted", err)
	}

	// A discarded record is skipped; the one after it is read.
	skip, err := f.ring.ReserveEvent()
	if err != nil {
		t.Fatal(err)
	}
	*skip.Event() = urec{Seq: 2, Val: 1000}
	keep, err := f.ring.ReserveEvent()
	if err != nil {
		t.Fatal(err)
	}
	*keep.Event() = urec{Seq: 3, Val: 20}
	// Submitted out of order: the drain waits for the first.
	if err := keep.Submit(); err != nil {
		t.Fatal(err)
	}
	if err := skip.Discard(); err != nil {
		t.Fatal(err)
	}
	g := f.run(t)
	if g.Count != 2 || g.Sum != 27 || g.TailSum != 6 || g.LastSeq != 3 {
		t.Errorf("after submit, discard, submit: %+v; want count 2, sum 27 (the discarded 1000 skipped), tail_sum 6, last_seq 3", g)
	}
	if err := (UserRecord[urec]{}).Submit(); err == nil {
		t.Error("Submit of a zero UserRecord succeeded")
	}
}

func TestUserRingBufErrors(t *testing.T) {
	f := loadUserRing(t)

	// Longer than the ring: never fits, and says so.
	err := f.ring.WriteBytes(make([]byte, 4096))
	if !errors.Is(err, ErrRecordSize) || errors.Is(err, ErrFull) ||
		!strings.Contains(err.Error(), `"user_ring"`) || !strings.Contains(err.Error(), "4104 bytes") || !strings.Contains(err.Error(), "4096 bytes") {
		t.Errorf("oversized record: %v; want ErrRecordSize naming the map, 4104 and 4096 bytes", err)
	}
	// Shorter than the bytes before the flexible array.
	if err := f.ring.WriteBytes(make([]byte, urecTail-1)); !errors.Is(err, ErrRecordSize) {
		t.Errorf("short record: %v; want ErrRecordSize", err)
	}
	if _, err := f.ring.Reserve(-1); !errors.Is(err, ErrRecordSize) {
		t.Errorf("Reserve(-1): %v; want ErrRecordSize", err)
	}

	// Fill the ring: 4096/32 records of 24 bytes, then ErrFull.
	e := urec{Val: 1}
	for i := range 4096 / 32 {
		if err := f.ring.Write(&e); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if f.ring.Available() != 0 {
		t.Errorf("Available of a full ring = %d", f.ring.Available())
	}
	if err := f.ring.Write(&e); !errors.Is(err, ErrFull) || !strings.Contains(err.Error(), `"user_ring"`) {
		t.Errorf("write to a full ring: %v; want ErrFull naming the map", err)
	}
	if _, err := f.ring.ReserveEvent(); !errors.Is(err, ErrFull) {
		t.Errorf("reserve in a full ring: %v; want ErrFull", err)
	}
	// A failed write costs no allocation.
	if n := testing.AllocsPerRun(100, func() { _ = f.ring.Write(&e) }); n != 0 {
		t.Errorf("a write to a full ring allocates %v times", n)
	}
	if g := f.run(t); g.Count != 4096/32 {
		t.Errorf("drained %d records, want %d", g.Count, 4096/32)
	}
	if err := f.ring.Write(&e); err != nil {
		t.Errorf("write after the drain: %v", err)
	}

	// A nil handle (a map OpenMaps was not asked for) returns errors.
	var none *UserRingBuf[urec]
	_, rerr := none.ReserveEvent()
	_, berr := none.WriteBatch([]urec{e})
	if none.Write(&e) == nil || none.WriteBytes(nil) == nil || none.WriteContext(context.Background(), &e) == nil ||
		rerr == nil || berr == nil || none.Close() != nil || none.Map() != nil || none.Available() != 0 || none.Size() != 0 {
		t.Error("a nil UserRingBuf did not fail every write, or Close, Map, Available or Size misbehaved")
	}

	// A second producer on the same map is refused.
	b := NewBinder(f.coll)
	if BindUserRingBuf[urec](b, "user_ring") != nil || b.Err() == nil || !strings.Contains(b.Err().Error(), "already has a producer") {
		t.Errorf("second bind: %v; want a refusal naming the producer", b.Err())
	}
	// Wrong map type, and a type with Go pointers.
	b = NewBinder(f.coll)
	if BindUserRingBuf[urec](b, ".bss") != nil || !strings.Contains(b.Err().Error(), "not a UserRingbuf") {
		t.Errorf("bind of .bss: %v", b.Err())
	}
	b = NewBinder(f.coll)
	if BindUserRingBuf[*urec](b, "bench_uring") != nil || b.Err() == nil {
		t.Errorf("bind with a pointer event type: %v", b.Err())
	}
}

func TestUserRingBufClose(t *testing.T) {
	f := loadUserRing(t)
	e := urec{Val: 5}
	if err := f.ring.Write(&e); err != nil {
		t.Fatal(err)
	}
	pending, err := f.ring.ReserveEvent()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.ring.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.ring.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// The record reserved before Close was discarded, so the BPF side
	// reads the one before it and is not stopped by a busy record.
	if g := f.run(t); g.Count != 1 || g.Sum != 5 || g.Drained != 1 {
		t.Errorf("drain after Close: %+v; want the one submitted record", g)
	}
	// Writing into a record Close overtook writes private memory.
	*pending.Event() = urec{Val: 99}
	for name, err := range map[string]error{
		"Write":        f.ring.Write(&e),
		"WriteBytes":   f.ring.WriteBytes(make([]byte, urecTail)),
		"WriteTail":    f.ring.WriteTail(&e, nil),
		"Submit":       pending.Submit(),
		"WriteContext": f.ring.WriteContext(context.Background(), &e),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v; want ErrClosed", name, err)
		}
	}
	if _, err := f.ring.ReserveEvent(); !errors.Is(err, ErrClosed) {
		t.Errorf("ReserveEvent after Close: %v; want ErrClosed", err)
	}
	if f.ring.Available() != 0 {
		t.Errorf("Available after Close = %d", f.ring.Available())
	}
	// Another producer may bind once this one is closed.
	b := NewBinder(f.coll)
	again := BindUserRingBuf[urec](b, "user_ring")
	mustBind(t, b)
	if err := again.Write(&e); err != nil {
		t.Error(err)
	}
}

// TestUserRingBufUnmaps checks that Close, and Collection.Close, leave no
// mapping of the map behind.
func TestUserRingBufUnmaps(t *testing.T) {
	requireKernel(t)
	count := func() int {
		r, err := bpfskeltest.CountResources()
		if err != nil {
			t.Fatal(err)
		}
		return r.BPFMappings
	}
	f := loadUserRing(t)
	// The ring is two mappings: the consumer page, and the producer page
	// with the data.
	loaded := count()
	if err := f.ring.Write(&urec{}); err != nil {
		t.Fatal(err)
	}
	if err := f.ring.Close(); err != nil {
		t.Fatal(err)
	}
	if got := loaded - count(); got != 2 {
		t.Errorf("closing the ring removed %d BPF mappings, want 2", got)
	}

	// Collection.Close unmaps a ring that was never closed.
	b := NewBinder(f.coll)
	ring := BindUserRingBuf[benchURec](b, "bench_uring")
	mustBind(t, b)
	if got := count(); got != loaded {
		t.Fatalf("%d BPF mappings after binding bench_uring, want %d", got, loaded)
	}
	if err := f.coll.Close(); err != nil {
		t.Fatal(err)
	}
	// What stays is at most cilium/ebpf's own mapping of .bss (its
	// Variables), released when garbage collected.
	if got := count(); got > loaded-3 {
		t.Errorf("%d BPF mappings after Collection.Close, want at most %d (the ring and the .bss view gone)", got, loaded-3)
	}
	if err := ring.Write(&benchURec{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Collection.Close: %v; want ErrClosed", err)
	}
}

// fillRing writes records until the ring is full and returns how many.
func fillRing(t *testing.T, r *UserRingBufTail[urec]) int {
	t.Helper()
	e := urec{Val: 1}
	for n := 0; ; n++ {
		err := r.Write(&e)
		if errors.Is(err, ErrFull) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestUserRingBufBlocking(t *testing.T) {
	f := loadUserRing(t)
	full := fillRing(t, f.ring)

	// A blocked write completes once the BPF side drains the ring.
	done := make(chan error, 1)
	go func() {
		done <- f.ring.WriteContext(context.Background(), &urec{Seq: 42, Val: 1000})
	}()
	select {
	case err := <-done:
		t.Fatalf("WriteContext into a full ring returned at once: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if g := f.run(t); g.Count != uint64(full) {
		t.Fatalf("drained %d, want %d", g.Count, full)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WriteContext still blocked 10s after the drain")
	}
	if g := f.run(t); g.Count != uint64(full)+1 || g.LastSeq != 42 {
		t.Errorf("the unblocked record was not drained: %+v", g)
	}

	// A deadline ends the wait with context.DeadlineExceeded.
	fillRing(t, f.ring)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := f.ring.WriteContext(ctx, &urec{})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) < 30*time.Millisecond {
		t.Errorf("WriteContext past its deadline: %v after %v; want DeadlineExceeded after 30ms", err, time.Since(start))
	}
	if _, err := f.ring.ReserveContext(ctx, urecTail); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ReserveContext with an expired context: %v", err)
	}

	// Cancellation ends it with context.Canceled.
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		done <- f.ring.WriteContext(ctx, &urec{})
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled WriteContext: %v; want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WriteContext still blocked 10s after its context was cancelled")
	}

	// Close ends the wait with ErrClosed.
	go func() {
		done <- f.ring.WriteContext(context.Background(), &urec{})
	}()
	time.Sleep(20 * time.Millisecond)
	if err := f.ring.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("WriteContext interrupted by Close: %v; want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WriteContext still blocked 10s after Close")
	}
}

// TestConcurrentUserRingBuf has writers, a blocking writer and the BPF
// drain race, then checks that every record written arrived once; then
// writers race with Close. It runs under -race in the test command.
func TestConcurrentUserRingBuf(t *testing.T) {
	f := loadUserRing(t)
	const writers, each = 4, 500
	var wg sync.WaitGroup
	stop := make(chan struct{})
	drained := make(chan error, 1)
	go func() {
		defer close(drained)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := f.drain.TestRun(nil); err != nil {
				drained <- err
				return
			}
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := urec{Seq: uint64(w), Val: uint64(i)}
				var err error
				switch i % 3 {
				case 0:
					err = f.ring.WriteContext(context.Background(), &e)
				case 1:
					for err = f.ring.Write(&e); errors.Is(err, ErrFull); err = f.ring.Write(&e) {
						time.Sleep(time.Millisecond)
					}
				default:
					var rec UserRecord[urec]
					for rec, err = f.ring.ReserveEvent(); errors.Is(err, ErrFull); rec, err = f.ring.ReserveEvent() {
						time.Sleep(time.Millisecond)
					}
					if err == nil {
						*rec.Event() = e
						err = rec.Submit()
					}
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
	g := f.run(t)
	if want := uint64(writers * each * (each - 1) / 2); g.Count != writers*each || g.Sum != want {
		t.Errorf("drained %d records summing %d; want %d summing %d", g.Count, g.Sum, writers*each, want)
	}

	// Writers racing with Close end with ErrClosed, never a fault.
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				err := f.ring.WriteContext(context.Background(), &urec{})
				if rec, rerr := f.ring.ReserveEvent(); rerr == nil {
					*rec.Event() = urec{Val: 1}
					_ = rec.Submit()
				}
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	if err := f.coll.Close(); err != nil {
		t.Error(err)
	}
	wg.Wait()
}

func TestUserRingBufWriteAllocs(t *testing.T) {
	f := loadUserRing(t)
	e := urec{Val: 1}
	tail := []byte{1, 2, 3}
	raw := make([]byte, urecTail+8)
	batch := make([]urec, 1)
	for name, write := range map[string]func() error{
		"Write":      func() error { return f.ring.Write(&e) },
		"WriteTail":  func() error { return f.ring.WriteTail(&e, tail) },
		"WriteBytes": func() error { return f.ring.WriteBytes(raw) },
		"WriteBatch": func() error { _, err := f.ring.WriteBatch(batch); return err },
		"Reserve+Submit": func() error {
			rec, err := f.ring.ReserveEvent()
			if err != nil {
				return err
			}
			return rec.Submit()
		},
	} {
		// 51 records of at most 40 bytes fit the empty ring.
		f.run(t)
		allocs := testing.AllocsPerRun(50, func() {
			if err := write(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s allocates %v times per record", name, allocs)
		}
	}
}
