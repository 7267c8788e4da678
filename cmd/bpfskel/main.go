// Command bpfskel writes a typed Go skeleton for a BPF object.
//
// Use it from a go:generate directive in the package that should hold the
// skeleton, with the C source (bpfskel runs clang) or a compiled object:
//
//	//go:generate go tool bpfskel -src hello.bpf.c
//	//go:generate go tool bpfskel -obj hello.bpf.o
//
// It reads the object and its BTF, and writes STEM_bpfel.go (or _bpfeb.go
// for a big-endian object; both with -target both) into -out, next to the
// object it embeds. Before writing it reads the package's other files, so
// that types shared by several skeletons are declared once and no name
// collides with the user's. With -check it writes nothing and fails when
// the files on disk differ from what it would write.
//
// bpfskel inspect FILE.bpf.o describes an object: its maps, programs and
// data sections, and with -type the layout of one type; bpfskel version
// prints its version. bpfskel -h lists the flags, with examples.
//
// Exit status: 0 success, 1 failure, 2 a mistake in the command line.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "bpfskel:", err)
	if errors.As(err, new(usageError)) {
		os.Exit(2)
	}
	os.Exit(1)
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}
