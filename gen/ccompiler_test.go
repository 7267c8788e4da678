package gen_test

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/dave/jennifer/jen"

	"github.com/bpfskel/bpfskel/btfmodel"
)

// The differential test against the C compiler. For each golden object, bpftool dumps its BTF as C; the host C compiler (gcc,
// x86_64: the same layout rules as clang's bpfel target, __int128 16-byte
// aligned included) compiles a program that prints, for every named
// struct and union, sizeof, _Alignof and, for every member reachable by
// its C name (members of anonymous members included), the bytes of a zero
// value in which that member alone is set: all bytes 0xff for plain
// members, -1 and 1 for bitfields (so the bit order inside a field shows),
// and offsetof for flexible arrays. For a big-endian object, the bitfield
// images come from clang -target bpfeb instead (gcc here is little
// endian), the rest from gcc: sizes, offsets and all-ones bytes do not
// depend on the byte order. A Go program generated from the same
// model does the same through the skeleton's typed API (fields, promoted
// union accessors, bitfield and unaligned setters, the flexible array
// accessor). Every number and every byte image must agree.

// probe is one thing both programs print.
type probe struct {
	key   string // "struct rec/size", "struct bits/s5/ones", ...
	cType string // "struct bits"
	goT   string // Go type name in the golden package
	kind  string // size, align, fill, bits, tail
	cName string // member's C name
	goSel string // Go field name (fill) or accessor (bits, tail, setter)
	typ   *btfmodel.Type
	// setter: fill through a setter with an all-ones value, not in place.
	setter bool
}

func probes(obj *btfmodel.Object) []probe {
	var out []probe
	for _, d := range obj.Decls {
		if (d.Kind != btfmodel.Struct && d.Kind != btfmodel.Union) || d.CKind == "section" || d.CName == "" {
			continue
		}
		ct := d.CKind + " " + d.CName
		p := func(kind, member, sel string, typ *btfmodel.Type, setter bool) {
			key := ct + "/" + kind
			if member != "" {
				key = ct + "/" + member + "/" + kind
			}
			out = append(out, probe{key: key, cType: ct, goT: d.GoName, kind: kind, cName: member, goSel: sel, typ: typ, setter: setter})
		}
		p("size", "", "", nil, false)
		p("align", "", "", nil, false)
		members := func(u *btfmodel.Decl) {
			for _, m := range u.Members {
				p("fill", m.CName, m.Setter, m.Type, true)
			}
			for _, a := range u.Accessors {
				switch a.Kind {
				case btfmodel.Bitfield:
					p("ones", a.CName, a.Setter, a.Type, true)
					p("one", a.CName, a.Setter, a.Type, true)
				case btfmodel.Tail:
					p("tail", a.CName, a.GoName, a.Type, false)
				default:
					if a.CName != "" {
						p("fill", a.CName, a.Setter, a.Type, true)
					}
				}
			}
		}
		for _, f := range d.Fields {
			switch {
			case f.Embedded:
				members(f.Type.Decl) // promoted accessors
			case f.CName != "":
				p("fill", f.CName, f.GoName, f.Type, false)
			}
		}
		members(d)
	}
	return out
}

// cProgram prints every probe for the types in header.
func cProgram(header string, ps []probe) string {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString(`
#include <stdio.h>
#include <string.h>
#include <stddef.h>
static void dump(const char *key, const void *p, size_t n) {
	const unsigned char *c = p;
	printf("%s ", key);
	for (size_t i = 0; i < n; i++) printf("%02x", c[i]);
	printf("\n");
}
int main(void) {
`)
	for _, p := range ps {
		k := strconv.Quote(p.key)
		switch p.kind {
		case "size":
			fmt.Fprintf(&b, "\tprintf(\"%%s %%zu\\n\", %s, sizeof(%s));\n", k, p.cType)
		case "align":
			fmt.Fprintf(&b, "\tprintf(\"%%s %%zu\\n\", %s, _Alignof(%s));\n", k, p.cType)
		case "tail":
			fmt.Fprintf(&b, "\tprintf(\"%%s %%zu\\n\", %s, offsetof(%s, %s));\n", k, p.cType, p.cName)
		case "fill":
			size := "sizeof v." + p.cName
			if t := p.typ; t.Kind == btfmodel.Named && t.Decl.Kind == btfmodel.Enum && t.Decl.Size != 4 && t.Decl.Size != 8 {
				// bpftool prints every enum without its size, so gcc makes
				// a 1- or 2-byte enum 4 bytes (the member's offset is still
				// BTF's: the dump pads explicitly). Fill BTF's size.
				size = strconv.Itoa(t.Decl.Size)
			}
			fmt.Fprintf(&b, "\t{ %s v; memset(&v, 0, sizeof v); memset(&v.%s, 0xff, %s); dump(%s, &v, sizeof v); }\n", p.cType, p.cName, size, k)
		case "ones", "one":
			val := "-1"
			if p.kind == "one" {
				val = "1"
			}
			fmt.Fprintf(&b, "\t{ %s v; memset(&v, 0, sizeof v); v.%s = %s; dump(%s, &v, sizeof v); }\n", p.cType, p.cName, val, k)
		}
	}
	b.WriteString("\treturn 0;\n}\n")
	return b.String()
}

// goTypeCode spells a model type in the golden package pkg.
func goTypeCode(pkg string, t *btfmodel.Type) jen.Code {
	switch t.Kind {
	case btfmodel.Array:
		return jen.Index(jen.Lit(t.Len)).Add(goTypeCode(pkg, t.Elem))
	case btfmodel.Named:
		return jen.Qual(pkg, t.Decl.GoName)
	case btfmodel.Runtime:
		return jen.Qual("github.com/bpfskel/bpfskel/runtime/bpfskel", t.Basic)
	}
	return jen.Id(t.Basic)
}

// goProbes emits the statements printing ps for the golden package pkg.
func goProbes(pkg string, ps []probe) []jen.Code {
	var out []jen.Code
	for _, p := range ps {
		k := jen.Lit(p.key)
		v := func() *jen.Statement { return jen.Var().Id("v").Qual(pkg, p.goT) }
		dump := jen.Id("dump").Call(k, jen.Qual("unsafe", "Pointer").Call(jen.Op("&").Id("v")), jen.Qual("unsafe", "Sizeof").Call(jen.Id("v")))
		var body []jen.Code
		switch p.kind {
		case "size":
			body = []jen.Code{v(), jen.Id("num").Call(k, jen.Qual("unsafe", "Sizeof").Call(jen.Id("v")))}
		case "align":
			body = []jen.Code{v(), jen.Id("num").Call(k, jen.Qual("unsafe", "Alignof").Call(jen.Id("v")))}
		case "tail":
			body = []jen.Code{
				jen.Id("buf").Op(":=").Make(jen.Index().Byte(), jen.Lit(256)),
				jen.List(jen.Id("s"), jen.Id("_")).Op(":=").Parens(jen.Op("*").Qual(pkg, p.goT)).Call(jen.Nil()).Dot(p.goSel).Call(jen.Id("buf")),
				jen.Id("num").Call(k, jen.Qual("uintptr", "").Add()),
			}
			body[2] = jen.Id("num").Call(k, jen.Uintptr().Call(jen.Qual("unsafe", "Pointer").Call(jen.Qual("unsafe", "SliceData").Call(jen.Id("s")))).Op("-").
				Uintptr().Call(jen.Qual("unsafe", "Pointer").Call(jen.Op("&").Id("buf").Index(jen.Lit(0)))))
		case "fill":
			if p.setter {
				body = []jen.Code{v(), jen.Var().Id("x").Add(goTypeCode(pkg, p.typ)),
					jen.Id("fill").Call(jen.Qual("unsafe", "Pointer").Call(jen.Op("&").Id("x")), jen.Qual("unsafe", "Sizeof").Call(jen.Id("x"))),
					jen.Id("v").Dot(p.goSel).Call(jen.Id("x")), dump}
			} else {
				body = []jen.Code{v(),
					jen.Id("fill").Call(jen.Qual("unsafe", "Pointer").Call(jen.Op("&").Id("v").Dot(p.goSel)), jen.Qual("unsafe", "Sizeof").Call(jen.Id("v").Dot(p.goSel))),
					dump}
			}
		case "ones", "one":
			var val jen.Code
			switch {
			case p.typ.Kind == btfmodel.Basic && p.typ.Basic == "bool":
				val = jen.True()
			case p.kind == "one":
				val = jen.Lit(1)
			default:
				val = jen.Add(goTypeCode(pkg, p.typ)).Call(jen.Id("ones"))
			}
			body = []jen.Code{v(), jen.Id("v").Dot(p.goSel).Call(val), dump}
		}
		out = append(out, jen.Block(body...))
	}
	return out
}

func goProgram(cases map[string][]probe) []byte {
	f := jen.NewFile("main")
	f.Var().Id("ones").Op("=").Op("^").Uint64().Call(jen.Lit(0))
	f.Func().Id("dump").Params(jen.Id("key").String(), jen.Id("p").Qual("unsafe", "Pointer"), jen.Id("n").Uintptr()).Block(
		jen.Qual("fmt", "Printf").Call(jen.Lit("%s %x\n"), jen.Id("key"), jen.Qual("unsafe", "Slice").Call(jen.Parens(jen.Op("*").Byte()).Call(jen.Id("p")), jen.Id("n"))),
	)
	f.Func().Id("num").Params(jen.Id("key").String(), jen.Id("n").Uintptr()).Block(
		jen.Qual("fmt", "Printf").Call(jen.Lit("%s %d\n"), jen.Id("key"), jen.Id("n")),
	)
	f.Func().Id("fill").Params(jen.Id("p").Qual("unsafe", "Pointer"), jen.Id("n").Uintptr()).Block(
		jen.For(jen.Id("i").Op(":=").Range().Id("n")).Block(
			jen.Op("*").Parens(jen.Op("*").Byte()).Call(jen.Qual("unsafe", "Add").Call(jen.Id("p"), jen.Id("i"))).Op("=").Lit(0xff),
		),
	)
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	var body []jen.Code
	for _, n := range names {
		pkg := "github.com/bpfskel/bpfskel/testdata/golden/" + n
		body = append(body, jen.Qual("fmt", "Println").Call(jen.Lit("case "+n)))
		body = append(body, goProbes(pkg, cases[n])...)
	}
	f.Func().Id("main").Params().Block(body...)
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// parseLines reads "key value" lines, grouped under "case NAME" lines when
// present.
func parseLines(out []byte) map[string]string {
	m := map[string]string{}
	prefix := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if c, ok := strings.CutPrefix(line, "case "); ok {
			prefix = c + ":"
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		m[prefix+line[:i]] = line[i+1:]
	}
	return m
}

func TestAgainstCCompiler(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles C and Go programs; skipped with -short")
	}
	for _, tool := range []string{"bpftool", "gcc", "clang-19"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (make setup installs it): %v", tool, err)
		}
	}
	tmp := t.TempDir()
	cases := map[string][]probe{}
	want := map[string]string{}
	models := map[string]*btfmodel.Object{}
	replace := map[string]string{} // the build's overlay
	for _, c := range goldenCases(t) {
		el, _ := filepath.Glob(filepath.Join(c.dir, "*_bpfel.go"))
		eb, _ := filepath.Glob(filepath.Join(c.dir, "*_bpfeb.go"))
		if len(el) == 0 && len(eb) == 0 {
			continue
		}
		if len(eb) > 0 {
			// A big-endian skeleton runs here without its build
			// constraint: its accessors spell the byte order out
			// (BitsBE, SetBE), and every probe writes all-ones bytes or
			// goes through those accessors, so what it prints does not
			// depend on the host's byte order.
			src, err := os.ReadFile(eb[0])
			if err != nil {
				t.Fatal(err)
			}
			var kept []string
			for _, line := range strings.Split(string(src), "\n") {
				if !strings.HasPrefix(line, "//go:build ") {
					kept = append(kept, line)
				}
			}
			path := filepath.Join(tmp, c.name+"_bpfeb.go")
			if err := os.WriteFile(path, []byte(strings.Join(kept, "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
			abs, err := filepath.Abs(eb[0])
			if err != nil {
				t.Fatal(err)
			}
			replace[abs] = path
		}
		obj, err := loadModel(t, c)
		if err != nil {
			t.Fatal(err)
		}
		models[c.name] = obj
		ps := probes(obj)
		cases[c.name] = ps

		header, err := exec.Command("bpftool", "btf", "dump", "file", c.obj, "format", "c").Output()
		if err != nil {
			t.Fatalf("%s: bpftool btf dump: %v", c.name, err)
		}
		src := filepath.Join(tmp, c.name+".c")
		bin := filepath.Join(tmp, c.name)
		if err := os.WriteFile(src, []byte(cProgram(string(header), ps)), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("gcc", "-std=gnu11", "-w", "-o", bin, src).CombinedOutput(); err != nil {
			t.Fatalf("%s: gcc: %v\n%s", c.name, err, out)
		}
		out, err := exec.Command(bin).Output()
		if err != nil {
			t.Fatalf("%s: running the C program: %v", c.name, err)
		}
		for k, v := range parseLines(out) {
			want[c.name+":"+k] = v
		}
		if len(eb) > 0 {
			// gcc places bitfields as a little-endian compiler does: the
			// bit images of a big-endian object come from clang
			// -target bpfeb, as initialised globals read from its .data.
			imgs, err := bigEndianBitImages(tmp, c.name, string(header), ps)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			for k, v := range imgs {
				want[c.name+":"+k] = v
			}
		}
	}

	// The Go program lives in a directory of the module that exists only
	// in the build's overlay: it imports the golden packages, and nothing
	// is written into the source tree.
	dir, err := filepath.Abs("../testdata/golden/internal_ccompiler_probe")
	if err != nil {
		t.Fatal(err)
	}
	mainGo := filepath.Join(tmp, "main.go")
	if err := os.WriteFile(mainGo, goProgram(cases), 0o644); err != nil {
		t.Fatal(err)
	}
	replace[filepath.Join(dir, "main.go")] = mainGo
	overlay, _ := json.Marshal(map[string]any{"Replace": replace})
	ovFile := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ovFile, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", "-overlay", ovFile, dir)
	cmd.Dir = ".."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("running the Go probe program: %v\n%s", err, stderr.String())
	}
	got := parseLines(out)

	compared := 0
	for name, ps := range cases {
		for _, p := range ps {
			key := name + ":" + p.key
			c, g := want[key], got[key]
			switch {
			case c == "" || g == "":
				t.Errorf("%s: C printed %q, Go printed %q", key, c, g)
			case p.kind == "align":
				// Go aligns to at most 8 (4 for 64-bit integers on 386 and
				// arm); C's alignment must be a multiple of Go's, and of
				// the alignment the model guards.
				ca, _ := strconv.Atoi(c)
				ga, _ := strconv.Atoi(g)
				d := declByGoName(models[name], p.goT)
				if ga == 0 || ca%ga != 0 || ca%d.CAlign != 0 {
					t.Errorf("%s: C alignment %d, Go %d, model %d: C's must be a multiple of both", key, ca, ga, d.CAlign)
				}
			case c != g:
				t.Errorf("%s:\n  C:  %s\n  Go: %s", key, c, g)
			}
			compared++
		}
	}
	t.Logf("%d numbers and byte images compared over %d objects", compared, len(cases))
}

func declByGoName(obj *btfmodel.Object, name string) *btfmodel.Decl {
	for _, d := range obj.Decls {
		if d.GoName == name {
			return d
		}
	}
	return nil
}

// bigEndianBitImages compiles, with clang -target bpfeb, one initialised
// global per bitfield probe (the member set to -1 or 1, the rest zero) and
// returns the bytes the compiler laid out, keyed like the probes.
func bigEndianBitImages(tmp, name, header string, ps []probe) (map[string]string, error) {
	var b strings.Builder
	b.WriteString(header)
	syms := map[string]string{}
	for i, p := range ps {
		if p.kind != "ones" && p.kind != "one" {
			continue
		}
		val := "-1"
		if p.kind == "one" {
			val = "1"
		}
		sym := fmt.Sprintf("probe_%d", i)
		syms[sym] = p.key
		fmt.Fprintf(&b, "%s %s = { .%s = %s };\n", p.cType, sym, p.cName, val)
	}
	src := filepath.Join(tmp, name+"_eb.c")
	obj := filepath.Join(tmp, name+"_eb.o")
	if err := os.WriteFile(src, []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	if out, err := exec.Command("clang-19", "-target", "bpfeb", "-w", "-O0", "-c", src, "-o", obj).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("clang -target bpfeb: %v\n%s", err, out)
	}
	f, err := elf.Open(obj)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	symbols, err := f.Symbols()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, sym := range symbols {
		key, ok := syms[sym.Name]
		if !ok || int(sym.Section) >= len(f.Sections) {
			continue
		}
		data, err := f.Sections[sym.Section].Data()
		if err != nil {
			return nil, err
		}
		if sym.Value+sym.Size > uint64(len(data)) {
			return nil, fmt.Errorf("symbol %s outside its section", sym.Name)
		}
		out[key] = hex.EncodeToString(data[sym.Value : sym.Value+sym.Size])
	}
	if len(out) != len(syms) {
		return nil, fmt.Errorf("found %d of %d probe globals in the bpfeb object", len(out), len(syms))
	}
	return out, nil
}
