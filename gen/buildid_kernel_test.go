package gen_test

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfskel/bpfskel/runtime/bpfskel"
	"github.com/bpfskel/bpfskel/testdata/golden/allmaps"
)

// ntGNUBuildID is NT_GNU_BUILD_ID, the type of a GNU build id note.
const ntGNUBuildID = 3

// buildIDNote returns the GNU build id of the ELF file at path (the
// descriptor of its NT_GNU_BUILD_ID note) and the file offset of the
// note's type word, or nil when the file has no such note.
func buildIDNote(t *testing.T, path string) (id []byte, typeOff int64) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil {
			t.Fatalf("%s: note segment: %v", path, err)
		}
		align := max(p.Align, 4)
		for off := uint64(0); off+12 <= uint64(len(data)); {
			namesz := uint64(f.ByteOrder.Uint32(data[off:]))
			descsz := uint64(f.ByteOrder.Uint32(data[off+4:]))
			typ := f.ByteOrder.Uint32(data[off+8:])
			name := off + 12
			desc := name + (namesz+align-1)&^(align-1)
			next := desc + (descsz+align-1)&^(align-1)
			if desc+descsz > uint64(len(data)) {
				break
			}
			if typ == ntGNUBuildID && string(data[name:name+namesz]) == "GNU\x00" {
				return bytes.Clone(data[desc : desc+descsz]), int64(p.Off + off + 8)
			}
			off = next
		}
	}
	return nil, 0
}

// execSegment reports whether offset lies in an executable PT_LOAD
// segment of the ELF file at path.
func execSegment(t *testing.T, path string, offset uint64) bool {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && offset >= p.Off && offset < p.Off+p.Filesz {
			return true
		}
	}
	return false
}

// mapping is an executable file mapping of a process, from
// /proc/pid/maps.
type mapping struct {
	start, end uint64
	path       string
}

func execMappings(t *testing.T, pid int) []mapping {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		t.Fatal(err)
	}
	var ms []mapping
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.Contains(f[1], "x") || !strings.HasPrefix(f[5], "/") {
			continue
		}
		lo, hi, _ := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("/proc/%d/maps: %q", pid, line)
		}
		ms = append(ms, mapping{start, end, f[5]})
	}
	return ms
}

// buildIDRun is what one child process left in build_id_stacks.
type buildIDRun struct {
	maps   []mapping
	ids    map[string]string // hex build id -> file, for every file in maps that has one
	stacks [][16]bpfskel.StackBuildID
}

// runBuildIDChild runs cat with env added, makes the buildid program
// record its system calls, and returns the stacks they left (deleting
// them from the map) and the files cat had mapped.
func runBuildIDChild(t *testing.T, skel *allmaps.Skeleton, env ...string) buildIDRun {
	t.Helper()
	cat, err := exec.LookPath("cat")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(cat)
	cmd.Env = append(os.Environ(), env...)
	stdin, stdout := startPiped(t, cmd)
	skel.Bss.BuildidTgid.Store(uint32(cmd.Process.Pid))
	// The echo says cat has loaded every library and sits in its loop.
	if _, err := io.WriteString(stdin, "ping\n"); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ping\n" {
		t.Fatalf("cat echoed %q, %v", line, err)
	}
	run := buildIDRun{maps: execMappings(t, cmd.Process.Pid), ids: map[string]string{}}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	skel.Bss.BuildidTgid.Store(0)
	for _, m := range run.maps {
		if id, _ := buildIDNote(t, m.path); id != nil {
			run.ids[hex.EncodeToString(id)] = m.path
		}
	}
	stored, failed := skel.Bss.BuildidStored.Swap(0), skel.Bss.BuildidFailed.Swap(0)
	if stored == 0 || failed != 0 {
		t.Fatalf("bpf_get_stackid stored %d stacks and failed %d times, want stacks and no failure", stored, failed)
	}
	var ids []uint32
	for id, stack := range skel.Maps.BuildIdStacks.All() {
		ids = append(ids, id)
		run.stacks = append(run.stacks, stack)
	}
	for _, id := range ids {
		if err := skel.Maps.BuildIdStacks.Delete(id); err != nil {
			t.Fatal(err)
		}
	}
	if len(run.stacks) == 0 {
		t.Fatal("build_id_stacks holds no stack")
	}
	return run
}

// checkFrames checks what holds for every stack: frames end with empty
// ones, each frame's accessors answer by its status, an IP frame carries
// an address, and the first frame (the system call's own address, read
// from the registers rather than unwound) is either valid, with the build
// id of a file the process maps and an offset in that file's code, or an
// address. It returns the first frames.
func checkFrames(t *testing.T, run buildIDRun) []bpfskel.StackBuildID {
	t.Helper()
	var firsts []bpfskel.StackBuildID
	for _, stack := range run.stacks {
		firsts = append(firsts, stack[0])
		ended := false
		for i, f := range stack {
			off, isValid := f.Offset()
			ip, isIP := f.IP()
			switch f.Status {
			case bpfskel.StackBuildIDEmpty:
				if i == 0 {
					t.Errorf("empty stack %v", stack)
				}
				if f != (bpfskel.StackBuildID{}) || isValid || isIP {
					t.Errorf("frame %d: empty but %v", i, f)
				}
				ended = true
				continue
			case bpfskel.StackBuildIDValid:
				if !isValid || isIP {
					t.Errorf("frame %d: valid, Offset %v, IP %v", i, isValid, isIP)
				}
			case bpfskel.StackBuildIDIP:
				if !isIP || isValid || ip == 0 || f.BuildID != [20]byte{} {
					t.Errorf("frame %d: ip frame %v: IP %#x %v, Offset %v", i, f, ip, isIP, isValid)
				}
			default:
				t.Errorf("frame %d: status %v", i, f.Status)
			}
			if ended {
				t.Errorf("frame %d: %v after the end of the stack %v", i, f, stack)
			}
			if i == 0 && isValid {
				file, ok := run.ids[hex.EncodeToString(f.BuildID[:])]
				if !ok {
					t.Errorf("first frame %v: no file the process maps has that build id (%v)", f, run.ids)
				} else if !execSegment(t, file, off) {
					t.Errorf("first frame %v: offset %#x is not in the code of %s", f, off, file)
				}
			}
		}
	}
	return firsts
}

// TestAllMapsBuildIDStack: the buildid program, on the sys_enter raw
// tracepoint, stores the user stacks of a child process's system calls
// in a STACK_TRACE map with BPF_F_STACK_BUILD_ID, which the skeleton
// binds as StackTraceMap[[16]bpfskel.StackBuildID].
//
// What this kernel (6.18) does, and the test pins: bpf_get_stackid in a
// non-sleepable program reads build ids without faulting, and does for
// files whose note is in the page cache, as the libraries of a running
// process are: the first frame of a system call made from libc is
// valid, with libc's build id (the one debug/elf reads from the mapped
// file) and an offset in its code. A file without a build id note leaves
// the frame an address: the test runs cat on a copy of libc whose note is
// retyped, and finds the system calls' addresses in the copy's mapping.
// Frames past the first are unwound through frame pointers that Debian's
// libc does not keep, so they are whatever the stack held; the test does
// not trust them beyond the status rules. (Seen here: a frame whose
// address is 0 comes back valid, with the build id of the process's first
// mapping and offset -start: the kernel looks the address up with
// find_vma, which returns the first mapping above an address, not one
// that holds it.)
func TestAllMapsBuildIDStack(t *testing.T) {
	skel := mustLoad(t, allmaps.Load)
	if _, err := skel.Programs.Buildid.AttachRawTracepoint("sys_enter"); err != nil {
		t.Fatal(err)
	}

	run := runBuildIDChild(t, skel)
	var libc string
	for _, m := range run.maps {
		if strings.HasPrefix(filepath.Base(m.path), "libc.so") {
			libc = m.path
		}
	}
	if libc == "" {
		t.Fatalf("cat maps no libc: %v", run.maps)
	}
	libcID, noteType := buildIDNote(t, libc)
	if libcID == nil {
		t.Fatalf("%s has no GNU build id", libc)
	}
	fromLibc := 0
	for _, f := range checkFrames(t, run) {
		if f.Status == bpfskel.StackBuildIDValid && bytes.Equal(f.BuildID[:len(libcID)], libcID) {
			fromLibc++
		}
	}
	if fromLibc == 0 {
		t.Errorf("no system call's first frame is valid with the build id %x of %s", libcID, libc)
	}
	t.Logf("%d stacks, %d of them from %s (build id %x)", len(run.stacks), fromLibc, libc, libcID)

	// The same on a copy of libc without a build id note: the kernel can
	// only give addresses, which lie in the copy's code.
	data, err := os.ReadFile(libc)
	if err != nil {
		t.Fatal(err)
	}
	data[noteType] ^= 0x80 // NT_GNU_BUILD_ID (3) becomes an unknown note type
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, filepath.Base(libc)), data, 0o755); err != nil {
		t.Fatal(err)
	}
	if id, _ := buildIDNote(t, filepath.Join(dir, filepath.Base(libc))); id != nil {
		t.Fatal("the copy of libc still has a build id")
	}
	run = runBuildIDChild(t, skel, "LD_LIBRARY_PATH="+dir)
	var copyMaps []mapping
	for _, m := range run.maps {
		if m.path == filepath.Join(dir, filepath.Base(libc)) {
			copyMaps = append(copyMaps, m)
		}
	}
	if len(copyMaps) == 0 {
		t.Fatalf("cat did not load the copy of libc: %v", run.maps)
	}
	inCopy := 0
	for _, f := range checkFrames(t, run) {
		if f.Status == bpfskel.StackBuildIDValid && bytes.Equal(f.BuildID[:len(libcID)], libcID) {
			t.Errorf("first frame %v has the build id of %s, which cat did not map", f, libc)
		}
		ip, ok := f.IP()
		for _, m := range copyMaps {
			if ok && ip >= m.start && ip < m.end {
				inCopy++
			}
		}
	}
	if inCopy == 0 {
		t.Errorf("no system call's first frame is an address in the copy of libc %v", copyMaps)
	}
	t.Logf("%d stacks, %d of them first at an address in the copy of libc", len(run.stacks), inCopy)
}
