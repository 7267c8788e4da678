//go:build linux

package bpfskel

import (
	"errors"
	"testing"
)

// BenchmarkUserRingBuf measures writing 64-byte records (struct bench_urec
// of testdata/userring.bpf.c) into a 256 KiB user ring buffer, one op per
// record:
//   - bpfskel: UserRingBuf.Write, a copy and submit under the producer lock;
//   - bpfskel-reserve: ReserveEvent, the record filled in place, Submit;
//   - bpfskel-batch64: WriteBatch of 64 records, one publish for all.
//
// When the ring is full the timer stops while the bench_drain program
// drains it under BPF_PROG_TEST_RUN. allocs/op is allocations per record;
// records/s is b.N over the timed writing time. testdata/bench/userringbuf.c
// is the same measure with libbpf's user_ring_buffer__reserve and __submit.
func BenchmarkUserRingBuf(b *testing.B) {
	b.Run("64B/bpfskel", func(b *testing.B) {
		benchUserRing(b, func(r *UserRingBuf[benchURec], e *benchURec) error { return r.Write(e) })
	})
	b.Run("64B/bpfskel-reserve", func(b *testing.B) {
		benchUserRing(b, func(r *UserRingBuf[benchURec], e *benchURec) error {
			rec, err := r.ReserveEvent()
			if err != nil {
				return err
			}
			*rec.Event() = *e
			return rec.Submit()
		})
	})
	b.Run("64B/bpfskel-batch64", func(b *testing.B) {
		f := loadUserRing(b)
		bd := NewBinder(f.coll)
		ring := BindUserRingBuf[benchURec](bd, "bench_uring")
		drain := BindProgram(bd, "bench_drain")
		mustBind(b, bd)
		batch := make([]benchURec, 64)
		b.ReportAllocs()
		b.ResetTimer()
		for done := 0; done < b.N; {
			k := min(len(batch), b.N-done)
			for j := range batch[:k] {
				batch[j].Seq = uint64(done + j)
			}
			n, err := ring.WriteBatch(batch[:k])
			done += n
			if err != nil && errors.Is(err, ErrFull) {
				b.StopTimer()
				if _, err := drain.TestRun(nil); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			} else if err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		checkBenchDrained(b, f, drain)
	})
}

// benchUserRing runs write b.N times, draining bench_uring with the timer
// stopped whenever it is full, and checks that the BPF side read every
// record.
func benchUserRing(b *testing.B, write func(*UserRingBuf[benchURec], *benchURec) error) {
	f := loadUserRing(b)
	bd := NewBinder(f.coll)
	ring := BindUserRingBuf[benchURec](bd, "bench_uring")
	drain := BindProgram(bd, "bench_drain")
	mustBind(b, bd)
	e := benchURec{Words: [7]uint64{1, 2, 3, 4, 5, 6, 7}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		e.Seq = uint64(i)
		err := write(ring, &e)
		if err != nil && errors.Is(err, ErrFull) {
			b.StopTimer()
			if _, err := drain.TestRun(nil); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			err = write(ring, &e)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	checkBenchDrained(b, f, drain)
}

// checkBenchDrained drains what is left and checks that bench_drain read
// b.N records.
func checkBenchDrained(b *testing.B, f *userRingFixture, drain *Program) {
	if _, err := drain.TestRun(nil); err != nil {
		b.Fatal(err)
	}
	if g, err := f.bss.Get(0); err != nil || g.BenchCount != uint64(b.N) {
		b.Fatalf("bench_drain read %d records of %d (%v)", g.BenchCount, b.N, err)
	}
}
