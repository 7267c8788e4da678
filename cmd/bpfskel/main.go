// Command bpfskel writes a typed Go skeleton for a compiled BPF object.
//
// Use it from a go:generate directive in the package that should hold the
// skeleton:
//
//	//go:generate go run github.com/bpfskel/bpfskel/cmd/bpfskel -obj hello.bpf.o
//
// It reads the object and its BTF, and writes STEM_bpfel.go (or _bpfeb.go for
// a big-endian object) into -out, next to the object it embeds. With -check
// it writes nothing and fails when the files on disk differ from what it
// would write.
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
