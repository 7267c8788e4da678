//go:build linux

package bpfskel

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// Go mirrors of the types in testdata/events.bpf.c.
type (
	testEvent struct {
		Seq     uint64
		Pid     uint32
		Kind    uint8
		_       [1]byte
		CPUHint uint16
		Ts      uint64
		Comm    [8]byte
		TailLen uint32
		_       [4]byte
	}
	testSample struct {
		Seq   uint64
		Len   uint32
		Flags uint32
	}
	benchEvent struct {
		Seq   uint64
		Words [7]uint64
	}
)

const eventsObject = "testdata/events.bpf.o"

// eventsColl loads testdata/events.bpf.o and closes it when tb ends.
func eventsColl(tb testing.TB) *Collection {
	tb.Helper()
	c := loadObject(tb, eventsObject, nil)
	return c
}

// setVar sets a global variable of events.bpf.c.
func setVar(tb testing.TB, c *Collection, name string, v any) {
	tb.Helper()
	if err := c.Collection().Variables[name].Set(v); err != nil {
		tb.Fatalf("set %s: %v", name, err)
	}
}

func getU64(tb testing.TB, c *Collection, name string) uint64 {
	tb.Helper()
	var v uint64
	if err := c.Collection().Variables[name].Get(&v); err != nil {
		tb.Fatalf("get %s: %v", name, err)
	}
	return v
}

// emit runs program prog of events.bpf.c once, emitting n records whose
// seq starts at base.
func emit(tb testing.TB, c *Collection, prog string, n uint32, base uint64) {
	tb.Helper()
	setVar(tb, c, "emit_count", n)
	setVar(tb, c, "emit_base", base)
	b := NewBinder(c)
	p := BindProgram(b, prog)
	mustBind(tb, b)
	if _, err := p.TestRun(nil); err != nil {
		tb.Fatal(err)
	}
}

// checkEvent checks that e is record i of a run that started at base.
func checkEvent(t *testing.T, e testEvent, base uint64, i uint32) {
	t.Helper()
	seq := base + uint64(i)
	want := testEvent{Seq: seq, Pid: 1000 + i, Kind: 1, CPUHint: e.CPUHint, Ts: 0x0102030405060708, Comm: [8]byte{'e', 'v', 't', 'e', 's', 't'}}
	if i&1 == 1 {
		want.Kind = 2
	}
	if e != want {
		t.Errorf("event %d = %+v, want %+v", seq, e, want)
	}
}

func TestRingBufRead(t *testing.T) {
	c := eventsColl(t)
	b := NewBinder(c)
	ring := BindRingBuf[testEvent](b, "events")
	mustBind(t, b)
	rd, err := ring.NewReader()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()

	emit(t, c, "ring_reserve", 3, 0)
	var e testEvent
	for i := range uint32(2) {
		if err := rd.ReadInto(&e); err != nil {
			t.Fatal(err)
		}
		checkEvent(t, e, 0, i)
	}
	e, err = rd.Read()
	if err != nil {
		t.Fatal(err)
	}
	checkEvent(t, e, 0, 2)
	if rd.Tail() != nil {
		t.Errorf("Tail() = %x for an event type without a flexible array", rd.Tail())
	}

	// bpf_ringbuf_output copies from the stack: the same bytes.
	emit(t, c, "ring_output", 1, 10)
	if err := rd.ReadInto(&e); err != nil {
		t.Fatal(err)
	}
	checkEvent(t, e, 10, 0)

	// Nothing left: a deadline in the past makes the read return at once.
	rd.SetDeadline(time.Now().Add(-time.Second))
	if err := rd.ReadInto(&e); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read of an empty ring after the deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	// A deadline in the future: waits, then fails.
	start := time.Now()
	rd.SetDeadline(start.Add(50 * time.Millisecond))
	if err := rd.ReadInto(&e); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read of an empty ring: %v, want os.ErrDeadlineExceeded", err)
	}
	if waited := time.Since(start); waited < 40*time.Millisecond {
		t.Errorf("read returned after %v, before its deadline", waited)
	}
	// Removing the deadline: records still arrive.
	rd.SetDeadline(time.Time{})
	emit(t, c, "ring_reserve", 1, 20)
	if err := rd.ReadInto(&e); err != nil {
		t.Fatal(err)
	}
	checkEvent(t, e, 20, 0)
	if n := rd.BufferSize(); n != 256*1024 {
		t.Errorf("BufferSize() = %d, want 262144", n)
	}
}

// TestRingBufInPlace: the ring buffer reader hands records out of the
// ring's mapping. Raw copies the last record out on demand; closing the
// reader consumes what it read and leaves the rest for the next reader,
// also when the reader runs far enough ahead to give space back in chunks.
func TestRingBufInPlace(t *testing.T) {
	c := eventsColl(t)
	b := NewBinder(c)
	ring := BindRingBuf[testEvent](b, "events")
	mustBind(t, b)
	rd := nonBlocking(t, ring)
	emit(t, c, "ring_reserve", 3, 0)
	var e testEvent
	if err := rd.ReadInto(&e); err != nil {
		t.Fatal(err)
	}
	checkEvent(t, e, 0, 0)
	raw := rd.Raw()
	if got := *(*testEvent)(unsafe.Pointer(&raw[0])); len(raw) != int(unsafe.Sizeof(e)) || got != e {
		t.Errorf("Raw() = %x, want the %d bytes of %+v", raw, unsafe.Sizeof(e), e)
	}
	if err := rd.ReadInto(&e); err != nil {
		t.Fatal(err)
	}
	checkEvent(t, e, 0, 1)
	if err := rd.Close(); err != nil {
		t.Fatal(err)
	}
	if raw := rd.Raw(); raw != nil {
		t.Errorf("Raw() after Close = %x for a record never copied out, want nil", raw)
	}
	next := nonBlocking(t, ring)
	if err := next.ReadInto(&e); err != nil {
		t.Fatalf("the record the closed reader left: %v", err)
	}
	checkEvent(t, e, 0, 2)
	if err := next.ReadInto(&e); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read of an emptied ring: %v, want os.ErrDeadlineExceeded", err)
	}
	// More than the ring holds at once, read while it is written: space
	// the reader gave back is reused; nothing is lost or read twice. A
	// record takes 48 bytes with its header: 4 rounds of 2000 pass 1.5
	// times the ring's 256 KiB through it.
	next.SetDeadline(time.Now().Add(10 * time.Second))
	for round := range uint64(4) {
		emit(t, c, "ring_reserve", 2000, round*2000)
		for i := range uint32(2000) {
			if err := next.ReadInto(&e); err != nil {
				t.Fatal(err)
			}
			checkEvent(t, e, round*2000, i)
		}
	}
	if d := getU64(t, c, "dropped"); d != 0 {
		t.Errorf("%d records dropped", d)
	}
}

// nonBlocking opens a reader on ring that returns at once when the ring is
// empty, and closes it when t ends (the test may close it before).
func nonBlocking[E any](t *testing.T, ring *RingBuf[E]) *RingBufReader[E] {
	t.Helper()
	rd, err := ring.NewReader()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close() })
	rd.SetDeadline(time.Now().Add(-time.Second))
	return rd
}

func TestRingBufRecordSize(t *testing.T) {
	c := eventsColl(t)
	b := NewBinder(c)
	ring := BindRingBuf[testEvent](b, "events")
	small := BindRingBuf[testSample](b, "events")
	tail := BindRingBufTail[testSample](b, "events", 16)
	padTail := BindRingBufTail[testSample](b, "events", 12)
	raw := BindRingBuf[RawEvent](b, "events")
	mustBind(t, b)

	rd := nonBlocking(t, ring)

	// A record shorter than the event type: an error naming both sizes;
	// the record is consumed, its bytes are still there.
	setVar(t, c, "emit_len", uint32(20))
	emit(t, c, "ring_output", 1, 0)
	setVar(t, c, "emit_len", uint32(0))
	var e testEvent
	err := rd.ReadInto(&e)
	if !errors.Is(err, ErrRecordSize) {
		t.Fatalf("short record: %v, want ErrRecordSize", err)
	}
	want := `map "events": record of 20 bytes is shorter than event type bpfskel.testEvent (40 bytes)`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("short record: %q, want it to say %q", err, want)
	}
	if len(rd.Raw()) != 20 {
		t.Errorf("Raw() after a short record has %d bytes, want 20", len(rd.Raw()))
	}
	if err := rd.ReadInto(&e); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read after the short record: %v, want the ring empty", err)
	}
	rd.Close()

	// A record longer than an event type without a flexible array.
	srd := nonBlocking(t, small)
	emit(t, c, "ring_reserve", 1, 0)
	var s testSample
	err = srd.ReadInto(&s)
	want = `map "events": record of 40 bytes is longer than event type bpfskel.testSample (16 bytes), which does not end in a flexible array member`
	if !errors.Is(err, ErrRecordSize) || !strings.Contains(err.Error(), want) {
		t.Errorf("long record: %v, want %q", err, want)
	}
	srd.Close()

	// With a flexible array: the rest is the tail.
	trd := nonBlocking(t, tail)
	for _, n := range []uint32{5, 0, 63} {
		setVar(t, c, "sample_len", n)
		emit(t, c, "ring_sample", 1, uint64(n))
		if err := trd.ReadInto(&s); err != nil {
			t.Fatalf("sample with %d bytes: %v", n, err)
		}
		if s != (testSample{Seq: uint64(n), Len: n, Flags: 0x5a}) {
			t.Errorf("sample header = %+v", s)
		}
		wantTail := make([]byte, n)
		for j := range wantTail {
			wantTail[j] = byte(j + 1)
		}
		if !bytes.Equal(trd.Tail(), wantTail) {
			t.Errorf("Tail() = %x, want %x", trd.Tail(), wantTail)
		}
	}
	// The tail reader still refuses records shorter than the header.
	setVar(t, c, "emit_len", uint32(12))
	emit(t, c, "ring_output", 1, 0)
	setVar(t, c, "emit_len", uint32(0))
	if err := trd.ReadInto(&s); !errors.Is(err, ErrRecordSize) {
		t.Errorf("12-byte record for a 16-byte header: %v, want ErrRecordSize", err)
	}
	trd.Close()

	// A flexible array in the tail padding (offset 12 of 16 bytes): a
	// record may end inside E; what it lacks reads as zero.
	prd := nonBlocking(t, padTail)
	setVar(t, c, "emit_len", uint32(14))
	emit(t, c, "ring_output", 1, 0x99)
	setVar(t, c, "emit_len", uint32(0))
	s = testSample{Flags: 0xffffffff}
	if err := prd.ReadInto(&s); err != nil {
		t.Fatal(err)
	}
	// struct event's first 14 bytes: seq, pid (1000), kind 1, a padding byte.
	if want := (testSample{Seq: 0x99, Len: 1000, Flags: 1}); s != want {
		t.Errorf("14-byte record into a 16-byte header = %+v, want %+v", s, want)
	}
	if got := prd.Tail(); !bytes.Equal(got, []byte{1, 0}) {
		t.Errorf("Tail() from offset 12 = %x, want 0100", got)
	}
	prd.Close()

	// RawEvent: every record, whatever its size, through ReadRaw.
	rrd := nonBlocking(t, raw)
	setVar(t, c, "sample_len", uint32(3))
	emit(t, c, "ring_sample", 1, 0)
	emit(t, c, "ring_reserve", 1, 0)
	for _, n := range []int{19, 40} {
		got, err := rrd.ReadRaw()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Errorf("ReadRaw returned %d bytes, want %d", len(got), n)
		}
	}
}

// eventReaders are a reader on each event map of events.bpf.c, decoding
// testEvent, and the handles they came from.
type eventReaders struct {
	ring *RingBuf[testEvent]
	rrd  *RingBufReader[testEvent]
	perf *PerfEventArray[testEvent]
	prd  *PerfReader[testEvent]
}

// openReaders opens a reader on events and one on perf_events; the
// collection's Close closes them.
func openReaders(t *testing.T, c *Collection) eventReaders {
	t.Helper()
	b := NewBinder(c)
	r := eventReaders{
		ring: BindRingBuf[testEvent](b, "events"),
		perf: BindPerfEventArray[testEvent](b, "perf_events"),
	}
	mustBind(t, b)
	var err error
	if r.rrd, err = r.ring.NewReader(); err != nil {
		t.Fatal(err)
	}
	if r.prd, err = r.perf.NewReader(nil); err != nil {
		t.Fatal(err)
	}
	return r
}

// startRead reads rd in a new goroutine; the read's error arrives on the
// channel.
func startRead(rd interface{ ReadInto(*testEvent) error }) <-chan error {
	done := make(chan error, 1)
	go func() {
		var e testEvent
		done <- rd.ReadInto(&e)
	}()
	return done
}

// wantClosed checks that the read behind done returns ErrClosed promptly.
func wantClosed(t *testing.T, done <-chan error, what string) {
	t.Helper()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("blocked read after %s: %v, want ErrClosed", what, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not interrupt a blocked read", what)
	}
}

// TestReaderCloseUnblocks closes a reader while another goroutine is blocked
// reading it (run with -race too).
func TestReaderCloseUnblocks(t *testing.T) {
	r := openReaders(t, eventsColl(t))
	for _, tc := range []struct {
		name string
		rd   interface {
			ReadInto(*testEvent) error
			Close() error
		}
	}{{"ringbuf", r.rrd}, {"perf", r.prd}} {
		t.Run(tc.name, func(t *testing.T) {
			done := startRead(tc.rd)
			time.Sleep(20 * time.Millisecond) // let the read block
			if err := tc.rd.Close(); err != nil {
				t.Fatal(err)
			}
			wantClosed(t, done, "Close")
			var e testEvent
			if err := tc.rd.ReadInto(&e); !errors.Is(err, ErrClosed) {
				t.Errorf("read after Close: %v, want ErrClosed", err)
			}
			if err := tc.rd.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

// TestCollectionCloseClosesReaders: one Close releases readers too, and
// interrupts their blocked reads.
func TestCollectionCloseClosesReaders(t *testing.T) {
	c := eventsColl(t)
	r := openReaders(t, c)
	ringDone, perfDone := startRead(r.rrd), startRead(r.prd)
	time.Sleep(20 * time.Millisecond)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	wantClosed(t, ringDone, "Collection.Close")
	wantClosed(t, perfDone, "Collection.Close")
	if _, err := r.ring.NewReader(); !errors.Is(err, ErrClosed) {
		t.Errorf("NewReader after Collection.Close: %v, want ErrClosed", err)
	}
	if _, err := r.perf.NewReader(nil); !errors.Is(err, ErrClosed) {
		t.Errorf("perf NewReader after Collection.Close: %v, want ErrClosed", err)
	}
}

func TestReadContext(t *testing.T) {
	c := eventsColl(t)
	r := openReaders(t, c)
	type reader interface {
		ReadInto(*testEvent) error
		ReadContext(context.Context, *testEvent) error
	}
	for _, tc := range []struct {
		name, prog string
		rd         reader
	}{{"ringbuf", "ring_reserve", r.rrd}, {"perf", "perf_output", r.prd}} {
		t.Run(tc.name, func(t *testing.T) {
			var e testEvent
			// Cancelled while blocked.
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, cancel)
			if err := tc.rd.ReadContext(ctx, &e); !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled read: %v, want context.Canceled", err)
			}
			// Already cancelled: returns at once.
			if err := tc.rd.ReadContext(ctx, &e); !errors.Is(err, context.Canceled) {
				t.Fatalf("read with a cancelled context: %v, want context.Canceled", err)
			}
			// A context deadline.
			dctx, dcancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer dcancel()
			if err := tc.rd.ReadContext(dctx, &e); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("read past the context's deadline: %v, want context.DeadlineExceeded", err)
			}
			// Records still arrive afterwards, through both paths: the
			// wake-ups of the ended contexts do not leak into later reads.
			emit(t, c, tc.prog, 1, 30)
			if err := tc.rd.ReadContext(context.Background(), &e); err != nil {
				t.Fatal(err)
			}
			checkEvent(t, e, 30, 0)
			lctx, lcancel := context.WithCancel(context.Background())
			emit(t, c, tc.prog, 1, 31)
			if err := tc.rd.ReadContext(lctx, &e); err != nil {
				t.Fatal(err)
			}
			checkEvent(t, e, 31, 0)
			lcancel() // after the read returned: a stale wake-up
			emit(t, c, tc.prog, 1, 32)
			if err := tc.rd.ReadInto(&e); err != nil {
				t.Fatal(err)
			}
			checkEvent(t, e, 32, 0)
		})
	}
}

func TestPerfRead(t *testing.T) {
	c := eventsColl(t)
	b := NewBinder(c)
	arr := BindPerfEventArray[testEvent](b, "perf_events")
	tail := BindPerfEventArrayTail[testSample](b, "perf_events", 16)
	mustBind(t, b)
	rd, err := arr.NewReader(&PerfReaderOptions{PerCPUBuffer: 8192})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if rd.CPU() != -1 {
		t.Errorf("CPU() before a read = %d, want -1", rd.CPU())
	}
	emit(t, c, "perf_output", 3, 0)
	var e testEvent
	for i := range uint32(3) {
		if err := rd.ReadInto(&e); err != nil {
			t.Fatal(err)
		}
		checkEvent(t, e, 0, i)
		if rd.CPU() != int(e.CPUHint) {
			t.Errorf("CPU() = %d, the program ran on CPU %d", rd.CPU(), e.CPUHint)
		}
	}
	// 40 bytes of event arrive as 44: the kernel's padding is allowed.
	if n := len(rd.Raw()); n != 44 {
		t.Errorf("a 40-byte perf sample reads as %d bytes, want 44", n)
	}

	// A sample shorter than the event type by more than the padding.
	rd.SetDeadline(time.Now().Add(-time.Second))
	setVar(t, c, "emit_len", uint32(20))
	emit(t, c, "perf_output", 1, 0)
	setVar(t, c, "emit_len", uint32(0))
	err = rd.ReadInto(&e)
	want := `map "perf_events": record of 20 bytes is shorter than event type bpfskel.testEvent (40 bytes)`
	if !errors.Is(err, ErrRecordSize) || !strings.Contains(err.Error(), want) {
		t.Errorf("short sample: %v, want %q", err, want)
	}
	if err := rd.ReadInto(&e); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read of an empty perf buffer after the deadline: %v", err)
	}
	rd.Close()

	// A flexible array: the tail holds the data, then the padding.
	trd, err := tail.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer trd.Close()
	setVar(t, c, "sample_len", uint32(5))
	emit(t, c, "perf_sample", 1, 7)
	var s testSample
	if err := trd.ReadInto(&s); err != nil {
		t.Fatal(err)
	}
	if s != (testSample{Seq: 7, Len: 5, Flags: 0x5a}) {
		t.Errorf("sample header = %+v", s)
	}
	if got := trd.Tail(); len(got) < 5 || len(got) > 5+7 || !bytes.Equal(got[:5], []byte{1, 2, 3, 4, 5}) {
		t.Errorf("Tail() = %x, want 0102030405 and at most 7 bytes of padding", got)
	}
}

// TestPerfLostSamples overflows a one-page per-CPU buffer and checks that
// every sample the program could not write is counted as lost.
func TestPerfLostSamples(t *testing.T) {
	c := eventsColl(t)
	b := NewBinder(c)
	arr := BindPerfEventArray[testEvent](b, "perf_events")
	mustBind(t, b)
	rd, err := arr.NewReader(&PerfReaderOptions{PerCPUBuffer: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	rd.SetDeadline(time.Now().Add(-time.Second))

	const n = 1000 // 52 bytes each on the ring: far more than a page
	read := 0
	drain := func() {
		var e testEvent
		for {
			err := rd.ReadInto(&e)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			read++
		}
	}
	emit(t, c, "perf_output", n, 0)
	drain()
	dropped := getU64(t, c, "dropped")
	if dropped == 0 {
		t.Fatalf("no sample was dropped out of %d on a %d-byte buffer", n, rd.BufferSize())
	}
	// The kernel writes the lost-samples notification before the next
	// sample that fits.
	emit(t, c, "perf_output", 1, n)
	drain()
	if got := rd.LostSamples(); got != dropped {
		t.Errorf("LostSamples() = %d, the program saw %d outputs fail", got, dropped)
	}
	if uint64(read)+dropped != n+1 {
		t.Errorf("read %d samples and lost %d, the program emitted %d", read, dropped, n+1)
	}
}

func TestBindEventsErrors(t *testing.T) {
	c := eventsColl(t)
	b := NewBinder(c)
	for _, tc := range []struct {
		bound bool
		want  string
	}{
		{BindRingBuf[testEvent](b, "perf_events") != nil, `events.bpf.o: map "perf_events": is a PerfEventArray map, not a RingBuf`},
		{BindPerfEventArray[testEvent](b, "events") != nil, `events.bpf.o: map "events": is a RingBuf map, not a PerfEventArray`},
		{BindRingBuf[*testEvent](b, "events") != nil, `events.bpf.o: map "events": event type *bpfskel.testEvent cannot mirror BPF memory: ptr holds Go pointers`},
		{BindRingBufTail[testEvent](b, "missing", 40) != nil, `events.bpf.o: map "missing": not found in the loaded object`},
		{BindRingBufTail[testEvent](b, "events", 41) != nil, `events.bpf.o: map "events": flexible array of event type bpfskel.testEvent starts at byte 41, past its 40 bytes`},
		{BindPerfEventArrayTail[testEvent](b, "perf_events", -1) != nil, `events.bpf.o: map "perf_events": flexible array offset -1 is negative`},
	} {
		if tc.bound {
			t.Errorf("bind succeeded, want %q", tc.want)
		}
		if err := b.Err(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Err() = %v, want it to contain %q", err, tc.want)
		}
	}
	var nilRing *RingBuf[testEvent]
	if _, err := nilRing.NewReader(); err == nil {
		t.Error("NewReader on a nil RingBuf succeeded")
	}
	var nilPerf *PerfEventArray[testEvent]
	if _, err := nilPerf.NewReader(nil); err == nil {
		t.Error("NewReader on a nil PerfEventArray succeeded")
	}
	var nilReader *RingBufReader[testEvent]
	if err := nilReader.Close(); err != nil {
		t.Errorf("Close on a nil reader: %v", err)
	}
}

// TestEventReadZeroAllocs: ReadInto and Read of both readers do not
// allocate.
func TestEventReadZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	c := eventsColl(t)
	r := openReaders(t, c)
	rrd, prd := r.rrd, r.prd

	const runs = 100
	var e testEvent
	var sinkErr error
	for _, tc := range []struct {
		name, prog string
		read       func()
	}{
		{"ringbuf/ReadInto", "ring_reserve", func() { sinkErr = rrd.ReadInto(&e) }},
		{"ringbuf/Read", "ring_reserve", func() { e, sinkErr = rrd.Read() }},
		{"perf/ReadInto", "perf_output", func() { sinkErr = prd.ReadInto(&e) }},
		{"perf/Read", "perf_output", func() { e, sinkErr = prd.Read() }},
	} {
		emit(t, c, tc.prog, runs+1, 0) // AllocsPerRun runs once more to warm up
		if n := testing.AllocsPerRun(runs, tc.read); n != 0 {
			t.Errorf("%s: %v allocations per record, want 0", tc.name, n)
		}
		if sinkErr != nil {
			t.Errorf("%s: %v", tc.name, sinkErr)
		}
	}
}
