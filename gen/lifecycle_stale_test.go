package gen_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfskel/bpfskel/btfmodel"
	"github.com/bpfskel/bpfskel/gen"
)

// staleMain opens the skeleton it is built with and prints the error.
const staleMain = `package main

import (
	"fmt"
	"os"
)

func main() {
	if _, err := Open(); err != nil {
		fmt.Println(err)
		os.Exit(3)
	}
	fmt.Println("opened")
}
`

// TestStaleObjectFailsOpen is the stale-skeleton scenario: the skeleton was
// generated from lifecycle.bpf.o, then the C changed (two .bss variables
// swapped) and the object was rebuilt without regenerating. The program
// built from the old skeleton and the new object must refuse to open it,
// saying the skeleton is stale and how to fix it, instead of reading one
// counter as the other.
func TestStaleObjectFailsOpen(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a program; skipped with -short")
	}
	orig, err := os.ReadFile("../testdata/golden/lifecycle/lifecycle.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	swapped, err := os.ReadFile("../runtime/bpfskel/testdata/lifecycle_swapped.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	model, err := btfmodel.Load("lifecycle.bpf.o", orig, btfmodel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := gen.Generate(model, gen.Options{Package: "main", FileStem: "lifecycle", ObjectFile: "lifecycle.bpf.o"})
	if err != nil {
		t.Fatal(err)
	}
	// Inside the module, so that the program builds against this runtime;
	// the leading '_' keeps ./... patterns away from it.
	dir, err := os.MkdirTemp(".", "_stale")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	files["lifecycle.bpf.o"] = swapped // the rebuilt object under the old skeleton
	files["main.go"] = []byte(staleMain)
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(t.TempDir(), "stale")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).CombinedOutput()
	exit, ok := err.(*exec.ExitError)
	if !ok || exit.ExitCode() != 3 {
		t.Fatalf("running it: %v (want exit status 3, Open failing)\n%s", err, out)
	}
	for _, want := range []string{
		"lifecycle.bpf.o: the skeleton is stale",
		"lifecycle_bpfel.go was generated from an object with sha256",
		"run `go generate` in the package directory of lifecycle_bpfel.go",
		"bpfskel -obj lifecycle.bpf.o",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("error %q lacks %q", out, want)
		}
	}
}
