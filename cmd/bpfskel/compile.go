package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// A byte order to compile C for: the clang target and the suffix of the
// files it produces.
type bpfTarget struct {
	clang  string // "bpfel"
	suffix string // "bpfel": NAME_bpfel.o, NAME_bpfel.go
}

var (
	targetEL = bpfTarget{"bpfel", "bpfel"}
	targetEB = bpfTarget{"bpfeb", "bpfeb"}
)

// parseTarget reads -target: bpfel, bpfeb, both, or empty for the host's
// byte order, which Go programs built here are for.
func parseTarget(s string) ([]bpfTarget, error) {
	switch s {
	case "bpfel":
		return []bpfTarget{targetEL}, nil
	case "bpfeb":
		return []bpfTarget{targetEB}, nil
	case "both":
		return []bpfTarget{targetEL, targetEB}, nil
	case "":
		if hostBigEndian() {
			return []bpfTarget{targetEB}, nil
		}
		return []bpfTarget{targetEL}, nil
	}
	return nil, usagef("-target %q: want bpfel, bpfeb or both", s)
}

func hostBigEndian() bool {
	switch runtime.GOARCH {
	case "armbe", "arm64be", "mips", "mips64", "mips64p32", "ppc64", "s390", "s390x", "sparc", "sparc64":
		return true
	}
	return false
}

// hostArch is what the kernel headers and libbpf's bpf_tracing.h call the
// host's architecture (-D__TARGET_ARCH_<arch>), and the Debian multiarch
// triple whose include directory holds <asm/types.h>. bpf2go derives the
// same from GOARCH.
var hostArch = map[string]struct{ linux, multiarch string }{
	"386":      {"x86", "i386-linux-gnu"},
	"amd64":    {"x86", "x86_64-linux-gnu"},
	"arm":      {"arm", "arm-linux-gnueabihf"},
	"arm64":    {"arm64", "aarch64-linux-gnu"},
	"loong64":  {"loongarch", "loongarch64-linux-gnu"},
	"mips":     {"mips", "mips-linux-gnu"},
	"mipsle":   {"mips", "mipsel-linux-gnu"},
	"mips64":   {"mips", "mips64-linux-gnuabi64"},
	"mips64le": {"mips", "mips64el-linux-gnuabi64"},
	"ppc64":    {"powerpc", "powerpc64-linux-gnu"},
	"ppc64le":  {"powerpc", "powerpc64le-linux-gnu"},
	"riscv64":  {"riscv", "riscv64-linux-gnu"},
	"s390x":    {"s390", "s390x-linux-gnu"},
}

// defaultCFlags are the flags every compile gets before -cflags: what the
// project's Makefile uses, for the host's architecture. -cflags come after
// them, so a later -O or -D in -cflags wins.
func defaultCFlags() []string {
	flags := []string{"-g", "-O2", "-Wall"}
	arch, ok := hostArch[runtime.GOARCH]
	if !ok {
		return flags
	}
	flags = append(flags, "-D__TARGET_ARCH_"+arch.linux)
	inc := "/usr/include/" + arch.multiarch
	if st, err := os.Stat(inc); err == nil && st.IsDir() {
		flags = append(flags, "-I"+inc)
	}
	return flags
}

// errNoCompiler says how to get a compiler; the message is the whole fix.
var errNoCompiler = errors.New("no clang on PATH (looked for clang and clang-NN); " +
	"install it with `apt-get install clang-19 llvm-19 libbpf-dev` (or `scripts/setup.sh --build` in bpfskel's repository), " +
	"or name one with -cc")

// findCompiler returns -cc, or clang from PATH, or the newest clang-NN.
func findCompiler(cc string) (string, error) {
	if cc != "" {
		path, err := exec.LookPath(cc)
		if err != nil {
			return "", fmt.Errorf("-cc %s: not found on PATH; install it (e.g. `apt-get install clang-19`) or name another with -cc", cc)
		}
		return path, nil
	}
	if path, err := exec.LookPath("clang"); err == nil {
		return path, nil
	}
	if path := newestVersioned("clang"); path != "" {
		return path, nil
	}
	return "", errNoCompiler
}

// newestVersioned finds NAME-NN on PATH with the highest NN, as Debian
// installs clang-19, llvm-strip-19 and so on.
func newestVersioned(name string) string {
	best, bestVer := "", -1
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		matches, _ := filepath.Glob(filepath.Join(dir, name+"-[0-9]*"))
		for _, m := range matches {
			ver, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(m), name+"-"))
			if err != nil || ver <= bestVer {
				continue
			}
			if st, err := os.Stat(m); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
				continue
			}
			best, bestVer = m, ver
		}
	}
	return best
}

// findStrip returns the llvm-strip that goes with the compiler cc
// (clang-19 → llvm-strip-19), else llvm-strip, else "".
func findStrip(cc string) string {
	base := filepath.Base(cc)
	if _, ver, ok := strings.Cut(base, "-"); ok {
		if p, err := exec.LookPath("llvm-strip-" + ver); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("llvm-strip"); err == nil {
		return p
	}
	return newestVersioned("llvm-strip")
}

// compileArgs is the clang command line for src (a file name inside the
// working directory) into out. The flags match the Makefile's, so that the
// object is reproducible: the source is named relative to its directory and
// the debug prefix map and compilation directory keep absolute paths out.
func compileArgs(t bpfTarget, userFlags []string, src, out string) []string {
	args := []string{"-target", t.clang}
	args = append(args, defaultCFlags()...)
	args = append(args, userFlags...)
	dir := filepath.Dir(src)
	return append(args,
		"-fdebug-prefix-map="+dir+"=.", "-fdebug-compilation-dir=.",
		"-c", filepath.Base(src), "-o", out)
}

// compile builds src for each target and returns the objects' bytes, keyed
// by target suffix. Nothing is written outside a temporary directory.
// notef reports what the user should know (a missing llvm-strip).
func compile(c *config, targets []bpfTarget, notef func(string, ...any)) (map[string][]byte, error) {
	src, err := filepath.Abs(c.src)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(src); err != nil {
		return nil, fmt.Errorf("reading the C source: %w", err)
	} else if st.IsDir() {
		return nil, fmt.Errorf("-src %s is a directory; name the .bpf.c file", c.src)
	}
	cc, err := findCompiler(c.cc)
	if err != nil {
		return nil, err
	}
	userFlags, err := splitFlags(c.cflags)
	if err != nil {
		return nil, usagef("-cflags: %v", err)
	}
	strip := findStrip(cc)
	if strip == "" {
		notef("no llvm-strip on PATH: the object keeps its DWARF (install llvm-19 to strip it; BTF is kept either way)")
	}
	tmp, err := os.MkdirTemp("", "bpfskel-cc-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	objs := map[string][]byte{}
	for _, t := range targets {
		out := filepath.Join(tmp, t.suffix+".o")
		cmd := exec.Command(cc, compileArgs(t, userFlags, src, out)...)
		cmd.Dir = filepath.Dir(src)
		var msg bytes.Buffer
		cmd.Stdout, cmd.Stderr = &msg, &msg
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("compiling %s for %s with %s failed (%v):\n%s",
				c.src, t.clang, filepath.Base(cc), err, strings.TrimRight(msg.String(), "\n"))
		}
		if strip != "" {
			stripped := out + ".stripped"
			cmd := exec.Command(strip, "--strip-debug", out, "-o", stripped)
			if b, err := cmd.CombinedOutput(); err != nil {
				return nil, fmt.Errorf("stripping DWARF from the %s object with %s: %v\n%s", t.clang, filepath.Base(strip), err, b)
			}
			out = stripped
		}
		if objs[t.suffix], err = os.ReadFile(out); err != nil {
			return nil, err
		}
	}
	return objs, nil
}

// splitFlags splits -cflags as a shell would split words, honouring single
// and double quotes and backslashes; no expansion happens.
func splitFlags(s string) ([]string, error) {
	var (
		out     []string
		cur     strings.Builder
		inWord  bool
		quote   rune
		escaped bool
	)
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 || escaped {
		return nil, fmt.Errorf("unterminated quote or escape in %q", s)
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}

// sourceStem is the file stem of a C source or object: hello.bpf.c → hello.
func sourceStem(path string) string {
	stem, _, _ := strings.Cut(filepath.Base(path), ".")
	return stem
}
