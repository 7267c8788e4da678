package gen_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/bpfskel/bpfskel/runtime/bpfskel"
	"github.com/bpfskel/bpfskel/testdata/golden/events"
)

// TestEventsSkeleton reads a ring buffer and a perf event array through the
// generated skeleton: the event type mirrored from BTF decodes the records
// the BPF programs wrote, and the enum that only a function signature uses
// prints its C names.
func TestEventsSkeleton(t *testing.T) {
	skel := mustLoad(t, events.Load)
	ring, err := skel.Maps.Events.NewReader()
	if err != nil {
		t.Fatal(err)
	}
	defer ring.Close()
	perf, err := skel.Maps.PerfEvents.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer perf.Close()

	if err := skel.Data.Set(0, events.Data{EmitCount: 2}); err != nil {
		t.Fatal(err)
	}
	bss, err := skel.Bss.Get(0)
	if err != nil {
		t.Fatal(err)
	}
	bss.EmitBase = 500
	if err := skel.Bss.Set(0, bss); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		prog bpfskel.AnyProgram
		read func(*events.Event) error
	}{
		{"ringbuf", skel.Programs.RingReserve, ring.ReadInto},
		{"perf", skel.Programs.PerfOutput, perf.ReadInto},
	} {
		if _, err := tc.prog.Base().TestRun(nil); err != nil {
			t.Fatal(err)
		}
		for i := range uint32(2) {
			var e events.Event
			if err := tc.read(&e); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			kind := events.EventKind(e.Kind)
			wantKind := events.EventKindEXEC
			if i == 1 {
				wantKind = events.EventKindEXIT
			}
			if e.Seq != 500+uint64(i) || e.Pid != 1000+i || kind != wantKind || string(e.Comm[:6]) != "evtest" {
				t.Errorf("%s: record %d = %+v (kind %v), want seq %d, pid %d, kind %v, comm evtest",
					tc.name, i, e, kind, 500+i, 1000+i, wantKind)
			}
		}
	}
	if s := events.EventKindOPEN.String(); s != "EVENT_KIND_OPEN" {
		t.Errorf("EventKindOPEN.String() = %q", s)
	}
	ring.SetDeadline(time.Now())
	if _, err := ring.Read(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read of the drained ring: %v, want os.ErrDeadlineExceeded", err)
	}
	// One Close releases the readers too.
	if err := skel.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := perf.Read(); !errors.Is(err, bpfskel.ErrClosed) {
		t.Errorf("read after the skeleton's Close: %v, want ErrClosed", err)
	}
}
