//go:build linux

package bpfskel_test

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/bpfskel/bpfskel/testdata/golden/lifecycle"
)

// Configure a skeleton between Open and Load: typed .rodata, a map size, a
// program left out, a resized global array. (It needs root or CAP_BPF.)
func Example_configureBeforeLoad() {
	spec, err := lifecycle.Open()
	if err != nil {
		fmt.Println(err)
		return
	}
	spec.Rodata.TargetTgid = uint32(os.Getpid()) // a typed .rodata constant
	if err := spec.Maps.Resizable.SetMaxEntries(1024); err != nil {
		fmt.Println(err)
		return
	}
	spec.Programs.XdpCountPkts.SetAutoload(false)
	if err := spec.ResizeArr(16); err != nil {
		fmt.Println(err)
		return
	}

	skel, err := spec.Load(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer skel.Close()
	fmt.Println("target_tgid is our pid:", skel.Rodata.TargetTgid.Load() == uint32(os.Getpid()))
	fmt.Println("resizable entries:", skel.Maps.Resizable.Map().MaxEntries())
	fmt.Println("xdp program loaded:", skel.Programs.XdpCountPkts != nil)
	fmt.Println("arr elements:", skel.DataArr.Arr.Len())
	// Output:
	// target_tgid is our pid: true
	// resizable entries: 1024
	// xdp program loaded: false
	// arr elements: 16
}

// Attach every program whose section names its target, watch a global
// variable count, and detach.
func Example_attach() {
	spec, err := lifecycle.Open()
	if err != nil {
		fmt.Println(err)
		return
	}
	spec.Rodata.TargetTgid = uint32(os.Getpid())
	skel, err := spec.Load(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer skel.Close()

	if err := skel.Attach(); err != nil { // raw_tp/sys_enter and tp/raw_syscalls/sys_enter
		fmt.Println(err)
		return
	}
	for range 10 {
		unix.Getppid()
	}
	fmt.Println("syscalls counted:", skel.Bss.RawCount.Load() >= 10, skel.Bss.TpCount.Load() >= 10)
	if err := skel.Detach(); err != nil {
		fmt.Println(err)
		return
	}
	before := skel.Bss.RawCount.Load()
	unix.Getppid()
	fmt.Println("counting after Detach:", skel.Bss.RawCount.Load() != before)
	// Output:
	// syscalls counted: true true
	// counting after Detach: false
}
