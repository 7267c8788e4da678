package bpfskel

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"

	"github.com/bpfskel/bpfskel/internal/elfcheck"
	"github.com/cilium/ebpf"
)

// LoadOptions control how [Spec.Load] creates maps and loads programs
// (verifier log level, pinning path, map replacements, ...).
type LoadOptions = ebpf.CollectionOptions

// RunOptions are the input and output buffers of [Program.TestRun].
type RunOptions = ebpf.RunOptions

// UpdateFlags control the behaviour of [Map.Update].
type UpdateFlags = ebpf.MapUpdateFlags

const (
	// UpdateAny creates a new element or updates an existing one.
	UpdateAny = ebpf.UpdateAny
	// UpdateNoExist creates a new element; it fails with an error wrapping
	// ebpf.ErrKeyExist when the key is present.
	UpdateNoExist = ebpf.UpdateNoExist
	// UpdateExist updates an existing element; it fails with an error
	// wrapping ebpf.ErrKeyNotExist when the key is absent.
	UpdateExist = ebpf.UpdateExist
	// UpdateLock updates an element under its bpf_spin_lock.
	UpdateLock = ebpf.UpdateLock
)

// defaultObjectName names an object in errors when Open was given no name.
const defaultObjectName = "BPF object"

// Open parses an ELF object, usually one embedded in a generated skeleton.
// name is the object's file name; it prefixes every error about the object.
// Open does not touch the kernel: use [Spec.Load] for that.
func Open(name string, elf []byte) (*Spec, error) {
	if name == "" {
		name = defaultObjectName
	}
	if _, err := elfcheck.Check(elf); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	l, err := makeLoadable(elf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return open(name, elf, l)
}

// open parses elf (checked by elfcheck.Check) as l, made from it.
func open(name string, elf []byte, l loadable) (*Spec, error) {
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(l.obj))
	if err != nil {
		return nil, openError(name, elf, err)
	}
	staticHiddenFuncs(l.hidden, spec)
	kx, err := takeKconfigExtra(l.obj, spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Spec{name: name, spec: spec, kconfigExtra: kx}, nil
}

// CollectionSpec returns the cilium/ebpf description of the object. It is
// the escape hatch for changes before loading, such as setting constants in
// .rodata or resizing maps; changes affect later calls to [Spec.Load].
// When the object reads a .kconfig extern cilium/ebpf does not resolve
// (LINUX_HAS_BPF_COOKIE, from libbpf's usdt.bpf.h), its instructions refer
// to a map only [Spec.Load] supplies: load such a spec with Spec.Load, not
// with ebpf.NewCollection.
func (s *Spec) CollectionSpec() *ebpf.CollectionSpec {
	if s == nil {
		return nil
	}
	return s.spec
}

// Load creates the object's maps and loads its programs into the kernel,
// with the settings made since Open (section contents, map and program
// settings, load options). A nil opts uses the defaults; fields set in
// opts win over the Spec's settings. A program the verifier rejects gives
// an error naming it and its section, with the tail of the verifier log;
// errors.As(err, new(*ebpf.VerifierError)) still finds the full log. A
// missing privilege names the missing capability.
func (s *Spec) Load(opts *LoadOptions) (*Collection, error) {
	if s == nil || s.spec == nil {
		return nil, errors.New("bpfskel: Load on a nil Spec")
	}
	var o LoadOptions
	if opts != nil {
		o = *opts
	}
	// The .kconfig externs bpfskel resolves (libbpfcompat.go) live in a
	// map of their own, which the collection keeps for BindFrozenSection.
	var kconfig *ebpf.Map
	if s.kconfigExtra != nil {
		var err error
		if kconfig, err = s.kconfigExtra.newMap(); err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	cs, o, pin, skipped, done, err := s.prepare(o, kconfig)
	if err != nil {
		kconfig.Close()
		return nil, err
	}
	defer done()
	c, err := newCollectionFromSpec(s.name, cs, o)
	if err != nil {
		kconfig.Close()
		return nil, err
	}
	if kconfig != nil {
		c.kconfig, c.kconfigVars = kconfig, s.kconfigExtra.vars
		if err := c.adopt(kconfig); err != nil { // closed by Close
			kconfig.Close()
			return nil, errors.Join(err, c.Close())
		}
		c.kconfigOnly = s.kconfigExtra.only
	}
	c.skipped = skipped
	for section := range s.mirroredLen {
		if c.grown == nil {
			c.grown = map[string]bool{}
		}
		c.grown[section] = true
	}
	for _, m := range pin {
		if err := c.coll.Maps[m.name].Pin(m.pinPath); err != nil {
			return nil, errors.Join(fmt.Errorf("%s: map %q: pin at %s: %w", s.name, m.name, m.pinPath, err), c.Close())
		}
	}
	return c, nil
}

// newCollectionFromSpec loads spec and wraps the result; name is the object
// name used in errors. Spec.Load and the tests use it.
func newCollectionFromSpec(name string, spec *ebpf.CollectionSpec, opts LoadOptions) (*Collection, error) {
	if name == "" {
		name = defaultObjectName
	}
	if spec == nil {
		return nil, fmt.Errorf("%s: load: nil CollectionSpec", name)
	}
	opts = withDefaultPinPath(spec, opts)
	memlock := liftMemlock()
	coll, err := ebpf.NewCollectionWithOptions(spec, opts)
	if err != nil {
		return nil, loadError(name, spec, explainPinned(spec, opts, err), memlock)
	}
	return &Collection{name: name, coll: coll, spec: spec, specs: mapSpecs(spec)}, nil
}

// Collection is a loaded BPF object: its maps, its programs and every view
// created from it. Close releases all of them.
type Collection struct {
	name string
	coll *ebpf.Collection
	spec *ebpf.CollectionSpec // what was loaded: sections of programs, for Attach

	skipped []string        // programs not loaded (autoload off), sorted
	grown   map[string]bool // data sections whose last array Spec.ResizeArray grew

	mu     sync.Mutex
	closed bool
	seq    uint64
	views  map[io.Closer]uint64 // open views, with their creation order
	links  []ownedLink          // attached links, in attach order

	usdt usdtIDs // the spec indexes of USDT links (usdt.go)

	// kconfig holds the .kconfig externs bpfskel resolved (kconfigVars),
	// at their offsets in .kconfig; kconfigOnly: they are all of it.
	kconfig     *ebpf.Map
	kconfigVars []kconfigVar
	kconfigOnly bool

	// ops guards the file descriptors of maps and programs: operations
	// that use them hold it for reading (see enter), Close holds it for
	// writing while it closes them, so no operation can reach a closed or
	// reused descriptor number.
	ops       sync.RWMutex
	fdsClosed bool // guarded by ops

	// specs are copies of the object's map specs: the templates of inner
	// maps, and what maps opened from elsewhere are checked against.
	specs map[string]*ebpf.MapSpec
	// from says where each map of a Collection made by OpenMaps came from;
	// nil for a Collection the object was loaded into.
	from map[string]string
}

// resized reports whether the data section called name was grown before
// load, so that its value is larger than the section's Go struct.
func (c *Collection) resized(name string) bool {
	return c != nil && c.grown[name]
}

// Collection returns the underlying cilium/ebpf collection, the escape
// hatch for anything this package does not wrap. Maps and programs in it
// are closed by [Collection.Close].
func (c *Collection) Collection() *ebpf.Collection {
	if c == nil {
		return nil
	}
	return c.coll
}

// Close detaches every link (see [Collection.Attach]), then closes the
// programs, every view and reader created from the collection (by
// [MmapArray.Mmap], [BindSection], [RingBuf.NewReader] and
// [PerfEventArray.NewReader]), every user ring buffer mapping (from
// [BindUserRingBuf]), every inner map handle still open (from
// [MapOfMaps.NewInner] and [MapOfMaps.Lookup]) and the maps. Close is
// idempotent: later calls return nil. It is safe after a failed load, bind
// or attach. The returned error joins every failure.
//
// Close may run while other goroutines use the collection's handles: it
// waits for operations in flight (each a single system call or a short
// sequence of them), and every later operation returns an error wrapping
// [ErrClosed]. The escape hatches ([Collection.Collection], [Map.Map],
// [Program.Program]) are not guarded: what is done with them is the
// caller's to order against Close.
func (c *Collection) Close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	views := make([]io.Closer, 0, len(c.views))
	for v := range c.views {
		views = append(views, v)
	}
	slices.SortFunc(views, func(a, b io.Closer) int { return cmp.Compare(c.views[a], c.views[b]) })
	c.views = nil
	links := c.links
	c.links = nil
	c.mu.Unlock()

	// Links first: a program is detached before anything it uses closes.
	errs := closeLinks(links)
	// Wait for operations in flight; later ones see fdsClosed. The views
	// and inner maps are closed under the lock too: an inner map's
	// descriptor must not close under an operation in flight either.
	c.ops.Lock()
	defer c.ops.Unlock()
	c.fdsClosed = true
	if c.coll != nil {
		for _, name := range slices.Sorted(maps.Keys(c.coll.Programs)) {
			if err := c.coll.Programs[name].Close(); err != nil {
				errs = append(errs, fmt.Errorf("program %q: close: %w", name, err))
			}
		}
	}
	for _, v := range views {
		if err := v.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.coll != nil {
		for _, name := range slices.Sorted(maps.Keys(c.coll.Maps)) {
			if err := c.coll.Maps[name].Close(); err != nil {
				errs = append(errs, fmt.Errorf("map %q: close: %w", name, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: close: %w", c.name, err)
	}
	return nil
}

// registerLocked records an open view or reader so Close can close it. The caller
// holds c.mu and has checked that the collection is not closed.
func (c *Collection) registerLocked(v io.Closer) {
	if c.views == nil {
		c.views = make(map[io.Closer]uint64)
	}
	c.seq++
	c.views[v] = c.seq
}

// unregister forgets a view closed by its owner, so the view can be
// garbage collected (and its address range unmapped) before the collection.
func (c *Collection) unregister(v io.Closer) {
	c.mu.Lock()
	delete(c.views, v)
	c.mu.Unlock()
}

// adopt makes c close m with its views: m was opened for a handle of c
// (a map cilium/ebpf did not put in the collection).
func (c *Collection) adopt(m io.Closer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("the Collection is closed")
	}
	c.registerLocked(m)
	return nil
}
