package gen_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/cilium/ebpf/link"

	"github.com/bpfskel/bpfskel/testdata/realworld/execsnoop"
)

// TestRealWorldExecsnoopInKernel: the libbpf-tools-style execsnoop, attached
// to its tracepoints, sees a command this test runs; its variable-length
// perf records (the fixed header and only the argument bytes used) decode
// through the mirrored Event type.
func TestRealWorldExecsnoopInKernel(t *testing.T) {
	skel := mustLoad(t, execsnoop.Load)
	enter, err := link.Tracepoint("syscalls", "sys_enter_execve", skel.Programs.TracepointSyscallsSysEnterExecve.Program(), nil)
	if err != nil {
		t.Skipf("attaching to tracepoint syscalls/sys_enter_execve: %v", err)
	}
	defer enter.Close()
	exit, err := link.Tracepoint("syscalls", "sys_exit_execve", skel.Programs.TracepointSyscallsSysExitExecve.Program(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer exit.Close()
	rd, err := skel.Maps.Events.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()

	cmd := exec.Command("/bin/true", "bpfskel-execsnoop-marker")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := int32(cmd.Process.Pid)
	rd.SetDeadline(time.Now().Add(5 * time.Second))
	for {
		raw, err := rd.ReadRaw()
		if err != nil {
			t.Fatalf("no exec event for pid %d: %v", pid, err)
		}
		var e execsnoop.Event
		header := int(unsafe.Offsetof(e.Args))
		if len(raw) < header || len(raw) > int(unsafe.Sizeof(e)) {
			t.Fatalf("record of %d bytes: want the %d-byte header and at most the %d-byte Event", len(raw), header, unsafe.Sizeof(e))
		}
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&e)), unsafe.Sizeof(e)), raw)
		if e.Pid != pid {
			continue // another process of the machine
		}
		args := strings.Split(strings.TrimRight(string(e.Args[:e.ArgsSize]), "\x00"), "\x00")
		comm := strings.TrimRight(string(e.Comm[:]), "\x00")
		if e.ArgsCount != 2 || len(args) != 2 || args[1] != "bpfskel-execsnoop-marker" || comm != "true" || e.Retval != 0 {
			t.Errorf("event %d args %q comm %q retval %d, want 2 args ending in the marker, comm true, retval 0", e.ArgsCount, args, comm, e.Retval)
		}
		// The kernel pads perf samples to 8 bytes.
		if want := header + int(e.ArgsSize); len(raw) < want || len(raw) >= want+8 {
			t.Errorf("record is %d bytes, want the header (%d) plus args_size (%d), padded to 8", len(raw), header, e.ArgsSize)
		}
		return
	}
}
