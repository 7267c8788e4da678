package bpfskeltest

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf"
)

func TestRenameObjects(t *testing.T) {
	u := UniqueName("lk")
	if len(u) != 7 || !strings.HasPrefix(u, "lk") || UniqueName("lk") == u {
		t.Fatalf("UniqueName = %q (and not different twice?)", u)
	}
	spec := &ebpf.CollectionSpec{
		Maps: map[string]*ebpf.MapSpec{
			".bss": {}, ".rodata": {}, ".data.counters": {}, "a_very_long_map_name": {}, "m": {},
		},
		Programs: map[string]*ebpf.ProgramSpec{"handle_exec": {}},
	}
	RenameObjects(spec, u)
	want := map[string]string{
		".bss":                 ".data." + u,
		".rodata":              ".rodata." + u,
		".data.counters":       ".data.c." + u,
		"a_very_long_map_name": (u + "_a_very_long")[:15],
		"m":                    u + "_m",
	}
	for key, name := range want {
		if got := spec.Maps[key].Name; got != name || len(got) > 15 {
			t.Errorf("map %s renamed %q, want %q", key, got, name)
		}
	}
	if got := spec.Programs["handle_exec"].Name; got != (u + "_handle_exec")[:15] {
		t.Errorf("program renamed %q", got)
	}
}

func TestCountResources(t *testing.T) {
	r, err := CountResources()
	if err != nil {
		t.Fatal(err)
	}
	// stdin, stdout and stderr at least; the test binary's text at least.
	if r.FDs < 3 || r.Mappings < 1 || r.Goroutines < 1 {
		t.Errorf("CountResources = %v", r)
	}
}
