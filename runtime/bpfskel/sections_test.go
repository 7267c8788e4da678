package bpfskel

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseSection covers every section form libbpf auto-attaches, the
// forms that need a target from the user, and malformed targets.
func TestParseSection(t *testing.T) {
	for _, tc := range []struct {
		sec  string
		want autoAttach
		err  string // substring of the error; "" for none
	}{
		{sec: "kprobe/do_unlinkat", want: autoAttach{Kind: attachKprobe, Symbol: "do_unlinkat"}},
		{sec: "kprobe/tcp_v4_connect+0x10", want: autoAttach{Kind: attachKprobe, Symbol: "tcp_v4_connect", Offset: 16}},
		{sec: "kprobe/f+8", want: autoAttach{Kind: attachKprobe, Symbol: "f", Offset: 8}},
		{sec: "?kprobe/do_nanosleep", want: autoAttach{Kind: attachKprobe, Symbol: "do_nanosleep"}},
		{sec: "kretprobe/do_unlinkat", want: autoAttach{Kind: attachKretprobe, Symbol: "do_unlinkat"}},
		{sec: "kprobe.multi/tcp_*", want: autoAttach{Kind: attachKprobeMulti, Symbol: "tcp_*"}},
		{sec: "kretprobe.multi/vfs_*", want: autoAttach{Kind: attachKretprobeMulti, Symbol: "vfs_*"}},
		{sec: "ksyscall/openat", want: autoAttach{Kind: attachKsyscall, Symbol: "openat"}},
		{sec: "kretsyscall/openat", want: autoAttach{Kind: attachKretsyscall, Symbol: "openat"}},
		{sec: "uprobe//usr/lib/libc.so.6:malloc", want: autoAttach{Kind: attachUprobe, Path: "/usr/lib/libc.so.6", Symbol: "malloc"}},
		{sec: "uprobe.s//bin/bash:readline+4", want: autoAttach{Kind: attachUprobe, Path: "/bin/bash", Symbol: "readline", Offset: 4}},
		{sec: "uprobe//proc/self/exe:github.com/x/y.F", want: autoAttach{Kind: attachUprobe, Path: "/proc/self/exe", Symbol: "github.com/x/y.F"}},
		{sec: "uretprobe//bin/bash:readline", want: autoAttach{Kind: attachUretprobe, Path: "/bin/bash", Symbol: "readline"}},
		{sec: "uretprobe.s//bin/bash:readline", want: autoAttach{Kind: attachUretprobe, Path: "/bin/bash", Symbol: "readline"}},
		{sec: "uprobe.multi//bin/bash:read*", want: autoAttach{Kind: attachUprobeMulti, Path: "/bin/bash", Symbol: "read*"}},
		{sec: "uretprobe.multi.s//bin/bash:read*", want: autoAttach{Kind: attachUretprobeMulti, Path: "/bin/bash", Symbol: "read*"}},
		{sec: "usdt//usr/bin/python3:python:function__entry", want: autoAttach{Kind: attachUSDT, Path: "/usr/bin/python3", Group: "python", Name: "function__entry"}},
		{sec: "tracepoint/syscalls/sys_enter_openat", want: autoAttach{Kind: attachTracepoint, Group: "syscalls", Name: "sys_enter_openat"}},
		{sec: "tp/raw_syscalls/sys_enter", want: autoAttach{Kind: attachTracepoint, Group: "raw_syscalls", Name: "sys_enter"}},
		{sec: "raw_tracepoint/sched_switch", want: autoAttach{Kind: attachRawTracepoint, Symbol: "sched_switch"}},
		{sec: "raw_tp/sys_enter", want: autoAttach{Kind: attachRawTracepoint, Symbol: "sys_enter"}},
		{sec: "raw_tp.w/bpf_test_finish", want: autoAttach{Kind: attachRawTracepoint, Symbol: "bpf_test_finish"}},
		{sec: "raw_tracepoint.w/bpf_test_finish", want: autoAttach{Kind: attachRawTracepoint, Symbol: "bpf_test_finish"}},
		{sec: "tp_btf/sched_switch", want: autoAttach{Kind: attachTracing, Symbol: "sched_switch"}},
		{sec: "fentry/do_unlinkat", want: autoAttach{Kind: attachTracing, Symbol: "do_unlinkat"}},
		{sec: "fexit/do_unlinkat", want: autoAttach{Kind: attachTracing, Symbol: "do_unlinkat"}},
		{sec: "fmod_ret/security_file_open", want: autoAttach{Kind: attachTracing, Symbol: "security_file_open"}},
		{sec: "fentry.s/do_unlinkat", want: autoAttach{Kind: attachTracing, Symbol: "do_unlinkat"}},
		{sec: "lsm/file_open", want: autoAttach{Kind: attachLSM, Symbol: "file_open"}},
		{sec: "lsm.s/file_open", want: autoAttach{Kind: attachLSM, Symbol: "file_open"}},
		{sec: "iter/task", want: autoAttach{Kind: attachIter, Symbol: "task"}},
		{sec: "iter.s/task_file", want: autoAttach{Kind: attachIter, Symbol: "task_file"}},

		// No target: attached by the user, as in libbpf.
		{sec: "kprobe", want: autoAttach{Kind: attachManual}},
		{sec: "uprobe", want: autoAttach{Kind: attachManual}},
		{sec: "tp", want: autoAttach{Kind: attachManual}},
		{sec: "raw_tp", want: autoAttach{Kind: attachManual}},
		{sec: "xdp", want: autoAttach{Kind: attachManual}},
		{sec: "xdp.frags", want: autoAttach{Kind: attachManual}},
		{sec: "tc", want: autoAttach{Kind: attachManual}},
		{sec: "tcx/ingress", want: autoAttach{Kind: attachManual}},
		{sec: "cgroup_skb/egress", want: autoAttach{Kind: attachManual}},
		{sec: "cgroup/connect4", want: autoAttach{Kind: attachManual}},
		{sec: "sockops", want: autoAttach{Kind: attachManual}},
		{sec: "sk_lookup", want: autoAttach{Kind: attachManual}},
		{sec: "netfilter", want: autoAttach{Kind: attachManual}},
		{sec: "perf_event", want: autoAttach{Kind: attachManual}},
		{sec: "struct_ops/my_ops", want: autoAttach{Kind: attachManual}},
		{sec: "syscall", want: autoAttach{Kind: attachManual}},
		{sec: "socket", want: autoAttach{Kind: attachManual}},
		{sec: "lsm_cgroup/socket_bind", want: autoAttach{Kind: attachManual}},
		{sec: "freplace/func", want: autoAttach{Kind: attachManual}},
		{sec: "", want: autoAttach{Kind: attachManual}},

		// Malformed targets.
		{sec: "kprobe/", err: "no function"},
		{sec: "kprobe/f+x", err: `offset "x" is not a number`},
		{sec: "kretprobe/f+8", err: "a return probe cannot have an offset"},
		{sec: "kprobe.multi/", err: "no pattern"},
		{sec: "ksyscall/", err: "no target"},
		{sec: "uprobe//bin/bash", err: "is not BINARY:FUNC"},
		{sec: "uprobe/:malloc", err: "is not BINARY:FUNC"},
		{sec: "uprobe//bin/bash:", err: "is not BINARY:FUNC"},
		{sec: "uprobe//bin/bash:+4", err: "names no function"},
		{sec: "uretprobe//bin/bash:f+4", err: "a return probe cannot have an offset"},
		{sec: "uprobe.multi//bin/bash", err: "is not BINARY:PATTERN"},
		{sec: "usdt//bin/x:provider", err: "is not BINARY:PROVIDER:NAME"},
		{sec: "usdt//bin/x:p:n:extra", err: "is not BINARY:PROVIDER:NAME"},
		{sec: "tracepoint/syscalls", err: "is not CATEGORY/NAME"},
		{sec: "tp/a/b/c", err: "is not CATEGORY/NAME"},
		{sec: "tp//x", err: "is not CATEGORY/NAME"},
		{sec: "raw_tp/", err: "no target"},
		{sec: "fentry/", err: "no target"},
		{sec: "lsm/", err: "no target"},
		{sec: "iter/", err: "no target"},
	} {
		got, err := parseSection(tc.sec)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseSection(%q) = %+v, %v; want an error containing %q", tc.sec, got, err, tc.err)
			} else if !strings.Contains(err.Error(), "section \""+strings.TrimPrefix(tc.sec, "?")+"\"") {
				t.Errorf("parseSection(%q) error %q does not name the section", tc.sec, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseSection(%q): %v", tc.sec, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("parseSection(%q) (-want +got):\n%s", tc.sec, diff)
		}
	}
}

func TestMatchFunctions(t *testing.T) {
	list := "tcp_v4_connect\ntcp_close [tcp_mod]\nudp_sendmsg\ntcp_close\n"
	got, err := matchFunctions(strings.NewReader(list), "tcp_*")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"tcp_close", "tcp_v4_connect"}, got); diff != "" {
		t.Errorf("tcp_* (-want +got):\n%s", diff)
	}
	if _, err := matchFunctions(strings.NewReader(list), "sctp_*"); err == nil || !strings.Contains(err.Error(), "matches no kernel function") {
		t.Errorf("sctp_*: %v, want an error saying it matches nothing", err)
	}
	if _, err := matchFunctions(strings.NewReader(list), "tcp_[*"); err == nil || !strings.Contains(err.Error(), `pattern "tcp_[*"`) {
		t.Errorf("bad glob: %v, want an error naming the pattern", err)
	}
}

func TestBinaryFunctions(t *testing.T) {
	libc, _ := filepath.Glob("/usr/lib/*-linux-gnu/libc.so.6")
	if len(libc) == 0 {
		t.Skip("no libc.so.6 to read symbols from")
	}
	got, err := binaryFunctions(libc[0], "getpi?")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"getpid"}, got); diff != "" {
		t.Errorf("getpi? in %s (-want +got):\n%s", libc[0], diff)
	}
	// BPF functions sit at offset 0 of their sections: not callable code.
	if _, err := binaryFunctions("testdata/sections.bpf.o", "*"); err == nil || !strings.Contains(err.Error(), "matches no function") {
		t.Errorf("no_such_*: %v, want an error saying it matches nothing", err)
	}
	if _, err := binaryFunctions("testdata/does-not-exist", "*"); err == nil {
		t.Error("a missing binary gave no error")
	}
}

func TestAutoAttachErrors(t *testing.T) {
	// Kinds whose attach fails before touching the kernel.
	t.Setenv("PATH", t.TempDir())
	if _, err := autoAttachProgram(nil, autoAttach{Kind: attachUprobe, Path: "no_such_binary", Symbol: "f"}); err == nil ||
		!strings.Contains(err.Error(), `executable "no_such_binary" not found in PATH`) {
		t.Errorf("uprobe of a missing bare name: %v, want an error saying where it was searched", err)
	}
	if _, err := autoAttachProgram(nil, autoAttach{Kind: attachManual}); err == nil {
		t.Error("a manual section attached automatically")
	}
	old := availableFilterFunctions
	availableFilterFunctions = "testdata/does-not-exist"
	defer func() { availableFilterFunctions = old }()
	if _, err := autoAttachProgram(nil, autoAttach{Kind: attachKprobeMulti, Symbol: "tcp_*"}); err == nil ||
		!strings.Contains(err.Error(), `resolving kprobe pattern "tcp_*"`) {
		t.Errorf("kprobe.multi without available_filter_functions: %v", err)
	}
	if _, err := autoAttachProgram(nil, autoAttach{Kind: attachUprobeMulti, Path: "testdata/sections.bpf.o", Symbol: "zz*"}); err == nil ||
		!strings.Contains(err.Error(), "matches no function") {
		t.Errorf("uprobe.multi with no match: %v", err)
	}
}

func TestSyscallPrefix(t *testing.T) {
	if p := syscallPrefix(); !strings.HasPrefix(p, "__") || !strings.HasSuffix(p, "_sys_") {
		t.Errorf("syscallPrefix() = %q", p)
	}
}
