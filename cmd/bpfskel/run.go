package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"

	"github.com/bpfskel/bpfskel/btfmodel"
	"github.com/bpfskel/bpfskel/gen"
)

// renameFlag collects repeated -rename kind:cname=GoName flags.
type renameFlag map[string]string

func (r renameFlag) String() string { return "" }

func (r renameFlag) Set(s string) error {
	key, to, err := btfmodel.ParseRename(s)
	if err != nil {
		return err
	}
	if _, dup := r[key]; dup {
		return fmt.Errorf("%s is renamed twice", key)
	}
	r[key] = to
	return nil
}

// eventFlag collects repeated -event MAP=TYPE flags.
type eventFlag map[string]string

func (e eventFlag) String() string { return "" }

func (e eventFlag) Set(s string) error {
	m, typ, ok := strings.Cut(s, "=")
	if !ok || m == "" || typ == "" {
		return fmt.Errorf("%q is not MAP=TYPE", s)
	}
	if _, dup := e[m]; dup {
		return fmt.Errorf("map %s is given an event type twice", m)
	}
	e[m] = typ
	return nil
}

// typeFlag collects repeated -type NAME flags.
type typeFlag []string

func (t *typeFlag) String() string { return "" }

func (t *typeFlag) Set(s string) error {
	if s == "" {
		return fmt.Errorf("-type needs a C type name")
	}
	*t = append(*t, s)
	return nil
}

type config struct {
	obj, pkg, out, stem string
	check               bool
	renames             renameFlag
	events              eventFlag
	types               typeFlag

	src, cc, cflags, target string // compiling C: compile.go
	quiet                   bool
}

func parseFlags(args []string, stdout, stderr io.Writer) (*config, error) {
	c := &config{renames: renameFlag{}, events: eventFlag{}}
	fs := flag.NewFlagSet("bpfskel", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.obj, "obj", "", "the compiled BPF object (clang -g -target bpf); this or -src is required")
	fs.StringVar(&c.src, "src", "", "the BPF C source: compile it with -cc (objects are written next to the output), then generate")
	fs.StringVar(&c.cc, "cc", "", "C compiler for -src (default: clang on PATH, else the newest clang-NN)")
	fs.StringVar(&c.cflags, "cflags", "", "extra compiler flags for -src, after the defaults (-g -O2 -Wall -D__TARGET_ARCH_<arch> -I/usr/include/<multiarch>)")
	fs.StringVar(&c.target, "target", "", "byte order to compile -src for: bpfel, bpfeb or both (default: the host's)")
	fs.BoolVar(&c.quiet, "q", false, "print nothing but errors (no notes, no list of written files)")
	fs.StringVar(&c.pkg, "pkg", os.Getenv("GOPACKAGE"), "Go package name of the output (default $GOPACKAGE, else the package in -out)")
	fs.StringVar(&c.out, "out", ".", "directory to write the skeleton to")
	fs.StringVar(&c.stem, "stem", "", "prefix of the skeleton's identifiers and output file names (default: none, files named after the object)")
	fs.BoolVar(&c.check, "check", false, "write nothing; fail if the files on disk are not what would be written")
	fs.Var(c.renames, "rename", "give a C thing a Go name, as KIND:CNAME=GoName (KIND: map, program, variable, struct, union, enum, value, member TYPE.FIELD); repeatable")
	fs.Var(c.events, "event", "the C type of the records of a ring buffer, user ring buffer or perf event array, as MAP=TYPE (a struct, union, enum or typedef); repeatable")
	fs.Var(&c.types, "type", "also mirror the named C struct, union, enum or typedef, as bpf2go's -type; repeatable")
	fs.Usage = func() { usage(fs, stderr) }
	if wantsHelp(args) {
		usage(fs, stdout)
		return nil, errHelp
	}
	if err := fs.Parse(args); err != nil {
		return nil, usageError{err}
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected arguments %q; the object goes in -obj", fs.Args())
	}
	if err := checkInputFlags(c); err != nil {
		return nil, err
	}
	return c, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	if cmd, ok := subcommands[firstArg(args)]; ok {
		return cmd(args[1:], stdout, stderr)
	}
	c, err := parseFlags(args, stdout, stderr)
	if err == errHelp {
		return nil
	}
	if err != nil {
		return err
	}
	notef := func(format string, args ...any) {
		if !c.quiet && !c.check {
			fmt.Fprintf(stderr, "bpfskel: "+format+"\n", args...)
		}
	}
	if c.pkg == "" {
		if c.pkg, err = packageName(c.out); err != nil {
			return err
		}
	}
	ins, err := inputs(c, notef)
	if err != nil {
		return err
	}

	files := map[string][]byte{}
	var jobs []*skeletonJob
	for _, in := range ins {
		obj, err := btfmodel.Load(in.name, in.data, btfmodel.Options{Stem: c.stem, Renames: c.renames, Events: c.events, Types: c.types})
		if err != nil {
			return err
		}
		embed := in.name
		if in.path != "" {
			if embed, err = placeObject(in.path, c.out, in.stem, obj.ByteOrder, in.data, files); err != nil {
				return err
			}
		} else {
			files[in.name] = in.data
		}
		opts := gen.Options{Package: c.pkg, FileStem: in.stem, ObjectFile: embed}
		src, err := gen.Generate(obj, opts)
		if err != nil {
			return err
		}
		for name, b := range src {
			files[name] = b
		}
		for _, note := range obj.Notes {
			notef("%s: note: %s", obj.File, note)
		}
		jobs = append(jobs, &skeletonJob{obj: obj, opts: opts, out: src})
	}
	if err := fitPackage(c, jobs, files); err != nil {
		return err
	}
	if c.check {
		return checkFiles(c.out, files)
	}
	if c.quiet {
		stdout = io.Discard
	}
	return writeFiles(c.out, files, stdout)
}

// packageName asks the go tool which package the output directory holds.
func packageName(dir string) (string, error) {
	pkgs, err := packages.Load(&packages.Config{Mode: packages.NeedName, Dir: dir}, ".")
	if err == nil && len(pkgs) == 1 && pkgs[0].Name != "" {
		return pkgs[0].Name, nil
	}
	if name := packageClause(dir); name != "" {
		return name, nil
	}
	return "", usagef("cannot tell the Go package name of %s (no Go files there and $GOPACKAGE is unset); pass -pkg", dir)
}

// placeObject decides what the skeleton embeds: the object itself when it
// already sits in the output directory, else a copy written there.
func placeObject(obj, out, stem string, bo binary.ByteOrder, data []byte, files map[string][]byte) (string, error) {
	objDir, err := filepath.Abs(filepath.Dir(obj))
	if err != nil {
		return "", err
	}
	outDir, err := filepath.Abs(out)
	if err != nil {
		return "", err
	}
	if objDir == outDir {
		return filepath.Base(obj), nil
	}
	name := stem + "_bpfel.o"
	if bo == binary.BigEndian {
		name = stem + "_bpfeb.o"
	}
	files[name] = data
	return name, nil
}

// checkFiles fails when any file on disk differs from what would be written.
func checkFiles(dir string, files map[string][]byte) error {
	var stale []string
	for _, name := range slices.Sorted(maps.Keys(files)) {
		have, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(have, files[name]) {
			stale = append(stale, filepath.Join(dir, name))
		}
	}
	if len(stale) > 0 {
		return fmt.Errorf("stale generated files: %s; run go generate and commit them", strings.Join(stale, ", "))
	}
	return nil
}

// writeFiles writes every file through a temporary file and a rename, so a
// reader never sees half a file; nothing is written before all files were
// generated.
func writeFiles(dir string, files map[string][]byte, stdout io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		path := filepath.Join(dir, name)
		if have, err := os.ReadFile(path); err == nil && bytes.Equal(have, files[name]) {
			continue // unchanged: keep its mtime, so builds stay cached
		}
		if err := writeAtomic(path, files[name]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", path)
	}
	return nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
