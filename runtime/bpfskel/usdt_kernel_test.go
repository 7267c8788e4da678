//go:build linux

package bpfskel

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf/ringbuf"
)

// The probe ids of testdata/usdt.bpf.c.
const (
	probeReg    = 1
	probeMem    = 2
	probeKonst  = 3
	probeSema   = 4
	probeManual = 5
	probeAdd    = 6
)

// usdtRec mirrors struct rec of testdata/usdt.bpf.c.
type usdtRec struct {
	Probe  uint32
	ArgCnt int32
	Args   [3]int64
	Cookie uint64
}

// loadUSDT loads testdata/usdt.bpf.o and opens a reader of its records.
func loadUSDT(t *testing.T) (*Collection, *ringbuf.Reader) {
	t.Helper()
	requireKernel(t)
	if have, err := haveBPFCookie(); err != nil || !have {
		t.Skipf("USDT attach needs BPF cookies (Linux 5.15): bpf_get_attach_cookie: %v %v", have, err)
	}
	c := loadObject(t, "testdata/usdt.bpf.o", nil)
	rd, err := ringbuf.NewReader(c.Collection().Maps["records"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close() })
	return c, rd
}

// drain returns every record written so far.
func drain(t *testing.T, rd *ringbuf.Reader) []usdtRec {
	t.Helper()
	var recs []usdtRec
	rd.SetDeadline(time.Now().Add(50 * time.Millisecond))
	for {
		r, err := rd.Read()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return recs
		}
		if err != nil {
			t.Fatal(err)
		}
		var rec usdtRec
		if _, err := binary.Decode(r.RawSample, binary.NativeEndian, &rec); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
}

// runTarget runs usdt_target N and returns how often its semaphore-guarded
// probe was enabled (it prints "sema=K").
func runTarget(t *testing.T, n string) string {
	t.Helper()
	out, err := exec.Command(usdtTarget, n).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", usdtTarget, n, err)
	}
	return strings.TrimSpace(string(out))
}

// wantTargetRecs is what usdt_target N's probes carry, in firing order.
func wantTargetRecs(n int, manualCookie uint64) map[uint32][]usdtRec {
	want := map[uint32][]usdtRec{}
	for i := range n {
		want[probeReg] = append(want[probeReg], usdtRec{probeReg, 3, [3]int64{int64(7 + i), -5000000000, int64(uint8(252 + i))}, 0})
		want[probeMem] = append(want[probeMem], usdtRec{probeMem, 1, [3]int64{-1234567890123 - int64(i)}, 0})
		want[probeKonst] = append(want[probeKonst], usdtRec{probeKonst, 2, [3]int64{42, -7}, 0})
		want[probeAdd] = append(want[probeAdd], usdtRec{probeAdd, -1, [3]int64{int64(7 + i), 35}, 0})
		want[probeSema] = append(want[probeSema], usdtRec{probeSema, 1, [3]int64{int64(i)}, 0})
	}
	return want
}

func byProbe(recs []usdtRec) map[uint32][]usdtRec {
	got := map[uint32][]usdtRec{}
	for _, r := range recs {
		got[r.Probe] = append(got[r.Probe], r)
	}
	return got
}

// TestUSDTAutoAttach: Attach attaches the usdt sections (a bare binary
// name found in PATH, relative paths) and the uprobe section of the
// unstripped target; running it records every argument exactly (register,
// stack-slot and constant operands, signed and unsigned, 1 to 8 bytes),
// the semaphore-guarded probe fires only while attached, and after Detach
// nothing is recorded.
func TestUSDTAutoAttach(t *testing.T) {
	c, rd := loadUSDT(t)
	abs, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", abs+string(filepath.ListSeparator)+os.Getenv("PATH"))

	if out := runTarget(t, "2"); out != "sema=0" {
		t.Fatalf("before Attach the target says %q, want sema=0 (nobody enabled the probe)", out)
	}
	if recs := drain(t, rd); len(recs) != 0 {
		t.Fatalf("records before Attach: %+v", recs)
	}
	if err := c.Attach(); err != nil {
		t.Fatal(err)
	}
	if out := runTarget(t, "3"); out != "sema=3" {
		t.Errorf("while attached the target says %q, want sema=3: the kernel did not increment the semaphore", out)
	}
	got := byProbe(drain(t, rd))
	want := wantTargetRecs(3, 0)
	for _, p := range []uint32{probeReg, probeMem, probeKonst, probeSema, probeAdd} {
		if !slices.Equal(got[p], want[p]) {
			t.Errorf("probe %d recorded %+v, want %+v", p, got[p], want[p])
		}
	}
	if len(got[probeManual]) != 0 {
		t.Errorf("usdt_manual (section \"usdt\", no target) fired: %+v", got[probeManual])
	}

	if err := c.Detach(); err != nil {
		t.Fatal(err)
	}
	if out := runTarget(t, "2"); out != "sema=0" {
		t.Errorf("after Detach the target says %q, want sema=0", out)
	}
	if recs := drain(t, rd); len(recs) != 0 {
		t.Errorf("records after Detach: %+v", recs)
	}
}

// TestUSDTExplicitAttach: AttachUSDT with a user cookie (what
// bpf_usdt_cookie returns) and with a PID: the semaphore is enabled in that
// process only, and the probe fires in it only. Closing the link detaches;
// Close of the collection closes the rest.
func TestUSDTExplicitAttach(t *testing.T) {
	c, rd := loadUSDT(t)
	b := NewBinder(c)
	p := BindProbeProgram(b, "usdt_manual")
	mustBind(t, b)

	l, err := p.AttachUSDT(usdtTarget, "bpfskel", "reg", &USDTOptions{Cookie: 0xc0ffee})
	if err != nil {
		t.Fatal(err)
	}
	runTarget(t, "2")
	got := drain(t, rd)
	want := []usdtRec{
		{probeManual, 3, [3]int64{7, -5000000000, 252}, 0xc0ffee},
		{probeManual, 3, [3]int64{8, -5000000000, 253}, 0xc0ffee},
	}
	if !slices.Equal(got, want) {
		t.Errorf("AttachUSDT(reg, cookie): recorded %+v, want %+v", got, want)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	runTarget(t, "1")
	if recs := drain(t, rd); len(recs) != 0 {
		t.Errorf("records after the link was closed: %+v", recs)
	}

	// A PID: start the target, attach to it, then let it fire.
	cmd := exec.Command(usdtTarget, "3", "wait")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_, err = p.AttachUSDT(usdtTarget, "bpfskel", "sema", &USDTOptions{PID: cmd.Process.Pid, Cookie: 7})
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal(err)
	}
	// Another process, not the one of PID, while the link is attached.
	if other := runTarget(t, "2"); other != "sema=0" {
		t.Errorf("a process other than PID says %q, want sema=0", other)
	}
	io.WriteString(stdin, "x")
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if s := strings.TrimSpace(out.String()); s != "sema=3" {
		t.Errorf("the process of PID says %q, want sema=3", s)
	}
	got = drain(t, rd)
	want = []usdtRec{
		{probeManual, 1, [3]int64{0}, 7},
		{probeManual, 1, [3]int64{1}, 7},
		{probeManual, 1, [3]int64{2}, 7},
	}
	if !slices.Equal(got, want) {
		t.Errorf("AttachUSDT(sema, PID): recorded %+v, want %+v", got, want)
	}

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if out := runTarget(t, "1"); out != "sema=0" {
		t.Errorf("after Close the target says %q, want sema=0", out)
	}
}

// TestUSDTAttachFailureLeavesNothing: a failing target names the probe
// and the binary, and leaves no uprobe or spec behind.
func TestUSDTAttachFailureLeavesNothing(t *testing.T) {
	c, _ := loadUSDT(t)
	b := NewBinder(c)
	p := BindProbeProgram(b, "usdt_manual")
	mustBind(t, b)
	_, err := p.AttachUSDT(usdtTarget, "bpfskel", "nosuch", nil)
	if err == nil || !strings.Contains(err.Error(), "has no USDT probe bpfskel:nosuch; it has bpfskel:konst, bpfskel:mem, bpfskel:reg, bpfskel:sema") {
		t.Errorf("AttachUSDT(nosuch) = %v", err)
	}
	_, err = p.AttachUSDT("nosuch_binary_xyz", "bpfskel", "reg", nil)
	if err == nil || !strings.Contains(err.Error(), `executable "nosuch_binary_xyz" not found in PATH`) {
		t.Errorf("AttachUSDT(nosuch binary) = %v", err)
	}
	c.mu.Lock()
	n := len(c.links)
	c.mu.Unlock()
	c.usdt.mu.Lock()
	used := slices.Contains(c.usdt.used, true)
	c.usdt.mu.Unlock()
	if n != 0 || used {
		t.Errorf("after failed attaches: %d links, spec ids in use %v", n, used)
	}
}

// usdtKconfig mirrors .kconfig of testdata/usdt.bpf.o as cilium/ebpf lays
// it out: 5 bytes, CONFIG_HZ unaligned-safe as bytes.
type usdtKconfig struct {
	Hz           [4]byte
	HasBPFCookie uint8
}

// TestUSDTKconfig: LINUX_HAS_BPF_COOKIE, which bpfskel resolves, and
// CONFIG_HZ, which cilium/ebpf resolves, share .kconfig; the program sees
// both right (this kernel has BPF cookies), and so does Go through the
// frozen section.
func TestUSDTKconfig(t *testing.T) {
	c, _ := loadUSDT(t)
	b := NewBinder(c)
	p := BindProgram(b, "copy_kconfig")
	kc := BindFrozenSection[usdtKconfig](b, ".kconfig")
	mustBind(t, b)
	if _, err := p.TestRun(nil); err != nil {
		t.Fatal(err)
	}
	var seen [8]byte
	if err := c.Collection().Maps[".bss"].Lookup(uint32(0), &seen); err != nil {
		t.Fatal(err)
	}
	hz, cookie := int32(binary.NativeEndian.Uint32(seen[:])), seen[4]
	if hz <= 0 || cookie != 1 {
		t.Errorf("the program saw CONFIG_HZ %d, LINUX_HAS_BPF_COOKIE %d; want CONFIG_HZ > 0 and 1", hz, cookie)
	}
	got, err := kc.Get()
	if err != nil {
		t.Fatal(err)
	}
	if int32(binary.NativeEndian.Uint32(got.Hz[:])) != hz || got.HasBPFCookie != 1 {
		t.Errorf(".kconfig from Go = %+v, want CONFIG_HZ %d and LINUX_HAS_BPF_COOKIE 1", got, hz)
	}
}

// TestUSDTAutoAttachAllOrNothing: when one usdt section's binary cannot
// be found, Attach names the program, its section and where it searched,
// and closes what it attached before (a uprobe and two USDT probes, whose
// specs are freed).
func TestUSDTAutoAttachAllOrNothing(t *testing.T) {
	c, rd := loadUSDT(t)
	t.Setenv("PATH", t.TempDir()) // usdt/usdt_target:... is not found
	err := c.Attach()
	for _, want := range []string{`program "usdt_reg" (section "usdt/usdt_target:bpfskel:reg")`, `executable "usdt_target" not found in PATH`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Attach = %v, want an error containing %q", err, want)
		}
	}
	c.mu.Lock()
	n := len(c.links)
	c.mu.Unlock()
	c.usdt.mu.Lock()
	used := slices.Contains(c.usdt.used, true)
	c.usdt.mu.Unlock()
	if n != 0 || used {
		t.Errorf("after the failed Attach: %d links, spec ids in use %v", n, used)
	}
	if out := runTarget(t, "1"); out != "sema=0" {
		t.Errorf("after the failed Attach the target says %q, want sema=0", out)
	}
	if recs := drain(t, rd); len(recs) != 0 {
		t.Errorf("records after the failed Attach: %+v", recs)
	}
}
