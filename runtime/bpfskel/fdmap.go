package bpfskel

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// fdMap is what the handles of maps whose values are file descriptors
// share: a program array, a cgroup array, an XSK map, a socket map. User
// space writes a file descriptor; the kernel stores the object behind it
// (a program, a cgroup, a socket) and the descriptor may be closed
// afterwards. value_size is 4, or 8 for socket maps that return cookies.
type fdMap[K any] struct {
	m    *ebpf.Map
	name string
	wide bool // value_size is 8
	coll *Collection

	errMiss error // preallocated lookup miss error, wraps ebpf.ErrKeyNotExist
}

// bindFDMap checks that the map called name is one of types, that K is
// plain data of the key size and that the value is 4 bytes (or 8 when
// wideOK), and returns its handle.
func bindFDMap[K any](b *Binder, name string, wideOK bool, types ...ebpf.MapType) (fdMap[K], bool) {
	m := b.findMap(name)
	if m == nil {
		return fdMap[K]{}, false
	}
	var k K
	ok := b.checkType(name, m, types...)
	ok = b.checkPlain(name, "key", reflect.TypeFor[K]()) && ok
	ok = b.checkSize(name, "key", unsafe.Sizeof(k), m.KeySize()) && ok
	wide := wideOK && m.ValueSize() == 8
	if !wide {
		ok = b.checkSize(name, "value (a file descriptor)", 4, m.ValueSize()) && ok
	}
	if !ok {
		return fdMap[K]{}, false
	}
	return fdMap[K]{
		m: m, name: name, wide: wide, coll: b.c,
		errMiss: wrapErr("map", name, errLookupMiss),
	}, true
}

// checkType records a map whose type is none of types.
func (b *Binder) checkType(name string, m *ebpf.Map, types ...ebpf.MapType) bool {
	for _, t := range types {
		if m.Type() == t {
			return true
		}
	}
	b.fail("map %q: is a %s map, the handle needs %s", name, m.Type(), typeList(types))
	return false
}

func typeList(types []ebpf.MapType) string {
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = t.String()
	}
	return strings.Join(names, " or ")
}

// Map returns the underlying cilium/ebpf map, the escape hatch for what
// the handle does not wrap. It is closed with the handle's Collection.
func (f *fdMap[K]) Map() *ebpf.Map {
	if f == nil {
		return nil
	}
	return f.m
}

func (f *fdMap[K]) check() error {
	if f == nil || f.m == nil {
		return errNilMap
	}
	return nil
}

// set stores the object behind fd under *key.
func (f *fdMap[K]) set(key *K, fd int, flags UpdateFlags) error {
	return f.store(key, nil, fd, flags)
}

// setObject stores obj, a program or map that Close may be closing, under
// *key: its descriptor is read under the Collection's guard.
func (f *fdMap[K]) setObject(key *K, obj interface{ FD() int }, flags UpdateFlags) error {
	return f.store(key, obj, -1, flags)
}

// store is set and setObject: the descriptor is obj's when obj is not nil,
// else fd.
func (f *fdMap[K]) store(key *K, obj interface{ FD() int }, fd int, flags UpdateFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	if !f.coll.enter() {
		return closedErr("map", f.name, "update")
	}
	defer f.coll.exit()
	if obj != nil {
		fd = obj.FD()
	}
	if fd < 0 || uint64(fd) > 1<<31-1 {
		return fmt.Errorf("map %q: update: %d is not a file descriptor", f.name, fd)
	}
	var err error
	if f.wide {
		v := uint64(fd)
		err = f.m.Update(noescape(unsafe.Pointer(key)), noescape(unsafe.Pointer(&v)), flags)
	} else {
		v := uint32(fd)
		err = f.m.Update(noescape(unsafe.Pointer(key)), noescape(unsafe.Pointer(&v)), flags)
	}
	if err != nil {
		return wrapErr("map", f.name, fmt.Errorf("update with file descriptor %d: %w", fd, err))
	}
	return nil
}

// del removes *key; a missing key wraps ebpf.ErrKeyNotExist.
func (f *fdMap[K]) del(key *K) error {
	if err := f.check(); err != nil {
		return err
	}
	if !f.coll.enter() {
		return closedErr("map", f.name, "delete")
	}
	err := f.m.Delete(noescape(unsafe.Pointer(key)))
	f.coll.exit()
	if err != nil {
		return wrapErr("map", f.name, err)
	}
	return nil
}

// lookup reads what the kernel returns to user space for *key: an ID or a
// cookie, as wide as the value.
func (f *fdMap[K]) lookup(key *K) (uint64, error) {
	if err := f.check(); err != nil {
		return 0, err
	}
	if !f.coll.enter() {
		return 0, closedErr("map", f.name, "lookup")
	}
	var err error
	var v uint64
	if f.wide {
		err = f.m.Lookup(noescape(unsafe.Pointer(key)), noescape(unsafe.Pointer(&v)))
	} else {
		var v32 uint32
		err = f.m.Lookup(noescape(unsafe.Pointer(key)), noescape(unsafe.Pointer(&v32)))
		v = uint64(v32)
	}
	f.coll.exit()
	switch {
	case errors.Is(err, ebpf.ErrKeyNotExist):
		return 0, f.errMiss
	case err != nil:
		return 0, wrapErr("map", f.name, err)
	}
	return v, nil
}

// ProgArray is a handle on a PROG_ARRAY map, the jump table of
// bpf_tail_call, created by [BindProgArray]. Slots hold programs of the
// same type as the program that tail-calls (the kernel enforces it).
// A ProgArray is safe for concurrent use.
//
// The kernel drops every entry of a program array when the last user
// space reference to it goes away (its file descriptors and pins), even
// while programs that use it stay loaded: keep the skeleton open, or pin
// the map, for as long as tail calls must work.
type ProgArray struct{ f fdMap[uint32] }

func (h *ProgArray) fd() *fdMap[uint32] {
	if h == nil {
		return nil
	}
	return &h.f
}

// Map returns the underlying cilium/ebpf map, the escape hatch for what
// the handle does not wrap. It is closed with the handle's Collection.
func (h *ProgArray) Map() *ebpf.Map { return h.fd().Map() }

// BindProgArray returns a handle on the program array called name. It
// checks the map type and the key and value sizes. On failure it returns
// nil and records the reason in b.
func BindProgArray(b *Binder, name string) *ProgArray {
	if b == nil {
		return nil
	}
	f, ok := bindFDMap[uint32](b, name, false, ebpf.ProgramArray)
	if !ok {
		return nil
	}
	return &ProgArray{f: f}
}

// Set puts p (a *Program or any typed program handle) in slot index: a
// tail call to index then runs p.
func (a *ProgArray) Set(index uint32, h AnyProgram) error {
	p := programOf(h)
	f := a.fd()
	if err := f.check(); err != nil {
		return err
	}
	if p == nil || p.p == nil {
		return fmt.Errorf("map %q: set slot %d: nil Program (did its bind fail? see Binder.Err)", f.name, index)
	}
	return a.fd().setObject(&index, p.p, UpdateAny)
}

// Clear empties slot index: a tail call to it then falls through. Clearing
// an empty slot returns an error wrapping ebpf.ErrKeyNotExist.
func (a *ProgArray) Clear(index uint32) error {
	return a.fd().del(&index)
}

// ProgramID returns the ID of the program in slot index (the kernel
// reports IDs, not descriptors, to user space). An empty slot returns an
// error wrapping ebpf.ErrKeyNotExist. ebpf.NewProgramFromID opens it.
func (a *ProgArray) ProgramID(index uint32) (ebpf.ProgramID, error) {
	id, err := a.fd().lookup(&index)
	return ebpf.ProgramID(id), err
}

// CgroupArray is a handle on a CGROUP_ARRAY map, read by
// bpf_current_task_under_cgroup and bpf_skb_under_cgroup, created by
// [BindCgroupArray]. Entries are cgroup v2 directories, given by path or by
// an open file descriptor. The kernel does not let user space read entries
// back (a lookup fails with ENOTSUPP), so there is no Lookup. A
// CgroupArray is safe for concurrent use.
type CgroupArray struct{ f fdMap[uint32] }

func (h *CgroupArray) fd() *fdMap[uint32] {
	if h == nil {
		return nil
	}
	return &h.f
}

// Map returns the underlying cilium/ebpf map, the escape hatch for what
// the handle does not wrap. It is closed with the handle's Collection.
func (h *CgroupArray) Map() *ebpf.Map { return h.fd().Map() }

// BindCgroupArray returns a handle on the cgroup array called name. It
// checks the map type and the key and value sizes. On failure it returns
// nil and records the reason in b.
func BindCgroupArray(b *Binder, name string) *CgroupArray {
	if b == nil {
		return nil
	}
	f, ok := bindFDMap[uint32](b, name, false, ebpf.CGroupArray)
	if !ok {
		return nil
	}
	return &CgroupArray{f: f}
}

// Set stores the cgroup open as fd (a cgroup v2 directory) in slot index.
// The map keeps its own reference: fd may be closed afterwards.
func (a *CgroupArray) Set(index uint32, fd int) error {
	return a.fd().set(&index, fd, UpdateAny)
}

// SetPath stores the cgroup v2 directory at path (for example
// /sys/fs/cgroup/system.slice) in slot index.
func (a *CgroupArray) SetPath(index uint32, path string) error {
	f := a.fd()
	if err := f.check(); err != nil {
		return err
	}
	dir, err := os.OpenFile(path, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return fmt.Errorf("map %q: slot %d: %w", f.name, index, err)
	}
	defer dir.Close()
	if err := f.set(&index, int(dir.Fd()), UpdateAny); err != nil {
		return fmt.Errorf("%w (is %s a cgroup v2 directory?)", err, path)
	}
	return nil
}

// Clear empties slot index.
func (a *CgroupArray) Clear(index uint32) error {
	return a.fd().del(&index)
}

// XSKMap is a handle on an XSKMAP map, the AF_XDP sockets that
// bpf_redirect_map hands frames to, created by [BindXSKMap]. The kernel
// takes any AF_XDP socket (frames reach it once it is bound to the device
// and queue with an RX ring) and refuses other sockets. It refuses lookups
// from user space (EOPNOTSUPP), so there is no Lookup. An XSKMap is safe
// for concurrent use.
type XSKMap struct{ f fdMap[uint32] }

func (h *XSKMap) fd() *fdMap[uint32] {
	if h == nil {
		return nil
	}
	return &h.f
}

// Map returns the underlying cilium/ebpf map, the escape hatch for what
// the handle does not wrap. It is closed with the handle's Collection.
func (h *XSKMap) Map() *ebpf.Map { return h.fd().Map() }

// BindXSKMap returns a handle on the XSK map called name. It checks the map
// type and the key and value sizes. On failure it returns nil and records
// the reason in b.
func BindXSKMap(b *Binder, name string) *XSKMap {
	if b == nil {
		return nil
	}
	f, ok := bindFDMap[uint32](b, name, false, ebpf.XSKMap)
	if !ok {
		return nil
	}
	return &XSKMap{f: f}
}

// Set stores the bound AF_XDP socket fd in slot index (usually the queue
// index the socket is bound to).
func (x *XSKMap) Set(index uint32, fd int) error {
	return x.fd().set(&index, fd, UpdateAny)
}

// Delete empties slot index.
func (x *XSKMap) Delete(index uint32) error {
	return x.fd().del(&index)
}

// SockMap is a handle on a SOCKMAP, SOCKHASH or REUSEPORT_SOCKARRAY map
// with keys of type K, created by [BindSockMap]. Set stores a socket given
// by its file descriptor: for SOCKMAP and SOCKHASH a TCP socket that is
// listening or established, a bound UDP socket, or a connected unix or
// vsock socket; for REUSEPORT_SOCKARRAY a bound UDP or listening TCP
// socket with SO_REUSEPORT set. Reading an entry back gives
// the socket's cookie (SO_COOKIE), and only when the map's value is 8 bytes
// (__u64): with 4-byte values the kernel refuses lookups from user space
// (ENOSPC), and [SockMap.Cookie] says so. A SockMap is safe for concurrent
// use.
type SockMap[K any] struct{ f fdMap[K] }

func (h *SockMap[K]) fd() *fdMap[K] {
	if h == nil {
		return nil
	}
	return &h.f
}

// Map returns the underlying cilium/ebpf map, the escape hatch for what
// the handle does not wrap. It is closed with the handle's Collection.
func (h *SockMap[K]) Map() *ebpf.Map { return h.fd().Map() }

// BindSockMap returns a handle on the socket map or socket hash called
// name. It checks the map type, that K is plain data of the key size and
// that the value is 4 or 8 bytes. On failure it returns nil and records the
// reason in b.
func BindSockMap[K any](b *Binder, name string) *SockMap[K] {
	if b == nil {
		return nil
	}
	f, ok := bindFDMap[K](b, name, true, ebpf.SockMap, ebpf.SockHash, ebpf.ReusePortSockArray)
	if !ok {
		return nil
	}
	return &SockMap[K]{f: f}
}

// Set stores the socket open as fd under key. flags select create-only
// ([UpdateNoExist]), update-only ([UpdateExist]) or either ([UpdateAny]).
func (s *SockMap[K]) Set(key K, fd int, flags UpdateFlags) error {
	return s.fd().set(&key, fd, flags)
}

// Delete removes key. When key is absent the error wraps
// ebpf.ErrKeyNotExist for a SOCKHASH, and unix.EINVAL for a SOCKMAP (the
// kernel's answer for an empty slot).
func (s *SockMap[K]) Delete(key K) error {
	return s.fd().del(&key)
}

// Cookie returns the cookie of the socket stored under key, the value
// getsockopt(SO_COOKIE) returns for it. It needs a map with 8-byte values;
// when key is absent the error wraps ebpf.ErrKeyNotExist.
func (s *SockMap[K]) Cookie(key K) (uint64, error) {
	f := s.fd()
	if err := f.check(); err != nil {
		return 0, err
	}
	if !f.wide {
		return 0, fmt.Errorf("map %q: the kernel returns socket cookies to user space only from maps with 8-byte values; declare the value as __u64", f.name)
	}
	return f.lookup(&key)
}
