package bpfskeltest

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/cilium/ebpf"
)

// Leak tests run a skeleton's whole life many times and check that the
// process and the kernel end where they started. The helpers below count
// what a leak would grow; they are shared by the runtime's leak tests (with
// and without attaching programs).

// Resources counts what the process holds.
type Resources struct {
	// FDs is the number of open file descriptors (entries of
	// /proc/self/fd, less the one used to list them).
	FDs int
	// Mappings is the number of memory mappings (lines of
	// /proc/self/maps). The Go runtime adds some as its heap grows, so
	// compare it with some slack.
	Mappings int
	// BPFMappings is the number of mappings of BPF maps
	// ("anon_inode:bpf-map" in /proc/self/maps): mmapped arrays and data
	// sections still attached to a map.
	BPFMappings int
	// Goroutines is runtime.NumGoroutine().
	Goroutines int
}

// String formats r for a test failure.
func (r Resources) String() string {
	return fmt.Sprintf("%d fds, %d mappings (%d of BPF maps), %d goroutines", r.FDs, r.Mappings, r.BPFMappings, r.Goroutines)
}

// CountResources counts the process's file descriptors, memory mappings
// and goroutines. It works on Linux only (it reads /proc/self).
func CountResources() (Resources, error) {
	var r Resources
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return r, err
	}
	r.FDs = len(fds) - 1 // ReadDir's own descriptor is listed
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return r, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		r.Mappings++
		if strings.HasSuffix(sc.Text(), "anon_inode:bpf-map") {
			r.BPFMappings++
		}
	}
	if err := sc.Err(); err != nil {
		return r, err
	}
	r.Goroutines = runtime.NumGoroutine()
	return r, nil
}

// KernelObjects counts the BPF maps and programs in the kernel, loaded by
// any process, whose names contain unique. Other tests load objects into
// the same kernel at the same time: name the objects under test with
// RenameObjects and a string from UniqueName, and count only those. Objects are freed by the
// kernel shortly after their last reference goes, so poll for a count to
// drop rather than expecting it at once.
func KernelObjects(unique string) (maps, progs int, err error) {
	maps, err = countNamed(ebpf.MapGetNextID, func(id ebpf.MapID) (string, error) {
		m, err := ebpf.NewMapFromID(id)
		if err != nil {
			return "", err
		}
		defer m.Close()
		info, err := m.Info()
		if err != nil {
			return "", err
		}
		return info.Name, nil
	}, unique)
	if err != nil {
		return 0, 0, fmt.Errorf("maps: %w", err)
	}
	progs, err = countNamed(ebpf.ProgramGetNextID, func(id ebpf.ProgramID) (string, error) {
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			return "", err
		}
		defer p.Close()
		info, err := p.Info()
		if err != nil {
			return "", err
		}
		return info.Name, nil
	}, unique)
	if err != nil {
		return 0, 0, fmt.Errorf("programs: %w", err)
	}
	return maps, progs, nil
}

// countNamed walks the kernel's IDs of one kind of object with next and
// counts those whose name, read by name, contains unique. Objects freed
// during the walk are skipped.
func countNamed[ID ~uint32](next func(ID) (ID, error), name func(ID) (string, error), unique string) (int, error) {
	n := 0
	for id := ID(0); ; {
		var err error
		id, err = next(id)
		if errors.Is(err, os.ErrNotExist) {
			return n, nil
		}
		if err != nil {
			return 0, fmt.Errorf("next ID: %w", err)
		}
		got, err := name(id)
		if errors.Is(err, os.ErrNotExist) {
			continue // freed meanwhile
		}
		if err != nil {
			return 0, fmt.Errorf("ID %d: %w", id, err)
		}
		if strings.Contains(got, unique) {
			n++
		}
	}
}

// UniqueName returns tag followed by 5 random hex digits: a string that
// no other test puts in the kernel names of its maps and programs. Keep
// tag to 2 characters: the kernel keeps 15 characters of a name, and
// RenameObjects needs 8 of them for the names of data sections.
func UniqueName(tag string) string {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return tag + hex.EncodeToString(b[:])[:5]
}

// RenameObjects gives every map and program of spec a kernel name that
// contains unique, so KernelObjects(unique) counts them: unique, "_" and a
// short form of the name, cut to the kernel's 15 characters. Data sections
// (.data, .rodata, ...) keep the start of their name, which cilium/ebpf
// uses to create them mmapable: ".rodata" becomes ".rodata.<unique>".
// cilium/ebpf knows .bss by its exact name only, so it becomes
// ".data.<unique>", which it creates the same way (mmapable, writable).
// The collection's keys, which skeletons bind by, do not change.
func RenameObjects(spec *ebpf.CollectionSpec, unique string) {
	cut := func(n string) string { return n[:min(len(n), 15)] }
	short := func(name string) string {
		var b strings.Builder
		for _, r := range name {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
				b.WriteRune(r)
			}
		}
		return cut(unique + "_" + b.String())
	}
	for name, m := range spec.Maps {
		if name == ".bss" {
			m.Name = cut(".data." + unique)
			continue
		}
		if strings.HasPrefix(name, ".") {
			m.Name = cut(name[:min(len(name), 14-len(unique))] + "." + unique)
			continue
		}
		m.Name = short(name)
	}
	for name, p := range spec.Programs {
		p.Name = short(name)
	}
}
