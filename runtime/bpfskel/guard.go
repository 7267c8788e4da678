package bpfskel

import "github.com/cilium/ebpf"

// enter begins an operation on the collection's file descriptors. It
// returns false when the collection is closed; otherwise the caller must
// call exit when the operation's system calls are done, and Close waits
// until it has. Operations never nest enter calls: a nested read lock
// would deadlock against a waiting Close. For the same reason the Close
// of anything registered with the Collection (views, inner maps) must not
// call enter, and nothing may hold it across a wait that only Close ends
// (a blocking ring buffer read): such a reader registers itself instead,
// so that Close closes it.
//
// The cost on the fast path is one atomic add each way (sync.RWMutex's
// reader count), against a system call of a microsecond or more.
func (c *Collection) enter() bool {
	if c == nil {
		// A handle made without a Collection: nothing to guard.
		return true
	}
	c.ops.RLock()
	if c.fdsClosed {
		c.ops.RUnlock()
		return false
	}
	return true
}

// exit ends an operation begun by a successful enter.
func (c *Collection) exit() {
	if c != nil {
		c.ops.RUnlock()
	}
}

// ownFD is the descriptor of a map handle that the user may close on its
// own, before its Collection: an [InnerMap]. It is registered with the
// Collection, whose Close closes it under the guard's write lock;
// InnerMap.Close takes that lock itself. closed is guarded by the
// Collection's ops lock.
type ownFD struct {
	m      *ebpf.Map
	closed bool
}

// Close closes the descriptor once. The caller holds the write lock.
func (o *ownFD) Close() error {
	if o.closed {
		return nil
	}
	o.closed = true
	return o.m.Close()
}

// enter is Collection.enter for an operation on m; it fails too once m's
// own descriptor (an InnerMap's) is closed.
func (m *Map[K, V]) enter() bool {
	if m == nil {
		return true // an Iterator made without a handle (tests)
	}
	if !m.coll.enter() {
		return false
	}
	if m.own != nil && m.own.closed {
		m.coll.exit()
		return false
	}
	return true
}

// exit ends an operation begun by a successful m.enter.
func (m *Map[K, V]) exit() {
	if m != nil {
		m.coll.exit()
	}
}
