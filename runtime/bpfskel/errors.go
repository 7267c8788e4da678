package bpfskel

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// sentinel is an error value that also matches, with errors.Is, the
// cilium/ebpf error it stands for: code written against either package's
// errors keeps working.
type sentinel struct {
	msg  string
	base error
}

func (e *sentinel) Error() string { return e.msg }
func (e *sentinel) Unwrap() error { return e.base }

var (
	// ErrNotFound is wrapped by the errors of operations on a key that is
	// not in the map (Lookup, LookupInto, Delete, Update with
	// [UpdateExist]). It matches ebpf.ErrKeyNotExist too.
	ErrNotFound error = &sentinel{"key does not exist", ebpf.ErrKeyNotExist}

	// ErrKeyExists is wrapped by the error of Update with [UpdateNoExist]
	// on a key that is already in the map. It matches ebpf.ErrKeyExist too.
	ErrKeyExists error = &sentinel{"key already exists", ebpf.ErrKeyExist}

	// ErrNotSupported is wrapped by the errors of what this kernel does not
	// support: a feature of a newer or differently configured kernel (a map
	// or program type, a helper, a flag), or an operation the map type
	// lacks (a lookup on a ring buffer). It matches ebpf.ErrNotSupported
	// too; the message names the feature.
	ErrNotSupported error = &sentinel{"not supported by this kernel", ebpf.ErrNotSupported}

	// ErrClosed is wrapped by the errors of every operation on a
	// [Collection] that was closed, or on a handle made from one: typed map
	// operations and iterators, [MmapArray.Mmap], [View.Get] and
	// [View.Set] (also after [View.Close]), [Program.TestRun], the writes
	// and reservations of a [UserRingBuf] (also after its Close) and every
	// Bind function.
	ErrClosed = errors.New("closed")
)

// LayoutError reports a Go type whose size differs from the size of the
// BPF key, value or data section it mirrors: the skeleton no longer matches
// its object (regenerate it), or a hand-written type is wrong. A [Binder]
// records one for each mismatch; find it with errors.As.
type LayoutError struct {
	Map        string // the map or data section, as named in the object
	What       string // "key" or "value"
	GoSize     uint64 // unsafe.Sizeof of the Go type
	ObjectSize uint64 // the size in the loaded object, or in the opened map
	Where      string // "the object", or where OpenMaps opened the map from
}

func (e *LayoutError) Error() string {
	return fmt.Sprintf("map %q: %s is %d bytes in Go, %d in %s", e.Map, e.What, e.GoSize, e.ObjectSize, e.Where)
}

// opError is the error of an operation on one map or program. Its message
// is the subject followed by the cause; errors.Is and errors.As see both
// the package's sentinel the cause was classified as and the cause itself
// (cilium/ebpf's error, with its errno).
type opError struct {
	what, name string // "map", "counts": the subject, `map "counts"`
	kind       error  // a sentinel, or nil
	err        error
}

func (e *opError) Error() string {
	if e.name == "" {
		return e.what + ": " + e.err.Error()
	}
	return fmt.Sprintf("%s %q: %s", e.what, e.name, e.err)
}

func (e *opError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.err}
	}
	return []error{e.kind, e.err}
}

// classify returns the sentinel that err stands for, or nil.
func classify(err error) error {
	switch {
	case errors.Is(err, ebpf.ErrKeyNotExist):
		return ErrNotFound
	case errors.Is(err, ebpf.ErrKeyExist):
		return ErrKeyExists
	case errors.Is(err, ebpf.ErrNotSupported):
		return ErrNotSupported
	}
	return nil
}

// wrapErr wraps err, the error of an operation on the map or program
// called name (what is "map" or "program"), so that it also matches the
// sentinel it stands for. It returns nil for a nil err.
func wrapErr(what, name string, err error) error {
	if err == nil {
		return nil
	}
	return &opError{what: what, name: name, kind: classify(err), err: err}
}

// Causes of the errors handles make when they are bound (the subject is
// filled in by the handle), so that binding formats nothing.
var (
	errLookupMiss = fmt.Errorf("lookup: %w", ebpf.ErrKeyNotExist)
	errWalkEnd    = fmt.Errorf("batch walk: end of map: %w", ebpf.ErrKeyNotExist)
)

// closedErr is the error of operation op on the map or program called
// name after its Collection was closed.
func closedErr(what, name, op string) error {
	return fmt.Errorf("%s %q: %s: collection %w", what, name, op, ErrClosed)
}

// removeMemlock lifts RLIMIT_MEMLOCK, once per process, on kernels that
// charge BPF memory to it (before 5.11); elsewhere it does nothing.
var removeMemlock = sync.OnceValue(rlimit.RemoveMemlock)

// liftMemlock lifts RLIMIT_MEMLOCK where the kernel charges BPF memory to
// it, and returns why that failed, or nil. cilium/ebpf decides whether the
// kernel charges memlock by creating a map under a zero limit, which an
// unprivileged process cannot do on any kernel: a failure is reported only
// when the kernel release is older than 5.11, so that the refusal of an
// unprivileged load on a current kernel does not blame the limit.
func liftMemlock() error {
	err := removeMemlock()
	if err == nil || !chargesMemlock(kernelRelease()) {
		return nil
	}
	return err
}

var kernelRelease = sync.OnceValue(func() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
})

// chargesMemlock reports whether a kernel of the given release ("5.10.0-
// 21-amd64") charges BPF memory to RLIMIT_MEMLOCK: releases before 5.11
// do (memcg accounting came with 5.11). An unreadable release counts as
// old.
func chargesMemlock(release string) bool {
	var major, minor int
	if n, _ := fmt.Sscanf(release, "%d.%d", &major, &minor); n != 2 {
		return true
	}
	return major < 5 || major == 5 && minor < 11
}
