package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestNoFlagNeeded: objects whose C names collide in Go, and objects
// cilium/ebpf cannot load, generate with no flag; the command prints a note
// for each name the collision rule chose and for the loader's refusal.
func TestNoFlagNeeded(t *testing.T) {
	for _, tc := range []struct {
		obj   string
		notes []string
	}{
		{"../../testdata/realworld/biotop/biotop.bpf.o", []string{
			`note: program "__blk_account_io_start" is named X__blk_account_io_start: in the Programs struct, BlkAccountIoStart belongs to program "blk_account_io_start"`,
		}},
		{"../../testdata/golden/collision/collision.bpf.o", []string{
			`note: map "my_map" is named My_map`, `note: member "close" of pair is named Xclose`,
		}},
		{"../../testdata/realworld/kconfig/kconfig.bpf.o", []string{
			`note: cilium/ebpf cannot load this object (`, `.ksyms`,
		}},
	} {
		abs, err := filepath.Abs(tc.obj)
		if err != nil {
			t.Fatal(err)
		}
		code, stderr := command(t, t.TempDir(), "-obj", abs, "-pkg", "p", "-out", ".")
		if code != 0 {
			t.Errorf("%s: exit %d, want 0 with no flag:\n%s", tc.obj, code, stderr)
			continue
		}
		for _, want := range tc.notes {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: stderr lacks %q:\n%s", tc.obj, want, stderr)
			}
		}
	}
}
