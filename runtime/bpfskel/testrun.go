//go:build linux

package bpfskel

import (
	"fmt"
	"math"
	"reflect"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// bpfProgTestRun is BPF_PROG_TEST_RUN from include/uapi/linux/bpf.h.
const bpfProgTestRun = 10

// progTestRunAttr is the BPF_PROG_TEST_RUN member of union bpf_attr.
type progTestRunAttr struct {
	progFD      uint32
	retval      uint32
	dataSizeIn  uint32
	dataSizeOut uint32
	dataIn      uint64
	dataOut     uint64
	repeat      uint32
	duration    uint32
	ctxSizeIn   uint32
	ctxSizeOut  uint32
	ctxIn       uint64
	ctxOut      uint64
	flags       uint32
	cpu         uint32
	batchSize   uint32
	_           uint32
}

// TestRunContext runs p with BPF_PROG_TEST_RUN with a typed context, and
// returns the program's return value and the mean duration of one run as
// the kernel measured it. C must be plain data mirroring the program's
// context type byte for byte ([XDPContext] for XDP programs).
func TestRunContext[C any](handle AnyProgram, in TestRunInput[C]) (TestRunResult, error) {
	p := programOf(handle)
	if p == nil || p.p == nil {
		return TestRunResult{}, errNilProgram
	}
	if err := plainData(reflect.TypeFor[C]()); err != nil {
		return TestRunResult{}, fmt.Errorf("program %q: test run: context type %s cannot mirror BPF memory: %w", p.name, reflect.TypeFor[C](), err)
	}
	if uint64(len(in.Data)) > math.MaxUint32 || uint64(len(in.DataOut)) > math.MaxUint32 {
		return TestRunResult{}, fmt.Errorf("program %q: test run: data larger than 4 GiB", p.name)
	}
	var pin runtime.Pinner
	defer pin.Unpin()
	ptr := func(b []byte) uint64 {
		if len(b) == 0 {
			return 0
		}
		pin.Pin(&b[0])
		return uint64(uintptr(unsafe.Pointer(&b[0])))
	}
	attr := progTestRunAttr{
		progFD:      uint32(p.p.FD()),
		dataSizeIn:  uint32(len(in.Data)),
		dataSizeOut: uint32(len(in.DataOut)),
		dataIn:      ptr(in.Data),
		dataOut:     ptr(in.DataOut),
		repeat:      in.Repeat,
		flags:       in.Flags,
		cpu:         in.CPU,
	}
	var zero C
	size := uint32(unsafe.Sizeof(zero))
	if in.Context != nil && size > 0 {
		pin.Pin(in.Context)
		attr.ctxIn, attr.ctxSizeIn = uint64(uintptr(unsafe.Pointer(in.Context))), size
	}
	if in.ContextOut != nil && size > 0 {
		pin.Pin(in.ContextOut)
		attr.ctxOut, attr.ctxSizeOut = uint64(uintptr(unsafe.Pointer(in.ContextOut))), size
	}
	for {
		_, _, errno := unix.Syscall(unix.SYS_BPF, bpfProgTestRun, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
		runtime.KeepAlive(p.p)
		if errno == unix.EINTR {
			continue // a signal interrupted the repeat loop: run again
		}
		if errno != 0 {
			err := error(errno)
			if errno == enotsupp {
				err = fmt.Errorf("%w: this program type cannot be test run", err)
			}
			return TestRunResult{}, fmt.Errorf("program %q: test run: %w", p.name, err)
		}
		break
	}
	res := TestRunResult{Return: attr.retval, Duration: time.Duration(attr.duration)}
	if in.DataOut != nil {
		res.DataOut = in.DataOut[:min(int(attr.dataSizeOut), len(in.DataOut))]
	}
	return res, nil
}
