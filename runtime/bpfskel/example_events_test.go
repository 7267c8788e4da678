//go:build linux

package bpfskel_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bpfskel/bpfskel/runtime/bpfskel"
	"github.com/bpfskel/bpfskel/runtime/bpfskeltest"
)

// Event mirrors struct event of testdata/events.bpf.c, as a generated
// skeleton declares it.
type Event struct {
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

// load loads testdata/events.bpf.o; a generated skeleton's Load does this
// and the binds below.
func load() *bpfskel.Collection {
	elf, err := os.ReadFile("testdata/events.bpf.o")
	if err != nil {
		log.Fatal(err)
	}
	spec, err := bpfskel.Open("events.bpf.o", elf)
	if err != nil {
		log.Fatal(err)
	}
	coll, err := spec.Load(nil)
	if err != nil {
		log.Fatal(err)
	}
	return coll
}

// Read every event a BPF program submitted to a ring buffer, without
// allocating, until none is left.
func ExampleRingBuf() {
	coll := load()
	defer coll.Close() // closes the reader too

	b := bpfskel.NewBinder(coll)
	events := bpfskel.BindRingBuf[Event](b, "events") // skel.Maps.Events
	produce := bpfskel.BindProgram(b, "ring_reserve")
	if err := b.Done(); err != nil {
		log.Fatal(err)
	}

	rd, err := events.NewReader()
	if err != nil {
		log.Fatal(err)
	}
	defer rd.Close()

	if _, err := produce.TestRun(nil); err != nil { // submits one event
		log.Fatal(err)
	}
	rd.SetDeadline(time.Now().Add(100 * time.Millisecond))
	var e Event
	for {
		err := rd.ReadInto(&e)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if errors.Is(err, bpfskel.ErrRecordSize) {
			continue // a record that is not an Event: skip it
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("seq %d pid %d comm %s\n", e.Seq, e.Pid, strings.TrimRight(string(e.Comm[:]), "\x00"))
	}
}

// Stop a reader blocked in a ring buffer when a context ends.
func ExampleRingBufReader_ReadContext() {
	coll := load()
	defer coll.Close()

	b := bpfskel.NewBinder(coll)
	events := bpfskel.BindRingBuf[Event](b, "events")
	if err := b.Done(); err != nil {
		log.Fatal(err)
	}
	rd, err := events.NewReader()
	if err != nil {
		log.Fatal(err)
	}
	defer rd.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var e Event
	for {
		if err := rd.ReadContext(ctx, &e); err != nil {
			fmt.Println("stopped:", errors.Is(err, context.DeadlineExceeded))
			return
		}
		fmt.Println("event", e.Seq)
	}
}

// Read the raw bytes of records whose type the generator could not tell
// (a map bound as RingBuf[bpfskel.RawEvent]), and count a perf buffer's
// lost samples.
func ExamplePerfEventArray() {
	coll := load()
	defer coll.Close()

	b := bpfskel.NewBinder(coll)
	samples := bpfskel.BindPerfEventArray[bpfskel.RawEvent](b, "perf_events")
	produce := bpfskel.BindProgram(b, "perf_output")
	if err := b.Done(); err != nil {
		log.Fatal(err)
	}
	rd, err := samples.NewReader(&bpfskel.PerfReaderOptions{PerCPUBuffer: 64 * 1024})
	if err != nil {
		log.Fatal(err)
	}
	defer rd.Close()

	if _, err := produce.TestRun(nil); err != nil {
		log.Fatal(err)
	}
	rd.SetDeadline(time.Now().Add(100 * time.Millisecond))
	raw, err := rd.ReadRaw()
	if err != nil {
		log.Fatal(err)
	}
	// 40 bytes of struct event, padded by the kernel to 44.
	fmt.Printf("%d bytes, lost %d\n", len(raw), rd.LostSamples())
}

// TestExamples runs the examples, which need the kernel (so they carry no
// Output comment: go test would run them unprivileged too), and checks
// what they print.
func TestExamples(t *testing.T) {
	bpfskeltest.RequireKernel(t)
	for _, tc := range []struct {
		name string
		run  func()
		want string
	}{
		{"RingBuf", ExampleRingBuf, "seq 0 pid 1000 comm evtest\n"},
		{"RingBufReader_ReadContext", ExampleRingBufReader_ReadContext, "stopped: true\n"},
		{"PerfEventArray", ExamplePerfEventArray, "44 bytes, lost 0\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := captureStdout(t, tc.run); got != tc.want {
				t.Errorf("Example%s printed %q, want %q", tc.name, got, tc.want)
			}
		})
	}
}

// captureStdout returns what f writes to os.Stdout.
func captureStdout(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	defer func() { os.Stdout = stdout }()
	f()
	w.Close()
	return <-done
}
