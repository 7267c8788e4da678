package bpfskel

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// Program is a handle on a loaded BPF program, created by [BindProgram].
type Program struct {
	name string
	p    *ebpf.Program
	coll *Collection
}

// Program returns the underlying cilium/ebpf program, the escape hatch for
// attaching it with github.com/cilium/ebpf/link or anything else this
// package does not wrap. It is closed by [Collection.Close].
func (p *Program) Program() *ebpf.Program {
	if p == nil {
		return nil
	}
	return p.p
}

// Name returns the program's name in the object: the name of its C
// function.
func (p *Program) Name() string {
	if p == nil {
		return ""
	}
	return p.name
}

// TestRun runs the program once in the kernel with BPF_PROG_TEST_RUN and
// returns its return value. A nil opts runs it with no data and an empty
// context, which suits program types such as raw tracepoints and syscall
// programs; XDP and socket programs need at least a 14-byte packet in
// opts.Data. Output buffers in opts are filled in.
func (p *Program) TestRun(opts *RunOptions) (uint32, error) {
	if p == nil || p.p == nil {
		return 0, errors.New("bpfskel: nil Program (did its bind fail? see Binder.Err)")
	}
	if opts == nil {
		opts = &RunOptions{}
	}
	if !p.coll.enter() {
		return 0, closedErr("program", p.name, "test run")
	}
	ret, err := p.p.Run(opts)
	p.coll.exit()
	if err != nil {
		return ret, wrapErr("program", p.name, fmt.Errorf("test run: %w", err))
	}
	return ret, nil
}
