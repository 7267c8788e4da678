package btfmodel

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfskel/bpfskel/internal/elfweak"
	"github.com/cilium/ebpf"
	"github.com/google/go-cmp/cmp"
)

// suiteObjects are the committed objects of the golden cases and of the
// real-world suite.
func suiteObjects(t *testing.T) []string {
	t.Helper()
	var objs []string
	for _, pat := range []string{"../testdata/golden/*/*.bpf.o", "../testdata/realworld/*/*.bpf.o"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, m...)
	}
	if len(objs) < 10 {
		t.Fatalf("found only %d objects", len(objs))
	}
	return objs
}

// TestFallbackMatchesLoader: for every object the collection loader
// accepts, the model read by the fallback reader is the model read through
// the loader: same maps, programs (type, attach type and target included),
// sections, types and names. Only Desc, the cilium/ebpf value each node
// came from, may differ.
func TestFallbackMatchesLoader(t *testing.T) {
	compared := 0
	for _, path := range suiteObjects(t) {
		name := filepath.Base(path)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		renames := renamesOf(t, filepath.Dir(path))
		parsed, _, err := elfweak.Global(data, elfweak.ResolvedExterns)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(parsed)); err != nil {
			continue // the fallback is all there is: TestFallbackRefused
		}
		want, err := Load(name, data, Options{Renames: renames})
		if err != nil {
			continue // an error case of the golden tests
		}
		fb, err := fallbackSpec(data)
		if err != nil {
			t.Errorf("%s: fallback: %v", name, err)
			continue
		}
		bo, _ := checkELF(data)
		got, err := fromSpec(name, bo, fb, nil, Options{Renames: renames})
		if err != nil {
			t.Errorf("%s: model from the fallback: %v", name, err)
			continue
		}
		got.Digest = want.Digest // Load sets it from the bytes, fromSpec has none
		// What gen reads from Desc must agree too.
		if diff := cmp.Diff(descFacts(want), descFacts(got)); diff != "" {
			t.Errorf("%s: map specs differ (-loader +fallback):\n%s", name, diff)
		}
		stripDesc(want)
		stripDesc(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: the fallback's model differs from the loader's (-loader +fallback):\n%s", name, diff)
		}
		compared++
	}
	if compared < 10 {
		t.Errorf("compared only %d objects", compared)
	}
}

// TestFallbackRefused: objects the collection loader refuses still model,
// with the loader's reason recorded for the skeleton and as a note. (The
// usdt object, refused for its __weak maps before Load bound them global
// in a copy, goes through the loader now: TestFallbackMatchesLoader.)
func TestFallbackRefused(t *testing.T) {
	for _, tc := range []struct{ obj, reason string }{
		{"../testdata/realworld/kconfig/kconfig.bpf.o", ".ksyms"},
	} {
		data, err := os.ReadFile(tc.obj)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := Load(filepath.Base(tc.obj), data, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.obj, err)
		}
		if !strings.Contains(obj.LoaderError, tc.reason) {
			t.Errorf("%s: LoaderError = %q, want the loader's reason (%s)", tc.obj, obj.LoaderError, tc.reason)
		}
		if len(obj.Programs) == 0 || len(obj.Maps) == 0 {
			t.Errorf("%s: %d programs, %d maps: the fallback read nothing", tc.obj, len(obj.Programs), len(obj.Maps))
		}
		found := false
		for _, n := range obj.Notes {
			found = found || strings.HasPrefix(n, "cilium/ebpf cannot load this object")
		}
		if !found {
			t.Errorf("%s: no note says the loader refused it: %q", tc.obj, obj.Notes)
		}
	}
}

func renamesOf(t *testing.T, dir string) map[string]string {
	renames := map[string]string{}
	text, err := os.ReadFile(filepath.Join(dir, "renames.txt"))
	if err != nil {
		return renames
	}
	for _, line := range strings.Fields(string(text)) {
		key, to, err := ParseRename(line)
		if err != nil {
			t.Fatal(err)
		}
		renames[key] = to
	}
	return renames
}

// stripDesc clears the cilium/ebpf values the model keeps as Desc, which
// differ between the two readers by construction.
func stripDesc(o *Object) {
	o.Desc = nil
	for _, m := range o.Maps {
		for ; m != nil; m = m.Inner {
			m.Desc = nil
		}
	}
	for _, p := range o.Programs {
		p.Desc = nil
	}
	for _, s := range o.Sections {
		s.Desc = nil
	}
	for _, d := range o.Decls {
		d.Desc = nil
	}
}

// descFacts are the map spec fields a skeleton depends on, per map.
func descFacts(o *Object) map[string][7]uint64 {
	facts := map[string][7]uint64{}
	for _, m := range o.Maps {
		d := m.Desc
		facts[m.CName] = [7]uint64{uint64(d.Type), uint64(d.KeySize), uint64(d.ValueSize),
			uint64(d.MaxEntries), uint64(d.Flags), uint64(d.Pinning), d.MapExtra}
	}
	return facts
}
