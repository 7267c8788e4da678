//go:build !linux

package bpfskel

// effectiveCaps cannot read capabilities here: permission errors are
// reported as the kernel gave them.
func effectiveCaps() (capSet, bool) { return 0, false }
