package gen_test

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bpfskel/bpfskel/btfmodel"
	"github.com/bpfskel/bpfskel/gen"
)

var update = flag.Bool("update", false, "rewrite the expected output of the golden cases")

// goldenDir holds one directory per case: NAME.bpf.c, the object NAME.bpf.o
// built from it, optionally renames.txt (one -rename KIND:CNAME=GoName a
// line), events.txt (one -event MAP=TYPE a line) and types.txt (one -type
// NAME a line), and either the expected skeleton NAME_bpfel.go (a real package,
// compiled and vetted) or error.golden, the expected error.
const goldenDir = "../testdata/golden"

type goldenCase struct {
	name, dir, obj string
}

func goldenCases(t *testing.T) []goldenCase {
	t.Helper()
	objs, err := filepath.Glob(filepath.Join(goldenDir, "*", "*.bpf.o"))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) == 0 {
		t.Fatalf("no golden cases under %s", goldenDir)
	}
	var cases []goldenCase
	for _, obj := range objs {
		dir := filepath.Dir(obj)
		cases = append(cases, goldenCase{name: filepath.Base(dir), dir: dir, obj: obj})
	}
	return cases
}

// generate runs the pipeline as cmd/bpfskel does for an object that sits in
// the package directory.
func generate(t *testing.T, c goldenCase) (map[string][]byte, error) {
	t.Helper()
	model, err := loadModel(t, c)
	if err != nil {
		return nil, err
	}
	base := filepath.Base(c.obj)
	stem, _, _ := strings.Cut(base, ".")
	return gen.Generate(model, gen.Options{Package: c.name, FileStem: stem, ObjectFile: base})
}

// loadModel models a case's object with the renames of its renames.txt.
func loadModel(t *testing.T, c goldenCase) (*btfmodel.Object, error) {
	t.Helper()
	data, err := os.ReadFile(c.obj)
	if err != nil {
		t.Fatal(err)
	}
	return btfmodel.Load(filepath.Base(c.obj), data, caseOptions(t, c.dir))
}

// caseOptions reads the flags of a case from its directory: renames.txt
// (-rename lines), events.txt (-event MAP=TYPE lines) and types.txt
// (-type lines), each optional.
func caseOptions(t *testing.T, dir string) btfmodel.Options {
	t.Helper()
	opts := btfmodel.Options{Renames: map[string]string{}}
	if text, err := os.ReadFile(filepath.Join(dir, "renames.txt")); err == nil {
		for _, line := range strings.Fields(string(text)) {
			key, to, err := btfmodel.ParseRename(line)
			if err != nil {
				t.Fatalf("%s/renames.txt: %v", dir, err)
			}
			opts.Renames[key] = to
		}
	}
	if text, err := os.ReadFile(filepath.Join(dir, "events.txt")); err == nil {
		opts.Events = map[string]string{}
		for _, line := range strings.Fields(string(text)) {
			m, typ, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s/events.txt: %q is not MAP=TYPE", dir, line)
			}
			opts.Events[m] = typ
		}
	}
	if text, err := os.ReadFile(filepath.Join(dir, "types.txt")); err == nil {
		opts.Types = strings.Fields(string(text))
	}
	return opts
}

// checkGoldenFiles compares generated files with the ones in dir, or
// rewrites them with -update.
func checkGoldenFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, got := range files {
		path := filepath.Join(dir, name)
		if *update {
			writeGolden(t, path, got)
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("missing expected output %s; rerun with -update", path)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s differs (-want +got), rerun with -update if intended:\n%s", path, diff)
		}
	}
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			files, err := generate(t, c)
			errFile := filepath.Join(c.dir, "error.golden")
			if err != nil {
				got := err.Error() + "\n"
				if *update {
					writeGolden(t, errFile, []byte(got))
					return
				}
				want, rerr := os.ReadFile(errFile)
				if rerr != nil {
					t.Fatalf("unexpected error (no error.golden): %v", err)
				}
				if diff := cmp.Diff(string(want), got); diff != "" {
					t.Errorf("error differs (-want +got), rerun with -update if intended:\n%s", diff)
				}
				return
			}
			if _, statErr := os.Stat(errFile); statErr == nil && !*update {
				t.Fatalf("generated a skeleton, but %s expects an error", errFile)
			}
			if *update {
				os.Remove(errFile)
			}
			checkGoldenFiles(t, c.dir, files)
		})
	}
}

func writeGolden(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDeterministic generates every case twice: the bytes must not differ.
func TestDeterministic(t *testing.T) {
	for _, c := range goldenCases(t) {
		a, errA := generate(t, c)
		b, errB := generate(t, c)
		if (errA == nil) != (errB == nil) || (errA != nil && errA.Error() != errB.Error()) {
			t.Fatalf("%s: errors differ: %v / %v", c.name, errA, errB)
		}
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("%s: output differs between two runs:\n%s", c.name, diff)
		}
	}
}

// TestGoldenCompiles builds and vets the expected skeletons: little-endian
// ones for amd64, 386, arm64 and arm (64- and 32-bit, two alignments of
// 64-bit integers), big-endian ones for s390x. The
// layout guards make any layout drift a build error.
func TestGoldenCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the golden packages; skipped with -short")
	}
	pkgs := map[string][]string{} // byte order suffix -> packages
	for _, c := range goldenCases(t) {
		for _, suffix := range []string{"bpfel", "bpfeb"} {
			if m, _ := filepath.Glob(filepath.Join(c.dir, "*_"+suffix+".go")); len(m) > 0 {
				pkgs[suffix] = append(pkgs[suffix], "./testdata/golden/"+c.name)
			}
		}
	}
	if len(pkgs["bpfel"]) == 0 || len(pkgs["bpfeb"]) == 0 {
		t.Fatalf("want golden skeletons of both byte orders, have %v", pkgs)
	}
	for _, target := range []struct{ goarch, suffix string }{
		{"amd64", "bpfel"}, {"386", "bpfel"}, {"arm64", "bpfel"}, {"arm", "bpfel"}, {"s390x", "bpfeb"},
	} {
		for _, verb := range []string{"build", "vet"} {
			cmd := exec.Command("go", append([]string{verb}, pkgs[target.suffix]...)...)
			cmd.Dir = ".."
			cmd.Env = append(os.Environ(), "GOARCH="+target.goarch, "GOOS=linux")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Errorf("GOARCH=%s go %s %v: %v\n%s", target.goarch, verb, pkgs[target.suffix], err, out.String())
			}
		}
	}
}
