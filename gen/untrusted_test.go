package gen_test

import (
	"encoding/binary"
	"go/ast"
	"go/parser"
	"go/token"
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/google/go-cmp/cmp"

	"github.com/bpfskel/bpfskel/btfmodel"
	"github.com/bpfskel/bpfskel/gen"
)

// evil is a C name that would end a comment or a string and declare a
// function if it reached the output unescaped.
const evil = "x\n}\nfunc init() { panic(\"injected\") }\n// \"`"

// TestUntrustedNames feeds C names crafted to inject code through every
// place a C name reaches the output: doc comments, notes, string literals.
// The output must parse and declare exactly what the model says.
func TestUntrustedNames(t *testing.T) {
	u32 := &btfmodel.Type{Kind: btfmodel.Basic, Basic: "uint32"}
	st := &btfmodel.Decl{Kind: btfmodel.Struct, CKind: "struct", CName: evil, GoName: "S", Size: 4, Align: 4,
		Fields: []*btfmodel.Field{{GoName: "F", CName: evil, Offset: 0, Size: 4, Type: u32, Note: "note " + evil}},
		Notes:  []string{"bitfields " + evil + " are padding"}}
	un := &btfmodel.Decl{Kind: btfmodel.Union, CKind: "union", GoName: "U", Size: 4, Align: 4,
		Origin:  "anonymous union in member " + evil,
		Members: []*btfmodel.Member{{CName: evil, GoName: "M", Setter: "SetM", Type: u32}}}
	en := &btfmodel.Decl{Kind: btfmodel.Enum, CKind: "enum", CName: evil, GoName: "E", Size: 4, Align: 4, Underlying: "uint32",
		Values: []*btfmodel.EnumValue{{CName: evil, GoName: "EA", Value: 1}}}
	sec := &btfmodel.Decl{Kind: btfmodel.Struct, CKind: "section", CName: ".data" + evil, GoName: "Data", Size: 4, Align: 4,
		Fields: []*btfmodel.Field{{GoName: "V", CName: evil, Size: 4, Type: u32}}}
	stv := &btfmodel.Type{Kind: btfmodel.Named, Decl: st}
	obj := &btfmodel.Object{
		File:      evil + ".o",
		ByteOrder: binary.LittleEndian,
		Names: btfmodel.SkeletonNames{Skeleton: "Skeleton", Maps: "Maps", Programs: "Programs",
			Spec: "Spec", Open: "Open", Load: "Load", OpenMaps: "OpenMaps", Object: "_Object",
			MapSpecs: "MapSpecs", ProgramSpecs: "ProgramSpecs", ObjectName: "ObjectName"},
		Maps: []*btfmodel.Map{{CName: evil, GoName: "M", ConstName: "MapNameM", Handle: btfmodel.Handle{Name: "Map", Args: []*btfmodel.Type{u32, stv}},
			Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1, Key: u32, Value: stv}},
		Programs: []*btfmodel.Program{{CName: evil, GoName: "P", ConstName: "ProgramNameP", SectionName: "raw_tp/" + evil}},
		Sections: []*btfmodel.Section{{CName: ".data" + evil, GoName: "Data", Decl: sec, ConstName: "SectionNameData", VarsName: "DataVars"}},
		Decls:    []*btfmodel.Decl{sec, en, st, un},
	}
	files, err := gen.Generate(obj, gen.Options{Package: "p", FileStem: "evil", ObjectFile: "evil.o"})
	if err != nil {
		t.Fatal(err)
	}
	src := files["evil_bpfel.go"]
	f, err := parser.ParseFile(token.NewFileSet(), "evil_bpfel.go", src, parser.ParseComments)
	if err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, src)
	}
	var decls []string
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			name := d.Name.Name
			if d.Recv != nil {
				name = "method " + name
			}
			decls = append(decls, name)
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					decls = append(decls, "type "+s.Name.Name)
				case *ast.ValueSpec:
					for _, n := range s.Names {
						decls = append(decls, d.Tok.String()+" "+n.Name)
					}
				}
			}
		}
	}
	sort.Strings(decls)
	want := []string{"Load", "Open", "OpenMaps", "_", "_", "_", "_",
		"const EA", "const MapNameM", "const ObjectName", "const ProgramNameP", "const SectionNameData", "const _", "const _",
		"method Attach", "method Close", "method Collection", "method CollectionSpec", "method Detach", "method Load", "method M",
		"method SetKernelBTF", "method SetM", "method SetVerifierLog", "method String",
		"type Data", "type DataVars", "type E", "type MapSpecs", "type Maps", "type ProgramSpecs", "type Programs", "type S",
		"type Skeleton", "type Spec", "type U",
		"var _Object"}
	if diff := cmp.Diff(want, decls); diff != "" {
		t.Errorf("top-level declarations (-want +got):\n%s\n%s", diff, src)
	}
	if strings.Contains(string(src), "\nfunc init()") {
		t.Errorf("a crafted name injected code:\n%s", src)
	}
}
