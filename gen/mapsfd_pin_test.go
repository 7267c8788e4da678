package gen_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/bpfskel/bpfskel/runtime/bpfskel"
	"github.com/bpfskel/bpfskel/runtime/bpfskeltest"
	"github.com/bpfskel/bpfskel/testdata/golden/mapsfd"
)

// staleCounts pins, at dir/mfd_counts, a hash map with 8-byte values where
// the object declares 16: what an old build of the object left behind.
func staleCounts(t *testing.T, dir string) string {
	t.Helper()
	m, err := ebpf.NewMap(&ebpf.MapSpec{Name: "mfd_counts", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	path := filepath.Join(dir, "mfd_counts")
	if err := m.Pin(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantAll fails t unless err says every one of parts.
func wantAll(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one saying %q", what, parts)
		return
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v\nwant it to say %q", what, err, p)
		}
	}
}

// TestPinByName: mfd_counts (LIBBPF_PIN_BY_NAME) is pinned under PinPath by
// the first load and reused by the next; a stale pin is a clear error.
func TestPinByName(t *testing.T) {
	a, dir := loadMapsfd(t)
	path := filepath.Join(dir, "mfd_counts")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("mfd_counts is not pinned at %s: %v", path, err)
	}
	if err := a.Maps.MfdCounts.Update(1, mapsfd.Counter{Packets: 3, Bytes: 300}, bpfskel.UpdateAny); err != nil {
		t.Fatal(err)
	}
	b := mustLoad(t, func(*bpfskel.LoadOptions) (*mapsfd.Skeleton, error) {
		return mapsfd.Load(&bpfskel.LoadOptions{Maps: ebpf.MapOptions{PinPath: dir}})
	})
	if got, err := b.Maps.MfdCounts.Lookup(1); err != nil || got != (mapsfd.Counter{Packets: 3, Bytes: 300}) {
		t.Errorf("second load reads %+v, %v; want what the first wrote", got, err)
	}
	setBss(t, b, mapsfd.Bss{Slot: 1, InnerKey: 10})
	run(t, b.Programs.Count)
	if got, err := a.Maps.MfdCounts.Lookup(1); err != nil || got != (mapsfd.Counter{Packets: 4, Bytes: 310}) {
		t.Errorf("first load reads %+v, %v after the second's program ran; want {4 310}", got, err)
	}

	// Pin and Unpin on handles of every kind.
	for _, h := range []struct {
		name string
		pin  func(string) error
		un   func() error
		typ  ebpf.MapType
	}{
		{"jmp_table", a.Maps.JmpTable.Pin, a.Maps.JmpTable.Unpin, ebpf.ProgramArray},
		{"outer_arr", a.Maps.OuterArr.Pin, a.Maps.OuterArr.Unpin, ebpf.ArrayOfMaps},
		{"task_stg", a.Maps.TaskStg.Pin, a.Maps.TaskStg.Unpin, ebpf.TaskStorage},
		{"socks_hash", a.Maps.SocksHash.Pin, a.Maps.SocksHash.Unpin, ebpf.SockHash},
		{"inner_a", a.Maps.InnerA.Pin, a.Maps.InnerA.Unpin, ebpf.Hash},
	} {
		p := filepath.Join(dir, "by-hand-"+h.name)
		if err := h.pin(p); err != nil {
			t.Fatal(err)
		}
		m, err := ebpf.LoadPinnedMap(p, nil)
		if err != nil {
			t.Fatalf("%s: %v", h.name, err)
		}
		if m.Type() != h.typ {
			t.Errorf("%s pinned as a %s map", h.name, m.Type())
		}
		m.Close()
		if err := h.un(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: pin still there after Unpin: %v", h.name, err)
		}
	}
	wantAll(t, "Pin outside bpffs", a.Maps.JmpTable.Pin(filepath.Join(t.TempDir(), "x")), `map "jmp_table"`, "bpffs")
	if err := a.Maps.MfdCounts.Unpin(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("mfd_counts still pinned after Unpin: %v", err)
	}

	// A pin left by an older build of the object.
	stale := pinDir(t)
	stalePath := staleCounts(t, stale)
	_, err := mapsfd.Load(&bpfskel.LoadOptions{Maps: ebpf.MapOptions{PinPath: stale}})
	wantAll(t, "load over a stale pin", err, "mapsfd.bpf.o", `map "mfd_counts"`, stalePath,
		"value is 8 bytes there, 16 in the object", "rm "+stalePath, "PinPath")
	if !errors.Is(err, ebpf.ErrMapIncompatible) {
		t.Errorf("load over a stale pin: %v does not wrap ErrMapIncompatible", err)
	}
}

// TestPinByNameDefaultPath: without a PinPath, LIBBPF_PIN_BY_NAME maps go
// to bpfskel.DefaultPinPath, as libbpf puts them.
func TestPinByNameDefaultPath(t *testing.T) {
	bpfskeltest.RequireKernel(t)
	spec, err := mapsfd.Open()
	if err != nil {
		t.Fatal(err)
	}
	// A name of our own keeps this test off other runs' pins.
	name := randomName(t, "mfd")[:15]
	spec.CollectionSpec().Maps["mfd_counts"].Name = name
	skel := mustLoad(t, spec.Load)
	path := filepath.Join(bpfskel.DefaultPinPath, name)
	t.Cleanup(func() { os.Remove(path) })
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("mfd_counts not pinned at %s: %v", path, err)
	}
	if err := skel.Maps.MfdCounts.Unpin(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("still pinned after Unpin: %v", err)
	}
}

// loaderEnv makes the test binary the loader of TestOpenMapsFromAnotherProcess.
const loaderEnv = "BPFSKEL_MAPSFD_LOADER_DIR"

// TestMapsfdLoaderProcess is the other process of
// TestOpenMapsFromAnotherProcess, which runs this test binary again with
// loaderEnv set; in a normal run it returns at once. The loader loads
// mapsfd with its maps pinned in the directory loaderEnv names, writes
// values, prints "ready" and the maps' IDs, then answers "get N" with
// mfd_counts[N] until its input closes.
func TestMapsfdLoaderProcess(t *testing.T) {
	dir := os.Getenv(loaderEnv)
	if dir == "" {
		return
	}
	skel, err := mapsfd.Load(&bpfskel.LoadOptions{Maps: ebpf.MapOptions{PinPath: dir}})
	if err != nil {
		t.Fatal(err)
	}
	defer skel.Close()
	ids := []string{"ready"}
	for name, m := range skel.Collection().Maps {
		if strings.HasPrefix(name, ".") {
			continue
		}
		if !m.IsPinned() {
			if err := m.Pin(filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
		info, err := m.Info()
		if err != nil {
			t.Fatal(err)
		}
		id, _ := info.ID()
		ids = append(ids, fmt.Sprintf("%s=%d", name, id))
	}
	if err := skel.Bss.Set(0, mapsfd.Bss{Slot: 3, InnerKey: 100}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := skel.Programs.Count.TestRun(nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := skel.Maps.InnerA.Update(5, mapsfd.InnerVal{Tag: 55}, bpfskel.UpdateAny); err != nil {
		t.Fatal(err)
	}
	fmt.Println(strings.Join(ids, " "))
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		n, err := strconv.ParseUint(strings.TrimPrefix(in.Text(), "get "), 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		c, err := skel.Maps.MfdCounts.Lookup(uint32(n))
		fmt.Println(n, c.Packets, c.Bytes, err)
	}
}

// startPiped starts cmd with pipes to its standard input and from its
// standard output.
func startPiped(t *testing.T, cmd *exec.Cmd) (io.WriteCloser, io.ReadCloser) {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return stdin, stdout
}

// loader runs TestMapsfdLoaderProcess in a child process that pins into
// dir, and returns the maps' IDs and a function that asks it for
// mfd_counts[n].
func loader(t *testing.T, dir string) (map[string]ebpf.MapID, func(n uint32) string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMapsfdLoaderProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), loaderEnv+"="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, stdout := startPiped(t, cmd)
	t.Cleanup(func() {
		stdin.Close()
		io.Copy(io.Discard, stdout)
		if err := cmd.Wait(); err != nil {
			t.Errorf("loader process: %v\n%s", err, stderr.String())
		}
	})
	out := bufio.NewScanner(stdout)
	ids := map[string]ebpf.MapID{}
	for out.Scan() {
		fields := strings.Fields(out.Text())
		if len(fields) == 0 || fields[0] != "ready" {
			continue
		}
		for _, f := range fields[1:] {
			name, id, _ := strings.Cut(f, "=")
			n, err := strconv.ParseUint(id, 10, 32)
			if err != nil {
				t.Fatalf("loader printed %q", f)
			}
			ids[name] = ebpf.MapID(n)
		}
		break
	}
	if len(ids) == 0 {
		stdin.Close()
		t.Fatalf("the loader process did not get ready:\n%s", stderr.String())
	}
	ask := func(n uint32) string {
		t.Helper()
		if _, err := fmt.Fprintf(stdin, "get %d\n", n); err != nil {
			t.Fatal(err)
		}
		if !out.Scan() {
			t.Fatalf("the loader process stopped: %v\n%s", out.Err(), stderr.String())
		}
		return out.Text()
	}
	return ids, ask
}

// TestOpenMapsFromAnotherProcess: one process loads mapsfd and pins its
// maps; this one opens them typed, from the pins, by ID and by name, reads
// what the loader wrote and writes what the loader then reads.
func TestOpenMapsFromAnotherProcess(t *testing.T) {
	bpfskeltest.RequireKernel(t)
	dir := pinDir(t)
	ids, ask := loader(t, dir)

	o, err := mapsfd.OpenMaps(bpfskel.PinnedIn(dir))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := o.Maps.MfdCounts.Lookup(3); err != nil || got != (mapsfd.Counter{Packets: 2, Bytes: 200}) {
		t.Errorf("mfd_counts[3] = %+v, %v; want {2 200}, what the loader's program counted", got, err)
	}
	if err := o.Maps.MfdCounts.Update(4, mapsfd.Counter{Packets: 9, Bytes: 900}, bpfskel.UpdateNoExist); err != nil {
		t.Fatal(err)
	}
	if got := ask(4); got != "4 9 900 <nil>" {
		t.Errorf("the loader reads mfd_counts[4] as %q, want 4 9 900", got)
	}
	// Handles of other kinds open typed too.
	if _, err := o.Maps.JmpTable.ProgramID(2); err != nil {
		t.Errorf("jmp_table[2], set statically in the loader: %v", err)
	}
	inner, err := o.Maps.OuterArr.Lookup(0)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := inner.Lookup(5); err != nil || got.Tag != 55 {
		t.Errorf("outer_arr[0][5] = %+v, %v; want tag 55 from the loader", got, err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Maps.MfdCounts.Lookup(3); err == nil {
		t.Error("Lookup after Close succeeded")
	}
	if _, err := inner.Lookup(5); err == nil {
		t.Error("an inner map handle still worked after Close")
	}

	t.Run("some pinned", func(t *testing.T) {
		o, err := mapsfd.OpenMaps(bpfskel.PinnedIn(dir, "mfd_counts"))
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		if o.Maps.InnerA != nil || o.Maps.JmpTable != nil {
			t.Error("maps not asked for were opened")
		}
		if got, err := o.Maps.MfdCounts.Lookup(4); err != nil || got.Bytes != 900 {
			t.Errorf("mfd_counts[4] = %+v, %v", got, err)
		}
	})
	t.Run("by ID", func(t *testing.T) {
		o, err := mapsfd.OpenMaps(bpfskel.ByID(map[string]ebpf.MapID{"mfd_counts": ids["mfd_counts"], "inner_a": ids["inner_a"]}))
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		if got, err := o.Maps.InnerA.Lookup(5); err != nil || got.Tag != 55 {
			t.Errorf("inner_a[5] = %+v, %v; want tag 55", got, err)
		}
	})
	t.Run("by name", func(t *testing.T) {
		o, err := mapsfd.OpenMaps(bpfskel.ByName("mfd_counts"))
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		if got, err := o.Maps.MfdCounts.Lookup(3); err != nil || got.Packets != 2 {
			t.Errorf("mfd_counts[3] = %+v, %v", got, err)
		}
	})
	t.Run("errors", func(t *testing.T) {
		stale := staleCounts(t, pinDir(t))
		_, err := mapsfd.OpenMaps(bpfskel.PinnedAt(map[string]string{"mfd_counts": stale}))
		wantAll(t, "a pin of another layout", err, "mapsfd.bpf.o", `map "mfd_counts"`, stale,
			"value is 8 bytes there, 16 in the object", "regenerate")

		empty := pinDir(t)
		_, err = mapsfd.OpenMaps(bpfskel.PinnedIn(empty))
		wantAll(t, "an empty directory", err, `map "mfd_counts"`, "nothing is pinned at "+filepath.Join(empty, "mfd_counts"))

		_, err = mapsfd.OpenMaps(bpfskel.PinnedIn(dir, "no_such_map"))
		wantAll(t, "a map the object lacks", err, `map "no_such_map"`, "no such map")

		_, err = mapsfd.OpenMaps(bpfskel.ByID(map[string]ebpf.MapID{"inner_a": ids["devs"]}))
		wantAll(t, "the ID of another map", err, `map "inner_a"`, fmt.Sprintf("map ID %d", ids["devs"]),
			"does not match the object: it is a DevMap map, the object declares Hash, value is 8 bytes there, 16 in the object")

		_, err = mapsfd.OpenMaps(bpfskel.ByID(map[string]ebpf.MapID{"jmp_table": ids["mfd_counts"]}))
		wantAll(t, "a hash opened as a program array", err, `map "jmp_table"`, "Hash map, the object declares ProgramArray")

		_, err = mapsfd.OpenMaps(bpfskel.MapSource{})
		wantAll(t, "an empty source", err, "PinnedIn")
	})
}
