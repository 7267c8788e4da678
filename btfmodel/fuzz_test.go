package btfmodel

import (
	"strings"
	"testing"

	"github.com/bpfskel/bpfskel/internal/objtest"
)

// FuzzLoad: any bytes given as an object either give a model or an error
// that starts with the file's name; never a panic, a hang or a huge
// allocation. FuzzGenerate (in gen) runs Load too, then the generator: this
// target is cheaper per input, so it reaches further into the object
// reader. The committed objects and testdata/fuzz/FuzzLoad seed it.
func FuzzLoad(f *testing.F) {
	objtest.SeedGolden(f)
	for _, c := range malformedCases(f) {
		f.Add(c.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := Load("fuzz.bpf.o", data, Options{})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.bpf.o: ") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		if obj.File != "fuzz.bpf.o" {
			t.Errorf("model of file %q", obj.File)
		}
	})
}
