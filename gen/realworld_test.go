package gen_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// realworldDir holds the real-world suite (its README says what each object
// is); the objects listed in realworldGolden also keep their expected
// skeleton there, as real packages the kernel tests import.
const realworldDir = "../testdata/realworld"

var realworldGolden = []string{"biotop", "execsnoop", "globals", "legacymaps", "usdt", "xdpfilter"}

func realworldCases(t testing.TB) []goldenCase {
	objs, err := filepath.Glob(filepath.Join(realworldDir, "*", "*.bpf.o"))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) < 10 {
		t.Fatalf("found %d objects under %s, want the whole suite (make objects)", len(objs), realworldDir)
	}
	var cases []goldenCase
	for _, obj := range objs {
		dir := filepath.Dir(obj)
		cases = append(cases, goldenCase{name: filepath.Base(dir), dir: dir, obj: obj})
	}
	return cases
}

// TestRealWorld generates every object of the suite; for the golden ones
// the skeleton must be the committed one (-update rewrites it).
func TestRealWorld(t *testing.T) {
	for _, c := range realworldCases(t) {
		t.Run(c.name, func(t *testing.T) {
			files, err := generate(t, c)
			if err != nil {
				t.Fatalf("bpfskel must generate every object of the suite: %v", err)
			}
			if !slices.Contains(realworldGolden, c.name) {
				return
			}
			checkGoldenFiles(t, c.dir, files)
		})
	}
}

// TestRealWorldCompiles builds and vets the skeleton of every object of the
// suite, for a 64-bit and a 32-bit GOARCH: the committed ones in place, the
// others written with their object to a temporary package inside the
// module.
func TestRealWorldCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a package per object; skipped with -short")
	}
	tmp, err := os.MkdirTemp(realworldDir, "build-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	var pkgs []string
	for _, c := range realworldCases(t) {
		if slices.Contains(realworldGolden, c.name) {
			pkgs = append(pkgs, "./testdata/realworld/"+c.name)
			continue
		}
		files, err := generate(t, c)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		dir := filepath.Join(tmp, c.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		obj, err := os.ReadFile(c.obj)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(c.obj)] = obj
		for name, b := range files {
			writeGolden(t, filepath.Join(dir, name), b)
		}
		pkgs = append(pkgs, "./testdata/realworld/"+filepath.Base(tmp)+"/"+c.name)
	}
	for _, run := range []struct{ goarch, verb string }{{"amd64", "vet"}, {"386", "build"}} {
		cmd := exec.Command("go", append([]string{run.verb}, pkgs...)...)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "GOARCH="+run.goarch, "GOOS=linux")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Errorf("GOARCH=%s go %s: %v\n%s", run.goarch, run.verb, err, out.String())
		}
	}
}
