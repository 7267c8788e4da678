// Package gen emits the Go skeleton of a modelled BPF object.
//
// Generate is pure: it reads the model and the options and returns file
// contents; it touches no disk, environment or clock, and the same input
// gives the same bytes. All Go syntax is written with jennifer.
package gen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"go/token"
	"regexp"

	"github.com/dave/jennifer/jen"

	"github.com/bpfskel/bpfskel/btfmodel"
	"github.com/bpfskel/bpfskel/templates"
)

// Import paths the generated code uses.
const (
	runtimePath = "github.com/bpfskel/bpfskel/runtime/bpfskel"
	ebpfPath    = "github.com/cilium/ebpf"
	structsPath = "structs"
	unsafePath  = "unsafe"
	strconvPath = "strconv"
)

// GenVersion is the version of generated code this emitter writes; the
// runtime checks it at compile time through bpfskel.EnforceVersion.
const GenVersion = 1

// Options say where the generated code lives.
type Options struct {
	// Package is the Go package name of the generated file.
	Package string
	// FileStem names the output: FileStem_bpfel.go.
	FileStem string
	// ObjectFile is the object's file name relative to the package
	// directory, for the go:embed directive.
	ObjectFile string
	// Declared names mirrored types that another skeleton of the package
	// already declares with identical Go code (keyed by Go name): they are
	// used, not declared again.
	Declared map[string]bool
}

// Build constraints of each byte order: the GOARCHes whose byte order the
// object has (the list bpf2go uses).
var (
	littleEndianArchs = "386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm"
	bigEndianArchs    = "armbe || arm64be || mips || mips64 || mips64p32 || ppc64 || s390 || s390x || sparc || sparc64"
)

var embedName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// Generate returns the generated files of obj, keyed by file name.
func Generate(obj *btfmodel.Object, opts Options) (map[string][]byte, error) {
	if !token.IsIdentifier(opts.Package) || opts.Package == "_" {
		return nil, fmt.Errorf("package name %q is not a Go identifier; pass -pkg with one", opts.Package)
	}
	if !embedName.MatchString(opts.ObjectFile) {
		return nil, fmt.Errorf("object file name %q cannot be embedded; use letters, digits, '_', '-' and '.' only", opts.ObjectFile)
	}
	if !embedName.MatchString(opts.FileStem) {
		return nil, fmt.Errorf("file stem %q is not a plain file name; use letters, digits, '_', '-' and '.' only", opts.FileStem)
	}

	suffix, archs := "bpfel", littleEndianArchs
	if obj.ByteOrder == binary.BigEndian {
		suffix, archs = "bpfeb", bigEndianArchs
	}

	f := jen.NewFile(opts.Package)
	f.ImportName(runtimePath, "bpfskel")
	f.ImportName(ebpfPath, "ebpf")
	// One raw header comment: the DO NOT EDIT line, then the build
	// constraint in a paragraph of its own, as the go tool wants it.
	header := "// " + templates.Header(btfmodel.Display(obj.File)) + "\n"
	for _, line := range templates.Regenerate() {
		header += "// " + line + "\n"
	}
	f.HeaderComment(header + "\n//go:build " + archs)

	versionGuard(f)
	for _, d := range obj.Decls {
		if opts.Declared[d.GoName] {
			continue
		}
		declare(f, obj, d)
	}
	skeleton(f, obj, opts)

	// Render runs gofmt on the result.
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		return nil, fmt.Errorf("rendering the skeleton of %s: %w", obj.File, err)
	}
	return map[string][]byte{opts.FileStem + "_" + suffix + ".go": buf.Bytes()}, nil
}

// versionGuard makes a runtime too old or too new for this code a compile
// error, as protobuf's EnforceVersion does.
func versionGuard(f *jen.File) {
	f.Comment("The runtime must support this generated code, and this code the runtime.")
	f.Const().Defs(
		jen.Id("_").Op("=").Qual(runtimePath, "EnforceVersion").Call(jen.Lit(GenVersion).Op("-").Qual(runtimePath, "MinVersion")),
		jen.Id("_").Op("=").Qual(runtimePath, "EnforceVersion").Call(jen.Qual(runtimePath, "GenVersion").Op("-").Lit(GenVersion)),
	)
}

// typeCode is the Go syntax of a model type.
func typeCode(t *btfmodel.Type) jen.Code {
	switch t.Kind {
	case btfmodel.Array:
		return jen.Index(jen.Lit(t.Len)).Add(typeCode(t.Elem))
	case btfmodel.Named:
		return jen.Id(t.Decl.GoName)
	case btfmodel.Runtime:
		return jen.Qual(runtimePath, t.Basic)
	}
	return jen.Id(t.Basic)
}

// typeText is how a model type reads in a comment: its Go syntax.
func typeText(t *btfmodel.Type) string {
	return fmt.Sprintf("%#v", typeCode(t))
}
