package gen_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"testing"

	"github.com/bpfskel/bpfskel/btfmodel"
	"github.com/bpfskel/bpfskel/gen"
)

// FuzzGenerate: any bytes given as an object either fail with an error or
// give a skeleton that parses; never a panic. The committed objects seed it,
// so plain go test runs them; go test -fuzz FuzzGenerate ./gen explores.
func FuzzGenerate(f *testing.F) {
	objs, err := filepath.Glob("../testdata/golden/*/*.bpf.o")
	if err != nil || len(objs) == 0 {
		f.Fatalf("no seed objects: %v", err)
	}
	// The real-world suite seeds the fallback reader too: cilium/ebpf
	// refuses some of its objects.
	rw, err := filepath.Glob("../testdata/realworld/*/*.bpf.o")
	if err != nil {
		f.Fatal(err)
	}
	objs = append(objs, rw...)
	for _, obj := range objs {
		b, err := os.ReadFile(obj)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		model, err := btfmodel.Load("fuzz.bpf.o", data, btfmodel.Options{})
		if err != nil {
			return
		}
		files, err := gen.Generate(model, gen.Options{Package: "fuzz", FileStem: "fuzz", ObjectFile: "fuzz.bpf.o"})
		if err != nil {
			return
		}
		for name, src := range files {
			if _, err := parser.ParseFile(token.NewFileSet(), name, src, 0); err != nil {
				t.Fatalf("%s does not parse: %v\n%s", name, err, src)
			}
		}
	})
}
