package gen_test

import (
	"bytes"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bpfskel/bpfskel/testdata/golden/kconfig"
)

// TestKconfigInKernel: the loader fills .kconfig from the running kernel;
// Go reads through the skeleton's read-only section exactly what the
// program saw (it copies every extern into .bss).
func TestKconfigInKernel(t *testing.T) {
	skel := mustLoad(t, kconfig.Load)
	if _, err := skel.Programs.CopyKconfig.TestRun(nil); err != nil {
		t.Fatal(err)
	}
	kc, err := skel.Kconfig.Get()
	if err != nil {
		t.Fatal(err)
	}
	bss, err := skel.Bss.Get(0)
	if err != nil {
		t.Fatal(err)
	}
	seen := bss.Seen
	if uint32(kc.LINUX_KERNEL_VERSION) != seen.Version || uint32(kc.CONFIG_HZ) != seen.Hz ||
		kc.CONFIG_DEFAULT_HOSTNAME != seen.Hostname ||
		kc.CONFIG_BPF_SYSCALL != (seen.Syscall == 1) || kc.CONFIG_DEBUG_INFO_BTF != (seen.Btf == 1) ||
		kc.CONFIG_BPF_EVENTS != (seen.Events == 1) || kc.CONFIG_BPF != (seen.Bpf == 1) {
		t.Errorf("Go reads .kconfig as %+v, the program saw %+v", kc, seen)
	}
	// The values are the running kernel's, not zeros.
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	var major, minor int
	release := string(bytes.TrimRight(u.Release[:], "\x00"))
	if _, err := fmtSscan(release, &major, &minor); err != nil {
		t.Fatalf("kernel release %q: %v", release, err)
	}
	if got := int(kc.LINUX_KERNEL_VERSION) >> 8; got != major<<8|minor {
		t.Errorf("LINUX_KERNEL_VERSION = %#x, want %d.%d.x", kc.LINUX_KERNEL_VERSION, major, minor)
	}
	if kc.CONFIG_HZ <= 0 || !kc.CONFIG_BPF_SYSCALL || !kc.CONFIG_BPF {
		t.Errorf(".kconfig = %+v: want CONFIG_HZ > 0 and CONFIG_BPF_SYSCALL, CONFIG_BPF set (a kernel running BPF has them)", kc)
	}
}

// fmtSscan reads "MAJOR.MINOR" from the front of a kernel release.
func fmtSscan(release string, major, minor *int) (int, error) {
	return fmt.Sscanf(release, "%d.%d", major, minor)
}
