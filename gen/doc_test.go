package gen_test

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"github.com/bpfskel/bpfskel/gen"
)

// TestPackageDoc: the doc file parses, declares nothing, and shows each
// skeleton's functions; an object name cannot escape the comment.
func TestPackageDoc(t *testing.T) {
	src, err := gen.PackageDoc("procs", []gen.DocSkeleton{
		{Objects: []string{"count_bpfeb.o", "count_bpfel.o"}, Open: "OpenCount", Load: "LoadCount"},
		{Objects: []string{"x\n*/ func init() { panic(1) }\n//"}, Open: "OpenSnoop", Load: "LoadSnoop"},
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), gen.DocFile, src, parser.ParseComments)
	if err != nil {
		t.Fatalf("does not parse: %v\n%s", err, src)
	}
	if len(f.Decls) != 0 || f.Name.Name != "procs" || f.Doc == nil {
		t.Fatalf("want a package clause with a doc comment and nothing else:\n%s", src)
	}
	doc := f.Doc.Text()
	for _, want := range []string{"procs.LoadCount(nil)", "procs.OpenCount()", "count_bpfeb.o, count_bpfel.o: [LoadCount], [OpenCount]", "[LoadSnoop]"} {
		if !strings.Contains(doc, want) {
			t.Errorf("doc lacks %q:\n%s", want, doc)
		}
	}
	if _, err := gen.PackageDoc("procs", []gen.DocSkeleton{{Open: "Open X", Load: "Load"}}); err == nil {
		t.Error("an Open that is not an identifier: no error")
	}
}
