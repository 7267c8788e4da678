//go:build linux

package bpfskel

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

func constProgram(typ ebpf.ProgramType, ret int32) *ebpf.ProgramSpec {
	return &ebpf.ProgramSpec{
		Type: typ,
		Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R0, ret),
			asm.Return(),
		},
		License: "GPL",
	}
}

func TestProgramTestRun(t *testing.T) {
	c := loadSpec(t, &ebpf.CollectionSpec{Programs: map[string]*ebpf.ProgramSpec{
		"sock":  constProgram(ebpf.SocketFilter, 7),
		"xdp":   constProgram(ebpf.XDP, 2), // XDP_PASS
		"rawtp": constProgram(ebpf.RawTracepoint, 42),
	}})
	b := NewBinder(c)
	sock := BindProgram(b, "sock")
	xdp := BindProgram(b, "xdp")
	rawtp := BindProgram(b, "rawtp")
	mustBind(t, b)

	packet := make([]byte, 64) // at least an ethernet header
	for _, tc := range []struct {
		p    *Program
		opts *RunOptions
		want uint32
	}{
		{sock, &RunOptions{Data: packet}, 7},
		{xdp, &RunOptions{Data: packet}, 2},
		{rawtp, nil, 42}, // empty context
	} {
		got, err := tc.p.TestRun(tc.opts)
		if err != nil {
			t.Errorf("%s: %v", tc.p.Name(), err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s returned %d, want %d", tc.p.Name(), got, tc.want)
		}
	}
	if rawtp.Name() != "rawtp" || rawtp.Program() == nil {
		t.Errorf("Name()=%q Program()=%v", rawtp.Name(), rawtp.Program())
	}

	// XDP without a packet: the kernel refuses, and the error names the
	// program.
	if _, err := xdp.TestRun(nil); err == nil || !strings.Contains(err.Error(), `program "xdp"`) {
		t.Errorf("XDP TestRun without data: %v, want an error naming the program", err)
	}
}
