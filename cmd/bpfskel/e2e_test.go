package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bpfskel/bpfskel/btfmodel"
	"github.com/bpfskel/bpfskel/runtime/bpfskeltest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// repoRoot is the bpfskel checkout the tests run in.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(path), 0o755))
	must(t, os.WriteFile(path, []byte(text), 0o644))
}

// goCmd runs the go tool in dir and fails the test with its output.
func goCmd(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// requireClang skips a test of -src where no BPF compiler is installed;
// `make setup` installs one.
func requireClang(t *testing.T) {
	t.Helper()
	if _, err := findCompiler(""); err != nil {
		t.Skipf("needs clang to compile BPF C (install clang-19): %v", err)
	}
}

// userModule makes a module the way the README tells a user to: go mod
// init, then go get -tool for bpfskel. The module proxy does not have
// bpfskel, so a replace points at this checkout and GOPROXY=off keeps the go
// tool from asking the proxy about it; go.sum comes from the checkout, as a
// fresh cache cannot reach the checksum database.
func userModule(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a module; skipped with -short")
	}
	repo := repoRoot(t)
	dir := t.TempDir()
	goCmd(t, dir, nil, "mod", "init", "example.com/user")
	copyFile(t, filepath.Join(repo, "go.sum"), filepath.Join(dir, "go.sum"))
	goCmd(t, dir, nil, "mod", "edit", "-replace", "github.com/bpfskel/bpfskel="+repo)
	goCmd(t, dir, []string{"GOPROXY=off", "GOFLAGS=-mod=mod"}, "get", "-tool", "github.com/bpfskel/bpfskel/cmd/bpfskel@v0.0.0")
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	must(t, err)
	if !strings.Contains(string(gomod), "tool github.com/bpfskel/bpfskel/cmd/bpfskel") {
		t.Fatalf("go get -tool did not record the tool:\n%s", gomod)
	}
	return dir
}

// buildAndVet builds and vets the module for the host and vets it for a
// big-endian GOARCH, which compiles the _bpfeb.go files.
func buildAndVet(t *testing.T, dir string) {
	t.Helper()
	goCmd(t, dir, nil, "build", "./...")
	goCmd(t, dir, nil, "vet", "./...")
	goCmd(t, dir, []string{"GOARCH=s390x"}, "vet", "./...")
}

// TestSrcGoGenerate is the README's path end to end: a module set up with
// go get -tool, a go:generate directive that compiles C for both byte orders
// through `go tool bpfskel`, and a program that builds and vets.
func TestSrcGoGenerate(t *testing.T) {
	t.Parallel() // builds a module: minutes of go build on a busy machine
	requireClang(t)
	dir := userModule(t)
	repo := repoRoot(t)
	copyFile(t, filepath.Join(repo, "examples/hello/hello.bpf.c"), filepath.Join(dir, "hello/hello.bpf.c"))
	// The directive is put together so that go generate in this repository
	// does not take it for one of its own.
	writeFile(t, filepath.Join(dir, "hello/gen.go"), "// Package hello holds the skeleton of hello.bpf.c.\npackage hello\n\n"+
		"//go:"+"generate go tool bpfskel -src hello.bpf.c -target both\n")
	writeFile(t, filepath.Join(dir, "main.go"), `package main

import (
	"fmt"

	"example.com/user/hello"
)

func main() {
	skel, err := hello.Load(nil)
	if err != nil {
		panic(err)
	}
	defer skel.Close()
	buf, err := skel.Maps.BufMap.Mmap()
	if err != nil {
		panic(err)
	}
	v, err := buf.Get(0)
	fmt.Println(v, err)
}
`)
	goCmd(t, dir, nil, "generate", "./...")
	for _, name := range []string{"hello_bpfel.go", "hello_bpfeb.go", "hello_bpfel.o", "hello_bpfeb.o"} {
		if _, err := os.Stat(filepath.Join(dir, "hello", name)); err != nil {
			t.Errorf("go generate did not write %s: %v", name, err)
		}
	}
	// The same flags as the Makefile: the same bytes as the committed object.
	got, err := os.ReadFile(filepath.Join(dir, "hello/hello_bpfel.o"))
	must(t, err)
	want, err := os.ReadFile(filepath.Join(repo, "examples/hello/hello.bpf.o"))
	must(t, err)
	if !bytes.Equal(got, want) {
		t.Errorf("-src built hello_bpfel.o (%d bytes) that differs from make objects' examples/hello/hello.bpf.o (%d bytes)", len(got), len(want))
	}
	buildAndVet(t, dir)
	if out := goCmd(t, dir, nil, "tool", "bpfskel", "version"); !strings.HasPrefix(out, "bpfskel v0.0.0") {
		t.Errorf("go tool bpfskel version: %q", out)
	}
}

// TestSharedHeader puts two objects that include one header into one
// package: their shared types are declared once, every skeleton name is
// prefixed by its stem, and the package builds for both byte orders.
func TestSharedHeader(t *testing.T) {
	t.Parallel() // builds a module: minutes of go build on a busy machine
	requireClang(t)
	dir := userModule(t)
	pkg := filepath.Join(dir, "procs")
	for _, name := range []string{"proc.h", "snoop.bpf.c", "count.bpf.c"} {
		copyFile(t, filepath.Join("testdata/shared", name), filepath.Join(pkg, name))
	}
	writeFile(t, filepath.Join(pkg, "doc.go"), "// Package procs holds two skeletons.\npackage procs\n")
	writeFile(t, filepath.Join(dir, "main.go"), `package main

import (
	"fmt"

	"example.com/user/procs"
)

func main() {
	snoop, err := procs.LoadSnoop(nil)
	if err != nil {
		panic(err)
	}
	defer snoop.Close()
	count, err := procs.LoadCount(nil)
	if err != nil {
		panic(err)
	}
	defer count.Close()
	// snoop stores states[{pid 1}] = RUNNING; count counts {pid 2} and total.
	if _, err := snoop.Programs.Snoop.TestRun(nil); err != nil {
		panic(err)
	}
	if _, err := count.Programs.Count.TestRun(nil); err != nil {
		panic(err)
	}
	// One Go type for the C type both objects share.
	state, err := snoop.Maps.States.Lookup(procs.ProcKey{Pid: 1})
	fmt.Println(state == procs.ProcStateRUNNING, err)
	n, err := count.Maps.Counts.Lookup(procs.ProcKey{Pid: 2})
	fmt.Println(n, err)
	total, err := count.Bss.Get(0)
	fmt.Println(total.Total, err)
}
`)
	for _, stem := range []string{"snoop", "count"} {
		if code, stderr := command(t, pkg, "-src", stem+".bpf.c", "-stem", stem, "-target", "both"); code != 0 {
			t.Fatalf("bpfskel -src %s.bpf.c: exit %d\n%s", stem, code, stderr)
		}
	}
	for _, order := range []string{"bpfel", "bpfeb"} {
		snoop, err := os.ReadFile(filepath.Join(pkg, "snoop_"+order+".go"))
		must(t, err)
		count, err := os.ReadFile(filepath.Join(pkg, "count_"+order+".go"))
		must(t, err)
		for _, decl := range []string{"type ProcKey struct", "type ProcState uint32"} {
			if !bytes.Contains(snoop, []byte(decl)) || bytes.Contains(count, []byte(decl)) {
				t.Errorf("%s: want %q declared in snoop_%s.go only", order, decl, order)
			}
		}
		if !bytes.Contains(count, []byte("type CountSkeleton struct")) || !bytes.Contains(count, []byte("type CountBss struct")) {
			t.Errorf("count_%s.go: the skeleton's names are not prefixed by the stem", order)
		}
	}
	if _, err := os.Stat(filepath.Join(pkg, "bpfskel_doc.go")); err == nil {
		t.Error("wrote bpfskel_doc.go although doc.go documents the package")
	}
	buildAndVet(t, dir)
	// Regenerating is stable, and -check says nothing when all is fresh.
	for _, stem := range []string{"count", "snoop"} {
		code, stderr := command(t, pkg, "-src", stem+".bpf.c", "-stem", stem, "-target", "both", "-check")
		if code != 0 || stderr != "" {
			t.Errorf("-check of %s: exit %d, stderr %q; want 0 and nothing", stem, code, stderr)
		}
	}
	// In the kernel: both skeletons load, and the shared key type reaches
	// both objects' maps.
	bpfskeltest.RequireKernel(t)
	if out := goCmd(t, dir, nil, "run", "."); out != "true <nil>\n1 <nil>\n1 <nil>\n" {
		t.Errorf("the program printed:\n%s\nwant true <nil>, 1 <nil>, 1 <nil>", out)
	}
}

// TestQuiet: -check and -q print nothing on success, even for an object
// with notes.
func TestQuiet(t *testing.T) {
	dir := t.TempDir()
	obj := filepath.Join(dir, "fallbacks.bpf.o")
	copyFile(t, "../../testdata/golden/fallbacks/fallbacks.bpf.o", obj)
	code, stderr := command(t, dir, "-obj", obj, "-pkg", "fallbacks")
	if code != 0 || !strings.Contains(stderr, "note:") {
		t.Fatalf("generating: exit %d, want notes on stderr, got:\n%s", code, stderr)
	}
	for _, args := range [][]string{{"-check"}, {"-q"}} {
		code, out := commandOutput(t, dir, nil, append([]string{"-obj", obj, "-pkg", "fallbacks"}, args...)...)
		if code != 0 || out != "" {
			t.Errorf("%v: exit %d, output %q; want 0 and no output", args, code, out)
		}
	}
}

// TestErrorsGolden runs the CLI on the errors users meet and compares its
// standard error with testdata/errors/NAME.golden (-update rewrites).
func TestErrorsGolden(t *testing.T) {
	repo := repoRoot(t)
	hello := filepath.Join(repo, "examples/hello/hello.bpf.c")
	helloObj := filepath.Join(repo, "examples/hello/hello.bpf.o")
	goBin, err := exec.LookPath("go")
	must(t, err)

	for _, tc := range []struct {
		name  string
		clang bool // needs a compiler
		setup func(t *testing.T, dir string) []string
		env   []string
		args  []string
		code  int
	}{
		{
			name: "missing-clang",
			setup: func(t *testing.T, dir string) []string {
				copyFile(t, hello, filepath.Join(dir, "hello.bpf.c"))
				// A PATH with the go tool and nothing else.
				bin := filepath.Join(dir, "bin")
				must(t, os.MkdirAll(bin, 0o755))
				must(t, os.Symlink(goBin, filepath.Join(bin, "go")))
				return []string{"PATH=" + bin}
			},
			args: []string{"-src", "hello.bpf.c", "-pkg", "hello"},
			code: 1,
		},
		{
			name:  "bad-c",
			clang: true,
			setup: func(t *testing.T, dir string) []string {
				writeFile(t, filepath.Join(dir, "bad.bpf.c"), "//go:build ignore\n\nint f(void) { return undeclared; }\n")
				return nil
			},
			args: []string{"-src", "bad.bpf.c", "-pkg", "bad"},
			code: 1,
		},
		{
			name: "user-collision",
			setup: func(t *testing.T, dir string) []string {
				copyFile(t, helloObj, filepath.Join(dir, "hello.bpf.o"))
				writeFile(t, filepath.Join(dir, "user.go"), "package hello\n\n// Skeleton is the user's own.\ntype Skeleton struct{}\n\nfunc Load() {}\n")
				writeFile(t, filepath.Join(dir, "methods.go"), "package hello\n\nfunc (s *Spec) Load() {}\n\nfunc (m Maps) BufMap() {}\n\nfunc (m Maps) Other() {}\n")
				return nil
			},
			args: []string{"-obj", "hello.bpf.o"},
			code: 1,
		},
		{
			name:  "shared-type-differs",
			clang: true,
			setup: func(t *testing.T, dir string) []string {
				for _, name := range []string{"proc.h", "snoop.bpf.c", "count.bpf.c"} {
					copyFile(t, filepath.Join("testdata/shared", name), filepath.Join(dir, name))
				}
				writeFile(t, filepath.Join(dir, "doc.go"), "package procs\n")
				if code, stderr := command(t, dir, "-src", "snoop.bpf.c", "-stem", "snoop"); code != 0 {
					t.Fatalf("snoop: exit %d\n%s", code, stderr)
				}
				h, err := os.ReadFile(filepath.Join(dir, "proc.h"))
				must(t, err)
				writeFile(t, filepath.Join(dir, "proc.h"), strings.Replace(string(h), "__u32 tgid;", "__u64 tgid;", 1))
				return nil
			},
			args: []string{"-src", "count.bpf.c", "-stem", "count"},
			code: 1,
		},
		{
			name: "same-stem",
			setup: func(t *testing.T, dir string) []string {
				copyFile(t, helloObj, filepath.Join(dir, "hello.bpf.o"))
				copyFile(t, helloObj, filepath.Join(dir, "other.bpf.o"))
				writeFile(t, filepath.Join(dir, "doc.go"), "package hello\n")
				if code, stderr := command(t, dir, "-obj", "other.bpf.o"); code != 0 {
					t.Fatalf("other: exit %d\n%s", code, stderr)
				}
				return nil
			},
			args: []string{"-obj", "hello.bpf.o"},
			code: 1,
		},
		{
			name: "stale-check",
			setup: func(t *testing.T, dir string) []string {
				copyFile(t, helloObj, filepath.Join(dir, "hello.bpf.o"))
				if code, stderr := command(t, dir, "-obj", "hello.bpf.o", "-pkg", "hello"); code != 0 {
					t.Fatalf("generating: exit %d\n%s", code, stderr)
				}
				path := filepath.Join(dir, "hello_bpfel.go")
				b, err := os.ReadFile(path)
				must(t, err)
				writeFile(t, path, strings.Replace(string(b), "BufMap", "BufMapp", 1))
				return nil
			},
			args: []string{"-obj", "hello.bpf.o", "-pkg", "hello", "-check"},
			code: 1,
		},
		{
			name: "inspect-not-elf",
			setup: func(t *testing.T, dir string) []string {
				writeFile(t, filepath.Join(dir, "x.bpf.o"), "not an object\n")
				return nil
			},
			args: []string{"inspect", "x.bpf.o"},
			code: 1,
		},
		{
			name: "inspect-unknown-type",
			setup: func(t *testing.T, dir string) []string {
				copyFile(t, helloObj, filepath.Join(dir, "hello.bpf.o"))
				return nil
			},
			args: []string{"inspect", "-type", "struct nope", "hello.bpf.o"},
			code: 1,
		},
		{
			name: "inspect-two-objects",
			setup: func(t *testing.T, dir string) []string {
				return nil
			},
			args: []string{"inspect", "a.bpf.o", "b.bpf.o"},
			code: 2,
		},
		{
			name: "src-and-obj",
			setup: func(t *testing.T, dir string) []string {
				return nil
			},
			args: []string{"-src", "x.bpf.c", "-obj", "x.bpf.o"},
			code: 2,
		},
		{
			name: "bad-target",
			setup: func(t *testing.T, dir string) []string {
				return nil
			},
			args: []string{"-src", "x.bpf.c", "-target", "bpf"},
			code: 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.clang {
				requireClang(t)
			}
			dir := t.TempDir()
			env := tc.setup(t, dir)
			code, stderr := commandOutputErr(t, dir, env, tc.args...)
			if cc, err := findCompiler(""); tc.clang && err == nil {
				// clang or clang-NN, whichever this machine has.
				stderr = strings.ReplaceAll(stderr, " with "+filepath.Base(cc)+" ", " with CC ")
			}
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			golden := filepath.Join("testdata/errors", tc.name+".golden")
			if *update {
				writeFile(t, golden, stderr)
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v; rerun with -update", err)
			}
			if diff := cmp.Diff(string(want), stderr); diff != "" {
				t.Errorf("stderr differs from %s (-want +got), rerun with -update if intended:\n%s", golden, diff)
			}
		})
	}
}

// TestInspectGolden runs bpfskel inspect on every golden object and
// compares its output with the case's inspect.golden (text) and
// inspect.json.golden, and the layout of every named type with
// layouts.golden and layouts.json.golden. -update rewrites them.
func TestInspectGolden(t *testing.T) {
	objs, err := filepath.Glob("../../testdata/golden/*/*.bpf.o")
	must(t, err)
	if len(objs) == 0 {
		t.Fatal("no golden objects")
	}
	for _, obj := range objs {
		dir := filepath.Dir(obj)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			abs, err := filepath.Abs(obj)
			must(t, err)
			run := func(args ...string) string {
				t.Helper()
				code, stdout, stderr := runCommand(t, dir, nil, append([]string{"inspect"}, append(args, abs)...)...)
				if code != 0 || stderr != "" {
					t.Fatalf("inspect %v: exit %d\n%s", args, code, stderr)
				}
				return stdout
			}
			data, err := os.ReadFile(obj)
			must(t, err)
			ov, err := btfmodel.Inspect(filepath.Base(obj), data)
			must(t, err)
			var layouts, layoutsJSON strings.Builder
			for _, name := range ov.TypeNames() {
				fmt.Fprintf(&layouts, "$ bpfskel inspect -type '%s'\n%s\n", name, run("-type", name))
				fmt.Fprintf(&layoutsJSON, "%s", run("-json", "-type", name))
			}
			for file, got := range map[string]string{
				"inspect.golden":      run(),
				"inspect.json.golden": run("-json"),
				"layouts.golden":      layouts.String(),
				"layouts.json.golden": layoutsJSON.String(),
			} {
				compareGolden(t, filepath.Join(dir, file), got)
			}
		})
	}
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		writeFile(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; rerun with -update", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got), rerun with -update if intended:\n%s", path, diff)
	}
}
