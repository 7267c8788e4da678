//go:build linux

package bpfskel

import (
	"sync"

	"golang.org/x/sys/unix"
)

// effectiveCaps returns the process's effective capabilities, or ok false
// when they cannot be read.
var effectiveCaps = sync.OnceValues(func() (capSet, bool) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return 0, false
	}
	return capSet(data[0].Effective) | capSet(data[1].Effective)<<32, true
})
