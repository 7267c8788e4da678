// Command hello is bpfskel's walking skeleton: it loads hello.bpf.o through
// its generated skeleton, shares a BPF_F_MMAPABLE array with the kernel
// through a typed mmap view, and runs the BPF program with BPF_PROG_TEST_RUN.
//
// It must run as root (or with CAP_BPF): sudo make demo.
package main

//go:generate go run github.com/bpfskel/bpfskel/cmd/bpfskel -obj hello.bpf.o

import (
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "hello:", err)
		os.Exit(1)
	}
}

func run(w io.Writer) (err error) {
	spec, err := Open()
	if err != nil {
		return err
	}
	skel, err := spec.Load(nil)
	if err != nil {
		return fmt.Errorf("loading (are you root?): %w", err)
	}
	defer func() {
		if cerr := skel.Close(); err == nil {
			err = cerr
		}
	}()

	buf, err := skel.Maps.BufMap.Mmap()
	if err != nil {
		return err
	}
	show := func() error {
		v, err := buf.Get(0)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, line(v))
		return err
	}

	if err := show(); err != nil { // all zeros
		return err
	}
	if _, err := skel.Programs.Hello.TestRun(nil); err != nil {
		return err
	}
	if err := show(); err != nil { // the program wrote "hello from bpf"
		return err
	}
	var msg [16]byte
	copy(msg[:], "hello from user")
	if err := buf.Set(0, msg); err != nil {
		return err
	}
	if err := show(); err != nil {
		return err
	}
	// The first byte is no longer 0, so the program leaves the buffer alone
	// and only prints it to the trace pipe.
	_, err = skel.Programs.Hello.TestRun(nil)
	return err
}

// line formats the buffer as 16 hex bytes and its printable characters.
func line(b [16]byte) string {
	var text strings.Builder
	for _, c := range b {
		if c >= ' ' && c <= '~' {
			text.WriteByte(c)
		}
	}
	return strings.TrimRight(fmt.Sprintf("% x %s", b[:], text.String()), " ")
}
