package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/bpfskel/bpfskel/btfmodel"
)

const inspectUsage = `usage: bpfskel inspect [-json] [-type NAME] FILE.bpf.o

Without -type: the object's maps (type, key and value types and sizes,
flags, max_entries, pinning), programs (section, type, attach target) and
data sections with their variables. With -type: the byte layout of one type
(a struct, union, enum or typedef, "struct NAME" when several kinds share a
name, or a data section such as .bss), pahole style: offsets, sizes, holes,
padding and bitfield positions. -json prints the same as JSON.

Flags:
`

// runInspect is `bpfskel inspect`.
func runInspect(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bpfskel inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON for machines")
	typeName := fs.String("type", "", "print the layout of this type (struct, union, enum, typedef or data section)")
	fs.Usage = func() {
		fmt.Fprint(stderr, inspectUsage)
		fs.PrintDefaults()
	}
	if wantsHelp(args) {
		fmt.Fprint(stdout, inspectUsage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return nil
	}
	// Flags may come before or after the object.
	var objs []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return usageError{err}
		}
		if fs.NArg() == 0 {
			break
		}
		objs = append(objs, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(objs) != 1 {
		return usagef("inspect takes one object, got %d: bpfskel inspect [-json] [-type NAME] FILE.bpf.o", len(objs))
	}
	data, err := os.ReadFile(objs[0])
	if err != nil {
		return fmt.Errorf("reading the object: %w", err)
	}
	ov, err := btfmodel.Inspect(filepath.Base(objs[0]), data)
	if err != nil {
		return err
	}
	if *typeName != "" {
		tl, err := ov.Layout(*typeName)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, tl)
		}
		return printLayout(stdout, tl)
	}
	if *asJSON {
		return writeJSON(stdout, ov)
	}
	return printOverview(stdout, ov)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// d escapes an untrusted name for the terminal.
var d = btfmodel.Display

// dt shows a C type spelling or a section name: as it is when it is
// printable ASCII without quotes or backslashes (CTypeName adds spaces,
// brackets and stars; section names have slashes), else quoted and escaped.
func dt(s string) string {
	for _, r := range s {
		if r < ' ' || r > '~' || r == '"' || r == '\\' {
			return strconv.QuoteToASCII(s)
		}
	}
	return s
}

func bytesText(n uint32) string {
	if n == 1 {
		return "1 byte"
	}
	return fmt.Sprintf("%d bytes", n)
}

func printOverview(w io.Writer, ov *btfmodel.Overview) error {
	fmt.Fprintf(w, "%s: %s BPF object\n", d(ov.File), ov.ByteOrder)

	fmt.Fprintf(w, "\nmaps (%d):\n", len(ov.Maps))
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	if len(ov.Maps) > 0 {
		fmt.Fprintln(tw, "  NAME\tTYPE\tKEY\tVALUE\tMAX_ENTRIES\tFLAGS\tPINNING")
	}
	for _, m := range ov.Maps {
		flags := strings.Join(m.Flags, "|")
		if flags == "" {
			flags = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%s\t%s\n", d(m.Name), m.Type,
			kv(m.KeyType, m.KeySize), kv(m.ValueType, m.ValueSize), m.MaxEntries, flags, m.Pinning)
	}
	tw.Flush()
	for _, m := range ov.Maps {
		var extra []string
		if m.InnerMap != "" {
			extra = append(extra, "inner map: "+dt(m.InnerMap))
		}
		if m.MapExtra != 0 {
			extra = append(extra, fmt.Sprintf("map_extra %#x", m.MapExtra))
		}
		if m.Values != 0 {
			extra = append(extra, fmt.Sprintf("%d static value%s", m.Values, plural(m.Values)))
		}
		if m.Note != "" {
			extra = append(extra, dt(m.Note))
		}
		if len(extra) > 0 {
			fmt.Fprintf(w, "  %s: %s\n", d(m.Name), strings.Join(extra, "; "))
		}
	}

	fmt.Fprintf(w, "\nprograms (%d):\n", len(ov.Programs))
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	if len(ov.Programs) > 0 {
		fmt.Fprintln(tw, "  NAME\tSECTION\tTYPE\tATTACH TYPE\tATTACH TO")
	}
	for _, p := range ov.Programs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", d(p.Name), dt(p.Section), p.Type, orDash(p.AttachType), orDash(dt(p.AttachTo)))
	}
	tw.Flush()

	fmt.Fprintf(w, "\ndata sections (%d):\n", len(ov.Sections))
	for _, s := range ov.Sections {
		ro := ""
		if s.ReadOnly {
			ro = ", read-only after load"
		}
		fmt.Fprintf(w, "  %s (%s%s)\n", dt(s.Name), bytesText(s.Size), ro)
		tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "    OFFSET\tSIZE\tLINKAGE\tNAME\tTYPE")
		for _, v := range s.Variables {
			fmt.Fprintf(tw, "    %d\t%d\t%s\t%s\t%s\n", v.Offset, v.Size, v.Linkage, orDash(d(v.Name)), dt(v.Type))
		}
		tw.Flush()
	}
	return nil
}

func kv(typ string, size uint32) string {
	if typ == "" {
		return bytesText(size)
	}
	return fmt.Sprintf("%s (%s)", dt(typ), bytesText(size))
}

func orDash(s string) string {
	if s == "" || s == `""` {
		return "-"
	}
	return s
}

// printLayout prints a type the way pahole does: each member with its
// offset and size, holes and padding as comments, a summary at the end.
func printLayout(w io.Writer, tl *btfmodel.TypeLayout) error {
	for _, td := range tl.Typedefs {
		fmt.Fprintf(w, "/* typedef %s */\n", d(td))
	}
	name := dt(tl.Name)
	if name == "" || name == `""` {
		name = "{anonymous}"
	}
	switch tl.Kind {
	case "enum":
		fmt.Fprintf(w, "enum %s { /* %s */\n", name, bytesText(uint32(tl.Size)))
		for _, v := range tl.Values {
			fmt.Fprintf(w, "\t%s = %s,\n", d(v.Name), v.Value)
		}
		fmt.Fprintln(w, "};")
		return nil
	case "struct", "union":
		fmt.Fprintf(w, "%s %s {\n", tl.Kind, name)
	case "section":
		fmt.Fprintf(w, "section %s {\n", name)
	default:
		fmt.Fprintf(w, "%s: %s, %s\n", name, tl.Kind, bytesText(uint32(tl.Size)))
		return nil
	}
	for _, m := range tl.Members {
		var hole []string
		if m.HoleBefore > 0 {
			hole = append(hole, bytesText(uint32(m.HoleBefore)))
		}
		if m.BitHoleBefore > 0 {
			hole = append(hole, fmt.Sprintf("%d bit%s", m.BitHoleBefore, plural(m.BitHoleBefore)))
		}
		if len(hole) > 0 {
			fmt.Fprintf(w, "\n\t/* XXX %s hole, try to pack */\n\n", strings.Join(hole, " "))
		}
		mname := d(m.Name)
		if m.Name == "" {
			mname = ""
		}
		typ := dt(m.Type)
		if i := strings.Index(typ, "["); i > 0 && typ == m.Type && strings.HasSuffix(typ, "]") {
			// C spells arrays around the name: __u32 vals[4]. Only plain
			// spellings are split: an escaped one stays one quoted string.
			typ, mname = strings.TrimSuffix(typ[:i], " "), mname+typ[i:]
		}
		if m.BitSize > 0 {
			fmt.Fprintf(w, "\t%-26s %-21s /* %5d:%2d %4d */\n", typ, mname+fmt.Sprintf(":%d;", m.BitSize), m.Offset, m.BitOffset, m.Size)
			continue
		}
		fmt.Fprintf(w, "\t%-26s %-21s /* %5d %7d */\n", typ, mname+";", m.Offset, m.Size)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "\t/* size: %d, cachelines: %d, members: %d */\n", tl.Size, (tl.Size+63)/64, len(tl.Members))
	if tl.Holes > 0 || tl.BitHoles > 0 {
		fmt.Fprintf(w, "\t/* sum members: %d, holes: %d, sum holes: %d */\n", tl.SumMembers, tl.Holes, tl.SumHoles)
	}
	if tl.BitHoles > 0 {
		fmt.Fprintf(w, "\t/* bit holes: %d */\n", tl.BitHoles)
	}
	if tl.Padding > 0 {
		fmt.Fprintf(w, "\t/* padding: %d */\n", tl.Padding)
	}
	if tl.BitPadding > 0 {
		fmt.Fprintf(w, "\t/* bit_padding: %d bit%s */\n", tl.BitPadding, plural(tl.BitPadding))
	}
	if last := tl.Size % 64; tl.Size > 64 && last != 0 {
		fmt.Fprintf(w, "\t/* last cacheline: %s */\n", bytesText(uint32(last)))
	}
	fmt.Fprintln(w, "};")
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
