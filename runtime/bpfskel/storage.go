package bpfskel

import (
	"fmt"
	"unsafe"

	"github.com/cilium/ebpf"
)

// Storage is a handle on a local storage map with values of type V,
// created by [BindStorage]: the map gives each kernel object (a socket, a
// task, an inode, a cgroup) its own V, and BPF programs reach it with
// bpf_sk_storage_get, bpf_task_storage_get, bpf_inode_storage_get or
// bpf_cgrp_storage_get. From user space the key is a file descriptor that
// names the object:
//
//   - SK_STORAGE: a socket.
//   - TASK_STORAGE: a pidfd (pidfd_open(2); with PIDFD_THREAD, Linux 6.9,
//     for one thread of a process).
//   - INODE_STORAGE: any open file; the value belongs to its inode.
//   - CGRP_STORAGE: a cgroup v2 directory.
//
// The kernel never retains the descriptor; the value lives as long as the
// object does. Lookup, Update and Delete do not allocate when they succeed
// or when a lookup misses. A Storage is safe for concurrent use.
type Storage[V any] struct {
	m typedMap[int32, V]
}

// BindStorage returns a handle on the local storage map called name. It
// checks the map type, that the key is 4 bytes (an int) and that V is plain
// data of the value size. On failure it returns nil and records the reason
// in b.
func BindStorage[V any](b *Binder, name string) *Storage[V] {
	if b == nil {
		return nil
	}
	em, m, ok := bindMap[int32, V](b, name)
	if em == nil {
		return nil
	}
	if !b.checkType(name, em, ebpf.SkStorage, ebpf.TaskStorage, ebpf.InodeStorage, ebpf.CgroupStorage) || !ok {
		return nil
	}
	return &Storage[V]{m: m}
}

func (s *Storage[V]) handle() *Map[int32, V] {
	if s == nil {
		return nil
	}
	return &s.m
}

// Map returns the underlying cilium/ebpf map, the escape hatch for what
// the handle does not wrap. It is closed with the handle's Collection.
func (s *Storage[V]) Map() *ebpf.Map { return s.handle().Map() }

// at returns the typed map and the key for the object fd refers to.
func (s *Storage[V]) at(fd int) (*Map[int32, V], int32, error) {
	m := s.handle()
	if err := m.check(); err != nil {
		return nil, 0, err
	}
	if fd < 0 || fd > 1<<31-1 {
		return nil, 0, fmt.Errorf("map %q: %d is not a file descriptor", m.name, fd)
	}
	return m, int32(fd), nil
}

// Lookup returns the value stored for the object fd refers to. When the
// object has none the error wraps ebpf.ErrKeyNotExist.
func (s *Storage[V]) Lookup(fd int) (V, error) {
	var v V
	err := s.LookupInto(fd, &v)
	return v, err
}

// LookupInto reads the value stored for the object fd refers to into
// *value. When the object has none the error wraps ebpf.ErrKeyNotExist and
// *value is unspecified.
func (s *Storage[V]) LookupInto(fd int, value *V) error {
	m, k, err := s.at(fd)
	if err != nil {
		return err
	}
	if value == nil {
		return fmt.Errorf("map %q: LookupInto with a nil pointer", m.name)
	}
	return m.lookup(noescape(unsafe.Pointer(&k)), noescape(unsafe.Pointer(value)))
}

// Update stores value for the object fd refers to. flags select
// create-only ([UpdateNoExist]), update-only ([UpdateExist]) or either
// ([UpdateAny]); [UpdateLock] updates under the value's bpf_spin_lock.
func (s *Storage[V]) Update(fd int, value V, flags UpdateFlags) error {
	m, k, err := s.at(fd)
	if err != nil {
		return err
	}
	return m.Update(k, value, flags)
}

// Delete removes the value stored for the object fd refers to. When it has
// none the error wraps ebpf.ErrKeyNotExist.
func (s *Storage[V]) Delete(fd int) error {
	m, k, err := s.at(fd)
	if err != nil {
		return err
	}
	return m.Delete(k)
}
