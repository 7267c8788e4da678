package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bpfskel/bpfskel/btfmodel"
)

func TestSplitFlags(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  -I../h   -DX=1 ", []string{"-I../h", "-DX=1"}},
		{`-DMSG="a b" '-I/x y'`, []string{"-DMSG=a b", "-I/x y"}},
		{`-DQ=\"q\" a\ b`, []string{`-DQ="q"`, "a b"}},
		{`''`, []string{""}},
	} {
		got, err := splitFlags(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("splitFlags(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{`"open`, `'open`, `trailing\`} {
		if _, err := splitFlags(bad); err == nil {
			t.Errorf("splitFlags(%q): no error", bad)
		}
	}
}

func TestParseTarget(t *testing.T) {
	both, err := parseTarget("both")
	if err != nil || len(both) != 2 || both[0] != targetEL || both[1] != targetEB {
		t.Errorf("both: %v %v", both, err)
	}
	if _, err := parseTarget("bpf"); err == nil {
		t.Error("bpf: no error")
	}
	host, err := parseTarget("")
	if err != nil || len(host) != 1 {
		t.Errorf("host: %v %v", host, err)
	}
}

// evil would forge terminal output or fake lines if printed raw.
const evil = "x\x1b[2J\nfake line\r\"\\"

// TestInspectUntrusted prints an overview and a layout whose every name is
// hostile: the output stays printable, one line per item.
func TestInspectUntrusted(t *testing.T) {
	ov := &btfmodel.Overview{
		File: evil + ".o", ByteOrder: "little-endian",
		Maps:     []btfmodel.OverviewMap{{Name: evil, Type: "Hash", KeyType: "struct " + evil, ValueType: evil + "[4]", InnerMap: evil, Note: evil}},
		Programs: []btfmodel.OverviewProgram{{Name: evil, Section: evil, Type: "Kprobe", AttachTo: evil}},
		Sections: []btfmodel.OverviewSection{{Name: ".data" + evil, Variables: []btfmodel.OverviewVar{{Name: evil, Type: evil}}}},
	}
	tl := &btfmodel.TypeLayout{Kind: "struct", Name: evil, Size: 8, Typedefs: []string{evil},
		Members: []btfmodel.LayoutMember{{Name: evil, Type: evil + "[2]", Size: 4}, {Name: evil, Type: evil, Offset: 4, Size: 4, BitSize: 3}}}
	en := &btfmodel.TypeLayout{Kind: "enum", Name: evil, Size: 4, Values: []btfmodel.LayoutValue{{Name: evil, Value: "1"}}}
	var out bytes.Buffer
	for _, err := range []error{printOverview(&out, ov), printLayout(&out, tl), printLayout(&out, en)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range out.String() {
		if (r < ' ' && r != '\n' && r != '\t') || r > '~' {
			t.Fatalf("unescaped %q at byte %d of:\n%s", r, i, out.String())
		}
	}
	if strings.Contains(out.String(), "\nfake line") {
		t.Errorf("a name started a line of its own:\n%s", out.String())
	}
}

// TestStemFileNames: -stem names the files in lower case and prefixes the
// skeleton's identifiers as given.
func TestStemFileNames(t *testing.T) {
	dir := t.TempDir()
	obj, err := filepath.Abs(helloObj)
	if err != nil {
		t.Fatal(err)
	}
	if code, stderr := command(t, dir, "-obj", obj, "-stem", "Snoop", "-pkg", "p", "-out", dir, "-q"); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	src, err := os.ReadFile(filepath.Join(dir, "snoop_bpfel.go"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "snoop_bpfel.o")); err != nil {
		t.Error(err)
	}
	for _, want := range []string{"type SnoopSkeleton struct", "func LoadSnoop(", "//go:embed snoop_bpfel.o"} {
		if !bytes.Contains(src, []byte(want)) {
			t.Errorf("snoop_bpfel.go lacks %q", want)
		}
	}
}
