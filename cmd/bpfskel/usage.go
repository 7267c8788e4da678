package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/bpfskel/bpfskel/gen"
)

// errHelp: -h was asked for and printed; exit 0.
var errHelp = errors.New("help requested")

const modulePath = "github.com/bpfskel/bpfskel"

// subcommands are the words that may come first instead of flags.
var subcommands = map[string]func(args []string, stdout, stderr io.Writer) error{
	"version": runVersion,
	"inspect": runInspect,
}

func firstArg(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

func wantsHelp(args []string) bool {
	if firstArg(args) == "help" {
		return true
	}
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help":
			return true
		case "--":
			return false
		}
	}
	return false
}

const usageText = `bpfskel writes a typed Go skeleton for a BPF object.

Usage:
  bpfskel -src FILE.bpf.c [-target bpfel|bpfeb|both] [-cc CC] [-cflags FLAGS] [flags]
  bpfskel -obj FILE.bpf.o [flags]
  bpfskel inspect [-json] [-type NAME] FILE.bpf.o
  bpfskel version

Examples:
  # In a go:generate directive, compile C and generate (like bpf2go):
  //go:generate go tool bpfskel -src counter.bpf.c
  # Both byte orders, with extra include directories:
  bpfskel -src counter.bpf.c -target both -cflags "-I../headers"
  # A prebuilt object, into another package directory:
  bpfskel -obj build/counter.bpf.o -out internal/counter -pkg counter
  # Two objects in one package: -stem keeps the skeletons' names apart.
  bpfskel -src snoop.bpf.c -stem snoop
  bpfskel -src probe.bpf.c -stem probe
  # In CI: fail when the committed skeleton is stale, print nothing when not.
  bpfskel -src counter.bpf.c -check
  # What is in an object, and the exact layout of one type:
  bpfskel inspect counter.bpf.o
  bpfskel inspect -type event counter.bpf.o

Exit status: 0 success, 1 failure (a bad object, a compile error, a stale
skeleton under -check, a name collision), 2 a mistake in the command line.

Flags:
`

func usage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprint(w, usageText)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(os.Stderr)
}

// checkInputFlags requires one of -obj and -src, and -target, -cc and
// -cflags only with -src.
func checkInputFlags(c *config) error {
	switch {
	case c.obj == "" && c.src == "":
		return usagef("-obj or -src is required: the BPF object, or the C source to compile, to generate a skeleton for")
	case c.obj != "" && c.src != "":
		return usagef("-obj and -src exclude each other: pass the C source (-src) or the object built from it (-obj)")
	case c.obj != "" && (c.target != "" || c.cc != "" || c.cflags != ""):
		return usagef("-target, -cc and -cflags apply to -src only: an object (-obj) is already compiled")
	}
	if c.src != "" {
		if _, err := parseTarget(c.target); err != nil {
			return err
		}
	}
	return nil
}

// input is one object to generate a skeleton for.
type input struct {
	name string // the object's file name: in errors, comments and go:embed
	data []byte
	stem string // output file stem: STEM_bpfel.go
	// path is the object's path for -obj (it is embedded where it lies when
	// it is in the output directory); "" for objects compiled from -src,
	// which are written to the output directory as name.
	path string
}

// inputs reads -obj or compiles -src.
func inputs(c *config, notef func(string, ...any)) ([]input, error) {
	if c.obj != "" {
		data, err := os.ReadFile(c.obj)
		if err != nil {
			return nil, fmt.Errorf("reading the object: %w", err)
		}
		return []input{{name: filepath.Base(c.obj), data: data, stem: fileStem(c, c.obj), path: c.obj}}, nil
	}
	targets, err := parseTarget(c.target)
	if err != nil {
		return nil, err
	}
	objs, err := compile(c, targets, notef)
	if err != nil {
		return nil, err
	}
	stem := fileStem(c, c.src)
	var ins []input
	for _, t := range targets {
		ins = append(ins, input{name: stem + "_" + t.suffix + ".o", data: objs[t.suffix], stem: stem})
	}
	return ins, nil
}

// fileStem names the output files: -stem in lower case, else the input's
// name up to its first dot. Go file names are lower case by convention
// (and Snoop_bpfel.go next to snoop_bpfel.go would differ only in case).
func fileStem(c *config, path string) string {
	if c.stem != "" {
		return strings.ToLower(c.stem)
	}
	return sourceStem(path)
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return usagef("version takes no arguments")
	}
	fmt.Fprintf(stdout, "bpfskel %s (generated code version %d)\n", moduleVersion(), gen.GenVersion)
	return nil
}

// moduleVersion is bpfskel's module version as the go tool recorded it:
// v1.2.3 after go install ...@v1.2.3 or go get -tool, (devel) in a checkout.
func moduleVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	if info.Main.Path == modulePath {
		return info.Main.Version
	}
	for _, d := range info.Deps {
		if d.Path == modulePath {
			if d.Replace != nil {
				return d.Version + " => " + d.Replace.Path
			}
			return d.Version
		}
	}
	return "(unknown)"
}
