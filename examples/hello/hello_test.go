package main

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bpfskel/bpfskel/runtime/bpfskeltest"
)

// TestHello runs the demo against the kernel and checks its three lines.
func TestHello(t *testing.T) {
	bpfskeltest.RequireKernel(t)
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	want := "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n" +
		"68 65 6c 6c 6f 20 66 72 6f 6d 20 62 70 66 00 00 hello from bpf\n" +
		"68 65 6c 6c 6f 20 66 72 6f 6d 20 75 73 65 72 00 hello from user\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("demo output (-want +got):\n%s", diff)
	}
}
