package bpfskel

// Pin and Unpin for the handles of per-CPU maps, queues, stacks, bloom
// filters and stack trace maps, as [Map.Pin] and [Map.Unpin].

// Pin pins the map at path, as [Map.Pin] does.
func (m *PerCPUMap[K, V]) Pin(path string) error {
	if m == nil {
		return errNilMap
	}
	return pinMap(m.m, m.name, path)
}

// Unpin removes the map's pin, as [Map.Unpin] does.
func (m *PerCPUMap[K, V]) Unpin() error {
	if m == nil {
		return errNilMap
	}
	return unpinMap(m.m, m.name)
}

// Pin pins the map at path, as [Map.Pin] does.
func (q *queueStack[V]) Pin(path string) error {
	if q == nil {
		return errNilMap
	}
	return q.m.Pin(path)
}

// Unpin removes the map's pin, as [Map.Unpin] does.
func (q *queueStack[V]) Unpin() error {
	if q == nil {
		return errNilMap
	}
	return q.m.Unpin()
}

// Pin pins the map at path, as [Map.Pin] does.
func (f *BloomFilter[V]) Pin(path string) error {
	if f == nil {
		return errNilMap
	}
	return f.m.Pin(path)
}

// Unpin removes the map's pin, as [Map.Unpin] does.
func (f *BloomFilter[V]) Unpin() error {
	if f == nil {
		return errNilMap
	}
	return f.m.Unpin()
}

// Pin pins the map at path, as [Map.Pin] does.
func (s *StackTraceMap[V]) Pin(path string) error {
	if s == nil {
		return errNilMap
	}
	return s.m.Pin(path)
}

// Unpin removes the map's pin, as [Map.Unpin] does.
func (s *StackTraceMap[V]) Unpin() error {
	if s == nil {
		return errNilMap
	}
	return s.m.Unpin()
}
