package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets the test binary act as the bpfskel command, as stringer's
// end-to-end test does, so that exit statuses are checked for real.
func TestMain(m *testing.M) {
	if os.Getenv("BPFSKEL_AS_COMMAND") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const helloObj = "../../examples/hello/hello.bpf.o"

// command runs the test binary as bpfskel and returns its exit status and
// standard error.
func command(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	code, _, stderr := runCommand(t, dir, nil, args...)
	return code, stderr
}

// commandOutputErr is command with extra environment variables.
func commandOutputErr(t *testing.T, dir string, env []string, args ...string) (int, string) {
	t.Helper()
	code, _, stderr := runCommand(t, dir, env, args...)
	return code, stderr
}

// commandOutput returns standard output and error together.
func commandOutput(t *testing.T, dir string, env []string, args ...string) (int, string) {
	t.Helper()
	code, stdout, stderr := runCommand(t, dir, env, args...)
	return code, stdout + stderr
}

func runCommand(t *testing.T, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "BPFSKEL_AS_COMMAND=1", "GOPACKAGE="), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatal(err)
	return 0, "", ""
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestExitStatus(t *testing.T) {
	dir := t.TempDir()
	hello, _ := filepath.Abs(helloObj)
	noBTF := filepath.Join(dir, "nobtf.bpf.o")
	b, err := os.ReadFile(hello)
	if err != nil {
		t.Fatal(err)
	}
	// Rename the .BTF section in the section-name table: the object stays
	// a valid BPF ELF, without BTF. The linker stores ".BTF" as the tail of
	// ".rel.BTF", so renaming that string renames both.
	patched := bytes.Replace(b, []byte(".rel.BTF\x00"), []byte(".rel.XTF\x00"), 1)
	if bytes.Equal(patched, b) {
		t.Fatal("could not find the .BTF section name to patch")
	}
	if err := os.WriteFile(noBTF, patched, 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.o")
	if err := os.WriteFile(garbage, []byte("not an object\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no -obj", nil, 2, "-obj or -src is required"},
		{"unknown flag", []string{"-nope"}, 2, "flag provided but not defined: -nope"},
		{"stray argument", []string{"-obj", hello, "extra"}, 2, `unexpected arguments ["extra"]`},
		{"bad rename", []string{"-obj", hello, "-rename", "map:x"}, 2, `"map:x" is not KIND:CNAME=GoName`},
		{"rename to a non-identifier", []string{"-obj", hello, "-rename", "map:buf_map=Buf Map"}, 2, `"Buf Map" is not an exported Go identifier`},
		{"no package name", []string{"-obj", hello, "-out", dir}, 2, "cannot tell the Go package name of " + dir},
		{"missing object", []string{"-obj", filepath.Join(dir, "missing.o"), "-pkg", "p"}, 1, "missing.o: no such file"},
		{"directory", []string{"-obj", dir, "-pkg", "p"}, 1, "reading the object: read " + dir},
		{"not ELF", []string{"-obj", garbage, "-pkg", "p"}, 1, "garbage.o: not an ELF object"},
		{"no BTF", []string{"-obj", noBTF, "-pkg", "p"}, 1, "nobtf.bpf.o: the object has no .BTF section; compile it with clang -g"},
		{"unused rename", []string{"-obj", hello, "-pkg", "p", "-out", dir, "-rename", "map:nope=X"}, 1, "-rename map:nope matches nothing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr := command(t, dir, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, tc.code, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	obj := filepath.Join(dir, "hello.bpf.o")
	copyFile(t, helloObj, obj)
	if code, stderr := command(t, dir, "-obj", obj, "-pkg", "hello", "-check"); code != 1 || !strings.Contains(stderr, "stale generated files") {
		t.Fatalf("-check before generating: exit %d, %s", code, stderr)
	}
	if code, stderr := command(t, dir, "-obj", obj, "-pkg", "hello"); code != 0 {
		t.Fatalf("generating: exit %d, %s", code, stderr)
	}
	if code, stderr := command(t, dir, "-obj", obj, "-pkg", "hello", "-check"); code != 0 {
		t.Fatalf("-check after generating: exit %d, %s", code, stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "hello_bpfel.go"), []byte("package hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stderr := command(t, dir, "-obj", obj, "-pkg", "hello", "-check"); code != 1 || !strings.Contains(stderr, "stale generated files: hello_bpfel.go") {
		t.Fatalf("-check on an edited file: exit %d, %s", code, stderr)
	}
	// The object, the skeleton and the package doc (no file of the
	// package documents it).
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("-check wrote files: %v", entries)
	}
}

// TestEndToEnd generates a skeleton into a new module, from an object that
// lives elsewhere (so it is copied), and builds and vets a program using it.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds a module; skipped with -short")
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pkg := filepath.Join(dir, "skel")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(pkg, 0o755))
	// The new module requires what bpfskel requires, so that it builds from
	// the module cache alone (go mod tidy would want the dependencies'
	// test-only modules too, which a fresh cache lacks).
	gomod, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	must(err)
	_, requires, ok := strings.Cut(string(gomod), "\nrequire")
	if !ok {
		t.Fatal("no require block in go.mod")
	}
	must(os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/e2e\n\ngo 1.26\n\n"+
		"require github.com/bpfskel/bpfskel v0.0.0\n\nreplace github.com/bpfskel/bpfskel => "+repo+"\n\nrequire"+requires), 0o644))
	copyFile(t, filepath.Join(repo, "go.sum"), filepath.Join(dir, "go.sum"))
	must(os.WriteFile(filepath.Join(dir, "main.go"), []byte(`package main

import (
	"fmt"

	"example.com/e2e/skel"
)

func main() {
	s, err := skel.LoadHello(nil)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	view, err := s.Maps.BufMap.Mmap()
	if err != nil {
		panic(err)
	}
	v, err := view.Get(0)
	fmt.Println(v, err)
	_, err = s.Programs.Hello.TestRun(nil)
	fmt.Println(err)
}
`), 0o644))

	obj, _ := filepath.Abs(helloObj)
	if code, stderr := command(t, dir, "-obj", obj, "-pkg", "skel", "-out", "skel", "-stem", "hello"); code != 0 {
		t.Fatalf("bpfskel: exit %d\n%s", code, stderr)
	}
	for _, name := range []string{"hello_bpfel.go", "hello_bpfel.o", "bpfskel_doc.go"} {
		if _, err := os.Stat(filepath.Join(pkg, name)); err != nil {
			t.Errorf("expected %s in the output: %v", name, err)
		}
	}
	for _, args := range [][]string{{"vet", "./..."}, {"build", "./..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
