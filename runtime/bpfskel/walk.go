package bpfskel

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/cilium/ebpf"
)

// BatchCursor is the position of a batch walk over one map
// ([Map.BatchLookup], [PerCPUMap.BatchLookup]). The zero value starts at
// the beginning of the map; a cursor that has walked one map cannot be
// used on another until [BatchCursor.Reset]. A BatchCursor is not safe for
// concurrent use.
type BatchCursor struct {
	m       *ebpf.Map
	buf     []uint64 // the kernel's opaque position: max(key_size, 4) bytes, 8-aligned
	started bool
}

// Reset makes the cursor start again at the beginning of a map, any map.
// It keeps its buffer, so a reused cursor does not allocate.
func (c *BatchCursor) Reset() {
	c.m, c.started = nil, false
}

// bind ties c to em and returns its in and out pointers for the next
// batch call (in is nil at the start of a walk).
func (c *BatchCursor) bind(em *ebpf.Map) (in, out unsafe.Pointer, err error) {
	if c == nil {
		return nil, nil, errors.New("bpfskel: nil BatchCursor")
	}
	if c.m != nil && c.m != em {
		return nil, nil, errors.New("bpfskel: a BatchCursor walks one map; Reset it to walk another")
	}
	words := (max(int(em.KeySize()), 4) + 7) / 8
	if len(c.buf) < words {
		c.buf = make([]uint64, words)
	}
	c.m = em
	out = unsafe.Pointer(&c.buf[0])
	if c.started {
		in = out // the kernel reads in_batch before it writes out_batch
	}
	return in, out, nil
}

// walkBatchBytes bounds the buffers of one batch of an iteration.
const walkBatchBytes = 64 << 10

// walker walks a map's entries as raw memory: a batch at a time with
// BPF_MAP_LOOKUP_BATCH where the map type has it, key by key with
// BPF_MAP_GET_NEXT_KEY and BPF_MAP_LOOKUP_ELEM where it does not (LPM
// tries, stack trace maps, kernels before 5.6). Typed iterators copy each
// entry out of it.
type walker struct {
	em               *ebpf.Map
	keySize, valSize int // valSize: bytes of one entry's value as the kernel copies it
	keys, vals       []uint64
	cap              int // entries the buffers hold
	n, i             int // entries in the buffers, next one to return
	cur              BatchCursor
	keyByKey         bool
	prev             []uint64 // key-by-key: the last key returned
	havePrev         bool
	steps            uint64
	done             bool
	err              error
}

func newWalker(em *ebpf.Map, valSize int) *walker {
	w := &walker{em: em, keySize: int(em.KeySize()), valSize: valSize}
	entries := walkBatchBytes / max(w.keySize+valSize, 1)
	w.alloc(max(min(entries, int(em.MaxEntries())+1), 1))
	return w
}

// walkers keeps the walkers of one map handle for reuse, so that a walk
// does not allocate (and fault in) fresh batch buffers each time.
type walkers struct {
	em      *ebpf.Map
	valSize int
	pool    sync.Pool
}

func newWalkers(em *ebpf.Map, valSize int) *walkers {
	return &walkers{em: em, valSize: valSize}
}

// get returns a walker at the start of the map.
func (ws *walkers) get() *walker {
	if w, ok := ws.pool.Get().(*walker); ok {
		return w
	}
	return newWalker(ws.em, ws.valSize)
}

// put takes back a walker that nobody uses any more.
func (ws *walkers) put(w *walker) {
	w.n, w.i = 0, 0
	w.cur.Reset()
	w.havePrev, w.steps, w.done, w.err = false, 0, false, nil
	ws.pool.Put(w)
}

func words(bytes int) int { return (bytes + 7) / 8 }

func (w *walker) alloc(entries int) {
	w.cap = entries
	w.keys = make([]uint64, max(words(entries*w.keySize), 1))
	w.vals = make([]uint64, max(words(entries*w.valSize), 1))
}

// next returns the next entry's key and value, valid until the following
// call, or false at the end of the map or on error (see w.err).
func (w *walker) next() (key, value unsafe.Pointer, ok bool) {
	for w.i >= w.n {
		if w.done || w.err != nil {
			return nil, nil, false
		}
		w.fill()
	}
	key = unsafe.Add(unsafe.Pointer(&w.keys[0]), w.i*w.keySize)
	value = unsafe.Add(unsafe.Pointer(&w.vals[0]), w.i*w.valSize)
	w.i++
	return key, value, true
}

func (w *walker) fill() {
	w.i, w.n = 0, 0
	if w.keyByKey {
		w.step()
		return
	}
	for {
		in, out, err := w.cur.bind(w.em)
		if err != nil {
			w.err = err
			return
		}
		n, err := sysBatch(cmdLookupBatch, w.em.FD(), in, out,
			unsafe.Pointer(&w.keys[0]), unsafe.Pointer(&w.vals[0]), uint32(w.cap), 0)
		switch {
		case err == nil:
			w.cur.started, w.n = true, n
			return
		case errors.Is(err, ebpf.ErrKeyNotExist):
			w.cur.started, w.n, w.done = true, n, true
			return
		case batchTooSmall(err) && n == 0 && w.cap < 1<<20:
			// A hash bucket holds more entries than the batch: grow.
			w.alloc(w.cap * 2)
		case !w.cur.started && batchUnsupported(err):
			w.keyByKey = true
			w.prev = make([]uint64, max(words(w.keySize), 1))
			w.step()
			return
		default:
			w.err = fmt.Errorf("batch lookup: %w", err)
			return
		}
	}
}

// step reads one entry key by key.
func (w *walker) step() {
	fd := w.em.FD()
	key, value := unsafe.Pointer(&w.keys[0]), unsafe.Pointer(&w.vals[0])
	for {
		var prev unsafe.Pointer
		if w.havePrev {
			prev = unsafe.Pointer(&w.prev[0])
		}
		err := sysElem(cmdGetNextKey, fd, prev, key, 0)
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			w.done = true
			return
		}
		if err != nil {
			w.err = fmt.Errorf("next key: %w", err)
			return
		}
		copy(w.prev, w.keys[:len(w.prev)])
		w.havePrev = true
		err = sysElem(cmdLookupElem, fd, key, value, 0)
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			continue // deleted since BPF_MAP_GET_NEXT_KEY returned it
		}
		if err != nil {
			w.err = fmt.Errorf("lookup: %w", err)
			return
		}
		// A hash map whose last returned key is deleted restarts from its
		// first key; stop a walk that has gone round too often.
		if w.steps++; w.steps > uint64(w.em.MaxEntries())*2+1 {
			w.err = ebpf.ErrIterationAborted
			return
		}
		w.n = 1
		return
	}
}
