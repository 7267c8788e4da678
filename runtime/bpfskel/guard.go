package bpfskel

import "github.com/cilium/ebpf"

// enter begins an operation on the collection's file descriptors. It
// returns false when the collection is closed; otherwise the caller must
// call exit when the operation's system calls are done, and Close waits
// until it has. Operations never nest enter calls: a nested read lock
// would deadlock against a waiting Close.
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

// programTypes lists the types of spec's programs, for loadError.
func programTypes(spec *ebpf.CollectionSpec) []ebpf.ProgramType {
	types := make([]ebpf.ProgramType, 0, len(spec.Programs))
	for _, p := range spec.Programs {
		types = append(types, p.Type)
	}
	return types
}
