package bpfskel

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// PerfEventArray is a typed handle on a BPF_MAP_TYPE_PERF_EVENT_ARRAY map
// whose samples (written by bpf_perf_event_output) are events of type E,
// created by [BindPerfEventArray] or [BindPerfEventArrayTail]. Samples are
// read through a [PerfReader] from [PerfEventArray.NewReader].
//
// A map whose event type is unknown is a PerfEventArray[RawEvent]: read it
// with ReadRaw.
type PerfEventArray[E any] struct {
	m     *ebpf.Map
	shape eventShape
	coll  *Collection
}

// PerfEventArrayTail is [PerfEventArray] for an event type that ends in a
// flexible array member, bound by [BindPerfEventArrayTail]. It is the same
// type as PerfEventArray; the separate name lets generated code say which
// bind to call.
type PerfEventArrayTail[E any] = PerfEventArray[E]

// BindPerfEventArray returns a typed handle on the perf event array called
// name whose samples are one E each. It checks that the map exists, is a
// BPF_MAP_TYPE_PERF_EVENT_ARRAY and that E is plain data. On failure it
// returns nil and records the reason in b.
func BindPerfEventArray[E any](b *Binder, name string) *PerfEventArray[E] {
	return bindPerf[E](b, name, -1)
}

// BindPerfEventArrayTail is [BindPerfEventArray] for an event type E that
// ends in a flexible (or zero-length) array member starting at byte
// tailOffset of E (its C offsetof). A sample must hold at least tailOffset
// bytes and may be longer than E; the bytes from tailOffset on are the
// array's contents (and the kernel's padding), returned by the reader's
// Tail method.
func BindPerfEventArrayTail[E any](b *Binder, name string, tailOffset int) *PerfEventArrayTail[E] {
	if b != nil && tailOffset < 0 {
		b.fail("map %q: flexible array offset %d is negative", name, tailOffset)
		return nil
	}
	return bindPerf[E](b, name, tailOffset)
}

func bindPerf[E any](b *Binder, name string, tailOff int) *PerfEventArray[E] {
	if b == nil {
		return nil
	}
	m, shape, ok := bindEvents[E](b, name, ebpf.PerfEventArray, tailOff)
	if !ok {
		return nil
	}
	shape.slack = perfSlack(shape.size)
	return &PerfEventArray[E]{m: m, shape: shape, coll: b.c}
}

// Map returns the underlying cilium/ebpf map, the escape hatch for what
// this package does not wrap. It is closed by [Collection.Close].
func (p *PerfEventArray[E]) Map() *ebpf.Map {
	if p == nil {
		return nil
	}
	return p.m
}

// DefaultPerCPUBuffer is the size of each CPU's buffer when
// [PerfReaderOptions.PerCPUBuffer] is 0: 16 pages of 4 KiB, what libbpf-tools
// use.
const DefaultPerCPUBuffer = 16 * 4096

// PerfReaderOptions configure a [PerfReader]. The zero value is valid.
type PerfReaderOptions struct {
	// PerCPUBuffer is the size in bytes of each CPU's buffer; the kernel
	// rounds it up to a power of two number of pages. 0 means
	// DefaultPerCPUBuffer. Samples written while a CPU's buffer is full are
	// lost and counted (see [PerfReader.LostSamples]).
	PerCPUBuffer int
	// WakeupEvents is how many samples a CPU's buffer must hold before a
	// blocked read wakes up; 0 uses Watermark. The two are exclusive.
	WakeupEvents int
	// Watermark is how many bytes a CPU's buffer must hold before a blocked
	// read wakes up; 0 wakes at the first sample.
	Watermark int
}

// NewReader opens a reader of the samples of every CPU. A nil opts uses the
// defaults. The reader is closed by [PerfReader.Close] or by
// [Collection.Close], whichever comes first. While a reader is open, the
// map's entries are its per-CPU perf events; bpf_perf_event_output fails
// with ENOENT once it is closed.
func (p *PerfEventArray[E]) NewReader(opts *PerfReaderOptions) (*PerfReader[E], error) {
	if p == nil || p.m == nil {
		return nil, errNilMap
	}
	var o PerfReaderOptions
	if opts != nil {
		o = *opts
	}
	if o.PerCPUBuffer == 0 {
		o.PerCPUBuffer = DefaultPerCPUBuffer
	}
	if o.PerCPUBuffer < 0 {
		return nil, fmt.Errorf("map %q: new reader: PerCPUBuffer is %d, must be positive (or 0 for the default)", p.shape.name, o.PerCPUBuffer)
	}
	rd := &PerfReader[E]{}
	err := register(p.coll, p.shape.name, &rd.eventReader, func() error {
		src, err := newPerfSource(p.m, o)
		if err != nil {
			return fmt.Errorf("map %q: new reader: %w", p.shape.name, err)
		}
		rd.perf = src
		rd.init(p.shape, src, p.coll)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rd, nil
}

// PerfReader reads the samples of a perf event array as events of type E,
// through cilium/ebpf's perf.Reader. ReadInto is the allocation-free path:
// it reuses one sample buffer and copies each sample into the caller's *E.
//
// The kernel pads each sample so that its 4-byte size and its data fill a
// multiple of 8 bytes, and the padding reads as part of the sample. So the
// size check is as precise as the kernel allows: a sample may be up to
// 7 bytes longer than E (the padding), and samples up to 7 bytes shorter
// than E that pad to the same length cannot be told apart from it. For an
// event type with a flexible array, Tail includes the padding.
//
// Notifications of lost samples (a CPU's buffer was full) are not returned
// as records: reads skip them and add them to [PerfReader.LostSamples].
//
// Reads (ReadInto, Read, ReadRaw, ReadContext) must come from one goroutine
// at a time, and the slices returned by ReadRaw, Raw and Tail are valid
// until the next read. Close, SetDeadline and LostSamples may be called
// from any goroutine.
type PerfReader[E any] struct {
	eventReader[E]
	perf *perfSource
}

// LostSamples returns how many samples the kernel dropped because a CPU's
// buffer was full, in total since the reader was opened, as far as reads
// have seen the notifications.
func (p *PerfReader[E]) LostSamples() uint64 {
	if p == nil || p.perf == nil {
		return 0
	}
	return p.perf.lost.Load()
}

// CPU returns the CPU the last sample read was written on, or -1 before the
// first.
func (p *PerfReader[E]) CPU() int {
	if p == nil || p.perf == nil {
		return -1
	}
	return p.perf.cpu
}

// BufferSize returns the size in bytes of each CPU's buffer.
func (p *PerfReader[E]) BufferSize() int {
	if p == nil || p.perf == nil {
		return 0
	}
	return p.perf.bufferSize
}

// Close releases the reader; a blocked read returns an error wrapping
// [ErrClosed]. It is idempotent, and safe on a nil reader.
func (p *PerfReader[E]) Close() error {
	if p == nil {
		return nil
	}
	return p.eventReader.Close()
}
