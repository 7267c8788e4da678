package gen_test

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfskel/bpfskel/btfmodel"
	"github.com/bpfskel/bpfskel/gen"
)

// benchObject is one object of the benchmarks: the real-world suite and the
// golden cases, whose BTF sizes span two orders of magnitude.
type benchObject struct {
	name, path string
	data       []byte
	btfBytes   int
}

func benchObjects(b *testing.B) []benchObject {
	b.Helper()
	var paths []string
	for _, pat := range []string{realworldDir + "/*/*.bpf.o", goldenDir + "/*/*.bpf.o"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			b.Fatal(err)
		}
		paths = append(paths, m...)
	}
	var objs []benchObject
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		f, err := elf.NewFile(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		sec := f.Section(".BTF")
		if sec == nil {
			b.Fatalf("%s has no .BTF", p)
		}
		name := filepath.Base(filepath.Dir(p))
		if strings.HasPrefix(p, goldenDir) {
			name = "golden-" + name
		}
		objs = append(objs, benchObject{name: name, path: p, data: data, btfBytes: int(sec.Size)})
	}
	return objs
}

// BenchmarkGenerate is the generator in process, per object: btfmodel.Load
// and gen.Generate. The btf-bytes metric is the object's .BTF size, so
// ns/op against btf-bytes shows how the cost grows with the BTF.
func BenchmarkGenerate(b *testing.B) {
	for _, o := range benchObjects(b) {
		b.Run(o.name, func(b *testing.B) {
			name := filepath.Base(o.path)
			stem, _, _ := strings.Cut(name, ".")
			b.ReportAllocs()
			b.SetBytes(int64(len(o.data)))
			for b.Loop() {
				model, err := btfmodel.Load(name, o.data, btfmodel.Options{})
				if err != nil {
					if strings.HasPrefix(o.name, "golden-") {
						continue // an error case (renames the harness passes)
					}
					b.Fatal(err)
				}
				if _, err := gen.Generate(model, gen.Options{Package: "p", FileStem: stem, ObjectFile: name}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(o.btfBytes), "btf-bytes")
		})
	}
}

// BenchmarkCLI runs the bpfskel command as a whole process per object, as
// go generate does (the binary is built once, outside the timing).
func BenchmarkCLI(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "bpfskel")
	build := exec.Command("go", "build", "-o", bin, "../cmd/bpfskel")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building the CLI: %v\n%s", err, out)
	}
	for _, o := range benchObjects(b) {
		if strings.HasPrefix(o.name, "golden-") {
			continue
		}
		b.Run(o.name, func(b *testing.B) {
			out := b.TempDir()
			for b.Loop() {
				cmd := exec.Command(bin, "-obj", o.path, "-pkg", "p", "-out", out)
				if msg, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%v\n%s", err, msg)
				}
			}
			b.ReportMetric(float64(o.btfBytes), "btf-bytes")
		})
	}
}

// BenchmarkBpftool runs `bpftool gen skeleton` on the same objects, the C
// peer's whole process. It skips when bpftool is not installed, and skips
// an object bpftool refuses, saying why.
func BenchmarkBpftool(b *testing.B) {
	bpftool, err := exec.LookPath("bpftool")
	if err != nil {
		b.Skip("bpftool is not installed: no row for bpftool gen skeleton")
	}
	for _, o := range benchObjects(b) {
		if strings.HasPrefix(o.name, "golden-") {
			continue
		}
		b.Run(o.name, func(b *testing.B) {
			run := func() error {
				cmd := exec.Command(bpftool, "gen", "skeleton", o.path, "name", o.name)
				var stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = nil, &stderr
				if err := cmd.Run(); err != nil {
					return &bpftoolError{err, stderr.String()}
				}
				return nil
			}
			if err := run(); err != nil {
				b.Skipf("bpftool gen skeleton refuses %s: %v", o.name, err)
			}
			for b.Loop() {
				if err := run(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(o.btfBytes), "btf-bytes")
		})
	}
}

type bpftoolError struct {
	err    error
	stderr string
}

func (e *bpftoolError) Error() string {
	return e.err.Error() + ": " + strings.TrimSpace(e.stderr)
}
