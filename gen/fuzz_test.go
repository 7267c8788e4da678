package gen_test

import (
	"go/parser"
	"go/token"
	"testing"

	"github.com/bpfskel/bpfskel/btfmodel"
	"github.com/bpfskel/bpfskel/gen"
	"github.com/bpfskel/bpfskel/internal/objtest"
)

// FuzzGenerate: any bytes given as an object either fail with an error or
// give a skeleton that parses; never a panic. The committed objects seed it,
// so plain go test runs them; go test -fuzz FuzzGenerate ./gen explores.
func FuzzGenerate(f *testing.F) {
	// The real-world objects seed it too: cilium/ebpf refuses some of
	// them, which exercises the fallback reader.
	objtest.SeedGolden(f)
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
