package bpfskel

import (
	"encoding/binary"
	"errors"
	"os"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf/btf"
)

// TestStackBuildIDLayout: StackBuildID is struct bpf_stack_build_id byte
// for byte, as include/uapi/linux/bpf.h declares it and, where the
// running kernel has BTF, as that kernel lays it out.
func TestStackBuildIDLayout(t *testing.T) {
	var f StackBuildID
	got := map[string]uintptr{
		"size":     unsafe.Sizeof(f),
		"status":   unsafe.Offsetof(f.Status),
		"build_id": unsafe.Offsetof(f.BuildID),
		"offset":   unsafe.Offsetof(f.offsetOrIP),
	}
	want := map[string]uintptr{"size": 32, "status": 0, "build_id": 4, "offset": 24}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %d, want %d (uapi struct bpf_stack_build_id)", k, got[k], w)
		}
	}
	if unsafe.Sizeof(f.Status) != 4 || len(f.BuildID) != 20 {
		t.Errorf("status is %d bytes, build_id %d; want 4 and BPF_BUILD_ID_SIZE 20", unsafe.Sizeof(f.Status), len(f.BuildID))
	}

	// The kernel's own layout, from its BTF.
	spec, err := btf.LoadKernelSpec()
	if errors.Is(err, os.ErrNotExist) {
		t.Log("no kernel BTF: checked against the uapi layout only")
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	var s *btf.Struct
	if err := spec.TypeByName("bpf_stack_build_id", &s); err != nil {
		t.Fatal(err)
	}
	if s.Size != 32 {
		t.Errorf("kernel struct bpf_stack_build_id is %d bytes", s.Size)
	}
	offs := map[string]uint32{}
	for _, m := range s.Members {
		offs[m.Name] = m.Offset.Bytes()
	}
	if offs["status"] != 0 || offs["build_id"] != 4 || offs[""] != 24 {
		t.Errorf("kernel member offsets %v, want status 0, build_id 4, the union 24", offs)
	}
}

// TestStackBuildIDAccessors reads frames laid out as the kernel writes
// them.
func TestStackBuildIDAccessors(t *testing.T) {
	frame := func(status int32, id byte, v uint64) StackBuildID {
		var b [32]byte
		binary.NativeEndian.PutUint32(b[0:], uint32(status))
		for i := range 20 {
			b[4+i] = id + byte(i)
		}
		binary.NativeEndian.PutUint64(b[24:], v)
		return *(*StackBuildID)(unsafe.Pointer(&b))
	}
	valid := frame(1, 0xa0, 0x1234)
	if off, ok := valid.Offset(); !ok || off != 0x1234 || valid.Status != StackBuildIDValid || valid.BuildID[19] != 0xa0+19 {
		t.Errorf("valid frame: Offset %#x %v, %+v", off, ok, valid)
	}
	if _, ok := valid.IP(); ok {
		t.Error("a valid frame has an IP")
	}
	ip := frame(2, 0, 0xffff0000)
	if a, ok := ip.IP(); !ok || a != 0xffff0000 {
		t.Errorf("ip frame: IP %#x %v", a, ok)
	}
	if _, ok := ip.Offset(); ok {
		t.Error("an ip frame has an offset")
	}
	for f, want := range map[StackBuildID]string{
		valid:          "valid a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3+0x1234",
		ip:             "ip 0xffff0000",
		{}:             "empty",
		frame(7, 0, 1): "StackBuildIDStatus(7)",
	} {
		if got := f.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}
