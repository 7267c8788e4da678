//go:build linux

package bpfskel

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
)

// The concurrency tests run in the test command under -race too (see the
// Makefile's test target: go test -race -run Concurrent).

// concurrentOp is one operation the concurrency test runs from many
// goroutines while another goroutine closes the skeleton. run returns the
// operation's error; allow lists errors (besides ErrClosed) that are a
// normal outcome of the operation, such as a lookup miss.
//
// A handle added by later work (ring buffer readers, per-variable globals,
// batch iteration, links) gets covered by adding rows here and, if it needs
// state, fields to skeleton/concurrentState.
type concurrentOp struct {
	name  string
	run   func(s *skeleton, st *concurrentState, worker, i int) error
	allow []error
}

// concurrentState is what the operations share within one round.
type concurrentState struct {
	workers int
	views   sync.Map // worker -> *View[elem], opened by the "MmapArray.Mmap" op
	inners  sync.Map // worker -> *InnerMap[uint32, uint64], from "MapOfMaps.NewInner"

	readers sync.Map // worker -> *RingBufReader[RawEvent], from "RingBufReader.Read"
	perfs   sync.Map // worker -> *PerfReader[RawEvent], from "PerfReader.Read"

	// Per-variable handles on .bss's hits.
	hits       Var[uint64]
	atomicHits AtomicUint64Var

	// Handles on the maps concurrentSpec adds to the object.
	outer *MapOfMaps[uint32, uint32, uint64]
	jmp   *ProgArray
	ring  *RingBuf[RawEvent]
	uring *UserRingBuf[uint64]
	perf  *PerfEventArray[RawEvent]
	pcpu  *PerCPUMap[uint32, uint64]
}

// concurrentSpec adds to the test object a map of maps, a program array,
// a ring buffer, a perf event array and a per-CPU hash, whose handles hold
// descriptors too.
func concurrentSpec(t *testing.T) *Spec {
	t.Helper()
	spec, err := Open("sections.bpf.o", readObject(t))
	if err != nil {
		t.Fatal(err)
	}
	cs := spec.CollectionSpec()
	cs.Maps["outer"] = &ebpf.MapSpec{Name: "outer", Type: ebpf.HashOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 64,
		InnerMap: &ebpf.MapSpec{Name: "inner", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 4}}
	cs.Maps["jmp"] = &ebpf.MapSpec{Name: "jmp", Type: ebpf.ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 4}
	cs.Maps["events"] = &ebpf.MapSpec{Name: "events", Type: ebpf.RingBuf, MaxEntries: 4096}
	cs.Maps["uevents"] = &ebpf.MapSpec{Name: "uevents", Type: ebpf.UserRingbuf, MaxEntries: 4096}
	cs.Maps["samples"] = &ebpf.MapSpec{Name: "samples", Type: ebpf.PerfEventArray}
	cs.Maps["pcpu"] = &ebpf.MapSpec{Name: "pcpu", Type: ebpf.PerCPUHash, KeySize: 4, ValueSize: 8, MaxEntries: 64}
	return spec
}

// closedPanic runs f and returns the error it panicked with when that
// wraps ErrClosed; any other panic goes on.
func closedPanic(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok && errors.Is(e, ErrClosed) {
				err = e
				return
			}
			panic(r)
		}
	}()
	f()
	return nil
}

func concurrentOps() []concurrentOp {
	return []concurrentOp{
		{name: "Map.Update", run: func(s *skeleton, _ *concurrentState, w, i int) error {
			return s.counts.Update(uint32(w), uint64(i), UpdateAny)
		}},
		{name: "Map.Lookup", allow: []error{ErrNotFound}, run: func(s *skeleton, _ *concurrentState, w, i int) error {
			_, err := s.counts.Lookup(uint32(w))
			return err
		}},
		{name: "Map.LookupInto", allow: []error{ErrNotFound}, run: func(s *skeleton, _ *concurrentState, w, i int) error {
			k, v := uint32(i%16), uint64(0)
			return s.counts.LookupInto(&k, &v)
		}},
		{name: "Map.Delete", allow: []error{ErrNotFound}, run: func(s *skeleton, _ *concurrentState, w, i int) error {
			return s.counts.Delete(uint32(w))
		}},
		{name: "Map.Update(NoExist)", allow: []error{ErrKeyExists}, run: func(s *skeleton, _ *concurrentState, w, i int) error {
			return s.counts.Update(100+uint32(w), 1, UpdateNoExist)
		}},
		{name: "Iterator", allow: []error{ebpf.ErrIterationAborted}, run: func(s *skeleton, _ *concurrentState, w, i int) error {
			it := s.counts.Iterate()
			for range it.All() {
			}
			return it.Err()
		}},
		{name: "Map.BatchLookup", allow: []error{ebpf.ErrKeyNotExist}, run: func(s *skeleton, _ *concurrentState, w, i int) error {
			var c BatchCursor
			keys, values := make([]uint32, 16), make([]uint64, 16)
			_, err := s.counts.BatchLookup(&c, keys, values)
			return err
		}},
		{name: "PerCPUMap.Update", run: func(s *skeleton, st *concurrentState, w, i int) error {
			return st.pcpu.Update(uint32(w), make([]uint64, st.pcpu.CPUs()), UpdateAny)
		}},
		{name: "PerCPUMap.Lookup", allow: []error{ebpf.ErrKeyNotExist}, run: func(s *skeleton, st *concurrentState, w, i int) error {
			_, err := st.pcpu.Lookup(uint32(w))
			return err
		}},
		{name: "PerCPUIterator", allow: []error{ebpf.ErrIterationAborted}, run: func(s *skeleton, st *concurrentState, w, i int) error {
			it := st.pcpu.Iterate()
			for it.Next() {
			}
			return it.Err()
		}},
		// Per-variable globals return no error: after Close they panic
		// with an error wrapping ErrClosed, never fault.
		{name: "Var.Store", run: func(s *skeleton, st *concurrentState, w, i int) error {
			return closedPanic(func() { st.hits.Store(uint64(i)) })
		}},
		{name: "Var.Load", run: func(s *skeleton, st *concurrentState, w, i int) error {
			return closedPanic(func() { st.hits.Load() })
		}},
		{name: "AtomicUint64Var.Add", run: func(s *skeleton, st *concurrentState, w, i int) error {
			return closedPanic(func() { st.atomicHits.Add(1) })
		}},
		{name: "MmapArray.Update", run: func(s *skeleton, _ *concurrentState, w, i int) error {
			return s.buf.Update(uint32(i%4), elem{A: uint32(i)}, UpdateAny)
		}},
		{name: "MmapArray.Mmap", run: func(s *skeleton, st *concurrentState, w, i int) error {
			v, err := s.buf.Mmap()
			if err != nil {
				return err
			}
			if old, ok := st.views.Swap(w, v); ok {
				// Closing a view by hand while Close runs must be safe too.
				return old.(*View[elem]).Close()
			}
			return nil
		}},
		{name: "View.Get", run: func(s *skeleton, st *concurrentState, w, i int) error {
			// The next worker's view, which that worker may be closing.
			v, ok := st.views.Load((w + 1) % st.workers)
			if !ok {
				_, err := s.bss.Get(0)
				return err
			}
			_, err := v.(*View[elem]).Get(i % 4)
			return err
		}},
		{name: "View.Set", run: func(s *skeleton, st *concurrentState, w, i int) error {
			return s.data.Set(0, dataSect{Magic: uint32(i)})
		}},
		{name: "Program.TestRun", run: func(s *skeleton, _ *concurrentState, w, i int) error {
			_, err := s.bump.TestRun(nil)
			return err
		}},
		{name: "MapOfMaps.NewInner", run: func(s *skeleton, st *concurrentState, w, i int) error {
			in, err := st.outer.NewInner()
			if err != nil {
				return err
			}
			if err := st.outer.Update(uint32(w), in, UpdateAny); err != nil {
				return err
			}
			if old, ok := st.inners.Swap(w, in); ok {
				return old.(*InnerMap[uint32, uint64]).Close()
			}
			return nil
		}},
		{name: "InnerMap.Update", run: func(s *skeleton, st *concurrentState, w, i int) error {
			// The previous worker's inner map, which it may be closing.
			in, ok := st.inners.Load((w + st.workers - 1) % st.workers)
			if !ok {
				return st.outer.Delete(uint32(w))
			}
			// After its owner's Close: ErrClosed, as after the Collection's.
			return in.(*InnerMap[uint32, uint64]).Update(1, uint64(i), UpdateAny)
		}, allow: []error{ErrNotFound}},
		{name: "MapOfMaps.Lookup", allow: []error{ErrNotFound}, run: func(s *skeleton, st *concurrentState, w, i int) error {
			in, err := st.outer.Lookup(uint32(w))
			if err != nil {
				return err
			}
			return in.Close()
		}},
		{name: "ProgArray.Set", run: func(s *skeleton, st *concurrentState, w, i int) error {
			return st.jmp.Set(uint32(w%4), s.bump)
		}},
		// Nothing drains the user ring buffer: it fills, then writes
		// fail with ErrFull.
		{name: "UserRingBuf.Write", allow: []error{ErrFull}, run: func(s *skeleton, st *concurrentState, w, i int) error {
			v := uint64(i)
			return st.uring.Write(&v)
		}},
		{name: "UserRingBuf.Reserve", allow: []error{ErrFull}, run: func(s *skeleton, st *concurrentState, w, i int) error {
			rec, err := st.uring.ReserveEvent()
			if err != nil {
				return err
			}
			*rec.Event() = uint64(i)
			if i%2 == 0 {
				return rec.Discard()
			}
			return rec.Submit()
		}},
		{name: "RingBufReader.Read", allow: []error{os.ErrDeadlineExceeded}, run: func(s *skeleton, st *concurrentState, w, i int) error {
			r, ok := st.readers.Load(w)
			if !ok {
				rd, err := st.ring.NewReader()
				if err != nil {
					return err
				}
				r = rd
				st.readers.Store(w, rd)
			}
			rd := r.(*RingBufReader[RawEvent])
			rd.SetDeadline(time.Now().Add(time.Millisecond))
			_, err := rd.ReadRaw()
			return err
		}},
		{name: "PerfReader.Read", allow: []error{os.ErrDeadlineExceeded}, run: func(s *skeleton, st *concurrentState, w, i int) error {
			r, ok := st.perfs.Load(w)
			if !ok {
				rd, err := st.perf.NewReader(&PerfReaderOptions{PerCPUBuffer: 4096})
				if err != nil {
					return err
				}
				r = rd
				st.perfs.Store(w, rd)
			}
			rd := r.(*PerfReader[RawEvent])
			rd.SetDeadline(time.Now().Add(time.Millisecond))
			_, err := rd.ReadRaw()
			return err
		}},
		{name: "Binder", run: func(s *skeleton, _ *concurrentState, w, i int) error {
			b := NewBinder(s.coll)
			BindMap[uint32, uint64](b, "counts")
			if v := BindSection[bssSection](b, ".bss"); v != nil {
				if err := v.Close(); err != nil {
					return err
				}
			}
			BindProgram(b, "bump")
			return b.Err()
		}},
	}
}

// TestConcurrentClose runs every operation of concurrentOps from several
// goroutines while another goroutine closes the collection, and a third
// keeps creating and closing BPF maps so that the numbers of the closed
// file descriptors are reused at once. Every call must succeed, fail with
// one of its allowed errors, or fail with an error wrapping ErrClosed; a
// call that starts after Close returned must fail with ErrClosed (a call
// that reached a reused descriptor would instead succeed on another map).
// No call may block forever, and -race must see no data race.
func TestConcurrentClose(t *testing.T) {
	requireKernel(t)
	rounds, workers := 20, 4*runtime.GOMAXPROCS(0)
	if raceEnabled {
		rounds = 8
	}
	ops := concurrentOps()
	spec := concurrentSpec(t)

	// churn reuses file descriptor numbers as soon as Close frees them.
	stopChurn := make(chan struct{})
	churnDone := make(chan error, 1)
	go func() {
		churnDone <- churn(stopChurn)
	}()
	defer func() {
		close(stopChurn)
		if err := <-churnDone; err != nil {
			t.Error(err)
		}
	}()

	for round := range rounds {
		s := loadSkeleton(t, spec)
		b := NewBinder(s.coll)
		st := &concurrentState{workers: workers,
			outer:      BindMapOfMaps[uint32, uint32, uint64](b, "outer"),
			jmp:        BindProgArray(b, "jmp"),
			ring:       BindRingBuf[RawEvent](b, "events"),
			uring:      BindUserRingBuf[uint64](b, "uevents"),
			perf:       BindPerfEventArray[RawEvent](b, "samples"),
			pcpu:       BindPerCPUMap[uint32, uint64](b, "pcpu"),
			hits:       BindVar[uint64](b, s.bss, "hits", unsafe.Offsetof(bssSection{}.Hits)),
			atomicHits: BindAtomicUint64Var(b, s.bss, "hits", unsafe.Offsetof(bssSection{}.Hits)),
		}
		mustBind(t, b)
		// A reader blocked with no deadline: Close must end its wait.
		blocked, err := st.ring.NewReader()
		if err != nil {
			t.Fatal(err)
		}
		blockedErr := make(chan error, 1)
		go func() {
			_, err := blocked.ReadRaw()
			blockedErr <- err
		}()
		var (
			calls     atomic.Int64
			closeDone atomic.Bool
			wg        sync.WaitGroup
			mu        sync.Mutex
			failures  []string
			afterSeen = make([]bool, len(ops))
		)
		report := func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			if len(failures) < 20 {
				failures = append(failures, fmt.Sprintf(format, args...))
			}
		}
		for w := range workers {
			wg.Go(func() {
				// Run until this worker has run every operation once
				// after Close returned.
				afterCalls := 0
				for i := 0; ; i++ {
					op := ops[(w+i)%len(ops)]
					after := closeDone.Load()
					err := op.run(s, st, w, i)
					calls.Add(1)
					switch {
					case after && !errors.Is(err, ErrClosed):
						report("round %d: %s after Close: %v, want an error wrapping ErrClosed", round, op.name, err)
					case err != nil && !errors.Is(err, ErrClosed) && !isAny(err, op.allow):
						report("round %d: %s: %v", round, op.name, err)
					}
					if after {
						mu.Lock()
						afterSeen[(w+i)%len(ops)] = true
						mu.Unlock()
						if afterCalls++; afterCalls == len(ops) {
							return
						}
					}
				}
			})
		}
		// Close once the workers are busy: at least a few calls each.
		closed := make(chan error, 1)
		go func() {
			for calls.Load() < int64(workers*len(ops)) {
				runtime.Gosched()
			}
			err := s.coll.Close()
			closeDone.Store(true)
			closed <- err
		}()
		done := make(chan struct{})
		go func() {
			wg.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			// A deadlock: show where everyone is stuck.
			buf := make([]byte, 1<<20)
			t.Fatalf("round %d: calls still blocked 2 minutes after Close started:\n%s", round, buf[:runtime.Stack(buf, true)])
		}
		if err := <-closed; err != nil {
			t.Errorf("round %d: Close: %v", round, err)
		}
		select {
		case err := <-blockedErr:
			if !errors.Is(err, ErrClosed) {
				t.Errorf("round %d: blocked ring buffer read ended with %v, want ErrClosed", round, err)
			}
		case <-time.After(time.Minute):
			t.Fatalf("round %d: a ring buffer read still blocked a minute after Close returned", round)
		}
		for _, f := range failures {
			t.Error(f)
		}
		for i, seen := range afterSeen {
			if !seen {
				t.Errorf("round %d: %s never ran after Close", round, ops[i].name)
			}
		}
		if t.Failed() {
			return
		}
	}
}

// churn creates and closes BPF maps of the skeleton's shapes until stop is
// closed, so that descriptor numbers freed by Close are taken again.
func churn(stop <-chan struct{}) error {
	specs := []*ebpf.MapSpec{
		{Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 16},
		{Type: ebpf.Array, KeySize: 4, ValueSize: 12, MaxEntries: 4},
	}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return nil
		default:
		}
		m, err := ebpf.NewMap(specs[i%len(specs)])
		if err != nil {
			return fmt.Errorf("churn: %w", err)
		}
		if err := m.Close(); err != nil {
			return fmt.Errorf("churn: %w", err)
		}
	}
}

func isAny(err error, targets []error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
