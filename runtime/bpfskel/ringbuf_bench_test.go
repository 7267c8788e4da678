//go:build linux

package bpfskel

import (
	"testing"
	"unsafe"

	"github.com/cilium/ebpf/ringbuf"
)

// BenchmarkRingbuf measures the reading side of a ring buffer of 64-byte
// records (struct bench_event of testdata/events.bpf.c), one op per record:
//   - bpfskel: RingBufReader.ReadInto into a typed event;
//   - cilium-generic: ringbuf.Reader.Read, a new Record per call;
//   - cilium-readinto: ringbuf.Reader.ReadInto with one reused Record, and
//     the record decoded into the same event type with a copy, as a user of
//     cilium/ebpf would.
//
// The records are written by the bench_fill program under BPF_PROG_TEST_RUN,
// benchBatch at a time, with the timer stopped; allocs/op is allocations per
// record. records/s is b.N over the timed reading time.
// testdata/bench/ringbuf.c is the same measure with libbpf's
// ring_buffer__poll.
func BenchmarkRingbuf(b *testing.B) {
	b.Run("64B/bpfskel", func(b *testing.B) {
		c := eventsColl(b)
		bd := NewBinder(c)
		ring := BindRingBuf[benchEvent](bd, "bench_ring")
		mustBind(b, bd)
		rd, err := ring.NewReader()
		if err != nil {
			b.Fatal(err)
		}
		defer rd.Close()
		benchRing(b, c, func() error { return rd.ReadInto(&benchSink) })
	})
	b.Run("64B/cilium-generic", func(b *testing.B) {
		c := eventsColl(b)
		rd, err := ringbuf.NewReader(c.Collection().Maps["bench_ring"])
		if err != nil {
			b.Fatal(err)
		}
		defer rd.Close()
		benchRing(b, c, func() error {
			rec, err := rd.Read()
			if err != nil {
				return err
			}
			benchSink = *(*benchEvent)(unsafe.Pointer(&rec.RawSample[0]))
			return nil
		})
	})
	b.Run("64B/cilium-readinto", func(b *testing.B) {
		c := eventsColl(b)
		rd, err := ringbuf.NewReader(c.Collection().Maps["bench_ring"])
		if err != nil {
			b.Fatal(err)
		}
		defer rd.Close()
		var rec ringbuf.Record
		benchRing(b, c, func() error {
			if err := rd.ReadInto(&rec); err != nil {
				return err
			}
			benchSink = *(*benchEvent)(unsafe.Pointer(&rec.RawSample[0]))
			return nil
		})
	})
}

// benchSink receives every decoded event, so no read is optimised away.
var benchSink benchEvent

// benchBatch records are written per test run: 2.3 MiB of the 4 MiB ring.
const benchBatch = 32768

// benchRing runs read b.N times, refilling bench_ring with the timer
// stopped whenever it is empty.
func benchRing(b *testing.B, c *Collection, read func() error) {
	bd := NewBinder(c)
	fill := BindProgram(bd, "bench_fill")
	mustBind(b, bd)
	setVar(b, c, "emit_count", uint32(benchBatch))
	b.ReportAllocs()
	b.ResetTimer()
	left := 0
	for range b.N {
		if left == 0 {
			b.StopTimer()
			if _, err := fill.TestRun(nil); err != nil {
				b.Fatal(err)
			}
			if d := getU64(b, c, "dropped"); d != 0 {
				b.Fatalf("the ring was full: %d records dropped", d)
			}
			left = benchBatch
			b.StartTimer()
		}
		if err := read(); err != nil {
			b.Fatal(err)
		}
		left--
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
